/* Field masks from selection sets (gateway/mask.c) on the served schema:
 * each document runs through the engine with resolvers that record the
 * mask a root field (users, user, tenant) or the batched UserModel.tenant
 * lookup would send, so fragments, inline fragments, aliases, directives
 * and nesting are followed exactly as execution follows them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "field_mask.h"
#include "graphql.h"
#include "mask.h"
#include "schema_sdl.h"

static gql_schema *schema;
static gw_mask *users_m, *tenants_m;

/* What the last execution's resolvers computed; 0 = not asked. */
static uint64_t root_mask, tenant_mask;
static int tenant_walks;

static void setup(void)
{
    gql_errors e;
    gql_errors_init(&e);
    ck_assert_int_eq(gql_schema_build(&schema, &e, gw_schema_sdl, gw_schema_sdl_len), ROSTER_E_OK);
    ck_assert_int_eq(gql_schema_use_standard_scalars(schema), ROSTER_E_OK);
    gql_errors_free(&e);
    ck_assert_int_eq(gw_mask_new(&users_m, schema, &model_user), ROSTER_E_OK);
    ck_assert_int_eq(gw_mask_new(&tenants_m, schema, &model_tenant), ROSTER_E_OK);
}

static void teardown(void)
{
    gw_mask_free(users_m);
    gw_mask_free(tenants_m);
    gql_schema_free(schema);
}

static uint64_t U(const char *name)
{
    uint64_t b = field_mask_named(&model_user, name, strlen(name));
    ck_assert_msg(b != 0, "%s", name);
    return b;
}

static uint64_t T(const char *name)
{
    uint64_t b = field_mask_named(&model_tenant, name, strlen(name));
    ck_assert_msg(b != 0, "%s", name);
    return b;
}

static int dummy;

/* Query.users / Query.tenant: record the mask, answer nothing more. */
static void root_users(gql_call *c, void *ud)
{
    ck_assert_int_eq(gw_mask_select(&root_mask, c, ud), ROSTER_E_OK);
    gql_resolve_error(c, "NOT_FOUND", "stop", NULL);
}

static void root_user(gql_call *c, void *ud)
{
    ck_assert_int_eq(gw_mask_select(&root_mask, c, ud), ROSTER_E_OK);
    gql_resolve_done(c, gql_r_object(&dummy));
}

/* Like user_tenant_batch: one walk per distinct selection. */
static void user_tenant(gql_call *const *calls, size_t n, void *ud)
{
    const void *walked = NULL;
    for (size_t i = 0; i < n; i++) {
        if (gql_call_selection(calls[i]) != walked) {
            uint64_t m;
            ck_assert_int_eq(gw_mask_select(&m, calls[i], ud), ROSTER_E_OK);
            tenant_mask |= m;
            tenant_walks++;
            walked = gql_call_selection(calls[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        gql_resolve_done(calls[i], gql_r_null());
}

/* Every other field: a value of its type. */
static void any_value(gql_call *c, void *ud)
{
    (void)ud;
    const gql_type *t = gql_call_field(c)->type->named;
    if (t->kind == GQL_KIND_OBJECT)
        gql_resolve_done(c, gql_r_object(&dummy));
    else if (t->name.len == 7 && memcmp(t->name.ptr, "Boolean", 7) == 0)
        gql_resolve_done(c, gql_r_bool(1));
    else if (t->name.len == 3 || t->name.len == 4) /* Int, Date */
        gql_resolve_done(c, gql_r_int(1));
    else
        gql_resolve_done(c, gql_r_string("x", 1));
}

static void on_done(gql_response *resp, void *ud)
{
    (void)ud;
    free(resp->body);
}

static void run(const char *q, const char *vars)
{
    root_mask = tenant_mask = 0;
    tenant_walks = 0;
    gql_resolvers *r = NULL;
    ck_assert_int_eq(gql_resolvers_new(&r, schema), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "users", root_users, users_m), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "user", root_user, users_m), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "tenant", root_user, tenants_m), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set_batch(r, "UserModel", "tenant", user_tenant, tenants_m),
                     ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set_default(r, NULL, any_value, NULL), ROSTER_E_OK);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_msg(gql_prepare(&doc, &e, schema, q, strlen(q), NULL) == ROSTER_E_OK, "%s: %s", q,
                  e.head ? e.head->message : "");
    json_t *v = vars ? json_loads(vars, 0, NULL) : NULL;
    gql_exec_params p = {
        .schema = schema, .doc = doc, .variables = v, .resolvers = r, .complete = on_done};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    json_decref(v);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
}

START_TEST(ids_only)
{
    run("{ users(limit: 1000) { data { id } } }", NULL);
    ck_assert_uint_eq(root_mask, U("id"));
    run("{ users { totalCount } }", NULL);
    ck_assert_uint_eq(root_mask, U("id"));
    run("{ users { data { __typename } } }", NULL);
    ck_assert_uint_eq(root_mask, U("id"));
}
END_TEST

START_TEST(aliases_and_fragments)
{
    run("query { users { data { e: email ...F ... on UserModel { firstName } ... { phone } } } }"
        " fragment F on UserModel { lastName __typename }",
        NULL);
    ck_assert_uint_eq(root_mask,
                      U("id") | U("email") | U("firstName") | U("lastName") | U("phone"));
    /* A fragment on the page type, spread twice, and an alias of the page. */
    run("{ p: users { ...P ...P } } fragment P on UserPageModel { data { a: locale b: locale } }",
        NULL);
    ck_assert_uint_eq(root_mask, U("id") | U("locale"));
    run("{ users { data { customData createdAt active } } }", NULL);
    ck_assert_uint_eq(root_mask, U("id") | U("customData") | U("createdAt") | U("active"));
}
END_TEST

START_TEST(directives)
{
    const char *q = "query($s: Boolean!) { users { data { email @skip(if: $s) "
                    "... on UserModel @include(if: $s) { timezone } locale } } }";
    run(q, "{\"s\": true}");
    ck_assert_uint_eq(root_mask, U("id") | U("timezone") | U("locale"));
    run(q, "{\"s\": false}");
    ck_assert_uint_eq(root_mask, U("id") | U("email") | U("locale"));
}
END_TEST

START_TEST(nested_records)
{
    /* The user's tenant is a lookup of its own: the users' mask needs only
     * tenantId, and the lookup's mask the tenant fields selected. */
    run("{ user(id: \"u\") { tenant { name ...N } } } fragment N on TenantModel { createdAt }",
        NULL);
    ck_assert_uint_eq(root_mask, U("id") | U("tenantId"));
    ck_assert_uint_eq(tenant_mask, T("id") | T("name") | T("createdAt"));
    /* A tenant's user count reads its id only. */
    run("{ tenant(id: \"t\") { users { totalCount } } }", NULL);
    ck_assert_uint_eq(root_mask, T("id"));
    run("{ tenant(id: \"t\") { reference isDefault } }", NULL);
    ck_assert_uint_eq(root_mask, T("id") | T("reference") | T("isDefault"));
}
END_TEST

START_TEST(batch_walks_each_selection_once)
{
    /* Two aliases of tenant: two selections; each walked once however many
     * users the page holds. */
    run("{ user(id: \"u\") { a: tenant { name } b: tenant { reference } } }", NULL);
    ck_assert_uint_eq(tenant_mask, T("id") | T("name") | T("reference"));
    ck_assert_int_le(tenant_walks, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_mask");
    TCase *tc = tcase_create("mask");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ids_only);
    tcase_add_test(tc, aliases_and_fragments);
    tcase_add_test(tc, directives);
    tcase_add_test(tc, nested_records);
    tcase_add_test(tc, batch_walks_each_selection_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
