#include "apikey.h"

#include "error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

static int sha256(uint8_t out[ROSTER_APIKEY_HASH_LEN], const uint8_t *in, size_t len)
{
    unsigned int n = 0;
    pthread_once(&sha256_once, sha256_fetch);
    if (sha256_md == NULL || EVP_Digest(in, len, out, &n, sha256_md, NULL) != 1 ||
        n != ROSTER_APIKEY_HASH_LEN)
        return ROSTER_E_INTERNAL;
    return ROSTER_E_OK;
}

/* 32 bytes as 43 base64url characters, no padding. */
static void b64url_encode(char *out, const uint8_t in[ROSTER_APIKEY_SECRET_LEN])
{
    size_t o = 0, i = 0;
    for (; i + 3 <= ROSTER_APIKEY_SECRET_LEN; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    /* 32 = 30 + 2: the last two bytes give three characters. */
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
    out[o++] = b64url[(v >> 6) & 63];
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* 43 characters back to 32 bytes; false on a character outside the
 * alphabet or non-zero trailing bits (a non-canonical spelling). */
static bool b64url_decode(uint8_t out[ROSTER_APIKEY_SECRET_LEN], const char *in)
{
    size_t o = 0, i = 0;
    for (; i + 4 <= B64_LEN; i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int x = b64url_value(in[i + k]);
            if (x < 0)
                return false;
            v = v << 6 | (uint32_t)x;
        }
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    uint32_t v = 0;
    for (size_t k = 0; k < 3; k++) {
        int x = b64url_value(in[i + k]);
        if (x < 0)
            return false;
        v = v << 6 | (uint32_t)x;
    }
    if ((v & 3) != 0)
        return false;
    v >>= 2;
    out[o++] = (uint8_t)(v >> 8);
    out[o++] = (uint8_t)v;
    return true;
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
    if ((err = sha256(h, secret, sizeof secret)) != 0)
        goto fail;
    memcpy(text, ROSTER_APIKEY_PREFIX, ROSTER_APIKEY_PREFIX_LEN);
    for (size_t i = 0; i < 16; i++) {
        text[HEX_OFF + 2 * i] = hexdig[id->b[i] >> 4];
        text[HEX_OFF + 2 * i + 1] = hexdig[id->b[i] & 15];
    }
    text[SEP_OFF] = '_';
    b64url_encode(text + B64_OFF, secret);
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
    if (!b64url_decode(secret, text + B64_OFF))
        goto fail;
    if ((err = sha256(h, secret, sizeof secret)) != 0)
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
