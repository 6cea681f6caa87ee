/* The gateway's API key handling (auth.c): reading the bearer credential
 * from an Authorization header, and a check that cannot reach the user
 * service failing closed; plus the options that go with it
 * (--upstream-tls-insecure, --allowed-hosts, --metrics-require-key). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "signkeys.h"
#include "error.h"
#include "upstream.h"

static char key_text[ROSTER_APIKEY_TEXT_LEN + 1];
static roster_uuid key_id;

static void mint(void)
{
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_uuid_v7(&key_id, 1700000000000);
    ck_assert_int_eq(roster_apikey_mint(key_text, hash, &key_id), ROSTER_E_OK);
}

START_TEST(bearer_header)
{
    mint();
    char h[200];
    gw_key k;
    roster_err_detail d = {{0}};
    snprintf(h, sizeof h, "Bearer %s", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_OK);
    ck_assert_str_eq(k.text, key_text);
    ck_assert(roster_uuid_eq(&k.id, &key_id));
    snprintf(h, sizeof h, "  bearer \t%s  ", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_OK);
    ck_assert_str_eq(k.text, key_text);
    gw_key_wipe(&k);
    ck_assert_int_eq(k.text[0], 0);
    gw_key_wipe(NULL);
}
END_TEST

START_TEST(bearer_refusals)
{
    mint();
    gw_key k;
    memset(&k, 0x5a, sizeof k);
    roster_err_detail d = {{0}};
    ck_assert_int_eq(gw_key_from_header(&k, NULL, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "missing");
    char h[200];
    snprintf(h, sizeof h, "Basic %s", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "scheme");
    ck_assert_ptr_null(strstr(d.message, key_text));
    ck_assert_int_eq(gw_key_from_header(&k, "Bearer", &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "scheme");
    ck_assert_int_eq(gw_key_from_header(&k, "Bearerx abc", &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "scheme");
    ck_assert_int_eq(gw_key_from_header(&k, "Bearer ", &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "malformed");
    ck_assert_int_eq(gw_key_from_header(&k, "Bearer rstr_abc", &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "malformed");
    snprintf(h, sizeof h, "Bearer %s", key_text);
    h[strlen(h) - 1] = '*';
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "malformed");
    snprintf(h, sizeof h, "Bearer %sA", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_UNAUTHENTICATED);
    snprintf(h, sizeof h, "Bearer %s x", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_int_eq((unsigned char)k.text[0], 0x5a); /* untouched on failure */
}
END_TEST

/* An access token: hashed whole, its claims read (not verified) into the
 * key id and the environment; the ROQ SDK's Basic header must name the
 * token's environment. */
START_TEST(bearer_token)
{
    char dir[] = "/tmp/roster-gw-auth-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    roster_signkeys *sk = NULL;
    ck_assert_int_eq(roster_signkeys_open(&sk, dir, true, 1000, NULL), ROSTER_E_OK);
    roster_jwt_claims c;
    memset(&c, 0, sizeof c);
    roster_uuid_v7(&c.key_id, 1700000000000);
    c.env.b[0] = 0xee;
    snprintf(c.role, sizeof c.role, "admin");
    c.iat = 1000;
    c.exp = 1900;
    char tok[ROSTER_JWT_MAX_LEN + 1], h[ROSTER_JWT_MAX_LEN + 16];
    size_t len = 0;
    ck_assert_int_eq(roster_signkeys_sign(tok, &len, sk, &c), ROSTER_E_OK);
    roster_signkeys_free(sk);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);

    gw_key k;
    roster_err_detail d = {{0}};
    snprintf(h, sizeof h, "Bearer %s", tok);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_OK);
    ck_assert(k.token);
    ck_assert_str_eq(k.text, tok);
    ck_assert_int_eq(gw_key_read_claims(&k, &d), ROSTER_E_OK);
    ck_assert(roster_uuid_eq(&k.id, &c.key_id));
    ck_assert(roster_uuid_eq(&k.env, &c.env));
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_sha256(hash, tok, len), ROSTER_E_OK);
    ck_assert(roster_apikey_hash_eq(hash, k.hash));

    char env[ROSTER_UUID_TEXT_LEN + 1], pair[128], basic[200];
    roster_uuid_format(env, &c.env);
    snprintf(pair, sizeof pair, "%s:rstr_whatever", env);
    memcpy(basic, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)pair, (int)strlen(pair));
    ck_assert_int_eq(gw_key_check_basic(&k, NULL, &d), ROSTER_E_OK);
    ck_assert_int_eq(gw_key_check_basic(&k, basic, &d), ROSTER_E_OK);
    pair[0] = pair[0] == '0' ? '1' : '0';
    EVP_EncodeBlock((unsigned char *)basic + 6, (const unsigned char *)pair, (int)strlen(pair));
    ck_assert_int_eq(gw_key_check_basic(&k, basic, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "environment");
    ck_assert_int_eq(gw_key_check_basic(&k, "Basic !!!", &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "basic");
    ck_assert_int_eq(gw_key_check_basic(&k, "Bearer x", &d), ROSTER_E_UNAUTHENTICATED);
    gw_key_wipe(&k);

    /* A key's Basic header is not looked at; a broken token is malformed. */
    mint();
    snprintf(h, sizeof h, "Bearer %s", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_OK);
    ck_assert(!k.token);
    ck_assert_int_eq(gw_key_check_basic(&k, "Basic !!!", &d), ROSTER_E_OK);
    ck_assert_int_eq(gw_key_from_header(&k, "Bearer eyJhbGciOiJub25lIn0.e30.AA", &d), ROSTER_E_OK);
    ck_assert_int_eq(gw_key_read_claims(&k, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "malformed");
    ck_assert_ptr_nonnull(strstr(d.message, "access token"));
}
END_TEST

typedef struct verdict {
    int done;
    int err;
} verdict;

static void on_verdict(int err, bool admin, const char *message, void *ud)
{
    (void)admin;
    ck_assert_ptr_nonnull(message);
    verdict *v = ud;
    v->err = err;
    __atomic_store_n(&v->done, 1, __ATOMIC_RELEASE);
}

START_TEST(unreachable_service_fails_closed)
{
    mint();
    gw_upstream *up = NULL;
    roster_err_detail d = {{0}};
    ck_assert_int_eq(gw_upstream_new(&up, "ipc:///nonexistent/roster-gw-auth.ipc", 2, 1, NULL, &d),
                     ROSTER_E_OK);
    gw_auth *a = NULL;
    ck_assert_int_eq(gw_auth_new(&a, up), ROSTER_E_OK);
    gw_key k;
    char h[200];
    snprintf(h, sizeof h, "Bearer %s", key_text);
    ck_assert_int_eq(gw_key_from_header(&k, h, &d), ROSTER_E_OK);
    for (int round = 0; round < 2; round++) {
        verdict v = {0};
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        gw_auth_check(a, &k, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 200000000, on_verdict,
                      &v);
        for (int i = 0; i < 400 && !__atomic_load_n(&v.done, __ATOMIC_ACQUIRE); i++) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        ck_assert_int_eq(v.done, 1);
        ck_assert_msg(v.err == ROSTER_E_UNAVAILABLE || v.err == ROSTER_E_DEADLINE_EXCEEDED,
                      "round %d: %s", round, roster_errname(v.err));
    }
    gw_key_wipe(&k);
    gw_auth_free(a);
    gw_upstream_free(up);
    gw_auth_free(NULL);
}
END_TEST

START_TEST(auth_options)
{
    gw_config c;
    roster_err_detail d = {{0}};
    gw_config_defaults(&c);
    ck_assert_int_eq(c.metrics_require_key, 0);
    ck_assert_str_eq(c.allowed_hosts, "");
    char *argv[] = {"roster-gateway",
                    "--upstream",
                    "tls+tcp://10.0.0.1:7000",
                    "--allowed-hosts",
                    "a.example,[::1]:8080",
                    "--metrics-require-key",
                    NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 6, argv, &d), ROSTER_E_OK);
    ck_assert_str_eq(c.allowed_hosts, "a.example,[::1]:8080");
    ck_assert_int_eq(c.metrics_require_key, 1);
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "upstream-ca");
    ck_assert_ptr_nonnull(strstr(d.message, "--upstream-tls-insecure"));
    c.upstream_tls_insecure = 1;
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_OK);
    snprintf(c.upstream_ca, sizeof c.upstream_ca, "ca.pem");
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "upstream-tls-insecure");
    c.upstream_tls_insecure = 0;
    ck_assert_int_eq(gw_config_check(&c, &d), ROSTER_E_OK);
    char *bad[] = {"roster-gateway", "--allowed-hosts", "a b", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, bad, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "allowed-hosts");
    char *bad2[] = {"roster-gateway", "--allowed-hosts", "a,,b", NULL};
    ck_assert_int_eq(gw_config_from_args(&c, 3, bad2, &d), ROSTER_E_INVALID_ARGUMENT);
    setenv("ROSTER_GATEWAY_METRICS_REQUIRE_KEY", "no", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_OK);
    ck_assert_int_eq(c.metrics_require_key, 0);
    setenv("ROSTER_GATEWAY_METRICS_REQUIRE_KEY", "maybe", 1);
    ck_assert_int_eq(gw_config_from_env(&c, &d), ROSTER_E_INVALID_ARGUMENT);
    unsetenv("ROSTER_GATEWAY_METRICS_REQUIRE_KEY");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_auth");
    TCase *tc = tcase_create("auth");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, bearer_header);
    tcase_add_test(tc, bearer_refusals);
    tcase_add_test(tc, bearer_token);
    tcase_add_test(tc, unreachable_service_fails_closed);
    tcase_add_test(tc, auth_options);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
