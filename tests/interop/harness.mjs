// Shared helpers of the interoperability tests: loading nats.ws on Node, starting
// real servers (mf-broker, nats-server) on free loopback ports, waiting with
// bounds, running the C peer (cpeer), and cleaning up.
//
// Everything listens on and connects to 127.0.0.1 only.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

export const NPM_HINT =
  'the interop tests need their npm packages: run `npm ci` in tests/interop ' +
  '(scripts/deps.sh does it)';

// ------------------------------------------------------------------ nats.ws

// nats.ws expects a browser-like global WebSocket: give it the `ws` package's.
export async function loadNats() {
  let ws;
  try {
    ws = await import('ws');
  } catch (e) {
    throw new Error(`cannot load the 'ws' package (${e.code || e.message}): ${NPM_HINT}`);
  }
  globalThis.WebSocket = ws.WebSocket;
  try {
    return await import('nats.ws');
  } catch (e) {
    throw new Error(`cannot load the 'nats.ws' package (${e.code || e.message}): ${NPM_HINT}`);
  }
}

// ------------------------------------------------------------------ waiting

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls pred() every 5 ms until it is truthy; throws after timeoutMs.
export async function waitFor(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

// Races a promise against a timer.
export function within(promise, timeoutMs, what) {
  let t;
  const timer = new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- processes

// Children and temporary folders still around when this process ends (a
// failed before() hook, a test runner timeout) are killed / removed.
const live = new Set();
const tmpDirs = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.child.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const d of tmpDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
}

// A child process whose stdout/stderr are kept (the tail) for diagnostics.
export class Proc {
  constructor(name, argv, opts = {}) {
    this.name = name;
    this.argv = argv;
    this.out = '';        // stdout, whole (cpeer output is small, except big payloads)
    this.err = '';        // stderr, whole
    this.log = [];        // interleaved lines, bounded
    this.exit = null;     // {code, signal} once exited
    this.child = spawn(argv[0], argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(opts.env || {}) },
      cwd: opts.cwd,
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
      this.child.on('error', (e) => {
        this.exit = { code: null, signal: null, error: e };
        this.push(`[spawn error] ${e.message}`);
        live.delete(this);
        resolve(this.exit);
      });
    });
    this.listeners = new Set();
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d) => { this.out += d; this.push(d); });
    this.child.stderr.on('data', (d) => { this.err += d; this.push(d); });
    // 'close' fires once both pipes ended after the exit: the output is complete.
    this.done = false;
    this.closed = new Promise((resolve) => this.child.on('close', () => {
      this.done = true;
      resolve(this.exit);
      for (const f of this.listeners) f();
    }));
  }

  push(text) {
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      this.log.push(line.length > 400 ? line.slice(0, 400) + `... (${line.length} chars)` : line);
    }
    if (this.log.length > 300) this.log.splice(0, this.log.length - 300);
    for (const f of this.listeners) f();
  }

  tail(n = 60) {
    return this.log.slice(-n).join('\n');
  }

  // Waits until stdout+stderr contain a match of re; rejects when the process
  // exits first or after timeoutMs.
  waitOutput(re, timeoutMs) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.out) || re.exec(this.err);
        if (m) { done(); resolve(m); return true; }
        if (this.done || (this.exit && this.exit.error)) {
          done();
          reject(new Error(`${this.name} exited (${fmtExit(this.exit)}) before printing ${re}:\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const done = () => { clearTimeout(t); this.listeners.delete(check); };
      if (check()) return;
      this.listeners.add(check);
    });
  }

  // Waits for the exit (bounded) and for the complete output.
  async wait(timeoutMs) {
    await within(this.closed, timeoutMs, `${this.name} to exit\n${this.tail()}`);
    return this.exit;
  }

  // SIGTERM, then SIGKILL after graceMs. Returns the exit status.
  async stop(graceMs = 3000) {
    if (!this.exit) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => { if (!this.exit) this.child.kill('SIGKILL'); }, graceMs);
      await this.exited;
      clearTimeout(t);
    }
    return this.exit;
  }
}

export function fmtExit(e) {
  if (!e) return 'running';
  if (e.error) return `spawn error: ${e.error.message}`;
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

// A port that was free a moment ago (bound to 127.0.0.1:0, then released).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function findExecutable(name, extraDirs) {
  const dirs = (process.env.PATH || '').split(path.delimiter).concat(extraDirs);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* next */ }
  }
  return null;
}

function executableOrNull(p) {
  if (!p) return null;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return p;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ servers

export function brokerPath() {
  if (process.env.MF_BROKER) return process.env.MF_BROKER;
  return executableOrNull(path.join(REPO, 'build', 'bin', 'mf-broker'));
}

// NATS_SERVER (when set) must name an executable; otherwise PATH and the usual
// sbin/bin folders are searched. null: not installed.
export function natsServerPath() {
  if (process.env.NATS_SERVER !== undefined) return executableOrNull(process.env.NATS_SERVER);
  return findExecutable('nats-server', ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin']);
}

export function cpeerPath() {
  if (process.env.MF_CPEER) return process.env.MF_CPEER;
  return executableOrNull(path.join(REPO, 'build', 'tests', 'interop_cpeer'));
}

// A running server: { name, url, port, proc, stop(), tail(), restart() }.
// stop() returns the exit status and throws when the server had died before (a
// crash during the tests) or, for mf-broker, did not exit 0 on SIGTERM (its
// documented shutdown). restart(opts) stops it and starts a new one on the same
// port with the same options (plus opts).
function serverHandle(name, url, port, proc, cleanup, again) {
  const h = {
    name,
    url,
    port,
    proc,
    tail: (n) => proc.tail(n),
    alive: () => !proc.exit,
    async stop() {
      const diedEarly = proc.exit;
      const st = await proc.stop();
      if (cleanup) cleanup();
      if (diedEarly) {
        throw new Error(`${name} died during the tests (${fmtExit(diedEarly)}):\n${proc.tail()}`);
      }
      if (name === 'mf-broker' && (st.code !== 0 || st.signal)) {
        throw new Error(`mf-broker did not exit 0 on SIGTERM (${fmtExit(st)}):\n${proc.tail()}`);
      }
      return st;
    },
    async restart(opts = {}) {
      await h.stop();
      return again({ port, ...opts });
    },
  };
  return h;
}

// Server options understood by both starters (all optional):
//   port         listen on this port (a restart on the same port); default: a free one
//   token        require this auth token
//   maxPayload   max_payload in bytes
//   pingInterval server PING interval in seconds, with 2 PINGs allowed outstanding

// mf-broker on a free port. Retries with another port when it exits at once
// (port taken between freePort() and its bind).
export async function startBroker(opts = {}) {
  const bin = brokerPath();
  if (!bin) throw new Error('mf-broker not found: set MF_BROKER to its path (ctest does) or build build/bin/mf-broker');
  const extra = [];
  if (opts.token) extra.push('--auth-token', opts.token);
  if (opts.maxPayload) extra.push('--max-payload', String(opts.maxPayload));
  if (opts.pingInterval) extra.push('--ping-interval', String(opts.pingInterval), '--max-pings-out', '2');
  if (opts.tls) extra.push('--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key);
  const scheme = opts.tls ? 'wss' : 'ws';
  if (opts.extraArgs) extra.push(...opts.extraArgs); // e.g. the benchmark's --broker-arg
  let lastErr;
  for (let attempt = 0; attempt < (opts.port ? 20 : 5); attempt++) {
    const port = opts.port || await freePort();
    const proc = new Proc('mf-broker', [bin, '--host', '127.0.0.1', '--port', String(port), ...extra]);
    try {
      const m = await proc.waitOutput(/mf-broker listening on (wss?:\/\/\S+)/, 5000);
      const url = `${scheme}://127.0.0.1:${port}`;
      if (m[1] !== url) {
        await proc.stop();
        throw new Error(`mf-broker announced ${m[1]}, expected ${url}`);
      }
      return serverHandle('mf-broker', url, port, proc, null, (o) => startBroker({ ...opts, ...o }));
    } catch (e) {
      lastErr = e;
      await proc.stop(500);
      if (opts.port) await sleep(100); // the old process may still hold the port
    }
  }
  throw lastErr;
}

// nats-server with a websocket listener on a random loopback port (the server
// picks it: "-1"), read back from its log; or on opts.port.
export async function startNatsServer(opts = {}) {
  const bin = natsServerPath();
  if (!bin) throw new Error(natsMissing());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-interop-nats-'));
  const conf = path.join(dir, 'nats.conf');
  const lines = [
    'listen: "127.0.0.1:-1"',
    'websocket {',
    `  listen: "127.0.0.1:${opts.port || -1}"`,
    opts.tls ? `  tls { cert_file: ${JSON.stringify(opts.tls.cert)}, key_file: ${JSON.stringify(opts.tls.key)} }`
      : '  no_tls: true',
    '}',
  ];
  if (opts.token) lines.push(`authorization { token: ${JSON.stringify(opts.token)} }`);
  if (opts.maxPayload) lines.push(`max_payload: ${opts.maxPayload}`);
  if (opts.pingInterval) lines.push(`ping_interval: "${opts.pingInterval}s"`, 'ping_max: 2');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  tmpDirs.add(dir);
  const cleanup = () => { fs.rmSync(dir, { recursive: true, force: true }); tmpDirs.delete(dir); };
  let lastErr;
  for (let attempt = 0; attempt < (opts.port ? 20 : 1); attempt++) {
    const proc = new Proc('nats-server', [bin, '-c', conf]);
    try {
      const m = await proc.waitOutput(/Listening for websocket clients on wss?:\/\/127\.0\.0\.1:(\d+)/, 5000);
      await proc.waitOutput(/Server is ready/, 5000);
      const port = Number(m[1]);
      return serverHandle('nats-server', `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`, port, proc, cleanup,
        (o) => startNatsServer({ ...opts, ...o }));
    } catch (e) {
      lastErr = e;
      await proc.stop(500);
      if (opts.port) await sleep(100);
    }
  }
  cleanup();
  throw lastErr;
}

// The parameterisation: the same test bodies run against every target. A target
// whose server is missing is not skipped: its cases fail (starting it throws with
// the reason), because scripts/deps.sh installs nats-server and the build makes
// mf-broker. Only MF_ALLOW_SKIP=1 turns that into a skipped suite, which
// run_node_test.sh reports to ctest as skipped (exit 77), never as passed.
export function targets() {
  const allowSkip = process.env.MF_ALLOW_SKIP === '1';
  const skipIf = (missing, why) => (missing && allowSkip ? `${why} (MF_ALLOW_SKIP=1)` : false);
  return [
    {
      name: 'mf-broker',
      skip: skipIf(!brokerPath(), 'mf-broker not found: set MF_BROKER (ctest does) or build build/bin/mf-broker'),
      start: startBroker,
    },
    {
      name: 'nats-server',
      skip: skipIf(!natsServerPath(), natsMissing()),
      start: startNatsServer,
    },
  ];
}

function natsMissing() {
  return process.env.NATS_SERVER !== undefined
    ? `NATS_SERVER=${process.env.NATS_SERVER} is not an executable`
    : 'nats-server is not installed (apt-get install nats-server, or set NATS_SERVER)';
}

// Runs fn; on failure appends the server's log tail to the error message.
export async function withLog(server, fn) {
  try {
    return await fn();
  } catch (e) {
    const extra = `\n--- ${server.name} log (tail) ---\n${server.tail(40)}` +
      (server.alive() ? '' : `\n--- ${server.name} is NOT running (${fmtExit(server.proc.exit)}) ---`);
    if (e && typeof e === 'object') {
      try {
        e.message += extra;
        if (typeof e.stack === 'string') e.stack += extra;
        throw e;
      } catch (e2) {
        if (e2 === e) throw e;
      }
    }
    throw new Error(String(e) + extra);
  }
}

// -------------------------------------------------------------------- cpeer

// Runs `cpeer URL ARGS...`. Returns the Proc; callers wait on it.
export function cpeer(url, args, env = {}) {
  const bin = cpeerPath();
  if (!bin) {
    throw new Error('interop_cpeer not found: set MF_CPEER (ctest does), or build it: ' +
      'cmake --build <build> --target interop_cpeer');
  }
  return new Proc(`cpeer ${args[0]}`, [bin, url, ...args], { env: { CPEER_TIMEOUT_MS: '10000', ...env } });
}

// A throw-away self-signed certificate for 127.0.0.1 (the openssl command), in a
// temporary directory removed at exit: { cert, key, dir }.
export function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-interop-tls-'));
  tmpDirs.add(dir);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
  { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.error || r.stderr}`);
  return { cert, key, dir };
}

// The deterministic payload of `cpeer ... pub SUBJECT N @size:LEN`.
export function patternPayload(len) {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = 97 + (i % 26);
  return b;
}
