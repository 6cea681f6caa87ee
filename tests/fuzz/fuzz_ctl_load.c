/* libFuzzer harness: rosterctl load (tools/rosterctl/load.c), JSON Lines
 * into a temporary store (fuzz_store.h) that keeps what earlier inputs
 * loaded, so restores meet existing ids, references, emails and tenants.
 *
 * The store is emptied every 64 inputs, so the verification after each
 * load stays cheap.
 *
 * Input: first byte b, then the lines. b & 7 is the batch size (0: one
 * transaction for the whole input); bit 0x08 makes it a dry run.
 *
 * Checked beyond the sanitizers: the load reads to the end or fails with
 * a fatal error that names itself; the counts add up (accepted plus
 * rejected lines never exceed the lines read, nothing is committed in a
 * dry run or past a bad batch); every rejected line is reported once with
 * a message; and after a load that committed anything the store verifies
 * clean (store_verify: every index, uniqueness, counters, references). */
#include "fuzz_store.h"

#include "load.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_ctl_load: %s\n", what);
        abort();
    }
}

static void on_bad_line(void *ctx, uint64_t line, const char *field, const char *message)
{
    uint64_t *reported = ctx;
    (*reported)++;
    check(line > 0, "a rejected line numbered 0");
    check(field != NULL && message != NULL && message[0] != '\0',
          "a rejected line without a message");
}

static void on_issue(void *ctx, const store_issue *issue)
{
    (void)ctx;
    fprintf(stderr, "fuzz_ctl_load: verify: %s %s %s\n", issue->db, issue->id, issue->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool fresh;
    store *st = fuzz_store_next(&fresh, 64, NULL);
    FILE *in = fmemopen((void *)(data + 1), size - 1, "r");
    if (in == NULL)
        return 0;
    ctl_load_options o = {.batch = data[0] & 7, .dry_run = (data[0] & 0x08) != 0};
    ctl_load_result res;
    roster_err_detail fatal = {{0}};
    uint64_t reported = 0;
    int err = ctl_load_run(&res, in, st, &o, on_bad_line, &reported, &fatal);
    fclose(in);
    if (err != ROSTER_E_OK) {
        check(fatal.message[0] != '\0', "a fatal load error without a message");
        return 0;
    }
    check(res.tenants + res.users + res.bad_lines <= res.lines, "counts exceed the lines read");
    check(reported == res.bad_lines, "rejected lines and reports disagree");
    check(res.committed_lines <= res.lines, "more lines committed than read");
    check(res.committed_tenants <= res.tenants && res.committed_users <= res.users,
          "more records committed than accepted");
    if (o.dry_run)
        check(res.committed_lines == 0, "a dry run committed");
    if (res.bad_lines == 0 && !o.dry_run)
        check(res.committed_tenants == res.tenants && res.committed_users == res.users,
              "a clean load left records uncommitted");
    if (res.committed_lines > 0) {
        store_rtxn *r;
        check(store_read_begin(st, &r) == ROSTER_E_OK, "store_read_begin");
        uint64_t issues = 0;
        check(store_verify(r, on_issue, NULL, &issues) == ROSTER_E_OK, "store_verify failed");
        check(issues == 0, "the store does not verify after a load");
        store_read_end(r);
    }
    return 0;
}
