/* rosterctl migrate --from DIR --to URL: copies the LMDB store of a data
 * directory (tenants, users, API keys) into an empty PostgreSQL store in
 * write groups, marked as a load until it is done (a copy stopped halfway
 * is refused by roster-users), then checks the copy: the same tenants and
 * keys, every user with the same bytes, and verify finding nothing. The
 * change feed is not copied: the PostgreSQL store's feed starts with the
 * copy's own events. */
#ifndef ROSTERCTL_MIGRATE_H
#define ROSTERCTL_MIGRATE_H

#include "cli.h"

/* Runs the command; returns the process exit code. */
int ctl_cmd_migrate(const ctl_args *a);

#endif
