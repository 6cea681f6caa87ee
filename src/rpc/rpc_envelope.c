#include "rpc_envelope.h"

#include <stdbool.h>
#include <string.h>

int rpc_body_decode(ProtobufCMessage **out, roster_arena *arena,
                    const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                    roster_err_detail *detail)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, buf);
    if (m == NULL)
        return roster_fail(detail, ROSTER_E_PROTOCOL, "",
                           "body is not a valid %s message (%zu bytes)", desc->name, len);
    *out = m;
    return ROSTER_E_OK;
}

/* Reads a varint at *p (before end); false when it is cut short. */
static bool wire_varint(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Appends field name `name` to the path in `path` (length *n) in GraphQL
 * form: a '.' separator, then snake_case turned into lowerCamelCase. */
static void path_push(char *path, size_t cap, size_t *n, const char *name)
{
    size_t i = *n;
    if (i > 0 && i + 1 < cap)
        path[i++] = '.';
    for (bool up = false; *name != '\0' && i + 1 < cap; name++) {
        if (*name == '_') {
            up = true;
            continue;
        }
        path[i++] = up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        up = false;
    }
    path[i] = '\0';
    *n = i;
}

static int check_strings(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                         const uint8_t *end, char *path, size_t cap, size_t plen,
                         roster_err_detail *detail)
{
    while (p < end) {
        uint64_t tag, v;
        if (!wire_varint(&tag, &p, end))
            return ROSTER_E_OK; /* unpack already judged the framing */
        switch (tag & 7) {
        case 0:
            if (!wire_varint(&v, &p, end))
                return ROSTER_E_OK;
            break;
        case 1:
            p += (size_t)(end - p) < 8 ? (size_t)(end - p) : 8;
            break;
        case 5:
            p += (size_t)(end - p) < 4 ? (size_t)(end - p) : 4;
            break;
        case 2: {
            if (!wire_varint(&v, &p, end) || v > (uint64_t)(end - p))
                return ROSTER_E_OK;
            const uint8_t *body = p;
            p += v;
            if (tag >> 3 > UINT32_MAX)
                break;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3));
            if (f == NULL)
                break;
            size_t n = plen;
            path_push(path, cap, &n, f->name);
            if (f->type == PROTOBUF_C_TYPE_STRING && memchr(body, '\0', (size_t)v) != NULL)
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, path,
                                   "%s contains a NUL character", path);
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int err = check_strings(f->descriptor, body, body + v, path, cap, n, detail);
                if (err != ROSTER_E_OK)
                    return err;
            }
            path[plen] = '\0';
            break;
        }
        default:
            return ROSTER_E_OK; /* groups: not in roster.proto */
        }
    }
    return ROSTER_E_OK;
}

int rpc_body_check_strings(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                           roster_err_detail *detail)
{
    char path[64] = "";
    if (buf == NULL)
        return ROSTER_E_OK;
    return check_strings(desc, buf, (const uint8_t *)buf + len, path, sizeof path, 0, detail);
}

int rpc_request_decode(Roster__V1__RpcRequest **out, roster_arena *arena, const void *buf,
                       size_t len, roster_err_detail *detail)
{
    ProtobufCAllocator alloc;
    roster_arena_protobuf_allocator(&alloc, arena);
    Roster__V1__RpcRequest *r = roster__v1__rpc_request__unpack(&alloc, len, buf);
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
