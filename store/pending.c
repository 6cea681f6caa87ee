/* The deferred index entries of a write group (store_pending_add).
 *
 * A created user owns ~20 index entries; the non-unique ones (idx_tenant,
 * the sort indexes) are not written by the create but queued here, one
 * queue per database (key and data bytes appended to the database's
 * buffer, a pending_entry pointing at them), and written at commit by
 * store_pending_flush, sorted by key: through one cursor per database,
 * each entry then lands next to the one before, usually on the same leaf
 * page, instead of a search from the root to a random page per entry. It
 * also keeps the nested transaction of a create small (the record and its
 * unique entries only), which is what nested transactions pay for per
 * page. A queue per database keeps each database's entries together in
 * memory: a queue that arrives in order (ids, creation times, a value all
 * users share) is written by one sequential pass over its buffer.
 *
 * This is correct because nothing reads those entries before the commit:
 * lists run in read transactions, which never see an uncommitted group,
 * and the operations of the group read only the records and the unique
 * indexes (uniqueness, existence), which are written at once. The
 * exceptions are an update or delete of a user and a tenant's delete,
 * which read or replace entries: they flush the queues into the group's
 * transaction first (store_pending_flush), so the entries are in place.
 * The queued writes can fail only for lack of resources, which fails the
 * commit as any commit can.
 *
 * Direct appends (bulk groups). A bulk group's operations write straight
 * into its transaction (store_op_begin), so an entry can be written as it
 * comes when it falls past the database's last entry: LMDB then appends
 * it (MDB_APPEND, MDB_APPENDDUP) through a cursor kept at the end of the
 * database, and nothing is queued, copied, sorted or read back at commit.
 * A database earns that by a probation: its queue begins as usual, and
 * once PENDING_PROBATION entries have arrived in order and past the
 * database's end, they are written and the database goes direct. The
 * first entry that is not past the end goes back to the queue, and the
 * database stays queued for the rest of the group (until a flush), so a
 * database whose entries arrive in no order (names, emails) is queued
 * whole and written sorted, filling its pages, as it was before direct
 * appends. A direct append happens where a queued entry would have been
 * queued: after every check that can refuse the operation, so a refused
 * operation still writes nothing (store_op_end). */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Queue memory (grow): its first size, and from which size it asks for
 * transparent huge pages. */
#define PENDING_FIRST ((size_t)64 << 10)
#define PENDING_HUGE  ((size_t)4 << 20)

/* Entries in order past the end of a database before it goes direct. */
#define PENDING_PROBATION 1024

/* From this many queued entries the queues are sorted in two threads.
 * Low in debug builds, so that the tests take the threaded path. */
#ifdef NDEBUG
#define PENDING_THREAD_SORT ((size_t)1 << 20)
#else
#define PENDING_THREAD_SORT ((size_t)16384)
#endif

/* An index entry whose write is deferred. */
typedef struct pending_entry {
    uint32_t off; /* key then data, in the queue's buffer */
    uint16_t klen;
    uint16_t dlen;
    uint32_t sym; /* sorting's cache of three positions */
} pending_entry;

/* A database's queue, and its end when it is appended to directly. */
struct pending_db {
    MDB_dbi dbi;
    pending_entry *e; /* a mapping of e_cap bytes, or NULL (grow) */
    size_t n, e_cap;
    uint8_t *buf; /* a mapping of buf_cap bytes, or NULL */
    size_t len, buf_cap;
    /* n and len when the operation op_gen began (store_pending_op_begin):
     * what an operation that fails is cut back to. */
    uint64_t op_gen;
    size_t op_n, op_len;
    /* The queue is sorted, and (past_end) past the database's end as
     * read by c. */
    bool ordered, past_end;
    bool direct;  /* entries are appended through c as they come */
    bool refused; /* out of order once: queued until the next flush */
    /* Bulk groups: a cursor on the group's transaction at the database's
     * end, and a copy of its last entry (none when empty). */
    MDB_cursor *c;
    bool dup, empty;
    uint16_t last_klen, last_dlen;
    uint8_t last_key[STORE_MDB_VAL_MAX], last_data[STORE_MDB_VAL_MAX];
};

static inline int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return store_bytes_cmp(a, an, b, bn);
}

/* Key, then data: the order of a duplicate-sorted database's entries. */
static int pending_cmp(const pending_entry *a, const pending_entry *b, const uint8_t *buf)
{
    int c = bytes_cmp(buf + a->off, a->klen, buf + b->off, b->klen);
    if (c == 0)
        c = bytes_cmp(buf + a->off + a->klen, a->dlen, buf + b->off + b->klen, b->dlen);
    return c;
}

/* (k, d) against p's last entry, in the database's order. */
static int last_cmp(const pending_db *p, const uint8_t *k, size_t klen, const uint8_t *d,
                    size_t dlen)
{
    int c = bytes_cmp(k, klen, p->last_key, p->last_klen);
    if (c == 0 && p->dup)
        c = bytes_cmp(d, dlen, p->last_data, p->last_dlen);
    return c;
}

static void set_last(pending_db *p, const void *k, size_t klen, const void *d, size_t dlen)
{
    memcpy(p->last_key, k, klen);
    p->last_klen = (uint16_t)klen;
    if (p->dup) {
        memcpy(p->last_data, d, dlen);
        p->last_dlen = (uint16_t)dlen;
    }
    p->empty = false;
}

/* Opens p's cursor on w's transaction at the database's end. */
static int end_open(store_wtxn *w, pending_db *p)
{
    unsigned flags;
    int rc;
    if ((rc = mdb_dbi_flags(w->txn, p->dbi, &flags)) != 0 ||
        (rc = mdb_cursor_open(w->txn, p->dbi, &p->c)) != 0)
        return rc;
    p->dup = (flags & MDB_DUPSORT) != 0;
    MDB_val k, d;
    rc = mdb_cursor_get(p->c, &k, &d, MDB_LAST);
    p->empty = rc == MDB_NOTFOUND;
    if (rc == 0 && (k.mv_size > STORE_MDB_VAL_MAX || (p->dup && d.mv_size > STORE_MDB_VAL_MAX)))
        rc = MDB_BAD_VALSIZE;
    if (rc == 0)
        set_last(p, k.mv_data, k.mv_size, d.mv_data, d.mv_size);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_cursor_close(p->c);
        p->c = NULL;
        return rc;
    }
    return 0;
}

static void end_close(pending_db *p)
{
    mdb_cursor_close(p->c);
    p->c = NULL;
    p->direct = false;
}

/* Appends (k, d), which is past p's end, through p's cursor. */
static int end_put(pending_db *p, const void *k, size_t klen, const void *d, size_t dlen)
{
    MDB_val kv = {klen, (void *)k}, dv = {dlen, (void *)d};
    bool same_key = !p->empty && p->dup && bytes_cmp(k, klen, p->last_key, p->last_klen) == 0;
    int rc = mdb_cursor_put(p->c, &kv, &dv, same_key ? MDB_APPENDDUP : MDB_APPEND);
    if (rc == 0)
        set_last(p, k, klen, d, dlen);
    return rc;
}

/* The error of a failed direct write. A write that fails has failed the
 * group (store_op_end): never reported as one of the errors by which an
 * operation refuses before writing (MDB_KEYEXIST, MDB_NOTFOUND would
 * be). */
static int write_err(int rc)
{
    return rc == MDB_KEYEXIST || rc == MDB_NOTFOUND ? ROSTER_E_INTERNAL : store_mdb_err(rc);
}

static pending_db *db_get(store_wtxn *w, MDB_dbi dbi)
{
    if (dbi >= STORE_PENDING_DBS)
        return NULL;
    pending_db *p = w->pdb[dbi];
    if (p == NULL) {
        if ((p = calloc(1, sizeof *p)) == NULL)
            return NULL;
        p->dbi = dbi;
        p->ordered = true;
        w->pdb[dbi] = p;
    }
    return p;
}

/* Queue memory: its own mappings, grown by doubling (mremap moves pages,
 * never copies them) and asking for transparent huge pages. A load's
 * queues reach hundreds of megabytes, filled once and read back at
 * commit; in 4 KiB pages their fresh memory costs a page fault each, a
 * large part of queueing an entry. *mem is NULL or a mapping of *cap
 * bytes; grows it to at least `need` bytes. */
static bool grow(void **mem, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : PENDING_FIRST;
    while (c < need)
        c *= 2;
    void *m = *mem == NULL
                  ? mmap(NULL, c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                  : mremap(*mem, *cap, c, MREMAP_MAYMOVE);
    if (m == MAP_FAILED)
        return false;
    if (c >= PENDING_HUGE)
        madvise(m, c, MADV_HUGEPAGE); /* advice: a failure changes nothing */
    *mem = m;
    *cap = c;
    return true;
}

static void unmap(void *mem, size_t cap)
{
    if (mem != NULL)
        munmap(mem, cap);
}

static int queue_add(store_wtxn *w, pending_db *p, const void *key, size_t klen, const void *data,
                     size_t dlen)
{
    if ((p->n + 1) * sizeof *p->e > p->e_cap &&
        !grow((void **)&p->e, &p->e_cap, (p->n + 1) * sizeof *p->e))
        return ROSTER_E_NOMEM;
    if (p->len + klen + dlen > p->buf_cap &&
        !grow((void **)&p->buf, &p->buf_cap, p->len + klen + dlen))
        return ROSTER_E_NOMEM;
    if (p->op_gen != w->op_gen) {
        p->op_gen = w->op_gen;
        p->op_n = p->n;
        p->op_len = p->len;
    }
    pending_entry *e = &p->e[p->n++];
    e->off = (uint32_t)p->len;
    e->klen = (uint16_t)klen;
    e->dlen = (uint16_t)dlen;
    memcpy(p->buf + p->len, key, klen);
    memcpy(p->buf + p->len + klen, data, dlen);
    p->len += klen + dlen;
    if (p->ordered && p->n > 1 && pending_cmp(&p->e[p->n - 2], e, p->buf) >= 0)
        p->ordered = false;
    w->n_pending++;
    return ROSTER_E_OK;
}

/* Writes p's queue, in order and past the end, through its cursor and
 * empties it. */
static int queue_append(store_wtxn *w, pending_db *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const pending_entry *e = &p->e[i];
        const uint8_t *k = p->buf + e->off;
        int rc = end_put(p, k, e->klen, k + e->klen, e->dlen);
        if (rc != 0)
            return rc;
    }
    w->n_pending -= p->n;
    p->n = p->len = 0;
    p->op_n = p->op_len = 0;
    return 0;
}

/* A bulk group's entry: appended when p is direct and the entry past its
 * end, else queued; a queue on probation goes direct once it has earned
 * it. */
static int bulk_add(store_wtxn *w, pending_db *p, const void *key, size_t klen, const void *data,
                    size_t dlen)
{
    int rc;
    if (p->direct) {
        if (p->empty || last_cmp(p, key, klen, data, dlen) > 0)
            return write_err(end_put(p, key, klen, data, dlen));
        end_close(p);
        p->refused = true;
    }
    if (!p->refused && p->n == 0) {
        /* The first entry of a probation: is it past the end? */
        if (p->c == NULL && (rc = end_open(w, p)) != 0)
            return write_err(rc);
        p->past_end = p->empty || last_cmp(p, key, klen, data, dlen) > 0;
    }
    int err = queue_add(w, p, key, klen, data, dlen);
    if (err != ROSTER_E_OK || p->refused)
        return err;
    if (!p->ordered || !p->past_end) {
        /* Not in order: queued until the next flush. */
        end_close(p);
        p->refused = true;
        return ROSTER_E_OK;
    }
    if (p->n < PENDING_PROBATION)
        return ROSTER_E_OK;
    if ((rc = queue_append(w, p)) != 0)
        return write_err(rc);
    p->direct = true;
    return ROSTER_E_OK;
}

int store_pending_add(store_wtxn *w, MDB_dbi dbi, const void *key, size_t klen, const void *data,
                      size_t dlen)
{
    pending_db *p = db_get(w, dbi);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    if (w->bulk)
        return bulk_add(w, p, key, klen, data, dlen);
    return queue_add(w, p, key, klen, data, dlen);
}

void store_pending_op_begin(store_wtxn *w)
{
    w->op_gen++;
}

void store_pending_op_failed(store_wtxn *w)
{
    for (size_t i = 0; i < STORE_PENDING_DBS; i++) {
        pending_db *p = w->pdb[i];
        if (p == NULL || p->op_gen != w->op_gen)
            continue;
        w->n_pending -= p->n - p->op_n;
        p->n = p->op_n;
        p->len = p->op_len;
        /* Whether the entries left are in order is not known again
         * cheaply: sorting will tell. */
    }
}

/* Queued entries are read in an order (sorted) other than the one they
 * were queued in, so their bytes are scattered over the buffer: passes
 * over a sorted queue ask for the bytes of the entry PENDING_AHEAD places
 * on before they need them, so that the cache misses overlap instead of
 * following one another. */
#define PENDING_AHEAD 16

static inline void pending_prefetch(const pending_entry *e, const uint8_t *buf)
{
    const uint8_t *p = buf + e->off;
    __builtin_prefetch(p);
    __builtin_prefetch(p + e->klen + e->dlen - 1);
}

/* Sorting a queue.
 *
 * A queue is sorted as strings: an entry is the string of its key bytes,
 * an end-of-key mark, its data bytes and an end mark, where pending_pos
 * gives the symbol at a position, chosen so that the strings' order is
 * pending_cmp's (a key that is a prefix of another sorts first whatever
 * the data: the end-of-key mark, 1, is below every byte, 2..257; the end
 * mark, 0, below that, and every position past the end is 0 too). A
 * multikey quicksort (Bentley and Sedgewick) partitions three ways on one
 * symbol and goes on with the next one only inside the equal part, so the
 * long common prefixes of index keys (a tenant's 16-byte scope, a shared
 * value) are read once per level rather than by every comparison of a
 * qsort. The symbol is three positions at a time, packed in base 258 into
 * the entry's `sym` (pending_sym): partitions read it from the queue in
 * order, and only the step into an equal part reads the entries' bytes in
 * the buffer (scattered once sorting has moved them). Measured against
 * qsort_r with pending_cmp on the same queues (docs/bench/rosterctl.md):
 * 2.5 to 3 times less CPU for a million emails or first names. */
static unsigned pending_pos(const pending_entry *e, size_t p, const uint8_t *buf)
{
    if (p < e->klen)
        return buf[e->off + p] + 2u;
    if (p == e->klen)
        return 1;
    p -= (size_t)e->klen + 1;
    return p < e->dlen ? buf[e->off + e->klen + p] + 2u : 0;
}

/* Compares two entries that agree on their first d positions. */
static int pending_cmp_from(const pending_entry *a, const pending_entry *b, size_t d,
                            const uint8_t *buf)
{
    for (;; d++) {
        unsigned x = pending_pos(a, d, buf), y = pending_pos(b, d, buf);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
}

/* How many positions from d on every entry of a[0..n) shares with a[0]
 * (at most 64): an equal part whose strings share a long prefix (a
 * tenant's scope, a common value, the time bits of ids) skips it in one
 * pass instead of one pass per symbol. */
static size_t pending_common(const pending_entry *a, size_t n, size_t d, const uint8_t *buf)
{
    size_t lcp = 64;
    for (size_t i = 1; i < n && lcp > 0; i++) {
        size_t l = 0;
        while (l < lcp) {
            unsigned x = pending_pos(&a[0], d + l, buf);
            if (x != pending_pos(&a[i], d + l, buf) || x == 0)
                break;
            l++;
        }
        lcp = l;
    }
    return lcp;
}

static void pending_sym(pending_entry *a, size_t n, size_t d, const uint8_t *buf)
{
    for (size_t i = 0; i < n; i++)
        a[i].sym = (pending_pos(&a[i], d, buf) * 258u + pending_pos(&a[i], d + 1, buf)) * 258u +
                   pending_pos(&a[i], d + 2, buf);
}

static void pending_swap(pending_entry *a, pending_entry *b)
{
    pending_entry t = *a;
    *a = *b;
    *b = t;
}

static uint32_t median3(uint32_t a, uint32_t b, uint32_t c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

/* Sorts a[0..n), whose entries agree on their first d positions, with
 * `sym` holding positions d..d+2. */
static void pending_mkqs(pending_entry *a, size_t n, size_t d, const uint8_t *buf)
{
    for (;;) {
        if (n < 12) {
            for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && pending_cmp_from(&a[j - 1], &a[j], d, buf) > 0; j--)
                    pending_swap(&a[j - 1], &a[j]);
            return;
        }
        uint32_t v = median3(a[0].sym, a[n / 2].sym, a[n - 1].sym);
        size_t lt = 0, i = 0, gt = n;
        while (i < gt) {
            uint32_t c = a[i].sym;
            if (c < v)
                pending_swap(&a[lt++], &a[i++]);
            else if (c > v)
                pending_swap(&a[i], &a[--gt]);
            else
                i++;
        }
        /* [0, lt) below v, [lt, gt) equal, [gt, n) above. The equal part
         * goes on with the next symbol, unless its strings have ended:
         * then they are equal. The largest part is sorted by the loop,
         * the others by recursion, so the stack grows with the logarithm
         * of n only. */
        struct {
            pending_entry *a;
            size_t n, d;
        } part[3] = {{a, lt, d}, {a + lt, gt - lt, d + 3}, {a + gt, n - gt, d}};
        if (v % 258u == 0) {
            part[1].n = 0;
        } else if (part[1].n >= 12) {
            part[1].d += pending_common(part[1].a, part[1].n, part[1].d, buf);
            pending_sym(part[1].a, part[1].n, part[1].d, buf);
        }
        int big = 0;
        for (int k = 1; k < 3; k++)
            if (part[k].n > part[big].n)
                big = k;
        for (int k = 0; k < 3; k++)
            if (k != big && part[k].n > 1)
                pending_mkqs(part[k].a, part[k].n, part[k].d, buf);
        a = part[big].a;
        n = part[big].n;
        d = part[big].d;
    }
}

/* Sorts the queue of p unless it is known to be in order. A queue whose
 * order was lost by a failed operation's entries is checked first: one
 * pass over neighbours. */
static void queue_sort(pending_db *p)
{
    pending_entry *a = p->e;
    size_t n = p->n, i = 1;
    if (p->ordered || n < 2)
        return;
    while (i < n && pending_cmp(&a[i - 1], &a[i], p->buf) <= 0)
        i++;
    if (i < n) {
        size_t d = pending_common(a, n, 0, p->buf);
        pending_sym(a, n, d, p->buf);
        pending_mkqs(a, n, d, p->buf);
    }
    p->ordered = true;
}

typedef struct sort_job {
    pending_db *db[STORE_PENDING_DBS];
    size_t n_db, entries;
} sort_job;

static void *sort_job_run(void *arg)
{
    sort_job *j = arg;
    for (size_t i = 0; i < j->n_db; i++)
        queue_sort(j->db[i]);
    return NULL;
}

/* Sorts every queue of w that is not in order: in two threads when they
 * hold PENDING_THREAD_SORT entries or more, each queue going to the
 * thread with fewer entries so far, largest queue first. */
static void queues_sort(store_wtxn *w)
{
    sort_job job[2] = {{{0}}};
    size_t total = 0;
    for (;;) {
        pending_db *big = NULL;
        for (size_t i = 0; i < STORE_PENDING_DBS; i++) {
            pending_db *p = w->pdb[i];
            bool taken = false;
            for (int t = 0; t < 2 && !taken; t++)
                for (size_t k = 0; k < job[t].n_db; k++)
                    taken = taken || job[t].db[k] == p;
            if (p != NULL && !p->ordered && p->n > 1 && !taken && (big == NULL || p->n > big->n))
                big = p;
        }
        if (big == NULL)
            break;
        sort_job *j = &job[job[1].entries < job[0].entries];
        j->db[j->n_db++] = big;
        j->entries += big->n;
        total += big->n;
    }
    pthread_t th;
    bool threaded = total >= PENDING_THREAD_SORT && job[1].n_db > 0 &&
                    pthread_create(&th, NULL, sort_job_run, &job[1]) == 0;
    sort_job_run(&job[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        sort_job_run(&job[1]);
}

/* For the first pending entry (k, d) of a run of entries with key k in a
 * duplicate-sorted database: whether the run can go on with MDB_APPENDDUP
 * (no search inside the key's duplicates, their pages filled to the brim
 * instead of split in half). True when k has no duplicates yet (the run's
 * first put makes the key; every later one of the sorted run is greater)
 * or when d sorts after its last one (new ids do). Moves c. */
static int dup_run_appends(MDB_cursor *c, const MDB_val *k, const MDB_val *d, bool *appends,
                           bool *key_exists)
{
    MDB_val kk = *k, last;
    int rc = mdb_cursor_get(c, &kk, &last, MDB_SET);
    if (rc == MDB_NOTFOUND) {
        *appends = true;
        *key_exists = false;
        return 0;
    }
    if (rc == 0)
        rc = mdb_cursor_get(c, &kk, &last, MDB_LAST_DUP);
    if (rc != 0)
        return rc;
    *key_exists = true;
    *appends = bytes_cmp(d->mv_data, d->mv_size, last.mv_data, last.mv_size) > 0;
    return 0;
}

/* Writes p's sorted queue into w's transaction. */
static int queue_write(store_wtxn *w, pending_db *p)
{
    MDB_cursor *c = NULL;
    unsigned dbflags;
    int rc;
    if ((rc = mdb_dbi_flags(w->txn, p->dbi, &dbflags)) != 0 ||
        (rc = mdb_cursor_open(w->txn, p->dbi, &c)) != 0)
        return rc;
    bool dup = (dbflags & MDB_DUPSORT) != 0, run_appends = false;
    /* Entries past the database's last key (all of them in an empty
     * database, new ids and times in the append-only ones) go on with
     * MDB_APPEND: no search, and pages filled to the brim instead of split
     * in half. The entries are sorted, so once one is past the end every
     * later one is too. */
    uint8_t last_buf[STORE_MDB_VAL_MAX];
    MDB_val last_key = {0, last_buf}, lk, ld;
    rc = mdb_cursor_get(c, &lk, &ld, MDB_LAST);
    bool appending = rc == MDB_NOTFOUND;
    if (rc == 0 && lk.mv_size > sizeof last_buf)
        rc = MDB_BAD_VALSIZE;
    if (rc == 0) {
        /* Copied: a put may move the key's bytes on its page. */
        memcpy(last_buf, lk.mv_data, lk.mv_size);
        last_key.mv_size = lk.mv_size;
    } else if (rc != MDB_NOTFOUND) {
        mdb_cursor_close(c);
        return rc;
    }
    rc = 0;
    const pending_entry *prev = NULL;
    const uint8_t *buf = p->buf;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        const pending_entry *e = &p->e[i];
        if (i + PENDING_AHEAD < p->n)
            pending_prefetch(&p->e[i + PENDING_AHEAD], buf);
        MDB_val k = {e->klen, (void *)(buf + e->off)},
                d = {e->dlen, (void *)(buf + e->off + e->klen)};
        bool same_key = prev != NULL && prev->klen == e->klen &&
                        memcmp(buf + prev->off, k.mv_data, k.mv_size) == 0;
        prev = e;
        if (!appending && mdb_cmp(w->txn, p->dbi, &k, &last_key) > 0)
            appending = true;
        unsigned flags = 0;
        if (!dup) {
            flags = appending ? MDB_APPEND : 0;
        } else if (appending) {
            /* A new key past the end, then its sorted duplicates. */
            flags = same_key ? MDB_APPENDDUP : MDB_APPEND;
        } else {
            if (!same_key) {
                bool exists;
                if ((rc = dup_run_appends(c, &k, &d, &run_appends, &exists)) != 0)
                    break;
                /* A key not there yet is made by a plain put. */
                flags = exists && run_appends ? MDB_APPENDDUP : 0;
            } else {
                flags = run_appends ? MDB_APPENDDUP : 0;
            }
        }
        /* Otherwise a cursor left on the previous key finds the next one
         * on the same page without searching from the root. */
        rc = mdb_cursor_put(c, &k, &d, flags);
    }
    mdb_cursor_close(c);
    return rc;
}

void store_pending_close(store_wtxn *w)
{
    for (size_t i = 0; i < STORE_PENDING_DBS; i++) {
        pending_db *p = w->pdb[i];
        if (p == NULL)
            continue;
        end_close(p);
        p->refused = false;
    }
}

int store_pending_flush(store_wtxn *w)
{
    /* The ends the direct appends kept go first: the writes below and
     * whatever follows the flush move them. */
    store_pending_close(w);
    if (w->n_pending == 0)
        return ROSTER_E_OK;
    queues_sort(w);
    int rc = 0;
    for (size_t i = 0; i < STORE_PENDING_DBS; i++) {
        pending_db *p = w->pdb[i];
        if (p == NULL || p->n == 0)
            continue;
        if (rc == 0)
            rc = queue_write(w, p);
        p->n = p->len = 0;
        p->op_n = p->op_len = 0;
        p->ordered = true;
    }
    w->n_pending = 0;
    return store_mdb_err(rc);
}

void store_pending_free(store_wtxn *w)
{
    for (size_t i = 0; i < STORE_PENDING_DBS; i++) {
        pending_db *p = w->pdb[i];
        if (p == NULL)
            continue;
        unmap(p->e, p->e_cap);
        unmap(p->buf, p->buf_cap);
        free(p);
        w->pdb[i] = NULL;
    }
}
