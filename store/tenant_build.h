/* The tenant records the write operations make, whatever the backend
 * keeps them in: the checks of a request that need no stored data
 * (validation, scope), the new record a create, an update or a restore
 * makes, the previous default losing its mark, and the reasons a delete
 * is refused. The LMDB store (tenants.c) and the PostgreSQL store (pg/)
 * both build tenants here, so they write and refuse the same. */
#ifndef ROSTER_STORE_TENANT_BUILD_H
#define ROSTER_STORE_TENANT_BUILD_H

#include "arena.h"
#include "error.h"
#include "roster.pb-c.h"
#include "uuid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a tenant's text id (NULL: missing). INVALID_ARGUMENT naming
 * "id": "id is not a UUID (8-4-4-4-12 hex digits)". */
int tenant_build_parse_id(roster_uuid *out, const char *text, roster_err_detail *detail);

/* NOT_FOUND naming "id": "tenant <id_text> does not exist". */
int tenant_build_not_found(const char *id_text, roster_err_detail *detail);

/* Unpacks a stored tenant (bytes[0..len), borrowed for the call) into
 * `arena`. ROSTER_E_NOMEM when it does not unpack. */
int tenant_build_unpack(roster_arena *arena, const void *bytes, size_t len,
                        Roster__V1__Tenant **out);

/* Checks create request req of a caller of `scope` (NULL: unrestricted):
 * PERMISSION_DENIED for a tenant-bound caller, INVALID_ARGUMENT
 * (validation). */
int tenant_build_check_create(const roster_uuid *scope, const Roster__V1__CreateTenantRequest *req,
                              roster_err_detail *detail);

/* Fills *t (initialised by the caller) as the new tenant of req: id `id`
 * (its text into id_text, a caller's buffer of ROSTER_UUID_TEXT_LEN + 1
 * that must outlive t), createdAt = updatedAt = now, isDefault as req
 * asks (default false), always set. Strings are shared with req. */
void tenant_build_create(Roster__V1__Tenant *t, const Roster__V1__CreateTenantRequest *req,
                         const roster_uuid *id, int64_t now, char *id_text);

/* Checks update request req of a caller of `scope`; *id the tenant's id.
 * INVALID_ARGUMENT ("id", validation, "reference" both given and
 * cleared), NOT_FOUND ("id" outside the scope), PERMISSION_DENIED
 * ("isDefault" from a tenant-bound caller). */
int tenant_build_check_update(const roster_uuid *scope, const Roster__V1__UpdateTenantRequest *req,
                              roster_uuid *id, roster_err_detail *detail);

/* Applies req to t (the stored tenant, unpacked; its strings may be
 * replaced by req's): name, reference or its clearing, the default mark
 * when req has is_default, and updatedAt = now, or kept when the stored
 * one is later (a clock stepped back). */
void tenant_build_update(Roster__V1__Tenant *t, const Roster__V1__UpdateTenantRequest *req,
                         int64_t now);

/* The previous default tenant t losing its mark to another at `now`:
 * isDefault false, updatedAt now unless the stored one is later. */
void tenant_build_undefault(Roster__V1__Tenant *t, int64_t now);

/* Checks complete record `tenant` for a restore; *id its id.
 * INVALID_ARGUMENT ("id" not a UUID or the nil UUID, validation,
 * "createdAt" when createdAt or updatedAt is missing). */
int tenant_build_check_restore(const Roster__V1__Tenant *tenant, roster_uuid *id,
                               roster_err_detail *detail);

/* *t = tenant with its id in canonical text (id_text: a caller's buffer
 * of ROSTER_UUID_TEXT_LEN + 1 that must outlive t), user_count dropped
 * and isDefault always set. */
void tenant_build_restore(Roster__V1__Tenant *t, const Roster__V1__Tenant *tenant,
                          const roster_uuid *id, char *id_text);

/* ALREADY_EXISTS naming "id": "tenant <id_text> already exists". */
int tenant_build_exists(const char *id_text, roster_err_detail *detail);

/* Checks delete request req of a caller of `scope`: *id the tenant's id,
 * id_text (ROSTER_UUID_TEXT_LEN + 1 bytes) its canonical text, and, when
 * resp is not NULL, *resp the response naming it (in `arena`).
 * INVALID_ARGUMENT ("id"), PERMISSION_DENIED (a tenant-bound caller),
 * ROSTER_E_NOMEM. */
int tenant_build_check_delete(const roster_uuid *scope, const Roster__V1__DeleteTenantRequest *req,
                              roster_uuid *id, char *id_text, roster_arena *arena,
                              Roster__V1__DeleteTenantResponse **resp, roster_err_detail *detail);

/* The refusals of a delete, FAILED_PRECONDITION naming "id", checked in
 * this order: the tenant still has users (`users` from its counter, 0
 * when the counter says none but a user was found), is the default
 * tenant, is named by `keys` API keys that are not revoked (`example`
 * one of them). */
int tenant_build_refuse_users(const char *id_text, uint64_t users, roster_err_detail *detail);
int tenant_build_refuse_default(const char *id_text, roster_err_detail *detail);
int tenant_build_refuse_keys(const char *id_text, uint64_t keys, const roster_uuid *example,
                             roster_err_detail *detail);

#endif
