/* The Host header allowlist (DNS rebinding): which Host values the
 * gateway serves. Pure functions over a fixed-size table; no I/O. */
#ifndef ROSTER_GW_HOST_ALLOW_H
#define ROSTER_GW_HOST_ALLOW_H

#include <stddef.h>

#include "error.h"

#define GW_HOSTS_MAX     32
#define GW_HOST_NAME_CAP 256

/* An allowed Host: the name (lower case, IPv6 in brackets) and the port it
 * must carry, or -1 for "none or the port being served". */
typedef struct gw_host_entry {
    char name[GW_HOST_NAME_CAP];
    int port;
} gw_host_entry;

/* The table; plain data owned by whoever embeds it. */
typedef struct gw_hosts {
    gw_host_entry e[GW_HOSTS_MAX];
    size_t n;
} gw_hosts;

/* Fills *h from `allowed` (borrowed for the call): a comma list of host or
 * host:port (IPv6 in brackets), compared without regard to case; an entry
 * without a port matches the host alone and the host with the port being
 * served. NULL or "" means `listen_host` (the listen URL's host, borrowed;
 * may be NULL or ""), localhost, 127.0.0.1 and [::1]. Returns ROSTER_E_OK,
 * or ROSTER_E_INVALID_ARGUMENT with `detail` (may be NULL; field
 * "allowed-hosts") for a malformed entry or more than GW_HOSTS_MAX; *h is
 * then partly written. */
int gw_hosts_init(gw_hosts *h, const char *allowed, const char *listen_host,
                  roster_err_detail *detail);

/* 1 when `host` (a Host header value, borrowed; NULL when absent) is
 * allowed for a server on `served_port`, else 0. */
int gw_hosts_allowed(const gw_hosts *h, const char *host, int served_port);

#endif
