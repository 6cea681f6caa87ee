#include "rpc_tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apikey.h"

#define PEM_MAX (1024 * 1024)

/* Reads a whole PEM file (at most 1 MiB) into a malloc'd NUL-terminated
 * buffer of PEM_MAX + 1 bytes (wiped by free_pem). A private key
 * (`secret`) must not be readable by group or others: the mode is checked
 * on the opened file, so it is the file that is read. */
static int read_pem(char **out, const char *path, const char *field, int secret,
                    roster_err_detail *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field, "cannot open %s: %s", path,
                           strerror(errno));
    struct stat st;
    if (secret && fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field, "cannot stat %s: %s", path,
                           strerror(e));
    }
    if (secret && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        fclose(f);
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "private key file %s has mode %04o: it is readable by group or "
                           "others; make it private (chmod 600 %s)",
                           path, (unsigned)(st.st_mode & 07777), path);
    }
    char *buf = malloc(PEM_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return ROSTER_E_NOMEM;
    }
    size_t n = fread(buf, 1, PEM_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0 || n > PEM_MAX) {
        roster_secure_wipe(buf, PEM_MAX + 1);
        free(buf);
        return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, field,
                           "%s is empty, unreadable or larger than 1 MiB", path);
    }
    buf[n] = '\0';
    *out = buf;
    return ROSTER_E_OK;
}

/* Wipes a read_pem buffer (it may hold a private key) and frees it.
 * Accepts NULL. */
static void free_pem(char *buf)
{
    if (buf == NULL)
        return;
    roster_secure_wipe(buf, strlen(buf));
    free(buf);
}

int rpc_tls_server_config(nng_tls_config **out, const char *cert_file, const char *key_file,
                          roster_err_detail *detail)
{
    char *cert = NULL, *key = NULL;
    nng_tls_config *cfg = NULL;
    int err = read_pem(&cert, cert_file, "tlsCert", 0, detail);
    if (err)
        goto fail;
    err = read_pem(&key, key_file, "tlsKey", 1, detail);
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
    free_pem(cert);
    free_pem(key);
    *out = cfg;
    return ROSTER_E_OK;
fail:
    free_pem(cert);
    free_pem(key);
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
