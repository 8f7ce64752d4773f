// Bulk sendBlobData throughput between two real skylinkjs 0.6.26 pages in headless Chromium
// through `skylink serve` (the browser baseline of `cargo xtask bench transfer`).
//
// Pages A and B join one room; B accepts every incomingDataRequest from a handler inside the
// page (no harness round trip). A builds a SIZE-byte File (pattern i % 251) and calls
// sendBlobData(file, 120, B); the clock runs from that call (page Date.now()) to B raising
// dataTransferState('downloadCompleted') (page timestamp; both pages share one browser and
// clock). B's incomingData Blob is then checked byte for byte. Variants:
//   base64 — the 0.6.26 default (chunkType "string": base64 text chunks of 49 152 bytes),
//   binary — sendChunksAsBinary = true (ArrayBuffer chunks of 65 456 bytes, as skylink-rs uses).
// With SKYLINK_BOT_BIN set (a `skylink` build whose bot has the sendBlobData /
// acceptDataTransfer commands, docs/bot-protocol.md), a Rust peer `skylink join --json
// --download-dir DIR` then joins the same room and two more variants run (the JS side always
// speaks the reference's stop-and-wait protocol):
//   rust-to-js — bot `sendBlobData {path}` to page B (a pattern file in a temp dir); clock from
//     writing the command line to B's downloadCompleted (page time);
//   js-to-rust[-binary] — page A sendBlobData (base64 default / sendChunksAsBinary) to the bot,
//     which Node accepts on its incomingDataRequest line; clock from A's call to the bot's
//     incomingData line (it comes right before downloadCompleted, after the file is written),
//     file checked byte for byte.
// Prints one JSON line: {bytes, base64: {seconds, mb_per_s, ...}, binary: {...}, ...}.
//   SKYLINK_BIN=target/release/skylink [SKYLINK_BOT_BIN=…] node bench/transfer-pages.mjs [bytes] [variants]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, Peer, APP_KEY } from '../lib/harness.mjs';
import { Bot } from '../lib/bot.mjs';

const SIZE = Number(process.argv[2] || 64 * 1024 * 1024);
const BOT_BIN = process.env.SKYLINK_BOT_BIN || '';
const VARIANTS = (process.argv[3] || (BOT_BIN ? 'base64,binary,rust-to-js,js-to-rust,js-to-rust-binary' : 'base64,binary')).split(',').map((s) => s.trim());
const MOD = 251;
/** Upper bound of one transfer (ms). */
const TRANSFER_MS = Number(process.env.SKYLINK_BENCH_TRANSFER_MS || 300000);

for (const v of VARIANTS) {
  if (!['base64', 'binary', 'rust-to-js', 'js-to-rust', 'js-to-rust-binary'].includes(v)) throw new Error(`unknown variant ${v}`);
  if (v.includes('rust') && !BOT_BIN) throw new Error(`variant ${v} needs SKYLINK_BOT_BIN`);
}

const server = await startServer();
const browser = await launchBrowser();
const out = { bytes: SIZE };
try {
  const room = `bench-transfer-pages-${Date.now()}`;
  const A = await Peer.open(browser, server, 'A');
  const B = await Peer.open(browser, server, 'B');
  try {
    for (const p of [A, B]) {
      const r = await p.initAndJoin(server, room, { audio: false, video: false });
      if (r.error) throw new Error(`${p.name}: joinRoom failed: ${JSON.stringify(r.error).slice(0, 500)}`);
    }
    for (const [p, q] of [[A, B], [B, A]]) {
      await p.waitForEvent('dataChannelState', (a, c) => a[0] === 'open' && a[1] === c.peer && a[4] === 'messaging', {
        ctx: { peer: q.id },
        what: `${p.name}: messaging channel to ${q.name} open`,
      });
    }
    await B.eval(() => {
      window.__sk.on('incomingDataRequest', (transferId, peerId, info, isSelf) => {
        if (!isSelf) window.__sk.acceptDataTransfer(peerId, transferId, true);
      });
    });
    for (const variant of VARIANTS.filter((v) => !v.includes('rust'))) {
      const sinceA = await A.mark();
      const sinceB = await B.mark();
      const t0 = await A.eval(
        ({ size, mod, target, binary }) => {
          const u8 = new Uint8Array(size);
          for (let i = 0; i < size; i++) u8[i] = i % mod;
          const file = new File([u8], 'bench-pattern.bin', { type: 'application/octet-stream' });
          const t = Date.now();
          window.__sk.sendBlobData(file, 120, target, binary, (error, success) => window.__harness.record('harness:sendBlobData', [error, success]));
          return t;
        },
        { size: SIZE, mod: MOD, target: B.id, binary: variant === 'binary' },
      );
      const req = await B.waitForEvent('incomingDataRequest', (a, c) => a[1] === c.sender && a[3] !== true, {
        ctx: { sender: A.id },
        since: sinceB,
        what: 'B: incomingDataRequest',
      });
      const transferId = req.args[0];
      const done = await B.waitForEvent('dataTransferState', (a, c) => a[1] === c.id && (a[0] === 'downloadCompleted' || a[0] === 'error' || a[0] === 'cancel' || a[0] === 'rejected'), {
        ctx: { id: transferId },
        since: sinceB,
        timeout: TRANSFER_MS,
        what: `B: downloadCompleted of ${transferId}`,
      });
      if (done.args[0] !== 'downloadCompleted') throw new Error(`B: transfer ended with ${done.args[0]}: ${JSON.stringify(done.args).slice(0, 1000)}`);
      const got = await B.waitForEvent('incomingData', (a, c) => a[1] === c.id && a[4] !== true, { ctx: { id: transferId }, since: sinceB, what: 'B: incomingData' });
      const check = await B.eval(
        async ({ idx, size, mod }) => {
          const data = window.__harness.raw[idx] && window.__harness.raw[idx][0];
          delete window.__harness.raw[idx];
          if (!(data instanceof Blob)) return { ok: false, reason: `payload is not a Blob: ${Object.prototype.toString.call(data)}` };
          const buf = new Uint8Array(await data.arrayBuffer());
          if (buf.length !== size) return { ok: false, reason: `size ${buf.length} != ${size}` };
          for (let i = 0; i < size; i++) if (buf[i] !== i % mod) return { ok: false, reason: `mismatch at byte ${i}` };
          return { ok: true };
        },
        { idx: got.idx, size: SIZE, mod: MOD },
      );
      if (!check.ok) throw new Error(`B: received blob differs: ${check.reason}`);
      const up = await A.waitForEvent('dataTransferState', (a, c) => a[1] === c.id && a[0] === 'uploadCompleted', { ctx: { id: transferId }, since: sinceA, what: 'A: uploadCompleted' });
      await B.eval(() => {
        for (const k of Object.keys(window.__harness.raw)) delete window.__harness.raw[k];
      });
      const seconds = (done.t - t0) / 1000;
      const info = req.args[2] || {};
      out[variant] = {
        bytes: SIZE,
        seconds,
        mb_per_s: SIZE / 1e6 / seconds,
        verified: true,
        chunk_type: info.chunkType,
        chunk_size: info.chunkSize,
        request_ms: req.t - t0,
        upload_completed_s: (up.t - t0) / 1000,
      };
      console.error(`transfer-pages: ${variant}: ${out[variant].mb_per_s.toFixed(2)} MB/s (${seconds.toFixed(2)} s)`);
    }
    const botVariants = VARIANTS.filter((v) => v.includes('rust'));
    if (botVariants.length) await botTransfers(server, room, A, B, botVariants);
  } finally {
    await A.close();
    await B.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
console.log(JSON.stringify(out));

/** `skylink join --json --download-dir DIR` from SKYLINK_BOT_BIN, wired like `Bot.spawn`. */
function spawnBot(server, room, downloadDir) {
  const bot = new Bot('rust');
  const args = ['join', '--json', '--room', room, '--server', `http://127.0.0.1:${server.port}`, '--app-key', APP_KEY, '--udp', '127.0.0.1:0', '--download-dir', downloadDir];
  bot.args = args;
  const child = spawn(BOT_BIN, args, { env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'warn' }, stdio: ['pipe', 'pipe', 'pipe'] });
  bot.child = child;
  child.on('error', (e) => {
    bot.stderr.push(`spawn error: ${e.message}`);
    if (!bot.exit) bot.exit = { code: null, signal: null, error: e.message };
    bot.notify();
  });
  child.on('exit', (code, signal) => {
    bot.exit = { code, signal };
    bot.notify();
  });
  let outBuf = '';
  child.stdout.on('data', (chunk) => {
    outBuf += chunk.toString('utf8');
    let nl;
    while ((nl = outBuf.indexOf('\n')) >= 0) {
      const raw = outBuf.slice(0, nl);
      outBuf = outBuf.slice(nl + 1);
      // Our own upload's incomingData carries the whole payload as base64: keep it short.
      bot.onLine(raw.length > 1e6 ? JSON.stringify({ event: 'clipped', bytes: raw.length, head: raw.slice(0, 200) }) : raw);
    }
  });
  let errBuf = '';
  child.stderr.on('data', (chunk) => {
    errBuf += chunk.toString('utf8');
    let nl;
    while ((nl = errBuf.indexOf('\n')) >= 0) {
      bot.stderr.push(errBuf.slice(0, nl));
      errBuf = errBuf.slice(nl + 1);
    }
  });
  return bot;
}

function patternBuffer(size) {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = i % MOD;
  return b;
}

async function botTransfers(server, room, A, B, variants) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skylink-bench-transfer-'));
  const bot = spawnBot(server, room, path.join(dir, 'downloads'));
  try {
    await bot.ready();
    for (const p of [A, B]) {
      await bot.waitForEvent('dataChannelState', (e) => e.state === 'open' && e.peerId === p.id, { what: `bot: channel to ${p.name} open` });
      await p.waitForEvent('dataChannelState', (a, c) => a[0] === 'open' && a[1] === c.peer && a[4] === 'messaging', { ctx: { peer: bot.id }, what: `${p.name}: channel to bot open` });
    }
    const pattern = patternBuffer(SIZE);
    const file = path.join(dir, 'bench-pattern.bin');
    fs.writeFileSync(file, pattern);
    for (const variant of variants) {
      if (variant === 'rust-to-js') {
        const sinceB = await B.mark();
        const since = bot.mark();
        const t0 = Date.now();
        bot.sendRaw(JSON.stringify({ cmd: 'sendBlobData', id: 'bench-up', path: file, targetPeerId: B.id, timeout: 120 }));
        const req = await B.waitForEvent('incomingDataRequest', (a, c) => a[1] === c.sender && a[3] !== true, { ctx: { sender: bot.id }, since: sinceB, what: 'B: incomingDataRequest from bot' });
        const transferId = req.args[0];
        const done = await B.waitForEvent('dataTransferState', (a, c) => a[1] === c.id && ['downloadCompleted', 'error', 'cancel', 'rejected'].includes(a[0]), {
          ctx: { id: transferId },
          since: sinceB,
          timeout: TRANSFER_MS,
          what: `B: downloadCompleted of ${transferId}`,
        });
        if (done.args[0] !== 'downloadCompleted') throw new Error(`B: transfer from bot ended with ${done.args[0]}: ${JSON.stringify(done.args).slice(0, 1000)}`);
        const got = await B.waitForEvent('incomingData', (a, c) => a[1] === c.id && a[4] !== true, { ctx: { id: transferId }, since: sinceB, what: 'B: incomingData from bot' });
        const check = await B.eval(
          async ({ idx, size, mod }) => {
            const data = window.__harness.raw[idx] && window.__harness.raw[idx][0];
            for (const k of Object.keys(window.__harness.raw)) delete window.__harness.raw[k];
            if (!(data instanceof Blob)) return { ok: false, reason: 'payload is not a Blob' };
            const buf = new Uint8Array(await data.arrayBuffer());
            if (buf.length !== size) return { ok: false, reason: `size ${buf.length} != ${size}` };
            for (let i = 0; i < size; i++) if (buf[i] !== i % mod) return { ok: false, reason: `mismatch at byte ${i}` };
            return { ok: true };
          },
          { idx: got.idx, size: SIZE, mod: MOD },
        );
        if (!check.ok) throw new Error(`B: blob from bot differs: ${check.reason}`);
        const reply = await bot.waitForLine((l) => !!l.json && l.json.reply === 'sendBlobData' && l.json.id === 'bench-up', { since, timeout: TRANSFER_MS, what: 'sendBlobData reply' });
        if (reply.json.ok !== true) throw new Error(`bot sendBlobData failed: ${reply.raw.slice(0, 1000)}`);
        const seconds = (done.t - t0) / 1000;
        const info = req.args[2] || {};
        out[variant] = { bytes: SIZE, seconds, mb_per_s: SIZE / 1e6 / seconds, verified: true, chunk_type: info.chunkType, chunk_size: info.chunkSize, request_ms: req.t - t0 };
      } else {
        const binary = variant === 'js-to-rust-binary';
        const since = bot.mark();
        const t0 = await A.eval(
          ({ size, mod, target, binary }) => {
            const u8 = new Uint8Array(size);
            for (let i = 0; i < size; i++) u8[i] = i % mod;
            const file = new File([u8], 'bench-pattern.bin', { type: 'application/octet-stream' });
            const t = Date.now();
            window.__sk.sendBlobData(file, 120, target, binary, () => {});
            return t;
          },
          { size: SIZE, mod: MOD, target: bot.id, binary },
        );
        const req = await bot.waitForEvent('incomingDataRequest', (e) => e.peerId === A.id && e.isSelf === false, { since, what: 'bot: incomingDataRequest from A' });
        await bot.call('acceptDataTransfer', { peerId: A.id, transferId: req.transferId, accept: true });
        const end = await bot.waitForLine(
          (l) => !!l.json && l.json.transferId === req.transferId && ((l.json.event === 'incomingData' && l.json.isSelf === false) || (l.json.event === 'dataTransferState' && ['downloadCompleted', 'error', 'cancel'].includes(l.json.state))),
          { since, timeout: TRANSFER_MS, what: 'bot: incomingData / downloadCompleted' },
        );
        if (end.json.event !== 'incomingData') throw new Error(`bot: transfer from A ended with ${end.raw.slice(0, 1000)}`);
        const tEnd = bot.t0 + end.rel;
        const saved = end.json.savedPath;
        const got = saved ? fs.readFileSync(saved) : null;
        if (!got || got.length !== SIZE || !got.equals(pattern)) throw new Error(`bot: saved file ${saved} differs from the pattern (${got ? got.length : 'missing'} bytes)`);
        fs.rmSync(saved, { force: true });
        const seconds = (tEnd - t0) / 1000;
        const info = req.transferInfo || {};
        out[variant] = { bytes: SIZE, seconds, mb_per_s: SIZE / 1e6 / seconds, verified: true, chunk_type: info.chunkType, chunk_size: info.chunkSize, request_ms: bot.t0 + bot.lines[req.idx].rel - t0 };
      }
      console.error(`transfer-pages: ${variant}: ${out[variant].mb_per_s.toFixed(2)} MB/s (${out[variant].seconds.toFixed(2)} s)`);
    }
  } finally {
    await bot.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
