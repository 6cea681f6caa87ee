/* The one description of Roster's data model: every user and tenant field
 * with its GraphQL name, value type, limits and what may be done with it
 * (created, updated, cleared, filtered, sorted, searched).
 *
 * What protobuf-c's descriptors already carry (field names, numbers, wire
 * types, offsets in the C structs) is not repeated here: each entry is
 * joined to its protobuf field by name (GraphQL "firstName" is protobuf
 * "first_name"), and model_pb_field() gives the descriptor. Everything that
 * needs to know the fields (the store's validation and record decoding, the
 * gateway's translation, rosterctl's filters, output, dump and load) walks
 * these tables; tests/model checks them against roster.proto and the served
 * GraphQL schema.
 *
 * Everything here is static data; nothing is allocated. */
#ifndef ROSTER_MODEL_H
#define ROSTER_MODEL_H

#include <limits.h> /* INT_MAX, used by the generated roster.pb-c.h */

#include "roster.pb-c.h"
#include "roster_limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a field's value is, beyond its protobuf wire type. */
typedef enum model_type {
    MODEL_T_ID,       /* UUID text, canonical 8-4-4-4-12 lower case */
    MODEL_T_TEXT,     /* single-line UTF-8 text */
    MODEL_T_EMAIL,    /* an email address (text rules plus address shape) */
    MODEL_T_LOCALE,   /* a BCP 47-shaped tag */
    MODEL_T_TIMEZONE, /* an IANA zone name */
    MODEL_T_URL,      /* a URL (avatarUrl) */
    MODEL_T_JSON,     /* the text of a JSON object (customData) */
    MODEL_T_BOOL,
    MODEL_T_DATE, /* int64 Unix milliseconds; ISO-8601 UTC on text surfaces */
} model_type;

/* Which filter input type filters on the field ("none": not filterable). */
typedef enum model_filter {
    MODEL_FILTER_NONE,
    MODEL_FILTER_ID,     /* IdFilter: equalTo, notEqualTo, valueIn, valueNotIn */
    MODEL_FILTER_STRING, /* StringFilter: the above plus like, iLike */
    MODEL_FILTER_BOOL,   /* BoolFilter: equalTo, notEqualTo */
    MODEL_FILTER_DATE,   /* DateFilter: equalTo .. moreThanEqual */
} model_filter;

/* Field flags. */
enum {
    MODEL_REQUIRED = 1u << 0,   /* must be given (non-empty) on create */
    MODEL_SERVER_SET = 1u << 1, /* set by the service only: id, createdAt, updatedAt */
    MODEL_UPDATABLE = 1u << 2,  /* a partial update may change it */
    MODEL_CLEARABLE = 1u << 3,  /* a partial update may set it to null */
    MODEL_UNIQUE = 1u << 4,     /* unique within a tenant */
    MODEL_FOLD_CASE = 1u << 5,  /* compared case-insensitively (uniqueness) */
    MODEL_SORTABLE = 1u << 6,   /* an order sort value (and a sort index) */
    MODEL_SEARCHABLE = 1u << 7, /* a search key */
    MODEL_NULLABLE = 1u << 8,   /* may be absent in a stored record (GraphQL nullable) */
    MODEL_NONEMPTY = 1u << 9,   /* a value given must not be empty */
    /* Values are mostly distinct across users (a sortable field's index
     * then keeps the value in the entry's data, not its key: see the
     * store's layout in store/store_internal.h). */
    MODEL_DISTINCT = 1u << 10,
};

typedef struct model_field {
    const char *name; /* GraphQL name, "firstName" */
    model_type type;
    uint32_t max_len; /* bytes of text at most; 0 when not text */
    model_filter filter;
    unsigned flags; /* MODEL_* */
} model_field;

typedef struct model_record {
    const char *name;     /* "user", "tenant": for messages and rosterctl */
    const char *gql_type; /* "UserModel" */
    const ProtobufCMessageDescriptor *pb;
    const model_field *fields;
    size_t n_fields;
} model_record;

/* X(name, type, max_len, filter, flags). The order is the order of
 * output (rosterctl tables and JSON, dumps). */
#define MODEL_USER_FIELDS(X)                                                                       \
    X(id, ID, ROSTER_ID_LEN, ID, MODEL_SERVER_SET)                                                 \
    X(reference, TEXT, ROSTER_MAX_REFERENCE, STRING,                                               \
      MODEL_REQUIRED | MODEL_NONEMPTY | MODEL_UNIQUE)                                              \
    X(email, EMAIL, ROSTER_MAX_EMAIL, STRING,                                                      \
      MODEL_REQUIRED | MODEL_NONEMPTY | MODEL_UPDATABLE | MODEL_UNIQUE | MODEL_FOLD_CASE |         \
          MODEL_SORTABLE | MODEL_SEARCHABLE | MODEL_DISTINCT)                                      \
    X(firstName, TEXT, ROSTER_MAX_NAME, STRING,                                                    \
      MODEL_USER_OPTIONAL | MODEL_SORTABLE | MODEL_SEARCHABLE)                                     \
    X(lastName, TEXT, ROSTER_MAX_NAME, STRING,                                                     \
      MODEL_USER_OPTIONAL | MODEL_SORTABLE | MODEL_SEARCHABLE)                                     \
    X(phone, TEXT, ROSTER_MAX_PHONE, STRING,                                                       \
      MODEL_USER_OPTIONAL | MODEL_SORTABLE | MODEL_SEARCHABLE | MODEL_DISTINCT)                    \
    X(locale, LOCALE, ROSTER_MAX_LOCALE, STRING,                                                   \
      MODEL_USER_OPTIONAL | MODEL_NONEMPTY | MODEL_SORTABLE | MODEL_SEARCHABLE)                    \
    X(timezone, TIMEZONE, ROSTER_MAX_TIMEZONE, STRING,                                             \
      MODEL_USER_OPTIONAL | MODEL_NONEMPTY | MODEL_SORTABLE | MODEL_SEARCHABLE)                    \
    X(isOptedIn, BOOL, 0, BOOL, MODEL_USER_OPTIONAL)                                               \
    X(active, BOOL, 0, BOOL, MODEL_USER_OPTIONAL | MODEL_SORTABLE)                                 \
    X(avatarUrl, URL, ROSTER_MAX_AVATAR_URL, NONE, MODEL_USER_OPTIONAL)                            \
    X(customData, JSON, ROSTER_MAX_CUSTOM_DATA, NONE, MODEL_USER_OPTIONAL)                         \
    X(twoFactorEnabled, BOOL, 0, NONE, MODEL_USER_OPTIONAL)                                        \
    X(tenantId, ID, ROSTER_ID_LEN, ID, MODEL_USER_OPTIONAL)                                        \
    X(createdAt, DATE, 0, DATE, MODEL_SERVER_SET | MODEL_SORTABLE)                                 \
    X(updatedAt, DATE, 0, DATE, MODEL_SERVER_SET | MODEL_SORTABLE | MODEL_DISTINCT)

/* The flags every optional, updatable user field shares. */
#define MODEL_USER_OPTIONAL (MODEL_UPDATABLE | MODEL_CLEARABLE | MODEL_NULLABLE)

#define MODEL_TENANT_FIELDS(X)                                                                     \
    X(id, ID, ROSTER_ID_LEN, ID, MODEL_SERVER_SET)                                                 \
    X(name, TEXT, ROSTER_MAX_NAME, STRING,                                                         \
      MODEL_REQUIRED | MODEL_NONEMPTY | MODEL_UPDATABLE | MODEL_SORTABLE)                          \
    X(reference, TEXT, ROSTER_MAX_REFERENCE, STRING,                                               \
      MODEL_NONEMPTY | MODEL_UPDATABLE | MODEL_CLEARABLE | MODEL_NULLABLE)                         \
    X(isDefault, BOOL, 0, NONE, MODEL_UPDATABLE)                                                   \
    X(createdAt, DATE, 0, NONE, MODEL_SERVER_SET | MODEL_SORTABLE)                                 \
    X(updatedAt, DATE, 0, NONE, MODEL_SERVER_SET)

/* Indexes into model_user.fields / model_tenant.fields: MODEL_USER_firstName. */
#define MODEL_X_USER_ENUM(n, t, m, f, fl)   MODEL_USER_##n,
#define MODEL_X_TENANT_ENUM(n, t, m, f, fl) MODEL_TENANT_##n,
enum { MODEL_USER_FIELDS(MODEL_X_USER_ENUM) MODEL_USER__COUNT };
enum { MODEL_TENANT_FIELDS(MODEL_X_TENANT_ENUM) MODEL_TENANT__COUNT };
#undef MODEL_X_USER_ENUM
#undef MODEL_X_TENANT_ENUM

/* The most fields any record has: the size of per-field tables. */
#define MODEL_MAX_FIELDS 16

extern const model_record model_user;
extern const model_record model_tenant;

/* The field named `name` (GraphQL name, `len` bytes, not necessarily
 * NUL-terminated); static, NULL when the record has no such field. */
const model_field *model_field_named(const model_record *r, const char *name, size_t len);

/* The protobuf field of the record message that holds f; static, never
 * NULL for an entry of r (tests/model checks every entry has one). */
const ProtobufCFieldDescriptor *model_pb_field(const model_record *r, const model_field *f);

/* ------------------------------------------------------------ messages
 * A request (CreateUserRequest, UpdateUserRequest, ...) carries some of a
 * record's fields under the same protobuf names; a join finds them once so
 * that code walking the model reaches a request's values through the
 * descriptors (offset and presence), as it does a record's. */

typedef struct model_join {
    const model_record *r;                /* static */
    const ProtobufCMessageDescriptor *pb; /* static */
    /* By index in r->fields: pb's field of the same name, NULL when pb has
     * none. Static descriptors. */
    const ProtobufCFieldDescriptor *fields[MODEL_MAX_FIELDS];
} model_join;

/* Joins the fields of record r to the fields of message pb by name into
 * *out (caller-owned; it borrows only static data). Names join whatever
 * the types: a UserFilter's `email` (a StringFilter) joins the user's
 * email. No allocation. */
void model_join_init(model_join *out, const model_record *r, const ProtobufCMessageDescriptor *pb);

/* The following read and write field fd of message m (a message of the
 * type fd belongs to) through fd's offset and presence member, as
 * protobuf-c lays them out: a string or message is present when its
 * pointer is set, an optional scalar when its has_ member is. */

/* Whether m holds a value for fd (a repeated field: at least one).
 * Inline: asked per field on the write and list paths. */
static inline bool model_pb_has(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    const char *base = (const char *)m;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(const void *)(base + fd->quantifier_offset) > 0;
    if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        const void *p = *(const void *const *)(const void *)(base + fd->offset);
        return p != NULL && p != fd->default_value;
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(const void *)(base + fd->quantifier_offset) == fd->id;
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const protobuf_c_boolean *)(const void *)(base + fd->quantifier_offset) != 0;
    return true; /* required */
}

/* The string or sub-message of fd in m, NULL when absent. Borrowed from
 * m. fd must be a singular string or message field. */
static inline const void *model_pb_ptr(const ProtobufCMessage *m,
                                       const ProtobufCFieldDescriptor *fd)
{
    return model_pb_has(m, fd) ? *(const void *const *)(const void *)((const char *)m + fd->offset)
                               : NULL;
}

/* Sets field dfd of dst to the value of field sfd of src (same type,
 * singular), or to absent when src has none. A string or message is
 * shared, not copied: dst borrows it from src. */
void model_pb_copy(ProtobufCMessage *dst, const ProtobufCFieldDescriptor *dfd,
                   const ProtobufCMessage *src, const ProtobufCFieldDescriptor *sfd);

/* Makes singular field fd of m absent (pointer NULL, has_ and value 0). */
void model_pb_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd);

/* ------------------------------------------------------------ names
 * GraphQL names are the lowerCamelCase of protobuf's snake_case names
 * (first_name <-> firstName, i_like <-> iLike); enum values are the
 * protobuf value without the enum's prefix (USER_SORT_FIELD_CREATED_AT <->
 * CREATED_AT, and its camelCase createdAt). */

/* True when the protobuf name `snake` (NUL-terminated) is the GraphQL name
 * of `len` bytes at `camel`. No allocation. */
bool model_name_eq(const char *snake, const char *camel, size_t len);

/* Writes the GraphQL name of protobuf name `snake` into out (cap bytes,
 * NUL-terminated, truncated). Returns the full length it needs. */
size_t model_camel_name(char *out, size_t cap, const char *snake);

/* Writes the protobuf name of GraphQL name `camel` (`len` bytes) into out
 * (cap bytes, NUL-terminated, truncated). Returns the full length. */
size_t model_snake_name(char *out, size_t cap, const char *camel, size_t len);

/* The value of enum e whose GraphQL name is the `len` bytes at `name`,
 * in either form (CREATED_AT or createdAt); static, NULL when none. The
 * UNSPECIFIED value is never matched. */
const ProtobufCEnumValue *model_enum_value(const ProtobufCEnumDescriptor *e, const char *name,
                                           size_t len);

/* The GraphQL (UPPER_SNAKE) name of value v of enum e, without the enum's
 * prefix: a pointer into v->name, static. */
const char *model_enum_short_name(const ProtobufCEnumDescriptor *e, const ProtobufCEnumValue *v);

#endif
