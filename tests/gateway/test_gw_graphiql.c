/* The GraphiQL page and its assets: when a GraphQL path answers with the
 * page, what each asset path answers, and that every asset the page names
 * is served. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "graphiql.h"
#include "graphiql_assets.h"

static const char *header(const gw_static_answer *a, const char *name)
{
    for (size_t i = 0; i < a->n_headers; i++)
        if (strcmp(a->headers[2 * i], name) == 0)
            return a->headers[2 * i + 1];
    return NULL;
}

#define BROWSER "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"

START_TEST(page_wanted)
{
    ck_assert(gw_graphiql_page_wanted("GET", "/graphql", BROWSER));
    ck_assert(gw_graphiql_page_wanted("HEAD", "/graphql", BROWSER));
    ck_assert(gw_graphiql_page_wanted("GET", "/graphql", "text/html"));
    ck_assert(gw_graphiql_page_wanted("GET", "/graphql?foo=1", BROWSER));
    ck_assert(gw_graphiql_page_wanted("GET", "/graphql?queryx=1", BROWSER));
    ck_assert(gw_graphiql_page_wanted("GET", "/graphql", "text/html, */*"));
    /* A query makes it a GraphQL request, whatever it accepts. */
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql?query=%7Bx%7D", BROWSER));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql?a=1&query=", BROWSER));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql?query", BROWSER));
    /* GraphQL-over-HTTP clients. */
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", NULL));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", "*/*"));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", "application/json"));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql",
                                       "application/graphql-response+json, application/json"));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", "text/html, application/json"));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", "text/html;q=0.5, application/json"));
    ck_assert(!gw_graphiql_page_wanted("GET", "/graphql", "text/*, application/json"));
    ck_assert(!gw_graphiql_page_wanted("POST", "/graphql", BROWSER));
    ck_assert(!gw_graphiql_page_wanted("OPTIONS", "/graphql", BROWSER));
}
END_TEST

START_TEST(page)
{
    gw_static_answer a;
    gw_graphiql_page(&a);
    ck_assert_uint_eq(a.status, 200);
    ck_assert_str_eq(a.content_type, "text/html; charset=utf-8");
    ck_assert_ptr_nonnull(strstr(a.body, "<title>Roster GraphiQL</title>"));
    ck_assert_str_eq(header(&a, "Cache-Control"), "no-cache");
    ck_assert_ptr_nonnull(strstr(header(&a, "Content-Security-Policy"), "script-src 'self'"));
    ck_assert_ptr_nonnull(strstr(header(&a, "Content-Security-Policy"), "connect-src 'self'"));
    ck_assert_str_eq(header(&a, "X-Content-Type-Options"), "nosniff");
}
END_TEST

/* Every src= and href= of the page is an asset served with 200. */
START_TEST(page_assets_served)
{
    const char *p = gw_graphiql_page_html;
    int seen = 0;
    while ((p = strpbrk(p, "sh")) != NULL) {
        const char *v = NULL;
        if (strncmp(p, "src=\"", 5) == 0)
            v = p + 5;
        else if (strncmp(p, "href=\"", 6) == 0)
            v = p + 6;
        p++;
        if (v == NULL)
            continue;
        const char *end = strchr(v, '"');
        ck_assert_ptr_nonnull(end);
        char uri[256];
        ck_assert_int_lt(end - v, (long)sizeof uri);
        memcpy(uri, v, (size_t)(end - v));
        uri[end - v] = '\0';
        ck_assert_msg(strncmp(uri, "/graphiql/", 10) == 0, "%s is not served by the gateway", uri);
        gw_static_answer a;
        gw_graphiql_asset(&a, "GET", uri);
        ck_assert_msg(a.status == 200, "%s: %u", uri, a.status);
        ck_assert_uint_gt(a.len, 0);
        seen++;
    }
    ck_assert_int_eq(seen, 6);
}
END_TEST

START_TEST(assets)
{
    gw_static_answer a;
    gw_graphiql_asset(&a, "GET", "/graphiql/graphiql-3.8.3.min.js?v=1");
    ck_assert_uint_eq(a.status, 200);
    ck_assert_str_eq(a.content_type, "text/javascript; charset=utf-8");
    ck_assert_uint_eq(a.len, gw_graphiql_js_len);
    ck_assert_str_eq(header(&a, "Cache-Control"), "public, max-age=31536000, immutable");
    ck_assert_str_eq(header(&a, "X-Content-Type-Options"), "nosniff");

    gw_graphiql_asset(&a, "HEAD", "/graphiql/graphiql-3.8.3.min.css");
    ck_assert_uint_eq(a.status, 200);
    ck_assert_str_eq(a.content_type, "text/css; charset=utf-8");

    gw_graphiql_asset(&a, "GET", "/graphiql/roster.js");
    ck_assert_uint_eq(a.status, 200);
    ck_assert_str_eq(header(&a, "Cache-Control"), "no-cache");

    gw_graphiql_asset(&a, "GET", "/graphiql/LICENSES.txt");
    ck_assert_uint_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "MIT License"));

    gw_graphiql_asset(&a, "POST", "/graphiql/roster.js");
    ck_assert_uint_eq(a.status, 405);
    ck_assert_str_eq(header(&a, "Allow"), "GET, HEAD");

    const char *missing[] = {"/graphiql",
                             "/graphiql/",
                             "/graphiql/nope.js",
                             "/graphiql/roster.js/x",
                             "/graphiql/../graphql",
                             "/graphiqlroster.js"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        gw_graphiql_asset(&a, "GET", missing[i]);
        ck_assert_msg(a.status == 404, "%s: %u", missing[i], a.status);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_graphiql");
    TCase *tc = tcase_create("graphiql");
    tcase_add_test(tc, page_wanted);
    tcase_add_test(tc, page);
    tcase_add_test(tc, page_assets_served);
    tcase_add_test(tc, assets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
