/* The PostgreSQL store backend: users and tenants kept in PostgreSQL
 * (pg_schema.h has the tables) with the semantics of the LMDB store
 * (store.h): the same validation, records, uniqueness, scope, errors and
 * order. Each function here is the PostgreSQL side of the store.h
 * function of the same name after `pgstore_`, and its comment there holds
 * for it unless said otherwise here.
 *
 * Transactions: a read (pgstore_rtxn) is a READ ONLY REPEATABLE READ
 * transaction on a connection of the pool, a consistent snapshot like an
 * LMDB read. A write group (pgstore_wtxn) is one transaction; each
 * operation of the group runs inside a savepoint, so one that fails
 * leaves nothing behind and its neighbours are unaffected, as LMDB's
 * nested transactions do. Nothing assumes this process is the only
 * writer: uniqueness comes from unique indexes, a user's tenant from a
 * foreign key, and a user being changed is locked (SELECT ... FOR UPDATE)
 * for the rest of its group. Every write operation first locks the change
 * feed's counter (pg_internal.h), so write groups, across processes too,
 * run one after the other from their first operation to their commit, as
 * LMDB's single writer does: that is what numbers the feed in commit
 * order. A commit is acknowledged once PostgreSQL has made it durable
 * (synchronous_commit on).
 *
 * Threads: a pgstore may be shared by threads; a transaction belongs to
 * the thread that began it. Several transactions may be open at once, up
 * to the pool's size (then begin waits for one to end).
 *
 * Lost connections: an operation whose connection failed answers
 * ROSTER_E_UNAVAILABLE (and so does every later one of its group and the
 * group's commit); the connection is dropped when its transaction ends and
 * the next transaction connects again. */
#ifndef ROSTER_STORE_PG_STORE_H
#define ROSTER_STORE_PG_STORE_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pgstore pgstore;
typedef struct pgstore_rtxn pgstore_rtxn;
typedef struct pgstore_wtxn pgstore_wtxn;

/* Default number of connections of a store's pool. */
#define PGSTORE_DEFAULT_POOL 8

typedef struct pgstore_options {
    size_t pool_size; /* 0: PGSTORE_DEFAULT_POOL */
    /* Nothing is created, migrated or written (offline inspection); the
     * database must hold a store of this build's schema version. */
    bool read_only;
    /* The change feed, as store_options' fields of the same names: with
     * changes_off writes record no events (an `after` from before them
     * is then OUT_OF_RANGE); retention keeps at most changes_keep_events
     * events and none older than changes_keep_ms (0: the defaults,
     * STORE_CHANGES_UNLIMITED: that measure does not trim). Each process
     * applies its own when it commits. */
    bool changes_off;
    uint64_t changes_keep_events;
    uint64_t changes_keep_ms;
    /* Optional, caller-owned: the reason when pgstore_open fails. */
    roster_err_detail *detail;
} pgstore_options;

/* Whether `location` names a PostgreSQL database (starts with
 * "postgres://" or "postgresql://") rather than a data directory. */
bool pgstore_is_url(const char *location);

/* Connects to the database `url` names, creates or migrates its schema
 * (pg_schema.h) unless read_only, and makes the deployment's environment
 * id on first use. *out is caller-owned until pgstore_close. Errors:
 * ROSTER_E_UNAVAILABLE (cannot connect), ROSTER_E_INVALID_ARGUMENT
 * (malformed URL), ROSTER_E_VERSION (schema newer than this build, or
 * read_only and another version), ROSTER_E_NOT_FOUND (read_only and no
 * store in the database), ROSTER_E_NOMEM. */
int pgstore_open(pgstore **out, const char *url, const pgstore_options *opts);

/* Closes every connection. All transactions must have ended. Accepts
 * NULL. */
void pgstore_close(pgstore *p);

int pgstore_read_begin(pgstore *p, pgstore_rtxn **out);
void pgstore_read_end(pgstore_rtxn *r);

/* A write group. ROSTER_E_PERMISSION_DENIED for a read_only store. */
int pgstore_write_begin(pgstore *p, pgstore_wtxn **out);

/* Commits the group and frees w, whatever the result. Errors:
 * ROSTER_E_UNAVAILABLE (the connection failed: the group may or may not
 * have committed, as with any database a client loses mid-commit),
 * ROSTER_E_BUSY (a serialization failure: nothing committed), pg_conn_err's. */
int pgstore_write_commit(pgstore_wtxn *w);

/* Rolls the group back and frees w. Accepts NULL. */
void pgstore_write_abort(pgstore_wtxn *w);

/* The deployment's environment id (kept in roster_meta). */
int pgstore_environment_id(pgstore_rtxn *r, roster_uuid *out);

/* ------------------------------------------------------------ users */

int pgstore_user_create(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__CreateUserRequest *req, roster_arena *arena,
                        Roster__V1__User **out, roster_err_detail *detail);
int pgstore_user_update(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__UpdateUserRequest *req, roster_arena *arena,
                        Roster__V1__User **out, roster_err_detail *detail);
int pgstore_user_restore(pgstore_wtxn *w, const Roster__V1__User *user, roster_err_detail *detail);
int pgstore_user_delete(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__DeleteUserRequest *req, roster_arena *arena,
                        Roster__V1__DeleteUserResponse **out, roster_err_detail *detail);

/* *bytes is borrowed until pgstore_read_end. */
int pgstore_user_get_raw(pgstore_rtxn *r, const roster_uuid *scope, const char *id,
                         const void **bytes, size_t *len);
int pgstore_user_get(pgstore_rtxn *r, const roster_uuid *scope,
                     const Roster__V1__GetUserRequest *req, roster_arena *arena,
                     Roster__V1__User **out, roster_err_detail *detail);
int pgstore_user_batch_get(pgstore_rtxn *r, const roster_uuid *scope,
                           const Roster__V1__BatchGetUsersRequest *req, roster_arena *arena,
                           Roster__V1__BatchGetUsersResponse **out, roster_err_detail *detail);

/* A page of users, as store_user_list: the same validation, errors,
 * filters, search, order, paging, cursors and exact totals (pg_query.c
 * says which conditions PostgreSQL's indexes answer). customData
 * conditions and orders are refused as naming no declared index (this
 * store declares none yet). The items' bytes live in `arena`. */
int pgstore_user_list_raw(pgstore_rtxn *r, const roster_uuid *scope,
                          const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                          store_page *out, roster_err_detail *detail);
int pgstore_user_list(pgstore_rtxn *r, const roster_uuid *scope,
                      const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                      Roster__V1__ListUsersResponse **out, roster_err_detail *detail);

/* Users of `tenant` (NULL: without a tenant) that are not deactivated,
 * and all of them, from the counters. */
int pgstore_user_counts(pgstore_rtxn *r, const roster_uuid *tenant, int64_t *users,
                        int64_t *active);

/* ------------------------------------------------------------ change feed
 * As store.h's, with the same events, numbering, retention, scrub and
 * pages (change_event.h builds and pages them for both). Sequence numbers
 * grow in commit order with any number of processes writing the database
 * (pg_internal.h says how), so a reader resuming after seq N never misses
 * an event committed later. */

/* Events with seq > after: store_changes_list's semantics (limit,
 * max_bytes, scope with the reduced view of a user that left the
 * tenant, STORE_CHANGES_SCAN_MAX, OUT_OF_RANGE naming "after"). Items
 * are borrowed until pgstore_read_end or made in `arena`. */
int pgstore_changes_list(pgstore_rtxn *r, const roster_uuid *scope, uint64_t after, uint32_t limit,
                         size_t max_bytes, roster_arena *arena, store_changes_page *out,
                         roster_err_detail *detail);

/* Whether writes through p record events (false: changes_off). */
bool pgstore_changes_recording(const pgstore *p);

/* The oldest kept and the latest seq in the snapshot of r. */
int pgstore_changes_bounds(pgstore_rtxn *r, uint64_t *oldest_seq, uint64_t *latest_seq);

/* The seqs the operations of w appended so far: ROSTER_E_OK with [*first,
 * *last], ROSTER_E_NOT_FOUND when none. */
int pgstore_changes_pending(const pgstore_wtxn *w, uint64_t *first, uint64_t *last);

/* Trims at most `max` events that retention no longer keeps, in w (an
 * operation of its own: a failure leaves the group as it was); *trimmed
 * (may be NULL) says how many. */
int pgstore_changes_trim(pgstore_wtxn *w, unsigned max, unsigned *trimmed);

#endif
