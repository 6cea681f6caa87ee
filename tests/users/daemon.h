/* Test helpers: run the real roster-users binary on a temporary directory
 * and make synchronous calls to it through the async protobuf-c client. */
#ifndef ROSTER_TEST_DAEMON_H
#define ROSTER_TEST_DAEMON_H

#include "rpc_client.h"

#include <check.h>

#include <stdbool.h>
#include <sys/types.h>

typedef struct test_daemon {
    pid_t pid;
    char dir[256]; /* temporary data directory (owned by the test) */
    char url[320]; /* address it listens on */
    char log[300]; /* its stderr */
    char key[128]; /* admin key text for tcp:// and tls+tcp://, "" on ipc:// */
    /* With ROSTER_TEST_STORE=postgres: the daemon's store is this URL, a
     * database made for d by daemon_mkdir and dropped by daemon_rmdir;
     * "" for the LMDB store in d->dir. */
    char store[512];
} test_daemon;

/* Path of the roster-users binary: argv[1] of the suite, set by main. */
extern const char *roster_users_bin;

/* Makes a fresh temporary directory in d->dir, and when the environment
 * says ROSTER_TEST_STORE=postgres, a fresh database on the test cluster
 * (ROSTER_TEST_PG_URL) named after it, for every daemon_start of d. */
void daemon_mkdir(test_daemon *d);

/* Starts the daemon on d->dir listening on `url` (NULL = the ipc default)
 * with extra arguments (NULL-terminated list, may be NULL), and waits
 * until Health answers. Fails the test when it does not come up. On ipc://
 * it adds --allow-keyless-ipc; on tcp:// and tls+tcp:// it adds
 * --init-admin-key <dir>/admin.key and reads that key into d->key, which
 * daemon_client then sends with every call. */
void daemon_start(test_daemon *d, const char *url, const char *const *extra);

/* daemon_start without those additions: only `extra`. */
void daemon_start_plain(test_daemon *d, const char *url, const char *const *extra);

/* daemon_start_plain without waiting for Health: the process is started,
 * nothing more (for a test whose own clients wait for it). */
void daemon_spawn(test_daemon *d, const char *url, const char *const *extra);

/* Mints a key of `role` (a Roster__V1__Role) bound to `tenant` (NULL for
 * admin) through client c, with the client's default credential, and
 * returns its text (malloc'd; the caller frees it). If key_id is not NULL
 * the key's id is copied there (37 bytes). Fails the test on error. */
char *daemon_mint_key(rpc_client *c, int role, const char *tenant, char *key_id);

/* Sends `sig` and waits for the exit; returns the exit status, or 128+N
 * for death by signal N. */
int daemon_stop(test_daemon *d, int sig);

/* Removes d->dir and everything in it. */
void daemon_rmdir(test_daemon *d);

/* The outcome of one call, copied out of the callback. */
typedef struct call_res {
    int code;
    char message[256];
    char field[64];
    size_t n_violations;
    ProtobufCMessage *reply; /* unpacked with the default allocator, or NULL */
} call_res;

/* Runs one call and waits. `credential` NULL sends the client's default.
 * Returns res->code. */
int call_sync(rpc_client *c, rpc_method_id m, const ProtobufCMessage *req, uint32_t timeout_ms,
              const char *credential, call_res *res);

/* Like call_sync for any method name / raw body. */
int call_raw_sync(rpc_client *c, const char *method, const void *body, size_t len,
                  uint32_t timeout_ms, call_res *res);

/* Sends raw bytes as the whole request. */
int send_bytes_sync(rpc_client *c, const void *bytes, size_t len, uint32_t timeout_ms,
                    call_res *res);

/* Frees res->reply. Accepts NULL. */
void call_res_free(call_res *res);

/* The main of a suite that starts roster-users: takes its path from argv[1]
 * or ROSTER_USERS_BIN (usage and EXIT_FAILURE when neither), ignores
 * SIGPIPE, runs `s` (ownership passes) and returns EXIT_SUCCESS when no
 * test failed. */
int daemon_test_main(int argc, char **argv, Suite *s);

/* Under LeakSanitizer, a daemon whose listener was restored exits 1 for
 * what nng 1.5.2 leaves behind (see tests/users/lsan-nng-listener.supp);
 * daemons started after this call (in this process) run with those nng
 * allocations suppressed, when ROSTER_LSAN_NNG_SUPP names the file. */
void daemon_allow_nng_listener_leak(void);

/* How many lines of the daemon's log (d->log) contain `word`. */
int daemon_log_count(const test_daemon *d, const char *word);

/* True when the daemon's log has a line containing `word`. */
bool daemon_log_has(const test_daemon *d, const char *word);

/* Connects to the daemon's ipc socket file and closes at once, before the
 * SP handshake: what stops nng 1.5.2's ipc accept loop (upstream #1518),
 * most of the time. */
void daemon_ipc_connect_close(const test_daemon *d);

/* Opens a client on d->url sending d->key (when set) with every call. */
rpc_client *daemon_client(const test_daemon *d);

#endif
