/* libFuzzer harness: roster-users' request handling in process, without
 * sockets. Each input is one request run through rpc_local_call, the
 * server's own path: envelope decoding, method lookup, body unpacking and
 * the NUL check, then users_service_handle (credential, role and scope,
 * validation, the store call: reads on the calling thread, lists on the
 * service's list thread, writes through the writer's group commit) on a
 * temporary store (fuzz_store.h) that keeps what earlier inputs wrote.
 *
 * Input: first byte b. With bit 0x80 set, the rest is the whole request
 * envelope (roster.v1.RpcRequest) as sent on the wire, credential
 * included. Otherwise the rest is the body of method (b & 0x1f) %
 * RPC_METHOD__COUNT, wrapped in an envelope here: with a 1 s deadline
 * when bit 0x20 is set, and with bit 0x40 the secret of a key an earlier
 * input created as the credential (else none: keyless callers are admin,
 * as on an ipc:// listener with --allow-keyless-ipc, so every method is
 * reachable).
 *
 * Ids: the service mints random ids, which no input could guess. The
 * harness keeps the last 8 user, tenant and key ids its replies carried,
 * and in every input replaces each 36-byte placeholder
 * "ffffffff-ffff-ffff-ffff-ffffffffffKD" (K: u, t or k; D: a digit) by
 * the remembered id of that kind in slot D % 8 (same length, so protobuf
 * framing stays intact), so updates, reads, rotations and revocations
 * reach records that exist.
 *
 * Checked beyond the sanitizers: every request gets exactly one reply,
 * within 10 s, and the reply is a decodable RpcReply with a known status;
 * the call's memory is all freed when the reply arrives (leaks are found
 * by LeakSanitizer per input). */
#include "fuzz_store.h"

#include "apikey.h"
#include "arena.h"
#include "log.h"
#include "rpc_envelope.h"
#include "rpc_method.h"
#include "rpc_server.h"
#include "uuid.h"
#include "service.h"
#include "stats.h"
#include "writer.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static users_stats *stats;
static users_writer *writer;
static users_service *svc;
static users_tokens *tokens;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool answered;
static uint8_t *reply;
static size_t reply_len;

/* Ids (and key secrets) from earlier replies, 8 of each kind, by slot. */
#define MEMO 8
enum { ID_USER, ID_TENANT, ID_KEY, ID__COUNT };
static char ids[ID__COUNT][MEMO][ROSTER_UUID_TEXT_LEN + 1];
static unsigned next_id[ID__COUNT];
static char secrets[MEMO][ROSTER_APIKEY_TEXT_LEN + 1];
static unsigned next_secret;

static const char placeholder[] = "ffffffff-ffff-ffff-ffff-ffffffffff";

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_service: %s\n", what);
        abort();
    }
}

static void service_stop(void)
{
    users_writer_stop(writer);
    writer = NULL;
    users_service_free(svc);
    svc = NULL;
    users_tokens_free(tokens);
    tokens = NULL;
    users_stats_free(stats);
    stats = NULL;
}

/* The signing keys live in a directory of their own, made once per
 * process (the store's directory is emptied at each reset) and removed at
 * exit with whatever rotations added to it. */
static char keys_dir[64];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_keys_dir(void)
{
    nftw(keys_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void service_start(store *st)
{
    if (keys_dir[0] == '\0') {
        snprintf(keys_dir, sizeof keys_dir, "/tmp/roster-fuzz-keys-XXXXXX");
        check(mkdtemp(keys_dir) != NULL, "mkdtemp for the signing keys");
        atexit(remove_keys_dir);
    }
    check(users_stats_new(&stats) == ROSTER_E_OK, "users_stats_new");
    check(users_writer_start(&writer, st, stats, true, 64) == ROSTER_E_OK, "users_writer_start");
    roster_err_detail d = {{0}};
    check(users_tokens_open(&tokens, st, keys_dir, &d) == ROSTER_E_OK, "users_tokens_open");
    check(users_service_new(&svc, st, writer, stats, tokens, 1, true) == ROSTER_E_OK,
          "users_service_new");
}

static void remember(int kind, const char *id)
{
    if (id == NULL || strlen(id) != ROSTER_UUID_TEXT_LEN)
        return;
    memcpy(ids[kind][next_id[kind]++ % MEMO], id, ROSTER_UUID_TEXT_LEN + 1);
}

/* Keeps the ids (and a new key's secret) an OK reply of method m carries. */
static void remember_reply(const rpc_method *m, const Roster__V1__RpcReply *r, roster_arena *arena)
{
    if (m == NULL || r->code != ROSTER_STATUS_OK || !r->has_body)
        return;
    ProtobufCMessage *body = NULL;
    if (rpc_body_decode(&body, arena, m->reply, r->body.data, r->body.len, NULL) != ROSTER_E_OK)
        return;
    if (m->reply == &roster__v1__user__descriptor) {
        remember(ID_USER, ((Roster__V1__User *)body)->id);
        remember(ID_TENANT, ((Roster__V1__User *)body)->tenant_id);
    } else if (m->reply == &roster__v1__tenant__descriptor) {
        remember(ID_TENANT, ((Roster__V1__Tenant *)body)->id);
    } else if (m->reply == &roster__v1__key_secret__descriptor) {
        const Roster__V1__KeySecret *k = (Roster__V1__KeySecret *)body;
        if (k->key != NULL)
            remember(ID_KEY, k->key->id);
        if (k->secret != NULL && strlen(k->secret) == ROSTER_APIKEY_TEXT_LEN)
            memcpy(secrets[next_secret++ % MEMO], k->secret, ROSTER_APIKEY_TEXT_LEN + 1);
    }
}

/* Replaces every placeholder in buf[0..len) by a remembered id. */
static void fill_ids(uint8_t *buf, size_t len)
{
    size_t pl = sizeof placeholder - 1;
    for (size_t i = 0; i + ROSTER_UUID_TEXT_LEN <= len; i++) {
        if (memcmp(buf + i, placeholder, pl) != 0)
            continue;
        const char *kinds = "utk";
        const char *k = memchr(kinds, buf[i + pl], 3);
        if (k == NULL)
            continue;
        const char *id = ids[k - kinds][buf[i + pl + 1] % MEMO];
        if (id[0] != '\0')
            memcpy(buf + i, id, ROSTER_UUID_TEXT_LEN);
    }
}

static void on_reply(void *arg, const void *bytes, size_t len)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    check(!answered, "a second reply to one request");
    answered = true;
    reply = (uint8_t *)bytes;
    reply_len = len;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

/* Waits for the reply (10 s at most) to a call of m (NULL: not known
 * here), checks it and keeps the ids it carries. */
static void await_reply(const rpc_method *m)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (!answered)
        check(pthread_cond_timedwait(&cv, &mu, &until) == 0, "no reply within 10 s");
    answered = false;
    pthread_mutex_unlock(&mu);
    if (reply == NULL)
        return; /* dropped for lack of memory */
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__RpcReply *r = NULL;
    check(rpc_reply_decode(&r, &arena, reply, reply_len, NULL) == ROSTER_E_OK,
          "the reply is not an RpcReply");
    check(roster_status_valid(r->code), "the reply's status is not a known code");
    remember_reply(m, r, &arena);
    roster_arena_free(&arena);
    free(reply);
    reply = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        roster_log_init("fuzz", ROSTER_LOG_ERROR); /* not a line per odd request */
        /* OpenSSL registers its exit cleanup when first used. Using it
         * here, before the store's exit handler exists, makes that cleanup
         * run last, after the writer thread (whose key minting keeps
         * per-thread OpenSSL state) has stopped; otherwise that state is
         * reported as leaked at exit. */
        char text[ROSTER_APIKEY_TEXT_LEN + 1];
        uint8_t hash[ROSTER_APIKEY_HASH_LEN];
        roster_uuid id = {{0}};
        check(roster_apikey_mint(text, hash, &id) == ROSTER_E_OK, "roster_apikey_mint");
        roster_secure_wipe(text, sizeof text);
        ready = true;
    }
    if (size == 0)
        return 0;
    bool fresh;
    store *st = fuzz_store_next(&fresh, 4096, service_stop);
    if (fresh) { /* an empty store: earlier ids name nothing now */
        service_start(st);
        memset(ids, 0, sizeof ids);
        memset(secrets, 0, sizeof secrets);
    }
    rpc_server_options o = {
        .handler = users_service_handle, .observer = users_service_observe, .arg = svc};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    uint8_t *in = roster_arena_alloc(&arena, size);
    check(in != NULL, "out of memory");
    memcpy(in, data + 1, size - 1);
    fill_ids(in, size - 1);
    const uint8_t *env = in;
    size_t env_len = size - 1;
    const rpc_method *m = NULL;
    if (!(data[0] & 0x80)) {
        m = rpc_method_get((rpc_method_id)((data[0] & 0x1f) % RPC_METHOD__COUNT));
        const char *secret = secrets[(next_secret + MEMO - 1) % MEMO];
        Roster__V1__RpcRequest req;
        Roster__V1__CallContext ctx;
        rpc_request_init(&req, &ctx, m->name, in, size - 1, "fuzz", (data[0] & 0x20) ? 1000 : 0,
                         (data[0] & 0x40) && secret[0] ? secret : NULL);
        uint8_t *packed;
        check(rpc_message_pack(&packed, &env_len, &arena, &req.base) == ROSTER_E_OK, "pack");
        env = packed;
    }
    check(rpc_local_call(&o, env, env_len, on_reply, NULL) == ROSTER_E_OK, "rpc_local_call");
    await_reply(m);
    roster_arena_free(&arena);
    return 0;
}
