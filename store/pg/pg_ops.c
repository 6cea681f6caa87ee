/* Operations on a PostgreSQL store: statistics, iteration over every
 * record, verification, and the limits of a read. */
#include "pg_internal.h"
#include "pg_schema.h"

#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per round trip of the walks below. */
#define EACH_BATCH 1000

void pg_timeout_sql(char *out, size_t cap, int64_t deadline_ns)
{
    int64_t left_ms = (deadline_ns - roster_mono_ns()) / 1000000;
    snprintf(out, cap, "SET LOCAL statement_timeout = %lld",
             (long long)(left_ms > 1 ? left_ms : 1));
}

void pgstore_read_set_limits(pgstore_rtxn *r, int64_t deadline_ns, const _Atomic int64_t *stop_ns)
{
    r->deadline_ns = deadline_ns;
    r->stop_ns = stop_ns;
    if (deadline_ns <= 0)
        return;
    /* Each statement of the read stops at the deadline too, so one long
     * query cannot outlive it: a read without its transaction yet opens it
     * with the timeout (pg_read_need_txn), one already open sets it. */
    if (r->autocommit) {
        pg_read_need_txn(r);
        return;
    }
    char sql[80];
    pg_timeout_sql(sql, sizeof sql, deadline_ns);
    pg_defer_sql(r->c, sql, NULL, NULL, NULL, 0); /* goes with the next statement */
}

int pg_read_check(pgstore_rtxn *r)
{
    if (r->deadline_ns == 0 && r->stop_ns == NULL)
        return ROSTER_E_OK;
    int64_t now = roster_mono_ns();
    if (r->deadline_ns && now > r->deadline_ns)
        return ROSTER_E_DEADLINE_EXCEEDED;
    if (r->stop_ns) {
        int64_t stop = *r->stop_ns;
        if (stop && now > stop)
            return ROSTER_E_UNAVAILABLE;
    }
    return ROSTER_E_OK;
}

int pg_walk(pgstore_rtxn *r, const char *select, int n, const pg_param *params,
            int (*row)(void *ctx, PGresult *res, int i), void *ctx)
{
    int err = pg_read_need_txn(r); /* a cursor lives in a transaction */
    if (err != ROSTER_E_OK)
        return err;
    char *sql = malloc(strlen(select) + 64);
    if (sql == NULL)
        return ROSTER_E_NOMEM;
    sprintf(sql, "DECLARE roster_each NO SCROLL CURSOR FOR %s", select);
    /* Queued (libpq copies it): it goes with the read's BEGIN and the
     * first FETCH. */
    err = pg_defer_query(r->c, sql, n, params, NULL);
    free(sql);
    if (err != ROSTER_E_OK)
        return err;
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH %d FROM roster_each", EACH_BATCH);
    for (;;) {
        PGresult *res = NULL;
        if ((err = pg_read_check(r)) != ROSTER_E_OK ||
            (err = pg_defer_query(r->c, fetch, 0, NULL, &res)) != ROSTER_E_OK ||
            (err = pg_sync(r->c, NULL)) != ROSTER_E_OK) {
            PQclear(res);
            break;
        }
        int rows = PQntuples(res);
        for (int i = 0; i < rows && err == ROSTER_E_OK; i++)
            err = row(ctx, res, i);
        PQclear(res);
        if (err != ROSTER_E_OK || rows < EACH_BATCH)
            break;
    }
    /* Queued too: it goes with the read's next statement or its COMMIT
     * (the name is free again for a walk after this one). */
    if (!r->c->broken) {
        int cerr = pg_defer_sql(r->c, "CLOSE roster_each", NULL, NULL, NULL, 0);
        if (err == ROSTER_E_OK)
            err = cerr;
    }
    return err;
}

int pg_select_rows(pgstore_rtxn *r, const char *select, int n, const pg_param *params,
                   int (*row)(void *ctx, PGresult *res, int i), void *ctx, bool *too_many)
{
    *too_many = false;
    int err = pg_read_need_txn(r); /* the same snapshot as the read's other statements */
    PGresult *res = NULL;
    if (err == ROSTER_E_OK && (err = pg_read_check(r)) == ROSTER_E_OK &&
        (err = pg_defer_cached(r->c, select, n, params, &res)) == ROSTER_E_OK)
        err = pg_sync(r->c, NULL);
    if (err == ROSTER_E_OK && PQntuples(res) > PG_SELECT_ROWS_MAX)
        *too_many = true;
    for (int i = 0; err == ROSTER_E_OK && !*too_many && i < PQntuples(res); i++)
        err = row(ctx, res, i);
    PQclear(res);
    return err;
}

/* ------------------------------------------------------------ each */

typedef struct each_ctx {
    store_each_fn fn;
    void *ctx;
} each_ctx;

static int each_row(void *ctx, PGresult *res, int i)
{
    each_ctx *e = ctx;
    return e->fn(e->ctx, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
}

int pgstore_each_tenant(pgstore_rtxn *r, store_each_fn fn, void *ctx)
{
    each_ctx e = {fn, ctx};
    return pg_walk(r, "SELECT record FROM roster_tenants ORDER BY id", 0, NULL, each_row, &e);
}

int pgstore_each_user(pgstore_rtxn *r, store_each_fn fn, void *ctx)
{
    each_ctx e = {fn, ctx};
    return pg_walk(r, "SELECT record FROM roster_users ORDER BY id", 0, NULL, each_row, &e);
}

int pgstore_each_key(pgstore_rtxn *r, store_each_fn fn, void *ctx)
{
    each_ctx e = {fn, ctx};
    return pg_walk(r, "SELECT record FROM roster_keys ORDER BY id", 0, NULL, each_row, &e);
}

/* ------------------------------------------------------------ stat */

/* A query answering one int8. */
static int one_i64(pgstore_rtxn *r, const char *sql, int64_t *out)
{
    PGresult *res;
    int err = pg_run(r->c, sql, 0, NULL, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    *out = PQntuples(res) == 1 ? pg_i64_get(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return ROSTER_E_OK;
}

int pgstore_stat(pgstore_rtxn *r, store_stats *out)
{
    store_stats st;
    memset(&st, 0, sizeof st);
    st.schema_version = PG_SCHEMA_VERSION;
    int64_t v;
    int err;
    if ((err = one_i64(r, "SELECT COALESCE(sum(users), 0)::int8 FROM roster_counts", &v)) !=
        ROSTER_E_OK)
        return err;
    st.users = (uint64_t)v;
    if ((err = one_i64(r, "SELECT COALESCE(sum(active), 0)::int8 FROM roster_counts", &v)) !=
        ROSTER_E_OK)
        return err;
    st.users_active = (uint64_t)v;
    if ((err = one_i64(r, "SELECT count(*) FROM roster_tenants", &v)) != ROSTER_E_OK)
        return err;
    st.tenants = (uint64_t)v;
    if ((err = one_i64(r, "SELECT pg_database_size(current_database())", &v)) != ROSTER_E_OK)
        return err;
    st.used_bytes = (uint64_t)v;
    st.page_size = 8192;
    /* Each table and index: rows (tables; PostgreSQL's estimate for
     * indexes) and pages. */
    PGresult *res;
    err = pg_run(r->c,
                 "SELECT c.relname, GREATEST(c.reltuples, 0)::int8, "
                 "(pg_relation_size(c.oid) / 8192)::int8 FROM pg_class c "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname = current_schema() AND c.relname LIKE 'roster\\_%' "
                 "AND c.relkind IN ('r', 'i') ORDER BY c.relkind DESC, c.relname",
                 0, NULL, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    static _Thread_local char names[STORE_MAX_DBS][64];
    for (int i = 0; i < PQntuples(res) && st.n_dbs < STORE_MAX_DBS; i++) {
        store_db_stat *d = &st.dbs[st.n_dbs];
        snprintf(names[st.n_dbs], sizeof names[0], "%s", PQgetvalue(res, i, 0));
        d->name = names[st.n_dbs];
        d->entries = (uint64_t)pg_i64_get(PQgetvalue(res, i, 1));
        d->leaf_pages = (uint64_t)pg_i64_get(PQgetvalue(res, i, 2));
        st.n_dbs++;
    }
    PQclear(res);
    *out = st;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ verify */

typedef struct pverifier {
    pgstore_rtxn *r;
    store_issue_fn fn;
    void *ctx;
    store_progress_fn progress;
    void *progress_ctx;
    uint64_t reached, issues;
    /* per-scope counts recomputed from the records */
    struct {
        roster_uuid scope;
        int64_t users, active;
    } * sc;
    size_t n_sc, cap_sc;
} pverifier;

static void report(pverifier *v, store_issue_kind kind, const char *db, const roster_uuid *id,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(pverifier *v, store_issue_kind kind, const char *db, const roster_uuid *id,
                   const char *fmt, ...)
{
    v->issues++;
    if (v->fn == NULL)
        return;
    store_issue is;
    memset(&is, 0, sizeof is);
    is.kind = kind;
    is.db = db;
    if (id)
        roster_uuid_format(is.id, id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is.message, sizeof is.message, fmt, ap);
    va_end(ap);
    v->fn(v->ctx, &is);
}

static void reached(pverifier *v)
{
    v->reached++;
    if (v->progress)
        v->progress(v->progress_ctx, v->reached);
}

static int count_scope(pverifier *v, const roster_uuid *scope, bool active)
{
    size_t i = 0;
    while (i < v->n_sc && !roster_uuid_eq(&v->sc[i].scope, scope))
        i++;
    if (i == v->n_sc) {
        if (v->n_sc == v->cap_sc) {
            size_t cap = v->cap_sc ? v->cap_sc * 2 : 16;
            void *p = realloc(v->sc, cap * sizeof *v->sc);
            if (p == NULL)
                return ROSTER_E_NOMEM;
            v->sc = p;
            v->cap_sc = cap;
        }
        v->sc[i].scope = *scope;
        v->sc[i].users = v->sc[i].active = 0;
        v->n_sc++;
    }
    v->sc[i].users++;
    v->sc[i].active += active;
    return ROSTER_E_OK;
}

static void feed_issue(void *ctx, store_issue_kind kind, const char *db, const roster_uuid *id,
                       const char *message)
{
    report(ctx, kind, db, id, "%s", message);
}

static bool col_is(PGresult *res, int i, int col, const void *want, size_t n)
{
    return !PQgetisnull(res, i, col) && (size_t)PQgetlength(res, i, col) == n &&
           memcmp(PQgetvalue(res, i, col), want, n) == 0;
}

/* Columns: id, tenant_id, scope, flags, u_..., s_..., record. */
static int verify_user(void *ctx, PGresult *res, int i)
{
    pverifier *v = ctx;
    reached(v);
    roster_uuid id;
    memcpy(id.b, PQgetvalue(res, i, 0), 16);
    int rec = 4 + UNIQ__COUNT + SORT__COUNT;
    user_view uv;
    if (user_view_parse(&uv, PQgetvalue(res, i, rec), (size_t)PQgetlength(res, i, rec)) !=
            ROSTER_E_OK ||
        user_view_ids(&uv) != ROSTER_E_OK) {
        report(v, STORE_ISSUE_BAD_RECORD, "roster_users", &id, "the record does not decode");
        return ROSTER_E_OK;
    }
    if (!roster_uuid_eq(&uv.id, &id))
        report(v, STORE_ISSUE_BAD_RECORD, "roster_users", &id, "the record holds another id");
    bool tenant_ok = uv.has_tenant ? col_is(res, i, 1, uv.tenant.b, 16) : PQgetisnull(res, i, 1);
    if (!tenant_ok)
        report(v, STORE_ISSUE_STALE_ENTRY, "roster_users", &id,
               "tenant_id disagrees with the record's tenantId");
    user_row row;
    pg_user_row(&row, &uv);
    if (!col_is(res, i, 2, row.scope.b, 16) || !col_is(res, i, 3, row.flags, 2))
        report(v, STORE_ISSUE_STALE_ENTRY, "roster_users", &id,
               "scope or flags disagree with the record");
    for (int u = 0; u < UNIQ__COUNT; u++)
        if (!col_is(res, i, 4 + u, row.uniq[u], row.uniq_len[u]))
            report(v, STORE_ISSUE_STALE_ENTRY, "roster_users", &id, "%s disagrees with the record",
                   pg_uniq_column(u));
    for (int s = 0; s < SORT__COUNT; s++)
        if (!col_is(res, i, 4 + UNIQ__COUNT + s, row.sort[s], row.sort_len[s]))
            report(v, STORE_ISSUE_STALE_ENTRY, "roster_users", &id, "%s disagrees with the record",
                   pg_sort_column(s));
    return count_scope(v, &row.scope, uv.f.active != 0);
}

static int verify_tenant(void *ctx, PGresult *res, int i)
{
    pverifier *v = ctx;
    reached(v);
    roster_uuid id;
    memcpy(id.b, PQgetvalue(res, i, 0), 16);
    tenant_view tv;
    if (tenant_view_parse(&tv, PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3)) !=
        ROSTER_E_OK) {
        report(v, STORE_ISSUE_BAD_RECORD, "roster_tenants", &id, "the record does not decode");
        return ROSTER_E_OK;
    }
    if (!roster_uuid_eq(&tv.id, &id))
        report(v, STORE_ISSUE_BAD_RECORD, "roster_tenants", &id, "the record holds another id");
    uint8_t key[KEY_MAX];
    size_t kn = key_tenant_name(key, &tv);
    if (!col_is(res, i, 1, key, kn))
        report(v, STORE_ISSUE_STALE_ENTRY, "roster_tenants", &id,
               "name_key disagrees with the record's name");
    bool is_default = PQgetvalue(res, i, 2)[0] != 0;
    if (is_default != (tv.f.isDefault == 1))
        report(v, STORE_ISSUE_DEFAULT_TENANT, "roster_tenants", &id,
               "is_default disagrees with the record's isDefault");
    return ROSTER_E_OK;
}

static int verify_key(void *ctx, PGresult *res, int i)
{
    pverifier *v = ctx;
    roster_uuid id;
    memcpy(id.b, PQgetvalue(res, i, 0), 16);
    Roster__V1__ApiKey *k = roster__v1__api_key__unpack(NULL, (size_t)PQgetlength(res, i, 1),
                                                        (const uint8_t *)PQgetvalue(res, i, 1));
    if (k == NULL) {
        report(v, STORE_ISSUE_BAD_KEY, "roster_keys", &id, "the record does not decode");
        return ROSTER_E_OK;
    }
    roster_uuid kid;
    if (k->id == NULL || roster_uuid_parse(&kid, k->id, strlen(k->id)) != ROSTER_E_OK ||
        !roster_uuid_eq(&kid, &id))
        report(v, STORE_ISSUE_BAD_KEY, "roster_keys", &id, "the record holds another id");
    if (k->secret_hash.len != 32)
        report(v, STORE_ISSUE_BAD_KEY, "roster_keys", &id, "the secret hash is not 32 bytes");
    roster__v1__api_key__free_unpacked(k, NULL);
    return ROSTER_E_OK;
}

int pgstore_verify_progress(pgstore_rtxn *r, store_issue_fn fn, void *ctx,
                            store_progress_fn progress, void *progress_ctx, uint64_t *out_issues)
{
    pverifier v = {
        .r = r, .fn = fn, .ctx = ctx, .progress = progress, .progress_ctx = progress_ctx};
    int err = pg_walk(r, "SELECT id, name_key, is_default, record FROM roster_tenants ORDER BY id",
                      0, NULL, verify_tenant, &v);
    char sql[1024];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT id, tenant_id, scope, flags");
    for (int u = 0; u < UNIQ__COUNT; u++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", pg_uniq_column(u));
    for (int s = 0; s < SORT__COUNT; s++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", %s", pg_sort_column(s));
    snprintf(sql + n, sizeof sql - n, ", record FROM roster_users ORDER BY id");
    if (err == ROSTER_E_OK)
        err = pg_walk(r, sql, 0, NULL, verify_user, &v);
    if (err == ROSTER_E_OK)
        err = pg_walk(r, "SELECT id, record FROM roster_keys ORDER BY id", 0, NULL, verify_key, &v);
    if (err == ROSTER_E_OK)
        err = pg_changes_verify(r, feed_issue, &v);
    if (err == ROSTER_E_OK)
        err = pg_custom_verify(r, feed_issue, &v);
    /* The counters against the records, both ways. */
    PGresult *res = NULL;
    if (err == ROSTER_E_OK)
        err = pg_run(r->c, "SELECT scope, users, active FROM roster_counts", 0, NULL, &res, NULL);
    for (int i = 0; err == ROSTER_E_OK && i < PQntuples(res); i++) {
        roster_uuid scope;
        memcpy(scope.b, PQgetvalue(res, i, 0), 16);
        int64_t users = pg_i64_get(PQgetvalue(res, i, 1)),
                active = pg_i64_get(PQgetvalue(res, i, 2)), want_u = 0, want_a = 0;
        for (size_t j = 0; j < v.n_sc; j++)
            if (roster_uuid_eq(&v.sc[j].scope, &scope)) {
                want_u = v.sc[j].users;
                want_a = v.sc[j].active;
                v.sc[j].users = -1; /* seen */
            }
        if (users != want_u || active != want_a)
            report(&v, STORE_ISSUE_COUNT_MISMATCH, "roster_counts", &scope,
                   "counter says %lld users (%lld active), the records %lld (%lld)",
                   (long long)users, (long long)active, (long long)want_u, (long long)want_a);
    }
    for (size_t j = 0; err == ROSTER_E_OK && j < v.n_sc; j++)
        if (v.sc[j].users > 0)
            report(&v, STORE_ISSUE_COUNT_MISMATCH, "roster_counts", &v.sc[j].scope,
                   "no counter for %lld users", (long long)v.sc[j].users);
    PQclear(res);
    free(v.sc);
    if (err == ROSTER_E_OK)
        *out_issues = v.issues;
    return err;
}

int pgstore_verify(pgstore_rtxn *r, store_issue_fn fn, void *ctx, uint64_t *out_issues)
{
    return pgstore_verify_progress(r, fn, ctx, NULL, NULL, out_issues);
}
