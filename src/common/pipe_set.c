#include "pipe_set.h"

#include <string.h>

void roster_pipe_set_init(roster_pipe_set *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->n_open, 0);
    s->last_reply = INT64_MIN;
    s->lost_since = INT64_MIN;
}

void roster_pipe_set_fini(roster_pipe_set *s)
{
    pthread_mutex_destroy(&s->mu);
}

/* Index of id in the first n entries of ids, or n when absent. */
static size_t find(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t i = 0;
    while (i < n && ids[i] != id)
        i++;
    return i;
}

size_t roster_pipe_set_added(roster_pipe_set *s, uint32_t id, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    size_t g = find(s->gone, ROSTER_PIPE_SET_GONE, id);
    if (id != 0 && g < ROSTER_PIPE_SET_GONE) {
        s->gone[g] = 0; /* it is already gone: its late ADD_POST changes nothing */
    } else if (id != 0 && s->n_live < ROSTER_PIPE_SET_LIVE &&
               find(s->live, s->n_live, id) == s->n_live) {
        s->live_since[s->n_live] = now;
        s->live[s->n_live++] = id;
        s->lost_since = INT64_MIN;
    }
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t roster_pipe_set_removed(roster_pipe_set *s, uint32_t id, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    size_t i = find(s->live, s->n_live, id);
    if (i < s->n_live) {
        s->n_live--;
        s->live[i] = s->live[s->n_live];
        s->live_since[i] = s->live_since[s->n_live];
        if (s->n_live == 0 && s->lost_since == INT64_MIN)
            s->lost_since = now;
    } else if (id != 0) {
        /* Removed before (or without) being added. */
        s->gone[s->gone_next] = id;
        s->gone_next = (s->gone_next + 1) % ROSTER_PIPE_SET_GONE;
    }
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t roster_pipe_set_count(roster_pipe_set *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

void roster_pipe_set_replied(roster_pipe_set *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    if (now > s->last_reply)
        s->last_reply = now;
    s->strikes = 0;
    pthread_mutex_unlock(&s->mu);
}

size_t roster_pipe_set_unanswered(roster_pipe_set *s, int64_t sent, int64_t now, uint32_t *out,
                                  size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    /* A reply that came after this call was sent shows the connection
     * alive; this call was merely slow. */
    if (s->last_reply >= sent)
        goto done;
    if (s->strikes == 0 || sent < s->first_strike_sent)
        s->first_strike_sent = sent;
    s->strikes++;
    if (s->strikes < ROSTER_PIPE_SET_STRIKES ||
        now - s->first_strike_sent < ROSTER_PIPE_SET_SILENCE_MS)
        goto done;
    for (size_t i = 0; i < s->n_live && n < cap; i++)
        if (s->live_since[i] <= s->first_strike_sent)
            out[n++] = s->live[i];
    s->strikes = 0;
    /* The client closes them: the connection counts as lost from now. */
    if (n > 0 && s->lost_since == INT64_MIN)
        s->lost_since = now;
done:
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool roster_pipe_set_redial_due(roster_pipe_set *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    bool due = s->lost_since != INT64_MIN && now - s->lost_since >= ROSTER_PIPE_SET_REDIAL_MS;
    if (due)
        s->lost_since = now;
    pthread_mutex_unlock(&s->mu);
    return due;
}
