/*
 * test_client_tls_edges.c - mf_client over wss:// to mf-broker (a throw-away certificate for
 * 127.0.0.1), the cases test_client_security.c leaves out:
 *   - a server given by host name ("localhost"): the name goes out as SNI; with
 *     tls_insecure the connection works, and when the broker stops the client reports
 *     the disconnection
 *   - the same name verified against the certificate (issued for the IP address only):
 *     refused, the client gives up after its attempts, its log says it was TLS
 *   - a CA file that does not exist: mf_client_create refuses it, naming the file
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "e2e_util.h"

typedef struct tls_broker {
    e2e_broker b;
    char cert[300], key[300];
    char by_name[80];
} tls_broker;

static void tls_broker_start(tls_broker *t)
{
    const char *why = e2e_server_missing(E2E_BROKER);
    if (why)
        mf_skip_or_fail("%s", why);
    memset(t, 0, sizeof *t);
    assert_true(e2e_mkdtemp(t->b.dir, sizeof t->b.dir));
    assert_true(e2e_make_cert(t->b.dir, t->cert, sizeof t->cert, t->key, sizeof t->key));
    const char *args[] = {"--tls-cert", t->cert, "--tls-key", t->key, NULL};
    assert_true(e2e_broker_start(&t->b, args));
    snprintf(t->by_name, sizeof t->by_name, "wss://localhost:%d", t->b.port);
}

static void test_host_name_insecure(void **state)
{
    (void)state;
    tls_broker t;
    tls_broker_start(&t);
    const char *servers[] = {t.by_name};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.tls_insecure = true;
    o.reconnect = false;
    mf_client *c = e2e_connect(&o);
    assert_non_null(c);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c, "tlsname.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    e2e_barrier(c, c);
    e2e_pub_int(c, "tlsname.x", 7);
    e2e_barrier(c, c);
    assert_true(e2e_col_wait(&col, 1, E2E_WAIT_MS));
    assert_int_equal(col.vals[0], 7);
    /* the broker goes away: the client says so (and, without reconnect, closes) */
    e2e_broker_stop(&t.b, SIGTERM);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, E2E_WAIT_MS));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 1, E2E_WAIT_MS));
    mf_client_destroy(c);
    e2e_col_free(&col);
    e2e_events_free(&ev);
    e2e_broker_cleanup(&t.b);
}

typedef struct tls_log {
    pthread_mutex_t mu;
    int tls_lines;
} tls_log;

static void on_log(mf_log_level level, const char *line, void *ctx)
{
    (void)level;
    tls_log *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (strstr(line, "TLS"))
        l->tls_lines++;
    pthread_mutex_unlock(&l->mu);
}

static void test_host_name_verified(void **state)
{
    (void)state;
    tls_broker t;
    tls_broker_start(&t);
    const char *servers[] = {t.by_name};
    e2e_events ev;
    e2e_events_init(&ev);
    mf_client_opts o;
    e2e_opts(&o, servers, 1, &ev);
    o.tls_ca_file = t.cert; /* trusted, but issued for 127.0.0.1, not for "localhost" */
    o.max_reconnect_attempts = 2;
    tls_log l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    o.on_log = on_log;
    o.log_ctx = &l;
    o.log_level = MF_LOG_WARN;
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_OK);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_CLOSED, 1, E2E_WAIT_MS));
    assert_int_equal(e2e_events_count(&ev, MF_CLIENT_CONNECTED), 0);
    mf_client_destroy(c);
    assert_true(l.tls_lines >= 1); /* the log says why: the TLS handshake failed */
    e2e_events_free(&ev);
    e2e_broker_stop(&t.b, SIGTERM);
    e2e_broker_cleanup(&t.b);
}

static void test_missing_ca_file(void **state)
{
    (void)state;
    const char *servers[] = {"wss://127.0.0.1:1"};
    mf_client_opts o;
    e2e_opts(&o, servers, 1, NULL);
    o.tls_ca_file = "/nonexistent/mflow-ca.pem";
    mf_client *c = NULL;
    mf_error err;
    assert_int_equal(mf_client_create(&o, &c, &err), MF_ERR_INVALID_ARG);
    assert_null(c);
    assert_non_null(strstr(err.message, "/nonexistent/mflow-ca.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_name_insecure),
        cmocka_unit_test(test_host_name_verified),
        cmocka_unit_test(test_missing_ca_file),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
