/* The load's fast line parser: the lines it reads give the record the
 * jansson path gives, and it leaves every other line to that path. */
#include "fastline.h"
#include "fastline_check.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static int check_line(const char *line)
{
    return fastline_check(line, strlen(line));
}

/* Lines the fast path reads, each into the record jansson and
 * ctl_record_from_json make of it. */
static const char *const read_lines[] = {
    /* The load benchmark's line. */
    "{\"__typename\":\"UserModel\",\"reference\":\"r1\",\"email\":\"user1@example.com\","
    "\"firstName\":\"First1\",\"lastName\":\"Last\",\"customData\":{\"plan\":\"pro\",\"seats\":1}}"
    "\n",
    /* A dump's line: every field, nulls, booleans, dates. */
    "{\"__typename\":\"UserModel\",\"id\":\"01a2457f-280e-7047-b368-44a592df886b\","
    "\"reference\":\"r1\",\"email\":\"user1@example.com\",\"firstName\":\"First1\","
    "\"lastName\":\"Last\",\"phone\":null,\"locale\":null,\"timezone\":null,\"isOptedIn\":false,"
    "\"active\":true,\"avatarUrl\":null,\"customData\":{\"plan\":\"pro\",\"seats\":1},"
    "\"twoFactorEnabled\":false,\"tenantId\":null,\"createdAt\":\"2026-12-05T09:18:10.958Z\","
    "\"updatedAt\":\"2026-12-05T09:18:10.958Z\"}\n",
    /* Whitespace everywhere, and no newline. */
    " \t{ \"__typename\" : \"UserModel\" ,\r\n \"reference\" : \"a b\" , \"customData\" : "
    "{ \"x\" : [ 1 , -2 , 0 , true , false , null , \"s\" , { } , [ ] ] , \"y\" : { \"z\" : "
    "123456789012345678 } } } \r\n",
    /* Keys the type ignores, with any value; an empty customData. */
    "{\"tenant\":{\"a\":[1]},\"synced\":true,\"__typename\":\"UserModel\",\"customData\":{}}",
    /* A tenant. */
    "{\"__typename\":\"TenantModel\",\"name\":\"Acme\",\"reference\":null,\"users\":[]}\n",
    "{\"__typename\":\"TenantModel\",\"id\":\"01a2457f-280e-7047-b368-44a592df886c\","
    "\"name\":\"Acme\",\"isDefault\":true,\"createdAt\":\"2026-12-05T09:18:10Z\","
    "\"updatedAt\":\"2026-12-05T09:18:10.5+02:00\"}",
    /* Printable ASCII in strings, '/' and '~' included. */
    "{\"__typename\":\"UserModel\",\"avatarUrl\":\"https://x.example/a~b?c=d&e=f#g\","
    "\"firstName\":\" !#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~\"}",
};

/* Lines the fast path leaves to jansson: what jansson refuses, what
 * ctl_record_from_json refuses, and valid lines outside its form. */
static const char *const other_lines[] = {
    "",
    "\n",
    "[]",
    "\"UserModel\"",
    "{}",
    "{\"__typename\":\"UserModel\"} x",
    "{\"__typename\":\"UserModel\"}{}",
    "{\"__typename\":\"UserModel\",}",
    "{\"__typename\":\"UserModel\" \"email\":\"a\"}",
    "{\"__typename\":\"UserModel\",\"email\":\"a\"",
    "{'__typename':'UserModel'}",
    "{\"__typename\":\"NoModel\"}",
    "{\"__typename\":null}",
    "{\"__typename\":1}",
    "{\"email\":\"a@b.co\"}",
    "{\"__typename\":\"UserModel\",\"email\":\"a\",\"email\":\"b\"}",
    "{\"__typename\":\"UserModel\",\"__typename\":\"UserModel\"}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":1,\"a\":2}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":{\"b\":1,\"b\":1}}}",
    "{\"__typename\":\"UserModel\",\"nickname\":\"x\"}",
    "{\"__typename\":\"UserModel\",\"\":\"x\"}",
    "{\"__typename\":\"UserModel\",\"email\":1}",
    "{\"__typename\":\"UserModel\",\"email\":true}",
    "{\"__typename\":\"UserModel\",\"email\":{}}",
    "{\"__typename\":\"UserModel\",\"active\":\"true\"}",
    "{\"__typename\":\"UserModel\",\"active\":1}",
    "{\"__typename\":\"UserModel\",\"createdAt\":\"yesterday\"}",
    "{\"__typename\":\"UserModel\",\"createdAt\":1764217490123}",
    "{\"__typename\":\"UserModel\",\"customData\":\"{}\"}",
    "{\"__typename\":\"UserModel\",\"customData\":[]}",
    /* Escapes and bytes outside printable ASCII, valid or not. */
    "{\"__typename\":\"UserModel\",\"firstName\":\"A\\u00e9\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"A\\\"B\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"A\\u0000B\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"Ren\xc3\xa9\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"Ren\xe9\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"tab\there\"}",
    "{\"__typename\":\"UserModel\",\"firstName\":\"del\x7f\"}",
    /* Numbers outside its form. */
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":1.5}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":1e3}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":1E3}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":-0}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":01}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":+1}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":-}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":1234567890123456789}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":99999999999999999999}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":[1,]}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":tru}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":nul}}",
    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":truex}}",
};

START_TEST(reads_the_usual_lines_as_jansson_does)
{
    ck_assert_msg(check_line(read_lines[_i]) == 1, "line %d", _i);
}
END_TEST

START_TEST(leaves_other_lines_to_jansson)
{
    ck_assert_msg(check_line(other_lines[_i]) == 0, "line %d", _i);
}
END_TEST

/* customData nested deeper than CTL_FASTLINE_DEPTH is left to jansson,
 * up to it is read. */
START_TEST(depth_limit)
{
    char line[512];
    for (int depth = CTL_FASTLINE_DEPTH - 2; depth <= CTL_FASTLINE_DEPTH + 1; depth++) {
        /* customData's object is at depth 1; each array adds one. */
        int arrays = depth - 1;
        size_t n = (size_t)snprintf(line, sizeof line,
                                    "{\"__typename\":\"UserModel\",\"customData\":{\"a\":");
        for (int i = 0; i < arrays; i++)
            line[n++] = '[';
        for (int i = 0; i < arrays; i++)
            line[n++] = ']';
        n += (size_t)snprintf(line + n, sizeof line - n, "}}");
        ck_assert_int_eq(fastline_check(line, n), depth < CTL_FASTLINE_DEPTH ? 1 : 0);
    }
}
END_TEST

/* customData is written compact, in the order it was read. */
START_TEST(custom_data_text)
{
    static const char line[] = "{\"__typename\":\"UserModel\",\"customData\": { \"b\" : [ 1 , "
                               "{ } ] , \"a\" : null } }";
    const char *const ignored[] = {NULL};
    ctl_line_kind kinds[] = {{&model_user, ignored}};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__User u;
    size_t kind = 7;
    ck_assert(ctl_fastline_parse(&u, &kind, kinds, 1, line, sizeof line - 1, &arena));
    ck_assert_uint_eq(kind, 0);
    ck_assert_str_eq(u.custom_data, "{\"b\":[1,{}],\"a\":null}");
    roster_arena_free(&arena);
}
END_TEST

/* Nothing is written when the line is not read. */
START_TEST(outputs_untouched)
{
    static const char line[] = "{\"__typename\":\"UserModel\",\"nickname\":\"x\"}";
    ctl_line_kind kinds[] = {{&model_user, NULL}};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    Roster__V1__User u;
    memset(&u, 0x5a, sizeof u);
    size_t kind = 7;
    ck_assert(!ctl_fastline_parse(&u, &kind, kinds, 1, line, sizeof line - 1, &arena));
    ck_assert_uint_eq(kind, 7);
    ck_assert_uint_eq(((unsigned char *)&u)[0], 0x5a);
    roster_arena_free(&arena);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fastline");
    TCase *t = tcase_create("core");
    tcase_add_loop_test(t, reads_the_usual_lines_as_jansson_does, 0,
                        (int)(sizeof read_lines / sizeof read_lines[0]));
    tcase_add_loop_test(t, leaves_other_lines_to_jansson, 0,
                        (int)(sizeof other_lines / sizeof other_lines[0]));
    tcase_add_test(t, depth_limit);
    tcase_add_test(t, custom_data_text);
    tcase_add_test(t, outputs_untouched);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed == 0 ? 0 : 1;
}
