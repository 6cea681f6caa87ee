#include "jwt.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "b64url.h"

#define SIG_LEN 64 /* Ed25519 */
/* Decoded header or claims: far below the token's own limit. */
#define PART_MAX ROSTER_JWT_MAX_LEN

bool roster_jwt_shaped(const char *text, size_t len)
{
    if (text == NULL || len < 8 || len > ROSTER_JWT_MAX_LEN || memcmp(text, "eyJ", 3) != 0)
        return false;
    size_t dots = 0;
    for (size_t i = 0; i < len; i++)
        dots += text[i] == '.';
    return dots == 2;
}

int roster_jwt_kid(char kid[ROSTER_JWT_KID_LEN + 1], EVP_PKEY *key)
{
    uint8_t raw[32], h[ROSTER_APIKEY_HASH_LEN];
    size_t n = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1 || n != sizeof raw ||
        roster_sha256(h, raw, n) != ROSTER_E_OK)
        return ROSTER_E_INTERNAL;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < ROSTER_JWT_KID_LEN / 2; i++) {
        kid[2 * i] = hex[h[i] >> 4];
        kid[2 * i + 1] = hex[h[i] & 15];
    }
    kid[ROSTER_JWT_KID_LEN] = '\0';
    return ROSTER_E_OK;
}

/* Appends base64url of `len` bytes at out + *n when it fits in cap. */
static bool put_b64(char *out, size_t *n, size_t cap, const void *in, size_t len)
{
    if (*n + ROSTER_B64URL_LEN(len) > cap)
        return false;
    *n += roster_b64url_encode(out + *n, in, len);
    return true;
}

int roster_jwt_sign(char out[ROSTER_JWT_MAX_LEN + 1], size_t *len, const roster_jwt_claims *c,
                    EVP_PKEY *key)
{
    char hdr[96], body[512];
    char key_id[ROSTER_UUID_TEXT_LEN + 1], env[ROSTER_UUID_TEXT_LEN + 1];
    char sub[ROSTER_UUID_TEXT_LEN + 1], tid[ROSTER_UUID_TEXT_LEN + 1];
    roster_uuid_format(key_id, &c->key_id);
    roster_uuid_format(env, &c->env);
    roster_uuid_format(sub, c->is_user ? &c->user : &c->key_id);
    if (c->has_tenant)
        roster_uuid_format(tid, &c->tenant);
    int hl =
        snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}", c->kid);
    int bl = snprintf(body, sizeof body,
                      "{\"iss\":\"roster\",\"sub\":\"%s\",\"key\":\"%s\",\"env\":\"%s\","
                      "\"role\":\"%s\"%s%s%s,\"iat\":%lld,\"exp\":%lld}",
                      sub, key_id, env, c->is_user ? "user" : c->role,
                      c->has_tenant ? ",\"tid\":\"" : "", c->has_tenant ? tid : "",
                      c->has_tenant ? "\"" : "", (long long)c->iat, (long long)c->exp);
    if (hl < 0 || (size_t)hl >= sizeof hdr || bl < 0 || (size_t)bl >= sizeof body)
        return ROSTER_E_INTERNAL;
    char buf[ROSTER_JWT_MAX_LEN + 1];
    size_t n = 0;
    uint8_t sig[SIG_LEN];
    size_t sig_len = sizeof sig;
    if (!put_b64(buf, &n, ROSTER_JWT_MAX_LEN, hdr, (size_t)hl))
        return ROSTER_E_INTERNAL;
    buf[n++] = '.';
    if (!put_b64(buf, &n, ROSTER_JWT_MAX_LEN, body, (size_t)bl))
        return ROSTER_E_INTERNAL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)buf, n) == 1 && sig_len == SIG_LEN;
    EVP_MD_CTX_free(md);
    if (!ok || n + 1 > ROSTER_JWT_MAX_LEN)
        return ROSTER_E_INTERNAL;
    buf[n++] = '.';
    if (!put_b64(buf, &n, ROSTER_JWT_MAX_LEN, sig, sig_len))
        return ROSTER_E_INTERNAL;
    buf[n] = '\0';
    memcpy(out, buf, n + 1);
    *len = n;
    return ROSTER_E_OK;
}

/* The three parts of a token: [start, end) offsets into its text. */
typedef struct parts {
    size_t h_end, p_start, p_end, s_start;
} parts;

static bool split(parts *out, const char *text, size_t len)
{
    if (!roster_jwt_shaped(text, len))
        return false;
    const char *d1 = memchr(text, '.', len);
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - text));
    out->h_end = (size_t)(d1 - text);
    out->p_start = out->h_end + 1;
    out->p_end = (size_t)(d2 - text);
    out->s_start = out->p_end + 1;
    return true;
}

static json_t *part_json(const char *b64, size_t len)
{
    uint8_t raw[PART_MAX];
    size_t n = 0;
    if (len > sizeof raw * 4 / 3 || !roster_b64url_decode(raw, &n, b64, len))
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static bool get_uuid(roster_uuid *out, json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_string(v) &&
           roster_uuid_parse(out, json_string_value(v), json_string_length(v)) == ROSTER_E_OK;
}

static bool get_time(int64_t *out, json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

int roster_jwt_decode(roster_jwt_claims *out, const char *text, size_t len,
                      roster_err_detail *detail)
{
    parts p;
    if (!split(&p, text, len))
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "not a token");
    roster_jwt_claims c;
    memset(&c, 0, sizeof c);
    const char *why = NULL;
    json_t *h = part_json(text, p.h_end);
    json_t *b = part_json(text + p.p_start, p.p_end - p.p_start);
    json_t *alg = json_object_get(h, "alg"), *kid = json_object_get(h, "kid");
    json_t *role = json_object_get(b, "role");
    if (h == NULL || b == NULL)
        why = "token parts are not JSON objects";
    else if (!json_is_string(alg) || strcmp(json_string_value(alg), "EdDSA") != 0)
        why = "token alg is not EdDSA";
    else if (!json_is_string(kid) || json_string_length(kid) != ROSTER_JWT_KID_LEN)
        why = "token has no kid";
    else if (!get_uuid(&c.key_id, b, "key") || !get_uuid(&c.env, b, "env"))
        why = "token has no key or env claim";
    else if (!get_time(&c.iat, b, "iat") || !get_time(&c.exp, b, "exp"))
        why = "token has no iat or exp claim";
    else if (!json_is_string(role) || json_string_length(role) >= sizeof c.role)
        why = "token has no role claim";
    if (why == NULL) {
        memcpy(c.kid, json_string_value(kid), ROSTER_JWT_KID_LEN + 1);
        memcpy(c.role, json_string_value(role), json_string_length(role) + 1);
        c.is_user = strcmp(c.role, "user") == 0;
        if (c.is_user && !get_uuid(&c.user, b, "sub"))
            why = "user token has no sub claim";
        c.has_tenant = json_object_get(b, "tid") != NULL;
        if (c.has_tenant && !get_uuid(&c.tenant, b, "tid"))
            why = "token's tid claim is not a UUID";
    }
    json_decref(h);
    json_decref(b);
    if (why != NULL)
        return roster_fail(detail, ROSTER_E_UNAUTHENTICATED, "credential", "%s", why);
    *out = c;
    return ROSTER_E_OK;
}

int roster_jwt_verify(const char *text, size_t len, EVP_PKEY *pub)
{
    parts p;
    uint8_t sig[SIG_LEN + 3];
    size_t n = 0;
    if (!split(&p, text, len) || len - p.s_start != ROSTER_B64URL_LEN(SIG_LEN) ||
        !roster_b64url_decode(sig, &n, text + p.s_start, len - p.s_start) || n != SIG_LEN)
        return ROSTER_E_UNAUTHENTICATED;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
             EVP_DigestVerify(md, sig, SIG_LEN, (const uint8_t *)text, p.p_end) == 1;
    EVP_MD_CTX_free(md);
    return ok ? ROSTER_E_OK : ROSTER_E_UNAUTHENTICATED;
}
