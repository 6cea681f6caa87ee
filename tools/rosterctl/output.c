#include "output.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

int ctl_exit_code(int err)
{
    switch (err) {
    case ROSTER_E_OK:
        return CTL_EXIT_OK;
    case ROSTER_E_NOT_FOUND:
        return CTL_EXIT_NOT_FOUND;
    case ROSTER_E_UNAVAILABLE:
    case ROSTER_E_CLOSED:
    case ROSTER_E_BUSY:
    case ROSTER_E_DEADLINE_EXCEEDED:
    case ROSTER_E_CANCELLED:
        return CTL_EXIT_UNAVAILABLE;
    case ROSTER_E_INVALID_ARGUMENT:
    case ROSTER_E_ALREADY_EXISTS:
    case ROSTER_E_FAILED_PRECONDITION:
    case ROSTER_E_OUT_OF_RANGE:
    case ROSTER_E_PROTOCOL:
    case ROSTER_E_LIMIT:
    case ROSTER_E_PARSE:
    case ROSTER_E_VALIDATION:
    case ROSTER_E_TOO_LARGE:
    case ROSTER_E_VERSION:
        return CTL_EXIT_INVALID;
    case ROSTER_E_PERMISSION_DENIED:
    case ROSTER_E_UNAUTHENTICATED:
        return CTL_EXIT_DENIED;
    default:
        return CTL_EXIT_INTERNAL;
    }
}

int ctl_print_json(FILE *f, const json_t *v)
{
    if (json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        return -1;
    if (fputc('\n', f) == EOF)
        return -1;
    return 0;
}

const char *ctl_cell_text(char *buf, size_t cap, const json_t *v)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        snprintf(buf, cap, "-");
    } else if (json_is_string(v)) {
        snprintf(buf, cap, "%s", json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, cap, "%s", s ? s : "?");
        free(s);
    }
    return buf;
}

/* Display width: UTF-8 code points. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void pad(FILE *f, const char *s, size_t w, bool last)
{
    fputs(s, f);
    if (last)
        return;
    for (size_t n = width(s); n < w + 2; n++)
        fputc(' ', f);
}

static size_t column_count(const char *const *columns)
{
    size_t ncols = 0;
    while (columns[ncols] && ncols < CTL_TABLE_MAX_COLUMNS)
        ncols++;
    return ncols;
}

void ctl_table_widths(size_t *widths, const json_t *records, const char *const *columns)
{
    size_t ncols = column_count(columns);
    char cell[512];
    for (size_t c = 0; c < ncols; c++)
        widths[c] = width(columns[c]);
    size_t i;
    const json_t *rec;
    json_array_foreach(records, i, rec)
    {
        for (size_t c = 0; c < ncols; c++) {
            size_t w = width(ctl_cell_text(cell, sizeof cell, json_object_get(rec, columns[c])));
            if (w > widths[c])
                widths[c] = w;
        }
    }
}

void ctl_table_header(FILE *f, const char *const *columns, const size_t *widths)
{
    size_t ncols = column_count(columns);
    for (size_t c = 0; c < ncols; c++)
        pad(f, columns[c], widths[c], c + 1 == ncols);
    fputc('\n', f);
}

void ctl_table_row(FILE *f, const json_t *rec, const char *const *columns, const size_t *widths)
{
    size_t ncols = column_count(columns);
    char cell[512];
    for (size_t c = 0; c < ncols; c++)
        pad(f, ctl_cell_text(cell, sizeof cell, json_object_get(rec, columns[c])), widths[c],
            c + 1 == ncols);
    fputc('\n', f);
}

void ctl_print_table(FILE *f, const json_t *records, const char *const *columns)
{
    size_t widths[CTL_TABLE_MAX_COLUMNS] = {0};
    ctl_table_widths(widths, records, columns);
    ctl_table_header(f, columns, widths);
    size_t i;
    const json_t *rec;
    json_array_foreach(records, i, rec)
    {
        ctl_table_row(f, rec, columns, widths);
    }
}

void ctl_print_object(FILE *f, const json_t *obj)
{
    size_t w = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strlen(key) > w)
            w = strlen(key);
    }
    char cell[20000];
    json_object_foreach((json_t *)obj, key, v)
    {
        fprintf(f, "%-*s  %s\n", (int)w, key, ctl_cell_text(cell, sizeof cell, v));
    }
}

void ctl_report_error(bool json, const char *what, int err, const char *message,
                      const json_t *violations)
{
    if (message == NULL || *message == '\0')
        message = roster_strerror(err);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "code", roster_errname(err), "message", message,
                              "command", what ? what : "");
        if (o != NULL && violations != NULL)
            json_object_set(o, "violations", (json_t *)violations);
        json_t *top = o ? json_pack("{s:o}", "error", o) : NULL;
        if (top != NULL)
            ctl_print_json(stderr, top);
        else
            fprintf(stderr, "rosterctl: %s: %s\n", what ? what : "", message);
        json_decref(top);
        return;
    }
    if (what && *what)
        fprintf(stderr, "rosterctl: %s: %s\n", what, message);
    else
        fprintf(stderr, "rosterctl: %s\n", message);
    size_t i;
    const json_t *vio;
    if (violations != NULL)
        json_array_foreach(violations, i, vio)
        {
            const char *field = json_string_value(json_object_get(vio, "field"));
            const char *desc = json_string_value(json_object_get(vio, "description"));
            if (desc != NULL && strcmp(desc, message) == 0)
                continue; /* already said */
            fprintf(stderr, "  %s: %s\n", field ? field : "", desc ? desc : "");
        }
}

void ctl_print_page(bool json, const json_t *data, int64_t total, int32_t offset, const char *noun,
                    const char *const *columns)
{
    if (json) {
        json_t *o = json_pack("{s:I, s:O}", "totalCount", (json_int_t)total, "data", data);
        ctl_print_json(stdout, o);
        json_decref(o);
        return;
    }
    if (json_array_size(data) > 0)
        ctl_print_table(stdout, data, columns);
    printf("%zu of %lld %s (offset %d)\n", json_array_size(data), (long long)total, noun,
           (int)offset);
}
