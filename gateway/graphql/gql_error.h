/* A list of GraphQL errors (parse, validation and request errors) with
 * their messages, locations and extensions.code. The list owns all of its
 * memory in its own arena. */
#ifndef ROSTER_GQL_ERROR_H
#define ROSTER_GQL_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "arena.h"
#include "gql_json.h"
#include "gql_value.h"

/* extensions.code values the engine produces. */
#define GQL_CODE_PARSE_FAILED         "GRAPHQL_PARSE_FAILED"
#define GQL_CODE_VALIDATION_FAILED    "GRAPHQL_VALIDATION_FAILED"
#define GQL_CODE_BAD_USER_INPUT       "BAD_USER_INPUT"
#define GQL_CODE_OPERATION_RESOLUTION "OPERATION_RESOLUTION_FAILURE"
#define GQL_CODE_INTERNAL             "INTERNAL_SERVER_ERROR"

typedef struct gql_error gql_error;
struct gql_error {
    gql_error *next;
    const char *message; /* NUL-terminated, owned by the list */
    size_t message_len;
    const char *code;        /* extensions.code, static or owned by the list */
    gql_location *locations; /* owned by the list */
    uint32_t n_locations;
};

typedef struct gql_errors {
    gql_error *head;
    gql_error *tail;
    size_t count;
    size_t max;         /* further errors are dropped past this (0 = 100) */
    int nomem;          /* an error could not be recorded */
    roster_arena arena; /* owns messages, locations and the nodes */
} gql_errors;

/* Empty list; allocates nothing until the first error. */
void gql_errors_init(gql_errors *e);

/* Releases all errors. Accepts NULL. The list may be initialised again. */
void gql_errors_free(gql_errors *e);

/* Appends an error with a printf-formatted message and up to n_locs
 * locations (copied). Returns the new error (owned by the list) or NULL
 * when out of memory or over `max`. */
gql_error *gql_errors_add(gql_errors *e, const char *code, const gql_location *locs,
                          uint32_t n_locs, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
gql_error *gql_errors_vadd(gql_errors *e, const char *code, const gql_location *locs,
                           uint32_t n_locs, const char *fmt, va_list ap);

/* Called while writing an error's "extensions" object, after "code", so a
 * caller can append members (the gateway adds "response"). `w` is inside
 * the extensions object: write key/value pairs only. */
typedef void (*gql_error_ext_fn)(gql_jw *w, const char *code, const char *message,
                                 size_t message_len, void *ud);

/* Writes one error object {"message","locations","extensions":{"code"}}. */
void gql_error_write(gql_jw *w, const gql_error *err, gql_error_ext_fn ext, void *ud);

/* Writes a whole request-error response {"errors":[...]} (no "data"). */
void gql_errors_write_response(gql_jw *w, const gql_errors *e, gql_error_ext_fn ext, void *ud);

#endif
