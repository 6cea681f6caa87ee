#include "tenants.h"

#include "filter.h"
#include "live.h"
#include "output.h"
#include "record.h"
#include "request.h"

#include <string.h>

static const char *const list_columns[] = {"id",        "name",      "reference", "isDefault",
                                           "createdAt", "updatedAt", "users",     NULL};

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

static json_t *tenant_json(const roster_v1_Tenant *t)
{
    Roster__V1__Tenant view;
    ctl_tenant_view(&view, t);
    json_t *o = ctl_tenant_json(&view, false);
    /* Tables show the count as a number rather than {"totalCount":N}. */
    return o;
}

static int print_tenant(const ctl_args *a, const roster_v1_Tenant *t)
{
    json_t *o = tenant_json(t);
    if (o == NULL)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    if (a->json) {
        ctl_print_json(stdout, o);
    } else {
        json_t *users = json_object_get(o, "users");
        if (users != NULL)
            json_object_set(o, "users", json_object_get(users, "totalCount"));
        ctl_print_object(stdout, o);
    }
    json_decref(o);
    return CTL_EXIT_OK;
}

int ctl_cmd_tenants_get(const ctl_args *a)
{
    ctl_live l;
    roster_status st;
    roster_v1_Tenant t = roster_v1_Tenant_init_zero;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK)
        return ctl_exit_code(err);
    err = roster_client_get_tenant(&t, &st, l.client, &l.call, a->positional,
                                   ctl_args_get(a, "user-count") != NULL);
    int code = err == ROSTER_E_OK ? print_tenant(a, &t) : ctl_live_fail(a, a->cmd->words, err, &st);
    ctl_live_close(&l);
    return code;
}

static int collect_tenant(void *arg, size_t index, const roster_v1_Tenant *t)
{
    (void)index;
    json_t *o = tenant_json(t);
    if (o == NULL)
        return 1;
    return json_array_append_new(arg, o) == 0 ? 0 : 1;
}

int ctl_cmd_tenants_list(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_request_lists lists = {0};
    roster_v1_ListTenantsRequest req = roster_v1_ListTenantsRequest_init_zero;
    ctl_live l = {0};
    json_t *data = NULL;
    int code = CTL_EXIT_OK;
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < a->nopts && err == ROSTER_E_OK; i++)
        if (strcmp(a->opts[i].name, "filter") == 0)
            err = ctl_filter_parse(&f, &ctl_tenant_filter_fields, a->opts[i].value, &d);
    if (err == ROSTER_E_OK && ctl_args_get(a, "order"))
        err = ctl_order_parse(&o, true, ctl_args_get(a, "order"), &d);
    if (err == ROSTER_E_OK && ctl_args_get(a, "limit")) {
        err = ctl_parse_count(&req.limit, "limit", ctl_args_get(a, "limit"), &d);
        req.has_limit = true;
    }
    if (err == ROSTER_E_OK && ctl_args_get(a, "offset")) {
        err = ctl_parse_count(&req.offset, "offset", ctl_args_get(a, "offset"), &d);
        req.has_offset = true;
    }
    if (err == ROSTER_E_INVALID_ARGUMENT) {
        code = usage(a, &d);
        goto fail;
    }
    if (ctl_args_get(a, "user-count") != NULL) {
        req.has_include_user_count = true;
        req.include_user_count = true;
    }
    if (err == ROSTER_E_OK)
        err = ctl_tenant_list_request(&req, &lists, &f, &o);
    if (err != ROSTER_E_OK) {
        code = ctl_live_fail(a, a->cmd->words, err, NULL);
        goto fail;
    }
    err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK) {
        code = ctl_exit_code(err);
        goto fail;
    }
    data = json_array();
    int64_t total = 0;
    roster_status st;
    err = roster_client_list_tenants_stream(&total, &st, l.client, &l.call, &req, collect_tenant,
                                            data);
    if (err != ROSTER_E_OK) {
        code = ctl_live_fail(a, a->cmd->words, err, &st);
        goto fail;
    }
    if (!a->json) {
        size_t i;
        json_t *t;
        json_array_foreach(data, i, t)
        {
            json_t *users = json_object_get(t, "users");
            if (users != NULL)
                json_object_set(t, "users", json_object_get(users, "totalCount"));
        }
    }
    ctl_print_page(a->json, data, total, req.offset, "tenants", list_columns);
fail:
    json_decref(data);
    ctl_live_close(&l);
    ctl_request_lists_free(&lists);
    ctl_filter_free(&f);
    return code;
}

int ctl_cmd_tenants_create(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    roster_v1_CreateTenantRequest req = roster_v1_CreateTenantRequest_init_zero;
    const char *name = ctl_args_get(a, "name");
    if (name == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "name", "--name is required");
        return usage(a, &d);
    }
    roster_pb_str(&req.name, name);
    roster_pb_str(&req.reference, ctl_args_get(a, "reference"));
    if (ctl_args_get(a, "default") != NULL) {
        req.has_is_default = true;
        req.is_default = true;
    }
    ctl_live l;
    roster_status st;
    roster_v1_Tenant t = roster_v1_Tenant_init_zero;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK)
        return ctl_exit_code(err);
    err = roster_client_create_tenant(&t, &st, l.client, &l.call, &req);
    int code = err == ROSTER_E_OK ? print_tenant(a, &t) : ctl_live_fail(a, a->cmd->words, err, &st);
    ctl_live_close(&l);
    return code;
}

static int run_update(const ctl_args *a, const roster_v1_UpdateTenantRequest *req)
{
    ctl_live l;
    roster_status st;
    roster_v1_Tenant t = roster_v1_Tenant_init_zero;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK)
        return ctl_exit_code(err);
    err = roster_client_update_tenant(&t, &st, l.client, &l.call, req);
    int code = err == ROSTER_E_OK ? print_tenant(a, &t) : ctl_live_fail(a, a->cmd->words, err, &st);
    ctl_live_close(&l);
    return code;
}

int ctl_cmd_tenants_update(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    roster_v1_UpdateTenantRequest req = roster_v1_UpdateTenantRequest_init_zero;
    roster_pb_str(&req.id, a->positional);
    roster_pb_str(&req.name, ctl_args_get(a, "name"));
    roster_pb_str(&req.reference, ctl_args_get(a, "reference"));
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
        if (ctl_parse_bool(&req.is_default, "default", def, &d) != ROSTER_E_OK)
            return usage(a, &d);
        req.has_is_default = true;
        any = true;
    }
    if (!any) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "",
                    "nothing to change: give --name, --reference, --clear reference or "
                    "--default");
        return usage(a, &d);
    }
    return run_update(a, &req);
}

int ctl_cmd_tenants_set_default(const ctl_args *a)
{
    roster_v1_UpdateTenantRequest req = roster_v1_UpdateTenantRequest_init_zero;
    roster_pb_str(&req.id, a->positional);
    req.has_is_default = true;
    req.is_default = true;
    return run_update(a, &req);
}
