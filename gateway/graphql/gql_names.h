/* Helpers on names shared by the engine's modules: equality of gql_str
 * slices, the FNV-1a hash of the engine's name tables and document cache,
 * and the names of directive locations. Internal to roster_graphql (not
 * included by graphql.h). Nothing here allocates or keeps a pointer. */
#ifndef ROSTER_GQL_NAMES_H
#define ROSTER_GQL_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gql_value.h"

/* 1 when the slices hold the same bytes. */
static inline int gql_str_eq(gql_str a, gql_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* 1 when a holds the n bytes at b. */
static inline int gql_str_eqn(gql_str a, const char *b, size_t n)
{
    return a.len == n && memcmp(a.ptr, b, n) == 0;
}

/* 1 when a holds the NUL-terminated string b (without its NUL). */
static inline int gql_str_eqz(gql_str a, const char *b)
{
    return gql_str_eqn(a, b, strlen(b));
}

/* 32-bit FNV-1a of n bytes: the hash of the open-addressing name tables
 * (schema types and fields, fragments, collected response keys). */
static inline uint32_t gql_name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* 64-bit FNV-1a of n bytes: the document cache's key hash. */
static inline uint64_t gql_text_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The directive locations (GQL_DLOC_* in gql_schema.h), as spelled in SDL
 * and introspection. gql_dloc_names[k] names the location of bit 1u << k;
 * the array is static and lives as long as the program. */
#define GQL_DLOC_COUNT 19
extern const char *const gql_dloc_names[GQL_DLOC_COUNT];

/* The name of one GQL_DLOC_* bit, or "UNKNOWN" for anything else. The
 * string is static. */
const char *gql_dloc_name(uint32_t bit);

#endif
