/* The response: the completed result tree of an execution written as
 * JSON ({"data": ..., "errors": [...]}) in one pass, leaves serialized and
 * checked against their types as they are written, nulls propagated to the
 * nearest nullable position, and the field errors with their paths. The
 * counterpart of graphql-js's completeValue checks (completeLeafValue,
 * handleFieldError) and of its response formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_execute_internal.h"

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
                      gqlx_error(w->ex, cf->node->loc, GQL_CODE_INTERNAL,
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
                      gqlx_error(w->ex, cf->node->loc, GQL_CODE_INTERNAL, "%s",
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

void gqlx_response_write(exec *ex, gql_buf *out, gql_response *resp)
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

void gqlx_response_error(exec *ex, gql_buf *out, gql_response *resp, const field_error *e)
{
    wctx wc;
    memset(&wc, 0, sizeof wc);
    wc.ex = ex;
    gql_jw_init(&wc.w, out, ex->json_flags);
    out_error oe = {e, NULL, 0};
    gql_jw_object_begin(&wc.w);
    gql_jw_key(&wc.w, "data", 4);
    gql_jw_null(&wc.w);
    gql_jw_key(&wc.w, "errors", 6);
    gql_jw_array_begin(&wc.w);
    write_field_error(&wc, &oe);
    gql_jw_array_end(&wc.w);
    gql_jw_object_end(&wc.w);
    resp->data_null = 1;
    resp->n_errors = 1;
}
