/* API key text: minting, parsing and checking secrets.
 *
 * A key's text is "rstr_" + the key id's 32 lower-case hex digits + "_" +
 * 43 base64url characters (no padding) of 32 random bytes (256 bits):
 *   rstr_0190b1c4e5f67000800000000000000a_q9Vw...
 * The fixed prefix lets secret scanners spot a leaked key; the id lets the
 * service find the key's record without a search. Only SHA-256 of the 32
 * secret bytes is stored (ApiKey.secret_hash); a presented secret is
 * hashed and compared with the stored hash in constant time.
 *
 * Every buffer that held a secret is wiped before it is released
 * (OPENSSL_cleanse), here and in callers. */
#ifndef ROSTER_AUTH_APIKEY_H
#define ROSTER_AUTH_APIKEY_H

#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROSTER_APIKEY_PREFIX     "rstr_"
#define ROSTER_APIKEY_PREFIX_LEN 5
#define ROSTER_APIKEY_SECRET_LEN 32 /* random bytes */
#define ROSTER_APIKEY_HASH_LEN   32 /* SHA-256 */
/* Length of the key text: prefix + 32 hex + "_" + 43 base64url. */
#define ROSTER_APIKEY_TEXT_LEN (ROSTER_APIKEY_PREFIX_LEN + 32 + 1 + 43)

/* Mints a new secret for key `id`: writes the key text (NUL-terminated)
 * into text (caller-owned, ROSTER_APIKEY_TEXT_LEN + 1 bytes) and the hash
 * to store into hash. The caller wipes `text` once it has been shown.
 * Errors: ROSTER_E_INTERNAL when the system's random source fails. */
int roster_apikey_mint(char text[ROSTER_APIKEY_TEXT_LEN + 1], uint8_t hash[ROSTER_APIKEY_HASH_LEN],
                       const roster_uuid *id);

/* Parses key text (`len` bytes, not necessarily NUL-terminated; borrowed
 * for the call) into its key id and the hash of its secret. Errors:
 * ROSTER_E_UNAUTHENTICATED when the text is not a well-formed key (wrong
 * prefix, length or alphabet); nothing is written then. */
int roster_apikey_parse(roster_uuid *id, uint8_t hash[ROSTER_APIKEY_HASH_LEN], const char *text,
                        size_t len);

/* Constant-time comparison of two hashes. */
bool roster_apikey_hash_eq(const uint8_t a[ROSTER_APIKEY_HASH_LEN],
                           const uint8_t b[ROSTER_APIKEY_HASH_LEN]);

/* SHA-256 of `len` bytes at `in` (borrowed for the call) into out.
 * ROSTER_E_OK, or ROSTER_E_INTERNAL when OpenSSL cannot digest. */
int roster_sha256(uint8_t out[ROSTER_APIKEY_HASH_LEN], const void *in, size_t len);

/* Wipes n bytes at p in a way the compiler cannot drop. Accepts NULL. */
void roster_secure_wipe(void *p, size_t n);

#endif
