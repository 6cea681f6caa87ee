/* The connections (nng pipes) a socket has open, counted from its
 * NNG_PIPE_EV_ADD_POST and NNG_PIPE_EV_REM_POST events by pipe id, so that
 * the count stays right when nng 1.5.2 delivers them out of step: a pipe
 * closed while it was being added gets REM_POST without ever getting
 * ADD_POST (the dialer gives up on it after ADD_PRE), or gets REM_POST
 * before its ADD_POST (the close runs on another thread while the dialer
 * starts it). A plain counter drifts one lower each time, and a socket
 * that is connected then looks disconnected.
 *
 * The set also spots a silent connection: one that takes requests and
 * answers none. nng 1.5.2 can leave a client with such a pipe when the
 * service's listener stops accepting (upstream #1518): the transport has
 * finished its handshake, so the client sends, but the service's socket
 * never took the connection and nothing reads it; no error ever comes,
 * and every call on it waits out its deadline (docs/client.md). The
 * clients report each reply and each call that got none in time; after
 * ROSTER_PIPE_SET_STRIKES unanswered calls in a row, spanning at least
 * ROSTER_PIPE_SET_SILENCE_MS with no reply at all, the set names the pipes
 * that took them, and the client closes those so that nng dials again.
 *
 * Last, the set says when to dial afresh. nng 1.5.2 can leave its reaper
 * thread (one per process) waiting forever to destroy a closed pipe: a
 * transport read resubmitted after the pipe was closed is dropped without
 * its callback (nni_aio_begin on a stopped aio), and the protocol's
 * pipe_stop then waits on it. A dialer redials only once the reaper has
 * removed its pipe, so from then on a client whose connection is lost
 * (the service restarted, or the client closed a silent one) is never
 * dialled again, however many calls it makes. When the set has been
 * without a working connection for ROSTER_PIPE_SET_REDIAL_MS (its last
 * pipe removed, or its pipes named silent, and none added since), it
 * tells the client, once per that period, to replace its dialer
 * (nng_redial.h): a new dialer connects without the reaper.
 *
 * Events may arrive on any nng thread; every function takes the set's
 * lock briefly and never calls nng. Times are milliseconds on one
 * monotonic clock of the caller's choice. */
#ifndef ROSTER_PIPE_SET_H
#define ROSTER_PIPE_SET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open pipes tracked by id; past this many, further ones are not counted. */
#define ROSTER_PIPE_SET_LIVE 64
/* Ids removed before they were added, remembered so that their late
 * ADD_POST is ignored; the oldest are forgotten first. */
#define ROSTER_PIPE_SET_GONE 64
/* Unanswered calls in a row, and the least time they must span with no
 * reply, before the pipes that took them count as silent. Two calls, so
 * that one slow request is never enough; five seconds, so that a service
 * that is only slow or stalled for a moment (a long commit, a paused
 * process) is not taken for a dead connection: its callers get their
 * deadlines as usual. */
#define ROSTER_PIPE_SET_STRIKES    2
#define ROSTER_PIPE_SET_SILENCE_MS 5000
/* How long a client is without a working connection before it replaces
 * its dialer, and the least time between two replacements: several times
 * the clients' longest reconnect interval (1 s), so that a dialer that
 * works is never replaced while it redials. */
#define ROSTER_PIPE_SET_REDIAL_MS 3000

typedef struct roster_pipe_set {
    pthread_mutex_t mu;
    uint32_t live[ROSTER_PIPE_SET_LIVE];
    int64_t live_since[ROSTER_PIPE_SET_LIVE]; /* when each live pipe was added */
    size_t n_live;
    uint32_t gone[ROSTER_PIPE_SET_GONE];
    size_t gone_next;          /* next slot of the ring to overwrite */
    atomic_size_t n_open;      /* n_live, for readers that take no lock */
    int64_t last_reply;        /* when a reply last arrived (INT64_MIN: never) */
    unsigned strikes;          /* unanswered calls since the last reply */
    int64_t first_strike_sent; /* when the first of them was sent */
    int64_t lost_since;        /* without a working connection since (INT64_MIN: not) */
} roster_pipe_set;

/* Initialises an empty set, owned by the caller (embedded). */
void roster_pipe_set_init(roster_pipe_set *s);

/* Releases what init made. No event may be in progress. */
void roster_pipe_set_fini(roster_pipe_set *s);

/* Pipe `id` (nng_pipe_id; never 0) was added at `now`. Returns the number
 * of open pipes after the event. */
size_t roster_pipe_set_added(roster_pipe_set *s, uint32_t id, int64_t now);

/* Pipe `id` was removed at `now`. Returns the number of open pipes after
 * the event. */
size_t roster_pipe_set_removed(roster_pipe_set *s, uint32_t id, int64_t now);

/* The number of open pipes now. */
size_t roster_pipe_set_count(roster_pipe_set *s);

/* A reply (of any status) arrived at `now`: the connection is alive. */
void roster_pipe_set_replied(roster_pipe_set *s, int64_t now);

/* A call whose request went out at `sent` got no reply by `now`. Returns
 * the number of silent pipes written to out[cap] (0 when the calls so far
 * do not show silence): the pipes open since before the first unanswered
 * call was sent. The strikes start again afterwards. */
size_t roster_pipe_set_unanswered(roster_pipe_set *s, int64_t sent, int64_t now, uint32_t *out,
                                  size_t cap);

/* Whether the client should replace its dialer now: true when it has been
 * without a working connection for ROSTER_PIPE_SET_REDIAL_MS at `now`, and
 * then not again for that long (the period starts anew). */
bool roster_pipe_set_redial_due(roster_pipe_set *s, int64_t now);

#endif
