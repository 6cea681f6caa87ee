/* Helpers shared by the GraphQL engine suites: the project schema, a stub
 * data source of jansson values, and synchronous execution to a string. */
#ifndef ROSTER_GQL_TEST_UTIL_H
#define ROSTER_GQL_TEST_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graphql.h"

/* The schema file's text (malloc'd, NUL-terminated). */
static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The project schema with the standard scalars registered. */
static inline gql_schema *tu_schema(void)
{
    size_t len;
    char *sdl = tu_read_file(ROSTER_SCHEMA_PATH, &len);
    gql_errors e;
    gql_errors_init(&e);
    gql_schema *s = NULL;
    int rc = gql_schema_build(&s, &e, sdl, len);
    if (rc && e.head)
        fprintf(stderr, "schema: %s\n", e.head->message);
    ck_assert_int_eq(rc, ROSTER_E_OK);
    ck_assert_int_eq(gql_schema_use_standard_scalars(s), ROSTER_E_OK);
    gql_errors_free(&e);
    free(sdl);
    return s;
}

typedef struct tu_result {
    char *body;
    int request_error;
    int data_null;
    size_t n_errors;
    int called;
} tu_result;

static inline void tu_done(gql_response *r, void *ud)
{
    tu_result *t = ud;
    t->body = r->body;
    t->request_error = r->request_error;
    t->data_null = r->data_null;
    t->n_errors = r->n_errors;
    t->called++;
}

/* Prepares `query` (must be valid) and executes it with resolvers r,
 * variables JSON text (or NULL) and root value; returns the body (caller
 * frees). The resolvers must complete synchronously. */
static inline char *tu_run(const gql_schema *s, const gql_resolvers *r, const char *query,
                           const char *vars, void *root, tu_result *out)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_prepare(&doc, &e, s, query, strlen(query), NULL);
    if (rc && e.head)
        fprintf(stderr, "prepare: %s\n", e.head->message);
    ck_assert_int_eq(rc, ROSTER_E_OK);
    json_t *v = NULL;
    if (vars) {
        json_error_t je;
        v = json_loads(vars, 0, &je);
        ck_assert_ptr_nonnull(v);
    }
    tu_result res = {0};
    gql_exec_params p = {0};
    p.schema = s;
    p.doc = doc;
    p.resolvers = r;
    p.variables = v;
    p.root_value = root;
    p.complete = tu_done;
    p.complete_ud = &res;
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(res.called, 1);
    json_decref(v);
    gql_document_free(doc);
    gql_errors_free(&e);
    if (out)
        *out = res;
    return res.body;
}

/* The errors of preparing an invalid query, as a JSON response body. */
static inline char *tu_errors(const gql_schema *s, const char *query, int *rc_out)
{
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    int rc = gql_prepare(&doc, &e, s, query, strlen(query), NULL);
    gql_document_free(doc);
    gql_buf b;
    gql_buf_init(&b);
    gql_jw w;
    gql_jw_init(&w, &b, 0);
    gql_errors_write_response(&w, &e, NULL, NULL);
    char *out;
    size_t len;
    ck_assert_int_eq(gql_buf_take(&out, &len, &b), ROSTER_E_OK);
    gql_errors_free(&e);
    if (rc_out)
        *rc_out = rc;
    return out;
}

#define TU_RUN_SUITE(make)                                                                         \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make());                                                      \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int nf = srunner_ntests_failed(sr);                                                        \
        srunner_free(sr);                                                                          \
        return nf ? 1 : 0;                                                                         \
    }

#endif
