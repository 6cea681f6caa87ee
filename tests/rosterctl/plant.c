/* Plants index inconsistencies in a Roster data directory, straight
 * through LMDB, for the rosterctl verify test:
 *
 *   rosterctl_plant DIR USER_ID TENANT_ID
 *
 * deletes the uniq_email entry that points at USER_ID (the user keeps its
 * record but loses that index entry) and writes a stray idx_tenant entry
 * TENANT_ID + a user id that names no record. Prints the stray id.
 * Exit 0 when both were planted. */
#include "uuid.h"

#include <lmdb.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "rosterctl_plant: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rosterctl_plant DIR USER_ID TENANT_ID\n");
        return 2;
    }
    roster_uuid user, tenant, stray;
    if (roster_uuid_parse(&user, argv[2], strlen(argv[2])) != 0 ||
        roster_uuid_parse(&tenant, argv[3], strlen(argv[3])) != 0) {
        fprintf(stderr, "rosterctl_plant: bad uuid\n");
        return 2;
    }
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi email, idx_tenant;
    MDB_cursor *cur;
    int rc = mdb_env_create(&env);
    if (rc)
        return fail("env_create", rc);
    mdb_env_set_maxdbs(env, 32);
    rc = mdb_env_open(env, argv[1], 0, 0600);
    if (rc)
        return fail("env_open", rc);
    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc)
        return fail("txn_begin", rc);
    if ((rc = mdb_dbi_open(txn, "uniq_email", 0, &email)) != 0)
        return fail("open uniq_email", rc);
    if ((rc = mdb_dbi_open(txn, "idx_tenant", 0, &idx_tenant)) != 0)
        return fail("open idx_tenant", rc);

    /* Delete the email entry of USER_ID. */
    rc = mdb_cursor_open(txn, email, &cur);
    if (rc)
        return fail("cursor_open", rc);
    MDB_val k, v;
    int found = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size == 16 && memcmp(v.mv_data, user.b, 16) == 0) {
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                return fail("cursor_del", rc);
            found = 1;
            break;
        }
    }
    mdb_cursor_close(cur);
    if (!found) {
        fprintf(stderr, "rosterctl_plant: no uniq_email entry points at %s\n", argv[2]);
        return 1;
    }

    /* A stray per-tenant entry for a user that does not exist. */
    roster_uuid_v7(&stray, 1764217490123);
    unsigned char key[32], flags = 0;
    memcpy(key, tenant.b, 16);
    memcpy(key + 16, stray.b, 16);
    k.mv_data = key;
    k.mv_size = sizeof key;
    v.mv_data = &flags;
    v.mv_size = 1;
    if ((rc = mdb_put(txn, idx_tenant, &k, &v, 0)) != 0)
        return fail("put idx_tenant", rc);
    if ((rc = mdb_txn_commit(txn)) != 0)
        return fail("commit", rc);
    mdb_env_close(env);
    char text[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(text, &stray);
    printf("%s\n", text);
    return 0;
}
