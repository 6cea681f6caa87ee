/* The checks a fuzz input gets as rosterctl --filter expressions, shared
 * by the rosterctl harness (fuzz_args.c) and the filter harness
 * (tests/fuzz/fuzz_ctl_filter.c). */
#ifndef ROSTER_TEST_FUZZ_FILTER_CHECK_H
#define ROSTER_TEST_FUZZ_FILTER_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* Parses text (NUL-terminated, borrowed for the call) as --filter
 * expressions of user (or, with `tenant`, tenant) fields: one per line, up
 * to 16; a single line is parsed twice, so the second parse meets the
 * first's condition. Aborts when an invariant breaks: a failed parse
 * leaves the filter as it was and names what was wrong
 * (INVALID_ARGUMENT or NOMEM only), a good one adds one condition, and
 * the filter always builds a ListUsersRequest / ListTenantsRequest that
 * packs, unpacks and packs again to the same bytes. */
void fuzz_ctl_filter(const char *text, bool tenant);

/* fuzz_ctl_filter on bytes[0..len) (borrowed for the call), up to its
 * first NUL. */
void fuzz_ctl_filter_bytes(const char *bytes, size_t len, bool tenant);

#endif
