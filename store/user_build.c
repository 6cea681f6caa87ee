/* Records of user writes, shared by the backends (user_build.h). */
#include "user_build.h"

#include "fields.h"
#include "validate.h"

#include <string.h>

int user_build_parse_id(roster_uuid *out, const char *text, const char *field,
                        roster_err_detail *detail)
{
    if (text == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s is required", field);
    if (roster_uuid_parse(out, text, strlen(text)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is not a UUID (8-4-4-4-12 hex digits)", field);
    return ROSTER_E_OK;
}

int user_build_tenant_missing(const roster_uuid *tenant, roster_err_detail *detail)
{
    char text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(text, tenant);
    const char *field = model_user.fields[MODEL_USER_tenantId].name;
    return roster_fail(detail, ROSTER_E_NOT_FOUND, field, "tenant %s does not exist", text);
}

/* Copies into the new record u every field of create request req that
 * the request holds (store_fields.copy_from/copy_to). Strings are shared
 * with req. */
static void copy_fields(Roster__V1__User *u, const Roster__V1__CreateUserRequest *req,
                        const store_fields *sf)
{
    const char *src = (const char *)req;
    char *dst = (char *)u;
    for (size_t i = 0; i < sf->copy_from.n; i++) {
        const msg_slot *a = &sf->copy_from.s[i], *b = &sf->copy_to.s[i];
        if (a->ptr) {
            *(char **)(void *)(dst + b->off) = *(char *const *)(const void *)(src + a->off);
        } else if (*(const protobuf_c_boolean *)(const void *)(src + a->has_off)) {
            memcpy(dst + b->off, src + a->off, a->size);
            *(protobuf_c_boolean *)(void *)(dst + b->has_off) = 1;
        }
    }
}

int user_build_check_create(const roster_uuid *scope, const Roster__V1__CreateUserRequest *req,
                            roster_uuid *tenant, bool *has_tenant, roster_err_detail *detail)
{
    const store_fields *sf = store_fields_get();
    roster_uuid ids[MODEL_MAX_FIELDS];
    int err = validate_fields(ids, &model_user, &sf->check_create_user, &req->base,
                              VALIDATE_REQUIRED | VALIDATE_VALUES | VALIDATE_REFS, detail);
    if (err != ROSTER_E_OK)
        return err;
    *has_tenant = false;
    if (req->tenant_id) {
        *tenant = ids[MODEL_USER_tenantId];
        if (scope && !roster_uuid_eq(scope, tenant))
            return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                               "tenantId is outside the caller's tenant");
        *has_tenant = true;
    } else if (scope) {
        *tenant = *scope;
        *has_tenant = true;
    }
    return ROSTER_E_OK;
}

void user_build_create(Roster__V1__User *u, const Roster__V1__CreateUserRequest *req,
                       const roster_uuid *id, const roster_uuid *tenant, int64_t now, char *id_text,
                       char *tenant_text)
{
    roster_uuid_format(id_text, id);
    copy_fields(u, req, store_fields_get());
    u->id = id_text;
    /* Defaults of a create: isOptedIn and twoFactorEnabled false, active
     * true. */
    u->has_is_opted_in = u->has_two_factor_enabled = 1;
    if (!u->has_active) {
        u->has_active = 1;
        u->active = 1;
    }
    if (tenant) {
        roster_uuid_format(tenant_text, tenant);
        u->tenant_id = tenant_text;
    }
    u->has_created_at = u->has_updated_at = 1;
    u->created_at = u->updated_at = now;
}

int user_build_check_update(const roster_uuid *scope, const Roster__V1__UpdateUserRequest *req,
                            roster_uuid *id, uint32_t *cleared, roster_uuid *tenant,
                            roster_err_detail *detail)
{
    const store_fields *sf = store_fields_get();
    int err;
    roster_uuid ids[MODEL_MAX_FIELDS];
    if ((err = user_build_parse_id(id, req->id, "id", detail)) != ROSTER_E_OK)
        return err;
    uint32_t cl = 0; /* bit i: model_user.fields[i] is cleared */
    for (size_t i = 0; i < req->n_clear; i++) {
        int fi = store_fields_enum(sf->user_field, req->clear[i]);
        if (fi < 0)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "clear",
                               "clear names an unknown field (%d)", (int)req->clear[i]);
        const model_field *f = &model_user.fields[fi];
        if (!(f->flags & MODEL_CLEARABLE))
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, f->name, "%s cannot be null",
                               f->name);
        const ProtobufCFieldDescriptor *rfd = sf->update_user.fields[fi];
        if (rfd && model_pb_has(&req->base, rfd))
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, f->name,
                               "%s is both given and cleared", f->name);
        cl |= 1u << fi;
    }
    if ((err = validate_fields(ids, &model_user, &sf->check_update_user, &req->base,
                               VALIDATE_VALUES | VALIDATE_REFS, detail)) != ROSTER_E_OK)
        return err;
    if (req->tenant_id) {
        *tenant = ids[MODEL_USER_tenantId];
        if (scope && !roster_uuid_eq(scope, tenant))
            return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                               "tenantId is outside the caller's tenant");
    }
    if ((cl & (1u << MODEL_USER_tenantId)) && scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                           "a tenant-bound caller cannot remove a user from its tenant");
    *cleared = cl;
    return ROSTER_E_OK;
}

void user_build_update(Roster__V1__User *u, const Roster__V1__UpdateUserRequest *req,
                       uint32_t cleared, const roster_uuid *tenant, char *tenant_text, int64_t now)
{
    const store_fields *sf = store_fields_get();
    for (size_t i = 0; i < model_user.n_fields; i++) {
        const ProtobufCFieldDescriptor *ufd = sf->user.fields[i], *rfd = sf->update_user.fields[i];
        if (!(model_user.fields[i].flags & MODEL_UPDATABLE) || ufd == NULL || rfd == NULL)
            continue;
        if (model_pb_has(&req->base, rfd))
            model_pb_copy(&u->base, ufd, &req->base, rfd);
        else if (cleared & (1u << i))
            model_pb_clear(&u->base, ufd);
    }
    if (req->tenant_id) {
        roster_uuid_format(tenant_text, tenant); /* canonical lower case */
        u->tenant_id = tenant_text;
    }
    int64_t old = u->has_updated_at ? u->updated_at : 0;
    u->has_updated_at = 1;
    u->updated_at = now > old ? now : old;
}

int user_build_check_restore(const Roster__V1__User *user, roster_uuid *id, roster_uuid *tenant,
                             bool *has_tenant, roster_err_detail *detail)
{
    int err;
    if ((err = user_build_parse_id(id, user->id, "id", detail)) != ROSTER_E_OK)
        return err;
    const store_fields *sf = store_fields_get();
    roster_uuid ids[MODEL_MAX_FIELDS];
    if ((err = validate_fields(NULL, &model_user, &sf->check_user, &user->base,
                               VALIDATE_REQUIRED | VALIDATE_VALUES, detail)) != ROSTER_E_OK)
        return err;
    if (!user->has_created_at || !user->has_updated_at)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "createdAt",
                           "createdAt and updatedAt are required");
    if ((err = validate_fields(ids, &model_user, &sf->check_user, &user->base, VALIDATE_REFS,
                               detail)) != ROSTER_E_OK)
        return err;
    *has_tenant = user->tenant_id != NULL;
    if (*has_tenant)
        *tenant = ids[MODEL_USER_tenantId];
    return ROSTER_E_OK;
}

void user_build_restore(Roster__V1__User *u, const Roster__V1__User *user, const roster_uuid *id,
                        const roster_uuid *tenant, char *id_text, char *tenant_text)
{
    *u = *user;
    roster_uuid_format(id_text, id);
    u->id = id_text;
    if (tenant) {
        roster_uuid_format(tenant_text, tenant);
        u->tenant_id = tenant_text;
    }
}
