/* A small pool of threads for requests that may run long (list queries
 * that scan), so they never hold nng's I/O task threads: single-record
 * reads are answered where they arrive, lists are queued here.
 *
 * Shutdown is bounded: users_pool_close sets a drain end; calls still
 * queued then are answered UNAVAILABLE instead of run, and the running
 * ones see the drain end through users_pool_stop_ns (the store's scans
 * stop at it with UNAVAILABLE). */
#ifndef ROSTER_USERS_POOL_H
#define ROSTER_USERS_POOL_H

#include "rpc_server.h"

#include <stdatomic.h>
#include <stdint.h>

/* How long queued and running list work may still run once shutdown
 * begins. */
#define USERS_DRAIN_MS 500

typedef struct users_pool users_pool;

/* Runs one queued call; owns `call` and must answer it. `ctx` is the
 * pool's, `job` the submitter's (lives in the call's arena). */
typedef void (*users_pool_fn)(void *ctx, rpc_call *call, void *job);

/* Starts `threads` threads running fn(ctx, call, job) for each submitted
 * call. On success *out is caller-owned until users_pool_stop. */
int users_pool_start(users_pool **out, unsigned threads, users_pool_fn fn, void *ctx);

/* Queues `call` with `job`; the pool owns the call from here. After
 * users_pool_close the call is answered UNAVAILABLE at once. */
void users_pool_submit(users_pool *p, rpc_call *call, void *job);

/* Begins shutdown without waiting: calls still queued at drain_end_ns
 * (roster_mono_ns) are answered UNAVAILABLE instead of run, and
 * users_pool_stop_ns reads drain_end_ns from now on. Only the first call
 * counts. Accepts NULL. */
void users_pool_close(users_pool *p, int64_t drain_end_ns);

/* The drain end (roster_mono_ns), 0 until users_pool_close; static for
 * the pool's life. */
const _Atomic int64_t *users_pool_stop_ns(const users_pool *p);

/* Closes the pool (drain end USERS_DRAIN_MS from now unless closed
 * before), waits for its threads to finish what they run and answer what
 * is queued, joins them and frees the pool. Accepts NULL. */
void users_pool_stop(users_pool *p);

#endif
