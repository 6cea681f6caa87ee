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
    bool scans_only;   /* only the scans, on the store a previous run left in dir */
    const char *only;  /* with scans_only: only the scans whose label holds this */
} bench_config;

/* Runs every phase, printing results to stdout. Returns ROSTER_E_OK or the
 * first store error. */
int bench_run(const bench_config *cfg);

/* Shared by the phases (bench.c). */
#include "store.h"

/* Opens cfg->dir with cfg's sync and map options (bulk_load as given);
 * *s is caller-owned until store_close. */
int open_store(const bench_config *cfg, bool bulk_load, store **s);

/* Inserts users numbered [from, from + n) (references and emails derive
 * from the number) into random tenants of tenants[cfg->tenants], `batch`
 * per write group (bulk: store_write_begin_bulk), timing them on one
 * line labelled with `mode`. */
int insert_users(const bench_config *cfg, store *s, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1],
                 size_t from, size_t n, size_t batch, bool bulk, const char *mode);

/* Times `reps` runs of one list request (req and scope borrowed); prints
 * one line with `label`. */
int time_list(store *s, const char *label, const roster_uuid *scope,
              const Roster__V1__ListUsersRequest *req, size_t reps, bool unpack);

/* What a scan is compared with (--scans-only): the CPU time of one bare
 * cursor walk over every record (raw_walk in bench.c) and the records it
 * visited. cpu_us 0: nothing to compare with. */
typedef struct scan_ref {
    double cpu_us;
    size_t records;
    const char *only; /* time only the scans whose label holds it; NULL: every one */
} scan_ref;

/* time_list's line for one pass alone first, labelled "(first pass)",
 * then for `reps` more: the first pass maps into the process the pages of
 * the store's map it has not touched yet (a page fault per 16 pages,
 * dearer on the 2-core VM of docs/bench than the query itself on a big
 * store), the later ones run on pages already mapped, as a running
 * service's are. With a reference (ref may be NULL), a third line gives
 * the later passes' CPU per million records and as a multiple of the
 * bare walk's; a scan whose label does not hold ref->only is skipped. */
int time_list_warm(store *s, const char *label, const roster_uuid *scope,
                   const Roster__V1__ListUsersRequest *req, size_t reps, const scan_ref *ref);

/* The customData phase (custom.c): builds indexes on the store in
 * cfg->dir (closed), times a write with one index, then customData
 * filters and orders through the indexes, by scan, and the built-in
 * field filter of the same selectivity. `next` is the number of the next
 * user to insert. */
int bench_custom(const bench_config *cfg, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1], size_t next);

/* The customData filters of bench_custom answered by reading every
 * record, alone, on the store in cfg->dir (closed) that a full run left
 * (its indexes declared again, as that run declared them); `tenant` is
 * the one-tenant query's. Compared with ref (may be NULL). */
int bench_custom_scans(const bench_config *cfg, const roster_uuid *tenant, const scan_ref *ref);

#endif
