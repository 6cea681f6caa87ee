/* Internals shared by the modules of the PostgreSQL store (store/pg/). */
#ifndef ROSTER_STORE_PG_INTERNAL_H
#define ROSTER_STORE_PG_INTERNAL_H

#include "pg_conn.h"

#include <stdatomic.h>
#include "pg_store.h"

#include "keys.h"
#include "record.h"

/* Type OIDs of the parameters the store sends (binary format). */
#define PG_OID_BOOL  16
#define PG_OID_BYTEA 17
#define PG_OID_INT8  20
#define PG_OID_INT2  21
#define PG_OID_TEXT  25
#define PG_OID_UUID  2950

struct pgstore {
    pg_pool *pool;
    bool read_only;
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
};

struct pgstore_wtxn {
    pgstore *p;
    pg_conn *c;
    int failed;   /* the connection failed: every later operation and the
                     commit answer this */
    bool in_op;   /* between pg_op_begin and pg_op_end */
    uint8_t *buf; /* scratch for packing records */
    size_t buf_cap;
};

/* One parameter of a statement, sent in binary: `len` bytes at `p` of
 * type `type` (a PG_OID_*); p NULL is SQL NULL. */
typedef struct pg_param {
    const void *p;
    int len;
    unsigned type;
} pg_param;

/* Runs `sql` with params[0..n) on c; results in binary format. On
 * success *out (caller clears it with PQclear) holds the result; on
 * failure it is cleared and pg_conn_err's code returned (*out NULL). */
int pg_run(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out,
           roster_err_detail *detail);

/* pg_run that keeps nothing of the result. */
int pg_run0(pg_conn *c, const char *sql, int n, const pg_param *params, roster_err_detail *detail);

/* Begins one operation of group w (a savepoint); the group's failure if
 * it has one. */
int pg_op_begin(pgstore_wtxn *w, roster_err_detail *detail);

/* Ends the operation with result err: released when ROSTER_E_OK, rolled
 * back to its savepoint otherwise. Returns err, or the failure ending it
 * (the connection lost: the group fails). */
int pg_op_end(pgstore_wtxn *w, int err);

/* The limits of r (pgstore_read_set_limits): DEADLINE_EXCEEDED past the
 * deadline, UNAVAILABLE once stopping, else OK. Walks check it between
 * batches of rows. */
int pg_read_check(pgstore_rtxn *r);

/* Runs `select` (with params) through a server-side cursor of r and calls
 * row(ctx, res, i) for every row, in batches; stops at the first error
 * row returns, or when pg_read_check fails. */
int pg_walk(pgstore_rtxn *r, const char *select, int n, const pg_param *params,
            int (*row)(void *ctx, PGresult *res, int i), void *ctx);

/* Keeps res until r ends (its bytes are lent to the caller). */
int pg_hold(pgstore_rtxn *r, PGresult *res);

/* Grows w->buf to at least n bytes into *out. */
int pg_scratch(pgstore_wtxn *w, size_t n, uint8_t **out);

/* Adds d_users and d_active to the counters of scope (all zeros: no
 * tenant) in w's current operation. */
int pg_counter_add(pgstore_wtxn *w, const roster_uuid *scope, int64_t d_users, int64_t d_active,
                   roster_err_detail *detail);

/* The default tenant's id in w's transaction: ROSTER_E_NOT_FOUND when
 * none. */
int pg_default_tenant(pg_conn *c, roster_uuid *out, roster_err_detail *detail);

/* Whether tenant `id` exists (locked against a concurrent delete until
 * the group ends): NOT_FOUND naming "tenantId" when not. */
int pg_tenant_exists(pg_conn *c, const roster_uuid *id, roster_err_detail *detail);

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

/* A big-endian int64 as PostgreSQL sends int8 in binary, and back. */
void pg_i64_put(uint8_t *buf, int64_t v);
int64_t pg_i64_get(const char *p);

#endif
