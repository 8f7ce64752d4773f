//! The room session (no media) as a sans-IO state machine: `joinRoom`/`inRoom`, `enter`/
//! `welcome` and the offerer decision (spec §5.1–§5.2), `bye`, `redirect`, `public`/
//! `private`, `updateUserEvent`, `roomLockEvent`, and the §4 throttle for outgoing messages.
//!
//! Inputs are decoded message texts, user commands and timer ticks with an explicit
//! [`Instant`]; outputs are [`Output`]s: frames to transmit and events to raise.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Number, Value, json};
use skylink_sm::message::{
    Enter, JoinRoom, Message, PcConfig, Private, Public, PublishOnly, Restart, RoomLockEvent,
    UpdateUserEvent, UserInfo, Welcome,
};
use skylink_sm::room_api::ApiSuccess;
use skylink_sm::throttle::{OutgoingMessage, Throttle};
use skylink_sm::version;

mod media;
pub use media::LocalAdvert;

use crate::error::RoomError;
use crate::event::{AgentInfo, Event, HandshakeProgress, MessageInfo, PeerConfig, PeerInfo};

/// `PRIORITY_WEIGHT_SCHEME` (spec §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PriorityWeightScheme {
    /// `"auto"`: offset 0.
    #[default]
    Auto,
    /// `"enforceOfferer"`: +2×10^15.
    EnforceOfferer,
    /// `"enforceAnswerer"`: −2×10^15.
    EnforceAnswerer,
}

impl PriorityWeightScheme {
    /// The weight offset.
    pub fn offset(self) -> f64 {
        match self {
            PriorityWeightScheme::Auto => 0.0,
            PriorityWeightScheme::EnforceOfferer => 2e15,
            PriorityWeightScheme::EnforceAnswerer => -2e15,
        }
    }

    /// The wire/constant value.
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityWeightScheme::Auto => "auto",
            PriorityWeightScheme::EnforceOfferer => "enforceOfferer",
            PriorityWeightScheme::EnforceAnswerer => "enforceAnswerer",
        }
    }
}

/// `weight = tieBreaker + offset` (spec §5.2); `NaN` when `tieBreaker` is missing.
pub fn compute_weight(tie_breaker: Option<f64>, scheme: PriorityWeightScheme) -> f64 {
    tie_breaker.map_or(f64::NAN, |t| t + scheme.offset())
}

/// The offerer rule on `welcome`/`restart`: offer iff an MCU is present or our weight is
/// strictly greater than the received raw `weight` (a non-number never compares greater).
pub fn should_offer(own_weight: f64, remote_weight: Option<&Value>, has_mcu: bool) -> bool {
    if has_mcu {
        return true;
    }
    match remote_weight.and_then(Value::as_f64) {
        Some(remote) => own_weight > remote,
        None => false,
    }
}

/// A weight as a JSON number: an integer when it is one (exactly representable), else a
/// float; `None` for NaN/infinite.
pub fn weight_number(w: f64) -> Option<Number> {
    if w.is_finite() && w.fract() == 0.0 && w.abs() < 9.007_199_254_740_992e15 {
        Some(Number::from(w as i64))
    } else {
        Number::from_f64(w)
    }
}

/// Our side of a peer pairing, once decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We send the offer.
    Offerer,
    /// We replied with `welcome`: the peer offers.
    Answerer,
}

/// Local configuration of the session (what we announce).
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// App key (sent as `key` in `joinRoom`).
    pub app_key: String,
    /// Room name (for `peerInfo.room`).
    pub room: String,
    /// `enableIceTrickle`.
    pub enable_ice_trickle: bool,
    /// `enableDataChannel`.
    pub enable_data_channel: bool,
    /// `enableIceRestart`.
    pub enable_ice_restart: bool,
    /// Weight scheme.
    pub priority_weight_scheme: PriorityWeightScheme,
    /// Initial user data.
    pub user_data: Value,
    /// This client's skylink-rs instance token, announced as [`INSTANCE_KEY`] in `enter`,
    /// `welcome` and `restart` (0.6.26 ignores unknown fields). It outlives a reconnect that
    /// gives us a new peer id, so another skylink-rs peer can resume our transfers.
    pub instance: Option<String>,
    /// `publishOnly` (§4.12).
    pub publish_only: bool,
    /// `parentId` (§4.12).
    pub parent_id: Option<String>,
    /// The kinds we receive (this join's `sdpSettings` and `publishOnly`): a kind we do not
    /// receive shows as `false` and muted in every remote peer's information.
    pub receiving: Receiving,
}

/// Which media kinds this join receives: `sdpSettings.connection.<kind>` and
/// `sdpSettings.direction.<kind>.receive` both on (`publishOnly` turns both off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receiving {
    /// We receive audio.
    pub audio: bool,
    /// We receive video.
    pub video: bool,
}

impl Default for Receiving {
    fn default() -> Self {
        Receiving {
            audio: true,
            video: true,
        }
    }
}

impl Receiving {
    /// A remote peer's information as we report it (sdp-and-peers.md §4.9, remote rule 8): a
    /// kind we do not receive is `settings.<kind> = false` with `<kind>Muted = true`, whatever
    /// the peer announced (it sends us none of it).
    ///
    /// ```
    /// use skylink_room::session::Receiving;
    /// let mut info = skylink_room::PeerInfo::default();
    /// info.settings = serde_json::json!({"audio": {"stereo": false}, "video": {"screenshare": false}});
    /// info.media_status = serde_json::json!({"audioMuted": false, "videoMuted": false});
    /// let seen = Receiving { audio: true, video: false }.view(&info);
    /// assert_eq!(seen.settings["video"], false);
    /// assert_eq!(seen.media_status["videoMuted"], true);
    /// assert_eq!(seen.media_status["audioMuted"], false);
    /// ```
    pub fn view(self, info: &PeerInfo) -> PeerInfo {
        let mut seen = info.clone();
        for (received, kind, muted) in [
            (self.audio, "audio", "audioMuted"),
            (self.video, "video", "videoMuted"),
        ] {
            if received {
                continue;
            }
            if let Value::Object(settings) = &mut seen.settings {
                settings.insert(kind.into(), Value::Bool(false));
            }
            if !seen.media_status.is_object() {
                seen.media_status = json!({});
            }
            if let Value::Object(status) = &mut seen.media_status {
                status.insert(muted.into(), Value::Bool(true));
            }
        }
        seen
    }
}

/// Extension field of `enter`/`welcome`/`restart` carrying [`LocalConfig::instance`].
pub const INSTANCE_KEY: &str = "rsInstance";

/// What the engine must do.
// Outputs live for one engine step; boxing every event would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this JSON text as a socket.io `message`.
    Transmit(String),
    /// Raise this event.
    Emit(Event),
    /// `inRoom` processed: the join succeeded with this peer id.
    Joined(String),
    /// The join was refused (a `reject` before `inRoom`).
    JoinRejected {
        /// Reason value.
        reason: String,
        /// Server text.
        info: String,
    },
    /// Work for the peer-connection layer.
    Peer(PeerCommand),
    /// A signaling message could not be decoded (wrong field types, …); it was dropped.
    Undecodable(String),
}

/// A peer-connection action the engine must carry out (the session itself owns no
/// connection).
#[derive(Debug, Clone, PartialEq)]
pub enum PeerCommand {
    /// A new peer is known (`enter`/`welcome`): create its connection.
    Create {
        /// Peer id.
        peer_id: String,
    },
    /// Create and send an offer (creating the messaging channel first when both sides want
    /// one and it does not exist yet).
    Offer {
        /// Peer id.
        peer_id: String,
        /// Restart ICE (new credentials) in this offer.
        ice_restart: bool,
        /// The offer answers a `restart` exchange (guarded against duplicates).
        for_restart: bool,
    },
    /// Apply a received offer, then answer it.
    RemoteOffer {
        /// Peer id.
        peer_id: String,
        /// The SDP as received.
        sdp: String,
    },
    /// Apply a received answer.
    RemoteAnswer {
        /// Peer id.
        peer_id: String,
        /// The SDP as received.
        sdp: String,
    },
    /// A received `candidate`.
    RemoteCandidate {
        /// Peer id.
        peer_id: String,
        /// `label` (sdpMLineIndex).
        label: Option<u32>,
        /// `id` (sdpMid).
        id: Option<String>,
        /// The candidate string.
        candidate: Option<String>,
    },
    /// A received `endOfCandidates`.
    RemoteEndOfCandidates {
        /// Peer id.
        peer_id: String,
        /// `noOfExpectedCandidates` (0 when missing).
        expected: u32,
    },
    /// A restart exchange happened: the remote candidate counter starts again from 0.
    ResetCandidates {
        /// Peer id.
        peer_id: String,
    },
    /// The peer is gone: close its connection.
    Close {
        /// Peer id.
        peer_id: String,
    },
}

#[derive(Debug, Clone)]
struct Peer {
    info: PeerInfo,
    role: Option<Role>,
    last_user_stamp: Option<f64>,
    /// Last applied `stamp` of `muteAudioEvent` / `muteVideoEvent`.
    mute_stamps: (Option<f64>, Option<f64>),
    /// The peer's skylink-rs instance token, if it announced one.
    instance: Option<String>,
}

/// The room session state machine. One per socket/join.
#[derive(Debug)]
pub struct Session {
    cfg: LocalConfig,
    cid: Option<String>,
    rid: String,
    join_room: JoinRoom,
    self_id: Option<String>,
    weight: f64,
    user_data: Value,
    peers: BTreeMap<String, Peer>,
    throttle: Throttle,
    has_mcu: bool,
    pc_config: Option<PcConfig>,
    /// What we advertise about our local media.
    media: LocalAdvert,
    /// `streamsSession`: per peer, per remote stream id, its settings while active.
    streams: BTreeMap<String, BTreeMap<String, Option<Value>>>,
}

/// The agent name this engine announces.
pub const AGENT: &str = "rust";

impl Session {
    /// A session for this room-API response.
    pub fn new(cfg: LocalConfig, api: &ApiSuccess) -> Self {
        let join_room = JoinRoom {
            uid: api.username.clone(),
            cid: api.cid.clone(),
            rid: Some(api.room_key.clone()),
            user_cred: api.user_cred.clone(),
            time_stamp: api.time_stamp.clone(),
            api_owner: api.api_owner.clone(),
            room_cred: api.room_cred.clone(),
            start: api.start.clone(),
            len: api.len.clone(),
            is_privileged: Some(api.is_privileged == Some(true)),
            auto_introduce: Some(api.auto_introduce != Some(false)),
            key: Some(cfg.app_key.clone()),
            ..Default::default()
        };
        Session {
            user_data: cfg.user_data.clone(),
            cfg,
            cid: api.cid.clone(),
            rid: api.room_key.clone(),
            join_room,
            self_id: None,
            weight: f64::NAN,
            peers: BTreeMap::new(),
            throttle: Throttle::new(),
            has_mcu: false,
            pc_config: None,
            media: LocalAdvert::default(),
            streams: BTreeMap::new(),
        }
    }

    /// The `joinRoom` message (spec §3.1) as JSON text.
    pub fn join_room_json(&self) -> String {
        Message::JoinRoom(self.join_room.clone()).to_json()
    }

    /// Our peer id once `inRoom` arrived.
    pub fn self_id(&self) -> Option<&str> {
        self.self_id.as_deref()
    }

    /// Our weight (NaN before `inRoom`).
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// `inRoom.pc_config` as received (ICE servers for the coming peer connections; its
    /// interpretation, spec §3.3, belongs to the WebRTC layer).
    pub fn pc_config(&self) -> Option<&PcConfig> {
        self.pc_config.as_ref()
    }

    /// The room key (`rid`).
    pub fn rid(&self) -> &str {
        &self.rid
    }

    /// Known remote peers and their information.
    pub fn peers(&self) -> Vec<(String, PeerInfo)> {
        self.peers
            .iter()
            .map(|(id, p)| (id.clone(), self.cfg.receiving.view(&p.info)))
            .collect()
    }

    /// Our role towards `peer_id`, once decided.
    pub fn role(&self, peer_id: &str) -> Option<Role> {
        self.peers.get(peer_id).and_then(|p| p.role)
    }

    /// Our own `peerInfo`.
    pub fn self_info(&self) -> PeerInfo {
        PeerInfo {
            user_data: self.user_data.clone(),
            settings: {
                let (audio, video) = self.media_settings();
                json!({"audio": audio, "video": video, "googleXBandwidth": {}, "maxBandwidth": {}})
            },
            media_status: self.media_status(),
            agent: AgentInfo {
                name: AGENT.into(),
                version: version::parse_agent_version(Some(env!("CARGO_PKG_VERSION")))
                    .unwrap_or(0.0),
                os: std::env::consts::OS.into(),
                plugin_version: None,
                sm_protocol_version: version::SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION.into(),
                dt_protocol_version: version::SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION.into(),
            },
            config: PeerConfig {
                enable_ice_trickle: self.cfg.enable_ice_trickle,
                enable_data_channel: self.cfg.enable_data_channel,
                enable_ice_restart: self.cfg.enable_ice_restart,
                priority_weight: if self.weight.is_nan() {
                    0.0
                } else {
                    self.weight
                },
                receive_only: self.receive_only(),
                // 0.6.26's getPeerInfo(): no stream means receiveOnly, never publishOnly.
                publish_only: self.cfg.publish_only && !self.receive_only(),
            },
            room: self.cfg.room.clone(),
            parent_id: self.cfg.parent_id.clone(),
        }
    }

    fn user_info(&self) -> UserInfo {
        let v = json!({
            "userData": self.user_data,
            "settings": self.wire_settings(),
            "mediaStatus": self.media_status(),
        });
        serde_json::from_value(v).unwrap_or_default()
    }

    fn instance_extra(&self) -> skylink_sm::message::Extra {
        self.cfg
            .instance
            .iter()
            .map(|i| (INSTANCE_KEY.to_owned(), Value::String(i.clone())))
            .collect()
    }

    /// The skylink-rs instance token `peer_id` announced (see [`LocalConfig::instance`]).
    pub fn peer_instance(&self, peer_id: &str) -> Option<&str> {
        self.peers.get(peer_id).and_then(|p| p.instance.as_deref())
    }

    fn enter_message(&self) -> Message {
        Message::Enter(Enter {
            mid: self.self_id.clone(),
            rid: Some(self.rid.clone()),
            agent: Some(AGENT.into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            os: Some(std::env::consts::OS.into()),
            user_info: Some(self.user_info()),
            receive_only: Some(self.receive_only()),
            target: None,
            weight: weight_number(self.weight),
            temasys_plugin_version: Some(None),
            enable_ice_trickle: Some(self.cfg.enable_ice_trickle),
            enable_data_channel: Some(self.cfg.enable_data_channel),
            enable_ice_restart: Some(self.cfg.enable_ice_restart),
            sm_protocol_version: Some(version::SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION.into()),
            dt_protocol_version: Some(version::SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION.into()),
            publish_only: self.publish_only_field(),
            parent_id: self.cfg.parent_id.clone(),
            extra: self.instance_extra(),
        })
    }

    /// `publishOnly` of our `enter`/`welcome`/`restart`: `{type}` when publish-only.
    fn publish_only_field(&self) -> Option<PublishOnly> {
        self.cfg.publish_only.then(|| PublishOnly {
            kind: Some(
                if self.media.is_screen {
                    "screenshare"
                } else {
                    "video"
                }
                .into(),
            ),
            ..Default::default()
        })
    }

    /// The ignore rules of `enter`/`welcome`/`restart` (§2.4, §4.12): unless the sender is the
    /// MCU, discard it when (a) our `parentId` is the sender, (b) an MCU is present and we are
    /// publish-only, or (c) its `parentId` is us.
    fn ignored_announcement(&self, mid: &str, parent_id: Option<&str>) -> bool {
        if mid == "MCU" {
            return false;
        }
        let ignore = self.cfg.parent_id.as_deref() == Some(mid)
            || (self.has_mcu && self.cfg.publish_only)
            || (parent_id.is_some() && parent_id == self.self_id.as_deref());
        if ignore {
            tracing::debug!(
                peer = mid,
                "announcement discarded (parentId / publishOnly)"
            );
        }
        ignore
    }

    fn welcome_message(&self, target: &str) -> Message {
        Message::Welcome(Welcome {
            mid: self.self_id.clone(),
            rid: Some(self.rid.clone()),
            enable_ice_trickle: Some(self.cfg.enable_ice_trickle),
            enable_data_channel: Some(self.cfg.enable_data_channel),
            enable_ice_restart: Some(self.cfg.enable_ice_restart),
            agent: Some(AGENT.into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            receive_only: Some(self.receive_only()),
            os: Some(std::env::consts::OS.into()),
            user_info: Some(self.user_info()),
            target: Some(target.into()),
            weight: weight_number(self.weight),
            temasys_plugin_version: Some(None),
            sm_protocol_version: Some(version::SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION.into()),
            dt_protocol_version: Some(version::SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION.into()),
            extra: self.instance_extra(),
            publish_only: self.publish_only_field(),
            parent_id: self.cfg.parent_id.clone(),
        })
    }

    fn send(&mut self, msg: Message, now: Instant, out: &mut Vec<Output>) {
        let frames = self.throttle.send(OutgoingMessage::from(msg), now);
        self.push_frames(frames, out);
    }

    fn push_frames(&self, frames: Vec<skylink_sm::throttle::Frame>, out: &mut Vec<Output>) {
        for f in frames {
            out.push(Output::Transmit(f.json));
            // 0.6.26 raises the sender's own `incomingMessage` for a `public` when it leaves.
            for m in &f.messages {
                if m.get("type").and_then(Value::as_str) == Some("public") {
                    let sender = m
                        .get("mid")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    out.push(Output::Emit(Event::IncomingMessage {
                        message: MessageInfo {
                            content: m.get("data").cloned().unwrap_or(Value::Null),
                            is_private: false,
                            target_peer_id: None,
                            is_data_channel: false,
                            sender_peer_id: sender.clone(),
                            list_of_peers: Some(self.peers.keys().cloned().collect()),
                        },
                        peer_id: sender,
                        peer_info: self.self_info(),
                        is_self: true,
                    }));
                }
            }
        }
    }

    /// When [`Session::handle_timeout`] must run next (throttled messages pending).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.throttle.poll_timeout()
    }

    /// Timer tick of the throttle.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Output> {
        let frames = self.throttle.handle_timeout(now);
        let mut out = Vec::new();
        self.push_frames(frames, &mut out);
        out
    }

    /// Handles one received signaling message (JSON text).
    pub fn handle_text(&mut self, text: &str, now: Instant) -> Vec<Output> {
        match Message::from_json(text) {
            Ok(msg) => self.handle_message(msg, now),
            Err(e) => {
                tracing::debug!(error = %e, "undecodable signaling message dropped");
                vec![Output::Undecodable(e.to_string())]
            }
        }
    }

    /// Handles one decoded message.
    pub fn handle_message(&mut self, msg: Message, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.dispatch(msg, now, &mut out, 0);
        out
    }

    fn dispatch(&mut self, msg: Message, now: Instant, out: &mut Vec<Output>, depth: u8) {
        let exempt = matches!(msg, Message::InRoom(_) | Message::Redirect(_));
        if !exempt {
            match (msg.mid(), self.self_id.as_deref()) {
                (_, None) => return,
                (Some(mid), Some(own)) if mid == own => return,
                _ => {}
            }
        }
        match msg {
            Message::InRoom(m) => {
                if self.self_id.is_some() {
                    return;
                }
                let Some(sid) = m.sid.filter(|s| !s.is_empty()) else {
                    tracing::warn!("inRoom without sid dropped");
                    return;
                };
                let tb = m.tie_breaker.as_ref().and_then(Number::as_f64);
                self.weight = compute_weight(tb, self.cfg.priority_weight_scheme);
                self.self_id = Some(sid.clone());
                self.pc_config = m.pc_config;
                out.push(Output::Emit(Event::PeerJoined {
                    peer_id: sid.clone(),
                    peer_info: self.self_info(),
                    is_self: true,
                }));
                out.push(Output::Joined(sid));
                out.extend(self.local_stream_announced());
                let enter = self.enter_message();
                self.send(enter, now, out);
            }
            Message::Enter(m) => {
                let Some(mid) = m.mid.clone() else { return };
                if self.ignored_announcement(&mid, m.parent_id.as_deref()) {
                    return;
                }
                let ann = Announce::from_enter(&m);
                self.meet(&mid, ann, HandshakeProgress::Enter, out);
                let welcome = self.welcome_message(&mid);
                self.send(welcome, now, out);
            }
            Message::Welcome(m) => {
                let Some(mid) = m.mid.clone() else { return };
                if m.target
                    .as_deref()
                    .is_some_and(|t| Some(t) != self.self_id.as_deref())
                {
                    return;
                }
                if self.ignored_announcement(&mid, m.parent_id.as_deref()) {
                    return;
                }
                if self.role(&mid) == Some(Role::Offerer) {
                    return; // hasWelcome: extra welcomes are discarded
                }
                let ann = Announce::from_welcome(&m);
                let remote = m.weight.as_ref().map(|n| Value::Number(n.clone()));
                self.meet(&mid, ann, HandshakeProgress::Welcome, out);
                if should_offer(self.weight, remote.as_ref(), self.has_mcu) {
                    if let Some(p) = self.peers.get_mut(&mid) {
                        p.role = Some(Role::Offerer);
                    }
                    out.push(Output::Peer(PeerCommand::Offer {
                        peer_id: mid,
                        ice_restart: false,
                        for_restart: false,
                    }));
                } else {
                    if let Some(p) = self.peers.get_mut(&mid) {
                        p.role = Some(Role::Answerer);
                    }
                    let welcome = self.welcome_message(&mid);
                    self.send(welcome, now, out);
                }
            }
            Message::Bye(m) => {
                let Some(mid) = m.mid else { return };
                if let Some(p) = self.peers.remove(&mid) {
                    self.peer_gone(mid, p, out);
                }
            }
            Message::Restart(m) => {
                let Some(mid) = m.mid.clone() else { return };
                if self.ignored_announcement(&mid, m.parent_id.as_deref()) {
                    return;
                }
                if !self.peers.contains_key(&mid) {
                    return;
                }
                let ann = Announce::from_restart(&m);
                let info = ann.into_peer_info(&self.cfg.room);
                let do_ice_restart = m.do_ice_restart == Some(true);
                let seen = self.cfg.receiving.view(&info);
                if let Some(p) = self.peers.get_mut(&mid) {
                    p.info = info;
                }
                out.push(Output::Peer(PeerCommand::ResetCandidates {
                    peer_id: mid.clone(),
                }));
                let remote = m.weight.as_ref().map(|n| Value::Number(n.clone()));
                if should_offer(self.weight, remote.as_ref(), self.has_mcu) {
                    out.push(Output::Peer(PeerCommand::Offer {
                        peer_id: mid.clone(),
                        ice_restart: do_ice_restart,
                        for_restart: true,
                    }));
                } else {
                    let reply = self.restart_message(&mid, do_ice_restart, true);
                    self.send(reply, now, out);
                }
                out.push(Output::Emit(Event::PeerRestart {
                    peer_id: mid,
                    peer_info: seen,
                    is_self_initiate_restart: false,
                    is_ice_restart: do_ice_restart,
                }));
            }
            Message::Offer(m) => self.remote_description(m, true, out),
            Message::Answer(m) => self.remote_description(m, false, out),
            Message::Candidate(m) => {
                let Some(mid) = m.mid else { return };
                if !self.for_us(m.target.as_deref()) || !self.peers.contains_key(&mid) {
                    return;
                }
                if m.candidate.is_none() && m.id.is_none() {
                    return;
                }
                out.push(Output::Peer(PeerCommand::RemoteCandidate {
                    peer_id: mid,
                    label: m.label,
                    id: m.id,
                    candidate: m.candidate,
                }));
            }
            Message::EndOfCandidates(m) => {
                let Some(mid) = m.mid else { return };
                if !self.for_us(m.target.as_deref()) || !self.peers.contains_key(&mid) {
                    return;
                }
                out.push(Output::Peer(PeerCommand::RemoteEndOfCandidates {
                    peer_id: mid,
                    expected: m.no_of_expected_candidates.unwrap_or(0),
                }));
            }
            Message::PeerList(m) => {
                let Some(own) = self.self_id.clone() else {
                    return;
                };
                let list = m
                    .result
                    .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                    .unwrap_or_else(|| json!({}));
                out.push(Output::Emit(Event::GetPeersStateChange {
                    state: "received".into(),
                    privileged_peer_id: own,
                    peer_list: Some(list),
                }));
            }
            Message::IntroduceError(m) => {
                let Some(own) = self.self_id.clone() else {
                    return;
                };
                out.push(Output::Emit(Event::IntroduceStateChange {
                    state: "error".into(),
                    privileged_peer_id: own,
                    sending_peer_id: m.sending_peer_id.unwrap_or_default(),
                    receiving_peer_id: m.receiving_peer_id.unwrap_or_default(),
                    reason: m.reason,
                }));
            }
            Message::Approach(m) => {
                // The server introduces us to `target`: announce ourselves to it alone.
                let Some(target) = m.target.filter(|t| !t.is_empty()) else {
                    return;
                };
                let mut enter = self.enter_message();
                if let Message::Enter(e) = &mut enter {
                    e.target = Some(target);
                }
                self.send(enter, now, out);
            }
            Message::Redirect(m) => {
                let action = m.action.unwrap_or_default();
                let info = m.info.unwrap_or_default();
                let mut reason = m.reason.unwrap_or_default();
                if reason == "toClose" {
                    reason = "toclose".into();
                }
                if action == "reject" {
                    self.remove_all_peers(out);
                }
                out.push(Output::Emit(Event::SystemAction {
                    action: action.clone(),
                    message: info.clone(),
                    reason: reason.clone(),
                }));
                if action == "reject" && self.self_id.is_none() {
                    out.push(Output::JoinRejected { reason, info });
                }
            }
            Message::UpdateUserEvent(m) => {
                let Some(mid) = m.mid else { return };
                let Some(peer) = self.peers.get_mut(&mid) else {
                    return;
                };
                let stamp = m.stamp.as_ref().and_then(Number::as_f64);
                if let (Some(s), Some(last)) = (stamp, peer.last_user_stamp)
                    && s < last
                {
                    return;
                }
                if stamp.is_some() {
                    peer.last_user_stamp = stamp;
                }
                let data = m.user_data.unwrap_or(Value::Null);
                peer.info.user_data = if is_falsy(&data) { json!({}) } else { data };
                out.push(Output::Emit(Event::PeerUpdated {
                    peer_id: mid,
                    peer_info: self.cfg.receiving.view(&peer.info),
                    is_self: false,
                }));
            }
            Message::RoomLockEvent(m) => {
                let Some(mid) = m.mid else { return };
                out.push(Output::Emit(Event::RoomLock {
                    is_locked: m.lock == Some(true),
                    peer_info: self.info_of(&mid),
                    peer_id: mid,
                    is_self: false,
                }));
            }
            Message::Stream(m) => self.remote_stream_message(m, out),
            Message::MuteAudioEvent(m) => self.remote_mute(m, true, out),
            Message::MuteVideoEvent(m) => self.remote_mute(m, false, out),
            Message::Public(m) => {
                let Some(mid) = m.mid else { return };
                out.push(Output::Emit(Event::IncomingMessage {
                    message: MessageInfo {
                        content: m.data.unwrap_or(Value::Null),
                        is_private: false,
                        target_peer_id: None,
                        is_data_channel: false,
                        sender_peer_id: mid.clone(),
                        list_of_peers: None,
                    },
                    peer_info: self.info_of(&mid),
                    peer_id: mid,
                    is_self: false,
                }));
            }
            Message::Private(m) => {
                let Some(mid) = m.mid else { return };
                out.push(Output::Emit(Event::IncomingMessage {
                    message: MessageInfo {
                        content: m.data.unwrap_or(Value::Null),
                        is_private: true,
                        target_peer_id: m.target.map(Value::String),
                        is_data_channel: false,
                        sender_peer_id: mid.clone(),
                        list_of_peers: None,
                    },
                    peer_info: self.info_of(&mid),
                    peer_id: mid,
                    is_self: false,
                }));
            }
            Message::Group(g) => {
                if depth > 0 {
                    return;
                }
                for text in &g.lists {
                    match Message::from_json(text) {
                        Ok(inner) => self.dispatch(inner, now, out, depth + 1),
                        Err(e) => tracing::debug!(error = %e, "bad group element dropped"),
                    }
                }
            }
            other => {
                tracing::debug!(
                    kind = other.message_type().as_str(),
                    "message not handled yet"
                );
            }
        }
    }

    fn info_of(&self, peer_id: &str) -> PeerInfo {
        self.peers
            .get(peer_id)
            .map(|p| self.cfg.receiving.view(&p.info))
            .unwrap_or_default()
    }

    fn meet(&mut self, mid: &str, ann: Announce, stage: HandshakeProgress, out: &mut Vec<Output>) {
        if !self.peers.contains_key(mid) {
            let instance = ann.instance.clone();
            let info = ann.into_peer_info(&self.cfg.room);
            self.peers.insert(
                mid.to_owned(),
                Peer {
                    info: info.clone(),
                    role: None,
                    last_user_stamp: None,
                    mute_stamps: (None, None),
                    instance,
                },
            );
            out.push(Output::Peer(PeerCommand::Create {
                peer_id: mid.to_owned(),
            }));
            if mid == "MCU" {
                self.has_mcu = true;
                out.push(Output::Emit(Event::ServerPeerJoined {
                    peer_id: mid.to_owned(),
                    server_peer_type: "mcu".into(),
                }));
            } else {
                out.push(Output::Emit(Event::PeerJoined {
                    peer_id: mid.to_owned(),
                    peer_info: self.cfg.receiving.view(&info),
                    is_self: false,
                }));
            }
        }
        out.push(Output::Emit(Event::HandshakeProgress {
            state: stage,
            peer_id: mid.to_owned(),
            error: None,
        }));
    }

    fn remove_all_peers(&mut self, out: &mut Vec<Output>) {
        for (id, p) in std::mem::take(&mut self.peers) {
            self.peer_gone(id, p, out);
        }
    }

    /// `peerLeft` (or `serverPeerLeft` for the MCU), then the connection is closed.
    fn peer_gone(&mut self, id: String, p: Peer, out: &mut Vec<Output>) {
        if id == "MCU" {
            self.has_mcu = false;
            out.push(Output::Emit(Event::ServerPeerLeft {
                peer_id: id.clone(),
                server_peer_type: "mcu".into(),
            }));
        } else {
            let seen = self.cfg.receiving.view(&p.info);
            out.push(Output::Emit(Event::PeerLeft {
                peer_id: id.clone(),
                peer_info: seen.clone(),
                is_self: false,
            }));
            self.remote_streams_gone(&id, &seen, out);
        }
        out.push(Output::Peer(PeerCommand::Close { peer_id: id }));
    }

    /// A targeted message is for us when it names us (or names no one).
    fn for_us(&self, target: Option<&str>) -> bool {
        target.is_none_or(|t| Some(t) == self.self_id.as_deref())
    }

    fn remote_description(
        &mut self,
        m: skylink_sm::message::SessionDescription,
        is_offer: bool,
        out: &mut Vec<Output>,
    ) {
        let Some(mid) = m.mid else { return };
        if !self.for_us(m.target.as_deref()) {
            return;
        }
        let Some(peer) = self.peers.get_mut(&mid) else {
            return;
        };
        if let Some(ui) = m.user_info {
            if let Some(d) = ui.user_data {
                peer.info.user_data = d;
            }
            if let Some(st) = ui.settings.and_then(|s| serde_json::to_value(s).ok()) {
                peer.info.settings = st;
            }
            if let Some(ms) = ui.media_status.and_then(|s| serde_json::to_value(s).ok()) {
                peer.info.media_status = ms;
            }
            if mid != "MCU" {
                out.push(Output::Emit(Event::PeerUpdated {
                    peer_id: mid.clone(),
                    peer_info: self.cfg.receiving.view(&peer.info),
                    is_self: false,
                }));
            }
        }
        let sdp = m.sdp.unwrap_or_default();
        out.push(Output::Peer(if is_offer {
            PeerCommand::RemoteOffer { peer_id: mid, sdp }
        } else {
            PeerCommand::RemoteAnswer { peer_id: mid, sdp }
        }));
    }

    /// The information `peer_id` announced, as stored (for protocol decisions: agent,
    /// versions, config). What we *report* is [`Session::peer_view`].
    pub fn peer_info(&self, peer_id: &str) -> Option<&PeerInfo> {
        self.peers.get(peer_id).map(|p| &p.info)
    }

    /// `getPeerInfo(peerId)`: the peer's information as we report it, with the kinds we do
    /// not receive shown as off (see [`Receiving::view`]).
    pub fn peer_view(&self, peer_id: &str) -> Option<PeerInfo> {
        self.peers
            .get(peer_id)
            .map(|p| self.cfg.receiving.view(&p.info))
    }

    /// Whether an MCU is in the room.
    pub fn has_mcu(&self) -> bool {
        self.has_mcu
    }

    /// The local configuration.
    pub fn config(&self) -> &LocalConfig {
        &self.cfg
    }

    fn restart_message(&self, target: &str, do_ice_restart: bool, resend: bool) -> Message {
        Message::Restart(Restart {
            mid: self.self_id.clone(),
            rid: Some(self.rid.clone()),
            agent: Some(AGENT.into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            os: Some(std::env::consts::OS.into()),
            user_info: Some(self.user_info()),
            target: Some(target.into()),
            weight: weight_number(self.weight),
            receive_only: Some(self.receive_only()),
            enable_ice_trickle: Some(self.cfg.enable_ice_trickle),
            enable_data_channel: Some(self.cfg.enable_data_channel),
            enable_ice_restart: Some(self.cfg.enable_ice_restart),
            do_ice_restart: Some(do_ice_restart),
            is_restart_resend: Some(resend),
            temasys_plugin_version: Some(None),
            sm_protocol_version: Some(version::SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION.into()),
            dt_protocol_version: Some(version::SKYLINKJS_0_6_26_DT_PROTOCOL_VERSION.into()),
            extra: self.instance_extra(),
            publish_only: self.publish_only_field(),
            parent_id: self.cfg.parent_id.clone(),
        })
    }

    /// `refreshConnection` towards one peer whose connection is `stable` (spec §2.12): sends
    /// `restart` (`doIceRestart` = requested and both sides allow it) and emits
    /// `peerRestart(peer, info, true, requested)`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] before `inRoom`; [`RoomError::UnknownPeer`] for an unknown peer.
    pub fn restart(
        &mut self,
        peer_id: &str,
        ice_restart: bool,
        now: Instant,
    ) -> Result<Vec<Output>, RoomError> {
        if self.self_id.is_none() {
            return Err(RoomError::NotInRoom);
        }
        let info = self
            .peers
            .get(peer_id)
            .map(|p| self.cfg.receiving.view(&p.info))
            .ok_or_else(|| RoomError::UnknownPeer(peer_id.to_owned()))?;
        let do_ice = ice_restart && self.cfg.enable_ice_restart && info.config.enable_ice_restart;
        let mut out = vec![Output::Peer(PeerCommand::ResetCandidates {
            peer_id: peer_id.to_owned(),
        })];
        let msg = self.restart_message(peer_id, do_ice, false);
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::PeerRestart {
            peer_id: peer_id.to_owned(),
            peer_info: info,
            is_self_initiate_restart: true,
            is_ice_restart: ice_restart,
        }));
        Ok(out)
    }

    /// An `offer`/`answer` message carrying `sdp` (already rendered) to `peer_id`.
    pub fn description(
        &mut self,
        peer_id: &str,
        is_offer: bool,
        sdp: String,
        now: Instant,
    ) -> Vec<Output> {
        let m = skylink_sm::message::SessionDescription {
            sdp: Some(sdp),
            mid: self.self_id.clone(),
            target: Some(peer_id.to_owned()),
            rid: Some(self.rid.clone()),
            user_info: Some(self.user_info()),
            ..Default::default()
        };
        let msg = if is_offer {
            Message::Offer(m)
        } else {
            Message::Answer(m)
        };
        let mut out = Vec::new();
        self.send(msg, now, &mut out);
        out
    }

    /// A `candidate` message to `peer_id`.
    pub fn candidate(
        &mut self,
        peer_id: &str,
        label: u32,
        id: String,
        candidate: String,
        now: Instant,
    ) -> Vec<Output> {
        let msg = Message::Candidate(skylink_sm::message::Candidate {
            label: Some(label),
            id: Some(id),
            candidate: Some(candidate),
            mid: self.self_id.clone(),
            target: Some(peer_id.to_owned()),
            rid: Some(self.rid.clone()),
            ..Default::default()
        });
        let mut out = Vec::new();
        self.send(msg, now, &mut out);
        out
    }

    /// An `endOfCandidates` message to `peer_id`.
    pub fn end_of_candidates(&mut self, peer_id: &str, count: u32, now: Instant) -> Vec<Output> {
        let msg = Message::EndOfCandidates(skylink_sm::message::EndOfCandidates {
            no_of_expected_candidates: Some(count),
            mid: self.self_id.clone(),
            target: Some(peer_id.to_owned()),
            rid: Some(self.rid.clone()),
            ..Default::default()
        });
        let mut out = Vec::new();
        self.send(msg, now, &mut out);
        out
    }

    /// Privileged `getPeers`: asks the server for the peers of every room of the app key.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] before `inRoom`.
    pub fn get_peers(&mut self, show_all: bool, now: Instant) -> Result<Vec<Output>, RoomError> {
        let own = self.self_id.clone().ok_or(RoomError::NotInRoom)?;
        let msg = Message::GetPeers(skylink_sm::message::GetPeers {
            show_all: Some(Value::Bool(show_all)),
            ..Default::default()
        });
        let mut out = Vec::new();
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::GetPeersStateChange {
            state: "enquired".into(),
            privileged_peer_id: own,
            peer_list: None,
        }));
        Ok(out)
    }

    /// Privileged `introducePeer(sendingPeerId, receivingPeerId)`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] before `inRoom`.
    pub fn introduce(
        &mut self,
        sending: &str,
        receiving: &str,
        now: Instant,
    ) -> Result<Vec<Output>, RoomError> {
        let own = self.self_id.clone().ok_or(RoomError::NotInRoom)?;
        let msg = Message::Introduce(skylink_sm::message::Introduce {
            sending_peer_id: Some(sending.to_owned()),
            receiving_peer_id: Some(receiving.to_owned()),
            ..Default::default()
        });
        let mut out = Vec::new();
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::IntroduceStateChange {
            state: "introducing".into(),
            privileged_peer_id: own,
            sending_peer_id: sending.to_owned(),
            receiving_peer_id: receiving.to_owned(),
            reason: None,
        }));
        Ok(out)
    }

    /// `sendMessage(message, targetPeerId)`: broadcast `public` (throttled) when `targets` is
    /// `None`, else one `private` per known target (unknown ids and `MCU` are skipped).
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] before `inRoom`.
    pub fn send_message(
        &mut self,
        data: Value,
        targets: Option<Vec<String>>,
        now: Instant,
    ) -> Result<Vec<Output>, RoomError> {
        let own = self.self_id.clone().ok_or(RoomError::NotInRoom)?;
        let mut out = Vec::new();
        match targets {
            None => {
                let msg = Message::Public(Public {
                    cid: self.cid.clone(),
                    data: Some(data),
                    mid: Some(own),
                    rid: Some(self.rid.clone()),
                    ..Default::default()
                });
                self.send(msg, now, &mut out);
            }
            Some(targets) => {
                let sent: Vec<String> = targets
                    .iter()
                    .filter(|t| t.as_str() != "MCU" && self.peers.contains_key(t.as_str()))
                    .cloned()
                    .collect();
                for t in &sent {
                    let msg = Message::Private(Private {
                        cid: self.cid.clone(),
                        data: Some(data.clone()),
                        mid: Some(own.clone()),
                        rid: Some(self.rid.clone()),
                        target: Some(t.clone()),
                        ..Default::default()
                    });
                    self.send(msg, now, &mut out);
                }
                let target_peer_id = match targets.as_slice() {
                    [one] => Value::String(one.clone()),
                    _ => Value::from(targets),
                };
                out.push(Output::Emit(Event::IncomingMessage {
                    message: MessageInfo {
                        content: data,
                        is_private: true,
                        target_peer_id: Some(target_peer_id),
                        is_data_channel: false,
                        sender_peer_id: own.clone(),
                        list_of_peers: Some(sent),
                    },
                    peer_id: own,
                    peer_info: self.self_info(),
                    is_self: true,
                }));
            }
        }
        Ok(out)
    }

    /// `setUserData(data)`: stores it, emits `peerUpdated(self)` and, in a room, sends a
    /// throttled `updateUserEvent` stamped `stamp_ms` (the sender's `Date.now()`).
    pub fn set_user_data(&mut self, data: Value, stamp_ms: u64, now: Instant) -> Vec<Output> {
        self.user_data = data.clone();
        let mut out = Vec::new();
        let Some(own) = self.self_id.clone() else {
            return out;
        };
        let msg = Message::UpdateUserEvent(UpdateUserEvent {
            mid: Some(own.clone()),
            rid: Some(self.rid.clone()),
            user_data: Some(data),
            stamp: Some(Number::from(stamp_ms)),
            ..Default::default()
        });
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::PeerUpdated {
            peer_id: own,
            peer_info: self.self_info(),
            is_self: true,
        }));
        out
    }

    /// `lockRoom()`/`unlockRoom()`: sends `roomLockEvent` immediately and emits `roomLock`
    /// locally.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] before `inRoom`.
    pub fn set_lock(&mut self, lock: bool, now: Instant) -> Result<Vec<Output>, RoomError> {
        let own = self.self_id.clone().ok_or(RoomError::NotInRoom)?;
        let mut out = Vec::new();
        let msg = Message::RoomLockEvent(RoomLockEvent {
            mid: Some(own.clone()),
            rid: Some(self.rid.clone()),
            lock: Some(lock),
            ..Default::default()
        });
        self.send(msg, now, &mut out);
        out.push(Output::Emit(Event::RoomLock {
            is_locked: lock,
            peer_id: own,
            peer_info: self.self_info(),
            is_self: true,
        }));
        Ok(out)
    }

    /// `leaveRoom()`: `peerLeft` for every peer, then for ourselves (when we had joined).
    /// Unsent throttled messages are dropped.
    pub fn leave(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        self.throttle.clear();
        self.remove_all_peers(&mut out);
        if let Some(own) = self.self_id.take() {
            out.push(Output::Emit(Event::PeerLeft {
                peer_id: own,
                peer_info: self.self_info(),
                is_self: true,
            }));
        }
        out
    }

    /// The socket dropped while in the room: `peerLeft` for every peer, then
    /// `sessionDisconnect` (spec §2.6, §5.4).
    pub fn disconnected(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        self.throttle.clear();
        self.remove_all_peers(&mut out);
        if let Some(own) = self.self_id.take() {
            out.push(Output::Emit(Event::SessionDisconnect {
                peer_id: own,
                peer_info: self.self_info(),
            }));
        }
        out
    }
}

fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64().is_none_or(|x| x == 0.0 || x.is_nan()),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The peer-announcement fields shared by `enter`/`welcome` (spec §3.0.1).
struct Announce {
    agent: Option<String>,
    version: Option<String>,
    os: Option<String>,
    user_info: Option<UserInfo>,
    receive_only: Option<bool>,
    weight: Option<Number>,
    plugin: Option<Option<String>>,
    trickle: Option<bool>,
    data_channel: Option<bool>,
    ice_restart: Option<bool>,
    sm: Option<String>,
    dt: Option<String>,
    publish_only: bool,
    parent_id: Option<String>,
    instance: Option<String>,
}

/// `enter`, `welcome` and `restart` carry the same announcement fields under the same names.
macro_rules! announce_from {
    ($m:expr) => {
        Announce {
            agent: $m.agent.clone(),
            version: $m.version.clone(),
            os: $m.os.clone(),
            user_info: $m.user_info.clone(),
            receive_only: $m.receive_only,
            weight: $m.weight.clone(),
            plugin: $m.temasys_plugin_version.clone(),
            trickle: $m.enable_ice_trickle,
            data_channel: $m.enable_data_channel,
            ice_restart: $m.enable_ice_restart,
            sm: $m.sm_protocol_version.clone(),
            dt: $m.dt_protocol_version.clone(),
            publish_only: $m.publish_only.is_some(),
            parent_id: $m.parent_id.clone(),
            instance: $m
                .extra
                .get(INSTANCE_KEY)
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty() && i.len() <= 64)
                .map(str::to_owned),
        }
    };
}

impl Announce {
    fn from_enter(m: &Enter) -> Self {
        announce_from!(m)
    }

    fn from_restart(m: &Restart) -> Self {
        announce_from!(m)
    }

    fn from_welcome(m: &Welcome) -> Self {
        announce_from!(m)
    }

    fn into_peer_info(self, room: &str) -> PeerInfo {
        let ui = self.user_info.unwrap_or_default();
        let to_value = |v: Option<Value>| v.unwrap_or(Value::Null);
        let mcu_involved = false;
        PeerInfo {
            user_data: ui.user_data.unwrap_or(Value::String(String::new())),
            settings: to_value(ui.settings.and_then(|s| serde_json::to_value(s).ok())),
            media_status: to_value(ui.media_status.and_then(|s| serde_json::to_value(s).ok())),
            agent: AgentInfo {
                name: self
                    .agent
                    .filter(|a| !a.is_empty())
                    .unwrap_or_else(|| "other".into()),
                version: version::parse_agent_version(self.version.as_deref()).unwrap_or(0.0),
                os: self.os.unwrap_or_default(),
                plugin_version: self.plugin.flatten().filter(|p| !p.is_empty()),
                sm_protocol_version: self
                    .sm
                    .unwrap_or_else(|| version::DEFAULT_PEER_SM_PROTOCOL_VERSION.into()),
                dt_protocol_version: self.dt.unwrap_or_else(|| {
                    version::default_peer_dt_protocol_version(mcu_involved).into()
                }),
            },
            config: PeerConfig {
                enable_ice_trickle: self.trickle.unwrap_or(true),
                enable_data_channel: self.data_channel.unwrap_or(true),
                enable_ice_restart: self.ice_restart.unwrap_or(false),
                priority_weight: self.weight.as_ref().and_then(Number::as_f64).unwrap_or(0.0),
                receive_only: self.receive_only == Some(true),
                publish_only: self.publish_only,
            },
            room: room.to_owned(),
            parent_id: self.parent_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> ApiSuccess {
        let body = r#"{"cid":"c1","apiOwner":"o","ipSigserver":"h","username":"u","userCred":"uc","timeStamp":"ts","room_key":"R","roomCred":"rc","start":"s","len":24,"isPrivileged":false,"autoIntroduce":true,"pc_constraints":"{}","offer_constraints":"{}","media_constraints":"{}"}"#;
        match skylink_sm::room_api::parse_api_response(body).unwrap() {
            skylink_sm::room_api::ApiResponse::Success(s) => *s,
            skylink_sm::room_api::ApiResponse::Failure(_) => panic!(),
        }
    }

    fn session(scheme: PriorityWeightScheme) -> Session {
        Session::new(
            LocalConfig {
                app_key: "K".into(),
                room: "room".into(),
                enable_ice_trickle: true,
                enable_data_channel: true,
                enable_ice_restart: true,
                priority_weight_scheme: scheme,
                user_data: json!("me"),
                instance: None,
                publish_only: false,
                parent_id: None,
                receiving: Default::default(),
            },
            &api(),
        )
    }

    fn sent(out: &[Output]) -> Vec<Value> {
        out.iter()
            .filter_map(|o| match o {
                Output::Transmit(t) => serde_json::from_str(t).ok(),
                _ => None,
            })
            .collect()
    }

    fn join(s: &mut Session, sid: &str, tb: u64, now: Instant) -> Vec<Output> {
        s.handle_text(
            &json!({"type":"inRoom","sid":sid,"tieBreaker":tb,"pc_config":{"iceServers":[]}})
                .to_string(),
            now,
        )
    }

    #[test]
    fn weights() {
        assert_eq!(
            compute_weight(Some(100.0), PriorityWeightScheme::Auto),
            100.0
        );
        assert_eq!(
            compute_weight(Some(100.0), PriorityWeightScheme::EnforceOfferer),
            2e15 + 100.0
        );
        assert_eq!(
            compute_weight(Some(100.0), PriorityWeightScheme::EnforceAnswerer),
            100.0 - 2e15
        );
        assert!(compute_weight(None, PriorityWeightScheme::Auto).is_nan());
        assert!(should_offer(200.0, Some(&json!(100)), false));
        assert!(!should_offer(100.0, Some(&json!(100)), false));
        assert!(!should_offer(100.0, Some(&json!("200")), false));
        assert!(!should_offer(f64::NAN, Some(&json!(1)), false));
        assert!(should_offer(1.0, Some(&json!(100)), true));
        assert_eq!(
            weight_number(1_505_704_867_123_417.0).unwrap().to_string(),
            "1505704867123417"
        );
        assert_eq!(weight_number(0.5).unwrap().to_string(), "0.5");
        assert_eq!(
            PriorityWeightScheme::EnforceOfferer.as_str(),
            "enforceOfferer"
        );
    }

    #[test]
    fn join_room_fields_in_order() {
        let s = session(PriorityWeightScheme::Auto);
        assert_eq!(
            s.join_room_json(),
            r#"{"type":"joinRoom","uid":"u","cid":"c1","rid":"R","userCred":"uc","timeStamp":"ts","apiOwner":"o","roomCred":"rc","start":"s","len":24,"isPrivileged":false,"autoIntroduce":true,"key":"K"}"#
        );
    }

    #[test]
    fn in_room_then_enter_and_welcome_paths() {
        let now = Instant::now();
        // A: newcomer with the higher weight offers on B's welcome.
        let mut a = session(PriorityWeightScheme::Auto);
        // Nothing but inRoom/redirect before inRoom.
        assert!(
            a.handle_text(r#"{"type":"public","mid":"x","data":1}"#, now)
                .is_empty()
        );
        let out = join(&mut a, "A", 200, now);
        assert!(out.contains(&Output::Joined("A".into())));
        let enter = &sent(&out)[0];
        assert_eq!(enter["type"], "enter");
        assert_eq!(enter["weight"], 200);
        assert_eq!(enter["agent"], "rust");
        assert_eq!(enter["receiveOnly"], true);
        assert_eq!(enter["SMProtocolVersion"], "0.1.2.4");
        assert_eq!(enter["DTProtocolVersion"], "0.1.3");
        assert_eq!(enter["temasysPluginVersion"], Value::Null);
        assert_eq!(enter["userInfo"]["userData"], "me");
        let keys: Vec<_> = enter.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "type",
                "mid",
                "rid",
                "agent",
                "version",
                "os",
                "userInfo",
                "receiveOnly",
                "weight",
                "temasysPluginVersion",
                "enableIceTrickle",
                "enableDataChannel",
                "enableIceRestart",
                "SMProtocolVersion",
                "DTProtocolVersion"
            ]
        );
        // B (weight 100) got A's enter: records A and welcomes it.
        let mut b = session(PriorityWeightScheme::Auto);
        join(&mut b, "B", 100, now);
        let out = b.handle_text(&enter.to_string(), now);
        assert!(out.iter().any(|o| matches!(o, Output::Emit(Event::PeerJoined { peer_id, is_self: false, .. }) if peer_id == "A")));
        let welcome = sent(&out).remove(0);
        assert_eq!(welcome["type"], "welcome");
        assert_eq!(welcome["target"], "A");
        // A receives the welcome: 200 > 100, A offers, sends nothing.
        let out = a.handle_text(&welcome.to_string(), now);
        assert!(out.iter().any(
            |o| matches!(o, Output::Peer(PeerCommand::Offer { peer_id, .. }) if peer_id == "B")
        ));
        assert!(sent(&out).is_empty());
        assert_eq!(a.role("B"), Some(Role::Offerer));
        // An extra welcome is discarded.
        assert!(a.handle_text(&welcome.to_string(), now).is_empty());

        // Newcomer with the lower weight (enforceAnswerer) replies with its own welcome.
        let mut c = session(PriorityWeightScheme::EnforceAnswerer);
        join(&mut c, "C", 300, now);
        let mut welcome_b_to_c = welcome.clone();
        welcome_b_to_c["target"] = json!("C");
        welcome_b_to_c["mid"] = json!("B");
        let out = c.handle_text(&welcome_b_to_c.to_string(), now);
        let reply = sent(&out).remove(0);
        assert_eq!(reply["type"], "welcome");
        assert_eq!(c.role("B"), Some(Role::Answerer));
        // B (100 > 300 − 2e15) offers.
        let out = b.handle_text(&reply.to_string(), now);
        assert!(out.iter().any(
            |o| matches!(o, Output::Peer(PeerCommand::Offer { peer_id, .. }) if peer_id == "C")
        ));
    }

    #[test]
    fn own_messages_are_filtered_and_groups_unwrapped() {
        let now = Instant::now();
        let mut a = session(PriorityWeightScheme::Auto);
        join(&mut a, "A", 1, now);
        assert!(
            a.handle_text(r#"{"type":"public","mid":"A","data":1}"#, now)
                .is_empty()
        );
        let group = json!({"type":"group","mid":"X","lists":[
            json!({"type":"public","mid":"X","data":"é1"}).to_string(),
            json!({"type":"public","mid":"X","data":"é2"}).to_string(),
        ]});
        let out = a.handle_text(&group.to_string(), now);
        let contents: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::Emit(Event::IncomingMessage { message, .. }) => {
                    Some(message.content.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(contents, vec![json!("é1"), json!("é2")]);
    }

    #[test]
    fn update_user_stamp_rule_and_falsy_data() {
        let now = Instant::now();
        let mut a = session(PriorityWeightScheme::Auto);
        join(&mut a, "A", 1, now);
        // Unknown peer: ignored.
        assert!(
            a.handle_text(
                r#"{"type":"updateUserEvent","mid":"B","userData":"x","stamp":5}"#,
                now
            )
            .is_empty()
        );
        a.handle_text(r#"{"type":"enter","mid":"B","weight":0}"#, now);
        let upd = |d: &str, s: u64| {
            format!(r#"{{"type":"updateUserEvent","mid":"B","userData":{d},"stamp":{s}}}"#)
        };
        assert_eq!(a.handle_text(&upd("\"x\"", 10), now).len(), 1);
        assert_eq!(a.handle_text(&upd("\"y\"", 10), now).len(), 1); // equal accepted
        assert!(a.handle_text(&upd("\"z\"", 9), now).is_empty()); // older dropped
        let out = a.handle_text(&upd("\"\"", 11), now);
        let Output::Emit(Event::PeerUpdated { peer_info, .. }) = &out[0] else {
            panic!()
        };
        assert_eq!(peer_info.user_data, json!({}));
    }

    #[test]
    fn reject_before_in_room_fails_the_join() {
        let now = Instant::now();
        let mut a = session(PriorityWeightScheme::Auto);
        let out = a.handle_text(
            r#"{"type":"redirect","action":"reject","info":"Room is locked","reason":"locked"}"#,
            now,
        );
        assert!(out.contains(&Output::JoinRejected {
            reason: "locked".into(),
            info: "Room is locked".into()
        }));
        let out = a.handle_text(
            r#"{"type":"redirect","action":"warning","info":"i","reason":"toClose"}"#,
            now,
        );
        assert!(
            matches!(&out[0], Output::Emit(Event::SystemAction { reason, .. }) if reason == "toclose")
        );
    }

    #[test]
    fn messages_out() {
        let now = Instant::now();
        let mut a = session(PriorityWeightScheme::Auto);
        assert_eq!(
            a.send_message(json!(1), None, now),
            Err(RoomError::NotInRoom)
        );
        join(&mut a, "A", 1, now);
        a.handle_text(r#"{"type":"enter","mid":"B","weight":0}"#, now);
        let out = a
            .send_message(json!("hé"), Some(vec!["B".into(), "nobody".into()]), now)
            .unwrap();
        let s = sent(&out);
        assert_eq!(s.len(), 1);
        assert_eq!(
            serde_json::to_string(&s[0]).unwrap(),
            r#"{"cid":"c1","data":"hé","mid":"A","rid":"R","target":"B","type":"private"}"#
        );
        // The first public goes out alone; the next one, within the second, is grouped.
        let out = a.send_message(json!("p0"), None, now).unwrap();
        assert_eq!(sent(&out)[0]["type"], "public");
        let out = a.send_message(json!("p"), None, now).unwrap();
        assert!(sent(&out).is_empty());
        let deadline = a.poll_timeout().unwrap();
        let out = a.handle_timeout(deadline);
        let g = &sent(&out)[0];
        assert_eq!(g["type"], "group");
        assert!(out.iter().any(|o| matches!(
            o,
            Output::Emit(Event::IncomingMessage { is_self: true, .. })
        )));
        // Lock: sent immediately + local event.
        let out = a.set_lock(true, deadline).unwrap();
        assert_eq!(sent(&out)[0]["type"], "roomLockEvent");
        // Leave: peerLeft B then self.
        let out = a.leave();
        let left: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::Emit(Event::PeerLeft {
                    peer_id, is_self, ..
                }) => Some((peer_id.clone(), *is_self)),
                _ => None,
            })
            .collect();
        assert_eq!(left, vec![("B".into(), false), ("A".into(), true)]);
    }

    #[test]
    fn publish_only_and_parent_id_are_announced_and_ignore_rules_apply() {
        let now = Instant::now();
        let mut p = session(PriorityWeightScheme::Auto);
        p.cfg.publish_only = true;
        p.cfg.parent_id = Some("PARENT".into());
        // Without a stream: receiveOnly, and peer info does not claim publishOnly.
        let enter = sent(&join(&mut p, "P", 300, now)).remove(0);
        assert_eq!(enter["publishOnly"], json!({"type": "video"}));
        assert_eq!(enter["parentId"], "PARENT");
        assert_eq!(enter["receiveOnly"], true);
        assert!(!p.self_info().config.publish_only);
        assert_eq!(p.self_info().parent_id.as_deref(), Some("PARENT"));
        p.set_local_media(LocalAdvert {
            stream_id: Some("s1".into()),
            settings: Some(json!({"audio": false, "video": {"screenshare": true}})),
            is_screen: true,
            ..LocalAdvert::default()
        });
        assert!(p.self_info().config.publish_only);
        assert!(!p.self_info().config.receive_only);

        // A receiver records publishOnly / parentId from the enter and welcomes with neither.
        let mut r = session(PriorityWeightScheme::Auto);
        join(&mut r, "R", 100, now);
        let out = r.handle_text(&enter.to_string(), now);
        let info = r.peer_info("P").expect("P known");
        assert!(info.config.publish_only);
        assert_eq!(info.parent_id.as_deref(), Some("PARENT"));
        let welcome = sent(&out).remove(0);
        assert!(welcome.get("publishOnly").is_none());
        assert!(welcome.get("parentId").is_none());

        // P's welcome/restart carry publishOnly.type = screenshare while a screen is held.
        let out = p.handle_text(&welcome.to_string(), now);
        assert!(p.peer_info("R").is_some());
        assert!(sent(&out).is_empty(), "P offers (higher weight)");
        let restart = sent(&p.restart("R", false, now).unwrap()).remove(0);
        assert_eq!(restart["publishOnly"], json!({"type": "screenshare"}));
        assert_eq!(restart["parentId"], "PARENT");

        // (a) our parentId is the sender: its enter/welcome/restart are discarded.
        let mut from_parent = enter.clone();
        from_parent["mid"] = json!("PARENT");
        from_parent.as_object_mut().unwrap().remove("parentId");
        assert!(p.handle_text(&from_parent.to_string(), now).is_empty());
        from_parent["type"] = json!("welcome");
        from_parent["target"] = json!("P");
        assert!(p.handle_text(&from_parent.to_string(), now).is_empty());
        assert!(p.peer_info("PARENT").is_none());
        // (c) the message's parentId is us: the parent ignores its child.
        let mut parent = session(PriorityWeightScheme::Auto);
        join(&mut parent, "PARENT", 50, now);
        assert!(parent.handle_text(&enter.to_string(), now).is_empty());
        let mut child_restart = restart.clone();
        child_restart["target"] = json!("PARENT");
        assert!(
            parent
                .handle_text(&child_restart.to_string(), now)
                .is_empty()
        );
        assert!(parent.peer_info("P").is_none());
        // (b) with an MCU in the room a publish-only client ignores everyone but the MCU.
        let mut mcu_enter = welcome.clone();
        mcu_enter["type"] = json!("enter");
        mcu_enter["mid"] = json!("MCU");
        mcu_enter.as_object_mut().unwrap().remove("target");
        let out = p.handle_text(&mcu_enter.to_string(), now);
        assert!(!out.is_empty());
        assert!(p.has_mcu());
        let mut other = welcome.clone();
        other["type"] = json!("enter");
        other["mid"] = json!("X");
        other.as_object_mut().unwrap().remove("target");
        assert!(p.handle_text(&other.to_string(), now).is_empty());
        // A client that is not publish-only still meets X with the MCU present.
        r.handle_text(&mcu_enter.to_string(), now);
        assert!(!r.handle_text(&other.to_string(), now).is_empty());
    }
}
