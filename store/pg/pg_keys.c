/* API keys of the PostgreSQL store: rows of roster_keys (the record,
 * hashes included, and the tenant a writer or reader key names), made,
 * changed and judged by apikey_build.c as the LMDB store does. Every
 * record read is wiped from libpq's result once unpacked, and every one
 * packed for a write is wiped from the scratch once sent. */
#include "pg_internal.h"

#include "apikey_build.h"

#include "clock.h"

#include <string.h>

/* Packs k (id `id`) and writes its row: a new one (insert) or the
 * existing one, whose tenant never changes. */
static int key_put(pgstore_wtxn *w, const roster_uuid *id, const Roster__V1__ApiKey *k, bool insert,
                   roster_err_detail *detail)
{
    roster_uuid tenant;
    bool has_tenant = k->tenant_id != NULL &&
                      roster_uuid_parse(&tenant, k->tenant_id, strlen(k->tenant_id)) == ROSTER_E_OK;
    size_t len = protobuf_c_message_get_packed_size(&k->base);
    uint8_t *bytes;
    int err = pg_scratch(w, len, &bytes);
    if (err != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&k->base, bytes);
    pg_param params[] = {{id->b, 16, PG_OID_UUID},
                         {has_tenant ? tenant.b : NULL, 16, PG_OID_UUID},
                         {bytes, (int)len, PG_OID_BYTEA}};
    err = pg_run0(w->c,
                  insert ? "INSERT INTO roster_keys (id, tenant_id, record) VALUES ($1, $2, $3)"
                         : "UPDATE roster_keys SET record = $3 WHERE id = $1",
                  3, params, detail);
    roster_secure_wipe(bytes, len);
    return err;
}

int pgstore_key_restore(pgstore_wtxn *w, const Roster__V1__ApiKey *key, roster_err_detail *detail)
{
    roster_uuid id;
    int err = apikey_build_check_restore(key, &id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    err = key_put(w, &id, key, true, detail);
    if (err == ROSTER_E_ALREADY_EXISTS)
        err = roster_fail(detail, err, "id", "key %s already exists", key->id);
    return pg_op_end(w, err, detail);
}

/* Reads key `id` on c into `arena` (hashes included); for_update locks
 * it for the rest of the group. ROSTER_E_NOT_FOUND, without detail, when
 * there is none. */
static int key_load(pg_conn *c, const roster_uuid *id, bool for_update, roster_arena *arena,
                    Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    static pg_stmt get_locked = PG_STMT("SELECT record FROM roster_keys WHERE id = $1 FOR UPDATE"),
                   get = PG_STMT("SELECT record FROM roster_keys WHERE id = $1");
    pg_param params[] = {{id->b, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run_stmt(c, for_update ? &get_locked : &get, 1, params, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ROSTER_E_NOT_FOUND;
    }
    char *bytes = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    err = apikey_build_unpack(arena, bytes, len, out);
    roster_secure_wipe(bytes, len);
    PQclear(res);
    return err;
}

int pgstore_key_create(pgstore_wtxn *w, const Roster__V1__CreateKeyRequest *req,
                       roster_arena *arena, Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    roster_uuid tenant;
    bool has_tenant = false;
    int64_t now = roster_now_ms();
    int err = apikey_build_check_create(req, now, &tenant, &has_tenant, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    /* The tenant stays (KEY SHARE) until the group ends: a delete of it
     * waits, then finds the key. */
    if (has_tenant && (err = pg_tenant_exists(w->c, &tenant, detail)) != ROSTER_E_OK) {
        if (err == ROSTER_E_NOT_FOUND)
            err = apikey_build_tenant_missing(req, detail);
        goto done;
    }
    roster_uuid id;
    roster_uuid_v7(&id, now);
    Roster__V1__ApiKey *k = NULL;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = apikey_build_create(arena, req, &id, has_tenant ? &tenant : NULL, now, &k, &ks)) !=
        ROSTER_E_OK)
        goto done;
    if ((err = key_put(w, &id, k, true, detail)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    apikey_build_clear_hashes(k);
    ks->key = k;
    *out = ks;
done:
    return pg_op_end(w, err, detail);
}

/* Loads key `id` (text id_text) locked for a change in w's operation. */
static int load_for_write(pgstore_wtxn *w, const roster_uuid *id, const char *id_text,
                          roster_arena *arena, Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    int err = key_load(w->c, id, true, arena, out, detail);
    if (err == ROSTER_E_NOT_FOUND)
        return apikey_build_not_found(id_text, detail);
    return err;
}

int pgstore_key_revoke(pgstore_wtxn *w, const Roster__V1__RevokeKeyRequest *req,
                       roster_arena *arena, Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    roster_uuid id;
    int err = apikey_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    if ((err = load_for_write(w, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    if (apikey_build_revoke(k, roster_now_ms()))
        err = key_put(w, &id, k, false, detail);
    apikey_build_clear_hashes(k);
    if (err == ROSTER_E_OK)
        *out = k;
done:
    return pg_op_end(w, err, detail);
}

int pgstore_key_rotate(pgstore_wtxn *w, const Roster__V1__RotateKeyRequest *req,
                       roster_arena *arena, Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    roster_uuid id;
    uint32_t grace;
    int err = apikey_build_check_rotate(req, &id, &grace, detail);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_op_begin(w, detail)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = load_for_write(w, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    if ((err = apikey_build_rotate(arena, k, &id, req->id, grace, roster_now_ms(), &ks, detail)) !=
        ROSTER_E_OK)
        goto done;
    if ((err = key_put(w, &id, k, false, detail)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    ks->key = k;
    *out = ks;
done:
    if (k != NULL)
        apikey_build_clear_hashes(k);
    return pg_op_end(w, err, detail);
}

int pgstore_key_touch(pgstore_wtxn *w, const roster_uuid *id, int64_t when)
{
    int err = pg_op_begin(w, NULL);
    if (err != ROSTER_E_OK)
        return err;
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    err = key_load(w->c, id, true, &tmp, &k, NULL);
    if (err == ROSTER_E_NOT_FOUND)
        err = ROSTER_E_OK;
    else if (err == ROSTER_E_OK && apikey_build_touch(k, when))
        err = key_put(w, id, k, false, NULL);
    if (k != NULL)
        apikey_build_clear_hashes(k);
    roster_arena_free(&tmp);
    return pg_op_end(w, err, NULL);
}

int pgstore_key_get(pgstore_rtxn *r, const Roster__V1__GetKeyRequest *req, roster_arena *arena,
                    Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    roster_uuid id;
    int err = apikey_build_parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    err = key_load(r->c, &id, false, arena, &k, detail);
    if (err == ROSTER_E_NOT_FOUND)
        return apikey_build_not_found(req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    apikey_build_clear_hashes(k);
    *out = k;
    return ROSTER_E_OK;
}

int pgstore_key_list(pgstore_rtxn *r, const Roster__V1__ListKeysRequest *req, roster_arena *arena,
                     Roster__V1__ListKeysResponse **out, roster_err_detail *detail)
{
    Roster__V1__ListKeysResponse *resp = roster_arena_alloc(arena, sizeof *resp);
    if (resp == NULL)
        return ROSTER_E_NOMEM;
    roster__v1__list_keys_response__init(resp);
    bool revoked = req->has_include_revoked && req->include_revoked;
    PGresult *res;
    int err = pg_run(r->c, "SELECT record FROM roster_keys ORDER BY id", 0, NULL, &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    int rows = PQntuples(res);
    Roster__V1__ApiKey **keys = roster_arena_alloc(arena, (rows ? (size_t)rows : 1) * sizeof *keys);
    size_t n = 0;
    if (keys == NULL)
        err = ROSTER_E_NOMEM;
    for (int i = 0; i < rows; i++) {
        char *bytes = PQgetvalue(res, i, 0);
        size_t len = (size_t)PQgetlength(res, i, 0);
        Roster__V1__ApiKey *key = NULL;
        if (err == ROSTER_E_OK &&
            (err = apikey_build_unpack(arena, bytes, len, &key)) == ROSTER_E_OK) {
            apikey_build_clear_hashes(key);
            if (!key->has_revoked_at || revoked)
                keys[n++] = key;
        }
        roster_secure_wipe(bytes, len);
    }
    PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    resp->n_keys = n;
    resp->keys = keys;
    *out = resp;
    return ROSTER_E_OK;
}

int pgstore_key_count(pgstore_rtxn *r, uint64_t *out)
{
    PGresult *res;
    int err = pg_run(r->c, "SELECT count(*) FROM roster_keys", 0, NULL, &res, NULL);
    if (err != ROSTER_E_OK)
        return err;
    *out = (uint64_t)pg_i64_get(PQgetvalue(res, 0, 0));
    PQclear(res);
    return ROSTER_E_OK;
}

int pgstore_key_authenticate(pgstore_rtxn *r, const char *text, size_t len, int64_t now,
                             store_principal *out, roster_err_detail *detail)
{
    roster_uuid id;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = apikey_build_parse_text(&id, hash, text, len, detail);
    if (err != ROSTER_E_OK)
        goto fail;
    err = key_load(r->c, &id, false, &tmp, &k, detail);
    if (err == ROSTER_E_OK || err == ROSTER_E_NOT_FOUND)
        err = apikey_build_authenticate(k, &id, hash, now, out, detail);
fail:
    if (k != NULL)
        apikey_build_clear_hashes(k);
    roster_secure_wipe(hash, sizeof hash);
    roster_arena_free(&tmp);
    return err;
}

int pgstore_key_principal(pgstore_rtxn *r, const roster_uuid *id, int64_t now, store_principal *out,
                          roster_err_detail *detail)
{
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = key_load(r->c, id, false, &tmp, &k, detail);
    if (err == ROSTER_E_OK || err == ROSTER_E_NOT_FOUND)
        err = apikey_build_principal(k, id, now, out, detail);
    if (k != NULL)
        apikey_build_clear_hashes(k);
    roster_arena_free(&tmp);
    return err;
}
