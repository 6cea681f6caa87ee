/* The gateway's HTTP front (http_server.c) on a real loopback socket:
 * bodies, the size limit, chunked bodies and framing refusals, answers
 * from another thread,
 * keep-alive with pooled requests, draining, the Host allowlist, prefix
 * routes, CORS preflights and headers, empty bodies; plus the status
 * mapping and the metrics text. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cors.h"
#include "error.h"
#include "http_server.h"
#include "loop.h"
#include "metrics.h"
#include "status_map.h"

static void *answer_later(void *arg)
{
    gw_req *r = arg;
    usleep(2000);
    const char *body = NULL;
    size_t len = 0;
    gw_req_body(&body, &len, r);
    const char *hdr[] = {"X-Method", gw_req_method(r)};
    char copy[64];
    snprintf(copy, sizeof copy, "%s", hdr[1]);
    hdr[1] = copy;
    gw_req_respond(r, 200, "text/plain", body, len, hdr, 1);
    return NULL;
}

/* Answers from a new thread, after the handler has returned. */
static void echo_route(gw_req *r, void *ud)
{
    (void)ud;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, answer_later, r), 0);
    pthread_detach(t);
}

static void hello_route(gw_req *r, void *ud)
{
    (void)ud;
    const char *ct = gw_req_header(r, "X-Test");
    gw_req_respond(r, 201, "text/plain", ct ? ct : "none", ct ? strlen(ct) : 4, NULL, 0);
}

static gw_http *h;

/* The loops of each running server (a test runs at most a few). */
static struct {
    gw_http *h;
    gw_loops *loops;
} running[4];

/* Starts a server on an ephemeral loopback port, on two loops of its own. */
static int start(gw_http **out, const char *hosts, size_t max_body, const gw_route *routes,
                 size_t n, roster_err_detail *d)
{
    gw_http_params p = {.listen_url = "http://127.0.0.1:0",
                        .allowed_hosts = hosts,
                        .max_body = max_body,
                        .max_conns = 64};
    gw_loops *loops = NULL;
    ck_assert_int_eq(gw_loops_new(&loops, 2), ROSTER_E_OK);
    int rc = gw_http_start(out, &p, routes, n, loops, d);
    if (rc != ROSTER_E_OK) {
        gw_loops_free(loops);
        return rc;
    }
    ck_assert_int_eq(gw_loops_start(loops), ROSTER_E_OK);
    for (size_t i = 0; i < 4; i++)
        if (running[i].h == NULL) {
            running[i].h = *out;
            running[i].loops = loops;
            return rc;
        }
    ck_abort_msg("too many servers");
    return rc;
}

/* Stops the loops of x, then frees it and them. */
static void stop(gw_http *x)
{
    for (size_t i = 0; i < 4; i++)
        if (running[i].h == x) {
            gw_loops_stop(running[i].loops);
            gw_http_free(x);
            gw_loops_free(running[i].loops);
            running[i].h = NULL;
            return;
        }
    ck_abort_msg("not a running server");
}

static void setup(void)
{
    gw_route routes[] = {{.path = "/echo", .fn = echo_route},
                         {.path = "/hello", .fn = hello_route}};
    roster_err_detail d = {{0}};
    ck_assert_int_eq(start(&h, "x,localhost", 1024, routes, 2, &d), ROSTER_E_OK);
    ck_assert_int_gt(gw_http_port(h), 0);
}

static void teardown(void)
{
    usleep(20000);
    stop(h);
    h = NULL;
}

/* Sends raw request text and reads until the server closes. */
static char *exchange(const char *req, size_t req_len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)gw_http_port(h))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    size_t off = 0;
    while (off < req_len) {
        ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    return buf;
}

static char *exchange_str(const char *req)
{
    return exchange(req, strlen(req));
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

START_TEST(body_answered_from_another_thread)
{
    char *r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                           "Connection: close\r\n\r\nhello");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(r, "X-Method: POST"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nhello"));
    free(r);
}
END_TEST

START_TEST(keep_alive_reuses_requests)
{
    char req[4096];
    int n = 0;
    for (int i = 0; i < 20; i++)
        n += snprintf(req + n, sizeof req - (size_t)n,
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n%s\r\nr%02d",
                      i == 19 ? "Connection: close\r\n" : "", i);
    char *r = exchange(req, (size_t)n);
    ck_assert_int_eq(count(r, "HTTP/1.1 200"), 20);
    ck_assert_ptr_nonnull(strstr(r, "r00"));
    ck_assert_ptr_nonnull(strstr(r, "r19"));
    free(r);
}
END_TEST

START_TEST(expect_100_continue)
{
    char *r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           "Expect: 100-continue\r\nConnection: close\r\n\r\nbody");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nbody"));
    free(r);
}
END_TEST

START_TEST(body_over_limit_is_413)
{
    char *r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 413"));
    ck_assert_ptr_nonnull(strstr(r, "larger than the 1024 allowed"));
    ck_assert_ptr_nonnull(strstr(r, "Connection: close"));
    free(r);
}
END_TEST

START_TEST(chunked_bodies_and_framing)
{
    char *r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                           "Connection: close\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 200") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nabcdefg"));
    free(r);
    /* Over the limit: 413 once the body has been counted. */
    char big[2048];
    int n = snprintf(big, sizeof big,
                     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "400\r\n%01024d\r\n10\r\n%016d\r\n0\r\n\r\n",
                     0, 0);
    r = exchange(big, (size_t)n);
    ck_assert_msg(strstr(r, "HTTP/1.1 413") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "larger than the 1024 allowed"));
    free(r);
    /* Both framings: 400 before the body is read, and the connection closed. */
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 400") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "Connection: close"));
    ck_assert_ptr_null(strstr(r, "abc"));
    free(r);
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     "Content-Length: 30\r\n\r\nabc");
    ck_assert_msg(strstr(r, "HTTP/1.1 400") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "more than once"));
    free(r);
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 400") != NULL, "%s", r);
    free(r);
    /* The same length twice is one length. */
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
    ck_assert_msg(strstr(r, "HTTP/1.1 200") != NULL, "%s", r);
    free(r);
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 501") != NULL, "%s", r);
    free(r);
    r = exchange_str("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 400"));
    ck_assert_ptr_nonnull(strstr(r, "Content-Length"));
    free(r);
}
END_TEST

START_TEST(routes_headers_and_404)
{
    char *r = exchange_str("GET /hello HTTP/1.1\r\nHost: x\r\nX-Test: abc\r\n"
                           "Connection: close\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 201"));
    ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nabc"));
    free(r);
    r = exchange_str("GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 404"));
    free(r);
}
END_TEST

START_TEST(drain_refuses_new_requests)
{
    gw_http_drain(h);
    char *r = exchange_str("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 503"));
    ck_assert_ptr_nonnull(strstr(r, "Connection: close"));
    free(r);
}
END_TEST

START_TEST(bad_listen_url)
{
    gw_http *x = NULL;
    roster_err_detail d = {{0}};
    gw_route routes[] = {{.path = "/a", .fn = hello_route}};
    gw_http_params p = {.listen_url = "not a url", .max_body = 10};
    gw_loops *loops = NULL;
    ck_assert_int_eq(gw_loops_new(&loops, 1), ROSTER_E_OK);
    ck_assert_int_ne(gw_http_start(&x, &p, routes, 1, loops, &d), ROSTER_E_OK);
    gw_loops_free(loops);
    ck_assert_ptr_null(x);
    ck_assert_ptr_nonnull(strstr(d.message, "not a url"));
    ck_assert_str_eq(d.field, "listen");
}
END_TEST

START_TEST(status_mapping)
{
    ck_assert_str_eq(gw_status_gql_code(3), "BAD_USER_INPUT");
    ck_assert_str_eq(gw_status_gql_code(5), "NOT_FOUND");
    ck_assert_str_eq(gw_status_gql_code(6), "ALREADY_EXISTS");
    ck_assert_str_eq(gw_status_gql_code(7), "FORBIDDEN");
    ck_assert_str_eq(gw_status_gql_code(16), "UNAUTHENTICATED");
    ck_assert_str_eq(gw_status_gql_code(14), "UNAVAILABLE");
    ck_assert_str_eq(gw_status_gql_code(4), "DEADLINE_EXCEEDED");
    ck_assert_str_eq(gw_status_gql_code(13), "INTERNAL_SERVER_ERROR");
    ck_assert_str_eq(gw_status_gql_code(99), "INTERNAL_SERVER_ERROR");
    ck_assert_int_eq(gw_code_http_status("NOT_FOUND"), 404);
    ck_assert_int_eq(gw_code_http_status("FORBIDDEN"), 403);
    ck_assert_int_eq(gw_code_http_status("GRAPHQL_PARSE_FAILED"), 400);
    ck_assert_int_eq(gw_code_http_status("whatever"), 500);
    ck_assert_int_eq(gw_code_http_status(GW_CODE_STORAGE_FULL), 507);
    ck_assert_int_eq(gw_code_http_status(GW_CODE_REPLY_TOO_LARGE), 400);
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_jw_object_begin(&w);
    gw_error_ext(&w, "ALREADY_EXISTS", "taken \"x\"", 9, NULL);
    gql_jw_object_end(&w);
    gql_buf_append(&b, "", 1);
    ck_assert_str_eq(b.data, "{\"response\":{\"statusCode\":409,\"errorCode\":\"ALREADY_EXISTS\","
                             "\"message\":\"taken \\\"x\\\"\"}}");
    gql_buf_free(&b);
}
END_TEST

START_TEST(metrics_text)
{
    gw_metrics_request(GW_OP_QUERY, GW_OUT_OK, 300000);
    gw_metrics_request(GW_OP_MUTATION, GW_OUT_FIELD_ERRORS, 2000000000);
    gw_metrics_rpc(RPC_GET_USER, 5, 100000);
    gw_metrics_inflight_add(2);
    gql_buf b;
    gql_buf_init(&b);
    gw_metrics_render(&b, 1, 7, 3);
    gql_buf_append(&b, "", 1);
    const char *t = b.data;
    ck_assert_ptr_nonnull(
        strstr(t, "roster_gateway_requests_total{operation=\"query\",outcome=\"ok\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(
        t, "roster_gateway_requests_total{operation=\"mutation\",outcome=\"field_errors\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(t, "roster_gateway_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
    ck_assert_ptr_nonnull(
        strstr(t, "roster_gateway_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(t, "roster_gateway_requests_in_flight 2\n"));
    ck_assert_ptr_nonnull(strstr(
        t,
        "roster_gateway_upstream_rpc_errors_total{method=\"GetUser\",status=\"NOT_FOUND\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(t, "roster_gateway_upstream_ready 1\n"));
    ck_assert_ptr_nonnull(strstr(t, "roster_gateway_document_cache_total{result=\"hit\"} 7\n"));
    gql_buf_free(&b);
}
END_TEST

START_TEST(host_allowlist)
{
    char req[256];
    const char *ok[] = {"x", "X", "localhost", "LocalHost"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 ok[i]);
        char *r = exchange_str(req);
        ck_assert_msg(strstr(r, "HTTP/1.1 201") != NULL, "%s: %s", ok[i], r);
        free(r);
    }
    snprintf(req, sizeof req,
             "GET /hello HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n",
             gw_http_port(h));
    char *r = exchange_str(req);
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 201"));
    free(r);
    const char *bad[] = {"evil.example", "x:1", "localhost.evil.example",
                         "127.0.0.1",    "x y", "[::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(req, sizeof req,
                 "POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\nhello", bad[i]);
        r = exchange_str(req);
        ck_assert_msg(strstr(r, "HTTP/1.1 421 Misdirected Request") != NULL, "%s: %s", bad[i], r);
        ck_assert_ptr_null(strstr(r, "hello"));
        ck_assert_ptr_nonnull(strstr(r, "Connection: close"));
        free(r);
    }
    r = exchange_str("GET /hello HTTP/1.0\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 421") != NULL, "no Host: %s", r);
    free(r);
    r = exchange_str("GET /missing HTTP/1.1\r\nHost: evil.example\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 421") != NULL, "unrouted path: %s", r);
    free(r);
    r = exchange_str("GET /missing/deeper HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 404") != NULL, "unrouted path: %s", r);
    free(r);
}
END_TEST

START_TEST(default_hosts)
{
    gw_http *x = NULL;
    roster_err_detail d = {{0}};
    gw_route routes[] = {{.path = "/hello", .fn = hello_route}};
    ck_assert_int_eq(start(&x, NULL, 1024, routes, 1, &d), ROSTER_E_OK);
    gw_http *keep = h;
    h = x;
    char req[256];
    const char *ok[] = {"127.0.0.1", "localhost", "[::1]", "127.0.0.1:%d", "[::1]:%d"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char host[64];
        snprintf(host, sizeof host, ok[i], gw_http_port(x));
        snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                 host);
        char *r = exchange_str(req);
        ck_assert_msg(strstr(r, "HTTP/1.1 201") != NULL, "%s: %s", host, r);
        free(r);
    }
    char *r = exchange_str("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 421"));
    free(r);
    r = exchange_str("GET /hello HTTP/1.1\r\nHost: rebind.example\r\n\r\n");
    ck_assert_ptr_nonnull(strstr(r, "HTTP/1.1 421"));
    free(r);
    h = keep;
    usleep(20000);
    stop(x);
    x = NULL;
    ck_assert_int_ne(start(&x, "a,,b", 1024, routes, 1, &d), ROSTER_E_OK);
    ck_assert_str_eq(d.field, "allowed-hosts");
    ck_assert_int_ne(start(&x, "a:99999", 1024, routes, 1, &d), ROSTER_E_OK);
    ck_assert_ptr_null(x);
}
END_TEST

static void empty_route(gw_req *r, void *ud)
{
    (void)ud;
    gw_req_respond(r, 200, NULL, NULL, 0, NULL, 0);
}

START_TEST(tree_routes_cors_and_empty_bodies)
{
    gw_http *x = NULL;
    gw_cors *cors = NULL;
    roster_err_detail d = {{0}};
    ck_assert_int_eq(gw_cors_new(&cors, "https://app.example", &d), ROSTER_E_OK);
    gw_route routes[] = {
        {.path = "/api", .fn = hello_route, .cors = cors},
        {.path = "/files", .fn = hello_route, .tree = 1},
        {.path = "/empty", .fn = empty_route},
    };
    ck_assert_int_eq(start(&x, "x", 1024, routes, 3, &d), ROSTER_E_OK);
    gw_http *keep = h;
    h = x;
    char *r = exchange_str("GET /files/a/b.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 201") != NULL, "%s", r);
    free(r);
    r = exchange_str("GET /filesx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 404") != NULL, "%s", r);
    free(r);
    /* A granted preflight: 204, no body, no Content-Length, the route not run. */
    r = exchange_str("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     "Access-Control-Request-Method: POST\r\n"
                     "Access-Control-Request-Headers: authorization\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 204") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "Access-Control-Allow-Origin: https://app.example\r\n"));
    ck_assert_ptr_null(strstr(r, "Content-Length"));
    ck_assert_ptr_null(strstr(r, "none"));
    free(r);
    r = exchange_str("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                     "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 403") != NULL, "%s", r);
    ck_assert_ptr_null(strstr(r, "Access-Control-"));
    free(r);
    /* Content-Length: 0 keeps the connection; a body closes it. */
    r = exchange_str("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     "Access-Control-Request-Method: GET\r\nContent-Length: 0\r\n\r\n"
                     "GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 204") != NULL && strstr(r, "HTTP/1.1 201") != NULL, "%s", r);
    free(r);
    r = exchange_str("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     "Access-Control-Request-Method: GET\r\nContent-Length: 4\r\n\r\nbody");
    ck_assert_msg(strstr(r, "HTTP/1.1 204") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "Connection: close"));
    free(r);
    /* An answer of the route gets the headers; other routes do not. */
    r = exchange_str("GET /api HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     "Connection: close\r\n\r\n");
    ck_assert_msg(strstr(r, "HTTP/1.1 201") != NULL, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "Access-Control-Allow-Origin: https://app.example\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "Vary: Origin\r\n"));
    free(r);
    r = exchange_str("GET /files/x HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                     "Connection: close\r\n\r\n");
    ck_assert_ptr_null(strstr(r, "Access-Control-"));
    free(r);
    /* An empty body is sent with Content-Length: 0, on a kept-alive
     * connection. */
    r = exchange_str("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ck_assert_int_eq(count(r, "HTTP/1.1 200"), 2);
    ck_assert_int_eq(count(r, "Content-Length: 0\r\n"), 2);
    free(r);
    h = keep;
    usleep(20000);
    stop(x);
    gw_cors_free(cors);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_http");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, body_answered_from_another_thread);
    tcase_add_test(tc, keep_alive_reuses_requests);
    tcase_add_test(tc, expect_100_continue);
    tcase_add_test(tc, body_over_limit_is_413);
    tcase_add_test(tc, chunked_bodies_and_framing);
    tcase_add_test(tc, routes_headers_and_404);
    tcase_add_test(tc, drain_refuses_new_requests);
    tcase_add_test(tc, host_allowlist);
    tcase_add_test(tc, default_hosts);
    tcase_add_test(tc, tree_routes_cors_and_empty_bodies);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("plain");
    tcase_add_test(tc2, bad_listen_url);
    tcase_add_test(tc2, status_mapping);
    tcase_add_test(tc2, metrics_text);
    suite_add_tcase(s, tc2);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
