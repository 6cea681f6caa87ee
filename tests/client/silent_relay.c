#include "silent_relay.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNS 64

/* One accepted connection: silent (held open, never read) or relayed. */
typedef struct conn {
    silent_relay *r;
    int client;
    int upstream; /* -1 when silent */
    pthread_t thread;
    bool has_thread;
} conn;

struct silent_relay {
    char path[108];
    char upstream[108];
    int listen_fd;
    int silent;
    atomic_bool stopping;
    atomic_int accepted;
    pthread_t thread;
    pthread_mutex_t mu;
    conn conns[MAX_CONNS];
    int n_conns;
};

static int unix_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(a->sun_path, path);
    return 0;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Copies bytes both ways until either side closes or the relay stops. */
static void *relay_main(void *arg)
{
    conn *c = arg;
    uint8_t buf[16384];
    while (!atomic_load(&c->r->stopping)) {
        struct pollfd p[2] = {{c->client, POLLIN, 0}, {c->upstream, POLLIN, 0}};
        int n = poll(p, 2, 100);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        bool done = false;
        for (int i = 0; i < 2 && !done; i++) {
            if (p[i].revents == 0)
                continue;
            ssize_t got = read(p[i].fd, buf, sizeof buf);
            done = got <= 0 || !write_all(p[1 - i].fd, buf, (size_t)got);
        }
        if (done)
            break;
    }
    shutdown(c->client, SHUT_RDWR);
    shutdown(c->upstream, SHUT_RDWR);
    return NULL;
}

/* The handshake of a rep0 socket (protocol 0x31), so that a req0 client
 * takes the connection as established; what the client sends after it is
 * left unread. */
static void answer_silently(int fd)
{
    static const uint8_t header[8] = {0, 'S', 'P', 0, 0x00, 0x31, 0, 0};
    write_all(fd, header, sizeof header);
}

static void *accept_main(void *arg)
{
    silent_relay *r = arg;
    while (!atomic_load(&r->stopping)) {
        struct pollfd p = {r->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept(r->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int n = atomic_fetch_add(&r->accepted, 1);
        pthread_mutex_lock(&r->mu);
        if (r->n_conns == MAX_CONNS) {
            pthread_mutex_unlock(&r->mu);
            close(fd);
            continue;
        }
        conn *c = &r->conns[r->n_conns++];
        c->r = r;
        c->client = fd;
        c->upstream = -1;
        c->has_thread = false;
        if (n < r->silent) {
            answer_silently(fd);
        } else {
            struct sockaddr_un a;
            int up = socket(AF_UNIX, SOCK_STREAM, 0);
            if (up >= 0 && unix_addr(&a, r->upstream) == 0 &&
                connect(up, (struct sockaddr *)&a, sizeof a) == 0) {
                c->upstream = up;
                c->has_thread = pthread_create(&c->thread, NULL, relay_main, c) == 0;
            } else if (up >= 0) {
                close(up);
            }
            if (!c->has_thread)
                shutdown(fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&r->mu);
    }
    return NULL;
}

int silent_relay_start(silent_relay **out, const char *path, const char *upstream, int silent)
{
    silent_relay *r = calloc(1, sizeof *r);
    struct sockaddr_un a;
    if (r == NULL)
        return -1;
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->upstream, sizeof r->upstream, "%s", upstream);
    r->silent = silent;
    pthread_mutex_init(&r->mu, NULL);
    unlink(path);
    if ((r->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || unix_addr(&a, path) != 0 ||
        bind(r->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->listen_fd, 16) != 0 ||
        pthread_create(&r->thread, NULL, accept_main, r) != 0) {
        int e = errno;
        if (r->listen_fd >= 0)
            close(r->listen_fd);
        pthread_mutex_destroy(&r->mu);
        free(r);
        errno = e;
        return -1;
    }
    *out = r;
    return 0;
}

int silent_relay_accepted(silent_relay *r)
{
    return atomic_load(&r->accepted);
}

void silent_relay_stop(silent_relay *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stopping, true);
    pthread_join(r->thread, NULL);
    for (int i = 0; i < r->n_conns; i++) {
        conn *c = &r->conns[i];
        if (c->has_thread)
            pthread_join(c->thread, NULL);
        close(c->client);
        if (c->upstream >= 0)
            close(c->upstream);
    }
    close(r->listen_fd);
    unlink(r->path);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
