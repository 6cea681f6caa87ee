#include "b64url.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t roster_b64url_encode(char *out, const uint8_t *in, size_t len)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    size_t rest = len - i;
    if (rest > 0) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (rest == 2)
            out[o++] = alphabet[(v >> 6) & 63];
    }
    return o;
}

static int value(char c)
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

bool roster_b64url_decode(uint8_t *out, size_t *n, const char *in, size_t len)
{
    if (len % 4 == 1)
        return false;
    size_t o = 0;
    uint32_t v = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < len; i++) {
        int x = value(in[i]);
        if (x < 0)
            return false;
        v = v << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(v >> bits);
            v &= (1u << bits) - 1;
        }
    }
    /* What is left must be zero padding bits of the last character. */
    if (v != 0)
        return false;
    *n = o;
    return true;
}
