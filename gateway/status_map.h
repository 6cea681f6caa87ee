/* How upstream RPC statuses become GraphQL errors, and the ROQ-compatible
 * `extensions.response` object every error carries. */
#ifndef ROSTER_GW_STATUS_MAP_H
#define ROSTER_GW_STATUS_MAP_H

#include <stddef.h>

#include "gql_json.h"

/* extensions.code of a write refused because the user service's storage
 * is full (RESOURCE_EXHAUSTED naming ROSTER_MAP_FULL_FIELD); HTTP-style
 * status 507 (Insufficient Storage). */
#define GW_CODE_STORAGE_FULL "STORAGE_FULL"

/* extensions.code of a read whose reply would pass the reply limit
 * (RESOURCE_EXHAUSTED naming ROSTER_REPLY_LIMIT_FIELD): the caller selects
 * fewer fields or asks for fewer records; HTTP-style status 400, since
 * only a different request succeeds. */
#define GW_CODE_REPLY_TOO_LARGE "REPLY_TOO_LARGE"

/* extensions.code for a gRPC status (INVALID_ARGUMENT → "BAD_USER_INPUT",
 * PERMISSION_DENIED → "FORBIDDEN", INTERNAL/unknown → "INTERNAL_SERVER_ERROR",
 * ...). Static string. */
const char *gw_status_gql_code(int grpc_status);

/* The HTTP-style status number ROQ clients expect for an extensions.code
 * (BAD_USER_INPUT 400, NOT_FOUND 404, ALREADY_EXISTS 409, FORBIDDEN 403,
 * UNAUTHENTICATED 401, UNAVAILABLE 503, DEADLINE_EXCEEDED 504,
 * STORAGE_FULL 507, REPLY_TOO_LARGE 400, else 500). */
int gw_code_http_status(const char *code);

/* gql_error_ext_fn: writes "response": {"statusCode","errorCode","message"}
 * inside an error's extensions object. `ud` is unused. */
void gw_error_ext(gql_jw *w, const char *code, const char *message, size_t message_len, void *ud);

#endif
