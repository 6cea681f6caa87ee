/* The listener guard: a background thread that checks, every period, that
 * a server's listener still completes the SP handshake for a new
 * connection, and asks its owner to re-create the listener when it does
 * not.
 *
 * Why: nng 1.5.2 (Debian 12) stops a listener's accept loop for good when
 * a peer disconnects before the SP handshake completes (upstream issue
 * #1518, fixed by PR #1519 in a later release): the negotiation failure is
 * reported as NNG_ECLOSED, which the socket core takes for "listener
 * closed". Existing connections keep working; no new client can connect.
 *
 * Each check dials the listen address from a private req0 socket
 * (non-blocking dialer) and waits up to three times `timeout_ms` for the
 * server's socket to add a new pipe (its owner counts NNG_PIPE_EV_ADD_POST
 * and reports the count through `accepted`) and for the check's own
 * socket to add its side. The dialing side alone cannot tell: with the
 * accept loop stopped, nng's transport still completes the handshake and
 * then parks the connection, never handing it to the socket. The check
 * closes its connection only once its own pipe is up (or before a
 * restore): closing it half-way through the handshake would itself stop
 * the accept loop. A failed check calls `restore`; the span is generous
 * so that a handshake merely slow on a loaded machine is not taken for a
 * stopped listener (a restore closes every connection).
 *
 * After a successful check the guard also waits (up to 10 s) for the
 * socket to remove the check's closed pipe. nng 1.5.2 can leave its reaper
 * thread waiting forever on an aio (upstream issue #1813, fixed by PR
 * #1824 in 1.8.0; seen when a client closes while replies to it are being
 * sent): from then on no closed connection is reclaimed (each keeps its
 * file descriptor) and nng_close never returns. Seeing that, the guard
 * logs event=nng_reaper_stuck once and stops checking, so that it does
 * not leak a descriptor per period itself. */
#ifndef ROSTER_RPC_LISTENER_GUARD_H
#define ROSTER_RPC_LISTENER_GUARD_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rpc_listener_guard rpc_listener_guard;

/* Re-creates the listener. Runs on the guard's thread; returns ROSTER_E_OK
 * when a new listener is up (the guard then counts a restore and logs
 * event=listener_restored), another code when it could not (the guard
 * tries again after the next two failed checks). */
typedef int (*rpc_listener_restore_fn)(void *arg);

/* Pipes the server's socket has added (NNG_PIPE_EV_ADD_POST) or removed
 * (NNG_PIPE_EV_REM_POST) so far; any thread, must be quick. */
typedef uint64_t (*rpc_listener_count_fn)(void *arg);

typedef struct rpc_listener_guard_options {
    const char *url;     /* the listen address; borrowed for the call */
    unsigned period_ms;  /* pause between checks, > 0 */
    unsigned timeout_ms; /* longest wait for one handshake; 0 picks 1000 */
    rpc_listener_count_fn accepted;
    rpc_listener_count_fn removed;
    rpc_listener_restore_fn restore;
    void *arg; /* passed to accepted and restore; must outlive the guard */
} rpc_listener_guard_options;

/* The address a check dials for listen address `url`: a wildcard host
 * (tcp://:P, tcp://0.0.0.0:P, or "*" as host) becomes 127.0.0.1, [::] becomes
 * [::1]; ipc:// and named hosts are unchanged. Writes a NUL-terminated
 * string into out[0..cap). Errors: ROSTER_E_TOO_LARGE when it does not
 * fit (out is then unchanged). */
int rpc_listener_guard_dial_url(char *out, size_t cap, const char *url);

/* Starts the guard's thread. On success *out is caller-owned until
 * rpc_listener_guard_free. Errors: ROSTER_E_INVALID_ARGUMENT (no url,
 * period or restore; an address nng cannot dial), ROSTER_E_NOMEM,
 * ROSTER_E_INTERNAL (thread or socket creation); `detail` says which. */
int rpc_listener_guard_start(rpc_listener_guard **out, const rpc_listener_guard_options *opts,
                             roster_err_detail *detail);

/* True once the guard has seen nng stop reclaiming closed connections. */
bool rpc_listener_guard_reaper_stuck(const rpc_listener_guard *g);

/* Listeners restored so far. */
uint64_t rpc_listener_guard_restored(const rpc_listener_guard *g);

/* Stops the thread (waiting for a check or a restore in progress to end)
 * and frees the guard. Accepts NULL. Not from `restore`. */
void rpc_listener_guard_free(rpc_listener_guard *g);

#endif
