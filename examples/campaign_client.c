/*
 * campaign_client - a small client of the mflow contract, built against the INSTALLED SDK
 * (see README.md in this folder). It is none of the contract's services, so it uses the typed
 * API of the channels (mf_sdk/channels_api.h), which validates everything it sends and
 * receives. It shows the things most programs do:
 *
 *   1. connect          mf_client over WebSocket to nats-server or mf-broker
 *   2. subscribe        watch campaign.status (mf_campaign_status_channel_subscribe): the
 *                       handler gets decoded, validated updates; invalid ones are dropped
 *   3. publish          fill an mf_campaign_create in C and publish it on campaign.create
 *                       (mf_campaign_create_channel_publish validates it first: a failure names
 *                       the field by JSON pointer and nothing is sent)
 *   4. publish again    ask for an execution of the campaign on campaign.execute
 *   5. request/reply    ask user-service for a profile (mf_user_info_request_channel_request)
 *                       with a timeout; "no responders", "timeout" and "refused" are told apart
 *
 * Usage: campaign_client [options] [URL]        (URL default ws://127.0.0.1:4280)
 * Exit status: 0 the campaign was published and executed and the user-info request was
 *                answered, or nobody serves it ("no responders": no user-service is running);
 *              1 a runtime failure (cannot connect, invalid message, publish or request
 *                failed, timed out or was refused, fewer status updates than --count);
 *              2 a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mf_sdk/sdk.h> /* types + codecs, channels, registry, typed per-channel and per-service API */

static const char USAGE[] =
    "usage: campaign_client [options] [URL]\n"
    "Publishes a campaign on campaign.create, asks for its execution on campaign.execute, asks\n"
    "user-service for a user's profile and prints campaign.status updates.\n"
    "URL defaults to ws://127.0.0.1:4280.\n\n"
    "  --user-id UUID  the user to look up (default 3f2504e0-4f89-41d3-9a0c-0305e82c3301)\n"
    "  --timeout MS    connect, flush and request timeout (default 2000)\n"
    "  --listen MS     then print campaign.status updates for up to MS ms (default 0)\n"
    "  --count N       with --listen: stop after N updates; fewer is a failure (exit 1)\n"
    "  --invalid       build an invalid campaign, to see how validation reports it\n"
    "  -h, --help      this text\n\n"
    "Exit status: 0 published and executed (user-info answered, or no user-service running),\n"
    "1 runtime failure, 2 usage error.\n";

/* Counted on the client's service thread, read by main. */
static atomic_int g_status_updates;

/* 2. Receive: called on the client's service thread for every valid update on campaign.status
 * (the runtime decoded and validated it; an invalid one is logged, counted and dropped before
 * it gets here). `u` is only valid during the call: copy what you keep (mf_campaign_status_update_copy). */
static void on_status(void *ctx, const mf_campaign_status_update *u, const mf_api_info *info)
{
    (void)ctx;
    printf("%s: campaign %s execution %s is %s", info->subject, u->campaign_id, u->execution_id,
           mf_campaign_status_update_status_to_string(u->status));
    if (u->has_progress)
        printf(" (%lld/%lld sent, %lld failed)", (long long)u->progress.sent,
               (long long)u->progress.total_targets, (long long)u->progress.failed);
    if (u->has_error)
        printf(" error %s: %s", u->error.code, u->error.message);
    printf("\n");
    atomic_fetch_add(&g_status_updates, 1);
}

/* Strings in generated structs are heap memory owned by the struct (T_free releases them). */
static char *dup_or_die(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* "%Y-%m-%d..." of now + days, in UTC. */
static char *utc_time(const char *fmt, int days)
{
    char buf[64];
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, fmt, &tm);
    return dup_or_die(buf);
}

/* 3a. Build: init sets defaults and zeroes; required members have no has_ flag, optional ones
 * need has_<x> = true. A weekly campaign for active premium users starting tomorrow 08:00 UTC. */
static void build_campaign(mf_campaign_create *c, bool invalid)
{
    mf_campaign_create_init(c);
    c->campaign_id = dup_or_die("7c9e6679-7425-40de-944b-e07fc1f90ae7");
    c->name = dup_or_die("Spring sale");
    c->target_audience.user_segments.items = calloc(2, sizeof *c->target_audience.user_segments.items);
    if (!c->target_audience.user_segments.items)
        exit(1); /* out of memory */
    c->target_audience.user_segments.items[0] = MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_ACTIVE_USERS;
    c->target_audience.user_segments.items[1] = MF_CAMPAIGN_CREATE_TARGET_AUDIENCE_USER_SEGMENTS_ITEM_PREMIUM_USERS;
    c->target_audience.user_segments.count = 2;
    c->notification_template.title_template = dup_or_die("Spring sale, {{name}}!");
    c->notification_template.body_template = dup_or_die("Hi {{name}}, everything is 20% off until Sunday.");

    mf_campaign_create_schedule *s = &c->schedule;
    s->type = MF_CAMPAIGN_CREATE_SCHEDULE_TYPE_RECURRING;
    s->has_scheduled_at = true, s->scheduled_at = utc_time("%Y-%m-%dT08:00:00Z", 1);
    s->has_timezone = true, s->timezone = dup_or_die("Europe/Paris");
    s->has_recurring = true;
    s->recurring.has_frequency = true, s->recurring.frequency = MF_CAMPAIGN_CREATE_SCHEDULE_RECURRING_FREQUENCY_WEEKLY;
    s->recurring.has_interval = true, s->recurring.interval = invalid ? 0 : 1; /* minimum is 1 */
    s->recurring.has_start_date = true, s->recurring.start_date = utc_time("%Y-%m-%d", 1);
    s->recurring.has_end_date = true, s->recurring.end_date = utc_time("%Y-%m-%d", 29);

    c->has_settings = true; /* max_retries (3) and batch_size (1000) hold their defaults after init */
    c->settings.batch_size = 500;
    c->settings.has_rate_limit = true, c->settings.rate_limit = 200;
    c->settings.has_respect_quiet_hours = true, c->settings.respect_quiet_hours = true;
    c->has_created_at = true, c->created_at = utc_time("%Y-%m-%dT%H:%M:%SZ", 0);
}

/* A random (version 4) UUID for the execution id, from /dev/urandom. */
static char *random_uuid(void)
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(b, 1, sizeof b, f) != sizeof b) {
        fprintf(stderr, "campaign_client: cannot read /dev/urandom\n");
        exit(1);
    }
    fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char s[37];
    snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return dup_or_die(s);
}

static bool parse_int(const char *s, long min, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > INT_MAX)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *url = "ws://127.0.0.1:4280", *user_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    long timeout = 2000, listen_ms = 0, count = 0;
    bool invalid = false;
    bool have_url = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(a, "--invalid")) {
            invalid = true;
        } else if (!strcmp(a, "--user-id") || !strcmp(a, "--timeout") || !strcmp(a, "--listen") ||
                   !strcmp(a, "--count")) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            bool ok = v != NULL;
            if (ok && a[2] == 'u')
                user_id = v;
            else if (ok)
                ok = parse_int(v, a[2] == 'l' ? 0 : 1, a[2] == 't' ? &timeout : a[2] == 'l' ? &listen_ms : &count);
            if (!ok) {
                fprintf(stderr, "campaign_client: %s needs a %s\n%s", a, a[2] == 'u' ? "value" : "valid number", USAGE);
                return 2;
            }
        } else if (a[0] != '-' && !have_url) {
            url = a, have_url = true;
        } else {
            fprintf(stderr, "campaign_client: unexpected argument '%s'\n%s", a, USAGE);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* line by line, also when piped */

    /* 1. Connect. The client copies the options; it connects (and reconnects) on its own
     * service thread, so wait for the first connection explicitly. */
    mf_client_opts o;
    mf_client_opts_init(&o);
    o.servers = &url;
    o.n_servers = 1;
    o.name = "campaign_client";
    mf_client *client = NULL;
    mf_error err;
    if (mf_client_create(&o, &client, &err) != MF_OK) {
        fprintf(stderr, "campaign_client: %s\n", err.message); /* e.g. a malformed URL */
        return 2;
    }
    int rc = 1;
    mf_campaign_create campaign;
    mf_campaign_execute exec;
    mf_user_info_reply reply;
    mf_api_sub *status_sub = NULL;
    mf_campaign_create_init(&campaign);
    mf_campaign_execute_init(&exec);
    mf_user_info_reply_init(&reply);
    mf_status st = mf_client_wait_connected(client, (int)timeout);
    if (st != MF_OK) {
        fprintf(stderr, "campaign_client: cannot connect to %s: %s\n", url, mf_status_str(st));
        goto out;
    }
    printf("connected to %s\n", url);

    /* 2. campaign.status is published by campaign-service; anyone may listen. No filter to
     * give (the channel has no parameters); queue group NULL: this client sees every update. */
    if (mf_campaign_status_channel_subscribe(client, on_status, NULL, NULL, &status_sub, &err) != MF_OK) {
        fprintf(stderr, "campaign_client: subscribe: %s\n", err.message);
        goto out;
    }

    /* 3. Build and publish. The typed publish validates and encodes first: an invalid campaign
     * returns the codec's error with err.pointer naming the field, and nothing is sent. */
    build_campaign(&campaign, invalid);
    if ((st = mf_campaign_create_channel_publish(client, &campaign, &err)) != MF_OK) {
        if (err.pointer[0]) /* --invalid: /schedule/recurring/interval */
            fprintf(stderr, "campaign_client: invalid campaign: %s: %s (%s)\n", err.pointer, err.message,
                    mf_status_str(st));
        else
            fprintf(stderr, "campaign_client: publish on %s: %s\n", MF_CAMPAIGN_CREATE_ADDRESS, err.message);
        goto out;
    }
    printf("published campaign %s on %s\n", campaign.campaign_id, MF_CAMPAIGN_CREATE_ADDRESS);

    /* 4. Ask for an execution run of it, now. */
    exec.execution_id = random_uuid();
    exec.campaign_id = dup_or_die(campaign.campaign_id);
    exec.execution_type = MF_CAMPAIGN_EXECUTE_EXECUTION_TYPE_IMMEDIATE;
    if ((st = mf_campaign_execute_channel_publish(client, &exec, &err)) != MF_OK ||
        (st = mf_client_flush(client, (int)timeout)) != MF_OK) { /* flush: the server has both */
        fprintf(stderr, "campaign_client: publish on %s: %s\n", MF_CAMPAIGN_EXECUTE_ADDRESS, mf_status_str(st));
        goto out;
    }
    printf("executed campaign %s: execution %s requested on %s\n", exec.campaign_id, exec.execution_id,
           MF_CAMPAIGN_EXECUTE_ADDRESS);

    /* 5. Request/reply: the request is validated and encoded, the reply decoded and validated
     * into `reply` (ours to free on MF_OK). Three failures are told apart: nobody listens (no
     * responders), nobody answered in time (timeout), the responder refused (its error). */
    mf_user_info_request req = {.user_id = (char *)user_id}; /* borrowed: not freed */
    mf_error_clear(&err);
    st = mf_user_info_request_channel_request(client, &req, (int)timeout, &reply, &err);
    if (st == MF_OK && reply.has_error)
        printf("user-info %s: %s: %s\n", user_id, reply.error.code, reply.error.message);
    else if (st == MF_OK)
        printf("user-info %s: %s <%s>\n", user_id, reply.has_name ? reply.name : "(no name)",
               reply.has_email ? reply.email : "no email");
    else if (st == MF_ERR_NO_RESPONDERS)
        printf("user-info %s: no responders (no user-service is running)\n", user_id);
    else {
        /* MF_ERR_TIMEOUT, MF_ERR_REFUSED ("refused (400): ..."), or the request was invalid */
        fprintf(stderr, "campaign_client: user-info request: %s%s%s%s%s\n", mf_status_str(st),
                err.pointer[0] ? " at " : "", err.pointer, err.message[0] ? ": " : "", err.message);
        goto out;
    }

    /* Optionally keep listening for status updates (printed by on_status). */
    struct timespec tick = {0, 20 * 1000000L};
    for (long waited = 0; waited < listen_ms && (!count || atomic_load(&g_status_updates) < count); waited += 20)
        nanosleep(&tick, NULL);
    if (count && atomic_load(&g_status_updates) < count) {
        fprintf(stderr, "campaign_client: %d of %ld status updates received\n", atomic_load(&g_status_updates), count);
        goto out;
    }
    rc = 0;

out:
    /* drain: unsubscribe, deliver what is in flight, flush, close; then free everything (the
     * typed subscription after the drain, which ran its last callbacks, and before destroy). */
    if (mf_client_drain(client, (int)timeout) != MF_OK && rc == 0)
        fprintf(stderr, "campaign_client: drain did not complete\n");
    mf_api_unsubscribe(status_sub); /* NULL is fine */
    mf_client_destroy(client);
    mf_user_info_reply_free(&reply); /* safe on an initialised, empty value */
    mf_campaign_execute_free(&exec);
    mf_campaign_create_free(&campaign);
    return rc;
}
