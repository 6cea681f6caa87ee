/* Borrowed views of stored records: the protobuf wire encoding of
 * roster.v1.User / roster.v1.Tenant parsed into slices that point into the
 * encoded bytes (no allocation), for filtering and index maintenance. A
 * view is valid as long as the bytes it was parsed from. */
#ifndef ROSTER_STORE_RECORD_H
#define ROSTER_STORE_RECORD_H

#include "model.h"
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

/* One slot per field of the data model, named as in the model
 * (v->f.firstName), so a field added to the model gets a slot and is
 * decoded without touching this module: text (ids included) as a
 * borrowed slice, booleans tri-state, dates as int64. */
#define REC_SLOT_ID                rec_str
#define REC_SLOT_TEXT              rec_str
#define REC_SLOT_EMAIL             rec_str
#define REC_SLOT_LOCALE            rec_str
#define REC_SLOT_TIMEZONE          rec_str
#define REC_SLOT_URL               rec_str
#define REC_SLOT_JSON              rec_str
#define REC_SLOT_BOOL              rec_bool
#define REC_SLOT_DATE              int64_t
#define REC_X_SLOT(n, t, m, f, fl) REC_SLOT_##t n;

typedef struct user_fields {
    MODEL_USER_FIELDS(REC_X_SLOT)
} user_fields;

typedef struct tenant_fields {
    MODEL_TENANT_FIELDS(REC_X_SLOT)
} tenant_fields;

typedef struct user_view {
    user_fields f;   /* f.id and f.tenantId are the id texts */
    bool ids_parsed; /* id, has_tenant, tenant below are valid */
    roster_uuid id;
    bool has_tenant;
    roster_uuid tenant; /* zero when !has_tenant */
} user_view;

typedef struct tenant_view {
    tenant_fields f; /* f.isDefault is -1 when the record does not say */
    roster_uuid id;  /* f.id parsed */
} tenant_view;

/* Offset in user_fields (tenant_fields) of the slot of each field of
 * model_user (model_tenant). Static. */
extern const uint16_t rec_user_off[MODEL_USER__COUNT];
extern const uint16_t rec_tenant_off[MODEL_TENANT__COUNT];

/* The slot of model_user field `field` in v (a rec_str, rec_bool or
 * int64_t by the field's type); borrowed from v. */
static inline const void *rec_user_slot(const user_view *v, int field)
{
    return (const char *)&v->f + rec_user_off[field];
}

/* Parses a stored user. Returns ROSTER_E_OK or ROSTER_E_CORRUPT (bad wire
 * data, missing or malformed id, malformed tenant id). */
int user_view_parse(user_view *out, const void *bytes, size_t len);

/* Like user_view_parse, but leaves the id and tenant text unparsed
 * (ids_parsed false), which is what a scan that may not need them wants.
 * ROSTER_E_CORRUPT on bad wire data or a missing id. */
int user_view_parse_lazy(user_view *out, const void *bytes, size_t len);

/* Which fields user_view_parse_some reads: a scan that tests one or two
 * fields of every record reads only those (and the id), skipping the
 * others' bytes without storing them. Plain data, owned by the caller. */
typedef struct user_reader {
    uint64_t tags; /* bit n: protobuf field number n is read */
} user_reader;

/* Sets r to read the model_user fields of `fields` (bit i:
 * model_user.fields[i]) and the id, which every view has. */
void user_reader_init(user_reader *r, uint64_t fields);

/* Like user_view_parse_lazy, but stores only the fields r reads: every
 * other slot keeps its blank value (null), whatever the record holds. The whole
 * record is still walked, so bad wire data anywhere, a missing id or an
 * over-long indexed value among the fields read is ROSTER_E_CORRUPT; an
 * over-long value of a field not read is not seen. Unlike the other
 * parsers it decodes into *out in place (a scan's hot path), so *out is
 * written, and meaningless, when it fails. */
int user_view_parse_some(user_view *out, const user_reader *r, const void *bytes, size_t len);

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
