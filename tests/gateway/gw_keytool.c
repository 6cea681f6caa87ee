/* Test helper for the gateway's Node suites: creates and revokes API keys
 * over RPC with an admin key, so the suites can make keys of every role.
 *
 *   gw_keytool URL ADMIN_KEY_FILE create NAME ROLE [TENANT_ID [EXPIRES_IN_MS]]
 *       prints {"id":"...","secret":"rstr_..."}
 *   gw_keytool URL ADMIN_KEY_FILE revoke ID
 *       prints {"id":"...","revoked":true}
 *
 * ROLE is admin, writer or reader; TENANT_ID "-" means none. Exit status:
 * 0 on success, 1 with the status on stderr otherwise, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "rpc_client.h"

typedef struct out {
    char id[64];
    char secret[128];
    char message[256];
    int code;
} out;

static void on_reply(void *arg, const rpc_result *res)
{
    out *o = arg;
    o->code = res->code;
    snprintf(o->message, sizeof o->message, "%s", res->message);
    if (res->code != ROSTER_STATUS_OK || res->reply == NULL)
        return;
    if (res->method->id == RPC_CREATE_KEY) {
        const Roster__V1__KeySecret *k = (const Roster__V1__KeySecret *)res->reply;
        snprintf(o->id, sizeof o->id, "%s", k->key && k->key->id ? k->key->id : "");
        snprintf(o->secret, sizeof o->secret, "%s", k->secret ? k->secret : "");
    } else {
        const Roster__V1__ApiKey *k = (const Roster__V1__ApiKey *)res->reply;
        snprintf(o->id, sizeof o->id, "%s", k->id ? k->id : "");
    }
}

static int read_key(char *buf, size_t cap, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return ROSTER_E_IO;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    return n ? ROSTER_E_OK : ROSTER_E_IO;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: gw_keytool URL ADMIN_KEY_FILE create NAME ROLE [TENANT [MS]] | "
                        "revoke ID\n");
        return 2;
    }
    char admin[256];
    if (read_key(admin, sizeof admin, argv[2]) != ROSTER_E_OK) {
        fprintf(stderr, "gw_keytool: cannot read %s\n", argv[2]);
        return 2;
    }
    rpc_client *c = NULL;
    roster_err_detail d = {{0}};
    if (rpc_client_open(&c, argv[1], NULL, &d) != ROSTER_E_OK) {
        fprintf(stderr, "gw_keytool: %s\n", d.message);
        return 2;
    }
    out o = {.code = -1};
    int rc = 2;
    if (strcmp(argv[3], "create") == 0 && argc >= 6) {
        Roster__V1__CreateKeyRequest req = ROSTER__V1__CREATE_KEY_REQUEST__INIT;
        req.name = argv[4];
        req.has_role = 1;
        if (strcmp(argv[5], "admin") == 0)
            req.role = ROSTER__V1__ROLE__ROLE_ADMIN;
        else if (strcmp(argv[5], "writer") == 0)
            req.role = ROSTER__V1__ROLE__ROLE_WRITER;
        else if (strcmp(argv[5], "reader") == 0)
            req.role = ROSTER__V1__ROLE__ROLE_READER;
        else
            goto done;
        if (argc >= 7 && strcmp(argv[6], "-") != 0)
            req.tenant_id = argv[6];
        if (argc >= 8) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            req.has_expires_at = 1;
            req.expires_at =
                (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + strtoll(argv[7], NULL, 10);
        }
        rpc_client_call_sync(c, RPC_CREATE_KEY, &req.base, 5000, admin, on_reply, &o);
        if (o.code == ROSTER_STATUS_OK)
            printf("{\"id\":\"%s\",\"secret\":\"%s\"}\n", o.id, o.secret);
    } else if (strcmp(argv[3], "revoke") == 0) {
        Roster__V1__RevokeKeyRequest req = ROSTER__V1__REVOKE_KEY_REQUEST__INIT;
        req.id = argv[4];
        rpc_client_call_sync(c, RPC_REVOKE_KEY, &req.base, 5000, admin, on_reply, &o);
        if (o.code == ROSTER_STATUS_OK)
            printf("{\"id\":\"%s\",\"revoked\":true}\n", o.id);
    } else {
        goto done;
    }
    rc = o.code == ROSTER_STATUS_OK ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "gw_keytool: %s: %s\n", roster_status_name(o.code), o.message);
done:
    if (rc == 2)
        fprintf(stderr, "gw_keytool: bad arguments\n");
    memset(admin, 0, sizeof admin);
    memset(o.secret, 0, sizeof o.secret);
    rpc_client_close(c);
    return rc;
}
