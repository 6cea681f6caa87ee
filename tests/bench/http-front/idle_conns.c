/* Opens N keep-alive connections to 127.0.0.1:PORT, sends one POST
 * /graphql on each and reads its response, then holds them all idle.
 *
 *   idle_conns PORT N HOLD_S [PAD]
 *
 * PAD (default 0): bytes of an extra X-Pad header on each request, to
 * stand for a large credential (a 2 KB bearer token: PAD 2100).
 *
 * Prints "open K failed F" (K connections that got a response within 10 s,
 * F that did not) once all are tried, then sleeps HOLD_S seconds and
 * exits, closing them. Used by run.sh
 * to measure a server's memory per idle connection. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char request_head[] = "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Content-Type: application/json\r\nContent-Length: 13\r\n";
static const char request_tail[] = "\r\n{\"query\":\"x\"}";

/* Reads until the end of the headers and Content-Length bytes of body. */
static int read_response(int fd)
{
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            if (have == sizeof buf - 1)
                return -1;
            continue;
        }
        char *cl = strcasestr(buf, "content-length:");
        size_t body = cl != NULL && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
        if (have >= (size_t)(end + 4 - buf) + body)
            return 0;
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: idle_conns PORT N HOLD_S [PAD]\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), hold = atoi(argv[3]);
    size_t pad = argc == 5 ? (size_t)atoi(argv[4]) : 0;
    size_t req_len = sizeof request_head - 1 + (pad ? pad + 9 : 0) + sizeof request_tail - 1;
    char *request = malloc(req_len + 1);
    if (request == NULL)
        return 1;
    size_t off = 0;
    memcpy(request, request_head, sizeof request_head - 1);
    off += sizeof request_head - 1;
    if (pad) {
        memcpy(request + off, "X-Pad: ", 7);
        memset(request + off + 7, 'p', pad);
        memcpy(request + off + 7 + pad, "\r\n", 2);
        off += pad + 9;
    }
    memcpy(request + off, request_tail, sizeof request_tail - 1);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0, failed = 0;
    struct timeval limit = {10, 0};
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("idle_conns: socket");
            break;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
            write(fd, request, req_len) != (ssize_t)req_len || read_response(fd) != 0) {
            close(fd);
            failed++;
            continue;
        }
        ok++; /* the descriptor stays open until exit */
    }
    printf("open %d failed %d\n", ok, failed);
    fflush(stdout);
    sleep((unsigned)hold);
    return 0;
}
