/* Reading customData values without a JSON tree (json_path.h): hand
 * cases of what the plain reader takes and leaves to jansson, and
 * agreement, value for value, of the store's customData values
 * (custom_index_user_value, which reads the plain form in place and
 * parses the rest with jansson) with jansson's tree walked by path
 * (custom_index_tree_value), over
 * many generated texts: escapes, exponents, long and malformed numbers,
 * repeated keys, nesting, white space, multi-byte and ill-formed UTF-8,
 * control characters, and texts cut or damaged at random. */
#include "custom_index.h"
#include "json_path.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ hand cases */

static json_path_value read1(const char *text, const char *path, bool *plain)
{
    json_path_value v;
    *plain = json_path_read(&v, &path, 1, text, strlen(text));
    return v;
}

START_TEST(plain_values)
{
    bool plain;
    json_path_value v = read1(" {\"plan\" : \"Ann\", \"seats\":12}\n", "plan", &plain);
    ck_assert(plain);
    ck_assert_int_eq(v.kind, JSON_PATH_STRING);
    ck_assert_uint_eq(v.n, 3);
    ck_assert(memcmp(v.p, "Ann", 3) == 0);
    v = read1("{\"plan\":\"Ann\",\"seats\":-120}", "seats", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_INTEGER);
    ck_assert_int_eq(json_path_integer(&v), -120);
    v = read1("{\"a\":{\"b\":{\"c\":1.25}}}", "a.b.c", &plain);
    ck_assert(plain);
    ck_assert_int_eq(v.kind, JSON_PATH_REAL);
    ck_assert(json_path_number(&v) == 1.25);
    v = read1("{\"a\":{\"b\":1}}", "a.b.c", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_NONE);
    v = read1("{\"a\":[1,2]}", "a.b", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_NONE);
    v = read1("{\"a\":[1,{\"b\":2}],\"c\":true}", "c", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_TRUE);
    /* a repeated key: the last value, also along a path */
    v = read1("{\"a\":1,\"a\":\"x\"}", "a", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_STRING);
    v = read1("{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "a.b", &plain);
    ck_assert_int_eq(v.kind, JSON_PATH_NONE);
    v = read1("{}", "a", &plain);
    ck_assert(plain);
    ck_assert_int_eq(v.kind, JSON_PATH_NONE);
    /* multi-byte characters are read in place */
    v = read1("{\"ชื่อ\":\"สมชาย\"}", "ชื่อ", &plain);
    ck_assert(plain);
    ck_assert_int_eq(v.kind, JSON_PATH_STRING);
}
END_TEST

START_TEST(left_to_jansson)
{
    static const char *const texts[] = {
        "{\"a\":\"x\\\"y\"}",          /* an escape */
        "{\"p\\u006can\":1}",          /* an escaped key */
        "{\"a\":1e3}",                 /* an exponent */
        "{\"a\":1234567890123456789}", /* 19 digits */
        "{\"a\":01}",                  /* malformed */
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "[1]",                      /* not an object */
        "{\"a\":1} x",              /* trailing text */
        "{\"a\":\"\x01\"}",         /* a control character */
        "{\"a\":\"\xff\"}",         /* ill-formed UTF-8 */
        "{\"a\":\"\xed\xa0\x80\"}", /* a surrogate */
        "{\"a\":tru}",
        "{\"a\":nulls}",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        bool plain;
        read1(texts[i], "a", &plain);
        ck_assert_msg(!plain, "%s", texts[i]);
    }
    /* nesting deeper than JSON_PATH_DEPTH */
    char deep[4 * JSON_PATH_DEPTH + 16];
    size_t n = 0;
    deep[n++] = '{';
    deep[n++] = '"';
    deep[n++] = 'a';
    deep[n++] = '"';
    deep[n++] = ':';
    for (int i = 0; i < JSON_PATH_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_PATH_DEPTH; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    bool plain;
    read1(deep, "a", &plain);
    ck_assert(!plain);
}
END_TEST

START_TEST(surely_absent)
{
    const char *t = "{\"plan\":\"seats\",\"x\":{\"seats\":1}}";
    ck_assert(!json_path_surely_absent(t, strlen(t), "plan"));
    ck_assert(!json_path_surely_absent(t, strlen(t), "seats")); /* a value, a nested key */
    ck_assert(!json_path_surely_absent(t, strlen(t), "x.seats"));
    ck_assert(json_path_surely_absent(t, strlen(t), "pla"));
    ck_assert(json_path_surely_absent(t, strlen(t), "lan"));
    ck_assert(json_path_surely_absent(t, strlen(t), "y.plan"));
    const char *e = "{\"p\\u006can\":1}";
    ck_assert(!json_path_surely_absent(e, strlen(e), "plan"));
    ck_assert(json_path_surely_absent("{}", 2, "a"));
}
END_TEST

/* ------------------------------------------------------------ differential */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define PICK(a) (a[rnd() % (sizeof a / sizeof a[0])])

typedef struct buf {
    char b[8192];
    size_t n;
} buf;

static void put(buf *o, const char *s)
{
    size_t n = strlen(s);
    if (o->n + n < sizeof o->b) {
        memcpy(o->b + o->n, s, n);
        o->n += n;
    }
}

static void ws(buf *o)
{
    static const char *const w[] = {"", "", "", " ", "\n", "\t ", "\r\n"};
    put(o, PICK(w));
}

static const char *const keys[] = {"a",          "b",      "plan",    "seats", "x", "",
                                   "p\\u006can", "a\\\"b", "\\u0000", "é",     "c"};

static void gen_value(buf *o, int depth);

static void gen_object(buf *o, int depth)
{
    put(o, "{");
    ws(o);
    int n = (int)(rnd() % 5);
    for (int i = 0; i < n; i++) {
        if (i) {
            put(o, ",");
            ws(o);
        }
        put(o, "\"");
        put(o, rnd() % 4 ? keys[rnd() % 6] : PICK(keys));
        put(o, "\"");
        ws(o);
        put(o, ":");
        ws(o);
        gen_value(o, depth + 1);
        ws(o);
    }
    put(o, "}");
}

static void gen_value(buf *o, int depth)
{
    static const char *const strings[] = {"\"Ann\"",
                                          "\"\"",
                                          "\"plan\"",
                                          "\"x\\\"y\"",
                                          "\"\\u00e9\"",
                                          "\"é\"",
                                          "\"ß\"",
                                          "\"สมชาย\"",
                                          "\"\xff\"",
                                          "\"\x01\"",
                                          "\"2024-01-02T03:04:05Z\"",
                                          "\"2024-13-02T03:04:05Z\"",
                                          "\"2021-06-30T23:59:59.123Z\"",
                                          "\"a\\nb\"",
                                          "\"\\ud83d\\ude00\"",
                                          "\"\\ud83d\"",
                                          "\"\xed\xa0\x80\"",
                                          "\"\xc0\xaf\""};
    static const char *const numbers[] = {"0",
                                          "-0",
                                          "7",
                                          "123",
                                          "-45",
                                          "999999999999999999",
                                          "-999999999999999999",
                                          "1234567890123456789",
                                          "99999999999999999999",
                                          "01",
                                          "1.5",
                                          "-0.0",
                                          "0.1",
                                          "1e3",
                                          "1E+2",
                                          "2.5e-3",
                                          "1.7976931348623157e309",
                                          "1.",
                                          ".5",
                                          "-",
                                          "3.14159265358979323846264338",
                                          "1234567890.0987654321"};
    static const char *const words[] = {"true", "false", "null", "tru", "nul", "truex"};
    int k = (int)(rnd() % (depth < 4 ? 6 : 4));
    switch (k) {
    case 0:
        put(o, PICK(strings));
        break;
    case 1:
        put(o, PICK(numbers));
        break;
    case 2:
        put(o, PICK(words));
        break;
    case 3:
        if (rnd() % 8 == 0) { /* a long string */
            put(o, "\"");
            int n = (int)(rnd() % 300) + 200;
            for (int i = 0; i < n; i++)
                put(o, "z");
            put(o, "\"");
        } else {
            put(o, PICK(strings));
        }
        break;
    case 4:
        gen_object(o, depth);
        break;
    default: {
        put(o, "[");
        ws(o);
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++) {
            if (i) {
                put(o, ",");
                ws(o);
            }
            gen_value(o, depth + 1);
        }
        ws(o);
        put(o, "]");
        break;
    }
    }
}

START_TEST(agrees_with_jansson)
{
    static const char *const paths[] = {"a",   "b",     "plan", "seats", "x",
                                        "a.b", "a.b.c", "b.a",  "x.a",   "c"};
    size_t plain = 0, valued = 0, docs = 30000;
    for (size_t it = 0; it < docs; it++) {
        buf o = {.n = 0};
        ws(&o);
        if (rnd() % 20 == 0)
            gen_value(&o, 0);
        else
            gen_object(&o, 0);
        ws(&o);
        /* damage one in ten */
        if (o.n > 0 && rnd() % 10 == 0) {
            static const char bytes[] = {'"', '\\', ',', ':', '}', ']', '{',        '[',       ' ',
                                         '0', 'e',  '.', '-', 'a', 0,   (char)0x80, (char)0xff};
            size_t at = rnd() % o.n;
            switch (rnd() % 3) {
            case 0:
                o.b[at] = bytes[rnd() % sizeof bytes];
                break;
            case 1:
                o.n = at;
                break;
            default:
                memmove(o.b + at, o.b + at + 1, o.n - at - 1);
                o.n--;
                break;
            }
        }
        user_view v;
        memset(&v, 0, sizeof v);
        v.f.customData = (rec_str){o.b, (uint32_t)o.n, true};
        json_path_value jv;
        const char *p0 = "a";
        plain += json_path_read(&jv, &p0, 1, o.b, o.n);
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            for (int t = STORE_CUSTOM_STRING; t <= STORE_CUSTOM_DATE; t++) {
                cdx_def d;
                memset(&d, 0, sizeof d);
                d.id = 1;
                d.type = (store_custom_type)t;
                strcpy(d.path, paths[i]);
                uint8_t got[CDX_MAX_STRING + 1], want[CDX_MAX_STRING + 1];
                size_t gn = custom_index_user_value(got, &d, &v);
                size_t wn = custom_index_tree_value(want, &d, o.b, o.n);
                ck_assert_msg(gn == wn && memcmp(got, want, gn) == 0,
                              "path %s type %d: %zu bytes, jansson %zu, text [%.*s]", paths[i], t,
                              gn, wn, (int)o.n, o.b);
                valued += wn > 0;
            }
    }
    /* Both readers were exercised. */
    ck_assert_uint_gt(plain, docs / 4);
    ck_assert_uint_lt(plain, docs - docs / 10);
    ck_assert_uint_gt(valued, docs / 5);
}
END_TEST

/* Several paths at once read as each alone. */
START_TEST(many_paths_as_one)
{
    const char *text = "{\"a\":{\"b\":\"x\"},\"seats\":3,\"plan\":\"Ann\",\"seats\":4}";
    static const char *const paths[] = {"plan", "seats", "a.b", "a", "zz"};
    json_path_value all[5];
    ck_assert(json_path_read(all, (const char *const *)paths, 5, text, strlen(text)));
    for (size_t i = 0; i < 5; i++) {
        json_path_value one;
        ck_assert(json_path_read(&one, &paths[i], 1, text, strlen(text)));
        ck_assert_int_eq(one.kind, all[i].kind);
        ck_assert(one.kind == JSON_PATH_NONE || (one.p == all[i].p && one.n == all[i].n));
    }
    ck_assert_int_eq(all[4].kind, JSON_PATH_NONE);
    ck_assert_int_eq(json_path_integer(&all[1]), 4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json_path");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, plain_values);
    tcase_add_test(tc, left_to_jansson);
    tcase_add_test(tc, surely_absent);
    tcase_add_test(tc, agrees_with_jansson);
    tcase_add_test(tc, many_paths_as_one);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
