#include "rpc_method.h"

#include <string.h>

#define SVC "/roster.v1.UserService/"

static const rpc_method methods[RPC_METHOD__COUNT] = {
    {RPC_CREATE_USER, SVC "CreateUser", "CreateUser", &roster__v1__create_user_request__descriptor,
     &roster__v1__user__descriptor, true},
    {RPC_UPDATE_USER, SVC "UpdateUser", "UpdateUser", &roster__v1__update_user_request__descriptor,
     &roster__v1__user__descriptor, true},
    {RPC_GET_USER, SVC "GetUser", "GetUser", &roster__v1__get_user_request__descriptor,
     &roster__v1__user__descriptor, false},
    {RPC_BATCH_GET_USERS, SVC "BatchGetUsers", "BatchGetUsers",
     &roster__v1__batch_get_users_request__descriptor,
     &roster__v1__batch_get_users_response__descriptor, false},
    {RPC_LIST_USERS, SVC "ListUsers", "ListUsers", &roster__v1__list_users_request__descriptor,
     &roster__v1__list_users_response__descriptor, false},
    {RPC_CREATE_TENANT, SVC "CreateTenant", "CreateTenant",
     &roster__v1__create_tenant_request__descriptor, &roster__v1__tenant__descriptor, true},
    {RPC_UPDATE_TENANT, SVC "UpdateTenant", "UpdateTenant",
     &roster__v1__update_tenant_request__descriptor, &roster__v1__tenant__descriptor, true},
    {RPC_GET_TENANT, SVC "GetTenant", "GetTenant", &roster__v1__get_tenant_request__descriptor,
     &roster__v1__tenant__descriptor, false},
    {RPC_BATCH_GET_TENANTS, SVC "BatchGetTenants", "BatchGetTenants",
     &roster__v1__batch_get_tenants_request__descriptor,
     &roster__v1__batch_get_tenants_response__descriptor, false},
    {RPC_LIST_TENANTS, SVC "ListTenants", "ListTenants",
     &roster__v1__list_tenants_request__descriptor, &roster__v1__list_tenants_response__descriptor,
     false},
    {RPC_HEALTH, SVC "Health", "Health", &roster__v1__health_request__descriptor,
     &roster__v1__health_response__descriptor, false},
    {RPC_STATS, SVC "Stats", "Stats", &roster__v1__stats_request__descriptor,
     &roster__v1__stats_response__descriptor, false},
};

const rpc_method *rpc_method_get(rpc_method_id id)
{
    if ((int)id < 0 || id >= RPC_METHOD__COUNT)
        return NULL;
    return &methods[id];
}

const rpc_method *rpc_method_find(const char *name, size_t len)
{
    if (name == NULL)
        return NULL;
    for (int i = 0; i < RPC_METHOD__COUNT; i++) {
        if (strlen(methods[i].name) == len && memcmp(methods[i].name, name, len) == 0)
            return &methods[i];
    }
    return NULL;
}
