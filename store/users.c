/* User writes (create, update, restore) and point reads. */
#include "keys.h"
#include "record.h"
#include "store_internal.h"
#include "validate.h"

#include "clock.h"
#include "roster_limits.h"

#include <string.h>

/* Checks the optional text fields shared by create, update and restore. */
static int check_optional(const char *first_name, const char *last_name, const char *phone,
                          const char *locale, const char *timezone, const char *avatar_url,
                          const char *custom_data, roster_err_detail *detail)
{
    int err = ROSTER_E_OK;
    if (first_name && (err = validate_text(first_name, ROSTER_MAX_NAME, false, "firstName",
                                           detail)) != ROSTER_E_OK)
        return err;
    if (last_name &&
        (err = validate_text(last_name, ROSTER_MAX_NAME, false, "lastName", detail)) != ROSTER_E_OK)
        return err;
    if (phone &&
        (err = validate_text(phone, ROSTER_MAX_PHONE, false, "phone", detail)) != ROSTER_E_OK)
        return err;
    if (locale && (err = validate_locale(locale, "locale", detail)) != ROSTER_E_OK)
        return err;
    if (timezone && (err = validate_timezone(timezone, "timezone", detail)) != ROSTER_E_OK)
        return err;
    if (avatar_url && (err = validate_text(avatar_url, ROSTER_MAX_AVATAR_URL, false, "avatarUrl",
                                           detail)) != ROSTER_E_OK)
        return err;
    if (custom_data &&
        (err = validate_custom_data(custom_data, "customData", detail)) != ROSTER_E_OK)
        return err;
    return ROSTER_E_OK;
}

static int parse_id(roster_uuid *out, const char *text, const char *field,
                    roster_err_detail *detail)
{
    if (text == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field, "%s is required", field);
    if (roster_uuid_parse(out, text, strlen(text)) != ROSTER_E_OK)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is not a UUID (8-4-4-4-12 hex digits)", field);
    return ROSTER_E_OK;
}

static int tenant_exists(MDB_txn *txn, const store *s, const roster_uuid *id,
                         roster_err_detail *detail)
{
    MDB_val k = {16, (void *)id->b}, v;
    int rc = mdb_get(txn, s->tenants, &k, &v);
    if (rc == MDB_NOTFOUND) {
        char text[ROSTER_UUID_TEXT_LEN + 1];
        roster_uuid_format(text, id);
        return roster_fail(detail, ROSTER_E_NOT_FOUND, "tenantId", "tenant %s does not exist",
                           text);
    }
    return store_mdb_err(rc);
}

/* Writes user record u (replacing the record `old` when not NULL) and its
 * index entries and counters, in txn. */
static int user_put(store_wtxn *w, MDB_txn *txn, const Roster__V1__User *u, const user_view *old,
                    const uint8_t **out_bytes, size_t *out_len, roster_err_detail *detail)
{
    store *s = w->s;
    key_entry old_e[USER_ENTRIES], new_e[USER_ENTRIES];
    bool defer = old == NULL; /* store_pending_add: written at group commit */
    int err;
    static _Thread_local uint8_t old_buf[USER_ENTRIES * KEY_MAX], new_buf[USER_ENTRIES * KEY_MAX];
    size_t n_old = old ? key_user_entries(old_e, old_buf, s, old) : 0;
    roster_uuid old_scope;
    rec_bool old_active = -1;
    if (old) {
        key_scope(&old_scope, old);
        old_active = old->active;
    }

    size_t len = protobuf_c_message_get_packed_size(&u->base);
    uint8_t *bytes;
    if ((err = store_wtxn_scratch(w, len, &bytes)) != ROSTER_E_OK)
        return err;
    protobuf_c_message_pack(&u->base, bytes);
    user_view nv;
    if ((err = user_view_parse(&nv, bytes, len)) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    size_t n_new = key_user_entries(new_e, new_buf, s, &nv);

    for (size_t i = 0; i < n_new; i++) {
        if (!new_e[i].unique)
            continue;
        MDB_val k = {new_e[i].klen, new_e[i].key}, v;
        int rc = mdb_get(txn, new_e[i].dbi, &k, &v);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc != 0)
            return store_mdb_err(rc);
        if (v.mv_size == sizeof nv.id && roster_uuid_eq(v.mv_data, &nv.id))
            continue;
        bool is_ref = new_e[i].dbi == s->uniq_reference;
        return roster_fail(detail, ROSTER_E_ALREADY_EXISTS, is_ref ? "reference" : "email",
                           is_ref ? "reference is already used in this tenant"
                                  : "email is already used in this tenant");
    }

    MDB_val k = {16, nv.id.b}, v = {len, bytes};
    int rc = mdb_put(txn, s->users, &k, &v, 0);
    if (rc != 0)
        return store_mdb_err(rc);
    for (size_t i = 0; i < n_new; i++) {
        if (i < n_old) {
            bool same_key = old_e[i].klen == new_e[i].klen &&
                            memcmp(old_e[i].key, new_e[i].key, old_e[i].klen) == 0;
            if (same_key && old_e[i].dlen == new_e[i].dlen &&
                memcmp(old_e[i].data, new_e[i].data, new_e[i].dlen) == 0)
                continue;
            if (!same_key) {
                MDB_val ok = {old_e[i].klen, old_e[i].key};
                rc = mdb_del(txn, old_e[i].dbi, &ok, NULL);
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

    roster_uuid new_scope;
    key_scope(&new_scope, &nv);
    int64_t new_act = nv.active != 0, old_act = old_active != 0;
    if (old == NULL) {
        err = store_counter_add(w, &new_scope, 1, new_act);
    } else if (!roster_uuid_eq(&old_scope, &new_scope)) {
        err = store_counter_add(w, &old_scope, -1, -old_act);
        if (err == ROSTER_E_OK)
            err = store_counter_add(w, &new_scope, 1, new_act);
    } else {
        err = store_counter_add(w, &new_scope, 0, new_act - old_act);
    }
    if (err != ROSTER_E_OK)
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

int store_user_create(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__CreateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail)
{
    int err;
    if (req->reference == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "reference", "reference is required");
    if ((err = validate_text(req->reference, ROSTER_MAX_REFERENCE, true, "reference", detail)) !=
        ROSTER_E_OK)
        return err;
    if (req->email == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "email", "email is required");
    if ((err = validate_email(req->email, "email", detail)) != ROSTER_E_OK)
        return err;
    if ((err = check_optional(req->first_name, req->last_name, req->phone, req->locale,
                              req->timezone, req->avatar_url, req->custom_data, detail)) !=
        ROSTER_E_OK)
        return err;
    roster_uuid tenant;
    bool has_tenant = false;
    if (req->tenant_id) {
        if ((err = parse_id(&tenant, req->tenant_id, "tenantId", detail)) != ROSTER_E_OK)
            return err;
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

    int64_t now = roster_now_ms();
    roster_uuid id;
    roster_uuid_v7(&id, now);
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, &id);
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = id_text;
    u.reference = req->reference;
    u.email = req->email;
    u.first_name = req->first_name;
    u.last_name = req->last_name;
    u.phone = req->phone;
    u.locale = req->locale;
    u.timezone = req->timezone;
    u.has_is_opted_in = 1;
    u.is_opted_in = req->has_is_opted_in ? req->is_opted_in : 0;
    u.has_active = 1;
    u.active = req->has_active ? req->active : 1;
    u.has_two_factor_enabled = 1;
    u.two_factor_enabled = req->has_two_factor_enabled ? req->two_factor_enabled : 0;
    u.avatar_url = req->avatar_url;
    u.custom_data = req->custom_data;
    if (has_tenant) {
        roster_uuid_format(tenant_text, &tenant);
        u.tenant_id = tenant_text;
    }
    u.has_created_at = u.has_updated_at = 1;
    u.created_at = u.updated_at = now;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, txn, &u, NULL, &bytes, &len, detail);
    if (err == ROSTER_E_OK && out)
        err = unpack_user(arena, bytes, len, out);
done:
    return store_op_end(w, txn, err);
}

static bool clear_has(const Roster__V1__UpdateUserRequest *req, Roster__V1__UserField f)
{
    for (size_t i = 0; i < req->n_clear; i++)
        if (req->clear[i] == f)
            return true;
    return false;
}

static const char *user_field_name(Roster__V1__UserField f)
{
    switch (f) {
    case ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL:
        return "email";
    case ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME:
        return "firstName";
    case ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME:
        return "lastName";
    case ROSTER__V1__USER_FIELD__USER_FIELD_PHONE:
        return "phone";
    case ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE:
        return "locale";
    case ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE:
        return "timezone";
    case ROSTER__V1__USER_FIELD__USER_FIELD_AVATAR_URL:
        return "avatarUrl";
    case ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN:
        return "isOptedIn";
    case ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE:
        return "active";
    case ROSTER__V1__USER_FIELD__USER_FIELD_TWO_FACTOR_ENABLED:
        return "twoFactorEnabled";
    case ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID:
        return "tenantId";
    case ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA:
        return "customData";
    default:
        return NULL;
    }
}

/* Whether the request sets field f. */
static bool update_sets(const Roster__V1__UpdateUserRequest *req, Roster__V1__UserField f)
{
    switch (f) {
    case ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL:
        return req->email != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME:
        return req->first_name != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME:
        return req->last_name != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_PHONE:
        return req->phone != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE:
        return req->locale != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE:
        return req->timezone != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_AVATAR_URL:
        return req->avatar_url != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN:
        return req->has_is_opted_in;
    case ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE:
        return req->has_active;
    case ROSTER__V1__USER_FIELD__USER_FIELD_TWO_FACTOR_ENABLED:
        return req->has_two_factor_enabled;
    case ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID:
        return req->tenant_id != NULL;
    case ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA:
        return req->custom_data != NULL;
    default:
        return false;
    }
}

/* Applies `set` (if non-NULL) or clears *field when `clear`. */
static void apply_str(char **field, char *set, bool clear)
{
    if (set)
        *field = set;
    else if (clear)
        *field = NULL;
}

static void apply_bool(protobuf_c_boolean *has, protobuf_c_boolean *field,
                       protobuf_c_boolean has_set, protobuf_c_boolean set, bool clear)
{
    if (has_set) {
        *has = 1;
        *field = set;
    } else if (clear) {
        *has = 0;
        *field = 0;
    }
}

int store_user_update(store_wtxn *w, const roster_uuid *scope,
                      const Roster__V1__UpdateUserRequest *req, roster_arena *arena,
                      Roster__V1__User **out, roster_err_detail *detail)
{
    int err;
    roster_uuid id, tenant;
    if ((err = parse_id(&id, req->id, "id", detail)) != ROSTER_E_OK)
        return err;
    for (size_t i = 0; i < req->n_clear; i++) {
        const char *name = user_field_name(req->clear[i]);
        if (name == NULL)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "clear",
                               "clear names an unknown field (%d)", (int)req->clear[i]);
        if (req->clear[i] == ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL)
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "email", "email cannot be null");
        if (update_sets(req, req->clear[i]))
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, name,
                               "%s is both given and cleared", name);
    }
    if (req->email && (err = validate_email(req->email, "email", detail)) != ROSTER_E_OK)
        return err;
    if ((err = check_optional(req->first_name, req->last_name, req->phone, req->locale,
                              req->timezone, req->avatar_url, req->custom_data, detail)) !=
        ROSTER_E_OK)
        return err;
    bool clear_tenant = clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID);
    if (req->tenant_id) {
        if ((err = parse_id(&tenant, req->tenant_id, "tenantId", detail)) != ROSTER_E_OK)
            return err;
        if (scope && !roster_uuid_eq(scope, &tenant))
            return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                               "tenantId is outside the caller's tenant");
    }
    if (clear_tenant && scope)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "tenantId",
                           "a tenant-bound caller cannot remove a user from its tenant");

    /* Entries queued by earlier creates of the group must be in place
     * before an update replaces entries; they go into the group's own
     * transaction, outside this operation's. */
    if (w->n_pending && !w->failed && (err = store_pending_flush(w)) != ROSTER_E_OK)
        return w->failed = err;
    MDB_txn *txn;
    if ((err = store_op_begin(w, &txn)) != ROSTER_E_OK)
        return err;
    MDB_val k = {16, id.b}, v;
    int rc = mdb_get(txn, w->s->users, &k, &v);
    user_view old;
    if (rc == MDB_NOTFOUND) {
        err = roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "user %s does not exist", req->id);
        goto done;
    }
    if (rc != 0) {
        err = store_mdb_err(rc);
        goto done;
    }
    if ((err = user_view_parse(&old, v.mv_data, v.mv_size)) != ROSTER_E_OK)
        goto done;
    if (scope && (!old.has_tenant || !roster_uuid_eq(&old.tenant, scope))) {
        err = roster_fail(detail, ROSTER_E_NOT_FOUND, "id", "user %s does not exist", req->id);
        goto done;
    }
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
    apply_str(&u->email, req->email, false);
    apply_str(&u->first_name, req->first_name,
              clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME));
    apply_str(&u->last_name, req->last_name,
              clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME));
    apply_str(&u->phone, req->phone, clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_PHONE));
    apply_str(&u->locale, req->locale, clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_LOCALE));
    apply_str(&u->timezone, req->timezone,
              clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_TIMEZONE));
    apply_str(&u->avatar_url, req->avatar_url,
              clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_AVATAR_URL));
    apply_str(&u->custom_data, req->custom_data,
              clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_CUSTOM_DATA));
    apply_str(&u->tenant_id, req->tenant_id, clear_tenant);
    apply_bool(&u->has_is_opted_in, &u->is_opted_in, req->has_is_opted_in, req->is_opted_in,
               clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN));
    apply_bool(&u->has_active, &u->active, req->has_active, req->active,
               clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_ACTIVE));
    apply_bool(&u->has_two_factor_enabled, &u->two_factor_enabled, req->has_two_factor_enabled,
               req->two_factor_enabled,
               clear_has(req, ROSTER__V1__USER_FIELD__USER_FIELD_TWO_FACTOR_ENABLED));
    char tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    if (req->tenant_id) {
        roster_uuid_format(tenant_text, &tenant); /* canonical lower case */
        u->tenant_id = tenant_text;
    }
    int64_t now = roster_now_ms();
    u->has_updated_at = 1;
    u->updated_at = now > old.updated_at ? now : old.updated_at;
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
    int err;
    roster_uuid id, tenant;
    if ((err = parse_id(&id, user->id, "id", detail)) != ROSTER_E_OK)
        return err;
    if (user->reference == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "reference", "reference is required");
    if ((err = validate_text(user->reference, ROSTER_MAX_REFERENCE, true, "reference", detail)) !=
        ROSTER_E_OK)
        return err;
    if (user->email == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "email", "email is required");
    if ((err = validate_email(user->email, "email", detail)) != ROSTER_E_OK)
        return err;
    if ((err = check_optional(user->first_name, user->last_name, user->phone, user->locale,
                              user->timezone, user->avatar_url, user->custom_data, detail)) !=
        ROSTER_E_OK)
        return err;
    if (!user->has_created_at || !user->has_updated_at)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "createdAt",
                           "createdAt and updatedAt are required");
    if (user->tenant_id &&
        (err = parse_id(&tenant, user->tenant_id, "tenantId", detail)) != ROSTER_E_OK)
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
    if (user->tenant_id && (err = tenant_exists(txn, w->s, &tenant, detail)) != ROSTER_E_OK)
        goto done;
    Roster__V1__User u = *user;
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, &id);
    u.id = id_text;
    if (user->tenant_id) {
        roster_uuid_format(tenant_text, &tenant);
        u.tenant_id = tenant_text;
    }
    const uint8_t *bytes = NULL;
    size_t len = 0;
    err = user_put(w, txn, &u, NULL, &bytes, &len, detail);
done:
    return store_op_end(w, txn, err);
}

int store_user_get_raw(store_rtxn *r, const roster_uuid *scope, const char *id, const void **bytes,
                       size_t *len)
{
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
