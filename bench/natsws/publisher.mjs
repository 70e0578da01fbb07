// publisher.mjs - the publisher of bench_natsws.mjs --split, in a process of its own
// (a long-lived child: its JIT stays warm from run to run). On each IPC message
// { url, subject, n, size } it connects, waits for 'go', publishes n messages of
// size bytes (the sequence number in the first 4 bytes, a flush every 1000),
// closes, and answers { cpuNs } (its CPU for the publishing) or { error }.
import { loadNats } from '../../tests/interop/harness.mjs';

const nats = await loadNats();
const cpuNs = () => { const c = process.cpuUsage(); return (c.user + c.system) * 1000; };
let go = null;

process.on('message', async (m) => {
  if (m === 'go') {
    if (go) go();
    return;
  }
  try {
    const pub = await nats.connect({ servers: m.url, name: 'bench-pub' });
    await pub.flush();
    const started = new Promise((r) => { go = r; });
    process.send({ ready: true });
    await started;
    const c0 = cpuNs();
    const ring = Array.from({ length: 1000 }, () => new Uint8Array(m.size).fill(120));
    for (let i = 0; i < m.n; i++) {
      const payload = ring[i % 1000];
      new DataView(payload.buffer).setUint32(0, i);
      pub.publish(m.subject, payload);
      if (i % 1000 === 999) await pub.flush();
    }
    await pub.flush();
    const used = cpuNs() - c0;
    await pub.close();
    process.send({ cpuNs: used });
  } catch (e) {
    process.send({ error: e.message });
  }
});
process.send({ started: true });
