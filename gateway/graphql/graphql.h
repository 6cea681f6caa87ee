/* The GraphQL engine: include this for the whole public API.
 *
 *   gql_schema_build + gql_schema_use_standard_scalars   schema from SDL
 *   gql_parse / gql_validate / gql_prepare / gql_cache_get documents
 *   gql_resolvers_* + gql_execute                         execution
 *   gql_buf / gql_jw                                      JSON output */
#ifndef ROSTER_GRAPHQL_H
#define ROSTER_GRAPHQL_H

#include "gql_ast.h"
#include "gql_cache.h"
#include "gql_error.h"
#include "gql_execute.h"
#include "gql_json.h"
#include "gql_parser.h"
#include "gql_result.h"
#include "gql_schema.h"
#include "gql_validate.h"
#include "gql_value.h"

#endif
