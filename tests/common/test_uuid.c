#include "error.h"
#include "uuid.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(v7_is_versioned_and_ordered)
{
    roster_uuid prev, cur;
    roster_uuid_v7(&prev, 1700000000000);
    for (int i = 0; i < 10000; i++) {
        /* Same millisecond and a clock step back must still increase. */
        roster_uuid_v7(&cur, i == 5000 ? 1600000000000 : 1700000000000);
        ck_assert_int_lt(memcmp(prev.b, cur.b, 16), 0);
        ck_assert_int_eq(cur.b[6] >> 4, 7);
        ck_assert_int_eq(cur.b[8] >> 6, 2);
        prev = cur;
    }
    ck_assert_int_ge(roster_uuid_v7_time(&cur), 1700000000000);
}
END_TEST

START_TEST(format_parse_round_trip)
{
    roster_uuid id, back;
    char text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_v7(&id, 1764217490123);
    roster_uuid_format(text, &id);
    ck_assert_uint_eq(strlen(text), 36);
    ck_assert_int_eq(text[8], '-');
    ck_assert_int_eq(roster_uuid_parse(&back, text, 36), ROSTER_E_OK);
    ck_assert_mem_eq(id.b, back.b, 16);
    ck_assert_int_eq(roster_uuid_v7_time(&id), 1764217490123);
}
END_TEST

START_TEST(parse_rejects_malformed)
{
    roster_uuid id;
    memset(&id, 0xab, sizeof id);
    const char *bad[] = {
        "",
        "0190b3c2-7d1e-7a00-8000-00000000000",   /* short */
        "0190b3c2-7d1e-7a00-8000-0000000000000", /* long */
        "0190b3c2x7d1e-7a00-8000-000000000000",  /* separator */
        "0190b3c2-7d1e-7a00-8000-00000000000g",  /* hex */
        "{190b3c2-7d1e-7a00-8000-000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(roster_uuid_parse(&id, bad[i], strlen(bad[i])), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(id.b[0], 0xab); /* untouched on failure */
    ck_assert_int_eq(roster_uuid_parse(&id, "0190B3C2-7D1E-7A00-8000-00000000000F", 36),
                     ROSTER_E_OK);
    ck_assert_int_eq(id.b[15], 0x0f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, v7_is_versioned_and_ordered);
    tcase_add_test(tc, format_parse_round_trip);
    tcase_add_test(tc, parse_rejects_malformed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
