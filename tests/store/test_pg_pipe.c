/* Pipeline mode and prepared statements of the PostgreSQL store
 * (store/pg/pg_pipe.h) on a real PostgreSQL 15: results in order, the
 * first failure reported and the rest skipped, a statement prepared once
 * per connection (and again after a prepare that did not take), a queue
 * longer than its room, a connection lost with statements queued, and
 * the statements built per query that a connection keeps prepared
 * (pg_defer_cached). */
#include "pg_fixture.h"

#include "pg_internal.h"
#include "pg_pipe.h"

#include <arpa/inet.h>

static pg_pool *pool;
static pg_conn *conn;

static void setup(void)
{
    pgfx_create_db();
    roster_err_detail d = {0};
    ck_assert_msg(pg_pool_open(&pool, pgfx_url, 2, &d) == ROSTER_E_OK, "%s", d.message);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn, &d), ROSTER_E_OK);
    ck_assert_int_eq(pg_exec(conn, "CREATE TABLE t (k int8 PRIMARY KEY, v text)", &d), ROSTER_E_OK);
}

static void teardown(void)
{
    if (conn)
        pg_pool_release(pool, conn);
    conn = NULL;
    pg_pool_close(pool);
    pool = NULL;
    pgfx_drop_db();
}

static pg_stmt insert_t = PG_STMT("INSERT INTO t (k, v) VALUES ($1, $2)");
static pg_stmt count_t = PG_STMT("SELECT count(*)::int8 FROM t");

/* Queues the insert of (k, v). */
static int defer_insert(int64_t k, const char *v, pg_check_fn check, const void *ctx,
                        size_t ctx_len)
{
    uint8_t kb[8];
    pg_i64_put(kb, k);
    pg_param p[] = {{kb, 8, PG_OID_INT8}, {v, (int)strlen(v), PG_OID_TEXT}};
    return pg_defer(conn, &insert_t, 2, p, NULL, check, ctx, ctx_len);
}

static int64_t rows_in_t(void)
{
    PGresult *res;
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_run_stmt(conn, &count_t, 0, NULL, &res, &d), ROSTER_E_OK);
    int64_t n = pg_i64_get(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* The statement number of s as a bit of pg_conn.prepared. */
static uint64_t bit_of(const pg_stmt *s)
{
    int n = atomic_load(&s->number);
    ck_assert_int_gt(n, 0);
    return (uint64_t)1 << (n - 1);
}

/* The one int8 that sql (with params[0..n)) answers on conn. */
static long count_on_conn(const char *sql, int n, const pg_param *params)
{
    PGresult *res;
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_run(conn, sql, n, params, &res, &d), ROSTER_E_OK);
    long v = (long)pg_i64_get(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

static long prepared_on_server(const char *stmt_sql)
{
    /* The count as seen by conn itself (prepared statements are per
     * session). */
    pg_param p[] = {{stmt_sql, (int)strlen(stmt_sql), PG_OID_TEXT}};
    return count_on_conn("SELECT count(*)::int8 FROM pg_prepared_statements WHERE statement = $1",
                         1, p);
}

/* Queued statements run in order, in one sync; results land where asked;
 * the statement is prepared on its first use only. */
START_TEST(queued_statements_run_in_order)
{
    roster_err_detail d = {0};
    for (int i = 1; i <= 5; i++)
        ck_assert_int_eq(defer_insert(i, "x", NULL, NULL, 0), ROSTER_E_OK);
    PGresult *count;
    ck_assert_int_eq(pg_defer(conn, &count_t, 0, NULL, &count, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_ptr_null(count);
    ck_assert_uint_gt(conn->n_queued, 6); /* two prepares among them */
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
    ck_assert_uint_eq(conn->n_queued, 0);
    ck_assert_int_eq(PQpipelineStatus(conn->c), PQ_PIPELINE_OFF);
    ck_assert_ptr_nonnull(count);
    /* The count ran after the five inserts. */
    ck_assert_int_eq(pg_i64_get(PQgetvalue(count, 0, 0)), 5);
    PQclear(count);
    ck_assert(conn->prepared & bit_of(&insert_t));
    ck_assert(conn->prepared & bit_of(&count_t));
    ck_assert_int_eq(prepared_on_server(insert_t.sql), 1);
    ck_assert_int_eq(defer_insert(6, "y", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_uint_eq(conn->n_queued, 1); /* no second prepare */
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
    ck_assert_int_eq(rows_in_t(), 6);
    ck_assert_int_eq(prepared_on_server(insert_t.sql), 1);
    /* Nothing queued: a sync is free and answers OK. */
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
}
END_TEST

typedef struct seen {
    int calls;
    int err;
    char constraint[64];
    char tag[16];
} seen;

/* Records what a check was given; answers NOT_FOUND instead. */
static int note_check(pg_conn *c, int err, const void *ctx, roster_err_detail *detail)
{
    seen *s;
    memcpy(&s, ctx, sizeof s);
    s->calls++;
    s->err = err;
    snprintf(s->constraint, sizeof s->constraint, "%s", c->constraint);
    memcpy(s->tag, (const char *)ctx + sizeof s, sizeof s->tag);
    return roster_fail(detail, ROSTER_E_NOT_FOUND, "k", "translated");
}

/* The first failure speaks (through its check, with its context); what
 * follows it up to the sync is skipped, its check not called; the
 * connection is usable afterwards. */
START_TEST(first_failure_speaks_and_the_rest_is_skipped)
{
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_exec(conn, "INSERT INTO t VALUES (1, 'a')", &d), ROSTER_E_OK);
    seen first = {0}, later = {0};
    unsigned char ctx1[sizeof(seen *) + 16] = {0}, ctx2[sizeof(seen *) + 16] = {0};
    seen *p1 = &first, *p2 = &later;
    memcpy(ctx1, &p1, sizeof p1);
    memcpy(ctx1 + sizeof p1, "one", 4);
    memcpy(ctx2, &p2, sizeof p2);
    ck_assert_int_eq(defer_insert(2, "b", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "dup", note_check, ctx1, sizeof ctx1), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "dup again", note_check, ctx2, sizeof ctx2), ROSTER_E_OK);
    PGresult *after;
    ck_assert_int_eq(pg_defer(conn, &count_t, 0, NULL, &after, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.message, "translated");
    ck_assert_int_eq(first.calls, 1);
    ck_assert_int_eq(first.err, ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(first.constraint, "t_pkey");
    ck_assert_str_eq(first.tag, "one");
    ck_assert_int_eq(later.calls, 0);
    ck_assert_ptr_null(after);
    ck_assert(!conn->broken);
    /* Outside a transaction the statements up to the sync were one
     * implicit transaction: the insert before the failure is gone too. */
    ck_assert_int_eq(rows_in_t(), 1);

    /* Without a check, pg_conn_err's code and the server's message. */
    ck_assert_int_eq(defer_insert(1, "dup", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_ptr_nonnull(strstr(d.message, "t_pkey"));
    ck_assert_int_eq(rows_in_t(), 1);
}
END_TEST

/* Inside an explicit transaction a failure leaves it aborted until the
 * savepoint is rolled back to, as the write groups do. */
START_TEST(savepoint_rollback_after_a_queued_failure)
{
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_defer_sql(conn, "BEGIN", NULL, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_defer_sql(conn, "SAVEPOINT op", NULL, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(PQtransactionStatus(conn->c), PQTRANS_INERROR);
    ck_assert_int_eq(pg_defer_sql(conn, "ROLLBACK TO SAVEPOINT op", NULL, NULL, NULL, 0),
                     ROSTER_E_OK);
    ck_assert_int_eq(pg_defer_sql(conn, "RELEASE SAVEPOINT op", NULL, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(2, "b", NULL, NULL, 0), ROSTER_E_OK);
    PGresult *commit;
    ck_assert_int_eq(pg_defer_sql(conn, "COMMIT", &commit, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
    ck_assert_str_eq(PQcmdStatus(commit), "COMMIT");
    PQclear(commit);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM t"), 1);
    ck_assert_int_eq(pgfx_sql("SELECT k FROM t"), 2);

    /* pg_rollback ends a transaction whatever is queued, a failure among
     * it included. */
    ck_assert_int_eq(pg_defer_sql(conn, "BEGIN", NULL, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(3, "c", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(2, "dup", NULL, NULL, 0), ROSTER_E_OK);
    pg_rollback(conn);
    ck_assert_uint_eq(conn->n_queued, 0);
    ck_assert_int_eq(PQtransactionStatus(conn->c), PQTRANS_IDLE);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM t"), 1);
}
END_TEST

/* A prepare that fails, or is skipped behind a failure, is not taken as
 * prepared: the next use prepares again. */
START_TEST(failed_or_skipped_prepare_is_retried)
{
    roster_err_detail d = {0};
    static pg_stmt bad = PG_STMT("SELECT nope FROM t");
    PGresult *res;
    ck_assert_int_eq(pg_run_stmt(conn, &bad, 0, NULL, &res, &d), ROSTER_E_INTERNAL);
    ck_assert_ptr_null(res);
    ck_assert_ptr_nonnull(strstr(d.message, "nope"));
    ck_assert(!(conn->prepared & bit_of(&bad)));
    ck_assert(!conn->broken);

    static pg_stmt later = PG_STMT("SELECT k FROM t WHERE k = $1");
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    uint8_t kb[8];
    pg_i64_put(kb, 1);
    pg_param p[] = {{kb, 8, PG_OID_INT8}};
    ck_assert_int_eq(pg_defer(conn, &later, 1, p, &res, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert(conn->prepared & bit_of(&later)); /* taken as prepared until the sync says */
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert(!(conn->prepared & bit_of(&later)));
    ck_assert_int_eq(prepared_on_server(later.sql), 0);
    ck_assert_int_eq(pg_exec(conn, "INSERT INTO t VALUES (1, 'a')", &d), ROSTER_E_OK);
    ck_assert_int_eq(pg_run_stmt(conn, &later, 1, p, &res, &d), ROSTER_E_OK);
    ck_assert_int_eq(PQntuples(res), 1);
    PQclear(res);
    ck_assert(conn->prepared & bit_of(&later));
    ck_assert_int_eq(prepared_on_server(later.sql), 1);
}
END_TEST

/* Runs a statement built per query through pg_defer_cached: k's v. */
static const char *cached_value(const char *sql, int64_t k, char *out, size_t cap)
{
    uint8_t kb[8];
    pg_i64_put(kb, k);
    pg_param p[] = {{kb, 8, PG_OID_INT8}};
    PGresult *res = NULL;
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_defer_cached(conn, sql, 1, p, &res), ROSTER_E_OK);
    ck_assert_msg(pg_sync(conn, &d) == ROSTER_E_OK, "%s", d.message);
    ck_assert_int_eq(PQntuples(res), 1);
    snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

/* Server-side prepared statements of conn's session named roster_d*. */
static long cached_on_server(void)
{
    return count_on_conn(
        "SELECT count(*)::int8 FROM pg_prepared_statements WHERE name LIKE 'roster_d%'", 0, NULL);
}

/* A text seen again is executed without a new prepare; the same text
 * with other parameter types is a statement of its own; past PG_DYN_MAX
 * texts the least recently used is deallocated on the server, and a text
 * pushed out is prepared again when it comes back. Answers never mix. */
START_TEST(cached_statements_kept_and_replaced)
{
    roster_err_detail d = {0};
    ck_assert_int_eq(
        pg_exec(conn, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g", &d),
        ROSTER_E_OK);
    char sql[PG_DYN_MAX + 8][96], got[32];
    for (int i = 0; i < PG_DYN_MAX + 8; i++)
        snprintf(sql[i], sizeof sql[i], "SELECT v || '/%d' FROM t WHERE k = $1", i);
    uint64_t p0 = conn->dyn_prepares;
    ck_assert_str_eq(cached_value(sql[0], 7, got, sizeof got), "v7/0");
    ck_assert_str_eq(cached_value(sql[0], 8, got, sizeof got), "v8/0");
    ck_assert_uint_eq(conn->dyn_prepares, p0 + 1);
    ck_assert_int_eq(cached_on_server(), 1);

    /* The same text with an int2 parameter is another statement. */
    uint16_t k2 = htons(9);
    pg_param p4[] = {{&k2, 2, PG_OID_INT2}};
    PGresult *res = NULL;
    ck_assert_int_eq(pg_defer_cached(conn, sql[0], 1, p4, &res), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
    ck_assert_str_eq(PQgetvalue(res, 0, 0), "v9/0");
    PQclear(res);
    ck_assert_uint_eq(conn->dyn_prepares, p0 + 2);

    /* Fill the cache and go past it, using sql[0] (int8) all along so
     * that it stays among the most recently used. */
    for (int i = 1; i < PG_DYN_MAX + 8; i++) {
        char want[32];
        snprintf(want, sizeof want, "v%d/%d", i % 100 + 1, i);
        ck_assert_str_eq(cached_value(sql[i], i % 100 + 1, got, sizeof got), want);
        ck_assert_str_eq(cached_value(sql[0], 5, got, sizeof got), "v5/0");
        ck_assert_int_le(cached_on_server(), PG_DYN_MAX);
    }
    ck_assert_int_eq(cached_on_server(), PG_DYN_MAX);
    ck_assert_uint_eq(conn->dyn_prepares, p0 + 2 + PG_DYN_MAX + 7);
    uint64_t p1 = conn->dyn_prepares;
    ck_assert_str_eq(cached_value(sql[0], 6, got, sizeof got), "v6/0"); /* still there */
    ck_assert_uint_eq(conn->dyn_prepares, p1);
    ck_assert_str_eq(cached_value(sql[1], 3, got, sizeof got), "v3/1"); /* pushed out */
    ck_assert_uint_eq(conn->dyn_prepares, p1 + 1);
    ck_assert_int_eq(cached_on_server(), PG_DYN_MAX);
}
END_TEST

/* A cached statement whose prepare is skipped behind a failure (or
 * fails itself) is prepared again on its next use, under a new name; a
 * new session prepares everything again. */
START_TEST(cached_prepare_skipped_is_retried)
{
    roster_err_detail d = {0};
    const char *sql = "SELECT v FROM t WHERE k = $1";
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    uint8_t kb[8];
    pg_i64_put(kb, 1);
    pg_param p[] = {{kb, 8, PG_OID_INT8}};
    PGresult *res = NULL;
    ck_assert_int_eq(pg_defer_cached(conn, sql, 1, p, &res), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(cached_on_server(), 0);
    uint64_t p0 = conn->dyn_prepares;
    char got[32];
    ck_assert_int_eq(pg_exec(conn, "INSERT INTO t VALUES (1, 'a')", &d), ROSTER_E_OK);
    ck_assert_str_eq(cached_value(sql, 1, got, sizeof got), "a");
    ck_assert_uint_eq(conn->dyn_prepares, p0 + 1);
    ck_assert_int_eq(cached_on_server(), 1);

    static const char bad[] = "SELECT nope FROM t WHERE k = $1";
    ck_assert_int_eq(pg_defer_cached(conn, bad, 1, p, &res), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_INTERNAL);
    ck_assert_ptr_nonnull(strstr(d.message, "nope"));
    ck_assert_int_eq(pg_defer_cached(conn, bad, 1, p, &res), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_INTERNAL); /* prepared again, fails again */
    ck_assert_uint_eq(conn->dyn_prepares, p0 + 3);

    /* A new session (the server ended this one): prepared again. */
    ck_assert_int_ge(pgfx_end_sessions(), 1);
    ck_assert_int_eq(pg_run0(conn, "SELECT 1", 0, NULL, &d), ROSTER_E_UNAVAILABLE);
    pg_pool_release(pool, conn);
    conn = NULL;
    ck_assert_int_eq(pg_pool_acquire(pool, &conn, &d), ROSTER_E_OK);
    uint64_t p1 = conn->dyn_prepares;
    ck_assert_str_eq(cached_value(sql, 1, got, sizeof got), "a");
    ck_assert_uint_eq(conn->dyn_prepares, p1 + 1);
}
END_TEST

/* More statements than the queue holds: it syncs on the way, and every
 * one runs once. */
START_TEST(queue_longer_than_its_room)
{
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_defer_sql(conn, "BEGIN", NULL, NULL, NULL, 0), ROSTER_E_OK);
    for (int i = 0; i < 3 * PG_PIPE_MAX + 5; i++) {
        ck_assert_int_eq(defer_insert(i, "v", NULL, NULL, 0), ROSTER_E_OK);
        ck_assert_uint_le(conn->n_queued, PG_PIPE_MAX);
    }
    ck_assert_int_eq(pg_defer_sql(conn, "COMMIT", NULL, NULL, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(pg_sync(conn, &d), ROSTER_E_OK);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM t"), 3 * PG_PIPE_MAX + 5);
}
END_TEST

/* The server ends the session with statements queued: UNAVAILABLE, the
 * connection marked broken and closed at release; the next acquire
 * connects afresh and prepares again. */
START_TEST(lost_connection_with_statements_queued)
{
    roster_err_detail d = {0};
    ck_assert_int_eq(rows_in_t(), 0); /* count_t prepared on this session */
    ck_assert_int_ge(pgfx_end_sessions(), 1);
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    PGresult *res;
    int err = pg_defer(conn, &count_t, 0, NULL, &res, NULL, NULL, 0);
    if (err == ROSTER_E_OK)
        err = pg_sync(conn, &d);
    ck_assert_int_eq(err, ROSTER_E_UNAVAILABLE);
    ck_assert(conn->broken);
    ck_assert_uint_eq(conn->n_queued, 0);
    pg_pool_release(pool, conn);
    conn = NULL;
    ck_assert_int_eq(pg_pool_acquire(pool, &conn, &d), ROSTER_E_OK);
    ck_assert(!conn->broken);
    ck_assert_uint_eq(conn->prepared, 0);
    ck_assert_int_eq(rows_in_t(), 0);
    ck_assert(conn->prepared & bit_of(&count_t));
}
END_TEST

/* A connection given back with statements still queued is closed, not
 * handed to the next taker with someone else's results pending. */
START_TEST(release_with_statements_queued_closes)
{
    ck_assert_int_eq(defer_insert(1, "a", NULL, NULL, 0), ROSTER_E_OK);
    pg_conn *slot = conn;
    pg_pool_release(pool, conn);
    conn = NULL;
    ck_assert_ptr_null(slot->c);
    roster_err_detail d = {0};
    ck_assert_int_eq(pg_pool_acquire(pool, &conn, &d), ROSTER_E_OK);
    ck_assert_uint_eq(conn->n_queued, 0);
    ck_assert_int_eq(rows_in_t(), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pg_pipe");
    TCase *tc = tcase_create("pipe");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, queued_statements_run_in_order);
    tcase_add_test(tc, first_failure_speaks_and_the_rest_is_skipped);
    tcase_add_test(tc, savepoint_rollback_after_a_queued_failure);
    tcase_add_test(tc, failed_or_skipped_prepare_is_retried);
    tcase_add_test(tc, cached_statements_kept_and_replaced);
    tcase_add_test(tc, cached_prepare_skipped_is_retried);
    tcase_add_test(tc, queue_longer_than_its_room);
    tcase_add_test(tc, lost_connection_with_statements_queued);
    tcase_add_test(tc, release_with_statements_queued_closes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
