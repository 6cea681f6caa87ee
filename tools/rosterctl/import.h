/* rosterctl users import: user records from a file streamed to the
 * running service through BulkWrite. */
#ifndef ROSTERCTL_IMPORT_H
#define ROSTERCTL_IMPORT_H

#include "cli.h"

/* Runs the command; returns the exit code (0: every record applied;
 * CTL_EXIT_INVALID: some were refused, each reported by position). */
int ctl_cmd_users_import(const ctl_args *a);

#endif
