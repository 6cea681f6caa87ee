#include "keys.h"

#include "apikey.h"
#include "clock.h"
#include "datadir.h"
#include "keyfile.h"
#include "live.h"
#include "output.h"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const list_columns[] = {
    "id", "name", "role", "tenantId", "status", "createdAt", "expiresAt", "lastUsedAt", NULL};

/* The warning that follows a printed secret. */
#define SECRET_WARNING                                                                             \
    "the secret is shown only this once and cannot be recovered (only its hash is stored): "       \
    "keep it now, for example in a file with mode 0600"

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

/* ------------------------------------------------------------ option values */

int ctl_parse_duration(int64_t *out_s, const char *name, const char *text, roster_err_detail *d)
{
    static const int64_t max_s = 10LL * 366 * 24 * 3600;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    int64_t unit = 1;
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 24 * 3600;
        break;
    case 'w':
        unit = 7 * 24 * 3600;
        break;
    default:
        unit = 0;
        break;
    }
    if (text[0] < '0' || text[0] > '9' || errno != 0 || unit == 0 ||
        (*end != '\0' && end[1] != '\0') || v > max_s / unit)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name,
                           "--%s takes a duration such as 30d, 12h, 90m or 3600s (at most ten "
                           "years), not '%s'",
                           name, text);
    *out_s = (int64_t)v * unit;
    return ROSTER_E_OK;
}

int ctl_parse_when(int64_t *out_ms, const char *name, const char *text, int64_t now_ms,
                   roster_err_detail *d)
{
    int64_t ms;
    int64_t s;
    if (roster_time_parse_iso(&ms, text, strlen(text)) == ROSTER_E_OK) {
        *out_ms = ms;
        return ROSTER_E_OK;
    }
    if (ctl_parse_duration(&s, name, text, NULL) != ROSTER_E_OK)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, name,
                           "--%s takes an ISO-8601 time (2027-01-31T00:00:00Z) or a duration "
                           "from now (30d, 12h, 90m, 3600s), not '%s'",
                           name, text);
    *out_ms = now_ms + s * 1000;
    return ROSTER_E_OK;
}

/* Roles by the names of the proto enum (ROLE_ADMIN -> "admin"). */
#define ROLE_PREFIX     "ROLE_"
#define ROLE_PREFIX_LEN 5

static const char *role_name(char *buf, size_t cap, int role)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&roster__v1__role__descriptor, role);
    if (v == NULL || role == ROSTER__V1__ROLE__ROLE_UNSPECIFIED ||
        strncmp(v->name, ROLE_PREFIX, ROLE_PREFIX_LEN) != 0)
        return NULL;
    size_t n = 0;
    for (const char *p = v->name + ROLE_PREFIX_LEN; *p && n + 1 < cap; p++)
        buf[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    buf[n] = '\0';
    return buf;
}

static int parse_role(Roster__V1__Role *out, const char *text, roster_err_detail *d)
{
    const ProtobufCEnumDescriptor *e = &roster__v1__role__descriptor;
    char names[128] = "";
    size_t n = 0;
    for (unsigned i = 0; i < e->n_values; i++) {
        const ProtobufCEnumValue *v = &e->values[i];
        char buf[32];
        if (role_name(buf, sizeof buf, v->value) == NULL)
            continue;
        if (strcasecmp(buf, text) == 0) {
            *out = (Roster__V1__Role)v->value;
            return ROSTER_E_OK;
        }
        if (n < sizeof names)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? "|" : "", buf);
    }
    return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "role", "--role takes %s, not '%s'", names,
                       text);
}

/* ------------------------------------------------------------ output */

static json_t *date_json(bool has, int64_t ms)
{
    char buf[32];
    if (!has || roster_time_format_iso(buf, sizeof buf, ms) == 0)
        return json_null();
    return json_string(buf);
}

static json_t *str_json(const char *s)
{
    json_t *v = s != NULL ? json_string(s) : NULL;
    return v != NULL ? v : json_null();
}

/* A key as JSON, every field present (null when unset), and its status at
 * `now`: active, expired or revoked. Returns NULL when out of memory. */
static json_t *key_json(const Roster__V1__ApiKey *k, int64_t now)
{
    char role[32];
    const char *status = k->has_revoked_at                           ? "revoked"
                         : k->has_expires_at && k->expires_at <= now ? "expired"
                                                                     : "active";
    const char *r = k->has_role ? role_name(role, sizeof role, k->role) : NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "id", str_json(k->id));
    bad |= json_object_set_new(o, "name", str_json(k->name));
    bad |= json_object_set_new(o, "role", str_json(r));
    bad |= json_object_set_new(o, "tenantId", str_json(k->tenant_id));
    bad |= json_object_set_new(o, "status", json_string(status));
    bad |= json_object_set_new(o, "createdAt", date_json(k->has_created_at, k->created_at));
    bad |= json_object_set_new(o, "expiresAt", date_json(k->has_expires_at, k->expires_at));
    bad |= json_object_set_new(o, "revokedAt", date_json(k->has_revoked_at, k->revoked_at));
    bad |= json_object_set_new(o, "lastUsedAt", date_json(k->has_last_used_at, k->last_used_at));
    bad |= json_object_set_new(o, "rotatedAt", date_json(k->has_rotated_at, k->rotated_at));
    bad |= json_object_set_new(o, "previousValidUntil",
                               date_json(k->has_previous_valid_until, k->previous_valid_until));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_key(const ctl_args *a, const ProtobufCMessage *m)
{
    json_t *o = key_json((const Roster__V1__ApiKey *)m, roster_now_ms());
    return ctl_print_record(a, o);
}

static int print_list(const ctl_args *a, const ProtobufCMessage *m)
{
    const Roster__V1__ListKeysResponse *r = (const Roster__V1__ListKeysResponse *)m;
    int64_t now = roster_now_ms();
    json_t *data = json_array();
    for (size_t i = 0; data != NULL && i < r->n_keys; i++) {
        json_t *k = key_json(r->keys[i], now);
        if (k == NULL || json_array_append_new(data, k) != 0) {
            json_decref(data);
            data = NULL;
        }
    }
    if (data == NULL)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    ctl_print_page(a->json, data, (int64_t)r->n_keys, 0, "keys", list_columns);
    json_decref(data);
    return CTL_EXIT_OK;
}

/* Key text is printed raw inside JSON, so it must need no escaping: the
 * key alphabet (prefix, hex, "_", base64url) only. */
static bool secret_ok(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return n > 0 && n <= ROSTER_KEYFILE_MAX;
}

/* Prints a new secret once: with --json {"key":{...},"secret":"rstr_..."},
 * otherwise the key's fields and a "secret" line; then the warning on
 * stderr. The secret is written straight from the reply, never copied
 * into a JSON value (which could not be wiped). */
static int print_secret(const ctl_args *a, const ProtobufCMessage *m)
{
    const Roster__V1__KeySecret *ks = (const Roster__V1__KeySecret *)m;
    json_t *o = NULL;
    char *text = NULL;
    int code = CTL_EXIT_OK;
    if (ks->key == NULL || ks->secret == NULL || !secret_ok(ks->secret)) {
        ctl_report_error(a->json, a->cmd->words, ROSTER_E_PROTOCOL,
                         "the reply holds no well-formed key secret", NULL);
        return ctl_exit_code(ROSTER_E_PROTOCOL);
    }
    o = key_json(ks->key, roster_now_ms());
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL) {
        code = ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        goto fail;
    }
    if (a->json) {
        printf("{\"key\":%s,\"secret\":\"%s\"}\n", text, ks->secret);
    } else {
        ctl_print_object(stdout, o);
        printf("%-*s  %s\n", (int)strlen("previousValidUntil"), "secret", ks->secret);
    }
    fflush(stdout);
    if (a->json) {
        json_t *w = json_pack("{s:s, s:s}", "warning", SECRET_WARNING, "command", a->cmd->words);
        if (w != NULL)
            ctl_print_json(stderr, w);
        json_decref(w);
    } else {
        fprintf(stderr, "rosterctl: %s: %s\n", a->cmd->words, SECRET_WARNING);
    }
fail:
    free(text);
    json_decref(o);
    return code;
}

/* ------------------------------------------------------------ running */

/* A command's call on the data directory through the store's key API.
 * *out lives in `arena`. */
static int offline_call(ProtobufCMessage **out, const ctl_args *a, rpc_method_id method,
                        const ProtobufCMessage *req, roster_arena *arena, roster_err_detail *d)
{
    bool writes = method != RPC_GET_KEY && method != RPC_LIST_KEYS;
    store *s = NULL;
    store_rtxn *r = NULL;
    store_wtxn *w = NULL;
    int err = ctl_datadir_open(&s, ctl_store_location(a), !writes, d);
    if (err != ROSTER_E_OK)
        goto fail;
    err = writes ? store_write_begin(s, &w) : store_read_begin(s, &r);
    if (err != ROSTER_E_OK)
        goto fail;
    switch (method) {
    case RPC_CREATE_KEY:
        err = store_key_create(w, (const Roster__V1__CreateKeyRequest *)req, arena,
                               (Roster__V1__KeySecret **)out, d);
        break;
    case RPC_ROTATE_KEY:
        err = store_key_rotate(w, (const Roster__V1__RotateKeyRequest *)req, arena,
                               (Roster__V1__KeySecret **)out, d);
        break;
    case RPC_REVOKE_KEY:
        err = store_key_revoke(w, (const Roster__V1__RevokeKeyRequest *)req, arena,
                               (Roster__V1__ApiKey **)out, d);
        break;
    case RPC_GET_KEY:
        err = store_key_get(r, (const Roster__V1__GetKeyRequest *)req, arena,
                            (Roster__V1__ApiKey **)out, d);
        break;
    default:
        err = store_key_list(r, (const Roster__V1__ListKeysRequest *)req, arena,
                             (Roster__V1__ListKeysResponse **)out, d);
        break;
    }
    if (err == ROSTER_E_OK && w != NULL) {
        err = store_write_commit(w);
        w = NULL;
    }
fail:
    store_write_abort(w);
    store_read_end(r);
    store_close(s);
    return err;
}

/* Runs one key method live or (--offline) on the data directory, prints
 * its reply with `print`, and wipes a secret the reply held. */
static int run(const ctl_args *a, rpc_method_id method, const ProtobufCMessage *req,
               int (*print)(const ctl_args *, const ProtobufCMessage *))
{
    ctl_live l = {0};
    ProtobufCMessage *reply = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    int err;
    if (ctl_args_get(a, "offline") != NULL) {
        roster_err_detail d = {{0}};
        err = offline_call(&reply, a, method, req, &arena, &d);
        if (err != ROSTER_E_OK) {
            char msg[sizeof d.field + sizeof d.message + 4];
            if (d.field[0] != '\0' && d.message[0] != '\0' && strstr(d.message, d.field) == NULL)
                snprintf(msg, sizeof msg, "%s: %s", d.field, d.message);
            else
                snprintf(msg, sizeof msg, "%s", d.message);
            ctl_report_error(a->json, a->cmd->words, err, msg, NULL);
            code = ctl_exit_code(err);
            goto fail;
        }
    } else {
        if (ctl_live_exchange(&reply, &code, &l, a, method, req, &arena) != ROSTER_E_OK)
            goto fail;
    }
    code = print(a, reply);
fail:
    if (reply != NULL && (method == RPC_CREATE_KEY || method == RPC_ROTATE_KEY)) {
        Roster__V1__KeySecret *ks = (Roster__V1__KeySecret *)reply;
        if (ks->secret != NULL)
            roster_secure_wipe(ks->secret, strlen(ks->secret));
    }
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}

/* ------------------------------------------------------------ commands */

int ctl_cmd_keys_create(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    const char *name = ctl_args_get(a, "name");
    const char *role = ctl_args_get(a, "role");
    const char *expires = ctl_args_get(a, "expires");
    if (name == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "name", "--name is required");
        return usage(a, &d);
    }
    if (role == NULL) {
        roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "role",
                    "--role is required (admin, writer or reader)");
        return usage(a, &d);
    }
    if (parse_role(&req.role, role, &d) != ROSTER_E_OK)
        return usage(a, &d);
    req.has_role = true;
    req.name = (char *)name;
    req.tenant_id = (char *)ctl_args_get(a, "tenant");
    if (expires != NULL) {
        if (ctl_parse_when(&req.expires_at, "expires", expires, roster_now_ms(), &d) != ROSTER_E_OK)
            return usage(a, &d);
        req.has_expires_at = true;
    }
    return run(a, RPC_CREATE_KEY, &req.base, print_secret);
}

int ctl_cmd_keys_list(const ctl_args *a)
{
    Roster__V1__ListKeysRequest req = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    if (ctl_args_get(a, "all") != NULL) {
        req.has_include_revoked = true;
        req.include_revoked = true;
    }
    return run(a, RPC_LIST_KEYS, &req.base, print_list);
}

int ctl_cmd_keys_show(const ctl_args *a)
{
    Roster__V1__GetKeyRequest req = ROSTER__V1__GET_KEY_REQUEST__INIT;
    req.id = (char *)a->positional;
    return run(a, RPC_GET_KEY, &req.base, print_key);
}

int ctl_cmd_keys_revoke(const ctl_args *a)
{
    Roster__V1__RevokeKeyRequest req = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    req.id = (char *)a->positional;
    return run(a, RPC_REVOKE_KEY, &req.base, print_key);
}

int ctl_cmd_keys_rotate(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    Roster__V1__RotateKeyRequest req = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
    req.id = (char *)a->positional;
    const char *grace = ctl_args_get(a, "grace");
    if (grace != NULL) {
        int64_t s;
        if (ctl_parse_duration(&s, "grace", grace, &d) != ROSTER_E_OK)
            return usage(a, &d);
        req.has_grace_seconds = true;
        req.grace_seconds = (uint32_t)s;
    }
    return run(a, RPC_ROTATE_KEY, &req.base, print_secret);
}
