/* Typed indexes on declared customData paths.
 *
 * An operator declares paths with a type (store_options.custom_index,
 * "billing.seats:integer"); each gets an index id (1..255) and its entries
 * in the idx_custom database:
 *   id(1) 'g' value id(16)            -> flags(1)   all users
 *   id(1) 't' scope(16) value id(16)  -> flags(1)   per tenant
 * Values keep key order equal to the value order: strings as their bytes
 * then 0x00 (byte order, case-sensitive; strings holding a NUL byte or
 * longer than CDX_MAX_STRING bytes are not indexed), integers as int64
 * big-endian with the sign bit flipped, numbers as the order-preserving
 * transform of an IEEE double, booleans 0x00 false / 0x01 true, dates
 * (ISO 8601 UTC text in the JSON) as integer Unix milliseconds. A user
 * whose customData lacks the path, or holds another type there, has no
 * entry. The declared set is recorded in meta under "custom_index" as
 * lines "id type state path" (state 'r' ready, 'b' building). */
#ifndef ROSTER_STORE_CUSTOM_INDEX_H
#define ROSTER_STORE_CUSTOM_INDEX_H

#include "filter.h"
#include "record.h"
#include "store_internal.h"

#define CDX_MAX_STRING 256 /* longest indexed string value, bytes */
#define CDX_KEY_MAX    (2 + 16 + CDX_MAX_STRING + 1 + 16)
/* Entries one user has at most: two per declared index. */
#define CDX_USER_ENTRIES (2 * STORE_MAX_CUSTOM_INDEXES)

/* One customData index entry of a user: key and its flags byte. */
typedef struct cdx_entry {
    uint8_t key[CDX_KEY_MAX];
    size_t klen;
    uint8_t flags;
} cdx_entry;

/* The declared set of a store that keeps no customData index entries
 * (the PostgreSQL store): declared[n_declared] ("path:type", borrowed for
 * the call) parsed into out[*n_out] (STORE_MAX_CUSTOM_INDEXES slots), each
 * never built (CDX_BUILDING), so that queries answer their conditions and
 * orders from the records, as an LMDB store does while an index builds.
 * INVALID_ARGUMENT naming "custom-index" as custom_index_open; *n_out is
 * then untouched and out's slots hold nothing usable. */
int custom_index_declare_unbuilt(cdx_def *out, size_t *n_out, const char *const *declared,
                                 size_t n_declared, roster_err_detail *detail);

/* Loads the recorded set into s->cdx (read at open). When `declared`
 * (borrowed for the call) is given (declare true), reconciles: recorded
 * indexes no longer declared, or declared with another type, are dropped
 * (their entries deleted, CDX_DROP_BATCH per write transaction); declared
 * ones not recorded are recorded as building, and ones recorded as
 * building stay so. Builds nothing: store_index_build_step does that
 * online. Runs after the open transaction committed. */
int custom_index_open(store *s, const char *const *declared, size_t n_declared,
                      const char *const *orders, size_t n_orders, bool declare,
                      roster_err_detail *detail);

#define CDX_DROP_BATCH      10000
#define CDX_DROP_BATCH_TEXT "10000" /* the same, for SQL */

/* The global order of model_user field `field` recorded in s (complete
 * or building), or NULL. */
const cdx_def *custom_index_global_order(const store *s, int field);

/* Whether index d is complete in the snapshot of txn (store_internal.h:
 * ready_txn). txn NULL (the PostgreSQL store, which checks its snapshot
 * itself): whether d is ready as far as this process has seen. */
bool cdx_built(const cdx_def *d, MDB_txn *txn);

/* Whether index d is still building as far as this thread has seen (no
 * snapshot: for planning only, never for correctness). */
bool cdx_building_now(const cdx_def *d);

/* The progress of an online build over a declared set defs[n] (the LMDB
 * store's and the PostgreSQL store's builds share it): the slot being
 * built, and its users and entries so far, for the log. */
typedef struct cdx_progress {
    size_t at;
    uint64_t users, entries;
    int64_t t0, logged; /* the index's start, the last progress line */
} cdx_progress;

/* Starts p at the first slot. */
void cdx_progress_start(cdx_progress *p);

/* Moves p->at to the next slot from p->at still building; false when
 * none is. */
bool cdx_progress_next(cdx_progress *p, const cdx_def *defs, size_t n);

/* The number of slots from p->at on still building. */
size_t cdx_progress_left(const cdx_progress *p, const cdx_def *defs, size_t n);

/* After a step of index d that walked `users` users and wrote `entries`
 * entries: logs custom_index_build after the first step (`first`), then
 * at most once a second. */
void cdx_progress_step(cdx_progress *p, const cdx_def *d, uint64_t users, uint64_t entries,
                       bool first);

/* Index d is ready: logs custom_index_ready and moves to the next slot. */
void cdx_progress_ready(cdx_progress *p, const cdx_def *d);

struct json_t;

/* Encodes JSON value j (borrowed) as a value of type t into buf
 * (CDX_MAX_STRING + 1 bytes), as the index keys hold it; returns bytes, or
 * 0 when j is not of that type (or is a string the index leaves out). */
size_t custom_index_encode(uint8_t *buf, store_custom_type t, const struct json_t *j);

/* Encoded value (as custom_index_encode) at index d's path in the
 * customData of v into buf; 0 when v has none there. */
size_t custom_index_user_value(uint8_t *buf, const cdx_def *d, const user_view *v);

/* custom_index_user_value of customData text[0..n), always through
 * jansson's tree: what the in-place reader (json_path.h) must agree with,
 * for tests and fuzzing. */
size_t custom_index_tree_value(uint8_t *buf, const cdx_def *d, const char *text, size_t n);

/* The same for n indexes at once (customData parsed once): vals[i]
 * (CDX_MAX_STRING + 1 bytes each) and lens[i] (0: none) for defs[i]. */
void custom_index_user_values(uint8_t (*vals)[CDX_MAX_STRING + 1], size_t *lens,
                              const cdx_def *const *defs, size_t n, const user_view *v);

/* Fills out (CDX_USER_ENTRIES entries) with the customData index entries
 * of user v under the store's declared set, building indexes included
 * (writes keep those in step too); returns the count. */
size_t custom_index_entries(cdx_entry *out, const store *s, const user_view *v);

/* Keeps the customData indexes of one user in step with a write in txn:
 * old_e[n_old] (borrowed; taken with custom_index_entries from the stored
 * record before it was replaced, none for a new user) are its entries
 * until now, nv the record written. An old entry that is not there (an
 * index building, whose walk has not reached the user) is no error; a new
 * entry equal to an old one is not written again, and the walk writes it
 * when it reaches the user. */
int custom_index_user_update(const store *s, MDB_txn *txn, const cdx_entry *old_e, size_t n_old,
                             const user_view *nv);

/* Removes every customData index entry of user v (its stored record), in
 * txn: what deleting the user calls before the record goes. Entries that
 * are not there (a building index) are no error. */
int custom_index_user_remove(const store *s, MDB_txn *txn, const user_view *v);

/* The exact total of an order by index d's path with no other condition
 * than the scope and the deactivated rule: the users of one tenant's
 * scope, or of every scope, with an entry in d (active_only: those not
 * deactivated), from the counters the writes keep (custom_index.c).
 * Only for a customData index complete in txn's snapshot whose
 * `counted` is set. */
int custom_index_order_total(const store *s, MDB_txn *txn, const cdx_def *d, bool one_tenant,
                             const roster_uuid *tenant, bool active_only, int64_t *total);

/* Called once per issue found by custom_index_verify; id may be NULL,
 * message is valid during the call only. */
typedef void (*cdx_issue_fn)(void *ctx, store_issue_kind kind, const roster_uuid *id,
                             const char *message);

/* Checks (custom_verify.c) that every user has the entries of its
 * customData in every built index, with the right flags, and that every
 * entry belongs to a recorded index and to a user whose customData holds
 * that value. Indexes not complete in txn's snapshot (cdx_built) are
 * skipped. */
int custom_index_verify(const store *s, MDB_txn *txn, cdx_issue_fn fn, void *ctx);

/* Checks index d's counters against its entries, both ways (a scope with
 * entries and no counter, a counter whose numbers differ). */
int custom_index_verify_counts(const store *s, MDB_txn *txn, const cdx_def *d, cdx_issue_fn fn,
                               void *ctx);

/* ------------------------------------------------------------ queries
 * (custom_query.c) */

typedef struct custom_query custom_query;

/* An encoded value of a condition (custom_index_encode's bytes). */
typedef struct custom_value {
    uint8_t *b; /* arena */
    size_t n;
} custom_value;

/* One compiled customData condition: the value must equal eq, differ from
 * neq, lie within the bounds and be one of in[0..n_in), for those given
 * (in is sorted, each value once). A user without a value of the path's
 * type never matches. */
typedef struct custom_cond {
    const cdx_def *d;
    bool indexed; /* d is complete in the query's snapshot: it may drive */
    bool has_eq, has_neq, has_lo, lo_incl, has_hi, hi_incl;
    custom_value eq, neq, lo, hi;
    custom_value *in; /* arena; NULL when no valueIn */
    size_t n_in;
} custom_cond;

/* Checks and compiles req's customData conditions and order against the
 * declared set defs[n_defs] (borrowed for the query's life: a store's
 * s->cdx, or a PostgreSQL store's). *out is NULL when the request has
 * neither; else it lives in arena. Errors: INVALID_ARGUMENT naming
 * "filter.customData" or "order.customData" with the path (undeclared,
 * wrong value type, both order.sort and order.customData). An index not
 * complete in txn's snapshot (cdx_built) is not used: its conditions are
 * checked on the records (custom_query_drives false) and its order is a
 * scan (custom_query_order false, custom_query_order_scans true). With
 * `scan` (store_options.custom_index_scan) no condition drives. txn is
 * NULL for the PostgreSQL store (cdx_built). */
int custom_query_prepare(custom_query **out, const cdx_def *defs, size_t n_defs, bool scan,
                         MDB_txn *txn, const Roster__V1__ListUsersRequest *req, roster_arena *arena,
                         roster_err_detail *detail);

/* Whether q orders by a customData path whose index it may not walk (still
 * building): every record is read and sorted instead. */
bool custom_query_order_scans(const custom_query *q);

/* Whether the customData of v satisfies every condition of q and, when q
 * orders by a customData path, has a value there. */
bool custom_query_match(const custom_query *q, const user_view *v);

/* Whether q orders by a customData path. */
bool custom_query_ordered(const custom_query *q);

/* The ordering index of q: true and the walk prefix (index id, part and
 * scope) into prefix when q orders by a customData path whose index is
 * complete (false for one still building: custom_query_order_scans). */
bool custom_query_order(const custom_query *q, bool one_tenant, const roster_uuid *tenant,
                        uint8_t *prefix, size_t *pn);

/* Whether q has conditions an index can drive (false when the store
 * answers customData conditions by scan, store_options.custom_index_scan,
 * or when one of q's indexes is still building). */
bool custom_query_drives(const custom_query *q);

/* Collects the ids of the entries of the most selective condition's ranges
 * (one tenant's part or all users), each user once, into malloc'd arrays
 * *ids and *flags (each entry's flags byte) of *n; the caller frees both
 * (NULL when *n is 0). *sorted is true when one value drove, whose
 * entries are in id order; otherwise the ids are in value order. */
int custom_query_candidates(const custom_query *q, MDB_txn *txn, const store *s, bool one_tenant,
                            const roster_uuid *tenant, roster_uuid **ids, uint8_t **flags,
                            size_t *n, bool *sorted);

/* The number of customData conditions of q. */
size_t custom_query_conditions(const custom_query *q);

/* Condition i (< custom_query_conditions) of q, borrowed from q. */
const custom_cond *custom_query_cond(const custom_query *q, size_t i);

/* The index q orders by (NULL: none), borrowed; *indexed tells whether it
 * is complete in the query's snapshot (cdx_built). */
const cdx_def *custom_query_order_def(const custom_query *q, bool *indexed);

/* The encoded value of q's order path in v into buf (CDX_MAX_STRING + 1
 * bytes); 0 when q is not ordered by one or v has no value there. */
size_t custom_query_order_value(const custom_query *q, const user_view *v, uint8_t *buf);

#endif
