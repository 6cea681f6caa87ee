/* The live side of rosterctl: a connection to the user service chosen by
 * --connect / --data (the protobuf-c RPC client of src/rpc), one
 * synchronous call at a time, and error reporting for a failed call.
 *
 * Opening first dials the service once, synchronously, on a socket of its
 * own and closes it again: the RPC client dials in the background and
 * cannot say why a service is unreachable, while an operator wants to be
 * told at once ("cannot reach the service at URL: Connection refused",
 * exit 3) rather than after --timeout. That dial goes through the whole
 * handshake (SP header, and TLS with the same CA and server name as the
 * client), so the service only ever sees complete connections. Then the
 * RPC client is opened and its connection awaited before the first call
 * (see wait_connected in live.c). */
#ifndef ROSTERCTL_LIVE_H
#define ROSTERCTL_LIVE_H

#include "arena.h"
#include "cli.h"
#include "rpc_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ctl_live {
    rpc_client *client;  /* owned; released by ctl_live_close */
    uint32_t timeout_ms; /* --timeout: sent as the deadline and waited for */
    /* a->credential, the key each call presents (NULL: keyless). Passed
     * per call rather than copied into the client, so the one copy is
     * main's, wiped at exit. */
    const char *credential;
    char url[4200];
} ctl_live;

/* Violations of a failed call kept for the report (more are dropped). */
#define CTL_LIVE_MAX_VIOLATIONS 8

/* How a call ended, as the service (or the transport) reported it. */
typedef struct ctl_status {
    int err;           /* ROSTER_E_* */
    char message[256]; /* the service's message, or why the call failed locally; may be "" */
    size_t violation_count;
    roster_err_detail violations[CTL_LIVE_MAX_VIOLATIONS]; /* field (GraphQL name), description */
} ctl_status;

/* Copies a call's outcome (borrowed for an rpc_client_cb) into *st:
 * error, message and the first CTL_LIVE_MAX_VIOLATIONS violations. */
void ctl_status_from_result(ctl_status *st, const rpc_result *res);

/* Opens a client on a->connect, or on ipc://<absolute a->data>/users.ipc,
 * after checking that the service can be reached. On failure reports the
 * error on stderr (naming the URL) and returns it; *out is then closed. */
int ctl_live_open(ctl_live *out, const ctl_args *a);

/* Closes the client. Accepts NULL and a live that failed to open. */
void ctl_live_close(ctl_live *l);

/* Calls `method` with `req` (a message of the method's request type,
 * borrowed for the call) and waits for the reply, at most l->timeout_ms
 * (plus the RPC client's grace). On success *reply is the method's reply
 * message, unpacked into `arena` (it lives as long as the arena's
 * contents). *st is written on success and failure alike; st->err is the
 * return value: ROSTER_E_OK, the error of the service's status, or a
 * local one (UNAVAILABLE, DEADLINE_EXCEEDED, NOMEM, TOO_LARGE...). */
int ctl_live_call(ProtobufCMessage **reply, ctl_status *st, ctl_live *l, rpc_method_id method,
                  const ProtobufCMessage *req, roster_arena *arena);

/* Reports a failed call (status message and field violations) for command
 * `what` and returns the exit code for err. st may be NULL. UNAUTHENTICATED
 * and PERMISSION_DENIED get a line saying what to do about the key (exit
 * CTL_EXIT_DENIED). */
int ctl_live_fail(const ctl_args *a, const char *what, int err, const ctl_status *st);

/* Prints one record `o` (owned; freed here; NULL means it could not be
 * made) on stdout: JSON with --json, else aligned "key  value" lines.
 * Returns the exit code. */
int ctl_print_record(const ctl_args *a, json_t *o);

/* Makes the one call of a delete command (`method`, whose request and
 * reply are {id}) for a->positional and reports it: {"id": ID} with
 * --json, else "deleted <noun> ID". Returns the exit code. */
int ctl_live_delete(const ctl_args *a, rpc_method_id method, const char *noun);

/* Opens *l (ctl_live_open) and makes one call (ctl_live_call). On success
 * *reply is set as by ctl_live_call and ROSTER_E_OK returned; on failure
 * the error has been reported (ctl_live_fail) and *code holds the exit code
 * to return. The caller closes *l either way. */
int ctl_live_exchange(ProtobufCMessage **reply, int *code, ctl_live *l, const ctl_args *a,
                      rpc_method_id method, const ProtobufCMessage *req, roster_arena *arena);

/* Parses "true"/"false" for option `name`; returns ROSTER_E_OK or
 * ROSTER_E_INVALID_ARGUMENT with d filled. */
int ctl_parse_bool(bool *out, const char *name, const char *text, roster_err_detail *d);

/* Parses a non-negative decimal int32 for option `name`. */
int ctl_parse_count(int32_t *out, const char *name, const char *text, roster_err_detail *d);

#endif
