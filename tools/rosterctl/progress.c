#include "progress.h"

#include "clock.h"
#include "meter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TERMINAL_INTERVAL_MS 100
#define PLAIN_INTERVAL_MS    5000
#define INTERVAL_ENV         "ROSTERCTL_PROGRESS_INTERVAL_MS"

struct ctl_progress {
    char *label, *noun;
    uint64_t total;
    bool terminal;       /* stderr is a terminal: redraw one line */
    int64_t start_ns;    /* monotonic */
    int64_t interval_ns; /* between two reports */
    int64_t due_ns;      /* the next report is due */
    size_t drawn;        /* columns of the bar now on the terminal; 0: none */
};

/* The interval of the environment, or `fallback` (an unusable value is
 * reported, then ignored). */
static int64_t interval_ms(int64_t fallback)
{
    const char *v = getenv(INTERVAL_ENV);
    if (v == NULL || *v == '\0')
        return fallback;
    char *end;
    long long ms = strtoll(v, &end, 10);
    if (*end != '\0' || ms < 1 || ms > 3600000) {
        fprintf(stderr, "rosterctl: ignoring %s=%s: not milliseconds between 1 and 3600000\n",
                INTERVAL_ENV, v);
        return fallback;
    }
    return ms;
}

ctl_progress *ctl_progress_begin(const char *label, uint64_t total, const char *noun)
{
    ctl_progress *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->label = strdup(label);
    p->noun = strdup(noun);
    if (p->label == NULL || p->noun == NULL) {
        free(p->label);
        free(p->noun);
        free(p);
        return NULL;
    }
    p->total = total;
    p->terminal = isatty(STDERR_FILENO) == 1;
    p->interval_ns = interval_ms(p->terminal ? TERMINAL_INTERVAL_MS : PLAIN_INTERVAL_MS) * 1000000;
    p->start_ns = roster_mono_ns();
    p->due_ns = p->start_ns + p->interval_ns;
    return p;
}

static unsigned terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* One write of n bytes of buf to stderr (unbuffered). */
static void emit(const char *buf, size_t n)
{
    fwrite(buf, 1, n, stderr);
}

static void draw(ctl_progress *p, uint64_t done, uint64_t records, int64_t now)
{
    ctl_meter m = {.label = p->label,
                   .noun = p->noun,
                   .total = p->total,
                   .done = done,
                   .records = records,
                   .elapsed_ms = (uint64_t)(now - p->start_ns) / 1000000};
    char buf[1024];
    if (!p->terminal) {
        size_t n = ctl_meter_plain(buf, sizeof buf - 1, &m);
        buf[n++] = '\n';
        emit(buf, n);
        return;
    }
    /* '\r', the line, and blanks over what is left of a longer line drawn
     * before (within the width: a window made narrower has already wrapped
     * that one). */
    buf[0] = '\r';
    unsigned width = terminal_width();
    if (width > sizeof buf / 2)
        width = sizeof buf / 2;
    size_t len = ctl_meter_line(buf + 1, sizeof buf / 2, &m, width);
    size_t n = 1 + len;
    for (size_t i = len; i < p->drawn && i + 1 < width; i++)
        buf[n++] = ' ';
    emit(buf, n);
    p->drawn = len;
}

void ctl_progress_step(ctl_progress *p, uint64_t done, uint64_t records)
{
    if (p == NULL)
        return;
    int64_t now = roster_mono_ns();
    if (now < p->due_ns)
        return;
    p->due_ns = now + p->interval_ns;
    draw(p, done, records, now);
}

void ctl_progress_clear(ctl_progress *p)
{
    if (p == NULL || p->drawn == 0)
        return;
    char buf[1024];
    size_t n = 0;
    unsigned width = terminal_width();
    buf[n++] = '\r';
    for (size_t i = 0; i < p->drawn && i + 1 < width && n < sizeof buf - 1; i++)
        buf[n++] = ' ';
    buf[n++] = '\r';
    emit(buf, n);
    p->drawn = 0;
}

void ctl_progress_end(ctl_progress *p, uint64_t records, bool ok)
{
    if (p == NULL)
        return;
    ctl_progress_clear(p);
    int64_t now = roster_mono_ns();
    if (ok && now - p->start_ns >= p->interval_ns) {
        ctl_meter m = {.label = p->label,
                       .noun = p->noun,
                       .records = records,
                       .elapsed_ms = (uint64_t)(now - p->start_ns) / 1000000};
        char buf[512];
        size_t n = ctl_meter_summary(buf, sizeof buf - 1, &m);
        buf[n++] = '\n';
        emit(buf, n);
    }
    free(p->label);
    free(p->noun);
    free(p);
}
