/* The signing keys of access tokens kept in a PostgreSQL store
 * (pg_store.h, "signing keys"). */
#include "pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char current_key[] = "signing_key";
#define RETIRED_PREFIX "signing_retired_" /* 16 characters */
_Static_assert(sizeof RETIRED_PREFIX - 1 == 16, "the statements below take 16 characters");
_Static_assert(PGSTORE_SIGNING_MAX_RETIRED == 8, "the statement below reads at most 8");

/* A copy of n bytes at p, NUL-terminated. */
static char *copy_text(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c != NULL) {
        memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

void pgstore_signing_clear(pgstore_signing *s)
{
    if (s == NULL)
        return;
    if (s->current != NULL) {
        explicit_bzero(s->current, s->current_len);
        free(s->current);
    }
    for (size_t i = 0; i < s->n_retired; i++)
        free(s->retired[i].pem);
    memset(s, 0, sizeof *s);
}

int pgstore_signing_get(pgstore *p, const char *init, size_t init_len, int64_t now_s,
                        pgstore_signing *out, roster_err_detail *detail)
{
    if (init != NULL && p->read_only)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "store",
                           "the store is open read-only: no signing key can be made");
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, detail);
    if (err != ROSTER_E_OK)
        return err;
    if (init != NULL) {
        pg_param params[] = {{current_key, sizeof current_key - 1, PG_OID_TEXT},
                             {init, (int)init_len, PG_OID_BYTEA}};
        err = pg_run0(c,
                      "INSERT INTO roster_meta (key, value) VALUES ($1, $2) "
                      "ON CONFLICT (key) DO NOTHING",
                      2, params, detail);
    }
    /* The current key and the retired ones still verifying, latest to end
     * first, in one statement (one snapshot). */
    char floor_key[64];
    snprintf(floor_key, sizeof floor_key, RETIRED_PREFIX "%020" PRId64, now_s < 0 ? 0 : now_s);
    pg_param params[] = {{current_key, sizeof current_key - 1, PG_OID_TEXT},
                         {floor_key, (int)strlen(floor_key), PG_OID_TEXT}};
    PGresult *res = NULL;
    if (err == ROSTER_E_OK)
        err = pg_run(c,
                     "(SELECT key, value FROM roster_meta WHERE key = $1) UNION ALL "
                     "(SELECT key, value FROM roster_meta WHERE key > $2 AND "
                     "left(key, 16) = '" RETIRED_PREFIX "' ORDER BY key DESC LIMIT 8)",
                     2, params, &res, detail);
    pg_pool_release(p->pool, c);
    if (err != ROSTER_E_OK)
        return err;
    pgstore_signing s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < PQntuples(res) && err == ROSTER_E_OK; i++) {
        const char *key = PQgetvalue(res, i, 0);
        const char *v = PQgetvalue(res, i, 1);
        size_t n = (size_t)PQgetlength(res, i, 1);
        if (strcmp(key, current_key) == 0) {
            if ((s.current = copy_text(v, n)) == NULL)
                err = ROSTER_E_NOMEM;
            s.current_len = n;
            continue;
        }
        long long until;
        if (s.n_retired == PGSTORE_SIGNING_MAX_RETIRED ||
            sscanf(key + sizeof RETIRED_PREFIX - 1, "%20lld", &until) != 1)
            continue;
        if ((s.retired[s.n_retired].pem = copy_text(v, n)) == NULL) {
            err = ROSTER_E_NOMEM;
            break;
        }
        s.retired[s.n_retired].len = n;
        s.retired[s.n_retired].until = until;
        s.n_retired++;
    }
    PQclear(res);
    if (err == ROSTER_E_OK && s.current == NULL)
        err = roster_fail(detail, ROSTER_E_NOT_FOUND, "signing-key",
                          "the database holds no signing key: start roster-users on it once");
    if (err != ROSTER_E_OK) {
        pgstore_signing_clear(&s);
        return err;
    }
    *out = s;
    return ROSTER_E_OK;
}

int pgstore_signing_rotate(pgstore *p, const char *old, size_t old_len, const char *fresh,
                           size_t fresh_len, const char *old_kid, const char *old_pub,
                           size_t old_pub_len, int64_t until, int64_t now_s,
                           roster_err_detail *detail)
{
    if (p->read_only)
        return roster_fail(detail, ROSTER_E_PERMISSION_DENIED, "store",
                           "the store is open read-only: the signing key cannot be rotated");
    pg_conn *c;
    int err = pg_pool_acquire(p->pool, &c, detail);
    if (err != ROSTER_E_OK)
        return err;
    char retired_key[96], floor_key[64];
    snprintf(retired_key, sizeof retired_key, RETIRED_PREFIX "%020" PRId64 "_%s",
             until < 0 ? 0 : until, old_kid);
    snprintf(floor_key, sizeof floor_key, RETIRED_PREFIX "%020" PRId64, now_s < 0 ? 0 : now_s);
    err = pg_exec(c, "BEGIN", detail);
    PGresult *res = NULL;
    if (err == ROSTER_E_OK) {
        /* Compare and swap: a concurrent rotation by another process made
         * `old` a retired key already, and this one must not retire its
         * successor unseen. */
        pg_param params[] = {{current_key, sizeof current_key - 1, PG_OID_TEXT},
                             {fresh, (int)fresh_len, PG_OID_BYTEA},
                             {old, (int)old_len, PG_OID_BYTEA}};
        err = pg_run(c, "UPDATE roster_meta SET value = $2 WHERE key = $1 AND value = $3", 3,
                     params, &res, detail);
        if (err == ROSTER_E_OK && strcmp(PQcmdTuples(res), "1") != 0)
            err = roster_fail(detail, ROSTER_E_BUSY, "signing-key",
                              "the signing key was rotated meanwhile");
        PQclear(res);
    }
    if (err == ROSTER_E_OK) {
        pg_param params[] = {{retired_key, (int)strlen(retired_key), PG_OID_TEXT},
                             {old_pub, (int)old_pub_len, PG_OID_BYTEA}};
        err = pg_run0(c,
                      "INSERT INTO roster_meta (key, value) VALUES ($1, $2) "
                      "ON CONFLICT (key) DO NOTHING",
                      2, params, detail);
    }
    if (err == ROSTER_E_OK) {
        pg_param params[] = {{floor_key, (int)strlen(floor_key), PG_OID_TEXT}};
        err = pg_run0(
            c, "DELETE FROM roster_meta WHERE key < $1 AND left(key, 16) = '" RETIRED_PREFIX "'", 1,
            params, detail);
    }
    if (err == ROSTER_E_OK)
        err = pg_exec(c, "COMMIT", detail);
    else if (!c->broken)
        pg_exec(c, "ROLLBACK", NULL);
    pg_pool_release(p->pool, c);
    return err;
}
