/* Tenants: writes, point reads and lists. Tenants are few, so lists walk
 * the createdAt (id) or name order and filter each record. */
#include "changes.h"
#include "cursor.h"
#include "fields.h"
#include "filter.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "validate.h"

#include "clock.h"
#include "roster_limits.h"

#include <stdio.h>
#include <string.h>

static const char default_key[] = "default_tenant";

static int pack_put_tenant(store_wtxn *w, MDB_txn *txn, const Roster__V1__Tenant *t,
                           const roster_uuid *id, const uint8_t **out_bytes, size_t *out_len)
{
    size_t len = protobuf_c_message_get_packed_size(&t->base);
    uint8_t *bytes;
    int err = store_wtxn_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&t->base, bytes);
    /* The feed's event, diffed against the stored record before it is
     * overwritten: one place for creates, updates, restores and the
     * previous default losing its mark. */
    MDB_val k = {16, (void *)id->b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    err = changes_append_tenant(w, txn, rc == 0 ? v.mv_data : NULL, rc == 0 ? v.mv_size : 0, t,
                                bytes, len);
    if (err != ROSTER_E_OK)
        return err;
    v.mv_size = len;
    v.mv_data = bytes;
    rc = mdb_put(txn, w->s->tenants, &k, &v, 0);
    if (rc != 0)
        return store_mdb_err(rc);
    if (out_bytes) {
        *out_bytes = bytes;
        *out_len = len;
    }
    return ROSTER_E_OK;
}

static int name_index(MDB_txn *txn, const store *s, const tenant_view *old, const tenant_view *nv)
{
    uint8_t kb[KEY_MAX];
    int rc;
    if (old) {
        MDB_val k = {key_tenant_name(kb, old), kb};
        rc = mdb_del(txn, s->tenant_name, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_mdb_err(rc);
    }
    MDB_val k = {key_tenant_name(kb, nv), kb}, v = {0, ""};
    return store_mdb_err(mdb_put(txn, s->tenant_name, &k, &v, 0));
}

/* Makes tenant `id` the default: the previous default loses its mark. */
static int set_default(store_wtxn *w, MDB_txn *txn, const roster_uuid *id, int64_t now)
{
    roster_uuid prev;
    int err = store_default_tenant(txn, w->s, &prev);
    if (err == ROSTER_E_OK && !roster_uuid_eq(&prev, id)) {
        MDB_val k = {16, prev.b}, v;
        int rc = mdb_get(txn, w->s->tenants, &k, &v);
        if (rc == 0) {
            roster_arena tmp;
            roster_arena_init(&tmp, 1024, 0);
            ProtobufCAllocator alloc;
            roster_arena_protobuf_allocator(&alloc, &tmp);
            Roster__V1__Tenant *t = roster__v1__tenant__unpack(&alloc, v.mv_size, v.mv_data);
            if (t == NULL) {
                roster_arena_free(&tmp);
                return ROSTER_E_CORRUPT;
            }
            t->has_is_default = 1;
            t->is_default = 0;
            t->has_updated_at = 1;
            if (now > t->updated_at)
                t->updated_at = now;
            err = pack_put_tenant(w, txn, t, &prev, NULL, NULL);
            roster_arena_free(&tmp);
            if (err != ROSTER_E_OK)
                return err;
        } else if (rc != MDB_NOTFOUND) {
            return store_mdb_err(rc);
        }
    } else if (err != ROSTER_E_OK && err != ROSTER_E_NOT_FOUND) {
        return err;
    }
    MDB_val k = {sizeof default_key - 1, (void *)default_key}, v = {16, (void *)id->b};
    return store_mdb_err(mdb_put(txn, w->s->meta, &k, &v, 0));
}

static int unset_default(store_wtxn *w, MDB_txn *txn, const roster_uuid *id)
{
    roster_uuid cur;
    int err = store_default_tenant(txn, w->s, &cur);
    if (err == ROSTER_E_NOT_FOUND)
        return ROSTER_E_OK;
    if (err != ROSTER_E_OK)
        return err;
    if (!roster_uuid_eq(&cur, id))
        return ROSTER_E_OK;
    MDB_val k = {sizeof default_key - 1, (void *)default_key};
    return store_mdb_err(mdb_del(txn, w->s->meta, &k, NULL));
}

static int unpack_tenant(roster_arena *arena, const void *bytes, size_t len,
                         Roster__V1__Tenant **out)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__Tenant *t = roster__v1__tenant__unpack(&alloc, len, bytes);
    if (t == NULL)
        return ROSTER_E_NOMEM;
    *out = t;
    return ROSTER_E_OK;
}

int store_tenant_create(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__CreateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail)
{
    if (scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "",
                           "a tenant-bound caller cannot create tenants");
    int err = validate_fields(NULL, &model_tenant, &store_fields_get()->check_create_tenant,
                              &req->base, VALIDATE_REQUIRED | VALIDATE_VALUES, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, &id);
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    t.id = id_text;
    t.name = req->name;
    t.reference = req->reference;
    t.has_is_default = 1;
    t.is_default = req->has_is_default && req->is_default;
    t.has_created_at = t.has_updated_at = 1;
    t.created_at = t.updated_at = now;
    if (t.is_default && (err = set_default(w, txn, &id, now)) != ROSTER_E_OK)
        goto done;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if ((err = pack_put_tenant(w, txn, &t, &id, &bytes, &len)) != ROSTER_E_OK)
        goto done;
    tenant_view tv;
    if ((err = tenant_view_parse(&tv, bytes, len)) != ROSTER_E_OK ||
        (err = name_index(txn, w->s, NULL, &tv)) != ROSTER_E_OK)
        goto done;
    if (out)
        err = unpack_tenant(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

int store_tenant_update(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__UpdateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail)
{
    roster_uuid id;
    if (req->id == NULL || roster_uuid_parse(&id, req->id, strlen(req->id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    int err = validate_fields(NULL, &model_tenant, &store_fields_get()->check_update_tenant,
                              &req->base, VALIDATE_VALUES, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (req->reference && req->has_clear_reference && req->clear_reference)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "reference",
                           "reference is both given and cleared");
    if (scope && !roster_uuid_eq(scope, &id))
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "tenant %s does not exist", req->id);
    if (scope && req->has_is_default)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "isDefault",
                           "a tenant-bound caller cannot change the default tenant");
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND) {
        err = roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "tenant %s does not exist", req->id);
        goto done;
    }
    if (rc != 0) {
        err = store_mdb_err(rc);
        goto done;
    }
    roster_arena tmp;
    roster_arena_init(&tmp, 1024, 0);
    Roster__V1__Tenant *t;
    tenant_view old;
    if ((err = tenant_view_parse(&old, v.mv_data, v.mv_size)) != ROSTER_E_OK ||
        (err = unpack_tenant(&tmp, v.mv_data, v.mv_size, &t)) != ROSTER_E_OK) {
        roster_arena_free(&tmp);
        goto done;
    }
    uint8_t old_name_key[KEY_MAX];
    size_t old_name_len = key_tenant_name(old_name_key, &old);
    int64_t now = roster_now_ms();
    if (req->name)
        t->name = req->name;
    if (req->reference)
        t->reference = req->reference;
    else if (req->has_clear_reference && req->clear_reference)
        t->reference = NULL;
    if (req->has_is_default) {
        t->has_is_default = 1;
        t->is_default = req->is_default;
        err = req->is_default ? set_default(w, txn, &id, now) : unset_default(w, txn, &id);
    }
    t->has_updated_at = 1;
    if (now > t->updated_at)
        t->updated_at = now;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (err == ROSTER_E_OK)
        err = pack_put_tenant(w, txn, t, &id, &bytes, &len);
    roster_arena_free(&tmp);
    if (err != ROSTER_E_OK)
        goto done;
    tenant_view nv;
    if ((err = tenant_view_parse(&nv, bytes, len)) != ROSTER_E_OK)
        goto done;
    MDB_val ok = {old_name_len, old_name_key};
    rc = mdb_del(txn, w->s->tenant_name, &ok, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        err = store_mdb_err(rc);
        goto done;
    }
    if ((err = name_index(txn, w->s, NULL, &nv)) != ROSTER_E_OK)
        goto done;
    if (out)
        err = unpack_tenant(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

int store_tenant_restore(store_wtxn *w, const Roster__V1__Tenant *tenant, roster_err_detail *detail)
{
    roster_uuid id;
    if (tenant->id == NULL || roster_uuid_parse(&id, tenant->id, strlen(tenant->id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    static const roster_uuid nil;
    if (roster_uuid_eq(&id, &nil))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id must not be the nil UUID");
    int err = validate_fields(NULL, &model_tenant, &store_fields_get()->check_tenant, &tenant->base,
                              VALIDATE_REQUIRED | VALIDATE_VALUES, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (!tenant->has_created_at || !tenant->has_updated_at)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "createdAt",
                           "createdAt and updatedAt are required");
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == 0) {
        err = roster_fail(detail, ROSTER_E_ALREADY_EXISTS, "id", "tenant %s already exists",
                          tenant->id);
        goto done;
    }
    if (rc != MDB_NOTFOUND) {
        err = store_mdb_err(rc);
        goto done;
    }
    Roster__V1__Tenant t = *tenant;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, &id);
    t.id = id_text;
    t.has_user_count = 0;
    t.has_is_default = 1;
    t.is_default = tenant->has_is_default && tenant->is_default;
    if (t.is_default && (err = set_default(w, txn, &id, t.updated_at)) != ROSTER_E_OK)
        goto done;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if ((err = pack_put_tenant(w, txn, &t, &id, &bytes, &len)) != ROSTER_E_OK)
        goto done;
    tenant_view tv;
    if ((err = tenant_view_parse(&tv, bytes, len)) == ROSTER_E_OK)
        err = name_index(txn, w->s, NULL, &tv);
done:
    return store_op_end(w, txn, err);
}

/* Removes tenant t from the store in txn: its tenant_name entry, its
 * user counter (zero: a tenant with users is never erased) and its
 * record. The one place a tenant leaves the store: the change feed records
 * "tenant deleted (id)" here, in the same transaction. t borrows
 * the stored record; its tenant_name key is made before the first write. */
static int tenant_erase(store_wtxn *w, MDB_txn *txn, const tenant_view *t)
{
    uint8_t kb[KEY_MAX];
    roster_uuid id = t->id;
    MDB_val nk = {key_tenant_name(kb, t), kb};
    int rc = mdb_del(txn, w->s->tenant_name, &nk, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    int err = store_counter_del(txn, w->s, &id);
    if (err != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b};
    if ((rc = mdb_del(txn, w->s->tenants, &k, NULL)) != 0)
        return store_mdb_err(rc);
    return changes_append_tenant_deleted(w, txn, &id);
}

/* Whether idx_tenant holds an entry of a user of `tenant`. */
static int tenant_has_users(MDB_txn *txn, const store *s, const roster_uuid *tenant, bool *out)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->idx_tenant, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k = {16, (void *)tenant->b}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    bool found = rc == 0 && k.mv_size >= 16 && memcmp(k.mv_data, tenant->b, 16) == 0;
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    *out = found;
    return ROSTER_E_OK;
}

int store_tenant_delete(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__DeleteTenantRequest *req, roster_arena *arena,
                        Roster__V1__DeleteTenantResponse **out, roster_err_detail *detail)
{
    roster_uuid id;
    if (req->id == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id is required");
    if (roster_uuid_parse(&id, req->id, strlen(req->id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    if (scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "",
                           "a tenant-bound caller cannot delete tenants");
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, &id);
    Roster__V1__DeleteTenantResponse *resp = NULL;
    if (out) {
        resp = roster_arena_alloc(arena, sizeof *resp);
        char *text = roster_arena_alloc(arena, sizeof id_text);
        if (resp == NULL || text == NULL)
            return ROSTER_E_NOMEM;
        roster__v1__delete_tenant_response__init(resp);
        memcpy(text, id_text, sizeof id_text);
        resp->id = text;
    }
    /* Whether the tenant has users is read from idx_tenant and the
     * counters, so the group's queued entries and counter changes (users
     * created, moved or deleted earlier in the group) are written first. */
    int err;
    if (!w->failed && ((err = store_pending_flush(w)) != ROSTER_E_OK ||
                       (err = store_counters_flush(w)) != ROSTER_E_OK))
        return w->failed = err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND) {
        err = roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "tenant %s does not exist", id_text);
        goto done;
    }
    if (rc != 0) {
        err = store_mdb_err(rc);
        goto done;
    }
    tenant_view t;
    if ((err = tenant_view_parse(&t, v.mv_data, v.mv_size)) != ROSTER_E_OK)
        goto done;
    store_counter c;
    bool has_users = false;
    if ((err = store_counter_get(txn, w->s, &id, false, &c)) != ROSTER_E_OK ||
        (err = tenant_has_users(txn, w->s, &id, &has_users)) != ROSTER_E_OK)
        goto done;
    if (c.users > 0 || has_users) {
        char n[32] = "";
        if (c.users > 0)
            snprintf(n, sizeof n, " %llu", (unsigned long long)c.users);
        err = roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                          "tenant %s still has%s user(s), deactivated ones included; delete "
                          "them or move them to another tenant first",
                          id_text, n);
        goto done;
    }
    roster_uuid def;
    int derr = store_default_tenant(txn, w->s, &def);
    if (derr != ROSTER_E_OK && derr != ROSTER_E_NOT_FOUND) {
        err = derr;
        goto done;
    }
    if (t.f.isDefault > 0 || (derr == ROSTER_E_OK && roster_uuid_eq(&def, &id))) {
        err = roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                          "tenant %s is the default tenant; make it an ordinary one first "
                          "(update it with isDefault false)",
                          id_text);
        goto done;
    }
    uint64_t keys = 0;
    roster_uuid key;
    if ((err = store_key_count_live_for_tenant(txn, w->s, &id, &keys, &key)) != ROSTER_E_OK)
        goto done;
    if (keys > 0) {
        char key_text[ROSTER_UUID_TEXT_LEN + 1];
        roster_uuid_format(key_text, &key);
        err = roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                          "tenant %s is named by %llu API key(s) that are not revoked (such as "
                          "%s); revoke them first",
                          id_text, (unsigned long long)keys, key_text);
        goto done;
    }
    err = tenant_erase(w, txn, &t);
done:
    err = store_op_end(w, txn, err);
    if (err == ROSTER_E_OK && out)
        *out = resp;
    return err;
}

/* ------------------------------------------------------------ reads */

static int tenant_out(store_rtxn *r, const void *bytes, size_t len, bool with_count,
                      roster_arena *arena, Roster__V1__Tenant **out)
{
    Roster__V1__Tenant *t;
    int err = unpack_tenant(arena, bytes, len, &t);
    if (err != ROSTER_E_OK)
        return err;
    if (with_count) {
        roster_uuid id;
        if (t->id == NULL || roster_uuid_parse(&id, t->id, strlen(t->id)) != ROSTER_E_OK)
            return ROSTER_E_CORRUPT;
        int64_t n;
        if ((err = store_tenant_user_count(r, &id, &n)) != ROSTER_E_OK)
            return err;
        t->has_user_count = 1;
        t->user_count = n;
    }
    *out = t;
    return ROSTER_E_OK;
}

/* Borrowed record of a tenant visible in scope. */
static int tenant_raw(store_rtxn *r, const roster_uuid *scope, const roster_uuid *id, MDB_val *out)
{
    if (scope && !roster_uuid_eq(scope, id))
        return ROSTER_E_NOT_FOUND;
    MDB_val k = {16, (void *)id->b};
    return store_mdb_err(mdb_get(r->txn, r->s->tenants, &k, out));
}

int store_tenant_get(store_rtxn *r, const roster_uuid *scope,
                     const Roster__V1__GetTenantRequest *req, roster_arena *arena,
                     Roster__V1__Tenant **out, roster_err_detail *detail)
{
    roster_uuid id;
    if (req->id == NULL || roster_uuid_parse(&id, req->id, strlen(req->id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    MDB_val v;
    int err = tenant_raw(r, scope, &id, &v);
    if (err == ROSTER_E_NOT_FOUND)
        return roster_fail(detail, err, "id", "tenant %s does not exist", req->id);
    if (err != ROSTER_E_OK)
        return err;
    return tenant_out(r, v.mv_data, v.mv_size,
                      req->has_include_user_count && req->include_user_count, arena, out);
}

int store_tenant_batch_get(store_rtxn *r, const roster_uuid *scope,
                           const Roster__V1__BatchGetTenantsRequest *req, roster_arena *arena,
                           Roster__V1__BatchGetTenantsResponse **out, roster_err_detail *detail)
{
    size_t n = req->n_ids;
    if (n > ROSTER_MAX_BATCH)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                           "ids holds %zu ids; at most %d are allowed", n, ROSTER_MAX_BATCH);
    roster_uuid *ids = roster_arena_alloc(arena, (n ? n : 1) * sizeof *ids);
    Roster__V1__BatchGetTenantsResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__Tenant **ts = roster_arena_alloc(arena, (n ? n : 1) * sizeof *ts);
    protobuf_c_boolean *found = roster_arena_alloc(arena, (n ? n : 1) * sizeof *found);
    if (ids == NULL || resp == NULL || ts == NULL || found == NULL)
        return ROSTER_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (roster_uuid_parse(&ids[i], req->ids[i], strlen(req->ids[i])) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ids",
                               "ids[%zu] is not a UUID (8-4-4-4-12 hex digits)", i);
    roster__v1__batch_get_tenants_response__init(resp);
    bool with_count = req->has_include_user_count && req->include_user_count;
    for (size_t i = 0; i < n; i++) {
        MDB_val v;
        int err = tenant_raw(r, scope, &ids[i], &v);
        if (err == ROSTER_E_NOT_FOUND) {
            ts[i] = roster_arena_alloc(arena, sizeof **ts);
            if (ts[i] == NULL)
                return ROSTER_E_NOMEM;
            roster__v1__tenant__init(ts[i]);
            found[i] = 0;
            continue;
        }
        if (err != ROSTER_E_OK ||
            (err = tenant_out(r, v.mv_data, v.mv_size, with_count, arena, &ts[i])) != ROSTER_E_OK)
            return err;
        found[i] = 1;
    }
    resp->n_tenants = resp->n_found = n;
    resp->tenants = ts;
    resp->found = found;
    *out = resp;
    return ROSTER_E_OK;
}

int store_tenant_list(store_rtxn *r, const roster_uuid *scope,
                      const Roster__V1__ListTenantsRequest *req, roster_arena *arena,
                      Roster__V1__ListTenantsResponse **out, roster_err_detail *detail)
{
    int32_t limit = req->has_limit ? req->limit : ROSTER_DEFAULT_PAGE;
    if (limit < 0 || limit > ROSTER_MAX_PAGE)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "limit",
                           "limit must be between 0 and %d, got %d", ROSTER_MAX_PAGE, limit);
    int32_t offset = req->has_offset ? req->offset : 0;
    if (offset < 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "offset",
                           "offset must not be negative, got %d", offset);
    /* Tenants are few: a list walks the records (createdAt order) or
     * tenant_name (the name order, the one sortable tenant field with an
     * index) and filters each record. */
    const store_fields *sf = store_fields_get();
    bool by_name = false, desc = true;
    if (req->order) {
        if (req->order->has_sort) {
            int v = (int)req->order->sort;
            int fi = v == ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_UNSPECIFIED
                         ? MODEL_TENANT_createdAt
                         : store_fields_enum(sf->tenant_sort, v);
            if (fi < 0)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.sort",
                                   "order.sort %d is not a tenant sort field", v);
            by_name = fi == MODEL_TENANT_name;
        }
        if (req->order->has_order) {
            if (req->order->order == ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC)
                desc = false;
            else if (req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC &&
                     req->order->order != ROSTER__V1__SORT_ORDER__SORT_ORDER_UNSPECIFIED)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "order.order",
                                   "order.order %d is not ASC or DESC", (int)req->order->order);
        }
    }
    const Roster__V1__TenantFilter *f = req->filter;
    id_cond idc;
    int err = filter_id_parse(&idc, f ? f->id : NULL, "filter.id", arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    /* The StringFilters of the tenant's fields, compiled in model order
     * and kept with the view slot each reads. */
    str_cond conds[MODEL_TENANT__COUNT];
    const rec_str *slot_of[MODEL_TENANT__COUNT];
    tenant_view tv;
    size_t n_conds = 0;
    for (size_t i = 0; f && i < model_tenant.n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = sf->tenant_filter.fields[i];
        if (fd == NULL || model_tenant.fields[i].filter != MODEL_FILTER_STRING)
            continue;
        const Roster__V1__StringFilter *one = model_pb_ptr(&f->base, fd);
        if ((err = filter_str_compile(&conds[n_conds], one, sf->tenant_filter_name[i],
                                      model_tenant.fields[i].flags & MODEL_FOLD_CASE, arena,
                                      detail)) != ROSTER_E_OK)
            return err;
        if (one)
            slot_of[n_conds++] =
                (const rec_str *)(const void *)((const char *)&tv.f + rec_tenant_off[i]);
    }

    /* after: the order key of a tenant is the key of the database walked
     * (its id, or tenant_name's value and id). */
    uint8_t after[CURSOR_POS_MAX];
    size_t after_len = 0;
    uint64_t shape = 0;
    if (req->after || limit > 0) {
        int sort = by_name ? MODEL_TENANT_name : MODEL_TENANT_createdAt;
        shape = cursor_shape('t', scope, sort, desc, f ? &f->base : NULL, NULL);
    }
    if (req->after) {
        if ((err = cursor_decode(after, &after_len, req->after, offset, shape,
                                 by_name ? (int)model_tenant.fields[MODEL_TENANT_name].type : -1,
                                 detail)) != ROSTER_E_OK)
            return err;
    }
    /* With no condition every tenant matches: the total is the entry count
     * of `tenants`, and the walk seeks past the cursor and stops one match
     * past the page. Otherwise it visits every tenant for the exact total,
     * only counting the matches up to the cursor. */
    bool counted = scope == NULL && !idc.active && n_conds == 0;
    int64_t total = 0;
    if (counted) {
        MDB_stat st;
        int rc = mdb_stat(r->txn, r->s->tenants, &st);
        if (rc != 0)
            return store_mdb_err(rc);
        total = (int64_t)st.ms_entries;
    }

    Roster__V1__ListTenantsResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    Roster__V1__PageInfo *info = roster_arena_alloc(arena, sizeof *info);
    Roster__V1__Tenant **ts = roster_arena_alloc(arena, (limit ? (size_t)limit : 1) * sizeof *ts);
    if (resp == NULL || info == NULL || ts == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__list_tenants_response__init(resp);
    roster__v1__page_info__init(info);
    bool with_count = req->has_include_user_count && req->include_user_count;
    size_t n = 0;
    bool more = false;
    MDB_val last = {0, NULL}; /* order key of the page's last tenant */
    if (counted && !req->after && (limit == 0 || offset >= total)) {
        more = offset < total;
        goto done;
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, by_name ? r->s->tenant_name : r->s->tenants, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    int64_t matched = 0, before = 0;
    bool pre = req->after && !counted; /* matches up to the cursor only count */
    MDB_val k, v;
    MDB_cursor_op step = desc ? MDB_PREV : MDB_NEXT;
    unsigned steps = 0;
    if (req->after && counted)
        rc = cursor_seek_after(c, after, after_len, desc, &k, &v);
    else
        rc = mdb_cursor_get(c, &k, &v, desc ? MDB_LAST : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, step)) {
        if ((err = store_limits_step(&steps, r->deadline_ns, r->stop_ns)) != ROSTER_E_OK)
            break;
        if (k.mv_size < 16)
            continue;
        if (pre && cursor_key_past(&k, after, after_len, desc)) {
            pre = false;
            before = matched;
        }
        /* A counted walk reads only the records it returns. */
        bool take = !pre && matched - before >= offset && n < (size_t)limit;
        MDB_val rec = v;
        if (by_name && (take || !counted)) {
            MDB_val ik = {16, (uint8_t *)k.mv_data + k.mv_size - 16};
            if ((rc = mdb_get(r->txn, r->s->tenants, &ik, &rec)) != 0)
                break;
        }
        if (!counted) {
            if ((err = tenant_view_parse(&tv, rec.mv_data, rec.mv_size)) != ROSTER_E_OK)
                break;
            if (scope && !roster_uuid_eq(scope, &tv.id))
                continue;
            if (!filter_id_match(&idc, &tv.id, true))
                continue;
            size_t j = 0;
            while (j < n_conds && filter_str_cond_match(&conds[j], *slot_of[j]))
                j++;
            if (j < n_conds)
                continue;
        }
        matched++;
        if (!take) {
            if (!pre && matched - before > offset) {
                more = true; /* a match past the page */
                if (counted)
                    break;
            }
            continue;
        }
        if ((err = tenant_out(r, rec.mv_data, rec.mv_size, with_count, arena, &ts[n])) !=
            ROSTER_E_OK)
            break;
        n++;
        last = k;
    }
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if (!counted)
        total = matched;
done:
    info->has_has_next_page = 1;
    info->has_next_page = more;
    if (n > 0 && (err = cursor_encode(&info->end_cursor, shape, last.mv_data, last.mv_size,
                                      arena)) != ROSTER_E_OK)
        return err;
    resp->page_info = info;
    resp->has_total_count = 1;
    resp->total_count = total;
    resp->n_tenants = n;
    resp->tenants = ts;
    *out = resp;
    return ROSTER_E_OK;
}
