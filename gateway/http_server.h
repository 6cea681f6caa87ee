/* The gateway's HTTP front: nng's HTTP server with one handler per path,
 * request bodies read with a size limit (413 past it), and responses that
 * may be sent later from any thread. No nng thread ever waits for a
 * response: a route callback keeps the gw_req and answers it whenever its
 * work completes (for GraphQL, from an RPC callback).
 *
 * Request objects come from a pool and carry their own nng aio for reading
 * the body, so nothing is freed inside an aio callback. */
#ifndef ROSTER_GW_HTTP_SERVER_H
#define ROSTER_GW_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct gw_http gw_http;
typedef struct gw_req gw_req;

/* Called on an nng thread with a request whose body has been read. The
 * callee owns `r` until it calls gw_req_respond (exactly once, from any
 * thread). */
typedef void (*gw_route_fn)(gw_req *r, void *ud);

typedef struct gw_route {
    const char *path; /* "/graphql"; copied by nng */
    gw_route_fn fn;
    void *ud;
    int tree; /* also every path below path ("/graphiql/..."), when no other route is exact */
    /* CORS for this path (cors.h), borrowed until gw_http_free; NULL: none.
     * The server answers preflights itself and adds the CORS headers to
     * every other answer of the route. */
    const struct gw_cors *cors;
} gw_route;

/* Starts serving `listen_url` (http://host:port; port 0 picks one) with the
 * given routes (every method goes to the route; the route checks it).
 * listen_url and allowed_hosts are borrowed for the call; routes are
 * copied. Bodies larger than max_body get 413.
 *
 * Host allowlist (DNS rebinding): a request whose Host header is missing
 * or not in `allowed_hosts` gets 421 Misdirected Request with a short
 * plain-text body and Connection: close before anything else is looked
 * at, on every path (paths without a route get 404 after the check).
 * allowed_hosts is a comma list of host or host:port
 * (IPv6 in brackets), compared without regard to case; an entry without a
 * port matches the host alone and the host with the port being served.
 * NULL or "" means the listen URL's host, localhost, 127.0.0.1 and [::1]. On success *out is the
 * running server, owned by the caller until gw_http_free. Returns ROSTER_E_OK,
 * ROSTER_E_INVALID_ARGUMENT (bad URL or host list, too many routes), ROSTER_E_IO
 * (cannot listen) or ROSTER_E_NOMEM, with `detail` (may be NULL) saying
 * why. */
int gw_http_start(gw_http **out, const char *listen_url, const char *allowed_hosts, size_t max_body,
                  const gw_route *routes, size_t n_routes, roster_err_detail *detail);

/* The TCP port actually bound. */
int gw_http_port(const gw_http *h);

/* From now on new requests are answered 503 with Connection: close;
 * requests already admitted finish normally. Any thread. */
void gw_http_drain(gw_http *h);

/* Stops the server (closing every connection) and frees it. Call when no
 * gw_req is outstanding, and not from an nng callback. Accepts NULL. */
void gw_http_free(gw_http *h);

/* --- Request accessors; results are borrowed from r until it is answered. */
const char *gw_req_method(const gw_req *r);
/* The request target as sent ("/graphql?query=..."). */
const char *gw_req_uri(const gw_req *r);
/* A header value (case-insensitive name) or NULL. */
const char *gw_req_header(const gw_req *r, const char *name);
/* The body in *body and *len (not NUL-terminated; NULL with len 0 when
 * there is none). */
void gw_req_body(const char **body, size_t *len, const gw_req *r);
/* roster_mono_ns() when the request's headers had been read. */
int64_t gw_req_start_ns(const gw_req *r);

/* Answers r with `status`, a Content-Type (NULL for none), `len` bytes of
 * body (copied) and optional extra headers given as name/value pairs
 * (n_extra pairs in `extra`, copied); a 204 gets no Content-Length, and
 * a HEAD request no body. r must not be used afterwards. Any thread. */
void gw_req_respond(gw_req *r, uint16_t status, const char *content_type, const char *body,
                    size_t len, const char *const *extra, size_t n_extra);

#endif
