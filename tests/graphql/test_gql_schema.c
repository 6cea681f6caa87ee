/* Schema building from SDL, lookups and custom scalar hooks. */
#include "gql_test_util.h"

static int build_err(const char *sdl, const char *want)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_schema *s = NULL;
    int rc = gql_schema_build(&s, &e, sdl, strlen(sdl));
    ck_assert_int_ne(rc, ROSTER_E_OK);
    ck_assert_ptr_null(s);
    int found = 0;
    for (gql_error *x = e.head; x; x = x->next)
        if (strstr(x->message, want))
            found = 1;
    if (!found && e.head)
        fprintf(stderr, "got: %s\n", e.head->message);
    gql_errors_free(&e);
    return found;
}

START_TEST(project_schema)
{
    gql_schema *s = tu_schema();
    ck_assert_ptr_nonnull(s->query);
    ck_assert_ptr_nonnull(s->mutation);
    ck_assert_ptr_null(s->subscription);
    const gql_type *u = gql_schema_type(s, "UserModel", 9);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_eq(u->kind, GQL_KIND_OBJECT);
    ck_assert_uint_eq(u->n_fields, 18);
    const gql_field *f = gql_type_field(u, "tenant", 6);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_eq(f->type, &gql_schema_type(s, "TenantModel", 11)->self);
    ck_assert_int_eq(f->has_description, 0);
    f = gql_type_field(u, "reference", 9);
    ck_assert_int_eq(f->has_description, 1);
    ck_assert_int_eq(f->type->kind, GQL_KIND_NON_NULL);
    /* Wrapped types are shared: every "ID!" is the same object. */
    const gql_field *uid = gql_type_field(u, "id", 2);
    const gql_field *tid = gql_type_field(gql_schema_type(s, "TenantModel", 11), "id", 2);
    ck_assert_ptr_eq(uid->type, tid->type);
    /* Built-in scalars exist only when referenced, as in graphql-js. */
    ck_assert_ptr_null(gql_schema_type(s, "Float", 5));
    ck_assert_ptr_nonnull(gql_schema_type(s, "Int", 3));
    ck_assert_ptr_nonnull(gql_schema_type(s, "__Type", 6));
    const gql_type *sort = gql_schema_type(s, "UserOrderSortEnum", 17);
    ck_assert_uint_eq(sort->n_values, 18);
    ck_assert_ptr_nonnull(gql_type_enum_value(sort, "CREATED_AT", 10));
    const gql_type *dto = gql_schema_type(s, "UserCreateDto", 13);
    ck_assert_uint_eq(dto->n_input_fields, 13);
    ck_assert_ptr_nonnull(gql_schema_directive(s, "skip", 4));
    ck_assert_ptr_nonnull(gql_schema_directive(s, "deprecated", 10));
    /* Field ids are dense and unique. */
    uint8_t *seen = calloc(s->n_fields, 1);
    for (uint32_t i = 0; i < s->n_types; i++)
        for (uint32_t j = 0; j < s->types[i]->n_fields; j++) {
            uint32_t id = s->types[i]->fields[j].id;
            ck_assert_uint_lt(id, s->n_fields);
            ck_assert_int_eq(seen[id], 0);
            seen[id] = 1;
        }
    free(seen);
    gql_buf b;
    gql_buf_init(&b);
    gql_wtype_print(&b, gql_type_field(gql_schema_type(s, "UserPageModel", 13), "data", 4)->type);
    ck_assert_int_eq((int)b.len, 13);
    ck_assert(memcmp(b.data, "[UserModel!]!", 13) == 0);
    gql_buf_free(&b);
    gql_schema_free(s);
    gql_schema_free(NULL);
}
END_TEST

START_TEST(schema_errors)
{
    ck_assert(build_err("type Query { a: Nope }", "Unknown type \"Nope\"."));
    ck_assert(build_err("type Query { a: Int } type Query { b: Int }",
                        "There can be only one type named \"Query\"."));
    ck_assert(build_err("interface I { a: Int } type Query { a: Int }",
                        "Interface types are not supported"));
    ck_assert(build_err("union U = Query type Query { a: Int }", "Union types are not supported"));
    ck_assert(build_err("type Foo { a: Int }", "Query root type must be provided."));
    ck_assert(build_err("input I { a: Int } type Query { a(x: Query): I }", "must be Input Type"));
    ck_assert(build_err("type Query { a: Int a: Int }", "can only be defined once"));
    ck_assert(build_err("type Query { a: Int } extend type Query { b: Int }",
                        "Type extensions are not supported"));
    ck_assert(build_err("type Query { a: Int ", "Syntax Error"));
    ck_assert(build_err("type __Bad { a: Int } type Query { a: Int }", "reserved"));
    ck_assert(
        build_err("type Query { a: Int } { a }", "Schema documents may not contain operations"));
}
END_TEST

START_TEST(schema_definition_and_descriptions)
{
    const char *sdl = "\"The root\" schema { query: Root mutation: Mut }\n"
                      "type Root { \"A field\" a(x: Int = 3): Float @deprecated(reason: \"old\") "
                      "}\n"
                      "type Mut { m: Boolean }\n"
                      "scalar Url @specifiedBy(url: \"https://example.com\")\n"
                      "type Other { u: Url }\n";
    gql_errors e;
    gql_errors_init(&e);
    gql_schema *s;
    ck_assert_int_eq(gql_schema_build(&s, &e, sdl, strlen(sdl)), ROSTER_E_OK);
    ck_assert(s->query == gql_schema_type(s, "Root", 4));
    ck_assert(s->mutation == gql_schema_type(s, "Mut", 3));
    ck_assert_int_eq(s->has_description, 1);
    const gql_field *a = gql_type_field(s->query, "a", 1);
    ck_assert_int_eq(a->deprecated, 1);
    ck_assert_int_eq(a->deprecation_reason.len, 3);
    ck_assert_ptr_nonnull(a->args[0].default_value);
    ck_assert_int_eq(gql_schema_type(s, "Url", 3)->specified_by.len, 19);
    ck_assert_ptr_nonnull(gql_schema_type(s, "Float", 5));
    ck_assert_int_eq(gql_schema_set_scalar(s, "Nope", &(gql_scalar_hooks){0}), ROSTER_E_NOT_FOUND);
    ck_assert_int_eq(gql_schema_set_scalar(s, "Int", &(gql_scalar_hooks){0}), ROSTER_E_NOT_FOUND);
    gql_schema_free(s);
    gql_errors_free(&e);
}
END_TEST

START_TEST(date_and_json_object_hooks)
{
    gql_schema *s = tu_schema();
    const gql_type *date = gql_schema_type(s, "Date", 4);
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    gql_value in = {.kind = GQL_VALUE_STRING};
    in.u.string.ptr = "2026-11-27T04:24:50.123Z";
    in.u.string.len = 24;
    gql_value out;
    const char *msg = NULL;
    ck_assert_int_eq(date->hooks.coerce_input(&out, &in, &a, &msg, NULL), ROSTER_E_OK);
    ck_assert_int_eq(out.kind, GQL_VALUE_INT);
    ck_assert(out.u.integer == 1795753490123LL);
    in.u.string.ptr = "yesterday";
    in.u.string.len = 9;
    ck_assert_int_ne(date->hooks.coerce_input(&out, &in, &a, &msg, NULL), ROSTER_E_OK);
    ck_assert_ptr_nonnull(strstr(msg, "ISO-8601"));
    gql_buf b;
    gql_buf_init(&b);
    gql_jw w;
    gql_jw_init(&w, &b, 0);
    gql_result r = gql_r_int(1795753490123LL);
    ck_assert_int_eq(date->hooks.serialize(&w, &r, &msg, NULL), ROSTER_E_OK);
    ck_assert_int_eq((int)b.len, 26);
    ck_assert(memcmp(b.data, "\"2026-11-27T04:24:50.123Z\"", 26) == 0);
    r = gql_r_bool(1);
    ck_assert_int_ne(date->hooks.serialize(&w, &r, &msg, NULL), ROSTER_E_OK);
    const gql_type *jo = gql_schema_type(s, "JsonObject", 10);
    gql_value list = {.kind = GQL_VALUE_LIST};
    ck_assert_int_ne(jo->hooks.coerce_input(&out, &list, &a, &msg, NULL), ROSTER_E_OK);
    gql_buf_clear(&b);
    r = gql_r_raw_json(" {\"a\":1}", 8);
    ck_assert_int_eq(jo->hooks.serialize(&w, &r, &msg, NULL), ROSTER_E_OK);
    r = gql_r_raw_json("[1]", 3);
    ck_assert_int_ne(jo->hooks.serialize(&w, &r, &msg, NULL), ROSTER_E_OK);
    gql_buf_free(&b);
    roster_arena_free(&a);
    gql_schema_free(s);
}
END_TEST

/* Date strings from resolvers: the output form passes through once it
 * parses, other ISO-8601 forms are normalised, impossible dates fail even
 * in the output form's layout. */
START_TEST(date_serialize_strings)
{
    gql_schema *s = tu_schema();
    const gql_type *date = gql_schema_type(s, "Date", 4);
    static const struct {
        const char *in;
        const char *out; /* NULL: refused */
    } cases[] = {
        {"2026-11-27T04:24:50.123Z", "\"2026-11-27T04:24:50.123Z\""},
        {"2026-11-27t04:24:50.123z", "\"2026-11-27T04:24:50.123Z\""},
        {"2026-11-27T06:24:50.1+02:00", "\"2026-11-27T04:24:50.100Z\""},
        {"2026-11-27T04:24:50Z", "\"2026-11-27T04:24:50.000Z\""},
        {"2024-02-29T00:00:00.000Z", "\"2024-02-29T00:00:00.000Z\""},
        {"2026-02-29T00:00:00.000Z", NULL},
        {"2026-11-27T24:00:00.000Z", NULL},
        {"2026-13-01T00:00:00.000Z", NULL},
        {"2026-11-27T04:24:60.000Z", NULL},
        {"2026-11-27T04:24:5x.000Z", NULL},
    };
    gql_buf b;
    gql_buf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gql_jw w;
        gql_buf_clear(&b);
        gql_jw_init(&w, &b, 0);
        gql_result r = gql_r_string(cases[i].in, strlen(cases[i].in));
        const char *msg = NULL;
        int rc = date->hooks.serialize(&w, &r, &msg, NULL);
        if (cases[i].out == NULL) {
            ck_assert_msg(rc != ROSTER_E_OK, "%s accepted", cases[i].in);
            ck_assert_str_eq(msg, "Date cannot represent an invalid date-time string.");
            continue;
        }
        ck_assert_msg(rc == ROSTER_E_OK, "%s refused", cases[i].in);
        ck_assert_int_eq((int)b.len, (int)strlen(cases[i].out));
        ck_assert_msg(memcmp(b.data, cases[i].out, b.len) == 0, "%s gave %.*s", cases[i].in,
                      (int)b.len, b.data);
    }
    gql_buf_free(&b);
    gql_schema_free(s);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_schema");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, project_schema);
    tcase_add_test(tc, schema_errors);
    tcase_add_test(tc, schema_definition_and_descriptions);
    tcase_add_test(tc, date_and_json_object_hooks);
    tcase_add_test(tc, date_serialize_strings);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
