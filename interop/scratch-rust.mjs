import { startServer, launchBrowser, Peer } from './lib/harness.mjs';
import { spawn } from 'node:child_process';
const server = await startServer();
const browser = await launchBrowser();
const room = 'scratch-' + Date.now();
const A = await Peer.open(browser, server, 'A', { transport: 'websocket' });
const j0 = await A.initAndJoin(server, room, { audio: false, video: false, userData: { name: 'page' } });
const rust = spawn('/work/main/target/debug/examples/echo_peer', [server.origin, room, '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' } });
let rlog = '';
rust.stdout.on('data', (d) => { rlog += d; });
rust.stderr.on('data', (d) => { rlog += d; });

try {
  await A.waitForEvent('dataChannelState', (args) => args[0] === 'open', { what: 'dc open', timeout: 15000 });
  console.log('DC OPEN');
  const rustId = (await A.events()).find((e) => e.event === 'peerJoined' && e.args[2] === false).args[0];
  await A.eval((t) => window.__sk.sendP2PMessage('hi rust', t), rustId);
  const ev = await A.waitForEvent('incomingMessage', (args) => args[0] && args[0].isDataChannel && args[3] === false, { what: 'echo', timeout: 10000 });
  console.log('ECHO', JSON.stringify(ev.args[0]));
} catch (e) {
  console.log('ERR', e.message.slice(0, 3000));
  console.log((await A.lastEvents(40)));
} finally {
  console.log('--- rust log ---\n' + rlog.split('\n').filter(l => !l.includes('ChannelMessage')).slice(0, 80).join('\n'));
  rust.kill();
  await A.close();
  await browser.close();
  await server.stop();
}
