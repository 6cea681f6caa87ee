/* Differential test: thousands of random creates, updates, deletes (in
 * batches that commit or abort) and list queries run against the store and
 * against a naive in-memory model; every result, page, totalCount and page
 * info must agree, and so must the pages reached by cursor from a page's
 * end.
 * Seeded and deterministic (ROSTER_DIFF_SEED overrides the seed). */
#include "store_fixture.h"

#include <fnmatch.h>
#include <strings.h>

#define MAX_USERS 4000
#define N_TENANTS 3

typedef struct muser {
    char id[37];
    const char *ref, *email, *first, *last, *phone, *locale, *tz;
    int8_t opted, active, two_factor; /* -1 null */
    int tenant;                       /* -1: none */
    int64_t created, updated;
} muser;

static muser model[MAX_USERS], snapshot[MAX_USERS];
static int n_model, n_snapshot;
static char tenant_ids[N_TENANTS][37];
static roster_uuid tenant_uuid[N_TENANTS];
static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static int rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

#define PICK(arr) (arr[rn((int)(sizeof arr / sizeof arr[0]))])

/* References and emails: a few fixed values (wildcards, case variants)
 * and many generated ones, so both collisions and growth happen. */
#define N_REFS   700
#define N_EMAILS 1000
static const char *refs[N_REFS];
static const char *emails[N_EMAILS];
static char ref_text[N_REFS][16], email_text[N_EMAILS][24];

static void make_pools(void)
{
    static const char *fixed_refs[] = {"R1", "R2", "a_b", "a%b", "x", "xy"};
    static const char *fixed_emails[] = {"ann@x.io", "Ann@x.io", "ANN@X.IO", "bob@x.io",
                                         "Bob@Y.io", "bob@y.io", "Eve@Y.IO", "eve@y.io"};
    for (int i = 0; i < N_REFS; i++) {
        if (i < 6)
            refs[i] = fixed_refs[i];
        else {
            snprintf(ref_text[i], sizeof ref_text[i], "r%d", i);
            refs[i] = ref_text[i];
        }
    }
    for (int i = 0; i < N_EMAILS; i++) {
        if (i < 8)
            emails[i] = fixed_emails[i];
        else {
            snprintf(email_text[i], sizeof email_text[i], i % 3 ? "u%d@%s.io" : "U%d@%s.IO", i / 2,
                     i % 2 ? "x" : "y");
            emails[i] = email_text[i];
        }
    }
}
static const char *firsts[] = {NULL, "Ann", "ann", "Bob", "Cy", "Zed", "", "Anna", "bo"};
static const char *lasts[] = {NULL, "Lee", "lee", "Kim", "O'Neil", "Park", "Leeds"};
static const char *phones[] = {NULL, "+1 555 0100", "+1 555 0101", "+66 2 123", "555"};
static const char *locales[] = {NULL, "en-US", "th-TH", "de", "en"};
static const char *tzs[] = {NULL, "Asia/Bangkok", "Europe/Berlin", "UTC", "Asia/Tokyo"};
static const char *patterns[] = {"A%",   "%n",  "%o%", "_o%", "%",  "a_n",   "%e%e%", "r1%",
                                 "%.io", "a%b", "x_",  "%_",  "R%", "%Lee%", "__"};
static const char *searches[] = {"an", "LEE", "", "bang", "+1", "o", "X.IO", "zz"};

static int8_t rbool(void)
{
    return (int8_t)(rn(3) - 1);
}

static bool eq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* ------------------------------------------------------------ writes */

/* The error uniqueness gives for user u (ignoring `self`), or OK. */
static int model_unique(const muser *u, const muser *self, const char **field)
{
    for (int i = 0; i < n_model; i++) {
        const muser *o = &model[i];
        if (o == self || o->tenant != u->tenant)
            continue;
        if (strcmp(o->ref, u->ref) == 0) {
            *field = "reference";
            return ROSTER_E_ALREADY_EXISTS;
        }
    }
    for (int i = 0; i < n_model; i++) {
        const muser *o = &model[i];
        if (o == self || o->tenant != u->tenant)
            continue;
        if (eq_ci(o->email, u->email)) {
            *field = "email";
            return ROSTER_E_ALREADY_EXISTS;
        }
    }
    return ROSTER_E_OK;
}

static void str_same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

static void bool_same(int8_t m, protobuf_c_boolean has, protobuf_c_boolean v)
{
    ck_assert_int_eq(m, has ? (int8_t)(v != 0) : -1);
}

static void user_same(const muser *m, const Roster__V1__User *u)
{
    ck_assert_str_eq(m->id, u->id);
    str_same(m->ref, u->reference);
    str_same(m->email, u->email);
    str_same(m->first, u->first_name);
    str_same(m->last, u->last_name);
    str_same(m->phone, u->phone);
    str_same(m->locale, u->locale);
    str_same(m->tz, u->timezone);
    bool_same(m->opted, u->has_is_opted_in, u->is_opted_in);
    bool_same(m->active, u->has_active, u->active);
    bool_same(m->two_factor, u->has_two_factor_enabled, u->two_factor_enabled);
    str_same(m->tenant >= 0 ? tenant_ids[m->tenant] : NULL, u->tenant_id);
    ck_assert_int_eq(m->created, u->created_at);
    ck_assert_int_eq(m->updated, u->updated_at);
}

static void op_create(store_wtxn *w)
{
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    muser m = {0};
    m.ref = req.reference = (char *)PICK(refs);
    m.email = req.email = (char *)PICK(emails);
    m.first = req.first_name = (char *)PICK(firsts);
    m.last = req.last_name = (char *)PICK(lasts);
    m.phone = req.phone = (char *)PICK(phones);
    m.locale = req.locale = (char *)PICK(locales);
    m.tz = req.timezone = (char *)PICK(tzs);
    int8_t b = rbool();
    req.has_is_opted_in = b >= 0;
    req.is_opted_in = b > 0;
    m.opted = b >= 0 ? b : 0;
    b = rbool();
    req.has_active = b >= 0;
    req.active = b > 0;
    m.active = b >= 0 ? b : 1;
    b = rbool();
    req.has_two_factor_enabled = b >= 0;
    req.two_factor_enabled = b > 0;
    m.two_factor = b >= 0 ? b : 0;
    int t = rn(N_TENANTS + 1) - 1; /* -1: tenantId absent */
    if (t >= 0)
        req.tenant_id = tenant_ids[t];
    int scope = rn(5) == 0 ? rn(N_TENANTS) : -1;
    int want = ROSTER_E_OK;
    const char *field = "";
    if (scope >= 0 && t >= 0 && t != scope) {
        want = ROSTER_E_PERMISSION_DENIED;
        field = "tenantId";
    } else {
        m.tenant = t >= 0 ? t : scope >= 0 ? scope : 0; /* tenant 0 is the default */
        want = model_unique(&m, NULL, &field);
    }
    Roster__V1__User *out = NULL;
    roster_err_detail d = {0};
    int err =
        store_user_create(w, scope >= 0 ? &tenant_uuid[scope] : NULL, &req, &fx_arena, &out, &d);
    ck_assert_int_eq(err, want);
    if (err != ROSTER_E_OK) {
        ck_assert_str_eq(d.field, field);
        return;
    }
    ck_assert_int_lt(n_model, MAX_USERS);
    strcpy(m.id, out->id);
    m.created = out->created_at;
    m.updated = out->updated_at;
    ck_assert_int_eq(m.created, m.updated);
    model[n_model++] = m;
    user_same(&model[n_model - 1], out);
}

static void op_update(store_wtxn *w)
{
    if (n_model == 0)
        return;
    muser *target = &model[rn(n_model)];
    muser m = *target;
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    Roster__V1__UserField clear[16];
    size_t nc = 0;
    req.id = target->id;
    if (rn(3) == 0)
        m.email = req.email = (char *)PICK(emails);
#define STR_FIELD(field, pool, member, enumv)                                                      \
    switch (rn(4)) {                                                                               \
    case 0:                                                                                        \
        m.member = req.field = (char *)PICK(pool);                                                 \
        if (m.member == NULL) {                                                                    \
            req.field = NULL;                                                                      \
            m.member = target->member;                                                             \
        }                                                                                          \
        break;                                                                                     \
    case 1:                                                                                        \
        m.member = NULL;                                                                           \
        clear[nc++] = enumv;                                                                       \
        break;                                                                                     \
    default:                                                                                       \
        break;                                                                                     \
    }
    STR_FIELD(first_name, firsts, first, ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME)
    STR_FIELD(last_name, lasts, last, ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME)
    STR_FIELD(phone, phones, phone, ROSTER__V1__USER_FIELD__USER_FIELD_PHONE)
    STR_FIELD(locale, locales, locale, ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE)
    STR_FIELD(timezone, tzs, tz, ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE)
#undef STR_FIELD
#define BOOL_FIELD(has, field, member, enumv)                                                      \
    switch (rn(4)) {                                                                               \
    case 0:                                                                                        \
        req.has = 1;                                                                               \
        req.field = rn(2);                                                                         \
        m.member = (int8_t)req.field;                                                              \
        break;                                                                                     \
    case 1:                                                                                        \
        m.member = -1;                                                                             \
        clear[nc++] = enumv;                                                                       \
        break;                                                                                     \
    default:                                                                                       \
        break;                                                                                     \
    }
    BOOL_FIELD(has_is_opted_in, is_opted_in, opted, ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN)
    BOOL_FIELD(has_active, active, active, ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE)
    BOOL_FIELD(has_two_factor_enabled, two_factor_enabled, two_factor,
               ROSTER__V1__USER_FIELD__USER_FIELD_TWO_FACTOR_ENABLED)
#undef BOOL_FIELD
    int tmode = rn(6);
    if (tmode == 0) {
        m.tenant = rn(N_TENANTS);
        req.tenant_id = tenant_ids[m.tenant];
    } else if (tmode == 1) {
        m.tenant = -1;
        clear[nc++] = ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID;
    }
    req.n_clear = nc;
    req.clear = clear;
    int scope = rn(5) == 0 ? rn(N_TENANTS) : -1;
    int want;
    const char *field = "";
    if (scope >= 0 && tmode == 0 && m.tenant != scope) {
        want = ROSTER_E_PERMISSION_DENIED;
        field = "tenantId";
    } else if (scope >= 0 && tmode == 1) {
        want = ROSTER_E_PERMISSION_DENIED;
        field = "tenantId";
    } else if (scope >= 0 && target->tenant != scope) {
        want = ROSTER_E_NOT_FOUND;
        field = "id";
    } else {
        want = model_unique(&m, target, &field);
    }
    Roster__V1__User *out = NULL;
    roster_err_detail d = {0};
    int err =
        store_user_update(w, scope >= 0 ? &tenant_uuid[scope] : NULL, &req, &fx_arena, &out, &d);
    ck_assert_int_eq(err, want);
    if (err != ROSTER_E_OK) {
        ck_assert_str_eq(d.field, field);
        return;
    }
    ck_assert_int_ge(out->updated_at, target->updated);
    m.updated = out->updated_at;
    *target = m;
    user_same(target, out);
}

/* Deletes a random user of the model (or one deleted before, or an id
 * that never existed), as an admin or a scoped caller. */
static char deleted_ids[256][37];
static int n_deleted;

static void op_delete(store_wtxn *w)
{
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    int pick = rn(10);
    int idx = -1;
    if (pick == 0 && n_deleted > 0) {
        /* Deleted before, unless that group was aborted. */
        req.id = deleted_ids[rn(n_deleted < 256 ? n_deleted : 256)];
        for (int i = 0; i < n_model; i++)
            if (strcmp(model[i].id, req.id) == 0)
                idx = i;
    } else if (pick == 1 || n_model == 0)
        req.id = "0190b3c2-7d1e-7a00-8000-0000000000aa";
    else {
        idx = rn(n_model);
        req.id = model[idx].id;
    }
    int scope = rn(5) == 0 ? rn(N_TENANTS) : -1;
    int want =
        idx < 0 || (scope >= 0 && model[idx].tenant != scope) ? ROSTER_E_NOT_FOUND : ROSTER_E_OK;
    Roster__V1__DeleteUserResponse *out = NULL;
    roster_err_detail d = {0};
    int err =
        store_user_delete(w, scope >= 0 ? &tenant_uuid[scope] : NULL, &req, &fx_arena, &out, &d);
    ck_assert_int_eq(err, want);
    if (err != ROSTER_E_OK) {
        ck_assert_str_eq(d.field, "id");
        return;
    }
    ck_assert_str_eq(out->id, model[idx].id);
    strcpy(deleted_ids[n_deleted++ % 256], model[idx].id);
    model[idx] = model[--n_model];
}

/* ------------------------------------------------------------ queries */

static bool like_match(const char *v, const char *pat, bool ci)
{
    char fp[128];
    size_t j = 0;
    for (size_t i = 0; pat[i] && j + 2 < sizeof fp; i++) {
        char c = pat[i];
        if (c == '%')
            fp[j++] = '*';
        else if (c == '_')
            fp[j++] = '?';
        else {
            if (strchr("*?[]\\", c))
                fp[j++] = '\\';
            fp[j++] = c;
        }
    }
    fp[j] = 0;
    return fnmatch(fp, v, ci ? FNM_CASEFOLD : 0) == 0;
}

typedef struct mstr {
    int op; /* 0 eq, 1 neq, 2 like, 3 ilike, 4 in, 5 notin, 6 isnull, 7 notnull */
    const char *a, *b;
    int n_list; /* 0..2 for in/notin */
} mstr;

/* The model's string equality: email compares case-insensitively (the
 * emails here are ASCII), as its unique index does; others exactly. */
static bool mstr_eq(const char *v, const char *a, bool ci)
{
    return ci ? strcasecmp(v, a) == 0 : strcmp(v, a) == 0;
}

static bool mstr_match(const mstr *c, const char *v, bool ci)
{
    switch (c->op) {
    case 0:
        return v && mstr_eq(v, c->a, ci);
    case 1:
        return v && !mstr_eq(v, c->a, ci);
    case 2:
        return v && like_match(v, c->a, false);
    case 3:
        return v && like_match(v, c->a, true);
    case 4:
        return v &&
               ((c->n_list > 0 && mstr_eq(v, c->a, ci)) || (c->n_list > 1 && mstr_eq(v, c->b, ci)));
    case 5:
        if (c->n_list == 0)
            return true;
        return v && !mstr_eq(v, c->a, ci) && (c->n_list < 2 || !mstr_eq(v, c->b, ci));
    case 6:
        return v == NULL;
    default:
        return v != NULL;
    }
}

static Roster__V1__StringFilter *mstr_build(const mstr *c)
{
    Roster__V1__StringFilter *f = roster_arena_alloc(&fx_arena, sizeof *f);
    roster__v1__string_filter__init(f);
    Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
    roster__v1__string_list__init(l);
    char **vals = roster_arena_alloc(&fx_arena, 2 * sizeof *vals);
    vals[0] = (char *)c->a;
    vals[1] = (char *)c->b;
    l->n_values = (size_t)c->n_list;
    l->values = vals;
    switch (c->op) {
    case 0:
        f->equal_to = (char *)c->a;
        break;
    case 1:
        f->not_equal_to = (char *)c->a;
        break;
    case 2:
        f->like = (char *)c->a;
        break;
    case 3:
        f->i_like = (char *)c->a;
        break;
    case 4:
        f->value_in = l;
        break;
    case 5:
        f->value_not_in = l;
        break;
    case 6:
        f->has_equal_to_null = f->equal_to_null = 1;
        break;
    default:
        f->has_not_equal_to_null = f->not_equal_to_null = 1;
        break;
    }
    return f;
}

/* A random string condition on values drawn from `pool` (n entries). */
static mstr mstr_random(const char **pool, int n)
{
    mstr c = {0};
    c.op = rn(8);
    const char *a = pool[rn(n)], *b = pool[rn(n)];
    c.a = a ? a : "zzz";
    c.b = b ? b : "Ann";
    if (c.op == 2 || c.op == 3)
        c.a = PICK(patterns);
    c.n_list = rn(3);
    return c;
}

enum { F_REF, F_EMAIL, F_FIRST, F_LAST, F_PHONE, F_LOCALE, F_TZ, F__STR };

static const char *mfield(const muser *u, int f)
{
    switch (f) {
    case F_REF:
        return u->ref;
    case F_EMAIL:
        return u->email;
    case F_FIRST:
        return u->first;
    case F_LAST:
        return u->last;
    case F_PHONE:
        return u->phone;
    case F_LOCALE:
        return u->locale;
    default:
        return u->tz;
    }
}

typedef struct mquery {
    bool has_str[F__STR];
    mstr str[F__STR];
    int active_op, opted_op; /* -1 none; 0 eq, 1 neq, 2 isnull, 3 notnull */
    bool active_v, opted_v;
    int with_deact; /* -1 none, 0 false, 1 true */
    int tenant_op;  /* -1 none; 0 eq, 1 neq, 2 isnull, 3 notnull, 4 in, 5 notin */
    int tenant_a, tenant_b;
    int id_op; /* -1 none; 0 eq, 1 in, 2 notin */
    const char *id_a, *id_b;
    int date_field; /* -1 none, 0 createdAt, 1 updatedAt */
    int date_op;    /* 0 eq .. 5 moreThanEqual, 6 neq */
    int64_t date_v;
    int search_key; /* -1 none, else index into search fields */
    const char *search;
    int sort; /* -1 default, else ROSTER__V1__USER_SORT_FIELD__* */
    bool desc;
    int limit, offset; /* -1 absent */
    int scope;         /* -1 none */
} mquery;

static bool mbool_match(int op, bool v, int8_t x)
{
    switch (op) {
    case 0:
        return x >= 0 && (x != 0) == v;
    case 1:
        return x >= 0 && (x != 0) != v;
    case 2:
        return x < 0;
    case 3:
        return x >= 0;
    default:
        return true;
    }
}

static bool mdate_match(int op, int64_t v, int64_t x)
{
    switch (op) {
    case 0:
        return x == v;
    case 1:
        return x < v;
    case 2:
        return x <= v;
    case 3:
        return x > v;
    case 4:
        return x >= v;
    default:
        return x != v;
    }
}

static const int search_fields[] = {F_EMAIL, F_FIRST, F_LAST, F_LOCALE, F_PHONE, F_TZ};

static bool model_match(const mquery *q, const muser *u)
{
    if (q->scope >= 0 && u->tenant != q->scope)
        return false;
    for (int f = 0; f < F__STR; f++)
        if (q->has_str[f] && !mstr_match(&q->str[f], mfield(u, f), f == F_EMAIL))
            return false;
    if (q->active_op >= 0 && !mbool_match(q->active_op, q->active_v, u->active))
        return false;
    if (q->opted_op >= 0 && !mbool_match(q->opted_op, q->opted_v, u->opted))
        return false;
    if (q->active_op < 0 && q->with_deact != 1 && u->active == 0)
        return false;
    switch (q->tenant_op) {
    case 0:
        if (u->tenant != q->tenant_a)
            return false;
        break;
    case 1:
        if (u->tenant < 0 || u->tenant == q->tenant_a)
            return false;
        break;
    case 2:
        if (u->tenant >= 0)
            return false;
        break;
    case 3:
        if (u->tenant < 0)
            return false;
        break;
    case 4:
        if (u->tenant < 0 || (u->tenant != q->tenant_a && u->tenant != q->tenant_b))
            return false;
        break;
    case 5:
        if (u->tenant < 0 || u->tenant == q->tenant_a || u->tenant == q->tenant_b)
            return false;
        break;
    default:
        break;
    }
    switch (q->id_op) {
    case 0:
        if (strcmp(u->id, q->id_a) != 0)
            return false;
        break;
    case 1:
        if (strcmp(u->id, q->id_a) != 0 && strcmp(u->id, q->id_b) != 0)
            return false;
        break;
    case 2:
        if (strcmp(u->id, q->id_a) == 0 || strcmp(u->id, q->id_b) == 0)
            return false;
        break;
    default:
        break;
    }
    if (q->date_field >= 0 &&
        !mdate_match(q->date_op, q->date_v, q->date_field == 0 ? u->created : u->updated))
        return false;
    if (q->search_key >= 0) {
        const char *v = mfield(u, search_fields[q->search_key]);
        if (v == NULL)
            return false;
        bool found = q->search[0] == 0;
        for (size_t i = 0; !found && v[i]; i++)
            found = strncasecmp(v + i, q->search, strlen(q->search)) == 0;
        if (!found)
            return false;
    }
    return true;
}

static const mquery *cmp_q;

static int cmp_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a == NULL) - (b == NULL); /* nulls last ascending */
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

static int cmp_bool(int8_t a, int8_t b)
{
    int x = a < 0 ? 2 : a, y = b < 0 ? 2 : b;
    return (x > y) - (x < y);
}

static int model_cmp(const void *pa, const void *pb)
{
    const muser *a = *(const muser *const *)pa, *b = *(const muser *const *)pb;
    int c = 0;
    switch (cmp_q->sort) {
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE:
        c = cmp_bool(a->active, b->active);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL:
        c = cmp_str(a->email, b->email);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME:
        c = cmp_str(a->first, b->first);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME:
        c = cmp_str(a->last, b->last);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LOCALE:
        c = cmp_str(a->locale, b->locale);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE:
        c = cmp_str(a->phone, b->phone);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_TIMEZONE:
        c = cmp_str(a->tz, b->tz);
        break;
    case ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UPDATED_AT:
        c = (a->updated > b->updated) - (a->updated < b->updated);
        break;
    default:
        break;
    }
    if (c == 0)
        c = strcmp(a->id, b->id); /* lower-case hex text orders like the bytes */
    return cmp_q->desc ? -c : c;
}

static mquery random_query(void)
{
    mquery q;
    memset(&q, 0, sizeof q);
    q.active_op = q.opted_op = q.with_deact = q.tenant_op = q.id_op = -1;
    q.date_field = q.search_key = q.sort = q.limit = q.offset = q.scope = -1;
    int conds = rn(4);
    for (int i = 0; i < conds; i++) {
        switch (rn(10)) {
        case 0:
            q.has_str[F_REF] = true;
            q.str[F_REF] = mstr_random(refs, N_REFS);
            break;
        case 1:
            q.has_str[F_EMAIL] = true;
            q.str[F_EMAIL] = mstr_random(emails, N_EMAILS);
            break;
        case 2: {
            int f = F_FIRST + rn(5);
            const char **pool = f == F_FIRST    ? firsts
                                : f == F_LAST   ? lasts
                                : f == F_PHONE  ? phones
                                : f == F_LOCALE ? locales
                                                : tzs;
            int n = f == F_FIRST ? 9 : f == F_LAST ? 7 : 5;
            q.has_str[f] = true;
            q.str[f] = mstr_random(pool, n);
            break;
        }
        case 3:
            q.active_op = rn(4);
            q.active_v = rn(2);
            break;
        case 4:
            q.opted_op = rn(4);
            q.opted_v = rn(2);
            break;
        case 5:
            q.with_deact = rn(2);
            break;
        case 6:
            q.tenant_op = rn(6);
            q.tenant_a = rn(N_TENANTS);
            q.tenant_b = rn(N_TENANTS);
            break;
        case 7:
            if (n_model > 0) {
                q.id_op = rn(3);
                q.id_a = model[rn(n_model)].id;
                q.id_b = model[rn(n_model)].id;
            }
            break;
        case 8:
            if (n_model > 0) {
                q.date_field = rn(2);
                q.date_op = rn(7);
                const muser *p = &model[rn(n_model)];
                q.date_v = q.date_field == 0 ? p->created : p->updated;
            }
            break;
        default:
            q.search_key = rn(6);
            q.search = PICK(searches);
            break;
        }
    }
    if (rn(4) != 0) {
        q.sort = rn(10);
        q.desc = rn(2);
    }
    static const int limits[] = {-1, 0, 1, 3, 5, 20, 50};
    q.limit = PICK(limits);
    q.offset = rn(3) == 0 ? -1 : rn(3) == 0 ? rn(40) : rn(4);
    if (rn(5) == 0)
        q.scope = rn(N_TENANTS);
    return q;
}

static Roster__V1__ListUsersRequest *build_request(const mquery *q)
{
    Roster__V1__ListUsersRequest *r = roster_arena_alloc(&fx_arena, sizeof *r);
    roster__v1__list_users_request__init(r);
    Roster__V1__UserFilter *f = roster_arena_alloc(&fx_arena, sizeof *f);
    roster__v1__user_filter__init(f);
    r->filter = rn(2) || q->tenant_op >= 0 ? f : NULL; /* an empty filter or none */
    Roster__V1__StringFilter **sf[F__STR] = {&f->reference, &f->email, &f->first_name,
                                             &f->last_name, &f->phone, &f->locale,
                                             &f->timezone};
    for (int i = 0; i < F__STR; i++)
        if (q->has_str[i]) {
            *sf[i] = mstr_build(&q->str[i]);
            r->filter = f;
        }
#define BF(op, v, dst)                                                                             \
    if ((op) >= 0) {                                                                               \
        Roster__V1__BoolFilter *b = roster_arena_alloc(&fx_arena, sizeof *b);                      \
        roster__v1__bool_filter__init(b);                                                          \
        if ((op) == 0) {                                                                           \
            b->has_equal_to = 1;                                                                   \
            b->equal_to = (v);                                                                     \
        }                                                                                          \
        if ((op) == 1) {                                                                           \
            b->has_not_equal_to = 1;                                                               \
            b->not_equal_to = (v);                                                                 \
        }                                                                                          \
        if ((op) == 2) {                                                                           \
            b->has_equal_to_null = b->equal_to_null = 1;                                           \
        }                                                                                          \
        if ((op) == 3) {                                                                           \
            b->has_not_equal_to_null = b->not_equal_to_null = 1;                                   \
        }                                                                                          \
        dst = b;                                                                                   \
        r->filter = f;                                                                             \
    }
    BF(q->active_op, q->active_v, f->active)
    BF(q->opted_op, q->opted_v, f->is_opted_in)
    BF(q->with_deact >= 0 ? 0 : -1, q->with_deact == 1, f->with_deactivated)
#undef BF
    if (q->tenant_op >= 0) {
        Roster__V1__IdFilter *t = roster_arena_alloc(&fx_arena, sizeof *t);
        roster__v1__id_filter__init(t);
        Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
        roster__v1__string_list__init(l);
        char **v = roster_arena_alloc(&fx_arena, 2 * sizeof *v);
        v[0] = tenant_ids[q->tenant_a];
        v[1] = tenant_ids[q->tenant_b];
        l->n_values = 2;
        l->values = v;
        switch (q->tenant_op) {
        case 0:
            t->equal_to = tenant_ids[q->tenant_a];
            break;
        case 1:
            t->not_equal_to = tenant_ids[q->tenant_a];
            break;
        case 2:
            t->has_equal_to_null = t->equal_to_null = 1;
            break;
        case 3:
            t->has_not_equal_to_null = t->not_equal_to_null = 1;
            break;
        case 4:
            t->value_in = l;
            break;
        default:
            t->value_not_in = l;
            break;
        }
        f->tenant_id = t;
    }
    if (q->id_op >= 0) {
        Roster__V1__IdFilter *t = roster_arena_alloc(&fx_arena, sizeof *t);
        roster__v1__id_filter__init(t);
        Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
        roster__v1__string_list__init(l);
        char **v = roster_arena_alloc(&fx_arena, 2 * sizeof *v);
        v[0] = (char *)q->id_a;
        v[1] = (char *)q->id_b;
        l->n_values = 2;
        l->values = v;
        if (q->id_op == 0)
            t->equal_to = (char *)q->id_a;
        else if (q->id_op == 1)
            t->value_in = l;
        else
            t->value_not_in = l;
        f->id = t;
        r->filter = f;
    }
    if (q->date_field >= 0) {
        Roster__V1__DateFilter *d = roster_arena_alloc(&fx_arena, sizeof *d);
        roster__v1__date_filter__init(d);
        switch (q->date_op) {
        case 0:
            d->has_equal_to = 1;
            d->equal_to = q->date_v;
            break;
        case 1:
            d->has_less_than = 1;
            d->less_than = q->date_v;
            break;
        case 2:
            d->has_less_than_equal = 1;
            d->less_than_equal = q->date_v;
            break;
        case 3:
            d->has_more_than = 1;
            d->more_than = q->date_v;
            break;
        case 4:
            d->has_more_than_equal = 1;
            d->more_than_equal = q->date_v;
            break;
        default:
            d->has_not_equal_to = 1;
            d->not_equal_to = q->date_v;
            break;
        }
        if (q->date_field == 0)
            f->created_at = d;
        else
            f->updated_at = d;
        r->filter = f;
    }
    if (q->search_key >= 0) {
        Roster__V1__UserSearch *s = roster_arena_alloc(&fx_arena, sizeof *s);
        roster__v1__user_search__init(s);
        s->has_key = 1;
        s->key = (Roster__V1__UserSearchKey)(q->search_key + 1);
        s->value = (char *)q->search;
        r->search = s;
    }
    if (q->sort >= 0) {
        Roster__V1__UserOrder *o = roster_arena_alloc(&fx_arena, sizeof *o);
        roster__v1__user_order__init(o);
        o->has_sort = o->has_order = 1;
        o->sort = (Roster__V1__UserSortField)q->sort;
        o->order = q->desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC
                           : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
        r->order = o;
    }
    if (q->limit >= 0) {
        r->has_limit = 1;
        r->limit = q->limit;
    }
    if (q->offset >= 0) {
        r->has_offset = 1;
        r->offset = q->offset;
    }
    return r;
}

static void print_issue(void *ctx, const store_issue *is)
{
    (void)ctx;
    fprintf(stderr, "verify: %d %s %s %s\n", is->kind, is->db, is->id, is->message);
}

static int cursor_walks, cursor_pages;

/* Checks a page's info: has_next_page exact, end_cursor iff it has records. */
static void info_same(const Roster__V1__ListUsersResponse *resp, bool has_next)
{
    ck_assert_ptr_nonnull(resp->page_info);
    ck_assert(resp->page_info->has_has_next_page);
    ck_assert_int_eq(resp->page_info->has_next_page, has_next);
    if (resp->n_users > 0)
        ck_assert_ptr_nonnull(resp->page_info->end_cursor);
    else
        ck_assert_ptr_null(resp->page_info->end_cursor);
}

/* Follows cursors from `cursor` (the end of a page that ended before
 * matches[from]) for at most `pages` pages of random sizes, or to the end
 * when pages < 0: every page must be the next records of matches[0..n). */
static void walk_on(store_rtxn *r, const mquery *q, const Roster__V1__ListUsersRequest *req,
                    const muser *const *matches, int n, int from, const char *cursor, int pages)
{
    Roster__V1__ListUsersRequest next = *req;
    next.has_offset = rn(2); /* an explicit offset 0 goes with a cursor */
    next.offset = 0;
    cursor_walks++;
    for (; cursor != NULL && pages != 0; pages--) {
        next.after = (char *)cursor;
        next.has_limit = 1;
        next.limit = pages < 0 ? 40 + rn(200) : 1 + rn(30);
        Roster__V1__ListUsersResponse *resp;
        roster_err_detail d = {0};
        int err = store_user_list(r, q->scope >= 0 ? &tenant_uuid[q->scope] : NULL, &next,
                                  &fx_arena, &resp, &d);
        ck_assert_msg(err == ROSTER_E_OK, "list after a cursor failed: %d %s %s", err, d.field,
                      d.message);
        ck_assert_int_eq(resp->total_count, n);
        int want = n - from < next.limit ? n - from : next.limit;
        ck_assert_int_eq((int)resp->n_users, want);
        for (int i = 0; i < want; i++)
            user_same(matches[from + i], resp->users[i]);
        from += want;
        info_same(resp, from < n);
        cursor = resp->page_info->end_cursor;
        cursor_pages++;
    }
}

static void run_query(store_rtxn *r)
{
    mquery q = random_query();
    Roster__V1__ListUsersRequest *req = build_request(&q);
    static const muser *matches[MAX_USERS];
    int n = 0;
    for (int i = 0; i < n_model; i++)
        if (model_match(&q, &model[i]))
            matches[n++] = &model[i];
    mquery sq = q;
    if (sq.sort <= 0 || sq.sort == ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT)
        sq.sort = -1;
    if (q.sort < 0)
        sq.desc = true;
    cmp_q = &sq;
    qsort(matches, (size_t)n, sizeof matches[0], model_cmp);
    int limit = q.limit >= 0 ? q.limit : 20, offset = q.offset >= 0 ? q.offset : 0;

    Roster__V1__ListUsersResponse *resp;
    roster_err_detail d = {0};
    int err =
        store_user_list(r, q.scope >= 0 ? &tenant_uuid[q.scope] : NULL, req, &fx_arena, &resp, &d);
    ck_assert_msg(err == ROSTER_E_OK, "list failed: %d %s %s", err, d.field, d.message);
    if (resp->total_count != n) {
        fprintf(stderr, "query: str[");
        for (int i = 0; i < F__STR; i++)
            if (q.has_str[i])
                fprintf(stderr, " f%d op%d a=%s b=%s n=%d", i, q.str[i].op, q.str[i].a, q.str[i].b,
                        q.str[i].n_list);
        fprintf(stderr,
                " ] active=%d/%d opted=%d/%d wd=%d tenant=%d/%d/%d id=%d date=%d/%d search=%d/%s "
                "sort=%d desc=%d limit=%d offset=%d scope=%d\n",
                q.active_op, q.active_v, q.opted_op, q.opted_v, q.with_deact, q.tenant_op,
                q.tenant_a, q.tenant_b, q.id_op, q.date_field, q.date_op, q.search_key,
                q.search ? q.search : "", q.sort, q.desc, q.limit, q.offset, q.scope);
        uint64_t issues = 0;
        store_verify(r, print_issue, NULL, &issues);
    }
    ck_assert_int_eq(resp->total_count, n);
    int want = n - offset;
    if (want < 0)
        want = 0;
    if (want > limit)
        want = limit;
    ck_assert_int_eq((int)resp->n_users, want);
    for (int i = 0; i < want; i++)
        user_same(matches[offset + i], resp->users[i]);
    info_same(resp, offset + want < n);
    /* From the page's end on by cursor: a few pages, or now and then all. */
    if (want > 0 && rn(3) == 0)
        walk_on(r, &q, req, matches, n, offset + want, resp->page_info->end_cursor,
                rn(20) == 0 ? -1 : 1 + rn(3));
}

/* Reopens fx_store declaring a global order for every sortable field but
 * createdAt (recorded as building, not built yet). */
static void reopen_with_global_orders(void)
{
    static const char *const orders[] = {"email",  "firstName", "lastName", "phone",
                                         "locale", "timezone",  "active",   "updatedAt"};
    store_close(fx_store);
    roster_err_detail d = {0};
    store_options o = {.no_sync = true,
                       .map_size = (uint64_t)1 << 30,
                       .global_order = orders,
                       .n_global_order = sizeof orders / sizeof orders[0],
                       .declare_custom_index = true,
                       .detail = &d};
    ck_assert_msg(store_open(&fx_store, fx_dir, &o) == ROSTER_E_OK, "%s", d.message);
}

/* Runs the store's index build to its end. */
static void build_indexes(void)
{
    store_index_build *b;
    bool done = false;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    ck_assert_ptr_nonnull(b);
    while (!done)
        ck_assert_int_eq(store_index_build_step(b, 500, &done), ROSTER_E_OK);
    store_index_build_free(b);
}

/* The random run; with `global`, the global orders are declared first
 * and built at the run's middle, so the first half's all-tenant orders
 * merge the tenants' ranges and the second half's walk the global
 * orders, both against the model. */
static void run_against_model(bool global)
{
    const char *seed_env = getenv("ROSTER_DIFF_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 10) : 0x5eed5eedULL;
    if (rng_state == 0)
        rng_state = 1;
    if (global)
        reopen_with_global_orders();
    make_pools();
    for (int t = 0; t < N_TENANTS; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        strcpy(tenant_ids[t], fx_tenant(name, t == 0));
        ck_assert_int_eq(roster_uuid_parse(&tenant_uuid[t], tenant_ids[t], 36), ROSTER_E_OK);
    }
    int writes = 0, queries = 0;
    for (int step = 0; step < 2500; step++) {
        if (global && step == 1250)
            build_indexes();
        if (rn(100) < 55) {
            memcpy(snapshot, model, sizeof model[0] * (size_t)n_model);
            n_snapshot = n_model;
            store_wtxn *w;
            /* Half the groups nest a transaction per op, half write directly. */
            ck_assert_int_eq((rn(2) ? store_write_begin : store_write_begin_bulk)(fx_store, &w),
                             ROSTER_E_OK);
            int ops = 1 + rn(8);
            for (int i = 0; i < ops; i++, writes++) {
                int op = rn(20);
                if (op < 12)
                    op_create(w);
                else if (op < 17)
                    op_update(w);
                else
                    op_delete(w);
            }
            if (rn(10) == 0) {
                store_write_abort(w);
                memcpy(model, snapshot, sizeof model[0] * (size_t)n_snapshot);
                n_model = n_snapshot;
            } else {
                ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
            }
        } else {
            store_rtxn *r;
            ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
            for (int i = 0; i < 3; i++, queries++)
                run_query(r);
            store_read_end(r);
        }
        roster_arena_reset(&fx_arena);
    }
    fprintf(stderr, "store_diff: %d writes, %d queries, %d cursor walks, %d pages by cursor\n",
            writes, queries, cursor_walks, cursor_pages);
    ck_assert_int_gt(n_model, 1000);
    ck_assert_int_gt(writes, 4000);
    ck_assert_int_gt(queries, 2000);
    ck_assert_int_gt(cursor_walks, 400);
    ck_assert_int_gt(cursor_pages, 1000);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, print_issue, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, (uint64_t)n_model);
    store_read_end(r);
}

START_TEST(random_operations_match_model)
{
    run_against_model(false);
}
END_TEST

START_TEST(random_operations_match_model_with_global_orders)
{
    run_against_model(true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_diff");
    TCase *tc = tcase_create("diff");
    tcase_set_timeout(tc, 170);
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, random_operations_match_model);
    tcase_add_test(tc, random_operations_match_model_with_global_orders);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
