/* Validation rules (spec section 5) against the project schema, with
 * graphql-js 16's messages and locations. */
#include "gql_test_util.h"

static gql_schema *schema;

static void setup(void)
{
    schema = tu_schema();
}

static void teardown(void)
{
    gql_schema_free(schema);
}

typedef struct vcase {
    const char *query;
    const char *message;
    unsigned line, column;
} vcase;

static void expect_error(const vcase *c)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_prepare(&doc, &e, schema, c->query, strlen(c->query), NULL);
    ck_assert_msg(rc == ROSTER_E_VALIDATION, "query should fail validation: %s", c->query);
    int found = 0;
    for (gql_error *x = e.head; x; x = x->next) {
        ck_assert_str_eq(x->code, "GRAPHQL_VALIDATION_FAILED");
        if (strcmp(x->message, c->message) == 0 &&
            (c->line == 0 || (x->n_locations && x->locations[0].line == c->line &&
                              x->locations[0].column == c->column)))
            found = 1;
    }
    if (!found)
        for (gql_error *x = e.head; x; x = x->next)
            fprintf(stderr, "  got: %s @%u:%u\n", x->message,
                    x->n_locations ? x->locations[0].line : 0,
                    x->n_locations ? x->locations[0].column : 0);
    ck_assert_msg(found, "missing error \"%s\" for %s", c->message, c->query);
    gql_errors_free(&e);
}

static void expect_valid(const char *q)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_prepare(&doc, &e, schema, q, strlen(q), NULL);
    if (rc && e.head)
        fprintf(stderr, "unexpected: %s\n", e.head->message);
    ck_assert_int_eq(rc, ROSTER_E_OK);
    ck_assert_ptr_eq(doc->validated_for, schema);
    gql_document_free(doc);
    gql_errors_free(&e);
}

static size_t count_errors(const char *q)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    gql_prepare(&doc, &e, schema, q, strlen(q), NULL);
    size_t n = e.count;
    gql_document_free(doc);
    gql_errors_free(&e);
    return n;
}

START_TEST(valid_documents)
{
    expect_valid("{ user(id: \"1\") { id email tenant { name users { totalCount } } } }");
    expect_valid("query Q($id: ID!, $f: UserFilterArgType = {active: {equalTo: true}}) {\n"
                 "  user(id: $id) { ...U }\n"
                 "  users(filter: $f, limit: 10, order: {order: ASC, sort: email}) {\n"
                 "    totalCount data { ...U ... on UserModel { phone } }\n"
                 "  }\n"
                 "}\n"
                 "fragment U on UserModel { id email createdAt @skip(if: false) }");
    expect_valid("mutation M($u: UserCreateDto!) { createUser(user: $u) { id customData } }");
    expect_valid("{ users(filter: {createdAt: {lessThan: \"2026-01-01T00:00:00Z\"}, id: "
                 "{valueIn: [\"a\", \"b\"]}, email: {valueIn: \"single\"}}) { totalCount } }");
    expect_valid("{ a: user(id: 1) { id } b: user(id: 2) { id } __typename }");
    expect_valid("{ __schema { types { name fields(includeDeprecated: true) { name } } } "
                 "__type(name: \"UserModel\") { name } }");
    expect_valid("query ($limit: Int = 5) { users(limit: $limit) { totalCount } }");
    expect_valid("query ($id: ID!) { user(id: $id) { id } user(id: $id) { id } }");
    expect_valid("mutation { createUser(user: {reference: \"r\", email: \"e\", customData: {any: "
                 "[1, {nested: true}]}}) { id } }");
    expect_valid("subscription { anything }");
}
END_TEST

static const vcase cases[] = {
    /* ExecutableDefinitions */
    {"{ user(id: 1) { id } } type Foo { a: Int }", "The \"Foo\" definition is not executable.", 1,
     24},
    {"{ user(id: 1) { id } } schema { query: Query }", "The schema definition is not executable.",
     1, 24},
    /* UniqueOperationNames, LoneAnonymousOperation */
    {"query A { __typename } query A { __typename }",
     "There can be only one operation named \"A\".", 1, 7},
    {"{ __typename } query B { __typename }",
     "This anonymous operation must be the only defined operation.", 1, 1},
    /* KnownTypeNames, VariablesAreInputTypes, FragmentsOnCompositeTypes */
    {"query ($a: Strin) { __typename }", "Unknown type \"Strin\". Did you mean \"String\"?", 1, 12},
    {"query ($a: [Float]) { __typename }", "Unknown type \"Float\".", 1, 13},
    {"query ($a: UserModel) { __typename }",
     "Variable \"$a\" cannot be non-input type \"UserModel\".", 1, 12},
    {"{ ... on String { a } }", "Fragment cannot condition on non composite type \"String\".", 1,
     10},
    {"fragment F on OrderEnum { a } { ...F }",
     "Fragment \"F\" cannot condition on non composite type \"OrderEnum\".", 1, 15},
    {"{ ... on Nope { a } }", "Unknown type \"Nope\".", 1, 10},
    /* FieldsOnCorrectType, ScalarLeafs */
    {"{ user(id: 1) { emial } }",
     "Cannot query field \"emial\" on type \"UserModel\". Did you mean \"email\"?", 1, 17},
    {"{ user(id: 1) { id { a } } }",
     "Field \"id\" must not have a selection since type \"ID!\" has no subfields.", 1, 20},
    {"{ user(id: 1) }",
     "Field \"user\" of type \"UserModel!\" must have a selection of subfields. Did you mean "
     "\"user { ... }\"?",
     1, 3},
    {"{ __schema }",
     "Field \"__schema\" of type \"__Schema!\" must have a selection of "
     "subfields. Did you mean \"__schema { ... }\"?",
     1, 3},
    {"{ user(id: 1) { __schema { types { name } } } }",
     "Cannot query field \"__schema\" on type \"UserModel\".", 1, 17},
    /* Fragments */
    {"fragment F on UserModel { id } fragment F on UserModel { id } { user(id: 1) { ...F } }",
     "There can be only one fragment named \"F\".", 1, 10},
    {"{ user(id: 1) { ...Missing } }", "Unknown fragment \"Missing\".", 1, 20},
    {"fragment Unused on UserModel { id } { __typename }", "Fragment \"Unused\" is never used.", 1,
     1},
    {"fragment T on TenantModel { id } { user(id: 1) { ...T } }",
     "Fragment \"T\" cannot be spread here as objects of type \"UserModel\" can never be of type "
     "\"TenantModel\".",
     1, 50},
    {"{ user(id: 1) { ... on TenantModel { id } } }",
     "Fragment cannot be spread here as objects of type \"UserModel\" can never be of type "
     "\"TenantModel\".",
     1, 17},
    {"fragment A on UserModel { ...A } { user(id: 1) { ...A } }",
     "Cannot spread fragment \"A\" within itself.", 1, 27},
    {"fragment A on UserModel { ...B } fragment B on UserModel { ...C } fragment C on UserModel "
     "{ ...A } { user(id: 1) { ...A } }",
     "Cannot spread fragment \"A\" within itself via \"B\", \"C\".", 1, 27},
    /* Variables */
    {"query ($a: Int, $a: Int) { users(limit: $a) { totalCount } }",
     "There can be only one variable named \"$a\".", 1, 9},
    {"query Q { user(id: $id) { id } }", "Variable \"$id\" is not defined by operation \"Q\".", 1,
     20},
    {"{ user(id: $id) { id } }", "Variable \"$id\" is not defined.", 1, 12},
    {"query Q($x: Int) { __typename }", "Variable \"$x\" is never used in operation \"Q\".", 1, 9},
    {"query Q($id: String!) { user(id: $id) { id } }",
     "Variable \"$id\" of type \"String!\" used in position expecting type \"ID!\".", 1, 9},
    {"query Q($id: ID) { user(id: $id) { id } }",
     "Variable \"$id\" of type \"ID\" used in position expecting type \"ID!\".", 1, 9},
    {"query Q($v: [ID]) { users(filter: {id: {valueIn: $v}}) { totalCount } }",
     "Variable \"$v\" of type \"[ID]\" used in position expecting type \"[ID!]\".", 1, 9},
    {"query Q($x: Int) { ...F } fragment F on Query { user(id: $x) { id } }",
     "Variable \"$x\" of type \"Int\" used in position expecting type \"ID!\".", 1, 9},
    {"query Q { ...F } fragment F on Query { user(id: $undef) { id } }",
     "Variable \"$undef\" is not defined by operation \"Q\".", 1, 49},
    /* Directives */
    {"{ __typename @nope }", "Unknown directive \"@nope\".", 1, 14},
    {"query @skip(if: true) { __typename }", "Directive \"@skip\" may not be used on QUERY.", 1, 7},
    {"{ __typename @skip(if: true) @skip(if: false) }",
     "The directive \"@skip\" can only be used once at this location.", 1, 14},
    {"{ __typename @include }",
     "Directive \"@include\" argument \"if\" of type \"Boolean!\" is required, but it was not "
     "provided.",
     1, 14},
    /* Arguments */
    {"{ user(id: 1, idd: 2) { id } }",
     "Unknown argument \"idd\" on field \"Query.user\". Did you mean \"id\"?", 1, 15},
    {"{ user(id: 1, id: 2) { id } }", "There can be only one argument named \"id\".", 1, 8},
    {"{ user { id } }",
     "Field \"user\" argument \"id\" of type \"ID!\" is required, but it was not provided.", 1, 3},
    {"{ __typename @skip(if: true, unless: false) }",
     "Unknown argument \"unless\" on directive \"@skip\".", 1, 30},
    /* Values of correct type */
    {"{ users(limit: \"ten\") { totalCount } }", "Int cannot represent non-integer value: \"ten\"",
     1, 16},
    {"{ users(limit: 3000000000) { totalCount } }",
     "Int cannot represent non 32-bit signed integer value: 3000000000", 1, 16},
    {"{ users(limit: 1.5) { totalCount } }", "Int cannot represent non-integer value: 1.5", 1, 16},
    {"{ user(id: 1.5) { id } }", "ID cannot represent a non-string and non-integer value: 1.5", 1,
     12},
    {"{ user(id: null) { id } }", "Expected value of type \"ID!\", found null.", 1, 12},
    {"{ users(filter: {email: {like: 5}}) { totalCount } }",
     "String cannot represent a non string value: 5", 1, 32},
    {"{ users(filter: {active: {equalTo: \"yes\"}}) { totalCount } }",
     "Boolean cannot represent a non boolean value: \"yes\"", 1, 36},
    {"{ users(order: {order: UP, sort: email}) { totalCount } }",
     "Value \"UP\" does not exist in \"OrderEnum\" enum.", 1, 24},
    {"{ users(order: {order: \"ASC\", sort: email}) { totalCount } }",
     "Enum \"OrderEnum\" cannot represent non-enum value: \"ASC\". Did you mean the enum value "
     "\"ASC\" or \"DESC\"?",
     1, 24},
    {"{ users(order: {sort: email}) { totalCount } }",
     "Field \"UserOrderArgType.order\" of required type \"OrderEnum!\" was not provided.", 1, 16},
    {"{ users(filter: {emial: {like: \"a\"}}) { totalCount } }",
     "Field \"emial\" is not defined by type \"UserFilterArgType\". Did you mean \"email\"?", 1,
     18},
    {"{ users(filter: {email: {like: \"a\", like: \"b\"}}) { totalCount } }",
     "There can be only one input field named \"like\".", 1, 26},
    {"{ users(filter: 5) { totalCount } }",
     "Expected value of type \"UserFilterArgType\", found 5.", 1, 17},
    {"{ users(filter: {createdAt: {lessThan: \"not a date\"}}) { totalCount } }",
     "Expected value of type \"Date\", found \"not a date\"; Date must be an ISO-8601 timestamp "
     "such as 2026-11-27T04:24:50.123Z, got: \"not a date\"",
     1, 40},
    {"mutation { createUser(user: {reference: \"r\", email: \"e\", customData: [1]}) { id } }",
     "Expected value of type \"JsonObject\", found [1]; JsonObject cannot represent a non-object "
     "value: [1]",
     1, 70},
    {"query ($l: Int = \"x\") { users(limit: $l) { totalCount } }",
     "Int cannot represent non-integer value: \"x\"", 1, 18},
    /* Overlapping fields */
    {"{ user(id: 1) { x: email x: phone } }",
     "Fields \"x\" conflict because \"email\" and \"phone\" are different fields. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     1, 17},
    {"{ u: user(id: 1) { id } u: user(id: 2) { id } }",
     "Fields \"u\" conflict because they have differing arguments. Use different aliases on the "
     "fields to fetch both if this was intentional.",
     1, 3},
    {"{ user(id: 1) { t: tenant { n: name } t: tenant { n: id } } }",
     "Fields \"t\" conflict because subfields \"n\" conflict because \"name\" and \"id\" are "
     "different fields. Use different aliases on the fields to fetch both if this was "
     "intentional.",
     1, 17},
    {"{ users { data { x: email } } users { data { x: id } } }",
     "Fields \"users\" conflict because subfields \"data\" conflict because subfields \"x\" "
     "conflict because \"email\" and \"id\" are different fields. Use different aliases on the "
     "fields to fetch both if this was intentional.",
     1, 3},
    {"{ user(id: 1) { x: active x: isOptedIn ...F } } fragment F on UserModel { x: email }",
     "Fields \"x\" conflict because \"active\" and \"email\" are different fields. Use different "
     "aliases on the fields to fetch both if this was intentional.",
     1, 17},
};

START_TEST(rule_case)
{
    expect_error(&cases[_i]);
}
END_TEST

START_TEST(error_counts)
{
    /* Every conflicting pair is reported, as graphql-js does. */
    ck_assert_uint_eq(count_errors("{ user(id: 1) { x: id x: email x: phone } }"), 3);
    /* Two undefined usages: two errors. */
    ck_assert_uint_eq(count_errors("{ a: user(id: $x) { id } b: user(id: $x) { id } }"), 2);
    /* Unknown field: no cascade into its sub-selection. */
    ck_assert_uint_eq(count_errors("{ nope { a b c } }"), 1);
    /* A fragment's own conflicts are reported once, not at each spread. */
    ck_assert_uint_eq(count_errors("fragment F on UserModel { x: id x: email } { user(id: 1) { "
                                   "...F ...F } b: user(id: 2) { ...F } }"),
                      1);
}
END_TEST

START_TEST(hostile_documents_stay_linear)
{
    /* 5000 identical fields: compared against the first only. */
    size_t n = 5000;
    char *q = malloc(64 * 1024);
    size_t o = (size_t)sprintf(q, "{ user(id: 1) {");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(q + o, " id");
    o += (size_t)sprintf(q + o, " } }");
    gql_limits lim = {0, 0, 0};
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_parse(&doc, &e, q, o, &lim), ROSTER_E_OK);
    ck_assert_int_eq(gql_validate(&e, schema, doc), ROSTER_E_OK);
    gql_document_free(doc);
    /* Many fragments spreading each other in a chain. */
    o = 0;
    for (int i = 0; i < 500; i++)
        o += (size_t)sprintf(q + o, "fragment F%d on UserModel { id ...F%d } ", i, i + 1);
    o += (size_t)sprintf(q + o, "fragment F500 on UserModel { id } { user(id: 1) { ...F0 } }");
    ck_assert_int_eq(gql_parse(&doc, &e, q, o, &lim), ROSTER_E_OK);
    ck_assert_int_eq(gql_validate(&e, schema, doc), ROSTER_E_OK);
    gql_document_free(doc);
    gql_errors_free(&e);
    free(q);
}
END_TEST

START_TEST(shared_fragments_are_collected_once)
{
    /* 32 fields with one key, each spreading a fragment of 300 fields: 496
     * comparisons of the same two sub-selections. Collecting the fragment
     * for each of them would cost 496 * 600 fields, past the budget (the
     * rule would give up with an error); collected once per document and
     * compared once as a pair, the document is cheap and valid. */
    char *q = malloc(64 * 1024);
    size_t o = (size_t)sprintf(q, "{");
    for (int i = 0; i < 32; i++)
        o += (size_t)sprintf(q + o, " user(id: 1) { ...F }");
    o += (size_t)sprintf(q + o, " } fragment F on UserModel {");
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(q + o, " a%d: id", i);
    o += (size_t)sprintf(q + o, " }");
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_parse(&doc, &e, q, o, NULL), ROSTER_E_OK);
    ck_assert_int_eq(gql_validate(&e, schema, doc), ROSTER_E_OK);
    gql_document_free(doc);
    gql_errors_free(&e);
    free(q);
}
END_TEST

START_TEST(conflict_explanations_are_capped)
{
    /* Two fragment chains with four aliases per level that conflict only
     * at the bottom: each level's explanation could hold four of the level
     * below (4^8 leaf reasons, megabytes). Each pair of fragments is
     * compared once, so the explanation stays short. */
    char *q = malloc(64 * 1024);
    size_t o = (size_t)sprintf(q, "{ __type(name: \"UserModel\") { ...A0 ...B0 } }");
    for (int side = 0; side < 2; side++) {
        char c = side ? 'B' : 'A';
        for (int d = 0; d < 8; d++) {
            o += (size_t)sprintf(q + o, " fragment %c%d on __Type {", c, d);
            for (int k = 0; k < 4; k++)
                o += (size_t)sprintf(q + o, " t%d: ofType { ...%c%d }", k, c, d + 1);
            o += (size_t)sprintf(q + o, " }");
        }
        o += (size_t)sprintf(q + o, " fragment %c8 on __Type { f: %s }", c, side ? "kind" : "name");
    }
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, o, NULL), ROSTER_E_VALIDATION);
    ck_assert_ptr_nonnull(e.head);
    for (gql_error *x = e.head; x; x = x->next) {
        ck_assert_uint_lt(strlen(x->message), 2048);
        ck_assert_uint_le(x->n_locations, 128);
    }
    gql_errors_free(&e);
    /* One conflict with 200 conflicting subfields: the explanation is cut
     * short and its locations capped. */
    o = (size_t)sprintf(q, "{ __type(name: \"UserModel\") { ...A ...B } }");
    for (int side = 0; side < 2; side++) {
        o += (size_t)sprintf(q + o, " fragment %c on __Type { x: ofType {", side ? 'B' : 'A');
        for (int k = 0; k < 200; k++)
            o += (size_t)sprintf(q + o, " f%d: %s", k, side ? "kind" : "name");
        o += (size_t)sprintf(q + o, " } }");
    }
    gql_errors_init(&e);
    doc = NULL;
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, o, NULL), ROSTER_E_VALIDATION);
    ck_assert_ptr_nonnull(e.head);
    ck_assert_ptr_null(e.head->next);
    ck_assert_uint_lt(strlen(e.head->message), 2048);
    ck_assert_uint_le(e.head->n_locations, 128);
    ck_assert_ptr_nonnull(strstr(e.head->message, "(and more)"));
    gql_errors_free(&e);
    free(q);
}
END_TEST

START_TEST(error_limit_stops_validation)
{
    /* graphql-js's maxErrors: 100 errors, then one saying validation stopped. */
    char *q = malloc(64 * 1024);
    size_t o = (size_t)sprintf(q, "{ user(id: 1) {");
    for (int i = 0; i < 5000; i++)
        o += (size_t)sprintf(q + o, " nope%d", i);
    o += (size_t)sprintf(q + o, " } }");
    ck_assert_uint_eq(count_errors(q), 101);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, o, NULL), ROSTER_E_VALIDATION);
    gql_error *last = e.head;
    while (last->next)
        last = last->next;
    ck_assert_str_eq(last->message,
                     "Too many validation errors, error limit reached. Validation aborted.");
    ck_assert_uint_eq(last->n_locations, 0);
    gql_errors_free(&e);
    /* 100 errors exactly: no such message. */
    o = (size_t)sprintf(q, "{ user(id: 1) {");
    for (int i = 0; i < 100; i++)
        o += (size_t)sprintf(q + o, " nope%d", i);
    o += (size_t)sprintf(q + o, " } }");
    ck_assert_uint_eq(count_errors(q), 100);
    free(q);
}
END_TEST

START_TEST(depth_limit_with_fragments)
{
    /* Every definition is shallow, but the spreads compose 22 levels. */
    char q[4096];
    size_t o = (size_t)sprintf(q, "{ __type(name: \"UserModel\") { ...F0 } }");
    for (int i = 0; i < 20; i++)
        o += (size_t)sprintf(q + o, " fragment F%d on __Type { ofType { ...F%d } }", i, i + 1);
    o += (size_t)sprintf(q + o, " fragment F20 on __Type { name }");
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, o, NULL), ROSTER_E_LIMIT);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(strstr(e.head->message, "deeper than 15 levels"));
    ck_assert_ptr_nonnull(strstr(e.head->message, "max_depth"));
    /* 13 levels of fragments pass. */
    o = (size_t)sprintf(q, "{ __type(name: \"UserModel\") { ...F0 } }");
    for (int i = 0; i < 12; i++)
        o += (size_t)sprintf(q + o, " fragment F%d on __Type { ofType { ...F%d } }", i, i + 1);
    o += (size_t)sprintf(q + o, " fragment F12 on __Type { name }");
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, o, NULL), ROSTER_E_OK);
    gql_document_free(doc);
    gql_errors_free(&e);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_validate");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_documents);
    tcase_add_loop_test(tc, rule_case, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, error_counts);
    tcase_add_test(tc, hostile_documents_stay_linear);
    tcase_add_test(tc, depth_limit_with_fragments);
    tcase_add_test(tc, shared_fragments_are_collected_once);
    tcase_add_test(tc, conflict_explanations_are_capped);
    tcase_add_test(tc, error_limit_stops_validation);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
