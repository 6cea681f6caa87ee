#include "apikey.h"

#include "b64url.h"
#include "error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

#define HEX_OFF (ROSTER_APIKEY_PREFIX_LEN)
#define SEP_OFF (HEX_OFF + 32)
#define B64_OFF (SEP_OFF + 1)
#define B64_LEN 43

/* SHA-256 fetched from OpenSSL's provider once per process: EVP_sha256()
 * makes OpenSSL 3 look the algorithm up again on every digest, which cost
 * more than the digest itself on the per-request authentication path. The
 * fetched object lives until exit. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int roster_sha256(uint8_t out[ROSTER_APIKEY_HASH_LEN], const void *in, size_t len)
{
    unsigned int n = 0;
    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL || EVP_Digest(in, len, out, &n, sha256_md, NULL) != 1 ||
        n != ROSTER_APIKEY_HASH_LEN)
        return ROSTER_E_INTERNAL;
    return ROSTER_E_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int roster_apikey_mint(char text[ROSTER_APIKEY_TEXT_LEN + 1], uint8_t hash[ROSTER_APIKEY_HASH_LEN],
                       const roster_uuid *id)
{
    uint8_t secret[ROSTER_APIKEY_SECRET_LEN];
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    int err = ROSTER_E_INTERNAL;
    if (RAND_bytes(secret, sizeof secret) != 1)
        goto fail;
    if ((err = roster_sha256(h, secret, sizeof secret)) != 0)
        goto fail;
    memcpy(text, ROSTER_APIKEY_PREFIX, ROSTER_APIKEY_PREFIX_LEN);
    for (size_t i = 0; i < 16; i++) {
        text[HEX_OFF + 2 * i] = hexdig[id->b[i] >> 4];
        text[HEX_OFF + 2 * i + 1] = hexdig[id->b[i] & 15];
    }
    text[SEP_OFF] = '_';
    roster_b64url_encode(text + B64_OFF, secret, sizeof secret);
    text[ROSTER_APIKEY_TEXT_LEN] = '\0';
    memcpy(hash, h, sizeof h);
    err = ROSTER_E_OK;
fail:
    roster_secure_wipe(secret, sizeof secret);
    roster_secure_wipe(h, sizeof h);
    return err;
}

int roster_apikey_parse(roster_uuid *id, uint8_t hash[ROSTER_APIKEY_HASH_LEN], const char *text,
                        size_t len)
{
    roster_uuid k;
    uint8_t secret[ROSTER_APIKEY_SECRET_LEN];
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    int err = ROSTER_E_UNAUTHENTICATED;
    if (text == NULL || len != ROSTER_APIKEY_TEXT_LEN ||
        memcmp(text, ROSTER_APIKEY_PREFIX, ROSTER_APIKEY_PREFIX_LEN) != 0 || text[SEP_OFF] != '_')
        return ROSTER_E_UNAUTHENTICATED;
    for (size_t i = 0; i < 16; i++) {
        int hi = hex_value(text[HEX_OFF + 2 * i]), lo = hex_value(text[HEX_OFF + 2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ROSTER_E_UNAUTHENTICATED;
        k.b[i] = (uint8_t)(hi << 4 | lo);
    }
    size_t n = 0;
    if (!roster_b64url_decode(secret, &n, text + B64_OFF, B64_LEN) || n != sizeof secret)
        goto fail;
    if ((err = roster_sha256(h, secret, sizeof secret)) != 0)
        goto fail;
    *id = k;
    memcpy(hash, h, sizeof h);
    err = ROSTER_E_OK;
fail:
    roster_secure_wipe(secret, sizeof secret);
    roster_secure_wipe(h, sizeof h);
    return err;
}

bool roster_apikey_hash_eq(const uint8_t a[ROSTER_APIKEY_HASH_LEN],
                           const uint8_t b[ROSTER_APIKEY_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, ROSTER_APIKEY_HASH_LEN) == 0;
}

void roster_secure_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}
