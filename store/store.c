#include "store_internal.h"

#include "changes.h"
#include "custom_index.h"

#include "record.h"

#include "clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int store_mdb_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return ROSTER_E_OK;
    case MDB_NOTFOUND:
        return ROSTER_E_NOT_FOUND;
    case MDB_KEYEXIST:
        return ROSTER_E_ALREADY_EXISTS;
    case MDB_MAP_FULL:
        return ROSTER_E_MAP_FULL;
    case MDB_TXN_FULL:
    case MDB_READERS_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
        return ROSTER_E_RESOURCE_EXHAUSTED;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_VALSIZE:
        return ROSTER_E_CORRUPT;
    case MDB_VERSION_MISMATCH:
        return ROSTER_E_VERSION;
    case MDB_MAP_RESIZED:
        return ROSTER_E_BUSY;
    case ENOMEM:
        return ROSTER_E_NOMEM;
    case EACCES:
    case EPERM:
        return ROSTER_E_PERMISSION_DENIED;
    case ENOENT:
        return ROSTER_E_NOT_FOUND;
    default:
        return rc > 0 ? ROSTER_E_IO : ROSTER_E_INTERNAL;
    }
}

static int open_fail(const store_options *o, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int open_fail(const store_options *o, int err, const char *fmt, ...)
{
    if (o && o->detail) {
        o->detail->field[0] = '\0';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->detail->message, sizeof o->detail->message, fmt, ap);
        va_end(ap);
    }
    return err;
}

static int open_db(MDB_txn *txn, const char *name, bool create, MDB_dbi *out)
{
    return mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, out);
}

/* A database of duplicate-sorted entries (STORE_DUP_DB_FLAGS, or with
 * vdata STORE_VDATA_DB_FLAGS). */
static int open_dup_db(MDB_txn *txn, const char *name, bool vdata, bool create, MDB_dbi *out)
{
    unsigned flags = vdata ? STORE_VDATA_DB_FLAGS : STORE_DUP_DB_FLAGS;
    return mdb_dbi_open(txn, name, flags | (create ? MDB_CREATE : 0), out);
}

#define META_ENV_KEY "environment_id"
/* Present while a load into an empty store is under way (store_load_mark). */
#define META_LOADING_KEY "load_unfinished"

/* Gives a store without an environment id a random one (a UUIDv4). */
static int ensure_environment_id(MDB_txn *txn, MDB_dbi meta)
{
    MDB_val k = {strlen(META_ENV_KEY), META_ENV_KEY}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc != MDB_NOTFOUND)
        return rc;
    uint8_t id[16];
    if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
        return EIO;
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    v.mv_size = sizeof id;
    v.mv_data = id;
    return mdb_put(txn, meta, &k, &v, 0);
}

/* The 16-byte id kept in the meta database under `name`. */
static int meta_uuid(MDB_txn *txn, const store *s, const char *name, roster_uuid *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc != 0)
        return store_mdb_err(rc);
    if (v.mv_size != 16)
        return ROSTER_E_CORRUPT;
    memcpy(out->b, v.mv_data, 16);
    return ROSTER_E_OK;
}

int store_environment_id(store_rtxn *r, roster_uuid *out)
{
    if (r->pg)
        return pgstore_environment_id(r->pg, out);
    return meta_uuid(r->txn, r->s, META_ENV_KEY, out);
}

bool store_is_postgres(const char *location)
{
    return pgstore_is_url(location);
}

/* store_open of a postgres:// URL: the PostgreSQL backend, which keeps
 * the declared customData indexes as the LMDB store does (pg_custom.c). */
static int open_pg(store **out, const char *url, const store_options *o)
{
    store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return open_fail(o, ROSTER_E_NOMEM, "out of memory");
    roster_err_detail d = {0};
    bool declare = o->declare_custom_index;
    pgstore_options po = {.read_only = o->read_only,
                          .pool_size = o->pg_pool_size,
                          .changes_off = o->changes_off,
                          .changes_keep_events = o->changes_keep_events,
                          .changes_keep_ms = o->changes_keep_ms,
                          .custom_index = declare ? o->custom_index : NULL,
                          .n_custom_index = declare ? o->n_custom_index : 0,
                          .declare_custom_index = declare,
                          .custom_index_scan = o->custom_index_scan,
                          .detail = &d};
    int err = pgstore_open(&s->pg, url, &po);
    if (err != ROSTER_E_OK) {
        free(s);
        if (d.field[0] != 0 && o->detail) {
            *o->detail = d; /* a bad declaration names "custom-index" */
            return err;
        }
        return open_fail(o, err, "%s", d.message);
    }
    s->read_only = o->read_only;
    s->changes_off = o->changes_off;
    *out = s;
    return ROSTER_E_OK;
}

int store_open(store **out, const char *dir, const store_options *opts)
{
    store_options defaults = {0};
    const store_options *o = opts ? opts : &defaults;
    store *s = NULL;
    MDB_txn *txn = NULL;
    int rc, err;
    char path[4096];

    if (dir == NULL)
        return open_fail(o, ROSTER_E_INVALID_ARGUMENT, "no data directory given");
    if (pgstore_is_url(dir))
        return open_pg(out, dir, o);
    if (o->read_only) {
        struct stat st;
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &st) != 0)
            return open_fail(o, ROSTER_E_NOT_FOUND, "%s holds no store (no data.mdb)", dir);
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return open_fail(o, ROSTER_E_NOMEM, "out of memory");
    s->read_only = o->read_only;
    s->changes_off = o->changes_off;
    s->keep_events = o->changes_keep_events ? o->changes_keep_events : STORE_CHANGES_DEFAULT_EVENTS;
    s->keep_ms = o->changes_keep_ms ? o->changes_keep_ms : STORE_CHANGES_DEFAULT_MS;
    s->writemap = o->bulk_load && !o->read_only;
    unsigned flags = MDB_NOTLS | (o->read_only ? MDB_RDONLY : 0) | (o->no_sync ? MDB_NOSYNC : 0) |
                     (s->writemap ? MDB_WRITEMAP : 0);
    /* store_compact leaves lock.mdb empty when it has replaced data.mdb,
     * so that a process that waited for it in mdb_env_open does not go on
     * with the lock state of the old file (compact.c): LMDB then fails with
     * EINVAL, and opening again sets the lock file up anew. */
    for (int tries = 0;; tries++) {
        if ((rc = mdb_env_create(&s->env)) != 0)
            goto mdb_fail;
        if ((rc = mdb_env_set_maxdbs(s->env, 32)) != 0 ||
            (rc = mdb_env_set_maxreaders(s->env, o->max_readers ? o->max_readers : 126)) != 0)
            goto mdb_fail;
        if ((rc = mdb_env_open(s->env, dir, flags, 0640)) == 0)
            break;
        struct stat lst;
        snprintf(path, sizeof path, "%s/lock.mdb", dir);
        if (rc != EINVAL || tries == 3 || stat(path, &lst) != 0 || lst.st_size != 0)
            goto mdb_fail;
        mdb_env_close(s->env);
        s->env = NULL;
    }
    /* Opened without a map size, LMDB takes the one recorded in the
     * environment (1 MiB for a new one): the map is then raised to the
     * size asked for, and an environment made larger keeps its size. */
    uint64_t map = o->map_size ? o->map_size : STORE_DEFAULT_MAP_SIZE;
    MDB_envinfo info;
    if (!o->read_only && (rc = mdb_env_info(s->env, &info)) == 0 && info.me_mapsize < map)
        rc = mdb_env_set_mapsize(s->env, (size_t)map);
    if (rc != 0)
        goto mdb_fail;
    if ((rc = mdb_txn_begin(s->env, NULL, o->read_only ? MDB_RDONLY : 0, &txn)) != 0)
        goto mdb_fail;

    bool create = !o->read_only;
    rc = open_db(txn, STORE_META_DB, create, &s->meta);
    if (rc == MDB_NOTFOUND) {
        err = open_fail(o, ROSTER_E_CORRUPT, "%s is not a Roster store (no meta database)", dir);
        goto fail;
    }
    if (rc != 0)
        goto mdb_fail;
    MDB_val k = {strlen(STORE_META_VERSION_KEY), STORE_META_VERSION_KEY}, v;
    rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND && create) {
        MDB_stat st;
        MDB_dbi main_db;
        /* A new environment holds only the meta database just made. */
        if ((rc = mdb_dbi_open(txn, NULL, 0, &main_db)) != 0 ||
            (rc = mdb_stat(txn, main_db, &st)) != 0)
            goto mdb_fail;
        if (st.ms_entries > 1) {
            err = open_fail(o, ROSTER_E_CORRUPT,
                            "%s holds an LMDB environment that is not a Roster store", dir);
            goto fail;
        }
        uint8_t ver[4] = {STORE_SCHEMA_VERSION & 0xff, 0, 0, 0};
        v.mv_size = 4;
        v.mv_data = ver;
        if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
            goto mdb_fail;
    } else if (rc == MDB_NOTFOUND) {
        err = open_fail(o, ROSTER_E_CORRUPT, "%s has no schema version", dir);
        goto fail;
    } else if (rc != 0) {
        goto mdb_fail;
    } else {
        const uint8_t *b = v.mv_data;
        uint32_t ver = v.mv_size == 4 ? (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                                            (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
                                      : 0;
        if (ver >= STORE_SCHEMA_OLDEST && ver < STORE_SCHEMA_VERSION) {
            err = open_fail(o, ROSTER_E_VERSION,
                            "store schema version %u in %s is older than this build's (%d): "
                            "upgrade it first with `rosterctl upgrade --data %s` (the service "
                            "stopped)",
                            ver, dir, STORE_SCHEMA_VERSION, dir);
            goto fail;
        }
        if (ver != STORE_SCHEMA_VERSION) {
            err = open_fail(o, ROSTER_E_VERSION,
                            "store schema version %u in %s is not supported (this build "
                            "reads version %d)",
                            ver, dir, STORE_SCHEMA_VERSION);
            goto fail;
        }
    }
    k.mv_size = strlen(META_LOADING_KEY);
    k.mv_data = META_LOADING_KEY;
    if ((rc = mdb_get(txn, s->meta, &k, &v)) == 0) {
        err = open_fail(o, ROSTER_E_FAILED_PRECONDITION,
                        "%s holds an unfinished load (rosterctl load stopped before its end, "
                        "so any part of its records may be missing): remove the directory's "
                        "data.mdb and lock.mdb and load again",
                        dir);
        goto fail;
    }
    if (rc != MDB_NOTFOUND)
        goto mdb_fail;
    if (create && (rc = ensure_environment_id(txn, s->meta)) != 0)
        goto mdb_fail;
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"counts", &s->counts},
        {"users", &s->users},
        {"tenants", &s->tenants},
    };
    const store_fields *sf = store_fields_get();
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++)
        if ((rc = open_db(txn, dbs[i].name, create, dbs[i].dbi)) != 0)
            goto db_fail;
    if ((rc = open_dup_db(txn, "idx_tenant", false, create, &s->idx_tenant)) != 0)
        goto db_fail;
    for (int i = 0; i < UNIQ__COUNT; i++)
        if ((rc = open_db(txn, sf->uniq_db[i], create, &s->uniq[i])) != 0)
            goto db_fail;
    if ((rc = open_db(txn, "tenant_name", create, &s->tenant_name)) != 0)
        goto db_fail;
    for (int i = 0; i < SORT__COUNT; i++)
        if ((rc = open_dup_db(txn, sf->sort_db[i], sf->sort_vdata[i], create, &s->sort[i])) != 0)
            goto db_fail;
    /* Added after the first stores were made: a missing keys database is
     * created (a compatible change), or read as empty when read-only. */
    rc = open_db(txn, "keys", create, &s->keys);
    if (rc == 0)
        s->has_keys = true;
    else if (rc != MDB_NOTFOUND)
        goto mdb_fail;
    /* The change feed came later still: the same. */
    rc = open_db(txn, "changes", create, &s->changes);
    if (rc == 0)
        rc = open_db(txn, "changes_user", create, &s->changes_user);
    if (rc == 0)
        s->has_changes = true;
    else if (rc != MDB_NOTFOUND)
        goto mdb_fail;
    rc = open_db(txn, "idx_custom", create, &s->custom);
    if (rc == 0)
        s->has_custom = true;
    else if (rc != MDB_NOTFOUND)
        goto mdb_fail;
    s->custom_scan = o->custom_index_scan;
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto mdb_fail;
    }
    txn = NULL;
    roster_err_detail cd = {0};
    if ((err = custom_index_open(s, o->custom_index, o->n_custom_index, o->global_order,
                                 o->n_global_order, o->declare_custom_index, &cd)) != ROSTER_E_OK) {
        if (cd.message[0] == 0)
            open_fail(o, err, "customData indexes in %s: %s", dir, roster_strerror(err));
        else if (o->detail)
            *o->detail = cd;
        goto fail;
    }
    if ((err = cursor_pool_new(&s->cursors)) != ROSTER_E_OK) {
        open_fail(o, err, "out of memory");
        goto fail;
    }
    MDB_stat ms;
    if (s->writemap && mdb_env_stat(s->env, &ms) == 0)
        prefault_start(&s->prefault, ms.ms_psize);
    *out = s;
    return ROSTER_E_OK;

db_fail:
    if (rc == MDB_NOTFOUND) {
        err = open_fail(o, ROSTER_E_CORRUPT, "%s lacks a database of the store", dir);
        goto fail;
    }
mdb_fail:
    err = store_mdb_err(rc);
    open_fail(o, err, "cannot open store in %s: %s", dir, mdb_strerror(rc));
fail:
    if (txn)
        mdb_txn_abort(txn);
    if (s->env)
        mdb_env_close(s->env);
    free(s);
    return err;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    if (s->pg) {
        pgstore_close(s->pg);
        free(s);
        return;
    }
    prefault_stop(s->prefault);
    cursor_pool_free(s->cursors); /* before the environment they belong to */
    if (!s->read_only)
        mdb_env_sync(s->env, 1); /* no_sync commits become durable here */
    /* A writable map made the data file as large as the map (sparse):
     * cut it back to the last page in use, which no later write of this
     * environment depends on (the next open without MDB_WRITEMAP grows
     * the file as it writes). */
    char path[4096] = "";
    off_t used = 0;
    const char *dir;
    MDB_envinfo info;
    MDB_stat st;
    if (s->writemap && mdb_env_get_path(s->env, &dir) == 0 && mdb_env_info(s->env, &info) == 0 &&
        mdb_env_stat(s->env, &st) == 0 &&
        snprintf(path, sizeof path, "%s/data.mdb", dir) < (int)sizeof path)
        used = (off_t)(info.me_last_pgno + 1) * (off_t)st.ms_psize;
    mdb_env_close(s->env);
    if (used > 0 && truncate(path, used) != 0)
        fprintf(stderr, "store: cannot truncate %s to its %lld bytes in use: %s\n", path,
                (long long)used, strerror(errno));
    free(s);
}

int store_sync(store *s)
{
    if (s->pg)
        return ROSTER_E_OK; /* every commit is durable already */
    int rc = mdb_env_sync(s->env, 1);
    return rc == 0 ? ROSTER_E_OK : store_mdb_err(rc);
}

int store_load_mark(store *s, bool loading)
{
    if (s->pg)
        return pgstore_load_mark(s->pg, loading);
    if (s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    int err;
    if (!loading && (err = store_sync(s)) != ROSTER_E_OK)
        return err;
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k = {strlen(META_LOADING_KEY), META_LOADING_KEY}, v = {1, "1"};
    rc = loading ? mdb_put(txn, s->meta, &k, &v, 0) : mdb_del(txn, s->meta, &k, NULL);
    if (rc != 0 && !(rc == MDB_NOTFOUND && !loading)) {
        mdb_txn_abort(txn);
        return store_mdb_err(rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
        return store_mdb_err(rc);
    return store_sync(s);
}

/* A read transaction; on PostgreSQL without a transaction of its own when
 * `single` (store_read_begin_single). */
static int read_open(store *s, store_rtxn **out, bool single, int64_t deadline_ns,
                     const _Atomic int64_t *stop_ns)
{
    store_rtxn *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ROSTER_E_NOMEM;
    int err = ROSTER_E_OK;
    if (s->pg && single)
        err = pgstore_read_begin_single(s->pg, &r->pg);
    else if (s->pg)
        err = pgstore_read_begin_limited(s->pg, &r->pg, deadline_ns, stop_ns);
    else
        err = store_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn));
    if (err != ROSTER_E_OK) {
        free(r);
        return err;
    }
    r->s = s;
    r->deadline_ns = deadline_ns;
    r->stop_ns = stop_ns;
    r->merged_sort = -1;
    *out = r;
    return ROSTER_E_OK;
}

int store_read_begin(store *s, store_rtxn **out)
{
    return read_open(s, out, false, 0, NULL);
}

int store_read_begin_single(store *s, store_rtxn **out)
{
    return read_open(s, out, true, 0, NULL);
}

int store_read_begin_limited(store *s, store_rtxn **out, int64_t deadline_ns,
                             const _Atomic int64_t *stop_ns)
{
    return read_open(s, out, false, deadline_ns, stop_ns);
}

size_t store_read_merged(const store_rtxn *r, int *sort_field)
{
    if (sort_field != NULL)
        *sort_field = r->merged ? r->merged_sort : -1;
    return r->merged;
}

void store_read_set_limits(store_rtxn *r, int64_t deadline_ns, const _Atomic int64_t *stop_ns)
{
    r->deadline_ns = deadline_ns;
    r->stop_ns = stop_ns;
    if (r->pg)
        pgstore_read_set_limits(r->pg, deadline_ns, stop_ns);
}

int store_limits_step(unsigned *steps, int64_t deadline_ns, const _Atomic int64_t *stop_ns)
{
    if (++*steps < STORE_CHECK_EVERY)
        return ROSTER_E_OK;
    *steps = 0;
    if (deadline_ns == 0 && stop_ns == NULL)
        return ROSTER_E_OK;
    int64_t now = roster_mono_ns();
    if (deadline_ns != 0 && now >= deadline_ns)
        return ROSTER_E_DEADLINE_EXCEEDED;
    int64_t stop = stop_ns ? atomic_load(stop_ns) : 0;
    if (stop != 0 && now >= stop)
        return ROSTER_E_UNAVAILABLE;
    return ROSTER_E_OK;
}

void store_read_end(store_rtxn *r)
{
    if (r == NULL)
        return;
    if (r->pg)
        pgstore_read_end(r->pg);
    else
        mdb_txn_abort(r->txn);
    free(r);
}

static int deltas_merge(store_wtxn *w);
static int deltas_flush(store_wtxn *w);

static int write_begin(store *s, bool bulk, store_wtxn **out)
{
    if (s->read_only)
        return ROSTER_E_PERMISSION_DENIED;
    store_wtxn *w = calloc(1, sizeof *w);
    if (w == NULL)
        return ROSTER_E_NOMEM;
    if (s->pg) {
        int err = pgstore_write_begin(s->pg, &w->pg);
        if (err != ROSTER_E_OK) {
            free(w);
            return err;
        }
        w->s = s;
        *out = w;
        return ROSTER_E_OK;
    }
    int rc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
    if (rc != 0) {
        free(w);
        return store_mdb_err(rc);
    }
    w->s = s;
    w->bulk = bulk;
    *out = w;
    return ROSTER_E_OK;
}

int store_write_begin(store *s, store_wtxn **out)
{
    return write_begin(s, s->writemap, out);
}

int store_write_begin_bulk(store *s, store_wtxn **out)
{
    return write_begin(s, true, out);
}

int store_op_begin(store_wtxn *w, MDB_txn **out)
{
    if (w->failed)
        return w->failed;
    w->n_op_delta = 0;
    store_pending_op_begin(w);
    changes_op_begin(w);
    if (w->bulk) {
        *out = w->txn;
        return ROSTER_E_OK;
    }
    return store_mdb_err(mdb_txn_begin(w->s->env, w->txn, 0, out));
}

/* Errors an operation reports before its first write. */
static bool refusal(int err)
{
    return err == ROSTER_E_INVALID_ARGUMENT || err == ROSTER_E_ALREADY_EXISTS ||
           err == ROSTER_E_NOT_FOUND || err == ROSTER_E_PERMISSION_DENIED ||
           err == ROSTER_E_FAILED_PRECONDITION;
}

/* How an operation ends, and why bulk mode can do without a nested
 * transaction.
 *
 * Normally an operation runs in a nested transaction: on failure it is
 * aborted and nothing of the operation remains, on success it is merged
 * into the group's transaction. A merge that fails (LMDB out of pages or
 * memory) leaves the group in an unknown state, so the group is marked
 * failed and its commit will refuse.
 *
 * In bulk mode the operation wrote straight into the group's transaction,
 * which cannot be rolled back alone. That is safe for the errors in
 * refusal(): every write operation makes each check that can refuse it
 * (validation, uniqueness, tenant existence, scope, a tenant delete's
 * preconditions) before its first write, so a refused operation has
 * written nothing and the group goes on.
 * Any other error (map full, out of memory, a damaged record met halfway)
 * may have come after some writes, so it fails the whole group.
 *
 * Either way, a failed operation drops what it added to the group's
 * queues: its counter changes (op_delta) and the index entries it queued
 * for the commit (store_pending_op_failed).
 * A successful one merges its counter changes into the group's table. */
int store_op_end(store_wtxn *w, MDB_txn *txn, int err)
{
    if (w->bulk) {
        if (err != ROSTER_E_OK && !refusal(err))
            w->failed = err;
    } else if (err != ROSTER_E_OK) {
        mdb_txn_abort(txn);
    } else {
        int rc = mdb_txn_commit(txn);
        if (rc != 0)
            err = w->failed = store_mdb_err(rc);
    }
    if (err != ROSTER_E_OK) {
        changes_op_failed(w);
        w->n_op_delta = 0;
        store_pending_op_failed(w);
        return err;
    }
    if ((err = deltas_merge(w)) != ROSTER_E_OK)
        w->failed = err;
    return err;
}

/* The append cursors.
 *
 * MDB_APPEND through one cursor kept at the end of a database is how
 * mdb_load fills one: LMDB finds the last page from the cursor instead of
 * searching from the root, and splits it at the end, so pages are filled
 * to the brim. It needs the key to be greater than the database's last;
 * `last` keeps that key (a copy: a put may move the bytes on their page),
 * read when the cursor is opened and moved by each append. A key not past
 * it is put by mdb_put, and the cursor is closed (as by any delete or
 * overwrite of the database, store_append_forget), so that it is reopened
 * at the true end rather than trusted after a write that may have split
 * or merged the pages it stood on. */
void store_append_forget(store_wtxn *w, int which)
{
    append_cursor *a = &w->append[which];
    mdb_cursor_close(a->c);
    a->c = NULL;
}

/* Closes every cursor the group keeps, before its transaction ends. */
static void append_close_all(store_wtxn *w)
{
    for (int i = 0; i < STORE_APPEND__COUNT; i++)
        store_append_forget(w, i);
    store_pending_close(w);
}

/* Tells the prefault thread where the record c stands on is: in a
 * writable map a record just appended is on one of the last pages LMDB
 * took, in the map itself (new pages are taken in order from the end of
 * the file). */
static void note_page(const store *s, MDB_cursor *c)
{
    MDB_val k, v;
    if (mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT) == 0)
        prefault_note(s->prefault, v.mv_data);
}

int store_put_append(store_wtxn *w, MDB_txn *txn, int which, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    append_cursor *a = &w->append[which];
    if (!w->bulk || txn != w->txn || k->mv_size > STORE_APPEND_KEY_MAX)
        return mdb_put(txn, dbi, k, v, 0);
    int rc;
    if (a->c == NULL) {
        MDB_val lk, ld;
        if ((rc = mdb_cursor_open(txn, dbi, &a->c)) != 0)
            return rc;
        rc = mdb_cursor_get(a->c, &lk, &ld, MDB_LAST);
        a->empty = rc == MDB_NOTFOUND;
        if (rc == 0 && lk.mv_size <= STORE_APPEND_KEY_MAX) {
            memcpy(a->last, lk.mv_data, lk.mv_size);
            a->last_len = lk.mv_size;
        } else if (rc == 0) {
            rc = MDB_BAD_VALSIZE;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) {
            store_append_forget(w, which);
            return rc;
        }
    }
    if (a->empty || store_bytes_cmp(k->mv_data, k->mv_size, a->last, a->last_len) > 0) {
        if ((rc = mdb_cursor_put(a->c, k, v, MDB_APPEND)) != 0)
            return rc;
        if (w->s->prefault != NULL && ++a->puts % 16 == 0)
            note_page(w->s, a->c);
        a->empty = false;
        memcpy(a->last, k->mv_data, k->mv_size);
        a->last_len = k->mv_size;
        return 0;
    }
    store_append_forget(w, which);
    return mdb_put(txn, dbi, k, v, 0);
}

static void wtxn_free(store_wtxn *w)
{
    store_pending_free(w);
    free(w->deltas);
    free(w->buf);
    free(w->cbuf);
    free(w);
}

int store_write_commit(store_wtxn *w)
{
    int err;
    if (w->pg) {
        err = pgstore_write_commit(w->pg);
        free(w);
        return err;
    }
    if (!w->failed &&
        ((err = store_pending_flush(w)) != ROSTER_E_OK || (err = deltas_flush(w)) != ROSTER_E_OK ||
         (err = changes_commit(w)) != ROSTER_E_OK))
        w->failed = err;
    append_close_all(w);
    if (w->failed) {
        mdb_txn_abort(w->txn);
        err = w->failed;
    } else {
        err = store_mdb_err(mdb_txn_commit(w->txn));
    }
    wtxn_free(w);
    return err;
}

void store_write_abort(store_wtxn *w)
{
    if (w == NULL)
        return;
    if (w->pg) {
        pgstore_write_abort(w->pg);
        free(w);
        return;
    }
    append_close_all(w);
    mdb_txn_abort(w->txn);
    wtxn_free(w);
}

int store_wtxn_scratch(store_wtxn *w, size_t n, uint8_t **out)
{
    if (n > w->buf_cap) {
        size_t cap = n < 4096 ? 4096 : n * 2;
        uint8_t *b = realloc(w->buf, cap);
        if (b == NULL)
            return ROSTER_E_NOMEM;
        w->buf = b;
        w->buf_cap = cap;
    }
    *out = w->buf;
    return ROSTER_E_OK;
}

static size_t counter_key(uint8_t *k, const roster_uuid *scope, bool global)
{
    if (global) {
        k[0] = 'g';
        return 1;
    }
    k[0] = 't';
    if (scope)
        memcpy(k + 1, scope->b, 16);
    else
        memset(k + 1, 0, 16);
    return 17;
}

int store_counter_get(MDB_txn *txn, const store *s, const roster_uuid *scope, bool global,
                      store_counter *out)
{
    uint8_t kb[17];
    MDB_val k = {counter_key(kb, scope, global), kb}, v;
    int rc = mdb_get(txn, s->counts, &k, &v);
    if (rc == MDB_NOTFOUND) {
        out->users = out->active = 0;
        return ROSTER_E_OK;
    }
    if (rc != 0)
        return store_mdb_err(rc);
    if (v.mv_size != sizeof *out)
        return ROSTER_E_CORRUPT;
    memcpy(out, v.mv_data, sizeof *out);
    return ROSTER_E_OK;
}

static int counter_add1(MDB_txn *txn, const store *s, const roster_uuid *scope, bool global,
                        int64_t du, int64_t da)
{
    store_counter c;
    int err = store_counter_get(txn, s, scope, global, &c);
    if (err != ROSTER_E_OK)
        return err;
    c.users = (uint64_t)((int64_t)c.users + du);
    c.active = (uint64_t)((int64_t)c.active + da);
    uint8_t kb[17];
    MDB_val k = {counter_key(kb, scope, global), kb}, v = {sizeof c, &c};
    return store_mdb_err(mdb_put(txn, s->counts, &k, &v, 0));
}

int store_counter_del(MDB_txn *txn, const store *s, const roster_uuid *scope)
{
    uint8_t kb[17];
    MDB_val k = {counter_key(kb, scope, false), kb};
    int rc = mdb_del(txn, s->counts, &k, NULL);
    return rc == MDB_NOTFOUND ? ROSTER_E_OK : store_mdb_err(rc);
}

/* Counters.
 *
 * `counts` holds, per scope (a tenant, or the all-zero scope of users
 * without one) and for all users ('g'), the number of users and of users
 * not deactivated, so totalCount of a tenant or of everyone and a
 * tenant's users.totalCount never count entries. Every user write changes
 * one or two scopes by +-1, and the same few keys would be rewritten by
 * every operation of a group. Instead an operation's changes go to
 * op_delta (at most two scopes: a move between tenants), are merged into
 * the group's hash table by scope when the operation succeeds
 * (deltas_merge, called by store_op_end) and dropped when it fails, and
 * the table is written once per group at commit (deltas_flush): one
 * read-modify-write per scope touched plus one for the global counter.
 * Readers see counters and records change in the same commit. */
int store_counter_add(store_wtxn *w, const roster_uuid *scope, int64_t d_users, int64_t d_active)
{
    if (d_users == 0 && d_active == 0)
        return ROSTER_E_OK;
    for (size_t i = 0; i < w->n_op_delta; i++) {
        if (roster_uuid_eq(&w->op_delta[i].scope, scope)) {
            w->op_delta[i].users += d_users;
            w->op_delta[i].active += d_active;
            return ROSTER_E_OK;
        }
    }
    if (w->n_op_delta == sizeof w->op_delta / sizeof w->op_delta[0])
        return ROSTER_E_INTERNAL;
    counter_delta *d = &w->op_delta[w->n_op_delta++];
    d->scope = *scope;
    d->users = d_users;
    d->active = d_active;
    d->used = true;
    return ROSTER_E_OK;
}

static size_t delta_slot(const counter_delta *tab, size_t cap, const roster_uuid *scope)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ scope->b[i]) * 1099511628211ULL;
    size_t at = (size_t)h & (cap - 1);
    while (tab[at].used && !roster_uuid_eq(&tab[at].scope, scope))
        at = (at + 1) & (cap - 1);
    return at;
}

/* Moves the current operation's counter changes into the group's. */
static int deltas_merge(store_wtxn *w)
{
    for (size_t i = 0; i < w->n_op_delta; i++) {
        if (2 * (w->n_deltas + 1) > w->cap_deltas) {
            size_t cap = w->cap_deltas ? w->cap_deltas * 2 : 64;
            counter_delta *tab = calloc(cap, sizeof *tab);
            if (tab == NULL)
                return ROSTER_E_NOMEM;
            for (size_t j = 0; j < w->cap_deltas; j++)
                if (w->deltas[j].used)
                    tab[delta_slot(tab, cap, &w->deltas[j].scope)] = w->deltas[j];
            free(w->deltas);
            w->deltas = tab;
            w->cap_deltas = cap;
        }
        const counter_delta *d = &w->op_delta[i];
        counter_delta *slot = &w->deltas[delta_slot(w->deltas, w->cap_deltas, &d->scope)];
        if (!slot->used) {
            *slot = *d;
            w->n_deltas++;
        } else {
            slot->users += d->users;
            slot->active += d->active;
        }
    }
    w->n_op_delta = 0;
    return ROSTER_E_OK;
}

/* Writes the group's counter changes into its transaction. */
static int deltas_flush(store_wtxn *w)
{
    int64_t gu = 0, ga = 0;
    int err = ROSTER_E_OK;
    for (size_t i = 0; i < w->cap_deltas && err == ROSTER_E_OK; i++) {
        const counter_delta *d = &w->deltas[i];
        if (!d->used || (d->users == 0 && d->active == 0))
            continue;
        gu += d->users;
        ga += d->active;
        err = counter_add1(w->txn, w->s, &d->scope, false, d->users, d->active);
    }
    if (err == ROSTER_E_OK && (gu || ga))
        err = counter_add1(w->txn, w->s, NULL, true, gu, ga);
    return err;
}

int store_counters_flush(store_wtxn *w)
{
    int err = deltas_flush(w);
    if (err != ROSTER_E_OK)
        return err;
    if (w->cap_deltas)
        memset(w->deltas, 0, w->cap_deltas * sizeof *w->deltas);
    w->n_deltas = 0;
    return ROSTER_E_OK;
}

int store_default_tenant(MDB_txn *txn, const store *s, roster_uuid *out)
{
    return meta_uuid(txn, s, "default_tenant", out);
}

int store_tenant_user_count(store_rtxn *r, const roster_uuid *tenant, int64_t *out)
{
    if (r->pg)
        return pgstore_tenant_user_count(r->pg, tenant, out);
    store_counter c;
    int err = store_counter_get(r->txn, r->s, tenant, false, &c);
    if (err == ROSTER_E_OK)
        *out = (int64_t)c.active;
    return err;
}

static void stat_db(MDB_txn *txn, MDB_dbi dbi, const char *name, store_stats *st)
{
    MDB_stat ms;
    if (st->n_dbs >= STORE_MAX_DBS || mdb_stat(txn, dbi, &ms) != 0)
        return;
    store_db_stat *d = &st->dbs[st->n_dbs++];
    d->name = name;
    d->entries = ms.ms_entries;
    d->branch_pages = ms.ms_branch_pages;
    d->leaf_pages = ms.ms_leaf_pages;
    d->overflow_pages = ms.ms_overflow_pages;
    d->depth = ms.ms_depth;
}

/* Bytes of the pages on the free list of txn's snapshot: each entry of
 * LMDB's free database (handle 0) is a page-number list whose first word
 * is its length (what `mdb_stat -f` sums). */
static int free_bytes(MDB_txn *txn, uint32_t page_size, uint64_t *out)
{
    *out = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, 0, &c);
    if (rc != 0)
        return rc;
    MDB_val k, d;
    uint64_t pages = 0;
    while ((rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) == 0) {
        size_t n;
        if (d.mv_size < sizeof n)
            continue;
        memcpy(&n, d.mv_data, sizeof n);
        pages += n;
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return rc;
    *out = pages * page_size;
    return 0;
}

int store_stat(store_rtxn *r, store_stats *out)
{
    if (r->pg)
        return pgstore_stat(r->pg, out);
    store_stats st;
    memset(&st, 0, sizeof st);
    store *s = r->s;
    MDB_envinfo info;
    MDB_stat envst;
    int rc = mdb_env_info(s->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(s->env, &envst);
    if (rc != 0)
        return store_mdb_err(rc);
    st.schema_version = STORE_SCHEMA_VERSION;
    st.map_size = info.me_mapsize;
    st.page_size = envst.ms_psize;
    st.used_bytes = ((uint64_t)info.me_last_pgno + 1) * envst.ms_psize;
    if ((rc = free_bytes(r->txn, envst.ms_psize, &st.free_bytes)) != 0)
        return store_mdb_err(rc);
    st.last_txnid = mdb_txn_id(r->txn);
    store_counter c;
    int err = store_counter_get(r->txn, s, NULL, true, &c);
    if (err != ROSTER_E_OK)
        return err;
    st.users = c.users;
    st.users_active = c.active;
    MDB_stat ts;
    if ((rc = mdb_stat(r->txn, s->tenants, &ts)) != 0)
        return store_mdb_err(rc);
    st.tenants = ts.ms_entries;
    stat_db(r->txn, s->meta, "meta", &st);
    stat_db(r->txn, s->counts, "counts", &st);
    stat_db(r->txn, s->users, "users", &st);
    stat_db(r->txn, s->tenants, "tenants", &st);
    stat_db(r->txn, s->idx_tenant, "idx_tenant", &st);
    const store_fields *sf = store_fields_get();
    for (int i = 0; i < UNIQ__COUNT; i++)
        stat_db(r->txn, s->uniq[i], sf->uniq_db[i], &st);
    stat_db(r->txn, s->tenant_name, "tenant_name", &st);
    for (int i = 0; i < SORT__COUNT; i++)
        stat_db(r->txn, s->sort[i], sf->sort_db[i], &st);
    if (s->has_keys)
        stat_db(r->txn, s->keys, "keys", &st);
    if (s->has_changes) {
        stat_db(r->txn, s->changes, "changes", &st);
        stat_db(r->txn, s->changes_user, "changes_user", &st);
    }
    if (s->has_custom)
        stat_db(r->txn, s->custom, "idx_custom", &st);
    *out = st;
    return ROSTER_E_OK;
}

static int each(MDB_txn *txn, MDB_dbi dbi, store_each_fn fn, void *ctx)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return store_mdb_err(rc);
    MDB_val k, v;
    int ret = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        ret = fn(ctx, v.mv_data, v.mv_size);
        if (ret != 0)
            break;
    }
    if (ret == 0 && rc != MDB_NOTFOUND)
        ret = store_mdb_err(rc);
    mdb_cursor_close(c);
    return ret;
}

int store_each_tenant(store_rtxn *r, store_each_fn fn, void *ctx)
{
    if (r->pg)
        return pgstore_each_tenant(r->pg, fn, ctx);
    return each(r->txn, r->s->tenants, fn, ctx);
}

int store_each_user(store_rtxn *r, store_each_fn fn, void *ctx)
{
    if (r->pg)
        return pgstore_each_user(r->pg, fn, ctx);
    return each(r->txn, r->s->users, fn, ctx);
}

int store_each_key(store_rtxn *r, store_each_fn fn, void *ctx)
{
    if (r->pg)
        return pgstore_each_key(r->pg, fn, ctx);
    if (!r->s->has_keys)
        return ROSTER_E_OK;
    return each(r->txn, r->s->keys, fn, ctx);
}
