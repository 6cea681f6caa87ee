#include "meter.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define BAR_MIN 10 /* columns inside the brackets */
#define BAR_MAX 40

/* Appends to buf[*len..cap), keeping it NUL-terminated and *len the
 * length actually held. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (cap == 0 || *len >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - 1 - *len;
}

size_t ctl_meter_rate(char *buf, size_t cap, double per_second)
{
    static const char units[] = "kMGT";
    double v = per_second > 0 ? per_second : 0; /* also NaN */
    int u = -1;
    while (v >= 999.5 && u < 3) {
        v /= 1000;
        u++;
    }
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (u < 0)
        put(buf, cap, &len, v < 9.95 ? "%.1f" : "%.0f", v);
    else
        put(buf, cap, &len, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return len;
}

size_t ctl_meter_duration(char *buf, size_t cap, uint64_t ms)
{
    uint64_t s = ms / 1000;
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (s >= 3600)
        put(buf, cap, &len, "%llu:%02u:%02u", (unsigned long long)(s / 3600),
            (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    else
        put(buf, cap, &len, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
    return len;
}

/* What the figures of m say. */
typedef struct figures {
    bool has_total, has_rate, has_eta;
    unsigned percent;
    double rate; /* records per second */
    uint64_t eta_ms;
} figures;

static figures figure(const ctl_meter *m)
{
    figures f = {0};
    f.has_total = m->total > 0;
    uint64_t done = m->done < m->total ? m->done : m->total;
    if (f.has_total)
        f.percent = (unsigned)((double)done * 100 / (double)m->total);
    f.has_rate = m->elapsed_ms > 0;
    if (f.has_rate)
        f.rate = (double)m->records * 1000 / (double)m->elapsed_ms;
    /* From the rate of units so far: the time the rest takes at it. */
    f.has_eta = f.has_total && m->done > 0 && m->elapsed_ms > 0;
    if (f.has_eta) {
        /* Rounded up to the second: "eta 0:00" only when nothing is left. */
        double eta = (double)(m->total - done) * (double)m->elapsed_ms / (double)m->done;
        f.eta_ms = eta < 1e15 ? ((uint64_t)eta + 999) / 1000 * 1000 : (uint64_t)1e15;
    }
    return f;
}

enum { P_PERCENT, P_BAR, P_RECORDS, P_RATE, P_ETA, P_ELAPSED, P_COUNT };

size_t ctl_meter_line(char *buf, size_t cap, const ctl_meter *m, unsigned width)
{
    figures f = figure(m);
    size_t avail = (width == 0 ? 80 : width) - 1;
    if (avail == 0)
        avail = 1;
    char text[P_COUNT][64] = {{0}};
    bool want[P_COUNT] = {false};
    want[P_PERCENT] = want[P_BAR] = f.has_total;
    want[P_RECORDS] = true;
    want[P_RATE] = f.has_rate;
    want[P_ETA] = f.has_eta;
    want[P_ELAPSED] = true;
    char num[32];
    snprintf(text[P_PERCENT], sizeof text[0], "%3u%%", f.percent);
    snprintf(text[P_RECORDS], sizeof text[0], "%llu %s", (unsigned long long)m->records, m->noun);
    ctl_meter_rate(num, sizeof num, f.rate);
    snprintf(text[P_RATE], sizeof text[0], "%5s/s", num); /* steady: at most 5 wide */
    ctl_meter_duration(num, sizeof num, f.eta_ms);
    snprintf(text[P_ETA], sizeof text[0], "eta %s", num);
    ctl_meter_duration(text[P_ELAPSED], sizeof text[0], m->elapsed_ms);

    /* Most important first, each where it still fits after a space. */
    size_t label = strlen(m->label);
    if (label > avail)
        label = avail;
    size_t used = label;
    for (int i = 0; i < P_COUNT; i++) {
        size_t need = 1 + (i == P_BAR ? 2 + BAR_MIN : strlen(text[i]));
        if (want[i] && used + need <= avail)
            used += need;
        else
            want[i] = false;
    }
    size_t bar = BAR_MIN + (avail - used);
    if (bar > BAR_MAX)
        bar = BAR_MAX;

    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    put(buf, cap, &len, "%.*s", (int)label, m->label);
    if (want[P_BAR]) {
        size_t fill = (size_t)((double)bar * f.percent / 100);
        put(buf, cap, &len, " [");
        for (size_t i = 0; i < bar; i++)
            put(buf, cap, &len, "%c", i < fill ? '#' : '.');
        put(buf, cap, &len, "]");
    }
    static const int order[] = {P_PERCENT, P_RECORDS, P_RATE, P_ELAPSED, P_ETA};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (want[order[i]])
            put(buf, cap, &len, " %s", text[order[i]]);
    return len;
}

size_t ctl_meter_plain(char *buf, size_t cap, const ctl_meter *m)
{
    figures f = figure(m);
    char rate[32], elapsed[32], eta[32];
    ctl_meter_rate(rate, sizeof rate, f.rate);
    ctl_meter_duration(elapsed, sizeof elapsed, m->elapsed_ms);
    ctl_meter_duration(eta, sizeof eta, f.eta_ms);
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    put(buf, cap, &len, "%s: %llu %s", m->label, (unsigned long long)m->records, m->noun);
    if (f.has_total)
        put(buf, cap, &len, ", %u%%", f.percent);
    if (f.has_rate)
        put(buf, cap, &len, ", %s %s/s", rate, m->noun);
    put(buf, cap, &len, ", %s elapsed", elapsed);
    if (f.has_eta)
        put(buf, cap, &len, ", eta %s", eta);
    return len;
}

size_t ctl_meter_summary(char *buf, size_t cap, const ctl_meter *m)
{
    figures f = figure(m);
    char rate[32], took[32];
    ctl_meter_rate(rate, sizeof rate, f.rate);
    if (m->elapsed_ms < 60000)
        snprintf(took, sizeof took, "%.1fs", (double)m->elapsed_ms / 1000);
    else
        ctl_meter_duration(took, sizeof took, m->elapsed_ms);
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    put(buf, cap, &len, "%s: %llu %s in %s", m->label, (unsigned long long)m->records, m->noun,
        took);
    if (f.has_rate)
        put(buf, cap, &len, ", %s %s/s", rate, m->noun);
    return len;
}
