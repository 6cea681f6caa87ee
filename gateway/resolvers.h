/* Resolvers for every field of schema.graphql: root queries and mutations
 * become RPCs to roster-users (one table of root field -> method; the
 * arguments become the protobuf request by translate.h), objects are the
 * unpacked protobuf messages whose fields are joined to the schema's by
 * name, and UserModel.tenant / TenantModel.users are batch resolvers
 * issuing one BatchGetTenants per response level. RPC failures become
 * GraphQL errors with extensions.code (see status_map.h). */
#ifndef ROSTER_GW_RESOLVERS_H
#define ROSTER_GW_RESOLVERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "batcher.h"
#include "graphql.h"
#include "upstream.h"

typedef struct gw_resolvers gw_resolvers;

/* Per-request data handed to gql_execute as the context pointer; owned by
 * the request and valid until its completion callback returns. */
typedef struct gw_exec_ctx {
    const gw_resolvers *resolvers;
    int64_t deadline_ns;    /* monotonic time past which RPCs are not sent */
    const char *credential; /* the caller's API key text, sent with every RPC; borrowed */
    atomic_uint rpcs;       /* upstream calls issued so far (start at 0) */
} gw_exec_ctx;

/* Builds the resolver table for `schema` (borrowed, outlives the result)
 * calling `up` (borrowed). Lookups by id (user(id), tenant(id), the
 * tenants of a level's users, the user counts of a level's tenants) go
 * through `batcher` (borrowed, outlives the result; NULL: each is its own
 * RPC), which shares their RPCs between concurrent requests. max_page bounds the limit argument;
 * max_rpcs bounds the upstream calls one request may cause (fields past it fail). ROSTER_E_OK with
 * *out, ROSTER_E_NOT_FOUND when the schema lacks a field the resolvers serve,
 * ROSTER_E_INVALID_ARGUMENT when a field's type cannot carry the protobuf field it joins, or
 * ROSTER_E_NOMEM. */
int gw_resolvers_new(gw_resolvers **out, const gql_schema *schema, gw_upstream *up,
                     gw_batcher *batcher, uint32_t max_page, uint32_t max_rpcs);

/* Lookups made on event loop i (loop.h) go through batchers[i] instead of
 * the shared batcher, for i < n; `batchers` is borrowed until
 * gw_resolvers_free (NULL: none). Before the loops start. */
void gw_resolvers_set_loop_batchers(gw_resolvers *r, gw_batcher *const *batchers, unsigned n);

/* Accepts NULL. */
void gw_resolvers_free(gw_resolvers *r);

/* The engine's table (borrowed from r). */
const gql_resolvers *gw_resolvers_table(const gw_resolvers *r);

#endif
