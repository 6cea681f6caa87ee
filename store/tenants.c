/* Tenants: writes, point reads and lists. Tenants are few, so lists walk
 * the createdAt (id) or name order and filter each record. */
#include "changes.h"
#include "cursor.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "tenant_build.h"
#include "tenant_list.h"

#include "clock.h"
#include "roster_limits.h"

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
            tenant_build_undefault(t, now);
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

int store_tenant_create(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__CreateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_tenant_create(w->pg, scope, req, arena, out, detail);
    int err = tenant_build_check_create(scope, req, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    tenant_build_create(&t, req, &id, now, id_text);
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
        err = tenant_build_unpack(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

int store_tenant_update(store_wtxn *w, const roster_uuid *scope,
                        const Roster__V1__UpdateTenantRequest *req, roster_arena *arena,
                        Roster__V1__Tenant **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_tenant_update(w->pg, scope, req, arena, out, detail);
    roster_uuid id;
    int err = tenant_build_check_update(scope, req, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND) {
        err = tenant_build_not_found(req->id, detail);
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
        (err = tenant_build_unpack(&tmp, v.mv_data, v.mv_size, &t)) != ROSTER_E_OK) {
        roster_arena_free(&tmp);
        goto done;
    }
    uint8_t old_name_key[KEY_MAX];
    size_t old_name_len = key_tenant_name(old_name_key, &old);
    int64_t now = roster_now_ms();
    tenant_build_update(t, req, now);
    if (req->has_is_default)
        err = req->is_default ? set_default(w, txn, &id, now) : unset_default(w, txn, &id);
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
        err = tenant_build_unpack(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

int store_tenant_restore(store_wtxn *w, const Roster__V1__Tenant *tenant, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_tenant_restore(w->pg, tenant, detail);
    roster_uuid id;
    int err = tenant_build_check_restore(tenant, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == 0) {
        err = tenant_build_exists(tenant->id, detail);
        goto done;
    }
    if (rc != MDB_NOTFOUND) {
        err = store_mdb_err(rc);
        goto done;
    }
    Roster__V1__Tenant t;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    tenant_build_restore(&t, tenant, &id, id_text);
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
    if (w->pg)
        return pgstore_tenant_delete(w->pg, scope, req, arena, out, detail);
    roster_uuid id;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    Roster__V1__DeleteTenantResponse *resp = NULL;
    int err =
        tenant_build_check_delete(scope, req, &id, id_text, arena, out ? &resp : NULL, detail);
    if (err != ROSTER_E_OK)
        return err;
    /* Whether the tenant has users is read from idx_tenant and the
     * counters, so the group's queued entries and counter changes (users
     * created, moved or deleted earlier in the group) are written first. */
    if (!w->failed && ((err = store_pending_flush(w)) != ROSTER_E_OK ||
                       (err = store_counters_flush(w)) != ROSTER_E_OK))
        return w->failed = err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND) {
        err = tenant_build_not_found(id_text, detail);
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
        err = tenant_build_refuse_users(id_text, c.users, detail);
        goto done;
    }
    roster_uuid def;
    int derr = store_default_tenant(txn, w->s, &def);
    if (derr != ROSTER_E_OK && derr != ROSTER_E_NOT_FOUND) {
        err = derr;
        goto done;
    }
    if (t.f.isDefault > 0 || (derr == ROSTER_E_OK && roster_uuid_eq(&def, &id))) {
        err = tenant_build_refuse_default(id_text, detail);
        goto done;
    }
    uint64_t keys = 0;
    roster_uuid key;
    if ((err = store_key_count_live_for_tenant(txn, w->s, &id, &keys, &key)) != ROSTER_E_OK)
        goto done;
    if (keys > 0) {
        err = tenant_build_refuse_keys(id_text, keys, &key, detail);
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
    int err = tenant_build_unpack(arena, bytes, len, &t);
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
    if (r->pg)
        return pgstore_tenant_get(r->pg, scope, req, arena, out, detail);
    roster_uuid id;
    int err = tenant_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_val v;
    err = tenant_raw(r, scope, &id, &v);
    if (err == ROSTER_E_NOT_FOUND)
        return tenant_build_not_found(req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    return tenant_out(r, v.mv_data, v.mv_size,
                      req->has_include_user_count && req->include_user_count, arena, out);
}

int store_tenant_batch_get(store_rtxn *r, const roster_uuid *scope,
                           const Roster__V1__BatchGetTenantsRequest *req, roster_arena *arena,
                           Roster__V1__BatchGetTenantsResponse **out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_tenant_batch_get(r->pg, scope, req, arena, out, detail);
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
    if (r->pg)
        return pgstore_tenant_list(r->pg, scope, req, arena, out, detail);
    tenant_list_plan p;
    int err = tenant_list_plan_make(&p, scope, req, arena, detail);
    if (err != ROSTER_E_OK)
        return err;
    /* Tenants are few: a list walks the records (createdAt order) or
     * tenant_name (the name order, the one sortable tenant field with an
     * index) and filters each record. With no condition every tenant
     * matches: the total is the entry count of `tenants`, and the walk
     * seeks past the cursor and stops one match past the page. Otherwise
     * it visits every tenant for the exact total, only counting the
     * matches up to the cursor. The order key of a tenant is the key of
     * the database walked (its id, or tenant_name's value and id). */
    bool counted = tenant_list_counted(&p);
    int64_t total = 0;
    if (counted) {
        MDB_stat st;
        int rc = mdb_stat(r->txn, r->s->tenants, &st);
        if (rc != 0)
            return store_mdb_err(rc);
        total = (int64_t)st.ms_entries;
    }
    tenant_walk wk;
    if ((err = tenant_walk_begin(&wk, &p, counted, arena)) != ROSTER_E_OK)
        return err;
    if (tenant_walk_short(&wk, total))
        return tenant_walk_end(&wk, total, arena, out);
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, p.by_name ? r->s->tenant_name : r->s->tenants, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    MDB_cursor_op step = p.desc ? MDB_PREV : MDB_NEXT;
    unsigned steps = 0;
    if (p.has_after && counted)
        rc = cursor_seek_after(c, p.after, p.after_len, p.desc, &k, &v);
    else
        rc = mdb_cursor_get(c, &k, &v, p.desc ? MDB_LAST : MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, step)) {
        if ((err = store_limits_step(&steps, r->deadline_ns, r->stop_ns)) != ROSTER_E_OK)
            break;
        if (k.mv_size < 16)
            continue;
        /* A counted walk reads only the records it returns. */
        bool take = tenant_walk_at(&wk, k.mv_data, k.mv_size);
        MDB_val rec = v;
        if (p.by_name && (take || !counted)) {
            MDB_val ik = {16, (uint8_t *)k.mv_data + k.mv_size - 16};
            if ((rc = mdb_get(r->txn, r->s->tenants, &ik, &rec)) != 0)
                break;
        }
        if (!counted) {
            tenant_view tv;
            if ((err = tenant_view_parse(&tv, rec.mv_data, rec.mv_size)) != ROSTER_E_OK)
                break;
            if (!tenant_list_match(&p, &tv))
                continue;
        }
        tenant_walk_step act = tenant_walk_match(&wk, take, k.mv_data, k.mv_size);
        if (act == TENANT_WALK_STOP)
            break;
        if (act == TENANT_WALK_SKIP)
            continue;
        if ((err = tenant_out(r, rec.mv_data, rec.mv_size, p.with_count, arena,
                              &wk.resp->tenants[wk.n - 1])) != ROSTER_E_OK)
            break;
    }
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    return tenant_walk_end(&wk, total, arena, out);
}
