#include "batcher.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "field_mask.h"
#include "metrics.h"
#include "roster.pb-c.h"
#include "roster_limits.h"
#include "rpc_wire_scan.h"

#define GROUP_BUCKETS 64
/* How much later than its own deadline a lookup may be answered because it
 * waited in a queue: the millisecond RPC timeouts are rounded up to. */
#define QUEUE_SLACK_NS 1000000LL

static const char *const kind_names[GW_LOOKUP__COUNT] = {"user", "tenant", "tenant_count"};

const char *gw_lookup_kind_name(gw_lookup_kind kind)
{
    return (unsigned)kind < GW_LOOKUP__COUNT ? kind_names[kind] : "unknown";
}

/* The lookups of one kind, credential and mask: those queued, and how many
 * batches are in flight. */
typedef struct group group;
struct group {
    group *next; /* in its bucket */
    uint64_t hash;
    uint64_t mask;
    gw_lookup *head, *tail; /* the queue */
    size_t queued;          /* ids in the queue */
    unsigned in_flight;
    /* Upper bounds on when the queued lookups' batch, and every batch in
     * flight, ends: the latest deadline among their lookups (INT64_MAX for
     * none); 0 when there are none. A batch's RPC deadline is the earliest
     * of its lookups', so it ends by then. */
    int64_t queued_by, flight_by;
    bool keyless;
    size_t cred_len;
    char cred[]; /* NUL-terminated copy of the credential */
};

typedef struct kind_state {
    pthread_mutex_t mu;
    group *buckets[GROUP_BUCKETS];
    size_t queued; /* ids queued in all groups of the kind */
} kind_state;

struct gw_batcher {
    gw_batcher_options o;
    gw_batch_send_fn send;
    void *send_ud;
    kind_state kinds[GW_LOOKUP__COUNT];
};

/* One batch RPC on its way: its lookups (a list through gw_lookup.next)
 * and, for a group's batch, the group (NULL for a lookup sent alone past
 * the queue bound). */
typedef struct batch {
    gw_batcher *b;
    gw_lookup_kind kind;
    group *g;
    gw_lookup *head;
    size_t n_lookups;
    size_t n_ids;
    bool on_stack;     /* a stand-in for a batch that was never sent */
    const char *ids[]; /* n_ids */
} batch;

gw_batcher_options gw_batcher_defaults(void)
{
    return (gw_batcher_options){
        .batch_max = ROSTER_MAX_BATCH, .max_queued = 8 * ROSTER_MAX_BATCH, .max_in_flight = 1};
}

int gw_batcher_new(gw_batcher **out, const gw_batcher_options *opts, gw_batch_send_fn send,
                   void *send_ud)
{
    gw_batcher_options o = opts ? *opts : gw_batcher_defaults();
    if (o.batch_max < 1 || o.batch_max > ROSTER_MAX_BATCH || o.max_queued < o.batch_max ||
        o.max_in_flight < 1 || send == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    gw_batcher *b = calloc(1, sizeof *b);
    if (b == NULL)
        return ROSTER_E_NOMEM;
    b->o = o;
    b->send = send;
    b->send_ud = send_ud;
    for (int k = 0; k < GW_LOOKUP__COUNT; k++)
        pthread_mutex_init(&b->kinds[k].mu, NULL);
    *out = b;
    return ROSTER_E_OK;
}

void gw_batcher_free(gw_batcher *b)
{
    if (b == NULL)
        return;
    for (int k = 0; k < GW_LOOKUP__COUNT; k++)
        pthread_mutex_destroy(&b->kinds[k].mu);
    free(b);
}

/* ------------------------------------------------------------ groups */

static uint64_t group_hash(const char *cred, size_t len, uint64_t mask)
{
    uint64_t h = 1469598103934665603ull ^ mask;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)cred[i]) * 1099511628211ull;
    return h;
}

/* The group of l in k, made when there is none (NULL when out of memory).
 * Under k->mu. */
static group *group_find(kind_state *k, const gw_lookup *l)
{
    const char *cred = l->credential ? l->credential : "";
    size_t len = strlen(cred);
    uint64_t h = group_hash(cred, len, l->mask);
    group **slot = &k->buckets[h % GROUP_BUCKETS];
    for (group *g = *slot; g; g = g->next)
        if (g->hash == h && g->mask == l->mask && g->keyless == (l->credential == NULL) &&
            g->cred_len == len && memcmp(g->cred, cred, len) == 0)
            return g;
    group *g = calloc(1, sizeof *g + len + 1);
    if (g == NULL)
        return NULL;
    g->hash = h;
    g->mask = l->mask;
    g->keyless = l->credential == NULL;
    g->cred_len = len;
    memcpy(g->cred, cred, len + 1);
    g->next = *slot;
    *slot = g;
    return g;
}

/* Unlinks and frees g (a credential: wiped first). Under k->mu. */
static void group_drop(kind_state *k, group *g)
{
    group **p = &k->buckets[g->hash % GROUP_BUCKETS];
    while (*p != g)
        p = &(*p)->next;
    *p = g->next;
    volatile char *c = g->cred;
    for (size_t i = 0; i < g->cred_len; i++)
        c[i] = 0;
    free(g);
}

static int64_t until(const gw_lookup *l)
{
    return l->deadline_ns ? l->deadline_ns : INT64_MAX;
}

static int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Takes g's whole queue as the next batch's lookups and counts that batch
 * in flight. Under k->mu. */
static gw_lookup *group_take(kind_state *k, group *g)
{
    gw_lookup *l = g->head;
    g->flight_by = later(g->flight_by, g->queued_by);
    g->queued_by = 0;
    k->queued -= g->queued;
    g->head = g->tail = NULL;
    g->queued = 0;
    g->in_flight++;
    return l;
}

/* ------------------------------------------------------------ replies */

int gw_batch_split(gw_batch_item *items, size_t n, const uint8_t *body, size_t len)
{
    const uint8_t *p = body, *end = len ? body + len : body;
    size_t n_rec = 0, n_found = 0;
    gw_batch_item tmp[64];
    gw_batch_item *it = n <= 64 ? tmp : malloc(n * sizeof *it);
    if (it == NULL)
        return ROSTER_E_NOMEM;
    int rc = ROSTER_E_INTERNAL;
    while (p < end) {
        rpc_wire_field f;
        const uint8_t *at = p;
        if (!rpc_wire_next(&f, &p, end))
            goto done;
        if (f.number == 1 && f.wire_type == 2) { /* users / tenants */
            if (n_rec == n)
                goto done;
            it[n_rec].bytes = f.body;
            it[n_rec].len = f.len;
            n_rec++;
        } else if (f.number == 2 && f.wire_type == 2) { /* found, packed */
            const uint8_t *q = f.body, *qend = f.body + f.len;
            while (q < qend) {
                uint64_t v;
                if (n_found == n || !rpc_wire_varint(&v, &q, qend))
                    goto done;
                it[n_found++].found = v != 0;
            }
        } else if (f.number == 2 && f.wire_type == 0) { /* found, one flag */
            uint64_t tag, v;
            if (n_found == n || !rpc_wire_varint(&tag, &at, p) || !rpc_wire_varint(&v, &at, p))
                goto done;
            it[n_found++].found = v != 0;
        }
    }
    if (n_rec == n && n_found == n) {
        memcpy(items, it, n * sizeof *it);
        rc = ROSTER_E_OK;
    }
done:
    if (it != tmp)
        free(it);
    return rc;
}

/* ------------------------------------------------------------ sending */

static void batch_reply(const gw_rpc_reply *r, void *ud);

/* Fails l as if its RPC had answered `status` with `msg`. */
static void lookup_fail(gw_lookup *l, int status, const char *msg)
{
    gw_rpc_reply r = {.status = status, .message = msg};
    l->cb(l, &r, false, NULL);
}

/* Sends `head` (a list of lookups of kind `kind`) as one batch RPC of
 * group g (NULL: a lookup sent alone, not counted in any group). Lookups
 * already past their deadline fail here instead. When none is left, the
 * batch completes at once as far as g is concerned. */
static void batch_send(gw_batcher *b, gw_lookup_kind kind, group *g, gw_lookup *head)
{
    int64_t now = roster_mono_ns();
    int64_t deadline = 0;
    size_t n_ids = 0, n_lookups = 0;
    gw_lookup *live = NULL, **tail = &live, *expired = NULL;
    for (gw_lookup *l = head, *next; l; l = next) {
        next = l->next;
        if (l->deadline_ns && l->deadline_ns <= now) {
            l->next = expired;
            expired = l;
            continue;
        }
        if (l->deadline_ns && (deadline == 0 || l->deadline_ns < deadline))
            deadline = l->deadline_ns;
        l->first = n_ids;
        n_ids += l->n_ids;
        n_lookups++;
        *tail = l;
        tail = &l->next;
    }
    *tail = NULL;
    batch *bt = live ? malloc(sizeof *bt + n_ids * sizeof bt->ids[0]) : NULL;
    if (bt != NULL) {
        *bt = (batch){
            .b = b, .kind = kind, .g = g, .head = live, .n_lookups = n_lookups, .n_ids = n_ids};
        for (gw_lookup *l = live; l; l = l->next)
            for (size_t i = 0; i < l->n_ids; i++)
                bt->ids[l->first + i] = l->ids[i];
    }
    for (gw_lookup *l = expired, *next; l; l = next) {
        next = l->next;
        lookup_fail(l, ROSTER_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
    }
    if (bt == NULL) {
        /* Nothing left to send, or no memory for it (those left fail): the
         * slot this batch held in g is free again either way. */
        batch stand = {
            .b = b, .kind = kind, .g = g, .head = live, .n_lookups = n_lookups, .on_stack = true};
        gw_rpc_reply r = {.status = live ? ROSTER_STATUS_RESOURCE_EXHAUSTED : ROSTER_STATUS_OK,
                          .message = live ? "out of memory" : ""};
        batch_reply(&r, &stand);
        return;
    }
    gw_metrics_batch(kind, n_lookups);
    const char *cred = g ? (g->keyless ? NULL : g->cred) : live->credential;
    uint64_t mask = live->mask;
    if (kind == GW_LOOKUP_USER) {
        Roster__V1__BatchGetUsersRequest q = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
        q.n_ids = n_ids;
        q.ids = (char **)bt->ids;
        q.has_field_mask = mask != FIELD_MASK_ALL;
        q.field_mask = mask;
        b->send(b->send_ud, RPC_BATCH_GET_USERS, &q.base, deadline, cred, batch_reply, bt);
    } else {
        Roster__V1__BatchGetTenantsRequest q = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
        q.n_ids = n_ids;
        q.ids = (char **)bt->ids;
        q.has_field_mask = mask != FIELD_MASK_ALL;
        q.field_mask = mask;
        q.has_include_user_count = 1;
        q.include_user_count = kind == GW_LOOKUP_TENANT_COUNT;
        b->send(b->send_ud, RPC_BATCH_GET_TENANTS, &q.base, deadline, cred, batch_reply, bt);
    }
}

/* A batch's RPC answered (or the batch ended before it was sent). Frees
 * bt unless it is a stand-in on batch_send's stack. */
static void batch_reply(const gw_rpc_reply *r, void *ud)
{
    batch *bt = ud;
    gw_batcher *b = bt->b;
    group *g = bt->g;
    gw_lookup *next = NULL;
    if (g != NULL) {
        kind_state *k = &b->kinds[bt->kind];
        pthread_mutex_lock(&k->mu);
        if (--g->in_flight == 0)
            g->flight_by = 0;
        if (g->head != NULL)
            next = group_take(k, g);
        else if (g->in_flight == 0)
            group_drop(k, g);
        pthread_mutex_unlock(&k->mu);
    }
    /* The queued lookups leave before this batch's answers are handed out. */
    if (next != NULL)
        batch_send(b, bt->kind, g, next);
    gw_batch_item tmp[64];
    gw_batch_item *items = NULL;
    const gw_rpc_reply *failed = r->status == ROSTER_STATUS_OK ? NULL : r;
    gw_rpc_reply bad = {.status = ROSTER_STATUS_INTERNAL,
                        .message = "the user service's batch reply does not match its request"};
    if (failed == NULL && bt->head != NULL) {
        items = bt->n_ids <= 64 ? tmp : malloc(bt->n_ids * sizeof *items);
        if (items == NULL || gw_batch_split(items, bt->n_ids, r->body, r->body_len) != 0)
            failed = &bad;
    }
    bool shared = bt->n_lookups > 1;
    for (gw_lookup *l = bt->head, *nl; l; l = nl) {
        nl = l->next;
        if (failed)
            l->cb(l, failed, shared, NULL);
        else
            l->cb(l, NULL, false, items + l->first);
    }
    if (items != tmp)
        free(items);
    if (!bt->on_stack)
        free(bt);
}

void gw_batcher_get(gw_batcher *b, gw_lookup *l)
{
    l->next = NULL;
    if ((unsigned)l->kind >= GW_LOOKUP__COUNT || l->n_ids == 0) {
        lookup_fail(l, ROSTER_STATUS_INVALID_ARGUMENT, "no ids to look up");
        return;
    }
    if (l->n_ids > b->o.batch_max) {
        batch_send(b, l->kind, NULL, l);
        return;
    }
    kind_state *k = &b->kinds[l->kind];
    gw_lookup *full = NULL;
    pthread_mutex_lock(&k->mu);
    group *g = group_find(k, l);
    if (g == NULL || (g->in_flight > 0 &&
                      (k->queued + l->n_ids > b->o.max_queued ||
                       (l->deadline_ns && l->deadline_ns + QUEUE_SLACK_NS < g->flight_by)))) {
        /* Out of memory, the queue bound, or a deadline before the batches
         * in flight may end: sent alone, at once. */
        pthread_mutex_unlock(&k->mu);
        batch_send(b, l->kind, NULL, l);
        return;
    }
    if (!b->o.defer && g->in_flight < b->o.max_in_flight && g->head == NULL) {
        g->in_flight++;
        g->flight_by = later(g->flight_by, until(l));
        pthread_mutex_unlock(&k->mu);
        batch_send(b, l->kind, g, l);
        return;
    }
    /* A full queue leaves now; l starts the next one. */
    if (g->queued + l->n_ids > b->o.batch_max)
        full = group_take(k, g);
    if (g->tail)
        g->tail->next = l;
    else
        g->head = l;
    g->tail = l;
    g->queued_by = later(g->queued_by, until(l));
    g->queued += l->n_ids;
    k->queued += l->n_ids;
    gw_lookup *also = NULL;
    if (g->queued == b->o.batch_max)
        also = group_take(k, g);
    pthread_mutex_unlock(&k->mu);
    if (full != NULL)
        batch_send(b, l->kind, g, full);
    if (also != NULL)
        batch_send(b, l->kind, g, also);
}

void gw_batcher_flush(gw_batcher *b)
{
    for (int kind = 0; kind < GW_LOOKUP__COUNT; kind++) {
        kind_state *k = &b->kinds[kind];
        for (;;) {
            /* Taken under the lock, sent after it (a send may call back). */
            group *gs[16];
            gw_lookup *heads[16];
            size_t n = 0;
            pthread_mutex_lock(&k->mu);
            for (int i = 0; i < GROUP_BUCKETS && n < 16; i++)
                for (group *g = k->buckets[i]; g && n < 16; g = g->next)
                    if (g->head != NULL && g->in_flight < b->o.max_in_flight) {
                        gs[n] = g;
                        heads[n] = group_take(k, g);
                        n++;
                    }
            pthread_mutex_unlock(&k->mu);
            for (size_t i = 0; i < n; i++)
                batch_send(b, (gw_lookup_kind)kind, gs[i], heads[i]);
            if (n < 16)
                break;
        }
    }
}

void gw_batcher_undefer(gw_batcher *b)
{
    b->o.defer = false;
    gw_batcher_flush(b);
}
