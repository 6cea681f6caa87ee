#include "config.h"

#include "cors.h"

#include "error.h"
#include "roster_limits.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define GW_VERSION "0.1.0"

void gw_config_defaults(gw_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "http://127.0.0.1:8080");
    char cwd[900];
    if (getcwd(cwd, sizeof cwd) == NULL)
        snprintf(cwd, sizeof cwd, ".");
    snprintf(c->upstream, sizeof c->upstream, "ipc://%s/data/users.ipc", cwd);
    c->max_body = 1024 * 1024;
    c->max_tokens = 15000;
    c->max_depth = 15;
    c->max_page = 1000;
    c->max_rpcs = 100;
    c->timeout_ms = 5000;
    c->max_inflight = 1024;
    c->rpc_contexts = 256;
    c->rpc_sockets = 4;
    c->batch_lookups = 1;
    c->batch_max = ROSTER_MAX_BATCH;
    c->batch_in_flight = 1;
    c->doc_cache = 16u * 1024 * 1024;
    c->drain_ms = 10000;
    c->http_threads = 0;
    c->max_conns = 10000;
    c->conn_memory = 4 * 1024;
    c->header_timeout_ms = 10000;
    c->idle_timeout_ms = 60000;
    c->grpc_max_message = 4u * 1024 * 1024;
    c->grpc_max_streams = 1000;
    c->log_level = ROSTER_LOG_INFO;
}

static int parse_u64(uint64_t *out, const char *s, uint64_t min, uint64_t max)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return ROSTER_E_INVALID_ARGUMENT;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mul = 1;
    if (end && (*end == 'k' || *end == 'K')) {
        mul = 1024;
        end++;
    } else if (end && (*end == 'm' || *end == 'M')) {
        mul = 1024 * 1024;
        end++;
    }
    if (errno != 0 || end == s || *end != '\0' || v > max / mul || v * mul < min)
        return ROSTER_E_INVALID_ARGUMENT;
    *out = v * mul;
    return ROSTER_E_OK;
}

/* Flags: given on the command line they mean "1"; from the environment
 * 1/true/yes or 0/false/no. */
static int parse_bool(int *out, const char *s)
{
    if (s == NULL || strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
        strcasecmp(s, "yes") == 0) {
        *out = 1;
        return ROSTER_E_OK;
    }
    if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0) {
        *out = 0;
        return ROSTER_E_OK;
    }
    return ROSTER_E_INVALID_ARGUMENT;
}

/* A comma list of non-empty host[:port] entries without spaces or
 * characters a Host header cannot hold. */
static int hosts_valid(const char *v)
{
    size_t run = 0;
    for (const char *p = v;; p++) {
        if (*p == ',' || *p == '\0') {
            if (run == 0)
                return 0;
            run = 0;
            if (*p == '\0')
                return 1;
            continue;
        }
        if (!(isalnum((unsigned char)*p) || strchr(".-_:[]", *p) != NULL))
            return 0;
        run++;
    }
}

enum {
    OPT_LISTEN = 'l',
    OPT_UPSTREAM = 'u',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_MAX_BODY = 1000,
    OPT_MAX_TOKENS,
    OPT_MAX_DEPTH,
    OPT_MAX_PAGE,
    OPT_MAX_RPCS,
    OPT_TIMEOUT,
    OPT_MAX_INFLIGHT,
    OPT_RPC_CONTEXTS,
    OPT_RPC_SOCKETS,
    OPT_DOC_CACHE,
    OPT_DRAIN,
    OPT_SCHEMA,
    OPT_UPSTREAM_CA,
    OPT_UPSTREAM_NAME,
    OPT_LOG_LEVEL,
    OPT_UPSTREAM_TLS_INSECURE,
    OPT_ALLOWED_HOSTS,
    OPT_METRICS_REQUIRE_KEY,
    OPT_CORS_ORIGINS,
    OPT_BATCH_LOOKUPS,
    OPT_BATCH_MAX,
    OPT_BATCH_IN_FLIGHT,
    OPT_HTTP_THREADS,
    OPT_MAX_CONNS,
    OPT_CONN_MEMORY,
    OPT_HEADER_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_GRPC_LISTEN,
    OPT_UPSTREAM_CHANGES,
    OPT_GRPC_TLS_CERT,
    OPT_GRPC_TLS_KEY,
    OPT_GRPC_MAX_MESSAGE,
    OPT_GRPC_MAX_STREAMS,
};

/* One table drives options, environment variables and the help text. */
typedef struct opt_def {
    int id;
    const char *name;
    const char *env;
    const char *arg;
    const char *help;
} opt_def;

static const opt_def opts[] = {
    {OPT_LISTEN, "listen", "ROSTER_GATEWAY_LISTEN", "URL",
     "HTTP address to serve (default http://127.0.0.1:8080)"},
    {OPT_UPSTREAM, "upstream", "ROSTER_GATEWAY_UPSTREAM", "URL",
     "roster-users RPC address: ipc://, tcp:// or tls+tcp:// (default ipc://$PWD/data/users.ipc)"},
    {OPT_UPSTREAM_CA, "upstream-ca", "ROSTER_GATEWAY_UPSTREAM_CA", "FILE",
     "tls+tcp:// only: PEM CA chain the service's certificate must be signed by"},
    {OPT_UPSTREAM_NAME, "upstream-server-name", "ROSTER_GATEWAY_UPSTREAM_SERVER_NAME", "NAME",
     "tls+tcp:// only: name expected in the service's certificate (default: URL host)"},
    {OPT_UPSTREAM_TLS_INSECURE, "upstream-tls-insecure", "ROSTER_GATEWAY_UPSTREAM_TLS_INSECURE",
     NULL,
     "tls+tcp:// only: allow an upstream without --upstream-ca (encrypted, not authenticated; "
     "logged at start)"},
    {OPT_ALLOWED_HOSTS, "allowed-hosts", "ROSTER_GATEWAY_ALLOWED_HOSTS", "LIST",
     "Host header values served, comma list (default: the listen host, localhost, 127.0.0.1, "
     "[::1], each with or without the port); others get 421"},
    {OPT_CORS_ORIGINS, "cors-origins", "ROSTER_GATEWAY_CORS_ORIGINS", "LIST",
     "origins whose pages may call the API paths (CORS), comma list of exact "
     "scheme://host[:port]; default none"},
    {OPT_METRICS_REQUIRE_KEY, "metrics-require-key", "ROSTER_GATEWAY_METRICS_REQUIRE_KEY", NULL,
     "/metrics answers only requests with an admin API key (Authorization: Bearer)"},
    {OPT_MAX_BODY, "max-body", "ROSTER_GATEWAY_MAX_BODY", "BYTES",
     "largest POST body, k/M suffixes allowed; larger gets 413 (default 1M)"},
    {OPT_MAX_CONNS, "max-conns", "ROSTER_GATEWAY_MAX_CONNS", "N",
     "open HTTP connections served; past it a new connection gets 503 and is closed "
     "(default 10000, lowered to what ulimit -n allows)"},
    {OPT_CONN_MEMORY, "conn-memory", "ROSTER_GATEWAY_CONN_MEMORY", "BYTES",
     "memory per HTTP connection for the request line and headers, k suffix allowed (default "
     "4k: 3 KB of request line and headers always served, 431 or 414 from about 3.5 KB; see "
     "docs/gateway.md)"},
    {OPT_HEADER_TIMEOUT, "header-timeout-ms", "ROSTER_GATEWAY_HEADER_TIMEOUT_MS", "MS",
     "close a connection silent this long while its request is being read, rounded up to "
     "whole seconds (default 10000)"},
    {OPT_IDLE_TIMEOUT, "idle-timeout-ms", "ROSTER_GATEWAY_IDLE_TIMEOUT_MS", "MS",
     "close a keep-alive connection idle this long between requests, rounded up to whole "
     "seconds (default 60000)"},
    {OPT_GRPC_LISTEN, "grpc-listen", "ROSTER_GATEWAY_GRPC_LISTEN", "ADDR",
     "serve gRPC (HTTP/2) on host:port; off when not given (see docs/grpc.md: keep this port "
     "on an internal network)"},
    {OPT_UPSTREAM_CHANGES, "upstream-changes", "ROSTER_GATEWAY_UPSTREAM_CHANGES", "URL",
     "roster-users' change announcements (its --changes-listen), which wake gRPC WatchChanges "
     "streams: ipc:// or tcp://; default beside an ipc:// upstream, none for tcp:// (streams "
     "then ask every second); off for none"},
    {OPT_GRPC_TLS_CERT, "grpc-tls-cert", "ROSTER_GATEWAY_GRPC_TLS_CERT", "FILE",
     "gRPC over TLS: PEM certificate chain (with --grpc-tls-key; default cleartext)"},
    {OPT_GRPC_TLS_KEY, "grpc-tls-key", "ROSTER_GATEWAY_GRPC_TLS_KEY", "FILE",
     "gRPC over TLS: PEM private key of --grpc-tls-cert"},
    {OPT_GRPC_MAX_MESSAGE, "grpc-max-message", "ROSTER_GATEWAY_GRPC_MAX_MESSAGE", "BYTES",
     "largest gRPC request message, k/M suffixes allowed; larger gets RESOURCE_EXHAUSTED "
     "(default 4M)"},
    {OPT_GRPC_MAX_STREAMS, "grpc-max-streams", "ROSTER_GATEWAY_GRPC_MAX_STREAMS", "N",
     "open gRPC server streams (health watches, reflection); more get RESOURCE_EXHAUSTED "
     "(default 1000)"},
    {OPT_HTTP_THREADS, "http-threads", "ROSTER_GATEWAY_HTTP_THREADS", "N",
     "HTTP worker threads, each owning its connections; 0 = one per CPU (default 0)"},
    {OPT_MAX_TOKENS, "max-tokens", "ROSTER_GATEWAY_MAX_TOKENS", "N",
     "most lexical tokens in a GraphQL document (default 15000)"},
    {OPT_MAX_DEPTH, "max-depth", "ROSTER_GATEWAY_MAX_DEPTH", "N",
     "deepest selection/value nesting in a document (default 15)"},
    {OPT_MAX_PAGE, "max-page", "ROSTER_GATEWAY_MAX_PAGE", "N",
     "largest `limit` of users()/tenants(), at most 1000 (default 1000)"},
    {OPT_MAX_RPCS, "max-rpcs", "ROSTER_GATEWAY_MAX_RPCS", "N",
     "most calls to the user service one request may cause (default 100)"},
    {OPT_TIMEOUT, "timeout-ms", "ROSTER_GATEWAY_TIMEOUT_MS", "MS",
     "per-request deadline, passed to every RPC (default 5000)"},
    {OPT_MAX_INFLIGHT, "max-inflight", "ROSTER_GATEWAY_MAX_INFLIGHT", "N",
     "concurrent GraphQL requests; more get 503 (default 1024)"},
    {OPT_RPC_CONTEXTS, "rpc-contexts", "ROSTER_GATEWAY_RPC_CONTEXTS", "N",
     "req0 contexts for concurrent upstream calls (default 256)"},
    {OPT_RPC_SOCKETS, "rpc-sockets", "ROSTER_GATEWAY_RPC_SOCKETS", "N",
     "req0 sockets (connections) to the user service, 1-16 (default 4)"},
    {OPT_BATCH_LOOKUPS, "batch-lookups", "ROSTER_GATEWAY_BATCH_LOOKUPS", "BOOL",
     "share lookups by id (users, tenants, user counts) between concurrent requests with the "
     "same key in one batch RPC; yes or no (default yes)"},
    {OPT_BATCH_MAX, "batch-max", "ROSTER_GATEWAY_BATCH_MAX", "N",
     "most ids in one shared lookup RPC, 1-1000 (default 1000)"},
    {OPT_BATCH_IN_FLIGHT, "batch-in-flight", "ROSTER_GATEWAY_BATCH_IN_FLIGHT", "N",
     "shared lookup RPCs of one key and kind in flight before lookups queue, 1-64 (default 1)"},
    {OPT_DOC_CACHE, "doc-cache", "ROSTER_GATEWAY_DOC_CACHE", "BYTES",
     "memory for parsed documents cached by query text, 0 disables (default 16M)"},
    {OPT_DRAIN, "drain-ms", "ROSTER_GATEWAY_DRAIN_MS", "MS",
     "on SIGTERM, SIGINT or SIGQUIT, how long in-flight requests may take to finish (default "
     "10000)"},
    {OPT_SCHEMA, "schema", "ROSTER_GATEWAY_SCHEMA", "FILE",
     "SDL file to serve instead of the built-in schema.graphql"},
    {OPT_LOG_LEVEL, "log-level", "ROSTER_GATEWAY_LOG_LEVEL", "LEVEL",
     "debug, info, warn or error (default info)"},
    {OPT_HELP, "help", NULL, NULL, "print this help and exit"},
    {OPT_VERSION, "version", NULL, NULL, "print the version and exit"},
};

#define N_OPTS (sizeof opts / sizeof opts[0])

void gw_config_usage(void)
{
    printf("usage: roster-gateway [OPTIONS]\n\n"
           "Serves the Roster GraphQL schema over HTTP (POST/GET /graphql, /healthz,\n"
           "/readyz, /metrics), resolving through roster-users over nng.\n\n"
           "Options (each also read from the environment variable shown):\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[64];
        if (opts[i].arg)
            snprintf(left, sizeof left, "--%s %s", opts[i].name, opts[i].arg);
        else
            snprintf(left, sizeof left, "--%s", opts[i].name);
        printf("  %-22s %s\n", left, opts[i].help);
        if (opts[i].env)
            printf("  %-22s env %s\n", "", opts[i].env);
    }
    printf("\nLogs are logfmt lines on stderr. SIGTERM, SIGINT or SIGQUIT stops accepting\n"
           "work, lets in-flight requests finish (up to --drain-ms) and exits 0.\n"
           "SIGHUP does not stop the gateway: it logs event=signal_ignored.\n");
}

static int apply(gw_config *c, const opt_def *d, const char *v, const char *src,
                 roster_err_detail *detail)
{
    uint64_t n = 0;
    int rc = ROSTER_E_OK;
    switch (d->id) {
    case OPT_LISTEN:
        if (strncmp(v, "http://", 7) != 0 || strlen(v) >= sizeof c->listen)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->listen, sizeof c->listen, "%s", v);
        break;
    case OPT_UPSTREAM:
        if ((strncmp(v, "ipc://", 6) != 0 && strncmp(v, "tcp://", 6) != 0 &&
             strncmp(v, "tls+tcp://", 10) != 0) ||
            strlen(v) >= sizeof c->upstream)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->upstream, sizeof c->upstream, "%s", v);
        break;
    case OPT_UPSTREAM_CA:
        if (strlen(v) >= sizeof c->upstream_ca)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->upstream_ca, sizeof c->upstream_ca, "%s", v);
        break;
    case OPT_UPSTREAM_NAME:
        if (strlen(v) >= sizeof c->upstream_name)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->upstream_name, sizeof c->upstream_name, "%s", v);
        break;
    case OPT_SCHEMA:
        if (strlen(v) >= sizeof c->schema_path)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->schema_path, sizeof c->schema_path, "%s", v);
        break;
    case OPT_LOG_LEVEL:
        rc = roster_log_level_parse(&c->log_level, v);
        break;
    case OPT_GRPC_LISTEN:
        /* host:port, [v6]:port or unix:path, as the gRPC core takes it. */
        if (v[0] == '\0' || strlen(v) >= sizeof c->grpc_listen || strchr(v, ':') == NULL ||
            strpbrk(v, " \t") != NULL)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->grpc_listen, sizeof c->grpc_listen, "%s", v);
        break;
    case OPT_UPSTREAM_CHANGES:
        if ((strcmp(v, "off") != 0 && strncmp(v, "ipc://", 6) != 0 &&
             strncmp(v, "tcp://", 6) != 0) ||
            strlen(v) >= sizeof c->upstream_changes)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->upstream_changes, sizeof c->upstream_changes, "%s", v);
        break;
    case OPT_GRPC_TLS_CERT:
        if (strlen(v) >= sizeof c->grpc_tls_cert)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->grpc_tls_cert, sizeof c->grpc_tls_cert, "%s", v);
        break;
    case OPT_GRPC_TLS_KEY:
        if (strlen(v) >= sizeof c->grpc_tls_key)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->grpc_tls_key, sizeof c->grpc_tls_key, "%s", v);
        break;
    case OPT_GRPC_MAX_MESSAGE:
        if ((rc = parse_u64(&n, v, 1024, 64u * 1024 * 1024)) == 0)
            c->grpc_max_message = (size_t)n;
        break;
    case OPT_GRPC_MAX_STREAMS:
        if ((rc = parse_u64(&n, v, 1, 1000000)) == 0)
            c->grpc_max_streams = (uint32_t)n;
        break;
    case OPT_UPSTREAM_TLS_INSECURE:
        rc = parse_bool(&c->upstream_tls_insecure, v);
        break;
    case OPT_METRICS_REQUIRE_KEY:
        rc = parse_bool(&c->metrics_require_key, v);
        break;
    case OPT_ALLOWED_HOSTS:
        if (strlen(v) >= sizeof c->allowed_hosts || !hosts_valid(v))
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->allowed_hosts, sizeof c->allowed_hosts, "%s", v);
        break;
    case OPT_CORS_ORIGINS: {
        gw_cors *cors = NULL;
        if (strlen(v) >= sizeof c->cors_origins || gw_cors_new(&cors, v, NULL) != ROSTER_E_OK)
            rc = ROSTER_E_INVALID_ARGUMENT;
        else
            snprintf(c->cors_origins, sizeof c->cors_origins, "%s", v);
        gw_cors_free(cors);
        break;
    }
    case OPT_MAX_BODY:
        if ((rc = parse_u64(&n, v, 64, 64u * 1024 * 1024)) == 0)
            c->max_body = (size_t)n;
        break;
    case OPT_MAX_TOKENS:
        if ((rc = parse_u64(&n, v, 16, 1000000)) == 0)
            c->max_tokens = (uint32_t)n;
        break;
    case OPT_MAX_DEPTH:
        if ((rc = parse_u64(&n, v, 2, 1000)) == 0)
            c->max_depth = (uint32_t)n;
        break;
    case OPT_MAX_PAGE:
        if ((rc = parse_u64(&n, v, 1, 1000)) == 0)
            c->max_page = (uint32_t)n;
        break;
    case OPT_MAX_RPCS:
        if ((rc = parse_u64(&n, v, 1, 100000)) == 0)
            c->max_rpcs = (uint32_t)n;
        break;
    case OPT_TIMEOUT:
        if ((rc = parse_u64(&n, v, 1, 3600000)) == 0)
            c->timeout_ms = (uint32_t)n;
        break;
    case OPT_MAX_INFLIGHT:
        if ((rc = parse_u64(&n, v, 1, 1000000)) == 0)
            c->max_inflight = (uint32_t)n;
        break;
    case OPT_RPC_CONTEXTS:
        if ((rc = parse_u64(&n, v, 1, 65536)) == 0)
            c->rpc_contexts = (uint32_t)n;
        break;
    case OPT_RPC_SOCKETS:
        if ((rc = parse_u64(&n, v, 1, 16)) == 0)
            c->rpc_sockets = (uint32_t)n;
        break;
    case OPT_BATCH_LOOKUPS:
        rc = v ? parse_bool(&c->batch_lookups, v) : ROSTER_E_INVALID_ARGUMENT;
        break;
    case OPT_BATCH_MAX:
        if ((rc = parse_u64(&n, v, 1, ROSTER_MAX_BATCH)) == 0)
            c->batch_max = (uint32_t)n;
        break;
    case OPT_BATCH_IN_FLIGHT:
        if ((rc = parse_u64(&n, v, 1, 64)) == 0)
            c->batch_in_flight = (uint32_t)n;
        break;
    case OPT_DOC_CACHE:
        if ((rc = parse_u64(&n, v, 0, 1024u * 1024 * 1024)) == 0)
            c->doc_cache = (size_t)n;
        break;
    case OPT_DRAIN:
        if ((rc = parse_u64(&n, v, 0, 3600000)) == 0)
            c->drain_ms = (uint32_t)n;
        break;
    case OPT_HTTP_THREADS:
        if ((rc = parse_u64(&n, v, 0, 64)) == 0)
            c->http_threads = (uint32_t)n;
        break;
    case OPT_MAX_CONNS:
        if ((rc = parse_u64(&n, v, 1, 1000000)) == 0)
            c->max_conns = (uint32_t)n;
        break;
    case OPT_CONN_MEMORY:
        if ((rc = parse_u64(&n, v, 2048, 1024u * 1024)) == 0)
            c->conn_memory = (size_t)n;
        break;
    case OPT_HEADER_TIMEOUT:
        if ((rc = parse_u64(&n, v, 1, 3600000)) == 0)
            c->header_timeout_ms = (uint32_t)n;
        break;
    case OPT_IDLE_TIMEOUT:
        if ((rc = parse_u64(&n, v, 1, 3600000)) == 0)
            c->idle_timeout_ms = (uint32_t)n;
        break;
    default:
        rc = ROSTER_E_INVALID_ARGUMENT;
    }
    if (rc != ROSTER_E_OK)
        return roster_fail(detail, rc, d->name, "invalid value for %s%s: \"%s\" (%s%s%s)", src,
                           d->name, v ? v : "", d->arg ? d->arg : "", d->arg ? ": " : "", d->help);
    return ROSTER_E_OK;
}

int gw_config_check(const gw_config *c, roster_err_detail *detail)
{
    int tls = strncmp(c->upstream, "tls+tcp://", 10) == 0;
    if (tls && c->upstream_ca[0] == '\0' && !c->upstream_tls_insecure)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "upstream-ca",
                           "the upstream %s is tls+tcp:// but no --upstream-ca is given: the "
                           "service's certificate could not be verified. Give the CA file, or "
                           "--upstream-tls-insecure to accept any certificate",
                           c->upstream);
    if (c->upstream_ca[0] != '\0' && c->upstream_tls_insecure)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "upstream-tls-insecure",
                           "--upstream-tls-insecure and --upstream-ca exclude each other: the "
                           "CA verifies the service, insecure skips verification");
    if ((c->grpc_tls_cert[0] != '\0') != (c->grpc_tls_key[0] != '\0'))
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT,
                           c->grpc_tls_cert[0] ? "grpc-tls-key" : "grpc-tls-cert",
                           "--grpc-tls-cert and --grpc-tls-key go together: give both for gRPC "
                           "over TLS, or neither for cleartext");
    if (c->grpc_tls_cert[0] != '\0' && c->grpc_listen[0] == '\0')
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "grpc-listen",
                           "--grpc-tls-cert is given but gRPC is off: add --grpc-listen "
                           "host:port");
    return ROSTER_E_OK;
}

int gw_config_from_env(gw_config *c, roster_err_detail *detail)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (opts[i].env == NULL)
            continue;
        const char *v = getenv(opts[i].env);
        if (v == NULL || *v == '\0')
            continue;
        int rc = apply(c, &opts[i], v, "", NULL);
        if (rc != ROSTER_E_OK)
            return roster_fail(detail, rc, opts[i].env,
                               "invalid value for environment variable %s: \"%s\"", opts[i].env, v);
    }
    return ROSTER_E_OK;
}

int gw_config_from_args(gw_config *c, int argc, char **argv, roster_err_detail *detail)
{
    struct option lopts[N_OPTS + 1];
    for (size_t i = 0; i < N_OPTS; i++) {
        lopts[i].name = opts[i].name;
        lopts[i].has_arg = opts[i].arg ? required_argument : no_argument;
        lopts[i].flag = NULL;
        lopts[i].val = opts[i].id;
    }
    memset(&lopts[N_OPTS], 0, sizeof lopts[N_OPTS]);
    optind = 1;
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int ch = getopt_long(argc, argv, ":l:u:hV", lopts, &longidx);
        if (ch == -1)
            break;
        if (ch == '?')
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind - 1],
                               "unknown option \"%s\" (see --help)", argv[optind - 1]);
        if (ch == ':')
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind - 1],
                               "option \"%s\" needs a value (see --help)", argv[optind - 1]);
        if (ch == OPT_HELP) {
            gw_config_usage();
            return ROSTER_E_CANCELLED;
        }
        if (ch == OPT_VERSION) {
            printf("roster-gateway %s\n", GW_VERSION);
            return ROSTER_E_CANCELLED;
        }
        for (size_t i = 0; i < N_OPTS; i++) {
            if (opts[i].id == ch) {
                int rc = apply(c, &opts[i], opts[i].arg ? optarg : NULL, "--", detail);
                if (rc != ROSTER_E_OK)
                    return rc;
                break;
            }
        }
    }
    if (optind < argc)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, argv[optind],
                           "unexpected argument \"%s\" (see --help)", argv[optind]);
    return ROSTER_E_OK;
}
