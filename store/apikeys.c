/* API keys: records in the `keys` database, minting, rotation, revocation
 * and the lookup that turns key text into a principal. */
#include "apikey_build.h"
#include "store_internal.h"

#include "clock.h"

#include <string.h>

static int key_db(const store *s, MDB_dbi *out)
{
    if (!s->has_keys)
        return ROSTER_E_NOT_FOUND;
    *out = s->keys;
    return ROSTER_E_OK;
}

static int put_key(store_wtxn *w, MDB_txn *txn, const roster_uuid *id, const Roster__V1__ApiKey *k)
{
    size_t len = protobuf_c_message_get_packed_size(&k->base);
    uint8_t *bytes;
    int err = store_wtxn_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&k->base, bytes);
    MDB_val kv = {16, (void *)id->b}, v = {len, bytes};
    err = store_mdb_err(mdb_put(txn, w->s->keys, &kv, &v, 0));
    roster_secure_wipe(bytes, len);
    return err;
}

/* Reads key `id` in txn into `arena`. */
static int load_key(MDB_txn *txn, const store *s, const roster_uuid *id, roster_arena *arena,
                    Roster__V1__ApiKey **out)
{
    MDB_dbi dbi;
    int err = key_db(s, &dbi);
    if (err != ROSTER_E_OK)
        return err;
    MDB_val k = {16, (void *)id->b}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return store_mdb_err(rc);
    return apikey_build_unpack(arena, v.mv_data, v.mv_size, out);
}

int store_key_create(store_wtxn *w, const Roster__V1__CreateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_key_create(w->pg, req, arena, out, detail);
    store *s = w->s;
    if (s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid tenant;
    bool has_tenant = false;
    int64_t now = roster_now_ms();
    int err = apikey_build_check_create(req, now, &tenant, &has_tenant, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    if (has_tenant) {
        MDB_val k = {16, tenant.b}, v;
        int rc = mdb_get(txn, s->tenants, &k, &v);
        if (rc == MDB_NOTFOUND) {
            err = apikey_build_tenant_missing(req, detail);
            goto done;
        }
        if (rc != 0) {
            err = store_mdb_err(rc);
            goto done;
        }
    }
    roster_uuid id;
    roster_uuid_v7(&id, now);
    Roster__V1__ApiKey *k = NULL;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = apikey_build_create(arena, req, &id, has_tenant ? &tenant : NULL, now, &k, &ks)) !=
        ROSTER_E_OK)
        goto done;
    if ((err = put_key(w, txn, &id, k)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    apikey_build_clear_hashes(k);
    ks->key = k;
    *out = ks;
done:
    return store_op_end(w, txn, err);
}

/* Loads key req_id for a change in the operation's transaction. */
static int load_for_write(store_wtxn *w, MDB_txn *txn, const roster_uuid *id, const char *id_text,
                          roster_arena *arena, Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    int err = load_key(txn, w->s, id, arena, out);
    if (err == ROSTER_E_NOT_FOUND)
        return apikey_build_not_found(id_text, detail);
    return err;
}

int store_key_revoke(store_wtxn *w, const Roster__V1__RevokeKeyRequest *req, roster_arena *arena,
                     Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_key_revoke(w->pg, req, arena, out, detail);
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid id;
    int err = apikey_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    if ((err = load_for_write(w, txn, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    if (apikey_build_revoke(k, roster_now_ms()) && (err = put_key(w, txn, &id, k)) != ROSTER_E_OK)
        goto done;
    apikey_build_clear_hashes(k);
    *out = k;
done:
    return store_op_end(w, txn, err);
}

int store_key_rotate(store_wtxn *w, const Roster__V1__RotateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_key_rotate(w->pg, req, arena, out, detail);
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid id;
    uint32_t grace;
    int err = apikey_build_check_rotate(req, &id, &grace, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    if ((err = load_for_write(w, txn, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = apikey_build_rotate(arena, k, &id, req->id, grace, roster_now_ms(), &ks, detail)) !=
        ROSTER_E_OK)
        goto done;
    if ((err = put_key(w, txn, &id, k)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    apikey_build_clear_hashes(k);
    ks->key = k;
    *out = ks;
done:
    return store_op_end(w, txn, err);
}

int store_key_count_live_for_tenant(MDB_txn *txn, const store *s, const roster_uuid *tenant,
                                    uint64_t *out, roster_uuid *example)
{
    uint64_t n = 0;
    if (!s->has_keys) {
        *out = 0;
        return ROSTER_E_OK;
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->keys, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    roster_arena tmp;
    roster_arena_init(&tmp, 1024, 0);
    int err = ROSTER_E_OK;
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        Roster__V1__ApiKey *key;
        if ((err = apikey_build_unpack(&tmp, v.mv_data, v.mv_size, &key)) != ROSTER_E_OK)
            break;
        if (apikey_build_live_for(key, tenant) && n++ == 0 && example != NULL && k.mv_size == 16)
            memcpy(example->b, k.mv_data, 16);
        apikey_build_clear_hashes(key);
        roster_arena_reset(&tmp);
    }
    mdb_cursor_close(c);
    roster_arena_free(&tmp);
    if (err == ROSTER_E_OK && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    if (err == ROSTER_E_OK)
        *out = n;
    return err;
}

int store_key_restore(store_wtxn *w, const Roster__V1__ApiKey *key, roster_err_detail *detail)
{
    if (w->pg)
        return pgstore_key_restore(w->pg, key, detail);
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid id;
    int err = apikey_build_check_restore(key, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_dbi dbi;
    if ((err = key_db(w->s, &dbi)) != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0)
        err = roster_fail(detail, ROSTER_E_ALREADY_EXISTS, "id", "key %s already exists", key->id);
    else if (rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    else
        err = put_key(w, txn, &id, key);
    return store_op_end(w, txn, err);
}

int store_key_touch(store_wtxn *w, const roster_uuid *id, int64_t when)
{
    if (w->pg)
        return pgstore_key_touch(w->pg, id, when);
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    MDB_txn *txn;
    int err = store_op_begin(w, &txn);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    err = load_key(txn, w->s, id, &tmp, &k);
    if (err == ROSTER_E_NOT_FOUND)
        err = ROSTER_E_OK;
    else if (err == ROSTER_E_OK && apikey_build_touch(k, when))
        err = put_key(w, txn, id, k);
    roster_arena_free(&tmp);
    return store_op_end(w, txn, err);
}

int store_key_get(store_rtxn *r, const Roster__V1__GetKeyRequest *req, roster_arena *arena,
                  Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_key_get(r->pg, req, arena, out, detail);
    roster_uuid id;
    int err = apikey_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    err = load_key(r->txn, r->s, &id, arena, &k);
    if (err == ROSTER_E_NOT_FOUND)
        return apikey_build_not_found(req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    apikey_build_clear_hashes(k);
    *out = k;
    return ROSTER_E_OK;
}

int store_key_list(store_rtxn *r, const Roster__V1__ListKeysRequest *req, roster_arena *arena,
                   Roster__V1__ListKeysResponse **out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_key_list(r->pg, req, arena, out, detail);
    (void)detail;
    Roster__V1__ListKeysResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    if (resp == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__list_keys_response__init(resp);
    MDB_dbi dbi;
    if (key_db(r->s, &dbi) != ROSTER_E_OK) {
        *out = resp;
        return ROSTER_E_OK;
    }
    bool revoked = req->has_include_revoked && req->include_revoked;
    MDB_stat st;
    int rc = mdb_stat(r->txn, dbi, &st);
    if (rc != 0)
        return store_mdb_err(rc);
    size_t cap = st.ms_entries ? st.ms_entries : 1;
    Roster__V1__ApiKey **keys = roster_arena_alloc(arena, cap * sizeof *keys);
    if (keys == NULL)
        return ROSTER_E_NOMEM;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(r->txn, dbi, &cur)) != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    int err = ROSTER_E_OK;
    size_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < cap;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Roster__V1__ApiKey *key = NULL;
        if ((err = apikey_build_unpack(arena, v.mv_data, v.mv_size, &key)) != ROSTER_E_OK)
            break;
        apikey_build_clear_hashes(key);
        if (key->has_revoked_at && !revoked)
            continue;
        keys[n++] = key;
    }
    mdb_cursor_close(cur);
    if (err != ROSTER_E_OK)
        return err;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    resp->n_keys = n;
    resp->keys = keys;
    *out = resp;
    return ROSTER_E_OK;
}

int store_key_count(store_rtxn *r, uint64_t *out)
{
    if (r->pg)
        return pgstore_key_count(r->pg, out);
    MDB_dbi dbi;
    if (key_db(r->s, &dbi) != ROSTER_E_OK) {
        *out = 0;
        return ROSTER_E_OK;
    }
    MDB_stat st;
    int rc = mdb_stat(r->txn, dbi, &st);
    if (rc != 0)
        return store_mdb_err(rc);
    *out = st.ms_entries;
    return ROSTER_E_OK;
}

int store_key_authenticate(store_rtxn *r, const char *text, size_t len, int64_t now,
                           store_principal *out, roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_key_authenticate(r->pg, text, len, now, out, detail);
    roster_uuid id;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = apikey_build_parse_text(&id, hash, text, len, detail);
    if (err != ROSTER_E_OK)
        goto fail;
    err = load_key(r->txn, r->s, &id, &tmp, &k);
    if (err == ROSTER_E_OK || err == ROSTER_E_NOT_FOUND)
        err = apikey_build_authenticate(k, &id, hash, now, out, detail);
fail:
    if (k != NULL)
        apikey_build_clear_hashes(k);
    roster_secure_wipe(hash, sizeof hash);
    roster_arena_free(&tmp);
    return err;
}

int store_key_principal(store_rtxn *r, const roster_uuid *id, int64_t now, store_principal *out,
                        roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_key_principal(r->pg, id, now, out, detail);
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = load_key(r->txn, r->s, id, &tmp, &k);
    if (err == ROSTER_E_OK || err == ROSTER_E_NOT_FOUND)
        err = apikey_build_principal(k, id, now, out, detail);
    if (k != NULL)
        apikey_build_clear_hashes(k);
    roster_arena_free(&tmp);
    return err;
}

const char *store_key_role_name(int role)
{
    switch (role) {
    case ROSTER__V1__ROLE__ROLE_ADMIN:
        return "admin";
    case ROSTER__V1__ROLE__ROLE_WRITER:
        return "writer";
    case ROSTER__V1__ROLE__ROLE_READER:
        return "reader";
    default:
        return "unspecified";
    }
}
