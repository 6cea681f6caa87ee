/* The change feed's announcement address beside a service address, the
 * one rule roster-users (its --changes-listen default) and the client
 * library (roster_client_watch's default) share. */
#ifndef ROSTER_FEED_URL_H
#define ROSTER_FEED_URL_H

#include "error.h"

#include <stddef.h>

/* Writes into out (cap bytes) the address beside `listen` (borrowed):
 * ipc://DIR/NAME.ipc -> ipc://DIR/NAME-changes.ipc (any other ipc path
 * gets "-changes" appended); tcp://HOST:PORT and tls+tcp://HOST:PORT ->
 * the same host with PORT + 1. ROSTER_E_INVALID_ARGUMENT when none can be
 * made (no port, port 0 or 65535, out too small); out is then untouched. */
int roster_feed_url(char *out, size_t cap, const char *listen);

#endif
