/* Values: coercion of the request's variables (JSON) to the operation's
 * variable definitions, of argument literals (with variables substituted)
 * to the arguments of a field, and of default values. The counterpart of
 * graphql-js's execution/values.js (coerceVariableValues, getArgumentValues)
 * and utilities/coerceInputValue.js / valueFromAST.js, with the same
 * messages. Everything produced lives in the execution's arena. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_execute_internal.h"
#include "gql_names.h"
#include "gql_validate.h"

static const gql_value null_value = {.kind = GQL_VALUE_NULL};

const gql_value gqlx_no_args = {.kind = GQL_VALUE_OBJECT};

gql_value *gqlx_var_value(const exec *ex, gql_str name, int *found)
{
    for (uint32_t i = 0; i < ex->op->n_vars; i++)
        if (gql_str_eq(ex->op->vars[i].name, name)) {
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
        gql_value *vv = gqlx_var_value(ex, v->u.string, &found);
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
        gql_value *vv = gqlx_var_value(ex, v->u.string, &found);
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
                if (gql_str_eq(v->u.object.fields[i].name, fd->name)) {
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

int gqlx_coerce_variables(exec *ex, gql_errors *errs, const json_t *vars)
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

void gqlx_coerce_field_args(exec *ex, cfield *cf)
{
    const gql_field *def = cf->def;
    const gql_selection *node = cf->node;
    if (def->n_args == 0) {
        cf->args = (gql_value *)&gqlx_no_args;
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
            if (gql_str_eq(node->args[i].name, ad->name)) {
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
                    cf->arg_err = gqlx_error(
                        ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                        "Argument \"%.*s\" of required type \"%.*s\" was provided the variable "
                        "\"$%.*s\" which was not provided a runtime value.",
                        (int)ad->name.len, ad->name.ptr, (int)tb.len, tb.data ? tb.data : "",
                        (int)arg->value->u.string.len, arg->value->u.string.ptr);
                else
                    cf->arg_err = gqlx_error(
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
                cf->arg_err = gqlx_error(ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                                         "Argument \"%.*s\" of non-null type \"%.*s\" must not be "
                                         "null.",
                                         (int)ad->name.len, ad->name.ptr, (int)tb.len,
                                         tb.data ? tb.data : "");
            } else {
                gql_value_print(&tb, arg->value);
                cf->arg_err = gqlx_error(
                    ex, arg->value->loc, GQL_CODE_BAD_USER_INPUT,
                    "Argument \"%.*s\" has invalid value %.*s.", (int)ad->name.len, ad->name.ptr,
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
