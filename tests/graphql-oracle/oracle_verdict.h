/* Runs a corpus case through our engine (parse, validate, execute against
 * the stub data source) and builds the same normalized verdict that
 * oracle.js builds with graphql-js (the format is described there). */
#ifndef ROSTER_ORACLE_VERDICT_H
#define ROSTER_ORACLE_VERDICT_H

#include <jansson.h>
#include <stddef.h>

#include "graphql.h"
#include "oracle_corpus.h"
#include "oracle_stub.h"

typedef struct oracle_engine {
    gql_schema *schema;        /* owned */
    gql_resolvers *resolvers;  /* owned: the stub's resolvers */
    oracle_stub_layout layout; /* the resolvers point here: the engine must not move */
} oracle_engine;

/* Builds the schema from the SDL file at schema_path with the standard
 * scalars and registers the stub's resolvers. Problems are printed to
 * stderr. ROSTER_E_OK or the failing step's code. */
int oracle_engine_open(oracle_engine *e, const char *schema_path);
void oracle_engine_close(oracle_engine *e); /* accepts NULL */

/* The verdict for c as a new JSON object (caller decrefs). defer: resolvers
 * complete asynchronously, newest first. ROSTER_E_OK or ROSTER_E_NOMEM;
 * engine failures (a refused execution, a missing completion, a response
 * that is not JSON) are recorded in the verdict as "engine_failure". */
int oracle_verdict(json_t **out, const oracle_engine *e, const oracle_case *c, int defer);

/* Parses, validates and executes c and hands back the raw response body
 * (malloc'd, NUL-terminated; caller frees), or the parse/validation errors
 * as a response. ROSTER_E_OK, or the engine's code when it produced
 * nothing. */
int oracle_run(char **body, size_t *len, const oracle_engine *e, const oracle_case *c, int defer);

#endif
