#include "clock.h"
#include "error.h"

#include <time.h>

int64_t roster_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t roster_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t *y, unsigned *m, unsigned *d, int64_t z)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* Hand-rolled rather than snprintf: timestamps are formatted for every
 * createdAt/updatedAt in every response, and snprintf dominated that path. */
size_t roster_time_format_iso(char *buf, size_t cap, int64_t unix_ms)
{
    int64_t secs = unix_ms / 1000, ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(&y, &m, &d, days);
    if (y < 0 || y > 9999 || cap < 25)
        return 0;
    unsigned yy = (unsigned)y, hms = (unsigned)rem, frac = (unsigned)ms;
    put2(buf, yy / 100);
    put2(buf + 2, yy % 100);
    buf[4] = '-';
    put2(buf + 5, m);
    buf[7] = '-';
    put2(buf + 8, d);
    buf[10] = 'T';
    put2(buf + 11, hms / 3600);
    buf[13] = ':';
    put2(buf + 14, hms / 60 % 60);
    buf[16] = ':';
    put2(buf + 17, hms % 60);
    buf[19] = '.';
    buf[20] = (char)('0' + frac / 100);
    put2(buf + 21, frac % 100);
    buf[23] = 'Z';
    buf[24] = '\0';
    return 24;
}

static int digits(int *out, const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int roster_time_parse_iso(int64_t *out_ms, const char *s, size_t len)
{
    int y, mo, d, h, mi, se, ms = 0;
    if (s == NULL || len < 20)
        return ROSTER_E_INVALID_ARGUMENT;
    if (!digits(&y, s, 4) || s[4] != '-' || !digits(&mo, s + 5, 2) || s[7] != '-' ||
        !digits(&d, s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(&h, s + 11, 2) ||
        s[13] != ':' || !digits(&mi, s + 14, 2) || s[16] != ':' || !digits(&se, s + 17, 2))
        return ROSTER_E_INVALID_ARGUMENT;
    size_t i = 19;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (i - start < 3)
                ms = ms * 10 + (s[i] - '0');
            i++;
        }
        size_t nd = i - start;
        if (nd == 0 || nd > 9)
            return ROSTER_E_INVALID_ARGUMENT;
        for (size_t k = nd; k < 3; k++)
            ms *= 10;
    }
    int offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh, om;
        if (!digits(&oh, s + i + 1, 2) || !digits(&om, s + i + 4, 2) || oh > 23 || om > 59)
            return ROSTER_E_INVALID_ARGUMENT;
        offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return ROSTER_E_INVALID_ARGUMENT;
    }
    if (i != len)
        return ROSTER_E_INVALID_ARGUMENT;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 ||
        se > 59)
        return ROSTER_E_INVALID_ARGUMENT;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)offset_min * 60;
    *out_ms = secs * 1000 + ms;
    return ROSTER_E_OK;
}
