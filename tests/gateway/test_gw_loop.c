/* The gateway's event loops (loop.c): work posted from other threads runs
 * on the loop it was posted to, in order, exactly once; posts made while
 * the loop is busy share one wake-up; turn hooks run on every iteration
 * with the loop's index; after gw_loops_stop posts run on the poster. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "loop.h"

#define POSTERS    4
#define PER_POSTER 5000

typedef struct work {
    gw_loop_item item;
    int poster;
    int seq;
    gw_loop *want; /* the loop it must run on (NULL: the poster's thread) */
} work;

static atomic_int ran, wrong_thread, out_of_order;
static int last_seq[2][POSTERS];

static void run_work(gw_loop_item *it)
{
    work *w = (work *)it;
    gw_loop *here = gw_loop_current();
    if (here != w->want)
        atomic_fetch_add(&wrong_thread, 1);
    if (here != NULL) {
        unsigned li = gw_loop_index(here);
        /* Only this loop's thread touches its row. */
        if (w->seq != last_seq[li][w->poster] + 1)
            atomic_fetch_add(&out_of_order, 1);
        last_seq[li][w->poster] = w->seq;
    }
    atomic_fetch_add(&ran, 1);
}

typedef struct poster {
    gw_loops *ls;
    gw_loop *loop;
    int id;
    work *items;
} poster;

static void *post_all(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < PER_POSTER; i++) {
        work *w = &p->items[i];
        w->item.fn = run_work;
        w->poster = p->id;
        w->seq = i + 1;
        w->want = p->loop;
        gw_loop_post(p->loop, &w->item);
    }
    return NULL;
}

/* Finds each loop's gw_loop by posting a probe that records it. */
static _Atomic(gw_loop *) found[2];
typedef struct probe {
    gw_loop_item item;
    unsigned index;
} probe;

static atomic_uint turns[2];
static int64_t count_turn(void *ud, unsigned index)
{
    (void)ud;
    ck_assert_uint_lt(index, 2);
    if (found[index] == NULL)
        found[index] = gw_loop_current();
    atomic_fetch_add(&turns[index], 1);
    return 50;
}

static void wait_for(atomic_int *v, int want)
{
    for (int i = 0; i < 2000 && atomic_load(v) < want; i++)
        usleep(1000);
}

START_TEST(posts_run_on_their_loop_in_order)
{
    gw_loops *ls = NULL;
    ck_assert_int_eq(gw_loops_new(&ls, 2), ROSTER_E_OK);
    ck_assert_uint_eq(gw_loops_count(ls), 2);
    ck_assert_int_eq(gw_loops_add_turn(ls, count_turn, NULL), ROSTER_E_OK);
    ck_assert_int_eq(gw_loops_start(ls), ROSTER_E_OK);
    for (int i = 0; i < 2000 && (found[0] == NULL || found[1] == NULL); i++)
        usleep(1000);
    ck_assert_ptr_nonnull(found[0]);
    ck_assert_ptr_nonnull(found[1]);
    ck_assert_ptr_ne(found[0], found[1]);
    ck_assert_ptr_null(gw_loop_current());

    uint64_t wakeups0 = gw_loop_inbox_wakeups(), items0 = gw_loop_inbox_items();
    poster ps[POSTERS];
    pthread_t t[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        ps[i] = (poster){.ls = ls, .loop = found[i % 2], .id = i};
        ps[i].items = calloc(PER_POSTER, sizeof(work));
        ck_assert_int_eq(pthread_create(&t[i], NULL, post_all, &ps[i]), 0);
    }
    for (int i = 0; i < POSTERS; i++)
        pthread_join(t[i], NULL);
    wait_for(&ran, POSTERS * PER_POSTER);
    ck_assert_int_eq(atomic_load(&ran), POSTERS * PER_POSTER);
    ck_assert_int_eq(atomic_load(&wrong_thread), 0);
    ck_assert_int_eq(atomic_load(&out_of_order), 0);
    uint64_t items = gw_loop_inbox_items() - items0;
    uint64_t wakeups = gw_loop_inbox_wakeups() - wakeups0;
    ck_assert_uint_eq(items, POSTERS * PER_POSTER);
    /* Posts that found the inbox busy rode on an earlier wake-up. */
    ck_assert_uint_lt(wakeups, items);
    ck_assert_uint_gt(atomic_load(&turns[0]), 0);
    ck_assert_uint_gt(atomic_load(&turns[1]), 0);

    /* Stopped: a post runs at once, on the posting thread. */
    gw_loops_stop(ls);
    work late = {.item.fn = run_work, .poster = 0, .seq = 0, .want = NULL};
    int before = atomic_load(&ran);
    gw_loop_post(found[0], &late.item);
    ck_assert_int_eq(atomic_load(&ran), before + 1);
    ck_assert_int_eq(atomic_load(&wrong_thread), 0);
    gw_loops_free(ls);
    for (int i = 0; i < POSTERS; i++)
        free(ps[i].items);
}
END_TEST

START_TEST(limits)
{
    gw_loops *ls = NULL;
    ck_assert_int_eq(gw_loops_new(&ls, 1), ROSTER_E_OK);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(gw_loops_add_turn(ls, count_turn, NULL), ROSTER_E_OK);
    ck_assert_int_eq(gw_loops_add_turn(ls, count_turn, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(gw_loops_add_turn(ls, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(gw_loops_watch(ls, 1, 0), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(gw_loops_watch(ls, 0, -1), ROSTER_E_IO);
    /* Never started: freeing is enough. */
    gw_loops_free(ls);
    gw_loops_free(NULL);
    ck_assert_int_eq(gw_loops_new(&ls, 0), ROSTER_E_OK);
    ck_assert_uint_ge(gw_loops_count(ls), 1);
    gw_loops_free(ls);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_loop");
    TCase *tc = tcase_create("loop");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, posts_run_on_their_loop_in_order);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
