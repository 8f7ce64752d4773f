// Rust → browser video latency (part of `cargo xtask bench media`): a Rust bot
// (`skylink join --json --video testpattern`, 640×480@30 VP8) sends the test pattern to a
// skylinkjs 0.6.26 page in headless Chromium. The page plays the remote stream in a <video>,
// and on every `requestVideoFrameCallback` draws the frame into a canvas and reads its embedded
// frame number (lib/frame-code.mjs).
//
// Capture time of frame n: the bot logs its first video frame's wall-clock capture time
// (stderr, target `skylink_frame_clock`, see crates/cli/src/join/frame_clock.rs); the pattern
// is paced from that frame, so frame n is captured at first + (n - firstIndex) × 1000/30 ms.
// Page times are converted to wall-clock with `Date.now() - performance.now()` taken in the
// callback; both processes read the same system clock.
//
// Prints one JSON line: per segment {n, p50, p95, max} in ms:
//   capture_to_received  (metadata.receiveTime: the frame's last RTP packet reached Chromium),
//   capture_to_presented (metadata.expectedDisplayTime: when the compositor shows it),
//   capture_to_read      (callback ran, canvas drawn and number read).
//   SKYLINK_BIN=target/release/skylink node bench/media-pages.mjs [seconds]
import { startServer, launchBrowser, Peer } from '../lib/harness.mjs';
import { Bot } from '../lib/bot.mjs';
import { readFrameCode } from '../lib/frame-code.mjs';

const seconds = Number(process.argv[2] || 15);
const FPS = 30;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = await startServer();
const browser = await launchBrowser();
let bot = null;
let page = null;
let result;
try {
  const room = `bench-media-pages-${Date.now()}`;
  page = await Peer.open(browser, server, 'page');
  await page.eval((readerSrc) => {
    // eslint-disable-next-line no-eval
    const read = (0, eval)(`(${readerSrc})`);
    window.__media = { samples: [], unreadable: 0, callbacks: 0, streams: 0 };
    window.__sk.on('incomingStream', (peerId, stream, isSelf) => {
      if (isSelf || !stream || stream.getVideoTracks().length === 0) return;
      window.__media.streams++;
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      document.body.appendChild(video);
      video.srcObject = stream;
      video.play().catch(() => {});
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const onFrame = (_now, md) => {
        const offset = Date.now() - performance.now();
        const m = window.__media;
        m.callbacks++;
        if (canvas.width !== md.width || canvas.height !== md.height) {
          canvas.width = md.width;
          canvas.height = md.height;
        }
        ctx.drawImage(video, 0, 0, md.width, md.height);
        const n = read(ctx.getImageData(0, 0, md.width, md.height));
        const readAt = performance.now() + offset;
        if (n === null) m.unreadable++;
        else
          m.samples.push({
            n,
            presented: md.expectedDisplayTime + offset,
            received: typeof md.receiveTime === 'number' ? md.receiveTime + offset : null,
            read: readAt,
          });
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    });
  }, readFrameCode.toString());
  const joined = await page.initAndJoin(server, room, { audio: false, video: false });
  if (joined.error) throw new Error(`page join failed: ${JSON.stringify(joined.error).slice(0, 500)}`);
  bot = Bot.spawn(server, room, {
    name: 'bot',
    env: { RUST_LOG: 'warn,skylink_frame_clock=info' },
    extraArgs: ['--video', 'testpattern'],
  });
  await bot.ready();
  await page.waitFor(() => window.__media && window.__media.samples.length > 0, null, { what: 'first displayed frame with a readable number' });
  // Warm-up (key frame, jitter buffer settling), then the measured window.
  await sleep(1000);
  await page.eval(() => {
    window.__media.samples = [];
    window.__media.unreadable = 0;
    window.__media.callbacks = 0;
  });
  await sleep(seconds * 1000);
  const media = await page.eval(() => window.__media);
  const clock = bot.stderr
    .map((l) => /skylink_frame_clock.*frame=(\d+).*captured_unix_ms="?([\d.]+)/.exec(l))
    .filter(Boolean)
    .pop();
  if (!clock) throw new Error(`the bot logged no first-frame time\n${bot.tail()}`);
  const [firstIndex, firstMs] = [Number(clock[1]), Number(clock[2])];
  const captured = (n) => firstMs + ((n - firstIndex) * 1000) / FPS;
  const summary = (xs) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const pct = (p) => (s.length ? s[Math.min(s.length - 1, Math.round((s.length - 1) * p))] : null);
    return { n: s.length, min: s[0] ?? null, p50: pct(0.5), p95: pct(0.95), max: s[s.length - 1] ?? null };
  };
  const seen = new Set(media.samples.map((x) => x.n));
  const numbers = [...seen];
  result = {
    seconds,
    frames: media.samples.length,
    distinct_frames: seen.size,
    callbacks: media.callbacks,
    unreadable: media.unreadable,
    first_frame: { index: firstIndex, captured_unix_ms: firstMs },
    frame_range: numbers.length ? [Math.min(...numbers), Math.max(...numbers)] : null,
    latency_ms: {
      capture_to_received: summary(media.samples.filter((x) => x.received !== null).map((x) => x.received - captured(x.n))),
      capture_to_presented: summary(media.samples.map((x) => x.presented - captured(x.n))),
      capture_to_read: summary(media.samples.map((x) => x.read - captured(x.n))),
    },
    note:
      'Capture time of frame n = the bot\'s logged first-frame wall-clock time + n/30 s (paced source); ' +
      'page times from requestVideoFrameCallback metadata converted with Date.now() − performance.now(). ' +
      'Includes Chromium\'s jitter buffer and render scheduling.',
  };
} finally {
  if (bot) await bot.close();
  if (page) await page.close();
  await browser.close();
  await server.stop();
}
console.log(JSON.stringify(result));
