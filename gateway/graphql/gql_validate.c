/* Validation of executable documents (GraphQL spec October 2021, section
 * 5): the rules run as the phases of `phases` below, in order; this file
 * also holds the document-level rules, the shared messages and graphql-js's
 * suggestions, and gql_prepare. See gql_validate_internal.h for where the
 * other rules live. */
#include "gql_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

/* Counts one more error; past GQLV_MAX_ERRORS reports the limit once and
 * stops validation (graphql-js's message), which also bounds the work a
 * document full of mistakes costs (suggestions, locations). Returns
 * whether the error may be reported. */
static int error_allowed(vctx *c)
{
    c->failed = 1;
    if (c->aborted)
        return 0;
    if (c->n_errors >= GQLV_MAX_ERRORS) {
        c->aborted = 1;
        /* The list itself keeps 100 errors; this one goes past that. */
        size_t keep = c->errs->max;
        c->errs->max = c->errs->count + 1;
        if (gql_errors_add(c->errs, GQL_CODE_VALIDATION_FAILED, NULL, 0,
                           "Too many validation errors, error limit reached. Validation "
                           "aborted.") == NULL &&
            c->errs->nomem)
            c->nomem = 1;
        c->errs->max = keep;
        return 0;
    }
    c->n_errors++;
    return 1;
}

void gqlv_err(vctx *c, const gql_location *locs, uint32_t n, const char *fmt, ...)
{
    if (!error_allowed(c))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (gql_errors_vadd(c->errs, GQL_CODE_VALIDATION_FAILED, locs, n, fmt, ap) == NULL &&
        c->errs->nomem)
        c->nomem = 1;
    va_end(ap);
}

void gqlv_err1(vctx *c, gql_location loc, const char *fmt, ...)
{
    if (!error_allowed(c))
        return;
    va_list ap;
    va_start(ap, fmt);
    if (gql_errors_vadd(c->errs, GQL_CODE_VALIDATION_FAILED, &loc, 1, fmt, ap) == NULL &&
        c->errs->nomem)
        c->nomem = 1;
    va_end(ap);
}

/* A NUL-terminated scratch copy of a printed type or value. */
const char *gqlv_tstr(vctx *c, const gql_wtype *t)
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

const char *gqlv_vstr(vctx *c, const gql_value *v)
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

const char *gqlv_rstr(vctx *c, const gql_type_ref *r)
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
    if (gql_str_eq(input, option))
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
    sugg *list = gqlv_alloc(c, n * sizeof *list);
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

const char *gqlv_suggest_fields(vctx *c, gql_str input, const gql_field *f, uint32_t n)
{
    gql_str *o = gqlv_alloc(c, (n + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < n; i++)
        o[i] = f[i].name;
    return did_you_mean(c, NULL, input, o, n);
}

const char *gqlv_suggest_inputs(vctx *c, gql_str input, const gql_input_field *f, uint32_t n)
{
    gql_str *o = gqlv_alloc(c, (n + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < n; i++)
        o[i] = f[i].name;
    return did_you_mean(c, NULL, input, o, n);
}

const char *gqlv_suggest_enum(vctx *c, gql_str input, const gql_type *t)
{
    gql_str *o = gqlv_alloc(c, (t->n_values + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < t->n_values; i++)
        o[i] = t->values[i].name;
    return did_you_mean(c, "the enum value", input, o, t->n_values);
}

const char *gqlv_suggest_types(vctx *c, gql_str input)
{
    gql_str *o = gqlv_alloc(c, (c->s->n_types + 1) * sizeof *o);
    if (o == NULL)
        return "";
    for (uint32_t i = 0; i < c->s->n_types; i++)
        o[i] = c->s->types[i]->name;
    return did_you_mean(c, NULL, input, o, c->s->n_types);
}

/* --- Document-level rules. */

/* 5.1.1 Executable Definitions: only operations and fragments. */
static void rule_executable_definitions(vctx *c)
{
    const gql_document *doc = c->doc;
    for (uint32_t i = 0; i < doc->n_defs; i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION || d->kind == GQL_DEF_FRAGMENT)
            continue;
        if (d->kind == GQL_DEF_SCHEMA)
            gqlv_err1(c, d->loc, "The schema definition is not executable.");
        else
            gqlv_err1(c, d->loc, "The \"%.*s\" definition is not executable.", PS(d->u.type->name));
    }
}

/* 5.2.2.1 Lone Anonymous Operation: an anonymous operation is the only one. */
static void rule_lone_anonymous_operation(vctx *c, const gql_operation *op)
{
    if (c->doc->n_ops > 1)
        gqlv_err1(c, op->loc, "This anonymous operation must be the only defined operation.");
}

/* 5.2.1.1 Operation Name Uniqueness: the ith operation's name is not used by
 * an earlier one (one error, at the first repetition). */
static void rule_operation_name_uniqueness(vctx *c, uint32_t i)
{
    const gql_document *doc = c->doc;
    const gql_operation *op = doc->ops[i];
    for (uint32_t j = 0; j < i; j++)
        if (!doc->ops[j]->anonymous && gql_str_eq(doc->ops[j]->name, op->name)) {
            gql_location l[2] = {doc->ops[j]->name_loc, op->name_loc};
            gqlv_err(c, l, 2, "There can be only one operation named \"%.*s\".", PS(op->name));
            return;
        }
}

/* Both operation rules, operation by operation, so that their errors come
 * in document order as graphql-js's. */
static void rule_operations(vctx *c)
{
    for (uint32_t i = 0; i < c->doc->n_ops; i++) {
        if (c->doc->ops[i]->anonymous)
            rule_lone_anonymous_operation(c, c->doc->ops[i]);
        else
            rule_operation_name_uniqueness(c, i);
    }
}

/* 5.5.1.1 Fragment Name Uniqueness. Also fills c->frag_table (name ->
 * first fragment of that name), which every later phase looks spreads up
 * in. */
static void rule_fragment_name_uniqueness(vctx *c)
{
    const gql_document *doc = c->doc;
    for (uint32_t i = 0; i < doc->n_frags; i++) {
        const gql_fragment *f = doc->frags[i];
        uint32_t h = gql_name_hash(f->name.ptr, f->name.len) & c->frag_mask;
        int dup = 0;
        while (c->frag_table[h]) {
            uint32_t k = c->frag_table[h] - 1;
            if (gql_str_eq(doc->frags[k]->name, f->name)) {
                gql_location l[2] = {doc->frags[k]->name_loc, f->name_loc};
                gqlv_err(c, l, 2, "There can be only one fragment named \"%.*s\".", PS(f->name));
                dup = 1;
                break;
            }
            h = (h + 1) & c->frag_mask;
        }
        if (!dup)
            c->frag_table[h] = i + 1;
    }
}

/* --- The phases. */

/* Validation runs these phases in order, each one rule or a set of rules
 * named by their sections of the spec. The rules checked at a node of a
 * definition share one walk (gqlv_walk_definitions) because graphql-js,
 * whose messages and error order the engine reproduces, runs its rules side
 * by side in one visit of the document: separate walks would report the
 * same errors in another order. The rules across definitions need what
 * that walk records, so they come after it; field merging comes last, as
 * its comparisons rely on every field being resolved. A phase runs only
 * while memory lasts (c->nomem stops the rest). */
typedef struct phase {
    const char *sections; /* of the GraphQL spec, October 2021 */
    const char *rules;
    void (*run)(vctx *c);
} phase;

static const phase phases[] = {
    {"5.1.1", "Executable Definitions", rule_executable_definitions},
    {"5.2.1.1, 5.2.2.1", "Operation Name Uniqueness, Lone Anonymous Operation", rule_operations},
    {"5.5.1.1", "Fragment Name Uniqueness", rule_fragment_name_uniqueness},
    {"5.3.1, 5.3.3, 5.4, 5.5.1.2, 5.5.1.3, 5.5.2.1, 5.5.2.3, 5.6, 5.7, 5.8.1, 5.8.2",
     "the rules checked at each node of each definition", gqlv_walk_definitions},
    {"5.5.2.2", "Fragment Spreads Must Not Form Cycles", gqlv_rule_fragment_cycles},
    {"5.8.3, 5.8.4, 5.8.5",
     "All Variable Uses Defined, All Variables Used, All Variable Usages Are Allowed",
     gqlv_rule_variables},
    {"5.5.1.4", "Fragments Must Be Used", gqlv_rule_fragments_must_be_used},
    {"5.3.2", "Field Selection Merging", gqlv_rule_field_selection_merging},
};

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
    c.frag_table = gqlv_alloc(&c, size * sizeof *c.frag_table);
    c.frag_mask = size - 1;
    c.info_ops = gqlv_alloc(&c, (doc->n_ops + 1) * sizeof *c.info_ops);
    c.info_frags = gqlv_alloc(&c, (nf + 1) * sizeof *c.info_frags);
    c.frag_epoch = gqlv_alloc(&c, (nf + 1) * sizeof *c.frag_epoch);
    for (size_t i = 0; i < sizeof phases / sizeof phases[0] && !gqlv_stopped(&c); i++)
        phases[i].run(&c);
    int rc = c.nomem ? ROSTER_E_NOMEM : c.failed ? ROSTER_E_VALIDATION : ROSTER_E_OK;
    roster_arena_free(&c.a);
    if (rc == ROSTER_E_OK)
        doc->validated_for = s;
    doc->mem_bytes = doc->arena.used;
    return rc;
}

/* Depth with fragments expanded. The parser enforces max_depth on the
 * text, but fragments let a shallow text nest deeply: each fragment may be
 * a few levels deep and spread inside the next one, and the depth that
 * execution (and every recursive walk over the expanded selections) meets
 * is the sum. So gql_prepare measures the depth again with spreads
 * expanded, once the document is valid (fragments acyclic, spreads
 * resolved). Expanding spreads literally could take time exponential in
 * the text (each fragment spreading the next one twice), so the depth of
 * each fragment is computed once and memoized: linear in the document.
 * The breadth of what fragments expand to is bounded elsewhere: field
 * collection spreads each fragment once per selection set, and field
 * merging stops after MERGE_BUDGET units of work (gql_validate_merge.c).
 *
 * Nesting of selection sets with fragment spreads expanded, counted the way
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
