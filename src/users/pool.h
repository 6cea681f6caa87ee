/* A small pool of threads for requests that may run long (list queries
 * that scan), so they never hold nng's I/O task threads: single-record
 * reads are answered where they arrive, lists are queued here. */
#ifndef ROSTER_USERS_POOL_H
#define ROSTER_USERS_POOL_H

#include "rpc_server.h"

typedef struct users_pool users_pool;

/* Runs one queued call; owns `call` and must answer it. `ctx` is the
 * pool's, `job` the submitter's (lives in the call's arena). */
typedef void (*users_pool_fn)(void *ctx, rpc_call *call, void *job);

/* Starts `threads` threads running fn(ctx, call, job) for each submitted
 * call. On success *out is caller-owned until users_pool_stop. */
int users_pool_start(users_pool **out, unsigned threads, users_pool_fn fn, void *ctx);

/* Queues `call` with `job`; the pool owns the call from here. */
void users_pool_submit(users_pool *p, rpc_call *call, void *job);

/* Runs everything queued, joins the threads and frees the pool. Accepts
 * NULL. */
void users_pool_stop(users_pool *p);

#endif
