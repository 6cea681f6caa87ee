/* Structured logging: one line per event in logfmt
 * (`ts=... level=info component=users event=startup key=value ...`),
 * written to stderr with a single write(2) so lines from threads never
 * interleave. */
#ifndef ROSTER_LOG_H
#define ROSTER_LOG_H

typedef enum roster_log_level {
    ROSTER_LOG_DEBUG = 0,
    ROSTER_LOG_INFO,
    ROSTER_LOG_WARN,
    ROSTER_LOG_ERROR,
} roster_log_level;

/* Sets the process-wide component name (static string, kept by pointer)
 * and the lowest level written. Call once at start, before threads. */
void roster_log_init(const char *component, roster_log_level min_level);

/* Parses "debug", "info", "warn", "error". Returns ROSTER_E_OK or
 * ROSTER_E_INVALID_ARGUMENT; *out written only on success. */
int roster_log_level_parse(roster_log_level *out, const char *name);

int roster_log_enabled(roster_log_level level);

/* Logs event `event` with key/value text in `fmt` (already logfmt, e.g.
 * "method=%s code=%d"). Values with spaces should be quoted by the caller
 * with roster_log_quote. Truncates lines beyond 2 KiB. */
void roster_log(roster_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes `s` as a logfmt value (quoted and escaped when needed) into buf of
 * cap bytes; returns buf. The result is truncated to fit. */
const char *roster_log_quote(char *buf, unsigned cap, const char *s);

#endif
