/* Streaming JSON writer and buffer. */
#include <math.h>

#include "gql_test_util.h"

static char *render(void (*fn)(gql_jw *), unsigned flags)
{
    gql_buf b;
    gql_buf_init(&b);
    gql_jw w;
    gql_jw_init(&w, &b, flags);
    fn(&w);
    char *out;
    size_t len;
    ck_assert_int_eq(gql_buf_take(&out, &len, &b), ROSTER_E_OK);
    ck_assert_uint_eq(strlen(out), len);
    return out;
}

static void nested(gql_jw *w)
{
    gql_jw_object_begin(w);
    gql_jw_keyz(w, "a");
    gql_jw_array_begin(w);
    gql_jw_int(w, 1);
    gql_jw_bool(w, 1);
    gql_jw_null(w);
    gql_jw_object_begin(w);
    gql_jw_object_end(w);
    gql_jw_array_begin(w);
    gql_jw_array_end(w);
    gql_jw_array_end(w);
    gql_jw_keyz(w, "b");
    gql_jw_bool(w, 0);
    gql_jw_keyz(w, "c");
    gql_jw_raw(w, "[1,2]", 5);
    gql_jw_object_end(w);
}

START_TEST(structure_and_commas)
{
    char *s = render(nested, 0);
    ck_assert_str_eq(s, "{\"a\":[1,true,null,{},[]],\"b\":false,\"c\":[1,2]}");
    free(s);
}
END_TEST

static void escapes(gql_jw *w)
{
    gql_jw_string(w, "q\"b\\n\n\t\r\b\f\x01\x1f/", 13);
}

START_TEST(string_escaping)
{
    char *s = render(escapes, 0);
    ck_assert_str_eq(s, "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u001f/\"");
    free(s);
}
END_TEST

static void invalid_utf8(gql_jw *w)
{
    /* lone continuation, overlong, truncated, surrogate, valid é and 😀 */
    static const char in[] = "a\x80"
                             "b\xC0\xAF"
                             "c\xE2\x82"
                             "d\xED\xA0\x80"
                             "e\xC3\xA9\xF0\x9F\x98\x80";
    gql_jw_string(w, in, sizeof in - 1);
}

START_TEST(invalid_utf8_is_replaced)
{
    char *s = render(invalid_utf8, 0);
    ck_assert_str_eq(s, "\"a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD\xEF\xBF\xBD"
                        "c\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "e\xC3\xA9\xF0\x9F\x98\x80\"");
    /* The output parses as JSON. */
    json_error_t je;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    free(s);
}
END_TEST

static void separators(gql_jw *w)
{
    gql_jw_string(w, "x\xE2\x80\xA8y\xE2\x80\xA9", 8);
}

START_TEST(line_separators_optional)
{
    char *s = render(separators, 0);
    ck_assert_str_eq(s, "\"x\xE2\x80\xA8y\xE2\x80\xA9\"");
    free(s);
    s = render(separators, GQL_JW_ESCAPE_U2028);
    ck_assert_str_eq(s, "\"x\\u2028y\\u2029\"");
    free(s);
}
END_TEST

static double dv;
static void one_double(gql_jw *w)
{
    gql_jw_double(w, dv);
}

static void check_double(double v, const char *want)
{
    dv = v;
    char *s = render(one_double, 0);
    ck_assert_str_eq(s, want);
    free(s);
}

START_TEST(numbers_like_javascript)
{
    check_double(1.0, "1");
    check_double(-2.5, "-2.5");
    check_double(0.1, "0.1");
    check_double(1e21, "1e+21");
    check_double(123456789012345680000.0, "123456789012345680000");
    check_double(1e-7, "1e-7");
    check_double(0.000001, "0.000001");
    check_double(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double(0.0, "0");
    check_double(NAN, "null");
    check_double(INFINITY, "null");
}
END_TEST

static void ints_and_json(gql_jw *w)
{
    gql_jw_array_begin(w);
    gql_jw_int(w, INT64_MIN);
    gql_jw_int(w, INT64_MAX);
    json_error_t je;
    json_t *j = json_loads("{\"k\":[1,2.5,\"s\",null,true]}", 0, &je);
    gql_jw_json(w, j);
    json_decref(j);
    gql_jw_array_end(w);
}

START_TEST(integers_and_jansson_values)
{
    char *s = render(ints_and_json, 0);
    ck_assert_str_eq(s, "[-9223372036854775808,9223372036854775807,{\"k\":[1,2.5,\"s\",null,"
                        "true]}]");
    free(s);
}
END_TEST

START_TEST(buffer_growth_and_free)
{
    gql_buf b;
    gql_buf_init(&b);
    for (int i = 0; i < 100000; i++)
        ck_assert_int_eq(gql_buf_append(&b, "0123456789", 10), ROSTER_E_OK);
    ck_assert_uint_eq(b.len, 1000000);
    ck_assert_int_eq(gql_buf_status(&b), ROSTER_E_OK);
    gql_buf_clear(&b);
    ck_assert_uint_eq(b.len, 0);
    gql_buf_free(&b);
    gql_buf_free(NULL);
    /* Long strings with every byte value stay valid JSON. */
    char all[256 * 4];
    for (int i = 0; i < 256 * 4; i++)
        all[i] = (char)(i & 0xFF);
    gql_jw w;
    gql_jw_init(&w, &b, 0);
    gql_jw_string(&w, all, sizeof all);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    gql_buf_free(&b);
}
END_TEST

/* Every special byte at every offset of a string longer than two 8-byte
 * words: the escaped text is the plain bytes around the byte's escape. */
START_TEST(escapes_at_every_offset)
{
    static const struct {
        const char *in; /* one special sequence */
        const char *out;
    } specials[] = {
        {"\x01", "\\u0001"},
        {"\x1f", "\\u001f"},
        {"\"", "\\\""},
        {"\\", "\\\\"},
        {"\n", "\\n"},
        {"\x80", "\xEF\xBF\xBD"},
        {"\xC3\xA9", "\xC3\xA9"},
        {"\x7f", "\x7f"},
        {"!", "!"},
        {"~", "~"},
    };
    char in[40], want[60];
    gql_buf b;
    gql_buf_init(&b);
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        size_t sl = strlen(specials[k].in), ol = strlen(specials[k].out);
        for (size_t at = 0; at + sl <= 24; at++) {
            memset(in, 'a', 24);
            memcpy(in + at, specials[k].in, sl);
            memset(want, 'a', at);
            memcpy(want + at, specials[k].out, ol);
            memset(want + at + ol, 'a', 24 - at - sl);
            size_t wl = 24 - sl + ol;
            gql_buf_clear(&b);
            gql_json_escape(&b, in, 24, 0);
            ck_assert_msg(b.len == wl && memcmp(b.data, want, wl) == 0,
                          "special %zu at offset %zu: %.*s", k, at, (int)b.len, b.data);
        }
    }
    gql_buf_free(&b);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, structure_and_commas);
    tcase_add_test(tc, string_escaping);
    tcase_add_test(tc, escapes_at_every_offset);
    tcase_add_test(tc, invalid_utf8_is_replaced);
    tcase_add_test(tc, line_separators_optional);
    tcase_add_test(tc, numbers_like_javascript);
    tcase_add_test(tc, integers_and_jansson_values);
    tcase_add_test(tc, buffer_growth_and_free);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
