/* Pipeline mode and prepared statements (pg_pipe.h). */
#include "pg_pipe.h"

#include <stdio.h>
#include <string.h>

/* Results read past the one expected, at most, before the connection is
 * taken as lost (libpq sends one result per command; this only bounds a
 * misbehaving peer). */
#define DRAIN_MAX 64

/* The number of statement s, given on its first use. */
static int stmt_number(pg_stmt *s)
{
    static _Atomic int next;
    int have = atomic_load_explicit(&s->number, memory_order_acquire);
    if (have)
        return have - 1;
    int mine = atomic_fetch_add(&next, 1) + 1;
    if (atomic_compare_exchange_strong(&s->number, &have, mine))
        return mine - 1;
    return have - 1; /* another thread numbered it first */
}

/* libpq could not queue a command: the connection is gone or its buffer
 * could not grow. Either way it is not used again. */
static int send_failed(pg_conn *c)
{
    c->broken = true;
    return ROSTER_E_UNAVAILABLE;
}

/* Room for `need` more statements on c, in pipeline mode: syncs first
 * when the queue is too full. */
static int make_room(pg_conn *c, size_t need)
{
    if (c->broken)
        return ROSTER_E_UNAVAILABLE;
    if (c->n_queued + need > PG_PIPE_MAX) {
        int err = pg_sync(c, NULL);
        if (err != ROSTER_E_OK)
            return err;
    }
    if (PQpipelineStatus(c->c) == PQ_PIPELINE_OFF && PQenterPipelineMode(c->c) != 1)
        return send_failed(c);
    return ROSTER_E_OK;
}

/* Records the statement just sent on c. */
static void push(pg_conn *c, PGresult **out, pg_check_fn check, const void *ctx, size_t ctx_len,
                 int prepares)
{
    pg_queued *q = &c->queue[c->n_queued++];
    q->out = out;
    q->check = check;
    q->prepares = prepares;
    if (ctx_len)
        memcpy(q->ctx, ctx, ctx_len);
    if (out)
        *out = NULL;
}

/* libpq's arrays for params[0..n) (binary). */
typedef struct wire_params {
    Oid types[PG_PARAMS_MAX];
    const char *values[PG_PARAMS_MAX];
    int lens[PG_PARAMS_MAX], formats[PG_PARAMS_MAX];
} wire_params;

static void wire(wire_params *w, int n, const pg_param *params)
{
    for (int i = 0; i < n; i++) {
        w->types[i] = params[i].type;
        w->values[i] = params[i].p;
        w->lens[i] = params[i].len;
        w->formats[i] = 1;
    }
}

/* Queues `sql` unprepared. */
static int send_text(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out,
                     pg_check_fn check, const void *ctx, size_t ctx_len)
{
    if (n < 0 || n > PG_PARAMS_MAX || ctx_len > PG_CHECK_CTX)
        return ROSTER_E_INTERNAL;
    wire_params wp;
    wire(&wp, n, params);
    int err = make_room(c, 1);
    if (err != ROSTER_E_OK)
        return err;
    if (PQsendQueryParams(c->c, sql, n, wp.types, wp.values, wp.lens, wp.formats, 1) != 1)
        return send_failed(c);
    push(c, out, check, ctx, ctx_len, 0);
    return ROSTER_E_OK;
}

int pg_defer(pg_conn *c, pg_stmt *s, int n, const pg_param *params, PGresult **out,
             pg_check_fn check, const void *ctx, size_t ctx_len)
{
    int number = stmt_number(s);
    if (number >= PG_STMT_MAX)
        return send_text(c, s->sql, n, params, out, check, ctx, ctx_len);
    if (n < 0 || n > PG_PARAMS_MAX || ctx_len > PG_CHECK_CTX)
        return ROSTER_E_INTERNAL;
    wire_params wp;
    wire(&wp, n, params);
    int err = make_room(c, 2);
    if (err != ROSTER_E_OK)
        return err;
    char name[24];
    snprintf(name, sizeof name, "roster_s%d", number);
    uint64_t bit = (uint64_t)1 << number;
    if (!(c->prepared & bit)) {
        /* Taken as prepared from here on; pg_sync clears the bit again if
         * the prepare did not succeed. */
        if (PQsendPrepare(c->c, name, s->sql, n, wp.types) != 1)
            return send_failed(c);
        push(c, NULL, NULL, NULL, 0, number + 1);
        c->prepared |= bit;
    }
    if (PQsendQueryPrepared(c->c, name, n, wp.values, wp.lens, wp.formats, 1) != 1)
        return send_failed(c);
    push(c, out, check, ctx, ctx_len, 0);
    return ROSTER_E_OK;
}

int pg_defer_sql(pg_conn *c, const char *sql, PGresult **out, pg_check_fn check, const void *ctx,
                 size_t ctx_len)
{
    return send_text(c, sql, 0, NULL, out, check, ctx, ctx_len);
}

int pg_defer_query(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out)
{
    return send_text(c, sql, n, params, out, NULL, NULL, 0);
}

/* The result of the next command sent on c, with the NULL that ends it
 * consumed; NULL when the connection failed. */
static PGresult *command_result(pg_conn *c)
{
    PGresult *res = PQgetResult(c->c);
    if (res == NULL)
        return NULL;
    for (int i = 0; i < DRAIN_MAX; i++) {
        PGresult *more = PQgetResult(c->c);
        if (more == NULL)
            return res;
        PQclear(more);
    }
    PQclear(res);
    return NULL;
}

/* Reads up to a sync point's result; c is marked broken when that
 * fails. */
static void read_sync_point(pg_conn *c)
{
    for (int i = 0; !c->broken; i++) {
        PGresult *res = PQgetResult(c->c);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        PQclear(res);
        if (st == PGRES_PIPELINE_SYNC)
            break;
        if (res == NULL || i >= DRAIN_MAX)
            c->broken = true;
    }
}

/* Reads the results of queue[from..to) and their sync point: the first
 * failure's code (after its check), described in detail. */
static int read_results(pg_conn *c, size_t from, size_t to, roster_err_detail *detail)
{
    int first = ROSTER_E_OK;
    for (size_t i = from; i < to; i++) {
        pg_queued *q = &c->queue[i];
        PGresult *res = c->broken ? NULL : command_result(c);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (!ok && q->prepares)
            c->prepared &= ~((uint64_t)1 << (q->prepares - 1));
        if (ok && q->out) {
            *q->out = res;
            res = NULL;
        } else if (!ok && first == ROSTER_E_OK) {
            if (res == NULL)
                c->broken = true;
            if (st == PGRES_PIPELINE_ABORTED) {
                /* Skipped without an earlier failure in sight: nothing
                 * queued here should do that. */
                first = roster_fail(detail, ROSTER_E_INTERNAL, "store",
                                    "PostgreSQL skipped a statement of the pipeline");
            } else {
                first = pg_conn_err(c, res, detail);
                if (q->check)
                    first = q->check(c, first, q->ctx, detail);
            }
        }
        PQclear(res);
    }
    read_sync_point(c);
    return first;
}

int pg_sync(pg_conn *c, roster_err_detail *detail)
{
    size_t n = c->n_queued, sent = c->n_sent;
    if (n == 0)
        return ROSTER_E_OK;
    c->n_queued = c->n_sent = 0;
    if (n > sent && !c->broken && PQpipelineSync(c->c) != 1)
        c->broken = true;
    /* What went out with pg_send first: its statements answered someone
     * who no longer waits; only a lost connection matters (below). */
    if (sent > 0)
        read_results(c, 0, sent, NULL);
    int first = ROSTER_E_OK;
    if (n > sent)
        first = read_results(c, sent, n, detail);
    if (!c->broken && PQexitPipelineMode(c->c) != 1)
        c->broken = true;
    if (c->broken && first == ROSTER_E_OK)
        first = pg_conn_err(c, NULL, detail);
    return first;
}

void pg_send(pg_conn *c)
{
    if (c->broken || c->n_queued == c->n_sent)
        return;
    /* One sync point in flight unread at most (pg_sync reads one before
     * what follows it), and nobody waiting among what is sent. */
    bool now = c->n_sent > 0;
    for (size_t i = c->n_sent; i < c->n_queued && !now; i++)
        now = c->queue[i].out || c->queue[i].check;
    if (now) {
        pg_sync(c, NULL);
        return;
    }
    /* PQpipelineSync flushes: the server runs them at once. */
    if (PQpipelineSync(c->c) != 1) {
        c->broken = true;
        return;
    }
    c->n_sent = c->n_queued;
}

int pg_run_stmt(pg_conn *c, pg_stmt *s, int n, const pg_param *params, PGresult **out,
                roster_err_detail *detail)
{
    *out = NULL;
    int err = pg_defer(c, s, n, params, out, NULL, NULL, 0);
    int synced = pg_sync(c, detail);
    if (err == ROSTER_E_OK)
        err = synced;
    if (err != ROSTER_E_OK && *out) {
        PQclear(*out);
        *out = NULL;
    }
    return err;
}

int pg_run_stmt0(pg_conn *c, pg_stmt *s, int n, const pg_param *params, roster_err_detail *detail)
{
    PGresult *res;
    int err = pg_run_stmt(c, s, n, params, &res, detail);
    PQclear(res);
    return err;
}

void pg_rollback(pg_conn *c)
{
    if (c->broken)
        return;
    pg_sync(c, NULL);
    if (!c->broken && PQtransactionStatus(c->c) != PQTRANS_IDLE)
        pg_exec(c, "ROLLBACK", NULL);
}
