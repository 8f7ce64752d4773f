// The `/` web app of `skylink serve` (crates/server/src/page/): two headless Chromium contexts with
// the fake camera auto-join `/?room=R&name=A` and `/?room=R&name=B` and use the app's UI — video
// tiles, chat, room lock, file transfer, mute, leave. Also checks that the page stays passive (no
// Skylink instance of its own) when loaded without `?room=`, which the other suites rely on.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS_DIR, WAIT_MS, launchBrowser, startServer } from '../lib/harness.mjs';
import { AppSuite, decodePng, lumaStats, tileState, waitFor } from '../lib/app-page.mjs';

const DIR = path.join(ARTIFACTS_DIR, 'page-app');
const ROOM = `page-app-${Date.now().toString(36)}`;

const S = new AppSuite(DIR);
const page = (n) => S.page(n);
const step = (label, fn, opts) => S.step(label, fn, opts);

describe('page app', () => {
  before(async () => {
    fs.rmSync(DIR, { recursive: true, force: true });
    S.server = await startServer();
    S.browser = await launchBrowser();
  });

  after(() => S.teardown());

  step('without ?room= the page stays passive (window.Skylink only, no instance, no socket)', async () => {
    const idle = await S.openPage('idle', '');
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
    await S.closePage('idle');
  });

  step('A and B auto-join with ?room=&name=', async () => {
    await S.openPage('A', `?room=${ROOM}&name=A`);
    await S.openPage('B', `?room=${ROOM}&name=B`);
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

  step('mute: A\'s "Stop camera" and "Mute mic" buttons show on A\'s tile in B; pressing again restores', async () => {
    const tileOfA = '#videos .tile[data-self="false"]';
    await page('A').click('#mute-video', { timeout: WAIT_MS });
    await waitFor(page('B'), (q) => { const el = document.querySelector(q); return !!el && el.dataset.videoMuted === 'true'; }, tileOfA, 'B shows A\'s camera off');
    await page('A').click('#mute-audio', { timeout: WAIT_MS });
    await waitFor(page('B'), (q) => { const el = document.querySelector(q); return !!el && el.dataset.audioMuted === 'true' && el.dataset.videoMuted === 'true'; }, tileOfA, 'B shows A\'s mic and camera off');
    const b = (await page('B').evaluate(tileState)).find((t) => !t.self);
    assert.equal(b.badge, 'mic off, camera off', 'B: the badge on A\'s tile');
    const a = await page('A').evaluate(() => ({
      audio: document.getElementById('mute-audio').textContent,
      video: document.getElementById('mute-video').textContent,
      self: document.querySelector('#videos .tile[data-self="true"]').dataset.videoMuted,
    }));
    assert.deepEqual(a, { audio: 'Unmute mic', video: 'Start camera', self: 'true' }, 'A: its buttons and own tile follow its mediaStatus');
    await page('A').click('#mute-video', { timeout: WAIT_MS });
    await page('A').click('#mute-audio', { timeout: WAIT_MS });
    await waitFor(page('B'), (q) => { const el = document.querySelector(q); return !!el && el.dataset.audioMuted === 'false' && el.dataset.videoMuted === 'false' && !el.querySelector('.muted'); }, tileOfA, 'B shows A unmuted');
  }, { critical: false });

  step('screen share: A\'s "Share screen" replaces A\'s tile in B with the screen; "Stop sharing" brings the camera back', async () => {
    const tileOfA = '#videos .tile[data-self="false"]';
    const before = (await page('B').evaluate(tileState)).find((t) => !t.self);
    await page('A').click('#screen', { timeout: WAIT_MS });
    await waitFor(page('A'), () => document.getElementById('screen').textContent === 'Stop sharing', null, 'A\'s button turns into "Stop sharing"');
    await waitFor(
      page('B'),
      ({ q, w, h }) => {
        const el = document.querySelector(q);
        const v = el && el.querySelector('video');
        return !!v && el.dataset.screen === 'true' && v.videoWidth > 0 && (v.videoWidth !== w || v.videoHeight !== h) && v.currentTime > 0;
      },
      { q: tileOfA, w: before.videoWidth, h: before.videoHeight },
      'B plays A\'s screen (isScreensharing, another size than the camera)',
    );
    const screen = (await page('B').evaluate(tileState)).find((t) => !t.self);
    const info = await page('B').evaluate((id) => window.skylinkApp.skylink.getPeerInfo(id).settings.video, screen.peerId);
    assert.equal(info && info.screenshare, true, `B: A's peer info says screenshare: ${JSON.stringify(info)}`);
    await page('A').click('#screen', { timeout: WAIT_MS });
    await waitFor(
      page('B'),
      ({ q, w, h }) => {
        const el = document.querySelector(q);
        const v = el && el.querySelector('video');
        return !!v && el.dataset.screen === 'false' && v.videoWidth === w && v.videoHeight === h;
      },
      { q: tileOfA, w: before.videoWidth, h: before.videoHeight },
      'B shows A\'s camera again',
    );
    assert.equal(await page('A').textContent('#screen'), 'Share screen');
  }, { critical: false });

  step('leave: B leaves and A removes B\'s tile', async () => {
    await page('B').click('#leave', { timeout: WAIT_MS });
    await waitFor(page('A'), () => document.querySelectorAll('#videos .tile').length === 1 && !!document.querySelector('#videos .tile[data-self="true"]'), null, 'A has only its own tile');
    await waitFor(page('B'), () => document.querySelectorAll('#videos .tile').length === 0, null, 'B has no tiles');
  }, { critical: false });
});
