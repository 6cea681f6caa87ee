/* rosterctl load: JSON Lines (the dump format) from a stream into a data
 * directory, in one write transaction or in batches of lines. */
#ifndef ROSTERCTL_LOAD_H
#define ROSTERCTL_LOAD_H

#include "cli.h"
#include "progress.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ctl_load_options {
    uint64_t batch; /* non-blank lines per transaction; 0 = one for the whole input */
    bool dry_run;   /* check everything, commit nothing */
    /* Stepped before each line by the bytes of the lines before it and
     * the records among them (accepted and rejected); borrowed, may be
     * NULL. */
    ctl_progress *progress;
} ctl_load_options;

typedef struct ctl_load_result {
    uint64_t lines;             /* lines read */
    uint64_t tenants, users;    /* lines accepted */
    uint64_t bad_lines;         /* lines rejected (each reported through the callback) */
    uint64_t committed_lines;   /* everything up to this line is committed (0: nothing) */
    uint64_t committed_tenants; /* records in the committed batches */
    uint64_t committed_users;
} ctl_load_result;

/* Called once per rejected line; field may be "" and message is one line.
 * All valid during the call only. */
typedef void (*ctl_load_error_fn)(void *ctx, uint64_t line, const char *field, const char *message);

/* Reads every line of `in` into store s: TenantModel lines through
 * store_tenant_restore (store_tenant_create when id is absent), UserModel
 * lines through store_user_restore (store_user_create when id is absent).
 * Lines are applied in write transactions of o->batch lines (one for the
 * whole input when 0); a batch is committed only when all its lines are
 * good, and after a bad batch nothing more is committed, but every later
 * line is still checked (against everything before it) and reported.
 * Returns ROSTER_E_OK when the input was read to the end (bad lines
 * included; see result->bad_lines). A failure that is not the line's fault
 * (reading, out of memory, map full, commit) stops the load: it is
 * returned with `fatal` saying where, and the batch in progress is not
 * written. */
int ctl_load_run(ctl_load_result *result, FILE *in, store *s, const ctl_load_options *o,
                 ctl_load_error_fn fn, void *ctx, roster_err_detail *fatal);

/* Runs the command; returns the exit code. */
int ctl_cmd_load(const ctl_args *a);

#endif
