/* The PostgreSQL store's schema and its versioned migrations.
 *
 * The database records its schema version in roster_schema (one row).
 * Migrations run in order, each once, all of them in one transaction
 * that holds an advisory lock: several roster-users starting at once on
 * one database migrate it exactly once (the others wait for the lock,
 * then find it done), and a migration that fails leaves the database as
 * it was. A database newer than this build is refused, never changed.
 *
 * Tables (every name starts with roster_; the columns after `record` are
 * derived from it and exist for the indexes):
 *   roster_schema   version
 *   roster_meta     key -> value: environment id, ...
 *   roster_tenants  id, record (roster.v1.Tenant), name_key (the LMDB
 *                   tenant_name order), is_default (at most one true)
 *   roster_users    id, record (roster.v1.User), tenant_id (foreign key),
 *                   scope (tenant or all zeros), flags (active), and the
 *                   same key bytes the LMDB store orders and compares by:
 *                   u_<field> per unique index (u_reference, u_email
 *                   case-folded), unique per scope, and s_<field> per sort index of the model
 *                   (store_fields), each indexed per scope and over all
 *                   users with the id as tie-break. bytea compares as
 *                   memcmp, so PostgreSQL orders exactly as LMDB does.
 *   roster_counts   scope -> users, active: the users of each scope (the
 *                   all-zero scope: users without a tenant), kept by every
 *                   write in its transaction, so totals are O(1) as in LMDB
 *   roster_keys     id, tenant_id (no foreign key: revoked keys keep
 *                   naming deleted tenants), record (roster.v1.ApiKey)
 * Version 2, the change feed (pg_changes.c):
 *   roster_changes  seq -> record (roster.v1.Change, seq inside), at_ms
 *                   (its committedAt, for retention by age), tenant_id and
 *                   prev_tenant_id (its tenantId and previousTenantId, for
 *                   a scoped ListChanges), user_id (the user whose personal
 *                   data it holds; NULL once scrubbed, and for tenant events
 *                   and deletions: the scrub of a delete finds its rows by
 *                   this index)
 *   roster_feed     one row: latest (the last seq given out), floor (every
 *                   event with floor < seq <= latest is kept). Its row lock
 *                   is what orders the feed's writers (pg_changes.c)
 * Version 4, customData indexes (pg_custom.c):
 *   roster_custom_decl  decl ("path:type") -> ready (built), dropping
 *                       (undeclared, its entries being deleted)
 *   roster_custom       decl, user_id -> cscope (the user's scope), flags
 *                       (the user's roster_users.flags), value
 *                       (custom_index.h's encoding: bytea order is the
 *                       value order); indexed (decl, value, user_id) and
 *                       (decl, cscope, value, user_id), flags included
 *   roster_custom_counts decl, cscope -> entries, active (exact once
 *                       the declaration is ready)
 *   roster_feed         custom_gen: changes with the declared set */
#ifndef ROSTER_STORE_PG_SCHEMA_H
#define ROSTER_STORE_PG_SCHEMA_H

#include "pg_conn.h"

#include <stdint.h>

/* The schema version this build reads and writes. */
#define PG_SCHEMA_VERSION 4

/* The column of sort index i (store_fields order): "s_first_name" for
 * idx_first_name. Static. */
const char *pg_sort_column(int sort);

/* The column of unique index u (store_fields order): "u_email" for
 * uniq_email; its index is "roster_users_" and the column. Static. */
const char *pg_uniq_column(int uniq);

/* Brings the database of c (no transaction open) to PG_SCHEMA_VERSION:
 * *from (may be NULL) gets the version found (0: an empty database).
 * read_only: nothing is created or changed, and a database not at
 * PG_SCHEMA_VERSION is refused (ROSTER_E_NOT_FOUND when it holds no
 * Roster schema, ROSTER_E_VERSION when another version). Errors:
 * ROSTER_E_VERSION (the database is newer than this build, with both
 * versions in detail), pg_conn_err's. */
int pg_schema_migrate(pg_conn *c, bool read_only, uint32_t *from, roster_err_detail *detail);

#endif
