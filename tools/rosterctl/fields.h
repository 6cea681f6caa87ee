/* `--fields F1,F2,...`: the record fields a live read asks the service for
 * (the request's field_mask) and the columns a table shows. Field names
 * are the data model's (GraphQL names, src/model/model.h). */
#ifndef ROSTER_CTL_FIELDS_H
#define ROSTER_CTL_FIELDS_H

#include "error.h"
#include "model.h"

#include <jansson.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct ctl_fields {
    bool given;    /* --fields was given */
    uint64_t mask; /* field_mask bits, id included */
    /* The fields in the order given, NULL-terminated; static strings
     * (model field names). */
    const char *columns[MODEL_MAX_FIELDS + 1];
} ctl_fields;

/* Parses `list` (comma-separated field names of record r; NULL when the
 * option is absent: *out then says not given) into *out (caller storage).
 * ROSTER_E_OK, or ROSTER_E_INVALID_ARGUMENT with d naming "fields" and the
 * field that is unknown or repeated, or an empty list. */
int ctl_fields_parse(ctl_fields *out, const model_record *r, const char *list,
                     roster_err_detail *d);

/* Removes from o (a record of r as ctl_record_json makes it) the model
 * fields f did not ask for, so that they do not show as null. Nothing
 * when f was not given. */
void ctl_fields_trim(json_t *o, const model_record *r, const ctl_fields *f);

#endif
