/* The change feed of the PostgreSQL store against the LMDB store's:
 * thousands of random user and tenant writes (in groups that commit or
 * abort, with operations that fail) give the same events on both, seq for
 * seq, with the same scrubs, retention, scoped pages, byte caps, cursors
 * and refusals (timestamps aside: each backend stamps its own clock);
 * then the PostgreSQL side alone: failed operations and aborted groups
 * leave no seq, a delete scrubs the user's events (rolled back with its
 * group), retention by count and by age, a feed turned off by one process
 * leaves a gap, tenant deletion events, and two processes writing one
 * database while a reader polls: every seq seen once, in order, without
 * holes, each writer's events in its commit order. Seeded
 * (ROSTER_DIFF_SEED overrides the seed). */
#include "pg_fixture.h"
#include "store_fixture.h"

#include "pg_internal.h"

#include "clock.h"
#include "keys.h"
#include "record.h"

#include <sys/wait.h>
#include <time.h>

static pgstore *pg;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static int rn(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

#define PICK(arr) (arr[rn((int)(sizeof arr / sizeof arr[0]))])

static void open_pg(pgstore **out, bool off, uint64_t keep_events, uint64_t keep_ms)
{
    roster_err_detail d = {0};
    pgstore_options o = {.pool_size = 2,
                         .changes_off = off,
                         .changes_keep_events = keep_events,
                         .changes_keep_ms = keep_ms,
                         .detail = &d};
    ck_assert_msg(pgstore_open(out, pgfx_url, &o) == ROSTER_E_OK, "%s", d.message);
}

static void reopen_lmdb(uint64_t keep_events)
{
    store_close(fx_store);
    store_options o = {
        .no_sync = true, .map_size = (uint64_t)1 << 30, .changes_keep_events = keep_events};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
}

static void setup(void)
{
    fx_setup();
    pgfx_create_db();
    open_pg(&pg, false, 0, 0);
}

static void teardown(void)
{
    pgstore_close(pg);
    pg = NULL;
    pgfx_drop_db();
    fx_teardown();
}

/* ------------------------------------------------------------ helpers */

/* Writes tenant record t into PostgreSQL in its own group as the tenant
 * writes do: its row (replacing the record old/old_len, NULL for a new
 * tenant) and its change event, in one operation. */
static void pg_tenant_put(const Roster__V1__Tenant *t, const uint8_t *old, size_t old_len)
{
    uint8_t rec[1024], key[KEY_MAX];
    size_t len = roster__v1__tenant__get_packed_size(t);
    ck_assert_uint_le(len, sizeof rec);
    roster__v1__tenant__pack(t, rec);
    tenant_view tv;
    ck_assert_int_eq(tenant_view_parse(&tv, rec, len), ROSTER_E_OK);
    size_t kn = key_tenant_name(key, &tv);
    uint8_t def = tv.f.isDefault == 1;
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(pg_op_begin(w, NULL), ROSTER_E_OK);
    pg_param params[] = {{tv.id.b, 16, PG_OID_UUID},
                         {key, (int)kn, PG_OID_BYTEA},
                         {&def, 1, PG_OID_BOOL},
                         {rec, (int)len, PG_OID_BYTEA}};
    int err = pg_run0(w->c,
                      "INSERT INTO roster_tenants (id, name_key, is_default, record) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET name_key = $2, "
                      "is_default = $3, record = $4",
                      4, params, NULL);
    if (err == ROSTER_E_OK)
        err = pg_changes_append_tenant(w, old, old_len, t, rec, len, NULL);
    ck_assert_int_eq(pg_op_end(w, err, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
}

/* Deletes tenant `id` from PostgreSQL as the tenant delete does. */
static void pg_tenant_delete(const char *id_text)
{
    roster_uuid id;
    ck_assert_int_eq(roster_uuid_parse(&id, id_text, strlen(id_text)), ROSTER_E_OK);
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(pg_op_begin(w, NULL), ROSTER_E_OK);
    pg_param params[] = {{id.b, 16, PG_OID_UUID}};
    int err = pg_run0(w->c, "DELETE FROM roster_tenants WHERE id = $1", 1, params, NULL);
    if (err == ROSTER_E_OK)
        err = pg_changes_append_tenant_deleted(w, &id, NULL);
    ck_assert_int_eq(pg_op_end(w, err, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
}

/* A tenant made on both: created in LMDB, its stored record copied into
 * PostgreSQL with its event. The record's bytes stay in rec/len. */
typedef struct both_tenant {
    char id[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid uuid;
    uint8_t rec[1024];
    size_t len;
} both_tenant;

static void both_tenant_create(both_tenant *bt, const char *name)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(store_tenant_create(w, NULL, &req, &fx_arena, &t, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    strcpy(bt->id, t->id);
    ck_assert_int_eq(roster_uuid_parse(&bt->uuid, t->id, strlen(t->id)), ROSTER_E_OK);
    pg_tenant_put(t, NULL, 0);
    bt->len = roster__v1__tenant__pack(t, bt->rec);
}

static void both_tenant_rename(both_tenant *bt, const char *name)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateTenantRequest req = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    req.id = bt->id;
    req.name = (char *)name;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(store_tenant_update(w, NULL, &req, &fx_arena, &t, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    pg_tenant_put(t, bt->rec, bt->len);
    bt->len = roster__v1__tenant__pack(t, bt->rec);
}

/* An event's encoding without what each backend stamps with its own
 * clock (committedAt, and updatedAt of the record or diff), into buf. */
static size_t normalized(uint8_t *buf, size_t cap, const store_slice *s)
{
    Roster__V1__Change *c = roster__v1__change__unpack(NULL, s->len, s->data);
    ck_assert_ptr_nonnull(c);
    ck_assert(c->has_committed_at && c->committed_at > 0);
    c->has_committed_at = 0;
    c->committed_at = 0;
    if (c->user) {
        c->user->has_updated_at = 0;
        c->user->updated_at = 0;
    }
    if (c->tenant) {
        c->tenant->has_updated_at = 0;
        c->tenant->updated_at = 0;
    }
    size_t n = roster__v1__change__get_packed_size(c);
    ck_assert_uint_le(n, cap);
    roster__v1__change__pack(c, buf);
    roster__v1__change__free_unpacked(c, NULL);
    return n;
}

static long n_pages, n_events, n_refused, n_reduced, n_scrubbed, n_capped;

/* One ListChanges on both backends: the same answer. */
static void page_same(const roster_uuid *scope, uint64_t after, uint32_t limit, size_t max_bytes)
{
    store_rtxn *lr;
    pgstore_rtxn *pr;
    ck_assert_int_eq(store_read_begin(fx_store, &lr), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_read_begin(pg, &pr), ROSTER_E_OK);
    store_changes_page a, b;
    roster_err_detail dl = {0}, dp = {0};
    char scope_text[ROSTER_UUID_TEXT_LEN + 1] = "";
    if (scope)
        roster_uuid_format(scope_text, scope);
    int el = store_changes_list(lr, scope, after, limit, max_bytes, &fx_arena, &a, &dl);
    int ep = pgstore_changes_list(pr, scope, after, limit, max_bytes, &fx_arena, &b, &dp);
    ck_assert_msg(el == ep, "list after %llu: lmdb %d pg %d (%s / %s)", (unsigned long long)after,
                  el, ep, dl.message, dp.message);
    if (el != ROSTER_E_OK) {
        ck_assert_str_eq(dl.field, dp.field);
        ck_assert_str_eq(dl.message, dp.message);
        n_refused++;
    } else {
        n_pages++;
        ck_assert_uint_eq(a.oldest_seq, b.oldest_seq);
        ck_assert_uint_eq(a.latest_seq, b.latest_seq);
        ck_assert_msg(a.next_after == b.next_after, "after %llu limit %u: next %llu / %llu",
                      (unsigned long long)after, limit, (unsigned long long)a.next_after,
                      (unsigned long long)b.next_after);
        ck_assert_uint_eq(a.n, b.n);
        if (max_bytes && a.n < limit && a.next_after < a.latest_seq)
            n_capped++;
        static uint8_t x[8192], y[8192];
        for (size_t i = 0; i < a.n; i++) {
            size_t nx = normalized(x, sizeof x, &a.items[i]);
            size_t ny = normalized(y, sizeof y, &b.items[i]);
            ck_assert_msg(nx == ny && memcmp(x, y, nx) == 0, "event %zu after %llu differs", i,
                          (unsigned long long)after);
            Roster__V1__Change *c =
                roster__v1__change__unpack(NULL, a.items[i].len, a.items[i].data);
            n_events++;
            n_scrubbed += c->scrubbed;
            /* A user that left the scope's tenant, seen reduced. */
            n_reduced += scope && c->previous_tenant_id && c->user == NULL &&
                         strcmp(c->previous_tenant_id, scope_text) == 0;
            roster__v1__change__free_unpacked(c, NULL);
        }
    }
    store_read_end(lr);
    pgstore_read_end(pr);
}

/* ------------------------------------------------------------ differential */

#define N_TENANTS 3
#define N_IDS     300
static both_tenant tenants[N_TENANTS];
static char user_ids[N_IDS][ROSTER_UUID_TEXT_LEN + 1];

static const char *firsts[] = {NULL, "Ann", "Bob", "Cy", "Zed", "Anna"};
static const char *phones[] = {NULL, "+1 555 0100", "+66 2 123", "555"};

static const roster_uuid *pick_scope(void)
{
    return rn(5) == 0 ? &tenants[rn(N_TENANTS)].uuid : NULL;
}

static void same_result(const char *what, int el, int ep, const roster_err_detail *dl,
                        const roster_err_detail *dp)
{
    ck_assert_msg(el == ep, "%s: lmdb %d pg %d (%s / %s)", what, el, ep, dl->message, dp->message);
    if (el != ROSTER_E_OK)
        ck_assert_str_eq(dl->field, dp->field);
}

static void op_restore(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    int i = rn(N_IDS);
    char ref[16], email[32];
    snprintf(ref, sizeof ref, "r%d", rn(N_IDS * 2));
    snprintf(email, sizeof email, "u%d@x.io", rn(N_IDS * 2));
    u.id = user_ids[i];
    u.reference = ref;
    u.email = email;
    u.first_name = (char *)PICK(firsts);
    u.phone = (char *)PICK(phones);
    u.has_active = rn(3) > 0;
    u.active = rn(2);
    int t = rn(N_TENANTS + 1) - 1;
    u.tenant_id = t >= 0 ? tenants[t].id : NULL;
    u.has_created_at = u.has_updated_at = 1;
    u.created_at = u.updated_at = 1700000000000 + i * 1000;
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_restore(lw, &u, &dl);
    int ep = pgstore_user_restore(pw, &u, &dp);
    same_result("restore", el, ep, &dl, &dp);
}

static void op_update(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = user_ids[rn(N_IDS)];
    Roster__V1__UserField clear[2];
    char email[32];
    switch (rn(5)) {
    case 0:
        snprintf(email, sizeof email, "u%d@x.io", rn(N_IDS * 2));
        req.email = email;
        break;
    case 1:
        req.first_name = (char *)PICK(firsts);
        if (req.first_name == NULL) {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME;
            req.clear = clear;
        }
        break;
    case 2:
        req.has_active = 1;
        req.active = rn(2);
        break;
    case 3: {
        int t = rn(N_TENANTS + 1) - 1;
        if (t >= 0) {
            req.tenant_id = tenants[t].id;
        } else {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID;
            req.clear = clear;
        }
        req.phone = (char *)PICK(phones);
        break;
    }
    default:
        req.phone = (char *)PICK(phones);
        if (req.phone == NULL) {
            clear[req.n_clear++] = ROSTER__V1__USER_FIELD__USER_FIELD_PHONE;
            req.clear = clear;
        }
        break;
    }
    const roster_uuid *scope = pick_scope();
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_update(lw, scope, &req, &fx_arena, NULL, &dl);
    int ep = pgstore_user_update(pw, scope, &req, &fx_arena, NULL, &dp);
    same_result("update", el, ep, &dl, &dp);
}

static void op_delete(store_wtxn *lw, pgstore_wtxn *pw)
{
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    req.id = user_ids[rn(N_IDS)];
    const roster_uuid *scope = pick_scope();
    roster_err_detail dl = {0}, dp = {0};
    int el = store_user_delete(lw, scope, &req, &fx_arena, NULL, &dl);
    int ep = pgstore_user_delete(pw, scope, &req, &fx_arena, NULL, &dp);
    same_result("delete", el, ep, &dl, &dp);
}

/* A few random pages, and now and then the whole feed walked page by
 * page in every scope. */
static void compare_pages(bool walk)
{
    store_rtxn *lr;
    uint64_t oldest, latest;
    ck_assert_int_eq(store_read_begin(fx_store, &lr), ROSTER_E_OK);
    ck_assert_int_eq(store_changes_bounds(lr, &oldest, &latest), ROSTER_E_OK);
    store_read_end(lr);
    for (int i = 0; i < 6; i++) {
        /* Mostly within the feed, sometimes just outside it. */
        int64_t a = (int64_t)oldest - 2 + rn((int)(latest - oldest + 4));
        uint64_t after = a < 0 ? 0 : (uint64_t)a;
        if (rn(10) == 0)
            after = (uint64_t)rn((int)oldest + 1);
        uint32_t limit = rn(6) == 0 ? 0 : (uint32_t)(1 + rn(rn(2) ? 20 : 2000));
        size_t max_bytes = rn(3) == 0 ? (size_t)(1 + rn(3000)) : 0;
        page_same(pick_scope(), after, limit, max_bytes);
    }
    if (!walk)
        return;
    for (int s = -1; s < N_TENANTS; s++) {
        const roster_uuid *scope = s < 0 ? NULL : &tenants[s].uuid;
        uint64_t after = oldest - 1;
        while (after < latest) {
            store_rtxn *r;
            store_changes_page p;
            uint32_t limit = (uint32_t)(1 + rn(40));
            size_t max_bytes = rn(4) == 0 ? (size_t)(200 + rn(2000)) : 0;
            page_same(scope, after, limit, max_bytes);
            ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
            ck_assert_int_eq(
                store_changes_list(r, scope, after, limit, max_bytes, &fx_arena, &p, NULL),
                ROSTER_E_OK);
            store_read_end(r);
            ck_assert_uint_gt(p.next_after, after);
            after = p.next_after;
        }
    }
}

START_TEST(backends_agree)
{
    const char *seed = getenv("ROSTER_DIFF_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : 0xfeed2026ull;
    /* Retention by count trims during the run, on both. */
    reopen_lmdb(150);
    pgstore_close(pg);
    open_pg(&pg, false, 150, 0);
    for (int i = 0; i < N_TENANTS; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        both_tenant_create(&tenants[i], name);
    }
    /* A tenant made and deleted. */
    both_tenant gone;
    both_tenant_create(&gone, "gone");
    store_wtxn *lw;
    ck_assert_int_eq(store_write_begin(fx_store, &lw), ROSTER_E_OK);
    Roster__V1__DeleteTenantRequest dreq = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
    dreq.id = gone.id;
    ck_assert_int_eq(store_tenant_delete(lw, NULL, &dreq, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(lw), ROSTER_E_OK);
    pg_tenant_delete(gone.id);
    for (int i = 0; i < N_IDS; i++) {
        roster_uuid id;
        roster_uuid_v7(&id, 1700000000000 + i * 1000);
        roster_uuid_format(user_ids[i], &id);
    }
    compare_pages(true);
    for (int round = 0; round < 240; round++) {
        pgstore_wtxn *pw;
        ck_assert_int_eq(store_write_begin(fx_store, &lw), ROSTER_E_OK);
        ck_assert_int_eq(pgstore_write_begin(pg, &pw), ROSTER_E_OK);
        int ops = 1 + rn(12);
        for (int i = 0; i < ops; i++) {
            int k = rn(10);
            if (k < 5)
                op_restore(lw, pw);
            else if (k < 8)
                op_update(lw, pw);
            else
                op_delete(lw, pw);
        }
        uint64_t lf = 0, ll = 0, pf = 0, pl = 0;
        int el = store_changes_pending(lw, &lf, &ll);
        ck_assert_int_eq(el, pgstore_changes_pending(pw, &pf, &pl));
        if (el == ROSTER_E_OK) {
            ck_assert_uint_eq(lf, pf);
            ck_assert_uint_eq(ll, pl);
        }
        if (rn(8) == 0) {
            store_write_abort(lw);
            pgstore_write_abort(pw);
        } else {
            ck_assert_int_eq(store_write_commit(lw), ROSTER_E_OK);
            ck_assert_int_eq(pgstore_write_commit(pw), ROSTER_E_OK);
        }
        if (round % 40 == 39) {
            char name[24];
            snprintf(name, sizeof name, "t%d-%d", round % N_TENANTS, round);
            both_tenant_rename(&tenants[round % N_TENANTS], name);
        }
        compare_pages(round % 20 == 19);
        roster_arena_reset(&fx_arena);
    }
    fprintf(stderr,
            "pages %ld events %ld refused %ld reduced %ld scrubbed %ld capped %ld latest %ld "
            "kept %ld\n",
            n_pages, n_events, n_refused, n_reduced, n_scrubbed, n_capped,
            pgfx_sql("SELECT latest FROM roster_feed"),
            pgfx_sql("SELECT count(*) FROM roster_changes"));
    /* The run compared real feeds: trimmed, scrubbed, scoped, capped. */
    ck_assert_int_gt(pgfx_sql("SELECT latest FROM roster_feed"), 500);
    ck_assert_int_gt(pgfx_sql("SELECT floor FROM roster_feed"), 300);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"),
                     pgfx_sql("SELECT latest - floor FROM roster_feed"));
    ck_assert_int_gt(n_events, 10000);
    ck_assert_int_gt(n_refused, 20);
    ck_assert_int_gt(n_reduced, 10);
    ck_assert_int_gt(n_scrubbed, 100);
    ck_assert_int_gt(n_capped, 20);
}
END_TEST

/* ------------------------------------------------------------ PostgreSQL alone */

typedef struct feed {
    uint64_t oldest, latest, next;
    size_t n;
    Roster__V1__Change *ev[2048];
} feed;

/* Every event after `after` visible in `scope`, unpacked into the arena. */
static int read_feed(feed *f, const roster_uuid *scope, uint64_t after, roster_err_detail *d)
{
    memset(f, 0, sizeof *f);
    for (;;) {
        pgstore_rtxn *r;
        ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
        store_changes_page p;
        int err = pgstore_changes_list(r, scope, after, 1000, 0, &fx_arena, &p, d);
        if (err != ROSTER_E_OK) {
            pgstore_read_end(r);
            return err;
        }
        ProtobufCAllocator alloc;
        roster_arena_protobuf_allocator(&alloc, &fx_arena);
        for (size_t i = 0; i < p.n; i++) {
            ck_assert_uint_lt(f->n, 2048);
            f->ev[f->n] = roster__v1__change__unpack(&alloc, p.items[i].len, p.items[i].data);
            ck_assert_ptr_nonnull(f->ev[f->n]);
            f->n++;
        }
        pgstore_read_end(r);
        f->oldest = p.oldest_seq;
        f->latest = p.latest_seq;
        f->next = p.next_after;
        ck_assert_uint_ge(p.next_after, after);
        if (p.next_after == p.latest_seq)
            return ROSTER_E_OK;
        after = p.next_after;
    }
}

static int create(pgstore_wtxn *w, const char *ref, const char *email, const char *tenant,
                  Roster__V1__User **out)
{
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    req.reference = (char *)ref;
    req.email = (char *)email;
    req.tenant_id = (char *)tenant;
    return pgstore_user_create(w, NULL, &req, &fx_arena, out, NULL);
}

/* Creates a user in its own group. */
static Roster__V1__User *create1(const char *ref, const char *email, const char *tenant)
{
    pgstore_wtxn *w;
    Roster__V1__User *u = NULL;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, ref, email, tenant, &u), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    return u;
}

static void update1(const char *id, const char *first, const char *tenant, int active)
{
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    req.id = (char *)id;
    req.first_name = (char *)first;
    req.tenant_id = (char *)tenant;
    req.has_active = active >= 0;
    req.active = active > 0;
    ck_assert_int_eq(pgstore_user_update(w, NULL, &req, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
}

static int delete (pgstore_wtxn *w, const char *id)
{
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    req.id = (char *)id;
    return pgstore_user_delete(w, NULL, &req, &fx_arena, NULL, NULL);
}

START_TEST(failed_operations_leave_no_seq)
{
    create1("r1", "a@x.io", NULL);
    /* A group: ok, duplicate (refused), missing tenant (refused), ok. */
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "r2", "b@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "r1", "c@x.io", NULL, NULL), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(create(w, "r9", "c@x.io", "0190c1a2-0000-7000-8000-000000000001", NULL),
                     ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(create(w, "r3", "c@x.io", NULL, NULL), ROSTER_E_OK);
    uint64_t first = 0, last = 0;
    ck_assert_int_eq(pgstore_changes_pending(w, &first, &last), ROSTER_E_OK);
    ck_assert_uint_eq(first, 2);
    ck_assert_uint_eq(last, 3);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    /* A group whose only operation failed has nothing pending. */
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "r1", "z@x.io", NULL, NULL), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(pgstore_changes_pending(w, &first, &last), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    /* An aborted group leaves nothing and its numbers are reused. */
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "r4", "d@x.io", NULL, NULL), ROSTER_E_OK);
    pgstore_write_abort(w);
    create1("r5", "e@x.io", NULL);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 4);
    ck_assert_uint_eq(f.latest, 4);
    ck_assert_uint_eq(f.oldest, 1);
    for (size_t i = 0; i < f.n; i++) {
        ck_assert_uint_eq(f.ev[i]->seq, i + 1);
        ck_assert_int_eq(f.ev[i]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED);
    }
    ck_assert_str_eq(f.ev[2]->user->reference, "r3");
    ck_assert_str_eq(f.ev[3]->user->reference, "r5");
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), 4);
    ck_assert_int_eq(pgfx_sql("SELECT latest FROM roster_feed"), 4);
}
END_TEST

START_TEST(delete_scrubs_the_users_events)
{
    Roster__V1__User *a = create1("ra", "ada@x.io", NULL);
    Roster__V1__User *b = create1("rb", "bob@x.io", NULL);
    update1(a->id, "Ada", NULL, -1);
    update1(b->id, "Bob", NULL, -1);
    update1(a->id, NULL, NULL, 0);
    /* A delete in an aborted group keeps the events as they were. */
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(delete (w, a->id), ROSTER_E_OK);
    pgstore_write_abort(w);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes "
                              "WHERE position('ada@x.io'::bytea in record) > 0"),
                     1);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes WHERE user_id IS NOT NULL"), 5);
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(delete (w, a->id), ROSTER_E_OK);
    uint64_t first, last;
    ck_assert_int_eq(pgstore_changes_pending(w, &first, &last), ROSTER_E_OK);
    ck_assert_uint_eq(first, 6);
    ck_assert_uint_eq(last, 6);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 6);
    int seen_a = 0;
    for (size_t i = 0; i < f.n; i++) {
        const Roster__V1__Change *c = f.ev[i];
        if (strcmp(c->id, a->id) != 0)
            continue;
        seen_a++;
        if (c->kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED) {
            ck_assert_uint_eq(c->seq, 6);
            ck_assert_ptr_null(c->user);
            ck_assert(!c->scrubbed);
            continue;
        }
        ck_assert(c->scrubbed);
        ck_assert_ptr_null(c->user->email);
        ck_assert_ptr_null(c->user->reference);
        ck_assert_ptr_null(c->user->first_name);
        ck_assert(!c->user->has_active);
        ck_assert(!c->has_cleared);
        ck_assert_str_eq(c->user->id, a->id);
        if (c->kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED)
            ck_assert(c->user->has_created_at);
    }
    ck_assert_int_eq(seen_a, 4);
    /* Bob's events are untouched and still indexed for his own delete. */
    ck_assert_str_eq(f.ev[1]->user->email, "bob@x.io");
    ck_assert(!f.ev[1]->scrubbed);
    ck_assert_str_eq(f.ev[3]->user->first_name, "Bob");
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes "
                              "WHERE position('ada@x.io'::bytea in record) > 0 "
                              "OR position('Ada'::bytea in record) > 0"),
                     0);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes WHERE user_id IS NOT NULL"), 2);
    /* Deleting Bob with the feed off still scrubs him, and leaves a gap. */
    pgstore *off;
    open_pg(&off, true, 0, 0);
    ck_assert(!pgstore_changes_recording(off));
    ck_assert(pgstore_changes_recording(pg));
    ck_assert_int_eq(pgstore_write_begin(off, &w), ROSTER_E_OK);
    ck_assert_int_eq(delete (w, b->id), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_pending(w, &first, &last), ROSTER_E_NOT_FOUND);
    /* Seen inside the group: the commit's trim then drops every event
     * below the gap. */
    PGresult *res;
    ck_assert_int_eq(pg_run(w->c,
                            "SELECT count(*) FILTER (WHERE position('bob@x.io'::bytea in record) "
                            "> 0 OR user_id IS NOT NULL), count(*) FILTER (WHERE scrubbed) "
                            "FROM (SELECT *, position('Bob'::bytea in record) = 0 AS scrubbed "
                            "FROM roster_changes) c",
                            0, NULL, &res, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(pg_i64_get(PQgetvalue(res, 0, 0)), 0);
    ck_assert_int_eq(pg_i64_get(PQgetvalue(res, 0, 1)), 6);
    PQclear(res);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    pgstore_close(off);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), 0);
    roster_err_detail d = {0};
    ck_assert_int_eq(read_feed(&f, NULL, 6, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_int_eq(read_feed(&f, NULL, 7, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 0);
    ck_assert_uint_eq(f.oldest, 8);
}
END_TEST

START_TEST(retention_by_count)
{
    pgstore_close(pg);
    open_pg(&pg, false, 10, 0);
    for (int i = 0; i < 25; i++) {
        char ref[16], email[32];
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, "u%d@x.io", i);
        create1(ref, email, NULL);
    }
    feed f;
    roster_err_detail d = {0};
    ck_assert_int_eq(read_feed(&f, NULL, 15, &d), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 16);
    ck_assert_uint_eq(f.latest, 25);
    ck_assert_uint_eq(f.n, 10);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), 10);
    ck_assert_int_eq(pgfx_sql("SELECT min(seq) FROM roster_changes"), 16);
    ck_assert_int_eq(read_feed(&f, NULL, 14, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_str_eq(d.field, "after");
    ck_assert_ptr_nonnull(strstr(d.message, "oldest retained sequence is 16"));
    ck_assert_int_eq(read_feed(&f, NULL, 26, &d), ROSTER_E_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(d.message, "past the latest"));
    /* Pages: limit, the byte cap still gives one event, limit 0. */
    pgstore_rtxn *r;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 20, 3, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 3);
    ck_assert_uint_eq(p.next_after, 23);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 20, 3, 1, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.next_after, 21);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 20, 0, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_uint_eq(p.next_after, 20);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 25, 10, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_uint_eq(p.next_after, 25);
    uint64_t oldest, latest;
    ck_assert_int_eq(pgstore_changes_bounds(r, &oldest, &latest), ROSTER_E_OK);
    ck_assert_uint_eq(oldest, 16);
    ck_assert_uint_eq(latest, 25);
    pgstore_read_end(r);
}
END_TEST

START_TEST(retention_by_age)
{
    pgstore_close(pg);
    open_pg(&pg, false, STORE_CHANGES_UNLIMITED, 200);
    create1("r1", "a@x.io", NULL);
    create1("r2", "b@x.io", NULL);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    create1("r3", "c@x.io", NULL);
    feed f;
    ck_assert_int_eq(read_feed(&f, NULL, 2, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 3);
    ck_assert_uint_eq(f.n, 1);
    /* With no writes, pgstore_changes_trim trims the rest, bounded. */
    nanosleep(&ts, NULL);
    pgstore_wtxn *w;
    unsigned n = 9;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_trim(w, 0, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(pgstore_changes_trim(w, 5, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.oldest, 4);
    ck_assert_uint_eq(f.latest, 3);
    ck_assert_uint_eq(f.n, 0);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), 0);
    /* A trim in an aborted group trims nothing. */
    create1("r4", "d@x.io", NULL);
    nanosleep(&ts, NULL);
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_trim(w, 5, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 1);
    pgstore_write_abort(w);
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), 1);
    /* Numbering goes on after an empty feed. */
    ck_assert_int_eq(read_feed(&f, NULL, 3, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.ev[0]->seq, 4);
}
END_TEST

START_TEST(scope_and_tenant_events)
{
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    t.has_is_default = t.has_created_at = t.has_updated_at = 1;
    t.created_at = t.updated_at = 1700000000000;
    char t1[] = "0190c1a2-0000-7000-8000-000000000001",
         t2[] = "0190c1a2-0000-7000-8000-000000000002";
    t.id = t1;
    t.name = "one";
    pg_tenant_put(&t, NULL, 0);
    t.id = t2;
    t.name = "two";
    pg_tenant_put(&t, NULL, 0);
    roster_uuid s1, s2;
    ck_assert_int_eq(roster_uuid_parse(&s1, t1, strlen(t1)), ROSTER_E_OK);
    ck_assert_int_eq(roster_uuid_parse(&s2, t2, strlen(t2)), ROSTER_E_OK);
    Roster__V1__User *a = create1("ra", "ada@x.io", t1);
    create1("rb", "bob@x.io", t2);
    update1(a->id, "Ada", t2, -1); /* Ada moves from one to two */
    feed f;
    ck_assert_int_eq(read_feed(&f, &s1, 0, NULL), ROSTER_E_OK);
    /* Tenant one sees itself, Ada's creation and her leaving, reduced. */
    ck_assert_uint_eq(f.n, 3);
    ck_assert_uint_eq(f.latest, 5);
    ck_assert_uint_eq(f.next, 5);
    ck_assert_int_eq(f.ev[0]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED);
    ck_assert_str_eq(f.ev[0]->id, t1);
    ck_assert_str_eq(f.ev[0]->tenant->name, "one");
    ck_assert_str_eq(f.ev[1]->user->email, "ada@x.io");
    ck_assert_uint_eq(f.ev[2]->seq, 5);
    ck_assert_str_eq(f.ev[2]->previous_tenant_id, t1);
    ck_assert_str_eq(f.ev[2]->tenant_id, t2);
    ck_assert_str_eq(f.ev[2]->id, a->id);
    ck_assert_ptr_null(f.ev[2]->user);
    ck_assert_int_eq(read_feed(&f, &s2, 0, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_str_eq(f.ev[0]->id, t2);
    ck_assert_str_eq(f.ev[1]->user->email, "bob@x.io");
    ck_assert_str_eq(f.ev[2]->user->first_name, "Ada");
    ck_assert_str_eq(f.ev[2]->previous_tenant_id, t1);
    /* next_after skips what the scope does not see. */
    pgstore_rtxn *r;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    store_changes_page p;
    ck_assert_int_eq(pgstore_changes_list(r, &s1, 3, 10, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.next_after, 5);
    ck_assert_int_eq(pgstore_changes_list(r, &s1, 0, 1, 0, &fx_arena, &p, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_uint_eq(p.next_after, 1);
    pgstore_read_end(r);
    /* A tenant's update carries what changed; its deletion the id (one
     * has no users left since Ada moved). */
    uint8_t old[256];
    t.id = t1;
    t.name = "one";
    size_t old_len = roster__v1__tenant__pack(&t, old);
    t.name = "uno";
    t.updated_at = 1700000000500;
    pg_tenant_put(&t, old, old_len);
    pg_tenant_delete(t1);
    ck_assert_int_eq(read_feed(&f, NULL, 5, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_int_eq(f.ev[0]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_UPDATED);
    ck_assert_str_eq(f.ev[0]->tenant->name, "uno");
    ck_assert_int_eq(f.ev[0]->tenant->updated_at, 1700000000500);
    ck_assert(!f.ev[0]->tenant->has_is_default);
    ck_assert_ptr_null(f.ev[0]->tenant->reference);
    ck_assert_int_eq(f.ev[1]->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_DELETED);
    ck_assert_str_eq(f.ev[1]->id, t1);
    ck_assert_str_eq(f.ev[1]->tenant_id, t1);
    ck_assert_ptr_null(f.ev[1]->tenant);
    ck_assert_int_eq(read_feed(&f, &s1, 5, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 2);
    ck_assert_int_eq(read_feed(&f, &s2, 5, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(f.n, 0);
    ck_assert_uint_eq(f.next, 7);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

#define W_GROUPS 120

/* A writer process: W_GROUPS groups of one to four creates (references
 * tag + a counter that only grows with commits), now and then an
 * operation that fails or a group aborted. Exit status 0 when all went as
 * expected. */
static int writer(char tag)
{
    pgstore *p;
    pgstore_options o = {.pool_size = 1};
    if (pgstore_open(&p, pgfx_url, &o) != ROSTER_E_OK)
        return 10;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)tag;
    rng_state = seed;
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    int made = 0, rc = 0;
    for (int g = 0; g < W_GROUPS && rc == 0; g++) {
        pgstore_wtxn *w;
        if (pgstore_write_begin(p, &w) != ROSTER_E_OK) {
            rc = 11;
            break;
        }
        int ops = 1 + rn(4), next = made;
        for (int i = 0; i < ops && rc == 0; i++) {
            char ref[16], email[32];
            Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
            if (made > 0 && rn(5) == 0) {
                /* Taken already: refused, its seq given back. */
                snprintf(ref, sizeof ref, "%c%05d", tag, 0);
                snprintf(email, sizeof email, "%c-dup@x.io", tag);
                req.reference = ref;
                req.email = email;
                if (pgstore_user_create(w, NULL, &req, &a, NULL, NULL) != ROSTER_E_ALREADY_EXISTS)
                    rc = 12;
                continue;
            }
            snprintf(ref, sizeof ref, "%c%05d", tag, next);
            snprintf(email, sizeof email, "%c%05d@x.io", tag, next);
            req.reference = ref;
            req.email = email;
            if (pgstore_user_create(w, NULL, &req, &a, NULL, NULL) != ROSTER_E_OK)
                rc = 13;
            next++;
            if (rn(3) == 0) {
                struct timespec ts = {0, (long)rn(1000) * 1000L};
                nanosleep(&ts, NULL);
            }
        }
        if (rc != 0 || rn(6) == 0) {
            pgstore_write_abort(w);
        } else {
            if (pgstore_write_commit(w) != ROSTER_E_OK)
                rc = 14;
            made = next;
        }
        roster_arena_reset(&a);
    }
    roster_arena_free(&a);
    pgstore_close(p);
    return rc;
}

START_TEST(concurrent_writers_commit_order)
{
    pid_t kids[2];
    const char tags[2] = {'A', 'B'};
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0)
            _exit(writer(tags[i]));
    }
    rng_state = 0x5eed;
    uint64_t after = 0;
    int next_of[2] = {0, 0}, running = 2, polls = 0, nonempty = 0;
    long events = 0;
    bool exited[2] = {false, false};
    for (;;) {
        pgstore_rtxn *r;
        ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
        store_changes_page p;
        roster_err_detail d = {0};
        uint32_t limit = (uint32_t)(1 + rn(30));
        ck_assert_msg(pgstore_changes_list(r, NULL, after, limit, 0, &fx_arena, &p, &d) ==
                          ROSTER_E_OK,
                      "after %llu: %s", (unsigned long long)after, d.message);
        polls++;
        nonempty += p.n > 0;
        for (size_t i = 0; i < p.n; i++) {
            Roster__V1__Change *c =
                roster__v1__change__unpack(NULL, p.items[i].len, p.items[i].data);
            ck_assert_ptr_nonnull(c);
            /* Every seq once, in order, no hole. */
            ck_assert_uint_eq(c->seq, after + 1 + i);
            ck_assert_int_eq(c->kind, ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED);
            /* Each writer's users in the order it committed them. */
            const char *ref = c->user->reference;
            int who = ref[0] == 'A' ? 0 : 1;
            ck_assert_int_eq(atoi(ref + 1), next_of[who]);
            next_of[who]++;
            events++;
            roster__v1__change__free_unpacked(c, NULL);
        }
        ck_assert_uint_le(p.next_after, p.latest_seq);
        if (p.n > 0)
            ck_assert_uint_eq(p.next_after, after + p.n);
        after = p.next_after;
        pgstore_read_end(r);
        roster_arena_reset(&fx_arena);
        if (running == 0 && after == p.latest_seq)
            break;
        struct timespec ts = {0, 200 * 1000L};
        nanosleep(&ts, NULL);
        for (int i = 0; i < 2; i++) {
            int status;
            if (!exited[i] && waitpid(kids[i], &status, WNOHANG) == kids[i]) {
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %c: status %d",
                              tags[i], status);
                exited[i] = true;
                running--;
            }
        }
    }
    fprintf(stderr, "events %ld (A %d, B %d) polls %d with events %d\n", events, next_of[0],
            next_of[1], polls, nonempty);
    ck_assert_int_eq(events, pgfx_sql("SELECT count(*) FROM roster_users"));
    ck_assert_int_eq(events, pgfx_sql("SELECT latest FROM roster_feed"));
    ck_assert_int_gt(next_of[0], W_GROUPS);
    ck_assert_int_gt(next_of[1], W_GROUPS);
    /* The reader saw the feed grow while the writers ran. */
    ck_assert_int_gt(nonempty, 20);
}
END_TEST

/* ------------------------------------------------------------ verify */

/* The issues one pgstore_verify found: how many, and their messages. */
typedef struct issues {
    uint64_t n;
    int kinds[16];
    char text[4096];
} issues;

static void note_issue(void *ctx, const store_issue *is)
{
    issues *v = ctx;
    v->kinds[is->kind]++;
    size_t used = strlen(v->text);
    snprintf(v->text + used, sizeof v->text - used, "[%s %s] %s\n", is->db, is->id, is->message);
}

static issues verify_now(void)
{
    issues v;
    memset(&v, 0, sizeof v);
    pgstore_rtxn *r;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_verify(r, note_issue, &v, &v.n), ROSTER_E_OK);
    pgstore_read_end(r);
    return v;
}

/* Puts the feed back as saved in feed_copy (roster_feed in feed_row). */
static void restore_feed(void)
{
    pgfx_sql("DELETE FROM roster_changes");
    pgfx_sql("INSERT INTO roster_changes SELECT * FROM feed_copy");
    pgfx_sql("DELETE FROM roster_feed");
    pgfx_sql("INSERT INTO roster_feed SELECT * FROM feed_row");
    ck_assert_uint_eq(verify_now().n, 0);
}

/* pgstore_verify checks the change feed as the LMDB verify checks its
 * own: a feed corrupted through SQL, one way at a time, is reported,
 * naming what is wrong. */
/* The feed as (count, oldest seq, latest seq, the recorded floor). */
static void feed_is(long count, long oldest, long latest, long floor)
{
    ck_assert_int_eq(pgfx_sql("SELECT count(*) FROM roster_changes"), count);
    ck_assert_int_eq(pgfx_sql("SELECT min(seq) FROM roster_changes"), oldest);
    ck_assert_int_eq(pgfx_sql("SELECT max(seq) FROM roster_changes"), latest);
    ck_assert_int_eq(pgfx_sql("SELECT latest FROM roster_feed"), latest);
    ck_assert_int_eq(pgfx_sql("SELECT floor FROM roster_feed"), floor);
}

/* Retention on a feed long enough that a group's first batch of oldest
 * events is read with its counters: each group of one create drops one;
 * a trim earlier in the group uses that batch and the commit reads
 * afresh; a failed first operation reads it again; a group of several
 * creates drops as many. */
START_TEST(retention_by_count_on_a_longer_feed)
{
    pgstore_close(pg);
    open_pg(&pg, false, 20, 0);
    char ref[16], email[32];
    for (int i = 0; i < 60; i++) {
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, "u%d@x.io", i);
        create1(ref, email, NULL);
    }
    feed_is(20, 41, 60, 40);

    pgstore_wtxn *w;
    unsigned n = 9;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_trim(w, 5, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(create(w, "t1", "t1@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    feed_is(20, 42, 61, 41);

    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "r0", "dup@x.io", NULL, NULL), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(create(w, "t2", "t2@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    feed_is(20, 43, 62, 42);

    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    for (int i = 0; i < 7; i++) {
        snprintf(ref, sizeof ref, "g%d", i);
        snprintf(email, sizeof email, "g%d@x.io", i);
        ck_assert_int_eq(create(w, ref, email, NULL, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    feed_is(20, 50, 69, 49);

    /* A trim that drops in the middle of a group, then more creates: the
     * commit's check reads what the trim left. */
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "m1", "m1@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_trim(w, 5, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(create(w, "m2", "m2@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(create(w, "m3", "m3@x.io", NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    feed_is(20, 53, 72, 52);

    issues v = verify_now();
    ck_assert_msg(v.n == 0, "%s", v.text);
}
END_TEST

START_TEST(verify_checks_the_feed)
{
    Roster__V1__User *a = create1("ra", "ada@x.io", NULL);
    Roster__V1__User *b = create1("rb", "bob@x.io", NULL);
    update1(a->id, "Ada", NULL, -1);
    update1(b->id, "Bob", NULL, -1);
    create1("rc", "cy@x.io", NULL);
    issues v = verify_now();
    ck_assert_msg(v.n == 0, "%s", v.text);
    pgfx_sql("CREATE TABLE feed_copy AS SELECT * FROM roster_changes");
    pgfx_sql("CREATE TABLE feed_row AS SELECT * FROM roster_feed");

    /* An event that lost its user_id: a delete of its user would not
     * find it to scrub. */
    pgfx_sql("UPDATE roster_changes SET user_id = NULL WHERE seq = 1");
    v = verify_now();
    ck_assert_msg(v.n == 1 && v.kinds[STORE_ISSUE_STALE_ENTRY] == 1 &&
                      strstr(v.text, "user_id of event 1 disagrees") != NULL,
                  "%s", v.text);
    restore_feed();

    /* A hole in (floor, latest]. */
    pgfx_sql("DELETE FROM roster_changes WHERE seq = 2");
    v = verify_now();
    ck_assert_msg(v.n == 1 && v.kinds[STORE_ISSUE_MISSING_ENTRY] == 1 &&
                      strstr(v.text, "events 2 to 2 are missing") != NULL,
                  "%s", v.text);
    restore_feed();

    /* The last event moved past the counter: past latest, under another
     * seq than its own, and missing where it was. */
    pgfx_sql("UPDATE roster_changes SET seq = 100 WHERE seq = 5");
    v = verify_now();
    ck_assert_msg(v.n == 3 && v.kinds[STORE_ISSUE_COUNT_MISMATCH] == 1 &&
                      v.kinds[STORE_ISSUE_BAD_RECORD] == 1 &&
                      v.kinds[STORE_ISSUE_MISSING_ENTRY] == 1 &&
                      strstr(v.text, "event 100 is past roster_feed.latest 5") != NULL &&
                      strstr(v.text, "events 5 to 5 are missing") != NULL,
                  "%s", v.text);
    restore_feed();

    /* An event that does not decode, and one whose tenant column lies. */
    pgfx_sql("UPDATE roster_changes SET record = '\\xff' WHERE seq = 3");
    pgfx_sql("UPDATE roster_changes SET tenant_id = gen_random_uuid() WHERE seq = 4");
    v = verify_now();
    ck_assert_msg(v.n == 2 && v.kinds[STORE_ISSUE_BAD_RECORD] == 1 &&
                      v.kinds[STORE_ISSUE_STALE_ENTRY] == 1 &&
                      strstr(v.text, "event 3 does not decode") != NULL &&
                      strstr(v.text, "tenant_id or prev_tenant_id of event 4") != NULL,
                  "%s", v.text);
    restore_feed();

    /* An event the floor says retention dropped, and a feed without its
     * counter row. */
    pgfx_sql("UPDATE roster_feed SET floor = 1");
    v = verify_now();
    ck_assert_msg(v.n == 1 && strstr(v.text, "event 1 is at or below the floor 1") != NULL, "%s",
                  v.text);
    pgfx_sql("DELETE FROM roster_feed");
    v = verify_now();
    ck_assert_msg(v.n == 1 && v.kinds[STORE_ISSUE_COUNT_MISMATCH] == 1 &&
                      strstr(v.text, "roster_feed holds no row") != NULL,
                  "%s", v.text);
    restore_feed();

    /* Bob deleted, then his events given their personal data back: the
     * feed still holds the data of a user who no longer exists. */
    pgstore_wtxn *w;
    ck_assert_int_eq(pgstore_write_begin(pg, &w), ROSTER_E_OK);
    ck_assert_int_eq(delete (w, b->id), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_write_commit(w), ROSTER_E_OK);
    v = verify_now();
    ck_assert_msg(v.n == 0, "%s", v.text);
    pgfx_sql("UPDATE roster_changes c SET record = f.record, user_id = f.user_id "
             "FROM feed_copy f WHERE c.seq = f.seq");
    v = verify_now();
    char want[128];
    snprintf(want, sizeof want, "[roster_changes %s] event 2 still holds the personal data", b->id);
    ck_assert_msg(v.n == 2 && v.kinds[STORE_ISSUE_STALE_ENTRY] == 2 && strstr(v.text, want) != NULL,
                  "%s", v.text);
}
END_TEST

/* A page of the feed stops at the read's limits as the other lists do: a
 * deadline already past (DEADLINE_EXCEEDED), a stop time already past
 * (UNAVAILABLE), and a page statement still waiting at the deadline (a
 * lock held on roster_changes elsewhere) cut by the statement timeout. */
START_TEST(changes_list_honours_the_deadline)
{
    create1("r1", "a@x.io", NULL);
    create1("r2", "b@x.io", NULL);
    store_changes_page p;
    roster_err_detail d = {0};
    pgstore_rtxn *r;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    pgstore_read_set_limits(r, roster_mono_ns() - 1, NULL);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d),
                     ROSTER_E_DEADLINE_EXCEEDED);
    pgstore_read_end(r);
    _Atomic int64_t stop = roster_mono_ns() - 1;
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    pgstore_read_set_limits(r, 0, &stop);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d),
                     ROSTER_E_UNAVAILABLE);
    pgstore_read_end(r);

    PGconn *locker = PQconnectdb(pgfx_url);
    ck_assert_int_eq(PQstatus(locker), CONNECTION_OK);
    PGresult *res = PQexec(locker, "BEGIN; LOCK TABLE roster_changes IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    int64_t t0 = roster_mono_ns();
    pgstore_read_set_limits(r, t0 + 300 * 1000000LL, NULL);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d),
                     ROSTER_E_DEADLINE_EXCEEDED);
    int64_t took_ms = (roster_mono_ns() - t0) / 1000000;
    pgstore_read_end(r);
    /* The same with the limits set by the begin itself (the timeout sent
     * with BEGIN), and the deadline checked as by set_limits. */
    t0 = roster_mono_ns();
    ck_assert_int_eq(pgstore_read_begin_limited(pg, &r, t0 + 300 * 1000000LL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d),
                     ROSTER_E_DEADLINE_EXCEEDED);
    int64_t took2_ms = (roster_mono_ns() - t0) / 1000000;
    pgstore_read_end(r);
    ck_assert_int_eq(pgstore_read_begin_limited(pg, &r, roster_mono_ns() - 1, NULL), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d),
                     ROSTER_E_DEADLINE_EXCEEDED);
    pgstore_read_end(r);
    res = PQexec(locker, "ROLLBACK");
    PQclear(res);
    PQfinish(locker);
    ck_assert_int_ge(took_ms, 250);
    ck_assert_int_lt(took_ms, 5000);
    ck_assert_int_ge(took2_ms, 250);
    ck_assert_int_lt(took2_ms, 5000);
    /* Without limits the same page is read. */
    ck_assert_int_eq(pgstore_read_begin(pg, &r), ROSTER_E_OK);
    ck_assert_int_eq(pgstore_changes_list(r, NULL, 0, 100, 0, &fx_arena, &p, &d), ROSTER_E_OK);
    ck_assert_uint_eq(p.n, 2);
    pgstore_read_end(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pg_changes");
    TCase *tc = tcase_create("changes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, backends_agree);
    tcase_add_test(tc, failed_operations_leave_no_seq);
    tcase_add_test(tc, delete_scrubs_the_users_events);
    tcase_add_test(tc, retention_by_count);
    tcase_add_test(tc, retention_by_count_on_a_longer_feed);
    tcase_add_test(tc, retention_by_age);
    tcase_add_test(tc, scope_and_tenant_events);
    tcase_add_test(tc, concurrent_writers_commit_order);
    tcase_add_test(tc, verify_checks_the_feed);
    tcase_add_test(tc, changes_list_honours_the_deadline);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
