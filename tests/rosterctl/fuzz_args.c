/* Fuzz harness for rosterctl's parsers: --filter expressions (user and
 * tenant fields), --order, --search, JSON Lines records (users and
 * tenants) and the whole command line. The first input byte picks the
 * target; the rest is its text. Invariants checked beyond "no crash":
 * a parsed filter always builds a ListUsersRequest / ListTenantsRequest that
 * packs and unpacks again, a parsed
 * record re-encodes to the same JSON, a record line the load's fast path
 * reads is read by jansson into the same record, and a failed parse
 * leaves its outputs untouched and names what was wrong. */
#include "cli.h"
#include "fastline_check.h"
#include "fuzz_filter_check.h"
#include "filter.h"
#include "record.h"
#include "request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static void fuzz_order_search(const char *text)
{
    roster_err_detail d = {{0}};
    ctl_order o = {.set = false, .sort = -7, .order = -7};
    if (ctl_order_parse(&o, false, text, &d) != ROSTER_E_OK)
        check(!o.set && o.sort == -7);
    else
        check(o.sort >= 1 && o.sort <= 9 && (o.order == 1 || o.order == 2));
    ctl_order t = {.set = false, .sort = -7, .order = -7};
    if (ctl_order_parse(&t, true, text, &d) == ROSTER_E_OK)
        check(t.sort >= 1 && t.sort <= 2);
    ctl_search s = {0};
    if (ctl_search_parse(&s, text, &d) == ROSTER_E_OK)
        check(s.key >= 1 && s.key <= 6 && s.value >= text);
}

static char *encode(const json_t *o)
{
    return json_dumps(o, JSON_COMPACT);
}

static void fuzz_record(const uint8_t *data, size_t size, bool tenant)
{
    json_t *obj =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    if (obj == NULL)
        return;
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    roster_err_detail d = {{0}};
    json_t *a = NULL, *b = NULL;
    const model_record *r = tenant ? &model_tenant : &model_user;
    static const char *const tenant_ignored[] = {"users", NULL};
    static const char *const user_ignored[] = {"synced", "tenant", NULL};
    const char *const *ignored = tenant ? tenant_ignored : user_ignored;
    union {
        Roster__V1__Tenant tenant;
        Roster__V1__User user;
    } m, m2;
    if (ctl_record_from_json(&m.tenant.base, r, obj, ignored, &arena, &d) == ROSTER_E_OK) {
        check(ctl_record_json(&a, r, &m.tenant.base, true) == ROSTER_E_OK);
        check(ctl_record_from_json(&m2.tenant.base, r, a, ignored, &arena, &d) == ROSTER_E_OK);
        check(ctl_record_json(&b, r, &m2.tenant.base, true) == ROSTER_E_OK);
    }
    if (a != NULL) {
        char *sa = encode(a), *sb = encode(b);
        check(sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
        free(sa);
        free(sb);
    }
    json_decref(a);
    json_decref(b);
    json_decref(obj);
    roster_arena_free(&arena);
}

static void fuzz_cli(char *text)
{
    char *argv[65];
    int argc = 0;
    argv[argc++] = "rosterctl";
    char *p = text;
    while (argc < 64) {
        argv[argc++] = p;
        char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    ctl_args *a = malloc(sizeof *a);
    check(a != NULL);
    roster_err_detail d = {{0}};
    if (ctl_cli_parse(a, argc, argv, &d) == ROSTER_E_OK) {
        check(a->help || a->cmd != NULL);
        check(a->nopts <= CTL_MAX_OPTS);
        for (size_t i = 0; i < a->nopts; i++)
            check(a->opts[i].name != NULL && a->opts[i].value != NULL);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        check(f != NULL);
        if (a->help)
            ctl_cli_help(f, a);
        fclose(f);
        free(out);
    } else {
        check(d.message[0] != '\0');
    }
    free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 7) {
    case 0:
        fuzz_ctl_filter(text, false);
        break;
    case 1:
        fuzz_ctl_filter(text, true);
        break;
    case 2:
    case 3:
        fuzz_order_search(text);
        break;
    case 4:
        fuzz_record(data + 1, size - 1, false);
        check(fastline_check((const char *)data + 1, size - 1) >= 0);
        break;
    case 5:
        fuzz_record(data + 1, size - 1, true);
        check(fastline_check((const char *)data + 1, size - 1) >= 0);
        break;
    case 6:
        fuzz_cli(text);
        break;
    }
    free(text);
    return 0;
}
