#include "environment.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "datadir.h"
#include "live.h"
#include "output.h"
#include "signing.h"
#include "signkeys.h"
#include "store.h"

static int print_env(const ctl_args *a, const char *id, const char *kid)
{
    json_t *o = json_pack("{s:s,s:s}", "environmentId", id, "signingKeyId", kid);
    return ctl_print_record(a, o);
}

/* Reads (and with `rotate` rotates) the environment of the store: its id
 * and the signing keys (the data directory's, or a PostgreSQL database's). */
static int offline(char id[ROSTER_UUID_TEXT_LEN + 1], char kid[ROSTER_JWT_KID_LEN + 1],
                   const ctl_args *a, bool rotate, roster_err_detail *d)
{
    store *s = NULL;
    store_rtxn *r = NULL;
    roster_signkeys *k = NULL;
    roster_uuid env;
    /* A PostgreSQL store keeps the keys in its database: rotating them
     * writes to it. */
    const char *loc = ctl_store_location(a);
    int err = ctl_datadir_open(&s, loc, !(rotate && store_is_postgres(loc)), d);
    if (err == ROSTER_E_OK && (err = store_read_begin(s, &r)) == ROSTER_E_OK &&
        (err = store_environment_id(r, &env)) != ROSTER_E_OK)
        roster_fail(d, err, "data",
                    "the store has no environment id yet: start roster-users on it once");
    if (err == ROSTER_E_OK)
        err = store_signkeys_open(&k, s, a->data, false, roster_now_ms() / 1000, d);
    if (err == ROSTER_E_OK && rotate)
        err = store_signkeys_rotate(k, s, roster_now_ms() / 1000, kid, NULL, d);
    else if (err == ROSTER_E_OK)
        roster_signkeys_kid(kid, k);
    if (err == ROSTER_E_OK)
        roster_uuid_format(id, &env);
    roster_signkeys_free(k);
    store_read_end(r);
    store_close(s);
    return err;
}

static int run(const ctl_args *a, bool rotate)
{
    if (ctl_args_get(a, "offline") != NULL) {
        roster_err_detail d = {{0}};
        char id[ROSTER_UUID_TEXT_LEN + 1], kid[ROSTER_JWT_KID_LEN + 1];
        int err = offline(id, kid, a, rotate, &d);
        if (err != ROSTER_E_OK) {
            ctl_report_error(a->json, a->cmd->words, err, d.message, NULL);
            return ctl_exit_code(err);
        }
        return print_env(a, id, kid);
    }
    ctl_live l = {0};
    ProtobufCMessage *reply = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    Roster__V1__GetEnvironmentRequest get = ROSTER__V1__GET_ENVIRONMENT_REQUEST__INIT;
    Roster__V1__RotateSigningKeyRequest rot = ROSTER__V1__ROTATE_SIGNING_KEY_REQUEST__INIT;
    if (ctl_live_exchange(&reply, &code, &l, a,
                          rotate ? RPC_ROTATE_SIGNING_KEY : RPC_GET_ENVIRONMENT,
                          rotate ? &rot.base : &get.base, &arena) == ROSTER_E_OK) {
        const Roster__V1__Environment *e = (const void *)reply;
        code = print_env(a, e->id ? e->id : "", e->signing_key_id ? e->signing_key_id : "");
    }
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}

int ctl_cmd_environment(const ctl_args *a)
{
    return run(a, false);
}

int ctl_cmd_environment_rotate(const ctl_args *a)
{
    return run(a, true);
}
