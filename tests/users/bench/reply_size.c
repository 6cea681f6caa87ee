/* Benchmark helper (not a test): prints the size of one ListUsers reply
 * body from a running roster-users, with and without a field mask.
 * Usage: roster-users-reply-size URL KEYFILE LIMIT [MASK]
 * MASK is the request's field_mask as a number (2 = id only); without it
 * the request carries none (every field). Prints "reply_bytes=N users=M". */
#include "rpc_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
    int code;
    size_t bytes, users;
} seen;

static void done_cb(void *arg, const rpc_result *r)
{
    seen *s = arg;
    s->code = r->code;
    s->bytes = r->body_len;
    if (r->code == 0)
        s->users = ((const Roster__V1__ListUsersResponse *)r->reply)->n_users;
    else
        fprintf(stderr, "ListUsers: %d %s\n", r->code, r->message);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: roster-users-reply-size URL KEYFILE LIMIT [MASK]\n");
        return 2;
    }
    char key[256] = "";
    FILE *f = fopen(argv[2], "r");
    if (f == NULL || fgets(key, sizeof key, f) == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    fclose(f);
    key[strcspn(key, "\r\n")] = 0;
    rpc_client_options o = {.credential = key};
    rpc_client *c = NULL;
    if (rpc_client_open(&c, argv[1], &o, NULL) != ROSTER_E_OK) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    Roster__V1__ListUsersRequest req = ROSTER__V1__LIST_USERS_REQUEST__INIT;
    req.has_limit = 1;
    req.limit = atoi(argv[3]);
    if (argc > 4) {
        req.has_field_mask = 1;
        req.field_mask = strtoull(argv[4], NULL, 0);
    }
    seen s = {0};
    int err = rpc_client_call_sync(c, RPC_LIST_USERS, &req.base, 10000, NULL, done_cb, &s);
    rpc_client_close(c);
    if (err != ROSTER_E_OK)
        return 1;
    printf("reply_bytes=%zu users=%zu\n", s.bytes, s.users);
    return 0;
}
