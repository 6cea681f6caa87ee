#include "datadir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ctl_datadir_abs(char *buf, size_t cap, const char *dir)
{
    char joined[4096];
    if (dir[0] == '/') {
        if (snprintf(joined, sizeof joined, "%s", dir) >= (int)sizeof joined)
            return ROSTER_E_LIMIT;
    } else {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return ROSTER_E_IO;
        if (snprintf(joined, sizeof joined, "%s/%s", cwd, dir) >= (int)sizeof joined)
            return ROSTER_E_LIMIT;
    }
    /* Drop "." components, repeated and trailing slashes. */
    size_t n = 0;
    const char *p = joined;
    while (*p) {
        while (*p == '/')
            p++;
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - seg);
        if (len == 0 || (len == 1 && seg[0] == '.'))
            continue;
        if (n + 1 + len + 1 > cap)
            return ROSTER_E_LIMIT;
        buf[n++] = '/';
        memcpy(buf + n, seg, len);
        n += len;
    }
    if (n == 0) {
        if (cap < 2)
            return ROSTER_E_LIMIT;
        buf[n++] = '/';
    }
    buf[n] = '\0';
    return ROSTER_E_OK;
}

int ctl_datadir_default_url(char *buf, size_t cap, const char *dir)
{
    char abs[4096];
    int err = ctl_datadir_abs(abs, sizeof abs, dir);
    if (err != ROSTER_E_OK)
        return err;
    if (snprintf(buf, cap, "ipc://%s/users.ipc", abs) >= (int)cap)
        return ROSTER_E_LIMIT;
    return ROSTER_E_OK;
}

static int open_with(store **out, const char *dir, bool read_only, bool bulk, roster_err_detail *d)
{
    struct stat st;
    if (store_is_postgres(dir)) {
        /* The URL is not repeated in messages: it may hold a password. */
        store_options opts = {.read_only = read_only, .detail = d};
        int err = store_open(out, dir, &opts);
        if (err != ROSTER_E_OK && d != NULL && d->message[0] == '\0')
            roster_fail(d, err, "store", "cannot open the PostgreSQL store: %s",
                        roster_strerror(err));
        return err;
    }
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || read_only)
            return roster_fail(d, errno == ENOENT ? ROSTER_E_NOT_FOUND : ROSTER_E_IO, "data",
                               "data directory %s: %s", dir, strerror(errno));
        if (mkdir(dir, 0700) != 0)
            return roster_fail(d, ROSTER_E_IO, "data", "cannot create data directory %s: %s", dir,
                               strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "data", "%s is not a directory", dir);
    }
    store_options opts = {0};
    opts.read_only = read_only;
    opts.bulk_load = opts.no_sync = bulk;
    opts.detail = d;
    store *s = NULL;
    int err = store_open(&s, dir, &opts);
    if (err != ROSTER_E_OK) {
        if (d != NULL && d->message[0] == '\0')
            roster_fail(d, err, "data", "cannot open the store in %s: %s", dir,
                        roster_strerror(err));
        else if (err == ROSTER_E_NOT_FOUND && d != NULL)
            roster_fail(d, err, "data", "no Roster store in %s", dir);
        return err;
    }
    *out = s;
    return ROSTER_E_OK;
}

int ctl_datadir_open(store **out, const char *dir, bool read_only, roster_err_detail *d)
{
    return open_with(out, dir, read_only, false, d);
}

int ctl_datadir_open_bulk(store **out, const char *dir, roster_err_detail *d)
{
    return open_with(out, dir, false, true, d);
}
