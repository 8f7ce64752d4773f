// Mixed transports in one room: A (WebSocket) and B (long-polling) in an audio+video call, plus two
// data-only pages W (WebSocket) and P (long-polling) so that non-ASCII signaling text is checked for
// all four sender → receiver transport combinations.
import assert from 'node:assert/strict';
import { describe, before, after } from 'node:test';
import { Suite, NON_ASCII, WAIT_MS } from '../lib/harness.mjs';
import { joinAll, awaitConnected, assertTransport, messageRoundTrip, userDataRoundTrip } from '../lib/scenario.mjs';

describe('mixed transports (A websocket, B polling)', () => {
  const s = new Suite('mixed transports');
  before(() => s.setup(), { timeout: 3 * WAIT_MS });
  after(() => s.teardown(), { timeout: 3 * WAIT_MS });

  s.phase('A (websocket) and B (polling) join with audio+video', async () => {
    await joinAll(s, [
      { name: 'A', transport: 'websocket', options: { audio: true, video: true, userData: { name: 'A ws' } } },
      { name: 'B', transport: 'polling', options: { audio: true, video: true, userData: { name: 'B polling' } } },
    ]);
  }, { critical: true });

  s.phase('A and B: peerJoined, incomingStream, ICE connected, data channel open', async () => {
    await awaitConnected(s.peer('A'), s.peer('B'));
  }, { critical: true });

  s.phase('W (websocket) and P (polling) join without media; all four see each other', async () => {
    await joinAll(s, [
      { name: 'W', transport: 'websocket', options: { audio: false, video: false, userData: { name: 'W ws' } } },
      { name: 'P', transport: 'polling', options: { audio: false, video: false, userData: { name: 'P polling' } } },
    ]);
    const all = ['A', 'B', 'W', 'P'].map((n) => s.peer(n));
    for (const x of all) {
      for (const y of all) {
        if (x === y) continue;
        await x.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: y.id }, what: `${x.name}: peerJoined(${y.name})` });
      }
    }
  }, { critical: true });

  s.phase('each page used only its socket.io transport', async () => {
    for (const n of ['A', 'B', 'W', 'P']) assertTransport(s.peer(n));
  });

  const combos = [
    ['websocket → websocket', 'A', 'W'],
    ['websocket → polling', 'A', 'B'],
    ['polling → websocket', 'B', 'A'],
    ['polling → polling', 'B', 'P'],
  ];
  for (const [combo, from, to] of combos) {
    s.phase(`non-ASCII ${combo} (${from} → ${to}): public and private sendMessage, setUserData`, async () => {
      const f = s.peer(from);
      const t = s.peer(to);
      await messageRoundTrip(f, t, `${NON_ASCII} public ${combo}`, { isPrivate: false });
      await messageRoundTrip(f, t, `${NON_ASCII} private ${combo}`, { isPrivate: true });
      await userDataRoundTrip(f, t, { name: `${from} ✓`, status: `${NON_ASCII} ${combo}`, emoji: '🎉👍🏽', cjk: '日本語' });
    });
  }

  s.phase('sendP2PMessage A ⇄ B over the data channel', async () => {
    for (const [x, y] of [['A', 'B'], ['B', 'A']]) {
      const f = s.peer(x);
      const t = s.peer(y);
      const text = `${NON_ASCII} p2p ${x}→${y}`;
      const since = await t.mark();
      await f.eval(({ text, target }) => window.__sk.sendP2PMessage(text, target), { text, target: t.id });
      const ev = await t.waitForEvent('incomingMessage', (args, c) => !!args[0] && args[0].content === c.text, { ctx: { text }, since, what: `p2p ${x}→${y}` });
      assert.equal(ev.args[0].isDataChannel, true);
    }
  });

  s.phase('leaving: P (polling) then W (websocket) then B (polling); the others get peerLeft', async () => {
    const order = ['P', 'W', 'B'];
    const remaining = new Set(['A', 'B', 'W', 'P']);
    for (const leaver of order) {
      remaining.delete(leaver);
      const L = s.peer(leaver);
      const marks = new Map();
      for (const n of remaining) marks.set(n, await s.peer(n).mark());
      await L.eval(() => window.__sk.leaveRoom());
      for (const n of remaining) {
        await s.peer(n).waitForEvent('peerLeft', (args, c) => args[0] === c.peer, { ctx: { peer: L.id }, since: marks.get(n), what: `${n}: peerLeft(${leaver})` });
      }
    }
  });
});
