// A person calls a Rust bot from the web app at `/` of `skylink serve` (crates/server/src/page/):
// headless Chromium (fake camera + mic) opens `/?room=R&name=alice`, and `skylink join --json
// --video testpattern --audio tone --download-dir D` (lib/bot.mjs) joins the same room, both
// with their default App Key (they must meet without options). Everything
// on the page side goes through the app's own UI (buttons, inputs, tiles, lists), never through
// the SDK directly:
//   1. the bot's tile is labelled with its userData name and renders its test pattern (pixels
//      of screenshots: not black, and a later screenshot differs);
//   2. the bot decodes the page's camera (getRemoteMedia probe frames grow);
//   3. chat both ways: typed into the page (server and P2P), and the bot's replies in the list;
//   4. files both ways: the page's file input → the bot's --download-dir (SHA-256 in Node), with
//      the page's progress bar passing through intermediate values; the bot's file → the page's
//      auto-accepted download link (SHA-256 of the link's bytes);
//   5. lock from the page's button seen by the bot, unlock by the bot seen on the page;
//   6. mute: the bot's camera off shows on its tile; the page's "Mute mic" button reaches the bot;
//   7. the bot leaves and its tile goes.
// Screen share from the page is not driven here: 0.6.26's shareScreen in Chrome needs an
// extension-era getUserMedia path headless Chromium does not grant (see rust-media.test.mjs).
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARTIFACTS_DIR, WAIT_MS, launchBrowser, startServer } from '../lib/harness.mjs';
import { AppSuite, decodePng, lumaStats, tileState, waitFor } from '../lib/app-page.mjs';
import { Bot } from '../lib/bot.mjs';
import { poll } from '../lib/media.mjs';
import { patternBuffer, sha256, sha256File, writePatternFile } from '../lib/transfer.mjs';

const DIR = path.join(ARTIFACTS_DIR, 'page-app-bot');
const ROOM = `page-app-bot-${Date.now().toString(36)}`;
const BOT_NAME = 'rustbot';
const BOT_TILE = '#videos .tile[data-self="false"]';

describe('web app at / calls a rust bot', () => {
  const S = new AppSuite(DIR);
  const step = (label, fn, opts) => S.step(label, fn, opts);
  const page = () => S.page('alice');
  const bot = () => S.bots.get('bot');
  let work = null; // temp dir: the bot's downloads and the file it sends
  let pageId = null;

  before(async () => {
    fs.rmSync(DIR, { recursive: true, force: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'page-app-bot-'));
    S.server = await startServer();
    S.browser = await launchBrowser();
  }, { timeout: 3 * WAIT_MS });

  after(async () => {
    await S.teardown();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, { timeout: 3 * WAIT_MS });

  /** Screenshot of the bot's tile → luma statistics. */
  async function botTileShot() {
    const png = await page().locator(`${BOT_TILE} video`).screenshot({ timeout: WAIT_MS });
    return lumaStats(decodePng(png));
  }

  step('the page joins from its URL, then the bot joins the same room', async () => {
    // No App Key on either side: the page's default and `skylink join`'s must meet.
    await S.openPage('alice', `?room=${ROOM}&name=alice`);
    await waitFor(page(), () => window.skylinkApp && window.skylinkApp.state === 'joined', null, 'the page joined');
    pageId = await page().evaluate(() => window.skylinkApp.peerId);
    assert.ok(pageId, 'the page has a peer id');
    const b = Bot.spawn(S.server, ROOM, {
      name: 'bot',
      appKey: null,
      userData: { displayName: BOT_NAME },
      extraArgs: ['--video', 'testpattern', '--audio', 'tone', '--download-dir', path.join(work, 'downloads')],
    });
    S.bots.set('bot', b);
    await b.ready();
    await b.waitForEvent('dataChannelState', (e) => e.peerId === pageId && e.state === 'open', { what: 'bot: messaging channel to the page open' });
  });

  step('the bot\'s tile is named after its userData and renders the test pattern (screenshots)', async () => {
    await waitFor(
      page(),
      (q) => {
        const v = document.querySelector(`${q} video`);
        return !!v && v.videoWidth > 0 && v.currentTime > 0.3;
      },
      BOT_TILE,
      'the bot\'s tile plays',
    );
    const tiles = await page().evaluate(tileState);
    const remote = tiles.filter((t) => !t.self);
    assert.equal(remote.length, 1, `one remote tile: ${JSON.stringify(tiles)}`);
    assert.equal(remote[0].peerId, bot().id, 'the tile belongs to the bot');
    assert.equal(remote[0].name, BOT_NAME, 'the tile is labelled with the bot\'s displayName');
    assert.equal(`${remote[0].videoWidth}x${remote[0].videoHeight}`, '640x480', 'the test pattern\'s size');
    const first = await botTileShot();
    fs.mkdirSync(DIR, { recursive: true });
    assert.ok(first.width > 50 && first.height > 30, `the tile has a size: ${first.width}x${first.height}`);
    assert.ok(first.mean > 30 && first.max > 100 && first.stddev > 5, `the bot's tile looks black or flat: ${JSON.stringify({ ...first, sig: undefined })}`);
    // The pattern moves: a later screenshot differs somewhere.
    await poll(async () => {
      const x = await botTileShot();
      return x.sig.some((v, i) => Math.abs(v - first.sig[i]) > 8) ? x : { ok: false, value: x.mean };
    }, { what: 'a later screenshot of the bot\'s tile differs from the first', interval: 300 });
    fs.writeFileSync(path.join(DIR, 'bot-tile.png'), await page().locator(`${BOT_TILE} video`).screenshot({ timeout: WAIT_MS }));
  });

  step('the bot decodes the page\'s camera (video frames grow, audio packets arrive)', async () => {
    const tracks = async () => {
      const { tracks: all } = await bot().call('getRemoteMedia');
      const mine = all.filter((t) => t.peerId === pageId && !t.ended);
      return { video: mine.find((t) => t.kind === 'video'), audio: mine.find((t) => t.kind === 'audio') };
    };
    const a = await poll(async () => {
      const t = await tracks();
      return t.video && t.video.frames > 0 && t.audio && t.audio.packets > 0 ? t : { ok: false, value: t };
    }, { what: 'bot: frames and packets from the page' });
    await poll(async () => {
      const t = await tracks();
      return t.video && t.video.frames > a.video.frames + 5 ? t : { ok: false, value: t.video && t.video.frames };
    }, { what: 'bot: more video frames from the page' });
  });

  step('chat: typed in the page (server and P2P) reaches the bot; the bot\'s reply shows in the list', async () => {
    const p = page();
    const B = bot();
    const since = B.mark();
    const text = `hello bot ✓ ${Date.now()}`;
    await p.fill('#msg', text);
    await p.click('#send', { timeout: WAIT_MS });
    const got = await B.waitForEvent('incomingMessage', (e) => e.peerId === pageId && e.message && e.message.content === text, { since, what: 'bot: the page\'s chat message' });
    assert.equal(got.message.isDataChannel, false, 'sent through the signaling server');
    assert.equal(got.message.isPrivate, false, 'a public message');

    const p2p = `p2p to bot ${Date.now()}`;
    await p.check('#p2p');
    await p.fill('#msg', p2p);
    await p.click('#send', { timeout: WAIT_MS });
    await p.uncheck('#p2p');
    const got2 = await B.waitForEvent('incomingMessage', (e) => e.peerId === pageId && e.message && e.message.content === p2p, { since, what: 'bot: the page\'s P2P message' });
    assert.equal(got2.message.isDataChannel, true, 'sent over the data channel');

    const reply = `hi alice, ${BOT_NAME} here ✓ ${Date.now()}`;
    await B.call('sendMessage', { message: reply });
    await waitFor(
      p,
      ({ t, n }) => [...document.querySelectorAll('#chat-list li')].some((li) => li.dataset.sender === n && li.dataset.via === 'server' && li.querySelector('.content').textContent === t),
      { t: reply, n: BOT_NAME },
      'the page lists the bot\'s reply under its name',
    );
    const p2pReply = `bot p2p ${Date.now()}`;
    await B.call('sendP2PMessage', { message: p2pReply });
    await waitFor(
      p,
      ({ t, n }) => [...document.querySelectorAll('#chat-list li')].some((li) => li.dataset.sender === n && li.dataset.via === 'p2p' && li.querySelector('.content').textContent === t),
      { t: p2pReply, n: BOT_NAME },
      'the page lists the bot\'s P2P message',
    );
  }, { critical: false });

  step('file page → bot: the file input, a progress bar that moves, the bytes in the bot\'s download dir', async (t) => {
    const p = page();
    const B = bot();
    const size = 3 * 1024 * 1024 + 17;
    const name = 'from-alice.bin';
    // Every value the upload's <progress> takes (the property reflects to the attribute).
    await p.evaluate(() => {
      window.__progress = [];
      new MutationObserver((muts) => {
        for (const m of muts) {
          const li = m.target.closest && m.target.closest('li');
          if (m.target.tagName === 'PROGRESS' && li && li.dataset.direction === 'upload') window.__progress.push(Number(m.target.value));
        }
      }).observe(document.getElementById('transfers'), { attributes: true, attributeFilter: ['value'], subtree: true });
    });
    const since = B.mark();
    const t0 = Date.now();
    await p.setInputFiles('#file', { name, mimeType: 'application/octet-stream', buffer: patternBuffer(size) });
    await p.click('#send-file', { timeout: WAIT_MS });
    const req = await B.waitForEvent('dataTransferState', (e) => e.peerId === pageId && e.state === 'request', { since, what: 'bot: the upload request (state "request") from the page' });
    assert.equal(req.transferInfo.name, name);
    assert.equal(req.transferInfo.size, size);
    await B.call('acceptDataTransfer', { peerId: pageId, transferId: req.transferId, accept: true });
    const got = await B.waitForEvent('incomingData', (e) => e.transferId === req.transferId, { since, timeout: 3 * WAIT_MS, what: 'bot: incomingData' });
    const h = await sha256File(got.savedPath);
    assert.equal(h.size, size, 'bot: saved size');
    assert.equal(h.sha256, sha256(patternBuffer(size)), 'bot: SHA-256 of the saved file');
    assert.equal(path.basename(got.savedPath), name, 'bot: saved under the announced name');
    await waitFor(
      p,
      () => [...document.querySelectorAll('#transfers li')].some((li) => li.dataset.direction === 'upload' && li.dataset.state === 'done' && li.querySelector('progress').value === 100),
      null,
      'the page shows the upload done at 100 %',
    );
    const values = await p.evaluate(() => window.__progress);
    assert.ok(values.some((v) => v > 0 && v < 100), `the progress bar passed through intermediate values: ${JSON.stringify(values.slice(0, 40))}`);
    t.diagnostic(`page → bot ${size} bytes through the UI: ${Date.now() - t0} ms, ${values.length} progress updates`);
  }, { critical: false });

  step('file bot → page: auto-accepted, a download link with the same bytes, progress at 100 %', async () => {
    const p = page();
    const B = bot();
    const f = writePatternFile(work, 'from-bot.bin', 1024 * 1024 + 5);
    const reply = await B.call('sendBlobData', { path: f.file, targetPeerId: pageId }, { timeout: 3 * WAIT_MS });
    assert.deepEqual(reply.listOfPeers, [pageId], 'bot: sendBlobData completed for the page');
    await waitFor(p, () => [...document.querySelectorAll('#transfers a.download')].some((a) => a.download === 'from-bot.bin'), null, 'the page has a download link');
    const got = await p.evaluate(async () => {
      const a = [...document.querySelectorAll('#transfers a.download')].find((x) => x.download === 'from-bot.bin');
      const buf = await (await fetch(a.href)).arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', buf);
      const li = a.closest('li');
      return {
        size: buf.byteLength,
        sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
        progress: li.querySelector('progress').value,
        state: li.dataset.state,
        label: li.firstChild.textContent,
      };
    });
    assert.equal(got.size, f.size, 'page: size');
    assert.equal(got.sha256, f.sha256, 'page: SHA-256 of the downloaded bytes');
    assert.equal(got.progress, 100, 'page: progress');
    assert.equal(got.state, 'done', 'page: row state');
    assert.match(got.label, new RegExp(`^From ${BOT_NAME}: from-bot\\.bin`), 'page: the row names the bot and the file');
  }, { critical: false });

  step('lock: the page\'s button locks the room for the bot; the bot\'s unlock shows on the page', async () => {
    const p = page();
    const B = bot();
    const since = B.mark();
    await p.click('#lock', { timeout: WAIT_MS });
    await B.waitForEvent('roomLock', (e) => e.isLocked === true && e.peerId === pageId, { since, what: 'bot: roomLock(true) from the page' });
    await waitFor(p, () => document.getElementById('lock-state').dataset.locked === 'true', null, 'the page shows the room locked');
    await B.call('unlockRoom');
    await waitFor(p, () => document.getElementById('lock-state').dataset.locked === 'false', null, 'the page shows the room unlocked');
    const notices = await p.evaluate(() => document.getElementById('notices').textContent);
    assert.match(notices, new RegExp(`unlocked by ${BOT_NAME}`), 'the page says who unlocked');
  }, { critical: false });

  step('mute: the bot\'s camera off shows on its tile; the page\'s "Mute mic" reaches the bot', async () => {
    const p = page();
    const B = bot();
    await B.call('disableVideo');
    await waitFor(p, (q) => { const el = document.querySelector(q); return !!el && el.dataset.videoMuted === 'true'; }, BOT_TILE, 'the bot\'s tile shows its camera off');
    const badge = await p.locator(`${BOT_TILE} .muted`).textContent({ timeout: WAIT_MS });
    assert.equal(badge, 'camera off');
    await B.call('enableVideo');
    await waitFor(p, (q) => { const el = document.querySelector(q); return !!el && el.dataset.videoMuted === 'false' && !el.querySelector('.muted'); }, BOT_TILE, 'the bot\'s tile shows its camera on again');

    const since = B.mark();
    await p.click('#mute-audio', { timeout: WAIT_MS });
    const ev = await B.waitForEvent('streamMuted', (e) => e.peerId === pageId && e.peerInfo.mediaStatus.audioMuted === true, { since, what: 'bot: streamMuted (audio) from the page' });
    assert.equal(ev.peerInfo.mediaStatus.videoMuted, false, 'the page kept its camera on');
    assert.equal(await p.getAttribute('#mute-audio', 'aria-pressed'), 'true');
    assert.equal(await p.textContent('#mute-audio'), 'Unmute mic');
    await p.click('#mute-audio', { timeout: WAIT_MS });
    await B.waitForEvent('streamMuted', (e) => e.peerId === pageId && e.peerInfo.mediaStatus.audioMuted === false, { since, what: 'bot: streamMuted (unmuted) from the page' });
  }, { critical: false });

  step('screen share: the page\'s "Share screen" reaches the bot as a screen stream it decodes; "Stop sharing" brings the camera back', async () => {
    const p = page();
    const B = bot();
    const videoFrom = async () => {
      const { tracks } = await B.call('getRemoteMedia');
      return tracks.filter((t) => t.peerId === pageId && t.kind === 'video' && !t.ended).at(-1);
    };
    const camera = await videoFrom();
    assert.ok(camera && camera.probe && camera.probe.width > 0, `bot: decodes the page's camera: ${JSON.stringify(camera)}`);
    const since = B.mark();
    await p.click('#screen', { timeout: WAIT_MS });
    const ev = await B.waitForEvent('incomingStream', (e) => e.peerId === pageId && e.isScreensharing === true, { since, what: 'bot: incomingStream (isScreensharing) from the page' });
    assert.equal(ev.peerInfo.settings.video.screenshare, true, 'bot: the page\'s peer info says screenshare');
    // The decoder sees the screen's size (the fake display is not the camera's 640×480).
    await poll(async () => {
      const v = await videoFrom();
      const pr = v && v.probe;
      return pr && pr.width > 0 && (pr.width !== camera.probe.width || pr.height !== camera.probe.height) ? v : { ok: false, value: pr };
    }, { what: 'bot: decoded frames of the screen\'s size', timeout: 2 * WAIT_MS });
    const since2 = B.mark();
    await p.click('#screen', { timeout: WAIT_MS });
    await B.waitForEvent('incomingStream', (e) => e.peerId === pageId && e.isScreensharing === false, { since: since2, what: 'bot: incomingStream (the camera again) from the page' });
    await poll(async () => {
      const v = await videoFrom();
      const pr = v && v.probe;
      return pr && pr.width === camera.probe.width && pr.height === camera.probe.height ? v : { ok: false, value: pr };
    }, { what: 'bot: decoded frames of the camera\'s size again', timeout: 2 * WAIT_MS });
  }, { critical: false });

  step('the bot leaves: its tile goes and the page says so', async () => {
    const p = page();
    await bot().call('leaveRoom');
    await waitFor(p, () => !document.querySelector('#videos .tile[data-self="false"]'), null, 'the bot\'s tile is removed');
    const notices = await p.evaluate(() => document.getElementById('notices').textContent);
    assert.match(notices, new RegExp(`${BOT_NAME} left`), 'the page notes the bot left');
  });
});
