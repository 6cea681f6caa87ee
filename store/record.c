#include "record.h"

#include "error.h"
#include "roster_limits.h"
#include "store_internal.h"

#include <string.h>

/* Reads a varint at *p (< end). Returns false on truncation/overlong. */
static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

typedef struct wire_field {
    uint32_t tag;
    uint32_t type;
    uint64_t num;         /* varint / fixed value */
    const uint8_t *bytes; /* length-delimited payload */
    uint32_t len;
} wire_field;

/* Next field, or 0 at the end, -1 on malformed data. */
static int wire_next(const uint8_t **p, const uint8_t *end, wire_field *f)
{
    if (*p >= end)
        return 0;
    uint64_t key;
    if (!wire_varint(p, end, &key))
        return -1;
    f->tag = (uint32_t)(key >> 3);
    f->type = (uint32_t)(key & 7);
    switch (f->type) {
    case 0:
        return wire_varint(p, end, &f->num) ? 1 : -1;
    case 1:
        if (end - *p < 8)
            return -1;
        *p += 8;
        return 1;
    case 2: {
        uint64_t n;
        if (!wire_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return -1;
        f->bytes = *p;
        f->len = (uint32_t)n;
        *p += n;
        return 1;
    }
    case 5:
        if (end - *p < 4)
            return -1;
        *p += 4;
        return 1;
    default:
        return -1;
    }
}

static void set_str(rec_str *s, const wire_field *f)
{
    s->p = (const char *)f->bytes;
    s->n = f->len;
    s->set = true;
}

static int view_parse(user_view *out, const void *bytes, size_t len)
{
    user_view v;
    memset(&v, 0, sizeof v);
    v.is_opted_in = v.active = v.two_factor_enabled = -1;
    const uint8_t *p = bytes, *end = p + len;
    wire_field f;
    bool has_id = false;
    int r;
    while ((r = wire_next(&p, end, &f)) > 0) {
        if (f.type == 2) {
            switch (f.tag) {
            case 1:
                set_str(&v.id_text, &f);
                has_id = true;
                break;
            case 2:
                set_str(&v.reference, &f);
                break;
            case 3:
                set_str(&v.email, &f);
                break;
            case 4:
                set_str(&v.first_name, &f);
                break;
            case 5:
                set_str(&v.last_name, &f);
                break;
            case 6:
                set_str(&v.phone, &f);
                break;
            case 7:
                set_str(&v.locale, &f);
                break;
            case 8:
                set_str(&v.timezone, &f);
                break;
            case 11:
                set_str(&v.avatar_url, &f);
                break;
            case 12:
                set_str(&v.custom_data, &f);
                break;
            case 14:
                set_str(&v.tenant_text, &f);
                break;
            default:
                break;
            }
        } else if (f.type == 0) {
            switch (f.tag) {
            case 9:
                v.is_opted_in = f.num != 0;
                break;
            case 10:
                v.active = f.num != 0;
                break;
            case 13:
                v.two_factor_enabled = f.num != 0;
                break;
            case 15:
                v.created_at = (int64_t)f.num;
                break;
            case 16:
                v.updated_at = (int64_t)f.num;
                break;
            default:
                break;
            }
        }
    }
    if (r < 0 || !has_id)
        return ROSTER_E_CORRUPT;
    /* Index keys are built from these fields: a stored value longer than
     * validation allows means a damaged record, never an oversized key. */
    if (v.reference.n > ROSTER_MAX_REFERENCE || v.email.n > ROSTER_MAX_EMAIL ||
        v.first_name.n > ROSTER_MAX_NAME || v.last_name.n > ROSTER_MAX_NAME ||
        v.phone.n > ROSTER_MAX_PHONE || v.locale.n > ROSTER_MAX_LOCALE ||
        v.timezone.n > ROSTER_MAX_TIMEZONE)
        return ROSTER_E_CORRUPT;
    *out = v;
    return ROSTER_E_OK;
}

int user_view_ids(user_view *v)
{
    if (v->ids_parsed)
        return ROSTER_E_OK;
    if (roster_uuid_parse(&v->id, v->id_text.p, v->id_text.n) != ROSTER_E_OK)
        return ROSTER_E_CORRUPT;
    if (v->tenant_text.set) {
        if (roster_uuid_parse(&v->tenant, v->tenant_text.p, v->tenant_text.n) != ROSTER_E_OK)
            return ROSTER_E_CORRUPT;
        v->has_tenant = true;
    }
    v->ids_parsed = true;
    return ROSTER_E_OK;
}

int user_view_parse_lazy(user_view *out, const void *bytes, size_t len)
{
    return view_parse(out, bytes, len);
}

int user_view_parse(user_view *out, const void *bytes, size_t len)
{
    user_view v;
    int err = view_parse(&v, bytes, len);
    if (err == ROSTER_E_OK)
        err = user_view_ids(&v);
    if (err == ROSTER_E_OK)
        *out = v;
    return err;
}

int tenant_view_parse(tenant_view *out, const void *bytes, size_t len)
{
    tenant_view v;
    memset(&v, 0, sizeof v);
    const uint8_t *p = bytes, *end = p + len;
    wire_field f;
    bool has_id = false;
    int r;
    while ((r = wire_next(&p, end, &f)) > 0) {
        if (f.type == 2) {
            if (f.tag == 1) {
                if (roster_uuid_parse(&v.id, (const char *)f.bytes, f.len) != ROSTER_E_OK)
                    return ROSTER_E_CORRUPT;
                has_id = true;
            } else if (f.tag == 2) {
                set_str(&v.name, &f);
            } else if (f.tag == 3) {
                set_str(&v.reference, &f);
            }
        } else if (f.type == 0) {
            if (f.tag == 4)
                v.is_default = f.num != 0;
            else if (f.tag == 5)
                v.created_at = (int64_t)f.num;
            else if (f.tag == 6)
                v.updated_at = (int64_t)f.num;
        }
    }
    if (r < 0 || !has_id || v.name.n > ROSTER_MAX_NAME)
        return ROSTER_E_CORRUPT;
    *out = v;
    return ROSTER_E_OK;
}

uint8_t rec_active_flags(rec_bool active)
{
    if (active < 0)
        return FLAG_ACTIVE_NULL;
    return active ? 0 : FLAG_INACTIVE;
}

rec_bool rec_flags_active(uint8_t flags)
{
    if (flags & FLAG_ACTIVE_NULL)
        return -1;
    return (flags & FLAG_INACTIVE) ? 0 : 1;
}
