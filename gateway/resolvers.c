#include "resolvers.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "roster.pb-c.h"
#include "status_map.h"

struct gw_resolvers {
    gql_resolvers *table;
    gw_upstream *up;
    uint32_t max_page;
    uint32_t max_rpcs;
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

/* ------------------------------------------------------------ argument translation */

static gw_exec_ctx *ctx_of(gql_call *c)
{
    return gql_call_context(c);
}

static int is_null(const gql_value *v)
{
    return v == NULL || v->kind == GQL_VALUE_NULL;
}

/* A NUL-terminated copy of a String/ID value; NULL (and *bad set) when it
 * holds a NUL byte or memory ran out. */
static char *vstr(gql_call *c, const gql_value *v, int *bad)
{
    if (v->kind == GQL_VALUE_INT) {
        /* An ID given as an integer literal ({tenantId: 4}). */
        char num[32];
        int n = snprintf(num, sizeof num, "%lld", (long long)v->u.integer);
        char *s = gql_strndup(c, num, (size_t)n);
        if (s == NULL)
            *bad = 1;
        return s;
    }
    if (v->kind != GQL_VALUE_STRING && v->kind != GQL_VALUE_ENUM) {
        *bad = 1;
        return NULL;
    }
    if (memchr(v->u.string.ptr, 0, v->u.string.len) != NULL) {
        *bad = 1;
        return NULL;
    }
    char *s = gql_strndup(c, v->u.string.ptr, v->u.string.len);
    if (s == NULL)
        *bad = 1;
    return s;
}

static void *zalloc(gql_call *c, size_t n)
{
    void *p = gql_alloc(c, n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* Translation state: the first error wins and is reported once. */
typedef struct xl {
    gql_call *c;
    int failed;
    char field[96];
    char msg[256];
} xl;

static void xl_fail(xl *x, const char *field, const char *msg)
{
    if (x->failed)
        return;
    x->failed = 1;
    snprintf(x->field, sizeof x->field, "%s", field);
    snprintf(x->msg, sizeof x->msg, "%s", msg);
}

static char *xl_str(xl *x, const gql_value *v, const char *field)
{
    int bad = 0;
    char *s = vstr(x->c, v, &bad);
    if (bad)
        xl_fail(x, field, "must be text without NUL characters");
    return s;
}

static Roster__V1__StringList *xl_list(xl *x, const gql_value *v, const char *field)
{
    if (is_null(v))
        return NULL;
    Roster__V1__StringList *l = zalloc(x->c, sizeof *l);
    if (l == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    roster__v1__string_list__init(l);
    if (v->kind != GQL_VALUE_LIST) {
        /* A single value where a list is expected was coerced to a list of
         * one by the engine; accept a bare value the same way. */
        l->values = gql_alloc(x->c, sizeof(char *));
        if (l->values) {
            l->values[0] = xl_str(x, v, field);
            l->n_values = 1;
        }
        return l;
    }
    l->n_values = v->u.list.count;
    l->values = gql_alloc(x->c, sizeof(char *) * (v->u.list.count ? v->u.list.count : 1));
    if (l->values == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < v->u.list.count; i++)
        l->values[i] = xl_str(x, v->u.list.items[i], field);
    return l;
}

static Roster__V1__StringFilter *xl_string_filter(xl *x, const gql_value *v, const char *field)
{
    if (is_null(v))
        return NULL;
    Roster__V1__StringFilter *f = zalloc(x->c, sizeof *f);
    if (f == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    roster__v1__string_filter__init(f);
    const gql_value *m;
    if ((m = gql_value_get(v, "equalTo")) != NULL) {
        if (is_null(m))
            f->has_equal_to_null = f->equal_to_null = 1;
        else
            f->equal_to = xl_str(x, m, field);
    }
    if ((m = gql_value_get(v, "notEqualTo")) != NULL) {
        if (is_null(m))
            f->has_not_equal_to_null = f->not_equal_to_null = 1;
        else
            f->not_equal_to = xl_str(x, m, field);
    }
    if (!is_null(m = gql_value_get(v, "like")))
        f->like = xl_str(x, m, field);
    if (!is_null(m = gql_value_get(v, "iLike")))
        f->i_like = xl_str(x, m, field);
    f->value_in = xl_list(x, gql_value_get(v, "valueIn"), field);
    f->value_not_in = xl_list(x, gql_value_get(v, "valueNotIn"), field);
    return f;
}

static Roster__V1__IdFilter *xl_id_filter(xl *x, const gql_value *v, const char *field)
{
    if (is_null(v))
        return NULL;
    Roster__V1__IdFilter *f = zalloc(x->c, sizeof *f);
    if (f == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    roster__v1__id_filter__init(f);
    const gql_value *m;
    if ((m = gql_value_get(v, "equalTo")) != NULL) {
        if (is_null(m))
            f->has_equal_to_null = f->equal_to_null = 1;
        else
            f->equal_to = xl_str(x, m, field);
    }
    if ((m = gql_value_get(v, "notEqualTo")) != NULL) {
        if (is_null(m))
            f->has_not_equal_to_null = f->not_equal_to_null = 1;
        else
            f->not_equal_to = xl_str(x, m, field);
    }
    f->value_in = xl_list(x, gql_value_get(v, "valueIn"), field);
    f->value_not_in = xl_list(x, gql_value_get(v, "valueNotIn"), field);
    return f;
}

static Roster__V1__BoolFilter *xl_bool_filter(xl *x, const gql_value *v, const char *field)
{
    if (is_null(v))
        return NULL;
    Roster__V1__BoolFilter *f = zalloc(x->c, sizeof *f);
    if (f == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    roster__v1__bool_filter__init(f);
    const gql_value *m;
    if ((m = gql_value_get(v, "equalTo")) != NULL) {
        if (is_null(m))
            f->has_equal_to_null = f->equal_to_null = 1;
        else {
            f->has_equal_to = 1;
            f->equal_to = m->u.boolean != 0;
        }
    }
    if ((m = gql_value_get(v, "notEqualTo")) != NULL) {
        if (is_null(m))
            f->has_not_equal_to_null = f->not_equal_to_null = 1;
        else {
            f->has_not_equal_to = 1;
            f->not_equal_to = m->u.boolean != 0;
        }
    }
    return f;
}

static int date_of(xl *x, const gql_value *m, const char *field, int64_t *out)
{
    if (m->kind == GQL_VALUE_INT) {
        *out = m->u.integer;
        return 1;
    }
    if (m->kind == GQL_VALUE_STRING &&
        roster_time_parse_iso(out, m->u.string.ptr, m->u.string.len) == ROSTER_E_OK)
        return 1;
    xl_fail(x, field, "must be an ISO-8601 UTC timestamp such as 2026-11-27T04:24:50.123Z");
    return 0;
}

static Roster__V1__DateFilter *xl_date_filter(xl *x, const gql_value *v, const char *field)
{
    if (is_null(v))
        return NULL;
    Roster__V1__DateFilter *f = zalloc(x->c, sizeof *f);
    if (f == NULL) {
        xl_fail(x, field, "out of memory");
        return NULL;
    }
    roster__v1__date_filter__init(f);
    const gql_value *m;
    if ((m = gql_value_get(v, "equalTo")) != NULL) {
        if (is_null(m))
            f->has_equal_to_null = f->equal_to_null = 1;
        else
            f->has_equal_to = date_of(x, m, field, &f->equal_to);
    }
    if ((m = gql_value_get(v, "notEqualTo")) != NULL) {
        if (is_null(m))
            f->has_not_equal_to_null = f->not_equal_to_null = 1;
        else
            f->has_not_equal_to = date_of(x, m, field, &f->not_equal_to);
    }
    if (!is_null(m = gql_value_get(v, "lessThan")))
        f->has_less_than = date_of(x, m, field, &f->less_than);
    if (!is_null(m = gql_value_get(v, "lessThanEqual")))
        f->has_less_than_equal = date_of(x, m, field, &f->less_than_equal);
    if (!is_null(m = gql_value_get(v, "moreThan")))
        f->has_more_than = date_of(x, m, field, &f->more_than);
    if (!is_null(m = gql_value_get(v, "moreThanEqual")))
        f->has_more_than_equal = date_of(x, m, field, &f->more_than_equal);
    return f;
}

/* limit/offset: returns 0 when absent/null, 1 when set (*out), -1 after
 * reporting an error. */
static int xl_page_int(xl *x, const gql_value *v, const char *field, int64_t lo, int64_t hi,
                       int32_t *out)
{
    if (is_null(v))
        return 0;
    if (v->kind != GQL_VALUE_INT || v->u.integer < lo || v->u.integer > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "must be between %lld and %lld", (long long)lo, (long long)hi);
        xl_fail(x, field, msg);
        return -1;
    }
    *out = (int32_t)v->u.integer;
    return 1;
}

static int name_is(const gql_value *v, const char *a, const char *b)
{
    if (v == NULL || (v->kind != GQL_VALUE_ENUM && v->kind != GQL_VALUE_STRING))
        return 0;
    size_t n = v->u.string.len;
    return (strlen(a) == n && memcmp(v->u.string.ptr, a, n) == 0) ||
           (b && strlen(b) == n && memcmp(v->u.string.ptr, b, n) == 0);
}

static Roster__V1__SortOrder xl_order(const gql_value *v)
{
    if (name_is(v, "ASC", NULL))
        return ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    if (name_is(v, "DESC", NULL))
        return ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    return ROSTER__V1__SORT_ORDER__SORT_ORDER_UNSPECIFIED;
}

static const struct {
    const char *camel;
    const char *upper;
    Roster__V1__UserSortField field;
} user_sorts[] = {
    {"active", "ACTIVE", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE},
    {"createdAt", "CREATED_AT", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT},
    {"email", "EMAIL", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL},
    {"firstName", "FIRST_NAME", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME},
    {"lastName", "LAST_NAME", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME},
    {"locale", "LOCALE", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LOCALE},
    {"phone", "PHONE", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE},
    {"timezone", "TIMEZONE", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_TIMEZONE},
    {"updatedAt", "UPDATED_AT", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UPDATED_AT},
};

static const struct {
    const char *name;
    Roster__V1__UserSearchKey key;
} search_keys[] = {
    {"email", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_EMAIL},
    {"firstName", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_FIRST_NAME},
    {"lastName", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LAST_NAME},
    {"locale", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LOCALE},
    {"phone", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_PHONE},
    {"timezone", ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_TIMEZONE},
};

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
    if (r->status != 0) {
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
        bad.status = 13;
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

/* Sends req for p's call(s) unless the request has used up its budget of
 * upstream calls (then every call of p fails, naming the limit). */
static void send_rpc(gw_exec_ctx *ctx, rpc_method_id m, const ProtobufCMessage *req, pend *p)
{
    const gw_resolvers *R = ctx->resolvers;
    if (atomic_fetch_add(&ctx->rpcs, 1) >= R->max_rpcs) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "this request needs more than %u calls to the user service; split it into "
                 "several requests",
                 R->max_rpcs);
        if (p->call) {
            gql_resolve_error(p->call, "BAD_USER_INPUT", msg, NULL);
            return;
        }
        size_t n = p->n_calls;
        gql_call **calls = p->calls;
        for (size_t i = 0; i < n; i++)
            gql_resolve_error(calls[i], "BAD_USER_INPUT", msg, NULL);
        return;
    }
    gw_upstream_call(R->up, m, req, ctx->deadline_ns, ctx->credential, rpc_done, p);
}

/* Sends req for a single call; on success on_ok gets the unpacked reply. */
static void call_rpc(gql_call *c, rpc_method_id m, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *reply_desc, ok_fn on_ok)
{
    gw_exec_ctx *ctx = ctx_of(c);
    pend *p = zalloc(c, sizeof *p);
    if (p == NULL) {
        gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    p->call = c;
    p->reply_desc = reply_desc;
    p->on_ok = on_ok;
    send_rpc(ctx, m, req, p);
}

static void ok_object(pend *p, void *msg)
{
    gql_resolve_done(p->call, gql_r_object(msg));
}

/* ------------------------------------------------------------ root queries */

static const char *arg_id(gql_call *c, const char *name)
{
    const gql_value *v = gql_call_arg(c, name);
    int bad = 0;
    if (is_null(v)) {
        fail_input(c, name, "%s is required", name);
        return NULL;
    }
    char *s = vstr(c, v, &bad);
    if (bad) {
        fail_input(c, name, "%s must be text without NUL characters", name);
        return NULL;
    }
    return s;
}

static void q_user(gql_call *c, void *ud)
{
    (void)ud;
    Roster__V1__GetUserRequest req = ROSTER__V1__GET_USER_REQUEST__INIT;
    if ((req.id = (char *)arg_id(c, "id")) == NULL)
        return;
    call_rpc(c, RPC_GET_USER, &req.base, &roster__v1__user__descriptor, ok_object);
}

static void q_tenant(gql_call *c, void *ud)
{
    (void)ud;
    Roster__V1__GetTenantRequest req = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    if ((req.id = (char *)arg_id(c, "id")) == NULL)
        return;
    req.has_include_user_count = 1;
    req.include_user_count = gql_call_selects(c, "users") != 0;
    call_rpc(c, RPC_GET_TENANT, &req.base, &roster__v1__tenant__descriptor, ok_object);
}

static void q_users(gql_call *c, void *ud)
{
    const gw_resolvers *R = ud;
    xl x = {.c = c};
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    const gql_value *f = gql_call_arg(c, "filter");
    if (!is_null(f)) {
        Roster__V1__UserFilter *uf = zalloc(c, sizeof *uf);
        if (uf == NULL) {
            gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
            return;
        }
        roster__v1__user_filter__init(uf);
        uf->id = xl_id_filter(&x, gql_value_get(f, "id"), "filter.id");
        uf->reference = xl_string_filter(&x, gql_value_get(f, "reference"), "filter.reference");
        uf->email = xl_string_filter(&x, gql_value_get(f, "email"), "filter.email");
        uf->first_name = xl_string_filter(&x, gql_value_get(f, "firstName"), "filter.firstName");
        uf->last_name = xl_string_filter(&x, gql_value_get(f, "lastName"), "filter.lastName");
        uf->phone = xl_string_filter(&x, gql_value_get(f, "phone"), "filter.phone");
        uf->locale = xl_string_filter(&x, gql_value_get(f, "locale"), "filter.locale");
        uf->timezone = xl_string_filter(&x, gql_value_get(f, "timezone"), "filter.timezone");
        uf->active = xl_bool_filter(&x, gql_value_get(f, "active"), "filter.active");
        uf->is_opted_in = xl_bool_filter(&x, gql_value_get(f, "isOptedIn"), "filter.isOptedIn");
        uf->with_deactivated =
            xl_bool_filter(&x, gql_value_get(f, "withDeactivated"), "filter.withDeactivated");
        uf->tenant_id = xl_id_filter(&x, gql_value_get(f, "tenantId"), "filter.tenantId");
        uf->created_at = xl_date_filter(&x, gql_value_get(f, "createdAt"), "filter.createdAt");
        uf->updated_at = xl_date_filter(&x, gql_value_get(f, "updatedAt"), "filter.updatedAt");
        req.filter = uf;
    }
    int r = xl_page_int(&x, gql_call_arg(c, "limit"), "limit", 0, R->max_page, &req.limit);
    req.has_limit = r == 1;
    r = xl_page_int(&x, gql_call_arg(c, "offset"), "offset", 0, INT32_MAX, &req.offset);
    req.has_offset = r == 1;
    const gql_value *o = gql_call_arg(c, "order");
    Roster__V1__UserOrder order = ROSTER__V1__USER_ORDER__INIT;
    if (!is_null(o)) {
        order.has_order = 1;
        order.order = xl_order(gql_value_get(o, "order"));
        const gql_value *s = gql_value_get(o, "sort");
        for (size_t i = 0; i < sizeof user_sorts / sizeof user_sorts[0]; i++)
            if (name_is(s, user_sorts[i].camel, user_sorts[i].upper)) {
                order.has_sort = 1;
                order.sort = user_sorts[i].field;
            }
        if (!order.has_sort)
            xl_fail(&x, "order.sort", "is not a known sort field");
        req.order = &order;
    }
    const gql_value *s = gql_call_arg(c, "search");
    Roster__V1__UserSearch search = ROSTER__V1__USER_SEARCH__INIT;
    if (!is_null(s)) {
        const gql_value *k = gql_value_get(s, "key");
        for (size_t i = 0; i < sizeof search_keys / sizeof search_keys[0]; i++)
            if (name_is(k, search_keys[i].name, NULL)) {
                search.has_key = 1;
                search.key = search_keys[i].key;
            }
        if (!search.has_key)
            xl_fail(&x, "search.key", "is not a known search key");
        const gql_value *v = gql_value_get(s, "value");
        if (!is_null(v))
            search.value = xl_str(&x, v, "search.value");
        req.search = &search;
    }
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_LIST_USERS, &req.base, &roster__v1__list_users_response__descriptor, ok_object);
}

static void q_tenants(gql_call *c, void *ud)
{
    const gw_resolvers *R = ud;
    xl x = {.c = c};
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__TenantFilter tf = ROSTER__V1__TENANT_FILTER__INIT;
    const gql_value *f = gql_call_arg(c, "filter");
    if (!is_null(f)) {
        tf.id = xl_id_filter(&x, gql_value_get(f, "id"), "filter.id");
        tf.name = xl_string_filter(&x, gql_value_get(f, "name"), "filter.name");
        tf.reference = xl_string_filter(&x, gql_value_get(f, "reference"), "filter.reference");
        req.filter = &tf;
    }
    int r = xl_page_int(&x, gql_call_arg(c, "limit"), "limit", 0, R->max_page, &req.limit);
    req.has_limit = r == 1;
    r = xl_page_int(&x, gql_call_arg(c, "offset"), "offset", 0, INT32_MAX, &req.offset);
    req.has_offset = r == 1;
    const gql_value *o = gql_call_arg(c, "order");
    Roster__V1__TenantOrder order = ROSTER__V1__TENANT_ORDER__INIT;
    if (!is_null(o)) {
        order.has_order = 1;
        order.order = xl_order(gql_value_get(o, "order"));
        const gql_value *s = gql_value_get(o, "sort");
        order.has_sort = 1;
        if (name_is(s, "createdAt", "CREATED_AT"))
            order.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_CREATED_AT;
        else if (name_is(s, "name", "NAME"))
            order.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME;
        else
            xl_fail(&x, "order.sort", "is not a known sort field");
        req.order = &order;
    }
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_LIST_TENANTS, &req.base, &roster__v1__list_tenants_response__descriptor,
             ok_object);
}

/* ------------------------------------------------------------ mutations */

/* JSON text of a JsonObject input value; NULL after xl_fail. */
static char *xl_json(xl *x, const gql_value *v, const char *field)
{
    if (v->kind != GQL_VALUE_OBJECT) {
        xl_fail(x, field, "must be a JSON object");
        return NULL;
    }
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_value_write_json(&w, v);
    char *s = NULL;
    if (gql_buf_status(&b) == ROSTER_E_OK)
        s = gql_strndup(x->c, b.data ? b.data : "{}", b.len);
    gql_buf_free(&b);
    if (s == NULL)
        xl_fail(x, field, "out of memory");
    return s;
}

#define OPT_STR(dst, obj, name, field)                                                             \
    do {                                                                                           \
        const gql_value *v_ = gql_value_get(obj, name);                                            \
        if (!is_null(v_))                                                                          \
            dst = xl_str(&x, v_, field);                                                           \
    } while (0)

#define OPT_BOOL(has, dst, obj, name)                                                              \
    do {                                                                                           \
        const gql_value *v_ = gql_value_get(obj, name);                                            \
        if (!is_null(v_)) {                                                                        \
            has = 1;                                                                               \
            dst = v_->u.boolean != 0;                                                              \
        }                                                                                          \
    } while (0)

static void m_create_user(gql_call *c, void *ud)
{
    (void)ud;
    xl x = {.c = c};
    const gql_value *u = gql_call_arg(c, "user");
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    OPT_STR(req.reference, u, "reference", "reference");
    OPT_STR(req.email, u, "email", "email");
    OPT_STR(req.first_name, u, "firstName", "firstName");
    OPT_STR(req.last_name, u, "lastName", "lastName");
    OPT_STR(req.phone, u, "phone", "phone");
    OPT_STR(req.locale, u, "locale", "locale");
    OPT_STR(req.timezone, u, "timezone", "timezone");
    OPT_STR(req.tenant_id, u, "tenantId", "tenantId");
    OPT_STR(req.avatar_url, u, "avatarUrl", "avatarUrl");
    OPT_BOOL(req.has_is_opted_in, req.is_opted_in, u, "isOptedIn");
    OPT_BOOL(req.has_active, req.active, u, "active");
    OPT_BOOL(req.has_two_factor_enabled, req.two_factor_enabled, u, "twoFactorEnabled");
    const gql_value *cd = gql_value_get(u, "customData");
    if (!is_null(cd))
        req.custom_data = xl_json(&x, cd, "customData");
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_CREATE_USER, &req.base, &roster__v1__user__descriptor, ok_object);
}

static void m_update_user(gql_call *c, void *ud)
{
    (void)ud;
    xl x = {.c = c};
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    if ((req.id = (char *)arg_id(c, "id")) == NULL)
        return;
    const gql_value *u = gql_call_arg(c, "user");
    static const struct {
        const char *name;
        Roster__V1__UserField field;
        int kind; /* 0 string, 1 bool, 2 json */
    } fields[] = {
        {"email", ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL, 0},
        {"firstName", ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME, 0},
        {"lastName", ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME, 0},
        {"phone", ROSTER__V1__USER_FIELD__USER_FIELD_PHONE, 0},
        {"locale", ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE, 0},
        {"timezone", ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE, 0},
        {"avatarUrl", ROSTER__V1__USER_FIELD__USER_FIELD_AVATAR_URL, 0},
        {"isOptedIn", ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN, 1},
        {"active", ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE, 1},
        {"twoFactorEnabled", ROSTER__V1__USER_FIELD__USER_FIELD_TWO_FACTOR_ENABLED, 1},
        {"tenantId", ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID, 0},
        {"customData", ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA, 2},
    };
    enum { NF = sizeof fields / sizeof fields[0] };
    Roster__V1__UserField clear[NF];
    size_t n_clear = 0;
    char *strs[NF] = {0};
    for (size_t i = 0; i < NF; i++) {
        const gql_value *v = gql_value_get(u, fields[i].name);
        if (v == NULL)
            continue;
        if (v->kind == GQL_VALUE_NULL) {
            clear[n_clear++] = fields[i].field;
            continue;
        }
        if (fields[i].kind == 0)
            strs[i] = xl_str(&x, v, fields[i].name);
        else if (fields[i].kind == 2)
            req.custom_data = xl_json(&x, v, fields[i].name);
        else if (fields[i].field == ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN)
            req.has_is_opted_in = 1, req.is_opted_in = v->u.boolean != 0;
        else if (fields[i].field == ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE)
            req.has_active = 1, req.active = v->u.boolean != 0;
        else
            req.has_two_factor_enabled = 1, req.two_factor_enabled = v->u.boolean != 0;
    }
    req.email = strs[0];
    req.first_name = strs[1];
    req.last_name = strs[2];
    req.phone = strs[3];
    req.locale = strs[4];
    req.timezone = strs[5];
    req.avatar_url = strs[6];
    req.tenant_id = strs[10];
    req.n_clear = n_clear;
    req.clear = n_clear ? clear : NULL;
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_UPDATE_USER, &req.base, &roster__v1__user__descriptor, ok_object);
}

static void m_create_tenant(gql_call *c, void *ud)
{
    (void)ud;
    xl x = {.c = c};
    const gql_value *t = gql_call_arg(c, "tenant");
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    OPT_STR(req.name, t, "name", "name");
    OPT_STR(req.reference, t, "reference", "reference");
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_CREATE_TENANT, &req.base, &roster__v1__tenant__descriptor, ok_object);
}

static void m_update_tenant(gql_call *c, void *ud)
{
    (void)ud;
    xl x = {.c = c};
    Roster__V1__UpdateTenantRequest req = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    if ((req.id = (char *)arg_id(c, "id")) == NULL)
        return;
    const gql_value *t = gql_call_arg(c, "tenant");
    const gql_value *v = gql_value_get(t, "name");
    if (v && v->kind == GQL_VALUE_NULL) {
        fail_input(c, "name", "Invalid value for name: a tenant's name cannot be null");
        return;
    }
    OPT_STR(req.name, t, "name", "name");
    v = gql_value_get(t, "reference");
    if (v && v->kind == GQL_VALUE_NULL) {
        req.has_clear_reference = 1;
        req.clear_reference = 1;
    } else {
        OPT_STR(req.reference, t, "reference", "reference");
    }
    if (x.failed) {
        fail_input(c, x.field, "Invalid value for %s: %s", x.field, x.msg);
        return;
    }
    call_rpc(c, RPC_UPDATE_TENANT, &req.base, &roster__v1__tenant__descriptor, ok_object);
}

/* ------------------------------------------------------------ object fields */

enum {
    UF_ID,
    UF_REFERENCE,
    UF_EMAIL,
    UF_FIRST_NAME,
    UF_LAST_NAME,
    UF_PHONE,
    UF_LOCALE,
    UF_TIMEZONE,
    UF_IS_OPTED_IN,
    UF_ACTIVE,
    UF_SYNCED,
    UF_AVATAR_URL,
    UF_CUSTOM_DATA,
    UF_TWO_FACTOR,
    UF_TENANT_ID,
    UF_CREATED_AT,
    UF_UPDATED_AT,
};

static const char *const user_field_names[] = {
    "id",         "reference",        "email",     "firstName", "lastName",  "phone",
    "locale",     "timezone",         "isOptedIn", "active",    "synced",    "avatarUrl",
    "customData", "twoFactorEnabled", "tenantId",  "createdAt", "updatedAt",
};

static gql_result str_or_null(const char *s)
{
    return s ? gql_r_string(s, strlen(s)) : gql_r_null();
}

static void user_field(gql_call *c, void *ud)
{
    const Roster__V1__User *u = gql_call_source(c);
    gql_result r = gql_r_null();
    switch ((int)(intptr_t)ud) {
    case UF_ID:
        r = str_or_null(u->id);
        break;
    case UF_REFERENCE:
        r = str_or_null(u->reference);
        break;
    case UF_EMAIL:
        r = str_or_null(u->email);
        break;
    case UF_FIRST_NAME:
        r = str_or_null(u->first_name);
        break;
    case UF_LAST_NAME:
        r = str_or_null(u->last_name);
        break;
    case UF_PHONE:
        r = str_or_null(u->phone);
        break;
    case UF_LOCALE:
        r = str_or_null(u->locale);
        break;
    case UF_TIMEZONE:
        r = str_or_null(u->timezone);
        break;
    case UF_IS_OPTED_IN:
        r = u->has_is_opted_in ? gql_r_bool(u->is_opted_in) : gql_r_null();
        break;
    case UF_ACTIVE:
        r = u->has_active ? gql_r_bool(u->active) : gql_r_null();
        break;
    case UF_SYNCED:
        r = gql_r_bool(1);
        break;
    case UF_AVATAR_URL:
        r = str_or_null(u->avatar_url);
        break;
    case UF_CUSTOM_DATA:
        r = u->custom_data ? gql_r_raw_json(u->custom_data, strlen(u->custom_data)) : gql_r_null();
        break;
    case UF_TWO_FACTOR:
        r = u->has_two_factor_enabled ? gql_r_bool(u->two_factor_enabled) : gql_r_null();
        break;
    case UF_TENANT_ID:
        r = str_or_null(u->tenant_id);
        break;
    case UF_CREATED_AT:
        r = u->has_created_at ? gql_r_int(u->created_at) : gql_r_null();
        break;
    case UF_UPDATED_AT:
        r = u->has_updated_at ? gql_r_int(u->updated_at) : gql_r_null();
        break;
    }
    gql_resolve_done(c, r);
}

enum { TF_ID, TF_NAME, TF_REFERENCE, TF_IS_DEFAULT, TF_CREATED_AT, TF_UPDATED_AT };
static const char *const tenant_field_names[] = {"id",        "name",      "reference",
                                                 "isDefault", "createdAt", "updatedAt"};

static void tenant_field(gql_call *c, void *ud)
{
    const Roster__V1__Tenant *t = gql_call_source(c);
    gql_result r = gql_r_null();
    switch ((int)(intptr_t)ud) {
    case TF_ID:
        r = str_or_null(t->id);
        break;
    case TF_NAME:
        r = str_or_null(t->name);
        break;
    case TF_REFERENCE:
        r = str_or_null(t->reference);
        break;
    case TF_IS_DEFAULT:
        r = gql_r_bool(t->has_is_default && t->is_default);
        break;
    case TF_CREATED_AT:
        r = t->has_created_at ? gql_r_int(t->created_at) : gql_r_null();
        break;
    case TF_UPDATED_AT:
        r = t->has_updated_at ? gql_r_int(t->updated_at) : gql_r_null();
        break;
    }
    gql_resolve_done(c, r);
}

static void users_count_total(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__Tenant *t = gql_call_source(c);
    gql_resolve_done(c, t->has_user_count ? gql_r_int(t->user_count) : gql_r_null());
}

static void user_page_total(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__ListUsersResponse *p = gql_call_source(c);
    gql_resolve_done(c, gql_r_int(p->has_total_count ? p->total_count : 0));
}

static void user_page_data(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__ListUsersResponse *p = gql_call_source(c);
    gql_result *items = gql_alloc(c, sizeof *items * (p->n_users ? p->n_users : 1));
    if (items == NULL) {
        gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < p->n_users; i++)
        items[i] = gql_r_object(p->users[i]);
    gql_resolve_done(c, gql_r_list(items, p->n_users));
}

static void tenant_page_total(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__ListTenantsResponse *p = gql_call_source(c);
    gql_resolve_done(c, gql_r_int(p->has_total_count ? p->total_count : 0));
}

static void tenant_page_data(gql_call *c, void *ud)
{
    (void)ud;
    const Roster__V1__ListTenantsResponse *p = gql_call_source(c);
    gql_result *items = gql_alloc(c, sizeof *items * (p->n_tenants ? p->n_tenants : 1));
    if (items == NULL) {
        gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    for (size_t i = 0; i < p->n_tenants; i++)
        items[i] = gql_r_object(p->tenants[i]);
    gql_resolve_done(c, gql_r_list(items, p->n_tenants));
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
    (void)ud;
    Roster__V1__BatchGetTenantsRequest req = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    gw_exec_ctx *ctx = ctx_of(calls[0]);
    pend *p = batch_prepare(calls, n, user_tenant_id, &req);
    if (p == NULL) {
        for (size_t i = 0; i < n; i++)
            gql_resolve_error(calls[i], "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    int want_count = 0;
    for (size_t i = 0; i < p->n_calls; i++)
        want_count |= gql_call_selects(p->calls[i], "users");
    p->reply_desc = &roster__v1__batch_get_tenants_response__descriptor;
    p->on_ok = ok_user_tenants;
    size_t need = p->n_calls;
    /* Users without a tenant are answered now; at least one call stays
     * open while an RPC is needed, so the execution cannot end under us. */
    for (size_t i = 0; i < n; i++)
        if (user_tenant_id(calls[i]) == NULL)
            gql_resolve_done(calls[i], gql_r_null());
    if (need == 0)
        return;
    req.has_include_user_count = 1;
    req.include_user_count = want_count != 0;
    send_rpc(ctx, RPC_BATCH_GET_TENANTS, &req.base, p);
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
    Roster__V1__BatchGetTenantsRequest req = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    gw_exec_ctx *ctx = ctx_of(calls[0]);
    pend *p = batch_prepare(calls, n, tenant_needing_count, &req);
    if (p == NULL) {
        for (size_t i = 0; i < n; i++)
            gql_resolve_error(calls[i], "INTERNAL_SERVER_ERROR", "out of memory", NULL);
        return;
    }
    p->reply_desc = &roster__v1__batch_get_tenants_response__descriptor;
    p->on_ok = ok_tenant_counts;
    size_t need = p->n_calls;
    for (size_t i = 0; i < n; i++)
        if (tenant_needing_count(calls[i]) == NULL)
            gql_resolve_done(calls[i], gql_r_object(gql_call_source(calls[i])));
    if (need == 0)
        return;
    req.has_include_user_count = 1;
    req.include_user_count = 1;
    send_rpc(ctx, RPC_BATCH_GET_TENANTS, &req.base, p);
}

/* ------------------------------------------------------------ table */

int gw_resolvers_new(gw_resolvers **out, const gql_schema *schema, gw_upstream *up,
                     uint32_t max_page, uint32_t max_rpcs)
{
    gw_resolvers *R = calloc(1, sizeof *R);
    if (R == NULL)
        return ROSTER_E_NOMEM;
    R->up = up;
    R->max_page = max_page;
    R->max_rpcs = max_rpcs ? max_rpcs : 1;
    int rc = gql_resolvers_new(&R->table, schema);
    if (rc != ROSTER_E_OK)
        goto fail;
    gql_resolvers *t = R->table;
#define SET(type, field, fn, ud)                                                                   \
    if ((rc = gql_resolvers_set(t, type, field, fn, ud)) != ROSTER_E_OK)                           \
        goto fail;
    SET("Query", "user", q_user, R);
    SET("Query", "users", q_users, R);
    SET("Query", "tenant", q_tenant, R);
    SET("Query", "tenants", q_tenants, R);
    SET("Mutation", "createUser", m_create_user, R);
    SET("Mutation", "updateUser", m_update_user, R);
    SET("Mutation", "createTenant", m_create_tenant, R);
    SET("Mutation", "updateTenant", m_update_tenant, R);
    for (size_t i = 0; i < sizeof user_field_names / sizeof user_field_names[0]; i++)
        SET("UserModel", user_field_names[i], user_field, (void *)(intptr_t)i);
    for (size_t i = 0; i < sizeof tenant_field_names / sizeof tenant_field_names[0]; i++)
        SET("TenantModel", tenant_field_names[i], tenant_field, (void *)(intptr_t)i);
    SET("UsersCountModel", "totalCount", users_count_total, NULL);
    SET("UserPageModel", "totalCount", user_page_total, NULL);
    SET("UserPageModel", "data", user_page_data, NULL);
    SET("TenantPageModel", "totalCount", tenant_page_total, NULL);
    SET("TenantPageModel", "data", tenant_page_data, NULL);
#undef SET
    if ((rc = gql_resolvers_set_batch(t, "UserModel", "tenant", user_tenant_batch, R)) != 0 ||
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
    free(r);
}

const gql_resolvers *gw_resolvers_table(const gw_resolvers *r)
{
    return r->table;
}
