/* customData indexes: each type's order, ranges, valueIn, missing and
 * wrong-type values left out, updates moving entries, verify finding a
 * missing or corrupted entry, declaring over existing users, undeclaring
 * and retyping, argument errors naming the path, tenant scope, and the
 * same answers from a scan. */
#include "model.h"
#include "store_fixture.h"

#include <lmdb.h>

static const char *decl_all[] = {"plan:string", "billing.seats:integer", "score:number",
                                 "vip:boolean", "since:date"};
#define N_DECL_ALL 5

static void open_declared(const char *const *specs, size_t n, bool scan)
{
    store_options o = {.no_sync = true,
                       .map_size = (uint64_t)1 << 30,
                       .custom_index = specs,
                       .n_custom_index = n,
                       .declare_custom_index = true,
                       .custom_index_scan = scan};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
    /* declared indexes are built online: run the build to its end */
    store_index_build *b;
    bool done = false;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    while (b != NULL && !done)
        ck_assert_int_eq(store_index_build_step(b, 7, &done), ROSTER_E_OK);
    store_index_build_free(b);
}

static void reopen(const char *const *specs, size_t n, bool scan)
{
    store_close(fx_store);
    fx_store = NULL;
    open_declared(specs, n, scan);
}

static void setup(void)
{
    fx_mkdtemp(fx_dir, sizeof fx_dir, "/tmp/roster-cdidx-test-");
    open_declared(decl_all, N_DECL_ALL, false);
    roster_arena_init(&fx_arena, 0, 0);
}

static char uid[16][37];

/* Creates user `ref` (in tenant, may be NULL) with customData `json`. */
static void mk(int i, const char *ref, const char *tenant, const char *json)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    char email[64];
    snprintf(email, sizeof email, "%s@x.io", ref);
    req.reference = (char *)ref;
    req.email = email;
    req.tenant_id = (char *)tenant;
    req.custom_data = (char *)json;
    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_msg(store_user_create(w, NULL, &req, &fx_arena, &u, &d) == ROSTER_E_OK, "%s",
                  d.message);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    snprintf(uid[i], sizeof uid[i], "%s", u->id);
}

static void set_custom(int i, const char *json)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = uid[i];
    up.custom_data = (char *)json;
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

typedef struct cond_spec {
    const char *path, *eq, *neq, *lt, *lte, *gt, *gte;
    const char *in[4];
} cond_spec;

/* Lists with conditions c[nc], ordered by customData path `order` (NULL:
 * default order) ascending unless desc; returns the references joined by
 * "," and the total in *total; the error in *err. */
static const char *list(const roster_uuid *scope, const cond_spec *c, size_t nc, const char *order,
                        bool desc, int limit, int offset, int64_t *total, int *err,
                        roster_err_detail *d)
{
    static char out[512];
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__CustomDataCondition cc[4], *cp[4];
    for (size_t i = 0; i < nc; i++) {
        roster__v1__custom_data_condition__init(&cc[i]);
        cc[i].path = (char *)c[i].path;
        cc[i].equal_to = (char *)c[i].eq;
        cc[i].not_equal_to = (char *)c[i].neq;
        cc[i].less_than = (char *)c[i].lt;
        cc[i].less_than_equal = (char *)c[i].lte;
        cc[i].more_than = (char *)c[i].gt;
        cc[i].more_than_equal = (char *)c[i].gte;
        size_t n = 0;
        while (n < 4 && c[i].in[n])
            n++;
        cc[i].n_value_in = n;
        cc[i].value_in = (char **)c[i].in;
        cp[i] = &cc[i];
    }
    f.n_custom_data = nc;
    f.custom_data = cp;
    req.filter = &f;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    if (order) {
        o.custom_data = (char *)order;
        o.has_order = 1;
        o.order =
            desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
        req.order = &o;
    } else {
        /* createdAt ascending: creation order */
        o.has_order = 1;
        o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
        req.order = &o;
    }
    req.has_limit = 1;
    req.limit = limit;
    req.has_offset = 1;
    req.offset = offset;
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListUsersResponse *resp = NULL;
    *err = store_user_list(r, scope, &req, &fx_arena, &resp, d);
    out[0] = 0;
    if (*err == ROSTER_E_OK) {
        *total = resp->total_count;
        for (size_t i = 0; i < resp->n_users; i++) {
            if (i)
                strcat(out, ",");
            strcat(out, resp->users[i]->reference);
        }
    }
    store_read_end(r);
    return out;
}

static const char *ok_list(const cond_spec *c, size_t nc, const char *order, bool desc,
                           int64_t want_total)
{
    int64_t total = -1;
    int err;
    roster_err_detail d = {0};
    const char *s = list(NULL, c, nc, order, desc, 100, 0, &total, &err, &d);
    ck_assert_msg(err == ROSTER_E_OK, "list failed: %s", d.message);
    ck_assert_int_eq(total, want_total);
    return s;
}

static void seed(void)
{
    mk(0, "a", NULL,
       "{\"plan\":\"pro\",\"billing\":{\"seats\":10},\"score\":2.5,\"vip\":true,"
       "\"since\":\"2024-01-02T00:00:00Z\"}");
    mk(1, "b", NULL,
       "{\"plan\":\"Pro\",\"billing\":{\"seats\":-3},\"score\":-1,\"vip\":false,"
       "\"since\":\"2023-06-01T12:00:00.5Z\"}");
    mk(2, "c", NULL, "{\"plan\":\"basic\",\"billing\":{\"seats\":1000000000000},\"score\":0}");
    mk(3, "d", NULL, "{\"plan\":7,\"billing\":{\"seats\":1.5},\"score\":\"x\",\"vip\":1}");
    mk(4, "e", NULL, NULL);
    mk(5, "f", NULL, "{\"plan\":\"pro\",\"billing\":5,\"score\":1e3,\"since\":\"yesterday\"}");
}

START_TEST(types_order_and_missing_values)
{
    seed();
    ck_assert_str_eq(ok_list(NULL, 0, "plan", false, 4), "b,c,a,f");
    ck_assert_str_eq(ok_list(NULL, 0, "plan", true, 4), "f,a,c,b");
    ck_assert_str_eq(ok_list(NULL, 0, "billing.seats", false, 3), "b,a,c");
    ck_assert_str_eq(ok_list(NULL, 0, "billing.seats", true, 3), "c,a,b");
    ck_assert_str_eq(ok_list(NULL, 0, "score", false, 4), "b,c,a,f");
    ck_assert_str_eq(ok_list(NULL, 0, "vip", false, 2), "b,a");
    ck_assert_str_eq(ok_list(NULL, 0, "since", false, 2), "b,a");
    /* paging through an index walk */
    int64_t total;
    int err;
    ck_assert_str_eq(list(NULL, NULL, 0, "plan", false, 2, 1, &total, &err, NULL), "c,a");
    ck_assert_int_eq(total, 4);
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

START_TEST(conditions_ranges_and_value_in)
{
    seed();
    cond_spec c = {.path = "plan", .eq = "\"pro\""};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "a,f");
    c = (cond_spec){.path = "plan", .neq = "\"pro\""};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "b,c");
    c = (cond_spec){.path = "plan", .in = {"\"basic\"", "\"Pro\"", "\"none\""}};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "b,c");
    c = (cond_spec){.path = "billing.seats", .gte = "10"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "a,c");
    c = (cond_spec){.path = "billing.seats", .gt = "10"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "c");
    c = (cond_spec){.path = "billing.seats", .gt = "-3", .lte = "10"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "a");
    c = (cond_spec){.path = "billing.seats", .lt = "10"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "b");
    c = (cond_spec){.path = "score", .gte = "0", .lt = "1000"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "a,c");
    c = (cond_spec){.path = "score", .lte = "1e3", .gt = "2.5"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "f");
    c = (cond_spec){.path = "since", .lt = "\"2024-01-01T00:00:00Z\""};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "b");
    c = (cond_spec){.path = "vip", .eq = "true"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "a");
    /* two conditions ANDed; ordered by a third path */
    cond_spec two[2] = {{.path = "plan", .in = {"\"pro\"", "\"basic\""}},
                        {.path = "score", .gte = "0"}};
    ck_assert_str_eq(ok_list(two, 2, "score", true, 3), "f,a,c");
    ck_assert_str_eq(ok_list(two, 2, NULL, false, 3), "a,c,f");
    /* a condition nothing meets */
    c = (cond_spec){.path = "billing.seats", .gt = "10", .lt = "5"};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 0), "");
}
END_TEST

START_TEST(updates_move_entries)
{
    seed();
    set_custom(0, "{\"plan\":\"basic\",\"billing\":{\"seats\":3}}");
    set_custom(4, "{\"plan\":\"zeta\"}");
    cond_spec c = {.path = "plan", .eq = "\"pro\""};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 1), "f");
    c = (cond_spec){.path = "plan", .eq = "\"basic\""};
    ck_assert_str_eq(ok_list(&c, 1, NULL, false, 2), "a,c");
    ck_assert_str_eq(ok_list(NULL, 0, "billing.seats", false, 3), "b,a,c");
    ck_assert_str_eq(ok_list(NULL, 0, "vip", false, 1), "b");
    ck_assert_str_eq(ok_list(NULL, 0, "plan", true, 5), "e,f,c,a,b");
    /* deactivating moves the flags: a deactivated user is left out */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = uid[4];
    up.has_active = 1;
    up.active = 0;
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_str_eq(ok_list(NULL, 0, "plan", true, 4), "f,c,a,b");
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

/* Closes fx_store and applies fn to database `db` with bare LMDB (left
 * closed). */
static void edit_db(const char *db, void (*fn)(MDB_txn *, MDB_dbi))
{
    store_close(fx_store);
    fx_store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, MDB_NOTLS, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
    fn(txn, dbi);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void corrupt(void (*fn)(MDB_txn *, MDB_dbi))
{
    edit_db("idx_custom", fn);
    open_declared(decl_all, N_DECL_ALL, false);
}

static void delete_first(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    MDB_val k, v;
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
    ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
}

static void change_value(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    MDB_val k, v;
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
    uint8_t key[512];
    memcpy(key, k.mv_data, k.mv_size);
    size_t n = k.mv_size;
    ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
    key[n - 17] ^= 0x01; /* last byte of the value */
    MDB_val nk = {n, key}, nv = {1, (uint8_t[]){0}};
    ck_assert_int_eq(mdb_put(txn, dbi, &nk, &nv, 0), 0);
}

static void count_kinds(void *ctx, const store_issue *is)
{
    int *k = ctx;
    ck_assert_str_eq(is->db, "idx_custom");
    k[is->kind]++;
}

START_TEST(verify_finds_missing_and_corrupted_entries)
{
    seed();
    ck_assert_uint_eq(fx_verify_issues(), 0);
    corrupt(delete_first);
    int kinds[16] = {0};
    store_rtxn *r;
    uint64_t n;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, count_kinds, kinds, &n), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(kinds[STORE_ISSUE_MISSING_ENTRY], 1);
    corrupt(change_value);
    memset(kinds, 0, sizeof kinds);
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, count_kinds, kinds, &n), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_int_eq(kinds[STORE_ISSUE_MISSING_ENTRY], 2);
    ck_assert_int_ge(kinds[STORE_ISSUE_STALE_ENTRY], 1);
}
END_TEST

static size_t custom_entries(void)
{
    store_rtxn *r;
    store_stats st;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    store_read_end(r);
    for (size_t i = 0; i < st.n_dbs; i++)
        if (strcmp(st.dbs[i].name, "idx_custom") == 0)
            return st.dbs[i].entries;
    ck_abort_msg("no idx_custom in stats");
    return 0;
}

START_TEST(declare_builds_undeclare_drops_retype_rebuilds)
{
    reopen(NULL, 0, false);
    for (int i = 0; i < 30; i++) {
        char ref[8], js[64];
        snprintf(ref, sizeof ref, "r%02d", i);
        snprintf(js, sizeof js, "{\"n\":%d,\"t\":\"%d\"}", 30 - i, i % 3);
        mk(i % 16, ref, NULL, js);
    }
    ck_assert_uint_eq(custom_entries(), 0);
    const char *one[] = {"n:integer"};
    reopen(one, 1, false);
    ck_assert_uint_eq(custom_entries(), 60);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    int64_t total;
    int err;
    cond_spec c = {.path = "n", .lte = "3"};
    ck_assert_str_eq(list(NULL, &c, 1, "n", false, 10, 0, &total, &err, NULL), "r29,r28,r27");
    ck_assert_int_eq(total, 3);
    /* offline opens keep what is recorded */
    store_close(fx_store);
    fx_open();
    ck_assert_uint_eq(custom_entries(), 60);
    /* retyped: n is a string nowhere, t everywhere */
    const char *two[] = {"n:string", "t:string"};
    reopen(two, 2, false);
    ck_assert_uint_eq(custom_entries(), 60);
    c = (cond_spec){.path = "t", .eq = "\"1\""};
    list(NULL, &c, 1, NULL, false, 100, 0, &total, &err, NULL);
    ck_assert_int_eq(err, ROSTER_E_OK);
    ck_assert_int_eq(total, 10);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    reopen(NULL, 0, false);
    ck_assert_uint_eq(custom_entries(), 0);
    roster_err_detail d = {0};
    list(NULL, &c, 1, NULL, false, 10, 0, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "\"t\""));
}
END_TEST

START_TEST(argument_errors_name_the_path)
{
    seed();
    int64_t total;
    int err;
    roster_err_detail d = {0};
    cond_spec c = {.path = "nope.x", .eq = "1"};
    list(NULL, &c, 1, NULL, false, 10, 0, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.customData");
    ck_assert_ptr_nonnull(strstr(d.message, "nope.x"));
    const char *bad[][2] = {{"billing.seats", "\"x\""}, {"billing.seats", "1.5"}, {"plan", "3"},
                            {"vip", "\"true\""},        {"since", "\"monday\""},  {"score", "nul"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&d, 0, sizeof d);
        c = (cond_spec){.path = bad[i][0], .gte = bad[i][1]};
        list(NULL, &c, 1, NULL, false, 10, 0, &total, &err, &d);
        ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
        ck_assert_msg(strstr(d.message, bad[i][0]) != NULL, "%s", d.message);
    }
    memset(&d, 0, sizeof d);
    list(NULL, NULL, 0, "nope", false, 10, 0, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "order.customData");
    ck_assert_ptr_nonnull(strstr(d.message, "nope"));
}
END_TEST

START_TEST(tenant_scope_and_scan_agree)
{
    char *t1 = fx_tenant("one", false), *t2 = fx_tenant("two", false);
    mk(0, "a", t1, "{\"plan\":\"pro\",\"billing\":{\"seats\":1}}");
    mk(1, "b", t2, "{\"plan\":\"pro\",\"billing\":{\"seats\":2}}");
    mk(2, "c", t1, "{\"plan\":\"pro\",\"billing\":{\"seats\":3}}");
    mk(3, "d", NULL, "{\"plan\":\"pro\",\"billing\":{\"seats\":4}}");
    roster_uuid scope;
    ck_assert_int_eq(roster_uuid_parse(&scope, t1, strlen(t1)), ROSTER_E_OK);
    for (int scan = 0; scan < 2; scan++) {
        reopen(decl_all, N_DECL_ALL, scan);
        int64_t total;
        int err;
        cond_spec c = {.path = "plan", .eq = "\"pro\""};
        ck_assert_str_eq(list(&scope, &c, 1, NULL, false, 10, 0, &total, &err, NULL), "a,c");
        ck_assert_int_eq(total, 2);
        ck_assert_str_eq(list(&scope, NULL, 0, "billing.seats", true, 10, 0, &total, &err, NULL),
                         "c,a");
        ck_assert_int_eq(total, 2);
        ck_assert_str_eq(ok_list(&c, 1, NULL, false, 4), "a,b,c,d");
        c = (cond_spec){.path = "billing.seats", .gte = "2"};
        ck_assert_str_eq(ok_list(&c, 1, "billing.seats", true, 3), "d,c,b");
        ck_assert_str_eq(list(&scope, &c, 1, NULL, false, 10, 0, &total, &err, NULL), "c");
        ck_assert_int_eq(total, 1);
    }
}
END_TEST

/* Lists with one condition (or none) and createdAt in the order asked,
 * after cursor `after` (NULL: none); fills the references into out, and
 * has_next_page and the end cursor (arena) into *next and *end when given. */
static void list_created_after(const cond_spec *c, bool desc, int limit, int offset,
                               const char *after, char *out, int64_t *total, bool *next,
                               const char **end)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__CustomDataCondition cc = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT, *cp = &cc;
    cc.path = (char *)c->path;
    cc.equal_to = (char *)c->eq;
    cc.more_than_equal = (char *)c->gte;
    size_t n = 0;
    while (n < 4 && c->in[n])
        n++;
    cc.n_value_in = n;
    cc.value_in = (char **)c->in;
    f.n_custom_data = 1;
    f.custom_data = &cp;
    req.filter = &f;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_order = 1;
    o.order =
        desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    req.has_limit = req.has_offset = 1;
    req.limit = limit;
    req.offset = offset;
    req.has_offset = after == NULL;
    req.after = (char *)after;
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListUsersResponse *resp;
    roster_err_detail d = {0};
    ck_assert_msg(store_user_list(r, NULL, &req, &fx_arena, &resp, &d) == ROSTER_E_OK, "%s",
                  d.message);
    *total = resp->total_count;
    if (next)
        *next = resp->page_info->has_next_page;
    if (end)
        *end = resp->page_info->end_cursor;
    out[0] = 0;
    for (size_t i = 0; i < resp->n_users; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, resp->users[i]->reference);
    }
    store_read_end(r);
}

static void list_created(const cond_spec *c, bool desc, int limit, int offset, char *out,
                         int64_t *total)
{
    list_created_after(c, desc, limit, offset, NULL, out, total, NULL, NULL);
}

START_TEST(pages_in_both_orders)
{
    /* 40 users, seats (7 i) mod 40 (all different), plan "x" for even i;
     * user 12 deactivated. */
    for (int i = 0; i < 40; i++) {
        char ref[8], js[64];
        snprintf(ref, sizeof ref, "r%02d", i);
        snprintf(js, sizeof js, "{\"plan\":\"%s\",\"billing\":{\"seats\":%d}}", i % 2 ? "y" : "x",
                 (7 * i) % 40);
        mk(i % 16, ref, NULL, js);
        if (i == 12) {
            store_wtxn *w;
            ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
            Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
            up.id = uid[i % 16];
            up.has_active = 1;
            up.active = 0;
            ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
            ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
        }
    }
    const cond_spec conds[] = {{.path = "billing.seats", .gte = "10"},
                               {.path = "plan", .eq = "\"x\""},
                               {.path = "plan", .in = {"\"x\"", "\"x\""}},
                               {.path = "billing.seats", .in = {"30", "3", "10", "30"}}};
    for (size_t ci = 0; ci < sizeof conds / sizeof conds[0]; ci++) {
        int match[40], m = 0;
        for (int i = 0; i < 40; i++) {
            int seats = (7 * i) % 40;
            bool ok = ci == 0   ? seats >= 10
                      : ci == 3 ? seats == 30 || seats == 3 || seats == 10
                                : i % 2 == 0;
            if (ok && i != 12)
                match[m++] = i;
        }
        for (int desc = 0; desc < 2; desc++)
            for (int off = 0; off < 3; off++) {
                int offset = off * 3, limit = off == 2 ? 100 : 5;
                char want[512] = "", got[512];
                for (int j = offset; j < m && j < offset + limit; j++) {
                    char ref[8];
                    snprintf(ref, sizeof ref, "%sr%02d", want[0] ? "," : "",
                             match[desc ? m - 1 - j : j]);
                    strcat(want, ref);
                }
                int64_t total;
                list_created(&conds[ci], desc, limit, offset, got, &total);
                ck_assert_int_eq(total, m);
                ck_assert_msg(strcmp(got, want) == 0, "cond %zu desc %d offset %d: %s, want %s", ci,
                              desc, offset, got, want);
            }
        /* Page by page through end cursors, 3 at a time: every match once,
         * in order, has_next_page until the last page. (One condition and
         * the default order answer from the index entries alone.) */
        for (int desc = 0; desc < 2; desc++) {
            char want[512] = "", walked[512] = "";
            for (int j = 0; j < m; j++) {
                char ref[8];
                snprintf(ref, sizeof ref, "%sr%02d", want[0] ? "," : "",
                         match[desc ? m - 1 - j : j]);
                strcat(want, ref);
            }
            const char *after = NULL;
            int pages = 0;
            for (bool next = true; next; pages++) {
                ck_assert_int_lt(pages, 40);
                char got[512];
                int64_t total;
                list_created_after(&conds[ci], desc, 3, 0, after, got, &total, &next, &after);
                ck_assert_int_eq(total, m);
                if (got[0] && walked[0])
                    strcat(walked, ",");
                strcat(walked, got);
            }
            ck_assert_int_eq(pages, (m + 2) / 3);
            ck_assert_msg(strcmp(walked, want) == 0, "cond %zu desc %d by cursor: %s, want %s", ci,
                          desc, walked, want);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ global
 * orders */

/* Opens fx_store declaring global orders orders[n] and customData
 * indexes specs[nc], built to the end. */
static void open_orders(const char *const *orders, size_t n, const char *const *specs, size_t nc)
{
    store_close(fx_store);
    fx_store = NULL;
    roster_err_detail d = {0};
    store_options o = {.no_sync = true,
                       .map_size = (uint64_t)1 << 30,
                       .custom_index = specs,
                       .n_custom_index = nc,
                       .global_order = orders,
                       .n_global_order = n,
                       .declare_custom_index = true,
                       .detail = &d};
    ck_assert_msg(store_open(&fx_store, fx_dir, &o) == ROSTER_E_OK, "%s", d.message);
    store_index_build *b;
    bool done = false;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    while (b != NULL && !done)
        ck_assert_int_eq(store_index_build_step(b, 5, &done), ROSTER_E_OK);
    store_index_build_free(b);
}

/* store_read_merged of all_by_email's last page: tenants merged, field. */
static size_t last_merged;
static int last_merged_sort;

/* The users a caller of `scope` (NULL: every tenant) sees, by email (desc
 * or not), `limit` a page, following cursors to the end: the references
 * joined by ",", and the first page's total in *total. */
static const char *by_email(const roster_uuid *scope, bool desc, int limit, int64_t *total)
{
    static char out[2048];
    out[0] = 0;
    const char *after = NULL;
    *total = -1;
    for (;;) {
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        Roster__V1__ListUsersRequest lr = ROSTER__V1__LIST_USERS_REQUEST__INIT;
        Roster__V1__UserOrder ord = ROSTER__V1__USER_ORDER__INIT;
        ord.has_sort = 1;
        ord.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
        ord.has_order = 1;
        ord.order =
            desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
        lr.order = &ord;
        lr.has_limit = 1;
        lr.limit = (uint32_t)limit;
        lr.after = (char *)after;
        Roster__V1__ListUsersResponse *resp;
        roster_err_detail d = {0};
        ck_assert_msg(store_user_list(r, scope, &lr, &fx_arena, &resp, &d) == ROSTER_E_OK, "%s",
                      d.message);
        last_merged = store_read_merged(r, &last_merged_sort);
        store_read_end(r);
        if (*total < 0)
            *total = resp->total_count;
        for (size_t i = 0; i < resp->n_users; i++) {
            strcat(out, out[0] ? "," : "");
            strcat(out, resp->users[i]->reference);
        }
        if (!resp->page_info->has_next_page)
            return out;
        after = roster_arena_strndup(&fx_arena, resp->page_info->end_cursor,
                                     strlen(resp->page_info->end_cursor));
    }
}

static const char *all_by_email(bool desc, int limit, int64_t *total)
{
    return by_email(NULL, desc, limit, total);
}

/* Keeps the first issue as "db: message" (ctx: 512 bytes). */
static void first_issue(void *ctx, const store_issue *is)
{
    char *first = ctx;
    if (first[0] == 0)
        snprintf(first, 512, "%s: %s", is->db, is->message);
}

/* Deletes the first entry of idx_custom whose index id is 2. */
static void delete_first_of_id2(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    uint8_t two = 2;
    MDB_val k = {1, &two}, v;
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE), 0);
    ck_assert_uint_eq(((const uint8_t *)k.mv_data)[0], 2);
    ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
}

/* A global order: one entry per user, used by every tenant's order by its
 * field (the same pages and cursors as the merge of the tenants' ranges,
 * both directions), beside a customData path of the same name; verify
 * finds a missing entry and names it; undeclared, its entries go. Bad
 * declarations name "global-order". */
START_TEST(global_orders_kept_walked_dropped)
{
    reopen(NULL, 0, false);
    const char *tenants[3] = {NULL, fx_tenant("ta", false), fx_tenant("tb", false)};
    for (int i = 0; i < 12; i++) {
        char ref[8], js[32];
        /* emails out of creation order, over three scopes */
        snprintf(ref, sizeof ref, "r%02d", (i * 7) % 12);
        snprintf(js, sizeof js, "{\"email\":\"z%d\"}", i % 2);
        mk(i, ref, tenants[i % 3], js);
    }
    int64_t total;
    char merged_asc[2048], merged_desc[2048];
    snprintf(merged_asc, sizeof merged_asc, "%s", all_by_email(false, 5, &total));
    snprintf(merged_desc, sizeof merged_desc, "%s", all_by_email(true, 5, &total));
    ck_assert_str_eq(merged_asc, "r00,r01,r02,r03,r04,r05,r06,r07,r08,r09,r10,r11");
    /* The merge is reported: three scopes (none, ta, tb), by email. */
    ck_assert_uint_eq(last_merged, 3);
    ck_assert_int_eq(last_merged_sort, MODEL_USER_email);
    const char *orders[] = {"email"}, *specs[] = {"email:string"};
    open_orders(orders, 1, specs, 1);
    /* 12 global entries, and two per user for customData email */
    ck_assert_uint_eq(custom_entries(), 12 + 24);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    ck_assert_str_eq(all_by_email(false, 5, &total), merged_asc);
    ck_assert_int_eq(total, 12);
    ck_assert_uint_eq(last_merged, 0); /* one range: the global order */
    ck_assert_int_eq(last_merged_sort, -1);
    ck_assert_str_eq(all_by_email(true, 5, &total), merged_desc);
    /* Kept by writes: an update moves the user in the order. */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = uid[0]; /* r00 */
    up.email = "zz@x.io";
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_str_eq(all_by_email(false, 5, &total),
                     "r01,r02,r03,r04,r05,r06,r07,r08,r09,r10,r11,r00");
    /* The customData path of the same name is its own index. */
    int err;
    cond_spec c = {.path = "email", .eq = "\"z1\""};
    list(NULL, &c, 1, NULL, false, 20, 0, &total, &err, NULL);
    ck_assert_int_eq(err, ROSTER_E_OK);
    ck_assert_int_eq(total, 6);
    /* A missing global entry is found and named. */
    edit_db("idx_custom", delete_first_of_id2);
    fx_open(); /* offline: the recorded set, kept */
    char first[512] = "";
    store_rtxn *r;
    uint64_t n;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, first_issue, first, &n), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(strstr(first, "no entry of global order email") != NULL, "%s", first);
    /* Undeclared: dropped with its entries; the merge answers the same. */
    open_orders(NULL, 0, specs, 1);
    ck_assert_uint_eq(custom_entries(), 24);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    ck_assert_str_eq(all_by_email(false, 5, &total),
                     "r01,r02,r03,r04,r05,r06,r07,r08,r09,r10,r11,r00");
    ck_assert_uint_eq(last_merged, 3);
    /* Lists that walk one range report none: one tenant's, and every
     * tenant's in createdAt order (the records). */
    roster_uuid ta;
    ck_assert_int_eq(roster_uuid_parse(&ta, tenants[1], strlen(tenants[1])), ROSTER_E_OK);
    ck_assert_str_eq(by_email(&ta, false, 20, &total), "r01,r04,r07,r10");
    ck_assert_uint_eq(last_merged, 0);
    ck_assert_int_eq(last_merged_sort, -1);
    store_rtxn *rm;
    ck_assert_int_eq(store_read_begin(fx_store, &rm), ROSTER_E_OK);
    Roster__V1__ListUsersRequest lr = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__ListUsersResponse *resp;
    ck_assert_int_eq(store_user_list(rm, NULL, &lr, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(resp->n_users, 12);
    ck_assert_uint_eq(store_read_merged(rm, NULL), 0);
    store_read_end(rm);
    /* Bad declarations. */
    store_close(fx_store);
    fx_store = NULL;
    const char *bad[][2] = {
        {"createdAt", NULL}, {"avatarUrl", NULL}, {"nope", NULL}, {"lastName", "lastName"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        roster_err_detail d = {0};
        store_options o = {.global_order = bad[i],
                           .n_global_order = bad[i][1] ? 2 : 1,
                           .declare_custom_index = true,
                           .detail = &d};
        ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "global-order");
        ck_assert_msg(strstr(d.message, bad[i][0]) != NULL, "%s", d.message);
    }
    fx_open();
}
END_TEST

/* A list request ordered by `sort` (a UserSortField) in the default
 * direction; tenant: a tenantId equalTo condition, or NULL. */
static Roster__V1__ListUsersRequest sorted_request(int sort, Roster__V1__UserOrder *ord,
                                                   Roster__V1__UserFilter *f,
                                                   Roster__V1__IdFilter *tf, const char *tenant)
{
    Roster__V1__ListUsersRequest lr = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    roster__v1__user_order__init(ord);
    ord->has_sort = 1;
    ord->sort = (Roster__V1__UserSortField)sort;
    lr.order = ord;
    if (tenant != NULL) {
        roster__v1__user_filter__init(f);
        roster__v1__id_filter__init(tf);
        tf->equal_to = (char *)tenant;
        f->tenant_id = tf;
        lr.filter = f;
    }
    return lr;
}

/* store_user_list_scans sends a page that merges every tenant's range to
 * the scan threads once a merge walked STORE_MERGE_SCAN_SCOPES tenants:
 * not before one did, not for one tenant's page, createdAt, or an order
 * with a built global order. */
START_TEST(large_merges_go_to_the_scan_threads)
{
    reopen(NULL, 0, false);
    const int n = STORE_MERGE_SCAN_SCOPES;
    char(*tids)[37] = malloc((size_t)n * sizeof *tids);
    ck_assert_ptr_nonnull(tids);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        Roster__V1__CreateTenantRequest tr = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
        tr.name = name;
        Roster__V1__Tenant *t;
        ck_assert_int_eq(store_tenant_create(w, NULL, &tr, &fx_arena, &t, NULL), ROSTER_E_OK);
        snprintf(tids[i], sizeof tids[i], "%s", t->id);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < n; i++) {
        char ref[16], email[32];
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, "%s@x.io", ref);
        Roster__V1__CreateUserRequest ur = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        ur.reference = ref;
        ur.email = email;
        ur.tenant_id = tids[i];
        ck_assert_int_eq(store_user_create(w, NULL, &ur, &fx_arena, NULL, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);

    const int email = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
    const int created = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT;
    Roster__V1__UserOrder ord;
    Roster__V1__UserFilter f;
    Roster__V1__IdFilter tf;
    Roster__V1__ListUsersRequest all = sorted_request(email, &ord, &f, &tf, NULL);
    ck_assert(!store_user_list_scans(fx_store, NULL, &all, &fx_arena)); /* no merge seen yet */
    store_rtxn *r;
    Roster__V1__ListUsersResponse *resp;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_user_list(r, NULL, &all, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(store_read_merged(r, NULL), (size_t)n);
    store_read_end(r);
    ck_assert(store_user_list_scans(fx_store, NULL, &all, &fx_arena));
    Roster__V1__UserOrder ord2;
    Roster__V1__ListUsersRequest by_created = sorted_request(created, &ord2, &f, &tf, NULL);
    ck_assert(!store_user_list_scans(fx_store, NULL, &by_created, &fx_arena));
    Roster__V1__UserOrder ord3;
    Roster__V1__UserFilter f3;
    Roster__V1__IdFilter tf3;
    Roster__V1__ListUsersRequest one = sorted_request(email, &ord3, &f3, &tf3, tids[7]);
    ck_assert(!store_user_list_scans(fx_store, NULL, &one, &fx_arena));
    roster_uuid scope;
    ck_assert_int_eq(roster_uuid_parse(&scope, tids[7], strlen(tids[7])), ROSTER_E_OK);
    ck_assert(!store_user_list_scans(fx_store, &scope, &all, &fx_arena));
    /* email declared as a global order: one range, the index threads */
    const char *orders[] = {"email"};
    open_orders(orders, 1, NULL, 0);
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_user_list(r, NULL, &all, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(store_read_merged(r, NULL), 0);
    ck_assert_uint_eq(resp->total_count, (uint64_t)n);
    Roster__V1__UserOrder ord4;
    const int last = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME;
    Roster__V1__ListUsersRequest by_last = sorted_request(last, &ord4, &f, &tf, NULL);
    ck_assert_int_eq(store_user_list(r, NULL, &by_last, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(store_read_merged(r, NULL), (size_t)n);
    store_read_end(r);
    ck_assert(store_user_list_scans(fx_store, NULL, &by_last, &fx_arena));
    ck_assert(!store_user_list_scans(fx_store, NULL, &all, &fx_arena));
    free(tids);
}
END_TEST

/* Deletes the first customData counter of the counts database. */
static void delete_first_counter(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *c;
    MDB_val k, v;
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
    bool deleted = false;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && !deleted;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        if (k.mv_size == 18 && ((const uint8_t *)k.mv_data)[0] == 'c') {
            ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
            deleted = true;
        }
    ck_assert(deleted);
    mdb_cursor_close(c);
}

/* Makes the store look as one written before the indexes had counters:
 * every recorded state 'k' becomes 'r' and the counters go. */
static void forget_counters(void)
{
    store_close(fx_store);
    fx_store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, counts;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, MDB_NOTLS, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "counts", 0, &counts), 0);
    MDB_val k = {12, "custom_index"}, v;
    ck_assert_int_eq(mdb_get(txn, meta, &k, &v), 0);
    char buf[4096];
    ck_assert_uint_lt(v.mv_size, sizeof buf);
    memcpy(buf, v.mv_data, v.mv_size);
    for (size_t i = 0; i + 2 < v.mv_size; i++)
        if (buf[i] == ' ' && buf[i + 1] == 'k' && buf[i + 2] == ' ')
            buf[i + 1] = 'r';
    MDB_val nv = {v.mv_size, buf};
    ck_assert_int_eq(mdb_put(txn, meta, &k, &nv, 0), 0);
    MDB_cursor *c;
    ck_assert_int_eq(mdb_cursor_open(txn, counts, &c), 0);
    int n = 0;
    while (mdb_cursor_get(c, &k, &v, n++ ? MDB_NEXT : MDB_FIRST) == 0)
        if (k.mv_size == 18 && ((const uint8_t *)k.mv_data)[0] == 'c')
            ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* An order by a path takes its total from the index's counters; a store
 * whose index was built before the counters answers by walking the index
 * (the same totals) until an open that declares the index counts it. */
START_TEST(order_totals_from_counters_and_older_stores)
{
    seed();
    int64_t total, err_total;
    int err;
    const char *pages = list(NULL, NULL, 0, "billing.seats", false, 2, 0, &total, &err, NULL);
    ck_assert_int_eq(err, ROSTER_E_OK);
    char first[256];
    snprintf(first, sizeof first, "%s", pages);
    int64_t want = total;
    ck_assert_int_eq(want, 3); /* a, b, c: d and f hold no integer */
    forget_counters();
    fx_open(); /* offline: no counters, the walk answers */
    pages = list(NULL, NULL, 0, "billing.seats", false, 2, 0, &err_total, &err, NULL);
    ck_assert_int_eq(err, ROSTER_E_OK);
    ck_assert_int_eq(err_total, want);
    ck_assert_str_eq(pages, first);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    reopen(decl_all, N_DECL_ALL, false); /* declaring: counted at open */
    pages = list(NULL, NULL, 0, "billing.seats", false, 2, 0, &total, &err, NULL);
    ck_assert_int_eq(total, want);
    ck_assert_str_eq(pages, first);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    /* The counters are there again: losing one now is found. */
    edit_db("counts", delete_first_counter);
    fx_open();
    ck_assert_uint_eq(fx_verify_issues(), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_custom");
    TCase *tc = tcase_create("custom");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, fx_teardown);
    tcase_add_test(tc, types_order_and_missing_values);
    tcase_add_test(tc, conditions_ranges_and_value_in);
    tcase_add_test(tc, updates_move_entries);
    tcase_add_test(tc, verify_finds_missing_and_corrupted_entries);
    tcase_add_test(tc, declare_builds_undeclare_drops_retype_rebuilds);
    tcase_add_test(tc, argument_errors_name_the_path);
    tcase_add_test(tc, tenant_scope_and_scan_agree);
    tcase_add_test(tc, pages_in_both_orders);
    tcase_add_test(tc, global_orders_kept_walked_dropped);
    tcase_add_test(tc, large_merges_go_to_the_scan_threads);
    tcase_add_test(tc, order_totals_from_counters_and_older_stores);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
