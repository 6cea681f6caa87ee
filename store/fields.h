/* The store's derivations of the data model (src/model/model.h), made
 * once per process: joins of the messages it reads and writes (which
 * protobuf field of a request, record or filter carries each model
 * field), the indexes the model implies (a sort index per sortable field,
 * a unique index per unique field) with their database names, and the
 * model field each value of the UserField, UserSortField and
 * UserSearchKey enums names. */
#ifndef ROSTER_STORE_FIELDS_H
#define ROSTER_STORE_FIELDS_H

#include "model.h"

/* Sort indexes: one per sortable user field except createdAt, whose
 * order is the order of ids (UUIDv7), so `users` and `idx_tenant` serve
 * it. */
#define FIELDS_X_SORTABLE(n, t, m, f, fl) +(((fl)&MODEL_SORTABLE) ? 1 : 0)
enum { SORT__COUNT = 0 MODEL_USER_FIELDS(FIELDS_X_SORTABLE) - 1 };
#undef FIELDS_X_SORTABLE

/* Unique indexes: one per unique user field (reference, email). */
#define FIELDS_X_UNIQUE(n, t, m, f, fl) +(((fl)&MODEL_UNIQUE) ? 1 : 0)
enum { UNIQ__COUNT = 0 MODEL_USER_FIELDS(FIELDS_X_UNIQUE) };
#undef FIELDS_X_UNIQUE

/* Largest enum value (+1) the enum tables below hold. */
#define FIELDS_MAX_ENUM 32

/* Longest database or error field name made here, NUL included. */
#define FIELDS_NAME_MAX 40

/* Where a message holds one field, as plain member offsets: what the
 * write paths use to reach every field of every create without going
 * through the descriptors' label and type each time. */
typedef struct msg_slot {
    uint8_t field;    /* index in the record's model fields */
    bool ptr;         /* a string: a pointer member, NULL when absent */
    uint8_t size;     /* a scalar: bytes of its value member */
    uint16_t off;     /* the value member */
    uint16_t has_off; /* a scalar: its has_ member */
} msg_slot;

/* Fields of a message, in model order. */
typedef struct msg_slots {
    msg_slot s[MODEL_MAX_FIELDS];
    size_t n;
} msg_slots;

/* Whether m holds the field of slot sl. */
static inline bool msg_slot_has(const ProtobufCMessage *m, const msg_slot *sl)
{
    const char *b = (const char *)m;
    return sl->ptr ? *(const void *const *)(const void *)(b + sl->off) != NULL
                   : *(const protobuf_c_boolean *)(const void *)(b + sl->has_off) != 0;
}

typedef struct store_fields {
    model_join user, create_user, update_user; /* roster.v1.User and its requests */
    model_join tenant, create_tenant, update_tenant;
    model_join user_filter;   /* UserFilter: the filter message of each field */
    model_join tenant_filter; /* TenantFilter */

    /* What validation visits (validate_fields): the fields the service
     * does not set that a message holds as strings, or that are
     * required, in model order. */
    msg_slots check_user, check_create_user, check_update_user;
    msg_slots check_tenant, check_create_tenant, check_update_tenant;
    /* A create copies field copy_from.s[i] of the request into field
     * copy_to.s[i] of the new record: every field both have that the
     * service does not set. */
    msg_slots copy_from, copy_to;

    /* Sort index i holds field sort_field[i] (index in model_user.fields)
     * and is named sort_db[i] ("idx_first_name"); indexes are in the
     * order of their names, which is the order of store_stat's list and
     * of a user's entries. sort_slot is the inverse (-1: none). */
    int8_t sort_field[SORT__COUNT];
    char sort_db[SORT__COUNT][FIELDS_NAME_MAX];
    int8_t sort_slot[MODEL_USER__COUNT];
    /* Whether sort index i keeps values in its entries' data (a field
     * flagged MODEL_DISTINCT: store_internal.h's "values in data"
     * layout) rather than in its keys. */
    bool sort_vdata[SORT__COUNT];

    /* Unique index i holds field uniq_field[i], named uniq_db[i]
     * ("uniq_reference"), in model order (reference is checked first). */
    int8_t uniq_field[UNIQ__COUNT];
    char uniq_db[UNIQ__COUNT][FIELDS_NAME_MAX];

    /* Enum value -> index in model_user.fields; -1 when it names none
     * (UNSPECIFIED, unknown values). */
    int8_t user_field[FIELDS_MAX_ENUM];  /* UserField (an update's clear list) */
    int8_t user_sort[FIELDS_MAX_ENUM];   /* UserSortField */
    int8_t user_search[FIELDS_MAX_ENUM]; /* UserSearchKey */
    int8_t tenant_sort[FIELDS_MAX_ENUM]; /* TenantSortField -> model_tenant index */
    /* "search.key must name one of email, firstName, ...": the search
     * keys in enum order. */
    char search_key_message[160];
    /* "filter.firstName": the error field of each field's filter. */
    char filter_name[MODEL_USER__COUNT][FIELDS_NAME_MAX];
    char tenant_filter_name[MODEL_TENANT__COUNT][FIELDS_NAME_MAX];
} store_fields;

/* The derivations; static, made on first use (thread-safe), never NULL. */
const store_fields *store_fields_get(void);

/* Index in model_user.fields that value v of an enum table names, or -1. */
static inline int store_fields_enum(const int8_t *table, int v)
{
    return v >= 0 && v < FIELDS_MAX_ENUM ? table[v] : -1;
}

#endif
