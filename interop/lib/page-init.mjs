// Injected into every harness page with `page.addInitScript` (runs before any page script, so
// before skylink.complete.js / AdapterJS / socket.io-client look at the globals).
//
// It is a plain function (serialized by Playwright), so it must not close over anything: its only
// input is `opts` = { forcePolling: boolean }.
//
// 1. Optionally hides `window.WebSocket`: skylinkjs 0.6.26 then starts in "Polling" mode
//    (`_openChannel`: `if (!window.WebSocket) socketType = 'Polling'`) and socket.io-client's
//    engine.io only has the polling transport (`BrowserWebSocket = global.WebSocket` is undefined).
// 2. Wraps RTCPeerConnection (and the webkit alias) so that non-loopback ICE servers are dropped:
//    skylinkjs always adds stun:turn.temasys.io, and this machine has no network.
// 3. Provides `window.__harness`: the event recorder (`record`) with a JSON-safe serializer, the
//    raw arguments of events that carry binary data (for byte-for-byte checks), and the ICE
//    configurations asked for vs. used.
export function pageInit(opts) {

  if (window.__harness) return;

  const h = {
    opts,
    events: [],
    raw: Object.create(null),
    iceConfigs: [],
    errors: [],
  };
  window.__harness = h;

  // ---- JSON-safe serialization of SDK event arguments ------------------------------------------
  const MAX_STRING = 256 * 1024;
  function ser(value, depth, seen) {
    if (value === undefined) return { __type: 'undefined' };
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : { __type: 'number', value: String(value) };
    if (typeof value === 'string') return value.length > MAX_STRING ? value.slice(0, MAX_STRING) + `…[${value.length} chars]` : value;
    if (typeof value === 'bigint') return { __type: 'bigint', value: String(value) };
    if (typeof value === 'function') return { __type: 'function', name: value.name || '' };
    if (typeof value !== 'object') return { __type: typeof value };
    if (depth > 12) return { __type: 'depth-limit' };
    if (seen.has(value)) return { __type: 'cycle' };
    try {
      if (typeof MediaStream !== 'undefined' && value instanceof MediaStream) {
        return {
          __type: 'MediaStream', id: value.id, active: value.active,
          tracks: value.getTracks().map((t) => ser(t, depth + 1, seen)),
        };
      }
      if (typeof MediaStreamTrack !== 'undefined' && value instanceof MediaStreamTrack) {
        return {
          __type: 'MediaStreamTrack', kind: value.kind, id: value.id, label: value.label,
          enabled: value.enabled, muted: value.muted, readyState: value.readyState,
        };
      }
      if (typeof File !== 'undefined' && value instanceof File) return { __type: 'File', name: value.name, size: value.size, mimeType: value.type };
      if (typeof Blob !== 'undefined' && value instanceof Blob) return { __type: 'Blob', size: value.size, mimeType: value.type };
      if (value instanceof ArrayBuffer) return { __type: 'ArrayBuffer', byteLength: value.byteLength };
      if (ArrayBuffer.isView(value)) return { __type: value.constructor.name, byteLength: value.byteLength };
      if (value instanceof Error) return { __type: 'Error', name: value.name, message: value.message, stack: String(value.stack || '').slice(0, 2000) };
      if (typeof RTCPeerConnection !== 'undefined' && value instanceof RTCPeerConnection) return { __type: 'RTCPeerConnection' };
      if (typeof RTCDataChannel !== 'undefined' && value instanceof RTCDataChannel) return { __type: 'RTCDataChannel', label: value.label, readyState: value.readyState };
      if (typeof Node !== 'undefined' && value instanceof Node) return { __type: 'DOMNode', nodeName: value.nodeName };
      if (typeof Event !== 'undefined' && value instanceof Event) return { __type: 'Event', type: value.type };
    } catch (e) {
      return { __type: 'unserializable', error: String(e) };
    }
    seen.add(value);
    let out;
    if (Array.isArray(value)) {
      out = value.map((v) => ser(v, depth + 1, seen));
    } else {
      out = {};
      for (const key of Object.keys(value)) {
        let v;
        try { v = value[key]; } catch (e) { v = { __type: 'getter-threw', error: String(e) }; }
        out[key] = ser(v, depth + 1, seen);
      }
    }
    seen.delete(value);
    return out;
  }
  h.serialize = (value) => ser(value, 0, new WeakSet());

  function hasBinary(args) {
    return args.some((a) => (typeof Blob !== 'undefined' && a instanceof Blob) || a instanceof ArrayBuffer || ArrayBuffer.isView(a));
  }

  // Record one event. `name` is the SDK event name (or `harness:*` for the harness' own records,
  // e.g. API callbacks). Returns the event index.
  h.record = (name, args) => {
    const idx = h.events.length;
    let serialized;
    try {
      serialized = h.serialize(args);
    } catch (e) {
      serialized = [{ __type: 'serialize-failed', error: String(e) }];
    }
    h.events.push({ idx, t: Date.now(), event: name, args: serialized });
    if (hasBinary(args)) h.raw[idx] = args;
    return idx;
  };

  window.addEventListener('error', (e) => {
    h.errors.push({ t: Date.now(), message: String(e.message), source: e.filename, line: e.lineno });
  });
  window.addEventListener('unhandledrejection', (e) => {
    h.errors.push({ t: Date.now(), message: 'unhandledrejection: ' + String(e.reason && (e.reason.stack || e.reason)) });
  });

  // ---- force Engine.IO long-polling ------------------------------------------------------------
  if (opts && opts.forcePolling) {
    for (const name of ['WebSocket', 'MozWebSocket']) {
      try {
        Object.defineProperty(window, name, { value: undefined, configurable: true, writable: true, enumerable: false });
      } catch (e) {
        h.errors.push({ t: Date.now(), message: `could not hide ${name}: ${e}` });
      }
    }
  }

  // ---- loopback-only ICE servers ---------------------------------------------------------------
  const LOOPBACK = /^(stuns?|turns?):(\/\/)?(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?([?/].*)?$/i;
  function filterConfig(config) {
    if (!config || typeof config !== 'object' || !Array.isArray(config.iceServers)) return config;
    const iceServers = [];
    for (const server of config.iceServers) {
      if (!server) continue;
      const copy = Object.assign({}, server);
      if (typeof copy.url === 'string') {
        if (!LOOPBACK.test(copy.url)) delete copy.url;
      }
      if (typeof copy.urls === 'string') {
        if (!LOOPBACK.test(copy.urls)) delete copy.urls;
      } else if (Array.isArray(copy.urls)) {
        copy.urls = copy.urls.filter((u) => LOOPBACK.test(u));
        if (copy.urls.length === 0) delete copy.urls;
      }
      if (copy.url || copy.urls) iceServers.push(copy);
    }
    return Object.assign({}, config, { iceServers });
  }
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection']) {
    const Orig = window[name];
    if (typeof Orig !== 'function' || Orig.__harnessWrapped) continue;
    const Wrapped = function RTCPeerConnection(config, constraints) {
      const used = filterConfig(config);
      h.iceConfigs.push({ t: Date.now(), via: name, requested: h.serialize(config), used: h.serialize(used), constraints: h.serialize(constraints) });
      return arguments.length > 1 ? new Orig(used, constraints) : new Orig(used);
    };
    Wrapped.prototype = Orig.prototype;
    Object.setPrototypeOf(Wrapped, Orig);
    Object.defineProperty(Wrapped, '__harnessWrapped', { value: true });
    window[name] = Wrapped;
  }
}

// Evaluated in the page after skylink.complete.js has loaded: creates the Skylink instance and
// hooks its `_trigger` so that every SDK event is recorded in `window.__harness.events`.
export function pageSetupSkylink({ logLevel }) {

  const h = window.__harness;
  if (!h) throw new Error('harness init script did not run');
  if (typeof window.Skylink !== 'function') throw new Error('window.Skylink is not a constructor: ' + typeof window.Skylink);
  const sk = new window.Skylink();
  const origTrigger = sk._trigger;
  sk._trigger = function (name) {
    h.record(name, Array.prototype.slice.call(arguments, 1));
    return origTrigger.apply(this, arguments);
  };
  if (typeof logLevel === 'number') sk.setLogLevel(logLevel);
  window.__sk = sk;
  return { hasWebSocket: typeof window.WebSocket === 'function', userAgent: navigator.userAgent };
}
