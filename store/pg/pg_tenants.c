/* Tenant writes, reads and lists of the PostgreSQL store. Records are
 * built by tenant_build.c and lists walked by tenant_list.c, as the LMDB
 * store does; each row carries the record, the order key of its name
 * (key_tenant_name: the name's encoding then the id, so bytea order is
 * the LMDB store's tenant_name order) and the default mark, which a
 * unique partial index keeps on one row at most. */
#include "pg_array.h"
#include "pg_internal.h"

#include "apikey_build.h"
#include "keys.h"
#include "record.h"
#include "tenant_build.h"
#include "tenant_list.h"

#include "clock.h"
#include "roster_limits.h"

#include <string.h>

/* The advisory lock a change of the default tenant holds until its group
 * ends, so that two groups making defaults at once take turns (each then
 * sees the other's default and unmarks it) rather than both finding none
 * and one failing on the unique index. */
#define DEFAULT_LOCK "82269603566451"

/* Packs t (id `id`) into w's scratch and writes its row: a new one
 * (insert) or the existing one. *out_bytes and *out_len (may be NULL):
 * the record written, in w's scratch until the next write of w. */
static int tenant_put(pgstore_wtxn *w, const Roster__V1__Tenant *t, const roster_uuid *id,
                      bool insert, const uint8_t **out_bytes, size_t *out_len,
                      roster_err_detail *detail)
{
    size_t len = protobuf_c_message_get_packed_size(&t->base);
    uint8_t *bytes;
    int err = pg_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&t->base, bytes);
    tenant_view tv;
    if (tenant_view_parse(&tv, bytes, len) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    uint8_t name_key[KEY_MAX];
    size_t nk = key_tenant_name(name_key, &tv);
    uint8_t def = t->has_is_default && t->is_default;
    /* The record it replaces, for the feed's event (the caller holds the
     * row's lock). */
    PGresult *prev = NULL;
    pg_param key[] = {{id->b, 16, PG_OID_UUID}};
    if (!insert && (err = pg_run(w->c, "SELECT record FROM roster_tenants WHERE id = $1", 1, key,
                                 &prev, detail)) != ROSTER_E_OK)
        return err;
    bool had = prev && PQntuples(prev) == 1;
    pg_param params[] = {{id->b, 16, PG_OID_UUID},
                         {name_key, (int)nk, PG_OID_BYTEA},
                         {&def, 1, PG_OID_BOOL},
                         {bytes, (int)len, PG_OID_BYTEA}};
    err = pg_run0(w->c,
                  insert ? "INSERT INTO roster_tenants (id, name_key, is_default, record) "
                           "VALUES ($1, $2, $3, $4)"
                         : "UPDATE roster_tenants SET name_key = $2, is_default = $3, record = $4 "
                           "WHERE id = $1",
                  4, params, detail);
    if (err == ROSTER_E_OK)
        err = pg_changes_append_tenant(w, had ? PQgetvalue(prev, 0, 0) : NULL,
                                       had ? (size_t)PQgetlength(prev, 0, 0) : 0, t, bytes, len,
                                       detail);
    PQclear(prev);
    if (err == ROSTER_E_ALREADY_EXISTS && strcmp(w->c->constraint, "roster_tenants_pkey") == 0) {
        char text[ROSTER_UUID_TEXT_LEN + 1];
        roster_uuid_format(text, id);
        return tenant_build_exists(text, detail);
    }
    if (err == ROSTER_E_OK && out_bytes) {
        *out_bytes = bytes;
        *out_len = len;
    }
    return err;
}

/* The record of tenant `id`, locked for the rest of the group against
 * other changes: *res holds it (caller clears). `strong` locks it against
 * KEY SHARE too (FOR UPDATE), so that groups adding users or keys to it
 * (pg_tenant_exists) finish first and later ones wait: for a delete, and
 * for a rename, whose UPDATE changes name_key, a column of a unique index,
 * and so takes that lock anyway (taken first, it is never an upgrade that
 * could deadlock with them). ROSTER_E_NOT_FOUND, without detail, when
 * there is none. */
static int tenant_lock(pg_conn *c, const roster_uuid *id, bool strong, PGresult **res,
                       roster_err_detail *detail)
{
    static pg_stmt get_strong =
                       PG_STMT("SELECT record FROM roster_tenants WHERE id = $1 FOR UPDATE"),
                   get = PG_STMT("SELECT record FROM roster_tenants WHERE id = $1 "
                                 "FOR NO KEY UPDATE");
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    int err = pg_run_stmt(c, strong ? &get_strong : &get, 1, params, res, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        return ROSTER_E_NOT_FOUND;
    }
    return ROSTER_E_OK;
}

static int lock_default(pgstore_wtxn *w, roster_err_detail *detail)
{
    return pg_run0(w->c, "SELECT pg_advisory_xact_lock(" DEFAULT_LOCK ")", 0, NULL, detail);
}

/* Tenant `id` becomes the default at `now`: the previous default, if
 * another, loses its mark (tenant_build_undefault). The caller writes
 * id's own row with the mark afterwards. */
static int take_default(pgstore_wtxn *w, const roster_uuid *id, int64_t now,
                        roster_err_detail *detail)
{
    int err = lock_default(w, detail);
    if (err != ROSTER_E_OK)
        return err;
    PGresult *res;
    err = pg_run(w->c, "SELECT id, record FROM roster_tenants WHERE is_default FOR NO KEY UPDATE",
                 0, NULL, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena tmp;
    roster_arena_init(&tmp, 1024, 0);
    for (int i = 0; i < PQntuples(res) && err == ROSTER_E_OK; i++) {
        roster_uuid prev;
        memcpy(prev.b, PQgetvalue(res, i, 0), 16);
        if (roster_uuid_eq(&prev, id))
            continue;
        Roster__V1__Tenant *t;
        if (tenant_build_unpack(&tmp, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), &t) !=
            ROSTER_E_OK) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        tenant_build_undefault(t, now);
        err = tenant_put(w, t, &prev, false, NULL, NULL, detail);
    }
    roster_arena_free(&tmp);
    PQclear(res);
    return err;
}

int pgstore_tenant_create(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__CreateTenantRequest *req, roster_arena *arena,
                          Roster__V1__Tenant **out, roster_err_detail *detail)
{
    int err = tenant_build_check_create(scope, req, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    tenant_build_create(&t, req, &id, now, id_text);
    if (t.is_default && (err = take_default(w, &id, now, detail)) != ROSTER_E_OK)
        goto done;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = tenant_put(w, &t, &id, true, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = tenant_build_unpack(arena, bytes, len, out);
done:
    return pg_op_end(w, err, detail);
}

int pgstore_tenant_update(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__UpdateTenantRequest *req, roster_arena *arena,
                          Roster__V1__Tenant **out, roster_err_detail *detail)
{
    roster_uuid id;
    int err = tenant_build_check_update(scope, req, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    bool make_default = req->has_is_default && req->is_default;
    PGresult *res = NULL;
    roster_arena tmp;
    roster_arena_init(&tmp, 1024, 0);
    /* The default's lock before the row's, in the order take_default
     * takes them, so two groups never wait for each other. */
    if (make_default && (err = lock_default(w, detail)) != ROSTER_E_OK)
        goto done;
    if ((err = tenant_lock(w->c, &id, req->name != NULL, &res, detail)) != ROSTER_E_OK) {
        if (err == ROSTER_E_NOT_FOUND)
            err = tenant_build_not_found(req->id, detail);
        goto done;
    }
    Roster__V1__Tenant *t;
    if ((err = tenant_build_unpack(&tmp, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                                   &t)) != ROSTER_E_OK)
        goto done;
    int64_t now = roster_now_ms();
    tenant_build_update(t, req, now);
    if (make_default && (err = take_default(w, &id, now, detail)) != ROSTER_E_OK)
        goto done;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = tenant_put(w, t, &id, false, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = tenant_build_unpack(arena, bytes, len, out);
done:
    PQclear(res);
    roster_arena_free(&tmp);
    return pg_op_end(w, err, detail);
}

int pgstore_tenant_restore(pgstore_wtxn *w, const Roster__V1__Tenant *tenant,
                           roster_err_detail *detail)
{
    roster_uuid id;
    int err = tenant_build_check_restore(tenant, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    pg_param params[] = {{id.b, 16, PG_OID_UUID}};
    PGresult *res;
    if ((err = pg_run(w->c, "SELECT 1 FROM roster_tenants WHERE id = $1", 1, params, &res,
                      detail)) != ROSTER_E_OK)
        goto done;
    bool exists = PQntuples(res) > 0;
    PQclear(res);
    if (exists) {
        err = tenant_build_exists(tenant->id, detail);
        goto done;
    }
    Roster__V1__Tenant t;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    tenant_build_restore(&t, tenant, &id, id_text);
    if (t.is_default && (err = take_default(w, &id, t.updated_at, detail)) != ROSTER_E_OK)
        goto done;
    err = tenant_put(w, &t, &id, true, NULL, NULL, detail);
done:
    return pg_op_end(w, err, detail);
}

/* The users tenant `id` still has: *users from its counter, *any whether
 * a row names it (whatever the counter says). */
static int tenant_users(pg_conn *c, const roster_uuid *id, uint64_t *users, bool *any,
                        roster_err_detail *detail)
{
    static pg_stmt count = PG_STMT("SELECT (SELECT users FROM roster_counts WHERE scope = $1), "
                                   "EXISTS (SELECT 1 FROM roster_users WHERE tenant_id = $1)");
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run_stmt(c, &count, 1, params, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    int64_t n = PQgetisnull(res, 0, 0) ? 0 : pg_i64_get(PQgetvalue(res, 0, 0));
    *users = n > 0 ? (uint64_t)n : 0;
    *any = PQgetvalue(res, 0, 1)[0] != 0;
    PQclear(res);
    return ROSTER_E_OK;
}

/* The API keys naming tenant `id` that are not revoked: *n of them,
 * *example the first in id order. */
static int tenant_live_keys(pg_conn *c, const roster_uuid *id, uint64_t *n, roster_uuid *example,
                            roster_err_detail *detail)
{
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run(c, "SELECT id, record FROM roster_keys WHERE tenant_id = $1 ORDER BY id", 1,
                     params, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena tmp;
    roster_arena_init(&tmp, 1024, 0);
    uint64_t live = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        Roster__V1__ApiKey *k;
        if ((err = apikey_build_unpack(&tmp, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1),
                                       &k)) != ROSTER_E_OK)
            break;
        if (apikey_build_live_for(k, id) && live++ == 0)
            memcpy(example->b, PQgetvalue(res, i, 0), 16);
        apikey_build_clear_hashes(k);
        roster_secure_wipe(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1));
        roster_arena_reset(&tmp);
    }
    roster_arena_free(&tmp);
    PQclear(res);
    if (err == ROSTER_E_OK)
        *n = live;
    return err;
}

int pgstore_tenant_delete(pgstore_wtxn *w, const roster_uuid *scope,
                          const Roster__V1__DeleteTenantRequest *req, roster_arena *arena,
                          Roster__V1__DeleteTenantResponse **out, roster_err_detail *detail)
{
    roster_uuid id;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__DeleteTenantResponse *resp = NULL;
    int err =
        tenant_build_check_delete(scope, req, &id, id_text, arena, out ? &resp : NULL, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    PGresult *res = NULL;
    if ((err = tenant_lock(w->c, &id, true, &res, detail)) != ROSTER_E_OK) {
        if (err == ROSTER_E_NOT_FOUND)
            err = tenant_build_not_found(id_text, detail);
        goto done;
    }
    tenant_view t;
    if ((err = tenant_view_parse(&t, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0))) !=
        ROSTER_E_OK)
        goto done;
    uint64_t users = 0, keys = 0;
    bool any = false;
    if ((err = tenant_users(w->c, &id, &users, &any, detail)) != ROSTER_E_OK)
        goto done;
    if (users > 0 || any) {
        err = tenant_build_refuse_users(id_text, users, detail);
        goto done;
    }
    if (t.f.isDefault > 0) {
        err = tenant_build_refuse_default(id_text, detail);
        goto done;
    }
    roster_uuid key;
    if ((err = tenant_live_keys(w->c, &id, &keys, &key, detail)) != ROSTER_E_OK)
        goto done;
    if (keys > 0) {
        err = tenant_build_refuse_keys(id_text, keys, &key, detail);
        goto done;
    }
    /* Its (zero) counter goes with it, as in the LMDB store. */
    pg_param params[] = {{id.b, 16, PG_OID_UUID}};
    if ((err = pg_run0(w->c, "DELETE FROM roster_tenants WHERE id = $1", 1, params, detail)) ==
        ROSTER_E_OK)
        err = pg_run0(w->c, "DELETE FROM roster_counts WHERE scope = $1", 1, params, detail);
    if (err == ROSTER_E_OK)
        err = pg_changes_append_tenant_deleted(w, &id, detail);
done:
    PQclear(res);
    err = pg_op_end(w, err, detail);
    if (err == ROSTER_E_OK && out)
        *out = resp;
    return err;
}

/* ------------------------------------------------------------ reads */

/* The tenant of record bytes[0..len) in `arena`, with user_count from
 * `active` (NULL: no counter, 0) when with_count. */
static int tenant_out(const void *bytes, size_t len, bool with_count, const char *active,
                      roster_arena *arena, Roster__V1__Tenant **out)
{
    Roster__V1__Tenant *t;
    int err = tenant_build_unpack(arena, bytes, len, &t);
    if (err != ROSTER_E_OK)
        return err;
    if (with_count) {
        t->has_user_count = 1;
        t->user_count = active ? pg_i64_get(active) : 0;
    }
    *out = t;
    return ROSTER_E_OK;
}

/* The active count of row i of res, column col; NULL when no counter. */
static const char *active_of(const PGresult *res, int i, int col)
{
    return PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col);
}

int pgstore_tenant_get(pgstore_rtxn *r, const roster_uuid *scope,
                       const Roster__V1__GetTenantRequest *req, roster_arena *arena,
                       Roster__V1__Tenant **out, roster_err_detail *detail)
{
    roster_uuid id;
    int err = tenant_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (scope && !roster_uuid_eq(scope, &id))
        return tenant_build_not_found(req->id, detail);
    pg_param params[] = {{id.b, 16, PG_OID_UUID}};
    PGresult *res;
    err = pg_run(r->c,
                 "SELECT t.record, c.active FROM roster_tenants t "
                 "LEFT JOIN roster_counts c ON c.scope = t.id WHERE t.id = $1",
                 1, params, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(res) != 1)
        err = tenant_build_not_found(req->id, detail);
    else
        err = tenant_out(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                         req->has_include_user_count && req->include_user_count,
                         active_of(res, 0, 1), arena, out);
    PQclear(res);
    return err;
}

int pgstore_tenant_batch_get(pgstore_rtxn *r, const roster_uuid *scope,
                             const Roster__V1__BatchGetTenantsRequest *req, roster_arena *arena,
                             Roster__V1__BatchGetTenantsResponse **out, roster_err_detail *detail)
{
    size_t n = req->n_ids;
    if (n > ROSTER_MAX_BATCH)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                           "ids holds %zu ids; at most %d are allowed", n, ROSTER_MAX_BATCH);
    uint8_t *arr = roster_arena_alloc(arena, PG_UUID_ARRAY_SIZE(n));
    Roster__V1__BatchGetTenantsResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__Tenant **ts = roster_arena_alloc(arena, (n ? n : 1) * sizeof *ts);
    protobuf_c_boolean *found = roster_arena_alloc(arena, (n ? n : 1) * sizeof *found);
    if (arr == NULL || resp == NULL || ts == NULL || found == NULL)
        return ROSTER_E_NOMEM;
    pg_uuid_array_init(arr, n);
    for (size_t i = 0; i < n; i++) {
        roster_uuid id;
        if (roster_uuid_parse(&id, req->ids[i], strlen(req->ids[i])) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                               "ids[%zu] is not a UUID (8-4-4-4-12 hex digits)", i);
        pg_uuid_array_set(arr, i, &id);
    }
    roster__v1__batch_get_tenants_response__init(resp);
    bool with_count = req->has_include_user_count && req->include_user_count;
    PGresult *res = NULL;
    int err = ROSTER_E_OK;
    if (n) {
        pg_param params[] = {{arr, (int)PG_UUID_ARRAY_SIZE(n), PG_OID_UUID_ARRAY},
                             {scope ? scope->b : NULL, 16, PG_OID_UUID}};
        err = pg_run(r->c,
                     "SELECT t.id, t.record, c.active FROM roster_tenants t "
                     "LEFT JOIN roster_counts c ON c.scope = t.id "
                     "WHERE t.id = ANY($1) AND ($2::uuid IS NULL OR t.id = $2)",
                     2, params, &res, detail);
        if (err != ROSTER_E_OK)
            return err;
    }
    int rows = res ? PQntuples(res) : 0;
    for (size_t i = 0; i < n && err == ROSTER_E_OK; i++) {
        const uint8_t *want = pg_uuid_array_get(arr, i);
        int row = -1;
        for (int j = 0; j < rows && row < 0; j++)
            if (memcmp(PQgetvalue(res, j, 0), want, 16) == 0)
                row = j;
        found[i] = row >= 0;
        if (row < 0) {
            ts[i] = roster_arena_alloc(arena, sizeof **ts);
            if (ts[i] == NULL)
                err = ROSTER_E_NOMEM;
            else
                roster__v1__tenant__init(ts[i]);
            continue;
        }
        err = tenant_out(PQgetvalue(res, row, 1), (size_t)PQgetlength(res, row, 1), with_count,
                         active_of(res, row, 2), arena, &ts[i]);
    }
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    resp->n_tenants = resp->n_found = n;
    resp->tenants = ts;
    resp->found = found;
    *out = resp;
    return ROSTER_E_OK;
}

/* The statements of a list: in id or name_key order, either direction,
 * from the tenant of $1 (NULL: every tenant), after order key $2 (NULL:
 * from the start), at most $3 rows (NULL: all). */
#define LIST_SQL(key, type, cmp, dir)                                                              \
    "SELECT t.id, t.name_key, t.record, c.active FROM roster_tenants t "                           \
    "LEFT JOIN roster_counts c ON c.scope = t.id "                                                 \
    "WHERE ($1::uuid IS NULL OR t.id = $1) AND ($2::" type " IS NULL OR t." key " " cmp " $2) "    \
    "ORDER BY t." key " " dir " LIMIT $3"

static const char *const list_sql[2][2] = {
    {LIST_SQL("id", "uuid", ">", "ASC"), LIST_SQL("id", "uuid", "<", "DESC")},
    {LIST_SQL("name_key", "bytea", ">", "ASC"), LIST_SQL("name_key", "bytea", "<", "DESC")},
};

int pgstore_tenant_list(pgstore_rtxn *r, const roster_uuid *scope,
                        const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                        Roster__V1__ListTenantsResponse **out, roster_err_detail *detail)
{
    tenant_list_plan p;
    int err = tenant_list_plan_make(&p, scope, req, arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    /* As the LMDB store: with no condition the total is the number of
     * tenants and the rows start past the cursor, one more than the page
     * asks for; otherwise every tenant of the scope comes in order and
     * the walk filters, counts and pages them. */
    bool counted = tenant_list_counted(&p);
    int64_t total = 0;
    PGresult *res;
    if (counted) {
        if ((err = pg_run(r->c, "SELECT count(*) FROM roster_tenants", 0, NULL, &res, detail)) !=
            ROSTER_E_OK)
            return err;
        total = pg_i64_get(PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    tenant_walk wk;
    if ((err = tenant_walk_begin(&wk, &p, counted, arena)) != ROSTER_E_OK)
        return err;
    if (tenant_walk_short(&wk, total))
        return tenant_walk_end(&wk, total, arena, out);
    uint8_t limit[8];
    pg_i64_put(limit, (int64_t)p.offset + p.limit + 1);
    bool seek = counted && p.has_after;
    pg_param params[] = {
        {scope ? scope->b : NULL, 16, PG_OID_UUID},
        {seek ? p.after : NULL, (int)p.after_len, p.by_name ? PG_OID_BYTEA : PG_OID_UUID},
        {counted ? limit : NULL, 8, PG_OID_INT8},
    };
    if (seek && !p.by_name && p.after_len != 16)
        return ROSTER_E_INTERNAL; /* cursor_decode gives an id alone */
    if ((err = pg_run(r->c, list_sql[p.by_name][p.desc], 3, params, &res, detail)) != ROSTER_E_OK)
        return err;
    int key_col = p.by_name ? 1 : 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const uint8_t *key = (const uint8_t *)PQgetvalue(res, i, key_col);
        size_t kn = (size_t)PQgetlength(res, i, key_col);
        const char *rec = PQgetvalue(res, i, 2);
        size_t len = (size_t)PQgetlength(res, i, 2);
        bool take = tenant_walk_at(&wk, key, kn);
        if (!counted) {
            tenant_view tv;
            if ((err = tenant_view_parse(&tv, rec, len)) != ROSTER_E_OK)
                break;
            if (!tenant_list_match(&p, &tv))
                continue;
        }
        tenant_walk_step act = tenant_walk_match(&wk, take, key, kn);
        if (act == TENANT_WALK_STOP)
            break;
        if (act == TENANT_WALK_SKIP)
            continue;
        if ((err = tenant_out(rec, len, p.with_count, active_of(res, i, 3), arena,
                              &wk.resp->tenants[wk.n - 1])) != ROSTER_E_OK)
            break;
    }
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    return tenant_walk_end(&wk, total, arena, out);
}

int pgstore_tenant_user_count(pgstore_rtxn *r, const roster_uuid *tenant, int64_t *out)
{
    int64_t users, active;
    int err = pgstore_user_counts(r, tenant, &users, &active);
    if (err == ROSTER_E_OK)
        *out = active;
    return err;
}
