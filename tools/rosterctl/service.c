#include "service.h"

#include "live.h"
#include "output.h"

#include <stdlib.h>
#include <string.h>

int ctl_cmd_health(const ctl_args *a)
{
    ctl_live l;
    Roster__V1__HealthRequest req = ROSTER__V1__HEALTH_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    int err = ctl_live_exchange(&reply, &code, &l, a, RPC_HEALTH, &req.base, &arena);
    if (err != ROSTER_E_OK)
        goto fail;
    const Roster__V1__HealthResponse *h = (const Roster__V1__HealthResponse *)reply;
    const char *status = h->status ? h->status : "UNKNOWN";
    bool serving = strcmp(status, "SERVING") == 0;
    if (a->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "status", status, "version",
                              h->version ? h->version : "", "url", l.url, "uptimeMs",
                              (json_int_t)h->uptime_ms);
        ctl_print_json(stdout, o);
        json_decref(o);
    } else {
        printf("%s  %s  version %s  up %.3f s\n", status, l.url, h->version ? h->version : "-",
               (double)h->uptime_ms / 1000.0);
    }
    code = serving ? CTL_EXIT_OK : CTL_EXIT_UNAVAILABLE;
fail:
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}

static json_t *stats_json(const Roster__V1__StatsResponse *s)
{
    json_t *methods = json_array();
    for (size_t i = 0; i < s->n_methods; i++) {
        const Roster__V1__MethodStats *m = s->methods[i];
        json_t *statuses = json_object();
        for (size_t k = 0; k < m->n_statuses; k++)
            json_object_set_new(statuses, roster_status_name(m->statuses[k]->code),
                                json_integer((json_int_t)m->statuses[k]->count));
        json_array_append_new(methods,
                              json_pack("{s:s, s:I, s:o, s:I, s:I, s:I, s:I}", "method",
                                        m->method ? m->method : "", "count", (json_int_t)m->count,
                                        "statuses", statuses, "p50Us", (json_int_t)m->p50_us,
                                        "p90Us", (json_int_t)m->p90_us, "p99Us",
                                        (json_int_t)m->p99_us, "maxUs", (json_int_t)m->max_us));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "uptimeMs",
                     (json_int_t)s->uptime_ms, "users", (json_int_t)s->users, "tenants",
                     (json_int_t)s->tenants, "mapSizeBytes", (json_int_t)s->map_size_bytes,
                     "usedBytes", (json_int_t)s->used_bytes, "inFlight", (json_int_t)s->in_flight,
                     "commits", (json_int_t)s->commits, "committedWrites",
                     (json_int_t)s->committed_writes, "methods", methods);
}

int ctl_cmd_service_stats(const ctl_args *a)
{
    ctl_live l;
    json_t *o = NULL;
    Roster__V1__StatsRequest req = ROSTER__V1__STATS_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    int err = ctl_live_exchange(&reply, &code, &l, a, RPC_STATS, &req.base, &arena);
    if (err != ROSTER_E_OK)
        goto fail;
    const Roster__V1__StatsResponse *s = (const Roster__V1__StatsResponse *)reply;
    o = stats_json(s);
    if (o == NULL) {
        code = ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        goto fail;
    }
    if (a->json) {
        ctl_print_json(stdout, o);
    } else {
        printf("service          %s\n", l.url);
        printf("uptime           %.3f s\n", (double)s->uptime_ms / 1000.0);
        printf("users            %lld\n", (long long)s->users);
        printf("tenants          %lld\n", (long long)s->tenants);
        printf("store            %lld of %lld bytes used\n", (long long)s->used_bytes,
               (long long)s->map_size_bytes);
        printf("in flight        %lld\n", (long long)s->in_flight);
        printf("commits          %lld (%lld writes)\n\n", (long long)s->commits,
               (long long)s->committed_writes);
        /* Statuses as "OK:12 NOT_FOUND:1" for the table. */
        json_t *rows = json_object_get(o, "methods");
        size_t i;
        json_t *m;
        json_array_foreach(rows, i, m)
        {
            char buf[512];
            size_t n = 0;
            buf[0] = '\0';
            const char *k;
            json_t *v;
            json_object_foreach(json_object_get(m, "statuses"), k, v)
            {
                n += (size_t)snprintf(buf + n, n < sizeof buf ? sizeof buf - n : 0, "%s%s:%lld",
                                      n ? " " : "", k, (long long)json_integer_value(v));
                if (n >= sizeof buf)
                    break;
            }
            json_object_set_new(m, "statuses", json_string(buf));
        }
        static const char *const cols[] = {"method", "count", "statuses", "p50Us",
                                           "p90Us",  "p99Us", "maxUs",    NULL};
        ctl_print_table(stdout, rows, cols);
    }
    code = CTL_EXIT_OK;
fail:
    json_decref(o);
    ctl_live_close(&l);
    roster_arena_free(&arena);
    return code;
}
