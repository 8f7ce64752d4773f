// Helpers for data-transfer / data-streaming interop (tests/rust-transfer.test.mjs): test payloads
// and their SHA-256 on the Node side, and page-side (skylinkjs 0.6.26) helpers that build pattern
// Files, hash received Blobs, and simulate a peer that stops answering (frame filter).
//
// Pattern: byte i = i % PATTERN_MOD (251, harness.mjs), the same as browser-call's 1 MiB phase.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PATTERN_MOD } from './harness.mjs';

// ---- Node side -----------------------------------------------------------------------------------

/** `size` bytes of the pattern (byte i = i % 251). */
export function patternBuffer(size) {
  const block = Buffer.alloc(PATTERN_MOD * 4096);
  for (let i = 0; i < block.length; i++) block[i] = i % PATTERN_MOD;
  const out = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; off += block.length) block.copy(out, off, 0, Math.min(block.length, size - off));
  return out;
}

export function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** SHA-256 of a file, streamed (64 MB files are not read at once). */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    let size = 0;
    fs.createReadStream(file)
      .on('data', (c) => {
        size += c.length;
        h.update(c);
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: h.digest('hex'), size }));
  });
}

/** Writes `size` pattern bytes to `dir/name`; returns `{ file, size, sha256 }`. */
export function writePatternFile(dir, name, size) {
  fs.mkdirSync(dir, { recursive: true });
  const buf = patternBuffer(size);
  const file = path.join(dir, name);
  fs.writeFileSync(file, buf);
  return { file, size, sha256: sha256(buf) };
}

/** Message of a bot `error` payload (string or `{message, transferType}`), else ''. */
export function botErrorMessage(e) {
  if (!e) return '';
  if (typeof e === 'string') return e;
  if (typeof e.message === 'string') return e.message;
  if (e.message && typeof e.message.message === 'string') return e.message.message;
  return JSON.stringify(e);
}

/** Message of a page `error` argument (`{message: Error, transferType}` serialized by the harness). */
export function pageErrorMessage(e) {
  if (!e || typeof e !== 'object') return '';
  const m = e.message;
  if (typeof m === 'string') return m;
  if (m && typeof m.message === 'string') return m.message;
  return JSON.stringify(e);
}

// ---- page side (run through Peer.eval; no closures over Node values) -----------------------------

/**
 * In the page: `window.__sk.sendBlobData(File(pattern, size), timeout, target, binary, cb)`. The
 * callback is recorded as `harness:sendBlobData` with args `[error, success, tag]`.
 */
export function pageSendPatternBlob(peer, { size, name, timeout, target, binary = false, tag = name }) {
  return peer.eval(
    ({ size, name, timeout, target, binary, tag, mod }) => {
      const block = new Uint8Array(mod * 4096);
      for (let i = 0; i < block.length; i++) block[i] = i % mod;
      const parts = [];
      for (let off = 0; off < size; off += block.length) parts.push(off + block.length <= size ? block : block.subarray(0, size - off));
      const file = new File(parts, name, { type: 'application/octet-stream' });
      window.__sk.sendBlobData(file, timeout, target, binary, (error, success) => window.__harness.record('harness:sendBlobData', [error, success, tag]));
    },
    { size, name, timeout, target, binary, tag, mod: PATTERN_MOD },
  );
}

/** In the page: `sendURLData(data, timeout, target, cb)`; callback recorded as `harness:sendURLData` [error, success, tag]. */
export function pageSendURLData(peer, { data, timeout, target, tag = 'url' }) {
  return peer.eval(
    ({ data, timeout, target, tag }) => {
      window.__sk.sendURLData(data, timeout, target, (error, success) => window.__harness.record('harness:sendURLData', [error, success, tag]));
    },
    { data, timeout, target, tag },
  );
}

/** SHA-256 (hex) and size of the Blob/ArrayBuffer in the raw args of page event #idx, argument `arg`. */
export async function pageDigest(peer, idx, arg = 0) {
  return peer.eval(
    async ({ idx, arg }) => {
      const raw = window.__harness.raw[idx];
      const data = raw && raw[arg];
      let buf;
      if (typeof Blob !== 'undefined' && data instanceof Blob) buf = await data.arrayBuffer();
      else if (data instanceof ArrayBuffer) buf = data;
      else if (data && ArrayBuffer.isView(data)) buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      else return { ok: false, reason: `event #${idx} argument ${arg} is not binary: ${Object.prototype.toString.call(data)}` };
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
      return { ok: true, size: buf.byteLength, sha256: Array.from(d, (b) => b.toString(16).padStart(2, '0')).join(''), mimeType: data.type ?? null };
    },
    { idx, arg },
  );
}

/** Base64 of the Blob in the raw args of page event #idx (small stream chunks). */
export async function pageBase64(peer, idx, arg = 0) {
  return peer.eval(
    async ({ idx, arg }) => {
      const raw = window.__harness.raw[idx];
      const data = raw && raw[arg];
      if (!(data instanceof Blob)) return { ok: false, reason: `not a Blob: ${Object.prototype.toString.call(data)}` };
      const u8 = new Uint8Array(await data.arrayBuffer());
      let s = '';
      for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i]);
      return { ok: true, size: u8.length, base64: btoa(s) };
    },
    { idx, arg },
  );
}

/**
 * Installs (once) a frame filter on every RTCDataChannel of the page (present and future): it
 * simulates a peer that stops answering in the middle of a transfer, without touching the SDK.
 * `setPageFrameFilter(peer, { out: {minAckN}, in: {minAckN} })` then drops outgoing / incoming
 * `ACK` frames with `ackN >= minAckN` (the SDK believes it sent them / never sees them). Dropped
 * frames are logged in `window.__harness.dropped`. `setPageFrameFilter(peer, null)` clears it.
 */
export async function setPageFrameFilter(peer, filter) {
  await peer.eval((filter) => {
    const h = window.__harness;
    h.dropped = h.dropped || [];
    h.frameFilter = filter;
    if (h.frameFilterInstalled) return;
    h.frameFilterInstalled = true;
    const isDroppedAck = (dir, data, label) => {
      const f = h.frameFilter && h.frameFilter[dir];
      if (!f || typeof data !== 'string' || data.indexOf('"ACK"') < 0) return false;
      let m;
      try {
        m = JSON.parse(data);
      } catch (e) {
        return false;
      }
      if (!m || m.type !== 'ACK' || typeof m.ackN !== 'number' || m.ackN < f.minAckN) return false;
      if (f.label && f.label !== label) return false;
      h.dropped.push({ t: Date.now(), dir, label, data });
      return true;
    };
    const proto = RTCDataChannel.prototype;
    const origSend = proto.send;
    proto.send = function (data) {
      if (isDroppedAck('out', data, this.label)) return undefined;
      return origSend.call(this, data);
    };
    const desc = Object.getOwnPropertyDescriptor(proto, 'onmessage');
    Object.defineProperty(proto, 'onmessage', {
      configurable: true,
      enumerable: desc.enumerable,
      get() {
        return desc.get.call(this);
      },
      set(fn) {
        const ch = this;
        const wrapped = typeof fn === 'function'
          ? function (ev) {
            if (isDroppedAck('in', ev.data, ch.label)) return undefined;
            return fn.call(this, ev);
          }
          : fn;
        desc.set.call(this, wrapped);
      },
    });
  }, filter);
}

/** Frames dropped by the filter so far. */
export function pageDroppedFrames(peer) {
  return peer.eval(() => window.__harness.dropped || []);
}
