/* rosterctl load: JSON Lines (the dump format) from a stream into a data
 * directory, all in one write transaction. */
#ifndef ROSTERCTL_LOAD_H
#define ROSTERCTL_LOAD_H

#include "cli.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ctl_load_result {
    uint64_t tenants;   /* tenant lines accepted */
    uint64_t users;     /* user lines accepted */
    uint64_t bad_lines; /* lines rejected (each reported through the callback) */
} ctl_load_result;

/* Called once per rejected line; field may be "" and message is one line.
 * All valid during the call only. */
typedef void (*ctl_load_error_fn)(void *ctx, uint64_t line, const char *field, const char *message);

/* Reads every line of `in` and applies it in write transaction w:
 * TenantModel lines through store_tenant_restore (store_tenant_create when
 * id is absent), UserModel lines through store_user_restore
 * (store_user_create when id is absent). Every line is checked even after
 * a bad one. The caller commits w only when result->bad_lines is 0.
 * Returns ROSTER_E_OK when the input was read to the end (bad lines
 * included), ROSTER_E_IO when reading failed, ROSTER_E_NOMEM. */
int ctl_load_apply(ctl_load_result *result, FILE *in, store_wtxn *w, ctl_load_error_fn fn,
                   void *ctx);

/* Runs the command; returns the exit code. */
int ctl_cmd_load(const ctl_args *a);

#endif
