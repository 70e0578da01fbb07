// nats.ws <-> mflow's C client (mf_client, through the cpeer program) via
// mf-broker, and the same cases via nats-server.
//
//   MF_BROKER=build/bin/mf-broker MF_CPEER=build/tests/interop_cpeer \
//     node --test cross_client.test.mjs
//
// cpeer usage is described at the top of cpeer.c; it prints "cpeer: ready" on
// stderr once its subscription is registered at the server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { cpeer, fmtExit, loadNats, patternPayload, targets, waitFor, within, withLog } from './harness.mjs';

const { connect, StringCodec, headers } = await loadNats();
const sc = StringCodec();
const str = (m) => sc.decode(m.data);

function collect(nc, subject, opts = {}) {
  const got = [];
  const sub = nc.subscribe(subject, { ...opts, callback: (err, m) => { if (!err) got.push(m); } });
  return { sub, got };
}

// Waits for a cpeer to exit; returns {code, out, lines, err}.
async function finish(p, timeoutMs = 12000) {
  const st = await p.wait(timeoutMs);
  const lines = p.out.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return { code: st.code, signal: st.signal, out: p.out, lines, err: p.err, status: fmtExit(st) };
}

function expectExit(r, code, what) {
  assert.equal(r.code, code, `${what}: cpeer ended with ${r.status}, expected code ${code}\n` +
    `stdout: ${r.out.slice(0, 500)}\nstderr: ${r.err.slice(-1500)}`);
}

for (const target of targets()) {
  describe(`nats.ws <-> mf_client via ${target.name}`, { skip: target.skip }, () => {
    let server;
    let conns = [];
    let peers = [];

    before(async () => {
      server = await target.start();
    }, { timeout: 12000 });

    after(async () => {
      if (server) await server.stop();
    }, { timeout: 12000 });

    async function conn(opts = {}) {
      const nc = await connect({ servers: server.url, name: 'interop-natsws', reconnect: false, timeout: 3000, ...opts });
      conns.push(nc);
      return nc;
    }

    function peer(args, env) {
      const p = cpeer(server.url, args, env);
      peers.push(p);
      return p;
    }

    function it(name, fn) {
      test(name, { timeout: 15000 }, async () => {
        conns = [];
        peers = [];
        try {
          await withLog(server, fn);
        } catch (e) {
          for (const p of peers) {
            const more = `\n--- ${p.name} (${fmtExit(p.exit)}) ---\n${p.tail(20)}`;
            try { e.message += more; if (typeof e.stack === 'string') e.stack += more; } catch { /* frozen */ }
          }
          throw e;
        } finally {
          for (const p of peers) await p.stop(1000);
          for (const nc of conns) {
            if (!nc.isClosed()) await within(nc.close(), 3000, 'close').catch(() => {});
          }
        }
      });
    }

    it('C publishes -> nats.ws receives (in order)', async () => {
      const nc = await conn();
      const c = collect(nc, 'xc.c2n');
      await nc.flush();
      const r = await finish(peer(['pub', 'xc.c2n', '20', 'c-{i}']));
      expectExit(r, 0, 'cpeer pub');
      await waitFor(() => c.got.length >= 20, 5000, '20 messages from the C client');
      assert.deepEqual(c.got.map(str), Array.from({ length: 20 }, (_, i) => `c-${i}`));
      for (const m of c.got) {
        assert.equal(m.subject, 'xc.c2n');
        assert.equal(m.headers, undefined);
      }
    });

    it('nats.ws publishes -> C receives (in order, stops after N)', async () => {
      const p = peer(['sub', 'xc.n2c', '20']);
      await p.waitOutput(/cpeer: ready/, 5000);
      const nc = await conn();
      for (let i = 0; i < 25; i++) nc.publish('xc.n2c', sc.encode(`n-${i}`));
      await nc.flush();
      const r = await finish(p);
      expectExit(r, 0, 'cpeer sub');
      assert.deepEqual(r.lines, Array.from({ length: 20 }, (_, i) => `n-${i}`));
    });

    it('wildcard subscription in C, published by nats.ws', async () => {
      const p = peer(['sub', 'xc.w.*', '3']);
      await p.waitOutput(/cpeer: ready/, 5000);
      const nc = await conn();
      for (const s of ['xc.w.a', 'xc.w.b.c', 'xc.w', 'xc.w.d', 'xc.x.e', 'xc.w.f']) nc.publish(s, sc.encode(s));
      await nc.flush();
      const r = await finish(p);
      expectExit(r, 0, 'cpeer sub xc.w.*');
      assert.deepEqual(r.lines, ['xc.w.a', 'xc.w.d', 'xc.w.f']);
    });

    it('nats.ws requests -> C replies', async () => {
      const p = peer(['reply', 'xc.svc', '6']);
      await p.waitOutput(/cpeer: ready/, 5000);
      const nc = await conn();
      const a = await nc.request('xc.svc', sc.encode('hello'), { timeout: 3000 });
      assert.equal(str(a), 're:hello');
      const many = await Promise.all([0, 1, 2, 3].map((i) =>
        nc.request('xc.svc', sc.encode(`q${i}`), { timeout: 3000 })));
      assert.deepEqual(many.map(str), ['re:q0', 're:q1', 're:q2', 're:q3']);
      const nm = await nc.request('xc.svc', sc.encode('nomux'), { timeout: 3000, noMux: true });
      assert.equal(str(nm), 're:nomux');
      const r = await finish(p);
      expectExit(r, 0, 'cpeer reply');
      assert.deepEqual(r.lines.slice().sort(), ['hello', 'nomux', 'q0', 'q1', 'q2', 'q3']);
    });

    it('C requests -> nats.ws replies', async () => {
      const nc = await conn();
      const seen = [];
      nc.subscribe('xc.ask', {
        callback: (err, m) => {
          seen.push(m.reply);
          m.respond(sc.encode('ans:' + str(m)));
        },
      });
      await nc.flush();
      const r = await finish(peer(['req', 'xc.ask', 'hello from C', '3000']));
      expectExit(r, 0, 'cpeer req');
      assert.deepEqual(r.lines, ['ans:hello from C']);
      assert.equal(seen.length, 1);
      assert.match(seen[0], /^_INBOX\.[A-Za-z0-9]{22}\.\w+$/, `C client reply subject: ${seen[0]}`);
    });

    it('C request with nobody listening -> "no responders" (fast)', async () => {
      const t0 = Date.now();
      const r = await finish(peer(['req', 'xc.nobody.home', 'anyone?', '5000']));
      const dt = Date.now() - t0;
      expectExit(r, 1, 'cpeer req without responders');
      assert.deepEqual(r.lines, ['no responders']);
      assert.ok(dt < 4000, `took ${dt} ms: the 503 status did not come (or was not recognised)`);
    });

    it('C request to a silent subscriber -> "timeout"', async () => {
      const nc = await conn();
      nc.subscribe('xc.silent', { callback: () => {} });
      await nc.flush();
      const r = await finish(peer(['req', 'xc.silent', 'hello?', '500']));
      expectExit(r, 1, 'cpeer req to a silent subscriber');
      assert.deepEqual(r.lines, ['timeout']);
    });

    it('headers: C HPUB -> nats.ws, nats.ws HPUB -> C, and on a C reply', async () => {
      const nc = await conn();
      const c = collect(nc, 'xc.h1');
      await nc.flush();
      const r1 = await finish(peer(['pub', 'xc.h1', '2', 'hp-{i}'], { CPEER_HEADER: 'X-From: c peer' }));
      expectExit(r1, 0, 'cpeer pub with a header');
      await waitFor(() => c.got.length >= 2, 5000, '2 messages with headers');
      assert.deepEqual(c.got.map(str), ['hp-0', 'hp-1']);
      for (const m of c.got) {
        assert.ok(m.headers, 'headers lost between mf_client and nats.ws');
        assert.equal(m.headers.get('X-From'), 'c peer');
      }

      const p = peer(['sub', 'xc.h2', '3'], { CPEER_SHOW_HEADER: 'X-From' });
      await p.waitOutput(/cpeer: ready/, 5000);
      const h = headers();
      h.set('X-From', 'nats.ws');
      nc.publish('xc.h2', sc.encode('with'), { headers: h });
      nc.publish('xc.h2', sc.encode('without'));
      const h2 = headers();
      h2.set('X-Other', '1');
      h2.set('x-from', 'lower case name');
      nc.publish('xc.h2', sc.encode('case'), { headers: h2 });
      await nc.flush();
      const r2 = await finish(p);
      expectExit(r2, 0, 'cpeer sub showing a header');
      assert.deepEqual(r2.lines, ['with|nats.ws', 'without|-', 'case|lower case name']);

      // a C responder echoing a request header back
      const rp = peer(['reply', 'xc.hsvc', '1'], { CPEER_SHOW_HEADER: 'X-Trace' });
      await rp.waitOutput(/cpeer: ready/, 5000);
      const qh = headers();
      qh.set('X-Trace', 'abc-123');
      const resp = await nc.request('xc.hsvc', sc.encode('ping'), { headers: qh, timeout: 3000 });
      assert.equal(str(resp), 're:ping');
      assert.equal(resp.headers?.get('X-Trace'), 'abc-123');
      const r3 = await finish(rp);
      expectExit(r3, 0, 'cpeer reply with a header');
      assert.deepEqual(r3.lines, ['ping|abc-123']);
    });

    it('a C client without header support: HPUB arrives as plain MSG; no 503 for it', async () => {
      const p = peer(['sub', 'xc.noh', '2'], { CPEER_NO_HEADERS: '1', CPEER_SHOW_HEADER: 'X-From' });
      await p.waitOutput(/cpeer: ready/, 5000);
      const nc = await conn();
      const h = headers();
      h.set('X-From', 'nats.ws');
      nc.publish('xc.noh', sc.encode('hdr-stripped'), { headers: h });
      nc.publish('xc.noh', sc.encode('plain'));
      await nc.flush();
      const r = await finish(p);
      expectExit(r, 0, 'cpeer sub without headers');
      assert.deepEqual(r.lines, ['hdr-stripped|-', 'plain|-'], 'the header block must be stripped, the payload kept');
      // without headers/no_responders in CONNECT, a request to nobody just times out
      const q = await finish(peer(['req', 'xc.noh.nobody', 'x', '600'], { CPEER_NO_HEADERS: '1' }));
      expectExit(q, 1, 'cpeer req without headers');
      assert.deepEqual(q.lines, ['timeout']);
    });

    it('512 KiB payloads both ways', async () => {
      const size = 512 * 1024;
      const want = patternPayload(size);
      const nc = await conn();
      const c = collect(nc, 'xc.big.c2n');
      await nc.flush();
      const r1 = await finish(peer(['pub', 'xc.big.c2n', '2', `@size:${size}`]));
      expectExit(r1, 0, 'cpeer pub 512 KiB');
      await waitFor(() => c.got.length >= 2, 8000, 'two 512 KiB messages from C');
      for (const m of c.got) {
        assert.equal(m.data.length, size);
        assert.ok(Buffer.from(m.data).equals(want), 'payload from C corrupted');
      }

      const p = peer(['sub', 'xc.big.n2c', '2']);
      await p.waitOutput(/cpeer: ready/, 5000);
      nc.publish('xc.big.n2c', want);
      const other = Buffer.from(want);
      other.reverse();
      nc.publish('xc.big.n2c', other);
      await nc.flush();
      const r2 = await finish(p);
      expectExit(r2, 0, 'cpeer sub 512 KiB');
      assert.equal(r2.lines.length, 2);
      assert.equal(r2.lines[0].length, size);
      assert.ok(r2.lines[0] === want.toString('latin1'), 'first 512 KiB payload corrupted in C');
      assert.ok(r2.lines[1] === other.toString('latin1'), 'second 512 KiB payload corrupted in C');
    });

    it('a burst of 5000 small messages, both ways, complete and in order', async () => {
      const N = 5000;
      const nc = await conn();
      const c = collect(nc, 'xc.burst.c2n');
      await nc.flush();
      const r1 = await finish(peer(['pub', 'xc.burst.c2n', String(N), 'burst-{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']));
      expectExit(r1, 0, 'cpeer pub burst');
      await waitFor(() => c.got.length >= N, 8000, `${N} messages from C`);
      const seq = Array.from({ length: N }, (_, i) => `burst-${i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`);
      assert.deepEqual(c.got.map(str), seq);

      const p = peer(['sub', 'xc.burst.n2c', String(N)]);
      await p.waitOutput(/cpeer: ready/, 5000);
      for (let i = 0; i < N; i++) nc.publish('xc.burst.n2c', sc.encode(seq[i]));
      await nc.flush();
      const r2 = await finish(p);
      expectExit(r2, 0, 'cpeer sub burst');
      assert.equal(r2.lines.length, N);
      assert.deepEqual(r2.lines, seq);
    });
  });
}

// Server options seen by the C client, each case on its own server.
for (const target of targets()) {
  describe(`nats.ws <-> mf_client via ${target.name} (server options)`, { skip: target.skip }, () => {
    let servers = [];
    let conns = [];
    let peers = [];

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

    function peer(srv, args, env) {
      const p = cpeer(srv.url, args, env);
      peers.push(p);
      return p;
    }

    function it(name, fn) {
      test(name, { timeout: 15000 }, async () => {
        servers = [];
        conns = [];
        peers = [];
        const log = { name: target.name, tail: (n) => servers.map((x) => x.tail(n)).join('\n'), alive: () => true };
        try {
          await withLog(log, fn);
        } catch (e) {
          for (const p of peers) {
            const more = `\n--- ${p.name} (${fmtExit(p.exit)}) ---\n${p.tail(20)}`;
            try { e.message += more; if (typeof e.stack === 'string') e.stack += more; } catch { /* frozen */ }
          }
          throw e;
        } finally {
          for (const p of peers) await p.stop(1000);
          for (const nc of conns) {
            if (!nc.isClosed()) await within(nc.close(), 3000, 'close').catch(() => {});
          }
          for (const srv of servers) await srv.stop();
        }
      });
    }

    it('auth token: C client with the token talks to nats.ws; without it cannot connect', async () => {
      const srv = await startServer({ token: 'tok-42' });
      const nc = await conn(srv, { token: 'tok-42' });
      nc.subscribe('tk.ask', { callback: (err, m) => m.respond(sc.encode('ok:' + str(m))) });
      await nc.flush();
      const r = await finish(peer(srv, ['req', 'tk.ask', 'hi', '3000'], { CPEER_TOKEN: 'tok-42' }));
      expectExit(r, 0, 'cpeer req with the token');
      assert.deepEqual(r.lines, ['ok:hi']);
      for (const env of [{ CPEER_TOKEN: 'nope' }, {}]) {
        const bad = await finish(peer(srv, ['req', 'tk.ask', 'hi', '1000'], { ...env, CPEER_TIMEOUT_MS: '4000' }));
        assert.notEqual(bad.code, 0, `cpeer connected with token ${env.CPEER_TOKEN}: ${bad.out}`);
        assert.deepEqual(bad.lines, [], 'no request may succeed without the token');
      }
    });

    it('max_payload 64K from INFO: C refuses 64K+1, delivers exactly 64K to nats.ws', async () => {
      const srv = await startServer({ maxPayload: 65536 });
      const nc = await conn(srv);
      const c = collect(nc, 'mp.c');
      await nc.flush();
      const big = await finish(peer(srv, ['pub', 'mp.c', '1', '@size:65537']));
      expectExit(big, 1, 'cpeer pub 64K+1');
      assert.deepEqual(big.lines, ['payload too big']);
      const ok = await finish(peer(srv, ['pub', 'mp.c', '1', '@size:65536']));
      expectExit(ok, 0, 'cpeer pub 64K');
      await waitFor(() => c.got.length >= 1, 3000, 'the 64 KiB message from C');
      assert.ok(Buffer.from(c.got[0].data).equals(patternPayload(65536)));
      assert.equal(c.got.length, 1, 'the refused message went out');
    });

    it('server keepalive: an idle C client answers PINGs and is not dropped', async () => {
      const srv = await startServer({ pingInterval: 1 });
      const p = peer(srv, ['sub', 'ka.c', '1']);
      await p.waitOutput(/cpeer: ready/, 5000);
      await new Promise((r) => setTimeout(r, 3800)); // more than interval x (max pings out + 1)
      assert.equal(p.exit, null, `cpeer exited while idle: ${p.tail(10)}`);
      const nc = await conn(srv);
      nc.publish('ka.c', sc.encode('still there'));
      await nc.flush();
      const r = await finish(p);
      expectExit(r, 0, 'cpeer sub after idling');
      assert.deepEqual(r.lines, ['still there']);
      assert.doesNotMatch(r.err, /DISCONNECTED|Stale/i, 'the C client was disconnected while idle');
    });
  });
}
