#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <unicase.h>
#include <uninorm.h>
#include <string.h>

bool text_utf8_valid(const char *str, size_t n)
{
    const uint8_t *s = (const uint8_t *)str, *end = s + n;
    while (s < end) {
        uint8_t c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - s) <= need)
            return false;
        for (size_t i = 1; i <= need; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += need + 1;
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

/* Length of the UTF-8 character starting with byte c (1 for stray bytes). */
static size_t u8len(uint8_t c)
{
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    if (c >= 0xc0)
        return 2;
    return 1;
}

static bool ch_eq(char a, char b, bool ci)
{
    return ci ? text_lower(a) == text_lower(b) : a == b;
}

bool text_like(const char *s, size_t n, const char *pat, size_t pn, bool ci)
{
    size_t si = 0, pi = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    while (si < n) {
        if (pi < pn && pat[pi] == '%') {
            while (pi < pn && pat[pi] == '%')
                pi++;
            if (pi == pn)
                return true;
            star_p = pi;
            star_s = si;
            continue;
        }
        if (pi < pn && pat[pi] == '_') {
            size_t l = u8len((uint8_t)s[si]);
            si += l <= n - si ? l : n - si;
            pi++;
            continue;
        }
        if (pi < pn) {
            size_t q = pi;
            if (pat[q] == '\\' && q + 1 < pn)
                q++;
            if (ch_eq(s[si], pat[q], ci)) {
                si++;
                pi = q + 1;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        /* Let the last '%' absorb one more character and retry. */
        size_t l = u8len((uint8_t)s[star_s]);
        star_s += l <= n - star_s ? l : n - star_s;
        si = star_s;
        pi = star_p;
    }
    while (pi < pn && pat[pi] == '%')
        pi++;
    return pi == pn;
}

bool text_contains_ci(const char *hay, size_t n, const char *needle, size_t nn)
{
    if (nn == 0)
        return true;
    if (nn > n)
        return false;
    char first = text_lower(needle[0]);
    for (size_t i = 0; i + nn <= n; i++) {
        if (text_lower(hay[i]) != first)
            continue;
        size_t j = 1;
        while (j < nn && text_lower(hay[i + j]) == text_lower(needle[j]))
            j++;
        if (j == nn)
            return true;
    }
    return false;
}

bool text_eq_ci(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (text_lower(a[i]) != text_lower(b[i]))
            return false;
    return true;
}

bool text_pattern_compile(text_pattern *out, const char *pat, size_t pn, bool ci)
{
    if (pn > ROSTER_MAX_PATTERN)
        return false;
    text_pattern p;
    p.ci = ci;
    p.n_tok = 0;
    p.n_seg = 0;
    for (size_t i = 0; i < pn; i++) {
        char c = pat[i];
        if (c == '%') {
            p.seg_end[p.n_seg++] = p.n_tok;
            while (i + 1 < pn && pat[i + 1] == '%')
                i++;
            continue;
        }
        if (c == '_') {
            p.tok[p.n_tok++] = TEXT_PAT_ANY;
            continue;
        }
        if (c == '\\' && i + 1 < pn)
            c = pat[++i];
        p.tok[p.n_tok++] = (uint8_t)(ci ? text_lower(c) : c);
    }
    p.seg_end[p.n_seg++] = p.n_tok;
    *out = p;
    return true;
}

enum { SEG_MATCH, SEG_MISMATCH, SEG_RUNOUT };

/* Matches tokens [b, e) of p as a prefix of s[at..n); on SEG_MATCH *end is
 * the position after them. */
static int seg_at(size_t *end, const text_pattern *p, size_t b, size_t e, const char *s, size_t n,
                  size_t at)
{
    size_t i = at;
    for (size_t t = b; t < e; t++) {
        if (i == n)
            return SEG_RUNOUT;
        uint16_t k = p->tok[t];
        if (k == TEXT_PAT_ANY) {
            size_t l = u8len((uint8_t)s[i]);
            i += l <= n - i ? l : n - i;
        } else if ((uint8_t)(p->ci ? text_lower(s[i]) : s[i]) == k) {
            i++;
        } else {
            return SEG_MISMATCH;
        }
    }
    *end = i;
    return SEG_MATCH;
}

/* The segments are matched left to right, each at its first position (in
 * steps of one code point) after the previous one: the leftmost place is
 * always the best, since everything after it can still be reached by the
 * next '%'. The first segment is anchored at the start, the last must end
 * the text. */
bool text_pattern_match(const text_pattern *p, const char *s, size_t n)
{
    size_t cur = 0, end = 0;
    if (seg_at(&end, p, 0, p->seg_end[0], s, n, 0) != SEG_MATCH)
        return false;
    if (p->n_seg == 1)
        return end == n;
    cur = end;
    for (size_t g = 1; g < p->n_seg; g++) {
        size_t b = p->seg_end[g - 1], e = p->seg_end[g];
        bool last = g + 1 == p->n_seg;
        if (b == e) /* a trailing '%' */
            return true;
        if (cur == n)
            return false;
        size_t at = cur;
        for (;;) {
            int r = seg_at(&end, p, b, e, s, n, at);
            if (r == SEG_RUNOUT)
                return false;
            if (r == SEG_MATCH && (!last || end == n))
                break;
            size_t l = u8len((uint8_t)s[at]);
            at += l <= n - at ? l : n - at;
            if (at == n)
                return false;
        }
        cur = end;
    }
    return true;
}
