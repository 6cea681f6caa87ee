/* roster-gateway: wires configuration, the schema, the upstream client,
 * the resolvers, the document cache and the HTTP routes, then waits for
 * SIGTERM, SIGINT or SIGQUIT and shuts down gracefully; SIGHUP only logs a
 * line. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "batcher.h"
#include "clock.h"
#include "config.h"
#include "cors.h"
#include "error.h"
#include "graphiql.h"
#include "graphql.h"
#include "graphql_http.h"
#include "grpc_front.h"
#include "grpc_reflection.h"
#include "http_server.h"
#include "log.h"
#include "loop.h"
#include "probes.h"
#include "resolvers.h"
#include "schema_sdl.h"
#include "token_http.h"
#include "upstream.h"

static int load_file(char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ROSTER_E_IO;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return ROSTER_E_NOMEM;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return ROSTER_E_OK;
}

static int build_schema(gql_schema **out, const gw_config *cfg)
{
    const char *sdl = gw_schema_sdl;
    size_t len = gw_schema_sdl_len;
    char *file = NULL;
    if (cfg->schema_path[0]) {
        int rc = load_file(&file, &len, cfg->schema_path);
        if (rc != ROSTER_E_OK) {
            char q[1100];
            roster_log(ROSTER_LOG_ERROR, "schema_error", "path=%s error=%s",
                       roster_log_quote(q, sizeof q, cfg->schema_path), strerror(errno));
            return rc;
        }
        sdl = file;
    }
    gql_errors errs;
    gql_errors_init(&errs);
    gql_schema *s = NULL;
    int rc = gql_schema_build(&s, &errs, sdl, len);
    if (rc == ROSTER_E_OK)
        rc = gql_schema_use_standard_scalars(s);
    if (rc != ROSTER_E_OK) {
        for (gql_error *e = errs.head; e; e = e->next) {
            char q[600];
            roster_log(ROSTER_LOG_ERROR, "schema_error", "message=%s line=%u",
                       roster_log_quote(q, sizeof q, e->message),
                       e->n_locations ? e->locations[0].line : 0);
        }
        gql_schema_free(s);
        s = NULL;
    }
    gql_errors_free(&errs);
    free(file);
    if (rc == ROSTER_E_OK)
        *out = s;
    return rc;
}

/* A loop's turn after libmicrohttpd's: the lookups its requests made in
 * this iteration leave together. */
static int64_t flush_turn(void *ud, unsigned index)
{
    gw_batcher *const *batchers = ud;
    gw_batcher_flush(batchers[index]);
    return -1;
}

int main(int argc, char **argv)
{
    gw_config cfg;
    roster_err_detail d = {{0}};
    gw_config_defaults(&cfg);
    roster_log_init("gateway", ROSTER_LOG_INFO);
    int rc = gw_config_from_env(&cfg, &d);
    if (rc == ROSTER_E_OK)
        rc = gw_config_from_args(&cfg, argc, argv, &d);
    if (rc == ROSTER_E_CANCELLED)
        return 0;
    if (rc == ROSTER_E_OK)
        rc = gw_config_check(&cfg, &d);
    if (rc != ROSTER_E_OK) {
        fprintf(stderr, "roster-gateway: %s\n", d.message);
        return 2;
    }
    roster_log_init("gateway", cfg.log_level);
    if (strncmp(cfg.upstream, "tls+tcp://", 10) == 0 && cfg.upstream_tls_insecure) {
        char qu[1100];
        roster_log(ROSTER_LOG_WARN, "upstream_tls_insecure",
                   "upstream=%s message=\"the user service's certificate is not verified: "
                   "anyone on the path can impersonate it and read API keys\"",
                   roster_log_quote(qu, sizeof qu, cfg.upstream));
    }

    /* Signals are taken by sigwait in this thread only; block them before
     * nng starts its threads so they inherit the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGQUIT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    gql_schema *schema = NULL;
    gw_upstream *up = NULL;
    gw_resolvers *res = NULL;
    gw_batcher *batcher = NULL;
    gw_batcher *loop_batchers[64] = {0};
    unsigned n_loop_batchers = 0;
    gw_loops *loops = NULL;
    gw_auth *auth = NULL;
    gql_cache *cache = NULL;
    gw_graphql *gql = NULL;
    gw_http *http = NULL;
    gw_cors *cors = NULL;
    gw_probes probes = {0};
    gw_grpc *grpc = NULL;
    int exit_code = 1;

    if ((rc = build_schema(&schema, &cfg)) != ROSTER_E_OK)
        goto fail;
    gw_upstream_tls tls = {.ca_file = cfg.upstream_ca, .server_name = cfg.upstream_name};
    if ((rc = gw_upstream_new(&up, cfg.upstream, cfg.rpc_contexts, cfg.rpc_sockets, &tls, &d)) !=
        ROSTER_E_OK) {
        char q[600];
        roster_log(ROSTER_LOG_ERROR, "upstream_error", "error=%s",
                   roster_log_quote(q, sizeof q, d.message));
        goto fail;
    }
    if ((rc = gw_auth_new(&auth, up)) != ROSTER_E_OK)
        goto fail;
    gw_batcher_options bo = gw_batcher_defaults();
    bo.batch_max = cfg.batch_max;
    bo.max_in_flight = cfg.batch_in_flight;
    if (cfg.batch_lookups && (rc = gw_batcher_new(&batcher, &bo, gw_upstream_send, up)) != 0)
        goto fail;
    if ((rc = gw_resolvers_new(&res, schema, up, batcher, cfg.max_page, cfg.max_rpcs)) !=
        ROSTER_E_OK) {
        roster_log(ROSTER_LOG_ERROR, "resolvers_error",
                   "error=\"the schema does not match the resolvers\" code=%s", roster_errname(rc));
        goto fail;
    }
    if ((rc = gw_loops_new(&loops, cfg.http_threads)) != ROSTER_E_OK)
        goto fail;
    if (cfg.batch_lookups) {
        /* Each loop batches its own lookups, sent at the end of its
         * iteration; the shared batcher serves lookups made elsewhere. */
        gw_batcher_options lo = bo;
        lo.defer = true;
        for (; n_loop_batchers < gw_loops_count(loops); n_loop_batchers++)
            if ((rc = gw_batcher_new(&loop_batchers[n_loop_batchers], &lo, gw_upstream_send, up)) !=
                ROSTER_E_OK)
                goto fail;
        gw_resolvers_set_loop_batchers(res, loop_batchers, n_loop_batchers);
    }
    gql_limits limits = {
        .max_bytes = cfg.max_body, .max_tokens = cfg.max_tokens, .max_depth = cfg.max_depth};
    if (cfg.doc_cache > 0 &&
        (rc = gql_cache_new(&cache, schema, cfg.doc_cache, &limits)) != ROSTER_E_OK)
        goto fail;
    gw_graphql_params gp = {.schema = schema,
                            .cache = cache,
                            .limits = &limits,
                            .resolvers = res,
                            .auth = auth,
                            .max_inflight = cfg.max_inflight,
                            .timeout_ms = cfg.timeout_ms};
    if ((rc = gw_graphql_new(&gql, &gp)) != ROSTER_E_OK)
        goto fail;
    probes.up = up;
    probes.cache = cache;
    probes.auth = cfg.metrics_require_key ? auth : NULL;
    if ((rc = gw_cors_new(&cors, cfg.cors_origins, &d)) != ROSTER_E_OK)
        goto fail;
    gw_token_http tokens = {.up = up, .timeout_ms = cfg.timeout_ms};
    gw_route routes[] = {
        {.path = "/graphql", .fn = gw_graphql_route, .ud = gql, .cors = cors},
        /* The ROQ platform's paths, for its SDKs. */
        {.path = "/v01/server/graphql", .fn = gw_graphql_route, .ud = gql, .cors = cors},
        {.path = "/v01/authorize/serviceAccount",
         .fn = gw_token_service_route,
         .ud = &tokens,
         .cors = cors},
        {.path = "/v01/authorize", .fn = gw_token_user_route, .ud = &tokens, .cors = cors},
        {.path = "/healthz", .fn = gw_probe_healthz, .ud = &probes},
        {.path = "/readyz", .fn = gw_probe_readyz, .ud = &probes},
        {.path = "/metrics", .fn = gw_probe_metrics, .ud = &probes},
        {.path = gw_graphiql_prefix, .fn = gw_graphiql_route, .tree = 1},
    };
    gw_http_params hp = {.listen_url = cfg.listen,
                         .allowed_hosts = cfg.allowed_hosts,
                         .max_body = cfg.max_body,
                         .max_conns = cfg.max_conns,
                         .conn_memory = cfg.conn_memory,
                         .header_timeout_s = (cfg.header_timeout_ms + 999) / 1000,
                         .idle_timeout_s = (cfg.idle_timeout_ms + 999) / 1000};
    if ((rc = gw_http_start(&http, &hp, routes, sizeof routes / sizeof routes[0], loops, &d)) !=
        ROSTER_E_OK) {
        char q[600];
        roster_log(ROSTER_LOG_ERROR, "listen_error", "error=%s",
                   roster_log_quote(q, sizeof q, d.message));
        goto fail;
    }
    if (cfg.grpc_listen[0]) {
        gw_grpc_options go = {.listen = cfg.grpc_listen,
                              .tls_cert = cfg.grpc_tls_cert,
                              .tls_key = cfg.grpc_tls_key,
                              .max_message = cfg.grpc_max_message,
                              .timeout_ms = cfg.timeout_ms,
                              .max_calls = cfg.max_inflight,
                              .max_streams = cfg.grpc_max_streams,
                              .up = up,
                              .auth = auth,
                              .reflect = grpc_reflection_answer,
                              .upstream_url = cfg.upstream,
                              .changes_url = cfg.upstream_changes};
        if ((rc = gw_grpc_start(&grpc, &go, &d)) != ROSTER_E_OK) {
            char q[600];
            roster_log(ROSTER_LOG_ERROR, "listen_error", "error=%s",
                       roster_log_quote(q, sizeof q, d.message));
            goto fail;
        }
        char qg[600];
        roster_log(ROSTER_LOG_INFO, "grpc_listen", "listen=%s port=%d tls=%s max_message=%zu",
                   roster_log_quote(qg, sizeof qg, cfg.grpc_listen), gw_grpc_port(grpc),
                   cfg.grpc_tls_cert[0] ? "yes" : "no", cfg.grpc_max_message);
    }
    /* After libmicrohttpd's turn, which reads the requests. */
    if (n_loop_batchers > 0 && (rc = gw_loops_add_turn(loops, flush_turn, loop_batchers)) != 0)
        goto fail;
    if ((rc = gw_loops_start(loops)) != ROSTER_E_OK) {
        roster_log(ROSTER_LOG_ERROR, "listen_error", "error=\"cannot start the event loops\"");
        goto fail;
    }
    {
        char ql[600], qu[1100];
        roster_log(ROSTER_LOG_INFO, "startup",
                   "listen=%s port=%d upstream=%s max_body=%zu max_tokens=%u max_depth=%u "
                   "max_page=%u timeout_ms=%u max_inflight=%u max_conns=%u conn_memory=%zu "
                   "batch_lookups=%s batch_max=%u",
                   roster_log_quote(ql, sizeof ql, cfg.listen), gw_http_port(http),
                   roster_log_quote(qu, sizeof qu, cfg.upstream), cfg.max_body, cfg.max_tokens,
                   cfg.max_depth, cfg.max_page, cfg.timeout_ms, cfg.max_inflight,
                   gw_http_max_conns(http), cfg.conn_memory, cfg.batch_lookups ? "yes" : "no",
                   cfg.batch_max);
    }

    /* SIGTERM, SIGINT and SIGQUIT drain and exit. SIGHUP never stops the
     * gateway: logs go to stderr, so there is no file to reopen; it leaves
     * a line saying it was seen and ignored. */
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            roster_log(
                ROSTER_LOG_INFO, "signal_ignored",
                "signal=SIGHUP in_flight=%lld reason=\"logs go to stderr; nothing to reopen\"",
                (long long)gw_graphql_inflight(gql));
        sig = 0;
    }
    roster_log(ROSTER_LOG_INFO, "shutdown", "signal=SIG%s in_flight=%lld", sigabbrev_np(sig),
               (long long)gw_graphql_inflight(gql));
    gw_http_drain(http);
    gw_grpc_drain(grpc);
    int64_t until = roster_mono_ns() + (int64_t)cfg.drain_ms * 1000000;
    /* Every admitted request: GraphQL, token exchanges, probes, gRPC calls. */
    while ((gw_http_inflight(http) > 0 || gw_graphql_inflight(gql) > 0 ||
            (grpc != NULL && gw_grpc_inflight(grpc) > 0)) &&
           roster_mono_ns() < until) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int64_t left = gw_http_inflight(http);
    if (left > 0)
        roster_log(ROSTER_LOG_WARN, "shutdown_timeout", "in_flight=%lld", (long long)left);
    exit_code = 0;
fail:
    /* Requests still running after the drain time wait on upstream calls:
     * with the loops stopped, replies run on nng's threads; the loops'
     * queued lookups are sent; closing the client fails the calls left,
     * which answers the requests; new requests are already refused, so
     * none reaches the closed client. */
    gw_loops_stop(loops);
    for (unsigned i = 0; i < n_loop_batchers; i++)
        gw_batcher_undefer(loop_batchers[i]);
    /* gRPC calls left are cancelled; their upstream calls fail when the
     * client closes, and the front then frees them. */
    gw_grpc_cancel(grpc);
    gw_upstream_free(up);
    gw_grpc_free(grpc);
    gw_http_free(http);
    gw_cors_free(cors);
    gw_graphql_free(gql);
    gql_cache_free(cache);
    gw_resolvers_free(res);
    gw_batcher_free(batcher);
    for (unsigned i = 0; i < n_loop_batchers; i++)
        gw_batcher_free(loop_batchers[i]);
    gw_loops_free(loops);
    gw_auth_free(auth);
    gql_schema_free(schema);
    if (exit_code == 0)
        roster_log(ROSTER_LOG_INFO, "stopped", "exit_code=%d", exit_code);
    return exit_code;
}
