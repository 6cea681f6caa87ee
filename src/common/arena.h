/* A bump allocator for per-request memory: parsing, protobuf unpacking and
 * execution allocate from it and everything is released at once by
 * roster_arena_free or reset by roster_arena_reset. Not thread-safe: one
 * arena belongs to one request at a time. */
#ifndef ROSTER_ARENA_H
#define ROSTER_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct roster_arena_block roster_arena_block;

typedef struct roster_arena {
    roster_arena_block *head; /* current block; older blocks chained behind */
    size_t block_size;        /* size of the next ordinary block */
    size_t limit;             /* most bytes it may hold in all; 0 = no limit */
    size_t used;              /* bytes in all blocks */
    int over_limit;           /* an allocation was refused by `limit` since init or reset */
} roster_arena;

/* Initialises an arena whose first block is `first_block` bytes (0 picks 4
 * KiB) and which refuses to grow past `limit` bytes (0 = unlimited). No
 * memory is allocated until the first allocation. */
void roster_arena_init(roster_arena *a, size_t first_block, size_t limit);

/* Returns `size` bytes aligned to 16, owned by the arena and valid until
 * roster_arena_reset or roster_arena_free; NULL when out of memory or over
 * the limit (then over_limit is set). */
void *roster_arena_alloc(roster_arena *a, size_t size);

/* Copies `len` bytes of s and appends a NUL; arena-owned. NULL on failure. */
char *roster_arena_strndup(roster_arena *a, const char *s, size_t len);

/* Releases everything but the first block, for reuse by the next request. */
void roster_arena_reset(roster_arena *a);

/* Releases all memory. Accepts NULL. The arena may be initialised again. */
void roster_arena_free(roster_arena *a);

/* A ProtobufCAllocator that allocates from `a` (free is a no-op), for
 * protobuf_c_message_unpack. The returned struct refers to `a` and lives in
 * `out` (caller-owned storage). */
void roster_arena_protobuf_allocator(ProtobufCAllocator *out, roster_arena *a);

#endif
