/* The keys that sign access tokens for a store's deployment
 * (src/auth/signkeys.h), wherever that store keeps them:
 * - LMDB: files in the data directory (<data>/signing/), one process;
 * - PostgreSQL: rows of the database (pg_store.h, "signing keys"), so
 *   that every roster-users on one database signs with the same current
 *   key and verifies every other's tokens. A rotation by one process is
 *   seen by the others when they read the keys again
 *   (store_signkeys_reload), which users/tokens.c does when a token names
 *   a key it does not hold, and before signing once its copy is
 *   STORE_SIGNKEYS_RELOAD_S old. */
#ifndef ROSTER_STORE_SIGNING_H
#define ROSTER_STORE_SIGNING_H

#include "signkeys.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* Whether s keeps the signing keys itself (PostgreSQL) rather than its
 * data directory. */
bool store_signkeys_shared(const store *s);

/* Opens the signing keys of s (borrowed; outlives *out) into *out
 * (caller-owned, roster_signkeys_free). LMDB: roster_signkeys_open of
 * data_dir (borrowed for the call). PostgreSQL: the database's keys; with
 * `create`, a database without one gets one first (of processes starting
 * at once, one key wins and all use it): the current key of data_dir's
 * files when there is one (data_dir may be NULL), so tokens signed before
 * the keys moved into the database still verify, else a new key. Errors
 * of roster_signkeys_open or pgstore_signing_get (NOT_FOUND with !create
 * and no key yet), with detail. */
int store_signkeys_open(roster_signkeys **out, store *s, const char *data_dir, bool create,
                        int64_t now_s, roster_err_detail *detail);

/* PostgreSQL: reads the keys of s again into k (another process may have
 * rotated them); LMDB: nothing. k is unchanged on failure. */
int store_signkeys_reload(roster_signkeys *k, store *s, int64_t now_s, roster_err_detail *detail);

/* Rotates the signing key: LMDB as roster_signkeys_rotate; PostgreSQL in
 * the database (the old public key verifying until now_s +
 * ROSTER_JWT_MAX_LIFETIME_S + STORE_SIGNKEYS_RELOAD_S, since another
 * process may sign with it until it reads the keys again), retried when
 * another process rotated at the same moment, then k reloaded. new_kid
 * and old_kid (may be NULL) get the kids. */
int store_signkeys_rotate(roster_signkeys *k, store *s, int64_t now_s,
                          char new_kid[ROSTER_JWT_KID_LEN + 1],
                          char old_kid[ROSTER_JWT_KID_LEN + 1], roster_err_detail *detail);

/* How long, in seconds, a process on a PostgreSQL store may sign with a
 * key another process has retired: users/tokens.c reads the keys again
 * before signing when its copy is older than this. */
#define STORE_SIGNKEYS_RELOAD_S 1

#endif
