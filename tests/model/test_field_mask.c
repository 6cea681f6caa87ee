/* Field masks: bits derived from the model table through the descriptors,
 * encodings cut to a mask byte for byte as protobuf-c would encode the
 * masked record, messages cleared to a mask, bad encodings refused. */
#include "field_mask.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

START_TEST(bits_follow_field_numbers)
{
    ck_assert_uint_eq(field_mask_named(&model_user, "id", 2), UINT64_C(1) << 1);
    ck_assert_uint_eq(field_mask_named(&model_user, "email", 5), UINT64_C(1) << 3);
    ck_assert_uint_eq(field_mask_named(&model_user, "customData", 10), UINT64_C(1) << 12);
    ck_assert_uint_eq(field_mask_named(&model_tenant, "name", 4), UINT64_C(1) << 2);
    ck_assert_uint_eq(field_mask_named(&model_user, "nope", 4), 0);
    for (size_t i = 0; i < model_user.n_fields; i++)
        ck_assert_uint_eq(field_mask_bit(&model_user, &model_user.fields[i]),
                          UINT64_C(1) << model_pb_field(&model_user, &model_user.fields[i])->id);
    ck_assert_uint_eq(field_mask_of(&model_user, 0, 0), FIELD_MASK_ALL);
    ck_assert_uint_eq(field_mask_of(&model_user, 1, 0), UINT64_C(1) << 1);
}
END_TEST

static Roster__V1__User sample(void)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    u.reference = "r-1";
    u.email = "ada@example.com";
    u.custom_data = "{\"a\":1}";
    u.has_active = u.active = 1;
    u.has_created_at = 1;
    u.created_at = 1700000000000;
    return u;
}

START_TEST(encoded_keeps_masked_fields)
{
    Roster__V1__User u = sample();
    uint8_t full[512], cut[512], want[512];
    size_t n = roster__v1__user__pack(&u, full), got;
    uint64_t mask = field_mask_of(&model_user, 1,
                                  field_mask_named(&model_user, "email", 5) |
                                      field_mask_named(&model_user, "createdAt", 9));
    ck_assert_int_eq(field_mask_encoded(&got, NULL, full, n, mask), ROSTER_E_OK);
    size_t measured = got;
    ck_assert_int_eq(field_mask_encoded(&got, cut, full, n, mask), ROSTER_E_OK);
    ck_assert_uint_eq(got, measured);
    /* The same bytes protobuf-c gives for the masked record. */
    field_mask_message(&u.base, &model_user, mask);
    ck_assert_ptr_null(u.custom_data);
    ck_assert(!u.has_active);
    ck_assert_str_eq(u.email, "ada@example.com");
    size_t wn = roster__v1__user__pack(&u, want);
    ck_assert_uint_eq(got, wn);
    ck_assert_mem_eq(cut, want, wn);
    /* Every field: unchanged. */
    ck_assert_int_eq(field_mask_encoded(&got, cut, full, n, FIELD_MASK_ALL), ROSTER_E_OK);
    ck_assert_uint_eq(got, n);
    ck_assert_mem_eq(cut, full, n);
}
END_TEST

START_TEST(encoded_refuses_garbage)
{
    Roster__V1__User u = sample();
    uint8_t full[512];
    size_t n = roster__v1__user__pack(&u, full), got = 7;
    /* Truncated inside a string, a varint running off the end, a group. */
    ck_assert_int_eq(field_mask_encoded(&got, NULL, full, n - 3, FIELD_MASK_ALL), ROSTER_E_CORRUPT);
    const uint8_t runaway[] = {0x08, 0xff, 0xff};
    ck_assert_int_eq(field_mask_encoded(&got, NULL, runaway, sizeof runaway, FIELD_MASK_ALL),
                     ROSTER_E_CORRUPT);
    const uint8_t group[] = {0x0b, 0x0c};
    ck_assert_int_eq(field_mask_encoded(&got, NULL, group, sizeof group, FIELD_MASK_ALL),
                     ROSTER_E_CORRUPT);
    ck_assert_uint_eq(got, 7);
    ck_assert_int_eq(field_mask_encoded(&got, NULL, full, 0, FIELD_MASK_ALL), ROSTER_E_OK);
    ck_assert_uint_eq(got, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("field_mask");
    TCase *tc = tcase_create("field_mask");
    tcase_add_test(tc, bits_follow_field_numbers);
    tcase_add_test(tc, encoded_keeps_masked_fields);
    tcase_add_test(tc, encoded_refuses_garbage);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
