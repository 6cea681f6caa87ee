#include "tenants.h"

#include "fields.h"
#include "filter.h"
#include "listing.h"
#include "live.h"
#include "output.h"
#include "record.h"
#include "request.h"

#include <string.h>

static const char *const list_columns[] = {"id",        "name",      "reference", "isDefault",
                                           "createdAt", "updatedAt", "users",     NULL};

/* Writes answer whole records. */
static const ctl_fields all_fields;

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

/* A tenant as JSON: the model's fields, then "users": {"totalCount": N}
 * (TenantModel.users) when the service counted them. In tables the count
 * shows as a plain number; only the fields asked for. Returns NULL when
 * out of memory. */
static json_t *tenant_json(const Roster__V1__Tenant *t, bool table, const ctl_fields *fields)
{
    json_t *o = NULL;
    if (ctl_record_json(&o, &model_tenant, &t->base, false) != ROSTER_E_OK)
        return NULL;
    ctl_fields_trim(o, &model_tenant, fields);
    if (t->has_user_count) {
        json_t *n = json_integer((json_int_t)t->user_count);
        json_t *v = table ? n : json_pack("{s:o}", "totalCount", n);
        if (v == NULL || json_object_set_new(o, "users", v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int print_tenant(const ctl_args *a, const ProtobufCMessage *t, const ctl_fields *fields)
{
    json_t *o = tenant_json((const Roster__V1__Tenant *)t, !a->json, fields);
    return ctl_print_record(a, o);
}

/* Opens the service, makes one call that returns a tenant, prints it. */
static int run_tenant_call(const ctl_args *a, rpc_method_id method, const ProtobufCMessage *req,
                           const ctl_fields *fields)
{
    ctl_live l;
    ProtobufCMessage *t = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    if (ctl_live_exchange(&t, &code, &l, a, method, req, &arena) == ROSTER_E_OK)
        code = print_tenant(a, t, fields);
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}

int ctl_cmd_tenants_get(const ctl_args *a)
{
    Roster__V1__GetTenantRequest req = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    req.id = (char *)a->positional;
    roster_err_detail d = {{0}};
    ctl_fields fields;
    if (ctl_fields_parse(&fields, &model_tenant, ctl_args_get(a, "fields"), &d) != ROSTER_E_OK)
        return usage(a, &d);
    req.has_field_mask = fields.given;
    req.field_mask = fields.mask;
    if (ctl_args_get(a, "user-count") != NULL) {
        req.has_include_user_count = true;
        req.include_user_count = true;
    }
    return run_tenant_call(a, RPC_GET_TENANT, &req.base, &fields);
}

static json_t *tenant_row(const ProtobufCMessage *t, bool table, const void *ctx)
{
    return tenant_json((const Roster__V1__Tenant *)t, table, ctx);
}

int ctl_cmd_tenants_list(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_fields fields = {0};
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code = CTL_EXIT_OK;
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < a->nopts && err == ROSTER_E_OK; i++)
        if (strcmp(a->opts[i].name, "filter") == 0)
            err = ctl_filter_parse(&f, &ctl_tenant_filter_fields, a->opts[i].value, &d);
    if (err == ROSTER_E_OK && ctl_args_get(a, "order"))
        err = ctl_order_parse(&o, true, ctl_args_get(a, "order"), &d);
    if (err == ROSTER_E_OK)
        err = ctl_fields_parse(&fields, &model_tenant, ctl_args_get(a, "fields"), &d);
    if (err == ROSTER_E_INVALID_ARGUMENT) {
        code = usage(a, &d);
        goto out;
    }
    req.has_field_mask = fields.given;
    req.field_mask = fields.mask;
    if (ctl_args_get(a, "user-count") != NULL) {
        req.has_include_user_count = true;
        req.include_user_count = true;
    }
    if (err == ROSTER_E_OK)
        err = ctl_list_request(&req.base, &arena, &f, &o, NULL);
    if (err != ROSTER_E_OK) {
        code = ctl_live_fail(a, a->cmd->words, err, NULL);
        goto out;
    }
    ctl_listing l = {RPC_LIST_TENANTS, &req.base,
                     "tenants",        fields.given ? fields.columns : list_columns,
                     tenant_row,       &fields};
    code = ctl_listing_run(a, &l);
out:
    roster_arena_free(&arena);
    ctl_filter_free(&f);
    return code;
}

int ctl_cmd_tenants_create(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    const char *name = ctl_args_get(a, "name");
    if (name == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "name", "--name is required");
        return usage(a, &d);
    }
    req.name = (char *)name;
    req.reference = (char *)ctl_args_get(a, "reference");
    if (ctl_args_get(a, "default") != NULL) {
        req.has_is_default = true;
        req.is_default = true;
    }
    return run_tenant_call(a, RPC_CREATE_TENANT, &req.base, &all_fields);
}

int ctl_cmd_tenants_update(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__UpdateTenantRequest req = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    req.id = (char *)a->positional;
    req.name = (char *)ctl_args_get(a, "name");
    req.reference = (char *)ctl_args_get(a, "reference");
    bool any = ctl_args_get(a, "name") || ctl_args_get(a, "reference");
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].name, "clear") != 0)
            continue;
        if (strcmp(a->opts[i].value, "reference") != 0) {
            roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "clear",
                        "--clear: only reference can be cleared, not '%s'", a->opts[i].value);
            return usage(a, &d);
        }
        req.has_clear_reference = true;
        req.clear_reference = true;
        any = true;
    }
    const char *def = ctl_args_get(a, "default");
    if (def != NULL) {
        bool b;
        if (ctl_parse_bool(&b, "default", def, &d) != ROSTER_E_OK)
            return usage(a, &d);
        req.has_is_default = true;
        req.is_default = b;
        any = true;
    }
    if (!any) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "",
                    "nothing to change: give --name, --reference, --clear reference or "
                    "--default");
        return usage(a, &d);
    }
    return run_tenant_call(a, RPC_UPDATE_TENANT, &req.base, &all_fields);
}

int ctl_cmd_tenants_set_default(const ctl_args *a)
{
    Roster__V1__UpdateTenantRequest req = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    req.id = (char *)a->positional;
    req.has_is_default = true;
    req.is_default = true;
    return run_tenant_call(a, RPC_UPDATE_TENANT, &req.base, &all_fields);
}

int ctl_cmd_tenants_delete(const ctl_args *a)
{
    return ctl_live_delete(a, RPC_DELETE_TENANT, "tenant");
}
