/* ListUsers on the PostgreSQL store.
 *
 * The request is validated and compiled by the code the LMDB store uses
 * (query_internal.h), so errors, cursors and matching are the same. What
 * an LMDB index answers becomes a condition PostgreSQL answers from an
 * index of roster_users: the tenant (scope), the deactivated rule
 * (flags), an equalTo on a sortable field (its s_ column, the bytes the
 * LMDB sort index holds), an equalTo on a unique field (its u_ column),
 * and ids; the order is ORDER BY the sort column then id, which is the
 * LMDB order because both compare the same bytes with memcmp.
 *
 * Two plans:
 *  - counted: only the scope and the deactivated rule apply. The total
 *    comes from roster_counts, and the page is read straight from the
 *    order's index (a cursor's position as a row comparison, LIMIT
 *    offset + limit + 1), so any page costs what the first costs.
 *  - walked: other conditions. The rows the pushed conditions select are
 *    read in order through a server-side cursor, every one matched in C
 *    against the whole query (query_match_bytes): the total counts every
 *    match, the page keeps those after the cursor and the offset. As in
 *    LMDB, a query with conditions only records answer costs time in the
 *    users it reads.
 *  - ranked: an order by a customData path whose index is still building.
 *    The rows the pushed conditions select are read in any order,
 *    matched, and the page kept in a top-k on the order key the index
 *    will hold.
 * customData conditions and orders name the declared paths (pg_custom.c;
 * others are refused naming the path, as by the LMDB store). A condition
 * on a ready index is pushed as `id IN (entries of roster_custom in its
 * value range)`, answered from (decl, value) or (decl, cscope, value); an
 * order by one joins its entries and orders by (value, id), so a cursor
 * is a row comparison as for the built-in orders. When every condition is
 * pushed and nothing else needs the records, the total is a count of the
 * same rows and the page a LIMIT (custom-counted); otherwise rows are
 * walked and matched as above. A condition on a building index is
 * matched on the rows read, as the LMDB store does while it builds.
 * Readiness is this process's view for planning and is checked again in
 * the read's snapshot (pg_custom_defer_ready): a declaration another
 * process dropped meanwhile makes the query run again without it. */
#include "pg_array.h"
#include "pg_internal.h"

#include "custom_index.h"
#include "pg_schema.h"

#include "cursor.h"
#include "query_internal.h"
#include "text.h"

#include "roster_limits.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* customData conditions pushed into one statement, at most (the others
 * are matched on the rows read): bounds the statement's parameters. */
#define PUSH_CUSTOM_MAX 6

/* The statement text and parameters being built. */
typedef struct sql_q {
    char text[8192];
    size_t n;
    pg_param p[PG_PARAMS_MAX];
    int np;
    uint8_t bytes[4][KEY_MAX]; /* parameter storage */
    int nb;
    roster_arena *arena; /* for array parameters */
    pgstore *pg;
    bool oom; /* an array parameter found no room: the statement is not run */
} sql_q;

static void sq_add(sql_q *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sq_add(sql_q *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->text + s->n, sizeof s->text - s->n, fmt, ap);
    va_end(ap);
    if (w > 0)
        s->n += (size_t)w < sizeof s->text - s->n ? (size_t)w : sizeof s->text - s->n - 1;
}

/* Adds a parameter; returns its number ($n). */
static int sq_param(sql_q *s, const void *p, size_t len, unsigned type)
{
    s->p[s->np] = (pg_param){p, (int)len, type};
    return ++s->np;
}

/* The index q orders by when it is a ready customData index (joined as
 * oc), else NULL. */
static const cdx_def *custom_order(const uquery *q)
{
    bool indexed = false;
    const cdx_def *d = q->cq ? custom_query_order_def(q->cq, &indexed) : NULL;
    return indexed ? d : NULL;
}

/* The column the order walks: a sort index's, the joined customData
 * entry's value, or id for createdAt. */
static const char *order_column(const uquery *q)
{
    if (custom_order(q))
        return "oc.value";
    if (q->sort == MODEL_USER_createdAt)
        return "id";
    return pg_sort_column(store_fields_get()->sort_slot[q->sort]);
}

/* "FROM roster_users", joined with the entries of a ready customData
 * order's index (oc: the user's value; users without one are not in the
 * order, as in the LMDB index). */
static void add_from(sql_q *s, const uquery *q)
{
    sq_add(s, " FROM roster_users");
    const cdx_def *d = custom_order(q);
    if (d == NULL)
        return;
    const char *decl = pg_custom_decl(s->pg, d);
    sq_add(s, " JOIN roster_custom oc ON oc.user_id = roster_users.id AND oc.decl = $%d",
           sq_param(s, decl, strlen(decl), PG_OID_TEXT));
    if (q->one_tenant)
        sq_add(s, " AND oc.cscope = $%d", sq_param(s, q->tenant_key.b, 16, PG_OID_UUID));
}

/* Whether customData condition c is pushed: its index is ready, and it is
 * among the first PUSH_CUSTOM_MAX such. */
static bool pushed_cond(const uquery *q, size_t i)
{
    size_t k = 0;
    for (size_t j = 0; j <= i; j++)
        if (custom_query_cond(q->cq, j)->indexed && ++k > PUSH_CUSTOM_MAX)
            return false;
    return custom_query_cond(q->cq, i)->indexed;
}

/* The comparisons of customData condition c on column `col` (an
 * entry's value). */
static void add_value_conds(sql_q *s, const custom_cond *c, const char *col)
{
    if (c->has_eq)
        sq_add(s, " AND %s = $%d", col, sq_param(s, c->eq.b, c->eq.n, PG_OID_BYTEA));
    if (c->has_lo)
        sq_add(s, " AND %s %s $%d", col, c->lo_incl ? ">=" : ">",
               sq_param(s, c->lo.b, c->lo.n, PG_OID_BYTEA));
    if (c->has_hi)
        sq_add(s, " AND %s %s $%d", col, c->hi_incl ? "<=" : "<",
               sq_param(s, c->hi.b, c->hi.n, PG_OID_BYTEA));
    if (c->has_neq)
        sq_add(s, " AND %s <> $%d", col, sq_param(s, c->neq.b, c->neq.n, PG_OID_BYTEA));
    if (c->in) {
        size_t bytes = 0;
        for (size_t i = 0; i < c->n_in; i++)
            bytes += c->in[i].n;
        uint8_t *arr = roster_arena_alloc(s->arena, PG_VAR_ARRAY_SIZE(c->n_in, bytes));
        if (arr == NULL) {
            s->oom = true;
        } else {
            size_t n = pg_var_array_header(arr, c->n_in, PG_OID_BYTEA);
            for (size_t i = 0; i < c->n_in; i++)
                n += pg_var_array_put(arr + n, c->in[i].b, c->in[i].n);
            sq_add(s, " AND %s = ANY($%d)", col, sq_param(s, arr, n, PG_OID_BYTEA_ARRAY));
        }
    }
}

/* "<col> IN (the users with an entry of index d in q's scope [matching
 * c])": a semi-join on d's entries. */
static void add_semi_join(sql_q *s, const uquery *q, const char *col, const cdx_def *d,
                          const custom_cond *c)
{
    const char *decl = pg_custom_decl(s->pg, d);
    sq_add(s, " AND %s IN (SELECT user_id FROM roster_custom WHERE decl = $%d", col,
           sq_param(s, decl, strlen(decl), PG_OID_TEXT));
    if (q->one_tenant)
        sq_add(s, " AND cscope = $%d", sq_param(s, q->tenant_key.b, 16, PG_OID_UUID));
    if (c)
        add_value_conds(s, c, "value");
    sq_add(s, ")");
}

/* One customData condition as a semi-join on its index's entries. */
static void add_custom_cond(sql_q *s, const uquery *q, const custom_cond *c)
{
    add_semi_join(s, q, "id", c->d, c);
}

/* The WHERE conditions PostgreSQL answers from its indexes. ids_in: q's
 * id valueIn list as a uuid[] (pg_array.h), or NULL when it has none. */
static void add_pushed(sql_q *s, uquery *q, const uint8_t *ids_in)
{
    const store_fields *sf = store_fields_get();
    sq_add(s, " WHERE true");
    if (q->one_tenant)
        sq_add(s, " AND scope = $%d", sq_param(s, q->tenant_key.b, 16, PG_OID_UUID));
    if (q->hide_inactive) {
        /* flags is 0, 1 (FLAG_INACTIVE) or 2 (FLAG_ACTIVE_NULL): "not
         * deactivated" as flags <> 1, which PostgreSQL estimates from the
         * column's statistics (a bit test it would guess at 0.5% of the rows,
         * and then sort the whole table for a page instead of reading an
         * index in order). */
        sq_add(s, " AND roster_users.flags <> 1");
    }
    if (q->range_field >= 0)
        sq_add(s, " AND %s = $%d", pg_sort_column(sf->sort_slot[q->range_field]),
               sq_param(s, q->range_val, q->range_len, PG_OID_BYTEA));
    if (q->id.active && q->id.has_eq)
        sq_add(s, " AND id = $%d", sq_param(s, q->id.eq.b, 16, PG_OID_UUID));
    if (ids_in)
        sq_add(s, " AND id = ANY($%d)",
               sq_param(s, ids_in, PG_UUID_ARRAY_SIZE(q->id.n_in), PG_OID_UUID_ARRAY));
    if (q->cand_uniq >= 0) {
        int fi = sf->uniq_field[q->cand_uniq];
        const Roster__V1__StringFilter *uf = model_pb_ptr(&q->f->base, sf->user_filter.fields[fi]);
        uint8_t *b = s->bytes[s->nb++];
        size_t n = strlen(uf->equal_to);
        if (model_user.fields[fi].flags & MODEL_FOLD_CASE)
            n = text_fold_key(b, KEY_FOLD_CAP, uf->equal_to, n);
        else
            memcpy(b, uf->equal_to, n < KEY_FOLD_CAP ? n : KEY_FOLD_CAP);
        sq_add(s, " AND %s = $%d", pg_uniq_column(q->cand_uniq), sq_param(s, b, n, PG_OID_BYTEA));
    }
    for (size_t i = 0; q->cq != NULL && i < custom_query_conditions(q->cq); i++)
        if (pushed_cond(q, i))
            add_custom_cond(s, q, custom_query_cond(q->cq, i));
}

/* The id column breaking ties in q's order: the joined entry's for a
 * customData order, so that (value, user_id) is its index's order and a
 * cursor's row comparison is an index condition. */
static const char *order_tie(const uquery *q)
{
    return custom_order(q) ? "oc.user_id" : "id";
}

static void add_order(sql_q *s, const uquery *q)
{
    const char *col = order_column(q);
    const char *dir = q->desc ? " DESC" : "";
    if (strcmp(col, "id") == 0)
        sq_add(s, " ORDER BY id%s", dir);
    else
        sq_add(s, " ORDER BY %s%s, %s%s", col, dir, order_tie(q), dir);
}

/* Whether every customData condition of q is pushed and its order, if by
 * a customData path, is a ready index: then SQL alone answers them. */
static bool custom_all_pushed(const uquery *q)
{
    size_t n = custom_query_conditions(q->cq);
    for (size_t i = 0; i < n; i++)
        if (!pushed_cond(q, i))
            return false;
    return !custom_query_ordered(q->cq) || custom_order(q) != NULL;
}

/* Only the scope, the deactivated rule and pushed customData conditions
 * and order: the counters (or, with customData, a count of the same rows)
 * hold the total, and the page is read straight from the index (but for a
 * count-only page after a cursor without customData, which needs the
 * matches up to the cursor counted). */
static bool counted(const uquery *q)
{
    return !(q->limit == 0 && q->has_after && q->cq == NULL) && !q->need_record && !q->id.active &&
           q->f->active == NULL && q->range_field < 0 && q->cand_uniq < 0 &&
           (q->cq == NULL || custom_all_pushed(q));
}

/* Queues the count of q's matches read from the counters; the result
 * lands in *res (one int8) at the sync. */
static int queue_count(pgstore_rtxn *r, const uquery *q, PGresult **res)
{
    sql_q s = {0};
    sq_add(&s, "SELECT COALESCE(sum(%s), 0)::int8 FROM roster_counts",
           q->hide_inactive ? "active" : "users");
    if (q->one_tenant)
        sq_add(&s, " WHERE scope = $%d", sq_param(&s, q->tenant_key.b, 16, PG_OID_UUID));
    return pg_defer_cached(r->c, s.text, s.np, s.p, res);
}

/* Copies a record into the arena as a page item. */
static int keep(store_page *out, roster_arena *arena, const char *bytes, size_t len)
{
    void *copy = roster_arena_alloc(arena, len ? len : 1);
    if (copy == NULL)
        return ROSTER_E_NOMEM;
    memcpy(copy, bytes, len);
    out->items[out->n++] = (store_slice){copy, len};
    return ROSTER_E_OK;
}

/* "FROM roster_custom c0 WHERE ...": the entries of index d (drive: a
 * condition on d, or NULL) in q's scope, of users not deactivated when q
 * hides them, whose users also meet q's other customData conditions (and
 * have a value of the order's path, when `order_too`), as semi-joins.
 * The entries hold the scope and the flags, so with every condition
 * pushed (counted()) these are exactly q's matches. */
static void add_entries(sql_q *s, const uquery *q, const cdx_def *d, const custom_cond *drive,
                        bool order_too)
{
    const char *decl = pg_custom_decl(s->pg, d);
    sq_add(s, " FROM roster_custom c0 WHERE c0.decl = $%d",
           sq_param(s, decl, strlen(decl), PG_OID_TEXT));
    if (q->one_tenant)
        sq_add(s, " AND c0.cscope = $%d", sq_param(s, q->tenant_key.b, 16, PG_OID_UUID));
    if (q->hide_inactive)
        sq_add(s, " AND c0.flags <> 1");
    if (drive)
        add_value_conds(s, drive, "c0.value");
    for (size_t i = 0; i < custom_query_conditions(q->cq); i++) {
        const custom_cond *c = custom_query_cond(q->cq, i);
        if (c != drive)
            add_semi_join(s, q, "c0.user_id", c->d, c);
    }
    if (order_too)
        add_semi_join(s, q, "c0.user_id", custom_order(q), NULL);
}

/* Queues the count of q's matches (counted(): every condition pushed,
 * nothing but the scope and the deactivated rule besides) into *res (one
 * int8): from the entries of its first condition's index alone, or, with
 * no condition, from its order's counters. */
static int queue_custom_count(pgstore_rtxn *r, uquery *q, roster_arena *arena, PGresult **res)
{
    static _Thread_local sql_q s;
    memset(&s, 0, sizeof s);
    s.arena = arena;
    s.pg = r->p;
    const custom_cond *drive = custom_query_conditions(q->cq) ? custom_query_cond(q->cq, 0) : NULL;
    if (drive == NULL) {
        /* An order by the path alone: its counters (exact, as the index
         * is ready in this snapshot: pg_custom_defer_ready). */
        const char *decl = pg_custom_decl(r->p, custom_order(q));
        sq_add(&s, "SELECT COALESCE(sum(%s), 0)::int8 FROM roster_custom_counts WHERE decl = $%d",
               q->hide_inactive ? "active" : "entries",
               sq_param(&s, decl, strlen(decl), PG_OID_TEXT));
        if (q->one_tenant)
            sq_add(&s, " AND cscope = $%d", sq_param(&s, q->tenant_key.b, 16, PG_OID_UUID));
        return pg_defer_cached(r->c, s.text, s.np, s.p, res);
    }
    sq_add(&s, "SELECT count(*)::int8");
    add_entries(&s, q, drive->d, drive, custom_order(q) != NULL);
    if (s.oom)
        return ROSTER_E_NOMEM;
    return pg_defer_cached(r->c, s.text, s.np, s.p, res);
}

/* The page of a counted query ordered by a customData index: the page's
 * entries (after the cursor, past the offset) read from that index alone,
 * then only their users' rows; an offset skips index entries, not rows. */
static void add_custom_ordered_page(sql_q *s, const uquery *q)
{
    const char *dir = q->desc ? " DESC" : "";
    sq_add(s, "SELECT u.record FROM (SELECT c0.user_id, c0.value");
    add_entries(s, q, custom_order(q), NULL, false);
    if (q->has_after) {
        size_t vn = q->after_len - 16;
        int pv = sq_param(s, q->after, vn, PG_OID_BYTEA);
        sq_add(s, " AND (c0.value, c0.user_id) %s ($%d, $%d)", q->desc ? "<" : ">", pv,
               sq_param(s, q->after + vn, 16, PG_OID_UUID));
    }
    char lim[64];
    snprintf(lim, sizeof lim, " LIMIT %zu OFFSET %zu", q->limit + 1, q->offset);
    sq_add(s, " ORDER BY c0.value%s, c0.user_id%s%s) p JOIN roster_users u ON u.id = p.user_id",
           dir, dir, lim);
    sq_add(s, " ORDER BY p.value%s, p.user_id%s", dir, dir);
}

/* The page of a counted query in createdAt (id) order whose one
 * customData condition holds an equalTo: that value's entries are in
 * user_id order in its index, so the page's entries (after the cursor,
 * past the offset) are read from the index alone, then only their users'
 * rows, instead of every match's row being found to sort them. */
static void add_custom_eq_page(sql_q *s, const uquery *q, const custom_cond *c)
{
    const char *dir = q->desc ? " DESC" : "";
    sq_add(s, "SELECT u.record FROM (SELECT c0.user_id");
    add_entries(s, q, c->d, c, false);
    if (q->has_after)
        sq_add(s, " AND c0.user_id %s $%d", q->desc ? "<" : ">",
               sq_param(s, q->after + q->after_len - 16, 16, PG_OID_UUID));
    char lim[64];
    snprintf(lim, sizeof lim, " LIMIT %zu OFFSET %zu", q->limit + 1, q->offset);
    sq_add(s, " ORDER BY c0.user_id%s%s) p JOIN roster_users u ON u.id = p.user_id", dir, lim);
    sq_add(s, " ORDER BY p.user_id%s", dir);
}

/* q's one customData condition when q is in createdAt order and that
 * condition holds an equalTo (add_custom_eq_page), else NULL. */
static const custom_cond *custom_eq_only(const uquery *q)
{
    if (q->cq == NULL || custom_query_ordered(q->cq) || q->sort != MODEL_USER_createdAt ||
        custom_query_conditions(q->cq) != 1)
        return NULL;
    const custom_cond *c = custom_query_cond(q->cq, 0);
    return c->has_eq ? c : NULL;
}

/* The page of a counted query read straight from the order's index of
 * roster_users. */
static void add_counted_page(sql_q *s, uquery *q)
{
    sq_add(s, "SELECT record");
    add_from(s, q);
    add_pushed(s, q, NULL); /* counted: no id condition */
    if (q->has_after) {
        const char *col = order_column(q);
        const char *op = q->desc ? "<" : ">";
        size_t vn = q->after_len - 16;
        int pid = sq_param(s, q->after + vn, 16, PG_OID_UUID);
        if (strcmp(col, "id") == 0)
            sq_add(s, " AND id %s $%d", op, pid);
        else
            sq_add(s, " AND (%s, %s) %s ($%d, $%d)", col, order_tie(q), op,
                   sq_param(s, q->after, vn, PG_OID_BYTEA), pid);
    }
    add_order(s, q);
    char lim[64];
    snprintf(lim, sizeof lim, " LIMIT %zu OFFSET %zu", q->limit + 1, q->offset);
    sq_add(s, "%s", lim);
}

/* The count and the page go in one round trip (pg_pipe.h). */
static int run_counted(pgstore_rtxn *r, uquery *q, roster_arena *arena, store_page *out)
{
    PGresult *count = NULL, *res = NULL;
    bool custom = q->cq != NULL;
    int err = custom ? queue_custom_count(r, q, arena, &count) : queue_count(r, q, &count);
    /* A count-only page with customData conditions asks the page query
     * whether a match lies past the offset (and the cursor). */
    if (err == ROSTER_E_OK && (q->limit > 0 || custom)) {
        static _Thread_local sql_q s;
        memset(&s, 0, sizeof s);
        s.arena = arena;
        s.pg = r->p;
        if (custom_order(q))
            add_custom_ordered_page(&s, q);
        else if (custom_eq_only(q))
            add_custom_eq_page(&s, q, custom_eq_only(q));
        else
            add_counted_page(&s, q);
        /* The offset is in the text: only first pages and cursor pages
         * recur, and a prepared text per offset would push them out. */
        if (s.oom)
            err = ROSTER_E_NOMEM;
        else if (q->offset == 0)
            err = pg_defer_cached(r->c, s.text, s.np, s.p, &res);
        else
            err = pg_defer_query(r->c, s.text, s.np, s.p, &res);
    }
    int synced = pg_sync(r->c, NULL);
    if (err == ROSTER_E_OK)
        err = synced;
    if (err == ROSTER_E_OK) {
        out->total_count = pg_i64_get(PQgetvalue(count, 0, 0));
        if (q->limit == 0) {
            /* Count only: a next page when a match lies past the offset. */
            out->has_next_page =
                custom ? PQntuples(res) > 0 : out->total_count > (int64_t)q->offset;
        } else {
            int rows = PQntuples(res);
            for (int i = 0; i < rows && out->n < q->limit && err == ROSTER_E_OK; i++)
                err = keep(out, arena, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
            out->has_next_page = (size_t)rows > q->limit;
        }
    }
    PQclear(count);
    PQclear(res);
    return err;
}

/* The order key of record v (sort value then id) into buf; bytes. */
static size_t order_key(const uquery *q, const user_view *v, uint8_t *buf)
{
    size_t n = q->cq ? custom_query_order_value(q->cq, v, buf) : 0;
    if (n == 0 && q->sort != MODEL_USER_createdAt)
        n = key_sort_value(buf, q->sort, v);
    memcpy(buf + n, v->id.b, 16);
    return n + 16;
}

/* Whether order key k comes strictly after the cursor's in q's order. */
static bool past_cursor(const uquery *q, const uint8_t *k, size_t kn)
{
    size_t n = kn < q->after_len ? kn : q->after_len;
    int c = memcmp(k, q->after, n);
    if (c == 0)
        c = kn < q->after_len ? -1 : kn > q->after_len;
    return q->desc ? c < 0 : c > 0;
}

/* A walk's row handler, as pg_walk calls it. */
typedef struct walk_adapter {
    int (*row)(void *ctx, const char *bytes, size_t len);
    void *ctx;
} walk_adapter;

static int walk_adapt(void *ctx, PGresult *res, int i)
{
    walk_adapter *a = ctx;
    return a->row(a->ctx, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
}

/* Reads the rows the pushed conditions select through a server-side
 * cursor (pg_walk: in batches, the read's deadline checked between them;
 * in q's order when `ordered`), or with one statement when they are
 * likely few (pg_select_rows), and hands each record to row(ctx, bytes, len) (bytes
 * valid during the call), until the rows end or row fails. */
static int walk_rows(pgstore_rtxn *r, uquery *q, roster_arena *arena, bool ordered,
                     int (*row)(void *ctx, const char *bytes, size_t len), void *ctx)
{
    /* An id valueIn list reads those rows by primary key, as LMDB's
     * candidates do. */
    uint8_t *ids_in = NULL;
    if (q->id.active && q->id.has_in) {
        if ((ids_in = malloc(PG_UUID_ARRAY_SIZE(q->id.n_in))) == NULL)
            return ROSTER_E_NOMEM;
        pg_uuid_array_init(ids_in, q->id.n_in);
        for (size_t i = 0; i < q->id.n_in; i++)
            pg_uuid_array_set(ids_in, i, &q->id.in[i]);
    }
    static _Thread_local sql_q s;
    memset(&s, 0, sizeof s);
    s.arena = arena;
    s.pg = r->p;
    sq_add(&s, "SELECT record");
    if (ordered)
        add_from(&s, q);
    else
        sq_add(&s, " FROM roster_users");
    add_pushed(&s, q, ids_in);
    if (ordered)
        add_order(&s, q);
    walk_adapter a = {row, ctx};
    /* A unique value's rows (one per tenant at most), an id, or a short
     * list of ids: asked for with one statement, and walked only when
     * that finds more than PG_SELECT_ROWS_MAX (a value in as many
     * tenants). */
    bool few = (q->cand_uniq >= 0 || (q->id.active && q->id.has_eq) ||
                (ids_in != NULL && q->id.n_in <= PG_SELECT_ROWS_MAX)) &&
               s.n + 32 < sizeof s.text;
    bool too_many = false;
    int err = s.oom ? ROSTER_E_NOMEM : ROSTER_E_OK;
    if (err == ROSTER_E_OK && few) {
        size_t at = s.n;
        sq_add(&s, " LIMIT %d", PG_SELECT_ROWS_MAX + 1);
        err = pg_select_rows(r, s.text, s.np, s.p, walk_adapt, &a, &too_many);
        s.text[at] = '\0';
        s.n = at;
    }
    if (err == ROSTER_E_OK && (!few || too_many))
        err = pg_walk(r, s.text, s.np, s.p, walk_adapt, &a);
    free(ids_in);
    return err;
}

/* The walked plan's state: rows arrive in q's order. */
typedef struct walked {
    uquery *q;
    roster_arena *arena;
    store_page *out;
    int64_t before; /* matches up to the cursor */
} walked;

static int walked_row(void *ctx, const char *bytes, size_t len)
{
    walked *w = ctx;
    const uquery *q = w->q;
    user_view v;
    bool match;
    int err = query_match_bytes(&match, &v, q, q->has_after, bytes, len);
    if (err != ROSTER_E_OK || !match)
        return err;
    w->out->total_count++;
    if (q->has_after) {
        uint8_t k[KEY_MAX + 16];
        if ((err = user_view_ids(&v)) != ROSTER_E_OK)
            return err;
        if (!past_cursor(q, k, order_key(q, &v, k))) {
            w->before++;
            return ROSTER_E_OK;
        }
    }
    uint64_t pos = (uint64_t)(w->out->total_count - w->before - 1);
    if (pos < q->offset)
        return ROSTER_E_OK;
    if (w->out->n < q->limit)
        return keep(w->out, w->arena, bytes, len);
    w->out->has_next_page = true;
    return ROSTER_E_OK;
}

static int run_walked(pgstore_rtxn *r, uquery *q, roster_arena *arena, store_page *out)
{
    walked w = {q, arena, out, 0};
    return walk_rows(r, q, arena, true, walked_row, &w);
}

/* The customData order's state: rows arrive in any order. */
typedef struct ranked {
    const uquery *q;
    topk t;
    int64_t total, past; /* matches, and of those after the cursor */
} ranked;

static int ranked_row(void *ctx, const char *bytes, size_t len)
{
    ranked *k = ctx;
    return query_offer(k->q, &k->t, &k->total, &k->past, bytes, len);
}

/* An order by a customData path: no column holds the path's values, so
 * every row the pushed conditions select is read and matched, and the
 * first offset + limit matches after the cursor are kept in a top-k keyed
 * by the order key an LMDB index of the path holds (the value, then the
 * id), as the LMDB store orders while that index builds. */
static int run_ranked(pgstore_rtxn *r, uquery *q, roster_arena *arena, store_page *out)
{
    ranked k = {.q = q, .t = {.desc = q->desc, .copy = true, .k = q->offset + q->limit}};
    int err = walk_rows(r, q, arena, false, ranked_row, &k);
    if (err == ROSTER_E_OK) {
        topk_sort(&k.t);
        for (size_t i = q->offset; i < k.t.n && out->n < q->limit && err == ROSTER_E_OK; i++)
            err = keep(out, arena, k.t.h[i].bytes, k.t.h[i].len);
        out->total_count = k.total;
        out->has_next_page = (uint64_t)k.past > q->offset + out->n;
    }
    topk_free(&k.t);
    return err;
}

/* The ready customData indexes q uses (its pushed conditions' and its
 * order's), each once, into used[]; returns how many. */
static size_t indexes_used(const uquery *q, const cdx_def **used)
{
    size_t n = 0;
    const cdx_def *d[ROSTER_MAX_CUSTOM_CONDITIONS + 1];
    size_t nd = 0;
    for (size_t i = 0; q->cq != NULL && i < custom_query_conditions(q->cq); i++)
        if (pushed_cond(q, i))
            d[nd++] = custom_query_cond(q->cq, i)->d;
    if (custom_order(q))
        d[nd++] = custom_order(q);
    for (size_t i = 0; i < nd; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = used[j] == d[i];
        if (!seen)
            used[n++] = d[i];
    }
    return n;
}

/* One run of req's query; *stale when an index it used turned out not to
 * be ready in the read's snapshot (marked so: the caller runs it again,
 * which then reads the records instead). */
static int list_once(pgstore_rtxn *r, const roster_uuid *scope,
                     const Roster__V1__ListUsersRequest *req, roster_arena *arena, store_page *out,
                     uquery *q, bool *stale, roster_err_detail *detail)
{
    *stale = false;
    int err = query_prepare(q, scope, req, arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = custom_query_prepare(&q->cq, r->p->cdx, r->p->n_cdx, r->p->cdx_scan, NULL, req,
                                    arena, detail)) != ROSTER_E_OK)
        return err;
    query_reader(q);
    memset(out, 0, sizeof *out);
    out->items = roster_arena_alloc(arena, (q->limit ? q->limit : 1) * sizeof *out->items);
    if (out->items == NULL)
        return ROSTER_E_NOMEM;
    if (q->empty)
        return ROSTER_E_OK;
    const cdx_def *used[ROSTER_MAX_CUSTOM_CONDITIONS + 1];
    PGresult *ready[ROSTER_MAX_CUSTOM_CONDITIONS + 1] = {0};
    size_t n_used = indexes_used(q, used);
    /* Checked in the snapshot the query reads (queued before it). */
    if (n_used > 0)
        err = pg_read_need_txn(r);
    for (size_t i = 0; i < n_used && err == ROSTER_E_OK; i++)
        err = pg_custom_defer_ready(r->c, r->p, used[i], &ready[i]);
    if (err == ROSTER_E_OK) {
        if (q->cq != NULL && custom_query_ordered(q->cq) && custom_order(q) == NULL)
            err = run_ranked(r, q, arena, out);
        else if (counted(q))
            err = run_counted(r, q, arena, out);
        else
            err = run_walked(r, q, arena, out);
    }
    for (size_t i = 0; i < n_used; i++) {
        if (err == ROSTER_E_OK && (ready[i] == NULL || PQntuples(ready[i]) != 1)) {
            pg_custom_unready(r->p, used[i]);
            *stale = true;
        }
        PQclear(ready[i]);
    }
    return err;
}

int pgstore_user_list_raw(pgstore_rtxn *r, const roster_uuid *scope,
                          const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                          store_page *out, roster_err_detail *detail)
{
    uquery q;
    bool stale = true;
    int err = ROSTER_E_OK;
    /* A second run uses no index the first found gone (each run marks
     * those it found); every index can go at most once. */
    for (int run = 0; stale && err == ROSTER_E_OK && run <= STORE_MAX_CUSTOM_INDEXES; run++)
        err = list_once(r, scope, req, arena, out, &q, &stale, detail);
    if (err != ROSTER_E_OK)
        return err;
    char *cursor = NULL;
    if (out->n > 0 &&
        (err = query_end_cursor(&cursor, &q, &out->items[out->n - 1], arena)) != ROSTER_E_OK)
        return err;
    out->end_cursor = cursor;
    return ROSTER_E_OK;
}

int pgstore_user_list(pgstore_rtxn *r, const roster_uuid *scope,
                      const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                      Roster__V1__ListUsersResponse **out, roster_err_detail *detail)
{
    store_page page;
    int err = pgstore_user_list_raw(r, scope, req, arena, &page, detail);
    if (err != ROSTER_E_OK)
        return err;
    return query_page_response(&page, arena, out);
}
