/* The gateway's HTTP front: libmicrohttpd, one daemon per event loop
 * (loop.h; external epoll mode, all daemons accepting from one listening
 * socket), so each loop thread owns the connections it accepted; one
 * handler per path, request bodies collected up to a size limit (413 past
 * it, Content-Length or chunked), and responses that may be sent later.
 * No loop ever waits for a response: a route callback keeps the gw_req and
 * answers it whenever its work completes (for GraphQL, when the RPC
 * replies are handed back to the loop); meanwhile the connection is
 * suspended, and the answer resumes it, to be sent on the loop's next
 * turn.
 *
 * Request objects come from a pool and are recycled when libmicrohttpd
 * has finished with the request. */
#ifndef ROSTER_GW_HTTP_SERVER_H
#define ROSTER_GW_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "loop.h"

typedef struct gw_http gw_http;
typedef struct gw_req gw_req;

/* Called on the loop thread that owns the connection, with a request whose body has been
 * read. The callee owns `r` until it calls gw_req_respond (exactly once,
 * from any thread, during the call or later). */
typedef void (*gw_route_fn)(gw_req *r, void *ud);

typedef struct gw_route {
    const char *path; /* "/graphql"; static or outliving the server */
    gw_route_fn fn;
    void *ud;
    int tree; /* also every path below path ("/graphiql/..."), when no other route is exact */
    /* CORS for this path (cors.h), borrowed until gw_http_free; NULL: none.
     * The server answers preflights itself and adds the CORS headers to
     * every other answer of the route. */
    const struct gw_cors *cors;
} gw_route;

/* What gw_http_start needs; strings are borrowed for the call. */
typedef struct gw_http_params {
    const char *listen_url;    /* http://host:port; port 0 picks one */
    const char *allowed_hosts; /* Host allowlist (below); NULL or "" for the defaults */
    size_t max_body;           /* bytes of a request body; larger gets 413 */
    unsigned max_conns;        /* open connections served; past it 503 (0 = 10000) */
    size_t conn_memory;        /* per-connection pool for the request line and headers
                                  (431/414 past it); 0 = GW_HTTP_CONN_MEMORY_DEFAULT */
    unsigned header_timeout_s; /* silence while a request is being read; 0 = 10 */
    unsigned idle_timeout_s;   /* an idle keep-alive connection is closed after; 0 = 60 */
} gw_http_params;

#define GW_HTTP_CONN_MEMORY_DEFAULT (4u * 1024u)

/* Starts serving p->listen_url with the given routes (every method goes to
 * the route; the route checks it); routes are copied. Bodies larger than
 * p->max_body get 413; a request with both Transfer-Encoding and
 * Content-Length gets 400, and a Transfer-Encoding other than chunked 501
 * (both with Connection: close).
 *
 * Host allowlist (DNS rebinding): a request whose Host header is missing
 * or not in `allowed_hosts` gets 421 Misdirected Request with a short
 * plain-text body and Connection: close before anything else is looked
 * at, on every path (paths without a route get 404 after the check).
 * allowed_hosts is a comma list of host or host:port
 * (IPv6 in brackets), compared without regard to case; an entry without a
 * port matches the host alone and the host with the port being served.
 * NULL or "" means the listen URL's host, localhost, 127.0.0.1 and [::1].
 *
 * Connections past p->max_conns are served one 503 with Retry-After and
 * Connection: close; the listener stops accepting a little above it. The
 * cap is lowered (and logged) to what RLIMIT_NOFILE allows. On success
 * *out is the running server, owned by the caller until gw_http_free.
 * Returns ROSTER_E_OK, ROSTER_E_INVALID_ARGUMENT (bad URL or host list,
 * too many routes), ROSTER_E_IO (cannot listen) or ROSTER_E_NOMEM, with
 * `detail` (may be NULL) saying why.
 *
 * The server runs on `loops` (borrowed until gw_http_free; not started
 * yet): one daemon per loop, watched by it, and a turn hook added, so
 * start the server before hooks that should run after libmicrohttpd's. */
int gw_http_start(gw_http **out, const gw_http_params *p, const gw_route *routes, size_t n_routes,
                  gw_loops *loops, roster_err_detail *detail);

/* The connection cap in force (p->max_conns, or lower when the descriptor
 * limit is). */
unsigned gw_http_max_conns(const gw_http *h);

/* The TCP port actually bound. */
int gw_http_port(const gw_http *h);

/* From now on new requests are answered 503 with Connection: close (the
 * listener stays open so new clients get that answer rather than a reset);
 * requests already admitted finish normally and their answers carry
 * Connection: close. Any thread. */
void gw_http_drain(gw_http *h);

/* Requests handed to a route and not yet answered. After gw_http_drain
 * returns it only goes down: a request is either refused or counted. Any
 * thread; h may be NULL (0). */
int64_t gw_http_inflight(const gw_http *h);

/* Stops listening, closes every connection (idle keep-alive ones at once)
 * and frees the server. Call after gw_loops_stop, when every gw_req handed
 * to a route has been answered (it waits up to 5 s for stragglers), and
 * not from an nng or HTTP callback. Accepts NULL. */
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
/* roster_mono_ns() when the request line had been read. */
int64_t gw_req_start_ns(const gw_req *r);
/* The client's address, "192.0.2.1:50000" or "[2001:db8::1]:50000"
 * ("unknown" when it cannot be read). */
const char *gw_req_peer(gw_req *r);

/* Answers r with `status`, a Content-Type (NULL for none), `len` bytes of
 * body (copied) and optional extra headers given as name/value pairs
 * (n_extra pairs in `extra`, copied; "Connection", "close" closes the
 * connection after the answer); a 204 gets no Content-Length, and a HEAD
 * request no body. r must not be used afterwards. Any thread. */
void gw_req_respond(gw_req *r, uint16_t status, const char *content_type, const char *body,
                    size_t len, const char *const *extra, size_t n_extra);

#endif
