// Helpers for the suites that drive the web app at `/` of `skylink serve` through its own UI
// (crates/server/src/page/): pages opened in their own browser contexts, bounded steps that dump
// artifacts (console, HTML, screenshot, server log, bot output) when they fail, and pixel checks
// on screenshots of the video tiles.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { WAIT_MS } from './harness.mjs';
import { pageInit } from './page-init.mjs';

/**
 * The pages (and bots) of one suite. `server` and `browser` are set by the suite's `before`;
 * `step()` registers a `node:test` case that is skipped once a critical step has failed.
 */
export class AppSuite {
  constructor(dir) {
    this.dir = dir;
    this.server = null;
    this.browser = null;
    this.pages = new Map(); // name -> { name, context, page, console: [] }
    this.bots = new Map(); // name -> Bot (lib/bot.mjs)
    this.broken = null;
  }

  /** Opens `/{query}` of the server in a new context (1280×800), with the loopback-only ICE filter. */
  async openPage(name, query) {
    const context = await this.browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const rec = { name, context, page, console: [] };
    page.on('console', (m) => rec.console.push(`[${m.type()}] ${m.text().slice(0, 2000)}`));
    page.on('pageerror', (e) => rec.console.push(`[pageerror] ${e && (e.stack || e.message || e)}`));
    // Loopback-only ICE servers (the machine has no network), as in the other suites.
    await page.addInitScript(pageInit, { forcePolling: false });
    this.pages.set(name, rec);
    await page.goto(`${this.server.origin}/${query}`, { waitUntil: 'load', timeout: WAIT_MS });
    return rec;
  }

  page(name) {
    const p = this.pages.get(name);
    if (!p) throw new Error(`page ${name} was never opened (an earlier step failed?)`);
    return p.page;
  }

  async closePage(name) {
    const p = this.pages.get(name);
    if (!p) return;
    this.pages.delete(name);
    await p.context.close().catch(() => {});
  }

  async dump(label, err) {
    const dir = path.join(this.dir, label.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'error.txt'), `${err && (err.stack || err)}\n`);
    for (const p of this.pages.values()) {
      fs.writeFileSync(path.join(dir, `${p.name}-console.log`), p.console.join('\n') + '\n');
      try {
        fs.writeFileSync(path.join(dir, `${p.name}.html`), await p.page.content());
        await p.page.screenshot({ path: path.join(dir, `${p.name}.png`), timeout: 5000 });
      } catch {
        /* page gone */
      }
    }
    for (const b of this.bots.values()) await b.dump(dir).catch(() => {});
    if (this.server) fs.writeFileSync(path.join(dir, 'server.log'), this.server.log() + '\n');
    return dir;
  }

  /** A bounded step; after a failed critical step the later ones are skipped. */
  step(label, fn, { critical = true } = {}) {
    it(label, { timeout: 6 * WAIT_MS }, async (t) => {
      if (this.broken) {
        t.skip(`skipped: '${this.broken}' failed`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        if (critical) this.broken = label;
        try {
          err.message += `\n  artifacts: ${await this.dump(label, err)}`;
        } catch {
          /* ignore */
        }
        throw err;
      }
    });
  }

  async teardown() {
    for (const b of this.bots.values()) await b.close().catch(() => {});
    for (const p of this.pages.values()) await p.context.close().catch(() => {});
    this.pages.clear();
    if (this.browser) await this.browser.close().catch(() => {});
    if (this.server) await this.server.stop();
  }
}

/** `page.waitForFunction` bounded by WAIT_MS, with `what` in the error. */
export function waitFor(p, fn, arg, what) {
  return p.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 }).catch((err) => {
    throw new Error(`${what}: not met within ${WAIT_MS} ms (${String(err.message).split('\n')[0]})`);
  });
}

/** Minimal PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium screenshots are). */
export function decodePng(buf) {
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

/**
 * Luma statistics of a decoded image, plus `sig`: the luma of 64 pixels spread over it, to tell
 * two screenshots of a moving picture apart.
 */
export function lumaStats({ width, height, bpp, pixels }) {
  let sum = 0;
  let sq = 0;
  let max = 0;
  const n = width * height;
  const sig = [];
  for (let i = 0; i < n; i++) {
    const o = i * bpp;
    const l = 0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2];
    sum += l;
    sq += l * l;
    if (l > max) max = l;
  }
  for (let k = 0; k < 64; k++) {
    const o = Math.floor(n * (k / 64)) * bpp;
    sig.push(0.299 * pixels[o] + 0.587 * pixels[o + 1] + 0.114 * pixels[o + 2]);
  }
  const mean = sum / n;
  return { width, height, mean, stddev: Math.sqrt(Math.max(0, sq / n - mean * mean)), max, n, sig };
}

/** Runs in the page: the state of every video tile. */
export function tileState() {
  return [...document.querySelectorAll('#videos .tile')].map((el) => {
    const v = el.querySelector('video');
    return {
      self: el.dataset.self === 'true',
      peerId: el.dataset.peerId,
      name: el.querySelector('.name').textContent,
      audioMuted: el.dataset.audioMuted,
      videoMuted: el.dataset.videoMuted,
      badge: (el.querySelector('.muted') || {}).textContent || '',
      videoWidth: v.videoWidth,
      videoHeight: v.videoHeight,
      currentTime: v.currentTime,
      paused: v.paused,
      autoplay: v.autoplay,
      playsInline: v.playsInline,
    };
  });
}
