#include "fields.h"

#include "field_mask.h"

#include <stdio.h>
#include <string.h>

int ctl_fields_parse(ctl_fields *out, const model_record *r, const char *list, roster_err_detail *d)
{
    ctl_fields f;
    memset(&f, 0, sizeof f);
    if (list == NULL) {
        *out = f;
        return ROSTER_E_OK;
    }
    f.given = true;
    f.mask = field_mask_of(r, 1, 0);
    size_t n = 0;
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const model_field *mf = model_field_named(r, p, len);
        if (mf == NULL) {
            char names[200] = "";
            for (size_t i = 0, at = 0; i < r->n_fields && at < sizeof names; i++)
                at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? " " : "",
                                       r->fields[i].name);
            return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "fields",
                               "--fields: a %s has no field \"%.*s\"; its fields: %s", r->name,
                               (int)(len > 64 ? 64 : len), p, names);
        }
        for (size_t i = 0; i < n; i++)
            if (f.columns[i] == mf->name)
                return roster_fail(d, ROSTER_E_INVALID_ARGUMENT, "fields",
                                   "--fields: %s is named twice", mf->name);
        f.columns[n++] = mf->name;
        f.mask |= field_mask_bit(r, mf);
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = f;
    return ROSTER_E_OK;
}

void ctl_fields_trim(json_t *o, const model_record *r, const ctl_fields *f)
{
    if (!f->given)
        return;
    for (size_t i = 0; i < r->n_fields; i++)
        if ((f->mask & field_mask_bit(r, &r->fields[i])) == 0)
            json_object_del(o, r->fields[i].name);
}
