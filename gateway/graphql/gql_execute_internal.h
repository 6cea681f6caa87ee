/* The GraphQL executor's shared state, private to the engine: the files
 * gql_execute.c (operation execution: resolvers, batching, completion),
 * gql_coerce.c (variable and argument values), gql_collect.c (field
 * collection with @skip/@include and fragments) and gql_response.c (the
 * JSON response with null propagation) include it; graphql.h does not, and
 * nothing outside gateway/graphql may.
 *
 * Ownership: everything reachable from an exec lives in the execution's
 * arena (exec.a, which also holds the exec itself) and is freed at once when
 * the response has been delivered; exec.shared holds what resolvers on other
 * threads allocate, and exec.owned lists the errors holding a jansson
 * reference, released with the arenas. Only the thread driving the
 * execution (see drive() in gql_execute.c) touches "driver only" fields. */
#ifndef ROSTER_GQL_EXECUTE_INTERNAL_H
#define ROSTER_GQL_EXECUTE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "gql_execute.h"

/* A field error: message and code in an execution arena (the driver's, or
 * the shared one for resolver errors), ext a jansson reference released
 * with the execution. */
typedef struct field_error {
    const char *code;
    const char *message;
    size_t mlen;
    json_t *ext;
    gql_location loc;
    struct field_error *next_owned; /* errors holding a json reference */
} field_error;

/* The completed value of one response position (the result tree that
 * gql_response.c writes). A leaf borrows what the resolver returned, which
 * the resolver keeps valid until the completion callback returns. */
enum { VN_NULL, VN_LEAF, VN_OBJECT, VN_LIST, VN_ERROR };

typedef struct objnode objnode;
typedef struct vnode vnode;
struct vnode {
    uint8_t kind;
    union {
        gql_result leaf;
        objnode *obj;
        struct {
            vnode *items;
            uint32_t n;
        } list;
        field_error *err;
    } u;
};

/* A collected field: one response key with its merged field nodes
 * (borrowed from the document), its definition and coerced arguments. */
typedef struct cfield {
    gql_str key;
    const gql_field *def;
    const gql_selection *node; /* the first node */
    const gql_selection **nodes;
    uint32_t n_nodes;
    uint32_t cap_nodes;
    gql_value *args;
    field_error *arg_err;
} cfield;

/* The merged field nodes of cf (the inline first node when only one). */
static inline const gql_selection *const *cf_nodes(const cfield *cf)
{
    return cf->n_nodes == 1 ? &cf->node : cf->nodes;
}

/* The collected fields of one selection for one object type, in response
 * order; shared by every object of a level. */
typedef struct collected {
    cfield *f;
    uint32_t n;
} collected;

/* An object in the result tree: its source (the resolver's, borrowed), its
 * collected fields and one call slot per field. */
struct objnode {
    const gql_type *type;
    void *source;
    const collected *col;
    gql_call *slots;
};

typedef struct group group;
typedef struct exec exec;

/* One resolver call: one field of one object, completed from any thread;
 * the first completion stands (state). */
struct gql_call {
    exec *ex;
    group *g;
    objnode *parent;
    uint8_t state; /* 0 pending, 1 done */
    gql_result value;
    field_error *err;
    vnode vn;
};

/* The calls of one collected field for every object of one level: the unit
 * dispatched to a resolver and processed when all its calls are done
 * (pending reaches 0). */
struct group {
    group *next;
    const cfield *cf;
    const gql_type *parent_type;
    gql_call **calls;
    uint32_t n;
    uint32_t pending;
};

/* One execution, from gql_execute until the completion callback. */
struct exec {
    pthread_mutex_t mu;
    int driving;
    group *ready_head; /* completed groups, under mu */
    group *ready_tail;
    group *local_head; /* completed by the driver itself, driver only */
    group *local_tail;
    uint32_t outstanding; /* groups not yet processed (driver only) */
    roster_arena a;       /* driver only */
    char *bump;           /* driver only: the free part of a chunk of a */
    size_t bump_left;
    roster_arena shared; /* under mu */
    field_error *owned;  /* under mu */
    const gql_schema *s;
    gql_document *doc;
    const gql_operation *op;
    const gql_resolvers *r;
    void *root_value;
    void *context;
    gql_complete_fn complete;
    void *complete_ud;
    gql_error_ext_fn ext;
    void *ext_ud;
    unsigned json_flags;
    gql_value **var_vals; /* per op->vars; NULL = not provided */
    objnode root;
    collected root_col;
    uint32_t next_root;
    int nomem;
    int over_limit; /* nomem because of max_memory */
    size_t max_memory;
    size_t max_input;          /* gql_exec_params.max_input */
    _Atomic size_t input_used; /* gql_call_charge, from any thread */
    char input_limit_msg[128]; /* gql_call_input_limit_message */
};

/* Execution memory (the driver's). Most allocations are a few dozen bytes:
 * they are cut from chunks of the arena with an inline bump pointer; larger
 * ones come from the arena directly. 16-byte aligned, as the arena's. NULL
 * when out of memory or over the limit. */
enum { XCHUNK = 4096, XALIGN = 16 };

/* Starts a new chunk (or, past XCHUNK / 4 bytes, allocates n bytes from
 * the arena directly): the slow path of bump_alloc, in gql_execute.c. */
void *gqlx_chunk_alloc(exec *ex, size_t n);

static inline void *bump_alloc(exec *ex, size_t n)
{
    if (n <= ex->bump_left) {
        size_t r = n ? (n + XALIGN - 1) & ~(size_t)(XALIGN - 1) : XALIGN;
        if (r <= ex->bump_left) {
            void *p = ex->bump;
            ex->bump += r;
            ex->bump_left -= r;
            return p;
        }
    }
    return gqlx_chunk_alloc(ex, n);
}

/* bump_alloc that records running out of memory (and whether it was the
 * execution's memory limit). */
static inline void *xalloc(exec *ex, size_t n)
{
    void *p = bump_alloc(ex, n);
    if (p == NULL) {
        ex->nomem = 1;
        if (ex->a.limit && ex->a.used + n + 65536 >= ex->a.limit)
            ex->over_limit = 1;
    }
    return p;
}

static inline void *xzalloc(exec *ex, size_t n)
{
    void *p = xalloc(ex, n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

/* An error with a formatted message (at most 1023 bytes), in the driver's
 * arena: valid until the execution is freed. NULL when out of memory (then
 * ex->nomem is set). Driver only. */
field_error *gqlx_error(exec *ex, gql_location loc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- gql_coerce.c: values (graphql-js values.js). */

/* The coerced value of variable `name` of the operation: *found is 0 when
 * the operation declares no such variable or it was not provided and has
 * no default (the return value is then NULL). The value is the
 * execution's, valid until it is freed. */
gql_value *gqlx_var_value(const exec *ex, gql_str name, int *found);

/* coerceVariableValues: coerces the JSON object vars (borrowed; NULL for
 * none) to the operation's variable definitions into ex->var_vals.
 * Returns ROSTER_E_OK, ROSTER_E_INVALID_ARGUMENT with every problem
 * appended to errs (code BAD_USER_INPUT, at most about 50), or
 * ROSTER_E_NOMEM. */
int gqlx_coerce_variables(exec *ex, gql_errors *errs, const json_t *vars);

/* The arguments of a field that takes none: an empty object, static. */
extern const gql_value gqlx_no_args;

/* getArgumentValues: sets cf->args to the coerced arguments of cf's first
 * node against cf->def, or cf->arg_err to the error of the first argument
 * that fails (the field then resolves to null with that error). On running
 * out of memory cf->args stays NULL and ex->nomem is set. */
void gqlx_coerce_field_args(exec *ex, cfield *cf);

/* --- gql_collect.c: field collection (graphql-js collectFields.js). */

/* 1 unless one of the n directives is @skip(if: true) or
 * @include(if: false), with variables taken from ex. */
int gqlx_should_include(const exec *ex, const gql_directive *dirs, uint32_t n);

/* Collects the fields of `type` selected by root_set (may be NULL) and the
 * selection sets of the n_nodes field nodes, merged by response key in
 * order, each with its coerced arguments. The result is the execution's;
 * NULL when out of memory (ex->nomem set). */
collected *gqlx_collect_fields(exec *ex, const gql_type *type, const gql_selection *const *nodes,
                               uint32_t n_nodes, const gql_selection_set *root_set);

/* --- gql_response.c: the response. */

/* Writes {"data": ..., "errors": [...]} for the completed result tree of ex
 * into out and sets resp->data_null and resp->n_errors. Errors found while
 * writing (a null in a non-null position, an invalid leaf) are added in
 * response order. Driver only, after every group has been processed. */
void gqlx_response_write(exec *ex, gql_buf *out, gql_response *resp);

/* Writes {"data": null, "errors": [e]} into out (e and its message are
 * borrowed for the call; no path) and sets resp->data_null and
 * resp->n_errors to 1. */
void gqlx_response_error(exec *ex, gql_buf *out, gql_response *resp, const field_error *e);

#endif
