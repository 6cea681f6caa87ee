/* GraphQL <-> protobuf translation, joined by name.
 *
 * Conventions (what the plan builder reads from the descriptors and the
 * schema, so that no field is spelled out here):
 *
 * - A protobuf field's GraphQL counterpart is its camelCase name, as an
 *   argument of the root field or a field of the input object. Protobuf
 *   fields with no counterpart are left unset by translation.
 * - A root argument with no protobuf field of its name whose type is an
 *   input object is spread into the request: createUser(user: {email})
 *   fills CreateUserRequest.email. Its fields' errors name them bare
 *   ("email"), as do root arguments ("limit"); fields of other input
 *   objects are named by their path ("order.sort", "filter.firstName").
 * - A message with `*_null` flags is a value filter (StringFilter, ...):
 *   `equalTo: null` sets `equal_to_null` (IS NULL) instead of meaning
 *   "absent", and errors inside it name the filtered field
 *   ("filter.email"), not the operator.
 * - A message with a repeated enum `clear` or `clear_*` flags is a partial
 *   update: a field given as null becomes its `clear` entry (the enum value
 *   of its name, model_enum_value) or sets its `clear_<name>` flag, and a
 *   field with neither cannot be null ("a tenant's name cannot be null",
 *   the record named by the method's reply message). Elsewhere null is the
 *   same as absent.
 * - Value types follow the GraphQL type and the protobuf type together:
 *   String/ID -> string (an ID given as an Int literal becomes its text;
 *   text holding a NUL is refused), Boolean -> bool, Int -> int32 between 0
 *   and INT32_MAX (`limit`: at most max_page), Date -> int64 Unix ms (the
 *   engine's Date scalar already gives an Int; ISO text is parsed too),
 *   JsonObject -> the JSON text of the object, JsonValue -> the JSON text
 *   of any value (a string quoted: "pro" -> "\"pro\""), an enum -> the
 *   protobuf value of the same name (model_enum_value), an input object ->
 *   a sub-message, a list -> a one-field wrapper message (StringList) or a
 *   repeated field (of strings, JSON texts, or sub-messages for a list of
 *   input objects).
 * - A non-null scalar root argument (`id: ID!`) is checked before the rest
 *   and its errors read "id is required" / "id must be text without NUL
 *   characters".
 *
 * Output: an object type's field joins the protobuf field of its name; the
 * page types' `data` (no protobuf field of that name) joins the reply's
 * one repeated message field. Absent protobuf fields are null, except a
 * non-null Boolean or Int, which shows proto2's default (false, 0). */
#include "translate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "error.h"
#include "model.h"
#include "rpc_wire_scan.h"

/* What a plan entry does with its value. */
enum {
    K_STRING,
    K_JSON,
    K_JSON_VALUE, /* JsonValue -> JSON text of any value */
    K_BOOL,
    K_DATE,
    K_INT32,
    K_ENUM,
    K_MESSAGE,  /* input object -> sub-message */
    K_LIST_MSG, /* list -> wrapper message holding one repeated string */
    K_LIST,     /* list -> repeated string (JSON texts when json_items) */
    K_LIST_OBJ, /* list of input objects -> repeated message */
    K_SPREAD,   /* root input object argument spread into the request */
};

typedef struct xl_enum_name {
    const char *name;
    uint32_t len;
    int value; /* -1: the protobuf enum has no such value */
} xl_enum_name;

typedef struct xl_field {
    const char *name; /* GraphQL name, NUL-terminated */
    const char *path; /* the field errors name */
    const ProtobufCFieldDescriptor *pb;
    uint8_t kind;
    bool required;                              /* non-null scalar root argument */
    const ProtobufCFieldDescriptor *null_flag;  /* equal_to_null for equal_to */
    const ProtobufCFieldDescriptor *clear_flag; /* clear_reference for reference */
    int clear_value;                            /* its value of the `clear` enum; 0: none */
    const char *null_error;                     /* partial update: why null is refused */
    int64_t hi;                                 /* K_INT32: largest value (smallest: 0) */
    const xl_enum_name *enums;                  /* K_ENUM: GraphQL value -> protobuf value */
    uint32_t n_enums;
    const char *enum_error; /* K_ENUM: "is not a known sort field" */
    const gw_xl_msg *sub;   /* K_MESSAGE, K_SPREAD, K_LIST_OBJ */
    bool json_items;        /* K_LIST: items are JsonValue */
} xl_field;

struct gw_xl_msg {
    const ProtobufCMessageDescriptor *desc;
    xl_field *fields;
    uint32_t n_fields;
    const ProtobufCFieldDescriptor *clear; /* repeated enum `clear`, or NULL */
    uint32_t n_clearable;                  /* fields with a clear_value */
};

typedef struct xl_bound {
    const gql_type *type;
    const ProtobufCMessageDescriptor *desc;
    struct xl_bound *next;
} xl_bound;

struct gw_xl {
    roster_arena arena; /* every plan, name and join */
    xl_bound *bound;    /* object types joined so far */
};

/* ------------------------------------------------------------ setup */

int gw_xl_new(gw_xl **out)
{
    gw_xl *x = calloc(1, sizeof *x);
    if (x == NULL)
        return ROSTER_E_NOMEM;
    roster_arena_init(&x->arena, 16 * 1024, 0);
    *out = x;
    return ROSTER_E_OK;
}

void gw_xl_free(gw_xl *x)
{
    if (x == NULL)
        return;
    roster_arena_free(&x->arena);
    free(x);
}

static char *xl_strdup(gw_xl *x, const char *s, size_t len)
{
    return roster_arena_strndup(&x->arena, s, len);
}

static const ProtobufCFieldDescriptor *pb_field(const ProtobufCMessageDescriptor *d,
                                                const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

/* The protobuf field `<prefix><name><suffix>` of d when it is a bool. */
static const ProtobufCFieldDescriptor *bool_field(const ProtobufCMessageDescriptor *d,
                                                  const char *prefix, const char *name,
                                                  const char *suffix)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s%s%s", prefix, name, suffix);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    const ProtobufCFieldDescriptor *f = pb_field(d, buf);
    return f && f->type == PROTOBUF_C_TYPE_BOOL && f->label != PROTOBUF_C_LABEL_REPEATED ? f : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* A value filter: a message with `*_null` flags. */
static bool is_value_filter(const ProtobufCMessageDescriptor *d)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (ends_with(d->fields[i].name, "_null"))
            return true;
    return false;
}

static bool str_is(gql_str s, const char *z)
{
    return s.len == strlen(z) && memcmp(s.ptr, z, s.len) == 0;
}

/* The record (model.h) whose message d is, or NULL. */
static const model_record *record_of(const ProtobufCMessageDescriptor *d)
{
    if (d == model_user.pb)
        return &model_user;
    if (d == model_tenant.pb)
        return &model_tenant;
    return NULL;
}

/* "is not a known sort field" for UserSortField: the enum's words after the
 * record it belongs to. */
static const char *enum_error(gw_xl *x, const ProtobufCEnumDescriptor *e)
{
    char words[128] = "is not a known";
    size_t n = strlen(words);
    const char *p = e->short_name;
    bool first = true;
    while (*p) {
        const char *w = p++;
        while (*p && !(*p >= 'A' && *p <= 'Z'))
            p++;
        size_t len = (size_t)(p - w);
        bool record = first && ((len == 4 && strncmp(w, "User", 4) == 0) ||
                                (len == 6 && strncmp(w, "Tenant", 6) == 0));
        first = false;
        if (record || n + len + 2 >= sizeof words)
            continue;
        words[n++] = ' ';
        for (size_t i = 0; i < len; i++)
            words[n++] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
        words[n] = '\0';
    }
    return xl_strdup(x, words, n);
}

/* The GraphQL type without its non-null wrapper. */
static const gql_wtype *nullable_of(const gql_wtype *t)
{
    return t->kind == GQL_KIND_NON_NULL ? t->of : t;
}

/* A wrapper message: exactly one field, a repeated string (StringList). */
static const ProtobufCFieldDescriptor *list_wrapper_field(const ProtobufCMessageDescriptor *d)
{
    if (d->n_fields != 1 || d->fields[0].label != PROTOBUF_C_LABEL_REPEATED ||
        d->fields[0].type != PROTOBUF_C_TYPE_STRING)
        return NULL;
    return &d->fields[0];
}

static int build_msg(gw_xl_msg **out, gw_xl *x, const ProtobufCMessageDescriptor *d,
                     const gql_input_field *in, uint32_t n_in, const char *path, bool keep_path,
                     const gql_field *root, const model_record *record, uint32_t max_page);

/* Fills f for protobuf field pb of message m from GraphQL input field g. */
static int build_field(xl_field *f, gw_xl *x, const gw_xl_msg *m, const gql_input_field *g,
                       const ProtobufCFieldDescriptor *pb, const char *path, bool keep_path,
                       bool at_root, const model_record *record, uint32_t max_page)
{
    const gql_wtype *t = nullable_of(g->type);
    const gql_type *named = t->named;
    f->pb = pb;
    f->name = xl_strdup(x, g->name.ptr, g->name.len);
    if (f->name == NULL)
        return ROSTER_E_NOMEM;
    if (at_root || path == NULL || path[0] == '\0')
        f->path = f->name;
    else if (!keep_path)
        f->path = path;
    else {
        size_t n = strlen(path) + 1 + g->name.len;
        char *p = roster_arena_alloc(&x->arena, n + 1);
        if (p == NULL)
            return ROSTER_E_NOMEM;
        snprintf(p, n + 1, "%s.%s", path, f->name);
        f->path = p;
    }
    bool repeated = pb->label == PROTOBUF_C_LABEL_REPEATED;
    if (t->kind == GQL_KIND_LIST) {
        if (!repeated && pb->type == PROTOBUF_C_TYPE_MESSAGE &&
            list_wrapper_field(pb->descriptor) != NULL)
            f->kind = K_LIST_MSG;
        else if (repeated && pb->type == PROTOBUF_C_TYPE_STRING) {
            f->kind = K_LIST;
            const gql_type *item = nullable_of(t->of)->named;
            f->json_items = item && item->kind == GQL_KIND_SCALAR &&
                            item->builtin == GQL_SCALAR_CUSTOM && str_is(item->name, "JsonValue");
        } else if (repeated && pb->type == PROTOBUF_C_TYPE_MESSAGE && nullable_of(t->of)->named &&
                   nullable_of(t->of)->named->kind == GQL_KIND_INPUT_OBJECT) {
            const gql_type *item = nullable_of(t->of)->named;
            gw_xl_msg *sub;
            int rc = build_msg(&sub, x, pb->descriptor, item->input_fields, item->n_input_fields,
                               f->path, true, NULL, record, max_page);
            if (rc != ROSTER_E_OK)
                return rc;
            f->kind = K_LIST_OBJ;
            f->sub = sub;
        } else
            return ROSTER_E_INVALID_ARGUMENT;
    } else if (repeated) {
        return ROSTER_E_INVALID_ARGUMENT;
    } else if (named->kind == GQL_KIND_INPUT_OBJECT) {
        if (pb->type != PROTOBUF_C_TYPE_MESSAGE)
            return ROSTER_E_INVALID_ARGUMENT;
        gw_xl_msg *sub;
        const ProtobufCMessageDescriptor *sd = pb->descriptor;
        int rc = build_msg(&sub, x, sd, named->input_fields, named->n_input_fields, f->path,
                           !is_value_filter(sd), NULL, record, max_page);
        if (rc != ROSTER_E_OK)
            return rc;
        f->kind = K_MESSAGE;
        f->sub = sub;
    } else if (named->kind == GQL_KIND_ENUM) {
        if (pb->type != PROTOBUF_C_TYPE_ENUM)
            return ROSTER_E_INVALID_ARGUMENT;
        const ProtobufCEnumDescriptor *e = pb->descriptor;
        xl_enum_name *names = roster_arena_alloc(&x->arena, sizeof *names * (named->n_values + 1));
        if (names == NULL || (f->enum_error = enum_error(x, e)) == NULL)
            return ROSTER_E_NOMEM;
        for (uint32_t i = 0; i < named->n_values; i++) {
            gql_str v = named->values[i].name;
            const ProtobufCEnumValue *ev = model_enum_value(e, v.ptr, v.len);
            names[i].name = v.ptr;
            names[i].len = v.len;
            names[i].value = ev ? ev->value : -1;
        }
        f->kind = K_ENUM;
        f->enums = names;
        f->n_enums = named->n_values;
    } else if (named->kind == GQL_KIND_SCALAR) {
        int b = named->builtin;
        if ((b == GQL_SCALAR_STRING || b == GQL_SCALAR_ID) && pb->type == PROTOBUF_C_TYPE_STRING)
            f->kind = K_STRING;
        else if (b == GQL_SCALAR_BOOLEAN && pb->type == PROTOBUF_C_TYPE_BOOL)
            f->kind = K_BOOL;
        else if (b == GQL_SCALAR_INT && pb->type == PROTOBUF_C_TYPE_INT32) {
            f->kind = K_INT32;
            /* The page size has the configured bound; other Ints any
             * non-negative int32. */
            f->hi = strcmp(pb->name, "limit") == 0 ? (int64_t)max_page : INT32_MAX;
        } else if (b == GQL_SCALAR_CUSTOM && str_is(named->name, "Date") &&
                   pb->type == PROTOBUF_C_TYPE_INT64)
            f->kind = K_DATE;
        else if (b == GQL_SCALAR_CUSTOM && str_is(named->name, "JsonObject") &&
                 pb->type == PROTOBUF_C_TYPE_STRING)
            f->kind = K_JSON;
        else if (b == GQL_SCALAR_CUSTOM && str_is(named->name, "JsonValue") &&
                 pb->type == PROTOBUF_C_TYPE_STRING)
            f->kind = K_JSON_VALUE;
        else
            return ROSTER_E_INVALID_ARGUMENT;
        f->required = at_root && g->type->kind == GQL_KIND_NON_NULL && f->kind == K_STRING;
    } else {
        return ROSTER_E_INVALID_ARGUMENT;
    }
    /* What null means for this field. */
    const ProtobufCMessageDescriptor *d = m->desc;
    f->null_flag = bool_field(d, "", pb->name, "_null");
    f->clear_flag = bool_field(d, "clear_", pb->name, "");
    if (m->clear) {
        const ProtobufCEnumValue *ev =
            model_enum_value(m->clear->descriptor, f->name, strlen(f->name));
        f->clear_value = ev ? ev->value : 0;
    }
    if (f->clear_value == 0 && f->clear_flag == NULL && record != NULL) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "a %s's %s cannot be null", record->name, f->name);
        if ((f->null_error = xl_strdup(x, msg, (size_t)n)) == NULL)
            return ROSTER_E_NOMEM;
    }
    return ROSTER_E_OK;
}

/* Builds the plan of message d from input fields `in` (an input object's
 * fields, or the arguments of `root`). record: the record a partial update
 * changes. */
static int build_msg(gw_xl_msg **out, gw_xl *x, const ProtobufCMessageDescriptor *d,
                     const gql_input_field *in, uint32_t n_in, const char *path, bool keep_path,
                     const gql_field *root, const model_record *record, uint32_t max_page)
{
    gw_xl_msg *m = roster_arena_alloc(&x->arena, sizeof *m);
    /* At most one entry per protobuf field, plus the spread arguments. */
    xl_field *fields = roster_arena_alloc(&x->arena, sizeof *fields * (d->n_fields + n_in + 1));
    if (m == NULL || fields == NULL)
        return ROSTER_E_NOMEM;
    memset(m, 0, sizeof *m);
    memset(fields, 0, sizeof *fields * (d->n_fields + n_in + 1));
    m->desc = d;
    m->fields = fields;
    const ProtobufCFieldDescriptor *clear = pb_field(d, "clear");
    bool partial = false;
    if (clear && clear->label == PROTOBUF_C_LABEL_REPEATED && clear->type == PROTOBUF_C_TYPE_ENUM) {
        m->clear = clear;
        partial = true;
    }
    for (unsigned i = 0; i < d->n_fields; i++)
        if (strncmp(d->fields[i].name, "clear_", 6) == 0 &&
            d->fields[i].type == PROTOBUF_C_TYPE_BOOL)
            partial = true;
    const model_record *update_of = partial ? record : NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *pb = &d->fields[i];
        char camel[128];
        size_t len = model_camel_name(camel, sizeof camel, pb->name);
        const gql_input_field *g = gql_input_field_find(in, n_in, camel, len);
        if (g == NULL)
            continue;
        xl_field *f = &fields[m->n_fields];
        int rc = build_field(f, x, m, g, pb, path, keep_path, root != NULL, update_of, max_page);
        if (rc != ROSTER_E_OK)
            return rc;
        if (f->clear_value)
            m->n_clearable++;
        m->n_fields++;
    }
    /* Root input object arguments with no protobuf field of their name. */
    for (uint32_t i = 0; root && i < n_in; i++) {
        char snake[128];
        model_snake_name(snake, sizeof snake, in[i].name.ptr, in[i].name.len);
        const gql_type *named = in[i].type->named;
        if (pb_field(d, snake) != NULL || named->kind != GQL_KIND_INPUT_OBJECT ||
            nullable_of(in[i].type)->kind == GQL_KIND_LIST)
            continue;
        xl_field *f = &fields[m->n_fields];
        gw_xl_msg *sub;
        int rc = build_msg(&sub, x, d, named->input_fields, named->n_input_fields, "", true, NULL,
                           record, max_page);
        if (rc != ROSTER_E_OK)
            return rc;
        if ((f->name = xl_strdup(x, in[i].name.ptr, in[i].name.len)) == NULL)
            return ROSTER_E_NOMEM;
        f->path = f->name;
        f->kind = K_SPREAD;
        f->sub = sub;
        m->n_fields++;
    }
    *out = m;
    return ROSTER_E_OK;
}

int gw_xl_args_plan(const gw_xl_msg **out, gw_xl *x, const gql_field *root,
                    const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *reply,
                    uint32_t max_page)
{
    gw_xl_msg *m;
    int rc =
        build_msg(&m, x, req, root->args, root->n_args, "", true, root, record_of(reply), max_page);
    if (rc != ROSTER_E_OK)
        return rc;
    *out = m;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ translation */

#define AT(m, off, T) ((T *)((char *)(m) + (off)))

/* Translation state: the first error wins and is reported once. */
typedef struct xl_run {
    gql_call *c;
    gw_xl_error *err;
    int failed;
} xl_run;

static void xl_fail(xl_run *r, const char *field, const char *msg)
{
    if (r->failed)
        return;
    r->failed = 1;
    char f[96], m[256];
    snprintf(f, sizeof f, "%s", field);
    snprintf(m, sizeof m, "%s", msg);
    snprintf(r->err->field, sizeof r->err->field, "%s", f);
    snprintf(r->err->message, sizeof r->err->message, "Invalid value for %s: %s", f, m);
}

static int is_null(const gql_value *v)
{
    return v == NULL || v->kind == GQL_VALUE_NULL;
}

/* A NUL-terminated copy of a String/ID value; NULL (and *bad set) when it
 * holds a NUL byte or memory ran out. */
static char *vstr(gql_call *c, const gql_value *v, int *bad)
{
    if (v->kind == GQL_VALUE_INT) {
        /* An ID given as an integer literal ({tenantId: 4}). */
        char num[32];
        int n = snprintf(num, sizeof num, "%lld", (long long)v->u.integer);
        char *s = gql_strndup(c, num, (size_t)n);
        if (s == NULL)
            *bad = 1;
        return s;
    }
    if (v->kind != GQL_VALUE_STRING && v->kind != GQL_VALUE_ENUM) {
        *bad = 1;
        return NULL;
    }
    if (memchr(v->u.string.ptr, 0, v->u.string.len) != NULL) {
        *bad = 1;
        return NULL;
    }
    char *s = gql_strndup(c, v->u.string.ptr, v->u.string.len);
    if (s == NULL)
        *bad = 1;
    return s;
}

/* Counts n bytes copied from the request's input against its budget
 * (gql_call_charge); 0 after failing the translation naming the limit. */
static int xl_charge(xl_run *r, size_t n)
{
    if (gql_call_charge(r->c, n) == ROSTER_E_OK)
        return 1;
    if (!r->failed) {
        r->failed = 1;
        r->err->field[0] = '\0';
        snprintf(r->err->message, sizeof r->err->message, "%s", gql_call_input_limit_message(r->c));
    }
    return 0;
}

static char *xl_str(xl_run *r, const gql_value *v, const char *field)
{
    if ((v->kind == GQL_VALUE_STRING || v->kind == GQL_VALUE_ENUM) &&
        !xl_charge(r, (size_t)v->u.string.len + 1))
        return NULL;
    int bad = 0;
    char *s = vstr(r->c, v, &bad);
    if (bad)
        xl_fail(r, field, "must be text without NUL characters");
    return s;
}

/* JSON text of a JsonObject input value (any JSON value when !object);
 * NULL after xl_fail. */
static char *xl_json(xl_run *r, const gql_value *v, const char *field, bool object)
{
    if (object && v->kind != GQL_VALUE_OBJECT) {
        xl_fail(r, field, "must be a JSON object");
        return NULL;
    }
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_value_write_json(&w, v);
    char *s = NULL;
    if (gql_buf_status(&b) == ROSTER_E_OK)
        s = gql_strndup(r->c, b.data ? b.data : object ? "{}" : "null", b.len);
    gql_buf_free(&b);
    if (s == NULL)
        xl_fail(r, field, "out of memory");
    return s;
}

static int date_of(xl_run *r, const gql_value *m, const char *field, int64_t *out)
{
    if (m->kind == GQL_VALUE_INT) {
        *out = m->u.integer;
        return 1;
    }
    if (m->kind == GQL_VALUE_STRING &&
        roster_time_parse_iso(out, m->u.string.ptr, m->u.string.len) == ROSTER_E_OK)
        return 1;
    xl_fail(r, field, "must be an ISO-8601 UTC timestamp such as 2026-11-27T04:24:50.123Z");
    return 0;
}

/* Fills repeated string field lf of m from a list value (a bare value is a
 * list of one, as the engine's input coercion makes it). */
static void xl_list(xl_run *r, ProtobufCMessage *m, const ProtobufCFieldDescriptor *lf,
                    const gql_value *v, const char *field, bool json)
{
    uint32_t n = v->kind == GQL_VALUE_LIST ? v->u.list.count : 1;
    /* Counted before anything is copied: a list of one variable repeated
     * (valueIn: [$p, $p, ...]) costs n pointers, and its copies the budget. */
    size_t most = rpc_wire_repeated_limit(lf);
    if (n > most) {
        char msg[160];
        snprintf(msg, sizeof msg, "lists %u values; at most %zu are allowed (%s)", n, most,
                 rpc_wire_repeated_limit_name(lf));
        xl_fail(r, field, msg);
        return;
    }
    if (!xl_charge(r, sizeof(char *) * n))
        return;
    char **values = gql_alloc(r->c, sizeof(char *) * (n ? n : 1));
    if (values == NULL) {
        xl_fail(r, field, "out of memory");
        return;
    }
    if (v->kind != GQL_VALUE_LIST)
        values[0] = json ? xl_json(r, v, field, false) : xl_str(r, v, field);
    for (uint32_t i = 0; v->kind == GQL_VALUE_LIST && i < n && !r->failed; i++)
        values[i] = i > 0 && v->u.list.items[i] == v->u.list.items[i - 1]
                        ? values[i - 1] /* the same value again: the same copy */
                    : json ? xl_json(r, v->u.list.items[i], field, false)
                           : xl_str(r, v->u.list.items[i], field);
    if (r->failed)
        return;
    *AT(m, lf->quantifier_offset, size_t) = n;
    *AT(m, lf->offset, char **) = values;
}

static ProtobufCMessage *new_msg(gql_call *c, const ProtobufCMessageDescriptor *d)
{
    void *p = gql_alloc(c, d->sizeof_message);
    if (p != NULL)
        protobuf_c_message_init(d, p);
    return p;
}

void gw_xl_set_bool(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int v)
{
    *AT(m, f->quantifier_offset, protobuf_c_boolean) = 1;
    *AT(m, f->offset, protobuf_c_boolean) = v != 0;
}

void gw_xl_set_u64(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, uint64_t v)
{
    *AT(m, f->quantifier_offset, protobuf_c_boolean) = 1;
    *AT(m, f->offset, uint64_t) = v;
}

static void set_has(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    *AT(m, f->quantifier_offset, protobuf_c_boolean) = 1;
}

static void xl_object(xl_run *r, ProtobufCMessage *m, const gw_xl_msg *plan, const gql_value *obj);

/* Fills repeated message field f of m from a list of input objects (a
 * bare object is a list of one, as input coercion makes it). */
static void xl_objects(xl_run *r, ProtobufCMessage *m, const xl_field *f, const gql_value *v)
{
    uint32_t n = v->kind == GQL_VALUE_LIST ? v->u.list.count : 1;
    size_t most = rpc_wire_repeated_limit(f->pb);
    if (n > most) {
        char msg[160];
        snprintf(msg, sizeof msg, "lists %u values; at most %zu are allowed (%s)", n, most,
                 rpc_wire_repeated_limit_name(f->pb));
        xl_fail(r, f->path, msg);
        return;
    }
    if (!xl_charge(r, sizeof(ProtobufCMessage *) * n))
        return;
    ProtobufCMessage **subs = gql_alloc(r->c, sizeof *subs * (n ? n : 1));
    if (subs == NULL) {
        xl_fail(r, f->path, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < n && !r->failed; i++) {
        const gql_value *item = v->kind == GQL_VALUE_LIST ? v->u.list.items[i] : v;
        if ((subs[i] = new_msg(r->c, f->pb->descriptor)) == NULL) {
            xl_fail(r, f->path, "out of memory");
            return;
        }
        xl_object(r, subs[i], f->sub, item);
    }
    if (r->failed)
        return;
    *AT(m, f->pb->quantifier_offset, size_t) = n;
    *AT(m, f->pb->offset, ProtobufCMessage **) = subs;
}

/* Translates value v (present, not null) of plan entry f into m. */
static void xl_value(xl_run *r, ProtobufCMessage *m, const xl_field *f, const gql_value *v)
{
    const ProtobufCFieldDescriptor *pb = f->pb;
    switch (f->kind) {
    case K_STRING:
        *AT(m, pb->offset, char *) = xl_str(r, v, f->path);
        break;
    case K_JSON:
        *AT(m, pb->offset, char *) = xl_json(r, v, f->path, true);
        break;
    case K_JSON_VALUE:
        *AT(m, pb->offset, char *) = xl_json(r, v, f->path, false);
        break;
    case K_BOOL:
        gw_xl_set_bool(m, pb, v->u.boolean);
        break;
    case K_DATE:
        if (date_of(r, v, f->path, AT(m, pb->offset, int64_t)))
            set_has(m, pb);
        break;
    case K_INT32:
        if (v->kind != GQL_VALUE_INT || v->u.integer < 0 || v->u.integer > f->hi) {
            char msg[128];
            snprintf(msg, sizeof msg, "must be between %lld and %lld", 0LL, (long long)f->hi);
            xl_fail(r, f->path, msg);
            break;
        }
        *AT(m, pb->offset, int32_t) = (int32_t)v->u.integer;
        set_has(m, pb);
        break;
    case K_ENUM: {
        int value = -1;
        if (v->kind == GQL_VALUE_ENUM || v->kind == GQL_VALUE_STRING)
            for (uint32_t i = 0; i < f->n_enums; i++)
                if (f->enums[i].len == v->u.string.len &&
                    memcmp(f->enums[i].name, v->u.string.ptr, v->u.string.len) == 0) {
                    value = f->enums[i].value;
                    break;
                }
        if (value < 0) {
            xl_fail(r, f->path, f->enum_error);
            break;
        }
        *AT(m, pb->offset, int) = value;
        set_has(m, pb);
        break;
    }
    case K_MESSAGE: {
        ProtobufCMessage *sub = new_msg(r->c, pb->descriptor);
        if (sub == NULL) {
            xl_fail(r, f->path, "out of memory");
            break;
        }
        xl_object(r, sub, f->sub, v);
        *AT(m, pb->offset, ProtobufCMessage *) = sub;
        break;
    }
    case K_LIST_MSG: {
        ProtobufCMessage *sub = new_msg(r->c, pb->descriptor);
        if (sub == NULL) {
            xl_fail(r, f->path, "out of memory");
            break;
        }
        xl_list(r, sub, list_wrapper_field(pb->descriptor), v, f->path, false);
        *AT(m, pb->offset, ProtobufCMessage *) = sub;
        break;
    }
    case K_LIST:
        xl_list(r, m, pb, v, f->path, f->json_items);
        break;
    case K_LIST_OBJ:
        xl_objects(r, m, f, v);
        break;
    case K_SPREAD:
        xl_object(r, m, f->sub, v);
        break;
    }
}

/* Translates the members of input object (or arguments) obj by plan into m. */
static void xl_object(xl_run *r, ProtobufCMessage *m, const gw_xl_msg *plan, const gql_value *obj)
{
    int *clear = NULL;
    size_t n_clear = 0;
    for (uint32_t i = 0; i < plan->n_fields; i++) {
        const xl_field *f = &plan->fields[i];
        if (f->required) /* done by gw_xl_args */
            continue;
        const gql_value *v = gql_value_get(obj, f->name);
        if (v == NULL)
            continue;
        if (v->kind != GQL_VALUE_NULL) {
            xl_value(r, m, f, v);
            continue;
        }
        /* Null: a filter's IS NULL, a partial update's clear, or absent. */
        if (f->null_flag)
            gw_xl_set_bool(m, f->null_flag, 1);
        else if (f->clear_value) {
            if (clear == NULL &&
                (clear = gql_alloc(r->c, sizeof *clear * plan->n_clearable)) == NULL) {
                xl_fail(r, f->path, "out of memory");
                continue;
            }
            clear[n_clear++] = f->clear_value;
        } else if (f->clear_flag)
            gw_xl_set_bool(m, f->clear_flag, 1);
        else if (f->null_error)
            xl_fail(r, f->path, f->null_error);
    }
    if (n_clear) {
        *AT(m, plan->clear->quantifier_offset, size_t) = n_clear;
        *AT(m, plan->clear->offset, int *) = clear;
    }
}

int gw_xl_args(ProtobufCMessage **out, gw_xl_error *err, gql_call *c, const gw_xl_msg *plan)
{
    const gql_value *args = gql_call_args(c);
    ProtobufCMessage *m = new_msg(c, plan->desc);
    if (m == NULL)
        return ROSTER_E_NOMEM;
    /* Required arguments first, with their own wording. */
    for (uint32_t i = 0; i < plan->n_fields; i++) {
        const xl_field *f = &plan->fields[i];
        if (!f->required)
            continue;
        const gql_value *v = gql_value_get(args, f->name);
        int bad = 0;
        char *s = is_null(v) ? NULL : vstr(c, v, &bad);
        if (s == NULL) {
            snprintf(err->field, sizeof err->field, "%s", f->name);
            snprintf(err->message, sizeof err->message,
                     is_null(v) ? "%s is required" : "%s must be text without NUL characters",
                     f->name);
            return ROSTER_E_INVALID_ARGUMENT;
        }
        *AT(m, f->pb->offset, char *) = s;
    }
    xl_run r = {.c = c, .err = err};
    xl_object(&r, m, plan, args);
    if (r.failed)
        return ROSTER_E_INVALID_ARGUMENT;
    *out = m;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ output */

enum { O_STRING, O_JSON, O_BOOL, O_INT64, O_INT32, O_OBJECT, O_OBJECT_LIST };

typedef struct xl_out {
    const ProtobufCFieldDescriptor *pb;
    uint8_t how;
    uint8_t zero_if_absent; /* non-null Boolean/Int: proto2's default, not null */
} xl_out;

/* The resolver of every joined object field: reads the source message's
 * field by its descriptor. */
static void out_field(gql_call *c, void *ud)
{
    const xl_out *o = ud;
    const ProtobufCFieldDescriptor *f = o->pb;
    const void *m = gql_call_source(c);
    gql_result r = gql_r_null();
    switch (o->how) {
    case O_STRING: {
        const char *s = *AT(m, f->offset, char *const);
        r = s ? gql_r_string(s, strlen(s)) : gql_r_null();
        break;
    }
    case O_JSON: {
        const char *s = *AT(m, f->offset, char *const);
        r = s ? gql_r_raw_json(s, strlen(s)) : gql_r_null();
        break;
    }
    case O_BOOL:
        if (*AT(m, f->quantifier_offset, const protobuf_c_boolean))
            r = gql_r_bool(*AT(m, f->offset, const protobuf_c_boolean));
        else if (o->zero_if_absent)
            r = gql_r_bool(0);
        break;
    case O_INT64:
        if (*AT(m, f->quantifier_offset, const protobuf_c_boolean))
            r = gql_r_int(*AT(m, f->offset, const int64_t));
        else if (o->zero_if_absent)
            r = gql_r_int(0);
        break;
    case O_INT32:
        if (*AT(m, f->quantifier_offset, const protobuf_c_boolean))
            r = gql_r_int(*AT(m, f->offset, const int32_t));
        else if (o->zero_if_absent)
            r = gql_r_int(0);
        break;
    case O_OBJECT:
        r = gql_r_object(*AT(m, f->offset, void *const));
        break;
    case O_OBJECT_LIST: {
        size_t n = *AT(m, f->quantifier_offset, const size_t);
        void *const *items = *AT(m, f->offset, void *const *const);
        gql_result *out = gql_alloc(c, sizeof *out * (n ? n : 1));
        if (out == NULL) {
            gql_resolve_error(c, "INTERNAL_SERVER_ERROR", "out of memory", NULL);
            return;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = gql_r_object(items[i]);
        r = gql_r_list(out, n);
        break;
    }
    }
    gql_resolve_done(c, r);
}

/* The reply's one repeated message field (a page's records), or NULL. */
static const ProtobufCFieldDescriptor *only_repeated_message(const ProtobufCMessageDescriptor *d)
{
    const ProtobufCFieldDescriptor *found = NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE) {
            if (found)
                return NULL;
            found = f;
        }
    }
    return found;
}

/* How field g shows protobuf field pb; -1 when it cannot. */
static int out_kind(const gql_field *g, const ProtobufCFieldDescriptor *pb)
{
    const gql_wtype *t = nullable_of(g->type);
    bool repeated = pb->label == PROTOBUF_C_LABEL_REPEATED;
    if (t->kind == GQL_KIND_LIST) {
        const gql_wtype *item = nullable_of(t->of);
        return repeated && pb->type == PROTOBUF_C_TYPE_MESSAGE && item->kind == GQL_KIND_OBJECT
                   ? O_OBJECT_LIST
                   : -1;
    }
    if (repeated)
        return -1;
    const gql_type *named = t->named;
    if (named->kind == GQL_KIND_OBJECT)
        return pb->type == PROTOBUF_C_TYPE_MESSAGE ? O_OBJECT : -1;
    if (named->kind != GQL_KIND_SCALAR)
        return -1;
    switch (named->builtin) {
    case GQL_SCALAR_STRING:
    case GQL_SCALAR_ID:
        return pb->type == PROTOBUF_C_TYPE_STRING ? O_STRING : -1;
    case GQL_SCALAR_BOOLEAN:
        return pb->type == PROTOBUF_C_TYPE_BOOL ? O_BOOL : -1;
    case GQL_SCALAR_INT:
        return pb->type == PROTOBUF_C_TYPE_INT64   ? O_INT64
               : pb->type == PROTOBUF_C_TYPE_INT32 ? O_INT32
                                                   : -1;
    case GQL_SCALAR_CUSTOM:
        if (str_is(named->name, "Date"))
            return pb->type == PROTOBUF_C_TYPE_INT64 ? O_INT64 : -1;
        if (str_is(named->name, "JsonObject"))
            return pb->type == PROTOBUF_C_TYPE_STRING ? O_JSON : -1;
        return -1;
    }
    return -1;
}

static bool is_special(const gql_type *type, const gql_field *g, const gw_xl_special *specials,
                       size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (str_is(type->name, specials[i].type) && str_is(g->name, specials[i].field))
            return true;
    return false;
}

int gw_xl_bind_object(gw_xl *x, gql_resolvers *t, const gql_type *type,
                      const ProtobufCMessageDescriptor *desc, const gw_xl_special *specials,
                      size_t n_specials)
{
    for (const xl_bound *b = x->bound; b; b = b->next)
        if (b->type == type)
            return b->desc == desc ? ROSTER_E_OK : ROSTER_E_INVALID_ARGUMENT;
    if (type->kind != GQL_KIND_OBJECT)
        return ROSTER_E_INVALID_ARGUMENT;
    xl_bound *b = roster_arena_alloc(&x->arena, sizeof *b);
    if (b == NULL)
        return ROSTER_E_NOMEM;
    b->type = type;
    b->desc = desc;
    b->next = x->bound;
    x->bound = b;
    char tname[128], fname[128];
    if (type->name.len >= sizeof tname)
        return ROSTER_E_INVALID_ARGUMENT;
    memcpy(tname, type->name.ptr, type->name.len);
    tname[type->name.len] = '\0';
    for (uint32_t i = 0; i < type->n_fields; i++) {
        const gql_field *g = &type->fields[i];
        if (g->name.len >= sizeof fname ||
            (g->name.len >= 2 && g->name.ptr[0] == '_' && g->name.ptr[1] == '_'))
            continue;
        if (is_special(type, g, specials, n_specials))
            continue;
        char snake[128];
        model_snake_name(snake, sizeof snake, g->name.ptr, g->name.len);
        const ProtobufCFieldDescriptor *pb = pb_field(desc, snake);
        /* A page's `data`: the records, the reply's one repeated message. */
        if (pb == NULL && nullable_of(g->type)->kind == GQL_KIND_LIST)
            pb = only_repeated_message(desc);
        if (pb == NULL)
            continue; /* not served; tests/gateway/test_gw_model.c reports it */
        int how = out_kind(g, pb);
        if (how < 0)
            return ROSTER_E_INVALID_ARGUMENT;
        xl_out *o = roster_arena_alloc(&x->arena, sizeof *o);
        if (o == NULL)
            return ROSTER_E_NOMEM;
        o->pb = pb;
        o->how = (uint8_t)how;
        o->zero_if_absent = g->type->kind == GQL_KIND_NON_NULL &&
                            (how == O_BOOL || how == O_INT32 ||
                             (how == O_INT64 && g->type->named->builtin == GQL_SCALAR_INT));
        memcpy(fname, g->name.ptr, g->name.len);
        fname[g->name.len] = '\0';
        int rc = gql_resolvers_set(t, tname, fname, out_field, o);
        if (rc != ROSTER_E_OK)
            return rc;
        if (how == O_OBJECT || how == O_OBJECT_LIST) {
            rc = gw_xl_bind_object(x, t, g->type->named, pb->descriptor, specials, n_specials);
            if (rc != ROSTER_E_OK)
                return rc;
        }
    }
    return ROSTER_E_OK;
}
