/* A microservice's view of Roster: open a client, create a user, fetch it
 * back by id. Usage: ROSTER_KEY=rstr_... roster-client-example [URL]
 * (default ipc://./data/users.ipc). The API key comes from the ROSTER_KEY
 * environment variable (scripts/run.sh mints an admin key into
 * ./data/admin.key). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "roster_client.h"

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "ipc://./data/users.ipc";
    roster_client *client = NULL;
    roster_err_detail detail = {0};
    roster_status st;
    static roster_v1_User created, fetched; /* large fixed-size records */
    int err;

    /* The key every call presents. The library would read ROSTER_KEY by
     * itself when api_key and key_file are NULL; a service would rather
     * name its key file: .key_file = "/etc/myservice/roster.key" (mode
     * 0600, or it is refused). */
    roster_client_options copts = {.api_key = getenv("ROSTER_KEY")};
    if (copts.api_key == NULL)
        fprintf(stderr, "ROSTER_KEY is not set: calling without an API key\n");

    if ((err = roster_client_open(&client, url, &copts, &detail)) != ROSTER_E_OK) {
        fprintf(stderr, "open %s: %s (%s)\n", url, roster_strerror(err), detail.message);
        return 1;
    }

    /* Request strings are borrowed, not copied: they only need to live
     * until the call returns. */
    char reference[32], email[64];
    snprintf(reference, sizeof reference, "crm-%lld", (long long)time(NULL));
    snprintf(email, sizeof email, "ada+%lld@example.com", (long long)time(NULL));
    roster_v1_CreateUserRequest req = roster_v1_CreateUserRequest_init_zero;
    roster_pb_str(&req.reference, reference);
    roster_pb_str(&req.email, email);
    roster_pb_str(&req.first_name, "Ada");
    roster_pb_str(&req.last_name, "Lovelace");
    roster_call_options opts = {.timeout_ms = 2000, .request_id = "example-1"};

    err = roster_client_create_user(&created, &st, client, &opts, &req);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "create: %s: %s\n", roster_errname(err), st.message);
        if (err == ROSTER_E_UNAUTHENTICATED)
            fprintf(stderr, "  set ROSTER_KEY to an API key: export ROSTER_KEY=$(cat "
                            "./data/admin.key)\n");
        for (size_t i = 0; i < st.violation_count; i++)
            fprintf(stderr, "  %s: %s\n", st.violations[i].field, st.violations[i].message);
        roster_client_close(client);
        return 1;
    }
    printf("created %s\n", created.id);

    err = roster_client_get_user(&fetched, &st, client, NULL, created.id);
    if (err != ROSTER_E_OK) {
        fprintf(stderr, "get: %s: %s\n", roster_errname(err), st.message);
        roster_client_close(client);
        return 1;
    }
    printf("fetched %s <%s> %s %s\n", fetched.id, fetched.email, fetched.first_name,
           fetched.last_name);
    roster_client_close(client);
    return 0;
}
