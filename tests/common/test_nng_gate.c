#include "nng_gate.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

START_TEST(enter_until_closed)
{
    roster_nng_gate g;
    roster_nng_gate_init(&g);
    ck_assert(roster_nng_gate_enter(&g));
    roster_nng_gate_leave(&g);
    roster_nng_gate_close(&g);
    ck_assert(!roster_nng_gate_enter(&g));
    roster_nng_gate_close(&g); /* idempotent */
    roster_nng_gate_destroy(&g);
}
END_TEST

typedef struct inside {
    roster_nng_gate *g;
    atomic_bool left;
} inside;

static void *leave_later(void *arg)
{
    inside *in = arg;
    usleep(100000);
    atomic_store(&in->left, true);
    roster_nng_gate_leave(in->g);
    return NULL;
}

/* close waits for a thread inside, and refuses new entries meanwhile. */
START_TEST(close_waits_for_threads_inside)
{
    roster_nng_gate g;
    roster_nng_gate_init(&g);
    inside in = {.g = &g};
    ck_assert(roster_nng_gate_enter(&g));
    pthread_t t;
    pthread_create(&t, NULL, leave_later, &in);
    roster_nng_gate_close(&g);
    ck_assert(atomic_load(&in.left));
    ck_assert(!roster_nng_gate_enter(&g));
    pthread_join(t, NULL);
    roster_nng_gate_destroy(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nng_gate");
    TCase *tc = tcase_create("gate");
    tcase_add_test(tc, enter_until_closed);
    tcase_add_test(tc, close_waits_for_threads_inside);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
