/* The user service's request handling: the caller's API key checked on
 * every call (role against the method's AUTH level, the key's tenant as the
 * store scope; a scope claimed by the caller is never read), deadline checks,
 * dispatch by method, reads in concurrent read transactions, writes handed
 * to the writer, and the Health and Stats methods. Single-record reads are
 * answered on the nng thread that received them; list queries, which may
 * scan, run on the service's own list threads so they never hold nng's
 * I/O threads. */
#ifndef ROSTER_USERS_SERVICE_H
#define ROSTER_USERS_SERVICE_H

#include "error.h"
#include "rpc_server.h"
#include "stats.h"
#include "store.h"
#include "tokens.h"
#include "writer.h"

typedef struct users_service users_service;

/* Starts `list_threads` threads for list queries. keyless_admin true
 * makes callers without a credential admin (for an ipc:// listener started
 * with --allow-keyless-ipc); otherwise they may call PUBLIC methods only.
 * `tokens` checks access-token credentials and answers the token methods.
 * The other arguments are borrowed and must outlive the service. On
 * success *out is caller-owned until users_service_free. */
int users_service_new(users_service **out, store *st, users_writer *w, users_stats *stats,
                      users_tokens *tokens, unsigned list_threads, bool keyless_admin);

/* Logs a warning (event order_merge) when a ListUsers page over every
 * tenant, ordered by a field without a global order, merged `tenants` or
 * more tenants' ranges of the field's index (store_read_merged): the
 * field, the tenants merged, the time the list took and the
 * --global-order that would serve it from one range; at most once per
 * USERS_MERGE_WARN_EVERY_MS per field. 0 turns it off; the default is
 * USERS_MERGE_WARN_TENANTS. Call before the server starts. */
#define USERS_MERGE_WARN_TENANTS  1000
#define USERS_MERGE_WARN_EVERY_MS 600000
void users_service_set_merge_warn(users_service *svc, unsigned tenants);

/* Answers every queued list query and stops the list threads; later list
 * queries are answered UNAVAILABLE. Call after the RPC server has stopped
 * receiving. */
void users_service_drain(users_service *svc);

/* Lets Stats report the server's in-flight count; `srv` is borrowed. */
void users_service_set_server(users_service *svc, rpc_server *srv);

/* An rpc_handler_fn: `arg` is the users_service. */
void users_service_handle(void *arg, rpc_call *call);

/* An rpc_observer_fn: counts the reply in the stats and logs it at debug
 * level (errors of the service itself at error level). */
void users_service_observe(void *arg, const rpc_method *method, int code, int64_t ns);

/* Drains (if not done) and frees. Accepts NULL. */
void users_service_free(users_service *svc);

#endif
