/* roster_client_bulk_write: operations streamed through BulkWrite.
 *
 * Each operation is encoded as soon as next() supplies it, straight into
 * the body of the call being filled (a run of BulkWriteRequest field-1
 * entries), so the caller's strings need live only until the next
 * operation is asked for, and memory is bounded by the calls in flight:
 * each holds at most one batch of encoded operations and its results.
 * Calls complete on nng threads in any order; their results are handed to
 * the caller on the calling thread in the order the operations came. */
#include "call.h"
#include "roster_limits.h"

#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BULK_DEFAULT_IN_FLIGHT 4u
#define BULK_MAX_IN_FLIGHT     16u
/* A call closes once its operations pass this many encoded bytes, well
 * below the service's message limit (ROSTER_MAX_RPC_MESSAGE) whatever the
 * last operation adds (a user is at most about 20 KiB encoded). */
#define BULK_CALL_BYTES (1u << 20)

typedef struct bulk_run bulk_run;

/* One BulkWrite call, being filled, in flight or answered. */
typedef struct bulk_slot {
    bulk_run *run;
    uint8_t *body; /* encoded operations (field 1 entries of BulkWriteRequest) */
    size_t len, cap;
    uint32_t n;                    /* operations in body */
    uint64_t first;                /* index of the first of them */
    roster_v1_BulkResult *results; /* batch entries */
    size_t n_results;
    bool done; /* answered: err, st and results are set (guarded by run->mtx) */
    int err;
    roster_status st;
} bulk_slot;

struct bulk_run {
    nng_mtx *mtx;
    nng_cv *cv;
    bulk_slot slots[BULK_MAX_IN_FLIGHT];
};

static bool encode_operations(pb_ostream_t *stream, const pb_field_t *field, void *const *arg)
{
    (void)field;
    const bulk_slot *s = *arg;
    return pb_write(stream, s->body, s->len);
}

/* Appends one operation to the slot's body as a field-1 entry. */
static int append_operation(bulk_slot *s, const roster_v1_BulkOperation *op, roster_status *st)
{
    size_t size = 0;
    if (!pb_get_encoded_size(&size, roster_v1_BulkOperation_fields, op)) {
        snprintf(st->message, sizeof st->message, "operation %llu does not encode",
                 (unsigned long long)(s->first + s->n));
        return ROSTER_E_INVALID_ARGUMENT;
    }
    size_t need = s->len + size + 16; /* tag and length varint */
    if (need > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        while (cap < need)
            cap *= 2;
        uint8_t *b = realloc(s->body, cap);
        if (b == NULL)
            return ROSTER_E_NOMEM;
        s->body = b;
        s->cap = cap;
    }
    pb_ostream_t os = pb_ostream_from_buffer(s->body + s->len, s->cap - s->len);
    if (!pb_encode_tag(&os, PB_WT_STRING, roster_v1_BulkWriteRequest_operations_tag) ||
        !pb_encode_varint(&os, size) || !pb_encode(&os, roster_v1_BulkOperation_fields, op)) {
        snprintf(st->message, sizeof st->message, "operation %llu does not encode: %s",
                 (unsigned long long)(s->first + s->n), PB_GET_ERROR(&os));
        return ROSTER_E_INVALID_ARGUMENT;
    }
    s->len += os.bytes_written;
    s->n++;
    return ROSTER_E_OK;
}

static void slot_done(void *arg, int err, const roster_status *st)
{
    bulk_slot *s = arg;
    nng_mtx_lock(s->run->mtx);
    s->err = err;
    s->st = *st;
    s->done = true;
    nng_cv_wake(s->run->cv);
    nng_mtx_unlock(s->run->mtx);
}

static int slot_start(bulk_slot *s, roster_client *c, const roster_call_options *o, bool dry_run)
{
    roster_v1_BulkWriteRequest req = roster_v1_BulkWriteRequest_init_zero;
    req.operations.funcs.encode = encode_operations;
    req.operations.arg = s;
    req.has_dry_run = dry_run;
    req.dry_run = dry_run;
    roster_call_spec spec = {0};
    spec.method = RPC_BULK_WRITE;
    spec.req = &req;
    spec.array = s->results;
    spec.cap = s->n;
    spec.count = &s->n_results;
    s->done = false;
    s->n_results = 0;
    return roster_call_start(c, o, &spec, slot_done, s);
}

static void slot_wait(bulk_run *r, bulk_slot *s)
{
    nng_mtx_lock(r->mtx);
    while (!s->done)
        nng_cv_wait(r->cv);
    nng_mtx_unlock(r->mtx);
}

static void status_set(roster_status *st, int err, const char *why)
{
    if (st == NULL)
        return;
    st->err = err;
    st->code = err == ROSTER_E_OK ? 0 : -1;
    st->violation_count = st->violations_total = 0;
    if (why != NULL && why[0] != '\0')
        snprintf(st->message, sizeof st->message, "%s: %s", roster_strerror(err), why);
    else
        snprintf(st->message, sizeof st->message, "%s", roster_strerror(err));
}

int roster_client_bulk_write(roster_bulk_summary *sum, roster_status *st, roster_client *c,
                             const roster_call_options *o, const roster_bulk_options *bo,
                             roster_bulk_next_fn next, void *next_arg,
                             roster_bulk_result_fn result_fn, void *result_arg)
{
    roster_bulk_summary total = {0};
    roster_bulk_options opt = {0};
    if (bo != NULL)
        opt = *bo;
    if (sum != NULL)
        *sum = total;
    uint32_t batch = opt.batch ? opt.batch : ROSTER_MAX_BULK;
    uint32_t in_flight = opt.in_flight ? opt.in_flight : BULK_DEFAULT_IN_FLIGHT;
    if (c == NULL || next == NULL || batch > ROSTER_MAX_BULK || in_flight > BULK_MAX_IN_FLIGHT) {
        status_set(st, ROSTER_E_INVALID_ARGUMENT,
                   "bulk write needs a client, a next function, batch 1..1000 and in_flight "
                   "1..16");
        return ROSTER_E_INVALID_ARGUMENT;
    }
    bulk_run *r = calloc(1, sizeof *r);
    if (r == NULL || nng_mtx_alloc(&r->mtx) != 0) {
        free(r);
        status_set(st, ROSTER_E_NOMEM, NULL);
        return ROSTER_E_NOMEM;
    }
    int err = ROSTER_E_OK;
    roster_status fail;
    status_set(&fail, ROSTER_E_OK, NULL);
    if (nng_cv_alloc(&r->cv, r->mtx) != 0) {
        nng_mtx_free(r->mtx);
        free(r);
        status_set(st, ROSTER_E_NOMEM, NULL);
        return ROSTER_E_NOMEM;
    }
    for (uint32_t i = 0; i < in_flight && err == ROSTER_E_OK; i++) {
        r->slots[i].run = r;
        r->slots[i].results = calloc(batch, sizeof *r->slots[i].results);
        if (r->slots[i].results == NULL)
            err = ROSTER_E_NOMEM;
    }
    if (err != ROSTER_E_OK)
        status_set(&fail, err, NULL);

    uint32_t head = 0, busy = 0; /* oldest call in flight, calls in flight */
    bool more = err == ROSTER_E_OK;
    while (more || busy > 0) {
        if (more && busy < in_flight) {
            bulk_slot *s = &r->slots[(head + busy) % in_flight];
            s->len = 0;
            s->n = 0;
            s->first = total.sent;
            while (s->n < batch && s->len < BULK_CALL_BYTES) {
                roster_v1_BulkOperation op = roster_v1_BulkOperation_init_zero;
                int got = next(next_arg, &op);
                if (got <= 0) {
                    more = false;
                    if (got < 0) {
                        err = ROSTER_E_CANCELLED;
                        status_set(&fail, err, "the operation source stopped the bulk write");
                    }
                    break;
                }
                int e = append_operation(s, &op, &fail);
                if (e != ROSTER_E_OK) {
                    more = false;
                    err = e;
                    fail.err = e;
                    fail.code = -1;
                    if (e == ROSTER_E_NOMEM)
                        status_set(&fail, e, NULL);
                    break;
                }
            }
            if (s->n == 0 || err != ROSTER_E_OK) {
                more = false;
                continue;
            }
            int e = slot_start(s, c, o, opt.dry_run);
            if (e != ROSTER_E_OK) {
                more = false;
                err = e;
                status_set(&fail, e, "BulkWrite could not be sent");
                continue;
            }
            total.sent += s->n;
            busy++;
            continue;
        }
        bulk_slot *s = &r->slots[head];
        slot_wait(r, s);
        head = (head + 1) % in_flight;
        busy--;
        if (s->err != ROSTER_E_OK) {
            if (err == ROSTER_E_OK) {
                err = s->err;
                fail = s->st;
            }
            more = false;
            continue;
        }
        for (size_t i = 0; i < s->n_results; i++) {
            const roster_v1_BulkResult *res = &s->results[i];
            if (res->code == 0)
                total.applied++;
            else
                total.failed++;
            if (err == ROSTER_E_OK && result_fn != NULL &&
                result_fn(result_arg, s->first + i, res) != 0) {
                err = ROSTER_E_CANCELLED;
                status_set(&fail, err, "the result callback stopped the bulk write");
                more = false;
            }
        }
    }

    for (uint32_t i = 0; i < in_flight; i++) {
        free(r->slots[i].body);
        free(r->slots[i].results);
    }
    nng_cv_free(r->cv);
    nng_mtx_free(r->mtx);
    free(r);
    if (sum != NULL)
        *sum = total;
    if (err == ROSTER_E_OK)
        status_set(&fail, ROSTER_E_OK, NULL);
    if (st != NULL)
        *st = fail;
    return err;
}
