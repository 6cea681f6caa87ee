#include "json_path.h"

#include "text.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

/* Longest number the reader takes, in bytes: longer ones go to jansson. */
#define NUM_MAX    40
#define INT_DIGITS 18

typedef struct scan {
    const uint8_t *p, *end;
} scan;

static inline void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* A string at s->p (its opening quote) in the plain form: its bytes
 * between the quotes into *b, *n; s->p after the closing quote. */
static bool scan_string(scan *s, const uint8_t **b, size_t *n)
{
    const uint8_t *p = s->p + 1, *end = s->end;
    *b = p;
    while (p < end) {
        uint8_t c = *p;
        if (c == '"') {
            *n = (size_t)(p - *b);
            s->p = p + 1;
            return true;
        }
        if (c == '\\' || c < 0x20)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        uint32_t cp;
        size_t l = text_utf8_char(&cp, p, (size_t)(end - p));
        if (l == 0)
            return false;
        p += l;
    }
    return false;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A number at s->p in the plain form: -?(0|[1-9][0-9]*)(.[0-9]+)?, an
 * integer of at most INT_DIGITS digits, NUM_MAX bytes in all. */
static bool scan_number(scan *s, json_path_kind *kind)
{
    const uint8_t *p = s->p, *end = s->end, *start = p;
    if (p < end && *p == '-')
        p++;
    const uint8_t *digits = p;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && is_digit(*p))
            p++;
    else
        return false;
    size_t int_digits = (size_t)(p - digits);
    *kind = JSON_PATH_INTEGER;
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return false;
        while (p < end && is_digit(*p))
            p++;
        *kind = JSON_PATH_REAL;
    }
    if (p < end && (*p == 'e' || *p == 'E'))
        return false; /* exponents (and their range) are jansson's */
    if ((*kind == JSON_PATH_INTEGER && int_digits > INT_DIGITS) || (size_t)(p - start) > NUM_MAX)
        return false;
    s->p = p;
    return true;
}

static bool scan_word(scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* One value at s->p (no leading white space) in the plain form, into *v
 * (its extent, for objects and arrays with their brackets); s->p after
 * it. `depth`: containers it lies in. */
static bool scan_value(scan *s, int depth, json_path_value *v)
{
    if (s->p == s->end)
        return false;
    const uint8_t *start = s->p;
    const uint8_t *b;
    size_t n;
    switch (*s->p) {
    case '"':
        if (!scan_string(s, &b, &n))
            return false;
        *v = (json_path_value){JSON_PATH_STRING, (const char *)b, n};
        return true;
    case '{':
    case '[': {
        bool obj = *s->p == '{';
        uint8_t close = obj ? '}' : ']';
        if (depth >= JSON_PATH_DEPTH)
            return false;
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
        } else {
            for (;;) {
                json_path_value m;
                if (obj) {
                    if (s->p == s->end || *s->p != '"' || !scan_string(s, &b, &n))
                        return false;
                    skip_ws(s);
                    if (s->p == s->end || *s->p != ':')
                        return false;
                    s->p++;
                    skip_ws(s);
                }
                if (!scan_value(s, depth + 1, &m))
                    return false;
                skip_ws(s);
                if (s->p == s->end)
                    return false;
                if (*s->p == close) {
                    s->p++;
                    break;
                }
                if (*s->p != ',')
                    return false;
                s->p++;
                skip_ws(s);
            }
        }
        *v = (json_path_value){obj ? JSON_PATH_OBJECT : JSON_PATH_ARRAY, (const char *)start,
                               (size_t)(s->p - start)};
        return true;
    }
    case 't':
        *v = (json_path_value){JSON_PATH_TRUE, (const char *)start, 4};
        return scan_word(s, "true", 4);
    case 'f':
        *v = (json_path_value){JSON_PATH_FALSE, (const char *)start, 5};
        return scan_word(s, "false", 5);
    case 'n':
        *v = (json_path_value){JSON_PATH_NULL, (const char *)start, 4};
        return scan_word(s, "null", 4);
    default: {
        json_path_kind k;
        if (!scan_number(s, &k))
            return false;
        *v = (json_path_value){k, (const char *)start, (size_t)(s->p - start)};
        return true;
    }
    }
}

/* Whether key b[0..n) of a member is k[0..kn) (keys are short: a loop,
 * not a call). */
static inline bool key_is(const uint8_t *b, size_t n, const char *k, size_t kn)
{
    if (n != kn)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)k[i])
            return false;
    return true;
}

/* The value of the last member named key[0..kn) of object obj (plain,
 * already read) into *out; kind JSON_PATH_NONE when there is none. */
static void member(json_path_value *out, json_path_value obj, const char *key, size_t kn)
{
    scan s = {(const uint8_t *)obj.p + 1, (const uint8_t *)obj.p + obj.n - 1};
    out->kind = JSON_PATH_NONE;
    skip_ws(&s);
    while (s.p < s.end) {
        const uint8_t *b = NULL;
        size_t n = 0;
        json_path_value v;
        scan_string(&s, &b, &n);
        skip_ws(&s);
        s.p++; /* ':' */
        skip_ws(&s);
        scan_value(&s, 1, &v);
        if (key_is(b, n, key, kn))
            *out = v;
        skip_ws(&s);
        if (s.p < s.end)
            s.p++; /* ',' */
        skip_ws(&s);
    }
}

/* The length of the first step of path. */
static size_t step_len(const char *path)
{
    size_t n = 0;
    while (path[n] != 0 && path[n] != '.')
        n++;
    return n;
}

bool json_path_read(json_path_value *out, const char *const *paths, size_t np, const char *text,
                    size_t n)
{
    scan s = {(const uint8_t *)text, (const uint8_t *)text + n};
    size_t kn[JSON_PATH_MAX];
    if (np > JSON_PATH_MAX)
        return false;
    for (size_t i = 0; i < np; i++) {
        out[i].kind = JSON_PATH_NONE;
        kn[i] = step_len(paths[i]);
    }
    /* The top object, its members matched against the paths' first steps
     * as it is read (the last of a repeated key wins). */
    skip_ws(&s);
    if (s.p == s.end || *s.p != '{')
        return false;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            const uint8_t *b;
            size_t bn;
            json_path_value v;
            if (s.p == s.end || *s.p != '"' || !scan_string(&s, &b, &bn))
                return false;
            skip_ws(&s);
            if (s.p == s.end || *s.p != ':')
                return false;
            s.p++;
            skip_ws(&s);
            if (!scan_value(&s, 1, &v))
                return false;
            for (size_t i = 0; i < np; i++)
                if (key_is(b, bn, paths[i], kn[i]))
                    out[i] = v;
            skip_ws(&s);
            if (s.p == s.end)
                return false;
            if (*s.p == '}') {
                s.p++;
                break;
            }
            if (*s.p != ',')
                return false;
            s.p++;
            skip_ws(&s);
        }
    }
    skip_ws(&s);
    if (s.p != s.end)
        return false;
    /* Later steps, in the values read. */
    for (size_t i = 0; i < np; i++)
        for (const char *p = paths[i] + kn[i]; *p == '.' && out[i].kind != JSON_PATH_NONE;) {
            if (out[i].kind != JSON_PATH_OBJECT) {
                out[i].kind = JSON_PATH_NONE;
                break;
            }
            p++;
            size_t k = step_len(p);
            member(&out[i], out[i], p, k);
            p += k;
        }
    return true;
}

bool json_path_surely_absent(const char *text, size_t n, const char *path)
{
    const char *dot = strchr(path, '.');
    size_t kn = dot ? (size_t)(dot - path) : strlen(path);
    if (kn + 2 > n)
        return true; /* too short to hold the key */
    if (memchr(text, '\\', n) != NULL)
        return false; /* a key may be written with escapes */
    for (const char *p = text, *end = text + n; (p = memchr(p, '"', (size_t)(end - p))) != NULL;
         p++)
        if ((size_t)(end - p) >= kn + 2 && p[kn + 1] == '"' && memcmp(p + 1, path, kn) == 0)
            return false;
    return true;
}

int64_t json_path_integer(const json_path_value *v)
{
    const char *p = v->p, *end = v->p + v->n;
    bool neg = p < end && *p == '-';
    int64_t x = 0;
    for (p += neg; p < end; p++)
        x = x * 10 + (*p - '0');
    return neg ? -x : x;
}

double json_path_number(const json_path_value *v)
{
    if (v->kind == JSON_PATH_INTEGER)
        return (double)json_path_integer(v);
    /* As jansson reads it: strtod with the decimal point of the locale. */
    char buf[NUM_MAX + 1];
    memcpy(buf, v->p, v->n);
    buf[v->n] = 0;
    const char *point = localeconv()->decimal_point;
    char *dot = strchr(buf, '.');
    if (dot != NULL && point != NULL && point[0] != 0 && point[1] == 0)
        *dot = point[0];
    return strtod(buf, NULL);
}
