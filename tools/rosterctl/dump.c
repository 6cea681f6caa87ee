#include "dump.h"

#include "datadir.h"
#include "output.h"
#include "record.h"

#include <unistd.h>

typedef struct dump_ctx {
    FILE *f;
    ctl_progress *progress;
    roster_arena arena;
    uint64_t count;   /* of the current table */
    uint64_t written; /* of both */
} dump_ctx;

/* Writes one stored record of type r as a JSON line. */
static int emit(dump_ctx *c, const model_record *r, const void *bytes, size_t len)
{
    ProtobufCMessage *m;
    json_t *o = NULL;
    int err = ctl_record_unpack(&m, r, bytes, len, &c->arena);
    if (err == ROSTER_E_OK)
        err = ctl_record_json(&o, r, m, true);
    if (err != ROSTER_E_OK)
        return err;
    int rc = json_dumpf(o, c->f, JSON_COMPACT);
    json_decref(o);
    if (rc != 0 || fputc('\n', c->f) == EOF)
        return ROSTER_E_IO;
    c->count++;
    c->written++;
    ctl_progress_step(c->progress, c->written, c->written);
    roster_arena_reset(&c->arena);
    return ROSTER_E_OK;
}

static int each_tenant(void *ctx, const void *bytes, size_t len)
{
    return emit(ctx, &model_tenant, bytes, len);
}

static int each_user(void *ctx, const void *bytes, size_t len)
{
    return emit(ctx, &model_user, bytes, len);
}

int ctl_dump_write(FILE *f, store_rtxn *r, ctl_progress *progress, uint64_t *tenants,
                   uint64_t *users)
{
    dump_ctx c = {.f = f, .progress = progress};
    roster_arena_init(&c.arena, 64 * 1024, 0);
    int err = store_each_tenant(r, each_tenant, &c);
    if (err != ROSTER_E_OK)
        goto fail;
    *tenants += c.count;
    c.count = 0;
    err = store_each_user(r, each_user, &c);
    if (err != ROSTER_E_OK)
        goto fail;
    *users += c.count;
    if (fflush(f) != 0)
        err = ROSTER_E_IO;
fail:
    roster_arena_free(&c.arena);
    return err;
}

int ctl_cmd_dump(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    store *s = NULL;
    store_rtxn *r = NULL;
    uint64_t tenants = 0, users = 0;
    int err = ctl_datadir_open(&s, ctl_store_location(a), true, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "dump", err, d.message, NULL);
        goto fail;
    }
    err = store_read_begin(s, &r);
    /* On a terminal the records themselves show the progress (and a bar
     * would be drawn over them). */
    ctl_progress *p = NULL;
    if (err == ROSTER_E_OK && a->progress && !isatty(STDOUT_FILENO)) {
        store_stats st;
        uint64_t total = store_stat(r, &st) == ROSTER_E_OK ? st.tenants + st.users : 0;
        p = ctl_progress_begin("dump", total, "records");
    }
    if (err == ROSTER_E_OK)
        err = ctl_dump_write(stdout, r, p, &tenants, &users);
    ctl_progress_end(p, tenants + users, err == ROSTER_E_OK);
    if (err != ROSTER_E_OK)
        ctl_report_error(a->json, "dump", err,
                         err == ROSTER_E_IO ? "writing to stdout failed" : NULL, NULL);
fail:
    store_read_end(r);
    store_close(s);
    return ctl_exit_code(err);
}
