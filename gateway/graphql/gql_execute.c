/* Execution of an operation (graphql-js execution/execute.js): the
 * resolver table, the call handles resolvers complete, dispatch of field
 * groups to resolvers (batched per level), completion of their values into
 * the result tree, and the driver that runs it all. Variable coercion is in
 * gql_coerce.c, field collection in gql_collect.c and the JSON response in
 * gql_response.c; gql_execute_internal.h holds the state they share. */
#include "gql_execute.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_execute_internal.h"
#include "gql_introspection.h"
#include "gql_names.h"
#include "gql_validate.h"

/* --- Resolver table. */

typedef struct rentry {
    gql_resolve_fn fn;
    gql_batch_fn bfn;
    void *ud;
} rentry;

struct gql_resolvers {
    const gql_schema *s;
    rentry *by_field; /* indexed by gql_field.id */
    rentry *by_type;  /* default resolver per type index */
    rentry fallback;
};

int gql_resolvers_new(gql_resolvers **out, const gql_schema *s)
{
    gql_resolvers *r = calloc(1, sizeof *r);
    if (r == NULL)
        return ROSTER_E_NOMEM;
    r->s = s;
    r->by_field = calloc(s->n_fields + 1, sizeof *r->by_field);
    r->by_type = calloc(s->n_types + 1, sizeof *r->by_type);
    if (r->by_field == NULL || r->by_type == NULL) {
        gql_resolvers_free(r);
        return ROSTER_E_NOMEM;
    }
    *out = r;
    return ROSTER_E_OK;
}

void gql_resolvers_free(gql_resolvers *r)
{
    if (r == NULL)
        return;
    free(r->by_field);
    free(r->by_type);
    free(r);
}

static const gql_field *lookup_field(const gql_schema *s, const char *type, const char *field)
{
    const gql_type *t = gql_schema_type(s, type, strlen(type));
    if (t == NULL || t->kind != GQL_KIND_OBJECT)
        return NULL;
    return gql_type_field(t, field, strlen(field));
}

int gql_resolvers_set(gql_resolvers *r, const char *type, const char *field, gql_resolve_fn fn,
                      void *ud)
{
    const gql_field *f = lookup_field(r->s, type, field);
    if (f == NULL)
        return ROSTER_E_NOT_FOUND;
    r->by_field[f->id].fn = fn;
    r->by_field[f->id].bfn = NULL;
    r->by_field[f->id].ud = ud;
    return ROSTER_E_OK;
}

int gql_resolvers_set_batch(gql_resolvers *r, const char *type, const char *field, gql_batch_fn fn,
                            void *ud)
{
    const gql_field *f = lookup_field(r->s, type, field);
    if (f == NULL)
        return ROSTER_E_NOT_FOUND;
    r->by_field[f->id].fn = NULL;
    r->by_field[f->id].bfn = fn;
    r->by_field[f->id].ud = ud;
    return ROSTER_E_OK;
}

int gql_resolvers_set_default(gql_resolvers *r, const char *type, gql_resolve_fn fn, void *ud)
{
    if (type == NULL) {
        r->fallback.fn = fn;
        r->fallback.ud = ud;
        return ROSTER_E_OK;
    }
    const gql_type *t = gql_schema_type(r->s, type, strlen(type));
    if (t == NULL || t->kind != GQL_KIND_OBJECT)
        return ROSTER_E_NOT_FOUND;
    r->by_type[t->index].fn = fn;
    r->by_type[t->index].ud = ud;
    return ROSTER_E_OK;
}

void *gqlx_chunk_alloc(exec *ex, size_t n)
{
    if (n > XCHUNK / 4)
        return roster_arena_alloc(&ex->a, n);
    n = n ? (n + XALIGN - 1) & ~(size_t)(XALIGN - 1) : XALIGN;
    char *p = roster_arena_alloc(&ex->a, XCHUNK);
    if (p) {
        ex->bump = p + n;
        ex->bump_left = XCHUNK - n;
    }
    return p;
}

field_error *gqlx_error(exec *ex, gql_location loc, const char *code, const char *fmt, ...)
{
    field_error *e = xzalloc(ex, sizeof *e);
    if (e == NULL)
        return NULL;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    e->message = roster_arena_strndup(&ex->a, tmp, (size_t)n);
    if (e->message == NULL) {
        ex->nomem = 1;
        return NULL;
    }
    e->mlen = (size_t)n;
    e->code = code;
    e->loc = loc;
    return e;
}

/* --- Handle accessors. */

void *gql_call_source(const gql_call *c)
{
    return c->parent->source;
}

const gql_field *gql_call_field(const gql_call *c)
{
    return c->g->cf->def;
}

gql_str gql_call_field_name(const gql_call *c)
{
    return c->g->cf->def->name;
}

gql_str gql_call_type_name(const gql_call *c)
{
    return c->g->parent_type->name;
}

gql_str gql_call_response_key(const gql_call *c)
{
    return c->g->cf->key;
}

const gql_value *gql_call_args(const gql_call *c)
{
    return c->g->cf->args;
}

const gql_value *gql_call_arg(const gql_call *c, const char *name)
{
    return gql_value_get(c->g->cf->args, name);
}

void *gql_call_context(const gql_call *c)
{
    return c->ex->context;
}

static void drive(exec *ex);

/* The execution this thread is driving, if any: completions and
 * allocations made by the driver itself (synchronous resolvers) skip the
 * lock. */
static _Thread_local exec *tl_driving;

void *gql_alloc(gql_call *c, size_t size)
{
    exec *ex = c->ex;
    if (tl_driving == ex) {
        /* The driver's own memory; past its memory limit, the shared arena
         * as from any other thread. */
        void *p = bump_alloc(ex, size);
        if (p)
            return p;
    }
    pthread_mutex_lock(&ex->mu);
    void *p = roster_arena_alloc(&ex->shared, size);
    pthread_mutex_unlock(&ex->mu);
    return p;
}

int gql_call_charge(gql_call *c, size_t n)
{
    exec *ex = c->ex;
    size_t before = atomic_fetch_add(&ex->input_used, n);
    return before + n < before || before + n > ex->max_input ? ROSTER_E_LIMIT : ROSTER_E_OK;
}

const char *gql_call_input_limit_message(gql_call *c)
{
    return c->ex->input_limit_msg;
}

char *gql_strndup(gql_call *c, const char *s, size_t len)
{
    char *p = len < SIZE_MAX ? gql_alloc(c, len + 1) : NULL;
    if (p == NULL)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void push_local(exec *ex, group *g)
{
    g->next = NULL;
    if (ex->local_tail)
        ex->local_tail->next = g;
    else
        ex->local_head = g;
    ex->local_tail = g;
}

/* Records a completion; the caller holds no lock. */
static void complete_call(gql_call *c, const gql_result *v, field_error *err)
{
    exec *ex = c->ex;
    if (__atomic_exchange_n(&c->state, 1, __ATOMIC_ACQ_REL))
        return; /* completed twice: the first completion stands */
    if (v)
        c->value = *v;
    c->err = err;
    group *g = c->g;
    if (tl_driving == ex) {
        /* On the driving thread: only the group counter is shared. */
        if (__atomic_sub_fetch(&g->pending, 1, __ATOMIC_ACQ_REL) == 0)
            push_local(ex, g);
        return;
    }
    int start = 0;
    pthread_mutex_lock(&ex->mu);
    if (__atomic_sub_fetch(&g->pending, 1, __ATOMIC_ACQ_REL) == 0) {
        g->next = NULL;
        if (ex->ready_tail)
            ex->ready_tail->next = g;
        else
            ex->ready_head = g;
        ex->ready_tail = g;
        if (!ex->driving) {
            ex->driving = 1;
            start = 1;
        }
    }
    pthread_mutex_unlock(&ex->mu);
    if (start)
        drive(ex);
}

void gql_resolve_done(gql_call *c, gql_result value)
{
    complete_call(c, &value, NULL);
}

void gql_resolve_error(gql_call *c, const char *code, const char *message, json_t *extensions)
{
    exec *ex = c->ex;
    pthread_mutex_lock(&ex->mu);
    field_error *e = roster_arena_alloc(&ex->shared, sizeof *e);
    const char *msg = message ? message : "Internal error";
    size_t mlen = strlen(msg);
    char *m = e ? roster_arena_strndup(&ex->shared, msg, mlen) : NULL;
    char *cd = e ? roster_arena_strndup(&ex->shared, code ? code : GQL_CODE_INTERNAL,
                                        strlen(code ? code : GQL_CODE_INTERNAL))
                 : NULL;
    if (e && m && cd) {
        memset(e, 0, sizeof *e);
        e->message = m;
        e->mlen = mlen;
        e->code = cd;
        e->loc = c->g->cf->node->loc;
        if (extensions && json_is_object(extensions)) {
            e->ext = extensions;
            e->next_owned = ex->owned;
            ex->owned = e;
            extensions = NULL;
        }
    } else {
        e = NULL;
        ex->nomem = 1;
    }
    pthread_mutex_unlock(&ex->mu);
    json_decref(extensions);
    gql_result nul = gql_r_null();
    if (e == NULL) {
        /* Out of memory: complete as null without a message. */
        complete_call(c, &nul, NULL);
        return;
    }
    complete_call(c, &nul, e);
}

/* --- Dispatch and completion. */

typedef struct objvec {
    objnode **items;
    uint32_t n;
    uint32_t cap;
} objvec;

static void objvec_push(exec *ex, objvec *v, objnode *o)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 16;
        objnode **ni = xalloc(ex, cap * sizeof *ni);
        if (ni == NULL)
            return;
        if (v->n)
            memcpy(ni, v->items, v->n * sizeof *ni);
        v->items = ni;
        v->cap = cap;
    }
    v->items[v->n++] = o;
}

/* A group completed by the driver itself (no resolver involved). */
static void push_ready(exec *ex, group *g)
{
    g->pending = 0;
    push_local(ex, g);
}

static void dispatch(exec *ex, group *g)
{
    const cfield *cf = g->cf;
    const gql_field *def = cf->def;
    const gql_schema *s = ex->s;
    if (def == s->f_typename) {
        for (uint32_t i = 0; i < g->n; i++) {
            g->calls[i]->value = gql_r_string(g->parent_type->name.ptr, g->parent_type->name.len);
            g->calls[i]->state = 1;
        }
        push_ready(ex, g);
        return;
    }
    if (cf->arg_err || cf->args == NULL) {
        field_error *e = cf->arg_err;
        for (uint32_t i = 0; i < g->n; i++) {
            g->calls[i]->value = gql_r_null();
            g->calls[i]->err = e;
            g->calls[i]->state = 1;
        }
        push_ready(ex, g);
        return;
    }
    if (def == s->f_schema || def == s->f_type || g->parent_type->introspection) {
        for (uint32_t i = 0; i < g->n; i++) {
            gql_call *c = g->calls[i];
            int rc = gql_introspect(&c->value, s, def, c->parent->source, cf->args, &ex->a);
            if (rc == ROSTER_E_NOMEM)
                ex->nomem = 1;
            if (rc != ROSTER_E_OK) {
                c->value = gql_r_null();
                c->err = gqlx_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
                                    "Cannot resolve introspection field %.*s.", (int)def->name.len,
                                    def->name.ptr);
            }
            c->state = 1;
        }
        push_ready(ex, g);
        return;
    }
    const rentry *e = &ex->r->by_field[def->id];
    if (e->bfn) {
        e->bfn(g->calls, g->n, e->ud);
        return;
    }
    gql_resolve_fn fn = e->fn;
    void *ud = e->ud;
    if (fn == NULL) {
        fn = ex->r->by_type[g->parent_type->index].fn;
        ud = ex->r->by_type[g->parent_type->index].ud;
    }
    if (fn == NULL) {
        fn = ex->r->fallback.fn;
        ud = ex->r->fallback.ud;
    }
    if (fn == NULL) {
        field_error *err =
            gqlx_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
                       "No resolver is registered for %.*s.%.*s.", (int)g->parent_type->name.len,
                       g->parent_type->name.ptr, (int)def->name.len, def->name.ptr);
        for (uint32_t i = 0; i < g->n; i++) {
            g->calls[i]->value = gql_r_null();
            g->calls[i]->err = err;
            g->calls[i]->state = 1;
        }
        push_ready(ex, g);
        return;
    }
    uint32_t n = g->n;
    gql_call **calls = g->calls;
    for (uint32_t i = 0; i < n; i++)
        fn(calls[i], ud);
}

static group *new_group(exec *ex, const cfield *cf, const gql_type *ptype, uint32_t n)
{
    /* The group and its call pointers in one allocation. */
    group *g = xalloc(ex, sizeof *g + n * sizeof *g->calls);
    if (g == NULL)
        return NULL;
    memset(g, 0, sizeof *g);
    g->calls = (gql_call **)(g + 1);
    g->cf = cf;
    g->parent_type = ptype;
    g->n = n;
    g->pending = n;
    return g;
}

static void complete_value(exec *ex, vnode *vn, const gql_wtype *t, const gql_result *r,
                           const cfield *cf, const gql_type *pt, objvec *objs)
{
    if (t->kind == GQL_KIND_NON_NULL)
        t = t->of;
    if (r->kind == GQL_RESULT_NULL) {
        vn->kind = VN_NULL;
        return;
    }
    if (t->kind == GQL_KIND_LIST) {
        if (r->kind != GQL_RESULT_LIST) {
            vn->kind = VN_ERROR;
            vn->u.err = gqlx_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
                                   "Expected Iterable, but did not find one for field "
                                   "\"%.*s.%.*s\".",
                                   (int)pt->name.len, pt->name.ptr, (int)cf->def->name.len,
                                   cf->def->name.ptr);
            return;
        }
        uint32_t n = (uint32_t)r->u.list.count;
        vnode *items = xzalloc(ex, n * sizeof *items);
        if (items == NULL) {
            vn->kind = VN_NULL;
            return;
        }
        for (uint32_t i = 0; i < n; i++)
            complete_value(ex, &items[i], t->of, &r->u.list.items[i], cf, pt, objs);
        vn->kind = VN_LIST;
        vn->u.list.items = items;
        vn->u.list.n = n;
        return;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_KIND_OBJECT) {
        if (r->kind != GQL_RESULT_OBJECT) {
            vn->kind = VN_ERROR;
            vn->u.err = gqlx_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
                                   "Expected a value of type \"%.*s\" for field \"%.*s.%.*s\".",
                                   (int)nt->name.len, nt->name.ptr, (int)pt->name.len, pt->name.ptr,
                                   (int)cf->def->name.len, cf->def->name.ptr);
            return;
        }
        objnode *o = xzalloc(ex, sizeof *o);
        if (o == NULL) {
            vn->kind = VN_NULL;
            return;
        }
        o->type = nt;
        o->source = r->u.object;
        objvec_push(ex, objs, o);
        vn->kind = VN_OBJECT;
        vn->u.obj = o;
        return;
    }
    vn->kind = VN_LEAF;
    vn->u.leaf = *r;
}

/* Batching per level. A resolver for a nested field is not called object
 * by object as each parent completes (graphql-js's way): all the objects
 * one group produced (the items of a list, or the objects of a whole level)
 * are collected once and get one group per collected field, holding one
 * call per object. dispatch() hands a batch resolver the whole group at
 * once, so a page of 20 users asking for their tenant costs one RPC for
 * the level, not 20; a plain resolver is called once per call. A group is
 * processed (its values completed, and the next level started from the
 * objects it returned) only when every call in it has completed: that
 * keeps one group per field and level, at the price of a level waiting for
 * its slowest call.
 *
 * Creates the field groups for objects of one type sharing a collection
 * and dispatches them. */
static void start_objects(exec *ex, objnode **objs, uint32_t n, const collected *col)
{
    /* The slots of all n objects in one allocation, each initialised
     * below when its group is made. */
    uint32_t per = col->n ? col->n : 1;
    gql_call *slots = xalloc(ex, (size_t)n * per * sizeof *slots);
    if (slots == NULL)
        return;
    for (uint32_t i = 0; i < n; i++) {
        objs[i]->col = col;
        objs[i]->slots = slots + (size_t)i * per;
    }
    group **groups = xalloc(ex, (col->n ? col->n : 1) * sizeof *groups);
    if (groups == NULL) {
        for (uint32_t i = 0; i < n; i++)
            objs[i]->col = NULL;
        return;
    }
    for (uint32_t j = 0; j < col->n; j++) {
        /* On allocation failure nothing is dispatched (and nothing counted),
         * so the execution still finishes. */
        group *g = new_group(ex, &col->f[j], objs[0]->type, n);
        if (g == NULL) {
            for (uint32_t i = 0; i < n; i++)
                objs[i]->col = NULL; /* slots not all initialised */
            return;
        }
        for (uint32_t i = 0; i < n; i++) {
            gql_call *c = &objs[i]->slots[j];
            /* value and vn are written when the call completes. */
            c->ex = ex;
            c->g = g;
            c->parent = objs[i];
            c->state = 0;
            c->err = NULL;
            g->calls[i] = c;
        }
        groups[j] = g;
    }
    ex->outstanding += col->n;
    for (uint32_t j = 0; j < col->n; j++)
        dispatch(ex, groups[j]);
}

static void process_group(exec *ex, group *g)
{
    const cfield *cf = g->cf;
    const gql_wtype *t = cf->def->type;
    objvec objs = {0};
    for (uint32_t i = 0; i < g->n; i++) {
        gql_call *c = g->calls[i];
        if (c->err) {
            c->vn.kind = VN_ERROR;
            c->vn.u.err = c->err;
        } else {
            complete_value(ex, &c->vn, t, &c->value, cf, g->parent_type, &objs);
        }
    }
    if (objs.n && !ex->nomem) {
        const collected *col = gqlx_collect_fields(ex, t->named, cf_nodes(cf), cf->n_nodes, NULL);
        if (col)
            start_objects(ex, objs.items, objs.n, col);
    }
    ex->outstanding--;
}

static void finish(exec *ex);

static void dispatch_root(exec *ex, uint32_t j)
{
    group *g = new_group(ex, &ex->root_col.f[j], ex->root.type, 1);
    if (g == NULL)
        return;
    gql_call *c = &ex->root.slots[j];
    c->ex = ex;
    c->g = g;
    c->parent = &ex->root;
    g->calls[0] = c;
    ex->outstanding++;
    dispatch(ex, g);
}

/* The single driver. Resolvers complete their calls on any thread, at any
 * time, possibly before dispatch() even returns. Rather than locking every
 * step of the result tree, one thread at a time "drives" an execution
 * (ex->driving, under ex->mu): it alone processes completed groups, builds
 * the tree, allocates from ex->a and dispatches the next level. A
 * completion on the driving thread (a synchronous resolver) only queues its
 * group on the driver's local list, without a lock. A completion on another
 * thread queues the group on ex->ready under ex->mu; if no thread is
 * driving, that thread becomes the driver and runs this loop itself, so no
 * thread ever waits for another and nng's threads are never blocked. The
 * loop gives up driving, under the same lock that queues completions, when
 * nothing is ready while calls are still out; the next completion then
 * takes over. When nothing is outstanding, a mutation dispatches its next
 * root field (root mutation fields run one after another), and otherwise
 * the driver writes the response and delivers it (finish), exactly once. */
static void drive(exec *ex)
{
    exec *prev = tl_driving;
    tl_driving = ex;
    for (;;) {
        group *g = ex->local_head;
        if (g) {
            ex->local_head = g->next;
            if (ex->local_head == NULL)
                ex->local_tail = NULL;
            process_group(ex, g);
            continue;
        }
        pthread_mutex_lock(&ex->mu);
        g = ex->ready_head;
        if (g) {
            ex->ready_head = g->next;
            if (ex->ready_head == NULL)
                ex->ready_tail = NULL;
            pthread_mutex_unlock(&ex->mu);
            process_group(ex, g);
            continue;
        }
        if (ex->outstanding == 0) {
            pthread_mutex_unlock(&ex->mu);
            if (ex->op->type == GQL_OP_MUTATION && ex->next_root < ex->root_col.n && !ex->nomem) {
                dispatch_root(ex, ex->next_root++);
                continue;
            }
            tl_driving = prev;
            finish(ex);
            return;
        }
        ex->driving = 0;
        pthread_mutex_unlock(&ex->mu);
        tl_driving = prev;
        return;
    }
}

static void exec_free(exec *ex)
{
    for (field_error *e = ex->owned; e; e = e->next_owned)
        json_decref(e->ext);
    gql_document_free(ex->doc);
    roster_arena_free(&ex->shared);
    pthread_mutex_destroy(&ex->mu);
    roster_arena copy = ex->a; /* ex itself lives in this arena */
    roster_arena_free(&copy);
}

static void deliver(exec *ex, gql_buf *out, gql_response *resp)
{
    if (ex->nomem || gql_buf_take(&resp->body, &resp->len, out) != ROSTER_E_OK) {
        resp->body = NULL;
        resp->len = 0;
        resp->nomem = 1;
    }
    gql_buf_free(out);
    gql_complete_fn cb = ex->complete;
    void *ud = ex->complete_ud;
    exec_free(ex);
    cb(resp, ud);
}

static void limit_response(exec *ex, gql_buf *out, gql_response *resp)
{
    gql_buf_free(out);
    gql_buf_init(out);
    char msg[160];
    snprintf(msg, sizeof msg,
             "The response needs more than the execution memory limit of %zu bytes "
             "(max_memory).",
             ex->max_memory);
    field_error fe = {.code = GQL_CODE_INTERNAL, .message = msg, .mlen = strlen(msg)};
    memset(resp, 0, sizeof *resp);
    gqlx_response_error(ex, out, resp, &fe);
    ex->nomem = 0;
}

static void finish(exec *ex)
{
    gql_response resp;
    memset(&resp, 0, sizeof resp);
    gql_buf out;
    gql_buf_init(&out);
    if (!ex->nomem)
        gqlx_response_write(ex, &out, &resp);
    if (ex->over_limit || out.len > ex->max_memory)
        limit_response(ex, &out, &resp);
    deliver(ex, &out, &resp);
}

static void request_error(exec *ex, gql_errors *errs)
{
    gql_response resp;
    memset(&resp, 0, sizeof resp);
    gql_buf out;
    gql_buf_init(&out);
    gql_jw w;
    gql_jw_init(&w, &out, ex->json_flags);
    gql_errors_write_response(&w, errs, ex->ext, ex->ext_ud);
    resp.request_error = 1;
    resp.n_errors = errs->count;
    gql_errors_free(errs);
    deliver(ex, &out, &resp);
}

int gql_operation_type(gql_op_type *out, gql_errors *errs, const gql_document *doc,
                       const char *operation_name, size_t operation_name_len)
{
    const gql_operation *op;
    int rc = gql_document_operation(&op, errs, doc, operation_name, operation_name_len);
    if (rc)
        return rc;
    *out = (gql_op_type)op->type;
    return ROSTER_E_OK;
}

int gql_execute(const gql_exec_params *p)
{
    if (p == NULL || p->schema == NULL || p->doc == NULL || p->resolvers == NULL ||
        p->complete == NULL || p->doc->validated_for != p->schema)
        return ROSTER_E_INVALID_ARGUMENT;
    /* The execution state lives in the first block of its own arena, with
     * room for the first chunks of small allocations: one block for a
     * single-object query. */
    roster_arena arena;
    roster_arena_init(&arena, 16384, 0);
    exec *ex = roster_arena_alloc(&arena, sizeof *ex);
    if (ex == NULL) {
        roster_arena_free(&arena);
        return ROSTER_E_NOMEM;
    }
    memset(ex, 0, sizeof *ex);
    ex->max_memory = p->max_memory ? p->max_memory : GQL_DEFAULT_MAX_MEMORY;
    ex->max_input = p->max_input ? p->max_input : GQL_DEFAULT_MAX_INPUT;
    snprintf(ex->input_limit_msg, sizeof ex->input_limit_msg,
             "The request's input needs more than the input memory limit of %zu bytes "
             "(max_input).",
             ex->max_input);
    arena.limit = ex->max_memory;
    ex->a = arena;
    if (pthread_mutex_init(&ex->mu, NULL) != 0) {
        roster_arena_free(&arena);
        return ROSTER_E_NOMEM;
    }
    /* Completions on other threads (and the driver past its own limit)
     * allocate here: bounded by the same figure, so no path is unbounded. */
    roster_arena_init(&ex->shared, 4096, ex->max_memory);
    ex->s = p->schema;
    ex->doc = gql_document_ref(p->doc);
    ex->r = p->resolvers;
    ex->root_value = p->root_value;
    ex->context = p->context;
    ex->complete = p->complete;
    ex->complete_ud = p->complete_ud;
    ex->ext = p->error_ext;
    ex->ext_ud = p->error_ext_ud;
    ex->json_flags = p->json_flags;

    gql_errors errs;
    gql_errors_init(&errs);
    const gql_operation *op;
    if (gql_document_operation(&op, &errs, ex->doc, p->operation_name, p->operation_name_len) !=
        ROSTER_E_OK) {
        request_error(ex, &errs);
        return ROSTER_E_OK;
    }
    ex->op = op;
    if (p->variables && !json_is_object(p->variables)) {
        gql_errors_add(&errs, GQL_CODE_BAD_USER_INPUT, NULL, 0,
                       "Variables must be provided as an Object where each property is a "
                       "variable value.");
        request_error(ex, &errs);
        return ROSTER_E_OK;
    }
    /* Coerced variables may take max_input bytes (beyond what the
     * execution holds already); the arena refuses past that. */
    size_t full_limit = ex->a.limit;
    if (ex->a.used + ex->max_input < full_limit)
        ex->a.limit = ex->a.used + ex->max_input;
    int rc = gqlx_coerce_variables(ex, &errs, p->variables);
    int over_input = rc == ROSTER_E_NOMEM && ex->a.over_limit && ex->a.limit < full_limit;
    ex->a.limit = full_limit;
    if (over_input) {
        gql_errors_free(&errs);
        gql_errors_init(&errs);
        gql_errors_add(&errs, GQL_CODE_BAD_USER_INPUT, NULL, 0,
                       "Variables need more than the input memory limit of %zu bytes "
                       "(max_input).",
                       ex->max_input);
        ex->nomem = 0;
        ex->over_limit = 0;
        ex->a.over_limit = 0;
        request_error(ex, &errs);
        return ROSTER_E_OK;
    }
    if (rc == ROSTER_E_NOMEM) {
        gql_errors_free(&errs);
        exec_free(ex);
        return ROSTER_E_NOMEM;
    }
    if (rc != ROSTER_E_OK) {
        request_error(ex, &errs);
        return ROSTER_E_OK;
    }
    const gql_type *root = op->type == GQL_OP_QUERY      ? ex->s->query
                           : op->type == GQL_OP_MUTATION ? ex->s->mutation
                                                         : ex->s->subscription;
    if (root == NULL) {
        /* As graphql-js: an execution error, "data" is null. */
        static const char *const names[] = {"query", "mutation", "subscription"};
        gql_errors_free(&errs);
        gql_response resp;
        memset(&resp, 0, sizeof resp);
        gql_buf out;
        gql_buf_init(&out);
        field_error fe = {.code = GQL_CODE_BAD_USER_INPUT, .loc = op->loc};
        char msg[96];
        snprintf(msg, sizeof msg, "Schema is not configured to execute %s operation.",
                 names[op->type]);
        fe.message = msg;
        fe.mlen = strlen(msg);
        gqlx_response_error(ex, &out, &resp, &fe);
        deliver(ex, &out, &resp);
        return ROSTER_E_OK;
    }
    gql_errors_free(&errs);
    ex->root.type = root;
    ex->root.source = p->root_value;
    const collected *col = gqlx_collect_fields(ex, root, NULL, 0, op->sel);
    if (col == NULL) {
        exec_free(ex);
        return ROSTER_E_NOMEM;
    }
    ex->root_col = *col;
    ex->root.col = &ex->root_col;
    ex->root.slots = xzalloc(ex, (col->n ? col->n : 1) * sizeof(gql_call));
    if (ex->root.slots == NULL) {
        exec_free(ex);
        return ROSTER_E_NOMEM;
    }
    ex->driving = 1;
    exec *prev = tl_driving;
    tl_driving = ex;
    if (op->type == GQL_OP_MUTATION) {
        if (col->n)
            dispatch_root(ex, ex->next_root++);
    } else {
        for (uint32_t j = 0; j < col->n; j++)
            dispatch_root(ex, j);
        ex->next_root = col->n;
    }
    tl_driving = prev;
    drive(ex);
    return ROSTER_E_OK;
}

/* --- JSON-backed default resolver. */

static int json_to_result(gql_call *c, const json_t *j, const gql_wtype *t, gql_result *out)
{
    if (t->kind == GQL_KIND_NON_NULL)
        t = t->of;
    if (j == NULL || json_is_null(j)) {
        *out = gql_r_null();
        return 0;
    }
    if (t->kind == GQL_KIND_LIST && json_is_array(j)) {
        size_t n = json_array_size(j);
        gql_result *items = gql_alloc(c, (n ? n : 1) * sizeof *items);
        if (items == NULL)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (json_to_result(c, json_array_get(j, i), t->of, &items[i]))
                return -1;
        *out = gql_r_list(items, n);
        return 0;
    }
    const gql_type *nt = t->named;
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        *out = nt->kind == GQL_KIND_OBJECT ? gql_r_object((void *)j) : gql_r_json(j);
        break;
    case JSON_ARRAY:
        *out = gql_r_json(j);
        break;
    case JSON_STRING:
        *out = gql_r_string(json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        *out = gql_r_int((int64_t)json_integer_value(j));
        break;
    case JSON_REAL:
        *out = gql_r_float(json_real_value(j));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        *out = gql_r_bool(json_is_true(j));
        break;
    default:
        *out = gql_r_null();
    }
    return 0;
}

void gql_json_field_resolver(gql_call *call, void *ud)
{
    (void)ud;
    const json_t *src = gql_call_source(call);
    gql_str name = gql_call_field_name(call);
    const json_t *m = json_is_object(src) ? json_object_getn(src, name.ptr, name.len) : NULL;
    gql_result r;
    if (json_to_result(call, m, gql_call_field(call)->type, &r) != 0) {
        gql_resolve_error(call, GQL_CODE_INTERNAL, "out of memory", NULL);
        return;
    }
    gql_resolve_done(call, r);
}
