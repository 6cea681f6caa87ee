/* Values that resolvers produce. A gql_result is a small by-value struct:
 * scalars carry their value, strings and lists are borrowed (they must stay
 * valid until the execution's completion callback has returned: keep them
 * in memory from gql_alloc() or in something the caller frees after
 * completion), and objects are an opaque source pointer that the resolvers
 * of the object's fields receive as their parent. Nothing here allocates. */
#ifndef ROSTER_GQL_RESULT_H
#define ROSTER_GQL_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum gql_result_kind {
    GQL_RESULT_NULL,
    GQL_RESULT_BOOLEAN,
    GQL_RESULT_INT, /* Int (must fit 32 bits), Float, ID, Date (Unix ms) */
    GQL_RESULT_FLOAT,
    GQL_RESULT_STRING, /* String, ID, enum value name, Date (ISO text) */
    GQL_RESULT_OBJECT, /* object type: `object` is the source for its fields */
    GQL_RESULT_LIST,
    GQL_RESULT_RAW_JSON, /* already-encoded JSON text (JsonObject), verbatim */
    GQL_RESULT_JSON      /* a jansson value (JsonObject), borrowed */
} gql_result_kind;

typedef struct gql_result gql_result;
struct gql_result {
    uint8_t kind; /* gql_result_kind */
    union {
        int boolean;
        int64_t integer;
        double number;
        struct {
            const char *ptr;
            size_t len;
        } string; /* STRING, RAW_JSON */
        void *object;
        struct {
            const gql_result *items;
            size_t count;
        } list;
        const json_t *json;
    } u;
};

static inline gql_result gql_r_null(void)
{
    gql_result r = {.kind = GQL_RESULT_NULL};
    return r;
}
static inline gql_result gql_r_bool(int v)
{
    gql_result r = {.kind = GQL_RESULT_BOOLEAN, .u.boolean = v != 0};
    return r;
}
static inline gql_result gql_r_int(int64_t v)
{
    gql_result r = {.kind = GQL_RESULT_INT, .u.integer = v};
    return r;
}
static inline gql_result gql_r_float(double v)
{
    gql_result r = {.kind = GQL_RESULT_FLOAT, .u.number = v};
    return r;
}
/* Borrowed string of len bytes (NULL ptr gives null). */
static inline gql_result gql_r_string(const char *s, size_t len)
{
    gql_result r = {.kind = s ? GQL_RESULT_STRING : GQL_RESULT_NULL};
    r.u.string.ptr = s;
    r.u.string.len = len;
    return r;
}
/* Object with source pointer `src` (NULL gives null). */
static inline gql_result gql_r_object(void *src)
{
    gql_result r = {.kind = src ? GQL_RESULT_OBJECT : GQL_RESULT_NULL};
    r.u.object = src;
    return r;
}
/* Borrowed array of `count` items. */
static inline gql_result gql_r_list(const gql_result *items, size_t count)
{
    gql_result r = {.kind = GQL_RESULT_LIST};
    r.u.list.items = items;
    r.u.list.count = count;
    return r;
}
static inline gql_result gql_r_raw_json(const char *json, size_t len)
{
    gql_result r = {.kind = json ? GQL_RESULT_RAW_JSON : GQL_RESULT_NULL};
    r.u.string.ptr = json;
    r.u.string.len = len;
    return r;
}
static inline gql_result gql_r_json(const json_t *j)
{
    gql_result r = {.kind = j ? GQL_RESULT_JSON : GQL_RESULT_NULL};
    r.u.json = j;
    return r;
}

#endif
