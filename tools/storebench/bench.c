#include "bench.h"

#include "clock.h"
#include "store.h"

#include <lmdb.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *first_names[] = {
    "James",     "Mary",    "John",   "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "Somchai", "Anong",  "Wei",      "Fang",   "Hiroshi",  "Yuki",    "Ann",   "Lukas",
    "Emma",      "Noah",    "Olivia", "Liam",     "Ava",    "Mateo",    "Sofia"};
static const char *last_names[] = {"Smith",   "Johnson", "Williams", "Brown",     "Jones",
                                   "Garcia",  "Miller",  "Davis",    "Rodriguez", "Martinez",
                                   "Saetang", "Wong",    "Tanaka",   "Suzuki",    "Muller",
                                   "Schmidt", "Lee",     "Kim",      "Park",      "Nguyen"};
static const char *locales[] = {"en-US", "en-GB", "th-TH", "de-DE",
                                "ja-JP", "fr-FR", "es-ES", "zh-CN"};
static const char *zones[] = {"America/New_York", "Europe/London", "Asia/Bangkok",
                              "Europe/Berlin",    "Asia/Tokyo",    "Europe/Paris",
                              "Europe/Madrid",    "Asia/Shanghai"};
#define PICK(a) (a[rnd() % (sizeof a / sizeof a[0])])

typedef struct ids {
    char (*text)[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid *bin;
    size_t n, cap;
} ids;

static int collect_id(void *ctx, const void *bytes, size_t len)
{
    ids *s = ctx;
    const uint8_t *b = bytes;
    /* Records are packed in field order: field 1 (id) comes first. */
    if (len < 38 || b[0] != 0x0a || b[1] != 36 || s->n == s->cap)
        return ROSTER_E_CORRUPT;
    memcpy(s->text[s->n], b + 2, 36);
    s->text[s->n][36] = 0;
    roster_uuid_parse(&s->bin[s->n], s->text[s->n], 36);
    s->n++;
    return 0;
}

/* CPU time (user + system) of this process in ns: next to wall time it
 * shows how much of a measurement was waiting (I/O, the shared machine). */
static int64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static double per_op_us(int64_t ns, size_t n)
{
    return (double)ns / 1000.0 / (double)(n ? n : 1);
}

/* Bytes and B-tree entries per user: in all, and without the change
 * feed's databases (whose size retention bounds, not the user count).
 * Entries count the records and every user index but customData's; the
 * feed's pages are exact (it is not duplicate-sorted), so the bytes
 * without it are the used bytes less its pages. */
static void print_per_user(const store_stats *st)
{
    if (st->users == 0)
        return;
    uint64_t entries = 0, feed_pages = 0;
    for (size_t i = 0; i < st->n_dbs; i++) {
        const store_db_stat *d = &st->dbs[i];
        if (strcmp(d->name, "changes") == 0 || strcmp(d->name, "changes_user") == 0)
            feed_pages += d->branch_pages + d->leaf_pages + d->overflow_pages;
        else if (strcmp(d->name, "users") == 0 || strcmp(d->name, "idx_tenant") == 0 ||
                 strncmp(d->name, "uniq_", 5) == 0 ||
                 (strncmp(d->name, "idx_", 4) == 0 && strcmp(d->name, "idx_custom") != 0))
            entries += d->entries;
    }
    double users = (double)st->users;
    uint64_t feed = feed_pages * st->page_size;
    uint64_t live = st->used_bytes - (st->free_bytes < st->used_bytes ? st->free_bytes : 0);
    printf("per user  %.1f B-tree entries (record and indexes), %.0f bytes in all, %.0f bytes "
           "without the change feed's %.1f MiB (schema version %u); %.0f bytes without the feed "
           "and the %.1f MiB of free pages\n",
           (double)entries / users, (double)st->used_bytes / users,
           (double)(st->used_bytes - (feed < st->used_bytes ? feed : 0)) / users,
           (double)feed / 1048576.0, st->schema_version,
           (double)(live - (feed < live ? feed : 0)) / users, (double)st->free_bytes / 1048576.0);
}

/* Opens the users database of the store in cfg->dir read-only with bare
 * LMDB, in a read transaction; ROSTER_E_IO (reported) when it cannot. */
static int raw_open(const bench_config *cfg, MDB_env **env, MDB_txn **txn, MDB_dbi *dbi)
{
    int rc = mdb_env_create(env);
    if (rc != 0) {
        fprintf(stderr, "storebench: lmdb: %s\n", mdb_strerror(rc));
        return ROSTER_E_IO;
    }
    rc = mdb_env_set_maxdbs(*env, 32);
    if (rc == 0)
        rc = mdb_env_open(*env, cfg->dir, MDB_RDONLY, 0640);
    if (rc == 0)
        rc = mdb_txn_begin(*env, NULL, MDB_RDONLY, txn);
    if (rc == 0 && (rc = mdb_dbi_open(*txn, "users", 0, dbi)) != 0)
        mdb_txn_abort(*txn);
    if (rc != 0) {
        fprintf(stderr, "storebench: lmdb: %s\n", mdb_strerror(rc));
        mdb_env_close(*env);
        return ROSTER_E_IO;
    }
    return ROSTER_E_OK;
}

int open_store(const bench_config *cfg, bool bulk_load, store **s)
{
    roster_err_detail d = {0};
    store_options o = {.no_sync = !cfg->durable,
                       .bulk_load = bulk_load,
                       .map_size = (uint64_t)cfg->map_mib << 20,
                       .detail = &d};
    int err = store_open(s, cfg->dir, &o);
    if (err != ROSTER_E_OK)
        fprintf(stderr, "storebench: open: %s\n", d.message);
    return err;
}

int insert_users(const bench_config *cfg, store *s, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1],
                 size_t from, size_t n, size_t batch, bool bulk, const char *mode)
{
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    size_t done = from, last = from + n;
    roster_err_detail d;
    store_wtxn *w;
    int err;
    while (done < last) {
        if ((err = (bulk ? store_write_begin_bulk : store_write_begin)(s, &w)) != ROSTER_E_OK)
            return err;
        size_t end = done + batch < last ? done + batch : last;
        for (; done < end; done++) {
            char ref[40], email[56], phone[24];
            snprintf(ref, sizeof ref, "ref-%07zu", done);
            snprintf(email, sizeof email, "user%07zu@example.com", done);
            snprintf(phone, sizeof phone, "+1 555 %07llu", (unsigned long long)(rnd() % 10000000));
            Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
            req.reference = ref;
            req.email = email;
            req.first_name = (char *)PICK(first_names);
            req.last_name = (char *)PICK(last_names);
            req.phone = phone;
            req.locale = (char *)PICK(locales);
            req.timezone = (char *)PICK(zones);
            req.has_active = 1;
            req.active = rnd() % 20 != 0; /* 5% deactivated */
            req.has_is_opted_in = 1;
            req.is_opted_in = rnd() % 2;
            req.tenant_id = tenants[rnd() % cfg->tenants];
            /* customData: plan drawn like firstName, seats 0..999 */
            char custom[64];
            snprintf(custom, sizeof custom, "{\"plan\":\"%s\",\"seats\":%u}", PICK(first_names),
                     (unsigned)(rnd() % 1000));
            req.custom_data = custom;
            if ((err = store_user_create(w, NULL, &req, NULL, NULL, &d)) != ROSTER_E_OK) {
                fprintf(stderr, "storebench: create %zu: %s\n", done, d.message);
                store_write_abort(w);
                return err;
            }
        }
        if ((err = store_write_commit(w)) != ROSTER_E_OK)
            return err;
    }
    int64_t ns = roster_mono_ns() - t0, cns = cpu_ns() - c0;
    printf("insert    %8zu users, %5zu per txn, %-38s %s%s: %6.2f s, %7.0f users/s "
           "(CPU %.2f s, %.0f users per CPU s)\n",
           n, batch, bulk ? "no nested txn (store_write_begin_bulk)" : "nested txn per op", mode,
           cfg->durable ? "" : " no-sync", (double)ns / 1e9, (double)n / ((double)ns / 1e9),
           (double)cns / 1e9, (double)n / ((double)cns / 1e9));
    return ROSTER_E_OK;
}

static int load(const bench_config *cfg, store *s, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1])
{
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    store_wtxn *w;
    int err = store_write_begin(s, &w);
    if (err != ROSTER_E_OK)
        return err;
    for (size_t t = 0; t < cfg->tenants; t++) {
        char name[32];
        snprintf(name, sizeof name, "Tenant %zu", t);
        Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
        req.name = name;
        Roster__V1__Tenant *out;
        if ((err = store_tenant_create(w, NULL, &req, &arena, &out, NULL)) != ROSTER_E_OK) {
            store_write_abort(w);
            return err;
        }
        strcpy(tenants[t], out->id);
    }
    if ((err = store_write_commit(w)) != ROSTER_E_OK)
        return err;
    roster_arena_free(&arena);

    return insert_users(cfg, s, tenants, 0, cfg->users, cfg->batch, true, "bulk-load mode");
}

/* More users through the other write paths, on a store opened normally. */
static int insert_more(const bench_config *cfg, store *s, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1],
                       size_t *total)
{
    size_t extra = cfg->users / 50 ? cfg->users / 50 : 1, at = cfg->users;
    int err;
    /* One nested transaction per operation, alone in its commit or
     * grouped, against the service's path (no nested transaction: a
     * refused operation has written nothing) at the same group sizes. */
    if ((err = insert_users(cfg, s, tenants, at, 200, 1, false, "")) != ROSTER_E_OK)
        return err;
    at += 200;
    if ((err = insert_users(cfg, s, tenants, at, 200, 1, true, "")) != ROSTER_E_OK)
        return err;
    at += 200;
    if ((err = insert_users(cfg, s, tenants, at, extra, 100, false, "")) != ROSTER_E_OK)
        return err;
    at += extra;
    if ((err = insert_users(cfg, s, tenants, at, extra, 100, true, "")) != ROSTER_E_OK)
        return err;
    at += extra;
    if ((err = insert_users(cfg, s, tenants, at, extra, 1000, false, "")) != ROSTER_E_OK)
        return err;
    at += extra;
    if ((err = insert_users(cfg, s, tenants, at, extra, 1000, true, "")) != ROSTER_E_OK)
        return err;
    at += extra;
    if ((err = insert_users(cfg, s, tenants, at, extra, cfg->batch, false, "")) != ROSTER_E_OK)
        return err;
    at += extra;
    if ((err = insert_users(cfg, s, tenants, at, extra, cfg->batch, true, "")) != ROSTER_E_OK)
        return err;
    *total = cfg->users + 400 + 6 * extra;
    return ROSTER_E_OK;
}

/* Bare LMDB: mdb_get on the users database for the same binary keys. */
static int raw_gets(const bench_config *cfg, const roster_uuid *keys, size_t n, const char *label)
{
    if (store_is_postgres(cfg->dir)) {
        printf("get       bare mdb_get (%s): no LMDB file on a PostgreSQL store\n", label);
        return ROSTER_E_OK;
    }
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int err = raw_open(cfg, &env, &txn, &dbi);
    if (err != ROSTER_E_OK)
        return err;
    size_t sum = 0;
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {16, (void *)keys[i].b}, v;
        if (mdb_get(txn, dbi, &k, &v) == 0)
            sum += v.mv_size;
    }
    int64_t ns = roster_mono_ns() - t0, cns = cpu_ns() - c0;
    printf("get       bare mdb_get (%s): %.3f us/op  CPU %.3f us/op  (%zu lookups, %zu bytes)\n",
           label, per_op_us(ns, n), per_op_us(cns, n), n, sum);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return ROSTER_E_OK;
}

/* One bare cursor walk (MDB_NEXT) over every record of the users
 * database, reading a byte of every cache line of each record: the least
 * any scan of every record costs. Adds the bytes to *sum, counts the
 * records in *n. */
static int raw_walk_once(MDB_txn *txn, MDB_dbi dbi, size_t *n, uint64_t *sum)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const volatile uint8_t *p = v.mv_data;
        for (size_t i = 0; i < v.mv_size; i += 64)
            *sum += p[i];
        if (v.mv_size)
            *sum += p[v.mv_size - 1];
        (*n)++;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The bare walk timed: one pass alone (it maps the pages), then `reps`
 * more, whose CPU time per pass and record count go to *ref. */
static int raw_walk(const bench_config *cfg, size_t reps, const char *label, scan_ref *ref)
{
    if (store_is_postgres(cfg->dir)) {
        printf("walk      bare MDB_NEXT (%s): no LMDB file on a PostgreSQL store\n", label);
        return ROSTER_E_OK;
    }
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int err = raw_open(cfg, &env, &txn, &dbi);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t sum = 0;
    size_t n = 0;
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    int rc = raw_walk_once(txn, dbi, &n, &sum);
    int64_t ns = roster_mono_ns() - t0, cns = cpu_ns() - c0;
    if (rc == 0)
        printf("%-58s %9.1f us/op  CPU %9.1f us/op  (%zu records)\n",
               "walk      bare MDB_NEXT, a byte a line (first pass)", per_op_us(ns, 1),
               per_op_us(cns, 1), n);
    size_t runs = reps ? reps : 1;
    t0 = roster_mono_ns();
    c0 = cpu_ns();
    for (size_t i = 0; i < runs && rc == 0; i++) {
        n = 0;
        rc = raw_walk_once(txn, dbi, &n, &sum);
    }
    ns = roster_mono_ns() - t0;
    cns = cpu_ns() - c0;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    if (rc != 0) {
        fprintf(stderr, "storebench: lmdb walk: %s\n", mdb_strerror(rc));
        return ROSTER_E_IO;
    }
    char line[96];
    snprintf(line, sizeof line, "walk      bare MDB_NEXT, a byte a line (%s)", label);
    printf("%-58s %9.1f us/op  CPU %9.1f us/op  (%zu records, sum %llu)\n", line,
           per_op_us(ns, runs), per_op_us(cns, runs), n, (unsigned long long)(sum & 0xffff));
    printf("          = %.1f ms CPU per million records\n",
           per_op_us(cns, runs) / 1000.0 / ((double)(n ? n : 1) / 1e6));
    ref->cpu_us = per_op_us(cns, runs);
    ref->records = n;
    return ROSTER_E_OK;
}

static int store_gets(store *s, char (*keys)[ROSTER_UUID_TEXT_LEN + 1], size_t n)
{
    store_rtxn *r;
    int err = store_read_begin(s, &r);
    if (err != ROSTER_E_OK)
        return err;
    size_t sum = 0;
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        const void *b;
        size_t len;
        if (store_user_get_raw(r, NULL, keys[i], &b, &len) == ROSTER_E_OK)
            sum += len;
    }
    int64_t ns = roster_mono_ns() - t0, cns = cpu_ns() - c0;
    printf("get       store_user_get_raw: %.3f us/op  CPU %.3f us/op  (%zu bytes)\n",
           per_op_us(ns, n), per_op_us(cns, n), sum);

    roster_arena arena;
    roster_arena_init(&arena, 64 * 1024, 0);
    sum = 0;
    t0 = roster_mono_ns();
    c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = keys[i];
        Roster__V1__User *u;
        if (store_user_get(r, NULL, &g, &arena, &u, NULL) == ROSTER_E_OK)
            sum += u->has_created_at;
        if (i % 256 == 255)
            roster_arena_reset(&arena);
    }
    ns = roster_mono_ns() - t0;
    cns = cpu_ns() - c0;
    printf("get       store_user_get (unpacked into an arena): %.3f us/op  CPU %.3f us/op  "
           "(%zu found)\n",
           per_op_us(ns, n), per_op_us(cns, n), sum);
    roster_arena_free(&arena);
    store_read_end(r);
    return ROSTER_E_OK;
}

/* time_list, with the CPU time per run in *cpu_us (may be NULL). */
static int time_list_cpu(store *s, const char *label, const roster_uuid *scope,
                         const Roster__V1__ListUsersRequest *req, size_t reps, bool unpack,
                         double *cpu_us)
{
    store_rtxn *r;
    int err = store_read_begin(s, &r);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena arena;
    roster_arena_init(&arena, 64 * 1024, 0);
    store_page page = {0};
    roster_err_detail d = {0};
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < reps && err == ROSTER_E_OK; i++) {
        if (unpack) {
            Roster__V1__ListUsersResponse *resp;
            err = store_user_list(r, scope, req, &arena, &resp, &d);
            if (err == ROSTER_E_OK) {
                page.n = resp->n_users;
                page.total_count = resp->total_count;
            }
        } else {
            err = store_user_list_raw(r, scope, req, &arena, &page, &d);
        }
        roster_arena_reset(&arena);
    }
    int64_t ns = roster_mono_ns() - t0, cns = cpu_ns() - c0;
    if (err == ROSTER_E_OK)
        printf("%-58s %9.1f us/op  CPU %9.1f us/op  (%zu rows, totalCount %lld)\n", label,
               per_op_us(ns, reps), per_op_us(cns, reps), page.n, (long long)page.total_count);
    else
        fprintf(stderr, "storebench: %s: %s\n", label, d.message);
    if (cpu_us)
        *cpu_us = per_op_us(cns, reps);
    roster_arena_free(&arena);
    store_read_end(r);
    return err;
}

int time_list(store *s, const char *label, const roster_uuid *scope,
              const Roster__V1__ListUsersRequest *req, size_t reps, bool unpack)
{
    return time_list_cpu(s, label, scope, req, reps, unpack, NULL);
}

static const struct {
    Roster__V1__UserSortField f;
    const char *name;
} sorts[] = {
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT, "createdAt"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UPDATED_AT, "updatedAt"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE, "active"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL, "email"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME, "firstName"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME, "lastName"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LOCALE, "locale"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE, "phone"},
    {ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_TIMEZONE, "timezone"},
};

/* Walks the pages of req (pages of up to 1000 records) by cursor until
 * `skip` records lie before the cursor, which it copies to `out` (arena
 * text; NULL when the walk ended first). Counts the pages walked. */
static int walk_to(char **out, size_t *pages, store *s, const Roster__V1__ListUsersRequest *req,
                   int64_t skip, roster_arena *arena)
{
    Roster__V1__ListUsersRequest w = *req;
    w.has_offset = 0;
    w.after = NULL;
    w.has_limit = 1;
    int64_t seen = 0;
    int err = ROSTER_E_OK;
    *out = NULL;
    roster_arena scratch;
    roster_arena_init(&scratch, 64 * 1024, 0);
    while (err == ROSTER_E_OK && seen < skip) {
        store_rtxn *r;
        if ((err = store_read_begin(s, &r)) != ROSTER_E_OK)
            break;
        w.limit = skip - seen < 1000 ? (int32_t)(skip - seen) : 1000;
        store_page page;
        roster_err_detail d = {0};
        err = store_user_list_raw(r, NULL, &w, &scratch, &page, &d);
        if (err == ROSTER_E_OK && page.end_cursor == NULL)
            err = ROSTER_E_NOT_FOUND;
        if (err == ROSTER_E_OK) {
            seen += (int64_t)page.n;
            (*pages)++;
            size_t n = strlen(page.end_cursor) + 1;
            char *c = roster_arena_alloc(arena, n);
            if (c == NULL)
                err = ROSTER_E_NOMEM;
            else
                w.after = *out = memcpy(c, page.end_cursor, n);
        }
        store_read_end(r);
        roster_arena_reset(&scratch);
    }
    roster_arena_free(&scratch);
    return err;
}

/* Cursor paging: for every order over all users and over one tenant
 * ({tenantId: X}), a page of 20 at offset 0, at offset 1,000 and at the
 * middle, then the page of 20 after a cursor reached by walking to the
 * middle and to the last 20 records (that one page timed, after the walk). */
/* The cursor paging lines: every order over all users and (but with
 * all_only) in one tenant. */
static int cursor_pages(const bench_config *cfg, store *s, const char *tenant_text, bool all_only)
{
    int err = ROSTER_E_OK;
    char label[160];
    roster_arena arena;
    roster_arena_init(&arena, 4096, 0);
    printf("\ncursor paging, pages of 20 (deactivated users left out, exact totalCount)%s:\n",
           all_only ? ", every order but createdAt kept as a global order" : "");
    for (size_t i = all_only ? 1 : 0; i < sizeof sorts / sizeof sorts[0] && err == ROSTER_E_OK;
         i++) {
        for (int scoped = 0; scoped < (all_only ? 1 : 2) && err == ROSTER_E_OK; scoped++) {
            Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
            Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
            Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
            Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
            tf.equal_to = (char *)tenant_text;
            f.tenant_id = &tf;
            o.has_sort = o.has_order = 1;
            o.sort = sorts[i].f;
            o.order = i % 2 ? ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC
                            : ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
            req.order = &o;
            req.filter = scoped ? &f : NULL;
            req.has_limit = 1;
            req.limit = 0;
            store_rtxn *r;
            store_page page;
            if ((err = store_read_begin(s, &r)) != ROSTER_E_OK)
                break;
            err = store_user_list_raw(r, NULL, &req, &arena, &page, NULL);
            store_read_end(r);
            if (err != ROSTER_E_OK)
                break;
            int64_t total = page.total_count;
            const char *what = scoped ? "one tenant" : "all";
            const char *dir = i % 2 ? "ASC " : "DESC";
            req.limit = 20;
            req.has_offset = 1;
            int32_t offs[] = {0, 1000, (int32_t)(total / 2)};
            const char *names[] = {"first page", "offset 1000", "offset middle"};
            for (int k = 0; k < 3 && err == ROSTER_E_OK; k++) {
                req.offset = offs[k];
                snprintf(label, sizeof label, "%-9s %s %-10s %-22s", sorts[i].name, dir, what,
                         names[k]);
                err = time_list(s, label, NULL, &req, k == 2 ? cfg->scans : cfg->pages, false);
            }
            req.has_offset = 0;
            int64_t at[] = {total / 2, total > 20 ? total - 20 : 0};
            const char *cnames[] = {"cursor at the middle", "cursor at the end"};
            for (int k = 0; k < 2 && err == ROSTER_E_OK; k++) {
                char *cur = NULL;
                size_t pages = 0;
                int64_t t0 = roster_mono_ns();
                if ((err = walk_to(&cur, &pages, s, &req, at[k], &arena)) != ROSTER_E_OK)
                    break;
                double walk_ms = (double)(roster_mono_ns() - t0) / 1e6;
                req.after = cur;
                snprintf(label, sizeof label, "%-9s %s %-10s %-22s", sorts[i].name, dir, what,
                         cnames[k]);
                err = time_list(s, label, NULL, &req, cfg->pages, false);
                printf("          (walked %lld records in %zu pages by cursor: %.1f ms)\n",
                       (long long)at[k], pages, walk_ms);
                req.after = NULL;
            }
            roster_arena_reset(&arena);
        }
    }
    roster_arena_free(&arena);
    return err;
}

/* Every order but createdAt declared as a global order (store_options
 * .global_order): the build over the store, timed; bytes and entries per
 * user with them; the all-tenant cursor paging lines again. The next
 * phase's open, declaring none, drops them. */
static int global_order_pages(const bench_config *cfg, char (*tenants)[ROSTER_UUID_TEXT_LEN + 1],
                              size_t next)
{
    const char *tenant_text = tenants[0];
    static const char *const orders[] = {"updatedAt", "active", "email", "firstName",
                                         "lastName",  "locale", "phone", "timezone"};
    roster_err_detail d = {0};
    store_options o = {.no_sync = !cfg->durable,
                       .map_size = (uint64_t)cfg->map_mib << 20,
                       .global_order = orders,
                       .n_global_order = sizeof orders / sizeof orders[0],
                       .declare_custom_index = true,
                       .detail = &d};
    store *s;
    int64_t t0 = roster_mono_ns(), c0 = cpu_ns();
    int err = store_open(&s, cfg->dir, &o);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "storebench: open: %s\n", d.message);
        return err;
    }
    store_index_build *b;
    bool done = false;
    if ((err = store_index_build_new(&b, s)) == ROSTER_E_OK)
        while (b != NULL && !done && err == ROSTER_E_OK)
            err = store_index_build_step(b, 10000, &done);
    store_index_build_free(b);
    if (err == ROSTER_E_OK) {
        printf("\nbuild     8 global orders over the store: %.2f s (CPU %.2f s)\n",
               (double)(roster_mono_ns() - t0) / 1e9, (double)(cpu_ns() - c0) / 1e9);
        store_rtxn *r;
        store_stats st;
        if ((err = store_read_begin(s, &r)) == ROSTER_E_OK) {
            err = store_stat(r, &st);
            store_read_end(r);
        }
        if (err == ROSTER_E_OK) {
            uint64_t cdx = 0;
            for (size_t i = 0; i < st.n_dbs; i++)
                if (strcmp(st.dbs[i].name, "idx_custom") == 0)
                    cdx = st.dbs[i].entries;
            print_per_user(&st);
            printf("          and %.1f global order entries per user (idx_custom)\n",
                   st.users ? (double)cdx / (double)st.users : 0.0);
        }
    }
    if (err == ROSTER_E_OK)
        err = cursor_pages(cfg, s, tenant_text, true);
    /* What a write pays for them: the customData phase's first line
     * inserts as many without (references past these). */
    size_t extra = cfg->users / 50 ? cfg->users / 50 : 1;
    if (err == ROSTER_E_OK)
        err = insert_users(cfg, s, tenants, next + 3 * extra, extra, 100, false,
                           "with 8 global orders");
    store_close(s);
    return err;
}

/* The line comparing a scan's CPU time per run with the bare walk's. */
static void print_vs_walk(double cpu_us, const scan_ref *ref)
{
    if (ref == NULL || ref->cpu_us <= 0 || ref->records == 0)
        return;
    printf("          = %.1f ms CPU per million records, %.2fx the bare walk\n",
           cpu_us / 1000.0 / ((double)ref->records / 1e6), cpu_us / ref->cpu_us);
}

int time_list_warm(store *s, const char *label, const roster_uuid *scope,
                   const Roster__V1__ListUsersRequest *req, size_t reps, const scan_ref *ref)
{
    if (ref && ref->only && strstr(label, ref->only) == NULL)
        return ROSTER_E_OK;
    char first[160];
    snprintf(first, sizeof first, "%s (first pass)", label);
    double cpu_us = 0;
    int err = time_list(s, first, scope, req, 1, false);
    if (err == ROSTER_E_OK &&
        (err = time_list_cpu(s, label, scope, req, reps, false, &cpu_us)) == ROSTER_E_OK)
        print_vs_walk(cpu_us, ref);
    return err;
}

static int lists(const bench_config *cfg, store *s, const char *tenant_text)
{
    roster_uuid tenant;
    roster_uuid_parse(&tenant, tenant_text, 36);
    int err = ROSTER_E_OK;
    char label[128];
    printf("\npages of 20 (deactivated users left out, exact totalCount):\n");
    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0] && err == ROSTER_E_OK; i++) {
        for (int scoped = 0; scoped < 2 && err == ROSTER_E_OK; scoped++) {
            for (int off = 0; off < 2 && err == ROSTER_E_OK; off++) {
                Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
                Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
                o.has_sort = o.has_order = 1;
                o.sort = sorts[i].f;
                o.order = off ? ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC
                              : ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
                req.order = &o;
                req.has_limit = req.has_offset = 1;
                req.limit = 20;
                req.offset = off ? 1000 : 0;
                snprintf(label, sizeof label, "page      %-9s %s %-11s offset %d", sorts[i].name,
                         off ? "ASC " : "DESC", scoped ? "one tenant" : "all", req.offset);
                err = time_list(s, label, scoped ? &tenant : NULL, &req, cfg->pages, false);
            }
        }
    }
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 20;
    if ((err = time_list(s, "page      createdAt DESC all offset 0, unpacked (store_user_list)",
                         NULL, &req, cfg->pages, true)) != ROSTER_E_OK)
        return err;

    printf("\nindexed filters with totalCount (limit 20):\n");
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
    tf.equal_to = (char *)tenant_text;
    f.tenant_id = &tf;
    req.filter = &f;
    if ((err = time_list(s, "filter    {tenantId: X}", NULL, &req, cfg->pages, false)) !=
        ROSTER_E_OK)
        return err;
    Roster__V1__BoolFilter act = ROSTER__V1__BOOL_FILTER__INIT;
    act.has_equal_to = 1;
    act.equal_to = 0;
    f.active = &act;
    if ((err = time_list(s, "filter    {tenantId: X, active: false}", NULL, &req, cfg->pages,
                         false)) != ROSTER_E_OK)
        return err;
    req.has_offset = 1;
    req.offset = 200;
    act.equal_to = 1;
    if ((err = time_list(s, "filter    {tenantId: X, active: true} offset 200", NULL, &req,
                         cfg->pages, false)) != ROSTER_E_OK)
        return err;
    req.has_offset = 0;
    f.active = NULL;
    Roster__V1__StringFilter fn = ROSTER__V1__STRING_FILTER__INIT;
    fn.equal_to = "Ann";
    f.first_name = &fn;
    if ((err = time_list(s, "filter    {tenantId: X, firstName: {equalTo: Ann}}", NULL, &req,
                         cfg->pages / 10 + 1, false)) != ROSTER_E_OK)
        return err;
    f.first_name = NULL;
    f.tenant_id = NULL;
    Roster__V1__StringFilter ef = ROSTER__V1__STRING_FILTER__INIT;
    char email[48];
    snprintf(email, sizeof email, "user%07zu@example.com", cfg->users / 2);
    ef.equal_to = email;
    f.email = &ef;
    if ((err = time_list(s, "filter    {email: {equalTo: ...}}", NULL, &req, cfg->pages, false)) !=
        ROSTER_E_OK)
        return err;
    return ROSTER_E_OK;
}

/* The three unindexed scans of every user (ref may be NULL). */
static int unindexed_scans(const bench_config *cfg, store *s, const scan_ref *ref)
{
    int err;
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = 20;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    req.filter = &f;
    printf("\nunindexed scans of every user:\n");
    Roster__V1__StringFilter il = ROSTER__V1__STRING_FILTER__INIT;
    il.i_like = "%USER00012%";
    f.email = &il;
    if ((err = time_list_warm(s, "scan      {email: {iLike: %USER00012%}} createdAt DESC", NULL,
                              &req, cfg->scans, ref)) != ROSTER_E_OK)
        return err;
    f.email = NULL;
    Roster__V1__StringFilter fl = ROSTER__V1__STRING_FILTER__INIT;
    fl.i_like = "%ann%";
    f.first_name = &fl;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_sort = o.has_order = 1;
    o.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    if ((err = time_list_warm(s, "scan      {firstName: {iLike: %ann%}} lastName ASC", NULL, &req,
                              cfg->scans, ref)) != ROSTER_E_OK)
        return err;
    f.first_name = NULL;
    req.order = NULL;
    req.filter = NULL;
    Roster__V1__UserSearch se = ROSTER__V1__USER_SEARCH__INIT;
    se.has_key = 1;
    se.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_PHONE;
    se.value = "555 12345";
    req.search = &se;
    return time_list_warm(s, "scan      search {phone: \"555 12345\"}", NULL, &req, cfg->scans,
                          ref);
}

/* The first tenant created (createdAt ASC), whose users the one-tenant
 * queries read, into *out. */
static int first_tenant(store *s, roster_uuid *out)
{
    store_rtxn *r;
    int err = store_read_begin(s, &r);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena arena;
    roster_arena_init(&arena, 4096, 0);
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__TenantOrder o = ROSTER__V1__TENANT_ORDER__INIT;
    o.has_order = 1;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    req.order = &o;
    req.has_limit = 1;
    req.limit = 1;
    Roster__V1__ListTenantsResponse *resp;
    err = store_tenant_list(r, NULL, &req, &arena, &resp, NULL);
    if (err == ROSTER_E_OK && resp->n_tenants == 0)
        err = ROSTER_E_NOT_FOUND;
    if (err == ROSTER_E_OK &&
        roster_uuid_parse(out, resp->tenants[0]->id, strlen(resp->tenants[0]->id)) != ROSTER_E_OK)
        err = ROSTER_E_CORRUPT;
    roster_arena_free(&arena);
    store_read_end(r);
    return err;
}

/* --scans-only: the unindexed scans and the customData scans on the
 * store a previous run left in cfg->dir, each beside the bare walk of
 * the same records, timed before them and again after. */
static int bench_scans(const bench_config *cfg)
{
    scan_ref ref = {.only = cfg->only}, after = {0};
    printf("bare walk of the users database (the floor of a scan):\n");
    int err = raw_walk(cfg, cfg->scans, "reference", &ref);
    if (err != ROSTER_E_OK)
        return err;
    store *s = NULL;
    if ((err = open_store(cfg, false, &s)) != ROSTER_E_OK)
        return err;
    store_rtxn *r;
    store_stats st;
    roster_uuid tenant;
    if ((err = store_read_begin(s, &r)) == ROSTER_E_OK) {
        err = store_stat(r, &st);
        store_read_end(r);
    }
    if (err == ROSTER_E_OK)
        err = first_tenant(s, &tenant);
    if (err == ROSTER_E_OK) {
        printf("store     %llu users, %llu tenants, %.1f MiB used\n", (unsigned long long)st.users,
               (unsigned long long)st.tenants, (double)st.used_bytes / 1048576.0);
        err = unindexed_scans(cfg, s, &ref);
    }
    store_close(s);
    if (err == ROSTER_E_OK)
        err = bench_custom_scans(cfg, &tenant, &ref);
    if (err == ROSTER_E_OK) {
        printf("\n");
        err = raw_walk(cfg, cfg->scans, "again, after the scans", &after);
    }
    return err;
}

int bench_run(const bench_config *cfg)
{
    if (cfg->scans_only)
        return bench_scans(cfg);
    store *s = NULL;
    int err = open_store(cfg, true, &s);
    if (err != ROSTER_E_OK)
        return err;
    size_t n_users = cfg->users;
    char(*tenants)[ROSTER_UUID_TEXT_LEN + 1] = calloc(cfg->tenants, sizeof *tenants);
    ids all = {calloc(cfg->users * 2 + 1000, sizeof *all.text),
               calloc(cfg->users * 2 + 1000, sizeof *all.bin), 0, cfg->users * 2 + 1000};
    char(*keys)[ROSTER_UUID_TEXT_LEN + 1] = calloc(cfg->gets, sizeof *keys);
    roster_uuid *bkeys = calloc(cfg->gets, sizeof *bkeys);
    if (!tenants || !all.text || !all.bin || !keys || !bkeys) {
        err = ROSTER_E_NOMEM;
        goto out;
    }
    if ((err = load(cfg, s, tenants)) != ROSTER_E_OK)
        goto out;
    store_close(s);
    s = NULL;
    if ((err = open_store(cfg, false, &s)) != ROSTER_E_OK ||
        (err = insert_more(cfg, s, tenants, &n_users)) != ROSTER_E_OK)
        goto out;
    store_rtxn *r;
    if ((err = store_read_begin(s, &r)) != ROSTER_E_OK)
        goto out;
    err = store_each_user(r, collect_id, &all);
    store_stats st;
    if (err == ROSTER_E_OK)
        err = store_stat(r, &st);
    store_read_end(r);
    if (err != ROSTER_E_OK)
        goto out;
    printf("store     %llu users, %llu tenants, %.1f MiB used of a %.0f GiB map\n",
           (unsigned long long)st.users, (unsigned long long)st.tenants,
           (double)st.used_bytes / 1048576.0, (double)st.map_size / 1073741824.0);
    print_per_user(&st);
    for (size_t i = 0; i < cfg->gets; i++) {
        size_t j = rnd() % all.n;
        memcpy(keys[i], all.text[j], sizeof keys[i]);
        bkeys[i] = all.bin[j];
    }
    printf("\nget by id, %zu random ids:\n", cfg->gets);
    store_close(s);
    s = NULL;
    if ((err = raw_gets(cfg, bkeys, cfg->gets, "warm-up pass")) != ROSTER_E_OK ||
        (err = open_store(cfg, false, &s)) != ROSTER_E_OK ||
        (err = store_gets(s, keys, cfg->gets)) != ROSTER_E_OK)
        goto out;
    store_close(s);
    s = NULL;
    if ((err = raw_gets(cfg, bkeys, cfg->gets, "reference")) != ROSTER_E_OK ||
        (err = open_store(cfg, false, &s)) != ROSTER_E_OK)
        goto out;
    if (!cfg->cursors_only && ((err = lists(cfg, s, tenants[0])) != ROSTER_E_OK ||
                               (err = unindexed_scans(cfg, s, NULL)) != ROSTER_E_OK))
        goto out;
    if ((err = cursor_pages(cfg, s, tenants[0], false)) != ROSTER_E_OK)
        goto out;
    store_close(s);
    s = NULL;
    if ((err = global_order_pages(cfg, tenants, n_users)) != ROSTER_E_OK || cfg->cursors_only)
        goto out;
    store_close(s);
    s = NULL;
    err = bench_custom(cfg, tenants, n_users);
out:
    store_close(s);
    free(tenants);
    free(all.text);
    free(all.bin);
    free(keys);
    free(bkeys);
    return err;
}
