/* The open-pipe count of rpc_client, fed the event orders nng 1.5.2
 * produces: in step, removed before added, removed without being added. */
#include "rpc_pipe_set.h"

#include <check.h>
#include <stdlib.h>

START_TEST(in_step)
{
    rpc_pipe_set s;
    rpc_pipe_set_init(&s);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 1), 1);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 2), 2);
    ck_assert_uint_eq(rpc_pipe_set_removed(&s, 1), 1);
    ck_assert_uint_eq(rpc_pipe_set_count(&s), 1);
    ck_assert_uint_eq(rpc_pipe_set_removed(&s, 2), 0);
    /* An event repeated changes nothing. */
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 3), 1);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 3), 1);
    rpc_pipe_set_fini(&s);
}
END_TEST

START_TEST(removed_before_added)
{
    rpc_pipe_set s;
    rpc_pipe_set_init(&s);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 1), 1);
    /* Pipe 2 closed while being started: REM_POST first, ADD_POST late. */
    ck_assert_uint_eq(rpc_pipe_set_removed(&s, 2), 1);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 2), 1);
    ck_assert_uint_eq(rpc_pipe_set_count(&s), 1);
    /* A later pipe with a new id counts as usual. */
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 3), 2);
    rpc_pipe_set_fini(&s);
}
END_TEST

START_TEST(removed_never_added)
{
    rpc_pipe_set s;
    rpc_pipe_set_init(&s);
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 10), 1);
    /* Many pipes given up after ADD_PRE: REM_POST only. The one open pipe
     * is still counted (a plain counter would say -99 + 1). */
    for (uint32_t id = 11; id < 110; id++)
        ck_assert_uint_eq(rpc_pipe_set_removed(&s, id), 1);
    ck_assert_uint_eq(rpc_pipe_set_count(&s), 1);
    ck_assert_uint_eq(rpc_pipe_set_removed(&s, 10), 0);
    rpc_pipe_set_fini(&s);
}
END_TEST

START_TEST(bounded)
{
    rpc_pipe_set s;
    rpc_pipe_set_init(&s);
    for (uint32_t id = 1; id <= RPC_PIPE_SET_LIVE + 10; id++)
        rpc_pipe_set_added(&s, id);
    ck_assert_uint_eq(rpc_pipe_set_count(&s), RPC_PIPE_SET_LIVE);
    for (uint32_t id = 1; id <= RPC_PIPE_SET_LIVE; id++)
        rpc_pipe_set_removed(&s, id);
    ck_assert_uint_eq(rpc_pipe_set_count(&s), 0);
    /* Id 0 (no pipe) is never counted. */
    ck_assert_uint_eq(rpc_pipe_set_added(&s, 0), 0);
    rpc_pipe_set_fini(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc_pipe_set");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, in_step);
    tcase_add_test(tc, removed_before_added);
    tcase_add_test(tc, removed_never_added);
    tcase_add_test(tc, bounded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
