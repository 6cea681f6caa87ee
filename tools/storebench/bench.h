/* The store benchmark: loads users into a store and times reads, lists
 * and scans, with bare mdb_get on the same keys as the reference. */
#ifndef ROSTER_STOREBENCH_BENCH_H
#define ROSTER_STOREBENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_config {
    const char *dir; /* existing, empty directory (caller-owned) */
    size_t users;
    size_t tenants;
    size_t batch;      /* users per write transaction */
    size_t gets;       /* lookups per get measurement */
    size_t pages;      /* repetitions per page measurement */
    size_t scans;      /* repetitions per full scan */
    bool durable;      /* synchronous commits (default) */
    size_t map_mib;    /* map size in MiB; 0: the store's default */
    bool cursors_only; /* of the list measurements, only the cursor paging ones */
} bench_config;

/* Runs every phase, printing results to stdout. Returns ROSTER_E_OK or the
 * first store error. */
int bench_run(const bench_config *cfg);

#endif
