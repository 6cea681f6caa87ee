#include "nng_redial.h"

#include <nng/supplemental/tls/tls.h>

int roster_nng_redial(nng_dialer *fresh, nng_socket sock, nng_dialer old)
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
