/* The online build of customData indexes: declared over a store of 20000
 * users, built in steps while creates, updates and deletes change the
 * indexed paths between steps (ahead of the walk and behind it); queries
 * answer during the build (by reading the records) and after it (through
 * the index) what an in-memory model says, with exact totals, and the
 * same as the scan path (custom_index_scan); verify is clean during and
 * after the build, also in a snapshot taken just before the last step. */
#include "store_fixture.h"

#define N_SEED 20000
#define N_MAX  (N_SEED + 1000)

static const char *decl[] = {"plan:string", "n:integer"};

/* The model: each user's reference, id and customData values. */
typedef struct muser {
    char ref[16];
    char id[37];
    int plan; /* plan "p<plan>", -1: none */
    int n;    /* -1: none (the path missing or a string there) */
    bool gone;
} muser;

static muser model[N_MAX];
static int n_model;
static unsigned rng = 12345;

static unsigned rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

static void custom_json(char *buf, size_t cap, int plan, int n)
{
    char p[32] = "", v[32] = "";
    if (plan >= 0)
        snprintf(p, sizeof p, "\"plan\":\"p%d\"", plan);
    if (n >= 0)
        snprintf(v, sizeof v, "\"n\":%d", n);
    else
        snprintf(v, sizeof v, "\"n\":\"text\""); /* another type: no entry */
    snprintf(buf, cap, "{%s%s%s}", p, p[0] ? "," : "", v);
}

static void create(store_wtxn *w, int plan, int n)
{
    muser *m = &model[n_model];
    snprintf(m->ref, sizeof m->ref, "u%05d", n_model);
    char email[32], js[96];
    snprintf(email, sizeof email, "%s@x.io", m->ref);
    custom_json(js, sizeof js, plan, n);
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    req.reference = m->ref;
    req.email = email;
    req.custom_data = js;
    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_msg(store_user_create(w, NULL, &req, &fx_arena, &u, &d) == ROSTER_E_OK, "%s",
                  d.message);
    snprintf(m->id, sizeof m->id, "%s", u->id);
    m->plan = plan;
    m->n = n;
    m->gone = false;
    n_model++;
}

static void update(store_wtxn *w, int i, int plan, int n)
{
    char js[96];
    custom_json(js, sizeof js, plan, n);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = model[i].id;
    up.custom_data = js;
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    model[i].plan = plan;
    model[i].n = n;
}

static void delete (store_wtxn *w, int i)
{
    Roster__V1__DeleteUserRequest del = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    del.id = model[i].id;
    ck_assert_int_eq(store_user_delete(w, NULL, &del, &fx_arena, NULL, NULL), ROSTER_E_OK);
    model[i].gone = true;
}

static int live(void)
{
    for (;;) {
        int i = (int)(rnd() % (unsigned)n_model);
        if (!model[i].gone)
            return i;
    }
}

/* A few writes, one group: updates and deletes anywhere in the id order
 * (ahead of the walk and behind it), creates at its end. */
static void churn(void)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int k = 0; k < 12; k++) {
        int i = live();
        int r = (int)(rnd() % 10);
        update(w, i, r == 0 ? -1 : (int)(rnd() % 7), r == 1 ? -1 : (int)(rnd() % 1000));
    }
    for (int k = 0; k < 3; k++)
        delete (w, live());
    for (int k = 0; k < 3; k++)
        create(w, (int)(rnd() % 7), (int)(rnd() % 1000));
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    roster_arena_reset(&fx_arena);
}

typedef struct qspec {
    const char *path, *eq, *gte, *lt;
    const char *in[3];
    const char *order; /* customData order path, or NULL (createdAt) */
    bool desc;
} qspec;

/* Runs q (limit 5) in r; the references joined into out, total into *total. */
static void run(store_rtxn *r, const qspec *q, char *out, int64_t *total)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__CustomDataCondition c = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT, *cp = &c;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    if (q->path) {
        c.path = (char *)q->path;
        c.equal_to = (char *)q->eq;
        c.more_than_equal = (char *)q->gte;
        c.less_than = (char *)q->lt;
        while (c.n_value_in < 3 && q->in[c.n_value_in])
            c.n_value_in++;
        c.value_in = (char **)q->in;
        f.n_custom_data = 1;
        f.custom_data = &cp;
        req.filter = &f;
    }
    o.has_order = 1;
    o.order =
        q->desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    o.custom_data = (char *)q->order;
    req.order = &o;
    req.has_limit = 1;
    req.limit = 5;
    Roster__V1__ListUsersResponse *resp = NULL;
    roster_err_detail d = {0};
    ck_assert_msg(store_user_list(r, NULL, &req, &fx_arena, &resp, &d) == ROSTER_E_OK, "%s",
                  d.message);
    *total = resp->total_count;
    out[0] = 0;
    for (size_t i = 0; i < resp->n_users; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, resp->users[i]->reference);
    }
}

static const qspec queries[] = {
    {.path = "plan", .eq = "\"p3\""},
    {.path = "plan", .in = {"\"p1\"", "\"p5\""}},
    {.path = "n", .gte = "100", .lt = "250"},
    {.path = "n", .eq = "7"},
    {.order = "n"},
    {.order = "n", .desc = true},
    {.path = "plan", .eq = "\"p2\"", .order = "n"},
    {.path = "n", .lt = "40", .order = "plan", .desc = true},
};
#define N_QUERIES (sizeof queries / sizeof queries[0])

/* Whether model user m matches q (and has the order path's value). */
static bool model_match(const muser *m, const qspec *q)
{
    if (m->gone)
        return false;
    if (q->order && (strcmp(q->order, "n") == 0 ? m->n < 0 : m->plan < 0))
        return false;
    if (q->path == NULL)
        return true;
    bool is_plan = strcmp(q->path, "plan") == 0;
    int v = is_plan ? m->plan : m->n;
    if (v < 0)
        return false;
    char text[16];
    snprintf(text, sizeof text, is_plan ? "\"p%d\"" : "%d", v);
    if (q->eq && strcmp(q->eq, text) != 0)
        return false;
    if (q->gte && v < atoi(q->gte))
        return false;
    if (q->lt && v >= atoi(q->lt))
        return false;
    if (q->in[0]) {
        bool any = false;
        for (int i = 0; i < 3 && q->in[i]; i++)
            any |= strcmp(q->in[i], text) == 0;
        return any;
    }
    return true;
}

static const qspec *sort_q;

/* Order of two model users under sort_q: the order path's value (plan by
 * its text "p<k>", n by number), then id; createdAt is id order. */
static int model_cmp(const void *a, const void *b)
{
    const muser *x = *(muser *const *)a, *y = *(muser *const *)b;
    int c = 0;
    if (sort_q->order && strcmp(sort_q->order, "n") == 0)
        c = (x->n > y->n) - (x->n < y->n);
    else if (sort_q->order)
        c = (x->plan > y->plan) - (x->plan < y->plan);
    if (c == 0)
        c = strcmp(x->id, y->id);
    return sort_q->desc ? -c : c;
}

static muser *sorted[N_MAX];

/* What q answers on the model: the first 5 references and the total. */
static void expect(const qspec *q, char *out, int64_t *total)
{
    size_t n = 0;
    for (int i = 0; i < n_model; i++)
        if (model_match(&model[i], q))
            sorted[n++] = &model[i];
    sort_q = q;
    qsort(sorted, n, sizeof *sorted, model_cmp);
    out[0] = 0;
    for (size_t i = 0; i < n && i < 5; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, sorted[i]->ref);
    }
    *total = (int64_t)n;
}

/* The queries (only the first two, on plan alone, when plan_only) against
 * the model, in one read transaction. */
static void check_some(const char *when, bool plan_only)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    for (size_t i = 0; i < (plan_only ? 2 : N_QUERIES); i++) {
        char got[128], want[128];
        int64_t gt, wt;
        run(r, &queries[i], got, &gt);
        expect(&queries[i], want, &wt);
        ck_assert_msg(gt == wt && strcmp(got, want) == 0,
                      "%s, query %zu: %s (total %lld), want %s (total %lld)", when, i, got,
                      (long long)gt, want, (long long)wt);
    }
    store_read_end(r);
    roster_arena_reset(&fx_arena);
}

static void check_queries(const char *when)
{
    check_some(when, false);
}

static void open_with(const char *const *specs, size_t n, bool scan)
{
    store_close(fx_store);
    fx_store = NULL;
    store_options o = {.no_sync = true,
                       .map_size = (uint64_t)1 << 30,
                       .custom_index = specs,
                       .n_custom_index = n,
                       .declare_custom_index = true,
                       .custom_index_scan = scan};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
}

static void seed(void)
{
    n_model = 0;
    store_wtxn *w;
    for (int g = 0; g < N_SEED / 5000; g++) {
        ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
        for (int i = 0; i < 5000; i++) {
            int k = (int)(rnd() % 20);
            create(w, k == 0 ? -1 : (int)(rnd() % 7), k == 1 ? -1 : (int)(rnd() % 1000));
        }
        ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
        roster_arena_reset(&fx_arena);
    }
}

START_TEST(build_races_writes)
{
    seed();
    open_with(decl, 2, false);
    /* declared, not built: queries read the records, verify skips both */
    check_queries("before the build");
    ck_assert_uint_eq(fx_verify_issues(), 0);
    store_index_build *b;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(store_index_build_left(b), 2);
    bool done = false;
    int steps = 0;
    while (!done) {
        churn();
        /* a snapshot taken before a step that may finish an index */
        store_rtxn *old;
        ck_assert_int_eq(store_read_begin(fx_store, &old), ROSTER_E_OK);
        size_t left = store_index_build_left(b);
        ck_assert_int_eq(store_index_build_step(b, 1500, &done), ROSTER_E_OK);
        steps++;
        if (store_index_build_left(b) < left) {
            /* that snapshot misses the last step: the index is not
             * complete there, and verify (or a query) must not use it */
            uint64_t issues = 99;
            ck_assert_int_eq(store_verify(old, NULL, NULL, &issues), ROSTER_E_OK);
            ck_assert_uint_eq(issues, 0);
        }
        store_read_end(old);
        if (store_index_build_left(b) < left || steps % 5 == 0) {
            char when[64];
            snprintf(when, sizeof when, "after step %d", steps);
            check_queries(when);
            ck_assert_uint_eq(fx_verify_issues(), 0);
        }
    }
    /* each index: a drop step and 14 walk steps over 20000+ users */
    ck_assert_int_ge(steps, 2 * 15);
    ck_assert_uint_eq(store_index_build_left(b), 0);
    store_index_build_free(b);
    churn();
    check_queries("after the build");
    ck_assert_uint_eq(fx_verify_issues(), 0);
    /* recorded ready: a new open builds nothing, and the scan path agrees */
    open_with(decl, 2, true);
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    ck_assert_ptr_null(b);
    check_queries("by scan");
    open_with(decl, 2, false);
    check_queries("reopened");
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

START_TEST(stopped_build_starts_again)
{
    seed();
    open_with(decl, 1, false);
    store_index_build *b;
    bool done = false;
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(store_index_build_step(b, 1000, &done), ROSTER_E_OK);
        churn();
    }
    ck_assert(!done);
    store_index_build_free(b); /* stopped: recorded building */
    churn();
    /* an offline open keeps it building, and maintains it */
    store_close(fx_store);
    fx_open();
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    ck_assert_ptr_nonnull(b); /* offline tools may build, but do not declare */
    store_index_build_free(b);
    churn();
    check_some("offline, building", true);
    /* declared again (and n now too): both build from the start */
    open_with(decl, 2, false);
    ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
    ck_assert_uint_eq(store_index_build_left(b), 2);
    while (!done)
        ck_assert_int_eq(store_index_build_step(b, 4000, &done), ROSTER_E_OK);
    store_index_build_free(b);
    check_queries("resumed");
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

/* Pages of an order by n (both directions, limit 7), each page after the
 * previous one's cursor; the build runs to its end after the third page,
 * so the pages before it come from a scan and those after from the index:
 * together they are the whole order, each user once. */
START_TEST(cursor_pages_span_the_build)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    n_model = 0;
    for (int i = 0; i < 60; i++)
        create(w, i % 7, (i * 37) % 25); /* n repeats: ties broken by id */
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    for (int desc = 0; desc < 2; desc++) {
        open_with(decl, desc ? 1 : 2, false); /* desc: n newly declared */
        if (desc)
            open_with(decl, 2, false);
        store_index_build *b;
        ck_assert_int_eq(store_index_build_new(&b, fx_store), ROSTER_E_OK);
        ck_assert_ptr_nonnull(b);
        qspec q = {.order = "n", .desc = desc};
        char want[1024] = "", got[1024] = "";
        size_t n = 0;
        for (int i = 0; i < n_model; i++)
            if (model_match(&model[i], &q))
                sorted[n++] = &model[i];
        sort_q = &q;
        qsort(sorted, n, sizeof *sorted, model_cmp);
        want[0] = 0;
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(want, ",");
            strcat(want, sorted[i]->ref);
        }
        char *after = NULL, cursor[600];
        for (int page = 0;; page++) {
            if (page == 3) {
                bool done = false;
                while (!done)
                    ck_assert_int_eq(store_index_build_step(b, 10, &done), ROSTER_E_OK);
            }
            Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
            Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
            o.has_order = 1;
            o.order = desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC
                           : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
            o.custom_data = "n";
            req.order = &o;
            req.has_limit = 1;
            req.limit = 7;
            req.after = after;
            store_rtxn *r;
            ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
            Roster__V1__ListUsersResponse *resp = NULL;
            roster_err_detail d = {0};
            ck_assert_msg(store_user_list(r, NULL, &req, &fx_arena, &resp, &d) == ROSTER_E_OK, "%s",
                          d.message);
            ck_assert_int_eq(resp->total_count, (int64_t)n);
            for (size_t i = 0; i < resp->n_users; i++) {
                if (got[0])
                    strcat(got, ",");
                strcat(got, resp->users[i]->reference);
            }
            bool more = resp->page_info->has_next_page;
            if (more)
                snprintf(cursor, sizeof cursor, "%s", resp->page_info->end_cursor);
            after = cursor;
            store_read_end(r);
            if (!more)
                break;
            ck_assert_int_lt(page, 20);
        }
        ck_assert_str_eq(got, want);
        store_index_build_free(b);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_custom_build");
    TCase *tc = tcase_create("build");
    tcase_set_timeout(tc, 240);
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, build_races_writes);
    tcase_add_test(tc, stopped_build_starts_again);
    tcase_add_test(tc, cursor_pages_span_the_build);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
