/* The google.rpc.Status of a failed gRPC call, as the gateway sends it in
 * the grpc-status-details-bin trailer: the status code, the message and,
 * when the call named fields at fault, one google.rpc.BadRequest (packed in
 * a google.protobuf.Any) listing them. Pure encoding: no transport. */
#ifndef ROSTER_GW_GRPC_STATUS_DETAILS_H
#define ROSTER_GW_GRPC_STATUS_DETAILS_H

#include <stddef.h>
#include <stdint.h>

/* The type URL of the Any that carries the BadRequest. */
#define GW_GRPC_BAD_REQUEST_TYPE_URL "type.googleapis.com/google.rpc.BadRequest"

/* Encodes google.rpc.Status{code, message, details} into a new buffer.
 * `message` (NULL means "") and the `n` strings of `fields` and
 * `descriptions` (NULL entries mean "") are borrowed for the call; both
 * arrays may be NULL when n is 0. With n > 0, details holds one Any
 * {type_url GW_GRPC_BAD_REQUEST_TYPE_URL, value BadRequest{
 * field_violations: (fields[i], descriptions[i]) in order}}; with n == 0,
 * details is empty. Returns ROSTER_E_OK with *out (malloc'ed, owned by the
 * caller, who frees it with free(); never NULL, even for an empty
 * encoding) and *out_len set, or ROSTER_E_NOMEM, leaving both untouched. */
int grpc_status_details_encode(uint8_t **out, size_t *out_len, int code, const char *message,
                               size_t n, const char *const *fields,
                               const char *const *descriptions);

#endif
