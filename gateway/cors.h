/* CORS for the gateway's API paths (/graphql, /v01/server/graphql,
 * /v01/authorize...): which origins may read answers and send the
 * Authorization header from a page of theirs. A configured list of exact
 * origins; none by default. No credentials mode: the gateway uses no
 * cookies, and a key travels in a header the page sets itself.
 *
 * The decision is a pure function of the method and the request's Origin
 * and Access-Control-Request-* headers; the HTTP front answers a preflight
 * with it, or adds its headers to the route's answer. CORS says which
 * pages may read an answer: it is not authentication (the API paths
 * require a key whatever the origin). */
#ifndef ROSTER_GW_CORS_H
#define ROSTER_GW_CORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct gw_cors gw_cors;

/* Most origins in one list. */
#define GW_CORS_MAX_ORIGINS 32

/* Reads `origins` (borrowed for the call): a comma list of exact origins,
 * scheme://host[:port] with http or https, no path, no wildcard; NULL or ""
 * for none (no page from another origin gets CORS headers). On success *out
 * is owned by the caller until gw_cors_free. ROSTER_E_INVALID_ARGUMENT with
 * `detail` (field "cors-origins") for a malformed entry, "*", "null" or more
 * than GW_CORS_MAX_ORIGINS; ROSTER_E_NOMEM. */
int gw_cors_new(gw_cors **out, const char *origins, roster_err_detail *detail);

/* Accepts NULL. */
void gw_cors_free(gw_cors *c);

/* Whether any origin is configured. c may be NULL (none). */
int gw_cors_enabled(const gw_cors *c);

/* What to do about CORS for one request. headers holds n_headers
 * name/value pairs (2 * n_headers strings): static strings, or the
 * request's Origin value (borrowed from the request, valid as long as
 * it is). */
typedef struct gw_cors_answer {
    int preflight;   /* 1: answer now with `status` and headers, no route runs */
    uint16_t status; /* preflight only: 204 granted, 403 refused */
    const char *headers[10];
    size_t n_headers;
} gw_cors_answer;

/* Decides for a request with `method`, and the values (NULL when absent)
 * of Origin, Access-Control-Request-Method and
 * Access-Control-Request-Headers; c may be NULL (none configured).
 *
 * A preflight is OPTIONS with Origin and Access-Control-Request-Method. It
 * is granted (204) when the origin is listed, the method is GET, POST or
 * OPTIONS (HEAD too) and every requested header is content-type,
 * authorization, roq-platform-authorization or
 * roq-platform-server-authorization (any case): Access-Control-Allow-Origin
 * (the request's origin), -Allow-Methods, -Allow-Headers, -Max-Age and
 * Vary: Origin. Otherwise it is refused with 403 and no Access-Control-*
 * header.
 *
 * Any other request is left to its route (preflight 0); when the origin is
 * listed the answer gets Access-Control-Allow-Origin and Vary: Origin.
 * When origins are configured every answer gets Vary: Origin (a cache must
 * not give one origin's answer to another); with none configured nothing
 * is added. All arguments are borrowed for the call. */
void gw_cors_decide(gw_cors_answer *out, const gw_cors *c, const char *method, const char *origin,
                    const char *request_method, const char *request_headers);

#endif
