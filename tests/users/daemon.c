#include "daemon.h"

#include <check.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const char *roster_users_bin;

/* Runs sql on the test cluster's administration database. */
static void pg_admin(const char *sql)
{
    const char *base = getenv("ROSTER_TEST_PG_URL");
    ck_assert_msg(base && *base, "ROSTER_TEST_STORE=postgres needs ROSTER_TEST_PG_URL");
    PGconn *c = PQconnectdb(base);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* The database of d: "d_" and the directory's random suffix. */
static void pg_db_name(const test_daemon *d, char *out, size_t cap)
{
    const char *suffix = strrchr(d->dir, '-');
    snprintf(out, cap, "d_%s", suffix ? suffix + 1 : "x");
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

void daemon_mkdir(test_daemon *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/roster-users-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d->dir));
    const char *backend = getenv("ROSTER_TEST_STORE");
    if (backend && strcmp(backend, "postgres") == 0) {
        char db[64], sql[128];
        pg_db_name(d, db, sizeof db);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
        pg_admin(sql);
        const char *base = getenv("ROSTER_TEST_PG_URL");
        const char *slash = strrchr(base, '/');
        snprintf(d->store, sizeof d->store, "%.*s/%s", (int)(slash - base), base, db);
    }
}

void daemon_rmdir(test_daemon *d)
{
    if (d->store[0]) {
        char db[64], sql[128];
        pg_db_name(d, db, sizeof db);
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
        pg_admin(sql);
        d->store[0] = '\0';
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.log'", d->dir, d->dir);
    ck_assert_int_eq(system(cmd), 0);
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    call_res *res;
} waiter;

static void copy_cb(void *arg, const rpc_result *r)
{
    waiter *w = arg;
    call_res *res = w->res;
    memset(res, 0, sizeof *res);
    res->code = r->code;
    snprintf(res->message, sizeof res->message, "%s", r->message);
    res->n_violations = r->n_violations;
    if (r->n_violations > 0 && r->violations[0]->field)
        snprintf(res->field, sizeof res->field, "%s", r->violations[0]->field);
    if (r->code == 0 && r->method != NULL)
        res->reply = protobuf_c_message_unpack(r->method->reply, NULL, r->body_len, r->body);
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_done(waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

#define WAITER(name, r)                                                                            \
    waiter name = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, (r)}

int call_sync(rpc_client *c, rpc_method_id m, const ProtobufCMessage *req, uint32_t timeout_ms,
              const char *credential, call_res *res)
{
    WAITER(w, res);
    ck_assert_int_eq(rpc_client_call(c, m, req, timeout_ms, credential, copy_cb, &w), ROSTER_E_OK);
    wait_done(&w);
    return res->code;
}

int call_raw_sync(rpc_client *c, const char *method, const void *body, size_t len,
                  uint32_t timeout_ms, call_res *res)
{
    WAITER(w, res);
    ck_assert_int_eq(rpc_client_call_raw(c, method, body, len, timeout_ms, NULL, NULL, copy_cb, &w),
                     ROSTER_E_OK);
    wait_done(&w);
    return res->code;
}

int send_bytes_sync(rpc_client *c, const void *bytes, size_t len, uint32_t timeout_ms,
                    call_res *res)
{
    WAITER(w, res);
    ck_assert_int_eq(rpc_client_send_bytes(c, bytes, len, timeout_ms, copy_cb, &w), ROSTER_E_OK);
    wait_done(&w);
    return res->code;
}

void call_res_free(call_res *res)
{
    if (res != NULL && res->reply != NULL) {
        protobuf_c_message_free_unpacked(res->reply, NULL);
        res->reply = NULL;
    }
}

rpc_client *daemon_client(const test_daemon *d)
{
    rpc_client *c = NULL;
    roster_err_detail det;
    rpc_client_options o = {.credential = d->key[0] ? d->key : NULL};
    ck_assert_int_eq(rpc_client_open(&c, d->url, &o, &det), ROSTER_E_OK);
    return c;
}

char *daemon_mint_key(rpc_client *c, int role, const char *tenant, char *key_id)
{
    Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    req.name = "test key";
    req.has_role = 1;
    req.role = (Roster__V1__Role)role;
    req.tenant_id = (char *)tenant;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_KEY, &req.base, 5000, NULL, &r), 0);
    Roster__V1__KeySecret *ks = (void *)r.reply;
    char *text = strdup(ks->secret);
    ck_assert_ptr_nonnull(text);
    if (key_id != NULL)
        snprintf(key_id, 37, "%s", ks->key->id);
    call_res_free(&r);
    return text;
}

static void read_key_file(test_daemon *d, const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no key file %s (see %s)", path, d->log);
    ck_assert_ptr_nonnull(fgets(d->key, sizeof d->key, f));
    fclose(f);
    d->key[strcspn(d->key, "\n")] = '\0';
}

void daemon_start(test_daemon *d, const char *url, const char *const *extra)
{
    const char *all[32];
    int n = 0;
    char keyfile[300];
    bool ipc = url == NULL || strncmp(url, "ipc://", 6) == 0;
    snprintf(keyfile, sizeof keyfile, "%s/admin.key", d->dir);
    if (ipc) {
        all[n++] = "--allow-keyless-ipc";
    } else {
        all[n++] = "--init-admin-key";
        all[n++] = keyfile;
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 30; i++)
        all[n++] = extra[i];
    all[n] = NULL;
    daemon_start_plain(d, url, all);
    if (!ipc)
        read_key_file(d, keyfile);
}

void daemon_spawn(test_daemon *d, const char *url, const char *const *extra)
{
    ck_assert_ptr_nonnull(roster_users_bin);
    if (url != NULL)
        snprintf(d->url, sizeof d->url, "%s", url);
    else
        snprintf(d->url, sizeof d->url, "ipc://%s/users.ipc", d->dir);
    snprintf(d->log, sizeof d->log, "%s.log", d->dir);
    const char *argv[32];
    int n = 0;
    argv[n++] = roster_users_bin;
    argv[n++] = "--data";
    argv[n++] = d->dir;
    if (d->store[0]) {
        argv[n++] = "--store";
        argv[n++] = d->store;
    }
    if (url != NULL) {
        argv[n++] = "--listen";
        argv[n++] = url;
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 30; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Never outlive the test process, even when an assertion kills it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execv(roster_users_bin, (char *const *)argv);
        _exit(127);
    }
    d->pid = pid;
}

void daemon_start_plain(test_daemon *d, const char *url, const char *const *extra)
{
    daemon_spawn(d, url, extra);
    rpc_client *c = daemon_client(d);
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    call_res res;
    int code = -1;
    for (int i = 0; i < 100 && code != 0; i++) {
        code = call_sync(c, RPC_HEALTH, &h.base, 500, NULL, &res);
        call_res_free(&res);
        if (code != 0)
            usleep(50000);
    }
    rpc_client_close(c);
    ck_assert_msg(code == 0, "roster-users did not come up on %s (see %s)", d->url, d->log);
}

int daemon_stop(test_daemon *d, int sig)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    int st = 0;
    waitpid(d->pid, &st, 0);
    d->pid = 0;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

int daemon_test_main(int argc, char **argv, Suite *s)
{
    roster_users_bin = argc > 1 ? argv[1] : getenv("ROSTER_USERS_BIN");
    if (roster_users_bin == NULL) {
        fprintf(stderr, "usage: %s PATH-TO-roster-users\n", argv[0]);
        srunner_free(srunner_create(s)); /* releases the suite */
        return EXIT_FAILURE;
    }
    signal(SIGPIPE, SIG_IGN);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void daemon_allow_nng_listener_leak(void)
{
    const char *supp = getenv("ROSTER_LSAN_NNG_SUPP");
    if (supp == NULL)
        return;
    char opts[600];
    snprintf(opts, sizeof opts, "suppressions=%s:print_suppressions=0", supp);
    setenv("LSAN_OPTIONS", opts, 1);
}

int daemon_log_count(const test_daemon *d, const char *word)
{
    FILE *f = fopen(d->log, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, word) != NULL;
    fclose(f);
    return n;
}

bool daemon_log_has(const test_daemon *d, const char *word)
{
    return daemon_log_count(d, word) > 0;
}

void daemon_ipc_connect_close(const test_daemon *d)
{
    ck_assert(strncmp(d->url, "ipc://", 6) == 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", d->url + 6);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
}
