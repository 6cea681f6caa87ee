/* Ordered walks over index entries by their order key.
 *
 * The order key of an entry is what a list orders by: the sort value and
 * the id for a sort index, the id alone for idx_tenant and the records
 * (cursor.h keeps the same bytes in a cursor). An entry of a
 * duplicate-sorted database (store_internal.h: idx_tenant, the sort
 * indexes) has it split between its key, after the scope, and its data,
 * which starts with the id; an entry of any other database has it as the
 * part of its key after a fixed prefix.
 *
 * A walk has one or more sources, each a range of keys of one database
 * (a scope and maybe a value, or a customData index's part), and yields
 * the entries of all of them in order-key order (merged through a heap
 * when there are several: an order over all users of a per-tenant index
 * is the merge of its tenants' ranges). Everything read is borrowed from
 * the read transaction's map and stays valid until the transaction ends.
 *
 * A database of the "values in data" layout (store_internal.h) keeps the
 * whole order key, value then id, in each entry's data before the flags
 * byte, under the scope as the only key. */
#ifndef ROSTER_STORE_EWALK_H
#define ROSTER_STORE_EWALK_H

#include "cursor_pool.h"
#include "keys.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest order key: a sort value and an id. */
#define EWALK_ORD_MAX KEY_MAX

/* How a database keeps its entries' order keys. */
typedef enum {
    EWALK_PLAIN, /* in the key, after a fixed prefix */
    EWALK_DUP,   /* duplicate-sorted: in the key after the scope, then the
                    first 16 bytes (the id) of the data */
    EWALK_VDATA, /* duplicate-sorted, values in data: the data but its last
                    (flags) byte, under the scope's key */
} ewalk_layout;

typedef struct ewalk_src {
    MDB_cursor *c;
    uint8_t scope[16]; /* duplicate-sorted sources: the scope their keys start with */
    MDB_val k, d;      /* the current entry, when valid */
    bool valid;
} ewalk_src;

typedef struct ewalk {
    ewalk_layout layout;
    bool dup;  /* a duplicate-sorted database (EWALK_DUP or EWALK_VDATA) */
    bool desc; /* walking from the greatest order key down */
    /* Keys walked start with a source's scope (dup) then part[0..pn); for
     * EWALK_PLAIN databases with part[0..pn) alone; for EWALK_VDATA the
     * key is the scope and the data starts with part[0..pn). The order
     * key is the key after `strip` bytes, then (EWALK_DUP) the first 16
     * bytes of the data. */
    uint8_t part[KEY_MAX];
    size_t pn, strip;
    ewalk_src *src; /* n sources, malloc'd */
    size_t n;
    MDB_cursor **cur;  /* the sources' cursors (cursor_pool_take), malloc'd */
    cursor_pool *pool; /* where they go back; NULL: closed */
    MDB_dbi dbi;
    size_t *heap; /* indexes of valid sources, best first (n > 1) */
    size_t hn;
    bool unordered; /* ewalk_unordered: heap[0] is drained first, no sifting */
    /* The current entry (ewalk_valid): its order key, id and data. */
    uint8_t ord[EWALK_ORD_MAX];
    size_t on;
    MDB_val data;
} ewalk;

/* Opens a walk over database dbi in txn, of layout `layout`. EWALK_DUP: a
 * duplicate-sorted database, with one source per scope of
 * scopes[0..n_scopes) (16 bytes each), whose keys are scope then
 * part[0..pn) then the rest of the order key; the order key excludes the
 * scope. EWALK_VDATA: the same sources, whose keys are the scope and
 * whose data are part[0..pn), the rest of the order key, then flags.
 * EWALK_PLAIN: one source, keys part[0..pn) then the order key (scopes
 * unused, n_scopes ignored). The walk is not
 * positioned: call ewalk_first or ewalk_seek. The cursors come from
 * `pool` (borrowed, may be NULL: opened and closed) and go back to it at
 * ewalk_close, so txn must be read-only when pool is given. ROSTER_E_OK,
 * or ROSTER_E_NOMEM / an LMDB error (ewalk_close is safe either way). */
int ewalk_open(ewalk *w, MDB_txn *txn, MDB_dbi dbi, ewalk_layout layout,
               const uint8_t (*scopes)[16], size_t n_scopes, const uint8_t *part, size_t pn,
               bool desc, cursor_pool *pool);

/* Closes the cursors and frees what ewalk_open allocated. */
void ewalk_close(ewalk *w);

/* Positions at the first entry in walk order. MDB_* code of a failure
 * (an empty walk is 0, and ewalk_valid false). */
int ewalk_first(ewalk *w);

/* Positions at the first entry whose order key comes strictly after
 * ord[0..on) in walk order (on >= 16: the key ends with an id). */
int ewalk_seek_after(ewalk *w, const uint8_t *ord, size_t on);

/* Ascending walks only: positions at the first entry whose order key is
 * at least val[0..vn) (a value prefix without id). */
int ewalk_seek_value(ewalk *w, const uint8_t *val, size_t vn);

/* Moves to the next entry in walk order, or, once ewalk_unordered was
 * called, to any entry not visited yet. */
int ewalk_next(ewalk *w);

/* From now on ewalk_next visits every entry the walk has not reached yet
 * exactly once, in no particular order across sources (each source in its
 * own order): for counting the matches past a page, which need no order,
 * without a heap step per entry. */
void ewalk_unordered(ewalk *w);

/* Leaves out the rest of the current entry's source (it is on the next
 * source's entry afterwards, which ewalk_next has not visited): for a walk
 * that knows nothing further in that source is wanted. */
void ewalk_drop_current(ewalk *w);

/* Whether the walk is on an entry: w->ord[0..on) its order key (the id
 * its last 16 bytes), w->data its data. */
static inline bool ewalk_valid(const ewalk *w)
{
    return w->on > 0;
}

/* The flags byte of the current entry (0 when the entry has none). */
uint8_t ewalk_flags(const ewalk *w);

/* The distinct scopes of idx_tenant (every scope with at least one user),
 * in key order, as a malloc'd array of 16-byte scopes in *out (NULL when
 * none) with their count in *n. */
int ewalk_scopes(MDB_txn *txn, MDB_dbi idx_tenant, uint8_t (**out)[16], size_t *n);

#endif
