/* User writes (create, update, restore, delete) and point reads. */
#include "changes.h"
#include "custom_index.h"
#include "fields.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "user_build.h"
#include "validate.h"

#include "clock.h"
#include "roster_limits.h"

#include <string.h>

static int tenant_exists(MDB_txn *txn, const store *s, const roster_uuid *id,
                         roster_err_detail *detail)
{
    MDB_val k = {16, (void *)id->b}, v;
    int rc = mdb_get(txn, s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND)
        return user_build_tenant_missing(id, detail);
    return store_mdb_err(rc);
}

/* The stored record of user `id` (id_text as the caller wrote it, for the
 * message) in txn, borrowed until txn ends, and its view, when the user is
 * visible in `scope`; otherwise NOT_FOUND naming "id", alike for a user of
 * another tenant and for an id no user has. */
static int user_load(MDB_val *rec, user_view *view, MDB_txn *txn, const store *s,
                     const roster_uuid *scope, const roster_uuid *id, const char *id_text,
                     roster_err_detail *detail)
{
    MDB_val k = {16, (void *)id->b};
    int rc = mdb_get(txn, s->users, &k, rec);
    if (rc == MDB_NOTFOUND)
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "user %s does not exist", id_text);
    if (rc != 0)
        return store_mdb_err(rc);
    int err = user_view_parse(view, rec->mv_data, rec->mv_size);
    if (err != ROSTER_E_OK)
        return err;
    if (scope && (!view->has_tenant || !roster_uuid_eq(&view->tenant, scope)))
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "user %s does not exist", id_text);
    return ROSTER_E_OK;
}

/* Writes user record u, encoded as `bytes`/`len` (borrowed for the call)
 * whose view is nv, replacing the record `old` when not NULL, and its
 * index entries and counters, in txn. */
static int user_write(store_wtxn *w, MDB_txn *txn, const Roster__V1__User *u, const user_view *old,
                      const uint8_t *bytes, size_t len, const user_view *nv,
                      roster_err_detail *detail)
{
    store *s = w->s;
    key_entry old_e[USER_ENTRIES], new_e[USER_ENTRIES];
    bool defer = old == NULL; /* store_pending_add: written at group commit */
    int err;
    static _Thread_local uint8_t old_buf[USER_ENTRIES * KEY_MAX], new_buf[USER_ENTRIES * KEY_MAX];
    size_t n_old = old ? key_user_entries(old_e, old_buf, s, old) : 0;
    /* The customData entries of the stored record, taken before it is
     * replaced (old borrows from it). */
    static _Thread_local cdx_entry old_cdx[CDX_USER_ENTRIES];
    size_t n_old_cdx = old ? custom_index_entries(old_cdx, s, old) : 0;
    roster_uuid old_scope;
    rec_bool old_active = -1;
    if (old) {
        key_scope(&old_scope, old);
        old_active = old->f.active;
    }
    size_t n_new = key_user_entries(new_e, new_buf, s, nv);

    for (size_t i = 0; i < n_new; i++) {
        if (!new_e[i].unique)
            continue;
        MDB_val k = {new_e[i].klen, new_e[i].key}, v;
        int rc = mdb_get(txn, new_e[i].dbi, &k, &v);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return store_mdb_err(rc);
        if (v.mv_size == sizeof nv->id && roster_uuid_eq(v.mv_data, &nv->id))
            continue;
        const char *name = model_user.fields[new_e[i].field].name;
        return roster_fail(detail, ROSTER_E_ALREADY_EXISTS, name,
                           "%s is already used in this tenant", name);
    }

    /* The feed's event, before the old record is overwritten (old's
     * slices point into it). */
    if ((err = changes_append_user(w, txn, old, nv, u)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, (void *)nv->id.b}, v = {len, (void *)bytes};
    int rc = store_put_append(w, txn, STORE_APPEND_USERS, s->users, &k, &v);
    if (rc != 0)
        return store_mdb_err(rc);
    for (size_t i = 0; i < n_new; i++) {
        if (i < n_old) {
            bool same_key = old_e[i].klen == new_e[i].klen &&
                            memcmp(old_e[i].key, new_e[i].key, old_e[i].klen) == 0;
            if (same_key && old_e[i].dlen == new_e[i].dlen &&
                memcmp(old_e[i].data, new_e[i].data, new_e[i].dlen) == 0)
                continue;
            /* A duplicate-sorted entry is its key and data: one whose
             * flags changed is replaced too. */
            if (!same_key || old_e[i].dup) {
                rc = key_entry_del(txn, &old_e[i]);
                if (rc != 0 && rc != MDB_NOTFOUND)
                    return store_mdb_err(rc);
            }
        }
        if (defer && !new_e[i].unique) {
            if ((err = store_pending_add(w, new_e[i].dbi, new_e[i].key, new_e[i].klen,
                                         new_e[i].data, new_e[i].dlen)) != ROSTER_E_OK)
                return err;
            continue;
        }
        MDB_val nk = {new_e[i].klen, new_e[i].key}, nd = {new_e[i].dlen, new_e[i].data};
        if ((rc = mdb_put(txn, new_e[i].dbi, &nk, &nd, 0)) != 0)
            return store_mdb_err(rc);
    }
    if ((err = custom_index_user_update(s, txn, old_cdx, n_old_cdx, nv)) != ROSTER_E_OK)
        return err;

    roster_uuid new_scope;
    key_scope(&new_scope, nv);
    int64_t new_act = nv->f.active != 0, old_act = old_active != 0;
    if (old == NULL) {
        err = store_counter_add(w, &new_scope, 1, new_act);
    } else if (!roster_uuid_eq(&old_scope, &new_scope)) {
        err = store_counter_add(w, &old_scope, -1, -old_act);
        if (err == ROSTER_E_OK)
            err = store_counter_add(w, &new_scope, 1, new_act);
    } else {
        err = store_counter_add(w, &new_scope, 0, new_act - old_act);
    }
    return err;
}

/* Writes user record u as user_write does, encoding it first into w's
 * scratch buffer, which *out_bytes (*out_len bytes) is afterwards. */
static int user_put(store_wtxn *w, MDB_txn *txn, const Roster__V1__User *u, const user_view *old,
                    const uint8_t **out_bytes, size_t *out_len, roster_err_detail *detail)
{
    size_t len = protobuf_c_message_get_packed_size(&u->base);
    uint8_t *bytes;
    int err = store_wtxn_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&u->base, bytes);
    user_view nv;
    if (user_view_parse(&nv, bytes, len) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    if ((err = user_write(w, txn, u, old, bytes, len, &nv, detail)) != ROSTER_E_OK)
        return err;
    *out_bytes = bytes;
    *out_len = len;
    return ROSTER_E_OK;
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

/* The record of a new user made of create request req: a new UUIDv7 id
 * and createdAt = updatedAt = now, the request's fields, the create's
 * defaults, and `tenant` (NULL: none). Its id and tenant texts are
 * written into id_text and tenant_text, its strings shared with req. */
static void user_new(Roster__V1__User *u, char *id_text, char *tenant_text,
                     const Roster__V1__CreateUserRequest *req, const roster_uuid *tenant)
{
    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    *u = (Roster__V1__User)ROSTER__V1__USER__INIT;
    user_build_create(u, req, &id, tenant, now, id_text, tenant_text);
}

int store_user_create_check(store_user_checked *out, const Roster__V1__CreateUserRequest *req,
                            roster_err_detail *detail)
{
    const store_fields *sf = store_fields_get();
    roster_uuid ids[MODEL_MAX_FIELDS];
    int err = validate_fields(ids, &model_user, &sf->check_create_user, &req->base,
                              VALIDATE_REQUIRED | VALIDATE_VALUES | VALIDATE_REFS, detail);
    if (err != ROSTER_E_OK)
        return err;
    out->has_tenant = req->tenant_id != NULL;
    if (out->has_tenant)
        out->tenant = ids[MODEL_USER_tenantId];
    return ROSTER_E_OK;
}

int store_user_create(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__CreateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_user_create(w->pg, scope, req, arena, out, detail);
    store_user_checked chk;
    int err = store_user_create_check(&chk, req, detail);
    if (err != ROSTER_E_OK)
        return err;
    return store_user_create_checked(w, scope, req, &chk, arena, out, detail);
}

int store_user_create_checked(store_wtxn *w, const roster_uuid *scope,
                              const Roster__V1__CreateUserRequest *req,
                              const store_user_checked *chk, roster_arena *arena,
                              Roster__V1__User **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_user_create(w->pg, scope, req, arena, out, detail);
    int err;
    roster_uuid tenant;
    bool has_tenant = false;
    if (chk->has_tenant) {
        tenant = chk->tenant;
        if (scope && !roster_uuid_eq(scope, &tenant))
            return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                               "tenantId is outside the caller's tenant");
        has_tenant = true;
    } else if (scope) {
        tenant = *scope;
        has_tenant = true;
    }

    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    if (!has_tenant) {
        err = store_default_tenant(txn, w->s, &tenant);
        if (err == ROSTER_E_OK)
            has_tenant = true;
        else if (err != ROSTER_E_NOT_FOUND)
            goto done;
    }
    if (has_tenant && (err = tenant_exists(txn, w->s, &tenant, detail)) != ROSTER_E_OK)
        goto done;

    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__User u;
    user_new(&u, id_text, tenant_text, req, has_tenant ? &tenant : NULL);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, txn, &u, NULL, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

/* A create worked out ahead (store_user_prepare): the record made for a
 * user without a tenant or with the one its request names, and its
 * encoding and view. */
struct store_user_prepared {
    Roster__V1__User u;
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    const uint8_t *bytes;
    size_t len;
    user_view view;
};

int store_user_prepare(store_user_prepared **out, const Roster__V1__CreateUserRequest *req,
                       const store_user_checked *chk, roster_arena *arena)
{
    store_user_prepared *p = roster_arena_alloc(arena, sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    user_new(&p->u, p->id_text, p->tenant_text, req, chk->has_tenant ? &chk->tenant : NULL);
    size_t len = protobuf_c_message_get_packed_size(&p->u.base);
    uint8_t *bytes = roster_arena_alloc(arena, len ? len : 1);
    if (bytes == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_pack(&p->u.base, bytes);
    if (user_view_parse(&p->view, bytes, len) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    p->bytes = bytes;
    p->len = len;
    *out = p;
    return ROSTER_E_OK;
}

int store_user_create_prepared(store_wtxn *w, const store_user_prepared *p,
                               const Roster__V1__CreateUserRequest *req,
                               const store_user_checked *chk, roster_arena *arena,
                               Roster__V1__User **out, roster_err_detail *detail)
{
    if (w->pg) /* the record is built anew in the PostgreSQL group */
        return pgstore_user_create(w->pg, NULL, req, arena, out, detail);
    /* The default tenant, if the store has one, is the user's: the
     * prepared record (without a tenant) does not apply. Read between
     * operations, in the group's transaction; a failed read is met again
     * by the create afresh. */
    roster_uuid tenant;
    if (!chk->has_tenant && !w->failed &&
        store_default_tenant(w->txn, w->s, &tenant) != ROSTER_E_NOT_FOUND)
        return store_user_create_checked(w, NULL, req, chk, arena, out, detail);
    MDB_txn *txn;
    int err = store_op_begin(w, &txn);
    if (err != ROSTER_E_OK)
        return err;
    if (chk->has_tenant && (err = tenant_exists(txn, w->s, &chk->tenant, detail)) != ROSTER_E_OK)
        goto done;
    err = user_write(w, txn, &p->u, NULL, p->bytes, p->len, &p->view, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, p->bytes, p->len, out);
done:
    return store_op_end(w, txn, err);
}

int store_user_update(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__UpdateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_user_update(w->pg, scope, req, arena, out, detail);
    int err;
    roster_uuid id, tenant;
    uint32_t cleared;
    if ((err = user_build_check_update(scope, req, &id, &cleared, &tenant, detail)) != ROSTER_E_OK)
        return err;

    /* Entries queued by earlier creates of the group must be in place
     * before an update replaces entries; they go into the group's own
     * transaction, outside this operation's. */
    if (!w->failed && (err = store_pending_flush(w)) != ROSTER_E_OK)
        return w->failed = err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val v;
    user_view old;
    if ((err = user_load(&v, &old, txn, w->s, scope, &id, req->id, detail)) != ROSTER_E_OK)
        goto done;
    if (req->tenant_id && (err = tenant_exists(txn, w->s, &tenant, detail)) != ROSTER_E_OK)
        goto done;

    /* The old record is unpacked into a local arena: the new record is
     * packed from it before anything is written. */
    roster_arena tmp;
    roster_arena_init(&tmp, 4096, 0);
    Roster__V1__User *u;
    if ((err = unpack_user(&tmp, v.mv_data, v.mv_size, &u)) != ROSTER_E_OK) {
        roster_arena_free(&tmp);
        goto done;
    }
    char tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    user_build_update(u, req, cleared, &tenant, tenant_text, roster_now_ms());
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, txn, u, &old, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, bytes, len, out);
    roster_arena_free(&tmp);
done:
    return store_op_end(w, txn, err);
}

int store_user_restore(store_wtxn *w, const Roster__V1__User *user, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_user_restore(w->pg, user, detail);
    int err;
    roster_uuid id, tenant;
    bool has_tenant;
    if ((err = user_build_check_restore(user, &id, &tenant, &has_tenant, detail)) != ROSTER_E_OK)
        return err;

    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->users, &k, &v);
    if (rc == 0) {
        err =
            roster_fail(detail, ROSTER_E_ALREADY_EXISTS, "id", "user %s already exists", user->id);
        goto done;
    }
    if (rc != MDB_NOTFOUND) {
        err = store_mdb_err(rc);
        goto done;
    }
    if (has_tenant && (err = tenant_exists(txn, w->s, &tenant, detail)) != ROSTER_E_OK)
        goto done;
    Roster__V1__User u;
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    user_build_restore(&u, user, &id, has_tenant ? &tenant : NULL, id_text, tenant_text);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, txn, &u, NULL, &bytes, &len, detail);
done:
    return store_op_end(w, txn, err);
}

/* Removes user u from the store in txn: every index entry it owns, its
 * record, and its part of the counters. The one place a user leaves the
 * store: its customData index entries go, and the change feed records
 * "user deleted (id, tenant)" and scrubs the user's earlier events, all in
 * the same transaction.
 *
 * u borrows the stored record, which the deletes below move within its
 * page: everything needed from it (the entries' keys, the scope, the
 * active flag) is copied out before the first write. A unique entry is
 * removed only while it names this user (a damaged store may have given
 * it to another); an entry already missing is no error, so a user whose
 * entries a damaged store lost can still be deleted. */
static int user_erase(store_wtxn *w, MDB_txn *txn, const user_view *u)
{
    store *s = w->s;
    key_entry e[USER_ENTRIES];
    static _Thread_local uint8_t buf[USER_ENTRIES * KEY_MAX];
    size_t n = key_user_entries(e, buf, s, u);
    roster_uuid id = u->id, scope, tenant = u->tenant;
    bool has_tenant = u->has_tenant;
    key_scope(&scope, u);
    int64_t active = u->f.active != 0;
    /* Its customData index entries, while u still reads the record. */
    int err = custom_index_user_remove(s, txn, u);
    if (err != ROSTER_E_OK)
        return err;
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {e[i].klen, e[i].key}, v;
        int rc;
        if (e[i].unique) {
            rc = mdb_get(txn, e[i].dbi, &k, &v);
            if (rc == MDB_NOTFOUND)
                continue;
            if (rc != 0)
                return store_mdb_err(rc);
            if (v.mv_size != sizeof id.b || !roster_uuid_eq(v.mv_data, &id))
                continue;
        }
        rc = key_entry_del(txn, &e[i]);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_mdb_err(rc);
    }
    MDB_val k = {16, id.b};
    store_append_forget(w, STORE_APPEND_USERS);
    int rc = mdb_del(txn, s->users, &k, NULL);
    if (rc != 0)
        return store_mdb_err(rc);
    if ((err = store_counter_add(w, &scope, -1, -active)) != ROSTER_E_OK)
        return err;
    /* The feed: the deletion, and no personal data of this user left. */
    return changes_append_user_deleted(w, txn, &id, has_tenant ? &tenant : NULL);
}

int store_user_delete(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__DeleteUserRequest *req, roster_arena *arena,
                      Roster__V1__DeleteUserResponse **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_user_delete(w->pg, scope, req, arena, out, detail);
    int err;
    roster_uuid id;
    if ((err = user_build_parse_id(&id, req->id, "id", detail)) != ROSTER_E_OK)
        return err;
    /* The reply is made before the first write: in a bulk group a failure
     * after it would fail the whole group. */
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
    /* A user created earlier in the group has its non-unique entries
     * queued: they must be in place to be removed (as for an update). */
    if (!w->failed && (err = store_pending_flush(w)) != ROSTER_E_OK)
        return w->failed = err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val v;
    user_view u;
    if ((err = user_load(&v, &u, txn, w->s, scope, &id, req->id, detail)) == ROSTER_E_OK)
        err = user_erase(w, txn, &u);
    err = store_op_end(w, txn, err);
    if (err == ROSTER_E_OK && out)
        *out = resp;
    return err;
}

int store_user_get_raw(store_rtxn *r, const roster_uuid *scope, const char *id, const void **bytes,
                       size_t *len)
{
    if (r->pg)
        return pgstore_user_get_raw(r->pg, scope, id, bytes, len);
    roster_uuid uid;
    if (id == NULL || roster_uuid_parse(&uid, id, strlen(id)) != ROSTER_E_OK)
        return ROSTER_E_INVALID_ARGUMENT;
    MDB_val k = {16, uid.b}, v;
    int rc = mdb_get(r->txn, r->s->users, &k, &v);
    if (rc != 0)
        return store_mdb_err(rc);
    if (scope) {
        user_view uv;
        int err = user_view_parse(&uv, v.mv_data, v.mv_size);
        if (err != ROSTER_E_OK)
            return err;
        if (!uv.has_tenant || !roster_uuid_eq(&uv.tenant, scope))
            return ROSTER_E_NOT_FOUND;
    }
    *bytes = v.mv_data;
    *len = v.mv_size;
    return ROSTER_E_OK;
}

int store_user_get(store_rtxn *r, const roster_uuid *scope, const Roster__V1__GetUserRequest *req,
                   roster_arena *arena, Roster__V1__User **out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_user_get(r->pg, scope, req, arena, out, detail);
    const void *bytes;
    size_t len = 0;
    int err = store_user_get_raw(r, scope, req->id, &bytes, &len);
    if (err == ROSTER_E_INVALID_ARGUMENT)
        return roster_fail(detail, err, "id", "id is not a UUID (8-4-4-4-12 hex digits)");
    if (err == ROSTER_E_NOT_FOUND)
        return roster_fail(detail, err, "id", "user %s does not exist", req->id);
    if (err != ROSTER_E_OK)
        return err;
    return unpack_user(arena, bytes, len, out);
}

int store_user_batch_get(store_rtxn *r, const roster_uuid *scope,
                         const Roster__V1__BatchGetUsersRequest *req, roster_arena *arena,
                         Roster__V1__BatchGetUsersResponse **out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_user_batch_get(r->pg, scope, req, arena, out, detail);
    if (req->n_ids > ROSTER_MAX_BATCH)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                           "ids holds %zu ids; at most %d are allowed", req->n_ids,
                           ROSTER_MAX_BATCH);
    for (size_t i = 0; i < req->n_ids; i++) {
        roster_uuid id;
        if (roster_uuid_parse(&id, req->ids[i], strlen(req->ids[i])) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                               "ids[%zu] is not a UUID (8-4-4-4-12 hex digits)", i);
    }
    Roster__V1__BatchGetUsersResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    size_t n = req->n_ids;
    Roster__V1__User **users = roster_arena_alloc(arena, (n ? n : 1) * sizeof *users);
    protobuf_c_boolean *found = roster_arena_alloc(arena, (n ? n : 1) * sizeof *found);
    if (resp == NULL || users == NULL || found == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__batch_get_users_response__init(resp);
    for (size_t i = 0; i < n; i++) {
        const void *bytes;
        size_t len;
        int err = store_user_get_raw(r, scope, req->ids[i], &bytes, &len);
        if (err == ROSTER_E_NOT_FOUND) {
            Roster__V1__User *empty = roster_arena_alloc(arena, sizeof *empty);
            if (empty == NULL)
                return ROSTER_E_NOMEM;
            roster__v1__user__init(empty);
            users[i] = empty;
            found[i] = 0;
            continue;
        }
        if (err != ROSTER_E_OK)
            return err;
        if ((err = unpack_user(arena, bytes, len, &users[i])) != ROSTER_E_OK)
            return err;
        found[i] = 1;
    }
    resp->n_users = resp->n_found = n;
    resp->users = users;
    resp->found = found;
    *out = resp;
    return ROSTER_E_OK;
}
