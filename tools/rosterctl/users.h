/* rosterctl users get|list|create|update|deactivate|delete, over RPC. Each
 * function runs one command and returns its exit code. */
#ifndef ROSTERCTL_USERS_H
#define ROSTERCTL_USERS_H

#include "cli.h"

int ctl_cmd_users_get(const ctl_args *a);
int ctl_cmd_users_list(const ctl_args *a);
int ctl_cmd_users_create(const ctl_args *a);
int ctl_cmd_users_update(const ctl_args *a);
int ctl_cmd_users_deactivate(const ctl_args *a);
int ctl_cmd_users_delete(const ctl_args *a);

#endif
