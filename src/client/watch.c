/* The change feed in the client library: ListChanges, and the watch that
 * follows the feed.
 *
 * How the watch keeps "no gap, no duplicate". Its cursor is the seq of
 * the last event handed to the caller (or the service's next_after when a
 * tenant-scoped page skipped other tenants' events), and every call asks
 * for events after it; an event is delivered only when its seq is past
 * the cursor, and the cursor moves with each delivery, so a page cut
 * short by a lost connection or a failed decode is asked for again from
 * the last event delivered, never from the page's start. The service
 * never skips a seq: it answers OUT_OF_RANGE when retention or a period
 * with the feed off took events the cursor has not passed, and the watch
 * hands that to the caller rather than jump.
 *
 * Announcements (sub0 on the service's pub0) only wake the loop: after a
 * page that was not full it waits for one, at most poll_ms, then asks
 * again. An announcement lost (a slow subscriber, a redial) costs at most
 * poll_ms of delay. */
#include "call.h"

#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/tls/tls.h>
#include <stdio.h>
#include <string.h>

#include "feed_url.h"

int roster_client_list_changes(roster_changes_info *info, roster_status *st, roster_client *c,
                               const roster_call_options *o, uint64_t after, int32_t limit,
                               roster_change_fn fn, void *arg)
{
    roster_v1_ListChangesRequest req = roster_v1_ListChangesRequest_init_zero;
    req.has_after = true;
    req.after = after;
    req.has_limit = true;
    req.limit = limit;
    roster_changes_info got;
    roster_call_spec s = {0};
    s.method = RPC_LIST_CHANGES;
    s.req = &req;
    s.out = &got;
    s.change_fn = fn;
    s.fn_arg = arg;
    int err = roster_call_run(st, c, o, &s);
    if (err == ROSTER_E_OK && info != NULL)
        *info = got;
    return err;
}

/* The watch's delivery: events at or before the cursor are dropped. */
typedef struct watch_state {
    uint64_t cursor;
    roster_change_fn fn;
    void *arg;
    bool stopped; /* fn asked to stop */
} watch_state;

static int deliver(void *arg, const roster_v1_Change *ch)
{
    watch_state *w = arg;
    if (ch->seq <= w->cursor)
        return 0;
    if (w->fn(w->arg, ch) != 0) {
        w->cursor = ch->seq;
        w->stopped = true;
        return 1;
    }
    w->cursor = ch->seq;
    return 0;
}

/* Errors a later call may not meet again. */
static bool passing(int err)
{
    return err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_DEADLINE_EXCEEDED ||
           err == ROSTER_E_RESOURCE_EXHAUSTED || err == ROSTER_E_NOMEM ||
           err == ROSTER_E_PROTOCOL || err == ROSTER_E_BUSY || err == ROSTER_E_INTERNAL;
}

/* Opens the announcement subscriber; false when there is none to open
 * (the watch then polls). */
static bool sub_open(nng_socket *out, roster_client *c, const char *url, uint32_t poll_ms)
{
    char derived[4200];
    if (url == NULL) {
        if (roster_feed_url(derived, sizeof derived, c->url) != ROSTER_E_OK)
            return false;
        url = derived;
    }
    if (strcmp(url, "off") == 0)
        return false;
    nng_socket s;
    nng_dialer d;
    if (nng_sub0_open(&s) != 0)
        return false;
    bool ok = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0) == 0 &&
              nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration)poll_ms) == 0 &&
              nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20) == 0 &&
              nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000) == 0 &&
              nng_dialer_create(&d, s, url) == 0;
    if (ok && strncmp(url, "tls+", 4) == 0) {
        nng_tls_config *cfg = NULL;
        ok = nng_dialer_get_ptr(roster_redialer_current(&c->redial), NNG_OPT_TLS_CONFIG,
                                (void **)&cfg) == 0 &&
             nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg) == 0;
    }
    /* Non-blocking: a service not up yet is redialled in the background. */
    if (!ok || nng_dialer_start(d, NNG_FLAG_NONBLOCK) != 0) {
        nng_close(s);
        return false;
    }
    *out = s;
    return true;
}

/* Sleeps ms, in slices, unless *stop is set. */
static void nap(uint32_t ms, const volatile int *stop)
{
    while (ms > 0 && !(stop && *stop)) {
        uint32_t step = ms < 50 ? ms : 50;
        nng_msleep(step);
        ms -= step;
    }
}

int roster_client_watch(uint64_t *last, roster_status *st, roster_client *c,
                        const roster_call_options *o, const roster_watch_options *wo,
                        uint64_t after, roster_change_fn fn, void *arg)
{
    roster_watch_options def = {0};
    if (wo == NULL)
        wo = &def;
    int32_t limit = wo->limit > 0 ? wo->limit : 500;
    uint32_t poll_ms = wo->poll_ms ? wo->poll_ms : 1000;
    uint32_t retry_ms = wo->retry_ms ? wo->retry_ms : 200;
    watch_state w = {.cursor = after, .fn = fn, .arg = arg};
    int err = ROSTER_E_OK;
    if (c == NULL || fn == NULL) {
        err = ROSTER_E_INVALID_ARGUMENT;
        if (st != NULL) {
            memset(st, 0, sizeof *st);
            st->err = err;
            st->code = -1;
            snprintf(st->message, sizeof st->message, "client and fn are required");
        }
        goto out;
    }
    nng_socket sub;
    bool have_sub = sub_open(&sub, c, wo->notify_url, poll_ms);
    for (;;) {
        if (wo->stop != NULL && *wo->stop) {
            err = ROSTER_E_OK;
            break;
        }
        roster_changes_info info = {0};
        err = roster_client_list_changes(&info, st, c, o, w.cursor, limit, deliver, &w);
        if (w.stopped) {
            err = ROSTER_E_CANCELLED;
            break;
        }
        if (err != ROSTER_E_OK) {
            if (!passing(err))
                break;
            nap(retry_ms, wo->stop);
            continue;
        }
        /* A scoped page may end past its last event. */
        if (info.next_after > w.cursor)
            w.cursor = info.next_after;
        if (w.cursor < info.latest_seq)
            continue; /* more is waiting */
        if (!have_sub) {
            nap(poll_ms, wo->stop);
            continue;
        }
        uint8_t *msg = NULL;
        size_t len = 0;
        if (nng_recv(sub, &msg, &len, NNG_FLAG_ALLOC) == 0) {
            nng_free(msg, len);
            /* Announcements that queued meanwhile say nothing more. */
            while (nng_recv(sub, &msg, &len, NNG_FLAG_ALLOC | NNG_FLAG_NONBLOCK) == 0)
                nng_free(msg, len);
        }
    }
    if (have_sub)
        nng_close(sub);
out:
    if (last != NULL)
        *last = w.cursor;
    return err;
}
