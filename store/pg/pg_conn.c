/* The connection pool and libpq error translation (pg_conn.h). */
#include "pg_conn.h"
#include "pg_pipe.h"

#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_pool {
    char *url;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    size_t size;
    pg_conn *slots; /* size of them; c NULL: not connected */
    bool *taken;
};

/* Server notices (NOTICE, WARNING) would be printed on stderr by libpq's
 * default processor; the store reports what matters through its errors. */
static void discard_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The first line of libpq's message for c (its messages end with a
 * newline and may run on), into detail. */
static void conn_message(roster_err_detail *detail, int err, const char *what, const char *msg)
{
    size_t n = strcspn(msg, "\n");
    roster_fail(detail, err, "store", "%s: %.*s", what, (int)(n > 200 ? 200 : n), msg);
}

/* Connects slot c: the URL, then the session settings every store
 * connection relies on. */
static int conn_open(pg_pool *p, pg_conn *c, roster_err_detail *detail)
{
    PGconn *pc = PQconnectdb(p->url);
    if (pc == NULL)
        return ROSTER_E_NOMEM;
    if (PQstatus(pc) != CONNECTION_OK) {
        conn_message(detail, ROSTER_E_UNAVAILABLE, "cannot connect to PostgreSQL",
                     PQerrorMessage(pc));
        PQfinish(pc);
        return ROSTER_E_UNAVAILABLE;
    }
    PQsetNoticeProcessor(pc, discard_notice, NULL);
    c->c = pc;
    c->broken = false;
    c->prepared = 0; /* a new session: nothing is prepared on it */
    pg_dyn_forget(c);
    c->n_queued = 0;
    /* Acknowledged writes are durable whatever the server's default, and
     * the time zone and encoding never change what the store reads. */
    int err = pg_exec(c,
                      "SET synchronous_commit TO on; SET client_encoding TO 'UTF8'; "
                      "SET TIME ZONE 'UTC'; SET application_name TO 'roster'",
                      detail);
    if (err != ROSTER_E_OK) {
        PQfinish(pc);
        c->c = NULL;
    }
    return err;
}

int pg_pool_open(pg_pool **out, const char *url, size_t size, roster_err_detail *detail)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
    if (opts == NULL) {
        int err = errmsg ? ROSTER_E_INVALID_ARGUMENT : ROSTER_E_NOMEM;
        if (errmsg)
            conn_message(detail, err, "malformed PostgreSQL URL", errmsg);
        PQfreemem(errmsg);
        return err;
    }
    PQconninfoFree(opts);
    if (size == 0)
        size = 1;
    pg_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    p->url = strdup(url);
    p->slots = calloc(size, sizeof *p->slots);
    p->taken = calloc(size, sizeof *p->taken);
    if (p->url == NULL || p->slots == NULL || p->taken == NULL) {
        free(p->url);
        free(p->slots);
        free(p->taken);
        free(p);
        return ROSTER_E_NOMEM;
    }
    p->size = size;
    for (size_t i = 0; i < size; i++)
        p->slots[i].slot = i;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->freed, NULL);
    int err = conn_open(p, &p->slots[0], detail);
    if (err != ROSTER_E_OK) {
        pg_pool_close(p);
        return err;
    }
    *out = p;
    return ROSTER_E_OK;
}

void pg_pool_close(pg_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->size; i++) {
        if (p->slots[i].c)
            PQfinish(p->slots[i].c);
        pg_dyn_forget(&p->slots[i]);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    free(p->slots);
    free(p->taken);
    free(p->url);
    free(p);
}

int pg_pool_acquire(pg_pool *p, pg_conn **out, roster_err_detail *detail)
{
    pthread_mutex_lock(&p->mu);
    size_t pick;
    for (;;) {
        /* A connected free slot first: connecting costs a round trip or
         * more. */
        pick = p->size;
        for (size_t i = 0; i < p->size; i++) {
            if (p->taken[i])
                continue;
            if (p->slots[i].c) {
                pick = i;
                break;
            }
            if (pick == p->size)
                pick = i;
        }
        if (pick < p->size)
            break;
        pthread_cond_wait(&p->freed, &p->mu);
    }
    p->taken[pick] = true;
    pthread_mutex_unlock(&p->mu);

    pg_conn *c = &p->slots[pick];
    int err = ROSTER_E_OK;
    if (c->c == NULL)
        err = conn_open(p, c, detail);
    if (err != ROSTER_E_OK) {
        pthread_mutex_lock(&p->mu);
        p->taken[pick] = false;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->mu);
        return err;
    }
    *out = c;
    return ROSTER_E_OK;
}

void pg_pool_release(pg_pool *p, pg_conn *c)
{
    if (c->c && (c->broken || c->n_queued > 0 || PQpipelineStatus(c->c) != PQ_PIPELINE_OFF ||
                 PQstatus(c->c) != CONNECTION_OK || PQtransactionStatus(c->c) != PQTRANS_IDLE)) {
        PQfinish(c->c);
        c->c = NULL;
    }
    c->broken = false;
    pthread_mutex_lock(&p->mu);
    p->taken[c->slot] = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

const char *pg_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

int pg_conn_err(pg_conn *c, const PGresult *res, roster_err_detail *detail)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE)
        return ROSTER_E_OK;
    const char *state = pg_sqlstate(res);
    const char *con = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(c->constraint, sizeof c->constraint, "%s", con ? con : "");
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (msg == NULL || msg[0] == '\0')
        msg = PQerrorMessage(c->c);
    int err;
    if (PQstatus(c->c) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
        strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
        strcmp(state, "53300") == 0 || state[0] == '\0') {
        /* No SQLSTATE at all means libpq itself failed: the connection. */
        c->broken = true;
        err = ROSTER_E_UNAVAILABLE;
    } else if (strcmp(state, "23505") == 0) {
        err = ROSTER_E_ALREADY_EXISTS;
    } else if (strcmp(state, "23503") == 0) {
        err = ROSTER_E_FAILED_PRECONDITION;
    } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        err = ROSTER_E_BUSY;
    } else if (strcmp(state, "57014") == 0) {
        err = ROSTER_E_DEADLINE_EXCEEDED;
    } else if (strcmp(state, "53100") == 0 || strcmp(state, "53200") == 0) {
        err = ROSTER_E_RESOURCE_EXHAUSTED;
    } else {
        err = ROSTER_E_INTERNAL;
    }
    conn_message(detail, err, "PostgreSQL", msg);
    if (err == ROSTER_E_INTERNAL)
        roster_log(ROSTER_LOG_ERROR, "pg_error", "sqlstate=%s message=\"%.*s\"", state,
                   (int)strcspn(msg, "\n"), msg);
    return err;
}

int pg_exec(pg_conn *c, const char *sql, roster_err_detail *detail)
{
    int err = pg_sync(c, detail);
    if (err != ROSTER_E_OK)
        return err;
    PGresult *res = PQexec(c->c, sql);
    err = pg_conn_err(c, res, detail);
    PQclear(res);
    return err;
}
