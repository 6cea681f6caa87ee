/* Validation's shared state, private to the engine: the rules of section 5
 * of the GraphQL spec (October 2021) are spread over gql_validate.c (the
 * phases in order, document-level rules, messages and suggestions),
 * gql_validate_selections.c (the walk of every definition and the rules
 * checked at each node), gql_validate_values.c (arguments, values,
 * directives), gql_validate_usage.c (fragment cycles, unused fragments,
 * variable usages) and gql_validate_merge.c (field selection merging).
 * Not included by graphql.h; nothing outside gateway/graphql may. */
#ifndef ROSTER_GQL_VALIDATE_INTERNAL_H
#define ROSTER_GQL_VALIDATE_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "gql_names.h"
#include "gql_validate.h"

/* A growable array in the validation arena. */
typedef struct vvec {
    void *items;
    uint32_t count;
    uint32_t cap;
} vvec;

/* A variable used in a definition, with the type expected there. */
typedef struct usage {
    gql_str name;
    gql_location loc;
    const gql_wtype *type; /* expected type at the position; NULL if unknown */
    int loc_has_default;
} usage;

/* A fragment spread in a definition. */
typedef struct spread_ref {
    uint32_t frag; /* index in doc->frags, or UINT32_MAX when unknown */
    gql_location loc;
} spread_ref;

/* What the walk records of one operation or fragment definition for the
 * rules that look across definitions (gql_validate_usage.c). */
typedef struct defn_info {
    vvec usages;  /* usage */
    vvec spreads; /* spread_ref */
} defn_info;

/* The state of one validation. Everything allocated from `a` (scratch
 * strings, usage and spread records, tables) is freed when gql_validate
 * returns; what validation writes into the document (resolved field
 * definitions, fragment spreads, variable types) lives in the document. */
typedef struct vctx {
    const gql_schema *s; /* borrowed */
    gql_document *doc;   /* borrowed; validation writes resolutions into it */
    gql_errors *errs;    /* borrowed; errors are appended */
    roster_arena a;
    uint32_t *frag_table; /* fragment name hash -> index in doc->frags + 1 */
    uint32_t frag_mask;
    defn_info *info_ops;   /* per doc->ops: variable usages and spreads */
    defn_info *info_frags; /* per doc->frags */
    defn_info *cur;        /* the definition being walked */
    uint8_t *reach_mark;   /* scratch of n_frags + 1 for reach() (gql_validate_usage.c) */
    uint32_t *reach_stack; /* idem */
    uint32_t *frag_epoch;  /* field merging: fragment already collected */
    uint32_t epoch;
    uint64_t budget; /* field merging: work done (MERGE_BUDGET units) */
    int budget_reported;
    uint32_t merge_depth;
    uint32_t n_errors; /* validation errors reported so far */
    int nomem;
    int aborted; /* GQLV_MAX_ERRORS reached: every rule stops */
    int failed;
} vctx;

/* Errors reported before validation stops, as graphql-js's maxErrors. */
#define GQLV_MAX_ERRORS 100u

/* Whether the rules should stop: out of memory, or too many errors. */
static inline int gqlv_stopped(const vctx *c)
{
    return c->nomem || c->aborted;
}
#define PS(s) (int)(s).len, (s).ptr

/* n zeroed bytes from the validation arena (valid until gql_validate
 * returns); NULL and c->nomem set when out of memory. */
static inline void *gqlv_alloc(vctx *c, size_t n)
{
    void *p = roster_arena_alloc(&c->a, n ? n : 1);
    if (p == NULL) {
        c->nomem = 1;
        return NULL;
    }
    memset(p, 0, n ? n : 1);
    return p;
}

/* Appends a zeroed element of elem bytes to v and returns it (NULL when out
 * of memory). Earlier element pointers are invalidated. */
static inline void *gqlv_push(vctx *c, vvec *v, size_t elem)
{
    if (v->count == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 8;
        void *n = gqlv_alloc(c, (size_t)cap * elem);
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

/* The index in doc->frags of the first fragment named `name`, or
 * UINT32_MAX. Valid once the Fragment Name Uniqueness phase has filled
 * c->frag_table. */
static inline uint32_t gqlv_find_frag(const vctx *c, gql_str name)
{
    uint32_t h = gql_name_hash(name.ptr, name.len) & c->frag_mask;
    while (c->frag_table[h]) {
        uint32_t i = c->frag_table[h] - 1;
        if (gql_str_eq(c->doc->frags[i]->name, name))
            return i;
        h = (h + 1) & c->frag_mask;
    }
    return UINT32_MAX;
}

static inline int gqlv_is_composite(const gql_type *t)
{
    return t->kind == GQL_KIND_OBJECT || t->kind == GQL_KIND_INTERFACE || t->kind == GQL_KIND_UNION;
}

/* --- gql_validate.c: errors and messages. */

/* Appends a GRAPHQL_VALIDATION_FAILED error with n locations (copied) and
 * marks the validation failed. */
void gqlv_err(vctx *c, const gql_location *locs, uint32_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with one location. */
void gqlv_err1(vctx *c, gql_location loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* NUL-terminated printed forms of a type, a literal (at most 4096 bytes) and
 * a document type reference, in the validation arena; "" when out of
 * memory. */
const char *gqlv_tstr(vctx *c, const gql_wtype *t);
const char *gqlv_vstr(vctx *c, const gql_value *v);
const char *gqlv_rstr(vctx *c, const gql_type_ref *r);

/* graphql-js's " Did you mean ...?" suffix (possibly "") for input among
 * the names of fields, input fields or arguments, enum values, or the
 * schema's types; in the validation arena. */
const char *gqlv_suggest_fields(vctx *c, gql_str input, const gql_field *f, uint32_t n);
const char *gqlv_suggest_inputs(vctx *c, gql_str input, const gql_input_field *f, uint32_t n);
const char *gqlv_suggest_enum(vctx *c, gql_str input, const gql_type *t);
const char *gqlv_suggest_types(vctx *c, gql_str input);

/* --- gql_validate_values.c: 5.4 arguments, 5.6 values, 5.7 directives. */

/* 5.6.1-5.6.4 for literal v at a position of type t (NULL when unknown: then
 * only its variable usages are recorded); loc_default tells whether the
 * position has a default value (for 5.8.5). */
void gqlv_check_value(vctx *c, const gql_value *v, const gql_wtype *t, int loc_default);

/* Records the variable usages inside v (expected type t, may be NULL). */
void gqlv_collect_vars(vctx *c, const gql_value *v, const gql_wtype *t);

/* 5.4.1 Argument Names, 5.4.2 Argument Uniqueness, 5.4.2.1 Required
 * Arguments and the values of the n arguments against defs (known_owner 0:
 * the field or directive is unknown, only uniqueness and usages). */
void gqlv_check_args(vctx *c, const gql_argument *args, uint32_t n, const gql_input_field *defs,
                     uint32_t n_defs, int known_owner, const char *owner_kind,
                     const char *owner_name, gql_location owner_loc, const char *req_prefix);

/* 5.7.1 Directives Are Defined, 5.7.2 Directives Are In Valid Locations,
 * 5.7.3 Directives Are Unique Per Location, and their arguments, for the n
 * directives at `location` (a GQL_DLOC_* bit). */
void gqlv_check_directives(vctx *c, const gql_directive *dirs, uint32_t n, uint32_t location);

/* --- gql_validate_selections.c: the walk of every definition. */

/* Walks every operation and fragment definition in document order,
 * checking the rules that apply at each node (see the file) and recording
 * each definition's variable usages and fragment spreads in
 * c->info_ops / c->info_frags. */
void gqlv_walk_definitions(vctx *c);

/* --- gql_validate_usage.c: rules across definitions. */

void gqlv_rule_fragment_cycles(vctx *c);        /* 5.5.2.2 */
void gqlv_rule_variables(vctx *c);              /* 5.8.3, 5.8.4, 5.8.5 */
void gqlv_rule_fragments_must_be_used(vctx *c); /* 5.5.1.4 */

/* --- gql_validate_merge.c. */

void gqlv_rule_field_selection_merging(vctx *c); /* 5.3.2 */

#endif
