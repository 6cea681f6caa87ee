#include "gql_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_names.h"
#include "gql_validate.h"

/* The document cache. Parsing and validating cost more than executing a
 * small query, and clients send the same few query texts again and again
 * (with different variables), so validated documents are kept by their
 * exact text: a hash table of 1024 chains keyed by the 64-bit FNV-1a of the
 * text (compared in full on a match) and an LRU list bounded by bytes
 * (each entry counts its document's arena and its text), under one mutex
 * held only for lookups and list updates, never while parsing. A document
 * is immutable once validated and reference counted, so a hit hands out a
 * new reference and executions hold theirs however long they last, even
 * after the entry is evicted. Misses parse outside the lock; two threads
 * missing on the same text both prepare it and the second keeps its own
 * copy uncached. Only documents that pass validation are cached, so an
 * invalid query is parsed again each time; a document larger than the
 * whole budget is returned without being kept. */
typedef struct centry centry;
struct centry {
    centry *hnext; /* bucket chain */
    centry *prev;  /* LRU list: head = most recent */
    centry *next;
    uint64_t hash;
    size_t len;
    size_t bytes;
    gql_document *doc; /* one reference held by the cache */
    char text[];
};

struct gql_cache {
    pthread_mutex_t mu;
    const gql_schema *s;
    gql_limits limits;
    size_t max_bytes;
    centry **buckets;
    size_t n_buckets;
    centry *head;
    centry *tail;
    gql_cache_stats st;
};

int gql_cache_new(gql_cache **out, const gql_schema *s, size_t max_bytes, const gql_limits *limits)
{
    gql_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ROSTER_E_NOMEM;
    c->n_buckets = 1024;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (c->buckets == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->buckets);
        free(c);
        return ROSTER_E_NOMEM;
    }
    c->s = s;
    c->limits = limits ? *limits : gql_limits_default();
    c->max_bytes = max_bytes ? max_bytes : 16u * 1024u * 1024u;
    *out = c;
    return ROSTER_E_OK;
}

static void lru_unlink(gql_cache *c, centry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(gql_cache *c, centry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

static void evict(gql_cache *c, centry *e)
{
    centry **pp = &c->buckets[e->hash % c->n_buckets];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= e->bytes;
    gql_document_free(e->doc);
    free(e);
}

void gql_cache_free(gql_cache *c)
{
    if (c == NULL)
        return;
    while (c->head)
        evict(c, c->head);
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int gql_cache_get(gql_document **out, gql_errors *errs, gql_cache *c, const char *text, size_t len)
{
    uint64_t h = gql_text_hash(text, len);
    pthread_mutex_lock(&c->mu);
    for (centry *e = c->buckets[h % c->n_buckets]; e; e = e->hnext) {
        if (e->hash == h && e->len == len && memcmp(e->text, text, len) == 0) {
            c->st.hits++;
            lru_unlink(c, e);
            lru_front(c, e);
            *out = gql_document_ref(e->doc);
            pthread_mutex_unlock(&c->mu);
            return ROSTER_E_OK;
        }
    }
    c->st.misses++;
    pthread_mutex_unlock(&c->mu);

    gql_document *doc;
    int rc = gql_prepare(&doc, errs, c->s, text, len, &c->limits);
    if (rc)
        return rc;
    size_t bytes = doc->mem_bytes + len + sizeof(centry);
    if (bytes > c->max_bytes) {
        *out = doc; /* valid but too large to keep */
        return ROSTER_E_OK;
    }
    centry *ne = malloc(sizeof *ne + len + 1);
    if (ne == NULL) {
        *out = doc;
        return ROSTER_E_OK;
    }
    memcpy(ne->text, text, len);
    ne->text[len] = '\0';
    ne->len = len;
    ne->hash = h;
    ne->bytes = bytes;
    ne->prev = ne->next = NULL;
    pthread_mutex_lock(&c->mu);
    /* Another thread may have added the same text meanwhile. */
    for (centry *e = c->buckets[h % c->n_buckets]; e; e = e->hnext) {
        if (e->hash == h && e->len == len && memcmp(e->text, text, len) == 0) {
            pthread_mutex_unlock(&c->mu);
            free(ne);
            *out = doc;
            return ROSTER_E_OK;
        }
    }
    while (c->tail && c->st.bytes + bytes > c->max_bytes) {
        evict(c, c->tail);
        c->st.evictions++;
    }
    ne->doc = gql_document_ref(doc);
    ne->hnext = c->buckets[h % c->n_buckets];
    c->buckets[h % c->n_buckets] = ne;
    lru_front(c, ne);
    c->st.entries++;
    c->st.bytes += bytes;
    pthread_mutex_unlock(&c->mu);
    *out = doc;
    return ROSTER_E_OK;
}

void gql_cache_get_stats(gql_cache_stats *out, gql_cache *c)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}
