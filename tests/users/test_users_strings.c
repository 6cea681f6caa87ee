/* Integration: strings at the service, over raw RPC to the real
 * roster-users. A string with an embedded NUL in any field of any request
 * (protobuf-c would hand it over cut at the NUL), invalid UTF-8 in the
 * text of writes and an avatarUrl that is not an absolute http(s) URL are
 * INVALID_ARGUMENT naming the field, and leave the store unchanged; emails
 * differing only by Unicode case are duplicates. */
#include "daemon.h"
#include "roster_limits.h"
#include "rpc_method.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every test gets a fresh roster-users on a temporary directory and a
 * client to it; the daemon must stop cleanly. */
static test_daemon fx_d;
static rpc_client *fx_c;

static void fx_up(void)
{
    daemon_mkdir(&fx_d);
    daemon_start(&fx_d, NULL, NULL);
    fx_c = daemon_client(&fx_d);
}

static void fx_down(void)
{
    rpc_client_close(fx_c);
    fx_c = NULL;
    ck_assert_int_eq(daemon_stop(&fx_d, SIGTERM), 0);
    daemon_rmdir(&fx_d);
}

/* "first_name" -> "firstName" into out. */
static void camel(char *out, size_t cap, const char *name)
{
    size_t i = 0;
    for (int up = 0; *name != '\0' && i + 1 < cap; name++) {
        if (*name == '_') {
            up = 1;
            continue;
        }
        out[i++] = up ? (char)(*name - 'a' + 'A') : *name;
        up = 0;
    }
    out[i] = '\0';
}

/* Packs m, turns every '#' of the packed bytes into a NUL (string lengths
 * on the wire stay what they were) and sends it as method m_name. */
static int call_with_nul(rpc_client *c, const char *m_name, const ProtobufCMessage *m, call_res *r)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    protobuf_c_message_pack(m, buf);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '#')
            buf[i] = '\0';
    int code = call_raw_sync(c, m_name, buf, n, 5000, r);
    free(buf);
    return code;
}

static const char *m_name_of(rpc_method_id id)
{
    return rpc_method_get(id)->name;
}

static int64_t count(rpc_client *c, rpc_method_id id)
{
    call_res r;
    int64_t n;
    if (id == RPC_LIST_USERS) {
        Roster__V1__ListUsersRequest q = ROSTER__V1__LIST_USERS_REQUEST__INIT;
        ck_assert_int_eq(call_sync(c, id, &q.base, 5000, NULL, &r), 0);
        n = ((Roster__V1__ListUsersResponse *)r.reply)->total_count;
    } else {
        Roster__V1__ListTenantsRequest q = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
        ck_assert_int_eq(call_sync(c, id, &q.base, 5000, NULL, &r), 0);
        n = ((Roster__V1__ListTenantsResponse *)r.reply)->total_count;
    }
    call_res_free(&r);
    return n;
}

/* Every top-level string field of every method's request, one at a time,
 * and the nested string fields of the list filters. */
START_TEST(nul_in_any_string_field)
{
    rpc_client *c = fx_c;
    call_res r;
    int64_t users = count(c, RPC_LIST_USERS), tenants = count(c, RPC_LIST_TENANTS);
    size_t checked = 0;
    char *value = "nul#tail";
    char *values[1] = {value};

    for (int id = 0; id < RPC_METHOD__COUNT; id++) {
        const rpc_method *m = rpc_method_get((rpc_method_id)id);
        const ProtobufCMessageDescriptor *desc = m->request;
        for (unsigned i = 0; i < desc->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &desc->fields[i];
            if (f->type != PROTOBUF_C_TYPE_STRING)
                continue;
            ProtobufCMessage *msg = calloc(1, desc->sizeof_message);
            ck_assert_ptr_nonnull(msg);
            desc->message_init(msg);
            if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                *(size_t *)(void *)((char *)msg + f->quantifier_offset) = 1;
                *(char ***)(void *)((char *)msg + f->offset) = values;
            } else {
                *(char **)(void *)((char *)msg + f->offset) = value;
            }
            char want[64];
            camel(want, sizeof want, f->name);
            ck_assert_msg(call_with_nul(c, m->name, msg, &r) == 3, "%s %s: code %d", m->short_name,
                          f->name, r.code);
            ck_assert_str_eq(r.field, want);
            ck_assert_ptr_nonnull(strstr(r.message, "contains a NUL character"));
            call_res_free(&r);
            free(msg);
            checked++;
        }
    }
    ck_assert_uint_ge(checked, 30);

    /* With every other field valid, the cut value would have been stored. */
    Roster__V1__CreateUserRequest cu = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    cu.reference = value;
    cu.email = "ada@example.com";
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_CREATE_USER), &cu.base, &r), 3);
    ck_assert_str_eq(r.field, "reference");
    ck_assert_str_eq(r.message, "reference contains a NUL character");
    cu.reference = "ada";
    cu.email = "ada@example.com#x";
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_CREATE_USER), &cu.base, &r), 3);
    ck_assert_str_eq(r.field, "email");
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "Acme#Evil";
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_CREATE_TENANT), &ct.base, &r), 3);
    ck_assert_str_eq(r.field, "name");

    /* Filters: the path names the nested field. */
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    sf.equal_to = value;
    Roster__V1__UserFilter uf = ROSTER__V1__USER_FILTER__INIT;
    uf.reference = &sf;
    Roster__V1__ListUsersRequest lu = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    lu.filter = &uf;
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_USERS), &lu.base, &r), 3);
    ck_assert_str_eq(r.field, "filter.reference.equalTo");
    sf.equal_to = NULL;
    sf.i_like = "%a#";
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_USERS), &lu.base, &r), 3);
    ck_assert_str_eq(r.field, "filter.reference.iLike");
    Roster__V1__StringList sl = ROSTER__V1__STRING_LIST__INIT;
    sl.n_values = 1;
    sl.values = values;
    Roster__V1__StringFilter ef = ROSTER__V1__STRING_FILTER__INIT;
    ef.value_in = &sl;
    uf.reference = NULL;
    uf.email = &ef;
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_USERS), &lu.base, &r), 3);
    ck_assert_str_eq(r.field, "filter.email.valueIn.values");
    uf.email = NULL;
    Roster__V1__IdFilter idf = ROSTER__V1__ID_FILTER__INIT;
    idf.equal_to = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b#";
    uf.reference = NULL;
    uf.tenant_id = &idf;
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_USERS), &lu.base, &r), 3);
    ck_assert_str_eq(r.field, "filter.tenantId.equalTo");
    Roster__V1__StringFilter tsf = ROSTER__V1__STRING_FILTER__INIT;
    tsf.not_equal_to = value;
    Roster__V1__TenantFilter tf = ROSTER__V1__TENANT_FILTER__INIT;
    tf.name = &tsf;
    Roster__V1__ListTenantsRequest lt = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    lt.filter = &tf;
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_TENANTS), &lt.base, &r), 3);
    ck_assert_str_eq(r.field, "filter.name.notEqualTo");
    Roster__V1__UserSearch us = ROSTER__V1__USER_SEARCH__INIT;
    us.value = value;
    Roster__V1__ListUsersRequest ls = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ls.search = &us;
    ck_assert_int_eq(call_with_nul(c, m_name_of(RPC_LIST_USERS), &ls.base, &r), 3);
    ck_assert_str_eq(r.field, "search.value");

    ck_assert_int_eq(count(c, RPC_LIST_USERS), users);
    ck_assert_int_eq(count(c, RPC_LIST_TENANTS), tenants);
    /* The same request without the NUL goes through. */
    ct.name = "Acme";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 0);
    call_res_free(&r);
}
END_TEST

static int create(rpc_client *c, Roster__V1__CreateUserRequest *u, call_res *r)
{
    int code = call_sync(c, RPC_CREATE_USER, &u->base, 5000, NULL, r);
    call_res_free(r);
    return code;
}

START_TEST(utf8_and_avatar_url)
{
    rpc_client *c = fx_c;
    call_res r;
    Roster__V1__CreateTenantRequest ct = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    ct.name = "Acme\xc3";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "name");
    ck_assert_str_eq(r.message, "name is not valid UTF-8");
    ct.name = "Acme";
    ct.reference = "\xed\xa0\x80"; /* a UTF-16 surrogate */
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "reference");
    ct.reference = NULL;
    ct.has_is_default = ct.is_default = 1;
    ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &ct.base, 5000, NULL, &r), 0);
    call_res_free(&r);

    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.reference = "ada";
    u.email = "ada@example.com";
    u.first_name = "Ad\xff";
    ck_assert_int_eq(create(c, &u, &r), 3);
    ck_assert_str_eq(r.field, "firstName");
    u.first_name = NULL;
    u.email = "ad\xc0\xa1@example.com"; /* overlong */
    ck_assert_int_eq(create(c, &u, &r), 3);
    ck_assert_str_eq(r.field, "email");
    u.email = "ada@example.com";

    static const char *const bad[] = {"javascript:alert(1)",
                                      "JavaScript:alert(1)",
                                      "data:image/png;base64,iVBORw0KGgo=",
                                      "/avatars/ada.png",
                                      "avatars/ada.png",
                                      "//cdn.example.com/ada.png",
                                      "https://",
                                      "http://cdn example.com/a.png",
                                      "https://cdn.example.com/a\x01.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        u.avatar_url = (char *)bad[i];
        ck_assert_msg(create(c, &u, &r) == 3, "%s accepted", bad[i]);
        ck_assert_str_eq(r.field, "avatarUrl");
    }
    u.avatar_url = "javascript:alert(1)";
    ck_assert_int_eq(create(c, &u, &r), 3);
    ck_assert_str_eq(r.message, "avatarUrl must be an absolute http:// or https:// URL");
    ck_assert_int_eq(count(c, RPC_LIST_USERS), 0);

    u.avatar_url = "HTTPS://cdn.example.com/ada.png";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);
    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = id;
    up.avatar_url = "data:text/html,<script>alert(1)</script>";
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 5000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "avatarUrl");
    up.avatar_url = NULL;
    up.last_name = "\xf4\x90\x80\x80"; /* past U+10FFFF */
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 5000, NULL, &r), 3);
    ck_assert_str_eq(r.field, "lastName");
    up.last_name = NULL;
    up.avatar_url = "http://img.example.com/a.png";
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 5000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__User *)r.reply)->avatar_url, "http://img.example.com/a.png");
    call_res_free(&r);
    free(id);
}
END_TEST

/* Emails that differ only by Unicode case (full folding: ß is ss) are
 * duplicates through create and update; refusals name email and change
 * nothing. */
START_TEST(email_unicode_case_duplicates)
{
    rpc_client *c = fx_c;
    call_res r;
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.reference = "e1";
    u.email = "\xc3\xa9lodie@example.com"; /* élodie */
    ck_assert_int_eq(create(c, &u, &r), 0);
    u.reference = "e2";
    u.email = "\xc3\x89LODIE@example.com"; /* ÉLODIE */
    ck_assert_int_eq(create(c, &u, &r), 6);
    ck_assert_str_eq(r.field, "email");
    u.email = "E\xcc\x81lodie@example.com"; /* E + combining acute */
    ck_assert_int_eq(create(c, &u, &r), 6);
    ck_assert_str_eq(r.field, "email");
    u.reference = "s1";
    u.email = "STRASSE@example.com";
    ck_assert_int_eq(call_sync(c, RPC_CREATE_USER, &u.base, 5000, NULL, &r), 0);
    char *id = strdup(((Roster__V1__User *)r.reply)->id);
    call_res_free(&r);
    u.reference = "s2";
    u.email = "stra\xc3\x9f"
              "e@example.com"; /* straße */
    ck_assert_int_eq(create(c, &u, &r), 6);
    ck_assert_str_eq(r.field, "email");
    ck_assert_int_eq(count(c, RPC_LIST_USERS), 2);

    Roster__V1__UpdateUserRequest up = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    up.id = id;
    up.email = "\xc3\x89lodie@EXAMPLE.com";
    up.first_name = "Changed";
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 5000, NULL, &r), 6);
    ck_assert_str_eq(r.field, "email");
    Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
    g.id = id;
    ck_assert_int_eq(call_sync(c, RPC_GET_USER, &g.base, 5000, NULL, &r), 0);
    ck_assert_str_eq(((Roster__V1__User *)r.reply)->email, "STRASSE@example.com");
    ck_assert_ptr_null(((Roster__V1__User *)r.reply)->first_name);
    call_res_free(&r);
    up.email = "Stra\xc3\x9f"
               "e@example.com"; /* its own email in another case */
    ck_assert_int_eq(call_sync(c, RPC_UPDATE_USER, &up.base, 5000, NULL, &r), 0);
    call_res_free(&r);
    free(id);
}
END_TEST

/* Total of ListUsers with filter {email: {equalTo: email}}. */
static int64_t users_with_email(rpc_client *c, const char *email)
{
    Roster__V1__ListUsersRequest q = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
    q.filter = &f;
    f.email = &sf;
    sf.equal_to = (char *)email;
    call_res r;
    ck_assert_int_eq(call_sync(c, RPC_LIST_USERS, &q.base, 5000, NULL, &r), 0);
    int64_t n = ((Roster__V1__ListUsersResponse *)r.reply)->total_count;
    call_res_free(&r);
    return n;
}

/* email.equalTo finds a user by any spelling its uniqueness calls the
 * same (Unicode full case folding, then NFC), and by no other. */
START_TEST(email_equal_to_folds_unicode_case)
{
    rpc_client *c = fx_c;
    call_res r;
    Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.reference = "e1";
    u.email = "\xc3\xa9lodie.stra\xc3\x9f"
              "e@example.com"; /* élodie.straße */
    ck_assert_int_eq(create(c, &u, &r), 0);
    u.reference = "e2";
    u.email = "other@example.com";
    ck_assert_int_eq(create(c, &u, &r), 0);
    static const char *const same[] = {
        "\xc3\xa9lodie.stra\xc3\x9f"
        "e@example.com",
        "\xc3\x89LODIE.STRASSE@EXAMPLE.COM",  /* ÉLODIE.STRASSE */
        "E\xcc\x81lodie.Strasse@Example.com", /* E + combining acute */
        "\xc3\xa9lodie.stra\xe1\xba\x9e"
        "e@example.com", /* capital sharp s */
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        ck_assert_msg(users_with_email(c, same[i]) == 1, "equalTo %s", same[i]);
    ck_assert_int_eq(users_with_email(c, "elodie.strasse@example.com"), 0);
    ck_assert_int_eq(users_with_email(c, "OTHER@example.COM"), 1);
}
END_TEST

/* Tenant name LIKE and iLike with a pattern that is a backtracking
 * matcher's worst case (many '%' before a missing last character: a retry
 * per '%' per position) against names of the longest length answer within
 * a short deadline and with the right counts. */
START_TEST(tenant_like_hostile_pattern)
{
    rpc_client *c = fx_c;
    call_res r;
    char name[ROSTER_MAX_NAME + 1];
    memset(name, 'a', ROSTER_MAX_NAME);
    name[ROSTER_MAX_NAME] = '\0';
    for (int i = 0; i < 20; i++) {
        Roster__V1__CreateTenantRequest t = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
        name[0] = (char)('A' + i);
        t.name = name;
        ck_assert_int_eq(call_sync(c, RPC_CREATE_TENANT, &t.base, 5000, NULL, &r), 0);
        call_res_free(&r);
    }
    char hostile[ROSTER_MAX_PATTERN + 1];
    size_t i;
    for (i = 0; i + 3 <= ROSTER_MAX_PATTERN - 1; i += 2)
        memcpy(hostile + i, "%a", 2);
    strcpy(hostile + i, "b");
    struct {
        const char *like;
        bool ci;
        int64_t want;
    } cases[] = {{hostile, false, 0}, {hostile, true, 0}, {"B%a_a%a", false, 1}, {"%A%", true, 20}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        Roster__V1__ListTenantsRequest q = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
        Roster__V1__TenantFilter f = ROSTER__V1__TENANT_FILTER__INIT;
        Roster__V1__StringFilter sf = ROSTER__V1__STRING_FILTER__INIT;
        q.filter = &f;
        f.name = &sf;
        if (cases[k].ci)
            sf.i_like = (char *)cases[k].like;
        else
            sf.like = (char *)cases[k].like;
        ck_assert_int_eq(call_sync(c, RPC_LIST_TENANTS, &q.base, 2000, NULL, &r), 0);
        ck_assert_msg(((Roster__V1__ListTenantsResponse *)r.reply)->total_count == cases[k].want,
                      "case %zu", k);
        call_res_free(&r);
    }
}
END_TEST

static Suite *strings_suite(void)
{
    Suite *s = suite_create("roster-users strings");
    TCase *tc = tcase_create("strings");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, fx_up, fx_down);
    tcase_add_test(tc, nul_in_any_string_field);
    tcase_add_test(tc, utf8_and_avatar_url);
    tcase_add_test(tc, email_unicode_case_duplicates);
    tcase_add_test(tc, email_equal_to_folds_unicode_case);
    tcase_add_test(tc, tenant_like_hostile_pattern);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, strings_suite());
}
