#include "ewalk.h"

#include "cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Compares the byte strings a1 a2 and b1 b2 (each the concatenation of two
 * parts) as LMDB compares keys: bytes, then length. */
static int cat_cmp(const uint8_t *a1, size_t an1, const uint8_t *a2, size_t an2, const uint8_t *b1,
                   size_t bn1, const uint8_t *b2, size_t bn2)
{
    const uint8_t *ap = a1, *bp = b1;
    size_t ar = an1, br = bn1;
    bool a_second = false, b_second = false;
    for (;;) {
        if (ar == 0 && !a_second) {
            ap = a2;
            ar = an2;
            a_second = true;
        }
        if (br == 0 && !b_second) {
            bp = b2;
            br = bn2;
            b_second = true;
        }
        if (ar == 0 || br == 0)
            return (ar > 0) - (br > 0);
        size_t n = ar < br ? ar : br;
        int c = memcmp(ap, bp, n);
        if (c != 0)
            return c;
        ap += n;
        bp += n;
        ar -= n;
        br -= n;
    }
}

/* Order of two valid sources' entries in walk order: < 0 when a comes
 * first. */
static int src_cmp(const ewalk *w, const ewalk_src *a, const ewalk_src *b)
{
    int c;
    if (w->layout == EWALK_VDATA)
        c = cat_cmp(a->d.mv_data, a->d.mv_size - 1, NULL, 0, b->d.mv_data, b->d.mv_size - 1, NULL,
                    0);
    else if (w->dup)
        c = cat_cmp((const uint8_t *)a->k.mv_data + w->strip, a->k.mv_size - w->strip, a->d.mv_data,
                    16, (const uint8_t *)b->k.mv_data + w->strip, b->k.mv_size - w->strip,
                    b->d.mv_data, 16);
    else
        c = cat_cmp((const uint8_t *)a->k.mv_data + w->strip, a->k.mv_size - w->strip, NULL, 0,
                    (const uint8_t *)b->k.mv_data + w->strip, b->k.mv_size - w->strip, NULL, 0);
    return w->desc ? -c : c;
}

/* The key prefix of source s: its scope (dup) then the walk's part. */
static size_t src_prefix(const ewalk *w, const ewalk_src *s, uint8_t *out)
{
    size_t n = 0;
    if (w->dup) {
        memcpy(out, s->scope, 16);
        n = 16;
    }
    memcpy(out + n, w->part, w->pn);
    return n + w->pn;
}

/* Settles s after a positioning that returned rc: valid when it is on an
 * entry of its range. */
static int src_settle(const ewalk *w, ewalk_src *s, int rc)
{
    s->valid = false;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    const uint8_t *k = s->k.mv_data;
    if (w->layout == EWALK_VDATA) {
        if (s->k.mv_size != 16 || memcmp(k, s->scope, 16) != 0 || s->d.mv_size < w->pn + 17 ||
            memcmp(s->d.mv_data, w->part, w->pn) != 0)
            return 0;
    } else if (w->dup) {
        if (s->k.mv_size < 16 + w->pn || memcmp(k, s->scope, 16) != 0 ||
            memcmp(k + 16, w->part, w->pn) != 0 || s->d.mv_size < 16)
            return 0;
    } else if (s->k.mv_size < w->pn + 16 || memcmp(k, w->part, w->pn) != 0) {
        return 0;
    }
    s->valid = true;
    return 0;
}

/* ---------------------------------------------- values in data (VDATA) */

/* Positions a values-in-data source on the last duplicate of its scope. */
static int vdata_last(ewalk_src *s)
{
    s->k = (MDB_val){16, s->scope};
    int rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_KEY);
    if (rc == 0)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_LAST_DUP);
    return rc;
}

/* Positions a values-in-data source on the first duplicate of its scope
 * not below d[0..dn) (MDB_NOTFOUND: none). */
static int vdata_at_least(ewalk_src *s, const uint8_t *d, size_t dn)
{
    s->k = (MDB_val){16, s->scope};
    if (dn == 0)
        return mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_KEY);
    s->d = (MDB_val){dn, (void *)d};
    return mdb_cursor_get(s->c, &s->k, &s->d, MDB_GET_BOTH_RANGE);
}

/* Positions a values-in-data source on the last duplicate of its scope
 * below d[0..dn) (dn > 0). */
static int vdata_below(ewalk_src *s, const uint8_t *d, size_t dn)
{
    int rc = vdata_at_least(s, d, dn);
    if (rc == 0)
        return mdb_cursor_get(s->c, &s->k, &s->d, MDB_PREV_DUP);
    if (rc == MDB_NOTFOUND)
        return vdata_last(s); /* every duplicate is below, or none */
    return rc;
}

static int vdata_first(const ewalk *w, ewalk_src *s)
{
    if (!w->desc)
        return src_settle(w, s, vdata_at_least(s, w->part, w->pn));
    /* The last duplicate starting with part: the one before the first
     * duplicate past every one starting with it (as in src_first). */
    uint8_t p[KEY_MAX];
    size_t pn = w->pn;
    memcpy(p, w->part, pn);
    while (pn > 0 && p[pn - 1] == 0xff)
        pn--;
    if (pn == 0)
        return src_settle(w, s, vdata_last(s));
    p[pn - 1]++;
    return src_settle(w, s, vdata_below(s, p, pn));
}

/* Strictly after order key ord[0..on) in walk order. */
static int vdata_seek_after(const ewalk *w, ewalk_src *s, const uint8_t *ord, size_t on)
{
    if (w->desc)
        return src_settle(w, s, vdata_below(s, ord, on));
    int rc = vdata_at_least(s, ord, on);
    if (rc == 0 && s->d.mv_size == on + 1 && memcmp(s->d.mv_data, ord, on) == 0)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_NEXT_DUP);
    return src_settle(w, s, rc);
}

/* ------------------------------------------------------------ a source */

static int src_first(const ewalk *w, ewalk_src *s)
{
    if (w->layout == EWALK_VDATA)
        return vdata_first(w, s);
    uint8_t p[KEY_MAX + 16];
    size_t pn = src_prefix(w, s, p);
    int rc;
    if (!w->desc) {
        if (pn == 0) {
            rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_FIRST);
        } else {
            s->k = (MDB_val){pn, p};
            rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_RANGE);
        }
        return src_settle(w, s, rc);
    }
    /* The last key starting with p: the one before the first key past
     * every key starting with p (p with its last byte that is not 0xff
     * raised by one, the 0xff bytes after it dropped). */
    while (pn > 0 && p[pn - 1] == 0xff)
        pn--;
    if (pn == 0) {
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_LAST);
        return src_settle(w, s, rc);
    }
    p[pn - 1]++;
    s->k = (MDB_val){pn, p};
    rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_PREV);
    return src_settle(w, s, rc);
}

/* Positions a duplicate-sorted source strictly after (key K, id I) in walk
 * order. */
static int dup_seek_after(const ewalk *w, ewalk_src *s, const uint8_t *key, size_t kn,
                          const uint8_t *id)
{
    MDB_val k = {kn, (void *)key}, d = {16, (void *)id};
    int rc = mdb_cursor_get(s->c, &k, &d, MDB_GET_BOTH_RANGE);
    if (rc == 0) {
        /* On the first duplicate of K not below I. */
        s->k = k;
        s->d = d;
        if (!w->desc && memcmp(d.mv_data, id, 16) != 0)
            return src_settle(w, s, 0);
        rc = mdb_cursor_get(s->c, &s->k, &s->d, w->desc ? MDB_PREV : MDB_NEXT);
        return src_settle(w, s, rc);
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    /* No duplicate of K at or above I: K is missing, or all of its
     * duplicates are below I. */
    s->k = (MDB_val){kn, (void *)key};
    rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_RANGE);
    bool on_k = rc == 0 && s->k.mv_size == kn && memcmp(s->k.mv_data, key, kn) == 0;
    if (!w->desc) {
        if (on_k)
            rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_NEXT_NODUP);
        return src_settle(w, s, rc);
    }
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(s->c, &s->k, &s->d, on_k ? MDB_LAST_DUP : MDB_PREV);
    return src_settle(w, s, rc);
}

static int src_seek_after(const ewalk *w, ewalk_src *s, const uint8_t *ord, size_t on)
{
    uint8_t key[KEY_MAX + EWALK_ORD_MAX];
    if (w->layout == EWALK_VDATA)
        return vdata_seek_after(w, s, ord, on);
    if (w->dup) {
        memcpy(key, s->scope, 16);
        memcpy(key + 16, ord, on - 16);
        return dup_seek_after(w, s, key, 16 + on - 16, ord + on - 16);
    }
    memcpy(key, w->part, w->pn);
    memcpy(key + w->pn, ord, on);
    int rc = cursor_seek_after(s->c, key, w->pn + on, w->desc, &s->k, &s->d);
    return src_settle(w, s, rc);
}

static int src_seek_value(const ewalk *w, ewalk_src *s, const uint8_t *val, size_t vn)
{
    uint8_t key[KEY_MAX + EWALK_ORD_MAX];
    if (w->layout == EWALK_VDATA) {
        memcpy(key, w->part, w->pn);
        memcpy(key + w->pn, val, vn);
        return src_settle(w, s, vdata_at_least(s, key, w->pn + vn));
    }
    size_t n = src_prefix(w, s, key);
    memcpy(key + n, val, vn);
    s->k = (MDB_val){n + vn, key};
    int rc = mdb_cursor_get(s->c, &s->k, &s->d, MDB_SET_RANGE);
    return src_settle(w, s, rc);
}

/* ------------------------------------------------------------ the merge */

static void heap_down(ewalk *w, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->hn && src_cmp(w, &w->src[w->heap[l]], &w->src[w->heap[m]]) < 0)
            m = l;
        if (r < w->hn && src_cmp(w, &w->src[w->heap[r]], &w->src[w->heap[m]]) < 0)
            m = r;
        if (m == i)
            return;
        size_t x = w->heap[i];
        w->heap[i] = w->heap[m];
        w->heap[m] = x;
        i = m;
    }
}

/* The current entry: the best source's, copied into w->ord. */
static void settle_current(ewalk *w)
{
    w->on = 0;
    const ewalk_src *s = NULL;
    if (w->n == 1)
        s = w->src[0].valid ? &w->src[0] : NULL;
    else if (w->hn > 0)
        s = &w->src[w->heap[0]];
    if (s == NULL)
        return;
    if (w->layout == EWALK_VDATA) {
        w->on = s->d.mv_size - 1;
        memcpy(w->ord, s->d.mv_data, w->on);
        w->data = s->d;
        return;
    }
    size_t kn = s->k.mv_size - w->strip;
    memcpy(w->ord, (const uint8_t *)s->k.mv_data + w->strip, kn);
    if (w->dup) {
        memcpy(w->ord + kn, s->d.mv_data, 16);
        kn += 16;
    }
    w->on = kn;
    w->data = s->d;
}

/* Rebuilds the heap from every valid source. */
static void heap_build(ewalk *w)
{
    if (w->n == 1) {
        settle_current(w);
        return;
    }
    w->hn = 0;
    for (size_t i = 0; i < w->n; i++)
        if (w->src[i].valid)
            w->heap[w->hn++] = i;
    for (size_t i = w->hn / 2; i-- > 0;)
        heap_down(w, i);
    settle_current(w);
}

int ewalk_open(ewalk *w, MDB_txn *txn, MDB_dbi dbi, ewalk_layout layout,
               const uint8_t (*scopes)[16], size_t n_scopes, const uint8_t *part, size_t pn,
               bool desc, cursor_pool *pool)
{
    memset(w, 0, sizeof *w);
    bool dup = layout != EWALK_PLAIN;
    w->layout = layout;
    w->dup = dup;
    w->desc = desc;
    if (pn)
        memcpy(w->part, part, pn);
    w->pn = pn;
    w->strip = dup ? 16 : pn;
    size_t n = dup ? n_scopes : 1;
    if (n == 0)
        return 0; /* nothing to walk */
    w->src = calloc(n, sizeof *w->src);
    w->cur = malloc(n * sizeof *w->cur);
    w->heap = n > 1 ? malloc(n * sizeof *w->heap) : NULL;
    if (w->src == NULL || w->cur == NULL || (n > 1 && w->heap == NULL))
        return ENOMEM;
    int rc = cursor_pool_take(pool, txn, dbi, w->cur, n);
    if (rc != 0)
        return rc;
    w->pool = pool;
    w->dbi = dbi;
    w->n = n;
    for (size_t i = 0; i < n; i++) {
        w->src[i].c = w->cur[i];
        if (dup)
            memcpy(w->src[i].scope, scopes[i], 16);
    }
    return 0;
}

void ewalk_close(ewalk *w)
{
    if (w->n > 0)
        cursor_pool_give(w->pool, w->dbi, w->cur, w->n);
    free(w->src);
    free(w->cur);
    free(w->heap);
    w->src = NULL;
    w->cur = NULL;
    w->heap = NULL;
    w->n = w->hn = w->on = 0;
}

int ewalk_first(ewalk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        int rc = src_first(w, &w->src[i]);
        if (rc != 0)
            return rc;
    }
    heap_build(w);
    return 0;
}

int ewalk_seek_after(ewalk *w, const uint8_t *ord, size_t on)
{
    for (size_t i = 0; i < w->n; i++) {
        int rc = src_seek_after(w, &w->src[i], ord, on);
        if (rc != 0)
            return rc;
    }
    heap_build(w);
    return 0;
}

int ewalk_seek_value(ewalk *w, const uint8_t *val, size_t vn)
{
    for (size_t i = 0; i < w->n; i++) {
        int rc = src_seek_value(w, &w->src[i], val, vn);
        if (rc != 0)
            return rc;
    }
    heap_build(w);
    return 0;
}

int ewalk_next(ewalk *w)
{
    if (w->on == 0)
        return 0;
    ewalk_src *s = w->n == 1 ? &w->src[0] : &w->src[w->heap[0]];
    MDB_cursor_op op = w->desc ? MDB_PREV : MDB_NEXT;
    if (w->layout == EWALK_VDATA)
        op = w->desc ? MDB_PREV_DUP : MDB_NEXT_DUP;
    int rc = mdb_cursor_get(s->c, &s->k, &s->d, op);
    if ((rc = src_settle(w, s, rc)) != 0)
        return rc;
    if (w->n > 1) {
        if (!s->valid)
            w->heap[0] = w->heap[--w->hn];
        if (w->hn > 0 && !w->unordered)
            heap_down(w, 0);
    }
    settle_current(w);
    return 0;
}

void ewalk_unordered(ewalk *w)
{
    w->unordered = true;
}

void ewalk_drop_current(ewalk *w)
{
    if (w->on == 0)
        return;
    if (w->n == 1) {
        w->src[0].valid = false;
    } else {
        w->src[w->heap[0]].valid = false;
        w->heap[0] = w->heap[--w->hn];
        if (w->hn > 0 && !w->unordered)
            heap_down(w, 0);
    }
    settle_current(w);
}

uint8_t ewalk_flags(const ewalk *w)
{
    if (w->layout == EWALK_VDATA)
        return w->data.mv_size ? ((const uint8_t *)w->data.mv_data)[w->data.mv_size - 1] : 0;
    if (w->dup)
        return w->data.mv_size > 16 ? ((const uint8_t *)w->data.mv_data)[16] : 0;
    return w->data.mv_size ? *(const uint8_t *)w->data.mv_data : 0;
}

int ewalk_scopes(MDB_txn *txn, MDB_dbi idx_tenant, uint8_t (**out)[16], size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, idx_tenant, &c);
    if (rc != 0)
        return rc;
    size_t cap = 0;
    uint8_t(*v)[16] = NULL;
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_NODUP)) {
        if (k.mv_size != 16)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint8_t(*nv)[16] = realloc(v, nc * sizeof *nv);
            if (nv == NULL) {
                rc = ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        memcpy(v[(*n)++], k.mv_data, 16);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) {
        free(v);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}
