/* Integration: the memory one request may make roster-users allocate is
 * bounded. The worst requests that fit the 4 MiB message limit (millions
 * of entries in a repeated field, of unknown fields, of one singular field,
 * of the envelope's fields; a 4 MiB string), sent by several clients at
 * once, are refused INVALID_ARGUMENT naming the field and the limit before
 * they are unpacked, every connection keeps working, and the daemon's peak
 * resident memory (VmHWM) grows by less than USERS_MEMORY_DELTA_MB over
 * its warm-up peak (src/users/README.md). */
#include "daemon.h"
#include "roster_limits.h"
#include "rpc_method.h"

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS_MEMORY_DELTA_MB   128
#define USERS_MEMORY_CEILING_MB 400
#define CLIENTS                 8
#define ROUNDS                  2

/* Body bytes that leave room for the envelope within the message limit. */
#define BODY_MAX (ROSTER_MAX_RPC_MESSAGE - 1024)

static double hwm_mb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1)
            break;
    fclose(f);
    ck_assert(kb > 0);
    return kb / 1024;
}

static size_t put_varint(uint8_t *b, size_t n, uint64_t v)
{
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    return n;
}

/* Field `number` (length-delimited) holding `len` bytes at `body`. */
static size_t put_bytes(uint8_t *b, size_t n, unsigned number, const void *body, size_t len)
{
    n = put_varint(b, n, (uint64_t)number << 3 | 2);
    n = put_varint(b, n, len);
    memcpy(b + n, body, len);
    return n + len;
}

/* Empty occurrences of field `number` until `cap` bytes are used. */
static size_t fill_empty(uint8_t *b, unsigned number, size_t cap)
{
    size_t n = 0;
    while (n + 4 <= cap)
        n = put_bytes(b, n, number, "", 0);
    return n;
}

typedef struct worst {
    const char *name;
    const char *method; /* NULL: body is the whole request */
    uint8_t *body;
    size_t len;
    const char *field; /* the violation's field */
} worst;

enum { W_IDS, W_VALUE_IN, W_CLEAR, W_UNKNOWN, W_SINGULAR, W_ENVELOPE, W_BIG_STRING, W__COUNT };

static worst cases[W__COUNT];

static const char *m_name(rpc_method_id id)
{
    return rpc_method_get(id)->name;
}

static void build_cases(void)
{
    uint8_t *tmp = malloc(BODY_MAX);
    ck_assert_ptr_nonnull(tmp);
    for (int i = 0; i < W__COUNT; i++) {
        cases[i].body = malloc(BODY_MAX);
        ck_assert_ptr_nonnull(cases[i].body);
    }
    /* Two million empty ids. */
    cases[W_IDS] = (worst){"BatchGetUsers ids", m_name(RPC_BATCH_GET_USERS), cases[W_IDS].body,
                           fill_empty(cases[W_IDS].body, 1, BODY_MAX), "ids"};
    /* ListUsersRequest.filter(1).email(3).value_in(5).values(1), two
     * million of them. */
    size_t n = fill_empty(tmp, 1, BODY_MAX - 32);
    uint8_t *b = cases[W_VALUE_IN].body;
    size_t k = put_bytes(b, 0, 5, tmp, n);
    memcpy(tmp, b, k);
    k = put_bytes(b, 0, 3, tmp, k);
    memcpy(tmp, b, k);
    k = put_bytes(b, 0, 1, tmp, k);
    cases[W_VALUE_IN] = (worst){"ListUsers filter.email.valueIn", m_name(RPC_LIST_USERS), b, k,
                                "filter.email.valueIn"};
    /* UpdateUserRequest.clear (14), packed: four million enum values. */
    memset(tmp, 1, BODY_MAX);
    b = cases[W_CLEAR].body;
    cases[W_CLEAR] = (worst){"UpdateUser clear", m_name(RPC_UPDATE_USER), b,
                             put_bytes(b, 0, 14, tmp, BODY_MAX - 16), "clear"};
    /* A million unknown fields (number 99). */
    cases[W_UNKNOWN] =
        (worst){"CreateUser unknown fields", m_name(RPC_CREATE_USER), cases[W_UNKNOWN].body,
                fill_empty(cases[W_UNKNOWN].body, 99, BODY_MAX), "CreateUserRequest"};
    /* first_name (3) two million times. */
    cases[W_SINGULAR] =
        (worst){"UpdateUser firstName repeated", m_name(RPC_UPDATE_USER), cases[W_SINGULAR].body,
                fill_empty(cases[W_SINGULAR].body, 3, BODY_MAX), "firstName"};
    /* The envelope itself: RpcRequest.method (1) two million times. */
    cases[W_ENVELOPE] = (worst){"RpcRequest method repeated", NULL, cases[W_ENVELOPE].body,
                                fill_empty(cases[W_ENVELOPE].body, 1, BODY_MAX), "method"};
    /* A legitimate shape: reference (1), email (2) and a 4 MiB customData
     * string (13). */
    memset(tmp, 'a', BODY_MAX);
    b = cases[W_BIG_STRING].body;
    k = put_bytes(b, 0, 1, "big", 3);
    k = put_bytes(b, k, 2, "big@example.com", 15);
    cases[W_BIG_STRING] = (worst){"CreateUser 4 MiB customData", m_name(RPC_CREATE_USER), b,
                                  put_bytes(b, k, 13, tmp, BODY_MAX - 64), "customData"};
    free(tmp);
}

typedef struct client_run {
    const test_daemon *d;
    int failures;
    char why[512];
} client_run;

static void *client_thread(void *arg)
{
    client_run *r = arg;
    rpc_client *c = daemon_client(r->d);
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < W__COUNT; i++) {
            const worst *w = &cases[i];
            call_res res;
            int code = w->method ? call_raw_sync(c, w->method, w->body, w->len, 30000, &res)
                                 : send_bytes_sync(c, w->body, w->len, 30000, &res);
            call_res_free(&res);
            if (code != ROSTER_STATUS_INVALID_ARGUMENT || strcmp(res.field, w->field) != 0) {
                r->failures++;
                snprintf(r->why, sizeof r->why, "%s: code %d field \"%s\" message \"%s\"", w->name,
                         code, res.field, res.message);
            }
        }
    /* The connection that sent them still works. */
    call_res res;
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    if (call_sync(c, RPC_HEALTH, &h.base, 5000, NULL, &res) != 0) {
        r->failures++;
        snprintf(r->why, sizeof r->why, "Health after the worst requests: %s", res.message);
    }
    call_res_free(&res);
    rpc_client_close(c);
    return NULL;
}

/* ASan keeps freed memory in a quarantine (256 MB by default) that would
 * count towards VmHWM however well a request is bounded. */
static void small_quarantine(void)
{
    char asan[512];
    snprintf(asan, sizeof asan, "%s:quarantine_size_mb=16",
             getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "");
    setenv("ASAN_OPTIONS", asan, 1);
}

/* One 4 MiB BatchGetUsers of two million empty ids is refused before it
 * is unpacked: the daemon's peak grows by less than 16 MB (about 100 MB
 * when it was unpacked first). */
START_TEST(batch_of_empty_ids)
{
    small_quarantine();
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20107", NULL);
    rpc_client *c = daemon_client(&d);
    call_res res;
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_HEALTH, &h.base, 5000, NULL, &res), 0);
    call_res_free(&res);
    double base = hwm_mb(d.pid);
    uint8_t *b = malloc(BODY_MAX);
    ck_assert_ptr_nonnull(b);
    size_t n = fill_empty(b, 1, BODY_MAX);
    ck_assert_int_eq(call_raw_sync(c, m_name(RPC_BATCH_GET_USERS), b, n, 30000, &res),
                     ROSTER_STATUS_INVALID_ARGUMENT);
    double grew = hwm_mb(d.pid) - base;
    fprintf(stderr, "one BatchGetUsers of %zu empty ids: VmHWM grew %.1f MB\n", n / 2, grew);
    ck_assert_msg(grew < 16, "VmHWM grew %.1f MB", grew);
    ck_assert_str_eq(res.field, "ids");
    ck_assert_str_eq(res.message, "ids holds more than 1000 entries (ROSTER_MAX_BATCH)");
    call_res_free(&res);
    ck_assert_int_eq(call_sync(c, RPC_HEALTH, &h.base, 5000, NULL, &res), 0);
    call_res_free(&res);
    free(b);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(worst_requests_bounded)
{
    small_quarantine();
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, "tcp://127.0.0.1:20106", NULL);
    rpc_client *c = daemon_client(&d);

    /* Warm-up: ordinary writes and a batch get of 100 ids on every worker's
     * arena, so the baseline is the daemon's steady state. */
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    char *ids[100];
    for (int i = 0; i < 100; i++) {
        char email[64];
        snprintf(email, sizeof email, "user%d@example.com", i);
        Roster__V1__CreateUserRequest cu = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        cu.email = email;
        cu.reference = email;
        call_res res;
        ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &cu.base, 5000, NULL, &res), 0);
        ids[i] = strdup(((Roster__V1__User *)res.reply)->id);
        call_res_free(&res);
    }
    bg.ids = ids;
    bg.n_ids = 100;
    for (int i = 0; i < 200; i++) {
        call_res res;
        ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 5000, NULL, &res), 0);
        call_res_free(&res);
    }
    double base = hwm_mb(d.pid);

    build_cases();
    pthread_t th[CLIENTS];
    client_run runs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        runs[i] = (client_run){.d = &d};
        ck_assert_int_eq(pthread_create(&th[i], NULL, client_thread, &runs[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    double peak = hwm_mb(d.pid);
    fprintf(stderr, "roster-users VmHWM: %.1f MB after warm-up, %.1f MB after the worst requests\n",
            base, peak);
    ck_assert_msg(peak - base < USERS_MEMORY_DELTA_MB, "peak grew %.1f MB (bound %d)", peak - base,
                  USERS_MEMORY_DELTA_MB);
    ck_assert_msg(peak < USERS_MEMORY_CEILING_MB, "peak %.1f MB (ceiling %d)", peak,
                  USERS_MEMORY_CEILING_MB);
    for (int i = 0; i < CLIENTS; i++)
        ck_assert_msg(runs[i].failures == 0, "%s", runs[i].why);

    /* Still serving, and nothing was written by the refused requests. */
    call_res res;
    ck_assert_int_eq(call_sync(c, RPC_BATCH_GET_USERS, &bg.base, 5000, NULL, &res), 0);
    call_res_free(&res);
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 5000, NULL, &res), 0);
    ck_assert_int_eq(((Roster__V1__ListUsersResponse *)res.reply)->total_count, 100);
    call_res_free(&res);
    for (int i = 0; i < 100; i++)
        free(ids[i]);
    for (int i = 0; i < W__COUNT; i++)
        free(cases[i].body);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

static Suite *memory_suite(void)
{
    Suite *s = suite_create("users_memory");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 200);
    tcase_add_test(tc, batch_of_empty_ids);
    tcase_add_test(tc, worst_requests_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, memory_suite());
}
