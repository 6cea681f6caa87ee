/* The LMDB store: users, tenants, their indexes, uniqueness, paging and
 * counts. Knows nothing of nng or GraphQL; inputs and outputs are the
 * protobuf-c messages of proto/roster.proto.
 *
 * Threads: one store may be shared by many threads. Read transactions
 * (store_rtxn) belong to the thread that began them; any number may be open
 * at once. Exactly one write transaction (store_wtxn) exists at a time (a
 * second store_write_begin blocks until the first ends), and it belongs to
 * the thread that began it.
 *
 * Ids are UUIDv7 text on this API and 16 bytes in keys. Tenant scope: every
 * user/tenant function takes `const roster_uuid *scope`; NULL means an
 * unrestricted (admin) caller, otherwise the caller is bound to that tenant
 * and sees and changes only its users: anything outside reads as
 * ROSTER_E_NOT_FOUND, and creating or moving a user into another tenant is
 * ROSTER_E_PERMISSION_DENIED.
 *
 * Errors: functions return ROSTER_E_* codes (error.h). Bad input is
 * ROSTER_E_INVALID_ARGUMENT, a uniqueness violation ROSTER_E_ALREADY_EXISTS,
 * and `detail` (may be NULL) names the field with its GraphQL name ("email",
 * "reference", "tenantId", "limit", ...) and says what was wrong.
 * Out-parameters are written only on success.
 *
 * Memory: results that outlive a call are allocated in the caller's
 * roster_arena and stay valid until that arena is reset or freed.
 * "Borrowed" results point into LMDB's map and stay valid only until the
 * read transaction they came from ends. */
#ifndef ROSTER_STORE_H
#define ROSTER_STORE_H

#include <limits.h> /* INT_MAX, used by the generated roster.pb-c.h */

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"
#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The record/index layout this build reads and writes. Stored in the meta
 * database under STORE_META_VERSION_KEY as a 4-byte little-endian integer;
 * any other value is refused at open with ROSTER_E_VERSION, a version from
 * STORE_SCHEMA_OLDEST on with a message naming `rosterctl upgrade`
 * (store_upgrade). Version 1 kept a global and a per-tenant entry per
 * user in every sort index, one key per entry; version 2 keeps the
 * per-tenant ones only, duplicate-sorted; version 3 keeps the value of
 * the mostly distinct fields (email, phone, updatedAt) in each entry's
 * data instead of its key (store_internal.h). */
#define STORE_SCHEMA_VERSION   3
#define STORE_SCHEMA_OLDEST    1
#define STORE_META_DB          "meta"
#define STORE_META_VERSION_KEY "schema_version"

/* Default map size: 64 GiB on 64-bit hosts (a sparse reservation of
 * address space; the file only grows as data is written), 1 GiB on 32-bit
 * hosts. An existing environment keeps its larger size. */
#define STORE_DEFAULT_MAP_SIZE (sizeof(void *) >= 8 ? ((uint64_t)64 << 30) : ((uint64_t)1 << 30))

typedef struct store store;
typedef struct store_rtxn store_rtxn;
typedef struct store_wtxn store_wtxn;

typedef struct store_options {
    /* Map size in bytes; 0 picks STORE_DEFAULT_MAP_SIZE. An environment
     * whose map is already larger keeps its size; read-only opens use the
     * recorded size. */
    uint64_t map_size;
    /* Most concurrent read transactions; 0 picks 126. */
    unsigned max_readers;
    /* A PostgreSQL store: most connections it keeps; 0 picks
     * PGSTORE_DEFAULT_POOL. */
    unsigned pg_pool_size;
    /* Open read-only (MDB_RDONLY): nothing is created or modified; the
     * directory must already hold a store. Write functions then return
     * ROSTER_E_PERMISSION_DENIED. For offline inspection (rosterctl). */
    bool read_only;
    /* Commits are not flushed to disk (MDB_NOSYNC) until store_close: for
     * tests, benchmarks and bulk loads only (a crash loses the commits since
     * the last flush). Default false: every commit is durable. */
    bool no_sync;
    /* Bulk-load mode (MDB_WRITEMAP): write transactions modify the map in
     * place instead of copying pages, and every write group behaves as
     * store_write_begin_bulk (LMDB has no nested transactions with a
     * writable map). For offline loads and benchmarks, with no other
     * process using the directory; reopen without it for service. The
     * data file is sized to the map (sparse) while open, and store_close
     * truncates it to the pages in use. */
    bool bulk_load;
    /* The change feed (see "change feed" below). changes_off: writes
     * record no events (the store then answers every `after` from before
     * the first unrecorded write OUT_OF_RANGE, so no reader can miss
     * them silently). Retention: at most changes_keep_events events and
     * none older than changes_keep_ms; 0 picks the defaults
     * (STORE_CHANGES_DEFAULT_EVENTS, STORE_CHANGES_DEFAULT_MS),
     * STORE_CHANGES_UNLIMITED keeps that measure from trimming. */
    bool changes_off;
    uint64_t changes_keep_events;
    uint64_t changes_keep_ms;
    /* customData indexes (store/custom_index.h): when declare_custom_index
     * is set, custom_index holds the declared "path:type" specs (borrowed
     * for the call; see store_custom_index_parse) and the open reconciles
     * the store with them: undeclared indexes (or ones declared with
     * another type) are dropped, new ones are recorded as building and
     * store_open returns without building them (store_index_build_new).
     * Unset, the indexes recorded in the store are kept and maintained as
     * they are, building ones included (offline tools). */
    const char *const *custom_index;
    size_t n_custom_index;
    bool declare_custom_index;
    /* Global orders (with declare_custom_index, reconciled with the
     * recorded set as customData indexes are): built-in sortable fields
     * by GraphQL name ("lastName"; not createdAt, whose order the records
     * have), each kept as one more index over every tenant's users in the
     * field's order (store_global_order_parse), built online like a
     * customData index. An order by the field over every tenant then
     * walks it instead of merging every tenant's part of the field's sort
     * index. Ignored by the PostgreSQL store, whose sort indexes are
     * global already. */
    const char *const *global_order;
    size_t n_global_order;
    /* Answer customData conditions by reading every record rather than
     * through their indexes (for benchmarks comparing the two). */
    bool custom_index_scan;
    /* Optional, caller-owned: filled with the reason when store_open fails
     * (e.g. "store schema version 9 is not supported (this build reads
     * version 1)"). */
    roster_err_detail *detail;
} store_options;

/* customData indexes: at most this many declared paths, each at most
 * STORE_CUSTOM_PATH_MAX bytes of dot-separated names ([A-Za-z0-9_-]). */
#define STORE_MAX_CUSTOM_INDEXES 32
#define STORE_CUSTOM_PATH_MAX    128

typedef enum store_custom_type {
    STORE_CUSTOM_STRING = 1,
    STORE_CUSTOM_INTEGER,
    STORE_CUSTOM_NUMBER,
    STORE_CUSTOM_BOOLEAN,
    STORE_CUSTOM_DATE,
    STORE_CUSTOM_ORDER, /* a global order of a built-in field (store_options.global_order) */
} store_custom_type;

/* Parses a declaration "path:type" (type: string, integer, number,
 * boolean, date) into path (STORE_CUSTOM_PATH_MAX + 1 bytes) and *type.
 * INVALID_ARGUMENT with detail field "custom-index" naming what is wrong. */
int store_custom_index_parse(char *path, store_custom_type *type, const char *spec,
                             roster_err_detail *detail);

/* Checks a global order's field name (store_options.global_order): a
 * sortable built-in user field other than createdAt, copied into path
 * (STORE_CUSTOM_PATH_MAX + 1 bytes). INVALID_ARGUMENT with detail field
 * "global-order" naming what is wrong. */
int store_global_order_parse(char *path, const char *name, roster_err_detail *detail);

/* The name of a store_custom_type ("integer"); static. */
const char *store_custom_type_name(store_custom_type type);

/* Online build of the customData indexes recorded as building (declared
 * at this open, or left building by a run that stopped before its build
 * ended). While an index builds, every write keeps its entries as for a
 * complete index, queries naming its path read the records instead (same
 * answers, exact totals, slower) and store_verify skips it. A build runs
 * in steps, each one write transaction of at most max_users users (so a
 * writer of the same store waits at most that long), any number of them
 * concurrently with the store's readers and writers: for each building
 * index in turn, its leftover entries are deleted, then the users table is
 * walked in key order and the entries of each user's current record are
 * written; the last step of the walk records the index ready in the same
 * transaction, and queries use it from then on. Progress is logged
 * (event=custom_index_build path= users= entries= ms= after the first
 * walk step, then at most once a second, and event=custom_index_ready
 * path= users= entries= ms= at the end). A
 * build stopped between steps (store_index_build_free) leaves its indexes
 * recorded as building: the next build starts them again from the start.
 * One build per store at a time. */
typedef struct store_index_build store_index_build;

/* Starts a build of s's building indexes into *out (caller-owned, freed
 * with store_index_build_free before store_close; s borrowed for its
 * life); *out is NULL when no index is building (and for a read-only
 * store). ROSTER_E_NOMEM. */
int store_index_build_new(store_index_build **out, store *s);

/* Runs one step of b (max_users >= 1 users or leftover entries in one
 * write transaction); *done is true once every index of b is ready (no
 * step is then left). Errors are the store's (resource errors): the step's
 * transaction is rolled back and the build may be retried or dropped. */
int store_index_build_step(store_index_build *b, size_t max_users, bool *done);

/* The number of indexes b has left to make ready (0 when done). */
size_t store_index_build_left(const store_index_build *b);

/* Frees b (NULL is fine); a build not done stays recorded as building. */
void store_index_build_free(store_index_build *b);

/* A borrowed byte slice. */
typedef struct store_slice {
    const void *data;
    size_t len;
} store_slice;

/* ------------------------------------------------------------ environment */

/* Whether `location` names a PostgreSQL database (a postgres:// or
 * postgresql:// URL) rather than a data directory. */
bool store_is_postgres(const char *location);

/* Opens (creating when missing, unless read_only) the store in directory
 * `dir`, which must exist; or, when `dir` is a postgres:// URL, the
 * PostgreSQL store of that database (store/pg/pg_store.h: schema created
 * or migrated unless read_only; map_size, no_sync and bulk_load do not
 * apply). opts may be NULL for defaults. On success *out
 * is caller-owned until store_close. Errors: ROSTER_E_VERSION (unknown
 * schema version), ROSTER_E_NOT_FOUND (read_only and no store in dir),
 * ROSTER_E_CORRUPT (not a Roster store), ROSTER_E_IO, ROSTER_E_NOMEM. */
int store_open(store **out, const char *dir, const store_options *opts);

/* Flushes commits made with no_sync and closes the store. All
 * transactions must have ended. A bulk_load store's data file is then
 * truncated to the pages in use. Accepts NULL. */
void store_close(store *s);

/* Flushes every commit made so far to disk (mdb_env_sync, forced): the
 * data pages and the meta page that points at them. What no_sync and
 * bulk_load stores do before reporting their writes done. Returns
 * ROSTER_E_OK, or ROSTER_E_IO when the flush failed. */
int store_sync(store *s);

/* Unfinished loads. A load into an empty store may commit without
 * flushing (no_sync, bulk_load), and a crash then could leave any part of
 * its writes on disk, or pages the meta page points at never written.
 * store_load_mark(s, true) records in the store that a load is under way
 * and flushes that record before it returns; store_load_mark(s, false)
 * flushes every commit (store_sync), then removes the record and flushes
 * again. store_open refuses a store that holds the record
 * (ROSTER_E_FAILED_PRECONDITION, saying to remove the directory and load
 * again), so a load stopped halfway (killed, a crash, a power cut) is
 * never mistaken for a complete one. Errors: ROSTER_E_IO,
 * ROSTER_E_MAP_FULL, ROSTER_E_PERMISSION_DENIED (read-only). */
int store_load_mark(store *s, bool loading);

/* ------------------------------------------------------------ transactions */

/* Begins a read transaction: a consistent snapshot. *out is owned by the
 * caller until store_read_end, which also ends every borrowed pointer
 * obtained through it. */
int store_read_begin(store *s, store_rtxn **out);

/* Ends a read transaction. Accepts NULL. */
void store_read_end(store_rtxn *r);

/* Records a list query of r checks between records: every
 * STORE_CHECK_EVERY records an index walk or scan of store_user_list
 * compares the monotonic clock (roster_mono_ns) with deadline_ns (0: none)
 * and stops with ROSTER_E_DEADLINE_EXCEEDED past it, and with
 * ROSTER_E_UNAVAILABLE once *stop_ns (may be NULL; 0: not stopping) is
 * set and passed. stop_ns is borrowed until store_read_end. */
#define STORE_CHECK_EVERY 64
void store_read_set_limits(store_rtxn *r, int64_t deadline_ns, const _Atomic int64_t *stop_ns);

/* A read transaction for one lookup, or for lookups that need no common
 * snapshot: on PostgreSQL each statement runs alone, without BEGIN and
 * COMMIT (two round trips fewer); on LMDB store_read_begin. Ended by
 * store_read_end. */
int store_read_begin_single(store *s, store_rtxn **out);

/* store_read_begin then store_read_set_limits, which on PostgreSQL costs
 * one round trip fewer (the statement timeout goes with BEGIN). */
int store_read_begin_limited(store *s, store_rtxn **out, int64_t deadline_ns,
                             const _Atomic int64_t *stop_ns);

/* Whether store_user_list would answer req by reading the record of every
 * user of the store or of one tenant: the scan plan of docs/store.md, or
 * an index walk with conditions only records answer (which visits every
 * entry for the exact total), or customData conditions no index drives
 * (s, borrowed and may be NULL, tells which indexes are still building),
 * or an order by a customData path with conditions or whose index is
 * building; or (LMDB, s given) by merging every tenant's range of an
 * index when the latest such merge of s walked STORE_MERGE_SCAN_SCOPES
 * tenants or more. Such a query costs time in the number of users or of
 * tenants rather than the page. False for a request it refuses.
 * Temporary allocations live in `arena`. */
#define STORE_MERGE_SCAN_SCOPES 1000
bool store_user_list_scans(const store *s, const roster_uuid *scope,
                           const Roster__V1__ListUsersRequest *req, roster_arena *arena);

/* Begins the write transaction used for a group of write operations. Each
 * operation below runs in its own nested LMDB transaction: when one fails,
 * it leaves nothing behind and the others in the group are unaffected.
 * Operations see the effects of earlier operations of the same group
 * (uniqueness included). The sort-index entries of created users and the
 * counters are written by store_write_commit (sorted, once per group).
 * *out is owned by the caller until store_write_commit or
 * store_write_abort. */
int store_write_begin(store *s, store_wtxn **out);

/* Like store_write_begin, for bulk loads (rosterctl load, benchmarks):
 * operations write straight into the group's transaction instead of a
 * nested one, which is several times faster for large groups. Every check
 * that can refuse an operation (validation, uniqueness, referential
 * integrity, scope) runs before its first write, so a refused operation
 * still leaves nothing behind and its neighbours are unaffected; but a
 * resource failure in the middle of an operation (ROSTER_E_MAP_FULL,
 * ROSTER_E_NOMEM, ROSTER_E_RESOURCE_EXHAUSTED) fails the whole group:
 * later operations return that error and store_write_commit discards the
 * group. */
int store_write_begin_bulk(store *s, store_wtxn **out);

/* Commits the group durably (unless no_sync) and frees w, whatever the
 * result. On failure nothing of the group is stored. Errors:
 * ROSTER_E_MAP_FULL, ROSTER_E_IO, ROSTER_E_INTERNAL. */
int store_write_commit(store_wtxn *w);

/* Discards the group and frees w. Accepts NULL. */
void store_write_abort(store_wtxn *w);

/* ------------------------------------------------------------ users: writes
 * `out` may be NULL when the caller does not need the result; otherwise
 * *out is allocated in `arena`. */

/* Creates a user: new UUIDv7 id, createdAt = updatedAt = now, active
 * defaults to true, isOptedIn and twoFactorEnabled to false, tenantId to
 * the default tenant (if one is set, else none). A scoped caller creates in
 * its own tenant only (tenantId absent means the scope). Errors:
 * INVALID_ARGUMENT (validation), ALREADY_EXISTS ("reference" or "email"
 * already used in the tenant), NOT_FOUND ("tenantId" names no tenant),
 * PERMISSION_DENIED ("tenantId" outside the scope). */
int store_user_create(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__CreateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail);

/* What store_user_create checks of a request before it reads the store,
 * kept by store_user_create_check for store_user_create_checked. */
typedef struct store_user_checked {
    bool has_tenant;    /* req->tenant_id is given */
    roster_uuid tenant; /* the tenant it names (whether it exists is not checked) */
} store_user_checked;

/* store_user_create in two steps, so that a caller can run the first one
 * on another thread than its write group's: store_user_create_check makes
 * every check that needs no store (validation: INVALID_ARGUMENT) and
 * fills *out, touching nothing shared; store_user_create_checked does the
 * rest, for a request that store_user_create_check accepted into *chk and
 * that has not changed since. Together they do what store_user_create
 * does, in the same order, with the same errors. */
int store_user_create_check(store_user_checked *out, const Roster__V1__CreateUserRequest *req,
                            roster_err_detail *detail);
int store_user_create_checked(store_wtxn *w, const roster_uuid *scope,
                              const Roster__V1__CreateUserRequest *req,
                              const store_user_checked *chk, roster_arena *arena,
                              Roster__V1__User **out, roster_err_detail *detail);

/* A create without a scope worked out before its write group, so that a
 * caller can do that work on another thread: store_user_prepare makes,
 * from a request store_user_create_check accepted into *chk, the new
 * user's id and times (taken now), its record, encoding and view, for a
 * user without a tenant or with the one the request names; it touches no
 * store and nothing shared but the id generator, and allocates *out in
 * `arena` (which, like req, must outlive its use). Errors: NOMEM.
 * store_user_create_prepared then does, in w, what
 * store_user_create_checked(w, NULL, req, chk, ...) does after its
 * validation, with that record and the same errors, in the same order;
 * when the request names no tenant and the store has a default tenant,
 * the user is the default tenant's and the create is made afresh by
 * store_user_create_checked (a new id and time). req and chk must be the
 * ones the record was prepared from. */
typedef struct store_user_prepared store_user_prepared;
int store_user_prepare(store_user_prepared **out, const Roster__V1__CreateUserRequest *req,
                       const store_user_checked *chk, roster_arena *arena);
int store_user_create_prepared(store_wtxn *w, const store_user_prepared *p,
                               const Roster__V1__CreateUserRequest *req,
                               const store_user_checked *chk, roster_arena *arena,
                               Roster__V1__User **out, roster_err_detail *detail);

/* Partial update: fields present change, fields listed in req->clear
 * become null, everything else is kept; updatedAt is bumped. Email cannot
 * be cleared; a field both present and cleared is INVALID_ARGUMENT. Moving
 * a user to another tenant re-checks uniqueness there. NOT_FOUND when the
 * id names no user visible in the scope. */
int store_user_update(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__UpdateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail);

/* Stores a complete user record as given (id, createdAt and updatedAt
 * kept), for loading a dump. Validation, uniqueness and referential
 * integrity apply as for create; an existing id is ALREADY_EXISTS ("id").
 * The tenant must already exist (load tenants first). */
int store_user_restore(store_wtxn *w, const Roster__V1__User *user, roster_err_detail *detail);

/* Deletes the user req->id: its record, every index entry it owns
 * (idx_tenant, the unique reference and email entries, both entries of
 * every sort index) and its part of the counters (its tenant's and the
 * global users and not-deactivated counts), as one operation of the
 * group: nothing of it is visible before the group commits, and a failed
 * delete leaves the user whole. Its reference and email are free at once,
 * for later operations of the same group too. A scoped caller deletes
 * only users of its tenant. Errors: INVALID_ARGUMENT ("id" missing or not
 * a UUID), NOT_FOUND ("id": no such user visible in the scope, which is
 * also what deleting a deleted user answers). *out (may be NULL) holds the
 * deleted id in canonical form, in `arena`. */
int store_user_delete(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__DeleteUserRequest *req, roster_arena *arena,
                      Roster__V1__DeleteUserResponse **out, roster_err_detail *detail);

/* ------------------------------------------------------------ users: reads */

/* The stored protobuf encoding of the roster.v1.User with text id `id`
 * (NUL-terminated), borrowed from LMDB until store_read_end. Errors:
 * INVALID_ARGUMENT ("id" is not a UUID), NOT_FOUND (no such user in the
 * scope). */
int store_user_get_raw(store_rtxn *r, const roster_uuid *scope, const char *id, const void **bytes,
                       size_t *len);

/* The user with id req->id, unpacked into `arena`. */
int store_user_get(store_rtxn *r, const roster_uuid *scope, const Roster__V1__GetUserRequest *req,
                   roster_arena *arena, Roster__V1__User **out, roster_err_detail *detail);

/* Answers req->ids in order (at most ROSTER_MAX_BATCH, "ids"); users not
 * visible in the scope have found[i] = false and an empty users[i]. A
 * malformed id is INVALID_ARGUMENT naming "ids". *out lives in `arena`. */
int store_user_batch_get(store_rtxn *r, const roster_uuid *scope,
                         const Roster__V1__BatchGetUsersRequest *req, roster_arena *arena,
                         Roster__V1__BatchGetUsersResponse **out, roster_err_detail *detail);

/* One page of users and the exact total count, per the semantics of
 * schema.graphql users(): filter fields ANDed, deactivated users left out
 * unless filter.withDeactivated is {equalTo: true} or an `active` filter is
 * given, search, order (default createdAt DESC, id as tie-break), limit
 * (default 20, at most 1000, 0 = count only), offset, after (a cursor: the
 * page starts right after the record it names, see roster.proto "Cursor
 * paging"). page_info is always set: has_next_page exactly, end_cursor
 * when the page holds a record. Errors name "limit", "offset",
 * "filter.<field>", "search", "order", "after". *out lives in `arena`. */
int store_user_list(store_rtxn *r, const roster_uuid *scope,
                    const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                    Roster__V1__ListUsersResponse **out, roster_err_detail *detail);

/* Whether the last store_user_list or store_user_list_raw of r (LMDB)
 * ordered every tenant's users by a field by merging each tenant's range
 * of the field's sort index, a cost that grows with the number of
 * tenants (docs/store.md, "Global orders"): returns the number of
 * tenants' ranges it merged and sets *sort_field (may be NULL) to the
 * order's field (a model_user index); returns 0, and -1 for the field,
 * when it walked one range (one tenant, createdAt, a global order, a
 * customData index), ran another plan, failed before walking, or the
 * store is PostgreSQL. */
size_t store_read_merged(const store_rtxn *r, int *sort_field);

/* A page as borrowed record encodings (roster.v1.User), for replies that
 * forward them without unpacking. */
typedef struct store_page {
    int64_t total_count;
    size_t n;               /* entries in items */
    store_slice *items;     /* array in the arena; each slice borrowed from LMDB */
    bool has_next_page;     /* a record follows the page */
    const char *end_cursor; /* the page's cursor (arena); NULL when n == 0 */
} store_page;

/* Same query as store_user_list. out->items is allocated in `arena`; the
 * bytes each item points to are borrowed until store_read_end. */
int store_user_list_raw(store_rtxn *r, const roster_uuid *scope,
                        const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                        store_page *out, roster_err_detail *detail);

/* ------------------------------------------------------------ tenants
 * A scoped caller sees only its own tenant, may not create tenants or
 * change which tenant is the default (PERMISSION_DENIED), and may rename
 * its own tenant. */

/* Creates a tenant (name required). is_default true makes it the default
 * tenant, and the previous default (if any) stops being one. */
int store_tenant_create(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__CreateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail);

/* Partial update: name and reference if present; clear_reference clears
 * the reference; is_default true/false sets or drops the default mark. */
int store_tenant_update(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__UpdateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail);

/* Stores a complete tenant record as given (for loading a dump). */
int store_tenant_restore(store_wtxn *w, const Roster__V1__Tenant *tenant,
                         roster_err_detail *detail);

/* Deletes the tenant req->id: its record, its tenant_name entry and its
 * (zero) user counter, as one operation of the group. Refused with
 * FAILED_PRECONDITION, changing nothing, while the tenant
 * - has users, deactivated ones included (delete or move them first),
 * - is the default tenant (users created without tenantId would silently
 *   land nowhere: drop the mark first with an update, is_default false),
 * - is named by an API key that is not revoked (revoke it first; revoked
 *   keys keep naming the deleted tenant, as an audit record).
 * A scoped caller may not delete tenants, its own included
 * (PERMISSION_DENIED). Errors: INVALID_ARGUMENT ("id"), NOT_FOUND ("id":
 * no such tenant, also what deleting a deleted tenant answers). *out (may
 * be NULL) holds the deleted id in canonical form, in `arena`. */
int store_tenant_delete(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__DeleteTenantRequest *req, roster_arena *arena,
                        Roster__V1__DeleteTenantResponse **out, roster_err_detail *detail);

/* The tenant; user_count is filled when req->include_user_count. */
int store_tenant_get(store_rtxn *r, const roster_uuid *scope,
                     const Roster__V1__GetTenantRequest *req, roster_arena *arena,
                     Roster__V1__Tenant **out, roster_err_detail *detail);

int store_tenant_batch_get(store_rtxn *r, const roster_uuid *scope,
                           const Roster__V1__BatchGetTenantsRequest *req, roster_arena *arena,
                           Roster__V1__BatchGetTenantsResponse **out, roster_err_detail *detail);

/* Tenants per schema.graphql tenants(): filter (id, name, reference),
 * order (createdAt or name, default createdAt DESC, id tie-break), limit,
 * offset, after (a cursor, as store_user_list's), exact total count and
 * page_info. */
int store_tenant_list(store_rtxn *r, const roster_uuid *scope,
                      const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                      Roster__V1__ListTenantsResponse **out, roster_err_detail *detail);

/* Users of `tenant` that users(filter: {tenantId: {equalTo: id}}) counts
 * (deactivated users left out); NULL counts users without a tenant. Served
 * from a counter, O(1). */
int store_tenant_user_count(store_rtxn *r, const roster_uuid *tenant, int64_t *out);

/* ------------------------------------------------------------ API keys
 * Records are roster.v1.ApiKey encodings keyed by the key's 16-byte id
 * (key text format in src/auth/apikey.h). Only the SHA-256 of a secret is
 * stored; every ApiKey these functions return has its hashes cleared, and
 * the one place a secret appears is the KeySecret that create and rotate
 * return (arena-owned; the caller wipes it with roster_secure_wipe once
 * sent). Keys are not tenant-scoped records: only unrestricted (admin)
 * callers reach these functions. */

/* Default and largest grace period of a rotated key's previous secret. */
#define STORE_KEY_GRACE_DEFAULT_S 3600u
#define STORE_KEY_GRACE_MAX_S     (30u * 24 * 3600)

/* The lower-case name of a role ("admin", "writer", "reader"; "unspecified"
 * for any other value), for logs and messages. Static. */
const char *store_key_role_name(int role);

/* Mints a key: UUIDv7 id, a new secret, created_at = now. Errors:
 * INVALID_ARGUMENT ("name" missing or over 255 bytes, "role" missing or
 * unknown, "tenantId" missing for writer/reader or given for admin or not a
 * UUID, "expiresAt" not in the future), NOT_FOUND ("tenantId" names no
 * tenant). *out lives in `arena`. */
int store_key_create(store_wtxn *w, const Roster__V1__CreateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail);

/* Sets revoked_at = now; a key already revoked keeps its first revoked_at
 * (idempotent). Errors: INVALID_ARGUMENT ("id" not a UUID), NOT_FOUND. */
int store_key_revoke(store_wtxn *w, const Roster__V1__RevokeKeyRequest *req, roster_arena *arena,
                     Roster__V1__ApiKey **out, roster_err_detail *detail);

/* Gives the key a new secret; the old secret's hash becomes
 * previous_secret_hash, valid until now + grace_seconds (default
 * STORE_KEY_GRACE_DEFAULT_S, at most STORE_KEY_GRACE_MAX_S; 0 ends it at
 * once). Errors: INVALID_ARGUMENT ("id", "graceSeconds"), NOT_FOUND,
 * FAILED_PRECONDITION (the key is revoked). */
int store_key_rotate(store_wtxn *w, const Roster__V1__RotateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail);

/* Stores a complete key record as given, hashes included (a copy from
 * another store: rosterctl migrate). Its tenant need not exist (a revoked
 * key may name a deleted tenant). Errors: INVALID_ARGUMENT
 * (apikey_build_check_restore), ALREADY_EXISTS ("id"). */
int store_key_restore(store_wtxn *w, const Roster__V1__ApiKey *key, roster_err_detail *detail);

/* Records that key `id` was used at `when` (Unix ms): last_used_at moves
 * forward only. A key that no longer exists is ignored. */
int store_key_touch(store_wtxn *w, const roster_uuid *id, int64_t when);

/* The key with text id req->id, hashes cleared; *out lives in `arena`.
 * Errors: INVALID_ARGUMENT ("id"), NOT_FOUND. */
int store_key_get(store_rtxn *r, const Roster__V1__GetKeyRequest *req, roster_arena *arena,
                  Roster__V1__ApiKey **out, roster_err_detail *detail);

/* Every key in id (creation) order, revoked ones only when
 * req->include_revoked; hashes cleared. *out lives in `arena`. */
int store_key_list(store_rtxn *r, const Roster__V1__ListKeysRequest *req, roster_arena *arena,
                   Roster__V1__ListKeysResponse **out, roster_err_detail *detail);

/* Number of keys stored, revoked ones included. */
int store_key_count(store_rtxn *r, uint64_t *out);

/* Who a valid key speaks for. */
typedef struct store_principal {
    roster_uuid key_id;
    Roster__V1__Role role;
    bool has_tenant; /* writer and reader keys: tenant is their one tenant */
    roster_uuid tenant;
    int64_t last_used_at; /* as stored; 0 when never recorded */
} store_principal;

/* Checks key text (`len` bytes, borrowed for the call) at time `now`
 * (Unix ms) and fills *out with the principal it stands for. Errors:
 * ROSTER_E_UNAUTHENTICATED, with detail->field "credential" and a message
 * giving the reason for the audit log: "malformed key", "unknown key",
 * "wrong secret", "key revoked", "key expired", "previous secret past its
 * grace period". Other errors are the store's (CORRUPT, ...). */
int store_key_authenticate(store_rtxn *r, const char *text, size_t len, int64_t now,
                           store_principal *out, roster_err_detail *detail);

/* The principal of the key `id` (borrowed) at `now` (Unix ms), without a
 * secret: for an access token whose signature the caller has checked, so
 * that a revoked or expired key stops its tokens. Errors as
 * store_key_authenticate's ("unknown key", "key revoked", "key expired"). */
int store_key_principal(store_rtxn *r, const roster_uuid *id, int64_t now, store_principal *out,
                        roster_err_detail *detail);

/* The deployment's environment id, made with the store (a random UUID
 * kept in the meta database; a store made before it had one gets it at its
 * next writable open). ROSTER_E_NOT_FOUND when a read-only open found
 * none; otherwise the store's errors. */
int store_environment_id(store_rtxn *r, roster_uuid *out);

/* ------------------------------------------------------------ change feed
 * Every committed change to a user or tenant is an event (a
 * roster.v1.Change encoding) numbered by a sequence that only grows,
 * written in the same transaction as the change: the feed and the data
 * never disagree, crash or not. Events are kept until retention trims
 * them, oldest first, at most what the group appended plus
 * STORE_CHANGES_TRIM_EXTRA per write transaction (store_changes_trim
 * trims more when no writes come). A deleted user's earlier events lose
 * their personal fields in the transaction of the delete. */

#define STORE_CHANGES_DEFAULT_EVENTS 1000000u
#define STORE_CHANGES_DEFAULT_MS     ((uint64_t)7 * 24 * 3600 * 1000)
#define STORE_CHANGES_UNLIMITED      UINT64_MAX
#define STORE_CHANGES_TRIM_EXTRA     256u
/* Default and largest page of store_changes_list. */
#define STORE_CHANGES_PAGE_DEFAULT 100
#define STORE_CHANGES_PAGE_MAX     1000
/* Most events one store_changes_list examines (a scoped caller's page
 * skips other tenants' events; next_after says where to go on). */
#define STORE_CHANGES_SCAN_MAX 10000u

/* Events of one answer. items[i] is a roster.v1.Change encoding, borrowed
 * from LMDB until store_read_end, or made in the arena (an event a scoped
 * caller sees only as a user leaving its tenant). */
typedef struct store_changes_page {
    uint64_t oldest_seq; /* the oldest event kept: `after` >= oldest_seq - 1 */
    uint64_t latest_seq; /* the last committed seq, 0 when none */
    uint64_t next_after; /* pass as the next `after` */
    size_t n;
    store_slice *items; /* array in the arena */
} store_changes_page;

/* Events with seq > after, in seq order: at most `limit` (0: none, only
 * the seqs), and no more than max_bytes of encodings (0: no cap; at least
 * one event when any is due). A scoped caller sees the events of its
 * tenant (tenant_id == scope) and, reduced to id and tenants, those of
 * users that left it (previous_tenant_id == scope). Errors:
 * OUT_OF_RANGE naming "after" when after < oldest_seq - 1 (retention
 * trimmed events after it, or the feed was off for a while) or after >
 * latest_seq; FAILED_PRECONDITION when the store has no feed (a
 * read-only open of a store made before it). */
int store_changes_list(store_rtxn *r, const roster_uuid *scope, uint64_t after, uint32_t limit,
                       size_t max_bytes, roster_arena *arena, store_changes_page *out,
                       roster_err_detail *detail);

/* Whether writes to s record events (false: opened with changes_off). */
bool store_changes_recording(const store *s);

/* The oldest kept and the latest seq in the snapshot of r. */
int store_changes_bounds(store_rtxn *r, uint64_t *oldest_seq, uint64_t *latest_seq);

/* The seqs the operations of w appended so far: ROSTER_E_OK with [*first,
 * *last] when there are any, ROSTER_E_NOT_FOUND when none. For the writer,
 * which publishes them once the group has committed. */
int store_changes_pending(const store_wtxn *w, uint64_t *first, uint64_t *last);

/* Trims at most `max` events that retention no longer keeps, in w;
 * *trimmed (may be NULL) says how many. For a periodic task when no
 * writes come (commits trim on their own). */
int store_changes_trim(store_wtxn *w, unsigned max, unsigned *trimmed);

/* ------------------------------------------------------------ operations */

#define STORE_MAX_DBS 24

typedef struct store_db_stat {
    const char *name; /* static: "users", "tenants", "idx_email", ... */
    uint64_t entries;
    uint64_t branch_pages, leaf_pages, overflow_pages;
    uint32_t depth;
} store_db_stat;

typedef struct store_stats {
    uint32_t schema_version;
    uint64_t users;        /* all user records */
    uint64_t users_active; /* users not deactivated */
    uint64_t tenants;
    uint64_t map_size;   /* bytes reserved */
    uint64_t used_bytes; /* bytes in use: (last page + 1) * page size */
    /* Of those, the pages on LMDB's free list: no snapshot but maybe an
     * old reader's needs them, later writes reuse them before the file
     * grows, and `rosterctl compact` returns them (0 on PostgreSQL). */
    uint64_t free_bytes;
    uint32_t page_size;
    uint64_t last_txnid;
    size_t n_dbs;
    store_db_stat dbs[STORE_MAX_DBS];
} store_stats;

/* Fills *out from the snapshot of r. */
int store_stat(store_rtxn *r, store_stats *out);

typedef enum store_issue_kind {
    STORE_ISSUE_BAD_RECORD = 1,  /* a record that does not decode or validate */
    STORE_ISSUE_MISSING_ENTRY,   /* a record lacks an index entry it should have */
    STORE_ISSUE_STALE_ENTRY,     /* an index entry no record accounts for */
    STORE_ISSUE_DUPLICATE,       /* two users share a reference/email in one tenant */
    STORE_ISSUE_DANGLING_TENANT, /* a user's tenantId names no tenant */
    STORE_ISSUE_COUNT_MISMATCH,  /* a maintained counter disagrees with the records */
    STORE_ISSUE_DEFAULT_TENANT,  /* default-tenant mark inconsistent */
    STORE_ISSUE_BAD_KEY,         /* an API key record that does not decode or is inconsistent */
} store_issue_kind;

typedef struct store_issue {
    store_issue_kind kind;
    const char *db;                    /* static name of the database concerned */
    char id[ROSTER_UUID_TEXT_LEN + 1]; /* record id concerned, "" if none */
    char message[256];
} store_issue;

/* Called once per issue; `issue` is valid during the call only. */
typedef void (*store_issue_fn)(void *ctx, const store_issue *issue);

/* Checks every record against every index entry both ways, uniqueness,
 * referential integrity, counters, the default tenant, the change feed
 * (every event decodes under its seq, none past the counter, each user
 * event and its changes_user entry both ways), and every API key
 * (decodes, id matches, a known role, admin keys without a tenant, writer
 * and reader keys naming an existing tenant, 32-byte hashes). Calls fn for
 * each mismatch (fn may be NULL) and stores their number in *out_issues.
 * Returns ROSTER_E_OK when the check ran (even if it found issues). */
int store_verify(store_rtxn *r, store_issue_fn fn, void *ctx, uint64_t *out_issues);

/* Called with the number of records a long operation has reached. */
typedef void (*store_progress_fn)(void *ctx, uint64_t records);

/* store_verify that also calls progress (may be NULL) with progress_ctx as
 * it reaches each tenant and user record, with the number reached so far
 * (tenants first, then users: at most store_stat's tenants + users when
 * the counters are right). The checks that follow the records (counters,
 * keys, the change feed, stale entries) report nothing. */
int store_verify_progress(store_rtxn *r, store_issue_fn fn, void *ctx, store_progress_fn progress,
                          void *progress_ctx, uint64_t *out_issues);

typedef struct store_compact_stats {
    uint64_t bytes_before; /* size of data.mdb before */
    uint64_t bytes_after;  /* size of the data.mdb that replaced it */
    uint64_t entries;      /* key/value pairs written, every database */
    uint32_t from_version; /* the store's schema version before */
} store_compact_stats;

/* Rewrites data.mdb of the store in `dir` so that it holds only its live
 * entries: every database written anew in key order into a temporary file
 * in `dir`, that compacted with mdb_env_copy2(MDB_CP_COMPACT), compared
 * entry by entry with the store, given data.mdb's owner and mode, synced
 * and renamed over data.mdb. Afterwards no byte of a deleted record or
 * index entry is in data.mdb (freed pages, unused parts of pages and the
 * separator keys of branch pages included; compact.c says why the rebuild
 * is needed for the last). No process may have the store open: that is
 * checked with the lock LMDB itself takes, and held until the end (a
 * process opening the store meanwhile waits). Needs free space in `dir`
 * for twice the live data. On any failure data.mdb is left untouched and
 * the temporary files are removed. Fills *out (may be NULL). Errors:
 * FAILED_PRECONDITION (the store is open in another process; the message
 * names it), NOT_FOUND (no data.mdb in dir), VERSION or CORRUPT (not a
 * store this build reads), PERMISSION_DENIED, IO, NOMEM, INTERNAL (the
 * copy differs), each with detail. */
int store_compact(const char *dir, store_compact_stats *out, roster_err_detail *detail);

/* store_compact for a store of an older schema version (STORE_SCHEMA_OLDEST
 * on): the same rewrite, lock, comparison and atomic replacement, with
 * every entry written in this build's layout (from version 1: idx_tenant
 * and the sort indexes become duplicate-sorted and keep their per-tenant
 * entries only; from versions 1 and 2: the sort indexes of email, phone
 * and updatedAt move their values from keys into data; records, unique
 * indexes, keys, the change feed and customData indexes are copied as
 * they are) and the new version
 * recorded. The comparison checks the new file against the store's
 * entries as transformed. A store already at STORE_SCHEMA_VERSION is left
 * alone (ROSTER_E_OK, out->entries 0, from_version the current one).
 * Errors as store_compact's; VERSION for a version this build does not
 * upgrade. Afterwards `rosterctl verify` checks every index against the
 * records. */
int store_upgrade(const char *dir, store_compact_stats *out, roster_err_detail *detail);

/* Called with one record's encoding, borrowed for the call. A non-zero
 * return stops the iteration and is returned by store_each_*. */
typedef int (*store_each_fn)(void *ctx, const void *bytes, size_t len);

/* Every tenant (roster.v1.Tenant encodings) in id order. */
int store_each_tenant(store_rtxn *r, store_each_fn fn, void *ctx);

/* Every user (roster.v1.User encodings) in id order. */
int store_each_user(store_rtxn *r, store_each_fn fn, void *ctx);

/* Every key (roster.v1.ApiKey encodings, hashes included) in id order. */
int store_each_key(store_rtxn *r, store_each_fn fn, void *ctx);

#endif
