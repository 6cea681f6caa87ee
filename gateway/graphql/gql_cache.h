/* A bounded, thread-safe cache of parsed and validated documents keyed by
 * the exact query text. Least recently used entries are evicted when the
 * documents' memory would exceed the bound. Only valid documents are
 * cached. */
#ifndef ROSTER_GQL_CACHE_H
#define ROSTER_GQL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gql_error.h"
#include "gql_parser.h"
#include "gql_schema.h"

typedef struct gql_cache gql_cache;

typedef struct gql_cache_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;
    size_t entries;
    size_t bytes;
} gql_cache_stats;

/* A cache for documents validated against s (borrowed, must outlive the
 * cache), holding at most max_bytes of document memory (0 picks 16 MiB).
 * limits (copied; NULL = defaults) apply to every parse. */
int gql_cache_new(gql_cache **out, const gql_schema *s, size_t max_bytes, const gql_limits *limits);

/* Releases the cache's references; documents still held by callers stay
 * valid. Accepts NULL. */
void gql_cache_free(gql_cache *c);

/* The validated document for `text`: from the cache, or parsed and
 * validated now (and cached if valid). On success *out holds a new
 * reference (release with gql_document_free) and ROSTER_E_OK is returned;
 * otherwise errors are appended to errs and the gql_prepare code returned. */
int gql_cache_get(gql_document **out, gql_errors *errs, gql_cache *c, const char *text, size_t len);

/* Counters so far (consistent snapshot). */
void gql_cache_get_stats(gql_cache_stats *out, gql_cache *c);

#endif
