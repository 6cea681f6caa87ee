/* The load's fast line parser against the jansson path it stands in for,
 * shared by the unit suite (test_fastline.c) and the fuzz harness
 * (fuzz_args.c). */
#ifndef ROSTER_TEST_FASTLINE_CHECK_H
#define ROSTER_TEST_FASTLINE_CHECK_H

#include <stddef.h>

/* Reads the `len` bytes at `text` (borrowed for the call) as a load line,
 * user or tenant, with ctl_fastline_parse and with the path it stands in
 * for (json_loadb with JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, the
 * __typename, ctl_record_from_json). Returns 1 when the fast path read
 * the line and the other path read it too, into a record of the same type
 * that packs to the same bytes; 0 when the fast path did not read it; -1
 * when the fast path read it and the other path refused it or made
 * another record. */
int fastline_check(const char *text, size_t len);

#endif
