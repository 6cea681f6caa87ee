#include "oracle_stub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define CREATED         "2026-01-01T00:00:00.000Z"
#define UPDATED         "2026-01-02T00:00:00.000Z"
#define TOUCHED         "2026-01-03T00:00:00.000Z"
#define USERS_GENERATED 50

struct oracle_pending {
    gql_call *call;
    gql_result value;
    char *message; /* malloc'd; non-NULL for an error */
};

/* A record: one value per field of its object type, in SDL order. */
typedef struct rec {
    const gql_type *type;
    gql_result *vals;
} rec;

enum {
    U_ID,
    U_REFERENCE,
    U_EMAIL,
    U_FIRST_NAME,
    U_LAST_NAME,
    U_PHONE,
    U_LOCALE,
    U_TIMEZONE,
    U_IS_OPTED_IN,
    U_ACTIVE,
    U_SYNCED,
    U_AVATAR_URL,
    U_CUSTOM_DATA,
    U_TWO_FACTOR,
    U_TENANT_ID,
    U_CREATED_AT,
    U_UPDATED_AT
};
static const char *const user_fields[ORACLE_USER_FIELDS] = {
    "id",         "reference",        "email",     "firstName", "lastName", "phone",
    "locale",     "timezone",         "isOptedIn", "active",    "synced",   "avatarUrl",
    "customData", "twoFactorEnabled", "tenantId",  "createdAt", "updatedAt"};

enum { T_ID, T_NAME, T_REFERENCE, T_IS_DEFAULT, T_CREATED_AT, T_UPDATED_AT };
static const char *const tenant_fields[ORACLE_TENANT_FIELDS] = {
    "id", "name", "reference", "isDefault", "createdAt", "updatedAt"};

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

static int equals(const char *s, size_t len, const char *lit)
{
    return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static gql_result lit(const char *s)
{
    return gql_r_string(s, strlen(s));
}

/* a + b + c in execution memory; a null result when out of memory. */
static gql_result cat3(gql_call *c, const char *a, size_t al, const char *b, size_t bl,
                       const char *d, size_t dl)
{
    char *p = gql_alloc(c, al + bl + dl + 1);
    if (!p)
        return gql_r_null();
    memcpy(p, a, al);
    memcpy(p + al, b, bl);
    memcpy(p + al + bl, d, dl);
    p[al + bl + dl] = '\0';
    return gql_r_string(p, al + bl + dl);
}

static gql_result prefixed(gql_call *c, const char *prefix, const char *s, size_t len)
{
    return cat3(c, prefix, strlen(prefix), s, len, "", 0);
}

/* Writes v in decimal at the end of buf[0..cap) and returns where it starts. */
static char *decimal(char *buf, size_t cap, unsigned long v)
{
    char *p = buf + cap;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v && p > buf);
    return p;
}

/* ---- completion, immediate or deferred */

static oracle_stub *stub_of(gql_call *c)
{
    return gql_call_context(c);
}

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

/* The string value of field i of r, or an empty slice. */
static gql_str str_at(const rec *r, int i)
{
    gql_str s = {"", 0};
    if (r && r->vals[i].kind == GQL_RESULT_STRING) {
        s.ptr = r->vals[i].u.string.ptr;
        s.len = (uint32_t)r->vals[i].u.string.len;
    }
    return s;
}

/* A record of type t with every field null; NULL when out of memory. */
static rec *rec_new(gql_call *c, const gql_type *t)
{
    rec *r = gql_alloc(c, sizeof *r);
    gql_result *vals = gql_alloc(c, (t->n_fields ? t->n_fields : 1) * sizeof *vals);
    if (!r || !vals)
        return NULL;
    r->type = t;
    r->vals = vals;
    for (uint32_t i = 0; i < t->n_fields; i++)
        vals[i] = gql_r_null();
    return r;
}

static const oracle_stub_layout *layout_of(void *ud)
{
    return ud;
}

static rec *derive_user(gql_call *c, const oracle_stub_layout *L, const char *id, size_t len)
{
    rec *r = rec_new(c, L->user);
    if (!r)
        return NULL;
    gql_result *v = r->vals;
    const int16_t *f = L->user_f;
    unsigned long k = byte_sum(id, len);
    char num[24];
    char *d = decimal(num, sizeof num, k);
    size_t dl = (size_t)(num + sizeof num - d);
    v[f[U_ID]] = gql_r_string(id, len);
    v[f[U_REFERENCE]] = prefixed(c, "ref-", id, len);
    v[f[U_EMAIL]] = cat3(c, "", 0, id, len, "@example.com", 12);
    v[f[U_FIRST_NAME]] = prefixed(c, "First-", id, len);
    if (k % 5 != 0)
        v[f[U_LAST_NAME]] = prefixed(c, "Last-", id, len);
    if (k % 4 == 0)
        v[f[U_PHONE]] = cat3(c, "+1555", 5, d, dl, "", 0);
    v[f[U_LOCALE]] = lit("en-US");
    v[f[U_TIMEZONE]] = lit("UTC");
    v[f[U_IS_OPTED_IN]] = gql_r_bool(k % 2 == 0);
    v[f[U_ACTIVE]] = gql_r_bool(k % 3 != 0);
    v[f[U_SYNCED]] = gql_r_bool(1);
    v[f[U_AVATAR_URL]] = cat3(c, "https://img.example.com/", 24, id, len, ".png", 4);
    static const char tags[] = ",\"tags\":[\"a\",\"b\"]}";
    gql_result custom = cat3(c, "{\"n\":", 5, d, dl, tags, sizeof tags - 1);
    if (custom.kind == GQL_RESULT_STRING)
        v[f[U_CUSTOM_DATA]] = gql_r_raw_json(custom.u.string.ptr, custom.u.string.len);
    v[f[U_TWO_FACTOR]] = gql_r_bool(0);
    if (k % 6 != 0 && k % 11 == 0) {
        v[f[U_TENANT_ID]] = lit("t-bad");
    } else if (k % 6 != 0) {
        static const char *const tenants[] = {"t0", "t1", "t2", "t3"};
        v[f[U_TENANT_ID]] = lit(tenants[k % 4]);
    }
    v[f[U_CREATED_AT]] = lit(CREATED);
    v[f[U_UPDATED_AT]] = lit(UPDATED);
    return r;
}

static rec *derive_tenant(gql_call *c, const oracle_stub_layout *L, const char *id, size_t len)
{
    rec *r = rec_new(c, L->tenant);
    if (!r)
        return NULL;
    gql_result *v = r->vals;
    const int16_t *f = L->tenant_f;
    v[f[T_ID]] = gql_r_string(id, len);
    v[f[T_NAME]] = prefixed(c, "Tenant ", id, len);
    if (byte_sum(id, len) % 2 == 0)
        v[f[T_REFERENCE]] = prefixed(c, "ref-", id, len);
    v[f[T_IS_DEFAULT]] = gql_r_bool(equals(id, len, "t1"));
    v[f[T_CREATED_AT]] = lit(CREATED);
    v[f[T_UPDATED_AT]] = lit(UPDATED);
    return r;
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

/* An input value as a field value: objects and lists become raw JSON
 * (customData). */
static gql_result value_result(gql_call *c, const gql_value *v)
{
    switch (v->kind) {
    case GQL_VALUE_BOOLEAN:
        return gql_r_bool(v->u.boolean);
    case GQL_VALUE_INT:
        return gql_r_int(v->u.integer);
    case GQL_VALUE_FLOAT:
        return gql_r_float(v->u.number);
    case GQL_VALUE_STRING:
    case GQL_VALUE_ENUM:
        return gql_r_string(v->u.string.ptr, v->u.string.len);
    case GQL_VALUE_LIST:
    case GQL_VALUE_OBJECT: {
        gql_buf b;
        gql_jw w;
        gql_buf_init(&b);
        gql_jw_init(&w, &b, 0);
        gql_value_write_json(&w, v);
        gql_result r = gql_r_null();
        if (gql_buf_status(&b) == ROSTER_E_OK) {
            char *p = gql_alloc(c, b.len ? b.len : 1);
            if (p) {
                memcpy(p, b.data, b.len);
                r = gql_r_raw_json(p, b.len);
            }
        }
        gql_buf_free(&b);
        return r;
    }
    default:
        return gql_r_null();
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
    return (is_kind(o, GQL_VALUE_ENUM) || is_kind(o, GQL_VALUE_STRING)) &&
           equals(o->u.string.ptr, o->u.string.len, "DESC");
}

static void reverse(gql_str *ids, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        gql_str t = ids[i];
        ids[i] = ids[n - 1 - i];
        ids[n - 1 - i] = t;
    }
}

typedef rec *(*derive_fn)(gql_call *, const oracle_stub_layout *, const char *, size_t);

/* Finishes c with a page of type page_t: {totalCount: n, data: the records
 * of ids[offset..offset+limit) made by derive}. */
static void finish_page(gql_call *c, const oracle_stub_layout *L, const gql_type *page_t,
                        int total_f, int data_f, const gql_str *ids, size_t n, long long limit,
                        long long offset, derive_fn derive)
{
    rec *page = rec_new(c, page_t);
    size_t from = (size_t)offset < n ? (size_t)offset : n;
    size_t count = n - from < (size_t)limit ? n - from : (size_t)limit;
    gql_result *items = gql_alloc(c, (count ? count : 1) * sizeof *items);
    if (!page || !items) {
        fail(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < count; i++) {
        rec *r = derive(c, L, ids[from + i].ptr, ids[from + i].len);
        if (!r) {
            fail(c, "out of memory");
            return;
        }
        items[i] = gql_r_object(r);
    }
    page->vals[total_f] = gql_r_int((int64_t)n);
    page->vals[data_f] = gql_r_list(items, count);
    finish(c, gql_r_object(page));
}

/* ---- Query */

static void q_user(gql_call *c, void *ud)
{
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
    rec *u = derive_user(c, layout_of(ud), s, n);
    if (!u)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(u));
}

static void q_users(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    long long limit, offset;
    if (page_bounds(c, &limit, &offset) != 0)
        return;
    const gql_value *filter = gql_call_arg(c, "filter");
    const gql_value *idf = member(filter, "id");
    const gql_value *in = member(idf, "valueIn");
    const gql_value *eq = member(idf, "equalTo");
    gql_str *ids;
    size_t n = 0;
    if (is_kind(in, GQL_VALUE_LIST)) {
        ids = gql_alloc(c, (in->u.list.count + 1) * sizeof *ids);
        for (uint32_t i = 0; ids && i < in->u.list.count; i++)
            ids[n++] = in->u.list.items[i]->u.string;
    } else if (is_kind(eq, GQL_VALUE_STRING)) {
        ids = gql_alloc(c, sizeof *ids);
        if (ids)
            ids[n++] = eq->u.string;
    } else {
        const gql_value *value = member(gql_call_arg(c, "search"), "value");
        gql_str prefix = {"u", 1};
        if (is_kind(value, GQL_VALUE_STRING))
            prefix = value->u.string;
        ids = gql_alloc(c, USERS_GENERATED * sizeof *ids);
        for (unsigned long i = 0; ids && i < USERS_GENERATED; i++) {
            char num[24];
            char *d = decimal(num, sizeof num, i);
            gql_result s =
                cat3(c, prefix.ptr, prefix.len, d, (size_t)(num + sizeof num - d), "", 0);
            if (s.kind != GQL_RESULT_STRING) {
                ids = NULL;
                break;
            }
            ids[n].ptr = s.u.string.ptr;
            ids[n++].len = (uint32_t)s.u.string.len;
        }
    }
    if (!ids) {
        fail(c, "out of memory");
        return;
    }
    const gql_value *act = member(member(filter, "active"), "equalTo");
    if (is_kind(act, GQL_VALUE_BOOLEAN)) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if ((byte_sum(ids[i].ptr, ids[i].len) % 3 != 0) == (act->u.boolean != 0))
                ids[w++] = ids[i];
        }
        n = w;
    }
    if (order_desc(c))
        reverse(ids, n);
    finish_page(c, L, L->user_page, L->user_page_total, L->user_page_data, ids, n, limit, offset,
                derive_user);
}

static void q_tenant(gql_call *c, void *ud)
{
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "missing")) {
        fail(c, "tenant %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    rec *t = derive_tenant(c, layout_of(ud), id->u.string.ptr, id->u.string.len);
    if (!t)
        fail(c, "out of memory");
    else
        finish(c, gql_r_object(t));
}

static void q_tenants(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    long long limit, offset;
    if (page_bounds(c, &limit, &offset) != 0)
        return;
    static const char *const all[] = {"t0", "t1", "t2", "t3"};
    gql_str ids[4];
    size_t n = 0;
    const gql_value *eq = member(member(gql_call_arg(c, "filter"), "name"), "equalTo");
    for (int i = 0; i < 4; i++) {
        if (is_kind(eq, GQL_VALUE_STRING) &&
            !(eq->u.string.len == 9 && memcmp(eq->u.string.ptr, "Tenant ", 7) == 0 &&
              memcmp(eq->u.string.ptr + 7, all[i], 2) == 0))
            continue;
        ids[n].ptr = all[i];
        ids[n++].len = 2;
    }
    if (order_desc(c))
        reverse(ids, n);
    finish_page(c, L, L->tenant_page, L->tenant_page_total, L->tenant_page_data, ids, n, limit,
                offset, derive_tenant);
}

/* ---- Mutation */

/* The input field as a value, or dflt when absent (or null, if
 * null_is_default). */
static gql_result input_or(gql_call *c, const gql_value *in, const char *name, gql_result dflt,
                           int null_is_default)
{
    const gql_value *v = member(in, name);
    if (!v || (null_is_default && v->kind == GQL_VALUE_NULL))
        return dflt;
    return value_result(c, v);
}

static void m_create_user(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    const gql_value *in = gql_call_arg(c, "user");
    gql_str ref = member(in, "reference")->u.string;
    gql_str email = member(in, "email")->u.string;
    if (equals(ref.ptr, ref.len, "dup")) {
        fail(c, "reference dup already exists");
        return;
    }
    if (!memchr(email.ptr, '@', email.len)) {
        fail(c, "email %.*s is not valid", (int)email.len, email.ptr);
        return;
    }
    rec *r = rec_new(c, L->user);
    if (!r) {
        fail(c, "out of memory");
        return;
    }
    static const int optional[] = {U_FIRST_NAME, U_LAST_NAME, U_PHONE,      U_LOCALE,
                                   U_TIMEZONE,   U_TENANT_ID, U_AVATAR_URL, U_CUSTOM_DATA};
    gql_result *v = r->vals;
    const int16_t *f = L->user_f;
    v[f[U_ID]] = prefixed(c, "new-", ref.ptr, ref.len);
    v[f[U_REFERENCE]] = gql_r_string(ref.ptr, ref.len);
    v[f[U_EMAIL]] = gql_r_string(email.ptr, email.len);
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++)
        v[f[optional[i]]] = input_or(c, in, user_fields[optional[i]], gql_r_null(), 0);
    v[f[U_IS_OPTED_IN]] = input_or(c, in, "isOptedIn", gql_r_bool(0), 1);
    v[f[U_ACTIVE]] = input_or(c, in, "active", gql_r_bool(1), 1);
    v[f[U_TWO_FACTOR]] = input_or(c, in, "twoFactorEnabled", gql_r_bool(0), 1);
    v[f[U_SYNCED]] = gql_r_bool(1);
    v[f[U_CREATED_AT]] = lit(CREATED);
    v[f[U_UPDATED_AT]] = lit(CREATED);
    finish(c, gql_r_object(r));
}

/* Replaces r's values with every field present in the input object (by
 * name: the input types' fields are named like the output fields), then
 * sets field updated_f to TOUCHED. */
static void apply_update(gql_call *c, rec *r, const gql_value *in, int updated_f)
{
    for (uint32_t i = 0; in && in->kind == GQL_VALUE_OBJECT && i < in->u.object.count; i++) {
        const gql_object_field *f = &in->u.object.fields[i];
        const gql_field *def = gql_type_field(r->type, f->name.ptr, f->name.len);
        if (def && def >= r->type->fields && def < r->type->fields + r->type->n_fields)
            r->vals[def - r->type->fields] = value_result(c, f->value);
    }
    r->vals[updated_f] = lit(TOUCHED);
}

static void m_update_user(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "erruser")) {
        fail(c, "user %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    rec *r = derive_user(c, L, id->u.string.ptr, id->u.string.len);
    if (!r) {
        fail(c, "out of memory");
        return;
    }
    apply_update(c, r, gql_call_arg(c, "user"), L->user_f[U_UPDATED_AT]);
    finish(c, gql_r_object(r));
}

static void m_create_tenant(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    const gql_value *in = gql_call_arg(c, "tenant");
    gql_str name = member(in, "name")->u.string;
    if (name.len == 0) {
        fail(c, "tenant name must not be empty");
        return;
    }
    rec *r = rec_new(c, L->tenant);
    if (!r) {
        fail(c, "out of memory");
        return;
    }
    gql_result *v = r->vals;
    const int16_t *f = L->tenant_f;
    v[f[T_ID]] = prefixed(c, "t-new-", name.ptr, name.len);
    v[f[T_NAME]] = gql_r_string(name.ptr, name.len);
    v[f[T_REFERENCE]] = input_or(c, in, "reference", gql_r_null(), 0);
    v[f[T_IS_DEFAULT]] = gql_r_bool(0);
    v[f[T_CREATED_AT]] = lit(CREATED);
    v[f[T_UPDATED_AT]] = lit(CREATED);
    finish(c, gql_r_object(r));
}

static void m_update_tenant(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    const gql_value *id = gql_call_arg(c, "id");
    if (contains(id->u.string.ptr, id->u.string.len, "missing")) {
        fail(c, "tenant %.*s not found", (int)id->u.string.len, id->u.string.ptr);
        return;
    }
    rec *r = derive_tenant(c, L, id->u.string.ptr, id->u.string.len);
    if (!r) {
        fail(c, "out of memory");
        return;
    }
    apply_update(c, r, gql_call_arg(c, "tenant"), L->tenant_f[T_UPDATED_AT]);
    finish(c, gql_r_object(r));
}

/* ---- object fields */

static void field_default(gql_call *c, void *ud)
{
    (void)ud;
    const rec *r = gql_call_source(c);
    const gql_field *f = gql_call_field(c);
    if (!r || r->type != f->parent) {
        fail(c, "stub: no record for %.*s", (int)f->name.len, f->name.ptr);
        return;
    }
    finish(c, r->vals[f - f->parent->fields]);
}

static gql_str user_id(gql_call *c, const oracle_stub_layout *L)
{
    return str_at(gql_call_source(c), L->user_f[U_ID]);
}

static void user_email(gql_call *c, void *ud)
{
    gql_str id = user_id(c, layout_of(ud));
    if (contains(id.ptr, id.len, "nullemail")) {
        finish(c, gql_r_null());
        return;
    }
    if (contains(id.ptr, id.len, "erremail")) {
        fail(c, "email failed for %.*s", (int)id.len, id.ptr);
        return;
    }
    field_default(c, ud);
}

static void user_avatar(gql_call *c, void *ud)
{
    gql_str id = user_id(c, layout_of(ud));
    if (byte_sum(id.ptr, id.len) % 7 == 0) {
        fail(c, "avatar unavailable for %.*s", (int)id.len, id.ptr);
        return;
    }
    field_default(c, ud);
}

/* Batched like the gateway: one call for every user of a level. */
static void user_tenant(gql_call *const *calls, size_t n_calls, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    for (size_t i = 0; i < n_calls; i++) {
        gql_call *c = calls[i];
        gql_str id = user_id(c, L);
        if (contains(id.ptr, id.len, "errtenant")) {
            fail(c, "tenant lookup failed for %.*s", (int)id.len, id.ptr);
            continue;
        }
        const rec *u = gql_call_source(c);
        gql_result tid = u->vals[L->user_f[U_TENANT_ID]];
        if (tid.kind != GQL_RESULT_STRING) {
            finish(c, gql_r_null());
            continue;
        }
        rec *t = derive_tenant(c, L, tid.u.string.ptr, tid.u.string.len);
        if (!t)
            fail(c, "out of memory");
        else
            finish(c, gql_r_object(t));
    }
}

static void tenant_name(gql_call *c, void *ud)
{
    gql_str id = str_at(gql_call_source(c), layout_of(ud)->tenant_f[T_ID]);
    if (contains(id.ptr, id.len, "bad")) {
        fail(c, "tenant name failed for %.*s", (int)id.len, id.ptr);
        return;
    }
    field_default(c, ud);
}

static void tenant_users(gql_call *c, void *ud)
{
    const oracle_stub_layout *L = layout_of(ud);
    gql_str id = str_at(gql_call_source(c), L->tenant_f[T_ID]);
    rec *count = rec_new(c, L->count);
    if (!count) {
        fail(c, "out of memory");
        return;
    }
    count->vals[L->count_total] = gql_r_int((int64_t)(byte_sum(id.ptr, id.len) % 50));
    finish(c, gql_r_object(count));
}

/* Type `name` of s and the positions of its fields `names`; -1 if absent. */
static int find_fields(const gql_type **t_out, int16_t *idx, const gql_schema *s, const char *name,
                       const char *const *names, size_t n)
{
    const gql_type *t = gql_schema_type(s, name, strlen(name));
    if (!t || t->kind != GQL_KIND_OBJECT)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const gql_field *f = gql_type_field(t, names[i], strlen(names[i]));
        if (!f || f < t->fields || f >= t->fields + t->n_fields)
            return -1;
        idx[i] = (int16_t)(f - t->fields);
    }
    *t_out = t;
    return 0;
}

int oracle_stub_register(gql_resolvers *r, const gql_schema *s, oracle_stub_layout *L)
{
    static const char *const page_fields[] = {"totalCount", "data"};
    static const char *const count_fields[] = {"totalCount"};
    int16_t page[2], tpage[2];
    memset(L, 0, sizeof *L);
    if (find_fields(&L->user, L->user_f, s, "UserModel", user_fields, ORACLE_USER_FIELDS) ||
        find_fields(&L->tenant, L->tenant_f, s, "TenantModel", tenant_fields,
                    ORACLE_TENANT_FIELDS) ||
        find_fields(&L->user_page, page, s, "UserPageModel", page_fields, 2) ||
        find_fields(&L->tenant_page, tpage, s, "TenantPageModel", page_fields, 2) ||
        find_fields(&L->count, &L->count_total, s, "UsersCountModel", count_fields, 1))
        return ROSTER_E_NOT_FOUND;
    L->user_page_total = page[0];
    L->user_page_data = page[1];
    L->tenant_page_total = tpage[0];
    L->tenant_page_data = tpage[1];

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
    int rc = gql_resolvers_set_default(r, NULL, field_default, L);
    for (size_t i = 0; rc == ROSTER_E_OK && i < sizeof table / sizeof table[0]; i++)
        rc = gql_resolvers_set(r, table[i].type, table[i].field, table[i].fn, L);
    if (rc == ROSTER_E_OK)
        rc = gql_resolvers_set_batch(r, "UserModel", "tenant", user_tenant, L);
    return rc;
}

void oracle_stub_init(oracle_stub *st, int defer)
{
    memset(st, 0, sizeof *st);
    st->defer = defer;
}

void oracle_stub_free(oracle_stub *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_pending; i++)
        free(st->pending[i].message);
    free(st->pending);
    memset(st, 0, sizeof *st);
}
