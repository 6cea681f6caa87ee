#include "feed_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int roster_feed_url(char *out, size_t cap, const char *listen)
{
    char buf[4200];
    int n = -1;
    if (strncmp(listen, "ipc://", 6) == 0) {
        size_t len = strlen(listen);
        if (len > 4 && strcmp(listen + len - 4, ".ipc") == 0)
            n = snprintf(buf, sizeof buf, "%.*s-changes.ipc", (int)(len - 4), listen);
        else
            n = snprintf(buf, sizeof buf, "%s-changes", listen);
    } else {
        const char *colon = strrchr(listen, ':');
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (colon != NULL && end != colon + 1 && *end == '\0' && port > 0 && port < 65535)
            n = snprintf(buf, sizeof buf, "%.*s:%ld", (int)(colon - listen), listen, port + 1);
    }
    if (n < 0 || (size_t)n >= sizeof buf || (size_t)n >= cap)
        return ROSTER_E_INVALID_ARGUMENT;
    memcpy(out, buf, (size_t)n + 1);
    return ROSTER_E_OK;
}
