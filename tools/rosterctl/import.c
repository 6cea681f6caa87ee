/* rosterctl users import FILE: user records streamed to the service.
 *
 * Records are read one at a time (import_source.h) and gathered into
 * BulkWrite calls of --batch records (about 1 MiB at most), with up to
 * IMPORT_IN_FLIGHT calls outstanding so that the service's writer can
 * commit several in one transaction. Memory stays bounded by those calls
 * whatever the file's size: each call's requests and the JSON they borrow
 * from are released as soon as the call is packed. Outcomes are reported
 * in file order when each call is answered: every refused record by its
 * line (or CSV row) with the field at fault, and a summary at the end. */
#include "import.h"

#include "import_source.h"
#include "live.h"
#include "model.h"
#include "output.h"
#include "progress.h"
#include "record.h"

#include "roster_limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define IMPORT_IN_FLIGHT  4
#define IMPORT_CALL_BYTES (1u << 20)

/* One record of a call: where it came from and how it ended. */
typedef struct import_item {
    uint64_t where;
    bool update;  /* it has an id: an update, else a create */
    bool sent;    /* part of the call (false: refused here, code/detail set) */
    int32_t code; /* gRPC status; 0 applied */
    roster_err_detail d;
} import_item;

typedef struct import_call import_call;
typedef struct importer importer;

struct import_call {
    importer *imp;
    import_item *items; /* batch entries */
    size_t n_items, n_ops;
    bool busy, done;
    ctl_status st; /* the call's own outcome */
};

struct importer {
    const ctl_args *a;
    ctl_live live;
    bool dry_run;
    bool csv;
    size_t batch;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    import_call calls[IMPORT_IN_FLIGHT];
    uint64_t created, updated, failed;
    const char *unit;       /* "line" or "row" */
    ctl_progress *progress; /* NULL: none (--no-progress, --json) */
};

static const char *const user_ignored[] = {"synced", "tenant", NULL};

/* ------------------------------------------------------------ requests */

/* The operation for one record, allocated in `arena`. */
static int make_operation(Roster__V1__BulkOperation **out, bool *update, const json_t *obj,
                          roster_arena *arena, roster_err_detail *d)
{
    Roster__V1__User rec;
    int err = ctl_record_from_json(&rec.base, &model_user, obj, user_ignored, arena, d);
    if (err != ROSTER_E_OK)
        return err;
    Roster__V1__BulkOperation *op = roster_arena_alloc(arena, sizeof *op);
    if (op == NULL)
        return roster_fail(d, ROSTER_E_NOMEM, "", "out of memory");
    roster__v1__bulk_operation__init(op);
    *update = rec.id != NULL;
    if (*update) {
        Roster__V1__UpdateUserRequest *u = roster_arena_alloc(arena, sizeof *u);
        if (u == NULL)
            return roster_fail(d, ROSTER_E_NOMEM, "", "out of memory");
        ctl_record_to_request(&u->base, &roster__v1__update_user_request__descriptor, &model_user,
                              &rec.base);
        op->operation_case = ROSTER__V1__BULK_OPERATION__OPERATION_UPDATE_USER;
        op->update_user = u;
    } else {
        Roster__V1__CreateUserRequest *c = roster_arena_alloc(arena, sizeof *c);
        if (c == NULL)
            return roster_fail(d, ROSTER_E_NOMEM, "", "out of memory");
        ctl_record_to_request(&c->base, &roster__v1__create_user_request__descriptor, &model_user,
                              &rec.base);
        op->operation_case = ROSTER__V1__BULK_OPERATION__OPERATION_CREATE_USER;
        op->create_user = c;
    }
    *out = op;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ calls */

static void call_done(void *arg, const rpc_result *res)
{
    import_call *c = arg;
    ctl_status *st = &c->st;
    ctl_status_from_result(st, res);
    const Roster__V1__BulkWriteResponse *r = (const void *)res->reply;
    if (res->err == ROSTER_E_OK && (r == NULL || r->n_results != c->n_ops)) {
        st->err = ROSTER_E_PROTOCOL;
        snprintf(st->message, sizeof st->message, "%s: the reply has %zu results for %zu records",
                 roster_strerror(ROSTER_E_PROTOCOL), r ? r->n_results : 0, c->n_ops);
    }
    if (st->err == ROSTER_E_OK) {
        size_t j = 0;
        for (size_t i = 0; i < c->n_items; i++) {
            import_item *it = &c->items[i];
            if (!it->sent)
                continue;
            const Roster__V1__BulkResult *br = r->results[j++];
            it->code = br->code;
            snprintf(it->d.field, sizeof it->d.field, "%s", br->field ? br->field : "");
            snprintf(it->d.message, sizeof it->d.message, "%s", br->message ? br->message : "");
        }
    }
    pthread_mutex_lock(&c->imp->mu);
    c->done = true;
    pthread_cond_broadcast(&c->imp->cv);
    pthread_mutex_unlock(&c->imp->mu);
}

/* Reports one refused record: a line on stderr, or with --json a JSON
 * object on stdout. */
static void report_item(importer *imp, const import_item *it)
{
    const char *status = roster_status_name(it->code);
    if (imp->a->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s}", imp->unit, (json_int_t)it->where, "status",
                              status, "field", it->d.field, "message", it->d.message);
        if (o != NULL)
            ctl_print_json(stdout, o);
        json_decref(o);
        return;
    }
    ctl_progress_clear(imp->progress); /* the report gets a line of its own */
    if (it->d.field[0] != '\0')
        fprintf(stderr, "users import: %s %llu: %s: %s (%s)\n", imp->unit,
                (unsigned long long)it->where, it->d.field, it->d.message, status);
    else
        fprintf(stderr, "users import: %s %llu: %s (%s)\n", imp->unit,
                (unsigned long long)it->where, it->d.message, status);
}

/* Waits for call c and accounts for its records; returns its error. */
static int call_finish(importer *imp, import_call *c)
{
    pthread_mutex_lock(&imp->mu);
    while (c->busy && !c->done)
        pthread_cond_wait(&imp->cv, &imp->mu);
    pthread_mutex_unlock(&imp->mu);
    if (c->busy && c->st.err != ROSTER_E_OK) {
        c->busy = false;
        return c->st.err;
    }
    for (size_t i = 0; i < c->n_items; i++) {
        const import_item *it = &c->items[i];
        if (it->code == 0) {
            if (it->update)
                imp->updated++;
            else
                imp->created++;
        } else {
            imp->failed++;
            report_item(imp, it);
        }
    }
    c->busy = false;
    c->n_items = c->n_ops = 0;
    return ROSTER_E_OK;
}

/* Fills call c from the source and sends it; *more turns false at the end
 * of the input. Returns a fatal error (reported), or ROSTER_E_OK. */
static int call_fill_send(importer *imp, import_call *c, ctl_import_source *src, bool *more)
{
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    size_t cap = imp->batch;
    json_t **objs = calloc(cap, sizeof *objs);
    Roster__V1__BulkOperation **ops = calloc(cap, sizeof *ops);
    size_t n_objs = 0, bytes = 0;
    int err = ROSTER_E_OK;
    if (objs == NULL || ops == NULL) {
        err = ROSTER_E_NOMEM;
        ctl_report_error(imp->a->json, imp->a->cmd->words, err, NULL, NULL);
        goto out;
    }
    c->n_items = c->n_ops = 0;
    while (c->n_items < cap && bytes < IMPORT_CALL_BYTES) {
        json_t *obj = NULL;
        import_item *it = &c->items[c->n_items];
        memset(it, 0, sizeof *it);
        ctl_import_next got = ctl_import_source_next(src, &obj, &it->where, &it->d);
        if (got == CTL_IMPORT_END) {
            *more = false;
            break;
        }
        if (got == CTL_IMPORT_FATAL) {
            *more = false;
            err = ROSTER_E_INVALID_ARGUMENT;
            ctl_report_error(imp->a->json, imp->a->cmd->words, err, it->d.message, NULL);
            break;
        }
        c->n_items++;
        if (got == CTL_IMPORT_BAD) {
            it->code = ROSTER_STATUS_INVALID_ARGUMENT;
            continue;
        }
        objs[n_objs++] = obj;
        int e = make_operation(&ops[c->n_ops], &it->update, obj, &arena, &it->d);
        if (e != ROSTER_E_OK) {
            it->code = roster_err_to_status(e);
            continue;
        }
        it->sent = true;
        bytes += protobuf_c_message_get_packed_size(&ops[c->n_ops]->base) + 4;
        c->n_ops++;
    }
    if (err != ROSTER_E_OK || c->n_items == 0)
        goto out;
    memset(&c->st, 0, sizeof c->st);
    c->busy = true;
    c->done = false;
    if (c->n_ops == 0) {
        c->done = true; /* nothing to send: every record was refused here */
        goto out;
    }
    Roster__V1__BulkWriteRequest req = ROSTER__V1__BULK_WRITE_REQUEST__INIT;
    req.n_operations = c->n_ops;
    req.operations = ops;
    req.has_dry_run = imp->dry_run;
    req.dry_run = imp->dry_run;
    err = rpc_client_call(imp->live.client, RPC_BULK_WRITE, &req.base, imp->live.timeout_ms,
                          imp->live.credential, call_done, c);
    if (err != ROSTER_E_OK) {
        c->busy = false;
        ctl_status st = {.err = err};
        snprintf(st.message, sizeof st.message, "%s: BulkWrite not sent", roster_strerror(err));
        ctl_live_fail(imp->a, imp->a->cmd->words, err, &st);
    }
out:
    for (size_t i = 0; i < n_objs; i++)
        json_decref(objs[i]);
    free(objs);
    free(ops);
    roster_arena_free(&arena);
    return err;
}

/* ------------------------------------------------------------ command */

static bool wants_csv(const ctl_args *a, const char *path, roster_err_detail *d, int *err)
{
    const char *format = ctl_args_get(a, "format");
    *err = ROSTER_E_OK;
    if (format == NULL) {
        size_t n = strlen(path);
        return n > 4 && strcasecmp(path + n - 4, ".csv") == 0;
    }
    if (strcmp(format, "csv") == 0)
        return true;
    if (strcmp(format, "jsonl") != 0)
        *err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "--format",
                           "--format must be jsonl or csv, not \"%s\"", format);
    return false;
}

static int run(importer *imp, ctl_import_source *src)
{
    int err = ROSTER_E_OK;
    bool more = true;
    size_t head = 0, busy = 0;
    while ((more && err == ROSTER_E_OK) || busy > 0) {
        if (more && err == ROSTER_E_OK && busy < IMPORT_IN_FLIGHT) {
            import_call *c = &imp->calls[(head + busy) % IMPORT_IN_FLIGHT];
            err = call_fill_send(imp, c, src, &more);
            if (c->busy)
                busy++;
            continue;
        }
        import_call *c = &imp->calls[head];
        int e = call_finish(imp, c);
        head = (head + 1) % IMPORT_IN_FLIGHT;
        busy--;
        ctl_progress_step(imp->progress, ctl_import_source_bytes(src),
                          imp->created + imp->updated + imp->failed);
        if (e != ROSTER_E_OK && err == ROSTER_E_OK) {
            err = e;
            ctl_live_fail(imp->a, imp->a->cmd->words, e, &c->st);
        }
    }
    return err;
}

static void print_summary(const importer *imp)
{
    if (imp->a->json) {
        json_t *o = json_pack("{s:I,s:I,s:I,s:b}", "created", (json_int_t)imp->created, "updated",
                              (json_int_t)imp->updated, "failed", (json_int_t)imp->failed, "dryRun",
                              imp->dry_run);
        if (o != NULL)
            ctl_print_json(stdout, o);
        json_decref(o);
        return;
    }
    printf("%s%llu created, %llu updated, %llu failed\n",
           imp->dry_run ? "dry run (nothing stored): " : "", (unsigned long long)imp->created,
           (unsigned long long)imp->updated, (unsigned long long)imp->failed);
}

int ctl_cmd_users_import(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    const char *path = a->positional;
    int err;
    bool csv = wants_csv(a, path, &d, &err);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, a->cmd->words, err, d.message, NULL);
        return CTL_EXIT_USAGE;
    }
    size_t batch = ROSTER_MAX_BULK;
    const char *bt = ctl_args_get(a, "batch");
    if (bt != NULL) {
        int32_t n = 0;
        if (ctl_parse_count(&n, "--batch", bt, &d) != ROSTER_E_OK || n < 1 || n > ROSTER_MAX_BULK) {
            ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT,
                             "--batch must be 1..1000", NULL);
            return CTL_EXIT_USAGE;
        }
        batch = (size_t)n;
    }
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (in == NULL) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot open %s: %s", path, strerror(errno));
        ctl_report_error(a->json, a->cmd->words, ROSTER_E_NOT_FOUND, msg, NULL);
        return CTL_EXIT_NOT_FOUND;
    }
    importer *imp = calloc(1, sizeof *imp);
    ctl_import_source *src = NULL;
    int code = CTL_EXIT_INTERNAL;
    if (imp == NULL || ctl_import_source_open(&src, in, csv) != ROSTER_E_OK) {
        ctl_report_error(a->json, a->cmd->words, ROSTER_E_NOMEM, NULL, NULL);
        goto out;
    }
    imp->a = a;
    imp->csv = csv;
    imp->unit = csv ? "row" : "line";
    imp->batch = batch;
    imp->dry_run = ctl_args_get(a, "dry-run") != NULL;
    pthread_mutex_init(&imp->mu, NULL);
    pthread_cond_init(&imp->cv, NULL);
    for (size_t i = 0; i < IMPORT_IN_FLIGHT; i++) {
        imp->calls[i].imp = imp;
        imp->calls[i].items = calloc(batch, sizeof *imp->calls[i].items);
        if (imp->calls[i].items == NULL) {
            ctl_report_error(a->json, a->cmd->words, ROSTER_E_NOMEM, NULL, NULL);
            goto destroy;
        }
    }
    if ((err = ctl_live_open(&imp->live, a)) != ROSTER_E_OK) {
        code = ctl_exit_code(err);
        goto destroy;
    }
    if (a->progress) {
        /* The bar counts bytes of the file when it is a regular one. */
        struct stat st;
        uint64_t total =
            fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        imp->progress = ctl_progress_begin("import", total, "users");
    }
    err = run(imp, src);
    ctl_progress_end(imp->progress, imp->created + imp->updated + imp->failed,
                     err == ROSTER_E_OK && imp->failed == 0);
    imp->progress = NULL;
    ctl_live_close(&imp->live);
    if (err == ROSTER_E_OK) {
        print_summary(imp);
        code = imp->failed > 0 ? CTL_EXIT_INVALID : CTL_EXIT_OK;
    } else {
        fprintf(stderr, "users import: stopped; %llu created and %llu updated before it%s\n",
                (unsigned long long)imp->created, (unsigned long long)imp->updated,
                imp->dry_run ? " (dry run: nothing stored)" : "");
        code = ctl_exit_code(err);
    }
destroy:
    for (size_t i = 0; i < IMPORT_IN_FLIGHT; i++)
        free(imp->calls[i].items);
    pthread_mutex_destroy(&imp->mu);
    pthread_cond_destroy(&imp->cv);
out:
    ctl_import_source_close(src);
    free(imp);
    if (in != stdin)
        fclose(in);
    return code;
}
