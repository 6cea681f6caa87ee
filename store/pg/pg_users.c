/* User writes and point reads of the PostgreSQL store. Records are built
 * by user_build.c, as the LMDB store builds them; each row carries the
 * record and the key bytes of keys.c that its indexes order and compare
 * by. */
#include "pg_array.h"
#include "pg_internal.h"
#include "pg_schema.h"

#include "fields.h"
#include "keys.h"
#include "record.h"
#include "user_build.h"

#include "clock.h"
#include "roster_limits.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ROW_PARAMS (4 + UNIQ__COUNT + SORT__COUNT + 1)

static char insert_sql[1024], update_sql[1024];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;
/* Their texts are made before either is first run (pthread_once). */
static pg_stmt insert_stmt = PG_STMT(insert_sql), update_stmt = PG_STMT(update_sql);

/* INSERT and UPDATE of every column, parameters in row_params order. */
static void make_sql(void)
{
    char cols[512] = "", vals[256] = "", sets[768] = "";
    size_t cn = 0, vn = 0, sn = 0;
    int p = 5;
    for (int i = 0; i < UNIQ__COUNT + SORT__COUNT; i++, p++) {
        const char *c = i < UNIQ__COUNT ? pg_uniq_column(i) : pg_sort_column(i - UNIQ__COUNT);
        cn += (size_t)snprintf(cols + cn, sizeof cols - cn, ", %s", c);
        vn += (size_t)snprintf(vals + vn, sizeof vals - vn, ", $%d", p);
        sn += (size_t)snprintf(sets + sn, sizeof sets - sn, ", %s = $%d", c, p);
    }
    snprintf(insert_sql, sizeof insert_sql,
             "INSERT INTO roster_users (id, tenant_id, scope, flags%s, record) "
             "VALUES ($1, $2, $3, $4%s, $%d)",
             cols, vals, p);
    snprintf(update_sql, sizeof update_sql,
             "UPDATE roster_users SET tenant_id = $2, scope = $3, flags = $4%s, record = $%d "
             "WHERE id = $1",
             sets, p);
}

void pg_user_row(user_row *r, const user_view *v)
{
    const store_fields *sf = store_fields_get();
    key_scope(&r->scope, v);
    r->flags[0] = 0;
    r->flags[1] = rec_active_flags(v->f.active);
    for (int u = 0; u < UNIQ__COUNT; u++)
        r->uniq_len[u] = key_unique_value(r->uniq[u], u, v);
    for (int i = 0; i < SORT__COUNT; i++)
        r->sort_len[i] = key_sort_value(r->sort[i], sf->sort_field[i], v);
}

/* The parameters of insert_sql/update_sql for user v (record bytes
 * rec[0..len)) into out[ROW_PARAMS]; they borrow r and v. */
static void row_params(pg_param *out, const user_row *r, const user_view *v, const uint8_t *rec,
                       size_t len)
{
    size_t n = 0;
    out[n++] = (pg_param){v->id.b, 16, PG_OID_UUID};
    out[n++] = (pg_param){v->has_tenant ? v->tenant.b : NULL, 16, PG_OID_UUID};
    out[n++] = (pg_param){r->scope.b, 16, PG_OID_UUID};
    out[n++] = (pg_param){r->flags, 2, PG_OID_INT2};
    for (int u = 0; u < UNIQ__COUNT; u++)
        out[n++] = (pg_param){r->uniq[u], (int)r->uniq_len[u], PG_OID_BYTEA};
    for (int i = 0; i < SORT__COUNT; i++)
        out[n++] = (pg_param){r->sort[i], (int)r->sort_len[i], PG_OID_BYTEA};
    out[n++] = (pg_param){rec, (int)len, PG_OID_BYTEA};
}

/* What a row write's failure names (row_check). */
typedef struct row_ctx {
    roster_uuid tenant; /* the row's tenant (all zeros: none) */
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
} row_ctx;

/* A failed row write as the LMDB store reports it: the unique index it
 * broke, ALREADY_EXISTS "<field> is already used in this tenant" (or "id"
 * for the primary key); the tenant foreign key, NOT_FOUND naming
 * "tenantId" (the row's tenant does not exist). Any other failure: err
 * unchanged. ctx is a row_ctx. */
static int row_check(pg_conn *c, int err, const void *ctx, roster_err_detail *detail)
{
    const row_ctx *rc = ctx;
    if (err == ROSTER_E_FAILED_PRECONDITION &&
        strcmp(c->constraint, "roster_users_tenant_id_fkey") == 0)
        return user_build_tenant_missing(&rc->tenant, detail);
    if (err != ROSTER_E_ALREADY_EXISTS)
        return err;
    const store_fields *sf = store_fields_get();
    for (int u = 0; u < UNIQ__COUNT; u++) {
        char name[80];
        snprintf(name, sizeof name, "roster_users_%s", pg_uniq_column(u));
        if (strcmp(c->constraint, name) == 0) {
            const char *f = model_user.fields[sf->uniq_field[u]].name;
            return roster_fail(detail, ROSTER_E_ALREADY_EXISTS, f,
                               "%s is already used in this tenant", f);
        }
    }
    if (strcmp(c->constraint, "roster_users_pkey") == 0)
        return roster_fail(detail, ROSTER_E_ALREADY_EXISTS, "id", "user %s already exists",
                           rc->id_text);
    return err;
}

/* Packs u into w's scratch, writes its row (insert, or update of the row
 * whose record `old` was), its counters and its change event, in w's
 * current operation: all queued, then synced in one round trip (with
 * whatever the operation queued before). A tenant that does not exist
 * fails on the row's foreign key (row_check).
 * *out_bytes and *out_len: the record written (w's scratch). */
static int user_put(pgstore_wtxn *w, const Roster__V1__User *u, const user_view *old,
                    const uint8_t **out_bytes, size_t *out_len, roster_err_detail *detail)
{
    pthread_once(&sql_once, make_sql);
    size_t len = protobuf_c_message_get_packed_size(&u->base);
    uint8_t *bytes;
    int err = pg_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&u->base, bytes);
    user_view nv;
    if (user_view_parse(&nv, bytes, len) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    static _Thread_local user_row row;
    pg_user_row(&row, &nv);
    pg_param params[ROW_PARAMS];
    row_params(params, &row, &nv, bytes, len);
    row_ctx ctx = {.tenant = nv.has_tenant ? nv.tenant : (roster_uuid){{0}}};
    snprintf(ctx.id_text, sizeof ctx.id_text, "%s", u->id ? u->id : "");
    err = pg_defer(w->c, old ? &update_stmt : &insert_stmt, ROW_PARAMS, params, NULL, row_check,
                   &ctx, sizeof ctx);
    if (err != ROSTER_E_OK)
        return err;

    int64_t new_act = nv.f.active != 0;
    roster_uuid old_scope;
    int64_t old_act = 0;
    if (old) {
        key_scope(&old_scope, old);
        old_act = old->f.active != 0;
    }
    if (old == NULL) {
        err = pg_counter_add(w, &row.scope, 1, new_act);
    } else if (!roster_uuid_eq(&old_scope, &row.scope)) {
        err = pg_counter_add(w, &old_scope, -1, -old_act);
        if (err == ROSTER_E_OK)
            err = pg_counter_add(w, &row.scope, 1, new_act);
    } else {
        err = pg_counter_add(w, &row.scope, 0, new_act - old_act);
    }
    /* Its customData index entries (pg_custom.c). */
    if (err == ROSTER_E_OK)
        err = pg_custom_put(w, old, &nv);
    /* The change feed's event (pg_changes.c). */
    if (err == ROSTER_E_OK)
        err = pg_changes_append_user(w, old, &nv, u, detail);
    if (err == ROSTER_E_OK)
        err = pg_sync(w->c, detail);
    if (err == ROSTER_E_OK) {
        *out_bytes = bytes;
        *out_len = len;
    }
    return err;
}

static int unpack_user(roster_arena *arena, const void *bytes, size_t len, Roster__V1__User **out)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__User *u = roster__v1__user__unpack(&alloc, len, bytes);
    if (u == NULL)
        return ROSTER_E_NOMEM;
    *out = u;
    return ROSTER_E_OK;
}

/* The record of user `id` locked for the rest of the group (FOR UPDATE),
 * when visible in `scope`: *res holds it (caller clears), *view parses
 * it. NOT_FOUND naming "id" otherwise. */
static int user_lock(pg_conn *c, const roster_uuid *scope, const roster_uuid *id,
                     const char *id_text, PGresult **res, user_view *view,
                     roster_err_detail *detail)
{
    static pg_stmt lock = PG_STMT("SELECT record FROM roster_users WHERE id = $1 FOR UPDATE");
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    int err = pg_run_stmt(c, &lock, 1, params, res, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(*res) == 1) {
        err = user_view_parse(view, PQgetvalue(*res, 0, 0), (size_t)PQgetlength(*res, 0, 0));
        if (err != ROSTER_E_OK)
            return err;
        if (scope == NULL || (view->has_tenant && roster_uuid_eq(&view->tenant, scope)))
            return ROSTER_E_OK;
    }
    return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "user %s does not exist", id_text);
}

int pgstore_user_create(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__CreateUserRequest *req, roster_arena *arena,
                        Roster__V1__User **out, roster_err_detail *detail)
{
    roster_uuid tenant;
    bool has_tenant;
    int err = user_build_check_create(scope, req, &tenant, &has_tenant, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    if (!has_tenant) {
        err = pg_default_tenant(w->c, &tenant, detail);
        if (err == ROSTER_E_OK)
            has_tenant = true;
        else if (err != ROSTER_E_NOT_FOUND)
            goto done;
        err = ROSTER_E_OK;
    }
    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    user_build_create(&u, req, &id, has_tenant ? &tenant : NULL, now, id_text, tenant_text);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, &u, NULL, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, bytes, len, out);
done:
    return pg_op_end(w, err, detail);
}

int pgstore_user_update(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__UpdateUserRequest *req, roster_arena *arena,
                        Roster__V1__User **out, roster_err_detail *detail)
{
    int err;
    roster_uuid id, tenant;
    uint32_t cleared;
    if ((err = user_build_check_update(scope, req, &id, &cleared, &tenant, detail)) != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    PGresult *res = NULL;
    user_view old;
    roster_arena tmp;
    roster_arena_init(&tmp, 4096, 0);
    if ((err = user_lock(w->c, scope, &id, req->id, &res, &old, detail)) != ROSTER_E_OK)
        goto done;
    Roster__V1__User *u;
    if ((err = unpack_user(&tmp, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), &u)) !=
        ROSTER_E_OK)
        goto done;
    char tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    user_build_update(u, req, cleared, &tenant, tenant_text, roster_now_ms());
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, u, &old, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, bytes, len, out);
done:
    PQclear(res);
    roster_arena_free(&tmp);
    return pg_op_end(w, err, detail);
}

int pgstore_user_restore(pgstore_wtxn *w, const Roster__V1__User *user, roster_err_detail *detail)
{
    int err;
    roster_uuid id, tenant;
    bool has_tenant;
    if ((err = user_build_check_restore(user, &id, &tenant, &has_tenant, detail)) != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    if (has_tenant && (err = pg_tenant_exists(w->c, &tenant, detail)) != ROSTER_E_OK)
        goto done;
    Roster__V1__User u;
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    user_build_restore(&u, user, &id, has_tenant ? &tenant : NULL, id_text, tenant_text);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, &u, NULL, &bytes, &len, detail);
done:
    return pg_op_end(w, err, detail);
}

int pgstore_user_delete(pgstore_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__DeleteUserRequest *req, roster_arena *arena,
                        Roster__V1__DeleteUserResponse **out, roster_err_detail *detail)
{
    int err;
    roster_uuid id;
    if ((err = user_build_parse_id(&id, req->id, "id", detail)) != ROSTER_E_OK)
        return err;
    Roster__V1__DeleteUserResponse *resp = NULL;
    if (out) {
        resp = roster_arena_alloc(arena, sizeof *resp);
        char *text = roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1);
        if (resp == NULL || text == NULL)
            return ROSTER_E_NOMEM;
        roster__v1__delete_user_response__init(resp);
        roster_uuid_format(text, &id);
        resp->id = text;
    }
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    PGresult *res = NULL;
    user_view u;
    if ((err = user_lock(w->c, scope, &id, req->id, &res, &u, detail)) != ROSTER_E_OK)
        goto done;
    roster_uuid old_scope;
    key_scope(&old_scope, &u);
    static pg_stmt del = PG_STMT("DELETE FROM roster_users WHERE id = $1");
    pg_param params[] = {{id.b, 16, PG_OID_UUID}};
    if ((err = pg_defer(w->c, &del, 1, params, NULL, NULL, NULL, 0)) != ROSTER_E_OK)
        goto done;
    err = pg_counter_add(w, &old_scope, -1, -(int64_t)(u.f.active != 0));
    if (err == ROSTER_E_OK)
        err = pg_custom_put(w, &u, NULL);
    /* The change feed: the deletion, and no personal data of this user
     * left in it (pg_changes.c). */
    if (err == ROSTER_E_OK)
        err = pg_changes_append_user_deleted(w, &id, u.has_tenant ? &u.tenant : NULL, detail);
done:
    PQclear(res);
    err = pg_op_end(w, err, detail);
    if (err == ROSTER_E_OK && out)
        *out = resp;
    return err;
}

int pgstore_user_get_raw(pgstore_rtxn *r, const roster_uuid *scope, const char *id,
                         const void **bytes, size_t *len)
{
    roster_uuid uid;
    if (id == NULL || roster_uuid_parse(&uid, id, strlen(id)) != ROSTER_E_OK)
        return ROSTER_E_INVALID_ARGUMENT;
    static pg_stmt get = PG_STMT("SELECT record FROM roster_users WHERE id = $1 AND "
                                 "($2::uuid IS NULL OR tenant_id = $2)");
    pg_param params[] = {{uid.b, 16, PG_OID_UUID}, {scope ? scope->b : NULL, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run_stmt(r->c, &get, 2, params, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ROSTER_E_NOT_FOUND;
    }
    if ((err = pg_hold(r, res)) != ROSTER_E_OK) {
        PQclear(res);
        return err;
    }
    *bytes = PQgetvalue(res, 0, 0);
    *len = (size_t)PQgetlength(res, 0, 0);
    return ROSTER_E_OK;
}

int pgstore_user_get(pgstore_rtxn *r, const roster_uuid *scope,
                     const Roster__V1__GetUserRequest *req, roster_arena *arena,
                     Roster__V1__User **out, roster_err_detail *detail)
{
    const void *bytes;
    size_t len = 0;
    int err = pgstore_user_get_raw(r, scope, req->id, &bytes, &len);
    if (err == ROSTER_E_INVALID_ARGUMENT)
        return roster_fail(detail, err, "id", "id is not a UUID (8-4-4-4-12 hex digits)");
    if (err == ROSTER_E_NOT_FOUND)
        return roster_fail(detail, err, "id", "user %s does not exist", req->id);
    if (err != ROSTER_E_OK)
        return err;
    return unpack_user(arena, bytes, len, out);
}

int pgstore_user_batch_get(pgstore_rtxn *r, const roster_uuid *scope,
                           const Roster__V1__BatchGetUsersRequest *req, roster_arena *arena,
                           Roster__V1__BatchGetUsersResponse **out, roster_err_detail *detail)
{
    if (req->n_ids > ROSTER_MAX_BATCH)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                           "ids holds %zu ids; at most %d are allowed", req->n_ids,
                           ROSTER_MAX_BATCH);
    size_t n = req->n_ids;
    size_t alen = PG_UUID_ARRAY_SIZE(n);
    uint8_t *arr = roster_arena_alloc(arena, alen);
    if (arr == NULL)
        return ROSTER_E_NOMEM;
    pg_uuid_array_init(arr, n);
    for (size_t i = 0; i < n; i++) {
        roster_uuid id;
        if (roster_uuid_parse(&id, req->ids[i], strlen(req->ids[i])) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                               "ids[%zu] is not a UUID (8-4-4-4-12 hex digits)", i);
        pg_uuid_array_set(arr, i, &id);
    }
    Roster__V1__BatchGetUsersResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__User **users = roster_arena_alloc(arena, (n ? n : 1) * sizeof *users);
    protobuf_c_boolean *found = roster_arena_alloc(arena, (n ? n : 1) * sizeof *found);
    if (resp == NULL || users == NULL || found == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__batch_get_users_response__init(resp);
    PGresult *res = NULL;
    int err = ROSTER_E_OK;
    if (n) {
        pg_param params[] = {{arr, (int)alen, PG_OID_UUID_ARRAY},
                             {scope ? scope->b : NULL, 16, PG_OID_UUID}};
        static pg_stmt get = PG_STMT("SELECT id, record FROM roster_users WHERE id = ANY($1) AND "
                                     "($2::uuid IS NULL OR tenant_id = $2)");
        err = pg_run_stmt(r->c, &get, 2, params, &res, detail);
        if (err != ROSTER_E_OK)
            return err;
    }
    int rows = res ? PQntuples(res) : 0;
    for (size_t i = 0; i < n && err == ROSTER_E_OK; i++) {
        const uint8_t *want = pg_uuid_array_get(arr, i);
        int row = -1;
        for (int j = 0; j < rows; j++)
            if (memcmp(PQgetvalue(res, j, 0), want, 16) == 0) {
                row = j;
                break;
            }
        if (row < 0) {
            Roster__V1__User *empty = roster_arena_alloc(arena, sizeof *empty);
            if (empty == NULL) {
                err = ROSTER_E_NOMEM;
                break;
            }
            roster__v1__user__init(empty);
            users[i] = empty;
            found[i] = 0;
            continue;
        }
        err = unpack_user(arena, PQgetvalue(res, row, 1), (size_t)PQgetlength(res, row, 1),
                          &users[i]);
        found[i] = 1;
    }
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    resp->n_users = resp->n_found = n;
    resp->users = users;
    resp->found = found;
    *out = resp;
    return ROSTER_E_OK;
}
