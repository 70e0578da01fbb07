// Reproducer (not a test): does the -ERR for an oversize PUB reach a `ws`
// client (the WebSocket library under nats.ws) when the host is busy?
//
//   MF_BROKER=../../build/bin/mf-broker node repro_oversize_err.mjs [ITERATIONS] [PARALLEL]
//
// For each server (mf-broker, nats-server) it starts one server and PARALLEL
// client processes (default 3, to load the CPUs), each doing ITERATIONS
// (default 100) times, one after another: connect, CONNECT + PING, then one
// WebSocket message "PUB x 1048577\r\n" + 1 MiB + 1 bytes + "\r\n". It counts the
// connections that ended without "-ERR 'Maximum Payload Violation'" and their
// WebSocket close codes (1006 = the TCP connection ended without a close frame).
// See docs/interop.md, "Known issues".

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import * as h from './harness.mjs';

const ws = await import('ws').catch(() => {
  console.error(h.NPM_HINT);
  process.exit(2);
});

async function worker(url, iterations) {
  const stats = { withErr: 0, withoutErr: 0, closeCodes: {} };
  for (let i = 0; i < iterations; i++) {
    await new Promise((resolve) => {
      const sock = new ws.WebSocket(url);
      let rx = '';
      let stage = 0;
      sock.on('message', (d) => {
        rx += d.toString('latin1');
        if (stage === 0 && rx.includes('INFO')) {
          stage = 1;
          sock.send(Buffer.from('CONNECT {"verbose":false,"headers":true}\r\nPING\r\n'));
        } else if (stage === 1 && rx.includes('PONG')) {
          stage = 2;
          const n = 1048577;
          sock.send(Buffer.concat([Buffer.from(`PUB x ${n}\r\n`), Buffer.alloc(n, 97), Buffer.from('\r\n')]));
        }
      });
      sock.on('error', () => {});
      sock.on('close', (code) => {
        stats.closeCodes[code] = (stats.closeCodes[code] || 0) + 1;
        if (rx.includes("-ERR 'Maximum Payload Violation'")) stats.withErr++;
        else stats.withoutErr++;
        resolve();
      });
    });
  }
  return stats;
}

if (process.env.REPRO_WORKER_URL) {
  const stats = await worker(process.env.REPRO_WORKER_URL, Number(process.env.REPRO_ITERATIONS));
  process.send(stats, () => process.exit(0));
} else {
  const iterations = Number(process.argv[2] || 100);
  const parallel = Number(process.argv[3] || 3);
  for (const t of h.targets()) {
    if (t.skip) {
      console.log(`${t.name}: skipped (${t.skip})`);
      continue;
    }
    const srv = await t.start();
    const results = await Promise.all(Array.from({ length: parallel }, () => new Promise((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, REPRO_WORKER_URL: srv.url, REPRO_ITERATIONS: String(iterations) },
      });
      child.on('message', resolve);
      child.on('exit', (code) => { if (code) reject(new Error(`worker exited ${code}`)); });
    })));
    await srv.stop();
    const total = { withErr: 0, withoutErr: 0, closeCodes: {} };
    for (const r of results) {
      total.withErr += r.withErr;
      total.withoutErr += r.withoutErr;
      for (const [k, v] of Object.entries(r.closeCodes)) total.closeCodes[k] = (total.closeCodes[k] || 0) + v;
    }
    console.log(`${t.name}: -ERR received ${total.withErr}, lost ${total.withoutErr}, close codes ${JSON.stringify(total.closeCodes)}`);
  }
}
