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
    /* customData indexes (pg_custom.c), as store_options: with
     * declare_custom_index, custom_index holds the declared "path:type"
     * specs (borrowed for the call) and the open makes the database's
     * recorded set this one (new ones recorded as building, built by
     * pgstore_build_step; undeclared ones dropped with their entries).
     * Without it the recorded set is used as it is. Every writer keeps
     * the recorded set's entries whatever it declared; processes on one
     * database should declare the same set (the last one started sets
     * it). ListUsers answers conditions and orders on a ready index from
     * it (pg_query.c), and on a building one from the rows, with the
     * LMDB store's validation, errors, matching, totals and cursors. */
    const char *const *custom_index;
    size_t n_custom_index;
    bool declare_custom_index;
    /* Answer customData conditions from the rows rather than the indexes
     * (store_options.custom_index_scan: benchmarks comparing the two). */
    bool custom_index_scan;
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

/* As store_load_mark: the mark is a roster_meta row, and pgstore_open
 * refuses a database that holds it (FAILED_PRECONDITION). Each write
 * group of a load commits durably on its own, so no flush is needed. */
int pgstore_load_mark(pgstore *p, bool loading);

int pgstore_read_begin(pgstore *p, pgstore_rtxn **out);
void pgstore_read_end(pgstore_rtxn *r);

/* A read without a transaction of its own: each statement runs alone
 * (autocommit) on a snapshot of its own, which saves BEGIN and COMMIT, two
 * round trips. For a read of one statement, or of statements that need no
 * common snapshot (checking a key, then its user). What needs a
 * transaction (a walk's cursor, the limits' statement timeout) opens one
 * first. */
int pgstore_read_begin_single(pgstore *p, pgstore_rtxn **out);

/* pgstore_read_begin and pgstore_read_set_limits in one round trip (the
 * statement timeout sent with BEGIN). */
int pgstore_read_begin_limited(pgstore *p, pgstore_rtxn **out, int64_t deadline_ns,
                               const _Atomic int64_t *stop_ns);

/* As store_read_set_limits: list walks check the deadline and the stop
 * time between batches of rows, and every later statement of r is also
 * cut at the deadline (statement_timeout). */
void pgstore_read_set_limits(pgstore_rtxn *r, int64_t deadline_ns, const _Atomic int64_t *stop_ns);

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
 * conditions and orders may name the paths of the store's set
 * (pgstore_options.custom_index: declared, or recorded); others are
 * refused as undeclared. The items' bytes live in `arena`. */
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

/* ------------------------------------------------------------ tenants
 * Tenants are rows of roster_tenants; the default mark is a column a
 * unique partial index keeps on one row, and a group changing it holds
 * an advisory lock until it ends, so concurrent groups take turns. */

/* As store_tenant_create: the previous default, if any, loses its mark
 * (its updatedAt moves to now) in the same operation. */
int pgstore_tenant_create(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__CreateTenantRequest *req, roster_arena *arena,
                          Roster__V1__Tenant **out, roster_err_detail *detail);

/* As store_tenant_update. The tenant is locked for the rest of the
 * group: groups adding users or keys to it go on, unless req renames it
 * (its name_key changes, a column of a unique index, which PostgreSQL
 * locks FOR UPDATE): then they wait for the renaming group to end, and
 * it for those already under way. */
int pgstore_tenant_update(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__UpdateTenantRequest *req, roster_arena *arena,
                          Roster__V1__Tenant **out, roster_err_detail *detail);

/* As store_tenant_restore. */
int pgstore_tenant_restore(pgstore_wtxn *w, const Roster__V1__Tenant *tenant,
                           roster_err_detail *detail);

/* As store_tenant_delete: refused while users (from the counter or a row
 * naming it), the default mark or an API key that is not revoked name
 * it. The tenant is locked (FOR UPDATE) first, so a group still adding a
 * user or key to it finishes before the checks read. */
int pgstore_tenant_delete(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__DeleteTenantRequest *req, roster_arena *arena,
                          Roster__V1__DeleteTenantResponse **out, roster_err_detail *detail);

/* As store_tenant_get. */
int pgstore_tenant_get(pgstore_rtxn *r, const roster_uuid *scope,
                       const Roster__V1__GetTenantRequest *req, roster_arena *arena,
                       Roster__V1__Tenant **out, roster_err_detail *detail);

/* As store_tenant_batch_get (one statement for every id). */
int pgstore_tenant_batch_get(pgstore_rtxn *r, const roster_uuid *scope,
                             const Roster__V1__BatchGetTenantsRequest *req, roster_arena *arena,
                             Roster__V1__BatchGetTenantsResponse **out, roster_err_detail *detail);

/* As store_tenant_list: the same pages, totals and cursors (the name
 * order is name_key's, key_tenant_name's bytes). */
int pgstore_tenant_list(pgstore_rtxn *r, const roster_uuid *scope,
                        const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                        Roster__V1__ListTenantsResponse **out, roster_err_detail *detail);

/* As store_tenant_user_count, from roster_counts. */
int pgstore_tenant_user_count(pgstore_rtxn *r, const roster_uuid *tenant, int64_t *out);

/* ------------------------------------------------------------ API keys
 * Rows of roster_keys: the record (hashes included) and the tenant a
 * writer or reader key names. A key being changed is locked (FOR UPDATE)
 * for the rest of its group. */

/* As store_key_create. */
int pgstore_key_create(pgstore_wtxn *w, const Roster__V1__CreateKeyRequest *req,
                       roster_arena *arena, Roster__V1__KeySecret **out, roster_err_detail *detail);

/* As store_key_revoke. */
int pgstore_key_revoke(pgstore_wtxn *w, const Roster__V1__RevokeKeyRequest *req,
                       roster_arena *arena, Roster__V1__ApiKey **out, roster_err_detail *detail);

/* As store_key_rotate. */
int pgstore_key_rotate(pgstore_wtxn *w, const Roster__V1__RotateKeyRequest *req,
                       roster_arena *arena, Roster__V1__KeySecret **out, roster_err_detail *detail);

/* As store_key_restore. */
int pgstore_key_restore(pgstore_wtxn *w, const Roster__V1__ApiKey *key, roster_err_detail *detail);

/* As store_key_touch. */
int pgstore_key_touch(pgstore_wtxn *w, const roster_uuid *id, int64_t when);

/* As store_key_get. */
int pgstore_key_get(pgstore_rtxn *r, const Roster__V1__GetKeyRequest *req, roster_arena *arena,
                    Roster__V1__ApiKey **out, roster_err_detail *detail);

/* As store_key_list. */
int pgstore_key_list(pgstore_rtxn *r, const Roster__V1__ListKeysRequest *req, roster_arena *arena,
                     Roster__V1__ListKeysResponse **out, roster_err_detail *detail);

/* As store_key_count. */
int pgstore_key_count(pgstore_rtxn *r, uint64_t *out);

/* As store_key_authenticate. */
int pgstore_key_authenticate(pgstore_rtxn *r, const char *text, size_t len, int64_t now,
                             store_principal *out, roster_err_detail *detail);

/* As store_key_principal. */
int pgstore_key_principal(pgstore_rtxn *r, const roster_uuid *id, int64_t now, store_principal *out,
                          roster_err_detail *detail);

/* ------------------------------------------------------------ operations */

/* As store_stat: users from the counters, tenants, the database's size
 * as used_bytes, and each roster_ table and index as a "database" (rows,
 * estimated for indexes, and 8 KiB pages as leaf_pages). */
int pgstore_stat(pgstore_rtxn *r, store_stats *out);

/* As store_verify: every record decodes and holds its row's id, every
 * derived column (tenant, scope, flags, unique and sort keys, the
 * tenant's name key and default mark) agrees with the record, API keys
 * decode, the counters agree with the records, and the change feed holds
 * together (pg_internal.h, pg_changes_verify: every event decodes under
 * its seq, (floor, latest] without holes, the derived columns agree with
 * the events, no personal data left of a deleted user), and every ready
 * customData index's entries against the records. Uniqueness and the
 * users' tenants are enforced by PostgreSQL's constraints. */
int pgstore_verify(pgstore_rtxn *r, store_issue_fn fn, void *ctx, uint64_t *out_issues);

/* The online build of the customData indexes this process declared that
 * are recorded as building, as store_index_build_* (store.h): each step
 * is one transaction over at most max_users users by id, holding them
 * FOR SHARE (their writers wait for the step); the last marks the index
 * ready. *out is NULL when there is nothing to build (and for a store
 * opened without declaring, or read-only). */
typedef struct pgstore_build pgstore_build;
int pgstore_build_new(pgstore_build **out, pgstore *p);
int pgstore_build_step(pgstore_build *b, size_t max_users, bool *done);
size_t pgstore_build_left(const pgstore_build *b);
void pgstore_build_free(pgstore_build *b);
int pgstore_verify_progress(pgstore_rtxn *r, store_issue_fn fn, void *ctx,
                            store_progress_fn progress, void *progress_ctx, uint64_t *out_issues);

/* Every tenant, user and key record in id order. */
int pgstore_each_tenant(pgstore_rtxn *r, store_each_fn fn, void *ctx);
int pgstore_each_user(pgstore_rtxn *r, store_each_fn fn, void *ctx);
int pgstore_each_key(pgstore_rtxn *r, store_each_fn fn, void *ctx);

/* ------------------------------------------------------------ signing keys
 * The keys that sign access tokens, kept in roster_meta so that every
 * process on the database signs and verifies with the same ones (an LMDB
 * store's are files in its data directory, src/auth/signkeys.h):
 *   signing_key                        the current private key (PEM)
 *   signing_retired_<until>_<kid>      a retired public key (PEM) that
 *                                      verifies until Unix second <until>
 *                                      (20 digits, so the keys sort by it)
 * The store keeps the text and does not parse it (store/signing.h does). */

/* Retired keys pgstore_signing_get returns at most (the latest to end). */
#define PGSTORE_SIGNING_MAX_RETIRED 8

/* The keys as stored; every pointer caller-owned (pgstore_signing_clear). */
typedef struct pgstore_signing {
    char *current;
    size_t current_len;
    struct {
        char *pem;
        size_t len;
        int64_t until;
    } retired[PGSTORE_SIGNING_MAX_RETIRED];
    size_t n_retired;
} pgstore_signing;

/* Reads the keys into *out, after making `init` (`init_len` bytes of PEM,
 * borrowed; NULL: none) the current key when the database has none: an
 * INSERT ... ON CONFLICT DO NOTHING, so of processes starting at once on
 * a new database one key wins and every one reads it. Retired keys whose
 * time is past now_s are left out. Errors: ROSTER_E_NOT_FOUND (no current
 * key and init NULL), ROSTER_E_PERMISSION_DENIED (init on a read_only
 * store), ROSTER_E_NOMEM, pg_conn_err's. */
int pgstore_signing_get(pgstore *p, const char *init, size_t init_len, int64_t now_s,
                        pgstore_signing *out, roster_err_detail *detail);

/* Frees what *s holds (wiping the private key) and zeroes it. */
void pgstore_signing_clear(pgstore_signing *s);

/* In one transaction: replaces the current key, if it is still `old`
 * (the text pgstore_signing_get read), with `fresh`; keeps `old_pub`
 * (old's public key, kid `old_kid`) verifying until Unix second `until`;
 * drops retired keys whose time is past now_s. All text borrowed.
 * ROSTER_E_BUSY, nothing changed, when the current key is no longer
 * `old` (another process rotated it first: read again and retry);
 * ROSTER_E_PERMISSION_DENIED for a read_only store; pg_conn_err's. */
int pgstore_signing_rotate(pgstore *p, const char *old, size_t old_len, const char *fresh,
                           size_t fresh_len, const char *old_kid, const char *old_pub,
                           size_t old_pub_len, int64_t until, int64_t now_s,
                           roster_err_detail *detail);

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
