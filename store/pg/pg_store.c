/* The PostgreSQL store: open, transactions and the helpers its modules
 * share (pg_store.h, pg_internal.h). */
#include "pg_internal.h"
#include "pg_schema.h"

#include "custom_index.h"
#include "user_build.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char env_key[] = "environment_id";
static const char loading_key[] = "load_unfinished";

bool pgstore_is_url(const char *location)
{
    return location && (strncmp(location, "postgres://", 11) == 0 ||
                        strncmp(location, "postgresql://", 13) == 0);
}

void pg_i64_put(uint8_t *buf, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        buf[i] = (uint8_t)u;
}

int64_t pg_i64_get(const char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | (uint8_t)p[i];
    return (int64_t)u;
}

int pg_hold(pgstore_rtxn *r, PGresult *res)
{
    if (r->n_held == r->cap_held) {
        size_t cap = r->cap_held ? r->cap_held * 2 : 8;
        PGresult **h = realloc(r->held, cap * sizeof *h);
        if (h == NULL)
            return ROSTER_E_NOMEM;
        r->held = h;
        r->cap_held = cap;
    }
    r->held[r->n_held++] = res;
    return ROSTER_E_OK;
}

int pg_scratch(pgstore_wtxn *w, size_t n, uint8_t **out)
{
    if (n > w->buf_cap) {
        size_t cap = n < 4096 ? 4096 : n * 2;
        uint8_t *b = realloc(w->buf, cap);
        if (b == NULL)
            return ROSTER_E_NOMEM;
        w->buf = b;
        w->buf_cap = cap;
    }
    *out = w->buf;
    return ROSTER_E_OK;
}

/* Makes the environment id when the database has none (the first
 * process to start on it; a concurrent one keeps the first one's). */
static int ensure_environment(pgstore *p, roster_err_detail *detail)
{
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, detail);
    if (err != ROSTER_E_OK)
        return err;
    roster_uuid id;
    if (getrandom(id.b, sizeof id.b, 0) != (ssize_t)sizeof id.b) {
        pg_pool_release(p->pool, c);
        return roster_fail(detail, ROSTER_E_IO, "store", "no random bytes for the environment id");
    }
    id.b[6] = (uint8_t)((id.b[6] & 0x0f) | 0x40); /* a UUIDv4 */
    id.b[8] = (uint8_t)((id.b[8] & 0x3f) | 0x80);
    pg_param params[] = {{env_key, sizeof env_key - 1, PG_OID_TEXT}, {id.b, 16, PG_OID_BYTEA}};
    err = pg_run0(c,
                  "INSERT INTO roster_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO "
                  "NOTHING",
                  2, params, detail);
    pg_pool_release(p->pool, c);
    return err;
}

/* A load that never finished (pgstore_load_mark) leaves its mark. */
static int refuse_unfinished_load(pgstore *p, roster_err_detail *detail)
{
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, detail);
    if (err != ROSTER_E_OK)
        return err;
    pg_param params[] = {{loading_key, sizeof loading_key - 1, PG_OID_TEXT}};
    PGresult *res;
    err = pg_run(c, "SELECT 1 FROM roster_meta WHERE key = $1", 1, params, &res, detail);
    bool marked = err == ROSTER_E_OK && PQntuples(res) > 0;
    PQclear(res);
    pg_pool_release(p->pool, c);
    if (marked)
        return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "store",
                           "a load into this database did not finish: drop its roster_ tables "
                           "(or the database) and load again");
    return err;
}

int pgstore_load_mark(pgstore *p, bool loading)
{
    if (p->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, NULL);
    if (err != ROSTER_E_OK)
        return err;
    pg_param params[] = {{loading_key, sizeof loading_key - 1, PG_OID_TEXT},
                         {"1", 1, PG_OID_BYTEA}};
    err = pg_run0(c,
                  loading ? "INSERT INTO roster_meta (key, value) VALUES ($1, $2) "
                            "ON CONFLICT (key) DO NOTHING"
                          : "DELETE FROM roster_meta WHERE key = $1",
                  loading ? 2 : 1, params, NULL);
    pg_pool_release(p->pool, c);
    return err;
}

int pgstore_open(pgstore **out, const char *url, const pgstore_options *opts)
{
    pgstore_options defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    roster_err_detail *detail = opts->detail;
    pgstore *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    p->read_only = opts->read_only;
    p->changes_off = opts->changes_off;
    p->keep_events =
        opts->changes_keep_events ? opts->changes_keep_events : STORE_CHANGES_DEFAULT_EVENTS;
    p->keep_ms = opts->changes_keep_ms ? opts->changes_keep_ms : STORE_CHANGES_DEFAULT_MS;
    p->cdx_declared = opts->declare_custom_index;
    p->cdx_scan = opts->custom_index_scan;
    int err = custom_index_declare_unbuilt(p->cdx, &p->n_cdx, opts->custom_index,
                                           opts->n_custom_index, detail);
    if (err != ROSTER_E_OK) {
        free(p);
        return err;
    }
    pthread_mutex_init(&p->kept_mu, NULL);
    err = pg_pool_open(&p->pool, url, opts->pool_size ? opts->pool_size : PGSTORE_DEFAULT_POOL,
                       detail);
    if (err != ROSTER_E_OK) {
        pthread_mutex_destroy(&p->kept_mu);
        free(p);
        return err;
    }
    pg_conn *c;
    if ((err = pg_pool_acquire(p->pool, &c, detail)) == ROSTER_E_OK) {
        err = pg_schema_migrate(c, p->read_only, NULL, detail);
        pg_pool_release(p->pool, c);
    }
    if (err == ROSTER_E_OK && !p->read_only)
        err = ensure_environment(p, detail);
    if (err == ROSTER_E_OK)
        err = refuse_unfinished_load(p, detail);
    if (err == ROSTER_E_OK)
        err = pg_custom_open(p, opts->declare_custom_index, detail);
    if (err != ROSTER_E_OK) {
        pgstore_close(p);
        return err;
    }
    *out = p;
    return ROSTER_E_OK;
}

void pgstore_close(pgstore *p)
{
    if (p == NULL)
        return;
    pg_pool_close(p->pool);
    pg_custom_close(p);
    pthread_mutex_destroy(&p->kept_mu);
    free(p);
}

/* A read on a pooled connection, with its transaction opened (BEGIN and,
 * with a deadline, the statement timeout, queued to go with its first
 * statement) unless `single`. */
static int read_open(pgstore *p, pgstore_rtxn **out, bool single, int64_t deadline_ns,
                     const _Atomic int64_t *stop_ns)
{
    pgstore_rtxn *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ROSTER_E_NOMEM;
    r->p = p;
    r->deadline_ns = deadline_ns;
    r->stop_ns = stop_ns;
    r->autocommit = true;
    int err = pg_pool_acquire(p->pool, &r->c, NULL);
    if (err == ROSTER_E_OK && !single && (err = pg_read_need_txn(r)) != ROSTER_E_OK)
        pg_pool_release(p->pool, r->c);
    if (err != ROSTER_E_OK) {
        free(r);
        return err;
    }
    *out = r;
    return ROSTER_E_OK;
}

int pgstore_read_begin(pgstore *p, pgstore_rtxn **out)
{
    return read_open(p, out, false, 0, NULL);
}

int pgstore_read_begin_limited(pgstore *p, pgstore_rtxn **out, int64_t deadline_ns,
                               const _Atomic int64_t *stop_ns)
{
    return read_open(p, out, false, deadline_ns, stop_ns);
}

int pgstore_read_begin_single(pgstore *p, pgstore_rtxn **out)
{
    return read_open(p, out, true, 0, NULL);
}

int pg_read_need_txn(pgstore_rtxn *r)
{
    if (!r->autocommit)
        return ROSTER_E_OK;
    int err =
        pg_defer_sql(r->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, NULL, NULL, 0);
    if (err == ROSTER_E_OK && r->deadline_ns > 0) {
        char sql[80];
        pg_timeout_sql(sql, sizeof sql, r->deadline_ns);
        err = pg_defer_sql(r->c, sql, NULL, NULL, NULL, 0);
    }
    if (err == ROSTER_E_OK)
        r->autocommit = false;
    return err;
}

void pgstore_read_end(pgstore_rtxn *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_held; i++)
        PQclear(r->held[i]);
    free(r->held);
    /* A read-only transaction: COMMIT only ends it (and a failure leaves
     * the connection in a transaction, which the pool then closes). */
    if (!r->c->broken) {
        if (!r->autocommit)
            pg_defer_sql(r->c, "COMMIT", NULL, NULL, NULL, 0);
        pg_sync(r->c, NULL);
    }
    pg_pool_release(r->p->pool, r->c);
    free(r);
}

int pgstore_write_begin(pgstore *p, pgstore_wtxn **out)
{
    if (p->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    pgstore_wtxn *w = calloc(1, sizeof *w);
    if (w == NULL)
        return ROSTER_E_NOMEM;
    w->p = p;
    int err = pg_pool_acquire(p->pool, &w->c, NULL);
    if (err == ROSTER_E_OK) {
        /* Sent with the group's first statements. */
        err = pg_defer_sql(w->c, "BEGIN", NULL, NULL, NULL, 0);
        if (err != ROSTER_E_OK)
            pg_pool_release(p->pool, w->c);
    }
    if (err != ROSTER_E_OK) {
        free(w);
        return err;
    }
    *out = w;
    return ROSTER_E_OK;
}

static void wtxn_free(pgstore_wtxn *w)
{
    pg_custom_group_end(w);
    PQclear(w->trim_head);
    pg_pool_release(w->p->pool, w->c);
    free(w->buf);
    free(w->cbuf);
    free(w);
}

/* Marks w failed when a statement that every later one of the group
 * depends on (a savepoint's begin, release or rollback) fails: the
 * group's transaction is unusable from there on. ctx holds w. */
static int group_step_check(pg_conn *c, int err, const void *ctx, roster_err_detail *detail)
{
    (void)detail;
    pgstore_wtxn *w;
    memcpy(&w, ctx, sizeof w);
    w->failed = c->broken ? ROSTER_E_UNAVAILABLE : err;
    return err;
}

/* Queues a group step of w (group_step_check). */
static int defer_group_step(pgstore_wtxn *w, const char *sql)
{
    return pg_defer_sql(w->c, sql, NULL, group_step_check, &w, sizeof w);
}

int pgstore_write_commit(pgstore_wtxn *w)
{
    int err = w->failed;
    if (err == ROSTER_E_OK)
        err = pg_changes_commit(w);
    PGresult *res = NULL;
    if (err == ROSTER_E_OK &&
        (err = pg_defer_sql(w->c, "COMMIT", &res, NULL, NULL, 0)) == ROSTER_E_OK)
        err = pg_sync(w->c, NULL);
    /* COMMIT of a transaction that an unnoticed failure aborted answers
     * ROLLBACK: never an acknowledgement. */
    if (err == ROSTER_E_OK && (res == NULL || strcmp(PQcmdStatus(res), "COMMIT") != 0))
        err = ROSTER_E_INTERNAL;
    PQclear(res);
    if (err != ROSTER_E_OK)
        pg_rollback(w->c);
    wtxn_free(w);
    return err;
}

void pgstore_write_abort(pgstore_wtxn *w)
{
    if (w == NULL)
        return;
    pg_rollback(w->c);
    wtxn_free(w);
}

int pg_op_begin(pgstore_wtxn *w, roster_err_detail *detail)
{
    if (w->failed)
        return roster_fail(detail, w->failed, "store",
                           "the connection to PostgreSQL failed earlier in this write group");
    int err = defer_group_step(w, "SAVEPOINT op");
    if (err != ROSTER_E_OK) {
        w->failed = err;
        return err;
    }
    w->in_op = true;
    /* The feed's counter row: the first lock of every operation. */
    if ((err = pg_changes_op_begin(w, detail)) != ROSTER_E_OK)
        return pg_op_end(w, err, detail);
    return ROSTER_E_OK;
}

int pg_op_end(pgstore_wtxn *w, int err, roster_err_detail *detail)
{
    w->in_op = false;
    /* The rollback to the savepoint must not be queued behind a failure
     * still unread: the server would skip it. */
    int synced = pg_sync(w->c, err == ROSTER_E_OK ? detail : NULL);
    if (err == ROSTER_E_OK)
        err = synced;
    if (err != ROSTER_E_OK)
        pg_changes_op_failed(w);
    if (w->c->broken) {
        w->failed = ROSTER_E_UNAVAILABLE;
        return err != ROSTER_E_OK ? err : ROSTER_E_UNAVAILABLE;
    }
    if (w->failed)
        return err != ROSTER_E_OK ? err : w->failed;
    int rc = err == ROSTER_E_OK ? defer_group_step(w, "RELEASE SAVEPOINT op")
                                : defer_group_step(w, "ROLLBACK TO SAVEPOINT op");
    if (rc == ROSTER_E_OK && err != ROSTER_E_OK)
        rc = defer_group_step(w, "RELEASE SAVEPOINT op");
    if (rc != ROSTER_E_OK) {
        /* The group's transaction is unusable past this point. */
        w->failed = w->c->broken ? ROSTER_E_UNAVAILABLE : rc;
        return err != ROSTER_E_OK ? err : rc;
    }
    return err;
}

int pg_counter_add(pgstore_wtxn *w, const roster_uuid *scope, int64_t d_users, int64_t d_active)
{
    if (d_users == 0 && d_active == 0)
        return ROSTER_E_OK;
    uint8_t du[8], da[8];
    pg_i64_put(du, d_users);
    pg_i64_put(da, d_active);
    static pg_stmt add =
        PG_STMT("INSERT INTO roster_counts (scope, users, active) VALUES ($1, $2, $3) "
                "ON CONFLICT (scope) DO UPDATE SET users = roster_counts.users + $2, "
                "active = roster_counts.active + $3");
    pg_param params[] = {{scope->b, 16, PG_OID_UUID}, {du, 8, PG_OID_INT8}, {da, 8, PG_OID_INT8}};
    return pg_defer(w->c, &add, 3, params, NULL, NULL, NULL, 0);
}

int pg_default_tenant(pg_conn *c, roster_uuid *out, roster_err_detail *detail)
{
    static pg_stmt get = PG_STMT("SELECT id FROM roster_tenants WHERE is_default");
    PGresult *res;
    int err = pg_run_stmt(c, &get, 0, NULL, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(res) == 1 && PQgetlength(res, 0, 0) == 16)
        memcpy(out->b, PQgetvalue(res, 0, 0), 16);
    else
        err = ROSTER_E_NOT_FOUND;
    PQclear(res);
    return err;
}

int pg_tenant_exists(pg_conn *c, const roster_uuid *id, roster_err_detail *detail)
{
    /* KEY SHARE: a concurrent delete of the tenant waits for this group
     * (and the foreign key then refuses it). */
    static pg_stmt lock = PG_STMT("SELECT 1 FROM roster_tenants WHERE id = $1 FOR KEY SHARE");
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run_stmt(c, &lock, 1, params, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    bool found = PQntuples(res) == 1;
    PQclear(res);
    if (!found)
        return user_build_tenant_missing(id, detail);
    return ROSTER_E_OK;
}

int pgstore_environment_id(pgstore_rtxn *r, roster_uuid *out)
{
    pg_param params[] = {{env_key, sizeof env_key - 1, PG_OID_TEXT}};
    PGresult *res;
    int err = pg_run(r->c, "SELECT value FROM roster_meta WHERE key = $1", 1, params, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(res) == 1 && PQgetlength(res, 0, 0) == 16)
        memcpy(out->b, PQgetvalue(res, 0, 0), 16);
    else
        err = PQntuples(res) == 0 ? ROSTER_E_NOT_FOUND : ROSTER_E_CORRUPT;
    PQclear(res);
    return err;
}

int pgstore_user_counts(pgstore_rtxn *r, const roster_uuid *tenant, int64_t *users, int64_t *active)
{
    roster_uuid none = {{0}};
    pg_param params[] = {{(tenant ? tenant : &none)->b, 16, PG_OID_UUID}};
    static pg_stmt get = PG_STMT("SELECT users, active FROM roster_counts WHERE scope = $1");
    PGresult *res;
    int err = pg_run_stmt(r->c, &get, 1, params, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    *users = *active = 0;
    if (PQntuples(res) == 1) {
        *users = pg_i64_get(PQgetvalue(res, 0, 0));
        *active = pg_i64_get(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return ROSTER_E_OK;
}
