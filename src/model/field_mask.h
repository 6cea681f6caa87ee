/* Field masks: which fields of a User or Tenant record a read asks for
 * (the `field_mask` of the read requests in roster.proto). Bit n (1 << n)
 * stands for the record's protobuf field number n, so a mask is derived
 * from the model table through the descriptors (field_mask_bit) and never
 * lists fields by hand. `id` is always kept.
 *
 * Everything here works on caller memory; nothing is allocated. */
#ifndef ROSTER_FIELD_MASK_H
#define ROSTER_FIELD_MASK_H

#include "model.h"

#include <stddef.h>
#include <stdint.h>

/* Every field: what an absent mask means. */
#define FIELD_MASK_ALL UINT64_MAX

/* The bit of field f of record r (f an entry of r->fields). */
uint64_t field_mask_bit(const model_record *r, const model_field *f);

/* The bit of r's field named `name` (GraphQL name, `len` bytes); 0 when r
 * has no such field. */
uint64_t field_mask_named(const model_record *r, const char *name, size_t len);

/* The mask a request carries: FIELD_MASK_ALL when absent (has == 0),
 * otherwise mask with r's id bit added. */
uint64_t field_mask_of(const model_record *r, int has, uint64_t mask);

/* Copies the fields of the protobuf encoding at src (len bytes, borrowed
 * for the call) whose numbers are in mask to dst, in their order and
 * unchanged, and sets *out_len to the bytes written. dst NULL only
 * measures. dst must hold len bytes (a masked encoding is never longer).
 * ROSTER_E_OK, or ROSTER_E_CORRUPT when src is not a protobuf encoding
 * (groups included); *out_len is then untouched. */
int field_mask_encoded(size_t *out_len, uint8_t *dst, const uint8_t *src, size_t len,
                       uint64_t mask);

/* Makes every field of record r absent in m (a message of r's type) whose
 * bit is not in mask. Strings are dropped, not freed: m's memory stays
 * its owner's. */
void field_mask_message(ProtobufCMessage *m, const model_record *r, uint64_t mask);

#endif
