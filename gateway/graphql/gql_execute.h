/* Asynchronous execution of a validated document.
 *
 * Resolvers are registered per (type, field) in a gql_resolvers table. The
 * engine calls a resolver with a gql_call handle; the resolver must complete
 * that handle exactly once with gql_resolve_done() or gql_resolve_error(),
 * either before returning (synchronous) or later from any thread (for
 * example an nng RPC callback). A batch resolver is called once with every
 * handle of one field at one level of the result (all the items of a list
 * asking for the same field) and completes each handle the same way.
 *
 * Sibling root query fields are all issued before any completion is
 * processed; mutation root fields run one after another, each with its
 * whole sub-selection finished before the next starts. Object values are an
 * opaque source pointer; the fields of an object are resolved by the
 * resolvers registered for that type (or its default resolver), which
 * receive the source as gql_call_source(). Sub-fields of all objects
 * produced at one level are resolved together, so a batch resolver sees the
 * whole level.
 *
 * Only one thread drives an execution at a time: a completion arriving while
 * another thread is driving is queued and picked up by that thread; a
 * completion arriving when nobody drives makes the completing thread the
 * driver. Resolvers are therefore called on the thread of gql_execute or of
 * some completion. */
#ifndef ROSTER_GQL_EXECUTE_H
#define ROSTER_GQL_EXECUTE_H

#include <jansson.h>
#include <stddef.h>

#include "gql_error.h"
#include "gql_parser.h"
#include "gql_result.h"
#include "gql_schema.h"
#include "gql_value.h"

typedef struct gql_call gql_call;
typedef struct gql_resolvers gql_resolvers;

/* A field resolver. `ud` is the pointer given at registration. */
typedef void (*gql_resolve_fn)(gql_call *call, void *ud);

/* A batch resolver: n handles (n >= 1), one per parent object. The array is
 * valid only during the call; the handles until each is completed. */
typedef void (*gql_batch_fn)(gql_call *const *calls, size_t n, void *ud);

/* A table of resolvers for one schema. Build it at start, then share it
 * read-only between executions and threads. */
int gql_resolvers_new(gql_resolvers **out, const gql_schema *s);
void gql_resolvers_free(gql_resolvers *r); /* accepts NULL */

/* Resolver for type.field (NUL-terminated names). ROSTER_E_OK, or
 * ROSTER_E_NOT_FOUND when the type is not an object type or has no such
 * field. Replaces an earlier registration for the same field. */
int gql_resolvers_set(gql_resolvers *r, const char *type, const char *field, gql_resolve_fn fn,
                      void *ud);

/* Batch resolver for type.field. */
int gql_resolvers_set_batch(gql_resolvers *r, const char *type, const char *field, gql_batch_fn fn,
                            void *ud);

/* Resolver for every field of `type` that has no resolver of its own;
 * type NULL sets the fallback for all object types. It reads the field
 * name with gql_call_field_name(). Fields with no resolver at all complete
 * with an INTERNAL_SERVER_ERROR error. */
int gql_resolvers_set_default(gql_resolvers *r, const char *type, gql_resolve_fn fn, void *ud);

/* A ready-made default resolver for sources that are jansson values: the
 * source must be a json_t object; the field's member is returned (objects
 * as object sources, arrays as lists, scalars as scalars; absent as null).
 * The json must outlive the execution. Used by tests and stubs. */
void gql_json_field_resolver(gql_call *call, void *ud);

/* --- What a resolver may read from its handle (valid until completed). */

/* The parent object's source pointer (NULL for root fields unless the
 * caller passed a root value). */
void *gql_call_source(const gql_call *c);
/* The field being resolved and its name (borrowed from the schema). */
const gql_field *gql_call_field(const gql_call *c);
gql_str gql_call_field_name(const gql_call *c);
/* The name of the field's parent type ("UserModel"). */
gql_str gql_call_type_name(const gql_call *c);
/* The response key: alias or field name (borrowed from the document). */
gql_str gql_call_response_key(const gql_call *c);
/* Coerced arguments: an OBJECT value whose members are the arguments that
 * were given or have defaults, in definition order. Never NULL. */
const gql_value *gql_call_args(const gql_call *c);
/* One argument (NUL-terminated name): NULL when absent. */
const gql_value *gql_call_arg(const gql_call *c, const char *name);
/* The user context pointer given to gql_execute. */
void *gql_call_context(const gql_call *c);
/* 1 when the field's sub-selection (after @skip/@include and fragments)
 * requests field `name` directly, else 0. */
int gql_call_selects(const gql_call *c, const char *name);

/* A visitor of gql_call_walk: `def` is a field selected on an object of
 * type `parent` (both borrowed from the schema; def may be __typename's
 * meta field). Return non-zero to walk def's own sub-selection too. */
typedef int (*gql_walk_fn)(void *ud, const gql_type *parent, const gql_field *def);

/* Calls fn for every field the sub-selection of c's field selects, at
 * every depth fn asks for: fragments and inline fragments are followed
 * (those whose type condition matches), @skip/@include applied, aliases
 * and repeated selections of a field visited each time. Each named
 * fragment is walked at most once per walk, so fn should depend only on
 * its arguments (the walk is for what a selection needs, not for its
 * shape). ROSTER_E_OK, or ROSTER_E_NOMEM (fn may have seen some fields). */
int gql_call_walk(gql_call *c, gql_walk_fn fn, void *ud);

/* The collected field c resolves, as an opaque key: calls of one batch
 * with equal keys have the same sub-selection. */
const void *gql_call_selection(const gql_call *c);

/* Memory that lives until the execution's completion callback returns.
 * Thread-safe (serialised by the execution). NULL when out of memory. */
void *gql_alloc(gql_call *c, size_t size);
char *gql_strndup(gql_call *c, const char *s, size_t len);

/* Counts `n` bytes a resolver is about to derive from the request's input
 * (copies of argument values, the messages it sends) against the
 * execution's input budget (gql_exec_params.max_input). ROSTER_E_OK, or
 * ROSTER_E_LIMIT once the request's charges pass the budget: the resolver
 * should then fail the field with gql_call_input_limit_message. Any
 * thread. */
int gql_call_charge(gql_call *c, size_t n);

/* The message for a field refused by gql_call_charge, naming the limit
 * ("... the input memory limit of 8388608 bytes (max_input)"): static or
 * in the execution's memory, valid until the execution completes. */
const char *gql_call_input_limit_message(gql_call *c);

/* Completes the handle with a value (copied by value; strings, lists and
 * JSON it points to stay borrowed until the execution completes). The
 * handle must not be used afterwards. Any thread. */
void gql_resolve_done(gql_call *c, gql_result value);

/* Completes the handle with a field error: the field becomes null (and the
 * null propagates per the non-null rules); the error gets `message`, the
 * field's location and path, extensions.code = `code` (NULL gives
 * INTERNAL_SERVER_ERROR) and the members of `extensions` (a JSON object or
 * NULL; the reference is stolen). Strings are copied. Any thread. */
void gql_resolve_error(gql_call *c, const char *code, const char *message, json_t *extensions);

/* --- Running an operation. */

typedef struct gql_response {
    char *body; /* the JSON response; malloc'd, owned by the callback (free()) */
    size_t len;
    int request_error; /* 1: no "data" key (operation selection or variable
                          coercion failed): a request error, HTTP 400 */
    int data_null;     /* "data" is null (a non-null root field failed) */
    size_t n_errors;   /* entries in "errors" */
    int nomem;         /* the body could not be produced; body is NULL */
} gql_response;

/* Called exactly once per successful gql_execute, on the thread that
 * finishes the execution (possibly inside gql_execute). */
typedef void (*gql_complete_fn)(gql_response *resp, void *ud);

typedef struct gql_exec_params {
    const gql_schema *schema;   /* borrowed; must outlive the execution */
    gql_document *doc;          /* validated for schema; the execution takes a reference */
    const char *operation_name; /* NULL: the only operation */
    size_t operation_name_len;
    const json_t *variables;        /* object or NULL; read only during gql_execute */
    const gql_resolvers *resolvers; /* borrowed; must outlive the execution */
    void *root_value;               /* source for root fields */
    void *context;                  /* gql_call_context() */
    gql_complete_fn complete;
    void *complete_ud;
    gql_error_ext_fn error_ext; /* optional: extra extensions members per error */
    void *error_ext_ud;
    unsigned json_flags; /* GQL_JW_* */
    /* Bytes the execution may hold for its result tree and response; 0 =
     * GQL_DEFAULT_MAX_MEMORY. Past it the response is {"data":null,
     * "errors":[...]} with a message naming the limit. */
    size_t max_memory;
    /* Bytes the request's input may expand to: its coerced variables, and
     * what resolvers derive from arguments (gql_call_charge); 0 =
     * GQL_DEFAULT_MAX_INPUT. Variables past it are a request error, a
     * resolver's charge past it fails that field; both name the limit.
     * A variable used many times is referenced, not copied, so only what
     * resolvers copy from it counts each time. */
    size_t max_input;
} gql_exec_params;

#define GQL_DEFAULT_MAX_MEMORY (64u * 1024u * 1024u)
#define GQL_DEFAULT_MAX_INPUT  (8u * 1024u * 1024u)

/* Starts an execution. Returns ROSTER_E_OK, and then `complete` is called
 * exactly once (possibly before gql_execute returns); request errors
 * (unknown operation, bad variables) are delivered that way too. Returns
 * ROSTER_E_INVALID_ARGUMENT (missing schema/doc/resolvers/callback, or doc
 * not validated for schema) or ROSTER_E_NOMEM without calling it. */
int gql_execute(const gql_exec_params *p);

/* The type of the operation p would run (for GET requests that must refuse
 * mutations). ROSTER_E_OK with *out, or ROSTER_E_INVALID_ARGUMENT with an
 * error appended to errs (same messages as execution). */
int gql_operation_type(gql_op_type *out, gql_errors *errs, const gql_document *doc,
                       const char *operation_name, size_t operation_name_len);

#endif
