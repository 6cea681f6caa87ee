/* Introspection: __schema, __type, __typename and the full query that
 * graphql-js getIntrospectionQuery() produces. */
#include "gql_test_util.h"

static gql_schema *schema;
static gql_resolvers *res;

static void setup(void)
{
    schema = tu_schema();
    ck_assert_int_eq(gql_resolvers_new(&res, schema), ROSTER_E_OK);
}

static void teardown(void)
{
    gql_resolvers_free(res);
    gql_schema_free(schema);
}

static const char *full_query =
    "query IntrospectionQuery {\n"
    "  __schema {\n"
    "    queryType { name }\n"
    "    mutationType { name }\n"
    "    subscriptionType { name }\n"
    "    types { ...FullType }\n"
    "    directives { name description locations args { ...InputValue } }\n"
    "  }\n"
    "}\n"
    "fragment FullType on __Type {\n"
    "  kind name description\n"
    "  fields(includeDeprecated: true) {\n"
    "    name description args { ...InputValue } type { ...TypeRef }\n"
    "    isDeprecated deprecationReason\n"
    "  }\n"
    "  inputFields { ...InputValue }\n"
    "  interfaces { ...TypeRef }\n"
    "  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }\n"
    "  possibleTypes { ...TypeRef }\n"
    "}\n"
    "fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }\n"
    "fragment TypeRef on __Type {\n"
    "  kind name\n"
    "  ofType { kind name ofType { kind name ofType { kind name ofType { kind name\n"
    "    ofType { kind name ofType { kind name ofType { kind name } } } } } } }\n"
    "}\n";

static json_t *run_json(const char *q)
{
    tu_result r;
    char *body = tu_run(schema, res, q, NULL, NULL, &r);
    ck_assert_uint_eq(r.n_errors, 0);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    ck_assert_ptr_nonnull(j);
    free(body);
    return j;
}

static json_t *find_named(json_t *arr, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        if (json_is_string(json_object_get(t, "name")) &&
            strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    }
    return NULL;
}

START_TEST(full_introspection_query)
{
    json_t *j = run_json(full_query);
    json_t *s = json_object_get(json_object_get(j, "data"), "__schema");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "queryType"), "name")),
                     "Query");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "mutationType"), "name")),
                     "Mutation");
    ck_assert(json_is_null(json_object_get(s, "subscriptionType")));
    json_t *types = json_object_get(s, "types");
    ck_assert_uint_eq(json_array_size(types), 41);
    json_t *user = find_named(types, "UserModel");
    ck_assert_ptr_nonnull(user);
    ck_assert_str_eq(json_string_value(json_object_get(user, "kind")), "OBJECT");
    ck_assert_uint_eq(json_array_size(json_object_get(user, "fields")), 18);
    ck_assert_uint_eq(json_array_size(json_object_get(user, "interfaces")), 0);
    ck_assert(json_is_null(json_object_get(user, "inputFields")));
    ck_assert(json_is_null(json_object_get(user, "enumValues")));
    json_t *ref = find_named(json_object_get(user, "fields"), "reference");
    ck_assert_str_eq(json_string_value(json_object_get(ref, "description")),
                     "The caller's own identifier for this user, unique within a tenant (users "
                     "without a tenant share one scope).");
    /* UserPageModel.data: [UserModel!]! */
    json_t *page = find_named(types, "UserPageModel");
    json_t *t = json_object_get(find_named(json_object_get(page, "fields"), "data"), "type");
    ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "NON_NULL");
    t = json_object_get(t, "ofType");
    ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "LIST");
    t = json_object_get(t, "ofType");
    ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "NON_NULL");
    t = json_object_get(t, "ofType");
    ck_assert_str_eq(json_string_value(json_object_get(t, "name")), "UserModel");
    ck_assert(json_is_null(json_object_get(t, "ofType")));
    /* Enums and input objects. */
    json_t *sort = find_named(types, "UserOrderSortEnum");
    ck_assert_uint_eq(json_array_size(json_object_get(sort, "enumValues")), 18);
    json_t *dto = find_named(types, "UserCreateDto");
    ck_assert_uint_eq(json_array_size(json_object_get(dto, "inputFields")), 13);
    json_t *date = find_named(types, "Date");
    ck_assert_str_eq(json_string_value(json_object_get(date, "kind")), "SCALAR");
    ck_assert_str_eq(json_string_value(json_object_get(date, "description")),
                     "ISO-8601 UTC timestamp with milliseconds, e.g. 2026-11-27T04:24:50.123Z");
    /* Directives, with graphql-js's order and default values. */
    json_t *dirs = json_object_get(s, "directives");
    ck_assert_uint_eq(json_array_size(dirs), 4);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(dirs, 0), "name")),
                     "include");
    json_t *dep = find_named(dirs, "deprecated");
    json_t *reason = json_array_get(json_object_get(dep, "args"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(reason, "defaultValue")),
                     "\"No longer supported\"");
    json_t *locs = json_object_get(json_array_get(dirs, 1), "locations");
    ck_assert_str_eq(json_string_value(json_array_get(locs, 0)), "FIELD");
    json_decref(j);
}
END_TEST

START_TEST(type_lookup_and_typename)
{
    json_t *j = run_json("{ __typename a: __type(name: \"OrderEnum\") { kind name enumValues { "
                         "name } fields { name } ofType { name } } b: __type(name: \"Nope\") { "
                         "name } c: __type(name: \"__TypeKind\") { enumValues { name } } }");
    json_t *d = json_object_get(j, "data");
    ck_assert_str_eq(json_string_value(json_object_get(d, "__typename")), "Query");
    json_t *a = json_object_get(d, "a");
    ck_assert_str_eq(json_string_value(json_object_get(a, "kind")), "ENUM");
    ck_assert_uint_eq(json_array_size(json_object_get(a, "enumValues")), 2);
    ck_assert(json_is_null(json_object_get(a, "fields")));
    ck_assert(json_is_null(json_object_get(a, "ofType")));
    ck_assert(json_is_null(json_object_get(d, "b")));
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(d, "c"), "enumValues")), 8);
    json_decref(j);
    /* Field arguments and the __Field shape. */
    j = run_json("{ __type(name: \"Query\") { fields { name args { name defaultValue type { "
                 "kind ofType { name } } } } } }");
    json_t *fields =
        json_object_get(json_object_get(json_object_get(j, "data"), "__type"), "fields");
    ck_assert_uint_eq(json_array_size(fields), 4);
    json_t *user = json_array_get(fields, 0);
    json_t *arg = json_array_get(json_object_get(user, "args"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(arg, "name")), "id");
    ck_assert(json_is_null(json_object_get(arg, "defaultValue")));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(arg, "type"), "ofType"), "name")),
                     "ID");
    json_decref(j);
}
END_TEST

START_TEST(deprecated_members_are_filtered)
{
    const char *sdl = "type Query { a: Int b: Int @deprecated(reason: \"use a\") e: E }\n"
                      "enum E { X Y @deprecated }";
    gql_errors e;
    gql_errors_init(&e);
    gql_schema *s;
    ck_assert_int_eq(gql_schema_build(&s, &e, sdl, strlen(sdl)), ROSTER_E_OK);
    gql_resolvers *r;
    gql_resolvers_new(&r, s);
    tu_result res2;
    char *body = tu_run(s, r,
                        "{ q: __type(name: \"Query\") { fields { name } all: fields("
                        "includeDeprecated: true) { name isDeprecated deprecationReason } } e: "
                        "__type(name: \"E\") { enumValues { name } all: enumValues("
                        "includeDeprecated: true) { name deprecationReason } } }",
                        NULL, NULL, &res2);
    ck_assert_str_eq(body,
                     "{\"data\":{\"q\":{\"fields\":[{\"name\":\"a\"},{\"name\":\"e\"}],\"all\":[{"
                     "\"name\":\"a\",\"isDeprecated\":false,\"deprecationReason\":null},{\"name\":"
                     "\"b\",\"isDeprecated\":true,\"deprecationReason\":\"use a\"},{\"name\":\"e\","
                     "\"isDeprecated\":false,\"deprecationReason\":null}]},\"e\":{\"enumValues\":[{"
                     "\"name\":\"X\"}],\"all\":[{\"name\":\"X\",\"deprecationReason\":null},{"
                     "\"name\":\"Y\",\"deprecationReason\":\"No longer supported\"}]}}}");
    free(body);
    gql_resolvers_free(r);
    gql_schema_free(s);
    gql_errors_free(&e);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_introspection");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, full_introspection_query);
    tcase_add_test(tc, type_lookup_and_typename);
    tcase_add_test(tc, deprecated_members_are_filtered);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
