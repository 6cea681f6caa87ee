/* Compares two oracle verdicts (graphql-js's expected one and ours).
 *
 * What must match: the parse verdict and its error location; the number and
 * locations of validation errors; the presence of "data" and its exact
 * value, key order included; the number of execution errors with their
 * paths and locations. Messages must match where the engine claims
 * graphql-js wording (validation errors, operation selection errors) and
 * where they come from the stub data source; other message differences
 * (syntax, variable coercion and non-null wording) are reported as wording
 * only. */
#ifndef ROSTER_ORACLE_COMPARE_H
#define ROSTER_ORACLE_COMPARE_H

#include <jansson.h>

#include "gql_json.h"

enum {
    ORACLE_MATCH = 0,
    ORACLE_WORDING = 1, /* only unclaimed messages differ */
    ORACLE_MISMATCH = 2
};

/* Sorts a verdict's lists in place (validation errors by locations then
 * message; execution errors by path, locations, message) so that verdicts
 * compare independently of the order errors were found in. */
void oracle_verdict_sort(json_t *v);

/* Compares sorted verdicts. Appends one line per difference to report
 * (borrowed; may be NULL). Returns ORACLE_MATCH, ORACLE_WORDING or
 * ORACLE_MISMATCH. */
int oracle_compare(const json_t *want, const json_t *got, gql_buf *report);

#endif
