/* store_compact: rewrites a store's data file so that it holds only what
 * its records and indexes hold now.
 *
 * Why a rebuild and not only LMDB's compacting copy. mdb_env_copy2 with
 * MDB_CP_COMPACT leaves out free pages and the unused part of every page,
 * but copies the used part of branch pages as it is, and LMDB never
 * rewrites a branch page's separator keys when the entry a separator was
 * taken from is deleted. Index keys hold values (uniq_email is the folded
 * email, idx_first_name the first name...), so a deleted user's email can
 * live on in a branch page of the copy: with 20,000 users of which a third
 * were deleted, the compacting copy of the data file still held 168 of
 * their emails. So every database is first written anew, entry by entry in
 * key order (MDB_APPEND: pages filled in order, every separator taken from
 * an entry being written), into a file of its own, and that file is then
 * compacted with mdb_env_copy2(MDB_CP_COMPACT) into the file that replaces
 * data.mdb (dropping the pages the rebuild's intermediate commits freed,
 * which hold nothing but live entries themselves).
 *
 * Exclusivity. Every process that has an LMDB environment open holds a
 * shared fcntl lock on byte 0 of its lock.mdb (LMDB takes it at
 * mdb_env_open and keeps it until mdb_env_close). An exclusive lock on that
 * byte is taken first and held to the end: it fails while roster-users, a
 * rosterctl dump or anything else has the store open (that is refused,
 * naming the process), and a process that opens the store meanwhile blocks
 * in mdb_env_open until the lock is released. The store itself is read
 * with MDB_NOLOCK, so this process never touches lock.mdb otherwise.
 *
 * Replacing the file. The new file is compared entry by entry with the
 * old one, given the old one's owner and mode, and synced; lock.mdb is
 * emptied; the new file is renamed over data.mdb (atomic within the
 * directory) and the directory is synced. Emptying the lock file matters
 * for a process that blocked in mdb_env_open meanwhile: it holds the lock
 * file's old state (the last transaction id, which picks the meta page it
 * reads), which does not fit the new data file. Finding the lock file
 * empty, LMDB fails that open with EINVAL instead of reading the wrong
 * meta page; store_open then opens again, and the open that finds the
 * store unused sets the lock file up anew, as LMDB always does. It is
 * emptied before the rename, so that this holds even if this process dies
 * between the two; an empty lock file is as harmless with the old file.
 * Any failure before the rename removes the temporary files and leaves
 * data.mdb untouched. */
#include "keys.h"
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries written per transaction of the rebuild: bounds the dirty pages
 * a transaction holds in memory (about 15 MB for short index entries). */
#define COMPACT_CHUNK 262144

/* Named databases a store may hold (it has about 20). */
#define COMPACT_MAX_DBS 64

#define COMPACT_PATH_MAX 4096

typedef struct compact_dbs {
    char name[COMPACT_MAX_DBS][128];
    size_t n;
} compact_dbs;

static int mdb_fail(roster_err_detail *d, int rc, const char *what, const char *path)
{
    int err = store_mdb_err(rc);
    return roster_fail(d, err, "data", "%s %s: %s", what, path, mdb_strerror(rc));
}

static int sys_fail(roster_err_detail *d, int e, const char *what, const char *path)
{
    int err = e == EACCES || e == EPERM ? ROSTER_E_PERMISSION_DENIED
              : e == ENOMEM             ? ROSTER_E_NOMEM
                                        : ROSTER_E_IO;
    return roster_fail(d, err, "data", "%s %s: %s", what, path, strerror(e));
}

/* Takes the exclusive lock on byte 0 of lock.mdb (*lfd keeps it), or says
 * which process has the store open. */
static int lock_store(int *lfd, const char *dir, const struct stat *data_st, roster_err_detail *d)
{
    char path[COMPACT_PATH_MAX];
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    bool created = false;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        created = fd >= 0;
    }
    if (fd < 0)
        return sys_fail(d, errno, "cannot open", path);
    /* A lock file made here belongs to the data file's owner, as the one
     * the service made would (rosterctl may run as root). */
    if (created && fchown(fd, data_st->st_uid, data_st->st_gid) != 0 && errno != EPERM) {
        int e = errno;
        close(fd);
        return sys_fail(d, e, "cannot set the owner of", path);
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(fd, F_SETLK, &fl) == 0) {
        *lfd = fd;
        return ROSTER_E_OK;
    }
    int e = errno;
    if (e != EAGAIN && e != EACCES) {
        close(fd);
        return sys_fail(d, e, "cannot lock", path);
    }
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    char who[96] = "";
    if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK) {
        char comm_path[64], comm[32] = "";
        snprintf(comm_path, sizeof comm_path, "/proc/%ld/comm", (long)q.l_pid);
        FILE *f = fopen(comm_path, "r");
        if (f != NULL) {
            if (fgets(comm, sizeof comm, f) != NULL)
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        if (comm[0])
            snprintf(who, sizeof who, " (pid %ld, %s)", (long)q.l_pid, comm);
        else
            snprintf(who, sizeof who, " (pid %ld)", (long)q.l_pid);
    }
    close(fd);
    return roster_fail(d, ROSTER_E_FAILED_PRECONDITION, "data",
                       "the store in %s is open in another process%s: stop roster-users (and any "
                       "rosterctl reading the store) before compacting",
                       dir, who);
}

/* Opens an environment read-only without touching a lock file. */
static int open_ro(MDB_env **out, const char *path, unsigned flags, roster_err_detail *d)
{
    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, COMPACT_MAX_DBS);
    if (rc == 0)
        rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | flags, 0);
    if (rc != 0) {
        mdb_env_close(env);
        return mdb_fail(d, rc, "cannot open the store", path);
    }
    *out = env;
    return ROSTER_E_OK;
}

/* The names of the named databases of txn's environment, and whether it
 * is a store of schema version `want` (a meta database saying so), or,
 * when want is 0, of a version store_upgrade rewrites (*version says
 * which). */
static int list_dbs(compact_dbs *out, MDB_txn *txn, const char *dir, uint32_t want,
                    uint32_t *version, roster_err_detail *d)
{
    MDB_dbi main_db, meta;
    int rc = mdb_dbi_open(txn, NULL, 0, &main_db);
    if (rc != 0)
        return mdb_fail(d, rc, "cannot read", dir);
    rc = mdb_dbi_open(txn, STORE_META_DB, 0, &meta);
    if (rc == MDB_NOTFOUND)
        return roster_fail(d, ROSTER_E_CORRUPT, "data", "%s is not a Roster store", dir);
    if (rc != 0)
        return mdb_fail(d, rc, "cannot read", dir);
    MDB_val k = {strlen(STORE_META_VERSION_KEY), STORE_META_VERSION_KEY}, v;
    rc = mdb_get(txn, meta, &k, &v);
    const uint8_t *b = v.mv_data;
    uint32_t ver = rc == 0 && v.mv_size == 4 ? (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                                                   (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
                                             : 0;
    if (want != 0 && ver != want)
        return roster_fail(d, ROSTER_E_VERSION, "data",
                           "%s does not hold a store of schema version %u, which this build "
                           "compacts%s",
                           dir, want,
                           ver >= STORE_SCHEMA_OLDEST && ver < STORE_SCHEMA_VERSION
                               ? " (upgrade it first: rosterctl upgrade)"
                               : "");
    if (want == 0 && (ver < STORE_SCHEMA_OLDEST || ver > STORE_SCHEMA_VERSION))
        return roster_fail(d, ROSTER_E_VERSION, "data",
                           "%s holds a store of schema version %u; this build upgrades versions "
                           "%d to %d",
                           dir, ver, STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
    *version = ver;
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(txn, main_db, &c)) != 0)
        return mdb_fail(d, rc, "cannot read", dir);
    out->n = 0;
    int err = ROSTER_E_OK;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (out->n == COMPACT_MAX_DBS || k.mv_size == 0 || k.mv_size >= sizeof out->name[0] ||
            memchr(k.mv_data, 0, k.mv_size) != NULL) {
            err = roster_fail(d, ROSTER_E_CORRUPT, "data",
                              "%s holds an entry in LMDB's main database that is not one of a "
                              "store's databases",
                              dir);
            break;
        }
        memcpy(out->name[out->n], k.mv_data, k.mv_size);
        out->name[out->n][k.mv_size] = '\0';
        out->n++;
    }
    mdb_cursor_close(c);
    if (err == ROSTER_E_OK && rc != MDB_NOTFOUND)
        err = mdb_fail(d, rc, "cannot read", dir);
    return err;
}

/* Flags a database keeps when written anew (its ordering and duplicates). */
#define COMPACT_DB_FLAGS                                                                           \
    (MDB_REVERSEKEY | MDB_DUPSORT | MDB_INTEGERKEY | MDB_DUPFIXED | MDB_INTEGERDUP | MDB_REVERSEDUP)

/* What a database becomes in an upgrade (store.h): from schema version
 * 1, idx_tenant and the sort indexes turn duplicate-sorted, keeping only
 * their per-tenant entries, those of the mostly distinct fields in the
 * "values in data" layout (store_internal.h); from version 2, the sort
 * indexes of those fields move their values from keys into data; meta
 * gets the new version. */
typedef enum {
    DB_AS_IS,
    DB_META,
    DB_TO_DUP_TENANT, /* v1 idx_tenant */
    DB_TO_DUP_SORT,   /* v1 sort index */
    DB_TO_VDATA_SORT, /* v1 sort index of a field in the vdata layout */
    DB_DUP_TO_VDATA,  /* v2 sort index of a field in the vdata layout */
} db_kind;

static db_kind upgrade_kind(const char *name, uint32_t from)
{
    if (from == STORE_SCHEMA_VERSION)
        return DB_AS_IS;
    if (strcmp(name, STORE_META_DB) == 0)
        return DB_META;
    if (strcmp(name, "idx_tenant") == 0)
        return from == 1 ? DB_TO_DUP_TENANT : DB_AS_IS;
    const store_fields *sf = store_fields_get();
    for (int i = 0; i < SORT__COUNT; i++) {
        if (strcmp(name, sf->sort_db[i]) != 0)
            continue;
        if (from == 1)
            return sf->sort_vdata[i] ? DB_TO_VDATA_SORT : DB_TO_DUP_SORT;
        return sf->sort_vdata[i] ? DB_DUP_TO_VDATA : DB_AS_IS;
    }
    return DB_AS_IS;
}

/* The entry (k, v) of a database of kind `kind` as written anew into
 * (*nk, *nv), which may point into kb (KEY_MAX bytes) and vb
 * (KEY_DATA_MAX bytes). False
 * when the entry is left out (a version 1 sort index's entry for all
 * users); CORRUPT when it does not have its layout's shape. */
static int transform(db_kind kind, const MDB_val *k, const MDB_val *v, MDB_val *nk, MDB_val *nv,
                     uint8_t *kb, uint8_t *vb, bool *keep)
{
    const uint8_t *key = k->mv_data;
    uint8_t flags = v->mv_size ? *(const uint8_t *)v->mv_data : 0;
    *keep = true;
    *nk = *k;
    *nv = *v;
    switch (kind) {
    case DB_AS_IS:
        return ROSTER_E_OK;
    case DB_META:
        if (k->mv_size == strlen(STORE_META_VERSION_KEY) &&
            memcmp(key, STORE_META_VERSION_KEY, k->mv_size) == 0) {
            vb[0] = STORE_SCHEMA_VERSION & 0xff;
            vb[1] = vb[2] = vb[3] = 0;
            *nv = (MDB_val){4, vb};
        }
        return ROSTER_E_OK;
    case DB_TO_DUP_TENANT: /* scope(16) id(16) -> flags */
        if (k->mv_size != 32)
            return ROSTER_E_CORRUPT;
        memcpy(kb, key, 16);
        memcpy(vb, key + 16, 16);
        vb[16] = flags;
        *nk = (MDB_val){16, kb};
        *nv = (MDB_val){KEY_DUP_DATA, vb};
        return ROSTER_E_OK;
    case DB_TO_DUP_SORT: /* 'g' value id, or 't' scope(16) value id -> flags */
        if (k->mv_size >= 1 && key[0] == 'g') {
            *keep = false;
            return ROSTER_E_OK;
        }
        if (k->mv_size < 1 + 16 + 1 + 16 || key[0] != 't' || k->mv_size - 1 - 16 > KEY_MAX)
            return ROSTER_E_CORRUPT;
        memcpy(kb, key + 1, k->mv_size - 17);
        memcpy(vb, key + k->mv_size - 16, 16);
        vb[16] = flags;
        *nk = (MDB_val){k->mv_size - 17, kb};
        *nv = (MDB_val){KEY_DUP_DATA, vb};
        return ROSTER_E_OK;
    case DB_TO_VDATA_SORT: /* 'g' value id, or 't' scope(16) value id -> flags */
        if (k->mv_size >= 1 && key[0] == 'g') {
            *keep = false;
            return ROSTER_E_OK;
        }
        if (k->mv_size < 1 + 16 + 1 + 16 || key[0] != 't' || k->mv_size - 1 - 16 > KEY_MAX)
            return ROSTER_E_CORRUPT;
        memcpy(kb, key + 1, 16);
        memcpy(vb, key + 17, k->mv_size - 17);
        vb[k->mv_size - 17] = flags;
        *nk = (MDB_val){16, kb};
        *nv = (MDB_val){k->mv_size - 17 + 1, vb};
        return ROSTER_E_OK;
    case DB_DUP_TO_VDATA: /* scope(16) value -> id(16) flags(1) */
        if (k->mv_size < 16 + 1 || k->mv_size - 16 > KEY_MAX || v->mv_size != KEY_DUP_DATA)
            return ROSTER_E_CORRUPT;
        memcpy(kb, key, 16);
        memcpy(vb, key + 16, k->mv_size - 16);
        memcpy(vb + k->mv_size - 16, v->mv_data, KEY_DUP_DATA);
        *nk = (MDB_val){16, kb};
        *nv = (MDB_val){k->mv_size - 16 + KEY_DUP_DATA, vb};
        return ROSTER_E_OK;
    }
    return ROSTER_E_OK;
}

/* Writes every entry of every database of src (read in rt, schema version
 * `from`) into the new environment dst, in key order, COMPACT_CHUNK
 * entries per transaction, transformed to this build's layout. */
static int rebuild(uint64_t *entries, MDB_env *dst, MDB_txn *rt, const compact_dbs *dbs,
                   uint32_t from, const char *path, roster_err_detail *d)
{
    MDB_txn *wt = NULL;
    MDB_cursor *sc = NULL, *dc = NULL;
    uint64_t n = 0;
    int err = ROSTER_E_OK;
    uint8_t kb[KEY_MAX + 16], vb[KEY_DATA_MAX], last[KEY_MAX + 16];
    int rc = mdb_txn_begin(dst, NULL, 0, &wt);
    for (size_t i = 0; rc == 0 && err == ROSTER_E_OK && i < dbs->n; i++) {
        MDB_dbi sdbi, ddbi;
        unsigned flags;
        db_kind kind = upgrade_kind(dbs->name[i], from);
        if ((rc = mdb_dbi_open(rt, dbs->name[i], 0, &sdbi)) != 0 ||
            (rc = mdb_dbi_flags(rt, sdbi, &flags)) != 0)
            break;
        flags &= COMPACT_DB_FLAGS;
        if (kind == DB_TO_DUP_TENANT || kind == DB_TO_DUP_SORT)
            flags = STORE_DUP_DB_FLAGS;
        else if (kind == DB_TO_VDATA_SORT || kind == DB_DUP_TO_VDATA)
            flags = STORE_VDATA_DB_FLAGS;
        if ((rc = mdb_dbi_open(wt, dbs->name[i], MDB_CREATE | flags, &ddbi)) != 0 ||
            (rc = mdb_cursor_open(rt, sdbi, &sc)) != 0 ||
            (rc = mdb_cursor_open(wt, ddbi, &dc)) != 0)
            break;
        bool dup = flags & MDB_DUPSORT;
        size_t last_n = 0;
        bool have_last = false;
        MDB_val k, v;
        for (rc = mdb_cursor_get(sc, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(sc, &k, &v, MDB_NEXT)) {
            MDB_val nk, nv;
            bool keep;
            if ((err = transform(kind, &k, &v, &nk, &nv, kb, vb, &keep)) != ROSTER_E_OK)
                break;
            if (!keep)
                continue;
            /* A new key goes at the end (MDB_APPEND); the next duplicates
             * of a duplicate-sorted key after its last one. */
            bool same =
                dup && have_last && nk.mv_size == last_n && memcmp(nk.mv_data, last, last_n) == 0;
            if ((rc = mdb_cursor_put(dc, &nk, &nv, same ? MDB_APPENDDUP : MDB_APPEND)) != 0)
                break;
            if (dup && !same) {
                memcpy(last, nk.mv_data, nk.mv_size);
                last_n = nk.mv_size;
                have_last = true;
            }
            if (++n % COMPACT_CHUNK == 0) {
                mdb_cursor_close(dc);
                dc = NULL;
                rc = mdb_txn_commit(wt);
                wt = NULL;
                if (rc == 0)
                    rc = mdb_txn_begin(dst, NULL, 0, &wt);
                if (rc == 0)
                    rc = mdb_cursor_open(wt, ddbi, &dc);
                if (rc != 0)
                    break;
            }
        }
        if (rc == MDB_NOTFOUND)
            rc = 0;
        mdb_cursor_close(sc);
        sc = NULL;
        mdb_cursor_close(dc);
        dc = NULL;
    }
    mdb_cursor_close(sc);
    mdb_cursor_close(dc);
    if (rc == 0 && err == ROSTER_E_OK && wt != NULL) {
        rc = mdb_txn_commit(wt);
        wt = NULL;
    }
    if (wt != NULL)
        mdb_txn_abort(wt);
    if (err != ROSTER_E_OK)
        return roster_fail(d, err, "data",
                           "an entry of the store does not have its database's layout; run "
                           "rosterctl verify with the build that wrote it");
    if (rc != 0)
        return mdb_fail(d, rc, "cannot write", path);
    *entries = n;
    return ROSTER_E_OK;
}

/* Whether the environment at `path` (a file) holds exactly the databases
 * and entries src holds in rt. */
static int same_contents(MDB_txn *rt, const compact_dbs *dbs, uint32_t from, const char *path,
                         roster_err_detail *d)
{
    MDB_env *env = NULL;
    MDB_txn *ct = NULL;
    MDB_cursor *a = NULL, *b = NULL;
    int err = open_ro(&env, path, MDB_NOSUBDIR, d);
    if (err != ROSTER_E_OK)
        return err;
    compact_dbs copy;
    uint32_t copy_version;
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &ct);
    if (rc != 0) {
        err = mdb_fail(d, rc, "cannot read", path);
        goto done;
    }
    if ((err = list_dbs(&copy, ct, path, STORE_SCHEMA_VERSION, &copy_version, d)) != ROSTER_E_OK)
        goto done;
    bool same = copy.n == dbs->n;
    for (size_t i = 0; same && i < dbs->n; i++)
        same = strcmp(copy.name[i], dbs->name[i]) == 0;
    for (size_t i = 0; same && i < dbs->n && rc == 0; i++) {
        MDB_dbi x, y;
        if ((rc = mdb_dbi_open(rt, dbs->name[i], 0, &x)) != 0 ||
            (rc = mdb_dbi_open(ct, dbs->name[i], 0, &y)) != 0 ||
            (rc = mdb_cursor_open(rt, x, &a)) != 0 || (rc = mdb_cursor_open(ct, y, &b)) != 0)
            break;
        db_kind kind = upgrade_kind(dbs->name[i], from);
        MDB_val sa, sva, ka, va, kb, vb;
        uint8_t tk[KEY_MAX + 16], tv[KEY_DATA_MAX];
        bool keep = true;
        int ra = mdb_cursor_get(a, &sa, &sva, MDB_FIRST),
            rb = mdb_cursor_get(b, &kb, &vb, MDB_FIRST);
        /* The store's entries as the rebuild wrote them (transform),
         * against the copy's. */
        while (ra == 0 && transform(kind, &sa, &sva, &ka, &va, tk, tv, &keep) == ROSTER_E_OK &&
               !keep)
            ra = mdb_cursor_get(a, &sa, &sva, MDB_NEXT);
        while (ra == 0 && rb == 0) {
            if (ka.mv_size != kb.mv_size || va.mv_size != vb.mv_size ||
                memcmp(ka.mv_data, kb.mv_data, ka.mv_size) != 0 ||
                memcmp(va.mv_data, vb.mv_data, va.mv_size) != 0)
                break;
            do
                ra = mdb_cursor_get(a, &sa, &sva, MDB_NEXT);
            while (ra == 0 && transform(kind, &sa, &sva, &ka, &va, tk, tv, &keep) == ROSTER_E_OK &&
                   !keep);
            rb = mdb_cursor_get(b, &kb, &vb, MDB_NEXT);
        }
        same = ra == MDB_NOTFOUND && rb == MDB_NOTFOUND;
        if (!same && ra != 0 && ra != MDB_NOTFOUND)
            rc = ra;
        else if (!same && rb != 0 && rb != MDB_NOTFOUND)
            rc = rb;
        mdb_cursor_close(a);
        mdb_cursor_close(b);
        a = b = NULL;
    }
    if (rc != 0)
        err = mdb_fail(d, rc, "cannot compare the copy", path);
    else if (!same)
        err = roster_fail(d, ROSTER_E_INTERNAL, "data",
                          "the compacted copy %s differs from the store; the store is left as it "
                          "was",
                          path);
done:
    mdb_cursor_close(a);
    mdb_cursor_close(b);
    if (ct != NULL)
        mdb_txn_abort(ct);
    mdb_env_close(env);
    return err;
}

/* Gives the file at `path` the owner and mode of `like` and syncs it. */
static int settle(const char *path, const struct stat *like, uint64_t *size, roster_err_detail *d)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return sys_fail(d, errno, "cannot open", path);
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) != 0)
        e = errno;
    else if ((st.st_uid != like->st_uid || st.st_gid != like->st_gid) &&
             fchown(fd, like->st_uid, like->st_gid) != 0)
        e = errno;
    else if (fchmod(fd, like->st_mode & 07777) != 0 || fsync(fd) != 0)
        e = errno;
    close(fd);
    if (e != 0)
        return sys_fail(d, e, "cannot give data.mdb's owner and mode to, or sync,", path);
    *size = (uint64_t)st.st_size;
    return ROSTER_E_OK;
}

/* store_compact (want: this build's version) and store_upgrade (want 0:
 * any version this build upgrades). */
static int rewrite_store(const char *dir, uint32_t want, store_compact_stats *out,
                         roster_err_detail *detail)
{
    char data[COMPACT_PATH_MAX], work[COMPACT_PATH_MAX], final[COMPACT_PATH_MAX + 8];
    struct stat st;
    if (dir == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "data", "no data directory given");
    if ((size_t)snprintf(data, sizeof data, "%s/data.mdb", dir) >= sizeof data - 32)
        return roster_fail(detail, ROSTER_E_LIMIT, "data", "data directory path is too long");
    if (stat(data, &st) != 0) {
        if (errno == ENOENT)
            return roster_fail(detail, ROSTER_E_NOT_FOUND, "data",
                               "%s holds no store (no data.mdb)", dir);
        return sys_fail(detail, errno, "cannot read", data);
    }
    if (!S_ISREG(st.st_mode))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "data", "%s is not a regular file",
                           data);

    int lfd = -1, wfd, dfd, err, rc;
    MDB_env *src = NULL, *dst = NULL;
    MDB_txn *rt = NULL;
    MDB_envinfo info;
    uint64_t entries = 0, size_after = 0;
    bool have_work = false, have_final = false;
    compact_dbs *dbs = malloc(sizeof *dbs);
    if (dbs == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    if ((err = lock_store(&lfd, dir, &st, detail)) != ROSTER_E_OK)
        goto fail;
    if ((err = open_ro(&src, dir, 0, detail)) != ROSTER_E_OK)
        goto fail;
    rc = mdb_txn_begin(src, NULL, MDB_RDONLY, &rt);
    if (rc != 0) {
        err = mdb_fail(detail, rc, "cannot read", data);
        goto fail;
    }
    uint32_t from;
    if ((err = list_dbs(dbs, rt, dir, want, &from, detail)) != ROSTER_E_OK)
        goto fail;
    if (want == 0 && from == STORE_SCHEMA_VERSION) {
        /* Nothing to upgrade. */
        mdb_txn_abort(rt);
        mdb_env_close(src);
        close(lfd);
        free(dbs);
        if (out != NULL)
            *out = (store_compact_stats){(uint64_t)st.st_size, (uint64_t)st.st_size, 0, from};
        return ROSTER_E_OK;
    }

    /* The rebuild, in a file of its own (mkstemp: a name no one else
     * uses), then its compacting copy beside it. */
    snprintf(work, sizeof work, "%s/data.mdb.compact-XXXXXX", dir);
    wfd = mkstemp(work);
    if (wfd < 0) {
        err = sys_fail(detail, errno, "cannot create a file in", dir);
        goto fail;
    }
    close(wfd);
    have_work = true;
    rc = mdb_env_info(src, &info);
    if (rc == 0)
        rc = mdb_env_create(&dst);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(dst, COMPACT_MAX_DBS);
    if (rc == 0)
        rc = mdb_env_set_mapsize(dst, info.me_mapsize);
    if (rc == 0)
        rc = mdb_env_open(dst, work, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC, 0600);
    if (rc != 0) {
        err = mdb_fail(detail, rc, "cannot make", work);
        goto fail;
    }
    if ((err = rebuild(&entries, dst, rt, dbs, from, work, detail)) != ROSTER_E_OK)
        goto fail;
    snprintf(final, sizeof final, "%s.new", work);
    rc = mdb_env_copy2(dst, final, MDB_CP_COMPACT);
    have_final = rc != EEXIST;
    if (rc != 0) {
        err = mdb_fail(detail, rc, "cannot write the compacted copy", final);
        goto fail;
    }
    mdb_env_close(dst);
    dst = NULL;
    unlink(work);
    have_work = false;

    if ((err = same_contents(rt, dbs, from, final, detail)) != ROSTER_E_OK ||
        (err = settle(final, &st, &size_after, detail)) != ROSTER_E_OK)
        goto fail;
    /* Stale lock state must never meet the new file (see the top), not
     * even if this process dies right after the rename: the lock file is
     * emptied first. An empty one is harmless with the old file too. */
    if (ftruncate(lfd, 0) != 0) {
        err = sys_fail(detail, errno, "cannot reset", "lock.mdb");
        goto fail;
    }
    if (rename(final, data) != 0) {
        err = sys_fail(detail, errno, "cannot replace", data);
        goto fail;
    }
    have_final = false;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        /* The new file is in place; only its directory entry's durability
         * is in doubt. */
        err = sys_fail(detail, errno, "data.mdb was replaced but cannot sync", dir);
        if (dfd >= 0)
            close(dfd);
    } else {
        close(dfd);
    }
    mdb_txn_abort(rt);
    mdb_env_close(src);
    close(lfd);
    free(dbs);
    if (err == ROSTER_E_OK && out != NULL) {
        out->bytes_before = (uint64_t)st.st_size;
        out->bytes_after = size_after;
        out->entries = entries;
        out->from_version = from;
    }
    return err;

fail:
    if (dst != NULL)
        mdb_env_close(dst);
    if (have_work)
        unlink(work);
    if (have_final)
        unlink(final);
    if (rt != NULL)
        mdb_txn_abort(rt);
    if (src != NULL)
        mdb_env_close(src);
    if (lfd >= 0)
        close(lfd);
    free(dbs);
    return err;
}

int store_compact(const char *dir, store_compact_stats *out, roster_err_detail *detail)
{
    return rewrite_store(dir, STORE_SCHEMA_VERSION, out, detail);
}

int store_upgrade(const char *dir, store_compact_stats *out, roster_err_detail *detail)
{
    return rewrite_store(dir, 0, out, detail);
}
