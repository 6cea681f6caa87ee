/* Internals shared by the modules of the PostgreSQL store (store/pg/). */
#ifndef ROSTER_STORE_PG_INTERNAL_H
#define ROSTER_STORE_PG_INTERNAL_H

#include "pg_conn.h"
#include "pg_pipe.h"

#include <pthread.h>
#include <stdatomic.h>
#include "pg_store.h"
#include "record.h"

#include "keys.h"
#include "record.h"
#include "store_internal.h"

/* Type OIDs of the parameters the store sends (binary format). */
#define PG_OID_BOOL  16
#define PG_OID_BYTEA 17
#define PG_OID_INT8  20
#define PG_OID_INT2  21
#define PG_OID_TEXT  25
#define PG_OID_UUID  2950

/* A customData declaration's text, "path:type", with its NUL. */
#define PG_DECL_MAX (STORE_CUSTOM_PATH_MAX + 10)

/* The declared set every writer keeps (pg_custom.c): immutable, shared by
 * the groups that hold a reference. */
typedef struct pg_kept_set pg_kept_set;

struct pgstore {
    pg_pool *pool;
    bool read_only;
    bool changes_off;     /* pgstore_options.changes_off */
    uint64_t keep_events; /* retention, STORE_CHANGES_UNLIMITED: none */
    uint64_t keep_ms;
    /* The customData indexes queries may name (pg_custom.c): the declared
     * paths (pgstore_options.custom_index) or, for a store opened without
     * declaring, the recorded ones; the set is fixed while open, each
     * slot's ready_txn is 0 once this process saw it ready, CDX_BUILDING
     * before. cdx_decl[i] is slot i's declaration text. */
    size_t n_cdx;
    cdx_def cdx[STORE_MAX_CUSTOM_INDEXES];
    char cdx_decl[STORE_MAX_CUSTOM_INDEXES][PG_DECL_MAX];
    bool cdx_declared; /* opened with declare_custom_index: builds them */
    bool cdx_scan;     /* pgstore_options.custom_index_scan */
    /* The recorded set as last read by a writer (NULL: not yet). */
    pthread_mutex_t kept_mu;
    pg_kept_set *kept;
};

struct pgstore_rtxn {
    pgstore *p;
    pg_conn *c;
    /* Results whose bytes were lent out (pgstore_user_get_raw): cleared
     * at pgstore_read_end. */
    PGresult **held;
    size_t n_held, cap_held;
    int64_t deadline_ns;            /* 0: none (pgstore_read_set_limits) */
    const _Atomic int64_t *stop_ns; /* NULL: never stopped */
    bool autocommit;                /* no transaction open (pgstore_read_begin_single) */
};

/* Opens r's transaction when it has none yet (at the begin of a read, and
 * for pgstore_read_begin_single before what needs one: a cursor, a
 * statement timeout): BEGIN and, when r has a deadline, the statement
 * timeout, queued (pg_pipe.h) to go with r's first statement. */
int pg_read_need_txn(pgstore_rtxn *r);

struct pgstore_wtxn {
    pgstore *p;
    pg_conn *c;
    int failed;   /* the connection failed: every later operation and the
                     commit answer this */
    bool in_op;   /* between pg_op_begin and pg_op_end */
    uint8_t *buf; /* scratch for packing records */
    size_t buf_cap;
    /* The change feed (pg_changes.c): the roster_feed counters as this
     * group left them, read (and the row locked) by the group's first
     * operation (ch_loaded); ch_start is ch_latest then. op_ch is their
     * state when the current operation began, restored if it fails. */
    struct pg_feed_state {
        bool loaded, dirty, hole;
        uint64_t latest, floor;
    } ch, op_ch;
    uint64_t ch_start;
    /* The oldest events (seq, at_ms) as read with the counters, for the
     * commit's retention check (pg_changes.c); NULL when none or used. */
    PGresult *trim_head;
    uint8_t *cbuf; /* scratch for packing events */
    size_t cbuf_cap;
    /* The customData declarations the group keeps entries of (a
     * reference; NULL until its first operation read the counters). */
    pg_kept_set *kept;
};

/* Begins one operation of group w (a savepoint, queued); the group's
 * failure if it has one. */
int pg_op_begin(pgstore_wtxn *w, roster_err_detail *detail);

/* Ends the operation with result err: what it queued is synced first
 * (a failure there, described in detail, becomes its result); then its
 * savepoint is released when ROSTER_E_OK, rolled back to otherwise (both
 * queued, sent with the group's next statements). Returns err, or the
 * failure ending it (the connection lost: the group fails). */
int pg_op_end(pgstore_wtxn *w, int err, roster_err_detail *detail);

/* The limits of r (pgstore_read_set_limits): DEADLINE_EXCEEDED past the
 * deadline, UNAVAILABLE once stopping, else OK. Walks check it between
 * batches of rows. */
int pg_read_check(pgstore_rtxn *r);

/* Runs `select` (with params) through a server-side cursor of r (opening
 * r's transaction when it has none) and calls row(ctx, res, i) for every
 * row, in batches of 1,000; stops at the first error row returns, or when
 * pg_read_check fails. The cursor's declaration goes with the first batch
 * and its CLOSE with r's next statement or its end. */
int pg_walk(pgstore_rtxn *r, const char *select, int n, const pg_param *params,
            int (*row)(void *ctx, PGresult *res, int i), void *ctx);

/* Rows a select likely to return few (a unique value's, or a short list
 * of ids) is first asked for, at most, by pg_select_rows. */
#define PG_SELECT_ROWS_MAX 1000

/* pg_walk for a select expected to return few rows: one statement (kept
 * prepared, pg_defer_cached) in r's transaction (opened when r has none),
 * no cursor to declare, fetch from and close. `select` must end in
 * "LIMIT <PG_SELECT_ROWS_MAX + 1>": when that many rows come back, row is
 * called for none of them and *too_many is set (the caller walks the
 * rows instead, in the same snapshot). */
int pg_select_rows(pgstore_rtxn *r, const char *select, int n, const pg_param *params,
                   int (*row)(void *ctx, PGresult *res, int i), void *ctx, bool *too_many);

/* Keeps res until r ends (its bytes are lent to the caller). */
int pg_hold(pgstore_rtxn *r, PGresult *res);

/* Grows w->buf to at least n bytes into *out. */
int pg_scratch(pgstore_wtxn *w, size_t n, uint8_t **out);

/* Adds d_users and d_active to the counters of scope (all zeros: no
 * tenant) in w's current operation: queued, its failure read at the
 * operation's sync. */
int pg_counter_add(pgstore_wtxn *w, const roster_uuid *scope, int64_t d_users, int64_t d_active);

/* The default tenant's id in w's transaction: ROSTER_E_NOT_FOUND when
 * none. */
int pg_default_tenant(pg_conn *c, roster_uuid *out, roster_err_detail *detail);

/* Whether tenant `id` exists (locked against a concurrent delete until
 * the group ends): NOT_FOUND naming "tenantId" when not. */
int pg_tenant_exists(pg_conn *c, const roster_uuid *id, roster_err_detail *detail);

/* ------------------------------------------------------------ customData
 * indexes, pg_custom.c. */

/* Reads the recorded declarations at open: with `declare` (roster-users)
 * the recorded set becomes p's declared set (new ones recorded as
 * building, undeclared ones dropped with their entries); otherwise p's
 * set is the recorded one. Slots end ready or building as recorded. */
int pg_custom_open(pgstore *p, bool declare, roster_err_detail *detail);

/* Frees what pg_custom_open and the writers left in p. */
void pg_custom_close(pgstore *p);

/* The set group w keeps, for declared-set generation gen (read with the
 * feed counters under their lock): the one shared in p when of that
 * generation, else read from the database. */
int pg_custom_group_begin(pgstore_wtxn *w, uint64_t gen, roster_err_detail *detail);

/* Drops w's reference to its set. */
void pg_custom_group_end(pgstore_wtxn *w);

/* Queues, in w's current operation, what keeps the entries and counters
 * of the user whose record becomes nv (old: the record it replaces, NULL
 * for a new user; nv NULL: the user is deleted, its entries going with
 * its row) in step: nothing when its values, scope and active flag are
 * unchanged. */
int pg_custom_put(pgstore_wtxn *w, const user_view *old, const user_view *nv);

/* The declaration text of slot d of p->cdx (borrowed from p). */
const char *pg_custom_decl(const pgstore *p, const cdx_def *d);

/* Queues on c the check that d is ready in the read's snapshot: *res
 * holds one row when it is, none when not (caller clears). */
int pg_custom_defer_ready(pg_conn *c, const pgstore *p, const cdx_def *d, PGresult **res);

/* Marks slot d not ready for this process (its check failed: dropped
 * by another process); logged once. */
void pg_custom_unready(pgstore *p, const cdx_def *d);

/* The derived columns of a roster_users row (pg_schema.h), from the
 * user's record: what its indexes order and compare by. */
typedef struct user_row {
    roster_uuid scope;
    uint8_t flags[2]; /* int2, big-endian: the LMDB entries' flags byte */
    uint8_t uniq[UNIQ__COUNT][KEY_MAX];
    size_t uniq_len[UNIQ__COUNT];
    uint8_t sort[SORT__COUNT][KEY_MAX];
    size_t sort_len[SORT__COUNT];
} user_row;

/* Fills *r from user v. */
void pg_user_row(user_row *r, const user_view *v);
/* ------------------------------------------------------------ change feed
 * pg_changes.c. Sequence numbers grow in commit order however many
 * processes write one database: every write operation first locks the
 * roster_feed row (pg_op_begin calls pg_changes_op_begin), which its
 * group then holds until it commits, so feed writers commit one after
 * the other and each reads the counter its predecessor committed. The
 * lock is the first one an operation takes, so it orders writers without
 * deadlocks against the row locks they take after it. An operation that
 * fails is rolled back to its savepoint, counter lock included, and its
 * seqs are given back (pg_changes_op_failed): a committed feed has no
 * holes.
 *
 * The hooks below are called inside an operation (between pg_op_begin
 * and pg_op_end): whatever refuses the operation later rolls its event
 * back with it. A hook that fails fails the operation. With the feed off
 * (pgstore_options.changes_off) they record nothing and only remember
 * that the group changed data unrecorded. */

/* Operation bookkeeping, called by pg_op_begin (inside the operation's
 * savepoint) and pg_op_end: the feed's state is saved, the counters read
 * and locked on the group's first operation; the state is restored when
 * the operation fails. */
int pg_changes_op_begin(pgstore_wtxn *w, roster_err_detail *detail);
void pg_changes_op_failed(pgstore_wtxn *w);

/* At group commit, before COMMIT: trims what retention allows (at most
 * what the group appended plus STORE_CHANGES_TRIM_EXTRA events) and
 * writes the counters (queued, to go with the COMMIT). */
int pg_changes_commit(pgstore_wtxn *w);

/* A user record is being written: `old` the stored record it replaces
 * (NULL for a create or restore), `nv` the view of the new encoding, `u`
 * the new record (all borrowed for the call). Appends USER_CREATED,
 * USER_UPDATED, USER_DEACTIVATED or USER_REACTIVATED with the fields that
 * changed. */
int pg_changes_append_user(pgstore_wtxn *w, const user_view *old, const user_view *nv,
                           const Roster__V1__User *u, roster_err_detail *detail);

/* User `id` of tenant `tenant` (NULL: none) is being deleted: erases the
 * personal fields of every earlier event of that user still in the feed
 * (with the feed off too) and appends USER_DELETED with the id and the
 * tenant only. Once per delete, in its operation. */
int pg_changes_append_user_deleted(pgstore_wtxn *w, const roster_uuid *id,
                                   const roster_uuid *tenant, roster_err_detail *detail);

/* A tenant record is being written: `old`/`old_len` the stored encoding
 * it replaces (NULL for a new tenant), `t` the new record and
 * `bytes`/`len` its encoding (borrowed for the call). Appends
 * TENANT_CREATED or TENANT_UPDATED with the fields that changed. For
 * every tenant write: create, update, restore, and the previous default
 * losing its mark. */
int pg_changes_append_tenant(pgstore_wtxn *w, const void *old, size_t old_len,
                             const Roster__V1__Tenant *t, const void *bytes, size_t len,
                             roster_err_detail *detail);

/* Tenant `id` is being deleted: appends TENANT_DELETED (the id). Users
 * deleted with it each need pg_changes_append_user_deleted. */
int pg_changes_append_tenant_deleted(pgstore_wtxn *w, const roster_uuid *id,
                                     roster_err_detail *detail);

/* One mismatch pg_changes_verify finds: `db` static, `id` may be NULL,
 * `message` valid during the call. */
typedef void (*pg_issue_fn)(void *ctx, store_issue_kind kind, const char *db, const roster_uuid *id,
                            const char *message);

/* Checks the feed in the snapshot of r, as changes.c's changes_verify
 * checks the LMDB feed: the roster_feed row (one, 0 <= floor <= latest);
 * every event decodes and holds its row's seq; none is past latest or at
 * or below the floor, and none of (floor, latest] is missing (the feed
 * has no holes); the columns derived from an event (user_id, tenant_id,
 * prev_tenant_id, at_ms) agree with it, user_id naming the user of every
 * user event that still holds personal data and no other; and no such
 * event names a user that no longer exists (a delete scrubs them).
 * Calls fn per mismatch. Returns ROSTER_E_OK when the check ran. */
int pg_changes_verify(pgstore_rtxn *r, pg_issue_fn fn, void *ctx);

/* Checks every ready customData index against the records: each user
 * has the entry of its value (in its scope) and no other. */
int pg_custom_verify(pgstore_rtxn *r, pg_issue_fn fn, void *ctx);

/* The statement that cuts every later statement of a transaction at
 * deadline_ns (roster_mono_ns; at least 1 ms from now), into out[cap]. */
void pg_timeout_sql(char *out, size_t cap, int64_t deadline_ns);

/* A big-endian int64 as PostgreSQL sends int8 in binary, and back. */
void pg_i64_put(uint8_t *buf, int64_t v);
int64_t pg_i64_get(const char *p);

#endif
