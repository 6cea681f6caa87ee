#include "token_http.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "roster.pb-c.h"
#include "status_map.h"

#define CT_JSON "application/json; charset=utf-8"

/* One exchange between its request and the service's answer. */
typedef struct exchange {
    gw_req *req;
    gw_key key; /* the API key of the body, for the log; wiped at the end */
} exchange;

/* Answers {statusCode, errorCode, message}. */
static void fail(gw_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(gw_req *r, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int status = gw_code_http_status(code);
    json_t *o = json_pack("{s:i,s:s,s:s}", "statusCode", status, "errorCode", code, "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    const char *extra[2] = {"WWW-Authenticate", "Bearer realm=\"roster\""};
    if (body == NULL)
        gw_req_respond(r, 500, CT_JSON, "{}", 2, NULL, 0);
    else
        gw_req_respond(r, (uint16_t)status, CT_JSON, body, strlen(body), extra, status == 401);
    free(body);
    json_decref(o);
}

static void done(const gw_rpc_reply *reply, void *ud)
{
    exchange *x = ud;
    if (reply->status != ROSTER_STATUS_OK) {
        const char *code = gw_status_gql_code(reply->status);
        if (reply->status == ROSTER_STATUS_UNAUTHENTICATED)
            gw_auth_log_failure("rejected", x->key.token ? NULL : &x->key, gw_req_uri(x->req),
                                gw_req_peer(x->req), reply->message);
        fail(x->req, code, "%s",
             reply->status == ROSTER_STATUS_UNAUTHENTICATED
                 ? "the API key or the environment id is not valid"
                 : reply->message);
        goto out;
    }
    Roster__V1__AccessToken *t =
        roster__v1__access_token__unpack(NULL, reply->body_len, reply->body);
    json_t *o = t && t->access_token ? json_pack("{s:s,s:I}", "accessToken", t->access_token,
                                                 "expiresAt", (json_int_t)t->expires_at)
                                     : NULL;
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (body == NULL)
        fail(x->req, "INTERNAL_SERVER_ERROR", "the service's answer could not be read");
    else
        gw_req_respond(x->req, 200, CT_JSON, body, strlen(body), NULL, 0);
    if (body != NULL)
        roster_secure_wipe(body, strlen(body));
    free(body);
    json_decref(o);
    if (t != NULL)
        roster__v1__access_token__free_unpacked(t, NULL);
out:
    gw_key_wipe(&x->key);
    free(x);
}

/* A string member, or NULL with *bad set when it is there but not a string. */
static const char *member(json_t *o, const char *name, const char **bad)
{
    json_t *v = json_object_get(o, name);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = name;
        return NULL;
    }
    return json_string_value(v);
}

/* expiresIn as seconds: 0 when absent, -1 when it is malformed. */
static int64_t expires_in(json_t *v)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : -1;
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    char *end = NULL;
    long long n = strtoll(s, &end, 10);
    if (end == s || n <= 0 || n > 86400LL * 366)
        return -1;
    while (*end == ' ')
        end++;
    int64_t unit = strcmp(end, "") == 0 || strcmp(end, "s") == 0 ? 1
                   : strcmp(end, "m") == 0                       ? 60
                   : strcmp(end, "h") == 0                       ? 3600
                   : strcmp(end, "d") == 0                       ? 86400
                                                                 : -1;
    return unit < 0 ? -1 : (int64_t)n * unit;
}

static void exchange_route(gw_req *r, const gw_token_http *t, bool user)
{
    if (strcmp(gw_req_method(r), "POST") != 0) {
        static const char msg[] = "{\"statusCode\":405,\"errorCode\":\"BAD_REQUEST\","
                                  "\"message\":\"use POST\"}";
        const char *extra[2] = {"Allow", "POST"};
        gw_req_respond(r, 405, CT_JSON, msg, sizeof msg - 1, extra, 1);
        return;
    }
    const char *ct = gw_req_header(r, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
        fail(r, "BAD_REQUEST", "Content-Type must be application/json");
        return;
    }
    const char *body = NULL;
    size_t len = 0;
    gw_req_body(&body, &len, r);
    if (len > GW_TOKEN_MAX_BODY) {
        fail(r, "PAYLOAD_TOO_LARGE", "the body is %zu bytes; at most %d are accepted", len,
             GW_TOKEN_MAX_BODY);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL || !json_is_object(o)) {
        if (o == NULL)
            fail(r, "BAD_REQUEST", "the body is not valid JSON: %s (line %d, column %d)", je.text,
                 je.line, je.column);
        else
            fail(r, "BAD_REQUEST", "the body must be a JSON object");
        json_decref(o);
        return;
    }
    const char *bad = NULL;
    const char *env = member(o, "environmentId", &bad);
    const char *key = member(o, "apiKey", &bad);
    const char *uid = user ? member(o, "userId", &bad) : NULL;
    if (!user)
        member(o, "email", &bad);
    int64_t ttl = user ? expires_in(json_object_get(o, "expiresIn")) : 0;
    exchange *x = NULL;
    if (bad != NULL)
        fail(r, "BAD_USER_INPUT", "%s must be a string", bad);
    else if (env == NULL || key == NULL || (user && uid == NULL))
        fail(r, "BAD_USER_INPUT", "%s is required",
             env == NULL   ? "environmentId"
             : key == NULL ? "apiKey"
                           : "userId");
    else if (ttl < 0 || ttl > 86400)
        fail(r, "BAD_USER_INPUT",
             "expiresIn must be seconds from 1 to 86400: a number, or a string such as "
             "\"3600\", \"60m\", \"1h\"");
    else if ((x = calloc(1, sizeof *x)) == NULL)
        fail(r, "INTERNAL_SERVER_ERROR", "out of memory");
    if (x == NULL) {
        json_decref(o);
        return;
    }
    x->req = r;
    x->key.token = roster_apikey_parse(&x->key.id, x->key.hash, key, strlen(key)) != ROSTER_E_OK;
    int64_t deadline = gw_req_start_ns(r) + (int64_t)t->timeout_ms * 1000000;
    if (user) {
        Roster__V1__IssueUserTokenRequest q = ROSTER__V1__ISSUE_USER_TOKEN_REQUEST__INIT;
        q.environment_id = (char *)env;
        q.user_id = (char *)uid;
        q.has_expires_in_seconds = ttl > 0;
        q.expires_in_seconds = ttl;
        gw_upstream_call(t->up, RPC_ISSUE_USER_TOKEN, &q.base, deadline, key, done, x);
    } else {
        Roster__V1__IssueServiceTokenRequest q = ROSTER__V1__ISSUE_SERVICE_TOKEN_REQUEST__INIT;
        q.environment_id = (char *)env;
        gw_upstream_call(t->up, RPC_ISSUE_SERVICE_TOKEN, &q.base, deadline, key, done, x);
    }
    json_decref(o);
}

void gw_token_service_route(gw_req *r, void *ud)
{
    exchange_route(r, ud, false);
}

void gw_token_user_route(gw_req *r, void *ud)
{
    exchange_route(r, ud, true);
}
