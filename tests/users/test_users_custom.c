/* Integration: customData indexes through the real roster-users binary
 * over tcp:// with keys: declared with --custom-index, filters with exact
 * totals, order, refusal of an undeclared path and of a value of the wrong
 * type (naming the path), a tenant key seeing only its tenant, and a
 * restart that builds a newly declared index over existing users (online)
 * and drops an undeclared one; the order_merge warning of
 * --merge-warn-tenants. */
#include "daemon.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define URL "tcp://127.0.0.1:20161"

static char *create_tenant(rpc_client *c, const char *name)
{
    Roster__V1__CreateTenantRequest t = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    t.name = (char *)name;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &t.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__Tenant *)r.reply)->id);
    call_res_free(&r);
    return id;
}

static void create_user(rpc_client *c, const char *ref, const char *tenant, const char *json)
{
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    char email[64];
    snprintf(email, sizeof email, "%s@example.com", ref);
    u.email = email;
    u.reference = (char *)ref;
    u.tenant_id = (char *)tenant;
    u.custom_data = (char *)json;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r), 0);
    call_res_free(&r);
}

/* One ListUsers with a condition on `path` (op "eq" or "gte", JSON value
 * v; path NULL: none) and an order by customData path `order` (NULL:
 * default). Returns the code; refs joined by "," into out and the total. */
static int list(rpc_client *c, const char *key, const char *path, const char *op, const char *v,
                const char *order, bool desc, char *out, int64_t *total, call_res *r)
{
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__CustomDataCondition cd = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT, *cp = &cd;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    if (path) {
        cd.path = (char *)path;
        if (strcmp(op, "eq") == 0)
            cd.equal_to = (char *)v;
        else
            cd.more_than_equal = (char *)v;
        f.n_custom_data = 1;
        f.custom_data = &cp;
        lu.filter = &f;
    }
    o.has_order = 1;
    o.order =
        desc ? ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC : ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    o.custom_data = (char *)order;
    lu.order = &o;
    int code = call_sync(c, RPC_LIST_USERS, &lu.base, 5000, key, r);
    out[0] = 0;
    if (code == 0) {
        Roster__V1__ListUsersResponse *resp = (void *)r->reply;
        *total = resp->total_count;
        for (size_t i = 0; i < resp->n_users; i++) {
            if (i)
                strcat(out, ",");
            strcat(out, resp->users[i]->reference);
        }
        call_res_free(r);
    }
    return code;
}

START_TEST(custom_index_service)
{
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--custom-index", "plan:string", "--custom-index",
                           "billing.seats:integer", NULL};
    daemon_start(&d, URL, extra);
    rpc_client *c = daemon_client(&d);
    char *ta = create_tenant(c, "a"), *tb = create_tenant(c, "b");
    create_user(c, "u1", ta, "{\"plan\":\"pro\",\"billing\":{\"seats\":12}}");
    create_user(c, "u2", tb, "{\"plan\":\"pro\",\"billing\":{\"seats\":40}}");
    create_user(c, "u3", ta, "{\"plan\":\"free\",\"billing\":{\"seats\":1}}");
    create_user(c, "u4", ta, "{\"plan\":\"pro\",\"billing\":{\"seats\":\"many\"}}");
    create_user(c, "u5", tb, "{\"other\":true}");

    char out[256];
    int64_t total = -1;
    call_res r;
    ck_assert_int_eq(list(c, NULL, "plan", "eq", "\"pro\"", NULL, false, out, &total, &r), 0);
    ck_assert_str_eq(out, "u1,u2,u4");
    ck_assert_int_eq(total, 3);
    ck_assert_int_eq(
        list(c, NULL, "billing.seats", "gte", "10", "billing.seats", true, out, &total, &r), 0);
    ck_assert_str_eq(out, "u2,u1");
    ck_assert_int_eq(total, 2);
    ck_assert_int_eq(list(c, NULL, NULL, NULL, NULL, "billing.seats", false, out, &total, &r), 0);
    ck_assert_str_eq(out, "u3,u1,u2");

    /* refusals name the path */
    ck_assert_int_eq(list(c, NULL, "plan.tier", "eq", "\"x\"", NULL, false, out, &total, &r), 3);
    ck_assert_str_eq(r.field, "filter.customData");
    ck_assert_ptr_nonnull(strstr(r.message, "plan.tier"));
    call_res_free(&r);
    ck_assert_int_eq(list(c, NULL, "billing.seats", "gte", "\"x\"", NULL, false, out, &total, &r),
                     3);
    ck_assert_ptr_nonnull(strstr(r.message, "billing.seats"));
    call_res_free(&r);
    ck_assert_int_eq(list(c, NULL, "billing.seats", "eq", "1.5", NULL, false, out, &total, &r), 3);
    ck_assert_ptr_nonnull(strstr(r.message, "billing.seats"));
    call_res_free(&r);
    ck_assert_int_eq(list(c, NULL, NULL, NULL, NULL, "nope", false, out, &total, &r), 3);
    ck_assert_str_eq(r.field, "order.customData");
    call_res_free(&r);

    /* a tenant key sees its tenant's users only */
    char *ka = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, ta, NULL);
    ck_assert_int_eq(list(c, ka, "plan", "eq", "\"pro\"", NULL, false, out, &total, &r), 0);
    ck_assert_str_eq(out, "u1,u4");
    ck_assert_int_eq(total, 2);
    ck_assert_int_eq(list(c, ka, NULL, NULL, NULL, "billing.seats", true, out, &total, &r), 0);
    ck_assert_str_eq(out, "u1,u3");
    ck_assert_int_eq(total, 2);
    free(ka);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* Restart: seats no longer declared (dropped), other:boolean built. */
    const char *extra3[] = {"--custom-index", "plan:string", "--custom-index", "other:boolean",
                            NULL};
    /* The admin key minted at the first start stays valid. */
    char keep[128];
    snprintf(keep, sizeof keep, "%s", d.key);
    daemon_start_plain(&d, URL, extra3);
    snprintf(d.key, sizeof d.key, "%s", keep);
    c = daemon_client(&d);
    ck_assert(daemon_log_has(&d, "event=custom_index_drop path=billing.seats"));
    /* built online: queries answer at once (from the records until the
     * index is ready), the same answers */
    for (int t = 0; t < 600 && !daemon_log_has(&d, "event=custom_index_ready path=other"); t++)
        usleep(50000);
    ck_assert(daemon_log_has(&d, "event=custom_index_ready path=other users=5"));
    ck_assert_int_eq(list(c, NULL, "other", "eq", "true", NULL, false, out, &total, &r), 0);
    ck_assert_str_eq(out, "u5");
    ck_assert_int_eq(list(c, NULL, "billing.seats", "gte", "1", NULL, false, out, &total, &r), 3);
    ck_assert_ptr_nonnull(strstr(r.message, "billing.seats"));
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    free(ta);
    free(tb);
    daemon_rmdir(&d);
}
END_TEST

/* One ListUsers ordered by `sort` (a UserSortField), every tenant the
 * key sees; fails the test unless it answers. */
static void list_sorted(rpc_client *c, const char *key, int sort)
{
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_sort = 1;
    o.sort = (Roster__V1__UserSortField)sort;
    lu.order = &o;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 5000, key, &r), 0);
    call_res_free(&r);
}

/* The count of log lines of d holding `word` once it reaches `want`, or
 * after 5 s. The service logs order_merge after it has replied, so a
 * reply does not mean the line is there yet; list queries run one after
 * another on the service's one index-list thread, so once a later
 * query's line is there, an earlier query's would be too. */
static int wait_log(const test_daemon *d, const char *word, int want)
{
    int n = daemon_log_count(d, word);
    for (int i = 0; i < 500 && n < want; i++) {
        usleep(10000);
        n = daemon_log_count(d, word);
    }
    return n;
}

/* --merge-warn-tenants: a page over every tenant ordered by a field
 * without a global order, merging at least that many tenants, logs one
 * order_merge warning per field (not again at once), naming the field,
 * the tenants merged and the --global-order to declare; a tenant's own
 * page, the default order and a declared global order log none; 0 turns
 * it off. */
START_TEST(order_merge_warning)
{
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--merge-warn-tenants", "3", NULL};
    daemon_start(&d, URL, extra);
    rpc_client *c = daemon_client(&d);
    char *t[3] = {create_tenant(c, "a"), create_tenant(c, "b"), create_tenant(c, "c")};
    for (int i = 0; i < 6; i++) {
        char ref[8];
        snprintf(ref, sizeof ref, "m%d", i);
        create_user(c, ref, t[i % 3], "{}");
    }
    char *ka = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, t[0], NULL);
    const int last = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME;
    const int first = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME;
    const int created = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT;
    list_sorted(c, ka, first);     /* one tenant's range */
    list_sorted(c, NULL, created); /* the records */
    list_sorted(c, NULL, last);
    ck_assert_int_eq(wait_log(&d, "event=order_merge order=lastName tenants=3 us=", 1), 1);
    ck_assert_int_eq(daemon_log_count(&d, "event=order_merge"), 1); /* none before it */
    ck_assert(daemon_log_has(&d, "level=warn"));
    ck_assert(daemon_log_has(&d, "declare --global-order lastName"));
    list_sorted(c, NULL, last);  /* not again so soon */
    list_sorted(c, NULL, first); /* another field: its own line */
    ck_assert_int_eq(wait_log(&d, "event=order_merge order=firstName tenants=3", 1), 1);
    ck_assert_int_eq(daemon_log_count(&d, "event=order_merge"), 2);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* lastName declared as a global order: served from it, no line; 0
     * turns the warning off for the rest. */
    char keep[128];
    snprintf(keep, sizeof keep, "%s", d.key);
    const char *extra2[] = {"--merge-warn-tenants", "3", "--global-order", "lastName", NULL};
    daemon_start_plain(&d, URL, extra2);
    snprintf(d.key, sizeof d.key, "%s", keep);
    for (int i = 0; i < 600 && !daemon_log_has(&d, "event=custom_index_ready path=lastName"); i++)
        usleep(50000);
    ck_assert(daemon_log_has(&d, "event=custom_index_ready path=lastName"));
    c = daemon_client(&d);
    int before = daemon_log_count(&d, "event=order_merge");
    int before_first = daemon_log_count(&d, "order=firstName");
    list_sorted(c, NULL, last);
    list_sorted(c, NULL, first); /* a new process: firstName warns again */
    ck_assert_int_eq(wait_log(&d, "order=firstName", before_first + 1), before_first + 1);
    ck_assert_int_eq(daemon_log_count(&d, "event=order_merge"), before + 1); /* lastName: none */
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    const char *extra3[] = {"--merge-warn-tenants", "0", NULL};
    daemon_start_plain(&d, URL, extra3);
    snprintf(d.key, sizeof d.key, "%s", keep);
    c = daemon_client(&d);
    before = daemon_log_count(&d, "event=order_merge");
    list_sorted(c, NULL, first);
    list_sorted(c, NULL, last);
    usleep(200000);
    ck_assert_int_eq(daemon_log_count(&d, "event=order_merge"), before);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    free(ka);
    for (int i = 0; i < 3; i++)
        free(t[i]);
    daemon_rmdir(&d);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("users_custom");
    TCase *tc = tcase_create("custom");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, custom_index_service);
    tcase_add_test(tc, order_merge_warning);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
