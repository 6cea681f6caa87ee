/* store_verify: records against index entries both ways, uniqueness,
 * referential integrity, counters and the default-tenant mark. Stale
 * entries are looked for only in databases whose entry count differs from
 * what the records account for, so a healthy store is checked in one pass
 * over the records. That misses no stale entry (one a deleted record left
 * behind, say): in a database whose count is right, a stale entry stands
 * in for an entry some record lacks, which is reported as missing (or, in
 * a unique index, for a duplicate, reported as one). The counters are
 * walked whole: one left over for a tenant that no longer exists is
 * reported as stale. */
#include "changes.h"
#include "custom_index.h"
#include "keys.h"
#include "record.h"
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scope_count {
    roster_uuid scope;
    uint64_t users, active;
} scope_count;

typedef struct verifier {
    store_rtxn *r;
    store_issue_fn fn;
    void *ctx;
    store_progress_fn progress;
    void *progress_ctx;
    uint64_t reached; /* tenant and user records */
    uint64_t issues;
    scope_count *sc;
    size_t n_sc, cap_sc;
} verifier;

static void report(verifier *vf, store_issue_kind kind, const char *db, const roster_uuid *id,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(verifier *vf, store_issue_kind kind, const char *db, const roster_uuid *id,
                   const char *fmt, ...)
{
    vf->issues++;
    if (vf->fn == NULL)
        return;
    store_issue is;
    memset(&is, 0, sizeof is);
    is.kind = kind;
    is.db = db;
    if (id)
        roster_uuid_format(is.id, id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is.message, sizeof is.message, fmt, ap);
    va_end(ap);
    vf->fn(vf->ctx, &is);
}

static void reach_record(verifier *vf)
{
    vf->reached++;
    if (vf->progress)
        vf->progress(vf->progress_ctx, vf->reached);
}

static scope_count *scope_find(verifier *vf, const roster_uuid *scope, bool add)
{
    size_t lo = 0, hi = vf->n_sc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = roster_uuid_cmp(&vf->sc[mid].scope, scope);
        if (c == 0)
            return &vf->sc[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!add)
        return NULL;
    if (vf->n_sc == vf->cap_sc) {
        size_t cap = vf->cap_sc ? vf->cap_sc * 2 : 64;
        scope_count *x = realloc(vf->sc, cap * sizeof *x);
        if (x == NULL)
            return NULL;
        vf->sc = x;
        vf->cap_sc = cap;
    }
    memmove(&vf->sc[lo + 1], &vf->sc[lo], (vf->n_sc - lo) * sizeof *vf->sc);
    vf->n_sc++;
    memset(&vf->sc[lo], 0, sizeof vf->sc[lo]);
    vf->sc[lo].scope = *scope;
    return &vf->sc[lo];
}

/* Whether dbi is a sort index of the "values in data" layout. */
static bool dbi_vdata(const store *s, MDB_dbi dbi)
{
    const store_fields *sf = store_fields_get();
    for (int i = 0; i < SORT__COUNT; i++)
        if (s->sort[i] == dbi)
            return sf->sort_vdata[i];
    return false;
}

/* Whether key k of database dbi belongs to the user whose id is in its
 * data (an id for unique indexes, id and flags for the duplicate-sorted
 * ones, value, id and flags for the "values in data" ones). */
static bool entry_accounted(verifier *vf, MDB_dbi dbi, const MDB_val *k, const MDB_val *d,
                            bool unique)
{
    const store *s = vf->r->s;
    roster_uuid id;
    size_t id_at = 0;
    if (!unique && dbi_vdata(s, dbi)) {
        if (d->mv_size < KEY_DUP_DATA)
            return false;
        id_at = d->mv_size - KEY_DUP_DATA;
    } else if (d->mv_size != (unique ? 16 : KEY_DUP_DATA)) {
        return false;
    }
    memcpy(id.b, (const uint8_t *)d->mv_data + id_at, 16);
    MDB_val rk = {16, id.b}, rv;
    if (mdb_get(vf->r->txn, s->users, &rk, &rv) != 0)
        return false;
    user_view v;
    if (user_view_parse(&v, rv.mv_data, rv.mv_size) != ROSTER_E_OK)
        return false;
    key_entry e[USER_ENTRIES];
    static _Thread_local uint8_t buf[USER_ENTRIES * KEY_MAX];
    size_t n = key_user_entries(e, buf, s, &v);
    for (size_t i = 0; i < n; i++)
        if (e[i].dbi == dbi && e[i].klen == k->mv_size &&
            memcmp(e[i].key, k->mv_data, k->mv_size) == 0 && e[i].dlen == d->mv_size &&
            memcmp(e[i].data, d->mv_data, d->mv_size) == 0)
            return true;
    return false;
}

static int stale_scan(verifier *vf, MDB_dbi dbi, const char *name, bool unique)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(vf->r->txn, dbi, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (entry_accounted(vf, dbi, &k, &d, unique))
            continue;
        roster_uuid id;
        const roster_uuid *idp = NULL;
        if (!unique && k.mv_size >= 16) {
            memcpy(id.b, (const uint8_t *)k.mv_data + k.mv_size - 16, 16);
            idp = &id;
        } else if (unique && d.mv_size == 16) {
            memcpy(id.b, d.mv_data, 16);
            idp = &id;
        }
        report(vf, STORE_ISSUE_STALE_ENTRY, name, idp,
               "%s holds an entry (%zu-byte key) that no user record accounts for", name,
               k.mv_size);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static uint64_t db_entries(verifier *vf, MDB_dbi dbi)
{
    MDB_stat st;
    return mdb_stat(vf->r->txn, dbi, &st) == 0 ? st.ms_entries : 0;
}

static int tenant_names_stale(verifier *vf)
{
    const store *s = vf->r->s;
    MDB_cursor *c;
    int rc = mdb_cursor_open(vf->r->txn, s->tenant_name, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        roster_uuid id;
        bool ok = false;
        if (k.mv_size >= 16) {
            memcpy(id.b, (const uint8_t *)k.mv_data + k.mv_size - 16, 16);
            MDB_val tk = {16, id.b}, tv;
            tenant_view t;
            uint8_t kb[KEY_MAX];
            ok = mdb_get(vf->r->txn, s->tenants, &tk, &tv) == 0 &&
                 tenant_view_parse(&t, tv.mv_data, tv.mv_size) == ROSTER_E_OK &&
                 key_tenant_name(kb, &t) == k.mv_size && memcmp(kb, k.mv_data, k.mv_size) == 0;
        }
        if (!ok)
            report(vf, STORE_ISSUE_STALE_ENTRY, "tenant_name", k.mv_size >= 16 ? &id : NULL,
                   "tenant_name holds an entry no tenant record accounts for");
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static int check_tenants(verifier *vf)
{
    const store *s = vf->r->s;
    MDB_txn *txn = vf->r->txn;
    roster_uuid def;
    int derr = store_default_tenant(txn, s, &def);
    uint64_t n = 0, n_default = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->tenants, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        reach_record(vf);
        n++;
        tenant_view t;
        if (tenant_view_parse(&t, v.mv_data, v.mv_size) != ROSTER_E_OK || k.mv_size != 16 ||
            !roster_uuid_eq(k.mv_data, &t.id)) {
            report(vf, STORE_ISSUE_BAD_RECORD, "tenants", NULL,
                   "a tenant record does not decode or its id differs from its key");
            continue;
        }
        uint8_t kb[KEY_MAX];
        MDB_val nk = {key_tenant_name(kb, &t), kb}, nv;
        if (mdb_get(txn, s->tenant_name, &nk, &nv) != 0)
            report(vf, STORE_ISSUE_MISSING_ENTRY, "tenant_name", &t.id,
                   "tenant has no tenant_name entry");
        if (t.f.isDefault > 0) {
            n_default++;
            if (derr != ROSTER_E_OK || !roster_uuid_eq(&def, &t.id))
                report(vf, STORE_ISSUE_DEFAULT_TENANT, "meta", &t.id,
                       "tenant is marked default but meta names another default");
        } else if (derr == ROSTER_E_OK && roster_uuid_eq(&def, &t.id)) {
            report(vf, STORE_ISSUE_DEFAULT_TENANT, "meta", &t.id,
                   "meta names this tenant default but its record is not marked default");
        }
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if (n_default > 1)
        report(vf, STORE_ISSUE_DEFAULT_TENANT, "tenants", NULL,
               "%llu tenants are marked default; at most one may be",
               (unsigned long long)n_default);
    if (derr == ROSTER_E_OK) {
        MDB_val dk = {16, def.b}, dv;
        if (mdb_get(txn, s->tenants, &dk, &dv) != 0)
            report(vf, STORE_ISSUE_DEFAULT_TENANT, "meta", &def,
                   "meta names a default tenant that does not exist");
    }
    if (db_entries(vf, s->tenant_name) != n)
        return tenant_names_stale(vf);
    return ROSTER_E_OK;
}

/* Whether v holds every field a create requires (MODEL_REQUIRED: the
 * reference and email the unique indexes are keyed by). */
static bool has_required(const user_view *v)
{
    for (size_t i = 0; i < model_user.n_fields; i++)
        if ((model_user.fields[i].flags & MODEL_REQUIRED) &&
            !((const rec_str *)rec_user_slot(v, (int)i))->set)
            return false;
    return true;
}

static int check_users(verifier *vf, uint64_t *dup)
{
    const store *s = vf->r->s;
    MDB_txn *txn = vf->r->txn;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->users, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    key_entry e[USER_ENTRIES];
    static _Thread_local uint8_t buf[USER_ENTRIES * KEY_MAX];
    int err = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        reach_record(vf);
        user_view u;
        if (user_view_parse(&u, v.mv_data, v.mv_size) != ROSTER_E_OK || k.mv_size != 16 ||
            !roster_uuid_eq(k.mv_data, &u.id) || !has_required(&u)) {
            report(vf, STORE_ISSUE_BAD_RECORD, "users", NULL,
                   "a user record does not decode, lacks reference/email, or its id differs "
                   "from its key");
            continue;
        }
        if (u.has_tenant) {
            MDB_val tk = {16, u.tenant.b}, tv;
            if (mdb_get(txn, s->tenants, &tk, &tv) != 0)
                report(vf, STORE_ISSUE_DANGLING_TENANT, "users", &u.id,
                       "user's tenantId names no tenant");
        }
        roster_uuid scope;
        key_scope(&scope, &u);
        scope_count *sc = scope_find(vf, &scope, true);
        if (sc == NULL) {
            err = ROSTER_E_NOMEM;
            break;
        }
        sc->users++;
        sc->active += u.f.active != 0;
        size_t n = key_user_entries(e, buf, s, &u);
        for (size_t i = 0; i < n; i++) {
            MDB_val ed;
            if (key_entry_lookup(txn, &e[i], &ed) != 0) {
                report(vf, STORE_ISSUE_MISSING_ENTRY, e[i].db, &u.id, "user lacks its %s entry",
                       e[i].db);
                continue;
            }
            if (ed.mv_size == e[i].dlen && memcmp(ed.mv_data, e[i].data, e[i].dlen) == 0)
                continue;
            if (e[i].unique && ed.mv_size == 16) {
                roster_uuid other;
                memcpy(other.b, ed.mv_data, 16);
                MDB_val ok = {16, other.b}, ov;
                if (mdb_get(txn, s->users, &ok, &ov) == 0) {
                    (*dup)++;
                    report(vf, STORE_ISSUE_DUPLICATE, e[i].db, &u.id,
                           "user shares its %s with another user of the same tenant",
                           model_user.fields[e[i].field].name);
                    continue;
                }
            }
            report(vf, STORE_ISSUE_MISSING_ENTRY, e[i].db, &u.id,
                   "user's %s entry holds different data", e[i].db);
        }
    }
    mdb_cursor_close(c);
    if (err != ROSTER_E_OK)
        return err;
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static int check_counters(verifier *vf, uint64_t users, uint64_t active)
{
    const store *s = vf->r->s;
    store_counter g;
    int err = store_counter_get(vf->r->txn, s, NULL, true, &g);
    if (err != ROSTER_E_OK)
        return err;
    if (g.users != users || g.active != active)
        report(vf, STORE_ISSUE_COUNT_MISMATCH, "counts", NULL,
               "all users: counter says %llu (%llu active), records say %llu (%llu active)",
               (unsigned long long)g.users, (unsigned long long)g.active, (unsigned long long)users,
               (unsigned long long)active);
    MDB_cursor *c;
    int rc = mdb_cursor_open(vf->r->txn, s->counts, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    size_t seen = 0;
    static const roster_uuid no_tenant;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size == 1 && kb[0] == 'g')
            continue;
        if (k.mv_size == 18 && kb[0] == 'c')
            continue; /* a customData index's counter: custom_index_verify's */
        if (k.mv_size != 17 || kb[0] != 't') {
            report(vf, STORE_ISSUE_STALE_ENTRY, "counts", NULL,
                   "counts holds a %zu-byte key that is no counter", k.mv_size);
            continue;
        }
        roster_uuid scope;
        memcpy(scope.b, kb + 1, 16);
        store_counter cn = {0, 0};
        if (v.mv_size == sizeof cn)
            memcpy(&cn, v.mv_data, sizeof cn);
        scope_count *sc = scope_find(vf, &scope, false);
        /* A deleted tenant's counter goes with it; one left over for a
         * tenant no record names (dangling users are reported with their
         * own kind) is a stale entry. */
        MDB_val tk = {16, scope.b}, tv;
        if (sc == NULL && !roster_uuid_eq(&scope, &no_tenant) &&
            mdb_get(vf->r->txn, s->tenants, &tk, &tv) == MDB_NOTFOUND) {
            report(vf, STORE_ISSUE_STALE_ENTRY, "counts", &scope,
                   "counts holds a counter of a tenant that does not exist");
            continue;
        }
        uint64_t want_u = sc ? sc->users : 0, want_a = sc ? sc->active : 0;
        if (sc)
            seen++;
        if (cn.users != want_u || cn.active != want_a)
            report(vf, STORE_ISSUE_COUNT_MISMATCH, "counts", &scope,
                   "tenant counter says %llu (%llu active), records say %llu (%llu active)",
                   (unsigned long long)cn.users, (unsigned long long)cn.active,
                   (unsigned long long)want_u, (unsigned long long)want_a);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return store_mdb_err(rc);
    if (seen != vf->n_sc)
        report(vf, STORE_ISSUE_COUNT_MISMATCH, "counts", NULL,
               "%zu tenants with users have no counter", vf->n_sc - seen);
    return ROSTER_E_OK;
}

/* One API key record: decodes, its id is its key, a known role, admin
 * without a tenant, writer and reader bound to an existing tenant, hashes
 * of the right size. */
static int check_key(verifier *vf, const roster_uuid *key, const void *bytes, size_t len)
{
    const store *s = vf->r->s;
    Roster__V1__ApiKey *k = roster__v1__api_key__unpack(NULL, len, bytes);
    if (k == NULL) {
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "key record does not decode");
        return ROSTER_E_OK;
    }
    roster_uuid id, tenant;
    bool admin = k->has_role && k->role == ROSTER__V1__ROLE__ROLE_ADMIN;
    bool bound = k->has_role && (k->role == ROSTER__V1__ROLE__ROLE_WRITER ||
                                 k->role == ROSTER__V1__ROLE__ROLE_READER);
    if (k->id == NULL || roster_uuid_parse(&id, k->id, strlen(k->id)) != ROSTER_E_OK ||
        !roster_uuid_eq(&id, key))
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "key record id does not match its key");
    else if (k->name == NULL || k->name[0] == '\0')
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "key has no name");
    else if (!admin && !bound)
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "key has no known role");
    else if (admin && k->tenant_id != NULL)
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "admin key is bound to a tenant");
    else if (bound &&
             (k->tenant_id == NULL ||
              roster_uuid_parse(&tenant, k->tenant_id, strlen(k->tenant_id)) != ROSTER_E_OK))
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "writer or reader key has no tenant");
    else if (!k->has_secret_hash || k->secret_hash.len != 32 ||
             (k->has_previous_secret_hash && k->previous_secret_hash.len != 32))
        report(vf, STORE_ISSUE_BAD_KEY, "keys", key, "key secret hash is not 32 bytes");
    else if (bound) {
        MDB_val tk = {16, tenant.b}, tv;
        int rc = mdb_get(vf->r->txn, s->tenants, &tk, &tv);
        /* A revoked key may name a deleted tenant (store_tenant_delete
         * refuses while a key that is not revoked names it): it can never
         * be used again and is kept as a record. */
        if (rc == MDB_NOTFOUND && !k->has_revoked_at)
            report(vf, STORE_ISSUE_DANGLING_TENANT, "keys", key,
                   "key names tenant %s, which does not exist", k->tenant_id);
        else if (rc != 0 && rc != MDB_NOTFOUND) {
            roster__v1__api_key__free_unpacked(k, NULL);
            return store_mdb_err(rc);
        }
    }
    roster__v1__api_key__free_unpacked(k, NULL);
    return ROSTER_E_OK;
}

static int check_keys(verifier *vf)
{
    const store *s = vf->r->s;
    if (!s->has_keys)
        return ROSTER_E_OK;
    MDB_cursor *c;
    int rc = mdb_cursor_open(vf->r->txn, s->keys, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    int err = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && err == ROSTER_E_OK;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        roster_uuid key;
        memset(&key, 0, sizeof key);
        if (k.mv_size != 16) {
            report(vf, STORE_ISSUE_BAD_KEY, "keys", NULL, "key of %zu bytes (want 16)", k.mv_size);
            continue;
        }
        memcpy(key.b, k.mv_data, 16);
        err = check_key(vf, &key, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    return err;
}

static void feed_issue(void *ctx, store_issue_kind kind, const char *db, const roster_uuid *id,
                       const char *message)
{
    report(ctx, kind, db, id, "%s", message);
}

static void custom_issue(void *ctx, store_issue_kind kind, const roster_uuid *id,
                         const char *message)
{
    report(ctx, kind, "idx_custom", id, "%s", message);
}

int store_verify(store_rtxn *r, store_issue_fn fn, void *ctx, uint64_t *out_issues)
{
    return store_verify_progress(r, fn, ctx, NULL, NULL, out_issues);
}

int store_verify_progress(store_rtxn *r, store_issue_fn fn, void *ctx, store_progress_fn progress,
                          void *progress_ctx, uint64_t *out_issues)
{
    if (r->pg)
        return pgstore_verify_progress(r->pg, fn, ctx, progress, progress_ctx, out_issues);
    verifier vf = {
        .r = r, .fn = fn, .ctx = ctx, .progress = progress, .progress_ctx = progress_ctx};
    const store *s = r->s;
    uint64_t dup = 0;
    int err = check_tenants(&vf);
    if (err == ROSTER_E_OK)
        err = check_users(&vf, &dup);
    uint64_t users = 0, active = 0;
    for (size_t i = 0; i < vf.n_sc; i++) {
        users += vf.sc[i].users;
        active += vf.sc[i].active;
    }
    if (err == ROSTER_E_OK)
        err = check_counters(&vf, users, active);
    if (err == ROSTER_E_OK)
        err = check_keys(&vf);
    if (err == ROSTER_E_OK)
        err = changes_verify(r, feed_issue, &vf);
    if (err == ROSTER_E_OK)
        err = custom_index_verify(s, r->txn, custom_issue, &vf);
    /* Entry counts the records account for; a difference means stale
     * entries (duplicates leave one unique entry for two users). */
    typedef struct want_entries {
        MDB_dbi dbi;
        const char *name;
        uint64_t want;
        bool unique;
    } want_entries;
    want_entries dbs[1 + UNIQ__COUNT + SORT__COUNT];
    size_t nd = 0;
    const store_fields *sf = store_fields_get();
    dbs[nd++] = (want_entries){s->idx_tenant, "idx_tenant", users, false};
    for (int i = 0; i < UNIQ__COUNT; i++)
        dbs[nd++] = (want_entries){s->uniq[i], sf->uniq_db[i], users, true};
    for (int i = 0; i < SORT__COUNT; i++)
        dbs[nd++] = (want_entries){s->sort[i], sf->sort_db[i], users, false};
    for (size_t i = 0; i < nd && err == ROSTER_E_OK; i++) {
        uint64_t have = db_entries(&vf, dbs[i].dbi);
        if (have != dbs[i].want && !(dbs[i].unique && dup && have + dup >= dbs[i].want))
            err = stale_scan(&vf, dbs[i].dbi, dbs[i].name, dbs[i].unique);
    }
    free(vf.sc);
    if (err != ROSTER_E_OK)
        return err;
    *out_issues = vf.issues;
    return ROSTER_E_OK;
}
