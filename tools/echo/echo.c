#include "echo.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "roster_limits.h"

typedef struct echo_ctx {
    roster_echo *e;
    nng_ctx ctx;
    nng_aio *aio;
    bool sending;
} echo_ctx;

struct roster_echo {
    nng_socket sock;
    size_t reply_bytes;
    unsigned char *reply; /* canned reply, or NULL for filler bytes */
    unsigned n;
    echo_ctx *ctxs;
    atomic_ullong served;
};

static void echo_cb(void *arg)
{
    echo_ctx *c = arg;
    int rv = nng_aio_result(c->aio);
    if (c->sending) {
        c->sending = false;
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        else
            atomic_fetch_add_explicit(&c->e->served, 1, memory_order_relaxed);
        if (rv == NNG_ECLOSED)
            return;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (rv != 0) {
        if (rv != NNG_ECLOSED)
            nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    nng_msg *m = nng_aio_get_msg(c->aio);
    if (c->e->reply_bytes != 0) {
        /* A fresh reply of the configured size, as a real server builds one. */
        nng_msg *r = NULL;
        if (nng_msg_alloc(&r, c->e->reply_bytes) != 0) {
            nng_msg_free(m);
            nng_ctx_recv(c->ctx, c->aio);
            return;
        }
        if (c->e->reply != NULL)
            memcpy(nng_msg_body(r), c->e->reply, c->e->reply_bytes);
        else
            memset(nng_msg_body(r), 0x5a, c->e->reply_bytes);
        nng_msg_free(m);
        m = r;
    }
    c->sending = true;
    nng_aio_set_msg(c->aio, m);
    nng_ctx_send(c->ctx, c->aio);
}

void roster_echo_free(roster_echo *e)
{
    if (e == NULL)
        return;
    nng_close(e->sock);
    for (unsigned i = 0; i < e->n; i++) {
        if (e->ctxs[i].aio != NULL) {
            nng_aio_stop(e->ctxs[i].aio);
            nng_aio_free(e->ctxs[i].aio);
        }
    }
    free(e->ctxs);
    free(e->reply);
    free(e);
}

int roster_echo_set_reply(roster_echo *e, const void *reply, size_t len)
{
    unsigned char *copy = malloc(len != 0 ? len : 1);
    if (copy == NULL)
        return ROSTER_E_NOMEM;
    memcpy(copy, reply, len);
    free(e->reply);
    e->reply = copy;
    e->reply_bytes = len;
    return ROSTER_E_OK;
}

int roster_echo_start(roster_echo **out, const char *url, unsigned contexts, size_t reply_bytes)
{
    roster_echo *e = calloc(1, sizeof *e);
    int rv;
    int err = ROSTER_E_NOMEM;
    if (e == NULL)
        return ROSTER_E_NOMEM;
    e->reply_bytes = reply_bytes;
    e->n = contexts != 0 ? contexts : 64;
    if ((e->ctxs = calloc(e->n, sizeof *e->ctxs)) == NULL)
        goto fail;
    if ((rv = nng_rep0_open(&e->sock)) != 0) {
        err = ROSTER_E_UNAVAILABLE;
        goto fail;
    }
    nng_socket_set_size(e->sock, NNG_OPT_RECVMAXSZ, ROSTER_MAX_RPC_MESSAGE);
    for (unsigned i = 0; i < e->n; i++) {
        echo_ctx *c = &e->ctxs[i];
        c->e = e;
        if (nng_ctx_open(&c->ctx, e->sock) != 0 || nng_aio_alloc(&c->aio, echo_cb, c) != 0) {
            err = ROSTER_E_NOMEM;
            goto fail;
        }
    }
    if ((rv = nng_listen(e->sock, url, NULL, 0)) != 0) {
        err = rv == NNG_EADDRINUSE ? ROSTER_E_UNAVAILABLE : ROSTER_E_INVALID_ARGUMENT;
        goto fail;
    }
    for (unsigned i = 0; i < e->n; i++)
        nng_ctx_recv(e->ctxs[i].ctx, e->ctxs[i].aio);
    *out = e;
    return ROSTER_E_OK;
fail:
    roster_echo_free(e);
    return err;
}

unsigned long long roster_echo_served(const roster_echo *e)
{
    return atomic_load(&((roster_echo *)e)->served);
}
