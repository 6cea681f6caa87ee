/* The served GraphQL schema (gateway/schema.graphql) against roster.proto
 * and the data model (src/model/model.h): every field, argument and enum
 * value of one has its counterpart in the other, joined by name as the
 * gateway's translation joins them (translate.h), with the differences
 * listed once in `exceptions` below, each with its reason. Then the
 * translation itself: arguments become the expected request messages
 * (byte for byte), errors read as before, replies show as the schema says. */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graphql.h"
#include "model.h"
#include "resolvers.h"
#include "schema_sdl.h"
#include "translate.h"

static gql_schema *schema;

static void setup(void)
{
    gql_errors e;
    gql_errors_init(&e);
    ck_assert_int_eq(gql_schema_build(&schema, &e, gw_schema_sdl, gw_schema_sdl_len), ROSTER_E_OK);
    ck_assert_int_eq(gql_schema_use_standard_scalars(schema), ROSTER_E_OK);
    gql_errors_free(&e);
}

static void teardown(void)
{
    gql_schema_free(schema);
    schema = NULL;
}

/* ------------------------------------------------------------ exceptions */

/* Where the schema and the wire contract differ on purpose. side 'g': a
 * GraphQL field/argument of `where` with no protobuf field of its name
 * (`other`: the protobuf field it stands for, if any); side 'p': a
 * protobuf field of message `where` no GraphQL field fills. "*" matches
 * any container. */
typedef struct exception {
    char side;
    const char *where;
    const char *name;
    const char *other;
    const char *reason;
} exception;

static const exception exceptions[] = {
    {'g', "UserModel", "synced", NULL, "ROQ compatibility: always true, never stored"},
    {'g', "UserModel", "tenant", NULL, "a batched BatchGetTenants lookup of tenantId"},
    {'g', "TenantModel", "users", NULL, "a UsersCountModel over the tenant's user_count"},
    {'p', "Tenant", "user_count", NULL, "shown as TenantModel.users.totalCount"},
    {'g', "UserPageModel", "data", "users", "a page's records are `data` (ROQ's name)"},
    {'g', "TenantPageModel", "data", "tenants", "a page's records are `data` (ROQ's name)"},
    {'p', "*", "equal_to_null", NULL, "set by `equalTo: null` (IS NULL)"},
    {'p', "*", "not_equal_to_null", NULL, "set by `notEqualTo: null` (IS NOT NULL)"},
    {'p', "UpdateUserRequest", "clear", NULL, "UserUpdateDto fields given as null"},
    {'p', "UpdateTenantRequest", "clear_reference", NULL, "set by `reference: null`"},
    {'p', "UpdateUserRequest", "id", NULL, "updateUser's own `id` argument"},
    {'p', "UpdateTenantRequest", "id", NULL, "updateTenant's own `id` argument"},
    {'p', "CreateTenantRequest", "is_default", NULL,
     "the ROQ schema cannot set the default tenant; rosterctl does"},
    {'p', "UpdateTenantRequest", "is_default", NULL,
     "the ROQ schema cannot set the default tenant; rosterctl does"},
    {'p', "*", "field_mask", NULL, "computed from the selection set (gateway/mask.c)"},
    {'p', "GetTenantRequest", "include_user_count", NULL,
     "set when the selection asks for TenantModel.users"},
    {'p', "ListTenantsRequest", "include_user_count", NULL,
     "page items count users through one BatchGetTenants per level"},
    {'g', "createUser", "user", NULL, "spread: its fields are CreateUserRequest's"},
    {'g', "updateUser", "user", NULL, "spread: its fields are UpdateUserRequest's"},
    {'g', "createTenant", "tenant", NULL, "spread: its fields are CreateTenantRequest's"},
    {'g', "updateTenant", "tenant", NULL, "spread: its fields are UpdateTenantRequest's"},
    {'t', "UsersCountModel", NULL, NULL, "TenantModel.users: the tenant seen as its user count"},
};

static const exception *exception_for(char side, const char *where, const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof exceptions / sizeof exceptions[0]; i++) {
        const exception *x = &exceptions[i];
        if (x->side == side && (strcmp(x->where, "*") == 0 || strcmp(x->where, where) == 0) &&
            (x->name == NULL ? len == 0
                             : strlen(x->name) == len && memcmp(x->name, name, len) == 0))
            return x;
    }
    return NULL;
}

/* Every mismatch found, reported together. */
static char problems[16384];
static size_t n_problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void problem(const char *fmt, ...)
{
    size_t len = strlen(problems);
    va_list ap;
    va_start(ap, fmt);
    if (len + 2 < sizeof problems) {
        problems[len++] = '\n';
        vsnprintf(problems + len, sizeof problems - len, fmt, ap);
    }
    va_end(ap);
    n_problems++;
}

/* ------------------------------------------------------------ joins */

static const gql_type *type_named(const char *name)
{
    const gql_type *t = gql_schema_type(schema, name, strlen(name));
    if (t == NULL)
        problem("the schema has no type %s", name);
    return t;
}

static const gql_wtype *nullable_of(const gql_wtype *t)
{
    return t->kind == GQL_KIND_NON_NULL ? t->of : t;
}

static bool str_is(gql_str s, const char *z)
{
    return s.len == strlen(z) && memcmp(s.ptr, z, s.len) == 0;
}

/* Whether GraphQL type t can carry protobuf field pb. */
static bool compatible(const gql_wtype *t, const ProtobufCFieldDescriptor *pb)
{
    t = nullable_of(t);
    bool repeated = pb->label == PROTOBUF_C_LABEL_REPEATED;
    if (t->kind == GQL_KIND_LIST) {
        if (repeated)
            return pb->type != PROTOBUF_C_TYPE_MESSAGE ||
                   nullable_of(t->of)->named->kind == GQL_KIND_OBJECT ||
                   nullable_of(t->of)->named->kind == GQL_KIND_INPUT_OBJECT;
        /* A list in a wrapper message (StringList). */
        const ProtobufCMessageDescriptor *d =
            pb->type == PROTOBUF_C_TYPE_MESSAGE ? pb->descriptor : NULL;
        return d && d->n_fields == 1 && d->fields[0].label == PROTOBUF_C_LABEL_REPEATED;
    }
    if (repeated)
        return false;
    const gql_type *n = t->named;
    switch (n->kind) {
    case GQL_KIND_OBJECT:
    case GQL_KIND_INPUT_OBJECT:
        return pb->type == PROTOBUF_C_TYPE_MESSAGE;
    case GQL_KIND_ENUM:
        return pb->type == PROTOBUF_C_TYPE_ENUM;
    case GQL_KIND_SCALAR:
        switch (n->builtin) {
        case GQL_SCALAR_STRING:
        case GQL_SCALAR_ID:
            return pb->type == PROTOBUF_C_TYPE_STRING;
        case GQL_SCALAR_BOOLEAN:
            return pb->type == PROTOBUF_C_TYPE_BOOL;
        case GQL_SCALAR_INT:
            return pb->type == PROTOBUF_C_TYPE_INT32 || pb->type == PROTOBUF_C_TYPE_INT64;
        case GQL_SCALAR_CUSTOM:
            if (str_is(n->name, "Date"))
                return pb->type == PROTOBUF_C_TYPE_INT64;
            if (str_is(n->name, "JsonObject") || str_is(n->name, "JsonValue"))
                return pb->type == PROTOBUF_C_TYPE_STRING; /* JSON text */
        }
    }
    return false;
}

/* One GraphQL field (or argument) of `where` named name: its protobuf
 * field in d, reporting it when missing and not excepted. */
static void join_gql(const char *where, gql_str name, const gql_wtype *type,
                     const ProtobufCMessageDescriptor *d)
{
    char snake[128];
    model_snake_name(snake, sizeof snake, name.ptr, name.len);
    const exception *x = exception_for('g', where, name.ptr, name.len);
    if (x && x->other)
        snprintf(snake, sizeof snake, "%s", x->other);
    else if (x)
        return;
    const ProtobufCFieldDescriptor *pb = protobuf_c_message_descriptor_get_field_by_name(d, snake);
    if (pb == NULL) {
        problem("%s.%.*s has no protobuf field %s.%s", where, (int)name.len, name.ptr,
                d->short_name, snake);
        return;
    }
    if (!compatible(type, pb))
        problem("%s.%.*s cannot carry %s.%s", where, (int)name.len, name.ptr, d->short_name,
                pb->name);
}

/* A GraphQL name of the protobuf field pb among `names` (n entries). */
static bool has_gql_name(const gql_str *names, size_t n, const char *where,
                         const ProtobufCFieldDescriptor *pb)
{
    for (size_t i = 0; i < n; i++) {
        const exception *x = exception_for('g', where, names[i].ptr, names[i].len);
        if (x && x->other ? strcmp(x->other, pb->name) == 0
                          : model_name_eq(pb->name, names[i].ptr, names[i].len))
            return true;
    }
    return false;
}

/* Every protobuf field of d has a GraphQL name among names, or an
 * exception. */
static void join_pb(const char *where, const gql_str *names, size_t n,
                    const ProtobufCMessageDescriptor *d)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *pb = &d->fields[i];
        if (has_gql_name(names, n, where, pb) ||
            exception_for('p', d->short_name, pb->name, strlen(pb->name)))
            continue;
        problem("%s.%s has no field in %s", d->short_name, pb->name, where);
    }
}

static void pair_object(const char *type, const ProtobufCMessageDescriptor *d)
{
    const gql_type *t = type_named(type);
    if (t == NULL)
        return;
    gql_str names[64];
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_fields && n < 64; i++) {
        join_gql(type, t->fields[i].name, t->fields[i].type, d);
        names[n++] = t->fields[i].name;
    }
    join_pb(type, names, n, d);
}

static void pair_input(const char *type, const ProtobufCMessageDescriptor *d)
{
    const gql_type *t = type_named(type);
    if (t == NULL)
        return;
    gql_str names[64];
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_input_fields && n < 64; i++) {
        join_gql(type, t->input_fields[i].name, t->input_fields[i].type, d);
        names[n++] = t->input_fields[i].name;
    }
    join_pb(type, names, n, d);
}

/* A root field's arguments against its request; spread arguments (see the
 * exceptions) contribute their input object's fields. */
static void pair_root(const gql_type *root, const char *field, const ProtobufCMessageDescriptor *d)
{
    const gql_field *f = gql_type_field(root, field, strlen(field));
    if (f == NULL) {
        problem("the schema has no root field %s", field);
        return;
    }
    gql_str names[64];
    size_t n = 0;
    for (uint32_t i = 0; i < f->n_args && n < 64; i++) {
        const gql_input_field *a = &f->args[i];
        if (exception_for('g', field, a->name.ptr, a->name.len)) {
            const gql_type *in = a->type->named;
            for (uint32_t j = 0; j < in->n_input_fields && n < 64; j++) {
                join_gql(field, in->input_fields[j].name, in->input_fields[j].type, d);
                names[n++] = in->input_fields[j].name;
            }
            continue;
        }
        join_gql(field, a->name, a->type, d);
        names[n++] = a->name;
    }
    join_pb(field, names, n, d);
}

/* Every value of GraphQL enum `type` is a value of e (either spelling) and
 * every value of e but UNSPECIFIED has a GraphQL value. */
static void pair_enum(const char *type, const ProtobufCEnumDescriptor *e)
{
    const gql_type *t = type_named(type);
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->n_values; i++) {
        gql_str v = t->values[i].name;
        if (model_enum_value(e, v.ptr, v.len) == NULL)
            problem("%s.%.*s is no value of %s", type, (int)v.len, v.ptr, e->short_name);
    }
    for (unsigned i = 0; i < e->n_values; i++) {
        if (e->values[i].value == 0)
            continue;
        bool found = false;
        for (uint32_t j = 0; j < t->n_values && !found; j++)
            found =
                model_enum_value(e, t->values[j].name.ptr, t->values[j].name.len) == &e->values[i];
        if (!found)
            problem("%s has no value for %s", type, e->values[i].name);
    }
}

/* The model's entries against the record's GraphQL type and message. */
static void pair_model(const model_record *r)
{
    const gql_type *t = type_named(r->gql_type);
    if (t == NULL)
        return;
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *f = &r->fields[i];
        if (model_pb_field(r, f) == NULL)
            problem("model %s.%s has no protobuf field", r->name, f->name);
        if (gql_type_field(t, f->name, strlen(f->name)) == NULL)
            problem("model %s.%s is not a field of %s", r->name, f->name, r->gql_type);
    }
    for (uint32_t i = 0; i < t->n_fields; i++) {
        gql_str n = t->fields[i].name;
        if (model_field_named(r, n.ptr, n.len) == NULL &&
            !exception_for('g', r->gql_type, n.ptr, n.len))
            problem("%s.%.*s is not in the model", r->gql_type, (int)n.len, n.ptr);
    }
    for (unsigned i = 0; i < r->pb->n_fields; i++) {
        const char *pb = r->pb->fields[i].name;
        char camel[128];
        size_t len = model_camel_name(camel, sizeof camel, pb);
        if (model_field_named(r, camel, len) == NULL &&
            !exception_for('p', r->pb->short_name, pb, strlen(pb)))
            problem("%s.%s is not in the model", r->pb->short_name, pb);
    }
}

/* The pairs; every named type of the schema must be in one (or excepted). */
static const struct {
    const char *type;
    const ProtobufCMessageDescriptor *msg;
    const ProtobufCEnumDescriptor *e;
    bool output;
} pairs[] = {
    {"UserModel", &roster__v1__user__descriptor, NULL, true},
    {"TenantModel", &roster__v1__tenant__descriptor, NULL, true},
    {"UserPageModel", &roster__v1__list_users_response__descriptor, NULL, true},
    {"TenantPageModel", &roster__v1__list_tenants_response__descriptor, NULL, true},
    {"PageInfo", &roster__v1__page_info__descriptor, NULL, true},
    {"CustomDataFilterArgType", &roster__v1__custom_data_condition__descriptor, NULL, false},
    {"UserCreateDto", &roster__v1__create_user_request__descriptor, NULL, false},
    {"UserUpdateDto", &roster__v1__update_user_request__descriptor, NULL, false},
    {"TenantCreateDto", &roster__v1__create_tenant_request__descriptor, NULL, false},
    {"TenantUpdateDto", &roster__v1__update_tenant_request__descriptor, NULL, false},
    {"UserFilterArgType", &roster__v1__user_filter__descriptor, NULL, false},
    {"TenantFilterArgType", &roster__v1__tenant_filter__descriptor, NULL, false},
    {"StringFilterArgType", &roster__v1__string_filter__descriptor, NULL, false},
    {"IdFilterArgType", &roster__v1__id_filter__descriptor, NULL, false},
    {"BooleanFilterArgType", &roster__v1__bool_filter__descriptor, NULL, false},
    {"DateFilterArgType", &roster__v1__date_filter__descriptor, NULL, false},
    {"UserOrderArgType", &roster__v1__user_order__descriptor, NULL, false},
    {"TenantOrderArgType", &roster__v1__tenant_order__descriptor, NULL, false},
    {"UserSearchArgType", &roster__v1__user_search__descriptor, NULL, false},
    {"UserOrderSortEnum", NULL, &roster__v1__user_sort_field__descriptor, false},
    {"TenantOrderSortEnum", NULL, &roster__v1__tenant_sort_field__descriptor, false},
    {"UserSearchKeyEnum", NULL, &roster__v1__user_search_key__descriptor, false},
    {"OrderEnum", NULL, &roster__v1__sort_order__descriptor, false},
};

static const struct {
    const char *field;
    const ProtobufCMessageDescriptor *req;
} roots[] = {
    {"user", &roster__v1__get_user_request__descriptor},
    {"users", &roster__v1__list_users_request__descriptor},
    {"tenant", &roster__v1__get_tenant_request__descriptor},
    {"tenants", &roster__v1__list_tenants_request__descriptor},
    {"createUser", &roster__v1__create_user_request__descriptor},
    {"updateUser", &roster__v1__update_user_request__descriptor},
    {"createTenant", &roster__v1__create_tenant_request__descriptor},
    {"updateTenant", &roster__v1__update_tenant_request__descriptor},
    {"deleteUser", &roster__v1__delete_user_request__descriptor},
    {"deleteTenant", &roster__v1__delete_tenant_request__descriptor},
};

START_TEST(schema_joins_proto)
{
    problems[0] = '\0';
    n_problems = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (pairs[i].e)
            pair_enum(pairs[i].type, pairs[i].e);
        else if (pairs[i].output)
            pair_object(pairs[i].type, pairs[i].msg);
        else
            pair_input(pairs[i].type, pairs[i].msg);
    }
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        const gql_type *root = gql_type_field(schema->query, roots[i].field, strlen(roots[i].field))
                                   ? schema->query
                                   : schema->mutation;
        pair_root(root, roots[i].field, roots[i].req);
    }
    /* The root fields are exactly those of the table. */
    const gql_type *ops[] = {schema->query, schema->mutation};
    for (size_t k = 0; k < 2; k++)
        for (uint32_t i = 0; ops[k] && i < ops[k]->n_fields; i++) {
            bool found = false;
            for (size_t j = 0; j < sizeof roots / sizeof roots[0] && !found; j++)
                found = str_is(ops[k]->fields[i].name, roots[j].field);
            if (!found)
                problem("root field %.*s has no request message", (int)ops[k]->fields[i].name.len,
                        ops[k]->fields[i].name.ptr);
        }
    /* Every object, input object and enum of the schema is paired. */
    for (uint32_t i = 0; i < schema->n_types; i++) {
        const gql_type *t = schema->types[i];
        if (t->introspection || t->kind == GQL_KIND_SCALAR || t == schema->query ||
            t == schema->mutation)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        bool found = exception_for('t', name, NULL, 0) != NULL;
        for (size_t j = 0; j < sizeof pairs / sizeof pairs[0] && !found; j++)
            found = strcmp(pairs[j].type, name) == 0;
        if (!found)
            problem("type %s is joined to no protobuf message or enum", name);
    }
    pair_model(&model_user);
    pair_model(&model_tenant);
    ck_assert_msg(n_problems == 0, "%zu mismatches:%s", n_problems, problems);
}
END_TEST

/* UpdateUserRequest.clear's enum names exactly the nullable UserUpdateDto
 * fields. */
START_TEST(clear_enum_names_update_fields)
{
    const ProtobufCEnumDescriptor *e = &roster__v1__user_field__descriptor;
    const gql_type *t = type_named("UserUpdateDto");
    ck_assert_ptr_nonnull(t);
    for (uint32_t i = 0; i < t->n_input_fields; i++) {
        gql_str n = t->input_fields[i].name;
        ck_assert_msg(model_enum_value(e, n.ptr, n.len) != NULL, "UserField has no %.*s",
                      (int)n.len, n.ptr);
    }
    ck_assert_uint_eq(t->n_input_fields, e->n_values - 1);
}
END_TEST

/* The mismatch check itself notices a field missing on either side. */
START_TEST(mismatch_is_reported)
{
    problems[0] = '\0';
    n_problems = 0;
    pair_input("TenantFilterArgType", &roster__v1__user_filter__descriptor);
    ck_assert_uint_gt(n_problems, 0);
    ck_assert_ptr_nonnull(strstr(problems, "TenantFilterArgType.name has no protobuf field"));
    ck_assert_ptr_nonnull(strstr(problems, "UserFilter.email has no field"));
}
END_TEST

START_TEST(resolvers_build_for_the_schema)
{
    gw_resolvers *r = NULL;
    ck_assert_int_eq(gw_resolvers_new(&r, schema, NULL, NULL, 1000, 100), ROSTER_E_OK);
    gw_resolvers_free(r);
}
END_TEST

START_TEST(resolvers_refuse_a_mismatched_schema)
{
    /* customData as a Boolean cannot carry User.custom_data. */
    const char *sdl_fmt = "%.*sBoolean%s";
    const char *at = strstr(gw_schema_sdl, "customData: JsonObject\n  twoFactorEnabled");
    ck_assert_ptr_nonnull(at);
    at += strlen("customData: ");
    size_t n = strlen(gw_schema_sdl) + 16;
    char *sdl = malloc(n);
    snprintf(sdl, n, sdl_fmt, (int)(at - gw_schema_sdl), gw_schema_sdl, at + strlen("JsonObject"));
    gql_schema *s = NULL;
    gql_errors e;
    gql_errors_init(&e);
    ck_assert_int_eq(gql_schema_build(&s, &e, sdl, strlen(sdl)), ROSTER_E_OK);
    gw_resolvers *r = NULL;
    ck_assert_int_eq(gw_resolvers_new(&r, s, NULL, NULL, 1000, 100), ROSTER_E_INVALID_ARGUMENT);
    gql_schema_free(s);
    gql_errors_free(&e);
    free(sdl);
}
END_TEST

/* ------------------------------------------------------------ translation */

typedef struct xl_case {
    const gw_xl_msg *plan;
    int rc;
    gw_xl_error err;
    uint8_t packed[4096];
    size_t len;
} xl_case;

static xl_case seen;

/* Translates and records the request, then fails the field (the test
 * reads what was recorded, not the response). */
static void record_args(gql_call *c, void *ud)
{
    ProtobufCMessage *m = NULL;
    seen.rc = gw_xl_args(&m, &seen.err, c, ud);
    if (seen.rc == ROSTER_E_OK) {
        ck_assert_uint_le(protobuf_c_message_get_packed_size(m), sizeof seen.packed);
        seen.len = protobuf_c_message_pack(m, seen.packed);
    }
    gql_resolve_error(c, NULL, "recorded", NULL);
}

typedef struct done {
    int called;
    char *body;
} done;

static void on_done(gql_response *resp, void *ud)
{
    done *d = ud;
    d->called++;
    d->body = resp->body;
}

/* Runs document q (one root field, `field` of `type`, request `req`,
 * reply `reply`) through the translation. */
static void translate(const char *type, const char *field, const ProtobufCMessageDescriptor *req,
                      const ProtobufCMessageDescriptor *reply, const char *q)
{
    memset(&seen, 0, sizeof seen);
    gw_xl *x = NULL;
    ck_assert_int_eq(gw_xl_new(&x), ROSTER_E_OK);
    const gql_type *t = type_named(type);
    const gql_field *f = gql_type_field(t, field, strlen(field));
    ck_assert_ptr_nonnull(f);
    const gw_xl_msg *plan = NULL;
    ck_assert_int_eq(gw_xl_args_plan(&plan, x, f, req, reply, 1000), ROSTER_E_OK);
    gql_resolvers *r = NULL;
    ck_assert_int_eq(gql_resolvers_new(&r, schema), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, type, field, record_args, (void *)plan), ROSTER_E_OK);
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_msg(gql_prepare(&doc, &e, schema, q, strlen(q), NULL) == ROSTER_E_OK, "%s: %s", q,
                  e.head ? e.head->message : "");
    done d = {0};
    gql_exec_params p = {
        .schema = schema, .doc = doc, .resolvers = r, .complete = on_done, .complete_ud = &d};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(d.called, 1);
    free(d.body);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
    gw_xl_free(x);
}

static void expect_message(const ProtobufCMessage *want)
{
    ck_assert_msg(seen.rc == ROSTER_E_OK, "translation failed: %s", seen.err.message);
    uint8_t buf[4096];
    size_t n = protobuf_c_message_pack(want, buf);
    ck_assert_uint_eq(seen.len, n);
    ck_assert_mem_eq(seen.packed, buf, n);
}

static void expect_error(const char *field, const char *message)
{
    ck_assert_int_eq(seen.rc, ROSTER_E_INVALID_ARGUMENT);
    ck_assert_str_eq(seen.err.field, field);
    ck_assert_str_eq(seen.err.message, message);
}

START_TEST(users_arguments)
{
    translate("Query", "users", &roster__v1__list_users_request__descriptor,
              &roster__v1__list_users_response__descriptor,
              "{ users(filter: {email: {equalTo: null, iLike: \"%a%\"}, "
              "firstName: {valueIn: [\"A\", \"B\"], like: null}, id: {valueNotIn: 7}, "
              "active: {equalTo: false}, tenantId: {notEqualTo: null}, "
              "createdAt: {moreThan: \"1970-01-01T00:00:01.000Z\", lessThanEqual: null}}, "
              "limit: 5, offset: 2, order: {order: ASC, sort: firstName}, "
              "search: {key: lastName, value: \"x\"}) { totalCount } }");
    char *in[] = {"A", "B"}, *notin[] = {"7"};
    Roster__V1__StringList l_in = ROSTER__V1__STRING_LIST__INIT,
                           l_notin = ROSTER__V1__STRING_LIST__INIT;
    l_in.n_values = 2;
    l_in.values = in;
    l_notin.n_values = 1;
    l_notin.values = notin;
    Roster__V1__StringFilter email = ROSTER__V1__STRING_FILTER__INIT,
                             first = ROSTER__V1__STRING_FILTER__INIT;
    email.has_equal_to_null = email.equal_to_null = 1;
    email.i_like = "%a%";
    first.value_in = &l_in;
    Roster__V1__IdFilter id = ROSTER__V1__ID_FILTER__INIT, tenant = ROSTER__V1__ID_FILTER__INIT;
    id.value_not_in = &l_notin;
    tenant.has_not_equal_to_null = tenant.not_equal_to_null = 1;
    Roster__V1__BoolFilter active = ROSTER__V1__BOOL_FILTER__INIT;
    active.has_equal_to = 1;
    active.equal_to = 0;
    Roster__V1__DateFilter created = ROSTER__V1__DATE_FILTER__INIT;
    created.has_more_than = 1;
    created.more_than = 1000;
    Roster__V1__UserFilter filter = ROSTER__V1__USER_FILTER__INIT;
    filter.email = &email;
    filter.first_name = &first;
    filter.id = &id;
    filter.active = &active;
    filter.tenant_id = &tenant;
    filter.created_at = &created;
    Roster__V1__UserOrder order = ROSTER__V1__USER_ORDER__INIT;
    order.has_order = order.has_sort = 1;
    order.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_ASC;
    order.sort = ROSTER__V1__USER_SORT_FIELD__USER_SORT_FIELD_FIRST_NAME;
    Roster__V1__UserSearch search = ROSTER__V1__USER_SEARCH__INIT;
    search.has_key = 1;
    search.key = ROSTER__V1__USER_SEARCH_KEY__USER_SEARCH_KEY_LAST_NAME;
    search.value = "x";
    Roster__V1__ListUsersRequest want = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    want.filter = &filter;
    want.has_limit = want.has_offset = 1;
    want.limit = 5;
    want.offset = 2;
    want.order = &order;
    want.search = &search;
    expect_message(&want.base);
}
END_TEST

/* customData conditions and order, on a schema that declares them:
 * JsonValue values become JSON text, a list of input objects a repeated
 * message. */
static const char custom_sdl[] =
    "scalar JsonValue\n"
    "enum OrderEnum { ASC DESC }\n"
    "input CustomDataFilterArgType { path: String!, equalTo: JsonValue, notEqualTo: JsonValue,\n"
    "  valueIn: [JsonValue!], lessThan: JsonValue, lessThanEqual: JsonValue,\n"
    "  moreThan: JsonValue, moreThanEqual: JsonValue }\n"
    "input UserFilterArgType { customData: [CustomDataFilterArgType!] }\n"
    "input UserOrderArgType { order: OrderEnum!, customData: String }\n"
    "type UserPageModel { totalCount: Int! }\n"
    "type Query { users(filter: UserFilterArgType, order: UserOrderArgType): UserPageModel! }\n";

START_TEST(custom_data_arguments)
{
    gql_schema *standard = schema;
    gql_errors e;
    gql_errors_init(&e);
    ck_assert_int_eq(gql_schema_build(&schema, &e, custom_sdl, sizeof custom_sdl - 1), ROSTER_E_OK);
    ck_assert_int_eq(gql_schema_use_standard_scalars(schema), ROSTER_E_OK);
    gql_errors_free(&e);
    translate("Query", "users", &roster__v1__list_users_request__descriptor,
              &roster__v1__list_users_response__descriptor,
              "{ users(filter: {customData: [{path: \"plan\", equalTo: \"pro\"}, "
              "{path: \"billing.seats\", moreThanEqual: 10, valueIn: [1, true, {a: [\"x\"]}]}]}, "
              "order: {order: DESC, customData: \"billing.seats\"}) { totalCount } }");
    Roster__V1__CustomDataCondition a = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT,
                                    b = ROSTER__V1__CUSTOM_DATA_CONDITION__INIT;
    a.path = "plan";
    a.equal_to = "\"pro\"";
    char *in[] = {"1", "true", "{\"a\":[\"x\"]}"};
    b.path = "billing.seats";
    b.more_than_equal = "10";
    b.n_value_in = 3;
    b.value_in = in;
    Roster__V1__CustomDataCondition *conds[] = {&a, &b};
    Roster__V1__UserFilter f = ROSTER__V1__USER_FILTER__INIT;
    f.n_custom_data = 2;
    f.custom_data = conds;
    Roster__V1__UserOrder o = ROSTER__V1__USER_ORDER__INIT;
    o.has_order = 1;
    o.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    o.custom_data = "billing.seats";
    Roster__V1__ListUsersRequest want = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    want.filter = &f;
    want.order = &o;
    expect_message(&want.base);
    gql_schema_free(schema);
    schema = standard;
}
END_TEST

START_TEST(users_errors)
{
    const ProtobufCMessageDescriptor *req = &roster__v1__list_users_request__descriptor,
                                     *rep = &roster__v1__list_users_response__descriptor;
    translate("Query", "users", req, rep, "{ users(limit: 1001) { totalCount } }");
    expect_error("limit", "Invalid value for limit: must be between 0 and 1000");
    translate("Query", "users", req, rep, "{ users(offset: -1) { totalCount } }");
    expect_error("offset", "Invalid value for offset: must be between 0 and 2147483647");
    /* The first error wins, in the request's field order. */
    translate("Query", "users", req, rep,
              "{ users(search: {key: email, value: \"\\u0000\"}, limit: -1, "
              "filter: {tenantId: {valueIn: [\"\\u0000\"]}}) { totalCount } }");
    expect_error("filter.tenantId", "Invalid value for filter.tenantId: must be text without NUL "
                                    "characters");
    translate("Query", "users", req, rep,
              "{ users(search: {key: email, value: \"\\u0000\"}) { totalCount } }");
    expect_error("search.value", "Invalid value for search.value: must be text without NUL "
                                 "characters");
}
END_TEST

START_TEST(update_user_arguments)
{
    const ProtobufCMessageDescriptor *req = &roster__v1__update_user_request__descriptor,
                                     *rep = &roster__v1__user__descriptor;
    translate("Mutation", "updateUser", req, rep,
              "mutation { updateUser(id: 12, user: {firstName: \"F\", lastName: null, "
              "active: true, customData: {a: [1, \"b\"]}, tenantId: null, isOptedIn: null}) "
              "{ id } }");
    Roster__V1__UserField clear[] = {ROSTER__V1__USER_FIELD__USER_FIELD_LAST_NAME,
                                     ROSTER__V1__USER_FIELD__USER_FIELD_IS_OPTED_IN,
                                     ROSTER__V1__USER_FIELD__USER_FIELD_TENANT_ID};
    Roster__V1__UpdateUserRequest want = ROSTER__V1__UPDATE_USER_REQUEST__INIT;
    want.id = "12";
    want.first_name = "F";
    want.has_active = want.active = 1;
    want.custom_data = "{\"a\":[1,\"b\"]}";
    want.n_clear = 3;
    want.clear = clear;
    expect_message(&want.base);
    translate("Mutation", "updateUser", req, rep,
              "mutation { updateUser(id: \"a\\u0000\", user: {email: \"\\u0000\"}) { id } }");
    expect_error("id", "id must be text without NUL characters");
}
END_TEST

START_TEST(tenant_arguments)
{
    const ProtobufCMessageDescriptor *req = &roster__v1__update_tenant_request__descriptor,
                                     *rep = &roster__v1__tenant__descriptor;
    translate("Mutation", "updateTenant", req, rep,
              "mutation { updateTenant(id: \"t\", tenant: {name: \"N\", reference: null}) "
              "{ id } }");
    Roster__V1__UpdateTenantRequest want = ROSTER__V1__UPDATE_TENANT_REQUEST__INIT;
    want.id = "t";
    want.name = "N";
    want.has_clear_reference = want.clear_reference = 1;
    expect_message(&want.base);
    translate("Mutation", "updateTenant", req, rep,
              "mutation { updateTenant(id: \"t\", tenant: {name: null, reference: \"\\u0000\"}) "
              "{ id } }");
    expect_error("name", "Invalid value for name: a tenant's name cannot be null");
    /* On create, null is absent. */
    translate("Mutation", "createTenant", &roster__v1__create_tenant_request__descriptor, rep,
              "mutation { createTenant(tenant: {name: \"N\", reference: null}) { id } }");
    Roster__V1__CreateTenantRequest create = ROSTER__V1__CREATE_TENANT_REQUEST__INIT;
    create.name = "N";
    expect_message(&create.base);
    translate("Query", "tenants", &roster__v1__list_tenants_request__descriptor,
              &roster__v1__list_tenants_response__descriptor,
              "{ tenants(order: {order: DESC, sort: CREATED_AT}) { totalCount } }");
    Roster__V1__TenantOrder order = ROSTER__V1__TENANT_ORDER__INIT;
    order.has_order = order.has_sort = 1;
    order.order = ROSTER__V1__SORT_ORDER__SORT_ORDER_DESC;
    order.sort = ROSTER__V1__TENANT_SORT_FIELD__TENANT_SORT_FIELD_CREATED_AT;
    Roster__V1__ListTenantsRequest list = ROSTER__V1__LIST_TENANTS_REQUEST__INIT;
    list.order = &order;
    expect_message(&list.base);
}
END_TEST

/* ------------------------------------------------------------ output */

static void *reply_source;

static void give_reply(gql_call *c, void *ud)
{
    (void)ud;
    gql_resolve_done(c, gql_r_object(reply_source));
}

START_TEST(reply_fields_show_by_type)
{
    Roster__V1__User u = ROSTER__V1__USER__INIT;
    u.id = "u1";
    u.email = "a@example.com";
    u.has_active = 1;
    u.active = 0;
    u.custom_data = "{\"k\":[1]}";
    u.has_created_at = 1;
    u.created_at = 1000;
    Roster__V1__User *users[] = {&u};
    Roster__V1__ListUsersResponse page = ROSTER__V1__LIST_USERS_RESPONSE__INIT;
    page.n_users = 1;
    page.users = users;
    reply_source = &page;
    gw_xl *x = NULL;
    ck_assert_int_eq(gw_xl_new(&x), ROSTER_E_OK);
    gql_resolvers *r = NULL;
    ck_assert_int_eq(gql_resolvers_new(&r, schema), ROSTER_E_OK);
    ck_assert_int_eq(gql_resolvers_set(r, "Query", "users", give_reply, NULL), ROSTER_E_OK);
    ck_assert_int_eq(gw_xl_bind_object(x, r, type_named("UserPageModel"),
                                       &roster__v1__list_users_response__descriptor, NULL, 0),
                     ROSTER_E_OK);
    /* Bound once: the same type again is fine, another message is not. */
    ck_assert_int_eq(
        gw_xl_bind_object(x, r, type_named("UserModel"), &roster__v1__user__descriptor, NULL, 0),
        ROSTER_E_OK);
    ck_assert_int_eq(
        gw_xl_bind_object(x, r, type_named("UserModel"), &roster__v1__tenant__descriptor, NULL, 0),
        ROSTER_E_INVALID_ARGUMENT);
    const char *q = "{ users { totalCount data { id email firstName active isOptedIn "
                    "customData createdAt } } }";
    gql_errors e;
    gql_errors_init(&e);
    gql_document *doc = NULL;
    ck_assert_int_eq(gql_prepare(&doc, &e, schema, q, strlen(q), NULL), ROSTER_E_OK);
    done d = {0};
    gql_exec_params p = {
        .schema = schema, .doc = doc, .resolvers = r, .complete = on_done, .complete_ud = &d};
    ck_assert_int_eq(gql_execute(&p), ROSTER_E_OK);
    ck_assert_int_eq(d.called, 1);
    /* totalCount: absent is proto2's 0 for a non-null Int; nullable fields
     * absent are null. */
    ck_assert_str_eq(d.body, "{\"data\":{\"users\":{\"totalCount\":0,\"data\":[{\"id\":\"u1\","
                             "\"email\":\"a@example.com\",\"firstName\":null,\"active\":false,"
                             "\"isOptedIn\":null,\"customData\":{\"k\":[1]},"
                             "\"createdAt\":\"1970-01-01T00:00:01.000Z\"}]}}}");
    free(d.body);
    gql_document_free(doc);
    gql_errors_free(&e);
    gql_resolvers_free(r);
    gw_xl_free(x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gw_model");
    TCase *tc = tcase_create("model");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, schema_joins_proto);
    tcase_add_test(tc, clear_enum_names_update_fields);
    tcase_add_test(tc, mismatch_is_reported);
    tcase_add_test(tc, resolvers_build_for_the_schema);
    tcase_add_test(tc, resolvers_refuse_a_mismatched_schema);
    tcase_add_test(tc, users_arguments);
    tcase_add_test(tc, users_errors);
    tcase_add_test(tc, custom_data_arguments);
    tcase_add_test(tc, update_user_arguments);
    tcase_add_test(tc, tenant_arguments);
    tcase_add_test(tc, reply_fields_show_by_type);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
