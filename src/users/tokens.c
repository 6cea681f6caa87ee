#include "tokens.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jwt.h"
#include "log.h"
#include "roster.pb-c.h"
#include "signing.h"
#include "signkeys.h"
#include "tokencache.h"

struct users_tokens {
    store *st;
    roster_uuid env;
    roster_signkeys *keys;
    users_token_cache *verified;
    /* Keys kept by the store (PostgreSQL: shared with other processes):
     * when they were last read (roster_mono_ns), and the lock of the one
     * thread reading them again. */
    bool shared;
    _Atomic int64_t read_ns;
    pthread_mutex_t reload_mu;
};

/* Reads the keys kept by the store again, unless a read that began at or
 * after `since` (roster_mono_ns) has ended meanwhile: one thread reads at
 * a time, and those that waited for it use what it read. A failure is
 * logged and the old keys kept. */
static void keys_reload(users_tokens *t, int64_t since)
{
    pthread_mutex_lock(&t->reload_mu);
    if (atomic_load(&t->read_ns) < since) {
        int64_t began = roster_mono_ns();
        roster_err_detail d = {{0}};
        int err = store_signkeys_reload(t->keys, t->st, roster_now_ms() / 1000, &d);
        atomic_store(&t->read_ns, began);
        if (err != ROSTER_E_OK)
            roster_log(ROSTER_LOG_WARN, "signing_keys_unread", "error=%s reason=\"%s\"",
                       roster_errname(err), d.message);
    }
    pthread_mutex_unlock(&t->reload_mu);
}

/* Before signing or naming the current key: reads the keys again when
 * they are kept by the store and the copy here is STORE_SIGNKEYS_RELOAD_S
 * old, so a rotation by another process is followed within that time. */
static void keys_refresh(users_tokens *t)
{
    int64_t now = roster_mono_ns();
    if (t->shared &&
        now - atomic_load(&t->read_ns) >= (int64_t)STORE_SIGNKEYS_RELOAD_S * 1000000000)
        keys_reload(t, now - (int64_t)STORE_SIGNKEYS_RELOAD_S * 1000000000);
}

int users_tokens_open(users_tokens **out, store *st, const char *data_dir, roster_err_detail *d)
{
    users_tokens *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ROSTER_E_NOMEM;
    t->st = st;
    t->shared = store_signkeys_shared(st);
    atomic_store(&t->read_ns, roster_mono_ns());
    pthread_mutex_init(&t->reload_mu, NULL);
    store_rtxn *rx = NULL;
    int err = store_read_begin(st, &rx);
    if (err == ROSTER_E_OK) {
        err = store_environment_id(rx, &t->env);
        store_read_end(rx);
    }
    if (err != ROSTER_E_OK)
        roster_fail(d, err, "data", "cannot read the environment id: %s", roster_strerror(err));
    else
        err = store_signkeys_open(&t->keys, st, data_dir, true, roster_now_ms() / 1000, d);
    if (err == ROSTER_E_OK)
        err = users_token_cache_new(&t->verified);
    if (err != ROSTER_E_OK) {
        users_tokens_free(t);
        return err;
    }
    *out = t;
    return ROSTER_E_OK;
}

void users_tokens_free(users_tokens *t)
{
    if (t == NULL)
        return;
    roster_signkeys_free(t->keys);
    users_token_cache_free(t->verified);
    pthread_mutex_destroy(&t->reload_mu);
    free(t);
}

bool users_tokens_is_token(const char *cred, size_t len)
{
    return roster_jwt_shaped(cred, len);
}

int users_tokens_authenticate(store_principal *p, users_token_who *who, users_tokens *t,
                              store_rtxn *rx, const char *text, size_t len, int64_t now_ms,
                              roster_err_detail *why)
{
    roster_jwt_claims c;
    int64_t now_s = now_ms / 1000;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    int err = roster_sha256(hash, text, len);
    if (err == ROSTER_E_OK && !users_token_cache_get(&c, t->verified, hash, now_s)) {
        err = roster_jwt_decode(&c, text, len, why);
        /* A key this process does not hold may be another's newer one:
         * read the keys (as an unknown API key costs a read of the keys
         * table, an unknown signing key costs a read of the few rows of
         * signing keys; concurrent misses share one read). */
        if (err == ROSTER_E_OK && t->shared && !roster_signkeys_knows(t->keys, c.kid, now_s))
            keys_reload(t, roster_mono_ns());
        if (err == ROSTER_E_OK)
            err = roster_signkeys_check(t->keys, text, len, &c, now_s, why);
        if (err == ROSTER_E_OK)
            users_token_cache_put(t->verified, hash, &c);
    }
    if (err != ROSTER_E_OK)
        return err;
    if (!roster_uuid_eq(&c.env, &t->env))
        return roster_fail(why, ROSTER_E_UNAUTHENTICATED, "credential",
                           "token of another environment");
    if (c.exp * 1000 <= now_ms)
        return roster_fail(why, ROSTER_E_UNAUTHENTICATED, "credential", "token expired");
    store_principal k;
    if ((err = store_key_principal(rx, &c.key_id, now_ms, &k, why)) != ROSTER_E_OK)
        return err;
    users_token_who w = {.user = c.is_user, .user_id = c.user};
    if (c.is_user) {
        /* A token acting for a user stops with its user: once the user is
         * deleted its tokens are refused from the next call. */
        char uid[ROSTER_UUID_TEXT_LEN + 1];
        const void *rec;
        size_t rec_len;
        roster_uuid_format(uid, &c.user);
        err = store_user_get_raw(rx, NULL, uid, &rec, &rec_len);
        if (err == ROSTER_E_NOT_FOUND)
            return roster_fail(why, ROSTER_E_UNAUTHENTICATED, "credential",
                               "the token's user does not exist");
        if (err != ROSTER_E_OK)
            return err;
        /* A user token keeps its user's tenant as scope, within its key's. */
        if (k.has_tenant && !(c.has_tenant && roster_uuid_eq(&c.tenant, &k.tenant)))
            return roster_fail(why, ROSTER_E_UNAUTHENTICATED, "credential",
                               "user token outside its key's tenant");
        w.has_tenant = c.has_tenant;
        w.tenant = c.tenant;
    }
    *p = k;
    *who = w;
    return ROSTER_E_OK;
}

static bool is_id(const char *text, const roster_uuid *id)
{
    roster_uuid u;
    return text != NULL && roster_uuid_parse(&u, text, strlen(text)) == ROSTER_E_OK &&
           roster_uuid_eq(&u, id);
}

static bool all_ids(char **ids, size_t n, bool has, const roster_uuid *id)
{
    for (size_t i = 0; i < n; i++)
        if (!has || !is_id(ids[i], id))
            return false;
    return true;
}

/* The fields a user token may set or clear: the profile. */
static const char *update_refused(const Roster__V1__UpdateUserRequest *r)
{
    if (r->email != NULL)
        return "email";
    if (r->has_is_opted_in)
        return "isOptedIn";
    if (r->has_active)
        return "active";
    if (r->has_two_factor_enabled)
        return "twoFactorEnabled";
    if (r->tenant_id != NULL)
        return "tenantId";
    if (r->custom_data != NULL)
        return "customData";
    for (size_t i = 0; i < r->n_clear; i++)
        switch (r->clear[i]) {
        case ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME:
        case ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME:
        case ROSTER__V1__USER_FIELD__USER_FIELD_PHONE:
        case ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE:
        case ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE:
        case ROSTER__V1__USER_FIELD__USER_FIELD_AVATAR_URL:
            break;
        default:
            return "clear";
        }
    return NULL;
}

int users_tokens_user_allows(const users_token_who *who, const rpc_method *m,
                             const ProtobufCMessage *req, roster_err_detail *d)
{
    bool ok = false;
    const char *field = NULL;
    switch (m->id) {
    case RPC_GET_USER:
        ok = is_id(((const Roster__V1__GetUserRequest *)req)->id, &who->user_id);
        break;
    case RPC_BATCH_GET_USERS: {
        const Roster__V1__BatchGetUsersRequest *r = (const void *)req;
        ok = all_ids(r->ids, r->n_ids, true, &who->user_id);
        break;
    }
    case RPC_GET_TENANT:
        ok =
            who->has_tenant && is_id(((const Roster__V1__GetTenantRequest *)req)->id, &who->tenant);
        break;
    case RPC_BATCH_GET_TENANTS: {
        const Roster__V1__BatchGetTenantsRequest *r = (const void *)req;
        ok = all_ids(r->ids, r->n_ids, who->has_tenant, &who->tenant);
        break;
    }
    case RPC_UPDATE_USER: {
        const Roster__V1__UpdateUserRequest *r = (const void *)req;
        ok = is_id(r->id, &who->user_id) && (field = update_refused(r)) == NULL;
        if (field != NULL)
            return roster_fail(d, ROSTER_E_PERMISSION_DENIED, field,
                               "a user token may change only firstName, lastName, phone, "
                               "locale, timezone and avatarUrl; not %s",
                               field);
        break;
    }
    default:
        break;
    }
    if (ok)
        return ROSTER_E_OK;
    return roster_fail(d, ROSTER_E_PERMISSION_DENIED, "",
                       "a user token may read only its own user and tenant and update its own "
                       "profile; %s is not allowed here",
                       m->short_name);
}

bool users_tokens_serves(const rpc_method *m)
{
    return m->id == RPC_ISSUE_SERVICE_TOKEN || m->id == RPC_ISSUE_USER_TOKEN ||
           m->id == RPC_GET_ENVIRONMENT || m->id == RPC_ROTATE_SIGNING_KEY;
}

static int env_check(const users_tokens *t, rpc_call *call, const users_token_caller *who,
                     const char *env, roster_err_detail *d)
{
    if (env == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "environmentId",
                           "environmentId is required");
    if (!is_id(env, &t->env)) {
        char peer[RPC_PEER_TEXT_LEN], key_id[ROSTER_UUID_TEXT_LEN + 1];
        roster_uuid_format(key_id, &who->key.key_id);
        roster_log(ROSTER_LOG_WARN, "auth_failed",
                   "reason=\"wrong environment id\" key_id=%s peer=%s method=%s", key_id,
                   rpc_call_peer(peer, call), rpc_call_method(call)->short_name);
        return roster_fail(d, ROSTER_E_UNAUTHENTICATED, "environmentId",
                           "environmentId is not this deployment's");
    }
    return ROSTER_E_OK;
}

/* Signs `c` and answers the call with the token. */
static int reply_token(users_tokens *t, rpc_call *call, roster_jwt_claims *c)
{
    roster_arena *a = rpc_call_arena(call);
    char *text = roster_arena_alloc(a, ROSTER_JWT_MAX_LEN + 1);
    char *kid = roster_arena_alloc(a, ROSTER_JWT_KID_LEN + 1);
    size_t len = 0;
    if (text == NULL || kid == NULL)
        return ROSTER_E_NOMEM;
    keys_refresh(t);
    int err = roster_signkeys_sign(text, &len, t->keys, c);
    if (err != ROSTER_E_OK)
        return err;
    memcpy(kid, c->kid, ROSTER_JWT_KID_LEN + 1);
    Roster__V1__AccessToken at = ROSTER__V1__ACCESS_TOKEN__INIT;
    at.access_token = text;
    at.has_expires_at = 1;
    at.expires_at = c->exp * 1000;
    at.signing_key_id = kid;
    rpc_call_reply_message(call, &at.base);
    char key_id[ROSTER_UUID_TEXT_LEN + 1], user[ROSTER_UUID_TEXT_LEN + 1] = "-";
    roster_uuid_format(key_id, &c->key_id);
    if (c->is_user)
        roster_uuid_format(user, &c->user);
    roster_log(ROSTER_LOG_INFO, "token_issued", "key_id=%s kind=%s user_id=%s kid=%s exp=%lld",
               key_id, c->is_user ? "user" : "service", user, kid, (long long)c->exp);
    return ROSTER_E_OK;
}

static int issue_user(users_tokens *t, rpc_call *call, const users_token_caller *who,
                      roster_jwt_claims *c, roster_err_detail *d)
{
    const Roster__V1__IssueUserTokenRequest *r = (const void *)rpc_call_request(call);
    int64_t ttl = r->has_expires_in_seconds ? r->expires_in_seconds : USERS_USER_TOKEN_TTL_S;
    if (ttl < 1 || ttl > ROSTER_JWT_MAX_LIFETIME_S)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "expiresIn",
                           "expiresIn must be 1..%d seconds", ROSTER_JWT_MAX_LIFETIME_S);
    if (r->user_id == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "userId", "userId is required");
    store_rtxn *rx = NULL;
    int err = store_read_begin(t->st, &rx);
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__GetUserRequest q = ROSTER__V1__GET_USER_REQUEST__INIT;
    q.id = r->user_id;
    Roster__V1__User *u = NULL;
    err = store_user_get(rx, who->scope, &q, rpc_call_arena(call), &u, d);
    if (err == ROSTER_E_OK) {
        roster_uuid_parse(&c->user, u->id, strlen(u->id));
        c->has_tenant =
            u->tenant_id != NULL &&
            roster_uuid_parse(&c->tenant, u->tenant_id, strlen(u->tenant_id)) == ROSTER_E_OK;
    } else if (err == ROSTER_E_NOT_FOUND || err == ROSTER_E_INVALID_ARGUMENT) {
        roster_fail(d, err, "userId", "no user with id %.40s", r->user_id);
    }
    store_read_end(rx);
    if (err != ROSTER_E_OK)
        return err;
    c->is_user = true;
    c->exp = c->iat + ttl;
    return reply_token(t, call, c);
}

static int environment_reply(users_tokens *t, rpc_call *call)
{
    roster_arena *a = rpc_call_arena(call);
    char *id = roster_arena_alloc(a, ROSTER_UUID_TEXT_LEN + 1);
    char *kid = roster_arena_alloc(a, ROSTER_JWT_KID_LEN + 1);
    if (id == NULL || kid == NULL)
        return ROSTER_E_NOMEM;
    roster_uuid_format(id, &t->env);
    keys_refresh(t);
    roster_signkeys_kid(kid, t->keys);
    Roster__V1__Environment e = ROSTER__V1__ENVIRONMENT__INIT;
    e.id = id;
    e.signing_key_id = kid;
    rpc_call_reply_message(call, &e.base);
    return ROSTER_E_OK;
}

int users_tokens_call(users_tokens *t, rpc_call *call, const users_token_caller *who,
                      roster_err_detail *d)
{
    const rpc_method *m = rpc_call_method(call);
    if (m->id == RPC_GET_ENVIRONMENT)
        return environment_reply(t, call);
    if (m->id == RPC_ROTATE_SIGNING_KEY) {
        char fresh[ROSTER_JWT_KID_LEN + 1], old[ROSTER_JWT_KID_LEN + 1];
        int err = store_signkeys_rotate(t->keys, t->st, roster_now_ms() / 1000, fresh, old, d);
        if (err == ROSTER_E_OK)
            atomic_store(&t->read_ns, roster_mono_ns());
        if (err != ROSTER_E_OK)
            return err;
        roster_log(ROSTER_LOG_INFO, "signing_key_rotated", "kid=%s previous_kid=%s", fresh, old);
        return environment_reply(t, call);
    }
    if (!who->keyed || who->token)
        return roster_fail(d, ROSTER_E_PERMISSION_DENIED, "credential",
                           "%s needs an API key as the credential; a token cannot obtain tokens",
                           m->short_name);
    roster_jwt_claims c;
    memset(&c, 0, sizeof c);
    c.key_id = who->key.key_id;
    c.env = t->env;
    c.iat = roster_now_ms() / 1000;
    if (m->id == RPC_ISSUE_USER_TOKEN) {
        const Roster__V1__IssueUserTokenRequest *r = (const void *)rpc_call_request(call);
        int err = env_check(t, call, who, r->environment_id, d);
        return err ? err : issue_user(t, call, who, &c, d);
    }
    const Roster__V1__IssueServiceTokenRequest *r = (const void *)rpc_call_request(call);
    int err = env_check(t, call, who, r->environment_id, d);
    if (err != ROSTER_E_OK)
        return err;
    snprintf(c.role, sizeof c.role, "%s", store_key_role_name(who->key.role));
    c.has_tenant = who->key.has_tenant;
    c.tenant = who->key.tenant;
    c.exp = c.iat + USERS_SERVICE_TOKEN_TTL_S;
    return reply_token(t, call, &c);
}
