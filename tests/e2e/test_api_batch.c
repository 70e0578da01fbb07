/*
 * Batches of sends over a real server (mf-broker, and nats-server: test_api_batch_nats):
 * mf_api_batch and the generated _batch variants (mf/api.h), mf_client_publish_batch
 * (mf/client.h). What a batch takes arrives in the order added, what it refuses is not in it,
 * and a batch that the client refuses part of stops there.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mf_sdk/sdk.h"

#ifndef E2E_KIND
#define E2E_KIND E2E_BROKER
#endif
#include "e2e_group.h"

#define USER_ID "3f0c9a52-7d1e-4b8a-9c61-2e5f4a7b8d90"

/* A connected client; the test is skipped (or fails, see mf_skip.h) without a server. */
static mf_client *connect_or_skip(void)
{
    REQUIRE_SERVER();
    return connect_one(NULL);
}

#define BATCH_SENDS 300

typedef struct batch_seen {
    pthread_mutex_t mu;
    int titles[BATCH_SENDS + 1]; /* in arrival order */
    int n, bad;
} batch_seen;

static void on_batch_push(mf_client *c, const mf_msg *m, void *ctx)
{
    (void)c;
    batch_seen *b = ctx;
    mf_push_notification p;
    mf_error err;
    bool ok = mf_push_notification_decode(m->data, m->len, &p, &err) == MF_OK;
    pthread_mutex_lock(&b->mu);
    if (ok && b->n <= BATCH_SENDS)
        b->titles[b->n++] = atoi(p.title);
    else
        b->bad++;
    pthread_mutex_unlock(&b->mu);
    if (ok)
        mf_push_notification_free(&p);
}

static int batch_count(batch_seen *b)
{
    pthread_mutex_lock(&b->mu);
    int n = b->n;
    pthread_mutex_unlock(&b->mu);
    return n;
}

static void test_batch_sends_in_order(void **state)
{
    (void)state;
    mf_client *svc = connect_or_skip(), *device = connect_or_skip();
    batch_seen seen = {.n = 0};
    pthread_mutex_init(&seen.mu, NULL);
    assert_int_equal(mf_client_subscribe(device, MF_NOTIFICATION_USER_PUSH_WILDCARD, NULL, on_batch_push, &seen, NULL),
                     MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    mf_api_batch b = MF_API_BATCH_INIT;
    mf_error err;
    char nid[40], title[16];
    for (int i = 0; i < BATCH_SENDS; i++) {
        mf_push_notification n;
        mf_push_notification_init(&n);
        snprintf(nid, sizeof nid, "5b1f3c2a-9d4e-4f6a-8b7c-%012d", i);
        snprintf(title, sizeof title, "%d", i);
        n.notification_id = nid;
        n.user_id = USER_ID;
        n.title = title;
        n.body = "a body long enough to make the batch's text grow a few times over";
        assert_int_equal(campaign_service_send_push_notification_batch(&b, &n, &err), MF_OK);
        if (i == BATCH_SENDS / 2) { /* refused as the send refuses it, and not added */
            n.notification_id = "not-a-uuid";
            assert_int_equal(campaign_service_send_push_notification_batch(&b, &n, &err), MF_ERR_FORMAT);
            assert_string_equal(err.pointer, "/notification_id");
            n.notification_id = nid;
            n.user_id = "a.b";
            assert_int_equal(campaign_service_send_push_notification_batch(&b, &n, &err), MF_ERR_FORMAT);
            assert_string_equal(err.pointer, "/user_id");
        }
    }
    assert_int_equal(mf_api_batch_count(&b), BATCH_SENDS);
    size_t sent = 0;
    assert_int_equal(mf_api_batch_send(svc, &b, &sent, &err), MF_OK);
    assert_int_equal(sent, BATCH_SENDS);
    mf_api_batch_reset(&b);
    assert_int_equal(mf_api_batch_count(&b), 0);
    assert_int_equal(mf_api_batch_send(svc, &b, &sent, &err), MF_OK); /* empty after the reset */
    assert_int_equal(sent, 0);
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(device, E2E_WAIT_MS), MF_OK);
    assert_int_equal(batch_count(&seen), BATCH_SENDS);
    assert_int_equal(seen.bad, 0);
    for (int i = 0; i < BATCH_SENDS; i++)
        assert_int_equal(seen.titles[i], i);
    mf_api_batch_free(&b);
    mf_client_destroy(svc);
    mf_client_destroy(device);
    pthread_mutex_destroy(&seen.mu);
}

static void test_batch_stops_at_refusal(void **state)
{
    (void)state;
    mf_client *svc = connect_or_skip(), *rx = connect_or_skip();
    e2e_col col;
    e2e_col_init(&col);
    assert_int_equal(mf_client_subscribe(rx, "batch.raw.>", NULL, e2e_col_cb, &col, NULL), MF_OK);
    assert_int_equal(mf_client_flush(rx, E2E_WAIT_MS), MF_OK);
    char subj[10][32], data[10][8];
    mf_pub pubs[10];
    for (int i = 0; i < 10; i++) {
        snprintf(subj[i], sizeof subj[i], "batch.raw.%d", i);
        snprintf(data[i], sizeof data[i], "%d", i);
        pubs[i] = (mf_pub){subj[i], data[i], strlen(data[i])};
    }
    pubs[6].subject = "batch.raw.*"; /* a wildcard: no publish may carry one */
    size_t queued = 0;
    assert_int_equal(mf_client_publish_batch(svc, pubs, 10, &queued), MF_ERR_INVALID_ARG);
    assert_int_equal(queued, 6);
    assert_int_equal(mf_client_flush(svc, E2E_WAIT_MS), MF_OK);
    assert_int_equal(mf_client_flush(rx, E2E_WAIT_MS), MF_OK);
    assert_int_equal(e2e_col_count(&col), 6);
    pthread_mutex_lock(&col.mu);
    for (int i = 0; i < 6; i++)
        assert_int_equal(col.vals[i], i);
    pthread_mutex_unlock(&col.mu);
    /* a typed batch on a client that no longer publishes: nothing goes, and err names the first */
    mf_api_batch b = MF_API_BATCH_INIT;
    mf_error err;
    for (int i = 0; i < 3; i++) {
        mf_push_notification n;
        mf_push_notification_init(&n);
        n.notification_id = "5b1f3c2a-9d4e-4f6a-8b7c-1d2e3f4a5b6c";
        n.user_id = USER_ID;
        n.title = "t";
        n.body = "b";
        assert_int_equal(campaign_service_send_push_notification_batch(&b, &n, &err), MF_OK);
    }
    assert_int_equal(mf_client_drain(svc, E2E_WAIT_MS), MF_OK);
    size_t sent = 99;
    assert_int_equal(mf_api_batch_send(svc, &b, &sent, &err), MF_ERR_CLOSED);
    assert_int_equal(sent, 0);
    assert_int_equal(err.code, MF_ERR_CLOSED);
    assert_non_null(strstr(err.message, "message 1 of 3"));
    assert_int_equal(mf_api_batch_count(&b), 3); /* left as it was */
    mf_api_batch_free(&b);
    e2e_col_free(&col);
    mf_client_destroy(svc);
    mf_client_destroy(rx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_sends_in_order),
        cmocka_unit_test(test_batch_stops_at_refusal),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, group_setup, group_teardown));
}
