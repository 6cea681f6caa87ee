/* The rules that look across definitions, from what the walk of
 * gql_validate_selections.c recorded (GraphQL spec October 2021):
 * 5.5.2.2 Fragment Spreads Must Not Form Cycles, 5.8.3 All Variable Uses
 * Defined, 5.8.4 All Variables Used, 5.8.5 All Variable Usages Are
 * Allowed, and 5.5.1.4 Fragments Must Be Used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

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
    spread_ref *out = gqlv_alloc(c, n * sizeof *out);
    vvec sets = {0};
    const gql_selection_set **top = gqlv_push(c, &sets, sizeof *top);
    if (out == NULL || top == NULL)
        return;
    *top = c->doc->frags[f]->sel;
    uint32_t k = 0;
    while (sets.count && !gqlv_stopped(c)) {
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
                const gql_selection_set **slot = gqlv_push(c, &sets, sizeof *slot);
                if (slot == NULL)
                    return;
                *slot = sel->sel;
            }
        }
    }
    if (k == n && !gqlv_stopped(c))
        inf->spreads.items = out;
}

static void detect_cycle(vctx *c, cycle_state *cs, uint32_t f)
{
    cs->visited[f] = 1;
    defn_info *inf = &c->info_frags[f];
    cs->path_index[f] = (int32_t)cs->path_len;
    spread_ref *sp = inf->spreads.items;
    for (uint32_t i = 0; i < inf->spreads.count && !gqlv_stopped(c); i++) {
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
            gql_location *l = gqlv_alloc(c, n * sizeof *l);
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
                    gqlv_err(c, l, n, "Cannot spread fragment \"%.*s\" within itself via %.*s.",
                             PS(tf->name), (int)via.len, via.data);
                else
                    gqlv_err(c, l, n, "Cannot spread fragment \"%.*s\" within itself.",
                             PS(tf->name));
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
    return gql_str_eq(var->name, loc->named->name);
}

/* 5.8.3 All Variable Uses Defined: usage u in operation op names one of its
 * variables. Returns the definition (marked in used) or NULL. */
static const gql_var_def *rule_variable_use_defined(vctx *c, const gql_operation *op,
                                                    const usage *u, uint8_t *used)
{
    for (uint32_t k = 0; k < op->n_vars; k++)
        if (gql_str_eq(op->vars[k].name, u->name)) {
            used[k] = 1;
            return &op->vars[k];
        }
    gql_location l[2] = {u->loc, op->loc};
    if (op->anonymous)
        gqlv_err(c, l, 2, "Variable \"$%.*s\" is not defined.", PS(u->name));
    else
        gqlv_err(c, l, 2, "Variable \"$%.*s\" is not defined by operation \"%.*s\".", PS(u->name),
                 PS(op->name));
    return NULL;
}

/* 5.8.5 All Variable Usages Are Allowed: variable vd may be used where u
 * expects its type (a nullable variable in a non-null position only when
 * the variable or the position has a default). */
static void rule_variable_usage_allowed(vctx *c, const gql_var_def *vd, const usage *u)
{
    if (u->type == NULL || vd->named == NULL)
        return;
    const gql_wtype *lt = u->type;
    const gql_type_ref *vt = vd->type;
    int ok;
    if (lt->kind == GQL_KIND_NON_NULL && vt->kind != GQL_TREF_NON_NULL) {
        int var_default = vd->default_value && vd->default_value->kind != GQL_VALUE_NULL;
        if (!var_default && !u->loc_has_default)
            ok = 0;
        else
            ok = ref_is_subtype(vt, lt->of);
    } else {
        ok = ref_is_subtype(vt, lt);
    }
    if (!ok) {
        gql_location l[2] = {vd->loc, u->loc};
        gqlv_err(c, l, 2,
                 "Variable \"$%.*s\" of type \"%s\" used in position expecting type \"%s\".",
                 PS(vd->name), gqlv_rstr(c, vt), gqlv_tstr(c, lt));
    }
}

/* 5.8.4 All Variables Used: every variable of op not marked in used (a
 * repeated name counts as used when an earlier one is). */
static void rule_all_variables_used(vctx *c, const gql_operation *op, const uint8_t *used)
{
    for (uint32_t k = 0; k < op->n_vars; k++) {
        if (used[k])
            continue;
        int dup_earlier = 0;
        for (uint32_t j = 0; j < k; j++)
            if (gql_str_eq(op->vars[j].name, op->vars[k].name))
                dup_earlier = used[j] ? 2 : 1;
        if (dup_earlier == 2)
            continue;
        if (op->anonymous)
            gqlv_err1(c, op->vars[k].loc, "Variable \"$%.*s\" is never used.",
                      PS(op->vars[k].name));
        else
            gqlv_err1(c, op->vars[k].loc, "Variable \"$%.*s\" is never used in operation \"%.*s\".",
                      PS(op->vars[k].name), PS(op->name));
    }
}

/* The variable rules for operation oi over the usages in it and in every
 * fragment it reaches (mark and stack: scratch of n_frags + 1). */
static void check_operation_variables(vctx *c, uint32_t oi, uint8_t *mark, uint32_t *stack)
{
    gql_operation *op = c->doc->ops[oi];
    memset(mark, 0, c->doc->n_frags + 1);
    reach(c, &c->info_ops[oi], mark, stack);
    uint8_t *used = gqlv_alloc(c, op->n_vars + 1);
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
            const gql_var_def *vd = rule_variable_use_defined(c, op, &u[i], used);
            if (vd)
                rule_variable_usage_allowed(c, vd, &u[i]);
        }
    }
    rule_all_variables_used(c, op, used);
}

/* The scratch arrays of reach(), allocated once for the phases that need
 * them. 0, or -1 when out of memory. */
static int reach_scratch(vctx *c)
{
    uint32_t nf = c->doc->n_frags;
    if (c->reach_mark == NULL)
        c->reach_mark = gqlv_alloc(c, nf + 1);
    if (c->reach_stack == NULL)
        c->reach_stack = gqlv_alloc(c, (nf + 1) * sizeof *c->reach_stack);
    return c->nomem ? -1 : 0;
}

/* 5.5.2.2 Fragment Spreads Must Not Form Cycles: a depth-first walk over
 * the spreads of each fragment (the first definition of each name), one
 * error per cycle found, naming its spreads. */
void gqlv_rule_fragment_cycles(vctx *c)
{
    const gql_document *doc = c->doc;
    uint32_t nf = doc->n_frags;
    if (nf == 0)
        return;
    cycle_state cs;
    cs.visited = gqlv_alloc(c, nf + 1);
    cs.path_index = gqlv_alloc(c, (nf + 1) * sizeof *cs.path_index);
    uint32_t total_spreads = 0;
    for (uint32_t i = 0; i < nf; i++)
        total_spreads += c->info_frags[i].spreads.count;
    cs.path = gqlv_alloc(c, (total_spreads + 1) * sizeof *cs.path);
    cs.path_len = 0;
    if (c->nomem)
        return;
    for (uint32_t i = 0; i < nf; i++) {
        cs.path_index[i] = -1;
        order_spreads_like_graphql_js(c, i);
    }
    for (uint32_t i = 0; i < nf && !gqlv_stopped(c); i++)
        if (!cs.visited[i] && gqlv_find_frag(c, doc->frags[i]->name) == i)
            detect_cycle(c, &cs, i);
}

/* 5.8.3 All Variable Uses Defined, 5.8.5 All Variable Usages Are Allowed
 * and 5.8.4 All Variables Used, operation by operation, each over the
 * usages in the operation and the fragments it reaches. */
void gqlv_rule_variables(vctx *c)
{
    if (reach_scratch(c))
        return;
    for (uint32_t oi = 0; oi < c->doc->n_ops && !gqlv_stopped(c); oi++)
        check_operation_variables(c, oi, c->reach_mark, c->reach_stack);
}

/* 5.5.1.4 Fragments Must Be Used: every fragment is reached from some
 * operation. */
void gqlv_rule_fragments_must_be_used(vctx *c)
{
    const gql_document *doc = c->doc;
    uint32_t nf = doc->n_frags;
    if (nf == 0)
        return;
    uint8_t *used = gqlv_alloc(c, nf + 1);
    if (used == NULL || reach_scratch(c))
        return;
    uint8_t *mark = c->reach_mark;
    uint32_t *stack = c->reach_stack;
    for (uint32_t oi = 0; oi < doc->n_ops; oi++) {
        memset(mark, 0, nf + 1);
        reach(c, &c->info_ops[oi], mark, stack);
        for (uint32_t i = 0; i < nf; i++)
            used[i] |= mark[i];
    }
    for (uint32_t i = 0; i < nf; i++) {
        /* A duplicate name counts as used when its first definition is. */
        uint32_t first = gqlv_find_frag(c, doc->frags[i]->name);
        if (!used[i] && !(first != UINT32_MAX && used[first]))
            gqlv_err1(c, doc->frags[i]->loc, "Fragment \"%.*s\" is never used.",
                      PS(doc->frags[i]->name));
    }
}
