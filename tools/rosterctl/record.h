/* Users and tenants as JSON objects with the GraphQL field names of
 * schema.graphql (UserModel, TenantModel): the --json output, the human
 * tables, and the JSON Lines of dump and load.
 *
 * Every field is present in the objects made here (null when unset) and
 * in a fixed order, so a dump is byte-stable. Dates are ISO-8601 UTC with
 * milliseconds; customData is embedded as a JSON object. */
#ifndef ROSTERCTL_RECORD_H
#define ROSTERCTL_RECORD_H

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"

#include <jansson.h>
#include <stdbool.h>

#define CTL_TYPENAME_USER   "UserModel"
#define CTL_TYPENAME_TENANT "TenantModel"

/* A new JSON object for u (caller owns the reference). With `typename`,
 * the first key is "__typename": "UserModel". A customData text that is
 * not valid JSON is kept as a JSON string. NULL when out of memory. */
json_t *ctl_user_json(const Roster__V1__User *u, bool typename);

/* As ctl_user_json for a tenant; "users": {"totalCount": N} is added when
 * the tenant carries a user count. */
json_t *ctl_tenant_json(const Roster__V1__Tenant *t, bool typename);

/* Fills *out (initialised here) from a UserModel object. Strings borrow
 * from `obj`, which must outlive *out; customData is re-encoded into
 * `arena`. Unknown keys, wrong JSON types and malformed dates are
 * ROSTER_E_INVALID_ARGUMENT with d naming the field; "__typename" and
 * "synced" and "tenant" are accepted and ignored. Required-field and value
 * rules are left to the store. */
int ctl_user_from_json(Roster__V1__User *out, const json_t *obj, roster_arena *arena,
                       roster_err_detail *d);

/* As ctl_user_from_json for a TenantModel object ("users" is ignored). */
int ctl_tenant_from_json(Roster__V1__Tenant *out, const json_t *obj, roster_err_detail *d);

/* Protobuf-c record from its stored encoding, unpacked into `arena`.
 * ROSTER_E_CORRUPT when the bytes do not decode. */
int ctl_user_unpack(Roster__V1__User **out, const void *bytes, size_t len, roster_arena *arena);
int ctl_tenant_unpack(Roster__V1__Tenant **out, const void *bytes, size_t len, roster_arena *arena);

#endif
