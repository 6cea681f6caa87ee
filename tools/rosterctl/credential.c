#include "credential.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_credential_load(ctl_credential *out, const ctl_args *a, roster_err_detail *d)
{
    ctl_credential c;
    int err = ROSTER_E_OK;
    memset(&c, 0, sizeof c);
    c.source = "";
    if (a->key != NULL) {
        err = roster_keyfile_check_text(a->key, "--key", "key", d);
        if (err == ROSTER_E_OK) {
            snprintf(c.text, sizeof c.text, "%s", a->key);
            c.source = "--key";
        }
        /* a->key points into argv: wipe it so the key stops showing in
         * /proc/PID/cmdline (ps) from here on. */
        roster_keyfile_wipe((char *)a->key, strlen(a->key));
    } else if (a->key_file != NULL) {
        err = roster_keyfile_read(c.text, a->key_file, d);
        c.source = "--key-file";
    } else {
        const char *env = getenv(ROSTER_KEY_ENV);
        if (env != NULL && env[0] != '\0') {
            err = roster_keyfile_check_text(env, ROSTER_KEY_ENV, "key", d);
            if (err == ROSTER_E_OK)
                snprintf(c.text, sizeof c.text, "%s", env);
            c.source = ROSTER_KEY_ENV;
        }
    }
    if (err != ROSTER_E_OK)
        goto fail;
    c.set = c.text[0] != '\0';
    *out = c;
fail:
    roster_keyfile_wipe(c.text, sizeof c.text);
    return err;
}

void ctl_credential_wipe(ctl_credential *c)
{
    if (c == NULL)
        return;
    roster_keyfile_wipe(c->text, sizeof c->text);
    c->set = false;
}
