/* The syntax tree of a GraphQL document (executable definitions and type
 * system definitions). Every node lives in the document's arena and is
 * immutable once the document is validated; slices point into the
 * document's own copy of the source text or into its arena. */
#ifndef ROSTER_GQL_AST_H
#define ROSTER_GQL_AST_H

#include <stdint.h>

#include "gql_value.h"

struct gql_type;  /* gql_schema.h */
struct gql_field; /* gql_schema.h */

typedef enum gql_op_type { GQL_OP_QUERY, GQL_OP_MUTATION, GQL_OP_SUBSCRIPTION } gql_op_type;

typedef struct gql_argument {
    gql_str name;
    gql_location loc;
    gql_value *value;
} gql_argument;

typedef struct gql_directive {
    gql_str name;
    gql_location loc;
    gql_argument *args;
    uint32_t n_args;
} gql_directive;

typedef enum gql_type_ref_kind {
    GQL_TREF_NAMED,
    GQL_TREF_LIST,
    GQL_TREF_NON_NULL
} gql_type_ref_kind;

typedef struct gql_type_ref gql_type_ref;
struct gql_type_ref {
    uint8_t kind;     /* gql_type_ref_kind */
    gql_str name;     /* NAMED */
    gql_type_ref *of; /* LIST, NON_NULL */
    gql_location loc;
};

typedef enum gql_selection_kind {
    GQL_SEL_FIELD,
    GQL_SEL_FRAGMENT_SPREAD,
    GQL_SEL_INLINE_FRAGMENT
} gql_selection_kind;

typedef struct gql_selection gql_selection;
typedef struct gql_fragment gql_fragment;

typedef struct gql_selection_set {
    gql_selection *items;
    uint32_t count;
    gql_location loc;
} gql_selection_set;

struct gql_selection {
    uint8_t kind; /* gql_selection_kind */
    gql_location loc;
    gql_str alias;              /* FIELD: empty when no alias */
    gql_str name;               /* FIELD: field name; SPREAD: fragment name */
    gql_str type_cond;          /* INLINE_FRAGMENT: empty when absent */
    gql_location name_loc;      /* FIELD, SPREAD: position of the name */
    gql_location type_cond_loc; /* INLINE_FRAGMENT */
    gql_argument *args;         /* FIELD */
    uint32_t n_args;
    uint32_t n_dirs;
    gql_directive *dirs;
    gql_selection_set *sel; /* FIELD (NULL for leaves), INLINE_FRAGMENT */
    /* Filled by validation: */
    const struct gql_field *def;  /* FIELD: its schema definition */
    const gql_fragment *fragment; /* SPREAD: the fragment it names */
};

typedef struct gql_var_def {
    gql_str name;          /* without '$' */
    gql_location loc;      /* the '$' */
    gql_location name_loc; /* the name after '$' */
    gql_type_ref *type;
    gql_value *default_value; /* NULL when none */
    gql_directive *dirs;
    uint32_t n_dirs;
    const struct gql_type *named; /* filled by validation: the named type */
} gql_var_def;

typedef struct gql_operation {
    uint8_t type;  /* gql_op_type */
    int anonymous; /* no name (including the `{ ... }` shorthand) */
    gql_str name;
    gql_location loc;
    gql_location name_loc;
    gql_var_def *vars;
    uint32_t n_vars;
    uint32_t n_dirs;
    gql_directive *dirs;
    gql_selection_set *sel;
} gql_operation;

struct gql_fragment {
    gql_str name;
    gql_location loc;
    gql_location name_loc;
    gql_str type_cond;
    gql_location type_cond_loc;
    gql_directive *dirs;
    uint32_t n_dirs;
    gql_selection_set *sel;
};

/* Type system definitions (SDL). */
typedef struct gql_input_value_def {
    gql_str description; /* decoded; empty when none */
    int has_description;
    gql_str name;
    gql_location loc;
    gql_type_ref *type;
    gql_value *default_value; /* NULL when none */
    gql_directive *dirs;
    uint32_t n_dirs;
} gql_input_value_def;

typedef struct gql_field_def_node {
    gql_str description;
    int has_description;
    gql_str name;
    gql_location loc;
    gql_input_value_def *args;
    uint32_t n_args;
    gql_type_ref *type;
    gql_directive *dirs;
    uint32_t n_dirs;
} gql_field_def_node;

typedef struct gql_enum_value_def {
    gql_str description;
    int has_description;
    gql_str name;
    gql_location loc;
    gql_directive *dirs;
    uint32_t n_dirs;
} gql_enum_value_def;

typedef enum gql_def_kind {
    GQL_DEF_OPERATION,
    GQL_DEF_FRAGMENT,
    GQL_DEF_SCHEMA,
    GQL_DEF_SCALAR,
    GQL_DEF_OBJECT,
    GQL_DEF_INTERFACE,
    GQL_DEF_UNION,
    GQL_DEF_ENUM,
    GQL_DEF_INPUT_OBJECT,
    GQL_DEF_DIRECTIVE
} gql_def_kind;

typedef struct gql_root_op_def {
    uint8_t op; /* gql_op_type */
    gql_str type_name;
    gql_location loc;
} gql_root_op_def;

/* A type system definition or extension. */
typedef struct gql_type_def {
    int is_extension;
    gql_str description;
    int has_description;
    gql_str name; /* empty for `schema` */
    gql_directive *dirs;
    uint32_t n_dirs;
    gql_str *interfaces; /* OBJECT, INTERFACE: implemented names */
    uint32_t n_interfaces;
    gql_field_def_node *fields; /* OBJECT, INTERFACE */
    uint32_t n_fields;
    gql_input_value_def *input_fields; /* INPUT_OBJECT; DIRECTIVE: args */
    uint32_t n_input_fields;
    gql_enum_value_def *values; /* ENUM */
    uint32_t n_values;
    gql_str *members; /* UNION */
    uint32_t n_members;
    gql_root_op_def *roots; /* SCHEMA */
    uint32_t n_roots;
    gql_str *locations; /* DIRECTIVE: location names */
    uint32_t n_locations;
    int repeatable; /* DIRECTIVE */
} gql_type_def;

typedef struct gql_definition {
    uint8_t kind; /* gql_def_kind */
    gql_location loc;
    union {
        gql_operation *op;
        gql_fragment *frag;
        gql_type_def *type;
    } u;
} gql_definition;

#endif
