#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct roster_arena_block {
    roster_arena_block *prev;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
};

#define ARENA_ALIGN 16u

void roster_arena_init(roster_arena *a, size_t first_block, size_t limit)
{
    a->head = NULL;
    a->block_size = first_block ? first_block : 4096;
    a->limit = limit;
    a->used = 0;
    a->over_limit = 0;
}

static roster_arena_block *arena_grow(roster_arena *a, size_t need)
{
    size_t size = a->block_size;
    while (size < need)
        size *= 2;
    if (a->limit && a->used + size > a->limit) {
        if (a->used + need > a->limit) {
            a->over_limit = 1;
            return NULL;
        }
        size = need;
    }
    roster_arena_block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->prev = a->head;
    b->size = size;
    b->used = 0;
    a->head = b;
    a->used += size;
    if (a->block_size < 64 * 1024)
        a->block_size *= 2;
    return b;
}

void *roster_arena_alloc(roster_arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    roster_arena_block *b = a->head;
    if (b == NULL || b->size - b->used < size) {
        b = arena_grow(a, size);
        if (b == NULL)
            return NULL;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

char *roster_arena_strndup(roster_arena *a, const char *s, size_t len)
{
    char *p = roster_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void roster_arena_reset(roster_arena *a)
{
    roster_arena_block *b = a->head;
    a->over_limit = 0;
    if (b == NULL)
        return;
    while (b->prev) {
        roster_arena_block *prev = b->prev;
        a->used -= b->size;
        free(b);
        b = prev;
    }
    b->used = 0;
    a->head = b;
}

void roster_arena_free(roster_arena *a)
{
    if (a == NULL)
        return;
    roster_arena_block *b = a->head;
    while (b) {
        roster_arena_block *prev = b->prev;
        free(b);
        b = prev;
    }
    a->head = NULL;
    a->used = 0;
    a->over_limit = 0;
}

static void *arena_pb_alloc(void *data, size_t size)
{
    return roster_arena_alloc(data, size);
}

static void arena_pb_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

void roster_arena_protobuf_allocator(ProtobufCAllocator *out, roster_arena *a)
{
    out->alloc = arena_pb_alloc;
    out->free = arena_pb_free;
    out->allocator_data = a;
}
