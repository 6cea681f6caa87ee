/* rosterctl's command line: commands, options, globals, help and errors. */
#include "cli.h"
#include "filter.h"
#include "pbfield.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ctl_args a;
static roster_err_detail d;

static int parse(int argc, const char **argv)
{
    memset(&a, 0, sizeof a);
    memset(&d, 0, sizeof d);
    return ctl_cli_parse(&a, argc, (char **)argv, &d);
}

#define PARSE_OK(...)                                                                              \
    do {                                                                                           \
        const char *v_[] = {"rosterctl", __VA_ARGS__};                                             \
        ck_assert_msg(parse((int)(sizeof v_ / sizeof v_[0]), v_) == ROSTER_E_OK, "%s", d.message); \
    } while (0)

#define PARSE_FAIL(needle, ...)                                                                    \
    do {                                                                                           \
        const char *v_[] = {"rosterctl", __VA_ARGS__};                                             \
        ck_assert_int_eq(parse((int)(sizeof v_ / sizeof v_[0]), v_), ROSTER_E_INVALID_ARGUMENT);   \
        ck_assert_msg(strstr(d.message, needle) != NULL, "'%s' lacks '%s'", d.message, needle);    \
    } while (0)

START_TEST(commands_and_positionals)
{
    PARSE_OK("users", "get", "0190b1c4-0000-7000-8000-000000000001");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_USERS_GET);
    ck_assert_str_eq(a.positional, "0190b1c4-0000-7000-8000-000000000001");
    ck_assert_str_eq(a.data, "./data");
    ck_assert_int_eq(a.timeout_ms, 5000);
    ck_assert(!a.json);
    PARSE_OK("tenants", "set-default", "X");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_TENANTS_SET_DEFAULT);
    PARSE_OK("verify");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_VERIFY);
    PARSE_OK("health");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_HEALTH);
    PARSE_FAIL("missing ID", "users", "get");
    PARSE_FAIL("unexpected argument 'extra'", "users", "get", "A", "extra");
    PARSE_FAIL("unexpected argument 'x'", "dump", "x");
    PARSE_FAIL("unknown command 'frobnicate'", "frobnicate");
    PARSE_FAIL("unknown command 'users purge'", "users", "purge", "X");
    PARSE_OK("users", "delete", "X");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_USERS_DELETE);
    ck_assert_str_eq(a.positional, "X");
    PARSE_FAIL("missing ID", "users", "delete");
    PARSE_OK("tenants", "delete", "T");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_TENANTS_DELETE);
    PARSE_FAIL("missing ID", "tenants", "delete");
    /* compact's data directory is optional: the word or --data. */
    PARSE_OK("compact", "/var/lib/roster");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_COMPACT);
    ck_assert_str_eq(a.positional, "/var/lib/roster");
    PARSE_OK("--data", "/srv/d", "compact");
    ck_assert_ptr_null(a.positional);
    ck_assert_str_eq(a.data, "/srv/d");
    PARSE_FAIL("unexpected argument 'b'", "compact", "a", "b");
    PARSE_FAIL("users: which one?", "users");
    PARSE_FAIL("no command given");
}
END_TEST

START_TEST(options)
{
    PARSE_OK("--data", "/tmp/d", "users", "list", "--filter", "email~%@a.com",
             "--filter=active=true", "--order", "createdAt:desc", "--limit", "5", "--json",
             "--offset=10");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_USERS_LIST);
    ck_assert_str_eq(a.data, "/tmp/d");
    ck_assert(a.json);
    ck_assert_uint_eq(a.nopts, 5);
    ck_assert_str_eq(a.opts[0].name, "filter");
    ck_assert_str_eq(a.opts[0].value, "email~%@a.com");
    ck_assert_str_eq(a.opts[1].value, "active=true");
    ck_assert_str_eq(ctl_args_get(&a, "order"), "createdAt:desc");
    ck_assert_str_eq(ctl_args_get(&a, "offset"), "10");
    ck_assert_ptr_null(ctl_args_get(&a, "search"));

    PARSE_OK("load", "--dry-run", "--data=./x", "--connect", "tcp://127.0.0.1:22001");
    ck_assert_str_eq(ctl_args_get(&a, "dry-run"), "");
    ck_assert_str_eq(a.connect, "tcp://127.0.0.1:22001");
    ck_assert_str_eq(a.data, "./x");
    ck_assert(a.progress);

    /* --no-progress: a global flag, before or after the command. */
    PARSE_OK("--no-progress", "verify");
    ck_assert(!a.progress);
    PARSE_OK("load", "--batch", "10", "--no-progress");
    ck_assert(!a.progress);
    ck_assert_str_eq(ctl_args_get(&a, "batch"), "10");
    PARSE_OK("dump");
    ck_assert(a.progress);
    PARSE_FAIL("--no-progress takes no value", "dump", "--no-progress=yes");
    PARSE_FAIL("--no-progress is given twice", "--no-progress", "dump", "--no-progress");

    /* A value that looks like an option is still the option's value. */
    PARSE_OK("users", "create", "--reference", "--odd", "--email", "a@b.c");
    ck_assert_str_eq(ctl_args_get(&a, "reference"), "--odd");
    /* After --, words are positional even when they start with dashes. */
    PARSE_OK("users", "get", "--", "--weird-id");
    ck_assert_str_eq(a.positional, "--weird-id");

    PARSE_FAIL("unknown option --filter", "dump", "--filter", "x");
    PARSE_FAIL("--limit needs a value", "users", "list", "--limit");
    PARSE_FAIL("--order is given twice", "users", "list", "--order", "email", "--order", "phone");
    PARSE_FAIL("--dry-run takes no value", "load", "--dry-run=yes");
    PARSE_FAIL("--json is given twice", "--json", "health", "--json");
    PARSE_FAIL("--timeout must be milliseconds", "health", "--timeout", "soon");
    PARSE_FAIL("given before a command", "--limit", "3", "users", "list");
    PARSE_FAIL("unknown option --colour", "users", "update", "X", "--colour", "red");
}
END_TEST

START_TEST(keys_and_credentials)
{
    PARSE_OK("keys", "create", "--name", "ops", "--role", "admin", "--expires", "30d");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_KEYS_CREATE);
    ck_assert_str_eq(ctl_args_get(&a, "role"), "admin");
    ck_assert_ptr_null(a.key);
    ck_assert_ptr_null(a.key_file);
    ck_assert_ptr_null(a.credential);
    PARSE_OK("--key", "rstr_x", "keys", "list", "--all");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_KEYS_LIST);
    ck_assert_str_eq(a.key, "rstr_x");
    ck_assert_ptr_nonnull(ctl_args_get(&a, "all"));
    /* the credential is loaded later, never by the parser */
    ck_assert_ptr_null(a.credential);
    PARSE_OK("keys", "show", "K1", "--key-file=/run/k", "--offline");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_KEYS_SHOW);
    ck_assert_str_eq(a.positional, "K1");
    ck_assert_str_eq(a.key_file, "/run/k");
    PARSE_OK("keys", "revoke", "K1", "--key=rstr_y", "--key-file", "f");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_KEYS_REVOKE);
    ck_assert_str_eq(a.key, "rstr_y");
    PARSE_OK("keys", "rotate", "K1", "--grace", "0");
    ck_assert_int_eq(a.cmd->id, CTL_CMD_KEYS_ROTATE);
    ck_assert_str_eq(ctl_args_get(&a, "grace"), "0");
    PARSE_FAIL("missing ID", "keys", "rotate");
    PARSE_FAIL("unknown option --grace", "keys", "revoke", "K1", "--grace", "1h");
    PARSE_FAIL("option --key is given twice", "--key", "a", "health", "--key", "b");
    PARSE_FAIL("option --key-file needs a value", "health", "--key-file");
    PARSE_FAIL("keys: which one?", "keys");
}
END_TEST

START_TEST(help)
{
    PARSE_OK("--help");
    ck_assert(a.help);
    ck_assert_ptr_null(a.cmd);
    PARSE_OK("users", "--help");
    ck_assert(a.help);
    ck_assert_str_eq(a.group, "users");
    PARSE_OK("users", "get", "-h");
    ck_assert(a.help);
    ck_assert_int_eq(a.cmd->id, CTL_CMD_USERS_GET);
    PARSE_OK("help");
    ck_assert(a.help);

    /* The command help documents every filter operator and the exit codes. */
    PARSE_OK("users", "list", "--help");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ctl_cli_help(f, &a);
    fclose(f);
    const char *needles[] = {"equalTo",         "notEqualTo",    "like",          "iLike",
                             "valueIn",         "valueNotIn",    "lessThan",      "lessThanEqual",
                             "moreThan",        "moreThanEqual", "IS NULL",       "IS NOT NULL",
                             "withDeactivated", "--search",      "--order",       "--limit",
                             "--offset",        "Exit codes",    "2 usage error", "--no-progress"};
    for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
        ck_assert_msg(strstr(buf, needles[i]) != NULL, "help lacks %s", needles[i]);
    free(buf);
    /* The long offline commands say what they report on stderr. */
    const char *offline[] = {"dump", "load", "verify"};
    for (size_t i = 0; i < 3; i++) {
        const char *v[] = {"rosterctl", offline[i], "--help"};
        ck_assert_int_eq(parse(3, v), ROSTER_E_OK);
        f = open_memstream(&buf, &len);
        ctl_cli_help(f, &a);
        fclose(f);
        ck_assert_msg(strstr(buf, "ROSTERCTL_PROGRESS_INTERVAL_MS") != NULL, "%s", offline[i]);
        free(buf);
    }
}
END_TEST

/* The help text of a command, as printed (caller frees). */
static char *help_of(const char *group, const char *command)
{
    const char *v[] = {"rosterctl", group, command, "--help"};
    ck_assert_int_eq(parse(4, v), ROSTER_E_OK);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    ctl_cli_help(f, &a);
    fclose(f);
    return out;
}

/* Whether `word` stands in text as a whole word. */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word))
        if ((p == text || strchr(" \n|(", p[-1]) != NULL) && strchr(" \n|):.", p[n]) != NULL)
            return true;
    return false;
}

/* Every value of e (but UNSPECIFIED) is named in text. */
static void names_every_value(const char *text, const ProtobufCEnumDescriptor *e)
{
    for (unsigned i = 0; i < e->n_values; i++) {
        char name[64];
        if (e->values[i].value == 0)
            continue;
        ctl_pbfield_enum_name(name, sizeof name, e, &e->values[i]);
        ck_assert_msg(has_word(text, name), "help lacks %s", name);
    }
}

START_TEST(help_names_what_the_proto_has)
{
    /* The help text is written by hand; it must name every filter field,
     * sort field and search key the messages define. */
    const struct {
        const char *group;
        const ctl_field_table *filter;
        const ProtobufCEnumDescriptor *sort;
    } lists[] = {
        {"users", &ctl_user_filter_fields, &roster__v1__user_sort_field__descriptor},
        {"tenants", &ctl_tenant_filter_fields, &roster__v1__tenant_sort_field__descriptor}};
    for (size_t k = 0; k < 2; k++) {
        char *text = help_of(lists[k].group, "list");
        const char *fields = strstr(text, "Fields:");
        ck_assert_ptr_nonnull(fields);
        for (unsigned i = 0; i < lists[k].filter->pb->n_fields; i++) {
            char name[64];
            model_camel_name(name, sizeof name, lists[k].filter->pb->fields[i].name);
            ck_assert_msg(has_word(fields, name), "%s list help lacks field %s", lists[k].group,
                          name);
        }
        names_every_value(text, lists[k].sort);
        if (k == 0)
            names_every_value(text, &roster__v1__user_search_key__descriptor);
        free(text);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_cli");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, commands_and_positionals);
    tcase_add_test(tc, options);
    tcase_add_test(tc, keys_and_credentials);
    tcase_add_test(tc, help);
    tcase_add_test(tc, help_names_what_the_proto_has);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
