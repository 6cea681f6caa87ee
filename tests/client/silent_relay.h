/* A fault injector for the clients' handling of a silent connection
 * (src/common/pipe_set.h): listens on a unix socket; its first `silent`
 * connections get the SP handshake a rep0 socket sends and are then never
 * read, as nng 1.5.2 leaves a connection its listener stopped taking; the
 * later ones are relayed byte for byte to the real service's ipc socket. */
#ifndef ROSTER_TEST_SILENT_RELAY_H
#define ROSTER_TEST_SILENT_RELAY_H

typedef struct silent_relay silent_relay;

/* Starts the relay on unix socket `path` (created; removed at stop) in
 * front of the service's `upstream` path. *out is owned by the caller and
 * freed by silent_relay_stop. 0, or -1 with errno. */
int silent_relay_start(silent_relay **out, const char *path, const char *upstream, int silent);

/* Connections accepted so far. */
int silent_relay_accepted(silent_relay *r);

/* Stops the relay, closes every connection and frees r. */
void silent_relay_stop(silent_relay *r);

#endif
