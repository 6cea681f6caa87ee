#include "pbfield.h"

#include "model.h"

#include <ctype.h>
#include <string.h>

static void *at(const ProtobufCMessage *m, unsigned offset)
{
    return (char *)m + offset;
}

/* Fields whose presence is their pointer rather than a has_ flag. */
static bool is_pointer(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
}

bool ctl_pbfield_has(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (is_pointer(f))
        return *(void **)at(m, f->offset) != NULL;
    if (f->label != PROTOBUF_C_LABEL_OPTIONAL)
        return true; /* a required scalar is always there */
    return *(protobuf_c_boolean *)at(m, f->quantifier_offset) != 0;
}

void ctl_pbfield_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (is_pointer(f))
        *(void **)at(m, f->offset) = NULL;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)at(m, f->quantifier_offset) = 0;
}

const char *ctl_pbfield_str(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return *(const char **)at(m, f->offset);
}

void ctl_pbfield_set_str(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *s)
{
    *(const char **)at(m, f->offset) = s;
}

int64_t ctl_pbfield_int(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (!ctl_pbfield_has(m, f))
        return 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        return *(protobuf_c_boolean *)at(m, f->offset) ? 1 : 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM:
        return *(int32_t *)at(m, f->offset);
    case PROTOBUF_C_TYPE_INT64:
        return *(int64_t *)at(m, f->offset);
    default:
        return 0;
    }
}

void ctl_pbfield_set_int(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int64_t v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)at(m, f->offset) = v != 0;
        break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_ENUM:
        *(int32_t *)at(m, f->offset) = (int32_t)v;
        break;
    case PROTOBUF_C_TYPE_INT64:
        *(int64_t *)at(m, f->offset) = v;
        break;
    default:
        return;
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        *(protobuf_c_boolean *)at(m, f->quantifier_offset) = 1;
}

void ctl_pbfield_set_strs(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char **list,
                          size_t n)
{
    *(size_t *)at(m, f->quantifier_offset) = n;
    *(char ***)at(m, f->offset) = list;
}

ProtobufCMessage *ctl_pbfield_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                      roster_arena *arena)
{
    ProtobufCMessage **slot = at(m, f->offset);
    if (*slot != NULL)
        return *slot;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    ProtobufCMessage *sub = roster_arena_alloc(arena, d->sizeof_message);
    if (sub == NULL)
        return NULL;
    d->message_init(sub);
    *slot = sub;
    return sub;
}

void ctl_pbfield_copy(ProtobufCMessage *dst, const ProtobufCFieldDescriptor *df,
                      const ProtobufCMessage *src, const ProtobufCFieldDescriptor *sf)
{
    if (!ctl_pbfield_has(src, sf))
        ctl_pbfield_clear(dst, df);
    else if (is_pointer(sf))
        *(void **)at(dst, df->offset) = *(void **)at(src, sf->offset);
    else
        ctl_pbfield_set_int(dst, df, ctl_pbfield_int(src, sf));
}

const ProtobufCFieldDescriptor *ctl_pbfield_named(const ProtobufCMessageDescriptor *d,
                                                  const char *name, size_t len)
{
    for (unsigned i = 0; i < d->n_fields; i++)
        if (model_name_eq(d->fields[i].name, name, len))
            return &d->fields[i];
    return NULL;
}

const char *ctl_pbfield_enum_name(char *buf, size_t cap, const ProtobufCEnumDescriptor *e,
                                  const ProtobufCEnumValue *v)
{
    char lower[64];
    const char *s = model_enum_short_name(e, v);
    size_t n = 0;
    for (; s[n] != '\0' && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)s[n]);
    lower[n] = '\0';
    model_camel_name(buf, cap, lower);
    return buf;
}
