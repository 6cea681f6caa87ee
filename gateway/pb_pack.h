/* A protobuf-c message packed into a buffer of its own, for the encoders
 * whose output outlives the structs they pack (grpc_status_details,
 * grpc_reflection). */
#ifndef ROSTER_GW_PB_PACK_H
#define ROSTER_GW_PB_PACK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Packs `msg` (borrowed for the call) into a new buffer: ROSTER_E_OK with
 * *out (malloc'ed, never NULL even for an empty encoding, owned by the
 * caller, who frees it with free()) and *out_len set, or ROSTER_E_NOMEM
 * leaving both untouched. */
int gw_pb_pack(uint8_t **out, size_t *out_len, const ProtobufCMessage *msg);

#endif
