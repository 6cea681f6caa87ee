#include "envelope.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <string.h>

#include "roster_limits.h"

bool roster_pb_encode_cstr(pb_ostream_t *stream, const pb_field_t *field, void *const *arg)
{
    const char *s = *arg;
    if (s == NULL)
        return true;
    if (!pb_encode_tag_for_field(stream, field))
        return false;
    return pb_encode_string(stream, (const pb_byte_t *)s, strlen(s));
}

bool roster_pb_encode_strlist(pb_ostream_t *stream, const pb_field_t *field, void *const *arg)
{
    const roster_strlist *l = *arg;
    if (l == NULL)
        return true;
    for (size_t i = 0; i < l->count; i++) {
        const char *s = l->values[i] != NULL ? l->values[i] : "";
        if (!pb_encode_tag_for_field(stream, field) ||
            !pb_encode_string(stream, (const pb_byte_t *)s, strlen(s)))
            return false;
    }
    return true;
}

bool roster_pb_decode_strbuf(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_pb_strbuf *b = *arg;
    size_t n = stream->bytes_left;
    size_t keep = n < b->cap - 1 ? n : b->cap - 1;
    if (!pb_read(stream, (pb_byte_t *)b->buf, keep))
        return false;
    b->buf[keep] = '\0';
    return pb_read(stream, NULL, n - keep);
}

struct body_arg {
    const pb_msgdesc_t *fields;
    const void *req;
};

static bool encode_body(pb_ostream_t *stream, const pb_field_t *field, void *const *arg)
{
    const struct body_arg *b = *arg;
    if (!pb_encode_tag_for_field(stream, field))
        return false;
    return pb_encode_submessage(stream, b->fields, b->req);
}

static int encode_sized(nng_msg **out, const char *method, const pb_msgdesc_t *fields,
                        const void *req, const roster_call_options *o, uint32_t timeout_ms)
{
    struct body_arg body = {fields, req};
    roster_v1_RpcRequest env = roster_v1_RpcRequest_init_zero;
    nng_msg *m = NULL;
    size_t size = 0;

    env.method.funcs.encode = roster_pb_encode_cstr;
    env.method.arg = (void *)method;
    env.body.funcs.encode = encode_body;
    env.body.arg = &body;
    env.has_context = true;
    if (timeout_ms != 0) {
        env.context.has_timeout_ms = true;
        env.context.timeout_ms = timeout_ms;
    }
    if (o != NULL && o->request_id != NULL) {
        env.context.request_id.funcs.encode = roster_pb_encode_cstr;
        env.context.request_id.arg = (void *)o->request_id;
    }
    if (o != NULL && o->credential != NULL) {
        env.context.credential.funcs.encode = roster_pb_encode_cstr;
        env.context.credential.arg = (void *)o->credential;
    }
    if (!pb_get_encoded_size(&size, roster_v1_RpcRequest_fields, &env))
        return ROSTER_E_INVALID_ARGUMENT;
    if (size > ROSTER_MAX_RPC_MESSAGE)
        return ROSTER_E_TOO_LARGE;
    if (nng_msg_alloc(&m, size) != 0)
        return ROSTER_E_NOMEM;
    pb_ostream_t os = pb_ostream_from_buffer(nng_msg_body(m), size);
    if (!pb_encode(&os, roster_v1_RpcRequest_fields, &env) || os.bytes_written != size)
        goto fail;
    *out = m;
    return ROSTER_E_OK;
fail:
    nng_msg_free(m);
    return ROSTER_E_INVALID_ARGUMENT;
}

/* Bytes a varint takes. */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static bool put_bytes(pb_ostream_t *os, uint32_t field, const void *p, size_t n)
{
    return pb_encode_tag(os, PB_WT_STRING, field) && pb_encode_string(os, p, n);
}

/* The common case in one pass over the request: the body and the call
 * context are encoded into stack buffers, then the envelope (method = 1,
 * body = 2, context = 3, the order nanopb itself writes) is laid out
 * straight into a message of the exact size. Returns ROSTER_E_TOO_LARGE
 * when a part does not fit the stack buffers; the caller then takes the
 * general path. */
static int encode_small(nng_msg **out, const char *method, const pb_msgdesc_t *fields,
                        const void *req, const roster_call_options *o, uint32_t timeout_ms)
{
    uint8_t body[4096];
    uint8_t ctx[512];
    nng_msg *m = NULL;
    pb_ostream_t bs = pb_ostream_from_buffer(body, sizeof body);
    if (!pb_encode(&bs, fields, req))
        return ROSTER_E_TOO_LARGE;
    pb_ostream_t cs = pb_ostream_from_buffer(ctx, sizeof ctx);
    if (o != NULL && o->request_id != NULL &&
        !put_bytes(&cs, roster_v1_CallContext_request_id_tag, o->request_id, strlen(o->request_id)))
        return ROSTER_E_TOO_LARGE;
    if (timeout_ms != 0 &&
        !(pb_encode_tag(&cs, PB_WT_VARINT, roster_v1_CallContext_timeout_ms_tag) &&
          pb_encode_varint(&cs, timeout_ms)))
        return ROSTER_E_TOO_LARGE;
    if (o != NULL && o->credential != NULL &&
        !put_bytes(&cs, roster_v1_CallContext_credential_tag, o->credential, strlen(o->credential)))
        return ROSTER_E_TOO_LARGE;
    size_t mlen = strlen(method);
    size_t size = 1 + varint_len(mlen) + mlen + 1 + varint_len(bs.bytes_written) +
                  bs.bytes_written + 1 + varint_len(cs.bytes_written) + cs.bytes_written;
    if (nng_msg_alloc(&m, size) != 0)
        return ROSTER_E_NOMEM;
    pb_ostream_t os = pb_ostream_from_buffer(nng_msg_body(m), size);
    if (!put_bytes(&os, roster_v1_RpcRequest_method_tag, method, mlen) ||
        !put_bytes(&os, roster_v1_RpcRequest_body_tag, body, bs.bytes_written) ||
        !put_bytes(&os, roster_v1_RpcRequest_context_tag, ctx, cs.bytes_written) ||
        os.bytes_written != size) {
        nng_msg_free(m);
        return ROSTER_E_INVALID_ARGUMENT;
    }
    *out = m;
    return ROSTER_E_OK;
}

int roster_envelope_encode(nng_msg **out, const char *method, const pb_msgdesc_t *fields,
                           const void *req, const roster_call_options *o, uint32_t timeout_ms)
{
    int err = encode_small(out, method, fields, req, o, timeout_ms);
    if (err != ROSTER_E_TOO_LARGE)
        return err;
    return encode_sized(out, method, fields, req, o, timeout_ms);
}

struct reply_state {
    roster_status *st;
    const uint8_t *body;
    size_t body_len;
};

static bool decode_violation(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    struct reply_state *rs = *arg;
    roster_status *st = rs->st;
    roster_v1_FieldViolation v = roster_v1_FieldViolation_init_zero;
    if (st->violation_count < ROSTER_CLIENT_MAX_VIOLATIONS) {
        roster_err_detail *d = &st->violations[st->violation_count];
        roster_pb_strbuf fb = {d->field, sizeof d->field};
        roster_pb_strbuf mb = {d->message, sizeof d->message};
        d->field[0] = d->message[0] = '\0';
        v.field.funcs.decode = roster_pb_decode_strbuf;
        v.field.arg = &fb;
        v.description.funcs.decode = roster_pb_decode_strbuf;
        v.description.arg = &mb;
        if (!pb_decode(stream, roster_v1_FieldViolation_fields, &v))
            return false;
        st->violation_count++;
    } else if (!pb_decode(stream, roster_v1_FieldViolation_fields, &v)) {
        return false;
    }
    st->violations_total++;
    return true;
}

static bool decode_body_slice(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    struct reply_state *rs = *arg;
    rs->body = stream->state;
    rs->body_len = stream->bytes_left;
    return pb_read(stream, NULL, stream->bytes_left);
}

int roster_envelope_decode(const uint8_t **body, size_t *body_len, roster_status *st,
                           const uint8_t *buf, size_t len)
{
    struct reply_state rs = {st, NULL, 0};
    roster_v1_RpcReply r = roster_v1_RpcReply_init_zero;
    roster_pb_strbuf mb = {st->message, sizeof st->message};

    st->code = -1;
    st->message[0] = '\0';
    st->violation_count = 0;
    st->violations_total = 0;
    r.message.funcs.decode = roster_pb_decode_strbuf;
    r.message.arg = &mb;
    r.violations.funcs.decode = decode_violation;
    r.violations.arg = &rs;
    r.body.funcs.decode = decode_body_slice;
    r.body.arg = &rs;

    pb_istream_t is = pb_istream_from_buffer(buf, len);
    if (!pb_decode(&is, roster_v1_RpcReply_fields, &r)) {
        const char *why = PB_GET_ERROR(&is);
        st->err = ROSTER_E_PROTOCOL;
        st->violation_count = st->violations_total = 0;
        snprintf(st->message, sizeof st->message, "reply envelope does not decode: %s", why);
        return ROSTER_E_PROTOCOL;
    }
    st->code = r.has_code ? r.code : ROSTER_STATUS_OK;
    st->err = roster_err_from_status(st->code);
    *body = rs.body;
    *body_len = rs.body_len;
    return ROSTER_E_OK;
}
