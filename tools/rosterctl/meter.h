/* The text of rosterctl's progress reports (progress.c decides when and
 * where they are printed): rates in human units, durations, the one-line
 * bar redrawn on a terminal (fitted to its width), the plain line printed
 * periodically otherwise, and the final summary. Pure functions of their
 * arguments. */
#ifndef ROSTERCTL_METER_H
#define ROSTERCTL_METER_H

#include <stddef.h>
#include <stdint.h>

/* Where a job stands. Both strings are borrowed for the call. */
typedef struct ctl_meter {
    const char *label;   /* the command: "load" */
    const char *noun;    /* what records are called: "records" */
    uint64_t total;      /* units of the whole job; 0 when unknown */
    uint64_t done;       /* units done (bytes read, records) */
    uint64_t records;    /* records done */
    uint64_t elapsed_ms; /* since the job began */
} ctl_meter;

/* Every ctl_meter_* writer below writes into buf (always NUL-terminated
 * when cap > 0, truncated to cap - 1 bytes) and returns the length
 * written. */

/* A rate per second in three significant digits and SI units: "7.5",
 * "950", "12.3k", "1.20M", "3.00G". */
size_t ctl_meter_rate(char *buf, size_t cap, double per_second);

/* A duration as M:SS or H:MM:SS, rounded down to the second: "0:07",
 * "12:05", "1:02:03". */
size_t ctl_meter_duration(char *buf, size_t cap, uint64_t ms);

/* The terminal line, at most width - 1 columns (the last column is left
 * free so the terminal never wraps; width 0 means 80). In this order:
 * label, bar and percent (when the total is known), records, rate
 * (records per second, right-aligned in 5 columns), elapsed time and ETA
 * (when the total is known and some of it is done; from the rate of units,
 * averaged since the start, rounded up to the second).
 * The pieces are taken most important first: percent, bar (10 columns at
 * least), records, rate, ETA, elapsed, each where it still fits (so a short
 * one may stay where a longer, more important one did not); the bar then
 * widens into what is left, up to 40 columns. A label wider than the line
 * is cut. */
size_t ctl_meter_line(char *buf, size_t cap, const ctl_meter *m, unsigned width);

/* The periodic line when stderr is no terminal (the same figures), without
 * a newline:
 * "load: 120000 records, 45%, 21.8k records/s, 0:05 elapsed, eta 0:07"
 * (no percent and ETA when the total is unknown). */
size_t ctl_meter_plain(char *buf, size_t cap, const ctl_meter *m);

/* The final line, without a newline: "load: 200000 records in 7.2s,
 * 27.8k records/s" (the time as M:SS or H:MM:SS from a minute on). */
size_t ctl_meter_summary(char *buf, size_t cap, const ctl_meter *m);

#endif
