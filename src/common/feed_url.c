#include "feed_url.h"

#include <stdio.h>
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
    }
    if (n < 0 || (size_t)n >= sizeof buf || (size_t)n >= cap)
        return ROSTER_E_INVALID_ARGUMENT;
    memcpy(out, buf, (size_t)n + 1);
    return ROSTER_E_OK;
}
