#include "signing.h"

#include "pg_store.h"
#include "store_internal.h"

#include <string.h>

bool store_signkeys_shared(const store *s)
{
    return s->pg != NULL;
}

/* The keys the database holds, as a new set. init: see pgstore_signing_get. */
static int from_db(roster_signkeys **out, store *s, const char *init, size_t init_len,
                   int64_t now_s, roster_err_detail *d)
{
    pgstore_signing ps;
    int err = pgstore_signing_get(s->pg, init, init_len, now_s, &ps, d);
    if (err != ROSTER_E_OK)
        return err;
    roster_signkey_pem retired[PGSTORE_SIGNING_MAX_RETIRED];
    for (size_t i = 0; i < ps.n_retired; i++)
        retired[i] =
            (roster_signkey_pem){ps.retired[i].pem, ps.retired[i].len, ps.retired[i].until};
    err =
        roster_signkeys_from_pem(out, ps.current, ps.current_len, retired, ps.n_retired, now_s, d);
    pgstore_signing_clear(&ps);
    return err;
}

int store_signkeys_open(roster_signkeys **out, store *s, const char *data_dir, bool create,
                        int64_t now_s, roster_err_detail *d)
{
    if (s->pg == NULL)
        return roster_signkeys_open(out, data_dir, create, now_s, d);
    if (!create)
        return from_db(out, s, NULL, 0, now_s, d);
    /* The key offered if the database has none: the data directory's, when
     * it has one from before the keys moved into the database. */
    char *init = NULL;
    size_t init_len = 0;
    roster_signkeys *local = NULL;
    int err = data_dir != NULL ? roster_signkeys_open(&local, data_dir, false, now_s, NULL)
                               : ROSTER_E_NOT_FOUND;
    if (err == ROSTER_E_OK)
        err = roster_signkeys_current_pem(local, &init, &init_len);
    else
        err = roster_signkeys_new_pem(&init, &init_len, d);
    roster_signkeys_free(local);
    if (err == ROSTER_E_OK)
        err = from_db(out, s, init, init_len, now_s, d);
    roster_signkeys_pem_free(init, init_len);
    return err;
}

int store_signkeys_reload(roster_signkeys *k, store *s, int64_t now_s, roster_err_detail *d)
{
    if (s->pg == NULL)
        return ROSTER_E_OK;
    roster_signkeys *fresh;
    int err = from_db(&fresh, s, NULL, 0, now_s, d);
    if (err == ROSTER_E_OK)
        roster_signkeys_replace(k, fresh);
    return err;
}

/* Tries to rotate in the database once: BUSY when another process
 * rotated first. */
static int rotate_once(store *s, int64_t now_s, char new_kid[ROSTER_JWT_KID_LEN + 1],
                       char old_kid[ROSTER_JWT_KID_LEN + 1], roster_err_detail *d)
{
    pgstore_signing ps;
    int err = pgstore_signing_get(s->pg, NULL, 0, now_s, &ps, d);
    if (err != ROSTER_E_OK)
        return err;
    char *pub = NULL, *fresh = NULL, *fresh_pub = NULL;
    size_t pub_len = 0, fresh_len = 0, fresh_pub_len = 0;
    err = roster_signkeys_public_pem(&pub, &pub_len, old_kid, ps.current, ps.current_len, d);
    if (err == ROSTER_E_OK)
        err = roster_signkeys_new_pem(&fresh, &fresh_len, d);
    if (err == ROSTER_E_OK)
        err = roster_signkeys_public_pem(&fresh_pub, &fresh_pub_len, new_kid, fresh, fresh_len, d);
    if (err == ROSTER_E_OK)
        err = pgstore_signing_rotate(
            s->pg, ps.current, ps.current_len, fresh, fresh_len, old_kid, pub, pub_len,
            now_s + ROSTER_JWT_MAX_LIFETIME_S + STORE_SIGNKEYS_RELOAD_S, now_s, d);
    roster_signkeys_pem_free(pub, pub_len);
    roster_signkeys_pem_free(fresh, fresh_len);
    roster_signkeys_pem_free(fresh_pub, fresh_pub_len);
    pgstore_signing_clear(&ps);
    return err;
}

int store_signkeys_rotate(roster_signkeys *k, store *s, int64_t now_s,
                          char new_kid[ROSTER_JWT_KID_LEN + 1],
                          char old_kid[ROSTER_JWT_KID_LEN + 1], roster_err_detail *d)
{
    if (s->pg == NULL)
        return roster_signkeys_rotate(k, now_s, new_kid, old_kid, d);
    char fresh[ROSTER_JWT_KID_LEN + 1], old[ROSTER_JWT_KID_LEN + 1];
    int err = ROSTER_E_BUSY;
    for (int attempt = 0; attempt < 5 && err == ROSTER_E_BUSY; attempt++)
        err = rotate_once(s, now_s, fresh, old, d);
    if (err == ROSTER_E_OK)
        err = store_signkeys_reload(k, s, now_s, d);
    if (err != ROSTER_E_OK)
        return err;
    if (new_kid != NULL)
        memcpy(new_kid, fresh, sizeof fresh);
    if (old_kid != NULL)
        memcpy(old_kid, old, sizeof old);
    return ROSTER_E_OK;
}
