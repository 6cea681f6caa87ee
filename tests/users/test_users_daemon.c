/* Integration: the real roster-users binary over ipc and tcp, every
 * method through the protobuf-c async client, every status path, bad
 * input followed by a request that succeeds, group commit, deadlines,
 * durability across SIGKILL, SIGTERM, SIGINT and SIGQUIT with requests in
 * flight, and SIGHUP that leaves the daemon serving. */
#include "daemon.h"
#include "roster_limits.h"
#include "store.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int health_ok(rpc_client *c)
{
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    call_res r;
    int code = call_sync(c, RPC_HEALTH, &h.base, 2000, NULL, &r);
    if (code == 0) {
        Roster__V1__HealthResponse *hr = (void *)r.reply;
        ck_assert_str_eq(hr->status, "SERVING");
        ck_assert(hr->has_uptime_ms);
    }
    call_res_free(&r);
    return code == 0;
}

static char *create_tenant(rpc_client *c, const char *name, const char *ref, bool is_default)
{
    Roster__V1__CreateTenantRequest t = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    t.name = (char *)name;
    t.reference = (char *)ref;
    if (is_default) {
        t.has_is_default = 1;
        t.is_default = 1;
    }
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &t.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__Tenant *)r.reply)->id);
    call_res_free(&r);
    return id;
}

static int create_user(rpc_client *c, const char *email, const char *ref, const char *tenant,
                       const char *scope, call_res *r)
{
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.email = (char *)email;
    u.reference = (char *)ref;
    u.first_name = "Ada";
    u.last_name = "Lovelace";
    u.tenant_id = (char *)tenant;
    return call_sync(c, RPC_CREATE_USER, &u.base, 5000, scope, r);
}

/* Every method, checked for its reply, on an already running daemon. */
static void exercise_every_method(rpc_client *c)
{
    call_res r;
    ck_assert(health_ok(c));
    char *t1 = create_tenant(c, "Acme", "acme", true);
    char *t2 = create_tenant(c, "Globex", NULL, false);

    ck_assert_int_eq(create_user(c, "ada@example.com", "u-1", NULL, NULL, &r), 0);
    Roster__V1__User *u = (void *)r.reply;
    ck_assert_str_eq(u->email, "ada@example.com");
    ck_assert_str_eq(u->tenant_id, t1); /* default tenant */
    ck_assert(u->has_created_at && u->created_at > 0);
    char *uid = strdup(u->id);
    call_res_free(&r);
    ck_assert_int_eq(create_user(c, "bob@example.com", "u-2", t2, NULL, &r), 0);
    char *uid2 = strdup(((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);

    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = uid;
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__User *)r.reply)->first_name, "Ada");
    ck_assert_str_eq(((Roster__V1__User *)r.reply)->id, uid);
    call_res_free(&r);

    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = uid;
    up.first_name = "Augusta";
    Roster__V1__UserField clear[] = {ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME};
    up.n_clear = 1;
    up.clear = clear;
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 2000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__User *)r.reply)->first_name, "Augusta");
    ck_assert_ptr_null(((Roster__V1__User *)r.reply)->last_name);
    call_res_free(&r);

    char *ids[] = {uid, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", uid2};
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    bg.n_ids = 3;
    bg.ids = ids;
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 2000, NULL, &r), 0);
    Roster__V1__BatchGetUsersResponse *bgr = (void *)r.reply;
    ck_assert_uint_eq(bgr->n_found, 3);
    ck_assert(bgr->found[0] && !bgr->found[1] && bgr->found[2]);
    ck_assert_str_eq(bgr->users[2]->email, "bob@example.com");
    call_res_free(&r);

    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 0);
    Roster__V1__ListUsersResponse *lur = (void *)r.reply;
    ck_assert_int_eq(lur->total_count, 2);
    ck_assert_uint_eq(lur->n_users, 2);
    ck_assert_str_eq(lur->users[0]->id, uid2); /* createdAt DESC */
    call_res_free(&r);
    /* A key bound to one tenant narrows the list to it. */
    char *k2 = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, t2, NULL);
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, k2, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListUsersResponse *)r.reply)->total_count, 1);
    call_res_free(&r);
    free(k2);

    Roster__V1__GetTenantRequest gt = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    gt.id = t1;
    gt.has_include_user_count = gt.include_user_count = 1;
    ck_assert_int_eq(call_sync(c, RPC_GET_TENANT, &gt.base, 2000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__Tenant *)r.reply)->name, "Acme");
    ck_assert_int_eq(((Roster__V1__Tenant *)r.reply)->user_count, 1);
    call_res_free(&r);

    Roster__V1__UpdateTenantRequest ut = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    ut.id = t2;
    ut.name = "Globex Corporation";
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_TENANT, &ut.base, 2000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__Tenant *)r.reply)->name, "Globex Corporation");
    call_res_free(&r);

    char *tids[] = {t2, t1};
    Roster__V1__BatchGetTenantsRequest bt = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    bt.n_ids = 2;
    bt.ids = tids;
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_TENANTS, &bt.base, 2000, NULL, &r), 0);
    Roster__V1__BatchGetTenantsResponse *btr = (void *)r.reply;
    ck_assert_uint_eq(btr->n_tenants, 2);
    ck_assert_str_eq(btr->tenants[0]->name, "Globex Corporation");
    call_res_free(&r);

    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &lt.base, 2000, NULL, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListTenantsResponse *)r.reply)->total_count, 2);
    call_res_free(&r);

    Roster__V1__StatsRequest sr = ROSTER__V1__STATS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_STATS, &sr.base, 2000, NULL, &r), 0);
    Roster__V1__StatsResponse *st = (void *)r.reply;
    ck_assert_int_eq(st->users, 2);
    ck_assert_int_eq(st->tenants, 2);
    ck_assert_int_ge(st->commits, 1);
    ck_assert_int_ge(st->committed_writes, 6);
    ck_assert_int_ge(st->in_flight, 1); /* this Stats call itself */
    ck_assert_int_gt(st->used_bytes, 0);
    int seen_create = 0;
    for (size_t i = 0; i < st->n_methods; i++) {
        if (strcmp(st->methods[i]->method, "CreateUser") == 0) {
            seen_create = 1;
            ck_assert_int_eq(st->methods[i]->count, 2);
            ck_assert_int_gt(st->methods[i]->p99_us, 0);
            ck_assert_uint_eq(st->methods[i]->n_statuses, 1);
            ck_assert_int_eq(st->methods[i]->statuses[0]->code, 0);
        }
    }
    ck_assert(seen_create);
    call_res_free(&r);
    free(t1);
    free(t2);
    free(uid);
    free(uid2);
}

START_TEST(every_method_ipc)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    exercise_every_method(c);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(every_method_tcp)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20101", NULL);
    rpc_client *c = daemon_client(&d);
    exercise_every_method(c);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGINT), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(every_method_tls)
{
    test_daemon d;
    daemon_mkdir(&d);
    char cmd[1024], cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/cert.pem", d.dir);
    snprintf(key, sizeof key, "%s/key.pem", d.dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-subj /CN=localhost -days 2 -keyout '%s' -out '%s' 2>/dev/null",
             key, cert);
    ck_assert_int_eq(system(cmd), 0);
    const char *extra[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    /* daemon_start's own client has no CA: encryption without verification. */
    daemon_start(&d, "tls+tcp://127.0.0.1:20102", extra);
    rpc_client *c = NULL;
    rpc_client_options o = {
        .tls_ca_file = cert, .tls_server_name = "localhost", .credential = d.key};
    ck_assert_int_eq(rpc_client_open(&c, d.url, &o, NULL), ROSTER_E_OK);
    exercise_every_method(c);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(status_paths)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;
    char *ta = create_tenant(c, "A", "a", false);
    char *tb = create_tenant(c, "B", "b", false);
    ck_assert_int_eq(create_user(c, "x@example.com", "x", ta, NULL, &r), 0);
    char *uid = strdup(((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);

    /* NOT_FOUND */
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 5);
    ck_assert_str_eq(r.field, "id");
    /* Outside the tenant of the caller's key reads as NOT_FOUND. */
    char *ka = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, ta, NULL);
    char *kb = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, tb, NULL);
    g.id = uid;
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, kb, &r), 5);
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, ka, &r), 0);
    call_res_free(&r);
    /* Tenant-bound keys cannot create in another tenant or make tenants. */
    ck_assert_int_eq(create_user(c, "y@example.com", "y", ta, kb, &r), 7);
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "C";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 2000, ka, &r), 7);
    /* A credential that is not a key. */
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, "tenant-a", &r), 16);
    ck_assert_str_eq(r.field, "credential");
    free(ka);
    free(kb);

    /* ALREADY_EXISTS names the field. */
    ck_assert_int_eq(create_user(c, "X@example.com", "other", ta, NULL, &r), 6);
    ck_assert_str_eq(r.field, "email");
    ck_assert_int_eq(create_user(c, "z@example.com", "x", ta, NULL, &r), 6);
    ck_assert_str_eq(r.field, "reference");
    /* The same email in another tenant is fine. */
    ck_assert_int_eq(create_user(c, "x@example.com", "x", tb, NULL, &r), 0);
    call_res_free(&r);

    /* INVALID_ARGUMENT with field names. */
    ck_assert_int_eq(create_user(c, "not an email", "q", ta, NULL, &r), 3);
    ck_assert_str_eq(r.field, "email");
    ck_assert_int_eq(r.n_violations, 1);
    g.id = "not-a-uuid";
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "id");
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = uid;
    up.locale = "x";
    up.first_name = "A";
    Roster__V1__UserField clear[] = {ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME};
    up.n_clear = 1;
    up.clear = clear;
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 2000, NULL, &r), 3);
    ck_assert_str_ne(r.field, "");
    /* NOT_FOUND for a tenant id that names nothing. */
    ck_assert_int_eq(
        create_user(c, "w@example.com", "w", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", NULL, &r), 5);
    ck_assert_str_eq(r.field, "tenantId");

    /* UNIMPLEMENTED */
    ck_assert_int_eq(call_raw_sync(c, "/roster.v1.UserService/DeleteEverything", "", 0, 2000, &r),
                     12);
    ck_assert_int_eq(call_raw_sync(c, "GetUser", "", 0, 2000, &r), 12);
    /* A server stream is roster-gateway's, over gRPC; over nng it is
     * UNIMPLEMENTED with a message saying where it is served. */
    Roster__V1__WatchChangesRequest wc = ROSTER__V1__WATCH_CHANGES_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_WATCH_CHANGES, &wc.base, 2000, NULL, &r), 12);
    ck_assert_msg(strstr(r.message, "served by roster-gateway over gRPC only") != NULL, "%s",
                  r.message);
    ck_assert(health_ok(c));
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
    free(ta);
    free(tb);
    free(uid);
}
END_TEST

START_TEST(bad_input_keeps_serving)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20103", NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;

    /* Garbage bytes. */
    const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(send_bytes_sync(c, junk, sizeof junk, 2000, &r), 3);
    ck_assert(health_ok(c));

    /* A truncated envelope: a valid one cut inside its body field. */
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    uint8_t body[64];
    size_t blen = roster__v1__get_user_request__pack(&g, body);
    Roster__V1__RpcRequest env = ROSTER__V1__RPC_REQUEST__INIT;
    env.method = "/roster.v1.UserService/GetUser";
    env.has_body = 1;
    env.body.data = body;
    env.body.len = blen;
    Roster__V1__CallContext cc = ROSTER__V1__CALL_CONTEXT__INIT;
    cc.credential = d.key;
    env.context = &cc;
    uint8_t wire[512];
    size_t wlen = roster__v1__rpc_request__pack(&env, wire);
    ck_assert_int_eq(send_bytes_sync(c, wire, wlen - 5, 2000, &r), 3);
    ck_assert(health_ok(c));
    /* The whole envelope is fine (the user just does not exist). */
    ck_assert_int_eq(send_bytes_sync(c, wire, wlen, 2000, &r), 5);

    /* A truncated body inside a complete envelope. */
    ck_assert_int_eq(call_raw_sync(c, "/roster.v1.UserService/GetUser", body, blen - 3, 2000, &r),
                     3);
    ck_assert_ptr_nonnull(strstr(r.message, "GetUserRequest"));
    ck_assert(health_ok(c));

    /* A body of the wrong message type: a Tenant where GetTenantRequest is
     * expected (field 2 is a string in Tenant, a bool here). */
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    t.name = "n";
    t.reference = "r";
    uint8_t tb[64];
    size_t tlen = roster__v1__tenant__pack(&t, tb);
    ck_assert_int_eq(call_raw_sync(c, "/roster.v1.UserService/GetTenant", tb, tlen, 2000, &r), 3);
    ck_assert(health_ok(c));

    /* Unknown method. */
    ck_assert_int_eq(call_raw_sync(c, "/roster.v1.UserService/Nope", body, blen, 2000, &r), 12);
    ck_assert(health_ok(c));

    /* Absurd limits and offsets. */
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    lu.has_limit = 1;
    lu.limit = 1000000000;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "limit");
    lu.limit = -1;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "limit");
    lu.limit = 10;
    lu.has_offset = 1;
    lu.offset = -5;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "offset");
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    lt.has_limit = 1;
    lt.limit = 2147483647;
    ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &lt.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "limit");
    lu.offset = 2000000000;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 0);
    call_res_free(&r);
    ck_assert(health_ok(c));

    /* Invalid UUIDs. */
    char *ids[] = {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b"};
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    bg.n_ids = 2;
    bg.ids = ids;
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "ids");
    Roster__V1__GetTenantRequest gt = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    gt.id = "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz";
    ck_assert_int_eq(call_sync(c, RPC_GET_TENANT, &gt.base, 2000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "id");
    ck_assert(health_ok(c));

    /* Invalid UTF-8 in a string field: refused (by the decoder or by
     * validation), nothing stored. */
    ck_assert_int_eq(create_user(c, "utf8@example.com", "u8\xff\xfe", NULL, NULL, &r), 3);
    ck_assert_str_eq(r.field, "reference");
    Roster__V1__ListUsersRequest all = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &all.base, 2000, NULL, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListUsersResponse *)r.reply)->total_count, 0);
    call_res_free(&r);

    /* Oversize: nng refuses it (the connection is dropped, no reply); the
     * caller's deadline ends the call and the daemon keeps serving. */
    size_t big = ROSTER_MAX_RPC_MESSAGE + 4096;
    uint8_t *buf = calloc(1, big);
    int code = send_bytes_sync(c, buf, big, 500, &r);
    ck_assert(code == 4 || code == 14);
    free(buf);
    /* The client redials with backoff; on a loaded machine that has taken
     * over 2 s, so allow up to about 6 s. */
    int ok = 0;
    for (int i = 0; i < 120 && !ok; i++) {
        ok = health_ok(c);
        if (!ok)
            usleep(50000);
    }
    ck_assert_msg(ok, "not served again after the oversize request (see %s)", d.log);
    ck_assert_int_eq(create_user(c, "after@example.com", "after", NULL, NULL, &r), 0);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

typedef struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, want;
    int codes[512];
    char msgs[512][96];
    char ids[512][ROSTER_UUID_TEXT_LEN + 1];
} batch;

typedef struct batch_slot {
    batch *b;
    int i;
} batch_slot;

static void batch_cb(void *arg, const rpc_result *r)
{
    batch_slot *s = arg;
    batch *b = s->b;
    pthread_mutex_lock(&b->mu);
    b->codes[s->i] = r->code;
    snprintf(b->msgs[s->i], sizeof b->msgs[s->i], "%s", r->message);
    if (r->code == 0 && r->reply != NULL && r->method->id == RPC_CREATE_USER)
        snprintf(b->ids[s->i], sizeof b->ids[s->i], "%s", ((Roster__V1__User *)r->reply)->id);
    b->done++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void batch_wait(batch *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->done < b->want)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void batch_create(rpc_client *c, batch *b, batch_slot *slots, int i, const char *email,
                         const char *ref, uint32_t timeout_ms)
{
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    char genref[80];
    if (ref == NULL) {
        snprintf(genref, sizeof genref, "ref-%s", email);
        ref = genref;
    }
    u.email = (char *)email;
    u.reference = (char *)ref;
    slots[i].b = b;
    slots[i].i = i;
    ck_assert_int_eq(
        rpc_client_call(c, RPC_CREATE_USER, &u.base, timeout_ms, NULL, batch_cb, &slots[i]),
        ROSTER_E_OK);
}

static int64_t stat_commits(rpc_client *c, int64_t *writes)
{
    Roster__V1__StatsRequest sr = ROSTER__V1__STATS_REQUEST__INIT;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_STATS, &sr.base, 2000, NULL, &r), 0);
    int64_t commits = ((Roster__V1__StatsResponse *)r.reply)->commits;
    *writes = ((Roster__V1__StatsResponse *)r.reply)->committed_writes;
    call_res_free(&r);
    return commits;
}

START_TEST(group_commit_answers_each)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    static batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    static batch_slot slots[512];
    enum { N = 200 };
    b.want = N;
    /* Every 10th request reuses the email of the one before it: within
     * the same groups, those fail ALREADY_EXISTS, the rest succeed. */
    for (int i = 0; i < N; i++) {
        char email[64], ref[32];
        snprintf(email, sizeof email, "g%d@example.com", i % 10 == 9 ? i - 1 : i);
        snprintf(ref, sizeof ref, "r%d", i);
        batch_create(c, &b, slots, i, email, ref, 20000);
    }
    batch_wait(&b);
    /* Requests are dispatched on several threads, so of each pair sharing
     * an email either one may reach the writer first: exactly one of the
     * two succeeds and the other is ALREADY_EXISTS; all others succeed. */
    int ok = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        if (i % 10 == 8 || i % 10 == 9) {
            if (i % 10 == 9) {
                int a = b.codes[i - 1], c2 = b.codes[i];
                ck_assert_msg((a == 0 && c2 == 6) || (a == 6 && c2 == 0),
                              "pair %d/%d: codes %d (%s) and %d (%s)", i - 1, i, a, b.msgs[i - 1],
                              c2, b.msgs[i]);
            }
        } else {
            ck_assert_msg(b.codes[i] == 0, "request %d: code %d (%s)", i, b.codes[i], b.msgs[i]);
        }
        ok += b.codes[i] == 0;
        dup += b.codes[i] == 6;
    }
    ck_assert_int_eq(ok, 180);
    ck_assert_int_eq(dup, 20);
    int64_t writes = 0;
    int64_t commits = stat_commits(c, &writes);
    ck_assert_int_eq(writes, 180);
    /* Grouped: far fewer durable commits than writes. */
    ck_assert_int_lt(commits, 180);
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    lu.has_limit = 1;
    lu.limit = 0;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 2000, NULL, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListUsersResponse *)r.reply)->total_count, 180);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* --no-group-commit: one commit per write. */
    const char *extra[] = {"--no-group-commit", NULL};
    daemon_start(&d, NULL, extra);
    c = daemon_client(&d);
    static batch b2 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    b2.want = 40;
    for (int i = 0; i < 40; i++) {
        char email[64];
        snprintf(email, sizeof email, "n%d@example.com", i);
        batch_create(c, &b2, slots, i, email, NULL, 20000);
    }
    batch_wait(&b2);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(b2.codes[i], 0);
    commits = stat_commits(c, &writes);
    ck_assert_int_eq(commits, 40);
    ck_assert_int_eq(writes, 40);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

static bool reference_exists(rpc_client *c, const char *ref)
{
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    sf.equal_to = (char *)ref;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    f.reference = &sf;
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    lu.filter = &f;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 5000, NULL, &r), 0);
    bool found = ((Roster__V1__ListUsersResponse *)r.reply)->total_count > 0;
    call_res_free(&r);
    return found;
}

START_TEST(deadline_exceeded_instead_of_late_work)
{
    test_daemon d;
    daemon_mkdir(&d);
    /* One durable commit per write builds a queue in front of the writer. */
    const char *extra[] = {"--no-group-commit", NULL};
    daemon_start(&d, NULL, extra);
    rpc_client *c = daemon_client(&d);
    static batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    static batch_slot slots[512];
    enum { AHEAD = 150, LATE = 30 };
    b.want = AHEAD + LATE;
    for (int i = 0; i < AHEAD; i++) {
        char email[64];
        snprintf(email, sizeof email, "q%d@example.com", i);
        batch_create(c, &b, slots, i, email, NULL, 60000);
    }
    for (int i = AHEAD; i < AHEAD + LATE; i++) {
        char email[64], ref[32];
        snprintf(email, sizeof email, "late%d@example.com", i);
        snprintf(ref, sizeof ref, "late%d", i);
        batch_create(c, &b, slots, i, email, ref, 2);
    }
    batch_wait(&b);
    for (int i = 0; i < AHEAD; i++)
        ck_assert_int_eq(b.codes[i], 0);
    /* The writer is first-in first-out: once this create is answered, every
     * late one has been through it. */
    call_res r;
    ck_assert_int_eq(create_user(c, "last@example.com", "last", NULL, NULL, &r), 0);
    call_res_free(&r);
    for (int i = AHEAD; i < AHEAD + LATE; i++) {
        /* Whether the service's DEADLINE_EXCEEDED or the client's own timer
         * ended the call, the service did not do the work late. */
        ck_assert_msg(b.codes[i] == 4, "late request %d: code %d", i, b.codes[i]);
        char ref[32];
        snprintf(ref, sizeof ref, "late%d", i);
        ck_assert_msg(!reference_exists(c, ref), "%s was stored after its deadline", ref);
    }
    Roster__V1__StatsRequest sr = ROSTER__V1__STATS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_STATS, &sr.base, 2000, NULL, &r), 0);
    Roster__V1__StatsResponse *st = (void *)r.reply;
    int64_t deadline_replies = 0;
    for (size_t i = 0; i < st->n_methods; i++)
        if (strcmp(st->methods[i]->method, "CreateUser") == 0)
            for (size_t k = 0; k < st->methods[i]->n_statuses; k++)
                if (st->methods[i]->statuses[k]->code == 4)
                    deadline_replies = st->methods[i]->statuses[k]->count;
    /* The service itself answered them DEADLINE_EXCEEDED. */
    ck_assert_int_eq(deadline_replies, LATE);
    ck_assert_int_eq(st->users, AHEAD + 1);
    call_res_free(&r);
    /* A read whose deadline passes in the queue of a busy handler is not
     * late work either: the daemon still serves. */
    ck_assert(health_ok(c));
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

/* ------------------------------------------------------------ durability */

typedef struct stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rpc_client *c;
    bool stop;
    int in_flight;
    int sent;
    int n_ok;
    char (*ok_ids)[ROSTER_UUID_TEXT_LEN + 1];
    int cap;
} stream;

static void stream_send(stream *s);

static void stream_cb(void *arg, const rpc_result *r)
{
    stream *s = arg;
    pthread_mutex_lock(&s->mu);
    if (r->code == 0 && s->n_ok < s->cap)
        snprintf(s->ok_ids[s->n_ok++], ROSTER_UUID_TEXT_LEN + 1, "%s",
                 ((Roster__V1__User *)r->reply)->id);
    bool again = !s->stop && r->code == 0;
    if (!again)
        s->in_flight--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (again)
        stream_send(s);
}

static void stream_send(stream *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->sent++;
    pthread_mutex_unlock(&s->mu);
    char email[64];
    snprintf(email, sizeof email, "s%d@example.com", n);
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    char ref[32];
    snprintf(ref, sizeof ref, "s%d", n);
    u.email = email;
    u.reference = ref;
    if (rpc_client_call(s->c, RPC_CREATE_USER, &u.base, 3000, NULL, stream_cb, s) != 0) {
        pthread_mutex_lock(&s->mu);
        s->in_flight--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

static void count_issue(void *ctx, const store_issue *issue)
{
    (void)issue;
    (*(int *)ctx)++;
}

START_TEST(durable_across_sigkill)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    static char ok_ids[20000][ROSTER_UUID_TEXT_LEN + 1];
    stream s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    s.c = daemon_client(&d);
    s.ok_ids = ok_ids;
    s.cap = 20000;
    s.in_flight = 32;
    for (int i = 0; i < 32; i++)
        stream_send(&s);
    /* Kill it mid-stream once some creates have been answered. */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&s.mu);
        int n = s.n_ok;
        pthread_mutex_unlock(&s.mu);
        if (n >= 300)
            break;
        usleep(10000);
    }
    ck_assert_int_eq(daemon_stop(&d, SIGKILL), 128 + SIGKILL);
    pthread_mutex_lock(&s.mu);
    s.stop = true;
    while (s.in_flight > 0)
        pthread_cond_wait(&s.cv, &s.mu);
    int n_ok = s.n_ok;
    pthread_mutex_unlock(&s.mu);
    rpc_client_close(s.c);
    ck_assert_int_ge(n_ok, 300);

    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    for (int i = 0; i < n_ok; i += 500) {
        int n = n_ok - i < 500 ? n_ok - i : 500;
        char *ids[500];
        for (int k = 0; k < n; k++)
            ids[k] = ok_ids[i + k];
        Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
        bg.n_ids = (size_t)n;
        bg.ids = ids;
        call_res r;
        ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 10000, NULL, &r), 0);
        Roster__V1__BatchGetUsersResponse *br = (void *)r.reply;
        ck_assert_uint_eq(br->n_found, (size_t)n);
        for (int k = 0; k < n; k++)
            ck_assert_msg(br->found[k], "create of %s was answered OK but is lost", ids[k]);
        call_res_free(&r);
    }
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* Every index agrees with the records. */
    store *st = NULL;
    store_options so = {.read_only = true};
    ck_assert_int_eq(store_open(&st, d.dir, &so), ROSTER_E_OK);
    store_rtxn *rx = NULL;
    ck_assert_int_eq(store_read_begin(st, &rx), ROSTER_E_OK);
    int issues_seen = 0;
    uint64_t issues = 99;
    ck_assert_int_eq(store_verify(rx, count_issue, &issues_seen, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    ck_assert_int_eq(issues_seen, 0);
    store_stats ss;
    ck_assert_int_eq(store_stat(rx, &ss), ROSTER_E_OK);
    ck_assert_uint_ge(ss.users, (uint64_t)n_ok);
    store_read_end(rx);
    store_close(st);
    daemon_rmdir(&d);
}
END_TEST

/* SIGTERM, SIGINT and SIGQUIT each drain: every request received is
 * answered, and every acknowledged write is there after a restart. */
static const int stop_signals[] = {SIGTERM, SIGINT, SIGQUIT};

/* Sends N creates (emails prefix0..) and waits until the first answers. */
static void burst_creates(rpc_client *c, batch *b, batch_slot *slots, int n, const char *prefix)
{
    b->want = n;
    for (int i = 0; i < n; i++) {
        char email[64];
        snprintf(email, sizeof email, "%s%d@example.com", prefix, i);
        batch_create(c, b, slots, i, email, NULL, 10000);
    }
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&b->mu);
        int done = b->done;
        pthread_mutex_unlock(&b->mu);
        if (done > 0)
            break;
        usleep(2000);
    }
}

START_TEST(stop_signal_answers_in_flight)
{
    int sig = stop_signals[_i];
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--no-group-commit", NULL};
    daemon_start(&d, NULL, extra);
    rpc_client *c = daemon_client(&d);
    static batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    static batch_slot slots[512];
    enum { N = 120 };
    ck_assert(health_ok(c)); /* connected before the burst */
    /* Signal once the first answers are in: the rest are queued in the
     * service (one durable commit each) or still on their way. */
    burst_creates(c, &b, slots, N, "t");
    ck_assert_int_eq(daemon_stop(&d, sig), 0);
    batch_wait(&b);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        /* Answered OK, or never received (the caller sees UNAVAILABLE or
         * its deadline): nothing in between. */
        ck_assert_msg(b.codes[i] == 0 || b.codes[i] == 14 || b.codes[i] == 4,
                      "request %d: code %d (%s)", i, b.codes[i], b.msgs[i]);
        ok += b.codes[i] == 0;
    }
    ck_assert_int_gt(ok, 0);
    rpc_client_close(c);
    char text[65536];
    FILE *f = fopen(d.log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "event=shutdown_begin signal=%s",
             sig == SIGTERM  ? "SIGTERM"
             : sig == SIGINT ? "SIGINT"
                             : "SIGQUIT");
    ck_assert_msg(strstr(text, want) != NULL, "no \"%s\" in the log", want);

    daemon_start(&d, NULL, NULL);
    c = daemon_client(&d);
    call_res r;
    for (int i = 0; i < N; i++) {
        if (b.codes[i] != 0)
            continue;
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = b.ids[i];
        ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 0);
        call_res_free(&r);
    }
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

/* SIGHUP with requests in flight: every one is answered OK, the daemon
 * logs the signal and keeps serving new calls. */
START_TEST(sighup_keeps_serving)
{
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--no-group-commit", NULL};
    daemon_start(&d, NULL, extra);
    rpc_client *c = daemon_client(&d);
    static batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    static batch_slot slots[512];
    enum { N = 120 };
    ck_assert(health_ok(c));
    burst_creates(c, &b, slots, N, "h");
    ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
    ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
    batch_wait(&b);
    for (int i = 0; i < N; i++)
        ck_assert_msg(b.codes[i] == 0, "request %d: code %d (%s)", i, b.codes[i], b.msgs[i]);
    usleep(100000);
    ck_assert_int_eq(waitpid(d.pid, NULL, WNOHANG), 0); /* still running */
    ck_assert(health_ok(c));
    call_res r;
    for (int i = 0; i < N; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = b.ids[i];
        ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 2000, NULL, &r), 0);
        call_res_free(&r);
    }
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    char text[65536];
    FILE *f = fopen(d.log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "event=signal_ignored signal=SIGHUP"));
    ck_assert_ptr_nonnull(strstr(text, "event=shutdown_begin signal=SIGTERM"));
    daemon_rmdir(&d);
}
END_TEST

/* ------------------------------------------------------------ options */

static int run_cmd(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(options_and_environment)
{
    char out[8192], cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' --help", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 0);
    const char *words[] = {"--data",
                           "--listen",
                           "--tls-cert",
                           "--tls-key",
                           "--workers",
                           "--list-threads",
                           "--log-level",
                           "--no-group-commit",
                           "ROSTER_DATA",
                           "ROSTER_LISTEN",
                           "4 MiB",
                           "--allow-keyless-ipc",
                           "--init-admin-key",
                           "ROSTER_INIT_ADMIN_KEY",
                           "--map-size",
                           "ROSTER_MAP_SIZE"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        ck_assert_msg(strstr(out, words[i]) != NULL, "--help lacks %s", words[i]);
    snprintf(cmd, sizeof cmd, "'%s' --frobnicate 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--frobnicate"));
    snprintf(cmd, sizeof cmd, "'%s' --workers 0 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "workers"));
    snprintf(cmd, sizeof cmd, "'%s' --map-size 12Q 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "map-size"));
    snprintf(cmd, sizeof cmd, "ROSTER_MAP_SIZE=100K '%s' 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "1M to 64T"));
    snprintf(cmd, sizeof cmd, "ROSTER_LOG_LEVEL=loud '%s' 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "log level"));
    snprintf(cmd, sizeof cmd, "'%s' --listen http://x 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    snprintf(cmd, sizeof cmd, "'%s' --listen tls+tcp://127.0.0.1:20104 2>&1", roster_users_bin);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "tls"));

    /* Environment: ROSTER_DATA (created when missing) and ROSTER_LISTEN. */
    test_daemon d;
    daemon_mkdir(&d);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/nested/data", d.dir);
    setenv("ROSTER_DATA", sub, 1);
    setenv("ROSTER_LISTEN", "tcp://127.0.0.1:20105", 1);
    setenv("ROSTER_LOG_LEVEL", "debug", 1);
    pid_t pid = fork();
    if (pid == 0) {
        execl(roster_users_bin, roster_users_bin, (char *)NULL);
        _exit(127);
    }
    snprintf(d.url, sizeof d.url, "tcp://127.0.0.1:20105");
    d.pid = pid;
    rpc_client *c = daemon_client(&d);
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
        ok = health_ok(c);
        if (!ok)
            usleep(50000);
    }
    ck_assert(ok);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    unsetenv("ROSTER_DATA");
    unsetenv("ROSTER_LISTEN");
    unsetenv("ROSTER_LOG_LEVEL");
    char mdb[400];
    snprintf(mdb, sizeof mdb, "%s/data.mdb", sub);
    ck_assert_int_eq(access(mdb, F_OK), 0);

    /* An address in use: exit 1 with a logged reason. */
    daemon_start(&d, "tcp://127.0.0.1:20106", NULL);
    snprintf(cmd, sizeof cmd, "'%s' --data '%s/other' --listen tcp://127.0.0.1:20106 2>&1",
             roster_users_bin, d.dir);
    ck_assert_int_eq(run_cmd(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "listen_failed"));
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

/* ------------------------------------------------------------ map size */

/* A 1 MiB map filled through RPC: the write that does not fit is refused
 * RESOURCE_EXHAUSTED naming the map size and --map-size, with a map_full
 * log line; every acknowledged write reads back, reads go on, and the
 * store verifies clean after the stop. */
START_TEST(map_full_refuses_writes_keeps_data)
{
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--map-size", "1M", NULL};
    daemon_start(&d, NULL, extra);
    rpc_client *c = daemon_client(&d);
    static batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    static batch_slot slots[512];
    enum { ROUND = 64, MAX_ACKED = 64 * 400 };
    static char acked[MAX_ACKED][ROSTER_UUID_TEXT_LEN + 1];
    int n_acked = 0, n_full = 0;
    for (int round = 0; round < 400 && n_full == 0; round++) {
        pthread_mutex_lock(&b.mu);
        b.done = 0;
        b.want = ROUND;
        pthread_mutex_unlock(&b.mu);
        for (int i = 0; i < ROUND; i++) {
            char email[64];
            snprintf(email, sizeof email, "fill-%d-%d@example.com", round, i);
            batch_create(c, &b, slots, i, email, NULL, 10000);
        }
        batch_wait(&b);
        for (int i = 0; i < ROUND; i++) {
            if (b.codes[i] == 0 && n_acked < MAX_ACKED)
                memcpy(acked[n_acked++], b.ids[i], sizeof acked[0]);
            else if (b.codes[i] == 8)
                n_full++;
            else
                ck_abort_msg("create: code %d (%s)", b.codes[i], b.msgs[i]);
        }
    }
    ck_assert_int_gt(n_full, 0);
    ck_assert_int_gt(n_acked, 0);

    /* Single writes until one is refused (a group that did not fit may
     * leave room for smaller ones): the whole message and its field. */
    call_res r;
    int code = 0;
    for (int i = 0; i < 4096 && code == 0; i++) {
        char email[64], ref[64];
        snprintf(email, sizeof email, "one-%d@example.com", i);
        snprintf(ref, sizeof ref, "one-%d", i);
        Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        u.email = email;
        u.reference = ref;
        code = call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r);
        if (code == 0) {
            ck_assert_int_lt(n_acked, MAX_ACKED);
            snprintf(acked[n_acked++], sizeof acked[0], "%s", ((Roster__V1__User *)r.reply)->id);
        }
        if (code != 8)
            call_res_free(&r);
    }
    ck_assert_int_eq(code, 8);
    ck_assert_str_eq(r.field, ROSTER_MAP_FULL_FIELD);
    ck_assert_msg(strstr(r.message, "storage full") && strstr(r.message, "1048576") &&
                      strstr(r.message, "--map-size"),
                  "message: %s", r.message);
    call_res_free(&r);

    /* Reads go on: every acknowledged write is there, and so is Health. */
    for (int i = 0; i < n_acked; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = acked[i];
        ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 5000, NULL, &r), 0);
        call_res_free(&r);
    }
    Roster__V1__ListUsersRequest l = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    l.has_limit = 1;
    l.limit = 10;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &l.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    ck_assert(health_ok(c));
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    char text[65536];
    FILE *f = fopen(d.log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "map_size=1048576"));
    ck_assert_ptr_nonnull(strstr(text, "event=map_full map_size=1048576 used_bytes="));

    /* The store verifies clean, in process and with rosterctl. */
    store *st = NULL;
    store_options so = {.read_only = true};
    ck_assert_int_eq(store_open(&st, d.dir, &so), ROSTER_E_OK);
    store_rtxn *rx = NULL;
    ck_assert_int_eq(store_read_begin(st, &rx), ROSTER_E_OK);
    int issues_seen = 0;
    uint64_t issues = 99;
    ck_assert_int_eq(store_verify(rx, count_issue, &issues_seen, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_stats ss;
    ck_assert_int_eq(store_stat(rx, &ss), ROSTER_E_OK);
    ck_assert_uint_eq(ss.users, (uint64_t)n_acked);
    store_read_end(rx);
    store_close(st);
    const char *ctl = getenv("ROSTER_CTL_BIN");
    if (ctl != NULL) {
        char cmd[800], out[4096];
        snprintf(cmd, sizeof cmd, "'%s' verify --data '%s' 2>&1", ctl, d.dir);
        ck_assert_msg(run_cmd(cmd, out, sizeof out) == 0, "rosterctl verify: %s", out);
    }

    /* Restarted with a larger map, writes go on; restarted with a smaller
     * one, the larger map is kept. */
    const char *bigger[] = {"--map-size", "4M", NULL};
    daemon_start(&d, NULL, bigger);
    c = daemon_client(&d);
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.email = "after-growth@example.com";
    u.reference = "after-growth";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    const char *smaller[] = {"--map-size", "1M", NULL};
    daemon_start(&d, NULL, smaller);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    f = fopen(d.log, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    const char *last = strstr(text, "event=startup"), *next;
    while (last != NULL && (next = strstr(last + 1, "event=startup")) != NULL)
        last = next;
    ck_assert_ptr_nonnull(last);
    ck_assert_msg(strstr(last, "map_size=4194304") != NULL, "startup: %.300s", last);
    daemon_rmdir(&d);
}
END_TEST

static Suite *users_suite(void)
{
    Suite *s = suite_create("roster-users");
    TCase *tc = tcase_create("daemon");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_method_ipc);
    tcase_add_test(tc, every_method_tcp);
    tcase_add_test(tc, every_method_tls);
    tcase_add_test(tc, status_paths);
    tcase_add_test(tc, bad_input_keeps_serving);
    tcase_add_test(tc, group_commit_answers_each);
    tcase_add_test(tc, deadline_exceeded_instead_of_late_work);
    tcase_add_test(tc, durable_across_sigkill);
    tcase_add_loop_test(tc, stop_signal_answers_in_flight, 0,
                        (int)(sizeof stop_signals / sizeof stop_signals[0]));
    tcase_add_test(tc, sighup_keeps_serving);
    tcase_add_test(tc, options_and_environment);
    tcase_add_test(tc, map_full_refuses_writes_keeps_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, users_suite());
}
