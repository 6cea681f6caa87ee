/* The user service's request handling: scope and deadline checks,
 * dispatch by method, reads in concurrent read transactions (answered on
 * the nng thread that received them), writes handed to the writer, and
 * the Health and Stats methods. */
#ifndef ROSTER_USERS_SERVICE_H
#define ROSTER_USERS_SERVICE_H

#include "error.h"
#include "rpc_server.h"
#include "stats.h"
#include "store.h"
#include "writer.h"

typedef struct users_service users_service;

/* All arguments are borrowed and must outlive the service. On success
 * *out is caller-owned until users_service_free. */
int users_service_new(users_service **out, store *st, users_writer *w, users_stats *stats);

/* Lets Stats report the server's in-flight count; `srv` is borrowed. */
void users_service_set_server(users_service *svc, rpc_server *srv);

/* An rpc_handler_fn: `arg` is the users_service. */
void users_service_handle(void *arg, rpc_call *call);

/* An rpc_observer_fn: counts the reply in the stats and logs it at debug
 * level (errors of the service itself at error level). */
void users_service_observe(void *arg, const rpc_method *method, int code, int64_t ns);

/* Accepts NULL. */
void users_service_free(users_service *svc);

#endif
