/* Execution: coercion, field collection, null propagation, errors,
 * asynchronous and batch resolvers, serial mutations. */
#include <pthread.h>
#include <time.h>

#include "gql_test_util.h"

static gql_schema *schema;
static gql_resolvers *json_res;
static json_t *data;

static const char *data_json =
    "{\"user\":{\"id\":\"u1\",\"reference\":\"r1\",\"email\":\"a@example.com\",\"firstName\":"
    "\"Ann\",\"lastName\":null,\"active\":true,\"createdAt\":1795753490123,\"updatedAt\":"
    "\"2026-01-02T03:04:05.006Z\",\"customData\":{\"k\":[1,\"x\"]},\"tenant\":{\"id\":\"t1\","
    "\"name\":\"Acme\",\"isDefault\":false,\"users\":{\"totalCount\":7}}},"
    "\"users\":{\"totalCount\":2,\"data\":[{\"id\":\"u1\",\"email\":\"a\"},{\"id\":\"u2\","
    "\"email\":null}]},"
    "\"tenants\":{\"totalCount\":3000000000,\"data\":[]}}";

static void setup(void)
{
    schema = tu_schema();
    ck_assert_int_eq(gql_resolvers_new(&json_res, schema), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set_default(json_res, NULL, gql_json_field_resolver, NULL),
                     ROSTER_E_OK);
    json_error_t je;
    data = json_loads(data_json, 0, &je);
    ck_assert_ptr_nonnull(data);
}

static void teardown(void)
{
    json_decref(data);
    gql_resolvers_free(json_res);
    gql_schema_free(schema);
}

static void run_expect(const char *q, const char *vars, const char *want)
{
    tu_result r;
    char *body = tu_run(schema, json_res, q, vars, data, &r);
    ck_assert_str_eq(body, want);
    free(body);
}

START_TEST(fields_aliases_fragments_typename)
{
    run_expect("{ user(id: \"u1\") { email a: id ...F ... on UserModel { firstName } __typename "
               "} } fragment F on UserModel { id lastName }",
               NULL,
               "{\"data\":{\"user\":{\"email\":\"a@example.com\",\"a\":\"u1\",\"id\":\"u1\","
               "\"lastName\":null,\"firstName\":\"Ann\",\"__typename\":\"UserModel\"}}}");
    /* Scalars of every kind, Date from ms and from text, JsonObject. */
    run_expect("{ user(id: 1) { active createdAt updatedAt customData tenant { isDefault users { "
               "totalCount } } } }",
               NULL,
               "{\"data\":{\"user\":{\"active\":true,\"createdAt\":\"2026-11-27T04:24:50.123Z\","
               "\"updatedAt\":\"2026-01-02T03:04:05.006Z\",\"customData\":{\"k\":[1,\"x\"]},"
               "\"tenant\":{\"isDefault\":false,\"users\":{\"totalCount\":7}}}}}");
    /* Merged fields with the same response key. */
    run_expect("{ user(id: 1) { tenant { id } tenant { name } } }", NULL,
               "{\"data\":{\"user\":{\"tenant\":{\"id\":\"t1\",\"name\":\"Acme\"}}}}");
}
END_TEST

START_TEST(skip_and_include)
{
    const char *q = "query ($s: Boolean!, $i: Boolean = true) { user(id: 1) { id @skip(if: $s) "
                    "email @include(if: $i) ...F @skip(if: true) ... @include(if: false) { phone "
                    "} } } fragment F on UserModel { firstName }";
    run_expect(q, "{\"s\": true}", "{\"data\":{\"user\":{\"email\":\"a@example.com\"}}}");
    run_expect(q, "{\"s\": false, \"i\": false}", "{\"data\":{\"user\":{\"id\":\"u1\"}}}");
}
END_TEST

START_TEST(null_propagation)
{
    tu_result r;
    /* users.data[1].email is null but String!: the item is non-null, so the
     * list, then UserPageModel.data (non-null), then users (non-null) and
     * finally data become null. One error, at the deepest path. */
    char *body =
        tu_run(schema, json_res, "{ users { totalCount data { id email } } }", NULL, data, &r);
    ck_assert_str_eq(body, "{\"data\":null,\"errors\":[{\"message\":\"Cannot return null for "
                           "non-nullable field UserModel.email.\",\"locations\":[{\"line\":1,"
                           "\"column\":32}],\"path\":[\"users\",\"data\",1,\"email\"],"
                           "\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}}]}");
    ck_assert_int_eq(r.data_null, 1);
    ck_assert_int_eq(r.request_error, 0);
    ck_assert_uint_eq(r.n_errors, 1);
    free(body);
    /* Int output beyond 32 bits is a field error. */
    body = tu_run(schema, json_res, "{ tenants { totalCount } }", NULL, data, &r);
    ck_assert_str_eq(body, "{\"data\":null,\"errors\":[{\"message\":\"Int cannot represent non "
                           "32-bit signed integer value: 3000000000\",\"locations\":[{\"line\":1,"
                           "\"column\":13}],\"path\":[\"tenants\",\"totalCount\"],\"extensions\":{"
                           "\"code\":\"INTERNAL_SERVER_ERROR\"}}]}");
    free(body);
}
END_TEST

START_TEST(variable_coercion_errors)
{
    tu_result r;
    const char *q = "query ($id: ID!, $n: Int, $f: UserFilterArgType, $o: UserOrderArgType) { "
                    "user(id: $id) { id } users(limit: $n, filter: $f, order: $o) { totalCount } "
                    "}";
    char *body = tu_run(schema, json_res, q, "{}", data, &r);
    ck_assert_int_eq(r.request_error, 1);
    ck_assert_str_eq(body, "{\"errors\":[{\"message\":\"Variable \\\"$id\\\" of required type "
                           "\\\"ID!\\\" was not provided.\",\"locations\":[{\"line\":1,\"column\":"
                           "8}],\"extensions\":{\"code\":\"BAD_USER_INPUT\"}}]}");
    free(body);
    body =
        tu_run(schema, json_res, q,
               "{\"id\": null, \"n\": 1.5, \"f\": {\"email\": {\"like\": 3}, \"bad\": 1}, \"o\": "
               "{\"order\": \"UP\", \"sort\": \"email\"}}",
               data, &r);
    ck_assert_int_eq(r.request_error, 1);
    ck_assert_uint_eq(r.n_errors, 5);
    ck_assert_ptr_nonnull(
        strstr(body, "Variable \\\"$id\\\" of non-null type \\\"ID!\\\" must not be null."));
    ck_assert_ptr_nonnull(strstr(body,
                                 "Variable \\\"$n\\\" got invalid value 1.5; Int cannot represent "
                                 "non-integer value: 1.5"));
    ck_assert_ptr_nonnull(strstr(body, "at \\\"f.email.like\\\"; String cannot represent a non "
                                       "string value: 3"));
    ck_assert_ptr_nonnull(
        strstr(body, "Field \\\"bad\\\" is not defined by type \\\"UserFilterArgType\\\"."));
    ck_assert_ptr_nonnull(
        strstr(body, "Value \\\"UP\\\" does not exist in \\\"OrderEnum\\\" enum."));
    free(body);
    /* Date variables are checked by the Date scalar. */
    body = tu_run(schema, json_res,
                  "query ($d: Date) { users(filter: {createdAt: {lessThan: $d}}) { totalCount } }",
                  "{\"d\": \"tomorrow\"}", data, &r);
    ck_assert_int_eq(r.request_error, 1);
    ck_assert_ptr_nonnull(strstr(body, "ISO-8601"));
    free(body);
}
END_TEST

/* --- Argument coercion seen by a resolver. */

static char seen_args[1024];

static void echo_users(gql_call *c, void *ud)
{
    (void)ud;
    gql_buf b;
    gql_buf_init(&b);
    gql_jw w;
    gql_jw_init(&w, &b, 0);
    gql_value_write_json(&w, gql_call_args(c));
    snprintf(seen_args, sizeof seen_args, "%.*s", (int)b.len, b.data);
    gql_buf_free(&b);
    static const gql_result fields[1];
    (void)fields;
    gql_resolve_done(c, gql_r_object((void *)json_object_get(data, "users")));
}

START_TEST(argument_coercion)
{
    gql_resolvers *r;
    ck_assert_int_eq(gql_resolvers_new(&r, schema), ROSTER_E_OK);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "users", echo_users, NULL), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "nope", echo_users, NULL), ROSTER_E_NOT_FOUND);
    tu_result res;
    char *body = tu_run(schema, r,
                        "query ($v: [ID!], $lim: Int) { users(limit: $lim, offset: 2, filter: {id: "
                        "{valueIn: $v}, createdAt: {lessThan: \"2026-11-27T04:24:50.123Z\"}, "
                        "tenantId: {valueIn: \"one\"}}, order: {order: DESC, sort: CREATED_AT}) "
                        "{ totalCount } }",
                        "{\"v\": [\"a\", \"b\"]}", NULL, &res);
    free(body);
    /* Absent variable: the argument is absent; lists accept a single item;
     * Date became Unix milliseconds; fields in definition order. */
    ck_assert_str_eq(seen_args, "{\"filter\":{\"id\":{\"valueIn\":[\"a\",\"b\"]},\"tenantId\":{"
                                "\"valueIn\":[\"one\"]},\"createdAt\":{\"lessThan\":"
                                "1795753490123}},\"offset\":2,\"order\":{\"order\":\"DESC\","
                                "\"sort\":\"CREATED_AT\"}}");
    gql_resolvers_free(r);
}
END_TEST

/* --- Asynchronous resolvers. */

typedef struct pending {
    gql_call *calls[64];
    int n;
    char order[64];
    int norder;
} pending;

static pending pend;

static void defer(gql_call *c, void *ud)
{
    (void)ud;
    gql_str name = gql_call_response_key(c);
    pend.order[pend.norder++] = name.ptr[0];
    pend.calls[pend.n++] = c;
}

static void complete_user(gql_call *c)
{
    gql_resolve_done(c, gql_r_object((void *)json_object_get(data, "user")));
}

START_TEST(sibling_root_fields_are_concurrent)
{
    memset(&pend, 0, sizeof pend);
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    gql_resolvers_set(r, "Query", "user", defer, NULL);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "{ a: user(id: 1) { id } b: user(id: 2) { id } c: user(id: 3) { email } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    tu_result res = {0};
    gql_exec_params p = {
        .schema = schema, .doc = doc, .resolvers = r, .complete = tu_done, .complete_ud = &res};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    gql_document_free(doc); /* the execution holds its own reference */
    /* All three issued, none completed. */
    ck_assert_int_eq(pend.n, 3);
    ck_assert_int_eq(res.called, 0);
    complete_user(pend.calls[2]);
    complete_user(pend.calls[0]);
    ck_assert_int_eq(res.called, 0);
    complete_user(pend.calls[1]);
    ck_assert_int_eq(res.called, 1);
    ck_assert_str_eq(res.body, "{\"data\":{\"a\":{\"id\":\"u1\"},\"b\":{\"id\":\"u1\"},\"c\":{"
                               "\"email\":\"a@example.com\"}}}");
    free(res.body);
    gql_errors_free(&e);
    gql_resolvers_free(r);
}
END_TEST

START_TEST(mutations_run_serially)
{
    memset(&pend, 0, sizeof pend);
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    gql_resolvers_set(r, "Mutation", "createTenant", defer, NULL);
    gql_resolvers_set(r, "TenantModel", "name", defer, NULL);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "mutation { a: createTenant(tenant: {name: \"a\"}) { n: name } b: "
                    "createTenant(tenant: {name: \"b\"}) { id } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    gql_op_type t;
    ck_assert_int_eq(gql_operation_type(&t, &e, doc, NULL, 0), ROSTER_E_OK);
    ck_assert_int_eq(t, GQL_OP_MUTATION);
    tu_result res = {0};
    gql_exec_params p = {
        .schema = schema, .doc = doc, .resolvers = r, .complete = tu_done, .complete_ud = &res};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(pend.n, 1);
    json_t *tenant = json_pack("{s:s, s:s}", "id", "t9", "name", "N");
    gql_resolve_done(pend.calls[0], gql_r_object(tenant));
    /* a's sub-field is issued before b starts. */
    ck_assert_int_eq(pend.n, 2);
    ck_assert_int_eq(pend.order[1], 'n');
    gql_resolve_done(pend.calls[1], gql_r_string("N", 1));
    ck_assert_int_eq(pend.n, 3);
    ck_assert_int_eq(pend.order[2], 'b');
    ck_assert_int_eq(res.called, 0);
    gql_resolve_done(pend.calls[2], gql_r_object(tenant));
    ck_assert_int_eq(res.called, 1);
    ck_assert_str_eq(res.body, "{\"data\":{\"a\":{\"n\":\"N\"},\"b\":{\"id\":\"t9\"}}}");
    free(res.body);
    json_decref(tenant);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
}
END_TEST

/* Completion from other threads. */

static void *late_completer(void *arg)
{
    gql_call *c = arg;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    char *s = gql_strndup(c, "u-thread", 8);
    gql_resolve_done(c, gql_r_string(s, 8));
    return NULL;
}

static pthread_t threads[64];
static int n_threads;

static void threaded_id(gql_call *c, void *ud)
{
    (void)ud;
    ck_assert_int_eq(pthread_create(&threads[n_threads++], NULL, late_completer, c), 0);
}

typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tu_result res;
} waiter;

static void waiter_done(gql_response *r, void *ud)
{
    waiter *w = ud;
    pthread_mutex_lock(&w->mu);
    tu_done(r, &w->res);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

START_TEST(completions_from_other_threads)
{
    n_threads = 0;
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    gql_resolvers_set(r, "UserModel", "id", threaded_id, NULL);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "{ a: user(id: 1) { id email } b: user(id: 2) { id } c: users { totalCount } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    for (int round = 0; round < 20; round++) {
        waiter w;
        memset(&w, 0, sizeof w);
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        gql_exec_params p = {.schema = schema,
                             .doc = doc,
                             .resolvers = r,
                             .root_value = data,
                             .complete = waiter_done,
                             .complete_ud = &w};
        ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
        pthread_mutex_lock(&w.mu);
        while (!w.res.called)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        for (int i = 0; i < n_threads; i++)
            pthread_join(threads[i], NULL);
        n_threads = 0;
        ck_assert_int_eq(w.res.called, 1);
        ck_assert_str_eq(w.res.body, "{\"data\":{\"a\":{\"id\":\"u-thread\",\"email\":\"a@"
                                     "example.com\"},\"b\":{\"id\":\"u-thread\"},\"c\":{"
                                     "\"totalCount\":2}}}");
        free(w.res.body);
        pthread_cond_destroy(&w.cv);
        pthread_mutex_destroy(&w.mu);
    }
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
}
END_TEST

/* --- Batch resolvers. */

static int tenant_batches, tenant_batch_size, count_batches, count_batch_size;
static json_t *tenant_objs;

static void batch_tenant(gql_call *const *calls, size_t n, void *ud)
{
    (void)ud;
    tenant_batches++;
    tenant_batch_size = (int)n;
    for (size_t i = 0; i < n; i++) {
        const json_t *u = gql_call_source(calls[i]);
        const char *id = json_string_value(json_object_get(u, "id"));
        json_t *t = json_object_get(tenant_objs, id);
        gql_resolve_done(calls[i], gql_r_object(json_is_null(t) ? NULL : t));
    }
}

static void batch_count(gql_call *const *calls, size_t n, void *ud)
{
    (void)ud;
    count_batches++;
    count_batch_size = (int)n;
    /* Completed in reverse order, and one of them later than the others. */
    for (size_t i = n; i-- > 0;) {
        const json_t *t = gql_call_source(calls[i]);
        gql_resolve_done(calls[i], gql_r_object((void *)t));
    }
}

START_TEST(batch_resolvers_see_the_whole_level)
{
    json_error_t je;
    json_t *page = json_loads("{\"totalCount\":5,\"data\":[{\"id\":\"1\"},{\"id\":\"2\"},{\"id\":"
                              "\"3\"},{\"id\":\"4\"},{\"id\":\"5\"}]}",
                              0, &je);
    tenant_objs = json_loads("{\"1\":{\"name\":\"A\",\"totalCount\":1},\"2\":{\"name\":\"B\","
                             "\"totalCount\":2},\"3\":null,\"4\":{\"name\":\"D\",\"totalCount\":4},"
                             "\"5\":{\"name\":\"E\",\"totalCount\":5}}",
                             0, &je);
    json_t *root = json_pack("{s:O}", "users", page);
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    ck_assert_int_eq(gql_resolvers_set_batch(r, "UserModel", "tenant", batch_tenant, NULL),
                     ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set_batch(r, "TenantModel", "users", batch_count, NULL),
                     ROSTER_E_OK);
    tenant_batches = count_batches = 0;
    tu_result res;
    char *body = tu_run(schema, r, "{ users { data { id tenant { name users { totalCount } } } } }",
                        NULL, root, &res);
    ck_assert_int_eq(tenant_batches, 1);
    ck_assert_int_eq(tenant_batch_size, 5);
    /* The four tenants produced by the batch form the next level. */
    ck_assert_int_eq(count_batches, 1);
    ck_assert_int_eq(count_batch_size, 4);
    ck_assert_str_eq(body,
                     "{\"data\":{\"users\":{\"data\":[{\"id\":\"1\",\"tenant\":{\"name\":\"A\","
                     "\"users\":{\"totalCount\":1}}},{\"id\":\"2\",\"tenant\":{\"name\":\"B\","
                     "\"users\":{\"totalCount\":2}}},{\"id\":\"3\",\"tenant\":null},{\"id\":\"4\","
                     "\"tenant\":{\"name\":\"D\",\"users\":{\"totalCount\":4}}},{\"id\":\"5\","
                     "\"tenant\":{\"name\":\"E\",\"users\":{\"totalCount\":5}}}]}}}");
    free(body);
    gql_resolvers_free(r);
    json_decref(root);
    json_decref(page);
    json_decref(tenant_objs);
}
END_TEST

/* --- Errors from resolvers. */

static void not_found(gql_call *c, void *ud)
{
    (void)ud;
    gql_resolve_error(
        c, "NOT_FOUND", "user \"x\" not found",
        json_pack("{s:{s:i,s:s}}", "response", "statusCode", 404, "errorCode", "NOT_FOUND"));
}

static void add_ext(gql_jw *w, const char *code, const char *message, size_t len, void *ud)
{
    (void)message;
    (void)len;
    (void)ud;
    gql_jw_keyz(w, "seen");
    gql_jw_stringz(w, code);
}

static int selects_total, selects_data;

static void check_selects(gql_call *c, void *ud)
{
    (void)ud;
    selects_total = gql_call_selects(c, "totalCount");
    selects_data = gql_call_selects(c, "data");
    gql_resolve_done(c, gql_r_object((void *)json_object_get(data, "users")));
}

START_TEST(resolver_errors_and_extensions)
{
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    gql_resolvers_set_default(r, NULL, gql_json_field_resolver, NULL);
    gql_resolvers_set(r, "Query", "user", not_found, NULL);
    gql_resolvers_set(r, "Query", "users", check_selects, NULL);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "query Q { users { ... on UserPageModel { totalCount } } } query "
                    "P { user(id: \"x\") { id } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    tu_result res = {0};
    gql_exec_params p = {.schema = schema,
                         .doc = doc,
                         .resolvers = r,
                         .complete = tu_done,
                         .complete_ud = &res,
                         .error_ext = add_ext,
                         .operation_name = "P",
                         .operation_name_len = 1};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_str_eq(res.body, "{\"data\":null,\"errors\":[{\"message\":\"user \\\"x\\\" not "
                               "found\",\"locations\":[{\"line\":1,\"column\":69}],\"path\":["
                               "\"user\"],\"extensions\":{\"code\":\"NOT_FOUND\",\"response\":{"
                               "\"statusCode\":404,\"errorCode\":\"NOT_FOUND\"},\"seen\":\"NOT_"
                               "FOUND\"}}]}");
    free(res.body);
    memset(&res, 0, sizeof res);
    p.operation_name = "Q";
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(selects_total, 1);
    ck_assert_int_eq(selects_data, 0);
    free(res.body);
    /* Unknown operation: a request error. */
    memset(&res, 0, sizeof res);
    p.operation_name = "Z";
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.request_error, 1);
    ck_assert_str_eq(res.body, "{\"errors\":[{\"message\":\"Unknown operation named \\\"Z\\\".\","
                               "\"extensions\":{\"code\":\"BAD_USER_INPUT\",\"seen\":\"BAD_USER_"
                               "INPUT\"}}]}");
    free(res.body);
    /* Missing operation name with two operations. */
    memset(&res, 0, sizeof res);
    p.operation_name = NULL;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.request_error, 1);
    free(res.body);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
}
END_TEST

START_TEST(missing_resolvers_and_bad_calls)
{
    gql_resolvers *r;
    gql_resolvers_new(&r, schema);
    tu_result res;
    char *body = tu_run(schema, r, "{ user(id: 1) { id } __typename }", NULL, NULL, &res);
    ck_assert_str_eq(body, "{\"data\":null,\"errors\":[{\"message\":\"No resolver is registered "
                           "for Query.user.\",\"locations\":[{\"line\":1,\"column\":3}],\"path\":["
                           "\"user\"],\"extensions\":{\"code\":\"INTERNAL_SERVER_ERROR\"}}]}");
    free(body);
    /* A document that was not validated is refused. */
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    ck_assert_int_eq(gql_parse(&doc, &e, "{ a }", 5, NULL), ROSTER_E_OK);
    gql_exec_params p = {
        .schema = schema, .doc = doc, .resolvers = r, .complete = tu_done, .complete_ud = &res};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_INVALID_ARGUMENT);
    ck_assert_int_eq(gql_execute(NULL), ROSTER_E_INVALID_ARGUMENT);
    gql_document_free(doc);
    /* Subscriptions validate (the schema has no subscription type) but do
     * not execute. */
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, "subscription { x }", 18, NULL), ROSTER_E_OK);
    memset(&res, 0, sizeof res);
    p.doc = doc;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    /* As graphql-js: an execution error with "data": null. */
    ck_assert_int_eq(res.request_error, 0);
    ck_assert_int_eq(res.data_null, 1);
    ck_assert_ptr_nonnull(strstr(res.body, "not configured to execute subscription"));
    free(res.body);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
    gql_resolvers_free(NULL);
}
END_TEST

START_TEST(memory_limit)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "{ __schema { types { name fields { name type { name kind fields { name type "
                    "{ name fields { name } } } } } } } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    tu_result res = {0};
    gql_exec_params p = {.schema = schema,
                         .doc = doc,
                         .resolvers = json_res,
                         .complete = tu_done,
                         .complete_ud = &res,
                         .max_memory = 32 * 1024};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.called, 1);
    ck_assert_int_eq(res.data_null, 1);
    ck_assert_ptr_nonnull(strstr(res.body, "memory limit of 32768 bytes (max_memory)"));
    free(res.body);
    /* The default limit is ample for the same query. */
    memset(&res, 0, sizeof res);
    p.max_memory = 0;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.data_null, 0);
    ck_assert_uint_eq(res.n_errors, 0);
    free(res.body);
    gql_document_free(doc);
    gql_errors_free(&e);
}
END_TEST

/* Charges what its argument would cost to copy, as the gateway's
 * translation does, and fails the field past the input budget. */
static void charge_arg(gql_call *c, void *ud)
{
    (void)ud;
    const gql_value *v = gql_call_arg(c, "filter");
    size_t n = v ? 5000 : 0;
    if (gql_call_charge(c, n) != ROSTER_E_OK) {
        gql_resolve_error(c, "BAD_USER_INPUT", gql_call_input_limit_message(c), NULL);
        return;
    }
    gql_resolve_done(c, gql_r_null());
}

START_TEST(input_limit)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc;
    const char *q = "query($v: [String!]) { users(filter: {email: {valueIn: $v}}) { totalCount } }";
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    json_t *vars = json_pack("{s:[]}", "v");
    for (int i = 0; i < 1000; i++)
        json_array_append_new(json_object_get(vars, "v"), json_string("some@example.com"));
    gql_resolvers *r;
    ck_assert_int_eq(gql_resolvers_new(&r, schema), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "users", charge_arg, NULL), ROSTER_E_OK);
    tu_result res = {0};
    gql_exec_params p = {.schema = schema,
                         .doc = doc,
                         .resolvers = r,
                         .variables = vars,
                         .complete = tu_done,
                         .complete_ud = &res,
                         .max_input = 4096};
    /* Coerced variables past the budget: a request error naming it. */
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.request_error, 1);
    ck_assert_ptr_nonnull(strstr(res.body, "Variables need more than the input memory limit of "
                                           "4096 bytes (max_input)."));
    free(res.body);
    /* Within it, a resolver's charge past it fails the field, naming it. */
    memset(&res, 0, sizeof res);
    p.max_input = 256 * 1024;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.request_error, 0);
    ck_assert_ptr_null(strstr(res.body, "max_input"));
    free(res.body);
    memset(&res, 0, sizeof res);
    json_object_set_new(vars, "v", json_array());
    p.max_input = 4096;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_ptr_nonnull(strstr(res.body, "the input memory limit of 4096 bytes (max_input)"));
    free(res.body);
    json_decref(vars);
    gql_resolvers_free(r);
    gql_document_free(doc);
    gql_errors_free(&e);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_execute");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fields_aliases_fragments_typename);
    tcase_add_test(tc, skip_and_include);
    tcase_add_test(tc, null_propagation);
    tcase_add_test(tc, variable_coercion_errors);
    tcase_add_test(tc, argument_coercion);
    tcase_add_test(tc, sibling_root_fields_are_concurrent);
    tcase_add_test(tc, mutations_run_serially);
    tcase_add_test(tc, completions_from_other_threads);
    tcase_add_test(tc, batch_resolvers_see_the_whole_level);
    tcase_add_test(tc, resolver_errors_and_extensions);
    tcase_add_test(tc, missing_resolvers_and_bad_calls);
    tcase_add_test(tc, memory_limit);
    tcase_add_test(tc, input_limit);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
