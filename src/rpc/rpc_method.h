/* The method table of roster.v1.UserService: gRPC-form names
 * ("/roster.v1.UserService/GetUser"), request and reply message
 * descriptors, and whether a method writes. Shared by the server, the
 * protobuf-c client and the gateway. Everything here is static data. */
#ifndef ROSTER_RPC_METHOD_H
#define ROSTER_RPC_METHOD_H

#include "roster.pb-c.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum rpc_method_id {
    RPC_CREATE_USER = 0,
    RPC_UPDATE_USER,
    RPC_GET_USER,
    RPC_BATCH_GET_USERS,
    RPC_LIST_USERS,
    RPC_CREATE_TENANT,
    RPC_UPDATE_TENANT,
    RPC_GET_TENANT,
    RPC_BATCH_GET_TENANTS,
    RPC_LIST_TENANTS,
    RPC_HEALTH,
    RPC_STATS,
    RPC_METHOD__COUNT
} rpc_method_id;

typedef struct rpc_method {
    rpc_method_id id;
    const char *name;       /* gRPC form, static: "/roster.v1.UserService/GetUser" */
    const char *short_name; /* static: "GetUser" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    bool writes; /* handled by the service's single writer */
} rpc_method;

/* The entry for `id`; static, NULL when id is out of range. */
const rpc_method *rpc_method_get(rpc_method_id id);

/* The entry whose gRPC-form name is the `len` bytes at `name` (not
 * necessarily NUL-terminated); static, NULL for an unknown method. */
const rpc_method *rpc_method_find(const char *name, size_t len);

#endif
