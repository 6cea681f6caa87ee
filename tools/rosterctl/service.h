/* rosterctl health and stats (live): the service's own report. Each
 * function runs one command and returns its exit code. */
#ifndef ROSTERCTL_SERVICE_H
#define ROSTERCTL_SERVICE_H

#include "cli.h"

/* Exit 0 when the service answers SERVING, 3 otherwise. */
int ctl_cmd_health(const ctl_args *a);

/* Requests by method and status, latency percentiles, uptime, store size. */
int ctl_cmd_service_stats(const ctl_args *a);

#endif
