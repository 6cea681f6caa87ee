/* Service counters: requests by method and status, latency percentiles
 * per method, commits and the writes they held. Lock-free (atomics);
 * safe from any thread. */
#ifndef ROSTER_USERS_STATS_H
#define ROSTER_USERS_STATS_H

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"
#include "rpc_method.h"

#include <stdint.h>

typedef struct users_stats users_stats;

/* On success *out is caller-owned until users_stats_free. */
int users_stats_new(users_stats **out);

/* Accepts NULL. */
void users_stats_free(users_stats *s);

/* One answered request: method (NULL = unknown method), gRPC status code,
 * time from receipt to reply. */
void users_stats_request(users_stats *s, const rpc_method *method, int code, int64_t ns);

/* One durable commit holding `writes` write requests. */
void users_stats_commit(users_stats *s, unsigned writes);

/* Milliseconds since users_stats_new. */
int64_t users_stats_uptime_ms(const users_stats *s);

/* Fills the method list, uptime, commits and committed_writes of `out`
 * (already initialised by the caller); everything added is allocated in
 * `arena`. Methods never called are left out. Errors: ROSTER_E_NOMEM. */
int users_stats_fill(Roster__V1__StatsResponse *out, const users_stats *s, roster_arena *arena);

#endif
