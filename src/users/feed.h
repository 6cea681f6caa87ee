/* The change feed's live side: an nng pub0 socket on which roster-users
 * announces each committed group of events, after its commit and in seq
 * order, as a wake-up for subscribers.
 *
 * What a message carries, and why no more: 16 bytes, the first and the
 * last seq of the group (big-endian uint64 each). No ids, tenants or
 * fields: pub0 cannot tell one subscriber from another, so nothing on the
 * socket may need a key to see. A subscriber wakes, then fetches the
 * events with ListChanges, where its key is checked and its tenant scope
 * applied; a dropped or missed wake-up only delays it until its next poll.
 * What a listener without a key learns is how many events were committed
 * and when. Over ipc:// (the default, also for a tcp:// service) the
 * socket file has the RPC socket's mode (--ipc-mode); a tcp:// address is
 * only ever one given with --changes-listen: bind it where only the
 * services reach, or turn it off and let subscribers poll. */
#ifndef ROSTER_USERS_FEED_H
#define ROSTER_USERS_FEED_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes of one announcement. */
#define USERS_FEED_MSG_LEN 16

typedef struct users_feed users_feed;

/* The default publish address into out (cap bytes): beside an ipc://
 * RPC address `listen` by roster_feed_url's rule (feed_url.h), and for
 * tcp:// or tls+tcp:// the ipc socket ipc://<data_dir>/users-changes.ipc:
 * local-only, guarded by the file's mode, and never a port someone else
 * may hold. ROSTER_E_INVALID_ARGUMENT naming "changes-listen" when out is
 * too small. Both strings borrowed. */
int users_feed_default_url(char *out, size_t cap, const char *listen, const char *data_dir,
                           roster_err_detail *detail);

/* Listens on `url` (borrowed): ipc:// with socket file mode ipc_mode,
 * tcp://, or tls+tcp:// presenting tls_cert/tls_key (borrowed for the
 * call). On success *out is caller-owned until users_feed_close. */
int users_feed_open(users_feed **out, const char *url, int ipc_mode, const char *tls_cert,
                    const char *tls_key, roster_err_detail *detail);

/* Announces events first..last, committed. Never blocks: a subscriber
 * that cannot keep up loses announcements (and polls). Accepts NULL. */
void users_feed_publish(users_feed *f, uint64_t first, uint64_t last);

/* Closes the socket (waiting at most 500 ms for nng, then logging
 * event=socket_close_stuck and leaving the close to the exiting process)
 * and frees f. Accepts NULL. */
void users_feed_close(users_feed *f);

#endif
