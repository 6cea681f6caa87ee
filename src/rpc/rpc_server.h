/* The RPC server loop: one rep0 socket listening on ipc://, tcp:// or
 * tls+tcp://, and a pool of (context, aio) pairs, each cycling
 * receive -> dispatch -> send. No thread blocks per request: a handler
 * may answer later from any thread (the service's writer does).
 *
 * The server itself answers what needs no handler: undecodable envelopes
 * and bodies (INVALID_ARGUMENT), and unknown methods (UNIMPLEMENTED).
 * Deadlines are left to the handler (rpc_call_expired), which knows when
 * work starts.
 * Messages larger than ROSTER_MAX_RPC_MESSAGE (4 MiB) are refused by nng
 * (NNG_OPT_RECVMAXSZ): the connection that sent one is closed and no reply
 * is sent (the caller's deadline ends its call); other connections are
 * unaffected and the server keeps serving. */
#ifndef ROSTER_RPC_SERVER_H
#define ROSTER_RPC_SERVER_H

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"
#include "rpc_method.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rpc_server rpc_server;
typedef struct rpc_call rpc_call;

/* Handles one decoded request. Owns `call` until it passes it to exactly
 * one rpc_call_reply_* (from any thread, now or later). */
typedef void (*rpc_handler_fn)(void *arg, rpc_call *call);

/* Told about every reply once it has been handed to nng: the method (NULL
 * when unknown), the gRPC status code, and the time from receipt to reply
 * in nanoseconds. Runs on the replying thread; must be quick. */
typedef void (*rpc_observer_fn)(void *arg, const rpc_method *method, int code, int64_t ns);

typedef struct rpc_server_options {
    const char *url;      /* borrowed for rpc_server_start */
    unsigned contexts;    /* requests served at once; 0 picks 64 */
    const char *tls_cert; /* tls+tcp:// only: PEM certificate file */
    const char *tls_key;  /* tls+tcp:// only: PEM private key file */
    int ipc_mode;         /* ipc:// only: socket file permissions, 0..0777; 0 picks 0600 */
    /* Period of the listener check (rpc_listener_guard.h), 0 = off. Every
     * period a private req0 socket completes an SP handshake with the
     * listener; after two failed checks in a row the listener is closed
     * and re-created with the same options. Closing it also closes the
     * connections it had accepted: their clients redial and req0 resends
     * the requests they had not had answered (calls in flight get up to
     * 500 ms to be answered first). */
    unsigned listener_check_ms;
    rpc_handler_fn handler;
    rpc_observer_fn observer; /* may be NULL */
    void *arg;                /* passed to handler and observer */
} rpc_server_options;

/* Creates the socket, starts listening and starts serving. On success *out
 * is caller-owned until rpc_server_free. Errors: ROSTER_E_INVALID_ARGUMENT
 * (bad URL, TLS options missing or unusable, ipc_mode out of range),
 * ROSTER_E_UNAVAILABLE
 * (address in use or not bindable), ROSTER_E_NOMEM; `detail` says which. */
int rpc_server_start(rpc_server **out, const rpc_server_options *opts, roster_err_detail *detail);

/* Stops accepting connections and requests, then waits up to
 * `grace_ms` for calls in flight to be answered. Returns the number of
 * calls still unanswered when it gave up (0 normally). Call once, not from
 * a handler or observer. */
unsigned rpc_server_stop(rpc_server *s, unsigned grace_ms);

/* Has rpc_server_stop call fn(arg) once, first thing, so that work the
 * handler queued elsewhere can start winding down while the server waits
 * for it. Set before rpc_server_stop; `arg` borrowed until then. */
void rpc_server_on_stop(rpc_server *s, void (*fn)(void *arg), void *arg);

/* Closes the socket and frees the server (stopping it first if needed).
 * Accepts NULL. Not from a handler or observer. When nng_close does not
 * return within 2 s (nng 1.5.2's reaper stuck for good, upstream issue
 * #1813), logs event=socket_close_stuck and returns leaving the server
 * allocated and the closing thread running: meant for a process that is
 * exiting anyway. */
void rpc_server_free(rpc_server *s);

/* Listeners re-created by the listener check so far. */
uint64_t rpc_server_listener_restores(const rpc_server *s);

/* Calls being handled right now (received, not yet answered). */
unsigned rpc_server_in_flight(const rpc_server *s);

/* ------------------------------------------------------------ one call
 * Accessors valid from the handler call until the reply. */

const rpc_method *rpc_call_method(const rpc_call *c);
/* The unpacked request, of type rpc_call_method(c)->request; arena-owned. */
const ProtobufCMessage *rpc_call_request(const rpc_call *c);
/* The call's arena: memory for the reply and scratch, recycled after the
 * reply has been sent. */
roster_arena *rpc_call_arena(rpc_call *c);
/* The caller's credential (API key text) from the call context, NULL for
 * a keyless caller; arena-owned. Not checked here: the handler verifies
 * it. */
const char *rpc_call_credential(const rpc_call *c);
/* Room for rpc_call_peer's text: "[v6 address]:port" and a NUL. */
#define RPC_PEER_TEXT_LEN 56
/* The caller's address for logs, written into buf (caller storage) and
 * returned: "ipc" for ipc://, "a.b.c.d:port" or "[v6]:port" for tcp, and
 * "unknown" when the connection has gone. */
const char *rpc_call_peer(char buf[RPC_PEER_TEXT_LEN], const rpc_call *c);
/* The caller's request id, "" when none was sent. */
const char *rpc_call_request_id(const rpc_call *c);
/* True when the caller's deadline has passed. */
bool rpc_call_expired(const rpc_call *c);
/* The caller's deadline on the monotonic clock (roster_mono_ns), 0 when
 * none was sent. */
int64_t rpc_call_deadline_ns(const rpc_call *c);

/* Each of these answers the call and gives it back to the server: `c` must
 * not be used afterwards. */

/* A reply body over ROSTER_MAX_REPLY_BODY is never sent: the call is
 * answered RESOURCE_EXHAUSTED by rpc_reply_limit_fail instead. */

/* OK with `reply` (borrowed for the call) packed as the body. */
void rpc_call_reply_message(rpc_call *c, const ProtobufCMessage *reply);
/* OK with `len` bytes (an already encoded reply message, copied) as the
 * body: replies forwarded from LMDB without re-encoding. */
void rpc_call_reply_bytes(rpc_call *c, const void *body, size_t len);
/* Writes a reply body of exactly `len` bytes at `body` (the reply
 * message's own memory). */
typedef void (*rpc_body_fill_fn)(void *arg, uint8_t *body);
/* OK with a body of `len` bytes that fill(arg, body) writes straight into
 * the reply message, during this call: encodings assembled from borrowed
 * bytes (LMDB pages) without a copy in between. */
void rpc_call_reply_fill(rpc_call *c, size_t len, rpc_body_fill_fn fill, void *arg);
/* The status of `err` (not ROSTER_E_OK) with `detail` (may be NULL) as
 * message and field violation. */
void rpc_call_reply_error(rpc_call *c, int err, const roster_err_detail *detail);

/* Fills d (may be NULL) for a reply of body_len bytes over the reply limit
 * (field ROSTER_REPLY_LIMIT_FIELD, naming the limit and what to ask for
 * instead) and returns ROSTER_E_TOO_LARGE. */
int rpc_reply_limit_fail(roster_err_detail *d, size_t body_len);

/* ------------------------------------------------------------ in-process
 * A request run through the server's decoding and dispatch without a
 * socket, for tests and fuzz harnesses that drive a handler directly. */

/* Receives the packed reply envelope of an in-process call, malloc'd and
 * owned by the callee from here (free it), or NULL and 0 when the call was
 * dropped without a reply (no memory). Called once, from whichever thread
 * answered the call, after everything else the call held is freed. */
typedef void (*rpc_local_done_fn)(void *arg, const void *reply, size_t len);

/* Decodes the request envelope buf[0..len) (borrowed for the call) as a
 * server started with `opts` would (only handler, observer and arg are
 * read; opts is copied): undecodable envelopes and bodies and unknown
 * methods are answered here, every other request goes to opts->handler
 * with an rpc_call that works as usual (rpc_call_peer says "unknown").
 * done(done_arg, ...) gets the reply, now or later; the observer is told
 * of it first. Returns ROSTER_E_NOMEM, without calling done, when the call
 * cannot be set up. */
int rpc_local_call(const rpc_server_options *opts, const void *buf, size_t len,
                   rpc_local_done_fn done, void *done_arg);

#endif
