/* Array parameters (pg_array.h). */
#include "pg_array.h"

#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void pg_uuid_array_init(uint8_t *buf, size_t n)
{
    put_u32(buf, 1);                /* dimensions */
    put_u32(buf + 4, 0);            /* no nulls */
    put_u32(buf + 8, 2950);         /* element type: uuid */
    put_u32(buf + 12, (uint32_t)n); /* length */
    put_u32(buf + 16, 1);           /* lower bound */
    for (size_t i = 0; i < n; i++) {
        put_u32(buf + 20 + i * 20, 16);
        memset(buf + 24 + i * 20, 0, 16);
    }
}

void pg_uuid_array_set(uint8_t *buf, size_t i, const roster_uuid *id)
{
    memcpy(buf + 24 + i * 20, id->b, 16);
}

const uint8_t *pg_uuid_array_get(const uint8_t *buf, size_t i)
{
    return buf + 24 + i * 20;
}

size_t pg_var_array_header(uint8_t *buf, size_t n, uint32_t elem_oid)
{
    put_u32(buf, 1);
    put_u32(buf + 4, 0);
    put_u32(buf + 8, elem_oid);
    put_u32(buf + 12, (uint32_t)n);
    put_u32(buf + 16, 1);
    return 20;
}

size_t pg_var_array_put(uint8_t *buf, const void *p, size_t len)
{
    put_u32(buf, (uint32_t)len);
    if (len)
        memcpy(buf + 4, p, len);
    return 4 + len;
}
