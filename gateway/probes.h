/* The operational endpoints: GET /healthz (the process answers), GET
 * /readyz (roster-users answers a Health RPC within a second) and GET
 * /metrics (Prometheus text; with an admin API key only, when `auth` is
 * set). /healthz and /readyz never need a key. */
#ifndef ROSTER_GW_PROBES_H
#define ROSTER_GW_PROBES_H

#include <stdatomic.h>

#include "auth.h"
#include "graphql.h"
#include "http_server.h"
#include "upstream.h"

typedef struct gw_probes {
    gw_upstream *up;  /* borrowed */
    gql_cache *cache; /* borrowed; NULL when caching is off */
    atomic_int ready; /* last readiness result */
    gw_auth *auth;    /* borrowed; set: /metrics needs an admin key */
} gw_probes;

/* gw_route_fn for /healthz, /readyz and /metrics; ud is a gw_probes that
 * outlives the HTTP server. */
void gw_probe_healthz(gw_req *r, void *ud);
void gw_probe_readyz(gw_req *r, void *ud);
void gw_probe_metrics(gw_req *r, void *ud);

#endif
