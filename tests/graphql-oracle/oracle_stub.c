#include "oracle_stub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define CREATED "2026-01-01T00:00:00.000Z"
#define UPDATED "2026-01-02T00:00:00.000Z"
#define TOUCHED "2026-01-03T00:00:00.000Z"

struct oracle_pending {
    gql_call *call;
    gql_result value;
    char *message; /* malloc'd; non-NULL for an error */
};

/* ---- small helpers over byte strings */

static unsigned long byte_sum(const char *s, size_t len)
{
    unsigned long k = 0;
    for (size_t i = 0; i < len; i++)
        k += (unsigned char)s[i];
    return k;
}

static int contains(const char *s, size_t len, const char *needle)
{
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* A jansson string of a followed by b (both byte slices). */
static json_t *concat(const char *a, size_t alen, const char *b, size_t blen)
{
    char small[256];
    char *p = alen + blen <= sizeof small ? small : malloc(alen + blen);
    if (!p)
        return NULL;
    memcpy(p, a, alen);
    memcpy(p + alen, b, blen);
    json_t *j = json_stringn(p, alen + blen);
    if (p != small)
        free(p);
    return j;
}

static json_t *cat_prefix(const char *prefix, const char *s, size_t len)
{
    return concat(prefix, strlen(prefix), s, len);
}

static json_t *cat_suffix(const char *s, size_t len, const char *suffix)
{
    return concat(s, len, suffix, strlen(suffix));
}

static oracle_stub *stub_of(gql_call *c)
{
    return gql_call_context(c);
}

/* Takes ownership of rec and keeps it for the execution; NULL on failure. */
static json_t *keep(oracle_stub *st, json_t *rec)
{
    if (!rec || json_array_append_new(st->keep, rec) != 0) {
        st->nomem = 1;
        return NULL;
    }
    return rec;
}

/* ---- completion, immediate or deferred */

static int push(oracle_stub *st, gql_call *c, gql_result v, char *message)
{
    if (st->n_pending == st->cap_pending) {
        size_t cap = st->cap_pending ? st->cap_pending * 2 : 16;
        oracle_pending *p = realloc(st->pending, cap * sizeof *p);
        if (!p)
            return ROSTER_E_NOMEM;
        st->pending = p;
        st->cap_pending = cap;
    }
    st->pending[st->n_pending].call = c;
    st->pending[st->n_pending].value = v;
    st->pending[st->n_pending].message = message;
    st->n_pending++;
    return ROSTER_E_OK;
}

static void finish(gql_call *c, gql_result v)
{
    oracle_stub *st = stub_of(c);
    if (st->defer && push(st, c, v, NULL) == ROSTER_E_OK)
        return;
    gql_resolve_done(c, v);
}

__attribute__((format(printf, 2, 3))) static void fail(gql_call *c, const char *fmt, ...)
{
    oracle_stub *st = stub_of(c);
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (st->defer) {
        char *m = strdup(buf);
        if (m && push(st, c, gql_r_null(), m) == ROSTER_E_OK)
            return;
        free(m);
    }
    gql_resolve_error(c, ORACLE_STUB_CODE, buf, NULL);
}

size_t oracle_stub_drain(oracle_stub *st)
{
    size_t n = 0;
    while (st->n_pending > 0) {
        oracle_pending p = st->pending[--st->n_pending];
        if (p.message) {
            gql_resolve_error(p.call, ORACLE_STUB_CODE, p.message, NULL);
            free(p.message);
        } else {
            gql_resolve_done(p.call, p.value);
        }
        n++;
    }
    return n;
}

/* ---- records */

static json_t *derive_user(oracle_stub *st, const char *id, size_t len)
{
    unsigned long k = byte_sum(id, len);
    json_t *tenant_id;
    if (k % 6 == 0) {
        tenant_id = json_null();
    } else if (k % 11 == 0) {
        tenant_id = json_string("t-bad");
    } else {
        char t[8];
        snprintf(t, sizeof t, "t%lu", k % 4);
        tenant_id = json_string(t);
    }
    json_t *phone = json_null();
    if (k % 4 == 0) {
        char p[32];
        snprintf(p, sizeof p, "+1555%lu", k);
        phone = json_string(p);
    }
    json_t *rec = json_object();
    if (rec) {
        json_object_set_new(rec, "id", json_stringn(id, len));
        json_object_set_new(rec, "reference", cat_prefix("ref-", id, len));
        json_object_set_new(rec, "email", cat_suffix(id, len, "@example.com"));
        json_object_set_new(rec, "firstName", cat_prefix("First-", id, len));
        json_object_set_new(rec, "lastName",
                            k % 5 == 0 ? json_null() : cat_prefix("Last-", id, len));
        json_object_set_new(rec, "phone", phone);
        phone = NULL;
        json_object_set_new(rec, "locale", json_string("en-US"));
        json_object_set_new(rec, "timezone", json_string("UTC"));
        json_object_set_new(rec, "isOptedIn", json_boolean(k % 2 == 0));
        json_object_set_new(rec, "active", json_boolean(k % 3 != 0));
        json_object_set_new(rec, "synced", json_true());
        json_t *url = concat("https://img.example.com/", 24, id, len);
        json_object_set_new(
            rec, "avatarUrl",
            url ? cat_suffix(json_string_value(url), json_string_length(url), ".png") : NULL);
        json_decref(url);
        json_object_set_new(rec, "customData",
                            json_pack("{s:I,s:[s,s]}", "n", (json_int_t)k, "tags", "a", "b"));
        json_object_set_new(rec, "twoFactorEnabled", json_false());
        json_object_set_new(rec, "tenantId", tenant_id);
        tenant_id = NULL;
        json_object_set_new(rec, "createdAt", json_string(CREATED));
        json_object_set_new(rec, "updatedAt", json_string(UPDATED));
    }
    json_decref(tenant_id);
    json_decref(phone);
    return keep(st, rec);
}

static json_t *derive_tenant(oracle_stub *st, const char *id, size_t len)
{
    unsigned long k = byte_sum(id, len);
    json_t *rec = json_object();
    if (rec) {
        json_object_set_new(rec, "id", json_stringn(id, len));
        json_object_set_new(rec, "name", cat_prefix("Tenant ", id, len));
        json_object_set_new(rec, "reference",
                            k % 2 == 0 ? cat_prefix("ref-", id, len) : json_null());
        json_object_set_new(rec, "isDefault", json_boolean(len == 2 && memcmp(id, "t1", 2) == 0));
        json_object_set_new(rec, "createdAt", json_string(CREATED));
        json_object_set_new(rec, "updatedAt", json_string(UPDATED));
    }
    return keep(st, rec);
}

/* ---- reading coerced values */

static const gql_value *member(const gql_value *obj, const char *name)
{
    return obj ? gql_value_get(obj, name) : NULL;
}

static int is_kind(const gql_value *v, int kind)
{
    return v && v->kind == kind;
}

/* v as JSON (enum values as strings); NULL when out of memory. */
static json_t *value_to_json(const gql_value *v)
{
    switch (v->kind) {
    case GQL_VALUE_BOOLEAN:
        return json_boolean(v->u.boolean);
    case GQL_VALUE_INT:
        return json_integer(v->u.integer);
    case GQL_VALUE_FLOAT:
        return json_real(v->u.number);
    case GQL_VALUE_STRING:
    case GQL_VALUE_ENUM:
        return json_stringn(v->u.string.ptr, v->u.string.len);
    case GQL_VALUE_LIST: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->u.list.count; i++) {
            if (json_array_append_new(a, value_to_json(v->u.list.items[i])) != 0) {
                json_decref(a);
                a = NULL;
            }
        }
        return a;
    }
    case GQL_VALUE_OBJECT: {
        json_t *o = json_object();
        for (uint32_t i = 0; o && i < v->u.object.count; i++) {
            const gql_object_field *f = &v->u.object.fields[i];
            if (json_object_setn_new(o, f->name.ptr, f->name.len, value_to_json(f->value)) != 0) {
                json_decref(o);
                o = NULL;
            }
        }
        return o;
    }
    default:
        return json_null();
    }
}

/* limit/offset per STUB.md; 0 on success, else the call has failed. */
static int page_bounds(gql_call *c, long long *limit, long long *offset)
{
    const gql_value *l = gql_call_arg(c, "limit");
    const gql_value *o = gql_call_arg(c, "offset");
    *limit = is_kind(l, GQL_VALUE_INT) ? l->u.integer : 20;
    *offset = is_kind(o, GQL_VALUE_INT) ? o->u.integer : 0;
    if (*limit < 0 || *limit > 1000) {
        fail(c, "limit must be between 0 and 1000");
        return -1;
    }
    if (*offset < 0) {
        fail(c, "offset must not be negative");
        return -1;
    }
    return 0;
}

static int order_desc(gql_call *c)
{
    const gql_value *o = member(gql_call_arg(c, "order"), "order");
    return (is_kind(o, GQL_VALUE_ENUM) || is_kind(o, GQL_VALUE_STRING)) && o->u.string.len == 4 &&
           memcmp(o->u.string.ptr, "DESC", 4) == 0;
}

static void reverse(json_t **items, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        json_t *t = items[i];
        items[i] = items[n - 1 - i];
        items[n - 1 - i] = t;
    }
}

/* A page {totalCount, data} of items[offset..offset+limit). */
static void finish_page(gql_call *c, json_t **items, size_t n, long long limit, long long offset)
{
    oracle_stub *st = stub_of(c);
    json_t *data = json_array();
    for (long long i = offset; data && i < (long long)n && i < offset + limit; i++)
        json_array_append(data, items[i]);
    json_t *page = keep(st, json_pack("{s:I,s:o}", "totalCount", (json_int_t)n, "data", data));
    if (!page) {
        fail(c, "out of memory");
        return;
    }
    finish(c, gql_r_object(page));
}

/* ---- Query */

static void q_user(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *id = gql_call_arg(c, "id");
    const char *s = id->u.string.ptr;
    size_t n = id->u.string.len;
    if (contains(s, n, "erruser")) {
        fail(c, "user %.*s not found", (int)n, s);
        return;
    }
    if (contains(s, n, "nulluser")) {
        finish(c, gql_r_null());
        return;
    }
    json_t *u = derive_user(stub_of(c), s, n);
    if (!u)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(u));
}

static void q_users(gql_call *c, void *ud)
{
    (void)ud;
    oracle_stub *st = stub_of(c);
    long long limit, offset;
    if (page_bounds(c, &limit, &offset) != 0)
        return;
    const gql_value *filter = gql_call_arg(c, "filter");
    const gql_value *idf = member(filter, "id");
    const gql_value *in = member(idf, "valueIn");
    const gql_value *eq = member(idf, "equalTo");
    json_t **items = NULL;
    size_t n = 0;
    if (is_kind(in, GQL_VALUE_LIST)) {
        items = calloc(in->u.list.count + 1, sizeof *items);
        for (uint32_t i = 0; items && i < in->u.list.count; i++) {
            const gql_value *v = in->u.list.items[i];
            items[n++] = derive_user(st, v->u.string.ptr, v->u.string.len);
        }
    } else if (is_kind(eq, GQL_VALUE_STRING)) {
        items = calloc(1, sizeof *items);
        if (items)
            items[n++] = derive_user(st, eq->u.string.ptr, eq->u.string.len);
    } else {
        const gql_value *search = gql_call_arg(c, "search");
        const gql_value *value = member(search, "value");
        const char *prefix = "u";
        size_t plen = 1;
        if (is_kind(value, GQL_VALUE_STRING)) {
            prefix = value->u.string.ptr;
            plen = value->u.string.len;
        }
        items = calloc(50, sizeof *items);
        for (int i = 0; items && i < 50; i++) {
            char num[16];
            int nl = snprintf(num, sizeof num, "%d", i);
            json_t *idj = concat(prefix, plen, num, (size_t)nl);
            items[n++] =
                idj ? derive_user(st, json_string_value(idj), json_string_length(idj)) : NULL;
            json_decref(idj);
        }
    }
    for (size_t i = 0; items && i < n; i++) {
        if (!items[i]) {
            free(items);
            items = NULL;
        }
    }
    if (!items) {
        fail(c, "out of memory");
        return;
    }
    const gql_value *act = member(member(filter, "active"), "equalTo");
    if (is_kind(act, GQL_VALUE_BOOLEAN)) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (json_is_true(json_object_get(items[i], "active")) == (act->u.boolean != 0))
                items[w++] = items[i];
        }
        n = w;
    }
    if (order_desc(c))
        reverse(items, n);
    finish_page(c, items, n, limit, offset);
    free(items);
}

static void q_tenant(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "missing")) {
        fail(c, "tenant %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    json_t *t = derive_tenant(stub_of(c), id->u.string.ptr, id->u.string.len);
    if (!t)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(t));
}

static void q_tenants(gql_call *c, void *ud)
{
    (void)ud;
    oracle_stub *st = stub_of(c);
    long long limit, offset;
    if (page_bounds(c, &limit, &offset) != 0)
        return;
    json_t *items[4];
    size_t n = 0;
    const gql_value *eq = member(member(gql_call_arg(c, "filter"), "name"), "equalTo");
    for (int i = 0; i < 4; i++) {
        char id[4] = {'t', (char)('0' + i), 0, 0};
        json_t *t = derive_tenant(st, id, 2);
        if (!t) {
            fail(c, "out of memory");
            return;
        }
        if (is_kind(eq, GQL_VALUE_STRING)) {
            json_t *name = json_object_get(t, "name");
            if (json_string_length(name) != eq->u.string.len ||
                memcmp(json_string_value(name), eq->u.string.ptr, eq->u.string.len) != 0)
                continue;
        }
        items[n++] = t;
    }
    if (order_desc(c))
        reverse(items, n);
    finish_page(c, items, n, limit, offset);
}

/* ---- Mutation */

static json_t *input_or(const gql_value *in, const char *name, json_t *dflt, int null_is_default)
{
    const gql_value *v = member(in, name);
    if (!v || (null_is_default && v->kind == GQL_VALUE_NULL))
        return dflt;
    json_decref(dflt);
    return value_to_json(v);
}

static void m_create_user(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *in = gql_call_arg(c, "user");
    const gql_value *ref = member(in, "reference");
    const gql_value *email = member(in, "email");
    if (ref->u.string.len == 3 && memcmp(ref->u.string.ptr, "dup", 3) == 0) {
        fail(c, "reference dup already exists");
        return;
    }
    if (!memchr(email->u.string.ptr, '@', email->u.string.len)) {
        fail(c, "email %.*s is not valid", (int)email->u.string.len, email->u.string.ptr);
        return;
    }
    json_t *rec = json_object();
    if (rec) {
        static const char *const optional[] = {"firstName", "lastName", "phone",     "locale",
                                               "timezone",  "tenantId", "avatarUrl", "customData"};
        json_object_set_new(rec, "id", cat_prefix("new-", ref->u.string.ptr, ref->u.string.len));
        json_object_set_new(rec, "reference", value_to_json(ref));
        json_object_set_new(rec, "email", value_to_json(email));
        for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
            json_object_set_new(rec, optional[i], input_or(in, optional[i], json_null(), 0));
        json_object_set_new(rec, "isOptedIn", input_or(in, "isOptedIn", json_false(), 1));
        json_object_set_new(rec, "active", input_or(in, "active", json_true(), 1));
        json_object_set_new(rec, "twoFactorEnabled",
                            input_or(in, "twoFactorEnabled", json_false(), 1));
        json_object_set_new(rec, "synced", json_true());
        json_object_set_new(rec, "createdAt", json_string(CREATED));
        json_object_set_new(rec, "updatedAt", json_string(CREATED));
    }
    rec = keep(stub_of(c), rec);
    if (!rec)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(rec));
}

/* Replaces rec's members with every field present in the input object. */
static void apply_update(json_t *rec, const gql_value *in)
{
    for (uint32_t i = 0; in && in->kind == GQL_VALUE_OBJECT && i < in->u.object.count; i++) {
        const gql_object_field *f = &in->u.object.fields[i];
        json_object_setn_new(rec, f->name.ptr, f->name.len, value_to_json(f->value));
    }
    json_object_set_new(rec, "updatedAt", json_string(TOUCHED));
}

static void m_update_user(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "erruser")) {
        fail(c, "user %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    json_t *rec = derive_user(stub_of(c), id->u.string.ptr, id->u.string.len);
    if (!rec) {
        fail(c, "out of memory");
        return;
    }
    apply_update(rec, gql_call_arg(c, "user"));
    finish(c, gql_r_object(rec));
}

static void m_create_tenant(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *in = gql_call_arg(c, "tenant");
    const gql_value *name = member(in, "name");
    if (name->u.string.len == 0) {
        fail(c, "tenant name must not be empty");
        return;
    }
    json_t *rec = json_object();
    if (rec) {
        json_object_set_new(rec, "id",
                            cat_prefix("t-new-", name->u.string.ptr, name->u.string.len));
        json_object_set_new(rec, "name", value_to_json(name));
        json_object_set_new(rec, "reference", input_or(in, "reference", json_null(), 0));
        json_object_set_new(rec, "isDefault", json_false());
        json_object_set_new(rec, "createdAt", json_string(CREATED));
        json_object_set_new(rec, "updatedAt", json_string(CREATED));
    }
    rec = keep(stub_of(c), rec);
    if (!rec)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(rec));
}

static void m_update_tenant(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "missing")) {
        fail(c, "tenant %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    json_t *rec = derive_tenant(stub_of(c), id->u.string.ptr, id->u.string.len);
    if (!rec) {
        fail(c, "out of memory");
        return;
    }
    apply_update(rec, gql_call_arg(c, "tenant"));
    finish(c, gql_r_object(rec));
}

/* ---- object fields */

/* The JSON member as a result for a field of type t. */
static int json_result(gql_result *out, gql_call *c, const json_t *v, const gql_wtype *t)
{
    while (t->kind == GQL_KIND_NON_NULL)
        t = t->of;
    if (!v || json_is_null(v)) {
        *out = gql_r_null();
        return 0;
    }
    if (t->kind == GQL_KIND_LIST) {
        size_t n = json_array_size(v);
        gql_result *items = gql_alloc(c, (n ? n : 1) * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (json_result(&items[i], c, json_array_get(v, i), t->of) != 0)
                return -1;
        }
        *out = gql_r_list(items, n);
        return 0;
    }
    if (t->named->kind == GQL_KIND_OBJECT) {
        *out = gql_r_object((void *)v);
        return 0;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = gql_r_string(json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        *out = gql_r_int(json_integer_value(v));
        break;
    case JSON_REAL:
        *out = gql_r_float(json_real_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = gql_r_bool(json_is_true(v));
        break;
    default:
        *out = gql_r_json(v);
        break;
    }
    return 0;
}

static void field_default(gql_call *c, void *ud)
{
    (void)ud;
    const json_t *src = gql_call_source(c);
    gql_str name = gql_call_field_name(c);
    const json_t *v = src ? json_object_getn(src, name.ptr, name.len) : NULL;
    gql_result r;
    if (json_result(&r, c, v, gql_call_field(c)->type) != 0)
        fail(c, "out of memory");
    else
        finish(c, r);
}

static const json_t *src_string(gql_call *c, const char *member_name, size_t *len)
{
    const json_t *v = json_object_get(gql_call_source(c), member_name);
    *len = json_string_length(v);
    return v;
}

static void user_email(gql_call *c, void *ud)
{
    size_t n;
    const char *id = json_string_value(src_string(c, "id", &n));
    if (contains(id, n, "nullemail")) {
        finish(c, gql_r_null());
        return;
    }
    if (contains(id, n, "erremail")) {
        fail(c, "email failed for %.*s", (int)n, id);
        return;
    }
    field_default(c, ud);
}

static void user_avatar(gql_call *c, void *ud)
{
    size_t n;
    const char *id = json_string_value(src_string(c, "id", &n));
    if (byte_sum(id, n) % 7 == 0) {
        fail(c, "avatar unavailable for %.*s", (int)n, id);
        return;
    }
    field_default(c, ud);
}

/* Batched like the gateway: one call for every user of a level. */
static void user_tenant(gql_call *const *calls, size_t n_calls, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < n_calls; i++) {
        gql_call *c = calls[i];
        size_t n;
        const char *id = json_string_value(src_string(c, "id", &n));
        if (contains(id, n, "errtenant")) {
            fail(c, "tenant lookup failed for %.*s", (int)n, id);
            continue;
        }
        size_t tn;
        const json_t *tid = src_string(c, "tenantId", &tn);
        if (!json_is_string(tid)) {
            finish(c, gql_r_null());
            continue;
        }
        json_t *t = derive_tenant(stub_of(c), json_string_value(tid), tn);
        if (!t)
            fail(c, "out of memory");
        else
            finish(c, gql_r_object(t));
    }
}

static void tenant_name(gql_call *c, void *ud)
{
    size_t n;
    const char *id = json_string_value(src_string(c, "id", &n));
    if (contains(id, n, "bad")) {
        fail(c, "tenant name failed for %.*s", (int)n, id);
        return;
    }
    field_default(c, ud);
}

static void tenant_users(gql_call *c, void *ud)
{
    (void)ud;
    size_t n;
    const char *id = json_string_value(src_string(c, "id", &n));
    json_t *count =
        keep(stub_of(c), json_pack("{s:I}", "totalCount", (json_int_t)(byte_sum(id, n) % 50)));
    if (!count)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(count));
}

int oracle_stub_register(gql_resolvers *r)
{
    static const struct {
        const char *type, *field;
        gql_resolve_fn fn;
    } table[] = {
        {"Query", "user", q_user},
        {"Query", "users", q_users},
        {"Query", "tenant", q_tenant},
        {"Query", "tenants", q_tenants},
        {"Mutation", "createUser", m_create_user},
        {"Mutation", "updateUser", m_update_user},
        {"Mutation", "createTenant", m_create_tenant},
        {"Mutation", "updateTenant", m_update_tenant},
        {"UserModel", "email", user_email},
        {"UserModel", "avatarUrl", user_avatar},
        {"TenantModel", "name", tenant_name},
        {"TenantModel", "users", tenant_users},
    };
    int rc = gql_resolvers_set_default(r, NULL, field_default, NULL);
    for (size_t i = 0; rc == ROSTER_E_OK && i < sizeof table / sizeof table[0]; i++)
        rc = gql_resolvers_set(r, table[i].type, table[i].field, table[i].fn, NULL);
    if (rc == ROSTER_E_OK)
        rc = gql_resolvers_set_batch(r, "UserModel", "tenant", user_tenant, NULL);
    return rc;
}

int oracle_stub_init(oracle_stub *st, int defer)
{
    memset(st, 0, sizeof *st);
    st->keep = json_array();
    if (!st->keep)
        return ROSTER_E_NOMEM;
    st->defer = defer;
    return ROSTER_E_OK;
}

void oracle_stub_free(oracle_stub *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_pending; i++)
        free(st->pending[i].message);
    free(st->pending);
    json_decref(st->keep);
    memset(st, 0, sizeof *st);
}
