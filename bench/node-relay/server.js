#!/usr/bin/env node
// Baseline for `cargo xtask bench signaling`: the minimum of the Skylink platform the load
// generator (`skylink bench signaling`) needs, on socket.io 1.4.8 (Engine.IO 3), the server
// generation skylinkjs 0.6.26 was built against. Written from spec/signaling.md §1.5, §3.1,
// §3.2, §6. Not a server for real use: no credentials are checked, nothing is persisted,
// loopback only.
//
//   node server.js [--port N]        (or PORT=N; 0 = any free port, the default)
//
// Prints `listening 127.0.0.1:PORT` on stdout once the listener is up.
//
// * HTTP `GET /api/{appKey}/{room}[/...]` → the room-API JSON (§1.5), CORS origin echoed.
// * socket.io on the same port, event `message` carrying a JSON string:
//   - `joinRoom` → `inRoom` {type, rid, sid, mid, pc_config, tieBreaker, SMProtocolVersion};
//   - any other message of a joined socket: with `target` → only that member of the sender's
//     room; without → every other member of the room. The payload string is forwarded as is
//     (re-serialised only when `mid` is missing, to set it to the sender's id);
//   - disconnect of a joined socket → `bye` {type, mid, rid} to the rest of the room.
'use strict';

const http = require('http');
const crypto = require('crypto');
const socketio = require('socket.io');

const HOST = '127.0.0.1';

function parsePort(argv, env) {
  let port = env.PORT !== undefined && env.PORT !== '' ? env.PORT : '0';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) {
      port = argv[++i];
    } else if (a.startsWith('--port=')) {
      port = a.slice('--port='.length);
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node server.js [--port N]   (env PORT; 0 = any free port)\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`bad port ${port}\n`);
    process.exit(2);
  }
  return n;
}

const port = parsePort(process.argv.slice(2), process.env);

// ---------------------------------------------------------------------------------------------
// Room API (§1.5)

let issued = 0;

function roomKey(appKey, room) {
  // Stable per (app key, room): every client of a room gets the same signaling room id.
  return crypto.createHash('sha1').update(`${appKey}\u0000${room}`).digest('hex').slice(0, 32);
}

function sendJson(req, res, status, body) {
  const text = JSON.stringify(body);
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  };
  const origin = req.headers.origin;
  if (origin) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Vary'] = 'Origin';
  } else {
    headers['Access-Control-Allow-Origin'] = '*';
  }
  res.writeHead(status, headers);
  res.end(text);
}

function onRequest(req, res) {
  // socket.io attaches itself in front of this handler and takes every /socket.io/ request.
  const path = (req.url || '/').split('?')[0];
  const parts = path.split('/').filter((s) => s !== '');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(req, res, 405, { error: 405, info: 'method not allowed' });
    return;
  }
  if (parts.length >= 3 && parts[0] === 'api') {
    let appKey;
    let room;
    try {
      appKey = decodeURIComponent(parts[1]);
      room = decodeURIComponent(parts[2]);
    } catch (e) {
      sendJson(req, res, 400, { error: 400, info: 'bad path encoding' });
      return;
    }
    const n = ++issued;
    const now = new Date().toISOString();
    const listenPort = server.address().port;
    sendJson(req, res, 200, {
      success: true,
      cid: `bench-cid-${n}`,
      apiOwner: 'bench@127.0.0.1',
      ipSigserver: HOST,
      httpPortList: [listenPort],
      httpsPortList: [listenPort],
      isPrivileged: false,
      autoIntroduce: true,
      username: `u-${n}`,
      userCred: crypto.randomBytes(20).toString('base64'),
      timeStamp: now,
      room_key: roomKey(appKey, room),
      roomCred: crypto.randomBytes(20).toString('base64'),
      start: now,
      len: 24,
      pc_constraints: '{"optional":[{"DtlsSrtpKeyAgreement":true}]}',
      offer_constraints: '{"mandatory":{"OfferToReceiveAudio":true,"OfferToReceiveVideo":true},"optional":[]}',
      media_constraints: '{"audio":true,"video":true}',
    });
    return;
  }
  if (parts.length === 1 && parts[0] === 'health') {
    sendJson(req, res, 200, { ok: true });
    return;
  }
  sendJson(req, res, 404, { error: 404, info: 'not found' });
}

const server = http.createServer(onRequest);

// ---------------------------------------------------------------------------------------------
// Signaling relay (§3.1, §3.2, §6)

const io = socketio(server, { serveClient: false });

/** rid → Map(peer id → socket) */
const rooms = new Map();
const tieBase = Date.now() * 1000;
let tieCounter = 0;

function leave(socket) {
  const peer = socket.skylinkPeer;
  if (!peer) return;
  socket.skylinkPeer = null;
  const members = rooms.get(peer.rid);
  if (!members) return;
  members.delete(peer.id);
  if (members.size === 0) {
    rooms.delete(peer.rid);
    return;
  }
  const bye = JSON.stringify({ type: 'bye', mid: peer.id, rid: peer.rid });
  for (const other of members.values()) other.send(bye);
}

function onMessage(socket, text) {
  if (typeof text !== 'string') return;
  let msg;
  try {
    msg = JSON.parse(text);
  } catch (e) {
    return;
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return;
  const peer = socket.skylinkPeer;
  if (msg.type === 'joinRoom') {
    if (peer || typeof msg.rid !== 'string' || msg.rid === '') return;
    const id = crypto.randomUUID();
    const rid = msg.rid;
    let members = rooms.get(rid);
    if (!members) {
      members = new Map();
      rooms.set(rid, members);
    }
    members.set(id, socket);
    socket.skylinkPeer = { id, rid };
    socket.send(JSON.stringify({
      type: 'inRoom',
      rid,
      sid: id,
      mid: id,
      pc_config: { iceServers: [] },
      tieBreaker: tieBase + ++tieCounter,
      SMProtocolVersion: '0.1.2.4',
    }));
    return;
  }
  if (!peer) return; // not joined: drop
  const members = rooms.get(peer.rid);
  if (!members) return;
  let out = text;
  if (msg.mid === undefined || msg.mid === null) {
    msg.mid = peer.id;
    out = JSON.stringify(msg);
  }
  if (typeof msg.target === 'string') {
    const to = members.get(msg.target);
    if (to && to !== socket) to.send(out);
    return;
  }
  for (const [id, other] of members) {
    if (id !== peer.id) other.send(out);
  }
}

io.on('connection', (socket) => {
  socket.skylinkPeer = null;
  socket.on('message', (text) => onMessage(socket, text));
  socket.on('disconnect', () => leave(socket));
  socket.on('error', () => {});
});

server.on('error', (e) => {
  process.stderr.write(`server error: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});

server.listen(port, HOST, () => {
  const a = server.address();
  process.stdout.write(`listening ${a.address}:${a.port}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}
