//! The engine's peer connections: carries out the session's [`PeerCommand`]s on
//! [`PeerSession`]s and turns what the connections report into signaling messages and the
//! reference's events (sdp-and-peers.md §2.4–§2.12, data-transfer.md §4).
//!
//! Every call runs on the engine task, one at a time, so the order of the messages a peer sees
//! is the order of the work here (an offer leaves before its candidates).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use skylink_dt::message::{Frame, OutFrame};
use skylink_dt::peer::{Output as DtOut, PeerDt};
use skylink_dt::transfer::{ChannelKind, Payload};
use skylink_dt::version::{Dialect, PeerProfile};
use skylink_sdp::{PeerContext, SdpSettings, SdpType};
use tokio::sync::mpsc;

use crate::error::RoomError;
use crate::event::{
    CandidateInfo, CandidatesLength, Event, HandshakeProgress, MessageInfo, TransferData,
};
use crate::peer::{CandidateFields, IceServer, PeerConfig, PeerEvent, PeerSession};
use crate::session::{Output, PeerCommand, Session};

/// How long `leaveRoom` waits for the CANCELs of resumable transfers to leave the data channels
/// before closing the connections.
const LEAVE_DRAIN_BUDGET: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a peer's `bye` waits for the last frames of its connection when transfers with it
/// could be resumed (see `PeerSet::linger`).
const LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// A connection event tagged with its peer and connection generation (events of a replaced
/// connection are ignored).
#[derive(Debug)]
pub(crate) struct Tagged {
    peer_id: String,
    generation: u64,
    event: PeerEvent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signaling {
    Stable,
    HaveLocalOffer,
    HaveRemoteOffer,
    Closed,
}

impl Signaling {
    fn as_str(self) -> &'static str {
        match self {
            Signaling::Stable => "stable",
            Signaling::HaveLocalOffer => "have-local-offer",
            Signaling::HaveRemoteOffer => "have-remote-offer",
            Signaling::Closed => "closed",
        }
    }
}

struct QueuedCandidate {
    id: String,
    kind: String,
    fields: CandidateFields,
}

struct Slot {
    generation: u64,
    pc: Arc<PeerSession>,
    ctx: PeerContext,
    signaling: Signaling,
    local_set: bool,
    remote_set: bool,
    /// An offer for a restart is pending (extra `restart`s are discarded).
    has_restart: bool,
    gathering: bool,
    gathered: bool,
    /// Candidates sent to the peer (cumulative, spec §2.8 [Q]).
    sent: u32,
    queue: Vec<QueuedCandidate>,
    /// Remote candidates received since the last restart (`None` before the first).
    len: Option<u32>,
    expected: Option<u32>,
    has_set: bool,
    processed: u32,
    channel: Option<String>,
    channel_open: bool,
    ice_state: String,
    closed_emitted: bool,
    /// DT state: channel bindings, transfers, streams, P2P messages.
    dt: PeerDt,
    /// getConnectionStatus baseline (§3.2), created by the first call.
    stats_baseline: Option<crate::stats::StatsBaseline>,
    /// Options of our last offer (`sdpConstraints` in the stats), `None` after an answer.
    last_offer_restart: Option<bool>,
    gathering_state: String,
    /// The remote stream id last announced with `incomingStream` (§4.8).
    announced_stream: Option<String>,
    /// Sections of the remote offer being answered that were `recvonly` (see `recvonly.rs`).
    opened_recvonly: Vec<String>,
    /// The peer's skylink-rs instance token (resumable transfers survive a reconnect).
    instance: Option<String>,
    /// `dt` was adopted from an [`Orphan`]: resume its uploads once messaging is open.
    resume_pending: bool,
    /// `b=AS` (kbps) of the audio and video sections of the remote description last
    /// applied (§1.10: what we may send to this peer).
    send_limits: (Option<u32>, Option<u32>),
}

/// The DT state of a closed connection whose transfers wait, suspended, for the same remote
/// skylink-rs instance to come back under a new peer id (after either side's signaling socket
/// dropped and it rejoined). Adopted by the next connection with that instance; its sessions
/// otherwise expire with their timeout.
#[derive(Debug)]
pub(crate) struct Orphan {
    instance: String,
    peer_id: String,
    dt: PeerDt,
}

/// Settings of the peer layer, fixed per `init()`.
#[derive(Debug, Clone)]
pub(crate) struct PeerLayerConfig {
    /// Local UDP addresses to bind.
    pub udp_addrs: Vec<String>,
    /// SDP munging settings.
    pub sdp: SdpSettings,
    /// Offer the skylink-dt extensions to skylink-rs peers.
    pub dt_extensions: bool,
    /// Sinks for received media tracks.
    pub sink_factory: Option<crate::peer_media::SinkFactory>,
}

/// All peer connections of one room session.
pub(crate) struct PeerSet {
    slots: HashMap<String, Slot>,
    tx: mpsc::UnboundedSender<Tagged>,
    rx: mpsc::UnboundedReceiver<Tagged>,
    next_generation: u64,
    ice_servers: Vec<IceServer>,
    cfg: PeerLayerConfig,
    /// The local stream connections send (§4.10).
    chosen: crate::local_media::Chosen,
    /// Counters of every track received in this session.
    remote_tracks: Vec<Arc<std::sync::Mutex<crate::peer_media::RemoteTrackStats>>>,
    /// Every local UDP address is a loopback one: remote candidates elsewhere are dropped.
    loopback_only: bool,
    /// Suspended transfers of closed connections (see [`Orphan`]).
    orphans: Vec<Orphan>,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Whether an ICE candidate's address (the 5th field) is a loopback IP. Host names (mDNS) and
/// unparsable candidates count as not loopback.
fn candidate_is_loopback(candidate: &str) -> bool {
    candidate
        .trim_start_matches("candidate:")
        .split(' ')
        .nth(4)
        .and_then(|a| a.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

fn candidate_type(candidate: &str) -> String {
    candidate.split(' ').nth(7).unwrap_or_default().to_owned()
}

fn emit(out: &mut Vec<Output>, ev: Event) {
    out.push(Output::Emit(ev));
}

impl PeerSet {
    pub(crate) fn new(cfg: PeerLayerConfig) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        PeerSet {
            slots: HashMap::new(),
            tx,
            rx,
            next_generation: 0,
            ice_servers: Vec::new(),
            chosen: crate::local_media::Chosen::default(),
            remote_tracks: Vec::new(),
            loopback_only: !cfg.udp_addrs.is_empty()
                && cfg.udp_addrs.iter().all(|a| {
                    a.parse::<std::net::SocketAddr>()
                        .is_ok_and(|a| a.ip().is_loopback())
                }),
            cfg,
            orphans: Vec::new(),
        }
    }

    /// Hands over suspended transfers of a previous session (see [`Orphan`]).
    pub(crate) fn set_orphans(&mut self, orphans: Vec<Orphan>) {
        self.orphans = orphans;
    }

    /// Takes the suspended transfers (the session ends; the next one may adopt them).
    pub(crate) fn take_orphans(&mut self) -> Vec<Orphan> {
        std::mem::take(&mut self.orphans)
    }

    /// Sets the local stream that offers and answers from now on attach (§4.10).
    pub(crate) fn set_chosen(&mut self, chosen: crate::local_media::Chosen) {
        self.chosen = chosen;
        self.apply_send_limits();
    }

    /// Caps the encoders of the sent stream at the lowest `b=AS` per kind over the applied
    /// remote descriptions (§1.10 note on webrtc-rs: the limit steers what *we* send, and
    /// nothing but our encoder can enforce it). One stream feeds every connection, so the
    /// most constrained peer sets the rate for all; without any limit the sources run at
    /// their defaults.
    fn apply_send_limits(&self) {
        let audio = self.slots.values().filter_map(|s| s.send_limits.0).min();
        let video = self.slots.values().filter_map(|s| s.send_limits.1).min();
        for feed in &self.chosen.feeds {
            feed.set_max_bitrate_kbps(match feed.codec {
                skylink_media::Codec::Opus => audio,
                skylink_media::Codec::Vp8 => video,
            });
        }
    }

    /// Counters of the tracks received so far.
    pub(crate) fn remote_tracks(&self) -> Vec<crate::peer_media::RemoteTrackStats> {
        self.remote_tracks
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .collect()
    }

    /// Sets the ICE servers for connections created from now on.
    pub(crate) fn set_ice_servers(&mut self, list: Vec<IceServer>) {
        self.ice_servers = list;
    }

    /// The next connection event.
    pub(crate) async fn recv(&mut self) -> Option<Tagged> {
        self.rx.recv().await
    }

    /// `(peerId, channel label, open)` of every messaging channel.
    pub(crate) fn channels(&self) -> Vec<(String, String, bool)> {
        let mut v: Vec<_> = self
            .slots
            .iter()
            .filter_map(|(id, s)| {
                s.channel
                    .as_ref()
                    .map(|c| (id.clone(), c.clone(), s.channel_open))
            })
            .collect();
        v.sort();
        v
    }

    /// Peer ids with a connection.
    pub(crate) fn peer_ids(&self) -> Vec<String> {
        let mut v: Vec<_> = self.slots.keys().cloned().collect();
        v.sort();
        v
    }

    /// The connection to `peer_id`.
    pub(crate) fn session(&self, peer_id: &str) -> Option<Arc<PeerSession>> {
        self.slots.get(peer_id).map(|s| s.pc.clone())
    }

    /// Whether the connection to `peer_id` is `stable`.
    pub(crate) fn is_stable(&self, peer_id: &str) -> Option<bool> {
        self.slots
            .get(peer_id)
            .map(|s| s.signaling == Signaling::Stable)
    }

    /// One peer's `getConnectionStatus` payload (§3.2–§3.4); the first call fills the
    /// baseline with a discarded retrieval.
    pub(crate) async fn connection_status(&mut self, peer_id: &str) -> Result<Value, String> {
        let Some(slot) = self.slots.get_mut(peer_id) else {
            return Err("The peer connection object does not exists".into());
        };
        let pc = slot.pc.clone();
        let local = pc.local_sdp().await;
        let remote = pc.remote_sdp().await;
        let ctx = stats_context(slot, local, remote);
        let now = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        if slot.stats_baseline.is_none() {
            let report = pc.stats().await;
            let (_, baseline) = crate::stats::connection_status(&report, None, now(), &ctx);
            slot.stats_baseline = Some(baseline);
        }
        let report = pc.stats().await;
        let (payload, baseline) =
            crate::stats::connection_status(&report, slot.stats_baseline.as_ref(), now(), &ctx);
        slot.stats_baseline = Some(baseline);
        Ok(payload)
    }

    /// Closes every connection (leaving the room).
    pub(crate) async fn close_all(&mut self, out: &mut Vec<Output>) {
        let ids: Vec<String> = self.slots.keys().cloned().collect();
        for id in ids {
            self.close(&id, out).await;
        }
    }

    async fn close(&mut self, peer_id: &str, out: &mut Vec<Output>) {
        let Some(mut slot) = self.slots.remove(peer_id) else {
            return;
        };
        if slot.send_limits != (None, None) {
            self.apply_send_limits();
        }
        if let Err(e) = slot.pc.close().await {
            tracing::debug!(peer = peer_id, error = %e, "closing peer connection");
        }
        slot.dt.connection_lost(std::time::Instant::now());
        emit_dt_events(&mut slot.dt, out);
        if slot.dt.has_suspended()
            && let Some(instance) = slot.instance.take()
        {
            tracing::info!(peer = peer_id, %instance, "transfers suspended until the peer reconnects");
            self.orphans.retain(|o| o.instance != instance);
            self.orphans.push(Orphan {
                instance,
                peer_id: peer_id.to_owned(),
                dt: slot.dt,
            });
        }
        if !slot.closed_emitted {
            slot.closed_emitted = true;
            if let Some(label) = slot.channel.take()
                && slot.channel_open
            {
                emit(out, channel_state("closed", peer_id, &label, "messaging"));
            }
            emit(
                out,
                Event::PeerConnectionState {
                    state: "closed".into(),
                    peer_id: peer_id.to_owned(),
                },
            );
            emit(
                out,
                Event::IceConnectionState {
                    state: "closed".into(),
                    peer_id: peer_id.to_owned(),
                },
            );
        }
    }

    /// Carries out one session command.
    pub(crate) async fn command(
        &mut self,
        s: &mut Session,
        cmd: PeerCommand,
        out: &mut Vec<Output>,
    ) {
        match cmd {
            PeerCommand::Create { peer_id } => {
                self.create(s, &peer_id, out).await;
            }
            PeerCommand::Offer {
                peer_id,
                ice_restart,
                for_restart,
            } => {
                if !self.slots.contains_key(&peer_id) {
                    self.create(s, &peer_id, out).await;
                }
                if let Some(slot) = self.slots.get_mut(&peer_id)
                    && for_restart
                {
                    if slot.has_restart {
                        return;
                    }
                    slot.has_restart = true;
                }
                self.offer(s, &peer_id, ice_restart, out).await;
            }
            PeerCommand::RemoteOffer { peer_id, sdp } => {
                self.remote_description(s, &peer_id, true, sdp, out).await;
            }
            PeerCommand::RemoteAnswer { peer_id, sdp } => {
                self.remote_description(s, &peer_id, false, sdp, out).await;
            }
            PeerCommand::RemoteCandidate {
                peer_id,
                label,
                id,
                candidate,
            } => {
                self.remote_candidate(&peer_id, label, id, candidate, out)
                    .await;
            }
            PeerCommand::RemoteEndOfCandidates { peer_id, expected } => {
                let Some(slot) = self.slots.get_mut(&peer_id) else {
                    return;
                };
                if slot.signaling == Signaling::Closed {
                    return;
                }
                slot.expected = Some(expected);
                end_of_candidates_check(&peer_id, slot, out);
            }
            PeerCommand::ResetCandidates { peer_id } => {
                if let Some(slot) = self.slots.get_mut(&peer_id) {
                    slot.len = Some(0);
                }
            }
            PeerCommand::Close { peer_id } => {
                self.linger(s, &peer_id, out).await;
                self.close(&peer_id, out).await;
            }
        }
    }

    async fn create(&mut self, s: &Session, peer_id: &str, out: &mut Vec<Output>) {
        if self.slots.contains_key(peer_id) {
            return;
        }
        let Some(own) = s.self_id() else { return };
        let mut config = PeerConfig::new(own, peer_id);
        config.ice_servers = self.ice_servers.clone();
        config.udp_addrs = self.cfg.udp_addrs.clone();
        let (pc, mut rx) = match PeerSession::new(config).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(peer = peer_id, error = %e, "creating the peer connection failed");
                emit(
                    out,
                    Event::HandshakeProgress {
                        state: HandshakeProgress::Error,
                        peer_id: peer_id.to_owned(),
                        error: Some(e.to_string()),
                    },
                );
                return;
            }
        };
        self.next_generation += 1;
        let generation = self.next_generation;
        let tx = self.tx.clone();
        let id = peer_id.to_owned();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let tagged = Tagged {
                    peer_id: id.clone(),
                    generation,
                    event,
                };
                if tx.send(tagged).is_err() {
                    break;
                }
            }
        });
        let info = s.peer_info(peer_id);
        let mut profile = PeerProfile::new(
            info.map(|i| i.agent.dt_protocol_version.as_str()),
            info.map_or("other", |i| i.agent.name.as_str()),
        );
        profile.mcu_in_room = s.has_mcu() || peer_id == "MCU";
        let mut dialect = Dialect::for_peer(&profile);
        dialect.extensions &= self.cfg.dt_extensions;
        let instance = s
            .peer_instance(peer_id)
            .filter(|_| dialect.extensions)
            .map(str::to_owned);
        let adopted = instance.as_deref().and_then(|i| {
            let at = self.orphans.iter().position(|o| o.instance == i)?;
            Some(self.orphans.swap_remove(at))
        });
        let resume_pending = adopted.is_some();
        let dt = match adopted {
            Some(mut o) => {
                tracing::info!(peer = peer_id, was = %o.peer_id, "same skylink-rs instance: its suspended transfers move to the new connection");
                o.dt.rebind(own, peer_id);
                o.dt
            }
            None => PeerDt::new(own, peer_id, dialect),
        };
        let mut ctx = PeerContext::new(
            peer_id,
            info.map_or("other".to_owned(), |i| i.agent.name.clone()),
        );
        ctx.enable_ice_trickle = info.is_none_or(|i| i.config.enable_ice_trickle);
        self.slots.insert(
            peer_id.to_owned(),
            Slot {
                generation,
                pc: Arc::new(pc),
                ctx,
                signaling: Signaling::Stable,
                local_set: false,
                remote_set: false,
                has_restart: false,
                gathering: false,
                gathered: false,
                sent: 0,
                queue: Vec::new(),
                len: None,
                expected: None,
                has_set: false,
                processed: 0,
                channel: None,
                channel_open: false,
                ice_state: "new".into(),
                closed_emitted: false,
                dt,
                stats_baseline: None,
                last_offer_restart: None,
                gathering_state: "new".into(),
                announced_stream: None,
                opened_recvonly: Vec::new(),
                instance,
                resume_pending,
                send_limits: (None, None),
            },
        );
    }

    fn settings(&self, s: &Session) -> SdpSettings {
        let mut st = self.cfg.sdp.clone();
        st.enable_ice_trickle = s.config().enable_ice_trickle;
        st.has_mcu = s.has_mcu();
        st.local_stream_id = self.chosen.stream_id.clone();
        st
    }

    fn handshake_error(peer_id: &str, error: String, out: &mut Vec<Output>) {
        tracing::debug!(peer = peer_id, %error, "handshake error");
        emit(
            out,
            Event::HandshakeProgress {
                state: HandshakeProgress::Error,
                peer_id: peer_id.to_owned(),
                error: Some(error),
            },
        );
    }

    fn set_signaling(peer_id: &str, slot: &mut Slot, state: Signaling, out: &mut Vec<Output>) {
        if slot.signaling != state {
            slot.signaling = state;
            emit(
                out,
                Event::PeerConnectionState {
                    state: state.as_str().into(),
                    peer_id: peer_id.to_owned(),
                },
            );
        }
    }

    async fn offer(&mut self, s: &mut Session, peer_id: &str, ice: bool, out: &mut Vec<Output>) {
        let settings = self.settings(s);
        let want_channel = s.config().enable_data_channel
            && s.peer_info(peer_id)
                .is_none_or(|i| i.config.enable_data_channel);
        let remote_restart = s
            .peer_info(peer_id)
            .is_some_and(|i| i.config.enable_ice_restart);
        let ice = ice && remote_restart && s.config().enable_ice_restart;
        let Some(slot) = self.slots.get_mut(peer_id) else {
            return;
        };
        if slot.signaling != Signaling::Stable {
            tracing::debug!(peer = peer_id, "offer dropped: not stable");
            return;
        }
        let pc = slot.pc.clone();
        if want_channel && !pc.has_channel() {
            if let Err(e) = pc.ensure_channel().await {
                return Self::handshake_error(peer_id, e.to_string(), out);
            }
            slot.channel = Some(pc.offer_label().to_owned());
            slot.dt.set_messaging_label(pc.offer_label());
        }
        let dirs = settings.sdp_settings.direction;
        let conn = settings.sdp_settings.connection;
        let media = async {
            pc.sync_media(&self.chosen).await?;
            pc.ensure_receivers(
                conn.audio && dirs.audio.receive,
                conn.video && dirs.video.receive,
                true,
            )
            .await
        };
        if let Err(e) = media.await {
            tracing::warn!(peer = peer_id, error = %e, "attaching local media failed");
        }
        let sdp = match pc.offer_sdp(ice).await {
            Ok(sdp) => sdp,
            Err(e) => return Self::handshake_error(peer_id, e.to_string(), out),
        };
        let munged = match apply_local(&pc, &mut slot.ctx, &settings, true, &sdp).await {
            Ok(m) => m,
            Err(e) => return Self::handshake_error(peer_id, e, out),
        };
        slot.local_set = true;
        slot.remote_set = false;
        slot.last_offer_restart = Some(ice);
        Self::set_signaling(peer_id, slot, Signaling::HaveLocalOffer, out);
        emit(
            out,
            Event::HandshakeProgress {
                state: HandshakeProgress::Offer,
                peer_id: peer_id.to_owned(),
                error: None,
            },
        );
        if !s.config().enable_ice_trickle && !slot.gathered {
            return; // sent when gathering completes (§2.7)
        }
        let rendered =
            skylink_sdp::output(&munged, SdpType::Offer, &settings, &slot.ctx).unwrap_or(munged);
        out.extend(s.description(peer_id, true, rendered, Instant::now()));
    }

    async fn remote_description(
        &mut self,
        s: &mut Session,
        peer_id: &str,
        is_offer: bool,
        sdp: String,
        out: &mut Vec<Output>,
    ) {
        let settings = self.settings(s);
        let Some(slot) = self.slots.get_mut(peer_id) else {
            return;
        };
        let ty = if is_offer {
            SdpType::Offer
        } else {
            SdpType::Answer
        };
        tracing::trace!(peer = peer_id, is_offer, %sdp, "remote description");
        let munged = match skylink_sdp::remote(&sdp, ty, &settings, &mut slot.ctx) {
            Ok(m) => m,
            Err(e) => return Self::handshake_error(peer_id, format!("bad remote SDP: {e}"), out),
        };
        let expected = if is_offer {
            Signaling::Stable
        } else {
            Signaling::HaveLocalOffer
        };
        if slot.signaling != expected {
            tracing::debug!(
                peer = peer_id,
                state = slot.signaling.as_str(),
                is_offer,
                "remote description dropped in this signaling state"
            );
            return;
        }
        let pc = slot.pc.clone();
        let munged = if is_offer {
            let (opened, mids) = crate::recvonly::open_recvonly(&munged);
            slot.opened_recvonly = mids;
            opened
        } else {
            munged
        };
        let limits = send_limits(&munged);
        if let Err(e) = pc.set_remote(is_offer, munged).await {
            return Self::handshake_error(peer_id, e.to_string(), out);
        }
        slot.remote_set = true;
        if slot.send_limits != limits {
            slot.send_limits = limits;
            self.apply_send_limits();
        }
        let Some(slot) = self.slots.get_mut(peer_id) else {
            return;
        };
        Self::set_signaling(
            peer_id,
            slot,
            if is_offer {
                Signaling::HaveRemoteOffer
            } else {
                Signaling::Stable
            },
            out,
        );
        emit(
            out,
            Event::HandshakeProgress {
                state: if is_offer {
                    HandshakeProgress::Offer
                } else {
                    HandshakeProgress::Answer
                },
                peer_id: peer_id.to_owned(),
                error: None,
            },
        );
        if !is_offer {
            slot.has_restart = false;
            flush_queue(peer_id, slot, out).await;
            announce_remote_stream(s, peer_id, slot, &settings, out).await;
            return;
        }
        announce_remote_stream(s, peer_id, slot, &settings, out).await;
        if !is_offer {
            // (unreachable: answers returned above)
        }
        // Answer it (§2.6).
        let (dirs, conn) = (
            settings.sdp_settings.direction,
            settings.sdp_settings.connection,
        );
        let media = async {
            pc.sync_media(&self.chosen).await?;
            pc.ensure_receivers(
                conn.audio && dirs.audio.receive,
                conn.video && dirs.video.receive,
                false,
            )
            .await
        };
        if let Err(e) = media.await {
            tracing::warn!(peer = peer_id, error = %e, "attaching local media failed");
        }
        let answer = match pc.answer_sdp().await {
            Ok(a) => a,
            Err(e) => return Self::handshake_error(peer_id, e.to_string(), out),
        };
        let munged = match apply_local(&pc, &mut slot.ctx, &settings, false, &answer).await {
            Ok(m) => m,
            Err(e) => return Self::handshake_error(peer_id, e, out),
        };
        slot.local_set = true;
        slot.last_offer_restart = None;
        Self::set_signaling(peer_id, slot, Signaling::Stable, out);
        emit(
            out,
            Event::HandshakeProgress {
                state: HandshakeProgress::Answer,
                peer_id: peer_id.to_owned(),
                error: None,
            },
        );
        flush_queue(peer_id, slot, out).await;
        if !s.config().enable_ice_trickle && !slot.gathered {
            return;
        }
        let rendered =
            skylink_sdp::output(&munged, SdpType::Answer, &settings, &slot.ctx).unwrap_or(munged);
        let rendered = crate::recvonly::restrict_answer(&rendered, &slot.opened_recvonly);
        out.extend(s.description(peer_id, false, rendered, Instant::now()));
    }

    async fn remote_candidate(
        &mut self,
        peer_id: &str,
        label: Option<u32>,
        id: Option<String>,
        candidate: Option<String>,
        out: &mut Vec<Output>,
    ) {
        let candidate = candidate.unwrap_or_default();
        let fields = CandidateFields {
            label: label.unwrap_or(0),
            id: id.unwrap_or_default(),
            candidate,
        };
        let can_id = format!("can-{}", now_ms());
        let kind = candidate_type(&fields.candidate);
        let info = CandidateInfo {
            candidate: fields.candidate.clone(),
            sdp_mid: fields.id.clone(),
            sdp_mline_index: fields.label,
        };
        let state = |st: &str, error: Option<String>| Event::CandidateProcessingState {
            state: st.into(),
            peer_id: peer_id.to_owned(),
            candidate_id: can_id.clone(),
            candidate_type: kind.clone(),
            candidate: info.clone(),
            error,
        };
        let Some(slot) = self.slots.get_mut(peer_id) else {
            emit(out, state("received", None));
            emit(
                out,
                state(
                    "dropped",
                    Some("Failed processing ICE candidate as Peer connection does not exists or is closed.".into()),
                ),
            );
            return;
        };
        slot.len = Some(slot.len.unwrap_or(0) + 1);
        slot.has_set = false;
        emit(out, state("received", None));
        if slot.signaling == Signaling::Closed {
            emit(
                out,
                state(
                    "dropped",
                    Some("Failed processing ICE candidate as Peer connection does not exists or is closed.".into()),
                ),
            );
            end_of_candidates_check(peer_id, slot, out);
            return;
        }
        if self.loopback_only && !candidate_is_loopback(&fields.candidate) {
            // Bound to loopback only (e.g. `--udp 127.0.0.1:0`): a browser on the same host
            // also offers its LAN addresses, which a loopback socket can reach locally; keep
            // the media where the user put it.
            emit(
                out,
                state(
                    "dropped",
                    Some(
                        "Dropped a non-loopback candidate: this peer is bound to loopback only."
                            .into(),
                    ),
                ),
            );
            end_of_candidates_check(peer_id, slot, out);
            return;
        }
        if slot.local_set && slot.remote_set {
            add_candidate(peer_id, slot, can_id.clone(), kind.clone(), fields, out).await;
        } else {
            emit(out, state("buffered", None));
            slot.queue.push(QueuedCandidate {
                id: can_id.clone(),
                kind: kind.clone(),
                fields,
            });
        }
        end_of_candidates_check(peer_id, slot, out);
    }

    /// Handles one connection event.
    pub(crate) async fn event(&mut self, s: &mut Session, t: Tagged, out: &mut Vec<Output>) {
        let peer_id = t.peer_id.as_str();
        let trickle = s.config().enable_ice_trickle;
        let settings = self.settings(s);
        let Some(slot) = self.slots.get_mut(peer_id) else {
            return;
        };
        if slot.generation != t.generation {
            return;
        }
        match t.event {
            PeerEvent::LocalCandidate(c) => {
                if !slot.gathering {
                    slot.gathering = true;
                    slot.gathered = false;
                    emit(
                        out,
                        Event::CandidateGenerationState {
                            state: "gathering".into(),
                            peer_id: peer_id.to_owned(),
                        },
                    );
                }
                slot.sent += 1;
                if trickle {
                    out.extend(s.candidate(peer_id, c.label, c.id, c.candidate, Instant::now()));
                }
            }
            PeerEvent::EndOfCandidates => {
                if slot.gathered {
                    return;
                }
                slot.gathering = false;
                slot.gathered = true;
                emit(
                    out,
                    Event::CandidateGenerationState {
                        state: "completed".into(),
                        peer_id: peer_id.to_owned(),
                    },
                );
                if trickle {
                    out.extend(s.end_of_candidates(peer_id, slot.sent, Instant::now()));
                } else if let Some(sdp) = slot.pc.local_sdp().await {
                    let is_offer = slot.signaling == Signaling::HaveLocalOffer;
                    let ty = if is_offer {
                        SdpType::Offer
                    } else {
                        SdpType::Answer
                    };
                    // The connection holds the unmunged description (see `apply_local`):
                    // munge the gathered one the same way before rendering it.
                    let mut ctx = slot.ctx.clone();
                    let sdp = skylink_sdp::local(&sdp, ty, &settings, &mut ctx).unwrap_or(sdp);
                    let mut rendered =
                        skylink_sdp::output(&sdp, ty, &settings, &slot.ctx).unwrap_or(sdp);
                    if !is_offer {
                        rendered =
                            crate::recvonly::restrict_answer(&rendered, &slot.opened_recvonly);
                    }
                    out.extend(s.description(peer_id, is_offer, rendered, Instant::now()));
                }
            }
            PeerEvent::GatheringState(state) => {
                slot.gathering_state = state.clone();
                emit(
                    out,
                    Event::CandidateGenerationState {
                        state,
                        peer_id: peer_id.to_owned(),
                    },
                );
            }
            PeerEvent::SignalingState(state) => {
                // The engine reports signaling states from its own bookkeeping (synchronously
                // with the description calls); the driver's copy only matters for logs.
                tracing::trace!(peer = peer_id, %state, "native signaling state");
            }
            PeerEvent::IceConnectionState(state) => {
                if state == slot.ice_state {
                    return;
                }
                slot.ice_state = state.clone();
                let failed = state == "failed";
                emit(
                    out,
                    Event::IceConnectionState {
                        state,
                        peer_id: peer_id.to_owned(),
                    },
                );
                if failed && trickle {
                    emit(
                        out,
                        Event::IceConnectionState {
                            state: "trickleFailed".into(),
                            peer_id: peer_id.to_owned(),
                        },
                    );
                }
            }
            PeerEvent::ConnectionState(state) => {
                tracing::debug!(peer = peer_id, ?state, "peer connection state");
            }
            PeerEvent::RemoteTrack(track) => {
                let stats = Arc::new(std::sync::Mutex::new(
                    crate::peer_media::RemoteTrackStats::default(),
                ));
                self.remote_tracks.push(stats.clone());
                tokio::spawn(crate::peer_media::receive_track(
                    peer_id.to_owned(),
                    track.0,
                    self.cfg.sink_factory.clone(),
                    stats,
                ));
            }
            PeerEvent::RemoteChannel { label } => {
                if slot.dt.incoming_channel(&label) == ChannelKind::Messaging {
                    slot.channel = Some(label);
                }
            }
            PeerEvent::ChannelOpen { label } => {
                if slot.channel.is_none() {
                    slot.channel = Some(label.clone());
                    slot.dt.set_messaging_label(&label);
                }
                if slot.channel.as_deref() == Some(label.as_str()) {
                    slot.channel_open = true;
                    emit(out, channel_state("open", peer_id, &label, "messaging"));
                    if std::mem::take(&mut slot.resume_pending)
                        && let Err(e) = slot.dt.resume_uploads()
                    {
                        tracing::warn!(peer = peer_id, error = %e, "resuming transfers failed");
                    }
                } else {
                    emit(out, channel_state("open", peer_id, &label, "data"));
                    if let Err(e) = slot.dt.channel_open(&label) {
                        tracing::debug!(peer = peer_id, %label, error = %e, "DATA channel open");
                    }
                }
                drain(s, peer_id, slot, out).await;
            }
            PeerEvent::ChannelClosed { label } => {
                if slot.channel.as_deref() == Some(label.as_str()) {
                    let was_open = slot.channel_open;
                    slot.channel_open = false;
                    if was_open {
                        emit(out, channel_state("closed", peer_id, &label, "messaging"));
                    }
                } else {
                    emit(out, channel_state("closed", peer_id, &label, "data"));
                }
                slot.dt.channel_closed(&label, std::time::Instant::now());
                drain(s, peer_id, slot, out).await;
            }
            PeerEvent::Text { label, text } => {
                if let Err(e) = slot.dt.handle_frame(
                    &label,
                    Frame::Text(&text),
                    std::time::Instant::now(),
                    now_ms() as u64,
                ) {
                    tracing::debug!(peer = peer_id, %label, error = %e, "data-channel text frame dropped");
                }
                drain(s, peer_id, slot, out).await;
            }
            PeerEvent::Binary { label, data } => {
                if let Err(e) = slot.dt.handle_frame(
                    &label,
                    Frame::Binary(&data),
                    std::time::Instant::now(),
                    now_ms() as u64,
                ) {
                    tracing::debug!(peer = peer_id, %label, error = %e, "data-channel binary frame dropped");
                }
                drain(s, peer_id, slot, out).await;
            }
        }
    }

    /// `sendP2PMessage` (data-transfer.md §4): one `MESSAGE` per target on its messaging
    /// channel. Returns the peers it was sent to.
    pub(crate) async fn send_p2p(
        &mut self,
        s: &Session,
        data: &Value,
        targets: &[String],
        is_private: bool,
        out: &mut Vec<Output>,
    ) -> Result<Vec<String>, RoomError> {
        let mut sent = Vec::new();
        for t in targets {
            let Some(slot) = self.slots.get_mut(t) else {
                tracing::debug!(peer = %t, "P2P message: no connection to that peer; skipped");
                continue;
            };
            let Some(label) = slot.channel.clone() else {
                tracing::debug!(peer = %t, "P2P message: no messaging channel; skipped");
                continue;
            };
            if !slot.channel_open {
                let err = "Datachannel connection is not opened".to_owned();
                emit(
                    out,
                    Event::DataChannelState {
                        state: "sendMessageError".into(),
                        peer_id: t.clone(),
                        error: Some(err.clone()),
                        channel_name: label,
                        channel_type: "messaging".into(),
                        message_type: Some("message".into()),
                    },
                );
                return Err(RoomError::Peer(format!("{err} (peer {t})")));
            }
            if let Err(e) = slot.dt.send_message(data.clone(), is_private) {
                return Err(RoomError::Peer(e.to_string()));
            }
            drain(s, t, slot, out).await;
            sent.push(t.clone());
        }
        Ok(sent)
    }

    /// Peers with an open messaging channel.
    pub(crate) fn connected_peers(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, s)| s.channel_open)
            .map(|(id, _)| id.clone())
            .collect();
        v.sort();
        v
    }

    /// `sendBlobData` / `sendURLData`: one transfer id for every target.
    pub(crate) async fn send_payload(
        &mut self,
        s: &Session,
        targets: &[String],
        payload: Payload,
        opts: &crate::client::TransferOptions,
        out: &mut Vec<Output>,
    ) -> Result<(String, Vec<String>), RoomError> {
        let mut id = None;
        let mut started = Vec::new();
        let mut errors = Vec::new();
        for t in targets {
            let Some(slot) = self.slots.get_mut(t) else {
                errors.push(format!("{t}: no connection"));
                continue;
            };
            if !slot.channel_open {
                errors.push(format!("{t}: Datachannel connection is not opened"));
                continue;
            }
            let tid = id
                .get_or_insert_with(|| slot.dt.new_transfer_id(now_ms() as u64))
                .clone();
            slot.dt.timeout_secs = opts.timeout_secs;
            match slot
                .dt
                .send_payload(&tid, payload.clone(), opts.name.as_deref(), true)
            {
                Ok(()) => started.push(t.clone()),
                Err(e) => errors.push(format!("{t}: {e}")),
            }
            drain(s, t, slot, out).await;
        }
        match id {
            Some(id) if !started.is_empty() => Ok((id, started)),
            _ => Err(RoomError::Peer(if errors.is_empty() {
                "no peer to send to".into()
            } else {
                errors.join("; ")
            })),
        }
    }

    /// `acceptDataTransfer` (accept or reject).
    pub(crate) async fn respond(
        &mut self,
        s: &Session,
        peer_id: &str,
        transfer_id: &str,
        accept: bool,
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        self.with_dt(s, peer_id, out, |dt| dt.respond(transfer_id, accept))
            .await
    }

    /// Runs one DT call on `peer_id`'s state, then carries out what it queued.
    async fn with_dt(
        &mut self,
        s: &Session,
        peer_id: &str,
        out: &mut Vec<Output>,
        call: impl FnOnce(&mut PeerDt) -> Result<(), skylink_dt::DtError>,
    ) -> Result<(), RoomError> {
        let slot = self
            .slots
            .get_mut(peer_id)
            .ok_or_else(|| RoomError::UnknownPeer(peer_id.to_owned()))?;
        let r = call(&mut slot.dt);
        drain(s, peer_id, slot, out).await;
        r.map_err(|e| RoomError::Peer(e.to_string()))
    }

    /// `acceptDataTransfer(…, true)` writing the download through to `sink`.
    pub(crate) async fn accept_into(
        &mut self,
        s: &Session,
        peer_id: &str,
        transfer_id: &str,
        sink: Box<dyn skylink_dt::sink::ChunkSink>,
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        self.with_dt(s, peer_id, out, |dt| dt.accept_into(transfer_id, sink))
            .await
    }

    /// A peer left while transfers with it could still be resumed. What it sent just before
    /// leaving may still be on its way: after an explicit `leaveRoom` its CANCELs travel on
    /// the data channels, while its `bye` came over the signaling socket and can overtake
    /// them. So connection events are processed (in order, every peer's) until those
    /// transfers end or are suspended by the connection closing from the far side, for at
    /// most [`LINGER`]; only then is the connection dropped.
    async fn linger(&mut self, s: &mut Session, peer_id: &str, out: &mut Vec<Output>) {
        let resumable = |set: &Self| {
            set.slots
                .get(peer_id)
                .is_some_and(|slot| slot.dt.has_resumable())
        };
        if !resumable(self) {
            return;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        while resumable(self) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(t)) => self.event(s, t, out).await,
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// `leaveRoom()`: the transfers a reconnect would resume are cancelled instead (see
    /// `PeerDt::leaving`), and their CANCELs are given a bounded moment to leave before the
    /// connections close, so the peers end them now rather than after their timeout.
    pub(crate) async fn leaving(&mut self, s: &Session, out: &mut Vec<Output>) {
        for (peer_id, slot) in &mut self.slots {
            let n = slot.dt.leaving();
            if n == 0 {
                continue;
            }
            tracing::info!(peer = %peer_id, transfers = n, "leaveRoom: cancelling resumable transfers");
            drain(s, peer_id, slot, out).await;
            slot.pc.drain_channels(LEAVE_DRAIN_BUDGET).await;
        }
    }

    /// `cancelDataTransfer(peerId, transferId)`.
    pub(crate) async fn cancel(
        &mut self,
        s: &Session,
        peer_id: &str,
        transfer_id: &str,
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        self.with_dt(s, peer_id, out, |dt| dt.cancel(transfer_id))
            .await
    }

    /// `startStreamingData(isStringStream, targets)`: one stream id for every target.
    pub(crate) async fn start_stream(
        &mut self,
        s: &Session,
        targets: &[String],
        is_string: bool,
        is_private: bool,
        out: &mut Vec<Output>,
    ) -> Result<String, RoomError> {
        let own = s.self_id().unwrap_or_default();
        let id = format!("stream_{own}_{}", now_ms());
        let mut started = 0;
        let mut errors = Vec::new();
        for t in targets {
            let Some(slot) = self.slots.get_mut(t) else {
                continue;
            };
            match slot.dt.start_stream(&id, is_string, is_private) {
                Ok(()) => started += 1,
                Err(e) => errors.push(format!("{t}: {e}")),
            }
            drain(s, t, slot, out).await;
        }
        if started == 0 {
            return Err(RoomError::Peer(if errors.is_empty() {
                "no peer to stream to".into()
            } else {
                errors.join("; ")
            }));
        }
        Ok(id)
    }

    /// `streamData(chunk)` on every peer of the stream; returns how many peers took it.
    pub(crate) async fn stream_send(
        &mut self,
        s: &Session,
        stream_id: &str,
        chunk: &TransferData,
        out: &mut Vec<Output>,
    ) -> usize {
        let mut n = 0;
        for (id, slot) in self.slots.iter_mut() {
            let c = match chunk {
                TransferData::Bytes(b) => skylink_dt::transfer::Chunk::Binary(b),
                TransferData::Text(t) => skylink_dt::transfer::Chunk::Text(t),
                // refused by `Client::stream_data` before it gets here
                TransferData::Source(_) | TransferData::File { .. } => return 0,
            };
            if slot.dt.stream_send(stream_id, c).is_ok() {
                n += 1;
            }
            drain(s, id, slot, out).await;
        }
        n
    }

    /// `stopStreamingData(streamId)`; returns how many peers had it.
    pub(crate) async fn stream_stop(
        &mut self,
        s: &Session,
        stream_id: &str,
        out: &mut Vec<Output>,
    ) -> usize {
        let mut n = 0;
        for (id, slot) in self.slots.iter_mut() {
            if slot.dt.stream_stop(stream_id).is_ok() {
                n += 1;
            }
            drain(s, id, slot, out).await;
        }
        n
    }

    /// The earliest DT deadline of any peer.
    pub(crate) fn poll_timeout(&self) -> Option<std::time::Instant> {
        self.slots
            .values()
            .map(|s| &s.dt)
            .chain(self.orphans.iter().map(|o| &o.dt))
            .filter_map(PeerDt::poll_timeout)
            .min()
    }

    /// DT timers.
    pub(crate) async fn handle_timeout(&mut self, s: &Session, out: &mut Vec<Output>) {
        let now = std::time::Instant::now();
        for (id, slot) in self.slots.iter_mut() {
            if slot.dt.poll_timeout().is_some_and(|t| t <= now) {
                slot.dt.handle_timeout(now);
                drain(s, id, slot, out).await;
            }
        }
        for o in &mut self.orphans {
            if o.dt.poll_timeout().is_some_and(|t| t <= now) {
                o.dt.handle_timeout(now);
                emit_dt_events(&mut o.dt, out);
            }
        }
        self.orphans.retain(|o| o.dt.has_suspended());
    }
}

fn description_info(sdp: Option<String>, ty: &str) -> Option<crate::stats::DescriptionInfo> {
    sdp.map(|sdp| crate::stats::DescriptionInfo {
        sdp_type: ty.to_owned(),
        sdp,
    })
}

fn stats_context(
    slot: &Slot,
    local: Option<String>,
    remote: Option<String>,
) -> crate::stats::StatsContext {
    use crate::stats::{MediaSdpFacts, SdpConstraints, SdpFingerprint, StatsContext};
    let local_is_offer = slot.last_offer_restart.is_some();
    let (lt, rt) = if local_is_offer {
        ("offer", "answer")
    } else {
        ("answer", "offer")
    };
    let lp = local
        .as_deref()
        .and_then(|t| skylink_sdp::Sdp::parse(t).ok());
    let rp = remote
        .as_deref()
        .and_then(|t| skylink_sdp::Sdp::parse(t).ok());
    let fp = |p: &Option<skylink_sdp::Sdp>| {
        p.as_ref()
            .map(|s| {
                let f = skylink_sdp::parse::fingerprint(s);
                SdpFingerprint {
                    fingerprint: f.fingerprint,
                    fingerprint_algorithm: f.fingerprint_algorithm,
                }
            })
            .unwrap_or_default()
    };
    let cands = |p: &Option<skylink_sdp::Sdp>| {
        p.as_ref()
            .and_then(|s| serde_json::to_value(skylink_sdp::parse::candidates(s)).ok())
    };
    let codec = |p: &Option<skylink_sdp::Sdp>, kind: &str| {
        p.as_ref()
            .and_then(|s| serde_json::to_value(skylink_sdp::parse::selected_codec(s, kind)).ok())
    };
    let ssrc = |p: &Option<skylink_sdp::Sdp>, audio: bool| {
        p.as_ref()
            .map(|s| {
                let m = skylink_sdp::parse::media_ssrc(s);
                if audio { m.audio } else { m.video }
            })
            .unwrap_or(0)
    };
    StatsContext {
        ice_connection_state: Some(slot.ice_state.clone()),
        ice_gathering_state: Some(slot.gathering_state.clone()),
        signaling_state: Some(slot.signaling.as_str().to_owned()),
        local_description: description_info(local.clone(), lt),
        remote_description: description_info(remote.clone(), rt),
        candidates_sending: cands(&lp),
        candidates_receiving: cands(&rp),
        main_channel_label: slot.channel.clone(),
        sdp_constraints: match slot.last_offer_restart {
            Some(ice) => SdpConstraints::Offer(serde_json::json!({
                "offerToReceiveAudio": false,
                "offerToReceiveVideo": false,
                "iceRestart": ice,
                "voiceActivityDetection": true,
            })),
            None if slot.local_set => SdpConstraints::AfterAnswer,
            None => SdpConstraints::Unknown,
        },
        audio_sending: MediaSdpFacts {
            codec: codec(&rp, "audio"),
            ssrc: ssrc(&lp, true),
        },
        audio_receiving: MediaSdpFacts {
            codec: codec(&lp, "audio"),
            ssrc: ssrc(&rp, true),
        },
        video_sending: MediaSdpFacts {
            codec: codec(&rp, "video"),
            ssrc: ssrc(&lp, false),
        },
        video_receiving: MediaSdpFacts {
            codec: codec(&lp, "video"),
            ssrc: ssrc(&rp, false),
        },
        local_fingerprint: fp(&lp),
        remote_fingerprint: fp(&rp),
        ..StatsContext::default()
    }
}

/// A new remote stream id in the applied remote description → `incomingStream` (§4.8,
/// following the webrtc-rs guidance there: announced at `setRemoteDescription`, not when the
/// first RTP arrives). Ignored when we receive neither audio nor video.
async fn announce_remote_stream(
    s: &mut Session,
    peer_id: &str,
    slot: &mut Slot,
    settings: &SdpSettings,
    out: &mut Vec<Output>,
) {
    let dirs = settings.sdp_settings.direction;
    if !dirs.audio.receive && !dirs.video.receive {
        return;
    }
    let Some(id) = slot.ctx.remote_stream_id.clone() else {
        return;
    };
    if slot.announced_stream.as_deref() == Some(id.as_str()) {
        return;
    }
    let remote = slot.pc.remote_sdp().await.unwrap_or_default();
    let (audio, video) = sending_kinds(&remote, &id);
    slot.announced_stream = Some(id.clone());
    out.extend(s.remote_stream_added(peer_id, &id, audio, video));
}

/// The `b=AS` values (kbps) of the first audio and the first video section of `sdp`.
fn send_limits(sdp: &str) -> (Option<u32>, Option<u32>) {
    let mut found = (None, None);
    let (mut seen_audio, mut seen_video) = (false, false);
    for section in sdp.split("\nm=").skip(1) {
        let kind = section.split(' ').next().unwrap_or_default();
        let slot = match kind {
            "audio" if !seen_audio => {
                seen_audio = true;
                &mut found.0
            }
            "video" if !seen_video => {
                seen_video = true;
                &mut found.1
            }
            _ => continue,
        };
        *slot = section
            .lines()
            .filter_map(|l| l.trim_end().strip_prefix("b=AS:"))
            .filter_map(|v| v.trim().parse::<u32>().ok())
            .find(|v| *v > 0);
    }
    found
}

/// Which kinds the description sends under stream `id`: an audio/video section whose msid
/// names it and whose direction includes sending.
fn sending_kinds(sdp: &str, id: &str) -> (bool, bool) {
    let mut found = (false, false);
    for section in sdp.split("\nm=").skip(1) {
        let kind = section.split(' ').next().unwrap_or_default();
        let names = section.lines().any(|l| {
            let l = l.trim_end();
            l.strip_prefix("a=msid:")
                .is_some_and(|rest| rest.split(' ').next() == Some(id))
                || (l.starts_with("a=ssrc:") && l.contains(&format!("msid:{id}")))
        });
        let sends = !section
            .lines()
            .any(|l| matches!(l.trim_end(), "a=recvonly" | "a=inactive"));
        if names && sends {
            match kind {
                "audio" => found.0 = true,
                "video" => found.1 = true,
                _ => {}
            }
        }
    }
    found
}

/// Runs the local munging pipeline on a description we created and applies it; returns the
/// munged SDP (what is then rendered and sent).
async fn apply_local(
    pc: &PeerSession,
    ctx: &mut PeerContext,
    settings: &SdpSettings,
    is_offer: bool,
    sdp: &str,
) -> Result<String, String> {
    let ty = if is_offer {
        SdpType::Offer
    } else {
        SdpType::Answer
    };
    let munged = skylink_sdp::local(sdp, ty, settings, ctx).map_err(|e| e.to_string())?;
    // webrtc 0.21 only accepts the exact SDP it created (`ErrSDPDoesNotMatchOffer`), so the
    // munged text (codec parameters, bandwidth, directions — what the reference applies
    // locally) is what the peer receives, while the connection keeps its own description.
    pc.set_local(is_offer, sdp.to_owned())
        .await
        .map_err(|e| e.to_string())?;
    Ok(munged)
}

/// Raises the transfer events a DT state without a connection queued (the frames and channel
/// requests have nowhere to go).
fn emit_dt_events(dt: &mut PeerDt, out: &mut Vec<Output>) {
    while let Some(o) = dt.poll_output() {
        if let DtOut::Transfer(e) = o {
            emit(out, crate::transfer::transfer_event(e));
        }
    }
}

/// Carries out everything the peer's DT state queued: frames, channels, events.
async fn drain(s: &Session, peer_id: &str, slot: &mut Slot, out: &mut Vec<Output>) {
    let mut wrote = false;
    while let Some(o) = slot.dt.poll_output() {
        if matches!(
            o,
            DtOut::Send { .. } | DtOut::OpenChannel { .. } | DtOut::CloseChannel { .. }
        ) {
            wrote = true;
        }
        match o {
            DtOut::Send { label, frame } => {
                let r = match &frame {
                    OutFrame::Text(t) => slot.pc.send_on(&label, Some(t), None).await,
                    OutFrame::Binary(b) => slot.pc.send_on(&label, None, Some(b)).await,
                };
                // A failed send is not the channel's end: a peer that cancels sends CANCEL and
                // closes its side, our next chunk can fail before that CANCEL is read (the
                // channel reader delivers it, then reports the close). The close event ends
                // the session; a channel that never closes still hits the transfer timeout.
                if let Err(e) = r {
                    tracing::debug!(peer = peer_id, %label, error = %e, "data-channel send failed");
                }
            }
            DtOut::OpenChannel { label } => {
                if let Err(e) = slot.pc.open_channel(&label).await {
                    tracing::debug!(peer = peer_id, %label, error = %e, "opening a DATA channel failed");
                    slot.dt.channel_closed(&label, std::time::Instant::now());
                }
            }
            DtOut::CloseChannel { label } => {
                // Deliberately left open (deviation from data-transfer.md §1.8, recorded in
                // docs/architecture.md): with webrtc 0.21 a DATA channel created right after
                // another one was closed reuses its SCTP stream id while the reset is still
                // in flight, and the new channel never opens on our side. Measured: 4–8 of 10
                // Rust↔Rust runs stalled with the close, 0 of 10 without. The channel dies with
                // the peer connection; the remote side may still close it.
                tracing::trace!(peer = peer_id, %label, "DATA channel kept open after its transfer");
            }
            DtOut::Transfer(e) => emit(out, crate::transfer::transfer_event(e)),
            DtOut::Stream(e) => {
                for ev in crate::transfer::stream_events(s, e) {
                    emit(out, ev);
                }
            }
            DtOut::Message { sender, message } => {
                let own = s.self_id().unwrap_or_default().to_owned();
                emit(
                    out,
                    Event::IncomingMessage {
                        message: MessageInfo {
                            content: message.data.unwrap_or(Value::Null),
                            is_private: message.is_private == Some(true),
                            target_peer_id: Some(Value::String(own)),
                            is_data_channel: true,
                            sender_peer_id: sender.clone(),
                            list_of_peers: None,
                        },
                        peer_info: s.peer_view(&sender).unwrap_or_default(),
                        peer_id: sender,
                        is_self: false,
                    },
                );
            }
        }
    }
    if wrote && let Err(e) = slot.pc.flush().await {
        tracing::debug!(peer = peer_id, error = %e, "waking the peer connection driver");
    }
}

/// `dataChannelState(state, peerId, null, label, channelType)`; `channel_type` is
/// `messaging` or `data` (`DATA_CHANNEL_TYPE`).
fn channel_state(state: &str, peer_id: &str, label: &str, channel_type: &str) -> Event {
    Event::DataChannelState {
        state: state.into(),
        peer_id: peer_id.to_owned(),
        error: None,
        channel_name: label.to_owned(),
        channel_type: channel_type.into(),
        message_type: None,
    }
}

async fn add_candidate(
    peer_id: &str,
    slot: &mut Slot,
    can_id: String,
    kind: String,
    fields: CandidateFields,
    out: &mut Vec<Output>,
) {
    let info = CandidateInfo {
        candidate: fields.candidate.clone(),
        sdp_mid: fields.id.clone(),
        sdp_mline_index: fields.label,
    };
    let ev = |st: &str, error: Option<String>| Event::CandidateProcessingState {
        state: st.into(),
        peer_id: peer_id.to_owned(),
        candidate_id: can_id.clone(),
        candidate_type: kind.clone(),
        candidate: info.clone(),
        error,
    };
    emit(out, ev("processing", None));
    match slot.pc.add_remote_candidate(fields).await {
        Ok(()) => {
            slot.processed += 1;
            emit(out, ev("processSuccess", None));
        }
        Err(e) => emit(out, ev("processError", Some(e.to_string()))),
    }
}

async fn flush_queue(peer_id: &str, slot: &mut Slot, out: &mut Vec<Output>) {
    for q in std::mem::take(&mut slot.queue) {
        add_candidate(peer_id, slot, q.id, q.kind, q.fields, out).await;
    }
    end_of_candidates_check(peer_id, slot, out);
}

/// `_signalingEndOfCandidates` (§2.9).
fn end_of_candidates_check(peer_id: &str, slot: &mut Slot, out: &mut Vec<Output>) {
    let (Some(len), Some(expected)) = (slot.len, slot.expected) else {
        return;
    };
    if !slot.remote_set || len < expected || !slot.queue.is_empty() || slot.has_set {
        return;
    }
    slot.has_set = true;
    emit(
        out,
        Event::CandidatesGathered {
            peer_id: peer_id.to_owned(),
            length: CandidatesLength {
                expected,
                received: len,
                processed: slot.processed,
            },
        },
    );
}

#[cfg(test)]
mod tests {
    use super::{candidate_type, send_limits};

    #[test]
    fn send_limits_read_the_first_audio_and_video_b_as() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nb=AS:50\r\na=mid:0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:100\r\na=mid:1\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:20\r\na=mid:2\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\nb=AS:7\r\n";
        assert_eq!(send_limits(sdp), (Some(50), Some(100)));
        let none = sdp.replace("b=AS:50\r\n", "").replace("b=AS:100", "b=AS:0");
        assert_eq!(send_limits(&none), (None, None));
    }

    #[test]
    fn candidate_type_is_token_seven() {
        assert_eq!(
            candidate_type("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"),
            "host"
        );
        assert_eq!(candidate_type("garbage"), "");
    }
}

#[cfg(test)]
mod loopback_tests {
    use super::candidate_is_loopback;

    #[test]
    fn candidate_addresses() {
        assert!(candidate_is_loopback(
            "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"
        ));
        assert!(candidate_is_loopback(
            "candidate:1 1 UDP 1 ::1 5000 typ host"
        ));
        assert!(!candidate_is_loopback(
            "candidate:842163049 1 udp 1677729535 192.0.2.2 55208 typ host"
        ));
        assert!(!candidate_is_loopback(
            "candidate:1 1 udp 1 abc.local 5000 typ host"
        ));
        assert!(!candidate_is_loopback("garbage"));
    }
}
