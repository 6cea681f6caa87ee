/* API key records, shared by the backends (apikey_build.h). */
#include "apikey_build.h"

#include "text.h"

#include <string.h>

int apikey_build_parse_id(roster_uuid *out, const char *id, roster_err_detail *detail)
{
    if (id == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id is required");
    if (roster_uuid_parse(out, id, strlen(id)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    return ROSTER_E_OK;
}

int apikey_build_not_found(const char *id_text, roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "no key with id %.40s", id_text);
}

int apikey_build_unpack(roster_arena *arena, const void *bytes, size_t len,
                        Roster__V1__ApiKey **out)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__ApiKey *k = roster__v1__api_key__unpack(&alloc, len, bytes);
    if (k == NULL)
        return ROSTER_E_CORRUPT;
    *out = k;
    return ROSTER_E_OK;
}

void apikey_build_clear_hashes(Roster__V1__ApiKey *k)
{
    if (k->has_secret_hash)
        roster_secure_wipe(k->secret_hash.data, k->secret_hash.len);
    if (k->has_previous_secret_hash)
        roster_secure_wipe(k->previous_secret_hash.data, k->previous_secret_hash.len);
    k->has_secret_hash = k->has_previous_secret_hash = 0;
    k->secret_hash.data = k->previous_secret_hash.data = NULL;
    k->secret_hash.len = k->previous_secret_hash.len = 0;
}

static bool role_known(Roster__V1__Role r)
{
    return r == ROSTER__V1__ROLE__ROLE_ADMIN || r == ROSTER__V1__ROLE__ROLE_WRITER ||
           r == ROSTER__V1__ROLE__ROLE_READER;
}

int apikey_build_check_create(const Roster__V1__CreateKeyRequest *req, int64_t now,
                              roster_uuid *tenant, bool *has_tenant, roster_err_detail *detail)
{
    size_t nlen = req->name ? strlen(req->name) : 0;
    if (nlen == 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name", "name is required");
    if (nlen > APIKEY_NAME_MAX)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name",
                           "name is longer than %d bytes", APIKEY_NAME_MAX);
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
    bool admin = req->role == ROSTER__V1__ROLE__ROLE_ADMIN;
    if (admin && req->tenant_id != NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                           "an admin key sees every tenant and takes no tenantId");
    if (!admin) {
        if (req->tenant_id == NULL)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                               "a writer or reader key needs a tenantId");
        if (roster_uuid_parse(tenant, req->tenant_id, strlen(req->tenant_id)) != ROSTER_E_OK)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                               "tenantId is not a UUID (8-4-4-4-12 hex digits)");
    }
    if (req->has_expires_at && req->expires_at <= now)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "expiresAt",
                           "expiresAt is not in the future");
    *has_tenant = !admin;
    return ROSTER_E_OK;
}

int apikey_build_tenant_missing(const Roster__V1__CreateKeyRequest *req, roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_NOT_FOUND, "tenantId", "tenant %.40s does not exist",
                       req->tenant_id);
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

int apikey_build_create(roster_arena *arena, const Roster__V1__CreateKeyRequest *req,
                        const roster_uuid *id, const roster_uuid *tenant, int64_t now,
                        Roster__V1__ApiKey **key, Roster__V1__KeySecret **secret)
{
    size_t nlen = strlen(req->name);
    char *id_text = roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1);
    char *tenant_text = tenant ? roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1) : NULL;
    char *name = roster_arena_alloc(arena, nlen + 1);
    Roster__V1__ApiKey *k = roster_arena_alloc(arena, sizeof *k);
    if (id_text == NULL || (tenant && tenant_text == NULL) || name == NULL || k == NULL)
        return ROSTER_E_NOMEM;
    roster_uuid_format(id_text, id);
    if (tenant)
        roster_uuid_format(tenant_text, tenant);
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
    int err = mint_into(arena, id, k, secret);
    if (err == ROSTER_E_OK)
        *key = k;
    return err;
}

int apikey_build_check_rotate(const Roster__V1__RotateKeyRequest *req, roster_uuid *id,
                              uint32_t *grace, roster_err_detail *detail)
{
    int err = apikey_build_parse_id(id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    uint32_t g = req->has_grace_seconds ? req->grace_seconds : STORE_KEY_GRACE_DEFAULT_S;
    if (g > STORE_KEY_GRACE_MAX_S)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "graceSeconds",
                           "graceSeconds is more than %u (30 days)", STORE_KEY_GRACE_MAX_S);
    *grace = g;
    return ROSTER_E_OK;
}

int apikey_build_rotate(roster_arena *arena, Roster__V1__ApiKey *k, const roster_uuid *id,
                        const char *id_text, uint32_t grace, int64_t now,
                        Roster__V1__KeySecret **secret, roster_err_detail *detail)
{
    if (k->has_revoked_at)
        return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                           "key %.40s is revoked and cannot be rotated", id_text);
    k->has_previous_secret_hash = k->has_secret_hash;
    k->previous_secret_hash = k->secret_hash;
    k->has_previous_valid_until = 1;
    k->previous_valid_until = now + (int64_t)grace * 1000;
    k->has_rotated_at = 1;
    k->rotated_at = now;
    return mint_into(arena, id, k, secret);
}

bool apikey_build_revoke(Roster__V1__ApiKey *k, int64_t now)
{
    if (k->has_revoked_at)
        return false;
    k->has_revoked_at = 1;
    k->revoked_at = now;
    return true;
}

bool apikey_build_touch(Roster__V1__ApiKey *k, int64_t when)
{
    if (k->has_last_used_at && k->last_used_at >= when)
        return false;
    k->has_last_used_at = 1;
    k->last_used_at = when;
    return true;
}

bool apikey_build_live_for(const Roster__V1__ApiKey *k, const roster_uuid *tenant)
{
    roster_uuid t;
    return !k->has_revoked_at && k->tenant_id != NULL &&
           roster_uuid_parse(&t, k->tenant_id, strlen(k->tenant_id)) == ROSTER_E_OK &&
           roster_uuid_eq(&t, tenant);
}

int apikey_build_parse_text(roster_uuid *id, uint8_t hash[ROSTER_APIKEY_HASH_LEN], const char *text,
                            size_t len, roster_err_detail *detail)
{
    if (roster_apikey_parse(id, hash, text, len) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "malformed key");
    return ROSTER_E_OK;
}

static int unknown_key(roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "unknown key");
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

int apikey_build_authenticate(const Roster__V1__ApiKey *k, const roster_uuid *id,
                              const uint8_t hash[ROSTER_APIKEY_HASH_LEN], int64_t now,
                              store_principal *out, roster_err_detail *detail)
{
    if (k == NULL)
        return unknown_key(detail);
    /* Both hashes are compared whatever the first gives, so the time
     * taken does not tell which one matched. */
    bool current = k->has_secret_hash && hash_matches(&k->secret_hash, hash);
    bool previous = k->has_previous_secret_hash && hash_matches(&k->previous_secret_hash, hash);
    if (!current && !previous)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "wrong secret");
    return principal_of(out, k, id, current, now, detail);
}

int apikey_build_principal(const Roster__V1__ApiKey *k, const roster_uuid *id, int64_t now,
                           store_principal *out, roster_err_detail *detail)
{
    if (k == NULL)
        return unknown_key(detail);
    return principal_of(out, k, id, true, now, detail);
}

int apikey_build_check_restore(const Roster__V1__ApiKey *k, roster_uuid *id,
                               roster_err_detail *detail)
{
    int err = apikey_build_parse_id(id, k->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (k->name == NULL || k->name[0] == '\0' || strlen(k->name) > APIKEY_NAME_MAX)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "name",
                           "name is required, at most %d bytes", APIKEY_NAME_MAX);
    bool admin = k->role == ROSTER__V1__ROLE__ROLE_ADMIN;
    if (!k->has_role || (!admin && k->role != ROSTER__V1__ROLE__ROLE_WRITER &&
                         k->role != ROSTER__V1__ROLE__ROLE_READER))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "role",
                           "role must be admin, writer or reader");
    roster_uuid tenant;
    if (admin != (k->tenant_id == NULL) ||
        (k->tenant_id != NULL &&
         roster_uuid_parse(&tenant, k->tenant_id, strlen(k->tenant_id)) != ROSTER_E_OK))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tenantId",
                           "writer and reader keys name a tenant (a UUID), admin keys none");
    if (k->secret_hash.len != ROSTER_APIKEY_HASH_LEN ||
        (k->previous_secret_hash.len != 0 && k->previous_secret_hash.len != ROSTER_APIKEY_HASH_LEN))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "secretHash",
                           "secret hashes are %d bytes", ROSTER_APIKEY_HASH_LEN);
    return ROSTER_E_OK;
}
