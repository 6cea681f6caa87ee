/* The model table against roster.proto: every field joins to a protobuf
 * field of the record message, names convert both ways, enum values are
 * found in both GraphQL forms. */
#include "model.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static void check_joins(const model_record *r)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *f = &r->fields[i];
        const ProtobufCFieldDescriptor *pb = model_pb_field(r, f);
        ck_assert_msg(pb != NULL, "%s.%s has no protobuf field", r->name, f->name);
        ck_assert_msg(model_name_eq(pb->name, f->name, strlen(f->name)), "%s.%s joined to %s",
                      r->name, f->name, pb->name);
        bool want_bool = f->type == MODEL_T_BOOL, want_date = f->type == MODEL_T_DATE;
        ck_assert_int_eq(pb->type == PROTOBUF_C_TYPE_BOOL, want_bool);
        ck_assert_int_eq(pb->type == PROTOBUF_C_TYPE_INT64, want_date);
        if (!want_bool && !want_date)
            ck_assert_int_eq(pb->type, PROTOBUF_C_TYPE_STRING);
        ck_assert_ptr_eq(model_field_named(r, f->name, strlen(f->name)), f);
    }
    ck_assert_ptr_null(model_field_named(r, "nope", 4));
}

START_TEST(fields_join_descriptors)
{
    check_joins(&model_user);
    check_joins(&model_tenant);
    ck_assert_int_eq(model_user.n_fields, MODEL_USER__COUNT);
    ck_assert_str_eq(model_user.fields[MODEL_USER_firstName].name, "firstName");
}
END_TEST

START_TEST(names_convert)
{
    char buf[64];
    ck_assert(model_name_eq("first_name", "firstName", 9));
    ck_assert(model_name_eq("i_like", "iLike", 5));
    ck_assert(!model_name_eq("first_name", "firstname", 9));
    ck_assert(!model_name_eq("first_name", "firstNam", 8));
    ck_assert(!model_name_eq("id", "idx", 3));
    ck_assert_uint_eq(model_camel_name(buf, sizeof buf, "two_factor_enabled"), 16);
    ck_assert_str_eq(buf, "twoFactorEnabled");
    ck_assert_uint_eq(model_snake_name(buf, sizeof buf, "lessThanEqual", 13), 15);
    ck_assert_str_eq(buf, "less_than_equal");
    ck_assert_uint_eq(model_camel_name(buf, 4, "is_opted_in"), 9);
    ck_assert_str_eq(buf, "isO");
}
END_TEST

START_TEST(enum_values)
{
    const ProtobufCEnumDescriptor *e = &roster__v1__user_sort_field__descriptor;
    const ProtobufCEnumValue *v = model_enum_value(e, "CREATED_AT", 10);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->value, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT);
    ck_assert_ptr_eq(model_enum_value(e, "createdAt", 9), v);
    ck_assert_str_eq(model_enum_short_name(e, v), "CREATED_AT");
    ck_assert_ptr_null(model_enum_value(e, "UNSPECIFIED", 11));
    ck_assert_ptr_null(model_enum_value(e, "created_at", 10));
    ck_assert_ptr_null(model_enum_value(e, "reference", 9));
    const ProtobufCEnumDescriptor *o = &roster__v1__sort_order__descriptor;
    ck_assert_int_eq(model_enum_value(o, "DESC", 4)->value,
                     ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC);
}
END_TEST

/* Sortable and searchable fields are exactly the values of the sort and
 * search-key enums. */
static void check_enum_flag(const model_record *r, const ProtobufCEnumDescriptor *e, unsigned flag)
{
    size_t flagged = 0;
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *f = &r->fields[i];
        if (!(f->flags & flag))
            continue;
        flagged++;
        ck_assert_msg(model_enum_value(e, f->name, strlen(f->name)) != NULL, "%s.%s not in %s",
                      r->name, f->name, e->name);
    }
    ck_assert_uint_eq(flagged, e->n_values - 1);
}

START_TEST(flags_match_enums)
{
    check_enum_flag(&model_user, &roster__v1__user_sort_field__descriptor, MODEL_SORTABLE);
    check_enum_flag(&model_user, &roster__v1__user_search_key__descriptor, MODEL_SEARCHABLE);
    check_enum_flag(&model_tenant, &roster__v1__tenant_sort_field__descriptor, MODEL_SORTABLE);
}
END_TEST

/* A request joins to the record by name; values are reached, copied and
 * cleared through the descriptors. */
START_TEST(join_and_values)
{
    model_join j;
    model_join_init(&j, &model_user, &roster__v1__update_user_request__descriptor);
    ck_assert_ptr_eq(j.r, &model_user);
    ck_assert_ptr_nonnull(j.fields[MODEL_USER_firstName]);
    ck_assert_str_eq(j.fields[MODEL_USER_firstName]->name, "first_name");
    ck_assert_ptr_null(j.fields[MODEL_USER_reference]); /* not updatable */
    ck_assert_ptr_null(j.fields[MODEL_USER_createdAt]);

    model_join uj;
    model_join_init(&uj, &model_user, &roster__v1__user__descriptor);
    for (size_t i = 0; i < model_user.n_fields; i++)
        ck_assert_ptr_eq(uj.fields[i], model_pb_field(&model_user, &model_user.fields[i]));

    Roster__V1__UpdateUserRequest req = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    const ProtobufCFieldDescriptor *fn = j.fields[MODEL_USER_firstName],
                                   *act = j.fields[MODEL_USER_active];
    ck_assert(!model_pb_has(&req.base, fn));
    ck_assert(!model_pb_has(&req.base, act));
    ck_assert_ptr_null(model_pb_ptr(&req.base, fn));
    req.first_name = "Ann";
    req.has_active = 1;
    req.active = 0;
    ck_assert(model_pb_has(&req.base, fn));
    ck_assert(model_pb_has(&req.base, act));
    ck_assert_str_eq(model_pb_ptr(&req.base, fn), "Ann");

    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.active = 1;
    model_pb_copy(&u.base, uj.fields[MODEL_USER_firstName], &req.base, fn);
    model_pb_copy(&u.base, uj.fields[MODEL_USER_active], &req.base, act);
    ck_assert_ptr_eq(u.first_name, req.first_name);
    ck_assert_int_eq(u.has_active, 1);
    ck_assert_int_eq(u.active, 0);
    u.has_created_at = 1;
    u.created_at = 42;
    Roster__V1__User v = ROSTER__V1__USER__INIT;
    model_pb_copy(&v.base, uj.fields[MODEL_USER_createdAt], &u.base,
                  uj.fields[MODEL_USER_createdAt]);
    ck_assert_int_eq(v.has_created_at, 1);
    ck_assert_int_eq(v.created_at, 42);
    /* Copying an absent value makes the target absent. */
    model_pb_copy(&u.base, uj.fields[MODEL_USER_active], &v.base, uj.fields[MODEL_USER_active]);
    ck_assert_int_eq(u.has_active, 0);

    model_pb_clear(&u.base, uj.fields[MODEL_USER_firstName]);
    model_pb_clear(&u.base, uj.fields[MODEL_USER_createdAt]);
    ck_assert_ptr_null(u.first_name);
    ck_assert_int_eq(u.has_created_at, 0);
    ck_assert_int_eq(u.created_at, 0);

    ck_assert_uint_eq(req.n_clear, 0);
    const ProtobufCFieldDescriptor *clear =
        protobuf_c_message_descriptor_get_field_by_name(req.base.descriptor, "clear");
    ck_assert(!model_pb_has(&req.base, clear));
    Roster__V1__UserField cl[] = {ROSTER__V1__USER_FIELD__USER_FIELD_PHONE};
    req.n_clear = 1;
    req.clear = cl;
    ck_assert(model_pb_has(&req.base, clear));
}
END_TEST

/* Required fields must not be empty; every flag combination is one the
 * store understands. */
START_TEST(flags_consistent)
{
    const model_record *rs[] = {&model_user, &model_tenant};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < rs[k]->n_fields; i++) {
            const model_field *f = &rs[k]->fields[i];
            if (f->flags & MODEL_REQUIRED)
                ck_assert_msg(f->flags & MODEL_NONEMPTY, "%s.%s", rs[k]->name, f->name);
            if (f->flags & MODEL_CLEARABLE)
                ck_assert_msg(f->flags & MODEL_UPDATABLE, "%s.%s", rs[k]->name, f->name);
            if (f->flags & MODEL_SERVER_SET)
                ck_assert_msg(!(f->flags & (MODEL_UPDATABLE | MODEL_REQUIRED)), "%s.%s",
                              rs[k]->name, f->name);
            if (f->flags & (MODEL_REQUIRED | MODEL_UNIQUE | MODEL_SEARCHABLE))
                ck_assert_msg(f->type != MODEL_T_BOOL && f->type != MODEL_T_DATE, "%s.%s",
                              rs[k]->name, f->name);
            if (f->type == MODEL_T_BOOL || f->type == MODEL_T_DATE)
                ck_assert_uint_eq(f->max_len, 0);
            else
                ck_assert_uint_gt(f->max_len, 0);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, fields_join_descriptors);
    tcase_add_test(tc, names_convert);
    tcase_add_test(tc, enum_values);
    tcase_add_test(tc, flags_match_enums);
    tcase_add_test(tc, join_and_values);
    tcase_add_test(tc, flags_consistent);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
