#include "gql_introspection.h"

#include <string.h>

#include "error.h"
#include "gql_names.h"

static gql_result str_or_null(gql_str s, int present)
{
    return present ? gql_r_string(s.ptr ? s.ptr : "", s.len) : gql_r_null();
}

static int include_deprecated(const gql_value *args)
{
    const gql_value *v = gql_value_get(args, "includeDeprecated");
    return v && v->kind == GQL_VALUE_BOOLEAN && v->u.boolean;
}

static gql_result *list_alloc(roster_arena *a, size_t n)
{
    return roster_arena_alloc(a, (n ? n : 1) * sizeof(gql_result));
}

static const char *const kind_names[] = {"SCALAR", "OBJECT",       "INTERFACE", "UNION",
                                         "ENUM",   "INPUT_OBJECT", "LIST",      "NON_NULL"};

static int input_values(gql_result *out, const gql_input_field *f, uint32_t n, int incl,
                        roster_arena *a)
{
    gql_result *items = list_alloc(a, n);
    if (items == NULL)
        return ROSTER_E_NOMEM;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (incl || !f[i].deprecated)
            items[k++] = gql_r_object((void *)&f[i]);
    *out = gql_r_list(items, k);
    return ROSTER_E_OK;
}

int gql_introspect(gql_result *out, const gql_schema *s, const gql_field *f, const void *source,
                   const gql_value *args, roster_arena *a)
{
    gql_str n = f->name;
    if (f == s->f_schema) {
        *out = gql_r_object((void *)s);
        return ROSTER_E_OK;
    }
    if (f == s->f_type) {
        const gql_value *nv = gql_value_get(args, "name");
        const gql_type *t = NULL;
        if (nv && nv->kind == GQL_VALUE_STRING)
            t = gql_schema_type(s, nv->u.string.ptr, nv->u.string.len);
        *out = t ? gql_r_object((void *)&t->self) : gql_r_null();
        return ROSTER_E_OK;
    }
    if (f->parent == NULL || !f->parent->introspection)
        return ROSTER_E_NOT_FOUND;
    gql_str pt = f->parent->name;
    if (gql_str_eqz(pt, "__Schema")) {
        if (gql_str_eqz(n, "description")) {
            *out = str_or_null(s->description, s->has_description);
        } else if (gql_str_eqz(n, "types")) {
            gql_result *items = list_alloc(a, s->n_types);
            if (items == NULL)
                return ROSTER_E_NOMEM;
            for (uint32_t i = 0; i < s->n_types; i++)
                items[i] = gql_r_object((void *)&s->types[i]->self);
            *out = gql_r_list(items, s->n_types);
        } else if (gql_str_eqz(n, "queryType")) {
            *out = gql_r_object((void *)&s->query->self);
        } else if (gql_str_eqz(n, "mutationType")) {
            *out = s->mutation ? gql_r_object((void *)&s->mutation->self) : gql_r_null();
        } else if (gql_str_eqz(n, "subscriptionType")) {
            *out = s->subscription ? gql_r_object((void *)&s->subscription->self) : gql_r_null();
        } else if (gql_str_eqz(n, "directives")) {
            gql_result *items = list_alloc(a, s->n_directives);
            if (items == NULL)
                return ROSTER_E_NOMEM;
            for (uint32_t i = 0; i < s->n_directives; i++)
                items[i] = gql_r_object((void *)s->directives[i]);
            *out = gql_r_list(items, s->n_directives);
        } else {
            return ROSTER_E_NOT_FOUND;
        }
        return ROSTER_E_OK;
    }
    if (gql_str_eqz(pt, "__Type")) {
        const gql_wtype *w = source;
        int wrapper = w->kind == GQL_KIND_LIST || w->kind == GQL_KIND_NON_NULL;
        const gql_type *t = w->named;
        if (gql_str_eqz(n, "kind")) {
            const char *k = kind_names[w->kind];
            *out = gql_r_string(k, strlen(k));
        } else if (gql_str_eqz(n, "name")) {
            *out = wrapper ? gql_r_null() : gql_r_string(t->name.ptr, t->name.len);
        } else if (gql_str_eqz(n, "description")) {
            *out = wrapper ? gql_r_null() : str_or_null(t->description, t->has_description);
        } else if (gql_str_eqz(n, "specifiedByURL")) {
            *out = (!wrapper && t->kind == GQL_KIND_SCALAR && t->specified_by.len)
                       ? gql_r_string(t->specified_by.ptr, t->specified_by.len)
                       : gql_r_null();
        } else if (gql_str_eqz(n, "fields")) {
            if (wrapper || (t->kind != GQL_KIND_OBJECT && t->kind != GQL_KIND_INTERFACE)) {
                *out = gql_r_null();
                return ROSTER_E_OK;
            }
            int incl = include_deprecated(args);
            gql_result *items = list_alloc(a, t->n_fields);
            if (items == NULL)
                return ROSTER_E_NOMEM;
            size_t k = 0;
            for (uint32_t i = 0; i < t->n_fields; i++)
                if (incl || !t->fields[i].deprecated)
                    items[k++] = gql_r_object((void *)&t->fields[i]);
            *out = gql_r_list(items, k);
        } else if (gql_str_eqz(n, "interfaces")) {
            *out = (!wrapper && (t->kind == GQL_KIND_OBJECT || t->kind == GQL_KIND_INTERFACE))
                       ? gql_r_list(NULL, 0)
                       : gql_r_null();
        } else if (gql_str_eqz(n, "possibleTypes")) {
            *out = (!wrapper && (t->kind == GQL_KIND_INTERFACE || t->kind == GQL_KIND_UNION))
                       ? gql_r_list(NULL, 0)
                       : gql_r_null();
        } else if (gql_str_eqz(n, "enumValues")) {
            if (wrapper || t->kind != GQL_KIND_ENUM) {
                *out = gql_r_null();
                return ROSTER_E_OK;
            }
            int incl = include_deprecated(args);
            gql_result *items = list_alloc(a, t->n_values);
            if (items == NULL)
                return ROSTER_E_NOMEM;
            size_t k = 0;
            for (uint32_t i = 0; i < t->n_values; i++)
                if (incl || !t->values[i].deprecated)
                    items[k++] = gql_r_object((void *)&t->values[i]);
            *out = gql_r_list(items, k);
        } else if (gql_str_eqz(n, "inputFields")) {
            if (wrapper || t->kind != GQL_KIND_INPUT_OBJECT) {
                *out = gql_r_null();
                return ROSTER_E_OK;
            }
            return input_values(out, t->input_fields, t->n_input_fields, include_deprecated(args),
                                a);
        } else if (gql_str_eqz(n, "ofType")) {
            *out = wrapper ? gql_r_object((void *)w->of) : gql_r_null();
        } else {
            return ROSTER_E_NOT_FOUND;
        }
        return ROSTER_E_OK;
    }
    if (gql_str_eqz(pt, "__Field")) {
        const gql_field *fd = source;
        if (gql_str_eqz(n, "name"))
            *out = gql_r_string(fd->name.ptr, fd->name.len);
        else if (gql_str_eqz(n, "description"))
            *out = str_or_null(fd->description, fd->has_description);
        else if (gql_str_eqz(n, "args"))
            return input_values(out, fd->args, fd->n_args, include_deprecated(args), a);
        else if (gql_str_eqz(n, "type"))
            *out = gql_r_object((void *)fd->type);
        else if (gql_str_eqz(n, "isDeprecated"))
            *out = gql_r_bool(fd->deprecated);
        else if (gql_str_eqz(n, "deprecationReason"))
            *out = str_or_null(fd->deprecation_reason, fd->deprecated);
        else
            return ROSTER_E_NOT_FOUND;
        return ROSTER_E_OK;
    }
    if (gql_str_eqz(pt, "__InputValue")) {
        const gql_input_field *iv = source;
        if (gql_str_eqz(n, "name")) {
            *out = gql_r_string(iv->name.ptr, iv->name.len);
        } else if (gql_str_eqz(n, "description")) {
            *out = str_or_null(iv->description, iv->has_description);
        } else if (gql_str_eqz(n, "type")) {
            *out = gql_r_object((void *)iv->type);
        } else if (gql_str_eqz(n, "defaultValue")) {
            if (iv->default_value == NULL) {
                *out = gql_r_null();
                return ROSTER_E_OK;
            }
            gql_buf b;
            gql_buf_init(&b);
            gql_value_print(&b, iv->default_value);
            char *txt = b.oom ? NULL : roster_arena_strndup(a, b.data ? b.data : "", b.len);
            size_t len = b.len;
            gql_buf_free(&b);
            if (txt == NULL)
                return ROSTER_E_NOMEM;
            *out = gql_r_string(txt, len);
        } else if (gql_str_eqz(n, "isDeprecated")) {
            *out = gql_r_bool(iv->deprecated);
        } else if (gql_str_eqz(n, "deprecationReason")) {
            *out = str_or_null(iv->deprecation_reason, iv->deprecated);
        } else {
            return ROSTER_E_NOT_FOUND;
        }
        return ROSTER_E_OK;
    }
    if (gql_str_eqz(pt, "__EnumValue")) {
        const gql_enum_value *ev = source;
        if (gql_str_eqz(n, "name"))
            *out = gql_r_string(ev->name.ptr, ev->name.len);
        else if (gql_str_eqz(n, "description"))
            *out = str_or_null(ev->description, ev->has_description);
        else if (gql_str_eqz(n, "isDeprecated"))
            *out = gql_r_bool(ev->deprecated);
        else if (gql_str_eqz(n, "deprecationReason"))
            *out = str_or_null(ev->deprecation_reason, ev->deprecated);
        else
            return ROSTER_E_NOT_FOUND;
        return ROSTER_E_OK;
    }
    if (gql_str_eqz(pt, "__Directive")) {
        const gql_directive_def *d = source;
        if (gql_str_eqz(n, "name")) {
            *out = gql_r_string(d->name.ptr, d->name.len);
        } else if (gql_str_eqz(n, "description")) {
            *out = str_or_null(d->description, d->has_description);
        } else if (gql_str_eqz(n, "isRepeatable")) {
            *out = gql_r_bool(d->repeatable);
        } else if (gql_str_eqz(n, "locations")) {
            gql_result *items = list_alloc(a, GQL_DLOC_COUNT);
            if (items == NULL)
                return ROSTER_E_NOMEM;
            size_t k = 0;
            for (uint32_t i = 0; i < d->n_loc_order; i++) {
                const char *ln = gql_dloc_names[d->loc_order[i]];
                items[k++] = gql_r_string(ln, strlen(ln));
            }
            *out = gql_r_list(items, k);
        } else if (gql_str_eqz(n, "args")) {
            return input_values(out, d->args, d->n_args, include_deprecated(args), a);
        } else {
            return ROSTER_E_NOT_FOUND;
        }
        return ROSTER_E_OK;
    }
    return ROSTER_E_NOT_FOUND;
}
