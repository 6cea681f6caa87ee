/* NNG_* codes as ROSTER_E_* codes, for the modules that meet nng directly
 * (the C client library, rosterctl's connection probe). A failure nng does
 * not say more about is ROSTER_E_UNAVAILABLE: the peer could not be used. */
#ifndef ROSTER_NNG_ERROR_H
#define ROSTER_NNG_ERROR_H

/* The ROSTER_E_* code for nng's result `rv` (0 gives ROSTER_E_OK). */
int roster_err_from_nng(int rv);

#endif
