#include "fields.h"

#include <pthread.h>
#include <string.h>

static store_fields fields;
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static void fields_make(void)
{
    model_join_init(&fields.user, &model_user, &roster__v1__user__descriptor);
    model_join_init(&fields.create_user, &model_user, &roster__v1__create_user_request__descriptor);
    model_join_init(&fields.update_user, &model_user, &roster__v1__update_user_request__descriptor);
    model_join_init(&fields.tenant, &model_tenant, &roster__v1__tenant__descriptor);
    model_join_init(&fields.create_tenant, &model_tenant,
                    &roster__v1__create_tenant_request__descriptor);
    model_join_init(&fields.update_tenant, &model_tenant,
                    &roster__v1__update_tenant_request__descriptor);
    memset(fields.user_field, -1, sizeof fields.user_field);
    for (size_t i = 0; i < model_user.n_fields; i++) {
        const char *name = model_user.fields[i].name;
        const ProtobufCEnumValue *v =
            model_enum_value(&roster__v1__user_field__descriptor, name, strlen(name));
        if (v && v->value >= 0 && v->value < FIELDS_MAX_USER_FIELD)
            fields.user_field[v->value] = (int8_t)i;
    }
}

const store_fields *store_fields_get(void)
{
    pthread_once(&fields_once, fields_make);
    return &fields;
}

int store_user_field_of(const store_fields *sf, int v)
{
    return v >= 0 && v < FIELDS_MAX_USER_FIELD ? sf->user_field[v] : -1;
}
