#include "tokencache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    bool used;
    uint8_t hash[ROSTER_APIKEY_HASH_LEN];
    roster_jwt_claims claims;
} slot;

struct users_token_cache {
    pthread_mutex_t mu;
    slot slots[USERS_TOKEN_CACHE_SLOTS];
};

int users_token_cache_new(users_token_cache **out)
{
    users_token_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return ROSTER_E_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return ROSTER_E_OK;
}

void users_token_cache_free(users_token_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    roster_secure_wipe(c->slots, sizeof c->slots);
    free(c);
}

/* The hash is uniformly distributed: its first bytes pick the slot. */
static slot *slot_of(users_token_cache *c, const uint8_t hash[ROSTER_APIKEY_HASH_LEN])
{
    uint32_t h = (uint32_t)hash[0] | (uint32_t)hash[1] << 8 | (uint32_t)hash[2] << 16;
    return &c->slots[h % USERS_TOKEN_CACHE_SLOTS];
}

bool users_token_cache_get(roster_jwt_claims *out, users_token_cache *c,
                           const uint8_t hash[ROSTER_APIKEY_HASH_LEN], int64_t now_s)
{
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    slot *s = slot_of(c, hash);
    if (s->used && roster_apikey_hash_eq(s->hash, hash) && s->claims.exp > now_s) {
        *out = s->claims;
        hit = true;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void users_token_cache_put(users_token_cache *c, const uint8_t hash[ROSTER_APIKEY_HASH_LEN],
                           const roster_jwt_claims *claims)
{
    pthread_mutex_lock(&c->mu);
    slot *s = slot_of(c, hash);
    s->used = true;
    memcpy(s->hash, hash, ROSTER_APIKEY_HASH_LEN);
    s->claims = *claims;
    pthread_mutex_unlock(&c->mu);
}
