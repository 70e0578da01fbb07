// wss:// with a throw-away certificate (made here with the openssl command): nats.ws,
// mflow's C client (cpeer) and mfctl against mf-broker --tls-cert/--tls-key, and the same
// cases against nats-server's websocket { tls { } } listener. See docs/interop.md.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Proc, cpeer, loadNats, makeCert, targets, within, withLog } from './harness.mjs';

const { connect, StringCodec } = await loadNats();
const sc = StringCodec();
const ws = await import('ws');

// nats.ws opens `new WebSocket(url)`: a subclass that trusts the throw-away CA (only that one).
function trusting(caPem) {
  return class extends ws.WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca: caPem });
    }
  };
}

const mfctlPath = () => {
  const p = process.env.MF_MFCTL;
  return p && fs.existsSync(p) ? p : null;
};

for (const target of targets()) {
  describe(`wss: ${target.name}`, { skip: target.skip }, () => {
    let server;
    let tls;
    const plainWS = globalThis.WebSocket;

    before(async () => {
      tls = makeCert();
      server = await target.start({ tls });
      assert.match(server.url, /^wss:\/\//);
      globalThis.WebSocket = trusting(fs.readFileSync(tls.cert));
    }, { timeout: 30000 });

    after(async () => {
      globalThis.WebSocket = plainWS;
      if (server) await server.stop();
    }, { timeout: 12000 });

    function it(name, opts, fn) {
      if (!fn) [opts, fn] = [{}, opts];
      test(name, { timeout: 20000, ...opts }, () => withLog(server, fn));
    }

    it('nats.ws: pub/sub, a 512 KiB message, request/reply over TLS', async () => {
      const a = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
      const b = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
      try {
        const got = [];
        const sub = b.subscribe('wss.>');
        const done = (async () => { for await (const m of sub) { got.push(m); if (got.length === 51) break; } })();
        b.subscribe('wss.echo', { callback: (err, m) => { if (!err) m.respond(m.data); } });
        await b.flush();
        for (let i = 0; i < 50; i++) a.publish('wss.n', sc.encode(String(i)));
        const big = Buffer.alloc(512 * 1024, 7);
        a.publish('wss.big', big);
        await within(done, 10000, '51 messages over wss');
        assert.deepEqual(got.slice(0, 50).map((m) => sc.decode(m.data)), [...Array(50).keys()].map(String));
        assert.equal(got[50].data.length, big.length);
        const r = await a.request('wss.echo', sc.encode('ping'), { timeout: 5000 });
        assert.equal(sc.decode(r.data), 'ping');
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('nats.ws: an untrusted certificate is refused', async () => {
      globalThis.WebSocket = plainWS; // the system's CAs only
      try {
        await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 3000 }));
      } finally {
        globalThis.WebSocket = trusting(fs.readFileSync(tls.cert));
      }
    });

    it('C client (cpeer) <-> nats.ws over TLS', async () => {
      const nc = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
      try {
        const p = cpeer(server.url, ['sub', 'wssc.x', '20'], { CPEER_TLS_CA: tls.cert });
        await p.waitOutput(/cpeer: ready/, 8000);
        for (let i = 0; i < 20; i++) nc.publish('wssc.x', sc.encode(`m${i}`));
        await nc.flush();
        const st = await p.wait(10000);
        assert.equal(st.code, 0, p.tail());
        assert.deepEqual(p.out.trim().split('\n'), [...Array(20).keys()].map((i) => `m${i}`));
        // and the other way
        const got = [];
        const sub = nc.subscribe('wssc.y', { max: 5 });
        const done = (async () => { for await (const m of sub) got.push(sc.decode(m.data)); })();
        await nc.flush();
        const q = cpeer(server.url, ['pub', 'wssc.y', '5', 'c{i}'], { CPEER_TLS_CA: tls.cert });
        assert.equal((await q.wait(10000)).code, 0, q.tail());
        await within(done, 5000, 'messages from cpeer');
        assert.deepEqual(got, ['c0', 'c1', 'c2', 'c3', 'c4']);
        // without the CA the C client cannot connect
        const u = cpeer(server.url, ['pub', 'wssc.y', '1', 'x'], { CPEER_TIMEOUT_MS: '4000' });
        assert.notEqual((await u.wait(10000)).code, 0, 'cpeer connected to an untrusted server');
      } finally {
        await nc.close();
      }
    });

    it('mfctl over TLS (CA from SSL_CERT_FILE, as OpenSSL reads it)', { skip: !mfctlPath() && 'set MF_MFCTL' },
      async () => {
        const nc = await connect({ servers: server.url, reconnect: false, timeout: 5000 });
        try {
          const sub = nc.subscribe('mfctl.tls', { max: 1 });
          const got = (async () => { for await (const m of sub) return sc.decode(m.data); })();
          await nc.flush();
          const file = `${tls.dir}/payload.txt`;
          fs.writeFileSync(file, 'over-tls');
          const p = new Proc('mfctl', [mfctlPath(), '-s', server.url, 'pub', 'mfctl.tls', file, '--raw'],
            { env: { SSL_CERT_FILE: tls.cert } });
          const st = await p.wait(10000);
          assert.equal(st.code, 0, p.tail());
          assert.equal(await within(got, 5000, 'mfctl message'), 'over-tls');
          // and without trusting the certificate: exit 1
          const bad = new Proc('mfctl', [mfctlPath(), '-s', server.url, '--connect-timeout', '2s', 'pub', 'mfctl.tls',
            file, '--raw'], { env: { SSL_CERT_FILE: '/dev/null' } });
          assert.equal((await bad.wait(10000)).code, 1, bad.tail());
        } finally {
          await nc.close();
        }
      });
  });
}
