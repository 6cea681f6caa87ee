/* TLS configuration for tls+tcp:// listeners and dialers (nng's TLS
 * supplemental API, mbedTLS underneath). */
#ifndef ROSTER_RPC_TLS_H
#define ROSTER_RPC_TLS_H

#include "error.h"

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

/* A server configuration presenting the PEM certificate (chain) in
 * `cert_file` with the PEM private key in `key_file` (both paths borrowed
 * for the call). On success *out is caller-owned: release it with
 * nng_tls_config_free once set on the listener (which keeps its own
 * reference). Errors: ROSTER_E_INVALID_ARGUMENT naming "tlsCert" or
 * "tlsKey" in `detail` (unreadable file, not PEM, key does not match, or a
 * key file readable by group or others: the message names the file and
 * its mode). The key's text is wiped from memory once nng has parsed it. */
int rpc_tls_server_config(nng_tls_config **out, const char *cert_file, const char *key_file,
                          roster_err_detail *detail);

/* A client configuration: verifies the server against the PEM CA chain in
 * `ca_file` when not NULL (else no verification), expecting `server_name`
 * when not NULL. Ownership as above. */
int rpc_tls_client_config(nng_tls_config **out, const char *ca_file, const char *server_name,
                          roster_err_detail *detail);

#endif
