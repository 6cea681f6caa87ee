/* Validation of arguments, values and directives (GraphQL spec October
 * 2021, sections 5.4, 5.6 and 5.7), called by the walk of
 * gql_validate_selections.c at each field, directive, variable default and
 * argument; also records the variable usages inside values for 5.8.3-5.8.5
 * (gql_validate_usage.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gql_validate_internal.h"

static void record_usage(vctx *c, const gql_value *v, const gql_wtype *t, int loc_default)
{
    usage *u = gqlv_push(c, &c->cur->usages, sizeof *u);
    if (u == NULL)
        return;
    u->name = v->u.string;
    u->loc = v->loc;
    u->type = t;
    u->loc_has_default = loc_default;
}

void gqlv_collect_vars(vctx *c, const gql_value *v, const gql_wtype *t)
{
    if (v->kind == GQL_VALUE_VARIABLE) {
        record_usage(c, v, t, 0);
    } else if (v->kind == GQL_VALUE_LIST) {
        for (uint32_t i = 0; i < v->u.list.count; i++)
            gqlv_collect_vars(c, v->u.list.items[i], t);
    } else if (v->kind == GQL_VALUE_OBJECT) {
        for (uint32_t i = 0; i < v->u.object.count; i++)
            gqlv_collect_vars(c, v->u.object.fields[i].value, NULL);
    }
}

static int has_variables(const gql_value *v)
{
    if (v->kind == GQL_VALUE_VARIABLE)
        return 1;
    if (v->kind == GQL_VALUE_LIST) {
        for (uint32_t i = 0; i < v->u.list.count; i++)
            if (has_variables(v->u.list.items[i]))
                return 1;
    } else if (v->kind == GQL_VALUE_OBJECT) {
        for (uint32_t i = 0; i < v->u.object.count; i++)
            if (has_variables(v->u.object.fields[i].value))
                return 1;
    }
    return 0;
}

static int raw_is_integer(const gql_value *v)
{
    for (uint32_t i = 0; i < v->raw.len; i++)
        if (v->raw.ptr[i] == '.' || v->raw.ptr[i] == 'e' || v->raw.ptr[i] == 'E')
            return 0;
    return v->raw.len > 0;
}

/* 5.6.1 Values of Correct Type for a leaf literal (scalar or enum) against
 * named type t; loc_type is the full type at the position, for messages. */
static void check_leaf(vctx *c, const gql_value *v, const gql_type *t, const gql_wtype *loc_type)
{
    if (t->kind == GQL_KIND_ENUM) {
        if (v->kind != GQL_VALUE_ENUM) {
            const char *vs = gqlv_vstr(c, v);
            gql_str in = {vs, (uint32_t)strlen(vs)};
            gqlv_err1(c, v->loc, "Enum \"%.*s\" cannot represent non-enum value: %s.%s",
                      PS(t->name), vs, gqlv_suggest_enum(c, in, t));
        } else if (gql_type_enum_value(t, v->u.string.ptr, v->u.string.len) == NULL) {
            gqlv_err1(c, v->loc, "Value \"%.*s\" does not exist in \"%.*s\" enum.%s",
                      PS(v->u.string), PS(t->name), gqlv_suggest_enum(c, v->u.string, t));
        }
        return;
    }
    switch (t->builtin) {
    case GQL_SCALAR_INT:
        if (v->kind == GQL_VALUE_INT) {
            if (v->u.integer < INT32_MIN || v->u.integer > INT32_MAX)
                gqlv_err1(c, v->loc, "Int cannot represent non 32-bit signed integer value: %.*s",
                          PS(v->raw));
        } else if (v->kind == GQL_VALUE_FLOAT && raw_is_integer(v)) {
            gqlv_err1(c, v->loc, "Int cannot represent non 32-bit signed integer value: %.*s",
                      PS(v->raw));
        } else {
            gqlv_err1(c, v->loc, "Int cannot represent non-integer value: %s", gqlv_vstr(c, v));
        }
        return;
    case GQL_SCALAR_FLOAT:
        if (v->kind != GQL_VALUE_INT && v->kind != GQL_VALUE_FLOAT)
            gqlv_err1(c, v->loc, "Float cannot represent non numeric value: %s", gqlv_vstr(c, v));
        return;
    case GQL_SCALAR_STRING:
        if (v->kind != GQL_VALUE_STRING)
            gqlv_err1(c, v->loc, "String cannot represent a non string value: %s", gqlv_vstr(c, v));
        return;
    case GQL_SCALAR_BOOLEAN:
        if (v->kind != GQL_VALUE_BOOLEAN)
            gqlv_err1(c, v->loc, "Boolean cannot represent a non boolean value: %s",
                      gqlv_vstr(c, v));
        return;
    case GQL_SCALAR_ID:
        if (v->kind != GQL_VALUE_STRING && v->kind != GQL_VALUE_INT &&
            !(v->kind == GQL_VALUE_FLOAT && raw_is_integer(v)))
            gqlv_err1(c, v->loc, "ID cannot represent a non-string and non-integer value: %s",
                      gqlv_vstr(c, v));
        return;
    default:
        break;
    }
    /* Custom scalar: its input hook decides, unless variables are inside
     * (then execution coerces it). */
    if (t->hooks.coerce_input == NULL || has_variables(v))
        return;
    gql_value out;
    const char *msg = NULL;
    if (t->hooks.coerce_input(&out, v, &c->a, &msg, t->hooks.ud) != ROSTER_E_OK)
        gqlv_err1(c, v->loc, "Expected value of type \"%s\", found %s; %s", gqlv_tstr(c, loc_type),
                  gqlv_vstr(c, v), msg ? msg : "invalid value");
}

/* 5.6.3 Input Object Field Uniqueness: the ith field of object literal v
 * is not named by an earlier one. */
static void rule_input_object_field_uniqueness(vctx *c, const gql_value *v, uint32_t i)
{
    const gql_object_field *of = &v->u.object.fields[i];
    for (uint32_t j = 0; j < i; j++)
        if (gql_str_eq(v->u.object.fields[j].name, of->name)) {
            gql_location l[2] = {v->u.object.fields[j].loc, of->loc};
            gqlv_err(c, l, 2, "There can be only one input field named \"%.*s\".", PS(of->name));
            return;
        }
}

/* 5.6.2 Input Object Field Names: the field is defined by input type nt.
 * Returns its definition or NULL. */
static const gql_input_field *rule_input_object_field_names(vctx *c, const gql_object_field *of,
                                                            const gql_type *nt)
{
    const gql_input_field *fd =
        gql_input_field_find(nt->input_fields, nt->n_input_fields, of->name.ptr, of->name.len);
    if (fd == NULL)
        gqlv_err1(c, of->loc, "Field \"%.*s\" is not defined by type \"%.*s\".%s", PS(of->name),
                  PS(nt->name),
                  gqlv_suggest_inputs(c, of->name, nt->input_fields, nt->n_input_fields));
    return fd;
}

/* 5.6.4 Input Object Required Fields: every non-null field of nt without a
 * default is given in object literal v. */
static void rule_input_object_required_fields(vctx *c, const gql_value *v, const gql_type *nt)
{
    for (uint32_t k = 0; k < nt->n_input_fields; k++) {
        const gql_input_field *fd = &nt->input_fields[k];
        if (fd->type->kind != GQL_KIND_NON_NULL || fd->default_value)
            continue;
        int found = 0;
        for (uint32_t i = 0; i < v->u.object.count && !found; i++)
            if (gql_str_eq(v->u.object.fields[i].name, fd->name))
                found = 1;
        if (!found)
            gqlv_err1(c, v->loc, "Field \"%.*s.%.*s\" of required type \"%s\" was not provided.",
                      PS(nt->name), PS(fd->name), gqlv_tstr(c, fd->type));
    }
}

/* 5.6.1 Values of Correct Type, recursively through lists and input
 * objects (with 5.6.2-5.6.4 for the objects); leaves in check_leaf. */
void gqlv_check_value(vctx *c, const gql_value *v, const gql_wtype *t, int loc_default)
{
    if (c->nomem)
        return;
    if (v->kind == GQL_VALUE_VARIABLE) {
        record_usage(c, v, t, loc_default);
        return;
    }
    if (t == NULL) {
        gqlv_collect_vars(c, v, NULL);
        return;
    }
    const gql_wtype *loc_type = t;
    if (t->kind == GQL_KIND_NON_NULL) {
        if (v->kind == GQL_VALUE_NULL) {
            gqlv_err1(c, v->loc, "Expected value of type \"%s\", found null.", gqlv_tstr(c, t));
            return;
        }
        t = t->of;
    }
    if (v->kind == GQL_VALUE_NULL)
        return;
    if (v->kind == GQL_VALUE_LIST) {
        if (t->kind == GQL_KIND_LIST) {
            for (uint32_t i = 0; i < v->u.list.count; i++)
                gqlv_check_value(c, v->u.list.items[i], t->of, 0);
            return;
        }
        /* A list where no list is expected: one error for the whole value. */
        if (t->named->kind == GQL_KIND_INPUT_OBJECT)
            gqlv_err1(c, v->loc, "Expected value of type \"%s\", found %s.", gqlv_tstr(c, loc_type),
                      gqlv_vstr(c, v));
        else
            check_leaf(c, v, t->named, loc_type);
        gqlv_collect_vars(c, v, t);
        return;
    }
    if (t->kind == GQL_KIND_LIST) {
        gqlv_check_value(c, v, t->of, 0);
        return;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_KIND_INPUT_OBJECT) {
        if (v->kind != GQL_VALUE_OBJECT) {
            gqlv_err1(c, v->loc, "Expected value of type \"%s\", found %s.", gqlv_tstr(c, loc_type),
                      gqlv_vstr(c, v));
            return;
        }
        for (uint32_t i = 0; i < v->u.object.count; i++) {
            const gql_object_field *of = &v->u.object.fields[i];
            rule_input_object_field_uniqueness(c, v, i);
            const gql_input_field *fd = rule_input_object_field_names(c, of, nt);
            if (fd)
                gqlv_check_value(c, of->value, fd->type, fd->default_value != NULL);
            else
                gqlv_collect_vars(c, of->value, NULL);
        }
        rule_input_object_required_fields(c, v, nt);
        return;
    }
    if (v->kind == GQL_VALUE_OBJECT)
        gqlv_collect_vars(c, v, NULL);
    check_leaf(c, v, nt, loc_type);
}

/* 5.4.2 Argument Uniqueness: one error per repeated name, at its first
 * occurrence, with the location of every argument of that name. */
static void rule_argument_uniqueness(vctx *c, const gql_argument *args, uint32_t n, uint32_t i)
{
    const gql_argument *a = &args[i];
    int first = 1, dup = 0;
    for (uint32_t j = 0; j < n; j++)
        if (j != i && gql_str_eq(args[j].name, a->name)) {
            if (j < i)
                first = 0;
            dup = 1;
        }
    if (!dup || !first)
        return;
    gql_location *l = gqlv_alloc(c, n * sizeof *l);
    uint32_t k = 0;
    if (l == NULL)
        return;
    for (uint32_t j = 0; j < n; j++)
        if (gql_str_eq(args[j].name, a->name))
            l[k++] = args[j].loc;
    gqlv_err(c, l, k, "There can be only one argument named \"%.*s\".", PS(a->name));
}

/* 5.4.1 Argument Names: the argument is defined by its field or directive
 * (owner_kind "field" or "directive"). Returns its definition or NULL. */
static const gql_input_field *rule_argument_names(vctx *c, const gql_argument *a,
                                                  const gql_input_field *defs, uint32_t n_defs,
                                                  const char *owner_kind, const char *owner_name)
{
    const gql_input_field *d = gql_input_field_find(defs, n_defs, a->name.ptr, a->name.len);
    if (d)
        return d;
    if (owner_kind[0] == 'f')
        gqlv_err1(c, a->loc, "Unknown argument \"%.*s\" on field \"%s\".%s", PS(a->name),
                  owner_name, gqlv_suggest_inputs(c, a->name, defs, n_defs));
    else
        gqlv_err1(c, a->loc, "Unknown argument \"%.*s\" on directive \"@%s\".%s", PS(a->name),
                  owner_name, gqlv_suggest_inputs(c, a->name, defs, n_defs));
    return NULL;
}

/* 5.4.2.1 Required Arguments: every non-null argument without a default is
 * given. */
static void rule_required_arguments(vctx *c, const gql_argument *args, uint32_t n,
                                    const gql_input_field *defs, uint32_t n_defs,
                                    gql_location owner_loc, const char *req_prefix)
{
    for (uint32_t k = 0; k < n_defs; k++) {
        const gql_input_field *d = &defs[k];
        if (d->type->kind != GQL_KIND_NON_NULL || d->default_value)
            continue;
        int found = 0;
        for (uint32_t i = 0; i < n && !found; i++)
            if (gql_str_eq(args[i].name, d->name))
                found = 1;
        if (!found)
            gqlv_err1(c, owner_loc,
                      "%s argument \"%.*s\" of type \"%s\" is required, but it was not provided.",
                      req_prefix, PS(d->name), gqlv_tstr(c, d->type));
    }
}

void gqlv_check_args(vctx *c, const gql_argument *args, uint32_t n, const gql_input_field *defs,
                     uint32_t n_defs, int known_owner, const char *owner_kind,
                     const char *owner_name, gql_location owner_loc, const char *req_prefix)
{
    for (uint32_t i = 0; i < n; i++) {
        const gql_argument *a = &args[i];
        rule_argument_uniqueness(c, args, n, i);
        const gql_input_field *d =
            known_owner ? rule_argument_names(c, a, defs, n_defs, owner_kind, owner_name) : NULL;
        if (d)
            gqlv_check_value(c, a->value, d->type, d->default_value != NULL);
        else
            gqlv_collect_vars(c, a->value, NULL);
    }
    if (known_owner)
        rule_required_arguments(c, args, n, defs, n_defs, owner_loc, req_prefix);
}

/* 5.7.1 Directives Are Defined. Returns the definition or NULL. */
static const gql_directive_def *rule_directives_are_defined(vctx *c, const gql_directive *d)
{
    const gql_directive_def *def = gql_schema_directive(c->s, d->name.ptr, d->name.len);
    if (def == NULL)
        gqlv_err1(c, d->loc, "Unknown directive \"@%.*s\".", PS(d->name));
    return def;
}

/* 5.7.2 Directives Are In Valid Locations. */
static void rule_directives_in_valid_locations(vctx *c, const gql_directive *d,
                                               const gql_directive_def *def, uint32_t location)
{
    if (!(def->locations & location))
        gqlv_err1(c, d->loc, "Directive \"@%.*s\" may not be used on %s.", PS(d->name),
                  gql_dloc_name(location));
}

/* 5.7.3 Directives Are Unique Per Location: the ith directive, if not
 * repeatable, is not used earlier at the same location. */
static void rule_directives_unique_per_location(vctx *c, const gql_directive *dirs, uint32_t i,
                                                const gql_directive_def *def)
{
    const gql_directive *d = &dirs[i];
    if (def->repeatable)
        return;
    for (uint32_t j = 0; j < i; j++)
        if (gql_str_eq(dirs[j].name, d->name)) {
            gql_location l[2] = {dirs[j].loc, d->loc};
            gqlv_err(c, l, 2, "The directive \"@%.*s\" can only be used once at this location.",
                     PS(d->name));
            return;
        }
}

void gqlv_check_directives(vctx *c, const gql_directive *dirs, uint32_t n, uint32_t location)
{
    for (uint32_t i = 0; i < n; i++) {
        const gql_directive *d = &dirs[i];
        char owner[300];
        snprintf(owner, sizeof owner, "%.*s", PS(d->name));
        const gql_directive_def *def = rule_directives_are_defined(c, d);
        if (def) {
            rule_directives_in_valid_locations(c, d, def, location);
            rule_directives_unique_per_location(c, dirs, i, def);
        }
        char prefix[320];
        snprintf(prefix, sizeof prefix, "Directive \"@%.*s\"", PS(d->name));
        gqlv_check_args(c, d->args, d->n_args, def ? def->args : NULL, def ? def->n_args : 0,
                        def != NULL, "directive", owner, d->loc, prefix);
    }
}
