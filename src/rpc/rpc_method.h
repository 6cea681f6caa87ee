/* The protobuf-c binding of the method table (roster_methods.h): for each
 * method of roster.v1.UserService its gRPC-form name
 * ("/roster.v1.UserService/GetUser"), request and reply message
 * descriptors, whether it writes and whether it may be sent again. Shared
 * by the server, the protobuf-c client and the gateway. Everything here is
 * static data. */
#ifndef ROSTER_RPC_METHOD_H
#define ROSTER_RPC_METHOD_H

#include "roster.pb-c.h"
#include "roster_methods.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rpc_method {
    rpc_method_id id;
    const char *name;       /* gRPC form, static: "/roster.v1.UserService/GetUser" */
    const char *short_name; /* static: "GetUser" */
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    bool writes;            /* handled by the service's single writer */
    bool idempotent;        /* may be sent again when no reply came */
    roster_auth_level auth; /* the least role a caller needs */
    bool server_stream;     /* served by the gateway over gRPC only (WatchChanges) */
} rpc_method;

/* The entry for `id`; static, NULL when id is out of range. */
const rpc_method *rpc_method_get(rpc_method_id id);

/* The entry whose gRPC-form name is the `len` bytes at `name` (not
 * necessarily NUL-terminated); static, NULL for an unknown method. */
const rpc_method *rpc_method_find(const char *name, size_t len);

#endif
