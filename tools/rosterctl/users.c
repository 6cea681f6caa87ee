#include "users.h"

#include "fields.h"
#include "filter.h"
#include "listing.h"
#include "live.h"
#include "output.h"
#include "pbfield.h"
#include "record.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

static const char *const list_columns[] = {
    "id", "reference", "email", "firstName", "lastName", "active", "tenantId", "createdAt", NULL};

/* Writes answer whole records. */
static const ctl_fields all_fields;

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

/* Prints one user (from the service), only the fields asked for, and
 * returns the exit code. */
static int print_user(const ctl_args *a, const ProtobufCMessage *u, const ctl_fields *fields)
{
    json_t *o = NULL;
    if (ctl_record_json(&o, &model_user, u, false) != ROSTER_E_OK)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    ctl_fields_trim(o, &model_user, fields);
    return ctl_print_record(a, o);
}

/* Opens the service, makes one call that returns a user, prints it. */
static int run_user_call(const ctl_args *a, rpc_method_id method, const ProtobufCMessage *req,
                         const ctl_fields *fields)
{
    ctl_live l;
    ProtobufCMessage *u = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    if (ctl_live_exchange(&u, &code, &l, a, method, req, &arena) == ROSTER_E_OK)
        code = print_user(a, u, fields);
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}

int ctl_cmd_users_get(const ctl_args *a)
{
    Roster__V1__GetUserRequest req = ROSTER__V1__GET_USER_REQUEST__INIT;
    req.id = (char *)a->positional;
    roster_err_detail d = {{0}};
    ctl_fields fields;
    if (ctl_fields_parse(&fields, &model_user, ctl_args_get(a, "fields"), &d) != ROSTER_E_OK)
        return usage(a, &d);
    req.has_field_mask = fields.given;
    req.field_mask = fields.mask;
    return run_user_call(a, RPC_GET_USER, &req.base, &fields);
}

/* A user of a list reply as JSON, cut to the fields asked for (ctx). */
static json_t *user_row(const ProtobufCMessage *u, bool table, const void *ctx)
{
    (void)table;
    json_t *o = NULL;
    if (ctl_record_json(&o, &model_user, u, false) != ROSTER_E_OK)
        return NULL;
    ctl_fields_trim(o, &model_user, ctx);
    return o;
}

int ctl_cmd_users_list(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_search s = {0};
    ctl_fields fields = {0};
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code = CTL_EXIT_OK;
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < a->nopts && err == ROSTER_E_OK; i++)
        if (strcmp(a->opts[i].name, "filter") == 0)
            err = ctl_filter_parse(&f, &ctl_user_filter_fields, a->opts[i].value, &d);
    if (err == ROSTER_E_OK && ctl_args_get(a, "order"))
        err = ctl_order_parse(&o, false, ctl_args_get(a, "order"), &d);
    if (err == ROSTER_E_OK && ctl_args_get(a, "search"))
        err = ctl_search_parse(&s, ctl_args_get(a, "search"), &d);
    if (err == ROSTER_E_OK)
        err = ctl_fields_parse(&fields, &model_user, ctl_args_get(a, "fields"), &d);
    req.has_field_mask = fields.given;
    req.field_mask = fields.mask;
    if (err == ROSTER_E_INVALID_ARGUMENT) {
        code = usage(a, &d);
        goto out;
    }
    if (err == ROSTER_E_OK)
        err = ctl_list_request(&req.base, &arena, &f, &o, &s);
    if (err != ROSTER_E_OK) {
        code = ctl_live_fail(a, a->cmd->words, err, NULL);
        goto out;
    }
    ctl_listing l = {RPC_LIST_USERS, &req.base,
                     "users",        fields.given ? fields.columns : list_columns,
                     user_row,       &fields};
    code = ctl_listing_run(a, &l);
out:
    roster_arena_free(&arena);
    ctl_filter_free(&f);
    return code;
}

/* ------------------------------------------------------------ field options */

/* Options whose spelling is not the kebab-case of the field's name. */
static const struct {
    const char *field, *option;
} short_options[] = {{"isOptedIn", "opted-in"}, {"twoFactorEnabled", "two-factor"}};

/* The command-line option of user field `name`: "first-name" for
 * firstName. */
static const char *option_name(char *buf, size_t cap, const char *name)
{
    for (size_t i = 0; i < sizeof short_options / sizeof short_options[0]; i++)
        if (strcmp(name, short_options[i].field) == 0)
            return short_options[i].option;
    model_snake_name(buf, cap, name, strlen(name));
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = '-';
    return buf;
}

/* Sets one field of a create/update request from its option, if given. */
static int fill_field(ProtobufCMessage *req, const model_field *mf,
                      const ProtobufCFieldDescriptor *pf, const ctl_args *a, roster_err_detail *d)
{
    char buf[64];
    const char *opt = option_name(buf, sizeof buf, mf->name);
    const char *v = ctl_args_get(a, opt);
    if (v == NULL)
        return ROSTER_E_OK;
    if (mf->type == MODEL_T_BOOL) {
        bool b;
        int err = ctl_parse_bool(&b, opt, v, d);
        if (err != ROSTER_E_OK)
            return err;
        ctl_pbfield_set_int(req, pf, b);
        return ROSTER_E_OK;
    }
    if (mf->type == MODEL_T_JSON) {
        json_error_t jerr;
        json_t *j = json_loads(v, 0, &jerr);
        bool ok = json_is_object(j);
        json_decref(j);
        if (!ok)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, mf->name,
                               "--%s must be a JSON object%s%s", opt, j ? "" : ": ",
                               j ? "" : jerr.text);
    }
    ctl_pbfield_set_str(req, pf, v);
    return ROSTER_E_OK;
}

/* Sets every user field the request message has (by name) from its
 * option: text fields first, then booleans, each in model order. */
static int fill_fields(ProtobufCMessage *req, const ctl_args *a, roster_err_detail *d)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < model_user.n_fields; i++) {
            const model_field *mf = &model_user.fields[i];
            if ((mf->flags & MODEL_SERVER_SET) || (mf->type == MODEL_T_BOOL) != (pass == 1))
                continue;
            const ProtobufCFieldDescriptor *pf =
                ctl_pbfield_named(req->descriptor, mf->name, strlen(mf->name));
            if (pf == NULL)
                continue;
            int err = fill_field(req, mf, pf, a, d);
            if (err != ROSTER_E_OK)
                return err;
        }
    }
    return ROSTER_E_OK;
}

int ctl_cmd_users_create(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    const char *ref = ctl_args_get(a, "reference");
    if (ref == NULL || ctl_args_get(a, "email") == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, ref ? "email" : "reference", "--%s is required",
                    ref ? "email" : "reference");
        return usage(a, &d);
    }
    if (fill_fields(&req.base, a, &d) != ROSTER_E_OK)
        return usage(a, &d);
    return run_user_call(a, RPC_CREATE_USER, &req.base, &all_fields);
}

/* --clear names: a UserField value by its GraphQL name or option spelling. */
static int clear_field(int *out, const char *name, roster_err_detail *d)
{
    const ProtobufCEnumDescriptor *e = &roster__v1__user_field__descriptor;
    char names[256];
    size_t n = 0;
    names[0] = '\0';
    for (unsigned i = 0; i < e->n_values; i++) {
        if (e->values[i].value == 0)
            continue;
        char camel[64], buf[64];
        ctl_pbfield_enum_name(camel, sizeof camel, e, &e->values[i]);
        if (strcmp(name, camel) == 0 || strcmp(name, option_name(buf, sizeof buf, camel)) == 0) {
            *out = e->values[i].value;
            return ROSTER_E_OK;
        }
        const model_field *mf = model_field_named(&model_user, camel, strlen(camel));
        if (mf != NULL && (mf->flags & MODEL_CLEARABLE) && n < sizeof names)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? " " : "", camel);
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "clear", "--clear: unknown field '%s' (%s)",
                       name, names);
}

int ctl_cmd_users_update(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    Roster__V1__UserField clear[CTL_MAX_OPTS];
    req.id = (char *)a->positional;
    req.clear = clear;
    if (fill_fields(&req.base, a, &d) != ROSTER_E_OK)
        return usage(a, &d);
    bool any = false;
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].name, "clear") != 0) {
            any = true;
            continue;
        }
        int fld = 0;
        if (clear_field(&fld, a->opts[i].value, &d) != ROSTER_E_OK)
            return usage(a, &d);
        for (size_t k = 0; k < req.n_clear; k++) {
            if ((int)req.clear[k] == fld) {
                roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "clear", "--clear %s is given twice",
                            a->opts[i].value);
                return usage(a, &d);
            }
        }
        req.clear[req.n_clear++] = (Roster__V1__UserField)fld;
        any = true;
    }
    if (!any) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "",
                    "nothing to change: give at least one field option or --clear");
        return usage(a, &d);
    }
    return run_user_call(a, RPC_UPDATE_USER, &req.base, &all_fields);
}

int ctl_cmd_users_deactivate(const ctl_args *a)
{
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = (char *)a->positional;
    req.has_active = true;
    req.active = false;
    return run_user_call(a, RPC_UPDATE_USER, &req.base, &all_fields);
}

int ctl_cmd_users_delete(const ctl_args *a)
{
    return ctl_live_delete(a, RPC_DELETE_USER, "user");
}
