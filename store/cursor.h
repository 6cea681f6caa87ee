/* List cursors (ListUsersRequest.after / ListTenantsRequest.after and
 * PageInfo.end_cursor): opaque text naming where a page ended, bound to the
 * query that made it.
 *
 * A cursor is the base64url text (no padding, RFC 4648 section 5) of
 *
 *   version(1)  CURSOR_VERSION
 *   shape(8)    the query's fingerprint (cursor_shape): kind of record,
 *               caller's scope, sort field, direction, filter and search
 *   pos(n)      the order key of the page's last record: its sort value
 *               encoded as the sort indexes encode it (nothing for
 *               createdAt, whose order is the id's) followed by its id
 *               (16 bytes); 16 <= n <= CURSOR_POS_MAX
 *   check(4)    a hash of every byte before it
 *
 * The order key is the tail of every index key the list plans walk (after
 * the database's prefix: 'g', or 't' and the scope, or the tenant of
 * idx_tenant) and the key the top-k plans compare, so a page continues by
 * seeking its index to prefix + pos and stepping past it, whatever the
 * depth. Cursors are checked, not signed: the hashes catch a cursor that
 * was cut, mangled or made for another query, while one crafted on
 * purpose can only choose where a page of the same query starts, which
 * an offset could do too. The hashes are FNV-1a (64-bit) with a final
 * mix; nothing here is secret. */
#ifndef ROSTER_STORE_CURSOR_H
#define ROSTER_STORE_CURSOR_H

#include "keys.h"

#include "arena.h"
#include "error.h"
#include "roster_limits.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CURSOR_VERSION 1
/* cursor_decode's value_type for an order by a customData path: any value
 * bytes (the index's own encoding, custom_index.h) before the id. */
#define CURSOR_VALUE_ANY (-2)
/* Longest order key: an index key less its longest prefix ('t' scope). */
#define CURSOR_POS_MAX (KEY_MAX - 17)

/* The fingerprint of a list query. `kind` tells users ('u') from tenants
 * ('t'); scope is the caller's (NULL: unrestricted); sort is the sort
 * field's index in its model record; filter and search are the request's
 * messages as sent (either may be NULL), hashed through their protobuf
 * encoding, so a cursor continues exactly the filter and search it came
 * from. limit, offset and field masks are not part of it. */
uint64_t cursor_shape(char kind, const roster_uuid *scope, int sort, bool desc,
                      const ProtobufCMessage *filter, const ProtobufCMessage *search);

/* Reads cursor `text` (NUL-terminated, borrowed), the `after` of a list
 * request whose offset is `offset`, made for a query of fingerprint
 * `shape`, into pos[0..*n) (pos holds CURSOR_POS_MAX bytes). value_type is
 * the model type (MODEL_T_*) of the sort field, -1 for createdAt, whose
 * order key is the id alone, or CURSOR_VALUE_ANY. INVALID_ARGUMENT with `detail` naming "after"
 * when the offset is not 0, or the text is longer than ROSTER_MAX_CURSOR,
 * does not decode, fails its check, has another version, holds an order
 * key that is not a value of that type and an id, or was made for a query
 * of another shape. *n is written only on success. */
int cursor_decode(uint8_t *pos, size_t *n, const char *text, int64_t offset, uint64_t shape,
                  int value_type, roster_err_detail *detail);

/* The cursor of order key pos[0..n) (n <= CURSOR_POS_MAX) for a query of
 * fingerprint `shape`, as NUL-terminated text in `arena`. ROSTER_E_NOMEM
 * when the arena cannot hold it. */
int cursor_encode(char **out, uint64_t shape, const uint8_t *pos, size_t n, roster_arena *arena);

/* Whether index key k comes strictly after key[0..kn) in a walk in the
 * given direction (keys compare as LMDB's default: bytes, then length). */
bool cursor_key_past(const MDB_val *k, const uint8_t *key, size_t kn, bool desc);

/* Positions c at the first entry strictly after key[0..kn) in a walk in
 * the given direction (ascending: the smallest greater key; descending:
 * the greatest smaller one) and fills *k, *v. Returns the MDB_* code of
 * the positioning: MDB_NOTFOUND when no entry is after it. */
int cursor_seek_after(MDB_cursor *c, const uint8_t *key, size_t kn, bool desc, MDB_val *k,
                      MDB_val *v);

#endif
