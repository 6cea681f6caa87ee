#include "users.h"

#include "filter.h"
#include "live.h"
#include "output.h"
#include "record.h"
#include "request.h"

#include <stdlib.h>
#include <string.h>

static const char *const list_columns[] = {
    "id", "reference", "email", "firstName", "lastName", "active", "tenantId", "createdAt", NULL};

/* Prints one user (from the service) and returns the exit code. */
static int print_user(const ctl_args *a, const roster_v1_User *u)
{
    Roster__V1__User view;
    ctl_user_view(&view, u);
    json_t *o = ctl_user_json(&view, false);
    if (o == NULL)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    if (a->json)
        ctl_print_json(stdout, o);
    else
        ctl_print_object(stdout, o);
    json_decref(o);
    return CTL_EXIT_OK;
}

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

int ctl_cmd_users_get(const ctl_args *a)
{
    ctl_live l;
    roster_status st;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK)
        return ctl_exit_code(err);
    roster_v1_User *u = calloc(1, sizeof *u);
    int code;
    if (u == NULL) {
        code = ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        goto fail;
    }
    err = roster_client_get_user(u, &st, l.client, &l.call, a->positional);
    code = err == ROSTER_E_OK ? print_user(a, u) : ctl_live_fail(a, a->cmd->words, err, &st);
fail:
    free(u);
    ctl_live_close(&l);
    return code;
}

static int collect_user(void *arg, size_t index, const roster_v1_User *u)
{
    (void)index;
    Roster__V1__User view;
    ctl_user_view(&view, u);
    json_t *o = ctl_user_json(&view, false);
    if (o == NULL)
        return 1;
    return json_array_append_new(arg, o) == 0 ? 0 : 1;
}

/* Parses --limit/--offset into a list request's fields. */
static int paging(bool *has_limit, int32_t *limit, bool *has_offset, int32_t *offset,
                  const ctl_args *a, roster_err_detail *d)
{
    const char *v = ctl_args_get(a, "limit");
    if (v != NULL) {
        int err = ctl_parse_count(limit, "limit", v, d);
        if (err != ROSTER_E_OK)
            return err;
        *has_limit = true;
    }
    v = ctl_args_get(a, "offset");
    if (v != NULL) {
        int err = ctl_parse_count(offset, "offset", v, d);
        if (err != ROSTER_E_OK)
            return err;
        *has_offset = true;
    }
    return ROSTER_E_OK;
}

int ctl_cmd_users_list(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_search s = {0};
    ctl_request_lists lists = {0};
    roster_v1_ListUsersRequest req = roster_v1_ListUsersRequest_init_zero;
    ctl_live l = {0};
    json_t *data = NULL;
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
        err = paging(&req.has_limit, &req.limit, &req.has_offset, &req.offset, a, &d);
    if (err == ROSTER_E_INVALID_ARGUMENT) {
        code = usage(a, &d);
        goto fail;
    }
    if (err == ROSTER_E_OK)
        err = ctl_user_list_request(&req, &lists, &f, &o, &s);
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
    err = roster_client_list_users_stream(&total, &st, l.client, &l.call, &req, collect_user, data);
    if (err != ROSTER_E_OK) {
        code = ctl_live_fail(a, a->cmd->words, err, &st);
        goto fail;
    }
    ctl_print_page(a->json, data, total, req.offset, "users", list_columns);
fail:
    json_decref(data);
    ctl_live_close(&l);
    ctl_request_lists_free(&lists);
    ctl_filter_free(&f);
    return code;
}

/* The string options shared by create and update, and their request
 * fields. */
typedef struct user_fields {
    pb_callback_t *email, *first_name, *last_name, *phone, *locale, *timezone, *avatar_url,
        *tenant_id, *custom_data;
    bool *has_is_opted_in, *is_opted_in, *has_active, *active, *has_two_factor_enabled,
        *two_factor_enabled;
} user_fields;

static int fill_fields(const user_fields *uf, const ctl_args *a, roster_err_detail *d)
{
    const struct {
        const char *opt;
        pb_callback_t *cb;
    } strs[] = {{"email", uf->email},
                {"first-name", uf->first_name},
                {"last-name", uf->last_name},
                {"phone", uf->phone},
                {"locale", uf->locale},
                {"timezone", uf->timezone},
                {"avatar-url", uf->avatar_url},
                {"tenant-id", uf->tenant_id},
                {"custom-data", uf->custom_data}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        roster_pb_str(strs[i].cb, ctl_args_get(a, strs[i].opt));
    const char *cd = ctl_args_get(a, "custom-data");
    if (cd != NULL) {
        json_error_t jerr;
        json_t *j = json_loads(cd, 0, &jerr);
        bool ok = json_is_object(j);
        json_decref(j);
        if (!ok)
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "customData",
                               "--custom-data must be a JSON object%s%s", j ? "" : ": ",
                               j ? "" : jerr.text);
    }
    const struct {
        const char *opt;
        bool *has, *val;
    } bools[] = {{"opted-in", uf->has_is_opted_in, uf->is_opted_in},
                 {"active", uf->has_active, uf->active},
                 {"two-factor", uf->has_two_factor_enabled, uf->two_factor_enabled}};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        const char *v = ctl_args_get(a, bools[i].opt);
        if (v == NULL)
            continue;
        int err = ctl_parse_bool(bools[i].val, bools[i].opt, v, d);
        if (err != ROSTER_E_OK)
            return err;
        *bools[i].has = true;
    }
    return ROSTER_E_OK;
}

#define USER_FIELDS(r)                                                                             \
    {                                                                                              \
        &(r).email, &(r).first_name, &(r).last_name, &(r).phone, &(r).locale, &(r).timezone,       \
            &(r).avatar_url, &(r).tenant_id, &(r).custom_data, &(r).has_is_opted_in,               \
            &(r).is_opted_in, &(r).has_active, &(r).active, &(r).has_two_factor_enabled,           \
            &(r).two_factor_enabled                                                                \
    }

/* Runs a write that returns a user, prints it. */
typedef int (*user_call_fn)(roster_v1_User *out, roster_status *st, roster_client *c,
                            const roster_call_options *o, const void *req);

static int call_create(roster_v1_User *out, roster_status *st, roster_client *c,
                       const roster_call_options *o, const void *req)
{
    return roster_client_create_user(out, st, c, o, req);
}

static int call_update(roster_v1_User *out, roster_status *st, roster_client *c,
                       const roster_call_options *o, const void *req)
{
    return roster_client_update_user(out, st, c, o, req);
}

static int run_user_write(const ctl_args *a, user_call_fn fn, const void *req)
{
    ctl_live l;
    int err = ctl_live_open(&l, a);
    if (err != ROSTER_E_OK)
        return ctl_exit_code(err);
    roster_v1_User *u = calloc(1, sizeof *u);
    roster_status st;
    int code;
    if (u == NULL) {
        code = ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        goto fail;
    }
    err = fn(u, &st, l.client, &l.call, req);
    code = err == ROSTER_E_OK ? print_user(a, u) : ctl_live_fail(a, a->cmd->words, err, &st);
fail:
    free(u);
    ctl_live_close(&l);
    return code;
}

int ctl_cmd_users_create(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    roster_v1_CreateUserRequest req = roster_v1_CreateUserRequest_init_zero;
    const char *ref = ctl_args_get(a, "reference");
    if (ref == NULL || ctl_args_get(a, "email") == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, ref ? "email" : "reference", "--%s is required",
                    ref ? "email" : "reference");
        return usage(a, &d);
    }
    roster_pb_str(&req.reference, ref);
    user_fields uf = USER_FIELDS(req);
    if (fill_fields(&uf, a, &d) != ROSTER_E_OK)
        return usage(a, &d);
    return run_user_write(a, call_create, &req);
}

/* --clear names: GraphQL names and the option spellings. */
static int clear_field(roster_v1_UserField *out, const char *name, roster_err_detail *d)
{
    static const struct {
        const char *graphql, *option;
        roster_v1_UserField field;
    } names[] = {
        {"email", "email", roster_v1_UserField_USER_FIELD_EMAIL},
        {"firstName", "first-name", roster_v1_UserField_USER_FIELD_FIRST_NAME},
        {"lastName", "last-name", roster_v1_UserField_USER_FIELD_LAST_NAME},
        {"phone", "phone", roster_v1_UserField_USER_FIELD_PHONE},
        {"locale", "locale", roster_v1_UserField_USER_FIELD_LOCALE},
        {"timezone", "timezone", roster_v1_UserField_USER_FIELD_TIMEZONE},
        {"avatarUrl", "avatar-url", roster_v1_UserField_USER_FIELD_AVATAR_URL},
        {"isOptedIn", "opted-in", roster_v1_UserField_USER_FIELD_IS_OPTED_IN},
        {"active", "active", roster_v1_UserField_USER_FIELD_ACTIVE},
        {"twoFactorEnabled", "two-factor", roster_v1_UserField_USER_FIELD_TWO_FACTOR_ENABLED},
        {"tenantId", "tenant-id", roster_v1_UserField_USER_FIELD_TENANT_ID},
        {"customData", "custom-data", roster_v1_UserField_USER_FIELD_CUSTOM_DATA},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].graphql) == 0 || strcmp(name, names[i].option) == 0) {
            *out = names[i].field;
            return ROSTER_E_OK;
        }
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "clear",
                       "--clear: unknown field '%s' (firstName lastName phone locale timezone "
                       "avatarUrl isOptedIn active twoFactorEnabled tenantId customData)",
                       name);
}

int ctl_cmd_users_update(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    roster_v1_UpdateUserRequest req = roster_v1_UpdateUserRequest_init_zero;
    roster_pb_str(&req.id, a->positional);
    user_fields uf = USER_FIELDS(req);
    if (fill_fields(&uf, a, &d) != ROSTER_E_OK)
        return usage(a, &d);
    bool any = false;
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].name, "clear") != 0) {
            any = true;
            continue;
        }
        roster_v1_UserField fld = roster_v1_UserField_USER_FIELD_UNSPECIFIED;
        if (clear_field(&fld, a->opts[i].value, &d) != ROSTER_E_OK)
            return usage(a, &d);
        for (pb_size_t k = 0; k < req.clear_count; k++) {
            if (req.clear[k] == fld) {
                roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "clear", "--clear %s is given twice",
                            a->opts[i].value);
                return usage(a, &d);
            }
        }
        req.clear[req.clear_count++] = fld;
        any = true;
    }
    if (!any) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "",
                    "nothing to change: give at least one field option or --clear");
        return usage(a, &d);
    }
    return run_user_write(a, call_update, &req);
}

int ctl_cmd_users_deactivate(const ctl_args *a)
{
    roster_v1_UpdateUserRequest req = roster_v1_UpdateUserRequest_init_zero;
    roster_pb_str(&req.id, a->positional);
    req.has_active = true;
    req.active = false;
    return run_user_write(a, call_update, &req);
}
