/*
 * test_client_security.c - mf_client against mf-broker's security features:
 * wss:// with a throw-away certificate (trusted through a CA file, refused when
 * untrusted or for the wrong name, tls_insecure), and accounts (--config):
 * user/password and token logins, a permission violation reported as an event
 * while the connection stays, per-user inbox prefixes for requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e_util.h"

#define SKIP_WITHOUT_BROKER()                                                                            \
    do {                                                                                                 \
        const char *why_ = e2e_server_missing(E2E_BROKER);                                               \
        if (why_)                                                                                        \
            mf_skip_or_fail("%s", why_);                                                                 \
    } while (0)

/* ------------------------------------------------------------------ wss:// */

typedef struct tls_broker {
    e2e_broker b;
    char cert[300], key[300];
    char url[80];
} tls_broker;

static bool tls_broker_start(tls_broker *t)
{
    memset(t, 0, sizeof *t);
    if (!e2e_mkdtemp(t->b.dir, sizeof t->b.dir) ||
        !e2e_make_cert(t->b.dir, t->cert, sizeof t->cert, t->key, sizeof t->key))
        return false;
    const char *args[] = {"--tls-cert", t->cert, "--tls-key", t->key, NULL};
    if (!e2e_broker_start(&t->b, args))
        return false;
    snprintf(t->url, sizeof t->url, "wss://127.0.0.1:%d", t->b.port);
    return true;
}

/* A client that tries twice and gives up; true when it connected. */
static bool connects(mf_client_opts *o)
{
    o->max_reconnect_attempts = 2;
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(o, &c, &err), MF_OK);
    bool ok = mf_client_wait_connected(c, 3000) == MF_OK;
    mf_client_destroy(c);
    return ok;
}

static void test_wss_broker(void **state)
{
    (void)state;
    SKIP_WITHOUT_BROKER();
    tls_broker t;
    if (access("/usr/bin/openssl", X_OK) != 0)
        mf_skip_or_fail("the openssl command is missing (apt-get install openssl; scripts/deps.sh does)");
    assert_true(tls_broker_start(&t));
    const char *servers[] = {t.url};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.tls_ca_file = t.cert;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "tls.>", NULL, e2e_col_cb, &col, NULL), MF_OK);
    for (int i = 0; i < 200; i++)
        e2e_pub_int(c, "tls.n", i);
    static char big[300 * 1024];
    memset(big, 'b', sizeof big);
    assert_int_equal(mf_client_publish(c, "tls.big", NULL, big, sizeof big), MF_OK); /* many TLS records */
    assert_true(e2e_col_wait(&col, 201, 10000));
    for (int i = 0; i < 200; i++)
        assert_int_equal(col.vals[i], i);
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(c, "nobody.here", "q", 1, 3000, &rep), MF_ERR_NO_RESPONDERS);
    assert_int_equal(mf_client_drain(c, 3000), MF_OK);
    mf_client_destroy(c);
    e2e_col_free(&col);

    /* untrusted (the system's CAs do not know it): no connection */
    e2e_opts(&o, servers, 1, NULL);
    o.lws_log_level = 0;
    assert_false(connects(&o));
    /* tls_insecure: accepted */
    e2e_opts(&o, servers, 1, NULL);
    o.tls_insecure = true;
    assert_true(connects(&o));
    /* a plain ws:// client on the TLS port: no connection */
    char plain[80];
    snprintf(plain, sizeof plain, "ws://127.0.0.1:%d", t.b.port);
    const char *ps[] = {plain};
    e2e_opts(&o, ps, 1, NULL);
    assert_false(connects(&o));
    e2e_events_free(&ev);
    e2e_broker_cleanup(&t.b);
}

static void test_wss_wrong_name(void **state)
{
    (void)state;
    SKIP_WITHOUT_BROKER();
    if (access("/usr/bin/openssl", X_OK) != 0)
        mf_skip_or_fail("the openssl command is missing (apt-get install openssl; scripts/deps.sh does)");
    e2e_broker b;
    memset(&b, 0, sizeof b);
    assert_true(e2e_mkdtemp(b.dir, sizeof b.dir));
    char cert[300], key[300], cmd[1024];
    snprintf(cert, sizeof cert, "%s/other.pem", b.dir);
    snprintf(key, sizeof key, "%s/other.key", b.dir);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' -out '%s' -days 2 "
             "-subj /CN=other.example -addext subjectAltName=DNS:other.example >/dev/null 2>&1",
             key, cert);
    assert_int_equal(system(cmd), 0);
    const char *args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    assert_true(e2e_broker_start(&b, args));
    char url[80];
    snprintf(url, sizeof url, "wss://127.0.0.1:%d", b.port);
    const char *servers[] = {url};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.tls_ca_file = cert; /* trusted, but issued for another name */
    o.lws_log_level = 0;
    assert_false(connects(&o));
    e2e_broker_cleanup(&b);
}

/* ------------------------------------------------------------------ accounts */

/* bcrypt of pw with mf-broker --hash-password. */
static void hash_of(const char *pw, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | '%s' --hash-password", pw, e2e_broker_path());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, (int)cap, p));
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_memory_equal(out, "$2b$", 4);
}

static bool accounts_broker(e2e_broker *b)
{
    memset(b, 0, sizeof *b);
    if (!e2e_mkdtemp(b->dir, sizeof b->dir))
        return false;
    char h_svc[128], h_client[128], h_tok[128], path[400];
    hash_of("svc-pw", h_svc, sizeof h_svc);
    hash_of("client-pw", h_client, sizeof h_client);
    hash_of("tok-123", h_tok, sizeof h_tok);
    snprintf(path, sizeof path, "%s/accounts.json", b->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f,
            "{\"users\": [\n"
            " {\"user\": \"svc\", \"password\": \"%s\"},\n"
            " {\"user\": \"client\", \"password\": \"%s\", \"permissions\": {\n"
            "   \"publish\": {\"allow\": [\"campaign.create\", \"user.info\"], \"deny\": [\"notification.user.*.push\"]},\n"
            "   \"subscribe\": {\"allow\": [\"_INBOX.client.>\"]}}},\n"
            " {\"name\": \"watcher\", \"token\": \"%s\", \"permissions\": {\"publish\": {\"allow\": []}}}\n"
            "]}\n",
            h_svc, h_client, h_tok);
    fclose(f);
    const char *args[] = {"--config", path, NULL};
    return e2e_broker_start(b, args);
}

static void on_info(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)ctx;
    mf_client_respond(c, m, "info!", 5);
}

static void test_accounts(void **state)
{
    (void)state;
    SKIP_WITHOUT_BROKER();
    e2e_broker b;
    assert_true(accounts_broker(&b));
    const char *servers[] = {b.url};

    /* the service: everything allowed */
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.user = "svc";
    o.pass = "svc-pw";
    mf_client *svc = e2e_connect(&o);
    assert_non_null(svc);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(svc, "campaign.>", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(svc, "notification.>", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(svc, "user.info", NULL, on_info, NULL, NULL), MF_OK);
    assert_int_equal(mf_client_flush(svc, 3000), MF_OK);

    /* the external client: its own inbox prefix, a violation is an event, the connection stays */
    e2e_events ev;
    e2e_events_init(&ev);
    e2e_opts(&o, servers, 1, &ev);
    o.user = "client";
    o.pass = "client-pw";
    o.inbox_prefix = "_INBOX.client";
    mf_client *cl = e2e_connect(&o);
    assert_non_null(cl);
    assert_int_equal(mf_client_publish(cl, "notification.user.7.push", NULL, "x", 1), MF_OK);
    assert_int_equal(mf_client_publish(cl, "campaign.create", NULL, "1", 1), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_ERROR, 1, 5000));
    pthread_mutex_lock(&ev.mu);
    assert_non_null(strstr(ev.last_error, "Permissions Violation for Publish to \"notification.user.7.push\""));
    pthread_mutex_unlock(&ev.mu);
    assert_true(e2e_col_wait(&col, 1, 5000));
    assert_string_equal(col.last_subject, "campaign.create");
    mf_msg_owned *rep = NULL;
    assert_int_equal(mf_client_request(cl, "user.info", "?", 1, 5000, &rep), MF_OK);
    assert_int_equal(rep->msg.len, 5);
    mf_msg_owned_free(rep);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_DISCONNECTED), 0);
    mf_client_destroy(cl);
    e2e_events_free(&ev);

    /* the default inbox prefix is not allowed: the inbox SUB is refused, the request times out */
    e2e_events_init(&ev);
    e2e_opts(&o, servers, 1, &ev);
    o.user = "client";
    o.pass = "client-pw";
    cl = e2e_connect(&o);
    assert_non_null(cl);
    assert_int_equal(mf_client_request(cl, "user.info", "?", 1, 1000, &rep), MF_ERR_TIMEOUT);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_ERROR, 1, 3000));
    pthread_mutex_lock(&ev.mu);
    assert_non_null(strstr(ev.last_error, "Permissions Violation for Subscription to \"_INBOX."));
    pthread_mutex_unlock(&ev.mu);
    mf_client_destroy(cl);
    e2e_events_free(&ev);

    /* a token user */
    e2e_opts(&o, servers, 1, NULL);
    o.token = "tok-123";
    mf_client *w = e2e_connect(&o);
    assert_non_null(w);
    mf_client_destroy(w);

    /* a wrong password: an authorization error, then it gives up */
    e2e_events_init(&ev);
    e2e_opts(&o, servers, 1, &ev);
    o.user = "client";
    o.pass = "wrong";
    o.max_reconnect_attempts = 2;
    mf_client *bad = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &bad, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 1, 10000));
    assert_true(e2e_events_count(&ev, MF_CLIENT_ERROR) >= 1);
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CONNECTED), 0);
    mf_client_destroy(bad);
    e2e_events_free(&ev);

    mf_client_destroy(svc);
    e2e_col_free(&col);
    e2e_broker_cleanup(&b);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wss_broker),
        cmocka_unit_test(test_wss_wrong_name),
        cmocka_unit_test(test_accounts),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
