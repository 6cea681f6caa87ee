/* Replacing a client socket's dialer with a new one to the same address.
 *
 * nng 1.5.2 can leave its reaper thread stuck for the rest of the process
 * (pipe_set.h says how); a dialer redials only once the reaper has removed
 * its pipe, so after that a client that loses its connection is never
 * connected again by its dialer. A new dialer connects without the
 * reaper. The clients start a replacement when their pipe set says so
 * (roster_pipe_set_redial_due).
 *
 * The replacement runs on a thread of its own: closing a dialer waits for
 * nng's task threads (an ipc dial in progress is torn down through its
 * poller), so calling nng_dialer_close from a completion callback, where
 * the need is noticed, can take every task thread and hang the process.
 * The thread holds the client's gate (nng_gate.h) from its start to its
 * end, so the client's close waits for it and it never touches a closed
 * socket. */
#ifndef ROSTER_NNG_REDIAL_H
#define ROSTER_NNG_REDIAL_H

#include "nng_gate.h"

#include <nng/nng.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct roster_redialer {
    nng_socket sock;
    roster_nng_gate *gate;   /* the client's; borrowed */
    _Atomic uint32_t dialer; /* id of the current dialer */
    atomic_ullong replaced;  /* replacements made */
} roster_redialer;

/* Sets up r (caller-owned, embedded in the client) for the socket `sock`
 * whose dialer is `d`, guarded by `gate`; all must outlive r. */
void roster_redialer_init(roster_redialer *r, nng_socket sock, nng_dialer d, roster_nng_gate *gate);

/* Starts replacing the dialer on a detached thread: a new dialer to the
 * current one's address, with its TLS configuration, started without
 * waiting for the connection, then the old one closed. Returns false when
 * nothing was started (the gate is closed, or no thread could be made).
 * Never blocks; safe in nng completion callbacks. */
bool roster_redialer_start(roster_redialer *r);

/* The current dialer (it may be replaced at any moment). */
nng_dialer roster_redialer_current(const roster_redialer *r);

/* Replacements made so far. */
uint64_t roster_redialer_count(const roster_redialer *r);

#endif
