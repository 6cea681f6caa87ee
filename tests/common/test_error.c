#include "error.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(every_code_has_name_message_status)
{
    for (int e = 0; e < ROSTER_E__COUNT; e++) {
        ck_assert_str_ne(roster_errname(e), "UNKNOWN");
        ck_assert_ptr_nonnull(roster_strerror(e));
        ck_assert_int_ge(roster_err_to_status(e), 0);
    }
    ck_assert_str_eq(roster_strerror(-1), "unknown error");
    ck_assert_str_eq(roster_strerror(ROSTER_E__COUNT), "unknown error");
}
END_TEST

START_TEST(status_round_trip)
{
    int codes[] = {ROSTER_E_OK,
                   ROSTER_E_INVALID_ARGUMENT,
                   ROSTER_E_DEADLINE_EXCEEDED,
                   ROSTER_E_NOT_FOUND,
                   ROSTER_E_ALREADY_EXISTS,
                   ROSTER_E_PERMISSION_DENIED,
                   ROSTER_E_RESOURCE_EXHAUSTED,
                   ROSTER_E_FAILED_PRECONDITION,
                   ROSTER_E_UNIMPLEMENTED,
                   ROSTER_E_INTERNAL,
                   ROSTER_E_UNAVAILABLE,
                   ROSTER_E_UNAUTHENTICATED};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        ck_assert_int_eq(roster_err_from_status(roster_err_to_status(codes[i])), codes[i]);
    ck_assert_int_eq(roster_err_to_status(ROSTER_E_NOT_FOUND), 5);
    ck_assert_int_eq(roster_err_to_status(ROSTER_E_ALREADY_EXISTS), 6);
    ck_assert_str_eq(roster_status_name(16), "UNAUTHENTICATED");
    ck_assert_str_eq(roster_status_name(99), "UNKNOWN");
}
END_TEST

START_TEST(status_table)
{
#define CHECK_STATUS(name, number)                                                                 \
    ck_assert_int_eq(ROSTER_STATUS_##name, number);                                                \
    ck_assert_str_eq(roster_status_name(number), #name);                                           \
    ck_assert(roster_status_valid(number));
    ROSTER_STATUS_MAP(CHECK_STATUS)
#undef CHECK_STATUS
    ck_assert_int_eq(ROSTER_STATUS__COUNT, 17);
    ck_assert(!roster_status_valid(-1));
    ck_assert(!roster_status_valid(ROSTER_STATUS__COUNT));
    ck_assert_str_eq(roster_status_name(-1), "UNKNOWN");
    /* A received status becomes the error of the same name, INTERNAL when
     * no error has that name. */
    for (int s = 0; s < ROSTER_STATUS__COUNT; s++) {
        int named = ROSTER_E_INTERNAL;
        for (int e = 0; e < ROSTER_E__COUNT; e++)
            if (strcmp(roster_errname(e), roster_status_name(s)) == 0)
                named = e;
        ck_assert_int_eq(roster_err_from_status(s), named);
    }
    ck_assert_int_eq(roster_err_from_status(-1), ROSTER_E_INTERNAL);
    ck_assert_int_eq(roster_err_from_status(99), ROSTER_E_INTERNAL);
    ck_assert_int_eq(roster_err_to_status(-1), ROSTER_STATUS_UNKNOWN);
    ck_assert_int_eq(roster_err_to_status(ROSTER_E_NOMEM), ROSTER_STATUS_RESOURCE_EXHAUSTED);
    ck_assert_int_eq(roster_err_to_status(ROSTER_E_CLOSED), ROSTER_STATUS_UNAVAILABLE);
}
END_TEST

START_TEST(fail_fills_detail)
{
    roster_err_detail d;
    int e = roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "email", "bad %s", "shape");
    ck_assert_int_eq(e, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "email");
    ck_assert_str_eq(d.message, "bad shape");
    ck_assert_int_eq(roster_fail(NULL, ROSTER_E_NOT_FOUND, "id", "x"), ROSTER_E_NOT_FOUND);
    char longtext[600];
    memset(longtext, 'a', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    roster_fail(&d, ROSTER_E_INTERNAL, longtext, "%s", longtext);
    ck_assert_uint_eq(strlen(d.field), sizeof d.field - 1);
    ck_assert_uint_eq(strlen(d.message), sizeof d.message - 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_code_has_name_message_status);
    tcase_add_test(tc, status_round_trip);
    tcase_add_test(tc, status_table);
    tcase_add_test(tc, fail_fills_detail);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
