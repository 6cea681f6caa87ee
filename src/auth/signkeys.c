#include "signkeys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct pubkey {
    char kid[ROSTER_JWT_KID_LEN + 1];
    EVP_PKEY *key;
    int64_t until; /* Unix seconds; the current key: INT64_MAX */
} pubkey;

struct roster_signkeys {
    pthread_rwlock_t mu;
    char dir[PATH_MAX];
    pubkey current; /* holds the private key */
    pubkey retired[ROSTER_SIGNKEYS_MAX_RETIRED];
    size_t n_retired;
};

static int path_of(char *out, size_t cap, const roster_signkeys *k, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", k->dir, name);
    return n < 0 || (size_t)n >= cap ? ROSTER_E_INVALID_ARGUMENT : ROSTER_E_OK;
}

/* Writes `key` as PEM (private or public) to `path` through a temporary
 * file created with mode 0600 and renamed into place. */
static int write_pem(const char *path, EVP_PKEY *key, bool private_key, roster_err_detail *d)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return roster_fail(d, ROSTER_E_IO, "signing-key", "cannot create %s: %s", tmp,
                           strerror(errno));
    }
    int ok = private_key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_PUBKEY(f, key);
    ok = ok == 1 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return roster_fail(d, ROSTER_E_IO, "signing-key", "cannot write %s", path);
    }
    return ROSTER_E_OK;
}

static int read_pem(EVP_PKEY **out, const char *path, bool private_key, roster_err_detail *d)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? ROSTER_E_NOT_FOUND
                               : roster_fail(d, ROSTER_E_IO, "signing-key", "cannot open %s: %s",
                                             path, strerror(errno));
    struct stat st;
    if (private_key && fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        fclose(f);
        return roster_fail(d, ROSTER_E_PERMISSION_DENIED, "signing-key",
                           "%s may be read by group or others (chmod 600 it)", path);
    }
    EVP_PKEY *key = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                                : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return roster_fail(d, ROSTER_E_CORRUPT, "signing-key", "%s is not an Ed25519 key", path);
    }
    *out = key;
    return ROSTER_E_OK;
}

static int new_current(pubkey *out, const roster_signkeys *k, roster_err_detail *d)
{
    char path[PATH_MAX];
    pubkey p = {.until = INT64_MAX};
    int err = path_of(path, sizeof path, k, "current.pem");
    if (err == ROSTER_E_OK && (p.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
        err = roster_fail(d, ROSTER_E_INTERNAL, "signing-key", "cannot generate an Ed25519 key");
    if (err == ROSTER_E_OK)
        err = roster_jwt_kid(p.kid, p.key);
    if (err == ROSTER_E_OK)
        err = write_pem(path, p.key, true, d);
    if (err != ROSTER_E_OK) {
        EVP_PKEY_free(p.key);
        return err;
    }
    *out = p;
    return ROSTER_E_OK;
}

/* Adds p (ownership moves to k) to k's retired keys; when the table is
 * full, the key that ends first is dropped, p itself if it ends first. */
static void keep_retired(roster_signkeys *k, pubkey p)
{
    if (k->n_retired == ROSTER_SIGNKEYS_MAX_RETIRED) {
        size_t first = 0;
        for (size_t i = 1; i < k->n_retired; i++)
            if (k->retired[i].until < k->retired[first].until)
                first = i;
        if (p.until <= k->retired[first].until) {
            EVP_PKEY_free(p.key);
            return;
        }
        EVP_PKEY_free(k->retired[first].key);
        k->retired[first] = k->retired[--k->n_retired];
    }
    k->retired[k->n_retired++] = p;
}

/* Loads retired-<kid>-<until>.pem files still verifying at now_s. */
static int load_retired(roster_signkeys *k, int64_t now_s, roster_err_detail *d)
{
    DIR *dir = opendir(k->dir);
    if (dir == NULL)
        return roster_fail(d, ROSTER_E_IO, "signing-key", "cannot read %s", k->dir);
    int err = ROSTER_E_OK;
    struct dirent *e;
    while (err == ROSTER_E_OK && (e = readdir(dir)) != NULL) {
        char kid[ROSTER_JWT_KID_LEN + 1];
        long long until = 0;
        int used = 0;
        if (sscanf(e->d_name, "retired-%16[0-9a-f]-%lld.pem%n", kid, &until, &used) != 2 ||
            e->d_name[used] != '\0' || until <= now_s)
            continue;
        char path[PATH_MAX];
        pubkey p = {.until = until};
        memcpy(p.kid, kid, sizeof kid);
        if ((err = path_of(path, sizeof path, k, e->d_name)) == ROSTER_E_OK &&
            (err = read_pem(&p.key, path, false, d)) == ROSTER_E_OK)
            keep_retired(k, p);
    }
    closedir(dir);
    return err;
}

int roster_signkeys_open(roster_signkeys **out, const char *data_dir, bool create, int64_t now_s,
                         roster_err_detail *d)
{
    roster_signkeys *k = calloc(1, sizeof *k);
    if (k == NULL)
        return ROSTER_E_NOMEM;
    pthread_rwlock_init(&k->mu, NULL);
    int err = ROSTER_E_OK;
    int n = snprintf(k->dir, sizeof k->dir, "%s/signing", data_dir);
    if (n < 0 || (size_t)n >= sizeof k->dir - 64) {
        err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "data", "data directory path too long");
        goto fail;
    }
    if (create && mkdir(k->dir, 0700) != 0 && errno != EEXIST) {
        err = roster_fail(d, ROSTER_E_IO, "signing-key", "cannot create %s: %s", k->dir,
                          strerror(errno));
        goto fail;
    }
    char path[PATH_MAX];
    if ((err = path_of(path, sizeof path, k, "current.pem")) != ROSTER_E_OK)
        goto fail;
    err = read_pem(&k->current.key, path, true, d);
    if (err == ROSTER_E_NOT_FOUND && create)
        err = new_current(&k->current, k, d);
    else if (err == ROSTER_E_NOT_FOUND)
        err = roster_fail(d, err, "signing-key", "%s does not exist", path);
    else if (err == ROSTER_E_OK)
        err = roster_jwt_kid(k->current.kid, k->current.key);
    k->current.until = INT64_MAX;
    if (err == ROSTER_E_OK)
        err = load_retired(k, now_s, d);
    if (err != ROSTER_E_OK)
        goto fail;
    *out = k;
    return ROSTER_E_OK;
fail:
    roster_signkeys_free(k);
    return err;
}

void roster_signkeys_free(roster_signkeys *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->current.key);
    for (size_t i = 0; i < k->n_retired; i++)
        EVP_PKEY_free(k->retired[i].key);
    pthread_rwlock_destroy(&k->mu);
    free(k);
}

void roster_signkeys_kid(char kid[ROSTER_JWT_KID_LEN + 1], roster_signkeys *k)
{
    pthread_rwlock_rdlock(&k->mu);
    memcpy(kid, k->current.kid, ROSTER_JWT_KID_LEN + 1);
    pthread_rwlock_unlock(&k->mu);
}

int roster_signkeys_sign(char out[ROSTER_JWT_MAX_LEN + 1], size_t *len, roster_signkeys *k,
                         roster_jwt_claims *c)
{
    pthread_rwlock_rdlock(&k->mu);
    memcpy(c->kid, k->current.kid, sizeof c->kid);
    int err = roster_jwt_sign(out, len, c, k->current.key);
    pthread_rwlock_unlock(&k->mu);
    return err;
}

int roster_signkeys_check(roster_signkeys *k, const char *text, size_t len,
                          const roster_jwt_claims *c, int64_t now_s, roster_err_detail *d)
{
    pthread_rwlock_rdlock(&k->mu);
    const pubkey *p = NULL;
    if (strcmp(c->kid, k->current.kid) == 0)
        p = &k->current;
    for (size_t i = 0; p == NULL && i < k->n_retired; i++)
        if (strcmp(c->kid, k->retired[i].kid) == 0 && k->retired[i].until > now_s)
            p = &k->retired[i];
    int err = p == NULL ? roster_fail(d, ROSTER_E_UNAUTHENTICATED, "credential",
                                      "unknown or retired signing key")
              : roster_jwt_verify(text, len, p->key) != ROSTER_E_OK
                  ? roster_fail(d, ROSTER_E_UNAUTHENTICATED, "credential", "bad token signature")
                  : ROSTER_E_OK;
    pthread_rwlock_unlock(&k->mu);
    return err;
}

int roster_signkeys_rotate(roster_signkeys *k, int64_t now_s, char new_kid[ROSTER_JWT_KID_LEN + 1],
                           char old_kid[ROSTER_JWT_KID_LEN + 1], roster_err_detail *d)
{
    if (k->dir[0] == '\0')
        return roster_fail(d, ROSTER_E_FAILED_PRECONDITION, "signing-key",
                           "these signing keys are kept by the store: rotate them through it");
    pthread_rwlock_wrlock(&k->mu);
    pubkey old = k->current, fresh;
    old.until = now_s + ROSTER_JWT_MAX_LIFETIME_S;
    char name[64], path[PATH_MAX];
    snprintf(name, sizeof name, "retired-%s-%" PRId64 ".pem", old.kid, old.until);
    /* The old public key is on disk before the new private key replaces
     * it, so a crash between the two loses no verifying key. */
    int err = path_of(path, sizeof path, k, name);
    if (err == ROSTER_E_OK)
        err = write_pem(path, old.key, false, d);
    if (err == ROSTER_E_OK)
        err = new_current(&fresh, k, d);
    if (err != ROSTER_E_OK) {
        pthread_rwlock_unlock(&k->mu);
        return err;
    }
    keep_retired(k, old);
    k->current = fresh;
    if (new_kid != NULL)
        memcpy(new_kid, fresh.kid, ROSTER_JWT_KID_LEN + 1);
    if (old_kid != NULL)
        memcpy(old_kid, old.kid, ROSTER_JWT_KID_LEN + 1);
    pthread_rwlock_unlock(&k->mu);
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ PEM text */

/* The bytes written to memory BIO b, copied into *out and *len (malloc). */
static int bio_take(char **out, size_t *len, BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0)
        return ROSTER_E_INTERNAL;
    char *copy = malloc((size_t)n + 1);
    if (copy == NULL)
        return ROSTER_E_NOMEM;
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *out = copy;
    *len = (size_t)n;
    return ROSTER_E_OK;
}

/* Writes key (private or public) as PEM text into *out and *len. */
static int key_to_pem(char **out, size_t *len, EVP_PKEY *key, bool private_key)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return ROSTER_E_NOMEM;
    int ok = private_key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PUBKEY(b, key);
    int err = ok == 1 ? bio_take(out, len, b) : ROSTER_E_INTERNAL;
    BIO_free_all(b); /* a memory BIO's buffer is cleared when freed */
    return err;
}

/* Reads an Ed25519 key (private or public) from PEM text. */
static int key_from_pem(EVP_PKEY **out, const char *pem, size_t len, bool private_key,
                        roster_err_detail *d)
{
    if (len > INT_MAX)
        return roster_fail(d, ROSTER_E_CORRUPT, "signing-key", "a signing key is too long");
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL)
        return ROSTER_E_NOMEM;
    EVP_PKEY *key = private_key ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
                                : PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return roster_fail(d, ROSTER_E_CORRUPT, "signing-key",
                           "a stored %s signing key is not "
                           "an Ed25519 key",
                           private_key ? "current" : "retired");
    }
    *out = key;
    return ROSTER_E_OK;
}

int roster_signkeys_from_pem(roster_signkeys **out, const char *current, size_t len,
                             const roster_signkey_pem *retired, size_t n_retired, int64_t now_s,
                             roster_err_detail *d)
{
    roster_signkeys *k = calloc(1, sizeof *k);
    if (k == NULL)
        return ROSTER_E_NOMEM;
    pthread_rwlock_init(&k->mu, NULL);
    int err = key_from_pem(&k->current.key, current, len, true, d);
    if (err == ROSTER_E_OK)
        err = roster_jwt_kid(k->current.kid, k->current.key);
    k->current.until = INT64_MAX;
    for (size_t i = 0; err == ROSTER_E_OK && i < n_retired; i++) {
        pubkey p = {.until = retired[i].until};
        if (p.until <= now_s)
            continue;
        if ((err = key_from_pem(&p.key, retired[i].pem, retired[i].len, false, d)) == ROSTER_E_OK &&
            (err = roster_jwt_kid(p.kid, p.key)) != ROSTER_E_OK)
            EVP_PKEY_free(p.key);
        if (err == ROSTER_E_OK)
            keep_retired(k, p);
    }
    if (err != ROSTER_E_OK) {
        roster_signkeys_free(k);
        return err;
    }
    *out = k;
    return ROSTER_E_OK;
}

int roster_signkeys_new_pem(char **pem, size_t *len, roster_err_detail *d)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (key == NULL)
        return roster_fail(d, ROSTER_E_INTERNAL, "signing-key", "cannot generate an Ed25519 key");
    int err = key_to_pem(pem, len, key, true);
    EVP_PKEY_free(key);
    return err;
}

int roster_signkeys_current_pem(roster_signkeys *k, char **pem, size_t *len)
{
    pthread_rwlock_rdlock(&k->mu);
    int err = key_to_pem(pem, len, k->current.key, true);
    pthread_rwlock_unlock(&k->mu);
    return err;
}

int roster_signkeys_public_pem(char **pub, size_t *pub_len, char kid[ROSTER_JWT_KID_LEN + 1],
                               const char *priv, size_t len, roster_err_detail *d)
{
    EVP_PKEY *key;
    int err = key_from_pem(&key, priv, len, true, d);
    if (err != ROSTER_E_OK)
        return err;
    char id[ROSTER_JWT_KID_LEN + 1];
    if ((err = roster_jwt_kid(id, key)) == ROSTER_E_OK &&
        (err = key_to_pem(pub, pub_len, key, false)) == ROSTER_E_OK)
        memcpy(kid, id, sizeof id);
    EVP_PKEY_free(key);
    return err;
}

void roster_signkeys_pem_free(char *pem, size_t len)
{
    if (pem == NULL)
        return;
    OPENSSL_cleanse(pem, len);
    free(pem);
}

bool roster_signkeys_knows(roster_signkeys *k, const char *kid, int64_t now_s)
{
    pthread_rwlock_rdlock(&k->mu);
    bool known = strcmp(kid, k->current.kid) == 0;
    for (size_t i = 0; !known && i < k->n_retired; i++)
        known = strcmp(kid, k->retired[i].kid) == 0 && k->retired[i].until > now_s;
    pthread_rwlock_unlock(&k->mu);
    return known;
}

void roster_signkeys_replace(roster_signkeys *k, roster_signkeys *from)
{
    pthread_rwlock_wrlock(&k->mu);
    pubkey cur = k->current;
    pubkey old[ROSTER_SIGNKEYS_MAX_RETIRED];
    size_t n_old = k->n_retired;
    memcpy(old, k->retired, sizeof old);
    k->current = from->current;
    memcpy(k->retired, from->retired, sizeof k->retired);
    k->n_retired = from->n_retired;
    pthread_rwlock_unlock(&k->mu);
    /* from now holds k's old keys, freed with it. */
    from->current = cur;
    memcpy(from->retired, old, sizeof old);
    from->n_retired = n_old;
    roster_signkeys_free(from);
}
