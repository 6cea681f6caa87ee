#include "nng_error.h"

#include "error.h"

#include <nng/nng.h>

int roster_err_from_nng(int rv)
{
    switch (rv) {
    case 0:
        return ROSTER_E_OK;
    case NNG_ETIMEDOUT:
        return ROSTER_E_DEADLINE_EXCEEDED;
    case NNG_ECLOSED:
        return ROSTER_E_CLOSED;
    case NNG_ENOMEM:
        return ROSTER_E_NOMEM;
    case NNG_EMSGSIZE:
        return ROSTER_E_TOO_LARGE;
    case NNG_ECANCELED:
        return ROSTER_E_CANCELLED;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
    case NNG_ENOENT:
        return ROSTER_E_INVALID_ARGUMENT;
    case NNG_EPEERAUTH:
        return ROSTER_E_UNAUTHENTICATED;
    case NNG_EPERM:
        return ROSTER_E_PERMISSION_DENIED;
    default:
        return ROSTER_E_UNAVAILABLE;
    }
}
