/* Statements of the PostgreSQL store sent in libpq's pipeline mode, and
 * prepared once per connection.
 *
 * A write operation's statements (its savepoint, the row, the counters,
 * the change event, the savepoint's release) need no answer before the
 * next one is sent: pg_defer queues them on the connection and pg_sync
 * sends them all with one sync point and reads their results, so an
 * operation costs one round trip instead of one per statement. A
 * statement whose result is needed at once (a read) is queued behind
 * whatever is waiting and synced with it (pg_run_stmt).
 *
 * A pg_stmt is a statement with parameters that the store runs often:
 * the first time a connection runs it, it is prepared (protocol level,
 * named roster_s<number>) in the same pipeline, and every later run only
 * binds and executes it: no parse and no plan on the server.
 *
 * Results come back in the order sent. Once a statement fails, the
 * server skips the rest up to the sync point, so the first failure is
 * the one pg_sync reports (translated by that statement's check, when it
 * has one); with an explicit transaction open, the transaction is then
 * aborted until rolled back (to a savepoint, or pg_rollback). */
#ifndef ROSTER_STORE_PG_PIPE_H
#define ROSTER_STORE_PG_PIPE_H

#include "pg_conn.h"

#include <stdatomic.h>

/* One parameter of a statement, sent in binary: `len` bytes at `p` of
 * type `type` (a PG_OID_*); p NULL is SQL NULL. Its bytes are copied
 * when the statement is queued. */
typedef struct pg_param {
    const void *p;
    int len;
    unsigned type;
} pg_param;

/* At most this many statements are ever numbered (and so prepared); a
 * statement past them is sent unprepared. */
#define PG_STMT_MAX 64

/* A statement run often: `sql` (static, or fixed before its first use)
 * with $1..$n parameters. Define each one once, statically:
 *     static pg_stmt get_user = PG_STMT("SELECT ... WHERE id = $1");
 * Its number is given on first use and shared by every connection. */
typedef struct pg_stmt {
    const char *sql;
    _Atomic int number; /* 0: none yet; else its number plus one */
} pg_stmt;

#define PG_STMT(text)                                                                              \
    {                                                                                              \
        .sql = (text)                                                                              \
    }

/* Parameters per statement, at most. */
#define PG_PARAMS_MAX 64

/* Queues statement s with params[0..n) on c. With `out` non-NULL the
 * statement's result lands in *out at pg_sync (NULL until then, and when
 * it failed; the caller clears it); otherwise it is dropped. `check`
 * (may be NULL) is called by pg_sync when this statement is the one that
 * failed, with the code pg_conn_err gave it (c->constraint set), a copy
 * of ctx[0..ctx_len) (at most PG_CHECK_CTX bytes) and pg_sync's detail;
 * it returns the code to report. Syncs first when the queue is full.
 * ROSTER_E_OK, or UNAVAILABLE when the statement could not be sent (c
 * marked broken). */
int pg_defer(pg_conn *c, pg_stmt *s, int n, const pg_param *params, PGresult **out,
             pg_check_fn check, const void *ctx, size_t ctx_len);

/* pg_defer of a command without parameters that is not prepared (BEGIN,
 * SAVEPOINT, SET LOCAL ...; one command). `sql` is copied. */
int pg_defer_sql(pg_conn *c, const char *sql, PGresult **out, pg_check_fn check, const void *ctx,
                 size_t ctx_len);

/* Queues `sql` with params[0..n) unprepared (a statement built for one
 * query); `out` as for pg_defer. */
int pg_defer_query(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out);

/* pg_defer_query of a statement built per query whose text recurs (a
 * list's count or page): the connection keeps the last PG_DYN_MAX such
 * texts (with their parameter types) prepared, under names of its own
 * (roster_d<n>, never reused on the connection), so a text seen again is
 * only bound and executed, and PostgreSQL may then use a generic plan
 * instead of planning it anew (its plan cache decides, as for any
 * prepared statement). The least recently used is deallocated when a new
 * one needs its place. Falls back to pg_defer_query when out of memory. */
int pg_defer_cached(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out);

/* Frees the statements c keeps for pg_defer_cached and forgets them (a
 * new session has none prepared; the pool's close). */
void pg_dyn_forget(pg_conn *c);

/* Sends everything queued on c with one sync point and reads every
 * result: ROSTER_E_OK when all succeeded, else the first failure's code
 * (after its check), described in detail. A connection lost on the way
 * is UNAVAILABLE and marked broken. Nothing queued: ROSTER_E_OK at once.
 * Leaves c out of pipeline mode. */
int pg_sync(pg_conn *c, roster_err_detail *detail);

/* Queues s and syncs: on success *out (caller clears) holds its result;
 * on failure *out is NULL and the first failure's code is returned. */
int pg_run_stmt(pg_conn *c, pg_stmt *s, int n, const pg_param *params, PGresult **out,
                roster_err_detail *detail);

/* pg_run_stmt that keeps nothing of the result. */
int pg_run_stmt0(pg_conn *c, pg_stmt *s, int n, const pg_param *params, roster_err_detail *detail);

/* pg_run_stmt of `sql` unprepared (a statement built for one query, or
 * run rarely); results in binary format. */
int pg_run(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out,
           roster_err_detail *detail);

/* pg_run that keeps nothing of the result. */
int pg_run0(pg_conn *c, const char *sql, int n, const pg_param *params, roster_err_detail *detail);

/* Ends c's transaction without keeping anything: whatever is queued is
 * sent (its failures ignored), then ROLLBACK when a transaction is still
 * open. Does nothing on a broken connection. */
void pg_rollback(pg_conn *c);

#endif
