/* libFuzzer harness: validation of every parsable input against the
 * project's schema, twice through the document cache (a miss, then for
 * valid documents a hit that must give the same document). */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "fuzz_schema.h"
#include "graphql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const gql_schema *s = fuzz_schema();
    if (!s)
        abort();
    gql_document *doc = NULL;
    gql_errors errs;
    gql_errors_init(&errs);
    int rc = gql_parse(&doc, &errs, (const char *)data, size, NULL);
    if (rc == ROSTER_E_OK) {
        rc = gql_validate(&errs, s, doc);
        if (rc == ROSTER_E_VALIDATION && errs.count == 0)
            abort();
        if (rc == ROSTER_E_OK && errs.count != 0)
            abort();
    }
    gql_document_free(doc);
    gql_errors_free(&errs);

    gql_cache *cache = NULL;
    if (gql_cache_new(&cache, s, 0, NULL) == ROSTER_E_OK) {
        gql_document *a = NULL, *b = NULL;
        gql_errors_init(&errs);
        int ra = gql_cache_get(&a, &errs, cache, (const char *)data, size);
        int rb = gql_cache_get(&b, &errs, cache, (const char *)data, size);
        if (ra != rb || (ra == ROSTER_E_OK && a != b))
            abort();
        gql_document_free(a);
        gql_document_free(b);
        gql_errors_free(&errs);
        gql_cache_free(cache);
    }
    return 0;
}
