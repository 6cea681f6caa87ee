/* bench_graphql: our GraphQL engine on the benchmark documents, one JSON
 * line per document and phase:
 *   {"engine": "roster", "doc": "user_by_id", "phase": "parse", "ops_per_s": 123}
 *
 *   bench_graphql DOCS_DIR SCHEMA [SECONDS_PER_MEASUREMENT [PHASE]]
 *
 * PHASE (parse, validate, execute or cached) measures that phase only, for
 * profiling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_phase.h"
#include "error.h"
#include "oracle_corpus.h"
#include "oracle_verdict.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_graphql DOCS_DIR SCHEMA [SECONDS [PHASE]]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 1.0;
    if (seconds <= 0) {
        fprintf(stderr, "SECONDS must be a positive number, not \"%s\"\n", argv[3]);
        return 2;
    }
    int only = -1;
    for (int p = BENCH_PARSE; argc > 4 && p <= BENCH_CACHED; p++) {
        if (strcmp(argv[4], bench_phase_name((bench_phase)p)) == 0)
            only = p;
    }
    if (argc > 4 && only < 0) {
        fprintf(stderr, "PHASE must be parse, validate, execute or cached, not \"%s\"\n", argv[4]);
        return 2;
    }
    oracle_engine e;
    if (oracle_engine_open(&e, argv[2]) != ROSTER_E_OK)
        return 1;
    char **names = NULL;
    size_t n = 0;
    int status = 0;
    int rc = oracle_corpus_list(&names, &n, argv[1]);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "cannot list %s: %s\n", argv[1], roster_strerror(rc));
        status = 1;
    }
    bench_env env = {.schema = e.schema, .resolvers = e.resolvers, .seconds = seconds};
    for (size_t i = 0; i < n && status == 0; i++) {
        bench_doc d;
        size_t body = 0;
        rc = bench_doc_load(&d, argv[1], names[i]);
        if (rc == ROSTER_E_OK)
            rc = bench_check(&body, &env, &d);
        for (int p = BENCH_PARSE; p <= BENCH_CACHED && rc == ROSTER_E_OK; p++) {
            double ops = 0;
            if (only >= 0 && p != only)
                continue;
            rc = bench_measure(&ops, &env, &d, (bench_phase)p);
            if (rc == ROSTER_E_OK)
                printf("{\"engine\": \"roster\", \"doc\": \"%s\", \"phase\": \"%s\", "
                       "\"ops_per_s\": %.0f, \"response_bytes\": %zu}\n",
                       names[i], bench_phase_name((bench_phase)p), ops, body);
            fflush(stdout);
        }
        if (rc != ROSTER_E_OK) {
            fprintf(stderr, "%s: %s\n", names[i], roster_strerror(rc));
            status = 1;
        }
        bench_doc_free(&d);
    }
    oracle_names_free(names, n);
    oracle_engine_close(&e);
    return status;
}
