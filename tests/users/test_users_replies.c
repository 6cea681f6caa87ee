/* Integration: bounded replies from the real roster-users binary. Reads
 * carry a field mask and the service encodes only the masked fields; a
 * reply that would pass the reply limit (ROSTER_MAX_REPLY_BODY) is
 * answered RESOURCE_EXHAUSTED naming the limit, and the connection it
 * shares with other calls keeps serving them. */
#include "daemon.h"
#include "error.h"
#include "roster_limits.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 315 users of 15 KB of customData: about 4.7 MB, over the 4 MiB limit. */
#define N_BIG      315
#define CUSTOM_LEN 15000

#define BIT(n) (UINT64_C(1) << (n))

typedef struct seeded {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, failed;
    char first_id[ROSTER_ID_LEN + 1];
} seeded;

static void seed_cb(void *arg, const rpc_result *r)
{
    seeded *s = arg;
    pthread_mutex_lock(&s->mu);
    if (r->code != 0)
        s->failed++;
    else if (s->first_id[0] == 0)
        snprintf(s->first_id, sizeof s->first_id, "%s", ((Roster__V1__User *)r->reply)->id);
    s->done++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Creates N_BIG users with CUSTOM_LEN bytes of customData each, all sent
 * at once (group commit); copies one id to id_out. */
static void seed_big_users(rpc_client *c, char *id_out)
{
    static char custom[CUSTOM_LEN + 1];
    memset(custom, 'x', sizeof custom);
    memcpy(custom, "{\"blob\":\"", 9);
    memcpy(custom + CUSTOM_LEN - 2, "\"}", 3);
    seeded s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    for (int i = 0; i < N_BIG; i++) {
        char email[64], ref[32];
        snprintf(email, sizeof email, "big%d@example.com", i);
        snprintf(ref, sizeof ref, "big-%d", i);
        Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        u.email = email;
        u.reference = ref;
        u.custom_data = custom;
        ck_assert_int_eq(rpc_client_call(c, RPC_CREATE_USER, &u.base, 60000, NULL, seed_cb, &s),
                         ROSTER_E_OK);
    }
    pthread_mutex_lock(&s.mu);
    while (s.done < N_BIG)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    ck_assert_int_eq(s.failed, 0);
    memcpy(id_out, s.first_id, sizeof s.first_id);
}

static int list_users(rpc_client *c, bool masked, uint64_t mask, call_res *r)
{
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    lu.has_limit = 1;
    lu.limit = 1000;
    lu.has_field_mask = masked;
    lu.field_mask = mask;
    return call_sync(c, RPC_LIST_USERS, &lu.base, 20000, NULL, r);
}

/* Small calls on the same connection while oversize lists are refused. */
typedef struct small_load {
    rpc_client *c;
    const char *id;
    int ok, failed;
    char last[256];
} small_load;

static void *small_calls(void *arg)
{
    small_load *l = arg;
    for (int i = 0; i < 30; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = (char *)l->id;
        g.has_field_mask = 1;
        g.field_mask = BIT(3);
        call_res r;
        if (call_sync(l->c, RPC_GET_USER, &g.base, 20000, NULL, &r) == 0) {
            l->ok++;
        } else {
            l->failed++;
            snprintf(l->last, sizeof l->last, "%d %.200s", r.code, r.message);
        }
        call_res_free(&r);
    }
    return NULL;
}

START_TEST(oversize_list_refused_connection_kept)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    char id[ROSTER_ID_LEN + 1];
    seed_big_users(c, id);

    /* The whole records of the page are over the limit: a clear refusal. */
    call_res r;
    ck_assert_int_eq(list_users(c, false, 0, &r), ROSTER_STATUS_RESOURCE_EXHAUSTED);
    ck_assert_str_eq(r.field, ROSTER_REPLY_LIMIT_FIELD);
    char limit[32];
    snprintf(limit, sizeof limit, "%u bytes", (unsigned)ROSTER_MAX_REPLY_BODY);
    ck_assert_msg(strstr(r.message, limit) != NULL && strstr(r.message, "fewer fields") != NULL,
                  "%s", r.message);
    call_res_free(&r);

    /* The same connection serves the next call. */
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_HEALTH, &h.base, 2000, NULL, &r), 0);
    call_res_free(&r);

    /* Only ids: every user of the page, nothing else encoded. */
    ck_assert_int_eq(list_users(c, true, BIT(1), &r), 0);
    Roster__V1__ListUsersResponse *lr = (void *)r.reply;
    ck_assert_int_eq(lr->total_count, N_BIG);
    ck_assert_uint_eq(lr->n_users, N_BIG);
    for (size_t i = 0; i < lr->n_users; i++) {
        ck_assert_ptr_nonnull(lr->users[i]->id);
        ck_assert_ptr_null(lr->users[i]->email);
        ck_assert_ptr_null(lr->users[i]->custom_data);
        ck_assert(!lr->users[i]->has_created_at);
    }
    call_res_free(&r);

    /* Refusals beside small calls on one connection: every small call is
     * answered, and so is every refusal. */
    small_load loads[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        loads[i] = (small_load){.c = c, .id = id};
        pthread_create(&th[i], NULL, small_calls, &loads[i]);
    }
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(list_users(c, false, 0, &r), ROSTER_STATUS_RESOURCE_EXHAUSTED);
        call_res_free(&r);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(loads[i].failed == 0, "small call failed: %s", loads[i].last);
        ck_assert_int_eq(loads[i].ok, 30);
    }
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(masks_on_every_read)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "Acme";
    ct.reference = "acme";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 0);
    char tid[ROSTER_ID_LEN + 1];
    snprintf(tid, sizeof tid, "%s", ((Roster__V1__Tenant *)r.reply)->id);
    call_res_free(&r);
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.email = "ada@example.com";
    u.reference = "u-1";
    u.first_name = "Ada";
    u.custom_data = "{\"a\":1}";
    u.tenant_id = tid;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r), 0);
    char uid[ROSTER_ID_LEN + 1];
    snprintf(uid, sizeof uid, "%s", ((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);

    /* No mask: every field, as before masks existed. */
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = uid;
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 0);
    Roster__V1__User *gu = (void *)r.reply;
    ck_assert_str_eq(gu->custom_data, "{\"a\":1}");
    ck_assert_str_eq(gu->first_name, "Ada");
    call_res_free(&r);

    /* email (3) and tenantId (14): those and id, nothing else. */
    g.has_field_mask = 1;
    g.field_mask = BIT(3) | BIT(14);
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 0);
    gu = (void *)r.reply;
    ck_assert_str_eq(gu->id, uid);
    ck_assert_str_eq(gu->email, "ada@example.com");
    ck_assert_str_eq(gu->tenant_id, tid);
    ck_assert_ptr_null(gu->first_name);
    ck_assert_ptr_null(gu->custom_data);
    ck_assert(!gu->has_created_at && !gu->has_active);
    call_res_free(&r);

    /* An empty mask is id only; unknown bits are ignored. */
    char *ids[] = {uid, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"};
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    bg.n_ids = 2;
    bg.ids = ids;
    bg.has_field_mask = 1;
    bg.field_mask = BIT(60);
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 2000, NULL, &r), 0);
    Roster__V1__BatchGetUsersResponse *bgr = (void *)r.reply;
    ck_assert(bgr->found[0] && !bgr->found[1]);
    ck_assert_str_eq(bgr->users[0]->id, uid);
    ck_assert_ptr_null(bgr->users[0]->email);
    ck_assert_ptr_null(bgr->users[0]->reference);
    call_res_free(&r);

    /* Tenants: name (2) only; the user count is asked for apart. */
    Roster__V1__GetTenantRequest gt = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    gt.id = tid;
    gt.has_include_user_count = gt.include_user_count = 1;
    gt.has_field_mask = 1;
    gt.field_mask = BIT(2);
    ck_assert_int_eq(call_sync(c, RPC_GET_TENANT, &gt.base, 2000, NULL, &r), 0);
    Roster__V1__Tenant *t = (void *)r.reply;
    ck_assert_str_eq(t->name, "Acme");
    ck_assert_ptr_null(t->reference);
    ck_assert(!t->has_created_at);
    ck_assert(t->has_user_count && t->user_count == 1);
    call_res_free(&r);

    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    lt.has_field_mask = 1;
    lt.field_mask = BIT(3);
    ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &lt.base, 2000, NULL, &r), 0);
    Roster__V1__ListTenantsResponse *ltr = (void *)r.reply;
    ck_assert_uint_ge(ltr->n_tenants, 1);
    for (size_t i = 0; i < ltr->n_tenants; i++) {
        ck_assert_ptr_nonnull(ltr->tenants[i]->id);
        ck_assert_ptr_null(ltr->tenants[i]->name);
    }
    call_res_free(&r);

    Roster__V1__BatchGetTenantsRequest bt = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    char *tids[] = {tid};
    bt.n_ids = 1;
    bt.ids = tids;
    bt.has_field_mask = 1;
    bt.field_mask = BIT(5);
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_TENANTS, &bt.base, 2000, NULL, &r), 0);
    Roster__V1__BatchGetTenantsResponse *btr = (void *)r.reply;
    ck_assert(btr->tenants[0]->has_created_at);
    ck_assert_ptr_null(btr->tenants[0]->name);
    call_res_free(&r);

    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

static Suite *replies_suite(void)
{
    Suite *s = suite_create("roster-users replies");
    TCase *tc = tcase_create("replies");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, masks_on_every_read);
    tcase_add_test(tc, oversize_list_refused_connection_kept);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, replies_suite());
}
