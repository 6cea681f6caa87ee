#include "rpc_envelope.h"

#include <stdbool.h>
#include <string.h>

/* Unpacking ran into the arena's limit: RESOURCE_EXHAUSTED naming it. */
static int over_limit(roster_err_detail *detail, const roster_arena *arena, const char *type)
{
    return roster_fail(detail, ROSTER_E_NOMEM, "",
                       "unpacking the %s needs more than the per-call memory limit of %zu bytes "
                       "(ROSTER_MAX_CALL_ARENA)",
                       type, arena->limit);
}

int rpc_body_decode(ProtobufCMessage **out, roster_arena *arena,
                    const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                    roster_err_detail *detail)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, buf);
    if (m == NULL && arena->over_limit)
        return over_limit(detail, arena, desc->name);
    if (m == NULL)
        return roster_fail(detail, ROSTER_E_PROTOCOL, "",
                           "body is not a valid %s message (%zu bytes)", desc->name, len);
    *out = m;
    return ROSTER_E_OK;
}

int rpc_request_decode(Roster__V1__RpcRequest **out, roster_arena *arena, const void *buf,
                       size_t len, roster_err_detail *detail)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__RpcRequest *r = roster__v1__rpc_request__unpack(&alloc, len, buf);
    if (r == NULL && arena->over_limit)
        return over_limit(detail, arena, "roster.v1.RpcRequest");
    if (r == NULL)
        return roster_fail(detail, ROSTER_E_PROTOCOL, "",
                           "request is not a valid roster.v1.RpcRequest envelope (%zu bytes)", len);
    if (r->method == NULL || r->method[0] == '\0')
        return roster_fail(detail, ROSTER_E_PROTOCOL, "method", "request envelope names no method");
    *out = r;
    return ROSTER_E_OK;
}

int rpc_reply_decode(Roster__V1__RpcReply **out, roster_arena *arena, const void *buf, size_t len,
                     roster_err_detail *detail)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__RpcReply *r = roster__v1__rpc_reply__unpack(&alloc, len, buf);
    if (r == NULL)
        return roster_fail(detail, ROSTER_E_PROTOCOL, "",
                           "reply is not a valid roster.v1.RpcReply envelope (%zu bytes)", len);
    if (!r->has_code)
        return roster_fail(detail, ROSTER_E_PROTOCOL, "code", "reply envelope carries no status");
    *out = r;
    return ROSTER_E_OK;
}

void rpc_request_init(Roster__V1__RpcRequest *req, Roster__V1__CallContext *ctx, const char *method,
                      const void *body, size_t body_len, const char *request_id,
                      uint32_t timeout_ms, const char *credential)
{
    roster__v1__rpc_request__init(req);
    roster__v1__call_context__init(ctx);
    req->method = (char *)method;
    req->has_body = 1;
    req->body.data = (uint8_t *)body;
    req->body.len = body_len;
    ctx->request_id = (char *)request_id;
    if (timeout_ms) {
        ctx->has_timeout_ms = 1;
        ctx->timeout_ms = timeout_ms;
    }
    ctx->credential = (char *)credential;
    req->context = ctx;
}

int rpc_message_pack(uint8_t **out_buf, size_t *out_len, roster_arena *arena,
                     const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = roster_arena_alloc(arena, n ? n : 1);
    if (buf == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_pack(msg, buf);
    *out_buf = buf;
    *out_len = n;
    return ROSTER_E_OK;
}
