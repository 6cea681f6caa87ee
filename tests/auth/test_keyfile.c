/* keyfile: reading an API key from a file (permissions, file type, text
 * checks, trailing whitespace) and checking key text given directly. */
#include "keyfile.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY "rstr_0190b1c4e5f67000800000000000000a_q9VwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/roster-keyfile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes `text` into dir/name with `mode`; returns the path (static). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

START_TEST(reads_a_private_file)
{
    char out[ROSTER_KEYFILE_MAX + 1];
    roster_err_detail d = {{0}};
    ck_assert_int_eq(roster_keyfile_read(out, write_file("a.key", KEY "\n", 0600), &d),
                     ROSTER_E_OK);
    ck_assert_str_eq(out, KEY);
    ck_assert_int_eq(roster_keyfile_read(out, write_file("b.key", KEY " \r\n\n", 0400), &d),
                     ROSTER_E_OK);
    ck_assert_str_eq(out, KEY);
    ck_assert_int_eq(roster_keyfile_read(out, write_file("c.key", KEY, 0600), &d), ROSTER_E_OK);
    ck_assert_str_eq(out, KEY);
}
END_TEST

START_TEST(refuses_open_files)
{
    char out[ROSTER_KEYFILE_MAX + 1] = "untouched";
    roster_err_detail d = {{0}};
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602, 0660, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *p = write_file("open.key", KEY "\n", modes[i]);
        ck_assert_int_eq(roster_keyfile_read(out, p, &d), ROSTER_E_PERMISSION_DENIED);
        ck_assert_str_eq(d.field, "key_file");
        ck_assert_ptr_nonnull(strstr(d.message, "group or others"));
        ck_assert_ptr_nonnull(strstr(d.message, "chmod 600"));
        ck_assert_str_eq(out, "untouched");
    }
    ck_assert_int_eq(roster_keyfile_read(out, write_file("m.key", KEY, 0644), &d),
                     ROSTER_E_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(d.message, "(mode 0644)"));
}
END_TEST

START_TEST(refuses_other_things)
{
    char out[ROSTER_KEYFILE_MAX + 1] = "untouched";
    roster_err_detail d = {{0}};
    ck_assert_int_eq(roster_keyfile_read(out, dir, &d), ROSTER_E_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(d.message, "not a regular file"));
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(roster_keyfile_read(out, fifo, &d), ROSTER_E_PERMISSION_DENIED);
    ck_assert_ptr_nonnull(strstr(d.message, "not a regular file"));
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    ck_assert_int_eq(roster_keyfile_read(out, missing, &d), ROSTER_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(d.message, missing));
    ck_assert_int_eq(roster_keyfile_read(out, write_file("e.key", "\n\n", 0600), &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "is empty"));
    ck_assert_int_eq(roster_keyfile_read(out, write_file("w.key", "rstr_a rstr_b\n", 0600), &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "more than one word"));
    char big[ROSTER_KEYFILE_MAX + 3];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(roster_keyfile_read(out, write_file("big.key", big, 0600), &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "more than 255"));
    big[ROSTER_KEYFILE_MAX] = '\0'; /* exactly the longest accepted */
    ck_assert_int_eq(roster_keyfile_read(out, write_file("max.key", big, 0600), &d), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(out), ROSTER_KEYFILE_MAX);
    ck_assert_int_eq(roster_keyfile_read(out, "", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(roster_keyfile_read(out, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(checks_text)
{
    roster_err_detail d = {{0}};
    ck_assert_int_eq(roster_keyfile_check_text(KEY, "--key", "key", &d), ROSTER_E_OK);
    ck_assert_int_eq(roster_keyfile_check_text("", "--key", "key", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.message, "--key is empty");
    ck_assert_str_eq(d.field, "key");
    ck_assert_int_eq(roster_keyfile_check_text(NULL, "ROSTER_KEY", "ROSTER_KEY", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(roster_keyfile_check_text("rstr_ x", "api_key", "api_key", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "api_key holds a space"));
    ck_assert_int_eq(roster_keyfile_check_text("rstr_\tx", "k", "k", NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    char big[ROSTER_KEYFILE_MAX + 2];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(roster_keyfile_check_text(big, "k", "k", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "longer than"));
}
END_TEST

START_TEST(wipes)
{
    char buf[16];
    memset(buf, 'x', sizeof buf);
    roster_keyfile_wipe(buf, sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], 0);
    roster_keyfile_wipe(NULL, 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keyfile");
    TCase *tc = tcase_create("keyfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reads_a_private_file);
    tcase_add_test(tc, refuses_open_files);
    tcase_add_test(tc, refuses_other_things);
    tcase_add_test(tc, checks_text);
    tcase_add_test(tc, wipes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
