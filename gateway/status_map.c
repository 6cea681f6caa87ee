#include "status_map.h"

#include <string.h>

#include "error.h"

const char *gw_status_gql_code(int grpc_status)
{
    switch (grpc_status) {
    case ROSTER_STATUS_INVALID_ARGUMENT:
    case ROSTER_STATUS_OUT_OF_RANGE:
    case ROSTER_STATUS_FAILED_PRECONDITION:
        return "BAD_USER_INPUT";
    case ROSTER_STATUS_DEADLINE_EXCEEDED:
        return "DEADLINE_EXCEEDED";
    case ROSTER_STATUS_NOT_FOUND:
        return "NOT_FOUND";
    case ROSTER_STATUS_ALREADY_EXISTS:
        return "ALREADY_EXISTS";
    case ROSTER_STATUS_PERMISSION_DENIED:
        return "FORBIDDEN";
    case ROSTER_STATUS_RESOURCE_EXHAUSTED:
    case ROSTER_STATUS_UNAVAILABLE:
        return "UNAVAILABLE";
    case ROSTER_STATUS_UNAUTHENTICATED:
        return "UNAUTHENTICATED";
    default:
        return "INTERNAL_SERVER_ERROR";
    }
}

static const struct {
    const char *code;
    int status;
} http_codes[] = {
    {"BAD_USER_INPUT", 400},
    {"GRAPHQL_PARSE_FAILED", 400},
    {"GRAPHQL_VALIDATION_FAILED", 400},
    {"OPERATION_RESOLUTION_FAILURE", 400},
    {"BAD_REQUEST", 400},
    {"UNAUTHENTICATED", 401},
    {"FORBIDDEN", 403},
    {"NOT_FOUND", 404},
    {"ALREADY_EXISTS", 409},
    {"PAYLOAD_TOO_LARGE", 413},
    {"UNAVAILABLE", 503},
    {"DEADLINE_EXCEEDED", 504},
    {GW_CODE_STORAGE_FULL, 507},
    {GW_CODE_REPLY_TOO_LARGE, 400},
};

int gw_code_http_status(const char *code)
{
    if (code == NULL)
        return 500;
    for (size_t i = 0; i < sizeof http_codes / sizeof http_codes[0]; i++)
        if (strcmp(code, http_codes[i].code) == 0)
            return http_codes[i].status;
    return 500;
}

void gw_error_ext(gql_jw *w, const char *code, const char *message, size_t message_len, void *ud)
{
    (void)ud;
    if (code == NULL)
        code = "INTERNAL_SERVER_ERROR";
    gql_jw_keyz(w, "response");
    gql_jw_object_begin(w);
    gql_jw_keyz(w, "statusCode");
    gql_jw_int(w, gw_code_http_status(code));
    gql_jw_keyz(w, "errorCode");
    gql_jw_stringz(w, code);
    gql_jw_keyz(w, "message");
    gql_jw_string(w, message ? message : "", message ? message_len : 0);
    gql_jw_object_end(w);
}
