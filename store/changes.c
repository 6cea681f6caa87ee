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
 *   ListChanges forwards them as stored. What trimming, scoping and the
 *   scrub need (kind, id, tenants, time) is read off the wire by peek()
 *   without unpacking.
 * - Scrubbing a deleted user: `changes_user` maps (user id, seq) to
 *   nothing, one entry per user event. A delete walks the user's prefix,
 *   rewrites each event without the personal fields and drops the
 *   entries: its cost is the number of that user's retained events, not
 *   the feed's length. The alternative, rewriting on read, would leave the
 *   data on disk; a scan per delete would cost the whole feed. Trimming an
 *   event drops its entry.
 * - "Personal" fields are every user field the service does not set,
 *   except tenantId (MODEL_SERVER_SET in src/model/model.h): a scrubbed
 *   event keeps id, tenantId, createdAt and updatedAt, so a replica still
 *   orders it, and nothing a person gave.
 * - Retention trims from the oldest event at commit, at most what the
 *   group appended plus STORE_CHANGES_TRIM_EXTRA, so the work per
 *   transaction is bounded and the feed keeps pace with writes; the
 *   writer trims an idle store's old events with store_changes_trim. */
#include "changes.h"

#include "fields.h"
#include "keys.h"

#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ encodings */

/* What peek() reads off an event's encoding; strings borrowed from it. */
typedef struct change_head {
    uint64_t seq;
    int kind;
    int64_t at;
    const char *id, *tenant, *prev;
    size_t id_n, tenant_n, prev_n;
    bool scrubbed; /* its user was deleted: no personal data, no changes_user entry */
} change_head;

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* The top-level fields of a Change encoding that the feed's own work
 * reads. ROSTER_E_CORRUPT when the bytes are not one. */
static int peek(change_head *h, const void *bytes, size_t len)
{
    const uint8_t *p = bytes, *end = p + len;
    memset(h, 0, sizeof *h);
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return ROSTER_E_CORRUPT;
        unsigned wt = (unsigned)(key & 7), num = (unsigned)(key >> 3);
        if (wt == 0) {
            if (!varint(&p, end, &v))
                return ROSTER_E_CORRUPT;
            if (num == 1)
                h->seq = v;
            else if (num == 2)
                h->kind = (int)v;
            else if (num == 5)
                h->at = (int64_t)v;
            else if (num == 10)
                h->scrubbed = v != 0;
        } else if (wt == 2) {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return ROSTER_E_CORRUPT;
            const char *s = (const char *)p;
            if (num == 3)
                h->id = s, h->id_n = (size_t)v;
            else if (num == 4)
                h->tenant = s, h->tenant_n = (size_t)v;
            else if (num == 9)
                h->prev = s, h->prev_n = (size_t)v;
            p += v;
        } else if (wt == 1 || wt == 5) {
            size_t n = wt == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return ROSTER_E_CORRUPT;
            p += n;
        } else {
            return ROSTER_E_CORRUPT;
        }
    }
    return ROSTER_E_OK;
}

static bool is_user_kind(int kind)
{
    return kind >= ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED &&
           kind <= ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED;
}

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

/* The tag of Change.user (field 6, length-delimited): the created
 * event's record, appended as its encoding (put_event). */
#define CHANGE_USER_TAG ((6u << 3) | 2u)

/* Packs ch (seq set here) and stores it in txn, with its changes_user
 * entry when `user` is not NULL. `record`/`record_len`, when not NULL,
 * is the encoding of the created user the event carries as ch->user
 * (which is then NULL): appended as field 6 after the packed fields, the
 * bytes protobuf-c writes for ch->user (fields are written in number
 * order, and a created user event sets none above 6), without packing
 * the record a second time. */
static int put_event(store_wtxn *w, MDB_txn *txn, Roster__V1__Change *ch, const roster_uuid *user,
                     const void *record, size_t record_len)
{
    int err = load(w, txn);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t seq = w->ch_latest + 1;
    ch->has_seq = 1;
    ch->seq = seq;
    ch->has_committed_at = 1;
    ch->committed_at = roster_now_ms();
    size_t head = protobuf_c_message_get_packed_size(&ch->base), len = head;
    uint8_t field[1 + 10];
    size_t field_len = 0;
    if (record != NULL) {
        uint64_t v = record_len;
        field[field_len++] = CHANGE_USER_TAG;
        for (; v >= 0x80; v >>= 7)
            field[field_len++] = (uint8_t)(v | 0x80);
        field[field_len++] = (uint8_t)v;
        len += field_len + record_len;
    }
    if (len > w->cbuf_cap) {
        size_t cap = len < 4096 ? 4096 : len * 2;
        uint8_t *b = realloc(w->cbuf, cap);
        if (b == NULL)
            return ROSTER_E_NOMEM;
        w->cbuf = b;
        w->cbuf_cap = cap;
    }
    protobuf_c_message_pack(&ch->base, w->cbuf);
    if (record != NULL) {
        memcpy(w->cbuf + head, field, field_len);
        memcpy(w->cbuf + head + field_len, record, record_len);
    }
    uint8_t kb[24];
    key_u64_put(kb, seq);
    MDB_val k = {8, kb}, v = {len, w->cbuf};
    /* Keys only grow: appended at the end without a search. */
    int rc = store_put_append(w, txn, STORE_APPEND_CHANGES, w->s->changes, &k, &v);
    if (rc == 0 && user != NULL) {
        memcpy(kb, user->b, 16);
        key_u64_put(kb + 16, seq);
        MDB_val uk = {24, kb}, uv = {0, ""};
        rc = store_put_append(w, txn, STORE_APPEND_CHANGES_USER, w->s->changes_user, &uk, &uv);
    }
    if (rc != 0)
        return store_mdb_err(rc);
    w->ch_latest = seq;
    return ROSTER_E_OK;
}

/* Whether a model field's slots differ between two views. */
static bool slot_differs(model_type type, const void *a, const void *b)
{
    switch (type) {
    case MODEL_T_BOOL:
        return *(const rec_bool *)a != *(const rec_bool *)b;
    case MODEL_T_DATE:
        return *(const int64_t *)a != *(const int64_t *)b;
    default: {
        const rec_str *x = a, *y = b;
        return x->set != y->set || (x->set && (x->n != y->n || memcmp(x->p, y->p, x->n) != 0));
    }
    }
}

static bool slot_set(model_type type, const void *a)
{
    switch (type) {
    case MODEL_T_BOOL:
        return *(const rec_bool *)a >= 0;
    case MODEL_T_DATE:
        return true;
    default:
        return ((const rec_str *)a)->set;
    }
}

int changes_append_user(store_wtxn *w, MDB_txn *txn, const user_view *old, const user_view *nv,
                        const Roster__V1__User *u, const void *bytes, size_t len)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    const store_fields *sf = store_fields_get();
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    Roster__V1__User ev = ROSTER__V1__USER__INIT;
    char tenant_text[ROSTER_UUID_TEXT_LEN + 1], prev_text[ROSTER_UUID_TEXT_LEN + 1];
    ch.has_kind = 1;
    ch.id = u->id;
    if (nv->has_tenant) {
        roster_uuid_format(tenant_text, &nv->tenant);
        ch.tenant_id = tenant_text;
    }
    if (old == NULL) {
        ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_CREATED;
        return put_event(w, txn, &ch, &nv->id, bytes, len); /* the whole record */
    }
    uint64_t cleared = 0;
    ev.id = u->id;
    for (size_t i = 0; i < model_user.n_fields; i++) {
        model_type type = model_user.fields[i].type;
        const void *a = rec_user_slot(old, (int)i), *b = rec_user_slot(nv, (int)i);
        const ProtobufCFieldDescriptor *fd = sf->user.fields[i];
        if (i == MODEL_USER_id || fd == NULL || !slot_differs(type, a, b))
            continue;
        if (slot_set(type, b))
            model_pb_copy(&ev.base, fd, &u->base, fd);
        else if (fd->id < 64)
            cleared |= UINT64_C(1) << fd->id;
    }
    if (cleared) {
        ch.has_cleared = 1;
        ch.cleared = cleared;
    }
    ch.user = &ev;
    rec_bool was = old->f.active, now = nv->f.active;
    if (was != 0 && now == 0)
        ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DEACTIVATED;
    else if (was == 0 && now != 0)
        ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_REACTIVATED;
    else
        ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_UPDATED;
    if (old->has_tenant && (!nv->has_tenant || !roster_uuid_eq(&old->tenant, &nv->tenant))) {
        roster_uuid_format(prev_text, &old->tenant);
        ch.previous_tenant_id = prev_text;
    }
    return put_event(w, txn, &ch, &nv->id, NULL, 0);
}

int changes_append_tenant(store_wtxn *w, MDB_txn *txn, const void *old, size_t old_len,
                          const Roster__V1__Tenant *t, const void *bytes, size_t len)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    const store_fields *sf = store_fields_get();
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    Roster__V1__Tenant ev = ROSTER__V1__TENANT__INIT;
    ch.has_kind = 1;
    ch.id = t->id;
    ch.tenant_id = t->id;
    if (old == NULL) {
        ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_CREATED;
        ch.tenant = (Roster__V1__Tenant *)t;
        return put_event(w, txn, &ch, NULL, NULL, 0);
    }
    tenant_view ov, nv;
    int err = tenant_view_parse(&ov, old, old_len);
    if (err == ROSTER_E_OK)
        err = tenant_view_parse(&nv, bytes, len);
    if (err != ROSTER_E_OK)
        return err;
    uint64_t cleared = 0;
    ev.id = t->id;
    for (size_t i = 0; i < model_tenant.n_fields; i++) {
        model_type type = model_tenant.fields[i].type;
        const void *a = (const char *)&ov.f + rec_tenant_off[i];
        const void *b = (const char *)&nv.f + rec_tenant_off[i];
        const ProtobufCFieldDescriptor *fd = sf->tenant.fields[i];
        if (i == MODEL_TENANT_id || fd == NULL || !slot_differs(type, a, b))
            continue;
        if (slot_set(type, b))
            model_pb_copy(&ev.base, fd, &t->base, fd);
        else if (fd->id < 64)
            cleared |= UINT64_C(1) << fd->id;
    }
    if (cleared) {
        ch.has_cleared = 1;
        ch.cleared = cleared;
    }
    ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_UPDATED;
    ch.tenant = &ev;
    return put_event(w, txn, &ch, NULL, NULL, 0);
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
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, &tmp);
    Roster__V1__Change *ch = roster__v1__change__unpack(&alloc, v.mv_size, v.mv_data);
    int err = ROSTER_E_CORRUPT;
    if (ch != NULL) {
        const store_fields *sf = store_fields_get();
        for (size_t i = 0; ch->user != NULL && i < model_user.n_fields; i++) {
            const ProtobufCFieldDescriptor *fd = sf->user.fields[i];
            if (fd != NULL && !(model_user.fields[i].flags & MODEL_SERVER_SET) &&
                i != MODEL_USER_tenantId)
                model_pb_clear(&ch->user->base, fd);
        }
        ch->has_cleared = 0;
        ch->cleared = 0;
        ch->has_scrubbed = ch->scrubbed = 1;
        size_t len = protobuf_c_message_get_packed_size(&ch->base);
        MDB_val nv;
        nv.mv_size = len;
        /* MDB_RESERVE: pack straight into the page. */
        store_append_forget(w, STORE_APPEND_CHANGES);
        rc = mdb_put(txn, w->s->changes, &k, &nv, MDB_RESERVE);
        if (rc == 0) {
            protobuf_c_message_pack(&ch->base, nv.mv_data);
            err = ROSTER_E_OK;
        } else {
            err = store_mdb_err(rc);
        }
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
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    char id_text[ROSTER_UUID_TEXT_LEN + 1], tenant_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, id);
    ch.has_kind = 1;
    ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED;
    ch.id = id_text;
    if (tenant != NULL) {
        roster_uuid_format(tenant_text, tenant);
        ch.tenant_id = tenant_text;
    }
    /* No changes_user entry: the event holds nothing to scrub. */
    return put_event(w, txn, &ch, NULL, NULL, 0);
}

int changes_append_tenant_deleted(store_wtxn *w, MDB_txn *txn, const roster_uuid *id)
{
    if (w->s->changes_off) {
        w->ch_hole = true;
        return ROSTER_E_OK;
    }
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    char id_text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(id_text, id);
    ch.has_kind = 1;
    ch.kind = ROSTER__V1__CHANGE_KIND__CHANGE_KIND_TENANT_DELETED;
    ch.id = id_text;
    ch.tenant_id = id_text;
    return put_event(w, txn, &ch, NULL, NULL, 0);
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
    int64_t cutoff =
        s->keep_ms == STORE_CHANGES_UNLIMITED
            ? INT64_MIN
            : roster_now_ms() - (int64_t)(s->keep_ms > INT64_MAX ? INT64_MAX : s->keep_ms);
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
        if ((err = peek(&h, v.mv_data, v.mv_size)) != ROSTER_E_OK)
            break;
        bool drop = seq <= w->ch_floor;
        if (!drop && s->keep_events != STORE_CHANGES_UNLIMITED)
            drop = w->ch_latest - w->ch_floor > s->keep_events;
        if (!drop)
            drop = h.at < cutoff;
        if (!drop)
            break;
        roster_uuid uid;
        if (is_user_kind(h.kind) && h.id != NULL &&
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
        if (seq > w->ch_floor)
            w->ch_floor = seq;
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
    unsigned n = 0;
    int err = w->failed ? w->failed : trim(w, max, &n);
    if (err == ROSTER_E_OK && trimmed != NULL)
        *trimmed = n;
    return err;
}

int store_changes_pending(const store_wtxn *w, uint64_t *first, uint64_t *last)
{
    if (!w->ch_loaded || w->ch_latest == w->ch_start || w->s->changes_off)
        return ROSTER_E_NOT_FOUND;
    *first = w->ch_start + 1;
    *last = w->ch_latest;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ reading */

bool store_changes_recording(const store *s)
{
    return s->has_changes && !s->changes_off;
}

int store_changes_bounds(store_rtxn *r, uint64_t *oldest_seq, uint64_t *latest_seq)
{
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

static bool text_is(const char *p, size_t n, const char *want)
{
    return p != NULL && n == ROSTER_UUID_TEXT_LEN && memcmp(p, want, n) == 0;
}

/* The event reduced to what a caller of the tenant a user left may see:
 * kind, id and both tenants. Packed into `arena`. */
static int reduced(store_slice *out, const change_head *h, roster_arena *arena)
{
    Roster__V1__Change ch = ROSTER__V1__CHANGE__INIT;
    char id[ROSTER_UUID_TEXT_LEN + 1] = "", tenant[ROSTER_UUID_TEXT_LEN + 1] = "",
                                   prev[ROSTER_UUID_TEXT_LEN + 1] = "";
    if (h->id_n > ROSTER_UUID_TEXT_LEN || h->tenant_n > ROSTER_UUID_TEXT_LEN ||
        h->prev_n > ROSTER_UUID_TEXT_LEN)
        return ROSTER_E_CORRUPT;
    ch.has_seq = ch.has_kind = ch.has_committed_at = 1;
    ch.seq = h->seq;
    ch.kind = (Roster__V1__ChangeKind)h->kind;
    ch.committed_at = h->at;
    memcpy(id, h->id, h->id_n);
    ch.id = id;
    if (h->tenant != NULL) {
        memcpy(tenant, h->tenant, h->tenant_n);
        ch.tenant_id = tenant;
    }
    memcpy(prev, h->prev, h->prev_n);
    ch.previous_tenant_id = prev;
    size_t len = protobuf_c_message_get_packed_size(&ch.base);
    uint8_t *b = roster_arena_alloc(arena, len ? len : 1);
    if (b == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_pack(&ch.base, b);
    out->data = b;
    out->len = len;
    return ROSTER_E_OK;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int store_changes_list(store_rtxn *r, const roster_uuid *scope, uint64_t after, uint32_t limit,
                       size_t max_bytes, roster_arena *arena, store_changes_page *out,
                       roster_err_detail *detail)
{
    if (!r->s->has_changes)
        return roster_fail(detail, ROSTER_E_FAILED_PRECONDITION, "",
                           "this store has no change feed yet (open it writable once)");
    uint64_t oldest, latest;
    int err = store_changes_bounds(r, &oldest, &latest);
    if (err != ROSTER_E_OK)
        return err;
    if (after + 1 < oldest)
        return roster_fail(detail, ROSTER_E_OUT_OF_RANGE, "after",
                           "after %llu is older than the change feed keeps: the oldest retained "
                           "sequence is %llu; read the data afresh and resume from latest "
                           "sequence %llu",
                           (unsigned long long)after, (unsigned long long)oldest,
                           (unsigned long long)latest);
    if (after > latest)
        return roster_fail(detail, ROSTER_E_OUT_OF_RANGE, "after",
                           "after %llu is past the latest sequence %llu of this store",
                           (unsigned long long)after, (unsigned long long)latest);
    if (limit > STORE_CHANGES_PAGE_MAX)
        limit = STORE_CHANGES_PAGE_MAX;
    store_slice *items = roster_arena_alloc(arena, (limit ? limit : 1) * sizeof *items);
    if (items == NULL)
        return ROSTER_E_NOMEM;
    char scope_text[ROSTER_UUID_TEXT_LEN + 1];
    if (scope != NULL)
        roster_uuid_format(scope_text, scope);
    size_t n = 0, bytes = 0;
    uint64_t next = after;
    bool more = limit > 0 && after < latest;
    MDB_cursor *c = NULL;
    int rc = 0;
    if (more && (rc = mdb_cursor_open(r->txn, r->s->changes, &c)) != 0)
        return store_mdb_err(rc);
    uint8_t kb[8];
    key_u64_put(kb, after + 1);
    MDB_val k = {8, kb}, v;
    unsigned examined = 0, steps = 0;
    bool end = !more;
    for (rc = more ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND; rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        uint64_t seq = key_u64_get(k.mv_data);
        if (n == limit || examined == STORE_CHANGES_SCAN_MAX)
            break;
        if ((err = store_limits_step(&steps, r->deadline_ns, r->stop_ns)) != ROSTER_E_OK)
            break;
        examined++;
        store_slice item = {v.mv_data, v.mv_size};
        bool take = true;
        if (scope != NULL) {
            change_head h;
            if ((err = peek(&h, v.mv_data, v.mv_size)) != ROSTER_E_OK)
                break;
            if (text_is(h.tenant, h.tenant_n, scope_text))
                take = true;
            else if (text_is(h.prev, h.prev_n, scope_text))
                take = (err = reduced(&item, &h, arena)) == ROSTER_E_OK;
            else
                take = false;
            if (err != ROSTER_E_OK)
                break;
        }
        if (take) {
            size_t cost = 1 + varint_len(item.len) + item.len;
            if (max_bytes != 0 && n > 0 && bytes + cost > max_bytes)
                break;
            bytes += cost;
            items[n++] = item;
        }
        next = seq;
    }
    if (rc == MDB_NOTFOUND)
        end = true;
    else if (err == ROSTER_E_OK && rc != 0)
        err = store_mdb_err(rc);
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    /* Having walked to the end, everything up to latest is covered. */
    if (end && limit > 0)
        next = latest;
    out->oldest_seq = oldest;
    out->latest_seq = latest;
    out->next_after = next;
    out->n = n;
    out->items = items;
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
        if (k.mv_size != 8 || peek(&h, v.mv_data, v.mv_size) != ROSTER_E_OK || h.seq != seq) {
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
        if (!is_user_kind(h.kind) || h.kind == ROSTER__V1__CHANGE_KIND__CHANGE_KIND_USER_DELETED ||
            h.scrubbed)
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
        bool ok = grc == 0 && peek(&h, ev.mv_data, ev.mv_size) == ROSTER_E_OK &&
                  is_user_kind(h.kind) && h.id != NULL &&
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
