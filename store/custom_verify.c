/* Checks the customData indexes against the records both ways. */
#include "custom_index.h"

#include <stdio.h>
#include <string.h>

/* "customData plan" or "global order lastName", for messages. */
static const char *kind_of(const cdx_def *d)
{
    return d->type == STORE_CUSTOM_ORDER ? "global order" : "customData";
}

static const cdx_def *def_of(const store *s, uint8_t id)
{
    for (size_t i = 0; i < s->n_cdx; i++)
        if (s->cdx[i].id == id)
            return &s->cdx[i];
    return NULL;
}

/* Entries of the indexes complete in txn's snapshot only (a building
 * index misses entries until its walk is done). */
static size_t built_entries(cdx_entry *out, const store *s, MDB_txn *txn, const user_view *v)
{
    static _Thread_local cdx_entry all[CDX_USER_ENTRIES];
    size_t n = custom_index_entries(all, s, v), k = 0;
    for (size_t i = 0; i < n; i++) {
        const cdx_def *d = def_of(s, all[i].key[0]);
        if (d && cdx_built(d, txn))
            out[k++] = all[i];
    }
    return k;
}

static int check_records(const store *s, MDB_txn *txn, cdx_issue_fn fn, void *ctx)
{
    static _Thread_local cdx_entry e[CDX_USER_ENTRIES];
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->users, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    char msg[256];
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        user_view uv;
        if (user_view_parse(&uv, v.mv_data, v.mv_size) != ROSTER_E_OK)
            continue; /* reported as a bad record */
        size_t n = built_entries(e, s, txn, &uv);
        for (size_t i = 0; i < n; i++) {
            MDB_val ek = {e[i].klen, e[i].key}, ed;
            int grc = mdb_get(txn, s->custom, &ek, &ed);
            const cdx_def *d = def_of(s, e[i].key[0]);
            const char *part = e[i].key[1] == 'g' ? "all users" : "its tenant";
            if (grc == MDB_NOTFOUND) {
                snprintf(msg, sizeof msg, "no entry of %s %s (%s) for this user", kind_of(d),
                         d->path, part);
                fn(ctx, STORE_ISSUE_MISSING_ENTRY, &uv.id, msg);
            } else if (grc != 0) {
                mdb_cursor_close(c);
                return store_mdb_err(grc);
            } else if (ed.mv_size != 1 || *(const uint8_t *)ed.mv_data != e[i].flags) {
                snprintf(msg, sizeof msg, "entry of %s %s (%s) has wrong flags", kind_of(d),
                         d->path, part);
                fn(ctx, STORE_ISSUE_STALE_ENTRY, &uv.id, msg);
            }
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static int check_entries(const store *s, MDB_txn *txn, cdx_issue_fn fn, void *ctx)
{
    static _Thread_local cdx_entry e[CDX_USER_ENTRIES];
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->custom, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    char msg[256];
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        const cdx_def *d = k.mv_size >= 2 ? def_of(s, kb[0]) : NULL;
        if (d && !cdx_built(d, txn))
            continue;
        roster_uuid id;
        bool has_id = k.mv_size >= 18;
        if (has_id)
            memcpy(id.b, kb + k.mv_size - 16, 16);
        if (d == NULL) {
            snprintf(msg, sizeof msg, "entry of no recorded customData index (id %u)", kb[0]);
            fn(ctx, STORE_ISSUE_STALE_ENTRY, has_id ? &id : NULL, msg);
            continue;
        }
        MDB_val uk = {16, id.b}, uvv;
        int grc = has_id ? mdb_get(txn, s->users, &uk, &uvv) : MDB_NOTFOUND;
        bool found = false;
        user_view uv;
        if (grc == 0 && user_view_parse(&uv, uvv.mv_data, uvv.mv_size) == ROSTER_E_OK) {
            size_t n = built_entries(e, s, txn, &uv);
            for (size_t i = 0; i < n && !found; i++)
                found = e[i].klen == k.mv_size && memcmp(e[i].key, kb, k.mv_size) == 0;
        } else if (grc != 0 && grc != MDB_NOTFOUND) {
            mdb_cursor_close(c);
            return store_mdb_err(grc);
        }
        if (!found) {
            snprintf(msg, sizeof msg, "entry of %s %s matches no value of %s", kind_of(d), d->path,
                     grc == 0 ? "the user's record" : "any user (no such user)");
            fn(ctx, STORE_ISSUE_STALE_ENTRY, has_id ? &id : NULL, msg);
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

int custom_index_verify(const store *s, MDB_txn *txn, cdx_issue_fn fn, void *ctx)
{
    if (!s->has_custom)
        return ROSTER_E_OK;
    int err = check_records(s, txn, fn, ctx);
    if (err == ROSTER_E_OK)
        err = check_entries(s, txn, fn, ctx);
    for (size_t i = 0; err == ROSTER_E_OK && i < s->n_cdx; i++) {
        const cdx_def *d = &s->cdx[i];
        if (d->type != STORE_CUSTOM_ORDER && cdx_built(d, txn) && d->counted)
            err = custom_index_verify_counts(s, txn, d, fn, ctx);
    }
    return err;
}
