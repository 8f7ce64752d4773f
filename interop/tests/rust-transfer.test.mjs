// Data transfers and data streams between the Rust peer (`skylink join --json`, lib/bot.mjs) and a
// real skylinkjs 0.6.26 page in one room, both directions (spec: spec/data-transfer.md §3, §5, §6).
//
// The Rust peer announces DTProtocolVersion "0.1.3" (docs/architecture.md), so 0.6.26 treats it as
// a current peer: per-transfer DATA channels both ways, string (sendURLData) transfers both ways,
// streams both ways. Payloads are the harness pattern (byte i = i % 251); the receiver checks
// SHA-256 (bot → page: the Blob hashed in the page; page → bot: the file the bot saved with
// --download-dir, hashed in Node).
//
// What 0.6.26 cannot do, and how the phases reflect it:
// * String data streams FROM the page carry no data: 0.6.26's `streamData(streamId, chunk)` first
//   requires `chunk` to be a Blob or ArrayBuffer and then, for a string stream, a string — no
//   value passes both checks (spec §5.6, Q13). The page → bot string-stream phase therefore only
//   starts and stops the stream and asserts that the page refused the chunk and the bot saw no
//   data. (String streams bot → page work: 0.6.26 receives them.) The page's binary stream chunks
//   are Blobs: an ArrayBuffer chunk makes 0.6.26 throw (`new Blob(arrayBuffer)`).
// * 0.6.26 arms no transfer timer while the request waits for the user's answer (nor between
//   ACK 0 and chunk 0, spec §3.8, Q19): "the receiver never answers and the sender's timeout is
//   small" does NOT time out in the reference. The request-phase timeout phases assert exactly
//   that (nothing terminal on either side after timeout + 3 s), then end the request by a reject.
//   A real timeout needs a peer that stops answering mid-transfer: the page drops its own outgoing
//   ACKs (page downloading) or the bot's incoming ACKs (page uploading) from ACK 2 on, with a
//   frame filter on RTCDataChannel (lib/transfer.mjs; the SDK code is untouched), and the sender's
//   timeout is 2 s.
// * 0.6.26 cannot process a received ERROR frame (Q2, "peerID is not defined"): when the bot's
//   upload times out, the page downloader ends in `error` through its channel watcher ("… closed
//   abruptly.") or through its own timer (timeout text), whichever comes first; both are `error`.
// * A page downloader's `incomingData` has isSelf `null` (Q15); timeout `error`s of 0.6.26 say
//   transferType "download" even on the uploader (Q4); neither is asserted on the Rust side.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, before, after } from 'node:test';
import { Suite, WAIT_MS } from '../lib/harness.mjs';
import { Bot } from '../lib/bot.mjs';
import {
  botErrorMessage,
  pageBase64,
  pageDigest,
  pageDroppedFrames,
  pageErrorMessage,
  pageSendPatternBlob,
  pageSendURLData,
  patternBuffer,
  setPageFrameFilter,
  sha256,
  sha256File,
  writePatternFile,
} from '../lib/transfer.mjs';

const KB10 = 10 * 1024;
const MB1 = 1024 * 1024;
const MB64 = 64 * 1024 * 1024;
/** Upper bound of one 64 MB transfer (ms). */
const BIG_MS = Number(process.env.SKYLINK_INTEROP_BIG_MS || 180000);
const TIMEOUT_TEXT_2S = /^Connection Timeout\. Longer than 2 seconds\. Connection is abolished\.$/;
const TERMINAL = ['uploadCompleted', 'downloadCompleted', 'rejected', 'userRejected', 'cancel', 'error'];

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A data URL (ASCII only, no `{`/`}`: 0.6.26 misreads such string chunks, spec §2.1) of ~len chars. */
function dataUrl(len, seed) {
  const bytes = Buffer.alloc(Math.ceil((len * 3) / 4));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + seed) % 256;
  return `data:application/octet-stream;base64,${bytes.toString('base64')}`;
}

describe('rust bot ↔ skylinkjs 0.6.26 page: data transfers and streams', () => {
  const s = new Suite('rust transfer');
  let tmp = null;
  let downloads = null;
  const timings = {};
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skylink-transfer-'));
    downloads = path.join(tmp, 'downloads');
    fs.mkdirSync(downloads);
    await s.setup();
  }, { timeout: 3 * WAIT_MS });
  after(async () => {
    await s.teardown();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`# transfer timings (ms): ${JSON.stringify(timings)}`);
  }, { timeout: 3 * WAIT_MS });

  const bot = () => s.peer('bot');
  const page = () => s.peer('page');

  // ---- helpers ------------------------------------------------------------------------------

  /** Bot events `dataTransferState` for `tid` since `since`. */
  function botStates(since, tid) {
    return bot().events(since).filter((e) => e.event === 'dataTransferState' && e.transferId === tid);
  }

  async function pageStates(since, tid) {
    const evs = await page().events();
    return evs.slice(since).filter((e) => e.event === 'dataTransferState' && e.args[1] === tid);
  }

  /** Starts a bot command without awaiting it (its reply may come much later); never unhandled. */
  function startCommand(cmd, params, timeout) {
    const p = bot().command(cmd, params, { timeout });
    p.catch(() => {});
    return p;
  }

  /** Bot `sendBlobData` of a pattern file to the page; resolves with the page's incomingDataRequest. */
  async function botOffersBlob({ size, name, timeout = 60, replyTimeout = WAIT_MS }) {
    const B = bot();
    const P = page();
    const f = writePatternFile(tmp, name, size);
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const t0 = Date.now();
    const cmd = startCommand('sendBlobData', { path: f.file, name, timeout, targetPeerId: P.id }, replyTimeout);
    const req = await P.waitForEvent('incomingDataRequest', (a, c) => a[1] === c.peer && a[3] === false, {
      ctx: { peer: B.id },
      since: sinceP,
      what: `page: incomingDataRequest from the bot (${name})`,
    });
    const tid = req.args[0];
    const info = req.args[2];
    assert.equal(info.name, name, 'page: transferInfo.name');
    assert.equal(info.size, size, 'page: transferInfo.size');
    assert.equal(info.dataType, 'blob', 'page: transferInfo.dataType');
    assert.equal(info.direction, 'download', 'page: transferInfo.direction');
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'request' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: dataTransferState request' });
    // The bot's own request events name the same transfer id (DATA channel label = transfer id).
    const own = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'userRequest', { since: sinceB, what: `bot: dataTransferState userRequest for ${tid}` });
    assert.equal(own.peerId, P.id, 'bot: userRequest peerId');
    return { f, tid, cmd, sinceP, sinceB, t0 };
  }

  /** Bot → page blob accepted by the page and checked byte-exact (SHA-256 of the Blob in the page). */
  async function botToPageBlob(t, { size, name, waitMs = 3 * WAIT_MS }) {
    const B = bot();
    const P = page();
    const { f, tid, cmd, sinceP, sinceB, t0 } = await botOffersBlob({ size, name, replyTimeout: waitMs });
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, true), { peer: B.id, tid });
    const got = await P.waitForEvent('incomingData', (a, c) => a[1] === c.tid && a[2] === c.peer && a[4] !== true, {
      ctx: { tid, peer: B.id },
      since: sinceP,
      timeout: waitMs,
      what: `page: incomingData for ${tid}`,
    });
    const ms = Date.now() - t0;
    const d = await pageDigest(P, got.idx, 0);
    assert.ok(d.ok, `page: incomingData payload: ${d.reason}`);
    assert.equal(d.size, size, 'page: received size');
    assert.equal(d.sha256, f.sha256, 'page: SHA-256 of the received Blob');
    const done = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'downloadCompleted' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: downloadCompleted' });
    assert.equal(done.args[3].percentage, 100, 'page: downloadCompleted percentage');
    const { reply } = await cmd;
    assert.equal(reply.ok, true, `bot: sendBlobData reply: ${JSON.stringify(reply).slice(0, 1000)}`);
    assert.equal(reply.result.transferId, tid, 'bot: sendBlobData result.transferId');
    assert.deepEqual(reply.result.listOfPeers, [P.id], 'bot: sendBlobData result.listOfPeers');
    const states = botStates(sinceB, tid).map((e) => e.state);
    for (const st of ['userRequest', 'uploadStarted', 'uploadCompleted']) assert.ok(states.includes(st), `bot: no ${st} for ${tid}: ${states.join(',')}`);
    assert.ok(!states.some((st) => ['error', 'cancel', 'rejected'].includes(st)), `bot: unexpected states ${states.join(',')}`);
    const pstates = (await pageStates(sinceP, tid)).map((e) => e.args[0]);
    assert.ok(!pstates.some((st) => ['error', 'cancel'].includes(st)), `page: unexpected states ${pstates.join(',')}`);
    t.diagnostic(`bot → page ${size} bytes: ${ms} ms`);
    timings[`bot→page ${name}`] = ms;
  }

  /** Page `sendBlobData` of a pattern File to the bot; resolves with the bot's incomingDataRequest. */
  async function pageOffersBlob({ size, name, timeout = 60, binary = false }) {
    const B = bot();
    const P = page();
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const t0 = Date.now();
    await pageSendPatternBlob(P, { size, name, timeout, target: B.id, binary });
    const req = await B.waitForEvent('incomingDataRequest', (e) => e.peerId === P.id && e.isSelf === false && e.transferInfo && e.transferInfo.name === name, {
      since: sinceB,
      what: `bot: incomingDataRequest from the page (${name})`,
    });
    const tid = req.transferId;
    assert.equal(req.transferInfo.size, size, 'bot: transferInfo.size');
    assert.equal(req.transferInfo.dataType, 'blob', 'bot: transferInfo.dataType');
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'userRequest' && a[1] === c.tid && a[2] === c.peer, { ctx: { tid, peer: B.id }, since: sinceP, what: 'page: userRequest (same transfer id as the bot saw)' });
    return { tid, sinceP, sinceB, t0 };
  }

  /** Page → bot blob accepted by the bot, saved with --download-dir and hashed in Node. */
  async function pageToBotBlob(t, { size, name, binary = false, waitMs = 3 * WAIT_MS }) {
    const B = bot();
    const P = page();
    const { tid, sinceP, sinceB, t0 } = await pageOffersBlob({ size, name, binary });
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: true });
    const got = await B.waitForEvent('incomingData', (e) => e.transferId === tid && e.peerId === P.id, { since: sinceB, timeout: waitMs, what: `bot: incomingData for ${tid}` });
    const ms = Date.now() - t0;
    assert.notEqual(got.isSelf, true, 'bot: incomingData isSelf');
    assert.equal(typeof got.savedPath, 'string', `bot: incomingData without savedPath: ${JSON.stringify(got).slice(0, 500)}`);
    assert.ok(path.resolve(got.savedPath).startsWith(path.resolve(downloads) + path.sep), `bot: file not saved in --download-dir: ${got.savedPath}`);
    const h = await sha256File(got.savedPath);
    assert.equal(h.size, size, 'bot: saved file size');
    assert.equal(h.sha256, sha256(patternBuffer(size)), 'bot: SHA-256 of the saved file');
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'downloadCompleted', { since: sinceB, what: 'bot: downloadCompleted' });
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'uploadCompleted' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: uploadCompleted' });
    const cb = await P.waitForEvent('harness:sendBlobData', (a, c) => a[2] === c.name, { ctx: { name }, since: sinceP, what: 'page: sendBlobData callback' });
    assert.ok(!cb.args[0] || cb.args[0].__type === 'undefined', `page: sendBlobData callback error: ${JSON.stringify(cb.args[0]).slice(0, 1000)}`);
    assert.deepEqual(cb.args[1].listOfPeers, [B.id], 'page: callback listOfPeers');
    const states = botStates(sinceB, tid).map((e) => e.state);
    assert.ok(states.includes('downloadStarted'), `bot: no downloadStarted: ${states.join(',')}`);
    assert.ok(!states.some((st) => ['error', 'cancel'].includes(st)), `bot: unexpected states ${states.join(',')}`);
    fs.rmSync(got.savedPath, { force: true });
    t.diagnostic(`page → bot ${size} bytes${binary ? ' (binary chunks)' : ''}: ${ms} ms`);
    timings[`page→bot ${name}`] = ms;
  }

  // ---- 1. join ------------------------------------------------------------------------------

  s.phase('join: the bot (--download-dir) first, then the page; messaging data channel open on both sides', async () => {
    const b = Bot.spawn(s.server, s.room, { name: 'bot', userData: { name: 'rust transfer bot' }, extraArgs: ['--download-dir', downloads] });
    s.peers.set('bot', b);
    await b.ready();
    const p = await s.openPeer('page', 'websocket');
    const { error, success } = await p.initAndJoin(s.server, s.room, { audio: false, video: false, userData: { name: 'transfer page' } });
    assert.equal(error, null, `page: joinRoom() failed: ${JSON.stringify(error)?.slice(0, 2000)}`);
    assert.ok(success && success.peerId);
    const pj = await p.waitForEvent('peerJoined', (a, c) => a[0] === c.peer && a[2] === false, { ctx: { peer: b.id }, what: 'page: peerJoined(bot)' });
    assert.equal(pj.args[1].agent.DTProtocolVersion, '0.1.3', 'page: the bot announces DT 0.1.3');
    await p.waitForEvent('dataChannelState', (a, c) => a[0] === 'open' && a[1] === c.peer && a[4] === 'messaging', { ctx: { peer: b.id }, what: 'page: messaging channel open with the bot' });
    await b.waitForEvent('dataChannelState', (e) => e.peerId === p.id && e.state === 'open', { what: 'bot: dataChannelState open with the page' });
  }, { critical: true });

  // ---- 2. byte-exact blobs ------------------------------------------------------------------

  s.phase('sendBlobData 10 kB bot → page: accepted, SHA-256 equal', async (t) => {
    await botToPageBlob(t, { size: KB10, name: 'bot-10k.bin' });
  });

  s.phase('sendBlobData 10 kB page → bot: accepted, saved file SHA-256 equal', async (t) => {
    await pageToBotBlob(t, { size: KB10, name: 'page-10k.bin' });
  });

  s.phase('sendBlobData 1 MB bot → page: accepted, SHA-256 equal', async (t) => {
    await botToPageBlob(t, { size: MB1, name: 'bot-1m.bin' });
  });

  s.phase('sendBlobData 1 MB page → bot (base64 chunks): saved file SHA-256 equal', async (t) => {
    await pageToBotBlob(t, { size: MB1, name: 'page-1m.bin' });
  });

  s.phase('sendBlobData 1 MB page → bot with sendChunksAsBinary (binary chunks, bot is DT 0.1.3): SHA-256 equal', async (t) => {
    await pageToBotBlob(t, { size: MB1, name: 'page-1m-binary.bin', binary: true });
  });

  s.phase('sendBlobData 64 MB bot → page: SHA-256 equal (bounded)', async (t) => {
    await botToPageBlob(t, { size: MB64, name: 'bot-64m.bin', waitMs: BIG_MS });
  }, { timeout: BIG_MS + 3 * WAIT_MS });

  s.phase('sendBlobData 64 MB page → bot: saved file SHA-256 equal (bounded)', async (t) => {
    await pageToBotBlob(t, { size: MB64, name: 'page-64m.bin', waitMs: BIG_MS });
  }, { timeout: BIG_MS + 3 * WAIT_MS });

  // ---- 3. sendURLData -----------------------------------------------------------------------

  s.phase('sendURLData bot → page: string transfer (dataType dataURL) arrives unchanged', async () => {
    const B = bot();
    const P = page();
    const url = dataUrl(5000, 1); // > 4 string chunks of 1212
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const cmd = startCommand('sendURLData', { data: url, timeout: 60, targetPeerId: P.id }, 3 * WAIT_MS);
    const req = await P.waitForEvent('incomingDataRequest', (a, c) => a[1] === c.peer && a[3] === false, { ctx: { peer: B.id }, since: sinceP, what: 'page: incomingDataRequest (sendURLData)' });
    const tid = req.args[0];
    assert.equal(req.args[2].dataType, 'dataURL', 'page: transferInfo.dataType');
    assert.equal(req.args[2].size, url.length, 'page: transferInfo.size (UTF-16 length)');
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, true), { peer: B.id, tid });
    const got = await P.waitForEvent('incomingData', (a, c) => a[1] === c.tid && a[4] !== true, { ctx: { tid }, since: sinceP, what: 'page: incomingData (string)' });
    assert.equal(typeof got.args[0], 'string', 'page: incomingData data is a string');
    assert.equal(got.args[0], url, 'page: received string');
    const { reply } = await cmd;
    assert.equal(reply.ok, true, `bot: sendURLData reply: ${JSON.stringify(reply).slice(0, 1000)}`);
    assert.equal(reply.result.transferId, tid, 'bot: sendURLData result.transferId');
    assert.ok(botStates(sinceB, tid).some((e) => e.state === 'uploadCompleted'), 'bot: uploadCompleted');
  });

  s.phase('sendURLData page → bot: string transfer arrives unchanged', async () => {
    const B = bot();
    const P = page();
    const url = dataUrl(5000, 2);
    const sinceP = await P.mark();
    const sinceB = B.mark();
    await pageSendURLData(P, { data: url, timeout: 60, target: B.id, tag: 'url-page' });
    const req = await B.waitForEvent('incomingDataRequest', (e) => e.peerId === P.id && e.isSelf === false, { since: sinceB, what: 'bot: incomingDataRequest (sendURLData)' });
    const tid = req.transferId;
    assert.equal(req.transferInfo.dataType, 'dataURL', 'bot: transferInfo.dataType');
    assert.equal(req.transferInfo.size, url.length, 'bot: transferInfo.size');
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: true });
    const got = await B.waitForEvent('incomingData', (e) => e.transferId === tid, { since: sinceB, what: 'bot: incomingData (string)' });
    const data = typeof got.data === 'string' ? got.data : got.savedPath ? fs.readFileSync(got.savedPath, 'utf8') : undefined;
    assert.equal(data, url, `bot: received string (line: ${JSON.stringify(got).slice(0, 300)})`);
    const cb = await P.waitForEvent('harness:sendURLData', (a) => a[2] === 'url-page', { since: sinceP, what: 'page: sendURLData callback' });
    assert.ok(!cb.args[0] || cb.args[0].__type === 'undefined', `page: sendURLData callback error: ${JSON.stringify(cb.args[0]).slice(0, 1000)}`);
    if (got.savedPath) fs.rmSync(got.savedPath, { force: true });
  });

  // ---- 4. accept / reject -------------------------------------------------------------------

  s.phase('page rejects the bot\'s request: page userRejected, bot rejected and sendBlobData fails', async () => {
    const B = bot();
    const P = page();
    const { tid, cmd, sinceP, sinceB } = await botOffersBlob({ size: KB10, name: 'bot-rejected.bin' });
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, false), { peer: B.id, tid });
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'userRejected' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: userRejected' });
    const rej = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'rejected', { since: sinceB, what: 'bot: rejected' });
    assert.equal(rej.peerId, P.id);
    const { reply } = await cmd;
    assert.equal(reply.ok, false, `bot: sendBlobData must fail after a rejection: ${JSON.stringify(reply).slice(0, 500)}`);
    assert.ok(!bot().events(sinceB).some((e) => e.event === 'dataTransferState' && e.transferId === tid && ['uploadStarted', 'uploadCompleted'].includes(e.state)), 'bot: no upload after a rejection');
  });

  s.phase('bot rejects the page\'s request: bot userRejected, page rejected and its callback fails', async () => {
    const B = bot();
    const P = page();
    const { tid, sinceP, sinceB } = await pageOffersBlob({ size: KB10, name: 'page-rejected.bin' });
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: false });
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'userRejected', { since: sinceB, what: 'bot: userRejected' });
    const rej = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'rejected' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: rejected' });
    assert.match(pageErrorMessage(rej.args[4]), /rejected data transfer request/, 'page: rejected message');
    const cb = await P.waitForEvent('harness:sendBlobData', (a) => a[2] === 'page-rejected.bin', { since: sinceP, what: 'page: sendBlobData callback' });
    assert.ok(cb.args[0] && cb.args[0].transferErrors && cb.args[0].transferErrors[B.id], `page: callback must carry a transfer error for the bot: ${JSON.stringify(cb.args).slice(0, 1000)}`);
    assert.ok(!B.events(sinceB).some((e) => e.event === 'incomingData' && e.transferId === tid), 'bot: no incomingData after rejecting');
  });

  // ---- 5. cancel mid-way --------------------------------------------------------------------

  const CANCEL_SIZE = 16 * MB1;

  s.phase('bot cancels its own upload mid-way: cancel on both sides, no incomingData on the page', async () => {
    const B = bot();
    const P = page();
    const { tid, cmd, sinceP, sinceB } = await botOffersBlob({ size: CANCEL_SIZE, name: 'bot-cancel-up.bin', replyTimeout: 3 * WAIT_MS });
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, true), { peer: B.id, tid });
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'uploading' && e.transferInfo && e.transferInfo.percentage > 0, { since: sinceB, what: 'bot: uploading with progress' });
    const cancel = startCommand('cancelDataTransfer', { peerId: P.id, transferId: tid }, WAIT_MS);
    const own = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'cancel', { since: sinceB, what: 'bot: own cancel' });
    assert.equal(own.peerId, P.id);
    const pc = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'cancel' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: cancel (peer cancelled)' });
    assert.equal(pageErrorMessage(pc.args[4]), 'Peer cancelled download transfer', 'page: cancel message (CANCEL content)');
    assert.equal(pc.args[4].transferType, 'download', 'page: cancel transferType');
    const { reply: cr } = await cancel;
    assert.equal(cr.ok, true, `bot: cancelDataTransfer reply: ${JSON.stringify(cr)}`);
    const { reply } = await cmd;
    assert.equal(reply.ok, false, `bot: sendBlobData must fail after a cancel: ${JSON.stringify(reply).slice(0, 500)}`);
    const evs = await P.events();
    assert.ok(!evs.slice(sinceP).some((e) => e.event === 'incomingData' && e.args[1] === tid), 'page: no incomingData after the cancel');
    assert.ok(!botStates(sinceB, tid).some((e) => e.state === 'uploadCompleted'), 'bot: no uploadCompleted after the cancel');
  });

  s.phase('page cancels its download (bot → page) mid-way: cancel on both sides, sendBlobData fails', async () => {
    const B = bot();
    const P = page();
    const { tid, cmd, sinceP, sinceB } = await botOffersBlob({ size: CANCEL_SIZE, name: 'bot-cancel-down.bin', replyTimeout: 3 * WAIT_MS });
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, true), { peer: B.id, tid });
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'downloading' && a[1] === c.tid && a[3].percentage > 0, { ctx: { tid }, since: sinceP, what: 'page: downloading with progress' });
    await P.eval(({ peer, tid }) => window.__sk.cancelDataTransfer(peer, tid), { peer: B.id, tid });
    const own = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'cancel' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: own cancel' });
    assert.equal(pageErrorMessage(own.args[4]), 'User cancelled download transfer', 'page: own cancel message');
    const bc = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'cancel', { since: sinceB, what: 'bot: cancel (peer cancelled)' });
    assert.equal(bc.peerId, P.id);
    assert.equal(botErrorMessage(bc.error), 'Peer cancelled download transfer', `bot: cancel message: ${JSON.stringify(bc.error)}`);
    const { reply } = await cmd;
    assert.equal(reply.ok, false, `bot: sendBlobData must fail after the page cancelled: ${JSON.stringify(reply).slice(0, 500)}`);
    assert.ok(!botStates(sinceB, tid).some((e) => e.state === 'uploadCompleted'), 'bot: no uploadCompleted after the cancel');
  });

  s.phase('page cancels its upload (page → bot) mid-way: cancel on both sides, no incomingData on the bot', async () => {
    const B = bot();
    const P = page();
    const { tid, sinceP, sinceB } = await pageOffersBlob({ size: CANCEL_SIZE, name: 'page-cancel-up.bin' });
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: true });
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'uploading' && a[1] === c.tid && a[3].percentage > 0, { ctx: { tid }, since: sinceP, what: 'page: uploading with progress' });
    await P.eval(({ peer, tid }) => window.__sk.cancelDataTransfer(peer, tid), { peer: B.id, tid });
    const own = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'cancel' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: own cancel' });
    assert.equal(pageErrorMessage(own.args[4]), 'User cancelled download transfer', 'page: own cancel message (0.6.26 text)');
    const bc = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'cancel', { since: sinceB, what: 'bot: cancel (peer cancelled)' });
    assert.equal(botErrorMessage(bc.error), 'Peer cancelled download transfer', `bot: cancel message: ${JSON.stringify(bc.error)}`);
    await sleep(500);
    assert.ok(!B.events(sinceB).some((e) => e.event === 'incomingData' && e.transferId === tid), 'bot: no incomingData after the cancel');
    assert.ok(!botStates(sinceB, tid).some((e) => e.state === 'downloadCompleted' || e.state === 'error'), 'bot: no downloadCompleted/error after the cancel');
  });

  s.phase('bot cancels its download (page → bot) mid-way: cancel on both sides, page callback fails', async () => {
    const B = bot();
    const P = page();
    const { tid, sinceP, sinceB } = await pageOffersBlob({ size: CANCEL_SIZE, name: 'page-cancel-down.bin' });
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: true });
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'downloading' && e.transferInfo && e.transferInfo.percentage > 0, { since: sinceB, what: 'bot: downloading with progress' });
    await B.call('cancelDataTransfer', { peerId: P.id, transferId: tid });
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'cancel', { since: sinceB, what: 'bot: own cancel' });
    const pc = await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'cancel' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: cancel (peer cancelled)' });
    assert.equal(pageErrorMessage(pc.args[4]), 'Peer cancelled download transfer', 'page: cancel message (CANCEL content)');
    assert.equal(pc.args[4].transferType, 'upload', 'page: cancel transferType');
    const cb = await P.waitForEvent('harness:sendBlobData', (a) => a[2] === 'page-cancel-down.bin', { since: sinceP, what: 'page: sendBlobData callback' });
    assert.ok(cb.args[0] && cb.args[0].transferErrors && cb.args[0].transferErrors[B.id], `page: callback must carry a transfer error: ${JSON.stringify(cb.args).slice(0, 1000)}`);
    assert.ok(!B.events(sinceB).some((e) => e.event === 'incomingData' && e.transferId === tid), 'bot: no incomingData after the cancel');
  });

  // ---- 6. streams ---------------------------------------------------------------------------

  const STREAM_SIZES = [1000, 65456, 17];

  s.phase('binary data stream bot → page: started, 3 chunks byte-exact in order, stopped', async () => {
    const B = bot();
    const P = page();
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const { streamId } = await B.call('startStreamingData', { isStringStream: false, targetPeerId: P.id });
    assert.equal(typeof streamId, 'string', 'bot: startStreamingData result.streamId');
    const st = await P.waitForEvent('incomingDataStreamStarted', (a, c) => a[0] === c.id && a[1] === c.peer && a[3] === false, { ctx: { id: streamId, peer: B.id }, since: sinceP, what: 'page: incomingDataStreamStarted' });
    assert.equal(st.args[2].isStringStream, false, 'page: streamInfo.isStringStream');
    const chunks = STREAM_SIZES.map((n, k) => patternBuffer(n + k).subarray(k));
    for (const c of chunks) await B.call('streamData', { streamId, data: { base64: c.toString('base64') } });
    for (let k = 0; k < chunks.length; k++) {
      await P.waitFor((c) => window.__harness.events.slice(c.since).filter((e) => e.event === 'incomingDataStream' && e.args[1] === c.id).length > c.k, { since: sinceP, id: streamId, k }, { what: `page: incomingDataStream chunk ${k}` });
    }
    const evs = (await P.events()).slice(sinceP).filter((e) => e.event === 'incomingDataStream' && e.args[1] === streamId);
    assert.equal(evs.length, chunks.length, 'page: number of stream chunks');
    for (let k = 0; k < chunks.length; k++) {
      const got = await pageBase64(P, evs[k].idx, 0);
      assert.ok(got.ok, `page: chunk ${k}: ${got.reason}`);
      assert.equal(got.base64, chunks[k].toString('base64'), `page: chunk ${k} bytes (size ${got.size} vs ${chunks[k].length})`);
      assert.equal(evs[k].args[2], B.id, 'page: incomingDataStream peerId');
      assert.equal(evs[k].args[4], false, 'page: incomingDataStream isSelf');
    }
    await B.call('stopStreamingData', { streamId });
    await P.waitForEvent('incomingDataStreamStopped', (a, c) => a[0] === c.id && a[1] === c.peer, { ctx: { id: streamId, peer: B.id }, since: sinceP, what: 'page: incomingDataStreamStopped' });
    const own = B.events(sinceB).filter((e) => e.event === 'incomingDataStreamStarted' || e.event === 'incomingDataStreamStopped').map((e) => `${e.event}:${e.isSelf}`);
    assert.deepEqual(own, ['incomingDataStreamStarted:true', 'incomingDataStreamStopped:true'], 'bot: own stream start/stop events');
    for (const e of B.events(sinceB).filter((x) => x.event === 'incomingDataStreamStarted' || x.event === 'incomingDataStreamStopped')) assertStreamInfo(e, false, B.id);
  });

  s.phase('string data stream bot → page: started, 3 string chunks unchanged in order, stopped', async () => {
    const B = bot();
    const P = page();
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const { streamId } = await B.call('startStreamingData', { isStringStream: true, targetPeerId: P.id });
    const st = await P.waitForEvent('incomingDataStreamStarted', (a, c) => a[0] === c.id && a[1] === c.peer, { ctx: { id: streamId, peer: B.id }, since: sinceP, what: 'page: incomingDataStreamStarted (string)' });
    assert.equal(st.args[2].isStringStream, true, 'page: streamInfo.isStringStream');
    const chunks = ['héllo ✓ 日本 chunk one', 'x'.repeat(1212), 'chunk three: plain text'];
    for (const c of chunks) await B.call('streamData', { streamId, data: c });
    await P.waitFor((c) => window.__harness.events.slice(c.since).filter((e) => e.event === 'incomingDataStream' && e.args[1] === c.id).length >= c.n, { since: sinceP, id: streamId, n: chunks.length }, { what: 'page: 3 incomingDataStream string chunks' });
    const got = (await P.events()).slice(sinceP).filter((e) => e.event === 'incomingDataStream' && e.args[1] === streamId).map((e) => e.args[0]);
    assert.deepEqual(got, chunks, 'page: string stream chunks');
    await B.call('stopStreamingData', { streamId });
    await P.waitForEvent('incomingDataStreamStopped', (a, c) => a[0] === c.id, { ctx: { id: streamId }, since: sinceP, what: 'page: incomingDataStreamStopped (string)' });
    for (const e of B.events(sinceB).filter((x) => (x.event === 'incomingDataStreamStarted' || x.event === 'incomingDataStreamStopped') && x.streamId === streamId)) assertStreamInfo(e, true, B.id);
  });

  /** Bot incomingDataStreamStarted/Stopped line carries the reference's streamInfo. */
  function assertStreamInfo(ev, isString, sender) {
    assert.ok(ev, 'bot: stream event missing');
    assert.ok(ev.streamInfo && typeof ev.streamInfo === 'object', `bot: ${ev.event} has no streamInfo (reference payload: streamId, peerId, streamInfo, isSelf): ${JSON.stringify(ev).slice(0, 400)}`);
    assert.equal(ev.streamInfo.isStringStream, isString, `bot: ${ev.event} streamInfo.isStringStream`);
    assert.equal(ev.streamInfo.senderPeerId, sender, `bot: ${ev.event} streamInfo.senderPeerId`);
  }

  /** Page starts a stream to the bot; returns the stream id (after the page's sendStart). */
  async function pageStartsStream(isString, sinceP) {
    const B = bot();
    const P = page();
    await P.eval(({ isString, target }) => window.__sk.startStreamingData(isString, target), { isString, target: B.id });
    const st = await P.waitForEvent('dataStreamState', (a, c) => (a[0] === 'sendStart' || a[0] === 'startError') && a[2] === c.peer, { ctx: { peer: B.id }, since: sinceP, what: 'page: dataStreamState sendStart' });
    assert.equal(st.args[0], 'sendStart', `page: startStreamingData failed: ${JSON.stringify(st.args).slice(0, 800)}`);
    return st.args[1];
  }

  s.phase('binary data stream page → bot: started, 3 Blob chunks byte-exact in order, stopped', async () => {
    const B = bot();
    const P = page();
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const streamId = await pageStartsStream(false, sinceP);
    const bs = await B.waitForEvent('incomingDataStreamStarted', (e) => e.streamId === streamId && e.peerId === P.id, { since: sinceB, what: 'bot: incomingDataStreamStarted' });
    assert.equal(bs.isSelf, false, 'bot: incomingDataStreamStarted isSelf');
    const chunks = STREAM_SIZES.map((n, k) => patternBuffer(n + k + 3).subarray(k + 3));
    for (let k = 0; k < chunks.length; k++) {
      const since = await P.mark();
      await P.eval(({ id, b64 }) => {
        const bin = atob(b64);
        const u8 = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
        window.__sk.streamData(id, new Blob([u8]));
      }, { id: streamId, b64: chunks[k].toString('base64') });
      await P.waitForEvent('dataStreamState', (a, c) => a[0] === 'sent' && a[1] === c.id, { ctx: { id: streamId }, since, what: `page: dataStreamState sent (chunk ${k})` });
    }
    const botChunks = () => B.events(sinceB).filter((e) => e.event === 'incomingDataStream' && e.streamId === streamId);
    await B.waitForLine(() => botChunks().length >= chunks.length, { since: sinceB, what: `${chunks.length} incomingDataStream lines for ${streamId}` });
    const got = botChunks();
    for (let k = 0; k < chunks.length; k++) {
      const c = got[k].chunk;
      const b64 = c && typeof c === 'object' ? c.base64 : null;
      assert.equal(b64, chunks[k].toString('base64'), `bot: chunk ${k} bytes (chunk ${JSON.stringify(c).slice(0, 200)})`);
      if (c && typeof c.size === 'number') assert.equal(c.size, chunks[k].length, `bot: chunk ${k} size`);
      assert.equal(got[k].peerId, P.id, 'bot: incomingDataStream peerId');
      assert.equal(got[k].isSelf, false, 'bot: incomingDataStream isSelf');
    }
    await P.eval((id) => window.__sk.stopStreamingData(id), streamId);
    await B.waitForEvent('incomingDataStreamStopped', (e) => e.streamId === streamId && e.peerId === P.id, { since: sinceB, what: 'bot: incomingDataStreamStopped' });
    const n = B.events(sinceB).filter((e) => e.event === 'incomingDataStream' && e.streamId === streamId).length;
    assert.equal(n, chunks.length, 'bot: number of stream chunks');
    // Payload shape last (the data checks above are independent of it): the reference's
    // incomingDataStreamStarted/Stopped carry streamInfo (0.6.26: {chunkSize, chunkType, isPrivate,
    // isStringStream, senderPeerId}), not peerInfo.
    assertStreamInfo(bs, false, P.id);
    assertStreamInfo(B.events(sinceB).find((e) => e.event === 'incomingDataStreamStopped' && e.streamId === streamId), false, P.id);
  });

  s.phase('string data stream page → bot: 0.6.26 refuses every string chunk; the bot sees start and stop, no data', async () => {
    const B = bot();
    const P = page();
    const sinceP = await P.mark();
    const sinceB = B.mark();
    const streamId = await pageStartsStream(true, sinceP);
    const bs = await B.waitForEvent('incomingDataStreamStarted', (e) => e.streamId === streamId && e.peerId === P.id, { since: sinceB, what: 'bot: incomingDataStreamStarted (string)' });
    // 0.6.26 first requires a Blob/ArrayBuffer, then a string for a string stream: nothing passes.
    await P.eval((id) => {
      window.__sk.streamData(id, 'plain text chunk');
      window.__sk.streamData(id, new Blob(['blob chunk']));
    }, streamId);
    await sleep(500);
    const sent = (await P.events()).slice(sinceP).filter((e) => e.event === 'dataStreamState' && e.args[0] === 'sent');
    assert.deepEqual(sent, [], 'page: 0.6.26 sent a string-stream chunk (expected none)');
    await P.eval((id) => window.__sk.stopStreamingData(id), streamId);
    await B.waitForEvent('incomingDataStreamStopped', (e) => e.streamId === streamId, { since: sinceB, what: 'bot: incomingDataStreamStopped (string)' });
    assert.deepEqual(B.events(sinceB).filter((e) => e.event === 'incomingDataStream'), [], 'bot: no stream data');
    assertStreamInfo(bs, true, P.id);
  });

  // ---- 7. timeouts --------------------------------------------------------------------------

  s.phase('bot → page request never answered, bot timeout 2 s: no timer in the request phase (0.6.26), then the page rejects', async () => {
    const B = bot();
    const P = page();
    const { tid, cmd, sinceP, sinceB } = await botOffersBlob({ size: KB10, name: 'bot-unanswered.bin', timeout: 2 });
    await sleep(5000);
    const bs = botStates(sinceB, tid).map((e) => e.state);
    assert.ok(!bs.some((st) => TERMINAL.includes(st)), `bot: terminal state while the request is unanswered: ${bs.join(',')}`);
    const ps = (await pageStates(sinceP, tid)).map((e) => e.args[0]);
    assert.ok(!ps.some((st) => TERMINAL.includes(st)), `page: terminal state while the request is unanswered: ${ps.join(',')}`);
    assert.ok(!B.lines.slice(sinceB).some((l) => l.json && l.json.reply === 'sendBlobData'), 'bot: sendBlobData replied while the request is unanswered');
    await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, false), { peer: B.id, tid });
    await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && e.state === 'rejected', { since: sinceB, what: 'bot: rejected' });
    const { reply } = await cmd;
    assert.equal(reply.ok, false, 'bot: sendBlobData fails after the rejection');
  });

  s.phase('page → bot request never answered, page timeout 2 s: no timer in the request phase, then the bot rejects', async () => {
    const B = bot();
    const P = page();
    const { tid, sinceP, sinceB } = await pageOffersBlob({ size: KB10, name: 'page-unanswered.bin', timeout: 2 });
    await sleep(5000);
    const ps = (await pageStates(sinceP, tid)).map((e) => e.args[0]);
    assert.ok(!ps.some((st) => TERMINAL.includes(st)), `page: terminal state while the request is unanswered: ${ps.join(',')}`);
    const bs = botStates(sinceB, tid).map((e) => e.state);
    assert.ok(!bs.some((st) => TERMINAL.includes(st)), `bot: terminal state while the request is unanswered: ${bs.join(',')}`);
    await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: false });
    await P.waitForEvent('dataTransferState', (a, c) => a[0] === 'rejected' && a[1] === c.tid, { ctx: { tid }, since: sinceP, what: 'page: rejected' });
  });

  s.phase('bot → page times out mid-transfer (page stops ACKing after ACK 1, bot timeout 2 s): error on both sides', async () => {
    const B = bot();
    const P = page();
    await setPageFrameFilter(P, { out: { minAckN: 2 } });
    try {
      const { tid, cmd, sinceP, sinceB } = await botOffersBlob({ size: MB1, name: 'bot-timeout.bin', timeout: 2, replyTimeout: 3 * WAIT_MS });
      await P.eval(({ peer, tid }) => window.__sk.acceptDataTransfer(peer, tid, true), { peer: B.id, tid });
      const be = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && TERMINAL.includes(e.state), { since: sinceB, what: 'bot: terminal state (error expected)' });
      assert.equal(be.state, 'error', `bot: terminal state: ${JSON.stringify(be).slice(0, 600)}`);
      assert.match(botErrorMessage(be.error), TIMEOUT_TEXT_2S, 'bot: timeout error message');
      const pe = await P.waitForEvent('dataTransferState', (a, c) => a[1] === c.tid && ['downloadCompleted', 'cancel', 'error'].includes(a[0]), { ctx: { tid }, since: sinceP, what: 'page: terminal state (error expected)' });
      assert.equal(pe.args[0], 'error', `page: terminal state ${JSON.stringify(pe.args).slice(0, 600)}`);
      // Either its own timer (timeout text) or the bot's ERROR frame, which 0.6.26's handler turns
      // into a channel error and then "closed abruptly" (spec §2.7).
      assert.match(pageErrorMessage(pe.args[4]), /Connection Timeout\. Longer than 2 seconds|closed abruptly/, 'page: error message');
      const { reply } = await cmd;
      assert.equal(reply.ok, false, 'bot: sendBlobData fails after the timeout');
      const dropped = await pageDroppedFrames(P);
      assert.ok(dropped.length > 0, 'page: the frame filter dropped no ACK (harness)');
      assert.ok(!(await P.events()).slice(sinceP).some((e) => e.event === 'incomingData' && e.args[1] === tid), 'page: no incomingData');
    } finally {
      await setPageFrameFilter(P, null);
    }
  });

  s.phase('page → bot times out mid-transfer (the bot\'s ACKs stop reaching the page after ACK 1, page timeout 2 s): error on both sides', async () => {
    const B = bot();
    const P = page();
    await setPageFrameFilter(P, { in: { minAckN: 2 } });
    try {
      const { tid, sinceP, sinceB } = await pageOffersBlob({ size: MB1, name: 'page-timeout.bin', timeout: 2 });
      await B.call('acceptDataTransfer', { peerId: P.id, transferId: tid, accept: true });
      const pe = await P.waitForEvent('dataTransferState', (a, c) => a[1] === c.tid && ['uploadCompleted', 'cancel', 'error', 'rejected'].includes(a[0]), { ctx: { tid }, since: sinceP, what: 'page: terminal state (error expected)' });
      assert.equal(pe.args[0], 'error', `page: terminal state ${JSON.stringify(pe.args).slice(0, 600)}`);
      assert.match(pageErrorMessage(pe.args[4]), TIMEOUT_TEXT_2S, 'page: timeout error message');
      // The page sent ERROR; the bot (armed with the WRQ timeout, 2 s) ends in error either way.
      const be = await B.waitForEvent('dataTransferState', (e) => e.transferId === tid && TERMINAL.includes(e.state), { since: sinceB, what: 'bot: terminal state (error expected)' });
      assert.equal(be.state, 'error', `bot: terminal state: ${JSON.stringify(be).slice(0, 600)}`);
      assert.match(botErrorMessage(be.error), TIMEOUT_TEXT_2S, 'bot: error message');
      const cb = await P.waitForEvent('harness:sendBlobData', (a) => a[2] === 'page-timeout.bin', { since: sinceP, what: 'page: sendBlobData callback' });
      assert.ok(cb.args[0] && cb.args[0].transferErrors && cb.args[0].transferErrors[B.id], 'page: callback carries the error');
      assert.ok((await pageDroppedFrames(P)).some((d) => d.dir === 'in'), 'page: the frame filter dropped no incoming ACK (harness)');
      assert.ok(!B.events(sinceB).some((e) => e.event === 'incomingData' && e.transferId === tid), 'bot: no incomingData');
    } finally {
      await setPageFrameFilter(P, null);
    }
  });

  // ---- 8. still usable, protocol ------------------------------------------------------------

  s.phase('after all failures: 10 kB both ways still byte-exact', async (t) => {
    await botToPageBlob(t, { size: KB10, name: 'bot-final.bin' });
    await pageToBotBlob(t, { size: KB10, name: 'page-final.bin' });
  });

  s.phase('bot stdout: every line was a JSON object (protocol)', async () => {
    assert.deepEqual(bot().violations, [], 'bot stdout protocol violations');
  });
});
