/* The first k records of an order (topk.h). */
#include "topk.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* <0 when a comes first in the requested order. */
static int order_cmp(bool desc, const topk_item *a, const topk_item *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    if (c == 0)
        c = a->klen < b->klen ? -1 : a->klen > b->klen;
    return desc ? -c : c;
}

static void heap_down(topk *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && order_cmp(t->desc, &t->h[l], &t->h[m]) > 0)
            m = l;
        if (r < t->n && order_cmp(t->desc, &t->h[r], &t->h[m]) > 0)
            m = r;
        if (m == i)
            return;
        topk_item x = t->h[i];
        t->h[i] = t->h[m];
        t->h[m] = x;
        i = m;
    }
}

/* Fills item *it (its buffer, of at least klen bytes plus len when the
 * heap copies, already allocated) with key and record. */
static void item_set(const topk *t, topk_item *it, uint8_t *buf, const uint8_t *key, size_t klen,
                     const void *bytes, size_t len)
{
    memcpy(buf, key, klen);
    if (t->copy) {
        if (len)
            memcpy(buf + klen, bytes, len);
        bytes = buf + klen;
    }
    *it = (topk_item){buf, klen, bytes, len};
}

int topk_add(topk *t, const uint8_t *key, size_t klen, const void *bytes, size_t len)
{
    if (t->k == 0)
        return ROSTER_E_OK;
    size_t need = klen + (t->copy ? len : 0);
    topk_item it = {(uint8_t *)key, klen, bytes, len};
    if (t->n == t->k) {
        if (order_cmp(t->desc, &it, &t->h[0]) >= 0)
            return ROSTER_E_OK;
        uint8_t *buf = realloc(t->h[0].key, need ? need : 1);
        if (buf == NULL)
            return ROSTER_E_NOMEM;
        item_set(t, &t->h[0], buf, key, klen, bytes, len);
        heap_down(t, 0);
        return ROSTER_E_OK;
    }
    if (t->n == t->cap) {
        /* Grows as matches arrive, so a large offset costs only what matches. */
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > t->k)
            cap = t->k;
        topk_item *h = realloc(t->h, cap * sizeof *h);
        if (h == NULL)
            return ROSTER_E_NOMEM;
        t->h = h;
        t->cap = cap;
    }
    uint8_t *buf = malloc(need ? need : 1);
    if (buf == NULL)
        return ROSTER_E_NOMEM;
    size_t i = t->n++;
    item_set(t, &t->h[i], buf, key, klen, bytes, len);
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (order_cmp(t->desc, &t->h[i], &t->h[p]) <= 0)
            break;
        topk_item x = t->h[i];
        t->h[i] = t->h[p];
        t->h[p] = x;
        i = p;
    }
    return ROSTER_E_OK;
}

static int sort_cmp(const void *a, const void *b, void *desc)
{
    return order_cmp(*(const bool *)desc, a, b);
}

void topk_sort(topk *t)
{
    if (t->n > 1)
        qsort_r(t->h, t->n, sizeof *t->h, sort_cmp, &t->desc);
}

void topk_free(topk *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->h[i].key);
    free(t->h);
    t->h = NULL;
    t->n = t->cap = 0;
}
