/* Service counters: by method and status, percentiles, commits. */
#include "stats.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static Roster__V1__MethodStats *find(Roster__V1__StatsResponse *r, const char *name)
{
    for (size_t i = 0; i < r->n_methods; i++)
        if (strcmp(r->methods[i]->method, name) == 0)
            return r->methods[i];
    return NULL;
}

START_TEST(counts_and_percentiles)
{
    users_stats *s = NULL;
    ck_assert_int_eq(users_stats_new(&s), ROSTER_E_OK);
    const rpc_method *get = rpc_method_get(RPC_GET_USER);
    /* 90 fast (10 us), 9 slower (1 ms), 1 slow (50 ms). */
    for (int i = 0; i < 90; i++)
        users_stats_request(s, get, 0, 10000);
    for (int i = 0; i < 9; i++)
        users_stats_request(s, get, 5, 1000000);
    users_stats_request(s, get, 4, 50000000);
    users_stats_request(s, NULL, 12, 5000);
    users_stats_commit(s, 7);
    users_stats_commit(s, 3);

    roster_arena a;
    roster_arena_init(&a, 0, 0);
    Roster__V1__StatsResponse r = ROSTER__V1__STATS_RESPONSE__INIT;
    ck_assert_int_eq(users_stats_fill(&r, s, &a), ROSTER_E_OK);
    ck_assert_int_eq(r.commits, 2);
    ck_assert_int_eq(r.committed_writes, 10);
    ck_assert_uint_eq(r.n_methods, 2);
    Roster__V1__MethodStats *m = find(&r, "GetUser");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->count, 100);
    ck_assert_uint_eq(m->n_statuses, 3);
    int64_t by_code[17] = {0};
    for (size_t i = 0; i < m->n_statuses; i++)
        by_code[m->statuses[i]->code] = m->statuses[i]->count;
    ck_assert_int_eq(by_code[0], 90);
    ck_assert_int_eq(by_code[5], 9);
    ck_assert_int_eq(by_code[4], 1);
    /* Percentiles are bucket upper bounds within 25% of the truth. */
    ck_assert_int_ge(m->p50_us, 10);
    ck_assert_int_le(m->p50_us, 13);
    ck_assert_int_ge(m->p99_us, 1000);
    ck_assert_int_le(m->p99_us, 1250);
    ck_assert_int_eq(m->max_us, 50000);
    ck_assert_int_le(m->p50_us, m->p90_us);
    ck_assert_int_le(m->p90_us, m->p99_us);
    ck_assert_int_le(m->p99_us, m->max_us);
    Roster__V1__MethodStats *u = find(&r, "(unknown)");
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(u->count, 1);
    ck_assert_int_eq(u->statuses[0]->code, 12);
    ck_assert_ptr_null(find(&r, "CreateUser"));
    ck_assert_int_ge(users_stats_uptime_ms(s), 0);
    /* The response packs. */
    ck_assert_uint_gt(roster__v1__stats_response__get_packed_size(&r), 0);
    roster_arena_free(&a);
    users_stats_free(s);
    users_stats_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("users_stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, counts_and_percentiles);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
