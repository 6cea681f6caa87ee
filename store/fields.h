/* The store's joins of the data model (src/model/model.h) to the messages
 * it reads and writes, made once per process: which protobuf field of a
 * request or record carries each model field, and which model field each
 * value of the UserField enum (an update's `clear` list) names. */
#ifndef ROSTER_STORE_FIELDS_H
#define ROSTER_STORE_FIELDS_H

#include "model.h"

/* Largest UserField value store_fields handles (+1). */
#define FIELDS_MAX_USER_FIELD 32

typedef struct store_fields {
    model_join user, create_user, update_user; /* roster.v1.User and its requests */
    model_join tenant, create_tenant, update_tenant;
    /* UserField value -> index in model_user.fields; -1 when it names
     * none (UNSPECIFIED, unknown values). */
    int8_t user_field[FIELDS_MAX_USER_FIELD];
} store_fields;

/* The joins; static, made on first use (thread-safe), never NULL. */
const store_fields *store_fields_get(void);

/* Index in model_user.fields of the field UserField value v names, or -1. */
int store_user_field_of(const store_fields *sf, int v);

#endif
