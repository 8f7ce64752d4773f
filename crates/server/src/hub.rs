//! Rooms, membership and routing: the heart of the signaling server.
//!
//! The hub owns no sockets and no clock. The transport layer feeds it inputs (a socket
//! connected, a message arrived, a socket closed, a timer tick with an explicit [`Instant`]) and
//! it delivers frames through the [`Link`] of each recipient. This keeps every routing rule
//! testable without the network, and lets a property test drive it (see `tests/routing.rs`).

use crate::metrics::{DropReason, Metrics};
use serde_json::{Map, Value};
use skylink_sm::envelope::Envelope;
use skylink_sm::frame::encode_eio_message_event;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Identifies one transport connection.
pub type ConnId = u64;

/// `SMProtocolVersion` announced in `inRoom` (what the 0.6.26 platform pairs with).
pub const SERVER_SM_VERSION: &str = skylink_sm::version::SKYLINKJS_0_6_26_SM_PROTOCOL_VERSION;

/// The reserved peer id of the media server (recording, MCU rooms).
pub const MCU_PEER_ID: &str = "MCU";

/// Why a frame could not be handed to a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverError {
    /// The connection's outgoing queue is full.
    Full,
    /// The connection is closed.
    Closed,
}

/// A connection as seen by the hub: somewhere to put frames.
pub trait Link {
    /// A ready-to-send Engine.IO message packet (`42["message","…"]`, one websocket frame).
    type Frame: Clone + From<String>;
    /// Queues one frame without blocking.
    ///
    /// # Errors
    /// [`DeliverError`] when the frame cannot be queued; the hub counts it.
    fn deliver(&self, frame: Self::Frame) -> Result<(), DeliverError>;
    /// Closes the connection once frames already queued have been flushed.
    fn close(&self);
}

/// Credentials issued by the room API and awaiting (or used by) a `joinRoom`.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// App Key.
    pub app_key: String,
    /// Room name as the application named it.
    pub room_name: String,
    /// Signaling room id (`room_key`, the `rid` of every message).
    pub room_key: String,
    /// `cid`.
    pub cid: String,
    /// `apiOwner`.
    pub api_owner: String,
    /// `username` (→ `uid`).
    pub username: String,
    /// `userCred`, also the ticket's key.
    pub user_cred: String,
    /// `roomCred`.
    pub room_cred: String,
    /// `timeStamp`.
    pub time_stamp: String,
    /// `start` as issued.
    pub start: String,
    /// `len` as issued (hours; a number or a string).
    pub len: Value,
    /// Whether the key is privileged.
    pub privileged: bool,
    /// Whether broadcast `enter` is relayed for this peer.
    pub auto_introduce: bool,
    /// Whether this peer becomes the room's MCU.
    pub mcu: bool,
    /// When the room window opens.
    pub window_start: Instant,
    /// When the room window closes.
    pub window_end: Instant,
    /// When the API issued it.
    pub issued: Instant,
    /// Set by the first successful `joinRoom`.
    pub used: bool,
}

/// Policy knobs of the hub.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// `pc_config.iceServers` sent in `inRoom`.
    pub ice_servers: Vec<Value>,
    /// Max age of a ticket at `joinRoom`.
    pub credential_ttl: Duration,
    /// Warning lead time before a room closes.
    pub close_warning: Duration,
    /// Throttled messages per second above which `fastmsg` is sent.
    pub flood_per_sec: u32,
    /// Peers per room (0 = unlimited).
    pub room_seats: usize,
    /// Concurrent peers per App Key (0 = unlimited).
    pub app_seats: HashMap<String, usize>,
    /// Outstanding (issued, unexpired) credentials kept at most (0 = unlimited).
    pub max_pending_tickets: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            credential_ttl: Duration::from_secs(300),
            close_warning: Duration::from_secs(300),
            flood_per_sec: 10,
            room_seats: 0,
            app_seats: HashMap::new(),
            max_pending_tickets: 100_000,
        }
    }
}

struct Member {
    // Shared strings: the relay path clones them for every message.
    peer_id: Arc<str>,
    room_key: Arc<str>,
    app_key: String,
    privileged: bool,
    auto_introduce: bool,
    window_end: Instant,
    close_warned: bool,
    flood_window: Instant,
    flood_count: u32,
    flood_warned: bool,
}

struct Conn<L> {
    link: L,
    member: Option<Member>,
}

struct Room {
    name: String,
    app_key: String,
    locked: bool,
    /// (peer id, connection) in join order.
    members: Vec<(String, ConnId)>,
}

impl Room {
    fn conn_of(&self, peer_id: &str) -> Option<ConnId> {
        self.members
            .iter()
            .find(|(p, _)| p == peer_id)
            .map(|(_, c)| *c)
    }
}

/// The credential table is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many outstanding credentials")]
pub struct TicketsFull;

/// Outcome of a `joinRoom`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Joined with this peer id.
    Joined(String),
    /// Refused with this `redirect` reason.
    Rejected(&'static str),
}

/// Rooms, members and tickets. Not thread-safe by itself; the server wraps it in a mutex.
pub struct Hub<L: Link> {
    settings: HubSettings,
    metrics: Arc<Metrics>,
    conns: HashMap<ConnId, Conn<L>>,
    rooms: HashMap<String, Room>,
    peers: HashMap<String, ConnId>,
    tickets: HashMap<String, Ticket>,
    app_seats_used: HashMap<String, usize>,
    last_tie_breaker: u64,
    tie_breaker_base: u64,
    epoch: Instant,
    next_peer: u64,
    peer_salt: u64,
}

impl<L: Link> Hub<L> {
    /// A hub with these settings, counting into `metrics`.
    pub fn new(settings: HubSettings, metrics: Arc<Metrics>) -> Self {
        let base_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(1_500_000_000_000);
        Self {
            settings,
            metrics,
            conns: HashMap::new(),
            rooms: HashMap::new(),
            peers: HashMap::new(),
            tickets: HashMap::new(),
            app_seats_used: HashMap::new(),
            last_tie_breaker: 0,
            tie_breaker_base: base_ms,
            epoch: Instant::now(),
            next_peer: 0,
            peer_salt: rand::random(),
        }
    }

    /// The metrics this hub counts into.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Registers a new connection.
    pub fn connect(&mut self, id: ConnId, link: L) {
        self.conns.insert(id, Conn { link, member: None });
    }

    /// Stores a ticket issued by the room API. Expired tickets are purged on the way.
    ///
    /// # Errors
    /// [`TicketsFull`] when `max_pending_tickets` unexpired tickets are outstanding (an API
    /// flood must not grow memory without bound).
    pub fn issue_ticket(&mut self, ticket: Ticket, now: Instant) -> Result<(), TicketsFull> {
        let keep = self.settings.credential_ttl * 2;
        let limit = self.settings.max_pending_tickets;
        if limit > 0 && self.tickets.len() >= limit {
            self.tickets
                .retain(|_, t| now.saturating_duration_since(t.issued) <= keep);
            if self.tickets.len() >= limit {
                return Err(TicketsFull);
            }
        }
        self.tickets.insert(ticket.user_cred.clone(), ticket);
        Ok(())
    }

    /// Drops tickets too old to be used; the server calls it from its timer.
    pub fn purge_tickets(&mut self, now: Instant) {
        let keep = self.settings.credential_ttl * 2;
        self.tickets
            .retain(|_, t| now.saturating_duration_since(t.issued) <= keep);
    }

    /// Peers currently joined with this App Key.
    pub fn seats_used(&self, app_key: &str) -> usize {
        self.app_seats_used.get(app_key).copied().unwrap_or(0)
    }

    /// Number of rooms with members.
    pub fn room_count(&self) -> usize {
        self.rooms.len()
    }

    /// Removes a connection; its room learns with `bye`.
    pub fn disconnect(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        if let Some(member) = conn.member {
            self.remove_member(id, &member);
        }
    }

    fn remove_member(&mut self, id: ConnId, member: &Member) {
        self.peers.remove(&*member.peer_id);
        self.metrics.peers.fetch_sub(1, Ordering::Relaxed);
        if let Some(used) = self.app_seats_used.get_mut(&member.app_key) {
            *used = used.saturating_sub(1);
        }
        let Some(room) = self.rooms.get_mut(&*member.room_key) else {
            return;
        };
        room.members.retain(|(_, c)| *c != id);
        if room.members.is_empty() {
            // An empty room forgets its lock.
            self.rooms.remove(&*member.room_key);
            self.metrics.rooms.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let bye = obj([
            ("type", "bye".into()),
            ("mid", Value::from(&*member.peer_id)),
            ("rid", Value::from(&*member.room_key)),
        ]);
        let frame = L::Frame::from(encode_eio_message_event(&Value::Object(bye).to_string()));
        let recipients: Vec<ConnId> = room.members.iter().map(|(_, c)| *c).collect();
        for to in recipients {
            self.deliver(to, frame.clone());
        }
    }

    /// Handles one signaling message (the JSON text) from connection `id`.
    ///
    /// `raw` is the incoming Engine.IO packet when it may be forwarded verbatim (pure ASCII,
    /// exactly `42["message","…"]`); the hub then relays it without re-encoding.
    ///
    /// # Errors
    /// The [`DropReason`] when the message was not relayed (already counted in metrics).
    pub fn handle_message(
        &mut self,
        id: ConnId,
        raw: Option<&L::Frame>,
        text: &str,
        now: Instant,
    ) -> Result<(), DropReason> {
        self.metrics
            .messages_received
            .fetch_add(1, Ordering::Relaxed);
        let result = self.route(id, raw, text, now);
        if let Err(reason) = result {
            self.metrics.dropped(reason);
            tracing::debug!(conn = id, reason = reason.as_str(), "message dropped");
        }
        result
    }

    fn route(
        &mut self,
        id: ConnId,
        raw: Option<&L::Frame>,
        text: &str,
        now: Instant,
    ) -> Result<(), DropReason> {
        let env = Envelope::parse(text).map_err(|_| DropReason::Malformed)?;
        let conn = self.conns.get(&id).ok_or(DropReason::Closed)?;
        let Some(member) = conn.member.as_ref() else {
            if env.kind == "joinRoom" {
                self.join(id, text, now);
                return Ok(());
            }
            return Err(DropReason::NotJoined);
        };
        if let Some(rid) = env.rid.as_deref()
            && rid != &*member.room_key
        {
            return Err(DropReason::WrongRoom);
        }
        if let Some(mid) = env.mid.as_deref()
            && mid != &*member.peer_id
        {
            return Err(DropReason::SpoofedMid);
        }
        let peer_id = member.peer_id.clone();
        let room_key = member.room_key.clone();
        let kind = env.kind.as_ref();
        match kind {
            "joinRoom" | "inRoom" | "redirect" | "bye" | "peerList" | "approach"
            | "introduceError" => Err(DropReason::Forbidden),
            "getPeers" => self.get_peers(id, text),
            "introduce" => self.introduce(id, text),
            "startRecordingRoom" | "stopRecordingRoom" => {
                let to = self
                    .rooms
                    .get(&*room_key)
                    .and_then(|r| r.conn_of(MCU_PEER_ID))
                    .ok_or(DropReason::NoRoute)?;
                let frame = self.frame_for(raw, text, &peer_id, env.mid.is_none())?;
                self.deliver(to, frame);
                Ok(())
            }
            _ => {
                if is_throttled(kind) || kind == "group" {
                    if kind == "group" {
                        check_group(text, &peer_id)?;
                    }
                    self.count_flood(id, now);
                }
                if kind == "roomLockEvent" {
                    let lock = lock_flag(text)?;
                    if let Some(room) = self.rooms.get_mut(&*room_key) {
                        room.locked = lock;
                    }
                }
                let frame = if kind == "recordingEvent" && text.contains("\"urls\"") {
                    self.rewritten(text, &peer_id, recording_urls_to_url)?
                } else {
                    self.frame_for(raw, text, &peer_id, env.mid.is_none())?
                };
                let room = self.rooms.get(&*room_key).ok_or(DropReason::Closed)?;
                match env.target.as_deref() {
                    Some(target) => {
                        let to = room
                            .conn_of(target)
                            .filter(|to| *to != id)
                            .ok_or(DropReason::UnknownTarget)?;
                        self.deliver(to, frame);
                    }
                    None => {
                        if kind == "enter" && !self.auto_introduce(id) {
                            return Ok(());
                        }
                        let recipients: Vec<ConnId> = room
                            .members
                            .iter()
                            .filter(|(_, c)| *c != id)
                            .map(|(_, c)| *c)
                            .collect();
                        for to in recipients {
                            self.deliver(to, frame.clone());
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn auto_introduce(&self, id: ConnId) -> bool {
        self.conns
            .get(&id)
            .and_then(|c| c.member.as_ref())
            .is_none_or(|m| m.auto_introduce)
    }

    /// The frame to relay: the incoming packet itself when nothing changes, else a re-encoding
    /// with `mid` set to the real sender.
    fn frame_for(
        &self,
        raw: Option<&L::Frame>,
        text: &str,
        peer_id: &str,
        add_mid: bool,
    ) -> Result<L::Frame, DropReason> {
        if !add_mid && let Some(raw) = raw {
            return Ok(raw.clone());
        }
        if !add_mid {
            return Ok(L::Frame::from(encode_eio_message_event(text)));
        }
        self.rewritten(text, peer_id, |_| {})
    }

    /// Re-encodes a message after `edit`, with `mid` set to the real sender.
    fn rewritten(
        &self,
        text: &str,
        peer_id: &str,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<L::Frame, DropReason> {
        let mut value: Map<String, Value> =
            serde_json::from_str(text).map_err(|_| DropReason::Malformed)?;
        edit(&mut value);
        value.insert("mid".into(), Value::String(peer_id.to_owned()));
        Ok(L::Frame::from(encode_eio_message_event(
            &Value::Object(value).to_string(),
        )))
    }

    fn deliver(&self, to: ConnId, frame: L::Frame) {
        let Some(conn) = self.conns.get(&to) else {
            self.metrics.dropped(DropReason::Closed);
            return;
        };
        match conn.link.deliver(frame) {
            Ok(()) => {
                self.metrics
                    .messages_relayed
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(DeliverError::Full) => {
                self.metrics.dropped(DropReason::QueueFull);
                tracing::warn!(conn = to, "outgoing queue full: frame dropped");
            }
            Err(DeliverError::Closed) => self.metrics.dropped(DropReason::Closed),
        }
    }

    fn send_to(&self, to: ConnId, message: &Map<String, Value>) {
        let text = Value::Object(message.clone()).to_string();
        self.deliver(to, L::Frame::from(encode_eio_message_event(&text)));
    }

    fn count_flood(&mut self, id: ConnId, now: Instant) {
        let limit = self.settings.flood_per_sec;
        let Some(member) = self.conns.get_mut(&id).and_then(|c| c.member.as_mut()) else {
            return;
        };
        if now.saturating_duration_since(member.flood_window) >= Duration::from_secs(1) {
            member.flood_window = now;
            member.flood_count = 0;
            member.flood_warned = false;
        }
        member.flood_count += 1;
        if limit > 0 && member.flood_count > limit && !member.flood_warned {
            member.flood_warned = true;
            let warning = redirect(
                "warning",
                "fastmsg",
                "You are sending messages too fast; please slow down",
                &member.room_key,
            );
            self.metrics.flood_warnings.fetch_add(1, Ordering::Relaxed);
            self.send_to(id, &warning);
        }
    }

    fn reject(&mut self, id: ConnId, reason: &'static str, info: &str, rid: &str) -> JoinOutcome {
        self.metrics.joins_rejected.fetch_add(1, Ordering::Relaxed);
        tracing::info!(conn = id, reason, info, "join rejected");
        self.send_to(id, &redirect("reject", reason, info, rid));
        if let Some(conn) = self.conns.get(&id) {
            conn.link.close();
        }
        JoinOutcome::Rejected(reason)
    }

    /// Verifies a `joinRoom` against the issued ticket and either admits the peer (`inRoom`)
    /// or refuses it (`redirect` reject, then close).
    pub fn join(&mut self, id: ConnId, text: &str, now: Instant) -> JoinOutcome {
        let Ok(msg) = serde_json::from_str::<Map<String, Value>>(text) else {
            return self.reject(id, "credentialError", "Malformed joinRoom", "");
        };
        let field = |k: &str| msg.get(k).and_then(Value::as_str).unwrap_or("");
        let rid = field("rid").to_owned();
        let Some(ticket) = self.tickets.get(field("userCred")) else {
            return self.reject(id, "credentialError", "Unknown credentials", &rid);
        };
        let len_matches = msg.get("len") == Some(&ticket.len);
        let matches = field("uid") == ticket.username
            && field("rid") == ticket.room_key
            && field("roomCred") == ticket.room_cred
            && field("timeStamp") == ticket.time_stamp
            && field("cid") == ticket.cid
            && field("apiOwner") == ticket.api_owner
            && field("key") == ticket.app_key
            && field("start") == ticket.start
            && len_matches;
        if !matches {
            return self.reject(
                id,
                "credentialError",
                "Credentials do not match those issued",
                &rid,
            );
        }
        if ticket.used {
            return self.reject(id, "duplicatedLogin", "Credentials already used", &rid);
        }
        if now.saturating_duration_since(ticket.issued) > self.settings.credential_ttl {
            return self.reject(id, "oldTimeStamp", "Credentials have expired", &rid);
        }
        if now < ticket.window_start {
            return self.reject(id, "notStart", "The room has not started yet", &rid);
        }
        if now >= ticket.window_end {
            return self.reject(id, "expired", "The room has ended", &rid);
        }
        let ticket = ticket.clone();
        if let Some(room) = self.rooms.get(&ticket.room_key) {
            if room.locked && !room.members.is_empty() {
                return self.reject(id, "locked", "Unable to join room as room is locked", &rid);
            }
            let seats = self.settings.room_seats;
            if seats > 0 && room.members.len() >= seats {
                return self.reject(id, "serverError", "The room is full", &rid);
            }
            if ticket.mcu && room.conn_of(MCU_PEER_ID).is_some() {
                return self.reject(id, "serverError", "The room already has an MCU", &rid);
            }
        }
        let app_limit = self
            .settings
            .app_seats
            .get(&ticket.app_key)
            .copied()
            .unwrap_or(0);
        if app_limit > 0 && self.seats_used(&ticket.app_key) >= app_limit {
            return self.reject(
                id,
                "serverError",
                "The App Key is over its seat limit",
                &rid,
            );
        }
        if let Some(t) = self.tickets.get_mut(&ticket.user_cred) {
            t.used = true;
        }
        let peer_id = if ticket.mcu {
            MCU_PEER_ID.to_owned()
        } else {
            self.new_peer_id()
        };
        let tie_breaker = self.next_tie_breaker(now);
        let room = self
            .rooms
            .entry(ticket.room_key.clone())
            .or_insert_with(|| {
                self.metrics.rooms.fetch_add(1, Ordering::Relaxed);
                Room {
                    name: ticket.room_name.clone(),
                    app_key: ticket.app_key.clone(),
                    locked: false,
                    members: Vec::new(),
                }
            });
        room.members.push((peer_id.clone(), id));
        self.peers.insert(peer_id.clone(), id);
        *self
            .app_seats_used
            .entry(ticket.app_key.clone())
            .or_default() += 1;
        self.metrics.peers.fetch_add(1, Ordering::Relaxed);
        self.metrics.joins.fetch_add(1, Ordering::Relaxed);
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.member = Some(Member {
                peer_id: Arc::from(peer_id.as_str()),
                room_key: Arc::from(ticket.room_key.as_str()),
                app_key: ticket.app_key.clone(),
                privileged: ticket.privileged,
                auto_introduce: ticket.auto_introduce,
                window_end: ticket.window_end,
                close_warned: false,
                flood_window: now,
                flood_count: 0,
                flood_warned: false,
            });
        }
        let in_room = obj([
            ("type", "inRoom".into()),
            ("rid", ticket.room_key.clone().into()),
            ("sid", peer_id.clone().into()),
            ("mid", peer_id.clone().into()),
            (
                "pc_config",
                obj_value([(
                    "iceServers",
                    Value::Array(self.settings.ice_servers.clone()),
                )]),
            ),
            ("tieBreaker", tie_breaker.into()),
            ("SMProtocolVersion", SERVER_SM_VERSION.into()),
        ]);
        self.send_to(id, &in_room);
        tracing::debug!(conn = id, peer = %peer_id, room = %ticket.room_key, "joined");
        JoinOutcome::Joined(peer_id)
    }

    fn new_peer_id(&mut self) -> String {
        self.next_peer += 1;
        let r: u128 = rand::random();
        let r = r ^ u128::from(self.next_peer.wrapping_mul(self.peer_salt | 1));
        let h = format!("{r:032x}");
        format!(
            "{}-{}-4{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Unique, increasing, exact in a JS double even after the ±2e15 weight offsets:
    /// milliseconds since the Unix epoch × 1000 + a sequence.
    fn next_tie_breaker(&mut self, now: Instant) -> u64 {
        let ms =
            self.tie_breaker_base + now.saturating_duration_since(self.epoch).as_millis() as u64;
        let candidate = ms * 1000;
        self.last_tie_breaker = candidate.max(self.last_tie_breaker + 1);
        self.last_tie_breaker
    }

    fn get_peers(&mut self, id: ConnId, text: &str) -> Result<(), DropReason> {
        let member = self
            .conns
            .get(&id)
            .and_then(|c| c.member.as_ref())
            .ok_or(DropReason::NotJoined)?;
        if !member.privileged {
            return Err(DropReason::Forbidden);
        }
        let show_all = serde_json::from_str::<Map<String, Value>>(text)
            .ok()
            .and_then(|m| m.get("showAll").map(is_truthy))
            .unwrap_or(false);
        let mut result = Map::new();
        let mut names: Vec<&Room> = self
            .rooms
            .values()
            .filter(|r| r.app_key == member.app_key)
            .collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        for room in names {
            let ids: Vec<Value> = room
                .members
                .iter()
                .filter(|(_, c)| {
                    show_all
                        || !self
                            .conns
                            .get(c)
                            .and_then(|c| c.member.as_ref())
                            .is_some_and(|m| m.privileged)
                })
                .map(|(p, _)| Value::String(p.clone()))
                .collect();
            result.insert(room.name.clone(), Value::Array(ids));
        }
        let reply = obj([
            ("type", "peerList".into()),
            ("result", Value::Object(result)),
        ]);
        self.send_to(id, &reply);
        Ok(())
    }

    fn introduce(&mut self, id: ConnId, text: &str) -> Result<(), DropReason> {
        let member = self
            .conns
            .get(&id)
            .and_then(|c| c.member.as_ref())
            .ok_or(DropReason::NotJoined)?;
        let msg: Map<String, Value> =
            serde_json::from_str(text).map_err(|_| DropReason::Malformed)?;
        let field = |k: &str| msg.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let (sending, receiving) = (field("sendingPeerId"), field("receivingPeerId"));
        let error = |reason: &str| {
            obj([
                ("type", "introduceError".into()),
                ("reason", reason.into()),
                ("sendingPeerId", sending.clone().into()),
                ("receivingPeerId", receiving.clone().into()),
            ])
        };
        if !member.privileged {
            self.send_to(id, &error("notPrivileged"));
            return Err(DropReason::Forbidden);
        }
        let room_of = |peer: &str| {
            self.peers
                .get(peer)
                .and_then(|c| self.conns.get(c))
                .and_then(|c| c.member.as_ref())
                .map(|m| (m.room_key.to_string(), m.app_key.clone()))
        };
        let (Some(s), Some(r)) = (room_of(&sending), room_of(&receiving)) else {
            let missing = if room_of(&sending).is_none() {
                "sendingPeerId not found"
            } else {
                "receivingPeerId not found"
            };
            self.send_to(id, &error(missing));
            return Ok(());
        };
        if s != r || s.1 != member.app_key || sending == receiving {
            self.send_to(id, &error("peers are not in the same room"));
            return Ok(());
        }
        let approach = obj([("type", "approach".into()), ("target", receiving.into())]);
        if let Some(&to) = self.peers.get(&sending) {
            self.send_to(to, &approach);
        }
        Ok(())
    }

    /// Advances room-time limits: `toClose` warnings, then `roomclose` and disconnection.
    pub fn tick(&mut self, now: Instant) {
        self.purge_tickets(now);
        let lead = self.settings.close_warning;
        let mut warn = Vec::new();
        let mut close = Vec::new();
        for (id, conn) in &mut self.conns {
            let Some(m) = conn.member.as_mut() else {
                continue;
            };
            if now >= m.window_end {
                close.push((*id, m.room_key.clone()));
            } else if !m.close_warned && now + lead >= m.window_end {
                m.close_warned = true;
                warn.push((*id, m.room_key.clone(), m.window_end - now));
            }
        }
        for (id, rid, left) in warn {
            let info = format!("The room closes in {} seconds", left.as_secs());
            self.send_to(id, &redirect("warning", "toClose", &info, &rid));
        }
        for (id, rid) in close {
            self.send_to(
                id,
                &redirect("reject", "roomclose", "The room has closed", &rid),
            );
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.link.close();
                if let Some(member) = conn.member.take() {
                    self.remove_member(id, &member);
                }
            }
        }
    }

    /// Peer ids in the room `room_key`, in join order (for tests and diagnostics).
    pub fn room_members(&self, room_key: &str) -> Vec<String> {
        self.rooms
            .get(room_key)
            .map(|r| r.members.iter().map(|(p, _)| p.clone()).collect())
            .unwrap_or_default()
    }

    /// Whether the room is locked.
    pub fn is_locked(&self, room_key: &str) -> bool {
        self.rooms.get(room_key).is_some_and(|r| r.locked)
    }

    /// The peer id joined on this connection.
    pub fn peer_of(&self, id: ConnId) -> Option<&str> {
        self.conns.get(&id)?.member.as_ref().map(|m| &*m.peer_id)
    }
}

/// 0.6.26 throws on a `recordingEvent` carrying `urls` (it only reads `url`): keep the first
/// link as `url`.
fn recording_urls_to_url(message: &mut Map<String, Value>) {
    let Some(urls) = message.remove("urls") else {
        return;
    };
    if message.contains_key("url") {
        return;
    }
    let first = match &urls {
        Value::Array(list) => list.iter().find_map(Value::as_str),
        Value::Object(map) => map.values().find_map(Value::as_str),
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    if let Some(url) = first {
        message.insert("url".into(), Value::String(url.to_owned()));
    }
}

fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// The five message types 0.6.26 throttles and groups (spec §4).
pub fn is_throttled(kind: &str) -> bool {
    matches!(
        kind,
        "stream" | "updateUserEvent" | "muteAudioEvent" | "muteVideoEvent" | "public"
    )
}

/// A `group` may only wrap throttled broadcasts from its own sender.
fn check_group(text: &str, peer_id: &str) -> Result<(), DropReason> {
    #[derive(serde::Deserialize)]
    struct Group<'a> {
        #[serde(borrow)]
        lists: Vec<std::borrow::Cow<'a, str>>,
    }
    let group: Group<'_> = serde_json::from_str(text).map_err(|_| DropReason::Malformed)?;
    for item in &group.lists {
        let env = Envelope::parse(item).map_err(|_| DropReason::Malformed)?;
        if !is_throttled(&env.kind) || env.target.is_some() {
            return Err(DropReason::Forbidden);
        }
        if env.mid.as_deref().is_some_and(|m| m != peer_id) {
            return Err(DropReason::SpoofedMid);
        }
    }
    Ok(())
}

fn lock_flag(text: &str) -> Result<bool, DropReason> {
    #[derive(serde::Deserialize)]
    struct Lock {
        lock: bool,
    }
    serde_json::from_str::<Lock>(text)
        .map(|l| l.lock)
        .map_err(|_| DropReason::Malformed)
}

fn redirect(action: &str, reason: &str, info: &str, rid: &str) -> Map<String, Value> {
    obj([
        ("type", "redirect".into()),
        ("action", action.into()),
        ("info", info.into()),
        ("reason", reason.into()),
        ("rid", rid.into()),
    ])
}

fn obj<const N: usize>(fields: [(&str, Value); N]) -> Map<String, Value> {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn obj_value<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(obj(fields))
}
