// nats.ws (a third-party NATS client, over the `ws` package) against mf-broker,
// and the very same test bodies against nats-server: a behaviour difference
// shows up as a failing mf-broker case next to a passing nats-server one.
//
//   MF_BROKER=build/bin/mf-broker node --test broker_natsws.test.mjs
//
// Every connection is made with reconnect: false, so a server that drops a
// connection shows up as an error instead of a silent reconnect.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { loadNats, targets, waitFor, within, withLog } from './harness.mjs';

const { connect, StringCodec, headers, ErrorCode, Events } = await loadNats();
const sc = StringCodec();
const str = (m) => sc.decode(m.data);
const MiB = 1024 * 1024;

// Subscribes with a callback that keeps every message (or error) in order.
function collect(nc, subject, opts = {}) {
  const got = [];
  const errors = [];
  const sub = nc.subscribe(subject, {
    ...opts,
    callback: (err, m) => (err ? errors.push(err) : got.push(m)),
  });
  return { sub, got, errors };
}

// After this, everything published by `pubs` before the call has been routed by
// the server and has reached `subs`: each flush is a PING answered after what
// the server had already queued for that connection.
async function barrier(pubs, subs) {
  for (const p of pubs) await within(p.flush(), 5000, 'publisher flush');
  for (const s of subs) await within(s.flush(), 5000, 'subscriber flush');
}

for (const target of targets()) {
  describe(`nats.ws <-> ${target.name}`, { skip: target.skip }, () => {
    let server;
    let conns = [];

    before(async () => {
      server = await target.start();
    }, { timeout: 12000 });

    after(async () => {
      if (server) await server.stop();
    }, { timeout: 12000 });

    async function conn(opts = {}) {
      const nc = await connect({
        servers: server.url,
        name: `interop-${target.name}`,
        reconnect: false,
        timeout: 3000,
        ...opts,
      });
      conns.push(nc);
      return nc;
    }

    // Each case gets its own connections, closed afterwards; a failure carries
    // the server's log tail.
    function it(name, fn) {
      test(name, { timeout: 15000 }, async () => {
        conns = [];
        try {
          await withLog(server, fn);
        } finally {
          for (const nc of conns) {
            if (!nc.isClosed()) await within(nc.close(), 3000, 'close').catch(() => {});
          }
        }
      });
    }

    it('connects: INFO parsed, PING/PONG, clean close', async () => {
      const nc = await conn({ name: 'interop "quoted" \\ h\u00e9 \u65e5' });
      const info = nc.info;
      assert.ok(info, 'no INFO');
      assert.equal(typeof info.server_id, 'string');
      assert.ok(info.server_id.length > 0, 'empty server_id');
      assert.equal(typeof info.version, 'string');
      assert.equal(info.proto, 1);
      assert.equal(info.headers, true);
      assert.equal(info.max_payload, MiB);
      assert.ok(!info.auth_required, 'auth_required without a token');
      const rtt = await within(nc.rtt(), 3000, 'rtt');
      assert.ok(rtt >= 0);
      await within(nc.flush(), 3000, 'flush');
      const closed = nc.closed();
      await within(nc.close(), 3000, 'close');
      assert.equal(await closed, undefined, 'closed() reported an error for a clean close');
    });

    it('pub/sub between two connections, in order, empty payload too', async () => {
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'interop.ps');
      await s.flush();
      const want = [];
      for (let i = 0; i < 50; i++) {
        want.push(`m${i}`);
        p.publish('interop.ps', sc.encode(`m${i}`));
      }
      p.publish('interop.ps');
      want.push('');
      await p.flush();
      await waitFor(() => c.got.length >= want.length, 5000, `${want.length} messages`);
      assert.deepEqual(c.got.map(str), want);
      for (const m of c.got) {
        assert.equal(m.subject, 'interop.ps');
        assert.ok(!m.reply, `unexpected reply subject ${m.reply}`);
        assert.equal(m.sid, c.sub.getID());
        assert.equal(m.headers, undefined);
      }
      assert.equal(c.errors.length, 0);
    });

    it('echo: a connection receives its own messages unless noEcho', async () => {
      const a = await conn({ noEcho: true });
      const b = await conn();
      const ca = collect(a, 'echo.x');
      const cb = collect(b, 'echo.x');
      await a.flush();
      await b.flush();
      a.publish('echo.x', sc.encode('from-a'));
      b.publish('echo.x', sc.encode('from-b'));
      await barrier([a, b], [a, b]);
      await waitFor(() => cb.got.length >= 2, 3000, 'b to get both');
      assert.deepEqual(ca.got.map(str), ['from-b']);
      assert.deepEqual(cb.got.map(str).sort(), ['from-a', 'from-b']);
    });

    it('wildcards * and >', async () => {
      const s = await conn();
      const p = await conn();
      const star = collect(s, 'wc.*.x');
      const one = collect(s, 'wc.*');
      const tail = collect(s, 'wc.>');
      const lead = collect(s, '*.a.x');
      const all = collect(s, '>');
      const mid = collect(s, 'wc.*.>');
      await s.flush();
      const subjects = ['wc.a.x', 'wc.a.b.x', 'wc.a', 'wc', 'wc.b.x.y', 'other.a.x', 'wcx.a'];
      for (const subj of subjects) p.publish(subj, sc.encode(subj));
      await barrier([p], [s]);
      await waitFor(() => all.got.length >= subjects.length, 3000, 'the > subscriber to get everything');
      const subj = (c) => c.got.map((m) => m.subject);
      assert.deepEqual(subj(star), ['wc.a.x']);
      assert.deepEqual(subj(one), ['wc.a']);
      assert.deepEqual(subj(tail), ['wc.a.x', 'wc.a.b.x', 'wc.a', 'wc.b.x.y']);
      assert.deepEqual(subj(lead), ['wc.a.x', 'other.a.x']);
      assert.deepEqual(subj(all), subjects);
      assert.deepEqual(subj(mid), ['wc.a.x', 'wc.a.b.x', 'wc.b.x.y']);
      for (const c of [star, one, tail, lead, all, mid]) {
        for (const m of c.got) assert.equal(str(m), m.subject, 'payload/subject mismatch');
      }
    });

    it('queue groups: one member per group, plain subscribers get all', async () => {
      const q1c = await conn();
      const q2c = await conn();
      const plainc = await conn();
      const p = await conn();
      const q1 = collect(q1c, 'qg.work', { queue: 'workers' });
      const q2 = collect(q2c, 'qg.work', { queue: 'workers' });
      const plain = collect(plainc, 'qg.work');
      const solo = collect(plainc, 'qg.*', { queue: 'auditors' }); // a group of one
      for (const c of [q1c, q2c, plainc]) await c.flush();
      const N = 200;
      for (let i = 0; i < N; i++) p.publish('qg.work', sc.encode(String(i)));
      await barrier([p], [q1c, q2c, plainc]);
      await waitFor(() => q1.got.length + q2.got.length >= N && plain.got.length >= N && solo.got.length >= N,
        5000, `${N} messages to the group and to the plain subscriber`);
      await barrier([p], [q1c, q2c, plainc]);
      const seq = Array.from({ length: N }, (_, i) => String(i));
      assert.deepEqual(plain.got.map(str), seq, 'the plain subscriber must get every message once');
      assert.deepEqual(solo.got.map(str), seq, 'a group of one must get every message');
      const group = [...q1.got, ...q2.got].map(str).sort((a, b) => a - b);
      assert.equal(q1.got.length + q2.got.length, N, `group got ${q1.got.length}+${q2.got.length} for ${N} messages`);
      assert.deepEqual(group, seq, 'each message must reach exactly one member of the group');
      assert.ok(q1.got.length > 0 && q2.got.length > 0,
        `one member got nothing (${q1.got.length}/${q2.got.length}): no distribution`);
    });

    it('unsubscribe: with max (UNSUB sid max) and at once', async () => {
      const s = await conn();
      const p = await conn();
      // max given at subscribe time: nats.ws sends SUB then UNSUB <sid> 3.
      let base = s.stats().inMsgs;
      const a = collect(s, 'um.a', { max: 3 });
      await s.flush();
      for (let i = 0; i < 6; i++) p.publish('um.a', sc.encode(String(i)));
      await barrier([p], [s]);
      await waitFor(() => a.got.length >= 3, 3000, '3 messages');
      assert.deepEqual(a.got.map(str), ['0', '1', '2']);
      assert.ok(a.sub.isClosed(), 'the subscription should be closed after max');
      // stats().inMsgs counts every MSG the server sent, even past the client's own limit.
      assert.equal(s.stats().inMsgs - base, 3, 'the server delivered more than max: UNSUB <sid> 3 not honoured');

      // max given later, counting what was already delivered (NATS semantics).
      const b = collect(s, 'um.b');
      await s.flush();
      p.publish('um.b', sc.encode('first'));
      await barrier([p], [s]);
      await waitFor(() => b.got.length >= 1, 3000, 'first message');
      base = s.stats().inMsgs;
      b.sub.unsubscribe(2);
      await s.flush();
      for (let i = 0; i < 4; i++) p.publish('um.b', sc.encode(`after${i}`));
      await barrier([p], [s]);
      await waitFor(() => b.got.length >= 2, 3000, 'second message');
      assert.deepEqual(b.got.map(str), ['first', 'after0']);
      assert.equal(s.stats().inMsgs - base, 1, 'UNSUB <sid> 2 after one delivery must allow exactly one more');

      // plain unsubscribe
      const c = collect(s, 'um.c');
      await s.flush();
      c.sub.unsubscribe();
      await s.flush();
      base = s.stats().inMsgs;
      for (let i = 0; i < 3; i++) p.publish('um.c', sc.encode('x'));
      await barrier([p], [s]); // anything routed to s has reached it by now
      assert.equal(s.stats().inMsgs - base, 0, 'messages delivered after UNSUB');
      assert.equal(c.got.length, 0);
    });

    it('request/reply (nats.ws responder and requester), muxed and noMux', async () => {
      const r = await conn();
      const q = await conn();
      const seen = [];
      r.subscribe('rr.echo', {
        callback: (err, m) => {
          if (err) return;
          seen.push(m.reply);
          m.respond(sc.encode('re:' + str(m)));
        },
      });
      await r.flush();
      const m = await q.request('rr.echo', sc.encode('hi'), { timeout: 3000 });
      assert.equal(str(m), 're:hi');
      assert.match(seen[0], /^_INBOX\./);
      assert.equal(m.subject, seen[0], 'the reply arrives on the reply subject of the request');
      // concurrent requests share one inbox subscription
      const n = 25;
      const replies = await Promise.all(Array.from({ length: n }, (_, i) =>
        q.request('rr.echo', sc.encode(`q${i}`), { timeout: 5000 })));
      assert.deepEqual(replies.map(str), Array.from({ length: n }, (_, i) => `re:q${i}`));
      // one inbox subscription per request
      const nm = await q.request('rr.echo', sc.encode('nomux'), { timeout: 3000, noMux: true });
      assert.equal(str(nm), 're:nomux');
      // the responder on the requesting connection itself
      const self = await r.request('rr.echo', sc.encode('self'), { timeout: 3000 });
      assert.equal(str(self), 're:self');
    });

    it('request with no responders fails fast with NoResponders (503)', async () => {
      const q = await conn();
      for (const noMux of [false, true]) {
        const t0 = Date.now();
        await assert.rejects(
          q.request('nr.nobody.home', sc.encode('x'), { timeout: 5000, noMux }),
          (err) => {
            assert.equal(err.code, ErrorCode.NoResponders, `noMux=${noMux}: got ${err.code} ${err.message}`);
            assert.equal(err.code, '503');
            return true;
          });
        const dt = Date.now() - t0;
        assert.ok(dt < 2000, `noMux=${noMux}: no-responders took ${dt} ms: the server did not send the 503 status`);
      }
      // A subscriber that does not answer: a timeout, not "no responders".
      const r = await conn();
      r.subscribe('nr.silent', { callback: () => {} });
      await r.flush();
      await assert.rejects(q.request('nr.silent', sc.encode('x'), { timeout: 400 }),
        (err) => err.code === ErrorCode.Timeout || (assert.fail(`expected TIMEOUT, got ${err.code} ${err.message}`)));
      // the connection is still healthy
      await within(q.flush(), 3000, 'flush after no responders');
    });

    it('headers: HPUB/HMSG round trip (custom, multi-valued, status line, request)', async () => {
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'hd.x');
      await s.flush();
      const h = headers();
      h.set('X-Interop', 'hello world');
      h.append('X-Multi', 'one');
      h.append('X-Multi', 'two');
      p.publish('hd.x', sc.encode('with-headers'), { headers: h });
      p.publish('hd.x', sc.encode('hdr+reply'), { headers: h, reply: 'hd.reply.box' });
      const h2 = headers();
      h2.set('X-Only', 'no-payload');
      p.publish('hd.x', undefined, { headers: h2 });
      const h3 = headers(418, "I'm a teapot");
      h3.set('X-Status', 'custom');
      p.publish('hd.x', sc.encode('status'), { headers: h3 });
      p.publish('hd.x', sc.encode('plain'));
      await p.flush();
      await waitFor(() => c.got.length >= 5, 5000, '5 messages');
      const [m1, m2, m3, m4, m5] = c.got;
      assert.equal(str(m1), 'with-headers');
      assert.ok(m1.headers, 'headers lost');
      assert.equal(m1.headers.get('X-Interop'), 'hello world');
      assert.deepEqual(m1.headers.values('X-Multi'), ['one', 'two']);
      assert.equal(str(m2), 'hdr+reply');
      assert.equal(m2.reply, 'hd.reply.box');
      assert.equal(m2.headers.get('X-Interop'), 'hello world');
      assert.equal(m3.data.length, 0);
      assert.equal(m3.headers.get('X-Only'), 'no-payload');
      assert.equal(str(m4), 'status');
      assert.equal(m4.headers.code, 418);
      assert.equal(m4.headers.description, "I'm a teapot");
      assert.equal(m4.headers.get('X-Status'), 'custom');
      assert.equal(str(m5), 'plain');
      assert.equal(m5.headers, undefined, 'a plain PUB arrived with headers');

      // headers on a request and on its reply
      const r = await conn();
      r.subscribe('hd.svc', {
        callback: (err, m) => {
          const rh = headers();
          rh.set('X-Echo', m.headers?.get('X-Req') ?? 'none');
          m.respond(sc.encode('ok:' + str(m)), { headers: rh });
        },
      });
      await r.flush();
      const qh = headers();
      qh.set('X-Req', 'v1');
      const resp = await p.request('hd.svc', sc.encode('q'), { headers: qh, timeout: 3000 });
      assert.equal(str(resp), 'ok:q');
      assert.equal(resp.headers?.get('X-Echo'), 'v1');
    });

    it('large payloads: 512 KiB, several in a row, and exactly max_payload', async () => {
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'big.x');
      await s.flush();
      const half = crypto.randomBytes(512 * 1024);
      p.publish('big.x', half);
      await p.flush();
      await waitFor(() => c.got.length >= 1, 10000, 'the 512 KiB message');
      assert.equal(c.got[0].data.length, half.length);
      assert.ok(Buffer.from(c.got[0].data).equals(half), '512 KiB payload corrupted');

      const several = [0, 1, 2, 3].map(() => crypto.randomBytes(300 * 1024 + 7));
      for (const b of several) p.publish('big.x', b);
      await p.flush();
      await waitFor(() => c.got.length >= 5, 10000, '4 more large messages');
      for (let i = 0; i < 4; i++) {
        assert.ok(Buffer.from(c.got[1 + i].data).equals(several[i]), `large message ${i} corrupted or out of order`);
      }

      const max = p.info.max_payload;
      const exact = crypto.randomBytes(max);
      p.publish('big.x', exact);
      await p.flush();
      await waitFor(() => c.got.length >= 6, 10000, 'the max_payload-sized message');
      assert.ok(Buffer.from(c.got[5].data).equals(exact), 'max_payload-sized payload corrupted');
    });

    it('a payload above max_payload is refused (by nats.ws from INFO, and by the server)', async () => {
      const p = await conn();
      const max = p.info.max_payload;
      assert.throws(() => p.publish('mp.x', new Uint8Array(max + 1)),
        (e) => e.code === ErrorCode.MaxPayloadExceeded);
      const h = headers();
      h.set('X-Pad', 'y');
      assert.throws(() => p.publish('mp.x', new Uint8Array(max), { headers: h }),
        (e) => e.code === ErrorCode.MaxPayloadExceeded, 'headers count toward max_payload');
      await within(p.flush(), 3000, 'flush after a refused publish');

      // Make nats.ws believe the limit is higher, so the oversize PUB reaches the server.
      const watcher = await conn();
      const w = collect(watcher, 'mp.x');
      await watcher.flush();
      // What each server does every time (docs/interop.md, "Known issues"): both close the
      // connection and deliver nothing. mf-broker always gets its -ERR 'Maximum Payload
      // Violation' to the client first (it keeps reading until the client's close).
      // nats-server sends -ERR too but closes the TCP connection while most of the payload is
      // still unread; the kernel then resets the connection, and on a busy machine the client
      // often sees the reset (WebSocket close 1006) before the -ERR: a race inside nats-server
      // (24 of 30 connections on a loaded 2-core machine). So against nats-server the -ERR is
      // checked when it arrives, not required.
      const v = await conn();
      const statuses = [];
      (async () => { for await (const st of v.status()) statuses.push(st); })().catch(() => {});
      const closed = v.closed();
      let wsClose = 'none';
      v.protocol.transport.socket.addEventListener('close', (e) => {
        wsClose = `${e.code}${e.reason ? ` "${e.reason}"` : ''}${e.wasClean ? '' : ' (not clean)'}`;
      });
      v.protocol.info.max_payload = 4 * max;
      v.publish('mp.x', new Uint8Array(max + 1));
      const err = await within(closed, 5000, 'the server to close a connection that sent a PUB above max_payload');
      const last = String(v.protocol.lastError?.message);
      const gotErr = /maximum payload violation/i.test(last);
      if (target.name === 'mf-broker' || gotErr) {
        assert.ok(gotErr, `no -ERR 'Maximum Payload Violation' before the close: last error ${last}, ` +
          `WebSocket close ${wsClose}`);
        assert.ok(err instanceof Error, `closed() resolved with ${err}: no error for a connection the server closed`);
        assert.ok(statuses.some((st) => st.type === Events.Error), 'no error status event');
      }

      // Nothing was delivered, and the server still serves others.
      await watcher.flush();
      assert.equal(w.got.length, 0, 'the oversize message was delivered');
      p.publish('mp.x', sc.encode('small'));
      await p.flush();
      await waitFor(() => w.got.length >= 1, 3000, 'a normal message after the violation');
      assert.equal(str(w.got[0]), 'small');
    });

    it('verbose and pedantic connections work (+OK handled)', async () => {
      const s = await conn({ verbose: true, pedantic: true });
      const p = await conn({ verbose: true });
      const c = collect(s, 'vb.>');
      await s.flush();
      s.subscribe('vb.svc', { callback: (err, m) => m.respond(sc.encode('pong')) });
      await s.flush();
      p.publish('vb.one', sc.encode('1'));
      const r = await p.request('vb.svc', sc.encode('ping'), { timeout: 3000 });
      assert.equal(str(r), 'pong');
      await barrier([p], [s]);
      await waitFor(() => c.got.length >= 2, 3000, '2 messages');
      assert.deepEqual(c.got.map((m) => m.subject), ['vb.one', 'vb.svc']);
    });

    it('flush and drain: nothing published before is lost', async () => {
      // drain of a subscribing connection: what the server had routed arrives first
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'dr.x');
      await s.flush();
      const N = 500;
      for (let i = 0; i < N; i++) p.publish('dr.x', sc.encode(String(i)));
      await within(p.flush(), 5000, 'flush');
      const closed = s.closed();
      await within(s.drain(), 5000, 'subscriber drain');
      assert.ok(s.isClosed());
      assert.equal(await closed, undefined);
      assert.equal(c.got.length, N, `drain lost messages: ${c.got.length}/${N}`);

      // drain of a publishing connection: its queued publishes are sent first
      const s2 = await conn();
      const c2 = collect(s2, 'dr.y');
      await s2.flush();
      const p2 = await conn();
      for (let i = 0; i < N; i++) p2.publish('dr.y', sc.encode(String(i)));
      await within(p2.drain(), 5000, 'publisher drain');
      await waitFor(() => c2.got.length >= N, 5000, `${N} messages after the publisher drained`);
      assert.deepEqual(c2.got.map(str), Array.from({ length: N }, (_, i) => String(i)));

      // drain of one subscription
      const c3 = collect(s2, 'dr.z');
      await s2.flush();
      for (let i = 0; i < 10; i++) p.publish('dr.z', sc.encode(String(i)));
      await p.flush();
      await within(c3.sub.drain(), 5000, 'subscription drain');
      assert.equal(c3.got.length, 10);
      assert.ok(c3.sub.isClosed());
    });

    it('binary payloads (all byte values, embedded CRLF and protocol text) arrive intact', async () => {
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'bin.x');
      await s.flush();
      const all = Buffer.alloc(256 * 4);
      for (let i = 0; i < all.length; i++) all[i] = i & 255;
      const tricky = Buffer.from('\r\nMSG bin.x 1 5\r\nhello\r\nPING\r\n-ERR \'x\'\r\n\r\n');
      const crlfOnly = Buffer.from('\r\n');
      const nul = Buffer.from([0, 0, 0]);
      for (const b of [all, tricky, crlfOnly, nul]) p.publish('bin.x', b);
      const h = headers();
      h.set('X-Bin', 'yes');
      p.publish('bin.x', tricky, { headers: h });
      await p.flush();
      await waitFor(() => c.got.length >= 5, 5000, '5 binary messages');
      const want = [all, tricky, crlfOnly, nul, tricky];
      c.got.forEach((m, i) => assert.ok(Buffer.from(m.data).equals(want[i]), `binary payload ${i} corrupted`));
      assert.equal(c.got[4].headers.get('X-Bin'), 'yes');
    });

    it('long, deep and non-ASCII subjects', async () => {
      const s = await conn();
      const p = await conn();
      const long = 'long.' + 'x'.repeat(900);
      const deep = Array.from({ length: 64 }, (_, i) => `t${i}`).join('.');
      const uni = 'uni.h\u00e9llo.\u65e5\u672c.\u{1F600}';
      const cl = collect(s, long);
      const cd = collect(s, deep.split('.').slice(0, 63).join('.') + '.*');
      const cu = collect(s, 'uni.*.\u65e5\u672c.>');
      await s.flush();
      p.publish(long, sc.encode('L'));
      p.publish(deep, sc.encode('D'));
      p.publish(uni, sc.encode('U'), { reply: uni + '.reply' });
      await p.flush();
      await waitFor(() => cl.got.length && cd.got.length && cu.got.length, 5000, 'the three messages');
      assert.equal(cl.got[0].subject, long);
      assert.equal(cd.got[0].subject, deep);
      assert.equal(cu.got[0].subject, uni);
      assert.equal(cu.got[0].reply, uni + '.reply');
    });

    it('many subscriptions on one connection', async () => {
      const s = await conn();
      const p = await conn();
      const N = 500;
      const got = new Array(N).fill(0);
      for (let i = 0; i < N; i++) {
        s.subscribe(`many.${i}`, { callback: (err, m) => { if (!err) got[Number(str(m))]++; } });
      }
      await s.flush();
      for (let i = 0; i < N; i++) p.publish(`many.${i}`, sc.encode(String(i)));
      await barrier([p], [s]);
      await waitFor(() => got.every((n) => n >= 1), 5000, `a message on each of ${N} subscriptions`);
      assert.ok(got.every((n) => n === 1), 'a subscription got a message twice');
    });

    it('requests to a queue group of responders: each answered exactly once', async () => {
      const r1 = await conn();
      const r2 = await conn();
      const counts = [0, 0];
      [r1, r2].forEach((r, k) => r.subscribe('qsvc.echo', {
        queue: 'svc',
        callback: (err, m) => { counts[k]++; m.respond(sc.encode(`r${k}:` + str(m))); },
      }));
      await r1.flush();
      await r2.flush();
      const q = await conn();
      const n = 60;
      const replies = await Promise.all(Array.from({ length: n }, (_, i) =>
        q.request('qsvc.echo', sc.encode(`q${i}`), { timeout: 5000 })));
      replies.forEach((m, i) => assert.match(str(m), new RegExp(`^r[01]:q${i}$`)));
      await barrier([q], [r1, r2]);
      assert.equal(counts[0] + counts[1], n, `responders saw ${counts} requests for ${n}`);
      assert.ok(counts[0] > 0 && counts[1] > 0, `no distribution between responders: ${counts}`);
    });

    it('a burst of messages of varied sizes (frames split and coalesced)', async () => {
      const s = await conn();
      const p = await conn();
      const c = collect(s, 'vary.x');
      await s.flush();
      // sizes around the 64 KiB frame size and small ones in between, deterministic
      let seed = 12345;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      const msgs = [];
      let total = 0;
      for (let i = 0; total < 12 * MiB; i++) {
        const r = rnd();
        const len = r < 0.5 ? Math.floor(rnd() * 200) : r < 0.9 ? Math.floor(rnd() * 20000) : 60000 + Math.floor(rnd() * 12000);
        const b = Buffer.alloc(len + 4);
        b.writeUInt32BE(i, 0);
        for (let k = 4; k < b.length; k++) b[k] = (i + k) & 255;
        msgs.push(b);
        total += b.length;
      }
      for (const b of msgs) p.publish('vary.x', b);
      await within(p.flush(), 10000, 'publisher flush');
      await waitFor(() => c.got.length >= msgs.length, 10000, `${msgs.length} messages (${total} bytes)`);
      assert.equal(c.got.length, msgs.length);
      for (let i = 0; i < msgs.length; i++) {
        if (!Buffer.from(c.got[i].data).equals(msgs[i])) {
          assert.fail(`message ${i} (${msgs[i].length} bytes) differs: got ${c.got[i].data.length} bytes, ` +
            `index ${Buffer.from(c.got[i].data).readUInt32BE(0)}`);
        }
      }
    });

    it('the same subject subscribed twice on one connection: delivered once per subscription', async () => {
      const s = await conn();
      const p = await conn();
      const a = collect(s, 'dup.x');
      const b = collect(s, 'dup.x');
      const w = collect(s, 'dup.*');
      await s.flush();
      p.publish('dup.x', sc.encode('1'));
      p.publish('Dup.X', sc.encode('case'));
      await barrier([p], [s]);
      await waitFor(() => a.got.length && b.got.length && w.got.length, 3000, 'three deliveries');
      assert.deepEqual([a.got.length, b.got.length, w.got.length], [1, 1, 1], 'subjects are case-sensitive; one delivery per sid');
      assert.notEqual(a.got[0].sid, b.got[0].sid);
    });

    it('queue member unsubscribes: the rest of the group gets everything', async () => {
      const c1 = await conn();
      const c2 = await conn();
      const p = await conn();
      const q1 = collect(c1, 'qu.x', { queue: 'g' });
      const q2 = collect(c2, 'qu.x', { queue: 'g' });
      await c1.flush();
      await c2.flush();
      q1.sub.unsubscribe();
      await c1.flush();
      for (let i = 0; i < 50; i++) p.publish('qu.x', sc.encode(String(i)));
      await barrier([p], [c1, c2]);
      await waitFor(() => q2.got.length >= 50, 3000, '50 messages to the remaining member');
      assert.equal(q1.got.length, 0);
      assert.equal(q2.got.length, 50);
    });

    it('fan-out to 40 connections', async () => {
      const subs = [];
      for (let i = 0; i < 40; i++) {
        const nc = await conn();
        subs.push(collect(nc, 'fan.x'));
        await nc.flush();
      }
      const p = await conn();
      const N = 200;
      for (let i = 0; i < N; i++) p.publish('fan.x', sc.encode(String(i)));
      await p.flush();
      await waitFor(() => subs.every((c) => c.got.length >= N), 10000, `${N} messages on each of 40 connections`);
      const seq = Array.from({ length: N }, (_, i) => String(i));
      subs.forEach((c, k) => assert.deepEqual(c.got.map(str), seq, `connection ${k}`));
    });

    it('requestMany: replies from several responders; no responders with headers', async () => {
      const r1 = await conn();
      const r2 = await conn();
      r1.subscribe('many.svc', { callback: (err, m) => m.respond(sc.encode('one')) });
      r2.subscribe('many.svc', { callback: (err, m) => m.respond(sc.encode('two')) });
      await r1.flush();
      await r2.flush();
      const q = await conn();
      const it = await q.requestMany('many.svc', sc.encode('x'), { maxMessages: 2, maxWait: 3000, strategy: 'count' });
      const got = [];
      for await (const m of it) got.push(str(m));
      assert.deepEqual(got.sort(), ['one', 'two']);
      const h = headers();
      h.set('X-Req', '1');
      await assert.rejects(q.request('many.nobody', sc.encode('x'), { headers: h, timeout: 3000 }),
        (err) => err.code === ErrorCode.NoResponders || assert.fail(`${err.code} ${err.message}`));
    });

    it('no-responders status goes to the publisher\'s subscription matching a custom reply subject', async () => {
      const q = await conn();
      const c = collect(q, 'nrc.box.*');
      await q.flush();
      q.publish('nrc.nobody', sc.encode('x'), { reply: 'nrc.box.7' });
      await waitFor(() => c.got.length >= 1, 3000, 'the 503 status message');
      const m = c.got[0];
      assert.equal(m.subject, 'nrc.box.7');
      assert.equal(m.data.length, 0);
      assert.ok(m.headers, 'no header block');
      assert.equal(m.headers.code, 503);
      // a publish without reply to nobody: nothing comes back
      q.publish('nrc.nobody', sc.encode('y'));
      await q.flush();
      assert.equal(c.got.length, 1);
    });

    it('publishing to a wildcard subject: connection stays; pedantic gets Invalid Publish Subject', async () => {
      // Both servers deliver `wp.*` literally to subscribers whose pattern matches it
      // (even in pedantic mode, after the -ERR).
      const s = await conn();
      const c = collect(s, 'wp.*');
      await s.flush();
      const p = await conn();
      p.publish('wp.*', sc.encode('wild'));
      p.publish('wp.ok', sc.encode('literal'));
      await barrier([p], [s]);
      await waitFor(() => c.got.some((m) => str(m) === 'literal'), 3000, 'the literal message');
      const wild = c.got.filter((m) => str(m) === 'wild').length;
      assert.equal(wild, 1, `wildcard publish delivered ${wild} times`);
      assert.ok(!p.isClosed());

      const ped = await conn({ pedantic: true });
      const statuses = [];
      (async () => { for await (const st of ped.status()) statuses.push(st); })().catch(() => {});
      ped.publish('wp.>', sc.encode('wild'));
      await within(ped.flush(), 3000, 'flush after an invalid publish subject');
      await waitFor(() => ped.protocol.lastError, 3000, 'an -ERR');
      assert.match(String(ped.protocol.lastError.message), /invalid publish subject/i);
      assert.ok(!ped.isClosed(), 'a pedantic connection is kept after Invalid Publish Subject');
      ped.publish('wp.ok', sc.encode('after'));
      await barrier([ped], [s]);
      await waitFor(() => c.got.some((m) => str(m) === 'after'), 3000, 'a message after the -ERR');
      assert.equal(c.got.filter((m) => str(m) === 'wild').length, 2,
        'a pedantic wildcard publish is delivered too (after the -ERR)');
    });

    it('echo off and the only subscriber is the requester itself: no responders', async () => {
      const q = await conn({ noEcho: true });
      q.subscribe('selfonly.svc', { callback: (err, m) => m.respond(sc.encode('me')) });
      await q.flush();
      await assert.rejects(q.request('selfonly.svc', sc.encode('x'), { timeout: 1500 }),
        (err) => err.code === ErrorCode.NoResponders || assert.fail(`${err.code} ${err.message}`));
    });

    it('an invalid subscription subject is refused; the connection stays usable', async () => {
      const nc = await conn();
      const statuses = [];
      (async () => { for await (const st of nc.status()) statuses.push(st); })().catch(() => {});
      nc.subscribe('bad..subject', { callback: () => {} });
      await within(nc.flush(), 3000, 'flush after the invalid SUB');
      await waitFor(() => statuses.some((st) => st.type === Events.Error), 3000, 'an -ERR for the invalid subject');
      assert.ok(!nc.isClosed(), 'the connection was closed');
      const c = collect(nc, 'still.ok');
      await nc.flush();
      nc.publish('still.ok', sc.encode('yes'));
      await waitFor(() => c.got.length >= 1, 3000, 'a message after the -ERR');
    });
  });
}

// Server options, each case on its own server: token authentication, a smaller
// max_payload, server keepalive PINGs, a restart on the same port.
for (const target of targets()) {
  describe(`nats.ws <-> ${target.name} (server options)`, { skip: target.skip }, () => {
    let servers = [];
    let conns = [];

    async function startServer(opts) {
      const srv = await target.start(opts);
      servers.push(srv);
      return srv;
    }

    async function conn(srv, opts = {}) {
      const nc = await connect({ servers: srv.url, reconnect: false, timeout: 3000, ...opts });
      conns.push(nc);
      return nc;
    }

    function it(name, fn) {
      test(name, { timeout: 15000 }, async () => {
        servers = [];
        conns = [];
        const log = { name: target.name, tail: (n) => servers.map((x) => x.tail(n)).join('\n'), alive: () => true };
        try {
          await withLog(log, fn);
        } finally {
          for (const nc of conns) {
            if (!nc.isClosed()) await within(nc.close(), 3000, 'close').catch(() => {});
          }
          for (const srv of servers) await srv.stop();
        }
      });
    }

    it('auth token: required in INFO, right token works, wrong or missing refused', async () => {
      const srv = await startServer({ token: 's3cret-T0ken' });
      const ok = await conn(srv, { token: 's3cret-T0ken' });
      assert.equal(ok.info.auth_required, true);
      const c = collect(ok, 'auth.x');
      await ok.flush();
      ok.publish('auth.x', sc.encode('in'));
      await waitFor(() => c.got.length >= 1, 3000, 'a message on an authenticated connection');
      for (const token of ['wrong', undefined]) {
        await assert.rejects(
          within(connect({ servers: srv.url, reconnect: false, timeout: 3000, ...(token ? { token } : {}) }), 5000, 'connect'),
          (err) => {
            assert.equal(err.code, ErrorCode.AuthorizationViolation, `token=${token}: ${err.code} ${err.message}`);
            return true;
          });
      }
      await within(ok.flush(), 3000, 'the authenticated connection still works');
    });

    it('max_payload 64K: announced, enforced by nats.ws, exact size delivered, oversize refused', async () => {
      const srv = await startServer({ maxPayload: 65536 });
      const s = await conn(srv);
      assert.equal(s.info.max_payload, 65536);
      const c = collect(s, 'mp64.x');
      await s.flush();
      const p = await conn(srv);
      assert.throws(() => p.publish('mp64.x', new Uint8Array(65537)), (e) => e.code === ErrorCode.MaxPayloadExceeded);
      const exact = crypto.randomBytes(65536);
      p.publish('mp64.x', exact);
      await p.flush();
      await waitFor(() => c.got.length >= 1, 3000, 'the 64 KiB message');
      assert.ok(Buffer.from(c.got[0].data).equals(exact));
      // a header block counts toward the limit on the server too
      const v = await conn(srv);
      const closed = v.closed();
      v.protocol.info.max_payload = 1 << 20;
      const h = headers();
      h.set('X-Pad', 'p');
      v.publish('mp64.x', new Uint8Array(65536 - 4), { headers: h });
      const err = await within(closed, 5000, 'the server to refuse an HPUB above max_payload');
      // nats-server may lose its -ERR in the reset that follows its close (see the case above)
      const last = String(v.protocol.lastError?.message);
      if (target.name === 'mf-broker' || /maximum payload violation/i.test(last)) {
        assert.ok(err instanceof Error);
        assert.match(last, /maximum payload violation/i);
      }
      await s.flush();
      assert.equal(c.got.length, 1, 'the oversize HPUB was delivered');
    });

    it('server keepalive: PINGs answered by nats.ws keep an idle connection; unanswered ones drop it', async () => {
      const srv = await startServer({ pingInterval: 1 });
      const good = await conn(srv);
      const bad = await conn(srv);
      // make `bad` deaf to server PINGs (nats.ws internals)
      bad.protocol.processPing = () => {};
      const badClosed = bad.closed();
      const t0 = Date.now();
      const err = await within(badClosed, 9000, 'the server to drop a connection that does not answer PINGs');
      const dt = Date.now() - t0;
      assert.ok(dt >= 1500, `dropped after ${dt} ms: too early for ping_interval 1 s with 2 PINGs outstanding`);
      assert.ok(err instanceof Error || bad.protocol.lastError, 'no error for a stale connection');
      assert.match(String(bad.protocol.lastError?.message), /stale connection/i);
      // the one that answered is still fine (it has been idle all along)
      assert.ok(!good.isClosed(), 'the connection answering PINGs was dropped');
      const c = collect(good, 'ka.x');
      await good.flush();
      good.publish('ka.x', sc.encode('alive'));
      await waitFor(() => c.got.length >= 1, 3000, 'a message after idling');
    });

    it('restart on the same port: nats.ws reconnects and re-subscribes', async () => {
      let srv = await startServer({});
      const nc = await conn(srv, { reconnect: true, reconnectTimeWait: 100, maxReconnectAttempts: 100, reconnectJitter: 0 });
      const events = [];
      (async () => { for await (const st of nc.status()) events.push(st.type); })().catch(() => {});
      const c = collect(nc, 'rs.x');
      await nc.flush();
      servers = servers.filter((x) => x !== srv);
      srv = await srv.restart();
      servers.push(srv);
      await waitFor(() => events.includes(Events.Reconnect), 8000, 'the reconnect event');
      await within(nc.flush(), 3000, 'flush after reconnecting');
      const p = await conn(srv);
      p.publish('rs.x', sc.encode('after restart'));
      await p.flush();
      await waitFor(() => c.got.length >= 1, 3000, 'a message on the re-established subscription');
      assert.equal(str(c.got[0]), 'after restart');
    });
  });
}
