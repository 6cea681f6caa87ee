/* Records (users, tenants) as JSON objects with the GraphQL field names of
 * schema.graphql (UserModel, TenantModel): the --json output, the human
 * tables, and the JSON Lines of dump and load.
 *
 * One codec serves every record: it walks the data model (model.h) in its
 * order, finds each field's protobuf-c descriptor with model_pb_field and
 * reads or writes the value through it (pbfield.h). The model type says
 * how a value looks in JSON: text as a string, booleans as true/false,
 * dates (int64 Unix milliseconds) as ISO-8601 UTC with milliseconds,
 * customData (the text of a JSON object) as the object itself.
 *
 * Every field is present in the objects made here (null when unset; a
 * boolean the schema makes non-null prints false) and in model order, so a
 * dump is byte-stable. */
#ifndef ROSTERCTL_RECORD_H
#define ROSTERCTL_RECORD_H

#include "arena.h"
#include "error.h"
#include "model.h"

#include <jansson.h>
#include <stdbool.h>

/* A new JSON object for record m, a message of type r->pb. With
 * `typename`, the first key is "__typename": r->gql_type. A customData text
 * that is not valid JSON is kept as a JSON string. On success *out is a
 * new reference owned by the caller. Errors: ROSTER_E_NOMEM. */
int ctl_record_json(json_t **out, const model_record *r, const ProtobufCMessage *m, bool typename);

/* Fills *out, a message of type r->pb (initialised here; caller storage),
 * from a UserModel / TenantModel object. Strings borrow from `obj`, which
 * must outlive *out; customData is re-encoded into `arena`. Keys in
 * `ignored` (NULL-terminated, may be NULL) and "__typename" are skipped.
 * Unknown keys, wrong JSON types and malformed dates are
 * ROSTER_E_INVALID_ARGUMENT with d naming the field. Required-field and
 * value rules are left to the store. *out is written only on success. */
int ctl_record_from_json(ProtobufCMessage *out, const model_record *r, const json_t *obj,
                         const char *const *ignored, roster_arena *arena, roster_err_detail *d);

/* Initialises *req, a message of type `desc` (caller storage), and copies
 * into it each field of record `rec` (a message of type r->pb) that desc
 * has under the same name: a record turned into its create or update
 * request. Strings are borrowed from rec. */
void ctl_record_to_request(ProtobufCMessage *req, const ProtobufCMessageDescriptor *desc,
                           const model_record *r, const ProtobufCMessage *rec);

/* Record r from its stored protobuf encoding, unpacked into `arena` (the
 * result lives as long as the arena's contents). ROSTER_E_CORRUPT when the
 * bytes do not decode. */
int ctl_record_unpack(ProtobufCMessage **out, const model_record *r, const void *bytes, size_t len,
                      roster_arena *arena);

#endif
