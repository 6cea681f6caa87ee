/* The gateway's event loops: one thread each, every one owning the HTTP
 * connections it accepted and the work they start. Work finished on
 * another thread (an RPC reply on an nng thread) is handed back to the
 * loop that started it through the loop's inbox: the only lock on the
 * request path. A post wakes the loop only when its inbox was empty, so
 * replies that arrive while the loop is busy ride on one wake-up.
 *
 * One iteration: wait for a watched descriptor, the inbox's eventfd or
 * the nearest timeout; run every item in the inbox, oldest first; then
 * every turn hook in the order they were added (the HTTP server runs
 * libmicrohttpd's event processing, batchers send what the iteration
 * gathered). */
#ifndef ROSTER_GW_LOOP_H
#define ROSTER_GW_LOOP_H

#include <stdint.h>

typedef struct gw_loops gw_loops;
typedef struct gw_loop gw_loop;

/* A unit of handed-back work, embedded in the poster's own object (no
 * allocation by the loop). `fn` runs once, on the loop's thread, or on
 * the posting thread once the loops are stopped. */
typedef struct gw_loop_item gw_loop_item;
struct gw_loop_item {
    gw_loop_item *next; /* the inbox's */
    void (*fn)(gw_loop_item *it);
};

/* Called on loop `index`'s thread once per iteration, after the inbox ran.
 * Returns the longest the loop may now wait, in milliseconds (-1: no
 * limit of its own). */
typedef int64_t (*gw_loop_turn_fn)(void *ud, unsigned index);

/* `n` loops (0: one per CPU, at most 64), not yet running. ROSTER_E_OK
 * with *out owned by the caller until gw_loops_free, or ROSTER_E_NOMEM /
 * ROSTER_E_IO (no eventfd or epoll). */
int gw_loops_new(gw_loops **out, unsigned n);

/* How many loops there are. */
unsigned gw_loops_count(const gw_loops *ls);

/* Before gw_loops_start: loop `index` also wakes when `fd` (borrowed; the
 * caller closes it after gw_loops_stop) is readable. ROSTER_E_OK or
 * ROSTER_E_IO. */
int gw_loops_watch(gw_loops *ls, unsigned index, int fd);

/* Before gw_loops_start: every loop calls fn(ud, its index) each
 * iteration, after the hooks added earlier. At most 8 hooks.
 * ROSTER_E_OK or ROSTER_E_INVALID_ARGUMENT. */
int gw_loops_add_turn(gw_loops *ls, gw_loop_turn_fn fn, void *ud);

/* Starts the threads. ROSTER_E_OK or ROSTER_E_IO (the loops started are
 * stopped again). */
int gw_loops_start(gw_loops *ls);

/* Wakes and joins every thread after its current iteration; from then on
 * gw_loop_post runs items at once on the posting thread. Not from a loop.
 * Idempotent. */
void gw_loops_stop(gw_loops *ls);

/* Stops the loops if needed and frees them. Nothing may post any more.
 * Accepts NULL. */
void gw_loops_free(gw_loops *ls);

/* The loop running on the calling thread, or NULL on any other thread. */
gw_loop *gw_loop_current(void);

/* Its index in its gw_loops (0..count-1). */
unsigned gw_loop_index(const gw_loop *l);

/* Hands `it` to loop l: it->fn(it) runs on l's thread in post order (or
 * at once here when the loops are stopped). Any thread. */
void gw_loop_post(gw_loop *l, gw_loop_item *it);

/* Counters for the metrics: iterations woken by the inbox, and items run
 * from it, summed over every loop of the process. */
uint64_t gw_loop_inbox_wakeups(void);
uint64_t gw_loop_inbox_items(void);

#endif
