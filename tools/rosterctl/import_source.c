#include "import_source.h"

#include "model.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSV_CHUNK (64 * 1024)

/* A CSV row turned into a record, waiting for ctl_import_source_next. */
typedef struct pending_row {
    json_t *obj; /* NULL when the row is bad */
    uint64_t where;
    roster_err_detail d;
} pending_row;

struct ctl_import_source {
    FILE *in;
    bool csv;
    uint64_t bytes;
    uint64_t line; /* JSON Lines: lines read; CSV: rows completed */
    char *buf;     /* JSON Lines: getline's buffer */
    size_t buf_cap;
    /* CSV */
    struct csv_parser parser;
    bool parser_ready, at_end;
    const model_field **columns; /* the header's fields, in column order */
    size_t n_columns;
    bool header_done;
    bool fatal;
    roster_err_detail fatal_detail;
    json_t *row;      /* the record being built from the current row */
    size_t row_cells; /* cells seen in the current row */
    bool row_bad;     /* a cell of the current row was refused */
    roster_err_detail row_detail;
    pending_row *queue; /* completed rows */
    size_t q_head, q_len, q_cap;
};

int ctl_import_source_open(ctl_import_source **out, FILE *in, bool csv)
{
    ctl_import_source *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    s->in = in;
    s->csv = csv;
    if (csv) {
        if (csv_init(&s->parser, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
            free(s);
            return ROSTER_E_NOMEM;
        }
        s->parser_ready = true;
    }
    *out = s;
    return ROSTER_E_OK;
}

void ctl_import_source_close(ctl_import_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = s->q_head; i < s->q_len; i++)
        json_decref(s->queue[i].obj);
    free(s->queue);
    json_decref(s->row);
    free(s->columns);
    free(s->buf);
    if (s->parser_ready)
        csv_free(&s->parser);
    free(s);
}

uint64_t ctl_import_source_bytes(const ctl_import_source *s)
{
    return s->bytes;
}

/* ------------------------------------------------------------ JSON Lines */

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    return true;
}

static ctl_import_next next_line(ctl_import_source *s, json_t **obj, uint64_t *where,
                                 roster_err_detail *d)
{
    for (;;) {
        ssize_t n = getline(&s->buf, &s->buf_cap, s->in);
        if (n < 0) {
            if (ferror(s->in)) {
                roster_fail(d, ROSTER_E_IO, "", "reading the input failed after line %llu",
                            (unsigned long long)s->line);
                return CTL_IMPORT_FATAL;
            }
            return CTL_IMPORT_END;
        }
        s->bytes += (uint64_t)n;
        s->line++;
        if (blank(s->buf, (size_t)n))
            continue;
        *where = s->line;
        json_error_t je;
        json_t *v = json_loadb(s->buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        if (v == NULL) {
            roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "not JSON: %s (column %d)", je.text,
                        je.column);
            return CTL_IMPORT_BAD;
        }
        if (!json_is_object(v)) {
            json_decref(v);
            roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "", "a line must hold a JSON object");
            return CTL_IMPORT_BAD;
        }
        *obj = v;
        return CTL_IMPORT_RECORD;
    }
}

/* ------------------------------------------------------------ CSV */

static void fail_header(ctl_import_source *s, const char *fmt, const char *name, size_t column)
{
    if (s->fatal)
        return;
    s->fatal = true;
    roster_fail(&s->fatal_detail, ROSTER_E_INVALID_ARGUMENT, "", fmt, column + 1, name);
}

static void header_cell(ctl_import_source *s, const char *text, size_t len)
{
    const model_field *f = model_field_named(&model_user, text, len);
    if (f == NULL) {
        fail_header(s, "CSV header column %zu \"%s\" is not a UserModel field", text, s->n_columns);
        return;
    }
    for (size_t i = 0; i < s->n_columns; i++)
        if (s->columns[i] == f) {
            fail_header(s, "CSV header column %zu \"%s\" names a field twice", text, s->n_columns);
            return;
        }
    const model_field **c = realloc(s->columns, (s->n_columns + 1) * sizeof *c);
    if (c == NULL) {
        fail_header(s, "out of memory at CSV header column %zu (%s)", text, s->n_columns);
        return;
    }
    s->columns = c;
    s->columns[s->n_columns++] = f;
}

static void row_refuse(ctl_import_source *s, int err, const char *field, const char *fmt,
                       const char *text)
{
    if (s->row_bad)
        return;
    s->row_bad = true;
    roster_fail(&s->row_detail, err, field, fmt, field, text);
}

/* One cell of a data row: its field's JSON value in s->row. */
static void data_cell(ctl_import_source *s, const char *text, size_t len)
{
    size_t col = s->row_cells;
    if (s->fatal || col >= s->n_columns || s->row_bad || len == 0)
        return; /* extra cells are refused at the row's end */
    const model_field *f = s->columns[col];
    if (s->row == NULL && (s->row = json_object()) == NULL) {
        row_refuse(s, ROSTER_E_NOMEM, f->name, "%s: out of memory%s", "");
        return;
    }
    json_t *v = NULL;
    switch (f->type) {
    case MODEL_T_BOOL:
        if (strcasecmp(text, "true") == 0)
            v = json_true();
        else if (strcasecmp(text, "false") == 0)
            v = json_false();
        else
            return row_refuse(s, ROSTER_E_INVALID_ARGUMENT, f->name,
                              "%s must be true or false, not \"%.64s\"", text);
        break;
    case MODEL_T_JSON: {
        json_error_t je;
        v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(v)) {
            json_decref(v);
            return row_refuse(s, ROSTER_E_INVALID_ARGUMENT, f->name,
                              "%s must be the text of a JSON object, not \"%.64s\"", text);
        }
        break;
    }
    default:
        v = json_stringn(text, len);
        if (v == NULL)
            return row_refuse(s, ROSTER_E_INVALID_ARGUMENT, f->name,
                              "%s is not UTF-8 text: \"%.64s\"", text);
        break;
    }
    if (json_object_set_new(s->row, f->name, v) != 0)
        row_refuse(s, ROSTER_E_NOMEM, f->name, "%s: out of memory%s", "");
}

static void on_cell(void *cell, size_t len, void *arg)
{
    ctl_import_source *s = arg;
    const char *text = cell != NULL ? cell : "";
    if (!s->header_done)
        header_cell(s, text, len);
    else
        data_cell(s, text, len);
    s->row_cells++;
}

static bool queue_push(ctl_import_source *s, json_t *obj, uint64_t where,
                       const roster_err_detail *d)
{
    if (s->q_head == s->q_len)
        s->q_head = s->q_len = 0;
    if (s->q_len == s->q_cap) {
        size_t cap = s->q_cap ? s->q_cap * 2 : 64;
        pending_row *q = realloc(s->queue, cap * sizeof *q);
        if (q == NULL)
            return false;
        s->queue = q;
        s->q_cap = cap;
    }
    pending_row *p = &s->queue[s->q_len++];
    p->obj = obj;
    p->where = where;
    if (d != NULL)
        p->d = *d;
    return true;
}

static void on_row(int c, void *arg)
{
    (void)c;
    ctl_import_source *s = arg;
    s->line++;
    if (!s->header_done) {
        s->header_done = true;
        if (s->n_columns == 0 && !s->fatal) {
            s->fatal = true;
            roster_fail(&s->fatal_detail, ROSTER_E_INVALID_ARGUMENT, "",
                        "the CSV header row names no field");
        }
        s->row_cells = 0;
        return;
    }
    if (s->fatal) { /* an unusable header: no row is read */
        json_decref(s->row);
        s->row = NULL;
        s->row_bad = false;
        s->row_cells = 0;
        return;
    }
    if (!s->row_bad && s->row_cells != s->n_columns) {
        s->row_bad = true;
        roster_fail(&s->row_detail, ROSTER_E_INVALID_ARGUMENT, "",
                    "the row has %zu cells, the header %zu", s->row_cells, s->n_columns);
    }
    json_t *obj = s->row_bad ? NULL : (s->row != NULL ? s->row : json_object());
    if (s->row_bad)
        json_decref(s->row);
    s->row = NULL;
    if (!queue_push(s, obj, s->line, s->row_bad ? &s->row_detail : NULL)) {
        json_decref(obj);
        s->fatal = true;
        roster_fail(&s->fatal_detail, ROSTER_E_NOMEM, "", "out of memory at row %llu",
                    (unsigned long long)s->line);
    }
    s->row_bad = false;
    s->row_cells = 0;
}

/* Parses more of the input until a row is queued, the input ends, or a
 * fatal error. */
static void csv_fill(ctl_import_source *s)
{
    char chunk[CSV_CHUNK];
    while (s->q_head == s->q_len && !s->at_end && !s->fatal) {
        size_t n = fread(chunk, 1, sizeof chunk, s->in);
        if (n > 0) {
            s->bytes += n;
            if (csv_parse(&s->parser, chunk, n, on_cell, on_row, s) != n) {
                s->fatal = true;
                roster_fail(&s->fatal_detail, ROSTER_E_INVALID_ARGUMENT, "",
                            "CSV does not parse after row %llu: %s", (unsigned long long)s->line,
                            csv_strerror(csv_error(&s->parser)));
            }
            continue;
        }
        if (ferror(s->in)) {
            s->fatal = true;
            roster_fail(&s->fatal_detail, ROSTER_E_IO, "",
                        "reading the input failed after row %llu", (unsigned long long)s->line);
            return;
        }
        s->at_end = true;
        if (csv_fini(&s->parser, on_cell, on_row, s) != 0) {
            s->fatal = true;
            roster_fail(&s->fatal_detail, ROSTER_E_INVALID_ARGUMENT, "",
                        "CSV ends inside a quoted cell after row %llu",
                        (unsigned long long)s->line);
        }
    }
}

static ctl_import_next next_row(ctl_import_source *s, json_t **obj, uint64_t *where,
                                roster_err_detail *d)
{
    csv_fill(s);
    if (s->q_head < s->q_len) {
        pending_row *p = &s->queue[s->q_head++];
        *where = p->where;
        if (p->obj == NULL) {
            *d = p->d;
            return CTL_IMPORT_BAD;
        }
        *obj = p->obj;
        p->obj = NULL;
        return CTL_IMPORT_RECORD;
    }
    if (s->fatal) {
        *d = s->fatal_detail;
        return CTL_IMPORT_FATAL;
    }
    return CTL_IMPORT_END;
}

ctl_import_next ctl_import_source_next(ctl_import_source *s, json_t **obj, uint64_t *where,
                                       roster_err_detail *d)
{
    return s->csv ? next_row(s, obj, where, d) : next_line(s, obj, where, d);
}
