#include "gql_names.h"

#include "gql_schema.h"

_Static_assert(GQL_DLOC_INPUT_FIELD_DEFINITION == 1u << (GQL_DLOC_COUNT - 1),
               "gql_dloc_names names every GQL_DLOC_* bit");

const char *const gql_dloc_names[GQL_DLOC_COUNT] = {"QUERY",
                                                    "MUTATION",
                                                    "SUBSCRIPTION",
                                                    "FIELD",
                                                    "FRAGMENT_DEFINITION",
                                                    "FRAGMENT_SPREAD",
                                                    "INLINE_FRAGMENT",
                                                    "VARIABLE_DEFINITION",
                                                    "SCHEMA",
                                                    "SCALAR",
                                                    "OBJECT",
                                                    "FIELD_DEFINITION",
                                                    "ARGUMENT_DEFINITION",
                                                    "INTERFACE",
                                                    "UNION",
                                                    "ENUM",
                                                    "ENUM_VALUE",
                                                    "INPUT_OBJECT",
                                                    "INPUT_FIELD_DEFINITION"};

const char *gql_dloc_name(uint32_t bit)
{
    for (int i = 0; i < GQL_DLOC_COUNT; i++)
        if (bit == (1u << i))
            return gql_dloc_names[i];
    return "UNKNOWN";
}
