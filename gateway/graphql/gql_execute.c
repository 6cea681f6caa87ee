#include "gql_execute.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_introspection.h"
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

/* --- Execution state. */

typedef struct field_error {
    const char *code;
    const char *message;
    size_t mlen;
    json_t *ext;
    gql_location loc;
    struct field_error *next_owned; /* errors holding a json reference */
} field_error;

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

typedef struct collected {
    cfield *f;
    uint32_t n;
} collected;

struct objnode {
    const gql_type *type;
    void *source;
    const collected *col;
    gql_call *slots;
};

typedef struct group group;
typedef struct exec exec;

struct gql_call {
    exec *ex;
    group *g;
    objnode *parent;
    uint8_t state; /* 0 pending, 1 done */
    gql_result value;
    field_error *err;
    vnode vn;
};

struct group {
    group *next;
    const cfield *cf;
    const gql_type *parent_type;
    gql_call **calls;
    uint32_t n;
    uint32_t pending;
};

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
};

/* Execution memory (the driver's). Most allocations are a few dozen bytes:
 * they are cut from chunks of the arena with an inline bump pointer; larger
 * ones come from the arena directly. 16-byte aligned, as the arena's. NULL
 * when out of memory or over the limit. */
enum { XCHUNK = 4096, XALIGN = 16 };

static void *chunk_alloc(exec *ex, size_t n)
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
    return chunk_alloc(ex, n);
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

static void *xzalloc(exec *ex, size_t n)
{
    void *p = xalloc(ex, n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static int seqz(gql_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && memcmp(a.ptr, b, n) == 0;
}

static int seq(gql_str a, gql_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* An error owned by the driver arena with a formatted message. */
static field_error *mk_error(exec *ex, gql_location loc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static field_error *mk_error(exec *ex, gql_location loc, const char *code, const char *fmt, ...)
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

/* --- Variables. */

static const gql_value null_value = {.kind = GQL_VALUE_NULL};

static gql_value *var_value(exec *ex, gql_str name, int *found)
{
    for (uint32_t i = 0; i < ex->op->n_vars; i++)
        if (seq(ex->op->vars[i].name, name)) {
            *found = ex->var_vals[i] != NULL;
            return ex->var_vals[i];
        }
    *found = 0;
    return NULL;
}

enum { CO_OK, CO_INVALID, CO_MISSING };

static gql_value *new_value(exec *ex, int kind)
{
    gql_value *v = xzalloc(ex, sizeof *v);
    if (v)
        v->kind = (uint8_t)kind;
    return v;
}

/* The literal with variables replaced by their values (absent variables
 * become null). */
static gql_value *materialize(exec *ex, const gql_value *v)
{
    if (v->kind == GQL_VALUE_VARIABLE) {
        int found;
        gql_value *vv = var_value(ex, v->u.string, &found);
        return found ? vv : (gql_value *)&null_value;
    }
    if (v->kind == GQL_VALUE_LIST) {
        gql_value *l = new_value(ex, GQL_VALUE_LIST);
        if (l == NULL)
            return NULL;
        l->u.list.items = xalloc(ex, (v->u.list.count + 1) * sizeof(gql_value *));
        if (l->u.list.items == NULL)
            return NULL;
        for (uint32_t i = 0; i < v->u.list.count; i++)
            if ((l->u.list.items[i] = materialize(ex, v->u.list.items[i])) == NULL)
                return NULL;
        l->u.list.count = v->u.list.count;
        return l;
    }
    if (v->kind == GQL_VALUE_OBJECT) {
        gql_value *o = new_value(ex, GQL_VALUE_OBJECT);
        if (o == NULL)
            return NULL;
        o->u.object.fields = xzalloc(ex, (v->u.object.count + 1) * sizeof(gql_object_field));
        if (o->u.object.fields == NULL)
            return NULL;
        for (uint32_t i = 0; i < v->u.object.count; i++) {
            o->u.object.fields[i].name = v->u.object.fields[i].name;
            if ((o->u.object.fields[i].value = materialize(ex, v->u.object.fields[i].value)) ==
                NULL)
                return NULL;
        }
        o->u.object.count = v->u.object.count;
        return o;
    }
    return (gql_value *)v;
}

static int coerce_literal(exec *ex, const gql_value *v, const gql_wtype *t, gql_value **out);

static int coerce_leaf_literal(exec *ex, const gql_value *v, const gql_type *nt, gql_value **out)
{
    if (nt->kind == GQL_KIND_ENUM) {
        if (v->kind != GQL_VALUE_ENUM ||
            gql_type_enum_value(nt, v->u.string.ptr, v->u.string.len) == NULL)
            return CO_INVALID;
        *out = (gql_value *)v;
        return CO_OK;
    }
    gql_value *nv;
    switch (nt->builtin) {
    case GQL_SCALAR_INT:
        if (v->kind != GQL_VALUE_INT || v->u.integer < INT32_MIN || v->u.integer > INT32_MAX)
            return CO_INVALID;
        *out = (gql_value *)v;
        return CO_OK;
    case GQL_SCALAR_FLOAT:
        if (v->kind == GQL_VALUE_FLOAT) {
            *out = (gql_value *)v;
            return CO_OK;
        }
        if (v->kind != GQL_VALUE_INT)
            return CO_INVALID;
        if ((nv = new_value(ex, GQL_VALUE_FLOAT)) == NULL)
            return CO_INVALID;
        nv->u.number = (double)v->u.integer;
        nv->raw = v->raw;
        *out = nv;
        return CO_OK;
    case GQL_SCALAR_STRING:
        if (v->kind != GQL_VALUE_STRING)
            return CO_INVALID;
        *out = (gql_value *)v;
        return CO_OK;
    case GQL_SCALAR_BOOLEAN:
        if (v->kind != GQL_VALUE_BOOLEAN)
            return CO_INVALID;
        *out = (gql_value *)v;
        return CO_OK;
    case GQL_SCALAR_ID:
        if (v->kind == GQL_VALUE_STRING) {
            *out = (gql_value *)v;
            return CO_OK;
        }
        if (v->kind == GQL_VALUE_INT || (v->kind == GQL_VALUE_FLOAT && v->raw.len)) {
            if ((nv = new_value(ex, GQL_VALUE_STRING)) == NULL)
                return CO_INVALID;
            nv->u.string = v->raw;
            *out = nv;
            return CO_OK;
        }
        return CO_INVALID;
    default:
        break;
    }
    gql_value *m = materialize(ex, v);
    if (m == NULL)
        return CO_INVALID;
    if (nt->hooks.coerce_input == NULL) {
        *out = m;
        return CO_OK;
    }
    gql_value *res = new_value(ex, GQL_VALUE_NULL);
    const char *msg = NULL;
    if (res == NULL || nt->hooks.coerce_input(res, m, &ex->a, &msg, nt->hooks.ud) != ROSTER_E_OK)
        return CO_INVALID;
    *out = res;
    return CO_OK;
}

static int coerce_literal(exec *ex, const gql_value *v, const gql_wtype *t, gql_value **out)
{
    if (v->kind == GQL_VALUE_VARIABLE) {
        int found;
        gql_value *vv = var_value(ex, v->u.string, &found);
        if (!found)
            return CO_MISSING;
        if (t->kind == GQL_KIND_NON_NULL && vv->kind == GQL_VALUE_NULL)
            return CO_INVALID;
        *out = vv;
        return CO_OK;
    }
    if (t->kind == GQL_KIND_NON_NULL) {
        if (v->kind == GQL_VALUE_NULL)
            return CO_INVALID;
        t = t->of;
    }
    if (v->kind == GQL_VALUE_NULL) {
        *out = (gql_value *)&null_value;
        return CO_OK;
    }
    if (t->kind == GQL_KIND_LIST) {
        gql_value *l = new_value(ex, GQL_VALUE_LIST);
        if (l == NULL)
            return CO_INVALID;
        if (v->kind != GQL_VALUE_LIST) {
            gql_value *item;
            int rc = coerce_literal(ex, v, t->of, &item);
            if (rc != CO_OK)
                return CO_INVALID;
            l->u.list.items = xalloc(ex, sizeof(gql_value *));
            if (l->u.list.items == NULL)
                return CO_INVALID;
            l->u.list.items[0] = item;
            l->u.list.count = 1;
            *out = l;
            return CO_OK;
        }
        l->u.list.items = xalloc(ex, (v->u.list.count + 1) * sizeof(gql_value *));
        if (l->u.list.items == NULL)
            return CO_INVALID;
        for (uint32_t i = 0; i < v->u.list.count; i++) {
            gql_value *item;
            int rc = coerce_literal(ex, v->u.list.items[i], t->of, &item);
            if (rc == CO_MISSING) {
                if (t->of->kind == GQL_KIND_NON_NULL)
                    return CO_INVALID;
                item = (gql_value *)&null_value;
            } else if (rc != CO_OK) {
                return CO_INVALID;
            }
            l->u.list.items[i] = item;
        }
        l->u.list.count = v->u.list.count;
        *out = l;
        return CO_OK;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_KIND_INPUT_OBJECT) {
        if (v->kind != GQL_VALUE_OBJECT)
            return CO_INVALID;
        for (uint32_t i = 0; i < v->u.object.count; i++)
            if (gql_input_field_find(nt->input_fields, nt->n_input_fields,
                                     v->u.object.fields[i].name.ptr,
                                     v->u.object.fields[i].name.len) == NULL)
                return CO_INVALID;
        gql_value *o = new_value(ex, GQL_VALUE_OBJECT);
        if (o == NULL)
            return CO_INVALID;
        o->u.object.fields = xzalloc(ex, (nt->n_input_fields + 1) * sizeof(gql_object_field));
        if (o->u.object.fields == NULL)
            return CO_INVALID;
        for (uint32_t k = 0; k < nt->n_input_fields; k++) {
            const gql_input_field *fd = &nt->input_fields[k];
            const gql_object_field *lit = NULL;
            for (uint32_t i = 0; i < v->u.object.count; i++)
                if (seq(v->u.object.fields[i].name, fd->name)) {
                    lit = &v->u.object.fields[i];
                    break;
                }
            gql_value *fv = NULL;
            int rc = lit ? coerce_literal(ex, lit->value, fd->type, &fv) : CO_MISSING;
            if (rc == CO_MISSING) {
                if (fd->default_value) {
                    if (coerce_literal(ex, fd->default_value, fd->type, &fv) != CO_OK)
                        return CO_INVALID;
                } else if (fd->type->kind == GQL_KIND_NON_NULL) {
                    return CO_INVALID;
                } else {
                    continue;
                }
            } else if (rc != CO_OK) {
                return CO_INVALID;
            }
            gql_object_field *of = &o->u.object.fields[o->u.object.count++];
            of->name = fd->name;
            of->value = fv;
        }
        *out = o;
        return CO_OK;
    }
    return coerce_leaf_literal(ex, v, nt, out);
}

/* JavaScript-like rendering of a JSON value for messages. */
static void inspect_json(gql_buf *b, const json_t *j, int depth)
{
    gql_jw w;
    gql_jw_init(&w, b, 0);
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (json_object_size(j) == 0) {
            gql_buf_append(b, "{}", 2);
            return;
        }
        if (depth >= 2) {
            gql_buf_append(b, "[Object]", 8);
            return;
        }
        gql_buf_append(b, "{ ", 2);
        const char *k;
        json_t *m;
        int first = 1;
        json_object_foreach((json_t *)j, k, m)
        {
            if (!first)
                gql_buf_append(b, ", ", 2);
            first = 0;
            gql_buf_append(b, k, strlen(k));
            gql_buf_append(b, ": ", 2);
            inspect_json(b, m, depth + 1);
        }
        gql_buf_append(b, " }", 2);
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(j) == 0) {
            gql_buf_append(b, "[]", 2);
            return;
        }
        if (depth >= 2) {
            gql_buf_append(b, "[Array]", 7);
            return;
        }
        gql_buf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(j); i++) {
            if (i)
                gql_buf_append(b, ", ", 2);
            inspect_json(b, json_array_get(j, i), depth + 1);
        }
        gql_buf_append(b, "]", 1);
        return;
    }
    default:
        gql_jw_json(&w, j);
    }
}

typedef struct var_ctx {
    exec *ex;
    gql_errors *errs;
    const gql_var_def *vd;
    char path[512];
    size_t path_len;
    int failed;
} var_ctx;

static void var_error(var_ctx *vc, const json_t *bad, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void var_error(var_ctx *vc, const json_t *bad, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gql_buf b;
    gql_buf_init(&b);
    inspect_json(&b, bad, 0);
    int blen = b.len > 1000 ? 1000 : (int)b.len;
    if (vc->path_len)
        gql_errors_add(vc->errs, GQL_CODE_BAD_USER_INPUT, &vc->vd->loc, 1,
                       "Variable \"$%.*s\" got invalid value %.*s at \"%.*s%.*s\"; %s",
                       (int)vc->vd->name.len, vc->vd->name.ptr, blen, b.data ? b.data : "",
                       (int)vc->vd->name.len, vc->vd->name.ptr, (int)vc->path_len, vc->path, msg);
    else
        gql_errors_add(vc->errs, GQL_CODE_BAD_USER_INPUT, &vc->vd->loc, 1,
                       "Variable \"$%.*s\" got invalid value %.*s; %s", (int)vc->vd->name.len,
                       vc->vd->name.ptr, blen, b.data ? b.data : "", msg);
    gql_buf_free(&b);
    vc->failed = 1;
}

static const char *json_text(gql_buf *b, const json_t *j)
{
    gql_buf_clear(b);
    inspect_json(b, j, 0);
    gql_buf_append(b, "", 1);
    if (b->oom || b->data == NULL)
        return "";
    return b->data;
}

static int json_is_integral(const json_t *j, int64_t *out)
{
    if (json_is_integer(j)) {
        *out = (int64_t)json_integer_value(j);
        return 1;
    }
    if (json_is_real(j)) {
        double d = json_real_value(j);
        if (isfinite(d) && floor(d) == d && fabs(d) < 9.2e18) {
            *out = (int64_t)d;
            return 1;
        }
    }
    return 0;
}

static gql_value *coerce_json(var_ctx *vc, const json_t *j, const gql_wtype *t);

static gql_value *coerce_json_leaf(var_ctx *vc, const json_t *j, const gql_type *nt)
{
    exec *ex = vc->ex;
    gql_buf tb;
    gql_buf_init(&tb);
    gql_value *v = NULL;
    int64_t iv;
    if (nt->kind == GQL_KIND_ENUM) {
        if (!json_is_string(j)) {
            var_error(vc, j, "Enum \"%.*s\" cannot represent non-string value: %s.",
                      (int)nt->name.len, nt->name.ptr, json_text(&tb, j));
        } else if (gql_type_enum_value(nt, json_string_value(j), json_string_length(j)) == NULL) {
            gql_str *opts = xalloc(ex, (nt->n_values + 1) * sizeof *opts);
            gql_str in = {json_string_value(j), (uint32_t)json_string_length(j)};
            gql_buf sb;
            gql_buf_init(&sb);
            if (opts) {
                for (uint32_t k = 0; k < nt->n_values; k++)
                    opts[k] = nt->values[k].name;
                gql_did_you_mean(&sb, "the enum value", in, opts, nt->n_values);
            }
            var_error(vc, j, "Value \"%.*s\" does not exist in \"%.*s\" enum.%.*s",
                      (int)json_string_length(j), json_string_value(j), (int)nt->name.len,
                      nt->name.ptr, (int)sb.len, sb.data ? sb.data : "");
            gql_buf_free(&sb);
        } else {
            const gql_enum_value *ev =
                gql_type_enum_value(nt, json_string_value(j), json_string_length(j));
            if ((v = new_value(ex, GQL_VALUE_ENUM)))
                v->u.string = ev->name;
        }
        gql_buf_free(&tb);
        return v;
    }
    switch (nt->builtin) {
    case GQL_SCALAR_INT:
        if (!json_is_number(j) || !json_is_integral(j, &iv)) {
            var_error(vc, j, "Int cannot represent non-integer value: %s", json_text(&tb, j));
        } else if (iv < INT32_MIN || iv > INT32_MAX) {
            var_error(vc, j, "Int cannot represent non 32-bit signed integer value: %s",
                      json_text(&tb, j));
        } else if ((v = new_value(ex, GQL_VALUE_INT))) {
            v->u.integer = iv;
        }
        break;
    case GQL_SCALAR_FLOAT:
        if (!json_is_number(j))
            var_error(vc, j, "Float cannot represent non numeric value: %s", json_text(&tb, j));
        else if ((v = new_value(ex, GQL_VALUE_FLOAT)))
            v->u.number = json_number_value(j);
        break;
    case GQL_SCALAR_STRING:
        if (!json_is_string(j))
            var_error(vc, j, "String cannot represent a non string value: %s", json_text(&tb, j));
        else if ((v = new_value(ex, GQL_VALUE_STRING))) {
            v->u.string.len = (uint32_t)json_string_length(j);
            v->u.string.ptr = roster_arena_strndup(&ex->a, json_string_value(j), v->u.string.len);
            if (v->u.string.ptr == NULL)
                ex->nomem = 1, v = NULL;
        }
        break;
    case GQL_SCALAR_BOOLEAN:
        if (!json_is_boolean(j))
            var_error(vc, j, "Boolean cannot represent a non boolean value: %s", json_text(&tb, j));
        else if ((v = new_value(ex, GQL_VALUE_BOOLEAN)))
            v->u.boolean = json_is_true(j);
        break;
    case GQL_SCALAR_ID:
        if (json_is_string(j)) {
            if ((v = new_value(ex, GQL_VALUE_STRING))) {
                v->u.string.len = (uint32_t)json_string_length(j);
                v->u.string.ptr =
                    roster_arena_strndup(&ex->a, json_string_value(j), v->u.string.len);
                if (v->u.string.ptr == NULL)
                    ex->nomem = 1, v = NULL;
            }
        } else if (json_is_number(j) && json_is_integral(j, &iv)) {
            char tmp[32];
            int n = snprintf(tmp, sizeof tmp, "%lld", (long long)iv);
            if ((v = new_value(ex, GQL_VALUE_STRING))) {
                v->u.string.ptr = roster_arena_strndup(&ex->a, tmp, (size_t)n);
                v->u.string.len = (uint32_t)n;
                if (v->u.string.ptr == NULL)
                    ex->nomem = 1, v = NULL;
            }
        } else {
            var_error(vc, j, "ID cannot represent value: %s", json_text(&tb, j));
        }
        break;
    default: {
        gql_value *in;
        if (gql_value_from_json(&in, j, &ex->a) != ROSTER_E_OK) {
            ex->nomem = 1;
            break;
        }
        if (nt->hooks.coerce_input == NULL) {
            v = in;
            break;
        }
        gql_value *res = new_value(ex, GQL_VALUE_NULL);
        const char *msg = NULL;
        if (res == NULL)
            break;
        if (nt->hooks.coerce_input(res, in, &ex->a, &msg, nt->hooks.ud) != ROSTER_E_OK)
            var_error(vc, j, "%s", msg ? msg : "invalid value");
        else
            v = res;
        break;
    }
    }
    gql_buf_free(&tb);
    return v;
}

static void path_push_key(var_ctx *vc, const char *k, size_t n, size_t *saved)
{
    *saved = vc->path_len;
    int w = snprintf(vc->path + vc->path_len, sizeof vc->path - vc->path_len, ".%.*s", (int)n, k);
    if (w > 0 && vc->path_len + (size_t)w < sizeof vc->path)
        vc->path_len += (size_t)w;
}

static void path_push_index(var_ctx *vc, size_t i, size_t *saved)
{
    *saved = vc->path_len;
    int w = snprintf(vc->path + vc->path_len, sizeof vc->path - vc->path_len, "[%zu]", i);
    if (w > 0 && vc->path_len + (size_t)w < sizeof vc->path)
        vc->path_len += (size_t)w;
}

static gql_value *coerce_json(var_ctx *vc, const json_t *j, const gql_wtype *t)
{
    exec *ex = vc->ex;
    gql_buf tb;
    if (t->kind == GQL_KIND_NON_NULL) {
        if (j == NULL || json_is_null(j)) {
            gql_buf_init(&tb);
            gql_wtype_print(&tb, t);
            var_error(vc, json_null(), "Expected non-nullable type \"%.*s\" not to be null.",
                      (int)tb.len, tb.data ? tb.data : "");
            gql_buf_free(&tb);
            return NULL;
        }
        t = t->of;
    }
    if (j == NULL || json_is_null(j))
        return (gql_value *)&null_value;
    if (t->kind == GQL_KIND_LIST) {
        gql_value *l = new_value(ex, GQL_VALUE_LIST);
        if (l == NULL)
            return NULL;
        if (!json_is_array(j)) {
            gql_value *item = coerce_json(vc, j, t->of);
            if (item == NULL)
                return NULL;
            l->u.list.items = xalloc(ex, sizeof(gql_value *));
            if (l->u.list.items == NULL)
                return NULL;
            l->u.list.items[0] = item;
            l->u.list.count = 1;
            return l;
        }
        size_t n = json_array_size(j);
        l->u.list.items = xalloc(ex, (n + 1) * sizeof(gql_value *));
        if (l->u.list.items == NULL)
            return NULL;
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            size_t saved;
            path_push_index(vc, i, &saved);
            gql_value *item = coerce_json(vc, json_array_get(j, i), t->of);
            vc->path_len = saved;
            if (item == NULL)
                bad = 1;
            l->u.list.items[i] = item;
        }
        l->u.list.count = (uint32_t)n;
        return bad ? NULL : l;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_KIND_INPUT_OBJECT) {
        if (json_is_array(j)) {
            /* graphql-js treats an array as an object keyed "0", "1", ...:
             * report the same errors. */
            for (uint32_t k = 0; k < nt->n_input_fields; k++) {
                const gql_input_field *fd = &nt->input_fields[k];
                if (fd->type->kind == GQL_KIND_NON_NULL && fd->default_value == NULL) {
                    gql_buf_init(&tb);
                    gql_wtype_print(&tb, fd->type);
                    var_error(vc, j, "Field \"%.*s\" of required type \"%.*s\" was not provided.",
                              (int)fd->name.len, fd->name.ptr, (int)tb.len, tb.data ? tb.data : "");
                    gql_buf_free(&tb);
                }
            }
            for (size_t i = 0; i < json_array_size(j); i++)
                var_error(vc, j, "Field \"%zu\" is not defined by type \"%.*s\".", i,
                          (int)nt->name.len, nt->name.ptr);
            if (json_array_size(j) == 0 && !vc->failed)
                var_error(vc, j, "Expected type \"%.*s\" to be an object.", (int)nt->name.len,
                          nt->name.ptr);
            return NULL;
        }
        if (!json_is_object(j)) {
            var_error(vc, j, "Expected type \"%.*s\" to be an object.", (int)nt->name.len,
                      nt->name.ptr);
            return NULL;
        }
        gql_value *o = new_value(ex, GQL_VALUE_OBJECT);
        if (o == NULL)
            return NULL;
        o->u.object.fields = xzalloc(ex, (nt->n_input_fields + 1) * sizeof(gql_object_field));
        if (o->u.object.fields == NULL)
            return NULL;
        int bad = 0;
        for (uint32_t k = 0; k < nt->n_input_fields; k++) {
            const gql_input_field *fd = &nt->input_fields[k];
            const json_t *m = json_object_getn(j, fd->name.ptr, fd->name.len);
            gql_value *fv;
            if (m == NULL) {
                if (fd->default_value) {
                    if (coerce_literal(ex, fd->default_value, fd->type, &fv) != CO_OK)
                        continue;
                } else {
                    if (fd->type->kind == GQL_KIND_NON_NULL) {
                        gql_buf_init(&tb);
                        gql_wtype_print(&tb, fd->type);
                        var_error(vc, j,
                                  "Field \"%.*s\" of required type \"%.*s\" was not "
                                  "provided.",
                                  (int)fd->name.len, fd->name.ptr, (int)tb.len,
                                  tb.data ? tb.data : "");
                        gql_buf_free(&tb);
                        bad = 1;
                    }
                    continue;
                }
            } else {
                size_t saved;
                path_push_key(vc, fd->name.ptr, fd->name.len, &saved);
                fv = coerce_json(vc, m, fd->type);
                vc->path_len = saved;
                if (fv == NULL) {
                    bad = 1;
                    continue;
                }
            }
            gql_object_field *of = &o->u.object.fields[o->u.object.count++];
            of->name = fd->name;
            of->value = fv;
        }
        const char *key;
        json_t *m;
        json_object_foreach((json_t *)j, key, m)
        {
            if (gql_input_field_find(nt->input_fields, nt->n_input_fields, key, strlen(key)) ==
                NULL) {
                gql_str *opts = xalloc(ex, (nt->n_input_fields + 1) * sizeof *opts);
                gql_str in = {key, (uint32_t)strlen(key)};
                gql_buf sb;
                gql_buf_init(&sb);
                if (opts) {
                    for (uint32_t k = 0; k < nt->n_input_fields; k++)
                        opts[k] = nt->input_fields[k].name;
                    gql_did_you_mean(&sb, NULL, in, opts, nt->n_input_fields);
                }
                var_error(vc, j, "Field \"%s\" is not defined by type \"%.*s\".%.*s", key,
                          (int)nt->name.len, nt->name.ptr, (int)sb.len, sb.data ? sb.data : "");
                gql_buf_free(&sb);
                bad = 1;
            }
        }
        return bad ? NULL : o;
    }
    return coerce_json_leaf(vc, j, nt);
}

static int coerce_variables(exec *ex, gql_errors *errs, const json_t *vars)
{
    const gql_operation *op = ex->op;
    ex->var_vals = xzalloc(ex, (op->n_vars + 1) * sizeof *ex->var_vals);
    if (ex->var_vals == NULL)
        return ROSTER_E_NOMEM;
    int failed = 0;
    for (uint32_t i = 0; i < op->n_vars; i++) {
        const gql_var_def *vd = &op->vars[i];
        const gql_wtype *t = NULL;
        /* Build the variable's type from its reference. */
        {
            const gql_type_ref *chain[64];
            int depth = 0;
            const gql_type_ref *r = vd->type;
            while (r->kind != GQL_TREF_NAMED && depth < 64) {
                chain[depth++] = r;
                r = r->of;
            }
            if (vd->named == NULL)
                continue;
            const gql_wtype *cur = &vd->named->self;
            for (int d = depth - 1; d >= 0; d--) {
                gql_wtype *w = xzalloc(ex, sizeof *w);
                if (w == NULL)
                    return ROSTER_E_NOMEM;
                w->kind = chain[d]->kind == GQL_TREF_LIST ? GQL_KIND_LIST : GQL_KIND_NON_NULL;
                w->of = cur;
                w->named = cur->named;
                cur = w;
            }
            t = cur;
        }
        const json_t *j = vars ? json_object_getn(vars, vd->name.ptr, vd->name.len) : NULL;
        gql_buf tb;
        if (j == NULL) {
            if (vd->default_value) {
                gql_value *dv;
                if (coerce_literal(ex, vd->default_value, t, &dv) == CO_OK)
                    ex->var_vals[i] = dv;
            } else if (t->kind == GQL_KIND_NON_NULL) {
                gql_buf_init(&tb);
                gql_wtype_print(&tb, t);
                gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, &vd->loc, 1,
                               "Variable \"$%.*s\" of required type \"%.*s\" was not provided.",
                               (int)vd->name.len, vd->name.ptr, (int)tb.len,
                               tb.data ? tb.data : "");
                gql_buf_free(&tb);
                failed = 1;
            }
            continue;
        }
        if (json_is_null(j) && t->kind == GQL_KIND_NON_NULL) {
            gql_buf_init(&tb);
            gql_wtype_print(&tb, t);
            gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, &vd->loc, 1,
                           "Variable \"$%.*s\" of non-null type \"%.*s\" must not be null.",
                           (int)vd->name.len, vd->name.ptr, (int)tb.len, tb.data ? tb.data : "");
            gql_buf_free(&tb);
            failed = 1;
            continue;
        }
        var_ctx vc;
        vc.ex = ex;
        vc.errs = errs;
        vc.vd = vd;
        vc.path_len = 0;
        vc.failed = 0;
        gql_value *v = coerce_json(&vc, j, t);
        if (vc.failed || v == NULL)
            failed = 1;
        else
            ex->var_vals[i] = v;
        if (errs->count >= 50) {
            gql_errors_add(errs, GQL_CODE_BAD_USER_INPUT, NULL, 0,
                           "Too many errors processing variables, error limit reached. Execution "
                           "aborted.");
            break;
        }
    }
    if (ex->nomem)
        return ROSTER_E_NOMEM;
    return failed ? ROSTER_E_INVALID_ARGUMENT : ROSTER_E_OK;
}

/* --- Field collection. */

static int directive_bool(exec *ex, const gql_directive *d, int *out)
{
    for (uint32_t i = 0; i < d->n_args; i++) {
        if (!seqz(d->args[i].name, "if"))
            continue;
        const gql_value *v = d->args[i].value;
        if (v->kind == GQL_VALUE_VARIABLE) {
            int found;
            v = var_value(ex, v->u.string, &found);
            if (!found)
                return 0;
        }
        if (v->kind != GQL_VALUE_BOOLEAN)
            return 0;
        *out = v->u.boolean;
        return 1;
    }
    return 0;
}

static int should_include(exec *ex, const gql_directive *dirs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int b;
        if (seqz(dirs[i].name, "skip") && directive_bool(ex, &dirs[i], &b) && b)
            return 0;
        if (seqz(dirs[i].name, "include") && directive_bool(ex, &dirs[i], &b) && !b)
            return 0;
    }
    return 1;
}

typedef struct collector {
    exec *ex;
    const gql_type *type;
    cfield *f;
    uint32_t n;
    uint32_t cap;
    uint32_t *table; /* key hash → index + 1 */
    uint32_t mask;
    const gql_fragment **seen;
    uint32_t n_seen;
    uint32_t cap_seen;
} collector;

static uint32_t hkey(gql_str s)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < s.len; i++) {
        h ^= (unsigned char)s.ptr[i];
        h *= 16777619u;
    }
    return h;
}

static int coll_rehash(collector *c)
{
    uint32_t size = (c->mask + 1) * 2;
    uint32_t *t = xzalloc(c->ex, size * sizeof *t);
    if (t == NULL)
        return -1;
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t h = hkey(c->f[i].key) & (size - 1);
        while (t[h])
            h = (h + 1) & (size - 1);
        t[h] = i + 1;
    }
    c->table = t;
    c->mask = size - 1;
    return 0;
}

static void coll_add(collector *c, const gql_selection *sel)
{
    exec *ex = c->ex;
    gql_str key = sel->alias.len ? sel->alias : sel->name;
    cfield *cf = NULL;
    if (c->table == NULL && c->n >= 16) {
        c->mask = 63;
        c->table = xzalloc(ex, 64 * sizeof *c->table);
        if (c->table == NULL || coll_rehash(c))
            return;
    }
    if (c->table) {
        uint32_t h = hkey(key) & c->mask;
        while (c->table[h]) {
            cfield *x = &c->f[c->table[h] - 1];
            if (seq(x->key, key)) {
                cf = x;
                break;
            }
            h = (h + 1) & c->mask;
        }
    } else {
        for (uint32_t i = 0; i < c->n; i++)
            if (seq(c->f[i].key, key)) {
                cf = &c->f[i];
                break;
            }
    }
    if (cf) {
        if (cf->n_nodes == 1 || cf->n_nodes == cf->cap_nodes) {
            /* One node is kept inline (cf->node); an array only for merges. */
            uint32_t cap = cf->n_nodes == 1 ? 4 : cf->cap_nodes * 2;
            const gql_selection **nn = xalloc(ex, cap * sizeof *nn);
            if (nn == NULL)
                return;
            if (cf->n_nodes == 1)
                nn[0] = cf->node;
            else
                memcpy(nn, cf->nodes, cf->n_nodes * sizeof *nn);
            cf->nodes = nn;
            cf->cap_nodes = cap;
        }
        cf->nodes[cf->n_nodes++] = sel;
        return;
    }
    if (c->n == c->cap) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        cfield *nf = xalloc(ex, cap * sizeof *nf);
        if (nf == NULL)
            return;
        if (c->n)
            memcpy(nf, c->f, c->n * sizeof *nf);
        c->f = nf;
        c->cap = cap;
    }
    cf = &c->f[c->n++];
    memset(cf, 0, sizeof *cf);
    cf->key = key;
    cf->node = sel;
    cf->def = sel->def;
    cf->cap_nodes = 0;
    cf->nodes = NULL; /* see cf_nodes() */
    cf->n_nodes = 1;
    if (c->table) {
        if (c->n * 2 > c->mask + 1 && coll_rehash(c))
            return;
        uint32_t h = hkey(key) & c->mask;
        while (c->table[h])
            h = (h + 1) & c->mask;
        c->table[h] = c->n;
    }
}

static void coll_set(collector *c, const gql_selection_set *ss)
{
    exec *ex = c->ex;
    for (uint32_t i = 0; i < ss->count && !ex->nomem; i++) {
        const gql_selection *sel = &ss->items[i];
        if (!should_include(ex, sel->dirs, sel->n_dirs))
            continue;
        if (sel->kind == GQL_SEL_FIELD) {
            coll_add(c, sel);
        } else if (sel->kind == GQL_SEL_INLINE_FRAGMENT) {
            if (sel->type_cond.len && !seq(sel->type_cond, c->type->name))
                continue;
            coll_set(c, sel->sel);
        } else {
            const gql_fragment *f = sel->fragment;
            if (f == NULL || !seq(f->type_cond, c->type->name))
                continue;
            int seen = 0;
            for (uint32_t k = 0; k < c->n_seen; k++)
                if (c->seen[k] == f) {
                    seen = 1;
                    break;
                }
            if (seen)
                continue;
            if (c->n_seen == c->cap_seen) {
                uint32_t cap = c->cap_seen ? c->cap_seen * 2 : 8;
                const gql_fragment **ns = xalloc(ex, cap * sizeof *ns);
                if (ns == NULL)
                    return;
                if (c->n_seen)
                    memcpy(ns, c->seen, c->n_seen * sizeof *ns);
                c->seen = ns;
                c->cap_seen = cap;
            }
            c->seen[c->n_seen++] = f;
            coll_set(c, f->sel);
        }
    }
}

static void coerce_field_args(exec *ex, cfield *cf)
{
    static const gql_value no_args = {.kind = GQL_VALUE_OBJECT};
    const gql_field *def = cf->def;
    const gql_selection *node = cf->node;
    if (def->n_args == 0) {
        cf->args = (gql_value *)&no_args;
        return;
    }
    gql_value *o = new_value(ex, GQL_VALUE_OBJECT);
    if (o == NULL)
        return;
    cf->args = o;
    o->u.object.fields = xzalloc(ex, def->n_args * sizeof(gql_object_field));
    if (o->u.object.fields == NULL)
        return;
    gql_buf tb;
    for (uint32_t k = 0; k < def->n_args; k++) {
        const gql_input_field *ad = &def->args[k];
        const gql_argument *arg = NULL;
        for (uint32_t i = 0; i < node->n_args; i++)
            if (seq(node->args[i].name, ad->name)) {
                arg = &node->args[i];
                break;
            }
        gql_value *v = NULL;
        int rc = arg ? coerce_literal(ex, arg->value, ad->type, &v) : CO_MISSING;
        if (rc == CO_MISSING) {
            if (ad->default_value) {
                if (coerce_literal(ex, ad->default_value, ad->type, &v) != CO_OK)
                    continue;
            } else if (ad->type->kind == GQL_KIND_NON_NULL) {
                gql_buf_init(&tb);
                gql_wtype_print(&tb, ad->type);
                if (arg)
                    cf->arg_err = mk_error(
                        ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                        "Argument \"%.*s\" of required type \"%.*s\" was provided the variable "
                        "\"$%.*s\" which was not provided a runtime value.",
                        (int)ad->name.len, ad->name.ptr, (int)tb.len, tb.data ? tb.data : "",
                        (int)arg->value->u.string.len, arg->value->u.string.ptr);
                else
                    cf->arg_err = mk_error(
                        ex, node->loc, GQL_CODE_BAD_USER_INPUT,
                        "Argument \"%.*s\" of required type \"%.*s\" was not provided.",
                        (int)ad->name.len, ad->name.ptr, (int)tb.len, tb.data ? tb.data : "");
                gql_buf_free(&tb);
                return;
            } else {
                continue;
            }
        } else if (rc != CO_OK) {
            gql_buf_init(&tb);
            if (arg->value->kind == GQL_VALUE_VARIABLE) {
                gql_wtype_print(&tb, ad->type);
                cf->arg_err =
                    mk_error(ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                             "Argument \"%.*s\" of non-null type \"%.*s\" must not be "
                             "null.",
                             (int)ad->name.len, ad->name.ptr, (int)tb.len, tb.data ? tb.data : "");
            } else {
                gql_value_print(&tb, arg->value);
                cf->arg_err = mk_error(ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                                       "Argument \"%.*s\" has invalid value %.*s.",
                                       (int)ad->name.len, ad->name.ptr,
                                       (int)(tb.len > 500 ? 500 : tb.len), tb.data ? tb.data : "");
            }
            gql_buf_free(&tb);
            return;
        }
        gql_object_field *of = &o->u.object.fields[o->u.object.count++];
        of->name = ad->name;
        of->value = v;
    }
}

/* Collects the fields of `type` from the selection sets of nodes. */
static collected *collect(exec *ex, const gql_type *type, const gql_selection *const *nodes,
                          uint32_t n_nodes, const gql_selection_set *root_set)
{
    collector c;
    memset(&c, 0, sizeof c);
    c.ex = ex;
    c.type = type;
    if (root_set)
        coll_set(&c, root_set);
    for (uint32_t i = 0; i < n_nodes; i++)
        if (nodes[i]->sel)
            coll_set(&c, nodes[i]->sel);
    collected *col = xzalloc(ex, sizeof *col);
    if (col == NULL || ex->nomem)
        return NULL;
    col->f = c.f;
    col->n = c.n;
    for (uint32_t i = 0; i < c.n; i++)
        if (c.f[i].def && c.f[i].def != ex->s->f_typename)
            coerce_field_args(ex, &c.f[i]);
    return ex->nomem ? NULL : col;
}

int gql_call_selects(const gql_call *c, const char *name)
{
    const cfield *cf = c->g->cf;
    size_t n = strlen(name);
    const gql_type *t = cf->def->type->named;
    /* A shallow walk that does not allocate. */
    for (uint32_t i = 0; i < cf->n_nodes; i++) {
        const gql_selection_set *stack[32];
        int sp = 0;
        if (cf_nodes(cf)[i]->sel)
            stack[sp++] = cf_nodes(cf)[i]->sel;
        while (sp) {
            const gql_selection_set *ss = stack[--sp];
            for (uint32_t k = 0; k < ss->count; k++) {
                const gql_selection *sel = &ss->items[k];
                if (!should_include(c->ex, sel->dirs, sel->n_dirs))
                    continue;
                if (sel->kind == GQL_SEL_FIELD) {
                    if (sel->name.len == n && memcmp(sel->name.ptr, name, n) == 0)
                        return 1;
                } else if (sp < 32) {
                    const gql_selection_set *sub = NULL;
                    if (sel->kind == GQL_SEL_INLINE_FRAGMENT &&
                        (sel->type_cond.len == 0 || seq(sel->type_cond, t->name)))
                        sub = sel->sel;
                    else if (sel->kind == GQL_SEL_FRAGMENT_SPREAD && sel->fragment &&
                             seq(sel->fragment->type_cond, t->name))
                        sub = sel->fragment->sel;
                    if (sub)
                        stack[sp++] = sub;
                }
            }
        }
    }
    return 0;
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
                c->err = mk_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
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
            mk_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
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
            vn->u.err = mk_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
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
            vn->u.err = mk_error(ex, cf->node->loc, GQL_CODE_INTERNAL,
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

/* Creates the field groups for objects of one type sharing a collection
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
        const collected *col = collect(ex, t->named, cf_nodes(cf), cf->n_nodes, NULL);
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

/* --- Output. */

/* A response path element. While writing, each lives on the stack of the
 * call writing its value and points to its parent's (NULL at the root); an
 * error copies its path out only when it is recorded. */
typedef struct pathel {
    gql_str key;
    int64_t index; /* -1 for keys */
    const struct pathel *up;
} pathel;

typedef struct out_error {
    const field_error *e;
    pathel *path;
    uint32_t depth;
} out_error;

typedef struct wctx {
    exec *ex;
    gql_jw w;
    out_error *errs;
    uint32_t n_errs;
    uint32_t cap_errs;
    gql_buf msg;
} wctx;

/* Records e with the path `at` (innermost element; NULL for none). */
static void add_error(wctx *w, const field_error *e, const pathel *at)
{
    if (e == NULL)
        return;
    if (w->n_errs == w->cap_errs) {
        uint32_t cap = w->cap_errs ? w->cap_errs * 2 : 8;
        out_error *ne = xalloc(w->ex, cap * sizeof *ne);
        if (ne == NULL)
            return;
        if (w->n_errs)
            memcpy(ne, w->errs, w->n_errs * sizeof *ne);
        w->errs = ne;
        w->cap_errs = cap;
    }
    uint32_t d = 0;
    for (const pathel *q = at; q; q = q->up)
        d++;
    pathel *p = xalloc(w->ex, (d ? d : 1) * sizeof *p);
    if (p == NULL)
        return;
    uint32_t i = d;
    for (const pathel *q = at; q; q = q->up)
        p[--i] = *q;
    out_error *oe = &w->errs[w->n_errs++];
    oe->e = e;
    oe->path = p;
    oe->depth = d;
}

static void inspect_result(gql_buf *b, const gql_result *r)
{
    char tmp[64];
    gql_jw w;
    gql_jw_init(&w, b, 0);
    switch (r->kind) {
    case GQL_RESULT_BOOLEAN:
        gql_buf_append(b, r->u.boolean ? "true" : "false", r->u.boolean ? 4 : 5);
        break;
    case GQL_RESULT_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)r->u.integer);
        gql_buf_append(b, tmp, strlen(tmp));
        break;
    case GQL_RESULT_FLOAT:
        if (isnan(r->u.number))
            gql_buf_append(b, "NaN", 3);
        else if (isinf(r->u.number))
            gql_buf_append(b, r->u.number > 0 ? "Infinity" : "-Infinity", r->u.number > 0 ? 8 : 9);
        else
            gql_jw_double(&w, r->u.number);
        break;
    case GQL_RESULT_STRING: {
        size_t n = r->u.string.len > 200 ? 200 : r->u.string.len;
        gql_jw_string(&w, r->u.string.ptr, n);
        break;
    }
    case GQL_RESULT_LIST:
        gql_buf_append(b, "[]", 2);
        break;
    default:
        gql_buf_append(b, "{}", 2);
    }
    gql_buf_append(b, "", 1);
}

/* Writes (w non-NULL) or checks a leaf value. Returns 0, or -1 with a
 * message in msg. */
static int leaf_emit(gql_jw *w, const gql_result *r, const gql_type *nt, gql_buf *msg)
{
    char tmp[64];
    gql_buf_clear(msg);
    if (nt->kind == GQL_KIND_ENUM) {
        if (r->kind == GQL_RESULT_STRING &&
            gql_type_enum_value(nt, r->u.string.ptr, r->u.string.len)) {
            gql_jw_string(w, r->u.string.ptr, r->u.string.len);
            return 0;
        }
        gql_buf_append(msg, "Enum \"", 6);
        gql_buf_append(msg, nt->name.ptr, nt->name.len);
        gql_buf_append(msg, "\" cannot represent value: ", 26);
        inspect_result(msg, r);
        return -1;
    }
    const char *err = NULL;
    switch (nt->builtin) {
    case GQL_SCALAR_INT: {
        double d;
        if (r->kind == GQL_RESULT_INT) {
            if (r->u.integer < INT32_MIN || r->u.integer > INT32_MAX) {
                err = "Int cannot represent non 32-bit signed integer value: ";
                break;
            }
            gql_jw_int(w, r->u.integer);
            return 0;
        }
        if (r->kind == GQL_RESULT_BOOLEAN) {
            gql_jw_int(w, r->u.boolean ? 1 : 0);
            return 0;
        }
        if (r->kind == GQL_RESULT_FLOAT)
            d = r->u.number;
        else if (r->kind == GQL_RESULT_STRING && r->u.string.len && r->u.string.len < 60) {
            memcpy(tmp, r->u.string.ptr, r->u.string.len);
            tmp[r->u.string.len] = '\0';
            char *end;
            d = strtod(tmp, &end);
            if (*end) {
                err = "Int cannot represent non-integer value: ";
                break;
            }
        } else {
            err = "Int cannot represent non-integer value: ";
            break;
        }
        if (!isfinite(d) || floor(d) != d) {
            err = "Int cannot represent non-integer value: ";
            break;
        }
        if (d < INT32_MIN || d > INT32_MAX) {
            err = "Int cannot represent non 32-bit signed integer value: ";
            break;
        }
        gql_jw_int(w, (int64_t)d);
        return 0;
    }
    case GQL_SCALAR_FLOAT:
        if (r->kind == GQL_RESULT_INT) {
            gql_jw_int(w, r->u.integer);
            return 0;
        }
        if (r->kind == GQL_RESULT_FLOAT && isfinite(r->u.number)) {
            gql_jw_double(w, r->u.number);
            return 0;
        }
        if (r->kind == GQL_RESULT_BOOLEAN) {
            gql_jw_int(w, r->u.boolean ? 1 : 0);
            return 0;
        }
        err = "Float cannot represent non numeric value: ";
        break;
    case GQL_SCALAR_STRING:
        if (r->kind == GQL_RESULT_STRING) {
            gql_jw_string(w, r->u.string.ptr, r->u.string.len);
            return 0;
        }
        if (r->kind == GQL_RESULT_BOOLEAN) {
            gql_jw_stringz(w, r->u.boolean ? "true" : "false");
            return 0;
        }
        if (r->kind == GQL_RESULT_INT) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)r->u.integer);
            gql_jw_stringz(w, tmp);
            return 0;
        }
        if (r->kind == GQL_RESULT_FLOAT && isfinite(r->u.number)) {
            gql_buf nb;
            gql_jw nw;
            gql_buf_init(&nb);
            gql_jw_init(&nw, &nb, 0);
            gql_jw_double(&nw, r->u.number);
            gql_jw_string(w, nb.data ? nb.data : "", nb.len);
            gql_buf_free(&nb);
            return 0;
        }
        err = "String cannot represent value: ";
        break;
    case GQL_SCALAR_BOOLEAN:
        if (r->kind == GQL_RESULT_BOOLEAN) {
            gql_jw_bool(w, r->u.boolean);
            return 0;
        }
        if (r->kind == GQL_RESULT_INT) {
            gql_jw_bool(w, r->u.integer != 0);
            return 0;
        }
        if (r->kind == GQL_RESULT_FLOAT && isfinite(r->u.number)) {
            gql_jw_bool(w, r->u.number != 0);
            return 0;
        }
        err = "Boolean cannot represent a non boolean value: ";
        break;
    case GQL_SCALAR_ID:
        if (r->kind == GQL_RESULT_STRING) {
            gql_jw_string(w, r->u.string.ptr, r->u.string.len);
            return 0;
        }
        if (r->kind == GQL_RESULT_INT) {
            snprintf(tmp, sizeof tmp, "%lld", (long long)r->u.integer);
            gql_jw_stringz(w, tmp);
            return 0;
        }
        err = "ID cannot represent value: ";
        break;
    default: {
        if (nt->hooks.serialize) {
            const char *m = NULL;
            if (nt->hooks.serialize(w, r, &m, nt->hooks.ud) != ROSTER_E_OK) {
                gql_buf_clear(msg);
                m = m ? m : "invalid value";
                gql_buf_append(msg, m, strlen(m));
                gql_buf_append(msg, "", 1);
                return -1;
            }
            return 0;
        }
        switch (r->kind) {
        case GQL_RESULT_BOOLEAN:
            gql_jw_bool(w, r->u.boolean);
            break;
        case GQL_RESULT_INT:
            gql_jw_int(w, r->u.integer);
            break;
        case GQL_RESULT_FLOAT:
            gql_jw_double(w, r->u.number);
            break;
        case GQL_RESULT_STRING:
            gql_jw_string(w, r->u.string.ptr, r->u.string.len);
            break;
        case GQL_RESULT_RAW_JSON:
            gql_jw_raw(w, r->u.string.ptr, r->u.string.len);
            break;
        case GQL_RESULT_JSON:
            gql_jw_json(w, r->u.json);
            break;
        default:
            gql_jw_null(w);
        }
        return 0;
    }
    }
    gql_buf_append(msg, err, strlen(err));
    inspect_result(msg, r);
    return -1;
}

/* A response key: a GraphQL name, which never needs escaping. */
static inline void name_key(gql_jw *w, gql_str key)
{
    gql_buf *b = w->out;
    if (b->cap - b->len <= (size_t)key.len + 4 && gql_buf_reserve(b, key.len + 4) != 0)
        return;
    if (w->need_comma)
        b->data[b->len++] = ',';
    b->data[b->len++] = '"';
    memcpy(b->data + b->len, key.ptr, key.len);
    b->len += key.len;
    b->data[b->len++] = '"';
    b->data[b->len++] = ':';
    w->need_comma = 0;
}

/* The writer's state before a value, to take the value back when it turns
 * out null (null propagation) or invalid. */
typedef struct wmark {
    size_t len;
    int need_comma;
} wmark;

static inline wmark w_mark(const wctx *w)
{
    return (wmark){w->w.out->len, w->w.need_comma};
}

/* Replaces everything written since m by null. */
static void w_null_since(wctx *w, wmark m)
{
    if (w->w.out->len > m.len)
        w->w.out->len = m.len;
    w->w.need_comma = m.need_comma;
    gql_jw_null(&w->w);
}

static int w_object(wctx *w, objnode *o, const pathel *at);

/* Writes the value of one response position in a single pass: leaves are
 * checked as they are written, and a null reaching a non-null position
 * takes back what its parent wrote (see w_object). Errors are recorded in
 * response order. Returns 1 when the value written is null. */
static int w_value(wctx *w, vnode *vn, const gql_wtype *t, const cfield *cf, const gql_type *pt,
                   const pathel *at)
{
    int nonnull = t->kind == GQL_KIND_NON_NULL;
    const gql_wtype *t2 = nonnull ? t->of : t;
    switch (vn->kind) {
    case VN_ERROR:
        add_error(w, vn->u.err, at);
        gql_jw_null(&w->w);
        return 1;
    case VN_NULL:
        if (nonnull)
            add_error(w,
                      mk_error(w->ex, cf->node->loc, GQL_CODE_INTERNAL,
                               "Cannot return null for non-nullable field %.*s.%.*s.",
                               (int)pt->name.len, pt->name.ptr, (int)cf->def->name.len,
                               cf->def->name.ptr),
                      at);
        gql_jw_null(&w->w);
        return 1;
    case VN_LEAF: {
        wmark m = w_mark(w);
        if (leaf_emit(&w->w, &vn->u.leaf, t2->named, &w->msg) != 0) {
            add_error(w,
                      mk_error(w->ex, cf->node->loc, GQL_CODE_INTERNAL, "%s",
                               w->msg.data ? w->msg.data : "invalid value"),
                      at);
            w_null_since(w, m);
            return 1;
        }
        return 0;
    }
    case VN_LIST: {
        wmark m = w_mark(w);
        const gql_wtype *it = t2->of;
        gql_jw_array_begin(&w->w);
        for (uint32_t i = 0; i < vn->u.list.n; i++) {
            pathel pe = {{NULL, 0}, i, at};
            int null = w_value(w, &vn->u.list.items[i], it, cf, pt, &pe);
            if (null && it->kind == GQL_KIND_NON_NULL) {
                w_null_since(w, m);
                return 1;
            }
        }
        gql_jw_array_end(&w->w);
        return 0;
    }
    case VN_OBJECT:
        return w_object(w, vn->u.obj, at);
    }
    gql_jw_null(&w->w);
    return 1;
}

/* Writes an object's fields in order. A null in a non-null field stops the
 * walk (later fields are neither written nor reported, as in graphql-js)
 * and the object is written as null instead. Returns 1 when null. */
static int w_object(wctx *w, objnode *o, const pathel *at)
{
    const collected *col = o->col;
    wmark m = w_mark(w);
    gql_jw_object_begin(&w->w);
    if (col && o->slots)
        for (uint32_t j = 0; j < col->n; j++) {
            const cfield *cf = &col->f[j];
            name_key(&w->w, cf->key);
            pathel pe = {cf->key, -1, at};
            int null = w_value(w, &o->slots[j].vn, cf->def->type, cf, o->type, &pe);
            if (null && cf->def->type->kind == GQL_KIND_NON_NULL) {
                w_null_since(w, m);
                return 1;
            }
        }
    gql_jw_object_end(&w->w);
    return 0;
}

static void write_field_error(wctx *w, const out_error *oe)
{
    gql_jw *jw = &w->w;
    const field_error *e = oe->e;
    gql_jw_object_begin(jw);
    gql_jw_key(jw, "message", 7);
    gql_jw_string(jw, e->message, e->mlen);
    if (e->loc.line) {
        gql_jw_key(jw, "locations", 9);
        gql_jw_array_begin(jw);
        gql_jw_object_begin(jw);
        gql_jw_key(jw, "line", 4);
        gql_jw_int(jw, e->loc.line);
        gql_jw_key(jw, "column", 6);
        gql_jw_int(jw, e->loc.column);
        gql_jw_object_end(jw);
        gql_jw_array_end(jw);
    }
    if (oe->path) {
        gql_jw_key(jw, "path", 4);
        gql_jw_array_begin(jw);
        for (uint32_t i = 0; i < oe->depth; i++) {
            if (oe->path[i].index >= 0)
                gql_jw_int(jw, oe->path[i].index);
            else
                gql_jw_string(jw, oe->path[i].key.ptr, oe->path[i].key.len);
        }
        gql_jw_array_end(jw);
    }
    gql_jw_key(jw, "extensions", 10);
    gql_jw_object_begin(jw);
    gql_jw_key(jw, "code", 4);
    gql_jw_stringz(jw, e->code ? e->code : GQL_CODE_INTERNAL);
    if (e->ext) {
        const char *k;
        json_t *m;
        json_object_foreach(e->ext, k, m)
        {
            if (strcmp(k, "code") == 0)
                continue;
            gql_jw_keyz(jw, k);
            gql_jw_json(jw, m);
        }
    }
    if (w->ex->ext)
        w->ex->ext(jw, e->code ? e->code : GQL_CODE_INTERNAL, e->message, e->mlen, w->ex->ext_ud);
    gql_jw_object_end(jw);
    gql_jw_object_end(jw);
}

static void write_response(exec *ex, gql_buf *out, gql_response *resp)
{
    wctx w;
    memset(&w, 0, sizeof w);
    w.ex = ex;
    gql_buf_init(&w.msg);
    gql_buf_reserve(out, 2048);
    gql_jw_init(&w.w, out, ex->json_flags);
    gql_jw_object_begin(&w.w);
    gql_jw_key(&w.w, "data", 4);
    resp->data_null = w_object(&w, &ex->root, NULL);
    if (w.n_errs) {
        gql_jw_key(&w.w, "errors", 6);
        gql_jw_array_begin(&w.w);
        for (uint32_t i = 0; i < w.n_errs; i++)
            write_field_error(&w, &w.errs[i]);
        gql_jw_array_end(&w.w);
    }
    gql_jw_object_end(&w.w);
    resp->n_errors = w.n_errs;
    gql_buf_free(&w.msg);
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
    wctx wc;
    memset(&wc, 0, sizeof wc);
    wc.ex = ex;
    gql_jw_init(&wc.w, out, ex->json_flags);
    out_error oe = {&fe, NULL, 0};
    gql_jw_object_begin(&wc.w);
    gql_jw_key(&wc.w, "data", 4);
    gql_jw_null(&wc.w);
    gql_jw_key(&wc.w, "errors", 6);
    gql_jw_array_begin(&wc.w);
    write_field_error(&wc, &oe);
    gql_jw_array_end(&wc.w);
    gql_jw_object_end(&wc.w);
    memset(resp, 0, sizeof *resp);
    resp->data_null = 1;
    resp->n_errors = 1;
    ex->nomem = 0;
}

static void finish(exec *ex)
{
    gql_response resp;
    memset(&resp, 0, sizeof resp);
    gql_buf out;
    gql_buf_init(&out);
    if (!ex->nomem)
        write_response(ex, &out, &resp);
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
    arena.limit = ex->max_memory;
    ex->a = arena;
    if (pthread_mutex_init(&ex->mu, NULL) != 0) {
        roster_arena_free(&arena);
        return ROSTER_E_NOMEM;
    }
    roster_arena_init(&ex->shared, 4096, 0);
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
    int rc = coerce_variables(ex, &errs, p->variables);
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
        gql_jw w;
        gql_jw_init(&w, &out, ex->json_flags);
        field_error fe = {.code = GQL_CODE_BAD_USER_INPUT, .loc = op->loc};
        char msg[96];
        snprintf(msg, sizeof msg, "Schema is not configured to execute %s operation.",
                 names[op->type]);
        fe.message = msg;
        fe.mlen = strlen(msg);
        wctx wc;
        memset(&wc, 0, sizeof wc);
        wc.ex = ex;
        wc.w = w;
        out_error oe = {&fe, NULL, 0};
        gql_jw_object_begin(&wc.w);
        gql_jw_key(&wc.w, "data", 4);
        gql_jw_null(&wc.w);
        gql_jw_key(&wc.w, "errors", 6);
        gql_jw_array_begin(&wc.w);
        write_field_error(&wc, &oe);
        gql_jw_array_end(&wc.w);
        gql_jw_object_end(&wc.w);
        resp.data_null = 1;
        resp.n_errors = 1;
        deliver(ex, &out, &resp);
        return ROSTER_E_OK;
    }
    gql_errors_free(&errs);
    ex->root.type = root;
    ex->root.source = p->root_value;
    const collected *col = collect(ex, root, NULL, 0, op->sel);
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
