/* Credentials at the gateway: the bearer credential of an HTTP request (an
 * API key or an access token), and a small per-process cache of the
 * credentials roster-users has verified.
 *
 * The gateway decides only whether a key is valid (so that a bad key gets
 * HTTP 401 before anything runs); what the key may do is decided by
 * roster-users on every call, since the key travels with each upstream RPC
 * as the call's credential. A key is verified by asking the service for the
 * key's own record (GetKey with the key's id, sent with the key itself):
 * the service authenticates before it authorizes, so OK (an admin key) and
 * PERMISSION_DENIED (a writer or reader key) both mean "valid", and
 * UNAUTHENTICATED means unknown, wrong secret, expired or revoked.
 *
 * A verified key is remembered for GW_AUTH_TTL_MS; older entries are asked
 * again, so a revoked key stops being accepted within that time (and the
 * service refuses its calls at once anyway). The cache is a fixed-size
 * set-associative table keyed by the key id and the SHA-256 of its secret;
 * it never holds the key text.
 *
 * An access token (a JWT from /v01/authorize/serviceAccount or
 * /v01/authorize) is checked the same way, with GetKey for the id of the
 * key that obtained it, sent with the token: the service checks its
 * signature, expiry and the key's revocation. It is cached under that key
 * id and the SHA-256 of the whole token, so revoking the key stops its
 * tokens at the gateway within GW_AUTH_TTL_MS too. */
#ifndef ROSTER_GW_AUTH_H
#define ROSTER_GW_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "apikey.h"
#include "error.h"
#include "http_server.h"
#include "jwt.h"
#include "upstream.h"

#define GW_AUTH_TTL_MS 1000
/* Entries of the cache: GW_AUTH_SETS sets of GW_AUTH_WAYS keys. */
#define GW_AUTH_SETS 1024
#define GW_AUTH_WAYS 4

typedef struct gw_auth gw_auth;

/* A presented credential: its text (sent upstream as the credential), the
 * key id and the hash of its secret. For a token: the hash of the whole
 * token; the id of the key that obtained it and the environment id are
 * filled by gw_auth_check (from the cache, or from the claims, read but not
 * verified, when it misses). Holds a secret: wipe it with gw_key_wipe. */
typedef struct gw_key {
    char text[ROSTER_JWT_MAX_LEN + 1];
    roster_uuid id;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    bool token;
    roster_uuid env; /* a token's environment id */
} gw_key;

/* Reads the credential from an Authorization header value (`authorization`,
 * borrowed for the call; NULL when the header is absent): "Bearer" (any
 * case), spaces, then a key roster_apikey_parse accepts or a token
 * roster_jwt_decode reads. On success *out holds the credential. Otherwise ROSTER_E_UNAUTHENTICATED
 * with `detail` (may be NULL): field is the reason for logs ("missing", "scheme" or "malformed")
 * and message says what is wrong without repeating the header. */
int gw_key_from_header(gw_key *out, const char *authorization, roster_err_detail *detail);

/* Reads a token's claims (k->text) into k->id and k->env, without
 * verifying them. ROSTER_E_UNAUTHENTICATED ("malformed") when they cannot
 * be read. */
int gw_key_read_claims(gw_key *k, roster_err_detail *detail);

/* The bearer header of `r` (borrowed): roq-platform-authorization, as the
 * ROQ SDK sends it, when present, else Authorization. Borrowed from r;
 * NULL when neither is there. */
const char *gw_key_header(const gw_req *r);

/* Checks a ROQ SDK roq-platform-server-authorization value
 * (`basic`, borrowed; NULL: absent, nothing to check): "Basic" and
 * base64 of "<environment id>:<api key>". When `key` (borrowed, checked by
 * gw_auth_check) is a token the environment id must be the token's. ROSTER_E_OK, or
 * ROSTER_E_UNAUTHENTICATED with `detail` saying what is wrong. */
int gw_key_check_basic(const gw_key *key, const char *basic, roster_err_detail *detail);

/* Wipes every byte of k. Accepts NULL. */
void gw_key_wipe(gw_key *k);

/* A cache asking `up` (borrowed; outlives the result). *out is
 * caller-owned until gw_auth_free. ROSTER_E_OK or ROSTER_E_NOMEM. */
int gw_auth_new(gw_auth **out, gw_upstream *up);

/* Accepts NULL. No check may be outstanding. */
void gw_auth_free(gw_auth *a);

/* The outcome of gw_auth_check. err: ROSTER_E_OK (the key is valid;
 * `admin` says whether GetKey was answered OK), ROSTER_E_UNAUTHENTICATED
 * (not a valid key), ROSTER_E_UNAVAILABLE or ROSTER_E_DEADLINE_EXCEEDED
 * (the service could not say), ROSTER_E_INTERNAL (any other answer).
 * `message` is the service's message for logs (never NULL; "" on a cache
 * hit), borrowed for the duration of the callback. */
typedef void (*gw_auth_cb)(int err, bool admin, const char *message, void *ud);

/* Checks `key` (borrowed for the call; a token's id and env are filled
 * in): from the cache when it was verified less than GW_AUTH_TTL_MS ago
 * (cb runs before this returns), else with a GetKey RPC carrying the key,
 * sent with the deadline deadline_ns (monotonic; cb runs on an nng thread
 * or, when the call cannot be sent, before this returns). A token whose
 * claims cannot be read is refused (UNAUTHENTICATED) without a call. cb
 * is called exactly once. */
void gw_auth_check(gw_auth *a, gw_key *key, int64_t deadline_ns, gw_auth_cb cb, void *ud);

/* Logs a refused credential: event=auth_failed with the reason, the key
 * id when the key was well formed (`key` may be NULL), the request path
 * (`uri` without its query), the service's message when there is one
 * (`message` may be NULL) and, last, the client's address (`peer`,
 * "ip:port"; NULL logs "-"). Never logs the key text. All borrowed for
 * the call. */
void gw_auth_log_failure(const char *reason, const gw_key *key, const char *uri, const char *peer,
                         const char *message);

#endif
