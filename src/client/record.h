/* Fixed-size nanopb records (User, Tenant) handled without touching their
 * whole 20 KiB: presence reset before a no-init decode, and copies of only
 * the fields present. */
#ifndef ROSTER_CLIENT_RECORD_H
#define ROSTER_CLIENT_RECORD_H

#include <pb_decode.h>

#include "roster.pb.h"

/* Decodes one User from `stream` into *u, which the caller owns; fields
 * absent from the bytes end up absent (has_ false). Same for Tenant. True
 * on success; on failure *u holds whatever was decoded. */
bool roster_record_decode_user(roster_v1_User *u, pb_istream_t *stream);
bool roster_record_decode_tenant(roster_v1_Tenant *t, pb_istream_t *stream);

/* Copies the present fields of src into dst (both caller-owned) and marks
 * the rest absent; string bytes past each NUL are not copied. */
void roster_record_copy_user(roster_v1_User *dst, const roster_v1_User *src);
void roster_record_copy_tenant(roster_v1_Tenant *dst, const roster_v1_Tenant *src);

#endif
