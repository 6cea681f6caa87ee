/* Roster's one error enum and the gRPC status codes. Every module returns
 * ROSTER_E_* codes; foreign codes (MDB_*, NNG_*, errno) are translated
 * where they are met. Status codes are what travels in an RPC reply; code
 * refers to them by name (ROSTER_STATUS_NOT_FOUND), never by number. */
#ifndef ROSTER_ERROR_H
#define ROSTER_ERROR_H

#include <stdbool.h>

/* The gRPC status codes (google.rpc.Code), the numbers an RpcReply
 * carries. Numbers are fixed by gRPC and run from 0 without gaps.
 * X(NAME, number) */
#define ROSTER_STATUS_MAP(X)                                                                       \
    X(OK, 0)                                                                                       \
    X(CANCELLED, 1)                                                                                \
    X(UNKNOWN, 2)                                                                                  \
    X(INVALID_ARGUMENT, 3)                                                                         \
    X(DEADLINE_EXCEEDED, 4)                                                                        \
    X(NOT_FOUND, 5)                                                                                \
    X(ALREADY_EXISTS, 6)                                                                           \
    X(PERMISSION_DENIED, 7)                                                                        \
    X(RESOURCE_EXHAUSTED, 8)                                                                       \
    X(FAILED_PRECONDITION, 9)                                                                      \
    X(ABORTED, 10)                                                                                 \
    X(OUT_OF_RANGE, 11)                                                                            \
    X(UNIMPLEMENTED, 12)                                                                           \
    X(INTERNAL, 13)                                                                                \
    X(UNAVAILABLE, 14)                                                                             \
    X(DATA_LOSS, 15)                                                                               \
    X(UNAUTHENTICATED, 16)

typedef enum roster_status_code {
#define ROSTER_STATUS_ENUM(name, number) ROSTER_STATUS_##name = number,
    ROSTER_STATUS_MAP(ROSTER_STATUS_ENUM)
#undef ROSTER_STATUS_ENUM
} roster_status_code;

/* Number of status codes (one past the largest). */
#define ROSTER_STATUS_ONE(name, number) +1
enum { ROSTER_STATUS__COUNT = 0 ROSTER_STATUS_MAP(ROSTER_STATUS_ONE) };
#undef ROSTER_STATUS_ONE

/* The errors. Each row gives the status the error is answered with (a
 * name from ROSTER_STATUS_MAP) and a message for people. The first rows
 * are named after the status they carry: a status received from a peer
 * becomes the first error in the table that carries it (INTERNAL when
 * none does), so keep those rows first.
 * X(NAME, STATUS, message) */
#define ROSTER_ERROR_MAP(X)                                                                        \
    X(OK, OK, "ok")                                                                                \
    X(CANCELLED, CANCELLED, "operation cancelled")                                                 \
    X(INVALID_ARGUMENT, INVALID_ARGUMENT, "invalid argument")                                      \
    X(DEADLINE_EXCEEDED, DEADLINE_EXCEEDED, "deadline exceeded")                                   \
    X(NOT_FOUND, NOT_FOUND, "not found")                                                           \
    X(ALREADY_EXISTS, ALREADY_EXISTS, "already exists")                                            \
    X(PERMISSION_DENIED, PERMISSION_DENIED, "permission denied")                                   \
    X(RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED, "resource exhausted")                                \
    X(FAILED_PRECONDITION, FAILED_PRECONDITION, "failed precondition")                             \
    X(OUT_OF_RANGE, OUT_OF_RANGE, "value out of range")                                            \
    X(UNIMPLEMENTED, UNIMPLEMENTED, "unknown method")                                              \
    X(INTERNAL, INTERNAL, "internal error")                                                        \
    X(UNAVAILABLE, UNAVAILABLE, "service unavailable")                                             \
    X(UNAUTHENTICATED, UNAUTHENTICATED, "unauthenticated")                                         \
    X(NOMEM, RESOURCE_EXHAUSTED, "out of memory")                                                  \
    X(IO, INTERNAL, "input/output error")                                                          \
    X(CORRUPT, INTERNAL, "stored data is corrupt")                                                 \
    X(VERSION, FAILED_PRECONDITION, "unsupported store schema version")                            \
    X(MAP_FULL, RESOURCE_EXHAUSTED, "store map is full")                                           \
    X(PROTOCOL, INVALID_ARGUMENT, "malformed message")                                             \
    X(TOO_LARGE, RESOURCE_EXHAUSTED, "message too large")                                          \
    X(LIMIT, INVALID_ARGUMENT, "limit exceeded")                                                   \
    X(PARSE, INVALID_ARGUMENT, "syntax error")                                                     \
    X(VALIDATION, INVALID_ARGUMENT, "validation failed")                                           \
    X(CLOSED, UNAVAILABLE, "closed")                                                               \
    X(BUSY, UNAVAILABLE, "busy")

typedef enum roster_err {
#define ROSTER_ERR_ENUM(name, status, msg) ROSTER_E_##name,
    ROSTER_ERROR_MAP(ROSTER_ERR_ENUM)
#undef ROSTER_ERR_ENUM
        ROSTER_E__COUNT
} roster_err;

/* Static, never NULL; "unknown error" for codes outside the table. */
const char *roster_strerror(int err);

/* Symbolic name ("NOT_FOUND"); static, never NULL. */
const char *roster_errname(int err);

/* The status an error is answered with (ROSTER_STATUS_OK for
 * ROSTER_E_OK, ROSTER_STATUS_UNKNOWN for codes outside the table). */
int roster_err_to_status(int err);

/* The error that best represents a status received from a peer: the first
 * error carrying it, ROSTER_E_INTERNAL for statuses none carries and for
 * numbers outside the status table. */
int roster_err_from_status(int status);

/* Name of a status code ("NOT_FOUND"); static, never NULL; "UNKNOWN" for
 * numbers outside the table. */
const char *roster_status_name(int status);

/* True when `status` is a number in the status table. */
bool roster_status_valid(int status);

/* Detail for an error that concerns one input field. Fixed-size so it can
 * live on the stack; text is truncated, always NUL-terminated. A NULL
 * detail pointer is accepted everywhere and means "caller does not care". */
typedef struct roster_err_detail {
    char field[64];    /* GraphQL-style name ("email"), "" when not one field */
    char message[256]; /* "email is already used in this tenant" */
} roster_err_detail;

/* The detail field of a ROSTER_E_MAP_FULL answer: the option that sizes
 * the store's map. A RESOURCE_EXHAUSTED reply whose violation names it
 * means the storage is full (an operator must act), not a passing
 * overload. */
#define ROSTER_MAP_FULL_FIELD "map-size"

/* The detail field of a reply refused for its size (ROSTER_E_TOO_LARGE,
 * RESOURCE_EXHAUSTED): the reply would pass the reply limit
 * (ROSTER_MAX_REPLY_BODY); the caller asks for fewer records or fewer
 * fields and tries again. */
#define ROSTER_REPLY_LIMIT_FIELD "reply-limit"

/* Fills d (if not NULL) and returns err, so callers can write
 * `return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "email", "...%s", x);` */
int roster_fail(roster_err_detail *d, int err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
