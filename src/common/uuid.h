/* UUIDv7 identifiers: 16 bytes in keys (big-endian time first, so byte order
 * is creation order), 36-character lower-case text on the API. */
#ifndef ROSTER_UUID_H
#define ROSTER_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ROSTER_UUID_TEXT_LEN 36

typedef struct roster_uuid {
    uint8_t b[16];
} roster_uuid;

/* Whether a and b are the same id. Both borrowed for the call. */
static inline bool roster_uuid_eq(const roster_uuid *a, const roster_uuid *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* Byte order of a and b (<0, 0, >0), which for UUIDv7 is creation order.
 * Both borrowed for the call. */
static inline int roster_uuid_cmp(const roster_uuid *a, const roster_uuid *b)
{
    return memcmp(a->b, b->b, sizeof a->b);
}

/* Makes a new UUIDv7 for time `unix_ms`. Within one process, ids are
 * strictly increasing even when several are made in the same millisecond
 * (the 12-bit rand_a field is used as a counter). Thread-safe. */
void roster_uuid_v7(roster_uuid *out, int64_t unix_ms);

/* Parses canonical 8-4-4-4-12 hex text (either case) of exactly `len`
 * bytes. Returns ROSTER_E_OK or ROSTER_E_INVALID_ARGUMENT; *out is
 * written only on success. Any UUID version is accepted. */
int roster_uuid_parse(roster_uuid *out, const char *text, size_t len);

/* Writes 36 lower-case characters plus a NUL into buf (37 bytes). */
void roster_uuid_format(char buf[ROSTER_UUID_TEXT_LEN + 1], const roster_uuid *id);

/* Unix milliseconds stored in a UUIDv7's first 48 bits. */
int64_t roster_uuid_v7_time(const roster_uuid *id);

#endif
