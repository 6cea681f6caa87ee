#include "stats.h"

#include "clock.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Latency histogram: bucket b counts durations in
 * [2^(b/4 + 4)... ) microsecond-ish steps; 4 sub-buckets per power of two,
 * from 1 us to about 70 minutes. */
#define N_BUCKETS   128
#define N_CODES     ROSTER_STATUS__COUNT
#define N_METHODS   (RPC_METHOD__COUNT + 1) /* last: unknown method */
#define UNKNOWN_IDX RPC_METHOD__COUNT

typedef struct method_stats {
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t codes[N_CODES + 1]; /* by status; last: numbers outside the table */
    atomic_uint_fast64_t buckets[N_BUCKETS];
    atomic_uint_fast64_t max_us;
} method_stats;

struct users_stats {
    int64_t start_ms;
    method_stats m[N_METHODS];
    atomic_uint_fast64_t commits;
    atomic_uint_fast64_t committed_writes;
};

int users_stats_new(users_stats **out)
{
    users_stats *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    s->start_ms = roster_mono_ns() / 1000000;
    *out = s;
    return ROSTER_E_OK;
}

void users_stats_free(users_stats *s)
{
    free(s);
}

/* Bucket of a duration in microseconds: 4 per power of two. */
static unsigned bucket_of(uint64_t us)
{
    if (us < 4)
        return (unsigned)us;
    unsigned p = 63 - (unsigned)__builtin_clzll(us); /* us >= 4: p >= 2 */
    unsigned sub = (unsigned)((us >> (p - 2)) & 3);
    unsigned b = p * 4 + sub - 4;
    return b < N_BUCKETS ? b : N_BUCKETS - 1;
}

/* Upper bound (exclusive) of a bucket in microseconds. */
static uint64_t bucket_top(unsigned b)
{
    if (b < 4)
        return b + 1;
    unsigned p = (b + 4) / 4;
    unsigned sub = (b + 4) % 4;
    return ((uint64_t)(4 + sub + 1)) << (p - 2);
}

void users_stats_request(users_stats *s, const rpc_method *method, int code, int64_t ns)
{
    method_stats *m = &s->m[method ? (unsigned)method->id : UNKNOWN_IDX];
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
    unsigned ci = roster_status_valid(code) ? (unsigned)code : N_CODES;
    atomic_fetch_add_explicit(&m->codes[ci], 1, memory_order_relaxed);
    uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
    atomic_fetch_add_explicit(&m->buckets[bucket_of(us)], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&m->max_us, memory_order_relaxed);
    while (us > old && !atomic_compare_exchange_weak_explicit(
                           &m->max_us, &old, us, memory_order_relaxed, memory_order_relaxed)) {
    }
}

void users_stats_commit(users_stats *s, unsigned writes)
{
    atomic_fetch_add_explicit(&s->commits, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->committed_writes, writes, memory_order_relaxed);
}

int64_t users_stats_uptime_ms(const users_stats *s)
{
    return roster_mono_ns() / 1000000 - s->start_ms;
}

static int64_t percentile(const uint64_t *b, uint64_t total, double q, uint64_t max_us)
{
    uint64_t want = (uint64_t)(q * (double)total + 0.999999);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < N_BUCKETS; i++) {
        seen += b[i];
        if (seen >= want) {
            uint64_t top = bucket_top(i);
            return (int64_t)(top < max_us ? top : max_us);
        }
    }
    return (int64_t)max_us;
}

int users_stats_fill(Roster__V1__StatsResponse *out, const users_stats *cs, roster_arena *arena)
{
    users_stats *s = (users_stats *)cs;
    out->has_uptime_ms = 1;
    out->uptime_ms = users_stats_uptime_ms(s);
    out->has_commits = 1;
    out->commits = (int64_t)atomic_load(&s->commits);
    out->has_committed_writes = 1;
    out->committed_writes = (int64_t)atomic_load(&s->committed_writes);
    out->methods = roster_arena_alloc(arena, N_METHODS * sizeof *out->methods);
    if (out->methods == NULL)
        return ROSTER_E_NOMEM;
    out->n_methods = 0;
    for (unsigned i = 0; i < N_METHODS; i++) {
        method_stats *m = &s->m[i];
        uint64_t count = atomic_load(&m->count);
        if (count == 0)
            continue;
        Roster__V1__MethodStats *ms = roster_arena_alloc(arena, sizeof *ms);
        Roster__V1__StatusCount *sc = roster_arena_alloc(arena, (N_CODES + 1) * sizeof *sc);
        Roster__V1__StatusCount **scp = roster_arena_alloc(arena, (N_CODES + 1) * sizeof *scp);
        if (ms == NULL || sc == NULL || scp == NULL)
            return ROSTER_E_NOMEM;
        roster__v1__method_stats__init(ms);
        const rpc_method *meth = rpc_method_get((rpc_method_id)i);
        ms->method = (char *)(meth ? meth->short_name : "(unknown)");
        ms->has_count = 1;
        ms->count = (int64_t)count;
        ms->statuses = scp;
        for (unsigned c = 0; c <= N_CODES; c++) {
            uint64_t n = atomic_load(&m->codes[c]);
            if (n == 0)
                continue;
            roster__v1__status_count__init(&sc[c]);
            sc[c].has_code = sc[c].has_count = 1;
            sc[c].code = c < N_CODES ? (int32_t)c : ROSTER_STATUS_UNKNOWN;
            sc[c].count = (int64_t)n;
            scp[ms->n_statuses++] = &sc[c];
        }
        uint64_t b[N_BUCKETS], total = 0;
        for (unsigned k = 0; k < N_BUCKETS; k++) {
            b[k] = atomic_load(&m->buckets[k]);
            total += b[k];
        }
        uint64_t max_us = atomic_load(&m->max_us);
        ms->has_p50_us = ms->has_p90_us = ms->has_p99_us = ms->has_max_us = 1;
        ms->p50_us = percentile(b, total, 0.50, max_us);
        ms->p90_us = percentile(b, total, 0.90, max_us);
        ms->p99_us = percentile(b, total, 0.99, max_us);
        ms->max_us = (int64_t)max_us;
        out->methods[out->n_methods++] = ms;
    }
    return ROSTER_E_OK;
}
