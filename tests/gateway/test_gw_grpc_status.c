/* google.rpc.Status encoding for the grpc-status-details-bin trailer: the
 * bytes decode with the generated unpackers into the code, the message and
 * one BadRequest listing the violations in order. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "google/protobuf/any.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "grpc_status_details.h"

static Google__Rpc__Status *encode_decode(int code, const char *message, size_t n,
                                          const char *const *fields,
                                          const char *const *descriptions)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(grpc_status_details_encode(&buf, &len, code, message, n, fields, descriptions),
                     ROSTER_E_OK);
    ck_assert_ptr_nonnull(buf);
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, buf);
    free(buf);
    ck_assert_ptr_nonnull(st);
    return st;
}

START_TEST(violations_round_trip)
{
    const char *fields[] = {"email", "locale", "customData"};
    const char *descriptions[] = {"email is not a valid address", "unknown locale \"xx-\"",
                                  "customData must be a JSON object (\xc3\xa9t\xc3\xa9)"};
    Google__Rpc__Status *st = encode_decode(ROSTER_STATUS_INVALID_ARGUMENT, "3 fields are invalid",
                                            3, fields, descriptions);
    ck_assert_int_eq(st->code, ROSTER_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(st->message, "3 fields are invalid");
    ck_assert_uint_eq(st->n_details, 1);
    ck_assert_str_eq(st->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
    ck_assert_str_eq(st->details[0]->type_url, GW_GRPC_BAD_REQUEST_TYPE_URL);
    Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(NULL, st->details[0]->value.len,
                                                                   st->details[0]->value.data);
    ck_assert_ptr_nonnull(br);
    ck_assert_uint_eq(br->n_field_violations, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(br->field_violations[i]->field, fields[i]);
        ck_assert_str_eq(br->field_violations[i]->description, descriptions[i]);
    }
    google__rpc__bad_request__free_unpacked(br, NULL);
    google__rpc__status__free_unpacked(st, NULL);
}
END_TEST

START_TEST(no_violations_no_details)
{
    Google__Rpc__Status *st =
        encode_decode(ROSTER_STATUS_NOT_FOUND, "no user with id 0190...", 0, NULL, NULL);
    ck_assert_int_eq(st->code, ROSTER_STATUS_NOT_FOUND);
    ck_assert_str_eq(st->message, "no user with id 0190...");
    ck_assert_uint_eq(st->n_details, 0);
    google__rpc__status__free_unpacked(st, NULL);

    /* OK with no message encodes to nothing at all (proto3 defaults), and
     * still comes back as a freeable buffer. */
    uint8_t *buf = NULL;
    size_t len = 99;
    ck_assert_int_eq(grpc_status_details_encode(&buf, &len, ROSTER_STATUS_OK, NULL, 0, NULL, NULL),
                     ROSTER_E_OK);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(len, 0);
    free(buf);
}
END_TEST

START_TEST(null_strings_are_empty)
{
    const char *fields[] = {NULL, "phone"};
    const char *descriptions[] = {"the request as a whole", NULL};
    Google__Rpc__Status *st =
        encode_decode(ROSTER_STATUS_FAILED_PRECONDITION, NULL, 2, fields, descriptions);
    ck_assert_int_eq(st->code, ROSTER_STATUS_FAILED_PRECONDITION);
    ck_assert_str_eq(st->message, "");
    ck_assert_uint_eq(st->n_details, 1);
    Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(NULL, st->details[0]->value.len,
                                                                   st->details[0]->value.data);
    ck_assert_ptr_nonnull(br);
    ck_assert_uint_eq(br->n_field_violations, 2);
    ck_assert_str_eq(br->field_violations[0]->field, "");
    ck_assert_str_eq(br->field_violations[0]->description, "the request as a whole");
    ck_assert_str_eq(br->field_violations[1]->field, "phone");
    ck_assert_str_eq(br->field_violations[1]->description, "");
    google__rpc__bad_request__free_unpacked(br, NULL);
    google__rpc__status__free_unpacked(st, NULL);

    /* A NULL array with n > 0 reads as n empty strings. */
    st = encode_decode(ROSTER_STATUS_INVALID_ARGUMENT, "x", 1, NULL, NULL);
    br = google__rpc__bad_request__unpack(NULL, st->details[0]->value.len,
                                          st->details[0]->value.data);
    ck_assert_ptr_nonnull(br);
    ck_assert_uint_eq(br->n_field_violations, 1);
    ck_assert_str_eq(br->field_violations[0]->field, "");
    google__rpc__bad_request__free_unpacked(br, NULL);
    google__rpc__status__free_unpacked(st, NULL);
}
END_TEST

START_TEST(many_and_long_violations)
{
    enum { N = 1000 };
    static char text[N][32];
    const char *fields[N];
    const char *descriptions[N];
    char *longmsg = malloc(70000);
    ck_assert_ptr_nonnull(longmsg);
    memset(longmsg, 'm', 69999);
    longmsg[69999] = '\0';
    for (size_t i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i], "operations[%zu].email", i);
        fields[i] = text[i];
        descriptions[i] = i % 2 ? longmsg : "bad";
    }
    Google__Rpc__Status *st =
        encode_decode(ROSTER_STATUS_INVALID_ARGUMENT, longmsg, N, fields, descriptions);
    ck_assert_uint_eq(strlen(st->message), 69999);
    Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(NULL, st->details[0]->value.len,
                                                                   st->details[0]->value.data);
    ck_assert_ptr_nonnull(br);
    ck_assert_uint_eq(br->n_field_violations, N);
    for (size_t i = 0; i < N; i++) {
        ck_assert_str_eq(br->field_violations[i]->field, fields[i]);
        ck_assert_str_eq(br->field_violations[i]->description, descriptions[i]);
    }
    google__rpc__bad_request__free_unpacked(br, NULL);
    google__rpc__status__free_unpacked(st, NULL);
    free(longmsg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_grpc_status");
    TCase *tc = tcase_create("status");
    tcase_add_test(tc, violations_round_trip);
    tcase_add_test(tc, no_violations_no_details);
    tcase_add_test(tc, null_strings_are_empty);
    tcase_add_test(tc, many_and_long_violations);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
