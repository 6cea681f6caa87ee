/* The customData phase of storebench: the cost of building and keeping
 * one customData index, and customData filters and orders through the
 * indexes against the same queries answered by a scan and against the
 * built-in field filter of the same selectivity (plan is drawn like
 * firstName), and pages ordered by a customData index. */
#include "bench.h"

#include "clock.h"

#include <stdio.h>
#include <string.h>

static int open_declared(const bench_config *cfg, const char *const *specs, size_t n, bool scan,
                         store **s, const char *what)
{
    roster_err_detail d = {0};
    store_options o = {.no_sync = !cfg->durable,
                       .map_size = (uint64_t)cfg->map_mib << 20,
                       .custom_index = specs,
                       .n_custom_index = n,
                       .declare_custom_index = true,
                       .custom_index_scan = scan,
                       .detail = &d};
    int64_t t0 = roster_mono_ns();
    int err = store_open(s, cfg->dir, &o);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "storebench: open: %s\n", d.message);
        return err;
    }
    /* The online build, run to its end here (as roster-users' build
     * thread does, in steps of its batch size). */
    store_index_build *b;
    bool done = false;
    if ((err = store_index_build_new(&b, *s)) != ROSTER_E_OK)
        return err;
    while (b != NULL && !done && err == ROSTER_E_OK)
        err = store_index_build_step(b, 2000, &done);
    store_index_build_free(b);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "storebench: index build: %s\n", roster_strerror(err));
        return err;
    }
    if (what)
        printf("build     %-48s %9.2f s\n", what, (double)(roster_mono_ns() - t0) / 1e9);
    return ROSTER_E_OK;
}

typedef struct cq {
    const char *label;
    const char *path, *eq, *lt, *gte;
    bool builtin_ann; /* firstName: {equalTo: Ann} instead */
    bool tenant;      /* scoped to tenants[0] */
} cq;

static const cq queries[] = {
    {"filter    {firstName: {equalTo: Ann}} (built-in)", .builtin_ann = true},
    {"filter    customData plan equalTo \"Ann\"", "plan", "\"Ann\""},
    {"filter    customData seats lessThan 40", "seats", NULL, "40"},
    {"filter    customData seats moreThanEqual 960", "seats", NULL, NULL, "960"},
    {"filter    {firstName: {equalTo: Ann}} one tenant (built-in)", .builtin_ann = true,
     .tenant = true},
    {"filter    customData plan equalTo \"Ann\" one tenant", "plan", "\"Ann\"", .tenant = true},
};

static int run_queries(const bench_config *cfg, store *s, const roster_uuid *tenant, bool scan,
                       const scan_ref *ref)
{
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0] && err == ROSTER_E_OK; i++) {
        const cq *q = &queries[i];
        if (scan && q->builtin_ann)
            continue;
        Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
        Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
        Roster__V1__StringFilter fn = ROSTER__V1__STRING_FILTER__INIT;
        Roster__V1__CustomDataCondition c = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT, *cp = &c;
        req.has_limit = 1;
        req.limit = 20;
        req.filter = &f;
        if (q->builtin_ann) {
            fn.equal_to = "Ann";
            f.first_name = &fn;
        } else if (q->path) {
            c.path = (char *)q->path;
            c.equal_to = (char *)q->eq;
            c.less_than = (char *)q->lt;
            c.more_than_equal = (char *)q->gte;
            f.n_custom_data = 1;
            f.custom_data = &cp;
        }
        char label[128];
        snprintf(label, sizeof label, "%s%s", q->label, scan ? " (scan)" : "");
        size_t reps = scan ? cfg->scans : cfg->pages / 10 + 1;
        err = time_list_warm(s, label, q->tenant ? tenant : NULL, &req, reps, ref);
    }
    return err;
}

/* The page of 20 ordered by customData seats ASC (all users, or the
 * tenant `scope`) at offset 0 and 1,000 and after cursors at the middle
 * and at the end. Each cursor is the end cursor of the one page before it
 * taken by offset (a walk by cursor would read every page before it; the
 * cursor is the same), then the page after it is timed. */
static int custom_order_pages(const bench_config *cfg, store *s, const roster_uuid *scope)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.custom_data = "seats";
    o.has_order = 1;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    req.has_limit = 1;
    roster_arena arena;
    roster_arena_init(&arena, 64 * 1024, 0);
    store_rtxn *r;
    store_page page;
    roster_err_detail d = {0};
    int err = store_read_begin(s, &r);
    if (err == ROSTER_E_OK) {
        err = store_user_list_raw(r, scope, &req, &arena, &page, &d);
        store_read_end(r);
    }
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "storebench: customData order total: %s\n", d.message);
        roster_arena_free(&arena);
        return err;
    }
    int64_t total = page.total_count;
    const char *what = scope ? "one tenant" : "all";
    size_t reps = cfg->pages / 10 + 1;
    char label[160];
    req.limit = 20;
    req.has_offset = 1;
    for (int32_t off = 0; off <= 1000 && err == ROSTER_E_OK; off += 1000) {
        req.offset = off;
        snprintf(label, sizeof label, "page      order customData seats ASC %-10s offset %d", what,
                 off);
        err = time_list(s, label, scope, &req, reps, false);
    }
    int64_t at[] = {total / 2, total > 20 ? total - 20 : 0};
    const char *names[] = {"middle", "end"};
    for (int k = 0; k < 2 && err == ROSTER_E_OK && at[k] > 0; k++) {
        req.has_offset = 1;
        req.offset = (int32_t)(at[k] - 1);
        req.limit = 1;
        req.after = NULL;
        if ((err = store_read_begin(s, &r)) != ROSTER_E_OK)
            break;
        err = store_user_list_raw(r, scope, &req, &arena, &page, &d);
        store_read_end(r);
        if (err == ROSTER_E_OK && page.end_cursor == NULL)
            err = ROSTER_E_NOT_FOUND;
        if (err != ROSTER_E_OK) {
            fprintf(stderr, "storebench: customData order cursor: %s\n",
                    d.message[0] ? d.message : roster_strerror(err));
            break;
        }
        req.has_offset = 0;
        req.limit = 20;
        req.after = (char *)page.end_cursor; /* arena: kept until the reset below */
        snprintf(label, sizeof label, "page      order customData seats ASC %-10s cursor %s", what,
                 names[k]);
        err = time_list(s, label, scope, &req, reps, false);
        printf("          (cursor after %lld of %lld)\n", (long long)at[k], (long long)total);
        roster_arena_reset(&arena);
    }
    roster_arena_free(&arena);
    return err;
}

static const char *const declared_two[] = {"plan:string", "seats:integer"};

int bench_custom_scans(const bench_config *cfg, const roster_uuid *tenant, const scan_ref *ref)
{
    store *s = NULL;
    printf("\ncustomData filters answered by reading every record:\n");
    int err = open_declared(cfg, declared_two, 2, true, &s, NULL);
    if (err == ROSTER_E_OK)
        err = run_queries(cfg, s, tenant, true, ref);
    store_close(s);
    return err;
}

int bench_custom(const bench_config *cfg, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1], size_t next)
{
    static const char *const one[] = {"plan:string"};
    roster_uuid tenant;
    roster_uuid_parse(&tenant, tenants[0], 36);
    size_t extra = cfg->users / 50 ? cfg->users / 50 : 1;
    store *s = NULL;
    printf(
        "\ncustomData indexes (every user has {\"plan\": <a first name>, \"seats\": 0..999}):\n");
    int err = open_declared(cfg, NULL, 0, false, &s, NULL);
    if (err == ROSTER_E_OK)
        err = insert_users(cfg, s, tenants, next, extra, 100, false, "no customData index");
    store_close(s);
    s = NULL;
    if (err == ROSTER_E_OK)
        err = open_declared(cfg, one, 1, false, &s, "index plan:string over the store");
    if (err == ROSTER_E_OK)
        err = insert_users(cfg, s, tenants, next + extra, extra, 100, false,
                           "with index plan:string");
    store_close(s);
    s = NULL;
    if (err == ROSTER_E_OK)
        err = open_declared(cfg, declared_two, 2, false, &s, "index seats:integer over the store");
    if (err == ROSTER_E_OK)
        err = run_queries(cfg, s, &tenant, false, NULL);
    if (err == ROSTER_E_OK)
        err = custom_order_pages(cfg, s, NULL);
    if (err == ROSTER_E_OK)
        err = custom_order_pages(cfg, s, &tenant);
    store_close(s);
    s = NULL;
    if (err == ROSTER_E_OK)
        err = open_declared(cfg, declared_two, 2, true, &s, NULL);
    if (err == ROSTER_E_OK)
        err = run_queries(cfg, s, &tenant, true, NULL);
    store_close(s);
    return err;
}
