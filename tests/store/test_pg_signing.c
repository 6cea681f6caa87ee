/* The signing keys of access tokens on a PostgreSQL store (store/signing.h,
 * pg_store.h "signing keys"): stores opened on one database, each with a
 * data directory of its own, sign with one current key and verify each
 * other's tokens; the first key a database gets is the data directory's
 * of the first process (older tokens keep verifying), and of processes
 * starting at once exactly one key wins; a rotation through one store is
 * seen by another when it reads the keys again, the old key verifying
 * on both; a rotation from a stale read is refused (BUSY) and retried. */
#include "pg_fixture.h"

#include "signing.h"
#include "store.h"
#include "store_internal.h"

#include "clock.h"

#include <sys/stat.h>
#include <sys/wait.h>

static char dirs[2][64];

static void setup(void)
{
    pgfx_create_db();
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof dirs[i], "/tmp/roster-signing-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dirs[i]));
    }
}

static void teardown(void)
{
    pgfx_drop_db();
    for (int i = 0; i < 2; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dirs[i]);
        ck_assert_int_eq(system(cmd), 0);
    }
}

static store *open_store(void)
{
    store *s;
    roster_err_detail d = {0};
    store_options o = {.detail = &d};
    ck_assert_msg(store_open(&s, pgfx_url, &o) == ROSTER_E_OK, "%s", d.message);
    return s;
}

static int64_t now_s(void)
{
    return roster_now_ms() / 1000;
}

/* A token signed by k. */
static void sign(char tok[ROSTER_JWT_MAX_LEN + 1], size_t *len, roster_signkeys *k)
{
    roster_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.role, sizeof c.role, "admin");
    c.iat = now_s();
    c.exp = c.iat + 600;
    ck_assert_int_eq(roster_signkeys_sign(tok, len, k, &c), ROSTER_E_OK);
}

static int check(roster_signkeys *k, const char *tok, size_t len)
{
    roster_jwt_claims c;
    ck_assert_int_eq(roster_jwt_decode(&c, tok, len, NULL), ROSTER_E_OK);
    return roster_signkeys_check(k, tok, len, &c, now_s(), NULL);
}

START_TEST(two_stores_share_the_keys)
{
    /* The first process's data directory has a key from before the keys
     * moved into the database; the second's has another. */
    roster_signkeys *local[2];
    char local_kid[2][ROSTER_JWT_KID_LEN + 1];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(roster_signkeys_open(&local[i], dirs[i], true, now_s(), NULL),
                         ROSTER_E_OK);
        roster_signkeys_kid(local_kid[i], local[i]);
    }
    ck_assert_str_ne(local_kid[0], local_kid[1]);
    char old_tok[ROSTER_JWT_MAX_LEN + 1];
    size_t old_len;
    sign(old_tok, &old_len, local[0]);

    store *s[2] = {open_store(), open_store()};
    ck_assert(store_signkeys_shared(s[0]));
    roster_signkeys *k[2];
    roster_err_detail d = {0};
    /* Not made by a reader (rosterctl offline): NOT_FOUND until then. */
    ck_assert_int_eq(store_signkeys_open(&k[0], s[0], dirs[0], false, now_s(), &d),
                     ROSTER_E_NOT_FOUND);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(store_signkeys_open(&k[i], s[i], dirs[i], true, now_s(), &d) == ROSTER_E_OK,
                      "%s", d.message);
    char kid[2][ROSTER_JWT_KID_LEN + 1];
    for (int i = 0; i < 2; i++)
        roster_signkeys_kid(kid[i], k[i]);
    ck_assert_str_eq(kid[0], local_kid[0]);
    ck_assert_str_eq(kid[1], local_kid[0]);
    /* The token signed before still verifies, on both. */
    ck_assert_int_eq(check(k[0], old_tok, old_len), ROSTER_E_OK);
    ck_assert_int_eq(check(k[1], old_tok, old_len), ROSTER_E_OK);
    /* Each verifies the other's. */
    char tok[2][ROSTER_JWT_MAX_LEN + 1];
    size_t len[2];
    for (int i = 0; i < 2; i++)
        sign(tok[i], &len[i], k[i]);
    ck_assert_int_eq(check(k[0], tok[1], len[1]), ROSTER_E_OK);
    ck_assert_int_eq(check(k[1], tok[0], len[0]), ROSTER_E_OK);

    /* Rotated through the second: the first does not know the new key
     * until it reads the keys again; then both sign with it and both
     * verify tokens of the old key. */
    char fresh[ROSTER_JWT_KID_LEN + 1], was[ROSTER_JWT_KID_LEN + 1];
    ck_assert_int_eq(store_signkeys_rotate(k[1], s[1], now_s(), fresh, was, &d), ROSTER_E_OK);
    ck_assert_str_eq(was, kid[0]);
    ck_assert_str_ne(fresh, kid[0]);
    char new_tok[ROSTER_JWT_MAX_LEN + 1];
    size_t new_len;
    sign(new_tok, &new_len, k[1]);
    ck_assert(!roster_signkeys_knows(k[0], fresh, now_s()));
    ck_assert_int_eq(check(k[0], new_tok, new_len), ROSTER_E_UNAUTHENTICATED);
    ck_assert_int_eq(store_signkeys_reload(k[0], s[0], now_s(), &d), ROSTER_E_OK);
    ck_assert(roster_signkeys_knows(k[0], fresh, now_s()));
    ck_assert_int_eq(check(k[0], new_tok, new_len), ROSTER_E_OK);
    for (int i = 0; i < 2; i++) {
        char cur[ROSTER_JWT_KID_LEN + 1];
        roster_signkeys_kid(cur, k[i]);
        ck_assert_str_eq(cur, fresh);
        ck_assert_int_eq(check(k[i], tok[0], len[0]), ROSTER_E_OK);
        ck_assert_int_eq(check(k[i], old_tok, old_len), ROSTER_E_OK);
    }
    /* The retired key verifies until a day and the reload time from now,
     * then no longer. */
    int64_t until = now_s() + ROSTER_JWT_MAX_LIFETIME_S + STORE_SIGNKEYS_RELOAD_S;
    ck_assert(roster_signkeys_knows(k[0], was, until - 2));
    ck_assert(!roster_signkeys_knows(k[0], was, until + 1));
    /* A set the store keeps cannot rotate its own files. */
    ck_assert_int_eq(roster_signkeys_rotate(k[0], now_s(), NULL, NULL, NULL),
                     ROSTER_E_FAILED_PRECONDITION);
    /* A rotation from a stale read is refused and nothing changes. */
    pgstore_signing before;
    ck_assert_int_eq(pgstore_signing_get(s[0]->pg, NULL, 0, now_s(), &before, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_signkeys_rotate(k[0], s[0], now_s(), NULL, NULL, &d), ROSTER_E_OK);
    char *pub, *np;
    size_t pub_len, np_len;
    char old_kid[ROSTER_JWT_KID_LEN + 1];
    ck_assert_int_eq(roster_signkeys_public_pem(&pub, &pub_len, old_kid, before.current,
                                                before.current_len, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(roster_signkeys_new_pem(&np, &np_len, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_signing_rotate(s[0]->pg, before.current, before.current_len, np,
                                            np_len, old_kid, pub, pub_len, until, now_s(), &d),
                     ROSTER_E_BUSY);
    roster_signkeys_pem_free(pub, pub_len);
    roster_signkeys_pem_free(np, np_len);
    pgstore_signing_clear(&before);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_meta WHERE key = 'signing_key'"), 1);
    ck_assert_int_eq(
        pgfx_sql("SELECT count(*) FROM roster_meta WHERE key LIKE 'signing\\_retired\\_%'"), 2);
    for (int i = 0; i < 2; i++) {
        roster_signkeys_free(k[i]);
        roster_signkeys_free(local[i]);
        store_close(s[i]);
    }
}
END_TEST

/* Processes starting at once on a new database, each with a key of its
 * own in its data directory: all of them end up with the same one. */
START_TEST(first_start_race_has_one_winner)
{
    enum { N = 6 };
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    store *warm = open_store(); /* the schema first: the race is the keys' */
    store_close(warm);
    for (int i = 0; i < N; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char dir[96];
            snprintf(dir, sizeof dir, "%s/p%d", dirs[0], i);
            mkdir(dir, 0700);
            roster_signkeys *local, *k;
            char kid[ROSTER_JWT_KID_LEN + 2];
            if (roster_signkeys_open(&local, dir, true, now_s(), NULL) != ROSTER_E_OK)
                _exit(2);
            store *s = open_store();
            if (store_signkeys_open(&k, s, dir, true, now_s(), NULL) != ROSTER_E_OK)
                _exit(3);
            roster_signkeys_kid(kid, k);
            kid[ROSTER_JWT_KID_LEN] = '\n';
            if (write(fds[1], kid, ROSTER_JWT_KID_LEN + 1) != ROSTER_JWT_KID_LEN + 1)
                _exit(4);
            _exit(0);
        }
    }
    close(fds[1]);
    for (int i = 0; i < N; i++) {
        int status;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    }
    char all[N * (ROSTER_JWT_KID_LEN + 1) + 1];
    size_t got = 0;
    ssize_t n;
    while ((n = read(fds[0], all + got, sizeof all - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    ck_assert_uint_eq(got, (size_t)N * (ROSTER_JWT_KID_LEN + 1));
    for (int i = 1; i < N; i++)
        ck_assert(memcmp(all, all + i * (ROSTER_JWT_KID_LEN + 1), ROSTER_JWT_KID_LEN) == 0);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_meta WHERE key = 'signing_key'"), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_signing");
    TCase *tc = tcase_create("signing");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, two_stores_share_the_keys);
    tcase_add_test(tc, first_start_race_has_one_winner);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
