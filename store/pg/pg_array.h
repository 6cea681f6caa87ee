/* Array parameters in PostgreSQL's binary array format: uuid[] for
 * statements that take a list of ids (WHERE id = ANY($1)), and arrays of
 * variable-length elements (bytea[], text[]) built element by element. */
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

/* The type OIDs of bytea[] and text[]. */
#define PG_OID_BYTEA_ARRAY 1001
#define PG_OID_TEXT_ARRAY  1009
#define PG_OID_INT2_ARRAY  1005
#define PG_OID_INT8_ARRAY  1016

/* Bytes of the encoding of an array of n variable-length elements of
 * `bytes` bytes in all. */
#define PG_VAR_ARRAY_SIZE(n, bytes) (20 + (size_t)(n)*4 + (size_t)(bytes))

/* Writes into buf the header of a one-dimensional array of n elements of
 * type elem_oid, without nulls; returns its bytes (20). The elements
 * follow, each written by pg_var_array_put. */
size_t pg_var_array_header(uint8_t *buf, size_t n, uint32_t elem_oid);

/* Writes one element (its length, then len bytes of p) at buf; returns
 * the bytes written (4 + len). */
size_t pg_var_array_put(uint8_t *buf, const void *p, size_t len);

#endif
