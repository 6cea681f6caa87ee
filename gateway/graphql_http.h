/* GraphQL over HTTP (the GraphQL-over-HTTP specification, as the
 * graphql-http server audits check it): reads the request from POST JSON
 * bodies or GET query strings, negotiates application/graphql-response+json
 * or application/json, prepares the document through the cache, refuses
 * mutations over GET (405, Allow: POST), runs the operation asynchronously
 * and answers with the status codes the media type calls for.
 *
 * Every request needs an API key or an access token (Authorization: Bearer,
 * or roq-platform-authorization: Bearer as the ROQ SDK sends it), verified through
 * gw_auth before anything else is read; a missing or invalid key gets 401
 * with WWW-Authenticate: Bearer and an UNAUTHENTICATED error. The key is
 * the credential of every upstream call the request makes, so roster-users
 * decides what it may read and change. */
#ifndef ROSTER_GW_GRAPHQL_HTTP_H
#define ROSTER_GW_GRAPHQL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "graphql.h"
#include "http_server.h"
#include "resolvers.h"

typedef struct gw_graphql gw_graphql;

typedef struct gw_graphql_params {
    const gql_schema *schema;      /* borrowed; outlives the service */
    gql_cache *cache;              /* borrowed; NULL: parse every request */
    const gql_limits *limits;      /* used when cache is NULL; copied */
    const gw_resolvers *resolvers; /* borrowed */
    gw_auth *auth;                 /* borrowed; verifies every request's API key */
    uint32_t max_inflight;         /* concurrent requests; more get 503 */
    uint32_t timeout_ms;           /* per-request deadline */
} gw_graphql_params;

/* A new service (*out, free with gw_graphql_free). ROSTER_E_OK or
 * ROSTER_E_NOMEM. */
int gw_graphql_new(gw_graphql **out, const gw_graphql_params *p);

/* Accepts NULL. No request may be running. */
void gw_graphql_free(gw_graphql *g);

/* The /graphql route (gw_route_fn); ud is the gw_graphql. */
void gw_graphql_route(gw_req *r, void *ud);

/* Requests currently admitted and not yet answered. */
int64_t gw_graphql_inflight(const gw_graphql *g);

#endif
