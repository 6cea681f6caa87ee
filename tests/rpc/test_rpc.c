/* The RPC layer: envelope codec, method table, status replies, and the
 * rep0 server with the async req0 client over ipc in one process, using a
 * handler table defined here. */
#include "arena.h"
#include "roster_limits.h"
#include "rpc_client.h"
#include "rpc_envelope.h"
#include "rpc_method.h"
#include "rpc_server.h"
#include "rpc_status.h"
#include "rpc_wire_scan.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ codec */

START_TEST(envelope_round_trip)
{
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    uint8_t *body;
    size_t body_len;
    ck_assert_int_eq(rpc_message_pack(&body, &body_len, &a, &g.base), ROSTER_E_OK);

    Roster__V1__RpcRequest req;
    Roster__V1__CallContext ctx;
    rpc_request_init(&req, &ctx, "/roster.v1.UserService/GetUser", body, body_len, "r-1", 250,
                     "0190a1b2-c3d4-7e5f-8a9b-000000000001");
    uint8_t *wire;
    size_t wire_len;
    ck_assert_int_eq(rpc_message_pack(&wire, &wire_len, &a, &req.base), ROSTER_E_OK);

    Roster__V1__RpcRequest *back = NULL;
    ck_assert_int_eq(rpc_request_decode(&back, &a, wire, wire_len, NULL), ROSTER_E_OK);
    ck_assert_str_eq(back->method, "/roster.v1.UserService/GetUser");
    ck_assert_ptr_nonnull(back->context);
    ck_assert_str_eq(back->context->request_id, "r-1");
    ck_assert_uint_eq(back->context->timeout_ms, 250);
    ck_assert_str_eq(back->context->credential, "0190a1b2-c3d4-7e5f-8a9b-000000000001");
    const rpc_method *m = rpc_method_find(back->method, strlen(back->method));
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->id, RPC_GET_USER);
    ProtobufCMessage *gm = NULL;
    ck_assert_int_eq(rpc_body_decode(&gm, &a, m->request, back->body.data, back->body.len, NULL),
                     ROSTER_E_OK);
    ck_assert_str_eq(((Roster__V1__GetUserRequest *)gm)->id, g.id);

    /* A status reply survives the trip with its violation. */
    roster_err_detail d;
    roster_fail(&d, ROSTER_E_ALREADY_EXISTS, "email", "email is already used in this tenant");
    Roster__V1__RpcReply rep;
    rpc_status st;
    rpc_status_reply(&rep, &st, ROSTER_E_ALREADY_EXISTS, &d);
    ck_assert_int_eq(rep.code, 6);
    ck_assert_ptr_nonnull(rep.message);
    ck_assert_int_eq(rpc_message_pack(&wire, &wire_len, &a, &rep.base), ROSTER_E_OK);
    Roster__V1__RpcReply *rback = NULL;
    ck_assert_int_eq(rpc_reply_decode(&rback, &a, wire, wire_len, NULL), ROSTER_E_OK);
    ck_assert_int_eq(rback->code, 6);
    ck_assert_str_eq(rback->message, "email is already used in this tenant");
    ck_assert_uint_eq(rback->n_violations, 1);
    ck_assert_str_eq(rback->violations[0]->field, "email");
    roster_arena_free(&a);
}
END_TEST

START_TEST(status_without_detail)
{
    Roster__V1__RpcReply rep;
    rpc_status st;
    rpc_status_reply(&rep, &st, ROSTER_E_UNIMPLEMENTED, NULL);
    ck_assert_int_eq(rep.code, 12);
    ck_assert_str_eq(rep.message, "unknown method");
    ck_assert_uint_eq(rep.n_violations, 0);
    rpc_status_reply(&rep, &st, ROSTER_E_OK, NULL);
    ck_assert_int_eq(rep.code, 0);
    ck_assert_ptr_null(rep.message);
}
END_TEST

START_TEST(decode_rejects_garbage_and_truncation)
{
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    roster_err_detail d;
    Roster__V1__RpcRequest *r = NULL;
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ck_assert_int_eq(rpc_request_decode(&r, &a, garbage, sizeof garbage, &d), ROSTER_E_PROTOCOL);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(d.message, "RpcRequest"));

    /* Empty input is an envelope without a method. */
    ck_assert_int_eq(rpc_request_decode(&r, &a, "", 0, &d), ROSTER_E_PROTOCOL);
    ck_assert_str_eq(d.field, "method");

    Roster__V1__RpcRequest req;
    Roster__V1__CallContext ctx;
    rpc_request_init(&req, &ctx, "/roster.v1.UserService/Health", "", 0, "abc", 0, NULL);
    uint8_t *wire;
    size_t len;
    ck_assert_int_eq(rpc_message_pack(&wire, &len, &a, &req.base), ROSTER_E_OK);
    for (size_t cut = 1; cut < len; cut++) {
        Roster__V1__RpcRequest *t = NULL;
        int err = rpc_request_decode(&t, &a, wire, len - cut, NULL);
        /* Every strict prefix either fails or lacks something it had. */
        if (err == ROSTER_E_OK)
            ck_assert(t->context == NULL || t->context->request_id == NULL ||
                      strcmp(t->context->request_id, "abc") != 0);
    }
    /* A reply with no status code is refused. */
    Roster__V1__RpcReply *rep = NULL;
    ck_assert_int_eq(rpc_reply_decode(&rep, &a, "", 0, &d), ROSTER_E_PROTOCOL);
    ck_assert_str_eq(d.field, "code");
    /* A body whose bytes break the wire format of the expected type. */
    ProtobufCMessage *m = NULL;
    const uint8_t bad_body[] = {0x0a, 0x20, 'x'};
    ck_assert_int_eq(rpc_body_decode(&m, &a, &roster__v1__get_user_request__descriptor, bad_body,
                                     sizeof bad_body, &d),
                     ROSTER_E_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(d.message, "roster.v1.GetUserRequest"));
    roster_arena_free(&a);
}
END_TEST

/* A NUL inside a string field at any depth is refused by field path; other
 * bytes, other wire types and framing cut short are left alone. */
START_TEST(wire_scan_strings)
{
    roster_err_detail d = {0};
    /* UpdateUserRequest: id "a", first_name (3) "x\0y", a varint field. */
    const uint8_t upd[] = {0x0a, 0x01, 'a', 0x1a, 0x03, 'x', 0x00, 'y', 0x48, 0x01};
    ck_assert_int_eq(
        rpc_wire_scan(&roster__v1__update_user_request__descriptor, upd, sizeof upd, &d),
        ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "firstName");
    ck_assert_str_eq(d.message, "firstName contains a NUL character");
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__update_user_request__descriptor, upd, 3, NULL),
                     ROSTER_E_OK);
    /* Cut inside the string: not this check's business. */
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__update_user_request__descriptor, upd, 6, NULL),
                     ROSTER_E_OK);
    /* ListUsersRequest.filter(1).email(3).value_in(5).values(1) = "a\0". */
    const uint8_t list[] = {0x0a, 0x08, 0x1a, 0x06, 0x2a, 0x04, 0x0a, 0x02, 'a', 0x00};
    ck_assert_int_eq(
        rpc_wire_scan(&roster__v1__list_users_request__descriptor, list, sizeof list, &d),
        ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.email.valueIn.values");
    /* Bytes fields may hold NULs: the envelope's body. */
    const uint8_t env[] = {0x12, 0x02, 0x00, 0x00};
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__rpc_request__descriptor, env, sizeof env, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__get_user_request__descriptor, NULL, 0, NULL),
                     ROSTER_E_OK);
}
END_TEST

/* ------------------------------------------------------------ wire scan */

/* Appends tag (field, wire type) and, for length-delimited, len; returns
 * the new end. */
static size_t put_varint(uint8_t *b, size_t n, uint64_t v)
{
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

static size_t put_string(uint8_t *b, size_t n, unsigned field, const char *s, size_t len)
{
    n = put_varint(b, n, (uint64_t)field << 3 | 2);
    n = put_varint(b, n, len);
    memcpy(b + n, s, len);
    return n + len;
}

/* `limit` empty entries of field `number` pass the scan of desc; one more
 * is refused, with *d saying why. */
static void scan_at_limit(const ProtobufCMessageDescriptor *desc, unsigned number, size_t limit,
                          roster_err_detail *d)
{
    uint8_t *b = malloc(3 * (limit + 1));
    size_t n = 0;
    for (size_t i = 0; i < limit; i++)
        n = put_string(b, n, number, "", 0);
    ck_assert_int_eq(rpc_wire_scan(desc, b, n, d), ROSTER_E_OK);
    n = put_string(b, n, number, "", 0);
    ck_assert_int_eq(rpc_wire_scan(desc, b, n, d), ROSTER_E_INVALID_ARGUMENT);
    free(b);
}

START_TEST(wire_scan_limits)
{
    roster_err_detail d = {0};
    size_t n, cap = 8 * (ROSTER_MAX_BATCH + 100);
    uint8_t *b = malloc(cap);
    /* BatchGetUsersRequest.ids: ROSTER_MAX_BATCH empty ids pass, one more
     * is refused naming the field and the limit. */
    scan_at_limit(&roster__v1__batch_get_users_request__descriptor, 1, ROSTER_MAX_BATCH, &d);
    ck_assert_str_eq(d.field, "ids");
    ck_assert_str_eq(d.message, "ids holds more than 1000 entries (ROSTER_MAX_BATCH)");

    /* ListUsersRequest.filter(1).email(3).value_in(5).values(1), one too
     * many: named by the filter field, not the wrapper's `values`. */
    size_t m = 0;
    for (int i = 0; i <= ROSTER_MAX_FILTER_VALUES; i++)
        m = put_string(b + 16, m, 1, "a", 1);
    uint8_t *inner = malloc(m + 64), *mid = malloc(m + 64), *outer = malloc(m + 64);
    size_t k = put_string(inner, 0, 5, (const char *)b + 16, m);
    size_t j = put_string(mid, 0, 3, (const char *)inner, k);
    size_t o = put_string(outer, 0, 1, (const char *)mid, j);
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__list_users_request__descriptor, outer, o, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "filter.email.valueIn");
    ck_assert_str_eq(
        d.message, "filter.email.valueIn holds more than 1000 entries (ROSTER_MAX_FILTER_VALUES)");
    free(inner);
    free(mid);
    free(outer);

    /* UpdateUserRequest.clear: a packed enum, at most its number of values. */
    const ProtobufCMessageDescriptor *upd = &roster__v1__update_user_request__descriptor;
    const ProtobufCFieldDescriptor *clear =
        protobuf_c_message_descriptor_get_field_by_name(upd, "clear");
    size_t n_values = ((const ProtobufCEnumDescriptor *)clear->descriptor)->n_values;
    uint8_t packed[256];
    memset(packed, 1, sizeof packed);
    n = put_string(b, 0, 14, (const char *)packed, n_values);
    ck_assert_int_eq(rpc_wire_scan(upd, b, n, &d), ROSTER_E_OK);
    n = put_string(b, 0, 14, (const char *)packed, n_values + 1);
    ck_assert_int_eq(rpc_wire_scan(upd, b, n, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "clear");

    /* A singular field given twice. */
    n = put_string(b, 0, 1, "x", 1);
    n = put_string(b, n, 3, "y", 1);
    ck_assert_int_eq(rpc_wire_scan(upd, b, n, &d), ROSTER_E_OK);
    n = put_string(b, n, 3, "z", 1);
    ck_assert_int_eq(rpc_wire_scan(upd, b, n, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "firstName");
    ck_assert_str_eq(d.message, "firstName appears more than once; it holds one value");

    /* Unknown fields: ROSTER_MAX_UNKNOWN_FIELDS kept, one more refused. */
    const ProtobufCMessageDescriptor *get = &roster__v1__get_user_request__descriptor;
    scan_at_limit(get, 99, ROSTER_MAX_UNKNOWN_FIELDS, &d);
    ck_assert(strstr(d.message, "ROSTER_MAX_UNKNOWN_FIELDS") != NULL);

    /* Framing errors are the unpacker's; the envelope is scanned too. */
    const uint8_t cut[] = {0x0a, 0x05, 'a'};
    ck_assert_int_eq(rpc_wire_scan(get, cut, sizeof cut, &d), ROSTER_E_OK);
    ck_assert_int_eq(rpc_wire_scan(get, NULL, 0, &d), ROSTER_E_OK);
    n = put_string(b, 0, 1, "/m", 2);
    n = put_string(b, n, 1, "/m", 2);
    ck_assert_int_eq(rpc_wire_scan(&roster__v1__rpc_request__descriptor, b, n, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "method");
    free(b);
}
END_TEST

/* Every repeated field a request can hold has a limit of its own (a row
 * of ROSTER_REPEATED_LIMIT_MAP or an enum's values), not the default. */
static void check_repeated_limits(const ProtobufCMessageDescriptor *desc, int depth)
{
    ck_assert_int_lt(depth, ROSTER_MAX_WIRE_DEPTH);
    ck_assert_uint_le(desc->n_fields, 64);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            ck_assert_msg(strcmp(rpc_wire_repeated_limit_name(f), "ROSTER_MAX_REPEATED_DEFAULT") !=
                              0,
                          "%s.%s has no limit in ROSTER_REPEATED_LIMIT_MAP", desc->name, f->name);
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            check_repeated_limits(f->descriptor, depth + 1);
    }
}

START_TEST(wire_scan_covers_requests)
{
    for (int i = 0; i < RPC_METHOD__COUNT; i++)
        check_repeated_limits(rpc_method_get((rpc_method_id)i)->request, 0);
    check_repeated_limits(&roster__v1__rpc_request__descriptor, 0);
}
END_TEST

START_TEST(arena_cap_is_resource_exhausted)
{
    roster_err_detail d = {0};
    uint8_t b[8 * 1000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n = put_string(b, n, 1, "", 0);
    roster_arena a;
    roster_arena_init(&a, 1024, 16384);
    ProtobufCMessage *m = NULL;
    ck_assert_int_eq(
        rpc_body_decode(&m, &a, &roster__v1__batch_get_users_request__descriptor, b, n, &d),
        ROSTER_E_NOMEM);
    ck_assert_int_eq(roster_err_to_status(ROSTER_E_NOMEM), ROSTER_STATUS_RESOURCE_EXHAUSTED);
    ck_assert(strstr(d.message, "per-call memory limit of 16384 bytes (ROSTER_MAX_CALL_ARENA)"));
    roster_arena_reset(&a);
    ck_assert_int_eq(a.over_limit, 0);
    a.limit = 0;
    ck_assert_int_eq(
        rpc_body_decode(&m, &a, &roster__v1__batch_get_users_request__descriptor, b, n, &d),
        ROSTER_E_OK);
    roster_arena_free(&a);
}
END_TEST

START_TEST(method_table)
{
    for (int i = 0; i < RPC_METHOD__COUNT; i++) {
        const rpc_method *m = rpc_method_get((rpc_method_id)i);
        ck_assert_ptr_nonnull(m);
        ck_assert_int_eq(m->id, i);
        ck_assert_ptr_eq(rpc_method_find(m->name, strlen(m->name)), m);
        ck_assert(strncmp(m->name, "/roster.v1.UserService/", 23) == 0);
        ck_assert_str_eq(m->name + 23, m->short_name);
        /* The table agrees with the service descriptor protoc-c made. */
        const ProtobufCServiceDescriptor *sd = &roster__v1__user_service__descriptor;
        int found = 0;
        for (unsigned k = 0; k < sd->n_methods; k++) {
            if (strcmp(sd->methods[k].name, m->short_name) == 0) {
                ck_assert_ptr_eq(sd->methods[k].input, m->request);
                ck_assert_ptr_eq(sd->methods[k].output, m->reply);
                found = 1;
            }
        }
        ck_assert_int_eq(found, 1);
    }
    ck_assert_ptr_null(rpc_method_get(RPC_METHOD__COUNT));
    ck_assert_ptr_null(rpc_method_find("/roster.v1.UserService/Nope", 27));
    ck_assert_ptr_null(rpc_method_find("GetUser", 7));
    ck_assert(rpc_method_get(RPC_CREATE_USER)->writes);
    ck_assert(!rpc_method_get(RPC_GET_USER)->writes);
    ck_assert(!rpc_method_get(RPC_CREATE_USER)->idempotent);
    ck_assert(rpc_method_get(RPC_GET_USER)->idempotent);
}
END_TEST

/* Every row of ROSTER_METHOD_MAP against the service protobuf-c generated
 * from roster.proto: same methods in the same order, and the CamelCase
 * message names (what the nanopb binding pastes) name the same messages
 * as the snake_case ones (what this binding pastes). */
START_TEST(method_rows_match_proto)
{
    const ProtobufCServiceDescriptor *sd = &roster__v1__user_service__descriptor;
    ck_assert_uint_eq(sd->n_methods, RPC_METHOD__COUNT);
    ck_assert_str_eq(sd->name, ROSTER_SERVICE_NAME);
#define CHECK_ROW(id, Method, Request, request_snake, Reply, reply_snake, access, repeat, who,     \
                  shape)                                                                           \
    ck_assert_str_eq(sd->methods[RPC_##id].name, #Method);                                         \
    ck_assert_str_eq(ROSTER_METHOD_PATH(Method), rpc_method_get(RPC_##id)->name);                  \
    ck_assert_str_eq(sd->methods[RPC_##id].input->short_name, #Request);                           \
    ck_assert_str_eq(sd->methods[RPC_##id].output->short_name, #Reply);                            \
    ck_assert_ptr_eq(sd->methods[RPC_##id].input, &roster__v1__##request_snake##__descriptor);     \
    ck_assert_ptr_eq(sd->methods[RPC_##id].output, &roster__v1__##reply_snake##__descriptor);      \
    ck_assert_int_eq(rpc_method_get(RPC_##id)->writes, ROSTER_METHOD_WRITES(access));              \
    ck_assert_int_eq(rpc_method_get(RPC_##id)->idempotent, ROSTER_METHOD_IDEMPOTENT(repeat));      \
    ck_assert_int_eq(rpc_method_get(RPC_##id)->auth, ROSTER_METHOD_AUTH(who));                     \
    ck_assert_int_eq(rpc_method_get(RPC_##id)->server_stream, ROSTER_METHOD_STREAMS(shape));
    ROSTER_METHOD_MAP(CHECK_ROW)
#undef CHECK_ROW
    /* The one streaming method, and only it. */
    ck_assert(rpc_method_get(RPC_WATCH_CHANGES)->server_stream);
    for (int i = 0; i < RPC_METHOD__COUNT; i++)
        ck_assert_int_eq(rpc_method_get((rpc_method_id)i)->server_stream, i == RPC_WATCH_CHANGES);
}
END_TEST

/* ------------------------------------------------------------ server */

static char url[256];

static void *late_reply(void *arg)
{
    rpc_call *call = arg;
    const Roster__V1__GetUserRequest *r = (const void *)rpc_call_request(call);
    usleep(strcmp(r->id, "slow") == 0 ? 1500000 : 2000);
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = r->id;
    rpc_call_reply_message(call, &u.base);
    return NULL;
}

/* The in-test handler table: GetUser echoes the id (later, from another
 * thread, for "async" and "slow"; NOT_FOUND for "missing"); Health answers
 * with the caller's request id and scope; everything else an empty reply. */
static void handler(void *arg, rpc_call *call)
{
    (void)arg;
    const rpc_method *m = rpc_call_method(call);
    if (m->id == RPC_GET_USER) {
        const Roster__V1__GetUserRequest *r = (const void *)rpc_call_request(call);
        if (r->id == NULL) {
            rpc_call_reply_error(call, ROSTER_E_INVALID_ARGUMENT, NULL);
            return;
        }
        if (strcmp(r->id, "missing") == 0) {
            roster_err_detail d;
            roster_fail(&d, ROSTER_E_NOT_FOUND, "id", "no user with id missing");
            rpc_call_reply_error(call, ROSTER_E_NOT_FOUND, &d);
            return;
        }
        if (strcmp(r->id, "async") == 0 || strcmp(r->id, "slow") == 0) {
            pthread_t t;
            pthread_create(&t, NULL, late_reply, call);
            pthread_detach(t);
            return;
        }
        Roster__V1__User u = ROSTER__V1__USER__INIT;
        u.id = r->id;
        rpc_call_reply_message(call, &u.base);
        return;
    }
    if (m->id == RPC_HEALTH) {
        Roster__V1__HealthResponse h = ROSTER__V1__HEALTH_RESPONSE__INIT;
        h.status = (char *)rpc_call_request_id(call);
        h.version = (char *)(rpc_call_credential(call) ? rpc_call_credential(call) : "-");
        rpc_call_reply_message(call, &h.base);
        return;
    }
    rpc_call_reply_bytes(call, "", 0);
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    int want;
    int codes[64];
    char text[64][128];
    rpc_client *client;
    int chain_left;
} waiter;

static void waiter_init(waiter *w, int want)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->want = want;
}

static void waiter_wait(waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->done < w->want)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static void record_cb(void *arg, const rpc_result *res)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    int i = w->done < 64 ? w->done : 63;
    w->codes[i] = res->code;
    if (res->code == 0 && res->reply != NULL && res->method->id == RPC_GET_USER)
        snprintf(w->text[i], sizeof w->text[i], "%s", ((Roster__V1__User *)res->reply)->id);
    else if (res->code == 0 && res->reply != NULL && res->method->id == RPC_HEALTH)
        snprintf(w->text[i], sizeof w->text[i], "%s|%s",
                 ((Roster__V1__HealthResponse *)res->reply)->status,
                 ((Roster__V1__HealthResponse *)res->reply)->version);
    else if (res->n_violations > 0)
        snprintf(w->text[i], sizeof w->text[i], "%s", res->violations[0]->field);
    else
        snprintf(w->text[i], sizeof w->text[i], "%s", res->message);
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int call_one(rpc_client *c, const char *id, uint32_t timeout_ms, char *text, size_t cap)
{
    waiter w;
    waiter_init(&w, 1);
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = (char *)id;
    ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &g.base, timeout_ms, NULL, record_cb, &w),
                     ROSTER_E_OK);
    waiter_wait(&w);
    if (text)
        snprintf(text, cap, "%s", w.text[0]);
    return w.codes[0];
}

static rpc_server *start_server(void)
{
    snprintf(url, sizeof url, "ipc:///tmp/roster-rpc-test-%d.ipc", (int)getpid());
    rpc_server_options o = {.url = url, .contexts = 16, .handler = handler};
    rpc_server *s = NULL;
    roster_err_detail d;
    ck_assert_int_eq(rpc_server_start(&s, &o, &d), ROSTER_E_OK);
    return s;
}

START_TEST(server_client_basic)
{
    rpc_server *s = start_server();
    rpc_client *c = NULL;
    ck_assert_int_eq(rpc_client_open(&c, url, NULL, NULL), ROSTER_E_OK);
    char text[128];
    ck_assert_int_eq(call_one(c, "u-1", 2000, text, sizeof text), 0);
    ck_assert_str_eq(text, "u-1");
    ck_assert_int_eq(call_one(c, "missing", 2000, text, sizeof text), 5);
    ck_assert_str_eq(text, "id");
    ck_assert_int_eq(call_one(c, "async", 2000, text, sizeof text), 0);
    ck_assert_str_eq(text, "async");

    /* Request id and credential reach the handler. */
    waiter w;
    waiter_init(&w, 1);
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    uint8_t hb[8];
    size_t hn = roster__v1__health_request__pack(&h, hb);
    ck_assert_int_eq(rpc_client_call_raw(c, "/roster.v1.UserService/Health", hb, hn, 2000,
                                         "rstr_credential-text", "req-42", record_cb, &w),
                     ROSTER_E_OK);
    waiter_wait(&w);
    ck_assert_int_eq(w.codes[0], 0);
    ck_assert_str_eq(w.text[0], "req-42|rstr_credential-text");

    /* Unknown method, wrong body, garbage envelope: status replies. */
    waiter_init(&w, 3);
    ck_assert_int_eq(rpc_client_call_raw(c, "/roster.v1.UserService/DropTables", "", 0, 2000, NULL,
                                         NULL, record_cb, &w),
                     ROSTER_E_OK);
    const uint8_t bad_body[] = {0x0a, 0x20, 'x'};
    ck_assert_int_eq(rpc_client_call_raw(c, "/roster.v1.UserService/GetUser", bad_body,
                                         sizeof bad_body, 2000, NULL, NULL, record_cb, &w),
                     ROSTER_E_OK);
    ck_assert_int_eq(rpc_client_send_bytes(c, "\xff\xff\xff\xff", 4, 2000, record_cb, &w),
                     ROSTER_E_OK);
    waiter_wait(&w);
    int seen12 = 0, seen3 = 0;
    for (int i = 0; i < 3; i++) {
        seen12 += w.codes[i] == 12;
        seen3 += w.codes[i] == 3;
    }
    ck_assert_int_eq(seen12, 1);
    ck_assert_int_eq(seen3, 2);
    ck_assert_int_eq(call_one(c, "after-bad", 2000, NULL, 0), 0);

    /* Wrong message type for the method is refused before sending. */
    ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &h.base, 100, NULL, record_cb, &w),
                     ROSTER_E_INVALID_ARGUMENT);

    rpc_client_close(c);
    ck_assert_uint_eq(rpc_server_stop(s, 2000), 0);
    rpc_server_free(s);
}
END_TEST

static void chain_cb(void *arg, const rpc_result *res)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    int more = res->code == 0 && --w->chain_left > 0;
    if (res->code != 0)
        w->codes[0] = res->code;
    pthread_mutex_unlock(&w->mu);
    if (more) {
        /* A callback starts the next call. */
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = "chained";
        ck_assert_int_eq(rpc_client_call(w->client, RPC_GET_USER, &g.base, 2000, NULL, chain_cb, w),
                         ROSTER_E_OK);
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->done++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

START_TEST(server_client_concurrency)
{
    rpc_server *s = start_server();
    rpc_client *c = NULL;
    rpc_client_options co = {.contexts = 4};
    ck_assert_int_eq(rpc_client_open(&c, url, &co, NULL), ROSTER_E_OK);
    /* 300 calls at once through a pool of 4: the pool grows; a server
     * with 16 contexts answers all of them (some from another thread). */
    enum { N = 300 };
    static int codes[N];
    waiter w;
    waiter_init(&w, N);
    for (int i = 0; i < N; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = (i % 10 == 0) ? "async" : "u";
        ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &g.base, 10000, NULL, record_cb, &w),
                         ROSTER_E_OK);
    }
    waiter_wait(&w);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(w.codes[i], 0);
    (void)codes;

    waiter_init(&w, 8);
    w.client = c;
    w.chain_left = 8 * 25;
    for (int i = 0; i < 8; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = "chained";
        ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &g.base, 2000, NULL, chain_cb, &w),
                         ROSTER_E_OK);
    }
    waiter_wait(&w);
    ck_assert_int_eq(w.codes[0], 0);
    ck_assert_int_le(w.chain_left, 0);
    rpc_client_close(c);
    rpc_server_stop(s, 2000);
    rpc_server_free(s);
}
END_TEST

START_TEST(deadline_unavailable_reconnect)
{
    snprintf(url, sizeof url, "ipc:///tmp/roster-rpc-test-%d.ipc", (int)getpid());
    unlink(url + 6);
    rpc_client *c = NULL;
    ck_assert_int_eq(rpc_client_open(&c, url, NULL, NULL), ROSTER_E_OK);
    /* Nothing listens: the call ends UNAVAILABLE, not a hang. */
    char text[128];
    ck_assert_int_eq(call_one(c, "u", 200, text, sizeof text), 14);
    /* Long enough disconnected: calls fail at once. */
    usleep(1100000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(call_one(c, "u", 5000, text, sizeof text), 14);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_lt((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 500);
    ck_assert(!rpc_client_connected(c));

    /* The service comes up: the client redials by itself. */
    rpc_server *s = start_server();
    int ok = 0;
    for (int i = 0; i < 50 && !ok; i++) {
        ok = call_one(c, "u", 1000, NULL, 0) == 0;
        if (!ok)
            usleep(100000);
    }
    ck_assert(ok);
    ck_assert(rpc_client_connected(c));

    /* The handler answers after 1500 ms; the caller gave 100 ms. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(call_one(c, "slow", 100, text, sizeof text), 4);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    ck_assert_int_ge(ms, 100);
    ck_assert_int_lt(ms, 1400);
    /* The late reply goes nowhere; the next call is fine. */
    usleep(1500000);
    ck_assert_int_eq(call_one(c, "u2", 1000, text, sizeof text), 0);
    ck_assert_str_eq(text, "u2");

    /* An oversize message: nng drops it and the connection; no reply. The
     * server keeps serving. */
    size_t big = ROSTER_MAX_RPC_MESSAGE + 1024;
    uint8_t *buf = calloc(1, big);
    waiter w;
    waiter_init(&w, 1);
    ck_assert_int_eq(rpc_client_send_bytes(c, buf, big, 300, record_cb, &w), ROSTER_E_OK);
    waiter_wait(&w);
    ck_assert(w.codes[0] == 4 || w.codes[0] == 14);
    free(buf);
    ok = 0;
    for (int i = 0; i < 30 && !ok; i++)
        ok = call_one(c, "after-big", 1000, NULL, 0) == 0;
    ck_assert(ok);
    /* The client refuses to build an oversize request itself. */
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    char *huge = malloc(ROSTER_MAX_RPC_MESSAGE + 1);
    memset(huge, 'a', ROSTER_MAX_RPC_MESSAGE);
    huge[ROSTER_MAX_RPC_MESSAGE] = '\0';
    g.id = huge;
    ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &g.base, 100, NULL, record_cb, &w),
                     ROSTER_E_TOO_LARGE);
    free(huge);

    rpc_client_close(c);
    rpc_server_stop(s, 2000);
    rpc_server_free(s);
}
END_TEST

START_TEST(stop_answers_in_flight)
{
    rpc_server *s = start_server();
    rpc_client *c = NULL;
    ck_assert_int_eq(rpc_client_open(&c, url, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(call_one(c, "warm", 2000, NULL, 0), 0);
    waiter w;
    waiter_init(&w, 5);
    for (int i = 0; i < 5; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = "slow";
        ck_assert_int_eq(rpc_client_call(c, RPC_GET_USER, &g.base, 5000, NULL, record_cb, &w),
                         ROSTER_E_OK);
    }
    for (int i = 0; i < 200 && rpc_server_in_flight(s) < 5; i++)
        usleep(5000);
    ck_assert_uint_eq(rpc_server_in_flight(s), 5);
    ck_assert_uint_eq(rpc_server_stop(s, 3000), 0);
    waiter_wait(&w);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(w.codes[i], 0);
    rpc_server_free(s);
    rpc_client_close(c);
}
END_TEST

START_TEST(listen_errors)
{
    rpc_server_options o = {.url = "bogus://nowhere", .handler = handler};
    rpc_server *s = NULL;
    roster_err_detail d;
    ck_assert_int_eq(rpc_server_start(&s, &o, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(s);
    o.url = "tls+tcp://127.0.0.1:20091";
    ck_assert_int_eq(rpc_server_start(&s, &o, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tlsCert");
    o.tls_cert = "/nonexistent/cert.pem";
    o.tls_key = "/nonexistent/key.pem";
    ck_assert_int_eq(rpc_server_start(&s, &o, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tlsCert");
    ck_assert_ptr_nonnull(strstr(d.message, "/nonexistent/cert.pem"));
    /* Two servers on one tcp port: the second is UNAVAILABLE. */
    rpc_server_options t = {.url = "tcp://127.0.0.1:20092", .handler = handler};
    rpc_server *a = NULL, *b = NULL;
    ck_assert_int_eq(rpc_server_start(&a, &t, &d), ROSTER_E_OK);
    ck_assert_int_eq(rpc_server_start(&b, &t, &d), ROSTER_E_UNAVAILABLE);
    ck_assert_str_eq(d.field, "listen");
    rpc_server_free(a);
    rpc_client_close(NULL);
    rpc_server_free(NULL);
}
END_TEST

static Suite *rpc_suite(void)
{
    Suite *s = suite_create("rpc");
    TCase *codec = tcase_create("codec");
    tcase_add_test(codec, envelope_round_trip);
    tcase_add_test(codec, status_without_detail);
    tcase_add_test(codec, decode_rejects_garbage_and_truncation);
    tcase_add_test(codec, wire_scan_strings);
    tcase_add_test(codec, wire_scan_limits);
    tcase_add_test(codec, wire_scan_covers_requests);
    tcase_add_test(codec, arena_cap_is_resource_exhausted);
    tcase_add_test(codec, method_table);
    tcase_add_test(codec, method_rows_match_proto);
    suite_add_tcase(s, codec);
    TCase *srv = tcase_create("server_client");
    tcase_set_timeout(srv, 60);
    tcase_add_test(srv, server_client_basic);
    tcase_add_test(srv, server_client_concurrency);
    tcase_add_test(srv, deadline_unavailable_reconnect);
    tcase_add_test(srv, stop_answers_in_flight);
    tcase_add_test(srv, listen_errors);
    suite_add_tcase(s, srv);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(rpc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    /* The forked tests share this process's ipc path; remove the file. */
    char path[256];
    snprintf(path, sizeof path, "/tmp/roster-rpc-test-%d.ipc", (int)getpid());
    unlink(path);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
