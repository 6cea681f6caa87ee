#include "request.h"

#include "pbfield.h"

#include <string.h>

/* The field of m's message type named (GraphQL name) `name`. */
static const ProtobufCFieldDescriptor *named(const ProtobufCMessage *m, const char *name)
{
    return ctl_pbfield_named(m->descriptor, name, strlen(name));
}

/* Appends customData condition c to the filter's repeated customData. */
static int set_custom(ProtobufCMessage *filter, const ctl_cond *c, roster_arena *arena)
{
    const ProtobufCFieldDescriptor *cf = named(filter, "customData");
    if (cf == NULL || cf->label != PROTOBUF_C_LABEL_REPEATED || cf->type != PROTOBUF_C_TYPE_MESSAGE)
        return ROSTER_E_INVALID_ARGUMENT;
    size_t *n = (size_t *)(void *)((char *)filter + cf->quantifier_offset);
    ProtobufCMessage ***items = (ProtobufCMessage ***)(void *)((char *)filter + cf->offset);
    const ProtobufCMessageDescriptor *md = cf->descriptor;
    ProtobufCMessage **grown = roster_arena_alloc(arena, (*n + 1) * sizeof *grown);
    ProtobufCMessage *cond = roster_arena_alloc(arena, md->sizeof_message);
    if (grown == NULL || cond == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_init(md, cond);
    if (*n)
        memcpy(grown, *items, *n * sizeof *grown);
    grown[*n] = cond;
    const ProtobufCFieldDescriptor *path = named(cond, "path"),
                                   *slot = named(cond, ctl_op_slot(c->op));
    if (path == NULL || slot == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    ctl_pbfield_set_str(cond, path, c->path);
    if (c->op == CTL_OP_IN)
        ctl_pbfield_set_strs(cond, slot, c->list, c->list_len);
    else
        ctl_pbfield_set_str(cond, slot, c->text);
    *items = grown;
    (*n)++;
    return ROSTER_E_OK;
}

/* Sets the operator slot of one condition in the filter message. */
static int set_cond(ProtobufCMessage *filter, const ctl_cond *c, roster_arena *arena)
{
    if (c->path)
        return set_custom(filter, c, arena);
    const ProtobufCMessageDescriptor *fd = filter->descriptor;
    if (c->field < fd->fields || c->field >= fd->fields + fd->n_fields)
        return ROSTER_E_INVALID_ARGUMENT; /* a condition on another entity */
    const ProtobufCFieldDescriptor *slot = ctl_op_field(c->kind, c->op);
    if (slot == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    ProtobufCMessage *kf = ctl_pbfield_message(filter, c->field, arena);
    if (kf == NULL)
        return ROSTER_E_NOMEM;
    switch (c->op) {
    case CTL_OP_IS_NULL:
    case CTL_OP_NOT_NULL:
        ctl_pbfield_set_int(kf, slot, 1);
        return ROSTER_E_OK;
    case CTL_OP_IN:
    case CTL_OP_NOT_IN: {
        /* A StringList: present even when empty (valueIn: [] matches
         * nothing). */
        ProtobufCMessage *list = ctl_pbfield_message(kf, slot, arena);
        if (list == NULL)
            return ROSTER_E_NOMEM;
        const ProtobufCFieldDescriptor *values = named(list, "values");
        if (values == NULL)
            return ROSTER_E_INVALID_ARGUMENT;
        ctl_pbfield_set_strs(list, values, c->list, c->list_len);
        return ROSTER_E_OK;
    }
    default:
        break;
    }
    switch (slot->type) {
    case PROTOBUF_C_TYPE_STRING:
        ctl_pbfield_set_str(kf, slot, c->text);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        ctl_pbfield_set_int(kf, slot, c->boolean);
        break;
    default:
        ctl_pbfield_set_int(kf, slot, c->ms);
        break;
    }
    return ROSTER_E_OK;
}

int ctl_list_request(ProtobufCMessage *req, roster_arena *arena, const ctl_filter *f,
                     const ctl_order *o, const ctl_search *s)
{
    if (f->count > 0) {
        const ProtobufCFieldDescriptor *ff = named(req, "filter");
        if (ff == NULL)
            return ROSTER_E_INVALID_ARGUMENT;
        ProtobufCMessage *filter = ctl_pbfield_message(req, ff, arena);
        if (filter == NULL)
            return ROSTER_E_NOMEM;
        for (size_t i = 0; i < f->count; i++) {
            int err = set_cond(filter, &f->conds[i], arena);
            if (err != ROSTER_E_OK)
                return err;
        }
    }
    if (o->set) {
        const ProtobufCFieldDescriptor *of = named(req, "order");
        ProtobufCMessage *order = of != NULL ? ctl_pbfield_message(req, of, arena) : NULL;
        if (of == NULL)
            return ROSTER_E_INVALID_ARGUMENT;
        if (order == NULL)
            return ROSTER_E_NOMEM;
        const ProtobufCFieldDescriptor *sort = named(order, "sort"), *dir = named(order, "order"),
                                       *custom = named(order, "customData");
        if (sort == NULL || dir == NULL || (o->custom[0] && custom == NULL))
            return ROSTER_E_INVALID_ARGUMENT;
        if (o->custom[0])
            ctl_pbfield_set_str(order, custom, o->custom);
        else
            ctl_pbfield_set_int(order, sort, o->sort);
        ctl_pbfield_set_int(order, dir, o->order);
    }
    if (s != NULL && s->set) {
        const ProtobufCFieldDescriptor *sf = named(req, "search");
        ProtobufCMessage *search = sf != NULL ? ctl_pbfield_message(req, sf, arena) : NULL;
        if (sf == NULL)
            return ROSTER_E_INVALID_ARGUMENT;
        if (search == NULL)
            return ROSTER_E_NOMEM;
        const ProtobufCFieldDescriptor *key = named(search, "key"), *value = named(search, "value");
        if (key == NULL || value == NULL)
            return ROSTER_E_INVALID_ARGUMENT;
        ctl_pbfield_set_int(search, key, s->key);
        ctl_pbfield_set_str(search, value, s->value);
    }
    return ROSTER_E_OK;
}
