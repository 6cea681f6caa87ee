#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <unicase.h>
#include <uninorm.h>
#include <string.h>

size_t text_utf8_char(uint32_t *cp, const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (n <= need)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if ((need == 2 && v < 0x800) || (need == 3 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return need + 1;
}

bool text_utf8_valid(const char *str, size_t n)
{
    const uint8_t *s = (const uint8_t *)str;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t l = text_utf8_char(&cp, s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

size_t text_fold_key(unsigned char *out, size_t cap, const char *s, size_t n)
{
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = ((unsigned char)s[i] & 0x80) == 0;
    if (!ascii && text_utf8_valid(s, n)) {
        size_t len = cap;
        uint8_t *r = u8_casefold((const uint8_t *)s, n, NULL, UNINORM_NFC, out, &len);
        if (r == out)
            return len;
        free(r); /* NULL, or a heap result longer than cap */
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)text_lower(s[i]);
    return n;
}
