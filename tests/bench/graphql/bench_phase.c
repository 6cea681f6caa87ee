#include "bench_phase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "oracle_corpus.h"
#include "oracle_stub.h"

#define POOL 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *bench_phase_name(bench_phase p)
{
    switch (p) {
    case BENCH_PARSE:
        return "parse";
    case BENCH_VALIDATE:
        return "validate";
    case BENCH_EXECUTE:
        return "execute";
    default:
        return "cached";
    }
}

int bench_doc_load(bench_doc *out, const char *docs_dir, const char *name)
{
    oracle_case c;
    int rc = oracle_case_load(&c, docs_dir, name);
    if (rc != ROSTER_E_OK)
        return rc;
    out->name = c.name;
    out->text = c.text;
    out->len = c.len;
    out->variables = c.variables;
    out->operation_name = c.operation_name;
    return ROSTER_E_OK;
}

void bench_doc_free(bench_doc *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->text);
    json_decref(d->variables);
    free(d->operation_name);
    memset(d, 0, sizeof *d);
}

typedef struct sink {
    int done;
    size_t len;
    int ok;
} sink;

static void on_complete(gql_response *resp, void *ud)
{
    sink *s = ud;
    s->done++;
    s->len = resp->len;
    s->ok = resp->body != NULL && !resp->nomem;
    free(resp->body);
}

static int execute_once(const bench_env *env, const bench_doc *d, gql_document *doc, sink *s)
{
    oracle_stub st;
    oracle_stub_init(&st, 0);
    gql_exec_params p = {0};
    p.schema = env->schema;
    p.doc = doc;
    p.operation_name = d->operation_name;
    p.operation_name_len = d->operation_name ? strlen(d->operation_name) : 0;
    p.variables = d->variables;
    p.resolvers = env->resolvers;
    p.context = &st;
    p.complete = on_complete;
    p.complete_ud = s;
    s->done = 0;
    int rc = gql_execute(&p);
    oracle_stub_free(&st);
    if (rc == ROSTER_E_OK && (s->done != 1 || !s->ok))
        rc = ROSTER_E_INTERNAL;
    return rc;
}

int bench_check(size_t *body_len, const bench_env *env, const bench_doc *d)
{
    gql_document *doc = NULL;
    gql_errors errs;
    sink s = {0};
    gql_errors_init(&errs);
    int rc = gql_prepare(&doc, &errs, env->schema, d->text, d->len, NULL);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "%s: %s\n", d->name, errs.head ? errs.head->message : roster_strerror(rc));
        goto done;
    }
    rc = execute_once(env, d, doc, &s);
    if (rc == ROSTER_E_OK)
        *body_len = s.len;
done:
    gql_document_free(doc);
    gql_errors_free(&errs);
    return rc;
}

/* The work of one phase, n times. Timed part only, in seconds, via *spent. */
typedef struct runner {
    const bench_env *env;
    const bench_doc *d;
    bench_phase phase;
    gql_document *validated; /* EXECUTE */
    gql_cache *cache;        /* CACHED */
    gql_document *pool[POOL];
} runner;

static int run_batch(runner *r, size_t n, double *spent)
{
    int rc = ROSTER_E_OK;
    gql_errors errs;
    gql_errors_init(&errs);
    sink s = {0};
    double t0 = 0;
    switch (r->phase) {
    case BENCH_PARSE:
        t0 = now_s();
        for (size_t i = 0; i < n && rc == ROSTER_E_OK; i++) {
            gql_document *doc = NULL;
            rc = gql_parse(&doc, &errs, r->d->text, r->d->len, NULL);
            gql_document_free(doc);
        }
        *spent = now_s() - t0;
        break;
    case BENCH_VALIDATE:
        *spent = 0;
        for (size_t done = 0; done < n && rc == ROSTER_E_OK;) {
            size_t k = n - done < POOL ? n - done : POOL;
            for (size_t i = 0; i < k && rc == ROSTER_E_OK; i++)
                rc = gql_parse(&r->pool[i], &errs, r->d->text, r->d->len, NULL);
            if (rc == ROSTER_E_OK) {
                t0 = now_s();
                for (size_t i = 0; i < k && rc == ROSTER_E_OK; i++)
                    rc = gql_validate(&errs, r->env->schema, r->pool[i]);
                *spent += now_s() - t0;
            }
            for (size_t i = 0; i < k; i++) {
                gql_document_free(r->pool[i]);
                r->pool[i] = NULL;
            }
            done += k;
        }
        break;
    case BENCH_EXECUTE:
        t0 = now_s();
        for (size_t i = 0; i < n && rc == ROSTER_E_OK; i++)
            rc = execute_once(r->env, r->d, r->validated, &s);
        *spent = now_s() - t0;
        break;
    case BENCH_CACHED:
        t0 = now_s();
        for (size_t i = 0; i < n && rc == ROSTER_E_OK; i++) {
            gql_document *doc = NULL;
            rc = gql_cache_get(&doc, &errs, r->cache, r->d->text, r->d->len);
            if (rc == ROSTER_E_OK)
                rc = execute_once(r->env, r->d, doc, &s);
            gql_document_free(doc);
        }
        *spent = now_s() - t0;
        break;
    }
    gql_errors_free(&errs);
    return rc;
}

int bench_measure(double *ops_per_s, const bench_env *env, const bench_doc *d, bench_phase p)
{
    runner r = {.env = env, .d = d, .phase = p};
    gql_errors errs;
    gql_errors_init(&errs);
    int rc = ROSTER_E_OK;
    if (p == BENCH_EXECUTE)
        rc = gql_prepare(&r.validated, &errs, env->schema, d->text, d->len, NULL);
    if (p == BENCH_CACHED)
        rc = gql_cache_new(&r.cache, env->schema, 0, NULL);
    if (rc != ROSTER_E_OK)
        goto done;

    /* Warm up for a fifth of the time, then count whole batches. */
    double spent = 0, total = 0;
    size_t batch = 1, ops = 0;
    while (total < env->seconds * 0.2 && rc == ROSTER_E_OK) {
        rc = run_batch(&r, batch, &spent);
        total += spent;
        if (batch < 1024)
            batch *= 2;
    }
    total = 0;
    batch = 1;
    while (total < env->seconds && rc == ROSTER_E_OK) {
        rc = run_batch(&r, batch, &spent);
        total += spent;
        ops += batch;
        if (batch < 1024)
            batch *= 2;
    }
    if (rc == ROSTER_E_OK)
        *ops_per_s = (double)ops / total;
done:
    gql_cache_free(r.cache);
    gql_document_free(r.validated);
    gql_errors_free(&errs);
    return rc;
}
