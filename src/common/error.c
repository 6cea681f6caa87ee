#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *message;
} error_table[] = {
#define ROSTER_ERR_ROW(name, status, msg) {#name, ROSTER_STATUS_##status, msg},
    ROSTER_ERROR_MAP(ROSTER_ERR_ROW)
#undef ROSTER_ERR_ROW
};

/* Indexed by number; a number past ROSTER_STATUS__COUNT (a gap in the
 * table) would not compile. */
static const char *const status_names[ROSTER_STATUS__COUNT] = {
#define ROSTER_STATUS_ROW(name, number) [number] = #name,
    ROSTER_STATUS_MAP(ROSTER_STATUS_ROW)
#undef ROSTER_STATUS_ROW
};

const char *roster_strerror(int err)
{
    if (err < 0 || err >= ROSTER_E__COUNT)
        return "unknown error";
    return error_table[err].message;
}

const char *roster_errname(int err)
{
    if (err < 0 || err >= ROSTER_E__COUNT)
        return "UNKNOWN";
    return error_table[err].name;
}

int roster_err_to_status(int err)
{
    if (err < 0 || err >= ROSTER_E__COUNT)
        return ROSTER_STATUS_UNKNOWN;
    return error_table[err].status;
}

int roster_err_from_status(int status)
{
    for (int err = 0; err < ROSTER_E__COUNT; err++)
        if (error_table[err].status == status)
            return err;
    return ROSTER_E_INTERNAL;
}

bool roster_status_valid(int status)
{
    return status >= 0 && status < ROSTER_STATUS__COUNT;
}

const char *roster_status_name(int status)
{
    if (!roster_status_valid(status) || status_names[status] == NULL)
        return "UNKNOWN";
    return status_names[status];
}

int roster_fail(roster_err_detail *d, int err, const char *field, const char *fmt, ...)
{
    if (d == NULL)
        return err;
    snprintf(d->field, sizeof d->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    return err;
}
