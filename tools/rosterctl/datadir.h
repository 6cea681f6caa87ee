/* The data directory rosterctl works on (--data): its absolute path, the
 * service's default address in it, and opening its store for the offline
 * commands. */
#ifndef ROSTERCTL_DATADIR_H
#define ROSTERCTL_DATADIR_H

#include "cli.h"
#include "error.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>

/* Writes the absolute form of `dir` into buf (the directory need not
 * exist; a relative path is joined to the working directory and "."
 * components dropped). Returns ROSTER_E_OK, or ROSTER_E_LIMIT when it does
 * not fit, ROSTER_E_IO when the working directory is unknown. */
int ctl_datadir_abs(char *buf, size_t cap, const char *dir);

/* The default service address: "ipc://<absolute dir>/users.ipc". */
int ctl_datadir_default_url(char *buf, size_t cap, const char *dir);

/* Where the offline commands find the store: --store (ROSTER_STORE) when
 * given, else the data directory. Borrowed from a. */
static inline const char *ctl_store_location(const ctl_args *a)
{
    return a->store ? a->store : a->data;
}

/* Opens the store in `dir` (or, for a postgres:// URL, the PostgreSQL
 * store it names): read-only (the directory must hold a store) or
 * read-write (the directory is created when missing, one level). *out is
 * caller-owned until store_close. On failure d says why. */
int ctl_datadir_open(store **out, const char *dir, bool read_only, roster_err_detail *d);

/* Opens the store in `dir` read-write for a load into it while nothing
 * else uses it: bulk_load and no_sync (commits reach the disk at
 * store_sync, store_load_mark or store_close). As ctl_datadir_open
 * otherwise. */
int ctl_datadir_open_bulk(store **out, const char *dir, roster_err_detail *d);

#endif
