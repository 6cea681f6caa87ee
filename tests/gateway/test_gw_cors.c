/* CORS decisions: the origin list, preflights granted and refused, and
 * the headers added to other answers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cors.h"

static const char *header(const gw_cors_answer *a, const char *name)
{
    for (size_t i = 0; i < a->n_headers; i++)
        if (strcmp(a->headers[2 * i], name) == 0)
            return a->headers[2 * i + 1];
    return NULL;
}

static int any_access_control(const gw_cors_answer *a)
{
    for (size_t i = 0; i < a->n_headers; i++)
        if (strncmp(a->headers[2 * i], "Access-Control-", 15) == 0)
            return 1;
    return 0;
}

START_TEST(origin_lists)
{
    gw_cors *c = NULL;
    roster_err_detail d = {{0}};
    ck_assert_int_eq(gw_cors_new(&c, NULL, &d), ROSTER_E_OK);
    ck_assert(!gw_cors_enabled(c));
    gw_cors_free(c);
    ck_assert_int_eq(gw_cors_new(&c, "", &d), ROSTER_E_OK);
    ck_assert(!gw_cors_enabled(c));
    gw_cors_free(c);
    ck_assert_int_eq(
        gw_cors_new(&c, "https://app.example, http://localhost:3000,http://[::1]:8", &d),
        ROSTER_E_OK);
    ck_assert(gw_cors_enabled(c));
    gw_cors_free(c);
    const char *bad[] = {"*",
                         "null",
                         "https://*.example",
                         "app.example",
                         "ftp://app.example",
                         "https://app.example/",
                         "https://app.example/path",
                         "https://app.example:",
                         "https://app.example:123456",
                         "https://",
                         "https://a.example,,https://b.example",
                         "https://a.example,",
                         "https://user@app.example"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gw_cors *x = NULL;
        ck_assert_msg(gw_cors_new(&x, bad[i], &d) == ROSTER_E_INVALID_ARGUMENT, "%s", bad[i]);
        ck_assert_str_eq(d.field, "cors-origins");
        ck_assert_ptr_null(x);
    }
    gw_cors_free(NULL);
}
END_TEST

START_TEST(preflight)
{
    gw_cors *c = NULL;
    ck_assert_int_eq(gw_cors_new(&c, "https://app.example", NULL), ROSTER_E_OK);
    gw_cors_answer a;
    gw_cors_decide(&a, c, "OPTIONS", "https://app.example", "POST",
                   "Content-Type, Authorization, roq-platform-authorization");
    ck_assert(a.preflight);
    ck_assert_uint_eq(a.status, 204);
    ck_assert_str_eq(header(&a, "Access-Control-Allow-Origin"), "https://app.example");
    ck_assert_str_eq(header(&a, "Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
    ck_assert_ptr_nonnull(
        strstr(header(&a, "Access-Control-Allow-Headers"), "roq-platform-server-authorization"));
    ck_assert_str_eq(header(&a, "Access-Control-Max-Age"), "600");
    ck_assert_str_eq(header(&a, "Vary"), "Origin");
    ck_assert_ptr_null(header(&a, "Access-Control-Allow-Credentials"));

    gw_cors_decide(&a, c, "OPTIONS", "https://app.example", "GET", NULL);
    ck_assert_uint_eq(a.status, 204);

    /* Refused: no Access-Control-* at all. */
    gw_cors_decide(&a, c, "OPTIONS", "https://evil.example", "POST", "content-type");
    ck_assert(a.preflight);
    ck_assert_uint_eq(a.status, 403);
    ck_assert(!any_access_control(&a));
    gw_cors_decide(&a, c, "OPTIONS", "https://app.example", "POST", "content-type, x-custom");
    ck_assert_uint_eq(a.status, 403);
    ck_assert(!any_access_control(&a));
    gw_cors_decide(&a, c, "OPTIONS", "https://app.example", "DELETE", NULL);
    ck_assert_uint_eq(a.status, 403);
    gw_cors_decide(&a, c, "OPTIONS", "https://app.example.evil", "GET", NULL);
    ck_assert_uint_eq(a.status, 403);

    /* OPTIONS without Origin or request method is not a preflight. */
    gw_cors_decide(&a, c, "OPTIONS", NULL, "POST", NULL);
    ck_assert(!a.preflight);
    gw_cors_decide(&a, c, "OPTIONS", "https://app.example", NULL, NULL);
    ck_assert(!a.preflight);
    gw_cors_free(c);

    /* None configured: every preflight refused, nothing added. */
    gw_cors_decide(&a, NULL, "OPTIONS", "https://app.example", "POST", NULL);
    ck_assert_uint_eq(a.status, 403);
    ck_assert_uint_eq(a.n_headers, 0);
}
END_TEST

START_TEST(actual_requests)
{
    gw_cors *c = NULL;
    ck_assert_int_eq(gw_cors_new(&c, "https://app.example,http://localhost:3000", NULL),
                     ROSTER_E_OK);
    gw_cors_answer a;
    gw_cors_decide(&a, c, "POST", "http://localhost:3000", NULL, NULL);
    ck_assert(!a.preflight);
    ck_assert_str_eq(header(&a, "Access-Control-Allow-Origin"), "http://localhost:3000");
    ck_assert_str_eq(header(&a, "Vary"), "Origin");
    ck_assert_uint_eq(a.n_headers, 2);
    gw_cors_decide(&a, c, "GET", "https://other.example", NULL, NULL);
    ck_assert(!any_access_control(&a));
    ck_assert_str_eq(header(&a, "Vary"), "Origin");
    gw_cors_decide(&a, c, "GET", NULL, NULL, NULL);
    ck_assert(!any_access_control(&a));
    gw_cors_free(c);

    gw_cors *none = NULL;
    ck_assert_int_eq(gw_cors_new(&none, "", NULL), ROSTER_E_OK);
    gw_cors_decide(&a, none, "POST", "https://app.example", NULL, NULL);
    ck_assert_uint_eq(a.n_headers, 0);
    gw_cors_free(none);
}
END_TEST

/* --cors-origins and ROSTER_GATEWAY_CORS_ORIGINS. */
START_TEST(options)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    ck_assert_str_eq(c.cors_origins, "");
    char *argv[] = {"roster-gateway", "--cors-origins", "https://app.example,http://localhost:3000",
                    NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, argv, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.cors_origins, "https://app.example,http://localhost:3000");
    char *bad[] = {"roster-gateway", "--cors-origins", "*", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, bad, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "cors-origins");
    ck_assert_str_eq(c.cors_origins, "https://app.example,http://localhost:3000");

    gw_config_defaults(&c);
    setenv("ROSTER_GATEWAY_CORS_ORIGINS", "https://env.example", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.cors_origins, "https://env.example");
    setenv("ROSTER_GATEWAY_CORS_ORIGINS", "https://env.example/path", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    unsetenv("ROSTER_GATEWAY_CORS_ORIGINS");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_cors");
    TCase *tc = tcase_create("cors");
    tcase_add_test(tc, origin_lists);
    tcase_add_test(tc, preflight);
    tcase_add_test(tc, actual_requests);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
