#include "cursor_pool.h"

#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct kept {
    MDB_cursor **c;
    size_t n, cap;
} kept;

struct cursor_pool {
    pthread_mutex_t mu;
    kept db[CURSOR_POOL_DBS];
    size_t total; /* kept in all databases */
};

int cursor_pool_new(cursor_pool **out)
{
    cursor_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return ROSTER_E_OK;
}

void cursor_pool_free(cursor_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < CURSOR_POOL_DBS; i++) {
        for (size_t j = 0; j < p->db[i].n; j++)
            mdb_cursor_close(p->db[i].c[j]);
        free(p->db[i].c);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int cursor_pool_take(cursor_pool *p, MDB_txn *txn, MDB_dbi dbi, MDB_cursor **c, size_t n)
{
    size_t got = 0;
    if (p != NULL && dbi < CURSOR_POOL_DBS) {
        pthread_mutex_lock(&p->mu);
        kept *k = &p->db[dbi];
        got = n < k->n ? n : k->n;
        k->n -= got;
        p->total -= got;
        if (got > 0)
            memcpy(c, k->c + k->n, got * sizeof *c);
        pthread_mutex_unlock(&p->mu);
    }
    int rc = 0;
    size_t i = 0;
    for (; i < got && rc == 0; i++)
        rc = mdb_cursor_renew(txn, c[i]);
    for (; i < n && rc == 0; i++)
        rc = mdb_cursor_open(txn, dbi, &c[i]);
    if (rc != 0) {
        /* c[0..i-1) are usable cursors (the one at i-1 failed: a kept one
         * is still a cursor to give back, a new one was never made). */
        size_t good = i - 1 < got ? got : i - 1;
        cursor_pool_give(p, dbi, c, good);
        return rc;
    }
    return 0;
}

void cursor_pool_give(cursor_pool *p, MDB_dbi dbi, MDB_cursor **c, size_t n)
{
    size_t put = 0;
    if (p != NULL && dbi < CURSOR_POOL_DBS) {
        pthread_mutex_lock(&p->mu);
        kept *k = &p->db[dbi];
        size_t room = CURSOR_POOL_KEEP - p->total;
        size_t want = k->n + (n < room ? n : room);
        if (want > k->cap) {
            size_t cap = k->cap ? k->cap : 16;
            while (cap < want)
                cap *= 2;
            MDB_cursor **nc = realloc(k->c, cap * sizeof *nc);
            if (nc != NULL) {
                k->c = nc;
                k->cap = cap;
            }
        }
        put = k->cap > k->n ? k->cap - k->n : 0;
        if (put > want - k->n)
            put = want - k->n;
        if (put > 0)
            memcpy(k->c + k->n, c, put * sizeof *c);
        k->n += put;
        p->total += put;
        pthread_mutex_unlock(&p->mu);
    }
    for (size_t i = put; i < n; i++)
        mdb_cursor_close(c[i]);
}

size_t cursor_pool_kept(cursor_pool *p, MDB_dbi dbi)
{
    if (p == NULL || dbi >= CURSOR_POOL_DBS)
        return 0;
    pthread_mutex_lock(&p->mu);
    size_t n = p->db[dbi].n;
    pthread_mutex_unlock(&p->mu);
    return n;
}
