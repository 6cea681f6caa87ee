/* Replacing a client socket's dialer with a new one to the same address.
 *
 * nng 1.5.2 can leave its reaper thread stuck for the rest of the process
 * (pipe_set.h says how); a dialer redials only once the reaper has removed
 * its pipe, so after that a client that loses its connection is never
 * connected again by its dialer. A new dialer connects without the
 * reaper. The clients do this when their pipe set says so
 * (roster_pipe_set_redial_due), and close the old dialer, which does not
 * block. */
#ifndef ROSTER_NNG_REDIAL_H
#define ROSTER_NNG_REDIAL_H

#include <nng/nng.h>

/* Creates a dialer on `sock` to the address of `old` (borrowed), with
 * old's TLS configuration when it has one, and starts it without waiting
 * for the connection. On success *fresh is the new dialer, owned by the
 * socket like any other; the caller closes `old` once it has stopped
 * using it. Returns 0 or an nng error (nothing is left behind then). Does
 * not block, so it may run in a completion callback. */
int roster_nng_redial(nng_dialer *fresh, nng_socket sock, nng_dialer old);

#endif
