#include "rpc_tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole PEM file (at most 1 MiB) into a malloc'd NUL-terminated
 * buffer. */
static int read_pem(char **out, const char *path, const char *field, roster_err_detail *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field, "cannot open %s: %s", path,
                           strerror(errno));
    char *buf = malloc(1024 * 1024 + 1);
    if (buf == NULL) {
        fclose(f);
        return ROSTER_E_NOMEM;
    }
    size_t n = fread(buf, 1, 1024 * 1024 + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0 || n > 1024 * 1024) {
        free(buf);
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is empty, unreadable or larger than 1 MiB", path);
    }
    buf[n] = '\0';
    *out = buf;
    return ROSTER_E_OK;
}

int rpc_tls_server_config(nng_tls_config **out, const char *cert_file, const char *key_file,
                          roster_err_detail *detail)
{
    char *cert = NULL, *key = NULL;
    nng_tls_config *cfg = NULL;
    int err = read_pem(&cert, cert_file, "tlsCert", detail);
    if (err)
        goto fail;
    err = read_pem(&key, key_file, "tlsKey", detail);
    if (err)
        goto fail;
    if (nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER) != 0) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    int rv = nng_tls_config_own_cert(cfg, cert, key, NULL);
    if (rv != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tlsCert",
                          "certificate %s and key %s are not a usable PEM pair: %s", cert_file,
                          key_file, nng_strerror(rv));
        goto fail;
    }
    free(cert);
    free(key);
    *out = cfg;
    return ROSTER_E_OK;
fail:
    free(cert);
    free(key);
    if (cfg != NULL)
        nng_tls_config_free(cfg);
    return err;
}

int rpc_tls_client_config(nng_tls_config **out, const char *ca_file, const char *server_name,
                          roster_err_detail *detail)
{
    nng_tls_config *cfg = NULL;
    int err;
    if (nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT) != 0)
        return ROSTER_E_NOMEM;
    int rv;
    if (ca_file != NULL) {
        rv = nng_tls_config_ca_file(cfg, ca_file);
        if (rv != 0) {
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tlsCa",
                              "cannot load CA chain %s: %s", ca_file, nng_strerror(rv));
            goto fail;
        }
        rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
    } else {
        rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
    }
    if (rv == 0 && server_name != NULL)
        rv = nng_tls_config_server_name(cfg, server_name);
    if (rv != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tlsServerName",
                          "TLS client configuration failed: %s", nng_strerror(rv));
        goto fail;
    }
    *out = cfg;
    return ROSTER_E_OK;
fail:
    nng_tls_config_free(cfg);
    return err;
}
