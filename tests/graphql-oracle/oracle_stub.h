/* The oracle's stub data source for our engine (STUB.md is the
 * specification; stub.js implements the same for graphql-js). Records are
 * arrays of gql_result, one per field of their object type, allocated with
 * gql_alloc() so they live exactly as long as the execution; resolvers
 * find the per-execution oracle_stub through gql_call_context(). The
 * benchmark uses the same resolvers, so they are kept cheap: no JSON
 * library, no per-record malloc.
 *
 * In deferred mode no resolver completes its handle before returning: every
 * completion is queued and oracle_stub_drain() delivers them, newest first,
 * the way an asynchronous data source finishing out of order would. */
#ifndef ROSTER_ORACLE_STUB_H
#define ROSTER_ORACLE_STUB_H

#include <stddef.h>
#include <stdint.h>

#include "graphql.h"

/* extensions.code of errors raised by the stub; the verdict marks them. */
#define ORACLE_STUB_CODE "ORACLE_STUB"

typedef struct oracle_pending oracle_pending;

/* Field positions of the schema's object types, found once at registration
 * so that building a record costs no name lookups. */
enum { ORACLE_USER_FIELDS = 17, ORACLE_TENANT_FIELDS = 6 };
typedef struct oracle_stub_layout {
    const gql_type *user, *tenant, *user_page, *tenant_page, *count;
    int16_t user_f[ORACLE_USER_FIELDS];     /* UserModel, in STUB.md's order */
    int16_t tenant_f[ORACLE_TENANT_FIELDS]; /* TenantModel */
    int16_t user_page_total, user_page_data, tenant_page_total, tenant_page_data;
    int16_t count_total;
} oracle_stub_layout;

typedef struct oracle_stub {
    int defer;               /* queue completions instead of finishing now */
    oracle_pending *pending; /* owned: queued completions */
    size_t n_pending;
    size_t cap_pending;
} oracle_stub;

/* Fills *layout from s and registers the stub's resolvers for every field
 * of s in r. The resolvers use *layout (borrowed), which must stay in place
 * and unchanged while r is used. ROSTER_E_OK, ROSTER_E_NOT_FOUND (s lacks a
 * type or field of STUB.md) or the first gql_resolvers_set* failure. */
int oracle_stub_register(gql_resolvers *r, const gql_schema *s, oracle_stub_layout *layout);

/* Per-execution state; pass it as gql_exec_params.context. Allocates
 * nothing until a completion is deferred. */
void oracle_stub_init(oracle_stub *st, int defer);

/* Delivers queued completions (newest first) until none are left; each may
 * queue more. Returns the number delivered. */
size_t oracle_stub_drain(oracle_stub *st);

/* Releases the queue (undelivered completions are dropped). Accepts NULL. */
void oracle_stub_free(oracle_stub *st);

#endif
