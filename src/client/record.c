#include "record.h"

#include <string.h>

// clang-format off
#define USER_STRINGS(X) \
    X(id)               \
    X(reference)        \
    X(email)            \
    X(first_name)       \
    X(last_name)        \
    X(phone)            \
    X(locale)           \
    X(timezone)         \
    X(avatar_url)       \
    X(custom_data)      \
    X(tenant_id)
// clang-format on
#define USER_SCALARS(X)   X(is_opted_in) X(active) X(two_factor_enabled) X(created_at) X(updated_at)
#define TENANT_STRINGS(X) X(id) X(name) X(reference)
#define TENANT_SCALARS(X) X(is_default) X(created_at) X(updated_at) X(user_count)

#define CLEAR(f) r->has_##f = false;
#define COPY_STR(f)                                                                                \
    dst->has_##f = src->has_##f;                                                                   \
    if (src->has_##f)                                                                              \
        memcpy(dst->f, src->f, strnlen(src->f, sizeof src->f - 1) + 1);
#define COPY_SCALAR(f)                                                                             \
    dst->has_##f = src->has_##f;                                                                   \
    dst->f = src->f;

bool roster_record_decode_user(roster_v1_User *r, pb_istream_t *stream)
{
    USER_STRINGS(CLEAR)
    USER_SCALARS(CLEAR)
    return pb_decode_ex(stream, roster_v1_User_fields, r, PB_DECODE_NOINIT);
}

bool roster_record_decode_tenant(roster_v1_Tenant *r, pb_istream_t *stream)
{
    TENANT_STRINGS(CLEAR)
    TENANT_SCALARS(CLEAR)
    return pb_decode_ex(stream, roster_v1_Tenant_fields, r, PB_DECODE_NOINIT);
}

void roster_record_copy_user(roster_v1_User *dst, const roster_v1_User *src)
{
    USER_STRINGS(COPY_STR)
    USER_SCALARS(COPY_SCALAR)
}

void roster_record_copy_tenant(roster_v1_Tenant *dst, const roster_v1_Tenant *src)
{
    TENANT_STRINGS(COPY_STR)
    TENANT_SCALARS(COPY_SCALAR)
}
