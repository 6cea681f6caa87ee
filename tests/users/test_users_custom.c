/* Integration: customData indexes through the real roster-users binary
 * over tcp:// with keys: declared with --custom-index, filters with exact
 * totals, order, refusal of an undeclared path and of a value of the wrong
 * type (naming the path), a tenant key seeing only its tenant, and a
 * restart that builds a newly declared index over existing users (online)
 * and drops an undeclared one. */
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

int main(int argc, char **argv)
{
    Suite *s = suite_create("users_custom");
    TCase *tc = tcase_create("custom");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, custom_index_service);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
