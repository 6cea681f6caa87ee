/* Roster's one error enum. Every module returns these codes; foreign codes
 * (MDB_*, NNG_*, errno) are translated where they are met.
 *
 * The table gives each code its gRPC status number (what travels in an RPC
 * reply) and a message for people. */
#ifndef ROSTER_ERROR_H
#define ROSTER_ERROR_H

/* X(NAME, grpc_status, message) */
#define ROSTER_ERROR_MAP(X)                                                                        \
    X(OK, 0, "ok")                                                                                 \
    X(CANCELLED, 1, "operation cancelled")                                                         \
    X(INVALID_ARGUMENT, 3, "invalid argument")                                                     \
    X(DEADLINE_EXCEEDED, 4, "deadline exceeded")                                                   \
    X(NOT_FOUND, 5, "not found")                                                                   \
    X(ALREADY_EXISTS, 6, "already exists")                                                         \
    X(PERMISSION_DENIED, 7, "permission denied")                                                   \
    X(RESOURCE_EXHAUSTED, 8, "resource exhausted")                                                 \
    X(FAILED_PRECONDITION, 9, "failed precondition")                                               \
    X(OUT_OF_RANGE, 11, "value out of range")                                                      \
    X(UNIMPLEMENTED, 12, "unknown method")                                                         \
    X(INTERNAL, 13, "internal error")                                                              \
    X(UNAVAILABLE, 14, "service unavailable")                                                      \
    X(UNAUTHENTICATED, 16, "unauthenticated")                                                      \
    X(NOMEM, 8, "out of memory")                                                                   \
    X(IO, 13, "input/output error")                                                                \
    X(CORRUPT, 13, "stored data is corrupt")                                                       \
    X(VERSION, 9, "unsupported store schema version")                                              \
    X(MAP_FULL, 8, "store map is full")                                                            \
    X(PROTOCOL, 3, "malformed message")                                                            \
    X(TOO_LARGE, 8, "message too large")                                                           \
    X(LIMIT, 3, "limit exceeded")                                                                  \
    X(PARSE, 3, "syntax error")                                                                    \
    X(VALIDATION, 3, "validation failed")                                                          \
    X(CLOSED, 14, "closed")                                                                        \
    X(BUSY, 14, "busy")

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

/* gRPC status code number for an error (0 for ROSTER_E_OK). */
int roster_err_to_status(int err);

/* The error that best represents a gRPC status code received from a peer. */
int roster_err_from_status(int status);

/* Name of a gRPC status code ("NOT_FOUND"); static, never NULL. */
const char *roster_status_name(int status);

/* Detail for an error that concerns one input field. Fixed-size so it can
 * live on the stack; text is truncated, always NUL-terminated. A NULL
 * detail pointer is accepted everywhere and means "caller does not care". */
typedef struct roster_err_detail {
    char field[64];    /* GraphQL-style name ("email"), "" when not one field */
    char message[256]; /* "email is already used in this tenant" */
} roster_err_detail;

/* Fills d (if not NULL) and returns err, so callers can write
 * `return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "email", "...%s", x);` */
int roster_fail(roster_err_detail *d, int err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
