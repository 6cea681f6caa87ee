/* GraphQL <-> protobuf translation for the gateway, derived from the
 * protobuf-c descriptors of roster.proto and the served schema, joined by
 * name (protobuf first_name is GraphQL firstName, see model.h).
 *
 * Input: a root field's arguments become its request message. The plan for
 * that (which argument or input field fills which protobuf field, and how)
 * is built once at start by walking the request message's descriptor; a
 * request then only follows the plan. Output: the fields of the GraphQL
 * object types a reply message lands in are joined to the message's fields
 * once at start, and one resolver reads each field by its descriptor.
 *
 * The conventions, and where the wire contract and the schema differ, are
 * described at the top of translate.c. Everything built here is immutable
 * after start and shared between threads. */
#ifndef ROSTER_GW_TRANSLATE_H
#define ROSTER_GW_TRANSLATE_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "graphql.h"

/* The owner of every plan and output join built from it. */
typedef struct gw_xl gw_xl;

/* How the arguments of one root field become its request message; owned by
 * the gw_xl that built it. */
typedef struct gw_xl_msg gw_xl_msg;

/* Why a translation failed: the field the error names (extensions.field)
 * and the whole message, both NUL-terminated. */
typedef struct gw_xl_error {
    char field[96];
    char message[512];
} gw_xl_error;

/* An object type field that is not joined to a protobuf field because its
 * resolver is registered separately (UserModel.tenant, ...). */
typedef struct gw_xl_special {
    const char *type;
    const char *field;
} gw_xl_special;

/* ROSTER_E_OK with *out (free with gw_xl_free), or ROSTER_E_NOMEM. */
int gw_xl_new(gw_xl **out);

/* Frees every plan and join of x. Accepts NULL. Executions using them must
 * be gone first. */
void gw_xl_free(gw_xl *x);

/* Builds the plan turning the arguments of `root` (borrowed from its
 * schema, which must outlive x) into a `req` message. `reply` is the
 * method's reply message (it names the record in "a tenant's name cannot
 * be null"); `max_page` bounds the `limit` argument. ROSTER_E_OK with *out
 * (owned by x), ROSTER_E_INVALID_ARGUMENT when an argument or input field
 * has a type its protobuf field cannot hold, or ROSTER_E_NOMEM. Not
 * thread-safe: call at start only. */
int gw_xl_args_plan(const gw_xl_msg **out, gw_xl *x, const gql_field *root,
                    const ProtobufCMessageDescriptor *req, const ProtobufCMessageDescriptor *reply,
                    uint32_t max_page);

/* Translates the arguments of c by `plan` into a new request message in c's
 * memory (gql_alloc: valid until the execution completes). ROSTER_E_OK with
 * *out; ROSTER_E_INVALID_ARGUMENT with *err filled (the caller reports it
 * as BAD_USER_INPUT; c is not completed here); ROSTER_E_NOMEM when the
 * message itself could not be allocated. */
int gw_xl_args(ProtobufCMessage **out, gw_xl_error *err, gql_call *c, const gw_xl_msg *plan);

/* Sets optional bool field f (of m's message type) to v, with its has_. */
void gw_xl_set_bool(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int v);

/* Sets optional uint64 field f (of m's message type) to v, with its has_. */
void gw_xl_set_u64(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, uint64_t v);

/* Registers in t a resolver for every field of object type `type` that
 * joins a field of `desc`, and recursively for the object types of joined
 * message fields. Fields listed in specials (n entries, borrowed for the
 * call) are skipped; fields that join nothing are left unregistered. A
 * type is joined once: later calls for it must name the same message.
 * ROSTER_E_OK, ROSTER_E_INVALID_ARGUMENT (a field's GraphQL type cannot
 * show its protobuf field, or a type joined to two messages) or
 * ROSTER_E_NOMEM. At start only. */
int gw_xl_bind_object(gw_xl *x, gql_resolvers *t, const gql_type *type,
                      const ProtobufCMessageDescriptor *desc, const gw_xl_special *specials,
                      size_t n_specials);

#endif
