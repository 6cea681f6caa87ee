/* GraphQL-over-HTTP request parameters: Accept negotiation, GET query
 * strings and POST bodies, including every malformed case. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request_params.h"

START_TEST(negotiation)
{
    ck_assert_int_eq(gw_negotiate(NULL), 0);
    ck_assert_int_eq(gw_negotiate(""), 0);
    ck_assert_int_eq(gw_negotiate("application/json"), 0);
    ck_assert_int_eq(gw_negotiate("application/graphql-response+json"), 1);
    ck_assert_int_eq(gw_negotiate("*/*"), 0);
    ck_assert_int_eq(gw_negotiate("application/*"), 0);
    ck_assert_int_eq(gw_negotiate("application/graphql-response+json, application/json"), 1);
    ck_assert_int_eq(gw_negotiate("application/graphql-response+json;q=0.5, application/json"), 0);
    ck_assert_int_eq(gw_negotiate("application/json;q=0.2, application/graphql-response+json"), 1);
    ck_assert_int_eq(gw_negotiate("application/graphql-response+json, */*;q=0.1"), 1);
    ck_assert_int_eq(gw_negotiate("APPLICATION/JSON; charset=utf-8"), 0);
    ck_assert_int_eq(gw_negotiate("text/html"), -1);
    ck_assert_int_eq(gw_negotiate("application/json;q=0"), -1);
    ck_assert_int_eq(gw_negotiate("text/html, */*;q=0.8"), 0);
    ck_assert_int_eq(gw_negotiate(",,;;q=,"), -1);
}
END_TEST

START_TEST(get_parameters)
{
    gw_params p = {0};
    roster_err_detail d = {{0}};
    ck_assert_int_eq(gw_params_from_get(&p,
                                        "/graphql?query=query%20Q(%24n%3A%20Int)%7Bx%7D"
                                        "&variables=%7B%22n%22%3A1%7D&operationName=Q&x=1",
                                        &d),
                     0);
    ck_assert_uint_eq(p.query_len, strlen("query Q($n: Int){x}"));
    ck_assert_int_eq(memcmp(p.query, "query Q($n: Int){x}", p.query_len), 0);
    ck_assert_ptr_nonnull(p.op_name);
    ck_assert_int_eq(memcmp(p.op_name, "Q", 1), 0);
    ck_assert_ptr_nonnull(p.variables);
    ck_assert_int_eq(json_integer_value(json_object_get(p.variables, "n")), 1);
    gw_params_free(&p);

    gw_params q = {0};
    ck_assert_int_eq(gw_params_from_get(&q, "/graphql?query=%7B+a+%7D&variables=null", &d), 0);
    ck_assert_int_eq(memcmp(q.query, "{ a }", 5), 0);
    ck_assert_ptr_null(q.variables);
    gw_params_free(&q);
}
END_TEST

static int get_status(const char *uri, const char *want_in_msg)
{
    gw_params p = {0};
    roster_err_detail d = {{0}};
    int st = gw_params_from_get(&p, uri, &d);
    if (want_in_msg)
        ck_assert_msg(strstr(d.message, want_in_msg) != NULL, "%s: %s", uri, d.message);
    gw_params_free(&p);
    return st;
}

START_TEST(get_errors)
{
    ck_assert_int_eq(get_status("/graphql", "needs a query"), 400);
    ck_assert_int_eq(get_status("/graphql?variables=%7B%7D", "needs a query"), 400);
    ck_assert_int_eq(get_status("/graphql?query=%7", "percent-encoding"), 400);
    ck_assert_int_eq(get_status("/graphql?query=%zz", "percent-encoding"), 400);
    ck_assert_int_eq(get_status("/graphql?query=%FF", "UTF-8"), 400);
    ck_assert_int_eq(get_status("/graphql?query=a%00b", "UTF-8"), 400);
    ck_assert_int_eq(get_status("/graphql?query=a&query=b", "more than once"), 400);
    ck_assert_int_eq(get_status("/graphql?query=a&variables=%5B%5D", "JSON object"), 400);
    ck_assert_int_eq(get_status("/graphql?query=a&variables=%7B", "not valid JSON"), 400);
    ck_assert_int_eq(get_status("/graphql?query=a&extensions=1", "extensions"), 400);
}
END_TEST

static int post_status(const char *ct, const char *body, const char *want_in_msg)
{
    gw_params p = {0};
    roster_err_detail d = {{0}};
    int st = gw_params_from_post(&p, ct, body, strlen(body), &d);
    if (want_in_msg)
        ck_assert_msg(strstr(d.message, want_in_msg) != NULL, "%s: %s", body, d.message);
    gw_params_free(&p);
    return st;
}

START_TEST(post_parameters)
{
    gw_params p = {0};
    roster_err_detail d = {{0}};
    const char *body = "{\"query\":\"{ a }\",\"operationName\":null,\"variables\":{\"x\":[1]},"
                       "\"extensions\":{\"k\":1}}";
    ck_assert_int_eq(
        gw_params_from_post(&p, "application/json; charset=UTF-8", body, strlen(body), &d), 0);
    ck_assert_uint_eq(p.query_len, 5);
    ck_assert_ptr_null(p.op_name);
    ck_assert_ptr_nonnull(p.variables);
    gw_params_free(&p);
    gw_params_free(NULL);
    ck_assert_int_eq(
        post_status("application/json", "{\"query\":\"{a}\",\"operationName\":\"\"}", NULL), 0);
}
END_TEST

START_TEST(post_errors)
{
    const char *j = "application/json";
    ck_assert_int_eq(post_status(NULL, "{}", "(none)"), 415);
    ck_assert_int_eq(post_status("text/plain", "{}", "text/plain"), 415);
    ck_assert_int_eq(post_status("application/json; charset=latin1", "{}", "UTF-8"), 415);
    ck_assert_int_eq(post_status("application/jsonx", "{}", NULL), 415);
    ck_assert_int_eq(post_status(j, "", "empty"), 400);
    ck_assert_int_eq(post_status(j, "{", "not valid JSON"), 400);
    ck_assert_int_eq(post_status(j, "[]", "not an array"), 400);
    ck_assert_int_eq(post_status(j, "7", "not a number"), 400);
    ck_assert_int_eq(post_status(j, "{}", "no \"query\""), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":null}", "no \"query\""), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":{}}", "not an object"), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":\"a\",\"query\":\"b\"}", "not valid JSON"), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":\"a\",\"variables\":\"x\"}", "not a string"), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":\"a\",\"operationName\":false}", "boolean"), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":\"a\",\"extensions\":[1]}", "array"), 400);
    ck_assert_int_eq(post_status(j, "{\"query\":\"\xff\"}", "not valid JSON"), 400);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_params");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, negotiation);
    tcase_add_test(tc, get_parameters);
    tcase_add_test(tc, get_errors);
    tcase_add_test(tc, post_parameters);
    tcase_add_test(tc, post_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
