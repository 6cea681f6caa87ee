/* A gate around the nng calls a req0 client makes on its contexts
 * (nng_ctx_send, nng_ctx_recv), so that closing the client waits until no
 * thread is inside one of them before it closes the socket.
 *
 * Why (nng 1.5.2): nng_ctx_send and nng_ctx_recv hold a reference on the
 * context for their duration. When the socket is being closed, the thread
 * that drops the last reference destroys the context, and does so after
 * it has unlinked the context from its socket and woken the closer
 * (nni_ctx_rele, src/core/socket.c). The closer then frees the protocol's
 * socket, whose mutex req0_ctx_fini is about to lock: "pthread_mutex_lock:
 * Invalid argument" inside nng_ctx_recv. A completion callback that posts
 * the next operation is exactly such a thread, and its caller may already
 * have been answered and be closing the client (the reply can arrive, and
 * complete the call on another nng thread, before the callback has
 * returned from nng_ctx_recv). With the gate, close first stops new
 * entries and waits for the threads inside; the socket then destroys idle
 * contexts itself, under its own lock. */
#ifndef ROSTER_NNG_GATE_H
#define ROSTER_NNG_GATE_H

#include <pthread.h>
#include <stdbool.h>

typedef struct roster_nng_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned inside; /* threads between enter and leave */
    bool closed;
} roster_nng_gate;

/* Initializes a gate (open) in caller-owned storage `g`, which must
 * outlive every use until roster_nng_gate_destroy. */
void roster_nng_gate_init(roster_nng_gate *g);

/* Releases a gate's mutex and condition variable; nothing may use it after. */
void roster_nng_gate_destroy(roster_nng_gate *g);

/* Enters the gate before an nng context call: false once the gate is
 * closed (the caller must not call nng then). Every true is paired with
 * one roster_nng_gate_leave. Never blocks for long; safe in callbacks. */
bool roster_nng_gate_enter(roster_nng_gate *g);

/* Leaves the gate after the nng call returned. */
void roster_nng_gate_leave(roster_nng_gate *g);

/* Closes the gate and waits until no thread is inside. Must not be called
 * from inside the gate or from an nng callback. Idempotent. */
void roster_nng_gate_close(roster_nng_gate *g);

#endif
