/* The change feed: events appended in the write paths' transactions,
 * retention, the scrub of a deleted user's events, and the reads of
 * ListChanges.
 *
 * Why it is shaped this way.
 * - Sequence numbers come from the group's counter (ch_latest, loaded from
 *   the meta database on first use and written back once at commit). LMDB
 *   allows one write transaction at a time and the writer applies a
 *   group's operations in order, so numbers grow in commit order; an
 *   operation that fails gives its numbers back (changes_op_failed), so a
 *   committed feed has no holes. The counter lives in meta, not in the
 *   last key of `changes`, because retention may trim every event.
 * - Events are roster.v1.Change encodings with their seq inside, so
 *   ListChanges forwards them as stored. Building them, reading their
 *   head, the scrub and the pages are change_event.h's, shared with the
 *   PostgreSQL feed; this file keeps them in LMDB.
 * - Scrubbing a deleted user: `changes_user` maps (user id, seq) to
 *   nothing, one entry per user event. A delete walks the user's prefix,
 *   rewrites each event without the personal fields and drops the
 *   entries: its cost is the number of that user's retained events, not
 *   the feed's length. The alternative, rewriting on read, would leave the
 *   data on disk; a scan per delete would cost the whole feed. Trimming an
 *   event drops its entry.
 * - Retention trims from the oldest event at commit, at most what the
 *   group appended plus STORE_CHANGES_TRIM_EXTRA, so the work per
 *   transaction is bounded and the feed keeps pace with writes; the
 *   writer trims an idle store's old events with store_changes_trim. */
#include "changes.h"

#include "change_event.h"
#include "keys.h"

#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ counters */

#define META_LATEST "changes_latest"
#define META_FLOOR  "changes_floor"

static int meta_u64(MDB_txn *txn, const store *s, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *out = 0;
        return ROSTER_E_OK;
    }
    if (rc != 0)
        return store_mdb_err(rc);
    if (v.mv_size != 8)
        return ROSTER_E_CORRUPT;
    *out = key_u64_get(v.mv_data);
    return ROSTER_E_OK;
}

static int meta_put_u64(MDB_txn *txn, const store *s, const char *name, uint64_t val)
{
    uint8_t b[8];
    key_u64_put(b, val);
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    return store_mdb_err(mdb_put(txn, s->meta, &k, &v, 0));
}

/* Reads the counters in txn: the group's, or the operation's nested one
 * (LMDB refuses reads in a transaction that has a child). */
static int load(store_wtxn *w, MDB_txn *txn)
{
    if (w->ch_loaded)
        return ROSTER_E_OK;
    int err = meta_u64(txn, w->s, META_LATEST, &w->ch_latest);
    if (err == ROSTER_E_OK)
        err = meta_u64(txn, w->s, META_FLOOR, &w->ch_floor);
    if (err != ROSTER_E_OK)
        return err;
    if (w->ch_floor > w->ch_latest)
        return ROSTER_E_CORRUPT;
    w->ch_start = w->ch_latest;
    w->ch_loaded = true;
    return ROSTER_E_OK;
}

void changes_op_begin(store_wtxn *w)
{
    w->op_ch_loaded = w->ch_loaded;
    w->op_ch_latest = w->ch_latest;
    w->op_ch_hole = w->ch_hole;
}

void changes_op_failed(store_wtxn *w)
{
    /* Counters first read by the failed operation are read again. */
    w->ch_loaded = w->op_ch_loaded;
    w->ch_latest = w->op_ch_latest;
    w->ch_hole = w->op_ch_hole;
}

/* ------------------------------------------------------------ appending */

/* Stamps e, packs it and stores it in txn, with its changes_user entry
 * when it carries a user's personal data. */
static int put_event(store_wtxn *w, MDB_txn *txn, change_event *e)
{
    int err = load(w, txn);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t seq = w->ch_latest + 1;
    change_event_stamp(e, seq, roster_now_ms());
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
    uint8_t kb[24];
    key_u64_put(kb, seq);
    MDB_val k = {8, kb}, v = {len, w->cbuf};
    /* Keys only grow: appended at the end without a search. */
    int rc = store_put_append(w, txn, STORE_APPEND_CHANGES, w->s->changes, &k, &v);
    if (rc == 0 && e->personal != NULL) {
        memcpy(kb, e->personal->b, 16);
        key_u64_put(kb + 16, seq);
        MDB_val uk = {24, kb}, uv = {0, ""};
        rc = store_put_append(w, txn, STORE_APPEND_CHANGES_USER, w->s->changes_user, &uk, &uv);
    }
    if (rc != 0)
        return store_mdb_err(rc);
    w->ch_latest = seq;
    return ROSTER_E_OK;
}

int changes_append_user(store_wtxn *w, MDB_txn *txn, const user_view *old, const user_view *nv,
                        const Roster__V1__User *u)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_user(&e, old, nv, u);
    return put_event(w, txn, &e);
}

int changes_append_tenant(store_wtxn *w, MDB_txn *txn, const void *old, size_t old_len,
                          const Roster__V1__Tenant *t, const void *bytes, size_t len)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    int err = change_event_tenant(&e, old, old_len, t, bytes, len);
    if (err != ROSTER_E_OK)
        return err;
    return put_event(w, txn, &e);
}

/* Rewrites the event at `seq` without the personal fields of its user. */
static int scrub_event(store_wtxn *w, MDB_txn *txn, uint64_t seq)
{
    uint8_t kb[8];
    key_u64_put(kb, seq);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, w->s->changes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return ROSTER_E_OK; /* trimmed meanwhile: nothing left to erase */
    if (rc != 0)
        return store_mdb_err(rc);
    roster_arena tmp;
    roster_arena_init(&tmp, 4096, 0);
    Roster__V1__Change *ch;
    int err = change_scrub(&ch, v.mv_data, v.mv_size, &tmp);
    if (err == ROSTER_E_OK) {
        size_t len = protobuf_c_message_get_packed_size(&ch->base);
        MDB_val nv;
        nv.mv_size = len;
        /* MDB_RESERVE: pack straight into the page. */
        store_append_forget(w, STORE_APPEND_CHANGES);
        rc = mdb_put(txn, w->s->changes, &k, &nv, MDB_RESERVE);
        if (rc == 0)
            protobuf_c_message_pack(&ch->base, nv.mv_data);
        else
            err = store_mdb_err(rc);
    }
    roster_arena_free(&tmp);
    return err;
}

int changes_append_user_deleted(store_wtxn *w, MDB_txn *txn, const roster_uuid *id,
                                const roster_uuid *tenant)
{
    /* The scrub runs with the feed off too: events recorded earlier must
     * not outlive the user. */
    if (w->s->has_changes) {
        MDB_cursor *c;
        store_append_forget(w, STORE_APPEND_CHANGES_USER);
        int rc = mdb_cursor_open(txn, w->s->changes_user, &c);
        if (rc != 0)
            return store_mdb_err(rc);
        int err = ROSTER_E_OK;
        /* Each entry is dropped once its event is rewritten, so the first
         * entry at or after (id, 0) is always the next one. */
        for (;;) {
            uint8_t kb[24];
            memcpy(kb, id->b, 16);
            memset(kb + 16, 0, 8);
            MDB_val k = {24, kb}, v;
            if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
                break;
            if (k.mv_size != 24 || memcmp(k.mv_data, id->b, 16) != 0) {
                rc = MDB_NOTFOUND;
                break;
            }
            uint64_t seq = key_u64_get((const uint8_t *)k.mv_data + 16);
            if ((rc = mdb_cursor_del(c, 0)) != 0)
                break;
            if ((err = scrub_event(w, txn, seq)) != ROSTER_E_OK)
                break;
        }
        mdb_cursor_close(c);
        if (err != ROSTER_E_OK)
            return err;
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_mdb_err(rc);
    }
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_user_deleted(&e, id, tenant);
    /* No changes_user entry: the event holds nothing to scrub. */
    return put_event(w, txn, &e);
}

int changes_append_tenant_deleted(store_wtxn *w, MDB_txn *txn, const roster_uuid *id)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    change_event e;
    change_event_tenant_deleted(&e, id);
    return put_event(w, txn, &e);
}

/* ------------------------------------------------------------ retention */

static int trim(store_wtxn *w, unsigned max, unsigned *trimmed)
{
    *trimmed = 0;
    if (!w->s->has_changes || max == 0)
        return ROSTER_E_OK;
    int err = load(w, w->txn);
    if (err != ROSTER_E_OK)
        return err;
    const store *s = w->s;
    int64_t cutoff = change_age_cutoff(s->keep_ms);
    MDB_cursor *c;
    store_append_forget(w, STORE_APPEND_CHANGES);
    store_append_forget(w, STORE_APPEND_CHANGES_USER);
    int rc = mdb_cursor_open(w->txn, s->changes, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    unsigned n = 0;
    while (n < max && (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size != 8) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        uint64_t seq = key_u64_get(k.mv_data);
        change_head h;
        if ((err = change_peek(&h, v.mv_data, v.mv_size)) != ROSTER_E_OK)
            break;
        if (!change_trim_drops(&w->ch_floor, w->ch_latest, s->keep_events, cutoff, seq, h.at))
            break;
        roster_uuid uid;
        if (change_is_user_kind(h.kind) && h.id != NULL &&
            roster_uuid_parse(&uid, h.id, h.id_n) == ROSTER_E_OK) {
            uint8_t kb[24];
            memcpy(kb, uid.b, 16);
            key_u64_put(kb + 16, seq);
            MDB_val uk = {24, kb};
            rc = mdb_del(w->txn, s->changes_user, &uk, NULL);
            if (rc != 0 && rc != MDB_NOTFOUND)
                break;
        }
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        w->ch_dirty = true;
        n++;
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    *trimmed = n;
    return err;
}

int changes_commit(store_wtxn *w)
{
    if (!w->s->has_changes || (!w->ch_loaded && !w->ch_hole))
        return ROSTER_E_OK;
    int err = load(w, w->txn);
    if (err != ROSTER_E_OK)
        return err;
    if (w->ch_hole) {
        /* Changes went unrecorded: a number stands for them, and the floor
         * moves past it, so whoever read up to an earlier seq is told to
         * start afresh instead of missing them. */
        w->ch_latest++;
        w->ch_floor = w->ch_latest;
        w->ch_dirty = true;
    }
    unsigned trimmed;
    uint64_t appended = w->ch_latest - w->ch_start;
    uint64_t budget = appended + STORE_CHANGES_TRIM_EXTRA;
    if ((err = trim(w, budget > UINT32_MAX ? UINT32_MAX : (unsigned)budget, &trimmed)) != 0)
        return err;
    if (w->ch_latest != w->ch_start)
        w->ch_dirty = true;
    if (!w->ch_dirty)
        return ROSTER_E_OK;
    if ((err = meta_put_u64(w->txn, w->s, META_LATEST, w->ch_latest)) != ROSTER_E_OK)
        return err;
    return meta_put_u64(w->txn, w->s, META_FLOOR, w->ch_floor);
}

int store_changes_trim(store_wtxn *w, unsigned max, unsigned *trimmed)
{
    if (w->pg)
        return pgstore_changes_trim(w->pg, max, trimmed);
    unsigned n = 0;
    int err = w->failed ? w->failed : trim(w, max, &n);
    if (err == ROSTER_E_OK && trimmed != NULL)
        *trimmed = n;
    return err;
}

int store_changes_pending(const store_wtxn *w, uint64_t *first, uint64_t *last)
{
    if (w->pg)
        return pgstore_changes_pending(w->pg, first, last);
    if (!w->ch_loaded || w->ch_latest == w->ch_start || w->s->changes_off)
        return ROSTER_E_NOT_FOUND;
    *first = w->ch_start + 1;
    *last = w->ch_latest;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ reading */

bool store_changes_recording(const store *s)
{
    if (s->pg)
        return pgstore_changes_recording(s->pg);
    return s->has_changes && !s->changes_off;
}

int store_changes_bounds(store_rtxn *r, uint64_t *oldest_seq, uint64_t *latest_seq)
{
    if (r->pg)
        return pgstore_changes_bounds(r->pg, oldest_seq, latest_seq);
    uint64_t latest = 0, floor = 0;
    int err = meta_u64(r->txn, r->s, META_LATEST, &latest);
    if (err == ROSTER_E_OK)
        err = meta_u64(r->txn, r->s, META_FLOOR, &floor);
    if (err != ROSTER_E_OK)
        return err;
    if (floor > latest)
        return ROSTER_E_CORRUPT;
    *oldest_seq = floor + 1;
    *latest_seq = latest;
    return ROSTER_E_OK;
}

int store_changes_list(store_rtxn *r, const roster_uuid *scope, uint64_t after, uint32_t limit,
                       size_t max_bytes, roster_arena *arena, store_changes_page *out,
                       roster_err_detail *detail)
{
    if (r->pg)
        return pgstore_changes_list(r->pg, scope, after, limit, max_bytes, arena, out, detail);
    if (!r->s->has_changes)
        return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "",
                           "this store has no change feed yet (open it writable once)");
    uint64_t oldest, latest;
    int err = store_changes_bounds(r, &oldest, &latest);
    if (err == ROSTER_E_OK)
        err = change_check_after(after, oldest, latest, detail);
    if (err != ROSTER_E_OK)
        return err;
    change_pager pg;
    if ((err = change_pager_init(&pg, scope, after, limit, max_bytes, arena)) != ROSTER_E_OK)
        return err;
    bool more = pg.limit > 0 && after < latest;
    MDB_cursor *c = NULL;
    int rc = 0;
    if (more && (rc = mdb_cursor_open(r->txn, r->s->changes, &c)) != 0)
        return store_mdb_err(rc);
    uint8_t kb[8];
    key_u64_put(kb, after + 1);
    MDB_val k = {8, kb}, v;
    unsigned steps = 0;
    bool end = !more;
    for (rc = more ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND; rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        if (change_pager_full(&pg))
            break;
        if ((err = store_limits_step(&steps, r->deadline_ns, r->stop_ns)) != ROSTER_E_OK)
            break;
        bool stop;
        err = change_pager_offer(&pg, key_u64_get(k.mv_data), v.mv_data, v.mv_size, &stop);
        if (err != ROSTER_E_OK || stop)
            break;
    }
    if (rc == MDB_NOTFOUND)
        end = true;
    else if (err == ROSTER_E_OK && rc != 0)
        err = store_mdb_err(rc);
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    change_pager_finish(&pg, end, oldest, latest, out);
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ verify */

int changes_verify(store_rtxn *r, changes_issue_fn fn, void *ctx)
{
    const store *s = r->s;
    if (!s->has_changes)
        return ROSTER_E_OK;
    uint64_t oldest = 0, latest = 0;
    int err = store_changes_bounds(r, &oldest, &latest);
    if (err == ROSTER_E_CORRUPT) {
        fn(ctx, STORE_ISSUE_COUNT_MISMATCH, "meta", NULL,
           "changes_floor is past changes_latest, or a counter is not 8 bytes");
        return ROSTER_E_OK;
    }
    if (err != ROSTER_E_OK)
        return err;
    char msg[160];
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, s->changes, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        change_head h;
        uint64_t seq = k.mv_size == 8 ? key_u64_get(k.mv_data) : 0;
        if (k.mv_size != 8 || change_peek(&h, v.mv_data, v.mv_size) != ROSTER_E_OK ||
            h.seq != seq) {
            snprintf(msg, sizeof msg, "event %llu does not decode or holds another seq",
                     (unsigned long long)seq);
            fn(ctx, STORE_ISSUE_BAD_RECORD, "changes", NULL, msg);
            continue;
        }
        if (seq > latest) {
            snprintf(msg, sizeof msg, "event %llu is past changes_latest %llu",
                     (unsigned long long)seq, (unsigned long long)latest);
            fn(ctx, STORE_ISSUE_COUNT_MISMATCH, "changes", NULL, msg);
        }
        roster_uuid uid;
        /* A deleted user's events hold nothing to scrub, so no entry. */
        if (!change_is_user_kind(h.kind) ||
            h.kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED || h.scrubbed)
            continue;
        if (h.id == NULL || roster_uuid_parse(&uid, h.id, h.id_n) != ROSTER_E_OK) {
            snprintf(msg, sizeof msg, "user event %llu has no user id", (unsigned long long)seq);
            fn(ctx, STORE_ISSUE_BAD_RECORD, "changes", NULL, msg);
            continue;
        }
        uint8_t kb[24];
        memcpy(kb, uid.b, 16);
        key_u64_put(kb + 16, seq);
        MDB_val uk = {24, kb}, uv;
        int grc = mdb_get(r->txn, s->changes_user, &uk, &uv);
        if (grc == MDB_NOTFOUND) {
            snprintf(msg, sizeof msg, "user event %llu has no changes_user entry",
                     (unsigned long long)seq);
            fn(ctx, STORE_ISSUE_MISSING_ENTRY, "changes_user", &uid, msg);
        } else if (grc != 0) {
            rc = grc;
            break;
        }
        /* Deleting a user scrubs its events: one that still holds personal
         * data must name a user that exists. */
        MDB_val rk = {16, uid.b};
        if ((grc = mdb_get(r->txn, s->users, &rk, &uv)) == MDB_NOTFOUND) {
            snprintf(msg, sizeof msg,
                     "event %llu still holds the personal data of a user that no longer "
                     "exists (its delete did not scrub it)",
                     (unsigned long long)seq);
            fn(ctx, STORE_ISSUE_STALE_ENTRY, "changes", &uid, msg);
        } else if (grc != 0) {
            rc = grc;
            break;
        }
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if ((rc = mdb_cursor_open(r->txn, s->changes_user, &c)) != 0)
        return store_mdb_err(rc);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        roster_uuid uid;
        if (k.mv_size != 24) {
            fn(ctx, STORE_ISSUE_STALE_ENTRY, "changes_user", NULL, "an entry is not 24 bytes");
            continue;
        }
        memcpy(uid.b, k.mv_data, 16);
        uint64_t seq = key_u64_get((const uint8_t *)k.mv_data + 16);
        uint8_t kb[8];
        key_u64_put(kb, seq);
        MDB_val ek = {8, kb}, ev;
        int grc = mdb_get(r->txn, s->changes, &ek, &ev);
        change_head h;
        roster_uuid eid;
        bool ok = grc == 0 && change_peek(&h, ev.mv_data, ev.mv_size) == ROSTER_E_OK &&
                  change_is_user_kind(h.kind) && h.id != NULL &&
                  roster_uuid_parse(&eid, h.id, h.id_n) == ROSTER_E_OK &&
                  roster_uuid_eq(&eid, &uid);
        if (grc != 0 && grc != MDB_NOTFOUND) {
            rc = grc;
            break;
        }
        if (!ok) {
            snprintf(msg, sizeof msg, "entry for seq %llu names no event of this user",
                     (unsigned long long)seq);
            fn(ctx, STORE_ISSUE_STALE_ENTRY, "changes_user", &uid, msg);
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}
