/* Users and tenants as GraphQL-named JSON, both ways. */
#include "record.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static char *dump(const json_t *o)
{
    return json_dumps(o, JSON_COMPACT);
}

static json_t *to_json(const model_record *r, const ProtobufCMessage *m, bool typename)
{
    json_t *o = NULL;
    ck_assert_int_eq(ctl_record_json(&o, r, m, typename), ROSTER_E_OK);
    return o;
}

START_TEST(user_fields_in_schema_order)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = "0190b1c4-0000-7000-8000-000000000001";
    u.reference = "r1";
    u.email = "ann@acme.com";
    u.first_name = "Ann";
    u.has_active = 1;
    u.active = 1;
    u.custom_data = "{\"b\":1,\"a\":[true]}";
    u.has_created_at = 1;
    u.created_at = 1764217490123;
    u.has_updated_at = 1;
    u.updated_at = 1764217490124;
    json_t *o = to_json(&model_user, &u.base, true);
    char *s = dump(o);
    ck_assert_str_eq(
        s,
        "{\"__typename\":\"UserModel\",\"id\":\"0190b1c4-0000-7000-8000-000000000001\","
        "\"reference\":\"r1\",\"email\":\"ann@acme.com\",\"firstName\":\"Ann\","
        "\"lastName\":null,\"phone\":null,\"locale\":null,\"timezone\":null,"
        "\"isOptedIn\":null,\"active\":true,\"avatarUrl\":null,"
        "\"customData\":{\"b\":1,\"a\":[true]},\"twoFactorEnabled\":null,\"tenantId\":null,"
        "\"createdAt\":\"2025-11-27T04:24:50.123Z\",\"updatedAt\":\"2025-11-27T04:24:50.124Z\"}");
    free(s);

    /* And back: every field survives. */
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__User back;
    roster_err_detail d = {{0}};
    ck_assert_int_eq(ctl_record_from_json(&back.base, &model_user, o, NULL, &arena, &d),
                     ROSTER_E_OK);
    ck_assert_str_eq(back.id, u.id);
    ck_assert_str_eq(back.email, u.email);
    ck_assert_ptr_null(back.last_name);
    ck_assert(back.has_active && back.active);
    ck_assert(!back.has_is_opted_in);
    ck_assert_str_eq(back.custom_data, "{\"b\":1,\"a\":[true]}");
    ck_assert_int_eq(back.created_at, u.created_at);
    ck_assert_int_eq(back.updated_at, u.updated_at);
    json_t *again = to_json(&model_user, &back.base, true);
    char *s1 = dump(o), *s2 = dump(again);
    ck_assert_str_eq(s1, s2);
    free(s1);
    free(s2);
    json_decref(again);
    json_decref(o);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(tenant_fields)
{
    Roster__V1__Tenant t = ROSTER__V1__TENANT__INIT;
    t.id = "0190b1c4-0000-7000-8000-0000000000aa";
    t.name = "Acme";
    t.has_created_at = t.has_updated_at = 1;
    t.created_at = t.updated_at = 0;
    json_t *o = to_json(&model_tenant, &t.base, false);
    char *s = dump(o);
    ck_assert_str_eq(s, "{\"id\":\"0190b1c4-0000-7000-8000-0000000000aa\",\"name\":\"Acme\","
                        "\"reference\":null,\"isDefault\":false,"
                        "\"createdAt\":\"1970-01-01T00:00:00.000Z\","
                        "\"updatedAt\":\"1970-01-01T00:00:00.000Z\"}");
    free(s);
    json_decref(o);
    /* user_count is not a field of the model: the tenants commands add
     * "users" themselves. */
    t.has_user_count = 1;
    t.user_count = 7;
    t.has_is_default = t.is_default = 1;
    o = to_json(&model_tenant, &t.base, true);
    ck_assert_ptr_null(json_object_get(o, "users"));
    ck_assert(json_is_true(json_object_get(o, "isDefault")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "__typename")), "TenantModel");
    json_object_set_new(o, "users", json_pack("{s:i}", "totalCount", 7));
    Roster__V1__Tenant back;
    roster_err_detail d = {{0}};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    static const char *const ignored[] = {"users", NULL};
    ck_assert_int_eq(ctl_record_from_json(&back.base, &model_tenant, o, ignored, &arena, &d),
                     ROSTER_E_OK);
    ck_assert(back.has_is_default && back.is_default);
    ck_assert_str_eq(back.name, "Acme");
    ck_assert_int_eq(ctl_record_from_json(&back.base, &model_tenant, o, NULL, &arena, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, "users");
    roster_arena_free(&arena);
    json_decref(o);
}
END_TEST

static void reject(const char *text, const char *field, const char *needle, bool tenant)
{
    json_t *o = json_loads(text, JSON_ALLOW_NUL, NULL);
    ck_assert_ptr_nonnull(o);
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    roster_err_detail d = {{0}};
    int err;
    if (tenant) {
        Roster__V1__Tenant t;
        err = ctl_record_from_json(&t.base, &model_tenant, o, NULL, &arena, &d);
    } else {
        Roster__V1__User u;
        err = ctl_record_from_json(&u.base, &model_user, o, NULL, &arena, &d);
    }
    ck_assert_int_eq(err, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(d.field, field);
    ck_assert_msg(strstr(d.message, needle) != NULL, "'%s' lacks '%s'", d.message, needle);
    json_decref(o);
    roster_arena_free(&arena);
}

START_TEST(bad_json_fields)
{
    reject("{\"email\":5}", "email", "must be a string", false);
    reject("{\"active\":\"yes\"}", "active", "true, false or null", false);
    reject("{\"createdAt\":\"yesterday\"}", "createdAt", "ISO-8601", false);
    reject("{\"customData\":[1]}", "customData", "JSON object", false);
    reject("{\"colour\":\"red\"}", "colour", "unknown UserModel field", false);
    reject("{\"email\":\"a\\u0000b\"}", "email", "NUL", false);
    reject("{\"isDefault\":1}", "isDefault", "true, false or null", true);
    reject("{\"email\":\"x\"}", "email", "unknown TenantModel field", true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_record");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, user_fields_in_schema_order);
    tcase_add_test(tc, tenant_fields);
    tcase_add_test(tc, bad_json_fields);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
