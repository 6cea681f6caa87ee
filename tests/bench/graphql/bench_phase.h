/* One benchmark document run through our engine's phases (parse, validate,
 * execute against the oracle's stub resolvers, and the gateway's cached
 * path), each measured in operations per second. */
#ifndef ROSTER_BENCH_PHASE_H
#define ROSTER_BENCH_PHASE_H

#include <jansson.h>
#include <stddef.h>

#include "graphql.h"

typedef struct bench_doc {
    char *name; /* owned */
    char *text; /* owned document text */
    size_t len;
    json_t *variables;    /* owned reference or NULL */
    char *operation_name; /* owned or NULL */
} bench_doc;

typedef struct bench_env {
    const gql_schema *schema;       /* borrowed */
    const gql_resolvers *resolvers; /* borrowed: the stub's */
    double seconds;                 /* measuring time per phase */
} bench_env;

typedef enum bench_phase {
    BENCH_PARSE,    /* gql_parse + gql_document_free */
    BENCH_VALIDATE, /* gql_validate of a freshly parsed document */
    BENCH_EXECUTE,  /* gql_execute of a validated document, JSON response */
    BENCH_CACHED    /* gql_cache_get (a hit) + gql_execute: the gateway's path */
} bench_phase;

/* Loads docs_dir/name.graphql and name.json. ROSTER_E_OK, ROSTER_E_IO,
 * ROSTER_E_PARSE or ROSTER_E_NOMEM. Free with bench_doc_free. */
int bench_doc_load(bench_doc *out, const char *docs_dir, const char *name);
void bench_doc_free(bench_doc *d); /* accepts NULL */

/* Runs one execution and checks it completes with a body; *body_len gets
 * the response size. ROSTER_E_OK or the failing step's code. */
int bench_check(size_t *body_len, const bench_env *env, const bench_doc *d);

/* Measures a phase: *ops_per_s on success. ROSTER_E_OK or the code of the
 * first failing operation. */
int bench_measure(double *ops_per_s, const bench_env *env, const bench_doc *d, bench_phase p);

const char *bench_phase_name(bench_phase p);

#endif
