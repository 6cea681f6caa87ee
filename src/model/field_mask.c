#include "field_mask.h"

#include <string.h>

#include "error.h"

uint64_t field_mask_bit(const model_record *r, const model_field *f)
{
    const ProtobufCFieldDescriptor *fd = model_pb_field(r, f);
    return fd != NULL && fd->id < 64 ? UINT64_C(1) << fd->id : 0;
}

uint64_t field_mask_named(const model_record *r, const char *name, size_t len)
{
    const model_field *f = model_field_named(r, name, len);
    return f != NULL ? field_mask_bit(r, f) : 0;
}

uint64_t field_mask_of(const model_record *r, int has, uint64_t mask)
{
    if (!has)
        return FIELD_MASK_ALL;
    return mask | field_mask_bit(r, &r->fields[0]); /* fields[0] is id */
}

/* Reads a varint at *p (below end); 0 when it runs past end or over 10 bytes. */
static int varint_get(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

int field_mask_encoded(size_t *out_len, uint8_t *dst, const uint8_t *src, size_t len, uint64_t mask)
{
    const uint8_t *p = src, *end = src + len;
    size_t n = 0;
    while (p < end) {
        const uint8_t *start = p;
        uint64_t tag, v;
        if (!varint_get(&tag, &p, end))
            return ROSTER_E_CORRUPT;
        switch (tag & 7) {
        case 0: /* varint */
            if (!varint_get(&v, &p, end))
                return ROSTER_E_CORRUPT;
            break;
        case 1: /* 64-bit */
        case 5: /* 32-bit */
            v = (tag & 7) == 1 ? 8 : 4;
            if ((uint64_t)(end - p) < v)
                return ROSTER_E_CORRUPT;
            p += v;
            break;
        case 2: /* length-delimited */
            if (!varint_get(&v, &p, end) || v > (uint64_t)(end - p))
                return ROSTER_E_CORRUPT;
            p += v;
            break;
        default: /* groups: never in a record */
            return ROSTER_E_CORRUPT;
        }
        uint64_t number = tag >> 3;
        if (number < 64 && (mask & (UINT64_C(1) << number))) {
            if (dst != NULL)
                memcpy(dst + n, start, (size_t)(p - start));
            n += (size_t)(p - start);
        }
    }
    *out_len = n;
    return ROSTER_E_OK;
}

void field_mask_message(ProtobufCMessage *m, const model_record *r, uint64_t mask)
{
    if (mask == FIELD_MASK_ALL)
        return;
    for (size_t i = 1; i < r->n_fields; i++) /* fields[0], id, always stays */
        if ((mask & field_mask_bit(r, &r->fields[i])) == 0)
            model_pb_clear(m, model_pb_field(r, &r->fields[i]));
}
