/* Integration: API keys against the real roster-users binary over real
 * nng. Every refusal (no key, malformed, wrong secret, unknown id,
 * expired, revoked, a role below the method's level, another tenant's
 * record), a claimed tenant scope ignored, keyless ipc, rotation grace,
 * last use, --init-admin-key, deletes by role and tenant, and the audit
 * log. */
#include "apikey.h"
#include "clock.h"
#include "daemon.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void msleep(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

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

/* CreateUser as `key` (NULL: the client's default); returns the code and
 * the new id in *id (malloc'd) on success. */
static int create_user(rpc_client *c, const char *key, const char *email, const char *tenant,
                       char **id, char *tenant_out)
{
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    static int seq;
    char ref[32];
    snprintf(ref, sizeof ref, "ref-%d", ++seq);
    u.email = (char *)email;
    u.reference = ref;
    u.first_name = "Ada";
    u.last_name = "Lovelace";
    u.tenant_id = (char *)tenant;
    call_res r;
    int code = call_sync(c, RPC_CREATE_USER, &u.base, 5000, key, &r);
    if (code == 0) {
        Roster__V1__User *got = (void *)r.reply;
        if (id != NULL)
            *id = strdup(got->id);
        if (tenant_out != NULL)
            snprintf(tenant_out, 37, "%s", got->tenant_id ? got->tenant_id : "");
    }
    call_res_free(&r);
    return code;
}

static int get_user(rpc_client *c, const char *key, const char *id, call_res *r)
{
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = (char *)id;
    int code = call_sync(c, RPC_GET_USER, &g.base, 5000, key, r);
    call_res_free(r);
    return code;
}

static int stats(rpc_client *c, const char *key, call_res *r)
{
    Roster__V1__StatsRequest s = ROSTER__V1__STATS_REQUEST__INIT;
    int code = call_sync(c, RPC_STATS, &s.base, 5000, key, r);
    call_res_free(r);
    return code;
}

static int revoke_key(rpc_client *c, const char *id)
{
    Roster__V1__RevokeKeyRequest rq = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rq.id = (char *)id;
    call_res r;
    int code = call_sync(c, RPC_REVOKE_KEY, &rq.base, 5000, NULL, &r);
    call_res_free(&r);
    return code;
}

/* The whole log of the daemon, read into buf. */
static void read_log(const test_daemon *d, char *buf, size_t cap)
{
    FILE *f = fopen(d->log, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* A well-formed key for an id no key has. */
static void unknown_key(char text[ROSTER_APIKEY_TEXT_LEN + 1])
{
    roster_uuid id;
    roster_uuid_v7(&id, roster_now_ms());
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_mint(text, h, &id), ROSTER_E_OK);
}

/* Sends GetUser `id` in a hand-made envelope carrying both `credential`
 * and a claimed tenant_scope. */
static int get_user_claiming(rpc_client *c, const char *credential, const char *scope,
                             const char *id)
{
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = (char *)id;
    uint8_t body[128];
    size_t blen = roster__v1__get_user_request__pack(&g, body);
    Roster__V1__CallContext cc = ROSTER__V1__CALL_CONTEXT__INIT;
    cc.credential = (char *)credential;
    cc.tenant_scope = (char *)scope;
    Roster__V1__RpcRequest env = ROSTER__V1__RPC_REQUEST__INIT;
    env.method = "/roster.v1.UserService/GetUser";
    env.has_body = 1;
    env.body.data = body;
    env.body.len = blen;
    env.context = &cc;
    uint8_t wire[1024];
    ck_assert_uint_le(roster__v1__rpc_request__get_packed_size(&env), sizeof wire);
    size_t wlen = roster__v1__rpc_request__pack(&env, wire);
    call_res r;
    int code = send_bytes_sync(c, wire, wlen, 5000, &r);
    call_res_free(&r);
    return code;
}

START_TEST(tcp_refusals)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20131", NULL);
    ck_assert_uint_eq(strlen(d.key), ROSTER_APIKEY_TEXT_LEN);
    rpc_client *c = daemon_client(&d);
    call_res r;
    char *ta = create_tenant(c, "A");
    char *tb = create_tenant(c, "B");
    char *ua = NULL, *ub = NULL;
    ck_assert_int_eq(create_user(c, NULL, "a@example.com", ta, &ua, NULL), 0);
    ck_assert_int_eq(create_user(c, NULL, "b@example.com", tb, &ub, NULL), 0);
    char admin_id[37], reader_id[37], writer_id[37];
    roster_uuid aid;
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_parse(&aid, h, d.key, strlen(d.key)), ROSTER_E_OK);
    roster_uuid_format(admin_id, &aid);
    char *reader = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, ta, reader_id);
    char *writer = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, ta, writer_id);

    /* No key over tcp: refused, but Health is public. */
    rpc_client *keyless = NULL;
    ck_assert_int_eq(rpc_client_open(&keyless, d.url, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(get_user(keyless, NULL, ua, &r), 16);
    ck_assert_str_eq(r.message, "an API key is required");
    Roster__V1__HealthRequest hq = ROSTER__V1__HEALTH_REQUEST__INIT;
    ck_assert_int_eq(call_sync(keyless, RPC_HEALTH, &hq.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    rpc_client_close(keyless);

    /* Malformed, wrong secret, unknown id. */
    ck_assert_int_eq(get_user(c, "rstr_bad", ua, &r), 16);
    ck_assert_int_eq(get_user(c, "not even close", ua, &r), 16);
    char wrong[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(wrong, d.key, sizeof wrong);
    wrong[ROSTER_APIKEY_TEXT_LEN - 3] = wrong[ROSTER_APIKEY_TEXT_LEN - 3] == 'x' ? 'y' : 'x';
    ck_assert_int_eq(get_user(c, wrong, ua, &r), 16);
    char unknown[ROSTER_APIKEY_TEXT_LEN + 1];
    unknown_key(unknown);
    ck_assert_int_eq(get_user(c, unknown, ua, &r), 16);
    /* A bad key is refused even for a public method. */
    ck_assert_int_eq(call_sync(c, RPC_HEALTH, &hq.base, 5000, wrong, &r), 16);

    /* Roles: a reader cannot write; a writer cannot manage tenants, keys or
     * read Stats. The refusal names the method and the role. */
    ck_assert_int_eq(get_user(c, reader, ua, &r), 0);
    ck_assert_int_eq(create_user(c, reader, "r@example.com", NULL, NULL, NULL), 7);
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "C";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, writer, &r), 7);
    ck_assert_ptr_nonnull(strstr(r.message, "CreateTenant"));
    ck_assert_ptr_nonnull(strstr(r.message, "writer"));
    Roster__V1__CreateKeyRequest ck = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    ck.name = "escalate";
    ck.has_role = 1;
    ck.role = ROSTER__V1__ROLE__ROLE_ADMIN;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_KEY, &ck.base, 5000, writer, &r), 7);
    ck_assert_ptr_nonnull(strstr(r.message, "CreateKey"));
    ck_assert_int_eq(stats(c, writer, &r), 7);
    ck_assert_ptr_nonnull(strstr(r.message, "Stats"));
    ck_assert_int_eq(stats(c, reader, &r), 7);
    ck_assert_int_eq(stats(c, NULL, &r), 0);

    /* Tenant keys: another tenant's user reads as NOT_FOUND; creating in
     * another tenant is refused; creating without a tenant lands in the
     * key's own. */
    ck_assert_int_eq(get_user(c, reader, ub, &r), 5);
    ck_assert_int_eq(get_user(c, writer, ub, &r), 5);
    ck_assert_int_eq(create_user(c, writer, "w@example.com", tb, NULL, NULL), 7);
    char landed[37];
    ck_assert_int_eq(create_user(c, writer, "w@example.com", NULL, NULL, landed), 0);
    ck_assert_str_eq(landed, ta);
    Roster__V1__GetTenantRequest gt = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    gt.id = tb;
    ck_assert_int_eq(call_sync(c, RPC_GET_TENANT, &gt.base, 5000, reader, &r), 5);
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &lt.base, 5000, reader, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListTenantsResponse *)r.reply)->total_count, 1);
    call_res_free(&r);

    /* A claimed tenant_scope is ignored: it narrows nothing for the admin
     * and widens nothing for a tenant key. */
    ck_assert_int_eq(get_user_claiming(c, d.key, tb, ua), 0);
    ck_assert_int_eq(get_user_claiming(c, reader, tb, ub), 5);
    ck_assert_int_eq(get_user_claiming(c, reader, tb, ua), 0);
    ck_assert_int_eq(get_user_claiming(c, NULL, ta, ua), 16);

    /* Expired. */
    Roster__V1__CreateKeyRequest ek = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    ek.name = "short-lived";
    ek.has_role = 1;
    ek.role = ROSTER__V1__ROLE__ROLE_READER;
    ek.tenant_id = ta;
    ek.has_expires_at = 1;
    ek.expires_at = roster_now_ms() + 1000;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_KEY, &ek.base, 5000, NULL, &r), 0);
    char *expiring = strdup(((Roster__V1__KeySecret *)r.reply)->secret);
    call_res_free(&r);
    ck_assert_int_eq(get_user(c, expiring, ua, &r), 0);
    while (roster_now_ms() <= ek.expires_at)
        msleep(50);
    ck_assert_int_eq(get_user(c, expiring, ua, &r), 16);

    /* Revoked: refused on the first call after the revocation, well
     * within a second. */
    ck_assert_int_eq(get_user(c, reader, ua, &r), 0);
    ck_assert_int_eq(revoke_key(c, reader_id), 0);
    int64_t t0 = roster_now_ms();
    ck_assert_int_eq(get_user(c, reader, ua, &r), 16);
    ck_assert_int_lt(roster_now_ms() - t0, 1000);
    ck_assert_int_eq(revoke_key(c, reader_id), 0); /* idempotent */

    /* Key methods; replies never carry hashes. */
    Roster__V1__GetKeyRequest gk = ROSTER__V1__GET_KEY_REQUEST__INIT;
    gk.id = reader_id;
    ck_assert_int_eq(call_sync(c, RPC_GET_KEY, &gk.base, 5000, NULL, &r), 0);
    Roster__V1__ApiKey *k = (void *)r.reply;
    ck_assert(k->has_revoked_at && !k->has_secret_hash && !k->has_previous_secret_hash);
    ck_assert_int_eq(k->role, ROSTER__V1__ROLE__ROLE_READER);
    call_res_free(&r);
    Roster__V1__ListKeysRequest lk = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_KEYS, &lk.base, 5000, NULL, &r), 0);
    ck_assert_uint_eq(((Roster__V1__ListKeysResponse *)r.reply)->n_keys,
                      3); /* admin, writer, short-lived */
    call_res_free(&r);
    lk.has_include_revoked = lk.include_revoked = 1;
    ck_assert_int_eq(call_sync(c, RPC_LIST_KEYS, &lk.base, 5000, NULL, &r), 0);
    Roster__V1__ListKeysResponse *all = (void *)r.reply;
    ck_assert_uint_eq(all->n_keys, 4);
    ck_assert_str_eq(all->keys[0]->id, admin_id);
    for (size_t i = 0; i < all->n_keys; i++)
        ck_assert(!all->keys[i]->has_secret_hash);
    call_res_free(&r);

    /* Last use is recorded (coarsely, by the writer, shortly after). */
    gk.id = writer_id;
    bool used = false;
    for (int i = 0; i < 40 && !used; i++) {
        ck_assert_int_eq(call_sync(c, RPC_GET_KEY, &gk.base, 5000, NULL, &r), 0);
        used = ((Roster__V1__ApiKey *)r.reply)->has_last_used_at;
        call_res_free(&r);
        if (!used)
            msleep(50);
    }
    ck_assert(used);

    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* The audit log: refusals with their reasons and the key id when the
     * text has one, key changes with who made them; never a secret. */
    static char log[1 << 20];
    read_log(&d, log, sizeof log);
    ck_assert_ptr_nonnull(
        strstr(log, "event=auth_failed reason=\"no key\" key_id=- peer=127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(log, "event=auth_failed reason=\"malformed key\""));
    ck_assert_ptr_nonnull(strstr(log, "event=auth_failed reason=\"wrong secret\""));
    ck_assert_ptr_nonnull(strstr(log, "event=auth_failed reason=\"unknown key\""));
    ck_assert_ptr_nonnull(strstr(log, "event=auth_failed reason=\"key expired\""));
    char line[256];
    snprintf(line, sizeof line, "event=auth_failed reason=\"key revoked\" key_id=%s", reader_id);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_ptr_nonnull(strstr(log, "method=GetUser"));
    snprintf(line, sizeof line,
             "event=key_created key_id=%s name=\"test key\" role=reader tenant_id=%s by=%s",
             reader_id, ta, admin_id);
    ck_assert_ptr_nonnull(strstr(log, line));
    snprintf(line, sizeof line, "event=key_revoked key_id=%s", reader_id);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_ptr_nonnull(strstr(log, "event=permission_denied"));
    const char *secrets[] = {d.key, reader, writer, expiring};
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(strstr(log, secrets[i] + 38) == NULL, "a secret is in the log");
    daemon_rmdir(&d);
    free(ta);
    free(tb);
    free(ua);
    free(ub);
    free(reader);
    free(writer);
    free(expiring);
}
END_TEST

static int delete_user(rpc_client *c, const char *key, const char *id, call_res *r)
{
    Roster__V1__DeleteUserRequest q = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    q.id = (char *)id;
    int code = call_sync(c, RPC_DELETE_USER, &q.base, 5000, key, r);
    if (code == 0)
        ck_assert_str_eq(((Roster__V1__DeleteUserResponse *)r->reply)->id, id);
    call_res_free(r);
    return code;
}

static int delete_tenant(rpc_client *c, const char *key, const char *id, call_res *r)
{
    Roster__V1__DeleteTenantRequest q = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
    q.id = (char *)id;
    int code = call_sync(c, RPC_DELETE_TENANT, &q.base, 5000, key, r);
    if (code == 0)
        ck_assert_str_eq(((Roster__V1__DeleteTenantResponse *)r->reply)->id, id);
    call_res_free(r);
    return code;
}

/* A user token for `user`, obtained with API key `key`. */
static char *user_token(rpc_client *c, const char *key, const char *user)
{
    call_res r;
    Roster__V1__GetEnvironmentRequest ge = ROSTER__V1__GET_ENVIRONMENT_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_GET_ENVIRONMENT, &ge.base, 5000, key, &r), 0);
    char env[37];
    snprintf(env, sizeof env, "%s", ((Roster__V1__Environment *)r.reply)->id);
    call_res_free(&r);
    Roster__V1__IssueUserTokenRequest it = ROSTER__V1__ISSUE_USER_TOKEN_REQUEST__INIT;
    it.environment_id = env;
    it.user_id = (char *)user;
    ck_assert_int_eq(call_sync(c, RPC_ISSUE_USER_TOKEN, &it.base, 5000, key, &r), 0);
    char *tok = strdup(((Roster__V1__AccessToken *)r.reply)->access_token);
    call_res_free(&r);
    return tok;
}

/* DeleteUser and DeleteTenant: who may, within which tenant, and what a
 * refusal changes (nothing). */
START_TEST(delete_refusals)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20136", NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;
    char *ta = create_tenant(c, "A");
    char *tb = create_tenant(c, "B");
    char *ua1 = NULL, *ua2 = NULL, *ua3 = NULL, *ub = NULL, *unone = NULL;
    ck_assert_int_eq(create_user(c, NULL, "a1@example.com", ta, &ua1, NULL), 0);
    ck_assert_int_eq(create_user(c, NULL, "a2@example.com", ta, &ua2, NULL), 0);
    ck_assert_int_eq(create_user(c, NULL, "a3@example.com", ta, &ua3, NULL), 0);
    ck_assert_int_eq(create_user(c, NULL, "b@example.com", tb, &ub, NULL), 0);
    ck_assert_int_eq(create_user(c, NULL, "none@example.com", NULL, &unone, NULL), 0);
    char admin_id[37], reader_id[37], writer_id[37], writer_b_id[37];
    roster_uuid aid;
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_parse(&aid, h, d.key, strlen(d.key)), ROSTER_E_OK);
    roster_uuid_format(admin_id, &aid);
    char *reader = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, ta, reader_id);
    char *writer = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, ta, writer_id);
    char *writer_b = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, tb, writer_b_id);

    /* No key, a malformed key, a wrong secret, an unknown key. */
    rpc_client *keyless = NULL;
    ck_assert_int_eq(rpc_client_open(&keyless, d.url, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(delete_user(keyless, NULL, ua1, &r), ROSTER_STATUS_UNAUTHENTICATED);
    ck_assert_str_eq(r.message, "an API key is required");
    ck_assert_int_eq(delete_tenant(keyless, NULL, tb, &r), ROSTER_STATUS_UNAUTHENTICATED);
    rpc_client_close(keyless);
    ck_assert_int_eq(delete_user(c, "rstr_bad", ua1, &r), ROSTER_STATUS_UNAUTHENTICATED);
    char wrong[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(wrong, d.key, sizeof wrong);
    wrong[ROSTER_APIKEY_TEXT_LEN - 3] = wrong[ROSTER_APIKEY_TEXT_LEN - 3] == 'x' ? 'y' : 'x';
    ck_assert_int_eq(delete_user(c, wrong, ua1, &r), ROSTER_STATUS_UNAUTHENTICATED);
    ck_assert_int_eq(delete_tenant(c, wrong, tb, &r), ROSTER_STATUS_UNAUTHENTICATED);
    char unknown[ROSTER_APIKEY_TEXT_LEN + 1];
    unknown_key(unknown);
    ck_assert_int_eq(delete_user(c, unknown, ua1, &r), ROSTER_STATUS_UNAUTHENTICATED);

    /* Roles: a reader deletes nothing; tenants need admin. */
    ck_assert_int_eq(delete_user(c, reader, ua1, &r), ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(r.message, "DeleteUser needs the writer role"));
    ck_assert_int_eq(delete_tenant(c, reader, ta, &r), ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_int_eq(delete_tenant(c, writer, ta, &r), ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(r.message, "DeleteTenant needs the admin role"));
    ck_assert_int_eq(delete_tenant(c, writer_b, tb, &r), ROSTER_STATUS_PERMISSION_DENIED);

    /* Tenant scope: another tenant's user, and a user without a tenant,
     * read as missing (the same message as an id nobody has). */
    ck_assert_int_eq(delete_user(c, writer, ub, &r), ROSTER_STATUS_NOT_FOUND);
    char other_msg[256];
    snprintf(other_msg, sizeof other_msg, "%s", r.message);
    ck_assert_int_eq(delete_user(c, writer, unone, &r), ROSTER_STATUS_NOT_FOUND);
    char missing[37];
    snprintf(missing, sizeof missing, "%s", ub);
    missing[35] = missing[35] == '0' ? '1' : '0';
    ck_assert_int_eq(delete_user(c, writer, missing, &r), ROSTER_STATUS_NOT_FOUND);
    char want[300];
    snprintf(want, sizeof want, "user %s does not exist", ub);
    ck_assert_str_eq(other_msg, want);
    ck_assert_int_eq(get_user(c, NULL, ub, &r), 0);
    ck_assert_int_eq(get_user(c, NULL, unone, &r), 0);

    /* A user token deletes nothing, its own user neither. */
    char *tok = user_token(c, writer, ua2);
    ck_assert_int_eq(get_user(c, tok, ua2, &r), 0);
    ck_assert_int_eq(delete_user(c, tok, ua2, &r), ROSTER_STATUS_PERMISSION_DENIED);
    ck_assert_int_eq(get_user(c, NULL, ua2, &r), 0);

    /* The writer deletes its tenant's user; a second delete (a retry)
     * answers NOT_FOUND; the email is free again. */
    ck_assert_int_eq(delete_user(c, writer, ua1, &r), 0);
    ck_assert_int_eq(get_user(c, NULL, ua1, &r), ROSTER_STATUS_NOT_FOUND);
    ck_assert_int_eq(delete_user(c, writer, ua1, &r), ROSTER_STATUS_NOT_FOUND);
    ck_assert_str_eq(r.field, "id");
    ck_assert_int_eq(create_user(c, writer, "a1@example.com", NULL, NULL, NULL), 0);
    ck_assert_int_eq(delete_user(c, writer, "not-a-uuid", &r), ROSTER_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(r.field, "id");
    /* Deleting the user stops its tokens from the next call. */
    ck_assert_int_eq(delete_user(c, NULL, ua2, &r), 0);
    ck_assert_int_eq(get_user(c, tok, ua2, &r), ROSTER_STATUS_UNAUTHENTICATED);

    /* A revoked writer key deletes nothing. */
    ck_assert_int_eq(revoke_key(c, writer_id), 0);
    ck_assert_int_eq(delete_user(c, writer, ua3, &r), ROSTER_STATUS_UNAUTHENTICATED);
    ck_assert_int_eq(get_user(c, NULL, ua3, &r), 0);

    /* Tenants: refused while users, a live key or the default mark remain. */
    ck_assert_int_eq(delete_tenant(c, NULL, tb, &r), ROSTER_STATUS_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(r.message, "user"));
    ck_assert_int_eq(delete_user(c, NULL, ub, &r), 0);
    ck_assert_int_eq(delete_tenant(c, NULL, tb, &r), ROSTER_STATUS_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(r.message, writer_b_id));
    ck_assert_int_eq(revoke_key(c, writer_b_id), 0);
    ck_assert_int_eq(delete_tenant(c, NULL, tb, &r), 0);
    ck_assert_int_eq(delete_tenant(c, NULL, tb, &r), ROSTER_STATUS_NOT_FOUND);
    Roster__V1__GetTenantRequest gt = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    gt.id = tb;
    ck_assert_int_eq(call_sync(c, RPC_GET_TENANT, &gt.base, 5000, NULL, &r), 5);
    call_res_free(&r);
    ck_assert_int_eq(delete_tenant(c, NULL, "nope", &r), ROSTER_STATUS_INVALID_ARGUMENT);

    /* What a refused delete leaves: every user of A the admin expects. */
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 5000, NULL, &r), 0);
    ck_assert_int_eq(((Roster__V1__ListUsersResponse *)r.reply)->total_count,
                     3); /* a3, none, a1' */
    call_res_free(&r);

    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    static char log[1 << 20];
    read_log(&d, log, sizeof log);
    char line[256];
    snprintf(line, sizeof line, "event=user_deleted user_id=%s by=%s", ua1, writer_id);
    ck_assert_ptr_nonnull(strstr(log, line));
    snprintf(line, sizeof line, "event=tenant_deleted tenant_id=%s by=%s", tb, admin_id);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_ptr_null(strstr(log, "a1@example.com"));
    ck_assert_ptr_nonnull(strstr(log, "reason=\"the token's user does not exist\""));
    daemon_rmdir(&d);
    free(ta);
    free(tb);
    free(ua1);
    free(ua2);
    free(ua3);
    free(ub);
    free(unone);
    free(reader);
    free(writer);
    free(writer_b);
    free(tok);
}
END_TEST

START_TEST(rotation_grace)
{
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20132", NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;
    char id[37];
    char *old = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_ADMIN, NULL, id);
    Roster__V1__RotateKeyRequest rq = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
    rq.id = id;
    rq.has_grace_seconds = 1;
    rq.grace_seconds = 2;
    ck_assert_int_eq(call_sync(c, RPC_ROTATE_KEY, &rq.base, 5000, NULL, &r), 0);
    Roster__V1__KeySecret *ks = (void *)r.reply;
    char *fresh = strdup(ks->secret);
    int64_t until = ks->key->previous_valid_until;
    ck_assert(!ks->key->has_secret_hash && !ks->key->has_previous_secret_hash);
    call_res_free(&r);
    ck_assert_str_ne(fresh, old);
    /* Both work during the grace period... */
    ck_assert_int_eq(stats(c, old, &r), 0);
    ck_assert_int_eq(stats(c, fresh, &r), 0);
    /* ...then only the new one. */
    while (roster_now_ms() <= until)
        msleep(50);
    ck_assert_int_eq(stats(c, old, &r), 16);
    ck_assert_int_eq(stats(c, fresh, &r), 0);
    /* Out-of-range grace. */
    rq.grace_seconds = 30 * 24 * 3600 + 1;
    ck_assert_int_eq(call_sync(c, RPC_ROTATE_KEY, &rq.base, 5000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "graceSeconds");
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    static char log[1 << 20];
    read_log(&d, log, sizeof log);
    char line[128];
    snprintf(line, sizeof line, "event=key_rotated key_id=%s", id);
    ck_assert_ptr_nonnull(strstr(log, line));
    ck_assert_ptr_nonnull(strstr(log, "reason=\"previous secret past its grace period\""));
    ck_assert(strstr(log, fresh + 38) == NULL && strstr(log, old + 38) == NULL);
    daemon_rmdir(&d);
    free(old);
    free(fresh);
}
END_TEST

START_TEST(keyless_ipc)
{
    test_daemon d;
    daemon_mkdir(&d);
    /* Default: keyless ipc callers are refused, Health aside. */
    daemon_start_plain(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    call_res r;
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "T";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 16);
    ck_assert_str_eq(r.message, "an API key is required");
    ck_assert_int_eq(stats(c, NULL, &r), 16);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* --allow-keyless-ipc: keyless callers are admin. */
    const char *allow[] = {"--allow-keyless-ipc", NULL};
    daemon_start_plain(&d, NULL, allow);
    c = daemon_client(&d);
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    ck_assert_int_eq(stats(c, NULL, &r), 0);
    char *k = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_ADMIN, NULL, NULL);
    /* A key presented over ipc is still checked. */
    ck_assert_int_eq(stats(c, k, &r), 0);
    ck_assert_int_eq(stats(c, "rstr_bad", &r), 16);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    static char log[1 << 20];
    read_log(&d, log, sizeof log);
    ck_assert_ptr_nonnull(strstr(log, "by=keyless"));
    ck_assert_ptr_nonnull(strstr(log, "peer=ipc"));

    /* The option means nothing on tcp. */
    daemon_start_plain(&d, "tcp://127.0.0.1:20133", allow);
    c = daemon_client(&d);
    ck_assert_int_eq(stats(c, NULL, &r), 16);
    ck_assert_int_eq(stats(c, k, &r), 0);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    read_log(&d, log, sizeof log);
    ck_assert_ptr_nonnull(strstr(log, "event=allow_keyless_ipc_ignored"));
    daemon_rmdir(&d);
    free(k);
}
END_TEST

/* Runs roster-users with args until it exits; returns its exit status. */
static int run_users(const char *const *args, const char *log)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = roster_users_bin;
    for (int i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (freopen(log, "a", stderr) == NULL)
            _exit(126);
        execv(roster_users_bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(init_admin_key)
{
    test_daemon d;
    daemon_mkdir(&d);
    char file[300];
    snprintf(file, sizeof file, "%s/first.key", d.dir);
    const char *extra[] = {"--init-admin-key", file, NULL};
    daemon_start_plain(&d, "tcp://127.0.0.1:20134", extra);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    FILE *f = fopen(file, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(d.key, sizeof d.key, f));
    fclose(f);
    d.key[strcspn(d.key, "\n")] = '\0';
    ck_assert_uint_eq(strlen(d.key), ROSTER_APIKEY_TEXT_LEN);
    rpc_client *c = daemon_client(&d);
    call_res r;
    ck_assert_int_eq(stats(c, NULL, &r), 0);
    Roster__V1__ListKeysRequest lk = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_KEYS, &lk.base, 5000, NULL, &r), 0);
    Roster__V1__ListKeysResponse *l = (void *)r.reply;
    ck_assert_uint_eq(l->n_keys, 1);
    ck_assert_str_eq(l->keys[0]->name, "initial-admin");
    ck_assert_int_eq(l->keys[0]->role, ROSTER__V1__ROLE__ROLE_ADMIN);
    ck_assert_ptr_null(l->keys[0]->tenant_id);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* Restarted with the same option: the store has keys, nothing new. */
    daemon_start_plain(&d, "tcp://127.0.0.1:20134", extra);
    c = daemon_client(&d);
    ck_assert_int_eq(call_sync(c, RPC_LIST_KEYS, &lk.base, 5000, NULL, &r), 0);
    ck_assert_uint_eq(((Roster__V1__ListKeysResponse *)r.reply)->n_keys, 1);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    static char log[1 << 20];
    read_log(&d, log, sizeof log);
    ck_assert_ptr_nonnull(strstr(log, "event=init_admin_key key_id="));
    ck_assert_ptr_nonnull(strstr(log, "event=init_admin_key_skipped"));
    ck_assert(strstr(log, d.key + 38) == NULL);

    /* A fresh store and a file that already exists: refused, no key. */
    char other[300], logf[280];
    snprintf(other, sizeof other, "%s/other", d.dir);
    snprintf(logf, sizeof logf, "%.256s/other.log", d.dir);
    const char *args[] = {"--data",           other, "--listen", "tcp://127.0.0.1:20135",
                          "--init-admin-key", file,  NULL};
    ck_assert_int_eq(run_users(args, logf), 1);
    test_daemon od = d;
    snprintf(od.log, sizeof od.log, "%s", logf);
    read_log(&od, log, sizeof log);
    ck_assert_ptr_nonnull(strstr(log, "event=init_admin_key_failed"));
    daemon_rmdir(&d);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("auth_daemon");
    TCase *tc = tcase_create("daemon");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tcp_refusals);
    tcase_add_test(tc, rotation_grace);
    tcase_add_test(tc, delete_refusals);
    tcase_add_test(tc, keyless_ipc);
    tcase_add_test(tc, init_admin_key);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
