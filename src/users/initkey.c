#include "initkey.h"

#include "apikey.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ROSTER_E_IO;
        p += w;
        n -= (size_t)w;
    }
    return ROSTER_E_OK;
}

int users_init_admin_key(bool *out_minted, store *st, const char *path, roster_err_detail *detail)
{
    store_rtxn *rx = NULL;
    store_wtxn *tx = NULL;
    roster_arena a;
    roster_arena_init(&a, 1024, 0);
    uint64_t n = 0;
    int fd = -1;
    bool created = false;
    char line[ROSTER_APIKEY_TEXT_LEN + 2];
    memset(line, 0, sizeof line);
    int err = store_read_begin(st, &rx);
    if (err == ROSTER_E_OK)
        err = store_key_count(rx, &n);
    store_read_end(rx);
    if (err != ROSTER_E_OK) {
        roster_fail(detail, err, "init-admin-key", "cannot read the keys: %s",
                    roster_strerror(err));
        goto fail;
    }
    if (n > 0) {
        roster_arena_free(&a);
        *out_minted = false;
        return ROSTER_E_OK;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = roster_fail(detail, errno == EEXIST ? ROSTER_E_ALREADY_EXISTS : ROSTER_E_IO,
                          "init-admin-key", "cannot create %.200s: %s", path, strerror(errno));
        goto fail;
    }
    created = true;
    Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    req.name = "initial-admin";
    req.has_role = 1;
    req.role = ROSTER__V1__ROLE__ROLE_ADMIN;
    Roster__V1__KeySecret *ks = NULL;
    if ((err = store_write_begin(st, &tx)) != ROSTER_E_OK ||
        (err = store_key_create(tx, &req, &a, &ks, detail)) != ROSTER_E_OK) {
        store_write_abort(tx);
        goto fail;
    }
    size_t len = strlen(ks->secret);
    if (len + 1 < sizeof line) {
        memcpy(line, ks->secret, len);
        line[len] = '\n';
    }
    roster_secure_wipe(ks->secret, len);
    if (len + 1 >= sizeof line || write_all(fd, line, len + 1) != ROSTER_E_OK || fsync(fd) != 0) {
        store_write_abort(tx);
        err = roster_fail(detail, ROSTER_E_IO, "init-admin-key", "cannot write %.200s: %s", path,
                          strerror(errno));
        goto fail;
    }
    if ((err = store_write_commit(tx)) != ROSTER_E_OK) {
        roster_fail(detail, err, "init-admin-key", "key not stored: %s", roster_strerror(err));
        goto fail;
    }
    close(fd);
    char q[300];
    roster_log(ROSTER_LOG_INFO, "init_admin_key", "key_id=%s name=initial-admin role=admin file=%s",
               ks->key->id, roster_log_quote(q, sizeof q, path));
    roster_secure_wipe(line, sizeof line);
    roster_arena_free(&a);
    *out_minted = true;
    return ROSTER_E_OK;
fail:
    roster_secure_wipe(line, sizeof line);
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(path);
    roster_arena_free(&a);
    return err;
}
