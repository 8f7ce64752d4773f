// Drives a Rust peer: `skylink join --json` (docs/bot-protocol.md). Events and replies are JSON
// lines on the bot's stdout, commands JSON lines on its stdin. Every line is kept (for waits with
// `since` marks and for artifact dumps), as is stderr (the engine's log).
//
// The object has the `name` / `id` / `dump(dir)` / `close()` shape of harness.mjs' `Peer`, so it can
// be registered in `Suite.peers` and is then dumped on a failed phase and stopped at teardown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { APP_KEY, WAIT_MS, serverBinary } from './harness.mjs';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function clip(s, n = 400) {
  return s.length > n ? `${s.slice(0, n)}…[${s.length} chars]` : s;
}

export class Bot {
  constructor(name) {
    this.name = name;
    this.id = null;
    this.child = null;
    this.t0 = Date.now();
    /** Every stdout line: { idx, rel, raw, json } (json null if the line was not JSON). */
    this.lines = [];
    /** stderr lines "+ms text". */
    this.stderr = [];
    /** Protocol violations (non-JSON stdout lines, …): asserted empty by the suite. */
    this.violations = [];
    this.exit = null; // { code, signal }
    this.nextId = 1;
    this.waiters = new Set();
    this.closed = false;
    this.args = [];
  }

  /** `spawn()` then `ready()`. */
  static async start(server, room, opts = {}) {
    const bot = Bot.spawn(server, room, opts);
    await bot.ready(opts.timeout);
    return bot;
  }

  /**
   * Spawns `skylink join --json` into `room` of `server` (the `startServer()` result) and returns
   * at once; `ready()` waits for the join. `extraArgs` are appended to the command line (e.g.
   * `['--download-dir', DIR]`); `appKey: null` leaves the bot's default App Key. Register the bot (e.g. in `Suite.peers`) before awaiting
   * `ready()` so that a failed start-up is dumped too.
   */
  static spawn(server, room, { name = 'bot', userData, env = {}, extraArgs = [], appKey = APP_KEY } = {}) {
    const bot = new Bot(name);
    const args = ['join', '--json', '--room', room, '--server', `http://127.0.0.1:${server.port}`, '--udp', '127.0.0.1:0'];
    // `appKey: null`: no --app-key, the bot's default.
    if (appKey !== null) args.push('--app-key', appKey);
    if (userData !== undefined) args.push('--user-data', JSON.stringify(userData));
    args.push(...extraArgs);
    bot.args = args;
    const childEnv = { ...process.env, NO_COLOR: '1', ...env };
    if (!env.RUST_LOG) childEnv.RUST_LOG = process.env.SKYLINK_INTEROP_BOT_LOG || 'info';
    const child = spawn(serverBinary(), args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    bot.child = child;
    child.stdin.on('error', (e) => bot.stderr.push(`+${bot.rel()}ms [harness] stdin error: ${e.message}`));
    child.on('error', (e) => {
      bot.stderr.push(`+${bot.rel()}ms [harness] spawn error: ${e.message}`);
      if (!bot.exit) bot.exit = { code: null, signal: null, error: e.message };
      bot.notify();
    });
    child.on('exit', (code, signal) => {
      bot.exit = { code, signal };
      bot.stderr.push(`+${bot.rel()}ms [harness] exited code=${code} signal=${signal}`);
      bot.notify();
    });
    let outBuf = '';
    child.stdout.on('data', (chunk) => {
      outBuf += chunk.toString('utf8');
      let nl;
      while ((nl = outBuf.indexOf('\n')) >= 0) {
        const raw = outBuf.slice(0, nl);
        outBuf = outBuf.slice(nl + 1);
        bot.onLine(raw);
      }
    });
    child.stdout.on('end', () => {
      if (outBuf) {
        bot.onLine(outBuf);
        outBuf = '';
      }
    });
    let errBuf = '';
    child.stderr.on('data', (chunk) => {
      errBuf += chunk.toString('utf8');
      let nl;
      while ((nl = errBuf.indexOf('\n')) >= 0) {
        bot.stderr.push(`+${bot.rel()}ms ${errBuf.slice(0, nl).replace(ANSI, '')}`);
        errBuf = errBuf.slice(nl + 1);
      }
    });
    return bot;
  }

  /**
   * Waits (bounded) for the first stdout line, which must be our own `peerJoined` (sets `id` and
   * `selfJoined`). Throws, with the last stdout/stderr lines, if the join fails or times out.
   */
  async ready(timeout = WAIT_MS) {
    const first = await this.waitForLine(() => true, { timeout, what: 'first stdout line (own peerJoined)' });
    const j = first.json;
    if (!j || j.event !== 'peerJoined' || j.isSelf !== true) {
      await this.waitExit(5000).catch(() => {});
      throw new Error(`${this.name}: first line is not our own peerJoined: ${first.raw}\n  exit: ${JSON.stringify(this.exit)}\n${this.tail()}`);
    }
    this.id = j.peerId;
    this.selfJoined = j;
    return j;
  }

  rel() {
    return Date.now() - this.t0;
  }

  onLine(raw) {
    let json = null;
    try {
      json = JSON.parse(raw);
      if (!json || typeof json !== 'object' || Array.isArray(json)) {
        this.violations.push(`stdout line is JSON but not an object: ${clip(raw)}`);
      }
    } catch (e) {
      this.violations.push(`stdout line is not JSON (${e.message}): ${clip(raw)}`);
    }
    this.lines.push({ idx: this.lines.length, rel: this.rel(), raw, json });
    this.notify();
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Index of the next stdout line: pass as `since` to only look at later lines. */
  mark() {
    return this.lines.length;
  }

  /** Parsed event lines (`{event: …}`) from `since`. */
  events(since = 0) {
    return this.lines.slice(since).filter((l) => l.json && typeof l.json.event === 'string').map((l) => ({ idx: l.idx, ...l.json }));
  }

  /** The last stdout and stderr lines, for error messages. */
  tail(n = 25) {
    const out = this.lines.slice(-n).map((l) => `  #${l.idx} +${l.rel}ms ${clip(l.raw, 300)}`).join('\n');
    const err = this.stderr.slice(-10).map((l) => `  ${clip(l, 300)}`).join('\n');
    return `  last stdout lines of ${this.name}:\n${out || '  <none>'}\n  last stderr lines of ${this.name}:\n${err || '  <none>'}`;
  }

  /** Waits (bounded) for a stdout line at index >= since with `pred(line)` true. */
  waitForLine(pred, { since = 0, timeout = WAIT_MS, what = 'line' } = {}) {
    return new Promise((resolve, reject) => {
      let next = since;
      let timer = null;
      const done = (fn, v) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        fn(v);
      };
      const check = () => {
        for (; next < this.lines.length; next++) {
          const l = this.lines[next];
          let ok = false;
          try {
            ok = pred(l);
          } catch (e) {
            done(reject, e);
            return;
          }
          if (ok) {
            done(resolve, l);
            return;
          }
        }
        if (this.exit) {
          done(reject, new Error(`${this.name}: exited (${JSON.stringify(this.exit)}) before ${what} (since #${since})\n${this.tail()}`));
        }
      };
      timer = setTimeout(() => done(reject, new Error(`${this.name}: no ${what} within ${timeout} ms (since #${since})\n${this.tail()}`)), timeout);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Waits (bounded) for an event line `{"event": name, …}` at index >= since for which
   * `pred(event)` is true (Node-side predicate over the parsed line). Returns the parsed line plus
   * its `idx`.
   */
  async waitForEvent(name, pred = null, { since = 0, timeout = WAIT_MS, what = '' } = {}) {
    const l = await this.waitForLine((line) => !!line.json && line.json.event === name && (!pred || pred(line.json)), {
      since,
      timeout,
      what: `'${name}' event${what ? `: ${what}` : ''}`,
    });
    return { idx: l.idx, ...l.json };
  }

  /** Writes one raw line to stdin. */
  sendRaw(line) {
    if (!this.child || this.exit) throw new Error(`${this.name}: cannot write to a bot that exited (${JSON.stringify(this.exit)})`);
    this.child.stdin.write(`${line}\n`);
  }

  /**
   * Sends `{"cmd": cmd, "id": N, ...params}` and waits (bounded) for its reply line. Returns
   * `{ reply, idx, since }`: `reply` the parsed reply (`ok`, `result` / `error`), `since` the mark
   * before the command was written.
   */
  async command(cmd, params = {}, { timeout = WAIT_MS } = {}) {
    const id = this.nextId++;
    const since = this.mark();
    this.sendRaw(JSON.stringify({ cmd, id, ...params }));
    const l = await this.waitForLine((line) => !!line.json && 'reply' in line.json && line.json.id === id, {
      since,
      timeout,
      what: `reply to ${cmd} #${id}`,
    });
    if (l.json.reply !== cmd) throw new Error(`${this.name}: reply #${id} names ${JSON.stringify(l.json.reply)}, not ${cmd}: ${l.raw}`);
    return { reply: l.json, idx: l.idx, since };
  }

  /** `command()` that must succeed: returns the result, throws with the error text otherwise. */
  async call(cmd, params = {}, opts = {}) {
    const { reply } = await this.command(cmd, params, opts);
    if (reply.ok !== true) throw new Error(`${this.name}: ${cmd} ${JSON.stringify(params).slice(0, 300)} failed: ${JSON.stringify(reply).slice(0, 1000)}\n${this.tail()}`);
    return reply.result;
  }

  /** Waits (bounded) for the process to exit; returns `{code, signal}`. */
  waitExit(timeout = WAIT_MS) {
    return new Promise((resolve, reject) => {
      if (this.exit) {
        resolve(this.exit);
        return;
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.name}: did not exit within ${timeout} ms\n${this.tail()}`));
      }, timeout);
      const check = () => {
        if (this.exit) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(this.exit);
        }
      };
      this.waiters.add(check);
    });
  }

  async dump(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const base = path.join(dir, this.name);
    fs.writeFileSync(`${base}-stdout.jsonl`, this.lines.map((l) => l.raw).join('\n') + (this.lines.length ? '\n' : ''));
    fs.writeFileSync(`${base}-stdout-timed.log`, this.lines.map((l) => `#${l.idx} +${l.rel}ms ${l.raw}`).join('\n') + '\n');
    fs.writeFileSync(`${base}-stderr.log`, this.stderr.join('\n') + '\n');
    fs.writeFileSync(
      `${base}-bot.json`,
      JSON.stringify({ name: this.name, id: this.id, args: this.args, exit: this.exit, violations: this.violations, closed: this.closed }, null, 2),
    );
  }

  /** Ends the process if still running: closes stdin (the bot leaves and exits 0), then SIGTERM/SIGKILL. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    if (!this.child || this.exit) return;
    try {
      this.child.stdin.end();
    } catch {
      // already closed
    }
    try {
      await this.waitExit(5000);
      return;
    } catch {
      // still running
    }
    this.child.kill('SIGTERM');
    try {
      await this.waitExit(3000);
    } catch {
      this.child.kill('SIGKILL');
      await this.waitExit(3000).catch(() => {});
    }
  }
}
