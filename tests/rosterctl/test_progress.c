/* rosterctl's progress reports: the text (rates, durations, the bar fitted
 * to a width, the plain line, the summary) and the reporter on a file and
 * on a pseudo-terminal of a known width. */
#include "meter.h"
#include "progress.h"

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char *rate(double v)
{
    static char buf[32];
    ctl_meter_rate(buf, sizeof buf, v);
    return buf;
}

static const char *duration(uint64_t ms)
{
    static char buf[32];
    ctl_meter_duration(buf, sizeof buf, ms);
    return buf;
}

START_TEST(rates_and_durations)
{
    ck_assert_str_eq(rate(0), "0.0");
    ck_assert_str_eq(rate(-3), "0.0");
    ck_assert_str_eq(rate(NAN), "0.0");
    ck_assert_str_eq(rate(7.54), "7.5");
    ck_assert_str_eq(rate(9.96), "10");
    ck_assert_str_eq(rate(950), "950");
    ck_assert_str_eq(rate(999.4), "999");
    ck_assert_str_eq(rate(999.6), "1.00k");
    ck_assert_str_eq(rate(12345), "12.3k");
    ck_assert_str_eq(rate(99960), "100k");
    ck_assert_str_eq(rate(123456), "123k");
    ck_assert_str_eq(rate(999600), "1.00M");
    ck_assert_str_eq(rate(1.2e6), "1.20M");
    ck_assert_str_eq(rate(3e9), "3.00G");
    ck_assert_str_eq(rate(5e15), "5000T");
    ck_assert_str_eq(duration(0), "0:00");
    ck_assert_str_eq(duration(7999), "0:07");
    ck_assert_str_eq(duration(725000), "12:05");
    ck_assert_str_eq(duration(3723000), "1:02:03");
    ck_assert_str_eq(duration(100 * 3600000ULL), "100:00:00");
    /* Truncation keeps the buffer terminated and says what it holds. */
    char small[4];
    ck_assert_uint_eq(ctl_meter_rate(small, sizeof small, 12345), 3);
    ck_assert_str_eq(small, "12.");
}
END_TEST

/* 450 of 1000 units and 120000 records in 5 s: 24.0k records/s; the rest
 * (550 units at 90 units/s) takes 6.1 s, shown as 0:07. */
static const ctl_meter half = {.label = "load",
                               .noun = "records",
                               .total = 1000,
                               .done = 450,
                               .records = 120000,
                               .elapsed_ms = 5000};

static const char *line(const ctl_meter *m, unsigned width)
{
    static char buf[512];
    size_t n = ctl_meter_line(buf, sizeof buf, m, width);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(bar_line)
{
    /* 80 columns: everything, the bar 30 wide (13 of 30 filled for 45%),
     * 79 columns in all. */
    const char *want = "load [#############.................]  45% 120000 records 24.0k/s 0:05 "
                       "eta 0:07";
    ck_assert_str_eq(line(&half, 80), want);
    ck_assert_uint_eq(strlen(want), 79);
    ck_assert_str_eq(line(&half, 0), want);
    /* Wide terminals: the bar stops at 40. */
    const char *wide = line(&half, 200);
    ck_assert_uint_eq(strlen(wide), 79 + 10);
    ck_assert_ptr_nonnull(strstr(wide, "[##################......................]"));
    /* Narrower: the bar gives way down to 10 columns... */
    ck_assert_str_eq(line(&half, 70),
                     "load [#########...........]  45% 120000 records 24.0k/s 0:05 eta 0:07");
    ck_assert_str_eq(line(&half, 60),
                     "load [####......]  45% 120000 records 24.0k/s 0:05 eta 0:07");
    /* ...then the least important pieces; a shorter one that still fits
     * stays. */
    ck_assert_str_eq(line(&half, 55), "load [####......]  45% 120000 records 24.0k/s eta 0:07");
    ck_assert_str_eq(line(&half, 48), "load [#####.......]  45% 120000 records 24.0k/s");
    ck_assert_str_eq(line(&half, 45), "load [#####.......]  45% 120000 records 0:05");
    ck_assert_str_eq(line(&half, 40), "load [#####.......]  45% 120000 records");
    ck_assert_str_eq(line(&half, 30), "load [#####.......]  45% 0:05");
    ck_assert_str_eq(line(&half, 25), "load [#####.......]  45%");
    ck_assert_str_eq(line(&half, 20), "load  45% 24.0k/s");
    ck_assert_str_eq(line(&half, 10), "load  45%");
    ck_assert_str_eq(line(&half, 5), "load");
    ck_assert_str_eq(line(&half, 3), "lo");
    ck_assert_str_eq(line(&half, 1), "l");
    /* Every width: within width - 1 columns, the label first. */
    for (unsigned w = 2; w <= 300; w++) {
        const char *l = line(&half, w);
        ck_assert_uint_le(strlen(l), w - 1);
        ck_assert_int_eq(strncmp(l, "load", strlen(l) < 4 ? strlen(l) : 4), 0);
    }
}
END_TEST

START_TEST(bar_line_edges)
{
    /* Unknown total: counts and rate, no bar, percent or ETA. */
    ctl_meter m = {.label = "dump", .noun = "users", .records = 42, .elapsed_ms = 5000};
    ck_assert_str_eq(line(&m, 80), "dump 42 users   8.4/s 0:05");
    /* Nothing done yet, no time yet: no rate, no ETA. */
    m = (ctl_meter){.label = "verify", .noun = "records", .total = 10};
    ck_assert_str_eq(line(&m, 60), "verify [..............................]   0% 0 records 0:00");
    /* More done than the total (a file that grew): 100%, nothing left. */
    m = (ctl_meter){.label = "load",
                    .noun = "records",
                    .total = 100,
                    .done = 150,
                    .records = 3,
                    .elapsed_ms = 1500};
    ck_assert_str_eq(
        line(&m, 80),
        "load [###################################] 100% 3 records   2.0/s 0:01 eta 0:00");
    /* A long label is cut to the width. */
    m.label = "a-label-far-longer-than-the-terminal-is-wide";
    ck_assert_str_eq(line(&m, 12), "a-label-far");
}
END_TEST

START_TEST(plain_and_summary)
{
    char buf[256];
    ctl_meter_plain(buf, sizeof buf, &half);
    ck_assert_str_eq(buf, "load: 120000 records, 45%, 24.0k records/s, 0:05 elapsed, eta 0:07");
    ctl_meter m = {.label = "dump", .noun = "users", .records = 42, .elapsed_ms = 5000};
    ctl_meter_plain(buf, sizeof buf, &m);
    ck_assert_str_eq(buf, "dump: 42 users, 8.4 users/s, 0:05 elapsed");
    m = (ctl_meter){.label = "load", .noun = "records", .records = 200000, .elapsed_ms = 7200};
    ctl_meter_summary(buf, sizeof buf, &m);
    ck_assert_str_eq(buf, "load: 200000 records in 7.2s, 27.8k records/s");
    m.elapsed_ms = 125000;
    ctl_meter_summary(buf, sizeof buf, &m);
    ck_assert_str_eq(buf, "load: 200000 records in 2:05, 1.60k records/s");
    m.elapsed_ms = 0;
    ctl_meter_summary(buf, sizeof buf, &m);
    ck_assert_str_eq(buf, "load: 200000 records in 0.0s");
}
END_TEST

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Runs a job of `steps` steps `pause_ms` apart on stderr, which is
 * redirected to fd `to` for the job. */
static void job(int to, const char *label, uint64_t total, int steps, long pause_ms)
{
    int saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(to, STDERR_FILENO), 0);
    ctl_progress *p = ctl_progress_begin(label, total, "records");
    ck_assert_ptr_nonnull(p);
    for (int i = 1; i <= steps; i++) {
        sleep_ms(pause_ms);
        ctl_progress_step(p, (uint64_t)i * 10, (uint64_t)i);
    }
    ctl_progress_end(p, (uint64_t)steps, true);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static char *slurp_fd(int fd)
{
    static char buf[65536];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

START_TEST(plain_reporter)
{
    /* NULL is accepted everywhere. */
    ctl_progress_step(NULL, 1, 1);
    ctl_progress_clear(NULL);
    ctl_progress_end(NULL, 1, true);

    char path[] = "/tmp/test_progress_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    /* A short job with the default 5 s: nothing at all. */
    unsetenv("ROSTERCTL_PROGRESS_INTERVAL_MS");
    job(fd, "load", 100, 3, 1);
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), 0);
    /* With 20 ms: periodic lines, then the summary; no '\r'. */
    setenv("ROSTERCTL_PROGRESS_INTERVAL_MS", "20", 1);
    job(fd, "load", 100, 10, 10);
    lseek(fd, 0, SEEK_SET);
    const char *out = slurp_fd(fd);
    ck_assert_ptr_null(strchr(out, '\r'));
    ck_assert_msg(strstr(out, "load: ") == out, "%s", out);
    ck_assert_msg(strstr(out, "%, ") != NULL && strstr(out, " records/s, ") != NULL, "%s", out);
    const char *last = strstr(out, "load: 10 records in ");
    ck_assert_msg(last != NULL && strchr(last, '\n')[1] == '\0', "%s", out);
    int lines = 0;
    for (const char *c = out; *c; c++)
        lines += *c == '\n';
    ck_assert_msg(lines >= 3, "%s", out);
    /* A failed job: no summary. */
    ck_assert_int_eq(ftruncate(fd, 0), 0);
    lseek(fd, 0, SEEK_SET);
    setenv("ROSTERCTL_PROGRESS_INTERVAL_MS", "1", 1);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    ctl_progress *p = ctl_progress_begin("verify", 0, "records");
    sleep_ms(3);
    ctl_progress_end(p, 5, false);
    /* An unusable interval is reported and the default used. */
    setenv("ROSTERCTL_PROGRESS_INTERVAL_MS", "soon", 1);
    p = ctl_progress_begin("verify", 0, "records");
    ctl_progress_end(p, 5, true);
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ck_assert_str_eq(slurp_fd(fd), "rosterctl: ignoring ROSTERCTL_PROGRESS_INTERVAL_MS=soon: not "
                                   "milliseconds between 1 and 3600000\n");
    close(fd);
}
END_TEST

START_TEST(terminal_reporter)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    struct winsize ws = {.ws_row = 24, .ws_col = 50};
    ck_assert_int_eq(ioctl(slave, TIOCSWINSZ, &ws), 0);
    setenv("ROSTERCTL_PROGRESS_INTERVAL_MS", "5", 1);
    job(slave, "load", 100, 10, 3);
    close(slave);
    fcntl(master, F_SETFL, O_NONBLOCK);
    const char *out = slurp_fd(master);
    close(master);
    /* Redraws: '\r', a line of at most 49 columns with a bar and a
     * percent, padded over the one before; then blanks over the bar and
     * the summary (the terminal turns its '\n' into "\r\n"). */
    ck_assert_msg(strncmp(out, "\rload [", 7) == 0, "%s", out);
    int redraws = 0;
    for (const char *c = out; (c = strchr(c, '\r')) != NULL; c++) {
        size_t n = strcspn(c + 1, "\r");
        ck_assert_uint_le(n, 49);
        if (strncmp(c + 1, "load [", 6) == 0) {
            redraws++;
            ck_assert_msg(memchr(c + 1, '%', n) != NULL, "%s", out);
        }
    }
    ck_assert_msg(redraws >= 2, "%s", out);
    const char *end = strstr(out, "\rload: 10 records in ");
    ck_assert_msg(end != NULL, "%s", out);
    ck_assert_msg(end[-1] == ' ' && strcmp(end + strcspn(end, "\n") - 1, "\r\n") == 0, "%s", out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_progress");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rates_and_durations);
    tcase_add_test(tc, bar_line);
    tcase_add_test(tc, bar_line_edges);
    tcase_add_test(tc, plain_and_summary);
    tcase_add_test(tc, plain_reporter);
    tcase_add_test(tc, terminal_reporter);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
