#include "log.h"
#include "clock.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_component = "roster";
static roster_log_level log_min = ROSTER_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void roster_log_init(const char *component, roster_log_level min_level)
{
    if (component)
        log_component = component;
    log_min = min_level;
}

int roster_log_level_parse(roster_log_level *out, const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (roster_log_level)i;
            return ROSTER_E_OK;
        }
    }
    return ROSTER_E_INVALID_ARGUMENT;
}

int roster_log_enabled(roster_log_level level)
{
    return level >= log_min;
}

void roster_log(roster_log_level level, const char *event, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char line[2048];
    char ts[32];
    if (roster_time_format_iso(ts, sizeof ts, roster_now_ms()) == 0)
        strcpy(ts, "-");
    int n = snprintf(line, sizeof line, "ts=%s level=%s component=%s event=%s", ts,
                     level_names[level], log_component, event);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && fmt[0] && len + 2 < sizeof line) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

const char *roster_log_quote(char *buf, unsigned cap, const char *s)
{
    if (cap == 0)
        return buf;
    if (s == NULL)
        s = "";
    int needs = s[0] == '\0';
    for (const char *p = s; *p && !needs; p++)
        needs = *p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20;
    if (!needs) {
        snprintf(buf, cap, "%s", s);
        return buf;
    }
    unsigned o = 0;
    if (o + 1 < cap)
        buf[o++] = '"';
    for (const char *p = s; *p && o + 3 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c < 0x20) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)c;
        }
    }
    if (o + 1 < cap)
        buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
