/* customData indexes of the PostgreSQL store: the declared set, the
 * entries every write keeps, the online build, and verify.
 *
 * Why it is shaped this way.
 * - An entry is the bytes the LMDB index key holds for the value
 *   (custom_index.h), so PostgreSQL compares bytea exactly as LMDB
 *   compares keys and ListUsers (pg_query.c) pushes a condition as byte
 *   comparisons and an order as ORDER BY value, id.
 * - Several processes write one database and each declares its own set,
 *   so a writer keeps the entries of the set recorded in the database
 *   (roster_custom_decl), not its own: whichever process wrote a user,
 *   the entries agree with it. The set changes only under the roster_feed
 *   row lock, which every write operation takes first and its group holds
 *   until commit, and each change bumps roster_feed.custom_gen: a group
 *   reads the generation with the feed counters it reads anyway, and
 *   reads the set again only when the generation moved. A user written
 *   after a declaration committed carries its entry; one written before
 *   is reached by the build.
 * - The build walks users by id in steps, each one transaction that
 *   reads its users FOR SHARE (a writer of one of them waits for the step,
 *   so the value read is the value committed) and inserts their entries
 *   ON CONFLICT DO NOTHING (a writer that got there first wrote the current
 *   value). The step that reaches the end marks the declaration ready.
 *   Every process that declares a building index builds it; a second
 *   builder only repeats inserts that do nothing.
 * - Queries trust this process's view of readiness for planning, and
 *   check it in their own snapshot (pg_custom_defer_ready): a
 *   declaration dropped meanwhile by another process (started with
 *   another set) makes the query run again without its index. */
#include "pg_array.h"
#include "pg_internal.h"

#include "custom_index.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_kept_set {
    _Atomic int refs;
    uint64_t gen;
    size_t n;
    cdx_def defs[STORE_MAX_CUSTOM_INDEXES];
    char decl[STORE_MAX_CUSTOM_INDEXES][PG_DECL_MAX];
};

static void decl_of(char *out, const cdx_def *d)
{
    snprintf(out, PG_DECL_MAX, "%s:%s", d->path, store_custom_type_name(d->type));
}

const char *pg_custom_decl(const pgstore *p, const cdx_def *d)
{
    return p->cdx_decl[d - p->cdx];
}

static void kept_unref(pg_kept_set *k)
{
    if (k != NULL && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
        free(k);
}

/* The recorded declarations (decl, ready) into *res, sorted; those being
 * dropped are not in the set. */
static int read_decls(pg_conn *c, PGresult **res, roster_err_detail *detail)
{
    static pg_stmt get =
        PG_STMT("SELECT decl, ready FROM roster_custom_decl WHERE NOT dropping ORDER BY decl");
    return pg_run_stmt(c, &get, 0, NULL, res, detail);
}

/* Parses declaration text `decl` into d (id given); false when it does
 * not parse (a declaration this build does not know). */
static bool parse_decl(cdx_def *d, uint8_t id, const char *decl)
{
    roster_err_detail ignored;
    memset(d, 0, sizeof *d);
    d->id = id;
    atomic_init(&d->ready_txn, CDX_BUILDING);
    return store_custom_index_parse(d->path, &d->type, decl, &ignored) == ROSTER_E_OK;
}

/* A kept set of generation gen from the rows of read_decls. */
static int kept_from(pg_kept_set **out, PGresult *res, uint64_t gen, roster_err_detail *detail)
{
    int rows = PQntuples(res);
    if (rows > STORE_MAX_CUSTOM_INDEXES)
        return roster_fail(detail, ROSTER_E_CORRUPT, "store",
                           "roster_custom_decl holds %d declarations; at most %d are supported",
                           rows, STORE_MAX_CUSTOM_INDEXES);
    pg_kept_set *k = calloc(1, sizeof *k);
    if (k == NULL)
        return ROSTER_E_NOMEM;
    atomic_init(&k->refs, 1);
    k->gen = gen;
    for (int i = 0; i < rows; i++) {
        const char *decl = PQgetvalue(res, i, 0);
        if (!parse_decl(&k->defs[k->n], (uint8_t)(k->n + 1), decl)) {
            free(k);
            return roster_fail(detail, ROSTER_E_VERSION, "store",
                               "customData index declaration \"%.140s\" is not one this build "
                               "knows: run a newer roster-users",
                               decl);
        }
        snprintf(k->decl[k->n], PG_DECL_MAX, "%s", decl);
        k->n++;
    }
    *out = k;
    return ROSTER_E_OK;
}

int pg_custom_group_begin(pgstore_wtxn *w, uint64_t gen, roster_err_detail *detail)
{
    pgstore *p = w->p;
    if (w->kept != NULL && w->kept->gen == gen)
        return ROSTER_E_OK;
    kept_unref(w->kept);
    w->kept = NULL;
    pthread_mutex_lock(&p->kept_mu);
    if (p->kept != NULL && p->kept->gen == gen) {
        atomic_fetch_add_explicit(&p->kept->refs, 1, memory_order_relaxed);
        w->kept = p->kept;
    }
    pthread_mutex_unlock(&p->kept_mu);
    if (w->kept != NULL)
        return ROSTER_E_OK;
    /* The set moved (or is not known yet): read under the feed lock the
     * group holds, so it stays what it is until the group commits. */
    PGresult *res;
    int err = read_decls(w->c, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    pg_kept_set *k;
    err = kept_from(&k, res, gen, detail);
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed); /* w's */
    pthread_mutex_lock(&p->kept_mu);
    pg_kept_set *old = p->kept;
    p->kept = k;
    pthread_mutex_unlock(&p->kept_mu);
    kept_unref(old);
    w->kept = k;
    return ROSTER_E_OK;
}

void pg_custom_group_end(pgstore_wtxn *w)
{
    kept_unref(w->kept);
    w->kept = NULL;
}

/* Counter changes of one write, at most two per declaration (the old
 * scope's and the new one's). */
typedef struct count_deltas {
    size_t n;
    const char *decl[2 * STORE_MAX_CUSTOM_INDEXES];
    roster_uuid scope[2 * STORE_MAX_CUSTOM_INDEXES];
    int64_t entries[2 * STORE_MAX_CUSTOM_INDEXES], active[2 * STORE_MAX_CUSTOM_INDEXES];
} count_deltas;

static void delta_add(count_deltas *c, const char *decl, const roster_uuid *scope, int64_t e,
                      int64_t a)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->decl[i] == decl && roster_uuid_eq(&c->scope[i], scope)) {
            c->entries[i] += e;
            c->active[i] += a;
            return;
        }
    c->decl[c->n] = decl;
    c->scope[c->n] = *scope;
    c->entries[c->n] = e;
    c->active[c->n++] = a;
}

/* Queues the counters' changes of c (those not zero) in one statement. */
static int queue_deltas(pgstore_wtxn *w, const count_deltas *c)
{
    static _Thread_local uint8_t decls[PG_VAR_ARRAY_SIZE(
        2 * STORE_MAX_CUSTOM_INDEXES, 2 * STORE_MAX_CUSTOM_INDEXES * (PG_DECL_MAX - 1))],
        scopes[PG_UUID_ARRAY_SIZE(2 * STORE_MAX_CUSTOM_INDEXES)],
        es[PG_VAR_ARRAY_SIZE(2 * STORE_MAX_CUSTOM_INDEXES, 2 * STORE_MAX_CUSTOM_INDEXES * 8)],
        as[PG_VAR_ARRAY_SIZE(2 * STORE_MAX_CUSTOM_INDEXES, 2 * STORE_MAX_CUSTOM_INDEXES * 8)];
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->entries[i] != 0 || c->active[i] != 0;
    if (n == 0)
        return ROSTER_E_OK;
    size_t dn = pg_var_array_header(decls, n, PG_OID_TEXT);
    size_t en = pg_var_array_header(es, n, PG_OID_INT8);
    size_t an = pg_var_array_header(as, n, PG_OID_INT8);
    pg_uuid_array_init(scopes, n);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->entries[i] == 0 && c->active[i] == 0)
            continue;
        uint8_t b[8];
        dn += pg_var_array_put(decls + dn, c->decl[i], strlen(c->decl[i]));
        pg_uuid_array_set(scopes, k++, &c->scope[i]);
        pg_i64_put(b, c->entries[i]);
        en += pg_var_array_put(es + en, b, 8);
        pg_i64_put(b, c->active[i]);
        an += pg_var_array_put(as + an, b, 8);
    }
    static pg_stmt add =
        PG_STMT("INSERT INTO roster_custom_counts (decl, cscope, entries, active) "
                "SELECT d, s, e, a FROM unnest($1::text[], $2::uuid[], $3::int8[], $4::int8[]) "
                "AS x(d, s, e, a) ON CONFLICT (decl, cscope) DO UPDATE SET "
                "entries = roster_custom_counts.entries + excluded.entries, "
                "active = roster_custom_counts.active + excluded.active");
    pg_param params[] = {{decls, (int)dn, PG_OID_TEXT_ARRAY},
                         {scopes, (int)PG_UUID_ARRAY_SIZE(n), PG_OID_UUID_ARRAY},
                         {es, (int)en, PG_OID_INT8_ARRAY},
                         {as, (int)an, PG_OID_INT8_ARRAY}};
    return pg_defer(w->c, &add, 4, params, NULL, NULL, NULL, 0);
}

int pg_custom_put(pgstore_wtxn *w, const user_view *old, const user_view *nv)
{
    const pg_kept_set *k = w->kept;
    if (k == NULL || k->n == 0)
        return ROSTER_E_OK;
    const cdx_def *defs[STORE_MAX_CUSTOM_INDEXES];
    for (size_t i = 0; i < k->n; i++)
        defs[i] = &k->defs[i];
    static _Thread_local uint8_t vals[STORE_MAX_CUSTOM_INDEXES][CDX_MAX_STRING + 1],
        old_vals[STORE_MAX_CUSTOM_INDEXES][CDX_MAX_STRING + 1];
    size_t lens[STORE_MAX_CUSTOM_INDEXES] = {0}, old_lens[STORE_MAX_CUSTOM_INDEXES] = {0};
    roster_uuid scope = {{0}}, old_scope = {{0}};
    uint8_t flags[2] = {0, 0};
    bool active = false, old_active = false;
    if (nv != NULL) {
        custom_index_user_values(vals, lens, defs, k->n, nv);
        key_scope(&scope, nv);
        flags[1] = rec_active_flags(nv->f.active);
        active = (flags[1] & FLAG_INACTIVE) == 0;
    }
    if (old != NULL) {
        key_scope(&old_scope, old);
        custom_index_user_values(old_vals, old_lens, defs, k->n, old);
        old_active = (rec_active_flags(old->f.active) & FLAG_INACTIVE) == 0;
        /* Most updates leave customData, the tenant and the active flag
         * alone: then the entries and counters stay as they are. */
        bool same = nv != NULL && roster_uuid_eq(&scope, &old_scope) &&
                    rec_active_flags(old->f.active) == flags[1];
        for (size_t i = 0; i < k->n && same; i++)
            same = lens[i] == old_lens[i] && memcmp(vals[i], old_vals[i], lens[i]) == 0;
        if (same)
            return ROSTER_E_OK;
    }
    count_deltas cd = {0};
    for (size_t i = 0; i < k->n; i++) {
        if (old_lens[i])
            delta_add(&cd, k->decl[i], &old_scope, -1, -(int64_t)old_active);
        if (lens[i])
            delta_add(&cd, k->decl[i], &scope, 1, (int64_t)active);
    }
    int err = queue_deltas(w, &cd);
    /* A deleted user's entries go with its row (ON DELETE CASCADE). */
    if (err != ROSTER_E_OK || nv == NULL)
        return err;
    if (old != NULL) {
        static pg_stmt del = PG_STMT("DELETE FROM roster_custom WHERE user_id = $1");
        pg_param dp[] = {{nv->id.b, 16, PG_OID_UUID}};
        if ((err = pg_defer(w->c, &del, 1, dp, NULL, NULL, NULL, 0)) != ROSTER_E_OK)
            return err;
    }
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++)
        n += lens[i] != 0;
    if (n == 0)
        return ROSTER_E_OK;
    static _Thread_local uint8_t decl_arr[PG_VAR_ARRAY_SIZE(
        STORE_MAX_CUSTOM_INDEXES, STORE_MAX_CUSTOM_INDEXES * (PG_DECL_MAX - 1))],
        val_arr[PG_VAR_ARRAY_SIZE(STORE_MAX_CUSTOM_INDEXES,
                                  STORE_MAX_CUSTOM_INDEXES * (CDX_MAX_STRING + 1))];
    size_t dn = pg_var_array_header(decl_arr, n, PG_OID_TEXT);
    size_t vn = pg_var_array_header(val_arr, n, PG_OID_BYTEA);
    for (size_t i = 0; i < k->n; i++)
        if (lens[i]) {
            dn += pg_var_array_put(decl_arr + dn, k->decl[i], strlen(k->decl[i]));
            vn += pg_var_array_put(val_arr + vn, vals[i], lens[i]);
        }
    static pg_stmt ins =
        PG_STMT("INSERT INTO roster_custom (decl, user_id, cscope, flags, value) "
                "SELECT d, $2, $3, $5, v FROM unnest($1::text[], $4::bytea[]) AS x(d, v)");
    pg_param ip[] = {{decl_arr, (int)dn, PG_OID_TEXT_ARRAY},
                     {nv->id.b, 16, PG_OID_UUID},
                     {scope.b, 16, PG_OID_UUID},
                     {val_arr, (int)vn, PG_OID_BYTEA_ARRAY},
                     {flags, 2, PG_OID_INT2}};
    return pg_defer(w->c, &ins, 5, ip, NULL, NULL, NULL, 0);
}

/* ------------------------------------------------------------ open */

/* The declarations being dropped, at most STORE_MAX_CUSTOM_INDEXES. */
typedef struct drop_list {
    char decl[STORE_MAX_CUSTOM_INDEXES][PG_DECL_MAX];
    size_t n;
} drop_list;

/* roster-users' open: the recorded set becomes p's declared set, under
 * the feed lock (writers wait), and the generation moves when it changed.
 * Each p->cdx slot is then ready or building as recorded. A declaration
 * no longer declared is only marked dropping here (writers stop keeping
 * it, queries stop using it) and listed in *drops: its entries are
 * deleted after the commit in batches (drop_entries), so other processes'
 * writers do not wait for a delete of millions of rows. One being dropped
 * (a drop that did not finish) is listed again; declared again, its
 * leftovers go at once, under the lock, and it is recorded anew. */
static int reconcile(pgstore *p, pg_conn *c, drop_list *drops, roster_err_detail *detail)
{
    int err = pg_run0(c, "BEGIN", 0, NULL, detail);
    if (err != ROSTER_E_OK)
        return err;
    PGresult *res = NULL;
    bool changed = false;
    err = pg_run0(c, "SELECT 1 FROM roster_feed FOR NO KEY UPDATE", 0, NULL, detail);
    if (err == ROSTER_E_OK)
        err = pg_run(c, "SELECT decl, ready, dropping FROM roster_custom_decl ORDER BY decl", 0,
                     NULL, &res, detail);
    int rows = err == ROSTER_E_OK ? PQntuples(res) : 0;
    bool kept[STORE_MAX_CUSTOM_INDEXES] = {false}; /* p->cdx[j] recorded and kept */
    for (int i = 0; i < rows && err == ROSTER_E_OK; i++) {
        const char *decl = PQgetvalue(res, i, 0);
        bool ready = PQgetvalue(res, i, 1)[0], dropping = PQgetvalue(res, i, 2)[0];
        pg_param dp[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
        size_t j = 0;
        while (j < p->n_cdx && strcmp(p->cdx_decl[j], decl) != 0)
            j++;
        if (j < p->n_cdx && !dropping) {
            kept[j] = true;
            atomic_store_explicit(&p->cdx[j].ready_txn, ready ? 0 : CDX_BUILDING,
                                  memory_order_relaxed);
        } else if (j < p->n_cdx) {
            /* Declared again before its drop ended: its leftovers go with
             * the row (ON DELETE CASCADE); recorded anew below. */
            err = pg_run0(c, "DELETE FROM roster_custom_decl WHERE decl = $1", 1, dp, detail);
        } else if (drops->n < STORE_MAX_CUSTOM_INDEXES) {
            if (!dropping) {
                err = pg_run0(c,
                              "UPDATE roster_custom_decl SET dropping = true, ready = false "
                              "WHERE decl = $1",
                              1, dp, detail);
                changed = true;
            }
            snprintf(drops->decl[drops->n++], PG_DECL_MAX, "%s", decl);
        }
    }
    for (size_t j = 0; j < p->n_cdx && err == ROSTER_E_OK; j++) {
        if (kept[j])
            continue;
        pg_param ap[] = {{p->cdx_decl[j], (int)strlen(p->cdx_decl[j]), PG_OID_TEXT}};
        err = pg_run0(c, "INSERT INTO roster_custom_decl (decl) VALUES ($1)", 1, ap, detail);
        if (err == ROSTER_E_OK) {
            roster_log(ROSTER_LOG_INFO, "custom_index_declare", "path=%s type=%s", p->cdx[j].path,
                       store_custom_type_name(p->cdx[j].type));
            changed = true;
        }
    }
    PQclear(res);
    if (err == ROSTER_E_OK && changed)
        err = pg_run0(c, "UPDATE roster_feed SET custom_gen = custom_gen + 1", 0, NULL, detail);
    if (err == ROSTER_E_OK)
        err = pg_run0(c, "COMMIT", 0, NULL, detail);
    if (err != ROSTER_E_OK)
        pg_rollback(c);
    return err;
}

/* Deletes the entries of declaration `decl` (marked dropping) in
 * transactions of CDX_DROP_BATCH entries, then its row. */
static int drop_entries(pg_conn *c, const char *decl, roster_err_detail *detail)
{
    pg_param dp[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
    uint64_t gone = 0;
    for (;;) {
        PGresult *res;
        int err = pg_run(c,
                         "DELETE FROM roster_custom WHERE ctid = ANY(ARRAY(SELECT ctid FROM "
                         "roster_custom WHERE decl = $1 LIMIT " CDX_DROP_BATCH_TEXT "))",
                         1, dp, &res, detail);
        if (err != ROSTER_E_OK)
            return err;
        uint64_t n = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        gone += n;
        if (n == 0)
            break;
    }
    int err =
        pg_run0(c, "DELETE FROM roster_custom_decl WHERE decl = $1 AND dropping", 1, dp, detail);
    if (err == ROSTER_E_OK)
        roster_log(ROSTER_LOG_INFO, "custom_index_drop", "decl=\"%s\" entries=%llu", decl,
                   (unsigned long long)gone);
    return err;
}

/* Offline tools and read-only opens: the recorded set is the queried set,
 * as the LMDB store keeps its recorded set when nothing is declared. */
static int load_recorded(pgstore *p, pg_conn *c, roster_err_detail *detail)
{
    PGresult *res;
    int err = read_decls(c, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    pg_kept_set *k;
    if ((err = kept_from(&k, res, 0, detail)) == ROSTER_E_OK) {
        for (size_t i = 0; i < k->n; i++) {
            parse_decl(&p->cdx[i], (uint8_t)(i + 1), k->decl[i]);
            snprintf(p->cdx_decl[i], PG_DECL_MAX, "%s", k->decl[i]);
            atomic_store_explicit(&p->cdx[i].ready_txn,
                                  PQgetvalue(res, (int)i, 1)[0] ? 0 : CDX_BUILDING,
                                  memory_order_relaxed);
        }
        p->n_cdx = k->n;
        free(k);
    }
    PQclear(res);
    return err;
}

int pg_custom_open(pgstore *p, bool declare, roster_err_detail *detail)
{
    for (size_t i = 0; i < p->n_cdx; i++)
        decl_of(p->cdx_decl[i], &p->cdx[i]);
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (!declare || p->read_only) {
        err = load_recorded(p, c, detail);
    } else {
        static _Thread_local drop_list drops;
        drops.n = 0;
        err = reconcile(p, c, &drops, detail);
        for (size_t i = 0; i < drops.n && err == ROSTER_E_OK; i++)
            err = drop_entries(c, drops.decl[i], detail);
    }
    pg_pool_release(p->pool, c);
    return err;
}

void pg_custom_close(pgstore *p)
{
    kept_unref(p->kept);
    p->kept = NULL;
}

int pg_custom_defer_ready(pg_conn *c, const pgstore *p, const cdx_def *d, PGresult **res)
{
    static pg_stmt get = PG_STMT("SELECT 1 FROM roster_custom_decl WHERE decl = $1 AND ready");
    const char *decl = pg_custom_decl(p, d);
    pg_param params[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
    return pg_defer(c, &get, 1, params, res, NULL, NULL, 0);
}

void pg_custom_unready(pgstore *p, const cdx_def *d)
{
    cdx_def *m = &p->cdx[d - p->cdx];
    if (atomic_exchange_explicit(&m->ready_txn, CDX_BUILDING, memory_order_relaxed) != CDX_BUILDING)
        roster_log(ROSTER_LOG_WARN, "custom_index_gone",
                   "decl=\"%s\" reason=\"no longer ready in the database (another process "
                   "declared another set); its queries read the records\"",
                   p->cdx_decl[d - p->cdx]);
}

/* ------------------------------------------------------------ build */

struct pgstore_build {
    pgstore *p;
    cdx_progress pr; /* pr.at: the slot of p->cdx being built */
    bool started;    /* last holds the last user walked */
    uint8_t last[16];
};

static bool next_building(pgstore_build *b)
{
    return cdx_progress_next(&b->pr, b->p->cdx, b->p->n_cdx);
}

int pgstore_build_new(pgstore_build **out, pgstore *p)
{
    pgstore_build b = {.p = p};
    cdx_progress_start(&b.pr);
    if (p->read_only || !p->cdx_declared || !next_building(&b)) {
        *out = NULL;
        return ROSTER_E_OK;
    }
    pgstore_build *x = malloc(sizeof *x);
    if (x == NULL)
        return ROSTER_E_NOMEM;
    *x = b;
    *out = x;
    return ROSTER_E_OK;
}

size_t pgstore_build_left(const pgstore_build *b)
{
    return cdx_progress_left(&b->pr, b->p->cdx, b->p->n_cdx);
}

void pgstore_build_free(pgstore_build *b)
{
    free(b);
}

/* Inserts the entries of the users in rows (id, record) for index d
 * (declaration decl) on c, doing nothing where one exists. */
static int insert_entries(pg_conn *c, const cdx_def *d, const char *decl, PGresult *rows,
                          uint64_t *entries, roster_err_detail *detail)
{
    int n = PQntuples(rows);
    uint8_t *ids = malloc(PG_UUID_ARRAY_SIZE(n)), *scopes = malloc(PG_UUID_ARRAY_SIZE(n)),
            *vals = malloc(PG_VAR_ARRAY_SIZE(n, (size_t)n * (CDX_MAX_STRING + 1))),
            *flags = malloc(PG_VAR_ARRAY_SIZE(n, (size_t)n * 2));
    int err = ids && scopes && vals && flags ? ROSTER_E_OK : ROSTER_E_NOMEM;
    size_t k = 0, vn = 20, fn = 20;
    for (int i = 0; i < n && err == ROSTER_E_OK; i++) {
        user_view v;
        if (user_view_parse(&v, PQgetvalue(rows, i, 1), (size_t)PQgetlength(rows, i, 1)) !=
            ROSTER_E_OK)
            continue; /* verify reports it */
        uint8_t val[CDX_MAX_STRING + 1];
        size_t len = custom_index_user_value(val, d, &v);
        if (len == 0)
            continue;
        roster_uuid id, scope;
        memcpy(id.b, PQgetvalue(rows, i, 0), 16);
        key_scope(&scope, &v);
        if (k == 0) {
            pg_uuid_array_init(ids, (size_t)n);
            pg_uuid_array_init(scopes, (size_t)n);
        }
        pg_uuid_array_set(ids, k, &id);
        pg_uuid_array_set(scopes, k, &scope);
        vn += pg_var_array_put(vals + vn, val, len);
        uint8_t fl[2] = {0, rec_active_flags(v.f.active)};
        fn += pg_var_array_put(flags + fn, fl, 2);
        k++;
    }
    if (err == ROSTER_E_OK && k > 0) {
        /* The uuid arrays were made for n elements: their headers say k. */
        uint8_t len_be[4] = {(uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
        memcpy(ids + 12, len_be, 4);
        memcpy(scopes + 12, len_be, 4);
        pg_var_array_header(vals, k, PG_OID_BYTEA);
        pg_var_array_header(flags, k, PG_OID_INT2);
        pg_param params[] = {{decl, (int)strlen(decl), PG_OID_TEXT},
                             {ids, (int)PG_UUID_ARRAY_SIZE(k), PG_OID_UUID_ARRAY},
                             {scopes, (int)PG_UUID_ARRAY_SIZE(k), PG_OID_UUID_ARRAY},
                             {vals, (int)vn, PG_OID_BYTEA_ARRAY},
                             {flags, (int)fn, PG_OID_INT2_ARRAY}};
        err = pg_run0(c,
                      "INSERT INTO roster_custom (decl, user_id, cscope, flags, value) "
                      "SELECT $1, u, s, f, v FROM unnest($2::uuid[], $3::uuid[], $4::bytea[], "
                      "$5::int2[]) AS x(u, s, v, f) ON CONFLICT (decl, user_id) DO NOTHING",
                      5, params, detail);
        *entries += k;
    }
    free(ids);
    free(scopes);
    free(vals);
    free(flags);
    return err;
}

/* The end of a build, once the walk reached the last user: under the
 * feed lock (writers wait, and their counters so far are not trusted),
 * the counters of declaration decl are counted anew from its entries and
 * it is recorded ready; *gone when it was dropped meanwhile. The lock is
 * taken first, as writers take it, and before any user row is locked. */
static int finish_build(pg_conn *c, const char *decl, bool *gone)
{
    pg_param dp[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
    PGresult *res = NULL;
    int err = pg_run0(c, "BEGIN", 0, NULL, NULL);
    if (err == ROSTER_E_OK)
        err = pg_run0(c, "SELECT 1 FROM roster_feed FOR NO KEY UPDATE", 0, NULL, NULL);
    if (err == ROSTER_E_OK)
        err =
            pg_run(c, "UPDATE roster_custom_decl SET ready = true WHERE decl = $1 AND NOT dropping",
                   1, dp, &res, NULL);
    *gone = err == ROSTER_E_OK && strcmp(PQcmdTuples(res), "1") != 0;
    PQclear(res);
    if (err == ROSTER_E_OK && !*gone)
        err = pg_run0(c, "DELETE FROM roster_custom_counts WHERE decl = $1", 1, dp, NULL);
    if (err == ROSTER_E_OK && !*gone)
        err = pg_run0(c,
                      "INSERT INTO roster_custom_counts (decl, cscope, entries, active) "
                      "SELECT decl, cscope, count(*), count(*) FILTER (WHERE flags <> 1) "
                      "FROM roster_custom WHERE decl = $1 GROUP BY decl, cscope",
                      1, dp, NULL);
    if (err == ROSTER_E_OK)
        err = pg_run0(c, "COMMIT", 0, NULL, NULL);
    if (err != ROSTER_E_OK)
        pg_rollback(c);
    return err;
}

/* One step of index d: up to max users after b->last, in one transaction;
 * *ready once the walk reached the end and marked d ready, *gone when d's
 * declaration is no longer recorded (another process dropped it). */
static int walk_some(pgstore_build *b, const cdx_def *d, size_t max, bool *ready, bool *gone,
                     uint64_t *walked, uint64_t *wrote)
{
    pgstore *p = b->p;
    const char *decl = pg_custom_decl(p, d);
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, NULL);
    if (err != ROSTER_E_OK)
        return err;
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", max);
    PGresult *exists = NULL, *rows = NULL;
    pg_param dp[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
    pg_param wp[] = {{b->last, 16, PG_OID_UUID}, {lim, (int)strlen(lim), PG_OID_TEXT}};
    err = pg_defer_sql(c, "BEGIN", NULL, NULL, NULL, 0);
    /* Held until the step commits: a drop waits for it. */
    if (err == ROSTER_E_OK)
        err = pg_defer_query(c, "SELECT 1 FROM roster_custom_decl WHERE decl = $1 FOR KEY SHARE", 1,
                             dp, &exists);
    if (err == ROSTER_E_OK)
        err = pg_defer_query(c,
                             b->started ? "SELECT id, record FROM roster_users WHERE id > $1 "
                                          "ORDER BY id LIMIT $2::text::int8 FOR SHARE"
                                        : "SELECT id, record FROM roster_users "
                                          "ORDER BY id LIMIT $2::text::int8 FOR SHARE",
                             2, wp, &rows);
    int synced = pg_sync(c, NULL);
    if (err == ROSTER_E_OK)
        err = synced;
    uint64_t entries = 0;
    int n = 0;
    *gone = err == ROSTER_E_OK && PQntuples(exists) == 0;
    if (err == ROSTER_E_OK && !*gone) {
        n = PQntuples(rows);
        err = insert_entries(c, d, decl, rows, &entries, NULL);
    }
    if (err == ROSTER_E_OK)
        err = pg_run0(c, "COMMIT", 0, NULL, NULL);
    if (err == ROSTER_E_OK && !*gone && (size_t)n < max)
        err = finish_build(c, decl, gone);
    /* A build inserts the whole index at once, before autovacuum's next
     * look: without fresh statistics the planner takes the new index for
     * a few rows (and reads it by bitmap, then sorts) until it does. */
    if (err == ROSTER_E_OK && !*gone && (size_t)n < max) {
        roster_err_detail ignored;
        pg_run0(c, "ANALYZE roster_custom, roster_custom_counts", 0, NULL, &ignored);
    }
    if (err == ROSTER_E_OK && n > 0) {
        memcpy(b->last, PQgetvalue(rows, n - 1, 0), 16);
        b->started = true;
    }
    if (err != ROSTER_E_OK)
        pg_rollback(c);
    PQclear(exists);
    PQclear(rows);
    pg_pool_release(p->pool, c);
    if (err != ROSTER_E_OK)
        return err;
    *walked = (uint64_t)n;
    *wrote = entries;
    *ready = !*gone && (size_t)n < max;
    return ROSTER_E_OK;
}

int pgstore_build_step(pgstore_build *b, size_t max_users, bool *done)
{
    if (max_users == 0)
        max_users = 1;
    if (!next_building(b)) {
        *done = true;
        return ROSTER_E_OK;
    }
    cdx_def *d = &b->p->cdx[b->pr.at];
    bool first = !b->started, ready = false, gone = false;
    uint64_t walked = 0, wrote = 0;
    int err = walk_some(b, d, max_users, &ready, &gone, &walked, &wrote);
    if (err != ROSTER_E_OK)
        return err;
    if (ready) {
        /* Committed: reads from here on see it ready in their snapshots
         * too. */
        atomic_store_explicit(&d->ready_txn, 0, memory_order_release);
        b->pr.users += walked;
        b->pr.entries += wrote;
        cdx_progress_ready(&b->pr, d);
    } else if (gone) {
        roster_log(ROSTER_LOG_WARN, "custom_index_build_dropped",
                   "path=%s reason=\"no longer declared in the database (another process "
                   "declared another set)\"",
                   d->path);
        size_t next = b->pr.at + 1;
        cdx_progress_start(&b->pr);
        b->pr.at = next;
    }
    if (ready || gone) {
        b->started = false;
        *done = !next_building(b);
        return ROSTER_E_OK;
    }
    cdx_progress_step(&b->pr, d, walked, wrote, first);
    *done = false;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ verify */

typedef struct cverify {
    const cdx_def *d;
    const char *decl;
    pg_issue_fn fn;
    void *ctx;
} cverify;

/* Columns: id, record, cscope, value, flags (the last three NULL: no
 * entry). */
static int verify_row(void *ctx, PGresult *res, int i)
{
    cverify *cv = ctx;
    roster_uuid id;
    memcpy(id.b, PQgetvalue(res, i, 0), 16);
    user_view v;
    if (user_view_parse(&v, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1)) != ROSTER_E_OK)
        return ROSTER_E_OK; /* reported as a bad record */
    uint8_t val[CDX_MAX_STRING + 1];
    size_t len = custom_index_user_value(val, cv->d, &v);
    bool has = !PQgetisnull(res, i, 3);
    char msg[256];
    if (len > 0 && !has) {
        snprintf(msg, sizeof msg, "no entry of customData %s for this user", cv->d->path);
        cv->fn(cv->ctx, STORE_ISSUE_MISSING_ENTRY, "roster_custom", &id, msg);
    } else if (len == 0 && has) {
        snprintf(msg, sizeof msg,
                 "entry of customData %s matches no value of the user's customData", cv->d->path);
        cv->fn(cv->ctx, STORE_ISSUE_STALE_ENTRY, "roster_custom", &id, msg);
    } else if (has) {
        roster_uuid scope;
        key_scope(&scope, &v);
        if ((size_t)PQgetlength(res, i, 3) != len || memcmp(PQgetvalue(res, i, 3), val, len) != 0) {
            snprintf(msg, sizeof msg, "entry of customData %s holds another value than the user's",
                     cv->d->path);
            cv->fn(cv->ctx, STORE_ISSUE_STALE_ENTRY, "roster_custom", &id, msg);
        } else if (PQgetlength(res, i, 2) != 16 || memcmp(PQgetvalue(res, i, 2), scope.b, 16)) {
            snprintf(msg, sizeof msg, "entry of customData %s names another scope than the user's",
                     cv->d->path);
            cv->fn(cv->ctx, STORE_ISSUE_STALE_ENTRY, "roster_custom", &id, msg);
        } else if (PQgetlength(res, i, 4) != 2 ||
                   (uint8_t)PQgetvalue(res, i, 4)[1] != rec_active_flags(v.f.active) ||
                   PQgetvalue(res, i, 4)[0] != 0) {
            snprintf(msg, sizeof msg, "entry of customData %s has wrong flags", cv->d->path);
            cv->fn(cv->ctx, STORE_ISSUE_STALE_ENTRY, "roster_custom", &id, msg);
        }
    }
    return ROSTER_E_OK;
}

/* The counters of ready declaration decl against its entries, per scope:
 * every scope whose numbers differ. */
static int verify_counts(pgstore_rtxn *r, const cdx_def *d, const char *decl, pg_issue_fn fn,
                         void *ctx)
{
    pg_param params[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
    PGresult *res;
    int err = pg_run(r->c,
                     "SELECT COALESCE(c.cscope, x.cscope), COALESCE(c.entries, 0), "
                     "COALESCE(c.active, 0), COALESCE(x.e, 0), COALESCE(x.a, 0) "
                     "FROM (SELECT cscope, entries, active FROM roster_custom_counts "
                     "WHERE decl = $1) c FULL JOIN (SELECT cscope, count(*) AS e, "
                     "count(*) FILTER (WHERE flags <> 1) AS a FROM roster_custom WHERE decl = $1 "
                     "GROUP BY cscope) x ON x.cscope = c.cscope "
                     "WHERE COALESCE(c.entries, 0) <> COALESCE(x.e, 0) "
                     "OR COALESCE(c.active, 0) <> COALESCE(x.a, 0)",
                     1, params, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    for (int i = 0; i < PQntuples(res); i++) {
        roster_uuid scope;
        memcpy(scope.b, PQgetvalue(res, i, 0), 16);
        char msg[256];
        snprintf(msg, sizeof msg,
                 "counter of customData %s says %lld users (%lld active), its entries %lld "
                 "(%lld)",
                 d->path, (long long)pg_i64_get(PQgetvalue(res, i, 1)),
                 (long long)pg_i64_get(PQgetvalue(res, i, 2)),
                 (long long)pg_i64_get(PQgetvalue(res, i, 3)),
                 (long long)pg_i64_get(PQgetvalue(res, i, 4)));
        fn(ctx, STORE_ISSUE_COUNT_MISMATCH, "roster_custom_counts", &scope, msg);
    }
    PQclear(res);
    return ROSTER_E_OK;
}

int pg_custom_verify(pgstore_rtxn *r, pg_issue_fn fn, void *ctx)
{
    PGresult *res;
    int err = read_decls(r->c, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    for (int i = 0; i < PQntuples(res) && err == ROSTER_E_OK; i++) {
        const char *decl = PQgetvalue(res, i, 0);
        cdx_def d;
        if (!parse_decl(&d, 1, decl)) {
            char msg[256];
            snprintf(msg, sizeof msg, "declaration \"%.140s\" does not parse", decl);
            fn(ctx, STORE_ISSUE_BAD_RECORD, "roster_custom_decl", NULL, msg);
            continue;
        }
        if (!PQgetvalue(res, i, 1)[0])
            continue; /* building: its entries are not all there yet */
        cverify cv = {&d, decl, fn, ctx};
        pg_param params[] = {{decl, (int)strlen(decl), PG_OID_TEXT}};
        err = pg_walk(r,
                      "SELECT u.id, u.record, c.cscope, c.value, c.flags FROM roster_users u "
                      "LEFT JOIN roster_custom c ON c.user_id = u.id AND c.decl = $1 ORDER BY u.id",
                      1, params, verify_row, &cv);
        if (err == ROSTER_E_OK)
            err = verify_counts(r, &d, decl, fn, ctx);
    }
    PQclear(res);
    return err;
}
