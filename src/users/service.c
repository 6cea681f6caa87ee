#include "service.h"

#include "apikey.h"
#include "clock.h"
#include "field_mask.h"
#include "log.h"
#include "model.h"
#include "pool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifndef ROSTER_VERSION
#define ROSTER_VERSION "unknown"
#endif

struct users_service {
    store *st;
    users_writer *writer;
    users_stats *stats;
    users_pool *lists;  /* list queries served from an index */
    users_pool *scans;  /* list queries that read every record (store_user_list_scans) */
    bool keyless_admin; /* keyless callers are admin (ipc:// and allowed) */
    users_tokens *tokens;
    _Atomic(rpc_server *) srv;
    unsigned merge_warn;                                /* users_service_set_merge_warn; 0: off */
    _Atomic int64_t merge_warned_ns[MODEL_USER__COUNT]; /* last order_merge line per field */
};

/* A key's last use is recorded when the stored time is older than this. */
#define KEY_TOUCH_MS 60000

/* A list query waiting for a list thread; lives in the call's arena. */
typedef struct list_job {
    bool scoped;
    roster_uuid scope;
    const _Atomic int64_t *stop_ns; /* the pool's drain end */
} list_job;

static void list_run(void *ctx, rpc_call *call, void *job);

int users_service_new(users_service **out, store *st, users_writer *w, users_stats *stats,
                      users_tokens *tokens, unsigned list_threads, bool keyless_admin)
{
    users_service *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    s->st = st;
    s->writer = w;
    s->stats = stats;
    s->keyless_admin = keyless_admin;
    s->tokens = tokens;
    atomic_init(&s->srv, NULL);
    s->merge_warn = USERS_MERGE_WARN_TENANTS;
    for (size_t i = 0; i < MODEL_USER__COUNT; i++)
        atomic_init(&s->merge_warned_ns[i], INT64_MIN);
    /* Scans get their own threads, half of the list threads (at least
     * one), so however many are queued an indexed query finds a thread
     * of its own. */
    unsigned scan_threads = (list_threads + 1) / 2;
    unsigned index_threads = list_threads > scan_threads ? list_threads - scan_threads : 1;
    int err = users_pool_start(&s->lists, index_threads, list_run, s);
    if (err == ROSTER_E_OK)
        err = users_pool_start(&s->scans, scan_threads ? scan_threads : 1, list_run, s);
    if (err) {
        users_pool_stop(s->lists);
        free(s);
        return err;
    }
    *out = s;
    return ROSTER_E_OK;
}

/* Called first thing by rpc_server_stop: list work gets USERS_DRAIN_MS
 * to finish, and what is still queued then is answered UNAVAILABLE, so
 * the server's wait for calls in flight ends soon after. */
static void service_stopping(void *arg)
{
    users_service *svc = arg;
    int64_t end = roster_mono_ns() + (int64_t)USERS_DRAIN_MS * 1000000;
    users_pool_close(svc->lists, end);
    users_pool_close(svc->scans, end);
}

void users_service_drain(users_service *svc)
{
    if (svc == NULL)
        return;
    users_pool_stop(svc->lists);
    svc->lists = NULL;
    users_pool_stop(svc->scans);
    svc->scans = NULL;
}

void users_service_set_merge_warn(users_service *svc, unsigned tenants)
{
    svc->merge_warn = tenants;
}

/* The order_merge warning of users_service_set_merge_warn for the list
 * just run in rx, which took `ns`. */
static void warn_merge(users_service *svc, const store_rtxn *rx, int64_t ns)
{
    int field;
    size_t n = store_read_merged(rx, &field);
    if (svc->merge_warn == 0 || n < svc->merge_warn || field < 0 || field >= MODEL_USER__COUNT)
        return;
    int64_t now = roster_mono_ns();
    int64_t last = atomic_load(&svc->merge_warned_ns[field]);
    if (last != INT64_MIN && now - last < (int64_t)USERS_MERGE_WARN_EVERY_MS * 1000000)
        return;
    if (!atomic_compare_exchange_strong(&svc->merge_warned_ns[field], &last, now))
        return; /* another list thread is writing the line */
    const char *name = model_user.fields[field].name;
    roster_log(ROSTER_LOG_WARN, "order_merge",
               "order=%s tenants=%zu us=%lld advice=\"declare --global-order %s to serve users "
               "ordered by %s over every tenant from one index\"",
               name, n, (long long)(ns / 1000), name, name);
}

void users_service_set_server(users_service *svc, rpc_server *srv)
{
    atomic_store(&svc->srv, srv);
    if (srv != NULL)
        rpc_server_on_stop(srv, service_stopping, svc);
}

void users_service_free(users_service *svc)
{
    users_service_drain(svc);
    free(svc);
}

void users_service_observe(void *arg, const rpc_method *method, int code, int64_t ns)
{
    users_service *svc = arg;
    users_stats_request(svc->stats, method, code, ns);
    if (code == ROSTER_STATUS_INTERNAL)
        roster_log(ROSTER_LOG_ERROR, "request_failed", "method=%s code=%d",
                   method ? method->short_name : "(unknown)", code);
    else if (roster_log_enabled(ROSTER_LOG_DEBUG))
        roster_log(ROSTER_LOG_DEBUG, "rpc_reply", "method=%s code=%d status=%s us=%lld",
                   method ? method->short_name : "(unknown)", code, roster_status_name(code),
                   (long long)(ns / 1000));
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* A ListUsersResponse assembled from stored record encodings: total_count
 * (field 1), each user (field 2), each cut to `mask` when lens is set
 * (lens[i]: record i's masked length), then page_info (field 3:
 * has_next_page, and end_cursor when the page has one). */
typedef struct list_body {
    const store_page *page;
    const size_t *lens;
    uint64_t mask;
} list_body;

/* Bytes of a PageInfo with has_next_page and, when has_cursor, an
 * end_cursor of cn bytes. */
static size_t page_info_len(size_t cn, bool has_cursor)
{
    uint8_t head[10];
    return 2 + (has_cursor ? 1 + varint_put(head, cn) + cn : 0);
}

static void list_fill(void *arg, uint8_t *buf)
{
    const list_body *b = arg;
    const store_page *page = b->page;
    size_t n = 0;
    buf[n++] = 0x08;
    n += varint_put(buf + n, (uint64_t)page->total_count);
    for (size_t i = 0; i < page->n; i++) {
        buf[n++] = 0x12;
        if (b->lens == NULL) {
            n += varint_put(buf + n, page->items[i].len);
            memcpy(buf + n, page->items[i].data, page->items[i].len);
            n += page->items[i].len;
            continue;
        }
        n += varint_put(buf + n, b->lens[i]);
        size_t w;
        field_mask_encoded(&w, buf + n, page->items[i].data, page->items[i].len, b->mask);
        n += w;
    }
    size_t cn = page->end_cursor ? strlen(page->end_cursor) : 0;
    buf[n++] = 0x1a;
    n += varint_put(buf + n, page_info_len(cn, page->end_cursor != NULL));
    buf[n++] = 0x08;
    buf[n++] = page->has_next_page ? 1 : 0;
    if (page->end_cursor) {
        buf[n++] = 0x12;
        n += varint_put(buf + n, cn);
        memcpy(buf + n, page->end_cursor, cn);
    }
}

/* ListUsers answered from the stored encodings without unpacking them,
 * written straight into the reply message. The size is known before a
 * byte is copied, so a page over the reply limit is refused unbuilt. */
static int list_users_raw(rpc_call *call, store_rtxn *rx, const roster_uuid *scope,
                          const Roster__V1__ListUsersRequest *req, roster_err_detail *d)
{
    roster_arena *a = rpc_call_arena(call);
    list_body b = {.mask = field_mask_of(&model_user, req->has_field_mask, req->field_mask)};
    store_page page;
    int err = store_user_list_raw(rx, scope, req, a, &page, d);
    if (err)
        return err;
    size_t *lens = NULL;
    if (b.mask != FIELD_MASK_ALL && page.n > 0 &&
        (lens = roster_arena_alloc(a, page.n * sizeof *lens)) == NULL)
        return ROSTER_E_NOMEM;
    uint8_t head[10];
    size_t size = 1 + varint_put(head, (uint64_t)page.total_count);
    for (size_t i = 0; i < page.n; i++) {
        size_t len = page.items[i].len;
        if (lens != NULL) {
            if ((err = field_mask_encoded(&lens[i], NULL, page.items[i].data, len, b.mask)) != 0)
                return roster_fail(d, err, "", "a stored user record does not decode");
            len = lens[i];
        }
        size += 1 + varint_put(head, len) + len;
    }
    size_t info =
        page_info_len(page.end_cursor ? strlen(page.end_cursor) : 0, page.end_cursor != NULL);
    size += 1 + varint_put(head, info) + info;
    if (size > ROSTER_MAX_REPLY_BODY)
        return rpc_reply_limit_fail(d, size);
    b.page = &page;
    b.lens = lens;
    rpc_call_reply_fill(call, size, list_fill, &b);
    return ROSTER_E_OK;
}

/* A stored record cut to a mask, for rpc_call_reply_fill. */
typedef struct record_body {
    const void *bytes;
    size_t len;
    uint64_t mask;
} record_body;

static void record_fill(void *arg, uint8_t *buf)
{
    const record_body *b = arg;
    size_t w;
    field_mask_encoded(&w, buf, b->bytes, b->len, b->mask);
}

/* GetUser's reply: the stored encoding forwarded as is, or cut to the
 * request's field mask on its way into the reply message. */
static int get_user_raw(rpc_call *call, const Roster__V1__GetUserRequest *r, const void *bytes,
                        size_t len, roster_err_detail *d)
{
    record_body b = {bytes, len, field_mask_of(&model_user, r->has_field_mask, r->field_mask)};
    if (b.mask == FIELD_MASK_ALL) {
        rpc_call_reply_bytes(call, bytes, len);
        return ROSTER_E_OK;
    }
    size_t n;
    int err = field_mask_encoded(&n, NULL, bytes, len, b.mask);
    if (err)
        return roster_fail(d, err, "", "a stored user record does not decode");
    rpc_call_reply_fill(call, n, record_fill, &b);
    return ROSTER_E_OK;
}

/* Cuts the records of a message-built reply to the request's mask. */
static void mask_users(Roster__V1__User **users, size_t n, int has, uint64_t mask)
{
    uint64_t m = field_mask_of(&model_user, has, mask);
    for (size_t i = 0; m != FIELD_MASK_ALL && i < n; i++)
        field_mask_message(&users[i]->base, &model_user, m);
}

static void mask_tenants(Roster__V1__Tenant **tenants, size_t n, int has, uint64_t mask)
{
    uint64_t m = field_mask_of(&model_tenant, has, mask);
    for (size_t i = 0; m != FIELD_MASK_ALL && i < n; i++)
        field_mask_message(&tenants[i]->base, &model_tenant, m);
}

/* ListChanges: the stored event encodings forwarded as they are (field
 * 1 of ListChangesResponse each), then the seqs. The page stops short of
 * the reply limit. */
typedef struct changes_body {
    const store_changes_page *page;
} changes_body;

static void changes_fill(void *arg, uint8_t *buf)
{
    const store_changes_page *p = ((const changes_body *)arg)->page;
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        buf[n++] = 0x0a;
        n += varint_put(buf + n, p->items[i].len);
        memcpy(buf + n, p->items[i].data, p->items[i].len);
        n += p->items[i].len;
    }
    buf[n++] = 0x10;
    n += varint_put(buf + n, p->oldest_seq);
    buf[n++] = 0x18;
    n += varint_put(buf + n, p->latest_seq);
    buf[n++] = 0x20;
    varint_put(buf + n, p->next_after);
}

static int list_changes(users_service *svc, rpc_call *call, store_rtxn *rx,
                        const roster_uuid *scope, const Roster__V1__ListChangesRequest *req,
                        roster_err_detail *d)
{
    if (!store_changes_recording(svc->st))
        return roster_fail(d, ROSTER_E_FAILED_PRECONDITION, "",
                           "the change feed is off (roster-users --no-change-feed)");
    int32_t limit = req->has_limit ? req->limit : STORE_CHANGES_PAGE_DEFAULT;
    if (limit < 0 || limit > STORE_CHANGES_PAGE_MAX)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "limit",
                           "limit must be from 0 to %d, not %d", STORE_CHANGES_PAGE_MAX,
                           (int)limit);
    store_changes_page page;
    /* Room for the seqs: three varints of at most 10 bytes and their tags. */
    int err = store_changes_list(rx, scope, req->after, (uint32_t)limit, ROSTER_MAX_REPLY_BODY - 64,
                                 rpc_call_arena(call), &page, d);
    if (err != ROSTER_E_OK)
        return err;
    uint8_t head[10];
    size_t size = 3 + varint_put(head, page.oldest_seq) + varint_put(head, page.latest_seq) +
                  varint_put(head, page.next_after);
    for (size_t i = 0; i < page.n; i++)
        size += 1 + varint_put(head, page.items[i].len) + page.items[i].len;
    if (size > ROSTER_MAX_REPLY_BODY)
        return rpc_reply_limit_fail(d, size);
    changes_body b = {&page};
    rpc_call_reply_fill(call, size, changes_fill, &b);
    return ROSTER_E_OK;
}

static int stats_reply(users_service *svc, rpc_call *call, store_rtxn *rx)
{
    roster_arena *a = rpc_call_arena(call);
    store_stats ss;
    int err = store_stat(rx, &ss);
    if (err)
        return err;
    Roster__V1__StatsResponse resp;
    roster__v1__stats_response__init(&resp);
    if ((err = users_stats_fill(&resp, svc->stats, a)) != 0)
        return err;
    resp.has_users = resp.has_tenants = resp.has_map_size_bytes = resp.has_used_bytes = 1;
    resp.users = (int64_t)ss.users;
    resp.tenants = (int64_t)ss.tenants;
    resp.map_size_bytes = (int64_t)ss.map_size;
    resp.used_bytes = (int64_t)ss.used_bytes;
    rpc_server *srv = atomic_load(&svc->srv);
    resp.has_in_flight = 1;
    resp.in_flight = srv ? (int64_t)rpc_server_in_flight(srv) : 0;
    rpc_call_reply_message(call, &resp.base);
    return ROSTER_E_OK;
}

/* Runs one read method in a read transaction. Returns ROSTER_E_OK once the
 * call has been answered; otherwise the caller answers with the error. */
static int read_call(users_service *svc, rpc_call *call, const roster_uuid *scope,
                     const _Atomic int64_t *stop_ns, roster_err_detail *d)
{
    const rpc_method *m = rpc_call_method(call);
    const ProtobufCMessage *req = rpc_call_request(call);
    roster_arena *a = rpc_call_arena(call);
    store_rtxn *rx = NULL;
    int err = store_read_begin_limited(svc->st, &rx, rpc_call_deadline_ns(call), stop_ns);
    if (err)
        return roster_fail(d, err, "", "cannot read the store: %s", roster_strerror(err));
    ProtobufCMessage *out = NULL;
    switch (m->id) {
    case RPC_GET_USER: {
        const Roster__V1__GetUserRequest *r = (const void *)req;
        const void *bytes;
        size_t len;
        if (r->id == NULL) {
            err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "id", "id is required");
            break;
        }
        err = store_user_get_raw(rx, scope, r->id, &bytes, &len);
        if (err == ROSTER_E_NOT_FOUND)
            roster_fail(d, err, "id", "no user with id %.40s", r->id);
        else if (err == ROSTER_E_INVALID_ARGUMENT)
            roster_fail(d, err, "id", "id is not a UUID");
        if (err == ROSTER_E_OK)
            err = get_user_raw(call, r, bytes, len, d);
        break;
    }
    case RPC_BATCH_GET_USERS: {
        Roster__V1__BatchGetUsersResponse *o = NULL;
        const Roster__V1__BatchGetUsersRequest *r = (const void *)req;
        err = store_user_batch_get(rx, scope, r, a, &o, d);
        if (err == ROSTER_E_OK)
            mask_users(o->users, o->n_users, r->has_field_mask, r->field_mask);
        out = (ProtobufCMessage *)o;
        break;
    }
    case RPC_LIST_USERS: {
        int64_t t0 = roster_mono_ns();
        err = list_users_raw(call, rx, scope, (const void *)req, d);
        if (err == ROSTER_E_OK)
            warn_merge(svc, rx, roster_mono_ns() - t0);
        break;
    }
    case RPC_GET_TENANT: {
        Roster__V1__Tenant *o = NULL;
        const Roster__V1__GetTenantRequest *r = (const void *)req;
        err = store_tenant_get(rx, scope, r, a, &o, d);
        if (err == ROSTER_E_OK)
            mask_tenants(&o, 1, r->has_field_mask, r->field_mask);
        out = (ProtobufCMessage *)o;
        break;
    }
    case RPC_BATCH_GET_TENANTS: {
        Roster__V1__BatchGetTenantsResponse *o = NULL;
        const Roster__V1__BatchGetTenantsRequest *r = (const void *)req;
        err = store_tenant_batch_get(rx, scope, r, a, &o, d);
        if (err == ROSTER_E_OK)
            mask_tenants(o->tenants, o->n_tenants, r->has_field_mask, r->field_mask);
        out = (ProtobufCMessage *)o;
        break;
    }
    case RPC_LIST_TENANTS: {
        Roster__V1__ListTenantsResponse *o = NULL;
        const Roster__V1__ListTenantsRequest *r = (const void *)req;
        err = store_tenant_list(rx, scope, r, a, &o, d);
        if (err == ROSTER_E_OK)
            mask_tenants(o->tenants, o->n_tenants, r->has_field_mask, r->field_mask);
        out = (ProtobufCMessage *)o;
        break;
    }
    case RPC_STATS:
        err = stats_reply(svc, call, rx);
        break;
    case RPC_LIST_CHANGES:
        err = list_changes(svc, call, rx, scope, (const void *)req, d);
        break;
    case RPC_GET_KEY: {
        Roster__V1__ApiKey *o = NULL;
        err = store_key_get(rx, (const void *)req, a, &o, d);
        out = (ProtobufCMessage *)o;
        break;
    }
    case RPC_LIST_KEYS: {
        Roster__V1__ListKeysResponse *o = NULL;
        err = store_key_list(rx, (const void *)req, a, &o, d);
        out = (ProtobufCMessage *)o;
        break;
    }
    default:
        err = roster_fail(d, ROSTER_E_UNIMPLEMENTED, "method", "%s is not served here",
                          m->short_name);
        break;
    }
    if (err == ROSTER_E_OK && out != NULL)
        rpc_call_reply_message(call, out);
    store_read_end(rx);
    return err;
}

static void list_run(void *ctx, rpc_call *call, void *job)
{
    users_service *svc = ctx;
    list_job *j = job;
    roster_err_detail d = {{0}};
    int err;
    if (rpc_call_expired(call))
        err = roster_fail(&d, ROSTER_E_DEADLINE_EXCEEDED, "", "deadline exceeded before %s ran",
                          rpc_call_method(call)->short_name);
    else
        err = read_call(svc, call, j->scoped ? &j->scope : NULL, j->stop_ns, &d);
    if (err == ROSTER_E_DEADLINE_EXCEEDED && d.message[0] == 0)
        roster_fail(&d, err, "", "deadline exceeded while %s ran",
                    rpc_call_method(call)->short_name);
    else if (err == ROSTER_E_UNAVAILABLE && d.message[0] == 0)
        roster_fail(&d, err, "", "service is shutting down");
    if (err != ROSTER_E_OK)
        rpc_call_reply_error(call, err, &d);
}

static roster_auth_level role_level(Roster__V1__Role r)
{
    switch (r) {
    case ROSTER__V1__ROLE__ROLE_ADMIN:
        return ROSTER_AUTH_ADMIN;
    case ROSTER__V1__ROLE__ROLE_WRITER:
        return ROSTER_AUTH_WRITER;
    case ROSTER__V1__ROLE__ROLE_READER:
        return ROSTER_AUTH_READER;
    default:
        return ROSTER_AUTH_PUBLIC;
    }
}

static const char *level_name(roster_auth_level l)
{
    switch (l) {
    case ROSTER_AUTH_ADMIN:
        return "admin";
    case ROSTER_AUTH_WRITER:
        return "writer";
    case ROSTER_AUTH_READER:
        return "reader";
    default:
        return "public";
    }
}

/* The audit line of a refused credential: the reason, the key id when the
 * text carries one, the peer and the method; never the key text. */
static void audit_auth_failed(rpc_call *call, const char *reason, const char *cred)
{
    char peer[RPC_PEER_TEXT_LEN], qr[160];
    char key_id[ROSTER_UUID_TEXT_LEN + 1] = "-";
    if (cred != NULL) {
        roster_uuid id;
        uint8_t h[ROSTER_APIKEY_HASH_LEN];
        if (roster_apikey_parse(&id, h, cred, strlen(cred)) == ROSTER_E_OK)
            roster_uuid_format(key_id, &id);
        roster_secure_wipe(h, sizeof h);
    }
    roster_log(ROSTER_LOG_WARN, "auth_failed", "reason=%s key_id=%s peer=%s method=%s",
               roster_log_quote(qr, sizeof qr, reason), key_id, rpc_call_peer(peer, call),
               rpc_call_method(call)->short_name);
}

/* Who is calling, decided before any handler runs. `scope` is NULL for an
 * unrestricted caller; `by` the caller's key id text (NULL = keyless). */
typedef struct caller {
    bool scoped;
    roster_uuid scope;
    bool keyed;
    char by[ROSTER_UUID_TEXT_LEN + 1];
    bool token;          /* the credential was an access token */
    users_token_who tok; /* what the token stands for */
    store_principal key; /* the API key the call stands for */
} caller;

/* Verifies the call's credential against the store (on every call, so a
 * revoked key is refused from the next call) and the method's AUTH level
 * against the key's role, and derives the caller's tenant scope from the
 * key alone. Answers nothing; returns the error to answer with. */
static int authorize(users_service *svc, rpc_call *call, caller *out, roster_err_detail *d)
{
    const rpc_method *m = rpc_call_method(call);
    const char *cred = rpc_call_credential(call);
    caller c;
    memset(&c, 0, sizeof c);
    if (cred == NULL) {
        if (svc->keyless_admin || m->auth == ROSTER_AUTH_PUBLIC) {
            *out = c;
            return ROSTER_E_OK;
        }
        audit_auth_failed(call, "no key", NULL);
        return roster_fail(d, ROSTER_E_UNAUTHENTICATED, "credential", "an API key is required");
    }
    /* The key (or token's key, then its user) is looked up on its own,
     * with no snapshot shared with the method's own read. */
    store_rtxn *rx = NULL;
    int err = store_read_begin_single(svc->st, &rx);
    if (err)
        return roster_fail(d, err, "", "cannot read the store: %s", roster_strerror(err));
    store_principal p;
    roster_err_detail why = {{0}};
    int64_t now = roster_now_ms();
    size_t cred_len = strlen(cred);
    c.token = users_tokens_is_token(cred, cred_len);
    if (c.token)
        err = users_tokens_authenticate(&p, &c.tok, svc->tokens, rx, cred, cred_len, now, &why);
    else
        err = store_key_authenticate(rx, cred, cred_len, now, &p, &why);
    store_read_end(rx);
    if (err == ROSTER_E_UNAUTHENTICATED) {
        audit_auth_failed(call, why.message, cred);
        return roster_fail(d, ROSTER_E_UNAUTHENTICATED, "credential",
                           c.token ? "access token not accepted" : "API key not accepted");
    }
    if (err != ROSTER_E_OK)
        return roster_fail(d, err, "", "cannot check the API key: %s", roster_strerror(err));
    roster_uuid_format(c.by, &p.key_id);
    if (role_level(p.role) < m->auth) {
        char peer[RPC_PEER_TEXT_LEN];
        roster_log(ROSTER_LOG_WARN, "permission_denied", "key_id=%s role=%s peer=%s method=%s",
                   c.by, store_key_role_name(p.role), rpc_call_peer(peer, call), m->short_name);
        return roster_fail(d, ROSTER_E_PERMISSION_DENIED, "",
                           "%s needs the %s role; this key is %s", m->short_name,
                           level_name(m->auth), store_key_role_name(p.role));
    }
    if (now - p.last_used_at >= KEY_TOUCH_MS)
        users_writer_touch(svc->writer, &p.key_id, now);
    c.keyed = true;
    c.key = p;
    if (c.tok.user) {
        c.scoped = c.tok.has_tenant;
        c.scope = c.tok.tenant;
    } else if (p.has_tenant) {
        c.scoped = true;
        c.scope = p.tenant;
    }
    *out = c;
    return ROSTER_E_OK;
}

void users_service_handle(void *arg, rpc_call *call)
{
    users_service *svc = arg;
    roster_err_detail d = {{0}};
    const rpc_method *m = rpc_call_method(call);
    caller who;
    int err;
    if (m->server_stream) {
        err = roster_fail(&d, ROSTER_E_UNIMPLEMENTED, "method",
                          "%s is a server-streaming method served by roster-gateway over gRPC "
                          "only; over nng, follow the feed with ListChanges",
                          m->short_name);
        goto fail;
    }
    err = authorize(svc, call, &who, &d);
    if (err)
        goto fail;
    const roster_uuid *scope = who.scoped ? &who.scope : NULL;
    if (who.tok.user &&
        (err = users_tokens_user_allows(&who.tok, m, rpc_call_request(call), &d)) != 0) {
        char peer[RPC_PEER_TEXT_LEN];
        roster_log(ROSTER_LOG_WARN, "permission_denied", "key_id=%s role=user peer=%s method=%s",
                   who.by, rpc_call_peer(peer, call), m->short_name);
        goto fail;
    }
    if (rpc_call_expired(call)) {
        err = roster_fail(&d, ROSTER_E_DEADLINE_EXCEEDED, "", "deadline exceeded before %s ran",
                          m->short_name);
        goto fail;
    }
    if (users_tokens_serves(m)) {
        users_token_caller tc = {
            .keyed = who.keyed, .token = who.token, .key = who.key, .scope = scope};
        if ((err = users_tokens_call(svc->tokens, call, &tc, &d)) == ROSTER_E_OK)
            return;
        goto fail;
    }
    if (m->writes) {
        users_writer_submit(svc->writer, call, scope, who.keyed ? who.by : NULL);
        return;
    }
    if (m->id == RPC_HEALTH) {
        Roster__V1__HealthResponse h;
        roster__v1__health_response__init(&h);
        h.status = "SERVING";
        h.version = ROSTER_VERSION;
        h.has_uptime_ms = 1;
        h.uptime_ms = users_stats_uptime_ms(svc->stats);
        rpc_call_reply_message(call, &h.base);
        return;
    }
    if (m->id == RPC_LIST_USERS || m->id == RPC_LIST_TENANTS) {
        list_job *job = roster_arena_alloc(rpc_call_arena(call), sizeof *job);
        if (job == NULL) {
            err = ROSTER_E_NOMEM;
            goto fail;
        }
        job->scoped = scope != NULL;
        if (scope != NULL)
            job->scope = *scope;
        users_pool *pool = svc->lists;
        if (m->id == RPC_LIST_USERS &&
            store_user_list_scans(svc->st, scope, (const void *)rpc_call_request(call),
                                  rpc_call_arena(call)))
            pool = svc->scans;
        if (pool == NULL) {
            err = roster_fail(&d, ROSTER_E_UNAVAILABLE, "", "service is shutting down");
            goto fail;
        }
        job->stop_ns = users_pool_stop_ns(pool);
        users_pool_submit(pool, call, job);
        return;
    }
    err = read_call(svc, call, scope, NULL, &d);
    if (err == ROSTER_E_OK)
        return;
fail:
    rpc_call_reply_error(call, err, &d);
}
