/* 5.3.2 Field Selection Merging (GraphQL spec October 2021; graphql-js's
 * OverlappingFieldsCanBeMergedRule): fields of one selection set with the
 * same response key must be the same field with the same arguments (unless
 * their parents are different object types) and return compatible types,
 * recursively through their sub-selections.
 *
 * The rule is quadratic in the fields sharing a key and can be made
 * exponential through fragments, so bounds keep hostile documents cheap:
 * groups of more than PAIRWISE_MAX fields with one key are compared against
 * their first field only; comparisons and the fields gathered for them are
 * charged to MERGE_BUDGET per document, past which the rule stops with one
 * error saying so; and a conflict's explanation is capped (REASON_MAX,
 * LOCATIONS_MAX). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

/* Overlapping-fields comparisons allowed per document before giving up. */
#define MERGE_BUDGET 200000u
/* Response-name groups larger than this are compared against their first
 * field only (keeps hostile documents linear). */
#define PAIRWISE_MAX 32u
/* A conflict's explanation nests the reasons of its subfields; past these
 * sizes the rest is summarised, so that explanations cannot grow with the
 * product of nesting and fan-out. */
#define REASON_MAX    1024u
#define LOCATIONS_MAX 64u

/* A field of a selection set with its fragments expanded. */
typedef struct gathered {
    gql_str key;
    const gql_selection *field;
    const gql_type *parent;
    uint32_t origin; /* 0: the selection set itself, else top-level spread + 1 */
    uint32_t order;
} gathered;

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
    for (uint32_t i = 0; i < ss->count && !gqlv_stopped(c); i++) {
        const gql_selection *sel = &ss->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            gathered *g = gqlv_push(c, out, sizeof *g);
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
            uint32_t fi = gqlv_find_frag(c, sel->name);
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
        return gql_str_eq(a->raw, b->raw);
    case GQL_VALUE_STRING:
    case GQL_VALUE_ENUM:
    case GQL_VALUE_VARIABLE:
        return gql_str_eq(a->u.string, b->u.string);
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
                if (gql_str_eq(a->u.object.fields[i].name, b->u.object.fields[j].name)) {
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
            if (gql_str_eq(b->args[j].name, x->name)) {
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
            gqlv_err(c, NULL, 0,
                     "The document is too complex to check that its fields can be merged (more "
                     "than %u field comparisons).",
                     MERGE_BUDGET);
        }
        return 0;
    }
    c->budget++;
    return 1;
}

/* Charges the fields gathered for one comparison, which cost as much as the
 * comparisons themselves when fragments expand to large sets. */
static int spend_gathered(vctx *c, uint32_t n)
{
    c->budget += n;
    return spend(c);
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
        if (!gql_str_eq(f1->name, f2->name)) {
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
        snprintf(tmp, sizeof tmp, "they return conflicting types \"%s\" and \"%s\"",
                 gqlv_tstr(c, t1), gqlv_tstr(c, t2));
        reason = tmp;
    }
    if (reason) {
        out->key = key;
        out->reason = roster_arena_strndup(&c->a, reason, strlen(reason));
        out->l1 = gqlv_alloc(c, sizeof *out->l1);
        out->l2 = gqlv_alloc(c, sizeof *out->l2);
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
    if (c->nomem || !spend_gathered(c, s1.count + s2.count))
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
        if (rb.len > REASON_MAX) {
            /* Names and messages here are ASCII, so any cut is a whole character. */
            rb.len = REASON_MAX;
            gql_buf_append(&rb, " (and more)", 11);
            break;
        }
    }
    for (uint32_t i = 0; i < subs.count; i++) {
        n1 += sc[i].n1;
        n2 += sc[i].n2;
    }
    n1 = n1 > LOCATIONS_MAX ? LOCATIONS_MAX : n1;
    n2 = n2 > LOCATIONS_MAX ? LOCATIONS_MAX : n2;
    out->key = key;
    out->reason = rb.oom ? NULL : roster_arena_strndup(&c->a, rb.data, rb.len);
    gql_buf_free(&rb);
    out->l1 = gqlv_alloc(c, n1 * sizeof *out->l1);
    out->l2 = gqlv_alloc(c, n2 * sizeof *out->l2);
    if (out->reason == NULL || out->l1 == NULL || out->l2 == NULL) {
        c->nomem = 1;
        return 0;
    }
    out->l1[0] = f1->loc;
    out->l2[0] = f2->loc;
    out->n1 = out->n2 = 1;
    for (uint32_t i = 0; i < subs.count; i++) {
        uint32_t k1 = sc[i].n1 < n1 - out->n1 ? sc[i].n1 : n1 - out->n1;
        uint32_t k2 = sc[i].n2 < n2 - out->n2 ? sc[i].n2 : n2 - out->n2;
        memcpy(out->l1 + out->n1, sc[i].l1, k1 * sizeof *out->l1);
        out->n1 += k1;
        memcpy(out->l2 + out->n2, sc[i].l2, k2 * sizeof *out->l2);
        out->n2 += k2;
    }
    return 1;
}

/* Conflicts between the fields of two sub-selections (pairs across them
 * sharing a response key). */
static void sub_conflicts(vctx *c, vvec *out, const gathered *a, uint32_t na, const gathered *b,
                          uint32_t nb, int exclusive)
{
    for (uint32_t i = 0; i < na && !gqlv_stopped(c); i++)
        for (uint32_t j = 0; j < nb && !gqlv_stopped(c); j++) {
            if (!gql_str_eq(a[i].key, b[j].key) || a[i].field == b[j].field)
                continue;
            /* A fragment is not compared with itself (graphql-js). */
            if (a[i].origin && a[i].origin == b[j].origin)
                continue;
            conflict cf;
            if (find_conflict(c, a[i].key, &a[i], &b[j], exclusive, &cf)) {
                conflict *slot = gqlv_push(c, out, sizeof *slot);
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
    gql_location *l = gqlv_alloc(c, n * sizeof *l);
    if (l == NULL)
        return;
    memcpy(l, cf->l1, cf->n1 * sizeof *l);
    memcpy(l + cf->n1, cf->l2, cf->n2 * sizeof *l);
    gqlv_err(
        c, l, n,
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
    while (i < g.count && !gqlv_stopped(c) && !c->budget_reported) {
        uint32_t j = i + 1;
        while (j < g.count && gql_str_eq(items[j].key, items[i].key))
            j++;
        uint32_t n = j - i;
        for (uint32_t x = i; x < j && !c->budget_reported; x++) {
            uint32_t ylimit = n > PAIRWISE_MAX ? (x == i ? j : x + 1) : j;
            if (n > PAIRWISE_MAX && x != i)
                break;
            for (uint32_t y = x + 1; y < ylimit && !gqlv_stopped(c); y++) {
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
    for (uint32_t i = 0; i < ss->count && !gqlv_stopped(c) && !c->budget_reported; i++) {
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

void gqlv_rule_field_selection_merging(vctx *c)
{
    const gql_document *doc = c->doc;
    const gql_schema *s = c->s;
    for (uint32_t i = 0; i < doc->n_defs && !gqlv_stopped(c) && !c->budget_reported; i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            const gql_operation *op = d->u.op;
            const gql_type *root = op->type == GQL_OP_QUERY      ? s->query
                                   : op->type == GQL_OP_MUTATION ? s->mutation
                                                                 : s->subscription;
            merge_walk(c, op->sel, root);
        } else if (d->kind == GQL_DEF_FRAGMENT) {
            const gql_fragment *f = d->u.frag;
            const gql_type *t = gql_schema_type(s, f->type_cond.ptr, f->type_cond.len);
            merge_walk(c, f->sel, t && gqlv_is_composite(t) ? t : NULL);
        }
    }
}
