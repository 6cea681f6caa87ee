/* The change feed's announcement address beside a service address, the
 * one rule roster-users (its --changes-listen default) and the client
 * library (roster_client_watch's default) share. */
#ifndef ROSTER_FEED_URL_H
#define ROSTER_FEED_URL_H

#include "error.h"

#include <stddef.h>

/* Writes into out (cap bytes) the address beside the ipc:// address
 * `listen` (borrowed): ipc://DIR/NAME.ipc -> ipc://DIR/NAME-changes.ipc,
 * any other ipc path with "-changes" appended. There is no such rule for
 * tcp:// and tls+tcp://: a port next to the service's may belong to
 * something else (a gateway on port + 1 is common), so the address is
 * named explicitly there. ROSTER_E_INVALID_ARGUMENT for those, and when
 * out is too small; out is then untouched. */
int roster_feed_url(char *out, size_t cap, const char *listen);

#endif
