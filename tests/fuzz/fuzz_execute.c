/* libFuzzer harness: execution with variables. The input is a document,
 * optionally followed by a NUL byte and the variables as JSON, optionally
 * followed by another NUL and an operation name. Valid documents are
 * executed against the oracle's stub resolvers (deferred completions when
 * the input's length is odd); the response must be one JSON object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz_schema.h"
#include "graphql.h"
#include "oracle_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    int calls;
    int ok;
} outcome;

static void on_complete(gql_response *resp, void *ud)
{
    outcome *o = ud;
    o->calls++;
    if (resp->body) {
        json_error_t jerr;
        json_t *j = json_loadb(resp->body, resp->len, JSON_ALLOW_NUL, &jerr);
        o->ok = json_is_object(j) && (json_object_get(j, "data") || json_object_get(j, "errors"));
        json_decref(j);
    } else {
        o->ok = resp->nomem;
    }
    free(resp->body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const gql_schema *s = fuzz_schema();
    const gql_resolvers *r = fuzz_resolvers();
    if (!s || !r)
        abort();
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t doc_len = nul ? (size_t)(nul - text) : size;
    json_t *vars = NULL;
    const char *op = NULL;
    size_t op_len = 0;
    if (nul) {
        const char *vstart = nul + 1;
        size_t rest = size - doc_len - 1;
        const char *nul2 = memchr(vstart, '\0', rest);
        size_t vlen = nul2 ? (size_t)(nul2 - vstart) : rest;
        json_error_t jerr;
        vars = json_loadb(vstart, vlen, JSON_ALLOW_NUL, &jerr);
        if (nul2) {
            op = nul2 + 1;
            op_len = rest - vlen - 1;
        }
    }

    gql_document *doc = NULL;
    gql_errors errs;
    gql_errors_init(&errs);
    if (gql_prepare(&doc, &errs, s, text, doc_len, NULL) == ROSTER_E_OK) {
        oracle_stub st;
        outcome o = {0};
        gql_exec_params p = {0};
        oracle_stub_init(&st, size % 2);
        p.schema = s;
        p.doc = doc;
        p.operation_name = op;
        p.operation_name_len = op_len;
        p.variables = vars;
        p.resolvers = r;
        p.context = &st;
        p.complete = on_complete;
        p.complete_ud = &o;
        if (gql_execute(&p) == ROSTER_E_OK) {
            oracle_stub_drain(&st);
            if (o.calls != 1 || !o.ok)
                abort();
        }
        oracle_stub_free(&st);
    }
    gql_document_free(doc);
    gql_errors_free(&errs);
    json_decref(vars);
    return 0;
}
