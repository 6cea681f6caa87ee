/* One field of a protobuf-c message, read and written through its
 * descriptor (offset, quantifier offset, type), so that code walking the
 * data model (model.h) never names a struct member.
 *
 * Singular fields of proto2 messages are handled (and the repeated string
 * of ctl_pbfield_set_strs): optional scalars carry a has_ flag at
 * quantifier_offset, required ones are always present, strings and
 * sub-messages are present when their pointer is not NULL. Nothing here
 * allocates except ctl_pbfield_message, which allocates from the caller's
 * arena. */
#ifndef ROSTERCTL_PBFIELD_H
#define ROSTERCTL_PBFIELD_H

#include "arena.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

/* True when field f of m is set. */
bool ctl_pbfield_has(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Marks f absent: clears its has_ flag, or sets its pointer to NULL (the
 * old pointee is not freed: it belongs to whoever set it). */
void ctl_pbfield_clear(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* The string of a STRING field; NULL when absent. Borrowed from m. */
const char *ctl_pbfield_str(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Sets a STRING field to s (borrowed: it must outlive m's use); s == NULL
 * makes it absent. */
void ctl_pbfield_set_str(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *s);

/* The value of a BOOL, INT32, INT64 or ENUM field as an int64 (bool: 0 or
 * 1); 0 when absent (check ctl_pbfield_has). */
int64_t ctl_pbfield_int(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* Sets a BOOL, INT32, INT64 or ENUM field to v and marks it present. */
void ctl_pbfield_set_int(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int64_t v);

/* Sets a REPEATED STRING field to the n strings of `list` (borrowed, with
 * every string, for as long as m is used). */
void ctl_pbfield_set_strs(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char **list,
                          size_t n);

/* The sub-message of MESSAGE field f, created (initialised, allocated from
 * `arena`) when absent. NULL when out of memory. The result belongs to
 * the arena. */
ProtobufCMessage *ctl_pbfield_message(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                                      roster_arena *arena);

/* Copies singular field sf of src into field df of dst (same type; strings
 * and sub-messages are borrowed from src, not copied); absent stays
 * absent. */
void ctl_pbfield_copy(ProtobufCMessage *dst, const ProtobufCFieldDescriptor *df,
                      const ProtobufCMessage *src, const ProtobufCFieldDescriptor *sf);

/* The field of message descriptor d whose GraphQL (camelCase) name is the
 * `len` bytes at `name`; NULL when there is none. Static. */
const ProtobufCFieldDescriptor *ctl_pbfield_named(const ProtobufCMessageDescriptor *d,
                                                  const char *name, size_t len);

/* The GraphQL camelCase name of value v of enum e ("createdAt" for
 * USER_SORT_FIELD_CREATED_AT), written into buf (cap bytes, NUL-terminated,
 * truncated). Returns buf. */
const char *ctl_pbfield_enum_name(char *buf, size_t cap, const ProtobufCEnumDescriptor *e,
                                  const ProtobufCEnumValue *v);

#endif
