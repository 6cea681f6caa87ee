/* Resolution of the introspection fields (__schema, __type and the fields
 * of __Schema, __Type, __Field, __InputValue, __EnumValue, __Directive)
 * from the schema itself. Used by the executor; synchronous. */
#ifndef ROSTER_GQL_INTROSPECTION_H
#define ROSTER_GQL_INTROSPECTION_H

#include "arena.h"
#include "gql_result.h"
#include "gql_schema.h"
#include "gql_value.h"

/* Sources: __Schema → the gql_schema, __Type → a const gql_wtype, __Field →
 * gql_field, __InputValue → gql_input_field, __EnumValue → gql_enum_value,
 * __Directive → gql_directive_def. Resolves field f (a field of an
 * introspection type, or s->f_schema / s->f_type on the query root) of
 * `source` with coerced `args` into *out; lists are allocated from `a`
 * (valid while the arena is). ROSTER_E_OK, ROSTER_E_NOMEM, or
 * ROSTER_E_NOT_FOUND if f is not an introspection field. */
int gql_introspect(gql_result *out, const gql_schema *s, const gql_field *f, const void *source,
                   const gql_value *args, roster_arena *a);

#endif
