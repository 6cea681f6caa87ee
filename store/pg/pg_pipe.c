/* Pipeline mode and prepared statements (pg_pipe.h). */
#include "pg_pipe.h"

#include <stdio.h>
#include <stdlib.h>
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
    q->dyn_slot = 0;
    q->dyn_name = 0;
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

/* The checks, libpq's arrays and the queue's room (`room` statements)
 * that sending a statement with params[0..n) needs. */
static int ready_to_send(pg_conn *c, int n, const pg_param *params, size_t ctx_len, size_t room,
                         wire_params *wp)
{
    if (n < 0 || n > PG_PARAMS_MAX || ctx_len > PG_CHECK_CTX)
        return ROSTER_E_INTERNAL;
    wire(wp, n, params);
    return make_room(c, room);
}

/* Queues `sql` unprepared. */
static int send_text(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out,
                     pg_check_fn check, const void *ctx, size_t ctx_len)
{
    wire_params wp;
    int err = ready_to_send(c, n, params, ctx_len, 1, &wp);
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
    wire_params wp;
    int err = ready_to_send(c, n, params, ctx_len, 2, &wp);
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

/* FNV-1a over the text and the parameter types: a cached statement is
 * the same only with the same types (a type is not in the text). */
static uint64_t dyn_hash(const char *sql, int n, const unsigned *types)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    for (int i = 0; i < n; i++)
        h = (h ^ types[i]) * 1099511628211ull;
    return h;
}

static void dyn_clear(pg_dyn *d)
{
    free(d->sql);
    free(d->types);
    memset(d, 0, sizeof *d);
}

void pg_dyn_forget(pg_conn *c)
{
    for (int i = 0; i < PG_DYN_MAX; i++)
        dyn_clear(&c->dyn[i]);
}

/* c's slot for sql with types[0..n): the one that holds it, else a free
 * one, else the least recently used (with its statement still named:
 * the caller deallocates it). */
static pg_dyn *dyn_slot(pg_conn *c, const char *sql, int n, const unsigned *types, uint64_t h,
                        bool *found)
{
    pg_dyn *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < PG_DYN_MAX; i++) {
        pg_dyn *d = &c->dyn[i];
        if (d->sql == NULL) {
            if (free_slot == NULL)
                free_slot = d;
            continue;
        }
        if (d->hash == h && d->n == n && strcmp(d->sql, sql) == 0 &&
            memcmp(d->types, types, (size_t)n * sizeof *types) == 0) {
            *found = true;
            return d;
        }
        if (oldest == NULL || d->last_used < oldest->last_used)
            oldest = d;
    }
    *found = false;
    return free_slot ? free_slot : oldest;
}

int pg_defer_cached(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out)
{
    wire_params wp;
    /* Room for a DEALLOCATE, the prepare and the statement. */
    int err = ready_to_send(c, n, params, 0, 3, &wp);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t h = dyn_hash(sql, n, wp.types);
    bool found;
    pg_dyn *d = dyn_slot(c, sql, n, wp.types, h, &found);
    if (!found) {
        char *copy = strdup(sql);
        unsigned *types = malloc((size_t)(n > 0 ? n : 1) * sizeof *types);
        if (copy == NULL || types == NULL) {
            free(copy);
            free(types);
            return send_text(c, sql, n, params, out, NULL, NULL, 0);
        }
        if (d->name != 0) {
            /* Not transactional, so it holds even if the transaction
             * rolls back; if the pipeline skips it, the old statement is
             * only left behind on the server under its unique name. */
            char drop[48];
            snprintf(drop, sizeof drop, "DEALLOCATE roster_d%llu", (unsigned long long)d->name);
            if (PQsendQueryParams(c->c, drop, 0, NULL, NULL, NULL, NULL, 1) != 1) {
                free(copy);
                free(types);
                return send_failed(c);
            }
            push(c, NULL, NULL, NULL, 0, 0);
        }
        dyn_clear(d);
        d->sql = copy;
        d->types = types;
        memcpy(types, wp.types, (size_t)n * sizeof *types);
        d->n = n;
        d->hash = h;
    }
    d->last_used = ++c->dyn_uses;
    char name[32];
    if (d->name == 0) {
        /* Taken as prepared from here on; pg_sync forgets the name again
         * if the prepare did not succeed. */
        d->name = ++c->dyn_names;
        snprintf(name, sizeof name, "roster_d%llu", (unsigned long long)d->name);
        if (PQsendPrepare(c->c, name, d->sql, n, wp.types) != 1)
            return send_failed(c);
        push(c, NULL, NULL, NULL, 0, 0);
        c->queue[c->n_queued - 1].dyn_slot = (int)(d - c->dyn) + 1;
        c->queue[c->n_queued - 1].dyn_name = d->name;
        c->dyn_prepares++;
    }
    snprintf(name, sizeof name, "roster_d%llu", (unsigned long long)d->name);
    if (PQsendQueryPrepared(c->c, name, n, wp.values, wp.lens, wp.formats, 1) != 1)
        return send_failed(c);
    push(c, out, NULL, NULL, 0, 0);
    return ROSTER_E_OK;
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

/* Reads up to the sync point's result and leaves pipeline mode; c is
 * marked broken when either fails. */
static void finish_pipeline(pg_conn *c)
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
    if (!c->broken && PQexitPipelineMode(c->c) != 1)
        c->broken = true;
}

int pg_sync(pg_conn *c, roster_err_detail *detail)
{
    size_t n = c->n_queued;
    if (n == 0)
        return ROSTER_E_OK;
    c->n_queued = 0;
    if (!c->broken && PQpipelineSync(c->c) != 1)
        c->broken = true;
    int first = ROSTER_E_OK;
    for (size_t i = 0; i < n; i++) {
        pg_queued *q = &c->queue[i];
        PGresult *res = c->broken ? NULL : command_result(c);
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (!ok && q->prepares)
            c->prepared &= ~((uint64_t)1 << (q->prepares - 1));
        if (!ok && q->dyn_slot && c->dyn[q->dyn_slot - 1].name == q->dyn_name)
            c->dyn[q->dyn_slot - 1].name = 0;
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
    finish_pipeline(c);
    if (c->broken && first == ROSTER_E_OK)
        first = pg_conn_err(c, NULL, detail);
    return first;
}

/* Syncs c after one statement was queued into *out (queued: whether
 * that went well): *out holds its result on success, NULL on failure. */
static int run_queued(pg_conn *c, int queued, PGresult **out, roster_err_detail *detail)
{
    int err = queued;
    int synced = pg_sync(c, detail);
    if (err == ROSTER_E_OK)
        err = synced;
    if (err != ROSTER_E_OK && *out) {
        PQclear(*out);
        *out = NULL;
    }
    return err;
}

int pg_run_stmt(pg_conn *c, pg_stmt *s, int n, const pg_param *params, PGresult **out,
                roster_err_detail *detail)
{
    *out = NULL;
    return run_queued(c, pg_defer(c, s, n, params, out, NULL, NULL, 0), out, detail);
}

int pg_run_stmt0(pg_conn *c, pg_stmt *s, int n, const pg_param *params, roster_err_detail *detail)
{
    PGresult *res;
    int err = pg_run_stmt(c, s, n, params, &res, detail);
    PQclear(res);
    return err;
}

int pg_run(pg_conn *c, const char *sql, int n, const pg_param *params, PGresult **out,
           roster_err_detail *detail)
{
    *out = NULL;
    return run_queued(c, pg_defer_query(c, sql, n, params, out), out, detail);
}

int pg_run0(pg_conn *c, const char *sql, int n, const pg_param *params, roster_err_detail *detail)
{
    PGresult *res;
    int err = pg_run(c, sql, n, params, &res, detail);
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
