/* roster-gateway configuration: defaults, environment variables and
 * command-line options, in that order of precedence (options win). */
#ifndef ROSTER_GW_CONFIG_H
#define ROSTER_GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

typedef struct gw_config {
    char listen[512];            /* http://host:port for the HTTP server */
    char upstream[1024];         /* nng URL of roster-users */
    char upstream_ca[1024];      /* tls+tcp://: CA file the service's certificate must chain to */
    char upstream_name[256];     /* tls+tcp://: expected certificate name ("" = URL host) */
    int upstream_tls_insecure;   /* tls+tcp:// without --upstream-ca allowed (unverified) */
    char allowed_hosts[1024];    /* Host header allowlist, comma list ("" = the defaults) */
    char cors_origins[2048];     /* CORS origins, comma list ("" = none) */
    int metrics_require_key;     /* /metrics needs an admin key */
    char schema_path[1024];      /* SDL file served; "" = the built-in copy */
    size_t max_body;             /* bytes of a POST body (413 past it) */
    uint32_t max_tokens;         /* lexical tokens of a document */
    uint32_t max_depth;          /* selection and value nesting of a document */
    uint32_t max_page;           /* users/tenants limit argument */
    uint32_t max_rpcs;           /* upstream calls one request may cause */
    uint32_t timeout_ms;         /* per-request deadline, passed to every RPC */
    uint32_t max_inflight;       /* concurrent GraphQL requests (503 past it) */
    uint32_t rpc_contexts;       /* req0 contexts kept for upstream calls */
    uint32_t rpc_sockets;        /* req0 sockets to the user service */
    int batch_lookups;           /* share lookup RPCs between concurrent requests */
    uint32_t batch_max;          /* most ids in one shared lookup RPC */
    uint32_t batch_in_flight;    /* shared lookup RPCs of one group before lookups queue */
    size_t doc_cache;            /* bytes of parsed documents cached; 0 = no cache */
    uint32_t drain_ms;           /* time in-flight requests get after SIGTERM */
    uint32_t http_threads;       /* HTTP worker threads; 0 = one per CPU */
    uint32_t max_conns;          /* open HTTP connections served (503 past it) */
    size_t conn_memory;          /* bytes per connection for the request line and headers */
    uint32_t header_timeout_ms;  /* silence allowed while a request is read (whole seconds) */
    uint32_t idle_timeout_ms;    /* idle keep-alive connections closed after (whole seconds) */
    char upstream_changes[1024]; /* roster-users' --changes-listen ("" = beside an ipc:// upstream)
                                  */
    char grpc_listen[256];       /* host:port for gRPC ("" = off) */
    char grpc_tls_cert[1024];    /* gRPC over TLS: PEM certificate chain ("" = cleartext) */
    char grpc_tls_key[1024];     /* gRPC over TLS: PEM private key */
    size_t grpc_max_message;     /* largest gRPC request message (RESOURCE_EXHAUSTED past it) */
    uint32_t grpc_max_streams;   /* open gRPC server streams */
    roster_log_level log_level;
} gw_config;

/* Fills c with the defaults; the default upstream is
 * ipc://<absolute ./data>/users.ipc from the current directory. */
void gw_config_defaults(gw_config *c);

/* Applies ROSTER_GATEWAY_* environment variables to c (updated in place).
 * On a bad value returns ROSTER_E_INVALID_ARGUMENT with `detail` (may be
 * NULL) naming the variable in field and message; c may be partly
 * updated. */
int gw_config_from_env(gw_config *c, roster_err_detail *detail);

/* Applies argv options to c (updated in place; argv is borrowed for the
 * call). Returns ROSTER_E_OK, ROSTER_E_INVALID_ARGUMENT with `detail` (may
 * be NULL) naming the option, or ROSTER_E_CANCELLED when --help or
 * --version was printed to stdout (the caller exits 0). */
int gw_config_from_args(gw_config *c, int argc, char **argv, roster_err_detail *detail);

/* Checks options that only make sense together: a tls+tcp:// upstream
 * needs --upstream-ca unless --upstream-tls-insecure is given (and not
 * both); --grpc-tls-cert and --grpc-tls-key go together, with
 * --grpc-listen. ROSTER_E_INVALID_ARGUMENT with `detail` (may be NULL) naming the
 * option and saying what to do. */
int gw_config_check(const gw_config *c, roster_err_detail *detail);

/* Writes the --help text to stdout. */
void gw_config_usage(void);

#endif
