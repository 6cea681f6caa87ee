/* A pre-scan of protobuf wire bytes against the request limits, run before
 * protobuf-c unpacks them. protobuf-c allocates for every field occurrence
 * it meets (a pointer, a copy, a scanned-member record), so a 4 MiB message
 * of two million empty ids costs far more than 4 MiB once unpacked; the
 * scan counts occurrences per message instance without allocating and
 * refuses the message first. What each field may hold is derived from the
 * descriptors: a singular field once, a repeated enum at most its number of
 * values, other repeated fields their ROSTER_REPEATED_LIMIT_MAP entry
 * (roster_limits.h), unknown fields ROSTER_MAX_UNKNOWN_FIELDS, nesting
 * ROSTER_MAX_WIRE_DEPTH. The same pass refuses a string field holding a
 * NUL (protobuf-c would hand it over cut at the NUL). Pure protobuf-c
 * descriptors; allocates nothing. */
#ifndef ROSTER_RPC_WIRE_SCAN_H
#define ROSTER_RPC_WIRE_SCAN_H

#include "error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a varint at *p (before end) into *out and advances *p; false when
 * it is cut short or longer than ten bytes. */
bool rpc_wire_varint(uint64_t *out, const uint8_t **p, const uint8_t *end);

/* One field read from the wire: its number, wire type (0 varint, 1 64-bit,
 * 2 length-delimited, 5 32-bit) and, for wire type 2, its bytes. */
typedef struct rpc_wire_field {
    uint64_t number;
    unsigned wire_type;
    const uint8_t *body; /* wire type 2: borrowed from the buffer read */
    size_t len;
} rpc_wire_field;

/* Reads the field at *p (before end) into *out and moves *p past it; false
 * when it is cut short or is a group (not in roster.proto). */
bool rpc_wire_next(rpc_wire_field *out, const uint8_t **p, const uint8_t *end);

/* Appends field name `name` to the path in `path` (length *n, capacity
 * cap) in GraphQL form: a '.' separator, then snake_case turned into
 * lowerCamelCase ("filter.firstName"). */
void rpc_wire_path_push(char *path, size_t cap, size_t *n, const char *name);

/* The most entries repeated field f (of a request message) may hold:
 * static table value. */
size_t rpc_wire_repeated_limit(const ProtobufCFieldDescriptor *f);

/* The name of the limit rpc_wire_repeated_limit applies (a static string,
 * "ROSTER_MAX_BATCH", or "values of <Enum>"). */
const char *rpc_wire_repeated_limit_name(const ProtobufCFieldDescriptor *f);

/* Scans the `len` bytes at `buf` (borrowed for the call; NULL with len 0 is
 * an empty message) as a `desc` message. ROSTER_E_OK when every count is
 * within its limit and no string holds a NUL (malformed framing is left to
 * the unpacker to refuse); ROSTER_E_INVALID_ARGUMENT with `detail` naming
 * the field by its GraphQL path and the limit ("ids holds more than 1000
 * entries (ROSTER_MAX_BATCH)", "filter.email.valueIn ...", "firstName
 * contains a NUL character", "filter.email.valueIn.values contains ..."). */
int rpc_wire_scan(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                  roster_err_detail *detail);

#endif
