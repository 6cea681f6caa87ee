#include "cursor.h"

#include "b64url.h"

#include <string.h>

#define CURSOR_SHAPE_LEN 8
#define CURSOR_CHECK_LEN 4
#define CURSOR_BYTES_MAX (1 + CURSOR_SHAPE_LEN + CURSOR_POS_MAX + CURSOR_CHECK_LEN)

_Static_assert(ROSTER_B64URL_LEN(CURSOR_BYTES_MAX) <= ROSTER_MAX_CURSOR,
               "the longest cursor fits in ROSTER_MAX_CURSOR characters");

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* The finalizer of splitmix64: every input bit reaches every output bit. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

/* A protobuf-c output buffer that hashes what is packed into it. */
typedef struct hash_buffer {
    ProtobufCBuffer base;
    uint64_t h;
    uint64_t n; /* bytes hashed */
} hash_buffer;

static void hash_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    hash_buffer *hb = (hash_buffer *)b;
    hb->h = fnv(hb->h, data, len);
    hb->n += len;
}

/* Hashes message m (NULL: absent) framed by its presence and length, so
 * that no two sequences of messages hash the same bytes. */
static void hash_message(hash_buffer *hb, const ProtobufCMessage *m)
{
    uint8_t present = m != NULL;
    hb->h = fnv(hb->h, &present, 1);
    if (m == NULL)
        return;
    uint64_t before = hb->n;
    protobuf_c_message_pack_to_buffer(m, &hb->base);
    uint8_t len[8];
    key_u64_put(len, hb->n - before);
    hb->h = fnv(hb->h, len, sizeof len);
}

uint64_t cursor_shape(char kind, const roster_uuid *scope, int sort, bool desc,
                      const ProtobufCMessage *filter, const ProtobufCMessage *search)
{
    hash_buffer hb = {.base = {.append = hash_append}, .h = FNV_OFFSET};
    uint8_t head[3 + 16] = {(uint8_t)kind, (uint8_t)sort, (uint8_t)(desc ? 1 : 0)};
    size_t n = 3;
    if (scope) {
        memcpy(head + n, scope->b, 16);
        n += 16;
    }
    hb.h = fnv(hb.h, head, n);
    hash_message(&hb, filter);
    hash_message(&hb, search);
    return mix(hb.h);
}

static uint32_t check_of(const uint8_t *b, size_t n)
{
    return (uint32_t)mix(fnv(FNV_OFFSET ^ 0x5c5c5c5c5c5c5c5cULL, b, n));
}

/* Whether v[0..vn) is a sort value of model type `type` as key_sort_value
 * encodes it (-1: no value at all). */
static bool value_valid(int type, const uint8_t *v, size_t vn)
{
    switch (type) {
    case -1:
        return vn == 0;
    case CURSOR_VALUE_ANY:
        return true;
    case MODEL_T_BOOL:
        return vn == 1 && v[0] >= 0x01 && v[0] <= 0x03;
    case MODEL_T_DATE:
        return vn == 8;
    default: /* text: 0x02 (null), or 0x01 bytes 0x00 with no NUL inside */
        return (vn == 1 && v[0] == 0x02) ||
               (vn >= 2 && v[0] == 0x01 && v[vn - 1] == 0x00 && memchr(v + 1, 0, vn - 2) == NULL);
    }
}

int cursor_decode(uint8_t *pos, size_t *n, const char *text, int64_t offset, uint64_t shape,
                  int value_type, roster_err_detail *detail)
{
    if (offset > 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "after",
                           "after cannot be combined with a non-zero offset (%lld): the cursor "
                           "says where the page starts",
                           (long long)offset);
    size_t tn = strnlen(text, ROSTER_MAX_CURSOR + 1);
    if (tn > ROSTER_MAX_CURSOR)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "after",
                           "after is longer than any cursor (at most %d characters)",
                           ROSTER_MAX_CURSOR);
    uint8_t b[ROSTER_MAX_CURSOR * 3 / 4 + 3];
    size_t bn = 0;
    if (!roster_b64url_decode(b, &bn, text, tn) ||
        bn < 1 + CURSOR_SHAPE_LEN + 16 + CURSOR_CHECK_LEN || bn > CURSOR_BYTES_MAX ||
        b[0] != CURSOR_VERSION)
        goto bad;
    size_t body = bn - CURSOR_CHECK_LEN;
    uint32_t check = check_of(b, body);
    const uint8_t *c = b + body;
    if (((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]) != check)
        goto bad;
    if (key_u64_get(b + 1) != shape)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "after",
                           "after belongs to another query: a cursor continues only the "
                           "filter, search and order it came from");
    size_t pn = body - 1 - CURSOR_SHAPE_LEN;
    if (!value_valid(value_type, b + 1 + CURSOR_SHAPE_LEN, pn - 16))
        goto bad;
    *n = pn;
    memcpy(pos, b + 1 + CURSOR_SHAPE_LEN, pn);
    return ROSTER_E_OK;
bad:
    return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "after",
                       "after is not a cursor this service made (cut, altered or not a cursor)");
}

int cursor_encode(char **out, uint64_t shape, const uint8_t *pos, size_t n, roster_arena *arena)
{
    uint8_t b[CURSOR_BYTES_MAX];
    if (n > CURSOR_POS_MAX)
        return ROSTER_E_INTERNAL;
    b[0] = CURSOR_VERSION;
    key_u64_put(b + 1, shape);
    memcpy(b + 1 + CURSOR_SHAPE_LEN, pos, n);
    size_t body = 1 + CURSOR_SHAPE_LEN + n;
    uint32_t check = check_of(b, body);
    b[body] = (uint8_t)(check >> 24);
    b[body + 1] = (uint8_t)(check >> 16);
    b[body + 2] = (uint8_t)(check >> 8);
    b[body + 3] = (uint8_t)check;
    size_t bn = body + CURSOR_CHECK_LEN;
    char *t = roster_arena_alloc(arena, ROSTER_B64URL_LEN(bn) + 1);
    if (t == NULL)
        return ROSTER_E_NOMEM;
    t[roster_b64url_encode(t, b, bn)] = '\0';
    *out = t;
    return ROSTER_E_OK;
}

bool cursor_key_past(const MDB_val *k, const uint8_t *key, size_t kn, bool desc)
{
    size_t m = k->mv_size < kn ? k->mv_size : kn;
    int c = memcmp(k->mv_data, key, m);
    if (c == 0)
        c = k->mv_size < kn ? -1 : k->mv_size > kn;
    return desc ? c < 0 : c > 0;
}

int cursor_seek_after(MDB_cursor *c, const uint8_t *key, size_t kn, bool desc, MDB_val *k,
                      MDB_val *v)
{
    k->mv_data = (void *)key;
    k->mv_size = kn;
    int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
    if (!desc) {
        /* The first key >= key: step once more when it is key itself. */
        if (rc == 0 && k->mv_size == kn && memcmp(k->mv_data, key, kn) == 0)
            rc = mdb_cursor_get(c, k, v, MDB_NEXT);
        return rc;
    }
    /* The last key < key: the one before the first key >= key, or the
     * last of all when none is >= key. */
    if (rc == MDB_NOTFOUND)
        return mdb_cursor_get(c, k, v, MDB_LAST);
    if (rc != 0)
        return rc;
    return mdb_cursor_get(c, k, v, MDB_PREV);
}
