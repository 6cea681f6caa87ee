#include "nng_redial.h"

#include <nng/supplemental/tls/tls.h>
#include <pthread.h>

void roster_redialer_init(roster_redialer *r, nng_socket sock, nng_dialer d, roster_nng_gate *gate)
{
    r->sock = sock;
    r->gate = gate;
    atomic_init(&r->dialer, d.id);
    atomic_init(&r->replaced, 0);
}

nng_dialer roster_redialer_current(const roster_redialer *r)
{
    nng_dialer d = NNG_DIALER_INITIALIZER;
    d.id = atomic_load(&((roster_redialer *)r)->dialer);
    return d;
}

uint64_t roster_redialer_count(const roster_redialer *r)
{
    return atomic_load(&((roster_redialer *)r)->replaced);
}

/* A new started dialer to old's address, with old's TLS configuration:
 * 0 or an nng error (nothing is left behind then). */
static int dial_again(nng_dialer *fresh, nng_socket sock, nng_dialer old)
{
    char *url = NULL;
    int rv = nng_dialer_get_string(old, NNG_OPT_URL, &url);
    if (rv != 0)
        return rv;
    nng_dialer d;
    rv = nng_dialer_create(&d, sock, url);
    nng_strfree(url);
    if (rv != 0)
        return rv;
    /* ENOTSUP for a dialer without TLS; the new one holds its own
     * reference to the configuration. */
    void *tls = NULL;
    if (nng_dialer_get_ptr(old, NNG_OPT_TLS_CONFIG, &tls) == 0 && tls != NULL)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, tls);
    if (rv == 0)
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        nng_dialer_close(d);
        return rv;
    }
    *fresh = d;
    return 0;
}

/* The replacing thread; entered the gate for it before it started. */
static void *redial_main(void *arg)
{
    roster_redialer *r = arg;
    nng_dialer old = roster_redialer_current(r), fresh;
    /* When nng refuses (no memory), the old dialer stays and the next
     * period tries again. */
    if (dial_again(&fresh, r->sock, old) == 0) {
        old.id = atomic_exchange(&r->dialer, fresh.id);
        nng_dialer_close(old);
        atomic_fetch_add(&r->replaced, 1);
    }
    roster_nng_gate_leave(r->gate);
    return NULL;
}

bool roster_redialer_start(roster_redialer *r)
{
    if (!roster_nng_gate_enter(r->gate))
        return false;
    pthread_attr_t attr;
    pthread_t t;
    bool started = pthread_attr_init(&attr) == 0;
    if (started) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&t, &attr, redial_main, r) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started)
        roster_nng_gate_leave(r->gate);
    return started;
}
