//! One virtual client: room-API GET, Engine.IO 3 websocket, `joinRoom`/`inRoom`, `enter`/
//! `welcome` discovery, then `private`/`public` traffic carrying timestamps.

use super::stats::{Kind, Shared};
use super::{Config, Mode, Plan, Target, http, sys};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use skylink_sm::frame::{SioPacket, encode_message_event, message_payload, parse_packet};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Interval, MissedTickBehavior, Sleep};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Ws = WebSocketStream<TcpStream>;

/// Everything a client task needs, handed over at spawn time.
pub(super) struct ClientCtx {
    pub idx: usize,
    pub room: usize,
    pub cfg: Arc<Config>,
    pub target: Arc<Target>,
    pub shared: Arc<Shared>,
    pub connect_permits: Arc<Semaphore>,
    pub join_tx: mpsc::UnboundedSender<JoinReport>,
    pub plan_rx: watch::Receiver<Option<Arc<Plan>>>,
    pub shutdown_rx: watch::Receiver<bool>,
    pub done_rx: mpsc::UnboundedReceiver<u64>,
    pub notify: Arc<Vec<mpsc::UnboundedSender<u64>>>,
}

/// What a client tells the coordinator once its join attempt is over.
pub(super) struct JoinReport {
    pub idx: usize,
    pub result: Result<JoinTimes, Kind>,
}

/// A successful join: the peer id and where the time went (µs).
pub(super) struct JoinTimes {
    pub sid: String,
    pub api_us: u64,
    pub socket_us: u64,
    pub in_room_us: u64,
    pub total_us: u64,
}

/// What a client reports at the end.
#[derive(Default)]
pub(super) struct ClientOutcome {
    pub joined: bool,
    /// Distinct peers learnt through `enter`/`welcome`.
    pub discovered: usize,
}

/// A joined signaling session.
struct Session {
    ws: Ws,
    sid: String,
    cid: String,
    rid: String,
    weight: Value,
    ping_interval: Duration,
    ping_timeout: Duration,
}

/// Runs one virtual client to completion.
pub(super) async fn run(mut ctx: ClientCtx) -> ClientOutcome {
    let mut outcome = ClientOutcome::default();
    let permit = ctx.connect_permits.clone().acquire_owned().await;
    let started = Instant::now();
    let joined = tokio::time::timeout(ctx.cfg.join_timeout, join(&ctx, started)).await;
    drop(permit);
    let (session, times) = match joined {
        Ok(Ok(ok)) => ok,
        Ok(Err((kind, note))) => {
            ctx.shared.error_note(kind, note);
            let _ = ctx.join_tx.send(JoinReport {
                idx: ctx.idx,
                result: Err(kind),
            });
            return outcome;
        }
        Err(_) => {
            ctx.shared.error(Kind::JoinTimeout);
            let _ = ctx.join_tx.send(JoinReport {
                idx: ctx.idx,
                result: Err(Kind::JoinTimeout),
            });
            return outcome;
        }
    };
    let _ = ctx.join_tx.send(JoinReport {
        idx: ctx.idx,
        result: Ok(times),
    });
    outcome.joined = true;
    let (sink, stream) = session.ws.split();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(writer(sink, out_rx, ctx.shared.clone()));
    let pad: String = "x".repeat(ctx.cfg.payload);
    let mut client = Client {
        idx: ctx.idx,
        room: ctx.room,
        inflight: match ctx.cfg.mode {
            Mode::Inflight(k) => k,
            _ => 0,
        },
        shared: ctx.shared.clone(),
        notify: ctx.notify.clone(),
        public_ratio: ctx.cfg.public_ratio,
        sid_json: json_str(&session.sid),
        cid_json: json_str(&session.cid),
        rid_json: json_str(&session.rid),
        sid: session.sid,
        rid: session.rid,
        weight: session.weight,
        pad_json: json_str(&pad),
        out: out_tx,
        plan: None,
        peers: Vec::new(),
        seq: 0,
        pending: HashMap::new(),
        last_seen: HashMap::new(),
        discovered: HashSet::new(),
        rng: StdRng::seed_from_u64(0x5eed ^ ctx.idx as u64),
        sending: false,
        awaiting_pong: None,
        pong_timeout_reported: false,
    };
    if ctx.cfg.send_enter {
        let enter = client.announcement("enter", None);
        client.send_signal(&enter);
    }
    client
        .event_loop(
            &mut ctx,
            stream,
            session.ping_interval,
            session.ping_timeout,
        )
        .await;
    client.stop_sending();
    // Leave like socket.io's disconnect(): namespace DISCONNECT, then close the transport.
    let _ = client.out.send(Message::Text("41".into()));
    let _ = client.out.send(Message::Close(None));
    outcome.discovered = client.discovered.len();
    drop(client);
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
    outcome
}

/// Room-API GET, websocket connect, Engine.IO/socket.io handshake, `joinRoom` → `inRoom`.
async fn join(ctx: &ClientCtx, started: Instant) -> Result<(Session, JoinTimes), (Kind, String)> {
    let cfg = &ctx.cfg;
    let target = &ctx.target;
    let room_name = format!("{}{}", cfg.room_prefix, ctx.room);
    let path = format!(
        "{}/api/{}/{}?rand={}",
        target.path_prefix,
        cfg.app_key,
        room_name,
        sys::iso_now()
    );
    let response = http::get(target.api_addr, &target.host, &path, cfg.origin.as_deref())
        .await
        .map_err(|e| (Kind::Api, format!("GET {path}: {e:#}")))?;
    let api: Value = serde_json::from_slice(&response.body).map_err(|e| {
        (
            Kind::Api,
            format!("status {} non-JSON body: {e}", response.status),
        )
    })?;
    let field = |name: &str| api.get(name).and_then(Value::as_str);
    let (Some(rid), true) = (field("room_key"), response.status == 200) else {
        return Err((
            Kind::Api,
            format!(
                "status {} error {} info {}",
                response.status,
                api.get("error").unwrap_or(&Value::Null),
                api.get("info").unwrap_or(&Value::Null)
            ),
        ));
    };
    let rid = rid.to_owned();
    let cid = field("cid").unwrap_or_default().to_owned();
    let ws_addr = socket_addr(
        target,
        field("ipSigserver").unwrap_or_default(),
        api.get("httpPortList")
            .and_then(|l| l.get(0))
            .and_then(Value::as_u64),
    );
    let api_us = started.elapsed().as_micros() as u64;

    let stream = TcpStream::connect(ws_addr)
        .await
        .map_err(|e| (Kind::Connect, format!("tcp {ws_addr}: {e}")))?;
    stream.set_nodelay(true).ok();
    let url = format!(
        "ws://{ws_addr}/socket.io/?rand={}&EIO=3&transport=websocket",
        ctx.shared.epoch.elapsed().as_millis()
    );
    // Small buffers: thousands of idle sockets must not cost 256 KB each in the generator.
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config))
        .await
        .map_err(|e| (Kind::Connect, format!("websocket upgrade: {e}")))?;

    // Engine.IO open packet, then the socket.io CONNECT for "/".
    let mut ping_interval = Duration::from_millis(25_000);
    let mut ping_timeout = Duration::from_millis(60_000);
    let mut opened = false;
    loop {
        let text = next_text(&mut ws).await.map_err(|e| (Kind::Handshake, e))?;
        if let Some(open) = text.strip_prefix('0') {
            let open: Value = serde_json::from_str(open)
                .map_err(|e| (Kind::Handshake, format!("bad open packet {text:?}: {e}")))?;
            let ms = |k: &str| open.get(k).and_then(Value::as_u64);
            ping_interval = Duration::from_millis(ms("pingInterval").unwrap_or(25_000).max(10));
            ping_timeout = Duration::from_millis(ms("pingTimeout").unwrap_or(60_000));
            opened = true;
        } else if text.starts_with("40") {
            if !opened {
                ctx.shared
                    .note("handshake: socket.io CONNECT before Engine.IO open".into());
            }
            break;
        } else {
            return Err((Kind::Handshake, format!("unexpected frame {text:?}")));
        }
    }
    ctx.shared.connected.fetch_add(1, Relaxed);
    let socket_us = started.elapsed().as_micros() as u64 - api_us;

    let join_room = join_room_json(&api, &cfg.app_key);
    let frame = format!("4{}", encode_message_event(&join_room));
    ws.send(Message::Text(frame.into()))
        .await
        .map_err(|e| (Kind::Send, format!("joinRoom: {e}")))?;
    loop {
        let text = next_text(&mut ws)
            .await
            .map_err(|e| (Kind::JoinTimeout, e))?;
        let Some(packet) = text.strip_prefix('4') else {
            // Pongs cannot happen yet (we have not pinged); anything else is noted.
            ctx.shared.note(format!("before inRoom: frame {text:?}"));
            continue;
        };
        let payload = match parse_packet(packet) {
            Ok(SioPacket::Event { data, .. }) => message_payload(data)
                .map_err(|e| (Kind::Protocol, format!("{e}: {text}")))?
                .into_owned(),
            other => {
                ctx.shared
                    .note(format!("before inRoom: socket.io packet {other:?}"));
                continue;
            }
        };
        let msg: Value = serde_json::from_str(&payload)
            .map_err(|e| (Kind::Protocol, format!("{e}: {payload}")))?;
        match msg.get("type").and_then(Value::as_str) {
            Some("inRoom") => {
                let Some(sid) = msg.get("sid").and_then(Value::as_str) else {
                    return Err((Kind::Protocol, format!("inRoom without sid: {payload}")));
                };
                let total_us = started.elapsed().as_micros() as u64;
                let times = JoinTimes {
                    sid: sid.to_owned(),
                    api_us,
                    socket_us,
                    in_room_us: total_us - api_us - socket_us,
                    total_us,
                };
                let session = Session {
                    ws,
                    sid: sid.to_owned(),
                    cid,
                    rid,
                    weight: msg.get("tieBreaker").cloned().unwrap_or(Value::from(0)),
                    ping_interval,
                    ping_timeout,
                };
                return Ok((session, times));
            }
            Some("redirect") => {
                return Err((
                    Kind::JoinRejected,
                    format!(
                        "action {} reason {} info {}",
                        msg.get("action").unwrap_or(&Value::Null),
                        msg.get("reason").unwrap_or(&Value::Null),
                        msg.get("info").unwrap_or(&Value::Null)
                    ),
                ));
            }
            other => ctx.shared.note(format!(
                "before inRoom: message type {} delivered (spec §3.0: only inRoom/redirect)",
                other.unwrap_or("<none>")
            )),
        }
    }
}

/// Where the websocket goes: `--socket-addr`, else the API's `ipSigserver:httpPortList[0]` when
/// it is loopback, else the host:port of `--url`.
fn socket_addr(target: &Target, ip_sig: &str, port: Option<u64>) -> SocketAddr {
    if let Some(addr) = target.socket_override {
        return addr;
    }
    let port = port.and_then(|p| u16::try_from(p).ok()).filter(|p| *p != 0);
    let ip = if ip_sig.eq_ignore_ascii_case("localhost") {
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        ip_sig.parse::<IpAddr>().ok()
    };
    match (ip, port) {
        (Some(ip), Some(port)) if ip.is_loopback() => SocketAddr::new(ip, port),
        _ => target.api_addr,
    }
}

/// `joinRoom` built from the API response exactly as skylinkjs 0.6.26 does (§3.1).
fn join_room_json(api: &Value, app_key: &str) -> String {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), "joinRoom".into());
    for (wire, from) in [
        ("uid", "username"),
        ("cid", "cid"),
        ("rid", "room_key"),
        ("userCred", "userCred"),
        ("timeStamp", "timeStamp"),
        ("apiOwner", "apiOwner"),
        ("roomCred", "roomCred"),
        ("start", "start"),
        ("len", "len"),
    ] {
        if let Some(v) = api.get(from) {
            m.insert(wire.into(), v.clone());
        }
    }
    m.insert(
        "isPrivileged".into(),
        (api.get("isPrivileged") == Some(&Value::Bool(true))).into(),
    );
    m.insert(
        "autoIntroduce".into(),
        (api.get("autoIntroduce") != Some(&Value::Bool(false))).into(),
    );
    m.insert("key".into(), app_key.into());
    Value::Object(m).to_string()
}

/// Next text frame during the handshake (control frames skipped).
async fn next_text(ws: &mut Ws) -> Result<String, String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(c))) => return Err(format!("closed by server: {c:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("websocket: {e}")),
            None => return Err("connection ended".into()),
        }
    }
}

/// Writes queued frames, flushing whenever the queue runs dry (browsers never block a sender).
async fn writer(
    mut sink: SplitSink<Ws, Message>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
) {
    while let Some(msg) = rx.recv().await {
        let closing = matches!(msg, Message::Close(_));
        if let Err(e) = sink.feed(msg).await {
            shared.error_note(Kind::Send, format!("write: {e}"));
            return;
        }
        while let Ok(msg) = rx.try_recv() {
            if let Err(e) = sink.feed(msg).await {
                shared.error_note(Kind::Send, format!("write: {e}"));
                return;
            }
        }
        if let Err(e) = sink.flush().await {
            if !closing {
                shared.error_note(Kind::Send, format!("flush: {e}"));
            }
            return;
        }
        if closing {
            break;
        }
    }
    let _ = sink.close().await;
}

/// JSON string literal of `s`.
fn json_str(s: &str) -> String {
    Value::from(s).to_string()
}

/// The benchmark's payload inside `data`.
#[derive(Deserialize)]
struct BenchData {
    seq: u64,
    /// Send time, µs since the generator's epoch.
    t: u64,
    /// Sender's client index.
    from: usize,
    /// Target's client index, -1 for public.
    to: i64,
}

/// The fields of a received signaling message the bench looks at.
#[derive(Deserialize)]
struct Signal<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    mid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    target: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    rid: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    lists: Option<Vec<String>>,
    #[serde(default)]
    action: Option<Value>,
    #[serde(default)]
    reason: Option<Value>,
    #[serde(default)]
    info: Option<Value>,
}

/// The state of a joined client.
struct Client {
    idx: usize,
    room: usize,
    inflight: usize,
    shared: Arc<Shared>,
    notify: Arc<Vec<mpsc::UnboundedSender<u64>>>,
    public_ratio: f64,
    sid: String,
    rid: String,
    sid_json: String,
    cid_json: String,
    rid_json: String,
    weight: Value,
    pad_json: String,
    out: mpsc::UnboundedSender<Message>,
    plan: Option<Arc<Plan>>,
    /// (client index, JSON-quoted sid) of the other members of our room.
    peers: Vec<(usize, String)>,
    seq: u64,
    /// In closed-loop mode: seq → deliveries still outstanding.
    pending: HashMap<u64, u32>,
    /// Highest seq seen per sender.
    last_seen: HashMap<usize, u64>,
    discovered: HashSet<String>,
    rng: StdRng,
    sending: bool,
    awaiting_pong: Option<Instant>,
    pong_timeout_reported: bool,
}

async fn opt_sleep(s: &mut Option<Pin<Box<Sleep>>>) {
    match s {
        Some(s) => s.as_mut().await,
        None => std::future::pending().await,
    }
}

async fn opt_tick(i: &mut Option<Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Client {
    async fn event_loop(
        &mut self,
        ctx: &mut ClientCtx,
        mut stream: SplitStream<Ws>,
        ping_interval: Duration,
        ping_timeout: Duration,
    ) {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_interval, ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut start_timer: Option<Pin<Box<Sleep>>> = None;
        let mut stop_timer: Option<Pin<Box<Sleep>>> = None;
        let mut send_tick: Option<Interval> = None;
        let mut plan_seen = false;
        if *ctx.shutdown_rx.borrow() {
            return;
        }
        loop {
            tokio::select! {
                changed = ctx.shutdown_rx.changed() => {
                    if changed.is_err() || *ctx.shutdown_rx.borrow() {
                        return;
                    }
                }
                changed = ctx.plan_rx.changed(), if !plan_seen => {
                    if changed.is_err() {
                        return;
                    }
                    let plan = ctx.plan_rx.borrow_and_update().clone();
                    if let Some(plan) = plan {
                        plan_seen = true;
                        self.set_plan(&plan);
                        if !self.peers.is_empty() && ctx.cfg.mode != Mode::Idle {
                            // Counted before t_start so the coordinator can wait for all.
                            self.sending = true;
                            self.shared.senders_active.fetch_add(1, Relaxed);
                            start_timer = Some(Box::pin(tokio::time::sleep_until(plan.t_start.into())));
                            stop_timer = Some(Box::pin(tokio::time::sleep_until(plan.t_stop.into())));
                        }
                    }
                }
                () = opt_sleep(&mut start_timer) => {
                    start_timer = None;
                    match ctx.cfg.mode {
                        Mode::Rate(rate) => {
                            let period = Duration::from_secs_f64(1.0 / rate);
                            let phase = period.mul_f64(self.rng.random::<f64>());
                            let mut tick = tokio::time::interval_at(
                                tokio::time::Instant::now() + phase,
                                period,
                            );
                            tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
                            send_tick = Some(tick);
                        }
                        Mode::Inflight(_) => self.refill(),
                        Mode::Idle => {}
                    }
                }
                () = opt_sleep(&mut stop_timer) => {
                    stop_timer = None;
                    send_tick = None;
                    self.stop_sending();
                }
                () = opt_tick(&mut send_tick), if self.sending => {
                    self.send_one();
                }
                Some(seq) = ctx.done_rx.recv(), if self.inflight > 0 => {
                    self.complete(seq);
                    if start_timer.is_none() {
                        self.refill();
                    }
                }
                _ = ping.tick() => {
                    if let Some(at) = self.awaiting_pong
                        && at.elapsed() > ping_timeout
                        && !self.pong_timeout_reported
                    {
                        self.pong_timeout_reported = true;
                        self.shared.error(Kind::PongTimeout);
                    }
                    if self.awaiting_pong.is_none() {
                        self.awaiting_pong = Some(Instant::now());
                    }
                    self.shared.pings.fetch_add(1, Relaxed);
                    let _ = self.out.send(Message::Text("2".into()));
                }
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        if !self.handle_frame(text.as_str()) {
                            if !*ctx.shutdown_rx.borrow() {
                                self.shared.error(Kind::Disconnected);
                            }
                            return;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        if !*ctx.shutdown_rx.borrow() {
                            self.shared.error_note(Kind::Disconnected, format!("close frame {frame:?}"));
                        }
                        return;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        if !*ctx.shutdown_rx.borrow() {
                            self.shared.error_note(Kind::Disconnected, format!("{e}"));
                        }
                        return;
                    }
                    None => {
                        if !*ctx.shutdown_rx.borrow() {
                            self.shared.error_note(Kind::Disconnected, "connection ended");
                        }
                        return;
                    }
                },
            }
        }
    }

    fn set_plan(&mut self, plan: &Arc<Plan>) {
        self.peers = plan
            .members
            .get(self.room)
            .map(|members| {
                members
                    .iter()
                    .filter(|m| m.idx != self.idx)
                    .map(|m| (m.idx, json_str(&m.sid)))
                    .collect()
            })
            .unwrap_or_default();
        self.plan = Some(plan.clone());
    }

    fn stop_sending(&mut self) {
        if self.sending {
            self.sending = false;
            self.shared.senders_active.fetch_sub(1, Relaxed);
        }
    }

    /// Closed loop: keep `inflight` messages outstanding while sending.
    fn refill(&mut self) {
        while self.sending && self.pending.len() < self.inflight {
            self.send_one();
        }
    }

    fn complete(&mut self, seq: u64) {
        if let Some(left) = self.pending.get_mut(&seq) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.pending.remove(&seq);
            }
        }
    }

    fn send_signal(&self, json: &str) {
        let frame = format!("4{}", encode_message_event(json));
        let _ = self.out.send(Message::Text(frame.into()));
    }

    /// Sends one `private` (or, by `public_ratio`, `public`) message with a timestamp.
    fn send_one(&mut self) {
        if self.peers.is_empty() {
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        let public = self.public_ratio > 0.0 && self.rng.random::<f64>() < self.public_ratio;
        let t = self.shared.now_us();
        let (json, deliveries) = if public {
            self.shared.sent_public.fetch_add(1, Relaxed);
            (
                format!(
                    r#"{{"cid":{},"data":{{"seq":{seq},"t":{t},"from":{},"to":-1,"pad":{}}},"mid":{},"rid":{},"type":"public"}}"#,
                    self.cid_json, self.idx, self.pad_json, self.sid_json, self.rid_json
                ),
                self.peers.len() as u32,
            )
        } else {
            self.shared.sent_private.fetch_add(1, Relaxed);
            let (to, to_sid) = &self.peers[self.rng.random_range(0..self.peers.len())];
            (
                format!(
                    r#"{{"cid":{},"data":{{"seq":{seq},"t":{t},"from":{},"to":{to},"pad":{}}},"mid":{},"rid":{},"target":{to_sid},"type":"private"}}"#,
                    self.cid_json, self.idx, self.pad_json, self.sid_json, self.rid_json
                ),
                1,
            )
        };
        self.shared
            .expected
            .fetch_add(u64::from(deliveries), Relaxed);
        if self.inflight > 0 {
            self.pending.insert(seq, deliveries);
        }
        self.send_signal(&json);
    }

    /// The `enter`/`welcome` announcement (§3.0.1) of a receive-only bench peer.
    fn announcement(&self, kind: &str, target: Option<&str>) -> String {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), kind.into());
        m.insert("mid".into(), self.sid.clone().into());
        m.insert("rid".into(), self.rid.clone().into());
        m.insert("agent".into(), "bench".into());
        m.insert("version".into(), "0".into());
        m.insert("os".into(), "".into());
        m.insert(
            "userInfo".into(),
            serde_json::json!({
                "userData": format!("bench-{}", self.idx),
                "settings": {"audio": false, "video": false, "googleXBandwidth": {}, "maxBandwidth": {}},
                "mediaStatus": {"audioMuted": true, "videoMuted": true},
            }),
        );
        m.insert("receiveOnly".into(), true.into());
        if let Some(target) = target {
            m.insert("target".into(), target.into());
        }
        m.insert("weight".into(), self.weight.clone());
        m.insert("temasysPluginVersion".into(), Value::Null);
        m.insert("enableIceTrickle".into(), true.into());
        m.insert("enableDataChannel".into(), false.into());
        m.insert("enableIceRestart".into(), false.into());
        m.insert("SMProtocolVersion".into(), "0.1.2.4".into());
        m.insert("DTProtocolVersion".into(), "0.1.3".into());
        Value::Object(m).to_string()
    }

    /// Handles one Engine.IO frame; `false` when the session is over.
    fn handle_frame(&mut self, text: &str) -> bool {
        match text.as_bytes().first() {
            Some(b'3') => {
                self.awaiting_pong = None;
                self.shared.pongs.fetch_add(1, Relaxed);
            }
            Some(b'4') => match parse_packet(&text[1..]) {
                Ok(SioPacket::Event { data, .. }) => match message_payload(data) {
                    Ok(json) => self.handle_signal(&json, 0),
                    Err(e) => self
                        .shared
                        .error_note(Kind::Protocol, format!("{e}: {text}")),
                },
                Ok(SioPacket::Disconnect { .. }) => {
                    self.shared
                        .note("server sent socket.io DISCONNECT (41)".into());
                    return false;
                }
                Ok(SioPacket::Error { data, .. }) => self.shared.error_note(
                    Kind::Protocol,
                    format!("server sent socket.io ERROR packet (§2.1 forbids): {data}"),
                ),
                Ok(other) => self
                    .shared
                    .note(format!("unexpected socket.io packet {other:?}")),
                Err(e) => self
                    .shared
                    .error_note(Kind::Protocol, format!("{e}: {text}")),
            },
            Some(b'2') => {
                self.shared.error(Kind::ServerPing);
                let _ = self
                    .out
                    .send(Message::Text(format!("3{}", &text[1..]).into()));
            }
            Some(b'1') => {
                self.shared.note("server sent Engine.IO close (1)".into());
                return false;
            }
            Some(b'6') => {}
            _ => self
                .shared
                .error_note(Kind::Protocol, format!("unknown Engine.IO frame {text:?}")),
        }
        true
    }

    fn handle_signal(&mut self, json: &str, depth: u8) {
        self.shared.received_any.fetch_add(1, Relaxed);
        let msg: Signal<'_> = match serde_json::from_str(json) {
            Ok(m) => m,
            Err(e) => {
                self.shared
                    .error_note(Kind::Protocol, format!("bad message JSON ({e}): {json}"));
                return;
            }
        };
        if msg.mid.as_deref() == Some(self.sid.as_str()) {
            self.shared
                .error_note(Kind::SelfEcho, format!("own {} came back", msg.kind));
            return;
        }
        let room_ok = msg.rid.as_deref() == Some(self.rid.as_str());
        match &*msg.kind {
            "private" | "public" => self.on_bench_message(&msg, room_ok),
            "enter" => {
                self.shared.enters.fetch_add(1, Relaxed);
                if !room_ok || msg.target.as_deref().is_some_and(|t| t != self.sid) {
                    self.shared
                        .error_note(Kind::Misdelivered, format!("enter: {json}"));
                    return;
                }
                if let Some(mid) = msg.mid {
                    let welcome = self.announcement("welcome", Some(&mid));
                    self.send_signal(&welcome);
                    self.discovered.insert(mid.into_owned());
                }
            }
            "welcome" => {
                self.shared.welcomes.fetch_add(1, Relaxed);
                if !room_ok || msg.target.as_deref() != Some(self.sid.as_str()) {
                    self.shared
                        .error_note(Kind::Misdelivered, format!("welcome: {json}"));
                    return;
                }
                if let Some(mid) = msg.mid {
                    self.discovered.insert(mid.into_owned());
                }
            }
            "redirect" => self.shared.error_note(
                Kind::Redirect,
                format!(
                    "action {} reason {} info {}",
                    msg.action.unwrap_or_default(),
                    msg.reason.unwrap_or_default(),
                    msg.info.unwrap_or_default()
                ),
            ),
            "bye" => {
                self.shared.byes.fetch_add(1, Relaxed);
            }
            "group" if depth == 0 => {
                for item in msg.lists.unwrap_or_default() {
                    self.handle_signal(&item, 1);
                }
            }
            other => self.shared.note(format!("received message type {other:?}")),
        }
    }

    fn on_bench_message(&mut self, msg: &Signal<'_>, room_ok: bool) {
        let now = self.shared.now_us();
        let Some(data) = msg
            .data
            .and_then(|d| serde_json::from_str::<BenchData>(d.get()).ok())
        else {
            self.shared.note(format!(
                "{} message without bench data (foreign client?)",
                msg.kind
            ));
            return;
        };
        let ok = room_ok
            && if msg.kind == "private" {
                msg.target.as_deref() == Some(self.sid.as_str())
                    && usize::try_from(data.to).ok() == Some(self.idx)
            } else {
                msg.target.is_none()
                    && data.to == -1
                    && self
                        .plan
                        .as_ref()
                        .is_none_or(|p| p.client_room.get(data.from) == Some(&self.room))
            };
        if !ok {
            self.shared.error_note(
                Kind::Misdelivered,
                format!(
                    "{} from client {} (to {}) reached client {} (room {})",
                    msg.kind, data.from, data.to, self.idx, self.room
                ),
            );
            return;
        }
        let last = self.last_seen.entry(data.from).or_insert(0);
        if data.seq <= *last {
            self.shared.error(Kind::OutOfOrder);
        } else {
            *last = data.seq;
        }
        self.shared
            .record_relay(self.idx, now.saturating_sub(data.t));
        self.shared.delivered.fetch_add(1, Relaxed);
        if self.inflight > 0
            && let Some(tx) = self.notify.get(data.from)
        {
            let _ = tx.send(data.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_room_forwards_api_fields_in_wire_order() {
        let api: Value = serde_json::from_str(
            r#"{"cid":"c","apiOwner":"o","room_key":"rk","username":"u","userCred":"uc","timeStamp":"ts","roomCred":"rc","start":"s","len":24,"isPrivileged":"yes","pc_constraints":"{}"}"#,
        )
        .unwrap();
        assert_eq!(
            join_room_json(&api, "key"),
            r#"{"type":"joinRoom","uid":"u","cid":"c","rid":"rk","userCred":"uc","timeStamp":"ts","apiOwner":"o","roomCred":"rc","start":"s","len":24,"isPrivileged":false,"autoIntroduce":true,"key":"key"}"#
        );
    }

    #[test]
    fn socket_address_rules() {
        let api_addr: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let target = Target {
            api_addr,
            host: "127.0.0.1:9000".into(),
            path_prefix: String::new(),
            socket_override: None,
        };
        assert_eq!(
            socket_addr(&target, "127.0.0.1", Some(9001)),
            "127.0.0.1:9001".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(
            socket_addr(&target, "localhost", Some(9002)),
            "127.0.0.1:9002".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(
            socket_addr(&target, "signaling.example.com", Some(80)),
            api_addr
        );
        assert_eq!(socket_addr(&target, "127.0.0.1", Some(0)), api_addr);
        assert_eq!(socket_addr(&target, "0.0.0.0", Some(9001)), api_addr);
    }
}
