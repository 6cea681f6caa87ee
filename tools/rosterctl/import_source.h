/* The records of an import file, one at a time, as UserModel JSON objects:
 * JSON Lines (one object per line, the dump format) or CSV (RFC 4180,
 * parsed with libcsv) whose header row names UserModel fields. */
#ifndef ROSTERCTL_IMPORT_SOURCE_H
#define ROSTERCTL_IMPORT_SOURCE_H

#include "error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ctl_import_source ctl_import_source;

/* Opens a source on `in` (borrowed; the caller closes it after
 * ctl_import_source_close). csv: CSV with a header row, else JSON Lines.
 * On success *out is owned by the caller. Errors: ROSTER_E_NOMEM. */
int ctl_import_source_open(ctl_import_source **out, FILE *in, bool csv);

/* What ctl_import_source_next found. */
typedef enum ctl_import_next {
    CTL_IMPORT_RECORD, /* *obj: a new reference the caller owns */
    CTL_IMPORT_BAD,    /* a record that cannot be one (d says why, naming the field) */
    CTL_IMPORT_END,    /* no more records */
    CTL_IMPORT_FATAL,  /* reading failed or the CSV header is unusable (d says why) */
} ctl_import_next;

/* The next record. *where is its position: the line of a JSON Lines file,
 * the row of a CSV file (the header is row 1; a row whose quoted cells
 * hold line breaks still counts as one). Blank lines are skipped. In CSV,
 * an empty cell leaves its field absent, booleans are true or false,
 * customData is the text of a JSON object. */
ctl_import_next ctl_import_source_next(ctl_import_source *s, json_t **obj, uint64_t *where,
                                       roster_err_detail *d);

/* Bytes of the input consumed so far (for progress). */
uint64_t ctl_import_source_bytes(const ctl_import_source *s);

/* Frees the source and any record it still holds. Accepts NULL. */
void ctl_import_source_close(ctl_import_source *s);

#endif
