#include "writer.h"

#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Why writes go through one thread and are committed in groups.
 *
 * LMDB takes one write transaction at a time, and a durable commit costs a
 * disk flush (milliseconds) however little it holds. So one thread owns
 * every write, and while it waits for one commit to reach the disk the
 * requests that arrive queue behind it; the next transaction takes all of
 * them (at most max_group, which bounds the latency of the first and the
 * size of one transaction) and pays a single flush for the lot. Nothing
 * waits to fill a group: a lone request is committed at once, so batching
 * costs no latency at low load and throughput grows with load. Each
 * request is applied by the store in a nested transaction, so one that
 * fails (a duplicate email) is rolled back alone and answered with its own
 * error while its neighbours commit. Replies are sent only after the
 * commit returns, so an OK means the write is on disk; if the commit
 * itself fails, every request that had applied gets that error. A request
 * whose deadline passed while it queued is answered DEADLINE_EXCEEDED and
 * never applied. */
typedef struct write_op write_op;
struct write_op {
    write_op *next;
    rpc_call *call;
    bool scoped;
    roster_uuid scope;
    int err;
    ProtobufCMessage *result;
    roster_err_detail detail;
};

struct users_writer {
    store *st;
    users_stats *stats;
    bool group_commit;
    unsigned max_group;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    write_op *head, *tail;
    bool stopping;
};

static void apply(store_wtxn *tx, write_op *op)
{
    rpc_call *call = op->call;
    roster_arena *a = rpc_call_arena(call);
    const roster_uuid *scope = op->scoped ? &op->scope : NULL;
    const ProtobufCMessage *req = rpc_call_request(call);
    if (rpc_call_expired(call)) {
        op->err = roster_fail(&op->detail, ROSTER_E_DEADLINE_EXCEEDED, "",
                              "deadline exceeded before the write was applied");
        return;
    }
    switch (rpc_call_method(call)->id) {
    case RPC_CREATE_USER: {
        Roster__V1__User *u = NULL;
        op->err = store_user_create(tx, scope, (const Roster__V1__CreateUserRequest *)req, a, &u,
                                    &op->detail);
        op->result = (ProtobufCMessage *)u;
        break;
    }
    case RPC_UPDATE_USER: {
        Roster__V1__User *u = NULL;
        op->err = store_user_update(tx, scope, (const Roster__V1__UpdateUserRequest *)req, a, &u,
                                    &op->detail);
        op->result = (ProtobufCMessage *)u;
        break;
    }
    case RPC_CREATE_TENANT: {
        Roster__V1__Tenant *t = NULL;
        op->err = store_tenant_create(tx, scope, (const Roster__V1__CreateTenantRequest *)req, a,
                                      &t, &op->detail);
        op->result = (ProtobufCMessage *)t;
        break;
    }
    case RPC_UPDATE_TENANT: {
        Roster__V1__Tenant *t = NULL;
        op->err = store_tenant_update(tx, scope, (const Roster__V1__UpdateTenantRequest *)req, a,
                                      &t, &op->detail);
        op->result = (ProtobufCMessage *)t;
        break;
    }
    default:
        op->err = roster_fail(&op->detail, ROSTER_E_INTERNAL, "", "%s is not a write",
                              rpc_call_method(call)->short_name);
        break;
    }
}

/* Applies one group in one write transaction and answers each request. */
static void run_group(users_writer *w, write_op *ops)
{
    store_wtxn *tx = NULL;
    roster_err_detail cd = {{0}};
    unsigned applied = 0;
    int cerr = store_write_begin(w->st, &tx);
    if (cerr == ROSTER_E_OK) {
        for (write_op *op = ops; op; op = op->next) {
            apply(tx, op);
            if (op->err == ROSTER_E_OK)
                applied++;
        }
        if (applied > 0) {
            cerr = store_write_commit(tx);
        } else {
            store_write_abort(tx);
        }
    }
    if (cerr != ROSTER_E_OK) {
        roster_log(ROSTER_LOG_ERROR, "commit_failed", "error=%s writes=%u", roster_errname(cerr),
                   applied);
        roster_fail(&cd, cerr, "", "write not stored: %s", roster_strerror(cerr));
    } else if (applied > 0) {
        users_stats_commit(w->stats, applied);
    }
    while (ops != NULL) {
        write_op *op = ops;
        ops = op->next;
        if (op->err != ROSTER_E_OK)
            rpc_call_reply_error(op->call, op->err, &op->detail);
        else if (cerr != ROSTER_E_OK)
            rpc_call_reply_error(op->call, cerr, &cd);
        else
            rpc_call_reply_message(op->call, op->result);
    }
}

static void *writer_main(void *arg)
{
    users_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->head == NULL)
            break;
        unsigned cap = w->group_commit ? w->max_group : 1;
        write_op *group = w->head, *last = w->head;
        for (unsigned n = 1; n < cap && last->next != NULL; n++)
            last = last->next;
        w->head = last->next;
        if (w->head == NULL)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);
        run_group(w, group);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int users_writer_start(users_writer **out, store *st, users_stats *stats, bool group_commit,
                       unsigned max_group)
{
    users_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return ROSTER_E_NOMEM;
    w->st = st;
    w->stats = stats;
    w->group_commit = group_commit;
    w->max_group = max_group ? max_group : 512;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return ROSTER_E_NOMEM;
    }
    *out = w;
    return ROSTER_E_OK;
}

void users_writer_submit(users_writer *w, rpc_call *call, const roster_uuid *scope)
{
    write_op *op = roster_arena_alloc(rpc_call_arena(call), sizeof *op);
    if (op == NULL) {
        rpc_call_reply_error(call, ROSTER_E_NOMEM, NULL);
        return;
    }
    memset(op, 0, sizeof *op);
    op->call = call;
    if (scope != NULL) {
        op->scoped = true;
        op->scope = *scope;
    }
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        roster_err_detail d;
        roster_fail(&d, ROSTER_E_UNAVAILABLE, "", "service is shutting down");
        rpc_call_reply_error(call, ROSTER_E_UNAVAILABLE, &d);
        return;
    }
    if (w->tail)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void users_writer_stop(users_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
