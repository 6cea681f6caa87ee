/* The parameters of a GraphQL-over-HTTP request (query, variables,
 * operationName, extensions) read from a GET query string or a POST JSON
 * body, and the response media type negotiated from Accept. Every
 * malformed input gets an HTTP status and a message naming what was
 * wrong. */
#ifndef ROSTER_GW_REQUEST_PARAMS_H
#define ROSTER_GW_REQUEST_PARAMS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Parameters of one request. Zero-initialise, fill with one of the
 * gw_params_from_* functions, release with gw_params_free (also after a
 * failure). Strings point into memory the struct owns. */
typedef struct gw_params {
    json_t *root;       /* POST body (owned) */
    json_t *variables;  /* object or NULL (borrowed from root or owned_vars) */
    json_t *owned_vars; /* GET variables (owned) */
    const char *query;  /* not NUL-terminated for GET; query_len bytes */
    size_t query_len;
    const char *op_name; /* NULL: none given (or "") */
    size_t op_name_len;
    char *get_buf; /* decoded GET parameters (owned) */
} gw_params;

/* The quality the Accept header `accept` gives the media type `type`
 * ("application/json"): the q of the most specific matching range, 0 when
 * none matches. *exact is set to 1 when a range names the type itself, else
 * 0. Both strings are borrowed for the call. */
double gw_accept_quality(const char *accept, const char *type, int *exact);

/* The response media type for an Accept header (NULL = absent):
 * 1 application/graphql-response+json (asked for by name, with a q-value
 * at least application/json's), 0 application/json, -1 neither is
 * acceptable. */
int gw_negotiate(const char *accept);

/* Reads the query string of `uri` (NUL-terminated request target,
 * borrowed for the call). Returns 0, or the HTTP status to answer with
 * (400, 503) and `detail` (may be NULL) naming the parameter and saying
 * what was wrong. These two return an HTTP status rather than a ROSTER_E_*
 * code: choosing the status is their job. */
int gw_params_from_get(gw_params *p, const char *uri, roster_err_detail *detail);

/* Reads a POST body of `len` bytes (borrowed for the call) sent with
 * Content-Type `content_type` (NULL = none). Returns 0, or 400 (malformed
 * body or parameters) / 415 (not application/json in UTF-8) with
 * `detail`. */
int gw_params_from_post(gw_params *p, const char *content_type, const char *body, size_t len,
                        roster_err_detail *detail);

/* Releases what p owns. Accepts NULL. */
void gw_params_free(gw_params *p);

#endif
