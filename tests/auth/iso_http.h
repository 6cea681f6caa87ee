/* A minimal HTTP/1.1 client for the isolation suite: one POST per
 * connection (Connection: close), the reply read by Content-Length or to
 * the end of the stream. Enough to talk to roster-gateway on loopback;
 * not a general client (no chunked bodies, no redirects, no TLS). */
#ifndef ROSTER_TEST_ISO_HTTP_H
#define ROSTER_TEST_ISO_HTTP_H

#include <stddef.h>

typedef struct iso_http_reply {
    int status; /* HTTP status, or 0 when no reply was read */
    char *body; /* NUL-terminated, caller-owned until iso_http_reply_free */
    size_t body_len;
} iso_http_reply;

/* Sends `method` `path` to 127.0.0.1:port with the given Host header
 * value, optional Authorization header value (NULL = none) and optional
 * body (NULL = none; sent as application/json). Fills *out (written only
 * on success). Returns 0, or -1 when the connection or the reply failed. */
int iso_http_request(iso_http_reply *out, int port, const char *method, const char *path,
                     const char *host, const char *authorization, const char *body);

/* Frees r->body. Accepts NULL. */
void iso_http_reply_free(iso_http_reply *r);

#endif
