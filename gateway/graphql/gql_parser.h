/* Parsing GraphQL documents (executable and SDL) into a gql_document, with
 * limits enforced while parsing.
 *
 * A gql_document owns a copy of its source text and an arena holding every
 * node. It is reference-counted so the document cache can share one
 * validated document between threads; it is immutable once validated. */
#ifndef ROSTER_GQL_PARSER_H
#define ROSTER_GQL_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "gql_ast.h"
#include "gql_error.h"

typedef struct gql_limits {
    size_t max_bytes;    /* document size in bytes; 0 = no limit */
    uint32_t max_tokens; /* lexical tokens (punctuators, names, values); 0 = no limit */
    uint32_t max_depth;  /* nesting of selection sets, lists and objects; 0 = no limit */
} gql_limits;

#define GQL_DEFAULT_MAX_BYTES  (1024u * 1024u)
#define GQL_DEFAULT_MAX_TOKENS 15000u
#define GQL_DEFAULT_MAX_DEPTH  15u

/* The defaults above. */
gql_limits gql_limits_default(void);

typedef struct gql_document {
    gql_definition *defs; /* in source order */
    uint32_t n_defs;
    gql_operation **ops; /* the operation definitions, in source order */
    uint32_t n_ops;
    gql_fragment **frags; /* the fragment definitions, in source order */
    uint32_t n_frags;
    const char *source; /* NUL-terminated copy of the text, owned */
    size_t source_len;
    uint32_t n_tokens;
    const void *validated_for; /* the gql_schema it passed validation for */
    size_t mem_bytes;          /* approximate memory held (for the cache) */
    int refs;                  /* atomic reference count */
    roster_arena arena;        /* owns every node */
} gql_document;

/* Parses `len` bytes of text. On success *out is a new document with one
 * reference (release with gql_document_free) and ROSTER_E_OK is returned.
 * Otherwise *out is untouched, one error is appended to `errs` (code
 * GRAPHQL_PARSE_FAILED, message "Syntax Error: ..." with its line:column
 * location) and the result is ROSTER_E_PARSE, ROSTER_E_LIMIT (a limit was
 * exceeded; the message names it) or ROSTER_E_NOMEM. `limits` may be NULL
 * for the defaults. The text is copied; the caller keeps its buffer. */
int gql_parse(gql_document **out, gql_errors *errs, const char *text, size_t len,
              const gql_limits *limits);

/* Adds a reference (thread-safe). Returns doc. */
gql_document *gql_document_ref(gql_document *doc);

/* Drops a reference (thread-safe); the last one frees the document.
 * Accepts NULL. */
void gql_document_free(gql_document *doc);

/* Selects the operation to run per the specification: the one named
 * `name` (len bytes), or the only operation when name is NULL. On success
 * writes *out (borrowed from doc) and returns ROSTER_E_OK; otherwise
 * appends an error ("Unknown operation named "x".", "Must provide operation
 * name if query contains multiple operations.", "Must provide an
 * operation.") and returns ROSTER_E_INVALID_ARGUMENT. */
int gql_document_operation(const gql_operation **out, gql_errors *errs, const gql_document *doc,
                           const char *name, size_t len);

#endif
