/* Parser: executable documents, SDL, syntax errors and limits. */
#include "gql_test_util.h"

static gql_document *parse_ok(const char *src)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_parse(&doc, &e, src, strlen(src), NULL);
    if (rc && e.head)
        fprintf(stderr, "parse: %s\n", e.head->message);
    ck_assert_int_eq(rc, ROSTER_E_OK);
    gql_errors_free(&e);
    return doc;
}

/* Parses src expecting failure; returns the message (static copy). */
static const char *parse_err(const char *src, size_t len, const gql_limits *lim, int want_rc,
                             gql_location *loc)
{
    static char msg[512];
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_parse(&doc, &e, src, len, lim);
    ck_assert_int_eq(rc, want_rc);
    ck_assert_ptr_null(doc);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_str_eq(e.head->code, "GRAPHQL_PARSE_FAILED");
    snprintf(msg, sizeof msg, "%s", e.head->message);
    if (loc)
        *loc = e.head->n_locations ? e.head->locations[0] : (gql_location){0, 0};
    gql_errors_free(&e);
    return msg;
}

#define ERR(src, loc) parse_err(src, strlen(src), NULL, ROSTER_E_PARSE, loc)

START_TEST(kitchen_sink)
{
    const char *src = "query queryName($foo: ComplexType, $site: Site = MOBILE) @onQuery {\n"
                      "  whoever123is: node(id: [123, 456]) {\n"
                      "    id ,\n"
                      "    ... on User @onInlineFragment {\n"
                      "      field2 { id , alias: field1(first:10, after:$foo,) @include(if: "
                      "$foo) { id, ...frag @onFragmentSpread } }\n"
                      "    }\n"
                      "    ... @skip(unless: $foo) { id }\n"
                      "    ... { id }\n"
                      "  }\n"
                      "}\n"
                      "mutation likeStory @onMutation { like(story: 123) @onField { story { id "
                      "} } }\n"
                      "subscription StoryLikeSubscription($input: StoryLikeSubscribeInput "
                      "@onVariableDefinition) { storyLikeSubscribe(input: $input) { story { "
                      "likers { count } } } }\n"
                      "fragment frag on Friend @onFragmentDefinition {\n"
                      "  foo(size: $size, bar: $b, obj: {key: \"value\", block: \"\"\"\n"
                      "      block string uses \\\"\"\"\n"
                      "  \"\"\"})\n"
                      "}\n"
                      "{ unnamed(truthy: true, falsy: false, nullish: null), query }\n"
                      "query { __typename }\n";
    gql_document *doc = parse_ok(src);
    ck_assert_uint_eq(doc->n_defs, 6);
    ck_assert_uint_eq(doc->n_ops, 5);
    ck_assert_uint_eq(doc->n_frags, 1);
    const gql_operation *op = doc->ops[0];
    ck_assert_int_eq(op->type, GQL_OP_QUERY);
    ck_assert_uint_eq(op->n_vars, 2);
    ck_assert_ptr_nonnull(op->vars[1].default_value);
    ck_assert_int_eq(op->vars[1].default_value->kind, GQL_VALUE_ENUM);
    const gql_selection *node = &op->sel->items[0];
    ck_assert_int_eq(node->alias.len, 12);
    ck_assert_int_eq(node->name.len, 4);
    ck_assert_int_eq(node->args[0].value->kind, GQL_VALUE_LIST);
    ck_assert_int_eq(node->sel->items[1].kind, GQL_SEL_INLINE_FRAGMENT);
    ck_assert_int_eq(doc->ops[1]->type, GQL_OP_MUTATION);
    ck_assert_int_eq(doc->ops[2]->type, GQL_OP_SUBSCRIPTION);
    ck_assert_int_eq(doc->ops[3]->anonymous, 1);
    ck_assert_uint_eq(doc->frags[0]->name_loc.line, 13);
    ck_assert_uint_eq(doc->frags[0]->name_loc.column, 10);
    gql_document_free(doc);
}
END_TEST

START_TEST(values)
{
    gql_document *doc = parse_ok("{ f(a: -12, b: 1.5e3, c: \"s\", d: [1, [2]], e: {x: {y: ENUM}}, "
                                 "g: $v, h: 99999999999999999999) }");
    const gql_argument *a = doc->ops[0]->sel->items[0].args;
    ck_assert_int_eq(a[0].value->kind, GQL_VALUE_INT);
    ck_assert_int_eq(a[0].value->u.integer, -12);
    ck_assert_int_eq(a[1].value->kind, GQL_VALUE_FLOAT);
    ck_assert(a[1].value->u.number == 1500.0);
    ck_assert_int_eq(a[3].value->u.list.count, 2);
    ck_assert_int_eq(a[4].value->u.object.fields[0].value->kind, GQL_VALUE_OBJECT);
    ck_assert_int_eq(a[5].value->kind, GQL_VALUE_VARIABLE);
    /* Beyond 64 bits: kept as a number, not an error. */
    ck_assert_int_eq(a[6].value->kind, GQL_VALUE_FLOAT);
    gql_buf b;
    gql_buf_init(&b);
    gql_value_print(&b, a[4].value);
    ck_assert_int_eq((int)b.len, 14);
    ck_assert(memcmp(b.data, "{x: {y: ENUM}}", 14) == 0);
    gql_buf_free(&b);
    gql_document_free(doc);
}
END_TEST

START_TEST(sdl)
{
    gql_document *doc = parse_ok(
        "\"\"\"desc\"\"\" schema { query: Q } \"d\" type Q implements A & B @x { "
        "\"fd\" f(\"ad\" a: Int = 1 @deprecated): [String!]! } scalar S @specifiedBy(url: \"u\") "
        "enum E { A \"b\" B @deprecated(reason: \"r\") } input I { a: E = A, b: [I] } union U = "
        "| X | Y interface Iface { a: Int } directive @d(a: Int) repeatable on FIELD | QUERY "
        "extend type Q { g: Int }");
    ck_assert_uint_eq(doc->n_defs, 9);
    ck_assert_int_eq(doc->defs[0].kind, GQL_DEF_SCHEMA);
    ck_assert_int_eq(doc->defs[1].kind, GQL_DEF_OBJECT);
    const gql_type_def *q = doc->defs[1].u.type;
    ck_assert_uint_eq(q->n_interfaces, 2);
    ck_assert_int_eq(q->fields[0].has_description, 1);
    ck_assert_int_eq(q->fields[0].args[0].default_value->kind, GQL_VALUE_INT);
    ck_assert_int_eq(doc->defs[7].kind, GQL_DEF_DIRECTIVE);
    ck_assert_int_eq(doc->defs[7].u.type->repeatable, 1);
    ck_assert_int_eq(doc->defs[8].u.type->is_extension, 1);
    gql_document_free(doc);
}
END_TEST

START_TEST(syntax_errors)
{
    gql_location l;
    ck_assert_str_eq(ERR("", &l), "Syntax Error: Unexpected <EOF>.");
    ck_assert_str_eq(ERR("{", &l), "Syntax Error: Expected Name, found <EOF>.");
    ck_assert_uint_eq(l.line, 1);
    ck_assert_uint_eq(l.column, 2);
    ck_assert_str_eq(ERR("{}", &l), "Syntax Error: Expected Name, found \"}\".");
    ck_assert_str_eq(ERR("{ a(b: ) }", &l), "Syntax Error: Unexpected \")\".");
    ck_assert_str_eq(ERR("query Q($a: Int = $b) { a }", &l),
                     "Syntax Error: Unexpected variable \"$b\" in constant value.");
    ck_assert_str_eq(ERR("fragment on on T { a }", &l), "Syntax Error: Unexpected Name \"on\".");
    ck_assert_str_eq(ERR("fragment F T { a }", &l),
                     "Syntax Error: Expected \"on\", found Name \"T\".");
    ck_assert_str_eq(ERR("notanoperation { a }", &l),
                     "Syntax Error: Unexpected Name \"notanoperation\".");
    ck_assert_str_eq(ERR("\"desc\" query { a }", &l),
                     "Syntax Error: Unexpected description, descriptions are supported only on "
                     "type definitions.");
    ck_assert_str_eq(ERR("{ a }\n  ...", &l), "Syntax Error: Unexpected \"...\".");
    ck_assert_uint_eq(l.line, 2);
    ck_assert_uint_eq(l.column, 3);
    ck_assert_str_eq(ERR("{ a(x: \"unterminated) }", &l), "Syntax Error: Unterminated string.");
    ck_assert_str_eq(ERR("query ($a: [Int) { a }", &l),
                     "Syntax Error: Expected \"]\", found \")\".");
    ck_assert_str_eq(ERR("enum E { true }", &l),
                     "Syntax Error: Name \"true\" is reserved and cannot be used for an enum "
                     "value.");
    ck_assert_str_eq(ERR("{ f(a: [1, 2) }", &l), "Syntax Error: Unexpected \")\".");
    ck_assert_str_eq(ERR("{ ... on { a } }", &l), "Syntax Error: Expected Name, found \"{\".");
}
END_TEST

START_TEST(limit_tokens)
{
    gql_limits lim = gql_limits_default();
    lim.max_tokens = 10;
    const char *src = "{ a b c d e f g h i j k }";
    const char *m = parse_err(src, strlen(src), &lim, ROSTER_E_LIMIT, NULL);
    ck_assert_ptr_nonnull(strstr(m, "more than 10 tokens"));
    ck_assert_ptr_nonnull(strstr(m, "max_tokens"));
    /* The document has 13 tokens: 12 is too few, 13 is enough. */
    lim.max_tokens = 12;
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    ck_assert_int_eq(gql_parse(&doc, &e, src, strlen(src), &lim), ROSTER_E_LIMIT);
    lim.max_tokens = 13;
    ck_assert_int_eq(gql_parse(&doc, &e, src, strlen(src), &lim), ROSTER_E_OK);
    ck_assert_uint_eq(doc->n_tokens, 13);
    gql_document_free(doc);
    ck_assert_int_eq(gql_parse(&doc, &e, src, strlen(src), &lim), ROSTER_E_OK);
    gql_document_free(doc);
    gql_errors_free(&e);
}
END_TEST

START_TEST(limit_depth)
{
    char src[256];
    size_t o = 0;
    for (int i = 0; i < 16; i++)
        o += (size_t)sprintf(src + o, "{a");
    for (int i = 0; i < 16; i++)
        src[o++] = '}';
    src[o] = '\0';
    const char *m = parse_err(src, o, NULL, ROSTER_E_LIMIT, NULL);
    ck_assert_ptr_nonnull(strstr(m, "deeper than 15 levels"));
    ck_assert_ptr_nonnull(strstr(m, "max_depth"));
    /* 15 levels pass. */
    src[o - 1] = '\0';
    gql_document *doc = parse_ok(src + 2);
    gql_document_free(doc);
    /* Nested lists count too. */
    m = parse_err("{ a(b: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]) }", 43, NULL, ROSTER_E_LIMIT, NULL);
    ck_assert_ptr_nonnull(strstr(m, "max_depth"));
}
END_TEST

START_TEST(limit_bytes)
{
    gql_limits lim = gql_limits_default();
    lim.max_bytes = 8;
    const char *m = parse_err("{ abcdefgh }", 12, &lim, ROSTER_E_LIMIT, NULL);
    ck_assert_ptr_nonnull(strstr(m, "max_bytes"));
    ck_assert_ptr_nonnull(strstr(m, "12 bytes"));
}
END_TEST

START_TEST(deep_nesting_without_limits)
{
    /* Even with no configured depth limit, recursion is bounded. */
    size_t n = 200000;
    char *src = malloc(n * 2 + 16);
    memcpy(src, "{ a(b: ", 7);
    for (size_t i = 0; i < n; i++) {
        src[7 + i] = '[';
        src[7 + n + i] = ']';
    }
    memcpy(src + 7 + 2 * n, ") }", 4);
    n = 7 + 2 * n + 3;
    gql_limits lim = {0, 0, 0};
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_parse(&doc, &e, src, n, &lim), ROSTER_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(e.head->message, "deeper than 1000"));
    gql_errors_free(&e);
    free(src);
}
END_TEST

START_TEST(huge_and_random_inputs)
{
    /* 1 MiB of fields parses within the byte limit at default token limit:
     * the token limit stops it. */
    size_t n = 1024 * 1024 - 8;
    char *src = malloc(n + 1);
    src[0] = '{';
    for (size_t i = 1; i < n - 1; i++)
        src[i] = (i % 2) ? 'a' : ' ';
    src[n - 1] = '}';
    src[n] = '\0';
    parse_err(src, n, NULL, ROSTER_E_LIMIT, NULL);
    unsigned seed = 99;
    const char alphabet[] = "{}()[]:$@!.=\"\\ \n#abcq1-e|&,'";
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round % 200);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            src[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        gql_errors e;
        gql_errors_init(&e);
        gql_document *doc = NULL;
        int rc = gql_parse(&doc, &e, src, len, NULL);
        ck_assert(rc == ROSTER_E_OK || e.count == 1);
        gql_document_free(doc);
        gql_errors_free(&e);
    }
    free(src);
}
END_TEST

START_TEST(operation_selection)
{
    gql_document *doc = parse_ok("query A { a } mutation B { b }");
    gql_errors e;
    gql_errors_init(&e);
    const gql_operation *op;
    ck_assert_int_eq(gql_document_operation(&op, &e, doc, "B", 1), ROSTER_E_OK);
    ck_assert_int_eq(op->type, GQL_OP_MUTATION);
    ck_assert_int_eq(gql_document_operation(&op, &e, doc, NULL, 0), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(e.head->message,
                     "Must provide operation name if query contains multiple operations.");
    ck_assert_int_eq(gql_document_operation(&op, &e, doc, "C", 1), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(e.tail->message, "Unknown operation named \"C\".");
    gql_op_type t;
    ck_assert_int_eq(gql_operation_type(&t, &e, doc, "A", 1), ROSTER_E_OK);
    ck_assert_int_eq(t, GQL_OP_QUERY);
    gql_errors_free(&e);
    ck_assert_ptr_eq(gql_document_ref(doc), doc);
    gql_document_free(doc);
    gql_document_free(doc);
    gql_document_free(NULL);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_parser");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, kitchen_sink);
    tcase_add_test(tc, values);
    tcase_add_test(tc, sdl);
    tcase_add_test(tc, syntax_errors);
    tcase_add_test(tc, limit_tokens);
    tcase_add_test(tc, limit_depth);
    tcase_add_test(tc, limit_bytes);
    tcase_add_test(tc, deep_nesting_without_limits);
    tcase_add_test(tc, huge_and_random_inputs);
    tcase_add_test(tc, operation_selection);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
