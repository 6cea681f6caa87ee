#include "listing.h"

#include "live.h"
#include "output.h"
#include "pbfield.h"

#include "roster_limits.h"

#include <stdio.h>
#include <string.h>

/* The parts of a list reply, read through its descriptor. */
typedef struct page_view {
    int64_t total;
    size_t n;
    ProtobufCMessage *const *records;
    bool has_next;
    const char *end_cursor; /* NULL when the page has no record */
} page_view;

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, const char *name)
{
    return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

static void page_read(page_view *out, const ProtobufCMessage *reply)
{
    const ProtobufCMessageDescriptor *d = reply->descriptor;
    memset(out, 0, sizeof *out);
    out->total = ctl_pbfield_int(reply, field(d, "total_count"));
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)reply;
        out->n = *(const size_t *)(const void *)(base + f->quantifier_offset);
        out->records = *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
    }
    const ProtobufCFieldDescriptor *pf = field(d, "page_info");
    const ProtobufCMessage *info =
        pf ? *(ProtobufCMessage *const *)(const void *)((const char *)reply + pf->offset) : NULL;
    if (info != NULL) {
        out->has_next = ctl_pbfield_int(info, field(info->descriptor, "has_next_page")) != 0;
        out->end_cursor = ctl_pbfield_str(info, field(info->descriptor, "end_cursor"));
    }
}

/* {"hasNextPage":B,"endCursor":C}; NULL when out of memory. */
static json_t *page_info_json(bool has_next, const char *end_cursor)
{
    return json_pack("{s:b, s:o}", "hasNextPage", has_next, "endCursor",
                     end_cursor ? json_string(end_cursor) : json_null());
}

/* The page's records as a JSON array; NULL when out of memory. */
static json_t *page_data(const ctl_listing *l, const page_view *p, bool table)
{
    json_t *data = json_array();
    for (size_t i = 0; data != NULL && i < p->n; i++) {
        json_t *o = l->to_json(p->records[i], table, l->ctx);
        if (o == NULL || json_array_append_new(data, o) != 0) {
            json_decref(data);
            data = NULL;
        }
    }
    return data;
}

/* Whether a failed call was refused for the size of its reply. */
static bool over_reply_limit(const ctl_status *st)
{
    for (size_t i = 0; i < st->violation_count; i++)
        if (strcmp(st->violations[i].field, ROSTER_REPLY_LIMIT_FIELD) == 0)
            return true;
    return false;
}

static int usage(const ctl_args *a, const roster_err_detail *d)
{
    ctl_report_error(a->json, a->cmd->words, ROSTER_E_INVALID_ARGUMENT, d->message, NULL);
    return CTL_EXIT_USAGE;
}

/* One page, printed whole. */
static int one_page(const ctl_args *a, const ctl_listing *l, ctl_live *live, roster_arena *arena,
                    int32_t offset)
{
    ProtobufCMessage *reply = NULL;
    ctl_status st;
    int err = ctl_live_call(&reply, &st, live, l->method, l->req, arena);
    if (err != ROSTER_E_OK)
        return ctl_live_fail(a, a->cmd->words, err, &st);
    page_view p;
    page_read(&p, reply);
    json_t *data = page_data(l, &p, !a->json);
    if (data == NULL)
        return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
    if (a->json) {
        json_t *o = json_pack("{s:I, s:o, s:o}", "totalCount", (json_int_t)p.total, "data", data,
                              "pageInfo", page_info_json(p.has_next, p.end_cursor));
        if (o == NULL)
            return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        ctl_print_json(stdout, o);
        json_decref(o);
        return CTL_EXIT_OK;
    }
    if (json_array_size(data) > 0)
        ctl_print_table(stdout, data, l->columns);
    if (ctl_args_get(a, "after") != NULL)
        printf("%zu of %lld %s (after the cursor)\n", p.n, (long long)p.total, l->noun);
    else
        printf("%zu of %lld %s (offset %d)\n", p.n, (long long)p.total, l->noun, (int)offset);
    if (p.has_next && p.end_cursor != NULL)
        printf("next page: --after %s\n", p.end_cursor);
    json_decref(data);
    return CTL_EXIT_OK;
}

/* Every page from the request's position on, printed as each arrives. */
static int all_pages(const ctl_args *a, const ctl_listing *l, ctl_live *live, roster_arena *arena,
                     const ProtobufCFieldDescriptor *limit_f,
                     const ProtobufCFieldDescriptor *after_f)
{
    size_t widths[CTL_TABLE_MAX_COLUMNS] = {0};
    size_t printed = 0, pages = 0;
    int64_t total = 0;
    char cursor[ROSTER_MAX_CURSOR + 1] = "";
    bool has_cursor = false;
    const char *start = ctl_pbfield_str(l->req, after_f);
    if (start != NULL) {
        snprintf(cursor, sizeof cursor, "%s", start);
        has_cursor = true;
    }
    for (;;) {
        ProtobufCMessage *reply = NULL;
        ctl_status st;
        ctl_pbfield_set_str(l->req, after_f, has_cursor ? cursor : NULL);
        int err = ctl_live_call(&reply, &st, live, l->method, l->req, arena);
        if (err != ROSTER_E_OK && over_reply_limit(&st) && ctl_pbfield_int(l->req, limit_f) > 1) {
            ctl_pbfield_set_int(l->req, limit_f, ctl_pbfield_int(l->req, limit_f) / 2);
            roster_arena_reset(arena);
            continue;
        }
        if (err != ROSTER_E_OK) {
            fflush(stdout);
            return ctl_live_fail(a, a->cmd->words, err, &st);
        }
        page_view p;
        page_read(&p, reply);
        json_t *data = page_data(l, &p, !a->json);
        if (data == NULL)
            return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        if (pages++ == 0) {
            total = p.total;
            if (a->json) {
                printf("{\"totalCount\":%lld,\"data\":[", (long long)total);
            } else {
                ctl_table_widths(widths, data, l->columns);
                ctl_table_header(stdout, l->columns, widths);
            }
        }
        size_t i;
        json_t *rec;
        json_array_foreach(data, i, rec)
        {
            if (a->json) {
                if (printed > 0)
                    putchar(',');
                json_dumpf(rec, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
            } else {
                ctl_table_row(stdout, rec, l->columns, widths);
            }
            printed++;
        }
        json_decref(data);
        if (p.end_cursor != NULL) {
            snprintf(cursor, sizeof cursor, "%s", p.end_cursor);
            has_cursor = true;
        }
        bool more = p.has_next && p.end_cursor != NULL;
        roster_arena_reset(arena);
        if (!more)
            break;
    }
    if (a->json) {
        json_t *info = page_info_json(false, has_cursor ? cursor : NULL);
        char *s = info ? json_dumps(info, JSON_COMPACT) : NULL;
        json_decref(info);
        if (s == NULL)
            return ctl_live_fail(a, a->cmd->words, ROSTER_E_NOMEM, NULL);
        printf("],\"pageInfo\":%s}\n", s);
        free(s);
    } else {
        printf("%zu of %lld %s (every page, %zu by cursor)\n", printed, (long long)total, l->noun,
               pages);
    }
    return CTL_EXIT_OK;
}

int ctl_listing_run(const ctl_args *a, const ctl_listing *l)
{
    roster_err_detail d = {{0}};
    const ProtobufCMessageDescriptor *rd = l->req->descriptor;
    const ProtobufCFieldDescriptor *limit_f = field(rd, "limit"), *offset_f = field(rd, "offset"),
                                   *after_f = field(rd, "after");
    bool all = ctl_args_get(a, "all") != NULL;
    const char *v;
    int32_t n = 0, offset = 0;
    if ((v = ctl_args_get(a, "limit")) != NULL) {
        if (ctl_parse_count(&n, "limit", v, &d) != ROSTER_E_OK)
            return usage(a, &d);
        if (all && (n < 1 || n > ROSTER_MAX_PAGE)) {
            roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "limit",
                        "--limit with --all is the page size, 1 to %d", ROSTER_MAX_PAGE);
            return usage(a, &d);
        }
        ctl_pbfield_set_int(l->req, limit_f, n);
    } else if (all) {
        ctl_pbfield_set_int(l->req, limit_f, ROSTER_MAX_PAGE);
    }
    if ((v = ctl_args_get(a, "offset")) != NULL) {
        if (ctl_parse_count(&offset, "offset", v, &d) != ROSTER_E_OK)
            return usage(a, &d);
        if (all) {
            roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "offset",
                        "--all walks the pages by cursor: start it with --after, not --offset");
            return usage(a, &d);
        }
        ctl_pbfield_set_int(l->req, offset_f, offset);
    }
    ctl_pbfield_set_str(l->req, after_f, ctl_args_get(a, "after"));

    ctl_live live = {0};
    roster_arena arena;
    roster_arena_init(&arena, 0, 0);
    int code;
    int err = ctl_live_open(&live, a);
    if (err != ROSTER_E_OK)
        code = ctl_exit_code(err);
    else if (all)
        code = all_pages(a, l, &live, &arena, limit_f, after_f);
    else
        code = one_page(a, l, &live, &arena, offset);
    ctl_live_close(&live);
    roster_arena_free(&arena);
    return code;
}
