/* The first admin key of a new deployment (--init-admin-key FILE). */
#ifndef ROSTER_USERS_INITKEY_H
#define ROSTER_USERS_INITKEY_H

#include "error.h"
#include "store.h"

#include <stdbool.h>

/* When the store holds no API keys, mints an admin key named
 * "initial-admin" and writes its text and a newline to `path` (borrowed
 * for the call), created with mode 0600; *out_minted says whether a key
 * was minted (false: the store already had keys, nothing was done). Run
 * before the service starts (it takes the store's write transaction).
 * Errors: ROSTER_E_ALREADY_EXISTS (`path` exists; nothing is minted),
 * ROSTER_E_IO (cannot create or write the file; the key is not kept), or
 * the store's errors; `detail` says which. */
int users_init_admin_key(bool *out_minted, store *st, const char *path, roster_err_detail *detail);

#endif
