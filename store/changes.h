/* The change feed inside the store (layout in store_internal.h): the hooks
 * the write paths call, in the operation's own (nested) transaction, so an
 * event exists exactly when its change does. Each hook is one call per
 * kind of write:
 *
 *   user_put (users.c)            create, update, restore of a user
 *   pack_put_tenant (tenants.c)   create, update, restore of a tenant, and
 *                                 the previous default losing its mark
 *   the delete paths              changes_append_user_deleted,
 *                                 changes_append_tenant_deleted
 *
 * Every hook must be called after the operation's last check that can
 * refuse it (in bulk mode a refused operation must have written nothing)
 * and before the record itself is overwritten (the old record is read
 * from the map). A hook that fails fails the operation, which the caller
 * ends with store_op_end as usual; the sequence numbers it took are given
 * back then. With the feed off (store_options.changes_off) the hooks write
 * nothing and only remember that the group changed data unrecorded. */
#ifndef ROSTER_STORE_CHANGES_H
#define ROSTER_STORE_CHANGES_H

#include "record.h"
#include "store_internal.h"

/* A user record is about to be written in txn (an operation of w): `old`
 * is the stored record it replaces (NULL for a create or restore), `nv`
 * the view of the new encoding (borrowed for the call) and `u` the new
 * record. Appends USER_CREATED (with the whole record), USER_UPDATED,
 * USER_DEACTIVATED or USER_REACTIVATED with the fields that changed
 * (change_event.h builds them). */
int changes_append_user(store_wtxn *w, MDB_txn *txn, const user_view *old, const user_view *nv,
                        const Roster__V1__User *u);

/* A tenant record is about to be written: `old`/`old_len` the stored
 * encoding it replaces (NULL for a new tenant), `t` the new record and
 * `bytes`/`len` its encoding. Appends TENANT_CREATED or TENANT_UPDATED. */
int changes_append_tenant(store_wtxn *w, MDB_txn *txn, const void *old, size_t old_len,
                          const Roster__V1__Tenant *t, const void *bytes, size_t len);

/* User `id` of tenant `tenant` (NULL: none) is being deleted in txn:
 * erases the personal fields of every earlier event of that user still in
 * the feed (the user-id index points at them) and appends USER_DELETED
 * carrying the id and the tenant only. For the delete path: call it once,
 * in the delete's operation, after the checks that can refuse the delete. */
int changes_append_user_deleted(store_wtxn *w, MDB_txn *txn, const roster_uuid *id,
                                const roster_uuid *tenant);

/* Tenant `id` is being deleted in txn: appends TENANT_DELETED (the id).
 * Users deleted with it each need changes_append_user_deleted. */
int changes_append_tenant_deleted(store_wtxn *w, MDB_txn *txn, const roster_uuid *id);

/* Operation bookkeeping, called by store_op_begin and store_op_end: the
 * group's sequence counter is saved, and given back when the operation
 * fails. */
void changes_op_begin(store_wtxn *w);
void changes_op_failed(store_wtxn *w);

/* At group commit, in the group's transaction: trims what retention
 * allows (at most what the group appended plus STORE_CHANGES_TRIM_EXTRA
 * events) and writes the counters to the meta database. */
int changes_commit(store_wtxn *w);

/* One mismatch store_verify reports: `db` static, `id` may be NULL,
 * `message` valid during the call. */
typedef void (*changes_issue_fn)(void *ctx, store_issue_kind kind, const char *db,
                                 const roster_uuid *id, const char *message);

/* Checks the feed of r's snapshot: the counters (floor <= latest), every
 * event (decodes, its seq is its key, not past latest, a user event has
 * its changes_user entry) and every changes_user entry (names a kept
 * event of that user). Calls fn per mismatch. Returns ROSTER_E_OK when
 * the check ran. */
int changes_verify(store_rtxn *r, changes_issue_fn fn, void *ctx);

#endif
