#include "load.h"

#include "datadir.h"
#include "fastline.h"
#include "output.h"
#include "pbfield.h"
#include "record.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a line may be: a record of the model and the GraphQL fields of
 * its type that are not record fields (accepted and ignored), and the
 * create request a line without id becomes. */
static const char *const tenant_ignored[] = {"users", NULL};
static const char *const user_ignored[] = {"synced", "tenant", NULL};

enum { KIND_TENANT, KIND_USER, KINDS };

static const ctl_line_kind kinds[KINDS] = {
    [KIND_TENANT] = {&model_tenant, tenant_ignored},
    [KIND_USER] = {&model_user, user_ignored},
};
static const ProtobufCMessageDescriptor *const kind_create[KINDS] = {
    [KIND_TENANT] = &roster__v1__create_tenant_request__descriptor,
    [KIND_USER] = &roster__v1__create_user_request__descriptor,
};

/* A record restored with its id keeps its dates, so they are required. */
static int need_dates(const model_record *r, const ProtobufCMessage *rec, roster_err_detail *d)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        const model_field *mf = &r->fields[i];
        if (mf->type == MODEL_T_DATE && (mf->flags & MODEL_SERVER_SET) &&
            !ctl_pbfield_has(rec, model_pb_field(r, mf)))
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, mf->name,
                               "%s is required when id is given", mf->name);
    }
    return ROSTER_E_OK;
}

/* A line made ready to apply: everything about it that does not depend
 * on the store, worked out by the reading thread (prepare_line). */
typedef struct parsed_line {
    json_t *obj; /* owned by the ring; NULL for a blank line, invalid JSON or the fast path */
    size_t len;  /* bytes of the line, newline included */
    bool blank;
    int err;             /* ROSTER_E_OK: ready for the store */
    roster_err_detail d; /* why not, when err is not ROSTER_E_OK */
    size_t kind;         /* KIND_*, when err is ROSTER_E_OK */
    bool restore;        /* with an id: rec is restored as it is */
    union {
        Roster__V1__Tenant tenant;
        Roster__V1__User user;
    } rec; /* strings borrow from obj or the chunk's arena */
    union {
        Roster__V1__CreateTenantRequest tenant;
        Roster__V1__CreateUserRequest user;
    } req;                     /* without an id: the create request rec becomes */
    store_user_checked chk;    /* a user's create request as checked */
    store_user_prepared *prep; /* and its record, made ahead (in the chunk's arena) */
} parsed_line;

/* p->rec of type `kind` is read: fills p->err and p->d, or the rest of
 * what applying it takes. A user's create request goes through the
 * store's checks that need no store (store_user_create_check), and its
 * record is made (store_user_prepare, into arena). */
static void finish_line(parsed_line *p, size_t kind, roster_arena *arena)
{
    const model_record *r = kinds[kind].r;
    ProtobufCMessage *m = (ProtobufCMessage *)&p->rec;
    const ProtobufCFieldDescriptor *id = model_pb_field(r, model_field_named(r, "id", 2));
    int err = ROSTER_E_OK;
    p->restore = ctl_pbfield_has(m, id);
    if (p->restore) {
        err = need_dates(r, m, &p->d);
    } else {
        ctl_record_to_request((ProtobufCMessage *)&p->req, kind_create[kind], r, m);
        if (kind == KIND_USER) {
            err = store_user_create_check(&p->chk, &p->req.user, &p->d);
            if (err == ROSTER_E_OK &&
                (err = store_user_prepare(&p->prep, &p->req.user, &p->chk, arena)) != ROSTER_E_OK)
                roster_fail(&p->d, err, "", "%s", roster_strerror(err));
        }
    }
    p->kind = kind;
    p->err = err;
}

/* Fills p->err and p->d, or the record or request to apply, from the
 * `len` bytes at `line`: through the fast path when the line is in its
 * form (fastline.h), else parsed by jansson into p->obj and read by
 * ctl_record_from_json, which say what is wrong with a bad line. Strings
 * are borrowed from p->obj or copied into arena; customData is encoded
 * into arena. */
static void prepare_line(parsed_line *p, const char *line, size_t len, roster_arena *arena)
{
    size_t kind;
    if (ctl_fastline_parse(&p->rec, &kind, kinds, KINDS, line, len, arena)) {
        finish_line(p, kind, arena);
        return;
    }
    roster_err_detail *d = &p->d;
    json_error_t jerr;
    const json_t *obj = p->obj =
        json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (obj == NULL) {
        p->err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "invalid JSON at column %d: %s",
                             jerr.column, jerr.text);
        return;
    }
    if (!json_is_object(obj)) {
        p->err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a line must hold a JSON object");
        return;
    }
    const json_t *tn = json_object_get(obj, "__typename");
    const char *type = json_is_string(tn) ? json_string_value(tn) : NULL;
    for (kind = 0; type != NULL && kind < KINDS; kind++)
        if (strcmp(type, kinds[kind].r->gql_type) == 0)
            break;
    if (type == NULL || kind == KINDS) {
        p->err = roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "__typename",
                             "__typename must be \"%s\" or \"%s\"", kinds[0].r->gql_type,
                             kinds[1].r->gql_type);
        return;
    }
    /* Either member, through the ProtobufCMessage each one starts with. */
    int err = ctl_record_from_json((ProtobufCMessage *)&p->rec, kinds[kind].r, obj,
                                   kinds[kind].ignored, arena, d);
    if (err != ROSTER_E_OK) {
        p->err = err;
        return;
    }
    finish_line(p, kind, arena);
}

/* Applies prepared line p (p->err ROSTER_E_OK) in w. */
static int apply_line(store_wtxn *w, parsed_line *p, roster_arena *arena, roster_err_detail *d)
{
    if (p->kind == KIND_USER)
        return p->restore
                   ? store_user_restore(w, &p->rec.user, d)
                   : store_user_create_prepared(w, p->prep, &p->req.user, &p->chk, arena, NULL, d);
    return p->restore ? store_tenant_restore(w, &p->rec.tenant, d)
                      : store_tenant_create(w, NULL, &p->req.tenant, arena, NULL, d);
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* Errors that concern the line; anything else (resources, I/O, a corrupt
 * store) stops the load. */
static bool line_error(int err)
{
    switch (err) {
    case ROSTER_E_INVALID_ARGUMENT:
    case ROSTER_E_ALREADY_EXISTS:
    case ROSTER_E_NOT_FOUND:
    case ROSTER_E_PERMISSION_DENIED:
    case ROSTER_E_FAILED_PRECONDITION:
    case ROSTER_E_OUT_OF_RANGE:
    case ROSTER_E_LIMIT:
    case ROSTER_E_PARSE:
    case ROSTER_E_VALIDATION:
        return true;
    default:
        return false;
    }
}

/* Reading and parsing overlap the store's work: a reading thread reads
 * lines, parses them with jansson and turns each into the record or
 * create request the store takes, or the error that refuses it
 * (prepare_line), and hands them in chunks through a ring of QUEUE_CHUNKS
 * chunks to the thread that applies them (the caller's), which is left
 * with the store's work. At most QUEUE_CHUNKS * CHUNK_LINES parsed lines are held at
 * a time, whatever the input's size. The reading thread fills only the
 * slot after the last one handed over, and frees the objects a slot held
 * before it fills it again: objects are freed by the thread that
 * allocated them (glibc returns memory freed by another thread to the
 * allocating thread's arena under its lock, which cost the applying
 * thread about 8% of its time). */
#define CHUNK_LINES  128
#define QUEUE_CHUNKS 8

typedef struct line_chunk {
    size_t n;
    roster_arena arena; /* the lines' re-encoded customData */
    parsed_line line[CHUNK_LINES];
} line_chunk;

typedef struct line_reader {
    FILE *in;
    pthread_mutex_t mu;
    pthread_cond_t filled, emptied;
    line_chunk *chunks; /* QUEUE_CHUNKS slots */
    size_t head, count; /* the chunks handed over and not yet applied */
    bool done;          /* the reading thread reached the end or an error */
    bool read_failed;   /* ferror() on the input at the end */
    bool stop;          /* the applying thread wants no more */
} line_reader;

static void *read_lines(void *arg)
{
    line_reader *rd = arg;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = 0;
    for (;;) {
        pthread_mutex_lock(&rd->mu);
        while (rd->count == QUEUE_CHUNKS && !rd->stop)
            pthread_cond_wait(&rd->emptied, &rd->mu);
        bool stop = rd->stop;
        line_chunk *c = &rd->chunks[(rd->head + rd->count) % QUEUE_CHUNKS];
        pthread_mutex_unlock(&rd->mu);
        if (stop)
            break;
        for (size_t i = 0; i < c->n; i++)
            json_decref(c->line[i].obj);
        c->n = 0;
        roster_arena_reset(&c->arena);
        while (c->n < CHUNK_LINES && (len = getline(&line, &cap, rd->in)) >= 0) {
            parsed_line *p = &c->line[c->n++];
            p->len = (size_t)len;
            p->blank = blank(line);
            p->obj = NULL;
            if (!p->blank)
                prepare_line(p, line, (size_t)len, &c->arena);
        }
        bool end = c->n < CHUNK_LINES;
        pthread_mutex_lock(&rd->mu);
        if (c->n > 0)
            rd->count++;
        if (end) {
            rd->done = true;
            rd->read_failed = ferror(rd->in) != 0;
        }
        pthread_cond_signal(&rd->filled);
        pthread_mutex_unlock(&rd->mu);
        if (end)
            break;
    }
    free(line);
    return NULL;
}

/* The next chunk to apply, or NULL at the end of the input. */
static line_chunk *reader_next(line_reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    while (rd->count == 0 && !rd->done)
        pthread_cond_wait(&rd->filled, &rd->mu);
    line_chunk *c = rd->count > 0 ? &rd->chunks[rd->head] : NULL;
    pthread_mutex_unlock(&rd->mu);
    return c;
}

/* Gives the chunk reader_next returned back to the reading thread. */
static void reader_release(line_reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    rd->head = (rd->head + 1) % QUEUE_CHUNKS;
    rd->count--;
    pthread_cond_signal(&rd->emptied);
    pthread_mutex_unlock(&rd->mu);
}

/* Stops the reading thread, waits for it and frees the parsed lines every
 * slot holds, applied or not. */
static void reader_finish(line_reader *rd, pthread_t thread)
{
    pthread_mutex_lock(&rd->mu);
    rd->stop = true;
    pthread_cond_signal(&rd->emptied);
    pthread_mutex_unlock(&rd->mu);
    pthread_join(thread, NULL);
    for (size_t i = 0; i < QUEUE_CHUNKS; i++) {
        line_chunk *c = &rd->chunks[i];
        for (size_t j = 0; j < c->n; j++)
            json_decref(c->line[j].obj);
        c->n = 0;
        roster_arena_free(&c->arena);
    }
    rd->count = 0;
}

/* Batching. All lines run in one LMDB write transaction, so every line is
 * checked against the data and every earlier line (uniqueness, tenants
 * before their users) by the store's own code. With --batch N the
 * transaction is committed after every N non-blank lines and a new one
 * begun. A bad line marks its batch bad; at the batch's end a bad batch is
 * not committed, and from then on nothing is: the same transaction simply
 * goes on (never to be committed) so later lines are still checked against
 * everything before them, including the bad batch's good lines, and each
 * bad one is reported. committed_lines is the last line of the last
 * committed batch, the point from which a fixed input can be loaded
 * again. A --dry-run checks the same way and never commits.
 *
 * Lines are applied without a nested transaction each
 * (store_write_begin_bulk): the store refuses a bad line before its first
 * write, so it leaves nothing, and a nested transaction per line would copy
 * the batch's whole dirty-page list each time (quadratic in the batch, and
 * a large enough single-transaction load ran out of dirty-page room
 * altogether).
 *
 * Lines are read, parsed and converted by a second thread (read_lines)
 * while this one applies the ones before them; every line keeps its
 * number, and its errors are reported in line order. */
int ctl_load_run(ctl_load_result *result, FILE *in, store *s, const ctl_load_options *o,
                 ctl_load_error_fn fn, void *ctx, roster_err_detail *fatal)
{
    ctl_load_result res = {0};
    uint64_t lineno = 0, bytes = 0;
    store_wtxn *w = NULL;
    bool writing = !o->dry_run;
    uint64_t batch_lines = 0, batch_tenants = 0, batch_users = 0;
    bool batch_bad = false;
    roster_arena arena;
    roster_arena_init(&arena, 64 * 1024, 0);
    line_reader rd = {.in = in,
                      .mu = PTHREAD_MUTEX_INITIALIZER,
                      .filled = PTHREAD_COND_INITIALIZER,
                      .emptied = PTHREAD_COND_INITIALIZER};
    pthread_t reader;
    bool reading = false;
    line_chunk *c;
    int err = ROSTER_E_OK;
    if ((rd.chunks = calloc(QUEUE_CHUNKS, sizeof *rd.chunks)) == NULL) {
        err = roster_fail(fatal, ROSTER_E_NOMEM, "", "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < QUEUE_CHUNKS; i++)
        roster_arena_init(&rd.chunks[i].arena, 16 * 1024, 0);
    err = store_write_begin_bulk(s, &w);
    if (err != ROSTER_E_OK) {
        roster_fail(fatal, err, "", "cannot begin a write transaction: %s", roster_strerror(err));
        goto fail;
    }
    if (pthread_create(&reader, NULL, read_lines, &rd) != 0) {
        err = roster_fail(fatal, ROSTER_E_RESOURCE_EXHAUSTED, "",
                          "cannot start the thread that reads the input");
        goto fail;
    }
    reading = true;
    while ((c = reader_next(&rd)) != NULL) {
        for (size_t li = 0; li < c->n; li++) {
            parsed_line *p = &c->line[li];
            ctl_progress_step(o->progress, bytes, res.tenants + res.users + res.bad_lines);
            bytes += (uint64_t)p->len;
            lineno++;
            if (p->blank)
                continue;
            roster_err_detail d = {{0}};
            bool is_user = false;
            int rc = p->err;
            if (rc != ROSTER_E_OK) {
                d = p->d;
            } else {
                is_user = p->kind == KIND_USER;
                rc = apply_line(w, p, &arena, &d);
                roster_arena_reset(&arena);
            }
            if (rc != ROSTER_E_OK && !line_error(rc)) {
                err = rc;
                roster_fail(fatal, err, d.field,
                            "line %llu: %s; stopped, nothing from its batch was written",
                            (unsigned long long)lineno,
                            d.message[0] ? d.message : roster_strerror(rc));
                goto fail;
            }
            if (rc != ROSTER_E_OK) {
                res.bad_lines++;
                batch_bad = true;
                if (fn)
                    fn(ctx, lineno, d.field, d.message[0] ? d.message : roster_strerror(rc));
            } else if (is_user) {
                res.users++;
                batch_users++;
            } else {
                res.tenants++;
                batch_tenants++;
            }
            batch_lines++;
            if (o->batch == 0 || batch_lines < o->batch || !writing)
                continue;
            /* End of a batch. A bad one stops writing; checking goes on in the
             * same (never committed) transaction so later lines still see the
             * records before them. */
            if (batch_bad) {
                writing = false;
                continue;
            }
            err = store_write_commit(w);
            w = NULL;
            if (err != ROSTER_E_OK) {
                roster_fail(fatal, err, "", "commit of the batch ending at line %llu failed: %s",
                            (unsigned long long)lineno, roster_strerror(err));
                goto fail;
            }
            res.committed_tenants += batch_tenants;
            res.committed_users += batch_users;
            res.committed_lines = lineno;
            batch_lines = batch_tenants = batch_users = 0;
            err = store_write_begin_bulk(s, &w);
            if (err != ROSTER_E_OK) {
                roster_fail(fatal, err, "", "cannot begin a write transaction: %s",
                            roster_strerror(err));
                goto fail;
            }
        }
        reader_release(&rd);
    }
    if (rd.read_failed) {
        err = roster_fail(fatal, ROSTER_E_IO, "", "reading stdin failed after line %llu",
                          (unsigned long long)lineno);
        goto fail;
    }
    if (writing && !batch_bad) {
        err = store_write_commit(w);
        w = NULL;
        if (err != ROSTER_E_OK) {
            roster_fail(fatal, err, "", "commit failed: %s", roster_strerror(err));
            goto fail;
        }
        res.committed_tenants += batch_tenants;
        res.committed_users += batch_users;
        res.committed_lines = lineno;
    }
    res.lines = lineno;
    *result = res;
fail:
    if (reading)
        reader_finish(&rd, reader);
    free(rd.chunks);
    store_write_abort(w);
    roster_arena_free(&arena);
    return err;
}

typedef struct report_ctx {
    bool json;
    json_t *errors;         /* --json: collected {line, field, message} */
    ctl_progress *progress; /* cleared before a line is reported */
} report_ctx;

static void report_line(void *ctx, uint64_t line, const char *field, const char *message)
{
    report_ctx *rc = ctx;
    if (rc->json) {
        json_array_append_new(rc->errors, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)line,
                                                    "field", field, "message", message));
        return;
    }
    ctl_progress_clear(rc->progress);
    if (field && *field)
        fprintf(stderr, "rosterctl: load: line %llu: %s: %s\n", (unsigned long long)line, field,
                message);
    else
        fprintf(stderr, "rosterctl: load: line %llu: %s\n", (unsigned long long)line, message);
}

/* Loading into an empty store.
 *
 * A store that holds nothing yet (no record, key, counter or change-feed
 * event) is loaded through a writable map without a flush per commit
 * (ctl_datadir_open_bulk): LMDB writes the pages in place and nothing
 * reaches the disk until store_load_mark(s, false) flushes it all once at
 * the end, before the load is reported done. In between, the store holds
 * the unfinished-load record (store_load_mark(s, true), itself flushed
 * first), so a load that never reaches its end (killed, a crash, a power
 * cut), whatever it had committed, leaves a store that every later open
 * refuses, saying to remove it and load again; never one that looks
 * complete and is not. A load into a store that already holds data keeps
 * durable commits, so a crash leaves that data as it was. */
static bool store_empty(store *s)
{
    store_rtxn *r;
    store_stats st;
    if (store_read_begin(s, &r) != ROSTER_E_OK)
        return false;
    int err = store_stat(r, &st);
    store_read_end(r);
    if (err != ROSTER_E_OK)
        return false;
    for (size_t i = 0; i < st.n_dbs; i++)
        if (strcmp(st.dbs[i].name, "meta") != 0 && st.dbs[i].entries != 0)
            return false;
    return true;
}

int ctl_cmd_load(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    store *s = NULL;
    report_ctx rc = {.json = a->json, .errors = json_array()};
    ctl_load_result res = {0};
    ctl_load_options o = {0};
    bool bulk = false;
    o.dry_run = ctl_args_get(a, "dry-run") != NULL;
    const char *batch = ctl_args_get(a, "batch");
    int code;
    int err;
    if (batch != NULL) {
        char *end;
        unsigned long long n = strtoull(batch, &end, 10);
        if (*batch == '\0' || *batch == '-' || *end != '\0' || n == 0) {
            ctl_report_error(a->json, "load", ROSTER_E_INVALID_ARGUMENT,
                             "--batch takes a positive number of lines", NULL);
            code = CTL_EXIT_USAGE;
            goto done;
        }
        o.batch = n;
    }
    err = ctl_datadir_open(&s, ctl_store_location(a), false, &d);
    if (err == ROSTER_E_OK && !o.dry_run && store_empty(s)) {
        /* See "Loading into an empty store" above. */
        store_close(s);
        s = NULL;
        err = ctl_datadir_open_bulk(&s, ctl_store_location(a), &d);
        if (err == ROSTER_E_OK && (err = store_load_mark(s, true)) != ROSTER_E_OK)
            roster_fail(&d, err, "", "cannot record the load's start in %s: %s", a->data,
                        roster_strerror(err));
        bulk = err == ROSTER_E_OK;
    }
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "load", err, d.message, NULL);
        code = ctl_exit_code(err);
        goto done;
    }
    if (a->progress) {
        /* The size of the input when it is a file: what is left of it. */
        struct stat st;
        uint64_t total = 0;
        if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
            off_t at = lseek(STDIN_FILENO, 0, SEEK_CUR);
            total = (uint64_t)st.st_size - (at > 0 && at <= st.st_size ? (uint64_t)at : 0);
        }
        o.progress = rc.progress = ctl_progress_begin("load", total, "records");
    }
    err = ctl_load_run(&res, stdin, s, &o, report_line, &rc, &d);
    ctl_progress_end(o.progress, res.tenants + res.users + res.bad_lines,
                     err == ROSTER_E_OK && res.bad_lines == 0);
    if (bulk) {
        /* Whatever was committed reaches the disk before the mark goes. */
        int serr = store_load_mark(s, false);
        if (serr != ROSTER_E_OK && err == ROSTER_E_OK) {
            err = serr;
            roster_fail(&d, err, "", "cannot flush the load to disk in %s: %s", a->data,
                        roster_strerror(err));
        }
    }
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "load", err, d.message, a->json ? rc.errors : NULL);
        code = ctl_exit_code(err);
        goto done;
    }
    if (res.bad_lines > 0) {
        char msg[300];
        if (res.committed_lines == 0)
            snprintf(msg, sizeof msg, "%llu bad line(s); nothing was written",
                     (unsigned long long)res.bad_lines);
        else
            snprintf(msg, sizeof msg,
                     "%llu bad line(s); lines 1-%llu were committed (%llu tenant(s), %llu "
                     "user(s)), nothing after line %llu was written",
                     (unsigned long long)res.bad_lines, (unsigned long long)res.committed_lines,
                     (unsigned long long)res.committed_tenants,
                     (unsigned long long)res.committed_users,
                     (unsigned long long)res.committed_lines);
        ctl_report_error(a->json, "load", ROSTER_E_INVALID_ARGUMENT, msg,
                         a->json ? rc.errors : NULL);
        code = CTL_EXIT_INVALID;
        goto done;
    }
    if (a->json) {
        json_t *j = json_pack("{s:I, s:I, s:b}", "tenants", (json_int_t)res.tenants, "users",
                              (json_int_t)res.users, "dryRun", o.dry_run);
        ctl_print_json(stdout, j);
        json_decref(j);
    } else {
        printf("%s %llu tenant(s) and %llu user(s)%s\n", o.dry_run ? "checked" : "loaded",
               (unsigned long long)res.tenants, (unsigned long long)res.users,
               o.dry_run ? " (dry run, nothing written)" : "");
    }
    code = CTL_EXIT_OK;
done:
    store_close(s);
    json_decref(rc.errors);
    return code;
}
