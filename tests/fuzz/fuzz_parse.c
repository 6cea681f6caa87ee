/* libFuzzer harness: the GraphQL parser (executable documents and SDL) on
 * arbitrary bytes, with the default limits. A parse either gives a document
 * or exactly one located error. */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "graphql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gql_document *doc = NULL;
    gql_errors errs;
    gql_errors_init(&errs);
    int rc = gql_parse(&doc, &errs, (const char *)data, size, NULL);
    if (rc == ROSTER_E_OK) {
        if (!doc || errs.count != 0)
            abort();
    } else if (rc != ROSTER_E_NOMEM) {
        if (doc || errs.count != 1 || !errs.head->message)
            abort();
    }
    gql_document_free(doc);
    gql_errors_free(&errs);
    return 0;
}
