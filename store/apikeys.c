/* API keys: records in the `keys` database, minting, rotation, revocation
 * and the lookup that turns key text into a principal. */
#include "apikey.h"
#include "store_internal.h"
#include "text.h"

#include "clock.h"

#include <string.h>

#define KEY_NAME_MAX 255

static int key_db(const store *s, MDB_dbi *out)
{
    if (!s->has_keys)
        return ROSTER_E_NOT_FOUND;
    *out = s->keys;
    return ROSTER_E_OK;
}

static int unpack_key(roster_arena *arena, const void *bytes, size_t len, Roster__V1__ApiKey **out)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__ApiKey *k = roster__v1__api_key__unpack(&alloc, len, bytes);
    if (k == NULL)
        return ROSTER_E_CORRUPT;
    *out = k;
    return ROSTER_E_OK;
}

/* Wipes and drops the hashes of a record about to leave the store. */
static void clear_hashes(Roster__V1__ApiKey *k)
{
    if (k->has_secret_hash)
        roster_secure_wipe(k->secret_hash.data, k->secret_hash.len);
    if (k->has_previous_secret_hash)
        roster_secure_wipe(k->previous_secret_hash.data, k->previous_secret_hash.len);
    k->has_secret_hash = k->has_previous_secret_hash = 0;
    k->secret_hash.data = k->previous_secret_hash.data = NULL;
    k->secret_hash.len = k->previous_secret_hash.len = 0;
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
    return unpack_key(arena, v.mv_data, v.mv_size, out);
}

static int parse_id(roster_uuid *out, const char *id, roster_err_detail *detail)
{
    if (id == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id is required");
    if (roster_uuid_parse(out, id, strlen(id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    return ROSTER_E_OK;
}

/* A new secret for k: sets secret_hash (copied into arena) and returns the
 * KeySecret carrying the text, both in arena. */
static int mint_into(roster_arena *arena, const roster_uuid *id, Roster__V1__ApiKey *k,
                     Roster__V1__KeySecret **out)
{
    char text[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    Roster__V1__KeySecret *ks = roster_arena_alloc(arena, sizeof *ks);
    uint8_t *h = roster_arena_alloc(arena, sizeof hash);
    char *secret = roster_arena_alloc(arena, sizeof text);
    int err = ROSTER_E_NOMEM;
    if (ks == NULL || h == NULL || secret == NULL)
        goto fail;
    if ((err = roster_apikey_mint(text, hash, id)) != ROSTER_E_OK)
        goto fail;
    memcpy(h, hash, sizeof hash);
    memcpy(secret, text, sizeof text);
    roster__v1__key_secret__init(ks);
    ks->secret = secret;
    k->has_secret_hash = 1;
    k->secret_hash.data = h;
    k->secret_hash.len = sizeof hash;
    *out = ks;
fail:
    roster_secure_wipe(text, sizeof text);
    roster_secure_wipe(hash, sizeof hash);
    return err;
}

static bool role_known(Roster__V1__Role r)
{
    return r == ROSTER__V1__ROLE__ROLE_ADMIN || r == ROSTER__V1__ROLE__ROLE_WRITER ||
           r == ROSTER__V1__ROLE__ROLE_READER;
}

int store_key_create(store_wtxn *w, const Roster__V1__CreateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    store *s = w->s;
    if (s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    size_t nlen = req->name ? strlen(req->name) : 0;
    if (nlen == 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name", "name is required");
    if (nlen > KEY_NAME_MAX)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name",
                           "name is longer than %d bytes", KEY_NAME_MAX);
    for (size_t i = 0; i < nlen; i++)
        if ((unsigned char)req->name[i] < 0x20 || req->name[i] == 0x7f)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name",
                               "name holds a control character");
    if (!text_utf8_valid(req->name, nlen))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name", "name is not valid UTF-8");
    if (!req->has_role || req->role == ROSTER__V1__ROLE__ROLE_UNSPECIFIED)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "role", "role is required");
    if (!role_known(req->role))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "role", "role %d is not known",
                           (int)req->role);
    roster_uuid tenant;
    bool admin = req->role == ROSTER__V1__ROLE__ROLE_ADMIN;
    if (admin && req->tenant_id != NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                           "an admin key sees every tenant and takes no tenantId");
    if (!admin) {
        if (req->tenant_id == NULL)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                               "a writer or reader key needs a tenantId");
        if (roster_uuid_parse(&tenant, req->tenant_id, strlen(req->tenant_id)) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                               "tenantId is not a UUID (8-4-4-4-12 hex digits)");
    }
    int64_t now = roster_now_ms();
    if (req->has_expires_at && req->expires_at <= now)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "expiresAt",
                           "expiresAt is not in the future");
    MDB_txn *txn;
    int err = store_op_begin(w, &txn);
    if (err != ROSTER_E_OK)
        return err;
    if (!admin) {
        MDB_val k = {16, tenant.b}, v;
        int rc = mdb_get(txn, s->tenants, &k, &v);
        if (rc == MDB_NOTFOUND) {
            err = roster_fail(detail, ROSTER_E_NOT_FOUND, "tenantId", "tenant %.40s does not exist",
                              req->tenant_id);
            goto done;
        }
        if (rc != 0) {
            err = store_mdb_err(rc);
            goto done;
        }
    }
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char *id_text = roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1);
    char *tenant_text = admin ? NULL : roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1);
    char *name = roster_arena_alloc(arena, nlen + 1);
    Roster__V1__ApiKey *k = roster_arena_alloc(arena, sizeof *k);
    if (id_text == NULL || (!admin && tenant_text == NULL) || name == NULL || k == NULL) {
        err = ROSTER_E_NOMEM;
        goto done;
    }
    roster_uuid_format(id_text, &id);
    if (!admin)
        roster_uuid_format(tenant_text, &tenant);
    memcpy(name, req->name, nlen + 1);
    roster__v1__api_key__init(k);
    k->id = id_text;
    k->name = name;
    k->tenant_id = tenant_text;
    k->has_role = 1;
    k->role = req->role;
    k->has_created_at = 1;
    k->created_at = now;
    if (req->has_expires_at) {
        k->has_expires_at = 1;
        k->expires_at = req->expires_at;
    }
    Roster__V1__KeySecret *ks = NULL;
    if ((err = mint_into(arena, &id, k, &ks)) != ROSTER_E_OK)
        goto done;
    if ((err = put_key(w, txn, &id, k)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    clear_hashes(k);
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
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "no key with id %.40s", id_text);
    return err;
}

int store_key_revoke(store_wtxn *w, const Roster__V1__RevokeKeyRequest *req, roster_arena *arena,
                     Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid id;
    int err = parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    if ((err = load_for_write(w, txn, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    if (!k->has_revoked_at) {
        k->has_revoked_at = 1;
        k->revoked_at = roster_now_ms();
        if ((err = put_key(w, txn, &id, k)) != ROSTER_E_OK)
            goto done;
    }
    clear_hashes(k);
    *out = k;
done:
    return store_op_end(w, txn, err);
}

int store_key_rotate(store_wtxn *w, const Roster__V1__RotateKeyRequest *req, roster_arena *arena,
                     Roster__V1__KeySecret **out, roster_err_detail *detail)
{
    if (w->s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    roster_uuid id;
    int err = parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    uint32_t grace = req->has_grace_seconds ? req->grace_seconds : STORE_KEY_GRACE_DEFAULT_S;
    if (grace > STORE_KEY_GRACE_MAX_S)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "graceSeconds",
                           "graceSeconds is more than %u (30 days)", STORE_KEY_GRACE_MAX_S);
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    if ((err = load_for_write(w, txn, &id, req->id, arena, &k, detail)) != ROSTER_E_OK)
        goto done;
    if (k->has_revoked_at) {
        err = roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                          "key %.40s is revoked and cannot be rotated", req->id);
        goto done;
    }
    int64_t now = roster_now_ms();
    k->has_previous_secret_hash = k->has_secret_hash;
    k->previous_secret_hash = k->secret_hash;
    k->has_previous_valid_until = 1;
    k->previous_valid_until = now + (int64_t)grace * 1000;
    k->has_rotated_at = 1;
    k->rotated_at = now;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = mint_into(arena, &id, k, &ks)) != ROSTER_E_OK)
        goto done;
    if ((err = put_key(w, txn, &id, k)) != ROSTER_E_OK) {
        roster_secure_wipe(ks->secret, strlen(ks->secret));
        goto done;
    }
    clear_hashes(k);
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
        roster_uuid t;
        if ((err = unpack_key(&tmp, v.mv_data, v.mv_size, &key)) != ROSTER_E_OK)
            break;
        if (!key->has_revoked_at && key->tenant_id != NULL &&
            roster_uuid_parse(&t, key->tenant_id, strlen(key->tenant_id)) == ROSTER_E_OK &&
            roster_uuid_eq(&t, tenant)) {
            if (n++ == 0 && example != NULL && k.mv_size == 16)
                memcpy(example->b, k.mv_data, 16);
        }
        if (key->has_secret_hash)
            roster_secure_wipe(key->secret_hash.data, key->secret_hash.len);
        if (key->has_previous_secret_hash)
            roster_secure_wipe(key->previous_secret_hash.data, key->previous_secret_hash.len);
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

int store_key_touch(store_wtxn *w, const roster_uuid *id, int64_t when)
{
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
    if (err == ROSTER_E_NOT_FOUND) {
        err = ROSTER_E_OK;
    } else if (err == ROSTER_E_OK && (!k->has_last_used_at || k->last_used_at < when)) {
        k->has_last_used_at = 1;
        k->last_used_at = when;
        err = put_key(w, txn, id, k);
    }
    roster_arena_free(&tmp);
    return store_op_end(w, txn, err);
}

int store_key_get(store_rtxn *r, const Roster__V1__GetKeyRequest *req, roster_arena *arena,
                  Roster__V1__ApiKey **out, roster_err_detail *detail)
{
    roster_uuid id;
    int err = parse_id(&id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__ApiKey *k = NULL;
    err = load_key(r->txn, r->s, &id, arena, &k);
    if (err == ROSTER_E_NOT_FOUND)
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "no key with id %.40s", req->id);
    if (err != ROSTER_E_OK)
        return err;
    clear_hashes(k);
    *out = k;
    return ROSTER_E_OK;
}

int store_key_list(store_rtxn *r, const Roster__V1__ListKeysRequest *req, roster_arena *arena,
                   Roster__V1__ListKeysResponse **out, roster_err_detail *detail)
{
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
        if ((err = unpack_key(arena, v.mv_data, v.mv_size, &key)) != ROSTER_E_OK)
            break;
        clear_hashes(key);
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

static bool hash_matches(const ProtobufCBinaryData *stored, const uint8_t *hash)
{
    return stored->len == ROSTER_APIKEY_HASH_LEN && roster_apikey_hash_eq(stored->data, hash);
}

/* The principal key record `k` (id `id`) stands for at `now`, when it is
 * neither revoked nor expired. `current` says whether the presented
 * secret was the current one (a token stands for the key itself: true). */
static int principal_of(store_principal *out, const Roster__V1__ApiKey *k, const roster_uuid *id,
                        bool current, int64_t now, roster_err_detail *detail)
{
    store_principal p;
    memset(&p, 0, sizeof p);
    if (k->has_revoked_at)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "key revoked");
    if (k->has_expires_at && k->expires_at <= now)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "key expired");
    if (!current && (!k->has_previous_valid_until || k->previous_valid_until <= now))
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential",
                           "previous secret past its grace period");
    if (!k->has_role || !role_known(k->role))
        return ROSTER_E_CORRUPT;
    p.key_id = *id;
    p.role = k->role;
    if (k->tenant_id != NULL) {
        if (roster_uuid_parse(&p.tenant, k->tenant_id, strlen(k->tenant_id)) != ROSTER_E_OK)
            return ROSTER_E_CORRUPT;
        p.has_tenant = true;
    }
    if (p.role != ROSTER__V1__ROLE__ROLE_ADMIN && !p.has_tenant)
        return ROSTER_E_CORRUPT;
    p.last_used_at = k->has_last_used_at ? k->last_used_at : 0;
    *out = p;
    return ROSTER_E_OK;
}

int store_key_authenticate(store_rtxn *r, const char *text, size_t len, int64_t now,
                           store_principal *out, roster_err_detail *detail)
{
    roster_uuid id;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = roster_apikey_parse(&id, hash, text, len);
    if (err != ROSTER_E_OK) {
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "malformed key");
        goto fail;
    }
    err = load_key(r->txn, r->s, &id, &tmp, &k);
    if (err == ROSTER_E_NOT_FOUND) {
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "unknown key");
        goto fail;
    }
    if (err != ROSTER_E_OK)
        goto fail;
    /* Both hashes are compared whatever the first gives, so the time
     * taken does not tell which one matched. */
    bool current = k->has_secret_hash && hash_matches(&k->secret_hash, hash);
    bool previous = k->has_previous_secret_hash && hash_matches(&k->previous_secret_hash, hash);
    if (!current && !previous) {
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "wrong secret");
        goto fail;
    }
    err = principal_of(out, k, &id, current, now, detail);
fail:
    if (k != NULL)
        clear_hashes(k);
    roster_secure_wipe(hash, sizeof hash);
    roster_arena_free(&tmp);
    return err;
}

int store_key_principal(store_rtxn *r, const roster_uuid *id, int64_t now, store_principal *out,
                        roster_err_detail *detail)
{
    roster_arena tmp;
    roster_arena_init(&tmp, 512, 0);
    Roster__V1__ApiKey *k = NULL;
    int err = load_key(r->txn, r->s, id, &tmp, &k);
    if (err == ROSTER_E_NOT_FOUND)
        err = roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "unknown key");
    else if (err == ROSTER_E_OK)
        err = principal_of(out, k, id, true, now, detail);
    if (k != NULL)
        clear_hashes(k);
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
