/* ListUsers conditions and order on declared customData paths.
 *
 * A condition's values are checked against the path's declared type and
 * encoded as its index encodes them (custom_index.h), so a condition is a
 * comparison of encoded bytes: on an index key when an index drives, on
 * the value read from a record's customData otherwise.
 *
 * Driving: each condition with an equalTo, valueIn or a range gives key
 * ranges of its index; the one with the fewest entries drives (each is
 * counted only up to the best count so far, so this costs at most a few
 * times the winner's walk). Its entries are the candidates; the query
 * reads their records and checks every condition there.
 *
 * An index still building (its online build not complete in the query's
 * snapshot, cdx_built) drives nothing: its conditions are checked on the
 * records the plan reads anyway, and an order by its path reads every
 * record into a top-k keyed by the value read from customData (the key a
 * walk of the index would give, so cursors agree). The answers, exact
 * totals included, are those the complete index gives, only slower. */
#include "custom_index.h"

#include "roster_limits.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct custom_query {
    custom_cond *c; /* arena */
    size_t n;
    const cdx_def *order; /* NULL: not ordered by a customData path */
    bool order_indexed;   /* order's index is complete in the snapshot */
    const cdx_def **defs; /* the conditions' indexes, then the order's (arena) */
};

static int cval_cmp(const uint8_t *a, size_t an, const custom_value *b)
{
    size_t n = an < b->n ? an : b->n;
    int c = memcmp(a, b->b, n);
    if (c == 0)
        c = an < b->n ? -1 : an > b->n;
    return c;
}

static int cval_sort_cmp(const void *a, const void *b)
{
    const custom_value *x = a;
    return cval_cmp(x->b, x->n, b);
}

static const cdx_def *find_def(const cdx_def *defs, size_t n_defs, const char *path)
{
    for (size_t i = 0; i < n_defs; i++)
        if (defs[i].type != STORE_CUSTOM_ORDER && strcmp(defs[i].path, path) == 0)
            return &defs[i];
    return NULL;
}

/* The index of `path`, declared (complete or still building). */
static int use_def(const cdx_def **out, const cdx_def *defs, size_t n_defs, const char *where,
                   const char *path, roster_err_detail *detail)
{
    if (path == NULL || *path == 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, where, "%s needs a path", where);
    const cdx_def *d = find_def(defs, n_defs, path);
    if (d == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, where,
                           "%s path \"%.128s\" is not a declared customData index", where, path);
    *out = d;
    return ROSTER_E_OK;
}

/* Encodes JSON text `text` as a value of d's type into *out (arena). */
static int parse_value(custom_value *out, const cdx_def *d, const char *text, const char *op,
                       roster_arena *arena, roster_err_detail *detail)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    uint8_t buf[CDX_MAX_STRING + 1];
    size_t n = j ? custom_index_encode(buf, d->type, j) : 0;
    bool too_long = n == 0 && j && json_is_string(j) && d->type == STORE_CUSTOM_STRING;
    json_decref(j);
    if (n == 0) {
        if (too_long)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "filter.customData",
                               "filter.customData path \"%s\": %s is over %d bytes or holds a "
                               "NUL byte (not indexed)",
                               d->path, op, CDX_MAX_STRING);
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "filter.customData",
                           "filter.customData path \"%s\": %s is not a JSON %s%s", d->path, op,
                           store_custom_type_name(d->type),
                           d->type == STORE_CUSTOM_DATE ? " (ISO 8601 UTC text)" : "");
    }
    if ((out->b = roster_arena_alloc(arena, n)) == NULL)
        return ROSTER_E_NOMEM;
    memcpy(out->b, buf, n);
    out->n = n;
    return ROSTER_E_OK;
}

/* Tightens a bound: lower (lower true) or upper, keeping the stricter. */
static void bound(bool *has, bool *incl, custom_value *b, const custom_value *v, bool v_incl,
                  bool lower)
{
    if (*has) {
        int c = cval_cmp(v->b, v->n, b);
        if (lower ? c < 0 : c > 0)
            return;
        if (c == 0) {
            *incl = *incl && v_incl;
            return;
        }
    }
    *has = true;
    *incl = v_incl;
    *b = *v;
}

static int compile_cond(custom_cond *c, const cdx_def *defs, size_t n_defs, bool scan, MDB_txn *txn,
                        const Roster__V1__CustomDataCondition *in, roster_arena *arena,
                        roster_err_detail *detail)
{
    memset(c, 0, sizeof *c);
    int err = use_def(&c->d, defs, n_defs, "filter.customData", in->path, detail);
    if (err != ROSTER_E_OK)
        return err;
    c->indexed = !scan && cdx_built(c->d, txn);
    custom_value v;
    if (in->equal_to) {
        if ((err = parse_value(&c->eq, c->d, in->equal_to, "equalTo", arena, detail)) != 0)
            return err;
        c->has_eq = true;
    }
    if (in->not_equal_to) {
        if ((err = parse_value(&c->neq, c->d, in->not_equal_to, "notEqualTo", arena, detail)) != 0)
            return err;
        c->has_neq = true;
    }
    if (in->n_value_in > ROSTER_MAX_FILTER_VALUES)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "filter.customData",
                           "filter.customData path \"%s\": valueIn holds %zu values; at most %d "
                           "are allowed",
                           c->d->path, in->n_value_in, ROSTER_MAX_FILTER_VALUES);
    if (in->n_value_in) {
        if ((c->in = roster_arena_alloc(arena, in->n_value_in * sizeof *c->in)) == NULL)
            return ROSTER_E_NOMEM;
        for (size_t i = 0; i < in->n_value_in; i++)
            if ((err = parse_value(&c->in[i], c->d, in->value_in[i], "valueIn", arena, detail)) !=
                0)
                return err;
        c->n_in = in->n_value_in;
        /* Sorted and each value once: the values' entry ranges are then
         * disjoint, so no user is a candidate twice. */
        qsort(c->in, c->n_in, sizeof *c->in, cval_sort_cmp);
        size_t u = 0;
        for (size_t i = 0; i < c->n_in; i++)
            if (u == 0 || cval_cmp(c->in[i].b, c->in[i].n, &c->in[u - 1]) != 0)
                c->in[u++] = c->in[i];
        c->n_in = u;
    }
    const struct {
        const char *text, *op;
        bool lower, incl;
    } b[] = {
        {in->more_than, "moreThan", true, false},
        {in->more_than_equal, "moreThanEqual", true, true},
        {in->less_than, "lessThan", false, false},
        {in->less_than_equal, "lessThanEqual", false, true},
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        if (b[i].text == NULL)
            continue;
        if ((err = parse_value(&v, c->d, b[i].text, b[i].op, arena, detail)) != 0)
            return err;
        if (b[i].lower)
            bound(&c->has_lo, &c->lo_incl, &c->lo, &v, b[i].incl, true);
        else
            bound(&c->has_hi, &c->hi_incl, &c->hi, &v, b[i].incl, false);
    }
    return ROSTER_E_OK;
}

int custom_query_prepare(custom_query **out, const cdx_def *defs, size_t n_defs, bool scan,
                         MDB_txn *txn, const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                         roster_err_detail *detail)
{
    const Roster__V1__UserFilter *f = req->filter;
    size_t n = f ? f->n_custom_data : 0;
    const char *order = req->order ? req->order->custom_data : NULL;
    if (n == 0 && order == NULL) {
        *out = NULL;
        return ROSTER_E_OK;
    }
    if (n > ROSTER_MAX_CUSTOM_CONDITIONS)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "filter.customData",
                           "filter.customData holds %zu conditions; at most %d are allowed", n,
                           ROSTER_MAX_CUSTOM_CONDITIONS);
    custom_query *q = roster_arena_alloc(arena, sizeof *q);
    if (q == NULL || (q->c = roster_arena_alloc(arena, (n ? n : 1) * sizeof *q->c)) == NULL ||
        (q->defs = roster_arena_alloc(arena, (n + 1) * sizeof *q->defs)) == NULL)
        return ROSTER_E_NOMEM;
    q->n = n;
    q->order = NULL;
    q->order_indexed = false;
    int err;
    for (size_t i = 0; i < n; i++) {
        if ((err = compile_cond(&q->c[i], defs, n_defs, scan, txn, f->custom_data[i], arena,
                                detail)) != ROSTER_E_OK)
            return err;
        q->defs[i] = q->c[i].d;
    }
    if (order) {
        if (req->order->has_sort &&
            req->order->sort != ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UNSPECIFIED)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.customData",
                               "order takes one of sort and customData, not both");
        if ((err = use_def(&q->order, defs, n_defs, "order.customData", order, detail)) !=
            ROSTER_E_OK)
            return err;
        q->order_indexed = cdx_built(q->order, txn);
        q->defs[n] = q->order;
    }
    *out = q;
    return ROSTER_E_OK;
}

/* Whether encoded value v[vn] satisfies c. */
static bool cond_match(const custom_cond *c, const uint8_t *v, size_t vn)
{
    if (c->has_eq && cval_cmp(v, vn, &c->eq) != 0)
        return false;
    if (c->has_neq && cval_cmp(v, vn, &c->neq) == 0)
        return false;
    if (c->has_lo) {
        int x = cval_cmp(v, vn, &c->lo);
        if (x < 0 || (x == 0 && !c->lo_incl))
            return false;
    }
    if (c->has_hi) {
        int x = cval_cmp(v, vn, &c->hi);
        if (x > 0 || (x == 0 && !c->hi_incl))
            return false;
    }
    if (c->in) {
        for (size_t i = 0; i < c->n_in; i++)
            if (cval_cmp(v, vn, &c->in[i]) == 0)
                return true;
        return false;
    }
    return true;
}

bool custom_query_match(const custom_query *q, const user_view *v)
{
    size_t n = q->n + (q->order != NULL);
    uint8_t vals[ROSTER_MAX_CUSTOM_CONDITIONS + 1][CDX_MAX_STRING + 1];
    size_t lens[ROSTER_MAX_CUSTOM_CONDITIONS + 1];
    custom_index_user_values(vals, lens, q->defs, n, v);
    for (size_t i = 0; i < n; i++)
        if (lens[i] == 0 || (i < q->n && !cond_match(&q->c[i], vals[i], lens[i])))
            return false;
    return true;
}

size_t custom_query_order_value(const custom_query *q, const user_view *v, uint8_t *buf)
{
    return q->order ? custom_index_user_value(buf, q->order, v) : 0;
}

static size_t part_prefix(uint8_t *prefix, const cdx_def *d, bool one_tenant,
                          const roster_uuid *tenant)
{
    prefix[0] = d->id;
    if (!one_tenant) {
        prefix[1] = 'g';
        return 2;
    }
    prefix[1] = 't';
    memcpy(prefix + 2, tenant->b, 16);
    return 18;
}

bool custom_query_ordered(const custom_query *q)
{
    return q->order != NULL;
}

size_t custom_query_conditions(const custom_query *q)
{
    return q->n;
}

const custom_cond *custom_query_cond(const custom_query *q, size_t i)
{
    return &q->c[i];
}

const cdx_def *custom_query_order_def(const custom_query *q, bool *indexed)
{
    *indexed = q->order_indexed;
    return q->order;
}

bool custom_query_order_scans(const custom_query *q)
{
    return q->order != NULL && !q->order_indexed;
}

bool custom_query_order(const custom_query *q, bool one_tenant, const roster_uuid *tenant,
                        uint8_t *prefix, size_t *pn)
{
    if (q->order == NULL || !q->order_indexed)
        return false;
    *pn = part_prefix(prefix, q->order, one_tenant, tenant);
    return true;
}

/* Whether c's index may drive c: complete, and c names key ranges. */
static bool drivable(const custom_cond *c)
{
    return c->indexed && (c->has_eq || c->in || c->has_lo || c->has_hi);
}

bool custom_query_drives(const custom_query *q)
{
    for (size_t i = 0; i < q->n; i++)
        if (drivable(&q->c[i]))
            return true;
    return false;
}

typedef struct idlist {
    roster_uuid *ids;
    uint8_t *flags;
    size_t n, cap;
} idlist;

/* Appends the ids of the entries of [lo, hi] (each bound optional) of the
 * part `prefix`; stops with *over set once more than `cap` are held. */
static int walk_range(idlist *l, MDB_cursor *c, const uint8_t *prefix, size_t pn,
                      const custom_value *lo, bool lo_incl, const custom_value *hi, bool hi_incl,
                      size_t cap, bool *over)
{
    uint8_t start[CDX_KEY_MAX];
    memcpy(start, prefix, pn);
    size_t sn = pn;
    if (lo) {
        memcpy(start + pn, lo->b, lo->n);
        sn += lo->n;
    }
    MDB_val k = {sn, start}, v;
    int rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < pn + 16 || memcmp(kb, prefix, pn) != 0)
            break;
        const uint8_t *val = kb + pn;
        size_t vn = k.mv_size - pn - 16;
        if (lo && !lo_incl && cval_cmp(val, vn, lo) == 0)
            continue;
        if (hi) {
            int x = cval_cmp(val, vn, hi);
            if (x > 0 || (x == 0 && !hi_incl))
                break;
        }
        if (l->n == cap) {
            *over = true;
            return ROSTER_E_OK;
        }
        if (l->n == l->cap) {
            size_t nc = l->cap ? l->cap * 2 : 256;
            roster_uuid *x = realloc(l->ids, nc * sizeof *x);
            if (x == NULL)
                return ROSTER_E_NOMEM;
            l->ids = x;
            uint8_t *fl = realloc(l->flags, nc);
            if (fl == NULL)
                return ROSTER_E_NOMEM;
            l->flags = fl;
            l->cap = nc;
        }
        l->flags[l->n] = v.mv_size ? *(const uint8_t *)v.mv_data : 0;
        memcpy(l->ids[l->n++].b, kb + k.mv_size - 16, 16);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

/* The candidates of one condition, at most cap (else *over). */
static int cond_candidates(idlist *l, const custom_cond *cd, MDB_cursor *c, bool one_tenant,
                           const roster_uuid *tenant, size_t cap, bool *over)
{
    uint8_t prefix[18];
    size_t pn = part_prefix(prefix, cd->d, one_tenant, tenant);
    if (cd->has_eq)
        return walk_range(l, c, prefix, pn, &cd->eq, true, &cd->eq, true, cap, over);
    if (cd->in) {
        for (size_t i = 0; i < cd->n_in && !*over; i++) {
            int err = walk_range(l, c, prefix, pn, &cd->in[i], true, &cd->in[i], true, cap, over);
            if (err != ROSTER_E_OK)
                return err;
        }
        return ROSTER_E_OK;
    }
    return walk_range(l, c, prefix, pn, cd->has_lo ? &cd->lo : NULL, cd->lo_incl,
                      cd->has_hi ? &cd->hi : NULL, cd->hi_incl, cap, over);
}

int custom_query_candidates(const custom_query *q, MDB_txn *txn, const store *s, bool one_tenant,
                            const roster_uuid *tenant, roster_uuid **ids, uint8_t **flags,
                            size_t *n, bool *sorted)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->custom, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    idlist best = {0};
    bool have = false, one_value = false;
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < q->n && err == ROSTER_E_OK; i++) {
        if (!drivable(&q->c[i]))
            continue;
        idlist l = {0};
        bool over = false;
        err = cond_candidates(&l, &q->c[i], c, one_tenant, tenant, have ? best.n : SIZE_MAX, &over);
        if (err != ROSTER_E_OK || over) {
            free(l.ids);
            free(l.flags);
            continue;
        }
        free(best.ids);
        free(best.flags);
        best = l;
        have = true;
        one_value = q->c[i].has_eq || (q->c[i].in && q->c[i].n_in == 1);
    }
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK) {
        free(best.ids);
        free(best.flags);
        return err;
    }
    *ids = best.ids;
    *flags = best.flags;
    *n = best.n;
    *sorted = one_value;
    return ROSTER_E_OK;
}
