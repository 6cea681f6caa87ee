#include "gql_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void gql_buf_init(gql_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

int gql_buf_reserve(gql_buf *b, size_t extra)
{
    if (b->oom)
        return ROSTER_E_NOMEM;
    if (b->cap - b->len > extra)
        return ROSTER_E_OK;
    size_t need = b->len + extra + 1;
    if (need < b->len) {
        b->oom = 1;
        return ROSTER_E_NOMEM;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return ROSTER_E_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return ROSTER_E_OK;
}

int gql_buf_append(gql_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return b->oom ? ROSTER_E_NOMEM : ROSTER_E_OK;
    if (b->cap - b->len <= n && gql_buf_reserve(b, n) != ROSTER_E_OK)
        return ROSTER_E_NOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return ROSTER_E_OK;
}

static inline void buf_byte(gql_buf *b, char c)
{
    if (b->cap - b->len > 1) {
        b->data[b->len++] = c;
        return;
    }
    gql_buf_append(b, &c, 1);
}

int gql_buf_status(const gql_buf *b)
{
    return b->oom ? ROSTER_E_NOMEM : ROSTER_E_OK;
}

int gql_buf_take(char **out, size_t *out_len, gql_buf *b)
{
    if (b->oom || gql_buf_reserve(b, 1) != ROSTER_E_OK)
        return ROSTER_E_NOMEM;
    b->data[b->len] = '\0';
    *out = b->data;
    *out_len = b->len;
    gql_buf_init(b);
    return ROSTER_E_OK;
}

void gql_buf_clear(gql_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

void gql_buf_free(gql_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    gql_buf_init(b);
}

void gql_jw_init(gql_jw *w, gql_buf *out, unsigned flags)
{
    w->out = out;
    w->flags = flags;
    w->need_comma = 0;
}

static inline void jw_sep(gql_jw *w)
{
    if (w->need_comma)
        buf_byte(w->out, ',');
}

void gql_jw_object_begin(gql_jw *w)
{
    jw_sep(w);
    buf_byte(w->out, '{');
    w->need_comma = 0;
}

void gql_jw_object_end(gql_jw *w)
{
    buf_byte(w->out, '}');
    w->need_comma = 1;
}

void gql_jw_array_begin(gql_jw *w)
{
    jw_sep(w);
    buf_byte(w->out, '[');
    w->need_comma = 0;
}

void gql_jw_array_end(gql_jw *w)
{
    buf_byte(w->out, ']');
    w->need_comma = 1;
}

static const char hexd[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if
 * invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;
        if (c == 0xED && s[1] > 0x9F)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] > 0x8F)
            return 0;
        return 4;
    }
    return 0;
}

/* 1 for bytes that can be copied as they are. */
static const uint8_t plain[256] = {
    ['\x20'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,   ['\''] = 1, ['('] = 1,
    [')'] = 1,    ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1,   ['/'] = 1,  ['0'] = 1,
    ['1'] = 1,    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,   ['7'] = 1,  ['8'] = 1,
    ['9'] = 1,    [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1,   ['?'] = 1,  ['@'] = 1,
    ['A'] = 1,    ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,   ['G'] = 1,  ['H'] = 1,
    ['I'] = 1,    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,   ['O'] = 1,  ['P'] = 1,
    ['Q'] = 1,    ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,   ['W'] = 1,  ['X'] = 1,
    ['Y'] = 1,    ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1,   ['`'] = 1,  ['a'] = 1,
    ['b'] = 1,    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,   ['h'] = 1,  ['i'] = 1,
    ['j'] = 1,    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,   ['p'] = 1,  ['q'] = 1,
    ['r'] = 1,    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1,   ['x'] = 1,  ['y'] = 1,
    ['z'] = 1,    ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1, ['\x7f'] = 1};

/* The length of the prefix of s[0..len) that can be copied as it is. Eight
 * bytes at a time while no byte of the word is a control character, '"',
 * '\\' or non-ASCII (each test below is exact for "some byte of x"). */
static size_t plain_prefix(const unsigned char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    while (len - i >= 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        uint64_t bad = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs) | x;
        if (bad & highs)
            break;
        i += 8;
    }
    while (i < len && plain[s[i]])
        i++;
    return i;
}

void gql_json_escape(gql_buf *b, const char *str, size_t len, unsigned flags)
{
    const unsigned char *s = (const unsigned char *)str;
    /* Common case: nothing to escape, one copy. */
    size_t i = plain_prefix(s, len);
    if (i == len) {
        gql_buf_append(b, s, len);
        return;
    }
    if (i)
        gql_buf_append(b, s, i);
    while (i < len) {
        size_t start = i;
        i += plain_prefix(s + i, len - i);
        if (i > start)
            gql_buf_append(b, s + start, i - start);
        if (i >= len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            char esc[6];
            switch (c) {
            case '"':
                gql_buf_append(b, "\\\"", 2);
                break;
            case '\\':
                gql_buf_append(b, "\\\\", 2);
                break;
            case '\n':
                gql_buf_append(b, "\\n", 2);
                break;
            case '\r':
                gql_buf_append(b, "\\r", 2);
                break;
            case '\t':
                gql_buf_append(b, "\\t", 2);
                break;
            case '\b':
                gql_buf_append(b, "\\b", 2);
                break;
            case '\f':
                gql_buf_append(b, "\\f", 2);
                break;
            default:
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hexd[c >> 4];
                esc[5] = hexd[c & 15];
                gql_buf_append(b, esc, 6);
            }
            i++;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            gql_buf_append(b, "\xEF\xBF\xBD", 3);
            i++;
            continue;
        }
        if (n == 3 && (flags & GQL_JW_ESCAPE_U2028) && s[i] == 0xE2 && s[i + 1] == 0x80 &&
            (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            gql_buf_append(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
        } else {
            gql_buf_append(b, s + i, n);
        }
        i += n;
    }
}

void gql_jw_key(gql_jw *w, const char *key, size_t len)
{
    if (gql_buf_reserve(w->out, len + 4) != 0)
        return;
    gql_buf *b = w->out;
    if (w->need_comma)
        b->data[b->len++] = ',';
    b->data[b->len++] = '"';
    size_t i = 0;
    while (i < len && plain[(unsigned char)key[i]] && key[i] != '\x7f')
        i++;
    if (i == len) {
        memcpy(b->data + b->len, key, len);
        b->len += len;
    } else {
        gql_json_escape(b, key, len, w->flags);
    }
    gql_buf_append(b, "\":", 2);
    w->need_comma = 0;
}

void gql_jw_keyz(gql_jw *w, const char *key)
{
    gql_jw_key(w, key, strlen(key));
}

void gql_jw_string(gql_jw *w, const char *s, size_t len)
{
    gql_buf *b = w->out;
    if (b->cap - b->len <= len + 3 && gql_buf_reserve(b, len + 3) != ROSTER_E_OK)
        return;
    if (w->need_comma)
        b->data[b->len++] = ',';
    b->data[b->len++] = '"';
    gql_json_escape(b, s, len, w->flags);
    buf_byte(b, '"');
    w->need_comma = 1;
}

void gql_jw_stringz(gql_jw *w, const char *s)
{
    gql_jw_string(w, s, strlen(s));
}

void gql_jw_int(gql_jw *w, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp;
    char *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jw_sep(w);
    gql_buf_append(w->out, p, (size_t)(e - p));
    w->need_comma = 1;
}

/* JavaScript Number.prototype.toString for finite doubles. */
static size_t format_js_double(char *out, double v)
{
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]d[.ddd]e[+-]xx */
    char digits[24];
    size_t k = 0, o = 0;
    const char *p = tmp;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    while (*p && *p != 'e') {
        if (*p != '.')
            digits[k++] = *p;
        p++;
    }
    int e = atoi(p + 1);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    if (k == 1 && digits[0] == '0') {
        out[0] = '0';
        return 1;
    }
    int n = e + 1;
    if (neg)
        out[o++] = '-';
    if ((int)k <= n && n <= 21) {
        memcpy(out + o, digits, k);
        o += k;
        for (int i = 0; i < n - (int)k; i++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, digits, (size_t)n);
        o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, digits + n, k - (size_t)n);
        o += k - (size_t)n;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -n; i++)
            out[o++] = '0';
        memcpy(out + o, digits, k);
        o += k;
    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, k - 1);
            o += k - 1;
        }
        o += (size_t)sprintf(out + o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    return o;
}

void gql_jw_double(gql_jw *w, double v)
{
    if (!isfinite(v)) {
        gql_jw_null(w);
        return;
    }
    char tmp[48];
    size_t n = format_js_double(tmp, v);
    jw_sep(w);
    gql_buf_append(w->out, tmp, n);
    w->need_comma = 1;
}

void gql_jw_bool(gql_jw *w, int v)
{
    jw_sep(w);
    if (v)
        gql_buf_append(w->out, "true", 4);
    else
        gql_buf_append(w->out, "false", 5);
    w->need_comma = 1;
}

void gql_jw_null(gql_jw *w)
{
    jw_sep(w);
    gql_buf_append(w->out, "null", 4);
    w->need_comma = 1;
}

void gql_jw_raw(gql_jw *w, const char *json, size_t len)
{
    jw_sep(w);
    gql_buf_append(w->out, json, len);
    w->need_comma = 1;
}

static void jw_json_rec(gql_jw *w, const json_t *v, int depth)
{
    if (v == NULL || depth > 512) {
        gql_jw_null(w);
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *m;
        gql_jw_object_begin(w);
        json_object_foreach((json_t *)v, k, m)
        {
            gql_jw_keyz(w, k);
            jw_json_rec(w, m, depth + 1);
        }
        gql_jw_object_end(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        gql_jw_array_begin(w);
        json_array_foreach(v, i, m)
        {
            jw_json_rec(w, m, depth + 1);
        }
        gql_jw_array_end(w);
        break;
    }
    case JSON_STRING:
        gql_jw_string(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        gql_jw_int(w, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        gql_jw_double(w, json_real_value(v));
        break;
    case JSON_TRUE:
        gql_jw_bool(w, 1);
        break;
    case JSON_FALSE:
        gql_jw_bool(w, 0);
        break;
    default:
        gql_jw_null(w);
    }
}

void gql_jw_json(gql_jw *w, const json_t *v)
{
    jw_json_rec(w, v, 0);
}
