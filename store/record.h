/* Borrowed views of stored records: the protobuf wire encoding of
 * roster.v1.User / roster.v1.Tenant parsed into slices that point into the
 * encoded bytes (no allocation), for filtering and index maintenance. A
 * view is valid as long as the bytes it was parsed from. */
#ifndef ROSTER_STORE_RECORD_H
#define ROSTER_STORE_RECORD_H

#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A nullable string slice: set == false means null. */
typedef struct rec_str {
    const char *p;
    uint32_t n;
    bool set;
} rec_str;

/* Tri-state boolean: -1 null, 0 false, 1 true. */
typedef int8_t rec_bool;

typedef struct user_view {
    rec_str id_text, tenant_text; /* always set by either parse */
    bool ids_parsed;              /* id, has_tenant, tenant below are valid */
    roster_uuid id;
    bool has_tenant;
    roster_uuid tenant; /* zero when !has_tenant */
    rec_str reference, email, first_name, last_name, phone, locale, timezone, avatar_url,
        custom_data;
    rec_bool is_opted_in, active, two_factor_enabled;
    int64_t created_at, updated_at;
} user_view;

typedef struct tenant_view {
    roster_uuid id;
    rec_str name, reference;
    bool is_default;
    int64_t created_at, updated_at;
} tenant_view;

/* Parses a stored user. Returns ROSTER_E_OK or ROSTER_E_CORRUPT (bad wire
 * data, missing or malformed id, malformed tenant id). */
int user_view_parse(user_view *out, const void *bytes, size_t len);

/* Like user_view_parse, but leaves the id and tenant text unparsed
 * (ids_parsed false), which is what a scan that may not need them wants.
 * ROSTER_E_CORRUPT on bad wire data or a missing id. */
int user_view_parse_lazy(user_view *out, const void *bytes, size_t len);

/* Parses the id and tenant of a lazily parsed view (no-op when done).
 * ROSTER_E_OK or ROSTER_E_CORRUPT. */
int user_view_ids(user_view *v);

/* Parses a stored tenant. ROSTER_E_OK or ROSTER_E_CORRUPT. */
int tenant_view_parse(tenant_view *out, const void *bytes, size_t len);

/* Index-entry flags byte (FLAG_* in store_internal.h) of an active value. */
uint8_t rec_active_flags(rec_bool active);

/* Tri-state active from a flags byte. */
rec_bool rec_flags_active(uint8_t flags);

#endif
