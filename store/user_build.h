/* The user records the write operations make, whatever the backend keeps
 * them in: the checks of a request that need no stored data (validation,
 * scope), and the new record a create or an update makes. The LMDB store
 * (users.c) and the PostgreSQL store (pg/) both build records here, so a
 * field added to the model is written the same way by both. */
#ifndef ROSTER_STORE_USER_BUILD_H
#define ROSTER_STORE_USER_BUILD_H

#include "error.h"
#include "roster.pb-c.h"
#include "uuid.h"

#include <stdbool.h>
#include <stdint.h>

/* Parses text id `text` (NULL: missing) into *out. INVALID_ARGUMENT
 * naming `field` ("id is required", "id is not a UUID ..."). */
int user_build_parse_id(roster_uuid *out, const char *text, const char *field,
                        roster_err_detail *detail);

/* The refusal of a user write whose tenant `tenant` does not exist:
 * NOT_FOUND naming the model's tenantId field, "tenant <id> does not
 * exist". Both backends answer it so (LMDB from its tenant lookup,
 * PostgreSQL from the row's foreign key). */
int user_build_tenant_missing(const roster_uuid *tenant, roster_err_detail *detail);

/* Checks create request req for a caller of `scope` (NULL: unrestricted):
 * validation, then the tenant: *has_tenant and *tenant are the tenant
 * named by tenantId, or the scope when tenantId is absent; *has_tenant
 * false means none was named (the default tenant applies, if any).
 * INVALID_ARGUMENT, PERMISSION_DENIED ("tenantId" outside the scope). */
int user_build_check_create(const roster_uuid *scope, const Roster__V1__CreateUserRequest *req,
                            roster_uuid *tenant, bool *has_tenant, roster_err_detail *detail);

/* Fills *u (initialised by the caller) as the new user of req: id `id`,
 * tenant `tenant` (NULL: none), createdAt = updatedAt = now, the
 * defaults (active true, isOptedIn and twoFactorEnabled false). Strings
 * are shared with req; the ids' text goes into id_text and tenant_text
 * (caller's buffers of ROSTER_UUID_TEXT_LEN + 1), which must outlive u. */
void user_build_create(Roster__V1__User *u, const Roster__V1__CreateUserRequest *req,
                       const roster_uuid *id, const roster_uuid *tenant, int64_t now, char *id_text,
                       char *tenant_text);

/* Checks update request req for a caller of `scope`: *id the user's id,
 * *cleared the model fields req clears (bit i: model_user.fields[i]),
 * *tenant the tenant req moves the user to when req->tenant_id is set.
 * INVALID_ARGUMENT, PERMISSION_DENIED ("tenantId"). */
int user_build_check_update(const roster_uuid *scope, const Roster__V1__UpdateUserRequest *req,
                            roster_uuid *id, uint32_t *cleared, roster_uuid *tenant,
                            roster_err_detail *detail);

/* Applies req to u (the stored user, unpacked; its strings may be
 * replaced by req's): fields present change, fields in `cleared` become
 * null, tenantId moves to *tenant (text in tenant_text, a caller's buffer
 * that must outlive u) when req->tenant_id is set, and updatedAt becomes
 * now, or stays when the stored one is later (a clock stepped back). */
void user_build_update(Roster__V1__User *u, const Roster__V1__UpdateUserRequest *req,
                       uint32_t cleared, const roster_uuid *tenant, char *tenant_text, int64_t now);

/* Checks complete record `user` for a restore: validation, createdAt
 * and updatedAt present; *id its id and, when *has_tenant, *tenant its
 * tenant. INVALID_ARGUMENT. */
int user_build_check_restore(const Roster__V1__User *user, roster_uuid *id, roster_uuid *tenant,
                             bool *has_tenant, roster_err_detail *detail);

/* *u = user with its ids in canonical text (id_text and tenant_text:
 * caller's buffers of ROSTER_UUID_TEXT_LEN + 1 that must outlive u),
 * tenant NULL when it has none. */
void user_build_restore(Roster__V1__User *u, const Roster__V1__User *user, const roster_uuid *id,
                        const roster_uuid *tenant, char *id_text, char *tenant_text);

#endif
