#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "roster.pb-c.h"

#define TTL_NS ((int64_t)GW_AUTH_TTL_MS * 1000000)

/* A token's entry has the all-zero id: the hash of the whole token is
 * its identity, and its claims are read only on a miss. */
typedef struct cache_entry {
    roster_uuid id;
    roster_uuid env; /* a token's environment id */
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    int64_t verified_ns; /* 0: empty */
    bool admin;
} cache_entry;

struct gw_auth {
    gw_upstream *up;
    pthread_mutex_t mu;
    cache_entry sets[GW_AUTH_SETS][GW_AUTH_WAYS];
};

/* One GetKey in flight. */
typedef struct auth_call {
    gw_auth *auth;
    roster_uuid id; /* the cache entry's id */
    roster_uuid env;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    gw_auth_cb cb;
    void *ud;
} auth_call;

int gw_key_read_claims(gw_key *k, roster_err_detail *detail)
{
    roster_jwt_claims c;
    if (roster_jwt_decode(&c, k->text, strlen(k->text), NULL) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "malformed",
                           "the bearer credential is not a well-formed access token");
    k->id = c.key_id;
    k->env = c.env;
    return ROSTER_E_OK;
}

int gw_key_from_header(gw_key *out, const char *authorization, roster_err_detail *detail)
{
    if (authorization == NULL)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "missing",
                           "an API key is required: send Authorization: Bearer <key>");
    const char *p = authorization;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "scheme",
                           "the Authorization scheme must be Bearer with an API key");
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t len = strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    gw_key k;
    memset(&k, 0, sizeof k);
    if (roster_jwt_shaped(p, len)) {
        /* Only hashed here: the claims are read when the cache misses. */
        k.token = true;
        if (roster_sha256(k.hash, p, len) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INTERNAL, "malformed", "cannot hash the token");
    } else if (len != ROSTER_APIKEY_TEXT_LEN ||
               roster_apikey_parse(&k.id, k.hash, p, len) != ROSTER_E_OK) {
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "malformed",
                           "the bearer credential is not a well-formed API key");
    }
    memcpy(k.text, p, len);
    k.text[len] = '\0';
    *out = k;
    roster_secure_wipe(&k, sizeof k);
    return ROSTER_E_OK;
}

const char *gw_key_header(const gw_req *r)
{
    const char *roq = gw_req_header(r, "roq-platform-authorization");
    return roq != NULL ? roq : gw_req_header(r, "Authorization");
}

int gw_key_check_basic(const gw_key *key, const char *basic, roster_err_detail *detail)
{
    if (basic == NULL || !key->token)
        return ROSTER_E_OK;
    while (*basic == ' ')
        basic++;
    uint8_t raw[512];
    size_t len = strlen(basic);
    int n = -1;
    if (len > 6 && strncasecmp(basic, "Basic ", 6) == 0 && len - 6 < sizeof raw * 4 / 3)
        n = EVP_DecodeBlock(raw, (const unsigned char *)basic + 6, (int)(len - 6));
    const uint8_t *colon = n > 0 ? memchr(raw, ':', (size_t)n) : NULL;
    roster_uuid id;
    int err = ROSTER_E_OK;
    if (colon == NULL)
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "basic",
                          "roq-platform-server-authorization must be Basic "
                          "base64(environmentId:apiKey)");
    else if (roster_uuid_parse(&id, (const char *)raw, (size_t)(colon - raw)) != ROSTER_E_OK ||
             !roster_uuid_eq(&id, &key->env))
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "environment",
                          "the environment id in roq-platform-server-authorization is not the "
                          "token's");
    roster_secure_wipe(raw, sizeof raw);
    return err;
}

void gw_key_wipe(gw_key *k)
{
    roster_secure_wipe(k, k ? sizeof *k : 0);
}

int gw_auth_new(gw_auth **out, gw_upstream *up)
{
    gw_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return ROSTER_E_NOMEM;
    a->up = up;
    pthread_mutex_init(&a->mu, NULL);
    *out = a;
    return ROSTER_E_OK;
}

void gw_auth_free(gw_auth *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    roster_secure_wipe(a->sets, sizeof a->sets);
    free(a);
}

/* The set of a key: the secret's hash is uniformly distributed. */
static cache_entry *set_of(gw_auth *a, const uint8_t hash[ROSTER_APIKEY_HASH_LEN])
{
    uint32_t h = (uint32_t)hash[0] | (uint32_t)hash[1] << 8 | (uint32_t)hash[2] << 16;
    return a->sets[h % GW_AUTH_SETS];
}

static bool entry_is(const cache_entry *e, const roster_uuid *id,
                     const uint8_t hash[ROSTER_APIKEY_HASH_LEN])
{
    return e->verified_ns != 0 && roster_uuid_eq(&e->id, id) &&
           roster_apikey_hash_eq(e->hash, hash);
}

/* Looks the key up; 1 with *admin and *env when it was verified within
 * the TTL. */
static int cache_get(bool *admin, roster_uuid *env, gw_auth *a, const roster_uuid *id,
                     const uint8_t hash[ROSTER_APIKEY_HASH_LEN], int64_t now)
{
    int hit = 0;
    pthread_mutex_lock(&a->mu);
    cache_entry *set = set_of(a, hash);
    for (int i = 0; i < GW_AUTH_WAYS; i++) {
        if (entry_is(&set[i], id, hash) && now - set[i].verified_ns < TTL_NS) {
            *admin = set[i].admin;
            *env = set[i].env;
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

/* Remembers a verified key (valid = true) in its entry, an empty one or
 * the oldest of its set; forgets it (valid = false). */
static void cache_put(gw_auth *a, const roster_uuid *id, const roster_uuid *env,
                      const uint8_t hash[ROSTER_APIKEY_HASH_LEN], bool valid, bool admin,
                      int64_t now)
{
    pthread_mutex_lock(&a->mu);
    cache_entry *set = set_of(a, hash);
    cache_entry *slot = NULL;
    for (int i = 0; i < GW_AUTH_WAYS; i++) {
        if (entry_is(&set[i], id, hash)) {
            slot = &set[i];
            break;
        }
    }
    if (!valid) {
        if (slot != NULL)
            roster_secure_wipe(slot, sizeof *slot);
        pthread_mutex_unlock(&a->mu);
        return;
    }
    for (int i = 0; slot == NULL && i < GW_AUTH_WAYS; i++)
        if (set[i].verified_ns == 0)
            slot = &set[i];
    if (slot == NULL) {
        slot = &set[0];
        for (int i = 1; i < GW_AUTH_WAYS; i++)
            if (set[i].verified_ns < slot->verified_ns)
                slot = &set[i];
    }
    slot->id = *id;
    slot->env = *env;
    memcpy(slot->hash, hash, ROSTER_APIKEY_HASH_LEN);
    slot->verified_ns = now;
    slot->admin = admin;
    pthread_mutex_unlock(&a->mu);
}

static void get_key_done(const gw_rpc_reply *reply, void *ud)
{
    auth_call *c = ud;
    int err;
    bool admin = false;
    switch (reply->status) {
    case ROSTER_STATUS_OK:
        admin = true;
        err = ROSTER_E_OK;
        break;
    case ROSTER_STATUS_PERMISSION_DENIED:
        err = ROSTER_E_OK;
        break;
    case ROSTER_STATUS_UNAUTHENTICATED:
        err = ROSTER_E_UNAUTHENTICATED;
        break;
    case ROSTER_STATUS_UNAVAILABLE:
    case ROSTER_STATUS_RESOURCE_EXHAUSTED:
        err = ROSTER_E_UNAVAILABLE;
        break;
    case ROSTER_STATUS_DEADLINE_EXCEEDED:
        err = ROSTER_E_DEADLINE_EXCEEDED;
        break;
    default:
        err = ROSTER_E_INTERNAL;
    }
    if (err == ROSTER_E_OK || err == ROSTER_E_UNAUTHENTICATED)
        cache_put(c->auth, &c->id, &c->env, c->hash, err == ROSTER_E_OK, admin, roster_mono_ns());
    gw_metrics_auth(err == ROSTER_E_OK                ? GW_AUTH_VERIFIED
                    : err == ROSTER_E_UNAUTHENTICATED ? GW_AUTH_REJECTED
                                                      : GW_AUTH_ERROR);
    gw_auth_cb cb = c->cb;
    void *cud = c->ud;
    roster_secure_wipe(c, sizeof *c);
    free(c);
    cb(err, admin, reply->message, cud);
}

void gw_auth_check(gw_auth *a, gw_key *key, int64_t deadline_ns, gw_auth_cb cb, void *ud)
{
    bool admin = false;
    roster_uuid entry_id = {{0}}, env = {{0}};
    if (!key->token)
        entry_id = key->id;
    if (cache_get(&admin, &env, a, &entry_id, key->hash, roster_mono_ns())) {
        key->env = env;
        gw_metrics_auth(GW_AUTH_CACHE_HIT);
        cb(ROSTER_E_OK, admin, "", ud);
        return;
    }
    roster_err_detail d = {{0}};
    if (key->token && gw_key_read_claims(key, &d) != ROSTER_E_OK) {
        gw_metrics_auth(GW_AUTH_REJECTED);
        cb(ROSTER_E_UNAUTHENTICATED, false, d.message, ud);
        return;
    }
    auth_call *c = malloc(sizeof *c);
    if (c == NULL) {
        gw_metrics_auth(GW_AUTH_ERROR);
        cb(ROSTER_E_UNAVAILABLE, false, "out of memory", ud);
        return;
    }
    c->auth = a;
    c->id = entry_id;
    c->env = key->env;
    memcpy(c->hash, key->hash, sizeof c->hash);
    c->cb = cb;
    c->ud = ud;
    char id[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id, &key->id);
    Roster__V1__GetKeyRequest req = ROSTER__V1__GET_KEY_REQUEST__INIT;
    req.id = id;
    gw_upstream_call(a->up, RPC_GET_KEY, &req.base, deadline_ns, key->text, get_key_done, c);
}

void gw_auth_log_failure(const char *reason, const gw_key *key, const char *uri, const char *peer,
                         const char *message)
{
    char path[256];
    size_t n = 0;
    if (uri != NULL)
        while (uri[n] != '\0' && uri[n] != '?' && n < sizeof path - 1) {
            path[n] = uri[n];
            n++;
        }
    path[n] = '\0';
    char qp[300], qm[600], qa[100];
    char id[ROSTER_UUID_TEXT_LEN + 1] = "-";
    if (key != NULL)
        roster_uuid_format(id, &key->id);
    roster_log(ROSTER_LOG_WARN, "auth_failed", "reason=%s key_id=%s path=%s%s%s peer=%s", reason,
               id, roster_log_quote(qp, sizeof qp, path), message && message[0] ? " message=" : "",
               message && message[0] ? roster_log_quote(qm, sizeof qm, message) : "",
               roster_log_quote(qa, sizeof qa, peer != NULL ? peer : "-"));
}
