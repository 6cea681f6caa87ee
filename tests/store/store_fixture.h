/* Shared helpers of the store suites: a store in a fresh temporary
 * directory and one-line creates. */
#ifndef ROSTER_TEST_STORE_FIXTURE_H
#define ROSTER_TEST_STORE_FIXTURE_H

#include "store.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fx_dir[256];
static store *fx_store;
static roster_arena fx_arena;

static inline void fx_rmdir(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

static inline void fx_open(void)
{
    store_options o = {.no_sync = true, .map_size = (uint64_t)1 << 30};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
}

/* Makes a fresh directory named prefix + six random characters into buf. */
static inline void fx_mkdtemp(char *buf, size_t cap, const char *prefix)
{
    snprintf(buf, cap, "%s", prefix);
    size_t n = strlen(buf);
    ck_assert_uint_lt(n + 6, cap);
    memset(buf + n, 'X', 6); /* mkdtemp's template characters */
    buf[n + 6] = '\0';
    ck_assert_ptr_nonnull(mkdtemp(buf));
}

static inline void fx_setup(void)
{
    fx_mkdtemp(fx_dir, sizeof fx_dir, "/tmp/roster-store-test-");
    fx_open();
    roster_arena_init(&fx_arena, 0, 0);
}

static inline void fx_teardown(void)
{
    store_close(fx_store);
    fx_store = NULL;
    roster_arena_free(&fx_arena);
    fx_rmdir(fx_dir);
}

/* Creates a tenant in its own write transaction; returns its id text (arena). */
static inline char *fx_tenant(const char *name, bool is_default)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateTenantRequest req = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    req.name = (char *)name;
    req.has_is_default = is_default;
    req.is_default = is_default;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(store_tenant_create(w, NULL, &req, &fx_arena, &t, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return t->id;
}

/* Creates a user with reference/email in its own transaction; returns the
 * error code and the user in *out (arena) on success. */
static inline int fx_user(const roster_uuid *scope, const char *ref, const char *email,
                          const char *tenant, Roster__V1__User **out, roster_err_detail *d)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    req.reference = (char *)ref;
    req.email = (char *)email;
    req.tenant_id = (char *)tenant;
    int err = store_user_create(w, scope, &req, &fx_arena, out, d);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return err;
}

/* Runs store_verify on the store; returns the number of issues found. */
static inline uint64_t fx_verify_issues(void)
{
    store_rtxn *r;
    uint64_t n = 99;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, NULL, NULL, &n), ROSTER_E_OK);
    store_read_end(r);
    return n;
}

#endif
