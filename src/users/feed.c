#include "feed.h"

#include "feed_url.h"
#include "log.h"
#include "nng_close.h"
#include "rpc_tls.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct users_feed {
    nng_socket sock;
};

int users_feed_default_url(char *out, size_t cap, const char *listen, const char *data_dir,
                           roster_err_detail *detail)
{
    if (strncmp(listen, "ipc://", 6) == 0 && roster_feed_url(out, cap, listen) == ROSTER_E_OK)
        return ROSTER_E_OK;
    if (strncmp(listen, "ipc://", 6) != 0) {
        int n = snprintf(out, cap, "ipc://%s/users-changes.ipc", data_dir);
        if (n > 0 && (size_t)n < cap)
            return ROSTER_E_OK;
    }
    return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "changes-listen",
                       "no change-feed address can be made beside %.80s; give --changes-listen",
                       listen);
}

int users_feed_open(users_feed **out, const char *url, int ipc_mode, const char *tls_cert,
                    const char *tls_key, roster_err_detail *detail)
{
    users_feed *f = calloc(1, sizeof *f);
    if (f == NULL)
        return ROSTER_E_NOMEM;
    nng_listener l = NNG_LISTENER_INITIALIZER;
    nng_tls_config *tls = NULL;
    int err = ROSTER_E_OK, rv;
    if ((rv = nng_pub0_open(&f->sock)) != 0) {
        free(f);
        return roster_fail(detail, ROSTER_E_INTERNAL, "changes-listen", "cannot open: %s",
                           nng_strerror(rv));
    }
    if ((rv = nng_listener_create(&l, f->sock, url)) != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "changes-listen",
                          "cannot listen on %.200s: %s", url, nng_strerror(rv));
        goto fail;
    }
    if (strncmp(url, "tls+", 4) == 0) {
        if ((err = rpc_tls_server_config(&tls, tls_cert, tls_key, detail)) != ROSTER_E_OK)
            goto fail;
        rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
    } else if (strncmp(url, "ipc://", 6) == 0) {
        rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, ipc_mode ? ipc_mode : 0600);
    }
    if (rv == 0)
        rv = nng_listener_start(l, 0);
    if (rv != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "changes-listen",
                          "cannot listen on %.200s: %s", url, nng_strerror(rv));
        goto fail;
    }
    if (tls != NULL)
        nng_tls_config_free(tls);
    *out = f;
    return ROSTER_E_OK;
fail:
    if (tls != NULL)
        nng_tls_config_free(tls);
    nng_close(f->sock);
    free(f);
    return err;
}

void users_feed_publish(users_feed *f, uint64_t first, uint64_t last)
{
    if (f == NULL)
        return;
    uint8_t b[USERS_FEED_MSG_LEN];
    for (int i = 7; i >= 0; i--, first >>= 8, last >>= 8) {
        b[i] = (uint8_t)first;
        b[8 + i] = (uint8_t)last;
    }
    /* pub0 never blocks a sender; it drops for a full subscriber. */
    nng_send(f->sock, b, sizeof b, NNG_FLAG_NONBLOCK);
}

void users_feed_close(users_feed *f)
{
    if (f == NULL)
        return;
    /* Bounded like the RPC socket's: nng 1.5.2's reaper can stick for
     * good (upstream #1813), and nng_close would then never return. A
     * pub0 socket's close has nothing to wait for but that reaper, so the
     * bound is short; nng never holds f itself (the socket is passed by
     * value), so f is freed either way. */
    if (!roster_nng_close_bounded(f->sock, 500))
        roster_log(ROSTER_LOG_WARN, "socket_close_stuck", "socket=changes");
    free(f);
}
