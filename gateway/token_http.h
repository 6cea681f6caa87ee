/* The token exchange of the ROQ platform API, as the ROQ Node SDK calls it:
 *
 *   POST /v01/authorize/serviceAccount {email, environmentId, apiKey}
 *        -> {accessToken, expiresAt}: a service token for the API key
 *   POST /v01/authorize {environmentId, apiKey, userId, expiresIn}
 *        -> {accessToken, expiresAt}: a user token for userId
 *
 * Bodies are JSON objects (Content-Type application/json) of at most
 * GW_TOKEN_MAX_BODY bytes. The API key in the body is the credential of
 * the IssueServiceToken / IssueUserToken call, so roster-users decides
 * (the environment id, the key's validity, its role and tenant for the
 * user). expiresIn is seconds: a number, or a string of digits with an
 * optional unit s, m, h or d ("3600", "60m", "1h"); default one hour, at
 * most 24 h. Errors are JSON {statusCode, errorCode, message} with the
 * HTTP status of statusCode; a refused key or environment id gets 401 and
 * an event=auth_failed line. */
#ifndef ROSTER_GW_TOKEN_HTTP_H
#define ROSTER_GW_TOKEN_HTTP_H

#include <stdint.h>

#include "http_server.h"
#include "upstream.h"

#define GW_TOKEN_MAX_BODY 16384

typedef struct gw_token_http {
    gw_upstream *up;     /* borrowed; outlives the routes */
    uint32_t timeout_ms; /* deadline of each exchange */
} gw_token_http;

/* gw_route_fn for /v01/authorize/serviceAccount; ud is a gw_token_http. */
void gw_token_service_route(gw_req *r, void *ud);

/* gw_route_fn for /v01/authorize; ud is a gw_token_http. */
void gw_token_user_route(gw_req *r, void *ud);

#endif
