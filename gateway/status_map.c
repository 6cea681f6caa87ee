#include "status_map.h"

#include <string.h>

const char *gw_status_gql_code(int grpc_status)
{
    switch (grpc_status) {
    case 3:  /* INVALID_ARGUMENT */
    case 11: /* OUT_OF_RANGE */
    case 9:  /* FAILED_PRECONDITION */
        return "BAD_USER_INPUT";
    case 4:
        return "DEADLINE_EXCEEDED";
    case 5:
        return "NOT_FOUND";
    case 6:
        return "ALREADY_EXISTS";
    case 7:
        return "FORBIDDEN";
    case 8: /* RESOURCE_EXHAUSTED */
    case 14:
        return "UNAVAILABLE";
    case 16:
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
    {"UNAVAILABLE", 503},
    {"DEADLINE_EXCEEDED", 504},
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
