// wsframes.mjs - a counting TCP proxy for the benchmark's --frames option: it
// sits between nats.ws and a server, passes every byte through unchanged, and
// parses the WebSocket frames in each direction (RFC 6455 headers only; the
// payloads are skipped), so the benchmark can report frames per message,
// bytes per frame and TCP reads per frame for each server alike.
import net from 'node:net';

// A streaming frame-header counter for one direction.
class FrameCounter {
  constructor() {
    this.frames = 0;      // frames whose header was seen
    this.bytes = 0;       // bytes on the wire (headers + payloads)
    this.chunks = 0;      // TCP reads that delivered bytes (>= the peer's writes that were coalesced)
    this.skip = 0;        // payload bytes of the current frame still to pass
    this.head = Buffer.alloc(0); // a partial header
  }

  feed(buf) {
    this.chunks++;
    this.bytes += buf.length;
    let i = 0;
    while (i < buf.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      // collect at most 14 header bytes
      const take = Math.min(14 - this.head.length, buf.length - i);
      const h = Buffer.concat([this.head, buf.subarray(i, i + take)]);
      const need = headerLength(h);
      if (need === 0 || h.length < need) {
        this.head = h;
        i += take;
        continue;
      }
      const used = need - this.head.length; // bytes of buf that belong to the header
      this.head = Buffer.alloc(0);
      i += used;
      this.skip = payloadLength(h);
      this.frames++;
    }
  }
}

// The header's length once its first bytes are known, 0 when still unknown.
function headerLength(h) {
  if (h.length < 2) return 0;
  const len7 = h[1] & 0x7f, mask = h[1] & 0x80 ? 4 : 0;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + mask;
}

function payloadLength(h) {
  const len7 = h[1] & 0x7f;
  if (len7 === 126) return h.readUInt16BE(2);
  if (len7 === 127) return Number(h.readBigUInt64BE(2));
  return len7;
}

// Starts a proxy to 127.0.0.1:port; resolves { url, up, down, reset(), close() }.
// up: client -> server; down: server -> client. The HTTP upgrade's bytes are
// counted out: each direction starts counting after its "\r\n\r\n".
export function startFrameProxy(port) {
  const stats = { up: new FrameCounter(), down: new FrameCounter() };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    pipe(client, upstream, () => stats.up);
    pipe(upstream, client, () => stats.down);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `ws://127.0.0.1:${server.address().port}`,
        get up() { return stats.up; },
        get down() { return stats.down; },
        reset() { stats.up = new FrameCounter(); stats.down = new FrameCounter(); },
        close() { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
      });
    });
  });
}

function pipe(from, to, counter) {
  let inHead = true, seen = '';
  from.on('data', (buf) => {
    to.write(buf);
    if (inHead) {
      seen += buf.toString('latin1');
      const end = seen.indexOf('\r\n\r\n');
      if (end < 0) return;
      inHead = false;
      const rest = Buffer.from(seen.slice(end + 4), 'latin1');
      if (rest.length) counter().feed(rest);
      return;
    }
    counter().feed(buf);
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  to.on('error', () => from.destroy());
}
