#include "record.h"

#include "clock.h"

#include <stdlib.h>
#include <string.h>

static int set_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static int set_bool(json_t *o, const char *key, protobuf_c_boolean has, protobuf_c_boolean v)
{
    return json_object_set_new(o, key, has ? json_boolean(v) : json_null());
}

static int set_date(json_t *o, const char *key, protobuf_c_boolean has, int64_t ms)
{
    char buf[32];
    if (!has || roster_time_format_iso(buf, sizeof buf, ms) == 0)
        return json_object_set_new(o, key, json_null());
    return json_object_set_new(o, key, json_string(buf));
}

json_t *ctl_user_json(const Roster__V1__User *u, bool typename)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = 0;
    if (typename)
        rc |= set_str(o, "__typename", CTL_TYPENAME_USER);
    rc |= set_str(o, "id", u->id);
    rc |= set_str(o, "reference", u->reference);
    rc |= set_str(o, "email", u->email);
    rc |= set_str(o, "firstName", u->first_name);
    rc |= set_str(o, "lastName", u->last_name);
    rc |= set_str(o, "phone", u->phone);
    rc |= set_str(o, "locale", u->locale);
    rc |= set_str(o, "timezone", u->timezone);
    rc |= set_bool(o, "isOptedIn", u->has_is_opted_in, u->is_opted_in);
    rc |= set_bool(o, "active", u->has_active, u->active);
    rc |= set_str(o, "avatarUrl", u->avatar_url);
    if (u->custom_data != NULL) {
        json_t *cd = json_loads(u->custom_data, JSON_DECODE_ANY, NULL);
        rc |= json_object_set_new(o, "customData", cd ? cd : json_string(u->custom_data));
    } else {
        rc |= json_object_set_new(o, "customData", json_null());
    }
    rc |= set_bool(o, "twoFactorEnabled", u->has_two_factor_enabled, u->two_factor_enabled);
    rc |= set_str(o, "tenantId", u->tenant_id);
    rc |= set_date(o, "createdAt", u->has_created_at, u->created_at);
    rc |= set_date(o, "updatedAt", u->has_updated_at, u->updated_at);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ctl_tenant_json(const Roster__V1__Tenant *t, bool typename)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = 0;
    if (typename)
        rc |= set_str(o, "__typename", CTL_TYPENAME_TENANT);
    rc |= set_str(o, "id", t->id);
    rc |= set_str(o, "name", t->name);
    rc |= set_str(o, "reference", t->reference);
    rc |= json_object_set_new(o, "isDefault", json_boolean(t->has_is_default && t->is_default));
    rc |= set_date(o, "createdAt", t->has_created_at, t->created_at);
    rc |= set_date(o, "updatedAt", t->has_updated_at, t->updated_at);
    if (t->has_user_count)
        rc |= json_object_set_new(o, "users",
                                  json_pack("{s:I}", "totalCount", (json_int_t)t->user_count));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---------------------------------------------------------------- parsing */

static int get_str(const char **out, const json_t *v, const char *key, roster_err_detail *d)
{
    if (json_is_null(v)) {
        *out = NULL;
        return ROSTER_E_OK;
    }
    if (!json_is_string(v))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s must be a string or null", key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s holds a NUL character", key);
    *out = s;
    return ROSTER_E_OK;
}

static int get_bool(protobuf_c_boolean *has, protobuf_c_boolean *out, const json_t *v,
                    const char *key, roster_err_detail *d)
{
    if (json_is_null(v)) {
        *has = 0;
        return ROSTER_E_OK;
    }
    if (!json_is_boolean(v))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "%s must be true, false or null",
                           key);
    *has = 1;
    *out = json_is_true(v);
    return ROSTER_E_OK;
}

static int get_date(protobuf_c_boolean *has, int64_t *out, const json_t *v, const char *key,
                    roster_err_detail *d)
{
    if (json_is_null(v)) {
        *has = 0;
        return ROSTER_E_OK;
    }
    int64_t ms;
    if (!json_is_string(v) ||
        roster_time_parse_iso(&ms, json_string_value(v), json_string_length(v)) != ROSTER_E_OK)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key,
                           "%s must be an ISO-8601 time such as 2026-11-27T04:24:50.123Z", key);
    *has = 1;
    *out = ms;
    return ROSTER_E_OK;
}

int ctl_user_from_json(Roster__V1__User *out, const json_t *obj, roster_arena *arena,
                       roster_err_detail *d)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    if (!json_is_object(obj))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a user must be a JSON object");
    const char *key;
    const json_t *v;
    int err = ROSTER_E_OK;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strcmp(key, "__typename") == 0 || strcmp(key, "synced") == 0 ||
            strcmp(key, "tenant") == 0)
            continue;
        else if (strcmp(key, "id") == 0)
            err = get_str((const char **)&u.id, v, key, d);
        else if (strcmp(key, "reference") == 0)
            err = get_str((const char **)&u.reference, v, key, d);
        else if (strcmp(key, "email") == 0)
            err = get_str((const char **)&u.email, v, key, d);
        else if (strcmp(key, "firstName") == 0)
            err = get_str((const char **)&u.first_name, v, key, d);
        else if (strcmp(key, "lastName") == 0)
            err = get_str((const char **)&u.last_name, v, key, d);
        else if (strcmp(key, "phone") == 0)
            err = get_str((const char **)&u.phone, v, key, d);
        else if (strcmp(key, "locale") == 0)
            err = get_str((const char **)&u.locale, v, key, d);
        else if (strcmp(key, "timezone") == 0)
            err = get_str((const char **)&u.timezone, v, key, d);
        else if (strcmp(key, "avatarUrl") == 0)
            err = get_str((const char **)&u.avatar_url, v, key, d);
        else if (strcmp(key, "tenantId") == 0)
            err = get_str((const char **)&u.tenant_id, v, key, d);
        else if (strcmp(key, "isOptedIn") == 0)
            err = get_bool(&u.has_is_opted_in, &u.is_opted_in, v, key, d);
        else if (strcmp(key, "active") == 0)
            err = get_bool(&u.has_active, &u.active, v, key, d);
        else if (strcmp(key, "twoFactorEnabled") == 0)
            err = get_bool(&u.has_two_factor_enabled, &u.two_factor_enabled, v, key, d);
        else if (strcmp(key, "createdAt") == 0)
            err = get_date(&u.has_created_at, &u.created_at, v, key, d);
        else if (strcmp(key, "updatedAt") == 0)
            err = get_date(&u.has_updated_at, &u.updated_at, v, key, d);
        else if (strcmp(key, "customData") == 0) {
            if (json_is_null(v)) {
                u.custom_data = NULL;
            } else if (!json_is_object(v)) {
                err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key,
                                  "customData must be a JSON object or null");
            } else {
                char *text = json_dumps(v, JSON_COMPACT);
                if (text == NULL)
                    return ROSTER_E_NOMEM;
                u.custom_data = roster_arena_strndup(arena, text, strlen(text));
                free(text);
                if (u.custom_data == NULL)
                    return ROSTER_E_NOMEM;
            }
        } else
            err =
                roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "unknown UserModel field '%s'", key);
        if (err != ROSTER_E_OK)
            return err;
    }
    *out = u;
    return ROSTER_E_OK;
}

int ctl_tenant_from_json(Roster__V1__Tenant *out, const json_t *obj, roster_err_detail *d)
{
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    if (!json_is_object(obj))
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a tenant must be a JSON object");
    const char *key;
    const json_t *v;
    int err = ROSTER_E_OK;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strcmp(key, "__typename") == 0 || strcmp(key, "users") == 0)
            continue;
        else if (strcmp(key, "id") == 0)
            err = get_str((const char **)&t.id, v, key, d);
        else if (strcmp(key, "name") == 0)
            err = get_str((const char **)&t.name, v, key, d);
        else if (strcmp(key, "reference") == 0)
            err = get_str((const char **)&t.reference, v, key, d);
        else if (strcmp(key, "isDefault") == 0)
            err = get_bool(&t.has_is_default, &t.is_default, v, key, d);
        else if (strcmp(key, "createdAt") == 0)
            err = get_date(&t.has_created_at, &t.created_at, v, key, d);
        else if (strcmp(key, "updatedAt") == 0)
            err = get_date(&t.has_updated_at, &t.updated_at, v, key, d);
        else
            err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, key, "unknown TenantModel field '%s'",
                              key);
        if (err != ROSTER_E_OK)
            return err;
    }
    *out = t;
    return ROSTER_E_OK;
}

int ctl_user_unpack(Roster__V1__User **out, const void *bytes, size_t len, roster_arena *arena)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__User *u = roster__v1__user__unpack(&alloc, len, bytes);
    if (u == NULL)
        return ROSTER_E_CORRUPT;
    *out = u;
    return ROSTER_E_OK;
}

int ctl_tenant_unpack(Roster__V1__Tenant **out, const void *bytes, size_t len, roster_arena *arena)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__Tenant *t = roster__v1__tenant__unpack(&alloc, len, bytes);
    if (t == NULL)
        return ROSTER_E_CORRUPT;
    *out = t;
    return ROSTER_E_OK;
}
