/* Fields of protobuf-c messages read and written through their
 * descriptors. */
#include "pbfield.h"

#include "roster.pb-c.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, const char *name)
{
    const ProtobufCFieldDescriptor *f = ctl_pbfield_named(d, name, strlen(name));
    ck_assert_msg(f != NULL, "no field %s", name);
    return f;
}

START_TEST(names_are_graphql_names)
{
    const ProtobufCMessageDescriptor *u = &roster__v1__user__descriptor;
    ck_assert_str_eq(field(u, "firstName")->name, "first_name");
    ck_assert_str_eq(field(u, "twoFactorEnabled")->name, "two_factor_enabled");
    ck_assert_ptr_null(ctl_pbfield_named(u, "first_name", 10));
    ck_assert_ptr_null(ctl_pbfield_named(u, "firstNam", 8));
    ck_assert_str_eq(field(&roster__v1__string_filter__descriptor, "iLike")->name, "i_like");
    char name[64];
    const ProtobufCEnumDescriptor *e = &roster__v1__user_sort_field__descriptor;
    ck_assert_str_eq(
        ctl_pbfield_enum_name(name, sizeof name, e, protobuf_c_enum_descriptor_get_value(e, 2)),
        "createdAt");
}
END_TEST

START_TEST(scalars_and_strings)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    const ProtobufCMessageDescriptor *d = &roster__v1__user__descriptor;
    const ProtobufCFieldDescriptor *email = field(d, "email"), *active = field(d, "active"),
                                   *created = field(d, "createdAt");
    ck_assert(!ctl_pbfield_has(&u.base, email));
    ck_assert(!ctl_pbfield_has(&u.base, active));
    ctl_pbfield_set_str(&u.base, email, "a@b.c");
    ctl_pbfield_set_int(&u.base, active, 1);
    ctl_pbfield_set_int(&u.base, created, 1764217490123LL);
    ck_assert_str_eq(u.email, "a@b.c");
    ck_assert(u.has_active && u.active);
    ck_assert(u.has_created_at && u.created_at == 1764217490123LL);
    ck_assert_str_eq(ctl_pbfield_str(&u.base, email), "a@b.c");
    ck_assert_int_eq(ctl_pbfield_int(&u.base, created), 1764217490123LL);
    ctl_pbfield_clear(&u.base, email);
    ctl_pbfield_clear(&u.base, active);
    ck_assert_ptr_null(u.email);
    ck_assert(!u.has_active);
    ck_assert_int_eq(ctl_pbfield_int(&u.base, active), 0);

    /* Copied by name into a request of another type. */
    Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
    u.first_name = "Ann";
    u.has_is_opted_in = u.is_opted_in = 1;
    const ProtobufCMessageDescriptor *rd = &roster__v1__create_user_request__descriptor;
    ctl_pbfield_copy(&req.base, field(rd, "firstName"), &u.base, field(d, "firstName"));
    ctl_pbfield_copy(&req.base, field(rd, "isOptedIn"), &u.base, field(d, "isOptedIn"));
    ctl_pbfield_copy(&req.base, field(rd, "email"), &u.base, email);
    ck_assert_ptr_eq(req.first_name, u.first_name);
    ck_assert(req.has_is_opted_in && req.is_opted_in);
    ck_assert_ptr_null(req.email);
}
END_TEST

START_TEST(sub_messages_and_lists)
{
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__UserFilter uf = ROSTER__V1__USER_FILTER__INIT;
    const ProtobufCFieldDescriptor *tid = field(&roster__v1__user_filter__descriptor, "tenantId");
    ck_assert(!ctl_pbfield_has(&uf.base, tid));
    ProtobufCMessage *idf = ctl_pbfield_message(&uf.base, tid, &arena);
    ck_assert_ptr_nonnull(idf);
    ck_assert_ptr_eq(idf, &uf.tenant_id->base);
    ck_assert_ptr_eq(ctl_pbfield_message(&uf.base, tid, &arena), idf); /* reused */
    ProtobufCMessage *list =
        ctl_pbfield_message(idf, field(&roster__v1__id_filter__descriptor, "valueIn"), &arena);
    char *values[] = {"a", "b"};
    ctl_pbfield_set_strs(list, field(&roster__v1__string_list__descriptor, "values"), values, 2);
    ck_assert_uint_eq(uf.tenant_id->value_in->n_values, 2);
    ck_assert_str_eq(uf.tenant_id->value_in->values[1], "b");
    roster_arena_free(&arena);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_pbfield");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, names_are_graphql_names);
    tcase_add_test(tc, scalars_and_strings);
    tcase_add_test(tc, sub_messages_and_lists);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
