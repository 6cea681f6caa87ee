/* libFuzzer harness: the gateway's GraphQL-over-HTTP request decoding
 * (gateway/request_params.c), from the request as it arrives to the
 * operation it names, as gw_graphql_route does before executing.
 *
 * Input: first byte b, then the text. b % 4 picks:
 *   0  an Accept header for gw_negotiate
 *   1  a GET request target (/graphql?query=...&variables=...)
 *   2  a POST body sent as application/json
 *   3  a POST: the Content-Type up to the first newline, then the body
 * A decoded request's query is parsed and its operation chosen by
 * operationName (gql_operation_type).
 *
 * Checked beyond the sanitizers: a decoder answers 0 or an HTTP status
 * it documents (400, 415, 503) with a message; a decoded request has a
 * query, variables that are an object or absent, and an operationName
 * that is absent or not empty; a parse succeeds with no errors or fails
 * with some. */
#include "graphql.h"
#include "request_params.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_gw_request: %s\n", what);
        abort();
    }
}

/* Parses the decoded query and picks the operation, as the route does. */
static void to_operation(const gw_params *p)
{
    gql_document *doc = NULL;
    gql_errors errs;
    gql_errors_init(&errs);
    int rc = gql_parse(&doc, &errs, p->query, p->query_len, NULL);
    if (rc == ROSTER_E_OK) {
        check(doc != NULL && errs.count == 0, "a parse that succeeded with errors");
        gql_op_type type;
        if (gql_operation_type(&type, &errs, doc, p->op_name, p->op_name_len) == ROSTER_E_OK)
            check(type == GQL_OP_QUERY || type == GQL_OP_MUTATION || type == GQL_OP_SUBSCRIPTION,
                  "an operation of no known type");
        else
            check(errs.count > 0, "no operation and no error saying why");
    } else if (rc != ROSTER_E_NOMEM) {
        check(doc == NULL && errs.count > 0, "a failed parse without an error");
    }
    gql_document_free(doc);
    gql_errors_free(&errs);
}

static void decoded(int st, const gw_params *p, const roster_err_detail *d)
{
    if (st != 0) {
        check(st == 400 || st == 415 || st == 503, "an HTTP status the decoder does not document");
        check(d->message[0] != '\0', "a refusal without a message");
        return;
    }
    check(p->query != NULL, "a decoded request without a query");
    check(p->variables == NULL || json_is_object(p->variables), "variables that are not an object");
    check(p->op_name == NULL || p->op_name_len > 0, "an empty operationName kept");
    to_operation(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *text = malloc(len + 1); /* NUL-terminated copy for the string readers */
    if (text == NULL)
        return 0;
    memcpy(text, body, len);
    text[len] = '\0';
    gw_params p = {0};
    roster_err_detail d = {{0}};
    switch (data[0] % 4) {
    case 0: {
        int neg = gw_negotiate(text);
        check(neg >= -1 && neg <= 1, "gw_negotiate out of range");
        break;
    }
    case 1:
        decoded(gw_params_from_get(&p, text, &d), &p, &d);
        break;
    case 2:
        decoded(gw_params_from_post(&p, "application/json", body, len, &d), &p, &d);
        break;
    default: {
        char *nl = memchr(text, '\n', len);
        size_t skip = nl ? (size_t)(nl - text) + 1 : len;
        if (nl)
            *nl = '\0';
        decoded(gw_params_from_post(&p, text, body + skip, len - skip, &d), &p, &d);
        break;
    }
    }
    gw_params_free(&p);
    free(text);
    return 0;
}
