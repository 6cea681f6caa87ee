#include "pb_pack.h"

#include <stdlib.h>

#include "error.h"

int gw_pb_pack(uint8_t **out, size_t *out_len, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return ROSTER_E_NOMEM;
    *out_len = protobuf_c_message_pack(msg, buf);
    *out = buf;
    return ROSTER_E_OK;
}
