/* The walk of every operation and fragment definition (GraphQL spec
 * October 2021, section 5), in document order, checking at each node the
 * rules that apply there, in the order graphql-js reports them (it runs all
 * its rules side by side in one visit, so a document's errors come in
 * document order; one walk here keeps that order):
 *   5.3.1 Field Selections, 5.3.3 Leaf Field Selections,
 *   5.5.1.2 Fragment Spread Type Existence, 5.5.1.3 Fragments On Composite
 *   Types, 5.5.2.1 Fragment Spread Target Defined, 5.5.2.3 Fragment Spread
 *   Is Possible, 5.8.1 Variable Uniqueness, 5.8.2 Variables Are Input
 *   Types, and through gql_validate_values.c 5.4 (arguments), 5.6 (values)
 *   and 5.7 (directives).
 * The walk also resolves each field node to its definition and each
 * spread to its fragment (execution relies on both) and records each
 * definition's variable usages and spreads for the rules across
 * definitions (gql_validate_usage.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

static void visit_selection_set(vctx *c, const gql_selection_set *ss, const gql_type *parent);

static const gql_field *field_def(vctx *c, const gql_type *parent, gql_str name)
{
    if (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_') {
        if (gql_str_eqz(name, "__typename"))
            return c->s->f_typename;
        if (parent == c->s->query) {
            if (gql_str_eqz(name, "__schema"))
                return c->s->f_schema;
            if (gql_str_eqz(name, "__type"))
                return c->s->f_type;
        }
    }
    if (parent->kind != GQL_KIND_OBJECT)
        return NULL;
    return gql_type_field(parent, name.ptr, name.len);
}

/* 5.3.1 Field Selections: the field is defined on the parent type (parent
 * NULL: unknown, nothing to check). Returns its definition or NULL. */
static const gql_field *rule_field_selections(vctx *c, const gql_selection *sel,
                                              const gql_type *parent)
{
    if (parent == NULL)
        return NULL;
    const gql_field *def = field_def(c, parent, sel->name);
    if (def == NULL)
        gqlv_err1(c, sel->loc, "Cannot query field \"%.*s\" on type \"%.*s\".%s", PS(sel->name),
                  PS(parent->name),
                  gqlv_suggest_fields(c, sel->name, parent->fields, parent->n_fields));
    return def;
}

/* 5.3.3 Leaf Field Selections: a selection set on composite types only,
 * and always on them. */
static void rule_leaf_field_selections(vctx *c, const gql_selection *sel, const gql_field *def)
{
    const gql_type *nt = def->type->named;
    if (nt->kind == GQL_KIND_SCALAR || nt->kind == GQL_KIND_ENUM) {
        if (sel->sel)
            gqlv_err1(c, sel->sel->loc,
                      "Field \"%.*s\" must not have a selection since type \"%s\" has no "
                      "subfields.",
                      PS(sel->name), gqlv_tstr(c, def->type));
    } else if (sel->sel == NULL) {
        gqlv_err1(c, sel->loc,
                  "Field \"%.*s\" of type \"%s\" must have a selection of subfields. Did you "
                  "mean \"%.*s { ... }\"?",
                  PS(sel->name), gqlv_tstr(c, def->type), PS(sel->name));
    }
}

static void visit_field(vctx *c, gql_selection *sel, const gql_type *parent)
{
    const gql_field *def = rule_field_selections(c, sel, parent);
    sel->def = def;
    char owner[300];
    if (def)
        snprintf(owner, sizeof owner, "%.*s.%.*s", PS(parent->name), PS(def->name));
    char prefix[320];
    snprintf(prefix, sizeof prefix, "Field \"%.*s\"", PS(sel->name));
    gqlv_check_args(c, sel->args, sel->n_args, def ? def->args : NULL, def ? def->n_args : 0,
                    def != NULL, "field", owner, sel->loc, prefix);
    gqlv_check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_FIELD);
    const gql_type *child = NULL;
    if (def) {
        rule_leaf_field_selections(c, sel, def);
        if (gqlv_is_composite(def->type->named))
            child = def->type->named;
    }
    if (sel->sel)
        visit_selection_set(c, sel->sel, child);
}

static void record_spread(vctx *c, uint32_t frag, gql_location loc)
{
    spread_ref *r = gqlv_push(c, &c->cur->spreads, sizeof *r);
    if (r) {
        r->frag = frag;
        r->loc = loc;
    }
}

/* For an inline fragment: 5.5.1.2 Fragment Spread Type Existence, 5.5.1.3
 * Fragments On Composite Types and 5.5.2.3 Fragment Spread Is Possible.
 * Returns the type its selections are checked against (NULL: unknown). */
static const gql_type *rule_inline_fragment_type(vctx *c, const gql_selection *sel,
                                                 const gql_type *parent)
{
    if (sel->type_cond.len == 0)
        return parent;
    const gql_type *cond = gql_schema_type(c->s, sel->type_cond.ptr, sel->type_cond.len);
    if (cond == NULL) {
        gqlv_err1(c, sel->type_cond_loc, "Unknown type \"%.*s\".%s", PS(sel->type_cond),
                  gqlv_suggest_types(c, sel->type_cond));
    } else if (!gqlv_is_composite(cond)) {
        gqlv_err1(c, sel->type_cond_loc,
                  "Fragment cannot condition on non composite type \"%.*s\".", PS(sel->type_cond));
        cond = NULL;
    } else if (parent && cond != parent) {
        gqlv_err1(c, sel->loc,
                  "Fragment cannot be spread here as objects of type \"%.*s\" can never "
                  "be of type \"%.*s\".",
                  PS(parent->name), PS(cond->name));
    }
    return cond;
}

/* For a fragment spread: 5.5.2.1 Fragment Spread Target Defined and
 * 5.5.2.3 Fragment Spread Is Possible. Resolves the spread to its fragment
 * and returns the fragment's index (UINT32_MAX: unknown). */
static uint32_t rule_fragment_spread(vctx *c, gql_selection *sel, const gql_type *parent)
{
    uint32_t fi = gqlv_find_frag(c, sel->name);
    if (fi == UINT32_MAX) {
        gqlv_err1(c, sel->name_loc, "Unknown fragment \"%.*s\".", PS(sel->name));
        return fi;
    }
    const gql_fragment *f = c->doc->frags[fi];
    sel->fragment = f;
    const gql_type *ft = gql_schema_type(c->s, f->type_cond.ptr, f->type_cond.len);
    if (parent && ft && gqlv_is_composite(ft) && ft != parent)
        gqlv_err1(c, sel->loc,
                  "Fragment \"%.*s\" cannot be spread here as objects of type \"%.*s\" "
                  "can never be of type \"%.*s\".",
                  PS(sel->name), PS(parent->name), PS(ft->name));
    return fi;
}

static void visit_selection_set(vctx *c, const gql_selection_set *ss, const gql_type *parent)
{
    for (uint32_t i = 0; i < ss->count && !gqlv_stopped(c); i++) {
        gql_selection *sel = &ss->items[i];
        switch (sel->kind) {
        case GQL_SEL_FIELD:
            visit_field(c, sel, parent);
            break;
        case GQL_SEL_INLINE_FRAGMENT: {
            const gql_type *cond = rule_inline_fragment_type(c, sel, parent);
            gqlv_check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_INLINE_FRAGMENT);
            visit_selection_set(c, sel->sel, cond);
            break;
        }
        case GQL_SEL_FRAGMENT_SPREAD:
            record_spread(c, rule_fragment_spread(c, sel, parent), sel->loc);
            gqlv_check_directives(c, sel->dirs, sel->n_dirs, GQL_DLOC_FRAGMENT_SPREAD);
            break;
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
    gql_wtype *w = gqlv_alloc(c, sizeof *w);
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

/* 5.8.1 Variable Uniqueness: one error per repeated name, at its first
 * definition, with the location of every definition of the name. */
static void rule_variable_uniqueness(vctx *c, const gql_operation *op, uint32_t i)
{
    const gql_var_def *vd = &op->vars[i];
    int first = 1, dup = 0;
    for (uint32_t j = 0; j < op->n_vars; j++)
        if (j != i && gql_str_eq(op->vars[j].name, vd->name)) {
            if (j < i)
                first = 0;
            dup = 1;
        }
    if (!dup || !first)
        return;
    gql_location *l = gqlv_alloc(c, op->n_vars * sizeof *l);
    uint32_t k = 0;
    if (l == NULL)
        return;
    for (uint32_t j = 0; j < op->n_vars; j++)
        if (gql_str_eq(op->vars[j].name, vd->name))
            l[k++] = op->vars[j].name_loc;
    gqlv_err(c, l, k, "There can be only one variable named \"$%.*s\".", PS(vd->name));
}

/* 5.8.2 Variables Are Input Types (and, as graphql-js's KnownTypeNames,
 * that the type exists). Resolves vd->named; returns the named type when
 * it is an input type, else NULL. */
static const gql_type *rule_variables_are_input_types(vctx *c, gql_var_def *vd)
{
    const gql_type_ref *nr = ref_named(vd->type);
    const gql_type *nt = gql_schema_type(c->s, nr->name.ptr, nr->name.len);
    vd->named = nt;
    if (nt == NULL) {
        gqlv_err1(c, nr->loc, "Unknown type \"%.*s\".%s", PS(nr->name),
                  gqlv_suggest_types(c, nr->name));
        return NULL;
    }
    if (!gql_wtype_is_input(&nt->self)) {
        gqlv_err1(c, vd->type->loc, "Variable \"$%.*s\" cannot be non-input type \"%s\".",
                  PS(vd->name), gqlv_rstr(c, vd->type));
        return NULL;
    }
    return nt;
}

static void visit_operation(vctx *c, gql_operation *op)
{
    static const uint32_t bits[] = {GQL_DLOC_QUERY, GQL_DLOC_MUTATION, GQL_DLOC_SUBSCRIPTION};
    for (uint32_t i = 0; i < op->n_vars; i++) {
        gql_var_def *vd = &op->vars[i];
        rule_variable_uniqueness(c, op, i);
        const gql_type *input = rule_variables_are_input_types(c, vd);
        gqlv_check_directives(c, vd->dirs, vd->n_dirs, GQL_DLOC_VARIABLE_DEFINITION);
        if (vd->default_value && input)
            gqlv_check_value(c, vd->default_value, wtype_from_ref(c, vd->type), 0);
    }
    gqlv_check_directives(c, op->dirs, op->n_dirs, bits[op->type]);
    const gql_type *root = op->type == GQL_OP_QUERY      ? c->s->query
                           : op->type == GQL_OP_MUTATION ? c->s->mutation
                                                         : c->s->subscription;
    visit_selection_set(c, op->sel, root);
}

/* 5.5.1.2 Fragment Spread Type Existence and 5.5.1.3 Fragments On Composite
 * Types for a fragment definition: its type condition, or NULL when the
 * condition names no composite type. */
static const gql_type *rule_fragment_type_condition(vctx *c, const gql_fragment *f)
{
    const gql_type *t = gql_schema_type(c->s, f->type_cond.ptr, f->type_cond.len);
    if (t == NULL) {
        gqlv_err1(c, f->type_cond_loc, "Unknown type \"%.*s\".%s", PS(f->type_cond),
                  gqlv_suggest_types(c, f->type_cond));
    } else if (!gqlv_is_composite(t)) {
        gqlv_err1(c, f->type_cond_loc,
                  "Fragment \"%.*s\" cannot condition on non composite type \"%.*s\".", PS(f->name),
                  PS(f->type_cond));
        t = NULL;
    }
    return t;
}

void gqlv_walk_definitions(vctx *c)
{
    const gql_document *doc = c->doc;
    for (uint32_t i = 0; i < doc->n_defs && !gqlv_stopped(c); i++) {
        const gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION) {
            uint32_t oi = 0;
            while (doc->ops[oi] != d->u.op)
                oi++;
            c->cur = &c->info_ops[oi];
            visit_operation(c, d->u.op);
        } else if (d->kind == GQL_DEF_FRAGMENT) {
            uint32_t fi = 0;
            while (doc->frags[fi] != d->u.frag)
                fi++;
            gql_fragment *f = d->u.frag;
            c->cur = &c->info_frags[fi];
            const gql_type *t = rule_fragment_type_condition(c, f);
            gqlv_check_directives(c, f->dirs, f->n_dirs, GQL_DLOC_FRAGMENT_DEFINITION);
            visit_selection_set(c, f->sel, t);
        }
    }
}
