// Browser interop harness: starts the Rust `skylink` server, drives real skylinkjs 0.6.26 pages in
// headless Chromium (playwright-core + Debian's /usr/bin/chromium), records every SDK event in the
// page and waits for events from Node with bounded timeouts. On a failed phase it dumps everything
// (events, console, socket.io traffic, server log) to interop/artifacts/.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { chromium } from 'playwright-core';
import { pageInit, pageSetupSkylink } from './page-init.mjs';

export const INTEROP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SKYLINKJS_PATH = path.join(INTEROP_DIR, 'node_modules', 'skylinkjs', 'publish', 'skylink.complete.js');
export const ARTIFACTS_DIR = process.env.SKYLINK_INTEROP_ARTIFACTS
  ? path.resolve(process.env.SKYLINK_INTEROP_ARTIFACTS)
  : path.join(INTEROP_DIR, 'artifacts');
/** Upper bound of every single wait (ms). */
export const WAIT_MS = Number(process.env.SKYLINK_INTEROP_WAIT_MS || 20000);
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || process.env.CHROMIUM || '/usr/bin/chromium';
export const APP_KEY = 'interop-key';
/** Non-ASCII text used in messages and userData (Latin-1, BMP symbols, CJK, astral emoji, JSON-special chars). */
export const NON_ASCII = 'héllo ✓ 日本 🎉 "quoted" \\ back\u2028line';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The machine has no network: never try DNS for anything but loopback.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** SKYLINK_INTEROP_DUMP=always: also dump artifacts after every passing phase. */
const DUMP_ALWAYS = process.env.SKYLINK_INTEROP_DUMP === 'always';
// skylinkjs LOG_LEVEL: 0 ERROR, 1 WARN, 2 INFO, 3 LOG, 4 DEBUG.
const SKYLINK_LOG_LEVEL = Number(process.env.SKYLINK_INTEROP_LOG_LEVEL ?? 2);

const MAX_PAYLOAD = 64 * 1024;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export function slug(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'x';
}

function truncate(s, n = MAX_PAYLOAD) {
  if (typeof s !== 'string') return s;
  return s.length > n ? `${s.slice(0, n)}…[${s.length} chars]` : s;
}

function payloadToString(p) {
  if (typeof p === 'string') return p;
  if (Buffer.isBuffer(p)) return `<binary ${p.length} bytes> ${p.toString('base64').slice(0, 512)}`;
  return String(p);
}

export function serverBinary() {
  const env = process.env.SKYLINK_BIN;
  if (env) return path.resolve(process.cwd(), env);
  return path.resolve(INTEROP_DIR, '..', 'target', 'debug', 'skylink');
}

// ------------------------------------------------------------------------------------------------
// Server
// ------------------------------------------------------------------------------------------------

/**
 * Starts `$SKYLINK_BIN serve --bind 127.0.0.1 --port 0 --skylinkjs <bundle>` and parses the port
 * from the `... listening addr=127.0.0.1:PORT` log line on stderr.
 */
export async function startServer({ timeoutMs = WAIT_MS } = {}) {
  const bin = serverBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`skylink server binary not found at ${bin}: build it with \`cargo build -p skylink-cli\` or set SKYLINK_BIN`);
  }
  if (!fs.existsSync(SKYLINKJS_PATH)) {
    throw new Error(`${SKYLINKJS_PATH} missing: run \`npm ci\` in ${INTEROP_DIR}`);
  }
  const args = ['serve', '--bind', '127.0.0.1', '--port', '0', '--skylinkjs', SKYLINKJS_PATH];
  const env = { ...process.env, NO_COLOR: '1' };
  if (!env.RUST_LOG) env.RUST_LOG = 'info';
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const started = Date.now();
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    lines.push(`[harness +${Date.now() - started}ms] server exited code=${code} signal=${signal}`);
  });

  let resolvePort;
  let rejectPort;
  const portPromise = new Promise((resolve, reject) => {
    resolvePort = resolve;
    rejectPort = reject;
  });
  const onData = (stream) => {
    let buf = '';
    return (chunk) => {
      buf += chunk.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(ANSI, '');
        buf = buf.slice(nl + 1);
        lines.push(`[${stream} +${Date.now() - started}ms] ${line}`);
        if (line.includes('listening')) {
          const m = /addr=(?:"?)(\[[^\]]+\]|[0-9.]+|[A-Za-z0-9.-]+):(\d+)/.exec(line);
          if (m) resolvePort(Number(m[2]));
        }
      }
    };
  };
  child.stdout.on('data', onData('stdout'));
  child.stderr.on('data', onData('stderr'));
  child.on('error', (err) => rejectPort(new Error(`failed to spawn ${bin}: ${err.message}`)));
  child.on('exit', (code, signal) => rejectPort(new Error(`server exited before listening (code=${code} signal=${signal}):\n${lines.join('\n')}`)));

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server did not log 'listening addr=...' within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
  });
  let port;
  try {
    port = await Promise.race([portPromise, timeout]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const origin = `http://127.0.0.1:${port}`;
  return {
    bin,
    args,
    port,
    origin,
    child,
    lines,
    log: () => lines.join('\n'),
    get exited() {
      return exited;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit').catch(() => {});
      clearTimeout(t);
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Browser and pages
// ------------------------------------------------------------------------------------------------

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH / CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** One browser page (own context) running one Skylink instance. */
export class Peer {
  constructor(name, transport) {
    this.name = name;
    this.transport = transport; // 'websocket' | 'polling'
    this.id = null;
    this.context = null;
    this.page = null;
    this.console = [];
    this.net = [];
    this.websocketUrls = [];
    this.pending = new Set();
    this.closed = false;
    this.t0 = Date.now();
  }

  static async open(browser, server, name, { transport = 'websocket' } = {}) {
    const peer = new Peer(name, transport);
    peer.context = await browser.newContext({ bypassCSP: true });
    const page = await peer.context.newPage();
    peer.page = page;
    const rel = () => Date.now() - peer.t0;

    page.on('console', (m) => peer.console.push({ rel: rel(), type: m.type(), text: truncate(m.text(), 8192) }));
    page.on('pageerror', (e) => peer.console.push({ rel: rel(), type: 'pageerror', text: String(e && (e.stack || e.message || e)) }));
    page.on('crash', () => peer.console.push({ rel: rel(), type: 'crash', text: 'page crashed' }));
    page.on('request', (r) => {
      const url = r.url();
      if (!url.includes('/socket.io/') && !url.includes('/api/')) return;
      let postData = null;
      try {
        postData = r.postData();
      } catch {
        postData = '<unavailable>';
      }
      peer.net.push({ rel: rel(), kind: 'http-request', method: r.method(), url, postData: truncate(postData) });
    });
    page.on('requestfailed', (r) => {
      const url = r.url();
      if (!url.includes('/socket.io/') && !url.includes('/api/')) return;
      peer.net.push({ rel: rel(), kind: 'http-failed', method: r.method(), url, failure: r.failure()?.errorText });
    });
    page.on('response', (r) => {
      const url = r.url();
      if (!url.includes('/socket.io/') && !url.includes('/api/')) return;
      const rec = { rel: rel(), kind: 'http-response', method: r.request().method(), url, status: r.status(), headers: r.headers() };
      peer.net.push(rec);
      const p = r
        .body()
        .then((b) => {
          rec.bodyUtf8 = truncate(b.toString('utf8'));
          rec.bodyLength = b.length;
        })
        .catch((e) => {
          rec.bodyError = String(e.message || e);
        })
        .finally(() => peer.pending.delete(p));
      peer.pending.add(p);
    });
    page.on('websocket', (ws) => {
      const url = ws.url();
      peer.websocketUrls.push(url);
      peer.net.push({ rel: rel(), kind: 'ws-open', url });
      ws.on('framesent', (f) => peer.net.push({ rel: rel(), kind: 'ws-out', payload: truncate(payloadToString(f.payload)) }));
      ws.on('framereceived', (f) => peer.net.push({ rel: rel(), kind: 'ws-in', payload: truncate(payloadToString(f.payload)) }));
      ws.on('socketerror', (e) => peer.net.push({ rel: rel(), kind: 'ws-error', url, error: String(e) }));
      ws.on('close', () => peer.net.push({ rel: rel(), kind: 'ws-close', url }));
    });

    await page.addInitScript(pageInit, { forcePolling: transport === 'polling' });
    await page.goto(`${server.origin}/`, { waitUntil: 'load', timeout: WAIT_MS });
    await page.waitForFunction(() => typeof window.Skylink === 'function', null, { timeout: WAIT_MS, polling: 50 });
    peer.info = await page.evaluate(pageSetupSkylink, { logLevel: SKYLINK_LOG_LEVEL });
    return peer;
  }

  /** Runs `fn(arg)` in the page; `fn` sees `window.__sk` (Skylink) and `window.__harness`. */
  eval(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  /** Index of the next recorded event: pass as `since` to only look at later events. */
  mark() {
    return this.page.evaluate(() => window.__harness.events.length);
  }

  events() {
    return this.page.evaluate(() => window.__harness.events);
  }

  async lastEvents(n = 25) {
    try {
      const evs = await withTimeout(this.page.evaluate((k) => window.__harness.events.slice(-k), n), 3000, 'lastEvents');
      return evs.map((e) => `  #${e.idx} ${e.event} ${truncate(JSON.stringify(e.args), 300)}`).join('\n');
    } catch (e) {
      return `  <could not read events: ${e.message}>`;
    }
  }

  /**
   * Waits (bounded) until the page has recorded an event `name` at index >= `since` for which
   * `predicate(args, ctx, event)` is true. `predicate` runs in the page: it must not close over
   * Node variables; pass values through `ctx` (JSON). Returns the matching event.
   */
  async waitForEvent(name, predicate = null, { ctx = null, since = 0, timeout = WAIT_MS, what = '' } = {}) {
    const pred = predicate ? predicate.toString() : '() => true';
    const expr = `(() => {
      const pred = (${pred});
      const ctx = ${JSON.stringify(ctx)};
      const evs = window.__harness.events;
      for (let i = ${Number(since)}; i < evs.length; i++) {
        const e = evs[i];
        if (e.event === ${JSON.stringify(name)} && pred(e.args, ctx, e)) return e;
      }
      return false;
    })()`;
    try {
      const handle = await this.page.waitForFunction(expr, null, { timeout, polling: 50 });
      const ev = await handle.jsonValue();
      await handle.dispose().catch(() => {});
      return ev;
    } catch (err) {
      const desc = what || (predicate ? `${name} matching ${pred.replace(/\s+/g, ' ').slice(0, 200)}` : name);
      const e = new Error(
        `${this.name} (${this.transport}): no '${name}' event within ${timeout} ms: ${desc}` +
          `${ctx ? ` ctx=${JSON.stringify(ctx)}` : ''} (since #${since})\n` +
          `  cause: ${String(err.message || err).split('\n')[0]}\n` +
          `  last events of ${this.name}:\n${await this.lastEvents()}`,
      );
      e.cause = err;
      throw e;
    }
  }

  /** Like waitForEvent but for a condition over the page state (expression string or function). */
  async waitFor(fn, arg, { timeout = WAIT_MS, what = 'condition' } = {}) {
    try {
      const handle = await this.page.waitForFunction(fn, arg, { timeout, polling: 50 });
      const v = await handle.jsonValue();
      await handle.dispose().catch(() => {});
      return v;
    } catch (err) {
      const e = new Error(
        `${this.name} (${this.transport}): ${what} not met within ${timeout} ms\n` +
          `  cause: ${String(err.message || err).split('\n')[0]}\n  last events of ${this.name}:\n${await this.lastEvents()}`,
      );
      e.cause = err;
      throw e;
    }
  }

  /** init() then joinRoom(); resolves with the joinRoom callback `[error, success]` (does not throw on join errors). */
  async initAndJoin(server, room, joinOptions, { timeout = WAIT_MS } = {}) {
    const since = await this.mark();
    await this.eval(
      ({ appKey, room, roomServer }) => {
        window.__sk.init({ appKey, defaultRoom: room, roomServer, forceSSL: false }, (error, success) => {
          window.__harness.record('harness:init', [error, success]);
        });
      },
      { appKey: APP_KEY, room, roomServer: `//127.0.0.1:${server.port}` },
    );
    const initEv = await this.waitForEvent('harness:init', null, { since, timeout, what: 'init() callback' });
    if (initEv.args[0] && initEv.args[0].__type !== 'undefined') {
      throw new Error(`${this.name}: init() failed: ${JSON.stringify(initEv.args[0]).slice(0, 2000)}`);
    }
    const since2 = await this.mark();
    await this.eval(
      ({ room, joinOptions }) => {
        window.__sk.joinRoom(room, joinOptions, (error, success) => {
          window.__harness.record('harness:joinRoom', [error, success]);
        });
      },
      { room, joinOptions },
    );
    const ev = await this.waitForEvent('harness:joinRoom', null, { since: since2, timeout, what: 'joinRoom() callback' });
    const [error, success] = ev.args;
    const ok = !error || error.__type === 'undefined' ? success : null;
    if (ok && ok.peerId) this.id = ok.peerId;
    return { error: ok ? null : error, success: ok };
  }

  /** Requests to /socket.io/ this page made, by transport. */
  socketTransports() {
    const socketRequests = this.net.filter((r) => r.kind === 'http-request' && r.url.includes('/socket.io/'));
    return {
      polling: socketRequests.filter((r) => /[?&]transport=polling\b/.test(r.url)).length,
      otherHttp: socketRequests.filter((r) => !/[?&]transport=polling\b/.test(r.url)).map((r) => r.url),
      websockets: this.websocketUrls.filter((u) => u.includes('/socket.io/')),
    };
  }

  async dump(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const base = path.join(dir, this.name);
    let pageState = null;
    let events = null;
    if (!this.closed) {
      try {
        events = await withTimeout(this.page.evaluate(() => window.__harness.events), 5000, 'read events');
        pageState = await withTimeout(
          this.page.evaluate(() => {
            const sk = window.__sk;
            const pcs = {};
            try {
              for (const [id, pc] of Object.entries((sk && sk._peerConnections) || {})) {
                pcs[id] = { signalingState: pc.signalingState, iceConnectionState: pc.iceConnectionState, connectionState: pc.connectionState };
              }
            } catch (e) {
              pcs.error = String(e);
            }
            return {
              url: location.href,
              peerId: sk && sk._user ? sk._user.sid : null,
              inRoom: sk ? sk._inRoom : null,
              channelOpen: sk ? sk._channelOpen : null,
              readyState: sk ? sk._readyState : null,
              socketSession: sk ? window.__harness.serialize(sk._socketSession) : null,
              peerConnections: pcs,
              iceConfigs: window.__harness.iceConfigs,
              pageErrors: window.__harness.errors,
            };
          }),
          5000,
          'read page state',
        );
      } catch (e) {
        pageState = { error: `could not read page: ${e.message}` };
      }
    }
    await Promise.race([Promise.allSettled([...this.pending]), sleepMs(2000)]);
    if (events) fs.writeFileSync(`${base}-events.jsonl`, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    fs.writeFileSync(`${base}-page.json`, JSON.stringify({ name: this.name, transport: this.transport, id: this.id, closed: this.closed, info: this.info, ...pageState }, null, 2));
    fs.writeFileSync(`${base}-console.log`, this.console.map((c) => `+${c.rel}ms [${c.type}] ${c.text}`).join('\n') + '\n');
    fs.writeFileSync(`${base}-network.jsonl`, this.net.map((n) => JSON.stringify(n)).join('\n') + '\n');
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.context.close().catch(() => {});
  }
}

function sleepMs(ms) {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}

export async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------------
// Suite: one server + one browser per test file, phases as sequential `it()`s
// ------------------------------------------------------------------------------------------------

export class Suite {
  constructor(label) {
    this.label = label;
    this.room = `interop-${slug(label)}-${Date.now().toString(36)}`;
    this.server = null;
    this.browser = null;
    this.peers = new Map();
    this.phaseNo = 0;
    this.broken = null; // name of the failed critical phase
    this.failures = 0;
    this.setupError = null;
  }

  get dir() {
    return path.join(ARTIFACTS_DIR, slug(this.label));
  }

  /** Never throws: a setup error is reported by the first phase (the others are skipped). */
  async setup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
    try {
      this.server = await startServer();
      this.browser = await launchBrowser();
    } catch (err) {
      this.setupError = err;
    }
  }

  async teardown() {
    for (const p of this.peers.values()) await p.close();
    if (this.browser) await this.browser.close().catch(() => {});
    if (this.server) await this.server.stop();
    if ((this.failures > 0 || DUMP_ALWAYS) && this.server) {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.writeFileSync(path.join(this.dir, 'server.log'), this.server.log() + '\n');
    }
  }

  async openPeer(name, transport) {
    if (this.peers.has(name)) throw new Error(`peer ${name} already open`);
    const p = await Peer.open(this.browser, this.server, name, { transport });
    this.peers.set(name, p);
    return p;
  }

  async closePeer(name) {
    const p = this.peers.get(name);
    if (p) await p.close();
  }

  peer(name) {
    const p = this.peers.get(name);
    if (!p) throw new Error(`peer ${name} was never opened (an earlier phase failed?)`);
    return p;
  }

  /**
   * Registers a phase as an `it()`. A failure dumps artifacts to
   * interop/artifacts/<suite>/<NN-phase>/; after a failed `critical` phase, the later phases are
   * skipped (they cannot run without its state).
   */
  phase(name, fn, { critical = false, timeout = 6 * WAIT_MS } = {}) {
    const no = String(++this.phaseNo).padStart(2, '0');
    it(name, { timeout }, async (t) => {
      if (this.broken) {
        t.skip(`skipped: critical phase '${this.broken}' failed`);
        return;
      }
      if (this.setupError || !this.server || !this.browser) {
        this.broken = 'suite setup (server + browser start)';
        this.failures++;
        throw this.setupError || new Error('suite setup failed (server or browser did not start)');
      }
      try {
        await fn(t);
        if (DUMP_ALWAYS) await this.dumpAll(path.join(this.dir, `${no}-${slug(name)}`), null);
      } catch (err) {
        this.failures++;
        if (critical) this.broken = name;
        const dir = path.join(this.dir, `${no}-${slug(name)}`);
        try {
          await this.dumpAll(dir, err);
          err.message += `\n  artifacts: ${dir}`;
        } catch (dumpErr) {
          err.message += `\n  (artifact dump failed: ${dumpErr.message})`;
        }
        throw err;
      }
    });
  }

  async dumpAll(dir, err) {
    fs.mkdirSync(dir, { recursive: true });
    if (err) fs.writeFileSync(path.join(dir, 'error.txt'), `${err.stack || err}\n${err.cause ? `\ncause: ${err.cause.stack || err.cause}\n` : ''}`);
    for (const p of this.peers.values()) await p.dump(dir);
    if (this.server) fs.writeFileSync(path.join(dir, 'server.log'), this.server.log() + '\n');
  }
}

/** Deterministic test pattern: byte i = i % 251. */
export const PATTERN_MOD = 251;
