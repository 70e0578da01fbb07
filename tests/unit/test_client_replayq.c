/*
 * test_client_replayq.c - the client's outbound queue (runtime/client/replayq.c): the record
 * scanner on every record the client writes (and on incomplete ones), frames that cut
 * records anywhere and still give back the stream byte for byte, the pending count from the
 * record being sent, what a disconnect keeps (salvage: the unsent PUB/HPUB records in order,
 * the cut one whole, SUB/UNSUB/PING dropped; the pending_limit and max_payload drops counted),
 * the CONNECT prefix put in front, and compaction under a long stream with appends between
 * frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/client_int.h"
#include "mf_skip.h"

static void init(mf_replayq *q)
{
    memset(q, 0, sizeof *q);
    mf_buf_init(&q->buf);
}

/* Appends a PUB of n bytes of `fill` and returns the record's length. */
static size_t add_pub(mf_replayq *q, const char *subject, const char *reply, size_t n, char fill)
{
    char *data = malloc(n ? n : 1);
    assert_non_null(data);
    memset(data, fill, n);
    size_t before = q->buf.len;
    assert_int_equal(mf_proto_write_pub(&q->buf, subject, reply, data, n), MF_OK);
    free(data);
    return q->buf.len - before;
}

static size_t add_raw(mf_replayq *q, const char *s)
{
    assert_int_equal(mf_buf_append_str(&q->buf, s), MF_OK);
    return strlen(s);
}

/* Takes exactly n bytes in frames of `frame` bytes, appending them to out. */
static void take_n(mf_replayq *q, mf_buf *out, size_t n, size_t frame)
{
    char tmp[8192];
    assert_true(frame <= sizeof tmp);
    while (n) {
        size_t got = mf_replayq_take(q, tmp, n < frame ? n : frame);
        assert_true(got > 0);
        assert_int_equal(mf_buf_append(out, tmp, got), MF_OK);
        n -= got;
    }
}

static void test_record_len(void **state)
{
    (void)state;
    bool pub;
    size_t tot;
    const char *sub = "SUB a.b q 12\r\nPING\r\n";
    assert_int_equal(mf_replayq_record_len(sub, strlen(sub), &pub, &tot), 14);
    assert_false(pub);
    assert_int_equal(tot, 0);
    const char *p = "PUB a.b _INBOX.x 5\r\nhello\r\nPING\r\n";
    assert_int_equal(mf_replayq_record_len(p, strlen(p), &pub, &tot), 27);
    assert_true(pub);
    assert_int_equal(tot, 5);
    const char *h = "HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
    assert_int_equal(mf_replayq_record_len(h, strlen(h), &pub, &tot), strlen(h));
    assert_true(pub);
    assert_int_equal(tot, 14);
    const char *empty = "PUB a 0\r\n\r\n";
    assert_int_equal(mf_replayq_record_len(empty, strlen(empty), &pub, &tot), 11);
    assert_true(pub);
    assert_int_equal(tot, 0);
    /* incomplete: no line end, or the payload (and its CRLF) not all there */
    assert_int_equal(mf_replayq_record_len("PING\r", 5, &pub, &tot), 0);
    assert_int_equal(mf_replayq_record_len(p, 25, &pub, &tot), 0);
    assert_false(pub);
    /* a PUB line without a size is not a record */
    assert_int_equal(mf_replayq_record_len("PUB a\r\n", 7, &pub, &tot), 0);
    /* "PUBLISH" is not PUB: a plain line */
    assert_int_equal(mf_replayq_record_len("PUBX a 5\r\n", 10, &pub, &tot), 10);
    assert_false(pub);
}

/* Frames of every size from 1 to 9 bytes give back the stream byte for byte; between them
 * the pending count starts at the record that contains the next byte to send. */
static void test_take_in_pieces(void **state)
{
    (void)state;
    for (size_t frame = 1; frame <= 9; frame++) {
        mf_replayq q;
        init(&q);
        size_t starts[8], n = 0, len = 0;
        starts[n++] = len, len += add_raw(&q, "SUB a 1\r\n");
        starts[n++] = len, len += add_pub(&q, "a", "r.1", 7, 'x');
        starts[n++] = len, len += add_raw(&q, "PING\r\n");
        starts[n++] = len, len += add_pub(&q, "b", NULL, 0, 'y');
        starts[n++] = len, len += add_raw(&q, "UNSUB 1\r\n");
        starts[n] = len;
        mf_buf want = MF_BUF_INIT, got = MF_BUF_INIT;
        assert_int_equal(mf_buf_append(&want, q.buf.data, q.buf.len), MF_OK);
        assert_int_equal(mf_replayq_pending(&q), len);
        size_t sent = 0;
        while (sent < len) {
            size_t step = len - sent < frame ? len - sent : frame;
            take_n(&q, &got, step, frame);
            sent += step;
            if (sent == len)
                break;
            size_t rec = 0; /* the record holding byte `sent` */
            for (size_t i = 0; i < n; i++)
                if (starts[i] <= sent)
                    rec = starts[i];
            assert_int_equal(mf_replayq_pending(&q), len - rec);
        }
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
        assert_int_equal(mf_replayq_pending(&q), 0);
        char tmp[8];
        assert_int_equal(mf_replayq_take(&q, tmp, sizeof tmp), 0);
        mf_buf_free(&want);
        mf_buf_free(&got);
        mf_replayq_clear(&q);
    }
}

/* A frame that takes all that is queued leaves the record start at the end (no walk); records
 * appended after it are then walked from there, frame by frame, as before. */
static void test_take_all_then_pieces(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    size_t first = add_pub(&q, "a", "r.1", 30, 'x');
    first += add_raw(&q, "PING\r\n");
    char tmp[8192];
    assert_int_equal(mf_replayq_take(&q, tmp, sizeof tmp), first);
    assert_int_equal(mf_replayq_pending(&q), 0);
    size_t starts[4], n = 0, len = 0;
    starts[n++] = len, len += add_pub(&q, "b", NULL, 12, 'y');
    starts[n++] = len, len += add_raw(&q, "UNSUB 1\r\n");
    starts[n++] = len, len += add_pub(&q, "c.d", "r.2", 3, 'z');
    assert_int_equal(mf_replayq_pending(&q), len);
    size_t sent = 0;
    while (sent + 5 < len) {
        assert_int_equal(mf_replayq_take(&q, tmp, 5), 5);
        sent += 5;
        size_t rec = 0;
        for (size_t i = 0; i < n; i++)
            if (starts[i] <= sent)
                rec = starts[i];
        assert_int_equal(mf_replayq_pending(&q), len - rec);
    }
    assert_int_equal(mf_replayq_take(&q, tmp, sizeof tmp), len - sent);
    assert_int_equal(mf_replayq_pending(&q), 0);
    mf_replayq_clear(&q);
}

static void test_salvage_keeps_the_cut_pub(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    size_t l_sub = add_raw(&q, "SUB a 1\r\n");
    size_t l_pub1 = add_pub(&q, "a", NULL, 10, '1');
    add_raw(&q, "PING\r\n");
    size_t l_pub2 = add_pub(&q, "b", "r", 3, '2');
    add_raw(&q, "UNSUB 1\r\n");
    char *pub1 = strndup(q.buf.data + l_sub, l_pub1);
    char *pub2 = strndup(q.buf.data + l_sub + l_pub1 + 6, l_pub2);
    mf_buf out = MF_BUF_INIT;
    take_n(&q, &out, l_sub + 4, 3); /* the connection dies inside the first PUB */
    uint64_t dm = 0, db = 0;
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 0, &dm, &db), MF_OK);
    assert_int_equal(dm, 0);
    assert_int_equal(db, 0);
    /* the cut PUB whole, then the second; SUB, PING and UNSUB are rebuilt by the reconnect */
    assert_int_equal(q.buf.len, l_pub1 + l_pub2);
    assert_memory_equal(q.buf.data, pub1, l_pub1);
    assert_memory_equal(q.buf.data + l_pub1, pub2, l_pub2);
    assert_int_equal(q.sent, 0);
    assert_int_equal(mf_replayq_pending(&q), l_pub1 + l_pub2);

    /* sent past the first PUB: only the second is kept */
    take_n(&q, &out, l_pub1 + 1, 5);
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 0, &dm, &db), MF_OK);
    assert_int_equal(q.buf.len, l_pub2);
    assert_memory_equal(q.buf.data, pub2, l_pub2);
    assert_int_equal(dm, 0);

    /* everything sent: nothing is kept */
    take_n(&q, &out, l_pub2, 64);
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 0, &dm, &db), MF_OK);
    assert_int_equal(q.buf.len, 0);
    assert_int_equal(mf_replayq_pending(&q), 0);
    free(pub1);
    free(pub2);
    mf_buf_free(&out);
    mf_replayq_clear(&q);
}

static void test_salvage_limits(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    size_t l1 = add_pub(&q, "a", NULL, 10, '1');
    add_raw(&q, "PING\r\n");
    size_t l2 = add_pub(&q, "a", NULL, 100, '2');
    size_t l3 = add_pub(&q, "a", NULL, 20, '3');
    char *keep3 = strndup(q.buf.data + l1 + 6 + l2, l3);
    uint64_t dm = 0, db = 0;
    /* room for the first and the third only: the second is dropped, the order kept */
    assert_int_equal(mf_replayq_salvage(&q, l1 + l3 + 5, 0, &dm, &db), MF_OK);
    assert_int_equal(dm, 1);
    assert_int_equal(db, 100);
    assert_int_equal(q.buf.len, l1 + l3);
    assert_memory_equal(q.buf.data + l1, keep3, l3);
    assert_int_equal(q.buf.data[q.buf.len], '\0');

    /* a smaller max_payload (the new server's) drops the 20-byte one, counted */
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 15, &dm, &db), MF_OK);
    assert_int_equal(dm, 2);
    assert_int_equal(db, 120);
    assert_int_equal(q.buf.len, l1);
    /* a limit of 0 keeps nothing */
    assert_int_equal(mf_replayq_salvage(&q, 0, 0, &dm, &db), MF_OK);
    assert_int_equal(dm, 3);
    assert_int_equal(db, 130);
    assert_int_equal(q.buf.len, 0);
    free(keep3);
    mf_replayq_clear(&q);

    /* an empty queue */
    init(&q);
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 0, &dm, &db), MF_OK);
    assert_int_equal(q.buf.len, 0);
    assert_int_equal(dm, 3);
    mf_replayq_clear(&q);
}

static void test_prepend(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    size_t l_ping = add_raw(&q, "PING\r\n");
    size_t l_pub = add_pub(&q, "a", NULL, 4, 'p');
    mf_buf out = MF_BUF_INIT, prefix = MF_BUF_INIT, want = MF_BUF_INIT;
    take_n(&q, &out, l_ping + 2, 4); /* PING sent, the PUB cut */
    assert_int_equal(mf_buf_append(&want, q.buf.data + l_ping, l_pub), MF_OK);

    assert_int_equal(mf_replayq_prepend(&q, &prefix), MF_OK); /* empty: nothing changes */
    assert_int_equal(q.sent, l_ping + 2);

    assert_int_equal(mf_buf_append_str(&prefix, "CONNECT {}\r\nSUB a 1\r\n"), MF_OK);
    assert_int_equal(mf_replayq_prepend(&q, &prefix), MF_OK);
    /* the prefix, then the unsent bytes from the start of the cut record */
    assert_int_equal(q.buf.len, prefix.len + l_pub);
    assert_memory_equal(q.buf.data, prefix.data, prefix.len);
    assert_memory_equal(q.buf.data + prefix.len, want.data, l_pub);
    assert_int_equal(q.sent, 0);
    assert_int_equal(mf_replayq_pending(&q), prefix.len + l_pub);
    mf_buf_free(&out);
    mf_buf_free(&prefix);
    mf_buf_free(&want);
    mf_replayq_clear(&q);
    assert_null(q.buf.data);
    assert_int_equal(mf_replayq_pending(&q), 0);
}

/* A long stream with appends between frames: first the frames are smaller than what is
 * appended (a backlog builds), then larger (it drains). Compaction moves the live bytes to
 * the front while bytes are still pending, resets the buffer when all is sent, and the bytes
 * taken are the stream appended, in order. */
static void test_compaction_keeps_the_stream(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    mf_buf want = MF_BUF_INIT, got = MF_BUF_INIT;
    uint64_t x = 88172645463325252ULL;
    int moved = 0, resets = 0;
    for (int round = 0; round < 600; round++) {
        for (int k = 0; k < 3; k++) {
            size_t before = q.buf.len;
            size_t n = (size_t)(mf_xorshift64(&x) % 900);
            add_pub(&q, "load.test", k ? NULL : "r.x", n, (char)('a' + round % 26));
            assert_int_equal(mf_buf_append(&want, q.buf.data + before, q.buf.len - before), MF_OK);
        }
        size_t frame = 1 + (size_t)(mf_xorshift64(&x) % (round < 200 ? 1000 : 8000));
        size_t avail = q.buf.len - q.sent, len_before = q.buf.len;
        take_n(&q, &got, avail < frame ? avail : frame, frame);
        if (q.buf.len == 0)
            resets++;
        else if (q.buf.len < len_before)
            moved++;
    }
    take_n(&q, &got, q.buf.len - q.sent, 8192);
    assert_true(moved > 0);  /* the dead prefix went while a backlog was pending */
    assert_true(resets > 0); /* and everything, whenever all was sent */
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    assert_int_equal(q.buf.len, 0);
    assert_int_equal(mf_replayq_pending(&q), 0);
    mf_buf_free(&want);
    mf_buf_free(&got);
    mf_replayq_clear(&q);
}

/* Takes exactly n detached bytes in frames of `frame` bytes (no lock needed), appending them to out. */
static void take_detached_n(mf_replayq *q, mf_buf *out, size_t n, size_t frame)
{
    char tmp[64];
    assert_true(frame <= sizeof tmp);
    while (n) {
        size_t got = mf_replayq_take_detached(q, tmp, n < frame ? n : frame);
        assert_true(got > 0);
        assert_int_equal(mf_buf_append(out, tmp, got), MF_OK);
        n -= got;
    }
}

/* A backlog moved out of the queue (detach) is taken without the lock while publishers append
 * behind it: the bytes come out in the order they were appended, pending counts both parts, and a
 * disconnect in the middle of the detached part keeps the cut PUB whole and everything after it. */
static void test_detach(void **state)
{
    (void)state;
    mf_replayq q;
    init(&q);
    size_t l_sub = add_raw(&q, "SUB a 1\r\n");
    size_t l_pub1 = add_pub(&q, "a", NULL, 10, '1');
    size_t l_pub2 = add_pub(&q, "b", "r", 20, '2');
    size_t total = l_sub + l_pub1 + l_pub2;
    char *pub2 = strndup(q.buf.data + l_sub + l_pub1, l_pub2);
    mf_buf want = MF_BUF_INIT, got = MF_BUF_INIT;
    assert_int_equal(mf_buf_append(&want, q.buf.data, q.buf.len), MF_OK);

    assert_false(mf_replayq_detach(&q, total + 1)); /* too small a backlog: stays */
    take_n(&q, &got, 3, 3);                        /* 3 bytes of SUB go the old way */
    assert_true(mf_replayq_detach(&q, 1));
    assert_true(mf_replayq_detached(&q));
    assert_false(mf_replayq_detach(&q, 1)); /* one detached part at a time */
    assert_int_equal(q.buf.len, 0);
    assert_int_equal(mf_replayq_pending(&q), total); /* from the start of the cut SUB */

    size_t l_pub3 = add_pub(&q, "c", NULL, 5, '3'); /* a publish meanwhile */
    char *pub3 = strndup(q.buf.data, l_pub3);
    assert_int_equal(mf_buf_append(&want, q.buf.data, q.buf.len), MF_OK);
    assert_int_equal(mf_replayq_pending(&q), total + l_pub3);

    /* sent up to inside the second PUB, then the connection is lost */
    take_detached_n(&q, &got, l_sub - 3 + l_pub1 + 4, 7);
    assert_int_equal(mf_replayq_pending(&q), l_pub2 + l_pub3);
    uint64_t dm = 0, db = 0;
    assert_int_equal(mf_replayq_salvage(&q, SIZE_MAX, 0, &dm, &db), MF_OK);
    assert_false(mf_replayq_detached(&q));
    assert_int_equal(q.buf.len, l_pub2 + l_pub3);
    assert_memory_equal(q.buf.data, pub2, l_pub2);
    assert_memory_equal(q.buf.data + l_pub2, pub3, l_pub3);
    assert_int_equal(q.sent, 0);
    assert_int_equal(mf_replayq_pending(&q), l_pub2 + l_pub3);
    mf_replayq_clear(&q);
    mf_buf_free(&got);

    /* no disconnect: everything comes out, in order, and the queue is empty again */
    init(&q);
    assert_int_equal(mf_buf_append(&q.buf, want.data, total), MF_OK);
    assert_true(mf_replayq_detach(&q, 1));
    add_pub(&q, "c", NULL, 5, '3');
    take_detached_n(&q, &got, total, 9);
    assert_false(mf_replayq_detached(&q));
    assert_int_equal(mf_replayq_take_detached(&q, (char[8]){0}, 8), 0);
    assert_true(mf_replayq_has_unsent(&q));
    take_n(&q, &got, l_pub3, 4); /* the part appended meanwhile, the old way */
    assert_false(mf_replayq_has_unsent(&q));
    assert_int_equal(mf_replayq_pending(&q), 0);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    free(pub2);
    free(pub3);
    mf_buf_free(&want);
    mf_buf_free(&got);
    mf_replayq_clear(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_len),
        cmocka_unit_test(test_take_in_pieces),
        cmocka_unit_test(test_take_all_then_pieces),
        cmocka_unit_test(test_salvage_keeps_the_cut_pub),
        cmocka_unit_test(test_salvage_limits),
        cmocka_unit_test(test_prepend),
        cmocka_unit_test(test_compaction_keeps_the_stream),
        cmocka_unit_test(test_detach),
    };
    return mf_skip_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
