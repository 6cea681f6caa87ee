/* base64url without padding (RFC 4648 section 5), as API key secrets and
 * JSON Web Tokens spell bytes. Nothing is allocated. */
#ifndef ROSTER_B64URL_H
#define ROSTER_B64URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes (no padding, no NUL). */
#define ROSTER_B64URL_LEN(n) (((n)*4 + 2) / 3)

/* Writes ROSTER_B64URL_LEN(len) characters of `in` (borrowed) to `out`
 * (caller's buffer of at least that size); no NUL is added. Returns the
 * number written. */
size_t roster_b64url_encode(char *out, const uint8_t *in, size_t len);

/* Decodes `len` characters of `in` (borrowed) into `out` (caller's buffer
 * of at least len * 3 / 4 bytes) and sets *n to the bytes written. False,
 * with out and *n untouched in meaning, on a character outside the
 * alphabet, a length no encoding has (len % 4 == 1) or non-zero trailing
 * bits (a non-canonical spelling). */
bool roster_b64url_decode(uint8_t *out, size_t *n, const char *in, size_t len);

#endif
