/* GraphiQL, served by the gateway itself: the page (at a GraphQL path, for
 * a browser asking for HTML without a query) and its assets under
 * /graphiql/ (GraphiQL, React and React DOM from the npm packages pinned in
 * gateway/graphiql/package-lock.json, copied into gateway/graphiql/vendor/
 * and compiled in). Nothing is fetched from anywhere else.
 *
 * The decisions are pure functions of the method, the request target and
 * Accept, so any HTTP front can answer with them; gw_graphiql_route wires
 * them into gateway/http_server.h. The page and the assets are public: the
 * page sends the API key the user types into its headers editor, and the
 * GraphQL paths still require one. */
#ifndef ROSTER_GW_GRAPHIQL_H
#define ROSTER_GW_GRAPHIQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_server.h"

/* An answer decided without I/O. Every pointer is static. headers holds
 * n_headers name/value pairs (2 * n_headers strings). */
typedef struct gw_static_answer {
    uint16_t status;
    const char *content_type;
    const char *body;
    size_t len;
    const char *headers[12];
    size_t n_headers;
} gw_static_answer;

/* The prefix the assets are served under ("/graphiql"); static. */
extern const char gw_graphiql_prefix[];

/* Whether a request to a GraphQL path is a browser asking for the page:
 * GET or HEAD, no `query` parameter in `uri` (the request target), and
 * `accept` (NULL when absent) giving text/html a higher quality than both
 * GraphQL response media types (a tie goes to them unless only text/html
 * is named outright). A GET with a query is a GraphQL request whatever it
 * accepts. All arguments are borrowed for the call. */
bool gw_graphiql_page_wanted(const char *method, const char *uri, const char *accept);

/* The page: 200, text/html, no-cache, and a Content-Security-Policy that
 * allows scripts, styles and requests to the gateway's own origin only. */
void gw_graphiql_page(gw_static_answer *out);

/* The answer for `method` on `uri` (a path under gw_graphiql_prefix, with
 * or without a query string): the asset with its content type and cache
 * headers (versioned vendor files are immutable for a year, the rest
 * no-cache), 404 for an unknown path, 405 with Allow for methods other
 * than GET and HEAD. Borrowed for the call. */
void gw_graphiql_asset(gw_static_answer *out, const char *method, const char *uri);

/* Answers r with a (a HEAD request gets the headers alone). */
void gw_static_answer_send(gw_req *r, const gw_static_answer *a);

/* gw_route_fn for gw_graphiql_prefix (a tree route); ud is unused. */
void gw_graphiql_route(gw_req *r, void *ud);

#endif
