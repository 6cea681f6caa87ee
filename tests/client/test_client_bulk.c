/* Integration: BulkWrite against the real roster-users daemon (tcp on
 * loopback, keys required), through libroster-client's streaming
 * roster_client_bulk_write and through the raw protobuf-c RPC: mixed good
 * and bad records (the good ones land, each bad one is reported by
 * position, nothing of it stays), updates and deletes, dry runs (nothing
 * stored, no change recorded), the request limits, and the refusals (no
 * key, wrong key, reader key, a writer key outside its tenant, a user
 * token). */
#include "call.h"
#include "daemon.h"
#include "roster_client.h"
#include "roster_limits.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCP_URL "tcp://127.0.0.1:21121"
#define RECORDS 2500

static test_daemon g_d;
static rpc_client *g_rpc;

static void setup(void)
{
    daemon_mkdir(&g_d);
    /* Under load the daemon's listener guard may restore its listener,
     * which nng 1.5.2 never frees (#1518): not what this test is about. */
    daemon_allow_nng_listener_leak();
    daemon_start(&g_d, TCP_URL, NULL);
    g_rpc = daemon_client(&g_d);
}

static void teardown(void)
{
    rpc_client_close(g_rpc);
    ck_assert_int_eq(daemon_stop(&g_d, SIGTERM), 0);
    daemon_rmdir(&g_d);
}

static roster_client *open_client(void)
{
    roster_client *c = NULL;
    roster_client_options co = {0};
    co.default_timeout_ms = 20000;
    ck_assert_int_eq(roster_client_open(&c, TCP_URL, &co, NULL), ROSTER_E_OK);
    return c;
}

static char *make_tenant(const char *name)
{
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    call_res r;
    ck_assert_int_eq(call_sync(g_rpc, RPC_CREATE_TENANT, &req.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__Tenant *)r.reply)->id);
    call_res_free(&r);
    return id;
}

/* totalCount of the tenant's users (deactivated ones included), or of
 * every user when tenant is NULL; also whether one has `reference`. */
static int64_t count_users(const char *tenant, const char *reference)
{
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
    Roster__V1__StringFilter rf = ROSTER__V1__STRING_FILTER__INIT;
    Roster__V1__BoolFilter wd = ROSTER__V1__BOOL_FILTER__INIT;
    wd.has_equal_to = wd.equal_to = 1;
    f.with_deactivated = &wd;
    if (tenant != NULL) {
        tf.equal_to = (char *)tenant;
        f.tenant_id = &tf;
    }
    if (reference != NULL) {
        rf.equal_to = (char *)reference;
        f.reference = &rf;
    }
    req.filter = &f;
    req.has_limit = 1;
    req.limit = 1;
    call_res r;
    ck_assert_int_eq(call_sync(g_rpc, RPC_LIST_USERS, &req.base, 5000, NULL, &r), 0);
    int64_t n = ((Roster__V1__ListUsersResponse *)r.reply)->total_count;
    call_res_free(&r);
    return n;
}

static uint64_t latest_seq(void)
{
    Roster__V1__ListChangesRequest req = ROSTER__V1__LIST_CHANGES_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 0;
    call_res r;
    ck_assert_int_eq(call_sync(g_rpc, RPC_LIST_CHANGES, &req.base, 5000, NULL, &r), 0);
    uint64_t seq = ((Roster__V1__ListChangesResponse *)r.reply)->latest_seq;
    call_res_free(&r);
    return seq;
}

/* ------------------------------------------------------------ sources */

/* Creates of users r<i>: every tenth from 3 has a bad email, every tenth
 * from 7 reuses the email of the one before, one names no tenant. */
typedef struct create_source {
    uint64_t i, n;
    const char *tenant;
    const char *prefix;
    char ref[64], email[96];
} create_source;

static bool bad_email(uint64_t i)
{
    return i % 10 == 3;
}
static bool dup_email(uint64_t i)
{
    return i % 10 == 7;
}
#define NO_TENANT_AT 1234u

static int next_create(void *arg, roster_v1_BulkOperation *op)
{
    create_source *s = arg;
    if (s->i == s->n)
        return 0;
    uint64_t i = s->i++;
    snprintf(s->ref, sizeof s->ref, "%s%llu", s->prefix, (unsigned long long)i);
    if (bad_email(i))
        snprintf(s->email, sizeof s->email, "no-at-sign-%llu", (unsigned long long)i);
    else
        snprintf(s->email, sizeof s->email, "%s%llu@example.com", s->prefix,
                 (unsigned long long)(dup_email(i) ? i - 1 : i));
    op->which_operation = roster_v1_BulkOperation_create_user_tag;
    roster_v1_CreateUserRequest *c = &op->operation.create_user;
    roster_pb_str(&c->reference, s->ref);
    roster_pb_str(&c->email, s->email);
    roster_pb_str(&c->first_name, "Bulk");
    roster_pb_str(&c->tenant_id,
                  i == NO_TENANT_AT ? "0190a5b0-0000-7000-8000-000000000001" : s->tenant);
    return 1;
}

typedef struct result_log {
    uint64_t n;
    int32_t code[RECORDS];
    char field[RECORDS][64];
    char id[RECORDS][37];
    bool in_order;
} result_log;

static int log_result(void *arg, uint64_t index, const roster_v1_BulkResult *r)
{
    result_log *l = arg;
    if (index != l->n || index >= RECORDS) {
        l->in_order = false;
        return 1;
    }
    l->code[index] = r->code;
    snprintf(l->field[index], sizeof l->field[index], "%s", r->has_field ? r->field : "");
    snprintf(l->id[index], sizeof l->id[index], "%s", r->has_id ? r->id : "");
    l->n++;
    return 0;
}

static result_log *new_log(void)
{
    result_log *l = calloc(1, sizeof *l);
    ck_assert_ptr_nonnull(l);
    l->in_order = true;
    return l;
}

/* Operations from an array, copied out one at a time. */
typedef struct array_source {
    const roster_v1_BulkOperation *ops;
    size_t i, n;
} array_source;

static int next_array(void *arg, roster_v1_BulkOperation *op)
{
    array_source *a = arg;
    if (a->i == a->n)
        return 0;
    *op = a->ops[a->i++];
    return 1;
}

/* ------------------------------------------------------------ tests */

START_TEST(mixed_records_land_or_fail_alone)
{
    char *tenant = make_tenant("Bulk mixed");
    roster_client *c = open_client();
    roster_call_options o = {.credential = g_d.key};
    roster_bulk_options bo = {.batch = 300, .in_flight = 3};
    create_source src = {.n = RECORDS, .tenant = tenant, .prefix = "m"};
    result_log *l = new_log();
    roster_bulk_summary sum;
    roster_status st;
    ck_assert_int_eq(
        roster_client_bulk_write(&sum, &st, c, &o, &bo, next_create, &src, log_result, l),
        ROSTER_E_OK);
    ck_assert(l->in_order);
    ck_assert_uint_eq(l->n, RECORDS);
    ck_assert_uint_eq(sum.sent, RECORDS);
    uint64_t good = 0;
    for (uint64_t i = 0; i < RECORDS; i++) {
        if (bad_email(i)) {
            ck_assert_int_eq(l->code[i], 3); /* INVALID_ARGUMENT */
            ck_assert_str_eq(l->field[i], "email");
        } else if (dup_email(i)) {
            ck_assert_int_eq(l->code[i], 6); /* ALREADY_EXISTS */
            ck_assert_str_eq(l->field[i], "email");
        } else if (i == NO_TENANT_AT) {
            ck_assert_int_eq(l->code[i], 5); /* NOT_FOUND */
            ck_assert_str_eq(l->field[i], "tenantId");
        } else {
            ck_assert_msg(l->code[i] == 0, "record %llu: code %d", (unsigned long long)i,
                          l->code[i]);
            ck_assert_uint_eq(strlen(l->id[i]), 36);
            good++;
        }
    }
    ck_assert_uint_eq(sum.applied, good);
    ck_assert_uint_eq(sum.failed, RECORDS - good);
    ck_assert_int_eq(count_users(tenant, NULL), (int64_t)good);
    /* Nothing of a refused record stays: its reference is free. */
    ck_assert_int_eq(count_users(tenant, "m7"), 0);
    ck_assert_int_eq(count_users(tenant, "m6"), 1);
    ck_assert_int_eq(count_users(NULL, "m1234"), 0);

    /* Updates and deletes of what landed, with bad ones among them, in one
     * call: each applies or fails alone, in order. */
    roster_v1_BulkOperation ops[8];
    memset(ops, 0, sizeof ops);
    ops[0].which_operation = roster_v1_BulkOperation_update_user_tag;
    roster_pb_str(&ops[0].operation.update_user.id, l->id[0]);
    roster_pb_str(&ops[0].operation.update_user.first_name, "Renamed");
    ops[1].which_operation = roster_v1_BulkOperation_delete_user_tag;
    roster_pb_str(&ops[1].operation.delete_user.id, l->id[1]);
    ops[2].which_operation = roster_v1_BulkOperation_delete_user_tag;
    roster_pb_str(&ops[2].operation.delete_user.id, l->id[1]); /* deleted just before */
    ops[3].which_operation = roster_v1_BulkOperation_update_user_tag;
    roster_pb_str(&ops[3].operation.update_user.id, "not-a-uuid");
    ops[4].which_operation = 0; /* no operation at all */
    ops[5].which_operation = roster_v1_BulkOperation_update_user_tag;
    roster_pb_str(&ops[5].operation.update_user.id, l->id[2]);
    roster_pb_str(&ops[5].operation.update_user.email, "m0@example.com"); /* taken */
    ops[6].which_operation = roster_v1_BulkOperation_create_user_tag;
    roster_pb_str(&ops[6].operation.create_user.reference, "m1"); /* freed by ops[1] */
    roster_pb_str(&ops[6].operation.create_user.email, "m1@example.com");
    roster_pb_str(&ops[6].operation.create_user.tenant_id, tenant);
    ops[7].which_operation = roster_v1_BulkOperation_delete_user_tag;
    roster_pb_str(&ops[7].operation.delete_user.id, l->id[4]);

    /* Sent as one call. */
    array_source as = {ops, 0, 8};
    result_log *l2 = new_log();
    roster_bulk_options one = {.in_flight = 1};
    ck_assert_int_eq(
        roster_client_bulk_write(&sum, &st, c, &o, &one, next_array, &as, log_result, l2),
        ROSTER_E_OK);
    int32_t want[8] = {0, 0, 5, 3, 3, 6, 0, 0};
    const char *want_field[8] = {"", "", "id", "id", "operation", "email", "", ""};
    ck_assert_uint_eq(l2->n, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(l2->code[i] == want[i], "operation %d: code %d, want %d", i, l2->code[i],
                      want[i]);
        ck_assert_str_eq(l2->field[i], want_field[i]);
    }
    ck_assert_uint_eq(sum.applied, 4);
    ck_assert_uint_eq(sum.failed, 4);
    ck_assert_int_eq(count_users(tenant, NULL), (int64_t)good - 1);
    ck_assert_int_eq(count_users(tenant, "m1"), 1);
    ck_assert_int_eq(count_users(tenant, "m4"), 0);
    free(l2);
    free(l);
    free(tenant);
    roster_client_close(c);
}
END_TEST

START_TEST(dry_run_stores_nothing)
{
    char *tenant = make_tenant("Bulk dry");
    roster_client *c = open_client();
    roster_call_options o = {.credential = g_d.key};
    create_source src = {.n = 40, .tenant = tenant, .prefix = "d"};
    result_log *dry = new_log(), *real = new_log();
    roster_bulk_summary sum;
    roster_status st;
    uint64_t seq = latest_seq();
    roster_bulk_options bo = {.dry_run = true, .batch = 16};
    ck_assert_int_eq(
        roster_client_bulk_write(&sum, &st, c, &o, &bo, next_create, &src, log_result, dry),
        ROSTER_E_OK);
    ck_assert_uint_eq(dry->n, 40);
    ck_assert_int_eq(count_users(tenant, NULL), 0);
    ck_assert_uint_eq(latest_seq(), seq);
    uint64_t dry_applied = sum.applied;
    ck_assert_uint_gt(dry_applied, 0);

    src.i = 0;
    bo.dry_run = false;
    ck_assert_int_eq(
        roster_client_bulk_write(&sum, &st, c, &o, &bo, next_create, &src, log_result, real),
        ROSTER_E_OK);
    ck_assert_uint_eq(sum.applied, dry_applied);
    for (int i = 0; i < 40; i++) {
        ck_assert_int_eq(real->code[i], dry->code[i]);
        ck_assert_str_eq(real->field[i], dry->field[i]);
    }
    ck_assert_int_eq(count_users(tenant, NULL), (int64_t)dry_applied);
    ck_assert_uint_gt(latest_seq(), seq);
    free(dry);
    free(real);
    free(tenant);
    roster_client_close(c);
}
END_TEST

START_TEST(request_limits)
{
    /* More than ROSTER_MAX_BULK operations in one call. */
    Roster__V1__BulkWriteRequest req = ROSTER__V1__BULK_WRITE_REQUEST__INIT;
    size_t n = ROSTER_MAX_BULK + 1;
    Roster__V1__BulkOperation *cells = calloc(n, sizeof *cells);
    Roster__V1__BulkOperation **ops = calloc(n, sizeof *ops);
    Roster__V1__DeleteUserRequest del = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    del.id = "0190a5b0-0000-7000-8000-000000000009";
    for (size_t i = 0; i < n; i++) {
        roster__v1__bulk_operation__init(&cells[i]);
        cells[i].operation_case = ROSTER__V1__BULK_OPERATION__OPERATION_DELETE_USER;
        cells[i].delete_user = &del;
        ops[i] = &cells[i];
    }
    req.n_operations = n;
    req.operations = ops;
    call_res r;
    ck_assert_int_eq(call_sync(g_rpc, RPC_BULK_WRITE, &req.base, 5000, NULL, &r), 3);
    ck_assert_msg(strstr(r.message, "operations") != NULL, "message: %s", r.message);
    call_res_free(&r);

    /* Exactly the limit: one NOT_FOUND result each. */
    req.n_operations = ROSTER_MAX_BULK;
    ck_assert_int_eq(call_sync(g_rpc, RPC_BULK_WRITE, &req.base, 10000, NULL, &r), 0);
    Roster__V1__BulkWriteResponse *resp = (void *)r.reply;
    ck_assert_uint_eq(resp->n_results, ROSTER_MAX_BULK);
    ck_assert_uint_eq(resp->failed, ROSTER_MAX_BULK);
    ck_assert_int_eq(resp->results[999]->code, 5);
    call_res_free(&r);

    /* None: an empty answer. */
    req.n_operations = 0;
    ck_assert_int_eq(call_sync(g_rpc, RPC_BULK_WRITE, &req.base, 5000, NULL, &r), 0);
    ck_assert_uint_eq(((Roster__V1__BulkWriteResponse *)r.reply)->n_results, 0);
    call_res_free(&r);

    /* A truncated request. */
    uint8_t trunc[] = {0x0a, 0x20, 0x0a, 0x05, 'a'};
    ck_assert_int_eq(
        call_raw_sync(g_rpc, "/roster.v1.UserService/BulkWrite", trunc, sizeof trunc, 5000, &r), 3);
    call_res_free(&r);
    free(ops);
    free(cells);
}
END_TEST

static int one_create(void *arg, roster_v1_BulkOperation *op)
{
    const char **spec = arg; /* {reference, tenant or NULL, done flag} */
    if (spec[2] != NULL)
        return 0;
    spec[2] = "sent";
    op->which_operation = roster_v1_BulkOperation_create_user_tag;
    roster_pb_str(&op->operation.create_user.reference, spec[0]);
    char *email = (char *)spec[3];
    roster_pb_str(&op->operation.create_user.email, email);
    roster_pb_str(&op->operation.create_user.tenant_id, spec[1]);
    return 1;
}

static int bulk_one(roster_status *st, roster_client *c, const char *credential, const char *ref,
                    const char *tenant, result_log *l)
{
    char email[64];
    snprintf(email, sizeof email, "%s@example.com", ref);
    const char *spec[4] = {ref, tenant, NULL, email};
    roster_call_options o = {.credential = credential};
    roster_bulk_summary sum;
    l->n = 0;
    return roster_client_bulk_write(&sum, st, c, &o, NULL, one_create, spec, log_result, l);
}

START_TEST(refusals)
{
    char *a = make_tenant("Bulk A"), *b = make_tenant("Bulk B");
    roster_client *c = open_client();
    roster_status st;
    result_log *l = new_log();
    /* No key, then a key the service never issued. */
    ck_assert_int_eq(bulk_one(&st, c, NULL, "k1", a, l), ROSTER_E_UNAUTHENTICATED);
    ck_assert_int_eq(bulk_one(&st, c, "rstr_0000000000000000000000000000000000", "k1", a, l),
                     ROSTER_E_UNAUTHENTICATED);
    /* A reader key may not write. */
    char *reader = daemon_mint_key(g_rpc, ROSTER__V1__ROLE__ROLE_READER, a, NULL);
    ck_assert_int_eq(bulk_one(&st, c, reader, "k1", a, l), ROSTER_E_PERMISSION_DENIED);
    ck_assert_uint_eq(l->n, 0);
    ck_assert_int_eq(count_users(a, NULL), 0);
    /* A writer key of tenant A writes in A only: each operation aimed at
     * B is refused on its own. */
    char *writer = daemon_mint_key(g_rpc, ROSTER__V1__ROLE__ROLE_WRITER, a, NULL);
    ck_assert_int_eq(bulk_one(&st, c, writer, "k2", b, l), ROSTER_E_OK);
    ck_assert_int_eq(l->code[0], 7); /* PERMISSION_DENIED */
    ck_assert_str_eq(l->field[0], "tenantId");
    ck_assert_int_eq(bulk_one(&st, c, writer, "k3", NULL, l), ROSTER_E_OK);
    ck_assert_int_eq(l->code[0], 0);
    ck_assert_int_eq(count_users(a, "k3"), 1);
    ck_assert_int_eq(count_users(b, NULL), 0);
    /* A user in B, which the writer of A can neither see nor delete. */
    result_log *lb = new_log();
    ck_assert_int_eq(bulk_one(&st, c, g_d.key, "kb", b, lb), ROSTER_E_OK);
    ck_assert_int_eq(lb->code[0], 0);
    Roster__V1__BulkWriteRequest req = ROSTER__V1__BULK_WRITE_REQUEST__INIT;
    Roster__V1__BulkOperation cell = ROSTER__V1__BULK_OPERATION__INIT;
    Roster__V1__BulkOperation *ops[1] = {&cell};
    Roster__V1__DeleteUserRequest del = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    del.id = lb->id[0];
    cell.operation_case = ROSTER__V1__BULK_OPERATION__OPERATION_DELETE_USER;
    cell.delete_user = &del;
    req.n_operations = 1;
    req.operations = ops;
    call_res r;
    ck_assert_int_eq(call_sync(g_rpc, RPC_BULK_WRITE, &req.base, 5000, writer, &r), 0);
    ck_assert_int_eq(((Roster__V1__BulkWriteResponse *)r.reply)->results[0]->code, 5);
    call_res_free(&r);
    ck_assert_int_eq(count_users(b, "kb"), 1);
    /* A user token (its own profile only) may not bulk write. */
    Roster__V1__GetEnvironmentRequest ge = ROSTER__V1__GET_ENVIRONMENT_REQUEST__INIT;
    ck_assert_int_eq(call_sync(g_rpc, RPC_GET_ENVIRONMENT, &ge.base, 5000, NULL, &r), 0);
    char *env = strdup(((Roster__V1__Environment *)r.reply)->id);
    call_res_free(&r);
    Roster__V1__IssueUserTokenRequest ut = ROSTER__V1__ISSUE_USER_TOKEN_REQUEST__INIT;
    ut.environment_id = env;
    ut.user_id = lb->id[0];
    ck_assert_int_eq(call_sync(g_rpc, RPC_ISSUE_USER_TOKEN, &ut.base, 5000, NULL, &r), 0);
    char *token = strdup(((Roster__V1__AccessToken *)r.reply)->access_token);
    call_res_free(&r);
    ck_assert_int_eq(call_sync(g_rpc, RPC_BULK_WRITE, &req.base, 5000, token, &r), 7);
    call_res_free(&r);
    ck_assert_int_eq(count_users(b, "kb"), 1);
    free(token);
    free(env);
    free(lb);
    free(writer);
    free(reader);
    free(l);
    free(a);
    free(b);
    roster_client_close(c);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("client_bulk");
    TCase *tc = tcase_create("bulk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, mixed_records_land_or_fail_alone);
    tcase_add_test(tc, dry_run_stores_nothing);
    tcase_add_test(tc, request_limits);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
