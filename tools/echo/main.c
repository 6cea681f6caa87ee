/* roster-echo: bare nng rep0 echo, the reference for tools/rpcload.
 *   roster-echo --listen URL [--reply-bytes N | --reply-file FILE] [--contexts N]
 * Runs until SIGINT/SIGTERM, then prints the round trips served. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "echo.h"
#include "error.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: roster-echo --listen URL [--reply-bytes N] [--contexts N]\n"
               "  --listen URL       ipc://PATH or tcp://HOST:PORT to answer on\n"
               "  --reply-bytes N    size of every reply; 0 (default) echoes the request\n"
               "  --reply-file FILE  reply with the bytes of FILE (a recorded RpcReply)\n"
               "  --contexts N       requests served at once (default 64)\n");
}

static int parse_num(unsigned long *out, const char *name, const char *s)
{
    char *end = NULL;
    unsigned long v = strtoul(s != NULL ? s : "", &end, 10);
    if (s == NULL || *s == '\0' || *end != '\0') {
        fprintf(stderr, "roster-echo: %s needs a number, got \"%s\"\n", name, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

static int load_reply(roster_echo *e, const char *path)
{
    static unsigned char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "roster-echo: cannot open --reply-file %s\n", path);
        return ROSTER_E_IO;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    int bad = ferror(f) || !feof(f) || n == 0;
    fclose(f);
    if (bad) {
        fprintf(stderr, "roster-echo: --reply-file %s must hold 1 byte to 1 MiB\n", path);
        return ROSTER_E_INVALID_ARGUMENT;
    }
    return roster_echo_set_reply(e, buf, n);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *reply_file = NULL;
    unsigned long reply = 0, contexts = 64;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--listen") == 0 && v != NULL) {
            url = v;
            i++;
        } else if (strcmp(a, "--reply-bytes") == 0) {
            if (parse_num(&reply, a, v) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--reply-file") == 0 && v != NULL) {
            reply_file = v;
            i++;
        } else if (strcmp(a, "--contexts") == 0) {
            if (parse_num(&contexts, a, v) != 0 || contexts == 0 || contexts > 4096)
                return 2;
            i++;
        } else {
            fprintf(stderr, "roster-echo: unknown or incomplete option \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (url == NULL) {
        usage(stderr);
        return 2;
    }
    roster_echo *e = NULL;
    int err = roster_echo_start(&e, url, (unsigned)contexts, reply);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "roster-echo: cannot listen on %s: %s\n", url, roster_strerror(err));
        return 1;
    }
    if (reply_file != NULL && (err = load_reply(e, reply_file)) != ROSTER_E_OK) {
        roster_echo_free(e);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop)
        usleep(50000);
    fprintf(stderr, "roster-echo: served %llu round trips\n", roster_echo_served(e));
    roster_echo_free(e);
    return 0;
}
