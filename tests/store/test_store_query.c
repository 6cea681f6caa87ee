/* Store list queries: every operator with its null semantics, the
 * deactivated rule, search, order, paging and argument errors, on a small
 * hand-checked data set; plus email equality under Unicode case folding,
 * tenant lists with hostile patterns, pattern length limits and
 * read-transaction limits. (The matcher itself: test_text_pattern.) */
#include "store_fixture.h"
#include "clock.h"
#include "roster_limits.h"

#include <stdatomic.h>

typedef struct seed_user {
    const char *ref, *email, *first, *phone;
    int active; /* -1 null */
} seed_user;

static const seed_user seed[] = {
    {"u1", "ann@x.io", "Ann", "+1 555", 1},  {"u2", "bob@x.io", "bob", NULL, 1},
    {"u3", "cy@y.io", NULL, "+66 2", 0},     {"u4", "dee@y.io", "Émile", NULL, -1},
    {"a%b", "eve@z.io", "Ann", "+1 777", 1}, {"axb", "fay@z.io", "anna", NULL, 1},
};
#define N_SEED 6
static char ids[N_SEED][37];

static void seed_setup(void)
{
    fx_setup();
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < N_SEED; i++) {
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        req.reference = (char *)seed[i].ref;
        req.email = (char *)seed[i].email;
        req.first_name = (char *)seed[i].first;
        req.phone = (char *)seed[i].phone;
        if (seed[i].active >= 0) {
            req.has_active = 1;
            req.active = seed[i].active;
        }
        Roster__V1__User *u;
        ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, &u, NULL), ROSTER_E_OK);
        strcpy(ids[i], u->id);
        if (seed[i].active < 0) {
            Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
            Roster__V1__UserField cl[] = {ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE};
            up.id = u->id;
            up.n_clear = 1;
            up.clear = cl;
            ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
        }
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

/* Runs a list and returns the result as a string of seed indexes in page
 * order ("013"), total in *total. */
static const char *run(Roster__V1__ListUsersRequest *req, int64_t *total, int *err_out,
                       roster_err_detail *d)
{
    static char out[64];
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListUsersResponse *resp = NULL;
    int err = store_user_list(r, NULL, req, &fx_arena, &resp, d);
    if (err_out)
        *err_out = err;
    out[0] = 0;
    if (err == ROSTER_E_OK) {
        size_t n = 0;
        for (size_t i = 0; i < resp->n_users; i++)
            for (int j = 0; j < N_SEED; j++)
                if (strcmp(resp->users[i]->id, ids[j]) == 0)
                    out[n++] = (char)('0' + j);
        out[n] = 0;
        if (total)
            *total = resp->total_count;
    }
    store_read_end(r);
    return out;
}

/* Order by createdAt ASC so results read in seed order. */
static Roster__V1__UserOrder asc = {PROTOBUF_C_MESSAGE_INIT(&roster__v1__user_order__descriptor), 1,
                                    ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT, 1,
                                    ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC};

static const char *with_first(Roster__V1__StringFilter *sf, bool all)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__BoolFilter wd = ROSTER__V1__BOOL_FILTER__INIT;
    wd.has_equal_to = wd.equal_to = 1;
    f.first_name = sf;
    if (all)
        f.with_deactivated = &wd;
    req.filter = &f;
    req.order = &asc;
    return run(&req, NULL, NULL, NULL);
}

START_TEST(string_operators_and_nulls)
{
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    sf.equal_to = "Ann";
    ck_assert_str_eq(with_first(&sf, true), "04");
    sf.equal_to = NULL;
    sf.not_equal_to = "Ann"; /* nulls left out */
    ck_assert_str_eq(with_first(&sf, true), "135");
    sf.not_equal_to = NULL;
    sf.has_equal_to_null = sf.equal_to_null = 1;
    ck_assert_str_eq(with_first(&sf, true), "2");
    sf.has_equal_to_null = 0;
    sf.has_not_equal_to_null = sf.not_equal_to_null = 1;
    ck_assert_str_eq(with_first(&sf, true), "01345");
    sf.has_not_equal_to_null = 0;
    sf.like = "An%";
    ck_assert_str_eq(with_first(&sf, true), "04");
    sf.like = NULL;
    sf.i_like = "an%";
    ck_assert_str_eq(with_first(&sf, true), "045");
    sf.i_like = "_mile"; /* '_' is one character, even a two-byte one */
    ck_assert_str_eq(with_first(&sf, true), "3");
    sf.i_like = NULL;
    Roster__V1__StringList l = ROSTER__V1__STRING_LIST__INIT;
    char *vals[] = {"bob", "anna"};
    l.n_values = 2;
    l.values = vals;
    sf.value_in = &l;
    ck_assert_str_eq(with_first(&sf, true), "15");
    l.n_values = 0; /* empty valueIn matches nothing */
    ck_assert_str_eq(with_first(&sf, true), "");
    sf.value_in = NULL;
    sf.value_not_in = &l; /* empty valueNotIn excludes nothing, nulls included */
    ck_assert_str_eq(with_first(&sf, true), "012345");
    l.n_values = 1;
    ck_assert_str_eq(with_first(&sf, true), "0345");
}
END_TEST

/* The same conditions through the walk of the records (createdAt order)
 * and through the scan plan (ordered by email, which sorts the seed in
 * seed order too): a scan parses each record for the fields its
 * conditions read only, and the whole record of a match for the order.
 * iLike folds ASCII letters only: a non-ASCII letter matches itself. */
START_TEST(scan_plans_and_non_ascii_ilike)
{
    Roster__V1__UserOrder by_email = ROSTER__V1__USER_ORDER__INIT;
    by_email.has_sort = by_email.has_order = 1;
    by_email.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
    by_email.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    for (int plan = 0; plan < 2; plan++) {
        Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
        Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
        Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
        Roster__V1__BoolFilter wd = ROSTER__V1__BOOL_FILTER__INIT;
        wd.has_equal_to = wd.equal_to = 1;
        req.order = plan ? &by_email : &asc;
        req.filter = &f;
        f.first_name = &sf;
        ck_assert(store_user_list_scans(fx_store, NULL, &req, &fx_arena));
        sf.i_like = "%MILE";
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "3");
        sf.i_like = "ÉMILE";
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "3");
        sf.i_like = "émile"; /* é is not folded to É */
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "");
        sf.i_like = "%é%";
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "");
        sf.i_like = "%É%";
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "3");
        sf.i_like = "%N%";
        int64_t total = 0;
        ck_assert_str_eq(run(&req, &total, NULL, NULL), "045");
        ck_assert_int_eq(total, 3);
        f.first_name = NULL;
        /* The deactivated rule reads active, which no condition names. */
        f.phone = &sf;
        sf.i_like = NULL;
        sf.has_not_equal_to_null = sf.not_equal_to_null = 1;
        ck_assert_str_eq(run(&req, &total, NULL, NULL), "04");
        ck_assert_int_eq(total, 2);
        f.with_deactivated = &wd;
        ck_assert_str_eq(run(&req, &total, NULL, NULL), "024");
        ck_assert_int_eq(total, 3);
        /* An id condition reads the id; a tenant condition the tenant. */
        Roster__V1__IdFilter idf = ROSTER__V1__ID_FILTER__INIT;
        idf.not_equal_to = ids[0];
        f.id = &idf;
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "24");
        f.id = NULL;
        Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
        tf.has_not_equal_to_null = tf.not_equal_to_null = 1;
        f.tenant_id = &tf;
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "");
        tf.has_not_equal_to_null = tf.not_equal_to_null = 0;
        tf.has_equal_to_null = tf.equal_to_null = 1;
        ck_assert_str_eq(run(&req, NULL, NULL, NULL), "024");
        /* Ordered by a field no condition reads: the order key comes
         * from the match's whole record (nulls first, ties by id DESC). */
        if (plan == 1) {
            f.tenant_id = NULL;
            by_email.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME;
            by_email.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
            ck_assert_str_eq(run(&req, NULL, NULL, NULL), "240");
            f.with_deactivated = NULL;
            ck_assert_str_eq(run(&req, NULL, NULL, NULL), "40");
        }
    }
}
END_TEST

START_TEST(deactivated_rule_and_bool_filters)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.order = &asc;
    int64_t total;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "01345"); /* null active is not deactivated */
    ck_assert_int_eq(total, 5);
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__BoolFilter b = ROSTER__V1__BOOL_FILTER__INIT;
    req.filter = &f;
    f.with_deactivated = &b;
    b.has_equal_to = 1;
    b.equal_to = 0;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "01345");
    b.equal_to = 1;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "012345");
    f.with_deactivated = NULL;
    f.active = &b; /* an active filter lifts the rule */
    b.equal_to = 0;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "2");
    b.has_equal_to = 0;
    b.has_not_equal_to = 1;
    b.not_equal_to = 0;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "0145");
    b.has_not_equal_to = 0;
    b.has_equal_to_null = b.equal_to_null = 1;
    ck_assert_str_eq(run(&req, &total, NULL, NULL), "3");
}
END_TEST

START_TEST(reference_escape_email_and_search)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    req.order = &asc;
    req.filter = &f;
    f.reference = &sf;
    sf.like = "a%b";
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "45");
    sf.like = "a\\%b"; /* backslash makes % literal */
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "4");
    sf.like = NULL;
    sf.equal_to = "u2";
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "1");
    f.reference = NULL;
    f.email = &sf;
    sf.equal_to = "ANN@x.io"; /* email equality folds case, as uniqueness does */
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "0");
    sf.equal_to = "ann@x.io ";
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "");
    sf.equal_to = "ann@x.io";
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "0");
    f.email = NULL;
    Roster__V1__UserSearch s = ROSTER__V1__USER_SEARCH__INIT;
    s.has_key = 1;
    s.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_EMAIL;
    s.value = "Z.IO";
    req.search = &s;
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "45");
    s.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_PHONE;
    s.value = "+1";
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "04");
}
END_TEST

START_TEST(order_nulls_and_ties)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__BoolFilter wd = ROSTER__V1__BOOL_FILTER__INIT;
    wd.has_equal_to = wd.equal_to = 1;
    f.with_deactivated = &wd;
    req.filter = &f;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_sort = o.has_order = 1;
    o.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    /* Bytewise: "Ann" < "anna" < "bob" < "Émile"; ties by id; nulls last. */
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "045132");
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "231540");
    o.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC; /* false < true < null */
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "201453");
    req.order = NULL; /* default: createdAt DESC */
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "543210");
    o.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    f.first_name = &(Roster__V1__StringFilter)ROSTER__V1__STRING_FILTER__INIT;
    f.first_name->has_not_equal_to_null = f.first_name->not_equal_to_null = 1;
    ck_assert_str_eq(run(&req, NULL, NULL, NULL), "04135"); /* record filter on an index walk */
}
END_TEST

START_TEST(paging_and_argument_errors)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.order = &asc;
    int64_t total;
    int err;
    roster_err_detail d = {0};
    req.has_limit = req.has_offset = 1;
    req.limit = 2;
    req.offset = 1;
    ck_assert_str_eq(run(&req, &total, &err, &d), "13");
    ck_assert_int_eq(total, 5);
    req.offset = 4;
    ck_assert_str_eq(run(&req, &total, &err, &d), "5");
    req.offset = 9;
    ck_assert_str_eq(run(&req, &total, &err, &d), "");
    ck_assert_int_eq(total, 5);
    req.limit = 0; /* count only */
    req.offset = 0;
    ck_assert_str_eq(run(&req, &total, &err, &d), "");
    ck_assert_int_eq(total, 5);
    req.limit = 1001;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "limit");
    req.limit = 1000;
    req.offset = -1;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "offset");
    req.offset = 0;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__IdFilter idf = ROSTER__V1__ID_FILTER__INIT;
    idf.equal_to = "nope";
    f.tenant_id = &idf;
    req.filter = &f;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.tenantId");
    Roster__V1__UserSearch s = ROSTER__V1__USER_SEARCH__INIT;
    req.filter = NULL;
    req.search = &s;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "search.key");
}
END_TEST

START_TEST(default_page_is_twenty)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < 30; i++) {
        char ref[16], email[32];
        snprintf(ref, sizeof ref, "p%d", i);
        snprintf(email, sizeof email, "p%d@x.io", i);
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        req.reference = ref;
        req.email = email;
        ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    store_page page;
    ck_assert_int_eq(store_user_list_raw(r, NULL, &req, &fx_arena, &page, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(page.n, 20);
    ck_assert_int_eq(page.total_count, 35);
    Roster__V1__User *first = roster__v1__user__unpack(NULL, page.items[0].len, page.items[0].data);
    ck_assert_str_eq(first->reference, "p29"); /* newest first */
    roster__v1__user__free_unpacked(first, NULL);
    store_read_end(r);
}
END_TEST

/* like, iLike and search values longer than ROSTER_MAX_PATTERN are
 * refused naming the field; the limit itself is accepted. */
START_TEST(pattern_length_limit)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    Roster__V1__UserSearch search = ROSTER__V1__USER_SEARCH__INIT;
    char big[ROSTER_MAX_PATTERN + 2];
    memset(big, '%', sizeof big - 1);
    big[sizeof big - 1] = 0;
    roster_err_detail d = {0};
    int err;
    int64_t total, all;
    run(&req, &all, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_OK);
    req.filter = &f;
    f.email = &sf;
    sf.like = big;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.email.like");
    sf.like = NULL;
    sf.i_like = big;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.email.iLike");
    big[ROSTER_MAX_PATTERN] = 0; /* exactly the limit */
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_OK);
    ck_assert_int_eq(total, all); /* every user has an email */
    f.email = NULL;
    big[ROSTER_MAX_PATTERN] = 'x';
    search.value = big;
    search.has_key = 1;
    search.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_EMAIL;
    req.search = &search;
    run(&req, &total, &err, &d);
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "search.value");
}
END_TEST

/* A read transaction's limits stop walks and scans: a deadline already
 * past is DEADLINE_EXCEEDED, a stop time already past UNAVAILABLE, for the
 * scan plan and for a walk that reads records; without limits the same
 * queries answer. store_user_list_scans tells those from indexed ones. */
START_TEST(limits_stop_walks_and_scans)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < 3 * STORE_CHECK_EVERY; i++) {
        char email[32], ref[16];
        snprintf(email, sizeof email, "m%d@x.io", i);
        snprintf(ref, sizeof ref, "m%d", i);
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        req.reference = ref;
        req.email = email;
        Roster__V1__User *u;
        ck_assert_int_eq(store_user_create(w, NULL, &req, &fx_arena, &u, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    Roster__V1__UserOrder order = ROSTER__V1__USER_ORDER__INIT;
    sf.like = "%zz";
    f.email = &sf;
    req.filter = &f;
    ck_assert(!store_user_list_scans(
        fx_store, NULL, &(Roster__V1__ListUsersRequest)ROSTER__V1__LIST_USERS_REQUEST__INIT,
        &fx_arena));
    _Atomic int64_t past = 1, none = 0;
    for (int plan = 0; plan < 2; plan++) {
        if (plan == 1) { /* the scan plan: an order other than createdAt */
            order.has_sort = 1;
            order.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
            req.order = &order;
        }
        ck_assert(store_user_list_scans(fx_store, NULL, &req, &fx_arena));
        struct {
            int64_t deadline;
            _Atomic int64_t *stop;
            int want;
        } cases[] = {
            {0, NULL, ROSTER_E_OK},
            {0, &none, ROSTER_E_OK},
            {roster_mono_ns() + 60 * 1000000000LL, &none, ROSTER_E_OK},
            {1, NULL, ROSTER_E_DEADLINE_EXCEEDED},
            {0, &past, ROSTER_E_UNAVAILABLE},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            store_rtxn *r;
            ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
            store_read_set_limits(r, cases[i].deadline, cases[i].stop);
            store_page page;
            int err = store_user_list_raw(r, NULL, &req, &fx_arena, &page, NULL);
            ck_assert_msg(err == cases[i].want, "plan %d case %zu: %s", plan, i,
                          roster_errname(err));
            if (err == ROSTER_E_OK)
                ck_assert_int_eq(page.total_count, 0);
            store_read_end(r);
        }
    }
}
END_TEST

/* email equalTo, notEqualTo, valueIn and valueNotIn compare the folded
 * forms the unique index keys (text_fold_key): full Unicode case folding
 * for non-ASCII emails, so every spelling uniqueness calls the same
 * email finds the user, through the index (candidates) and in a scan. */
START_TEST(email_equality_folds_unicode_case)
{
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "st",
                             "Stra\xc3\x9f"
                             "e@b\xc3\xbc"
                             "ro.de",
                             NULL, &u, NULL),
                     ROSTER_E_OK);
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    Roster__V1__StringFilter ref = ROSTER__V1__STRING_FILTER__INIT;
    req.filter = &f;
    f.email = &sf;
    int64_t total;
    int err;
    static const char *const same[] = {
        "Stra\xc3\x9f"
        "e@b\xc3\xbc"
        "ro.de",
        "STRASSE@B\xc3\x9cRO.DE",
        "strasse@bu\xcc\x88ro.de",
        "stra\xe1\xba\x9e"
        "e@b\xc3\xbcro.de",
    };
    for (int scan = 0; scan < 2; scan++) {
        /* scan: a reference condition too, so the candidates come from
         * the reference index and email is checked on the record. */
        f.reference = scan ? &ref : NULL;
        ref.like = scan ? "s%" : NULL;
        for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
            sf.equal_to = (char *)same[i];
            run(&req, &total, &err, NULL);
            ck_assert_int_eq(err, ROSTER_E_OK);
            ck_assert_msg(total == 1, "equalTo %s (scan %d): %lld", same[i], scan,
                          (long long)total);
        }
        sf.equal_to = "strasse@bro.de";
        run(&req, &total, &err, NULL);
        ck_assert_int_eq(total, 0);
        sf.equal_to = NULL;
        sf.not_equal_to = "STRASSE@B\xc3\x9cRO.DE";
        run(&req, &total, &err, NULL);
        ck_assert_int_eq(total, scan ? 0 : N_SEED - 1); /* the seed's deactivated user is out */
        sf.not_equal_to = NULL;
        char *in[] = {"x@y.z", "STRASSE@B\xc3\x9cRO.DE"};
        Roster__V1__StringList l = ROSTER__V1__STRING_LIST__INIT;
        l.n_values = 2;
        l.values = in;
        sf.value_in = &l;
        run(&req, &total, &err, NULL);
        ck_assert_int_eq(total, 1);
        sf.value_in = NULL;
        sf.value_not_in = &l;
        run(&req, &total, &err, NULL);
        ck_assert_int_eq(total, scan ? 0 : N_SEED - 1);
        sf.value_not_in = NULL;
    }
}
END_TEST

/* Tenant lists match with compiled patterns (a pattern that makes a
 * backtracking matcher explode answers at once and correctly) and stop at
 * the read transaction's deadline inside the walk. */
START_TEST(tenant_lists_compiled_patterns_and_limits)
{
    char name[ROSTER_MAX_NAME + 1];
    memset(name, 'a', ROSTER_MAX_NAME);
    name[ROSTER_MAX_NAME] = 0;
    for (int i = 0; i < 2 * STORE_CHECK_EVERY; i++) {
        name[0] = (char)('A' + i % 26);
        name[1] = (char)('A' + i / 26);
        fx_tenant(name, false);
    }
    char hostile[ROSTER_MAX_PATTERN + 1];
    size_t i;
    for (i = 0; i + 3 <= ROSTER_MAX_PATTERN - 1; i += 2)
        memcpy(hostile + i, "%a", 2);
    strcpy(hostile + i, "b");
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__TenantFilter f = ROSTER__V1__TENANT_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    req.filter = &f;
    f.name = &sf;
    struct {
        const char *like, *i_like;
        int64_t want;
    } cases[] = {
        {hostile, NULL, 0}, {NULL, hostile, 0}, {"%a_aa%a", NULL, 2 * STORE_CHECK_EVERY},
        {"AB%", NULL, 1},   {NULL, "ab%", 1},   {"_A%", NULL, 26},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        sf.like = (char *)cases[k].like;
        sf.i_like = (char *)cases[k].i_like;
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        int64_t t0 = roster_mono_ns();
        Roster__V1__ListTenantsResponse *resp;
        ck_assert_int_eq(store_tenant_list(r, NULL, &req, &fx_arena, &resp, NULL), ROSTER_E_OK);
        ck_assert_msg(resp->total_count == cases[k].want, "case %zu: %lld", k,
                      (long long)resp->total_count);
        /* generous: a backtracking matcher needs far longer on these */
        ck_assert_int_lt(roster_mono_ns() - t0, 2000000000LL);
        store_read_end(r);
    }
    /* A deadline already past stops the walk; a stop time UNAVAILABLE. */
    sf.like = hostile;
    sf.i_like = NULL;
    _Atomic int64_t past = 1;
    for (int k = 0; k < 2; k++) {
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        store_read_set_limits(r, k == 0 ? 1 : 0, k == 0 ? NULL : &past);
        Roster__V1__ListTenantsResponse *resp;
        roster_err_detail d = {0};
        ck_assert_int_eq(store_tenant_list(r, NULL, &req, &fx_arena, &resp, &d),
                         k == 0 ? ROSTER_E_DEADLINE_EXCEEDED : ROSTER_E_UNAVAILABLE);
        store_read_end(r);
    }
    /* Bad input is refused naming the field, and nothing is listed. */
    char big[ROSTER_MAX_PATTERN + 2];
    memset(big, '%', sizeof big - 1);
    big[sizeof big - 1] = 0;
    sf.like = big;
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListTenantsResponse *resp;
    roster_err_detail d = {0};
    ck_assert_int_eq(store_tenant_list(r, NULL, &req, &fx_arena, &resp, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.name.like");
    store_read_end(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_query");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, seed_setup, fx_teardown);
    tcase_add_test(tc, string_operators_and_nulls);
    tcase_add_test(tc, deactivated_rule_and_bool_filters);
    tcase_add_test(tc, scan_plans_and_non_ascii_ilike);
    tcase_add_test(tc, reference_escape_email_and_search);
    tcase_add_test(tc, order_nulls_and_ties);
    tcase_add_test(tc, paging_and_argument_errors);
    tcase_add_test(tc, default_page_is_twenty);
    tcase_add_test(tc, email_equality_folds_unicode_case);
    tcase_add_test(tc, tenant_lists_compiled_patterns_and_limits);
    tcase_add_test(tc, pattern_length_limit);
    tcase_add_test(tc, limits_stop_walks_and_scans);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
