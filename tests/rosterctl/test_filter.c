/* The compact filter, order and search syntax of rosterctl. */
#include "filter.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ctl_filter f;
static roster_err_detail d;

static void setup(void)
{
    memset(&f, 0, sizeof f);
    memset(&d, 0, sizeof d);
}

static void teardown(void)
{
    ctl_filter_free(&f);
}

static const ctl_cond *parse_user(const char *expr)
{
    size_t before = f.count;
    ck_assert_msg(ctl_filter_parse(&f, &ctl_user_filter_fields, expr, &d) == ROSTER_E_OK, "%s: %s",
                  expr, d.message);
    ck_assert_uint_eq(f.count, before + 1);
    return &f.conds[f.count - 1];
}

static void reject_user(const char *expr, const char *needle)
{
    size_t before = f.count;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_user_filter_fields, expr, &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_uint_eq(f.count, before);
    ck_assert_msg(strstr(d.message, needle) != NULL, "%s: message '%s' lacks '%s'", expr, d.message,
                  needle);
}

START_TEST(string_operators)
{
    const ctl_cond *c = parse_user("email~%@acme.com");
    ck_assert_str_eq(c->name, "email");
    ck_assert_int_eq(c->op, CTL_OP_LIKE);
    ck_assert_str_eq(c->text, "%@acme.com");
    c = parse_user("lastName~*o'%");
    ck_assert_int_eq(c->op, CTL_OP_ILIKE);
    ck_assert_str_eq(c->text, "o'%");
    c = parse_user("firstName=Ann Lee");
    ck_assert_int_eq(c->op, CTL_OP_EQ);
    ck_assert_str_eq(c->text, "Ann Lee");
    c = parse_user("locale!=en-US");
    ck_assert_int_eq(c->op, CTL_OP_NE);
    ck_assert_str_eq(c->text, "en-US");
    /* The value is taken literally: a = inside it is not an operator. */
    c = parse_user("reference=a=b!=c");
    ck_assert_str_eq(c->name, "reference");
    ck_assert_str_eq(c->text, "a=b!=c");
    /* Empty value is the empty string. */
    c = parse_user("phone=");
    ck_assert_str_eq(c->text, "");
}
END_TEST

START_TEST(null_and_quoted_null)
{
    const ctl_cond *c = parse_user("phone=null");
    ck_assert_int_eq(c->op, CTL_OP_IS_NULL);
    ck_assert_str_eq(ctl_op_slot(c->op), "equalTo");
    c = parse_user("tenantId!=null");
    ck_assert_int_eq(c->op, CTL_OP_NOT_NULL);
    ck_assert_str_eq(ctl_op_slot(c->op), "notEqualTo");
    c = parse_user("firstName=\"null\"");
    ck_assert_int_eq(c->op, CTL_OP_EQ);
    ck_assert_str_eq(c->text, "null");
    c = parse_user("lastName=\"say \\\"hi\\\" \\\\ [x]\"");
    ck_assert_str_eq(c->text, "say \"hi\" \\ [x]");
    c = parse_user("active=null");
    ck_assert_int_eq(c->op, CTL_OP_IS_NULL);
    c = parse_user("createdAt!=null");
    ck_assert_int_eq(c->op, CTL_OP_NOT_NULL);
    reject_user("email~null", "null goes only with");
    reject_user("createdAt<null", "null goes only with");
}
END_TEST

START_TEST(lists)
{
    const ctl_cond *c = parse_user("locale=[en-US, de-DE ,\"a,b]\"]");
    ck_assert_int_eq(c->op, CTL_OP_IN);
    ck_assert_uint_eq(c->list_len, 3);
    ck_assert_str_eq(c->list[0], "en-US");
    ck_assert_str_eq(c->list[1], "de-DE");
    ck_assert_str_eq(c->list[2], "a,b]");
    c = parse_user("id!=[0190b1c4-0000-7000-8000-000000000001]");
    ck_assert_int_eq(c->op, CTL_OP_NOT_IN);
    ck_assert_uint_eq(c->list_len, 1);
    c = parse_user("tenantId=[]");
    ck_assert_int_eq(c->op, CTL_OP_IN);
    ck_assert_uint_eq(c->list_len, 0);
    c = parse_user("email=\"[literal]\"");
    ck_assert_int_eq(c->op, CTL_OP_EQ);
    ck_assert_str_eq(c->text, "[literal]");
    reject_user("phone!=[a,b", "closing ']'");
    reject_user("email=[a]x", "after the list");
    reject_user("reference=[\"a\" b]", "expected ','");
    reject_user("active=[true]", "does not apply to boolean field active");
    reject_user("createdAt=[2026-01-01T00:00:00Z]", "does not apply to date");
}
END_TEST

START_TEST(booleans_and_dates)
{
    const ctl_cond *c = parse_user("active=true");
    ck_assert_int_eq(c->kind, MODEL_FILTER_BOOL);
    ck_assert(c->boolean);
    c = parse_user("isOptedIn!=false");
    ck_assert_int_eq(c->op, CTL_OP_NE);
    ck_assert(!c->boolean);
    c = parse_user("withDeactivated=true");
    ck_assert_str_eq(c->name, "withDeactivated");
    ck_assert_ptr_eq(c->field, roster__v1__user_filter__descriptor.fields + 10);
    c = parse_user("createdAt>2026-01-01T00:00:00Z");
    ck_assert_int_eq(c->op, CTL_OP_GT);
    ck_assert_int_eq(c->ms, 1767225600000LL);
    c = parse_user("createdAt<=2026-01-01T00:00:00.123Z");
    ck_assert_int_eq(c->op, CTL_OP_LE);
    ck_assert_int_eq(c->ms, 1767225600123LL);
    c = parse_user("updatedAt>=2026-01-01T00:00:00Z");
    ck_assert_int_eq(c->op, CTL_OP_GE);
    c = parse_user("updatedAt<2026-01-02T00:00:00+01:00");
    ck_assert_int_eq(c->op, CTL_OP_LT);
    ck_assert_int_eq(c->ms, 1767225600000LL + 23LL * 3600000LL);
    c = parse_user("updatedAt=2026-01-01T00:00:00Z");
    ck_assert_int_eq(c->op, CTL_OP_EQ);
    c = parse_user("updatedAt!=2026-01-01T00:00:00Z");
    ck_assert_int_eq(c->op, CTL_OP_NE);
    reject_user("isOptedIn=yes", "true or false");
    reject_user("createdAt>yesterday", "ISO-8601");
    reject_user("active~true", "does not apply to boolean");
    reject_user("email>a", "does not apply to string");
    reject_user("id~abc", "does not apply to id");
}
END_TEST

START_TEST(field_and_syntax_errors)
{
    reject_user("colour=red", "unknown user field 'colour'");
    reject_user("=x", "expected FIELD OP VALUE");
    reject_user("email", "expected an operator");
    reject_user("email:x", "expected an operator");
    reject_user("name=acme", "unknown user field 'name'");
    reject_user("email=\"open", "unterminated");
    reject_user("email=\"a\"b", "after the quoted string");
    reject_user("email=\"a\\nb\"", "may be escaped");
    /* An operator slot once per field; different slots combine. */
    parse_user("createdAt>=2026-01-01T00:00:00Z");
    parse_user("createdAt<2027-01-01T00:00:00Z");
    reject_user("createdAt>=2025-01-01T00:00:00Z", "createdAt.moreThanEqual is given twice");
    parse_user("phone=x");
    reject_user("phone=null", "phone.equalTo is given twice");
}
END_TEST

START_TEST(every_user_field_and_operator)
{
    /* Each field of UserFilterArgType with each of its operators. */
    const char *strings[] = {"reference", "email",  "firstName", "lastName",
                             "phone",     "locale", "timezone"};
    const char *sops[] = {"=v", "!=v", "~v%", "~*v%", "=[a,b]", "!=[c]", "=null", "!=null"};
    for (size_t i = 0; i < 7; i++) {
        ctl_filter_free(&f);
        for (size_t k = 0; k < 8; k++) {
            char expr[64];
            snprintf(expr, sizeof expr, "%s%s", strings[i], sops[k]);
            if (k == 6) /* =null shares equalTo with =v */
                ctl_filter_free(&f);
            parse_user(expr);
        }
    }
    const char *ids[] = {"id", "tenantId"};
    const char *iops[] = {"=x", "!=x", "=[x]", "!=[y]"};
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 4; k++) {
            char expr[64];
            snprintf(expr, sizeof expr, "%s%s", ids[i], iops[k]);
            parse_user(expr);
        }
    const char *bools[] = {"active", "isOptedIn", "withDeactivated"};
    for (size_t i = 0; i < 3; i++) {
        char expr[64];
        snprintf(expr, sizeof expr, "%s=true", bools[i]);
        parse_user(expr);
        snprintf(expr, sizeof expr, "%s!=false", bools[i]);
        parse_user(expr);
    }
    const char *dops[] = {"=", "!=", "<", "<=", ">", ">="};
    for (size_t k = 0; k < 6; k++) {
        char expr[64];
        snprintf(expr, sizeof expr, "createdAt%s2026-01-01T00:00:00Z", dops[k]);
        parse_user(expr);
        snprintf(expr, sizeof expr, "updatedAt%s2026-01-01T00:00:00Z", dops[k]);
        parse_user(expr);
    }
}
END_TEST

START_TEST(tenant_fields)
{
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_tenant_filter_fields, "name~*acme%", &d),
                     ROSTER_E_OK);
    ck_assert_str_eq(f.conds[0].name, "name");
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_tenant_filter_fields, "reference=null", &d),
                     ROSTER_E_OK);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_tenant_filter_fields, "id=[a,b]", &d), ROSTER_E_OK);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_tenant_filter_fields, "email=x", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "unknown tenant field 'email'"));
}
END_TEST

START_TEST(order_and_search)
{
    ctl_order o = {0};
    ck_assert_int_eq(ctl_order_parse(&o, false, "createdAt:desc", &d), ROSTER_E_OK);
    ck_assert(o.set);
    ck_assert_int_eq(o.sort, 2);
    ck_assert_int_eq(o.order, 2);
    ck_assert_int_eq(ctl_order_parse(&o, false, "FIRST_NAME", &d), ROSTER_E_OK);
    ck_assert_int_eq(o.sort, 4);
    ck_assert_int_eq(o.order, 1);
    ck_assert_int_eq(ctl_order_parse(&o, false, "updatedAt:ASC", &d), ROSTER_E_OK);
    ck_assert_int_eq(o.sort, 9);
    ck_assert_int_eq(ctl_order_parse(&o, true, "name:desc", &d), ROSTER_E_OK);
    ck_assert_int_eq(o.sort, 2);
    ck_assert_int_eq(ctl_order_parse(&o, true, "email", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "unknown sort field 'email'"));
    ck_assert_int_eq(ctl_order_parse(&o, false, "email:up", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "asc or desc"));

    ctl_search s = {0};
    ck_assert_int_eq(ctl_search_parse(&s, "email:acme", &d), ROSTER_E_OK);
    ck_assert_int_eq(s.key, 1);
    ck_assert_str_eq(s.value, "acme");
    ck_assert_int_eq(ctl_search_parse(&s, "timezone:Asia/", &d), ROSTER_E_OK);
    ck_assert_int_eq(s.key, 6);
    ck_assert_int_eq(ctl_search_parse(&s, "reference:x", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(ctl_search_parse(&s, "acme", &d), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "KEY:VALUE"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_filter");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, string_operators);
    tcase_add_test(tc, null_and_quoted_null);
    tcase_add_test(tc, lists);
    tcase_add_test(tc, booleans_and_dates);
    tcase_add_test(tc, field_and_syntax_errors);
    tcase_add_test(tc, every_user_field_and_operator);
    tcase_add_test(tc, tenant_fields);
    tcase_add_test(tc, order_and_search);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
