#include "resolvers.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "field_mask.h"
#include "loop.h"
#include "mask.h"
#include "metrics.h"
#include "roster_limits.h"
#include "rpc_method.h"
#include "roster.pb-c.h"
#include "status_map.h"
#include "translate.h"
#include "uuid.h"

/* Root fields: the RPC each one is, with its request and reply messages.
 * The arguments become the request by translate.h's conventions; the reply
 * is the field's value, whose object fields are joined to the reply's
 * fields at start. */
enum {
    ROOT_COUNT_USERS = 1u << 0, /* include_user_count when `users` is selected */
    ROOT_RETURNS_ID = 1u << 1,  /* the field's value is the reply's `id` (ID!), not an object */
};

typedef struct root_method {
    const char *type;
    const char *field;
    rpc_method_id rpc; /* request and reply messages from rpc_method_get() */
    unsigned flags;
} root_method;

static const root_method root_methods[] = {
    {"Query", "user", RPC_GET_USER, 0},
    {"Query", "users", RPC_LIST_USERS, 0},
    {"Query", "tenant", RPC_GET_TENANT, ROOT_COUNT_USERS},
    {"Query", "tenants", RPC_LIST_TENANTS, 0},
    {"Mutation", "createUser", RPC_CREATE_USER, 0},
    {"Mutation", "updateUser", RPC_UPDATE_USER, 0},
    {"Mutation", "createTenant", RPC_CREATE_TENANT, 0},
    {"Mutation", "updateTenant", RPC_UPDATE_TENANT, 0},
    {"Mutation", "deleteUser", RPC_DELETE_USER, ROOT_RETURNS_ID},
    {"Mutation", "deleteTenant", RPC_DELETE_TENANT, ROOT_RETURNS_ID},
};
enum { N_ROOTS = sizeof root_methods / sizeof root_methods[0] };

/* Object fields with resolvers of their own rather than a protobuf field. */
static const gw_xl_special specials[] = {
    {"UserModel", "synced"},           /* always true */
    {"UserModel", "tenant"},           /* batched BatchGetTenants per level */
    {"TenantModel", "users"},          /* batched counts per level */
    {"UsersCountModel", "totalCount"}, /* the tenant's user_count */
};

typedef struct root {
    const root_method *m;
    const gw_xl_msg *plan;
    const ProtobufCFieldDescriptor *count_users; /* ROOT_COUNT_USERS: include_user_count */
    const ProtobufCFieldDescriptor *field_mask;  /* reads of records: the request's field_mask */
    const gw_mask *mask;                         /* ... computed by this record's table */
} root;

struct gw_resolvers {
    gql_resolvers *table;
    gw_upstream *up;
    gw_batcher *batcher;              /* NULL: no cross-request batching */
    gw_batcher *const *loop_batchers; /* one per event loop, or NULL */
    unsigned n_loop_batchers;
    uint32_t max_page;
    uint32_t max_rpcs;
    gw_xl *xl;
    gw_mask *user_mask;
    gw_mask *tenant_mask;
    root roots[N_ROOTS];
};

/* ------------------------------------------------------------ errors */

static void fail_input(gql_call *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_input(gql_call *c, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *ext = field ? json_pack("{s:s}", "field", field) : NULL;
    gql_resolve_error(c, "BAD_USER_INPUT", msg, ext);
}

/* Completes c with the GraphQL error for a failed RPC. */
static void fail_rpc(gql_call *c, const gw_rpc_reply *r)
{
    const char *code = gw_status_gql_code(r->status);
    char msg[512];
    json_t *ext = NULL;
    switch (r->status) {
    case ROSTER_STATUS_INVALID_ARGUMENT:
    case ROSTER_STATUS_FAILED_PRECONDITION:
    case ROSTER_STATUS_OUT_OF_RANGE:
        if (r->field && r->field[0]) {
            snprintf(msg, sizeof msg, "Invalid value for %s: %s", r->field,
                     r->violation && r->violation[0] ? r->violation : r->message);
            ext = json_object();
            json_object_set_new(ext, "field", json_string(r->field));
            json_t *vs = json_array();
            for (size_t i = 0; i < r->n_violations; i++)
                json_array_append_new(
                    vs,
                    json_pack("{s:s,s:s}", "field",
                              r->violation_fields[i] ? r->violation_fields[i] : "", "message",
                              r->violation_descriptions[i] ? r->violation_descriptions[i] : ""));
            json_object_set_new(ext, "violations", vs);
        } else {
            snprintf(msg, sizeof msg, "%s", r->message[0] ? r->message : "invalid argument");
        }
        break;
    case ROSTER_STATUS_DEADLINE_EXCEEDED:
        snprintf(msg, sizeof msg, "the user service did not answer before the deadline");
        break;
    case ROSTER_STATUS_RESOURCE_EXHAUSTED:
        /* Full storage needs an operator, not a retry: the service names
         * the map-size option as the violation's field. */
        if (r->field && strcmp(r->field, ROSTER_MAP_FULL_FIELD) == 0) {
            code = GW_CODE_STORAGE_FULL;
            snprintf(msg, sizeof msg, "%s", r->message[0] ? r->message : "storage full");
            break;
        }
        /* A reply over the reply limit: only a smaller request helps. */
        if (r->field && strcmp(r->field, ROSTER_REPLY_LIMIT_FIELD) == 0) {
            code = GW_CODE_REPLY_TOO_LARGE;
            snprintf(msg, sizeof msg,
                     "the records asked for are over the reply limit of %u bytes; select fewer "
                     "fields or ask for fewer records (a smaller limit)",
                     (unsigned)ROSTER_MAX_REPLY_BODY);
            ext = json_pack("{s:s}", "field", "limit");
            break;
        }
        snprintf(msg, sizeof msg, "the user service is unavailable; retry shortly");
        break;
    case ROSTER_STATUS_UNAVAILABLE:
        snprintf(msg, sizeof msg, "the user service is unavailable; retry shortly");
        break;
    case ROSTER_STATUS_NOT_FOUND:
    case ROSTER_STATUS_ALREADY_EXISTS:
    case ROSTER_STATUS_PERMISSION_DENIED:
    case ROSTER_STATUS_UNAUTHENTICATED:
        snprintf(msg, sizeof msg, "%s", r->message[0] ? r->message : roster_status_name(r->status));
        break;
    default:
        /* INTERNAL and anything unexpected: no internals leave the gateway. */
        snprintf(msg, sizeof msg, "internal error");
        break;
    }
    gql_resolve_error(c, code, msg, ext);
}

/* ------------------------------------------------------------ helpers */

static gw_exec_ctx *ctx_of(gql_call *c)
{
    return gql_call_context(c);
}

static void *zalloc(gql_call *c, size_t n)
{
    void *p = gql_alloc(c, n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* ------------------------------------------------------------ RPC plumbing */

typedef struct pend pend;
typedef void (*ok_fn)(pend *p, void *msg);

struct pend {
    gql_call *call;   /* single-call resolvers */
    gql_call **calls; /* batch resolvers: calls[i] asks for ids[index[i]] */
    size_t n_calls;
    uint32_t *index;
    const ProtobufCMessageDescriptor *reply_desc;
    ok_fn on_ok;
    /* The request as sent without cross-request batching, kept while a
     * lookup of it waits in the batcher (sent alone when the batch cannot
     * answer it). */
    rpc_method_id method;
    const ProtobufCMessage *req;
    gw_lookup lookup;
};

static void *pa_alloc(void *data, size_t size)
{
    return gql_alloc(data, size ? size : 1);
}

static void pa_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

static void rpc_done(const gw_rpc_reply *r, void *ud)
{
    pend *p = ud;
    gql_call *first = p->call ? p->call : p->calls[0];
    if (r->status != ROSTER_STATUS_OK) {
        if (p->call) {
            fail_rpc(p->call, r);
            return;
        }
        size_t n = p->n_calls;
        gql_call **calls = p->calls;
        for (size_t i = 0; i < n; i++)
            fail_rpc(calls[i], r);
        return;
    }
    ProtobufCAllocator a = {.alloc = pa_alloc, .free = pa_free, .allocator_data = first};
    ProtobufCMessage *msg = protobuf_c_message_unpack(p->reply_desc, &a, r->body_len, r->body);
    if (msg == NULL) {
        gw_rpc_reply bad = *r;
        bad.status = ROSTER_STATUS_INTERNAL;
        if (p->call) {
            fail_rpc(p->call, &bad);
            return;
        }
        size_t n = p->n_calls;
        gql_call **calls = p->calls;
        for (size_t i = 0; i < n; i++)
            fail_rpc(calls[i], &bad);
        return;
    }
    p->on_ok(p, msg);
}

/* ------------------------------------------------------------ cross-request batching */

static bool is_uuid(const char *id)
{
    roster_uuid u;
    return id != NULL && roster_uuid_parse(&u, id, strlen(id)) == ROSTER_E_OK;
}

/* The batcher's lookup for request `req` of method m, when it is a lookup
 * by id whose ids are all UUIDs (anything else goes as it is, so the
 * service's answer to a malformed id stays the request's own). */
static bool lookup_prepare(gw_lookup *l, const gw_exec_ctx *ctx, rpc_method_id m,
                           const ProtobufCMessage *req)
{
    int has_mask, count;
    uint64_t mask;
    switch (m) {
    case RPC_GET_USER: {
        Roster__V1__GetUserRequest *r = (void *)req;
        l->kind = GW_LOOKUP_USER;
        l->ids = (const char *const *)&r->id;
        l->n_ids = 1;
        has_mask = r->has_field_mask, mask = r->field_mask, count = 0;
        break;
    }
    case RPC_GET_TENANT: {
        Roster__V1__GetTenantRequest *r = (void *)req;
        l->ids = (const char *const *)&r->id;
        l->n_ids = 1;
        has_mask = r->has_field_mask, mask = r->field_mask;
        count = r->has_include_user_count && r->include_user_count;
        break;
    }
    case RPC_BATCH_GET_TENANTS: {
        Roster__V1__BatchGetTenantsRequest *r = (void *)req;
        l->ids = (const char *const *)r->ids;
        l->n_ids = r->n_ids;
        has_mask = r->has_field_mask, mask = r->field_mask;
        count = r->has_include_user_count && r->include_user_count;
        break;
    }
    default:
        return false;
    }
    if (m != RPC_GET_USER)
        l->kind = count ? GW_LOOKUP_TENANT_COUNT : GW_LOOKUP_TENANT;
    for (size_t i = 0; i < l->n_ids; i++)
        if (!is_uuid(l->ids[i]))
            return false;
    l->mask = has_mask ? mask : FIELD_MASK_ALL;
    l->credential = ctx->credential;
    l->deadline_ns = ctx->deadline_ns;
    return l->n_ids > 0;
}

/* Sends p's own request, as it would go without cross-request batching. */
static void send_alone(pend *p)
{
    gql_call *first = p->call ? p->call : p->calls[0];
    gw_exec_ctx *ctx = ctx_of(first);
    gw_metrics_batch_resend(p->lookup.kind);
    gw_upstream_call(ctx->resolvers->up, p->method, p->req, ctx->deadline_ns, ctx->credential,
                     rpc_done, p);
}

/* Unpacks one record of a batch reply into the request's memory. */
static void *record_unpack(gql_call *c, const ProtobufCMessageDescriptor *d,
                           const gw_batch_item *it)
{
    ProtobufCAllocator a = {.alloc = pa_alloc, .free = pa_free, .allocator_data = c};
    return protobuf_c_message_unpack(d, &a, it->len, it->bytes);
}

/* gw_lookup_cb: a root lookup gets its record, or sends its own GetUser /
 * GetTenant when the batch could not answer it (failed, or not found: the
 * service's own error, word for word). A per-level batch gets its records
 * as the BatchGetTenantsResponse it would have had; a failure is its own
 * unless the batch carried other requests' lookups. */
static void lookup_done(gw_lookup *l, const gw_rpc_reply *failed, bool shared,
                        const gw_batch_item *items)
{
    pend *p = l->ud;
    if (failed != NULL) {
        if (p->call != NULL || shared)
            send_alone(p);
        else
            rpc_done(failed, p);
        return;
    }
    gw_rpc_reply bad = {.status = ROSTER_STATUS_INTERNAL, .message = "undecodable record"};
    if (p->call != NULL) {
        if (!items[0].found) {
            send_alone(p);
            return;
        }
        void *msg = record_unpack(p->call, p->reply_desc, &items[0]);
        if (msg == NULL)
            fail_rpc(p->call, &bad);
        else
            p->on_ok(p, msg);
        return;
    }
    gql_call *c0 = p->calls[0];
    size_t n = l->n_ids;
    Roster__V1__BatchGetTenantsResponse *resp = zalloc(c0, sizeof *resp);
    Roster__V1__Tenant **ts = zalloc(c0, n * sizeof *ts);
    protobuf_c_boolean *found = zalloc(c0, n * sizeof *found);
    if (resp == NULL || ts == NULL || found == NULL) {
        bad.message = "out of memory";
        rpc_done(&bad, p);
        return;
    }
    roster__v1__batch_get_tenants_response__init(resp);
    for (size_t i = 0; i < n; i++) {
        if (!items[i].found)
            continue;
        if ((ts[i] = record_unpack(c0, &roster__v1__tenant__descriptor, &items[i])) == NULL) {
            rpc_done(&bad, p);
            return;
        }
        found[i] = 1;
    }
    resp->n_tenants = resp->n_found = n;
    resp->tenants = ts;
    resp->found = found;
    p->on_ok(p, resp);
}

/* Fails every call of p with BAD_USER_INPUT and msg. */
static void fail_pend(pend *p, const char *msg)
{
    if (p->call) {
        gql_resolve_error(p->call, "BAD_USER_INPUT", msg, NULL);
        return;
    }
    size_t n = p->n_calls;
    gql_call **calls = p->calls;
    for (size_t i = 0; i < n; i++)
        gql_resolve_error(calls[i], "BAD_USER_INPUT", msg, NULL);
}

/* The batcher for a lookup made on this thread: its event loop's own (no
 * other thread touches it), else the shared one. */
static gw_batcher *batcher_here(const gw_resolvers *R)
{
    gw_loop *l = gw_loop_current();
    if (l != NULL && gw_loop_index(l) < R->n_loop_batchers)
        return R->loop_batchers[gw_loop_index(l)];
    return R->batcher;
}

/* Sends req for p's call(s) unless the request has used up its budget of
 * upstream calls or of input memory (then every call of p fails, naming
 * the limit). */
static void send_rpc(gw_exec_ctx *ctx, rpc_method_id m, const ProtobufCMessage *req, pend *p)
{
    const gw_resolvers *R = ctx->resolvers;
    if (atomic_fetch_add(&ctx->rpcs, 1) >= R->max_rpcs) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "this request needs more than %u calls to the user service; split it into "
                 "several requests",
                 R->max_rpcs);
        fail_pend(p, msg);
        return;
    }
    /* The packed request is copied twice on its way out (a buffer and the
     * nng message): count it against the request's input budget. */
    gql_call *first = p->call ? p->call : p->calls[0];
    if (gql_call_charge(first, 2 * protobuf_c_message_get_packed_size(req)) != ROSTER_E_OK) {
        fail_pend(p, gql_call_input_limit_message(first));
        return;
    }
    p->reply_desc = rpc_method_get(m)->reply;
    p->method = m;
    p->req = req;
    gw_batcher *b = batcher_here(R);
    if (b != NULL && lookup_prepare(&p->lookup, ctx, m, req)) {
        p->lookup.cb = lookup_done;
        p->lookup.ud = p;
        gw_batcher_get(b, &p->lookup);
        return;
    }
    gw_upstream_call(R->up, m, req, ctx->deadline_ns, ctx->credential, rpc_done, p);
}

/* Sends req for a single call; on success on_ok gets the unpacked reply. */
static void call_rpc(gql_call *c, rpc_method_id m, const ProtobufCMessage *req, ok_fn on_ok)
{
    gw_exec_ctx *ctx = ctx_of(c);
    pend *p = zalloc(c, sizeof *p);
    if (p == NULL) {
        gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    p->call = c;
    p->on_ok = on_ok;
    send_rpc(ctx, m, req, p);
}

static void ok_object(pend *p, void *msg)
{
    gql_resolve_done(p->call, gql_r_object(msg));
}

/* The reply's `id` string (checked at start to be one) as the value. */
static void ok_id(pend *p, void *msg)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(p->reply_desc, "id");
    const char *id = *(const char *const *)(const void *)((const char *)msg + f->offset);
    if (id == NULL || id[0] == '\0') {
        gql_resolve_error(p->call, "INTERNAL_SERVER_ERROR",
                          "the user service's reply carries no id", NULL);
        return;
    }
    gql_resolve_done(p->call, gql_r_string(id, strlen(id)));
}

/* ------------------------------------------------------------ root fields */

/* Every root field: its arguments translated into the request, one RPC,
 * the reply as the field's object. */
static void root_field(gql_call *c, void *ud)
{
    const root *rt = ud;
    ProtobufCMessage *req = NULL;
    gw_xl_error err;
    int rc = gw_xl_args(&req, &err, c, rt->plan);
    if (rc == ROSTER_E_NOMEM) {
        gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    if (rc != ROSTER_E_OK) {
        fail_input(c, err.field[0] ? err.field : NULL, "%s", err.message);
        return;
    }
    /* The schema's UserOrderArgType takes exactly one of sort and
     * customData (the RPC orders by createdAt when neither is given). */
    if (rt->m->rpc == RPC_LIST_USERS) {
        const Roster__V1__ListUsersRequest *lr = (const void *)req;
        if (lr->order != NULL && !lr->order->has_sort &&
            (lr->order->custom_data == NULL || lr->order->custom_data[0] == '\0')) {
            fail_input(c, "order", "order takes one of sort and customData; it has neither");
            return;
        }
    }
    /* tenant(id): counting the tenant's users costs the service a count, so
     * only when the selection asks for them. */
    if (rt->count_users)
        gw_xl_set_bool(req, rt->count_users, gql_call_selects(c, "users") != 0);
    /* Only the fields the selection needs travel: a page of ids stays
     * small however large the records are. */
    if (rt->field_mask) {
        uint64_t mask;
        if (gw_mask_select(&mask, c, rt->mask) != ROSTER_E_OK) {
            gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
            return;
        }
        gw_xl_set_u64(req, rt->field_mask, mask);
    }
    call_rpc(c, rt->m->rpc, req, (rt->m->flags & ROOT_RETURNS_ID) ? ok_id : ok_object);
}

/* ------------------------------------------------------------ special object fields */

/* UserModel.synced: kept for ROQ compatibility, always true (the user is
 * stored in the directory). */
static void user_synced(gql_call *c, void *ud)
{
    (void)ud;
    gql_resolve_done(c, gql_r_bool(1));
}

static void users_count_total(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__Tenant *t = gql_call_source(c);
    gql_resolve_done(c, t->has_user_count ? gql_r_int(t->user_count) : gql_r_null());
}

/* ------------------------------------------------------------ batched lookups */

/* Collects the distinct ids of calls[] (id_of gives each call's id, NULL =
 * no lookup needed) into p->index and the request's ids. Returns the number
 * of calls that need the RPC. */
typedef const char *(*id_of_fn)(gql_call *c);

static const char *user_tenant_id(gql_call *c)
{
    const Roster__V1__User *u = gql_call_source(c);
    return u->tenant_id;
}

static const char *tenant_needing_count(gql_call *c)
{
    const Roster__V1__Tenant *t = gql_call_source(c);
    return t->has_user_count ? NULL : t->id;
}

static pend *batch_prepare(gql_call *const *calls, size_t n, id_of_fn id_of,
                           Roster__V1__BatchGetTenantsRequest *req)
{
    gql_call *c0 = calls[0];
    pend *p = zalloc(c0, sizeof *p);
    if (p == NULL)
        return NULL;
    p->calls = gql_alloc(c0, sizeof *p->calls * n);
    p->index = gql_alloc(c0, sizeof *p->index * n);
    req->ids = gql_alloc(c0, sizeof *req->ids * n);
    if (p->calls == NULL || p->index == NULL || req->ids == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *id = id_of(calls[i]);
        if (id == NULL)
            continue;
        size_t k = 0;
        while (k < req->n_ids && strcmp(req->ids[k], id) != 0)
            k++;
        if (k == req->n_ids)
            req->ids[req->n_ids++] = (char *)id;
        p->calls[p->n_calls] = calls[i];
        p->index[p->n_calls] = (uint32_t)k;
        p->n_calls++;
    }
    return p;
}

static void ok_user_tenants(pend *p, void *msg)
{
    Roster__V1__BatchGetTenantsResponse *r = msg;
    size_t n = p->n_calls;
    gql_call **calls = p->calls;
    uint32_t *index = p->index;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = index[i];
        int found = k < r->n_tenants && (k >= r->n_found || r->found[k]);
        gql_resolve_done(calls[i], found ? gql_r_object(r->tenants[k]) : gql_r_null());
    }
}

static void user_tenant_batch(gql_call *const *calls, size_t n, void *ud)
{
    const gw_resolvers *R = ud;
    /* In the request's memory: a lookup of it may wait in the batcher. */
    Roster__V1__BatchGetTenantsRequest *req = gql_alloc(calls[0], sizeof *req);
    gw_exec_ctx *ctx = ctx_of(calls[0]);
    if (req != NULL)
        roster__v1__batch_get_tenants_request__init(req);
    pend *p = req ? batch_prepare(calls, n, user_tenant_id, req) : NULL;
    if (p == NULL) {
        for (size_t i = 0; i < n; i++)
            gql_resolve_error(calls[i], "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    int want_count = 0;
    uint64_t mask = 0;
    const void *walked = NULL;
    for (size_t i = 0; i < p->n_calls; i++) {
        want_count |= gql_call_selects(p->calls[i], "users");
        /* Calls of one selection need the same fields: walk it once. */
        const void *sel = gql_call_selection(p->calls[i]);
        uint64_t m = 0;
        if (sel != walked && gw_mask_select(&m, p->calls[i], R->tenant_mask) != ROSTER_E_OK)
            m = FIELD_MASK_ALL;
        walked = sel;
        mask |= m;
    }
    p->on_ok = ok_user_tenants;
    size_t need = p->n_calls;
    /* Users without a tenant are answered now; at least one call stays
     * open while an RPC is needed, so the execution cannot end under us. */
    for (size_t i = 0; i < n; i++)
        if (user_tenant_id(calls[i]) == NULL)
            gql_resolve_done(calls[i], gql_r_null());
    if (need == 0)
        return;
    req->has_include_user_count = 1;
    req->include_user_count = want_count != 0;
    req->has_field_mask = 1;
    req->field_mask = mask;
    send_rpc(ctx, RPC_BATCH_GET_TENANTS, &req->base, p);
}

static void ok_tenant_counts(pend *p, void *msg)
{
    Roster__V1__BatchGetTenantsResponse *r = msg;
    size_t n = p->n_calls;
    gql_call **calls = p->calls;
    uint32_t *index = p->index;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = index[i];
        Roster__V1__Tenant *t = gql_call_source(calls[i]);
        int found =
            k < r->n_tenants && (k >= r->n_found || r->found[k]) && r->tenants[k]->has_user_count;
        if (!found) {
            gql_resolve_error(calls[i], "NOT_FOUND", "the tenant no longer exists", NULL);
            continue;
        }
        t->has_user_count = 1;
        t->user_count = r->tenants[k]->user_count;
        gql_resolve_done(calls[i], gql_r_object(t));
    }
}

static void tenant_users_batch(gql_call *const *calls, size_t n, void *ud)
{
    (void)ud;
    /* In the request's memory: a lookup of it may wait in the batcher. */
    Roster__V1__BatchGetTenantsRequest *req = gql_alloc(calls[0], sizeof *req);
    gw_exec_ctx *ctx = ctx_of(calls[0]);
    if (req != NULL)
        roster__v1__batch_get_tenants_request__init(req);
    pend *p = req ? batch_prepare(calls, n, tenant_needing_count, req) : NULL;
    if (p == NULL) {
        for (size_t i = 0; i < n; i++)
            gql_resolve_error(calls[i], "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    p->on_ok = ok_tenant_counts;
    size_t need = p->n_calls;
    for (size_t i = 0; i < n; i++)
        if (tenant_needing_count(calls[i]) == NULL)
            gql_resolve_done(calls[i], gql_r_object(gql_call_source(calls[i])));
    if (need == 0)
        return;
    req->has_include_user_count = 1;
    req->include_user_count = 1;
    /* Only the counts are read. */
    req->has_field_mask = 1;
    req->field_mask = field_mask_of(&model_tenant, 1, 0);
    send_rpc(ctx, RPC_BATCH_GET_TENANTS, &req->base, p);
}

/* ------------------------------------------------------------ table */

static const gql_field *root_schema_field(const gql_schema *schema, const root_method *m)
{
    const gql_type *t = strcmp(m->type, "Mutation") == 0 ? schema->mutation : schema->query;
    return t ? gql_type_field(t, m->field, strlen(m->field)) : NULL;
}

/* The mask table of the records `reply` carries: the record itself or a
 * repeated field of them (a page, a batch); NULL when it carries none. */
static const gw_mask *reply_mask(const gw_resolvers *R, const ProtobufCMessageDescriptor *reply)
{
    const gw_mask *masks[] = {R->user_mask, R->tenant_mask};
    for (size_t k = 0; k < sizeof masks / sizeof masks[0]; k++) {
        const ProtobufCMessageDescriptor *rec = gw_mask_record(masks[k])->pb;
        if (reply == rec)
            return masks[k];
        for (unsigned i = 0; i < reply->n_fields; i++)
            if (reply->fields[i].type == PROTOBUF_C_TYPE_MESSAGE &&
                reply->fields[i].descriptor == rec)
                return masks[k];
    }
    return NULL;
}

void gw_resolvers_set_loop_batchers(gw_resolvers *r, gw_batcher *const *batchers, unsigned n)
{
    r->loop_batchers = batchers;
    r->n_loop_batchers = batchers ? n : 0;
}

int gw_resolvers_new(gw_resolvers **out, const gql_schema *schema, gw_upstream *up,
                     gw_batcher *batcher, uint32_t max_page, uint32_t max_rpcs)
{
    gw_resolvers *R = calloc(1, sizeof *R);
    if (R == NULL)
        return ROSTER_E_NOMEM;
    R->up = up;
    R->batcher = batcher;
    R->max_page = max_page;
    R->max_rpcs = max_rpcs ? max_rpcs : 1;
    int rc = gql_resolvers_new(&R->table, schema);
    if (rc != ROSTER_E_OK || (rc = gw_xl_new(&R->xl)) != ROSTER_E_OK ||
        (rc = gw_mask_new(&R->user_mask, schema, &model_user)) != ROSTER_E_OK ||
        (rc = gw_mask_new(&R->tenant_mask, schema, &model_tenant)) != ROSTER_E_OK)
        goto fail;
    gql_resolvers *t = R->table;
    for (size_t i = 0; i < N_ROOTS; i++) {
        const root_method *m = &root_methods[i];
        root *rt = &R->roots[i];
        const gql_field *f = root_schema_field(schema, m);
        if (f == NULL) {
            rc = ROSTER_E_NOT_FOUND;
            goto fail;
        }
        const rpc_method *rm = rpc_method_get(m->rpc);
        rt->m = m;
        if ((rc = gw_xl_args_plan(&rt->plan, R->xl, f, rm->request, rm->reply, max_page)) !=
            ROSTER_E_OK)
            goto fail;
        if (m->flags & ROOT_COUNT_USERS) {
            rt->count_users =
                protobuf_c_message_descriptor_get_field_by_name(rm->request, "include_user_count");
            if (rt->count_users == NULL) {
                rc = ROSTER_E_NOT_FOUND;
                goto fail;
            }
        }
        rt->field_mask = protobuf_c_message_descriptor_get_field_by_name(rm->request, "field_mask");
        if (rt->field_mask != NULL && (rt->mask = reply_mask(R, rm->reply)) == NULL) {
            rc = ROSTER_E_NOT_FOUND;
            goto fail;
        }
        if ((rc = gql_resolvers_set(t, m->type, m->field, root_field, rt)) != ROSTER_E_OK)
            goto fail;
        if (m->flags & ROOT_RETURNS_ID) {
            const ProtobufCFieldDescriptor *id =
                protobuf_c_message_descriptor_get_field_by_name(rm->reply, "id");
            if (id == NULL || id->type != PROTOBUF_C_TYPE_STRING ||
                id->label == PROTOBUF_C_LABEL_REPEATED) {
                rc = ROSTER_E_INVALID_ARGUMENT;
                goto fail;
            }
        } else if ((rc = gw_xl_bind_object(R->xl, t, f->type->named, rm->reply, specials,
                                           sizeof specials / sizeof specials[0])) != ROSTER_E_OK) {
            goto fail;
        }
    }
    /* The special fields. TenantModel.users' object is the tenant itself,
     * so UsersCountModel.totalCount reads its user_count. */
    if ((rc = gql_resolvers_set(t, "UserModel", "synced", user_synced, NULL)) != ROSTER_E_OK ||
        (rc = gql_resolvers_set(t, "UsersCountModel", "totalCount", users_count_total, NULL)) !=
            ROSTER_E_OK ||
        (rc = gql_resolvers_set_batch(t, "UserModel", "tenant", user_tenant_batch, R)) != 0 ||
        (rc = gql_resolvers_set_batch(t, "TenantModel", "users", tenant_users_batch, R)) != 0)
        goto fail;
    *out = R;
    return ROSTER_E_OK;
fail:
    gw_resolvers_free(R);
    return rc;
}

void gw_resolvers_free(gw_resolvers *r)
{
    if (r == NULL)
        return;
    gql_resolvers_free(r->table);
    gw_xl_free(r->xl);
    gw_mask_free(r->user_mask);
    gw_mask_free(r->tenant_mask);
    free(r);
}

const gql_resolvers *gw_resolvers_table(const gw_resolvers *r)
{
    return r->table;
}
