/* Deleting users and tenants, what verify says afterwards, and compaction:
 * every index entry and counter goes with a deleted user in the same
 * transaction, uniqueness is freed, pages close up, tenants are deleted
 * only when nothing names them, and store_compact leaves no byte of a
 * deleted user in the data file. */
#include "store_fixture.h"

#include "fields.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>

/* Index entries a user owns (keys.h): idx_tenant, one per unique index,
 * one per sort index. */
#define USER_ENTRIES_FOR_TEST (1 + UNIQ__COUNT + SORT__COUNT)

/* ------------------------------------------------------------ shared steps */

static int del_user(const roster_uuid *scope, const char *id, roster_err_detail *d)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    req.id = (char *)id;
    Roster__V1__DeleteUserResponse *out = NULL;
    int err = store_user_delete(w, scope, &req, &fx_arena, &out, d);
    if (err == ROSTER_E_OK) {
        ck_assert_ptr_nonnull(out);
        ck_assert_str_eq(out->id, id);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return err;
}

static int del_tenant(const roster_uuid *scope, const char *id, roster_err_detail *d)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__DeleteTenantRequest req = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
    req.id = (char *)id;
    Roster__V1__DeleteTenantResponse *out = NULL;
    int err = store_tenant_delete(w, scope, &req, &fx_arena, &out, d);
    if (err == ROSTER_E_OK) {
        ck_assert_ptr_nonnull(out);
        ck_assert_str_eq(out->id, id);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return err;
}

static void print_issue(void *ctx, const store_issue *is)
{
    (void)ctx;
    fprintf(stderr, "verify: %d %s %s %s\n", is->kind, is->db, is->id, is->message);
}

static void verify_clean(void)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    uint64_t issues = 1;
    ck_assert_int_eq(store_verify(r, print_issue, NULL, &issues), ROSTER_E_OK);
    ck_assert_uint_eq(issues, 0);
    store_read_end(r);
}

static store_stats stats(void)
{
    store_rtxn *r;
    store_stats st;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_stat(r, &st), ROSTER_E_OK);
    store_read_end(r);
    return st;
}

static uint64_t entries_of(const store_stats *st, const char *db)
{
    for (size_t i = 0; i < st->n_dbs; i++)
        if (strcmp(st->dbs[i].name, db) == 0)
            return st->dbs[i].entries;
    ck_abort_msg("no database %s", db);
    return 0;
}

static int64_t tenant_count(const char *tenant)
{
    store_rtxn *r;
    roster_uuid t;
    int64_t n = -1;
    ck_assert_int_eq(roster_uuid_parse(&t, tenant, strlen(tenant)), ROSTER_E_OK);
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_tenant_user_count(r, &t, &n), ROSTER_E_OK);
    store_read_end(r);
    return n;
}

static int get_user(const char *id)
{
    store_rtxn *r;
    const void *b;
    size_t n;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    int err = store_user_get_raw(r, NULL, id, &b, &n);
    store_read_end(r);
    return err;
}

/* Users whose email equals `email` (case folded), deactivated included. */
static int64_t count_email(const char *email)
{
    store_rtxn *r;
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    Roster__V1__BoolFilter wd = ROSTER__V1__BOOL_FILTER__INIT;
    sf.equal_to = (char *)email;
    f.email = &sf;
    wd.has_equal_to = wd.equal_to = 1;
    f.with_deactivated = &wd;
    req.filter = &f;
    Roster__V1__ListUsersResponse *resp;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_user_list(r, NULL, &req, &fx_arena, &resp, NULL), ROSTER_E_OK);
    store_read_end(r);
    return resp->total_count;
}

static Roster__V1__User *mk_user(const char *ref, const char *email, const char *tenant, int active,
                                 const char *first)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    req.reference = (char *)ref;
    req.email = (char *)email;
    req.tenant_id = (char *)tenant;
    req.first_name = (char *)first;
    if (active >= 0) {
        req.has_active = 1;
        req.active = active;
    }
    Roster__V1__User *u = NULL;
    roster_err_detail d = {0};
    ck_assert_msg(store_user_create(w, NULL, &req, &fx_arena, &u, &d) == ROSTER_E_OK, "%s",
                  d.message);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return u;
}

/* ------------------------------------------------------------ users */

START_TEST(user_delete_removes_every_entry)
{
    char *t = fx_tenant("T", false);
    Roster__V1__User *a = mk_user("ra", "Ann@X.io", t, -1, "Ann");
    Roster__V1__User *b = mk_user("rb", "bob@x.io", t, 0, "Bob"); /* deactivated */
    Roster__V1__User *c = mk_user("rc", "cy@x.io", NULL, -1, NULL);
    store_stats before = stats();
    ck_assert_uint_eq(before.users, 3);
    ck_assert_uint_eq(before.users_active, 2);
    ck_assert_int_eq(tenant_count(t), 1);

    roster_err_detail d = {0};
    ck_assert_int_eq(del_user(NULL, a->id, &d), ROSTER_E_OK);
    store_stats after = stats();
    ck_assert_uint_eq(after.users, 2);
    ck_assert_uint_eq(after.users_active, 1);
    ck_assert_int_eq(tenant_count(t), 0);
    /* One entry less in idx_tenant, each unique index and each sort
     * index (no customData index is
     * declared here). The feed gains the deletion's event and loses the
     * deleted user's changes_user entry (its create event, scrubbed). */
    for (size_t i = 0; i < before.n_dbs; i++) {
        const char *db = before.dbs[i].name;
        uint64_t want = before.dbs[i].entries;
        if (strcmp(db, "users") == 0 || strcmp(db, "idx_tenant") == 0 ||
            strncmp(db, "uniq_", 5) == 0 || strcmp(db, "changes_user") == 0)
            want -= 1;
        else if (strcmp(db, "changes") == 0)
            want += 1;
        else if (strcmp(db, "idx_custom") == 0)
            ;
        else if (strncmp(db, "idx_", 4) == 0)
            want -= 1;
        ck_assert_msg(entries_of(&after, db) == want, "%s: %llu entries, want %llu", db,
                      (unsigned long long)entries_of(&after, db), (unsigned long long)want);
    }
    ck_assert_int_eq(get_user(a->id), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(count_email("ann@x.io"), 0);
    verify_clean();

    /* A deactivated user leaves the all-users count only. */
    ck_assert_int_eq(del_user(NULL, b->id, &d), ROSTER_E_OK);
    after = stats();
    ck_assert_uint_eq(after.users, 1);
    ck_assert_uint_eq(after.users_active, 1);
    ck_assert_int_eq(tenant_count(t), 0);
    /* A user without a tenant. */
    ck_assert_int_eq(del_user(NULL, c->id, &d), ROSTER_E_OK);
    after = stats();
    ck_assert_uint_eq(after.users, 0);
    ck_assert_uint_eq(after.users_active, 0);
    for (size_t i = 0; i < after.n_dbs; i++) {
        const char *db = after.dbs[i].name;
        if (strcmp(db, "users") == 0 || strncmp(db, "idx_", 4) == 0 || strncmp(db, "uniq_", 5) == 0)
            ck_assert_msg(after.dbs[i].entries == 0, "%s not empty", db);
    }
    verify_clean();

    /* Deleting again, and bad ids. */
    ck_assert_int_eq(del_user(NULL, a->id, &d), ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.field, "id");
    ck_assert_int_eq(del_user(NULL, "not-a-uuid", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "id");
    ck_assert_int_eq(del_user(NULL, NULL, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "id");
    ck_assert_int_eq(del_user(NULL, "0190b3c2-7d1e-7a00-8000-0000000000aa", &d),
                     ROSTER_E_NOT_FOUND);
    /* Upper-case id text names the same user; the reply is canonical. */
    Roster__V1__User *e = mk_user("re", "e@x.io", t, -1, NULL);
    char upper[40];
    for (size_t i = 0; i <= strlen(e->id); i++)
        upper[i] = (char)(e->id[i] >= 'a' && e->id[i] <= 'f' ? e->id[i] - 32 : e->id[i]);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__DeleteUserRequest req = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    req.id = upper;
    Roster__V1__DeleteUserResponse *out = NULL;
    ck_assert_int_eq(store_user_delete(w, NULL, &req, &fx_arena, &out, &d), ROSTER_E_OK);
    ck_assert_str_eq(out->id, e->id);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    verify_clean();
}
END_TEST

START_TEST(user_delete_frees_reference_and_email)
{
    char *t = fx_tenant("T", false);
    Roster__V1__User *a = mk_user("ref-1", "Strasse@Example.com", t, -1, NULL);
    Roster__V1__User *u;
    roster_err_detail d = {0};
    ck_assert_int_eq(fx_user(NULL, "ref-1", "other@x.io", t, &u, &d), ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "reference");
    ck_assert_int_eq(fx_user(NULL, "ref-2", "STRASSE@example.com", t, &u, &d),
                     ROSTER_E_ALREADY_EXISTS);
    ck_assert_str_eq(d.field, "email");
    ck_assert_int_eq(del_user(NULL, a->id, &d), ROSTER_E_OK);
    ck_assert_int_eq(fx_user(NULL, "ref-1", "straße@example.com", t, &u, &d), ROSTER_E_OK);
    ck_assert_str_ne(u->id, a->id);

    /* In one group: delete, then take the same reference and email; and
     * create then delete (the create's queued entries must go too). */
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__DeleteUserRequest dr = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    dr.id = u->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    cr.reference = "ref-1";
    cr.email = "strasse@example.com";
    cr.tenant_id = t;
    Roster__V1__User *again, *gone;
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &again, &d), ROSTER_E_OK);
    cr.reference = "ref-tmp";
    cr.email = "tmp@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &gone, &d), ROSTER_E_OK);
    dr.id = gone->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_NOT_FOUND);
    /* Created, updated and deleted in the same group. */
    cr.reference = "ref-tmp2";
    cr.email = "tmp2@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &gone, &d), ROSTER_E_OK);
    Roster__V1__UpdateUserRequest ur = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    ur.id = gone->id;
    ur.first_name = "Temp";
    ck_assert_int_eq(store_user_update(w, NULL, &ur, &fx_arena, NULL, &d), ROSTER_E_OK);
    dr.id = gone->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(get_user(gone->id), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(get_user(again->id), ROSTER_E_OK);
    ck_assert_int_eq(count_email("tmp@x.io"), 0);
    ck_assert_int_eq(count_email("STRASSE@example.com"), 1);
    store_stats st = stats();
    ck_assert_uint_eq(st.users, 1);
    ck_assert_uint_eq(entries_of(&st, "idx_first_name"), 1);
    ck_assert_int_eq(tenant_count(t), 1);
    verify_clean();

    /* A group that is aborted keeps the user. */
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    dr.id = again->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    store_write_abort(w);
    ck_assert_int_eq(get_user(again->id), ROSTER_E_OK);
    ck_assert_int_eq(tenant_count(t), 1);
    verify_clean();
}
END_TEST

START_TEST(user_delete_scoped)
{
    char *t1 = fx_tenant("T1", false), *t2 = fx_tenant("T2", false);
    roster_uuid s1;
    roster_uuid_parse(&s1, t1, 36);
    Roster__V1__User *mine = mk_user("r1", "a@x.io", t1, -1, NULL);
    Roster__V1__User *theirs = mk_user("r2", "b@x.io", t2, -1, NULL);
    Roster__V1__User *none = mk_user("r3", "c@x.io", NULL, -1, NULL);
    roster_err_detail d = {0};
    ck_assert_int_eq(del_user(&s1, theirs->id, &d), ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.field, "id");
    ck_assert_int_eq(del_user(&s1, none->id, &d), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(get_user(theirs->id), ROSTER_E_OK);
    ck_assert_int_eq(get_user(none->id), ROSTER_E_OK);
    ck_assert_int_eq(del_user(&s1, mine->id, &d), ROSTER_E_OK);
    ck_assert_int_eq(tenant_count(t1), 0);
    ck_assert_int_eq(tenant_count(t2), 1);
    verify_clean();
}
END_TEST

/* Pages close up over deleted users, through every plan: the id order of
 * one tenant (idx_tenant), a sort index, and the counters' totalCount. */
START_TEST(pages_after_delete)
{
    char *t = fx_tenant("T", false);
    char ids[30][37];
    for (int i = 0; i < 30; i++) {
        char ref[16], email[32], first[16];
        snprintf(ref, sizeof ref, "r%02d", i);
        snprintf(email, sizeof email, "u%02d@x.io", i);
        snprintf(first, sizeof first, "N%02d", 29 - i);
        strcpy(ids[i], mk_user(ref, email, t, -1, first)->id);
    }
    roster_err_detail d = {0};
    for (int i = 5; i < 30; i += 10)
        ck_assert_int_eq(del_user(NULL, ids[i], &d), ROSTER_E_OK);
    bool gone[30] = {false};
    gone[5] = gone[15] = gone[25] = true;

    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__IdFilter tf = ROSTER__V1__ID_FILTER__INIT;
    tf.equal_to = t;
    f.tenant_id = &tf;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_sort = o.has_order = 1;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    for (int pass = 0; pass < 2; pass++) {
        /* Pass 0: createdAt ascending; pass 1: firstName ascending, which
         * is the reverse creation order. */
        o.sort = pass == 0 ? ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT
                           : ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME;
        int want[27], n = 0;
        for (int i = 0; i < 30; i++) {
            int k = pass == 0 ? i : 29 - i;
            if (!gone[k])
                want[n++] = k;
        }
        store_rtxn *r;
        ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
        for (int off = 0; off < 30; off += 10) {
            Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
            req.filter = &f;
            req.order = &o;
            req.has_limit = req.has_offset = 1;
            req.limit = 10;
            req.offset = off;
            Roster__V1__ListUsersResponse *resp;
            ck_assert_int_eq(store_user_list(r, NULL, &req, &fx_arena, &resp, NULL), ROSTER_E_OK);
            ck_assert_int_eq(resp->total_count, 27);
            int expect = off + 10 <= 27 ? 10 : 27 - off;
            ck_assert_int_eq((int)resp->n_users, expect);
            for (int i = 0; i < expect; i++)
                ck_assert_str_eq(resp->users[i]->id, ids[want[off + i]]);
        }
        store_read_end(r);
    }
    ck_assert_int_eq(tenant_count(t), 27);
    verify_clean();
}
END_TEST

/* In a bulk group a delete writes straight into the group's transaction;
 * a refused one leaves the group going. */
START_TEST(bulk_group_delete)
{
    char *t = fx_tenant("T", false);
    Roster__V1__User *a = mk_user("ra", "a@x.io", t, -1, NULL);
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin_bulk(fx_store, &w), ROSTER_E_OK);
    roster_err_detail d = {0};
    Roster__V1__DeleteUserRequest dr = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    dr.id = "0190b3c2-7d1e-7a00-8000-0000000000aa";
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_NOT_FOUND);
    dr.id = a->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    cr.reference = "ra";
    cr.email = "A@x.io";
    cr.tenant_id = t;
    Roster__V1__User *b;
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &b, &d), ROSTER_E_OK);
    dr.id = b->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    /* A tenant refused in a bulk group leaves the group going too. */
    Roster__V1__CreateUserRequest c2 = cr;
    c2.reference = "rc";
    c2.email = "c@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &c2, &fx_arena, &b, &d), ROSTER_E_OK);
    Roster__V1__DeleteTenantRequest tr = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
    tr.id = t;
    ck_assert_int_eq(store_tenant_delete(w, NULL, &tr, &fx_arena, NULL, &d),
                     ROSTER_E_FAILED_PRECONDITION);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    store_stats st = stats();
    ck_assert_uint_eq(st.users, 1);
    ck_assert_int_eq(tenant_count(t), 1);
    verify_clean();
}
END_TEST

/* ------------------------------------------------------------ tenants */

static char *mk_key(const char *tenant)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
    req.name = "k";
    req.tenant_id = (char *)tenant;
    req.has_role = 1;
    req.role = ROSTER__V1__ROLE__ROLE_WRITER;
    Roster__V1__KeySecret *ks;
    ck_assert_int_eq(store_key_create(w, &req, &fx_arena, &ks, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    return ks->key->id;
}

START_TEST(tenant_delete_refusals)
{
    char *t = fx_tenant("Gone Ltd", true);
    char *other = fx_tenant("Other", false);
    roster_uuid so;
    roster_uuid_parse(&so, other, 36);
    Roster__V1__User *u = mk_user("r", "a@x.io", t, 0, NULL); /* deactivated */
    char *key = mk_key(t);
    roster_err_detail d = {0};

    ck_assert_int_eq(del_tenant(NULL, "nope", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "id");
    ck_assert_int_eq(del_tenant(NULL, NULL, &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(del_tenant(NULL, "0190b3c2-7d1e-7a00-8000-0000000000aa", &d),
                     ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.field, "id");
    /* A scoped caller deletes no tenant, its own neither. */
    ck_assert_int_eq(del_tenant(&so, other, &d), ROSTER_E_PERMISSION_DENIED);
    ck_assert_int_eq(del_tenant(&so, t, &d), ROSTER_E_PERMISSION_DENIED);
    /* Users first (a deactivated one counts), then the default mark, then
     * keys that are not revoked. */
    ck_assert_int_eq(del_tenant(NULL, t, &d), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_str_eq(d.field, "id");
    ck_assert_ptr_nonnull(strstr(d.message, "1 user"));
    ck_assert_int_eq(del_user(NULL, u->id, &d), ROSTER_E_OK);
    ck_assert_int_eq(del_tenant(NULL, t, &d), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(d.message, "default"));
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__UpdateTenantRequest up = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    up.id = t;
    up.has_is_default = 1;
    up.is_default = 0;
    ck_assert_int_eq(store_tenant_update(w, NULL, &up, &fx_arena, NULL, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(del_tenant(NULL, t, &d), ROSTER_E_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(d.message, key));
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__RevokeKeyRequest rk = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
    rk.id = key;
    Roster__V1__ApiKey *k;
    ck_assert_int_eq(store_key_revoke(w, &rk, &fx_arena, &k, NULL), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);

    store_stats before = stats();
    ck_assert_int_eq(del_tenant(NULL, t, &d), ROSTER_E_OK);
    store_stats after = stats();
    ck_assert_uint_eq(after.tenants, 1);
    ck_assert_uint_eq(entries_of(&after, "tenant_name"), entries_of(&before, "tenant_name") - 1);
    /* Its counter went with it: only the global one and Other's... which
     * never had users, so only the global counter is left. */
    ck_assert_uint_eq(entries_of(&after, "counts"), entries_of(&before, "counts") - 1);
    ck_assert_int_eq(del_tenant(NULL, t, &d), ROSTER_E_NOT_FOUND);
    /* Nothing can be put into it any more. */
    Roster__V1__User *nu;
    ck_assert_int_eq(fx_user(NULL, "r9", "z@x.io", t, &nu, &d), ROSTER_E_NOT_FOUND);
    ck_assert_str_eq(d.field, "tenantId");
    /* The revoked key still names it, and verify accepts that. */
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    Roster__V1__GetKeyRequest gk = ROSTER__V1__GET_KEY_REQUEST__INIT;
    gk.id = key;
    ck_assert_int_eq(store_key_get(r, &gk, &fx_arena, &k, NULL), ROSTER_E_OK);
    ck_assert_str_eq(k->tenant_id, t);
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    Roster__V1__ListTenantsResponse *page;
    ck_assert_int_eq(store_tenant_list(r, NULL, &lt, &fx_arena, &page, NULL), ROSTER_E_OK);
    ck_assert_int_eq(page->total_count, 1);
    ck_assert_str_eq(page->tenants[0]->id, other);
    store_read_end(r);
    verify_clean();
}
END_TEST

/* Whether a tenant has users is decided with the group's own earlier
 * operations counted: creates whose entries are still queued, users moved
 * out, users deleted. */
START_TEST(tenant_delete_in_one_group)
{
    char *keep = fx_tenant("Keep", false);
    store_wtxn *w;
    roster_err_detail d = {0};
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "Brief";
    Roster__V1__Tenant *t;
    ck_assert_int_eq(store_tenant_create(w, NULL, &ct, &fx_arena, &t, &d), ROSTER_E_OK);
    Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    cr.reference = "r1";
    cr.email = "a@x.io";
    cr.tenant_id = t->id;
    Roster__V1__User *a, *b;
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &a, &d), ROSTER_E_OK);
    cr.reference = "r2";
    cr.email = "b@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &b, &d), ROSTER_E_OK);
    Roster__V1__DeleteTenantRequest tr = ROSTER__V1__DELETE_TENANT_REQUEST__INIT;
    tr.id = t->id;
    ck_assert_int_eq(store_tenant_delete(w, NULL, &tr, &fx_arena, NULL, &d),
                     ROSTER_E_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(d.message, "2 user"));
    Roster__V1__DeleteUserRequest dr = ROSTER__V1__DELETE_USER_REQUEST__INIT;
    dr.id = a->id;
    ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_tenant_delete(w, NULL, &tr, &fx_arena, NULL, &d),
                     ROSTER_E_FAILED_PRECONDITION);
    ck_assert_ptr_nonnull(strstr(d.message, "1 user"));
    Roster__V1__UpdateUserRequest ur = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    ur.id = b->id;
    ur.tenant_id = keep;
    ck_assert_int_eq(store_user_update(w, NULL, &ur, &fx_arena, NULL, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_tenant_delete(w, NULL, &tr, &fx_arena, NULL, &d), ROSTER_E_OK);
    /* The same id restored and given a user later in the group. */
    Roster__V1__Tenant again = *t;
    again.name = "Brief again";
    ck_assert_int_eq(store_tenant_restore(w, &again, &d), ROSTER_E_OK);
    cr.reference = "r3";
    cr.email = "c@x.io";
    ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &a, &d), ROSTER_E_OK);
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    ck_assert_int_eq(tenant_count(t->id), 1);
    ck_assert_int_eq(tenant_count(keep), 1);
    store_stats st = stats();
    ck_assert_uint_eq(st.users, 2);
    verify_clean();
}
END_TEST

/* ------------------------------------------------------------ verify */

/* Runs fn on the store's environment behind its back (the store closed). */
static void plant(void (*fn)(MDB_txn *, MDB_env *))
{
    store_close(fx_store);
    fx_store = NULL;
    MDB_env *env;
    MDB_txn *txn;
    ck_assert_int_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 32);
    ck_assert_int_eq(mdb_env_open(env, fx_dir, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    fn(txn, env);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    fx_open();
}

static void put_stray_counter(MDB_txn *txn, MDB_env *env)
{
    (void)env;
    MDB_dbi dbi;
    ck_assert_int_eq(mdb_dbi_open(txn, "counts", 0, &dbi), 0);
    uint8_t k[17] = {'t', 0x01, 0x90, 0xb3};
    uint64_t v[2] = {0, 0};
    MDB_val kv = {sizeof k, k}, vv = {sizeof v, v};
    ck_assert_int_eq(mdb_put(txn, dbi, &kv, &vv, 0), 0);
}

static void drop_first_user_record(MDB_txn *txn, MDB_env *env)
{
    (void)env;
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val k, v;
    ck_assert_int_eq(mdb_dbi_open(txn, "users", 0, &dbi), 0);
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
    ck_assert_int_eq(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
    ck_assert_int_eq(mdb_cursor_del(c, 0), 0);
    mdb_cursor_close(c);
}

static void count_kind(void *ctx, const store_issue *is)
{
    int *n = ctx;
    n[is->kind]++;
}

static void verify_counts(int *kinds, uint64_t *issues)
{
    store_rtxn *r;
    ck_assert_int_eq(store_read_begin(fx_store, &r), ROSTER_E_OK);
    ck_assert_int_eq(store_verify(r, count_kind, kinds, issues), ROSTER_E_OK);
    store_read_end(r);
}

START_TEST(verify_reports_what_a_delete_must_not_leave)
{
    char *t = fx_tenant("T", false);
    mk_user("r1", "a@x.io", t, -1, "Ann");
    mk_user("r2", "b@x.io", t, -1, "Bob");
    verify_clean();
    /* A counter of a tenant that does not exist. */
    plant(put_stray_counter);
    int kinds[16] = {0};
    uint64_t issues = 0;
    verify_counts(kinds, &issues);
    ck_assert_uint_eq(issues, 1);
    ck_assert_int_eq(kinds[STORE_ISSUE_STALE_ENTRY], 1);
}
END_TEST

START_TEST(verify_reports_entries_of_a_vanished_user)
{
    char *t = fx_tenant("T", false);
    mk_user("r1", "a@x.io", t, -1, "Ann");
    mk_user("r2", "b@x.io", t, -1, "Bob");
    /* A record removed without its entries: every entry it owned is stale,
     * so is its created event (it still holds the user's personal data),
     * and the counters disagree. */
    plant(drop_first_user_record);
    int kinds[16] = {0};
    uint64_t issues = 0;
    verify_counts(kinds, &issues);
    ck_assert_int_eq(kinds[STORE_ISSUE_STALE_ENTRY], USER_ENTRIES_FOR_TEST + 1);
    ck_assert_int_ge(kinds[STORE_ISSUE_COUNT_MISMATCH], 1);
}
END_TEST

/* ------------------------------------------------------------ compaction */

/* Occurrences of `needle` anywhere in the bytes of file `path`. */
static size_t count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    size_t hits = 0, len = strlen(needle);
    for (char *p = buf; (p = memmem(p, (size_t)n - (size_t)(p - buf), needle, len)) != NULL;
         p += len)
        hits++;
    free(buf);
    return hits;
}

static char data_path[300];

/* Files in fx_dir besides data.mdb and lock.mdb. */
static int stray_files(void)
{
    DIR *dir = opendir(fx_dir);
    ck_assert_ptr_nonnull(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "data.mdb") &&
            strcmp(e->d_name, "lock.mdb")) {
            fprintf(stderr, "stray file %s\n", e->d_name);
            n++;
        }
    closedir(dir);
    return n;
}

/* 3,000 users, every third marked in its reference, email and first
 * name; the marked ones deleted in one transaction. */
#define N_COMPACT 3000
static char compact_ids[N_COMPACT][37];

static void fill_and_delete(const char *tenant)
{
    store_wtxn *w;
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < N_COMPACT; i++) {
        char ref[48], email[64], first[48];
        bool gone = i % 3 == 0;
        snprintf(ref, sizeof ref, "ref%05d%s", i, gone ? "-ERASEDREF" : "");
        snprintf(email, sizeof email, "u%05d%s@example.com", i, gone ? "-erasedmail" : "-kept");
        snprintf(first, sizeof first, "Name%05d%s", i, gone ? "ERASEDNAME" : "");
        Roster__V1__CreateUserRequest cr = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        cr.reference = ref;
        cr.email = email;
        cr.first_name = first;
        cr.tenant_id = (char *)tenant;
        Roster__V1__User *u;
        ck_assert_int_eq(store_user_create(w, NULL, &cr, &fx_arena, &u, NULL), ROSTER_E_OK);
        strcpy(compact_ids[i], u->id);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    roster_arena_reset(&fx_arena);
    ck_assert_int_eq(store_write_begin(fx_store, &w), ROSTER_E_OK);
    for (int i = 0; i < N_COMPACT; i += 3) {
        Roster__V1__DeleteUserRequest dr = ROSTER__V1__DELETE_USER_REQUEST__INIT;
        dr.id = compact_ids[i];
        ck_assert_int_eq(store_user_delete(w, NULL, &dr, &fx_arena, NULL, NULL), ROSTER_E_OK);
    }
    ck_assert_int_eq(store_write_commit(w), ROSTER_E_OK);
    snprintf(data_path, sizeof data_path, "%s/data.mdb", fx_dir);
}

START_TEST(compact_erases_deleted_users)
{
    char *t = fx_tenant("T", false);
    fill_and_delete(t);
    store_stats before = stats();
    ck_assert_uint_eq(before.users, 2000);
    /* the pages the deleting transaction replaced are on the free list */
    ck_assert_uint_gt(before.free_bytes, 0);
    ck_assert_uint_lt(before.free_bytes, before.used_bytes);
    verify_clean();
    store_close(fx_store);
    fx_store = NULL;
    /* Deleted from every index at commit, but the pages that transaction
     * replaced still hold the bytes (nothing has written since). */
    ck_assert_uint_gt(count_in_file(data_path, "-erasedmail@"), 0);

    store_compact_stats cs = {0};
    roster_err_detail d = {0};
    ck_assert_msg(store_compact(fx_dir, &cs, &d) == ROSTER_E_OK, "%s", d.message);
    ck_assert_uint_gt(cs.bytes_before, cs.bytes_after);
    ck_assert_uint_gt(cs.entries, 2000);
    ck_assert_int_eq(stray_files(), 0);
    struct stat st;
    ck_assert_int_eq(stat(data_path, &st), 0);
    ck_assert_uint_eq((uint64_t)st.st_size, cs.bytes_after);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    /* Not a byte of a deleted user: not in freed pages, not in the unused
     * part of a page, not as a branch page's separator key. */
    ck_assert_uint_eq(count_in_file(data_path, "-erasedmail@"), 0);
    ck_assert_uint_eq(count_in_file(data_path, "ERASEDREF"), 0);
    ck_assert_uint_eq(count_in_file(data_path, "ERASEDNAME"), 0);
    /* Every live user is: the record, the unique entry, the sort entries. */
    ck_assert_uint_ge(count_in_file(data_path, "-kept@example.com"), 4 * 2000);

    fx_open();
    store_stats after = stats();
    ck_assert_uint_eq(after.users, 2000);
    ck_assert_uint_lt(after.free_bytes, before.free_bytes);
    ck_assert_uint_eq(after.tenants, 1);
    for (size_t i = 0; i < before.n_dbs; i++)
        ck_assert_uint_eq(entries_of(&after, before.dbs[i].name), before.dbs[i].entries);
    verify_clean();
    ck_assert_int_eq(tenant_count(t), 2000);
    ck_assert_int_eq(get_user(compact_ids[1]), ROSTER_E_OK);
    ck_assert_int_eq(get_user(compact_ids[0]), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(count_email("u00001-kept@example.com"), 1);
    /* It is written to as before: a deleted email is free. */
    Roster__V1__User *u;
    ck_assert_int_eq(fx_user(NULL, "ref00000", "u00000-erasedmail@example.com", t, &u, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(del_user(NULL, compact_ids[2], NULL), ROSTER_E_OK);
    verify_clean();
}
END_TEST

/* A process holding the store open: compaction is refused, naming it,
 * and changes nothing. */
START_TEST(compact_refused_while_open)
{
    char *t = fx_tenant("T", false);
    mk_user("r1", "a@x.io", t, -1, NULL);
    store_close(fx_store);
    fx_store = NULL;
    snprintf(data_path, sizeof data_path, "%s/data.mdb", fx_dir);
    struct stat before;
    ck_assert_int_eq(stat(data_path, &before), 0);

    int up[2], down[2];
    ck_assert_int_eq(pipe(up), 0);
    ck_assert_int_eq(pipe(down), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        store *s = NULL;
        store_options o = {.read_only = true};
        char c = store_open(&s, fx_dir, &o) == ROSTER_E_OK ? 'y' : 'n';
        if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
            _exit(2);
        store_close(s);
        _exit(0);
    }
    char c = 0;
    ck_assert_int_eq(read(up[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    roster_err_detail d = {0};
    ck_assert_int_eq(store_compact(fx_dir, NULL, &d), ROSTER_E_FAILED_PRECONDITION);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "pid %ld", (long)pid);
    ck_assert_msg(strstr(d.message, pid_text) != NULL, "%s", d.message);
    ck_assert_ptr_nonnull(strstr(d.message, "stop roster-users"));
    struct stat after;
    ck_assert_int_eq(stat(data_path, &after), 0);
    ck_assert_uint_eq(after.st_ino, before.st_ino);
    ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    ck_assert_int_eq(stray_files(), 0);
    ck_assert_int_eq(write(down[1], "x", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Once it is gone, compaction runs. */
    ck_assert_int_eq(store_compact(fx_dir, NULL, &d), ROSTER_E_OK);
    fx_open();
    verify_clean();
}
END_TEST

/* A compaction that fails halfway (here: the file size limit) leaves
 * data.mdb as it was and no temporary file behind. */
START_TEST(compact_failure_leaves_the_store)
{
    char *t = fx_tenant("T", false);
    fill_and_delete(t);
    store_close(fx_store);
    fx_store = NULL;
    struct stat before;
    ck_assert_int_eq(stat(data_path, &before), 0);
    size_t marks = count_in_file(data_path, "-erasedmail@");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Root is bound by RLIMIT_FSIZE too; writes past it fail EFBIG. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {64 * 1024, 64 * 1024};
        setrlimit(RLIMIT_FSIZE, &rl);
        roster_err_detail d = {0};
        int err = store_compact(fx_dir, NULL, &d);
        fprintf(stderr, "expected failure: %s\n", d.message);
        _exit(err == ROSTER_E_OK ? 1 : err == ROSTER_E_IO ? 0 : 3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    struct stat after;
    ck_assert_int_eq(stat(data_path, &after), 0);
    ck_assert_uint_eq(after.st_ino, before.st_ino);
    ck_assert_uint_eq(after.st_size, before.st_size);
    ck_assert_uint_eq(count_in_file(data_path, "-erasedmail@"), marks);
    ck_assert_int_eq(stray_files(), 0);
    fx_open();
    verify_clean();
    ck_assert_uint_eq(stats().users, 2000);
}
END_TEST

/* A process that opens the store while compaction runs waits for it and
 * then reads the new file: not the old lock state with the new file (the
 * lock file is emptied, and store_open opens again). */
START_TEST(open_waits_for_compact)
{
    char *t = fx_tenant("T", false);
    fill_and_delete(t);
    store_close(fx_store);
    fx_store = NULL;
    char lock_path[300];
    snprintf(lock_path, sizeof lock_path, "%s/lock.mdb", fx_dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(store_compact(fx_dir, NULL, NULL) == ROSTER_E_OK ? 0 : 1);
    /* Wait until the child holds the exclusive lock (or is done). */
    int fd = open(lock_path, O_RDWR);
    bool seen = false;
    for (int i = 0; i < 20000 && !seen; i++) {
        struct flock q = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
        if (fd >= 0 && fcntl(fd, F_GETLK, &q) == 0 && q.l_type == F_WRLCK && q.l_pid == pid)
            seen = true;
        else if (waitpid(pid, NULL, WNOHANG) == pid) {
            pid = -1;
            break;
        } else
            usleep(100);
    }
    if (fd >= 0)
        close(fd);
    fx_open(); /* blocks while the child holds the lock */
    if (pid > 0) {
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    fprintf(stderr, "open_waits_for_compact: the open %s the compaction\n",
            seen ? "waited for" : "came after");
    ck_assert_uint_eq(stats().users, 2000);
    verify_clean();
    ck_assert_uint_eq(count_in_file(data_path, "-erasedmail@"), 0);
    ck_assert_int_eq(fx_user(NULL, "r-new", "new@example.com", t, NULL, NULL), ROSTER_E_OK);
    verify_clean();
}
END_TEST

START_TEST(compact_refuses_what_is_not_a_store)
{
    roster_err_detail d = {0};
    char empty[256];
    fx_mkdtemp(empty, sizeof empty, "/tmp/roster-compact-empty-");
    ck_assert_int_eq(store_compact(empty, NULL, &d), ROSTER_E_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(d.message, "no data.mdb"));
    /* An LMDB environment that is not a Roster store. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 4);
    ck_assert_int_eq(mdb_env_open(env, empty, 0, 0640), 0);
    ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "other", MDB_CREATE, &dbi), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    ck_assert_int_eq(store_compact(empty, NULL, &d), ROSTER_E_CORRUPT);
    ck_assert_ptr_nonnull(strstr(d.message, "not a Roster store"));
    fx_rmdir(empty);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_delete");
    TCase *tc = tcase_create("delete");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
    tcase_add_test(tc, user_delete_removes_every_entry);
    tcase_add_test(tc, user_delete_frees_reference_and_email);
    tcase_add_test(tc, user_delete_scoped);
    tcase_add_test(tc, pages_after_delete);
    tcase_add_test(tc, bulk_group_delete);
    tcase_add_test(tc, tenant_delete_refusals);
    tcase_add_test(tc, tenant_delete_in_one_group);
    tcase_add_test(tc, verify_reports_what_a_delete_must_not_leave);
    tcase_add_test(tc, verify_reports_entries_of_a_vanished_user);
    tcase_add_test(tc, compact_erases_deleted_users);
    tcase_add_test(tc, compact_refused_while_open);
    tcase_add_test(tc, compact_failure_leaves_the_store);
    tcase_add_test(tc, open_waits_for_compact);
    tcase_add_test(tc, compact_refuses_what_is_not_a_store);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
