/* The RPC load driver: keeps N calls in flight against a URL for a fixed
 * time and measures completed round trips per second and latency. Modes:
 * GetUser and CreateUser through the client library, and a bare req0
 * echo (same request size as GetUser) for the reference. */
#ifndef ROSTER_RPCLOAD_LOAD_H
#define ROSTER_RPCLOAD_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum load_mode {
    LOAD_GET_USER,
    LOAD_CREATE_USER,
    LOAD_ECHO,
} load_mode;

typedef struct load_config {
    const char *url; /* borrowed for load_run */
    load_mode mode;
    unsigned inflight;      /* calls kept in flight, >= 1 */
    double seconds;         /* measured time */
    double warmup;          /* seconds run before measuring */
    unsigned seed_users;    /* GetUser: users created first and read at random */
    size_t req_bytes;       /* echo: request size; 0 = a GetUser envelope's size */
    uint32_t timeout_ms;    /* per call */
    const char *save_reply; /* get: file to write the probed reply to, or NULL */
    const char *fixed_id;   /* get: read only this id and create nothing, or NULL */
} load_config;

typedef struct load_result {
    uint64_t ok;     /* calls answered OK while measuring */
    uint64_t failed; /* calls that failed while measuring */
    double seconds;  /* measured wall time */
    double rate;     /* ok / seconds */
    double p50_us, p90_us, p99_us, max_us;
    size_t req_bytes;      /* size of one request message */
    size_t reply_bytes;    /* size of one reply message (probe) */
    int64_t commits;       /* CreateUser: durable commits during the run (Stats) */
    int64_t writes;        /* CreateUser: writes those commits held */
    char first_error[300]; /* first failure, "" when none */
} load_result;

/* Runs the load described by cfg (borrowed). On success *out holds the
 * measurements. Returns a ROSTER_E_* code; `detail` (may be NULL) says
 * what went wrong when setup fails (its message is "" when a failure has
 * no more to say than the code). */
int load_run(load_result *out, const load_config *cfg, roster_err_detail *detail);

#endif
