/* The connections (nng pipes) a socket has open, counted from its
 * NNG_PIPE_EV_ADD_POST and NNG_PIPE_EV_REM_POST events by pipe id, so that
 * the count stays right when nng 1.5.2 delivers them out of step: a pipe
 * closed while it was being added gets REM_POST without ever getting
 * ADD_POST (the dialer gives up on it after ADD_PRE), or gets REM_POST
 * before its ADD_POST (the close runs on another thread while the dialer
 * starts it). A plain counter drifts one lower each time, and a socket
 * that is connected then looks disconnected.
 *
 * Both events may arrive on any nng thread; every function takes the set's
 * lock briefly and never calls nng. */
#ifndef ROSTER_RPC_PIPE_SET_H
#define ROSTER_RPC_PIPE_SET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Open pipes tracked by id; past this many, further ones are not counted. */
#define RPC_PIPE_SET_LIVE 64
/* Ids removed before they were added, remembered so that their late
 * ADD_POST is ignored; the oldest are forgotten first. */
#define RPC_PIPE_SET_GONE 64

typedef struct rpc_pipe_set {
    pthread_mutex_t mu;
    uint32_t live[RPC_PIPE_SET_LIVE];
    size_t n_live;
    uint32_t gone[RPC_PIPE_SET_GONE];
    size_t gone_next;     /* next slot of the ring to overwrite */
    atomic_size_t n_open; /* n_live, for readers that take no lock */
} rpc_pipe_set;

/* Initialises an empty set, owned by the caller (embedded). */
void rpc_pipe_set_init(rpc_pipe_set *s);

/* Releases what init made. No event may be in progress. */
void rpc_pipe_set_fini(rpc_pipe_set *s);

/* Pipe `id` (nng_pipe_id; never 0) was added. Returns the number of open
 * pipes after the event. */
size_t rpc_pipe_set_added(rpc_pipe_set *s, uint32_t id);

/* Pipe `id` was removed. Returns the number of open pipes after the
 * event. */
size_t rpc_pipe_set_removed(rpc_pipe_set *s, uint32_t id);

/* The number of open pipes now; takes no lock. */
size_t rpc_pipe_set_count(rpc_pipe_set *s);

#endif
