// Times joinRoom → messaging data channel open for two real skylinkjs 0.6.26 pages through
// `skylink serve` (the browser baseline of `cargo xtask bench join`).
//
// Each iteration: page A joins a fresh room, page B runs init(), then B's joinRoom() is timed
// until both pages raised dataChannelState('open') (page timestamps). answer→open is B's
// handshakeProgress('answer') → B's dataChannelState('open'). Prints one JSON line.
//   SKYLINK_BIN=target/release/skylink node bench/join-pages.mjs [iterations]
import { startServer, launchBrowser, Peer, APP_KEY } from '../lib/harness.mjs';

const iterations = Number(process.argv[2] || 5);
const server = await startServer();
const browser = await launchBrowser();
const join = [];
const answer = [];
try {
  for (let i = 0; i <= iterations; i++) {
    const room = `bench-join-pages-${Date.now()}-${i}`;
    const A = await Peer.open(browser, server, 'A');
    const B = await Peer.open(browser, server, 'B');
    try {
      await A.initAndJoin(server, room, { audio: false, video: false });
      await B.eval(
        ({ appKey, room, roomServer }) =>
          new Promise((resolve, reject) =>
            window.__sk.init({ appKey, defaultRoom: room, roomServer, forceSSL: false }, (e) => (e ? reject(new Error(JSON.stringify(e))) : resolve())),
          ),
        { appKey: APP_KEY, room, roomServer: `//127.0.0.1:${server.port}` },
      );
      const t0 = await B.eval((room) => {
        const t = Date.now();
        window.__sk.joinRoom(room, { audio: false, video: false }, () => {});
        return t;
      }, room);
      const openA = await A.waitForEvent('dataChannelState', (a) => a[0] === 'open' && a[4] === 'messaging', { what: 'A open' });
      const openB = await B.waitForEvent('dataChannelState', (a) => a[0] === 'open' && a[4] === 'messaging', { what: 'B open' });
      const ans = await B.waitForEvent('handshakeProgress', (a) => a[0] === 'answer', { what: 'B answer' });
      if (i > 0) {
        // Iteration 0 warms the browser up and is not counted.
        join.push(Math.max(openA.t, openB.t) - t0);
        answer.push(openB.t - ans.t);
      }
    } finally {
      await A.close();
      await B.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
};
console.log(
  JSON.stringify({
    iterations,
    join_to_open_ms: { p50: pct(join, 0.5), p90: pct(join, 0.9), min: Math.min(...join), max: Math.max(...join) },
    answer_to_open_ms: { p50: pct(answer, 0.5), p90: pct(answer, 0.9), min: Math.min(...answer), max: Math.max(...answer) },
  }),
);
