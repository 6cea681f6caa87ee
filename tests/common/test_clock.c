#include "clock.h"
#include "error.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static int64_t parse(const char *s)
{
    int64_t ms = -1;
    ck_assert_int_eq(roster_time_parse_iso(&ms, s, strlen(s)), ROSTER_E_OK);
    return ms;
}

START_TEST(format_known_instants)
{
    char buf[32];
    ck_assert_uint_eq(roster_time_format_iso(buf, sizeof buf, 0), 24);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    roster_time_format_iso(buf, sizeof buf, 1764217490123);
    ck_assert_str_eq(buf, "2025-11-27T04:24:50.123Z");
    roster_time_format_iso(buf, sizeof buf, 951782400000); /* leap day 2000 */
    ck_assert_str_eq(buf, "2000-02-29T00:00:00.000Z");
    roster_time_format_iso(buf, sizeof buf, -1);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    ck_assert_uint_eq(roster_time_format_iso(buf, 10, 0), 0);
}
END_TEST

START_TEST(parse_round_trip_and_offsets)
{
    ck_assert_int_eq(parse("2025-11-27T04:24:50.123Z"), 1764217490123);
    ck_assert_int_eq(parse("2025-11-27T04:24:50Z"), 1764217490000);
    ck_assert_int_eq(parse("2025-11-27T04:24:50.1Z"), 1764217490100);
    ck_assert_int_eq(parse("2025-11-27T04:24:50.123456789Z"), 1764217490123);
    ck_assert_int_eq(parse("2025-11-27T11:24:50.123+07:00"), 1764217490123);
    ck_assert_int_eq(parse("2025-11-26T23:24:50.123-05:00"), 1764217490123);
    char buf[32];
    for (int64_t t = -86400000LL * 400; t < 253402300799999LL; t += 7777777777LL) {
        roster_time_format_iso(buf, sizeof buf, t);
        if (t >= 0)
            ck_assert_int_eq(parse(buf), t);
    }
}
END_TEST

START_TEST(parse_rejects_malformed)
{
    const char *bad[] = {"",
                         "2025-11-27",
                         "2025-11-27 04:24:50Z",
                         "2025-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2025-11-27T24:00:00Z",
                         "2025-11-27T04:24:50",
                         "2025-11-27T04:24:50.Z",
                         "2025-11-27T04:24:50.1234567890Z",
                         "2025-11-27T04:24:50Zjunk",
                         "2025-11-27T04:24:50+0700"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        ck_assert_msg(roster_time_parse_iso(&ms, bad[i], strlen(bad[i])) ==
                          ROSTER_E_INVALID_ARGUMENT,
                      "accepted %s", bad[i]);
        ck_assert_int_eq(ms, 42);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, format_known_instants);
    tcase_add_test(tc, parse_round_trip_and_offsets);
    tcase_add_test(tc, parse_rejects_malformed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
