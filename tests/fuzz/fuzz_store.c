#include "fuzz_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static store *st;
static char dir[64];
static unsigned inputs;
static void (*closing)(void);

static void remove_dir(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char p[96];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void close_store(void)
{
    if (st == NULL)
        return;
    if (closing != NULL)
        closing();
    store_close(st);
    st = NULL;
    remove_dir();
}

static void open_store(void)
{
    snprintf(dir, sizeof dir, "%s/roster-fuzz-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("fuzz_store: mkdtemp");
        abort();
    }
    roster_err_detail d = {{0}};
    store_options o = {.map_size = (uint64_t)256 << 20, .no_sync = true, .detail = &d};
    int err = store_open(&st, dir, &o);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "fuzz_store: %s: %s\n", roster_strerror(err), d.message);
        abort();
    }
}

store *fuzz_store_next(bool *fresh, unsigned period, void (*before_close)(void))
{
    static bool registered;
    if (!registered) {
        atexit(close_store);
        registered = true;
    }
    closing = before_close;
    *fresh = false;
    if (st != NULL && ++inputs >= period) {
        close_store();
        inputs = 0;
    }
    if (st == NULL) {
        open_store();
        *fresh = true;
    }
    return st;
}
