// The shared two-party call scenario (A and B, plus a third page C for the lock test), run once per
// socket transport by tests/browser-call*.test.mjs.
import assert from 'node:assert/strict';
import { describe, before, after } from 'node:test';
import { Suite, NON_ASCII, PATTERN_MOD, WAIT_MS, APP_KEY } from './harness.mjs';

const AV = { audio: true, video: true };

// ---- reusable steps ----------------------------------------------------------------------------

/** Server answers /health, /, the bundle and the room API (with CORS). */
export async function checkServerEndpoints(s) {
  const { origin } = s.server;
  const health = await fetch(`${origin}/health`);
  assert.equal(health.status, 200, `GET /health -> ${health.status}`);
  const index = await fetch(`${origin}/`);
  assert.equal(index.status, 200, `GET / -> ${index.status}`);
  const html = await index.text();
  assert.match(html, /<script[^>]+src="\/skylink\.complete\.js"/, `GET / does not load /skylink.complete.js:\n${html.slice(0, 500)}`);
  const js = await fetch(`${origin}/skylink.complete.js`);
  assert.equal(js.status, 200, `GET /skylink.complete.js -> ${js.status}`);
  const body = await js.text();
  assert.ok(body.includes('0.6.26'), 'served bundle is not skylinkjs 0.6.26');
  const pageOrigin = 'http://127.0.0.1:1';
  const api = await fetch(`${origin}/api/${APP_KEY}/${encodeURIComponent(s.room)}?rand=${encodeURIComponent(new Date().toISOString())}`, {
    headers: { Origin: pageOrigin },
  });
  assert.equal(api.status, 200, `GET /api/${APP_KEY}/${s.room} -> ${api.status}`);
  const acao = api.headers.get('access-control-allow-origin');
  assert.ok(acao === pageOrigin || acao === '*', `room API CORS: access-control-allow-origin=${acao}`);
  const cred = await api.json();
  for (const k of ['ipSigserver', 'httpPortList', 'room_key', 'pc_constraints', 'offer_constraints']) {
    assert.ok(k in cred, `room API response lacks '${k}': ${JSON.stringify(cred).slice(0, 800)}`);
  }
  assert.equal(typeof cred.pc_constraints, 'string', 'pc_constraints must be a JSON string');
  JSON.parse(cred.pc_constraints);
  JSON.parse(cred.offer_constraints);
}

/** Opens pages `names` with the given transports and joins them to the room; asserts joinRoom success. */
export async function joinAll(s, specs) {
  const peers = [];
  for (const { name, transport, options } of specs) {
    const p = await s.openPeer(name, transport);
    const { error, success } = await p.initAndJoin(s.server, s.room, options);
    assert.equal(error, null, `${name}: joinRoom() failed: ${JSON.stringify(error)?.slice(0, 2000)}`);
    assert.ok(success && success.peerId, `${name}: joinRoom() success without peerId: ${JSON.stringify(success)}`);
    const open = await p.waitForEvent('channelOpen', null, { what: 'socket channelOpen' });
    const expected = transport === 'polling' ? 'Polling' : 'WebSocket';
    assert.equal(open.args[0].transportType, expected, `${name}: channelOpen transportType`);
    peers.push(p);
  }
  return peers;
}

/** Both peers see each other: peerJoined, incomingStream (if media), ICE connected, main data channel open. */
export async function awaitConnected(a, b, { media = true } = {}) {
  for (const [x, y] of [[a, b], [b, a]]) {
    const ctx = { peer: y.id };
    await x.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx, what: `peerJoined(${y.name})` });
    if (media) {
      const ev = await x.waitForEvent('incomingStream', (args, c) => args[0] === c.peer && args[2] === false, { ctx, what: `incomingStream from ${y.name}` });
      const kinds = (ev.args[1].tracks || []).map((t) => t.kind).sort();
      assert.deepEqual(kinds, ['audio', 'video'], `${x.name}: incomingStream from ${y.name} tracks`);
    }
    await x.waitForEvent('iceConnectionState', (args, c) => args[1] === c.peer && (args[0] === 'connected' || args[0] === 'completed'), {
      ctx,
      what: `iceConnectionState connected/completed for ${y.name}`,
    });
    await x.waitForEvent('dataChannelState', (args, c) => args[0] === 'open' && args[1] === c.peer && args[4] === 'messaging', {
      ctx,
      what: `main (messaging) dataChannelState open with ${y.name}`,
    });
  }
}

export function assertTransport(p) {
  const tr = p.socketTransports();
  if (p.transport === 'polling') {
    assert.ok(tr.polling > 0, `${p.name}: expected Engine.IO long-polling requests (transport=polling), saw none`);
    assert.deepEqual(tr.websockets, [], `${p.name}: polling page opened a websocket`);
  } else {
    assert.ok(tr.websockets.length > 0, `${p.name}: expected a socket.io websocket, saw none`);
    for (const u of tr.websockets) assert.match(u, /[?&]transport=websocket\b/, `${p.name}: websocket url`);
    assert.equal(tr.polling, 0, `${p.name}: websocket page made ${tr.polling} polling requests`);
  }
  return tr;
}

/** `from.sendMessage(text[, to])` → `to` gets incomingMessage with the exact content and flags. */
export async function messageRoundTrip(from, to, text, { isPrivate }) {
  const since = await to.mark();
  await from.eval(({ text, target }) => (target ? window.__sk.sendMessage(text, target) : window.__sk.sendMessage(text)), {
    text,
    target: isPrivate ? to.id : null,
  });
  const ev = await to.waitForEvent('incomingMessage', (args, c) => args[1] === c.sender && args[0] && args[0].content === c.text, {
    ctx: { sender: from.id, text },
    since,
    what: `${isPrivate ? 'private' : 'public'} message from ${from.name} (${from.transport}) with exact content ${JSON.stringify(text)}`,
  });
  const [msg, senderId, , isSelf] = ev.args;
  assert.equal(msg.content, text);
  assert.equal(msg.isPrivate, isPrivate, `${to.name}: incomingMessage.isPrivate`);
  assert.equal(msg.isDataChannel, false, `${to.name}: incomingMessage.isDataChannel`);
  assert.equal(msg.senderPeerId, from.id);
  assert.equal(senderId, from.id);
  assert.equal(isSelf, false);
  if (isPrivate) assert.equal(msg.targetPeerId, to.id);
  return ev;
}

/** `from.setUserData(userData)` → `to` gets peerUpdated with deep-equal userData. */
export async function userDataRoundTrip(from, to, userData) {
  const since = await to.mark();
  await from.eval((ud) => window.__sk.setUserData(ud), userData);
  const ev = await to.waitForEvent(
    'peerUpdated',
    (args, c) => args[0] === c.sender && args[1] && JSON.stringify(args[1].userData) === JSON.stringify(c.userData),
    { ctx: { sender: from.id, userData }, since, what: `peerUpdated(${from.name}) with userData ${JSON.stringify(userData)}` },
  );
  assert.deepEqual(ev.args[1].userData, userData);
  return ev;
}

// ---- the scenario ------------------------------------------------------------------------------

/**
 * Registers the full call scenario as a `describe` with one `it` per phase.
 * `transport`: 'websocket' | 'polling' for all pages.
 */
export function callScenario({ label, transport }) {
  describe(label, () => {
    const s = new Suite(label);
    before(() => s.setup(), { timeout: 3 * WAIT_MS });
    after(() => s.teardown(), { timeout: 3 * WAIT_MS });

    s.phase('server answers /health, / (skylinkjs page), /skylink.complete.js and the room API with CORS', async () => {
      await checkServerEndpoints(s);
    });

    s.phase(`A and B join the room with audio+video over ${transport}`, async () => {
      await joinAll(s, [
        { name: 'A', transport, options: { ...AV, userData: { name: 'peer-A' } } },
        { name: 'B', transport, options: { ...AV, userData: { name: 'peer-B' } } },
      ]);
    }, { critical: true });

    s.phase('A and B: peerJoined, incomingStream (audio+video), ICE connected, data channel open', async () => {
      await awaitConnected(s.peer('A'), s.peer('B'));
    }, { critical: true });

    s.phase(`socket.io really used ${transport} (checked from the page's network traffic)`, async () => {
      assertTransport(s.peer('A'));
      assertTransport(s.peer('B'));
    });

    s.phase('public sendMessage with non-ASCII text: A → B and B → A arrive unchanged, isPrivate false', async () => {
      await messageRoundTrip(s.peer('A'), s.peer('B'), `${NON_ASCII} public A→B`, { isPrivate: false });
      await messageRoundTrip(s.peer('B'), s.peer('A'), `${NON_ASCII} public B→A`, { isPrivate: false });
    });

    s.phase('three public sendMessage back to back (the SDK sends them as one "group"): B gets all three in order', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const texts = [1, 2, 3].map((i) => `${NON_ASCII} burst ${i}`);
      const since = await B.mark();
      await A.eval((texts) => texts.forEach((t) => window.__sk.sendMessage(t)), texts);
      const evs = [];
      for (const text of texts) {
        evs.push(await B.waitForEvent('incomingMessage', (args, c) => !!args[0] && args[0].content === c.text && args[1] === c.sender, {
          ctx: { text, sender: A.id },
          since,
          what: `burst message ${JSON.stringify(text)}`,
        }));
      }
      const order = evs.map((e) => e.idx);
      assert.deepEqual(order, [...order].sort((x, y) => x - y), 'burst messages arrived out of order');
      for (const e of evs) assert.equal(e.args[0].isPrivate, false);
    });

    s.phase('private sendMessage(msg, B) with non-ASCII text: B gets isPrivate true', async () => {
      await messageRoundTrip(s.peer('A'), s.peer('B'), `${NON_ASCII} private A→B`, { isPrivate: true });
    });

    s.phase('sendP2PMessage(msg, B): B gets it over the data channel (isDataChannel true)', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const text = `${NON_ASCII} p2p A→B`;
      const since = await B.mark();
      await A.eval(({ text, target }) => window.__sk.sendP2PMessage(text, target), { text, target: B.id });
      const ev = await B.waitForEvent('incomingMessage', (args, c) => args[1] === c.sender && args[0] && args[0].content === c.text, {
        ctx: { sender: A.id, text },
        since,
        what: 'p2p message from A',
      });
      assert.equal(ev.args[0].isDataChannel, true, 'isDataChannel');
      assert.equal(ev.args[0].isPrivate, true, 'isPrivate');
      assert.equal(ev.args[0].targetPeerId, B.id);
    });

    s.phase('setUserData(obj with non-ASCII) on A: B gets peerUpdated with the new userData', async () => {
      await userDataRoundTrip(s.peer('A'), s.peer('B'), { name: 'peer-A', status: NON_ASCII, n: 2, list: ['✓', '日本', '🎉'] });
    });

    s.phase('muteStream({audioMuted: true, videoMuted: false}) on A: B gets streamMuted', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const since = await B.mark();
      await A.eval(() => window.__sk.muteStream({ audioMuted: true, videoMuted: false }));
      const ev = await B.waitForEvent(
        'streamMuted',
        (args, c) => args[0] === c.sender && args[1] && args[1].mediaStatus && args[1].mediaStatus.audioMuted === true,
        { ctx: { sender: A.id }, since, what: 'streamMuted(A) with audioMuted true' },
      );
      assert.equal(ev.args[1].mediaStatus.videoMuted, false, 'videoMuted');
      assert.equal(ev.args[2], false, 'isSelf');
    });

    s.phase('lockRoom() on A: C is rejected (systemAction reject/locked, joinRoom error)', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const sinceB = await B.mark();
      await A.eval(() => window.__sk.lockRoom());
      // B seeing the relayed roomLockEvent proves the server processed it before C joins.
      await B.waitForEvent('roomLock', (args, c) => args[0] === true && args[1] === c.sender, { ctx: { sender: A.id }, since: sinceB, what: 'roomLock(true) from A' });
      const C = await s.openPeer('C-locked', transport);
      const { error, success } = await C.initAndJoin(s.server, s.room, { audio: false, video: false, userData: { name: 'peer-C' } });
      const sa = await C.waitForEvent('systemAction', (args) => args[0] === 'reject', { what: "systemAction('reject')" });
      assert.equal(sa.args[2], 'locked', `systemAction reason (info: ${JSON.stringify(sa.args[1])})`);
      assert.equal(success, null, `joinRoom succeeded in a locked room: ${JSON.stringify(success)}`);
      assert.ok(error, 'joinRoom callback error expected');
      await C.eval(() => window.__sk.leaveRoom()).catch(() => {});
      await s.closePeer('C-locked');
    });

    s.phase('unlockRoom() on A: C joins (peerJoined on C), then C leaves (peerLeft on A and B)', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const sinceB = await B.mark();
      await A.eval(() => window.__sk.unlockRoom());
      await B.waitForEvent('roomLock', (args, c) => args[0] === false && args[1] === c.sender, { ctx: { sender: A.id }, since: sinceB, what: 'roomLock(false) from A' });
      const sinceA = await A.mark();
      const sinceB2 = await B.mark();
      const [C] = await joinAll(s, [{ name: 'C', transport, options: { audio: false, video: false, userData: { name: 'peer-C ✓' } } }]);
      for (const p of [A, B]) {
        await C.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: p.id }, what: `C: peerJoined(${p.name})` });
        await p.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && !!args[1] && !!args[1].userData && args[1].userData.name === 'peer-C ✓', {
          ctx: { peer: C.id },
          since: p === A ? sinceA : sinceB2,
          what: `${p.name}: peerJoined(C)`,
        });
      }
      await C.eval(() => window.__sk.leaveRoom());
      for (const [p, since] of [[A, sinceA], [B, sinceB2]]) {
        await p.waitForEvent('peerLeft', (args, c) => args[0] === c.peer, { ctx: { peer: C.id }, since, what: `${p.name}: peerLeft(C)` });
      }
      await s.closePeer('C');
    });

    s.phase('sendBlobData(1 MiB, pattern i % 251) A → B, accepted by B, received byte for byte', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const SIZE = 1024 * 1024;
      const sinceA = await A.mark();
      const sinceB = await B.mark();
      await A.eval(
        ({ size, mod, target }) => {
          const u8 = new Uint8Array(size);
          for (let i = 0; i < size; i++) u8[i] = i % mod;
          const file = new File([u8], 'pattern-1MiB.bin', { type: 'application/octet-stream' });
          window.__sk.sendBlobData(file, 60, target, (error, success) => window.__harness.record('harness:sendBlobData', [error, success]));
        },
        { size: SIZE, mod: PATTERN_MOD, target: B.id },
      );
      const req = await B.waitForEvent('incomingDataRequest', (args, c) => args[1] === c.sender && args[3] !== true, {
        ctx: { sender: A.id },
        since: sinceB,
        what: 'incomingDataRequest from A',
      });
      const transferId = req.args[0];
      assert.equal(req.args[2].size, SIZE, 'transferInfo.size');
      await B.eval(({ peer, transferId }) => window.__sk.acceptDataTransfer(peer, transferId, true), { peer: A.id, transferId });
      const got = await B.waitForEvent('incomingData', (args, c) => args[1] === c.transferId && args[4] !== true && args[2] === c.sender, {
        ctx: { transferId, sender: A.id },
        since: sinceB,
        timeout: 3 * WAIT_MS,
        what: `incomingData for ${transferId}`,
      });
      const check = await B.eval(
        async ({ idx, size, mod }) => {
          const data = window.__harness.raw[idx] && window.__harness.raw[idx][0];
          if (!(data instanceof Blob)) return { ok: false, reason: `incomingData payload is not a Blob: ${Object.prototype.toString.call(data)}` };
          const buf = new Uint8Array(await data.arrayBuffer());
          if (buf.length !== size) return { ok: false, reason: `size ${buf.length} != ${size}` };
          for (let i = 0; i < size; i++) {
            if (buf[i] !== i % mod) return { ok: false, reason: `mismatch at byte ${i}: got ${buf[i]}, want ${i % mod}` };
          }
          return { ok: true, size: buf.length };
        },
        { idx: got.idx, size: SIZE, mod: PATTERN_MOD },
      );
      assert.ok(check.ok, `B: received blob differs: ${check.reason}`);
      await A.waitForEvent('dataTransferState', (args, c) => args[0] === 'uploadCompleted' && args[1] === c.transferId, {
        ctx: { transferId },
        since: sinceA,
        what: 'A: dataTransferState uploadCompleted',
      });
      const cb = await A.waitForEvent('harness:sendBlobData', null, { since: sinceA, what: 'sendBlobData() callback' });
      assert.ok(!cb.args[0] || cb.args[0].__type === 'undefined', `sendBlobData callback error: ${JSON.stringify(cb.args[0]).slice(0, 1000)}`);
    });

    s.phase('refreshConnection(B) on A: peerRestart on both sides, back to ICE connected, data channel usable', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const sinceA = await A.mark();
      const sinceB = await B.mark();
      await A.eval((target) => window.__sk.refreshConnection(target, (error, success) => window.__harness.record('harness:refreshConnection', [error, success])), B.id);
      const ra = await A.waitForEvent('peerRestart', (args, c) => args[0] === c.peer, { ctx: { peer: B.id }, since: sinceA, what: 'A: peerRestart(B)' });
      const rb = await B.waitForEvent('peerRestart', (args, c) => args[0] === c.peer, { ctx: { peer: A.id }, since: sinceB, what: 'B: peerRestart(A)' });
      assert.equal(ra.args[2], true, 'A: isSelfInitiateRestart');
      assert.equal(rb.args[2], false, 'B: isSelfInitiateRestart');
      // Renegotiation done on both sides ...
      await A.waitForEvent('peerConnectionState', (args, c) => args[0] === 'stable' && args[1] === c.peer, { ctx: { peer: B.id }, since: ra.idx, what: 'A: signalingState stable after restart' });
      await B.waitForEvent('peerConnectionState', (args, c) => args[0] === 'stable' && args[1] === c.peer, { ctx: { peer: A.id }, since: rb.idx, what: 'B: signalingState stable after restart' });
      const cb = await A.waitForEvent('harness:refreshConnection', null, { since: sinceA, what: 'refreshConnection() callback' });
      assert.ok(!cb.args[0] || cb.args[0].__type === 'undefined', `refreshConnection callback error: ${JSON.stringify(cb.args[0]).slice(0, 1000)}`);
      // ... and ICE connected again.
      for (const [x, y] of [[A, B], [B, A]]) {
        await x.waitFor(
          (peer) => {
            const pc = window.__sk._peerConnections[peer];
            return !!pc && (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') && pc.signalingState === 'stable';
          },
          y.id,
          { what: `${x.name}: peer connection to ${y.name} ICE connected/completed and stable` },
        );
      }
      const text = `${NON_ASCII} after refresh`;
      const since = await B.mark();
      await A.eval(({ text, target }) => window.__sk.sendP2PMessage(text, target), { text, target: B.id });
      await B.waitForEvent('incomingMessage', (args, c) => !!args[0] && args[0].content === c.text && args[0].isDataChannel === true, { ctx: { text }, since, what: 'p2p message after refresh' });
    });

    s.phase('leaveRoom() on B: A gets peerLeft(B)', async () => {
      const A = s.peer('A');
      const B = s.peer('B');
      const since = await A.mark();
      await B.eval(() => window.__sk.leaveRoom());
      await A.waitForEvent('peerLeft', (args, c) => args[0] === c.peer, { ctx: { peer: B.id }, since, what: 'A: peerLeft(B)' });
    });
  });
}
