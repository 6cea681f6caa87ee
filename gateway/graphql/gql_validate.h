/* Validation of executable documents against a schema (GraphQL spec
 * October 2021, section 5), with graphql-js's messages and locations.
 * Validation also resolves each field node to its schema definition and
 * each fragment spread to its fragment, which execution relies on. */
#ifndef ROSTER_GQL_VALIDATE_H
#define ROSTER_GQL_VALIDATE_H

#include "gql_error.h"
#include "gql_parser.h"
#include "gql_schema.h"

/* Validates doc (not yet shared between threads: validation writes the
 * resolved definitions into it). Every violation is appended to errs with
 * code GRAPHQL_VALIDATION_FAILED. Returns ROSTER_E_OK (doc is marked
 * validated for s), ROSTER_E_VALIDATION or ROSTER_E_NOMEM. */
int gql_validate(gql_errors *errs, const gql_schema *s, gql_document *doc);

/* Parse then validate, then check limits->max_depth again with fragment
 * spreads expanded (ROSTER_E_LIMIT, an error naming the limit at the
 * operation). On success *out holds one reference to a validated document
 * (release with gql_document_free). Errors as for gql_parse and
 * gql_validate, returning their codes. */
int gql_prepare(gql_document **out, gql_errors *errs, const gql_schema *s, const char *text,
                size_t len, const gql_limits *limits);

/* Appends graphql-js's " Did you mean "a", "b", or "c"?" suggestion for
 * `input` among `options` (nothing when none is close); `sub` (may be NULL)
 * is inserted after "Did you mean", e.g. "the enum value". */
void gql_did_you_mean(gql_buf *out, const char *sub, gql_str input, const gql_str *options,
                      uint32_t n);

#endif
