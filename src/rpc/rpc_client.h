/* Asynchronous protobuf-c RPC client for roster-users (used by the
 * gateway and the tests): one req0 socket, a pool of (context, aio) pairs
 * that grows on demand and is recycled, never freed while the client is
 * open.
 *
 * Threads: every function may be called from any thread, including from
 * inside an rpc_client_cb (a callback may start further calls), except
 * rpc_client_close, which must not be called from a callback.
 *
 * Status: every outcome is a gRPC status code in rpc_result.code. A call
 * that gets no reply within its timeout ends DEADLINE_EXCEEDED (4); a call
 * made while the service is unreachable, or whose deadline passes while no
 * connection exists, ends UNAVAILABLE (14). nng redials by itself
 * (reconnect backoff between reconnect_min_ms and reconnect_max_ms), so
 * calls succeed again once the service is back; a request whose connection
 * drops before the reply is resent on the next connection (writes are
 * therefore at-least-once across a service restart). */
#ifndef ROSTER_RPC_CLIENT_H
#define ROSTER_RPC_CLIENT_H

#include "error.h"
#include "roster.pb-c.h"
#include "rpc_method.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rpc_client rpc_client;

typedef struct rpc_client_options {
    /* (context, aio) pairs created at open; more are added when all are
     * busy. 0 picks 64. */
    unsigned contexts;
    /* Timeout for calls that pass timeout_ms 0. 0 picks 30000. */
    uint32_t default_timeout_ms;
    /* Redial backoff, milliseconds. 0 picks 50 and 1000. */
    uint32_t reconnect_min_ms, reconnect_max_ms;
    /* tls+tcp:// only. CA chain (PEM file) that must sign the server's
     * certificate; NULL skips verification (encryption without
     * authentication). server_name: expected name in that certificate;
     * NULL uses the host of the URL. Both borrowed for rpc_client_open. */
    const char *tls_ca_file;
    const char *tls_server_name;
    /* API key text sent with every call that passes no credential of its
     * own; NULL: such calls are keyless. Copied by rpc_client_open. */
    const char *credential;
} rpc_client_options;

/* What a call ended with. Everything is borrowed and valid only during the
 * callback (it lives in the call's arena, recycled afterwards): copy what
 * must outlive it. */
typedef struct rpc_result {
    const rpc_method *method; /* NULL for rpc_client_call_raw with an unknown name */
    int code;                 /* gRPC status code (ROSTER_STATUS_*) */
    int err;                  /* the same as a ROSTER_E_* code */
    const char *message;      /* never NULL; "" when OK */
    size_t n_violations;
    Roster__V1__FieldViolation *const *violations; /* field names are GraphQL names */
    const uint8_t *body;                           /* serialized reply message when code is OK */
    size_t body_len;
    /* The reply body unpacked as method->reply (cast to Roster__V1__User *
     * etc.) when code is ROSTER_STATUS_OK and the method is known; NULL
     * otherwise. */
    const ProtobufCMessage *reply;
    int64_t elapsed_ns; /* from the call to the callback */
} rpc_result;

/* Called exactly once per call accepted by rpc_client_call*, on an nng
 * thread, never from inside rpc_client_call* itself. `arg` is the
 * caller's. The callback should not block for long: it holds one of nng's
 * task threads. */
typedef void (*rpc_client_cb)(void *arg, const rpc_result *res);

/* Opens a client for `url` (ipc://, tcp://, tls+tcp://) and starts
 * dialling in the background: the service need not be up yet. opts may be
 * NULL for defaults. On success *out is caller-owned until
 * rpc_client_close. Errors: ROSTER_E_INVALID_ARGUMENT (bad URL or TLS
 * files, with `detail`), ROSTER_E_NOMEM. */
int rpc_client_open(rpc_client **out, const char *url, const rpc_client_options *opts,
                    roster_err_detail *detail);

/* Fails every outstanding call with UNAVAILABLE ("client closed"), waits
 * for their callbacks to return, and frees the client. Accepts NULL. Must
 * not be called from an rpc_client_cb. */
void rpc_client_close(rpc_client *c);

/* Starts a call of `method` with `request` (a message of type
 * method->request; packed before this returns, so it is borrowed for the
 * call only). timeout_ms 0 uses the default; it is also sent to the
 * service as the call's deadline. credential is the
 * caller's API key text, sent in the call context (copied); NULL sends the
 * client's default (rpc_client_options.credential), keyless when none. Returns ROSTER_E_OK when the
 * callback will be called; otherwise the callback is never called:
 * ROSTER_E_INVALID_ARGUMENT (unknown method, wrong message type),
 * ROSTER_E_TOO_LARGE (request over ROSTER_MAX_RPC_MESSAGE),
 * ROSTER_E_CLOSED (client closing), ROSTER_E_NOMEM. */
int rpc_client_call(rpc_client *c, rpc_method_id method, const ProtobufCMessage *request,
                    uint32_t timeout_ms, const char *credential, rpc_client_cb cb, void *arg);

/* Like rpc_client_call with any method name and any body bytes (borrowed
 * for the call only): for forwarding and for tests of bad input. When
 * `method_name` is a known method the reply is unpacked as its reply type.
 * `request_id` may be NULL (the client makes one). */
int rpc_client_call_raw(rpc_client *c, const char *method_name, const void *body, size_t body_len,
                        uint32_t timeout_ms, const char *credential, const char *request_id,
                        rpc_client_cb cb, void *arg);

/* Like rpc_client_call with the request already serialized (`body`,
 * borrowed for the call only; sent as it is, never decoded here): for
 * forwarding. The method's retry rules apply as for rpc_client_call; the
 * reply body is handed over as bytes only (rpc_result.reply is NULL).
 * Errors as rpc_client_call's. */
int rpc_client_call_bytes(rpc_client *c, rpc_method_id method, const void *body, size_t body_len,
                          uint32_t timeout_ms, const char *credential, rpc_client_cb cb, void *arg);

/* Sends `len` arbitrary bytes as the whole request message (no envelope
 * is added): for tests of the service's handling of garbage. */
int rpc_client_send_bytes(rpc_client *c, const void *bytes, size_t len, uint32_t timeout_ms,
                          rpc_client_cb cb, void *arg);

/* True while at least one connection to the service is up. */
bool rpc_client_connected(const rpc_client *c);

/* How many calls `c` has sent a second time because their connection was
 * reset before the reply (idempotent reads only, once per call). */
uint64_t rpc_client_retries(const rpc_client *c);

/* How many connections `c` has closed because they took calls and
 * answered none (a silent connection: pipe_set.h). */
uint64_t rpc_client_silent_closes(const rpc_client *c);

/* How many times `c` has replaced its dialer after being without a
 * working connection too long (pipe_set.h, nng_redial.h). */
uint64_t rpc_client_redials(const rpc_client *c);

/* The synchronous form, for tools and tests: runs one rpc_client_call and
 * waits for it. `fn` is called with the result before this returns (on
 * the nng thread); it must copy what it keeps. Returns the result's
 * ROSTER_E_* code, or rpc_client_call's error. Must not be called from an
 * rpc_client_cb. */
int rpc_client_call_sync(rpc_client *c, rpc_method_id method, const ProtobufCMessage *request,
                         uint32_t timeout_ms, const char *credential, rpc_client_cb fn, void *arg);

#endif
