#include "host_allow.h"

#include <stdio.h>
#include <string.h>

/* Splits "host", "host:port", "[v6]" or "[v6]:port" (len bytes at s) into
 * a lower-case name and a port (-1 when absent). 0 when malformed. */
static int host_split(gw_host_entry *out, const char *s, size_t len)
{
    size_t name_len = len;
    const char *port = NULL;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return 0;
        name_len = (size_t)(close - s) + 1;
        if (name_len < len) {
            if (s[name_len] != ':')
                return 0;
            port = s + name_len + 1;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon != NULL) {
            name_len = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (name_len == 0 || name_len >= GW_HOST_NAME_CAP)
        return 0;
    int p = -1;
    if (port != NULL) {
        size_t plen = len - (size_t)(port - s);
        if (plen == 0 || plen > 5)
            return 0;
        p = 0;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return 0;
            p = p * 10 + (port[i] - '0');
        }
        if (p > 65535)
            return 0;
    }
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f)
            return 0;
        out->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out->name[name_len] = '\0';
    out->port = p;
    return 1;
}

static int hosts_add(gw_hosts *h, const char *s, size_t len)
{
    if (h->n == GW_HOSTS_MAX || !host_split(&h->e[h->n], s, len))
        return 0;
    h->n++;
    return 1;
}

int gw_hosts_init(gw_hosts *h, const char *allowed, const char *listen_host,
                  roster_err_detail *detail)
{
    h->n = 0;
    if (allowed != NULL && allowed[0] != '\0') {
        const char *p = allowed;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (!hosts_add(h, p, len))
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "allowed-hosts",
                                   "allowed hosts \"%s\": \"%.*s\" is not host or host:port, or "
                                   "there are more than %d",
                                   allowed, (int)len, p, GW_HOSTS_MAX);
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        return ROSTER_E_OK;
    }
    if (listen_host != NULL && listen_host[0] != '\0') {
        char b[GW_HOST_NAME_CAP];
        int n =
            snprintf(b, sizeof b, strchr(listen_host, ':') && listen_host[0] != '[' ? "[%s]" : "%s",
                     listen_host);
        if (n > 0 && (size_t)n < sizeof b)
            hosts_add(h, b, (size_t)n);
    }
    static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        hosts_add(h, local[i], strlen(local[i]));
    return ROSTER_E_OK;
}

int gw_hosts_allowed(const gw_hosts *h, const char *host, int served_port)
{
    gw_host_entry e;
    if (host == NULL || !host_split(&e, host, strlen(host)))
        return 0;
    for (size_t i = 0; i < h->n; i++) {
        const gw_host_entry *a = &h->e[i];
        if (strcmp(a->name, e.name) != 0)
            continue;
        if (a->port == -1 ? (e.port == -1 || e.port == served_port) : e.port == a->port)
            return 1;
    }
    return 0;
}
