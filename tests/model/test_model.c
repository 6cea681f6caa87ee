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

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, fields_join_descriptors);
    tcase_add_test(tc, names_convert);
    tcase_add_test(tc, enum_values);
    tcase_add_test(tc, flags_match_enums);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
