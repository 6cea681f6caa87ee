/* uuid[] parameters in PostgreSQL's binary array format, for statements
 * that take a list of ids (WHERE id = ANY($1)). */
#ifndef ROSTER_STORE_PG_ARRAY_H
#define ROSTER_STORE_PG_ARRAY_H

#include "uuid.h"

#include <stddef.h>
#include <stdint.h>

/* The type OID of uuid[]. */
#define PG_OID_UUID_ARRAY 2951

/* Bytes of the encoding of an array of n uuids. */
#define PG_UUID_ARRAY_SIZE(n) (20 + (size_t)(n)*20)

/* Writes into buf (PG_UUID_ARRAY_SIZE(n) bytes, caller-owned) the
 * encoding of a one-dimensional array of n uuids, all zero until set
 * with pg_uuid_array_set: the dimensions, no nulls, the element type,
 * then each element as its length and its 16 bytes. */
void pg_uuid_array_init(uint8_t *buf, size_t n);

/* Element i (< n) of the array in buf becomes id. */
void pg_uuid_array_set(uint8_t *buf, size_t i, const roster_uuid *id);

/* The 16 bytes of element i of the array in buf (borrowed from buf). */
const uint8_t *pg_uuid_array_get(const uint8_t *buf, size_t i);

#endif
