/*
 * test_broker_frameq.c - the broker's outbound queue (runtime/broker/frameq.c) and the
 * compaction rule it shares with the client's (mf_buf_reclaim, runtime/internal/mf/reclaim.h).
 *
 * The rule: what it gives back in each of its cases, the bytes it keeps and the headroom in
 * front of them. The queue: the headroom is always in front of the unsent bytes; frames end
 * at a message boundary when one is within reach, so the stream comes out whole and each
 * frame's MSGs and payload bytes are counted once; a message larger than a frame is cut and
 * counted when its last byte goes; a slow consumer's backlog is dropped without cutting the
 * message that is half out; a long stream with appends between frames comes out byte for byte
 * while the sent prefix is moved away, and a big buffer is given back once empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "broker/broker.h"
#include "mf/reclaim.h"

/* ---------------------------------------------------------------- the shared rule */

/* A buffer of `base` headroom bytes 'h', then dead bytes 'd', then needed bytes 'n'. */
static void fill(mf_buf *b, size_t base, size_t dead, size_t needed)
{
    mf_buf_init(b);
    assert_int_equal(mf_buf_reserve(b, base + dead + needed), MF_OK);
    memset(b->data, 'h', base);
    memset(b->data + base, 'd', dead);
    for (size_t i = 0; i < needed; i++)
        b->data[base + dead + i] = (char)('a' + i % 26);
    b->len = base + dead + needed;
    b->data[b->len] = '\0';
}

static void needed_intact(const mf_buf *b, size_t base, size_t needed)
{
    assert_int_equal(b->len, base + needed);
    for (size_t i = 0; i < base; i++)
        assert_int_equal(b->data[i], 'h');
    for (size_t i = 0; i < needed; i++)
        assert_int_equal(b->data[base + i], (char)('a' + i % 26));
    assert_int_equal(b->data[b->len], '\0');
}

static void reclaim_rule(void **state)
{
    (void)state;
    const size_t base = 16, big = MF_RECLAIM_MIN_DEAD;
    mf_buf b;
    /* everything sent: start over behind the headroom, the storage kept ... */
    fill(&b, base, 1000, 0);
    assert_int_equal(mf_buf_reclaim(&b, base, base + 1000, 1u << 20), 1000);
    needed_intact(&b, base, 0);
    assert_non_null(b.data);
    mf_buf_free(&b);
    /* ... or given back when it is larger than shrink_cap */
    fill(&b, base, 5000, 0);
    assert_int_equal(mf_buf_reclaim(&b, base, base + 5000, 1024), 5000);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* a small dead prefix stays */
    fill(&b, base, big - 1, 10);
    assert_int_equal(mf_buf_reclaim(&b, base, base + big - 1, 1u << 20), 0);
    assert_int_equal(b.len, base + big - 1 + 10);
    mf_buf_free(&b);
    /* a large one that the needed bytes outweigh stays */
    fill(&b, base, big, big + 1);
    assert_int_equal(mf_buf_reclaim(&b, base, base + big, 1u << 20), 0);
    assert_int_equal(b.len, base + 2 * big + 1);
    mf_buf_free(&b);
    /* a large one at least as large as the needed bytes goes; they move behind the headroom */
    fill(&b, base, big, big);
    assert_int_equal(mf_buf_reclaim(&b, base, base + big, 1u << 20), big);
    needed_intact(&b, base, big);
    mf_buf_free(&b);
    /* no headroom (the client's queue), and an empty buffer never allocated */
    fill(&b, 0, 3 * big, 7);
    assert_int_equal(mf_buf_reclaim(&b, 0, 3 * big, 1u << 20), 3 * big);
    needed_intact(&b, 0, 7);
    mf_buf_free(&b);
    mf_buf_init(&b);
    assert_int_equal(mf_buf_reclaim(&b, 0, 0, 1u << 20), 0);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

/* ---------------------------------------------------------------- the broker's queue */

/* Queues one MSG with a payload of n bytes; returns its length. */
static size_t add_msg(mfb_frameq *q, size_t n, char fill_byte)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memset(p, fill_byte, n);
    assert_int_equal(mfb_frameq_prepare(q), MF_OK);
    size_t before = q->buf.len;
    assert_int_equal(mf_proto_write_msg(&q->buf, "s.x", 3, "1", 1, NULL, 0, p, n), MF_OK);
    free(p);
    mfb_frameq_commit(q, true, n);
    assert_true(q->head >= LWS_PRE); /* the frame header's room */
    return q->buf.len - before;
}

/* Sends frames of at most max until the queue is empty; appends the bytes to out. */
static void drain(mfb_frameq *q, size_t max, mf_buf *out, uint64_t *msgs, uint64_t *pbytes, size_t *frames)
{
    while (mfb_frameq_pending(q)) {
        bool ends;
        uint64_t m, p;
        size_t n = mfb_frameq_next_chunk(q, max, &ends);
        assert_true(n > 0 && n <= max);
        assert_true(q->head >= LWS_PRE);
        if (ends && n < mfb_frameq_pending(q)) /* a cut at a boundary: the next record starts */
            assert_memory_equal(q->buf.data + q->head + n, "MSG ", 4);
        if (out)
            assert_int_equal(mf_buf_append(out, q->buf.data + q->head, n), MF_OK);
        mfb_frameq_consume(q, n, ends, &m, &p);
        *msgs += m;
        *pbytes += p;
        (*frames)++;
    }
}

static void frames_end_at_messages(void **state)
{
    (void)state;
    mfb_frameq q;
    mfb_frameq_init(&q);
    mf_buf want = MF_BUF_INIT, got = MF_BUF_INIT;
    for (int i = 0; i < 300; i++) {
        size_t before = q.buf.len ? q.buf.len : LWS_PRE;
        add_msg(&q, 1000 + (size_t)i, (char)('a' + i % 26));
        assert_int_equal(mf_buf_append(&want, q.buf.data + before, q.buf.len - before), MF_OK);
    }
    assert_int_equal(mfb_frameq_unsent_msgs(&q), 300);
    uint64_t msgs = 0, pbytes = 0;
    size_t frames = 0;
    drain(&q, MF_BROKER_FRAME_MAX, &got, &msgs, &pbytes, &frames);
    assert_int_equal(msgs, 300);
    assert_int_equal(pbytes, 300 * 1000 + 299 * 300 / 2);
    assert_true(frames >= want.len / MF_BROKER_FRAME_MAX + 1);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    assert_int_equal(mfb_frameq_unsent_msgs(&q), 0);
    mf_buf_free(&want);
    mf_buf_free(&got);
    mfb_frameq_free(&q);
}

static void big_message_is_cut_and_counted_once(void **state)
{
    (void)state;
    mfb_frameq q;
    mfb_frameq_init(&q);
    size_t len = add_msg(&q, 200000, 'z');
    bool ends;
    uint64_t m, p;
    size_t n = mfb_frameq_next_chunk(&q, MF_BROKER_FRAME_MAX, &ends);
    assert_int_equal(n, MF_BROKER_FRAME_MAX);
    assert_false(ends);
    mfb_frameq_consume(&q, n, ends, &m, &p);
    assert_int_equal(m, 0); /* not out yet */
    assert_int_equal(mfb_frameq_unsent_msgs(&q), 1);
    uint64_t msgs = 0, pbytes = 0;
    size_t frames = 1;
    drain(&q, MF_BROKER_FRAME_MAX, NULL, &msgs, &pbytes, &frames);
    assert_int_equal(msgs, 1);
    assert_int_equal(pbytes, 200000);
    assert_int_equal(frames, (len + MF_BROKER_FRAME_MAX - 1) / MF_BROKER_FRAME_MAX);
    mfb_frameq_free(&q);
}

static void drop_keeps_the_message_half_out(void **state)
{
    (void)state;
    mfb_frameq q;
    mfb_frameq_init(&q);
    size_t first = add_msg(&q, 100000, 'a'); /* larger than a frame */
    for (int i = 0; i < 50; i++)
        add_msg(&q, 5000, 'b');
    bool ends;
    uint64_t m, p, dropped = 0;
    size_t n = mfb_frameq_next_chunk(&q, MF_BROKER_FRAME_MAX, &ends);
    assert_false(ends);
    mfb_frameq_consume(&q, n, ends, &m, &p);
    size_t gone = mfb_frameq_drop_unstarted(&q, &dropped);
    assert_int_equal(dropped, 50);
    assert_int_equal(mfb_frameq_pending(&q), first - n); /* the rest of the first message */
    assert_true(gone > 50 * 5000);
    assert_int_equal(mfb_frameq_unsent_msgs(&q), 1);
    uint64_t msgs = 0, pbytes = 0;
    size_t frames = 0;
    drain(&q, MF_BROKER_FRAME_MAX, NULL, &msgs, &pbytes, &frames);
    assert_int_equal(msgs, 1);
    assert_int_equal(pbytes, 100000);
    /* at a boundary, everything unsent goes; the queue works on afterwards */
    for (int i = 0; i < 10; i++)
        add_msg(&q, 10, 'c');
    assert_int_equal(mfb_frameq_drop_unstarted(&q, &dropped), 10 * (size_t)(strlen("MSG s.x 1 10\r\n") + 12));
    assert_int_equal(dropped, 10);
    assert_int_equal(mfb_frameq_pending(&q), 0);
    add_msg(&q, 3, 'd');
    n = mfb_frameq_next_chunk(&q, MF_BROKER_FRAME_MAX, &ends);
    assert_true(ends);
    assert_memory_equal(q.buf.data + q.head, "MSG s.x 1 3\r\nddd\r\n", n);
    mfb_frameq_consume(&q, n, ends, &m, &p);
    assert_int_equal(m, 1);
    mfb_frameq_free(&q);
}

/* A long stream with appends between frames: a backlog builds, then drains. The sent prefix
 * is moved away while bytes are pending, the buffer starts over when all is sent, a big one is
 * given back, and the frames carry the stream in order. */
static void compaction_keeps_the_stream(void **state)
{
    (void)state;
    mfb_frameq q;
    mfb_frameq_init(&q);
    mf_buf want = MF_BUF_INIT, got = MF_BUF_INIT;
    uint64_t x = 88172645463325252ULL, msgs = 0, pbytes = 0, sent_pbytes = 0;
    int moved = 0, resets = 0;
    size_t frames = 0;
    for (int round = 0; round < 800; round++) {
        for (int k = 0; k < 4; k++) {
            size_t pend = mfb_frameq_pending(&q), len_before = q.buf.len;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t n = round == 400 ? 3u << 20 : (size_t)(x % 3000); /* one burst */
            size_t start = q.buf.len;
            assert_int_equal(mfb_frameq_prepare(&q), MF_OK);
            if (q.buf.len < len_before || (len_before && q.buf.len == LWS_PRE)) {
                assert_int_equal(mfb_frameq_pending(&q), pend);
                if (pend)
                    moved++;
                else
                    resets++;
            }
            start = q.buf.len;
            add_msg(&q, n, (char)('a' + round % 26));
            sent_pbytes += n;
            assert_int_equal(mf_buf_append(&want, q.buf.data + start, q.buf.len - start), MF_OK);
        }
        size_t frame = 1024 + (size_t)(x % (round < 300 ? 4000 : 40000));
        bool ends;
        uint64_t m, p;
        size_t n = mfb_frameq_next_chunk(&q, frame, &ends);
        if (n) {
            assert_int_equal(mf_buf_append(&got, q.buf.data + q.head, n), MF_OK);
            mfb_frameq_consume(&q, n, ends, &m, &p);
            msgs += m;
            pbytes += p;
            frames++;
        }
        if (round > 600) { /* drain: the buffer starts over, and the burst's memory went back */
            uint64_t m2 = 0, p2 = 0;
            drain(&q, MF_BROKER_FRAME_MAX, &got, &m2, &p2, &frames);
            msgs += m2;
            pbytes += p2;
            assert_int_equal(mfb_frameq_prepare(&q), MF_OK);
            assert_int_equal(q.buf.len, LWS_PRE);
            assert_true(q.buf.cap <= 1024u * 1024u);
        }
    }
    assert_true(moved > 0);
    assert_true(resets > 0);
    assert_int_equal(msgs, 800 * 4);
    assert_int_equal(pbytes, sent_pbytes);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    mf_buf_free(&want);
    mf_buf_free(&got);
    mfb_frameq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reclaim_rule),
        cmocka_unit_test(frames_end_at_messages),
        cmocka_unit_test(big_message_is_cut_and_counted_once),
        cmocka_unit_test(drop_keeps_the_message_half_out),
        cmocka_unit_test(compaction_keeps_the_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
