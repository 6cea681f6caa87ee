/* The first k records of an order, kept while records stream by in any
 * order: a max-heap on the order key, whose worst entry is replaced by a
 * better one once k are kept. The list plans that cannot walk an index in
 * the requested order use it (query.c's scan and candidates plans on LMDB,
 * pg_query.c's customData order on PostgreSQL). Internal to store/. */
#ifndef ROSTER_STORE_TOPK_H
#define ROSTER_STORE_TOPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct topk_item {
    uint8_t *key; /* owned; the record's copy follows it when the heap copies */
    size_t klen;
    const void *bytes; /* the record: borrowed, or inside key's buffer */
    size_t len;
} topk_item;

/* Set desc, k and copy, the rest zero ({.desc = d, .k = k}); free with
 * topk_free. Keys compare as bytes (memcmp, then the shorter first), the
 * way index keys and cursor positions do. */
typedef struct topk {
    bool desc; /* the order is descending: the greatest keys are kept */
    bool copy; /* records are copied in (the caller's bytes do not last) */
    size_t k, n, cap;
    topk_item *h; /* max-heap on order: h[0] is the worst kept */
} topk;

/* Offers record bytes[0..len) with order key key[0..klen) (copied). The
 * record is kept by pointer (borrowed until topk_free) unless t->copy;
 * a record worse than the k kept is dropped. ROSTER_E_NOMEM. */
int topk_add(topk *t, const uint8_t *key, size_t klen, const void *bytes, size_t len);

/* Sorts the kept records into the requested order: t->h[0..t->n) best
 * first. Nothing may be added after. */
void topk_sort(topk *t);

/* Frees what t holds (records it copied included); t itself is the
 * caller's. */
void topk_free(topk *t);

#endif
