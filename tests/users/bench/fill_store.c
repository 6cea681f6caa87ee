/* Benchmark helper (not a test): fills a data directory with N users in
 * one tenant through the store API, unsynced, in groups of 10000 per
 * commit. Usage: roster-users-fill DIR N */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR N\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    roster_err_detail d = {{0}};
    store_options so = {.no_sync = true, .detail = &d};
    store *st = NULL;
    int err = store_open(&st, argv[1], &so);
    if (err) {
        fprintf(stderr, "store_open: %s %s\n", roster_strerror(err), d.message);
        return 1;
    }
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    store_wtxn *w = NULL;
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "Bench";
    ct.has_is_default = ct.is_default = 1;
    if ((err = store_write_begin(st, &w)) ||
        (err = store_tenant_create(w, NULL, &ct, &a, NULL, &d)) || (err = store_write_commit(w))) {
        fprintf(stderr, "tenant: %s %s\n", roster_strerror(err), d.message);
        return 1;
    }
    for (long i = 0; i < n;) {
        if ((err = store_write_begin(st, &w)) != 0)
            break;
        for (long k = 0; k < 10000 && i < n; k++, i++) {
            char email[64], ref[32], first[32];
            snprintf(email, sizeof email, "user%ld@example.com", i);
            snprintf(ref, sizeof ref, "ref-%ld", i);
            snprintf(first, sizeof first, "First%ld", i % 977);
            Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
            u.email = email;
            u.reference = ref;
            u.first_name = first;
            u.last_name = "Bench";
            if ((err = store_user_create(w, NULL, &u, &a, NULL, &d)) != 0) {
                fprintf(stderr, "user %ld: %s %s\n", i, roster_strerror(err), d.message);
                store_write_abort(w);
                return 1;
            }
            roster_arena_reset(&a);
        }
        if ((err = store_write_commit(w)) != 0)
            break;
    }
    roster_arena_free(&a);
    store_close(st);
    if (err) {
        fprintf(stderr, "fill: %s\n", roster_strerror(err));
        return 1;
    }
    return 0;
}
