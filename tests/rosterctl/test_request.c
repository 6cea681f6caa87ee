/* Parsed --filter/--order/--search become the right ListUsersRequest and
 * ListTenantsRequest: built through the descriptors, packed and unpacked
 * again with protobuf-c (as the service reads them), so every field and
 * operator is checked where the service finds it. */
#include "filter.h"
#include "request.h"

#include "roster.pb-c.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t buf[65536];

/* Packs req and unpacks it again (caller frees the result). */
static ProtobufCMessage *round_trip(const ProtobufCMessage *req)
{
    size_t n = protobuf_c_message_get_packed_size(req);
    ck_assert_uint_le(n, sizeof buf);
    protobuf_c_message_pack(req, buf);
    ProtobufCMessage *out = protobuf_c_message_unpack(req->descriptor, NULL, n, buf);
    ck_assert_ptr_nonnull(out);
    return out;
}

static void add(ctl_filter *f, const ctl_field_table *t, const char *expr)
{
    roster_err_detail d = {{0}};
    ck_assert_msg(ctl_filter_parse(f, t, expr, &d) == ROSTER_E_OK, "%s: %s", expr, d.message);
}

static Roster__V1__ListUsersRequest *users_request(const char *const *exprs, size_t n,
                                                   const char *order, const char *search)
{
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_search s = {0};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    roster_err_detail d = {{0}};
    for (size_t i = 0; i < n; i++)
        add(&f, &ctl_user_filter_fields, exprs[i]);
    if (order)
        ck_assert_int_eq(ctl_order_parse(&o, false, order, &d), ROSTER_E_OK);
    if (search)
        ck_assert_int_eq(ctl_search_parse(&s, search, &d), ROSTER_E_OK);
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    ck_assert_int_eq(ctl_list_request(&req.base, &arena, &f, &o, &s), ROSTER_E_OK);
    ProtobufCMessage *out = round_trip(&req.base);
    roster_arena_free(&arena);
    ctl_filter_free(&f);
    return (Roster__V1__ListUsersRequest *)out;
}

START_TEST(string_fields_every_operator)
{
    const char *exprs[] = {"email=a@b.c", "email!=x@y.z", "email~%@acme.com", "email~*%@ACME%",
                           "email=[p,q]", "email!=[r]",   "firstName=null",   "lastName!=null",
                           "phone=[]",    "locale~en%",   "timezone!=[]",     "reference~*r%"};
    Roster__V1__ListUsersRequest *r = users_request(exprs, 12, NULL, NULL);
    Roster__V1__UserFilter *uf = r->filter;
    ck_assert_ptr_nonnull(uf);
    Roster__V1__StringFilter *e = uf->email;
    ck_assert_str_eq(e->equal_to, "a@b.c");
    ck_assert_str_eq(e->not_equal_to, "x@y.z");
    ck_assert_str_eq(e->like, "%@acme.com");
    ck_assert_str_eq(e->i_like, "%@ACME%");
    ck_assert_uint_eq(e->value_in->n_values, 2);
    ck_assert_str_eq(e->value_in->values[1], "q");
    ck_assert_uint_eq(e->value_not_in->n_values, 1);
    ck_assert(!e->has_equal_to_null);
    ck_assert(uf->first_name->has_equal_to_null && uf->first_name->equal_to_null);
    ck_assert_ptr_null(uf->first_name->equal_to);
    ck_assert(uf->last_name->has_not_equal_to_null && uf->last_name->not_equal_to_null);
    /* An empty list is present and empty: matches nothing / excludes nothing. */
    ck_assert_ptr_nonnull(uf->phone->value_in);
    ck_assert_uint_eq(uf->phone->value_in->n_values, 0);
    ck_assert_ptr_nonnull(uf->timezone->value_not_in);
    ck_assert_str_eq(uf->locale->like, "en%");
    ck_assert_str_eq(uf->reference->i_like, "r%");
    ck_assert_ptr_null(uf->id);
    ck_assert_ptr_null(uf->active);
    ck_assert_ptr_null(r->order);
    ck_assert_ptr_null(r->search);
    roster__v1__list_users_request__free_unpacked(r, NULL);
}
END_TEST

START_TEST(id_bool_date_fields)
{
    const char *exprs[] = {"id=[a,b,c]",
                           "id!=z",
                           "tenantId=null",
                           "active=false",
                           "isOptedIn!=true",
                           "withDeactivated=true",
                           "createdAt>=2026-01-01T00:00:00Z",
                           "createdAt<2026-02-01T00:00:00Z",
                           "updatedAt>2026-01-01T00:00:00.001Z",
                           "updatedAt<=2026-01-01T00:00:00.002Z",
                           "updatedAt!=2026-01-01T00:00:00.003Z",
                           "updatedAt=2026-01-01T00:00:00.004Z"};
    Roster__V1__ListUsersRequest *r = users_request(exprs, 12, "lastName:desc", "phone:+66");
    Roster__V1__UserFilter *uf = r->filter;
    ck_assert_uint_eq(uf->id->value_in->n_values, 3);
    ck_assert_str_eq(uf->id->not_equal_to, "z");
    ck_assert(uf->tenant_id->has_equal_to_null && uf->tenant_id->equal_to_null);
    ck_assert(uf->active->has_equal_to && !uf->active->equal_to);
    ck_assert(uf->is_opted_in->has_not_equal_to && uf->is_opted_in->not_equal_to);
    ck_assert(uf->with_deactivated->has_equal_to && uf->with_deactivated->equal_to);
    const int64_t jan1 = 1767225600000LL;
    ck_assert(uf->created_at->has_more_than_equal);
    ck_assert_int_eq(uf->created_at->more_than_equal, jan1);
    ck_assert(uf->created_at->has_less_than);
    ck_assert_int_eq(uf->created_at->less_than, jan1 + 31LL * 86400000LL);
    ck_assert_int_eq(uf->updated_at->more_than, jan1 + 1);
    ck_assert_int_eq(uf->updated_at->less_than_equal, jan1 + 2);
    ck_assert_int_eq(uf->updated_at->not_equal_to, jan1 + 3);
    ck_assert_int_eq(uf->updated_at->equal_to, jan1 + 4);
    ck_assert_int_eq(r->order->sort, ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME);
    ck_assert_int_eq(r->order->order, ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC);
    ck_assert_int_eq(r->search->key, ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_PHONE);
    ck_assert_str_eq(r->search->value, "+66");
    roster__v1__list_users_request__free_unpacked(r, NULL);
}
END_TEST

START_TEST(sort_numbers_match_the_proto)
{
    static const struct {
        const char *name;
        int sort;
    } u[] = {{"active", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_ACTIVE},
             {"createdAt", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_CREATED_AT},
             {"email", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_EMAIL},
             {"firstName", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME},
             {"LAST_NAME", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LAST_NAME},
             {"locale", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_LOCALE},
             {"phone", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_PHONE},
             {"TIMEZONE", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_TIMEZONE},
             {"updatedAt", ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_UPDATED_AT}};
    roster_err_detail d;
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        ctl_order o = {0};
        ck_assert_int_eq(ctl_order_parse(&o, false, u[i].name, &d), ROSTER_E_OK);
        ck_assert_int_eq(o.sort, u[i].sort);
        ck_assert_int_eq(o.order, ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC);
    }
    ctl_order o = {0};
    ck_assert_int_eq(ctl_order_parse(&o, true, "CREATED_AT:desc", &d), ROSTER_E_OK);
    ck_assert_int_eq(o.sort, ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_CREATED_AT);
    ck_assert_int_eq(ctl_order_parse(&o, true, "name", &d), ROSTER_E_OK);
    ck_assert_int_eq(o.sort, ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME);
    const char *keys[] = {"email", "firstName", "lastName", "locale", "phone", "timezone"};
    const int numbers[] = {ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_EMAIL,
                           ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_FIRST_NAME,
                           ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LAST_NAME,
                           ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LOCALE,
                           ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_PHONE,
                           ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_TIMEZONE};
    for (size_t i = 0; i < 6; i++) {
        char text[64];
        snprintf(text, sizeof text, "%s:v", keys[i]);
        ctl_search s = {0};
        ck_assert_int_eq(ctl_search_parse(&s, text, &d), ROSTER_E_OK);
        ck_assert_int_eq(s.key, numbers[i]);
    }
}
END_TEST

START_TEST(tenant_request)
{
    ctl_filter f = {0};
    ctl_order o = {0};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    roster_err_detail d;
    add(&f, &ctl_tenant_filter_fields, "id!=[x,y]");
    add(&f, &ctl_tenant_filter_fields, "name~*acme%");
    add(&f, &ctl_tenant_filter_fields, "reference=null");
    ck_assert_int_eq(ctl_order_parse(&o, true, "name:desc", &d), ROSTER_E_OK);
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ck_assert_int_eq(ctl_list_request(&req.base, &arena, &f, &o, NULL), ROSTER_E_OK);
    Roster__V1__ListTenantsRequest *r = (Roster__V1__ListTenantsRequest *)round_trip(&req.base);
    roster_arena_free(&arena);
    ctl_filter_free(&f);
    ck_assert_uint_eq(r->filter->id->value_not_in->n_values, 2);
    ck_assert_str_eq(r->filter->name->i_like, "acme%");
    ck_assert(r->filter->reference->equal_to_null);
    ck_assert_int_eq(r->order->sort, ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_NAME);
    ck_assert_int_eq(r->order->order, ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC);
    roster__v1__list_tenants_request__free_unpacked(r, NULL);
}
END_TEST

START_TEST(conditions_of_another_entity_are_refused)
{
    ctl_filter f = {0};
    ctl_order o = {0};
    ctl_search s = {.set = true, .key = 1, .value = "x"};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    add(&f, &ctl_user_filter_fields, "email=x");
    Roster__V1__ListTenantsRequest req = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ck_assert_int_eq(ctl_list_request(&req.base, &arena, &f, &o, NULL), ROSTER_E_INVALID_ARGUMENT);
    ctl_filter_free(&f);
    Roster__V1__ListTenantsRequest req2 = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    ck_assert_int_eq(ctl_list_request(&req2.base, &arena, &f, &o, &s), ROSTER_E_INVALID_ARGUMENT);
    roster_arena_free(&arena);
}
END_TEST

START_TEST(filter_kinds_agree_with_the_model)
{
    /* Every filterable model field is a field of the filter message of
     * the kind the model gives it. */
    const model_record *records[] = {&model_user, &model_tenant};
    const ctl_field_table *tables[] = {&ctl_user_filter_fields, &ctl_tenant_filter_fields};
    for (size_t r = 0; r < 2; r++) {
        for (size_t i = 0; i < records[r]->n_fields; i++) {
            const model_field *mf = &records[r]->fields[i];
            if (mf->filter == MODEL_FILTER_NONE)
                continue;
            ctl_filter f = {0};
            roster_err_detail d = {{0}};
            char expr[64];
            snprintf(expr, sizeof expr, "%s=null", mf->name);
            ck_assert_msg(ctl_filter_parse(&f, tables[r], expr, &d) == ROSTER_E_OK, "%s: %s", expr,
                          d.message);
            ck_assert_int_eq(f.conds[0].kind, mf->filter);
            ctl_filter_free(&f);
        }
    }
}
END_TEST

START_TEST(custom_data_conditions_and_order)
{
    const char *exprs[] = {
        "customData.plan=pro",  "customData.billing.seats>=10", "customData.billing.seats<40",
        "customData.vip!=true", "customData.code=\"10\"",       "customData.tier=[gold,2,\"x y\"]",
        "email~%@acme.com"};
    Roster__V1__ListUsersRequest *r =
        users_request(exprs, sizeof exprs / sizeof exprs[0], "customData.billing.seats:desc", NULL);
    ck_assert_ptr_nonnull(r->filter);
    ck_assert_uint_eq(r->filter->n_custom_data, 6);
    Roster__V1__CustomDataCondition **c = r->filter->custom_data;
    ck_assert_str_eq(c[0]->path, "plan");
    ck_assert_str_eq(c[0]->equal_to, "\"pro\"");
    ck_assert_str_eq(c[1]->path, "billing.seats");
    ck_assert_str_eq(c[1]->more_than_equal, "10");
    ck_assert_str_eq(c[2]->less_than, "40");
    ck_assert_str_eq(c[3]->not_equal_to, "true");
    ck_assert_str_eq(c[4]->equal_to, "\"10\"");
    ck_assert_uint_eq(c[5]->n_value_in, 3);
    ck_assert_str_eq(c[5]->value_in[0], "\"gold\"");
    ck_assert_str_eq(c[5]->value_in[1], "2");
    ck_assert_str_eq(c[5]->value_in[2], "\"x y\"");
    ck_assert_ptr_nonnull(r->filter->email);
    ck_assert_ptr_nonnull(r->order);
    ck_assert_str_eq(r->order->custom_data, "billing.seats");
    ck_assert(!r->order->has_sort);
    ck_assert_int_eq(r->order->order, ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC);
    protobuf_c_message_free_unpacked(&r->base, NULL);

    ctl_filter f = {0};
    roster_err_detail d = {{0}};
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_user_filter_fields, "customData.plan~x", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_user_filter_fields, "customData.=1", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_tenant_filter_fields, "customData.a=1", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_user_filter_fields, "customData.a=1", &d),
                     ROSTER_E_OK);
    ck_assert_int_eq(ctl_filter_parse(&f, &ctl_user_filter_fields, "customData.a=2", &d),
                     ROSTER_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(d.message, "given twice"));
    ctl_filter_free(&f);
    ctl_order o = {0};
    ck_assert_int_eq(ctl_order_parse(&o, true, "customData.a", &d), ROSTER_E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(no_filter_sends_no_filter)
{
    Roster__V1__ListUsersRequest *r = users_request(NULL, 0, NULL, NULL);
    ck_assert_ptr_null(r->filter);
    ck_assert(!r->has_limit);
    roster__v1__list_users_request__free_unpacked(r, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rosterctl_request");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, string_fields_every_operator);
    tcase_add_test(tc, id_bool_date_fields);
    tcase_add_test(tc, sort_numbers_match_the_proto);
    tcase_add_test(tc, tenant_request);
    tcase_add_test(tc, no_filter_sends_no_filter);
    tcase_add_test(tc, custom_data_conditions_and_order);
    tcase_add_test(tc, conditions_of_another_entity_are_refused);
    tcase_add_test(tc, filter_kinds_agree_with_the_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
