#include "uuid.h"
#include "error.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms = -1;
static uint16_t last_seq;

/* Random bytes for ids, drawn from getrandom a block at a time per thread:
 * one system call per id was 3.6% of a bulk import's CPU. The block is
 * wiped as it is used, so what a thread holds is only ids not yet made. */
#define UUID_RANDOM_BLOCK 640
static _Thread_local uint8_t rnd_block[UUID_RANDOM_BLOCK];
static _Thread_local size_t rnd_left;

static void random_bytes(uint8_t *out, size_t n)
{
    if (rnd_left < n) {
        if (getrandom(rnd_block, sizeof rnd_block, 0) != (ssize_t)sizeof rnd_block) {
            /* getrandom on Linux does not fail for small requests after
             * boot; keep the id unique through the counter even if it
             * somehow did. */
            memset(out, 0, n);
            return;
        }
        rnd_left = sizeof rnd_block;
    }
    uint8_t *at = rnd_block + sizeof rnd_block - rnd_left;
    memcpy(out, at, n);
    memset(at, 0, n);
    rnd_left -= n;
}

void roster_uuid_v7(roster_uuid *out, int64_t unix_ms)
{
    uint8_t rnd[10];
    random_bytes(rnd, sizeof rnd);
    uint16_t seq;
    pthread_mutex_lock(&uuid_lock);
    if (unix_ms <= last_ms) {
        /* Same or earlier millisecond (clock step back): continue the
         * sequence; on counter overflow borrow the next millisecond. */
        unix_ms = last_ms;
        if (last_seq >= 0x0fff) {
            unix_ms++;
            last_seq = (uint16_t)(rnd[0] & 0x03);
        } else {
            last_seq++;
        }
    } else {
        /* Start low in the 12 bits so many ids fit into one millisecond. */
        last_seq = (uint16_t)(((rnd[0] << 8) | rnd[1]) & 0x01ff);
    }
    last_ms = unix_ms;
    seq = last_seq;
    pthread_mutex_unlock(&uuid_lock);

    uint64_t ms = (uint64_t)unix_ms;
    out->b[0] = (uint8_t)(ms >> 40);
    out->b[1] = (uint8_t)(ms >> 32);
    out->b[2] = (uint8_t)(ms >> 24);
    out->b[3] = (uint8_t)(ms >> 16);
    out->b[4] = (uint8_t)(ms >> 8);
    out->b[5] = (uint8_t)ms;
    out->b[6] = (uint8_t)(0x70 | ((seq >> 8) & 0x0f));
    out->b[7] = (uint8_t)seq;
    out->b[8] = (uint8_t)(0x80 | (rnd[2] & 0x3f));
    memcpy(&out->b[9], &rnd[3], 7);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int roster_uuid_parse(roster_uuid *out, const char *text, size_t len)
{
    roster_uuid id;
    if (text == NULL || len != ROSTER_UUID_TEXT_LEN)
        return ROSTER_E_INVALID_ARGUMENT;
    size_t bi = 0;
    for (size_t i = 0; i < len;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return ROSTER_E_INVALID_ARGUMENT;
            i++;
            continue;
        }
        int hi = hexval(text[i]), lo = hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return ROSTER_E_INVALID_ARGUMENT;
        id.b[bi++] = (uint8_t)((hi << 4) | lo);
        i += 2;
    }
    *out = id;
    return ROSTER_E_OK;
}

void roster_uuid_format(char buf[ROSTER_UUID_TEXT_LEN + 1], const roster_uuid *id)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[id->b[i] >> 4];
        buf[o++] = hex[id->b[i] & 0x0f];
    }
    buf[o] = '\0';
}

int64_t roster_uuid_v7_time(const roster_uuid *id)
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = (ms << 8) | id->b[i];
    return (int64_t)ms;
}
