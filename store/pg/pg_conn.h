/* Connections to PostgreSQL for the PostgreSQL store backend: a pool of
 * libpq connections to one database, and the translation of libpq's
 * failures into ROSTER_E_* codes.
 *
 * A pool holds at most `size` connections, made on first use. A thread
 * takes one with pg_pool_acquire (waiting while all are taken) and gives
 * it back with pg_pool_release. A connection that failed (the server went
 * away, the network broke) is reported by pg_conn_err as
 * ROSTER_E_UNAVAILABLE and marked broken; the pool closes it on release
 * and the next acquire connects afresh, so a lost database is recovered
 * from without restarting anything. Every connection runs with
 * synchronous_commit on (an acknowledged commit is durable) and its
 * server notices discarded (they would go to stderr). */
#ifndef ROSTER_STORE_PG_CONN_H
#define ROSTER_STORE_PG_CONN_H

#include "error.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pg_pool pg_pool;
typedef struct pg_conn pg_conn;

/* Statements queued on a connection in pipeline mode, at most
 * (pg_pipe.h). */
#define PG_PIPE_MAX 48
/* Bytes of context a queued statement's check gets, at most. */
#define PG_CHECK_CTX 64

/* Translates the failure `err` of a queued statement (pg_pipe.h). */
typedef int (*pg_check_fn)(pg_conn *c, int err, const void *ctx, roster_err_detail *detail);

/* A statement sent in pipeline mode whose result is still to be read
 * (pg_pipe.c). */
typedef struct pg_queued {
    PGresult **out;    /* receives the result; NULL: dropped */
    pg_check_fn check; /* NULL: pg_conn_err's code stands */
    int prepares;      /* the statement number this prepares, plus one;
                          0: not a prepare */
    int dyn_slot;      /* the cached statement's slot this prepares, plus
                          one; 0: none (pg_defer_cached) */
    uint64_t dyn_name; /* the name number that prepare gave it */
    unsigned char ctx[PG_CHECK_CTX];
} pg_queued;

/* Statements built per query that a connection keeps prepared, at most
 * (pg_defer_cached). */
#define PG_DYN_MAX 32

/* One of them: its text and parameter types, and the name it is
 * prepared under on the connection. */
typedef struct pg_dyn {
    char *sql;          /* malloc'd; NULL: the slot is free */
    uint64_t hash;      /* of the text and the types */
    int n;              /* parameters */
    unsigned *types;    /* malloc'd, n of them */
    uint64_t name;      /* prepared as roster_d<name>; 0: not prepared */
    uint64_t last_used; /* the connection's use counter at its last use */
} pg_dyn;

/* One connection of a pool, owned by the thread that acquired it until
 * pg_pool_release. */
struct pg_conn {
    PGconn *c;
    bool broken; /* set by pg_conn_err on a connection failure */
    /* The constraint the last failed command broke (a unique index's or
     * a foreign key's name), "" when none; set by pg_conn_err. */
    char constraint[64];
    size_t slot;       /* its place in the pool */
    uint64_t prepared; /* bit i: statement number i is prepared on it */
    pg_queued queue[PG_PIPE_MAX];
    size_t n_queued;
    pg_dyn dyn[PG_DYN_MAX]; /* owned; emptied by pg_dyn_forget */
    uint64_t dyn_uses;      /* pg_defer_cached calls so far */
    uint64_t dyn_names;     /* names given so far (roster_d<n>) */
    uint64_t dyn_prepares;  /* prepares sent so far (for tests) */
};

/* Makes a pool of at most `size` (>= 1) connections to the database that
 * `url` names (a postgres:// or postgresql:// URL, or any libpq conninfo;
 * copied) into *out (caller-owned, pg_pool_close). Connects once to check
 * the URL: ROSTER_E_UNAVAILABLE with the server's reason in detail when
 * that fails, ROSTER_E_INVALID_ARGUMENT for a URL libpq cannot parse,
 * ROSTER_E_NOMEM. */
int pg_pool_open(pg_pool **out, const char *url, size_t size, roster_err_detail *detail);

/* Closes every connection and frees p. No connection may be taken.
 * Accepts NULL. */
void pg_pool_close(pg_pool *p);

/* Takes a connection of p into *out (connecting it when needed), waiting
 * while all are taken. ROSTER_E_UNAVAILABLE (with the reason in detail)
 * when the database cannot be reached; *out is then untouched. */
int pg_pool_acquire(pg_pool *p, pg_conn **out, roster_err_detail *detail);

/* Gives c back to p; a broken connection, or one left inside a
 * transaction or with statements queued (pg_pipe.h), is closed (the next
 * acquire of its slot connects again). */
void pg_pool_release(pg_pool *p, pg_conn *c);

/* The ROSTER_E_* code for result `res` of a command on c (res may be
 * NULL: libpq could not send it): ROSTER_E_OK for PGRES_COMMAND_OK and
 * PGRES_TUPLES_OK; otherwise by SQLSTATE: a connection failure (class 08,
 * the server shutting down, too many connections, or c no longer
 * connected) UNAVAILABLE and c marked broken; unique_violation
 * ALREADY_EXISTS; foreign_key_violation FAILED_PRECONDITION;
 * serialization failure and deadlock BUSY (the caller may retry);
 * query_canceled (a statement timeout) DEADLINE_EXCEEDED; disk_full and
 * out_of_memory RESOURCE_EXHAUSTED; anything else INTERNAL. The server's
 * message goes into detail (field "store") for failures. Does not clear
 * res. */
int pg_conn_err(pg_conn *c, const PGresult *res, roster_err_detail *detail);

/* The SQLSTATE of a failed result, "" when there is none. Borrowed from
 * res. */
const char *pg_sqlstate(const PGresult *res);

/* Runs `sql` (one or more commands, no parameters) on c, after whatever
 * is queued on it (pg_sync), and returns the first failure's code or
 * pg_conn_err of its result. */
int pg_exec(pg_conn *c, const char *sql, roster_err_detail *detail);

#endif
