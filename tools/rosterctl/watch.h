/* rosterctl watch: follows the change feed live (ListChanges, woken by
 * the service's announcements) and prints each event as it comes. */
#ifndef ROSTERCTL_WATCH_H
#define ROSTERCTL_WATCH_H

#include "cli.h"

/* Runs `watch`; returns the exit code. */
int ctl_cmd_watch(const ctl_args *a);

#endif
