/* libFuzzer harness: the gateway's browser-facing decisions, from headers
 * as they arrive: the CORS origin list and the decision for a request
 * (gateway/cors.c), and whether a GraphQL path answers with the GraphiQL
 * page and what an asset path answers (gateway/graphiql.c).
 *
 * Input: first byte b, then lines. b % 3 picks:
 *   0  CORS: line 1 the origin list, then the method, Origin,
 *      Access-Control-Request-Method and -Headers ("-" for absent)
 *   1  the page: line 1 the method, line 2 the request target, line 3 the
 *      Accept header ("-" for absent)
 *   2  an asset: line 1 the method, line 2 the request target
 *
 * Checked beyond the sanitizers: a list is taken or refused naming
 * cors-origins; a preflight is granted (204, Access-Control-Allow-Origin
 * equal to the request's origin) only from a listed origin, or refused
 * (403) with no Access-Control-* header; another request gets
 * Access-Control-Allow-Origin only with the request's origin; the page is
 * never chosen for a method other than GET and HEAD, nor for a target
 * with a query parameter; an asset answer is 200, 404 or 405 with a body. */
#include "cors.h"
#include "graphiql.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_gw_browser: %s\n", what);
        abort();
    }
}

/* Splits text into up to n lines (in place); missing lines are NULL, and
 * a line "-" is NULL too (an absent header). */
static void lines(char **out, size_t n, char *text)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = text;
        if (text != NULL) {
            char *nl = strchr(text, '\n');
            if (nl)
                *nl = '\0';
            text = nl ? nl + 1 : NULL;
        }
        if (out[i] != NULL && strcmp(out[i], "-") == 0)
            out[i] = NULL;
    }
}

static const char *header(const gw_cors_answer *a, const char *name)
{
    for (size_t i = 0; i < a->n_headers; i++)
        if (strcmp(a->headers[2 * i], name) == 0)
            return a->headers[2 * i + 1];
    return NULL;
}

static void cors(char *text)
{
    char *l[5];
    lines(l, 5, text);
    gw_cors *c = NULL;
    roster_err_detail d = {{0}};
    int rc = gw_cors_new(&c, l[0], &d);
    if (rc != ROSTER_E_OK) {
        check(c == NULL, "a refused list returned");
        check(rc == ROSTER_E_NOMEM || strcmp(d.field, "cors-origins") == 0,
              "a refusal not naming cors-origins");
        return;
    }
    gw_cors_answer a;
    const char *method = l[1] ? l[1] : "GET";
    gw_cors_decide(&a, c, method, l[2], l[3], l[4]);
    check(a.n_headers <= 5, "too many headers");
    const char *acao = header(&a, "Access-Control-Allow-Origin");
    check(acao == NULL || (l[2] != NULL && acao == l[2]), "an origin allowed that was not sent");
    if (acao != NULL)
        check(gw_cors_enabled(c), "an origin allowed with none configured");
    if (a.preflight) {
        check(strcmp(method, "OPTIONS") == 0 && l[2] && l[3], "a preflight that is not one");
        check(a.status == 204 || a.status == 403, "a preflight status not documented");
        check((a.status == 204) == (acao != NULL), "a preflight granted without its origin");
        if (a.status == 403)
            for (size_t i = 0; i < a.n_headers; i++)
                check(strncmp(a.headers[2 * i], "Access-Control-", 15) != 0,
                      "a refused preflight with CORS headers");
    }
    if (!gw_cors_enabled(c) && !a.preflight)
        check(a.n_headers == 0, "headers added with no origin configured");
    gw_cors_free(c);
}

static void page(char *text)
{
    char *l[3];
    lines(l, 3, text);
    if (l[0] == NULL || l[1] == NULL)
        return;
    bool wanted = gw_graphiql_page_wanted(l[0], l[1], l[2]);
    if (wanted) {
        check(strcmp(l[0], "GET") == 0 || strcmp(l[0], "HEAD") == 0, "the page for a write");
        check(l[2] != NULL, "the page without Accept");
        const char *q = strchr(l[1], '?');
        /* No parameter named query between '?' and '#'. */
        for (const char *p = q; p != NULL && *p != '\0' && *p != '#'; p++)
            if ((p == q || *p == '&') && strncmp(p + 1, "query", 5) == 0)
                check(p[6] != '\0' && p[6] != '=' && p[6] != '&' && p[6] != '#',
                      "the page for a request with a query");
    }
}

static void asset(char *text)
{
    char *l[2];
    lines(l, 2, text);
    if (l[0] == NULL || l[1] == NULL)
        return;
    gw_static_answer a;
    gw_graphiql_asset(&a, l[0], l[1]);
    check(a.status == 200 || a.status == 404 || a.status == 405, "an asset status not documented");
    check(a.body != NULL && a.len > 0 && a.content_type != NULL, "an answer without a body");
    check(a.n_headers <= sizeof a.headers / sizeof a.headers[0] / 2, "too many headers");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] % 3) {
    case 0:
        cors(text);
        break;
    case 1:
        page(text);
        break;
    default:
        asset(text);
        break;
    }
    free(text);
    return 0;
}
