#include "gql_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Overlapping-fields comparisons allowed per document before giving up. */
#define MERGE_BUDGET 200000u
/* Response-name groups larger than this are compared against their first
 * field only (keeps hostile documents linear). */
#define PAIRWISE_MAX 32u

typedef struct vvec {
    void *items;
    uint32_t count;
    uint32_t cap;
} vvec;

typedef struct usage {
    gql_str name;
    gql_location loc;
    const gql_wtype *type; /* expected type at the position; NULL if unknown */
    int loc_has_default;
} usage;

typedef struct spread_ref {
    uint32_t frag; /* index in doc->frags, or UINT32_MAX when unknown */
    gql_location loc;
} spread_ref;

typedef struct defn_info {
    vvec usages;  /* usage */
    vvec spreads; /* spread_ref */
} defn_info;

typedef struct gathered {
    gql_str key;
    const gql_selection *field;
    const gql_type *parent;
    uint32_t origin; /* 0: the selection set itself, else top-level spread + 1 */
    uint32_t order;
} gathered;

typedef struct vctx {
    const gql_schema *s;
    gql_document *doc;
    gql_errors *errs;
    roster_arena a;
    uint32_t *frag_table;
    uint32_t frag_mask;
    defn_info *info_ops;
    defn_info *info_frags;
    defn_info *cur;
    uint32_t *frag_epoch;
    uint32_t epoch;
    uint64_t budget;
    int budget_reported;
    uint32_t merge_depth;
    int nomem;
    int failed;
} vctx;

static void *v_alloc(vctx *c, size_t n)
{
    void *p = roster_arena_alloc(&c->a, n ? n : 1);
    if (p == NULL) {
        c->nomem = 1;
        return NULL;
    }
    memset(p, 0, n ? n : 1);
    return p;
}

static void *vpush(vctx *c, vvec *v, size_t elem)
{
    if (v->count == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 8;
        void *n = v_alloc(c, (size_t)cap * elem);
        if (n == NULL)
            return NULL;
        if (v->count)
            memcpy(n, v->items, (size_t)v->count * elem);
        v->items = n;
        v->cap = cap;
    }
    void *slot = (char *)v->items + (size_t)v->count * elem;
    v->count++;
    memset(slot, 0, elem);
    return slot;
}

static void verr(vctx *c, const gql_location *locs, uint32_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void verr(vctx *c, const gql_location *locs, uint32_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->failed = 1;
    if (gql_errors_vadd(c->errs, GQL_CODE_VALIDATION_FAILED, locs, n, fmt, ap) == NULL &&
        c->errs->nomem)
        c->nomem = 1;
    va_end(ap);
}

static void verr1(vctx *c, gql_location loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verr1(vctx *c, gql_location loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    c->failed = 1;
    if (gql_errors_vadd(c->errs, GQL_CODE_VALIDATION_FAILED, &loc, 1, fmt, ap) == NULL &&
        c->errs->nomem)
        c->nomem = 1;
    va_end(ap);
}

static int seq(gql_str a, gql_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int seqz(gql_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && memcmp(a.ptr, b, n) == 0;
}

#define PS(s) (int)(s).len, (s).ptr

/* A NUL-terminated scratch copy of a printed type or value. */
static const char *tstr(vctx *c, const gql_wtype *t)
{
    gql_buf b;
    gql_buf_init(&b);
    gql_wtype_print(&b, t);
    char *r = b.oom ? NULL : roster_arena_strndup(&c->a, b.data ? b.data : "", b.len);
    gql_buf_free(&b);
    if (r == NULL) {
        c->nomem = 1;
        return "";
    }
    return r;
}

static const char *vstr(vctx *c, const gql_value *v)
{
    gql_buf b;
    gql_buf_init(&b);
    gql_value_print(&b, v);
    size_t n = b.len > 4096 ? 4096 : b.len;
    char *r = b.oom ? NULL : roster_arena_strndup(&c->a, b.data ? b.data : "", n);
    gql_buf_free(&b);
    if (r == NULL) {
        c->nomem = 1;
        return "";
    }
    return r;
}

static void ref_print(gql_buf *b, const gql_type_ref *r)
{
    if (r->kind == GQL_TREF_LIST) {
        gql_buf_append(b, "[", 1);
        ref_print(b, r->of);
        gql_buf_append(b, "]", 1);
    } else if (r->kind == GQL_TREF_NON_NULL) {
        ref_print(b, r->of);
        gql_buf_append(b, "!", 1);
    } else {
        gql_buf_append(b, r->name.ptr, r->name.len);
    }
}

static const char *rstr(vctx *c, const gql_type_ref *r)
{
    gql_buf b;
    gql_buf_init(&b);
    ref_print(&b, r);
    char *res = b.oom ? NULL : roster_arena_strndup(&c->a, b.data ? b.data : "", b.len);
    gql_buf_free(&b);
    if (res == NULL) {
        c->nomem = 1;
        return "";
    }
    return res;
}

/* --- Suggestions ("Did you mean ...?") as graphql-js computes them. */

static int lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
}

/* Optimal string alignment distance on lower-cased text; -1 above threshold. */
static int lex_distance(gql_str input, gql_str option, int threshold)
{
    if (seq(input, option))
        return 0;
    if (input.len == option.len) {
        int same = 1;
        for (uint32_t i = 0; i < input.len; i++)
            if (lower(input.ptr[i]) != lower(option.ptr[i]))
                same = 0;
        if (same)
            return 1;
    }
    const char *a = option.ptr, *b = input.ptr;
    int al = (int)option.len, bl = (int)input.len;
    if (al < bl) {
        const char *t = a;
        a = b;
        b = t;
        int tl = al;
        al = bl;
        bl = tl;
    }
    if (al - bl > threshold)
        return -1;
    if (bl > 256)
        return -1;
    int rows[3][257];
    for (int j = 0; j <= bl; j++)
        rows[0][j] = j;
    for (int i = 1; i <= al; i++) {
        int *up = rows[(i - 1) % 3];
        int *cur = rows[i % 3];
        int small = cur[0] = i;
        for (int j = 1; j <= bl; j++) {
            int cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            int cc = up[j] + 1;
            if (cur[j - 1] + 1 < cc)
                cc = cur[j - 1] + 1;
            if (up[j - 1] + cost < cc)
                cc = up[j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1])) {
                int dd = rows[(i - 2) % 3][j - 2] + 1;
                if (dd < cc)
                    cc = dd;
            }
            if (cc < small)
                small = cc;
            cur[j] = cc;
        }
        if (small > threshold)
            return -1;
    }
    int d = rows[al % 3][bl];
    return d <= threshold ? d : -1;
}

typedef struct sugg {
    gql_str name;
    int dist;
} sugg;

static int sugg_cmp(const void *x, const void *y)
{
    const sugg *a = x, *b = y;
    if (a->dist != b->dist)
        return a->dist - b->dist;
    uint32_t n = a->name.len < b->name.len ? a->name.len : b->name.len;
    int r = memcmp(a->name.ptr, b->name.ptr, n);
    if (r)
        return r;
    return (int)a->name.len - (int)b->name.len;
}

/* Builds " Did you mean ...?" (possibly empty) into a scratch string. */
static const char *did_you_mean(vctx *c, const char *sub, gql_str input, const gql_str *opts,
                                uint32_t n)
{
    if (n == 0)
        return "";
    sugg *list = v_alloc(c, n * sizeof *list);
    if (list == NULL)
        return "";
    uint32_t k = 0;
    int threshold = (int)(input.len * 4 / 10) + 1;
    for (uint32_t i = 0; i < n; i++) {
        int d = lex_distance(input, opts[i], threshold);
        if (d >= 0) {
            list[k].name = opts[i];
            list[k].dist = d;
            k++;
        }
    }
    if (k == 0)
        return "";
    qsort(list, k, sizeof *list, sugg_cmp);
    if (k > 5)
        k = 5;
    gql_buf b;
    gql_buf_init(&b);
    gql_buf_append(&b, " Did you mean ", 14);
    if (sub) {
        gql_buf_append(&b, sub, strlen(sub));
        gql_buf_append(&b, " ", 1);
    }
    for (uint32_t i = 0; i < k; i++) {
        if (i > 0)
            gql_buf_append(&b, k == 2 ? " or " : (i == k - 1 ? ", or " : ", "),
                           k == 2 ? 4 : (i == k - 1 ? 5 : 2));
        gql_buf_append(&b, "\"", 1);
        gql_buf_append(&b, list[i].name.ptr, list[i].name.len);
        gql_buf_append(&b, "\"", 1);
    }
    gql_buf_append(&b, "?", 1);
    char *r = b.oom ? NULL : roster_arena_strndup(&c->a, b.data, b.len);
    gql_buf_free(&b);
    return r ? r : "";
}

void gql_did_you_mean(gql_buf *out, const char *sub, gql_str input, const gql_str *options,
                      uint32_t n)
{
    vctx c;
    memset(&c, 0, sizeof c);
    roster_arena_init(&c.a, 1024, 0);
    const char *s = did_you_mean(&c, sub, input, options, n);
    gql_buf_append(out, s, strlen(s));
    roster_arena_free(&c.a);
}

static const char *suggest_fields(vctx *c, gql_str input, const gql_field *f, uint32_t n)
{
    gql_str *o = v_alloc(c, (n + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < n; i++)
        o[i] = f[i].name;
    return did_you_mean(c, NULL, input, o, n);
}

static const char *suggest_inputs(vctx *c, gql_str input, const gql_input_field *f, uint32_t n)
{
    gql_str *o = v_alloc(c, (n + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < n; i++)
        o[i] = f[i].name;
    return did_you_mean(c, NULL, input, o, n);
}

static const char *suggest_enum(vctx *c, gql_str input, const gql_type *t)
{
    gql_str *o = v_alloc(c, (t->n_values + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < t->n_values; i++)
        o[i] = t->values[i].name;
    return did_you_mean(c, "the enum value", input, o, t->n_values);
}

static const char *suggest_types(vctx *c, gql_str input)
{
    gql_str *o = v_alloc(c, (c->s->n_types + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < c->s->n_types; i++)
        o[i] = c->s->types[i]->name;
    return did_you_mean(c, NULL, input, o, c->s->n_types);
}

/* --- Fragments by name. */

static uint32_t hname(gql_str s)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < s.len; i++) {
        h ^= (unsigned char)s.ptr[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t find_frag(vctx *c, gql_str name)
{
    uint32_t h = hname(name) & c->frag_mask;
    while (c->frag_table[h]) {
        uint32_t i = c->frag_table[h] - 1;
        if (seq(c->doc->frags[i]->name, name))
            return i;
        h = (h + 1) & c->frag_mask;
    }
    return UINT32_MAX;
}

/* --- Values of correct type. */

static void record_usage(vctx *c, const gql_value *v, const gql_wtype *t, int loc_default)
{
    usage *u = vpush(c, &c->cur->usages, sizeof *u);
    if (u == NULL)
        return;
    u->name = v->u.string;
    u->loc = v->loc;
    u->type = t;
    u->loc_has_default = loc_default;
}

/* Records variable usages inside a value without type information. */
static void collect_vars(vctx *c, const gql_value *v, const gql_wtype *t)
{
    if (v->kind == GQL_VALUE_VARIABLE) {
        record_usage(c, v, t, 0);
    } else if (v->kind == GQL_VALUE_LIST) {
        for (uint32_t i = 0; i < v->u.list.count; i++)
            collect_vars(c, v->u.list.items[i], t);
    } else if (v->kind == GQL_VALUE_OBJECT) {
        for (uint32_t i = 0; i < v->u.object.count; i++)
            collect_vars(c, v->u.object.fields[i].value, NULL);
    }
}

static int has_variables(const gql_value *v)
{
    if (v->kind == GQL_VALUE_VARIABLE)
        return 1;
    if (v->kind == GQL_VALUE_LIST) {
        for (uint32_t i = 0; i < v->u.list.count; i++)
            if (has_variables(v->u.list.items[i]))
                return 1;
    } else if (v->kind == GQL_VALUE_OBJECT) {
        for (uint32_t i = 0; i < v->u.object.count; i++)
            if (has_variables(v->u.object.fields[i].value))
                return 1;
    }
    return 0;
}

static int raw_is_integer(const gql_value *v)
{
    for (uint32_t i = 0; i < v->raw.len; i++)
        if (v->raw.ptr[i] == '.' || v->raw.ptr[i] == 'e' || v->raw.ptr[i] == 'E')
            return 0;
    return v->raw.len > 0;
}

/* Checks a leaf literal (scalar or enum) against named type t; loc_type is
 * the full type at the position, for messages. */
static void check_leaf(vctx *c, const gql_value *v, const gql_type *t, const gql_wtype *loc_type)
{
    if (t->kind == GQL_KIND_ENUM) {
        if (v->kind != GQL_VALUE_ENUM) {
            const char *vs = vstr(c, v);
            gql_str in = {vs, (uint32_t)strlen(vs)};
            verr1(c, v->loc, "Enum \"%.*s\" cannot represent non-enum value: %s.%s", PS(t->name),
                  vs, suggest_enum(c, in, t));
        } else if (gql_type_enum_value(t, v->u.string.ptr, v->u.string.len) == NULL) {
            verr1(c, v->loc, "Value \"%.*s\" does not exist in \"%.*s\" enum.%s", PS(v->u.string),
                  PS(t->name), suggest_enum(c, v->u.string, t));
        }
        return;
    }
    switch (t->builtin) {
    case GQL_SCALAR_INT:
        if (v->kind == GQL_VALUE_INT) {
            if (v->u.integer < INT32_MIN || v->u.integer > INT32_MAX)
                verr1(c, v->loc, "Int cannot represent non 32-bit signed integer value: %.*s",
                      PS(v->raw));
        } else if (v->kind == GQL_VALUE_FLOAT && raw_is_integer(v)) {
            verr1(c, v->loc, "Int cannot represent non 32-bit signed integer value: %.*s",
                  PS(v->raw));
        } else {
            verr1(c, v->loc, "Int cannot represent non-integer value: %s", vstr(c, v));
        }
        return;
    case GQL_SCALAR_FLOAT:
        if (v->kind != GQL_VALUE_INT && v->kind != GQL_VALUE_FLOAT)
            verr1(c, v->loc, "Float cannot represent non numeric value: %s", vstr(c, v));
        return;
    case GQL_SCALAR_STRING:
        if (v->kind != GQL_VALUE_STRING)
            verr1(c, v->loc, "String cannot represent a non string value: %s", vstr(c, v));
        return;
    case GQL_SCALAR_BOOLEAN:
        if (v->kind != GQL_VALUE_BOOLEAN)
            verr1(c, v->loc, "Boolean cannot represent a non boolean value: %s", vstr(c, v));
        return;
    case GQL_SCALAR_ID:
        if (v->kind != GQL_VALUE_STRING && v->kind != GQL_VALUE_INT &&
            !(v->kind == GQL_VALUE_FLOAT && raw_is_integer(v)))
            verr1(c, v->loc, "ID cannot represent a non-string and non-integer value: %s",
                  vstr(c, v));
        return;
    default:
        break;
    }
    /* Custom scalar: its input hook decides, unless variables are inside
     * (then execution coerces it). */
    if (t->hooks.coerce_input == NULL || has_variables(v))
        return;
    gql_value out;
    const char *msg = NULL;
    if (t->hooks.coerce_input(&out, v, &c->a, &msg, t->hooks.ud) != ROSTER_E_OK)
        verr1(c, v->loc, "Expected value of type \"%s\", found %s; %s", tstr(c, loc_type),
              vstr(c, v), msg ? msg : "invalid value");
}

static void check_value(vctx *c, const gql_value *v, const gql_wtype *t, int loc_default)
{
    if (c->nomem)
        return;
    if (v->kind == GQL_VALUE_VARIABLE) {
        record_usage(c, v, t, loc_default);
        return;
    }
    if (t == NULL) {
        collect_vars(c, v, NULL);
        return;
    }
    const gql_wtype *loc_type = t;
    if (t->kind == GQL_KIND_NON_NULL) {
        if (v->kind == GQL_VALUE_NULL) {
            verr1(c, v->loc, "Expected value of type \"%s\", found null.", tstr(c, t));
            return;
        }
        t = t->of;
    }
    if (v->kind == GQL_VALUE_NULL)
        return;
    if (v->kind == GQL_VALUE_LIST) {
        if (t->kind == GQL_KIND_LIST) {
            for (uint32_t i = 0; i < v->u.list.count; i++)
                check_value(c, v->u.list.items[i], t->of, 0);
            return;
        }
        /* A list where no list is expected: one error for the whole value. */
        if (t->named->kind == GQL_KIND_INPUT_OBJECT)
            verr1(c, v->loc, "Expected value of type \"%s\", found %s.", tstr(c, loc_type),
                  vstr(c, v));
        else
            check_leaf(c, v, t->named, loc_type);
        collect_vars(c, v, t);
        return;
    }
    if (t->kind == GQL_KIND_LIST) {
        check_value(c, v, t->of, 0);
        return;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_KIND_INPUT_OBJECT) {
        if (v->kind != GQL_VALUE_OBJECT) {
            verr1(c, v->loc, "Expected value of type \"%s\", found %s.", tstr(c, loc_type),
                  vstr(c, v));
            return;
        }
        for (uint32_t i = 0; i < v->u.object.count; i++) {
            const gql_object_field *of = &v->u.object.fields[i];
            for (uint32_t j = 0; j < i; j++)
                if (seq(v->u.object.fields[j].name, of->name)) {
                    gql_location l[2] = {v->u.object.fields[j].loc, of->loc};
                    verr(c, l, 2, "There can be only one input field named \"%.*s\".",
                         PS(of->name));
                    break;
                }
            const gql_input_field *fd = gql_input_field_find(nt->input_fields, nt->n_input_fields,
                                                             of->name.ptr, of->name.len);
            if (fd == NULL) {
                verr1(c, of->loc, "Field \"%.*s\" is not defined by type \"%.*s\".%s", PS(of->name),
                      PS(nt->name),
                      suggest_inputs(c, of->name, nt->input_fields, nt->n_input_fields));
                collect_vars(c, of->value, NULL);
                continue;
            }
            check_value(c, of->value, fd->type, fd->default_value != NULL);
        }
        for (uint32_t k = 0; k < nt->n_input_fields; k++) {
            const gql_input_field *fd = &nt->input_fields[k];
            if (fd->type->kind != GQL_KIND_NON_NULL || fd->default_value)
                continue;
            int found = 0;
            for (uint32_t i = 0; i < v->u.object.count && !found; i++)
                if (seq(v->u.object.fields[i].name, fd->name))
                    found = 1;
            if (!found)
                verr1(c, v->loc, "Field \"%.*s.%.*s\" of required type \"%s\" was not provided.",
                      PS(nt->name), PS(fd->name), tstr(c, fd->type));
        }
        return;
    }
    if (v->kind == GQL_VALUE_OBJECT)
        collect_vars(c, v, NULL);
    check_leaf(c, v, nt, loc_type);
}

/* --- Arguments and directives. */

static void check_args(vctx *c, const gql_argument *args, uint32_t n, const gql_input_field *defs,
                       uint32_t n_defs, int known_owner, const char *owner_kind,
                       const char *owner_name, gql_location owner_loc, const char *req_prefix)
{
    for (uint32_t i = 0; i < n; i++) {
        const gql_argument *a = &args[i];
        /* UniqueArgumentNames: one error per name with every location. */
        int first = 1, dup = 0;
        for (uint32_t j = 0; j < n; j++)
            if (j != i && seq(args[j].name, a->name)) {
                if (j < i)
                    first = 0;
                dup = 1;
            }
        if (dup && first) {
            gql_location *l = v_alloc(c, n * sizeof *l);
            uint32_t k = 0;
            if (l) {
                for (uint32_t j = 0; j < n; j++)
                    if (seq(args[j].name, a->name))
                        l[k++] = args[j].loc;
                verr(c, l, k, "There can be only one argument named \"%.*s\".", PS(a->name));
            }
        }
        const gql_input_field *d =
            known_owner ? gql_input_field_find(defs, n_defs, a->name.ptr, a->name.len) : NULL;
        if (known_owner && d == NULL) {
            if (owner_kind[0] == 'f')
                verr1(c, a->loc, "Unknown argument \"%.*s\" on field \"%s\".%s", PS(a->name),
                      owner_name, suggest_inputs(c, a->name, defs, n_defs));
            else
                verr1(c, a->loc, "Unknown argument \"%.*s\" on directive \"@%s\".%s", PS(a->name),
                      owner_name, suggest_inputs(c, a->name, defs, n_defs));
        }
        if (d)
            check_value(c, a->value, d->type, d->default_value != NULL);
        else
            collect_vars(c, a->value, NULL);
    }
    if (!known_owner)
        return;
    for (uint32_t k = 0; k < n_defs; k++) {
        const gql_input_field *d = &defs[k];
        if (d->type->kind != GQL_KIND_NON_NULL || d->default_value)
            continue;
        int found = 0;
        for (uint32_t i = 0; i < n && !found; i++)
            if (seq(args[i].name, d->name))
                found = 1;
        if (!found)
            verr1(c, owner_loc,
                  "%s argument \"%.*s\" of type \"%s\" is required, but it was not provided.",
                  req_prefix, PS(d->name), tstr(c, d->type));
    }
}

static const char *loc_name(uint32_t bit)
{
    static const char *const names[] = {"QUERY",
                                        "MUTATION",
                                        "SUBSCRIPTION",
                                        "FIELD",
                                        "FRAGMENT_DEFINITION",
                                        "FRAGMENT_SPREAD",
                                        "INLINE_FRAGMENT",
                                        "VARIABLE_DEFINITION",
                                        "SCHEMA",
                                        "SCALAR",
                                        "OBJECT",
                                        "FIELD_DEFINITION",
                                        "ARGUMENT_DEFINITION",
                                        "INTERFACE",
                                        "UNION",
                                        "ENUM",
                                        "ENUM_VALUE",
                                        "INPUT_OBJECT",
                                        "INPUT_FIELD_DEFINITION"};
    for (int i = 0; i < 19; i++)
        if (bit == (1u << i))
            return names[i];
    return "UNKNOWN";
}

static void check_directives(vctx *c, const gql_directive *dirs, uint32_t n, uint32_t location)
{
    for (uint32_t i = 0; i < n; i++) {
        const gql_directive *d = &dirs[i];
        const gql_directive_def *def = gql_schema_directive(c->s, d->name.ptr, d->name.len);
        char owner[300];
        snprintf(owner, sizeof owner, "%.*s", PS(d->name));
        if (def == NULL) {
            verr1(c, d->loc, "Unknown directive \"@%.*s\".", PS(d->name));
        } else {
            if (!(def->locations & location))
                verr1(c, d->loc, "Directive \"@%.*s\" may not be used on %s.", PS(d->name),
                      loc_name(location));
            if (!def->repeatable)
                for (uint32_t j = 0; j < i; j++)
                    if (seq(dirs[j].name, d->name)) {
                        gql_location l[2] = {dirs[j].loc, d->loc};
                        verr(c, l, 2,
                             "The directive \"@%.*s\" can only be used once at this location.",
                             PS(d->name));
                        break;
                    }
        }
        char prefix[320];
        snprintf(prefix, sizeof prefix, "Directive \"@%.*s\"", PS(d->name));
        check_args(c, d->args, d->n_args, def ? def->args : NULL, def ? def->n_args : 0,
                   def != NULL, "directive", owner, d->loc, prefix);
    }
}

/* --- Selections. */

static void visit_selection_set(vctx *c, const gql_selection_set *ss, const gql_type *parent);

static int is_composite(const gql_type *t)
{
    return t->kind == GQL_KIND_OBJECT || t->kind == GQL_KIND_INTERFACE || t->kind == GQL_KIND_UNION;
}

static const gql_field *field_def(vctx *c, const gql_type *parent, gql_str name)
{
    if (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_') {
        if (seqz(name, "__typename"))
            return c->s->f_typename;
        if (parent == c->s->query) {
            if (seqz(name, "__schema"))
                return c->s->f_schema;
            if (seqz(name, "__type"))
                return c->s->f_type;
        }
    }
    if (parent->kind != GQL_KIND_OBJECT)
        return NULL;
    return gql_type_field(parent, name.ptr, name.len);
}

static void visit_field(vctx *c, gql_selection *sel, const gql_type *parent)
{
    const gql_field *def = NULL;
    if (parent) {
        def = field_def(c, parent, sel->name);
        if (def == NULL)
            verr1(c, sel->loc, "Cannot query field \"%.*s\" on type \"%.*s\".%s", PS(sel->name),
                  PS(parent->name), suggest_fields(c, sel->name, parent->fields, parent->n_fields));
    }
    sel->def = def;
    char owner[300];
    if (def)
        snprintf(owner, sizeof owner, "%.*s.%.*s", PS(parent->name), PS(def->name));
    char prefix[320];
    snprintf(prefix, sizeof prefix, "Field \"%.*s\"", PS(sel->name));
    check_args(c, sel->args, sel->n_args, def ? def->args : NULL, def ? def->n_args : 0,
               def != NULL, "field", owner, sel->loc, prefix);
    check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_FIELD);
    const gql_type *child = NULL;
    if (def) {
        const gql_type *nt = def->type->named;
        if (nt->kind == GQL_KIND_SCALAR || nt->kind == GQL_KIND_ENUM) {
            if (sel->sel)
                verr1(c, sel->sel->loc,
                      "Field \"%.*s\" must not have a selection since type \"%s\" has no "
                      "subfields.",
                      PS(sel->name), tstr(c, def->type));
        } else if (sel->sel == NULL) {
            verr1(c, sel->loc,
                  "Field \"%.*s\" of type \"%s\" must have a selection of subfields. Did you "
                  "mean \"%.*s { ... }\"?",
                  PS(sel->name), tstr(c, def->type), PS(sel->name));
        }
        if (is_composite(nt))
            child = nt;
    }
    if (sel->sel)
        visit_selection_set(c, sel->sel, child);
}

static void record_spread(vctx *c, uint32_t frag, gql_location loc)
{
    spread_ref *r = vpush(c, &c->cur->spreads, sizeof *r);
    if (r) {
        r->frag = frag;
        r->loc = loc;
    }
}

static void visit_selection_set(vctx *c, const gql_selection_set *ss, const gql_type *parent)
{
    for (uint32_t i = 0; i < ss->count && !c->nomem; i++) {
        gql_selection *sel = &ss->items[i];
        switch (sel->kind) {
        case GQL_SEL_FIELD:
            visit_field(c, sel, parent);
            break;
        case GQL_SEL_INLINE_FRAGMENT: {
            const gql_type *cond = parent;
            int cond_known = 1;
            if (sel->type_cond.len) {
                cond = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
                if (cond == NULL) {
                    verr1(c, sel->type_cond_loc, "Unknown type \"%.*s\".%s", PS(sel->type_cond),
                          suggest_types(c, sel->type_cond));
                    cond_known = 0;
                } else if (!is_composite(cond)) {
                    verr1(c, sel->type_cond_loc,
                          "Fragment cannot condition on non composite type \"%.*s\".",
                          PS(sel->type_cond));
                    cond = NULL;
                } else if (parent && cond != parent) {
                    verr1(c, sel->loc,
                          "Fragment cannot be spread here as objects of type \"%.*s\" can never "
                          "be of type \"%.*s\".",
                          PS(parent->name), PS(cond->name));
                }
            }
            (void)cond_known;
            check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_INLINE_FRAGMENT);
            visit_selection_set(c, sel->sel, cond);
            break;
        }
        case GQL_SEL_FRAGMENT_SPREAD: {
            uint32_t fi = find_frag(c, sel->name);
            if (fi == UINT32_MAX) {
                verr1(c, sel->name_loc, "Unknown fragment \"%.*s\".", PS(sel->name));
            } else {
                const gql_fragment *f = c->doc->frags[fi];
                sel->fragment = f;
                const gql_type *ft = gql_schema_type(c->s, f->type_cond.ptr, f->type_cond.len);
                if (parent && ft && is_composite(ft) && ft != parent)
                    verr1(c, sel->loc,
                          "Fragment \"%.*s\" cannot be spread here as objects of type \"%.*s\" "
                          "can never be of type \"%.*s\".",
                          PS(sel->name), PS(parent->name), PS(ft->name));
            }
            record_spread(c, fi, sel->loc);
            check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_FRAGMENT_SPREAD);
            break;
        }
        }
    }
}

/* A scratch gql_wtype for a document's type reference; NULL when a named
 * type is unknown. */
static const gql_wtype *wtype_from_ref(vctx *c, const gql_type_ref *r)
{
    if (r->kind == GQL_TREF_NAMED) {
        const gql_type *t = gql_schema_type(c->s, r->name.ptr, r->name.len);
        return t ? &t->self : NULL;
    }
    const gql_wtype *inner = wtype_from_ref(c, r->of);
    if (inner == NULL)
        return NULL;
    gql_wtype *w = v_alloc(c, sizeof *w);
    if (w == NULL)
        return NULL;
    w->kind = r->kind == GQL_TREF_LIST ? GQL_KIND_LIST : GQL_KIND_NON_NULL;
    w->of = inner;
    w->named = inner->named;
    return w;
}

static const gql_type_ref *ref_named(const gql_type_ref *r)
{
    while (r->kind != GQL_TREF_NAMED)
        r = r->of;
    return r;
}

static void visit_operation(vctx *c, gql_operation *op)
{
    static const uint32_t bits[] = {GQL_DLOC_QUERY, GQL_DLOC_MUTATION, GQL_DLOC_SUBSCRIPTION};
    for (uint32_t i = 0; i < op->n_vars; i++) {
        gql_var_def *vd = &op->vars[i];
        /* UniqueVariableNames: one error per name with every location. */
        int first = 1, dup = 0;
        for (uint32_t j = 0; j < op->n_vars; j++)
            if (j != i && seq(op->vars[j].name, vd->name)) {
                if (j < i)
                    first = 0;
                dup = 1;
            }
        if (dup && first) {
            gql_location *l = v_alloc(c, op->n_vars * sizeof *l);
            uint32_t k = 0;
            if (l) {
                for (uint32_t j = 0; j < op->n_vars; j++)
                    if (seq(op->vars[j].name, vd->name))
                        l[k++] = op->vars[j].name_loc;
                verr(c, l, k, "There can be only one variable named \"$%.*s\".", PS(vd->name));
            }
        }
        const gql_type_ref *nr = ref_named(vd->type);
        const gql_type *nt = gql_schema_type(c->s, nr->name.ptr, nr->name.len);
        vd->named = nt;
        if (nt == NULL) {
            verr1(c, nr->loc, "Unknown type \"%.*s\".%s", PS(nr->name), suggest_types(c, nr->name));
        } else if (!gql_wtype_is_input(&nt->self)) {
            verr1(c, vd->type->loc, "Variable \"$%.*s\" cannot be non-input type \"%s\".",
                  PS(vd->name), rstr(c, vd->type));
        }
        check_directives(c, vd->dirs, vd->n_dirs, GQL_DLOC_VARIABLE_DEFINITION);
        if (vd->default_value && nt && gql_wtype_is_input(&nt->self))
            check_value(c, vd->default_value, wtype_from_ref(c, vd->type), 0);
    }
    check_directives(c, op->dirs, op->n_dirs, bits[op->type]);
    const gql_type *root = op->type == GQL_OP_QUERY      ? c->s->query
                           : op->type == GQL_OP_MUTATION ? c->s->mutation
                                                         : c->s->subscription;
    visit_selection_set(c, op->sel, root);
}

/* --- Fragment cycles, unused fragments, variables. */

typedef struct cycle_state {
    uint8_t *visited;
    int32_t *path_index; /* per fragment: position in path, -1 if not on it */
    spread_ref **path;
    uint32_t path_len;
} cycle_state;

static int loc_before(gql_location a, gql_location b)
{
    return a.line < b.line || (a.line == b.line && a.column < b.column);
}

/* graphql-js lists a fragment's spreads for cycle detection with a stack of
 * selection sets: the spreads of one set in order, then its nested sets,
 * the last pushed first. The spreads of the first cycle found in that order
 * are the ones an error names, so the spreads of fragment f (recorded in
 * document order, which is location order) are put in that order. */
static void order_spreads_like_graphql_js(vctx *c, uint32_t f)
{
    defn_info *inf = &c->info_frags[f];
    uint32_t n = inf->spreads.count;
    if (n < 2)
        return;
    const spread_ref *doc_order = inf->spreads.items;
    spread_ref *out = v_alloc(c, n * sizeof *out);
    vvec sets = {0};
    const gql_selection_set **top = vpush(c, &sets, sizeof *top);
    if (out == NULL || top == NULL)
        return;
    *top = c->doc->frags[f]->sel;
    uint32_t k = 0;
    while (sets.count && !c->nomem) {
        const gql_selection_set *ss = ((const gql_selection_set **)sets.items)[--sets.count];
        for (uint32_t i = 0; ss && i < ss->count; i++) {
            const gql_selection *sel = &ss->items[i];
            if (sel->kind == GQL_SEL_FRAGMENT_SPREAD) {
                /* Its record: the first at or after its location. */
                uint32_t lo = 0, hi = n;
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (loc_before(doc_order[mid].loc, sel->loc))
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                if (lo == n || k == n || doc_order[lo].loc.line != sel->loc.line ||
                    doc_order[lo].loc.column != sel->loc.column)
                    return; /* not the recorded spreads: keep document order */
                out[k++] = doc_order[lo];
            } else if (sel->sel) {
                const gql_selection_set **slot = vpush(c, &sets, sizeof *slot);
                if (slot == NULL)
                    return;
                *slot = sel->sel;
            }
        }
    }
    if (k == n && !c->nomem)
        inf->spreads.items = out;
}

static void detect_cycle(vctx *c, cycle_state *cs, uint32_t f)
{
    cs->visited[f] = 1;
    defn_info *inf = &c->info_frags[f];
    cs->path_index[f] = (int32_t)cs->path_len;
    spread_ref *sp = inf->spreads.items;
    for (uint32_t i = 0; i < inf->spreads.count && !c->nomem; i++) {
        uint32_t t = sp[i].frag;
        if (t == UINT32_MAX)
            continue;
        int32_t ci = cs->path_index[t];
        cs->path[cs->path_len++] = &sp[i];
        if (ci < 0) {
            if (!cs->visited[t])
                detect_cycle(c, cs, t);
        } else {
            uint32_t n = cs->path_len - (uint32_t)ci;
            gql_location *l = v_alloc(c, n * sizeof *l);
            gql_buf via;
            gql_buf_init(&via);
            for (uint32_t k = 0; k + 1 < n; k++) {
                const gql_fragment *vf = c->doc->frags[cs->path[(uint32_t)ci + k]->frag];
                if (k)
                    gql_buf_append(&via, ", ", 2);
                gql_buf_append(&via, "\"", 1);
                gql_buf_append(&via, vf->name.ptr, vf->name.len);
                gql_buf_append(&via, "\"", 1);
            }
            if (l) {
                for (uint32_t k = 0; k < n; k++)
                    l[k] = cs->path[(uint32_t)ci + k]->loc;
                const gql_fragment *tf = c->doc->frags[t];
                if (via.len)
                    verr(c, l, n, "Cannot spread fragment \"%.*s\" within itself via %.*s.",
                         PS(tf->name), (int)via.len, via.data);
                else
                    verr(c, l, n, "Cannot spread fragment \"%.*s\" within itself.", PS(tf->name));
            }
            gql_buf_free(&via);
        }
        cs->path_len--;
    }
    cs->path_index[f] = -1;
}

/* Marks every fragment reachable from inf (iteratively). */
static void reach(vctx *c, defn_info *inf, uint8_t *mark, uint32_t *stack)
{
    uint32_t sp = 0;
    spread_ref *s = inf->spreads.items;
    for (uint32_t i = 0; i < inf->spreads.count; i++)
        if (s[i].frag != UINT32_MAX && !mark[s[i].frag]) {
            mark[s[i].frag] = 1;
            stack[sp++] = s[i].frag;
        }
    while (sp) {
        uint32_t f = stack[--sp];
        defn_info *fi = &c->info_frags[f];
        spread_ref *fs = fi->spreads.items;
        for (uint32_t i = 0; i < fi->spreads.count; i++)
            if (fs[i].frag != UINT32_MAX && !mark[fs[i].frag]) {
                mark[fs[i].frag] = 1;
                stack[sp++] = fs[i].frag;
            }
    }
}

static int ref_is_subtype(const gql_type_ref *var, const gql_wtype *loc)
{
    if (loc->kind == GQL_KIND_NON_NULL) {
        if (var->kind == GQL_TREF_NON_NULL)
            return ref_is_subtype(var->of, loc->of);
        return 0;
    }
    if (var->kind == GQL_TREF_NON_NULL)
        return ref_is_subtype(var->of, loc);
    if (loc->kind == GQL_KIND_LIST) {
        if (var->kind == GQL_TREF_LIST)
            return ref_is_subtype(var->of, loc->of);
        return 0;
    }
    if (var->kind == GQL_TREF_LIST)
        return 0;
    return seq(var->name, loc->named->name);
}

static void check_operation_variables(vctx *c, uint32_t oi, uint8_t *mark, uint32_t *stack)
{
    gql_operation *op = c->doc->ops[oi];
    memset(mark, 0, c->doc->n_frags + 1);
    reach(c, &c->info_ops[oi], mark, stack);
    uint8_t *used = v_alloc(c, op->n_vars + 1);
    if (used == NULL)
        return;
    for (uint32_t src = 0; src <= c->doc->n_frags; src++) {
        defn_info *inf;
        if (src == 0)
            inf = &c->info_ops[oi];
        else if (mark[src - 1])
            inf = &c->info_frags[src - 1];
        else
            continue;
        usage *u = inf->usages.items;
        for (uint32_t i = 0; i < inf->usages.count; i++) {
            const gql_var_def *vd = NULL;
            for (uint32_t k = 0; k < op->n_vars; k++)
                if (seq(op->vars[k].name, u[i].name)) {
                    vd = &op->vars[k];
                    used[k] = 1;
                    break;
                }
            if (vd == NULL) {
                gql_location l[2] = {u[i].loc, op->loc};
                if (op->anonymous)
                    verr(c, l, 2, "Variable \"$%.*s\" is not defined.", PS(u[i].name));
                else
                    verr(c, l, 2, "Variable \"$%.*s\" is not defined by operation \"%.*s\".",
                         PS(u[i].name), PS(op->name));
                continue;
            }
            if (u[i].type == NULL || vd->named == NULL)
                continue;
            const gql_wtype *lt = u[i].type;
            const gql_type_ref *vt = vd->type;
            int ok;
            if (lt->kind == GQL_KIND_NON_NULL && vt->kind != GQL_TREF_NON_NULL) {
                int var_default = vd->default_value && vd->default_value->kind != GQL_VALUE_NULL;
                if (!var_default && !u[i].loc_has_default)
                    ok = 0;
                else
                    ok = ref_is_subtype(vt, lt->of);
            } else {
                ok = ref_is_subtype(vt, lt);
            }
            if (!ok) {
                gql_location l[2] = {vd->loc, u[i].loc};
                verr(c, l, 2,
                     "Variable \"$%.*s\" of type \"%s\" used in position expecting type \"%s\".",
                     PS(vd->name), rstr(c, vt), tstr(c, lt));
            }
        }
    }
    for (uint32_t k = 0; k < op->n_vars; k++) {
        if (used[k])
            continue;
        int dup_earlier = 0;
        for (uint32_t j = 0; j < k; j++)
            if (seq(op->vars[j].name, op->vars[k].name))
                dup_earlier = used[j] ? 2 : 1;
        if (dup_earlier == 2)
            continue;
        if (op->anonymous)
            verr1(c, op->vars[k].loc, "Variable \"$%.*s\" is never used.", PS(op->vars[k].name));
        else
            verr1(c, op->vars[k].loc, "Variable \"$%.*s\" is never used in operation \"%.*s\".",
                  PS(op->vars[k].name), PS(op->name));
    }
}

/* --- Overlapping fields can be merged. */

typedef struct conflict {
    gql_str key;
    const char *reason;
    gql_location *l1;
    uint32_t n1;
    gql_location *l2;
    uint32_t n2;
} conflict;

static void gather(vctx *c, vvec *out, const gql_selection_set *ss, const gql_type *parent,
                   uint32_t origin, int top)
{
    for (uint32_t i = 0; i < ss->count && !c->nomem; i++) {
        const gql_selection *sel = &ss->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            gathered *g = vpush(c, out, sizeof *g);
            if (g == NULL)
                return;
            g->key = sel->alias.len ? sel->alias : sel->name;
            g->field = sel;
            g->parent = parent;
            g->origin = origin;
            g->order = out->count;
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            const gql_type *t = parent;
            if (sel->type_cond.len)
                t = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
            gather(c, out, sel->sel, t, origin, top);
        } else {
            uint32_t fi = find_frag(c, sel->name);
            if (fi == UINT32_MAX || c->frag_epoch[fi] == c->epoch)
                continue;
            c->frag_epoch[fi] = c->epoch;
            const gql_fragment *f = c->doc->frags[fi];
            const gql_type *t = gql_schema_type(c->s, f->type_cond.ptr, f->type_cond.len);
            gather(c, out, f->sel, t, top ? fi + 1 : origin, 0);
        }
    }
}

static int gathered_cmp(const void *x, const void *y)
{
    const gathered *a = x, *b = y;
    uint32_t n = a->key.len < b->key.len ? a->key.len : b->key.len;
    int r = memcmp(a->key.ptr, b->key.ptr, n);
    if (r)
        return r;
    if (a->key.len != b->key.len)
        return a->key.len < b->key.len ? -1 : 1;
    return a->order < b->order ? -1 : (a->order > b->order);
}

static int value_equal(const gql_value *a, const gql_value *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case GQL_VALUE_NULL:
        return 1;
    case GQL_VALUE_BOOLEAN:
        return a->u.boolean == b->u.boolean;
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT:
        return seq(a->raw, b->raw);
    case GQL_VALUE_STRING:
    case GQL_VALUE_ENUM:
    case GQL_VALUE_VARIABLE:
        return seq(a->u.string, b->u.string);
    case GQL_VALUE_LIST:
        if (a->u.list.count != b->u.list.count)
            return 0;
        for (uint32_t i = 0; i < a->u.list.count; i++)
            if (!value_equal(a->u.list.items[i], b->u.list.items[i]))
                return 0;
        return 1;
    case GQL_VALUE_OBJECT:
        if (a->u.object.count != b->u.object.count)
            return 0;
        for (uint32_t i = 0; i < a->u.object.count; i++) {
            int found = 0;
            for (uint32_t j = 0; j < b->u.object.count && !found; j++)
                if (seq(a->u.object.fields[i].name, b->u.object.fields[j].name)) {
                    if (!value_equal(a->u.object.fields[i].value, b->u.object.fields[j].value))
                        return 0;
                    found = 1;
                }
            if (!found)
                return 0;
        }
        return 1;
    }
    return 0;
}

static int same_args(const gql_selection *a, const gql_selection *b)
{
    if (a->n_args != b->n_args)
        return 0;
    for (uint32_t i = 0; i < a->n_args; i++) {
        const gql_argument *x = &a->args[i];
        const gql_argument *y = NULL;
        for (uint32_t j = 0; j < b->n_args; j++)
            if (seq(b->args[j].name, x->name)) {
                y = &b->args[j];
                break;
            }
        if (y == NULL || !value_equal(x->value, y->value))
            return 0;
    }
    return 1;
}

static int is_leaf(const gql_type *t)
{
    return t->kind == GQL_KIND_SCALAR || t->kind == GQL_KIND_ENUM;
}

static int types_conflict(const gql_wtype *a, const gql_wtype *b)
{
    if (a->kind == GQL_KIND_LIST)
        return b->kind == GQL_KIND_LIST ? types_conflict(a->of, b->of) : 1;
    if (b->kind == GQL_KIND_LIST)
        return 1;
    if (a->kind == GQL_KIND_NON_NULL)
        return b->kind == GQL_KIND_NON_NULL ? types_conflict(a->of, b->of) : 1;
    if (b->kind == GQL_KIND_NON_NULL)
        return 1;
    if (is_leaf(a->named) || is_leaf(b->named))
        return a->named != b->named;
    return 0;
}

static int spend(vctx *c)
{
    if (c->budget >= MERGE_BUDGET) {
        if (!c->budget_reported) {
            c->budget_reported = 1;
            verr(c, NULL, 0,
                 "The document is too complex to check that its fields can be merged (more "
                 "than %u field comparisons).",
                 MERGE_BUDGET);
        }
        return 0;
    }
    c->budget++;
    return 1;
}

static void sub_conflicts(vctx *c, vvec *out, const gathered *a, uint32_t na, const gathered *b,
                          uint32_t nb, int exclusive);

/* Compares two fields with the same response key; fills *out and returns 1
 * on conflict. */
static int find_conflict(vctx *c, gql_str key, const gathered *g1, const gathered *g2,
                         int parent_exclusive, conflict *out)
{
    const gql_selection *f1 = g1->field, *f2 = g2->field;
    if (!spend(c))
        return 0;
    int exclusive = parent_exclusive ||
                    (g1->parent && g2->parent && g1->parent != g2->parent &&
                     g1->parent->kind == GQL_KIND_OBJECT && g2->parent->kind == GQL_KIND_OBJECT);
    const char *reason = NULL;
    char tmp[600];
    if (!exclusive) {
        if (!seq(f1->name, f2->name)) {
            snprintf(tmp, sizeof tmp, "\"%.*s\" and \"%.*s\" are different fields", PS(f1->name),
                     PS(f2->name));
            reason = tmp;
        } else if (!same_args(f1, f2)) {
            reason = "they have differing arguments";
        }
    }
    const gql_wtype *t1 = f1->def ? f1->def->type : NULL;
    const gql_wtype *t2 = f2->def ? f2->def->type : NULL;
    if (reason == NULL && t1 && t2 && types_conflict(t1, t2)) {
        snprintf(tmp, sizeof tmp, "they return conflicting types \"%s\" and \"%s\"", tstr(c, t1),
                 tstr(c, t2));
        reason = tmp;
    }
    if (reason) {
        out->key = key;
        out->reason = roster_arena_strndup(&c->a, reason, strlen(reason));
        out->l1 = v_alloc(c, sizeof *out->l1);
        out->l2 = v_alloc(c, sizeof *out->l2);
        if (out->reason == NULL || out->l1 == NULL || out->l2 == NULL) {
            c->nomem = 1;
            return 0;
        }
        out->l1[0] = f1->loc;
        out->l2[0] = f2->loc;
        out->n1 = out->n2 = 1;
        return 1;
    }
    /* Sub-selections nest at most as deep as the document allows; the guard
     * keeps the recursion bounded when fragments compose deeper. */
    if (f1->sel == NULL || f2->sel == NULL || c->merge_depth > 256)
        return 0;
    vvec s1 = {0}, s2 = {0};
    c->epoch++;
    gather(c, &s1, f1->sel, t1 ? t1->named : NULL, 0, 1);
    c->epoch++;
    gather(c, &s2, f2->sel, t2 ? t2->named : NULL, 0, 1);
    if (c->nomem)
        return 0;
    vvec subs = {0};
    c->merge_depth++;
    sub_conflicts(c, &subs, s1.items, s1.count, s2.items, s2.count, exclusive);
    c->merge_depth--;
    if (subs.count == 0 || c->nomem)
        return 0;
    conflict *sc = subs.items;
    gql_buf rb;
    gql_buf_init(&rb);
    uint32_t n1 = 1, n2 = 1;
    for (uint32_t i = 0; i < subs.count; i++) {
        if (i)
            gql_buf_append(&rb, " and ", 5);
        gql_buf_append(&rb, "subfields \"", 11);
        gql_buf_append(&rb, sc[i].key.ptr, sc[i].key.len);
        gql_buf_append(&rb, "\" conflict because ", 19);
        gql_buf_append(&rb, sc[i].reason, strlen(sc[i].reason));
        n1 += sc[i].n1;
        n2 += sc[i].n2;
    }
    out->key = key;
    out->reason = rb.oom ? NULL : roster_arena_strndup(&c->a, rb.data, rb.len);
    gql_buf_free(&rb);
    out->l1 = v_alloc(c, n1 * sizeof *out->l1);
    out->l2 = v_alloc(c, n2 * sizeof *out->l2);
    if (out->reason == NULL || out->l1 == NULL || out->l2 == NULL) {
        c->nomem = 1;
        return 0;
    }
    out->l1[0] = f1->loc;
    out->l2[0] = f2->loc;
    out->n1 = out->n2 = 1;
    for (uint32_t i = 0; i < subs.count; i++) {
        memcpy(out->l1 + out->n1, sc[i].l1, sc[i].n1 * sizeof *out->l1);
        out->n1 += sc[i].n1;
        memcpy(out->l2 + out->n2, sc[i].l2, sc[i].n2 * sizeof *out->l2);
        out->n2 += sc[i].n2;
    }
    return 1;
}

/* Conflicts between the fields of two sub-selections (pairs across them
 * sharing a response key). */
static void sub_conflicts(vctx *c, vvec *out, const gathered *a, uint32_t na, const gathered *b,
                          uint32_t nb, int exclusive)
{
    for (uint32_t i = 0; i < na && !c->nomem; i++)
        for (uint32_t j = 0; j < nb && !c->nomem; j++) {
            if (!seq(a[i].key, b[j].key) || a[i].field == b[j].field)
                continue;
            /* A fragment is not compared with itself (graphql-js). */
            if (a[i].origin && a[i].origin == b[j].origin)
                continue;
            conflict cf;
            if (find_conflict(c, a[i].key, &a[i], &b[j], exclusive, &cf)) {
                conflict *slot = vpush(c, out, sizeof *slot);
                if (slot)
                    *slot = cf;
            }
            if (c->budget_reported)
                return;
        }
}

static void report_conflict(vctx *c, const conflict *cf)
{
    uint32_t n = cf->n1 + cf->n2;
    gql_location *l = v_alloc(c, n * sizeof *l);
    if (l == NULL)
        return;
    memcpy(l, cf->l1, cf->n1 * sizeof *l);
    memcpy(l + cf->n1, cf->l2, cf->n2 * sizeof *l);
    verr(c, l, n,
         "Fields \"%.*s\" conflict because %s. Use different aliases on the fields to fetch both "
         "if this was intentional.",
         PS(cf->key), cf->reason);
}

static void merge_check_set(vctx *c, const gql_selection_set *ss, const gql_type *parent)
{
    vvec g = {0};
    c->epoch++;
    gather(c, &g, ss, parent, 0, 1);
    if (c->nomem || g.count < 2)
        return;
    gathered *items = g.items;
    qsort(items, g.count, sizeof *items, gathered_cmp);
    uint32_t i = 0;
    while (i < g.count && !c->nomem && !c->budget_reported) {
        uint32_t j = i + 1;
        while (j < g.count && seq(items[j].key, items[i].key))
            j++;
        uint32_t n = j - i;
        for (uint32_t x = i; x < j && !c->budget_reported; x++) {
            uint32_t ylimit = n > PAIRWISE_MAX ? (x == i ? j : x + 1) : j;
            if (n > PAIRWISE_MAX && x != i)
                break;
            for (uint32_t y = x + 1; y < ylimit && !c->nomem; y++) {
                if (items[x].field == items[y].field)
                    continue;
                if (items[x].origin && items[x].origin == items[y].origin)
                    continue;
                conflict cf;
                if (find_conflict(c, items[x].key, &items[x], &items[y], 0, &cf))
                    report_conflict(c, &cf);
            }
        }
        i = j;
    }
}

static void merge_walk(vctx *c, const gql_selection_set *ss, const gql_type *parent)
{
    merge_check_set(c, ss, parent);
    for (uint32_t i = 0; i < ss->count && !c->nomem && !c->budget_reported; i++) {
        const gql_selection *sel = &ss->items[i];
        if (sel->kind == GQL_SEL_FIELD && sel->sel)
            merge_walk(c, sel->sel, sel->def ? sel->def->type->named : NULL);
        else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            const gql_type *t = parent;
            if (sel->type_cond.len)
                t = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
            merge_walk(c, sel->sel, t);
        }
    }
}

/* --- Entry points. */

int gql_validate(gql_errors *errs, const gql_schema *s, gql_document *doc)
{
    vctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.doc = doc;
    c.errs = errs;
    roster_arena_init(&c.a, 8192, 0);
    uint32_t nf = doc->n_frags;
    uint32_t size = 8;
    while (size < nf * 2 + 2)
        size *= 2;
    c.frag_table = v_alloc(&c, size * sizeof *c.frag_table);
    c.frag_mask = size - 1;
    c.info_ops = v_alloc(&c, (doc->n_ops + 1) * sizeof *c.info_ops);
    c.info_frags = v_alloc(&c, (nf + 1) * sizeof *c.info_frags);
    c.frag_epoch = v_alloc(&c, (nf + 1) * sizeof *c.frag_epoch);
    if (c.nomem)
        goto done;

    /* Document-level rules. */
    uint32_t n_anon = 0;
    for (uint32_t i = 0; i < doc->n_defs; i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            if (d->u.op->anonymous)
                n_anon++;
        } else if (d->kind != GQL_DEF_FRAGMENT) {
            if (d->kind == GQL_DEF_SCHEMA)
                verr1(&c, d->loc, "The schema definition is not executable.");
            else
                verr1(&c, d->loc, "The \"%.*s\" definition is not executable.",
                      PS(d->u.type->name));
        }
    }
    for (uint32_t i = 0; i < doc->n_ops; i++) {
        const gql_operation *op = doc->ops[i];
        if (op->anonymous) {
            if (doc->n_ops > 1)
                verr1(&c, op->loc, "This anonymous operation must be the only defined operation.");
            continue;
        }
        for (uint32_t j = 0; j < i; j++)
            if (!doc->ops[j]->anonymous && seq(doc->ops[j]->name, op->name)) {
                gql_location l[2] = {doc->ops[j]->name_loc, op->name_loc};
                verr(&c, l, 2, "There can be only one operation named \"%.*s\".", PS(op->name));
                break;
            }
    }
    (void)n_anon;
    for (uint32_t i = 0; i < nf; i++) {
        const gql_fragment *f = doc->frags[i];
        uint32_t h = hname(f->name) & c.frag_mask;
        int dup = 0;
        while (c.frag_table[h]) {
            uint32_t k = c.frag_table[h] - 1;
            if (seq(doc->frags[k]->name, f->name)) {
                gql_location l[2] = {doc->frags[k]->name_loc, f->name_loc};
                verr(&c, l, 2, "There can be only one fragment named \"%.*s\".", PS(f->name));
                dup = 1;
                break;
            }
            h = (h + 1) & c.frag_mask;
        }
        if (!dup)
            c.frag_table[h] = i + 1;
    }

    /* Per-definition rules. */
    for (uint32_t i = 0; i < doc->n_defs && !c.nomem; i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            uint32_t oi = 0;
            while (doc->ops[oi] != d->u.op)
                oi++;
            c.cur = &c.info_ops[oi];
            visit_operation(&c, d->u.op);
        } else if (d->kind == GQL_DEF_FRAGMENT) {
            uint32_t fi = 0;
            while (doc->frags[fi] != d->u.frag)
                fi++;
            gql_fragment *f = d->u.frag;
            c.cur = &c.info_frags[fi];
            const gql_type *t = gql_schema_type(s, f->type_cond.ptr, f->type_cond.len);
            if (t == NULL) {
                verr1(&c, f->type_cond_loc, "Unknown type \"%.*s\".%s", PS(f->type_cond),
                      suggest_types(&c, f->type_cond));
            } else if (!is_composite(t)) {
                verr1(&c, f->type_cond_loc,
                      "Fragment \"%.*s\" cannot condition on non composite type \"%.*s\".",
                      PS(f->name), PS(f->type_cond));
                t = NULL;
            }
            check_directives(&c, f->dirs, f->n_dirs, GQL_DLOC_FRAGMENT_DEFINITION);
            visit_selection_set(&c, f->sel, t);
        }
    }
    if (c.nomem)
        goto done;

    /* Fragment cycles. */
    {
        cycle_state cs;
        cs.visited = v_alloc(&c, nf + 1);
        cs.path_index = v_alloc(&c, (nf + 1) * sizeof *cs.path_index);
        uint32_t total_spreads = 0;
        for (uint32_t i = 0; i < nf; i++)
            total_spreads += c.info_frags[i].spreads.count;
        cs.path = v_alloc(&c, (total_spreads + 1) * sizeof *cs.path);
        cs.path_len = 0;
        if (c.nomem)
            goto done;
        for (uint32_t i = 0; i < nf; i++) {
            cs.path_index[i] = -1;
            order_spreads_like_graphql_js(&c, i);
        }
        for (uint32_t i = 0; i < nf && !c.nomem; i++)
            if (!cs.visited[i] && c.frag_table[hname(doc->frags[i]->name) & c.frag_mask] &&
                find_frag(&c, doc->frags[i]->name) == i)
                detect_cycle(&c, &cs, i);
    }

    /* Unused fragments and variables. */
    {
        uint8_t *mark = v_alloc(&c, nf + 1);
        uint8_t *used = v_alloc(&c, nf + 1);
        uint32_t *stack = v_alloc(&c, (nf + 1) * sizeof *stack);
        if (c.nomem)
            goto done;
        for (uint32_t oi = 0; oi < doc->n_ops; oi++) {
            memset(mark, 0, nf + 1);
            reach(&c, &c.info_ops[oi], mark, stack);
            for (uint32_t i = 0; i < nf; i++)
                used[i] |= mark[i];
        }
        for (uint32_t oi = 0; oi < doc->n_ops && !c.nomem; oi++)
            check_operation_variables(&c, oi, mark, stack);
        for (uint32_t i = 0; i < nf; i++) {
            /* A duplicate name counts as used when its first definition is. */
            uint32_t first = find_frag(&c, doc->frags[i]->name);
            if (!used[i] && !(first != UINT32_MAX && used[first]))
                verr1(&c, doc->frags[i]->loc, "Fragment \"%.*s\" is never used.",
                      PS(doc->frags[i]->name));
        }
    }

    /* Overlapping fields can be merged. */
    for (uint32_t i = 0; i < doc->n_defs && !c.nomem && !c.budget_reported; i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            const gql_operation *op = d->u.op;
            const gql_type *root = op->type == GQL_OP_QUERY      ? s->query
                                   : op->type == GQL_OP_MUTATION ? s->mutation
                                                                 : s->subscription;
            merge_walk(&c, op->sel, root);
        } else if (d->kind == GQL_DEF_FRAGMENT) {
            const gql_fragment *f = d->u.frag;
            const gql_type *t = gql_schema_type(s, f->type_cond.ptr, f->type_cond.len);
            merge_walk(&c, f->sel, t && is_composite(t) ? t : NULL);
        }
    }

done:;
    int rc = c.nomem ? ROSTER_E_NOMEM : c.failed ? ROSTER_E_VALIDATION : ROSTER_E_OK;
    roster_arena_free(&c.a);
    if (rc == ROSTER_E_OK)
        doc->validated_for = s;
    doc->mem_bytes = doc->arena.used;
    return rc;
}

/* Nesting of selection sets with fragment spreads expanded, counted the way
 * the parser counts braces. memo holds each fragment's depth + 1 (0 = not
 * yet known); fragments are acyclic once the document is valid. */
static uint32_t set_depth(const gql_document *doc, const gql_selection_set *ss, uint32_t *memo,
                          uint32_t guard)
{
    uint32_t best = 0;
    if (guard > 4096)
        return UINT32_MAX / 2;
    for (uint32_t i = 0; i < ss->count; i++) {
        const gql_selection *sel = &ss->items[i];
        uint32_t d = 0;
        if (sel->kind == GQL_SEL_FIELD && sel->sel) {
            d = set_depth(doc, sel->sel, memo, guard + 1);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            d = set_depth(doc, sel->sel, memo, guard + 1);
        } else if (sel->kind == GQL_SEL_FRAGMENT_SPREAD && sel->fragment) {
            uint32_t fi = 0;
            while (fi < doc->n_frags && doc->frags[fi] != sel->fragment)
                fi++;
            if (fi < doc->n_frags) {
                if (memo[fi] == 0)
                    memo[fi] = set_depth(doc, sel->fragment->sel, memo, guard + 1) + 1;
                /* The fragment's own braces stand in for the spread. */
                d = memo[fi] - 2;
            }
        }
        if (d > best)
            best = d;
    }
    return best + 1;
}

int gql_prepare(gql_document **out, gql_errors *errs, const gql_schema *s, const char *text,
                size_t len, const gql_limits *limits)
{
    gql_document *doc;
    int rc = gql_parse(&doc, errs, text, len, limits);
    if (rc)
        return rc;
    rc = gql_validate(errs, s, doc);
    if (rc) {
        gql_document_free(doc);
        return rc;
    }
    /* The depth limit also holds with fragments expanded. */
    gql_limits lim = limits ? *limits : gql_limits_default();
    if (lim.max_depth && doc->n_ops) {
        uint32_t *memo = calloc(doc->n_frags + 1, sizeof *memo);
        if (memo == NULL) {
            gql_document_free(doc);
            return ROSTER_E_NOMEM;
        }
        for (uint32_t i = 0; i < doc->n_ops; i++) {
            uint32_t d = set_depth(doc, doc->ops[i]->sel, memo, 0);
            if (d > lim.max_depth) {
                gql_errors_add(errs, GQL_CODE_VALIDATION_FAILED, &doc->ops[i]->loc, 1,
                               "Operation nesting with fragments expanded is deeper than %u "
                               "levels (the max_depth limit).",
                               lim.max_depth);
                rc = ROSTER_E_LIMIT;
                break;
            }
        }
        free(memo);
        if (rc) {
            gql_document_free(doc);
            return rc;
        }
    }
    *out = doc;
    return ROSTER_E_OK;
}
