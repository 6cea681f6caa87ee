/* roster-gateway configuration: defaults, options, environment, errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"

static int run(const char *a, const char *b, roster_err_detail *d);

START_TEST(defaults)
{
    gw_config c;
    gw_config_defaults(&c);
    ck_assert_str_eq(c.listen, "http://127.0.0.1:8080");
    char cwd[900], want[1100];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "ipc://%s/data/users.ipc", cwd);
    ck_assert_str_eq(c.upstream, want);
    ck_assert_uint_eq(c.max_body, 1024 * 1024);
    ck_assert_uint_eq(c.max_tokens, 15000);
    ck_assert_uint_eq(c.max_depth, 15);
    ck_assert_uint_eq(c.max_page, 1000);
    ck_assert_uint_gt(c.timeout_ms, 0);
    ck_assert_uint_gt(c.max_inflight, 0);
    ck_assert_uint_eq(c.http_threads, 0);
    ck_assert_uint_eq(c.max_conns, 10000);
    ck_assert_uint_eq(c.conn_memory, 4 * 1024);
    ck_assert_uint_eq(c.header_timeout_ms, 10000);
    ck_assert_uint_eq(c.idle_timeout_ms, 60000);
}
END_TEST

START_TEST(http_options)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    setenv("ROSTER_GATEWAY_MAX_CONNS", "500", 1);
    setenv("ROSTER_GATEWAY_IDLE_TIMEOUT_MS", "2500", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_OK);
    unsetenv("ROSTER_GATEWAY_MAX_CONNS");
    unsetenv("ROSTER_GATEWAY_IDLE_TIMEOUT_MS");
    ck_assert_uint_eq(c.max_conns, 500);
    ck_assert_uint_eq(c.idle_timeout_ms, 2500);
    char *argv[] = {"roster-gateway",
                    "--http-threads",
                    "3",
                    "--conn-memory",
                    "8k",
                    "--header-timeout-ms",
                    "1500",
                    "--max-conns",
                    "20",
                    NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 9, argv, &d), ROSTER_E_OK);
    ck_assert_uint_eq(c.http_threads, 3);
    ck_assert_uint_eq(c.conn_memory, 8 * 1024);
    ck_assert_uint_eq(c.header_timeout_ms, 1500);
    ck_assert_uint_eq(c.max_conns, 20);
    ck_assert_int_eq(run("--conn-memory", "1k", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "conn-memory");
    ck_assert_int_eq(run("--max-conns", "0", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--http-threads", "65", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--idle-timeout-ms", "0", &d), ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(options)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    char *argv[] = {"roster-gateway",
                    "--listen",
                    "http://127.0.0.1:9",
                    "--upstream",
                    "tcp://127.0.0.1:7",
                    "--max-body",
                    "64k",
                    "--max-tokens",
                    "100",
                    "--max-depth=7",
                    "--max-page",
                    "50",
                    "--timeout-ms",
                    "250",
                    "--max-inflight",
                    "3",
                    "--doc-cache",
                    "0",
                    "--log-level",
                    "debug",
                    NULL};
    int argc = (int)(sizeof argv / sizeof argv[0]) - 1;
    ck_assert_int_eq(gw_config_from_args(&c, argc, argv, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.listen, "http://127.0.0.1:9");
    ck_assert_str_eq(c.upstream, "tcp://127.0.0.1:7");
    ck_assert_uint_eq(c.max_body, 64 * 1024);
    ck_assert_uint_eq(c.max_tokens, 100);
    ck_assert_uint_eq(c.max_depth, 7);
    ck_assert_uint_eq(c.max_page, 50);
    ck_assert_uint_eq(c.timeout_ms, 250);
    ck_assert_uint_eq(c.max_inflight, 3);
    ck_assert_uint_eq(c.doc_cache, 0);
    ck_assert_int_eq(c.log_level, ROSTER_LOG_DEBUG);
}
END_TEST

static int run(const char *a, const char *b, roster_err_detail *d)
{
    gw_config c;
    gw_config_defaults(&c);
    char *argv[] = {"roster-gateway", (char *)a, (char *)b, NULL};
    return gw_config_from_args(&c, b ? 3 : 2, argv, d);
}

START_TEST(grpc_options)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    ck_assert_str_eq(c.grpc_listen, "");
    ck_assert_uint_eq(c.grpc_max_message, 4u * 1024 * 1024);
    ck_assert_uint_eq(c.grpc_max_streams, 1000);
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_OK);
    char *argv[] = {"roster-gateway",
                    "--grpc-listen",
                    "127.0.0.1:9090",
                    "--grpc-max-message",
                    "1M",
                    "--grpc-max-streams",
                    "7",
                    "--upstream-changes",
                    "tcp://127.0.0.1:7001",
                    NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 9, argv, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.grpc_listen, "127.0.0.1:9090");
    ck_assert_uint_eq(c.grpc_max_message, 1024 * 1024);
    ck_assert_uint_eq(c.grpc_max_streams, 7);
    ck_assert_str_eq(c.upstream_changes, "tcp://127.0.0.1:7001");
    /* TLS needs both files, and gRPC on. */
    snprintf(c.grpc_tls_cert, sizeof c.grpc_tls_cert, "/etc/cert.pem");
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "grpc-tls-key");
    snprintf(c.grpc_tls_key, sizeof c.grpc_tls_key, "/etc/key.pem");
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_OK);
    c.grpc_listen[0] = '\0';
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "grpc-listen");
    ck_assert_int_eq(run("--grpc-listen", "9090", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "grpc-listen");
    ck_assert_int_eq(run("--grpc-listen", "a b:1", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--grpc-max-message", "10", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--grpc-max-streams", "0", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--upstream-changes", "http://x", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--upstream-changes", "off", &d), ROSTER_E_OK);
}
END_TEST

START_TEST(bad_options)
{
    roster_err_detail d = {{0}};
    ck_assert_int_eq(run("--max-page", "1001", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "max-page"));
    ck_assert_str_eq(d.field, "max-page");
    ck_assert_int_eq(run("--max-body", "-5", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--max-body", "12x", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--listen", "ftp://x", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "listen"));
    ck_assert_int_eq(run("--upstream", "http://x", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--log-level", "loud", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(run("--nope", NULL, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "--nope"));
    ck_assert_int_eq(run("--timeout-ms", NULL, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "needs a value"));
    ck_assert_int_eq(run("extra", NULL, &d), ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(environment)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    setenv("ROSTER_GATEWAY_UPSTREAM", "ipc:///tmp/x.ipc", 1);
    setenv("ROSTER_GATEWAY_MAX_DEPTH", "9", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.upstream, "ipc:///tmp/x.ipc");
    ck_assert_uint_eq(c.max_depth, 9);
    /* options override the environment */
    char *argv[] = {"roster-gateway", "--max-depth", "4", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, argv, &d), ROSTER_E_OK);
    ck_assert_uint_eq(c.max_depth, 4);
    setenv("ROSTER_GATEWAY_MAX_TOKENS", "many", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "ROSTER_GATEWAY_MAX_TOKENS"));
    ck_assert_str_eq(d.field, "ROSTER_GATEWAY_MAX_TOKENS");
    unsetenv("ROSTER_GATEWAY_MAX_TOKENS");
    unsetenv("ROSTER_GATEWAY_UPSTREAM");
    unsetenv("ROSTER_GATEWAY_MAX_DEPTH");
}
END_TEST

START_TEST(batching)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    ck_assert_int_eq(c.batch_lookups, 1);
    ck_assert_uint_eq(c.batch_max, 1000);
    ck_assert_uint_eq(c.batch_in_flight, 1);
    char *off[] = {"roster-gateway",
                   "--batch-lookups",
                   "no",
                   "--batch-max",
                   "16",
                   "--batch-in-flight",
                   "2",
                   NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 7, off, &d), ROSTER_E_OK);
    ck_assert_int_eq(c.batch_lookups, 0);
    ck_assert_uint_eq(c.batch_max, 16);
    ck_assert_uint_eq(c.batch_in_flight, 2);
    setenv("ROSTER_GATEWAY_BATCH_LOOKUPS", "yes", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_OK);
    ck_assert_int_eq(c.batch_lookups, 1);
    setenv("ROSTER_GATEWAY_BATCH_LOOKUPS", "maybe", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "ROSTER_GATEWAY_BATCH_LOOKUPS");
    unsetenv("ROSTER_GATEWAY_BATCH_LOOKUPS");
    char *bad_max[] = {"roster-gateway", "--batch-max", "1001", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, bad_max, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "batch-max");
    char *zero[] = {"roster-gateway", "--batch-in-flight", "0", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, zero, &d), ROSTER_E_INVALID_ARGUMENT);
    char *bare[] = {"roster-gateway", "--batch-lookups", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 2, bare, &d), ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(help)
{
    roster_err_detail d = {{0}};
    ck_assert_int_eq(run("--help", NULL, &d), ROSTER_E_CANCELLED);
    ck_assert_int_eq(run("--version", NULL, &d), ROSTER_E_CANCELLED);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, options);
    tcase_add_test(tc, http_options);
    tcase_add_test(tc, bad_options);
    tcase_add_test(tc, grpc_options);
    tcase_add_test(tc, environment);
    tcase_add_test(tc, batching);
    tcase_add_test(tc, help);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
