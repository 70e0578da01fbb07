/*
 * clients.c - bench-transport: one mf_client per role (publisher, subscriber,
 * responder, requester), connected without reconnection so that a lost
 * connection shows; every disconnect, error and drop is counted and the first
 * one described.
 */
#include "bench_transport.h"

#include <stdlib.h>

static void on_client_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    bclient *b = ctx;
    const char *what = NULL;
    switch (ev->type) {
    case MF_CLIENT_DISCONNECTED:
        atomic_fetch_add(&b->lost, 1);
        what = "disconnected";
        break;
    case MF_CLIENT_CLOSED:
        atomic_fetch_add(&b->lost, 1);
        what = "closed";
        break;
    case MF_CLIENT_ERROR:
        atomic_fetch_add(&b->errors, 1);
        what = "error";
        break;
    case MF_CLIENT_DROPPED:
        atomic_fetch_add(&b->dropped, ev->msgs);
        what = "dropped";
        break;
    default:
        return;
    }
    pthread_mutex_lock(&b->mu);
    if (!b->first_err[0])
        snprintf(b->first_err, sizeof b->first_err, "%s: %s (%s)%s%s", b->name, what, mf_status_str(ev->status),
                 ev->text && ev->text[0] ? " " : "", ev->text ? ev->text : "");
    pthread_mutex_unlock(&b->mu);
}

bclient *bclient_open(const char *url, const char *name, size_t outbound_limit, char *err, size_t errsz)
{
    bclient *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    snprintf(b->name, sizeof b->name, "%s", name);
    pthread_mutex_init(&b->mu, NULL);
    mf_client_opts o;
    mf_client_opts_init(&o);
    const char *servers[1] = {url};
    o.servers = servers;
    o.n_servers = 1;
    o.name = name;
    o.reconnect = false;        /* a lost connection must show, not be papered over */
    o.connect_timeout_ms = 5000;
    o.on_event = on_client_event;
    o.event_ctx = b;
    if (outbound_limit)
        o.outbound_limit = outbound_limit;
    mf_error e;
    mf_status st = mf_client_create(&o, &b->c, &e);
    if (st) {
        snprintf(err, errsz, "%s: mf_client_create: %s: %s", name, mf_status_str(st), e.message);
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    st = mf_client_wait_connected(b->c, 5000);
    if (st) {
        snprintf(err, errsz, "%s: not connected to %s: %s%s%s", name, url, mf_status_str(st),
                 b->first_err[0] ? "; " : "", b->first_err);
        mf_client_destroy(b->c);
        pthread_mutex_destroy(&b->mu);
        free(b);
        return NULL;
    }
    return b;
}

void bclient_close(bclient *b)
{
    if (!b)
        return;
    mf_client_destroy(b->c);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* "sub3: closed (io) ..." for the first client of the list that lost its connection or saw an error */
bool clients_trouble(bclient **v, size_t n, char *why, size_t whysz)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            continue;
        if (atomic_load(&v[i]->lost) || atomic_load(&v[i]->errors) || atomic_load(&v[i]->dropped)) {
            pthread_mutex_lock(&v[i]->mu);
            snprintf(why, whysz, "%s", v[i]->first_err[0] ? v[i]->first_err : v[i]->name);
            pthread_mutex_unlock(&v[i]->mu);
            return true;
        }
    }
    return false;
}
