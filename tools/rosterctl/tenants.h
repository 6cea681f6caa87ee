/* rosterctl tenants get|list|create|update|set-default|delete, over RPC. Each
 * function runs one command and returns its exit code. */
#ifndef ROSTERCTL_TENANTS_H
#define ROSTERCTL_TENANTS_H

#include "cli.h"

int ctl_cmd_tenants_get(const ctl_args *a);
int ctl_cmd_tenants_list(const ctl_args *a);
int ctl_cmd_tenants_create(const ctl_args *a);
int ctl_cmd_tenants_update(const ctl_args *a);
int ctl_cmd_tenants_set_default(const ctl_args *a);
int ctl_cmd_tenants_delete(const ctl_args *a);

#endif
