/* Status replies: turning a ROSTER_E_* code plus its detail into the
 * reply envelope's code, message and field violations. */
#ifndef ROSTER_RPC_STATUS_H
#define ROSTER_RPC_STATUS_H

#include "error.h"
#include "roster.pb-c.h"

/* Storage for a reply's status part; lives wherever the reply does (stack
 * or arena). The reply only borrows from it. */
typedef struct rpc_status {
    Roster__V1__FieldViolation violation;
    Roster__V1__FieldViolation *violations[1];
    roster_err_detail detail;
} rpc_status;

/* Initialises `reply` (roster__v1__rpc_reply__init) with the gRPC status
 * of `err`, a message (the detail's message when it has one, else
 * roster_strerror(err)) and one field violation when the detail names a
 * field. `st` is caller storage the reply borrows; `detail` may be NULL
 * and is copied into st. No body is set. */
void rpc_status_reply(Roster__V1__RpcReply *reply, rpc_status *st, int err,
                      const roster_err_detail *detail);

#endif
