/* rosterctl compact [DATADIR]: the offline rewrite of a data directory's
 * data file (store_compact), refused while a process has the store open. */
#ifndef ROSTERCTL_COMPACT_H
#define ROSTERCTL_COMPACT_H

#include "cli.h"

int ctl_cmd_compact(const ctl_args *a);

/* rosterctl upgrade [DATADIR]: the same rewrite for a store of an older
 * schema version, in this build's layout (store_upgrade). */
int ctl_cmd_upgrade(const ctl_args *a);

#endif
