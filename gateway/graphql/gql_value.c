#include "gql_value.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "gql_names.h"

const gql_value *gql_value_get(const gql_value *v, const char *name)
{
    if (v == NULL || v->kind != GQL_VALUE_OBJECT)
        return NULL;
    size_t n = strlen(name);
    for (uint32_t i = 0; i < v->u.object.count; i++) {
        const gql_object_field *f = &v->u.object.fields[i];
        if (gql_str_eqn(f->name, name, n))
            return f->value;
    }
    return NULL;
}

static void write_rec(gql_jw *w, const gql_value *v, int depth)
{
    if (v == NULL || depth > 1000) {
        gql_jw_null(w);
        return;
    }
    switch (v->kind) {
    case GQL_VALUE_BOOLEAN:
        gql_jw_bool(w, v->u.boolean);
        break;
    case GQL_VALUE_INT:
        gql_jw_int(w, v->u.integer);
        break;
    case GQL_VALUE_FLOAT:
        gql_jw_double(w, v->u.number);
        break;
    case GQL_VALUE_STRING:
    case GQL_VALUE_ENUM:
        gql_jw_string(w, v->u.string.ptr, v->u.string.len);
        break;
    case GQL_VALUE_LIST:
        gql_jw_array_begin(w);
        for (uint32_t i = 0; i < v->u.list.count; i++)
            write_rec(w, v->u.list.items[i], depth + 1);
        gql_jw_array_end(w);
        break;
    case GQL_VALUE_OBJECT:
        gql_jw_object_begin(w);
        for (uint32_t i = 0; i < v->u.object.count; i++) {
            gql_jw_key(w, v->u.object.fields[i].name.ptr, v->u.object.fields[i].name.len);
            write_rec(w, v->u.object.fields[i].value, depth + 1);
        }
        gql_jw_object_end(w);
        break;
    default:
        gql_jw_null(w);
    }
}

void gql_value_write_json(gql_jw *w, const gql_value *v)
{
    write_rec(w, v, 0);
}

static void print_string(gql_buf *b, const char *s, size_t len)
{
    gql_buf_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"':
            gql_buf_append(b, "\\\"", 2);
            continue;
        case '\\':
            gql_buf_append(b, "\\\\", 2);
            continue;
        case '\b':
            gql_buf_append(b, "\\b", 2);
            continue;
        case '\f':
            gql_buf_append(b, "\\f", 2);
            continue;
        case '\n':
            gql_buf_append(b, "\\n", 2);
            continue;
        case '\r':
            gql_buf_append(b, "\\r", 2);
            continue;
        case '\t':
            gql_buf_append(b, "\\t", 2);
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04X", c);
            gql_buf_append(b, esc, 6);
        } else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9F) {
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned char)s[i + 1]);
            gql_buf_append(b, esc, 6);
            i++;
        } else {
            gql_buf_append(b, &s[i], 1);
        }
    }
    gql_buf_append(b, "\"", 1);
}

static void print_rec(gql_buf *b, const gql_value *v, int depth)
{
    char tmp[48];
    if (v == NULL || depth > 1000) {
        gql_buf_append(b, "null", 4);
        return;
    }
    switch (v->kind) {
    case GQL_VALUE_NULL:
        gql_buf_append(b, "null", 4);
        break;
    case GQL_VALUE_BOOLEAN:
        if (v->u.boolean)
            gql_buf_append(b, "true", 4);
        else
            gql_buf_append(b, "false", 5);
        break;
    case GQL_VALUE_INT:
    case GQL_VALUE_FLOAT:
        if (v->raw.len) {
            gql_buf_append(b, v->raw.ptr, v->raw.len);
        } else if (v->kind == GQL_VALUE_INT) {
            int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.integer);
            gql_buf_append(b, tmp, (size_t)n);
        } else {
            gql_buf sb;
            gql_jw w;
            gql_buf_init(&sb);
            gql_jw_init(&w, &sb, 0);
            gql_jw_double(&w, v->u.number);
            gql_buf_append(b, sb.data, sb.len);
            gql_buf_free(&sb);
        }
        break;
    case GQL_VALUE_STRING:
        print_string(b, v->u.string.ptr, v->u.string.len);
        break;
    case GQL_VALUE_ENUM:
        gql_buf_append(b, v->u.string.ptr, v->u.string.len);
        break;
    case GQL_VALUE_VARIABLE:
        gql_buf_append(b, "$", 1);
        gql_buf_append(b, v->u.string.ptr, v->u.string.len);
        break;
    case GQL_VALUE_LIST:
        gql_buf_append(b, "[", 1);
        for (uint32_t i = 0; i < v->u.list.count; i++) {
            if (i)
                gql_buf_append(b, ", ", 2);
            print_rec(b, v->u.list.items[i], depth + 1);
        }
        gql_buf_append(b, "]", 1);
        break;
    case GQL_VALUE_OBJECT:
        gql_buf_append(b, "{", 1);
        for (uint32_t i = 0; i < v->u.object.count; i++) {
            if (i)
                gql_buf_append(b, ", ", 2);
            gql_buf_append(b, v->u.object.fields[i].name.ptr, v->u.object.fields[i].name.len);
            gql_buf_append(b, ": ", 2);
            print_rec(b, v->u.object.fields[i].value, depth + 1);
        }
        gql_buf_append(b, "}", 1);
        break;
    }
}

void gql_value_print(gql_buf *b, const gql_value *v)
{
    print_rec(b, v, 0);
}

static int from_json_rec(gql_value **out, const json_t *j, roster_arena *a, int depth)
{
    if (depth > 1000)
        return ROSTER_E_INVALID_ARGUMENT;
    gql_value *v = roster_arena_alloc(a, sizeof *v);
    if (v == NULL)
        return ROSTER_E_NOMEM;
    memset(v, 0, sizeof *v);
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        v->kind = GQL_VALUE_OBJECT;
        size_t n = json_object_size(j);
        v->u.object.fields = roster_arena_alloc(a, (n ? n : 1) * sizeof(gql_object_field));
        if (v->u.object.fields == NULL)
            return ROSTER_E_NOMEM;
        const char *k;
        json_t *m;
        uint32_t i = 0;
        json_object_foreach((json_t *)j, k, m)
        {
            gql_object_field *f = &v->u.object.fields[i++];
            memset(f, 0, sizeof *f);
            size_t kl = strlen(k);
            f->name.ptr = roster_arena_strndup(a, k, kl);
            if (f->name.ptr == NULL)
                return ROSTER_E_NOMEM;
            f->name.len = (uint32_t)kl;
            int rc = from_json_rec(&f->value, m, a, depth + 1);
            if (rc)
                return rc;
        }
        v->u.object.count = i;
        break;
    }
    case JSON_ARRAY: {
        v->kind = GQL_VALUE_LIST;
        size_t n = json_array_size(j);
        v->u.list.items = roster_arena_alloc(a, (n ? n : 1) * sizeof(gql_value *));
        if (v->u.list.items == NULL)
            return ROSTER_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = from_json_rec(&v->u.list.items[i], json_array_get(j, i), a, depth + 1);
            if (rc)
                return rc;
        }
        v->u.list.count = (uint32_t)n;
        break;
    }
    case JSON_STRING: {
        v->kind = GQL_VALUE_STRING;
        size_t n = json_string_length(j);
        v->u.string.ptr = roster_arena_strndup(a, json_string_value(j), n);
        if (v->u.string.ptr == NULL)
            return ROSTER_E_NOMEM;
        v->u.string.len = (uint32_t)n;
        break;
    }
    case JSON_INTEGER:
        v->kind = GQL_VALUE_INT;
        v->u.integer = (int64_t)json_integer_value(j);
        break;
    case JSON_REAL:
        v->kind = GQL_VALUE_FLOAT;
        v->u.number = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = GQL_VALUE_BOOLEAN;
        v->u.boolean = json_is_true(j);
        break;
    default:
        v->kind = GQL_VALUE_NULL;
    }
    *out = v;
    return ROSTER_E_OK;
}

int gql_value_from_json(gql_value **out, const json_t *j, roster_arena *arena)
{
    gql_value *v;
    int rc = from_json_rec(&v, j, arena, 0);
    if (rc)
        return rc;
    *out = v;
    return ROSTER_E_OK;
}
