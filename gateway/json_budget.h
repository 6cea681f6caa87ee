/* JSON parsing with a memory budget. jansson allocates a node for every
 * value (dozens of bytes for an empty string or array), so a 1 MiB body
 * can become tens of MB as a tree; a bounded parse counts jansson's
 * allocations on the parsing thread and fails once they pass the budget,
 * before the tree is built. Allocations outside a bounded parse are not
 * counted. */
#ifndef ROSTER_GW_JSON_BUDGET_H
#define ROSTER_GW_JSON_BUDGET_H

#include <jansson.h>
#include <stddef.h>

/* Bytes one request's JSON (body or GET variables) may take as a tree. */
#define GW_JSON_MAX_MEMORY (4u * 1024u * 1024u)

/* json_loadb (buf borrowed for the call) counting what jansson allocates,
 * plus an allocator header per allocation, against `budget` bytes.
 * ROSTER_E_OK with *out (caller-owned, json_decref); ROSTER_E_LIMIT when
 * the budget ran out (nothing is kept); ROSTER_E_PARSE with *jerr filled
 * for malformed JSON. */
int gw_json_loadb_bounded(json_t **out, json_error_t *jerr, const char *buf, size_t len,
                          size_t flags, size_t budget);

#endif
