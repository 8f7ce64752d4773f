// The `/` page of `skylink serve`: a small room app on skylinkjs 0.6.26 (loaded from
// /skylink.complete.js). It creates its Skylink instance only when the user clicks Join or the URL
// asks for an auto-join (`?room=R[&name=N][&appKey=K]`); until then the page only exposes
// `window.Skylink`, so test harnesses can drive their own instance.
// `&autoreply=1` (opt-in, used by `skylink demo --browser`) makes the page answer on its own so a
// headless run can be checked from the other peers: every chat message is answered with
// `browser got: <text>` the same way it came (server or P2P, privately to the sender), every
// received file with `browser saved <name>: <size> bytes sha256 <hex>`, and `browser: leave`
// makes it leave the room.
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  // The same default App Key as `skylink join` (rooms are per App Key), so a page and a bot
  // started with no options meet in the same room.
  var appKey = params.get('appKey') || 'skylink-cli';

  // skylinkjs 0.6.26 builds `stun:host:port?transport=udp` URLs, which current Chromium
  // rejects ("not a valid stun or turn URL": STUN URLs take no query), and can hand over TURN
  // entries without a username/credential; either makes RTCPeerConnection refuse to be built
  // at all. Strip the query from STUN URLs and drop incomplete TURN entries.
  (function dropIncompleteTurn() {
    var Orig = window.RTCPeerConnection;
    if (typeof Orig !== 'function' || Orig.__skylinkFiltered) return;
    function usable(server) {
      var urls = [].concat(server.urls || server.url || []);
      var turn = urls.some(function (u) { return /^turns?:/i.test(String(u)); });
      return !turn || (server.username && server.credential);
    }
    var Filtered = function RTCPeerConnection(config, constraints) {
      if (config && Array.isArray(config.iceServers)) {
        var servers = config.iceServers.filter(function (s) { return s && usable(s); }).map(function (s) {
          var copy = Object.assign({}, s);
          var fix = function (u) { return /^stuns?:/i.test(String(u)) ? String(u).split('?')[0] : u; };
          if (Array.isArray(copy.urls)) copy.urls = copy.urls.map(fix);
          else if (copy.urls) copy.urls = fix(copy.urls);
          if (copy.url) copy.url = fix(copy.url);
          return copy;
        });
        config = Object.assign({}, config, { iceServers: servers });
      }
      try {
        return arguments.length > 1 ? new Orig(config, constraints) : new Orig(config);
      } catch (e) {
        console.warn('RTCPeerConnection refused: ' + e.name + ': ' + e.message + ' config=' + JSON.stringify(config) + ' constraints=' + JSON.stringify(constraints));
        throw e;
      }
    };
    Filtered.prototype = Orig.prototype;
    Object.setPrototypeOf(Filtered, Orig);
    Filtered.__skylinkFiltered = true;
    window.RTCPeerConnection = Filtered;
  })();
  var autoreply = params.get('autoreply') === '1';

  // Read-only view of the app state, for debugging and end-to-end tests.
  var app = window.skylinkApp = { skylink: null, state: 'idle', peerId: null, room: null, name: null, locked: false };

  var sk = null;
  var initialised = false;
  var tiles = Object.create(null); // 'self' | peerId -> { el, video, caption, streamId }
  var transfers = Object.create(null); // transferId + ':' + peerId -> row

  function setStatus(state, text) {
    app.state = state;
    $('status').dataset.state = state;
    $('status').textContent = text;
  }

  function notice(text) {
    var li = document.createElement('li');
    li.textContent = new Date().toLocaleTimeString() + '  ' + text;
    var list = $('notices');
    list.appendChild(li);
    while (list.children.length > 100) list.removeChild(list.firstChild);
    list.scrollTop = list.scrollHeight;
  }

  function describe(err) {
    if (!err) return 'unknown error';
    if (typeof err === 'string') return err;
    var e = err.error || err;
    if (e && e.message) return e.message;
    try { return JSON.stringify(err).slice(0, 300); } catch (x) { return String(err); }
  }

  function displayName(peerId, info) {
    var ud = info && info.userData;
    if (ud && typeof ud === 'object' && ud.displayName) return String(ud.displayName);
    if (typeof ud === 'string' && ud) return ud;
    return peerId ? 'peer ' + String(peerId).slice(0, 8) : 'unknown';
  }

  function nameOf(peerId) {
    if (peerId && peerId === app.peerId) return app.name;
    var info = null;
    try { info = sk && sk.getPeerInfo(peerId); } catch (e) { info = null; }
    return displayName(peerId, info);
  }

  function setInRoomUi(inRoom) {
    $('join').disabled = inRoom;
    $('room').disabled = inRoom;
    $('name').disabled = inRoom;
    $('leave').disabled = !inRoom;
    $('controls').hidden = !inRoom;
    ['msg', 'send', 'file', 'send-file'].forEach(function (id) { $(id).disabled = !inRoom; });
  }

  // ---- video tiles ---------------------------------------------------------------------------

  function tileKey(peerId, isSelf) { return isSelf ? 'self' : peerId; }

  function ensureTile(peerId, isSelf, info) {
    var key = tileKey(peerId, isSelf);
    var t = tiles[key];
    if (!t) {
      var el = document.createElement('figure');
      el.className = 'tile' + (isSelf ? ' self' : ' remote');
      el.dataset.peerId = peerId;
      el.dataset.self = isSelf ? 'true' : 'false';
      var video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.setAttribute('autoplay', '');
      video.setAttribute('playsinline', '');
      if (isSelf) video.muted = true;
      var caption = document.createElement('figcaption');
      var label = document.createElement('span');
      label.className = 'name';
      caption.appendChild(label);
      el.appendChild(video);
      el.appendChild(caption);
      if (isSelf) $('videos').insertBefore(el, $('videos').firstChild);
      else $('videos').appendChild(el);
      t = tiles[key] = { el: el, video: video, caption: caption, label: label, streamId: null };
    }
    t.label.textContent = isSelf ? app.name + ' (you)' : displayName(peerId, info);
    return t;
  }

  function showUnmute(t) {
    if (t.caption.querySelector('.unmute')) return;
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'unmute';
    b.textContent = 'Unmute';
    b.onclick = function () {
      t.video.muted = false;
      t.video.play().catch(function () {});
      b.remove();
    };
    t.caption.appendChild(b);
  }

  function bindStream(t, stream, streamId) {
    t.streamId = streamId || stream.id || null;
    if ('srcObject' in t.video) t.video.srcObject = stream;
    else if (typeof window.attachMediaStream === 'function') window.attachMediaStream(t.video, stream);
    var p = t.video.play && t.video.play();
    if (p && typeof p.catch === 'function') {
      p.catch(function (err) {
        // Autoplay with sound needs a user gesture: play muted and offer an Unmute button.
        if (err && err.name === 'NotAllowedError' && !t.video.muted) {
          t.video.muted = true;
          t.video.play().catch(function () {});
          showUnmute(t);
        }
      });
    }
  }

  function removeTile(key) {
    var t = tiles[key];
    if (!t) return;
    try { t.video.srcObject = null; } catch (e) { /* ignore */ }
    t.el.remove();
    delete tiles[key];
  }

  function removeAllTiles() {
    Object.keys(tiles).forEach(removeTile);
  }

  // Shows a peer's (or our own) mediaStatus on its tile: `data-audio-muted` /
  // `data-video-muted` and a badge, so muting is visible to everyone in the room.
  function showMuted(t, status) {
    if (!t || !status) return;
    var audio = !!status.audioMuted;
    var video = !!status.videoMuted;
    t.el.dataset.audioMuted = audio ? 'true' : 'false';
    t.el.dataset.videoMuted = video ? 'true' : 'false';
    var badge = t.caption.querySelector('.muted');
    var text = [audio ? 'mic off' : '', video ? 'camera off' : ''].filter(Boolean).join(', ');
    if (!text) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'muted';
      t.caption.appendChild(badge);
    }
    badge.textContent = text;
  }

  // ---- chat ----------------------------------------------------------------------------------

  function addChat(sender, content, opts) {
    var li = document.createElement('li');
    if (opts.self) li.className = 'self';
    li.dataset.sender = sender;
    li.dataset.via = opts.p2p ? 'p2p' : 'server';
    var s = document.createElement('span');
    s.className = 'sender';
    s.textContent = sender + ':';
    var c = document.createElement('span');
    c.className = 'content';
    c.textContent = typeof content === 'string' ? content : JSON.stringify(content);
    li.appendChild(s);
    li.appendChild(c);
    if (opts.p2p || opts.isPrivate) {
      var via = document.createElement('span');
      via.className = 'via';
      via.textContent = (opts.isPrivate ? 'private ' : '') + (opts.p2p ? 'P2P' : '');
      li.appendChild(via);
    }
    $('chat-list').appendChild(li);
    $('chat-list').scrollTop = $('chat-list').scrollHeight;
  }

  // ---- file transfers ------------------------------------------------------------------------

  function transferRow(transferId, peerId, info, direction) {
    var key = transferId + ':' + peerId;
    var r = transfers[key];
    if (!r) {
      var li = document.createElement('li');
      li.dataset.transferId = transferId;
      li.dataset.peerId = peerId;
      li.dataset.direction = direction;
      var label = document.createElement('div');
      var bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      var extra = document.createElement('div');
      li.appendChild(label);
      li.appendChild(bar);
      li.appendChild(extra);
      $('transfers').insertBefore(li, $('transfers').firstChild);
      r = transfers[key] = { li: li, label: label, bar: bar, extra: extra, name: null };
      r.label.textContent = (direction === 'upload' ? 'To ' : 'From ') + nameOf(peerId) + ': ' +
        ((info && info.name) || 'data') + (info && info.size ? ' (' + info.size + ' bytes)' : '');
    }
    if (info && info.name) r.name = info.name;
    return r;
  }

  function setProgress(r, info, state) {
    if (info && typeof info.percentage === 'number') r.bar.value = info.percentage;
    if (state) r.li.dataset.state = state;
  }

  function wire(s) {
    var T = s.DATA_TRANSFER_STATE;

    s.on('peerJoined', function (peerId, info, isSelf) {
      if (isSelf) {
        app.peerId = peerId;
        notice('Joined room "' + app.room + '" as ' + app.name);
      } else {
        notice(displayName(peerId, info) + ' joined');
      }
    });

    s.on('peerUpdated', function (peerId, info, isSelf) {
      var t = tiles[tileKey(peerId, isSelf)];
      if (t) t.label.textContent = isSelf ? app.name + ' (you)' : displayName(peerId, info);
    });

    s.on('streamMuted', function (peerId, info, isSelf) {
      var t = tiles[tileKey(peerId, isSelf)];
      showMuted(t, info && info.mediaStatus);
      if (isSelf) setMuteButtons(info && info.mediaStatus);
    });

    s.on('peerLeft', function (peerId, info, isSelf) {
      if (isSelf) {
        removeAllTiles();
        return;
      }
      notice(displayName(peerId, info) + ' left');
      removeTile(peerId);
    });

    s.on('incomingStream', function (peerId, stream, isSelf, info, isScreensharing, streamId) {
      if (!stream) return;
      var t = ensureTile(peerId, isSelf, info);
      bindStream(t, stream, streamId);
      t.el.dataset.screen = isScreensharing ? 'true' : 'false';
      showMuted(t, info && info.mediaStatus);
    });

    s.on('streamEnded', function (peerId, info, isSelf, isScreensharing, streamId) {
      var key = tileKey(peerId, isSelf);
      var t = tiles[key];
      // A newer stream (e.g. the camera again after a screen share) may already be bound.
      if (t && (!streamId || !t.streamId || t.streamId === streamId)) removeTile(key);
      if (isSelf && isScreensharing) setSharing(false);
    });

    s.on('mediaAccessSuccess', function (stream, isScreensharing) {
      if (isScreensharing) setSharing(true);
    });

    s.on('incomingMessage', function (message, peerId, info, isSelf) {
      // Own messages are shown when sent (public messages are not echoed to the sender).
      if (isSelf || (peerId && peerId === app.peerId)) return;
      addChat(displayName(peerId, info), message.content, { p2p: !!message.isDataChannel, isPrivate: !!message.isPrivate });
      if (autoreply) autoReplyTo(s, message, peerId);
    });

    s.on('roomLock', function (isLocked, peerId, info, isSelf) {
      setLocked(!!isLocked);
      notice('Room ' + (isLocked ? 'locked' : 'unlocked') + ' by ' + (isSelf ? 'you' : displayName(peerId, info)));
    });

    s.on('dataTransferState', function (state, transferId, peerId, info, error) {
      var r;
      switch (state) {
        case T.UPLOAD_REQUEST: // a peer offers us data: accept it
          r = transferRow(transferId, peerId, info, 'download');
          setProgress(r, null, 'pending');
          notice('Receiving "' + ((info && info.name) || 'data') + '" from ' + nameOf(peerId) + ' (auto-accepted)');
          s.acceptDataTransfer(peerId, transferId, true);
          break;
        case T.USER_UPLOAD_REQUEST:
          setProgress(transferRow(transferId, peerId, info, 'upload'), null, 'pending');
          break;
        case T.UPLOAD_STARTED:
        case T.UPLOADING:
          setProgress(transferRow(transferId, peerId, info, 'upload'), info, 'active');
          break;
        case T.DOWNLOAD_STARTED:
        case T.DOWNLOADING:
          setProgress(transferRow(transferId, peerId, info, 'download'), info, 'active');
          break;
        case T.UPLOAD_COMPLETED:
          r = transferRow(transferId, peerId, info, 'upload');
          setProgress(r, { percentage: 100 }, 'done');
          r.extra.textContent = 'sent';
          break;
        case T.DOWNLOAD_COMPLETED:
          r = transferRow(transferId, peerId, info, 'download');
          setProgress(r, { percentage: 100 }, 'done');
          break;
        case T.REJECTED:
        case T.USER_REJECTED:
        case T.CANCEL:
        case T.ERROR:
        case T.START_ERROR:
          if (!transferId) {
            notice('File transfer failed: ' + describe(error));
            break;
          }
          r = transferRow(transferId, peerId, info, (info && info.direction) || 'upload');
          setProgress(r, null, 'failed');
          r.extra.textContent = state + (error ? ': ' + describe(error) : '');
          break;
        default:
          break;
      }
    });

    s.on('incomingData', function (data, transferId, peerId, info, isSelf) {
      if (isSelf) return;
      var r = transferRow(transferId, peerId, info, 'download');
      var blob = data instanceof Blob ? data : new Blob([String(data)], { type: 'text/plain' });
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = (info && info.name) || r.name || 'download';
      a.textContent = 'Download ' + a.download;
      a.className = 'download';
      r.extra.textContent = '';
      r.extra.appendChild(a);
      notice('Received "' + a.download + '" from ' + nameOf(peerId));
      if (autoreply) reportFile(s, blob, a.download, peerId);
    });

    s.on('channelError', function (error) { notice('Signaling error: ' + describe(error)); });
    s.on('sessionDisconnect', function () {
      notice('Disconnected from the signaling server');
      setStatus('disconnected', 'Disconnected');
    });
  }

  // ---- autoreply (`&autoreply=1`) -------------------------------------------------------------

  function autoReplyTo(s, message, peerId) {
    var text = message.content;
    // Only plain text, and never another page's answer: two autoreply pages must not ping-pong.
    if (typeof text !== 'string' || text.indexOf('browser ') === 0) return;
    if (text === 'browser: leave') {
      leave();
      return;
    }
    var reply = 'browser got: ' + text;
    if (message.isDataChannel) s.sendP2PMessage(reply, peerId);
    else s.sendMessage(reply, peerId);
    addChat(app.name, reply, { self: true, p2p: !!message.isDataChannel, isPrivate: true });
  }

  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  }

  // The sender checks the hash against what it sent: proof the bytes arrived intact.
  function reportFile(s, blob, name, peerId) {
    if (!window.crypto || !window.crypto.subtle || typeof blob.arrayBuffer !== 'function') {
      s.sendMessage('browser saved ' + name + ': ' + blob.size + ' bytes sha256 unavailable', peerId);
      return;
    }
    blob.arrayBuffer().then(function (buf) {
      return window.crypto.subtle.digest('SHA-256', buf);
    }).then(function (digest) {
      s.sendMessage('browser saved ' + name + ': ' + blob.size + ' bytes sha256 ' + hex(digest), peerId);
    }).catch(function (err) {
      s.sendMessage('browser saved ' + name + ': ' + blob.size + ' bytes sha256 failed: ' + describe(err), peerId);
    });
  }

  function setLocked(locked) {
    app.locked = locked;
    $('lock-state').dataset.locked = locked ? 'true' : 'false';
    $('lock-state').textContent = locked ? 'Room locked' : 'Room unlocked';
    $('lock').disabled = locked;
    $('unlock').disabled = !locked;
  }

  // The mic/camera buttons follow our own mediaStatus (from `streamMuted` with isSelf).
  var muted = { audioMuted: false, videoMuted: false };
  function setMuteButtons(status) {
    if (!status) return;
    muted = { audioMuted: !!status.audioMuted, videoMuted: !!status.videoMuted };
    $('mute-audio').textContent = muted.audioMuted ? 'Unmute mic' : 'Mute mic';
    $('mute-audio').setAttribute('aria-pressed', muted.audioMuted ? 'true' : 'false');
    $('mute-video').textContent = muted.videoMuted ? 'Start camera' : 'Stop camera';
    $('mute-video').setAttribute('aria-pressed', muted.videoMuted ? 'true' : 'false');
  }

  var sharing = false;
  function setSharing(on) {
    sharing = on;
    $('screen').textContent = on ? 'Stop sharing' : 'Share screen';
  }

  // skylinkjs 0.6.26's shareScreen() asks for the screen with the pre-2018 Chrome way: a
  // `getUserMedia({video: {mediaSource: …}})` that AdapterJS routes through a screen-sharing
  // extension, which no current browser has. Answer such requests with the standard
  // getDisplayMedia() instead; the SDK then carries on as it did with the extension's stream
  // (mediaAccessSuccess, the `screenshare` flag in our peer info, renegotiation).
  function modernScreenCapture() {
    var md = navigator.mediaDevices;
    var base = navigator.getUserMedia;
    if (!md || typeof md.getDisplayMedia !== 'function' || typeof base !== 'function') return;
    navigator.getUserMedia = function (constraints, success, failure) {
      var video = constraints && constraints.video;
      if (video && typeof video === 'object' && video.mediaSource) {
        md.getDisplayMedia({ video: true, audio: false }).then(success, failure);
        return undefined;
      }
      return base.apply(this, arguments);
    };
  }

  // 0.6.26 swaps streams (shareScreen, stopScreen, sendStream) with removeStream + addStream,
  // written for Plan B. Under Unified Plan that leaves the old m-lines without a sender and adds
  // a new transceiver that its renegotiation never brings into the offer, so the peers never
  // see the new stream. Put a new track on an m-line of its kind whose sender was emptied
  // instead (replaceTrack + the new stream's id), so the restart offer carries it and the far
  // side gets a `track` event for the new stream.
  function reuseEmptiedSenders() {
    var proto = window.RTCPeerConnection && window.RTCPeerConnection.prototype;
    if (!proto || typeof proto.addTrack !== 'function' || typeof proto.getTransceivers !== 'function') return;
    var addTrack = proto.addTrack;
    proto.addTrack = function (track) {
      var streams = Array.prototype.slice.call(arguments, 1);
      var free = this.getTransceivers().filter(function (t) {
        return !t.stopped && t.mid !== null && !t.sender.track && t.receiver.track && t.receiver.track.kind === track.kind;
      })[0];
      if (!free) return addTrack.apply(this, arguments);
      free.sender.replaceTrack(track).catch(function (e) { console.warn('replaceTrack: ' + e); });
      if (typeof free.sender.setStreams === 'function') free.sender.setStreams.apply(free.sender, streams);
      free.direction = 'sendrecv';
      return free.sender;
    };
    // The stream calls 0.6.26 makes, on top of the tracks (Chromium's native addStream would
    // bypass the addTrack above, and its getLocalStreams would not list what addTrack added).
    var added = new WeakMap(); // peer connection -> streams given to addStream
    proto.addStream = function (stream) {
      var pc = this;
      var list = (added.get(pc) || []).filter(function (s) { return s !== stream; });
      added.set(pc, list.concat([stream]));
      stream.getTracks().forEach(function (track) { pc.addTrack(track, stream); });
    };
    proto.getLocalStreams = function () {
      return (added.get(this) || []).slice();
    };
    proto.removeStream = function (stream) {
      var pc = this;
      added.set(pc, (added.get(pc) || []).filter(function (s) { return s !== stream; }));
      var tracks = stream.getTracks();
      pc.getSenders().forEach(function (sender) {
        if (sender.track && tracks.indexOf(sender.track) >= 0) pc.removeTrack(sender);
      });
    };
  }


  // Installed when the app starts its own Skylink instance, not at load: the interop suites
  // drive the unmodified SDK on this page and must see 0.6.26 as it is.
  var shimsInstalled = false;
  function installCompatShims() {
    if (shimsInstalled) return;
    shimsInstalled = true;
    modernScreenCapture();
    reuseEmptiedSenders();
  }

  // ---- join / leave --------------------------------------------------------------------------

  function join(room, name) {
    if (typeof window.Skylink !== 'function') {
      setStatus('error', 'skylink.complete.js is not available on this server');
      notice('skylink.complete.js is not available (run `npm ci` in interop/ or pass --skylinkjs).');
      return;
    }
    app.room = room;
    app.name = name;
    if (!sk) {
      installCompatShims();
      sk = app.skylink = new window.Skylink();
      wire(sk);
    }
    setInRoomUi(true);
    setLocked(false);
    setSharing(false);
    setMuteButtons({ audioMuted: false, videoMuted: false });
    setStatus('joining', 'Joining "' + room + '"…');
    var doJoin = function () {
      sk.joinRoom(room, { audio: true, video: true, userData: { displayName: name } }, function (error, success) {
        if (error) {
          setStatus('error', 'Join failed: ' + describe(error));
          notice('Join failed: ' + describe(error));
          setInRoomUi(false);
          return;
        }
        app.peerId = success.peerId;
        setStatus('joined', 'In room "' + room + '" as ' + name);
      });
    };
    if (initialised) {
      doJoin();
      return;
    }
    sk.init({
      appKey: appKey,
      defaultRoom: room,
      roomServer: '//' + location.host,
      forceSSL: location.protocol === 'https:',
    }, function (error) {
      if (error) {
        setStatus('error', 'Init failed: ' + describe(error));
        notice('Init failed: ' + describe(error));
        setInRoomUi(false);
        return;
      }
      initialised = true;
      doJoin();
    });
  }

  function leave() {
    if (!sk) return;
    sk.leaveRoom(function () {
      removeAllTiles();
      setStatus('idle', 'Left the room');
    });
    removeAllTiles();
    setInRoomUi(false);
    setSharing(false);
    app.peerId = null;
    setStatus('idle', 'Left the room');
  }

  // ---- UI wiring -----------------------------------------------------------------------------

  $('join-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var room = $('room').value.trim() || 'demo';
    var name = $('name').value.trim() || 'guest-' + Math.random().toString(36).slice(2, 6);
    $('name').value = name;
    join(room, name);
  });
  $('leave').onclick = leave;

  $('chat-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('msg').value;
    if (!sk || !text) return;
    var p2p = $('p2p').checked;
    if (p2p) sk.sendP2PMessage(text);
    else sk.sendMessage(text);
    addChat(app.name, text, { self: true, p2p: p2p });
    $('msg').value = '';
  });

  $('file-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var file = $('file').files && $('file').files[0];
    if (!sk || !file) return;
    notice('Sending "' + file.name + '" to everyone');
    sk.sendBlobData(file, function (error) {
      if (error) notice('Sending "' + file.name + '" failed: ' + describe(error));
      else notice('"' + file.name + '" sent');
    });
    $('file').value = '';
  });

  $('lock').onclick = function () { if (sk) sk.lockRoom(); };
  $('unlock').onclick = function () { if (sk) sk.unlockRoom(); };

  // 0.6.26's muteStream counts a missing option as muted, so both are always given.
  $('mute-audio').onclick = function () {
    if (sk) sk.muteStream({ audioMuted: !muted.audioMuted, videoMuted: muted.videoMuted });
  };
  $('mute-video').onclick = function () {
    if (sk) sk.muteStream({ audioMuted: muted.audioMuted, videoMuted: !muted.videoMuted });
  };

  $('screen').onclick = function () {
    if (!sk) return;
    if (sharing) {
      sk.stopScreen();
      setSharing(false);
      return;
    }
    sk.shareScreen(function (error) {
      if (error) notice('Screen share failed: ' + describe(error));
      else setSharing(true);
    });
  };

  window.addEventListener('beforeunload', function () {
    if (sk && app.state === 'joined') sk.leaveRoom();
  });

  // ---- auto-join -----------------------------------------------------------------------------

  if (params.get('name')) $('name').value = params.get('name');
  if (params.get('room')) {
    $('room').value = params.get('room');
    var name = $('name').value.trim() || 'guest-' + Math.random().toString(36).slice(2, 6);
    $('name').value = name;
    join(params.get('room'), name);
  } else if (typeof window.Skylink !== 'function') {
    setStatus('error', 'skylink.complete.js is not available');
    notice('skylink.complete.js is not available on this server (run `npm ci` in interop/ or pass --skylinkjs).');
  }
})();
