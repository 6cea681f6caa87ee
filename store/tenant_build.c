/* Records of tenant writes, shared by the backends (tenant_build.h). */
#include "tenant_build.h"

#include "fields.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

int tenant_build_not_found(const char *id_text, roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "tenant %s does not exist", id_text);
}

int tenant_build_unpack(roster_arena *arena, const void *bytes, size_t len,
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

int tenant_build_parse_id(roster_uuid *out, const char *text, roster_err_detail *detail)
{
    if (text == NULL || roster_uuid_parse(out, text, strlen(text)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id",
                           "id is not a UUID (8-4-4-4-12 hex digits)");
    return ROSTER_E_OK;
}

/* updatedAt becomes now, or stays when the stored one is later. */
static void touch(Roster__V1__Tenant *t, int64_t now)
{
    t->has_updated_at = 1;
    if (now > t->updated_at)
        t->updated_at = now;
}

int tenant_build_check_create(const roster_uuid *scope, const Roster__V1__CreateTenantRequest *req,
                              roster_err_detail *detail)
{
    if (scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "",
                           "a tenant-bound caller cannot create tenants");
    return validate_fields(NULL, &model_tenant, &store_fields_get()->check_create_tenant,
                           &req->base, VALIDATE_REQUIRED | VALIDATE_VALUES, detail);
}

void tenant_build_create(Roster__V1__Tenant *t, const Roster__V1__CreateTenantRequest *req,
                         const roster_uuid *id, int64_t now, char *id_text)
{
    roster_uuid_format(id_text, id);
    t->id = id_text;
    t->name = req->name;
    t->reference = req->reference;
    t->has_is_default = 1;
    t->is_default = req->has_is_default && req->is_default;
    t->has_created_at = t->has_updated_at = 1;
    t->created_at = t->updated_at = now;
}

int tenant_build_check_update(const roster_uuid *scope, const Roster__V1__UpdateTenantRequest *req,
                              roster_uuid *id, roster_err_detail *detail)
{
    int err = tenant_build_parse_id(id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    err = validate_fields(NULL, &model_tenant, &store_fields_get()->check_update_tenant, &req->base,
                          VALIDATE_VALUES, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (req->reference && req->has_clear_reference && req->clear_reference)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "reference",
                           "reference is both given and cleared");
    if (scope && !roster_uuid_eq(scope, id))
        return tenant_build_not_found(req->id, detail);
    if (scope && req->has_is_default)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "isDefault",
                           "a tenant-bound caller cannot change the default tenant");
    return ROSTER_E_OK;
}

void tenant_build_update(Roster__V1__Tenant *t, const Roster__V1__UpdateTenantRequest *req,
                         int64_t now)
{
    if (req->name)
        t->name = req->name;
    if (req->reference)
        t->reference = req->reference;
    else if (req->has_clear_reference && req->clear_reference)
        t->reference = NULL;
    if (req->has_is_default) {
        t->has_is_default = 1;
        t->is_default = req->is_default;
    }
    touch(t, now);
}

void tenant_build_undefault(Roster__V1__Tenant *t, int64_t now)
{
    t->has_is_default = 1;
    t->is_default = 0;
    touch(t, now);
}

int tenant_build_check_restore(const Roster__V1__Tenant *tenant, roster_uuid *id,
                               roster_err_detail *detail)
{
    int err = tenant_build_parse_id(id, tenant->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    static const roster_uuid nil;
    if (roster_uuid_eq(id, &nil))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id must not be the nil UUID");
    err = validate_fields(NULL, &model_tenant, &store_fields_get()->check_tenant, &tenant->base,
                          VALIDATE_REQUIRED | VALIDATE_VALUES, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (!tenant->has_created_at || !tenant->has_updated_at)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "createdAt",
                           "createdAt and updatedAt are required");
    return ROSTER_E_OK;
}

void tenant_build_restore(Roster__V1__Tenant *t, const Roster__V1__Tenant *tenant,
                          const roster_uuid *id, char *id_text)
{
    *t = *tenant;
    roster_uuid_format(id_text, id);
    t->id = id_text;
    t->has_user_count = 0;
    t->has_is_default = 1;
    t->is_default = tenant->has_is_default && tenant->is_default;
}

int tenant_build_exists(const char *id_text, roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_ALREADY_EXISTS, "id", "tenant %s already exists", id_text);
}

int tenant_build_check_delete(const roster_uuid *scope, const Roster__V1__DeleteTenantRequest *req,
                              roster_uuid *id, char *id_text, roster_arena *arena,
                              Roster__V1__DeleteTenantResponse **resp, roster_err_detail *detail)
{
    if (req->id == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "id", "id is required");
    int err = tenant_build_parse_id(id, req->id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "",
                           "a tenant-bound caller cannot delete tenants");
    roster_uuid_format(id_text, id);
    if (resp) {
        Roster__V1__DeleteTenantResponse *r = roster_arena_alloc(arena, sizeof *r);
        char *text = roster_arena_alloc(arena, ROSTER_UUID_TEXT_LEN + 1);
        if (r == NULL || text == NULL)
            return ROSTER_E_NOMEM;
        roster__v1__delete_tenant_response__init(r);
        memcpy(text, id_text, ROSTER_UUID_TEXT_LEN + 1);
        r->id = text;
        *resp = r;
    }
    return ROSTER_E_OK;
}

int tenant_build_refuse_users(const char *id_text, uint64_t users, roster_err_detail *detail)
{
    char n[32] = "";
    if (users > 0)
        snprintf(n, sizeof n, " %llu", (unsigned long long)users);
    return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                       "tenant %s still has%s user(s), deactivated ones included; delete "
                       "them or move them to another tenant first",
                       id_text, n);
}

int tenant_build_refuse_default(const char *id_text, roster_err_detail *detail)
{
    return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                       "tenant %s is the default tenant; make it an ordinary one first "
                       "(update it with isDefault false)",
                       id_text);
}

int tenant_build_refuse_keys(const char *id_text, uint64_t keys, const roster_uuid *example,
                             roster_err_detail *detail)
{
    char key_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(key_text, example);
    return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "id",
                       "tenant %s is named by %llu API key(s) that are not revoked (such as "
                       "%s); revoke them first",
                       id_text, (unsigned long long)keys, key_text);
}
