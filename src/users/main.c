/* roster-users: wires configuration, logging, the store, the writer, the
 * service, the RPC server and the customData index build together, then
 * waits for SIGTERM, SIGINT or SIGQUIT (drain and exit); SIGHUP only logs
 * a line. */
#include "cdx_builder.h"
#include "clock.h"
#include "config.h"
#include "initkey.h"
#include "log.h"
#include "rpc_server.h"
#include "service.h"
#include "stats.h"
#include "store.h"
#include "writer.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int64_t t0 = roster_mono_ns();
    users_config cfg;
    roster_err_detail d = {{0}};
    store *st = NULL;
    users_stats *stats = NULL;
    users_writer *writer = NULL;
    users_service *svc = NULL;
    users_tokens *tokens = NULL;
    users_feed *feed = NULL;
    rpc_server *srv = NULL;
    users_cdx_builder *builder = NULL;
    int status = 1;

    /* Signals are taken by sigwait below; every thread (nng's included,
     * created later) inherits the block. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGQUIT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    roster_log_init("users", ROSTER_LOG_INFO);
    int err = users_config_parse(&cfg, argc, argv, &d);
    if (err) {
        char q[300];
        roster_log(ROSTER_LOG_ERROR, "bad_config", "option=%s error=%s",
                   roster_log_quote(q, 80, d.field[0] ? d.field : "-"),
                   roster_log_quote(q + 80, 220, d.message));
        fprintf(stderr, "roster-users: %s\n", d.message);
        return err == ROSTER_E_INVALID_ARGUMENT ? 2 : 1;
    }
    if (cfg.help) {
        users_config_usage(stdout);
        return 0;
    }
    roster_log_init("users", cfg.log_level);

    char q1[600], q2[600], q3[600];
    store_options so = {.map_size = cfg.map_size,
                        .pg_pool_size = cfg.store_pool,
                        .changes_off = cfg.changes_off,
                        .changes_keep_events = cfg.changes_keep_events,
                        .changes_keep_ms = cfg.changes_keep_ms,
                        .custom_index = (const char *const *)cfg.custom_index,
                        .n_custom_index = cfg.n_custom_index,
                        .global_order = (const char *const *)cfg.global_order,
                        .n_global_order = cfg.n_global_order,
                        .declare_custom_index = true,
                        .detail = &d};
    /* The URL is not logged: it may carry a password. */
    const char *where = cfg.store_url ? cfg.store_url : cfg.data_dir;
    if ((err = store_open(&st, where, &so)) != 0) {
        roster_log(
            ROSTER_LOG_ERROR, "store_open_failed", "data=%s store=%s error=%s reason=%s",
            roster_log_quote(q1, sizeof q1, cfg.data_dir), cfg.store_url ? "postgresql" : "lmdb",
            roster_errname(err),
            roster_log_quote(q2, sizeof q2, d.message[0] ? d.message : roster_strerror(err)));
        goto done;
    }
    if (cfg.init_admin_key != NULL) {
        bool minted = false;
        if ((err = users_init_admin_key(&minted, st, cfg.init_admin_key, &d)) != 0) {
            roster_log(ROSTER_LOG_ERROR, "init_admin_key_failed", "file=%s error=%s reason=%s",
                       roster_log_quote(q1, sizeof q1, cfg.init_admin_key), roster_errname(err),
                       roster_log_quote(q2, sizeof q2, d.message));
            fprintf(stderr, "roster-users: %s\n", d.message);
            goto done;
        }
        if (!minted)
            roster_log(ROSTER_LOG_INFO, "init_admin_key_skipped", "reason=%s",
                       roster_log_quote(q1, sizeof q1, "the store already holds keys"));
    }
    if ((err = users_tokens_open(&tokens, st, cfg.data_dir, &d)) != 0) {
        roster_log(ROSTER_LOG_ERROR, "signing_key_failed", "error=%s reason=%s",
                   roster_errname(err), roster_log_quote(q2, sizeof q2, d.message));
        fprintf(stderr, "roster-users: %s\n", d.message);
        goto done;
    }
    bool ipc = strncmp(cfg.listen, "ipc://", 6) == 0;
    if (cfg.allow_keyless_ipc && !ipc)
        roster_log(ROSTER_LOG_WARN, "allow_keyless_ipc_ignored", "reason=%s",
                   roster_log_quote(q1, sizeof q1, "the listener is not ipc://"));
    if ((err = users_stats_new(&stats)) != 0 ||
        (err = users_writer_start(&writer, st, stats, cfg.group_commit, cfg.max_group)) != 0 ||
        (err = users_service_new(&svc, st, writer, stats, tokens, cfg.list_threads,
                                 cfg.allow_keyless_ipc && ipc)) != 0) {
        roster_log(ROSTER_LOG_ERROR, "startup_failed", "error=%s", roster_errname(err));
        goto done;
    }
    users_service_set_merge_warn(svc, cfg.merge_warn_tenants);
    if (cfg.changes_listen != NULL &&
        (err = users_feed_open(&feed, cfg.changes_listen, cfg.ipc_mode, cfg.tls_cert, cfg.tls_key,
                               &d)) != 0) {
        roster_log(ROSTER_LOG_ERROR, "listen_failed", "changes_listen=%s error=%s reason=%s",
                   roster_log_quote(q1, sizeof q1, cfg.changes_listen), roster_errname(err),
                   roster_log_quote(q2, sizeof q2, d.message));
        goto done;
    }
    /* Idle trims keep age retention within a quarter of the age (between
     * 100 ms and a minute late) when no writes come; commits trim too. */
    uint64_t trim_ms = cfg.changes_keep_ms == STORE_CHANGES_UNLIMITED ? 0 : cfg.changes_keep_ms / 4;
    if (trim_ms > 0 && trim_ms < 100)
        trim_ms = 100;
    if (trim_ms > 60000)
        trim_ms = 60000;
    users_writer_set_feed(writer, feed, cfg.changes_off ? 0 : (unsigned)trim_ms);
    rpc_server_options ro = {
        .url = cfg.listen,
        .contexts = cfg.workers,
        .tls_cert = cfg.tls_cert,
        .tls_key = cfg.tls_key,
        .ipc_mode = cfg.ipc_mode,
        .listener_check_ms = cfg.listener_check_ms,
        .handler = users_service_handle,
        .observer = users_service_observe,
        .arg = svc,
    };
    if ((err = rpc_server_start(&srv, &ro, &d)) != 0) {
        roster_log(ROSTER_LOG_ERROR, "listen_failed", "listen=%s error=%s reason=%s",
                   roster_log_quote(q1, sizeof q1, cfg.listen), roster_errname(err),
                   roster_log_quote(q2, sizeof q2, d.message));
        goto done;
    }
    users_service_set_server(svc, srv);
    store_stats ss = {0};
    store_rtxn *rx = NULL;
    if (store_read_begin(st, &rx) == ROSTER_E_OK) {
        if (store_stat(rx, &ss) != ROSTER_E_OK)
            ss.map_size = ss.used_bytes = 0;
        store_read_end(rx);
    }
    roster_log(ROSTER_LOG_INFO, "startup",
               "data=%s store=%s store_pool=%u listen=%s workers=%u list_threads=%u "
               "group_commit=%s max_group=%u listener_check_ms=%u keyless_admin=%s map_size=%llu "
               "used_bytes=%llu change_feed=%s changes_listen=%s startup_ms=%.1f",
               roster_log_quote(q1, sizeof q1, cfg.data_dir), cfg.store_url ? "postgresql" : "lmdb",
               cfg.store_url ? cfg.store_pool : 0, roster_log_quote(q2, sizeof q2, cfg.listen),
               cfg.workers, cfg.list_threads, cfg.group_commit ? "true" : "false", cfg.max_group,
               cfg.listener_check_ms, cfg.allow_keyless_ipc && ipc ? "true" : "false",
               (unsigned long long)ss.map_size, (unsigned long long)ss.used_bytes,
               cfg.changes_off ? "off" : "on",
               roster_log_quote(q3, sizeof q3, cfg.changes_listen ? cfg.changes_listen : "off"),
               (double)(roster_mono_ns() - t0) / 1e6);
    /* customData indexes declared but not built yet: built online, now
     * that the service answers. */
    if ((err = users_cdx_builder_start(&builder, st)) != 0) {
        roster_log(ROSTER_LOG_ERROR, "startup_failed", "error=%s reason=%s", roster_errname(err),
                   roster_log_quote(q1, sizeof q1, "cannot start the customData index build"));
        goto done;
    }

    /* SIGHUP never stops the service: logs go to stderr, so there is no
     * file to reopen; it leaves a line saying it was seen and ignored. */
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            roster_log(ROSTER_LOG_INFO, "signal_ignored",
                       "signal=SIGHUP in_flight=%u reason=\"logs go to stderr; nothing to reopen\"",
                       rpc_server_in_flight(srv));
        sig = 0;
    }
    int64_t t1 = roster_mono_ns();
    roster_log(ROSTER_LOG_INFO, "shutdown_begin", "signal=SIG%s in_flight=%u", sigabbrev_np(sig),
               rpc_server_in_flight(srv));
    users_cdx_builder_stop(builder); /* between two steps: at most one step's wait */
    builder = NULL;
    unsigned left = rpc_server_stop(srv, 10000);
    unsigned long long restores = rpc_server_listener_restores(srv);
    if (left > 0)
        roster_log(ROSTER_LOG_WARN, "shutdown_unanswered", "calls=%u", left);
    users_writer_stop(writer);
    writer = NULL;
    users_feed_close(feed);
    feed = NULL;
    users_service_drain(svc);
    rpc_server_free(srv);
    srv = NULL;
    status = 0;
    roster_log(ROSTER_LOG_INFO, "shutdown", "ms=%.1f listener_restores=%llu",
               (double)(roster_mono_ns() - t1) / 1e6, restores);
done:
    users_cdx_builder_stop(builder);
    rpc_server_free(srv);
    users_writer_stop(writer);
    users_feed_close(feed);
    users_service_free(svc);
    users_tokens_free(tokens);
    users_stats_free(stats);
    store_close(st);
    users_config_free(&cfg);
    return status;
}
