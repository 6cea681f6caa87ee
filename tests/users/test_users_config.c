/* roster-users options and their environment variables. */
#include "config.h"
#include "store.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[128];

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/roster-users-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    const char *vars[] = {"ROSTER_DATA",
                          "ROSTER_LISTEN",
                          "ROSTER_TLS_CERT",
                          "ROSTER_TLS_KEY",
                          "ROSTER_WORKERS",
                          "ROSTER_MAX_GROUP",
                          "ROSTER_LOG_LEVEL",
                          "ROSTER_NO_GROUP_COMMIT",
                          "ROSTER_LIST_THREADS",
                          "ROSTER_IPC_MODE",
                          "ROSTER_LISTENER_CHECK_MS",
                          "ROSTER_ALLOW_KEYLESS_IPC",
                          "ROSTER_INIT_ADMIN_KEY",
                          "ROSTER_MAP_SIZE",
                          "ROSTER_NO_CHANGE_FEED",
                          "ROSTER_CHANGES_KEEP_EVENTS",
                          "ROSTER_CHANGES_KEEP_AGE",
                          "ROSTER_CHANGES_LISTEN",
                          "ROSTER_CUSTOM_INDEX",
                          "ROSTER_STORE_POOL"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

static int parse(users_config *c, roster_err_detail *d, const char *a1, const char *a2,
                 const char *a3, const char *a4)
{
    char *argv[] = {"roster-users", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc] != NULL)
        argc++;
    return users_config_parse(c, argc, argv, d);
}

/* Each of bad[n] as the value of --OPTION is refused, naming OPTION. */
static void assert_refused(const char *option, const char *const *bad, size_t n)
{
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", option);
    for (size_t i = 0; i < n; i++) {
        users_config c;
        roster_err_detail d = {0};
        ck_assert_msg(parse(&c, &d, flag, bad[i], NULL, NULL) == ROSTER_E_INVALID_ARGUMENT,
                      "%s accepted %s", flag, bad[i]);
        ck_assert_str_eq(d.field, option);
    }
}

START_TEST(defaults_and_created_dir)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/a/b", tmp);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, NULL, NULL), ROSTER_E_OK);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_str_eq(c.data_dir, dir);
    char want[300];
    snprintf(want, sizeof want, "ipc://%s/users.ipc", dir);
    ck_assert_str_eq(c.listen, want);
    ck_assert_uint_eq(c.workers, 64);
    ck_assert_uint_eq(c.max_group, 512);
    ck_assert_uint_eq(c.list_threads, 2);
    ck_assert_uint_eq(c.store_pool, 8);
    ck_assert(c.group_commit);
    ck_assert_int_eq(c.log_level, ROSTER_LOG_INFO);
    ck_assert_ptr_null(c.tls_cert);
    ck_assert(!c.allow_keyless_ipc);
    ck_assert_ptr_null(c.init_admin_key);
    users_config_free(&c);
    users_config_free(NULL);
}
END_TEST

START_TEST(key_options)
{
    users_config c;
    roster_err_detail d;
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--allow-keyless-ipc", NULL), ROSTER_E_OK);
    ck_assert(c.allow_keyless_ipc);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--init-admin-key", "/tmp/k"), ROSTER_E_OK);
    ck_assert_str_eq(c.init_admin_key, "/tmp/k");
    ck_assert(!c.allow_keyless_ipc);
    users_config_free(&c);
    setenv("ROSTER_ALLOW_KEYLESS_IPC", "yes", 1);
    setenv("ROSTER_INIT_ADMIN_KEY", "/tmp/env-key", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--init-admin-key", "/tmp/opt"), ROSTER_E_OK);
    ck_assert(c.allow_keyless_ipc);
    ck_assert_str_eq(c.init_admin_key, "/tmp/opt"); /* the option wins */
    users_config_free(&c);
    setenv("ROSTER_ALLOW_KEYLESS_IPC", "0", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, NULL, NULL), ROSTER_E_OK);
    ck_assert(!c.allow_keyless_ipc);
    ck_assert_str_eq(c.init_admin_key, "/tmp/env-key");
    users_config_free(&c);
    setenv("ROSTER_ALLOW_KEYLESS_IPC", "maybe", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "ROSTER_ALLOW_KEYLESS_IPC");
    unsetenv("ROSTER_ALLOW_KEYLESS_IPC");
    unsetenv("ROSTER_INIT_ADMIN_KEY");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--init-admin-key", NULL),
                     ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(environment_and_precedence)
{
    users_config c;
    roster_err_detail d;
    setenv("ROSTER_DATA", tmp, 1);
    setenv("ROSTER_LISTEN", "tcp://127.0.0.1:20110", 1);
    setenv("ROSTER_WORKERS", "8", 1);
    setenv("ROSTER_MAX_GROUP", "16", 1);
    setenv("ROSTER_LIST_THREADS", "5", 1);
    setenv("ROSTER_LOG_LEVEL", "debug", 1);
    setenv("ROSTER_NO_GROUP_COMMIT", "1", 1);
    setenv("ROSTER_STORE_POOL", "3", 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.store_pool, 3);
    ck_assert_str_eq(c.listen, "tcp://127.0.0.1:20110");
    ck_assert_uint_eq(c.workers, 8);
    ck_assert_uint_eq(c.max_group, 16);
    ck_assert_uint_eq(c.list_threads, 5);
    ck_assert_int_eq(c.log_level, ROSTER_LOG_DEBUG);
    ck_assert(!c.group_commit);
    users_config_free(&c);
    /* The option wins over the variable. */
    ck_assert_int_eq(parse(&c, &d, "--workers", "3", "--listen", "tcp://127.0.0.1:20111"),
                     ROSTER_E_OK);
    ck_assert_uint_eq(c.workers, 3);
    ck_assert_str_eq(c.listen, "tcp://127.0.0.1:20111");
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--store-pool", "12", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.store_pool, 12);
    users_config_free(&c);
    /* On PostgreSQL list threads default to the pool's size (they mostly
     * wait for the database); an explicit count wins. */
    ck_assert_int_eq(parse(&c, &d, "--store", "postgres://h/db", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.list_threads, 5); /* ROSTER_LIST_THREADS above */
    users_config_free(&c);
    unsetenv("ROSTER_LIST_THREADS");
    ck_assert_int_eq(parse(&c, &d, "--store", "postgres://h/db", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.list_threads, 3); /* ROSTER_STORE_POOL above */
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--store", "postgres://h/db", "--store-pool", "100"),
                     ROSTER_E_OK);
    ck_assert_uint_eq(c.list_threads, 64);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--store-pool", "100", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.list_threads, 2);
    users_config_free(&c);
    setenv("ROSTER_NO_GROUP_COMMIT", "maybe", 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "ROSTER_NO_GROUP_COMMIT");
}
END_TEST

START_TEST(bad_values_name_the_option)
{
    users_config c;
    roster_err_detail d;
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--workers", "0"), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "workers");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--workers", "12abc"), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--max-group", "-4"), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "max-group");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--list-threads", "65"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "list-threads");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--store-pool", "0"), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "store-pool");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--store-pool", "257"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "store-pool");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--log-level", "chatty"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "log-level");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--listen", "udp://x"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "listen");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--listen", "tls+tcp://127.0.0.1:20112"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tls-cert");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--tls-cert", "/x.pem"),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tls-key");
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--bogus", NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "--bogus");
    ck_assert_int_eq(parse(&c, &d, "--data", NULL, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "stray", NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "stray");
    /* A data path that is a file. */
    char file[200];
    snprintf(file, sizeof file, "%s/plain", tmp);
    FILE *f = fopen(file, "w");
    fclose(f);
    ck_assert_int_eq(parse(&c, &d, "--data", file, NULL, NULL), ROSTER_E_IO);
    ck_assert_str_eq(d.field, "data");
}
END_TEST

START_TEST(ipc_mode_and_listener_check)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/m", tmp);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(c.ipc_mode, 0600);
    ck_assert_uint_eq(c.listener_check_ms, 1000);
    users_config_free(&c);

    ck_assert_int_eq(parse(&c, &d, "--data", dir, "--ipc-mode", "0660"), ROSTER_E_OK);
    ck_assert_int_eq(c.ipc_mode, 0660);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, "--listener-check-ms", "0"), ROSTER_E_OK);
    ck_assert_uint_eq(c.listener_check_ms, 0);
    users_config_free(&c);

    /* The environment, and the option winning over it. */
    setenv("ROSTER_IPC_MODE", "640", 1);
    setenv("ROSTER_LISTENER_CHECK_MS", "250", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(c.ipc_mode, 0640);
    ck_assert_uint_eq(c.listener_check_ms, 250);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, "--listener-check-ms", "50"), ROSTER_E_OK);
    ck_assert_uint_eq(c.listener_check_ms, 50);
    users_config_free(&c);
    unsetenv("ROSTER_IPC_MODE");
    unsetenv("ROSTER_LISTENER_CHECK_MS");

    const char *bad_modes[] = {"0999", "0400", "abc", "", "01777", "-600", "0066"};
    for (size_t i = 0; i < sizeof bad_modes / sizeof *bad_modes; i++) {
        memset(&d, 0, sizeof d);
        ck_assert_int_eq(parse(&c, &d, "--data", dir, "--ipc-mode", bad_modes[i]),
                         ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "ipc-mode");
        ck_assert_ptr_nonnull(strstr(d.message, "ipc-mode"));
    }
    const char *bad_checks[] = {"10", "49", "-1", "x", "3600001"};
    for (size_t i = 0; i < sizeof bad_checks / sizeof *bad_checks; i++) {
        memset(&d, 0, sizeof d);
        ck_assert_int_eq(parse(&c, &d, "--data", dir, "--listener-check-ms", bad_checks[i]),
                         ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "listener-check-ms");
    }
    setenv("ROSTER_IPC_MODE", "777x", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, NULL, NULL), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "ipc-mode");
    unsetenv("ROSTER_IPC_MODE");
}
END_TEST

START_TEST(map_size_suffixes_and_bounds)
{
    users_config c;
    roster_err_detail d;
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.map_size, 0); /* the store's default */
    users_config_free(&c);
    static const struct {
        const char *text;
        uint64_t bytes;
    } ok[] = {{"1M", (uint64_t)1 << 20},
              {"1048576", (uint64_t)1 << 20},
              {"4096k", (uint64_t)4 << 20},
              {"2g", (uint64_t)2 << 30},
              {"64T", (uint64_t)64 << 40}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--map-size", ok[i].text), ROSTER_E_OK);
        ck_assert_uint_eq(c.map_size, ok[i].bytes);
        users_config_free(&c);
    }
    const char *bad[] = {"", "1023K", "65T", "-1M", "1MB", "M", "12Q", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(&c, &d, "--data", tmp, "--map-size", bad[i]) ==
                          ROSTER_E_INVALID_ARGUMENT,
                      "accepted %s", bad[i]);
        ck_assert_str_eq(d.field, "map-size");
    }
    setenv("ROSTER_MAP_SIZE", "3M", 1);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.map_size, (uint64_t)3 << 20);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--data", tmp, "--map-size", "5M"), ROSTER_E_OK);
    ck_assert_uint_eq(c.map_size, (uint64_t)5 << 20); /* the option wins */
    users_config_free(&c);
    unsetenv("ROSTER_MAP_SIZE");
}
END_TEST

START_TEST(change_feed_options)
{
    users_config c;
    roster_err_detail d;
    char dir[200], want[300];
    snprintf(dir, sizeof dir, "%s/f", tmp);
    setenv("ROSTER_DATA", dir, 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert(!c.changes_off);
    ck_assert_uint_eq(c.changes_keep_events, 1000000);
    ck_assert_uint_eq(c.changes_keep_ms, 7ull * 24 * 3600 * 1000);
    snprintf(want, sizeof want, "ipc://%s/users-changes.ipc", dir);
    ck_assert_str_eq(c.changes_listen, want);
    users_config_free(&c);
    /* Never a port beside a tcp service: the data directory's ipc socket. */
    ck_assert_int_eq(parse(&c, &d, "--listen", "tcp://127.0.0.1:7000", NULL, NULL), ROSTER_E_OK);
    ck_assert_str_eq(c.changes_listen, want);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--listen", "ipc:///run/roster/api.sock", NULL, NULL),
                     ROSTER_E_OK);
    ck_assert_str_eq(c.changes_listen, "ipc:///run/roster/api.sock-changes");
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--changes-listen", "tcp://127.0.0.1:7005", NULL, NULL),
                     ROSTER_E_OK);
    ck_assert_str_eq(c.changes_listen, "tcp://127.0.0.1:7005");
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-events", "none", "--changes-keep-age", "90m"),
                     ROSTER_E_OK);
    ck_assert_uint_eq(c.changes_keep_events, STORE_CHANGES_UNLIMITED);
    ck_assert_uint_eq(c.changes_keep_ms, 90ull * 60000);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-age", "none", "--changes-listen", "off"),
                     ROSTER_E_OK);
    ck_assert_uint_eq(c.changes_keep_ms, STORE_CHANGES_UNLIMITED);
    ck_assert_ptr_null(c.changes_listen);
    users_config_free(&c);
    setenv("ROSTER_NO_CHANGE_FEED", "1", 1);
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-events", "5", NULL, NULL), ROSTER_E_OK);
    ck_assert(c.changes_off);
    ck_assert_ptr_null(c.changes_listen);
    ck_assert_uint_eq(c.changes_keep_events, 5);
    users_config_free(&c);
    unsetenv("ROSTER_NO_CHANGE_FEED");
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-events", "0", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "changes-keep-events");
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-age", "10", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "changes-keep-age");
    ck_assert_int_eq(parse(&c, &d, "--changes-keep-age", "50ms", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(parse(&c, &d, "--changes-listen", "http://x", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "changes-listen");
    ck_assert_int_eq(parse(&c, &d, "--changes-listen", "tls+tcp://127.0.0.1:7005", NULL, NULL),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tls-cert");
}
END_TEST

START_TEST(custom_index_declarations)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/d", tmp);
    setenv("ROSTER_DATA", dir, 1);
    setenv("ROSTER_CUSTOM_INDEX", "plan:string,,billing.seats:integer", 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.n_custom_index, 2);
    ck_assert_str_eq(c.custom_index[0], "plan:string");
    ck_assert_str_eq(c.custom_index[1], "billing.seats:integer");
    users_config_free(&c);
    /* the options replace the environment's list */
    ck_assert_int_eq(parse(&c, &d, "--custom-index", "since:date", "--custom-index", "vip:boolean"),
                     ROSTER_E_OK);
    ck_assert_uint_eq(c.n_custom_index, 2);
    ck_assert_str_eq(c.custom_index[0], "since:date");
    ck_assert_str_eq(c.custom_index[1], "vip:boolean");
    users_config_free(&c);
    const char *bad[] = {"plan",         "plan:text",  ".plan:string",
                         "a..b:integer", "a b:number", ":string"};
    assert_refused("custom-index", bad, sizeof bad / sizeof bad[0]);
    unsetenv("ROSTER_CUSTOM_INDEX");
    unsetenv("ROSTER_DATA");
}
END_TEST

START_TEST(global_order_declarations)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/d", tmp);
    setenv("ROSTER_DATA", dir, 1);
    setenv("ROSTER_GLOBAL_ORDER", "lastName,,updatedAt", 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.n_global_order, 2);
    ck_assert_str_eq(c.global_order[0], "lastName");
    ck_assert_str_eq(c.global_order[1], "updatedAt");
    users_config_free(&c);
    /* the options replace the environment's list */
    ck_assert_int_eq(parse(&c, &d, "--global-order", "email", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.n_global_order, 1);
    ck_assert_str_eq(c.global_order[0], "email");
    users_config_free(&c);
    const char *bad[] = {"createdAt", "avatarUrl", "lastname", "plan:string", ""};
    assert_refused("global-order", bad, sizeof bad / sizeof bad[0]);
    unsetenv("ROSTER_GLOBAL_ORDER");
    unsetenv("ROSTER_DATA");
}
END_TEST

/* --merge-warn-tenants: 1000 unless given, the variable, the option over
 * it, 0 allowed, anything else not a number in range refused by name. */
START_TEST(merge_warn_tenants)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/d", tmp);
    setenv("ROSTER_DATA", dir, 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.merge_warn_tenants, 1000);
    users_config_free(&c);
    setenv("ROSTER_MERGE_WARN_TENANTS", "0", 1);
    ck_assert_int_eq(parse(&c, &d, NULL, NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.merge_warn_tenants, 0);
    users_config_free(&c);
    ck_assert_int_eq(parse(&c, &d, "--merge-warn-tenants", "250", NULL, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(c.merge_warn_tenants, 250);
    users_config_free(&c);
    unsetenv("ROSTER_MERGE_WARN_TENANTS");
    const char *bad[] = {"-1", "many", "", "100000001", "12x"};
    assert_refused("merge-warn-tenants", bad, sizeof bad / sizeof bad[0]);
    unsetenv("ROSTER_DATA");
}
END_TEST

START_TEST(help_creates_nothing)
{
    users_config c;
    roster_err_detail d;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/never", tmp);
    ck_assert_int_eq(parse(&c, &d, "--data", dir, "--help", NULL), ROSTER_E_OK);
    ck_assert(c.help);
    ck_assert_int_ne(access(dir, F_OK), 0);
    users_config_free(&c);
    char buf[8192];
    FILE *m = fmemopen(buf, sizeof buf, "w");
    users_config_usage(m);
    fclose(m);
    ck_assert_ptr_nonnull(strstr(buf, "4194304 bytes (4 MiB)"));
    ck_assert_ptr_nonnull(strstr(buf, "ROSTER_NO_GROUP_COMMIT"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("users_config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, defaults_and_created_dir);
    tcase_add_test(tc, environment_and_precedence);
    tcase_add_test(tc, bad_values_name_the_option);
    tcase_add_test(tc, ipc_mode_and_listener_check);
    tcase_add_test(tc, help_creates_nothing);
    tcase_add_test(tc, change_feed_options);
    tcase_add_test(tc, map_size_suffixes_and_bounds);
    tcase_add_test(tc, key_options);
    tcase_add_test(tc, custom_index_declarations);
    tcase_add_test(tc, global_order_declarations);
    tcase_add_test(tc, merge_warn_tenants);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    system("rm -rf /tmp/roster-users-config-*");
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
