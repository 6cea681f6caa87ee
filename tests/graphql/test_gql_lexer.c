/* Lexer: every token kind, escapes, block strings, comments, errors. */
#include "gql_lexer.h"
#include "gql_test_util.h"

static roster_arena arena;

static int lex_all(const char *src, int *kinds, int max, gql_lexer *lx)
{
    roster_arena_free(&arena);
    roster_arena_init(&arena, 0, 0);
    gql_lexer_init(lx, src, strlen(src), &arena);
    int n = 0;
    for (;;) {
        int rc = gql_lexer_next(lx);
        if (rc)
            return -1;
        if (lx->tok.kind == GQL_TOK_EOF)
            return n;
        if (n < max)
            kinds[n] = lx->tok.kind;
        n++;
    }
}

/* The first token's decoded value; fails the test on a lexing error. */
static gql_str first_value(const char *src, int *kind)
{
    static gql_lexer lx;
    roster_arena_free(&arena);
    roster_arena_init(&arena, 0, 0);
    gql_lexer_init(&lx, src, strlen(src), &arena);
    int rc = gql_lexer_next(&lx);
    if (rc)
        fprintf(stderr, "lex error: %s\n", lx.message);
    ck_assert_int_eq(rc, ROSTER_E_OK);
    if (kind)
        *kind = lx.tok.kind;
    return lx.tok.value;
}

/* The message of the first lexing error in src. */
static const char *lex_error(const char *src, gql_location *loc)
{
    static gql_lexer lx;
    roster_arena_free(&arena);
    roster_arena_init(&arena, 0, 0);
    gql_lexer_init(&lx, src, strlen(src), &arena);
    for (;;) {
        int rc = gql_lexer_next(&lx);
        if (rc == ROSTER_E_PARSE) {
            if (loc)
                *loc = lx.err_loc;
            return lx.message;
        }
        ck_assert_int_eq(rc, ROSTER_E_OK);
        ck_assert_int_ne(lx.tok.kind, GQL_TOK_EOF);
    }
}

START_TEST(punctuators_and_names)
{
    int k[32];
    gql_lexer lx;
    int n = lex_all("! $ & ( ) ... : = @ [ ] { | } name _x9", k, 32, &lx);
    ck_assert_int_eq(n, 16);
    int want[] = {GQL_TOK_BANG,    GQL_TOK_DOLLAR,    GQL_TOK_AMP,       GQL_TOK_PAREN_L,
                  GQL_TOK_PAREN_R, GQL_TOK_SPREAD,    GQL_TOK_COLON,     GQL_TOK_EQUALS,
                  GQL_TOK_AT,      GQL_TOK_BRACKET_L, GQL_TOK_BRACKET_R, GQL_TOK_BRACE_L,
                  GQL_TOK_PIPE,    GQL_TOK_BRACE_R,   GQL_TOK_NAME,      GQL_TOK_NAME};
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(k[i], want[i]);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(ignored_tokens)
{
    int k[8];
    gql_lexer lx;
    /* BOM, commas, comments, CRLF and CR line ends are all ignored. */
    int n = lex_all("\xEF\xBB\xBF a,,b # comment ) (\r\n\tc\rd", k, 8, &lx);
    ck_assert_int_eq(n, 4);
    /* lx.tok is now EOF, just after "d" on line 3. */
    ck_assert_uint_eq(lx.tok.loc.line, 3);
    ck_assert_uint_eq(lx.tok.loc.column, 2);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(numbers)
{
    int kind;
    gql_str v = first_value("-123", &kind);
    ck_assert_int_eq(kind, GQL_TOK_INT);
    ck_assert_int_eq(v.len, 4);
    first_value("0", &kind);
    ck_assert_int_eq(kind, GQL_TOK_INT);
    first_value("1.5e-3", &kind);
    ck_assert_int_eq(kind, GQL_TOK_FLOAT);
    first_value("6E+10", &kind);
    ck_assert_int_eq(kind, GQL_TOK_FLOAT);
    first_value("-0.0", &kind);
    ck_assert_int_eq(kind, GQL_TOK_FLOAT);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(number_errors)
{
    gql_location l;
    ck_assert_str_eq(lex_error("00", &l), "Invalid number, unexpected digit after 0: \"0\".");
    ck_assert_uint_eq(l.column, 2);
    ck_assert_str_eq(lex_error("1.", NULL), "Invalid number, expected digit but got: <EOF>.");
    ck_assert_str_eq(lex_error("1.e5", NULL), "Invalid number, expected digit but got: \"e\".");
    ck_assert_str_eq(lex_error("12a", NULL), "Invalid number, expected digit but got: \"a\".");
    ck_assert_str_eq(lex_error("1.2.3", NULL), "Invalid number, expected digit but got: \".\".");
    ck_assert_str_eq(lex_error("- 1", NULL), "Invalid number, expected digit but got: \" \".");
    ck_assert_str_eq(lex_error("1e", NULL), "Invalid number, expected digit but got: <EOF>.");
    roster_arena_free(&arena);
}
END_TEST

START_TEST(strings_and_escapes)
{
    gql_str v = first_value("\"simple\"", NULL);
    ck_assert_int_eq(v.len, 6);
    ck_assert(memcmp(v.ptr, "simple", 6) == 0);
    v = first_value("\"q\\\"b\\\\s\\/n\\n\\t\\r\\b\\f\"", NULL);
    ck_assert_int_eq(v.len, 12);
    ck_assert(memcmp(v.ptr, "q\"b\\s/n\n\t\r\b\f", 12) == 0);
    v = first_value("\"\\u00e9\"", NULL);
    ck_assert_int_eq(v.len, 2);
    ck_assert(memcmp(v.ptr, "\xC3\xA9", 2) == 0);
    /* A surrogate pair becomes one 4-byte character. */
    v = first_value("\"\\uD83D\\uDE00\"", NULL);
    ck_assert_int_eq(v.len, 4);
    ck_assert(memcmp(v.ptr, "\xF0\x9F\x98\x80", 4) == 0);
    v = first_value("\"\\u{1F600}\"", NULL);
    ck_assert_int_eq(v.len, 4);
    ck_assert(memcmp(v.ptr, "\xF0\x9F\x98\x80", 4) == 0);
    v = first_value("\"unicode \xE2\x82\xAC ok\"", NULL);
    ck_assert_int_eq(v.len, 14);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(string_errors)
{
    gql_location l;
    ck_assert_str_eq(lex_error("\"abc", &l), "Unterminated string.");
    ck_assert_uint_eq(l.column, 5);
    ck_assert_str_eq(lex_error("\"ab\ncd\"", NULL), "Unterminated string.");
    ck_assert_str_eq(lex_error("\"\\x\"", &l), "Invalid character escape sequence: \"\\x\".");
    ck_assert_uint_eq(l.column, 2);
    ck_assert_str_eq(lex_error("\"\\u12G4\"", NULL),
                     "Invalid Unicode escape sequence: \"\\u12G4\".");
    ck_assert_str_eq(lex_error("\"\\uD83D\"", NULL),
                     "Invalid Unicode escape sequence: \"\\uD83D\".");
    ck_assert_str_eq(lex_error("\"\\uDE00\\uD83D\"", NULL),
                     "Invalid Unicode escape sequence: \"\\uDE00\".");
    ck_assert_str_eq(lex_error("\"\\u{110000}\"", NULL),
                     "Invalid Unicode escape sequence: \"\\u{110000}\".");
    ck_assert_str_eq(lex_error("\"bad \xFF\"", NULL), "Invalid character within String: U+00FF.");
    roster_arena_free(&arena);
}
END_TEST

START_TEST(block_strings)
{
    int kind;
    /* The specification's example: common indentation and blank first and
     * last lines are removed. */
    gql_str v = first_value(
        "\"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\"", &kind);
    ck_assert_int_eq(kind, GQL_TOK_BLOCK_STRING);
    const char *want = "Hello,\n  World!\n\nYours,\n  GraphQL.";
    ck_assert_int_eq(v.len, strlen(want));
    ck_assert(memcmp(v.ptr, want, v.len) == 0);
    v = first_value("\"\"\"a \\\"\"\" b\"\"\"", NULL);
    ck_assert_int_eq(v.len, 7);
    ck_assert(memcmp(v.ptr, "a \"\"\" b", 7) == 0);
    v = first_value("\"\"\"  \n\n \"\"\"", NULL);
    ck_assert_int_eq(v.len, 0);
    /* Escapes other than \""" are kept raw. */
    v = first_value("\"\"\"\\n\"\"\"", NULL);
    ck_assert_int_eq(v.len, 2);
    ck_assert_str_eq(lex_error("\"\"\"never closed", NULL), "Unterminated string.");
    /* Lines inside a block string are counted. */
    gql_lexer lx;
    int k[4];
    ck_assert_int_eq(lex_all("\"\"\"a\nb\nc\"\"\" x", k, 4, &lx), 2);
    ck_assert_uint_eq(lx.tok.loc.line, 3);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(unexpected_characters)
{
    gql_location l;
    ck_assert_str_eq(lex_error("a ? b", &l), "Unexpected character: \"?\".");
    ck_assert_uint_eq(l.column, 3);
    ck_assert_str_eq(lex_error("'x'", NULL),
                     "Unexpected single quote character ('), did you mean to use a double quote "
                     "(\")?");
    ck_assert_str_eq(lex_error("\x07", NULL), "Unexpected character: U+0007.");
    ck_assert_str_eq(lex_error("..", NULL), "Unexpected character: \".\".");
    ck_assert_str_eq(lex_error("\xC3\xA9", NULL), "Unexpected character: U+00E9.");
    ck_assert_str_eq(lex_error("\xFF", NULL), "Invalid character: U+00FF.");
    roster_arena_free(&arena);
}
END_TEST

START_TEST(columns_count_utf16_units)
{
    gql_lexer lx;
    int k[4];
    /* "😀" is two UTF-16 units, as graphql-js counts columns; lx.tok is
     * EOF, just after "x". */
    ck_assert_int_eq(lex_all("\"\xF0\x9F\x98\x80\" x", k, 4, &lx), 2);
    ck_assert_uint_eq(lx.tok.loc.column, 7);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(hostile_input_never_crashes)
{
    char buf[4096];
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 13 % 4000);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (char)(seed >> 16);
        }
        buf[n] = '\0';
        gql_lexer lx;
        roster_arena_init(&arena, 0, 0);
        gql_lexer_init(&lx, buf, n, &arena);
        for (int guard = 0; guard < 5000; guard++) {
            int rc = gql_lexer_next(&lx);
            if (rc || lx.tok.kind == GQL_TOK_EOF)
                break;
        }
        roster_arena_free(&arena);
    }
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_lexer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, punctuators_and_names);
    tcase_add_test(tc, ignored_tokens);
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, number_errors);
    tcase_add_test(tc, strings_and_escapes);
    tcase_add_test(tc, string_errors);
    tcase_add_test(tc, block_strings);
    tcase_add_test(tc, unexpected_characters);
    tcase_add_test(tc, columns_count_utf16_units);
    tcase_add_test(tc, hostile_input_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
