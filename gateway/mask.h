/* Field masks from GraphQL selection sets: which fields of a User or
 * Tenant record a root field or a batched lookup needs, so the service
 * encodes only those (the requests' `field_mask`, see roster.proto and
 * src/model/field_mask.h).
 *
 * A gw_mask is built once at start for one record: for every field of the
 * record's GraphQL type (UserModel) the bits it needs, derived from the
 * data model by name (the field itself) plus, for a field whose resolver
 * reads other fields (UserModel.tenant reads tenantId), those fields'
 * bits. A request then walks its selection set once per root field or
 * batch, not per record, and ORs the bits of the fields it meets. */
#ifndef ROSTER_GW_MASK_H
#define ROSTER_GW_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "graphql.h"
#include "model.h"

typedef struct gw_mask gw_mask;

/* Builds the mask table of record r (static) over its GraphQL type in
 * `schema` (borrowed; must outlive the result). ROSTER_E_OK with *out
 * (free with gw_mask_free), ROSTER_E_NOT_FOUND when the schema has no
 * type named r->gql_type or lacks a field the resolvers' inputs (mask.c)
 * name, or ROSTER_E_NOMEM. */
int gw_mask_new(gw_mask **out, const gql_schema *schema, const model_record *r);

/* Accepts NULL. */
void gw_mask_free(gw_mask *m);

/* The record m masks (static). */
const model_record *gw_mask_record(const gw_mask *m);

/* The mask c's sub-selection needs: the bits of every field of m's record
 * type it selects, at any depth through objects that are not records (a
 * page's `data`), and never inside another record's fields (a user's
 * tenant is a lookup of its own). Fragments, inline fragments, aliases and
 * @skip/@include are followed as execution follows them; `__typename`
 * needs nothing. The record's id bit is always set. ROSTER_E_OK with
 * *out, or ROSTER_E_NOMEM. */
int gw_mask_select(uint64_t *out, gql_call *c, const gw_mask *m);

#endif
