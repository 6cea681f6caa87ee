/* Read-only LMDB cursors kept for reuse, per database.
 *
 * A page over every tenant ordered by a field merges every tenant's range
 * of the field's sort index (ewalk.h), with a cursor per tenant. Opening
 * and closing thousands of cursors per page (a malloc and a free each,
 * and the heap grown and trimmed back every time) was about a third of
 * such a page at 5,000 tenants. Cursors used only in read-only transactions may
 * be attached to a later read-only transaction with mdb_cursor_renew
 * instead (LMDB's documented way to avoid that malloc and free), so a
 * store keeps the ones its merges gave back. Thread-safe. */
#ifndef ROSTER_STORE_CURSOR_POOL_H
#define ROSTER_STORE_CURSOR_POOL_H

#include <lmdb.h>
#include <stddef.h>

/* The most cursors kept in all (about 11 MB: enough for a merge of
 * 16,384 tenants, or several orders' merges of fewer); more given back
 * are closed. */
#define CURSOR_POOL_KEEP 16384

/* Databases whose handle is below this are pooled; others are not. */
#define CURSOR_POOL_DBS 64

typedef struct cursor_pool cursor_pool;

/* On success *out is caller-owned until cursor_pool_free.
 * ROSTER_E_NOMEM. */
int cursor_pool_new(cursor_pool **out);

/* Closes every kept cursor and frees p. Call before mdb_env_close of
 * their environment. Accepts NULL. */
void cursor_pool_free(cursor_pool *p);

/* Fills c[0..n) with cursors on dbi in txn, which must be a read-only
 * transaction: kept cursors renewed first, then new ones. p may be NULL
 * (every cursor new). The cursors are the caller's until
 * cursor_pool_give. Returns 0 or an LMDB error (then none are taken and
 * c[] is undefined). */
int cursor_pool_take(cursor_pool *p, MDB_txn *txn, MDB_dbi dbi, MDB_cursor **c, size_t n);

/* Gives back c[0..n), taken from p for dbi, before or after their
 * transaction ended: kept while p keeps fewer than CURSOR_POOL_KEEP in
 * all, the rest closed. p NULL closes them all. */
void cursor_pool_give(cursor_pool *p, MDB_dbi dbi, MDB_cursor **c, size_t n);

/* How many cursors p keeps for dbi (0 for p NULL). */
size_t cursor_pool_kept(cursor_pool *p, MDB_dbi dbi);

#endif
