/* The RPC envelope on the client side: encodes an RpcRequest around a
 * request message straight into an nng message, and decodes an RpcReply
 * into a roster_status plus a borrowed slice of the reply body. */
#ifndef ROSTER_CLIENT_ENVELOPE_H
#define ROSTER_CLIENT_ENVELOPE_H

#include <nng/nng.h>
#include <stddef.h>
#include <stdint.h>

#include "roster_client.h"

/* Encodes RpcRequest{method, body = `fields`-encoded `req`, context} into a
 * new nng message. `method` (gRPC form), `req` and the strings in `o` are
 * borrowed for the call only; `o` may be NULL. timeout_ms is sent as
 * context.timeout_ms when non-zero. On success *out is a message owned by
 * the caller (free with nng_msg_free or hand to nng). */
int roster_envelope_encode(nng_msg **out, const char *method, const pb_msgdesc_t *fields,
                           const void *req, const roster_call_options *o, uint32_t timeout_ms);

/* Decodes an RpcReply from buf[0..len). On success *body and *body_len borrow
 * the reply body inside buf (length 0 when absent) and st is filled with
 * code, message and violations (st->err = roster_err_from_status(code)).
 * Returns ROSTER_E_PROTOCOL, with st->message saying why, when the bytes
 * are not an RpcReply. */
int roster_envelope_decode(const uint8_t **body, size_t *body_len, roster_status *st,
                           const uint8_t *buf, size_t len);

/* nanopb callbacks shared by the client modules. */

/* Encode callback: arg is a NUL-terminated string (borrowed). */
bool roster_pb_encode_cstr(pb_ostream_t *stream, const pb_field_t *field, void *const *arg);

/* Encode callback: arg is a roster_strlist (borrowed). */
bool roster_pb_encode_strlist(pb_ostream_t *stream, const pb_field_t *field, void *const *arg);

/* A fixed buffer a decode callback copies a string into, truncating. */
typedef struct roster_pb_strbuf {
    char *buf;
    size_t cap; /* bytes including the NUL */
} roster_pb_strbuf;

/* Decode callback: arg is a roster_pb_strbuf; the string is truncated to
 * fit and always NUL-terminated. */
bool roster_pb_decode_strbuf(pb_istream_t *stream, const pb_field_t *field, void **arg);

#endif
