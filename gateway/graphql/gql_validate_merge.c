/* 5.3.2 Field Selection Merging (GraphQL spec October 2021; graphql-js's
 * OverlappingFieldsCanBeMergedRule): fields of one selection set with the
 * same response key must be the same field with the same arguments (unless
 * their parents are different object types) and return compatible types,
 * recursively through their sub-selections.
 *
 * The comparisons follow graphql-js step for step (findConflictsWithin-
 * SelectionSet, collectConflictsBetweenFieldsAndFragment, ...Between-
 * Fragments, ...BetweenSubSelectionSets), with its two caches: the fields
 * and fragment names of each selection set are collected once per
 * document, and each pair of fragments is compared at most once per
 * exclusivity. The pair cache decides which conflicts graphql-js reports
 * (a pair compared in one place is not compared again in another), so the
 * order of the steps is part of the result, and so is the order of the
 * fields, which gives the order of the reasons in an explanation.
 *
 * The rule stays quadratic in the fields sharing a key and can still be
 * made exponential through fragment cycles, so bounds keep hostile
 * documents cheap: groups of more than PAIRWISE_MAX fields with one key are
 * compared against their first field only; comparisons, lookups and the
 * fields collected are charged to MERGE_BUDGET per document, past which the
 * rule stops with one error saying so; and a conflict's explanation is
 * capped (REASON_MAX, LOCATIONS_MAX). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

/* Units of work (field comparisons, key lookups, fields collected, fragment
 * pairs) allowed per document before giving up: a few milliseconds. A chain
 * of fragments as long as the token limit allows costs about 15,000; the
 * documents that reach the budget nest fragment cycles in sub-selections
 * (which graphql-js recurses into without end). */
#define MERGE_BUDGET 30000u
/* Response-name groups larger than this are compared against their first
 * field only (keeps hostile documents linear). */
#define PAIRWISE_MAX 32u
/* A conflict's explanation nests the reasons of its subfields; past these
 * sizes the rest is summarised, so that explanations cannot grow with the
 * product of nesting and fan-out. */
#define REASON_MAX    1024u
#define LOCATIONS_MAX 64u

/* A field of a selection set, inline fragments expanded (named spreads are
 * compared fragment by fragment instead, as graphql-js does). */
typedef struct mfield {
    const gql_selection *field;
    const gql_type *parent;
} mfield;

/* The fields of one response key: fields[start, start + count). */
typedef struct mgroup {
    gql_str key;
    uint32_t hash;
    uint32_t start;
    uint32_t count;
} mgroup;

/* graphql-js's getFieldsAndFragmentNames for one selection set: its fields
 * grouped by response key, groups in order of first appearance (the order
 * of Object.entries, which decides the order of the reasons in an
 * explanation), and the fragments it spreads, each once. */
typedef struct fieldmap {
    const gql_selection_set *ss;
    const gql_type *parent;
    mfield *fields;
    mgroup *groups;
    uint32_t *slots; /* group index + 1 by key hash, open addressing; 0: empty */
    uint32_t slots_mask;
    uint32_t n_groups;
    uint32_t *frags; /* fragment indexes in order of first spread */
    uint32_t n_frags;
} fieldmap;

typedef struct conflict {
    gql_str key;
    const char *reason;
    gql_location *l1;
    uint32_t n1;
    gql_location *l2;
    uint32_t n2;
} conflict;

/* The rule's state for one document, in the validation arena: the field
 * maps by selection set (graphql-js's cachedFieldsAndFragmentNames) and
 * the fragment pairs already compared (its comparedFragmentPairs). */
typedef struct merge {
    vctx *c;
    fieldmap **maps; /* open addressing, maps_mask + 1 slots */
    uint32_t maps_mask;
    uint32_t n_maps;
    uint64_t *pairs;    /* (lo << 32 | hi) + 1 of two fragment indexes; 0: empty */
    uint8_t *pair_excl; /* 1: compared only as mutually exclusive */
    uint32_t pairs_mask;
    uint32_t n_pairs;
    uint32_t conflict_depth;
    uint32_t frag_depth;
    /* Of several fragments with one name, graphql-js's getFragment gives
     * the last: the index of that one, by the index of the first. */
    uint32_t *last_frag;
    fieldmap **frag_maps; /* by fragment index, once looked up */
} merge;

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

static int over(const vctx *c)
{
    return gqlv_stopped(c) || c->budget_reported;
}

/* Charges n units of work to MERGE_BUDGET; past it, reports the document
 * as too complex once and returns 0. */
static int spend(vctx *c, uint64_t n)
{
    c->budget += n;
    if (c->budget > MERGE_BUDGET) {
        if (!c->budget_reported) {
            c->budget_reported = 1;
            gqlv_err(c, NULL, 0,
                     "The document is too complex to check that its fields can be merged (more "
                     "than %u comparisons).",
                     MERGE_BUDGET);
        }
        return 0;
    }
    return 1;
}

static uint32_t mix(uint64_t x, uint32_t mask)
{
    return (uint32_t)((x * 0x9E3779B97F4A7C15u) >> 32) & mask;
}

static gql_str field_key(const gql_selection *sel)
{
    return sel->alias.len ? sel->alias : sel->name;
}

static int key_cmp(gql_str a, gql_str b)
{
    uint32_t n = a.len < b.len ? a.len : b.len;
    int r = memcmp(a.ptr, b.ptr, n);
    if (r)
        return r;
    return a.len == b.len ? 0 : a.len < b.len ? -1 : 1;
}

/* --- Field maps. */

static void collect(const merge *m, vvec *fields, vvec *frags, const gql_selection_set *ss,
                    const gql_type *parent)
{
    vctx *c = m->c;
    for (uint32_t i = 0; i < ss->count && !gqlv_stopped(c); i++) {
        const gql_selection *sel = &ss->items[i];
        if (sel->kind == GQL_SEL_FIELD) {
            mfield *f = gqlv_push(c, fields, sizeof *f);
            if (f == NULL)
                return;
            f->field = sel;
            f->parent = parent;
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            const gql_type *t = parent;
            if (sel->type_cond.len)
                t = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
            collect(m, fields, frags, sel->sel, t);
        } else {
            /* An unknown fragment is skipped: graphql-js finds nothing to
             * compare in it either. */
            uint32_t fi = gqlv_find_frag(c, sel->name);
            if (fi == UINT32_MAX)
                continue;
            fi = m->last_frag[fi];
            if (c->frag_epoch[fi] == c->epoch)
                continue;
            c->frag_epoch[fi] = c->epoch;
            uint32_t *slot = gqlv_push(c, frags, sizeof *slot);
            if (slot)
                *slot = fi;
        }
    }
}

typedef struct keyed {
    gql_str key;
    uint32_t order;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int r = key_cmp(a->key, b->key);
    return r ? r : a->order < b->order ? -1 : (a->order > b->order);
}

typedef struct ranked {
    uint32_t first;
    uint32_t group;
} ranked;

static int ranked_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    return a->first < b->first ? -1 : (a->first > b->first);
}

static int maps_insert(merge *m, fieldmap *fm)
{
    if ((m->n_maps + 1) * 2 > m->maps_mask + 1) {
        uint32_t size = m->maps_mask ? (m->maps_mask + 1) * 2 : 64;
        fieldmap **t = gqlv_alloc(m->c, size * sizeof *t);
        if (t == NULL)
            return 0;
        for (uint32_t i = 0; m->maps && i <= m->maps_mask; i++) {
            if (m->maps[i] == NULL)
                continue;
            uint32_t h = mix((uintptr_t)m->maps[i]->ss ^ (uintptr_t)m->maps[i]->parent, size - 1);
            while (t[h])
                h = (h + 1) & (size - 1);
            t[h] = m->maps[i];
        }
        m->maps = t;
        m->maps_mask = size - 1;
    }
    uint32_t h = mix((uintptr_t)fm->ss ^ (uintptr_t)fm->parent, m->maps_mask);
    while (m->maps[h])
        h = (h + 1) & m->maps_mask;
    m->maps[h] = fm;
    m->n_maps++;
    return 1;
}

/* The field map of a selection set under a parent type, collected once per
 * document; NULL when out of memory or budget. */
static fieldmap *get_map(merge *m, const gql_selection_set *ss, const gql_type *parent)
{
    vctx *c = m->c;
    if (m->maps) {
        uint32_t h = mix((uintptr_t)ss ^ (uintptr_t)parent, m->maps_mask);
        for (; m->maps[h]; h = (h + 1) & m->maps_mask)
            if (m->maps[h]->ss == ss && m->maps[h]->parent == parent)
                return m->maps[h];
    }
    vvec fields = {0}, frags = {0};
    c->epoch++;
    collect(m, &fields, &frags, ss, parent);
    uint32_t n = fields.count;
    if (c->nomem || !spend(c, n + frags.count + 1))
        return NULL;
    fieldmap *fm = gqlv_alloc(c, sizeof *fm);
    keyed *k = gqlv_alloc(c, n * sizeof *k);
    mgroup *g = gqlv_alloc(c, n * sizeof *g);
    ranked *rk = gqlv_alloc(c, n * sizeof *rk);
    if (fm == NULL || k == NULL || g == NULL || rk == NULL)
        return NULL;
    fm->ss = ss;
    fm->parent = parent;
    fm->frags = frags.items;
    fm->n_frags = frags.count;
    fm->fields = gqlv_alloc(c, n * sizeof *fm->fields);
    fm->groups = gqlv_alloc(c, n * sizeof *fm->groups);
    uint32_t size = 4;
    while (size < n * 2)
        size *= 2;
    fm->slots = gqlv_alloc(c, size * sizeof *fm->slots);
    fm->slots_mask = size - 1;
    if (fm->fields == NULL || fm->groups == NULL || fm->slots == NULL)
        return NULL;
    const mfield *in = fields.items;
    for (uint32_t i = 0; i < n; i++) {
        k[i].key = field_key(in[i].field);
        k[i].order = i;
    }
    qsort(k, n, sizeof *k, keyed_cmp);
    /* Groups in key order, then ranked by their first field. */
    uint32_t ng = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i == 0 || !gql_str_eq(k[i].key, k[i - 1].key)) {
            g[ng].key = k[i].key;
            g[ng].start = i;
            g[ng].count = 0;
            rk[ng].first = k[i].order;
            rk[ng].group = ng;
            ng++;
        }
        g[ng - 1].count++;
    }
    qsort(rk, ng, sizeof *rk, ranked_cmp);
    uint32_t pos = 0;
    for (uint32_t r = 0; r < ng; r++) {
        const mgroup *s = &g[rk[r].group];
        fm->groups[r].key = s->key;
        fm->groups[r].start = pos;
        fm->groups[r].count = s->count;
        fm->groups[r].hash = gql_name_hash(s->key.ptr, s->key.len);
        for (uint32_t t = 0; t < s->count; t++)
            fm->fields[pos++] = in[k[s->start + t].order];
        uint32_t h = fm->groups[r].hash & fm->slots_mask;
        while (fm->slots[h])
            h = (h + 1) & fm->slots_mask;
        fm->slots[h] = r + 1;
    }
    fm->n_groups = ng;
    if (!maps_insert(m, fm))
        return NULL;
    return fm;
}

/* A fragment's field map, under the parent type its definition is walked
 * with, so that both find the same map. */
static fieldmap *frag_map(merge *m, uint32_t fi)
{
    if (m->frag_maps[fi])
        return m->frag_maps[fi];
    const gql_fragment *f = m->c->doc->frags[fi];
    const gql_type *t = gql_schema_type(m->c->s, f->type_cond.ptr, f->type_cond.len);
    m->frag_maps[fi] = get_map(m, f->sel, t && gqlv_is_composite(t) ? t : NULL);
    return m->frag_maps[fi];
}

static const mgroup *map_lookup(const fieldmap *fm, const mgroup *g)
{
    for (uint32_t h = g->hash & fm->slots_mask; fm->slots[h]; h = (h + 1) & fm->slots_mask) {
        const mgroup *x = &fm->groups[fm->slots[h] - 1];
        if (x->hash == g->hash && gql_str_eq(x->key, g->key))
            return x;
    }
    return NULL;
}

/* --- Compared fragment pairs (graphql-js's PairSet): a pair compared as
 * not mutually exclusive covers both ways of comparing it. */

static uint32_t pair_slot(const merge *m, uint64_t key)
{
    uint32_t h = mix(key, m->pairs_mask);
    while (m->pairs[h] && m->pairs[h] != key)
        h = (h + 1) & m->pairs_mask;
    return h;
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return a < b ? ((uint64_t)a << 32 | b) + 1 : ((uint64_t)b << 32 | a) + 1;
}

static int pair_has(const merge *m, uint32_t a, uint32_t b, int exclusive)
{
    if (m->pairs == NULL)
        return 0;
    uint32_t h = pair_slot(m, pair_key(a, b));
    return m->pairs[h] && (exclusive || !m->pair_excl[h]);
}

static int pair_add(merge *m, uint32_t a, uint32_t b, int exclusive)
{
    if ((m->n_pairs + 1) * 2 > m->pairs_mask + 1) {
        uint32_t size = m->pairs_mask ? (m->pairs_mask + 1) * 2 : 64;
        uint64_t *old = m->pairs;
        uint8_t *old_excl = m->pair_excl;
        uint32_t old_mask = m->pairs_mask;
        m->pairs = gqlv_alloc(m->c, size * sizeof *m->pairs);
        m->pair_excl = gqlv_alloc(m->c, size);
        if (m->pairs == NULL || m->pair_excl == NULL) {
            m->pairs = NULL;
            return 0;
        }
        m->pairs_mask = size - 1;
        for (uint32_t i = 0; old && i <= old_mask; i++)
            if (old[i]) {
                uint32_t h = pair_slot(m, old[i]);
                m->pairs[h] = old[i];
                m->pair_excl[h] = old_excl[i];
            }
    }
    uint64_t key = pair_key(a, b);
    uint32_t h = pair_slot(m, key);
    if (m->pairs[h] == 0)
        m->n_pairs++;
    m->pairs[h] = key;
    m->pair_excl[h] = (uint8_t)(exclusive != 0);
    return 1;
}

/* --- Comparisons, in graphql-js's order (the order of the reasons and
 * locations of an explanation depends on it). */

static int find_conflict(merge *m, int parent_exclusive, gql_str key, const mfield *g1,
                         const mfield *g2, conflict *out);

static void push_conflict(vctx *c, vvec *out, const conflict *cf)
{
    conflict *slot = gqlv_push(c, out, sizeof *slot);
    if (slot)
        *slot = *cf;
}

/* collectConflictsWithin: pairs of one map's fields sharing a key. */
static void conflicts_within(merge *m, vvec *out, const fieldmap *fm)
{
    vctx *c = m->c;
    for (uint32_t r = 0; r < fm->n_groups && !over(c); r++) {
        const mfield *f = fm->fields + fm->groups[r].start;
        uint32_t n = fm->groups[r].count;
        for (uint32_t x = 0; x < n && !over(c); x++) {
            if (n > PAIRWISE_MAX && x != 0)
                break;
            for (uint32_t y = x + 1; y < n && spend(c, 1); y++) {
                conflict cf;
                if (find_conflict(m, 0, fm->groups[r].key, &f[x], &f[y], &cf))
                    push_conflict(c, out, &cf);
                if (over(c))
                    break;
            }
        }
    }
}

/* collectConflictsBetween: pairs across two maps sharing a key. */
static void conflicts_between(merge *m, vvec *out, int exclusive, const fieldmap *a,
                              const fieldmap *b)
{
    vctx *c = m->c;
    if (!spend(c, a->n_groups))
        return;
    for (uint32_t r = 0; r < a->n_groups && !over(c); r++) {
        const mgroup *ga = &a->groups[r];
        const mgroup *gb = map_lookup(b, ga);
        if (gb == NULL)
            continue;
        for (uint32_t i = 0; i < ga->count && !over(c); i++)
            for (uint32_t j = 0; j < gb->count && spend(c, 1); j++) {
                conflict cf;
                if (find_conflict(m, exclusive, ga->key, &a->fields[ga->start + i],
                                  &b->fields[gb->start + j], &cf))
                    push_conflict(c, out, &cf);
                if (over(c))
                    break;
            }
    }
}

/* Fragments nest as deep as their chain is long; past this many nested
 * fragment comparisons the document is reported as too complex. */
#define FRAG_DEPTH_MAX 4096u

static int frag_enter(merge *m)
{
    if (m->frag_depth >= FRAG_DEPTH_MAX) {
        spend(m->c, MERGE_BUDGET + 1);
        return 0;
    }
    m->frag_depth++;
    return 1;
}

/* collectConflictsBetweenFieldsAndFragment: a map's fields against a
 * fragment's and, through the pairs not compared yet, the fragments it
 * spreads. */
static void conflicts_fields_fragment(merge *m, vvec *out, int exclusive, const fieldmap *fm,
                                      uint32_t fi)
{
    vctx *c = m->c;
    if (over(c) || !spend(c, 1))
        return;
    const fieldmap *fm2 = frag_map(m, fi);
    if (fm2 == NULL || fm2->ss == fm->ss)
        return;
    conflicts_between(m, out, exclusive, fm, fm2);
    for (uint32_t i = 0; i < fm2->n_frags && !over(c); i++) {
        uint32_t ref = fm2->frags[i];
        if (pair_has(m, ref, fi, exclusive))
            continue;
        if (!pair_add(m, ref, fi, exclusive) || !frag_enter(m))
            return;
        conflicts_fields_fragment(m, out, exclusive, fm, ref);
        m->frag_depth--;
    }
}

/* collectConflictsBetweenFragments: each pair at most once per
 * exclusivity, then the fragments each spreads against the other. */
static void conflicts_fragments(merge *m, vvec *out, int exclusive, uint32_t f1, uint32_t f2)
{
    vctx *c = m->c;
    if (f1 == f2 || over(c) || pair_has(m, f1, f2, exclusive))
        return;
    if (!pair_add(m, f1, f2, exclusive) || !spend(c, 1))
        return;
    const fieldmap *a = frag_map(m, f1);
    const fieldmap *b = frag_map(m, f2);
    if (a == NULL || b == NULL)
        return;
    conflicts_between(m, out, exclusive, a, b);
    if (!frag_enter(m))
        return;
    for (uint32_t i = 0; i < b->n_frags && !over(c); i++)
        conflicts_fragments(m, out, exclusive, f1, b->frags[i]);
    for (uint32_t i = 0; i < a->n_frags && !over(c); i++)
        conflicts_fragments(m, out, exclusive, a->frags[i], f2);
    m->frag_depth--;
}

/* findConflictsBetweenSubSelectionSets. */
static void conflicts_sub(merge *m, vvec *out, int exclusive, const fieldmap *a, const fieldmap *b)
{
    vctx *c = m->c;
    conflicts_between(m, out, exclusive, a, b);
    for (uint32_t i = 0; i < b->n_frags && !over(c); i++)
        conflicts_fields_fragment(m, out, exclusive, a, b->frags[i]);
    for (uint32_t i = 0; i < a->n_frags && !over(c); i++)
        conflicts_fields_fragment(m, out, exclusive, b, a->frags[i]);
    for (uint32_t i = 0; i < a->n_frags && !over(c); i++)
        for (uint32_t j = 0; j < b->n_frags && !over(c); j++)
            conflicts_fragments(m, out, exclusive, a->frags[i], b->frags[j]);
}

/* Compares two fields with the same response key; fills *out and returns 1
 * on conflict. */
static int find_conflict(merge *m, int parent_exclusive, gql_str key, const mfield *g1,
                         const mfield *g2, conflict *out)
{
    vctx *c = m->c;
    const gql_selection *f1 = g1->field, *f2 = g2->field;
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
    if (f1->sel == NULL || f2->sel == NULL || m->conflict_depth > 256)
        return 0;
    const fieldmap *a = get_map(m, f1->sel, t1 ? t1->named : NULL);
    const fieldmap *b = get_map(m, f2->sel, t2 ? t2->named : NULL);
    if (a == NULL || b == NULL)
        return 0;
    vvec subs = {0};
    m->conflict_depth++;
    conflicts_sub(m, &subs, exclusive, a, b);
    m->conflict_depth--;
    if (subs.count == 0 || c->nomem)
        return 0;
    const conflict *sc = subs.items;
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

/* findConflictsWithinSelectionSet: the set's own fields, its fields against
 * each fragment it spreads, and those fragments against each other. */
static void merge_check_set(merge *m, const gql_selection_set *ss, const gql_type *parent)
{
    vctx *c = m->c;
    const fieldmap *fm = get_map(m, ss, parent);
    if (fm == NULL)
        return;
    vvec found = {0};
    conflicts_within(m, &found, fm);
    for (uint32_t i = 0; i < fm->n_frags && !over(c); i++) {
        conflicts_fields_fragment(m, &found, 0, fm, fm->frags[i]);
        for (uint32_t j = i + 1; j < fm->n_frags && !over(c); j++)
            conflicts_fragments(m, &found, 0, fm->frags[i], fm->frags[j]);
    }
    const conflict *cf = found.items;
    for (uint32_t i = 0; i < found.count && !gqlv_stopped(c); i++)
        report_conflict(c, &cf[i]);
}

static void merge_walk(merge *m, const gql_selection_set *ss, const gql_type *parent)
{
    vctx *c = m->c;
    merge_check_set(m, ss, parent);
    for (uint32_t i = 0; i < ss->count && !over(c); i++) {
        const gql_selection *sel = &ss->items[i];
        if (sel->kind == GQL_SEL_FIELD && sel->sel)
            merge_walk(m, sel->sel, sel->def ? sel->def->type->named : NULL);
        else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            const gql_type *t = parent;
            if (sel->type_cond.len)
                t = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
            merge_walk(m, sel->sel, t);
        }
    }
}

void gqlv_rule_field_selection_merging(vctx *c)
{
    const gql_document *doc = c->doc;
    const gql_schema *s = c->s;
    merge m;
    memset(&m, 0, sizeof m);
    m.c = c;
    m.last_frag = gqlv_alloc(c, (doc->n_frags + 1) * sizeof *m.last_frag);
    m.frag_maps = gqlv_alloc(c, (doc->n_frags + 1) * sizeof *m.frag_maps);
    if (m.last_frag == NULL || m.frag_maps == NULL)
        return;
    for (uint32_t i = 0; i < doc->n_frags; i++) {
        uint32_t first = gqlv_find_frag(c, doc->frags[i]->name);
        m.last_frag[i] = i;
        if (first != UINT32_MAX)
            m.last_frag[first] = i;
    }
    for (uint32_t i = 0; i < doc->n_defs && !over(c); i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            const gql_operation *op = d->u.op;
            const gql_type *root = op->type == GQL_OP_QUERY      ? s->query
                                   : op->type == GQL_OP_MUTATION ? s->mutation
                                                                 : s->subscription;
            merge_walk(&m, op->sel, root);
        } else if (d->kind == GQL_DEF_FRAGMENT) {
            const gql_fragment *f = d->u.frag;
            const gql_type *t = gql_schema_type(s, f->type_cond.ptr, f->type_cond.len);
            merge_walk(&m, f->sel, t && gqlv_is_composite(t) ? t : NULL);
        }
    }
}
