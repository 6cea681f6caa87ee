#include "text_pattern.h"

#include "text.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The character at s[i] (i < n): its length in bytes, and in *key its code
 * point (a well-formed sequence) or its byte (any other byte, alone). */
static inline size_t char_at(uint32_t *key, const uint8_t *s, size_t n, size_t i)
{
    if (s[i] < 0x80) { /* ASCII, most of what is matched: no decoding */
        *key = s[i];
        return 1;
    }
    size_t len = text_utf8_char(key, s + i, n - i);
    if (len == 0) {
        *key = s[i];
        len = 1;
    }
    return len;
}

static size_t slot_of(uint32_t cp)
{
    return ((cp * 2654435761u) >> 16) & (TEXT_PAT_SLOTS - 1);
}

/* The token mask of multi-byte character cp, or NULL when no literal
 * token is that character. */
static const uint64_t *multi_mask(const text_pattern *p, uint32_t cp)
{
    for (size_t h = slot_of(cp);; h = (h + 1) & (TEXT_PAT_SLOTS - 1)) {
        if (p->slot_cp[h] == cp)
            return p->multi[p->slot_multi[h]];
        if (p->slot_cp[h] == 0)
            return NULL;
    }
}

static void set_bit(uint64_t *mask, size_t t)
{
    mask[t / 64] |= (uint64_t)1 << (t % 64);
}

/* Adds literal token t: the character of length len and key key. The
 * pattern holds at most TEXT_PAT_MULTI multi-byte characters (two bytes
 * each at least), so the table (half full at most) always has room. */
static void add_literal(text_pattern *p, size_t t, uint32_t key, size_t len, bool ci)
{
    if (len == 1) {
        set_bit(p->byte[key], t);
        if (ci && key >= 'a' && key <= 'z')
            set_bit(p->byte[key - 32], t);
        else if (ci && key >= 'A' && key <= 'Z')
            set_bit(p->byte[key + 32], t);
        return;
    }
    size_t h = slot_of(key);
    while (p->slot_cp[h] != 0 && p->slot_cp[h] != key)
        h = (h + 1) & (TEXT_PAT_SLOTS - 1);
    if (p->slot_cp[h] == 0) {
        p->slot_cp[h] = key;
        p->slot_multi[h] = (uint8_t)p->n_multi++;
    }
    set_bit(p->multi[p->slot_multi[h]], t);
}

/* Compiles a LIKE pattern, or with `search` every character literal
 * between an implicit leading and trailing '%'. */
static bool compile(text_pattern *p, const char *pat, size_t pn, bool ci, bool search)
{
    if (pn > ROSTER_MAX_PATTERN)
        return false;
    memset(p, 0, sizeof *p);
    uint64_t lit_tok[TEXT_PAT_WORDS] = {0}; /* the ASCII literal tokens */
    const uint8_t *s = (const uint8_t *)pat;
    if (search)
        p->seg_end[p->n_seg++] = 0;
    for (size_t i = 0; i < pn;) {
        uint32_t key;
        size_t len = char_at(&key, s, pn, i);
        if (!search && len == 1 && key == '%') {
            p->seg_end[p->n_seg++] = p->n_tok;
            while (i < pn && s[i] == '%')
                i++;
            continue;
        }
        if (!search && len == 1 && key == '_') {
            set_bit(p->any, p->n_tok++);
            i++;
            continue;
        }
        if (!search && len == 1 && key == '\\' && i + 1 < pn) {
            i++;
            len = char_at(&key, s, pn, i);
        }
        if (len == 1 && key < 0x80) {
            set_bit(lit_tok, p->n_tok);
            p->lit[p->n_tok] = ci ? (uint8_t)text_lower((char)key) : (uint8_t)key;
        }
        add_literal(p, p->n_tok++, key, len, ci);
        i += len;
    }
    p->seg_end[p->n_seg++] = p->n_tok;
    if (search && p->n_tok > 0)
        p->seg_end[p->n_seg++] = p->n_tok;
    for (size_t c = 0; c < 256; c++)
        p->fold[c] = ci ? (uint8_t)text_lower((char)c) : (uint8_t)c;
    for (size_t g = 0, b = 0; g < p->n_seg; b = p->seg_end[g++]) {
        p->seg_lit[g] = true;
        for (size_t t = b; t < p->seg_end[g]; t++)
            p->seg_lit[g] &= (lit_tok[t / 64] >> (t % 64)) & 1;
    }
    return true;
}

bool text_pattern_compile(text_pattern *out, const char *pat, size_t pn, bool ci)
{
    return compile(out, pat, pn, ci, false);
}

bool text_pattern_compile_search(text_pattern *out, const char *needle, size_t nn)
{
    return compile(out, needle, nn, true, true);
}

static bool has_bit(const uint64_t *mask, size_t t)
{
    return (mask[t / 64] >> (t % 64)) & 1;
}

/* Whether the character of length len and key key matches token t. */
static bool token_matches(const text_pattern *p, size_t t, uint32_t key, size_t len)
{
    if (has_bit(p->any, t))
        return true;
    const uint64_t *m = len == 1 ? p->byte[key] : multi_mask(p, key);
    return m != NULL && has_bit(m, t);
}

/* Finds segment [b, e) (b < e) in s[*pos..n) with a shift-and automaton
 * over the segment's tokens: bit t of the state is set when tokens
 * [b, t] match the characters ending at the current one. Without
 * `at_end` it stops at the first match, the one ending leftmost, and sets
 * *pos after it; with `at_end` the match must end the text. */
/* seg_find for a segment within one word of the state (at most 64
 * tokens, nearly every pattern): the same automaton in a register. */
static bool seg_find_word(size_t *pos, const text_pattern *p, size_t b, size_t e, const uint8_t *s,
                          size_t n, bool at_end, uint64_t *steps)
{
    size_t w = b / 64;
    const uint64_t start = (uint64_t)1 << (b % 64), accept = (uint64_t)1 << ((e - 1) % 64);
    const uint64_t any = p->any[w];
    uint64_t d = 0;
    bool accepted = false;
    size_t i = *pos;
    while (i < n) {
        uint64_t m;
        if (s[i] < 0x80) {
            m = p->byte[s[i]][w];
            i++;
        } else {
            uint32_t key;
            size_t len = char_at(&key, s, n, i);
            const uint64_t *mm = len == 1 ? p->byte[key] : multi_mask(p, key);
            m = mm != NULL ? mm[w] : 0;
            i += len;
        }
        d = ((d << 1) | start) & (m | any);
        accepted = (d & accept) != 0;
        if (accepted && !at_end) {
            *steps += 2 * (i - *pos);
            *pos = i;
            return true;
        }
    }
    *steps += 2 * (n - *pos);
    return at_end && accepted;
}

static bool seg_find(size_t *pos, const text_pattern *p, size_t b, size_t e, const uint8_t *s,
                     size_t n, bool at_end, uint64_t *steps)
{
    size_t wb = b / 64, we = (e - 1) / 64;
    if (wb == we)
        return seg_find_word(pos, p, b, e, s, n, at_end, steps);
    uint64_t d[TEXT_PAT_WORDS] = {0};
    static const uint64_t none[TEXT_PAT_WORDS] = {0};
    bool accepted = false;
    for (size_t i = *pos; i < n;) {
        uint32_t key;
        size_t len = char_at(&key, s, n, i);
        const uint64_t *m = len == 1 ? p->byte[key] : multi_mask(p, key);
        if (m == NULL)
            m = none;
        for (size_t w = we; w > wb; w--)
            d[w] = ((d[w] << 1) | (d[w - 1] >> 63)) & (m[w] | p->any[w]);
        d[wb] = ((d[wb] << 1) | ((uint64_t)1 << (b % 64))) & (m[wb] | p->any[wb]);
        *steps += 1 + (we - wb + 1);
        i += len;
        accepted = has_bit(d, e - 1);
        if (accepted && !at_end) {
            *pos = i;
            return true;
        }
    }
    return at_end && accepted;
}

/* Whether the m bytes at s are the literal tokens from t on. */
static inline bool lit_at(const text_pattern *p, size_t t, const uint8_t *s, size_t m)
{
    for (size_t i = 0; i < m; i++)
        if (p->fold[s[i]] != p->lit[t + i])
            return false;
    return true;
}

/* The first i in [from, n) with fold[s[i]] == c, or n. */
static size_t find_byte(const text_pattern *p, uint8_t c, const uint8_t *s, size_t from, size_t n)
{
    size_t i = from;
#ifdef __SSE2__
    uint8_t other = c;
    if (p->fold['A'] == 'a' && c >= 'a' && c <= 'z')
        other = (uint8_t)(c - 32);
    const __m128i lo = _mm_set1_epi8((char)c), up = _mm_set1_epi8((char)other);
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, lo), _mm_cmpeq_epi8(x, up)));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i < n; i++)
        if (p->fold[s[i]] == c)
            return i;
    return n;
}

/* seg_find for a segment of ASCII literals (seg_lit) [b, e): its first
 * byte looked for, the rest compared where it occurs. Comparisons past
 * the length of the text left hand the rest to the automaton. */
static bool seg_find_lit(size_t *pos, const text_pattern *p, size_t b, size_t e, const uint8_t *s,
                         size_t n, bool at_end, uint64_t *steps)
{
    size_t m = e - b;
    if (at_end) {
        *steps += m;
        return n - *pos >= m && lit_at(p, b, s + n - m, m);
    }
    size_t budget = n - *pos, compared = 0;
    for (size_t i = *pos; n - i >= m;) {
        size_t at = find_byte(p, p->lit[b], s, i, n - m + 1);
        *steps += at - i + 1;
        if (at > n - m)
            break;
        size_t k = 1;
        while (k < m && p->fold[s[at + k]] == p->lit[b + k])
            k++;
        *steps += k;
        if (k == m) {
            *pos = at + m;
            return true;
        }
        i = at + 1;
        if ((compared += k) > budget) {
            *pos = i;
            return seg_find(pos, p, b, e, s, n, false, steps);
        }
    }
    return false;
}

/* Segments are matched left to right, each at the place where its match
 * ends first: a segment has a fixed length in characters, so that leaves
 * the longest rest of the text for the segments after it, and the '%'
 * before the next segment absorbs whatever lies between. The first
 * segment is anchored at the start; the last must end the text. */
bool text_pattern_match_steps(const text_pattern *p, const char *str, size_t n, uint64_t *steps)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t pos = 0;
    if (p->seg_lit[0]) {     /* anchored at the start: compared in place */
        pos = p->seg_end[0]; /* a byte a token */
        *steps += pos;
        if (n < pos || !lit_at(p, 0, s, pos))
            return false;
    }
    for (size_t t = p->seg_lit[0] ? p->seg_end[0] : 0; t < p->seg_end[0]; t++) {
        if (pos == n)
            return false;
        uint32_t key;
        size_t len = char_at(&key, s, n, pos);
        ++*steps;
        if (!token_matches(p, t, key, len))
            return false;
        pos += len;
    }
    if (p->n_seg == 1)
        return pos == n;
    for (size_t g = 1; g < p->n_seg; g++) {
        size_t b = p->seg_end[g - 1], e = p->seg_end[g];
        bool last = g + 1 == p->n_seg;
        if (b == e) {
            if (last)
                return true; /* a trailing '%' */
            continue;
        }
        if (!(p->seg_lit[g] ? seg_find_lit : seg_find)(&pos, p, b, e, s, n, last, steps))
            return false;
    }
    return true;
}

bool text_pattern_match(const text_pattern *p, const char *s, size_t n)
{
    uint64_t steps = 0;
    return text_pattern_match_steps(p, s, n, &steps);
}
