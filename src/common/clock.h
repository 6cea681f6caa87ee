/* Wall-clock and monotonic time. */
#ifndef ROSTER_CLOCK_H
#define ROSTER_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Unix time in milliseconds (CLOCK_REALTIME). */
int64_t roster_now_ms(void);

/* Monotonic nanoseconds, for durations and deadlines (CLOCK_MONOTONIC). */
int64_t roster_mono_ns(void);

/* Formats Unix milliseconds as "2026-11-27T04:24:50.123Z" into buf, which
 * must hold at least 25 bytes. Returns the length written (24), or 0 if the
 * time is outside years 0000..9999. */
size_t roster_time_format_iso(char *buf, size_t cap, int64_t unix_ms);

/* Parses an ISO-8601 UTC timestamp: "YYYY-MM-DDTHH:MM:SS[.fff]Z" (1 to 9
 * fraction digits, truncated to milliseconds) or with a "+00:00" offset or
 * any other "+HH:MM"/"-HH:MM" offset. Returns ROSTER_E_OK or
 * ROSTER_E_INVALID_ARGUMENT; *out_ms written only on success. */
int roster_time_parse_iso(int64_t *out_ms, const char *text, size_t len);

#endif
