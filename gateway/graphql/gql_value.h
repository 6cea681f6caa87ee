/* GraphQL values: the literals of a parsed document and the coerced
 * argument and variable values handed to resolvers. Values live in an arena
 * (the document's for literals, the execution's for coerced values) and are
 * never freed one by one. */
#ifndef ROSTER_GQL_VALUE_H
#define ROSTER_GQL_VALUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "gql_json.h"

/* A borrowed byte slice; not NUL-terminated unless stated. */
typedef struct gql_str {
    const char *ptr;
    uint32_t len;
} gql_str;

/* 1-based line and column (columns count bytes). 0:0 means "none". */
typedef struct gql_location {
    uint32_t line;
    uint32_t column;
} gql_location;

typedef enum gql_value_kind {
    GQL_VALUE_NULL,
    GQL_VALUE_BOOLEAN,
    GQL_VALUE_INT,    /* int64; Int arguments are within 32 bits */
    GQL_VALUE_FLOAT,  /* double */
    GQL_VALUE_STRING, /* String and ID values, decoded UTF-8 */
    GQL_VALUE_ENUM,   /* enum value name */
    GQL_VALUE_LIST,
    GQL_VALUE_OBJECT,
    GQL_VALUE_VARIABLE /* only in document literals: $name */
} gql_value_kind;

typedef struct gql_value gql_value;

typedef struct gql_object_field {
    gql_str name;
    gql_value *value;
    gql_location loc; /* literal position (0:0 for coerced values) */
} gql_object_field;

struct gql_value {
    uint8_t kind;     /* gql_value_kind */
    gql_location loc; /* literal position (0:0 for coerced values) */
    union {
        int boolean;
        int64_t integer;
        double number;
        gql_str string; /* STRING, ENUM, VARIABLE (the name without '$') */
        struct {
            gql_value **items;
            uint32_t count;
        } list;
        struct {
            gql_object_field *fields;
            uint32_t count;
        } object;
    } u;
    gql_str raw; /* INT/FLOAT literal source text; empty otherwise */
};

/* Member `name` (NUL-terminated) of an OBJECT value: NULL when the value is
 * not an object or the member is absent. A member given as null is present
 * with kind GQL_VALUE_NULL, so "absent" and "null" stay distinct. The
 * result is borrowed from v. */
const gql_value *gql_value_get(const gql_value *v, const char *name);

/* Writes v as JSON (enum values as strings). Variables are written as
 * null. */
void gql_value_write_json(gql_jw *w, const gql_value *v);

/* Prints v in GraphQL syntax ({a: 1, b: [ENUM, "s"]}) the way graphql-js's
 * print() does, appending to b; used in error messages. */
void gql_value_print(gql_buf *b, const gql_value *v);

/* Converts a jansson value to a gql_value allocated in `arena` (strings are
 * copied). Integral numbers become INT, others FLOAT; objects keep member
 * order. *out written only on success. ROSTER_E_OK or ROSTER_E_NOMEM. */
int gql_value_from_json(gql_value **out, const json_t *j, roster_arena *arena);

#endif
