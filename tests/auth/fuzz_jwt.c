/* libFuzzer harness for access tokens: any bytes either decode into
 * claims or are refused UNAUTHENTICATED, the signature check answers OK or
 * UNAUTHENTICATED (never anything else), and base64url text that decodes
 * encodes back to exactly itself (one spelling per byte string). */
#include "b64url.h"
#include "error.h"
#include "jwt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One key for the whole run; it lives until exit. */
static EVP_PKEY *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (key == NULL && (key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
        abort();
    const char *text = (const char *)data;
    roster_jwt_claims c;
    int err = roster_jwt_decode(&c, text, size, NULL);
    if (err != ROSTER_E_OK && err != ROSTER_E_UNAUTHENTICATED)
        abort();
    if (err == ROSTER_E_OK && !roster_jwt_shaped(text, size))
        abort();
    err = roster_jwt_verify(text, size, key);
    if (err != ROSTER_E_OK && err != ROSTER_E_UNAUTHENTICATED)
        abort();
    if (size <= 256) {
        uint8_t raw[192];
        char back[260];
        size_t n = 0;
        if (roster_b64url_decode(raw, &n, text, size) &&
            (roster_b64url_encode(back, raw, n) != size || memcmp(back, text, size) != 0))
            abort();
    }
    return 0;
}
