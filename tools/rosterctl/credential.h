/* The API key rosterctl presents on live calls: from --key, else
 * --key-file, else the ROSTER_KEY environment variable; none means a
 * keyless caller (accepted only over ipc:// by a service started with
 * --allow-keyless-ipc). The text is held in a ctl_credential that is wiped
 * when the command ends, and a --key given on the command line is wiped
 * from argv once copied, so it lingers in neither place. */
#ifndef ROSTERCTL_CREDENTIAL_H
#define ROSTERCTL_CREDENTIAL_H

#include "cli.h"
#include "keyfile.h"

#include <stdbool.h>

typedef struct ctl_credential {
    char text[ROSTER_KEYFILE_MAX + 1]; /* the key text; "" when none */
    bool set;                          /* a key was given */
    const char *source;                /* static: "--key", "--key-file", "ROSTER_KEY" or "" */
} ctl_credential;

/* Loads the key a asks for into *out (caller-owned; release with
 * ctl_credential_wipe) and wipes a->key's bytes in argv (argv is the
 * caller's, and a->key points into it). Errors, with d->message saying
 * what is wrong: those of roster_keyfile_read for --key-file (a file
 * others may read is ROSTER_E_PERMISSION_DENIED), ROSTER_E_INVALID_ARGUMENT
 * for malformed --key or ROSTER_KEY text. *out is written only on success. */
int ctl_credential_load(ctl_credential *out, const ctl_args *a, roster_err_detail *d);

/* Wipes the key text. Accepts NULL. */
void ctl_credential_wipe(ctl_credential *c);

#endif
