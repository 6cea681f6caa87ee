/* Cursor paging of the store's lists (after, page_info): walking every
 * page by cursor gives every record of one big page exactly once and in
 * its order, for every sort order in both directions, over all users and
 * one tenant, with filters served by indexes, by scans and by candidates;
 * has_next_page is exact and end_cursor present whenever a page has a
 * record. Cursors made for another filter, search, order or scope, or
 * given with a non-zero offset, are refused naming "after", and so is
 * every cut, altered or random text. A cursor naming any position (one
 * crafted between, before or after the records) gives exactly the records
 * after it. The same for tenants. */
#include "store_fixture.h"

#include "b64url.h"
#include "cursor.h"
#include "roster_limits.h"

#define N_USERS   240
#define N_TENANTS 3
#define N_EXTRA   21 /* tenants beyond those users belong to */

static char tenant_ids[N_TENANTS][37];
static roster_uuid tenant_uuid[N_TENANTS];
static char user_ids[N_USERS][37];

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static const char *firsts[] = {NULL, "Ann", "ann", "Bob", "Zoë", ""};
static const char *lasts[] = {"Lee", "Kim", NULL, "Park"};
static const char *phones[] = {NULL, "+1 555 0100", "+66 2 123", "555"};
static const char *locales[] = {"en-US", "th-TH", NULL, "de"};
static const char *zones[] = {"Asia/Bangkok", NULL, "UTC"};
#define PICK(a) (a[rn((int)(sizeof a / sizeof a[0]))])

/* Users in three tenants and none (no default tenant), with ties and
 * nulls in every sort field, 10% deactivated and 5% with active null;
 * some updated afterwards so updatedAt differs from createdAt. */
static void cursor_setup(void)
{
    fx_setup();
    for (int t = 0; t < N_TENANTS; t++) {
        char name[16];
        snprintf(name, sizeof name, "Tenant %d", t % 2);
        strcpy(tenant_ids[t], fx_tenant(name, false));
        ck_assert_int_eq(roster_uuid_parse(&tenant_uuid[t], tenant_ids[t], 36), ROSTER_E_OK);
    }
    for (int t = 0; t < N_EXTRA; t++) {
        char name[16];
        snprintf(name, sizeof name, "%c tenant", "BAC"[t % 3]);
        fx_tenant(name, false);
    }
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < N_USERS; i++) {
        char ref[16], email[32];
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, i % 2 ? "u%03d@x.io" : "U%03d@X.io", i);
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        req.reference = ref;
        req.email = email;
        req.first_name = (char *)PICK(firsts);
        req.last_name = (char *)PICK(lasts);
        req.phone = (char *)PICK(phones);
        req.locale = (char *)PICK(locales);
        req.timezone = (char *)PICK(zones);
        req.has_active = 1;
        req.active = i % 10 != 3;
        int t = i % 4;
        req.tenant_id = t < N_TENANTS ? tenant_ids[t] : NULL;
        Roster__V1__User *u;
        roster_err_detail d = {0};
        ck_assert_msg(store_user_create(w, NULL, &req, &fx_arena, &u, &d) == ROSTER_E_OK, "%s",
                      d.message);
        strcpy(user_ids[i], u->id);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < N_USERS; i += 7) {
        Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
        Roster__V1__UserField cl[] = {ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE};
        up.id = user_ids[i];
        if (i % 3 == 0) {
            up.n_clear = 1;
            up.clear = cl;
        } else {
            up.first_name = "Bob";
        }
        ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

/* ------------------------------------------------------------ helpers */

static Roster__V1__ListUsersResponse *list_users(const roster_uuid *scope,
                                                 const Roster__V1__ListUsersRequest *req,
                                                 int *err_out, roster_err_detail *d)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListUsersResponse *resp = NULL;
    roster_err_detail local = {0};
    int err = store_user_list(r, scope, req, &fx_arena, &resp, d ? d : &local);
    store_read_end(r); /* the response lives in the arena */
    if (err_out != NULL)
        *err_out = err;
    else
        ck_assert_msg(err == ROSTER_E_OK, "list failed: %s %s", d ? d->field : local.field,
                      d ? d->message : local.message);
    return err == ROSTER_E_OK ? resp : NULL;
}

static Roster__V1__ListTenantsResponse *list_tenants(const roster_uuid *scope,
                                                     const Roster__V1__ListTenantsRequest *req,
                                                     int *err_out, roster_err_detail *d)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListTenantsResponse *resp = NULL;
    roster_err_detail local = {0};
    int err = store_tenant_list(r, scope, req, &fx_arena, &resp, d ? d : &local);
    store_read_end(r);
    if (err_out != NULL)
        *err_out = err;
    else
        ck_assert_msg(err == ROSTER_E_OK, "tenant list failed: %s %s", local.field, local.message);
    return err == ROSTER_E_OK ? resp : NULL;
}

static void info_ok(const Roster__V1__PageInfo *p, size_t n, bool has_next)
{
    ck_assert_ptr_nonnull(p);
    ck_assert(p->has_has_next_page);
    ck_assert_int_eq(p->has_next_page, has_next);
    if (n > 0) {
        ck_assert_ptr_nonnull(p->end_cursor);
        ck_assert_uint_le(strlen(p->end_cursor), ROSTER_MAX_CURSOR);
    } else {
        ck_assert_ptr_null(p->end_cursor);
    }
}

/* The whole result of req in one page (offset 0, limit 1000). */
static Roster__V1__ListUsersResponse *big_page(const roster_uuid *scope,
                                               const Roster__V1__ListUsersRequest *req)
{
    Roster__V1__ListUsersRequest all = *req;
    all.has_limit = 1;
    all.limit = ROSTER_MAX_PAGE;
    all.has_offset = 0;
    all.after = NULL;
    Roster__V1__ListUsersResponse *big = list_users(scope, &all, NULL, NULL);
    ck_assert_int_le(big->total_count, ROSTER_MAX_PAGE);
    ck_assert_int_eq((int64_t)big->n_users, big->total_count);
    info_ok(big->page_info, big->n_users, false);
    return big;
}

/* Walks every page of req by cursor, `limit` records a page, and checks
 * the pages against one big page. Returns the number of pages. */
static int walk_users(const roster_uuid *scope, const Roster__V1__ListUsersRequest *req, int limit)
{
    Roster__V1__ListUsersResponse *big = big_page(scope, req);
    Roster__V1__ListUsersRequest page = *req;
    page.has_limit = 1;
    page.limit = limit;
    page.has_offset = 0;
    page.after = NULL;
    size_t seen = 0;
    int pages = 0;
    for (;;) {
        Roster__V1__ListUsersResponse *p = list_users(scope, &page, NULL, NULL);
        pages++;
        ck_assert_int_eq(p->total_count, big->total_count);
        size_t want = big->n_users - seen < (size_t)limit ? big->n_users - seen : (size_t)limit;
        ck_assert_uint_eq(p->n_users, want);
        for (size_t i = 0; i < p->n_users; i++)
            ck_assert_str_eq(p->users[i]->id, big->users[seen + i]->id);
        seen += p->n_users;
        info_ok(p->page_info, p->n_users, seen < big->n_users);
        if (!p->page_info->has_next_page) {
            /* The page after the last one is empty, without a cursor. */
            if (p->n_users > 0) {
                page.after = p->page_info->end_cursor;
                Roster__V1__ListUsersResponse *end = list_users(scope, &page, NULL, NULL);
                ck_assert_uint_eq(end->n_users, 0);
                ck_assert_int_eq(end->total_count, big->total_count);
                info_ok(end->page_info, 0, false);
            }
            break;
        }
        page.after = p->page_info->end_cursor;
        ck_assert_int_le(pages, N_USERS + 1);
    }
    ck_assert_uint_eq(seen, big->n_users);
    return pages;
}

/* ------------------------------------------------------------ queries */

/* The filters and searches walked, each over every order. */
enum {
    Q_NONE,        /* counters: every index walk stops after the page */
    Q_TENANT,      /* tenantId equalTo: one tenant's part of an index */
    Q_SCOPE,       /* the caller's scope */
    Q_ALL,         /* withDeactivated: true */
    Q_ACTIVE,      /* active equalTo false: the range of idx_active */
    Q_FIRST,       /* firstName equalTo Ann: a range, else records */
    Q_NO_TENANT,   /* tenantId equalTo null */
    Q_ILIKE,       /* email iLike: a scan unless createdAt */
    Q_SEARCH,      /* search lastName "e": a scan unless createdAt */
    Q_TENANT_IN,   /* tenantId valueIn: records */
    Q_IDS,         /* id valueIn: candidates */
    Q_EMAIL,       /* email equalTo: candidates through uniq_email */
    Q_TENANT_SCAN, /* tenantId equalTo with iLike: one tenant, records */
    Q__COUNT
};

typedef struct query {
    Roster__V1__ListUsersRequest req;
    Roster__V1__UserFilter f;
    Roster__V1__IdFilter idf, tf;
    Roster__V1__StringFilter sf, ef;
    Roster__V1__BoolFilter bf;
    Roster__V1__StringList list;
    Roster__V1__UserOrder order;
    Roster__V1__UserSearch search;
    char *values[40];
    const roster_uuid *scope;
} query;

static void query_make(query *q, int kind, int sort, bool desc)
{
    memset(q, 0, sizeof *q);
    roster__v1__list_users_request__init(&q->req);
    roster__v1__user_filter__init(&q->f);
    roster__v1__id_filter__init(&q->idf);
    roster__v1__id_filter__init(&q->tf);
    roster__v1__string_filter__init(&q->sf);
    roster__v1__string_filter__init(&q->ef);
    roster__v1__bool_filter__init(&q->bf);
    roster__v1__string_list__init(&q->list);
    roster__v1__user_order__init(&q->order);
    roster__v1__user_search__init(&q->search);
    q->order.has_sort = q->order.has_order = 1;
    q->order.sort = (Roster__V1__UserSortField)sort;
    q->order.order =
        desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    q->req.order = &q->order;
    q->req.filter = &q->f;
    switch (kind) {
    case Q_NONE:
        q->req.filter = NULL;
        break;
    case Q_TENANT:
        q->tf.equal_to = tenant_ids[1];
        q->f.tenant_id = &q->tf;
        break;
    case Q_SCOPE:
        q->scope = &tenant_uuid[2];
        break;
    case Q_ALL:
        q->bf.has_equal_to = q->bf.equal_to = 1;
        q->f.with_deactivated = &q->bf;
        break;
    case Q_ACTIVE:
        q->bf.has_equal_to = 1;
        q->bf.equal_to = 0;
        q->f.active = &q->bf;
        break;
    case Q_FIRST:
        q->sf.equal_to = "Ann";
        q->f.first_name = &q->sf;
        break;
    case Q_NO_TENANT:
        q->tf.has_equal_to_null = q->tf.equal_to_null = 1;
        q->f.tenant_id = &q->tf;
        break;
    case Q_ILIKE:
        q->ef.i_like = "%1%";
        q->f.email = &q->ef;
        break;
    case Q_SEARCH:
        q->search.has_key = 1;
        q->search.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LAST_NAME;
        q->search.value = "e";
        q->req.search = &q->search;
        break;
    case Q_TENANT_IN:
        q->values[0] = tenant_ids[0];
        q->values[1] = tenant_ids[2];
        q->list.n_values = 2;
        q->list.values = q->values;
        q->tf.value_in = &q->list;
        q->f.tenant_id = &q->tf;
        break;
    case Q_IDS:
        for (int i = 0; i < 40; i++)
            q->values[i] = user_ids[(i * 37) % N_USERS];
        q->list.n_values = 40;
        q->list.values = q->values;
        q->idf.value_in = &q->list;
        q->f.id = &q->idf;
        break;
    case Q_EMAIL:
        q->ef.equal_to = "u001@X.IO";
        q->f.email = &q->ef;
        break;
    default:
        q->tf.equal_to = tenant_ids[0];
        q->f.tenant_id = &q->tf;
        q->ef.i_like = "%2%";
        q->f.email = &q->ef;
        break;
    }
}

START_TEST(walks_every_order_and_plan)
{
    int walks = 0, pages = 0;
    for (int kind = 0; kind < Q__COUNT; kind++)
        for (int sort = 0; sort <= 9; sort++)
            for (int desc = 0; desc < 2; desc++) {
                query q;
                query_make(&q, kind, sort, desc);
                pages += walk_users(q.scope, &q.req, 3 + rn(5));
                pages += walk_users(q.scope, &q.req, 100);
                walks += 2;
                roster_arena_reset(&fx_arena);
            }
    /* Page by page through the unfiltered list in both directions. */
    for (int desc = 0; desc < 2; desc++) {
        query q;
        query_make(&q, Q_NONE, 0, desc);
        ck_assert_int_eq(walk_users(NULL, &q.req, 1), N_USERS - N_USERS / 10 + 1);
    }
    ck_assert_int_eq(walks, Q__COUNT * 10 * 2 * 2);
    ck_assert_int_gt(pages, 5000);
}
END_TEST

/* limit 0 after a cursor: the count, has_next_page, no cursor. */
START_TEST(count_only_after_a_cursor)
{
    for (int kind = 0; kind < Q__COUNT; kind++) {
        query q;
        query_make(&q, kind, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME, kind % 2);
        Roster__V1__ListUsersResponse *big = big_page(q.scope, &q.req);
        if (big->n_users == 0)
            continue;
        q.req.has_limit = 1;
        q.req.limit = 1;
        Roster__V1__ListUsersResponse *first = list_users(q.scope, &q.req, NULL, NULL);
        q.req.after = first->page_info->end_cursor;
        q.req.limit = 0;
        Roster__V1__ListUsersResponse *count = list_users(q.scope, &q.req, NULL, NULL);
        ck_assert_int_eq(count->total_count, big->total_count);
        ck_assert_uint_eq(count->n_users, 0);
        info_ok(count->page_info, 0, big->n_users > 1);
        /* without a cursor: whether anything lies past the offset */
        q.req.after = NULL;
        q.req.has_offset = 1;
        q.req.offset = (int32_t)big->n_users - 1;
        count = list_users(q.scope, &q.req, NULL, NULL);
        info_ok(count->page_info, 0, true);
        q.req.offset = (int32_t)big->n_users;
        count = list_users(q.scope, &q.req, NULL, NULL);
        info_ok(count->page_info, 0, false);
    }
}
END_TEST

/* Order keys of the big page's records, from one-record pages' cursors. */
static void order_keys(uint8_t (*keys)[CURSOR_POS_MAX], size_t *lens, uint64_t shape, int type,
                       const roster_uuid *scope, const Roster__V1__ListUsersRequest *req, size_t n)
{
    Roster__V1__ListUsersRequest one = *req;
    one.has_limit = 1;
    one.limit = 1;
    for (size_t i = 0; i < n; i++) {
        Roster__V1__ListUsersResponse *p = list_users(scope, &one, NULL, NULL);
        ck_assert_uint_eq(p->n_users, 1);
        ck_assert_int_eq(
            cursor_decode(keys[i], &lens[i], p->page_info->end_cursor, 0, shape, type, NULL),
            ROSTER_E_OK);
        one.after = p->page_info->end_cursor;
    }
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* A cursor naming any position gives exactly the records after it: the
 * positions of the records themselves, positions between them (the id or
 * the value changed a little), before and after all of them, and values a
 * range plan does not hold. */
START_TEST(crafted_positions_continue_exactly)
{
    static uint8_t keys[N_USERS][CURSOR_POS_MAX];
    static size_t lens[N_USERS];
    const int kinds[] = {Q_NONE, Q_TENANT, Q_ACTIVE, Q_FIRST, Q_ILIKE, Q_IDS, Q_TENANT_SCAN};
    int tried = 0;
    for (size_t kk = 0; kk < sizeof kinds / sizeof kinds[0]; kk++)
        for (int sort = 1; sort <= 9; sort++)
            for (int desc = 0; desc < 2; desc++) {
                query q;
                query_make(&q, kinds[kk], sort, desc);
                Roster__V1__ListUsersResponse *big = big_page(q.scope, &q.req);
                size_t n = big->n_users;
                if (n == 0)
                    continue;
                int fi = sort == ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT
                             ? MODEL_USER_createdAt
                             : store_fields_enum(store_fields_get()->user_sort, sort);
                int type = fi == MODEL_USER_createdAt ? -1 : (int)model_user.fields[fi].type;
                uint64_t shape =
                    cursor_shape('u', q.scope, fi, desc, q.req.filter ? &q.req.filter->base : NULL,
                                 q.req.search ? &q.req.search->base : NULL);
                order_keys(keys, lens, shape, type, q.scope, &q.req, n);
                for (int trial = 0; trial < 12; trial++) {
                    uint8_t pos[CURSOR_POS_MAX];
                    size_t pn = lens[rn((int)n)];
                    memcpy(pos, keys[rn((int)n)], pn);
                    switch (trial % 4) {
                    case 0: /* a record's own position */
                        break;
                    case 1: /* between records: the id one up or down */
                        pos[pn - 1] = (uint8_t)(pos[pn - 1] + (rn(2) ? 1 : -1));
                        break;
                    case 2: /* another value of the same type */
                        if (pn > 16 + 2 && pos[0] == 0x01) {
                            pos[1] = (uint8_t)(pos[1] ^ (1 + rn(0x3f)));
                            if (pos[1] == 0)
                                pos[1] = 'm';
                        } else if (pn == 17) {
                            pos[0] = (uint8_t)(1 + rn(3));
                        } else if (pn == 24) {
                            pos[rn(8)] ^= (uint8_t)(1 + rn(255));
                        }
                        break;
                    default: /* before or after every record */
                        if (pn == 16 || pn == 24) {
                            memset(pos, rn(2) ? 0x00 : 0xff, pn);
                        } else if (pn == 17 && pos[0] != 0x02) {
                            pos[0] = rn(2) ? 0x01 : 0x03; /* false, or null */
                            memset(pos + 1, rn(2) ? 0x00 : 0xff, 16);
                        } else if (rn(2)) {
                            pos[0] = 0x01; /* the empty string, the smallest id */
                            memset(pos + 1, 0x00, 17);
                            pn = 18;
                        } else {
                            pos[0] = 0x02; /* null, the greatest id */
                            memset(pos + 1, 0xff, 16);
                            pn = 17;
                        }
                        break;
                    }
                    char *cur;
                    ck_assert_int_eq(cursor_encode(&cur, shape, pos, pn, &fx_arena), ROSTER_E_OK);
                    Roster__V1__ListUsersRequest req = q.req;
                    req.after = cur;
                    req.has_limit = 1;
                    req.limit = ROSTER_MAX_PAGE;
                    int err;
                    roster_err_detail d = {0};
                    Roster__V1__ListUsersResponse *p = list_users(q.scope, &req, &err, &d);
                    if (err != ROSTER_E_OK) {
                        /* only a value that is not well-formed is refused */
                        ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
                        ck_assert_str_eq(d.field, "after");
                        continue;
                    }
                    size_t first = 0;
                    while (first < n && (desc ? key_cmp(keys[first], lens[first], pos, pn) >= 0
                                              : key_cmp(keys[first], lens[first], pos, pn) <= 0))
                        first++;
                    ck_assert_msg(p->n_users == n - first,
                                  "kind %d sort %d desc %d trial %d: %zu records after the "
                                  "position, %zu expected",
                                  kinds[kk], sort, desc, trial, p->n_users, n - first);
                    for (size_t i = 0; i < p->n_users; i++)
                        ck_assert_str_eq(p->users[i]->id, big->users[first + i]->id);
                    ck_assert_int_eq(p->total_count, big->total_count);
                    tried++;
                }
                roster_arena_reset(&fx_arena);
            }
    ck_assert_int_gt(tried, 1000);
}
END_TEST

/* ------------------------------------------------------------ refusals */

static void refused(const roster_uuid *scope, const Roster__V1__ListUsersRequest *req,
                    const char *words)
{
    int err;
    roster_err_detail d = {0};
    ck_assert_ptr_null(list_users(scope, req, &err, &d));
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "after");
    ck_assert_msg(strstr(d.message, words) != NULL, "'%s' does not say '%s'", d.message, words);
}

START_TEST(cursor_of_another_query_is_refused)
{
    query q;
    query_make(&q, Q_FIRST, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL, false);
    q.req.has_limit = 1;
    q.req.limit = 2;
    Roster__V1__ListUsersResponse *p = list_users(NULL, &q.req, NULL, NULL);
    ck_assert_uint_eq(p->n_users, 2);
    char *cur = p->page_info->end_cursor;
    q.req.after = cur;
    /* the same query goes on, with any limit and field mask, and offset 0 */
    q.req.limit = 5;
    q.req.has_field_mask = 1;
    q.req.field_mask = 1u << 3;
    q.req.has_offset = 1;
    q.req.offset = 0;
    ck_assert_ptr_nonnull(list_users(NULL, &q.req, NULL, NULL));
    /* a non-zero offset */
    q.req.offset = 3;
    refused(NULL, &q.req, "offset");
    q.req.offset = 0;
    /* another filter value, another filter, no filter */
    q.sf.equal_to = "Bob";
    refused(NULL, &q.req, "another query");
    q.sf.equal_to = "Ann";
    q.bf.has_equal_to = q.bf.equal_to = 1;
    q.f.with_deactivated = &q.bf;
    refused(NULL, &q.req, "another query");
    q.f.with_deactivated = NULL;
    q.req.filter = NULL;
    refused(NULL, &q.req, "another query");
    q.req.filter = &q.f;
    /* a search added */
    q.search.has_key = 1;
    q.search.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_EMAIL;
    q.search.value = "x";
    q.req.search = &q.search;
    refused(NULL, &q.req, "another query");
    q.req.search = NULL;
    /* another direction, another sort field, the default order */
    q.order.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    refused(NULL, &q.req, "another query");
    q.order.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    q.order.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE;
    refused(NULL, &q.req, "another query");
    q.req.order = NULL;
    refused(NULL, &q.req, "another query");
    q.req.order = &q.order;
    q.order.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
    /* another caller's scope */
    refused(&tenant_uuid[0], &q.req, "another query");
    ck_assert_ptr_nonnull(list_users(NULL, &q.req, NULL, NULL));

    /* The default order and its spelled-out form are one order. */
    Roster__V1__ListUsersRequest plain = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    plain.has_limit = 1;
    plain.limit = 1;
    p = list_users(NULL, &plain, NULL, NULL);
    Roster__V1__UserOrder spelled = ROSTER__V1__USER_ORDER__INIT;
    spelled.has_sort = spelled.has_order = 1;
    spelled.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT;
    spelled.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    plain.order = &spelled;
    plain.after = p->page_info->end_cursor;
    ck_assert_ptr_nonnull(list_users(NULL, &plain, NULL, NULL));

    /* A tenant cursor is no user cursor, and the other way round. */
    Roster__V1__ListTenantsRequest tr = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    tr.has_limit = 1;
    tr.limit = 1;
    Roster__V1__ListTenantsResponse *tp = list_tenants(NULL, &tr, NULL, NULL);
    plain.order = NULL;
    plain.after = tp->page_info->end_cursor;
    refused(NULL, &plain, "another query");
    tr.after = p->page_info->end_cursor;
    int err;
    roster_err_detail d = {0};
    ck_assert_ptr_null(list_tenants(NULL, &tr, &err, &d));
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "after");
}
END_TEST

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Random text, random bytes in base64url, every cut and every one-character
 * change of real cursors: all refused naming "after", none crashes. */
START_TEST(garbage_cursors_are_refused)
{
    query q;
    query_make(&q, Q_NONE, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME, false);
    q.req.has_limit = 1;
    q.req.limit = 3;
    Roster__V1__ListUsersResponse *p = list_users(NULL, &q.req, NULL, NULL);
    const char *real = p->page_info->end_cursor;
    q.req.limit = 2;
    static char text[2 * ROSTER_MAX_CURSOR];
    int cases = 0;
    /* every prefix of a real cursor */
    size_t rl = strlen(real);
    for (size_t cut = 0; cut < rl; cut++) {
        memcpy(text, real, cut);
        text[cut] = '\0';
        q.req.after = text;
        refused(NULL, &q.req, "after");
        cases++;
    }
    /* every single-character change */
    for (size_t i = 0; i < rl; i++)
        for (const char *ch = b64chars; *ch; ch++) {
            if (*ch == real[i])
                continue;
            strcpy(text, real);
            text[i] = *ch;
            q.req.after = text;
            refused(NULL, &q.req, "after");
            cases++;
        }
    /* a real cursor with something appended */
    snprintf(text, sizeof text, "%sA", real);
    q.req.after = text;
    refused(NULL, &q.req, "after");
    /* random text of any bytes and lengths, some longer than any cursor */
    for (int i = 0; i < 4000; i++) {
        size_t len = (size_t)rn(i % 10 == 0 ? 2 * ROSTER_MAX_CURSOR - 1 : 400);
        bool alphabet = rn(2);
        for (size_t j = 0; j < len; j++)
            text[j] = alphabet ? b64chars[rn(64)] : (char)(1 + rn(255));
        text[len] = '\0';
        q.req.after = text;
        q.order.sort = (Roster__V1__UserSortField)rn(10);
        q.order.order = rn(2) ? ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC
                              : ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
        refused(rn(4) ? NULL : &tenant_uuid[0], &q.req, "after");
        cases++;
    }
    /* random bytes, well-formed base64url of every plausible length */
    for (int i = 0; i < 4000; i++) {
        uint8_t b[400];
        size_t len = (size_t)rn(300);
        for (size_t j = 0; j < len; j++)
            b[j] = (uint8_t)rnd();
        if (rn(2) && len > 0)
            b[0] = CURSOR_VERSION;
        text[roster_b64url_encode(text, b, len)] = '\0';
        q.req.after = text;
        refused(NULL, &q.req, "after");
        cases++;
    }
    /* and the same garbage for tenants */
    Roster__V1__ListTenantsRequest tr = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    for (int i = 0; i < 2000; i++) {
        size_t len = (size_t)rn(600);
        for (size_t j = 0; j < len; j++)
            text[j] = i % 2 ? b64chars[rn(64)] : (char)(1 + rn(255));
        text[len] = '\0';
        tr.after = text;
        int err;
        roster_err_detail d = {0};
        ck_assert_ptr_null(list_tenants(NULL, &tr, &err, &d));
        ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "after");
        cases++;
    }
    ck_assert_int_gt(cases, 10000);
    roster_arena_reset(&fx_arena);
}
END_TEST

/* A well-formed cursor whose order key does not fit the order: refused. */
START_TEST(order_key_of_another_shape_is_refused)
{
    query q;
    query_make(&q, Q_NONE, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UPDATED_AT, true);
    int fi = MODEL_USER_updatedAt;
    uint64_t shape = cursor_shape('u', NULL, fi, true, NULL, NULL);
    uint8_t pos[CURSOR_POS_MAX];
    memset(pos, 0x41, sizeof pos);
    const size_t bad_lens[] = {16, 17, 23, 25, 40, CURSOR_POS_MAX};
    for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
        char *cur;
        ck_assert_int_eq(cursor_encode(&cur, shape, pos, bad_lens[i], &fx_arena), ROSTER_E_OK);
        q.req.after = cur;
        refused(NULL, &q.req, "not a cursor");
    }
    /* a date value and an id: accepted */
    char *cur;
    ck_assert_int_eq(cursor_encode(&cur, shape, pos, 24, &fx_arena), ROSTER_E_OK);
    q.req.after = cur;
    ck_assert_ptr_nonnull(list_users(NULL, &q.req, NULL, NULL));
    /* text values must be 0x02, or 0x01 text 0x00 without a NUL inside */
    query_make(&q, Q_NONE, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME, false);
    shape = cursor_shape('u', NULL, MODEL_USER_lastName, false, NULL, NULL);
    const uint8_t bad_text[][4] = {{0x01, 'a', 'b', 0x01},
                                   {0x01, 0x00, 'b', 0x00},
                                   {0x03, 'a', 'b', 0x00},
                                   {0x02, 'a', 'b', 0x00}};
    for (size_t i = 0; i < 4; i++) {
        memcpy(pos, bad_text[i], 4);
        ck_assert_int_eq(cursor_encode(&cur, shape, pos, 4 + 16, &fx_arena), ROSTER_E_OK);
        q.req.after = cur;
        refused(NULL, &q.req, "not a cursor");
    }
}
END_TEST

/* ------------------------------------------------------------ changes between pages */

/* Records created or changed between pages: the walk goes on from the
 * position the cursor names, not from a count, so nothing already seen
 * comes again and nothing still ahead is skipped. */
START_TEST(writes_between_pages)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 10;
    Roster__V1__ListUsersResponse *p = list_users(NULL, &req, NULL, NULL);
    int64_t total = p->total_count;
    char seen_last[37];
    strcpy(seen_last, p->users[9]->id);
    req.after = p->page_info->end_cursor;
    /* three newer users: before the cursor in createdAt DESC */
    for (int i = 0; i < 3; i++) {
        char ref[16], email[32];
        snprintf(ref, sizeof ref, "new%d", i);
        snprintf(email, sizeof email, "new%d@x.io", i);
        ck_assert_int_eq(fx_user(NULL, ref, email, NULL, NULL, NULL), ROSTER_E_OK);
    }
    Roster__V1__ListUsersResponse *q = list_users(NULL, &req, NULL, NULL);
    ck_assert_int_eq(q->total_count, total + 3);
    ck_assert_uint_eq(q->n_users, 10);
    ck_assert_str_lt(q->users[0]->id, seen_last);
    Roster__V1__ListUsersRequest offset = req;
    offset.after = NULL;
    offset.has_offset = 1;
    offset.offset = 13; /* an offset page shifts by the three */
    Roster__V1__ListUsersResponse *o = list_users(NULL, &offset, NULL, NULL);
    ck_assert_str_eq(o->users[0]->id, q->users[0]->id);

    /* The record a cursor names changes its sort value: the next page
     * starts after the position it had. */
    Roster__V1__UserOrder by_email = ROSTER__V1__USER_ORDER__INIT;
    by_email.has_sort = by_email.has_order = 1;
    by_email.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
    by_email.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    Roster__V1__ListUsersRequest e = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    e.order = &by_email;
    e.has_limit = 1;
    e.limit = 5;
    Roster__V1__ListUsersResponse *e1 = list_users(NULL, &e, NULL, NULL);
    Roster__V1__ListUsersRequest e6 = e;
    e6.limit = 6;
    Roster__V1__ListUsersResponse *six = list_users(NULL, &e6, NULL, NULL);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = e1->users[4]->id;
    up.email = "zzz@x.io";
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    e.after = e1->page_info->end_cursor;
    Roster__V1__ListUsersResponse *e2 = list_users(NULL, &e, NULL, NULL);
    ck_assert_str_eq(e2->users[0]->id, six->users[5]->id);
}
END_TEST

/* ------------------------------------------------------------ tenants */

static int walk_tenants(const roster_uuid *scope, const Roster__V1__ListTenantsRequest *req,
                        int limit)
{
    Roster__V1__ListTenantsRequest all = *req;
    all.has_limit = 1;
    all.limit = ROSTER_MAX_PAGE;
    Roster__V1__ListTenantsResponse *big = list_tenants(scope, &all, NULL, NULL);
    ck_assert_int_eq((int64_t)big->n_tenants, big->total_count);
    info_ok(big->page_info, big->n_tenants, false);
    Roster__V1__ListTenantsRequest page = *req;
    page.has_limit = 1;
    page.limit = limit;
    size_t seen = 0;
    int pages = 0;
    for (;;) {
        Roster__V1__ListTenantsResponse *p = list_tenants(scope, &page, NULL, NULL);
        pages++;
        ck_assert_int_eq(p->total_count, big->total_count);
        size_t want = big->n_tenants - seen < (size_t)limit ? big->n_tenants - seen : (size_t)limit;
        ck_assert_uint_eq(p->n_tenants, want);
        for (size_t i = 0; i < p->n_tenants; i++) {
            ck_assert_str_eq(p->tenants[i]->id, big->tenants[seen + i]->id);
            ck_assert(p->tenants[i]->has_user_count == page.include_user_count);
        }
        seen += p->n_tenants;
        info_ok(p->page_info, p->n_tenants, seen < big->n_tenants);
        if (p->n_tenants == 0)
            break;
        page.after = p->page_info->end_cursor;
        page.include_user_count = !page.include_user_count; /* may change between pages */
        page.has_include_user_count = 1;
    }
    ck_assert_uint_eq(seen, big->n_tenants);
    return pages;
}

START_TEST(tenant_walks_and_refusals)
{
    Roster__V1__TenantOrder order = ROSTER__V1__TENANT_ORDER__INIT;
    Roster__V1__TenantFilter f = ROSTER__V1__TENANT_FILTER__INIT;
    Roster__V1__StringFilter like = ROSTER__V1__STRING_FILTER__INIT;
    like.like = "%tenant";
    int pages = 0;
    for (int sort = 0; sort <= 2; sort++)
        for (int desc = 0; desc < 2; desc++)
            for (int kind = 0; kind < 3; kind++) {
                Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
                order.has_sort = order.has_order = 1;
                order.sort = (Roster__V1__TenantSortField)sort;
                order.order = desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC
                                   : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
                req.order = &order;
                if (kind == 1) {
                    f.name = &like;
                    req.filter = &f;
                }
                const roster_uuid *scope = kind == 2 ? &tenant_uuid[1] : NULL;
                pages += walk_tenants(scope, &req, 1);
                pages += walk_tenants(scope, &req, 4);
            }
    ck_assert_int_gt(pages, 200);

    /* refusals: another filter, order or scope, and an offset */
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    order.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME;
    order.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &order;
    req.has_limit = 1;
    req.limit = 2;
    Roster__V1__ListTenantsResponse *p = list_tenants(NULL, &req, NULL, NULL);
    req.after = p->page_info->end_cursor;
    struct {
        int change;
        const char *words;
    } cases[] = {{0, "another query"}, {1, "another query"}, {2, "another query"}, {3, "offset"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Roster__V1__ListTenantsRequest r = req;
        Roster__V1__TenantOrder o = order;
        const roster_uuid *scope = NULL;
        r.order = &o;
        if (cases[i].change == 0) {
            f.name = &like;
            r.filter = &f;
        } else if (cases[i].change == 1) {
            o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
        } else if (cases[i].change == 2) {
            scope = &tenant_uuid[0];
        } else {
            r.has_offset = 1;
            r.offset = 1;
        }
        int err;
        roster_err_detail d = {0};
        ck_assert_ptr_null(list_tenants(scope, &r, &err, &d));
        ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "after");
        ck_assert_msg(strstr(d.message, cases[i].words), "%s", d.message);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_cursor");
    TCase *tc = tcase_create("cursor");
    tcase_set_timeout(tc, 170);
    tcase_add_checked_fixture(tc, cursor_setup, fx_teardown);
    tcase_add_test(tc, walks_every_order_and_plan);
    tcase_add_test(tc, count_only_after_a_cursor);
    tcase_add_test(tc, crafted_positions_continue_exactly);
    tcase_add_test(tc, cursor_of_another_query_is_refused);
    tcase_add_test(tc, garbage_cursors_are_refused);
    tcase_add_test(tc, order_key_of_another_shape_is_refused);
    tcase_add_test(tc, writes_between_pages);
    tcase_add_test(tc, tenant_walks_and_refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
