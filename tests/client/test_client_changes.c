/* The change feed against the real roster-users:
 * - 16 concurrent writers while a subscriber (roster-feed-subscriber,
 *   roster_client_watch) is killed with SIGKILL and started again at
 *   random points: what it wrote over all its lives is every seq once, in
 *   order, and replaying it onto empty tables gives what ListUsers and
 *   ListTenants answer;
 * - roster-users killed with SIGKILL during writes: after a restart the
 *   feed replays to exactly the stored data;
 * - retention by count and by age, and the gap error naming the oldest
 *   kept seq;
 * - scope and refusals: no key, a wrong key, a revoked key, a user token
 *   (the wrong role), a reader key of one tenant seeing nothing of the
 *   other; the announcement socket carries only seqs. */
#include "daemon.h"
#include "model.h"
#include "roster_client.h"
#include "store.h"

#include <check.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *subscriber_bin;

/* ------------------------------------------------------------ reading the feed */

#define MAX_EVENTS 8192

typedef struct events {
    size_t n;
    Roster__V1__Change *ev[MAX_EVENTS];
} events;

static void events_free(events *e)
{
    for (size_t i = 0; i < e->n; i++)
        roster__v1__change__free_unpacked(e->ev[i], NULL);
    e->n = 0;
}

/* Every event after `after` through ListChanges (admin unless credential). */
static void read_feed(events *e, rpc_client *c, uint64_t after, uint64_t *latest)
{
    for (;;) {
        Roster__V1__ListChangesRequest req = ROSTER__V1__LIST_CHANGES_REQUEST__INIT;
        req.has_after = req.has_limit = 1;
        req.after = after;
        req.limit = 1000;
        call_res r;
        ck_assert_int_eq(call_sync(c, RPC_LIST_CHANGES, &req.base, 10000, NULL, &r), 0);
        Roster__V1__ListChangesResponse *p = (void *)r.reply;
        for (size_t i = 0; i < p->n_changes; i++) {
            ck_assert_uint_lt(e->n, MAX_EVENTS);
            /* Kept apart from the reply: packed and unpacked again. */
            uint8_t *b = malloc(roster__v1__change__get_packed_size(p->changes[i]));
            size_t len = roster__v1__change__pack(p->changes[i], b);
            e->ev[e->n++] = roster__v1__change__unpack(NULL, len, b);
            free(b);
        }
        uint64_t next = p->next_after, last = p->latest_seq;
        call_res_free(&r);
        if (next >= last) {
            *latest = last;
            return;
        }
        after = next;
    }
}

/* Every event of a stopped daemon's data directory, read offline. */
static void read_feed_offline(events *e, const char *dir)
{
    store *st = NULL;
    store_options o = {.read_only = true};
    ck_assert_int_eq(store_open(&st, dir, &o), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(st, &r), ROSTER_E_OK);
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    store_changes_page p = {0};
    uint64_t after = 0;
    do {
        ck_assert_int_eq(store_changes_list(r, NULL, after, 1000, 0, &a, &p, NULL), ROSTER_E_OK);
        for (size_t i = 0; i < p.n; i++) {
            ck_assert_uint_lt(e->n, MAX_EVENTS);
            e->ev[e->n] = roster__v1__change__unpack(NULL, p.items[i].len, p.items[i].data);
            ck_assert_ptr_nonnull(e->ev[e->n]);
            e->n++;
        }
        after = p.next_after;
    } while (after < p.latest_seq);
    roster_arena_free(&a);
    store_read_end(r);
    store_close(st);
}

/* The records roster-feed-subscriber wrote. */
static void read_file(events *e, const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t head[4];
    static uint8_t body[65536];
    while (fread(head, 1, 4, f) == 4) {
        uint32_t n = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                     (uint32_t)head[3] << 24;
        ck_assert_uint_le(n, sizeof body);
        ck_assert_uint_eq(fread(body, 1, n, f), n);
        ck_assert_uint_lt(e->n, MAX_EVENTS);
        e->ev[e->n] = roster__v1__change__unpack(NULL, n, body);
        ck_assert_ptr_nonnull(e->ev[e->n]);
        e->n++;
    }
    fclose(f);
}

/* ------------------------------------------------------------ replay */

typedef struct row {
    char id[40];
    ProtobufCMessage *m; /* a User or Tenant owning nothing: strings borrowed from events */
} row;

typedef struct replica {
    size_t n_users, n_tenants;
    row users[2048], tenants[64];
} replica;

static row *find(row *rows, size_t *n, size_t cap, const char *id, const model_record *r)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(rows[i].id, id) == 0)
            return &rows[i];
    ck_assert_uint_lt(*n, cap);
    row *w = &rows[(*n)++];
    snprintf(w->id, sizeof w->id, "%s", id);
    w->m = calloc(1, r->pb->sizeof_message);
    protobuf_c_message_init(r->pb, w->m);
    return w;
}

static void apply_fields(ProtobufCMessage *dst, const model_record *r, const ProtobufCMessage *src,
                         uint64_t cleared)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = model_pb_field(r, &r->fields[i]);
        if (src != NULL && model_pb_has(src, fd))
            model_pb_copy(dst, fd, src, fd);
        else if (fd->id < 64 && (cleared >> fd->id) & 1)
            model_pb_clear(dst, fd);
    }
}

static void replay(replica *rp, const events *e)
{
    memset(rp, 0, sizeof *rp);
    for (size_t i = 0; i < e->n; i++) {
        const Roster__V1__Change *c = e->ev[i];
        uint64_t cl = c->has_cleared ? c->cleared : 0;
        switch (c->kind) {
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED:
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_UPDATED:
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DEACTIVATED:
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_REACTIVATED: {
            row *w = find(rp->users, &rp->n_users, 2048, c->id, &model_user);
            ck_assert_ptr_nonnull(c->user);
            apply_fields(w->m, &model_user, &c->user->base, cl);
            break;
        }
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED:
        case ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_UPDATED: {
            row *w = find(rp->tenants, &rp->n_tenants, 64, c->id, &model_tenant);
            ck_assert_ptr_nonnull(c->tenant);
            apply_fields(w->m, &model_tenant, &c->tenant->base, cl);
            break;
        }
        default:
            ck_abort_msg("unexpected event kind %d at seq %llu", (int)c->kind,
                         (unsigned long long)c->seq);
        }
    }
}

static void replica_free(replica *rp)
{
    for (size_t i = 0; i < rp->n_users; i++)
        free(rp->users[i].m);
    for (size_t i = 0; i < rp->n_tenants; i++)
        free(rp->tenants[i].m);
}

static bool same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
    if (na != nb)
        return false;
    uint8_t *x = malloc(na + 1), *y = malloc(nb + 1);
    protobuf_c_message_pack(a, x);
    protobuf_c_message_pack(b, y);
    bool eq = memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return eq;
}

/* The replica equals every user and tenant the service holds. */
static void compare(const replica *rp, rpc_client *c)
{
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter uf = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__BoolFilter all = ROSTER__V1__BOOL_FILTER__INIT;
    all.has_equal_to = all.equal_to = 1;
    uf.with_deactivated = &all;
    lu.filter = &uf;
    lu.has_limit = 1;
    lu.limit = 1000;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &lu.base, 10000, NULL, &r), 0);
    Roster__V1__ListUsersResponse *users = (void *)r.reply;
    ck_assert_uint_eq(users->n_users, rp->n_users);
    for (size_t i = 0; i < users->n_users; i++) {
        const row *w = NULL;
        for (size_t k = 0; k < rp->n_users && w == NULL; k++)
            if (strcmp(rp->users[k].id, users->users[i]->id) == 0)
                w = &rp->users[k];
        ck_assert_msg(w != NULL, "user %s is not in the feed", users->users[i]->id);
        ck_assert_msg(same(w->m, &users->users[i]->base), "user %s differs from its replay",
                      users->users[i]->id);
    }
    call_res_free(&r);
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    lt.has_limit = 1;
    lt.limit = 1000;
    ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &lt.base, 10000, NULL, &r), 0);
    Roster__V1__ListTenantsResponse *tenants = (void *)r.reply;
    ck_assert_uint_eq(tenants->n_tenants, rp->n_tenants);
    for (size_t i = 0; i < tenants->n_tenants; i++) {
        const row *w = NULL;
        for (size_t k = 0; k < rp->n_tenants && w == NULL; k++)
            if (strcmp(rp->tenants[k].id, tenants->tenants[i]->id) == 0)
                w = &rp->tenants[k];
        ck_assert_ptr_nonnull(w);
        ck_assert(same(w->m, &tenants->tenants[i]->base));
    }
    call_res_free(&r);
}

/* The same against the data directory itself, read offline the way
 * rosterctl dump reads it (the daemon stopped). */
typedef struct dump_check {
    const replica *rp;
    const model_record *r;
    size_t n;
} dump_check;

static int dump_one(void *ctx, const void *bytes, size_t len)
{
    dump_check *dc = ctx;
    ProtobufCMessage *m = protobuf_c_message_unpack(dc->r->pb, NULL, len, bytes);
    ck_assert_ptr_nonnull(m);
    const char *id =
        *(char *const *)(const void *)((const char *)m +
                                       model_pb_field(dc->r, &dc->r->fields[0])->offset);
    const row *rows = dc->r == &model_user ? dc->rp->users : dc->rp->tenants;
    size_t n = dc->r == &model_user ? dc->rp->n_users : dc->rp->n_tenants;
    const row *w = NULL;
    for (size_t k = 0; k < n && w == NULL; k++)
        if (strcmp(rows[k].id, id) == 0)
            w = &rows[k];
    ck_assert_msg(w != NULL, "%s %s of the dump is not in the feed", dc->r->name, id);
    ck_assert_msg(same(w->m, m), "%s %s of the dump differs from its replay", dc->r->name, id);
    protobuf_c_message_free_unpacked(m, NULL);
    dc->n++;
    return 0;
}

static void compare_dump(const replica *rp, const char *dir)
{
    store *st = NULL;
    store_options o = {.read_only = true};
    ck_assert_int_eq(store_open(&st, dir, &o), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(st, &r), ROSTER_E_OK);
    dump_check users = {rp, &model_user, 0}, tenants = {rp, &model_tenant, 0};
    ck_assert_int_eq(store_each_user(r, dump_one, &users), ROSTER_E_OK);
    ck_assert_int_eq(store_each_tenant(r, dump_one, &tenants), ROSTER_E_OK);
    ck_assert_uint_eq(users.n, rp->n_users);
    ck_assert_uint_eq(tenants.n, rp->n_tenants);
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
    store_close(st);
}

static void assert_sequence(const events *e, uint64_t first, uint64_t latest)
{
    ck_assert_uint_eq(e->n, latest - first + 1);
    for (size_t i = 0; i < e->n; i++)
        ck_assert_msg(e->ev[i]->seq == first + i, "event %zu has seq %llu, expected %llu", i,
                      (unsigned long long)e->ev[i]->seq, (unsigned long long)(first + i));
}

/* ------------------------------------------------------------ writers */

typedef struct writer_arg {
    rpc_client *c;
    int index, rounds;
    const char *tenants[2];
    atomic_bool *stop; /* NULL: run `rounds` rounds */
    int ok;
} writer_arg;

static char *create_tenant(rpc_client *c, const char *name)
{
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &req.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__Tenant *)r.reply)->id);
    call_res_free(&r);
    return id;
}

/* One user's life: created, renamed, phone cleared, deactivated,
 * reactivated and moved to the other tenant. */
static void *writer_main(void *p)
{
    writer_arg *a = p;
    for (int round = 0; a->stop ? !atomic_load(a->stop) : round < a->rounds; round++) {
        char ref[64], email[80];
        snprintf(ref, sizeof ref, "w%d-%d-%d", a->index, round, rand());
        snprintf(email, sizeof email, "%s@feed.test", ref);
        Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        cr.reference = ref;
        cr.email = email;
        cr.phone = "+1 555 0100";
        cr.tenant_id = (char *)a->tenants[round & 1];
        call_res r;
        if (call_sync(a->c, RPC_CREATE_USER, &cr.base, 10000, NULL, &r) != 0) {
            call_res_free(&r);
            continue;
        }
        char id[40];
        snprintf(id, sizeof id, "%s", ((Roster__V1__User *)r.reply)->id);
        call_res_free(&r);
        a->ok++;
        for (int step = 0; step < 4; step++) {
            Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
            Roster__V1__UserField phone = ROSTER__V1__USER_FIELD__USER_FIELD_PHONE;
            up.id = id;
            if (step == 0) {
                up.first_name = "Ada";
                up.n_clear = 1;
                up.clear = &phone;
            } else if (step == 1) {
                up.has_active = 1;
                up.active = 0;
            } else if (step == 2) {
                up.has_active = up.active = 1;
                up.last_name = "Lovelace";
            } else {
                up.tenant_id = (char *)a->tenants[(round + 1) & 1];
            }
            if (call_sync(a->c, RPC_UPDATE_USER, &up.base, 10000, NULL, &r) == 0)
                a->ok++;
            call_res_free(&r);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ the subscriber */

static pid_t subscriber_start(const test_daemon *d, const char *file)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(subscriber_bin, subscriber_bin, d->url, file, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void subscriber_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
}

/* The seq of the last record in the file (reads it whole). */
static uint64_t file_last(const char *file)
{
    events e = {0};
    read_file(&e, file);
    uint64_t s = e.n ? e.ev[e.n - 1]->seq : 0;
    events_free(&e);
    return s;
}

START_TEST(watch_under_writers_and_kills)
{
    static events e;
    static replica rp;
    test_daemon d = {0};
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    char *t[2] = {create_tenant(c, "alpha"), create_tenant(c, "beta")};
    char file[320];
    snprintf(file, sizeof file, "%s/feed.rec", d.dir);
    pid_t sub = subscriber_start(&d, file);

    enum { WRITERS = 16 };
    writer_arg wa[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){.c = c, .index = i, .rounds = 4, .tenants = {t[0], t[1]}};
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer_main, &wa[i]), 0);
    }
    /* Kill and restart the subscriber at random points while they write. */
    srand((unsigned)getpid());
    int kills = 0;
    for (int i = 0; i < 12; i++) {
        usleep((useconds_t)(20000 + rand() % 200000));
        subscriber_kill(sub);
        kills++;
        sub = subscriber_start(&d, file);
    }
    int ok = 0;
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        ok += wa[i].ok;
    }
    ck_assert_int_eq(ok, WRITERS * 4 * 5);
    /* One more kill after the writes, then wait for it to catch up. */
    subscriber_kill(sub);
    sub = subscriber_start(&d, file);
    uint64_t latest = 0;
    read_feed(&e, c, 0, &latest);
    events_free(&e);
    ck_assert_uint_eq(latest, 2 + WRITERS * 4 * 5);
    for (int i = 0; i < 200 && file_last(file) < latest; i++)
        usleep(50000);
    subscriber_kill(sub);
    read_file(&e, file);
    assert_sequence(&e, 1, latest);
    replay(&rp, &e);
    compare(&rp, c);
    fprintf(stderr, "watch_under_writers_and_kills: %zu events, %d subscriber kills\n", e.n, kills);
    replica_free(&rp);
    events_free(&e);
    free(t[0]);
    free(t[1]);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(kill9_feed_and_data_agree)
{
    static events e;
    static replica rp;
    test_daemon d = {0};
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    rpc_client *c = daemon_client(&d);
    char *t[2] = {create_tenant(c, "alpha"), create_tenant(c, "beta")};
    enum { WRITERS = 8 };
    atomic_bool stop = false;
    writer_arg wa[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){.c = c, .index = i, .stop = &stop, .tenants = {t[0], t[1]}};
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer_main, &wa[i]), 0);
    }
    usleep(700000);
    ck_assert_int_eq(daemon_stop(&d, SIGKILL), 128 + SIGKILL);
    atomic_store(&stop, true);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    rpc_client_close(c);
    daemon_start(&d, NULL, NULL);
    c = daemon_client(&d);
    uint64_t latest = 0;
    read_feed(&e, c, 0, &latest);
    ck_assert_uint_gt(latest, 2);
    assert_sequence(&e, 1, latest);
    replay(&rp, &e);
    compare(&rp, c);
    /* Numbering goes on from where the killed process left it. */
    char *t3 = create_tenant(c, "gamma");
    uint64_t after = 0;
    events_free(&e);
    read_feed(&e, c, latest, &after);
    ck_assert_uint_eq(after, latest + 1);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.ev[0]->id, t3);
    free(t[0]);
    free(t[1]);
    free(t3);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    /* The killed daemon's data directory, offline: every record is its
     * replay (the tenant made after the restart included). */
    events_free(&e);
    read_feed_offline(&e, d.dir);
    replica_free(&rp);
    replay(&rp, &e);
    compare_dump(&rp, d.dir);
    replica_free(&rp);
    events_free(&e);
    daemon_rmdir(&d);
}
END_TEST

static int list_changes(rpc_client *c, const char *credential, uint64_t after, int32_t limit,
                        call_res *r)
{
    Roster__V1__ListChangesRequest req = ROSTER__V1__LIST_CHANGES_REQUEST__INIT;
    req.has_after = req.has_limit = 1;
    req.after = after;
    req.limit = limit;
    return call_sync(c, RPC_LIST_CHANGES, &req.base, 5000, credential, r);
}

START_TEST(retention_by_count_and_age)
{
    test_daemon d = {0};
    daemon_mkdir(&d);
    const char *by_count[] = {"--changes-keep-events", "50", NULL};
    daemon_start(&d, NULL, by_count);
    rpc_client *c = daemon_client(&d);
    for (int i = 0; i < 120; i++)
        free(create_tenant(c, "t"));
    call_res r;
    ck_assert_int_eq(list_changes(c, NULL, 0, 10, &r), ROSTER_STATUS_OUT_OF_RANGE);
    ck_assert_str_eq(r.field, "after");
    ck_assert_ptr_nonnull(strstr(r.message, "oldest retained sequence is 71"));
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, NULL, 70, 1000, &r), 0);
    Roster__V1__ListChangesResponse *p = (void *)r.reply;
    ck_assert_uint_eq(p->n_changes, 50);
    ck_assert_uint_eq(p->oldest_seq, 71);
    ck_assert_uint_eq(p->latest_seq, 120);
    ck_assert_uint_eq(p->changes[0]->seq, 71);
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, NULL, 121, 10, &r), ROSTER_STATUS_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(r.message, "past the latest"));
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, NULL, 70, 1001, &r), ROSTER_STATUS_INVALID_ARGUMENT);
    ck_assert_str_eq(r.field, "limit");
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);

    /* By age: with no writes at all, the idle trim empties the feed. */
    const char *by_age[] = {"--changes-keep-age", "400ms", NULL};
    daemon_start(&d, NULL, by_age);
    c = daemon_client(&d);
    free(create_tenant(c, "late"));
    ck_assert_int_eq(list_changes(c, NULL, 120, 10, &r), 0);
    ck_assert_uint_eq(((Roster__V1__ListChangesResponse *)r.reply)->n_changes, 1);
    call_res_free(&r);
    usleep(1200000);
    ck_assert_int_eq(list_changes(c, NULL, 121, 10, &r), 0);
    p = (void *)r.reply;
    ck_assert_uint_eq(p->n_changes, 0);
    ck_assert_uint_eq(p->oldest_seq, 122);
    ck_assert_uint_eq(p->latest_seq, 121);
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, NULL, 120, 10, &r), ROSTER_STATUS_OUT_OF_RANGE);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(scope_and_refusals)
{
    test_daemon d = {0};
    daemon_mkdir(&d);
    const char *notify[] = {"--changes-listen", "tcp://127.0.0.1:20142", NULL};
    daemon_start(&d, "tcp://127.0.0.1:20141", notify);
    rpc_client *c = daemon_client(&d);
    /* Someone listening on the announcements, without a key. */
    nng_socket sub;
    ck_assert_int_eq(nng_sub0_open(&sub), 0);
    ck_assert_int_eq(nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0), 0);
    ck_assert_int_eq(nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 3000), 0);
    ck_assert_int_eq(nng_dial(sub, "tcp://127.0.0.1:20142", NULL, 0), 0);
    usleep(100000);
    char *ta = create_tenant(c, "alpha"), *tb = create_tenant(c, "beta");
    char *reader_a = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_READER, ta, NULL);
    char revoked_id[40];
    char *revoked = daemon_mint_key(c, ROSTER__V1__ROLE__ROLE_WRITER, ta, revoked_id);
    Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    call_res r;
    cr.reference = "ra";
    cr.email = "ada@alpha.test";
    cr.tenant_id = ta;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &cr.base, 5000, NULL, &r), 0);
    char ada[40];
    snprintf(ada, sizeof ada, "%s", ((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);
    cr.reference = "rb";
    cr.email = "bob@beta.test";
    cr.tenant_id = tb;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &cr.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    Roster__V1__RevokeKeyRequest rk = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rk.id = revoked_id;
    ck_assert_int_eq(call_sync(c, RPC_REVOKE_KEY, &rk.base, 5000, NULL, &r), 0);
    call_res_free(&r);

    /* The announcements: 16 bytes each, two seqs, no data. */
    uint64_t seen = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t *msg = NULL;
        size_t len = 0;
        ck_assert_int_eq(nng_recv(sub, &msg, &len, NNG_FLAG_ALLOC), 0);
        ck_assert_uint_eq(len, 16);
        uint64_t first = 0, last = 0;
        for (int k = 0; k < 8; k++) {
            first = first << 8 | msg[k];
            last = last << 8 | msg[8 + k];
        }
        nng_free(msg, len);
        ck_assert_uint_eq(first, seen + 1);
        ck_assert_uint_ge(last, first);
        seen = last;
    }
    ck_assert_uint_eq(seen, 4);
    nng_close(sub);

    /* No key, a made-up key, a revoked key. */
    test_daemon anon = d;
    anon.key[0] = '\0';
    rpc_client *nokey = daemon_client(&anon);
    ck_assert_int_eq(list_changes(nokey, NULL, 0, 10, &r), ROSTER_STATUS_UNAUTHENTICATED);
    call_res_free(&r);
    rpc_client_close(nokey);
    const char *wrong = "rstr_0123456789abcdef0123456789abcdef_"
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    ck_assert_int_eq(list_changes(c, wrong, 0, 10, &r), ROSTER_STATUS_UNAUTHENTICATED);
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, revoked, 0, 10, &r), ROSTER_STATUS_UNAUTHENTICATED);
    call_res_free(&r);
    /* A user token may not read the feed (the wrong role). */
    Roster__V1__GetEnvironmentRequest ge = ROSTER__V1__GET_ENVIRONMENT_REQUEST__INIT;
    ck_assert_int_eq(call_sync(c, RPC_GET_ENVIRONMENT, &ge.base, 5000, NULL, &r), 0);
    char env[40];
    snprintf(env, sizeof env, "%s", ((Roster__V1__Environment *)r.reply)->id);
    call_res_free(&r);
    Roster__V1__IssueUserTokenRequest it = ROSTER__V1__ISSUE_USER_TOKEN_REQUEST__INIT;
    it.environment_id = env;
    it.user_id = ada;
    ck_assert_int_eq(call_sync(c, RPC_ISSUE_USER_TOKEN, &it.base, 5000, NULL, &r), 0);
    char *token = strdup(((Roster__V1__AccessToken *)r.reply)->access_token);
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, token, 0, 10, &r), ROSTER_STATUS_PERMISSION_DENIED);
    call_res_free(&r);
    /* The reader of alpha: alpha and Ada, nothing of beta or Bob. */
    ck_assert_int_eq(list_changes(c, reader_a, 0, 100, &r), 0);
    Roster__V1__ListChangesResponse *p = (void *)r.reply;
    ck_assert_uint_eq(p->n_changes, 2);
    ck_assert_str_eq(p->changes[0]->id, ta);
    ck_assert_str_eq(p->changes[1]->user->email, "ada@alpha.test");
    ck_assert_uint_eq(p->next_after, 4);
    ck_assert_uint_eq(p->latest_seq, 4);
    for (size_t i = 0; i < p->n_changes; i++)
        ck_assert_str_eq(p->changes[i]->tenant_id, ta);
    call_res_free(&r);
    /* The admin sees all four. */
    ck_assert_int_eq(list_changes(c, NULL, 0, 100, &r), 0);
    ck_assert_uint_eq(((Roster__V1__ListChangesResponse *)r.reply)->n_changes, 4);
    call_res_free(&r);
    free(token);
    free(reader_a);
    free(revoked);
    free(ta);
    free(tb);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

/* What roster_client_watch hands back: a gap ends it OUT_OF_RANGE with
 * *last at the caller's seq; *stop ends it OK; a callback that stops it
 * ends it CANCELLED at the event it stopped on. */
typedef struct seen {
    uint64_t seqs[64];
    size_t n, stop_after;
    volatile int *stop;
} seen;

static int collect(void *arg, const roster_v1_Change *ch)
{
    seen *s = arg;
    if (s->n < 64)
        s->seqs[s->n++] = ch->seq;
    if (s->stop != NULL && s->n == s->stop_after)
        *s->stop = 1;
    return s->stop == NULL && s->n == s->stop_after;
}

START_TEST(client_watch_results)
{
    test_daemon d = {0};
    daemon_mkdir(&d);
    const char *keep[] = {"--changes-keep-events", "5", NULL};
    daemon_start(&d, NULL, keep);
    rpc_client *c = daemon_client(&d);
    for (int i = 0; i < 8; i++)
        free(create_tenant(c, "t"));
    roster_client *rc = NULL;
    roster_err_detail det;
    ck_assert_int_eq(roster_client_open(&rc, d.url, NULL, &det), ROSTER_E_OK);
    roster_status st;
    uint64_t last = 99;
    seen s = {.stop_after = 2};
    roster_watch_options wo = {.poll_ms = 100};
    ck_assert_int_eq(roster_client_watch(&last, &st, rc, NULL, &wo, 0, collect, &s),
                     ROSTER_E_OUT_OF_RANGE);
    ck_assert_uint_eq(last, 0);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_ptr_nonnull(strstr(st.message, "oldest retained sequence is 4"));
    ck_assert_int_eq(roster_client_watch(&last, &st, rc, NULL, &wo, 3, collect, &s),
                     ROSTER_E_CANCELLED);
    ck_assert_uint_eq(last, 5);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.seqs[0], 4);
    ck_assert_uint_eq(s.seqs[1], 5);
    /* Resumed from 5 and stopped by the flag once caught up. */
    volatile int stop = 0;
    seen t = {.stop_after = 3, .stop = &stop};
    wo.stop = &stop;
    ck_assert_int_eq(roster_client_watch(&last, &st, rc, NULL, &wo, last, collect, &t),
                     ROSTER_E_OK);
    ck_assert_uint_eq(last, 8);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.seqs[0], 6);
    ck_assert_uint_eq(t.seqs[2], 8);
    roster_changes_info info;
    ck_assert_int_eq(roster_client_list_changes(&info, &st, rc, NULL, 8, 0, NULL, NULL),
                     ROSTER_E_OK);
    ck_assert_uint_eq(info.oldest_seq, 4);
    ck_assert_uint_eq(info.latest_seq, 8);
    ck_assert_uint_eq(info.count, 0);
    roster_client_close(rc);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

START_TEST(feed_off)
{
    test_daemon d = {0};
    daemon_mkdir(&d);
    const char *off[] = {"--no-change-feed", NULL};
    daemon_start(&d, NULL, off);
    rpc_client *c = daemon_client(&d);
    free(create_tenant(c, "t"));
    call_res r;
    ck_assert_int_eq(list_changes(c, NULL, 0, 10, &r), ROSTER_STATUS_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(r.message, "--no-change-feed"));
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    /* Back on: the unrecorded write took seq 1, and after 0 is a gap. */
    daemon_start(&d, NULL, NULL);
    c = daemon_client(&d);
    free(create_tenant(c, "u"));
    ck_assert_int_eq(list_changes(c, NULL, 0, 10, &r), ROSTER_STATUS_OUT_OF_RANGE);
    call_res_free(&r);
    ck_assert_int_eq(list_changes(c, NULL, 1, 10, &r), 0);
    ck_assert_uint_eq(((Roster__V1__ListChangesResponse *)r.reply)->n_changes, 1);
    call_res_free(&r);
    rpc_client_close(c);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

int main(int argc, char **argv)
{
    subscriber_bin = getenv("ROSTER_FEED_SUBSCRIBER_BIN");
    if (subscriber_bin == NULL) {
        fprintf(stderr, "ROSTER_FEED_SUBSCRIBER_BIN is not set\n");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("client_changes");
    TCase *tc = tcase_create("changes");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, watch_under_writers_and_kills);
    tcase_add_test(tc, kill9_feed_and_data_agree);
    tcase_add_test(tc, retention_by_count_and_age);
    tcase_add_test(tc, scope_and_refusals);
    tcase_add_test(tc, feed_off);
    tcase_add_test(tc, client_watch_results);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
