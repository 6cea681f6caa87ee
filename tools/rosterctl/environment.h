/* rosterctl environment [rotate-signing-key]: the deployment's environment
 * id (what the ROQ SDK's `environmentId` option must be) and the id of the
 * key signing access tokens; rotating that key. Live over RPC (reading
 * needs any valid key, rotating an admin key) or, with --offline, on the
 * data directory: a key rotated offline is used from the service's next
 * start. Each function runs one command and returns its exit code. */
#ifndef ROSTERCTL_ENVIRONMENT_H
#define ROSTERCTL_ENVIRONMENT_H

#include "cli.h"

int ctl_cmd_environment(const ctl_args *a);
int ctl_cmd_environment_rotate(const ctl_args *a);

#endif
