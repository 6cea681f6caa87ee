/* The open-pipe count of the RPC clients, fed the event orders nng 1.5.2
 * produces (in step, removed before added, removed without being added),
 * and their detection of a silent connection. */
#include "pipe_set.h"

#include <check.h>
#include <stdlib.h>

START_TEST(in_step)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 1, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 2, 0), 2);
    ck_assert_uint_eq(roster_pipe_set_removed(&s, 1, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_count(&s), 1);
    ck_assert_uint_eq(roster_pipe_set_removed(&s, 2, 0), 0);
    /* An event repeated changes nothing. */
    ck_assert_uint_eq(roster_pipe_set_added(&s, 3, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 3, 0), 1);
    roster_pipe_set_fini(&s);
}
END_TEST

START_TEST(removed_before_added)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 1, 0), 1);
    /* Pipe 2 closed while being started: REM_POST first, ADD_POST late. */
    ck_assert_uint_eq(roster_pipe_set_removed(&s, 2, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 2, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_count(&s), 1);
    /* A later pipe with a new id counts as usual. */
    ck_assert_uint_eq(roster_pipe_set_added(&s, 3, 0), 2);
    roster_pipe_set_fini(&s);
}
END_TEST

START_TEST(removed_never_added)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    ck_assert_uint_eq(roster_pipe_set_added(&s, 10, 0), 1);
    /* Many pipes given up after ADD_PRE: REM_POST only. The one open pipe
     * is still counted (a plain counter would say -99 + 1). */
    for (uint32_t id = 11; id < 110; id++)
        ck_assert_uint_eq(roster_pipe_set_removed(&s, id, 0), 1);
    ck_assert_uint_eq(roster_pipe_set_count(&s), 1);
    ck_assert_uint_eq(roster_pipe_set_removed(&s, 10, 0), 0);
    roster_pipe_set_fini(&s);
}
END_TEST

START_TEST(bounded)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    for (uint32_t id = 1; id <= ROSTER_PIPE_SET_LIVE + 10; id++)
        roster_pipe_set_added(&s, id, 0);
    ck_assert_uint_eq(roster_pipe_set_count(&s), ROSTER_PIPE_SET_LIVE);
    for (uint32_t id = 1; id <= ROSTER_PIPE_SET_LIVE; id++)
        roster_pipe_set_removed(&s, id, 0);
    ck_assert_uint_eq(roster_pipe_set_count(&s), 0);
    /* Id 0 (no pipe) is never counted. */
    ck_assert_uint_eq(roster_pipe_set_added(&s, 0, 0), 0);
    roster_pipe_set_fini(&s);
}
END_TEST

/* The silence the set waits for, in the times below. */
#define S ROSTER_PIPE_SET_SILENCE_MS

START_TEST(silent_after_two_unanswered)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    uint32_t out[4];
    roster_pipe_set_added(&s, 7, 100);
    roster_pipe_set_replied(&s, 200);
    /* Sent at 300, no reply by 800: one strike is not enough. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 300, 800, out, 4), 0);
    /* A second one, but the two span less than the silence: still none. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 900, 300 + S - 1, out, 4), 0);
    /* A third, the silence after the first went out: pipe 7 is silent. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 1300, 300 + S, out, 4), 1);
    ck_assert_uint_eq(out[0], 7);
    /* The strikes start again. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 400 + S, 500 + 2 * S, out, 4), 0);
    roster_pipe_set_fini(&s);
}
END_TEST

START_TEST(reply_clears_strikes)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    uint32_t out[4];
    roster_pipe_set_added(&s, 7, 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 100, 200 + S, out, 4), 0);
    /* Any reply in between shows the connection alive... */
    roster_pipe_set_replied(&s, 300 + S);
    /* ...and a call sent before it was merely slow. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 250 + S, 400 + 2 * S, out, 4), 0);
    /* Silence counts from the first call unanswered after it. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 400 + S, 500 + S, out, 4), 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 600 + S, 399 + 2 * S, out, 4), 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 700 + S, 400 + 2 * S, out, 4), 1);
    roster_pipe_set_fini(&s);
}
END_TEST

START_TEST(only_pipes_that_took_the_calls)
{
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    uint32_t out[4];
    roster_pipe_set_added(&s, 1, 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 100, 600, out, 4), 0);
    /* Pipe 2 came after the first unanswered call went out: not named. */
    roster_pipe_set_added(&s, 2, 700);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 650, 100 + S, out, 4), 1);
    ck_assert_uint_eq(out[0], 1);
    /* Later calls: pipe 2, open before them, is named too unless it has
     * gone meanwhile. */
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 200 + S, 300 + S, out, 4), 0);
    roster_pipe_set_removed(&s, 2, 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, 300 + S, 200 + 2 * S, out, 4), 1);
    ck_assert_uint_eq(out[0], 1);
    roster_pipe_set_fini(&s);
}
END_TEST

/* When to replace the dialer: after REDIAL_MS without a working
 * connection (the last pipe removed, or pipes named silent), then once
 * per REDIAL_MS; never while a pipe is open, and never before one was
 * lost. */
START_TEST(redial_when_lost_too_long)
{
    enum { R = ROSTER_PIPE_SET_REDIAL_MS };
    roster_pipe_set s;
    roster_pipe_set_init(&s);
    ck_assert(!roster_pipe_set_redial_due(&s, 10 * R)); /* never connected: the dialer dials */
    roster_pipe_set_added(&s, 1, 0);
    roster_pipe_set_added(&s, 2, 0);
    roster_pipe_set_removed(&s, 1, 100);
    ck_assert(!roster_pipe_set_redial_due(&s, 100 + 10 * R)); /* pipe 2 is still open */
    roster_pipe_set_removed(&s, 2, 1000);
    ck_assert(!roster_pipe_set_redial_due(&s, 1000 + R - 1));
    ck_assert(roster_pipe_set_redial_due(&s, 1000 + R));
    ck_assert(!roster_pipe_set_redial_due(&s, 1000 + 2 * R - 1));
    ck_assert(roster_pipe_set_redial_due(&s, 1000 + 2 * R));
    /* A new pipe ends it. */
    roster_pipe_set_added(&s, 3, 1000 + 2 * R);
    ck_assert(!roster_pipe_set_redial_due(&s, 1000 + 10 * R));

    /* Pipes named silent count as lost from when they are named, even
     * before their removal is seen (it may never be). */
    uint32_t out[4];
    int64_t t = 1000 + 10 * R;
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, t, t + 1, out, 4), 0);
    ck_assert_uint_eq(roster_pipe_set_unanswered(&s, t + 2, t + S, out, 4), 1);
    ck_assert_uint_eq(roster_pipe_set_count(&s), 1);
    ck_assert(!roster_pipe_set_redial_due(&s, t + S + R - 1));
    ck_assert(roster_pipe_set_redial_due(&s, t + S + R));
    roster_pipe_set_fini(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("roster_pipe_set");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, in_step);
    tcase_add_test(tc, redial_when_lost_too_long);
    tcase_add_test(tc, removed_before_added);
    tcase_add_test(tc, removed_never_added);
    tcase_add_test(tc, bounded);
    tcase_add_test(tc, silent_after_two_unanswered);
    tcase_add_test(tc, reply_clears_strikes);
    tcase_add_test(tc, only_pipes_that_took_the_calls);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
