// A publish-only Rust bot (`skylink join --json --publish-only --video testpattern --audio tone`,
// joinRoom({publishOnly: true}), sdp-and-peers.md §4.12) with real skylinkjs 0.6.26 pages in
// headless Chromium (fake camera + microphone):
//   1. the page joins first, the bot second (the bot offers): the page's peerJoined carries
//      peerInfo.config.publishOnly === true;
//   2. the page receives the bot's video (decoded, the embedded frame number advances);
//   3. a second page joins after the bot (the page offers, the bot answers): it too receives
//      the bot's video;
//   4. the bot received nothing: no incomingStream line from either page, no received track
//      with packets, and its own peer info says config.publishOnly.
//
// Needs the bot built with the codecs (`cargo build -p skylink-cli --bins --features codecs`).
import assert from 'node:assert/strict';
import { describe, before, after } from 'node:test';
import { Suite } from '../lib/harness.mjs';
import { Bot } from '../lib/bot.mjs';
import { installPageMedia, poll } from '../lib/media.mjs';

describe('publish-only rust bot with skylinkjs 0.6.26 pages', () => {
  const s = new Suite('rust publish');
  before(() => s.setup(), { timeout: 60_000 });
  after(() => s.teardown(), { timeout: 60_000 });

  const bot = () => s.peer('bot');

  /** Waits until `page` decodes the bot's video and its frame number advances by 10. */
  async function pageSeesBotVideo(P, B) {
    const ev = await P.waitForEvent('incomingStream', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: B.id }, what: `${P.name}: incomingStream from the bot` });
    assert.ok(ev.args[5], `${P.name}: incomingStream has a streamId`);
    const first = await poll(async () => {
      const smp = await P.eval((id) => window.__media.sample(id), B.id);
      return smp && smp.frameNumber !== null ? smp : { ok: false, value: smp && { ...smp, grid: undefined } };
    }, { what: `${P.name}: a decoded frame of the bot with a readable frame number` });
    await poll(async () => {
      const smp = await P.eval((id) => window.__media.sample(id), B.id);
      return smp && smp.frameNumber !== null && smp.frameNumber >= first.frameNumber + 10 ? smp : { ok: false, value: smp && smp.frameNumber };
    }, { what: `${P.name}: the frame number advancing past ${first.frameNumber + 10}` });
  }

  async function openPage(name) {
    const p = await s.openPeer(name, 'websocket');
    await installPageMedia(p);
    const { error } = await p.initAndJoin(s.server, s.room, { audio: true, video: true, userData: { name } });
    assert.equal(error, null, `${name}: joinRoom() failed: ${JSON.stringify(error)?.slice(0, 2000)}`);
    return p;
  }

  s.phase('join: a page (fake camera + mic), then the bot with --publish-only: peerJoined says config.publishOnly', async () => {
    const p = await openPage('page');
    const b = Bot.spawn(s.server, s.room, { name: 'bot', userData: { name: 'bot' }, extraArgs: ['--publish-only', '--video', 'testpattern', '--audio', 'tone'] });
    s.peers.set('bot', b);
    await b.ready();
    const joined = await p.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: b.id }, what: 'page: peerJoined(bot)' });
    assert.equal(joined.args[1].config.publishOnly, true, 'page: peerJoined(bot) peerInfo.config.publishOnly');
  }, { critical: true });

  s.phase('bot → page (the bot offers): the page decodes the bot\'s video, frame numbers advance', async () => {
    await pageSeesBotVideo(s.peer('page'), bot());
    const info = await s.peer('page').eval((id) => window.__sk.getPeerInfo(id), bot().id);
    assert.equal(info.config.publishOnly, true, 'page: getPeerInfo(bot).config.publishOnly');
  }, { critical: true });

  s.phase('a second page joins after the bot (the page offers, the bot answers): it decodes the bot\'s video too', async () => {
    const p2 = await openPage('page2');
    const joined = await p2.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: bot().id }, what: 'page2: peerJoined(bot)' });
    assert.equal(joined.args[1].config.publishOnly, true, 'page2: peerJoined(bot) peerInfo.config.publishOnly (from the bot\'s welcome)');
    await pageSeesBotVideo(p2, bot());
  });

  s.phase('the bot received nothing: no incomingStream from the pages, no track with packets; its own info says publishOnly', async () => {
    const B = bot();
    const pages = [s.peer('page').id, s.peers.has('page2') ? s.peer('page2').id : null].filter(Boolean);
    // Both connections are up (the pages decode the bot's video): a page's media would have
    // arrived by now if the bot had asked for it.
    for (const id of pages) {
      await B.waitForEvent('iceConnectionState', (e) => e.peerId === id && (e.state === 'connected' || e.state === 'completed'), { what: `bot: ICE connected with ${id}` });
    }
    // The pages do not send to the bot: each page's audio/video transceivers towards it
    // negotiated recvonly (the bot's SDP said sendonly).
    for (const name of ['page', 'page2'].filter((n) => s.peers.has(n))) {
      const dirs = await s.peer(name).eval((id) => window.__sk._peerConnections[id].getTransceivers().map((t) => `${t.receiver.track.kind}:${t.currentDirection}`), B.id);
      assert.ok(dirs.length >= 2, `${name}: transceivers towards the bot: ${dirs}`);
      for (const d of dirs) assert.match(d, /:(recvonly|inactive)$/, `${name}: transceiver towards the bot: ${dirs}`);
    }
    const incoming = B.events().filter((e) => e.event === 'incomingStream' && e.isSelf === false);
    assert.deepEqual(incoming, [], 'bot: no incomingStream from a page');
    const { tracks } = await B.call('getRemoteMedia');
    assert.deepEqual(tracks.filter((t) => t.packets > 0), [], 'bot: no received media');
    const own = await B.call('getPeerInfo');
    assert.equal(own.config.publishOnly, true, 'bot: own peerInfo.config.publishOnly');
  });
});
