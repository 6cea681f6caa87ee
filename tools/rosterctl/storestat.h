/* rosterctl stats --offline: records per table, entries per index, page
 * counts, map size and use and schema version of a data directory. */
#ifndef ROSTERCTL_STORESTAT_H
#define ROSTERCTL_STORESTAT_H

#include "cli.h"

/* Runs the command; returns the exit code. */
int ctl_cmd_store_stats(const ctl_args *a);

#endif
