/*
 * ops.c - the NATS operations of one connection: CONNECT (with authentication),
 * PING/PONG, the dispatch of PUB/HPUB/SUB/UNSUB to route.c, and protocol errors.
 *
 * Authentication: with --auth-token the CONNECT's auth_token is compared in
 * constant time. With accounts (--config) the CONNECT's user/pass or auth_token
 * is checked against the stored hashes; a bcrypt check takes a good part of a
 * second, so it runs on the accounts' worker thread (auth.c) while this
 * connection's input is paused and later operations wait in its parser; the
 * service thread goes on serving everybody else. A credential already verified
 * once is recognised from a cache without hashing again.
 */
#include "broker/broker.h"

#include <stdlib.h>
#include <string.h>

/* Constant-time comparison: the time depends on the lengths only, never on where bytes differ. */
static bool token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < la ? (unsigned char)a[i] : 0;
        unsigned char y = i < lb ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

static void auth_violation(mfb_conn *c, const char *why)
{
    MFB_LOGE("cid=%llu authorization violation (%s)", (unsigned long long)c->cid, why);
    c->b->auth_failures++;
    mfb_conn_close(c, "Authorization Violation", "authorization violation");
}

/* The CONNECT is accepted (authenticated as `user`, NULL without accounts). */
static void accept_connect(mfb_conn *c, const mf_proto_connect *o, const mfb_user *user)
{
    /* Like nats-server, members a CONNECT leaves out keep their current value
     * (verbose and pedantic start true). */
    if (o->has_verbose)
        c->verbose = o->verbose;
    if (o->has_pedantic)
        c->pedantic = o->pedantic;
    c->headers = o->headers;
    c->no_responders = o->no_responders && o->headers;
    c->echo = o->echo;
    snprintf(c->name, sizeof c->name, "%s", o->name);
    if (user)
        c->user = user;
    if (!c->connected) {
        /* names can be long (nats-server accepts any length): the log shows 64 bytes */
        MFB_LOGI("cid=%llu CONNECT name='%.64s%s' lang='%.32s' version='%.32s'%s%s", (unsigned long long)c->cid,
                o->name, strlen(o->name) > 64 ? "..." : "", o->lang, o->version, c->user ? " user=" : "",
                c->user ? mfb_user_name(c->user) : "");
        mfb_conn_connected(c);
    }
    mfb_conn_send_ok(c);
}

/* Accounts: finishes a CONNECT whose check ran on the worker (auth.c calls this). */
void mfb_ops_auth_done(mfb_conn *c, const mf_proto_connect *o, const mfb_user *user)
{
    c->auth_pending = false;
    if (!c->closing) {
        if (!user)
            auth_violation(c, o->user[0] ? "wrong user or password" : "unknown token");
        else
            accept_connect(c, o, user);
    }
    if (!c->closing) {
        /* what came after the CONNECT waited in the parser */
        lws_rx_flow_control(c->wsi, 1);
        mfb_ops_run(c);
    }
}

static void handle_connect(mfb_conn *c, const mf_proto_op *op)
{
    const mfb_broker_config *cfg = c->b->cfg;
    mf_proto_connect o;
    mf_error err;
    mf_error_clear(&err);
    mf_status st = mf_proto_parse_connect(op->json.ptr, op->json.len, &o, &err);
    if (st == MF_ERR_LIMIT && mfb_auth_required(cfg)) {
        auth_violation(c, err.message); /* a credential longer than any stored one */
        return;
    }
    if (st != MF_OK && st != MF_ERR_LIMIT) {
        MFB_LOGE("cid=%llu bad CONNECT: %s", (unsigned long long)c->cid, err.message);
        mfb_conn_close(c, "Unknown Protocol Operation", "bad CONNECT");
        return;
    }
    if (cfg->auth_token) {
        if (!token_equal(o.auth_token, cfg->auth_token)) {
            auth_violation(c, o.has_auth_token ? "wrong auth_token" : "no auth_token");
            return;
        }
    } else if (cfg->accounts && !c->connected) {
        const mfb_user *u = NULL;
        int r = mfb_auth_begin(c, &o, &u);
        if (r > 0) {
            c->auth_pending = true; /* the worker answers later: mfb_ops_auth_done */
            lws_rx_flow_control(c->wsi, 0);
            return;
        }
        if (r < 0 || !u) {
            auth_violation(c, r < 0 ? "no credentials" : "wrong credentials");
            return;
        }
        accept_connect(c, &o, u);
        return;
    }
    accept_connect(c, &o, NULL);
}

void mfb_ops_handle(mfb_conn *c, const mf_proto_op *op)
{
    if (c->b->cfg->log_level >= MFB_LOG_DEBUG)
        MFB_LOGD("cid=%llu <- %s%s%.*s", (unsigned long long)c->cid, mf_proto_kind_str(op->kind),
                op->subject.len ? " " : "", (int)op->subject.len, op->subject.ptr ? op->subject.ptr : "");
    /* With authentication on, the first op must be a CONNECT (as nats-server). */
    if (!c->connected && mfb_auth_required(c->b->cfg) && op->kind != MF_OP_CONNECT) {
        char why[64];
        snprintf(why, sizeof why, "%s before CONNECT", mf_proto_kind_str(op->kind));
        auth_violation(c, why);
        return;
    }
    switch (op->kind) {
    case MF_OP_CONNECT:
        handle_connect(c, op);
        break;
    case MF_OP_PING:
        if (mfb_frameq_prepare(&c->out) == MF_OK && mf_proto_write_pong(&c->out.buf) == MF_OK)
            mfb_conn_queued(c, false, 0);
        break;
    case MF_OP_PONG:
        c->pings_out = 0;
        break;
    case MF_OP_HPUB:
        if (!c->headers) {
            /* nats-server: headers must be announced in CONNECT first */
            MFB_LOGE("cid=%llu HPUB without headers support in CONNECT", (unsigned long long)c->cid);
            mfb_conn_close(c, "Unknown Protocol Operation", "protocol error");
            break;
        }
        mfb_route_pub(c, op);
        break;
    case MF_OP_PUB:
        mfb_route_pub(c, op);
        break;
    case MF_OP_SUB:
        mfb_route_sub(c, op);
        break;
    case MF_OP_UNSUB:
        mfb_route_unsub(c, op);
        break;
    default:
        /* the server-side parser returns no other kinds */
        mfb_conn_close(c, "Unknown Protocol Operation", "unexpected operation");
        break;
    }
}

void mfb_ops_run(mfb_conn *c)
{
    mf_proto_op op;
    mf_error err;
    int r = 0;
    while (!c->closing && !c->auth_pending && (r = mf_proto_next(&c->parser, &op, &err)) == 1)
        mfb_ops_handle(c, &op);
    if (!c->closing && r < 0)
        mfb_ops_protocol_error(c, &err);
}

void mfb_ops_protocol_error(mfb_conn *c, const mf_error *err)
{
    const char *text;
    switch (c->parser.error) {
    case MF_PROTO_E_PAYLOAD_TOO_BIG: text = "Maximum Payload Violation"; break;
    case MF_PROTO_E_LINE_TOO_LONG: text = "maximum control line exceeded"; break; /* nats-server's case */
    default: text = "Unknown Protocol Operation"; break;
    }
    MFB_LOGE("cid=%llu protocol error: %s", (unsigned long long)c->cid, err->message);
    if (!c->connected && mfb_auth_required(c->b->cfg)) {
        c->b->auth_failures++;
        text = "Authorization Violation";
    }
    mfb_conn_close(c, text, "protocol error");
}
