/* The change feed of the PostgreSQL store: events appended in the write
 * paths' transactions, retention, the scrub of a deleted user's events,
 * and the reads of ListChanges, with the LMDB feed's semantics
 * (changes.c); the events and pages themselves are change_event.h's.
 *
 * Why it is shaped this way.
 * - Sequence numbers must grow in commit order although several
 *   processes may write one database: a reader that has read up to N
 *   must never find an event with seq <= N committed after it read. A
 *   PostgreSQL SEQUENCE hands numbers out in call order, not commit
 *   order, and never gives them back. Here the next seq comes from the
 *   roster_feed row, which every write operation locks first (FOR NO KEY
 *   UPDATE, pg_op_begin) and its group holds until it commits: a second
 *   writer waits for the first to commit and then reads the counter that
 *   one left (READ COMMITTED re-reads a row it waited for), so it numbers
 *   after everything committed before it. Being the first lock an
 *   operation takes, it cannot close a cycle with the row locks taken
 *   after it. The price is the LMDB store's: one feed writer at a time.
 * - The counter is read once per group and written back at commit, like
 *   changes.c's; an operation that fails rolls back to its savepoint,
 *   which releases a lock it took, and its seqs are given back with the
 *   saved state (pg_changes_op_failed), so a committed feed has no holes
 *   and every seq in (floor, latest] has its row.
 * - The columns beside `record` are what the feed's own work selects by:
 *   at_ms for retention by age, tenant_id and prev_tenant_id for a
 *   scoped page (PostgreSQL skips other tenants' events), user_id for the
 *   scrub (the events still holding a user's personal data; set to NULL
 *   once scrubbed), so a delete costs that user's events, not the feed's.
 * - A scoped page reads the events of its window (at most
 *   STORE_CHANGES_SCAN_MAX seqs after `after`) that concern its tenant;
 *   the events in between are covered as the LMDB walk covers the ones it
 *   skips, so both backends answer the same next_after. */
#include "pg_array.h"
#include "pg_internal.h"

#include "change_event.h"

#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ counters */

/* The oldest events retention may drop first, read with a group's
 * counters: trim's first batch (TRIM_HEAD of them; the text for SQL). */
#define TRIM_HEAD      16
#define TRIM_HEAD_TEXT "16"

/* The counters (with lock: the row locked for the group) into *latest and
 * *floor. With head non-NULL, the TRIM_HEAD oldest events (seq, at_ms) go
 * into *head in the same round trip, read after the lock is held (the
 * caller clears it; NULL on failure). */
static int read_counters(pg_conn *c, bool lock, PGresult **head, uint64_t *latest, uint64_t *floor,
                         uint64_t *custom_gen, roster_err_detail *detail)
{
    static pg_stmt get_locked = PG_STMT(
                       "SELECT latest, floor, custom_gen FROM roster_feed FOR NO KEY UPDATE"),
                   get = PG_STMT("SELECT latest, floor, custom_gen FROM roster_feed"),
                   oldest = PG_STMT(
                       "SELECT seq, at_ms FROM roster_changes ORDER BY seq LIMIT " TRIM_HEAD_TEXT);
    PGresult *res;
    int err = pg_defer(c, lock ? &get_locked : &get, 0, NULL, &res, NULL, NULL, 0);
    if (err == ROSTER_E_OK && head)
        err = pg_defer(c, &oldest, 0, NULL, head, NULL, NULL, 0);
    int synced = pg_sync(c, detail);
    if (err == ROSTER_E_OK)
        err = synced;
    if (err != ROSTER_E_OK) {
        PQclear(res);
        if (head) {
            PQclear(*head);
            *head = NULL;
        }
        return err;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return roster_fail(detail, ROSTER_E_CORRUPT, "store", "roster_feed holds no row");
    }
    int64_t l = pg_i64_get(PQgetvalue(res, 0, 0)), f = pg_i64_get(PQgetvalue(res, 0, 1));
    if (custom_gen)
        *custom_gen = (uint64_t)pg_i64_get(PQgetvalue(res, 0, 2));
    PQclear(res);
    if (f < 0 || f > l)
        return roster_fail(detail, ROSTER_E_CORRUPT, "store",
                           "roster_feed: floor %lld is not within [0, latest %lld]", (long long)f,
                           (long long)l);
    *latest = (uint64_t)l;
    *floor = (uint64_t)f;
    return ROSTER_E_OK;
}

int pg_changes_op_begin(pgstore_wtxn *w, roster_err_detail *detail)
{
    w->op_ch = w->ch;
    if (w->ch.loaded)
        return ROSTER_E_OK;
    PQclear(w->trim_head);
    w->trim_head = NULL;
    uint64_t gen = 0;
    int err = read_counters(w->c, true, &w->trim_head, &w->ch.latest, &w->ch.floor, &gen, detail);
    if (err == ROSTER_E_OK)
        err = pg_custom_group_begin(w, gen, detail);
    if (err != ROSTER_E_OK)
        return err;
    w->ch_start = w->ch.latest;
    w->ch.loaded = true;
    return ROSTER_E_OK;
}

void pg_changes_op_failed(pgstore_wtxn *w)
{
    /* The savepoint's rollback released a counter lock this operation
     * took: then the next operation reads and locks it again (and the
     * oldest events with it: others may have trimmed them meanwhile). */
    w->ch = w->op_ch;
    if (!w->ch.loaded) {
        PQclear(w->trim_head);
        w->trim_head = NULL;
    }
}

/* ------------------------------------------------------------ appending */

/* The uuid text at `text` (NULL: none) into *out; false when none. */
static bool text_uuid(roster_uuid *out, const char *text)
{
    return text != NULL && roster_uuid_parse(out, text, strlen(text)) == ROSTER_E_OK;
}

/* Stamps e, packs it and inserts its row, in w's current operation
 * (queued: a failure is read at the operation's sync, and the operation's
 * failure gives its seq back, pg_changes_op_failed). */
static int put_event(pgstore_wtxn *w, change_event *e, roster_err_detail *detail)
{
    if (!w->in_op || !w->ch.loaded)
        return roster_fail(detail, ROSTER_E_INTERNAL, "store",
                           "a change event outside a write operation");
    uint64_t seq = w->ch.latest + 1;
    int64_t at = roster_now_ms();
    change_event_stamp(e, seq, at);
    size_t len = protobuf_c_message_get_packed_size(&e->ch.base);
    if (len > w->cbuf_cap) {
        size_t cap = len < 4096 ? 4096 : len * 2;
        uint8_t *b = realloc(w->cbuf, cap);
        if (b == NULL)
            return ROSTER_E_NOMEM;
        w->cbuf = b;
        w->cbuf_cap = cap;
    }
    protobuf_c_message_pack(&e->ch.base, w->cbuf);
    roster_uuid tenant, prev;
    bool has_tenant = text_uuid(&tenant, e->ch.tenant_id);
    bool has_prev = text_uuid(&prev, e->ch.previous_tenant_id);
    uint8_t seq_b[8], at_b[8];
    pg_i64_put(seq_b, (int64_t)seq);
    pg_i64_put(at_b, at);
    pg_param params[] = {
        {seq_b, 8, PG_OID_INT8},
        {e->personal ? e->personal->b : NULL, 16, PG_OID_UUID},
        {has_tenant ? tenant.b : NULL, 16, PG_OID_UUID},
        {has_prev ? prev.b : NULL, 16, PG_OID_UUID},
        {at_b, 8, PG_OID_INT8},
        {w->cbuf, (int)len, PG_OID_BYTEA},
    };
    static pg_stmt insert =
        PG_STMT("INSERT INTO roster_changes (seq, user_id, tenant_id, prev_tenant_id, "
                "at_ms, record) VALUES ($1, $2, $3, $4, $5, $6)");
    int err = pg_defer(w->c, &insert, 6, params, NULL, NULL, NULL, 0);
    if (err != ROSTER_E_OK)
        return err;
    w->ch.latest = seq;
    return ROSTER_E_OK;
}

int pg_changes_append_user(pgstore_wtxn *w, const user_view *old, const user_view *nv,
                           const Roster__V1__User *u, roster_err_detail *detail)
{
    if (w->p->changes_off) {
        w->ch.hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_user(&e, old, nv, u);
    return put_event(w, &e, detail);
}

int pg_changes_append_tenant(pgstore_wtxn *w, const void *old, size_t old_len,
                             const Roster__V1__Tenant *t, const void *bytes, size_t len,
                             roster_err_detail *detail)
{
    if (w->p->changes_off) {
        w->ch.hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    int err = change_event_tenant(&e, old, old_len, t, bytes, len);
    if (err != ROSTER_E_OK)
        return roster_fail(detail, err, "store", "a stored tenant record does not parse");
    return put_event(w, &e, detail);
}

int pg_changes_append_tenant_deleted(pgstore_wtxn *w, const roster_uuid *id,
                                     roster_err_detail *detail)
{
    if (w->p->changes_off) {
        w->ch.hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_tenant_deleted(&e, id);
    return put_event(w, &e, detail);
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* The header of a one-dimensional array of n elements of type `elem` in
 * PostgreSQL's binary format (dimensions, no nulls, element type, length,
 * lower bound 1); each element follows as its length and bytes. */
static uint8_t *array_head(uint8_t *p, uint32_t elem, size_t n)
{
    p = put_u32(p, 1);
    p = put_u32(p, 0);
    p = put_u32(p, elem);
    p = put_u32(p, (uint32_t)n);
    return put_u32(p, 1);
}

/* Rewrites every event of user `id` that still holds its personal data
 * without it, in one statement, and drops them from the user_id index. */
static int scrub_user(pgstore_wtxn *w, const roster_uuid *id, roster_err_detail *detail)
{
    pg_param params[2] = {{id->b, 16, PG_OID_UUID}};
    PGresult *res;
    int err = pg_run(w->c, "SELECT seq, record FROM roster_changes WHERE user_id = $1", 1, params,
                     &res, detail);
    if (err != ROSTER_E_OK)
        return err;
    size_t n = (size_t)PQntuples(res);
    if (n == 0) {
        PQclear(res);
        return ROSTER_E_OK;
    }
    roster_arena tmp;
    roster_arena_init(&tmp, 4096, 0);
    Roster__V1__Change **ev = roster_arena_alloc(&tmp, n * sizeof *ev);
    size_t rec_bytes = 0;
    if (ev == NULL)
        err = ROSTER_E_NOMEM;
    for (size_t i = 0; i < n && err == ROSTER_E_OK; i++) {
        err = change_scrub(&ev[i], PQgetvalue(res, (int)i, 1), (size_t)PQgetlength(res, (int)i, 1),
                           &tmp);
        if (err == ROSTER_E_OK)
            rec_bytes += 4 + protobuf_c_message_get_packed_size(&ev[i]->base);
        else if (err == ROSTER_E_CORRUPT)
            err = roster_fail(detail, err, "store", "a change event does not decode");
    }
    size_t seq_len = 20 + n * 12, rec_len = 20 + rec_bytes;
    uint8_t *seqs = NULL, *recs = NULL;
    if (err == ROSTER_E_OK) {
        seqs = roster_arena_alloc(&tmp, seq_len);
        recs = roster_arena_alloc(&tmp, rec_len);
        if (seqs == NULL || recs == NULL)
            err = ROSTER_E_NOMEM;
    }
    if (err == ROSTER_E_OK) {
        uint8_t *s = array_head(seqs, PG_OID_INT8, n), *r = array_head(recs, PG_OID_BYTEA, n);
        for (size_t i = 0; i < n; i++) {
            s = put_u32(s, 8);
            memcpy(s, PQgetvalue(res, (int)i, 0), 8);
            s += 8;
            size_t len = protobuf_c_message_get_packed_size(&ev[i]->base);
            r = put_u32(r, (uint32_t)len);
            r += protobuf_c_message_pack(&ev[i]->base, r);
        }
        params[0] = (pg_param){seqs, (int)seq_len, PG_OID_INT8_ARRAY};
        params[1] = (pg_param){recs, (int)rec_len, PG_OID_BYTEA_ARRAY};
        err = pg_run0(w->c,
                      "UPDATE roster_changes AS c SET record = v.r, user_id = NULL "
                      "FROM unnest($1::int8[], $2::bytea[]) AS v(s, r) WHERE c.seq = v.s",
                      2, params, detail);
    }
    PQclear(res);
    roster_arena_free(&tmp);
    return err;
}

int pg_changes_append_user_deleted(pgstore_wtxn *w, const roster_uuid *id,
                                   const roster_uuid *tenant, roster_err_detail *detail)
{
    /* The scrub runs with the feed off too: events recorded earlier must
     * not outlive the user. */
    int err = scrub_user(w, id, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (w->p->changes_off) {
        w->ch.hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_user_deleted(&e, id, tenant);
    return put_event(w, &e, detail);
}

/* ------------------------------------------------------------ retention */

/* Drops at most `max` of the oldest events that retention no longer
 * keeps, moving the floor past them; *trimmed says how many. The group
 * holds the counter lock. Rows are read oldest first in batches that
 * grow, since most commits trim a few events or none. */
static int trim(pgstore_wtxn *w, unsigned max, unsigned *trimmed, roster_err_detail *detail)
{
    *trimmed = 0;
    if (max == 0)
        return ROSTER_E_OK;
    const pgstore *p = w->p;
    int64_t cutoff = change_age_cutoff(p->keep_ms);
    unsigned n = 0, batch = TRIM_HEAD;
    uint64_t last = 0;
    bool more = true;
    int err = ROSTER_E_OK;
    while (more && n < max) {
        unsigned want = max - n < batch ? max - n : batch;
        uint8_t after_b[8], lim_b[8];
        pg_i64_put(after_b, (int64_t)last);
        pg_i64_put(lim_b, want);
        pg_param params[] = {{after_b, 8, PG_OID_INT8}, {lim_b, 8, PG_OID_INT8}};
        static pg_stmt oldest =
            PG_STMT("SELECT seq, at_ms FROM roster_changes WHERE seq > $1 ORDER BY seq LIMIT $2");
        PGresult *res;
        int rows;
        if (last == 0 && w->trim_head && PQntuples(w->trim_head) == TRIM_HEAD) {
            /* The first batch was read with the counters: the group has
             * only appended since (newer seqs), so the oldest are the
             * same. Used once: a trim changes them. */
            res = w->trim_head;
            w->trim_head = NULL;
            rows = PQntuples(res) < (int)want ? PQntuples(res) : (int)want;
        } else {
            if ((err = pg_run_stmt(w->c, &oldest, 2, params, &res, detail)) != ROSTER_E_OK)
                return err;
            rows = PQntuples(res);
        }
        more = rows == (int)want;
        for (int i = 0; i < rows; i++) {
            uint64_t seq = (uint64_t)pg_i64_get(PQgetvalue(res, i, 0));
            int64_t at = pg_i64_get(PQgetvalue(res, i, 1));
            if (!change_trim_drops(&w->ch.floor, w->ch.latest, p->keep_events, cutoff, seq, at)) {
                more = false;
                break;
            }
            last = seq;
            n++;
        }
        PQclear(res);
        if (batch < 1024)
            batch *= 2;
    }
    if (n > 0) {
        uint8_t last_b[8];
        pg_i64_put(last_b, (int64_t)last);
        pg_param params[] = {{last_b, 8, PG_OID_INT8}};
        static pg_stmt drop = PG_STMT("DELETE FROM roster_changes WHERE seq <= $1");
        /* Queued: it goes with the counter update and the COMMIT. */
        if ((err = pg_defer(w->c, &drop, 1, params, NULL, NULL, NULL, 0)) != ROSTER_E_OK)
            return err;
        w->ch.dirty = true;
    }
    *trimmed = n;
    return ROSTER_E_OK;
}

int pg_changes_commit(pgstore_wtxn *w)
{
    if (!w->ch.loaded)
        return ROSTER_E_OK;
    if (w->ch.hole) {
        /* Changes went unrecorded: a number stands for them, and the floor
         * moves past it, so whoever read up to an earlier seq is told to
         * start afresh instead of missing them. */
        w->ch.latest++;
        w->ch.floor = w->ch.latest;
        w->ch.dirty = true;
    }
    unsigned trimmed;
    uint64_t budget = w->ch.latest - w->ch_start + STORE_CHANGES_TRIM_EXTRA;
    int err = trim(w, budget > UINT32_MAX ? UINT32_MAX : (unsigned)budget, &trimmed, NULL);
    if (err != ROSTER_E_OK)
        return err;
    if (w->ch.latest != w->ch_start)
        w->ch.dirty = true;
    if (!w->ch.dirty)
        return ROSTER_E_OK;
    uint8_t l[8], f[8];
    pg_i64_put(l, (int64_t)w->ch.latest);
    pg_i64_put(f, (int64_t)w->ch.floor);
    static pg_stmt set = PG_STMT("UPDATE roster_feed SET latest = $1, floor = $2");
    pg_param params[] = {{l, 8, PG_OID_INT8}, {f, 8, PG_OID_INT8}};
    /* Queued: it goes with the group's COMMIT. */
    return pg_defer(w->c, &set, 2, params, NULL, NULL, NULL, 0);
}

int pgstore_changes_trim(pgstore_wtxn *w, unsigned max, unsigned *trimmed)
{
    unsigned n = 0;
    int err = pg_op_begin(w, NULL);
    if (err != ROSTER_E_OK)
        return err;
    err = pg_op_end(w, trim(w, max, &n, NULL), NULL);
    if (err == ROSTER_E_OK && trimmed != NULL)
        *trimmed = n;
    return err;
}

int pgstore_changes_pending(const pgstore_wtxn *w, uint64_t *first, uint64_t *last)
{
    if (!w->ch.loaded || w->ch.latest == w->ch_start || w->p->changes_off)
        return ROSTER_E_NOT_FOUND;
    *first = w->ch_start + 1;
    *last = w->ch.latest;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ reading */

bool pgstore_changes_recording(const pgstore *p)
{
    return !p->changes_off;
}

int pgstore_changes_bounds(pgstore_rtxn *r, uint64_t *oldest_seq, uint64_t *latest_seq)
{
    uint64_t latest = 0, floor = 0;
    int err = read_counters(r->c, false, NULL, &latest, &floor, NULL, NULL);
    if (err != ROSTER_E_OK)
        return err;
    *oldest_seq = floor + 1;
    *latest_seq = latest;
    return ROSTER_E_OK;
}

int pgstore_changes_list(pgstore_rtxn *r, const roster_uuid *scope, uint64_t after, uint32_t limit,
                         size_t max_bytes, roster_arena *arena, store_changes_page *out,
                         roster_err_detail *detail)
{
    uint64_t latest = 0, floor = 0;
    /* The read's limits, as the other lists check them between batches:
     * a page is one statement (cut at the deadline by the read's
     * statement_timeout), checked before it runs and before its rows are
     * decoded. */
    int err = pg_read_check(r);
    if (err == ROSTER_E_OK)
        err = read_counters(r->c, false, NULL, &latest, &floor, NULL, detail);
    if (err == ROSTER_E_OK)
        err = change_check_after(after, floor + 1, latest, detail);
    if (err != ROSTER_E_OK)
        return err;
    change_pager pg;
    if ((err = change_pager_init(&pg, scope, after, limit, max_bytes, arena)) != ROSTER_E_OK)
        return err;
    if (pg.limit == 0 || after == latest) {
        change_pager_finish(&pg, true, floor + 1, latest, out);
        return ROSTER_E_OK;
    }
    /* The window the LMDB walk would examine at most. */
    uint64_t window =
        latest - after > STORE_CHANGES_SCAN_MAX ? after + STORE_CHANGES_SCAN_MAX : latest;
    uint8_t after_b[8], window_b[8], limit_b[8];
    pg_i64_put(after_b, (int64_t)after);
    pg_i64_put(window_b, (int64_t)window);
    pg_i64_put(limit_b, pg.limit);
    pg_param params[] = {{after_b, 8, PG_OID_INT8},
                         {window_b, 8, PG_OID_INT8},
                         {limit_b, 8, PG_OID_INT8},
                         {scope ? scope->b : NULL, 16, PG_OID_UUID}};
    PGresult *res;
    err = pg_run(r->c,
                 scope ? "SELECT seq, record FROM roster_changes WHERE seq > $1 AND seq <= $2 "
                         "AND (tenant_id = $4 OR prev_tenant_id = $4) ORDER BY seq LIMIT $3"
                       : "SELECT seq, record FROM roster_changes WHERE seq > $1 AND seq <= $2 "
                         "ORDER BY seq LIMIT $3",
                 scope ? 4 : 3, params, &res, detail);
    if (err == ROSTER_E_OK && (err = pg_read_check(r)) != ROSTER_E_OK)
        PQclear(res);
    if (err != ROSTER_E_OK)
        return err;
    if ((err = pg_hold(r, res)) != ROSTER_E_OK) {
        PQclear(res);
        return err;
    }
    int rows = PQntuples(res);
    bool stop = false;
    for (int i = 0; i < rows && !stop; i++) {
        if (change_pager_full(&pg))
            break;
        uint64_t seq = (uint64_t)pg_i64_get(PQgetvalue(res, i, 0));
        err = change_pager_offer(&pg, seq, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1),
                                 &stop);
        if (err == ROSTER_E_CORRUPT)
            return roster_fail(detail, err, "store", "change event %llu does not decode",
                               (unsigned long long)seq);
        if (err != ROSTER_E_OK)
            return err;
        /* Not taken for the byte cap: the events before it are covered. */
        if (stop)
            change_pager_cover(&pg, seq - 1);
    }
    bool end = false;
    if (!stop && !change_pager_full(&pg)) {
        /* Every event of the window concerning the scope was offered. */
        change_pager_cover(&pg, window);
        end = window == latest;
    }
    change_pager_finish(&pg, end, floor + 1, latest, out);
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ verify */

typedef struct feed_check {
    pg_issue_fn fn;
    void *ctx;
    uint64_t floor, latest;
    uint64_t next; /* the seq of (floor, latest] the walk expects next */
} feed_check;

/* Whether uuid column `col` of row i is `want` (NULL: SQL NULL). */
static bool uuid_col_is(PGresult *res, int i, int col, const roster_uuid *want)
{
    if (want == NULL)
        return PQgetisnull(res, i, col);
    return !PQgetisnull(res, i, col) && PQgetlength(res, i, col) == 16 &&
           memcmp(PQgetvalue(res, i, col), want->b, 16) == 0;
}

/* The uuid in an event's text field (`text`/`n`, text NULL: absent) into
 * *out; false when absent. *bad is set when present but not a UUID. */
static bool head_uuid(roster_uuid *out, const char *text, size_t n, bool *bad)
{
    if (text == NULL || n == 0)
        return false;
    if (roster_uuid_parse(out, text, n) != ROSTER_E_OK) {
        *bad = true;
        return false;
    }
    return true;
}

/* Columns: seq, user_id, tenant_id, prev_tenant_id, at_ms, record, and
 * whether user_id names an existing user. */
static int check_event(void *ctx, PGresult *res, int i)
{
    feed_check *v = ctx;
    char msg[200];
    int64_t raw = pg_i64_get(PQgetvalue(res, i, 0));
    uint64_t seq = raw < 0 ? 0 : (uint64_t)raw;
    if (seq <= v->floor) {
        snprintf(msg, sizeof msg, "event %lld is at or below the floor %llu (retention dropped it)",
                 (long long)raw, (unsigned long long)v->floor);
        v->fn(v->ctx, STORE_ISSUE_STALE_ENTRY, "roster_changes", NULL, msg);
    } else if (seq > v->latest) {
        snprintf(msg, sizeof msg, "event %llu is past roster_feed.latest %llu",
                 (unsigned long long)seq, (unsigned long long)v->latest);
        v->fn(v->ctx, STORE_ISSUE_COUNT_MISMATCH, "roster_changes", NULL, msg);
    } else {
        if (seq > v->next) {
            snprintf(msg, sizeof msg, "events %llu to %llu are missing (the feed has a hole)",
                     (unsigned long long)v->next, (unsigned long long)seq - 1);
            v->fn(v->ctx, STORE_ISSUE_MISSING_ENTRY, "roster_changes", NULL, msg);
        }
        v->next = seq + 1;
    }
    change_head h;
    if (change_peek(&h, PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5)) != ROSTER_E_OK ||
        h.seq != seq) {
        snprintf(msg, sizeof msg, "event %lld does not decode or holds another seq",
                 (long long)raw);
        v->fn(v->ctx, STORE_ISSUE_BAD_RECORD, "roster_changes", NULL, msg);
        return ROSTER_E_OK;
    }
    bool bad = false;
    roster_uuid user, tenant, prev;
    /* The user whose personal data the event still holds: a user event
     * other than the deletion, not yet scrubbed. */
    bool personal = change_is_user_kind(h.kind) &&
                    h.kind != ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED && !h.scrubbed;
    bool has_user = personal && head_uuid(&user, h.id, h.id_n, &bad);
    bool has_tenant = head_uuid(&tenant, h.tenant, h.tenant_n, &bad);
    bool has_prev = head_uuid(&prev, h.prev, h.prev_n, &bad);
    if (bad || (change_is_user_kind(h.kind) && h.id == NULL) || (personal && !has_user)) {
        snprintf(msg, sizeof msg,
                 "event %llu has a missing or malformed id, tenantId or "
                 "previousTenantId",
                 (unsigned long long)seq);
        v->fn(v->ctx, STORE_ISSUE_BAD_RECORD, "roster_changes", NULL, msg);
        return ROSTER_E_OK;
    }
    bool user_col_ok = uuid_col_is(res, i, 1, has_user ? &user : NULL);
    if (!user_col_ok) {
        snprintf(msg, sizeof msg,
                 "user_id of event %llu disagrees with the event (%s): a delete finds the events "
                 "to scrub by it",
                 (unsigned long long)seq,
                 has_user ? "it holds this user's personal data" : "it holds no personal data");
        v->fn(v->ctx, STORE_ISSUE_STALE_ENTRY, "roster_changes", has_user ? &user : NULL, msg);
    }
    if (!uuid_col_is(res, i, 2, has_tenant ? &tenant : NULL) ||
        !uuid_col_is(res, i, 3, has_prev ? &prev : NULL)) {
        snprintf(msg, sizeof msg,
                 "tenant_id or prev_tenant_id of event %llu disagrees with its tenantId or "
                 "previousTenantId",
                 (unsigned long long)seq);
        v->fn(v->ctx, STORE_ISSUE_STALE_ENTRY, "roster_changes", NULL, msg);
    }
    if (pg_i64_get(PQgetvalue(res, i, 4)) != h.at) {
        snprintf(msg, sizeof msg, "at_ms of event %llu disagrees with its committedAt",
                 (unsigned long long)seq);
        v->fn(v->ctx, STORE_ISSUE_STALE_ENTRY, "roster_changes", NULL, msg);
    }
    /* The join found the user by user_id, so only when it is right. */
    if (has_user && user_col_ok && PQgetvalue(res, i, 6)[0] == 0) {
        snprintf(msg, sizeof msg,
                 "event %llu still holds the personal data of a user that no longer exists "
                 "(its delete did not scrub it)",
                 (unsigned long long)seq);
        v->fn(v->ctx, STORE_ISSUE_STALE_ENTRY, "roster_changes", &user, msg);
    }
    return ROSTER_E_OK;
}

int pg_changes_verify(pgstore_rtxn *r, pg_issue_fn fn, void *ctx)
{
    roster_err_detail d = {0};
    feed_check v = {.fn = fn, .ctx = ctx};
    int err = read_counters(r->c, false, NULL, &v.latest, &v.floor, NULL, &d);
    if (err == ROSTER_E_CORRUPT) {
        fn(ctx, STORE_ISSUE_COUNT_MISMATCH, "roster_feed", NULL, d.message);
        return ROSTER_E_OK;
    }
    if (err != ROSTER_E_OK)
        return err;
    v.next = v.floor + 1;
    err = pg_walk(r,
                  "SELECT c.seq, c.user_id, c.tenant_id, c.prev_tenant_id, c.at_ms, c.record, "
                  "u.id IS NOT NULL FROM roster_changes c LEFT JOIN roster_users u "
                  "ON u.id = c.user_id ORDER BY c.seq",
                  0, NULL, check_event, &v);
    if (err == ROSTER_E_OK && v.next <= v.latest) {
        char msg[160];
        snprintf(msg, sizeof msg, "events %llu to %llu are missing (the feed has a hole)",
                 (unsigned long long)v.next, (unsigned long long)v.latest);
        fn(ctx, STORE_ISSUE_MISSING_ENTRY, "roster_changes", NULL, msg);
    }
    return err;
}
