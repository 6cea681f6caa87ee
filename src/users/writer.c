#include "writer.h"

#include "apikey.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Why writes go through one thread and are committed in groups.
 *
 * LMDB takes one write transaction at a time, and a durable commit costs a
 * disk flush (milliseconds) however little it holds. So one thread owns
 * every write, and while it waits for one commit to reach the disk the
 * requests that arrive queue behind it; the next transaction takes all of
 * them (at most max_group, which bounds the latency of the first and the
 * size of one transaction) and pays a single flush for the lot. Nothing
 * waits to fill a group: a lone request is committed at once, so batching
 * costs no latency at low load and throughput grows with load. Requests
 * are applied straight into the group's transaction, with no nested
 * transaction each (store_write_begin_bulk): every store write makes the
 * checks that can refuse it (validation, uniqueness, existence, scope)
 * before its first write, so a refused one (a duplicate email) has written
 * nothing and is answered with its own error while its neighbours commit
 * (store_op_end; tests/store/test_store_diff runs random refusals in both
 * modes against a model). A nested transaction per request would buy
 * isolation only from resource errors, which fail the group instead (a
 * full map refuses every write of the group, as its commit would), and
 * costs a copy of the parent's dirty-page list per request: at 1,000 to
 * 10,000 requests a group, several times the work of the writes
 * (docs/bench/store.md, "Nested transactions"). Replies are sent only after the
 * commit returns, so an OK means the write is on disk; if the commit
 * itself fails, every request that had applied gets that error. A request
 * whose deadline passed while it queued is answered DEADLINE_EXCEEDED and
 * never applied. */
/* A key use to record (last_used_at). Uses arrive at most once a minute
 * per key (the service asks only when the stored time is that old), so a
 * small table suffices; when it is full a use is dropped, which only
 * leaves last_used_at coarser. */
#define WRITER_MAX_TOUCHES 256
typedef struct key_touch {
    roster_uuid id;
    int64_t when;
} key_touch;

typedef struct write_op write_op;
struct write_op {
    write_op *next;
    rpc_call *call;
    bool scoped;
    roster_uuid scope;
    char by[ROSTER_UUID_TEXT_LEN + 1]; /* caller's key id, or "keyless" */
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
    /* last_used_at updates waiting for the next write transaction */
    key_touch touches[WRITER_MAX_TOUCHES];
    size_t n_touches;
    bool stopping;
    users_feed *feed; /* change-feed announcements, or NULL */
    unsigned trim_ms; /* idle retention trim period, 0: none */
};

/* Most operations one group applies, counting each operation of a
 * BulkWrite and each single write as one: it bounds the pages one LMDB
 * transaction dirties (a few dozen per created user) well below what a
 * transaction without a writable map may hold. */
#define WRITER_MAX_GROUP_WEIGHT 4096u

static const Roster__V1__BulkWriteRequest *bulk_request(const write_op *op)
{
    if (rpc_call_method(op->call)->id != RPC_BULK_WRITE)
        return NULL;
    return (const Roster__V1__BulkWriteRequest *)rpc_call_request(op->call);
}

/* How much of a group's budget an operation takes. */
static size_t op_weight(const write_op *op)
{
    const Roster__V1__BulkWriteRequest *b = bulk_request(op);
    return b != NULL && b->n_operations > 1 ? b->n_operations : 1;
}

/* Applies one operation of a BulkWrite; *id is the user's id on success. */
static int apply_bulk_operation(store_wtxn *tx, const roster_uuid *scope,
                                const Roster__V1__BulkOperation *o, roster_arena *a,
                                const char **id, roster_err_detail *d)
{
    int err;
    switch (o->operation_case) {
    case ROSTER__V1__BULK_OPERATION__OPERATION_CREATE_USER: {
        Roster__V1__User *u = NULL;
        if ((err = store_user_create(tx, scope, o->create_user, a, &u, d)) == ROSTER_E_OK)
            *id = u->id;
        return err;
    }
    case ROSTER__V1__BULK_OPERATION__OPERATION_UPDATE_USER: {
        Roster__V1__User *u = NULL;
        if ((err = store_user_update(tx, scope, o->update_user, a, &u, d)) == ROSTER_E_OK)
            *id = u->id;
        return err;
    }
    case ROSTER__V1__BULK_OPERATION__OPERATION_DELETE_USER: {
        Roster__V1__DeleteUserResponse *r = NULL;
        if ((err = store_user_delete(tx, scope, o->delete_user, a, &r, d)) == ROSTER_E_OK)
            *id = r->id;
        return err;
    }
    default:
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "operation",
                           "an operation must hold one of createUser, updateUser or deleteUser");
    }
}

/* A BulkWrite: every operation applied alone, in order (the store rolls a
 * failed one back whole), each outcome in the reply. A full map ends the
 * bulk with that error, as it would a single write; any other resource
 * error has failed the group, whose commit then answers for the bulk. */
static void apply_bulk(store_wtxn *tx, write_op *op, const roster_uuid *scope, roster_arena *a)
{
    const Roster__V1__BulkWriteRequest *req = bulk_request(op);
    size_t n = req->n_operations;
    Roster__V1__BulkWriteResponse *r = roster_arena_alloc(a, sizeof *r);
    Roster__V1__BulkResult *cells = roster_arena_alloc(a, (n ? n : 1) * sizeof *cells);
    Roster__V1__BulkResult **results = roster_arena_alloc(a, (n ? n : 1) * sizeof *results);
    if (r == NULL || cells == NULL || results == NULL) {
        op->err = roster_fail(&op->detail, ROSTER_E_NOMEM, "", "out of memory for the results");
        return;
    }
    roster__v1__bulk_write_response__init(r);
    r->n_results = n;
    r->results = results;
    r->has_applied = r->has_failed = 1;
    for (size_t i = 0; i < n; i++) {
        Roster__V1__BulkResult *c = &cells[i];
        roster__v1__bulk_result__init(c);
        results[i] = c;
        roster_err_detail d = {{0}};
        const char *id = NULL;
        int err = apply_bulk_operation(tx, scope, req->operations[i], a, &id, &d);
        if (err == ROSTER_E_MAP_FULL) {
            op->err = err;
            return;
        }
        c->has_code = 1;
        c->code = roster_err_to_status(err);
        if (err == ROSTER_E_OK) {
            c->id = (char *)id;
            r->applied++;
            continue;
        }
        r->failed++;
        const char *msg = d.message[0] ? d.message : roster_strerror(err);
        c->message = roster_arena_strndup(a, msg, strlen(msg));
        if (d.field[0])
            c->field = roster_arena_strndup(a, d.field, strlen(d.field));
    }
    op->result = (ProtobufCMessage *)r;
}

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
    case RPC_DELETE_USER: {
        Roster__V1__DeleteUserResponse *r = NULL;
        op->err = store_user_delete(tx, scope, (const Roster__V1__DeleteUserRequest *)req, a, &r,
                                    &op->detail);
        op->result = (ProtobufCMessage *)r;
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
    case RPC_DELETE_TENANT: {
        Roster__V1__DeleteTenantResponse *r = NULL;
        op->err = store_tenant_delete(tx, scope, (const Roster__V1__DeleteTenantRequest *)req, a,
                                      &r, &op->detail);
        op->result = (ProtobufCMessage *)r;
        break;
    }
    case RPC_BULK_WRITE:
        apply_bulk(tx, op, scope, a);
        break;
    case RPC_CREATE_KEY: {
        Roster__V1__KeySecret *k = NULL;
        op->err =
            store_key_create(tx, (const Roster__V1__CreateKeyRequest *)req, a, &k, &op->detail);
        op->result = (ProtobufCMessage *)k;
        break;
    }
    case RPC_REVOKE_KEY: {
        Roster__V1__ApiKey *k = NULL;
        op->err =
            store_key_revoke(tx, (const Roster__V1__RevokeKeyRequest *)req, a, &k, &op->detail);
        op->result = (ProtobufCMessage *)k;
        break;
    }
    case RPC_ROTATE_KEY: {
        Roster__V1__KeySecret *k = NULL;
        op->err =
            store_key_rotate(tx, (const Roster__V1__RotateKeyRequest *)req, a, &k, &op->detail);
        op->result = (ProtobufCMessage *)k;
        break;
    }
    default:
        op->err = roster_fail(&op->detail, ROSTER_E_INTERNAL, "", "%s is not a write",
                              rpc_call_method(call)->short_name);
        break;
    }
}

/* The audit line of a committed key change (never the secret) or
 * delete (ids only: what was erased is not written anywhere else). */
static void audit(const write_op *op)
{
    const Roster__V1__ApiKey *k = NULL;
    const char *event;
    switch (rpc_call_method(op->call)->id) {
    case RPC_DELETE_USER:
        roster_log(ROSTER_LOG_INFO, "user_deleted", "user_id=%s by=%s",
                   ((const Roster__V1__DeleteUserResponse *)op->result)->id, op->by);
        return;
    case RPC_BULK_WRITE: {
        const Roster__V1__BulkWriteRequest *req = bulk_request(op);
        const Roster__V1__BulkWriteResponse *r = (const void *)op->result;
        for (size_t i = 0; i < r->n_results && !req->dry_run; i++)
            if (req->operations[i]->operation_case ==
                    ROSTER__V1__BULK_OPERATION__OPERATION_DELETE_USER &&
                r->results[i]->code == 0)
                roster_log(ROSTER_LOG_INFO, "user_deleted", "user_id=%s by=%s", r->results[i]->id,
                           op->by);
        return;
    }
    case RPC_DELETE_TENANT:
        roster_log(ROSTER_LOG_INFO, "tenant_deleted", "tenant_id=%s by=%s",
                   ((const Roster__V1__DeleteTenantResponse *)op->result)->id, op->by);
        return;
    case RPC_CREATE_KEY:
        event = "key_created";
        k = ((const Roster__V1__KeySecret *)op->result)->key;
        break;
    case RPC_ROTATE_KEY:
        event = "key_rotated";
        k = ((const Roster__V1__KeySecret *)op->result)->key;
        break;
    case RPC_REVOKE_KEY:
        event = "key_revoked";
        k = (const Roster__V1__ApiKey *)op->result;
        break;
    default:
        return;
    }
    char qn[300];
    roster_log(ROSTER_LOG_INFO, event, "key_id=%s name=%s role=%s tenant_id=%s by=%s", k->id,
               roster_log_quote(qn, sizeof qn, k->name ? k->name : ""),
               store_key_role_name(k->role), k->tenant_id ? k->tenant_id : "-", op->by);
}

/* Wipes the key text of a create or rotate whose commit failed. */
static void wipe_secret(write_op *op, rpc_method_id id)
{
    if (op->result != NULL && (id == RPC_CREATE_KEY || id == RPC_ROTATE_KEY)) {
        char *secret = ((Roster__V1__KeySecret *)op->result)->secret;
        if (secret != NULL)
            roster_secure_wipe(secret, strlen(secret));
    }
}

/* Answers a write with its result. The key text of a CreateKey or
 * RotateKey reply is moved to this stack frame and wiped from the arena,
 * then wiped here once the reply is packed: rpc_call_reply_message packs
 * before it returns, and afterwards the call and its arena belong to the
 * server again. */
static void reply_result(write_op *op, rpc_method_id id)
{
    char text[ROSTER_APIKEY_TEXT_LEN + 1];
    char *secret = NULL;
    if (id == RPC_CREATE_KEY || id == RPC_ROTATE_KEY)
        secret = ((Roster__V1__KeySecret *)op->result)->secret;
    size_t n = secret != NULL ? strlen(secret) : 0;
    if (secret != NULL && n < sizeof text) {
        memcpy(text, secret, n + 1);
        roster_secure_wipe(secret, n);
        ((Roster__V1__KeySecret *)op->result)->secret = text;
    }
    rpc_call_reply_message(op->call, op->result);
    roster_secure_wipe(text, sizeof text);
}

/* The answer to writes refused because the store's map is full: the
 * message names the map size and the option that raises it, the field is
 * ROSTER_MAP_FULL_FIELD (so a caller can tell full storage from a passing
 * overload), and one operator-facing log line per group gives the sizes. */
static void map_full_detail(roster_err_detail *d, users_writer *w, unsigned refused)
{
    store_stats ss = {0};
    store_rtxn *rx = NULL;
    if (store_read_begin(w->st, &rx) == ROSTER_E_OK) {
        if (store_stat(rx, &ss) != ROSTER_E_OK)
            ss.map_size = ss.used_bytes = 0;
        store_read_end(rx);
    }
    roster_log(ROSTER_LOG_ERROR, "map_full",
               "map_size=%llu used_bytes=%llu refused_writes=%u reason=%s",
               (unsigned long long)ss.map_size, (unsigned long long)ss.used_bytes, refused,
               "\"the store's map is full; restart roster-users with a larger --map-size\"");
    roster_fail(d, ROSTER_E_MAP_FULL, ROSTER_MAP_FULL_FIELD,
                "storage full: the store's map of %llu bytes is full; writes are refused until "
                "roster-users is restarted with a larger --map-size (reads are still served)",
                (unsigned long long)ss.map_size);
}

/* Answers a write that was not applied, or whose group did not commit. */
static void reply_failed(write_op *op, int cerr, const roster_err_detail *cd,
                         const roster_err_detail *fd)
{
    if (op->err == ROSTER_E_MAP_FULL)
        rpc_call_reply_error(op->call, op->err, fd);
    else if (op->err != ROSTER_E_OK)
        rpc_call_reply_error(op->call, op->err, &op->detail);
    else
        rpc_call_reply_error(op->call, cerr, cd);
}

/* A dry-run BulkWrite: applied in a write transaction of its own, which
 * is then aborted, so its results are exactly those a real run would have
 * had at this point and nothing of it is stored or announced. */
static void run_dry(users_writer *w, write_op *op)
{
    store_wtxn *tx = NULL;
    roster_err_detail cd = {{0}}, fd = {{0}};
    int err = store_write_begin_bulk(w->st, &tx);
    if (err == ROSTER_E_OK) {
        apply(tx, op);
        store_write_abort(tx);
    } else {
        roster_fail(&cd, err, "", "dry run not possible: %s", roster_strerror(err));
    }
    if (op->err == ROSTER_E_MAP_FULL)
        map_full_detail(&fd, w, 1);
    if (err == ROSTER_E_OK && op->err == ROSTER_E_OK)
        rpc_call_reply_message(op->call, op->result);
    else
        reply_failed(op, err, &cd, &fd);
}

/* Applies one group in one write transaction and answers each request;
 * the key uses queued since the last group are recorded in the same
 * transaction. */
static void run_group(users_writer *w, write_op *ops, const key_touch *touches, size_t n_touches)
{
    for (write_op **pp = &ops; *pp != NULL;) {
        write_op *op = *pp;
        const Roster__V1__BulkWriteRequest *b = bulk_request(op);
        if (b != NULL && b->dry_run) {
            *pp = op->next;
            run_dry(w, op);
        } else {
            pp = &op->next;
        }
    }
    if (ops == NULL && n_touches == 0)
        return;
    store_wtxn *tx = NULL;
    roster_err_detail cd = {{0}};
    unsigned applied = 0;
    unsigned touched = 0;
    bool events = false;
    uint64_t first = 0, last = 0;
    int cerr = store_write_begin_bulk(w->st, &tx);
    if (cerr == ROSTER_E_OK) {
        for (write_op *op = ops; op; op = op->next) {
            apply(tx, op);
            if (op->err == ROSTER_E_OK)
                applied++;
        }
        for (size_t i = 0; i < n_touches; i++)
            if (store_key_touch(tx, &touches[i].id, touches[i].when) == ROSTER_E_OK)
                touched++;
        if (applied > 0 || touched > 0) {
            events = store_changes_pending(tx, &first, &last) == ROSTER_E_OK;
            cerr = store_write_commit(tx);
        } else {
            store_write_abort(tx);
        }
    }
    unsigned full = 0;
    for (write_op *op = ops; op; op = op->next)
        full += op->err == ROSTER_E_MAP_FULL || (cerr == ROSTER_E_MAP_FULL && op->err == 0);
    roster_err_detail fd = {{0}};
    if (full > 0)
        map_full_detail(&fd, w, full);
    if (cerr == ROSTER_E_MAP_FULL && full > 0) {
        cd = fd; /* logged as map_full */
    } else if (cerr != ROSTER_E_OK) {
        roster_log(ROSTER_LOG_ERROR, "commit_failed", "error=%s writes=%u", roster_errname(cerr),
                   applied);
        roster_fail(&cd, cerr, "", "write not stored: %s", roster_strerror(cerr));
    } else if (applied > 0) {
        users_stats_commit(w->stats, applied);
    }
    /* Announced once durable, before the replies: a writer told OK can
     * count on its event being announced already. */
    if (cerr == ROSTER_E_OK && events)
        users_feed_publish(w->feed, first, last);
    while (ops != NULL) {
        write_op *op = ops;
        ops = op->next;
        rpc_method_id id = rpc_call_method(op->call)->id;
        if (op->err != ROSTER_E_OK || cerr != ROSTER_E_OK) {
            wipe_secret(op, id);
            reply_failed(op, cerr, &cd, &fd);
        } else {
            audit(op);
            reply_result(op, id);
        }
    }
}

/* Trims what retention no longer keeps, a transaction of at most
 * STORE_CHANGES_TRIM_EXTRA events at a time, while there is more and no
 * write is waiting (called without the lock). */
static void trim_idle(users_writer *w)
{
    for (;;) {
        store_wtxn *tx = NULL;
        unsigned n = 0;
        int err = store_write_begin(w->st, &tx);
        if (err == ROSTER_E_OK &&
            (err = store_changes_trim(tx, STORE_CHANGES_TRIM_EXTRA, &n)) == ROSTER_E_OK && n > 0)
            err = store_write_commit(tx);
        else
            store_write_abort(tx);
        if (err != ROSTER_E_OK)
            roster_log(ROSTER_LOG_ERROR, "changes_trim_failed", "error=%s", roster_errname(err));
        pthread_mutex_lock(&w->mu);
        bool busy = w->head != NULL || w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (err != ROSTER_E_OK || n < STORE_CHANGES_TRIM_EXTRA || busy)
            return;
    }
}

/* Waits for work; true when the wait ended with the trim period passed
 * and nothing to do. Called with the lock held. */
static bool wait_work(users_writer *w)
{
    if (w->trim_ms == 0) {
        pthread_cond_wait(&w->cv, &w->mu);
        return false;
    }
    struct timespec at;
    clock_gettime(CLOCK_REALTIME, &at);
    at.tv_sec += w->trim_ms / 1000;
    at.tv_nsec += (long)(w->trim_ms % 1000) * 1000000L;
    if (at.tv_nsec >= 1000000000L) {
        at.tv_sec++;
        at.tv_nsec -= 1000000000L;
    }
    return pthread_cond_timedwait(&w->cv, &w->mu, &at) == ETIMEDOUT;
}

static void *writer_main(void *arg)
{
    users_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && w->n_touches == 0 && !w->stopping) {
            if (wait_work(w) && w->head == NULL && w->n_touches == 0 && !w->stopping) {
                pthread_mutex_unlock(&w->mu);
                trim_idle(w);
                pthread_mutex_lock(&w->mu);
            }
        }
        if (w->head == NULL && w->n_touches == 0)
            break;
        unsigned cap = w->group_commit ? w->max_group : 1;
        write_op *group = w->head, *last = w->head;
        if (last != NULL) {
            size_t weight = op_weight(last);
            for (unsigned n = 1; n < cap && last->next != NULL &&
                                 weight + op_weight(last->next) <= WRITER_MAX_GROUP_WEIGHT;
                 n++) {
                last = last->next;
                weight += op_weight(last);
            }
            w->head = last->next;
            if (w->head == NULL)
                w->tail = NULL;
            last->next = NULL;
        }
        key_touch touches[WRITER_MAX_TOUCHES];
        size_t n_touches = w->n_touches;
        memcpy(touches, w->touches, n_touches * sizeof touches[0]);
        w->n_touches = 0;
        pthread_mutex_unlock(&w->mu);
        run_group(w, group, touches, n_touches);
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

void users_writer_set_feed(users_writer *w, users_feed *feed, unsigned trim_ms)
{
    pthread_mutex_lock(&w->mu);
    w->feed = feed;
    w->trim_ms = trim_ms;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void users_writer_touch(users_writer *w, const roster_uuid *key_id, int64_t when)
{
    pthread_mutex_lock(&w->mu);
    bool queued = w->stopping;
    for (size_t i = 0; i < w->n_touches && !queued; i++)
        if (roster_uuid_eq(&w->touches[i].id, key_id)) {
            if (w->touches[i].when < when)
                w->touches[i].when = when;
            queued = true;
        }
    if (!queued && w->n_touches < WRITER_MAX_TOUCHES) {
        w->touches[w->n_touches].id = *key_id;
        w->touches[w->n_touches].when = when;
        w->n_touches++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

void users_writer_submit(users_writer *w, rpc_call *call, const roster_uuid *scope, const char *by)
{
    write_op *op = roster_arena_alloc(rpc_call_arena(call), sizeof *op);
    if (op == NULL) {
        rpc_call_reply_error(call, ROSTER_E_NOMEM, NULL);
        return;
    }
    memset(op, 0, sizeof *op);
    op->call = call;
    snprintf(op->by, sizeof op->by, "%s", by ? by : "keyless");
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
