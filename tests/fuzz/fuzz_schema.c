#include "fuzz_schema.h"

#include <stdio.h>

#include "error.h"
#include "oracle_stub.h"

static gql_schema *schema;
static gql_resolvers *resolvers;
static oracle_stub_layout layout;
static int tried;

static void setup(void)
{
    gql_errors errs;
    tried = 1;
    gql_errors_init(&errs);
    int rc = gql_schema_build(&schema, &errs, fuzz_sdl, fuzz_sdl_len);
    if (rc == ROSTER_E_OK)
        rc = gql_schema_use_standard_scalars(schema);
    if (rc == ROSTER_E_OK)
        rc = gql_resolvers_new(&resolvers, schema);
    if (rc == ROSTER_E_OK)
        rc = oracle_stub_register(resolvers, schema, &layout);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "fuzz schema: %s%s%s\n", roster_strerror(rc), errs.head ? ": " : "",
                errs.head ? errs.head->message : "");
        gql_resolvers_free(resolvers);
        gql_schema_free(schema);
        resolvers = NULL;
        schema = NULL;
    }
    gql_errors_free(&errs);
}

const gql_schema *fuzz_schema(void)
{
    if (!tried)
        setup();
    return schema;
}

const gql_resolvers *fuzz_resolvers(void)
{
    if (!tried)
        setup();
    return resolvers;
}
