#include "nng_gate.h"

void roster_nng_gate_init(roster_nng_gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->inside = 0;
    g->closed = false;
}

void roster_nng_gate_destroy(roster_nng_gate *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

bool roster_nng_gate_enter(roster_nng_gate *g)
{
    pthread_mutex_lock(&g->mu);
    bool open = !g->closed;
    if (open)
        g->inside++;
    pthread_mutex_unlock(&g->mu);
    return open;
}

void roster_nng_gate_leave(roster_nng_gate *g)
{
    pthread_mutex_lock(&g->mu);
    if (--g->inside == 0 && g->closed)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void roster_nng_gate_close(roster_nng_gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->closed = true;
    while (g->inside > 0)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}
