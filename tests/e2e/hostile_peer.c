/*
 * hostile_peer.c - mf_client under a misbehaving server (tests/transport/hostile_server.py).
 *
 *   hostile_peer URL RUN_MS [PUBLISHES]
 *
 * Connects (reconnecting quickly, 500 ms connect timeout), subscribes to "hp.>",
 * publishes PUBLISHES messages of 1 KiB to "hp.x" once connected (default 0, no
 * flush; pending_limit is 64 KiB, so most of them are lost if the connection
 * breaks before they are written), runs for
 * RUN_MS milliseconds, then destroys the client. Every client event is printed on
 * stdout as one line "event TYPE STATUS TEXT", then "destroyed MS" with the time
 * mf_client_destroy took, and "stats dropped=N reconnects=N". Exit status 0 when it
 * got that far (the test checks the lines; a crash, a hang or a sanitizer report is
 * what this program exists to catch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mf/client.h"

static const char *event_name(mf_client_event_type t)
{
    switch (t) {
    case MF_CLIENT_CONNECTED: return "CONNECTED";
    case MF_CLIENT_DISCONNECTED: return "DISCONNECTED";
    case MF_CLIENT_RECONNECTED: return "RECONNECTED";
    case MF_CLIENT_CLOSED: return "CLOSED";
    case MF_CLIENT_ERROR: return "ERROR";
    case MF_CLIENT_DROPPED: return "DROPPED";
    case MF_CLIENT_SERVER_DISCOVERED: return "DISCOVERED";
    }
    return "?";
}

static void on_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    (void)ctx;
    printf("event %s %s %s\n", event_name(ev->type), mf_status_str(ev->status), ev->text);
    fflush(stdout);
}

static void on_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    (void)ctx;
    printf("msg %.*s %zu\n", (int)m->subject_len, m->subject, m->len);
    fflush(stdout);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile_peer URL RUN_MS [PUBLISHES]\n");
        return 2;
    }
    const char *servers[] = {argv[1]};
    int run_ms = atoi(argv[2]);
    int pubs = argc > 3 ? atoi(argv[3]) : 0;
    mf_client_opts o;
    mf_client_opts_init(&o);
    o.servers = servers;
    o.n_servers = 1;
    o.name = "hostile-peer";
    o.reconnect_wait_ms = 50;
    o.reconnect_wait_max_ms = 200;
    o.reconnect_jitter_ms = 0;
    o.connect_timeout_ms = 500;
    o.pending_limit = 64 * 1024;
    o.ws_max_message = 1024 * 1024;
    o.on_event = on_event;
    o.log_level = MF_LOG_NONE;
    o.lws_log_level = 0;
    mf_client *c;
    mf_error err;
    if (mf_client_create(&o, &c, &err)) {
        printf("create failed: %s\n", err.message);
        return 1;
    }
    uint64_t sid;
    mf_client_subscribe(c, "hp.>", NULL, on_msg, NULL, &sid);
    if (pubs > 0 && mf_client_wait_connected(c, 3000) != MF_OK)
        printf("not connected for the publishes\n");
    static char payload[1024];
    memset(payload, 'p', sizeof payload);
    for (int i = 0; i < pubs; i++)
        mf_client_publish(c, "hp.x", NULL, payload, sizeof payload);
    struct timespec ts = {run_ms / 1000, (long)(run_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    mf_client_stats st;
    mf_client_stats_get(c, &st);
    long long t0 = now_ms();
    mf_client_destroy(c);
    printf("destroyed %lld\n", now_ms() - t0);
    printf("stats dropped=%llu reconnects=%llu\n", (unsigned long long)st.dropped_msgs,
           (unsigned long long)st.reconnects);
    return 0;
}
