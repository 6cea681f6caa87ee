/* The API key records the key operations make, whatever the backend
 * keeps them in (store.h, "API keys"): the checks of a request, minting
 * a secret into a new or rotated record, revocation and last use, and
 * the decision that turns a presented key and its stored record into a
 * principal or a refusal. The LMDB store (apikeys.c) and the PostgreSQL
 * store (pg/) both use it, so they answer the same, messages included.
 *
 * Records unpacked here hold the secret hashes; every one that leaves
 * the store goes through apikey_build_clear_hashes first. */
#ifndef ROSTER_STORE_APIKEY_BUILD_H
#define ROSTER_STORE_APIKEY_BUILD_H

#include "store.h"

#include "apikey.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define APIKEY_NAME_MAX 255

/* Parses a key's text id `id` (NULL: missing). INVALID_ARGUMENT naming
 * "id" ("id is required", "id is not a UUID ..."). */
int apikey_build_parse_id(roster_uuid *out, const char *id, roster_err_detail *detail);

/* NOT_FOUND naming "id": "no key with id <id_text>" (at most 40 bytes of
 * it). */
int apikey_build_not_found(const char *id_text, roster_err_detail *detail);

/* Unpacks a stored key (bytes[0..len), borrowed for the call) into
 * `arena`, hashes included. ROSTER_E_CORRUPT when it does not unpack. */
int apikey_build_unpack(roster_arena *arena, const void *bytes, size_t len,
                        Roster__V1__ApiKey **out);

/* Wipes and drops the hashes of k (a record about to leave the store, or
 * to be freed). */
void apikey_build_clear_hashes(Roster__V1__ApiKey *k);

/* Checks create request req at `now` (Unix ms): name, role, tenantId,
 * expiresAt. *has_tenant and *tenant: the tenant a writer or reader key
 * names. INVALID_ARGUMENT as store_key_create. */
int apikey_build_check_create(const Roster__V1__CreateKeyRequest *req, int64_t now,
                              roster_uuid *tenant, bool *has_tenant, roster_err_detail *detail);

/* Checks complete key record k for a restore (a copy from another
 * store): its id (*id), a name, a known role, a tenant for writer and
 * reader keys and none for admin keys, a 32-byte secret hash and a
 * previous one of 0 or 32 bytes. INVALID_ARGUMENT naming the field. */
int apikey_build_check_restore(const Roster__V1__ApiKey *k, roster_uuid *id,
                               roster_err_detail *detail);

/* NOT_FOUND naming "tenantId": the tenant req names does not exist. */
int apikey_build_tenant_missing(const Roster__V1__CreateKeyRequest *req, roster_err_detail *detail);

/* The new key of checked request req: id `id`, tenant `tenant` (NULL for
 * an admin key), created at `now`, a new secret. *key (hashes included,
 * to be stored) and *secret (whose key is not yet set) live in `arena`;
 * the caller stores *key, then clears its hashes, sets (*secret)->key and
 * wipes (*secret)->secret if the store fails. ROSTER_E_NOMEM,
 * ROSTER_E_INTERNAL (no random bytes). */
int apikey_build_create(roster_arena *arena, const Roster__V1__CreateKeyRequest *req,
                        const roster_uuid *id, const roster_uuid *tenant, int64_t now,
                        Roster__V1__ApiKey **key, Roster__V1__KeySecret **secret);

/* Checks rotate request req: *id the key, *grace the grace period in
 * seconds. INVALID_ARGUMENT ("id", "graceSeconds"). */
int apikey_build_check_rotate(const Roster__V1__RotateKeyRequest *req, roster_uuid *id,
                              uint32_t *grace, roster_err_detail *detail);

/* Rotates stored key k (unpacked in `arena`, id `id`, text id id_text)
 * at `now`: FAILED_PRECONDITION ("id") when it is revoked; otherwise the
 * current secret's hash becomes the previous one, valid for `grace`
 * seconds, and a new secret is minted into k (hash) and *secret (text),
 * in `arena`. Ownership as apikey_build_create's. */
int apikey_build_rotate(roster_arena *arena, Roster__V1__ApiKey *k, const roster_uuid *id,
                        const char *id_text, uint32_t grace, int64_t now,
                        Roster__V1__KeySecret **secret, roster_err_detail *detail);

/* Revokes k at `now`; false (k unchanged) when it already was. */
bool apikey_build_revoke(Roster__V1__ApiKey *k, int64_t now);

/* Records a use of k at `when`; false (k unchanged) unless that is later
 * than the last use recorded. */
bool apikey_build_touch(Roster__V1__ApiKey *k, int64_t when);

/* Whether k is not revoked and names `tenant`. */
bool apikey_build_live_for(const Roster__V1__ApiKey *k, const roster_uuid *tenant);

/* Parses presented key text (`len` bytes, borrowed for the call) into
 * its id and the hash of its secret (the caller wipes it).
 * UNAUTHENTICATED ("credential", "malformed key"). */
int apikey_build_parse_text(roster_uuid *id, uint8_t hash[ROSTER_APIKEY_HASH_LEN], const char *text,
                            size_t len, roster_err_detail *detail);

/* The decision on a presented key of id `id` whose secret hashes to
 * `hash`, given its stored record k (NULL: no such key) at `now`: *out
 * the principal, or UNAUTHENTICATED ("credential") with the reasons of
 * store_key_authenticate; CORRUPT for a record no key could have. Both
 * hashes are compared whatever the first gives. */
int apikey_build_authenticate(const Roster__V1__ApiKey *k, const roster_uuid *id,
                              const uint8_t hash[ROSTER_APIKEY_HASH_LEN], int64_t now,
                              store_principal *out, roster_err_detail *detail);

/* The principal of stored key k (NULL: no such key) of id `id` at `now`
 * without a secret, as store_key_principal. */
int apikey_build_principal(const Roster__V1__ApiKey *k, const roster_uuid *id, int64_t now,
                           store_principal *out, roster_err_detail *detail);

#endif
