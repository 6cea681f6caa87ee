#include "load.h"

#include "datadir.h"
#include "output.h"
#include "record.h"

#include <stdlib.h>
#include <string.h>

/* Copies the fields a create request shares with a User record. */
static void user_create_request(Roster__V1__CreateUserRequest *req, const Roster__V1__User *u)
{
    roster__v1__create_user_request__init(req);
    req->reference = u->reference;
    req->email = u->email;
    req->first_name = u->first_name;
    req->last_name = u->last_name;
    req->phone = u->phone;
    req->locale = u->locale;
    req->timezone = u->timezone;
    req->has_is_opted_in = u->has_is_opted_in;
    req->is_opted_in = u->is_opted_in;
    req->has_active = u->has_active;
    req->active = u->active;
    req->has_two_factor_enabled = u->has_two_factor_enabled;
    req->two_factor_enabled = u->two_factor_enabled;
    req->tenant_id = u->tenant_id;
    req->avatar_url = u->avatar_url;
    req->custom_data = u->custom_data;
}

static int need_dates(protobuf_c_boolean has_created, protobuf_c_boolean has_updated,
                      roster_err_detail *d)
{
    if (!has_created)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "createdAt",
                           "createdAt is required when id is given");
    if (!has_updated)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "updatedAt",
                           "updatedAt is required when id is given");
    return ROSTER_E_OK;
}

static int apply_line(store_wtxn *w, const json_t *obj, roster_arena *arena, bool *is_user,
                      roster_err_detail *d)
{
    if (!json_is_object(obj))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a line must hold a JSON object");
    const json_t *tn = json_object_get(obj, "__typename");
    const char *type = json_is_string(tn) ? json_string_value(tn) : NULL;
    int err;
    if (type != NULL && strcmp(type, CTL_TYPENAME_TENANT) == 0) {
        Roster__V1__Tenant t;
        *is_user = false;
        err = ctl_tenant_from_json(&t, obj, d);
        if (err != ROSTER_E_OK)
            return err;
        if (t.id == NULL) {
            Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
            req.name = t.name;
            req.reference = t.reference;
            req.has_is_default = t.has_is_default;
            req.is_default = t.is_default;
            return store_tenant_create(w, NULL, &req, arena, NULL, d);
        }
        err = need_dates(t.has_created_at, t.has_updated_at, d);
        if (err != ROSTER_E_OK)
            return err;
        return store_tenant_restore(w, &t, d);
    }
    if (type != NULL && strcmp(type, CTL_TYPENAME_USER) == 0) {
        Roster__V1__User u;
        *is_user = true;
        err = ctl_user_from_json(&u, obj, arena, d);
        if (err != ROSTER_E_OK)
            return err;
        if (u.id == NULL) {
            Roster__V1__CreateUserRequest req;
            user_create_request(&req, &u);
            return store_user_create(w, NULL, &req, arena, NULL, d);
        }
        err = need_dates(u.has_created_at, u.has_updated_at, d);
        if (err != ROSTER_E_OK)
            return err;
        return store_user_restore(w, &u, d);
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "__typename",
                       "__typename must be \"" CTL_TYPENAME_TENANT "\" or \"" CTL_TYPENAME_USER
                       "\"");
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* Errors that concern the line; anything else (resources, I/O, a corrupt
 * store) stops the load. */
static bool line_error(int err)
{
    switch (err) {
    case ROSTER_E_INVALID_ARGUMENT:
    case ROSTER_E_ALREADY_EXISTS:
    case ROSTER_E_NOT_FOUND:
    case ROSTER_E_PERMISSION_DENIED:
    case ROSTER_E_FAILED_PRECONDITION:
    case ROSTER_E_OUT_OF_RANGE:
    case ROSTER_E_LIMIT:
    case ROSTER_E_PARSE:
    case ROSTER_E_VALIDATION:
        return true;
    default:
        return false;
    }
}

int ctl_load_run(ctl_load_result *result, FILE *in, store *s, const ctl_load_options *o,
                 ctl_load_error_fn fn, void *ctx, roster_err_detail *fatal)
{
    ctl_load_result res = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    store_wtxn *w = NULL;
    bool writing = !o->dry_run;
    uint64_t batch_lines = 0, batch_tenants = 0, batch_users = 0;
    bool batch_bad = false;
    roster_arena arena;
    roster_arena_init(&arena, 64 * 1024, 0);
    int err = store_write_begin(s, &w);
    if (err != ROSTER_E_OK) {
        roster_fail(fatal, err, "", "cannot begin a write transaction: %s", roster_strerror(err));
        goto fail;
    }
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (blank(line))
            continue;
        roster_err_detail d = {{0}};
        json_error_t jerr;
        json_t *obj = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        bool is_user = false;
        int rc;
        if (obj == NULL) {
            rc = roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "", "invalid JSON at column %d: %s",
                             jerr.column, jerr.text);
        } else {
            rc = apply_line(w, obj, &arena, &is_user, &d);
            json_decref(obj);
            roster_arena_reset(&arena);
        }
        if (rc != ROSTER_E_OK && !line_error(rc)) {
            err = rc;
            roster_fail(fatal, err, d.field,
                        "line %llu: %s; stopped, nothing from its batch was written",
                        (unsigned long long)lineno, d.message[0] ? d.message : roster_strerror(rc));
            goto fail;
        }
        if (rc != ROSTER_E_OK) {
            res.bad_lines++;
            batch_bad = true;
            if (fn)
                fn(ctx, lineno, d.field, d.message[0] ? d.message : roster_strerror(rc));
        } else if (is_user) {
            res.users++;
            batch_users++;
        } else {
            res.tenants++;
            batch_tenants++;
        }
        batch_lines++;
        if (o->batch == 0 || batch_lines < o->batch || !writing)
            continue;
        /* End of a batch. A bad one stops writing; checking goes on in the
         * same (never committed) transaction so later lines still see the
         * records before them. */
        if (batch_bad) {
            writing = false;
            continue;
        }
        err = store_write_commit(w);
        w = NULL;
        if (err != ROSTER_E_OK) {
            roster_fail(fatal, err, "", "commit of the batch ending at line %llu failed: %s",
                        (unsigned long long)lineno, roster_strerror(err));
            goto fail;
        }
        res.committed_tenants += batch_tenants;
        res.committed_users += batch_users;
        res.committed_lines = lineno;
        batch_lines = batch_tenants = batch_users = 0;
        err = store_write_begin(s, &w);
        if (err != ROSTER_E_OK) {
            roster_fail(fatal, err, "", "cannot begin a write transaction: %s",
                        roster_strerror(err));
            goto fail;
        }
    }
    if (ferror(in)) {
        err = roster_fail(fatal, ROSTER_E_IO, "", "reading stdin failed after line %llu",
                          (unsigned long long)lineno);
        goto fail;
    }
    if (writing && !batch_bad) {
        err = store_write_commit(w);
        w = NULL;
        if (err != ROSTER_E_OK) {
            roster_fail(fatal, err, "", "commit failed: %s", roster_strerror(err));
            goto fail;
        }
        res.committed_tenants += batch_tenants;
        res.committed_users += batch_users;
        res.committed_lines = lineno;
    }
    res.lines = lineno;
    *result = res;
fail:
    store_write_abort(w);
    free(line);
    roster_arena_free(&arena);
    return err;
}

typedef struct report_ctx {
    bool json;
    json_t *errors; /* --json: collected {line, field, message} */
} report_ctx;

static void report_line(void *ctx, uint64_t line, const char *field, const char *message)
{
    report_ctx *rc = ctx;
    if (rc->json) {
        json_array_append_new(rc->errors, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)line,
                                                    "field", field, "message", message));
        return;
    }
    if (field && *field)
        fprintf(stderr, "rosterctl: load: line %llu: %s: %s\n", (unsigned long long)line, field,
                message);
    else
        fprintf(stderr, "rosterctl: load: line %llu: %s\n", (unsigned long long)line, message);
}

int ctl_cmd_load(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    store *s = NULL;
    report_ctx rc = {.json = a->json, .errors = json_array()};
    ctl_load_result res = {0};
    ctl_load_options o = {0};
    o.dry_run = ctl_args_get(a, "dry-run") != NULL;
    const char *batch = ctl_args_get(a, "batch");
    int code;
    int err;
    if (batch != NULL) {
        char *end;
        unsigned long long n = strtoull(batch, &end, 10);
        if (*batch == '\0' || *batch == '-' || *end != '\0' || n == 0) {
            ctl_report_error(a->json, "load", ROSTER_E_INVALID_ARGUMENT,
                             "--batch takes a positive number of lines", NULL);
            code = CTL_EXIT_USAGE;
            goto done;
        }
        o.batch = n;
    }
    err = ctl_datadir_open(&s, a->data, false, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "load", err, d.message, NULL);
        code = ctl_exit_code(err);
        goto done;
    }
    err = ctl_load_run(&res, stdin, s, &o, report_line, &rc, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "load", err, d.message, a->json ? rc.errors : NULL);
        code = ctl_exit_code(err);
        goto done;
    }
    if (res.bad_lines > 0) {
        char msg[300];
        if (res.committed_lines == 0)
            snprintf(msg, sizeof msg, "%llu bad line(s); nothing was written",
                     (unsigned long long)res.bad_lines);
        else
            snprintf(msg, sizeof msg,
                     "%llu bad line(s); lines 1-%llu were committed (%llu tenant(s), %llu "
                     "user(s)), nothing after line %llu was written",
                     (unsigned long long)res.bad_lines, (unsigned long long)res.committed_lines,
                     (unsigned long long)res.committed_tenants,
                     (unsigned long long)res.committed_users,
                     (unsigned long long)res.committed_lines);
        ctl_report_error(a->json, "load", ROSTER_E_INVALID_ARGUMENT, msg,
                         a->json ? rc.errors : NULL);
        code = CTL_EXIT_INVALID;
        goto done;
    }
    if (a->json) {
        json_t *j = json_pack("{s:I, s:I, s:b}", "tenants", (json_int_t)res.tenants, "users",
                              (json_int_t)res.users, "dryRun", o.dry_run);
        ctl_print_json(stdout, j);
        json_decref(j);
    } else {
        printf("%s %llu tenant(s) and %llu user(s)%s\n", o.dry_run ? "checked" : "loaded",
               (unsigned long long)res.tenants, (unsigned long long)res.users,
               o.dry_run ? " (dry run, nothing written)" : "");
    }
    code = CTL_EXIT_OK;
done:
    store_close(s);
    json_decref(rc.errors);
    return code;
}
