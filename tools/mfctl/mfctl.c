/*
 * mfctl - the command-line client for people.
 *
 *   mfctl [--server URL]... [--timeout MS] COMMAND ...
 *     list                          messages, channels and operations of the contract
 *     validate MESSAGE [FILE|-]     check a JSON document against a message (exit 0/1/2)
 *     pub SUBJECT [FILE|-] [--message NAME] [--raw]
 *                                   publish; the payload is validated against the channel's
 *                                   message (or --message) unless --raw
 *     sub SUBJECT [--queue Q] [--count N]
 *                                   print messages: one line "SUBJECT PAYLOAD", "!invalid: ..."
 *                                   after those that break the contract
 *     req SUBJECT [FILE|-] [--raw]  send a request, print the reply
 *     demo DIR                      publish every DIR/<Message>.full.json on its channel
 *
 * Exit codes: 0 ok, 1 invalid input / request failed, 2 usage or connection error.
 * The server defaults to $MF_SERVER, else ws://127.0.0.1:4280.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mf/client.h"
#include "mf/codec.h"
#include "mf/registry.h"
#include "mf/validate_tool.h"
#include "mf_sdk/registry.h"

#define MAX_SERVERS 16
#define MAX_INPUT (64u << 20)

typedef struct cli {
    const char *servers[MAX_SERVERS];
    size_t n_servers;
    int timeout_ms;
    const char *message; /* --message */
    const char *queue;   /* --queue */
    long count;          /* --count, 0 = forever */
    int raw;             /* --raw */
    const char *args[4]; /* positional arguments after the command */
    int n_args;
} cli;

static const mf_registry *reg = &mf_sdk_registry;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mfctl [--server URL]... [--timeout MS] COMMAND ...\n"
            "  list                           messages, channels and operations of the contract\n"
            "  validate MESSAGE [FILE|-]      check JSON against a message (exit 0 valid, 1 invalid)\n"
            "  pub SUBJECT [FILE|-] [--message NAME] [--raw]\n"
            "                                 publish (validated against the channel's message unless --raw)\n"
            "  sub SUBJECT [--queue Q] [--count N]\n"
            "                                 print messages as 'SUBJECT PAYLOAD' (wildcards * and > allowed)\n"
            "  req SUBJECT [FILE|-] [--raw]   request/reply: print the reply\n"
            "  demo DIR                       publish DIR/<Message>.full.json on each message's channel\n"
            "The server defaults to $MF_SERVER or ws://127.0.0.1:4280; --timeout defaults to 2000 ms.\n");
}

static char *read_input(const char *path, size_t *len)
{
    FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mfctl: cannot open %s\n", path);
        return NULL;
    }
    mf_buf b = MF_BUF_INIT;
    b.limit = MAX_INPUT;
    char tmp[65536];
    size_t n;
    int bad = 0;
    while (!bad && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
        bad = mf_buf_append(&b, tmp, n) != MF_OK;
    if (ferror(f) || bad) {
        fprintf(stderr, "mfctl: cannot read %s%s\n", path ? path : "stdin", bad ? " (over 64 MiB?)" : "");
        bad = 1;
    }
    if (f != stdin)
        fclose(f);
    if (bad) {
        mf_buf_free(&b);
        return NULL;
    }
    char *s = mf_buf_detach(&b, len);
    return s ? s : strdup("");
}

/* The message a subject carries: --message, else the channel whose address matches. */
static const mf_message_desc *message_for(const cli *o, const char *subject)
{
    if (o->message)
        return mf_registry_message(reg, o->message);
    const mf_channel_desc *ch = mf_registry_channel_for_subject(reg, subject);
    if (!ch || ch->message_count == 0)
        return NULL;
    return ch->messages[0];
}

/* Checks payload against the message; prints the error. 0 ok, 1 invalid. */
static int check_payload(const mf_message_desc *m, const char *data, size_t len, const char *what)
{
    void *v = malloc(m->size);
    if (!v)
        return 1;
    mf_error err;
    mf_status st = mf_decode(m->type, data, len, v, &err);
    mf_free(m->type, v);
    free(v);
    if (st) {
        fprintf(stderr, "mfctl: %s is not a valid %s: %s: %s\n", what, m->key,
                err.pointer[0] ? err.pointer : "(document)", err.message);
        return 1;
    }
    return 0;
}

static void on_event(mf_client *c, const mf_client_event *ev, void *ctx)
{
    (void)c;
    (void)ctx;
    if (ev->type == MF_CLIENT_ERROR)
        fprintf(stderr, "mfctl: server error: %s\n", ev->text);
    else if (ev->type == MF_CLIENT_DISCONNECTED)
        fprintf(stderr, "mfctl: disconnected from %s, reconnecting\n", ev->url);
    else if (ev->type == MF_CLIENT_RECONNECTED)
        fprintf(stderr, "mfctl: reconnected to %s\n", ev->url);
}

static mf_client *connect_client(const cli *o)
{
    mf_client_opts opts;
    mf_client_opts_init(&opts);
    opts.servers = o->servers;
    opts.n_servers = o->n_servers;
    opts.name = "mfctl";
    opts.on_event = on_event;
    mf_client *c = NULL;
    mf_error err;
    if (mf_client_create(&opts, &c, &err)) {
        fprintf(stderr, "mfctl: %s\n", err.message);
        return NULL;
    }
    if (mf_client_wait_connected(c, o->timeout_ms)) {
        fprintf(stderr, "mfctl: cannot connect to %s within %d ms\n", o->servers[0], o->timeout_ms);
        mf_client_destroy(c);
        return NULL;
    }
    return c;
}

static int cmd_list(void)
{
    printf("messages:\n");
    for (size_t i = 0; i < reg->message_count; i++)
        printf("  %-24s %s\n", reg->messages[i]->key, reg->messages[i]->name);
    printf("channels:\n");
    for (size_t i = 0; i < reg->channel_count; i++) {
        const mf_channel_desc *ch = reg->channels[i];
        printf("  %-36s", ch->address);
        for (size_t j = 0; j < ch->message_count; j++)
            printf(" %s", ch->messages[j]->key);
        printf("\n");
    }
    printf("operations:\n");
    for (size_t i = 0; i < reg->operation_count; i++) {
        const mf_operation_desc *op = reg->operations[i];
        printf("  %-18s %-24s %-7s %-34s %s%s%s\n", op->service, op->key,
               op->action == MF_ACTION_SEND ? "send" : "receive", op->channel->address, op->message->key,
               op->reply ? " -> " : "", op->reply ? op->reply->key : "");
    }
    return 0;
}

/* Publishes one payload on subject after checking it. 0 ok, 1 invalid, 2 error. */
static int publish_one(mf_client *c, const cli *o, const char *subject, const char *data, size_t len)
{
    if (!o->raw) {
        const mf_message_desc *m = message_for(o, subject);
        if (!m) {
            fprintf(stderr, "mfctl: no channel of the contract matches %s (use --raw or --message)\n", subject);
            return 1;
        }
        if (check_payload(m, data, len, "payload"))
            return 1;
    }
    mf_status st = mf_client_publish(c, subject, NULL, data, len);
    if (st) {
        fprintf(stderr, "mfctl: publish on %s failed: %s\n", subject, mf_status_str(st));
        return 2;
    }
    return 0;
}

static int cmd_pub(const cli *o)
{
    if (o->n_args < 1) {
        usage(stderr);
        return 2;
    }
    size_t len;
    char *data = read_input(o->n_args > 1 ? o->args[1] : "-", &len);
    if (!data)
        return 2;
    mf_client *c = connect_client(o);
    int rc = c ? publish_one(c, o, o->args[0], data, len) : 2;
    if (c && rc == 0 && mf_client_flush(c, o->timeout_ms)) {
        fprintf(stderr, "mfctl: flush timed out\n");
        rc = 2;
    }
    mf_client_destroy(c);
    free(data);
    return rc;
}

typedef struct sub_state {
    const cli *o;
    long seen;
} sub_state;

static void on_sub_msg(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    sub_state *s = ctx;
    printf("%s %.*s\n", m->subject, (int)m->len, (const char *)m->data);
    const mf_message_desc *md = message_for(s->o, m->subject);
    if (md) {
        void *v = malloc(md->size);
        mf_error err;
        if (v && mf_decode(md->type, m->data, m->len, v, &err) != MF_OK)
            printf("!invalid %s: %s: %s\n", md->key, err.pointer[0] ? err.pointer : "(document)", err.message);
        if (v) {
            mf_free(md->type, v);
            free(v);
        }
    }
    fflush(stdout);
    if (s->o->count > 0 && ++s->seen >= s->o->count)
        stop = 1;
}

static int cmd_sub(const cli *o)
{
    if (o->n_args < 1) {
        usage(stderr);
        return 2;
    }
    mf_client *c = connect_client(o);
    if (!c)
        return 2;
    sub_state s = {o, 0};
    uint64_t sid;
    mf_status st = mf_client_subscribe(c, o->args[0], o->queue, on_sub_msg, &s, &sid);
    if (st == MF_OK)
        st = mf_client_flush(c, o->timeout_ms);
    if (st) {
        fprintf(stderr, "mfctl: subscribe to %s failed: %s\n", o->args[0], mf_status_str(st));
        mf_client_destroy(c);
        return 2;
    }
    fprintf(stderr, "mfctl: subscribed to %s%s%s\n", o->args[0], o->queue ? " in queue group " : "",
            o->queue ? o->queue : "");
    while (!stop)
        usleep(20000);
    mf_client_unsubscribe(c, sid, 0);
    mf_client_destroy(c);
    return 0;
}

static int cmd_req(const cli *o)
{
    if (o->n_args < 1) {
        usage(stderr);
        return 2;
    }
    size_t len;
    char *data = read_input(o->n_args > 1 ? o->args[1] : "-", &len);
    if (!data)
        return 2;
    const mf_message_desc *m = o->raw ? NULL : message_for(o, o->args[0]);
    if (!o->raw && m && check_payload(m, data, len, "request")) {
        free(data);
        return 1;
    }
    mf_client *c = connect_client(o);
    int rc = 2;
    if (c) {
        mf_msg_owned *rep = NULL;
        mf_status st = mf_client_request(c, o->args[0], data, len, o->timeout_ms, &rep);
        if (st == MF_OK) {
            printf("%.*s\n", (int)rep->msg.len, (const char *)rep->msg.data);
            rc = 0;
        } else {
            fprintf(stderr, "mfctl: request on %s failed: %s\n", o->args[0], mf_status_str(st));
            rc = 1;
        }
        mf_msg_owned_free(rep);
        mf_client_destroy(c);
    }
    free(data);
    return rc;
}

/* The subject of a channel with every parameter set to an example value. */
static int demo_subject(const mf_channel_desc *ch, char *out, size_t cap)
{
    const char *values[8];
    for (size_t i = 0; i < ch->param_count && i < 8; i++)
        values[i] = "0b7a3c9e-4f21-4d8a-9c55-2e1f6a7b8c90";
    return mf_channel_address(ch, values, out, cap, NULL) == MF_OK ? 0 : -1;
}

static int cmd_demo(const cli *o)
{
    if (o->n_args < 1) {
        usage(stderr);
        return 2;
    }
    mf_client *c = connect_client(o);
    if (!c)
        return 2;
    int rc = 0;
    for (size_t i = 0; i < reg->operation_count; i++) {
        const mf_operation_desc *op = reg->operations[i];
        if (op->action != MF_ACTION_SEND || op->reply)
            continue;
        char path[1024], subject[512];
        snprintf(path, sizeof path, "%s/%s.full.json", o->args[0], op->message->key);
        size_t len;
        char *data = read_input(path, &len);
        if (!data || demo_subject(op->channel, subject, sizeof subject)) {
            free(data);
            rc = 1;
            continue;
        }
        /* Publish the canonical compact form: decode (validates) and re-encode. */
        int r = 1;
        void *v = calloc(1, op->message->size);
        mf_buf body = MF_BUF_INIT;
        mf_error err;
        if (v && mf_decode(op->message->type, data, len, v, &err) == MF_OK &&
            mf_encode(op->message->type, v, &body, &err) == MF_OK)
            r = mf_client_publish(c, subject, NULL, body.data, body.len) == MF_OK ? 0 : 2;
        else
            fprintf(stderr, "mfctl: %s: %s: %s\n", path, err.pointer[0] ? err.pointer : "(document)", err.message);
        if (v)
            mf_free(op->message->type, v);
        free(v);
        mf_buf_free(&body);
        printf("demo: %-20s %-18s -> %s %s\n", op->service, op->key, subject, r ? "FAILED" : "published");
        rc |= r;
        free(data);
    }
    if (mf_client_flush(c, o->timeout_ms))
        rc = 2;
    mf_client_destroy(c);
    return rc;
}

static int parse_args(int argc, char **argv, cli *o, const char **cmd)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--server") || !strcmp(a, "-s")) {
            if (!v || o->n_servers == MAX_SERVERS)
                return -1;
            o->servers[o->n_servers++] = v;
            i++;
        } else if (!strcmp(a, "--timeout")) {
            if (!v || (o->timeout_ms = atoi(v)) <= 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--message")) {
            if (!(o->message = v))
                return -1;
            i++;
        } else if (!strcmp(a, "--queue")) {
            if (!(o->queue = v))
                return -1;
            i++;
        } else if (!strcmp(a, "--count")) {
            if (!v || (o->count = atol(v)) < 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--raw")) {
            o->raw = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "mfctl: unknown option %s\n", a);
            return -1;
        } else if (!*cmd) {
            *cmd = a;
        } else if (o->n_args < 4) {
            o->args[o->n_args++] = a;
        } else {
            return -1;
        }
    }
    return *cmd ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "validate"))
        return mf_validate_tool_main(reg, argc - 1, argv + 1);
    cli o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = 2000;
    const char *cmd = NULL;
    if (parse_args(argc, argv, &o, &cmd)) {
        usage(stderr);
        return 2;
    }
    if (o.n_servers == 0) {
        const char *env = getenv("MF_SERVER");
        o.servers[o.n_servers++] = env && *env ? env : "ws://127.0.0.1:4280";
    }
    if (o.message && !mf_registry_message(reg, o.message)) {
        fprintf(stderr, "mfctl: unknown message %s (see mfctl list)\n", o.message);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(cmd, "list"))
        return cmd_list();
    if (!strcmp(cmd, "pub"))
        return cmd_pub(&o);
    if (!strcmp(cmd, "sub"))
        return cmd_sub(&o);
    if (!strcmp(cmd, "req"))
        return cmd_req(&o);
    if (!strcmp(cmd, "demo"))
        return cmd_demo(&o);
    fprintf(stderr, "mfctl: unknown command %s\n", cmd);
    usage(stderr);
    return 2;
}
