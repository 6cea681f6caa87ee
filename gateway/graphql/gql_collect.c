/* Field collection: the fields an object of one type gets from the
 * selection sets of a field's nodes (or of the operation), in order and
 * merged by response key, after @skip/@include and type conditions, each
 * fragment spread once. The counterpart of graphql-js's
 * execution/collectFields.js (collectFields, collectSubfields); here the
 * collected fields also get their coerced arguments, once per collection
 * rather than once per object. */
#include <string.h>

#include "error.h"
#include "gql_execute_internal.h"
#include "gql_names.h"

static int directive_bool(const exec *ex, const gql_directive *d, int *out)
{
    for (uint32_t i = 0; i < d->n_args; i++) {
        if (!gql_str_eqz(d->args[i].name, "if"))
            continue;
        const gql_value *v = d->args[i].value;
        if (v->kind == GQL_VALUE_VARIABLE) {
            int found;
            v = gqlx_var_value(ex, v->u.string, &found);
            if (!found)
                return 0;
        }
        if (v->kind != GQL_VALUE_BOOLEAN)
            return 0;
        *out = v->u.boolean;
        return 1;
    }
    return 0;
}

int gqlx_should_include(const exec *ex, const gql_directive *dirs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int b;
        if (gql_str_eqz(dirs[i].name, "skip") && directive_bool(ex, &dirs[i], &b) && b)
            return 0;
        if (gql_str_eqz(dirs[i].name, "include") && directive_bool(ex, &dirs[i], &b) && !b)
            return 0;
    }
    return 1;
}

/* The fields collected so far for one object type, merged by response key.
 * Most selection sets have a handful of fields, so keys are found by a
 * linear scan; past 16 fields an open-addressing table (FNV-1a of the key)
 * takes over, so a hostile selection set of thousands of fields stays
 * linear. Each fragment is spread at most once per collection (`seen`), as
 * graphql-js does, which also bounds what repeated spreads cost. */
typedef struct collector {
    exec *ex;
    const gql_type *type;
    cfield *f;
    uint32_t n;
    uint32_t cap;
    uint32_t *table; /* key hash → index + 1 */
    uint32_t mask;
    const gql_fragment **seen;
    uint32_t n_seen;
    uint32_t cap_seen;
} collector;

static inline uint32_t hkey(gql_str s)
{
    return gql_name_hash(s.ptr, s.len);
}

static int coll_rehash(collector *c)
{
    uint32_t size = (c->mask + 1) * 2;
    uint32_t *t = xzalloc(c->ex, size * sizeof *t);
    if (t == NULL)
        return -1;
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t h = hkey(c->f[i].key) & (size - 1);
        while (t[h])
            h = (h + 1) & (size - 1);
        t[h] = i + 1;
    }
    c->table = t;
    c->mask = size - 1;
    return 0;
}

static void coll_add(collector *c, const gql_selection *sel)
{
    exec *ex = c->ex;
    gql_str key = sel->alias.len ? sel->alias : sel->name;
    cfield *cf = NULL;
    if (c->table == NULL && c->n >= 16) {
        c->mask = 63;
        c->table = xzalloc(ex, 64 * sizeof *c->table);
        if (c->table == NULL || coll_rehash(c))
            return;
    }
    if (c->table) {
        uint32_t h = hkey(key) & c->mask;
        while (c->table[h]) {
            cfield *x = &c->f[c->table[h] - 1];
            if (gql_str_eq(x->key, key)) {
                cf = x;
                break;
            }
            h = (h + 1) & c->mask;
        }
    } else {
        for (uint32_t i = 0; i < c->n; i++)
            if (gql_str_eq(c->f[i].key, key)) {
                cf = &c->f[i];
                break;
            }
    }
    if (cf) {
        if (cf->n_nodes == 1 || cf->n_nodes == cf->cap_nodes) {
            /* One node is kept inline (cf->node); an array only for merges. */
            uint32_t cap = cf->n_nodes == 1 ? 4 : cf->cap_nodes * 2;
            const gql_selection **nn = xalloc(ex, cap * sizeof *nn);
            if (nn == NULL)
                return;
            if (cf->n_nodes == 1)
                nn[0] = cf->node;
            else
                memcpy(nn, cf->nodes, cf->n_nodes * sizeof *nn);
            cf->nodes = nn;
            cf->cap_nodes = cap;
        }
        cf->nodes[cf->n_nodes++] = sel;
        return;
    }
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        cfield *nf = xalloc(ex, cap * sizeof *nf);
        if (nf == NULL)
            return;
        if (c->n)
            memcpy(nf, c->f, c->n * sizeof *nf);
        c->f = nf;
        c->cap = cap;
    }
    cf = &c->f[c->n++];
    memset(cf, 0, sizeof *cf);
    cf->key = key;
    cf->node = sel;
    cf->def = sel->def;
    cf->cap_nodes = 0;
    cf->nodes = NULL; /* see cf_nodes() */
    cf->n_nodes = 1;
    if (c->table) {
        if (c->n * 2 > c->mask + 1 && coll_rehash(c))
            return;
        uint32_t h = hkey(key) & c->mask;
        while (c->table[h])
            h = (h + 1) & c->mask;
        c->table[h] = c->n;
    }
}

static void coll_set(collector *c, const gql_selection_set *ss)
{
    exec *ex = c->ex;
    for (uint32_t i = 0; i < ss->count && !ex->nomem; i++) {
        const gql_selection *sel = &ss->items[i];
        if (!gqlx_should_include(ex, sel->dirs, sel->n_dirs))
            continue;
        if (sel->kind == GQL_SEL_FIELD) {
            coll_add(c, sel);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            if (sel->type_cond.len && !gql_str_eq(sel->type_cond, c->type->name))
                continue;
            coll_set(c, sel->sel);
        } else {
            const gql_fragment *f = sel->fragment;
            if (f == NULL || !gql_str_eq(f->type_cond, c->type->name))
                continue;
            int seen = 0;
            for (uint32_t k = 0; k < c->n_seen; k++)
                if (c->seen[k] == f) {
                    seen = 1;
                    break;
                }
            if (seen)
                continue;
            if (c->n_seen == c->cap_seen) {
                uint32_t cap = c->cap_seen ? c->cap_seen * 2 : 8;
                const gql_fragment **ns = xalloc(ex, cap * sizeof *ns);
                if (ns == NULL)
                    return;
                if (c->n_seen)
                    memcpy(ns, c->seen, c->n_seen * sizeof *ns);
                c->seen = ns;
                c->cap_seen = cap;
            }
            c->seen[c->n_seen++] = f;
            coll_set(c, f->sel);
        }
    }
}

collected *gqlx_collect_fields(exec *ex, const gql_type *type, const gql_selection *const *nodes,
                               uint32_t n_nodes, const gql_selection_set *root_set)
{
    collector c;
    memset(&c, 0, sizeof c);
    c.ex = ex;
    c.type = type;
    if (root_set)
        coll_set(&c, root_set);
    for (uint32_t i = 0; i < n_nodes; i++)
        if (nodes[i]->sel)
            coll_set(&c, nodes[i]->sel);
    collected *col = xzalloc(ex, sizeof *col);
    if (col == NULL || ex->nomem)
        return NULL;
    col->f = c.f;
    col->n = c.n;
    for (uint32_t i = 0; i < c.n; i++)
        if (c.f[i].def && c.f[i].def != ex->s->f_typename) {
            /* Most fields take no arguments: skip the call for them. */
            if (c.f[i].def->n_args == 0)
                c.f[i].args = (gql_value *)&gqlx_no_args;
            else
                gqlx_coerce_field_args(ex, &c.f[i]);
        }
    return ex->nomem ? NULL : col;
}

int gql_call_selects(const gql_call *c, const char *name)
{
    const cfield *cf = c->g->cf;
    size_t n = strlen(name);
    const gql_type *t = cf->def->type->named;
    /* A shallow walk that does not allocate. */
    for (uint32_t i = 0; i < cf->n_nodes; i++) {
        const gql_selection_set *stack[32];
        int sp = 0;
        if (cf_nodes(cf)[i]->sel)
            stack[sp++] = cf_nodes(cf)[i]->sel;
        while (sp) {
            const gql_selection_set *ss = stack[--sp];
            for (uint32_t k = 0; k < ss->count; k++) {
                const gql_selection *sel = &ss->items[k];
                if (!gqlx_should_include(c->ex, sel->dirs, sel->n_dirs))
                    continue;
                if (sel->kind == GQL_SEL_FIELD) {
                    if (gql_str_eqn(sel->name, name, n))
                        return 1;
                } else if (sp < 32) {
                    const gql_selection_set *sub = NULL;
                    if (sel->kind == GQL_SEL_INLINE_FRAGMENT &&
                        (sel->type_cond.len == 0 || gql_str_eq(sel->type_cond, t->name)))
                        sub = sel->sel;
                    else if (sel->kind == GQL_SEL_FRAGMENT_SPREAD && sel->fragment &&
                             gql_str_eq(sel->fragment->type_cond, t->name))
                        sub = sel->fragment->sel;
                    if (sub)
                        stack[sp++] = sub;
                }
            }
        }
    }
    return 0;
}

/* gql_call_walk's state: each fragment is walked once per walk. */
typedef struct walker {
    exec *ex;
    gql_walk_fn fn;
    void *ud;
    const gql_fragment **seen;
    uint32_t n_seen;
    uint32_t cap_seen;
} walker;

static int walk_seen(walker *w, const gql_fragment *f)
{
    for (uint32_t k = 0; k < w->n_seen; k++)
        if (w->seen[k] == f)
            return 1;
    if (w->n_seen == w->cap_seen) {
        uint32_t cap = w->cap_seen ? w->cap_seen * 2 : 8;
        const gql_fragment **ns = xalloc(w->ex, cap * sizeof *ns);
        if (ns == NULL)
            return 1;
        if (w->n_seen)
            memcpy(ns, w->seen, w->n_seen * sizeof *ns);
        w->seen = ns;
        w->cap_seen = cap;
    }
    w->seen[w->n_seen++] = f;
    return 0;
}

static void walk_set(walker *w, const gql_type *type, const gql_selection_set *ss)
{
    for (uint32_t i = 0; i < ss->count && !w->ex->nomem; i++) {
        const gql_selection *sel = &ss->items[i];
        if (!gqlx_should_include(w->ex, sel->dirs, sel->n_dirs))
            continue;
        if (sel->kind == GQL_SEL_FIELD) {
            if (sel->def != NULL && w->fn(w->ud, type, sel->def) && sel->sel != NULL)
                walk_set(w, sel->def->type->named, sel->sel);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            if (sel->type_cond.len == 0 || gql_str_eq(sel->type_cond, type->name))
                walk_set(w, type, sel->sel);
        } else if (sel->fragment != NULL && gql_str_eq(sel->fragment->type_cond, type->name) &&
                   !walk_seen(w, sel->fragment)) {
            walk_set(w, type, sel->fragment->sel);
        }
    }
}

int gql_call_walk(gql_call *c, gql_walk_fn fn, void *ud)
{
    const cfield *cf = c->g->cf;
    walker w = {.ex = c->ex, .fn = fn, .ud = ud};
    for (uint32_t i = 0; i < cf->n_nodes && !c->ex->nomem; i++)
        if (cf_nodes(cf)[i]->sel)
            walk_set(&w, cf->def->type->named, cf_nodes(cf)[i]->sel);
    return c->ex->nomem ? ROSTER_E_NOMEM : ROSTER_E_OK;
}

const void *gql_call_selection(const gql_call *c)
{
    return c->g->cf;
}
