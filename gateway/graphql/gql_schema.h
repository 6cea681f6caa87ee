/* A GraphQL schema built from SDL text: named types with precomputed field
 * lookups, the built-in scalars and directives, the introspection types,
 * and hooks for custom scalars. Immutable after setup (build, then
 * register scalars); then safe to share between threads. */
#ifndef ROSTER_GQL_SCHEMA_H
#define ROSTER_GQL_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "gql_ast.h"
#include "gql_error.h"
#include "gql_json.h"
#include "gql_parser.h"
#include "gql_result.h"
#include "gql_value.h"

typedef enum gql_type_kind {
    GQL_KIND_SCALAR,
    GQL_KIND_OBJECT,
    GQL_KIND_INTERFACE,
    GQL_KIND_UNION,
    GQL_KIND_ENUM,
    GQL_KIND_INPUT_OBJECT,
    GQL_KIND_LIST,
    GQL_KIND_NON_NULL
} gql_type_kind;

/* Built-in scalar ids (gql_type.builtin). */
enum {
    GQL_SCALAR_CUSTOM,
    GQL_SCALAR_INT,
    GQL_SCALAR_FLOAT,
    GQL_SCALAR_STRING,
    GQL_SCALAR_BOOLEAN,
    GQL_SCALAR_ID
};

typedef struct gql_type gql_type;
typedef struct gql_wtype gql_wtype;

/* A possibly wrapped type: NAMED (named), LIST or NON_NULL (of). Every
 * gql_wtype lives as long as the schema. */
struct gql_wtype {
    uint8_t kind; /* GQL_KIND_LIST, GQL_KIND_NON_NULL, or the named type's kind */
    const gql_wtype *of;
    const gql_type *named;            /* the innermost named type (for all kinds) */
    const gql_wtype *list_of_this;    /* cached [this], or NULL */
    const gql_wtype *nonnull_of_this; /* cached this!, or NULL */
};

/* Argument or input object field. */
typedef struct gql_input_field {
    gql_str name;
    gql_str description;
    int has_description;
    const gql_wtype *type;
    const gql_value *default_value; /* NULL when none */
    int deprecated;
    gql_str deprecation_reason;
} gql_input_field;

typedef struct gql_field {
    gql_str name;
    gql_str description;
    int has_description;
    const gql_wtype *type;
    gql_input_field *args;
    uint32_t n_args;
    const gql_type *parent;
    uint32_t id; /* dense index over all fields of the schema */
    int deprecated;
    gql_str deprecation_reason;
} gql_field;

typedef struct gql_enum_value {
    gql_str name;
    gql_str description;
    int has_description;
    int deprecated;
    gql_str deprecation_reason;
} gql_enum_value;

/* Custom scalar coercion. `coerce_input` receives a literal with variables
 * already substituted, or a variable's JSON converted by
 * gql_value_from_json; it writes the coerced value to *out (allocating from
 * `arena` if needed) or returns non-zero with *message set (static or
 * arena-owned text). `serialize` writes a resolver's value as one JSON value
 * or returns non-zero with *message. Either hook may be NULL: input then
 * passes the value through, output writes scalars and JSON as given. */
typedef struct gql_scalar_hooks {
    int (*coerce_input)(gql_value *out, const gql_value *in, roster_arena *arena,
                        const char **message, void *ud);
    int (*serialize)(gql_jw *w, const gql_result *in, const char **message, void *ud);
    void *ud;
} gql_scalar_hooks;

struct gql_type {
    gql_wtype self;        /* this type as a gql_wtype */
    uint8_t kind;          /* gql_type_kind (never LIST/NON_NULL) */
    uint8_t builtin;       /* GQL_SCALAR_* for scalars */
    uint8_t introspection; /* a __Type, __Field, ... meta type */
    gql_str name;
    gql_str description;
    int has_description;
    gql_str specified_by; /* @specifiedBy(url:) of a scalar */
    uint32_t index;       /* position in gql_schema.types */
    gql_field *fields;    /* OBJECT, INTERFACE: in SDL order */
    uint32_t n_fields;
    gql_input_field *input_fields; /* INPUT_OBJECT */
    uint32_t n_input_fields;
    gql_enum_value *values; /* ENUM */
    uint32_t n_values;
    uint32_t *lookup; /* open-addressing name table: indexes+1, 0 = empty */
    uint32_t lookup_mask;
    gql_scalar_hooks hooks; /* custom scalars */
};

/* Directive locations bits. */
enum {
    GQL_DLOC_QUERY = 1u << 0,
    GQL_DLOC_MUTATION = 1u << 1,
    GQL_DLOC_SUBSCRIPTION = 1u << 2,
    GQL_DLOC_FIELD = 1u << 3,
    GQL_DLOC_FRAGMENT_DEFINITION = 1u << 4,
    GQL_DLOC_FRAGMENT_SPREAD = 1u << 5,
    GQL_DLOC_INLINE_FRAGMENT = 1u << 6,
    GQL_DLOC_VARIABLE_DEFINITION = 1u << 7,
    GQL_DLOC_SCHEMA = 1u << 8,
    GQL_DLOC_SCALAR = 1u << 9,
    GQL_DLOC_OBJECT = 1u << 10,
    GQL_DLOC_FIELD_DEFINITION = 1u << 11,
    GQL_DLOC_ARGUMENT_DEFINITION = 1u << 12,
    GQL_DLOC_INTERFACE = 1u << 13,
    GQL_DLOC_UNION = 1u << 14,
    GQL_DLOC_ENUM = 1u << 15,
    GQL_DLOC_ENUM_VALUE = 1u << 16,
    GQL_DLOC_INPUT_OBJECT = 1u << 17,
    GQL_DLOC_INPUT_FIELD_DEFINITION = 1u << 18
};

typedef struct gql_directive_def {
    gql_str name;
    gql_str description;
    int has_description;
    uint32_t locations;    /* GQL_DLOC_* bits */
    uint8_t loc_order[19]; /* bit numbers in declaration order */
    uint32_t n_loc_order;
    gql_input_field *args;
    uint32_t n_args;
    int repeatable;
} gql_directive_def;

typedef struct gql_schema {
    gql_type **types; /* user types in SDL order, then built-ins, then introspection types */
    uint32_t n_types;
    uint32_t n_fields; /* number of gql_field ids */
    gql_directive_def **directives;
    uint32_t n_directives;
    const gql_type *query;
    const gql_type *mutation;     /* NULL when none */
    const gql_type *subscription; /* NULL when none */
    gql_str description;
    int has_description;
    uint32_t *lookup; /* type name table: indexes+1 */
    uint32_t lookup_mask;
    const gql_field *f_typename; /* the __typename meta field */
    const gql_field *f_schema;   /* Query.__schema */
    const gql_field *f_type;     /* Query.__type */
    gql_document *sdl;           /* the parsed SDL (owned) */
    gql_document *builtin_sdl;   /* built-in types' SDL (owned) */
    roster_arena arena;          /* owns everything else */
} gql_schema;

/* Parses SDL text and builds a schema. Supported: schema definitions,
 * scalars, objects, enums, input objects, directive definitions,
 * descriptions, default values, @deprecated, @specifiedBy; interfaces,
 * unions and extensions are rejected ("... are not supported"). Errors
 * (syntax, unknown type names, duplicate names, wrong kinds in input or
 * output positions, invalid defaults, missing Query) are appended to errs.
 * Returns ROSTER_E_OK with *out (free with gql_schema_free), or
 * ROSTER_E_PARSE / ROSTER_E_INVALID_ARGUMENT / ROSTER_E_NOMEM. */
int gql_schema_build(gql_schema **out, gql_errors *errs, const char *sdl, size_t len);

/* Releases the schema. Accepts NULL. Documents validated against it and
 * executions using it must be gone first. */
void gql_schema_free(gql_schema *s);

/* Sets the coercion hooks of custom scalar `name` (NUL-terminated); hooks is
 * copied. ROSTER_E_OK, or ROSTER_E_NOT_FOUND if no custom scalar has that
 * name. Call before sharing the schema. */
int gql_schema_set_scalar(gql_schema *s, const char *name, const gql_scalar_hooks *hooks);

/* Registers the project's standard scalars if the schema declares them:
 * Date (input: ISO-8601 string → GQL_VALUE_INT Unix milliseconds; output:
 * GQL_RESULT_INT milliseconds or a valid ISO string →
 * "2026-11-27T04:24:50.123Z"), JsonObject (input: any object →
 * GQL_VALUE_OBJECT; output: RAW_JSON/JSON that is an object) and
 * JsonValue (input: any value, kept as given; output: RAW_JSON/JSON). */
int gql_schema_use_standard_scalars(gql_schema *s);

/* Named type lookup; NULL when absent. Borrowed from the schema. */
const gql_type *gql_schema_type(const gql_schema *s, const char *name, size_t len);

/* Field lookup on an object type (includes __typename; __schema/__type on
 * the query type); NULL when absent. */
const gql_field *gql_type_field(const gql_type *t, const char *name, size_t len);

/* Input field / argument lookup within an array; NULL when absent. */
const gql_input_field *gql_input_field_find(const gql_input_field *f, uint32_t n, const char *name,
                                            size_t len);

/* Enum value lookup; NULL when absent. */
const gql_enum_value *gql_type_enum_value(const gql_type *t, const char *name, size_t len);

/* Directive lookup; NULL when absent. */
const gql_directive_def *gql_schema_directive(const gql_schema *s, const char *name, size_t len);

/* Prints a type as GraphQL writes it ("[UserModel!]!") into b. */
void gql_wtype_print(gql_buf *b, const gql_wtype *t);

/* Input and output type predicates. */
int gql_wtype_is_input(const gql_wtype *t);
int gql_wtype_is_output(const gql_wtype *t);

#endif
