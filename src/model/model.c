#include "model.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

#define MODEL_X_FIELD(n, t, m, f, fl) {#n, MODEL_T_##t, m, MODEL_FILTER_##f, fl},

static const model_field user_fields[] = {MODEL_USER_FIELDS(MODEL_X_FIELD)};
static const model_field tenant_fields[] = {MODEL_TENANT_FIELDS(MODEL_X_FIELD)};
#undef MODEL_X_FIELD

_Static_assert(MODEL_USER__COUNT <= MODEL_MAX_FIELDS && MODEL_TENANT__COUNT <= MODEL_MAX_FIELDS,
               "MODEL_MAX_FIELDS is too small");

const model_record model_user = {"user", "UserModel", &roster__v1__user__descriptor, user_fields,
                                 MODEL_USER__COUNT};
const model_record model_tenant = {"tenant", "TenantModel", &roster__v1__tenant__descriptor,
                                   tenant_fields, MODEL_TENANT__COUNT};

/* Protobuf field descriptors, joined by name once per process. */
static const ProtobufCFieldDescriptor *user_pb[MODEL_USER__COUNT];
static const ProtobufCFieldDescriptor *tenant_pb[MODEL_TENANT__COUNT];
static pthread_once_t join_once = PTHREAD_ONCE_INIT;

static void join_record(const model_record *r, const ProtobufCFieldDescriptor **out)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        char snake[64];
        model_snake_name(snake, sizeof snake, r->fields[i].name, strlen(r->fields[i].name));
        out[i] = protobuf_c_message_descriptor_get_field_by_name(r->pb, snake);
    }
}

static void join_all(void)
{
    join_record(&model_user, user_pb);
    join_record(&model_tenant, tenant_pb);
}

const model_field *model_field_named(const model_record *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->n_fields; i++)
        if (strlen(r->fields[i].name) == len && memcmp(r->fields[i].name, name, len) == 0)
            return &r->fields[i];
    return NULL;
}

const ProtobufCFieldDescriptor *model_pb_field(const model_record *r, const model_field *f)
{
    pthread_once(&join_once, join_all);
    size_t i = (size_t)(f - r->fields);
    if (i >= r->n_fields)
        return NULL;
    return r == &model_user ? user_pb[i] : r == &model_tenant ? tenant_pb[i] : NULL;
}

void model_join_init(model_join *out, const model_record *r, const ProtobufCMessageDescriptor *pb)
{
    model_join j = {.r = r, .pb = pb};
    for (size_t i = 0; i < r->n_fields; i++) {
        char snake[64];
        model_snake_name(snake, sizeof snake, r->fields[i].name, strlen(r->fields[i].name));
        j.fields[i] = protobuf_c_message_descriptor_get_field_by_name(pb, snake);
    }
    *out = j;
}

static void *member(const ProtobufCMessage *m, unsigned offset)
{
    return (char *)m + offset;
}

static bool is_pointer(const ProtobufCFieldDescriptor *fd)
{
    return fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE;
}

/* Size of a scalar value in the C struct. */
static size_t scalar_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4; /* int32, uint32, enum, float and their fixed forms */
    }
}

void model_pb_copy(ProtobufCMessage *dst, const ProtobufCFieldDescriptor *dfd,
                   const ProtobufCMessage *src, const ProtobufCFieldDescriptor *sfd)
{
    if (!model_pb_has(src, sfd)) {
        model_pb_clear(dst, dfd);
        return;
    }
    if (is_pointer(dfd)) {
        *(void **)member(dst, dfd->offset) = *(void *const *)member(src, sfd->offset);
        return;
    }
    memcpy(member(dst, dfd->offset), member(src, sfd->offset), scalar_size(dfd));
    if (dfd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)member(dst, dfd->quantifier_offset) = dfd->id;
    else if (dfd->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)member(dst, dfd->quantifier_offset) = 1;
}

void model_pb_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    if (is_pointer(fd)) {
        *(void **)member(m, fd->offset) = NULL;
        return;
    }
    memset(member(m, fd->offset), 0, scalar_size(fd));
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)member(m, fd->quantifier_offset) = 0;
    else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)member(m, fd->quantifier_offset) = 0;
}

bool model_name_eq(const char *snake, const char *camel, size_t len)
{
    size_t j = 0;
    for (const char *p = snake; *p; p++) {
        char want = *p;
        if (want == '_') {
            if (p[1] == '\0')
                return false;
            want = (char)toupper((unsigned char)*++p);
        }
        if (j >= len || camel[j] != want)
            return false;
        j++;
    }
    return j == len;
}

size_t model_camel_name(char *out, size_t cap, const char *snake)
{
    size_t n = 0;
    for (const char *p = snake; *p; p++) {
        char c = *p;
        if (c == '_' && p[1] != '\0')
            c = (char)toupper((unsigned char)*++p);
        if (n + 1 < cap)
            out[n] = c;
        n++;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

size_t model_snake_name(char *out, size_t cap, const char *camel, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = camel[i];
        if (isupper((unsigned char)c)) {
            if (n + 1 < cap)
                out[n] = '_';
            n++;
            c = (char)tolower((unsigned char)c);
        }
        if (n + 1 < cap)
            out[n] = c;
        n++;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

/* Length of the prefix every value of e shares, up to and including its
 * last '_' ("USER_SORT_FIELD_"). */
static size_t enum_prefix_len(const ProtobufCEnumDescriptor *e)
{
    if (e->n_values == 0)
        return 0;
    const char *first = e->values[0].name;
    size_t common = strlen(first);
    for (unsigned i = 1; i < e->n_values; i++) {
        const char *v = e->values[i].name;
        size_t k = 0;
        while (k < common && v[k] == first[k])
            k++;
        common = k;
    }
    while (common > 0 && first[common - 1] != '_')
        common--;
    return common;
}

/* CREATED_AT (upper) against GraphQL text in either form. */
static bool enum_name_eq(const char *upper, const char *name, size_t len)
{
    if (strlen(upper) == len && memcmp(upper, name, len) == 0)
        return true;
    /* camelCase: lower the upper name and compare as a protobuf name. */
    char snake[128];
    size_t n = strlen(upper);
    if (n >= sizeof snake)
        return false;
    for (size_t i = 0; i <= n; i++)
        snake[i] = (char)tolower((unsigned char)upper[i]);
    return model_name_eq(snake, name, len);
}

const ProtobufCEnumValue *model_enum_value(const ProtobufCEnumDescriptor *e, const char *name,
                                           size_t len)
{
    size_t prefix = enum_prefix_len(e);
    for (unsigned i = 0; i < e->n_values; i++) {
        const ProtobufCEnumValue *v = &e->values[i];
        if (v->value == 0) /* *_UNSPECIFIED */
            continue;
        if (enum_name_eq(v->name + prefix, name, len))
            return v;
    }
    return NULL;
}

const char *model_enum_short_name(const ProtobufCEnumDescriptor *e, const ProtobufCEnumValue *v)
{
    return v->name + enum_prefix_len(e);
}
