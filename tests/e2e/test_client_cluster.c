/*
 * test_client_cluster.c - mf_client against a three-node nats-server cluster on
 * loopback (routes between the nodes, a websocket listener on each): routing
 * across nodes, a request crossing nodes, server discovery from INFO
 * connect_urls, and failover when the client's node is killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e_util.h"

static e2e_cluster g_cl;
static bool g_up;

#define REQUIRE_CLUSTER() E2E_REQUIRE_SERVER(E2E_NATS, g_up)

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (!e2e_server_missing(E2E_NATS))
        g_up = e2e_cluster_start(&g_cl);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (g_up)
        e2e_cluster_stop(&g_cl);
    return 0;
}

static mf_client *connect_node(int i, e2e_events *ev)
{
    return e2e_connect_url(g_cl.node[i].url, ev);
}

static void test_cluster_routing(void **state)
{
    (void)state;
    REQUIRE_CLUSTER();
    mf_client *c1 = connect_node(0, NULL), *c3 = connect_node(2, NULL);
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(c1, "cl.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c1, E2E_WAIT_MS), MF_OK);
    assert_true(e2e_wait_interest(c3, "cl.x", &col, E2E_WAIT_MS));
    e2e_col_reset(&col);
    for (int i = 0; i < 500; i++) {
        char b[16];
        int n = snprintf(b, sizeof b, "%d", i);
        assert_int_equal(mf_client_publish(c3, "cl.x", NULL, b, (size_t)n), MF_OK);
    }
    assert_true(e2e_col_wait(&col, 500, E2E_WAIT_MS));
    for (int i = 0; i < 500; i++)
        assert_int_equal(col.vals[i], i); /* in order across the route */
    mf_client_destroy(c1);
    mf_client_destroy(c3);
    e2e_col_free(&col);
}

static void test_cluster_request(void **state)
{
    (void)state;
    REQUIRE_CLUSTER();
    mf_client *c1 = connect_node(0, NULL), *c3 = connect_node(2, NULL);
    e2e_col col;
    e2e_col_init(&col);
    col.respond = true;
    col.respond_prefix = "n1:";
    assert_int_equal(mf_client_subscribe(c1, "cl.svc", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(c1, E2E_WAIT_MS), MF_OK);
    mf_msg_owned *rep = NULL;
    mf_status st = MF_ERR_TIMEOUT;
    int64_t end = e2e_now_ms() + E2E_WAIT_MS;
    while (e2e_now_ms() < end) { /* probe until the interest has crossed the routes */
        st = mf_client_request(c3, "cl.svc", "ask", 3, 500, &rep);
        if (st == MF_OK)
            break;
        e2e_sleep_ms(50); /* pacing of the probes (no responders comes back at once) */
    }
    assert_int_equal(st, MF_OK);
    assert_int_equal(rep->msg.len, 6);
    assert_memory_equal(rep->msg.data, "n1:ask", 6);
    mf_msg_owned_free(rep);
    for (int i = 0; i < 50; i++) {
        char q[16], want[20];
        int len = snprintf(q, sizeof q, "q%d", i);
        int wlen = snprintf(want, sizeof want, "n1:q%d", i);
        assert_int_equal(mf_client_request(c3, "cl.svc", q, (size_t)len, E2E_WAIT_MS, &rep), MF_OK);
        assert_int_equal(rep->msg.len, (size_t)wlen);
        assert_memory_equal(rep->msg.data, want, (size_t)wlen);
        mf_msg_owned_free(rep);
    }
    /* no responders on the whole cluster (a long timeout: the status shows it was answered) */
    assert_int_equal(mf_client_request(c3, "cl.nobody", "ask", 3, 60000, &rep), MF_ERR_NO_RESPONDERS);
    mf_client_destroy(c1);
    mf_client_destroy(c3);
    e2e_col_free(&col);
}

static void test_cluster_failover(void **state)
{
    (void)state;
    REQUIRE_CLUSTER();
    e2e_events ev;
    e2e_events_init(&ev);
    /* configured with node 1 only: the others come from INFO connect_urls */
    mf_client *a = connect_node(0, &ev), *c = connect_node(2, NULL);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_SERVER_DISCOVERED, 2, E2E_WAIT_MS));
    mf_client_server_info info;
    assert_int_equal(mf_client_server_info_get(a, &info), MF_OK);
    assert_int_equal(info.n_servers, 3);

    e2e_col col, resp;
    e2e_col_init(&col);
    e2e_col_init(&resp);
    resp.respond = true;
    assert_int_equal(mf_client_subscribe(a, "fo.x", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_subscribe(a, "fo.svc", NULL, e2e_col_cb, &resp, NULL), MF_OK);
    assert_int_equal(mf_client_flush(a, E2E_WAIT_MS), MF_OK);
    assert_true(e2e_wait_interest(c, "fo.x", &col, E2E_WAIT_MS));

    e2e_nats_stop(&g_cl.node[0], SIGKILL);
    assert_true(e2e_events_wait(&ev, MF_CLIENT_DISCONNECTED, 1, E2E_WAIT_MS));
    assert_true(e2e_events_wait(&ev, MF_CLIENT_RECONNECTED, 1, E2E_WAIT_MS));
    mf_client_stats st;
    assert_int_equal(mf_client_stats_get(a, &st), MF_OK);
    assert_true(st.connected);
    assert_null(strstr(st.server_url, g_cl.node[0].url + 5)); /* not node 1 any more */
    print_message("failed over to %s\n", st.server_url);

    e2e_col_reset(&col);
    assert_true(e2e_wait_interest(c, "fo.x", &col, E2E_WAIT_MS));
    mf_msg_owned *rep = NULL;
    mf_status rs = MF_ERR_TIMEOUT;
    int64_t end = e2e_now_ms() + E2E_WAIT_MS;
    while (e2e_now_ms() < end) { /* probe until the re-sent interest has crossed the routes */
        rs = mf_client_request(c, "fo.svc", "q", 1, 500, &rep);
        if (rs == MF_OK)
            break;
        e2e_sleep_ms(50); /* pacing of the probes */
    }
    assert_int_equal(rs, MF_OK);
    assert_memory_equal(rep->msg.data, "re:q", 4);
    mf_msg_owned_free(rep);

    mf_client_destroy(a);
    mf_client_destroy(c);
    e2e_col_free(&col);
    e2e_col_free(&resp);
    e2e_events_free(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_routing),
        cmocka_unit_test(test_cluster_request),
        cmocka_unit_test(test_cluster_failover), /* kills node 1: keep last */
    };
    return mf_skip_exit(cmocka_run_group_tests_name("client_vs_nats_cluster", tests, group_setup, group_teardown));
}
