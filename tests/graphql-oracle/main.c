/* oracle_driver: runs the GraphQL oracle corpus through our engine.
 *
 *   oracle_driver check SCHEMA CORPUS EXPECTED [--async] [--verbose] [CASE...]
 *       compares every case (or the named ones) with graphql-js's committed
 *       verdict EXPECTED/CASE.json; exit 1 on any mismatch
 *   oracle_driver show SCHEMA CORPUS CASE [--async]   prints our verdict
 *   oracle_driver run SCHEMA CORPUS CASE [--async]    prints the raw response
 *
 * --async completes every resolver call later, newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "oracle_compare.h"
#include "oracle_corpus.h"
#include "oracle_verdict.h"

typedef struct options {
    const char *mode, *schema, *corpus, *expected;
    int async, verbose;
    char **cases;
    size_t n_cases;
} options;

static int usage(void)
{
    fprintf(stderr, "usage: oracle_driver check SCHEMA CORPUS EXPECTED [--async] [--verbose] "
                    "[CASE...]\n"
                    "       oracle_driver show|run SCHEMA CORPUS CASE [--async]\n");
    return 2;
}

static int check_case(const oracle_engine *e, const options *o, const char *name, int *outcome)
{
    oracle_case c;
    json_t *got = NULL, *want = NULL;
    gql_buf report;
    gql_buf_init(&report);
    int rc = oracle_case_load(&c, o->corpus, name);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "%s: cannot load case: %s\n", name, roster_strerror(rc));
        return rc;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", o->expected, name);
    json_error_t jerr;
    want = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!want) {
        printf("MISSING  %s: no expected verdict (%s)\n", name, jerr.text);
        *outcome = ORACLE_MISMATCH;
        goto done;
    }
    rc = oracle_verdict(&got, e, &c, o->async);
    if (rc != ROSTER_E_OK)
        goto done;
    oracle_verdict_sort(want);
    oracle_verdict_sort(got);
    *outcome = oracle_compare(want, got, &report);
    if (*outcome == ORACLE_MISMATCH || (*outcome == ORACLE_WORDING && o->verbose)) {
        printf("%s %s\n", *outcome == ORACLE_MISMATCH ? "MISMATCH" : "WORDING ", name);
        fwrite(report.data, 1, report.len, stdout);
    }
done:
    gql_buf_free(&report);
    json_decref(got);
    json_decref(want);
    oracle_case_free(&c);
    return rc;
}

static int run_check(const oracle_engine *e, const options *o)
{
    char **names = o->cases;
    size_t n = o->n_cases;
    char **listed = NULL;
    if (n == 0) {
        int rc = oracle_corpus_list(&listed, &n, o->corpus);
        if (rc != ROSTER_E_OK) {
            fprintf(stderr, "cannot list %s: %s\n", o->corpus, roster_strerror(rc));
            return 1;
        }
        names = listed;
    }
    size_t counts[3] = {0}, errors = 0;
    for (size_t i = 0; i < n; i++) {
        int outcome = ORACLE_MISMATCH;
        if (check_case(e, o, names[i], &outcome) != ROSTER_E_OK)
            errors++;
        counts[outcome]++;
        fflush(stdout);
    }
    printf("%zu cases (%s resolvers): %zu match, %zu match but for unclaimed message wording, "
           "%zu mismatch\n",
           n, o->async ? "deferred" : "synchronous", counts[ORACLE_MATCH], counts[ORACLE_WORDING],
           counts[ORACLE_MISMATCH]);
    oracle_names_free(listed, listed ? n : 0);
    return counts[ORACLE_MISMATCH] || errors ? 1 : 0;
}

static int run_one(const oracle_engine *e, const options *o)
{
    oracle_case c;
    int rc = oracle_case_load(&c, o->corpus, o->cases[0]);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "%s: cannot load case: %s\n", o->cases[0], roster_strerror(rc));
        return 1;
    }
    if (strcmp(o->mode, "show") == 0) {
        json_t *v = NULL;
        rc = oracle_verdict(&v, e, &c, o->async);
        if (rc == ROSTER_E_OK) {
            oracle_verdict_sort(v);
            json_dumpf(v, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
            putchar('\n');
        }
        json_decref(v);
    } else {
        char *body = NULL;
        size_t len = 0;
        rc = oracle_run(&body, &len, e, &c, o->async);
        if (rc == ROSTER_E_OK) {
            fwrite(body, 1, len, stdout);
            putchar('\n');
        } else {
            fprintf(stderr, "%s: %s\n", c.name, roster_strerror(rc));
        }
        free(body);
    }
    oracle_case_free(&c);
    return rc == ROSTER_E_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    options o = {0};
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    size_t npos = 0;
    if (!pos)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--async") == 0)
            o.async = 1;
        else if (strcmp(argv[i], "--verbose") == 0)
            o.verbose = 1;
        else
            pos[npos++] = argv[i];
    }
    int status = 2;
    int check = npos >= 4 && strcmp(pos[0], "check") == 0;
    int one = npos == 4 && (strcmp(pos[0], "show") == 0 || strcmp(pos[0], "run") == 0);
    if (!check && !one) {
        status = usage();
        goto out;
    }
    o.mode = pos[0];
    o.schema = pos[1];
    o.corpus = pos[2];
    if (check) {
        o.expected = pos[3];
        o.cases = pos + 4;
        o.n_cases = npos - 4;
    } else {
        o.cases = pos + 3;
        o.n_cases = 1;
    }
    oracle_engine e;
    if (oracle_engine_open(&e, o.schema) != ROSTER_E_OK) {
        status = 1;
        goto out;
    }
    status = check ? run_check(&e, &o) : run_one(&e, &o);
    oracle_engine_close(&e);
out:
    free(pos);
    return status;
}
