/* A feed subscriber for test_client_changes and the feed benchmark: follows
 * the change feed with roster_client_watch and appends each event to a
 * file as a record (4-byte little-endian length, then the roster.v1.Change
 * encoding) written with one write(2), so a SIGKILL leaves only whole
 * records. Started again on the same file, it resumes after the last
 * record's seq: what it writes over all its lives is the feed, each event
 * once, when the watch keeps its promise of no gap and no duplicate.
 *
 * Usage: roster-feed-subscriber URL FILE [COUNT]
 * The key comes from ROSTER_KEY (or none: keyless ipc). With COUNT it
 * exits 0 after that many events in this life; a gap or refusal exits 1. */
#include "roster_client.h"

#include <fcntl.h>
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sub {
    int fd;
    uint64_t left; /* events still wanted; 0: no end */
    uint8_t buf[65536];
} sub;

static roster_v1_Change scratch;

/* The seq of the last whole record in the file, 0 for none. A torn tail
 * (never written by this program, but cheap to allow) is cut off. */
static uint64_t last_seq(int fd)
{
    uint64_t seq = 0;
    off_t at = 0, good = 0;
    uint8_t head[4], body[65536];
    for (;;) {
        if (pread(fd, head, 4, at) != 4)
            break;
        uint32_t n = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                     (uint32_t)head[3] << 24;
        if (n > sizeof body || pread(fd, body, n, at + 4) != (ssize_t)n)
            break;
        pb_istream_t is = pb_istream_from_buffer(body, n);
        if (!pb_decode(&is, roster_v1_Change_fields, &scratch))
            break;
        seq = scratch.seq;
        at += 4 + (off_t)n;
        good = at;
    }
    if (ftruncate(fd, good) != 0)
        return seq;
    return seq;
}

static int on_change(void *arg, const roster_v1_Change *ch)
{
    sub *s = arg;
    pb_ostream_t os = pb_ostream_from_buffer(s->buf + 4, sizeof s->buf - 4);
    if (!pb_encode(&os, roster_v1_Change_fields, ch))
        return 1;
    uint32_t n = (uint32_t)os.bytes_written;
    s->buf[0] = (uint8_t)n;
    s->buf[1] = (uint8_t)(n >> 8);
    s->buf[2] = (uint8_t)(n >> 16);
    s->buf[3] = (uint8_t)(n >> 24);
    if (write(s->fd, s->buf, 4 + n) != (ssize_t)(4 + n))
        return 1;
    return s->left != 0 && --s->left == 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s URL FILE [COUNT]\n", argv[0]);
        return 2;
    }
    static sub s;
    s.fd = open(argv[2], O_RDWR | O_CREAT | O_APPEND, 0600);
    if (s.fd < 0) {
        perror(argv[2]);
        return 2;
    }
    s.left = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
    uint64_t after = last_seq(s.fd);
    roster_client *c = NULL;
    roster_err_detail d = {{0}};
    roster_client_options co = {.lazy_connect = true};
    if (roster_client_open(&c, argv[1], &co, &d) != ROSTER_E_OK) {
        fprintf(stderr, "open: %s\n", d.message);
        return 1;
    }
    roster_watch_options wo = {.poll_ms = 200, .retry_ms = 50};
    roster_status st;
    uint64_t last = 0;
    int err = roster_client_watch(&last, &st, c, NULL, &wo, after, on_change, &s);
    roster_client_close(c);
    close(s.fd);
    if (err == ROSTER_E_CANCELLED)
        return 0;
    fprintf(stderr, "watch ended after %llu: %s\n", (unsigned long long)last, st.message);
    return 1;
}
