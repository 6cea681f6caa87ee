/* Output of rosterctl: human tables and key/value blocks built from the
 * same JSON records that --json prints, JSON printing, error reports on
 * stderr, and the mapping from project errors to exit codes. */
#ifndef ROSTERCTL_OUTPUT_H
#define ROSTERCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in --help and docs/rosterctl.md). */
enum {
    CTL_EXIT_OK = 0,
    CTL_EXIT_NOT_FOUND = 1, /* also: verify found a mismatch */
    CTL_EXIT_USAGE = 2,
    CTL_EXIT_UNAVAILABLE = 3,
    CTL_EXIT_INVALID = 4, /* invalid input, already exists, failed precondition */
    CTL_EXIT_INTERNAL = 5,
    CTL_EXIT_DENIED = 6, /* unauthenticated or permission denied */
};

/* The exit code for a ROSTER_E_* error. */
int ctl_exit_code(int err);

/* Prints `v` as one line of compact JSON (keys in insertion order) and a
 * newline. v is borrowed. Returns 0, or -1 when writing failed. */
int ctl_print_json(FILE *f, const json_t *v);

/* One cell's text for a JSON value: strings as is, null as "-", others as
 * compact JSON. Writes into buf (always NUL-terminated) and returns buf. */
const char *ctl_cell_text(char *buf, size_t cap, const json_t *v);

/* Prints a table: one header row of `columns` (NULL-terminated list of
 * keys), then one row per object of `records` (a JSON array, borrowed),
 * columns padded to the widest cell. */
void ctl_print_table(FILE *f, const json_t *records, const char *const *columns);

/* The parts of ctl_print_table, for a table printed as its rows arrive:
 * the widths (widths[CTL_TABLE_MAX_COLUMNS], caller's) of `columns` over
 * `records` (at least each column's name), the header row, and one row
 * (`rec` borrowed) padded to `widths`. Columns past the first
 * CTL_TABLE_MAX_COLUMNS are left out. */
#define CTL_TABLE_MAX_COLUMNS 32
void ctl_table_widths(size_t *widths, const json_t *records, const char *const *columns);
void ctl_table_header(FILE *f, const char *const *columns, const size_t *widths);
void ctl_table_row(FILE *f, const json_t *rec, const char *const *columns, const size_t *widths);

/* A list page: with json, {"totalCount":N,"data":[...]} on stdout;
 * otherwise a table of `columns` and "n of N <noun> (offset k)". */
void ctl_print_page(bool json, const json_t *data, int64_t total, int32_t offset, const char *noun,
                    const char *const *columns);

/* Prints an object as aligned "key  value" lines; nested objects print as
 * compact JSON. */
void ctl_print_object(FILE *f, const json_t *obj);

/* Reports an error on stderr: "rosterctl: <what>: <message>" plus one line
 * per violation {field, description} in `violations` (a JSON array or
 * NULL), or with json set, one JSON object
 * {"error":{"code":NAME,"message":...,"violations":[...]}}. `err` is a
 * ROSTER_E_* code. All arguments borrowed. */
void ctl_report_error(bool json, const char *what, int err, const char *message,
                      const json_t *violations);

#endif
