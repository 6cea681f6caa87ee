/* The read-cursor pool (cursor_pool.h) on a real LMDB environment:
 * without a pool every cursor is new and closed on return; given back,
 * cursors are kept per database and handed out again, renewed into a
 * later read-only transaction where they read that transaction's data;
 * a take beyond what is kept opens the rest; a write transaction is
 * refused without losing what is kept; no more than the cap is kept in
 * all; threads taking and giving at once never share a cursor; freeing
 * closes what is kept (the sanitizers' leak check). */
#include "cursor_pool.h"
#include "error.h"
#include "store_fixture.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static MDB_env *env;
static MDB_dbi dbi;

/* An environment with one duplicate-sorted database holding a=1, a=2,
 * b=3. */
static void setup(void)
{
    fx_mkdtemp(fx_dir, sizeof fx_dir, "/tmp/roster-cursor-pool-");
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 4), 0);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, MDB_NOSYNC, 0600), 0);
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "d", MDB_CREATE | MDB_DUPSORT, &dbi), 0);
    const char *kv[][2] = {{"a", "1"}, {"a", "2"}, {"b", "3"}};
    for (size_t i = 0; i < 3; i++) {
        MDB_val k = {1, (void *)kv[i][0]}, v = {1, (void *)kv[i][1]};
        ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    }
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

static void teardown(void)
{
    mdb_env_close(env);
    fx_rmdir(fx_dir);
}

/* The last key and data of the database through cursor c. */
static void assert_last(MDB_cursor *c, const char *key, const char *data)
{
    MDB_val k, v;
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
    ck_assert_int_eq((int)k.mv_size, 1);
    ck_assert_int_eq(*(const char *)k.mv_data, key[0]);
    ck_assert_int_eq(*(const char *)v.mv_data, data[0]);
}

static void put(const char *key, const char *data)
{
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    MDB_val k = {1, (void *)key}, v = {1, (void *)data};
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

START_TEST(without_a_pool_every_cursor_is_new)
{
    MDB_txn *txn;
    MDB_cursor *c[2];
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(NULL, txn, dbi, c, 2), 0);
    ck_assert_ptr_ne(c[0], c[1]);
    assert_last(c[0], "b", "3");
    assert_last(c[1], "b", "3");
    cursor_pool_give(NULL, dbi, c, 2);
    ck_assert_uint_eq(cursor_pool_kept(NULL, dbi), 0);
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(kept_cursors_are_renewed_into_later_reads)
{
    cursor_pool *p;
    ck_assert_int_eq(cursor_pool_new(&p), ROSTER_E_OK);
    MDB_txn *txn;
    MDB_cursor *c[3], *d[3];
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 3), 0);
    for (int i = 0; i < 3; i++)
        assert_last(c[i], "b", "3");
    mdb_txn_abort(txn);
    cursor_pool_give(p, dbi, c, 3); /* after their transaction ended */
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 3);

    /* A later read sees a later write through the same cursors. */
    put("c", "4");
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, d, 2), 0);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 1);
    for (int i = 0; i < 2; i++) {
        ck_assert(d[i] == c[0] || d[i] == c[1] || d[i] == c[2]);
        assert_last(d[i], "c", "4");
    }
    ck_assert_ptr_ne(d[0], d[1]);
    cursor_pool_give(p, dbi, d, 2);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 3);
    /* More than are kept: the rest are opened, and all are kept after. */
    MDB_cursor *e[5];
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, e, 5), 0);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 0);
    for (int i = 0; i < 5; i++)
        assert_last(e[i], "c", "4");
    cursor_pool_give(p, dbi, e, 5);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 5);
    mdb_txn_abort(txn);

    /* Another database's cursors are apart. */
    ck_assert_uint_eq(cursor_pool_kept(p, dbi + 1), 0);
    cursor_pool_free(p);
}
END_TEST

START_TEST(a_write_transaction_is_refused_and_nothing_lost)
{
    cursor_pool *p;
    ck_assert_int_eq(cursor_pool_new(&p), ROSTER_E_OK);
    MDB_txn *txn;
    MDB_cursor *c[2];
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 2), 0);
    cursor_pool_give(p, dbi, c, 2);
    mdb_txn_abort(txn);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 2), EINVAL);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), 2);
    mdb_txn_abort(txn);
    /* still good for reads */
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 2), 0);
    assert_last(c[1], "b", "3");
    cursor_pool_give(p, dbi, c, 2);
    mdb_txn_abort(txn);
    cursor_pool_free(p);
    cursor_pool_free(NULL);
}
END_TEST

/* At most CURSOR_POOL_KEEP kept in all: the rest of a give is closed,
 * and a full pool keeps nothing of another database until some are
 * taken. */
START_TEST(keeps_at_most_the_cap_in_all)
{
    MDB_dbi other;
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "e", MDB_CREATE, &other), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    cursor_pool *p;
    ck_assert_int_eq(cursor_pool_new(&p), ROSTER_E_OK);
    size_t n = CURSOR_POOL_KEEP + 10;
    MDB_cursor **c = malloc(n * sizeof *c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, n), 0);
    cursor_pool_give(p, dbi, c, n);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), CURSOR_POOL_KEEP);
    ck_assert_int_eq(cursor_pool_take(p, txn, other, c, 10), 0);
    cursor_pool_give(p, other, c, 10);
    ck_assert_uint_eq(cursor_pool_kept(p, other), 0);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 4), 0);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), CURSOR_POOL_KEEP - 4);
    cursor_pool_give(p, dbi, c, 4);
    ck_assert_int_eq(cursor_pool_take(p, txn, dbi, c, 4), 0);
    MDB_cursor *o[10];
    ck_assert_int_eq(cursor_pool_take(p, txn, other, o, 10), 0);
    cursor_pool_give(p, other, o, 10);
    ck_assert_uint_eq(cursor_pool_kept(p, other), 4);
    cursor_pool_give(p, dbi, c, 4);
    ck_assert_uint_eq(cursor_pool_kept(p, dbi), CURSOR_POOL_KEEP - 4);
    mdb_txn_abort(txn);
    free(c);
    cursor_pool_free(p);
}
END_TEST

/* Threads taking and giving back at once, each in its own read
 * transaction: no cursor is handed to two holders at the same time, each
 * reads its transaction's data, and everything ends up kept. */
#define RACE_THREADS 4
#define RACE_ROUNDS  2000
#define RACE_TAKE    7

static cursor_pool *race_pool;
static MDB_cursor *race_held[RACE_THREADS * RACE_TAKE];
static pthread_mutex_t race_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int race_bad;

/* Records c as held (or released); a cursor held twice is counted bad. */
static void race_mark(MDB_cursor *c, bool hold)
{
    pthread_mutex_lock(&race_mu);
    size_t free_slot = SIZE_MAX, at = SIZE_MAX;
    for (size_t i = 0; i < RACE_THREADS * RACE_TAKE; i++) {
        if (race_held[i] == c)
            at = i;
        else if (race_held[i] == NULL && free_slot == SIZE_MAX)
            free_slot = i;
    }
    if (hold && at != SIZE_MAX)
        race_bad++;
    else if (hold && free_slot != SIZE_MAX)
        race_held[free_slot] = c;
    else if (!hold && at != SIZE_MAX)
        race_held[at] = NULL;
    pthread_mutex_unlock(&race_mu);
}

static void *race_thread(void *arg)
{
    (void)arg;
    for (int r = 0; r < RACE_ROUNDS; r++) {
        MDB_txn *txn;
        MDB_cursor *c[RACE_TAKE];
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
            cursor_pool_take(race_pool, txn, dbi, c, RACE_TAKE) != 0) {
            race_bad++;
            return NULL;
        }
        for (int i = 0; i < RACE_TAKE; i++) {
            race_mark(c[i], true);
            MDB_val k, v;
            if (mdb_cursor_get(c[i], &k, &v, MDB_FIRST) != 0 || *(const char *)k.mv_data != 'a')
                race_bad++;
        }
        for (int i = 0; i < RACE_TAKE; i++)
            race_mark(c[i], false);
        cursor_pool_give(race_pool, dbi, c, RACE_TAKE);
        mdb_txn_abort(txn);
    }
    return NULL;
}

START_TEST(threads_never_share_a_cursor)
{
    ck_assert_int_eq(cursor_pool_new(&race_pool), ROSTER_E_OK);
    pthread_t th[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, race_thread, NULL), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(race_bad, 0);
    size_t kept = cursor_pool_kept(race_pool, dbi);
    ck_assert_uint_ge(kept, RACE_TAKE);
    ck_assert_uint_le(kept, RACE_THREADS * RACE_TAKE);
    cursor_pool_free(race_pool);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cursor_pool");
    TCase *tc = tcase_create("pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, without_a_pool_every_cursor_is_new);
    tcase_add_test(tc, kept_cursors_are_renewed_into_later_reads);
    tcase_add_test(tc, a_write_transaction_is_refused_and_nothing_lost);
    tcase_add_test(tc, keeps_at_most_the_cap_in_all);
    tcase_add_test(tc, threads_never_share_a_cursor);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
