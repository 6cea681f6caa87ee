/* The RPC envelope (roster.v1.RpcRequest / roster.v1.RpcReply): decoding
 * into a per-call arena and encoding into caller-provided buffers. Pure
 * protobuf-c; knows nothing of nng. */
#ifndef ROSTER_RPC_ENVELOPE_H
#define ROSTER_RPC_ENVELOPE_H

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Unpacks a request envelope from the `len` bytes at `buf` (borrowed for
 * the call only). On success *out and everything it points to live in
 * `arena` until it is reset or freed. Errors: ROSTER_E_PROTOCOL (not a
 * decodable roster.v1.RpcRequest, or no method), ROSTER_E_NOMEM; `detail`
 * (may be NULL) says what was wrong. ROSTER_E_NOMEM when the arena's limit
 * refused an allocation says so, naming the limit. Run rpc_wire_scan on
 * bytes from a peer first: it bounds what unpacking allocates. */
int rpc_request_decode(Roster__V1__RpcRequest **out, roster_arena *arena, const void *buf,
                       size_t len, roster_err_detail *detail);

/* Unpacks a reply envelope; ownership as for rpc_request_decode. A reply
 * without a code is ROSTER_E_PROTOCOL. */
int rpc_reply_decode(Roster__V1__RpcReply **out, roster_arena *arena, const void *buf, size_t len,
                     roster_err_detail *detail);

/* Unpacks a message body of type `desc` into `arena`. Errors:
 * ROSTER_E_PROTOCOL naming the expected type in `detail`; ROSTER_E_NOMEM
 * (RESOURCE_EXHAUSTED) naming the arena's limit when it refused. */
int rpc_body_decode(ProtobufCMessage **out, roster_arena *arena,
                    const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
                    roster_err_detail *detail);

/* Fills a request envelope that borrows every pointer it is given (they
 * must outlive the envelope's use). `ctx` is caller storage for the call
 * context; request_id and credential (API key text) may be NULL (absent); timeout_ms 0
 * means no deadline. */
void rpc_request_init(Roster__V1__RpcRequest *req, Roster__V1__CallContext *ctx, const char *method,
                      const void *body, size_t body_len, const char *request_id,
                      uint32_t timeout_ms, const char *credential);

/* Packs a request or reply (any message) into `len` bytes allocated in
 * `arena`; *out_buf is arena-owned. */
int rpc_message_pack(uint8_t **out_buf, size_t *out_len, roster_arena *arena,
                     const ProtobufCMessage *msg);

#endif
