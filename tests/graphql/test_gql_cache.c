/* Document cache: hits, misses, eviction, invalid documents, threads. */
#include <pthread.h>

#include "gql_test_util.h"

static gql_schema *schema;

static void setup(void)
{
    schema = tu_schema();
}

static void teardown(void)
{
    gql_schema_free(schema);
}

START_TEST(hits_and_misses)
{
    gql_cache *c;
    ck_assert_int_eq(gql_cache_new(&c, schema, 0, NULL), ROSTER_E_OK);
    gql_errors e;
    gql_errors_init(&e);
    const char *q = "{ user(id: 1) { id } }";
    gql_document *d1, *d2;
    ck_assert_int_eq(gql_cache_get(&d1, &e, c, q, strlen(q)), ROSTER_E_OK);
    ck_assert_int_eq(gql_cache_get(&d2, &e, c, q, strlen(q)), ROSTER_E_OK);
    ck_assert_ptr_eq(d1, d2);
    ck_assert_ptr_eq(d1->validated_for, schema);
    gql_cache_stats st;
    gql_cache_get_stats(&st, c);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.entries, 1);
    ck_assert_uint_gt(st.bytes, 0);
    /* A different text is a different entry, even if equivalent. */
    const char *q2 = "{ user(id: 1) { id }}";
    gql_document *d3;
    ck_assert_int_eq(gql_cache_get(&d3, &e, c, q2, strlen(q2)), ROSTER_E_OK);
    ck_assert_ptr_ne(d3, d1);
    /* Documents outlive the cache while referenced. */
    gql_cache_free(c);
    ck_assert_uint_eq(d1->n_ops, 1);
    gql_document_free(d1);
    gql_document_free(d2);
    gql_document_free(d3);
    gql_errors_free(&e);
    gql_cache_free(NULL);
}
END_TEST

START_TEST(invalid_documents_are_not_cached)
{
    gql_cache *c;
    gql_limits lim = gql_limits_default();
    lim.max_tokens = 20;
    ck_assert_int_eq(gql_cache_new(&c, schema, 0, &lim), ROSTER_E_OK);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *d = NULL;
    ck_assert_int_eq(gql_cache_get(&d, &e, c, "{ nope }", 8), ROSTER_E_VALIDATION);
    ck_assert_int_eq(gql_cache_get(&d, &e, c, "{ user(", 7), ROSTER_E_PARSE);
    const char *big = "{ a b c d e f g h i j k l m n o p q r s t u v w }";
    ck_assert_int_eq(gql_cache_get(&d, &e, c, big, strlen(big)), ROSTER_E_LIMIT);
    ck_assert_ptr_null(d);
    gql_cache_stats st;
    gql_cache_get_stats(&st, c);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_uint_eq(st.misses, 3);
    ck_assert_uint_eq(e.count, 3);
    gql_cache_free(c);
    gql_errors_free(&e);
}
END_TEST

START_TEST(bounded_by_bytes)
{
    gql_cache *c;
    ck_assert_int_eq(gql_cache_new(&c, schema, 64 * 1024, NULL), ROSTER_E_OK);
    gql_errors e;
    gql_errors_init(&e);
    char q[128];
    for (int i = 0; i < 500; i++) {
        int n = snprintf(q, sizeof q, "{ u%d: user(id: %d) { id email } }", i, i);
        gql_document *d;
        ck_assert_int_eq(gql_cache_get(&d, &e, c, q, (size_t)n), ROSTER_E_OK);
        gql_document_free(d);
    }
    gql_cache_stats st;
    gql_cache_get_stats(&st, c);
    ck_assert_uint_le(st.bytes, 64 * 1024);
    ck_assert_uint_gt(st.evictions, 0);
    ck_assert_uint_lt(st.entries, 500);
    /* The most recent entry is still there. */
    gql_document *d;
    uint64_t hits = st.hits;
    int n = snprintf(q, sizeof q, "{ u%d: user(id: %d) { id email } }", 499, 499);
    ck_assert_int_eq(gql_cache_get(&d, &e, c, q, (size_t)n), ROSTER_E_OK);
    gql_document_free(d);
    gql_cache_get_stats(&st, c);
    ck_assert_uint_eq(st.hits, hits + 1);
    gql_cache_free(c);
    gql_errors_free(&e);
}
END_TEST

static gql_cache *shared;

static void *hammer(void *arg)
{
    int id = (int)(intptr_t)arg;
    gql_errors e;
    gql_errors_init(&e);
    char q[128];
    for (int i = 0; i < 400; i++) {
        int n = snprintf(q, sizeof q, "{ user(id: %d) { id } }", (i * 7 + id) % 40);
        gql_document *d;
        if (gql_cache_get(&d, &e, shared, q, (size_t)n) != ROSTER_E_OK)
            return (void *)1;
        if (d->n_ops != 1)
            return (void *)1;
        gql_document_free(d);
    }
    gql_errors_free(&e);
    return NULL;
}

START_TEST(thread_safe)
{
    ck_assert_int_eq(gql_cache_new(&shared, schema, 16 * 1024, NULL), ROSTER_E_OK);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        ck_assert_ptr_null(rv);
    }
    gql_cache_stats st;
    gql_cache_get_stats(&st, shared);
    ck_assert_uint_eq(st.hits + st.misses, 1600);
    gql_cache_free(shared);
}
END_TEST

static Suite *make(void)
{
    Suite *s = suite_create("gql_cache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hits_and_misses);
    tcase_add_test(tc, invalid_documents_are_not_cached);
    tcase_add_test(tc, bounded_by_bytes);
    tcase_add_test(tc, thread_safe);
    suite_add_tcase(s, tc);
    return s;
}

TU_RUN_SUITE(make)
