/* The cross-request batcher against a fake upstream: when lookups leave
 * (at once when idle, queued behind a batch in flight, flushed on its
 * completion or when the queue fills), that credentials and masks never
 * share a batch, the earliest deadline and the expiry of queued lookups,
 * failures reported with `shared`, the bound on queued ids, lookups made
 * from inside a callback, and the splitting of batch replies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batcher.h"
#include "clock.h"
#include "error.h"
#include "field_mask.h"
#include "roster.pb-c.h"

/* ------------------------------------------------------------ fake upstream */

#define MAX_SENT 32
#define MAX_IDS  16

typedef struct sent {
    rpc_method_id method;
    char ids[MAX_IDS][40];
    size_t n_ids;
    uint64_t mask;
    int has_mask;
    int count; /* include_user_count */
    int64_t deadline_ns;
    char cred[64];
    gw_rpc_cb cb;
    void *ud;
    int done;
} sent;

static sent calls[MAX_SENT];
static size_t n_calls;

static void fake_send(void *send_ud, rpc_method_id method, const ProtobufCMessage *req,
                      int64_t deadline_ns, const char *credential, gw_rpc_cb cb, void *ud)
{
    (void)send_ud;
    ck_assert_uint_lt(n_calls, MAX_SENT);
    sent *s = &calls[n_calls++];
    memset(s, 0, sizeof *s);
    s->method = method;
    char **ids;
    if (method == RPC_BATCH_GET_USERS) {
        const Roster__V1__BatchGetUsersRequest *r = (const void *)req;
        ids = r->ids;
        s->n_ids = r->n_ids;
        s->has_mask = r->has_field_mask;
        s->mask = r->field_mask;
    } else {
        ck_assert_int_eq(method, RPC_BATCH_GET_TENANTS);
        const Roster__V1__BatchGetTenantsRequest *r = (const void *)req;
        ids = r->ids;
        s->n_ids = r->n_ids;
        s->has_mask = r->has_field_mask;
        s->mask = r->field_mask;
        s->count = r->has_include_user_count && r->include_user_count;
    }
    ck_assert_uint_le(s->n_ids, MAX_IDS);
    for (size_t i = 0; i < s->n_ids; i++)
        snprintf(s->ids[i], sizeof s->ids[i], "%s", ids[i]);
    s->deadline_ns = deadline_ns;
    snprintf(s->cred, sizeof s->cred, "%s", credential ? credential : "(none)");
    s->cb = cb;
    s->ud = ud;
}

/* Answers call i: every id is found (its user's email is the id) except
 * those starting with "missing". */
static void answer(size_t i)
{
    sent *s = &calls[i];
    ck_assert(!s->done);
    s->done = 1;
    Roster__V1__User users[MAX_IDS], *up[MAX_IDS];
    protobuf_c_boolean found[MAX_IDS];
    for (size_t k = 0; k < s->n_ids; k++) {
        roster__v1__user__init(&users[k]);
        found[k] = strncmp(s->ids[k], "missing", 7) != 0;
        if (found[k]) {
            users[k].id = s->ids[k];
            users[k].email = s->ids[k];
        }
        up[k] = &users[k];
    }
    Roster__V1__BatchGetUsersResponse r = ROSTER__V1__BATCH_GET_USERS_RESPONSE__INIT;
    r.n_users = r.n_found = s->n_ids;
    r.users = up;
    r.found = found;
    uint8_t buf[4096];
    size_t len = protobuf_c_message_pack(&r.base, buf);
    ck_assert_uint_lt(len, sizeof buf);
    gw_rpc_reply rep = {.status = ROSTER_STATUS_OK, .message = "", .body = buf, .body_len = len};
    s->cb(&rep, s->ud);
}

/* Answers every call not answered yet, including those sent meanwhile. */
static void answer_pending(void)
{
    for (size_t i = 0; i < n_calls; i++)
        if (!calls[i].done)
            answer(i);
}

static void answer_error(size_t i, int status)
{
    sent *s = &calls[i];
    s->done = 1;
    gw_rpc_reply rep = {.status = status, .message = "refused"};
    s->cb(&rep, s->ud);
}

/* ------------------------------------------------------------ lookups */

typedef struct got {
    int called;
    int status; /* 0 = items */
    bool shared;
    size_t n;
    char email[MAX_IDS][40];
    bool found[MAX_IDS];
} got;

static void on_done(gw_lookup *l, const gw_rpc_reply *failed, bool shared,
                    const gw_batch_item *items)
{
    got *g = l->ud;
    g->called++;
    if (failed) {
        g->status = failed->status;
        g->shared = shared;
        return;
    }
    g->n = l->n_ids;
    for (size_t i = 0; i < l->n_ids; i++) {
        g->found[i] = items[i].found;
        g->email[i][0] = '\0';
        if (!items[i].found)
            continue;
        Roster__V1__User *u = roster__v1__user__unpack(NULL, items[i].len, items[i].bytes);
        ck_assert_ptr_nonnull(u);
        snprintf(g->email[i], sizeof g->email[i], "%s", u->email);
        roster__v1__user__free_unpacked(u, NULL);
    }
}

static void lookup(gw_lookup *l, got *g, gw_lookup_kind kind, const char *cred, uint64_t mask,
                   const char *const *ids, size_t n)
{
    memset(l, 0, sizeof *l);
    memset(g, 0, sizeof *g);
    l->kind = kind;
    l->mask = mask;
    l->credential = cred;
    l->ids = ids;
    l->n_ids = n;
    l->cb = on_done;
    l->ud = g;
}

static gw_batcher *fresh(uint32_t batch_max, uint32_t max_queued)
{
    n_calls = 0;
    gw_batcher_options o = gw_batcher_defaults();
    if (batch_max) {
        o.batch_max = batch_max;
        o.max_queued = max_queued;
    }
    gw_batcher *b = NULL;
    ck_assert_int_eq(gw_batcher_new(&b, &o, fake_send, NULL), ROSTER_E_OK);
    return b;
}

static const char *id_a[] = {"u-a"}, *id_b[] = {"u-b"}, *id_c[] = {"u-c"}, *id_d[] = {"u-d"};
static const char *id_missing[] = {"missing-1"};

START_TEST(idle_sends_at_once)
{
    gw_batcher *b = fresh(0, 0);
    gw_lookup l;
    got g;
    lookup(&l, &g, GW_LOOKUP_USER, "key-1", FIELD_MASK_ALL, id_a, 1);
    gw_batcher_get(b, &l);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_int_eq(calls[0].method, RPC_BATCH_GET_USERS);
    ck_assert_uint_eq(calls[0].n_ids, 1);
    ck_assert_int_eq(calls[0].has_mask, 0);
    ck_assert_str_eq(calls[0].cred, "key-1");
    ck_assert_int_eq(g.called, 0);
    answer(0);
    ck_assert_int_eq(g.called, 1);
    ck_assert_int_eq(g.status, 0);
    ck_assert(g.found[0]);
    ck_assert_str_eq(g.email[0], "u-a");
    /* The group is gone once idle: the next lookup leaves at once too. */
    lookup(&l, &g, GW_LOOKUP_USER, "key-1", FIELD_MASK_ALL, id_b, 1);
    gw_batcher_get(b, &l);
    ck_assert_uint_eq(n_calls, 2);
    answer(1);
    ck_assert_str_eq(g.email[0], "u-b");
    gw_batcher_free(b);
}
END_TEST

START_TEST(queued_behind_in_flight)
{
    gw_batcher *b = fresh(0, 0);
    gw_lookup l[4];
    got g[4];
    const char *const *ids[] = {id_a, id_b, id_missing, id_d};
    for (int i = 0; i < 4; i++) {
        lookup(&l[i], &g[i], GW_LOOKUP_USER, "key-1", 5, ids[i], 1);
        gw_batcher_get(b, &l[i]);
    }
    /* One in flight, three waiting for it. */
    ck_assert_uint_eq(n_calls, 1);
    ck_assert_int_eq(calls[0].has_mask, 1);
    ck_assert_uint_eq(calls[0].mask, 5);
    answer(0);
    ck_assert_int_eq(g[0].called, 1);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_uint_eq(calls[1].n_ids, 3);
    ck_assert_str_eq(calls[1].ids[0], "u-b");
    ck_assert_str_eq(calls[1].ids[1], "missing-1");
    ck_assert_str_eq(calls[1].ids[2], "u-d");
    for (int i = 1; i < 4; i++)
        ck_assert_int_eq(g[i].called, 0);
    answer(1);
    /* Each lookup gets its own record, or its own "not found". */
    ck_assert_str_eq(g[1].email[0], "u-b");
    ck_assert(!g[2].found[0]);
    ck_assert_str_eq(g[3].email[0], "u-d");
    for (int i = 1; i < 4; i++)
        ck_assert_int_eq(g[i].called, 1);
    ck_assert_uint_eq(n_calls, 2);
    gw_batcher_free(b);
}
END_TEST

START_TEST(credentials_kinds_and_masks_apart)
{
    gw_batcher *b = fresh(0, 0);
    gw_lookup l[8];
    got g[8];
    /* Each of these is the first of its group: all leave at once. */
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "admin", 1, id_a, 1);
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "reader", 1, id_a, 1);
    lookup(&l[2], &g[2], GW_LOOKUP_USER, "admin", 3, id_a, 1);
    lookup(&l[3], &g[3], GW_LOOKUP_TENANT, "admin", 1, id_a, 1);
    lookup(&l[4], &g[4], GW_LOOKUP_TENANT_COUNT, "admin", 1, id_a, 1);
    lookup(&l[5], &g[5], GW_LOOKUP_USER, NULL, 1, id_a, 1);
    lookup(&l[6], &g[6], GW_LOOKUP_USER, "", 1, id_a, 1);
    for (int i = 0; i < 7; i++)
        gw_batcher_get(b, &l[i]);
    ck_assert_uint_eq(n_calls, 7);
    ck_assert_str_eq(calls[1].cred, "reader");
    ck_assert_int_eq(calls[3].method, RPC_BATCH_GET_TENANTS);
    ck_assert_int_eq(calls[3].count, 0);
    ck_assert_int_eq(calls[4].count, 1);
    ck_assert_str_eq(calls[5].cred, "(none)");
    ck_assert_str_eq(calls[6].cred, "");
    /* A reader lookup queued behind the reader's batch, an admin one
     * behind the admin's: two batches, one credential each. */
    lookup(&l[7], &g[7], GW_LOOKUP_USER, "reader", 1, id_b, 1);
    gw_batcher_get(b, &l[7]);
    gw_lookup la;
    got ga;
    lookup(&la, &ga, GW_LOOKUP_USER, "admin", 1, id_c, 1);
    gw_batcher_get(b, &la);
    ck_assert_uint_eq(n_calls, 7);
    answer(0);
    ck_assert_uint_eq(n_calls, 8);
    ck_assert_str_eq(calls[7].cred, "admin");
    ck_assert_str_eq(calls[7].ids[0], "u-c");
    answer(1);
    ck_assert_uint_eq(n_calls, 9);
    ck_assert_str_eq(calls[8].cred, "reader");
    ck_assert_str_eq(calls[8].ids[0], "u-b");
    for (size_t i = 2; i < 9; i++)
        answer(i);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(g[i].called, 1);
    ck_assert_int_eq(ga.called, 1);
    gw_batcher_free(b);
}
END_TEST

START_TEST(full_queue_leaves_at_once)
{
    gw_batcher *b = fresh(4, 32);
    gw_lookup l[6];
    got g[6];
    const char *many[] = {"u-1", "u-2", "u-3"};
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k", 1, id_a, 1);
    gw_batcher_get(b, &l[0]);
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "k", 1, id_b, 1);
    gw_batcher_get(b, &l[1]);
    lookup(&l[2], &g[2], GW_LOOKUP_USER, "k", 1, id_c, 1);
    gw_batcher_get(b, &l[2]);
    ck_assert_uint_eq(n_calls, 1);
    /* Three more ids would pass 4: the queue (2 ids) leaves, these wait. */
    lookup(&l[3], &g[3], GW_LOOKUP_USER, "k", 1, many, 3);
    gw_batcher_get(b, &l[3]);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_uint_eq(calls[1].n_ids, 2);
    /* One more makes 4: full, it leaves without waiting for a completion. */
    lookup(&l[4], &g[4], GW_LOOKUP_USER, "k", 1, id_d, 1);
    gw_batcher_get(b, &l[4]);
    ck_assert_uint_eq(n_calls, 3);
    ck_assert_uint_eq(calls[2].n_ids, 4);
    ck_assert_str_eq(calls[2].ids[0], "u-1");
    ck_assert_str_eq(calls[2].ids[3], "u-d");
    /* More ids than a batch holds: alone, at once. */
    const char *five[] = {"u-5", "u-6", "u-7", "u-8", "u-9"};
    lookup(&l[5], &g[5], GW_LOOKUP_USER, "k", 1, five, 5);
    gw_batcher_get(b, &l[5]);
    ck_assert_uint_eq(n_calls, 4);
    ck_assert_uint_eq(calls[3].n_ids, 5);
    for (size_t i = 0; i < 4; i++)
        answer(i);
    ck_assert_uint_eq(n_calls, 4);
    ck_assert_str_eq(g[3].email[2], "u-3");
    ck_assert_str_eq(g[5].email[4], "u-9");
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(g[i].called, 1);
    gw_batcher_free(b);
}
END_TEST

START_TEST(queue_bound)
{
    gw_batcher *b = fresh(4, 4);
    gw_lookup l[8];
    got g[8];
    const char *two[] = {"u-1", "u-2"};
    /* k1: one in flight, 3 ids queued; k2: one in flight, 1 queued: the
     * kind's 4 queued ids are the bound, so the next lookup is sent alone. */
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k1", 1, id_a, 1);
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "k1", 1, two, 2);
    lookup(&l[2], &g[2], GW_LOOKUP_USER, "k1", 1, id_b, 1);
    lookup(&l[3], &g[3], GW_LOOKUP_USER, "k2", 1, id_c, 1);
    lookup(&l[4], &g[4], GW_LOOKUP_USER, "k2", 1, id_d, 1);
    for (int i = 0; i < 5; i++)
        gw_batcher_get(b, &l[i]);
    ck_assert_uint_eq(n_calls, 2);
    lookup(&l[5], &g[5], GW_LOOKUP_USER, "k2", 1, id_a, 1);
    gw_batcher_get(b, &l[5]);
    ck_assert_uint_eq(n_calls, 3);
    ck_assert_str_eq(calls[2].cred, "k2");
    ck_assert_uint_eq(calls[2].n_ids, 1);
    /* Another kind has its own bound. */
    lookup(&l[6], &g[6], GW_LOOKUP_TENANT, "k2", 1, id_a, 1);
    gw_batcher_get(b, &l[6]);
    ck_assert_uint_eq(n_calls, 4);
    answer_pending();
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(g[i].called, 1);
    gw_batcher_free(b);
}
END_TEST

START_TEST(deadlines)
{
    gw_batcher *b = fresh(0, 0);
    int64_t now = roster_mono_ns();
    const int64_t ms = 1000000LL;
    /* "Soon" leaves room for a descheduled test thread on a loaded
     * machine; the sleep outlasts it. */
    const int64_t soon = 200 * ms;
    struct timespec ts = {0, 300 * 1000000L};
    gw_lookup l[6];
    got g[6];
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k", 1, id_a, 1);
    l[0].deadline_ns = now + soon;
    gw_batcher_get(b, &l[0]);
    ck_assert_uint_eq(n_calls, 1);
    ck_assert(calls[0].deadline_ns == l[0].deadline_ns);
    /* Queued: one expiring very soon, one later, one with none. */
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "k", 1, id_b, 1);
    l[1].deadline_ns = now + soon + 1 * ms;
    lookup(&l[2], &g[2], GW_LOOKUP_USER, "k", 1, id_c, 1);
    l[2].deadline_ns = now + 30000 * ms;
    lookup(&l[3], &g[3], GW_LOOKUP_USER, "k", 1, id_d, 1);
    for (int i = 1; i < 4; i++)
        gw_batcher_get(b, &l[i]);
    ck_assert_uint_eq(n_calls, 1);
    nanosleep(&ts, NULL);
    answer(0);
    /* The expired lookup failed without being sent; the batch carries
     * the earliest deadline of those left. */
    ck_assert_int_eq(g[1].called, 1);
    ck_assert_int_eq(g[1].status, ROSTER_STATUS_DEADLINE_EXCEEDED);
    ck_assert(!g[1].shared);
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_uint_eq(calls[1].n_ids, 2);
    ck_assert(calls[1].deadline_ns == l[2].deadline_ns);
    /* That batch may run until its lookups' latest deadline (none): a
     * lookup due before then does not wait behind it but leaves alone. */
    lookup(&l[4], &g[4], GW_LOOKUP_USER, "k", 1, id_a, 1);
    l[4].deadline_ns = now + 60000 * ms;
    gw_batcher_get(b, &l[4]);
    ck_assert_uint_eq(n_calls, 3);
    ck_assert(calls[2].deadline_ns == l[4].deadline_ns);
    /* One without a deadline may wait. */
    lookup(&l[5], &g[5], GW_LOOKUP_USER, "k", 1, id_b, 1);
    gw_batcher_get(b, &l[5]);
    ck_assert_uint_eq(n_calls, 3);
    answer(1);
    ck_assert_str_eq(g[2].email[0], "u-c");
    ck_assert_str_eq(g[3].email[0], "u-d");
    ck_assert_uint_eq(n_calls, 4);
    ck_assert(calls[3].deadline_ns == 0);
    answer(2);
    answer(3);
    ck_assert_str_eq(g[4].email[0], "u-a");
    ck_assert_str_eq(g[5].email[0], "u-b");
    /* All queued lookups expired: nothing is sent and the group is free. */
    now = roster_mono_ns();
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k", 1, id_a, 1);
    l[0].deadline_ns = now + soon;
    gw_batcher_get(b, &l[0]);
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "k", 1, id_b, 1);
    l[1].deadline_ns = now + soon;
    gw_batcher_get(b, &l[1]);
    ck_assert_uint_eq(n_calls, 5);
    nanosleep(&ts, NULL);
    answer(4);
    ck_assert_int_eq(g[1].status, ROSTER_STATUS_DEADLINE_EXCEEDED);
    ck_assert_uint_eq(n_calls, 5);
    lookup(&l[2], &g[2], GW_LOOKUP_USER, "k", 1, id_c, 1);
    gw_batcher_get(b, &l[2]);
    ck_assert_uint_eq(n_calls, 6);
    answer(5);
    ck_assert_int_eq(g[2].called, 1);
    gw_batcher_free(b);
}
END_TEST

START_TEST(failures_say_shared)
{
    gw_batcher *b = fresh(0, 0);
    gw_lookup l[3];
    got g[3];
    const char *const *ids[] = {id_a, id_b, id_c};
    for (int i = 0; i < 3; i++) {
        lookup(&l[i], &g[i], GW_LOOKUP_USER, "k", 1, ids[i], 1);
        gw_batcher_get(b, &l[i]);
    }
    answer_error(0, ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_int_eq(g[0].status, ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert(!g[0].shared);
    ck_assert_uint_eq(n_calls, 2);
    answer_error(1, ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_int_eq(g[1].status, ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert(g[1].shared);
    ck_assert(g[2].shared);
    /* A reply that does not hold one record per id fails every lookup. */
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k", 1, id_a, 1);
    gw_batcher_get(b, &l[0]);
    uint8_t junk[] = {0x0a, 0x00, 0x0a, 0x00};
    gw_rpc_reply rep = {.status = ROSTER_STATUS_OK, .message = "", .body = junk, .body_len = 4};
    calls[2].done = 1;
    calls[2].cb(&rep, calls[2].ud);
    ck_assert_int_eq(g[0].status, ROSTER_STATUS_INTERNAL);
    gw_batcher_free(b);
}
END_TEST

/* A callback that looks up again, in the same group, from inside the
 * completion: queued behind the batch that left before the callbacks. */
static gw_lookup again;
static got again_got;

static gw_batcher *reentrant_b;

static void on_done_lookup_again(gw_lookup *l, const gw_rpc_reply *failed, bool shared,
                                 const gw_batch_item *items)
{
    on_done(l, failed, shared, items);
    lookup(&again, &again_got, GW_LOOKUP_USER, "k", 1, id_d, 1);
    gw_batcher_get(reentrant_b, &again);
}

START_TEST(lookup_from_callback)
{
    gw_batcher *b = reentrant_b = fresh(0, 0);
    gw_lookup l[2];
    got g[2];
    lookup(&l[0], &g[0], GW_LOOKUP_USER, "k", 1, id_a, 1);
    l[0].cb = on_done_lookup_again;
    gw_batcher_get(b, &l[0]);
    lookup(&l[1], &g[1], GW_LOOKUP_USER, "k", 1, id_b, 1);
    gw_batcher_get(b, &l[1]);
    answer(0);
    /* l[1] left before the callback ran; its lookup waits behind it. */
    ck_assert_uint_eq(n_calls, 2);
    ck_assert_int_eq(again_got.called, 0);
    answer(1);
    ck_assert_uint_eq(n_calls, 3);
    ck_assert_str_eq(calls[2].ids[0], "u-d");
    answer(2);
    ck_assert_int_eq(again_got.called, 1);
    ck_assert_str_eq(again_got.email[0], "u-d");
    gw_batcher_free(b);
}
END_TEST

START_TEST(split_replies)
{
    gw_batch_item it[2];
    /* Empty reply for no ids. */
    ck_assert_int_eq(gw_batch_split(it, 0, NULL, 0), ROSTER_E_OK);
    /* Two records, packed flags 1,0. */
    uint8_t ok[] = {0x0a, 0x02, 0x0a, 0x00, 0x0a, 0x00, 0x12, 0x02, 0x01, 0x00};
    ck_assert_int_eq(gw_batch_split(it, 2, ok, sizeof ok), ROSTER_E_OK);
    ck_assert(it[0].found);
    ck_assert(!it[1].found);
    ck_assert_uint_eq(it[0].len, 2);
    ck_assert_uint_eq(it[1].len, 0);
    /* Unpacked flags are read too. */
    uint8_t unpacked[] = {0x0a, 0x00, 0x0a, 0x00, 0x10, 0x00, 0x10, 0x01};
    ck_assert_int_eq(gw_batch_split(it, 2, unpacked, sizeof unpacked), ROSTER_E_OK);
    ck_assert(!it[0].found);
    ck_assert(it[1].found);
    /* Too few or too many records or flags, and cut framing. */
    ck_assert_int_eq(gw_batch_split(it, 2, ok, 4), ROSTER_E_INTERNAL);
    ck_assert_int_eq(gw_batch_split(it, 1, ok, sizeof ok), ROSTER_E_INTERNAL);
    uint8_t cut[] = {0x0a, 0x05, 0x00};
    ck_assert_int_eq(gw_batch_split(it, 1, cut, sizeof cut), ROSTER_E_INTERNAL);
}
END_TEST

/* A loop's batcher: nothing leaves before the flush, the lookups of one
 * iteration leave together, a group with a batch in flight waits for it,
 * a full batch leaves at once, and undefer sends what is left. */
START_TEST(deferred_until_flush)
{
    n_calls = 0;
    gw_batcher_options o = gw_batcher_defaults();
    o.batch_max = 4;
    o.max_queued = 16;
    o.defer = true;
    gw_batcher *b = NULL;
    ck_assert_int_eq(gw_batcher_new(&b, &o, fake_send, NULL), ROSTER_E_OK);
    gw_lookup l[8];
    got g[8];
    const char *const *ids[] = {id_a, id_b, id_c, id_d};
    for (int i = 0; i < 3; i++) {
        lookup(&l[i], &g[i], GW_LOOKUP_USER, "key-1", FIELD_MASK_ALL, ids[i], 1);
        gw_batcher_get(b, &l[i]);
    }
    lookup(&l[3], &g[3], GW_LOOKUP_TENANT, "key-1", FIELD_MASK_ALL, id_d, 1);
    gw_batcher_get(b, &l[3]);
    ck_assert_uint_eq(n_calls, 0);
    gw_batcher_flush(b);
    /* One batch per group: the three users together, the tenant alone. */
    ck_assert_uint_eq(n_calls, 2);
    size_t users = calls[0].method == RPC_BATCH_GET_USERS ? 0 : 1;
    ck_assert_uint_eq(calls[users].n_ids, 3);
    ck_assert_uint_eq(calls[1 - users].n_ids, 1);
    /* The next iteration's user lookup waits for the batch in flight. */
    lookup(&l[4], &g[4], GW_LOOKUP_USER, "key-1", FIELD_MASK_ALL, id_d, 1);
    gw_batcher_get(b, &l[4]);
    gw_batcher_flush(b);
    ck_assert_uint_eq(n_calls, 2);
    answer(users);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(g[i].called, 1);
    ck_assert_str_eq(g[1].email[0], "u-b");
    ck_assert_uint_eq(n_calls, 3); /* sent on the completion */
    ck_assert_str_eq(calls[2].ids[0], "u-d");
    /* A full batch leaves at once, without a flush. */
    lookup(&l[5], &g[5], GW_LOOKUP_USER, "key-2", FIELD_MASK_ALL, id_a, 1);
    gw_batcher_get(b, &l[5]);
    static const char *four[] = {"u-1", "u-2", "u-3"};
    lookup(&l[6], &g[6], GW_LOOKUP_USER, "key-2", FIELD_MASK_ALL, four, 3);
    gw_batcher_get(b, &l[6]);
    ck_assert_uint_eq(n_calls, 4);
    ck_assert_uint_eq(calls[3].n_ids, 4);
    /* Undefer: sent at once from now on. */
    lookup(&l[7], &g[7], GW_LOOKUP_USER, "key-3", FIELD_MASK_ALL, id_c, 1);
    gw_batcher_get(b, &l[7]);
    ck_assert_uint_eq(n_calls, 4);
    gw_batcher_undefer(b);
    ck_assert_uint_eq(n_calls, 5);
    answer_pending();
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(g[i].called, 1);
    gw_batcher_free(b);
}
END_TEST

START_TEST(options)
{
    gw_batcher *b = NULL;
    gw_batcher_options o = gw_batcher_defaults();
    ck_assert_uint_eq(o.batch_max, 1000);
    o.batch_max = 0;
    ck_assert_int_eq(gw_batcher_new(&b, &o, fake_send, NULL), ROSTER_E_INVALID_ARGUMENT);
    o.batch_max = 1001;
    ck_assert_int_eq(gw_batcher_new(&b, &o, fake_send, NULL), ROSTER_E_INVALID_ARGUMENT);
    o.batch_max = 10;
    o.max_queued = 9;
    ck_assert_int_eq(gw_batcher_new(&b, &o, fake_send, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(b);
    gw_batcher_free(NULL);
    ck_assert_str_eq(gw_lookup_kind_name(GW_LOOKUP_TENANT_COUNT), "tenant_count");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_batcher");
    TCase *tc = tcase_create("batcher");
    tcase_add_test(tc, idle_sends_at_once);
    tcase_add_test(tc, queued_behind_in_flight);
    tcase_add_test(tc, credentials_kinds_and_masks_apart);
    tcase_add_test(tc, full_queue_leaves_at_once);
    tcase_add_test(tc, queue_bound);
    tcase_add_test(tc, deadlines);
    tcase_add_test(tc, failures_say_shared);
    tcase_add_test(tc, lookup_from_callback);
    tcase_add_test(tc, split_replies);
    tcase_add_test(tc, deferred_until_flush);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
