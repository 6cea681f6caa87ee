#include "iso_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Content-Length of the header block, or -1 when absent. */
static long content_length(const char *head, size_t head_len)
{
    const char *p = head;
    const char *end = head + head_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
            return strtol(p + 15, NULL, 10);
        p = eol + 1;
    }
    return -1;
}

int iso_http_request(iso_http_reply *out, int port, const char *method, const char *path,
                     const char *host, const char *authorization, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *buf = NULL, *head = NULL;
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        goto fail;

    size_t body_len = body != NULL ? strlen(body) : 0;
    size_t head_cap =
        strlen(path) + strlen(host) + (authorization ? strlen(authorization) : 0) + 256;
    head = malloc(head_cap);
    if (head == NULL)
        goto fail;
    int hn =
        snprintf(head, head_cap,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                 "Accept: application/json\r\n%s%s%s",
                 method, path, host, authorization != NULL ? "Authorization: " : "",
                 authorization != NULL ? authorization : "", authorization != NULL ? "\r\n" : "");
    if (hn < 0 || (size_t)hn >= head_cap)
        goto fail;
    if (body != NULL) {
        int m = snprintf(head + hn, head_cap - (size_t)hn,
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
        if (m < 0 || (size_t)m >= head_cap - (size_t)hn)
            goto fail;
        hn += m;
    }
    if ((size_t)hn + 3 > head_cap)
        goto fail;
    memcpy(head + hn, "\r\n", 3);
    hn += 2;
    if (write_all(fd, head, (size_t)hn) != 0 ||
        (body_len > 0 && write_all(fd, body, body_len) != 0))
        goto fail;

    size_t cap = 16384, len = 0;
    buf = malloc(cap);
    if (buf == NULL)
        goto fail;
    long want = -1; /* total bytes once the header block is known */
    size_t head_end = 0;
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                goto fail;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        if (head_end == 0) {
            char *e = strstr(buf, "\r\n\r\n");
            if (e != NULL) {
                head_end = (size_t)(e - buf) + 4;
                long cl = content_length(buf, head_end);
                if (cl >= 0)
                    want = (long)head_end + cl;
            }
        }
        if (want >= 0 && len >= (size_t)want)
            break;
    }
    if (head_end == 0 || strncmp(buf, "HTTP/1.", 7) != 0)
        goto fail;
    int status = atoi(buf + 9);
    size_t blen = len - head_end;
    memmove(buf, buf + head_end, blen);
    buf[blen] = '\0';
    free(head);
    close(fd);
    out->status = status;
    out->body = buf;
    out->body_len = blen;
    return 0;
fail:
    free(head);
    free(buf);
    close(fd);
    return -1;
}

void iso_http_reply_free(iso_http_reply *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
}
