#include "gql_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "gql_introspection_sdl.h"
#include "gql_names.h"

typedef struct builder {
    gql_schema *s;
    gql_errors *errs;
    gql_document *user;
    gql_document *builtin;
    gql_type **all; /* every defined type, user first then built-in */
    uint32_t n_all;
    int failed;
    int nomem;
} builder;

static void *salloc(builder *b, size_t n)
{
    void *p = roster_arena_alloc(&b->s->arena, n ? n : 1);
    if (p == NULL) {
        b->nomem = 1;
        return NULL;
    }
    memset(p, 0, n ? n : 1);
    return p;
}

static void berr(builder *b, gql_location loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void berr(builder *b, gql_location loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gql_errors_vadd(b->errs, GQL_CODE_INTERNAL, &loc, 1, fmt, ap);
    va_end(ap);
    b->failed = 1;
}

static gql_type *find_all(builder *b, gql_str name)
{
    /* Built-in definitions come after user ones, so user types win except
     * for the reserved names (checked when collecting). */
    for (uint32_t i = 0; i < b->n_all; i++)
        if (gql_str_eq(b->all[i]->name, name))
            return b->all[i];
    return NULL;
}

static const gql_wtype *wrap_list(builder *b, const gql_wtype *of)
{
    if (of->list_of_this)
        return of->list_of_this;
    gql_wtype *w = salloc(b, sizeof *w);
    if (w == NULL)
        return NULL;
    w->kind = GQL_KIND_LIST;
    w->of = of;
    w->named = of->named;
    ((gql_wtype *)of)->list_of_this = w;
    return w;
}

static const gql_wtype *wrap_nonnull(builder *b, const gql_wtype *of)
{
    if (of->nonnull_of_this)
        return of->nonnull_of_this;
    gql_wtype *w = salloc(b, sizeof *w);
    if (w == NULL)
        return NULL;
    w->kind = GQL_KIND_NON_NULL;
    w->of = of;
    w->named = of->named;
    ((gql_wtype *)of)->nonnull_of_this = w;
    return w;
}

static const gql_wtype *resolve_ref(builder *b, const gql_type_ref *r)
{
    if (r->kind == GQL_TREF_NAMED) {
        gql_type *t = find_all(b, r->name);
        if (t == NULL) {
            berr(b, r->loc, "Unknown type \"%.*s\".", (int)r->name.len, r->name.ptr);
            return NULL;
        }
        return &t->self;
    }
    const gql_wtype *inner = resolve_ref(b, r->of);
    if (inner == NULL)
        return NULL;
    return r->kind == GQL_TREF_LIST ? wrap_list(b, inner) : wrap_nonnull(b, inner);
}

static gql_str deprecation(const gql_directive *dirs, uint32_t n, int *deprecated)
{
    gql_str reason = {"No longer supported", 19};
    *deprecated = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!gql_str_eqn(dirs[i].name, "deprecated", 10))
            continue;
        *deprecated = 1;
        for (uint32_t j = 0; j < dirs[i].n_args; j++)
            if (gql_str_eqn(dirs[i].args[j].name, "reason", 6) &&
                dirs[i].args[j].value->kind == GQL_VALUE_STRING)
                reason = dirs[i].args[j].value->u.string;
    }
    if (!*deprecated)
        reason.len = 0, reason.ptr = NULL;
    return reason;
}

static int build_input_fields(builder *b, gql_input_field **out, uint32_t *n_out,
                              const gql_input_value_def *defs, uint32_t n, const char *what)
{
    gql_input_field *f = salloc(b, n * sizeof *f);
    if (f == NULL)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const gql_input_value_def *d = &defs[i];
        for (uint32_t j = 0; j < i; j++)
            if (gql_str_eq(defs[j].name, d->name))
                berr(b, d->loc, "%s \"%.*s\" can only be defined once.", what, (int)d->name.len,
                     d->name.ptr);
        f[i].name = d->name;
        f[i].description = d->description;
        f[i].has_description = d->has_description;
        f[i].type = resolve_ref(b, d->type);
        if (f[i].type && !gql_wtype_is_input(f[i].type))
            berr(b, d->loc, "The type of \"%.*s\" must be Input Type.", (int)d->name.len,
                 d->name.ptr);
        f[i].default_value = d->default_value;
        f[i].deprecation_reason = deprecation(d->dirs, d->n_dirs, &f[i].deprecated);
    }
    *out = f;
    *n_out = n;
    return 0;
}

static int build_lookup(builder *b, uint32_t **table, uint32_t *mask,
                        const gql_str *(*name_at)(const void *, uint32_t), const void *arr,
                        uint32_t n)
{
    uint32_t size = 8;
    while (size < n * 2 + 2)
        size *= 2;
    uint32_t *t = salloc(b, size * sizeof *t);
    if (t == NULL)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const gql_str *nm = name_at(arr, i);
        uint32_t h = gql_name_hash(nm->ptr, nm->len) & (size - 1);
        while (t[h])
            h = (h + 1) & (size - 1);
        t[h] = i + 1;
    }
    *table = t;
    *mask = size - 1;
    return 0;
}

static const gql_str *field_name_at(const void *arr, uint32_t i)
{
    return &((const gql_field *)arr)[i].name;
}

static const gql_str *type_name_at(const void *arr, uint32_t i)
{
    return &((gql_type *const *)arr)[i]->name;
}

/* Creates the gql_type shells for the type definitions of doc. */
static void collect_types(builder *b, gql_document *doc, int builtin)
{
    for (uint32_t i = 0; i < doc->n_defs; i++) {
        gql_definition *d = &doc->defs[i];
        if (d->kind == GQL_DEF_OPERATION || d->kind == GQL_DEF_FRAGMENT) {
            berr(b, d->loc, "Schema documents may not contain operations or fragments.");
            continue;
        }
        gql_type_def *td = d->u.type;
        if (td->is_extension) {
            berr(b, d->loc, "Type extensions are not supported.");
            continue;
        }
        if (d->kind == GQL_DEF_SCHEMA || d->kind == GQL_DEF_DIRECTIVE)
            continue;
        if (d->kind == GQL_DEF_INTERFACE || d->kind == GQL_DEF_UNION) {
            berr(b, d->loc, "%s types are not supported (\"%.*s\").",
                 d->kind == GQL_DEF_INTERFACE ? "Interface" : "Union", (int)td->name.len,
                 td->name.ptr);
            continue;
        }
        gql_type *existing = find_all(b, td->name);
        if (existing) {
            if (builtin && existing->kind == GQL_KIND_SCALAR && d->kind == GQL_DEF_SCALAR)
                ; /* the SDL redeclared a standard scalar: the built-in wins below */
            else {
                berr(b, d->loc, "There can be only one type named \"%.*s\".", (int)td->name.len,
                     td->name.ptr);
                continue;
            }
        }
        if (!builtin && td->name.len >= 2 && td->name.ptr[0] == '_' && td->name.ptr[1] == '_') {
            berr(b, d->loc,
                 "Name \"%.*s\" must not begin with \"__\", which is reserved by GraphQL "
                 "introspection.",
                 (int)td->name.len, td->name.ptr);
            continue;
        }
        gql_type *t = salloc(b, sizeof *t);
        if (t == NULL)
            return;
        t->name = td->name;
        t->description = td->description;
        t->has_description = td->has_description;
        switch (d->kind) {
        case GQL_DEF_SCALAR:
            t->kind = GQL_KIND_SCALAR;
            break;
        case GQL_DEF_OBJECT:
            t->kind = GQL_KIND_OBJECT;
            break;
        case GQL_DEF_ENUM:
            t->kind = GQL_KIND_ENUM;
            break;
        default:
            t->kind = GQL_KIND_INPUT_OBJECT;
            break;
        }
        t->self.kind = t->kind;
        t->self.named = t;
        t->introspection = builtin && td->name.len >= 2 && td->name.ptr[0] == '_';
        if (builtin && t->kind == GQL_KIND_SCALAR) {
            static const char *const names[] = {"", "Int", "Float", "String", "Boolean", "ID"};
            for (int k = 1; k <= 5; k++)
                if (gql_str_eqn(t->name, names[k], strlen(names[k])))
                    t->builtin = (uint8_t)k;
            if (existing) {
                /* Replace the user's redeclaration in place. */
                for (uint32_t k = 0; k < b->n_all; k++)
                    if (b->all[k] == existing)
                        b->all[k] = t;
                continue;
            }
        }
        if (!builtin && t->kind == GQL_KIND_SCALAR) {
            for (uint32_t k = 0; k < td->n_dirs; k++)
                if (gql_str_eqn(td->dirs[k].name, "specifiedBy", 11))
                    for (uint32_t j = 0; j < td->dirs[k].n_args; j++)
                        if (td->dirs[k].args[j].value->kind == GQL_VALUE_STRING)
                            t->specified_by = td->dirs[k].args[j].value->u.string;
        }
        b->all[b->n_all++] = t;
        /* remember the definition in the description slot's neighbour */
        t->fields = (gql_field *)(void *)td; /* replaced when fields are built */
    }
}

static void build_type_body(builder *b, gql_type *t)
{
    gql_type_def *td = (gql_type_def *)(void *)t->fields;
    t->fields = NULL;
    if (t->kind == GQL_KIND_OBJECT) {
        if (td->n_fields == 0)
            berr(b, (gql_location){0, 0}, "Type %.*s must define one or more fields.",
                 (int)t->name.len, t->name.ptr);
        t->fields = salloc(b, td->n_fields * sizeof *t->fields);
        if (t->fields == NULL)
            return;
        t->n_fields = td->n_fields;
        for (uint32_t i = 0; i < td->n_fields; i++) {
            gql_field_def_node *fd = &td->fields[i];
            gql_field *f = &t->fields[i];
            for (uint32_t j = 0; j < i; j++)
                if (gql_str_eq(td->fields[j].name, fd->name))
                    berr(b, fd->loc, "Field \"%.*s.%.*s\" can only be defined once.",
                         (int)t->name.len, t->name.ptr, (int)fd->name.len, fd->name.ptr);
            f->name = fd->name;
            f->description = fd->description;
            f->has_description = fd->has_description;
            f->type = resolve_ref(b, fd->type);
            if (f->type && !gql_wtype_is_output(f->type))
                berr(b, fd->loc, "The type of %.*s.%.*s must be Output Type.", (int)t->name.len,
                     t->name.ptr, (int)fd->name.len, fd->name.ptr);
            f->parent = t;
            f->deprecation_reason = deprecation(fd->dirs, fd->n_dirs, &f->deprecated);
            build_input_fields(b, &f->args, &f->n_args, fd->args, fd->n_args, "Argument");
        }
        build_lookup(b, &t->lookup, &t->lookup_mask, field_name_at, t->fields, t->n_fields);
    } else if (t->kind == GQL_KIND_INPUT_OBJECT) {
        if (td->n_input_fields == 0)
            berr(b, (gql_location){0, 0}, "Input Object type %.*s must define one or more fields.",
                 (int)t->name.len, t->name.ptr);
        build_input_fields(b, &t->input_fields, &t->n_input_fields, td->input_fields,
                           td->n_input_fields, "Input field");
    } else if (t->kind == GQL_KIND_ENUM) {
        if (td->n_values == 0)
            berr(b, (gql_location){0, 0}, "Enum type %.*s must define one or more values.",
                 (int)t->name.len, t->name.ptr);
        t->values = salloc(b, td->n_values * sizeof *t->values);
        if (t->values == NULL)
            return;
        t->n_values = td->n_values;
        for (uint32_t i = 0; i < td->n_values; i++) {
            gql_enum_value_def *ed = &td->values[i];
            for (uint32_t j = 0; j < i; j++)
                if (gql_str_eq(td->values[j].name, ed->name))
                    berr(b, ed->loc, "Enum value \"%.*s.%.*s\" can only be defined once.",
                         (int)t->name.len, t->name.ptr, (int)ed->name.len, ed->name.ptr);
            t->values[i].name = ed->name;
            t->values[i].description = ed->description;
            t->values[i].has_description = ed->has_description;
            t->values[i].deprecation_reason =
                deprecation(ed->dirs, ed->n_dirs, &t->values[i].deprecated);
        }
    }
}

static void build_directive(builder *b, gql_type_def *td, gql_location loc)
{
    for (uint32_t i = 0; i < b->s->n_directives; i++)
        if (gql_str_eq(b->s->directives[i]->name, td->name)) {
            berr(b, loc, "There can be only one directive named \"@%.*s\".", (int)td->name.len,
                 td->name.ptr);
            return;
        }
    gql_directive_def *d = salloc(b, sizeof *d);
    if (d == NULL)
        return;
    d->name = td->name;
    d->description = td->description;
    d->has_description = td->has_description;
    d->repeatable = td->repeatable;
    for (uint32_t i = 0; i < td->n_locations; i++)
        for (uint32_t k = 0; k < GQL_DLOC_COUNT; k++)
            if (gql_str_eqz(td->locations[i], gql_dloc_names[k]) && !(d->locations & (1u << k))) {
                d->locations |= 1u << k;
                d->loc_order[d->n_loc_order++] = (uint8_t)k;
            }
    build_input_fields(b, &d->args, &d->n_args, td->input_fields, td->n_input_fields, "Argument");
    b->s->directives[b->s->n_directives++] = d;
}

/* graphql-js's collectReferencedTypes: appends t and what it references. */
static void collect_ref(builder *b, const gql_type *t, uint8_t *seen)
{
    if (seen[t->index])
        return;
    seen[t->index] = 1;
    b->s->types[b->s->n_types++] = (gql_type *)t;
    for (uint32_t i = 0; i < t->n_fields; i++) {
        collect_ref(b, t->fields[i].type->named, seen);
        for (uint32_t j = 0; j < t->fields[i].n_args; j++)
            collect_ref(b, t->fields[i].args[j].type->named, seen);
    }
    for (uint32_t i = 0; i < t->n_input_fields; i++)
        collect_ref(b, t->input_fields[i].type->named, seen);
}

static gql_field *meta_field(builder *b, const char *name, const gql_wtype *type)
{
    gql_field *f = salloc(b, sizeof *f);
    if (f == NULL)
        return NULL;
    f->name.ptr = name;
    f->name.len = (uint32_t)strlen(name);
    f->type = type;
    return f;
}

int gql_schema_build(gql_schema **out, gql_errors *errs, const char *sdl, size_t len)
{
    int rc = ROSTER_E_NOMEM;
    builder b = {0};
    gql_limits lim = {0, 0, 64};
    gql_schema *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    roster_arena_init(&s->arena, 32768, 0);
    b.s = s;
    b.errs = errs;
    rc = gql_parse(&b.user, errs, sdl, len, &lim);
    if (rc)
        goto fail;
    rc = gql_parse(&b.builtin, errs, gql_builtin_sdl, strlen(gql_builtin_sdl), &lim);
    if (rc)
        goto fail;
    rc = ROSTER_E_NOMEM;
    uint32_t cap = b.user->n_defs + b.builtin->n_defs + 1;
    b.all = salloc(&b, cap * sizeof *b.all);
    s->directives = salloc(&b, cap * sizeof *s->directives);
    if (b.nomem)
        goto fail;
    collect_types(&b, b.user, 0);
    collect_types(&b, b.builtin, 1);
    if (b.nomem)
        goto fail;
    for (uint32_t i = 0; i < b.n_all; i++)
        b.all[i]->index = i;
    for (uint32_t i = 0; i < b.n_all && !b.nomem; i++)
        build_type_body(&b, b.all[i]);
    /* Directives: the schema's own, then the standard ones it did not declare. */
    for (int pass = 0; pass < 2; pass++) {
        gql_document *doc = pass ? b.builtin : b.user;
        for (uint32_t i = 0; i < doc->n_defs; i++)
            if (doc->defs[i].kind == GQL_DEF_DIRECTIVE) {
                if (pass && gql_schema_directive(s, doc->defs[i].u.type->name.ptr,
                                                 doc->defs[i].u.type->name.len))
                    continue;
                build_directive(&b, doc->defs[i].u.type, doc->defs[i].loc);
            }
    }
    /* graphql-js orders include, skip, deprecated, specifiedBy. */
    /* Root operation types. */
    const gql_type_def *schema_def = NULL;
    for (uint32_t i = 0; i < b.user->n_defs; i++)
        if (b.user->defs[i].kind == GQL_DEF_SCHEMA) {
            if (schema_def)
                berr(&b, b.user->defs[i].loc, "Must provide only one schema definition.");
            schema_def = b.user->defs[i].u.type;
        }
    if (schema_def) {
        s->description = schema_def->description;
        s->has_description = schema_def->has_description;
        for (uint32_t i = 0; i < schema_def->n_roots; i++) {
            const gql_root_op_def *r = &schema_def->roots[i];
            gql_type *t = find_all(&b, r->type_name);
            if (t == NULL || t->kind != GQL_KIND_OBJECT) {
                berr(&b, r->loc, "Root type \"%.*s\" must be an object type.",
                     (int)r->type_name.len, r->type_name.ptr);
                continue;
            }
            if (r->op == GQL_OP_QUERY)
                s->query = t;
            else if (r->op == GQL_OP_MUTATION)
                s->mutation = t;
            else
                s->subscription = t;
        }
    } else {
        gql_str q = {"Query", 5}, m = {"Mutation", 8}, su = {"Subscription", 12};
        gql_type *t;
        if ((t = find_all(&b, q)) && t->kind == GQL_KIND_OBJECT)
            s->query = t;
        if ((t = find_all(&b, m)) && t->kind == GQL_KIND_OBJECT)
            s->mutation = t;
        if ((t = find_all(&b, su)) && t->kind == GQL_KIND_OBJECT)
            s->subscription = t;
    }
    if (s->query == NULL && !b.failed)
        berr(&b, (gql_location){0, 0}, "Query root type must be provided.");
    if (s->subscription && !b.failed)
        berr(&b, (gql_location){0, 0}, "Subscriptions are not supported.");
    if (b.failed) {
        rc = b.nomem ? ROSTER_E_NOMEM : ROSTER_E_INVALID_ARGUMENT;
        goto fail;
    }
    if (b.nomem)
        goto fail;
    /* The type list in graphql-js's order: the SDL's types (each followed by
     * the standard scalars it first references), then the roots', the
     * directives' and the introspection types' references. */
    s->types = salloc(&b, b.n_all * sizeof *s->types);
    uint8_t *seen = calloc(b.n_all ? b.n_all : 1, 1);
    if (s->types == NULL || seen == NULL) {
        free(seen);
        goto fail;
    }
    uint32_t n_user = 0;
    for (uint32_t i = 0; i < b.n_all; i++)
        if (b.all[i]->builtin == 0 && !b.all[i]->introspection)
            n_user++;
    for (uint32_t i = 0; i < b.n_all; i++)
        if (b.all[i]->builtin == 0 && !b.all[i]->introspection)
            seen[i] = 1;
    for (uint32_t i = 0; i < b.n_all; i++) {
        gql_type *t = b.all[i];
        if (t->builtin || t->introspection)
            continue;
        seen[i] = 0;
        collect_ref(&b, t, seen);
    }
    for (uint32_t i = 0; i < s->n_directives; i++)
        for (uint32_t j = 0; j < s->directives[i]->n_args; j++)
            collect_ref(&b, s->directives[i]->args[j].type->named, seen);
    gql_type *schema_t = find_all(&b, (gql_str){"__Schema", 8});
    collect_ref(&b, schema_t, seen);
    free(seen);
    (void)n_user;
    for (uint32_t i = 0; i < s->n_types; i++)
        s->types[i]->index = i;
    if (build_lookup(&b, &s->lookup, &s->lookup_mask, type_name_at, s->types, s->n_types))
        goto fail;
    /* Dense field ids, meta fields. */
    uint32_t id = 0;
    for (uint32_t i = 0; i < s->n_types; i++)
        for (uint32_t j = 0; j < s->types[i]->n_fields; j++)
            s->types[i]->fields[j].id = id++;
    gql_type *string_t = find_all(&b, (gql_str){"String", 6});
    gql_type *type_t = find_all(&b, (gql_str){"__Type", 6});
    gql_field *tn = meta_field(&b, "__typename", wrap_nonnull(&b, &string_t->self));
    gql_field *sc = meta_field(&b, "__schema", wrap_nonnull(&b, &schema_t->self));
    gql_field *ty = meta_field(&b, "__type", &type_t->self);
    if (b.nomem || tn == NULL || sc == NULL || ty == NULL)
        goto fail;
    tn->description.ptr = "The name of the current Object type at runtime.";
    tn->description.len = (uint32_t)strlen(tn->description.ptr);
    tn->has_description = 1;
    sc->description.ptr = "Access the current type schema of this server.";
    sc->description.len = (uint32_t)strlen(sc->description.ptr);
    sc->has_description = 1;
    ty->description.ptr = "Request the type information of a single type.";
    ty->description.len = (uint32_t)strlen(ty->description.ptr);
    ty->has_description = 1;
    ty->args = salloc(&b, sizeof *ty->args);
    if (ty->args == NULL)
        goto fail;
    ty->n_args = 1;
    ty->args[0].name.ptr = "name";
    ty->args[0].name.len = 4;
    ty->args[0].type = wrap_nonnull(&b, &string_t->self);
    tn->id = id++;
    sc->id = id++;
    ty->id = id++;
    tn->parent = NULL;
    sc->parent = s->query;
    ty->parent = s->query;
    s->f_typename = tn;
    s->f_schema = sc;
    s->f_type = ty;
    s->n_fields = id;
    if (b.nomem)
        goto fail;
    /* Type names and descriptions point into both documents. */
    s->sdl = b.user;
    s->builtin_sdl = b.builtin;
    *out = s;
    return ROSTER_E_OK;
fail:
    gql_document_free(b.user);
    gql_document_free(b.builtin);
    roster_arena_free(&s->arena);
    free(s);
    return rc;
}

void gql_schema_free(gql_schema *s)
{
    if (s == NULL)
        return;
    gql_document_free(s->sdl);
    gql_document_free(s->builtin_sdl);
    roster_arena_free(&s->arena);
    free(s);
}

const gql_type *gql_schema_type(const gql_schema *s, const char *name, size_t len)
{
    if (s->lookup == NULL)
        return NULL;
    uint32_t h = gql_name_hash(name, len) & s->lookup_mask;
    while (s->lookup[h]) {
        const gql_type *t = s->types[s->lookup[h] - 1];
        if (gql_str_eqn(t->name, name, len))
            return t;
        h = (h + 1) & s->lookup_mask;
    }
    return NULL;
}

const gql_field *gql_type_field(const gql_type *t, const char *name, size_t len)
{
    if (t->lookup == NULL)
        return NULL;
    uint32_t h = gql_name_hash(name, len) & t->lookup_mask;
    while (t->lookup[h]) {
        const gql_field *f = &t->fields[t->lookup[h] - 1];
        if (gql_str_eqn(f->name, name, len))
            return f;
        h = (h + 1) & t->lookup_mask;
    }
    return NULL;
}

const gql_input_field *gql_input_field_find(const gql_input_field *f, uint32_t n, const char *name,
                                            size_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (gql_str_eqn(f[i].name, name, len))
            return &f[i];
    return NULL;
}

const gql_enum_value *gql_type_enum_value(const gql_type *t, const char *name, size_t len)
{
    for (uint32_t i = 0; i < t->n_values; i++)
        if (gql_str_eqn(t->values[i].name, name, len))
            return &t->values[i];
    return NULL;
}

const gql_directive_def *gql_schema_directive(const gql_schema *s, const char *name, size_t len)
{
    for (uint32_t i = 0; i < s->n_directives; i++)
        if (gql_str_eqn(s->directives[i]->name, name, len))
            return s->directives[i];
    return NULL;
}

void gql_wtype_print(gql_buf *b, const gql_wtype *t)
{
    if (t->kind == GQL_KIND_LIST) {
        gql_buf_append(b, "[", 1);
        gql_wtype_print(b, t->of);
        gql_buf_append(b, "]", 1);
    } else if (t->kind == GQL_KIND_NON_NULL) {
        gql_wtype_print(b, t->of);
        gql_buf_append(b, "!", 1);
    } else {
        gql_buf_append(b, t->named->name.ptr, t->named->name.len);
    }
}

int gql_wtype_is_input(const gql_wtype *t)
{
    uint8_t k = t->named->kind;
    return k == GQL_KIND_SCALAR || k == GQL_KIND_ENUM || k == GQL_KIND_INPUT_OBJECT;
}

int gql_wtype_is_output(const gql_wtype *t)
{
    uint8_t k = t->named->kind;
    return k != GQL_KIND_INPUT_OBJECT;
}

int gql_schema_set_scalar(gql_schema *s, const char *name, const gql_scalar_hooks *hooks)
{
    gql_type *t = (gql_type *)gql_schema_type(s, name, strlen(name));
    if (t == NULL || t->kind != GQL_KIND_SCALAR || t->builtin)
        return ROSTER_E_NOT_FOUND;
    t->hooks = *hooks;
    return ROSTER_E_OK;
}

/* --- Standard custom scalars. */

static const char *scalar_msg(roster_arena *a, const char *prefix, const gql_value *in)
{
    gql_buf b;
    gql_buf_init(&b);
    gql_buf_append(&b, prefix, strlen(prefix));
    gql_value_print(&b, in);
    const char *m = NULL;
    if (gql_buf_status(&b) == ROSTER_E_OK)
        m = roster_arena_strndup(a, b.data, b.len);
    gql_buf_free(&b);
    return m ? m : prefix;
}

static int date_in(gql_value *out, const gql_value *in, roster_arena *arena, const char **message,
                   void *ud)
{
    (void)ud;
    int64_t ms;
    if (in->kind != GQL_VALUE_STRING) {
        *message = scalar_msg(arena, "Date cannot represent a non string value: ", in);
        return ROSTER_E_INVALID_ARGUMENT;
    }
    if (roster_time_parse_iso(&ms, in->u.string.ptr, in->u.string.len) != ROSTER_E_OK) {
        *message = scalar_msg(arena,
                              "Date must be an ISO-8601 timestamp such as "
                              "2026-11-27T04:24:50.123Z, got: ",
                              in);
        return ROSTER_E_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    out->kind = GQL_VALUE_INT;
    out->u.integer = ms;
    return ROSTER_E_OK;
}

static int date_out(gql_jw *w, const gql_result *in, const char **message, void *ud)
{
    (void)ud;
    char buf[32];
    int64_t ms;
    if (in->kind == GQL_RESULT_INT) {
        ms = in->u.integer;
    } else if (in->kind == GQL_RESULT_STRING) {
        const char *t = in->u.string.ptr;
        size_t len = in->u.string.len;
        if (roster_time_parse_iso(&ms, t, len) != ROSTER_E_OK) {
            *message = "Date cannot represent an invalid date-time string.";
            return ROSTER_E_INVALID_ARGUMENT;
        }
        /* Already in the output form (YYYY-MM-DDTHH:MM:SS.mmmZ, which the
         * parse has checked field by field): written as it is. */
        if (len == 24 && t[10] == 'T' && t[19] == '.' && t[23] == 'Z') {
            gql_jw_string(w, t, len);
            return ROSTER_E_OK;
        }
    } else {
        *message = "Date cannot represent a value that is not a timestamp.";
        return ROSTER_E_INVALID_ARGUMENT;
    }
    size_t n = roster_time_format_iso(buf, sizeof buf, ms);
    if (n == 0) {
        *message = "Date cannot represent a timestamp outside years 0000 to 9999.";
        return ROSTER_E_INVALID_ARGUMENT;
    }
    gql_jw_string(w, buf, n);
    return ROSTER_E_OK;
}

static int json_object_in(gql_value *out, const gql_value *in, roster_arena *arena,
                          const char **message, void *ud)
{
    (void)ud;
    if (in->kind != GQL_VALUE_OBJECT) {
        *message = scalar_msg(arena, "JsonObject cannot represent a non-object value: ", in);
        return ROSTER_E_INVALID_ARGUMENT;
    }
    *out = *in;
    return ROSTER_E_OK;
}

static int json_object_out(gql_jw *w, const gql_result *in, const char **message, void *ud)
{
    (void)ud;
    if (in->kind == GQL_RESULT_RAW_JSON) {
        size_t i = 0;
        while (i < in->u.string.len && (in->u.string.ptr[i] == ' ' || in->u.string.ptr[i] == '\n' ||
                                        in->u.string.ptr[i] == '\t' || in->u.string.ptr[i] == '\r'))
            i++;
        if (i < in->u.string.len && in->u.string.ptr[i] == '{') {
            gql_jw_raw(w, in->u.string.ptr, in->u.string.len);
            return ROSTER_E_OK;
        }
    } else if (in->kind == GQL_RESULT_JSON && json_is_object(in->u.json)) {
        gql_jw_json(w, in->u.json);
        return ROSTER_E_OK;
    }
    *message = "JsonObject cannot represent a non-object value.";
    return ROSTER_E_INVALID_ARGUMENT;
}

/* JsonValue: any JSON value in (kept as given), any out. */
static int json_value_in(gql_value *out, const gql_value *in, roster_arena *arena,
                         const char **message, void *ud)
{
    (void)arena;
    (void)message;
    (void)ud;
    *out = *in;
    return ROSTER_E_OK;
}

static int json_value_out(gql_jw *w, const gql_result *in, const char **message, void *ud)
{
    (void)ud;
    if (in->kind == GQL_RESULT_RAW_JSON) {
        gql_jw_raw(w, in->u.string.ptr, in->u.string.len);
        return ROSTER_E_OK;
    }
    if (in->kind == GQL_RESULT_JSON) {
        gql_jw_json(w, in->u.json);
        return ROSTER_E_OK;
    }
    *message = "JsonValue cannot represent this value.";
    return ROSTER_E_INVALID_ARGUMENT;
}

int gql_schema_use_standard_scalars(gql_schema *s)
{
    gql_scalar_hooks date = {date_in, date_out, NULL};
    gql_scalar_hooks obj = {json_object_in, json_object_out, NULL};
    gql_scalar_hooks any = {json_value_in, json_value_out, NULL};
    int rc1 = gql_schema_set_scalar(s, "Date", &date);
    int rc2 = gql_schema_set_scalar(s, "JsonObject", &obj);
    int rc3 = gql_schema_set_scalar(s, "JsonValue", &any);
    (void)rc1;
    (void)rc2;
    (void)rc3;
    return ROSTER_E_OK;
}
