// Media helpers for the interop suites: page-side video/audio probes (attach remote streams to
// <video> elements, sample them into a canvas, read the test pattern's frame number, read
// inbound-rtp stats), polling with bounded waits, and a private Xvfb server plus the
// `x11_paint` example for screen-share tests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INTEROP_DIR, WAIT_MS } from './harness.mjs';
import { readFrameCode } from './frame-code.mjs';

/**
 * Installs `window.__media` in a harness page (after pageSetupSkylink): every non-self
 * `incomingStream` is attached to a muted autoplaying <video> (keyed by peerId, the latest stream
 * wins) and kept with its stream id; `sample(peerId)` draws the current frame into a canvas.
 */
export async function installPageMedia(peer) {
  await peer.eval((src) => {
    if (window.__media) return;
    // eslint-disable-next-line no-eval
    const readFrameCode = (0, eval)(`(${src})`);
    const m = { remote: {}, readFrameCode };
    window.__media = m;
    window.__sk.on('incomingStream', (peerId, stream, isSelf, peerInfo, isScreensharing, streamId) => {
      if (isSelf || !stream) return;
      let r = m.remote[peerId];
      if (!r) {
        const video = document.createElement('video');
        video.muted = true;
        video.autoplay = true;
        video.playsInline = true;
        video.dataset.peer = peerId;
        document.body.appendChild(video);
        r = m.remote[peerId] = { video };
      }
      r.stream = stream;
      r.streamId = streamId;
      r.isScreensharing = isScreensharing;
      r.video.srcObject = stream;
      r.video.play().catch((e) => window.__harness.errors.push({ t: Date.now(), message: `play(): ${e}` }));
    });
    m.sample = (peerId) => {
      const r = m.remote[peerId];
      if (!r || !r.video.videoWidth) return null;
      const v = r.video;
      const w = v.videoWidth;
      const h = v.videoHeight;
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const ctx = c.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(v, 0, 0, w, h);
      const img = ctx.getImageData(0, 0, w, h);
      const d = img.data;
      // Mean luma (BT.601 full range) and a coarse 16×12 grid of luma means (the signature).
      const GX = 16;
      const GY = 12;
      const grid = new Array(GX * GY).fill(0);
      const counts = new Array(GX * GY).fill(0);
      let sum = 0;
      let n = 0;
      for (let y = 0; y < h; y += 2) {
        const gy = Math.floor((y * GY) / h);
        for (let x = 0; x < w; x += 2) {
          const i = (y * w + x) * 4;
          const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
          sum += l;
          n++;
          const g = gy * GX + Math.floor((x * GX) / w);
          grid[g] += l;
          counts[g]++;
        }
      }
      const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
      return {
        width: w,
        height: h,
        meanLuma: sum / n,
        grid: grid.map((s, i) => Math.round(s / Math.max(1, counts[i]))),
        frameNumber: m.readFrameCode(img),
        currentTime: v.currentTime,
        totalVideoFrames: q ? q.totalVideoFrames : null,
        streamId: r.streamId,
        isScreensharing: r.isScreensharing,
        tracks: r.stream.getTracks().map((t) => ({ kind: t.kind, readyState: t.readyState, enabled: t.enabled, muted: t.muted })),
      };
    };
    // Peak level (0..1) of the remote audio of peerId over `ms`, through a WebAudio analyser, or
    // {state} when the AudioContext does not run (autoplay policy).
    m.audioPeak = async (peerId, ms) => {
      const r = m.remote[peerId];
      if (!r || !r.stream.getAudioTracks().length) return null;
      if (!m.audioCtx) m.audioCtx = new AudioContext();
      const ac = m.audioCtx;
      if (ac.state !== 'running') await Promise.race([ac.resume(), new Promise((res) => setTimeout(res, 500))]);
      if (ac.state !== 'running') return { state: ac.state };
      const src = ac.createMediaStreamSource(r.stream);
      const an = ac.createAnalyser();
      an.fftSize = 2048;
      src.connect(an);
      const buf = new Float32Array(an.fftSize);
      let peak = 0;
      const end = Date.now() + ms;
      while (Date.now() < end) {
        an.getFloatTimeDomainData(buf);
        for (const v of buf) peak = Math.max(peak, Math.abs(v));
        await new Promise((res) => setTimeout(res, 50));
      }
      src.disconnect();
      return { state: ac.state, peak };
    };
    // inbound-rtp stats of the connection with peerId, by kind.
    m.inbound = async (peerId) => {
      const pc = window.__sk._peerConnections[peerId];
      if (!pc) return null;
      const out = {};
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp') {
          const k = s.kind || s.mediaType;
          const o = out[k] || (out[k] = { packetsReceived: 0, bytesReceived: 0, framesDecoded: 0 });
          o.packetsReceived += s.packetsReceived || 0;
          o.bytesReceived += s.bytesReceived || 0;
          o.framesDecoded += s.framesDecoded || 0;
          if (s.audioLevel !== undefined) o.audioLevel = s.audioLevel;
          if (s.totalAudioEnergy !== undefined) o.totalAudioEnergy = s.totalAudioEnergy;
          if (s.frameWidth) o.frameWidth = s.frameWidth;
          if (s.frameHeight) o.frameHeight = s.frameHeight;
        }
      });
      return out;
    };
  }, readFrameCode.toString());
}

/** Fraction of grid cells whose luma differs by more than 8 between two samples. */
export function gridChange(a, b) {
  let changed = 0;
  for (let i = 0; i < a.grid.length; i++) if (Math.abs(a.grid[i] - b.grid[i]) > 8) changed++;
  return changed / a.grid.length;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `fn()` (async) every `interval` ms until it returns a truthy value, bounded by `timeout`;
 * throws `what` with the last value otherwise.
 */
export async function poll(fn, { timeout = WAIT_MS, interval = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last && last.ok !== false) return last;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not met within ${timeout} ms; last: ${JSON.stringify(last && (last.value ?? last)).slice(0, 1500)}`);
    }
    await sleep(interval);
  }
}

/** Samples the remote video of `peerId` twice, `gapMs` apart (both non-null). */
export async function twoSamples(peer, peerId, gapMs = 600) {
  const a = await poll(() => peer.eval((id) => window.__media.sample(id), peerId), { what: `${peer.name}: remote video of ${peerId} has dimensions` });
  await sleep(gapMs);
  const b = await peer.eval((id) => window.__media.sample(id), peerId);
  return [a, b];
}

/** The `x11_paint` example binary (crates/media/examples/x11_paint.rs). */
export function painterBinary() {
  const env = process.env.SKYLINK_X11_PAINT;
  if (env) return path.resolve(process.cwd(), env);
  const bin = process.env.SKYLINK_BIN ? path.resolve(process.cwd(), process.env.SKYLINK_BIN) : path.resolve(INTEROP_DIR, '..', 'target', 'debug', 'skylink');
  return path.join(path.dirname(bin), 'examples', 'x11_paint');
}

/**
 * Starts `Xvfb :N -displayfd` on the first free N ≥ 90 (640×480×24) and resolves once it
 * accepts clients: `{display, stop()}`.
 */
export async function startXvfb({ width = 640, height = 480 } = {}) {
  for (let n = 90 + Math.floor(Math.random() * 50); n < 400; n++) {
    if (fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    const log = path.join(os.tmpdir(), `skylink-interop-xvfb-${n}.log`);
    const child = spawn('Xvfb', [`:${n}`, '-displayfd', '1', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp'], {
      stdio: ['ignore', 'pipe', fs.openSync(log, 'w')],
    });
    const got = await new Promise((resolve) => {
      let buf = '';
      const timer = setTimeout(() => resolve(null), 30000);
      child.stdout.on('data', (c) => {
        buf += c.toString();
        if (buf.includes('\n')) {
          clearTimeout(timer);
          resolve(buf.trim());
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(null);
      });
      child.on('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    if (got === String(n)) {
      return {
        display: `:${n}`,
        child,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await new Promise((r) => {
            const t = setTimeout(() => {
              child.kill('SIGKILL');
              r();
            }, 5000);
            child.on('exit', () => {
              clearTimeout(t);
              r();
            });
          });
        },
      };
    }
    child.kill('SIGKILL');
    if (!fs.existsSync('/usr/bin/Xvfb') && got === null && child.exitCode === null) break;
  }
  throw new Error('could not start Xvfb on any display :90..:399 (apt-get install xvfb)');
}

/** Starts the x11_paint example on `display`; returns the child (kill it with SIGTERM). */
export function startPainter(display) {
  const bin = painterBinary();
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing: build it with \`cargo build -p skylink-media --examples\` or set SKYLINK_X11_PAINT`);
  const child = spawn(bin, [display], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderrText = '';
  child.stderr.on('data', (c) => {
    child.stderrText += c.toString();
  });
  return child;
}
