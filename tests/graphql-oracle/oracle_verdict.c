#include "oracle_verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "oracle_stub.h"

int oracle_engine_open(oracle_engine *e, const char *schema_path)
{
    char *sdl = NULL;
    size_t len = 0;
    gql_errors errs;
    gql_errors_init(&errs);
    memset(e, 0, sizeof *e);
    int rc = oracle_read_file(&sdl, &len, schema_path);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "cannot read schema %s: %s\n", schema_path, roster_strerror(rc));
        goto fail;
    }
    rc = gql_schema_build(&e->schema, &errs, sdl, len);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "schema %s: %s\n", schema_path, roster_strerror(rc));
        for (const gql_error *er = errs.head; er; er = er->next)
            fprintf(stderr, "  %s\n", er->message);
        goto fail;
    }
    rc = gql_schema_use_standard_scalars(e->schema);
    if (rc == ROSTER_E_OK)
        rc = gql_resolvers_new(&e->resolvers, e->schema);
    if (rc == ROSTER_E_OK)
        rc = oracle_stub_register(e->resolvers, e->schema, &e->layout);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "engine setup: %s\n", roster_strerror(rc));
        goto fail;
    }
    free(sdl);
    gql_errors_free(&errs);
    return ROSTER_E_OK;
fail:
    free(sdl);
    gql_errors_free(&errs);
    oracle_engine_close(e);
    return rc;
}

void oracle_engine_close(oracle_engine *e)
{
    if (!e)
        return;
    gql_resolvers_free(e->resolvers);
    gql_schema_free(e->schema);
    memset(e, 0, sizeof *e);
}

typedef struct completion {
    int done;
    char *body;
    size_t len;
    int nomem;
} completion;

static void on_complete(gql_response *resp, void *ud)
{
    completion *cp = ud;
    cp->done++;
    if (cp->done > 1) {
        free(resp->body);
        return;
    }
    cp->body = resp->body;
    cp->len = resp->len;
    cp->nomem = resp->nomem;
}

static json_t *locations_json(const gql_location *locs, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++)
        json_array_append_new(
            a, json_pack("[I,I]", (json_int_t)locs[i].line, (json_int_t)locs[i].column));
    return a;
}

static json_t *failure(json_t *v, const char *what)
{
    json_object_set_new(v, "engine_failure", json_string(what));
    return v;
}

/* Executes a validated document; on success *body is the response. */
static int execute(completion *cp, const oracle_engine *e, gql_document *doc, const oracle_case *c,
                   int defer)
{
    oracle_stub st;
    oracle_stub_init(&st, defer);
    gql_exec_params p = {0};
    p.schema = e->schema;
    p.doc = doc;
    p.operation_name = c->operation_name;
    p.operation_name_len = c->operation_name ? strlen(c->operation_name) : 0;
    p.variables = c->variables;
    p.resolvers = e->resolvers;
    p.context = &st;
    p.complete = on_complete;
    p.complete_ud = cp;
    int rc = gql_execute(&p);
    if (rc == ROSTER_E_OK && defer)
        oracle_stub_drain(&st);
    oracle_stub_free(&st);
    return rc;
}

/* Normalizes a response body's "data" and "errors" into a verdict result. */
static json_t *result_json(const char *body, size_t len)
{
    json_error_t jerr;
    json_t *resp = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(resp)) {
        json_decref(resp);
        return NULL;
    }
    json_t *out = json_object();
    json_t *data = json_object_get(resp, "data");
    if (data)
        json_object_set(out, "data", data);
    json_t *errors = json_object_get(resp, "errors");
    if (json_array_size(errors) > 0) {
        json_t *list = json_array();
        size_t i;
        json_t *er;
        json_array_foreach(errors, i, er)
        {
            json_t *o = json_object();
            json_t *msg = json_object_get(er, "message");
            json_object_set(o, "message", msg ? msg : json_null());
            json_t *locs = json_array();
            size_t j;
            json_t *l;
            json_array_foreach(json_object_get(er, "locations"), j, l)
            {
                json_array_append_new(locs, json_pack("[O,O]", json_object_get(l, "line"),
                                                      json_object_get(l, "column")));
            }
            json_object_set_new(o, "locations", locs);
            json_t *path = json_object_get(er, "path");
            if (path)
                json_object_set(o, "path", path);
            const char *code =
                json_string_value(json_object_get(json_object_get(er, "extensions"), "code"));
            if (code && strcmp(code, ORACLE_STUB_CODE) == 0)
                json_object_set_new(o, "stub", json_true());
            json_array_append_new(list, o);
        }
        json_object_set_new(out, "errors", list);
    }
    json_decref(resp);
    return out;
}

int oracle_verdict(json_t **out, const oracle_engine *e, const oracle_case *c, int defer)
{
    json_t *v = json_object();
    gql_document *doc = NULL;
    gql_errors errs;
    completion cp = {0};
    gql_errors_init(&errs);
    if (!v)
        return ROSTER_E_NOMEM;

    int rc = gql_parse(&doc, &errs, c->text, c->len, NULL);
    if (rc != ROSTER_E_OK) {
        json_t *p = json_pack("{s:b}", "ok", 0);
        if (errs.head) {
            json_object_set_new(p, "locations",
                                locations_json(errs.head->locations, errs.head->n_locations));
            json_object_set_new(p, "message",
                                json_stringn(errs.head->message, errs.head->message_len));
        }
        json_object_set_new(v, "parse", p);
        if (rc == ROSTER_E_NOMEM)
            failure(v, "parse: out of memory");
        goto done;
    }
    json_object_set_new(v, "parse", json_pack("{s:b}", "ok", 1));

    rc = gql_validate(&errs, e->schema, doc);
    json_t *val = json_array();
    for (const gql_error *er = errs.head; er; er = er->next) {
        json_array_append_new(val, json_pack("{s:o,s:s%}", "locations",
                                             locations_json(er->locations, er->n_locations),
                                             "message", er->message, er->message_len));
    }
    json_object_set_new(v, "validation", val);
    if (rc != ROSTER_E_OK) {
        if (json_array_size(val) == 0)
            failure(v, roster_strerror(rc));
        goto done;
    }

    rc = execute(&cp, e, doc, c, defer);
    if (rc != ROSTER_E_OK) {
        failure(v, "gql_execute refused the document");
        goto done;
    }
    if (cp.done != 1) {
        failure(v, cp.done ? "completion called more than once" : "execution never completed");
        goto done;
    }
    if (cp.nomem || !cp.body) {
        failure(v, "no response body");
        goto done;
    }
    json_t *res = result_json(cp.body, cp.len);
    if (!res)
        failure(v, "the response is not a JSON object");
    else
        json_object_set_new(v, "result", res);
done:
    free(cp.body);
    gql_document_free(doc);
    gql_errors_free(&errs);
    *out = v;
    return ROSTER_E_OK;
}

int oracle_run(char **body, size_t *len, const oracle_engine *e, const oracle_case *c, int defer)
{
    gql_document *doc = NULL;
    gql_errors errs;
    completion cp = {0};
    gql_errors_init(&errs);
    int rc = gql_prepare(&doc, &errs, e->schema, c->text, c->len, NULL);
    if (rc != ROSTER_E_OK) {
        gql_buf b;
        gql_jw w;
        gql_buf_init(&b);
        gql_jw_init(&w, &b, 0);
        gql_errors_write_response(&w, &errs, NULL, NULL);
        rc = gql_buf_take(body, len, &b);
        gql_buf_free(&b);
        goto done;
    }
    rc = execute(&cp, e, doc, c, defer);
    if (rc == ROSTER_E_OK && (cp.done != 1 || !cp.body))
        rc = ROSTER_E_INTERNAL;
    if (rc == ROSTER_E_OK) {
        *body = cp.body;
        *len = cp.len;
        cp.body = NULL;
    }
done:
    free(cp.body);
    gql_document_free(doc);
    gql_errors_free(&errs);
    return rc;
}
