#include "keys.h"

#include "text.h"

#include <string.h>

size_t key_str(uint8_t *buf, rec_str s)
{
    if (!s.set) {
        buf[0] = 0x02;
        return 1;
    }
    buf[0] = 0x01;
    if (s.n)
        memcpy(buf + 1, s.p, s.n);
    buf[1 + s.n] = 0x00;
    return s.n + 2;
}

static size_t key_bool(uint8_t *buf, rec_bool b)
{
    buf[0] = b < 0 ? 0x03 : b ? 0x02 : 0x01;
    return 1;
}

void key_u64_put(uint8_t *buf, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        buf[i] = (uint8_t)v;
}

uint64_t key_u64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

size_t key_i64(uint8_t *buf, int64_t v)
{
    key_u64_put(buf, (uint64_t)v ^ ((uint64_t)1 << 63));
    return 8;
}

size_t key_sort_value(uint8_t *buf, int field, const user_view *v)
{
    const void *slot = rec_user_slot(v, field);
    switch (model_user.fields[field].type) {
    case MODEL_T_BOOL:
        return key_bool(buf, *(const rec_bool *)slot);
    case MODEL_T_DATE:
        return key_i64(buf, *(const int64_t *)slot);
    default:
        return key_str(buf, *(const rec_str *)slot);
    }
}

void key_scope(roster_uuid *out, const user_view *v)
{
    if (v->has_tenant)
        *out = v->tenant;
    else
        memset(out, 0, sizeof *out);
}

size_t key_unique_value(uint8_t *buf, int u, const user_view *v)
{
    int fi = store_fields_get()->uniq_field[u];
    const rec_str *val = rec_user_slot(v, fi);
    if (model_user.fields[fi].flags & MODEL_FOLD_CASE)
        return text_fold_key(buf, KEY_FOLD_CAP, val->p, val->n);
    if (val->n)
        memcpy(buf, val->p, val->n);
    return val->n;
}

size_t key_user_entries(key_entry *out, uint8_t *buf, const store *s, const user_view *v)
{
    roster_uuid scope;
    key_scope(&scope, v);
    uint8_t flags = rec_active_flags(v->f.active);
    size_t n = 0;
    key_entry *e;

    e = &out[n++];
    e->dbi = s->idx_tenant;
    e->db = "idx_tenant";
    e->unique = false;
    e->dup = true;
    e->vdata = false;
    e->field = -1;
    e->key = buf;
    memcpy(e->key, scope.b, 16);
    e->klen = 16;
    memcpy(e->data, v->id.b, 16);
    e->data[16] = flags;
    e->dlen = KEY_DUP_DATA;
    buf += KEY_MAX;

    const store_fields *sf = store_fields_get();
    for (int u = 0; u < UNIQ__COUNT; u++) {
        int fi = sf->uniq_field[u];
        e = &out[n++];
        e->dbi = s->uniq[u];
        e->db = sf->uniq_db[u];
        e->unique = true;
        e->dup = false;
        e->vdata = false;
        e->field = fi;
        e->key = buf;
        size_t vn = key_unique_value(e->key, u, v);
        e->key[vn] = 0;
        memcpy(e->key + vn + 1, scope.b, 16);
        e->klen = vn + 17;
        memcpy(e->data, v->id.b, 16);
        e->dlen = 16;
        buf += KEY_MAX;
    }

    for (int f = 0; f < SORT__COUNT; f++) {
        int fi = sf->sort_field[f];
        e = &out[n++];
        e->dbi = s->sort[f];
        e->db = sf->sort_db[f];
        e->unique = false;
        e->dup = true;
        e->vdata = sf->sort_vdata[f];
        e->field = -1;
        e->key = buf;
        memcpy(e->key, scope.b, 16);
        if (e->vdata) {
            e->klen = 16;
            size_t vn = key_sort_value(e->data, fi, v);
            memcpy(e->data + vn, v->id.b, 16);
            e->data[vn + 16] = flags;
            e->dlen = vn + KEY_DUP_DATA;
        } else {
            e->klen = 16 + key_sort_value(e->key + 16, fi, v);
            memcpy(e->data, v->id.b, 16);
            e->data[16] = flags;
            e->dlen = KEY_DUP_DATA;
        }
        buf += KEY_MAX;
    }
    return n;
}

/* Positions c (on e's database) at the duplicate of e's key whose data
 * is e's data but for the flags byte (the id, or value and id), into *d;
 * MDB_NOTFOUND when there is none. */
static int dup_find(MDB_cursor *c, const key_entry *e, MDB_val *d)
{
    size_t n = e->dlen - 1;
    MDB_val k = {e->klen, e->key};
    *d = (MDB_val){n, (void *)e->data};
    int rc = mdb_cursor_get(c, &k, d, MDB_GET_BOTH_RANGE);
    if (rc == 0 && (d->mv_size != e->dlen || memcmp(d->mv_data, e->data, n) != 0))
        rc = MDB_NOTFOUND;
    return rc;
}

int key_entry_del(MDB_txn *txn, const key_entry *e)
{
    MDB_val k = {e->klen, e->key}, d;
    if (!e->dup)
        return mdb_del(txn, e->dbi, &k, NULL);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->dbi, &c);
    if (rc != 0)
        return rc;
    if ((rc = dup_find(c, e, &d)) == 0)
        rc = mdb_cursor_del(c, 0);
    mdb_cursor_close(c);
    return rc;
}

int key_entry_lookup(MDB_txn *txn, const key_entry *e, MDB_val *out)
{
    MDB_val k = {e->klen, e->key};
    if (!e->dup)
        return mdb_get(txn, e->dbi, &k, out);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->dbi, &c);
    if (rc != 0)
        return rc;
    rc = dup_find(c, e, out);
    mdb_cursor_close(c);
    return rc;
}

size_t key_tenant_name(uint8_t *buf, const tenant_view *t)
{
    size_t l = key_str(buf, t->f.name);
    memcpy(buf + l, t->id.b, 16);
    return l + 16;
}
