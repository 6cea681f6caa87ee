/* Access tokens at the service: the environment id and the signing keys
 * (src/auth/signkeys.h: the data directory's, or a PostgreSQL store's,
 * shared by every process on its database: store/signing.h), the token
 * methods
 * (IssueServiceToken, IssueUserToken, GetEnvironment, RotateSigningKey),
 * the checks a token credential passes on every call, and what a user
 * token may do.
 *
 * A token is accepted when its signature verifies with the key its kid
 * names (current, or retired and still verifying), its env is this
 * deployment's, it has not expired, and the API key that obtained it is
 * still known, unrevoked and unexpired (read from the store on every
 * call, so revoking the key stops its tokens from the next call). A
 * service token then acts as that key. A user token is accepted only
 * while its user exists (deleting the user stops its tokens from the next
 * call) and acts for that one user:
 * GetUser and BatchGetUsers of that user, GetTenant and BatchGetTenants of
 * the user's tenant, UpdateUser of that user's profile fields (firstName,
 * lastName, phone, locale, timezone, avatarUrl); anything else is
 * PERMISSION_DENIED. Tokens cannot obtain tokens. */
#ifndef ROSTER_USERS_TOKENS_H
#define ROSTER_USERS_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "rpc_server.h"
#include "store.h"

/* Lifetime of a service token, in seconds. */
#define USERS_SERVICE_TOKEN_TTL_S 900
/* A user token's lifetime when the request names none, in seconds. */
#define USERS_USER_TOKEN_TTL_S 3600

typedef struct users_tokens users_tokens;

/* What a token credential stands for, beyond its key's principal. */
typedef struct users_token_who {
    bool user; /* a user token */
    roster_uuid user_id;
    bool has_tenant; /* the user's tenant, when the user has one */
    roster_uuid tenant;
} users_token_who;

/* The caller of a token method, as the service authenticated it. */
typedef struct users_token_caller {
    bool keyed; /* presented a credential */
    bool token; /* the credential was a token, not an API key */
    store_principal key;
    const roster_uuid *scope; /* the store scope; NULL: every tenant */
} users_token_caller;

/* Reads the environment id of `st` (borrowed; outlives the result) and
 * opens the signing keys of st (store_signkeys_open: data_dir's files,
 * borrowed for the call, or the PostgreSQL database's), generating the
 * first at first start. On PostgreSQL the keys are read again when a
 * token names a key not held (a newer key of another process), and
 * before signing when the copy is STORE_SIGNKEYS_RELOAD_S old, so tokens
 * of every process on the database verify and a rotation by any of them
 * is followed. *out is caller-owned
 * until users_tokens_free. Errors of store_environment_id and
 * store_signkeys_open, with `detail`. */
int users_tokens_open(users_tokens **out, store *st, const char *data_dir,
                      roster_err_detail *detail);

/* Accepts NULL. */
void users_tokens_free(users_tokens *t);

/* True when `cred` (borrowed) is a token rather than an API key. */
bool users_tokens_is_token(const char *cred, size_t len);

/* Checks the token `text` (`len` bytes, borrowed) at now_ms in the read
 * transaction rx (borrowed) and fills *p with its key's principal and *who
 * with what it stands for. ROSTER_E_UNAUTHENTICATED with `why` giving the
 * reason for the audit log; the store's errors otherwise. */
int users_tokens_authenticate(store_principal *p, users_token_who *who, users_tokens *t,
                              store_rtxn *rx, const char *text, size_t len, int64_t now_ms,
                              roster_err_detail *why);

/* ROSTER_E_OK when a user token `who` (borrowed) may call `m` with `req`
 * (both borrowed); ROSTER_E_PERMISSION_DENIED with `detail` otherwise. */
int users_tokens_user_allows(const users_token_who *who, const rpc_method *m,
                             const ProtobufCMessage *req, roster_err_detail *detail);

/* True for the methods users_tokens_call answers. */
bool users_tokens_serves(const rpc_method *m);

/* Answers one token method for `caller` (borrowed for the call).
 * ROSTER_E_OK once the call has been answered; otherwise the error to
 * answer with, `detail` filled. */
int users_tokens_call(users_tokens *t, rpc_call *call, const users_token_caller *caller,
                      roster_err_detail *detail);

#endif
