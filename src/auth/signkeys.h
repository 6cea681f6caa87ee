/* The keys that sign and verify access tokens, kept in the data
 * directory:
 *
 *   <data>/signing/current.pem               Ed25519 private key (mode 0600)
 *   <data>/signing/retired-<kid>-<until>.pem a previous public key, which
 *                                            verifies until Unix second <until>
 *
 * The current key is generated at first open. Rotation makes a new current
 * key and keeps the old public key until every token it signed has expired
 * (rotation time + ROSTER_JWT_MAX_LIFETIME_S). A private key file that group
 * or others may read is refused, like the service's TLS key. The set is
 * safe to use from many threads; rotation takes a write lock.
 *
 * A set may also be built from PEM text (roster_signkeys_from_pem) when
 * something else keeps the keys (a PostgreSQL store keeps them in its
 * database, store/signing.h): such a set has no directory, does not
 * rotate itself, and is refreshed by building a new set and moving it in
 * (roster_signkeys_replace). */
#ifndef ROSTER_AUTH_SIGNKEYS_H
#define ROSTER_AUTH_SIGNKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "jwt.h"

/* Retired public keys kept at most; older ones are dropped at rotation. */
#define ROSTER_SIGNKEYS_MAX_RETIRED 8

typedef struct roster_signkeys roster_signkeys;

/* Opens the keys of `data_dir` (borrowed for the call), generating the
 * current key when there is none and `create` is true; retired keys past
 * their time (now_s) are left out. *out is caller-owned until
 * roster_signkeys_free. Errors: ROSTER_E_NOT_FOUND (no key and !create),
 * ROSTER_E_PERMISSION_DENIED (the private key is readable by others),
 * ROSTER_E_IO, ROSTER_E_CORRUPT (a file that is not a key),
 * ROSTER_E_INTERNAL, with `detail` naming the file. */
int roster_signkeys_open(roster_signkeys **out, const char *data_dir, bool create, int64_t now_s,
                         roster_err_detail *detail);

/* Accepts NULL. */
void roster_signkeys_free(roster_signkeys *k);

/* The current key's id into kid. */
void roster_signkeys_kid(char kid[ROSTER_JWT_KID_LEN + 1], roster_signkeys *k);

/* Signs `c` (its kid is set to the current key's) into out/len as
 * roster_jwt_sign does. */
int roster_signkeys_sign(char out[ROSTER_JWT_MAX_LEN + 1], size_t *len, roster_signkeys *k,
                         roster_jwt_claims *c);

/* Checks the signature of `text` (`len` bytes, borrowed) whose decoded
 * claims are `c` (borrowed), with the key c->kid names: the current key or
 * a retired key still verifying at now_s. ROSTER_E_OK or
 * ROSTER_E_UNAUTHENTICATED with `detail` saying why (unknown signing
 * key, bad signature). */
int roster_signkeys_check(roster_signkeys *k, const char *text, size_t len,
                          const roster_jwt_claims *c, int64_t now_s, roster_err_detail *detail);

/* A retired public key as PEM text, verifying until Unix second `until`. */
typedef struct roster_signkey_pem {
    const char *pem; /* borrowed */
    size_t len;
    int64_t until;
} roster_signkey_pem;

/* A set from PEM text: `current` (`len` bytes) the private key, `retired`
 * n_retired public keys, those past their time at now_s left out and at
 * most ROSTER_SIGNKEYS_MAX_RETIRED kept (the latest to end). Everything is
 * borrowed for the call; *out is caller-owned until roster_signkeys_free.
 * roster_signkeys_rotate refuses such a set (FAILED_PRECONDITION). Errors:
 * ROSTER_E_CORRUPT (text that is not an Ed25519 key), ROSTER_E_NOMEM,
 * ROSTER_E_INTERNAL. */
int roster_signkeys_from_pem(roster_signkeys **out, const char *current, size_t len,
                             const roster_signkey_pem *retired, size_t n_retired, int64_t now_s,
                             roster_err_detail *detail);

/* A new Ed25519 private key as PEM text into *pem (caller-owned, free with
 * roster_signkeys_pem_free) and *len. ROSTER_E_INTERNAL, ROSTER_E_NOMEM. */
int roster_signkeys_new_pem(char **pem, size_t *len, roster_err_detail *detail);

/* The current private key of k as PEM text, as roster_signkeys_new_pem. */
int roster_signkeys_current_pem(roster_signkeys *k, char **pem, size_t *len);

/* The public key (PEM text into *pub, caller-owned, free with
 * roster_signkeys_pem_free; *pub_len) and the kid of the private key
 * `priv` (`len` bytes, borrowed). ROSTER_E_CORRUPT when priv is not an
 * Ed25519 private key, ROSTER_E_NOMEM. */
int roster_signkeys_public_pem(char **pub, size_t *pub_len, char kid[ROSTER_JWT_KID_LEN + 1],
                               const char *priv, size_t len, roster_err_detail *detail);

/* Wipes and frees PEM text the functions above made. Accepts NULL. */
void roster_signkeys_pem_free(char *pem, size_t len);

/* Whether k holds the key `kid` (borrowed) and it verifies at now_s. */
bool roster_signkeys_knows(roster_signkeys *k, const char *kid, int64_t now_s);

/* Moves the keys of `from` into k under k's write lock (tokens being
 * checked or signed meanwhile use the old keys or the new, never a mix)
 * and frees from. k keeps its directory, if any. */
void roster_signkeys_replace(roster_signkeys *k, roster_signkeys *from);

/* Replaces the current key with a new one, written to the data directory,
 * and keeps the old public key verifying until now_s +
 * ROSTER_JWT_MAX_LIFETIME_S. The new kid goes to new_kid, the old one to
 * old_kid (both may be NULL). Errors as roster_signkeys_open's, and
 * ROSTER_E_FAILED_PRECONDITION for a set built from PEM text. */
int roster_signkeys_rotate(roster_signkeys *k, int64_t now_s, char new_kid[ROSTER_JWT_KID_LEN + 1],
                           char old_kid[ROSTER_JWT_KID_LEN + 1], roster_err_detail *detail);

#endif
