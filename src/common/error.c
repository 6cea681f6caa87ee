#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *message;
} error_table[] = {
#define ROSTER_ERR_ROW(name, status, msg) {#name, status, msg},
    ROSTER_ERROR_MAP(ROSTER_ERR_ROW)
#undef ROSTER_ERR_ROW
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
        return 2; /* UNKNOWN */
    return error_table[err].status;
}

int roster_err_from_status(int status)
{
    switch (status) {
    case 0:
        return ROSTER_E_OK;
    case 1:
        return ROSTER_E_CANCELLED;
    case 3:
        return ROSTER_E_INVALID_ARGUMENT;
    case 4:
        return ROSTER_E_DEADLINE_EXCEEDED;
    case 5:
        return ROSTER_E_NOT_FOUND;
    case 6:
        return ROSTER_E_ALREADY_EXISTS;
    case 7:
        return ROSTER_E_PERMISSION_DENIED;
    case 8:
        return ROSTER_E_RESOURCE_EXHAUSTED;
    case 9:
        return ROSTER_E_FAILED_PRECONDITION;
    case 11:
        return ROSTER_E_OUT_OF_RANGE;
    case 12:
        return ROSTER_E_UNIMPLEMENTED;
    case 14:
        return ROSTER_E_UNAVAILABLE;
    case 16:
        return ROSTER_E_UNAUTHENTICATED;
    default:
        return ROSTER_E_INTERNAL;
    }
}

const char *roster_status_name(int status)
{
    static const char *const names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    if (status < 0 || status >= (int)(sizeof names / sizeof names[0]))
        return "UNKNOWN";
    return names[status];
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
