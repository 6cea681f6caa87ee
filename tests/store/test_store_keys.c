/* Store: API keys (create, get, list, revoke, rotate, last use,
 * authenticate), verify, reopen, and stores made before keys existed. */
#include "store_fixture.h"

#include "apikey.h"
#include "clock.h"

#include <lmdb.h>

/* Creates a key in its own transaction; returns the error and, on
 * success, the KeySecret (arena) in *out. */
static int mk_key(const char *name, Roster__V1__Role role, const char *tenant, int64_t expires_at,
                  Roster__V1__KeySecret **out, roster_err_detail *d)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    req.name = (char *)name;
    if (role != ROSTER__V1__ROLE__ROLE_UNSPECIFIED) {
        req.has_role = 1;
        req.role = role;
    }
    req.tenant_id = (char *)tenant;
    if (expires_at) {
        req.has_expires_at = 1;
        req.expires_at = expires_at;
    }
    Roster__V1__KeySecret *ks = NULL;
    int err = store_key_create(w, &req, &fx_arena, &ks, d);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    if (err == ROSTER_E_OK)
        *out = ks;
    return err;
}

static int auth(const char *text, int64_t now, store_principal *p, roster_err_detail *d)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    int err = store_key_authenticate(r, text, strlen(text), now, p, d);
    store_read_end(r);
    return err;
}

static void expect_refused(const char *text, int64_t now, const char *reason)
{
    store_principal p;
    roster_err_detail d = {0};
    ck_assert_int_eq(auth(text, now, &p, &d), ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.field, "credential");
    ck_assert_str_eq(d.message, reason);
}

START_TEST(create_validates)
{
    char *t = fx_tenant("Acme", false);
    Roster__V1__KeySecret *ks;
    roster_err_detail d = {0};
    char long_name[300];
    memset(long_name, 'n', 256);
    long_name[256] = '\0';
    ck_assert_int_eq(mk_key(NULL, ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "name");
    ck_assert_int_eq(mk_key(long_name, ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "name");
    ck_assert_int_eq(mk_key("key \xc3", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "name");
    ck_assert_str_eq(d.message, "name is not valid UTF-8");
    long_name[255] = '\0';
    ck_assert_int_eq(mk_key(long_name, ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &ks, &d),
                     ROSTER_E_OK);
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_UNSPECIFIED, NULL, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "role");
    ck_assert_int_eq(mk_key("k", (Roster__V1__Role)9, NULL, 0, &ks, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "role");
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_ADMIN, t, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tenantId");
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_WRITER, NULL, 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tenantId");
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_READER, "nope", 0, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "tenantId");
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_READER,
                            "0190b3c2-7d1e-7a00-8000-000000000000", 0, &ks, &d),
                     ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.field, "tenantId");
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_READER, t, roster_now_ms() - 1, &ks, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "expiresAt");

    ck_assert_int_eq(mk_key("w", ROSTER__V1__ROLE__ROLE_WRITER, t, 0, &ks, &d), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(ks->secret), ROSTER_APIKEY_TEXT_LEN);
    ck_assert_str_eq(ks->key->name, "w");
    ck_assert_str_eq(ks->key->tenant_id, t);
    ck_assert(!ks->key->has_secret_hash && !ks->key->has_previous_secret_hash);
    ck_assert(ks->key->has_created_at && ks->key->created_at > 0);
    store_principal p;
    ck_assert_int_eq(auth(ks->secret, roster_now_ms(), &p, NULL), ROSTER_E_OK);
    ck_assert_int_eq(p.role, ROSTER__V1__ROLE__ROLE_WRITER);
    ck_assert(p.has_tenant);
    char tt[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(tt, &p.tenant);
    ck_assert_str_eq(tt, t);
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

START_TEST(get_list_revoke)
{
    Roster__V1__KeySecret *a, *b;
    ck_assert_int_eq(mk_key("a", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &a, NULL), ROSTER_E_OK);
    ck_assert_int_eq(mk_key("b", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &b, NULL), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__GetKeyRequest g = ROSTER__V1__GET_KEY_REQUEST__INIT;
    g.id = a->key->id;
    Roster__V1__ApiKey *k;
    ck_assert_int_eq(store_key_get(r, &g, &fx_arena, &k, NULL), ROSTER_E_OK);
    ck_assert_str_eq(k->name, "a");
    ck_assert(!k->has_secret_hash);
    roster_err_detail d = {0};
    g.id = "0190b3c2-7d1e-7a00-8000-000000000000";
    ck_assert_int_eq(store_key_get(r, &g, &fx_arena, &k, &d), ROSTER_E_NOT_FOUND);
    g.id = "x";
    ck_assert_int_eq(store_key_get(r, &g, &fx_arena, &k, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "id");
    store_read_end(r);

    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__RevokeKeyRequest rv = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rv.id = a->key->id;
    Roster__V1__ApiKey *revoked;
    ck_assert_int_eq(store_key_revoke(w, &rv, &fx_arena, &revoked, NULL), ROSTER_E_OK);
    ck_assert(revoked->has_revoked_at);
    int64_t first = revoked->revoked_at;
    ck_assert_int_eq(store_key_revoke(w, &rv, &fx_arena, &revoked, NULL), ROSTER_E_OK);
    ck_assert_int_eq(revoked->revoked_at, first); /* idempotent */
    ck_assert(!revoked->has_secret_hash);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    expect_refused(a->secret, roster_now_ms(), "key revoked");

    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__ListKeysRequest lr = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    Roster__V1__ListKeysResponse *l;
    ck_assert_int_eq(store_key_list(r, &lr, &fx_arena, &l, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(l->n_keys, 1);
    ck_assert_str_eq(l->keys[0]->id, b->key->id);
    lr.has_include_revoked = lr.include_revoked = 1;
    ck_assert_int_eq(store_key_list(r, &lr, &fx_arena, &l, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(l->n_keys, 2);
    ck_assert_str_eq(l->keys[0]->id, a->key->id); /* id (creation) order */
    ck_assert(!l->keys[0]->has_secret_hash && !l->keys[1]->has_secret_hash);
    uint64_t n;
    ck_assert_int_eq(store_key_count(r, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 2);
    store_read_end(r);
}
END_TEST

START_TEST(authenticate_refusals)
{
    Roster__V1__KeySecret *k, *e;
    int64_t now = roster_now_ms();
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &k, NULL), ROSTER_E_OK);
    ck_assert_int_eq(mk_key("e", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, now + 60000, &e, NULL),
                     ROSTER_E_OK);
    expect_refused("rstr_short", now, "malformed key");
    expect_refused("", now, "malformed key");
    /* Same id, another secret. */
    char wrong[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(wrong, k->secret, sizeof wrong);
    wrong[ROSTER_APIKEY_TEXT_LEN - 2] = wrong[ROSTER_APIKEY_TEXT_LEN - 2] == 'A' ? 'B' : 'A';
    expect_refused(wrong, now, "wrong secret");
    /* A well-formed key whose id names nothing. */
    roster_uuid other;
    memset(&other, 0x42, sizeof other);
    char text[ROSTER_APIKEY_TEXT_LEN + 1];
    uint8_t h[ROSTER_APIKEY_HASH_LEN];
    ck_assert_int_eq(roster_apikey_mint(text, h, &other), ROSTER_E_OK);
    expect_refused(text, now, "unknown key");
    /* Expiry. */
    store_principal p;
    ck_assert_int_eq(auth(e->secret, now, &p, NULL), ROSTER_E_OK);
    expect_refused(e->secret, now + 60000, "key expired");
}
END_TEST

START_TEST(rotation_grace)
{
    Roster__V1__KeySecret *k;
    ck_assert_int_eq(mk_key("k", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &k, NULL), ROSTER_E_OK);
    char old[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(old, k->secret, sizeof old);

    store_wtxn *w;
    roster_err_detail d = {0};
    Roster__V1__RotateKeyRequest rr = ROSTER__V1__ROTATE_KEY_REQUEST__INIT;
    rr.id = k->key->id;
    rr.has_grace_seconds = 1;
    rr.grace_seconds = STORE_KEY_GRACE_MAX_S + 1;
    Roster__V1__KeySecret *n;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_key_rotate(w, &rr, &fx_arena, &n, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "graceSeconds");
    rr.has_grace_seconds = 0; /* default: an hour */
    int64_t t0 = roster_now_ms();
    ck_assert_int_eq(store_key_rotate(w, &rr, &fx_arena, &n, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_str_ne(n->secret, old);
    ck_assert(n->key->has_rotated_at && n->key->has_previous_valid_until);
    ck_assert_int_ge(n->key->previous_valid_until, t0 + 3600 * 1000);
    ck_assert_int_le(n->key->previous_valid_until, roster_now_ms() + 3600 * 1000);
    ck_assert(!n->key->has_secret_hash && !n->key->has_previous_secret_hash);

    store_principal p;
    int64_t now = roster_now_ms();
    ck_assert_int_eq(auth(old, now, &p, NULL), ROSTER_E_OK);
    ck_assert_int_eq(auth(n->secret, now, &p, NULL), ROSTER_E_OK);
    expect_refused(old, n->key->previous_valid_until, "previous secret past its grace period");
    ck_assert_int_eq(auth(n->secret, n->key->previous_valid_until, &p, NULL), ROSTER_E_OK);

    /* grace 0 ends the old secret at once; a revoked key is not rotated. */
    char second[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(second, n->secret, sizeof second);
    rr.has_grace_seconds = 1;
    rr.grace_seconds = 0;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_key_rotate(w, &rr, &fx_arena, &n, &d), ROSTER_E_OK);
    Roster__V1__RevokeKeyRequest rv = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rv.id = k->key->id;
    Roster__V1__ApiKey *ak;
    ck_assert_int_eq(store_key_revoke(w, &rv, &fx_arena, &ak, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_key_rotate(w, &rr, &fx_arena, &n, &d), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    expect_refused(second, roster_now_ms(), "key revoked");
    expect_refused(old, roster_now_ms(), "wrong secret"); /* two rotations ago */
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

START_TEST(touch_and_reopen)
{
    char *t = fx_tenant("T", false);
    Roster__V1__KeySecret *k;
    ck_assert_int_eq(mk_key("r", ROSTER__V1__ROLE__ROLE_READER, t, 0, &k, NULL), ROSTER_E_OK);
    store_principal p;
    ck_assert_int_eq(auth(k->secret, roster_now_ms(), &p, NULL), ROSTER_E_OK);
    ck_assert_int_eq(p.last_used_at, 0);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    ck_assert_int_eq(store_key_touch(w, &p.key_id, 5000), ROSTER_E_OK);
    ck_assert_int_eq(store_key_touch(w, &p.key_id, 4000), ROSTER_E_OK); /* never backwards */
    roster_uuid none;
    memset(&none, 7, sizeof none);
    ck_assert_int_eq(store_key_touch(w, &none, 4000), ROSTER_E_OK); /* gone: ignored */
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);

    char secret[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(secret, k->secret, sizeof secret);
    store_close(fx_store);
    fx_open();
    ck_assert_int_eq(auth(secret, roster_now_ms(), &p, NULL), ROSTER_E_OK);
    ck_assert_int_eq(p.last_used_at, 5000);
    ck_assert_int_eq(p.role, ROSTER__V1__ROLE__ROLE_READER);
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

static void count_issue(void *ctx, const store_issue *is)
{
    if (is->kind == STORE_ISSUE_BAD_KEY)
        (*(int *)ctx)++;
}

START_TEST(verify_finds_bad_keys)
{
    Roster__V1__KeySecret *k;
    ck_assert_int_eq(mk_key("a", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &k, NULL), ROSTER_E_OK);
    store_close(fx_store);
    fx_store = NULL;
    /* Corrupt the record behind the store's back: an admin key bound to a
     * tenant, and a record that does not decode. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
    ck_assert_int_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "keys", 0, &dbi), 0);
    Roster__V1__ApiKey bad = ROSTER__V1__API_KEY__INIT;
    bad.id = k->key->id;
    bad.name = "a";
    bad.has_role = 1;
    bad.role = ROSTER__V1__ROLE__ROLE_ADMIN;
    bad.tenant_id = "0190b3c2-7d1e-7a00-8000-000000000000";
    uint8_t buf[256];
    size_t len = roster__v1__api_key__pack(&bad, buf);
    roster_uuid id;
    ck_assert_int_eq(roster_uuid_parse(&id, k->key->id, strlen(k->key->id)), ROSTER_E_OK);
    MDB_val kv = {16, id.b}, v = {len, buf};
    ck_assert_int_eq(mdb_put(txn, dbi, &kv, &v, 0), 0);
    id.b[15] ^= 1;
    MDB_val kv2 = {16, id.b}, v2 = {3, "\xff\xff\xff"};
    ck_assert_int_eq(mdb_put(txn, dbi, &kv2, &v2, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    fx_open();
    store_rtxn *r;
    uint64_t n = 0;
    int bad_keys = 0;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, count_issue, &bad_keys, &n), ROSTER_E_OK);
    store_read_end(r);
    ck_assert_int_eq(bad_keys, 2);
    ck_assert_uint_eq(n, 2);
}
END_TEST

/* A store made before keys existed has no keys database: a read-only open
 * reads it as empty, a read-write open creates it. */
START_TEST(store_without_keys)
{
    Roster__V1__KeySecret *k;
    ck_assert_int_eq(mk_key("a", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &k, NULL), ROSTER_E_OK);
    char secret[ROSTER_APIKEY_TEXT_LEN + 1];
    memcpy(secret, k->secret, sizeof secret);
    store_close(fx_store);
    fx_store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
    ck_assert_int_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "keys", 0, &dbi), 0);
    ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    store_options ro = {.read_only = true};
    ck_assert_int_eq(store_open(&fx_store, fx_dir, &ro), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    uint64_t n = 9;
    ck_assert_int_eq(store_key_count(r, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 0);
    Roster__V1__ListKeysRequest lr = ROSTER__V1__LIST_KEYS_REQUEST__INIT;
    Roster__V1__ListKeysResponse *l;
    ck_assert_int_eq(store_key_list(r, &lr, &fx_arena, &l, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(l->n_keys, 0);
    ck_assert_int_eq(store_verify(r, NULL, NULL, &n), ROSTER_E_OK);
    ck_assert_uint_eq(n, 0);
    store_principal p;
    roster_err_detail d = {0};
    ck_assert_int_eq(store_key_authenticate(r, secret, strlen(secret), roster_now_ms(), &p, &d),
                     ROSTER_E_UNAUTHENTICATED);
    ck_assert_str_eq(d.message, "unknown key");
    store_read_end(r);
    store_close(fx_store);
    fx_open(); /* read-write: the keys database is made again */
    ck_assert_int_eq(mk_key("b", ROSTER__V1__ROLE__ROLE_ADMIN, NULL, 0, &k, NULL), ROSTER_E_OK);
    ck_assert_int_eq(auth(k->secret, roster_now_ms(), &p, NULL), ROSTER_E_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_keys");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, create_validates);
    tcase_add_test(tc, get_list_revoke);
    tcase_add_test(tc, authenticate_refusals);
    tcase_add_test(tc, rotation_grace);
    tcase_add_test(tc, touch_and_reopen);
    tcase_add_test(tc, verify_finds_bad_keys);
    tcase_add_test(tc, store_without_keys);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
