/* Wire compatibility between the client library's nanopb messages and the
 * server's protobuf-c messages: each case encodes the same message on both
 * sides, compares the bytes against a vector kept here, and decodes the
 * vector on both sides. */
#include <check.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "envelope.h"
#include "roster.pb-c.h"
#include "roster_client.h"
#include "roster_limits.h"

static void hexdump(const char *name, const uint8_t *b, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", name, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s0x%02x,", i % 12 == 0 ? "\n    " : " ", b[i]);
    fprintf(stderr, "\n");
}

static void expect_bytes(const char *name, const uint8_t *got, size_t got_len, const uint8_t *want,
                         size_t want_len)
{
    if (got_len != want_len || memcmp(got, want, want_len) != 0) {
        hexdump(name, got, got_len);
        ck_abort_msg("%s: %zu bytes differ from the %zu-byte vector", name, got_len, want_len);
    }
}

/* Packs a protobuf-c message into a static buffer. */
static size_t pack_c(const ProtobufCMessage *m, uint8_t *buf, size_t cap)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    ck_assert_uint_le(n, cap);
    ck_assert_uint_eq(protobuf_c_message_pack(m, buf), n);
    return n;
}

static size_t pack_nanopb(const pb_msgdesc_t *f, const void *msg, uint8_t *buf, size_t cap)
{
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    ck_assert_msg(pb_encode(&os, f, msg), "nanopb encode: %s", PB_GET_ERROR(&os));
    return os.bytes_written;
}

/* ------------------------------------------------------------ User */

static const uint8_t USER_FULL[] = {
#include "vectors/user_full.inc"
};
static const uint8_t USER_MIN[] = {
#include "vectors/user_min.inc"
};

#define UID "0190f3a2-7c1e-7d2a-9b4e-1a2b3c4d5e6f"
#define TID "0190f3a2-0000-7000-8000-000000000001"

static void fill_user_c(Roster__V1__User *u, bool full)
{
    u->id = UID;
    u->reference = "crm-42";
    u->email = "ada@example.com";
    u->has_active = true;
    u->active = true;
    u->has_is_opted_in = true;
    u->is_opted_in = false; /* present and false */
    u->tenant_id = TID;
    u->has_created_at = true;
    u->created_at = 1732694400123;
    u->has_updated_at = true;
    u->updated_at = 1732694400456;
    if (!full)
        return;
    u->first_name = "Ada";
    u->last_name = "Lovelace \xc3\xa9"; /* UTF-8 */
    u->phone = "+44 20 7946 0000";
    u->locale = "en-GB";
    u->timezone = "Europe/London";
    u->avatar_url = "https://example.com/a.png";
    u->custom_data = "{\"plan\":\"pro\",\"n\":1}";
    u->has_two_factor_enabled = true;
    u->two_factor_enabled = true;
}

static void fill_user_pb(roster_v1_User *u, bool full)
{
    *u = (roster_v1_User)roster_v1_User_init_zero;
#define SET(f, v) (u->has_##f = true, snprintf(u->f, sizeof u->f, "%s", v))
    SET(id, UID);
    SET(reference, "crm-42");
    SET(email, "ada@example.com");
    u->has_active = u->active = true;
    u->has_is_opted_in = true;
    u->is_opted_in = false;
    SET(tenant_id, TID);
    u->has_created_at = true;
    u->created_at = 1732694400123;
    u->has_updated_at = true;
    u->updated_at = 1732694400456;
    if (!full)
        return;
    SET(first_name, "Ada");
    SET(last_name, "Lovelace \xc3\xa9");
    SET(phone, "+44 20 7946 0000");
    SET(locale, "en-GB");
    SET(timezone, "Europe/London");
    SET(avatar_url, "https://example.com/a.png");
    SET(custom_data, "{\"plan\":\"pro\",\"n\":1}");
    u->has_two_factor_enabled = u->two_factor_enabled = true;
#undef SET
}

/* Field-by-field: a protobuf-c User equals a nanopb User, presence included. */
static void expect_same_user(const Roster__V1__User *c, const roster_v1_User *p)
{
#define STR(f)                                                                                     \
    do {                                                                                           \
        ck_assert_msg((c->f != NULL) == p->has_##f, #f " presence differs");                       \
        if (c->f != NULL)                                                                          \
            ck_assert_str_eq(c->f, p->f);                                                          \
    } while (0)
#define SCALAR(f)                                                                                  \
    do {                                                                                           \
        ck_assert_msg(!!c->has_##f == p->has_##f, #f " presence differs");                         \
        if (p->has_##f)                                                                            \
            ck_assert_msg(c->f == p->f, #f " differs");                                            \
    } while (0)
    STR(id);
    STR(reference);
    STR(email);
    STR(first_name);
    STR(last_name);
    STR(phone);
    STR(locale);
    STR(timezone);
    STR(avatar_url);
    STR(custom_data);
    STR(tenant_id);
    SCALAR(is_opted_in);
    SCALAR(active);
    SCALAR(two_factor_enabled);
    SCALAR(created_at);
    SCALAR(updated_at);
#undef STR
#undef SCALAR
}

static void user_case(bool full, const uint8_t *vec, size_t veclen)
{
    static uint8_t a[65536], b[65536];
    static roster_v1_User p, back;
    Roster__V1__User c = ROSTER__V1__USER__INIT;
    fill_user_c(&c, full);
    fill_user_pb(&p, full);
    size_t na = pack_c(&c.base, a, sizeof a);
    size_t nb = pack_nanopb(roster_v1_User_fields, &p, b, sizeof b);
    expect_bytes(full ? "protobuf-c user_full" : "protobuf-c user_min", a, na, vec, veclen);
    expect_bytes(full ? "nanopb user_full" : "nanopb user_min", b, nb, vec, veclen);

    Roster__V1__User *cu = roster__v1__user__unpack(NULL, veclen, vec);
    ck_assert_ptr_nonnull(cu);
    pb_istream_t is = pb_istream_from_buffer(vec, veclen);
    ck_assert(pb_decode(&is, roster_v1_User_fields, &back));
    expect_same_user(cu, &back);
    expect_same_user(&c, &back);
    roster__v1__user__free_unpacked(cu, NULL);
}

START_TEST(user_with_optional_fields)
{
    user_case(true, USER_FULL, sizeof USER_FULL);
}
END_TEST

START_TEST(user_without_optional_fields)
{
    user_case(false, USER_MIN, sizeof USER_MIN);
    /* absent stays absent on the nanopb side */
    static roster_v1_User back;
    pb_istream_t is = pb_istream_from_buffer(USER_MIN, sizeof USER_MIN);
    ck_assert(pb_decode(&is, roster_v1_User_fields, &back));
    ck_assert(!back.has_phone && !back.has_first_name && !back.has_custom_data);
    ck_assert(back.has_is_opted_in && !back.is_opted_in);
}
END_TEST

/* ------------------------------------------------------------ filters */

static const uint8_t LIST_REQ[] = {
#include "vectors/list_users_request.inc"
};

START_TEST(list_request_filter_presence)
{
    static uint8_t a[4096], b[4096];
    /* protobuf-c */
    char *tids[] = {TID, "0190f3a2-0000-7000-8000-000000000002"};
    Roster__V1__StringList empty = ROSTER__V1__STRING_LIST__INIT;
    Roster__V1__StringList two = ROSTER__V1__STRING_LIST__INIT;
    two.n_values = 2;
    two.values = tids;
    Roster__V1__IdFilter idf = ROSTER__V1__ID_FILTER__INIT;
    idf.value_in = &empty; /* present and empty: matches nothing */
    Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
    tf.value_in = &two;
    Roster__V1__StringFilter ef = ROSTER__V1__STRING_FILTER__INIT;
    ef.has_equal_to_null = true;
    ef.equal_to_null = true;
    Roster__V1__StringFilter ff = ROSTER__V1__STRING_FILTER__INIT;
    ff.i_like = "ad%";
    Roster__V1__BoolFilter af = ROSTER__V1__BOOL_FILTER__INIT;
    af.has_equal_to = true;
    af.equal_to = false;
    Roster__V1__DateFilter cf = ROSTER__V1__DATE_FILTER__INIT;
    cf.has_more_than = true;
    cf.more_than = 1700000000000;
    Roster__V1__UserFilter filt = ROSTER__V1__USER_FILTER__INIT;
    filt.id = &idf;
    filt.email = &ef;
    filt.first_name = &ff;
    filt.active = &af;
    filt.tenant_id = &tf;
    filt.created_at = &cf;
    Roster__V1__UserOrder ord = ROSTER__V1__USER_ORDER__INIT;
    ord.has_sort = true;
    ord.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL;
    ord.has_order = true;
    ord.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    Roster__V1__ListUsersRequest c = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    c.filter = &filt;
    c.has_limit = true;
    c.limit = 50;
    c.has_offset = true;
    c.offset = 0; /* present zero */
    c.order = &ord;
    size_t na = pack_c(&c.base, a, sizeof a);

    /* nanopb, strings borrowed through the client's helpers */
    const char *ptids[] = {TID, "0190f3a2-0000-7000-8000-000000000002"};
    roster_strlist ltwo = {ptids, 2};
    roster_v1_ListUsersRequest p = roster_v1_ListUsersRequest_init_zero;
    p.has_filter = true;
    p.filter.has_id = true;
    p.filter.id.has_value_in = true;
    p.filter.has_email = true;
    p.filter.email.has_equal_to_null = p.filter.email.equal_to_null = true;
    p.filter.has_first_name = true;
    roster_pb_str(&p.filter.first_name.i_like, "ad%");
    p.filter.has_active = true;
    p.filter.active.has_equal_to = true;
    p.filter.active.equal_to = false;
    p.filter.has_tenant_id = true;
    p.filter.tenant_id.has_value_in = true;
    roster_pb_strlist(&p.filter.tenant_id.value_in.values, &ltwo);
    p.filter.has_created_at = true;
    p.filter.created_at.has_more_than = true;
    p.filter.created_at.more_than = 1700000000000;
    p.has_limit = true;
    p.limit = 50;
    p.has_offset = true;
    p.offset = 0;
    p.has_order = true;
    p.order.has_sort = p.order.has_order = true;
    p.order.sort = roster_v1_UserSortField_USER_SORT_FIELD_EMAIL;
    p.order.order = roster_v1_SortOrder_SORT_ORDER_ASC;
    size_t nb = pack_nanopb(roster_v1_ListUsersRequest_fields, &p, b, sizeof b);

    expect_bytes("protobuf-c list_users_request", a, na, LIST_REQ, sizeof LIST_REQ);
    expect_bytes("nanopb list_users_request", b, nb, LIST_REQ, sizeof LIST_REQ);

    /* the server side sees the presence the client meant */
    Roster__V1__ListUsersRequest *d =
        roster__v1__list_users_request__unpack(NULL, sizeof LIST_REQ, LIST_REQ);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(d->filter->id->value_in);
    ck_assert_uint_eq(d->filter->id->value_in->n_values, 0);
    ck_assert_ptr_null(d->filter->id->value_not_in);
    ck_assert(d->filter->email->has_equal_to_null && d->filter->email->equal_to_null);
    ck_assert_ptr_null(d->filter->email->equal_to);
    ck_assert_str_eq(d->filter->first_name->i_like, "ad%");
    ck_assert(d->filter->active->has_equal_to && !d->filter->active->equal_to);
    ck_assert_uint_eq(d->filter->tenant_id->value_in->n_values, 2);
    ck_assert_str_eq(d->filter->tenant_id->value_in->values[1],
                     "0190f3a2-0000-7000-8000-000000000002");
    ck_assert_ptr_null(d->filter->last_name);
    ck_assert(d->has_offset && d->offset == 0);
    ck_assert_int_eq(d->order->sort, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL);
    roster__v1__list_users_request__free_unpacked(d, NULL);

    /* and nanopb reads the same presence back */
    roster_v1_ListUsersRequest q = roster_v1_ListUsersRequest_init_zero;
    pb_istream_t is = pb_istream_from_buffer(LIST_REQ, sizeof LIST_REQ);
    ck_assert(pb_decode(&is, roster_v1_ListUsersRequest_fields, &q));
    ck_assert(q.filter.has_id && q.filter.id.has_value_in && !q.filter.id.has_value_not_in);
    ck_assert(q.filter.email.has_equal_to_null && q.filter.email.equal_to_null);
    ck_assert(q.filter.active.has_equal_to && !q.filter.active.equal_to);
    ck_assert(!q.filter.has_last_name);
    ck_assert(q.has_offset && q.offset == 0 && q.limit == 50);
}
END_TEST

static const uint8_t UPDATE_REQ[] = {
#include "vectors/update_user_request.inc"
};

START_TEST(update_request_with_clears)
{
    static uint8_t a[1024], b[1024];
    Roster__V1__UserField clears[] = {ROSTER__V1__USER_FIELD__USER_FIELD_PHONE,
                                      ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA};
    Roster__V1__UpdateUserRequest c = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    c.id = UID;
    c.email = "ada@new.example";
    c.has_active = true;
    c.active = false;
    c.n_clear = 2;
    c.clear = clears;
    size_t na = pack_c(&c.base, a, sizeof a);

    roster_v1_UpdateUserRequest p = roster_v1_UpdateUserRequest_init_zero;
    roster_pb_str(&p.id, UID);
    roster_pb_str(&p.email, "ada@new.example");
    p.has_active = true;
    p.active = false;
    p.clear_count = 2;
    p.clear[0] = roster_v1_UserField_USER_FIELD_PHONE;
    p.clear[1] = roster_v1_UserField_USER_FIELD_CUSTOM_DATA;
    size_t nb = pack_nanopb(roster_v1_UpdateUserRequest_fields, &p, b, sizeof b);

    expect_bytes("protobuf-c update_user_request", a, na, UPDATE_REQ, sizeof UPDATE_REQ);
    expect_bytes("nanopb update_user_request", b, nb, UPDATE_REQ, sizeof UPDATE_REQ);
    Roster__V1__UpdateUserRequest *d =
        roster__v1__update_user_request__unpack(NULL, sizeof UPDATE_REQ, UPDATE_REQ);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->n_clear, 2);
    ck_assert_int_eq(d->clear[1], ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA);
    ck_assert_ptr_null(d->phone);
    roster__v1__update_user_request__free_unpacked(d, NULL);
}
END_TEST

/* ------------------------------------------------------------ envelope */

static const uint8_t REQUEST_ENV[] = {
#include "vectors/rpc_request_get_user.inc"
};

START_TEST(request_envelope)
{
    static uint8_t a[1024];
    /* client side: the library's encoder */
    roster_v1_GetUserRequest g = roster_v1_GetUserRequest_init_zero;
    roster_pb_str(&g.id, UID);
    roster_call_options o = {.timeout_ms = 1500, .request_id = "req-7", .credential = TID};
    nng_msg *m = NULL;
    ck_assert_int_eq(roster_envelope_encode(&m, "/roster.v1.UserService/GetUser",
                                            roster_v1_GetUserRequest_fields, &g, &o, 1500),
                     ROSTER_E_OK);
    expect_bytes("client rpc_request", nng_msg_body(m), nng_msg_len(m), REQUEST_ENV,
                 sizeof REQUEST_ENV);
    nng_msg_free(m);

    /* server side: protobuf-c builds the same bytes... */
    Roster__V1__GetUserRequest gc = ROSTER__V1__GET_USER_REQUEST__INIT;
    gc.id = UID;
    uint8_t body[128];
    size_t bl = pack_c(&gc.base, body, sizeof body);
    Roster__V1__CallContext ctx = ROSTER__V1__CALL_CONTEXT__INIT;
    ctx.request_id = "req-7";
    ctx.has_timeout_ms = true;
    ctx.timeout_ms = 1500;
    ctx.credential = TID;
    Roster__V1__RpcRequest rc = ROSTER__V1__RPC_REQUEST__INIT;
    rc.method = "/roster.v1.UserService/GetUser";
    rc.has_body = true;
    rc.body.data = body;
    rc.body.len = bl;
    rc.context = &ctx;
    size_t na = pack_c(&rc.base, a, sizeof a);
    expect_bytes("protobuf-c rpc_request", a, na, REQUEST_ENV, sizeof REQUEST_ENV);

    /* ...and reads every part of the vector */
    Roster__V1__RpcRequest *d =
        roster__v1__rpc_request__unpack(NULL, sizeof REQUEST_ENV, REQUEST_ENV);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->method, "/roster.v1.UserService/GetUser");
    ck_assert_str_eq(d->context->request_id, "req-7");
    ck_assert_str_eq(d->context->credential, TID);
    ck_assert_uint_eq(d->context->timeout_ms, 1500);
    Roster__V1__GetUserRequest *gd =
        roster__v1__get_user_request__unpack(NULL, d->body.len, d->body.data);
    ck_assert_ptr_nonnull(gd);
    ck_assert_str_eq(gd->id, UID);
    roster__v1__get_user_request__free_unpacked(gd, NULL);
    roster__v1__rpc_request__free_unpacked(d, NULL);
}
END_TEST

/* A body too large for the encoder's stack buffers takes the general path;
 * the server must read the same envelope either way. */
START_TEST(request_envelope_large_body)
{
    static char custom[12001];
    for (size_t i = 0; i + 1 < sizeof custom; i++)
        custom[i] = (char)('a' + i % 26);
    custom[0] = '"';
    custom[sizeof custom - 2] = '"';
    roster_v1_CreateUserRequest r = roster_v1_CreateUserRequest_init_zero;
    roster_pb_str(&r.reference, "big");
    roster_pb_str(&r.custom_data, custom);
    r.has_active = true;
    r.active = false;
    roster_call_options o = {.request_id = "req-big"};
    nng_msg *m = NULL;
    ck_assert_int_eq(roster_envelope_encode(&m, "/roster.v1.UserService/CreateUser",
                                            roster_v1_CreateUserRequest_fields, &r, &o, 0),
                     ROSTER_E_OK);
    Roster__V1__RpcRequest *d =
        roster__v1__rpc_request__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->method, "/roster.v1.UserService/CreateUser");
    ck_assert_str_eq(d->context->request_id, "req-big");
    ck_assert(!d->context->has_timeout_ms);
    ck_assert_ptr_null(d->context->credential);
    Roster__V1__CreateUserRequest *b =
        roster__v1__create_user_request__unpack(NULL, d->body.len, d->body.data);
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->reference, "big");
    ck_assert_str_eq(b->custom_data, custom);
    ck_assert(b->has_active && !b->active);
    ck_assert_ptr_null(b->email);

    /* the same request, small: both paths write identical envelopes */
    nng_msg *small = NULL;
    roster_pb_str(&r.custom_data, "{}");
    ck_assert_int_eq(roster_envelope_encode(&small, "/roster.v1.UserService/CreateUser",
                                            roster_v1_CreateUserRequest_fields, &r, &o, 0),
                     ROSTER_E_OK);
    Roster__V1__CreateUserRequest cb = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    cb.reference = "big";
    cb.custom_data = "{}";
    cb.has_active = true;
    cb.active = false;
    uint8_t body[256];
    size_t bl = pack_c(&cb.base, body, sizeof body);
    Roster__V1__CallContext ctx = ROSTER__V1__CALL_CONTEXT__INIT;
    ctx.request_id = "req-big";
    Roster__V1__RpcRequest rc = ROSTER__V1__RPC_REQUEST__INIT;
    rc.method = "/roster.v1.UserService/CreateUser";
    rc.has_body = true;
    rc.body.data = body;
    rc.body.len = bl;
    rc.context = &ctx;
    uint8_t a[512];
    size_t na = pack_c(&rc.base, a, sizeof a);
    expect_bytes("client small create envelope", nng_msg_body(small), nng_msg_len(small), a, na);
    roster__v1__create_user_request__free_unpacked(b, NULL);
    roster__v1__rpc_request__free_unpacked(d, NULL);
    nng_msg_free(m);
    nng_msg_free(small);
}
END_TEST

static const uint8_t REPLY_VIOLATIONS[] = {
#include "vectors/rpc_reply_violations.inc"
};

START_TEST(reply_envelope_with_violations)
{
    static uint8_t a[1024];
    Roster__V1__FieldViolation v1 = ROSTER__V1__FIELD_VIOLATION__INIT;
    v1.field = "email";
    v1.description = "email is not a valid address";
    Roster__V1__FieldViolation v2 = ROSTER__V1__FIELD_VIOLATION__INIT;
    v2.field = "tenantId";
    v2.description = "tenantId is not a UUID";
    Roster__V1__FieldViolation *vs[] = {&v1, &v2};
    Roster__V1__RpcReply r = ROSTER__V1__RPC_REPLY__INIT;
    r.has_code = true;
    r.code = 3;
    r.message = "invalid argument: 2 fields";
    r.n_violations = 2;
    r.violations = vs;
    size_t na = pack_c(&r.base, a, sizeof a);
    expect_bytes("protobuf-c rpc_reply_violations", a, na, REPLY_VIOLATIONS,
                 sizeof REPLY_VIOLATIONS);

    roster_status st;
    const uint8_t *body = (const uint8_t *)"x";
    size_t bl = 99;
    ck_assert_int_eq(
        roster_envelope_decode(&body, &bl, &st, REPLY_VIOLATIONS, sizeof REPLY_VIOLATIONS),
        ROSTER_E_OK);
    ck_assert_int_eq(st.code, 3);
    ck_assert_int_eq(st.err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(st.message, "invalid argument: 2 fields");
    ck_assert_uint_eq(st.violation_count, 2);
    ck_assert_uint_eq(st.violations_total, 2);
    ck_assert_str_eq(st.violations[0].field, "email");
    ck_assert_str_eq(st.violations[1].field, "tenantId");
    ck_assert_str_eq(st.violations[1].message, "tenantId is not a UUID");
    ck_assert_ptr_null(body);
    ck_assert_uint_eq(bl, 0);
}
END_TEST

START_TEST(reply_envelope_ok_body_and_garbage)
{
    static uint8_t a[65536], ub[65536];
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    fill_user_c(&u, true);
    size_t ul = pack_c(&u.base, ub, sizeof ub);
    Roster__V1__RpcReply r = ROSTER__V1__RPC_REPLY__INIT;
    r.has_code = true;
    r.code = 0;
    r.has_body = true;
    r.body.data = ub;
    r.body.len = ul;
    size_t na = pack_c(&r.base, a, sizeof a);
    roster_status st;
    const uint8_t *body = NULL;
    size_t bl = 0;
    ck_assert_int_eq(roster_envelope_decode(&body, &bl, &st, a, na), ROSTER_E_OK);
    ck_assert_int_eq(st.err, ROSTER_E_OK);
    ck_assert_uint_eq(bl, ul);
    ck_assert(body > a && body + bl <= a + na); /* borrowed, not copied */
    ck_assert_mem_eq(body, USER_FULL, sizeof USER_FULL);

    const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    ck_assert_int_eq(roster_envelope_decode(&body, &bl, &st, junk, sizeof junk), ROSTER_E_PROTOCOL);
    ck_assert_int_eq(st.err, ROSTER_E_PROTOCOL);
    ck_assert_ptr_nonnull(strstr(st.message, "reply envelope does not decode"));
    /* truncated: the length says more bytes than there are */
    ck_assert_int_eq(roster_envelope_decode(&body, &bl, &st, a, na - 3), ROSTER_E_PROTOCOL);
}
END_TEST

/* ------------------------------------------------------------ list responses */

static const uint8_t LIST_RESP[] = {
#include "vectors/list_users_response.inc"
};
static const uint8_t BATCH_RESP[] = {
#include "vectors/batch_get_users_response.inc"
};

struct seen {
    size_t n;
    char ids[4][37];
    bool has_id[4];
    bool found[8];
    size_t nfound;
};

static bool seen_user(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    struct seen *s = *arg;
    static roster_v1_User u;
    if (!pb_decode(stream, roster_v1_User_fields, &u))
        return false;
    ck_assert_uint_lt(s->n, 4);
    s->has_id[s->n] = u.has_id;
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", u.has_id ? u.id : "");
    s->n++;
    return true;
}

static bool seen_found(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    struct seen *s = *arg;
    bool v;
    if (!pb_decode_bool(stream, &v))
        return false;
    s->found[s->nfound++] = v;
    return true;
}

START_TEST(list_users_response)
{
    static uint8_t a[65536];
    Roster__V1__User u1 = ROSTER__V1__USER__INIT, u2 = ROSTER__V1__USER__INIT;
    fill_user_c(&u1, false);
    fill_user_c(&u2, true);
    u2.id = "0190f3a2-7c1e-7d2a-9b4e-000000000002";
    Roster__V1__User *us[] = {&u1, &u2};
    Roster__V1__ListUsersResponse r = ROSTER__V1__LIST_USERS_RESPONSE__INIT;
    r.has_total_count = true;
    r.total_count = 1234;
    r.n_users = 2;
    r.users = us;
    size_t na = pack_c(&r.base, a, sizeof a);
    expect_bytes("protobuf-c list_users_response", a, na, LIST_RESP, sizeof LIST_RESP);

    struct seen s = {0};
    roster_v1_ListUsersResponse p = roster_v1_ListUsersResponse_init_zero;
    p.users.funcs.decode = seen_user;
    p.users.arg = &s;
    pb_istream_t is = pb_istream_from_buffer(LIST_RESP, sizeof LIST_RESP);
    ck_assert(pb_decode(&is, roster_v1_ListUsersResponse_fields, &p));
    ck_assert(p.has_total_count);
    ck_assert_int_eq(p.total_count, 1234);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.ids[0], UID);
    ck_assert_str_eq(s.ids[1], "0190f3a2-7c1e-7d2a-9b4e-000000000002");
}
END_TEST

START_TEST(batch_get_users_response)
{
    static uint8_t a[65536];
    Roster__V1__User u1 = ROSTER__V1__USER__INIT, none = ROSTER__V1__USER__INIT;
    fill_user_c(&u1, false);
    Roster__V1__User *us[] = {&u1, &none};
    protobuf_c_boolean found[] = {1, 0};
    Roster__V1__BatchGetUsersResponse r = ROSTER__V1__BATCH_GET_USERS_RESPONSE__INIT;
    r.n_users = 2;
    r.users = us;
    r.n_found = 2;
    r.found = found;
    size_t na = pack_c(&r.base, a, sizeof a);
    expect_bytes("protobuf-c batch_get_users_response", a, na, BATCH_RESP, sizeof BATCH_RESP);

    struct seen s = {0};
    roster_v1_BatchGetUsersResponse p = roster_v1_BatchGetUsersResponse_init_zero;
    p.users.funcs.decode = seen_user;
    p.users.arg = &s;
    p.found.funcs.decode = seen_found;
    p.found.arg = &s;
    pb_istream_t is = pb_istream_from_buffer(BATCH_RESP, sizeof BATCH_RESP);
    ck_assert(pb_decode(&is, roster_v1_BatchGetUsersResponse_fields, &p));
    ck_assert_uint_eq(s.n, 2);
    ck_assert(s.has_id[0] && !s.has_id[1]);
    ck_assert_uint_eq(s.nfound, 2);
    ck_assert(s.found[0] && !s.found[1]);
}
END_TEST

/* The client's binding of the method table against the service
 * protobuf-c generated from roster.proto: the same wire names, and nanopb
 * descriptors for the same messages (same number of fields). */
START_TEST(method_table_matches_proto)
{
    const ProtobufCServiceDescriptor *sd = &roster__v1__user_service__descriptor;
    ck_assert_uint_eq(sd->n_methods, RPC_METHOD__COUNT);
    for (unsigned i = 0; i < RPC_METHOD__COUNT; i++) {
        const roster_client_method *m = roster_client_method_get((rpc_method_id)i);
        char path[128];
        snprintf(path, sizeof path, "/%s/%s", sd->name, sd->methods[i].name);
        ck_assert_str_eq(m->name, path);
        ck_assert_str_eq(m->short_name, sd->methods[i].name);
        ck_assert_uint_eq(m->request->field_count, sd->methods[i].input->n_fields);
        ck_assert_uint_eq(m->reply->field_count, sd->methods[i].output->n_fields);
    }
    ck_assert_ptr_null(roster_client_method_get(RPC_METHOD__COUNT));
    ck_assert_ptr_eq(roster_client_method_get(RPC_GET_USER)->request,
                     roster_v1_GetUserRequest_fields);
    ck_assert_int_eq(roster_client_method_get(RPC_LIST_USERS)->kind, ROSTER_REPLY_USERS);
}
END_TEST

/* ------------------------------------------------------------ cursor paging */

#define CURSOR_TEXT "AZFNWJREDzujAXBhZ2UxOEBwYWdlcy5pbwABoj17yuhwVakLLnRjp7qCjuj6qQ"

/* after on both list requests and page_info on both replies: the same
 * bytes from either side, and each side reads the other's. */
START_TEST(cursor_fields)
{
    static uint8_t a[4096], b[4096];
    Roster__V1__ListUsersRequest c = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    c.has_limit = true;
    c.limit = 7;
    c.after = CURSOR_TEXT;
    roster_v1_ListUsersRequest p = roster_v1_ListUsersRequest_init_zero;
    p.has_limit = true;
    p.limit = 7;
    roster_pb_str(&p.after, CURSOR_TEXT);
    size_t na = pack_c(&c.base, a, sizeof a);
    size_t nb = pack_nanopb(roster_v1_ListUsersRequest_fields, &p, b, sizeof b);
    expect_bytes("nanopb list_users_request with after", b, nb, a, na);
    Roster__V1__ListUsersRequest *d = roster__v1__list_users_request__unpack(NULL, nb, b);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d->after, CURSOR_TEXT);
    roster__v1__list_users_request__free_unpacked(d, NULL);

    Roster__V1__ListTenantsRequest ct = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ct.after = CURSOR_TEXT;
    roster_v1_ListTenantsRequest pt = roster_v1_ListTenantsRequest_init_zero;
    roster_pb_str(&pt.after, CURSOR_TEXT);
    na = pack_c(&ct.base, a, sizeof a);
    nb = pack_nanopb(roster_v1_ListTenantsRequest_fields, &pt, b, sizeof b);
    expect_bytes("nanopb list_tenants_request with after", b, nb, a, na);

    /* replies: protobuf-c writes, nanopb reads; and the other way round */
    Roster__V1__PageInfo info = ROSTER__V1__PAGE_INFO__INIT;
    info.has_has_next_page = true;
    info.has_next_page = true;
    info.end_cursor = CURSOR_TEXT;
    Roster__V1__ListUsersResponse r = ROSTER__V1__LIST_USERS_RESPONSE__INIT;
    r.has_total_count = true;
    r.total_count = 99;
    r.page_info = &info;
    na = pack_c(&r.base, a, sizeof a);
    roster_v1_ListUsersResponse pr = roster_v1_ListUsersResponse_init_zero;
    pb_istream_t is = pb_istream_from_buffer(a, na);
    ck_assert(pb_decode(&is, roster_v1_ListUsersResponse_fields, &pr));
    ck_assert(pr.has_page_info && pr.page_info.has_has_next_page && pr.page_info.has_next_page);
    ck_assert(pr.page_info.has_end_cursor);
    ck_assert_str_eq(pr.page_info.end_cursor, CURSOR_TEXT);
    ck_assert_uint_ge(sizeof pr.page_info.end_cursor, ROSTER_MAX_CURSOR + 1);
    nb = pack_nanopb(roster_v1_ListUsersResponse_fields, &pr, b, sizeof b);
    expect_bytes("nanopb list_users_response with page_info", b, nb, a, na);

    Roster__V1__ListTenantsResponse rt = ROSTER__V1__LIST_TENANTS_RESPONSE__INIT;
    info.has_next_page = false;
    info.end_cursor = NULL;
    rt.page_info = &info;
    na = pack_c(&rt.base, a, sizeof a);
    roster_v1_ListTenantsResponse prt = roster_v1_ListTenantsResponse_init_zero;
    is = pb_istream_from_buffer(a, na);
    ck_assert(pb_decode(&is, roster_v1_ListTenantsResponse_fields, &prt));
    ck_assert(prt.has_page_info && prt.page_info.has_has_next_page);
    ck_assert(!prt.page_info.has_next_page && !prt.page_info.has_end_cursor);
}
END_TEST

static Suite *wire_suite(void)
{
    Suite *s = suite_create("client_wire");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, user_with_optional_fields);
    tcase_add_test(tc, user_without_optional_fields);
    tcase_add_test(tc, list_request_filter_presence);
    tcase_add_test(tc, update_request_with_clears);
    tcase_add_test(tc, request_envelope);
    tcase_add_test(tc, request_envelope_large_body);
    tcase_add_test(tc, reply_envelope_with_violations);
    tcase_add_test(tc, reply_envelope_ok_body_and_garbage);
    tcase_add_test(tc, list_users_response);
    tcase_add_test(tc, cursor_fields);
    tcase_add_test(tc, batch_get_users_response);
    tcase_add_test(tc, method_table_matches_proto);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wire_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
