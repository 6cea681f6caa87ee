/* rosterctl dump: every tenant, then every user, as JSON Lines on stdout,
 * from a read-only snapshot of the data directory. */
#ifndef ROSTERCTL_DUMP_H
#define ROSTERCTL_DUMP_H

#include "cli.h"
#include "progress.h"
#include "store.h"

#include <stdio.h>

/* Writes the dump of the snapshot r to f, stepping `progress` (borrowed,
 * may be NULL) by records written. Returns ROSTER_E_OK, ROSTER_E_CORRUPT
 * (a record that does not decode), ROSTER_E_IO (writing failed) or a store
 * error. Adds the counts written to *tenants and *users. */
int ctl_dump_write(FILE *f, store_rtxn *r, ctl_progress *progress, uint64_t *tenants,
                   uint64_t *users);

/* Runs the command; returns the exit code. */
int ctl_cmd_dump(const ctl_args *a);

#endif
