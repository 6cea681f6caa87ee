/* Tokens whose signature roster-users has verified, so that a token used
 * again skips the Ed25519 verification and the parsing of its claims
 * (together far more than the rest of a call; docs/bench/gateway.md).
 *
 * Entries are keyed by the SHA-256 of the whole token text and hold its
 * claims; one is used only while the token has not expired. Nothing else
 * is cached: the caller still checks the environment, the expiry and the
 * issuing key's record on every call, so revocation is not delayed. A
 * signing key that is rotated keeps verifying for longer than any token it
 * signed lives, so a cached token never outlives its key. The table is
 * direct-mapped (a new token replaces the one in its slot) and holds no
 * token text. Safe to use from many threads. */
#ifndef ROSTER_USERS_TOKENCACHE_H
#define ROSTER_USERS_TOKENCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "apikey.h"
#include "jwt.h"

#define USERS_TOKEN_CACHE_SLOTS 4096

typedef struct users_token_cache users_token_cache;

/* *out is caller-owned until users_token_cache_free. ROSTER_E_OK or
 * ROSTER_E_NOMEM. */
int users_token_cache_new(users_token_cache **out);

/* Accepts NULL. */
void users_token_cache_free(users_token_cache *c);

/* The claims of the token whose text hashes to `hash` (borrowed), when it
 * was verified and has not expired at now_s: true with *out written. */
bool users_token_cache_get(roster_jwt_claims *out, users_token_cache *c,
                           const uint8_t hash[ROSTER_APIKEY_HASH_LEN], int64_t now_s);

/* Remembers a verified token's claims (`claims` and `hash` borrowed). */
void users_token_cache_put(users_token_cache *c, const uint8_t hash[ROSTER_APIKEY_HASH_LEN],
                           const roster_jwt_claims *claims);

#endif
