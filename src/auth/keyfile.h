/* Where a program that presents an API key gets it from: a key file, the
 * command line or the environment (rosterctl and the client library).
 *
 * A key file holds the key text on one line (a trailing newline is
 * allowed). Like ssh with a private key, a file that is not a regular file,
 * or that the group or others may read or write, is refused: the key is a
 * password, and a readable copy is a leaked one.
 *
 * Buffers that held key text are wiped (explicit_bzero) before they are
 * released; callers wipe theirs with roster_keyfile_wipe. This module needs
 * only libc, so the client library carries it without OpenSSL. */
#ifndef ROSTER_AUTH_KEYFILE_H
#define ROSTER_AUTH_KEYFILE_H

#include "error.h"

#include <stddef.h>

/* Longest key text accepted (a Roster key is ROSTER_APIKEY_TEXT_LEN, 81;
 * room is left for a format with a longer secret). */
#define ROSTER_KEYFILE_MAX 255

/* The environment variable a key may come from when none is given. */
#define ROSTER_KEY_ENV "ROSTER_KEY"

/* Reads the key in file `path` (borrowed for the call) into out
 * (caller-owned, ROSTER_KEYFILE_MAX + 1 bytes, NUL-terminated; wipe it
 * with roster_keyfile_wipe when done); trailing whitespace is dropped.
 * Errors, with d->field "key_file" and d->message naming the file:
 * ROSTER_E_NOT_FOUND (no such file), ROSTER_E_PERMISSION_DENIED (not a
 * regular file, group or others may access it, or it cannot be opened for
 * lack of permission), ROSTER_E_INVALID_ARGUMENT (empty, longer than
 * ROSTER_KEYFILE_MAX, or holding more than one word), ROSTER_E_IO.
 * out is written only on success. */
int roster_keyfile_read(char out[ROSTER_KEYFILE_MAX + 1], const char *path, roster_err_detail *d);

/* Checks key text given directly (command line, environment, an option
 * field): 1..ROSTER_KEYFILE_MAX printable characters, no whitespace. `what`
 * names the source in d->message ("--key", "ROSTER_KEY"); d->field is
 * `field`. Returns ROSTER_E_OK or ROSTER_E_INVALID_ARGUMENT. Both strings
 * borrowed for the call. The format itself is the service's to judge. */
int roster_keyfile_check_text(const char *text, const char *what, const char *field,
                              roster_err_detail *d);

/* Wipes n bytes at p so the compiler cannot drop it. Accepts NULL. */
void roster_keyfile_wipe(void *p, size_t n);

#endif
