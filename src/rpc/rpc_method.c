#include "rpc_method.h"

#include <string.h>

static const rpc_method methods[RPC_METHOD__COUNT] = {
#define RPC_METHOD_ROW(id, Method, Request, request_snake, Reply, reply_snake, access, repeat,     \
                       auth, shape)                                                                \
    [RPC_##id] = {RPC_##id,                                                                        \
                  ROSTER_METHOD_PATH(Method),                                                      \
                  #Method,                                                                         \
                  &roster__v1__##request_snake##__descriptor,                                      \
                  &roster__v1__##reply_snake##__descriptor,                                        \
                  ROSTER_METHOD_WRITES(access),                                                    \
                  ROSTER_METHOD_IDEMPOTENT(repeat),                                                \
                  ROSTER_METHOD_AUTH(auth),                                                        \
                  ROSTER_METHOD_STREAMS(shape)},
    ROSTER_METHOD_MAP(RPC_METHOD_ROW)
#undef RPC_METHOD_ROW
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
