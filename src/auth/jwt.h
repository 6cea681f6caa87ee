/* Roster's access tokens: compact JSON Web Tokens (RFC 7519) signed with
 * Ed25519 (JWS alg "EdDSA", RFC 8037) through OpenSSL's EVP interface.
 *
 * A token stands for the API key that obtained it: its claims name that
 * key ("key"), the deployment ("env", the environment id), the signing
 * key ("kid" in the header), when it was issued and when it expires
 * ("iat", "exp", Unix seconds). A service token acts as its key
 * ("role" is the key's role); a user token ("role": "user") acts for one
 * user ("sub") of one tenant ("tid", absent for a user without one).
 * Claims are informative to holders (the ROQ SDK reads "exp"); the
 * service trusts them only after checking the signature, and still looks
 * the issuing key up on every call. */
#ifndef ROSTER_AUTH_JWT_H
#define ROSTER_AUTH_JWT_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "uuid.h"

/* Longest token text accepted or made, in bytes. */
#define ROSTER_JWT_MAX_LEN 1024
/* A signing key's id: 16 hex digits of the SHA-256 of its public key. */
#define ROSTER_JWT_KID_LEN 16
/* Longest lifetime of any token, in seconds (user tokens: 24 h). */
#define ROSTER_JWT_MAX_LIFETIME_S (24 * 3600)

typedef struct roster_jwt_claims {
    char kid[ROSTER_JWT_KID_LEN + 1]; /* header "kid" */
    roster_uuid key_id;               /* "key": the issuing API key */
    roster_uuid env;                  /* "env": the environment id */
    char role[8];                     /* "admin", "writer", "reader" or "user" */
    bool is_user;                     /* role == "user" */
    roster_uuid user;                 /* "sub" of a user token */
    bool has_tenant;                  /* "tid" present */
    roster_uuid tenant;
    int64_t iat, exp; /* Unix seconds */
} roster_jwt_claims;

/* True when `text` (`len` bytes, borrowed) is shaped like a compact JWS
 * (three base64url parts, the first an object: "eyJ") rather than an API
 * key. Says nothing about its validity. */
bool roster_jwt_shaped(const char *text, size_t len);

/* Writes the token for `c` (borrowed; c->kid names `key`), signed with
 * the Ed25519 private key `key` (borrowed), NUL-terminated, into `out`
 * (caller's buffer of ROSTER_JWT_MAX_LEN + 1 bytes) and its length in
 * *len. ROSTER_E_OK or ROSTER_E_INTERNAL (OpenSSL failed). */
int roster_jwt_sign(char out[ROSTER_JWT_MAX_LEN + 1], size_t *len, const roster_jwt_claims *c,
                    EVP_PKEY *key);

/* Reads the header and claims of `text` (`len` bytes, borrowed for the
 * call) into *out WITHOUT checking the signature: use roster_jwt_verify
 * before trusting them. ROSTER_E_UNAUTHENTICATED, with `detail` (may be
 * NULL) saying what is malformed, when the text is not a token of this
 * shape (alg EdDSA, a kid, the claims above with their types). */
int roster_jwt_decode(roster_jwt_claims *out, const char *text, size_t len,
                      roster_err_detail *detail);

/* Checks the signature of `text` (`len` bytes, borrowed) with the public
 * key `pub` (borrowed). ROSTER_E_OK or ROSTER_E_UNAUTHENTICATED. */
int roster_jwt_verify(const char *text, size_t len, EVP_PKEY *pub);

/* The kid of `key` (borrowed; private or public) into kid (NUL-terminated).
 * ROSTER_E_OK or ROSTER_E_INTERNAL. */
int roster_jwt_kid(char kid[ROSTER_JWT_KID_LEN + 1], EVP_PKEY *key);

#endif
