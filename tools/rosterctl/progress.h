/* Progress of rosterctl's long-running commands on stderr. On a terminal
 * (isatty(2)) one line is redrawn with '\r', at most every 100 ms: label,
 * bar and percent, records, rate, elapsed time and ETA, fitted to the
 * terminal's width (TIOCGWINSZ, 80 when unknown). Otherwise a plain line is
 * printed at most every 5 s. ROSTERCTL_PROGRESS_INTERVAL_MS (1..3600000)
 * replaces both intervals. Nothing is printed before the first interval
 * has passed, so a short job leaves stderr as it was. The text is
 * meter.h's. */
#ifndef ROSTERCTL_PROGRESS_H
#define ROSTERCTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ctl_progress ctl_progress;

/* Starts reporting progress on stderr. label: the command ("load", "dump",
 * "verify", "import"), copied. total: the size of the whole job in the
 * units `done` counts (bytes of an input file, or records), 0 when unknown
 * (then no bar and no ETA, only counts and rate). noun: what records are
 * called ("records", "users"), copied. Returns NULL when out of memory;
 * every other function accepts NULL and does nothing. Owned by the caller,
 * freed by ctl_progress_end. */
ctl_progress *ctl_progress_begin(const char *label, uint64_t total, const char *noun);

/* Reports that `done` units of total and `records` records are done. Cheap
 * enough to call once per record (reads a monotonic clock, redraws only
 * when due). */
void ctl_progress_step(ctl_progress *p, uint64_t done, uint64_t records);

/* Takes the bar off the terminal so that the caller can write a line of
 * its own (to stderr, or to stdout on the same terminal); the next step
 * that is due draws it again. Does nothing when no bar is drawn. */
void ctl_progress_clear(ctl_progress *p);

/* Ends: on a terminal clears the bar; in both modes writes one final line
 * with the record count, elapsed time and average rate ("ok" true) or
 * nothing but clearing when the command failed (ok false: the command
 * prints its own error). The final line too is left out when the job took
 * less than one interval. Frees p. */
void ctl_progress_end(ctl_progress *p, uint64_t records, bool ok);

#endif
