#include "fields.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store_fields fields;
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

/* Fills table[v] with the field of r each value v of enum e names. */
static void enum_table(int8_t *table, const model_record *r, const ProtobufCEnumDescriptor *e)
{
    memset(table, -1, FIELDS_MAX_ENUM);
    for (size_t i = 0; i < r->n_fields; i++) {
        const char *name = r->fields[i].name;
        const ProtobufCEnumValue *v = model_enum_value(e, name, strlen(name));
        if (v && v->value >= 0 && v->value < FIELDS_MAX_ENUM)
            table[v->value] = (int8_t)i;
    }
}

/* "prefix" + protobuf name of field i, into out. */
static void db_name(char *out, const char *prefix, size_t i)
{
    const char *camel = model_user.fields[i].name;
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    model_snake_name(out + n, FIELDS_NAME_MAX - n, camel, strlen(camel));
}

/* The slot of field fd (of a singular string or optional scalar) for
 * model field i; false when fd is not laid out that way. */
static bool slot_of(msg_slot *out, const ProtobufCFieldDescriptor *fd, size_t i)
{
    if (fd == NULL || fd->label != PROTOBUF_C_LABEL_OPTIONAL ||
        (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || fd->default_value != NULL)
        return false;
    msg_slot sl = {.field = (uint8_t)i, .off = (uint16_t)fd->offset};
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        sl.ptr = true;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        sl.size = sizeof(protobuf_c_boolean);
        break;
    case PROTOBUF_C_TYPE_INT64:
        sl.size = sizeof(int64_t);
        break;
    default:
        return false;
    }
    sl.has_off = (uint16_t)fd->quantifier_offset;
    *out = sl;
    return true;
}

/* Fields validation visits in messages of join j. */
static void check_slots(msg_slots *out, const model_join *j)
{
    out->n = 0;
    for (size_t i = 0; i < j->r->n_fields; i++) {
        const model_field *f = &j->r->fields[i];
        msg_slot sl;
        if ((f->flags & MODEL_SERVER_SET) || !slot_of(&sl, j->fields[i], i))
            continue;
        if (sl.ptr || (f->flags & MODEL_REQUIRED))
            out->s[out->n++] = sl;
    }
}

static void copy_slots(msg_slots *from, msg_slots *to, const model_join *req, const model_join *rec)
{
    from->n = to->n = 0;
    for (size_t i = 0; i < rec->r->n_fields; i++) {
        msg_slot a, b;
        if ((rec->r->fields[i].flags & MODEL_SERVER_SET) || !slot_of(&a, req->fields[i], i) ||
            !slot_of(&b, rec->fields[i], i) || a.ptr != b.ptr || a.size != b.size)
            continue;
        from->s[from->n++] = a;
        to->s[to->n++] = b;
    }
}

static int cmp_sort(const void *a, const void *b)
{
    return strcmp(fields.sort_db[*(const int8_t *)a], fields.sort_db[*(const int8_t *)b]);
}

static void fields_make(void)
{
    store_fields *sf = &fields;
    model_join_init(&sf->user, &model_user, &roster__v1__user__descriptor);
    model_join_init(&sf->create_user, &model_user, &roster__v1__create_user_request__descriptor);
    model_join_init(&sf->update_user, &model_user, &roster__v1__update_user_request__descriptor);
    model_join_init(&sf->tenant, &model_tenant, &roster__v1__tenant__descriptor);
    model_join_init(&sf->create_tenant, &model_tenant,
                    &roster__v1__create_tenant_request__descriptor);
    model_join_init(&sf->update_tenant, &model_tenant,
                    &roster__v1__update_tenant_request__descriptor);
    model_join_init(&sf->user_filter, &model_user, &roster__v1__user_filter__descriptor);
    model_join_init(&sf->tenant_filter, &model_tenant, &roster__v1__tenant_filter__descriptor);

    check_slots(&sf->check_user, &sf->user);
    check_slots(&sf->check_create_user, &sf->create_user);
    check_slots(&sf->check_update_user, &sf->update_user);
    check_slots(&sf->check_tenant, &sf->tenant);
    check_slots(&sf->check_create_tenant, &sf->create_tenant);
    check_slots(&sf->check_update_tenant, &sf->update_tenant);
    copy_slots(&sf->copy_from, &sf->copy_to, &sf->create_user, &sf->user);

    /* Sort indexes, named first, then put in name order. */
    char names[SORT__COUNT][FIELDS_NAME_MAX];
    int8_t order[SORT__COUNT], field_of[SORT__COUNT];
    size_t ns = 0, nu = 0;
    for (size_t i = 0; i < model_user.n_fields; i++) {
        const model_field *f = &model_user.fields[i];
        if ((f->flags & MODEL_SORTABLE) && i != MODEL_USER_createdAt) {
            db_name(names[ns], "idx_", i);
            field_of[ns] = (int8_t)i;
            order[ns] = (int8_t)ns;
            ns++;
        }
        if (f->flags & MODEL_UNIQUE) {
            db_name(sf->uniq_db[nu], "uniq_", i);
            sf->uniq_field[nu++] = (int8_t)i;
        }
        snprintf(sf->filter_name[i], FIELDS_NAME_MAX, "filter.%s", f->name);
    }
    memcpy(sf->sort_db, names, sizeof names); /* cmp_sort reads sort_db */
    qsort(order, ns, sizeof order[0], cmp_sort);
    memset(sf->sort_slot, -1, sizeof sf->sort_slot);
    for (size_t k = 0; k < ns; k++) {
        memcpy(sf->sort_db[k], names[order[k]], FIELDS_NAME_MAX);
        sf->sort_field[k] = field_of[order[k]];
        sf->sort_slot[field_of[order[k]]] = (int8_t)k;
        sf->sort_vdata[k] = (model_user.fields[field_of[order[k]]].flags & MODEL_DISTINCT) != 0;
    }

    enum_table(sf->user_field, &model_user, &roster__v1__user_field__descriptor);
    enum_table(sf->user_sort, &model_user, &roster__v1__user_sort_field__descriptor);
    enum_table(sf->user_search, &model_user, &roster__v1__user_search_key__descriptor);
    enum_table(sf->tenant_sort, &model_tenant, &roster__v1__tenant_sort_field__descriptor);
    for (size_t i = 0; i < model_tenant.n_fields; i++)
        snprintf(sf->tenant_filter_name[i], FIELDS_NAME_MAX, "filter.%s",
                 model_tenant.fields[i].name);

    const ProtobufCEnumDescriptor *keys = &roster__v1__user_search_key__descriptor;
    size_t at = (size_t)snprintf(sf->search_key_message, sizeof sf->search_key_message,
                                 "search.key must name one of ");
    const char *sep = "";
    for (unsigned v = 0; v < keys->n_values; v++) {
        int fi = store_fields_enum(sf->user_search, keys->values[v].value);
        if (fi < 0 || at >= sizeof sf->search_key_message)
            continue;
        at += (size_t)snprintf(sf->search_key_message + at, sizeof sf->search_key_message - at,
                               "%s%s", sep, model_user.fields[fi].name);
        sep = ", ";
    }
}

const store_fields *store_fields_get(void)
{
    pthread_once(&fields_once, fields_make);
    return &fields;
}
