/* Store: environment, validation, users, tenants, uniqueness, batches,
 * tenant scope, reopen, verify. */
#include "store_fixture.h"
#include "keys.h"
#include "text.h"
#include "validate.h"

#include "clock.h"

#include <lmdb.h>

START_TEST(create_and_get)
{
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "Ann@Example.com", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(u->id), 36);
    ck_assert_str_eq(u->email, "Ann@Example.com");
    ck_assert(u->has_active && u->active);
    ck_assert(u->has_is_opted_in && !u->is_opted_in);
    ck_assert(u->has_two_factor_enabled && !u->two_factor_enabled);
    ck_assert_ptr_null(u->tenant_id);
    ck_assert_int_eq(u->created_at, u->updated_at);

    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = u->id;
    Roster__V1__User *got;
    ck_assert_int_eq(store_user_get(r, NULL, &g, &fx_arena, &got, NULL), ROSTER_E_OK);
    ck_assert_str_eq(got->reference, "r1");
    const void *bytes;
    size_t len;
    ck_assert_int_eq(store_user_get_raw(r, NULL, u->id, &bytes, &len), ROSTER_E_OK);
    Roster__V1__User *raw = roster__v1__user__unpack(NULL, len, bytes);
    ck_assert_ptr_nonnull(raw);
    ck_assert_str_eq(raw->id, u->id);
    roster__v1__user__free_unpacked(raw, NULL);

    roster_err_detail d = {0};
    g.id = "not-a-uuid";
    ck_assert_int_eq(store_user_get(r, NULL, &g, &fx_arena, &got, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "id");
    g.id = "0190b3c2-7d1e-7a00-8000-000000000000";
    ck_assert_int_eq(store_user_get(r, NULL, &g, &fx_arena, &got, &d), ROSTER_E_NOT_FOUND);
    store_read_end(r);
}
END_TEST

static void expect_invalid(Roster__V1__CreateUserRequest *req, const char *field)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    roster_err_detail d = {0};
    Roster__V1__User *u;
    int err = store_user_create(w, NULL, req, &fx_arena, &u, &d);
    ck_assert_msg(err == ROSTER_E_INVALID_ARGUMENT || err == ROSTER_E_NOT_FOUND,
                  "expected an error for %s, got %d", field, err);
    ck_assert_str_eq(d.field, field);
    ck_assert_int_gt(strlen(d.message), 0);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

START_TEST(validation_names_the_field)
{
    char long_ref[300];
    memset(long_ref, 'a', sizeof long_ref - 1);
    long_ref[sizeof long_ref - 1] = 0;
    char big_json[20000];
    memset(big_json, ' ', sizeof big_json);
    big_json[0] = '{';
    big_json[sizeof big_json - 2] = '}';
    big_json[sizeof big_json - 1] = 0;
    struct {
        const char *field;
        const char *ref, *email, *first, *locale, *tz, *custom, *tenant;
    } cases[] = {
        {"reference", NULL, "a@b.c", NULL, NULL, NULL, NULL, NULL},
        {"reference", "", "a@b.c", NULL, NULL, NULL, NULL, NULL},
        {"reference", long_ref, "a@b.c", NULL, NULL, NULL, NULL, NULL},
        {"reference", "bad\xff", "a@b.c", NULL, NULL, NULL, NULL, NULL},
        {"email", "r", NULL, NULL, NULL, NULL, NULL, NULL},
        {"email", "r", "no-at-sign", NULL, NULL, NULL, NULL, NULL},
        {"email", "r", "two@@x.y", NULL, NULL, NULL, NULL, NULL},
        {"email", "r", "a@.x", NULL, NULL, NULL, NULL, NULL},
        {"firstName", "r", "a@b.c", "\xc0\xaf", NULL, NULL, NULL, NULL},
        {"firstName", "r", "a@b.c", "tab\there", NULL, NULL, NULL, NULL},
        {"locale", "r", "a@b.c", NULL, "en US", NULL, NULL, NULL},
        {"timezone", "r", "a@b.c", NULL, NULL, "Asia/Bang kok", NULL, NULL},
        {"customData", "r", "a@b.c", NULL, NULL, NULL, "[1,2]", NULL},
        {"customData", "r", "a@b.c", NULL, NULL, NULL, "{\"a\":", NULL},
        {"customData", "r", "a@b.c", NULL, NULL, NULL, big_json, NULL},
        {"tenantId", "r", "a@b.c", NULL, NULL, NULL, NULL, "xyz"},
        {"tenantId", "r", "a@b.c", NULL, NULL, NULL, NULL, "0190b3c2-7d1e-7a00-8000-000000000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        req.reference = (char *)cases[i].ref;
        req.email = (char *)cases[i].email;
        req.first_name = (char *)cases[i].first;
        req.locale = (char *)cases[i].locale;
        req.timezone = (char *)cases[i].tz;
        req.custom_data = (char *)cases[i].custom;
        req.tenant_id = (char *)cases[i].tenant;
        expect_invalid(&req, cases[i].field);
    }
    /* Nothing was written. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, 0);
    store_read_end(r);
    /* A valid customData object is kept as given. */
    Roster__V1__CreateUserRequest ok = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    ok.reference = "r";
    ok.email = "a@b.c";
    ok.custom_data = "{\"plan\": \"pro\", \"n\": [1, 2]}";
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__User *u;
    ck_assert_int_eq(store_user_create(w, NULL, &ok, &fx_arena, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_str_eq(u->custom_data, ok.custom_data);
}
END_TEST

START_TEST(uniqueness_per_tenant_case_insensitive)
{
    char *t1 = fx_tenant("one", false), *t2 = fx_tenant("two", false);
    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(NULL, "ref", "Mail@X.io", t1, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "ref", "other@x.io", t1, &u, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "reference");
    ck_assert_int_eq(fx_user(NULL, "ref2", "mail@x.IO", t1, &u, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    /* Another tenant and the no-tenant scope are separate. */
    ck_assert_int_eq(fx_user(NULL, "ref", "mail@x.io", t2, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "ref", "mail@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "ref", "MAIL@x.io", NULL, &u, &d), ROSTER_E_ALREADY_EXISTS);
    /* Reference is case-sensitive. */
    ck_assert_int_eq(fx_user(NULL, "REF", "new@x.io", NULL, &u, NULL), ROSTER_E_OK);
}
END_TEST

/* Email uniqueness folds Unicode case (full folding, then NFC); ASCII
 * emails keep their ASCII lower-case key bytes. */
START_TEST(email_unicode_case_folding)
{
    unsigned char k[KEY_MAX];
    ck_assert_uint_eq(text_fold_key(k, sizeof k, "Mail@X.io", 9), 9);
    ck_assert(memcmp(k, "mail@x.io", 9) == 0);
    size_t n = text_fold_key(k, sizeof k, "\xc3\x89LODIE@x.io", 12); /* ÉLODIE */
    ck_assert_uint_eq(n, 12);
    ck_assert(memcmp(k, "\xc3\xa9lodie@x.io", 12) == 0);
    n = text_fold_key(k, sizeof k, "E\xcc\x81lodie@x.io", 13); /* E + combining acute */
    ck_assert_uint_eq(n, 12);
    ck_assert(memcmp(k, "\xc3\xa9lodie@x.io", 12) == 0);
    n = text_fold_key(k, sizeof k,
                      "stra\xc3\x9f"
                      "e@x.io",
                      12); /* straße */
    ck_assert_uint_eq(n, 12);
    ck_assert(memcmp(k, "strasse@x.io", 12) == 0);
    ck_assert_uint_eq(text_fold_key(k, sizeof k, "\xff@x", 3), 3); /* not UTF-8: bytes */

    char *t1 = fx_tenant("one", false);
    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(NULL, "e1", "\xc3\xa9lodie@example.com", t1, &u, NULL), ROSTER_E_OK);
    char *id = strdup(u->id);
    ck_assert_int_eq(fx_user(NULL, "e2", "\xc3\x89LODIE@example.com", t1, &u, &d),
                     ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    ck_assert_int_eq(fx_user(NULL, "s1", "STRASSE@example.com", t1, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "s2",
                             "stra\xc3\x9f"
                             "e@example.com",
                             t1, &u, &d),
                     ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    ck_assert_int_eq(fx_user(NULL, "e3", "\xc3\x89lodie@example.com", NULL, &u, NULL), ROSTER_E_OK);

    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = id;
    up.email = "Stra\xc3\x9f"
               "E@example.com";
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    up.email = "\xc3\x89lodie@example.com"; /* its own email in another case */
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    free(id);
}
END_TEST

START_TEST(batch_isolates_failing_op)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest a = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    a.reference = "a";
    a.email = "a@x.io";
    Roster__V1__User *ua, *ub;
    ck_assert_int_eq(store_user_create(w, NULL, &a, &fx_arena, &ua, NULL), ROSTER_E_OK);
    /* Same email as an earlier op of the batch: refused, leaves nothing. */
    Roster__V1__CreateUserRequest dup = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    dup.reference = "dup";
    dup.email = "A@x.io";
    roster_err_detail d = {0};
    ck_assert_int_eq(store_user_create(w, NULL, &dup, &fx_arena, &ub, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    /* The failing op's reference is free: its index entry was not left behind. */
    Roster__V1__CreateUserRequest b = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    b.reference = "dup";
    b.email = "b@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &b, &fx_arena, &ub, NULL), ROSTER_E_OK);
    /* An update in the same batch failing on uniqueness keeps the user as it was. */
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = ub->id;
    up.email = "a@X.io";
    up.first_name = "Changed";
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);

    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, 2);
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = ub->id;
    Roster__V1__User *got;
    ck_assert_int_eq(store_user_get(r, NULL, &g, &fx_arena, &got, NULL), ROSTER_E_OK);
    ck_assert_str_eq(got->email, "b@x.io");
    ck_assert_ptr_null(got->first_name);
    uint64_t issues = 99;
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);

    /* An aborted batch leaves nothing. */
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest c = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    c.reference = "c";
    c.email = "c@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &c, &fx_arena, NULL, NULL), ROSTER_E_OK);
    store_write_abort(w);
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, 2);
    store_read_end(r);
}
END_TEST

START_TEST(bulk_groups_refuse_without_trace)
{
    /* Both the bulk group API and a store opened in bulk-load mode. */
    for (int mode = 0; mode < 2; mode++) {
        if (mode == 1) {
            store_close(fx_store);
            store_options o = {.no_sync = true, .bulk_load = true, .map_size = (uint64_t)1 << 30};
            ck_assert_int_eq(store_open(&fx_store, fx_dir, &o), ROSTER_E_OK);
        }
        store_wtxn *w;
        ck_assert_int_eq((mode ? store_write_begin : store_write_begin_bulk)(fx_store, &w),
                         ROSTER_E_OK);
        char ref[8], email[16], fresh[8], fresh_email[16];
        snprintf(ref, sizeof ref, "b%d", mode);
        snprintf(email, sizeof email, "b%d@x.io", mode);
        snprintf(fresh, sizeof fresh, "f%d", mode);
        snprintf(fresh_email, sizeof fresh_email, "f%d@x.io", mode);
        Roster__V1__CreateUserRequest a = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        a.reference = ref;
        a.email = email;
        ck_assert_int_eq(store_user_create(w, NULL, &a, &fx_arena, NULL, NULL), ROSTER_E_OK);
        Roster__V1__CreateUserRequest dup = a;
        dup.reference = fresh;
        roster_err_detail d = {0};
        ck_assert_int_eq(store_user_create(w, NULL, &dup, &fx_arena, NULL, &d),
                         ROSTER_E_ALREADY_EXISTS);
        ck_assert_str_eq(d.field, "email");
        dup.email = fresh_email; /* the refused op left no entry behind */
        ck_assert_int_eq(store_user_create(w, NULL, &dup, &fx_arena, NULL, &d), ROSTER_E_OK);
        ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
        Roster__V1__User *u;
        ck_assert_int_eq(fx_user(NULL, fresh, "other@x.io", NULL, &u, &d),
                         ROSTER_E_ALREADY_EXISTS); /* committed */
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        store_stats st;
        ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
        ck_assert_uint_eq(st.users, mode ? 4 : 2);
        uint64_t issues = 1;
        ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
        ck_assert_uint_eq(issues, 0);
        store_read_end(r);
    }
}
END_TEST

/* Creates req through store_user_prepare and store_user_create_prepared
 * in group w; returns the error and the user in *out (arena). */
static int create_prepared(store_wtxn *w, const Roster__V1__CreateUserRequest *req,
                           Roster__V1__User **out, roster_err_detail *d)
{
    store_user_checked chk;
    int err = store_user_create_check(&chk, req, d);
    if (err != ROSTER_E_OK)
        return err;
    store_user_prepared *p;
    ck_assert_int_eq(store_user_prepare(&p, req, &chk, &fx_arena), ROSTER_E_OK);
    return store_user_create_prepared(w, p, req, &chk, &fx_arena, out, d);
}

/* A create prepared ahead writes what store_user_create writes and
 * refuses what it refuses, in nested and in bulk groups; without a tenant
 * in a store with a default tenant, the user is the default tenant's. */
START_TEST(prepared_create_as_create)
{
    for (int bulk = 0; bulk < 2; bulk++) {
        store_wtxn *w;
        ck_assert_int_eq((bulk ? store_write_begin_bulk : store_write_begin)(fx_store, &w),
                         ROSTER_E_OK);
        char ref[8], email[16];
        snprintf(ref, sizeof ref, "p%d", bulk);
        snprintf(email, sizeof email, "p%d@x.io", bulk);
        Roster__V1__CreateUserRequest a = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        a.reference = ref;
        a.email = email;
        a.first_name = "Ada";
        Roster__V1__User *u = NULL;
        int64_t before = roster_now_ms();
        ck_assert_int_eq(create_prepared(w, &a, &u, NULL), ROSTER_E_OK);
        ck_assert_str_eq(u->reference, ref);
        ck_assert_str_eq(u->first_name, "Ada");
        ck_assert_ptr_null(u->tenant_id);
        ck_assert(u->has_active && u->active && u->has_is_opted_in && !u->is_opted_in);
        ck_assert(u->created_at >= before && u->updated_at == u->created_at);
        /* Refused as a create is, leaving nothing behind. */
        roster_err_detail d = {0};
        Roster__V1__CreateUserRequest dup = a;
        dup.email = "other@x.io";
        ck_assert_int_eq(create_prepared(w, &dup, NULL, &d), ROSTER_E_ALREADY_EXISTS);
        ck_assert_str_eq(d.field, "reference");
        Roster__V1__CreateUserRequest lost = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        lost.reference = "lost";
        lost.email = "lost@x.io";
        lost.tenant_id = "0190b1c4-0000-7000-8000-000000000001";
        ck_assert_int_eq(create_prepared(w, &lost, NULL, &d), ROSTER_E_NOT_FOUND);
        ck_assert_str_eq(d.field, "tenantId");
        Roster__V1__CreateUserRequest bad = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        bad.reference = "bad";
        ck_assert_int_eq(create_prepared(w, &bad, NULL, &d), ROSTER_E_INVALID_ARGUMENT);
        ck_assert_str_eq(d.field, "email");
        ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = u->id;
        Roster__V1__User *got;
        ck_assert_int_eq(store_user_get(r, NULL, &g, &fx_arena, &got, NULL), ROSTER_E_OK);
        ck_assert_int_eq(got->created_at, u->created_at);
        store_read_end(r);
    }
    /* A tenant named, and the default tenant for a user without one. */
    char *t1 = fx_tenant("one", false);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest a = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    a.reference = "t1";
    a.email = "t1@x.io";
    a.tenant_id = t1;
    Roster__V1__User *u;
    ck_assert_int_eq(create_prepared(w, &a, &u, NULL), ROSTER_E_OK);
    ck_assert_str_eq(u->tenant_id, t1);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    char *t2 = fx_tenant("two", true);
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest b = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    b.reference = "t2";
    b.email = "t2@x.io";
    ck_assert_int_eq(create_prepared(w, &b, &u, NULL), ROSTER_E_OK);
    ck_assert_str_eq(u->tenant_id, t2);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_uint_eq(fx_verify_issues(), 0);
}
END_TEST

/* A bulk group appends the entries of an index whose entries arrive in
 * order past its end directly (store_pending_add): after its probation,
 * when an entry then arrives out of order, around an update and a delete
 * (which flush the queues) and into a database that already holds
 * entries; every index still agrees with the records, and an index read
 * in order gives the users in order. */
START_TEST(bulk_direct_appends)
{
    store_wtxn *w;
    ck_assert_int_eq(fx_user(NULL, "first", "first@x.io", NULL, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    char ref[16], email[32], first[16], last[16];
    char *ids[5000];
    for (int i = 0; i < 5000; i++) {
        /* First names in order for 3000 users, then from the top down;
         * last names in order throughout; emails in no order. */
        int f = i < 3000 ? i : 9999 - i;
        snprintf(ref, sizeof ref, "r%d", i);
        snprintf(email, sizeof email, "u%d@x.io", (i * 7919) % 5000);
        snprintf(first, sizeof first, "n%05d", f);
        snprintf(last, sizeof last, "l%05d", i);
        Roster__V1__CreateUserRequest a = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        a.reference = ref;
        a.email = email;
        a.first_name = first;
        a.last_name = last;
        Roster__V1__User *u;
        ck_assert_int_eq(store_user_create(w, NULL, &a, &fx_arena, &u, NULL), ROSTER_E_OK);
        ids[i] = u->id;
        if (i == 2000) {
            /* An update in the middle: the queues are written first. */
            Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
            up.id = ids[1500];
            up.first_name = "zzz";
            up.last_name = "a";
            ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
        }
        if (i == 4000) {
            Roster__V1__DeleteUserRequest del = ROSTER__V1__DELETE_USER_REQUEST__INIT;
            del.id = ids[3999];
            ck_assert_int_eq(store_user_delete(w, NULL, &del, &fx_arena, NULL, NULL), ROSTER_E_OK);
        }
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_uint_eq(fx_verify_issues(), 0);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, 5000);
    /* By last name: the updated user first, then l00000 on. */
    Roster__V1__ListUsersRequest q = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_sort = o.has_order = 1;
    o.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    q.order = &o;
    q.has_limit = 1;
    q.limit = 3;
    Roster__V1__ListUsersResponse *resp;
    ck_assert_int_eq(store_user_list(r, NULL, &q, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_uint_eq(resp->n_users, 3);
    ck_assert_str_eq(resp->users[0]->id, ids[1500]);
    ck_assert_str_eq(resp->users[1]->last_name, "l00000");
    ck_assert_str_eq(resp->users[2]->last_name, "l00001");
    store_read_end(r);
}
END_TEST

START_TEST(update_partial_and_clear)
{
    char *t1 = fx_tenant("one", false), *t2 = fx_tenant("two", false);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest c = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    c.reference = "r";
    c.email = "e@x.io";
    c.first_name = "Ann";
    c.phone = "+1 555";
    c.tenant_id = t1;
    Roster__V1__User *u;
    ck_assert_int_eq(store_user_create(w, NULL, &c, &fx_arena, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    usleep(2000);

    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = u->id;
    up.last_name = "Lee";
    up.has_active = 1;
    up.active = 0;
    Roster__V1__UserField clear[] = {ROSTER__V1__USER_FIELD__USER_FIELD_PHONE,
                                     ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN};
    up.n_clear = 2;
    up.clear = clear;
    up.tenant_id = t2;
    Roster__V1__User *v;
    ck_assert_int_eq(store_user_update(w, NULL, &up, &fx_arena, &v, NULL), ROSTER_E_OK);
    ck_assert_str_eq(v->first_name, "Ann");
    ck_assert_str_eq(v->last_name, "Lee");
    ck_assert_ptr_null(v->phone);
    ck_assert(!v->has_is_opted_in);
    ck_assert(v->has_active && !v->active);
    ck_assert_str_eq(v->tenant_id, t2);
    ck_assert_int_gt(v->updated_at, u->updated_at);
    ck_assert_int_eq(v->created_at, u->created_at);

    roster_err_detail d = {0};
    Roster__V1__UpdateUserRequest bad = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    bad.id = u->id;
    bad.first_name = "X";
    Roster__V1__UserField both[] = {ROSTER__V1__USER_FIELD__USER_FIELD_FIRST_NAME};
    bad.n_clear = 1;
    bad.clear = both;
    ck_assert_int_eq(store_user_update(w, NULL, &bad, &fx_arena, NULL, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "firstName");
    Roster__V1__UserField em[] = {ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL};
    bad.first_name = NULL;
    bad.clear = em;
    ck_assert_int_eq(store_user_update(w, NULL, &bad, &fx_arena, NULL, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "email");
    Roster__V1__UpdateUserRequest missing = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    missing.id = "0190b3c2-7d1e-7a00-8000-000000000000";
    ck_assert_int_eq(store_user_update(w, NULL, &missing, &fx_arena, NULL, &d), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);

    /* Counters followed the move and the deactivation. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    roster_uuid a, b;
    ck_assert_int_eq(roster_uuid_parse(&a, t1, 36), ROSTER_E_OK);
    ck_assert_int_eq(roster_uuid_parse(&b, t2, 36), ROSTER_E_OK);
    int64_t n = -1;
    ck_assert_int_eq(store_tenant_user_count(r, &a, &n), ROSTER_E_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_tenant_user_count(r, &b, &n), ROSTER_E_OK);
    ck_assert_int_eq(n, 0); /* deactivated users are not counted */
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
}
END_TEST

START_TEST(tenants_default_and_counts)
{
    char *t1 = fx_tenant("Acme", true);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r1", "a@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_str_eq(u->tenant_id, t1); /* joined the default tenant */
    char *t2 = fx_tenant("Beta", true); /* takes over the default mark */
    ck_assert_int_eq(fx_user(NULL, "r2", "b@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_str_eq(u->tenant_id, t2);

    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__GetTenantRequest g = ROSTER__V1__GET_TENANT_REQUEST__INIT;
    g.id = t1;
    g.has_include_user_count = g.include_user_count = 1;
    Roster__V1__Tenant *t;
    ck_assert_int_eq(store_tenant_get(r, NULL, &g, &fx_arena, &t, NULL), ROSTER_E_OK);
    ck_assert(!t->is_default);
    ck_assert(t->has_user_count);
    ck_assert_int_eq(t->user_count, 1);
    Roster__V1__ListTenantsRequest l = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__TenantOrder o = ROSTER__V1__TENANT_ORDER__INIT;
    o.has_sort = o.has_order = 1;
    o.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    l.order = &o;
    Roster__V1__ListTenantsResponse *resp;
    ck_assert_int_eq(store_tenant_list(r, NULL, &l, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_int_eq(resp->total_count, 2);
    ck_assert_str_eq(resp->tenants[0]->name, "Acme");
    ck_assert(resp->tenants[1]->is_default);
    Roster__V1__TenantFilter tf = ROSTER__V1__TENANT_FILTER__INIT;
    Roster__V1__StringFilter nf = ROSTER__V1__STRING_FILTER__INIT;
    nf.i_like = "b%";
    tf.name = &nf;
    l.filter = &tf;
    ck_assert_int_eq(store_tenant_list(r, NULL, &l, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_int_eq(resp->total_count, 1);
    ck_assert_str_eq(resp->tenants[0]->name, "Beta");
    /* A scoped caller sees only its tenant. */
    roster_uuid s1;
    roster_uuid_parse(&s1, t1, 36);
    l.filter = NULL;
    ck_assert_int_eq(store_tenant_list(r, &s1, &l, &fx_arena, &resp, NULL), ROSTER_E_OK);
    ck_assert_int_eq(resp->total_count, 1);
    g.id = t2;
    ck_assert_int_eq(store_tenant_get(r, &s1, &g, &fx_arena, &t, NULL), ROSTER_E_NOT_FOUND);
    store_read_end(r);

    /* Update: rename, clear reference, drop default. */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateTenantRequest up = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    up.id = t2;
    up.name = "Gamma";
    up.has_is_default = 1;
    up.is_default = 0;
    ck_assert_int_eq(store_tenant_update(w, NULL, &up, &fx_arena, &t, NULL), ROSTER_E_OK);
    ck_assert_str_eq(t->name, "Gamma");
    ck_assert(!t->is_default);
    roster_err_detail d = {0};
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "X";
    ck_assert_int_eq(store_tenant_create(w, &s1, &ct, &fx_arena, &t, &d),
                     ROSTER_E_PERMISSION_DENIED);
    ct.name = "";
    ck_assert_int_eq(store_tenant_create(w, NULL, &ct, &fx_arena, &t, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "name");
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    /* No default any more: new users have no tenant. */
    ck_assert_int_eq(fx_user(NULL, "r3", "c@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_ptr_null(u->tenant_id);
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
}
END_TEST

START_TEST(tenant_scope_enforced)
{
    char *t1 = fx_tenant("one", false), *t2 = fx_tenant("two", false);
    roster_uuid s1;
    roster_uuid_parse(&s1, t1, 36);
    Roster__V1__User *u1, *u2;
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(&s1, "a", "a@x.io", NULL, &u1, NULL), ROSTER_E_OK);
    ck_assert_str_eq(u1->tenant_id, t1);
    ck_assert_int_eq(fx_user(&s1, "b", "b@x.io", t2, &u2, &d), ROSTER_E_PERMISSION_DENIED);
    ck_assert_str_eq(d.field, "tenantId");
    ck_assert_int_eq(fx_user(NULL, "b", "b@x.io", t2, &u2, NULL), ROSTER_E_OK);

    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    const void *bytes;
    size_t len;
    ck_assert_int_eq(store_user_get_raw(r, &s1, u2->id, &bytes, &len), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(store_user_get_raw(r, &s1, u1->id, &bytes, &len), ROSTER_E_OK);
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    char *ids[] = {u1->id, u2->id};
    bg.n_ids = 2;
    bg.ids = ids;
    Roster__V1__BatchGetUsersResponse *bresp;
    ck_assert_int_eq(store_user_batch_get(r, &s1, &bg, &fx_arena, &bresp, NULL), ROSTER_E_OK);
    ck_assert(bresp->found[0] && !bresp->found[1]);
    Roster__V1__ListUsersRequest l = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__ListUsersResponse *lr;
    ck_assert_int_eq(store_user_list(r, &s1, &l, &fx_arena, &lr, NULL), ROSTER_E_OK);
    ck_assert_int_eq(lr->total_count, 1);
    ck_assert_str_eq(lr->users[0]->id, u1->id);
    store_read_end(r);

    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = u2->id;
    up.first_name = "x";
    ck_assert_int_eq(store_user_update(w, &s1, &up, &fx_arena, NULL, &d), ROSTER_E_NOT_FOUND);
    up.id = u1->id;
    up.tenant_id = t2;
    ck_assert_int_eq(store_user_update(w, &s1, &up, &fx_arena, NULL, &d),
                     ROSTER_E_PERMISSION_DENIED);
    store_write_abort(w);
}
END_TEST

static int count_cb(void *ctx, const void *bytes, size_t len)
{
    (void)bytes;
    (void)len;
    ++*(int *)ctx;
    return 0;
}

START_TEST(reopen_keeps_data)
{
    char *t = fx_tenant("keep", true);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r", "e@x.io", NULL, &u, NULL), ROSTER_E_OK);
    char id[37];
    strcpy(id, u->id);
    store_close(fx_store);
    fx_open();
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    const void *bytes;
    size_t len;
    ck_assert_int_eq(store_user_get_raw(r, NULL, id, &bytes, &len), ROSTER_E_OK);
    int nt = 0, nu = 0;
    ck_assert_int_eq(store_each_tenant(r, count_cb, &nt), ROSTER_E_OK);
    ck_assert_int_eq(store_each_user(r, count_cb, &nu), ROSTER_E_OK);
    ck_assert_int_eq(nt, 1);
    ck_assert_int_eq(nu, 1);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.schema_version, STORE_SCHEMA_VERSION);
    ck_assert_uint_eq(st.tenants, 1);
    ck_assert_uint_ge(st.n_dbs, 10);
    store_read_end(r);
    /* Uniqueness and the default tenant survive too. */
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(NULL, "r", "x@x.io", NULL, &u, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_int_eq(fx_user(NULL, "r2", "x@x.io", NULL, &u, &d), ROSTER_E_OK);
    ck_assert_str_eq(u->tenant_id, t);

    /* Read-only open sees the data and refuses writes. */
    store *ro;
    store_options o = {.read_only = true};
    ck_assert_int_eq(store_open(&ro, fx_dir, &o), ROSTER_E_OK);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(ro, &w), ROSTER_E_PERMISSION_DENIED);
    ck_assert_int_eq(store_read_begin(ro, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_user_get_raw(r, NULL, id, &bytes, &len), ROSTER_E_OK);
    store_read_end(r);
    store_close(ro);
}
END_TEST

START_TEST(unknown_version_refused)
{
    store_close(fx_store);
    fx_store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, STORE_META_DB, 0, &dbi), 0);
    uint8_t ver[4] = {9, 0, 0, 0};
    MDB_val k = {strlen(STORE_META_VERSION_KEY), STORE_META_VERSION_KEY}, v = {4, ver};
    ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    roster_err_detail d = {0};
    store_options o = {.detail = &d};
    store *s = NULL;
    ck_assert_int_eq(store_open(&s, fx_dir, &o), ROSTER_E_VERSION);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(d.message, "version 9"));
    o.read_only = true;
    ck_assert_int_eq(store_open(&s, fx_dir, &o), ROSTER_E_VERSION);
    /* Read-only open of an empty directory creates nothing. */
    char empty[256];
    fx_mkdtemp(empty, sizeof empty, "/tmp/roster-store-empty-");
    ck_assert_int_eq(store_open(&s, empty, &o), ROSTER_E_NOT_FOUND);
    char p[300];
    snprintf(p, sizeof p, "%s/data.mdb", empty);
    ck_assert_int_ne(access(p, F_OK), 0);
    rmdir(empty);
}
END_TEST

static void version_teardown(void)
{
    fx_teardown();
}

static void version_setup(void)
{
    fx_setup();
}

static void issue_cb(void *ctx, const store_issue *is)
{
    ++*(int *)ctx;
    ck_assert_int_gt(strlen(is->message), 0);
}

START_TEST(verify_reports_damage)
{
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r", "e@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r2", "f@x.io", NULL, &u, NULL), ROSTER_E_OK);
    store_close(fx_store);
    /* Delete one index entry and add a stray one behind the store's back. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "idx_phone", 0, &dbi), 0);
    MDB_cursor *c;
    mdb_cursor_open(txn, dbi, &c);
    MDB_val k, v;
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
    ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
    ck_assert_int_eq(mdb_dbi_open(txn, "idx_locale", 0, &dbi), 0);
    /* scope (a tenant no one has), null locale; data: an unknown id, flags */
    uint8_t stray[17] = {0x7f, 1, 2, 3}, stray_data[17] = {9, 9, 9};
    stray[16] = 0x02;
    MDB_val sk = {sizeof stray, stray}, sv = {sizeof stray_data, stray_data};
    ck_assert_int_eq(mdb_put(txn, dbi, &sk, &sv, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    fx_open();
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    int calls = 0;
    uint64_t issues = 0;
    ck_assert_int_eq(store_verify(r, issue_cb, &calls, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 2);
    ck_assert_int_eq(calls, 2);
    store_read_end(r);
}
END_TEST

typedef struct reached {
    uint64_t calls, last;
    bool increasing;
} reached;

static void on_reached(void *ctx, uint64_t records)
{
    reached *x = ctx;
    x->increasing = x->increasing && records == x->last + 1;
    x->last = records;
    x->calls++;
}

START_TEST(verify_reports_progress)
{
    char *t = fx_tenant("T", false);
    fx_tenant("U", false);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r", "e@x.io", t, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r2", "f@x.io", NULL, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "r3", "g@x.io", t, &u, NULL), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    /* Once per tenant and user record, counting up to what store_stat has. */
    reached x = {.increasing = true};
    uint64_t issues = 9;
    ck_assert_int_eq(store_verify_progress(r, NULL, NULL, on_reached, &x, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    ck_assert(x.increasing);
    ck_assert_uint_eq(x.calls, 5);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(x.last, st.tenants + st.users);
    /* No callback: store_verify's check. */
    ck_assert_int_eq(store_verify_progress(r, NULL, NULL, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
}
END_TEST

START_TEST(restore_round_trip)
{
    char *t = fx_tenant("T", false);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "r", "e@x.io", t, &u, NULL), ROSTER_E_OK);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    roster_err_detail d = {0};
    ck_assert_int_eq(store_user_restore(w, u, &d), ROSTER_E_ALREADY_EXISTS);
    Roster__V1__User copy = *u;
    copy.id = "0190b3c2-7d1e-7a00-8000-0000000000aa";
    ck_assert_int_eq(store_user_restore(w, &copy, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "reference");
    copy.reference = "other";
    copy.email = "other@x.io";
    ck_assert_int_eq(store_user_restore(w, &copy, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    const void *bytes;
    size_t len;
    ck_assert_int_eq(store_user_get_raw(r, NULL, copy.id, &bytes, &len), ROSTER_E_OK);
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, NULL, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
}
END_TEST

START_TEST(stats_and_batch_limits)
{
    char *t = fx_tenant("T", false);
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "a", "a@x.io", t, &u, NULL), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "b", "b@x.io", NULL, &u, NULL), ROSTER_E_OK);
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    store_stats st;
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    ck_assert_uint_eq(st.users, 2);
    ck_assert_uint_eq(st.users_active, 2);
    ck_assert_uint_eq(st.tenants, 1);
    ck_assert_uint_ge(st.map_size, (uint64_t)1 << 30);
    ck_assert_uint_gt(st.used_bytes, 0);
    bool saw_email = false;
    for (size_t i = 0; i < st.n_dbs; i++) {
        if (strcmp(st.dbs[i].name, "idx_email") == 0) {
            ck_assert_uint_eq(st.dbs[i].entries, 2); /* one per user (per tenant) */
            saw_email = true;
        }
        if (strcmp(st.dbs[i].name, "uniq_reference") == 0)
            ck_assert_uint_eq(st.dbs[i].entries, 2);
    }
    ck_assert(saw_email);
    /* The databases (their names are the on-disk layout) and their order. */
    static const char *const dbs[] = {
        "meta",           "counts",        "users",       "tenants",      "idx_tenant",
        "uniq_reference", "uniq_email",    "tenant_name", "idx_active",   "idx_email",
        "idx_first_name", "idx_last_name", "idx_locale",  "idx_phone",    "idx_timezone",
        "idx_updated_at", "keys",          "changes",     "changes_user", "idx_custom"};
    ck_assert_uint_eq(st.n_dbs, sizeof dbs / sizeof dbs[0]);
    for (size_t i = 0; i < st.n_dbs; i++)
        ck_assert_str_eq(st.dbs[i].name, dbs[i]);

    /* Batch gets: at most 1000 ids, malformed ids named. */
    static char *many[1001];
    for (int i = 0; i < 1001; i++)
        many[i] = u->id;
    Roster__V1__BatchGetUsersRequest bg = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
    bg.n_ids = 1001;
    bg.ids = many;
    Roster__V1__BatchGetUsersResponse *br;
    roster_err_detail d = {0};
    ck_assert_int_eq(store_user_batch_get(r, NULL, &bg, &fx_arena, &br, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "ids");
    char *bad[] = {u->id, "nope"};
    bg.n_ids = 2;
    bg.ids = bad;
    ck_assert_int_eq(store_user_batch_get(r, NULL, &bg, &fx_arena, &br, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    Roster__V1__BatchGetTenantsRequest tg = ROSTER__V1__BATCH_GET_TENANTS_REQUEST__INIT;
    char *tids[] = {t, "0190b3c2-7d1e-7a00-8000-000000000000"};
    tg.n_ids = 2;
    tg.ids = tids;
    tg.has_include_user_count = tg.include_user_count = 1;
    Roster__V1__BatchGetTenantsResponse *tr;
    ck_assert_int_eq(store_tenant_batch_get(r, NULL, &tg, &fx_arena, &tr, NULL), ROSTER_E_OK);
    ck_assert(tr->found[0] && !tr->found[1]);
    ck_assert_int_eq(tr->tenants[0]->user_count, 1);
    int64_t none = -1;
    ck_assert_int_eq(store_tenant_user_count(r, NULL, &none), ROSTER_E_OK);
    ck_assert_int_eq(none, 1); /* users without a tenant */
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    lt.has_limit = 1;
    lt.limit = 1001;
    Roster__V1__ListTenantsResponse *lr;
    ck_assert_int_eq(store_tenant_list(r, NULL, &lt, &fx_arena, &lr, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "limit");
    store_read_end(r);
}
END_TEST

/* Runs op in its own group and checks the error, field and message. */
typedef int (*write_op)(store_wtxn *w, const void *msg, roster_err_detail *d);

static void expect_refusal(write_op op, const void *msg, int want, const char *field,
                           const char *message)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    roster_err_detail d = {0};
    ck_assert_int_eq(op(w, msg, &d), want);
    ck_assert_str_eq(d.field, field);
    ck_assert_str_eq(d.message, message);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
}

static int op_create(store_wtxn *w, const void *m, roster_err_detail *d)
{
    Roster__V1__User *u;
    return store_user_create(w, NULL, m, &fx_arena, &u, d);
}

static int op_update(store_wtxn *w, const void *m, roster_err_detail *d)
{
    Roster__V1__User *u;
    return store_user_update(w, NULL, m, &fx_arena, &u, d);
}

static int op_restore(store_wtxn *w, const void *m, roster_err_detail *d)
{
    return store_user_restore(w, m, d);
}

static int op_tenant_create(store_wtxn *w, const void *m, roster_err_detail *d)
{
    Roster__V1__Tenant *t;
    return store_tenant_create(w, NULL, m, &fx_arena, &t, d);
}

static int op_tenant_update(store_wtxn *w, const void *m, roster_err_detail *d)
{
    Roster__V1__Tenant *t;
    return store_tenant_update(w, NULL, m, &fx_arena, &t, d);
}

static int op_tenant_restore(store_wtxn *w, const void *m, roster_err_detail *d)
{
    return store_tenant_restore(w, m, d);
}

/* The first error of a request that breaks several rules, with its exact
 * message, for every write. */
START_TEST(validation_messages_and_order)
{
    const int INV = ROSTER_E_INVALID_ARGUMENT;
    Roster__V1__CreateUserRequest c = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    expect_refusal(op_create, &c, INV, "reference", "reference is required");
    c.reference = "";
    c.email = "bad";
    expect_refusal(op_create, &c, INV, "reference", "reference must not be empty");
    c.reference = "r";
    expect_refusal(op_create, &c, INV, "email", "email is not an email address (local@domain)");
    c.email = "a@b.c";
    c.first_name = "x\x01";
    c.custom_data = "[]";
    c.tenant_id = "nope";
    expect_refusal(op_create, &c, INV, "firstName", "firstName contains a control character");
    c.first_name = NULL;
    c.phone = "01234567890123456789012345678901234567890123456789012345678901234";
    expect_refusal(op_create, &c, INV, "phone", "phone is 65 bytes long; at most 64 are allowed");
    c.phone = NULL;
    c.locale = "";
    expect_refusal(op_create, &c, INV, "locale", "locale must be 1 to 35 characters long");
    c.locale = NULL;
    c.timezone = "Asia/Bang kok";
    expect_refusal(op_create, &c, INV, "timezone",
                   "timezone is not an IANA time zone name (e.g. Asia/Bangkok)");
    c.timezone = NULL;
    expect_refusal(op_create, &c, INV, "customData", "customData must be a JSON object");
    c.custom_data = NULL;
    expect_refusal(op_create, &c, INV, "tenantId",
                   "tenantId is not a UUID (8-4-4-4-12 hex digits)");

    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(NULL, "r1", "r1@x.y", NULL, &u, &d), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    Roster__V1__UserField clear[2] = {ROSTER__V1__USER_FIELD__USER_FIELD_PHONE,
                                      ROSTER__V1__USER_FIELD__USER_FIELD_EMAIL};
    up.email = "bad";
    up.n_clear = 2;
    up.clear = clear;
    expect_refusal(op_update, &up, INV, "id", "id is required");
    up.id = u->id;
    expect_refusal(op_update, &up, INV, "email", "email cannot be null");
    up.phone = "1";
    expect_refusal(op_update, &up, INV, "phone", "phone is both given and cleared");
    clear[0] = (Roster__V1__UserField)99;
    expect_refusal(op_update, &up, INV, "clear", "clear names an unknown field (99)");
    up.n_clear = 0;
    expect_refusal(op_update, &up, INV, "email", "email is not an email address (local@domain)");
    up.email = NULL;
    up.avatar_url = "\xff";
    up.tenant_id = "nope";
    expect_refusal(op_update, &up, INV, "avatarUrl", "avatarUrl is not valid UTF-8");
    static const char *const bad_urls[] = {
        "javascript:alert(1)", "data:image/png;base64,AAAA", "/img/a.png", "img/a.png",
        "ftp://example.com/a", "//example.com/a.png",        "http://",    "https:///a.png",
        "http://a b.com/x"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        up.avatar_url = (char *)bad_urls[i];
        roster_err_detail ud = {0};
        ck_assert_int_eq(validate_url(bad_urls[i], 2048, "avatarUrl", &ud), INV);
        ck_assert_str_eq(ud.field, "avatarUrl");
    }
    up.avatar_url = "javascript:alert(1)";
    expect_refusal(op_update, &up, INV, "avatarUrl",
                   "avatarUrl must be an absolute http:// or https:// URL");
    static const char *const good_urls[] = {"http://example.com", "https://img.example.com/a.png",
                                            "HTTPS://Example.COM/a?b=c#d", "http://u@h:8080/", ""};
    for (size_t i = 0; i < sizeof good_urls / sizeof good_urls[0]; i++)
        ck_assert_int_eq(validate_url(good_urls[i], 2048, "avatarUrl", NULL), ROSTER_E_OK);
    up.avatar_url = NULL;
    expect_refusal(op_update, &up, INV, "tenantId",
                   "tenantId is not a UUID (8-4-4-4-12 hex digits)");

    Roster__V1__User r = ROSTER__V1__USER__INIT;
    expect_refusal(op_restore, &r, INV, "id", "id is required");
    r.id = "0190b3c2-7d1e-7a00-8000-0000000000aa";
    r.tenant_id = "nope";
    expect_refusal(op_restore, &r, INV, "reference", "reference is required");
    r.reference = "rr";
    r.email = "rr@x.y";
    r.last_name = "";
    expect_refusal(op_restore, &r, INV, "createdAt", "createdAt and updatedAt are required");
    r.has_created_at = r.has_updated_at = 1;
    expect_refusal(op_restore, &r, INV, "tenantId",
                   "tenantId is not a UUID (8-4-4-4-12 hex digits)");

    Roster__V1__CreateTenantRequest tc = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    tc.reference = "";
    expect_refusal(op_tenant_create, &tc, INV, "name", "name is required");
    tc.name = "n";
    expect_refusal(op_tenant_create, &tc, INV, "reference", "reference must not be empty");
    Roster__V1__UpdateTenantRequest tu = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    tu.id = "0190b3c2-7d1e-7a00-8000-0000000000bb";
    tu.name = "";
    expect_refusal(op_tenant_update, &tu, INV, "name", "name must not be empty");
    Roster__V1__Tenant tr = ROSTER__V1__TENANT__INIT;
    tr.id = "0190b3c2-7d1e-7a00-8000-0000000000cc";
    expect_refusal(op_tenant_restore, &tr, INV, "name", "name is required");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, create_and_get);
    tcase_add_test(tc, prepared_create_as_create);
    tcase_add_test(tc, bulk_direct_appends);
    tcase_add_test(tc, validation_names_the_field);
    tcase_add_test(tc, validation_messages_and_order);
    tcase_add_test(tc, uniqueness_per_tenant_case_insensitive);
    tcase_add_test(tc, email_unicode_case_folding);
    tcase_add_test(tc, batch_isolates_failing_op);
    tcase_add_test(tc, bulk_groups_refuse_without_trace);
    tcase_add_test(tc, update_partial_and_clear);
    tcase_add_test(tc, tenants_default_and_counts);
    tcase_add_test(tc, tenant_scope_enforced);
    tcase_add_test(tc, reopen_keeps_data);
    tcase_add_test(tc, verify_reports_damage);
    tcase_add_test(tc, verify_reports_progress);
    tcase_add_test(tc, restore_round_trip);
    tcase_add_test(tc, stats_and_batch_limits);
    suite_add_tcase(s, tc);
    TCase *tv = tcase_create("version");
    tcase_add_checked_fixture(tv, version_setup, version_teardown);
    tcase_add_test(tv, unknown_version_refused);
    suite_add_tcase(s, tv);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
