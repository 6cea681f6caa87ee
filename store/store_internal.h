/* Internal layout of the store, shared by the modules of store/ only.
 *
 * Databases (all in one LMDB environment):
 *   meta            "schema_version" -> u32 LE; "default_tenant" -> tenant id (16)
 *   counts          'g' -> struct counter (all users);
 *                   't' scope(16) -> struct counter (users of one tenant;
 *                   the all-zero scope is users without a tenant)
 *   users           id(16) -> roster.v1.User encoding
 *   tenants         id(16) -> roster.v1.Tenant encoding (user_count never stored)
 *   idx_tenant      scope(16) -> id(16) flags(1)           per-tenant createdAt order
 *                   (MDB_DUPSORT | MDB_DUPFIXED: the users of a scope are
 *                   the sorted duplicates of its one key)
 *   uniq_reference  reference 0x00 scope(16) -> id(16)     unique
 *   uniq_email      fold(email) 0x00 scope(16) -> id(16)  unique (text_fold_key)
 *   idx_<field>     scope(16) value -> id(16) flags(1)     a sort index per
 *                   sortable field but createdAt (store_fields), per tenant
 *                   only (MDB_DUPSORT | MDB_DUPFIXED: users with the same
 *                   value share one key); an order over all users merges
 *                   the tenants' ranges (ewalk.h)
 *   idx_<field>     scope(16) -> value id(16) flags(1)     the sort index of
 *                   a field whose values are mostly distinct (MODEL_DISTINCT:
 *                   email, phone, updatedAt; store_fields.sort_vdata): the
 *                   "values in data" layout (MDB_DUPSORT only: the users of
 *                   a scope are the duplicates of its one key, ordered by
 *                   value then id). One key per user would put each
 *                   tenant's range in the middle of pages shared with the
 *                   next tenant, where LMDB splits full pages in half; a
 *                   scope's own duplicate tree grows at its end, where
 *                   LMDB fills pages before splitting them
 *                   (docs/store.md has the measurements)
 *   tenant_name     value id(16) -> ""
 *   keys            id(16) -> roster.v1.ApiKey encoding (hashes included);
 *                   created when missing, so a store made before keys
 *                   existed opens unchanged (read-only: has_keys false)
 *   changes         seq(8, big-endian) -> roster.v1.Change encoding (seq included)
 *   changes_user    user id(16) seq(8) -> ""    the events of each user, so a
 *                   delete finds the events to scrub without a scan
 *   meta            "changes_latest" -> u64 BE: the last seq given out;
 *                   "changes_floor" -> u64 BE: every event with floor < seq
 *                   <= latest is kept (oldest_seq = floor + 1); events at
 *                   or below the floor are trimmed or being trimmed
 *   (changes and changes_user are created when missing, like keys)
 *   idx_custom      customData indexes (layout in custom_index.h)
 * Value encodings keep key order equal to the API order: strings as 0x01
 * bytes 0x00 (null: 0x02, so nulls sort last ascending), booleans as 0x01
 * false / 0x02 true / 0x03 null, int64 as 8 big-endian bytes with the sign
 * bit flipped. flags: bit 0 = active is false, bit 1 = active is null. */
#ifndef ROSTER_STORE_INTERNAL_H
#define ROSTER_STORE_INTERNAL_H

#include "fields.h"
#include "pg_store.h"
#include "cursor_pool.h"
#include "prefault.h"
#include "store.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Databases whose users share keys: an entry is a key and a duplicate
 * (id(16) flags(1), KEY_DUP_DATA bytes, in id order under each key). */
#define STORE_DUP_DB_FLAGS (MDB_DUPSORT | MDB_DUPFIXED)

/* Databases in the "values in data" layout: an entry is a scope key and a
 * duplicate value id(16) flags(1) of variable length. */
#define STORE_VDATA_DB_FLAGS MDB_DUPSORT

#define FLAG_INACTIVE    0x01u
#define FLAG_ACTIVE_NULL 0x02u

/* A declared customData index (custom_index.h).
 *
 * ready_txn says from which LMDB snapshot on the index is complete: 0 for
 * an index recorded as ready when the store opened, CDX_BUILDING while it
 * is built online (store_index_build_step). The builder commits the
 * transaction that records the index ready (its last batch), then stores
 * that transaction's id here with release order; a reader loads it with
 * acquire order and uses the index only when its own snapshot is at least
 * that transaction (cdx_built), so a snapshot taken before the last batch
 * committed never sees a half-built index as ready, whenever it loads the
 * flag. The index id, type and path never change while the store is open
 * (the declared set changes only in store_open). */
#define CDX_BUILDING UINT64_MAX
typedef struct cdx_def {
    uint8_t id; /* key prefix byte, 1..255 */
    store_custom_type type;
    int8_t field; /* STORE_CUSTOM_ORDER: the model_user field; else -1 */
    /* Its counters (custom_index.h, custom_index_order_total) are exact:
     * set before ready_txn is published, so a reader that sees the index
     * built sees this too. False for an index built before the store
     * kept them, until an open that declares it counts it. */
    bool counted;
    _Atomic uint64_t ready_txn; /* see above */
    char path[STORE_CUSTOM_PATH_MAX + 1];
} cdx_def;

struct store {
    pgstore *pg; /* the PostgreSQL backend: every function goes to it */
    MDB_env *env;
    bool read_only;
    bool writemap; /* bulk_load: every group writes without nested txns */
    MDB_dbi meta, counts, users, tenants, idx_tenant, tenant_name;
    MDB_dbi keys;
    bool has_keys;
    MDB_dbi changes, changes_user;
    bool has_changes;          /* false only for a read-only open of a store without the feed */
    bool changes_off;          /* store_options.changes_off */
    uint64_t keep_events;      /* retention, STORE_CHANGES_UNLIMITED: none */
    uint64_t keep_ms;          /* false only for a read-only open of a store without keys */
    MDB_dbi uniq[UNIQ__COUNT]; /* by unique index (store_fields.uniq_field) */
    MDB_dbi sort[SORT__COUNT]; /* by sort index (store_fields.sort_field) */
    MDB_dbi custom;            /* idx_custom */
    bool has_custom;           /* false only for a read-only open of a store without it */
    bool custom_scan;          /* store_options.custom_index_scan */
    size_t n_cdx;
    cdx_def cdx[STORE_MAX_CUSTOM_INDEXES]; /* the recorded customData indexes */
    prefault *prefault;   /* writemap: the pages ahead of the writer (NULL: none) */
    cursor_pool *cursors; /* read cursors the list walks give back (LMDB) */
    /* Tenants' ranges the latest merge of every tenant's range walked
     * (open_walk): store_user_list_scans's guess of the next one's. */
    _Atomic size_t merge_scopes;
};

struct store_rtxn {
    pgstore_rtxn *pg; /* a PostgreSQL store's read */
    store *s;
    MDB_txn *txn;
    int64_t deadline_ns;            /* 0: none (store_read_set_limits) */
    const _Atomic int64_t *stop_ns; /* NULL: never stopped */
    /* The last user list's merge of every tenant's range of a sort index
     * (store_read_merged): the tenants merged, 0 when it walked one range
     * or did not merge, and its sort field. */
    size_t merged;
    int merged_sort;
};

/* Counter changes of a write group, applied at commit (so the hot counter
 * keys are written once per group, not per operation). */
typedef struct counter_delta {
    roster_uuid scope;
    int64_t users, active;
    bool used;
} counter_delta;

/* The databases a bulk group writes through an append cursor
 * (store_put_append): their keys mostly arrive in increasing order. */
enum { STORE_APPEND_USERS, STORE_APPEND_CHANGES, STORE_APPEND_CHANGES_USER, STORE_APPEND__COUNT };
#define STORE_APPEND_KEY_MAX 32

typedef struct append_cursor {
    MDB_cursor *c; /* on the group's txn; NULL: none open */
    unsigned puts; /* appends through c, counted for prefault_note */
    bool empty;    /* the database had no key when c was opened */
    size_t last_len;
    uint8_t last[STORE_APPEND_KEY_MAX]; /* the database's greatest key */
} append_cursor;

/* LMDB's longest key, and longest data item of a duplicate-sorted
 * database. */
#define STORE_MDB_VAL_MAX 511

/* The deferred index entries of one database in a write group, and its
 * end when they are appended directly (pending.c). Databases with a dbi
 * below STORE_PENDING_DBS can be deferred to (LMDB gives small dbis:
 * the store opens at most 32 databases). */
typedef struct pending_db pending_db;
#define STORE_PENDING_DBS 64

/* LMDB's default order of keys (and of duplicates): bytes, then length. */
static inline int store_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

struct store_wtxn {
    pgstore_wtxn *pg; /* a PostgreSQL store's write group */
    store *s;
    MDB_txn *txn;
    /* Non-unique index entries of created users (pending.c): by dbi,
     * NULL until the group defers to that database. */
    pending_db *pdb[STORE_PENDING_DBS];
    size_t n_pending;          /* entries queued in all of them */
    uint64_t op_gen;           /* counts the group's operations */
    counter_delta op_delta[4]; /* the current operation's changes */
    size_t n_op_delta;
    counter_delta *deltas; /* the group's changes: hash table by scope */
    size_t cap_deltas;     /* power of two, or 0 */
    size_t n_deltas;
    int failed;   /* a resource error hit the group: commit refuses */
    bool bulk;    /* operations write straight into txn (no nested txn) */
    uint8_t *buf; /* scratch for packing records */
    size_t buf_cap;
    /* The change feed (changes.c). ch_latest and ch_floor are the meta
     * values as this group left them, read on first use (ch_loaded);
     * ch_start is ch_latest then. op_ch_* are their values when the
     * current operation began, restored if it fails. */
    bool ch_loaded, ch_dirty, ch_hole, op_ch_loaded, op_ch_hole;
    uint64_t ch_latest, ch_floor, ch_start, op_ch_latest;
    uint8_t *cbuf; /* scratch for packing events */
    size_t cbuf_cap;
    append_cursor append[STORE_APPEND__COUNT]; /* bulk groups only */
};

typedef struct store_counter {
    uint64_t users;
    uint64_t active; /* not deactivated */
} store_counter;

/* Counts one step (an entry or record visited) of a walk or scan under
 * the limits of a read transaction (store_read_set_limits: deadline_ns 0
 * and stop_ns NULL for none); every STORE_CHECK_EVERY steps checks them.
 * Returns ROSTER_E_DEADLINE_EXCEEDED past the deadline,
 * ROSTER_E_UNAVAILABLE past the stop time, else ROSTER_E_OK. */
int store_limits_step(unsigned *steps, int64_t deadline_ns, const _Atomic int64_t *stop_ns);

/* Translates an MDB_* or errno code to ROSTER_E_*. */
int store_mdb_err(int rc);

/* Reads the counter for `scope` (NULL = all users). Missing = zeros. */
int store_counter_get(MDB_txn *txn, const store *s, const roster_uuid *scope, bool global,
                      store_counter *out);

/* Removes the stored counter of `scope` (a deleted tenant's) in txn; a
 * missing one is no error. Only once the group's changes to it are
 * written (store_counters_flush). */
int store_counter_del(MDB_txn *txn, const store *s, const roster_uuid *scope);

/* Records a change to the counter of `scope` (and the global one) made by
 * the current operation of w; it reaches the database at commit, and only
 * if the operation succeeds. */
int store_counter_add(store_wtxn *w, const roster_uuid *scope, int64_t d_users, int64_t d_active);

/* Begins one write operation of group w: a nested transaction, or in bulk
 * mode the group's own transaction. Operations make every check that can
 * refuse them before their first write, so in bulk mode a refused
 * operation has written nothing; a failure after the first write (a
 * resource error) fails the whole group. */
int store_op_begin(store_wtxn *w, MDB_txn **out);

/* Ends the operation begun by store_op_begin with result err (committing
 * or aborting the nested transaction). Returns err or the commit error. */
int store_op_end(store_wtxn *w, MDB_txn *txn, int err);

/* Queues an index entry of a created user for the commit of group w, where
 * entries are written sorted by database and key (cheaper than writing
 * them in arrival order, and outside the operations' nested transactions);
 * in a bulk group, an entry of a database whose entries arrive in order
 * past its end is appended at once instead (pending.c). Only for entries
 * nothing reads before commit or store_pending_flush: the non-unique
 * indexes; and only after every check that can refuse the operation. An
 * operation that fails drops what it queued (store_op_end). Errors:
 * ROSTER_E_NOMEM, and LMDB's (translated) from a direct append. */
int store_pending_add(store_wtxn *w, MDB_dbi dbi, const void *key, size_t klen, const void *data,
                      size_t dlen);

/* Writes the queued entries now, and forgets the ends kept for direct
 * appends: before anything else writes to or reads the deferred
 * databases in the group (an update or delete of a user, a tenant's
 * delete) and at commit. Errors are resource errors. */
int store_pending_flush(store_wtxn *w);

/* Marks the start of an operation of w, whose queued entries
 * store_pending_op_failed drops. */
void store_pending_op_begin(store_wtxn *w);

/* Drops the entries queued since store_pending_op_begin. */
void store_pending_op_failed(store_wtxn *w);

/* Closes the cursors of direct appends, before w's transaction ends
 * without a flush. */
void store_pending_close(store_wtxn *w);

/* Frees the queues of w. */
void store_pending_free(store_wtxn *w);

/* Puts (k, v) into database `dbi`, which is append-cursor database
 * `which` (STORE_APPEND_*), in txn (w's transaction or an operation's
 * nested one). In a bulk group a key greater than every key of the
 * database is appended through a cursor kept open for the group
 * (MDB_APPEND: no search from the root, pages filled to the brim); any
 * other key is put normally. Both overwrite an existing key. Returns an
 * MDB_* code. */
int store_put_append(store_wtxn *w, MDB_txn *txn, int which, MDB_dbi dbi, MDB_val *k, MDB_val *v);

/* Closes the append cursor of `which`, if one is open: called before any
 * other write (delete, overwrite) to its database in w's transaction, so
 * that the cursor never appends after a position another write moved. */
void store_append_forget(store_wtxn *w, int which);

/* Writes the group's counter changes so far into its transaction and
 * empties the table, so that the stored counters are exact from here on
 * (before a tenant delete reads and removes its tenant's counter). Only
 * between operations. Errors are resource errors, which fail the group. */
int store_counters_flush(store_wtxn *w);

/* Grows w->buf to at least n bytes. */
int store_wtxn_scratch(store_wtxn *w, size_t n, uint8_t **out);

/* Default tenant id from meta; ROSTER_E_NOT_FOUND if none. */
int store_default_tenant(MDB_txn *txn, const store *s, roster_uuid *out);

/* Counts in *out the API keys bound to `tenant` that are not revoked
 * (apikeys.c); *example (may be NULL) gets the id of the first of them. */
int store_key_count_live_for_tenant(MDB_txn *txn, const store *s, const roster_uuid *tenant,
                                    uint64_t *out, roster_uuid *example);

#endif
