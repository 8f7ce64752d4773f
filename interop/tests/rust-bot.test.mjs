// Mixed room: the Rust peer (`skylink join --json`, driven through lib/bot.mjs) and a real
// skylinkjs 0.6.26 page, both without media (data channel only). Run twice, once per handshake
// role of the Rust peer: our server gives the newcomer the higher tie-breaker, so the NEWCOMER
// OFFERS. "bot answerer": the bot joins first, the page second; "bot offerer": the other way round.
import assert from 'node:assert/strict';
import { describe, before, after } from 'node:test';
import { Suite, NON_ASCII, WAIT_MS } from '../lib/harness.mjs';
import { Bot } from '../lib/bot.mjs';

const BOT_USER_DATA = { name: 'rust bot ✓', status: NON_ASCII, n: 1, list: ['日本', '🎉'] };
const PAGE_USER_DATA = { name: 'page ✓', status: NON_ASCII, n: 2 };

function botScenario(role) {
  const botOffers = role === 'offerer';
  describe(`rust bot as ${role} with a skylinkjs 0.6.26 page`, () => {
    const s = new Suite(`rust bot ${role}`);
    before(() => s.setup(), { timeout: 3 * WAIT_MS });
    after(() => s.teardown(), { timeout: 3 * WAIT_MS });

    const bot = () => s.peer('bot');
    let mainLabel = null;
    const dcLabel = () => mainLabel;
    const page = () => s.peer('page');

    async function startBot() {
      const b = Bot.spawn(s.server, s.room, { name: 'bot', userData: BOT_USER_DATA });
      s.peers.set('bot', b); // dumped on failure, stopped at teardown (same shape as a page Peer)
      await b.ready();
      assert.equal(b.selfJoined.isSelf, true);
      assert.deepEqual(b.selfJoined.peerInfo.userData, BOT_USER_DATA, 'bot: own peerJoined userData');
      return b;
    }

    async function joinPage() {
      const p = await s.openPeer('page', 'websocket');
      const { error, success } = await p.initAndJoin(s.server, s.room, { audio: false, video: false, userData: PAGE_USER_DATA });
      assert.equal(error, null, `page: joinRoom() failed: ${JSON.stringify(error)?.slice(0, 2000)}`);
      assert.ok(success && success.peerId, `page: joinRoom() success without peerId: ${JSON.stringify(success)}`);
      return p;
    }

    /** P2P message page → bot (targeted) arrives over the data channel. */
    async function p2pPageToBot(text) {
      const B = bot();
      const P = page();
      const since = B.mark();
      await P.eval(({ text, target }) => window.__sk.sendP2PMessage(text, target), { text, target: B.id });
      const ev = await B.waitForEvent('incomingMessage', (e) => e.peerId === P.id && !!e.message && e.message.content === text, {
        since,
        what: `p2p message from the page with content ${JSON.stringify(text)}`,
      });
      assert.equal(ev.message.isDataChannel, true, 'bot: incomingMessage.isDataChannel');
      assert.equal(ev.message.isPrivate, true, 'bot: incomingMessage.isPrivate');
      assert.equal(ev.message.senderPeerId, P.id, 'bot: incomingMessage.senderPeerId');
      assert.equal(ev.message.targetPeerId, B.id, 'bot: incomingMessage.targetPeerId');
      assert.equal(ev.isSelf, false, 'bot: incomingMessage.isSelf');
      return ev;
    }

    /** P2P message bot → page (targeted or broadcast) arrives over the data channel. */
    async function p2pBotToPage(text, { targeted }) {
      const B = bot();
      const P = page();
      const since = await P.mark();
      const params = targeted ? { message: text, targetPeerId: P.id } : { message: text };
      const result = await B.call('sendP2PMessage', params);
      assert.equal(result, null, 'bot: sendP2PMessage result');
      const ev = await P.waitForEvent('incomingMessage', (args, c) => args[1] === c.sender && !!args[0] && args[0].content === c.text, {
        ctx: { sender: B.id, text },
        since,
        what: `${targeted ? 'targeted' : 'broadcast'} p2p message from the bot with content ${JSON.stringify(text)}`,
      });
      const [msg, , , isSelf] = ev.args;
      assert.equal(msg.isDataChannel, true, 'page: incomingMessage.isDataChannel');
      assert.equal(msg.isPrivate, targeted, 'page: incomingMessage.isPrivate');
      assert.equal(msg.senderPeerId, B.id, 'page: incomingMessage.senderPeerId');
      assert.equal(msg.targetPeerId, P.id, 'page: incomingMessage.targetPeerId');
      assert.equal(isSelf, false);
      return ev;
    }

    // ---- 1. join and connect ------------------------------------------------------------------

    s.phase(`join: ${botOffers ? 'page first, then the bot (newcomer, offers)' : 'bot first, then the page (newcomer, offers)'}`, async () => {
      if (botOffers) {
        await joinPage();
        await startBot();
      } else {
        await startBot();
        await joinPage();
      }
    }, { critical: true });

    s.phase('both sides: peerJoined with the other\'s userData, ICE connected, messaging data channel open', async () => {
      const B = bot();
      const P = page();
      // page side
      const pj = await P.waitForEvent('peerJoined', (args, c) => args[0] === c.peer && args[2] === false, { ctx: { peer: B.id }, what: 'page: peerJoined(bot)' });
      assert.deepEqual(pj.args[1].userData, BOT_USER_DATA, 'page: peerJoined(bot) userData');
      assert.equal(pj.args[1].agent.name, 'rust', 'page: peerJoined(bot) agent.name');
      await P.waitForEvent('iceConnectionState', (args, c) => args[1] === c.peer && (args[0] === 'connected' || args[0] === 'completed'), {
        ctx: { peer: B.id },
        what: 'page: iceConnectionState connected/completed for the bot',
      });
      const pdc = await P.waitForEvent('dataChannelState', (args, c) => args[0] === 'open' && args[1] === c.peer && args[4] === 'messaging', {
        ctx: { peer: B.id },
        what: 'page: messaging dataChannelState open with the bot',
      });
      // bot side
      const bj = await B.waitForEvent('peerJoined', (e) => e.peerId === P.id && e.isSelf === false, { what: 'bot: peerJoined(page)' });
      assert.deepEqual(bj.peerInfo.userData, PAGE_USER_DATA, 'bot: peerJoined(page) userData');
      await B.waitForEvent('iceConnectionState', (e) => e.peerId === P.id && (e.state === 'connected' || e.state === 'completed'), {
        what: 'bot: iceConnectionState connected/completed for the page',
      });
      const dc = await B.waitForEvent('dataChannelState', (e) => e.peerId === P.id && e.state === 'open', { what: 'bot: dataChannelState open with the page' });
      mainLabel = dc.channelName;
      assert.equal(dc.channelType, 'messaging', 'bot: dataChannelState channelType');
      // The channel label is the offerer's "<offererId>_<answererId>", the same on both sides.
      assert.equal(dc.channelName, pdc.args[3], 'bot: dataChannelState channelName (same label as the page)');
      const [offerer, answerer] = botOffers ? [B.id, P.id] : [P.id, B.id];
      assert.equal(dc.channelName, `${offerer}_${answerer}`, 'main channel label');
    }, { critical: true });

    s.phase(`handshake roles: the ${botOffers ? 'bot' : 'page'} offered, the ${botOffers ? 'page' : 'bot'} answered`, async () => {
      const B = bot();
      const P = page();
      const botState = botOffers ? 'have-local-offer' : 'have-remote-offer';
      const pageState = botOffers ? 'have-remote-offer' : 'have-local-offer';
      await B.waitForEvent('peerConnectionState', (e) => e.peerId === P.id && e.state === botState, { what: `bot: peerConnectionState ${botState}` });
      await P.waitForEvent('peerConnectionState', (args, c) => args[1] === c.peer && args[0] === c.state, {
        ctx: { peer: B.id, state: pageState },
        what: `page: peerConnectionState ${pageState}`,
      });
      // ... and never the other role's state during the initial handshake.
      const wrongBot = B.events().filter((e) => e.event === 'peerConnectionState' && e.peerId === P.id && e.state === pageState);
      assert.deepEqual(wrongBot, [], `bot: unexpected peerConnectionState ${pageState}`);
      const pageEvents = await P.events();
      const wrongPage = pageEvents.filter((e) => e.event === 'peerConnectionState' && e.args[1] === B.id && e.args[0] === botState);
      assert.deepEqual(wrongPage, [], `page: unexpected peerConnectionState ${botState}`);
      // The page reports the offer and the answer of the handshake.
      for (const st of ['offer', 'answer']) {
        await P.waitForEvent('handshakeProgress', (args, c) => args[0] === c.st && args[1] === c.peer, { ctx: { st, peer: B.id }, what: `page: handshakeProgress ${st}` });
      }
      // The newcomer was welcomed by the peer already in the room.
      const welcomer = botOffers ? P : null;
      if (welcomer) {
        await P.waitForEvent('handshakeProgress', (args, c) => args[0] === 'enter' && args[1] === c.peer, { ctx: { peer: B.id }, what: 'page: handshakeProgress enter (bot entered)' });
      } else {
        await P.waitForEvent('handshakeProgress', (args, c) => args[0] === 'welcome' && args[1] === c.peer, { ctx: { peer: B.id }, what: 'page: handshakeProgress welcome (from the bot)' });
      }
    });

    // ---- 2. sendMessage (signaling) -----------------------------------------------------------

    s.phase('public and private sendMessage page → bot with non-ASCII text', async () => {
      const B = bot();
      const P = page();
      for (const isPrivate of [false, true]) {
        const text = `${NON_ASCII} ${isPrivate ? 'private' : 'public'} page→bot`;
        const since = B.mark();
        await P.eval(({ text, target }) => (target ? window.__sk.sendMessage(text, target) : window.__sk.sendMessage(text)), { text, target: isPrivate ? B.id : null });
        const ev = await B.waitForEvent('incomingMessage', (e) => e.peerId === P.id && !!e.message && e.message.content === text, { since, what: `bot: ${JSON.stringify(text)}` });
        assert.equal(ev.message.isPrivate, isPrivate, 'bot: incomingMessage.isPrivate');
        assert.equal(ev.message.isDataChannel, false, 'bot: incomingMessage.isDataChannel');
        assert.equal(ev.message.senderPeerId, P.id, 'bot: incomingMessage.senderPeerId');
        assert.equal(ev.isSelf, false);
        if (isPrivate) assert.equal(ev.message.targetPeerId, B.id, 'bot: incomingMessage.targetPeerId');
        assert.deepEqual(ev.peerInfo.userData, PAGE_USER_DATA, 'bot: incomingMessage peerInfo.userData');
      }
    });

    s.phase('public and private sendMessage bot → page with non-ASCII text', async () => {
      const B = bot();
      const P = page();
      for (const isPrivate of [false, true]) {
        const text = `${NON_ASCII} ${isPrivate ? 'private' : 'public'} bot→page`;
        const since = await P.mark();
        const botSince = B.mark();
        const result = await B.call('sendMessage', isPrivate ? { message: text, targetPeerId: P.id } : { message: text });
        assert.equal(result, null, 'bot: sendMessage result');
        // Our own copy came before the reply (protocol ordering rule 4).
        const own = B.events(botSince).find((e) => e.event === 'incomingMessage' && e.isSelf === true && e.message && e.message.content === text);
        assert.ok(own, `bot: no own incomingMessage copy (isSelf true) before the sendMessage reply\n${B.tail()}`);
        const ev = await P.waitForEvent('incomingMessage', (args, c) => args[1] === c.sender && !!args[0] && args[0].content === c.text, {
          ctx: { sender: B.id, text },
          since,
          what: `page: ${JSON.stringify(text)}`,
        });
        const [msg, senderId, peerInfo, isSelf] = ev.args;
        assert.equal(msg.isPrivate, isPrivate, 'page: incomingMessage.isPrivate');
        assert.equal(msg.isDataChannel, false, 'page: incomingMessage.isDataChannel');
        assert.equal(msg.senderPeerId, B.id);
        assert.equal(senderId, B.id);
        assert.equal(isSelf, false);
        if (isPrivate) assert.equal(msg.targetPeerId, P.id, 'page: incomingMessage.targetPeerId');
        assert.deepEqual(peerInfo.userData, BOT_USER_DATA, 'page: incomingMessage peerInfo.userData');
      }
    });

    // ---- 3. sendP2PMessage (data channel) -----------------------------------------------------

    s.phase('sendP2PMessage page → bot: isDataChannel true, isPrivate true', async () => {
      await p2pPageToBot(`${NON_ASCII} p2p page→bot`);
    });

    s.phase('sendP2PMessage bot → page, targeted and broadcast: isDataChannel true', async () => {
      await p2pBotToPage(`${NON_ASCII} p2p bot→page targeted`, { targeted: true });
      await p2pBotToPage(`${NON_ASCII} p2p bot→page broadcast`, { targeted: false });
    });

    // ---- 4. setUserData -----------------------------------------------------------------------

    s.phase('setUserData both ways: peerUpdated with deep-equal userData', async () => {
      const B = bot();
      const P = page();
      const botData = { name: 'rust bot 2', status: `${NON_ASCII} updated`, nested: { a: [1, 2, { b: null }], t: true } };
      const since = await P.mark();
      await B.call('setUserData', { userData: botData });
      const pu = await P.waitForEvent('peerUpdated', (args, c) => args[0] === c.peer && !!args[1] && args[1].userData && args[1].userData.name === 'rust bot 2', {
        ctx: { peer: B.id },
        since,
        what: 'page: peerUpdated(bot) with the new userData',
      });
      assert.deepEqual(pu.args[1].userData, botData, 'page: peerUpdated userData');
      assert.equal(pu.args[2], false, 'page: peerUpdated isSelf');

      const pageData = { name: 'page 2', status: `${NON_ASCII} page updated`, list: ['✓', '日本', '🎉'], n: 3.5 };
      const botSince = B.mark();
      await P.eval((ud) => window.__sk.setUserData(ud), pageData);
      const bu = await B.waitForEvent('peerUpdated', (e) => e.peerId === P.id && e.peerInfo && e.peerInfo.userData && e.peerInfo.userData.name === 'page 2', {
        since: botSince,
        what: 'bot: peerUpdated(page) with the new userData',
      });
      assert.deepEqual(bu.peerInfo.userData, pageData, 'bot: peerUpdated userData');
      assert.equal(bu.isSelf, false, 'bot: peerUpdated isSelf');
      assert.deepEqual(await B.call('getUserData', { peerId: P.id }), pageData, 'bot: getUserData(page)');
    });

    // ---- 5. lockRoom / unlockRoom -------------------------------------------------------------

    s.phase('lockRoom/unlockRoom from the bot: page sees roomLock(true) then roomLock(false)', async () => {
      const B = bot();
      const P = page();
      for (const locked of [true, false]) {
        const since = await P.mark();
        await B.call(locked ? 'lockRoom' : 'unlockRoom');
        const ev = await P.waitForEvent('roomLock', (args, c) => args[0] === c.locked && args[1] === c.peer, {
          ctx: { locked, peer: B.id },
          since,
          what: `page: roomLock(${locked}) from the bot`,
        });
        assert.equal(ev.args[3], false, 'page: roomLock isSelf');
      }
    });

    s.phase('lockRoom/unlockRoom from the page: bot sees roomLock isLocked true then false', async () => {
      const B = bot();
      const P = page();
      for (const locked of [true, false]) {
        const since = B.mark();
        await P.eval((l) => (l ? window.__sk.lockRoom() : window.__sk.unlockRoom()), locked);
        const ev = await B.waitForEvent('roomLock', (e) => e.isLocked === locked && e.peerId === P.id, { since, what: `bot: roomLock(${locked}) from the page` });
        assert.equal(ev.isSelf, false, 'bot: roomLock isSelf');
      }
    });

    // ---- 6. getConnectionStatus ---------------------------------------------------------------

    s.phase('getConnectionStatus(page) on the bot: stats of the page connection', async () => {
      const B = bot();
      const P = page();
      const result = await B.call('getConnectionStatus', { targetPeerId: P.id });
      assert.ok(result && typeof result === 'object', `getConnectionStatus result: ${JSON.stringify(result)}`);
      assert.deepEqual(result.listOfPeers, [P.id], 'getConnectionStatus listOfPeers');
      const stats = result.connectionStats && result.connectionStats[P.id];
      const dumpStats = () => JSON.stringify(stats, null, 1)?.slice(0, 4000);
      assert.ok(stats && typeof stats === 'object' && !Array.isArray(stats), `connectionStats[page] is not an object: ${JSON.stringify(result).slice(0, 2000)}`);
      for (const k of ['raw', 'connection', 'audio', 'video', 'selectedCandidate', 'certificate']) {
        assert.ok(stats[k] && typeof stats[k] === 'object', `connectionStats[page].${k} missing: ${dumpStats()}`);
      }
      const c = stats.connection;
      assert.ok(['connected', 'completed'].includes(c.iceConnectionState), `connection.iceConnectionState ${c.iceConnectionState}`);
      assert.equal(c.signalingState, 'stable', 'connection.signalingState');
      assert.equal(typeof c.iceGatheringState, 'string', 'connection.iceGatheringState');
      for (const d of ['localDescription', 'remoteDescription']) {
        assert.ok(c[d] && ['offer', 'answer'].includes(c[d].type), `connection.${d}.type: ${JSON.stringify(c[d])?.slice(0, 300)}`);
        assert.match(c[d].sdp, /^v=0\r\n/, `connection.${d}.sdp`);
        assert.match(c[d].sdp, /m=application /, `connection.${d}.sdp has no m=application`);
      }
      assert.ok(c.candidates && typeof c.candidates === 'object' && 'sending' in c.candidates && 'receiving' in c.candidates, `connection.candidates: ${JSON.stringify(c.candidates)}`);
      const channels = Object.values(c.dataChannels || {});
      const main = channels.find((d) => d.channelType === 'messaging');
      assert.ok(main, `connection.dataChannels has no messaging channel: ${JSON.stringify(c.dataChannels)}`);
      assert.equal(main.readyState, 'open', 'messaging channel readyState');
      const sc = stats.selectedCandidate;
      assert.ok(sc.local && typeof sc.local === 'object', `selectedCandidate.local: ${JSON.stringify(sc)}`);
      assert.ok(sc.remote && typeof sc.remote === 'object', `selectedCandidate.remote: ${JSON.stringify(sc)}`);
      // Loopback only; host candidates are reported as "local" (S family mapping, §3.4).
      for (const side of ['local', 'remote']) {
        // webrtc 0.21 keeps no stats report for a peer-reflexive remote candidate (learned from
        // a check before the trickled candidate arrived), so the engine reports `{}` then —
        // documented in crates/room/src/stats.rs. Anything reported must be right.
        if (side === 'remote' && Object.keys(sc.remote).length === 0) continue;
        assert.equal(sc[side].ipAddress, '127.0.0.1', `selectedCandidate.${side}.ipAddress`);
        assert.equal(typeof sc[side].portNumber, 'number', `selectedCandidate.${side}.portNumber`);
        // "prflx" (unchanged by the mapping) when the pair was found from a check before the trickled candidate.
        assert.ok(['local', 'prflx'].includes(sc[side].candidateType), `selectedCandidate.${side}.candidateType: ${JSON.stringify(sc[side])}`);
      }
      assert.equal(main.label, dcLabel(), 'messaging channel label (as in dataChannelState)');
      assert.ok(stats.certificate.local && typeof stats.certificate.local.fingerprint === 'string', `certificate.local.fingerprint: ${JSON.stringify(stats.certificate)}`);
      assert.ok(stats.certificate.remote && typeof stats.certificate.remote.fingerprint === 'string', `certificate.remote.fingerprint: ${JSON.stringify(stats.certificate)}`);
    });

    // ---- 7. refreshConnection -----------------------------------------------------------------

    async function awaitRestarted(initiator, sinceB, sinceP, { iceRestart = false } = {}) {
      const B = bot();
      const P = page();
      const pr = await P.waitForEvent('peerRestart', (args, c) => args[0] === c.peer, { ctx: { peer: B.id }, since: sinceP, what: 'page: peerRestart(bot)' });
      const br = await B.waitForEvent('peerRestart', (e) => e.peerId === P.id, { since: sinceB, what: 'bot: peerRestart(page)' });
      assert.equal(pr.args[2], initiator === 'page', 'page: isSelfInitiateRestart');
      assert.equal(br.isSelfInitiateRestart, initiator === 'bot', 'bot: isSelfInitiateRestart');
      assert.equal(pr.args[3], iceRestart, 'page: peerRestart isIceRestart');
      assert.equal(br.isIceRestart, iceRestart, 'bot: peerRestart isIceRestart');
      // Renegotiated: stable again on both sides, ICE connected.
      await P.waitForEvent('peerConnectionState', (args, c) => args[0] === 'stable' && args[1] === c.peer, { ctx: { peer: B.id }, since: pr.idx, what: 'page: signalingState stable after restart' });
      await B.waitForEvent('peerConnectionState', (e) => e.peerId === P.id && e.state === 'stable', { since: br.idx, what: 'bot: signalingState stable after restart' });
      await P.waitFor(
        (peer) => {
          const pc = window.__sk._peerConnections[peer];
          return !!pc && (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') && pc.signalingState === 'stable';
        },
        B.id,
        { what: 'page: peer connection to the bot ICE connected/completed and stable' },
      );
    }

    function pageRefresh() {
    s.phase('refreshConnection(bot) on the page: peerRestart on both sides, P2P messages still arrive', async () => {
      const B = bot();
      const P = page();
      const sinceB = B.mark();
      const sinceP = await P.mark();
      await P.eval((target) => window.__sk.refreshConnection(target, (error, success) => window.__harness.record('harness:refreshConnection', [error, success])), B.id);
      await awaitRestarted('page', sinceB, sinceP);
      const cb = await P.waitForEvent('harness:refreshConnection', null, { since: sinceP, what: 'page: refreshConnection() callback' });
      assert.ok(!cb.args[0] || cb.args[0].__type === 'undefined', `page: refreshConnection callback error: ${JSON.stringify(cb.args[0]).slice(0, 1000)}`);
      await p2pPageToBot(`${NON_ASCII} p2p page→bot after page refresh`);
      await p2pBotToPage(`${NON_ASCII} p2p bot→page after page refresh`, { targeted: true });
    });

    }

    function botRefresh() {
    s.phase('refreshConnection(page) on the bot: peerRestart on both sides, P2P messages still arrive', async () => {
      const B = bot();
      const P = page();
      const sinceB = B.mark();
      const sinceP = await P.mark();
      const result = await B.call('refreshConnection', { targetPeerId: P.id });
      assert.deepEqual(result.listOfPeers, [P.id], 'bot: refreshConnection listOfPeers');
      assert.ok(result.refreshSettings && P.id in result.refreshSettings, `bot: refreshConnection refreshSettings: ${JSON.stringify(result)}`);
      await awaitRestarted('bot', sinceB, sinceP);
      await p2pPageToBot(`${NON_ASCII} p2p page→bot after bot refresh`);
      await p2pBotToPage(`${NON_ASCII} p2p bot→page after bot refresh`, { targeted: true });
    });

    }

    pageRefresh();
    botRefresh();

    s.phase('refreshConnection(page, iceRestart true) on the bot: ICE restart, P2P messages still arrive', async () => {
      const B = bot();
      const P = page();
      const sinceB = B.mark();
      const sinceP = await P.mark();
      const result = await B.call('refreshConnection', { targetPeerId: P.id, iceRestart: true });
      assert.deepEqual(result.listOfPeers, [P.id], 'bot: refreshConnection listOfPeers');
      // The page's peerInfo.config.enableIceRestart is true, so the ICE restart is done.
      assert.deepEqual(result.refreshSettings, { [P.id]: { iceRestart: true } }, 'bot: refreshConnection refreshSettings');
      await awaitRestarted('bot', sinceB, sinceP, { iceRestart: true });
      await p2pPageToBot(`${NON_ASCII} p2p page→bot after ICE restart`);
      await p2pBotToPage(`${NON_ASCII} p2p bot→page after ICE restart`, { targeted: true });
    });

    // ---- 8. leaving ---------------------------------------------------------------------------

    if (botOffers) {
      s.phase('bot leaveRoom: page gets peerLeft(bot), the bot replies and exits 0', async () => {
        const B = bot();
        const P = page();
        const since = await P.mark();
        const result = await B.call('leaveRoom');
        assert.equal(result.peerId, B.id, 'leaveRoom result.peerId');
        assert.equal(result.previousRoom, s.room, 'leaveRoom result.previousRoom');
        await P.waitForEvent('peerLeft', (args, c) => args[0] === c.peer, { ctx: { peer: B.id }, since, what: 'page: peerLeft(bot)' });
        const exit = await B.waitExit();
        assert.deepEqual(exit, { code: 0, signal: null }, 'bot exit status');
        assert.ok(B.events().some((e) => e.event === 'peerLeft' && e.isSelf === true), 'bot: own peerLeft before exit');
      });
    } else {
      s.phase('page leaveRoom: bot gets peerLeft(page); then bot leaveRoom exits 0', async () => {
        const B = bot();
        const P = page();
        const since = B.mark();
        await P.eval(() => window.__sk.leaveRoom());
        const ev = await B.waitForEvent('peerLeft', (e) => e.peerId === P.id, { since, what: 'bot: peerLeft(page)' });
        assert.equal(ev.isSelf, false, 'bot: peerLeft isSelf');
        const result = await B.call('leaveRoom');
        assert.equal(result.peerId, B.id, 'leaveRoom result.peerId');
        const exit = await B.waitExit();
        assert.deepEqual(exit, { code: 0, signal: null }, 'bot exit status');
      });
    }

    s.phase('bot stdout: every line was a JSON object (protocol)', async () => {
      assert.deepEqual(bot().violations, [], 'bot stdout protocol violations');
    });
  });
}

botScenario('answerer');
botScenario('offerer');
