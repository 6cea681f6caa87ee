/* Differential test of the two store backends: thousands of random user
 * restores, updates and deletes (in groups that commit or abort) and list
 * queries run against an LMDB store and a PostgreSQL store, and every
 * result must be the same: error codes and fields, totals, pages record
 * by record, has_next_page and end cursors, and the pages reached by
 * following those cursors. (test_store_diff checks the LMDB store against
 * a naive model the same way, so both agree with the model.)
 *
 * Users are made by restore with the same ids and creation times on both
 * sides; updates stamp updatedAt with each backend's own clock, so
 * updatedAt is the one field neither compared nor filtered or ordered by.
 * Both stores declare the same customData paths and answer their
 * conditions and orders from their built indexes (the PostgreSQL store
 * from roster_custom); backends_agree_while_building starts the
 * PostgreSQL indexes mid-run, so its answers come from the rows while they
 * build and from the indexes after, and must be the same throughout.
 * Seeded and deterministic (ROSTER_DIFF_SEED overrides the seed). */
#include "pg_fixture.h"
#include "store_fixture.h"

#include "keys.h"
#include "record.h"

#define N_TENANTS 3
#define N_IDS     900

static pgstore *pg;
static long n_ok_lists, n_items, n_errs, n_walk_cursor, n_custom_lists, n_custom_items;
static uint64_t rng_state;
static char tenant_ids[N_TENANTS][ROSTER_UUID_TEXT_LEN + 1];
static roster_uuid tenant_uuid[N_TENANTS];
static char user_ids[N_IDS][ROSTER_UUID_TEXT_LEN + 1];

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
#define N_REFS   400
#define N_EMAILS 500
static const char *refs[N_REFS];
static const char *emails[N_EMAILS];
static char ref_text[N_REFS][16], email_text[N_EMAILS][24];

static void make_pools(void)
{
    static const char *fixed_refs[] = {"R1", "R2", "a_b", "a%b", "x", "xy"};
    static const char *fixed_emails[] = {"ann@x.io", "Ann@x.io", "ANN@X.IO", "bob@x.io",
                                         "Bob@Y.io", "bob@y.io", "Eve@Y.IO", "eve@y.io"};
    for (int i = 0; i < N_REFS; i++) {
        snprintf(ref_text[i], sizeof ref_text[i], "r%d", i);
        refs[i] = i < 6 ? fixed_refs[i] : ref_text[i];
    }
    for (int i = 0; i < N_EMAILS; i++) {
        snprintf(email_text[i], sizeof email_text[i], i % 3 ? "u%d@%s.io" : "U%d@%s.IO", i / 2,
                 i % 2 ? "x" : "y");
        emails[i] = i < 8 ? fixed_emails[i] : email_text[i];
    }
}
static const char *firsts[] = {NULL, "Ann", "ann", "Bob", "Cy", "Zed", "", "Anna", "bo"};
static const char *lasts[] = {NULL, "Lee", "lee", "Kim", "O'Neil", "Park", "Leeds"};
static const char *phones[] = {NULL, "+1 555 0100", "+1 555 0101", "+66 2 123", "555"};
static const char *locales[] = {NULL, "en-US", "th-TH", "de", "en"};
static const char *tzs[] = {NULL, "Asia/Bangkok", "Europe/Berlin", "UTC", "Asia/Tokyo"};
static const char *patterns[] = {"A%",   "%n",  "%o%", "_o%", "%",  "a_n",   "%e%e%", "r%",
                                 "%.io", "a%b", "x_",  "%_",  "R%", "%Lee%", "__"};
/* The declared customData paths, customData values (wrong types, absent
 * paths and ties included) and condition values per path. */
static const char *const decl[] = {"plan:string", "seats:integer", "score:number", "vip:boolean",
                                   "since:date"};
#define N_DECL (sizeof decl / sizeof decl[0])
static const char *customs[] = {
    NULL,
    "{}",
    "{\"plan\":\"pro\",\"seats\":3}",
    "{\"plan\":\"free\",\"seats\":10,\"score\":1.5}",
    "{\"plan\":\"team\",\"vip\":true,\"since\":\"2024-01-02T03:04:05Z\"}",
    "{\"seats\":\"many\",\"vip\":\"yes\",\"plan\":7}",
    "{\"plan\":\"Pro\",\"score\":-2,\"seats\":-7}",
    "{\"vip\":false,\"seats\":0,\"since\":\"2023-12-31T23:59:59.999Z\",\"score\":0}",
    "{\"plan\":\"pro\",\"seats\":3,\"score\":1e3,\"vip\":true}",
    "{\"plan\":\"\",\"since\":\"2024-06-01T00:00:00Z\",\"score\":-0.25}",
};
static const char *const cond_vals[N_DECL][4] = {
    {"\"pro\"", "\"free\"", "\"\"", "\"team\""},
    {"3", "0", "-7", "10"},
    {"1.5", "0", "-2", "1000"},
    {"true", "false", "true", "false"},
    {"\"2024-01-02T03:04:05Z\"", "\"2023-12-31T23:59:59.999Z\"", "\"2024-06-01T00:00:00Z\"",
     "\"2020-01-01T00:00:00Z\""},
};
static const char *decl_path(int i)
{
    static const char *const paths[N_DECL] = {"plan", "seats", "score", "vip", "since"};
    return paths[i];
}

static const char *searches[] = {"an", "LEE", "", "bang", "+1", "o", "X.IO", "zz"};

/* Tenants go into PostgreSQL as the LMDB store keeps them: the same
 * record bytes and name key. */
static void pg_put_tenant(const Roster__V1__Tenant *t)
{
    uint8_t rec[512], key[KEY_MAX];
    size_t len = roster__v1__tenant__pack(t, rec);
    tenant_view tv;
    ck_assert_int_eq(tenant_view_parse(&tv, rec, len), ROSTER_E_OK);
    size_t kn = key_tenant_name(key, &tv);
    PGconn *c = PQconnectdb(pgfx_url);
    ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
    const char *vals[] = {(const char *)tv.id.b, (const char *)key, (const char *)rec};
    int lens[] = {16, (int)kn, (int)len}, fmts[] = {1, 1, 1};
    const Oid types[] = {2950, 17, 17};
    PGresult *r = PQexecParams(c,
                               "INSERT INTO roster_tenants (id, name_key, is_default, record) "
                               "VALUES ($1, $2, false, $3)",
                               3, types, vals, lens, fmts, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* Opens pg declaring the customData paths spec[n]. */
static void pg_open(const char *const *spec, size_t n)
{
    roster_err_detail d = {0};
    pgstore_options o = {.pool_size = 2,
                         .custom_index = spec,
                         .n_custom_index = n,
                         .declare_custom_index = true,
                         .detail = &d};
    ck_assert_msg(pgstore_open(&pg, pgfx_url, &o) == ROSTER_E_OK, "%s", d.message);
}

/* Builds pg's building customData indexes: to the end (steps 0), or
 * that many steps of 50 users. */
static void pg_build(int steps)
{
    pgstore_build *b;
    bool done = false;
    ck_assert_int_eq(pgstore_build_new(&b, pg), ROSTER_E_OK);
    for (int i = 0; b != NULL && !done && (steps == 0 || i < steps); i++)
        ck_assert_int_eq(pgstore_build_step(b, 50, &done), ROSTER_E_OK);
    pgstore_build_free(b);
}

static void setup(void)
{
    make_pools();
    fx_setup();
    /* Reopened with the customData paths declared, their (empty) indexes
     * built to the end, so the LMDB side answers from its indexes. */
    store_close(fx_store);
    store_options lo = {.no_sync = true,
                        .map_size = (uint64_t)1 << 30,
                        .custom_index = decl,
                        .n_custom_index = N_DECL,
                        .declare_custom_index = true};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &lo), ROSTER_E_OK);
    store_index_build *b;
    bool done = false;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    while (b != NULL && !done)
        ck_assert_int_eq(store_index_build_step(b, 100, &done), ROSTER_E_OK);
    store_index_build_free(b);
    pgfx_create_db();
    pg_open(decl, N_DECL);
    pg_build(0);
    for (int i = 0; i < N_TENANTS; i++) {
        store_wtxn *w;
        ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
        Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        req.name = name;
        Roster__V1__Tenant *t;
        ck_assert_int_eq(store_tenant_create(w, NULL, &req, &fx_arena, &t, NULL), ROSTER_E_OK);
        ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
        strcpy(tenant_ids[i], t->id);
        ck_assert_int_eq(roster_uuid_parse(&tenant_uuid[i], t->id, strlen(t->id)), ROSTER_E_OK);
        pg_put_tenant(t);
    }
    for (int i = 0; i < N_IDS; i++) {
        roster_uuid id;
        roster_uuid_v7(&id, 1700000000000 + i * 1000);
        roster_uuid_format(user_ids[i], &id);
    }
}

static void teardown(void)
{
    pgstore_close(pg);
    pg = NULL;
    pgfx_drop_db();
    fx_teardown();
}

static const roster_uuid *pick_scope(void)
{
    return rn(5) == 0 ? &tenant_uuid[rn(N_TENANTS)] : NULL;
}

static void detail_same(int err, const roster_err_detail *a, const roster_err_detail *b)
{
    if (err != ROSTER_E_OK)
        ck_assert_str_eq(a->field, b->field);
}

/* Records equal but for updatedAt. */
static void record_same(const void *a, size_t an, const void *b, size_t bn)
{
    Roster__V1__User *x = roster__v1__user__unpack(NULL, an, a);
    Roster__V1__User *y = roster__v1__user__unpack(NULL, bn, b);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    x->updated_at = y->updated_at = 0;
    uint8_t px[2048], py[2048];
    size_t nx = roster__v1__user__pack(x, px), ny = roster__v1__user__pack(y, py);
    ck_assert_msg(nx == ny && memcmp(px, py, nx) == 0, "records differ: %s", x->id);
    roster__v1__user__free_unpacked(x, NULL);
    roster__v1__user__free_unpacked(y, NULL);
}

static void op_restore(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    int i = rn(N_IDS);
    u.id = user_ids[i];
    u.reference = (char *)PICK(refs);
    u.email = (char *)PICK(emails);
    u.first_name = (char *)PICK(firsts);
    u.last_name = (char *)PICK(lasts);
    u.phone = (char *)PICK(phones);
    u.locale = (char *)PICK(locales);
    u.timezone = (char *)PICK(tzs);
    u.custom_data = (char *)PICK(customs);
    u.has_active = rn(3) > 0;
    u.active = rn(2);
    u.has_is_opted_in = 1;
    u.is_opted_in = rn(2);
    int t = rn(N_TENANTS + 1) - 1;
    u.tenant_id = t >= 0 ? tenant_ids[t] : NULL;
    u.has_created_at = u.has_updated_at = 1;
    u.created_at = 1700000000000 + i * 1000;
    u.updated_at = u.created_at;
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_restore(lw, &u, &dl);
    int ep = pgstore_user_restore(pw, &u, &dp);
    ck_assert_msg(el == ep, "restore: lmdb %d pg %d (%s / %s)", el, ep, dl.message, dp.message);
    detail_same(el, &dl, &dp);
}

static void op_update(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = user_ids[rn(N_IDS)];
    Roster__V1__UserField clear[3];
    switch (rn(7)) {
    case 0:
        req.email = (char *)PICK(emails);
        break;
    case 6:
        req.custom_data = (char *)PICK(customs);
        if (req.custom_data == NULL) {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA;
            req.clear = clear;
        }
        break;
    case 1:
        req.first_name = (char *)PICK(firsts);
        if (req.first_name == NULL) {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME;
            req.clear = clear;
        }
        break;
    case 2:
        req.has_active = 1;
        req.active = rn(2);
        break;
    case 3: {
        int t = rn(N_TENANTS + 1) - 1;
        if (t >= 0) {
            req.tenant_id = tenant_ids[t];
        } else {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID;
            req.clear = clear;
        }
        break;
    }
    case 4:
        req.phone = (char *)PICK(phones);
        req.locale = (char *)PICK(locales);
        break;
    default:
        req.last_name = (char *)PICK(lasts);
        req.timezone = (char *)PICK(tzs);
        break;
    }
    const roster_uuid *scope = pick_scope();
    roster_err_detail dl = {0}, dp = {0};
    Roster__V1__User *a = NULL, *b = NULL;
    int el = store_user_update(lw, scope, &req, &fx_arena, &a, &dl);
    int ep = pgstore_user_update(pw, scope, &req, &fx_arena, &b, &dp);
    ck_assert_msg(el == ep, "update: lmdb %d pg %d (%s / %s)", el, ep, dl.message, dp.message);
    detail_same(el, &dl, &dp);
    if (el == ROSTER_E_OK) {
        uint8_t x[2048], y[2048];
        record_same(x, roster__v1__user__pack(a, x), y, roster__v1__user__pack(b, y));
    }
}

static void op_delete(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    req.id = user_ids[rn(N_IDS)];
    const roster_uuid *scope = pick_scope();
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_delete(lw, scope, &req, &fx_arena, NULL, &dl);
    int ep = pgstore_user_delete(pw, scope, &req, &fx_arena, NULL, &dp);
    ck_assert_int_eq(el, ep);
    detail_same(el, &dl, &dp);
}

static Roster__V1__StringFilter *random_string_filter(void)
{
    Roster__V1__StringFilter *f = roster_arena_alloc(&fx_arena, sizeof *f);
    roster__v1__string_filter__init(f);
    switch (rn(6)) {
    case 0:
        f->equal_to = (char *)PICK(firsts);
        if (f->equal_to == NULL) {
            f->has_equal_to_null = 1;
            f->equal_to_null = 1;
        }
        break;
    case 1:
        f->i_like = (char *)PICK(patterns);
        break;
    case 2:
        f->like = (char *)PICK(patterns);
        break;
    case 3:
        f->not_equal_to = "Ann";
        break;
    case 4: {
        Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
        char **in = roster_arena_alloc(&fx_arena, 2 * sizeof *in);
        roster__v1__string_list__init(l);
        in[0] = "Ann";
        in[1] = "Lee";
        l->values = in;
        l->n_values = 2;
        f->value_in = l;
        break;
    }
    default:
        f->has_not_equal_to_null = 1;
        f->not_equal_to_null = 1;
        break;
    }
    return f;
}

static const Roster__V1__UserSortField sorts[] = {
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UNSPECIFIED,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LOCALE,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_TIMEZONE,
    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE,
};

/* A condition on a declared path (now and then an undeclared path or a
 * value of the wrong type, refused naming filter.customData). */
static Roster__V1__CustomDataCondition *random_custom_condition(void)
{
    Roster__V1__CustomDataCondition *c = roster_arena_alloc(&fx_arena, sizeof *c);
    roster__v1__custom_data_condition__init(c);
    int p = rn(N_DECL);
    c->path = (char *)decl_path(p);
    const char *v = cond_vals[p][rn(4)];
    switch (rn(7)) {
    case 0:
        c->not_equal_to = (char *)v;
        break;
    case 1: {
        c->n_value_in = 1 + (size_t)rn(3);
        c->value_in = roster_arena_alloc(&fx_arena, c->n_value_in * sizeof *c->value_in);
        for (size_t i = 0; i < c->n_value_in; i++)
            c->value_in[i] = (char *)cond_vals[p][rn(4)];
        break;
    }
    case 2:
        c->more_than = (char *)v;
        if (rn(2))
            c->less_than_equal = (char *)cond_vals[p][rn(4)];
        break;
    case 3:
        c->more_than_equal = (char *)v;
        break;
    case 4:
        c->less_than = (char *)v;
        break;
    default:
        c->equal_to = (char *)v;
        break;
    }
    if (rn(30) == 0)
        c->path = "colour"; /* undeclared */
    else if (rn(30) == 0)
        c->equal_to = p == 0 ? "3" : "\"x\""; /* the wrong type */
    return c;
}

static void random_list_request(Roster__V1__ListUsersRequest *req)
{
    roster__v1__list_users_request__init(req);
    Roster__V1__UserFilter *f = roster_arena_alloc(&fx_arena, sizeof *f);
    roster__v1__user_filter__init(f);
    bool any = false;
    if (rn(3) == 0) {
        f->first_name = random_string_filter();
        any = true;
    }
    if (rn(5) == 0) {
        f->last_name = random_string_filter();
        any = true;
    }
    if (rn(6) == 0) {
        Roster__V1__StringFilter *e = roster_arena_alloc(&fx_arena, sizeof *e);
        roster__v1__string_filter__init(e);
        if (rn(2))
            e->equal_to = (char *)PICK(emails);
        else
            e->i_like = (char *)PICK(patterns);
        f->email = e;
        any = true;
    }
    if (rn(6) == 0) {
        Roster__V1__StringFilter *e = roster_arena_alloc(&fx_arena, sizeof *e);
        roster__v1__string_filter__init(e);
        e->equal_to = (char *)PICK(refs);
        f->reference = e;
        any = true;
    }
    if (rn(4) == 0) {
        Roster__V1__IdFilter *t = roster_arena_alloc(&fx_arena, sizeof *t);
        roster__v1__id_filter__init(t);
        if (rn(4) == 0) {
            t->has_equal_to_null = 1;
            t->equal_to_null = 1;
        } else {
            t->equal_to = tenant_ids[rn(N_TENANTS)];
        }
        f->tenant_id = t;
        any = true;
    }
    if (rn(5) == 0) {
        Roster__V1__BoolFilter *a = roster_arena_alloc(&fx_arena, sizeof *a);
        roster__v1__bool_filter__init(a);
        if (rn(4) == 0) {
            a->has_equal_to_null = 1;
            a->equal_to_null = 1;
        } else {
            a->has_equal_to = 1;
            a->equal_to = rn(2);
        }
        f->active = a;
        any = true;
    }
    if (rn(5) == 0) {
        Roster__V1__BoolFilter *wd = roster_arena_alloc(&fx_arena, sizeof *wd);
        roster__v1__bool_filter__init(wd);
        wd->has_equal_to = 1;
        wd->equal_to = 1;
        f->with_deactivated = wd;
        any = true;
    }
    if (rn(8) == 0) {
        Roster__V1__IdFilter *idf = roster_arena_alloc(&fx_arena, sizeof *idf);
        roster__v1__id_filter__init(idf);
        if (rn(2) == 0) {
            idf->equal_to = user_ids[rn(N_IDS)];
        } else {
            /* valueIn: PostgreSQL reads these by primary key (= ANY). */
            Roster__V1__StringList *l = roster_arena_alloc(&fx_arena, sizeof *l);
            roster__v1__string_list__init(l);
            l->n_values = (size_t)rn(4);
            l->values = roster_arena_alloc(&fx_arena, (l->n_values + 1) * sizeof *l->values);
            for (size_t i = 0; i < l->n_values; i++)
                l->values[i] = user_ids[rn(N_IDS)];
            idf->value_in = l;
        }
        f->id = idf;
        any = true;
    }
    if (rn(4) == 0) {
        f->n_custom_data = 1 + (size_t)rn(2);
        f->custom_data = roster_arena_alloc(&fx_arena, f->n_custom_data * sizeof *f->custom_data);
        for (size_t i = 0; i < f->n_custom_data; i++)
            f->custom_data[i] = random_custom_condition();
        any = true;
    }
    if (any)
        req->filter = f;
    if (rn(5) == 0) {
        Roster__V1__UserSearch *s = roster_arena_alloc(&fx_arena, sizeof *s);
        roster__v1__user_search__init(s);
        s->value = (char *)PICK(searches);
        s->has_key = 1;
        s->key = (Roster__V1__UserSearchKey)(1 + rn(3));
        req->search = s;
    }
    if (rn(4)) {
        Roster__V1__UserOrder *o = roster_arena_alloc(&fx_arena, sizeof *o);
        roster__v1__user_order__init(o);
        if (rn(4) == 0)
            o->custom_data = rn(40) ? (char *)decl_path(rn(N_DECL)) : "colour";
        else {
            o->has_sort = 1;
            o->sort = PICK(sorts);
        }
        o->has_order = 1;
        o->order = rn(2) ? ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC
                         : ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
        req->order = o;
    }
    req->has_limit = rn(4) > 0;
    req->limit = rn(8) == 0 ? 0 : 1 + rn(12);
    if (rn(40) == 0)
        req->limit = rn(2) ? -1 : 5000; /* refused, naming "limit" */
    if (rn(4) == 0) {
        req->has_offset = 1;
        req->offset = rn(10);
    }
}

/* Runs req on both and compares; *cursor gets the end cursor (arena) to
 * continue from, NULL when none. */
static void list_same(store_rtxn *lr, pgstore_rtxn *pr, const roster_uuid *scope,
                      const Roster__V1__ListUsersRequest *req, const char **cursor)
{
    store_page a, b;
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_list_raw(lr, scope, req, &fx_arena, &a, &dl);
    int ep = pgstore_user_list_raw(pr, scope, req, &fx_arena, &b, &dp);
    ck_assert_msg(el == ep, "list: lmdb %d pg %d (%s / %s)", el, ep, dl.message, dp.message);
    *cursor = NULL;
    if (el != ROSTER_E_OK) {
        n_errs++;
        detail_same(el, &dl, &dp);
        return;
    }
    n_ok_lists++;
    n_items += (long)a.n;
    if ((req->filter && req->filter->n_custom_data) || (req->order && req->order->custom_data)) {
        n_custom_lists++;
        n_custom_items += (long)a.n;
    }
    if (req->after)
        n_walk_cursor++;
    ck_assert_int_eq(a.total_count, b.total_count);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert_int_eq(a.has_next_page, b.has_next_page);
    for (size_t i = 0; i < a.n; i++)
        record_same(a.items[i].data, a.items[i].len, b.items[i].data, b.items[i].len);
    if (a.end_cursor == NULL || b.end_cursor == NULL)
        ck_assert_ptr_eq(a.end_cursor, b.end_cursor);
    else
        ck_assert_str_eq(a.end_cursor, b.end_cursor);
    *cursor = a.end_cursor;
}

static void op_list(void)
{
    store_rtxn *lr;
    pgstore_rtxn *pr;
    ck_assert_int_eq(store_read_begin(fx_store, &lr), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_read_begin(pg, &pr), ROSTER_E_OK);
    Roster__V1__ListUsersRequest req;
    random_list_request(&req);
    const roster_uuid *scope = pick_scope();
    const char *cursor;
    list_same(lr, pr, scope, &req, &cursor);
    /* Follow the cursor a few pages (offset dropped: a cursor with an
     * offset is refused, which the first request may also check). */
    for (int i = 0; i < 3 && cursor && req.limit > 0; i++) {
        req.has_offset = rn(10) == 0; /* now and then refused: "after" with an offset */
        req.after = (char *)cursor;
        list_same(lr, pr, scope, &req, &cursor);
    }
    store_read_end(lr);
    pgstore_read_end(pr);
}

/* One round: a group of random writes (committed, or now and then
 * aborted on both sides), then a dozen random lists compared. */
static void round_once(void)
{
    store_wtxn *lw;
    pgstore_wtxn *pw;
    ck_assert_int_eq(store_write_begin(fx_store, &lw), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_begin(pg, &pw), ROSTER_E_OK);
    int ops = 1 + rn(25);
    for (int i = 0; i < ops; i++) {
        int k = rn(10);
        if (k < 6)
            op_restore(lw, pw);
        else if (k < 9)
            op_update(lw, pw);
        else
            op_delete(lw, pw);
    }
    if (rn(8) == 0) {
        store_write_abort(lw);
        pgstore_write_abort(pw);
    } else {
        ck_assert_int_eq(store_write_commit(lw), ROSTER_E_OK);
        ck_assert_int_eq(pgstore_write_commit(pw), ROSTER_E_OK);
    }
    for (int i = 0; i < 12; i++)
        op_list();
    roster_arena_reset(&fx_arena);
}

static void seed_rng(void)
{
    const char *seed = getenv("ROSTER_DIFF_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : 0x5eed2026ull;
}

/* The PostgreSQL store's verify finds nothing. */
static void pg_verify_clean(void)
{
    pgstore_rtxn *r;
    uint64_t issues = 1;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    pgstore_read_end(r);
    ck_assert_uint_eq(issues, 0);
}

START_TEST(backends_agree)
{
    seed_rng();
    for (int round = 0; round < 150; round++)
        round_once();
    fprintf(stderr,
            "lists ok %ld items %ld errors %ld after-cursor %ld customData lists %ld items %ld "
            "users %ld\n",
            n_ok_lists, n_items, n_errs, n_walk_cursor, n_custom_lists, n_custom_items,
            pgfx_sql("SELECT count(*) FROM roster_users"));
    /* The run compared real pages, cursors and refusals, not empty ones. */
    ck_assert_int_gt(n_items, 5000);
    ck_assert_int_gt(n_custom_items, 1000);
    ck_assert_int_gt(n_walk_cursor, 500);
    ck_assert_int_gt(n_errs, 10);
    /* The counters agree with the rows, and the entries with the records. */
    ck_assert_int_eq(pgfx_sql("SELECT sum(users) FROM roster_counts"),
                     pgfx_sql("SELECT count(*) FROM roster_users"));
    ck_assert_int_gt(pgfx_sql("SELECT count(*) FROM roster_custom"), 100);
    pg_verify_clean();
}
END_TEST

/* The PostgreSQL indexes declared once users exist: built a few steps per
 * round while writes and lists go on, answers the same before, during and
 * after. */
START_TEST(backends_agree_while_building)
{
    seed_rng();
    /* Reopened declaring none (the indexes and their entries dropped),
     * then declaring them again: recorded as building, not built. */
    pgstore_close(pg);
    pg_open(NULL, 0);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_custom_decl"), 0);
    pgstore_close(pg);
    pg_open(decl, N_DECL);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_custom_decl WHERE NOT ready"), N_DECL);
    /* Answered from the rows while nothing is built (writes keep the
     * entries of the users they write meanwhile). */
    for (int round = 0; round < 30; round++)
        round_once();
    pgstore_build *b;
    ck_assert_int_eq(pgstore_build_new(&b, pg), ROSTER_E_OK);
    ck_assert_ptr_nonnull(b);
    bool done = false;
    int rounds_building = 0;
    for (int round = 0; round < 60; round++) {
        for (int i = 0; i < 2 && !done; i++)
            ck_assert_int_eq(pgstore_build_step(b, 20, &done), ROSTER_E_OK);
        rounds_building += !done;
        round_once();
    }
    pgstore_build_free(b);
    ck_assert(done);
    ck_assert_int_gt(rounds_building, 5);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_custom_decl WHERE NOT ready"), 0);
    pg_verify_clean();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_diff");
    TCase *tc = tcase_create("diff");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, backends_agree);
    tcase_add_test(tc, backends_agree_while_building);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
