// The `/` web app of `skylink serve` (crates/server/src/page/): two headless Chromium contexts with
// the fake camera auto-join `/?room=R&name=A` and `/?room=R&name=B` and use the app's UI — video
// tiles, chat, room lock, file transfer, leave. Also checks that the page stays passive (no
// Skylink instance of its own) when loaded without `?room=`, which the other suites rely on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ARTIFACTS_DIR, WAIT_MS, launchBrowser, startServer } from '../lib/harness.mjs';
import { pageInit } from '../lib/page-init.mjs';

const DIR = path.join(ARTIFACTS_DIR, 'page-app');
const ROOM = `page-app-${Date.now().toString(36)}`;

let server = null;
let browser = null;
const pages = new Map(); // name -> { context, page, console: [] }
let broken = null;

async function openPage(name, query) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const rec = { name, context, page, console: [] };
  page.on('console', (m) => rec.console.push(`[${m.type()}] ${m.text().slice(0, 2000)}`));
  page.on('pageerror', (e) => rec.console.push(`[pageerror] ${e && (e.stack || e.message || e)}`));
  // Loopback-only ICE servers (the machine has no network), as in the other suites.
  await page.addInitScript(pageInit, { forcePolling: false });
  await page.goto(`${server.origin}/${query}`, { waitUntil: 'load', timeout: WAIT_MS });
  pages.set(name, rec);
  return rec;
}

function page(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`page ${name} was never opened (an earlier step failed?)`);
  return p.page;
}

async function dump(label, err) {
  const dir = path.join(DIR, label.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'error.txt'), `${err && (err.stack || err)}\n`);
  for (const p of pages.values()) {
    fs.writeFileSync(path.join(dir, `${p.name}-console.log`), p.console.join('\n') + '\n');
    try {
      fs.writeFileSync(path.join(dir, `${p.name}.html`), await p.page.content());
      await p.page.screenshot({ path: path.join(dir, `${p.name}.png`), timeout: 5000 });
    } catch {
      /* page gone */
    }
  }
  if (server) fs.writeFileSync(path.join(dir, 'server.log'), server.log() + '\n');
  return dir;
}

/** A bounded step; after a failed critical step the later ones are skipped. */
function step(label, fn, { critical = true } = {}) {
  it(label, { timeout: 6 * WAIT_MS }, async (t) => {
    if (broken) {
      t.skip(`skipped: '${broken}' failed`);
      return;
    }
    try {
      await fn();
    } catch (err) {
      if (critical) broken = label;
      try {
        err.message += `\n  artifacts: ${await dump(label, err)}`;
      } catch {
        /* ignore */
      }
      throw err;
    }
  });
}

function waitFor(p, fn, arg, what) {
  return p.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 }).catch((err) => {
    throw new Error(`${what}: not met within ${WAIT_MS} ms (${String(err.message).split('\n')[0]})`);
  });
}

/** Minimal PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium screenshots are). */
function decodePng(buf) {
  assert.equal(buf.toString('latin1', 1, 4), 'PNG', 'not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'PNG bit depth');
      colorType = data[9];
      assert.ok(colorType === 2 || colorType === 6, `PNG color type ${colorType}`);
      assert.equal(data[12], 0, 'PNG interlace');
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const stride = width * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const out = Buffer.alloc(height * stride);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = out.subarray(y * stride, (y + 1) * stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp] : 0;
      const b = prev[x];
      const c = x >= bpp ? prev[x - bpp] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = v & 255;
    }
    prev = cur;
  }
  return { width, height, bpp, pixels: out };
}

function lumaStats({ width, height, bpp, pixels }) {
  let sum = 0;
  let sq = 0;
  let max = 0;
  const n = width * height;
  for (let i = 0; i < n; i++) {
    const o = i * bpp;
    const l = 0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2];
    sum += l;
    sq += l * l;
    if (l > max) max = l;
  }
  const mean = sum / n;
  return { mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)), max, n };
}

// Runs in the page: the state of every video tile.
function tileState() {
  return [...document.querySelectorAll('#videos .tile')].map((el) => {
    const v = el.querySelector('video');
    return {
      self: el.dataset.self === 'true',
      peerId: el.dataset.peerId,
      name: el.querySelector('.name').textContent,
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      currentTime: v.currentTime,
      paused: v.paused,
      autoplay: v.autoplay,
      playsInline: v.playsInline,
    };
  });
}

describe('page app', () => {
  before(async () => {
    fs.rmSync(DIR, { recursive: true, force: true });
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const p of pages.values()) await p.context.close().catch(() => {});
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  });

  step('without ?room= the page stays passive (window.Skylink only, no instance, no socket)', async () => {
    const idle = await openPage('idle', '');
    const p = idle.page;
    const sockets = [];
    p.on('request', (r) => {
      if (r.url().includes('/socket.io/') || r.url().includes('/api/')) sockets.push(r.url());
    });
    p.on('websocket', (ws) => sockets.push(ws.url()));
    await waitFor(p, () => typeof window.Skylink === 'function' && !!window.skylinkApp, null, 'Skylink and the app loaded');
    await p.waitForTimeout(500);
    const state = await p.evaluate(() => ({
      skylink: window.skylinkApp.skylink,
      state: window.skylinkApp.state,
      tiles: document.querySelectorAll('#videos .tile').length,
      controlsHidden: document.getElementById('controls').hidden,
    }));
    assert.deepEqual(state, { skylink: null, state: 'idle', tiles: 0, controlsHidden: true });
    assert.deepEqual(sockets, [], 'no signaling traffic without a join');
    await idle.context.close();
    pages.delete('idle');
  });

  step('A and B auto-join with ?room=&name=', async () => {
    await openPage('A', `?room=${ROOM}&name=A`);
    await openPage('B', `?room=${ROOM}&name=B`);
    for (const n of ['A', 'B']) {
      await waitFor(page(n), () => window.skylinkApp && window.skylinkApp.state === 'joined', null, `${n} joined`);
      const st = await page(n).evaluate(() => ({ name: window.skylinkApp.name, room: window.skylinkApp.room, status: document.getElementById('status').textContent }));
      assert.equal(st.name, n);
      assert.equal(st.room, ROOM);
    }
  });

  step('each page shows 2 playing video tiles (own camera + the other peer, named from userData)', async () => {
    for (const [n, other] of [['A', 'B'], ['B', 'A']]) {
      const p = page(n);
      await waitFor(
        p,
        () => {
          const tiles = [...document.querySelectorAll('#videos .tile')];
          return tiles.length === 2 && tiles.every((el) => el.querySelector('video').videoWidth > 0);
        },
        null,
        `${n}: 2 tiles with decoded video`,
      );
      const before = await p.evaluate(tileState);
      assert.equal(before.filter((t) => t.self).length, 1, `${n}: one own tile`);
      const remote = before.find((t) => !t.self);
      assert.equal(remote.name, other, `${n}: remote tile is labelled with the peer's userData name`);
      for (const t of before) {
        assert.ok(t.autoplay && t.playsInline, `${n}: <video autoplay playsinline>`);
        assert.ok(t.videoWidth > 0 && t.videoHeight > 0, `${n}: video has dimensions`);
      }
      await waitFor(
        p,
        (prev) => {
          const now = [...document.querySelectorAll('#videos .tile video')].map((v) => v.currentTime);
          return now.length === prev.length && now.every((t, i) => t > prev[i] + 0.3);
        },
        before.map((t) => t.currentTime),
        `${n}: currentTime of both videos advancing`,
      );
    }
  });

  step('the remote video is not black (canvas pixels and a screenshot of the tile)', async () => {
    for (const n of ['A', 'B']) {
      const p = page(n);
      const stats = await p.evaluate(() => {
        const v = document.querySelector('#videos .tile[data-self="false"] video');
        const c = document.createElement('canvas');
        c.width = 160;
        c.height = 120;
        const ctx = c.getContext('2d');
        ctx.drawImage(v, 0, 0, c.width, c.height);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        let sq = 0;
        let max = 0;
        const n = d.length / 4;
        for (let i = 0; i < d.length; i += 4) {
          const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
          sum += l;
          sq += l * l;
          if (l > max) max = l;
        }
        const mean = sum / n;
        return { mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)), max };
      });
      assert.ok(stats.max > 40 && stats.stddev > 5, `${n}: remote video frame looks black/uniform: ${JSON.stringify(stats)}`);

      const png = await p.locator('#videos .tile[data-self="false"] video').screenshot({ timeout: WAIT_MS });
      fs.mkdirSync(DIR, { recursive: true });
      fs.writeFileSync(path.join(DIR, `${n}-remote-tile.png`), png);
      const shot = lumaStats(decodePng(png));
      assert.ok(shot.max > 40 && shot.stddev > 5, `${n}: screenshot of the remote tile looks black/uniform: ${JSON.stringify(shot)}`);
    }
  });

  step('chat: a public message from A shows in B with the sender name', async () => {
    const text = `hello from A ${Date.now()} ✓`;
    await page('A').fill('#msg', text);
    await page('A').click('#send', { timeout: WAIT_MS });
    await waitFor(
      page('B'),
      (t) => [...document.querySelectorAll('#chat-list li')].some((li) => li.dataset.sender === 'A' && li.dataset.via === 'server' && li.querySelector('.content').textContent === t),
      text,
      'B shows A\'s message',
    );
    const own = await page('A').evaluate((t) => [...document.querySelectorAll('#chat-list li.self .content')].some((c) => c.textContent === t), text);
    assert.ok(own, 'A shows its own message');
  });

  step('chat: a P2P message (sendP2PMessage) from B shows in A', async () => {
    const text = `p2p from B ${Date.now()}`;
    await page('B').check('#p2p');
    await page('B').fill('#msg', text);
    await page('B').click('#send', { timeout: WAIT_MS });
    await waitFor(
      page('A'),
      (t) => [...document.querySelectorAll('#chat-list li')].some((li) => li.dataset.sender === 'B' && li.dataset.via === 'p2p' && li.querySelector('.content').textContent === t),
      text,
      'A shows B\'s P2P message',
    );
  }, { critical: false });

  step('lock: A locks the room and B\'s indicator changes; unlock restores it', async () => {
    assert.equal(await page('B').getAttribute('#lock-state', 'data-locked'), 'false');
    await page('A').click('#lock', { timeout: WAIT_MS });
    await waitFor(page('B'), () => document.getElementById('lock-state').dataset.locked === 'true', null, 'B sees the room locked');
    await waitFor(page('A'), () => document.getElementById('lock-state').dataset.locked === 'true', null, 'A sees the room locked');
    await page('A').click('#unlock', { timeout: WAIT_MS });
    await waitFor(page('B'), () => document.getElementById('lock-state').dataset.locked === 'false', null, 'B sees the room unlocked');
  }, { critical: false });

  step('file: A sends a file to everyone, B auto-accepts and gets a download link with the same bytes', async () => {
    const bytes = Buffer.alloc(40000, 0);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
    await page('A').setInputFiles('#file', { name: 'pattern.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await page('A').click('#send-file', { timeout: WAIT_MS });
    await waitFor(page('B'), () => !!document.querySelector('#transfers a.download'), null, 'B has a download link');
    const got = await page('B').evaluate(async () => {
      const a = document.querySelector('#transfers a.download');
      const buf = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
      const li = a.closest('li');
      return { name: a.download, size: buf.length, bytes: Array.from(buf.slice(0, 600)), progress: li.querySelector('progress').value, notices: document.getElementById('notices').textContent };
    });
    assert.equal(got.name, 'pattern.bin');
    assert.equal(got.size, bytes.length);
    assert.deepEqual(got.bytes, Array.from(bytes.subarray(0, 600)));
    assert.equal(got.progress, 100);
    assert.match(got.notices, /auto-accepted/);
    await waitFor(page('A'), () => [...document.querySelectorAll('#transfers li')].some((li) => li.dataset.direction === 'upload' && li.dataset.state === 'done'), null, 'A shows the upload done');
  }, { critical: false });

  step('leave: B leaves and A removes B\'s tile', async () => {
    await page('B').click('#leave', { timeout: WAIT_MS });
    await waitFor(page('A'), () => document.querySelectorAll('#videos .tile').length === 1 && !!document.querySelector('#videos .tile[data-self="true"]'), null, 'A has only its own tile');
    await waitFor(page('B'), () => document.querySelectorAll('#videos .tile').length === 0, null, 'B has no tiles');
  }, { critical: false });
});
