/* nng_close with a time bound. nng 1.5.2's reaper can stick for good when
 * a peer closes with replies in flight (upstream issue #1813, fixed in
 * nng 1.8); nng_close then never returns, and a daemon that waits for it
 * never exits, nor does a client library's close. The RPC server, its
 * listener check, the change feed and both RPC clients close their
 * sockets through here. */
#ifndef ROSTER_NNG_CLOSE_H
#define ROSTER_NNG_CLOSE_H

#include <nng/nng.h>

#include <stdbool.h>
#include <stdint.h>

/* Closes `sock` on a thread of its own and waits at most timeout_ms for
 * nng_close to return. True when it returned. False when it was given up
 * on: the closing thread is left behind (detached), and nng may still
 * reach whatever the socket used (contexts, aios, TLS configurations), so
 * the caller must leave those allocated; meant for a process on its way
 * out. */
bool roster_nng_close_bounded(nng_socket sock, uint32_t timeout_ms);

#endif
