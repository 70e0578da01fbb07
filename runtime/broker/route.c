/*
 * route.c - subscriptions and message routing.
 *
 * Each connection keeps its subscriptions in a small hash table by sid (the
 * client's text, any token); the broker keeps all of them in one sublist,
 * keyed by subject, for matching. A publish is matched once, then delivered to
 * every plain subscriber and to one random member of each queue group, as
 * nats-server does.
 *
 * A publish subject with wildcard tokens ("a.*", "a.>") is, as in nats-server,
 * a literal subject whose "*" and ">" tokens only subscription wildcards match:
 * "a.*" reaches subscriptions "a.*", "a.>", "*.*", ">", not "a.b". A subject
 * with an empty token ("a..b") reaches nobody. In pedantic mode both also get
 * -ERR 'Invalid Publish Subject' (and are still delivered).
 *
 * Permissions (accounts, accounts.c): a SUB or PUB the user may not make gets
 * -ERR 'Permissions Violation for Subscription to "<subject>"' / '... for
 * Publish to "<subject>"' (nats-server's texts, the subject quoted as Go's %q
 * does), is not registered / not delivered, and the connection stays. A
 * request delivered to a user with allow_responses records its reply subject,
 * which that connection may then publish to (responses_max times, until
 * responses_expires_ms), whatever its publish permissions say.
 */
#include "broker/broker.h"
#include "broker/hash.h"

#include <stdlib.h>
#include <string.h>

static const char NO_RESPONDERS_HDR[] = "NATS/1.0 503\r\n\r\n";

static uint64_t next_rand(mfb_broker *b)
{
    /* xorshift64*: only used to spread queue-group deliveries */
    uint64_t x = b->rng ? b->rng : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    b->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static mfb_sub *sid_find(const mfb_conn *c, const char *sid, size_t n)
{
    if (!c->nsids_buckets)
        return NULL;
    for (mfb_sub *s = c->sids[mfb_hash64(sid, n) & (c->nsids_buckets - 1)]; s; s = s->next)
        if (s->sid_len == n && memcmp(s->sid, sid, n) == 0)
            return s;
    return NULL;
}

static bool sid_insert(mfb_conn *c, mfb_sub *s)
{
    if (c->nsubs + 1 > c->nsids_buckets) {
        size_t nb = c->nsids_buckets ? c->nsids_buckets * 2 : 8;
        mfb_sub **t = calloc(nb, sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i < c->nsids_buckets; i++) {
            mfb_sub *x = c->sids[i];
            while (x) {
                mfb_sub *nx = x->next;
                size_t j = mfb_hash64(x->sid, x->sid_len) & (nb - 1);
                x->next = t[j];
                t[j] = x;
                x = nx;
            }
        }
        free(c->sids);
        c->sids = t;
        c->nsids_buckets = nb;
    }
    size_t j = mfb_hash64(s->sid, s->sid_len) & (c->nsids_buckets - 1);
    s->next = c->sids[j];
    c->sids[j] = s;
    c->nsubs++;
    return true;
}

static void sid_unlink(mfb_conn *c, mfb_sub *s)
{
    mfb_sub **pp = &c->sids[mfb_hash64(s->sid, s->sid_len) & (c->nsids_buckets - 1)];
    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = s->next;
        c->nsubs--;
    }
}

static void sub_free(mfb_sub *s)
{
    free(s->subject);
    free(s->queue);
    free(s->sid);
    free(s);
}

/* Takes a subscription out of the sublist and its connection, and frees it. */
static void sub_remove(mfb_conn *c, mfb_sub *s)
{
    mfb_sublist_remove(c->b->sl, s->subject, s->queue, s);
    sid_unlink(c, s);
    sub_free(s);
}

static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* "<subject>" quoted as Go's %q does for the texts nats-server sends. */
static void quote_go(mf_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    mf_buf_append_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            mf_buf_append_char(b, '\\');
            mf_buf_append_char(b, (char)ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            mf_buf_append(b, e, 4);
        } else {
            mf_buf_append_char(b, (char)ch);
        }
    }
    mf_buf_append_char(b, '"');
}

/* -ERR 'Permissions Violation for <what> "<subject>"[ using queue "<queue>"]'; the connection stays. */
static void permission_violation(mfb_conn *c, const char *what, const char *subj, size_t n, const char *queue)
{
    mf_buf t = MF_BUF_INIT;
    mf_buf_printf(&t, "Permissions Violation for %s to ", what);
    quote_go(&t, subj, n);
    if (queue) {
        mf_buf_append_str(&t, " using queue ");
        quote_go(&t, queue, strlen(queue));
    }
    c->b->permission_violations++;
    MFB_LOGE("cid=%llu user '%s': %s", (unsigned long long)c->cid, mfb_user_name(c->user), t.data ? t.data : what);
    if (t.data)
        mfb_conn_send_err(c, t.data);
    mf_buf_free(&t);
}

/* ---- reply permissions (allow_responses) ---- */

#define MAX_RESPS 4096 /* reply subjects remembered per connection; the oldest go first */

static void resp_free(mfb_resp *r)
{
    free(r->subject);
    free(r);
}

/* A request with reply subject `reply` was delivered to c. */
static void resp_add(mfb_conn *c, const char *reply, size_t len)
{
    uint64_t max;
    int expires_ms;
    if (!mfb_user_allow_responses(c->user, &max, &expires_ms))
        return;
    mfb_resp *r = calloc(1, sizeof *r);
    if (!r || !(r->subject = malloc(len + 1))) {
        free(r);
        return;
    }
    memcpy(r->subject, reply, len);
    r->subject[len] = '\0';
    r->len = len;
    r->left = max ? max : UINT64_MAX;
    r->expires = expires_ms ? lws_now_usecs() + (lws_usec_t)expires_ms * 1000 : 0;
    r->next = c->resps;
    c->resps = r;
    /* bounded: drop the oldest beyond MAX_RESPS */
    size_t n = 1;
    for (mfb_resp *x = r; x->next; x = x->next, n++)
        if (n >= MAX_RESPS) {
            mfb_resp *rest = x->next;
            x->next = NULL;
            while (rest) {
                mfb_resp *nx = rest->next;
                resp_free(rest);
                rest = nx;
            }
            break;
        }
}

/* May c publish to `subj` as a response? Uses up one of its publishes. */
static bool resp_take(mfb_conn *c, const char *subj, size_t len)
{
    lws_usec_t now = lws_now_usecs();
    for (mfb_resp **pp = &c->resps; *pp;) {
        mfb_resp *r = *pp;
        if (r->expires && now >= r->expires) {
            *pp = r->next;
            resp_free(r);
            continue;
        }
        if (r->len == len && memcmp(r->subject, subj, len) == 0) {
            if (--r->left == 0) {
                *pp = r->next;
                resp_free(r);
            }
            return true;
        }
        pp = &r->next;
    }
    return false;
}

void mfb_route_sub(mfb_conn *c, const mf_proto_op *op)
{
    mfb_broker *b = c->b;
    if (!mf_subject_valid(op->subject.ptr, op->subject.len, true)) {
        mfb_conn_send_err(c, "Invalid Subject");
        return;
    }
    if (!mfb_user_may_subscribe(c->user, op->subject.ptr, op->subject.len, op->queue.len ? op->queue.ptr : NULL)) {
        permission_violation(c, "Subscription", op->subject.ptr, op->subject.len,
                             op->queue.len ? op->queue.ptr : NULL);
        return;
    }
    if (sid_find(c, op->sid.ptr, op->sid.len)) {
        /* nats-server ignores a SUB that reuses a live sid */
        mfb_conn_send_ok(c);
        return;
    }
    if (b->cfg->max_subs && c->nsubs >= b->cfg->max_subs) {
        MFB_LOGE("cid=%llu maximum subscriptions (%zu) exceeded", (unsigned long long)c->cid, b->cfg->max_subs);
        mfb_conn_send_err(c, "maximum subscriptions exceeded");
        return;
    }
    mfb_sub *s = calloc(1, sizeof *s);
    if (!s)
        goto nomem;
    s->conn = c;
    s->subject = dup_n(op->subject.ptr, op->subject.len);
    s->subject_len = op->subject.len;
    s->sid = dup_n(op->sid.ptr, op->sid.len);
    s->sid_len = op->sid.len;
    if (op->queue.len)
        s->queue = dup_n(op->queue.ptr, op->queue.len);
    if (!s->subject || !s->sid || (op->queue.len && !s->queue))
        goto nomem;
    if (mfb_sublist_insert(b->sl, s->subject, s->queue, s) != MF_OK)
        goto nomem;
    if (!sid_insert(c, s)) {
        mfb_sublist_remove(b->sl, s->subject, s->queue, s);
        goto nomem;
    }
    mfb_conn_send_ok(c);
    return;
nomem:
    if (s)
        sub_free(s);
    MFB_LOGE("cid=%llu out of memory adding a subscription", (unsigned long long)c->cid);
    mfb_conn_send_err(c, "Server Error");
}

void mfb_route_unsub(mfb_conn *c, const mf_proto_op *op)
{
    mfb_sub *s = sid_find(c, op->sid.ptr, op->sid.len);
    if (s) {
        if (op->has_max_msgs && op->max_msgs > s->delivered)
            s->max = op->max_msgs;
        else
            sub_remove(c, s);
    }
    mfb_conn_send_ok(c);
}

void mfb_route_drop_conn(mfb_conn *c)
{
    for (size_t i = 0; i < c->nsids_buckets; i++) {
        mfb_sub *s = c->sids[i];
        while (s) {
            mfb_sub *nx = s->next;
            mfb_sublist_remove(c->b->sl, s->subject, s->queue, s);
            sub_free(s);
            s = nx;
        }
    }
    free(c->sids);
    c->sids = NULL;
    c->nsids_buckets = 0;
    c->nsubs = 0;
    while (c->resps) {
        mfb_resp *r = c->resps;
        c->resps = r->next;
        resp_free(r);
    }
}

size_t mfb_route_total_subs(const mfb_broker *b)
{
    return mfb_sublist_count(b->sl);
}

/* Queues one MSG/HMSG for subscription s. false when it could not be queued. */
static bool deliver(mfb_conn *pub, mfb_sub *s, const mf_proto_op *op)
{
    mfb_conn *c = s->conn;
    mfb_broker *b = c->b;
    if (c->closing) {
        b->dropped_msgs++;
        return false;
    }
    if (c->user && !mfb_user_may_receive(c->user, op->subject.ptr, op->subject.len))
        return false; /* its subscribe deny list, through a wider wildcard subscription */
    mf_status st = mfb_frameq_prepare(&c->out);
    if (!st) {
        mf_buf *o = &c->out.buf;
        if (op->kind == MF_OP_HPUB && c->headers)
            st = mf_proto_write_hmsg(o, op->subject.ptr, op->subject.len, s->sid, s->sid_len, op->reply.ptr,
                                     op->reply.len, op->hdr, op->hdr_len, op->payload.ptr, op->payload.len);
        else /* plain PUB, or headers stripped for a client that did not ask for them */
            st = mf_proto_write_msg(o, op->subject.ptr, op->subject.len, s->sid, s->sid_len, op->reply.ptr,
                                    op->reply.len, op->payload.ptr, op->payload.len);
    }
    if (st) {
        b->dropped_msgs++;
        return false;
    }
    s->delivered++;
    if (op->reply.len && c->user)
        resp_add(c, op->reply.ptr, op->reply.len);
    /* counted in out_msgs / out_bytes when it is written (conn.c), or as dropped */
    mfb_conn_queued(c, true, op->total_len);
    if (!c->slow && mfb_frameq_pending(&c->out) > b->cfg->max_pending / 4)
        pub->congested = true; /* the publisher pauses a little (conn.c) */
    if (s->max && s->delivered >= s->max)
        sub_remove(c, s);
    return true;
}

/*
 * The subscriptions matching a publish subject with wildcard tokens (see the
 * top of the file). The sublist only matches literal subjects, so each "*" or
 * ">" token is replaced by a placeholder literal token, which a subscription
 * can only match through a wildcard at that position or by having the
 * placeholder itself there; the second kind is then filtered out by matching
 * every candidate's pattern against the original subject, in which "*" and ">"
 * are plain tokens. Leaves r empty when the subject has an empty token.
 */
static mf_status match_wildcard_subject(mfb_broker *b, const char *subj, size_t len, mfb_sublist_result *r)
{
    static const char PLACEHOLDER = '\x01';
    char *lit = malloc(len + 1);
    if (!lit)
        return MF_ERR_NOMEM;
    memcpy(lit, subj, len);
    lit[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        bool tok_start = i == 0 || subj[i - 1] == '.';
        bool tok_end = i + 1 == len || subj[i + 1] == '.';
        if (tok_start && tok_end && (subj[i] == '*' || subj[i] == '>'))
            lit[i] = PLACEHOLDER;
    }
    /* an empty token (or anything else invalid) is left as it is: it matches nothing */
    mf_status st = mfb_sublist_match(b->sl, lit, len, r);
    free(lit);
    if (st != MF_OK)
        return st;
    size_t n = 0;
    for (size_t i = 0; i < r->npsubs; i++) {
        mfb_sub *s = r->psubs[i];
        if (mf_subject_matches(s->subject, s->subject_len, subj, len))
            r->psubs[n++] = s;
    }
    r->npsubs = n;
    size_t ng = 0;
    for (size_t g = 0; g < r->ngroups; g++) {
        mfb_sublist_group grp = r->groups[g];
        size_t k = 0;
        for (size_t i = 0; i < grp.n; i++) {
            mfb_sub *s = grp.subs[i];
            if (mf_subject_matches(s->subject, s->subject_len, subj, len))
                grp.subs[k++] = s;
        }
        grp.n = k;
        if (k)
            r->groups[ng++] = grp;
    }
    r->ngroups = ng;
    return MF_OK;
}

static bool eligible(const mfb_sub *s, const mfb_conn *pub)
{
    return !s->conn->closing && (s->conn != pub || pub->echo);
}

static void no_responders(mfb_conn *pub, const mf_proto_op *op)
{
    mfb_broker *b = pub->b;
    if (mfb_sublist_match(b->sl, op->reply.ptr, op->reply.len, &b->res2) != MF_OK)
        return;
    mfb_sub *mine = NULL;
    for (size_t i = 0; i < b->res2.npsubs && !mine; i++) {
        mfb_sub *s = b->res2.psubs[i];
        if (s->conn == pub)
            mine = s;
    }
    for (size_t g = 0; g < b->res2.ngroups && !mine; g++)
        for (size_t i = 0; i < b->res2.groups[g].n && !mine; i++) {
            mfb_sub *s = b->res2.groups[g].subs[i];
            if (s->conn == pub)
                mine = s;
        }
    if (!mine || pub->closing || mfb_frameq_prepare(&pub->out) != MF_OK)
        return;
    if (mf_proto_write_hmsg(&pub->out.buf, op->reply.ptr, op->reply.len, mine->sid, mine->sid_len, NULL, 0,
                            NO_RESPONDERS_HDR, sizeof NO_RESPONDERS_HDR - 1, NULL, 0) == MF_OK)
        mfb_conn_queued(pub, true, 0);
}

void mfb_route_pub(mfb_conn *c, const mf_proto_op *op)
{
    mfb_broker *b = c->b;
    if (c->user && !mfb_user_may_publish(c->user, op->subject.ptr, op->subject.len) &&
        !resp_take(c, op->subject.ptr, op->subject.len)) {
        permission_violation(c, "Publish", op->subject.ptr, op->subject.len, NULL);
        return;
    }
    bool literal = mf_subject_valid(op->subject.ptr, op->subject.len, false);
    /* nats-server checks publish subjects in pedantic mode only, and delivers anyway */
    if (!literal && c->pedantic)
        mfb_conn_send_err(c, "Invalid Publish Subject");
    c->in_msgs++;
    c->in_bytes += op->total_len;
    b->in_msgs++;
    b->in_bytes += op->total_len;
    mfb_conn_send_ok(c); /* as nats-server: the +OK comes before the message reaches the publisher's own subscriptions */
    size_t delivered = 0;
    mf_status st = literal ? mfb_sublist_match_valid(b->sl, op->subject.ptr, op->subject.len, &b->res)
                           : match_wildcard_subject(b, op->subject.ptr, op->subject.len, &b->res);
    if (st == MF_OK) {
        mfb_sublist_result *r = &b->res;
        for (size_t i = 0; i < r->npsubs; i++) {
            mfb_sub *s = r->psubs[i];
            if (eligible(s, c) && deliver(c, s, op))
                delivered++;
        }
        for (size_t g = 0; g < r->ngroups; g++) {
            size_t n = r->groups[g].n;
            size_t start = (size_t)(next_rand(b) % n);
            for (size_t k = 0; k < n; k++) {
                mfb_sub *s = r->groups[g].subs[(start + k) % n];
                if (eligible(s, c)) {
                    if (deliver(c, s, op))
                        delivered++;
                    break;
                }
            }
        }
    }
    if (!delivered && op->reply.len && c->no_responders)
        no_responders(c, op);
}
