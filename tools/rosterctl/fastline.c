#include "fastline.h"

#include "clock.h"
#include "error.h"
#include "pbfield.h"

#include <string.h>

/* Keys of one object at most; more is "not mine". */
#define MAX_KEYS 64

typedef struct scan {
    const char *p, *end;
} scan;

/* Where compact text goes (p NULL: nowhere, the value is only checked). */
typedef struct sink {
    char *p;
} sink;

typedef enum { V_STR, V_NULL, V_TRUE, V_FALSE, V_OBJECT, V_OTHER } value_kind;

typedef struct slice {
    const char *b;
    size_t n;
} slice;

typedef struct pair {
    slice key;
    value_kind kind;
    slice value; /* V_STR: the string; V_OBJECT: the object's text */
} pair;

static void put(sink *o, const char *b, size_t n)
{
    if (o->p != NULL) {
        memcpy(o->p, b, n);
        o->p += n;
    }
}

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* A string of printable ASCII without escapes; *out its bytes between the
 * quotes. */
static bool scan_str(scan *s, slice *out)
{
    if (s->p == s->end || *s->p != '"')
        return false;
    const char *b = ++s->p, *q = b;
    for (; q < s->end && *q != '"'; q++) {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20 || c > 0x7e || c == '\\')
            return false;
    }
    if (q == s->end)
        return false;
    out->b = b;
    out->n = (size_t)(q - b);
    s->p = q + 1;
    return true;
}

static bool scan_word(scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* An integer of at most 18 digits, no leading zero, not "-0", and not
 * the start of a fraction or exponent (those are "not mine"). */
static bool scan_int(scan *s)
{
    const char *b = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    const char *d = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    size_t n = (size_t)(s->p - d);
    if (n == 0 || n > 18 || (*d == '0' && (n > 1 || d != b)))
        return false;
    return s->p == s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E');
}

static bool has_key(const slice *keys, size_t n, slice k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i].n == k.n && memcmp(keys[i].b, k.b, k.n) == 0)
            return true;
    return false;
}

static bool scan_value(scan *s, int depth, sink *o, value_kind *kind, slice *str);

/* The rest of an object or array after its opening bracket. */
static bool scan_container(scan *s, int depth, sink *o, bool object)
{
    if (depth >= CTL_FASTLINE_DEPTH)
        return false;
    slice keys[MAX_KEYS];
    size_t n = 0;
    char close = object ? '}' : ']';
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        put(o, &close, 1);
        return true;
    }
    for (;;) {
        if (object) {
            slice k;
            if (!scan_str(s, &k) || n == MAX_KEYS || has_key(keys, n, k))
                return false;
            keys[n++] = k;
            put(o, k.b - 1, k.n + 2);
            skip_ws(s);
            if (s->p == s->end || *s->p != ':')
                return false;
            s->p++;
            put(o, ":", 1);
            skip_ws(s);
        }
        value_kind kind;
        slice str;
        if (!scan_value(s, depth + 1, o, &kind, &str))
            return false;
        skip_ws(s);
        if (s->p == s->end)
            return false;
        char c = *s->p++;
        put(o, &c, 1);
        if (c == close)
            return true;
        if (c != ',')
            return false;
        skip_ws(s);
    }
}

/* One value, written compact to o; *kind says what it was and *str is a
 * string's bytes. */
static bool scan_value(scan *s, int depth, sink *o, value_kind *kind, slice *str)
{
    if (s->p == s->end)
        return false;
    const char *b = s->p;
    switch (*s->p) {
    case '"':
        if (!scan_str(s, str))
            return false;
        *kind = V_STR;
        break;
    case 't':
        if (!scan_word(s, "true", 4))
            return false;
        *kind = V_TRUE;
        break;
    case 'f':
        if (!scan_word(s, "false", 5))
            return false;
        *kind = V_FALSE;
        break;
    case 'n':
        if (!scan_word(s, "null", 4))
            return false;
        *kind = V_NULL;
        break;
    case '{':
    case '[': {
        bool object = *s->p == '{';
        s->p++;
        put(o, b, 1);
        *kind = object ? V_OBJECT : V_OTHER;
        return scan_container(s, depth, o, object);
    }
    default:
        if (!scan_int(s))
            return false;
        *kind = V_OTHER;
        break;
    }
    put(o, b, (size_t)(s->p - b));
    return true;
}

static bool slice_is(slice a, const char *z)
{
    return strlen(z) == a.n && memcmp(a.b, z, a.n) == 0;
}

static bool ignored_key(slice k, const char *const *ignored)
{
    if (slice_is(k, "__typename"))
        return true;
    for (; ignored != NULL && *ignored != NULL; ignored++)
        if (slice_is(k, *ignored))
            return true;
    return false;
}

/* Sets field mf of m from the pair's value, as ctl_record_from_json does;
 * false where it would refuse. */
static bool set_field(ProtobufCMessage *m, const model_record *r, const model_field *mf,
                      const pair *pv, roster_arena *arena)
{
    const ProtobufCFieldDescriptor *f = model_pb_field(r, mf);
    if (pv->kind == V_NULL) {
        ctl_pbfield_clear(m, f);
        return true;
    }
    switch (mf->type) {
    case MODEL_T_BOOL:
        if (pv->kind != V_TRUE && pv->kind != V_FALSE)
            return false;
        ctl_pbfield_set_int(m, f, pv->kind == V_TRUE);
        return true;
    case MODEL_T_DATE: {
        int64_t ms;
        if (pv->kind != V_STR ||
            roster_time_parse_iso(&ms, pv->value.b, pv->value.n) != ROSTER_E_OK)
            return false;
        ctl_pbfield_set_int(m, f, ms);
        return true;
    }
    case MODEL_T_JSON: {
        if (pv->kind != V_OBJECT)
            return false;
        /* The object again, written compact (never longer than read). */
        char *text = roster_arena_alloc(arena, pv->value.n + 1);
        if (text == NULL)
            return false;
        scan s = {pv->value.b + 1, pv->value.b + pv->value.n};
        sink o = {text};
        put(&o, "{", 1);
        if (!scan_container(&s, 1, &o, true))
            return false;
        *o.p = '\0';
        ctl_pbfield_set_str(m, f, text);
        return true;
    }
    default: {
        if (pv->kind != V_STR)
            return false;
        char *copy = roster_arena_strndup(arena, pv->value.b, pv->value.n);
        if (copy == NULL)
            return false;
        ctl_pbfield_set_str(m, f, copy);
        return true;
    }
    }
}

bool ctl_fastline_parse(void *out, size_t *kind, const ctl_line_kind *kinds, size_t n,
                        const char *text, size_t len, roster_arena *arena)
{
    scan s = {text, text + len};
    pair pairs[MAX_KEYS];
    slice keys[MAX_KEYS];
    size_t np = 0;
    sink none = {NULL};
    skip_ws(&s);
    if (s.p == s.end || *s.p != '{')
        return false;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}')
        return false; /* no __typename */
    for (;;) {
        pair *pv = &pairs[np];
        if (!scan_str(&s, &pv->key) || np == MAX_KEYS || has_key(keys, np, pv->key))
            return false;
        keys[np] = pv->key;
        skip_ws(&s);
        if (s.p == s.end || *s.p != ':')
            return false;
        s.p++;
        skip_ws(&s);
        const char *b = s.p;
        if (!scan_value(&s, 1, &none, &pv->kind, &pv->value))
            return false;
        if (pv->kind == V_OBJECT)
            pv->value = (slice){b, (size_t)(s.p - b)};
        np++;
        skip_ws(&s);
        if (s.p == s.end)
            return false;
        char c = *s.p++;
        if (c == '}')
            break;
        if (c != ',')
            return false;
        skip_ws(&s);
    }
    skip_ws(&s);
    if (s.p != s.end)
        return false;

    size_t k = n;
    for (size_t i = 0; i < np && k == n; i++) {
        if (!slice_is(pairs[i].key, "__typename"))
            continue;
        if (pairs[i].kind != V_STR)
            return false;
        for (k = 0; k < n && !slice_is(pairs[i].value, kinds[k].r->gql_type); k++)
            ;
    }
    if (k == n)
        return false;
    const model_record *r = kinds[k].r;
    ProtobufCMessage *m = roster_arena_alloc(arena, r->pb->sizeof_message);
    if (m == NULL)
        return false;
    r->pb->message_init(m);
    for (size_t i = 0; i < np; i++) {
        if (ignored_key(pairs[i].key, kinds[k].ignored))
            continue;
        const model_field *mf = model_field_named(r, pairs[i].key.b, pairs[i].key.n);
        if (mf == NULL || !set_field(m, r, mf, &pairs[i], arena))
            return false;
    }
    memcpy(out, m, r->pb->sizeof_message);
    *kind = k;
    return true;
}
