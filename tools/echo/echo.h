/* A bare nng rep0 echo server: the reference the RPC benchmark compares
 * roster-users against. Each request is answered with a reply of a fixed
 * size (or the request itself), through a pool of (context, aio) pairs
 * like the real server's, with no decoding or handler work. */
#ifndef ROSTER_ECHO_H
#define ROSTER_ECHO_H

#include <stddef.h>

typedef struct roster_echo roster_echo;

/* Starts listening on `url` (borrowed for the call) with `contexts`
 * requests served at once (0 picks 64). reply_bytes == 0 echoes each
 * request back; otherwise every reply is reply_bytes long. On success *out
 * is caller-owned until roster_echo_free. Returns a ROSTER_E_* code. */
int roster_echo_start(roster_echo **out, const char *url, unsigned contexts, size_t reply_bytes);

/* Makes every reply a copy of reply[0..len) (copied here; the caller keeps
 * its buffer) instead of filler bytes: with a recorded RpcReply this
 * answers real client-library calls at bare-nng cost. Call before traffic
 * arrives. Returns ROSTER_E_OK or ROSTER_E_NOMEM. */
int roster_echo_set_reply(roster_echo *e, const void *reply, size_t len);

/* Round trips answered so far. */
unsigned long long roster_echo_served(const roster_echo *e);

/* Closes the socket, waits for the callbacks, frees. Accepts NULL. */
void roster_echo_free(roster_echo *e);

#endif
