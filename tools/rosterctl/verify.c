#include "verify.h"

#include "datadir.h"
#include "output.h"
#include "progress.h"
#include "store.h"

#include <unistd.h>

const char *ctl_issue_kind_name(int kind)
{
    switch (kind) {
    case STORE_ISSUE_BAD_RECORD:
        return "bad_record";
    case STORE_ISSUE_MISSING_ENTRY:
        return "missing_entry";
    case STORE_ISSUE_STALE_ENTRY:
        return "stale_entry";
    case STORE_ISSUE_DUPLICATE:
        return "duplicate";
    case STORE_ISSUE_DANGLING_TENANT:
        return "dangling_tenant";
    case STORE_ISSUE_COUNT_MISMATCH:
        return "count_mismatch";
    case STORE_ISSUE_DEFAULT_TENANT:
        return "default_tenant";
    case STORE_ISSUE_BAD_KEY:
        return "bad_key";
    }
    return "unknown";
}

typedef struct verify_ctx {
    bool json;
    json_t *issues;
    ctl_progress *progress;
    bool stdout_terminal; /* an issue line clears the bar first */
    uint64_t records;     /* reached */
} verify_ctx;

static void on_progress(void *ctx, uint64_t records)
{
    verify_ctx *c = ctx;
    c->records = records;
    ctl_progress_step(c->progress, records, records);
}

static void on_issue(void *ctx, const store_issue *is)
{
    verify_ctx *c = ctx;
    if (c->json) {
        json_array_append_new(
            c->issues, json_pack("{s:s, s:s, s:s, s:s}", "kind", ctl_issue_kind_name(is->kind),
                                 "db", is->db ? is->db : "", "id", is->id, "message", is->message));
        return;
    }
    if (c->stdout_terminal)
        ctl_progress_clear(c->progress);
    printf("%-16s %-14s %-36s %s\n", ctl_issue_kind_name(is->kind), is->db ? is->db : "-",
           is->id[0] ? is->id : "-", is->message);
}

int ctl_cmd_verify(const ctl_args *a)
{
    roster_err_detail d = {{0}};
    store *s = NULL;
    store_rtxn *r = NULL;
    verify_ctx c = {.json = a->json, .issues = json_array()};
    uint64_t n = 0;
    int code;
    int err = ctl_datadir_open(&s, ctl_store_location(a), true, &d);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "verify", err, d.message, NULL);
        code = ctl_exit_code(err);
        goto fail;
    }
    err = store_read_begin(s, &r);
    if (err == ROSTER_E_OK && a->progress) {
        store_stats st;
        uint64_t total = store_stat(r, &st) == ROSTER_E_OK ? st.tenants + st.users : 0;
        c.progress = ctl_progress_begin("verify", total, "records");
        c.stdout_terminal = isatty(STDOUT_FILENO) == 1;
    }
    if (err == ROSTER_E_OK)
        err = store_verify_progress(r, on_issue, &c, on_progress, &c, &n);
    ctl_progress_end(c.progress, c.records, err == ROSTER_E_OK);
    if (err != ROSTER_E_OK) {
        ctl_report_error(a->json, "verify", err, NULL, NULL);
        code = ctl_exit_code(err);
        goto fail;
    }
    if (a->json) {
        json_t *o = json_pack("{s:b, s:I, s:O}", "ok", n == 0, "issueCount", (json_int_t)n,
                              "issues", c.issues);
        ctl_print_json(stdout, o);
        json_decref(o);
    } else if (n == 0) {
        printf("ok: every index agrees with the records\n");
    } else {
        fprintf(stderr, "rosterctl: verify: %llu mismatch(es) found\n", (unsigned long long)n);
    }
    code = n == 0 ? CTL_EXIT_OK : CTL_EXIT_NOT_FOUND;
fail:
    store_read_end(r);
    store_close(s);
    json_decref(c.issues);
    return code;
}
