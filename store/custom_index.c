/* Typed indexes on declared customData paths: declaration, entries,
 * maintenance, build and drop (layout in custom_index.h). */
#include "custom_index.h"

#include "json_path.h"
#include "keys.h"

#include "clock.h"
#include "log.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_CDX_KEY "custom_index"

static const char *const type_names[] = {
    [STORE_CUSTOM_STRING] = "string", [STORE_CUSTOM_INTEGER] = "integer",
    [STORE_CUSTOM_NUMBER] = "number", [STORE_CUSTOM_BOOLEAN] = "boolean",
    [STORE_CUSTOM_DATE] = "date",     [STORE_CUSTOM_ORDER] = "order",
};

const char *store_custom_type_name(store_custom_type type)
{
    if (type < STORE_CUSTOM_STRING || type > STORE_CUSTOM_ORDER)
        return "unknown";
    return type_names[type];
}

/* The sortable model_user field named `name` (not createdAt), or -1. */
static int order_field(const char *name)
{
    const model_field *f = model_field_named(&model_user, name, strlen(name));
    if (f == NULL || !(f->flags & MODEL_SORTABLE))
        return -1;
    int fi = (int)(f - model_user.fields);
    return fi == MODEL_USER_createdAt ? -1 : fi;
}

int store_global_order_parse(char *path, const char *name, roster_err_detail *detail)
{
    if (name == NULL || order_field(name) < 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "global-order",
                           "global-order \"%.128s\" is not a sortable user field other than "
                           "createdAt (whose order the records keep)",
                           name ? name : "");
    snprintf(path, STORE_CUSTOM_PATH_MAX + 1, "%s", name);
    return ROSTER_E_OK;
}

static bool path_valid(const char *p, size_t n)
{
    if (n == 0 || n > STORE_CUSTOM_PATH_MAX || p[0] == '.' || p[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && p[i + 1] != '.');
        if (!ok)
            return false;
    }
    return true;
}

int store_custom_index_parse(char *path, store_custom_type *type, const char *spec,
                             roster_err_detail *detail)
{
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    if (colon == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "custom-index",
                           "custom-index \"%s\" is not path:type", spec ? spec : "");
    size_t n = (size_t)(colon - spec);
    if (!path_valid(spec, n))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "custom-index",
                           "custom-index path \"%.*s\" is not a dot path of names "
                           "([A-Za-z0-9_-], at most %d bytes)",
                           (int)(n > 200 ? 200 : n), spec, STORE_CUSTOM_PATH_MAX);
    for (int t = STORE_CUSTOM_STRING; t <= STORE_CUSTOM_DATE; t++)
        if (strcmp(colon + 1, type_names[t]) == 0) {
            memcpy(path, spec, n);
            path[n] = 0;
            *type = (store_custom_type)t;
            return ROSTER_E_OK;
        }
    return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "custom-index",
                       "custom-index type \"%s\" of %.*s is not string, integer, number, "
                       "boolean or date",
                       colon + 1, (int)(n > 200 ? 200 : n), spec);
}

/* ------------------------------------------------------------ values */

static size_t enc_double(uint8_t *buf, double d)
{
    if (d == 0)
        d = 0; /* -0.0 and 0.0 are one value */
    uint64_t u;
    memcpy(&u, &d, 8);
    u = (u >> 63) ? ~u : u ^ ((uint64_t)1 << 63);
    for (int i = 7; i >= 0; i--) {
        buf[i] = (uint8_t)u;
        u >>= 8;
    }
    return 8;
}

size_t custom_index_encode(uint8_t *buf, store_custom_type t, const json_t *j)
{
    switch (t) {
    case STORE_CUSTOM_STRING: {
        if (!json_is_string(j))
            return 0;
        size_t n = json_string_length(j);
        const char *p = json_string_value(j);
        if (n > CDX_MAX_STRING || memchr(p, 0, n) != NULL)
            return 0;
        memcpy(buf, p, n);
        buf[n] = 0;
        return n + 1;
    }
    case STORE_CUSTOM_INTEGER:
        return json_is_integer(j) ? key_i64(buf, json_integer_value(j)) : 0;
    case STORE_CUSTOM_NUMBER:
        return json_is_number(j) ? enc_double(buf, json_number_value(j)) : 0;
    case STORE_CUSTOM_BOOLEAN:
        if (!json_is_boolean(j))
            return 0;
        buf[0] = json_is_true(j) ? 1 : 0;
        return 1;
    case STORE_CUSTOM_DATE: {
        int64_t ms;
        if (!json_is_string(j) ||
            roster_time_parse_iso(&ms, json_string_value(j), json_string_length(j)) != ROSTER_E_OK)
            return 0;
        return key_i64(buf, ms);
    }
    case STORE_CUSTOM_ORDER: /* no customData value: values_of reads the field */
        return 0;
    }
    return 0;
}

/* The value at dot path `path` of object root, or NULL. */
static const json_t *at_path(const json_t *root, const char *path)
{
    const json_t *j = root;
    const char *p = path;
    while (j && json_is_object(j)) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        j = json_object_getn(j, p, n);
        if (dot == NULL)
            return j;
        p = dot + 1;
    }
    return NULL;
}

/* Value of index d in root into buf; bytes or 0. */
static size_t user_value(uint8_t *buf, const cdx_def *d, const json_t *root)
{
    const json_t *j = root ? at_path(root, d->path) : NULL;
    return j ? custom_index_encode(buf, d->type, j) : 0;
}

/* custom_index_encode of the value v the plain reader found
 * (json_path.h): the same bytes for the same JSON value. */
static size_t encode_plain(uint8_t *buf, store_custom_type t, const json_path_value *v)
{
    switch (t) {
    case STORE_CUSTOM_STRING:
        /* The plain form holds no escapes and no NUL byte. */
        if (v->kind != JSON_PATH_STRING || v->n > CDX_MAX_STRING)
            return 0;
        memcpy(buf, v->p, v->n);
        buf[v->n] = 0;
        return v->n + 1;
    case STORE_CUSTOM_INTEGER:
        return v->kind == JSON_PATH_INTEGER ? key_i64(buf, json_path_integer(v)) : 0;
    case STORE_CUSTOM_NUMBER:
        return v->kind == JSON_PATH_INTEGER || v->kind == JSON_PATH_REAL
                   ? enc_double(buf, json_path_number(v))
                   : 0;
    case STORE_CUSTOM_BOOLEAN:
        if (v->kind != JSON_PATH_TRUE && v->kind != JSON_PATH_FALSE)
            return 0;
        buf[0] = v->kind == JSON_PATH_TRUE;
        return 1;
    case STORE_CUSTOM_DATE: {
        int64_t ms;
        if (v->kind != JSON_PATH_STRING || roster_time_parse_iso(&ms, v->p, v->n) != ROSTER_E_OK)
            return 0;
        return key_i64(buf, ms);
    }
    case STORE_CUSTOM_ORDER: /* no customData value: values_of reads the field */
        return 0;
    }
    return 0;
}

/* Texts longer than this are first searched for the paths' keys
 * (json_path_surely_absent): cheaper than reading them when the keys are
 * missing, dearer than the read when the text is short. */
#define PRECHECK_OVER 64

/* The encoded values at the paths of defs[n] in v's customData into
 * vals[i] and lens[i] (0: none). The plain form is read in place
 * (json_path.h); any other text is parsed with jansson: both give the
 * same values. */
static void custom_values_of(uint8_t (*vals)[CDX_MAX_STRING + 1], size_t *lens,
                             const cdx_def *const *defs, size_t n, const user_view *v);

/* The values of defs[n] for v: a global order's is the field's sort value
 * (key_sort_value, what its sort index orders by), a customData index's
 * the encoded value at its path. */
static void values_of(uint8_t (*vals)[CDX_MAX_STRING + 1], size_t *lens, const cdx_def *const *defs,
                      size_t n, const user_view *v)
{
    const cdx_def *cd[STORE_MAX_CUSTOM_INDEXES];
    size_t at[STORE_MAX_CUSTOM_INDEXES], nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (defs[i]->type == STORE_CUSTOM_ORDER) {
            lens[i] = key_sort_value(vals[i], defs[i]->field, v);
        } else {
            at[nc] = i;
            cd[nc++] = defs[i];
        }
    }
    if (nc == n) {
        custom_values_of(vals, lens, defs, n, v);
        return;
    }
    if (nc == 0)
        return;
    static _Thread_local uint8_t cv[STORE_MAX_CUSTOM_INDEXES][CDX_MAX_STRING + 1];
    size_t cl[STORE_MAX_CUSTOM_INDEXES];
    custom_values_of(cv, cl, cd, nc, v);
    for (size_t j = 0; j < nc; j++) {
        lens[at[j]] = cl[j];
        memcpy(vals[at[j]], cv[j], cl[j]);
    }
}

/* values_of for customData indexes only. */
static void custom_values_of(uint8_t (*vals)[CDX_MAX_STRING + 1], size_t *lens,
                             const cdx_def *const *defs, size_t n, const user_view *v)
{
    const char *text = v->f.customData.p;
    size_t tn = v->f.customData.set ? v->f.customData.n : 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        lens[i] = 0;
        any |= tn > 0 && (tn <= PRECHECK_OVER || !json_path_surely_absent(text, tn, defs[i]->path));
    }
    if (!any)
        return;
    const char *paths[JSON_PATH_MAX];
    json_path_value jv[JSON_PATH_MAX];
    for (size_t i = 0; i < n && i < JSON_PATH_MAX; i++)
        paths[i] = defs[i]->path;
    if (json_path_read(jv, paths, n, text, tn)) {
        for (size_t i = 0; i < n; i++)
            lens[i] = encode_plain(vals[i], defs[i]->type, &jv[i]);
        return;
    }
    json_t *root = json_loadb(text, tn, 0, NULL);
    for (size_t i = 0; i < n; i++)
        lens[i] = user_value(vals[i], defs[i], root);
    json_decref(root);
}

size_t custom_index_tree_value(uint8_t *buf, const cdx_def *d, const char *text, size_t n)
{
    json_t *root = json_loadb(text, n, 0, NULL);
    size_t len = user_value(buf, d, root);
    json_decref(root);
    return len;
}

/* The entries of one value: all users, and the user's tenant (but for a
 * global order). */
static size_t put_entries(cdx_entry *out, const cdx_def *d, const user_view *v, const uint8_t *val,
                          size_t vn)
{
    roster_uuid scope;
    key_scope(&scope, v);
    uint8_t flags = rec_active_flags(v->f.active);
    cdx_entry *g = &out[0], *t = &out[1];
    g->key[0] = d->id;
    g->key[1] = 'g';
    memcpy(g->key + 2, val, vn);
    memcpy(g->key + 2 + vn, v->id.b, 16);
    g->klen = 2 + vn + 16;
    g->flags = flags;
    /* A global order's per-tenant part is the field's sort index. */
    if (d->type == STORE_CUSTOM_ORDER)
        return 1;
    t->key[0] = d->id;
    t->key[1] = 't';
    memcpy(t->key + 2, scope.b, 16);
    memcpy(t->key + 18, val, vn);
    memcpy(t->key + 18 + vn, v->id.b, 16);
    t->klen = 18 + vn + 16;
    t->flags = flags;
    return 2;
}

static size_t entries_of(cdx_entry *out, const cdx_def *defs, size_t n_defs, const user_view *v)
{
    const cdx_def *d[STORE_MAX_CUSTOM_INDEXES] = {0};
    uint8_t vals[STORE_MAX_CUSTOM_INDEXES][CDX_MAX_STRING + 1];
    size_t lens[STORE_MAX_CUSTOM_INDEXES];
    for (size_t i = 0; i < n_defs; i++)
        d[i] = &defs[i];
    values_of(vals, lens, d, n_defs, v);
    size_t n = 0;
    for (size_t i = 0; i < n_defs; i++)
        if (lens[i])
            n += put_entries(out + n, &defs[i], v, vals[i], lens[i]);
    return n;
}

size_t custom_index_user_value(uint8_t *buf, const cdx_def *d, const user_view *v)
{
    size_t n;
    values_of((uint8_t(*)[CDX_MAX_STRING + 1]) buf, &n, &d, 1, v);
    return n;
}

void custom_index_user_values(uint8_t (*vals)[CDX_MAX_STRING + 1], size_t *lens,
                              const cdx_def *const *defs, size_t n, const user_view *v)
{
    values_of(vals, lens, defs, n, v);
}

size_t custom_index_entries(cdx_entry *out, const store *s, const user_view *v)
{
    return s->n_cdx ? entries_of(out, s->cdx, s->n_cdx, v) : 0;
}

/* ------------------------------------------------------------ counters
 * The counts database holds, per customData index and scope, the key
 * 'c' id(1) scope(16) -> entries(8) active(8), big-endian: how many users
 * of the scope have an entry in the index (one in its 't' part), and how
 * many of those are not deactivated. An order by the path with no other
 * condition takes its exact total there (custom_index_order_total)
 * instead of walking the whole index. Writes keep them exactly once the
 * index is ready; while it builds they are whatever the writes made them,
 * and the build's last step counts them anew (recount). */

static size_t counts_key(uint8_t *k, uint8_t id, const uint8_t *scope)
{
    k[0] = 'c';
    k[1] = id;
    memcpy(k + 2, scope, 16);
    return 18;
}

static bool flags_active(uint8_t flags)
{
    return (flags & FLAG_INACTIVE) == 0;
}

/* Adds d_entries and d_active to the counters of index id and scope. */
static int counts_add(const store *s, MDB_txn *txn, uint8_t id, const uint8_t *scope,
                      int64_t d_entries, int64_t d_active)
{
    if (d_entries == 0 && d_active == 0)
        return ROSTER_E_OK;
    uint8_t kb[18];
    MDB_val k = {counts_key(kb, id, scope), kb}, v;
    uint64_t e = 0, a = 0;
    int rc = mdb_get(txn, s->counts, &k, &v);
    if (rc == 0 && v.mv_size == 16) {
        e = key_u64_get(v.mv_data);
        a = key_u64_get((const uint8_t *)v.mv_data + 8);
    } else if (rc != 0 && rc != MDB_NOTFOUND) {
        return store_mdb_err(rc);
    }
    e = (uint64_t)((int64_t)e + d_entries);
    a = (uint64_t)((int64_t)a + d_active);
    if (e == 0 && a == 0) {
        rc = mdb_del(txn, s->counts, &k, NULL);
        return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
    }
    uint8_t b[16];
    key_u64_put(b, e);
    key_u64_put(b + 8, a);
    MDB_val nv = {16, b};
    return store_mdb_err(mdb_put(txn, s->counts, &k, &nv, 0));
}

/* A 't' entry of index id for scope: the counters' change when it goes
 * (sign -1) or comes (+1) with flags. */
static int counts_entry(const store *s, MDB_txn *txn, const cdx_entry *e, int sign)
{
    if (e->key[1] != 't')
        return ROSTER_E_OK;
    return counts_add(s, txn, e->key[0], e->key + 2, sign, sign * (int64_t)flags_active(e->flags));
}

/* One scope's counts while recounting. */
typedef struct scope_counts {
    uint8_t scope[16];
    uint64_t entries, active;
} scope_counts;

/* The counts of index id from its 't' part in txn, one per scope in key
 * order, into *out (malloc'd, *n of them; NULL when none). */
static int count_parts(const store *s, MDB_txn *txn, uint8_t id, scope_counts **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->custom, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    uint8_t start[2] = {id, 't'};
    MDB_val k = {2, start}, v;
    size_t cap = 0;
    int err = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size < 2 + 16 + 16 || kb[0] != id || kb[1] != 't')
            break;
        if (*n == 0 || memcmp((*out)[*n - 1].scope, kb + 2, 16) != 0) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                scope_counts *x = realloc(*out, cap * sizeof *x);
                if (x == NULL) {
                    err = ROSTER_E_NOMEM;
                    break;
                }
                *out = x;
            }
            scope_counts *sc = &(*out)[(*n)++];
            memcpy(sc->scope, kb + 2, 16);
            sc->entries = sc->active = 0;
        }
        scope_counts *sc = &(*out)[*n - 1];
        sc->entries++;
        sc->active += v.mv_size == 1 && flags_active(*(const uint8_t *)v.mv_data);
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    if (err != ROSTER_E_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return err;
}

/* Deletes the counters of index id in txn. */
static int counts_drop(const store *s, MDB_txn *txn, uint8_t id)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->counts, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    uint8_t start[2] = {'c', id};
    MDB_val k = {2, start}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size != 18 || kb[0] != 'c' || kb[1] != id)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

/* Counts index id anew from its entries, in txn. */
static int recount(const store *s, MDB_txn *txn, uint8_t id)
{
    scope_counts *sc = NULL;
    size_t n = 0;
    int err = counts_drop(s, txn, id);
    if (err == ROSTER_E_OK)
        err = count_parts(s, txn, id, &sc, &n);
    for (size_t i = 0; err == ROSTER_E_OK && i < n; i++)
        err = counts_add(s, txn, id, sc[i].scope, (int64_t)sc[i].entries, (int64_t)sc[i].active);
    free(sc);
    return err;
}

int custom_index_order_total(const store *s, MDB_txn *txn, const cdx_def *d, bool one_tenant,
                             const roster_uuid *tenant, bool active_only, int64_t *total)
{
    *total = 0;
    uint8_t kb[18];
    MDB_val k, v;
    if (one_tenant) {
        k = (MDB_val){counts_key(kb, d->id, tenant->b), kb};
        int rc = mdb_get(txn, s->counts, &k, &v);
        if (rc == MDB_NOTFOUND)
            return ROSTER_E_OK;
        if (rc != 0)
            return store_mdb_err(rc);
        if (v.mv_size != 16)
            return ROSTER_E_CORRUPT;
        *total = (int64_t)key_u64_get((const uint8_t *)v.mv_data + (active_only ? 8 : 0));
        return ROSTER_E_OK;
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->counts, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    uint8_t start[2] = {'c', d->id};
    k = (MDB_val){2, start};
    int err = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size != 18 || p[0] != 'c' || p[1] != d->id)
            break;
        if (v.mv_size != 16) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        *total += (int64_t)key_u64_get((const uint8_t *)v.mv_data + (active_only ? 8 : 0));
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    return err;
}

int custom_index_verify_counts(const store *s, MDB_txn *txn, const cdx_def *d, cdx_issue_fn fn,
                               void *ctx)
{
    scope_counts *sc;
    size_t n;
    int err = count_parts(s, txn, d->id, &sc, &n);
    if (err != ROSTER_E_OK)
        return err;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->counts, &c);
    if (rc != 0) {
        free(sc);
        return store_mdb_err(rc);
    }
    uint8_t start[2] = {'c', d->id};
    MDB_val k = {2, start}, v;
    size_t seen = 0;
    char msg[256];
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        if (k.mv_size != 18 || p[0] != 'c' || p[1] != d->id)
            break;
        uint64_t e = v.mv_size == 16 ? key_u64_get(v.mv_data) : UINT64_MAX,
                 a = v.mv_size == 16 ? key_u64_get((const uint8_t *)v.mv_data + 8) : UINT64_MAX;
        const scope_counts *want = NULL;
        for (size_t i = 0; i < n && want == NULL; i++)
            if (memcmp(sc[i].scope, p + 2, 16) == 0)
                want = &sc[i];
        seen += want != NULL;
        uint64_t we = want ? want->entries : 0, wa = want ? want->active : 0;
        if (e != we || a != wa) {
            roster_uuid scope;
            memcpy(scope.b, p + 2, 16);
            snprintf(msg, sizeof msg,
                     "counter of customData %s says %llu users (%llu active), its entries %llu "
                     "(%llu)",
                     d->path, (unsigned long long)e, (unsigned long long)a, (unsigned long long)we,
                     (unsigned long long)wa);
            fn(ctx, STORE_ISSUE_COUNT_MISMATCH, &scope, msg);
        }
    }
    mdb_cursor_close(c);
    if (seen != n) {
        snprintf(msg, sizeof msg, "customData %s: %zu scopes have entries but no counter", d->path,
                 n - seen);
        fn(ctx, STORE_ISSUE_COUNT_MISMATCH, NULL, msg);
    }
    free(sc);
    return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static bool has_entry(const cdx_entry *e, size_t n, const cdx_entry *x, bool same_flags)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].klen == x->klen && memcmp(e[i].key, x->key, x->klen) == 0)
            return !same_flags || e[i].flags == x->flags;
    return false;
}

int custom_index_user_update(const store *s, MDB_txn *txn, const cdx_entry *old_e, size_t n_old,
                             const user_view *nv)
{
    if (s->n_cdx == 0)
        return ROSTER_E_OK;
    static _Thread_local cdx_entry new_e[CDX_USER_ENTRIES];
    size_t n_new = custom_index_entries(new_e, s, nv);
    int rc;
    int err;
    for (size_t i = 0; i < n_old; i++) {
        if (has_entry(new_e, n_new, &old_e[i], false))
            continue;
        MDB_val k = {old_e[i].klen, (void *)old_e[i].key};
        if ((rc = mdb_del(txn, s->custom, &k, NULL)) != 0 && rc != MDB_NOTFOUND)
            return store_mdb_err(rc);
        if (rc == 0 && (err = counts_entry(s, txn, &old_e[i], -1)) != ROSTER_E_OK)
            return err;
    }
    for (size_t i = 0; i < n_new; i++) {
        if (has_entry(old_e, n_old, &new_e[i], true))
            continue;
        MDB_val k = {new_e[i].klen, new_e[i].key}, d = {1, &new_e[i].flags};
        if ((rc = mdb_put(txn, s->custom, &k, &d, 0)) != 0)
            return store_mdb_err(rc);
        /* The same key with other flags: only the active count moves. */
        const cdx_entry *was = NULL;
        for (size_t j = 0; j < n_old && was == NULL; j++)
            if (old_e[j].klen == new_e[i].klen &&
                memcmp(old_e[j].key, new_e[i].key, new_e[i].klen) == 0)
                was = &old_e[j];
        if (was && (err = counts_entry(s, txn, was, -1)) != ROSTER_E_OK)
            return err;
        if ((err = counts_entry(s, txn, &new_e[i], 1)) != ROSTER_E_OK)
            return err;
    }
    return ROSTER_E_OK;
}

int custom_index_user_remove(const store *s, MDB_txn *txn, const user_view *v)
{
    if (s->n_cdx == 0)
        return ROSTER_E_OK;
    static _Thread_local cdx_entry old_e[CDX_USER_ENTRIES];
    size_t n = custom_index_entries(old_e, s, v);
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {old_e[i].klen, old_e[i].key};
        int rc = mdb_del(txn, s->custom, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_mdb_err(rc);
        int err;
        if (rc == 0 && (err = counts_entry(s, txn, &old_e[i], -1)) != ROSTER_E_OK)
            return err;
    }
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ declared set */

bool cdx_built(const cdx_def *d, MDB_txn *txn)
{
    uint64_t ready = atomic_load_explicit(&d->ready_txn, memory_order_acquire);
    return ready != CDX_BUILDING && (txn == NULL || (uint64_t)mdb_txn_id(txn) >= ready);
}

const cdx_def *custom_index_global_order(const store *s, int field)
{
    for (size_t i = 0; i < s->n_cdx; i++)
        if (s->cdx[i].type == STORE_CUSTOM_ORDER && s->cdx[i].field == field)
            return &s->cdx[i];
    return NULL;
}

bool cdx_building_now(const cdx_def *d)
{
    return atomic_load_explicit(&d->ready_txn, memory_order_relaxed) == CDX_BUILDING;
}

/* Sets def slot d from id, type, path and ready_txn (the atomic field is
 * written with an atomic store, never by struct assignment). */
static void def_set(cdx_def *d, uint8_t id, store_custom_type type, const char *path,
                    uint64_t ready)
{
    d->id = id;
    d->type = type;
    d->field = (int8_t)(type == STORE_CUSTOM_ORDER ? order_field(path) : -1);
    d->counted = false;
    if (path != d->path) { /* callers may pass the slot's own path */
        size_t n = strnlen(path, sizeof d->path - 1);
        memmove(d->path, path, n);
        d->path[n] = '\0';
    }
    atomic_store_explicit(&d->ready_txn, ready, memory_order_relaxed);
}

static int meta_load(store *s, MDB_txn *txn)
{
    s->n_cdx = 0;
    MDB_val k = {strlen(META_CDX_KEY), META_CDX_KEY}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return ROSTER_E_OK;
    if (rc != 0)
        return store_mdb_err(rc);
    const char *p = v.mv_data, *end = p + v.mv_size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL || s->n_cdx == STORE_MAX_CUSTOM_INDEXES)
            return ROSTER_E_CORRUPT;
        unsigned id, type;
        char state;
        int used = 0;
        char line[STORE_CUSTOM_PATH_MAX + 32];
        size_t ln = (size_t)(nl - p);
        if (ln >= sizeof line)
            return ROSTER_E_CORRUPT;
        memcpy(line, p, ln);
        line[ln] = 0;
        if (sscanf(line, "%u %u %c %n", &id, &type, &state, &used) != 3 || used == 0 || id == 0 ||
            id > 255 || type < STORE_CUSTOM_STRING || type > STORE_CUSTOM_ORDER ||
            (state != 'r' && state != 'k' && state != 'b') ||
            !path_valid(line + used, ln - (size_t)used) ||
            (type == STORE_CUSTOM_ORDER && order_field(line + used) < 0))
            return ROSTER_E_CORRUPT;
        def_set(&s->cdx[s->n_cdx], (uint8_t)id, (store_custom_type)type, line + used,
                state == 'b' ? CDX_BUILDING : 0);
        s->cdx[s->n_cdx++].counted = state == 'k';
        p = nl + 1;
    }
    return ROSTER_E_OK;
}

/* Writes the declared set into meta in txn; the index of id `ready_id` (0:
 * none) is recorded ready (and counted) whatever its flag says (the last
 * step of its build, before the flag is set). State 'k': ready with
 * exact counters; 'r': ready, built before the store kept them; 'b':
 * building. */
static int meta_save(const store *s, MDB_txn *txn, uint8_t ready_id)
{
    char buf[STORE_MAX_CUSTOM_INDEXES * (STORE_CUSTOM_PATH_MAX + 16)];
    size_t n = 0;
    for (size_t i = 0; i < s->n_cdx; i++) {
        const cdx_def *d = &s->cdx[i];
        bool building = d->id != ready_id && cdx_building_now(d);
        char state = building ? 'b' : d->id == ready_id || d->counted ? 'k' : 'r';
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%u %u %c %s\n", d->id, (unsigned)d->type,
                              state, d->path);
    }
    MDB_val k = {strlen(META_CDX_KEY), META_CDX_KEY}, v = {n, buf};
    int rc = n ? mdb_put(txn, s->meta, &k, &v, 0) : mdb_del(txn, s->meta, &k, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

static int save_set(store *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return store_mdb_err(rc);
    int err = meta_save(s, txn, 0);
    if (err != ROSTER_E_OK) {
        mdb_txn_abort(txn);
        return err;
    }
    return store_mdb_err(mdb_txn_commit(txn));
}

/* Begins a write transaction with a cursor on dbi; an MDB_* code. */
static int write_cursor(store *s, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **c)
{
    int rc = mdb_txn_begin(s->env, NULL, 0, txn);
    if (rc == 0 && (rc = mdb_cursor_open(*txn, dbi, c)) != 0)
        mdb_txn_abort(*txn);
    return rc;
}

/* Deletes up to max entries of index `id` in one write transaction; *n
 * gets the number deleted (fewer than max: none is left). */
static int drop_some(store *s, uint8_t id, size_t max, size_t *n_out)
{
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = write_cursor(s, s->custom, &txn, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k = {1, &id}, v;
    size_t n = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && n < max;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (((const uint8_t *)k.mv_data)[0] != id)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        n++;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return store_mdb_err(rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return store_mdb_err(rc);
    *n_out = n;
    return ROSTER_E_OK;
}

/* Deletes every entry of index `id`, CDX_DROP_BATCH per transaction. */
/* Runs fn(s, txn, id) in a write transaction of its own. */
static int in_write_txn(store *s, uint8_t id, int (*fn)(const store *, MDB_txn *, uint8_t))
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return store_mdb_err(rc);
    int err = fn(s, txn, id);
    if (err != ROSTER_E_OK) {
        mdb_txn_abort(txn);
        return err;
    }
    return store_mdb_err(mdb_txn_commit(txn));
}

/* Deletes every entry of index `id`, CDX_DROP_BATCH per transaction, then
 * its counters. */
static int drop_entries(store *s, uint8_t id)
{
    for (;;) {
        size_t n;
        int err = drop_some(s, id, CDX_DROP_BATCH, &n);
        if (err != ROSTER_E_OK)
            return err;
        if (n < CDX_DROP_BATCH)
            return in_write_txn(s, id, counts_drop);
    }
}

/* Whether a and b are one index's declarations: the same path, both
 * customData paths or both global orders. */
static bool same_target(const cdx_def *a, const char *path, store_custom_type type)
{
    return strcmp(a->path, path) == 0 &&
           (a->type == STORE_CUSTOM_ORDER) == (type == STORE_CUSTOM_ORDER);
}

static int parse_declared(cdx_def *out, size_t *n_out, const char *const *declared, size_t n,
                          const char *const *orders, size_t n_orders, roster_err_detail *detail)
{
    if (n + n_orders > STORE_MAX_CUSTOM_INDEXES)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, n ? "custom-index" : "global-order",
                           "%zu custom indexes and global orders declared; at most %d are allowed",
                           n + n_orders, STORE_MAX_CUSTOM_INDEXES);
    for (size_t i = 0; i < n + n_orders; i++) {
        int err;
        if (i < n) {
            err = store_custom_index_parse(out[i].path, &out[i].type, declared[i], detail);
        } else {
            err = store_global_order_parse(out[i].path, orders[i - n], detail);
            out[i].type = STORE_CUSTOM_ORDER;
        }
        if (err != ROSTER_E_OK)
            return err;
        for (size_t j = 0; j < i; j++)
            if (same_target(&out[j], out[i].path, out[i].type))
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT,
                                   i < n ? "custom-index" : "global-order",
                                   "%s %s is declared twice",
                                   i < n ? "custom-index path" : "global-order", out[i].path);
    }
    *n_out = n + n_orders;
    return ROSTER_E_OK;
}

int custom_index_declare_unbuilt(cdx_def *out, size_t *n_out, const char *const *declared,
                                 size_t n_declared, roster_err_detail *detail)
{
    size_t n = 0;
    int err = parse_declared(out, &n, declared, n_declared, NULL, 0, detail);
    if (err != ROSTER_E_OK)
        return err;
    for (size_t i = 0; i < n; i++)
        def_set(&out[i], (uint8_t)(i + 1), out[i].type, out[i].path, CDX_BUILDING);
    *n_out = n;
    return ROSTER_E_OK;
}

int custom_index_open(store *s, const char *const *declared, size_t n_declared,
                      const char *const *orders, size_t n_orders, bool declare,
                      roster_err_detail *detail)
{
    static _Thread_local cdx_def want[STORE_MAX_CUSTOM_INDEXES];
    size_t n_want = 0;
    int err;
    s->n_cdx = 0;
    if (!s->has_custom)
        return ROSTER_E_OK;
    if (declare && (err = parse_declared(want, &n_want, declared, n_declared, orders, n_orders,
                                         detail)) != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return store_mdb_err(rc);
    err = meta_load(s, txn);
    mdb_txn_abort(txn);
    if (err != ROSTER_E_OK || !declare || s->read_only)
        return err;
    /* Drop what is no longer declared as recorded (another type). One
     * recorded as building stays building: its build starts again. */
    for (size_t i = 0; i < s->n_cdx;) {
        const cdx_def *d = &s->cdx[i];
        bool keep = false;
        for (size_t j = 0; j < n_want; j++)
            if (strcmp(want[j].path, d->path) == 0 && want[j].type == d->type)
                keep = true;
        if (keep) {
            i++;
            continue;
        }
        roster_log(ROSTER_LOG_INFO, "custom_index_drop", "path=%s type=%s", d->path,
                   store_custom_type_name(d->type));
        uint8_t id = d->id;
        const cdx_def *last = &s->cdx[--s->n_cdx];
        if (last != d) {
            bool counted = last->counted;
            def_set(&s->cdx[i], last->id, last->type, last->path,
                    atomic_load_explicit(&last->ready_txn, memory_order_relaxed));
            s->cdx[i].counted = counted;
        }
        if ((err = save_set(s)) != ROSTER_E_OK || (err = drop_entries(s, id)) != ROSTER_E_OK)
            return err;
    }
    bool added = false;
    for (size_t j = 0; j < n_want; j++) {
        bool have = false;
        for (size_t i = 0; i < s->n_cdx; i++)
            have |= same_target(&s->cdx[i], want[j].path, want[j].type);
        if (have)
            continue;
        uint8_t id = 1;
        for (bool used = true; used; id++) {
            used = false;
            for (size_t i = 0; i < s->n_cdx; i++)
                used |= s->cdx[i].id == id;
            if (!used)
                break;
        }
        /* Recorded as building: writes keep its entries from now on, and
         * store_index_build_step builds it (leftovers of an earlier
         * index with this id are deleted first). */
        def_set(&s->cdx[s->n_cdx++], id, want[j].type, want[j].path, CDX_BUILDING);
        roster_log(ROSTER_LOG_INFO, "custom_index_declare", "path=%s type=%s", want[j].path,
                   store_custom_type_name(want[j].type));
        added = true;
    }
    /* Ready indexes built before the store kept their counters are
     * counted once here (a pass over each index's entries). */
    for (size_t i = 0; i < s->n_cdx; i++) {
        cdx_def *d = &s->cdx[i];
        if (d->counted || d->type == STORE_CUSTOM_ORDER || cdx_building_now(d))
            continue;
        if ((err = in_write_txn(s, d->id, recount)) != ROSTER_E_OK)
            return err;
        d->counted = true;
        added = true;
    }
    return added ? save_set(s) : ROSTER_E_OK;
}

/* ------------------------------------------------------------ online build */

struct store_index_build {
    store *s;
    pgstore_build *pg; /* the PostgreSQL store's build */
    cdx_progress pr;   /* pr.at: the slot of s->cdx being built */
    bool walking;      /* its leftovers are gone: walking the users */
    bool started;      /* last holds the last user walked */
    uint8_t last[16];
};

void cdx_progress_start(cdx_progress *p)
{
    memset(p, 0, sizeof *p);
    p->t0 = p->logged = roster_mono_ns();
}

bool cdx_progress_next(cdx_progress *p, const cdx_def *defs, size_t n)
{
    while (p->at < n && !cdx_building_now(&defs[p->at]))
        p->at++;
    return p->at < n;
}

size_t cdx_progress_left(const cdx_progress *p, const cdx_def *defs, size_t n)
{
    size_t left = 0;
    for (size_t i = p->at; i < n; i++)
        left += cdx_building_now(&defs[i]);
    return left;
}

static void progress_log(const char *event, const cdx_progress *p, const cdx_def *d, int64_t now)
{
    roster_log(ROSTER_LOG_INFO, event, "path=%s users=%llu entries=%llu ms=%lld", d->path,
               (unsigned long long)p->users, (unsigned long long)p->entries,
               (long long)((now - p->t0) / 1000000));
}

void cdx_progress_step(cdx_progress *p, const cdx_def *d, uint64_t users, uint64_t entries,
                       bool first)
{
    p->users += users;
    p->entries += entries;
    int64_t now = roster_mono_ns();
    /* the first step's line says the build runs and at what pace */
    if (first || now - p->logged >= 1000000000) {
        progress_log("custom_index_build", p, d, now);
        p->logged = now;
    }
}

void cdx_progress_ready(cdx_progress *p, const cdx_def *d)
{
    int64_t now = roster_mono_ns();
    progress_log("custom_index_ready", p, d, now);
    p->at++;
    p->users = p->entries = 0;
    p->t0 = p->logged = now;
}

static bool next_building(store_index_build *b)
{
    return cdx_progress_next(&b->pr, b->s->cdx, b->s->n_cdx);
}

int store_index_build_new(store_index_build **out, store *s)
{
    store_index_build b = {.s = s};
    cdx_progress_start(&b.pr);
    if (s->pg) {
        int err = pgstore_build_new(&b.pg, s->pg);
        if (err != ROSTER_E_OK || b.pg == NULL) {
            *out = NULL;
            return err;
        }
        if ((*out = malloc(sizeof **out)) == NULL) {
            pgstore_build_free(b.pg);
            return ROSTER_E_NOMEM;
        }
        **out = b;
        return ROSTER_E_OK;
    }
    if (s->read_only || !s->has_custom || !next_building(&b)) {
        *out = NULL; /* nothing to build */
        return ROSTER_E_OK;
    }
    store_index_build *p = malloc(sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    *p = b;
    *out = p;
    return ROSTER_E_OK;
}

size_t store_index_build_left(const store_index_build *b)
{
    if (b->pg)
        return pgstore_build_left(b->pg);
    return cdx_progress_left(&b->pr, b->s->cdx, b->s->n_cdx);
}

void store_index_build_free(store_index_build *b)
{
    if (b)
        pgstore_build_free(b->pg);
    free(b);
}

/* One walk step over index d: up to max users after b->last, their
 * entries written; the step that reaches the end records d ready in the
 * same transaction and then publishes it (*ready). */
static int walk_some(store_index_build *b, cdx_def *d, size_t max, bool *ready, uint64_t *walked,
                     uint64_t *wrote)
{
    store *s = b->s;
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = write_cursor(s, s->users, &txn, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k = {16, b->last}, v;
    rc = b->started ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)
                    : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (rc == 0 && b->started && k.mv_size == 16 && memcmp(k.mv_data, b->last, 16) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    size_t n = 0;
    uint64_t entries = 0;
    uint8_t last[16];
    memcpy(last, b->last, 16);
    int err = ROSTER_E_OK;
    for (; rc == 0 && n < max; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16) {
            err = ROSTER_E_CORRUPT;
            break;
        }
        user_view uv;
        if ((err = user_view_parse(&uv, v.mv_data, v.mv_size)) != ROSTER_E_OK)
            break;
        cdx_entry e[2];
        size_t ne = entries_of(e, d, 1, &uv);
        for (size_t i = 0; i < ne && err == ROSTER_E_OK; i++) {
            MDB_val ek = {e[i].klen, e[i].key}, ed = {1, &e[i].flags};
            int prc = mdb_put(txn, s->custom, &ek, &ed, 0);
            if (prc != 0)
                err = store_mdb_err(prc);
        }
        if (err != ROSTER_E_OK)
            break;
        entries += ne;
        memcpy(last, k.mv_data, 16);
        n++;
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != 0 && rc != MDB_NOTFOUND)
        err = store_mdb_err(rc);
    bool end = err == ROSTER_E_OK && rc == MDB_NOTFOUND;
    /* The last step counts the index anew: writes kept the counters of
     * the entries they wrote, the walk's are not in them yet. */
    if (end && d->type != STORE_CUSTOM_ORDER)
        err = recount(s, txn, d->id);
    if (end && err == ROSTER_E_OK)
        err = meta_save(s, txn, d->id);
    if (err != ROSTER_E_OK) {
        mdb_txn_abort(txn);
        return err;
    }
    uint64_t id = (uint64_t)mdb_txn_id(txn);
    if ((rc = mdb_txn_commit(txn)) != 0)
        return store_mdb_err(rc);
    /* Snapshots from the commit above on hold the whole index. */
    if (end) {
        d->counted = d->type != STORE_CUSTOM_ORDER; /* published with ready_txn */
        atomic_store_explicit(&d->ready_txn, id, memory_order_release);
    }
    memcpy(b->last, last, 16);
    b->started |= n > 0;
    *ready = end;
    *walked = n;
    *wrote = entries;
    return ROSTER_E_OK;
}

int store_index_build_step(store_index_build *b, size_t max_users, bool *done)
{
    if (b->pg)
        return pgstore_build_step(b->pg, max_users, done);
    if (max_users == 0)
        max_users = 1;
    if (!next_building(b)) {
        *done = true;
        return ROSTER_E_OK;
    }
    cdx_def *d = &b->s->cdx[b->pr.at];
    int err;
    if (!b->walking) {
        size_t n;
        if ((err = drop_some(b->s, d->id, max_users, &n)) != ROSTER_E_OK)
            return err;
        b->walking = n < max_users;
        *done = false;
        return ROSTER_E_OK;
    }
    bool ready = false;
    bool first = !b->started;
    uint64_t walked = 0, wrote = 0;
    if ((err = walk_some(b, d, max_users, &ready, &walked, &wrote)) != ROSTER_E_OK)
        return err;
    b->pr.users += ready ? walked : 0;
    b->pr.entries += ready ? wrote : 0;
    if (ready) {
        cdx_progress_ready(&b->pr, d);
        b->walking = b->started = false;
        *done = !next_building(b);
        return ROSTER_E_OK;
    }
    cdx_progress_step(&b->pr, d, walked, wrote, first);
    *done = false;
    return ROSTER_E_OK;
}
