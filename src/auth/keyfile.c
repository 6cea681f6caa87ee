#include "keyfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void roster_keyfile_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

/* Key text is printable ASCII without spaces. */
static bool key_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

int roster_keyfile_check_text(const char *text, const char *what, const char *field,
                              roster_err_detail *d)
{
    size_t n = text != NULL ? strnlen(text, ROSTER_KEYFILE_MAX + 1) : 0;
    if (n == 0)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field, "%s is empty", what);
    if (n > ROSTER_KEYFILE_MAX)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is longer than %d characters: not an API key", what,
                           ROSTER_KEYFILE_MAX);
    for (size_t i = 0; i < n; i++)
        if (!key_char((unsigned char)text[i]))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                               "%s holds a space or control character: not an API key", what);
    return ROSTER_E_OK;
}

/* The file's contents, trailing whitespace dropped, into buf (cap bytes);
 * *len is what is left. */
static int read_all(char *buf, size_t cap, size_t *len, int fd, const char *path,
                    roster_err_detail *d)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return roster_fail(d, ROSTER_E_IO, "key_file", "cannot read key file %s: %s", path,
                               strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap)
            break;
    }
    while (n > 0 &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    *len = n;
    return ROSTER_E_OK;
}

int roster_keyfile_read(char out[ROSTER_KEYFILE_MAX + 1], const char *path, roster_err_detail *d)
{
    /* Room for the longest key, its line end and one byte more to tell a
     * too-long file from a full one. */
    char buf[ROSTER_KEYFILE_MAX + 8];
    struct stat sb;
    size_t len = 0;
    int err;
    if (path == NULL || path[0] == '\0')
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "key_file", "the key file name is empty");
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return roster_fail(d,
                           e == ENOENT   ? ROSTER_E_NOT_FOUND
                           : e == EACCES ? ROSTER_E_PERMISSION_DENIED
                                         : ROSTER_E_IO,
                           "key_file", "cannot open key file %s: %s", path, strerror(e));
    }
    /* The checks are made on the opened file, so it cannot be swapped
     * between the check and the read. */
    if (fstat(fd, &sb) != 0) {
        err = roster_fail(d, ROSTER_E_IO, "key_file", "cannot stat key file %s: %s", path,
                          strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        err = roster_fail(d, ROSTER_E_PERMISSION_DENIED, "key_file",
                          "key file %s is not a regular file", path);
        goto fail;
    }
    if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        err = roster_fail(d, ROSTER_E_PERMISSION_DENIED, "key_file",
                          "key file %s is accessible by group or others (mode %04o); "
                          "make it private with: chmod 600 %s",
                          path, (unsigned)(sb.st_mode & 07777), path);
        goto fail;
    }
    if ((err = read_all(buf, sizeof buf, &len, fd, path, d)) != ROSTER_E_OK)
        goto fail;
    if (len == 0) {
        err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "key_file", "key file %s is empty", path);
        goto fail;
    }
    if (len > ROSTER_KEYFILE_MAX) {
        err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "key_file",
                          "key file %s holds more than %d characters: not an API key", path,
                          ROSTER_KEYFILE_MAX);
        goto fail;
    }
    for (size_t i = 0; i < len; i++)
        if (!key_char((unsigned char)buf[i])) {
            err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "key_file",
                              "key file %s holds more than one word: not an API key", path);
            goto fail;
        }
    memcpy(out, buf, len);
    out[len] = '\0';
    err = ROSTER_E_OK;
fail:
    roster_keyfile_wipe(buf, sizeof buf);
    close(fd);
    return err;
}
