//! One Skylink peer session over one `webrtc` 0.21 peer connection: offer/answer, trickle ICE
//! with a remote-candidate queue, and the messaging data channel (`<offererId>_<answererId>`,
//! ordered and reliable) carrying text.
//!
//! The API is small and async; everything the connection reports comes out of one tokio mpsc
//! as a [`PeerEvent`]. The session knows nothing of the signaling socket: the engine turns
//! [`PeerEvent::LocalCandidate`] / [`PeerEvent::EndOfCandidates`] into SM `candidate` /
//! `endOfCandidates` messages and feeds received ones to [`PeerSession::add_remote_candidate`].
//!
//! # Notes on `webrtc` 0.21 (read before changing this module)
//!
//! 0.21 is an async layer (crate `webrtc`) over the sans-IO core (crate `rtc` and its
//! `rtc-*` sub-crates). The 0.17 API found in most examples online (`APIBuilder`,
//! `RTCPeerConnection::on_ice_candidate(Box<dyn FnMut>)`, `on_open` closures) is gone.
//! Sources: `~/.cargo/registry/src/*/webrtc-0.21.1/` — `src/peer_connection/mod.rs` (API),
//! `src/peer_connection/driver.rs` (the event loop), `src/data_channel/mod.rs`,
//! `src/runtime/{mod,tokio}.rs`, `tests/offer_answer_webrtc2webrtc.rs` (closest to this module),
//! `examples/trickle_ice_common/mod.rs` (trickle ICE).
//!
//! - **Building**: `webrtc::peer_connection::PeerConnectionBuilder::<A: ToSocketAddrs>::new()`
//!   `.with_configuration(RTCConfigurationBuilder::new().with_ice_servers(..).build())`
//!   `.with_setting_engine(SettingEngineBuilder::new()...build())`
//!   `.with_handler(Arc<dyn PeerConnectionEventHandler>)` (mandatory, else `build` fails)
//!   `.with_runtime(Arc<dyn Runtime>)` (default `TokioRuntime`)
//!   `.with_udp_addrs(vec!["127.0.0.1:0"])` (no address = no socket = no candidates; a
//!   wildcard `0.0.0.0:0` binds one socket per non-loopback interface)
//!   `.build().await` → `impl PeerConnection` (object-safe; store as `Arc<dyn PeerConnection>`).
//!   `build` spawns the driver task: it must run inside a tokio runtime.
//! - **Events** are callbacks of the `#[async_trait]` trait `PeerConnectionEventHandler`
//!   (`on_ice_candidate`, `on_ice_gathering_state_change`, `on_connection_state_change`,
//!   `on_data_channel`, …). They run *on the driver task*: never block or await anything slow
//!   in them (this module only does non-blocking channel sends and `tokio::spawn`).
//! - **Candidates**: `on_ice_candidate(RTCPeerConnectionIceEvent { candidate: RTCIceCandidate, url })`.
//!   `RTCIceCandidate::to_json()` gives `RTCIceCandidateInit { candidate: "candidate:...", .. }`
//!   but always with `sdp_mid: Some("")` and `sdp_mline_index: Some(0)` — useless for a browser,
//!   so this module takes the first `a=mid:` of the local SDP (everything is BUNDLEd on it).
//!   End of gathering = `on_ice_gathering_state_change(RTCIceGatheringState::Complete)`; there
//!   is no null candidate. `add_ice_candidate(RTCIceCandidateInit)` fails with
//!   `ErrNoRemoteDescription` before a remote description (hence our queue), ignores
//!   `sdp_mid`/`sdp_mline_index`, strips an optional `candidate:` prefix, and treats an empty
//!   string as end-of-candidates (a no-op).
//! - **Gathering starts at `set_local_description`**, so candidates may surface before the
//!   SDP has even been handed to signaling; the engine must send the offer/answer first
//!   (`create_offer`/`accept_offer` return the SDP only after it is applied, and events are
//!   queued, so sending the SDP before draining events keeps the order right).
//! - **Data channels**: `PeerConnection::create_data_channel(label, Option<RTCDataChannelInit>)`
//!   → `Arc<dyn DataChannel>`; `RTCDataChannelInit::default()` is ordered + reliable. Events are
//!   *pulled*: `DataChannel::poll().await -> Option<DataChannelEvent>` (`OnOpen`,
//!   `OnMessage(RTCDataChannelMessage { is_string, data: BytesMut })`, `OnClose`, …). Someone
//!   must keep polling every channel, or the driver retains its events. `send_text(&str)` /
//!   `send(BytesMut)` are unbounded by default (see
//!   `PeerConnectionBuilder::with_data_channel_send_buffer_limit`).
//! - **Latency: where the ~600 ms (and the 1.4–1.6 s) go**, measured with
//!   `tests/peer_loopback.rs` and `RUST_LOG=trace` (tracing-subscriber picks up `log`):
//!   1. *SCTP INIT and DCEP OPEN wait for the next driver deadline (2 × 200 ms).* The driver
//!      loop (`driver.rs`, `loop { poll_writes; poll_events; poll_reads; poll_timeout; select! }`)
//!      drains writes *before* events. The SCTP handler (`rtc-0.21.1/src/peer_connection/handler/sctp.rs`)
//!      queues the client INIT in `handle_event(DTLSHandshakeComplete)` and the data channel
//!      handler queues DCEP OPEN on association establishment, both only setting `flush_dirty`,
//!      which is acted on in the *next* `poll_write`. Nothing wakes the driver, so it sleeps
//!      until the next core deadline: the ICE agent's, which in `Connected` is
//!      `min(DEFAULT_CHECK_INTERVAL = 200 ms, keepalive 2 s, disconnected 5 s, failed 25 s)`
//!      (`rtc-ice-0.21.1/src/agent/mod.rs`, `get_timeout_interval`; the 200 ms is hard-wired
//!      as the starting value, `with_ice_connection_attempts` does not change it once
//!      connected). Fix here: any driver event makes the loop run again, and
//!      `PeerConnection::set_configuration(get_configuration())` is the public call that sends
//!      one without side effects (driver `UpdateIceConfiguration` just re-stores the same ICE
//!      servers for the next gathering). [`PeerConfig::setup_nudge`] does that every 2 ms from
//!      `connected` until the channel opens (≤ 3 s). `DataChannel::set_buffered_amount_low_threshold`
//!      also wakes the driver (`wake_writes`) but the answerer has no channel when its INIT stalls.
//!   2. *Peer-reflexive nomination waits 1 s.* With trickle, the answerer's first check reaches
//!      the offerer before its host candidate does; the offerer records the address as prflx,
//!      later responses match that pair (same address), and the controlling selector only
//!      nominates a prflx pair after `prflx_acceptance_min_wait` (default 1 s,
//!      `DEFAULT_PRFLX_ACCEPTANCE_MIN_WAIT` in `rtc-ice-0.21.1/src/agent/agent_config.rs`).
//!      Set via `SettingEngineBuilder::with_prflx_acceptance_min_wait(Some(Duration::ZERO))`
//!      (`None` there means "default", not "immediate").
//!   3. *ICE checks are paced at 200 ms* while checking: `SettingEngineBuilder::with_ice_connection_attempts(check_interval, max_binding_requests)`
//!      (`rtc-0.21.1/src/peer_connection/configuration/setting_engine.rs`). We use 5 ms × 280 (RFC 8445 §14.2 allows Ta down to 5 ms; the budget per pair stays ~1.4 s).
//!   4. `add_ice_candidate` does not wake the driver (only TCP-passive candidates send it an
//!      event; `set_remote_description` does call `wake_writes`), so a trickled candidate is
//!      only used at the agent's next deadline; we nudge after adding.
//! - **UDP buffers**: sockets are bound by the driver and handed to
//!   `Runtime::wrap_udp_socket(std::net::UdpSocket)`. The `Runtime` trait is public and not
//!   sealed, so [`BufferedRuntime`] delegates everything to `TokioRuntime` and enlarges
//!   `SO_RCVBUF`/`SO_SNDBUF` first (Linux caps the request at `net.core.{r,w}mem_max`, 4 MiB on
//!   our machines). The handshake test does not exercise it (a few small packets); bulk
//!   transfers will.
//! - Other observed log noise, harmless on loopback: `rtc_dtls::config: conn.remote_addr is
//!   empty` (WARN, every connection) and `IceHandler.handle_read got error: password is empty`
//!   (a check arriving before the offerer applied the answer; dropped, retried by the peer).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceConnectionState, RTCIceGatheringState, RTCIceServer,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription, RTCSignalingState,
    SettingEngineBuilder,
};
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime,
    TokioRuntime,
};

/// A STUN/TURN server for [`PeerConfig::ice_servers`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:`/`turn:`/`turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name (empty for STUN).
    pub username: String,
    /// TURN credential (empty for STUN).
    pub credential: String,
}

/// How to build a [`PeerSession`].
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Our peer id (`mid` on the wire).
    pub local_id: String,
    /// The other peer's id.
    pub remote_id: String,
    /// STUN/TURN servers; may be empty (host candidates only).
    pub ice_servers: Vec<IceServer>,
    /// Local UDP addresses to bind (`0.0.0.0:0` = every non-loopback interface,
    /// `127.0.0.1:0` = loopback only, as the tests use).
    pub udp_addrs: Vec<String>,
    /// ICE connectivity-check pacing (`webrtc` default 200 ms). `None` keeps the default.
    pub ice_check_interval: Option<Duration>,
    /// How long a peer-reflexive pair must wait before it may be nominated (`webrtc` default
    /// 1 s). With trickle ICE the answerer's first check usually reaches the offerer before the
    /// answerer's candidate does, so the offerer learns that address as peer-reflexive, keeps
    /// matching responses to that pair, and only nominates it after this wait. `None` keeps
    /// the default.
    pub prflx_acceptance_min_wait: Option<Duration>,
    /// Requested `SO_RCVBUF`/`SO_SNDBUF` of every UDP socket. `None` keeps the OS default.
    pub udp_buffer_bytes: Option<usize>,
    /// Between DTLS `connected` and the data channel opening, wake the connection's driver
    /// this often so SCTP INIT / DCEP OPEN are flushed at once instead of on the ICE agent's
    /// next 200 ms tick (see the module notes). `None` leaves the driver alone.
    pub setup_nudge: Option<Duration>,
}

impl PeerConfig {
    /// Engine defaults: all interfaces, 5 ms ICE checks, peer-reflexive pairs nominated at
    /// once, 4 MiB socket buffers, driver nudged every 2 ms during data channel setup.
    pub fn new(local_id: impl Into<String>, remote_id: impl Into<String>) -> Self {
        Self {
            local_id: local_id.into(),
            remote_id: remote_id.into(),
            ice_servers: Vec::new(),
            udp_addrs: vec!["0.0.0.0:0".to_owned()],
            ice_check_interval: Some(DEFAULT_ICE_CHECK_INTERVAL),
            prflx_acceptance_min_wait: Some(Duration::ZERO),
            udp_buffer_bytes: Some(DEFAULT_UDP_BUFFER_BYTES),
            setup_nudge: Some(DEFAULT_SETUP_NUDGE),
        }
    }
}

/// ICE check pacing used by [`PeerConfig::new`] (the `webrtc` default is 200 ms).
pub const DEFAULT_ICE_CHECK_INTERVAL: Duration = Duration::from_millis(5);
/// Socket buffer size requested by [`PeerConfig::new`].
pub const DEFAULT_UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;
/// Driver wake period used by [`PeerConfig::new`] while the data channel is being set up.
pub const DEFAULT_SETUP_NUDGE: Duration = Duration::from_millis(2);
/// After a channel reports its close, how long to wait for messages still being delivered.
const CLOSE_TAIL_WAIT: Duration = Duration::from_millis(50);
/// How long a closing DATA channel may take to send what is queued.
const CLOSE_DRAIN_BUDGET: Duration = Duration::from_secs(5);
/// The nudging stops after this long even if the channel never opens.
const SETUP_NUDGE_BUDGET: Duration = Duration::from_secs(3);
/// Connectivity checks per candidate pair before giving up; with 5 ms pacing this keeps
/// roughly the `webrtc` default budget (7 × 200 ms).
const ICE_MAX_BINDING_REQUESTS: u16 = 280;

/// The Skylink `candidate` message fields of one ICE candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateFields {
    /// `label`: the `sdpMLineIndex`.
    pub label: u32,
    /// `id`: the `sdpMid`.
    pub id: String,
    /// `candidate`: the full `candidate:...` string.
    pub candidate: String,
}

/// Peer connection state, as the W3C names it.
pub type ConnectionState = RTCPeerConnectionState;

/// What a [`PeerSession`] reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEvent {
    /// A local candidate to send as a `candidate` message.
    LocalCandidate(CandidateFields),
    /// Gathering finished: send `endOfCandidates`.
    EndOfCandidates,
    /// The peer connection state changed.
    ConnectionState(ConnectionState),
    /// The native signaling state changed (`stable`, `have-local-offer`, …).
    SignalingState(String),
    /// The native ICE connection state changed (`checking`, `connected`, …).
    IceConnectionState(String),
    /// The native ICE gathering state changed (`new`, `gathering`, `complete`).
    GatheringState(String),
    /// The remote side created a channel (its `ChannelOpen` follows).
    RemoteChannel {
        /// Channel label.
        label: String,
    },
    /// A data channel opened (the messaging channel or a DATA channel).
    ChannelOpen {
        /// Channel label.
        label: String,
    },
    /// A text message arrived on the data channel.
    Text {
        /// Channel label.
        label: String,
        /// The message.
        text: String,
    },
    /// A binary message arrived on the data channel.
    Binary {
        /// Channel label.
        label: String,
        /// The payload.
        data: Vec<u8>,
    },
    /// The data channel closed.
    ChannelClosed {
        /// Channel label.
        label: String,
    },
    /// The remote side sends a media track (its RTP follows through [`RemoteTrack`]).
    RemoteTrack(RemoteTrack),
}

/// A received media track, as [`PeerEvent::RemoteTrack`] carries it.
#[derive(Clone)]
pub struct RemoteTrack(pub Arc<dyn webrtc::media_stream::track_remote::TrackRemote>);

impl fmt::Debug for RemoteTrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RemoteTrack")
    }
}

impl PartialEq for RemoteTrack {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What a [`PeerSession`] call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The `webrtc` stack refused.
    #[error("webrtc: {0}")]
    Webrtc(#[from] webrtc::error::Error),
    /// No data channel exists yet (offer not created, or the remote one not received).
    #[error("no data channel yet")]
    NoChannel,
}

type Events = mpsc::UnboundedSender<PeerEvent>;

/// State shared with the event handler running on the driver task.
struct Shared {
    events: Events,
    /// `(sdpMLineIndex, sdpMid)` that local candidates are reported under.
    bundle: StdMutex<(u32, String)>,
    /// The messaging channel (the first channel created or received).
    channel: StdMutex<Option<Arc<dyn DataChannel>>>,
    /// Every open or opening channel by label (messaging and DATA channels).
    channels: StdMutex<std::collections::HashMap<String, Arc<dyn DataChannel>>>,
    /// The connection, for the setup nudger (weak: the connection owns the handler owning us).
    pc: OnceLock<Weak<dyn PeerConnection>>,
    setup_nudge: Option<Duration>,
    /// Set once the messaging channel opened (ends the nudging).
    opened: AtomicBool,
}

impl Shared {
    fn emit(&self, event: PeerEvent) {
        // A dropped receiver means nobody listens any more; nothing to do.
        let _ = self.events.send(event);
    }

    fn attach_channel(self: &Arc<Self>, channel: Arc<dyn DataChannel>, label: String) {
        {
            let mut main = self.channel.lock().expect("channel lock");
            if main.is_none() {
                *main = Some(channel.clone());
            }
        }
        self.channels
            .lock()
            .expect("channels lock")
            .insert(label.clone(), channel.clone());
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let deliver = |msg: webrtc::data_channel::RTCDataChannelMessage| {
                if msg.is_string {
                    shared.emit(PeerEvent::Text {
                        label: label.clone(),
                        text: String::from_utf8_lossy(&msg.data).into_owned(),
                    });
                } else {
                    shared.emit(PeerEvent::Binary {
                        label: label.clone(),
                        data: msg.data.to_vec(),
                    });
                }
            };
            while let Some(event) = channel.poll().await {
                match event {
                    DataChannelEvent::OnOpen => {
                        shared.opened.store(true, Ordering::Release);
                        shared.emit(PeerEvent::ChannelOpen {
                            label: label.clone(),
                        });
                    }
                    DataChannelEvent::OnMessage(msg) => deliver(msg),
                    DataChannelEvent::OnClose => {
                        // webrtc 0.21's driver hands out a pass's events before its reads, so
                        // the last messages a peer sent right before closing (the final ACK,
                        // a CANCEL, a stream stop — data-transfer.md §1.8) can surface after
                        // the close. Collect them before reporting it.
                        while let Ok(Some(event)) =
                            tokio::time::timeout(CLOSE_TAIL_WAIT, channel.poll()).await
                        {
                            if let DataChannelEvent::OnMessage(msg) = event {
                                deliver(msg);
                            }
                        }
                        break;
                    }
                    _ => {}
                }
            }
            shared.opened.store(true, Ordering::Release);
            shared
                .channels
                .lock()
                .expect("channels lock")
                .remove(&label);
            shared.emit(PeerEvent::ChannelClosed { label });
        });
    }

    /// Works around the driver flushing SCTP output only on a later loop pass: the SCTP
    /// handler queues the client INIT (on DTLS completion) and the DCEP OPEN (on association
    /// establishment) while the core's events are being polled, *after* that pass's writes
    /// were drained, and the driver then sleeps until the next core deadline — the ICE agent's
    /// 200 ms tick (`rtc-ice` `Agent::get_timeout_interval`: in `Connected` the interval is
    /// `min(DEFAULT_CHECK_INTERVAL = 200 ms, keepalive, disconnected, failed)`). Any driver
    /// event makes it loop and flush; `set_configuration` with the unchanged configuration is
    /// the public call that sends one without a side effect (it only re-stores the same ICE
    /// servers for the next gathering).
    fn start_setup_nudge(self: &Arc<Self>) {
        let (Some(period), Some(pc)) = (self.setup_nudge, self.pc.get().cloned()) else {
            return;
        };
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + SETUP_NUDGE_BUDGET;
            while !shared.opened.load(Ordering::Acquire) && tokio::time::Instant::now() < deadline {
                let Some(pc) = pc.upgrade() else { return };
                if nudge(pc.as_ref()).await.is_err() {
                    return;
                }
                drop(pc);
                tokio::time::sleep(period).await;
            }
        });
    }
}

/// Makes the driver run one loop pass (flushing whatever the core queued) and re-read its
/// deadline: `set_configuration` with the unchanged configuration sends it a driver event and
/// changes nothing (the same ICE servers are re-stored for the next gathering).
async fn nudge(pc: &dyn PeerConnection) -> Result<(), PeerError> {
    let config = pc.get_configuration().await;
    pc.set_configuration(config).await?;
    Ok(())
}

struct Handler(Arc<Shared>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let Ok(init) = event.candidate.to_json() else {
            return;
        };
        let (label, id) = self.0.bundle.lock().expect("bundle lock").clone();
        self.0.emit(PeerEvent::LocalCandidate(CandidateFields {
            label,
            id,
            candidate: init.candidate,
        }));
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.0.emit(PeerEvent::GatheringState(state.to_string()));
        if state == RTCIceGatheringState::Complete {
            self.0.emit(PeerEvent::EndOfCandidates);
        }
    }

    async fn on_signaling_state_change(&self, state: RTCSignalingState) {
        self.0.emit(PeerEvent::SignalingState(state.to_string()));
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.0
            .emit(PeerEvent::IceConnectionState(state.to_string()));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if state == RTCPeerConnectionState::Connected {
            self.0.start_setup_nudge();
        }
        self.0.emit(PeerEvent::ConnectionState(state));
    }

    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        self.0.emit(PeerEvent::RemoteTrack(RemoteTrack(track)));
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let label = channel.label().await.unwrap_or_default();
        self.0.emit(PeerEvent::RemoteChannel {
            label: label.clone(),
        });
        self.0.attach_channel(channel, label);
    }
}

/// Remote-description flag and the candidates that arrived before it.
#[derive(Default)]
struct Remote {
    described: bool,
    queued: Vec<RTCIceCandidateInit>,
}

/// One peer connection to one remote Skylink peer.
pub struct PeerSession {
    pc: Arc<dyn PeerConnection>,
    shared: Arc<Shared>,
    remote: Mutex<Remote>,
    label: String,
    /// The local stream attached to this connection and its tracks (§4.10).
    sending: Mutex<(Option<String>, Vec<crate::peer_media::SendingTrack>)>,
}

impl fmt::Debug for PeerSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerSession")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl PeerSession {
    /// Builds the peer connection (binding its sockets) and returns the session with its
    /// event stream. Must be called inside a tokio runtime.
    pub async fn new(
        config: PeerConfig,
    ) -> Result<(Self, mpsc::UnboundedReceiver<PeerEvent>), PeerError> {
        let (events, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events,
            bundle: StdMutex::new((0, "0".to_owned())),
            channel: StdMutex::new(None),
            channels: StdMutex::new(std::collections::HashMap::new()),
            pc: OnceLock::new(),
            setup_nudge: config.setup_nudge,
            opened: AtomicBool::new(false),
        });
        let ice_servers = config
            .ice_servers
            .into_iter()
            .map(|s| RTCIceServer {
                urls: s.urls,
                username: s.username,
                credential: s.credential,
            })
            .collect();
        let mut settings = SettingEngineBuilder::new();
        if let Some(interval) = config.ice_check_interval {
            settings = settings
                .with_ice_connection_attempts(Some(interval), Some(ICE_MAX_BINDING_REQUESTS));
        }
        if let Some(wait) = config.prflx_acceptance_min_wait {
            settings = settings.with_prflx_acceptance_min_wait(Some(wait));
        }
        let runtime: Arc<dyn Runtime> = Arc::new(BufferedRuntime {
            buffer_bytes: config.udp_buffer_bytes,
        });
        // Without codecs webrtc rejects a browser's audio/video m-lines (port 0), and with them
        // the BUNDLE tag: Chromium then moves the bundle to new m-lines on the next offer and
        // the renegotiated transport never carries data. With the default codecs the sections
        // are answered (inactive when we send nothing) and stay in the bundle, as a browser
        // without media answers them.
        let mut media = webrtc::peer_connection::MediaEngine::default();
        media.register_default_codecs()?;
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_configuration(
                RTCConfigurationBuilder::new()
                    .with_ice_servers(ice_servers)
                    .build(),
            )
            .with_setting_engine(settings.build())
            .with_handler(Arc::new(Handler(Arc::clone(&shared))))
            .with_runtime(runtime)
            .with_udp_addrs(config.udp_addrs)
            .build()
            .await?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let _ = shared.pc.set(Arc::downgrade(&pc));
        let session = Self {
            pc,
            shared,
            remote: Mutex::new(Remote::default()),
            label: format!("{}_{}", config.local_id, config.remote_id),
            sending: Mutex::new((None, Vec::new())),
        };
        Ok((session, rx))
    }

    /// The label of the messaging channel this side creates when it offers.
    pub fn offer_label(&self) -> &str {
        &self.label
    }

    /// Creates the messaging data channel (first offer only), creates and applies the offer,
    /// and returns its SDP. Gathering starts now.
    pub async fn create_offer(&self) -> Result<String, PeerError> {
        self.ensure_channel().await?;
        let sdp = self.offer_sdp(false).await?;
        self.set_local(true, sdp.clone()).await?;
        Ok(sdp)
    }

    /// Creates the messaging channel (label [`Self::offer_label`], ordered, reliable) unless
    /// one exists. Call before the first offer, when both sides want data channels.
    pub async fn ensure_channel(&self) -> Result<(), PeerError> {
        let has_channel = self.shared.channel.lock().expect("channel lock").is_some();
        if !has_channel {
            let channel = self
                .pc
                .create_data_channel(&self.label, Some(RTCDataChannelInit::default()))
                .await?;
            self.shared.attach_channel(channel, self.label.clone());
        }
        Ok(())
    }

    /// Creates an offer (not applied), restarting ICE when asked.
    pub async fn offer_sdp(&self, ice_restart: bool) -> Result<String, PeerError> {
        // `RTCOfferOptions` is not reachable through `webrtc`'s public paths; `restart_ice`
        // marks the next offer as an ICE restart, which is the same thing.
        if ice_restart {
            self.pc.restart_ice().await?;
        }
        Ok(self.pc.create_offer(None).await?.sdp)
    }

    /// Creates an answer to the applied remote offer (not applied).
    pub async fn answer_sdp(&self) -> Result<String, PeerError> {
        Ok(self.pc.create_answer(None).await?.sdp)
    }

    /// Applies a local offer (`is_offer`) or answer.
    pub async fn set_local(&self, is_offer: bool, sdp: String) -> Result<(), PeerError> {
        let desc = if is_offer {
            RTCSessionDescription::offer(sdp)?
        } else {
            RTCSessionDescription::answer(sdp)?
        };
        self.apply_local(desc).await?;
        if !is_offer {
            // Candidates that arrived between the remote offer and our answer (spec §2.9 [Q]).
            self.flush_queue().await;
        }
        Ok(())
    }

    /// Applies a remote offer (`is_offer`) or answer, then adds the queued candidates.
    pub async fn set_remote(&self, is_offer: bool, sdp: String) -> Result<(), PeerError> {
        let desc = if is_offer {
            RTCSessionDescription::offer(sdp)?
        } else {
            RTCSessionDescription::answer(sdp)?
        };
        self.apply_remote(desc).await
    }

    /// The current local description's SDP.
    pub async fn local_sdp(&self) -> Option<String> {
        self.pc.local_description().await.map(|d| d.sdp)
    }

    /// The current remote description's SDP.
    pub async fn remote_sdp(&self) -> Option<String> {
        self.pc.remote_description().await.map(|d| d.sdp)
    }

    /// Whether the messaging channel exists (created or received).
    pub fn has_channel(&self) -> bool {
        self.shared.channel.lock().expect("channel lock").is_some()
    }

    /// Applies a remote offer, then creates and applies the answer and returns its SDP.
    pub async fn accept_offer(&self, sdp: &str) -> Result<String, PeerError> {
        self.set_remote(true, sdp.to_owned()).await?;
        let answer = self.answer_sdp().await?;
        self.set_local(false, answer.clone()).await?;
        Ok(answer)
    }

    /// Applies the remote answer to our offer.
    pub async fn accept_answer(&self, sdp: &str) -> Result<(), PeerError> {
        self.set_remote(false, sdp.to_owned()).await
    }

    /// Adds a remote candidate, or queues it until the remote description is set.
    /// An empty `candidate` (end of candidates) is accepted and ignored.
    pub async fn add_remote_candidate(&self, fields: CandidateFields) -> Result<(), PeerError> {
        let init = RTCIceCandidateInit {
            candidate: fields.candidate,
            sdp_mid: Some(fields.id),
            sdp_mline_index: u16::try_from(fields.label).ok(),
            ..Default::default()
        };
        let mut remote = self.remote.lock().await;
        if remote.described {
            self.pc.add_ice_candidate(init).await?;
            // `add_ice_candidate` does not wake the driver: without this the new pair is only
            // checked at the agent's next deadline (up to ~1 s when it had no pair before).
            nudge(self.pc.as_ref()).await?;
        } else {
            remote.queued.push(init);
        }
        Ok(())
    }

    /// Sends a text message on the messaging channel (it must be open).
    pub async fn send_text(&self, text: &str) -> Result<(), PeerError> {
        let channel = self
            .shared
            .channel
            .lock()
            .expect("channel lock")
            .clone()
            .ok_or(PeerError::NoChannel)?;
        channel.send_text(text).await?;
        Ok(())
    }

    /// A full `getStats()` report of the connection, stamped `now`.
    pub async fn stats(&self) -> webrtc::peer_connection::RTCStatsReport {
        self.pc
            .get_stats(
                std::time::Instant::now(),
                webrtc::peer_connection::StatsSelector::None,
            )
            .await
    }

    /// Creates a DATA channel (ordered, reliable, in-band) with this label.
    pub async fn open_channel(&self, label: &str) -> Result<(), PeerError> {
        let channel = self
            .pc
            .create_data_channel(label, Some(RTCDataChannelInit::default()))
            .await?;
        self.shared.attach_channel(channel, label.to_owned());
        // The DCEP OPEN is only flushed on the driver's next pass (see the module notes).
        nudge(self.pc.as_ref()).await?;
        Ok(())
    }

    /// Sends a text (`binary == false`) or binary message on the channel `label`, waiting
    /// while the channel's send buffer is over its limit.
    pub async fn send_on(
        &self,
        label: &str,
        text: Option<&str>,
        bytes: Option<&[u8]>,
    ) -> Result<(), PeerError> {
        let channel = self
            .shared
            .channels
            .lock()
            .expect("channels lock")
            .get(label)
            .cloned()
            .ok_or(PeerError::NoChannel)?;
        match (text, bytes) {
            (Some(t), _) => channel.send_text(t).await?,
            (None, Some(b)) => channel.send(bytes::BytesMut::from(b)).await?,
            (None, None) => {}
        }
        Ok(())
    }

    /// Makes the connection's driver run a pass now: webrtc 0.21 flushes data-channel writes
    /// queued outside its own event handling only on its next deadline (see the module notes),
    /// which would add up to a tick to every protocol round trip.
    pub async fn flush(&self) -> Result<(), PeerError> {
        nudge(self.pc.as_ref()).await
    }

    /// Waits until every open data channel has sent what is queued on it, or `budget` has
    /// passed (e.g. before closing the connection, so last frames are not dropped).
    pub async fn drain_channels(&self, budget: Duration) {
        let channels: Vec<_> = self
            .shared
            .channels
            .lock()
            .expect("channels lock")
            .values()
            .cloned()
            .collect();
        let deadline = tokio::time::Instant::now() + budget;
        for c in channels {
            loop {
                let open = matches!(
                    c.ready_state().await,
                    Ok(webrtc::data_channel::RTCDataChannelState::Open)
                );
                let outstanding = c.outstanding_bytes().await.unwrap_or(0);
                if !open || outstanding == 0 {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    tracing::debug!(outstanding, "data channel not drained in time");
                    break;
                }
                // webrtc 0.21 exposes no "drained" notification for this; poll briefly.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }

    /// Closes the channel `label` (no-op when unknown).
    pub async fn close_channel(&self, label: &str) -> Result<(), PeerError> {
        let channel = self
            .shared
            .channels
            .lock()
            .expect("channels lock")
            .get(label)
            .cloned();
        if let Some(c) = channel {
            // webrtc 0.21 resets the stream at once, dropping what is still queued (e.g. the
            // final ACK the DT protocol sends just before closing, data-transfer.md §1.8):
            // close only once the queue has drained, without holding up the caller.
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + CLOSE_DRAIN_BUDGET;
                loop {
                    // Already closing/closed (the remote side closed first): closing again
                    // could reset a stream id that a newer channel now uses.
                    if !matches!(
                        c.ready_state().await,
                        Ok(webrtc::data_channel::RTCDataChannelState::Open)
                    ) {
                        return;
                    }
                    if c.outstanding_bytes().await.unwrap_or(0) == 0
                        || tokio::time::Instant::now() >= deadline
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                if let Err(e) = c.close().await {
                    tracing::debug!("closing a data channel: {e}");
                }
            });
        }
        Ok(())
    }

    /// Attaches the chosen local stream (sdp-and-peers.md §4.10) before an offer or answer:
    /// nothing when it is already attached; otherwise the attached tracks are removed and the
    /// chosen stream's added. Returns whether anything changed.
    pub(crate) async fn sync_media(
        &self,
        chosen: &crate::local_media::Chosen,
    ) -> Result<bool, PeerError> {
        let mut sending = self.sending.lock().await;
        if sending.0 == chosen.stream_id {
            return Ok(false);
        }
        for track in std::mem::take(&mut sending.1) {
            track.detach(self.pc.as_ref()).await;
        }
        sending.0 = chosen.stream_id.clone();
        if let Some(id) = &chosen.stream_id {
            for feed in &chosen.feeds {
                let track =
                    crate::peer_media::SendingTrack::attach(self.pc.as_ref(), id, feed).await?;
                sending.1.push(track);
            }
        }
        Ok(true)
    }

    /// Makes the next offer or answer receive the peer's audio and video as asked (the
    /// reference's `offerToReceiveAudio/Video`, and a browser's transceiver directions):
    /// every audio/video transceiver gets `sendrecv` when it carries one of our tracks, else
    /// `recvonly`; a kind without any transceiver gets a receive-only one (offers only: an
    /// answer cannot add m-lines).
    ///
    /// webrtc 0.21 differs from browsers here: a transceiver created by a remote description
    /// that only receives is not `recvonly` on our side, so adding a track to it later makes
    /// it `sendonly`, and media the peer starts sending on that m-line after a renegotiation
    /// is never delivered (`start_rtp` only binds receivers of transceivers that receive).
    pub(crate) async fn ensure_receivers(
        &self,
        audio: bool,
        video: bool,
        add_missing: bool,
    ) -> Result<(), PeerError> {
        use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
        use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
        let mut has = (false, false);
        for t in self.pc.get_transceivers().await {
            let sender = t.sender().await.ok().flatten();
            let kind = match t.receiver().await {
                Ok(Some(r)) => r.track().kind().await,
                _ => match &sender {
                    Some(s) => s.track().kind().await,
                    None => continue,
                },
            };
            let recv = match kind {
                RtpCodecKind::Audio => {
                    has.0 = true;
                    audio
                }
                RtpCodecKind::Video => {
                    has.1 = true;
                    video
                }
                _ => continue,
            };
            let want = RTCRtpTransceiverDirection::from_send_recv(sender.is_some(), recv);
            let current = t.direction().await.ok();
            tracing::debug!(?kind, ?current, ?want, "transceiver direction");
            if t.direction().await.ok() != Some(want)
                && let Err(e) = t.set_direction(want).await
            {
                tracing::debug!(error = %e, "setting a transceiver direction");
            }
        }
        if !add_missing {
            return Ok(());
        }
        for (want, have, kind) in [
            (audio, has.0, RtpCodecKind::Audio),
            (video, has.1, RtpCodecKind::Video),
        ] {
            if want && !have {
                self.pc
                    .add_transceiver_from_kind(
                        kind,
                        Some(RTCRtpTransceiverInit {
                            direction: RTCRtpTransceiverDirection::Recvonly,
                            streams: vec![],
                            send_encodings: vec![],
                        }),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Closes the connection (idempotent).
    pub async fn close(&self) -> Result<(), PeerError> {
        self.pc.close().await?;
        Ok(())
    }

    async fn apply_local(&self, desc: RTCSessionDescription) -> Result<String, PeerError> {
        let sdp = desc.sdp.clone();
        // Candidates may surface as soon as the description is applied: set their mid first.
        *self.shared.bundle.lock().expect("bundle lock") = bundle_of(&sdp);
        self.pc.set_local_description(desc).await?;
        Ok(sdp)
    }

    async fn apply_remote(&self, desc: RTCSessionDescription) -> Result<(), PeerError> {
        {
            let mut remote = self.remote.lock().await;
            self.pc.set_remote_description(desc).await?;
            remote.described = true;
        }
        self.flush_queue().await;
        nudge(self.pc.as_ref()).await?;
        Ok(())
    }

    async fn flush_queue(&self) {
        let mut remote = self.remote.lock().await;
        for init in std::mem::take(&mut remote.queued) {
            // One bad candidate must not lose the others (browsers behave the same).
            if let Err(e) = self.pc.add_ice_candidate(init).await {
                tracing::debug!("queued remote candidate rejected: {e}");
            }
        }
    }
}

/// `(sdpMLineIndex, sdpMid)` of the first m-section: with BUNDLE every candidate belongs there.
fn bundle_of(sdp: &str) -> (u32, String) {
    sdp.lines()
        .skip_while(|l| !l.starts_with("m="))
        .skip(1)
        .take_while(|l| !l.starts_with("m="))
        .find_map(|l| l.trim_end().strip_prefix("a=mid:"))
        .map_or((0, "0".to_owned()), |mid| (0, mid.to_owned()))
}

/// `TokioRuntime` with enlarged UDP socket buffers: the driver binds its sockets itself and
/// hands them to [`Runtime::wrap_udp_socket`], which is the one place to set `SO_RCVBUF`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BufferedRuntime {
    /// Requested `SO_RCVBUF`/`SO_SNDBUF`; `None` leaves the OS default.
    pub buffer_bytes: Option<usize>,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Runtime for BufferedRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn(future)
    }

    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        TokioRuntime.spawn_reactor(reactor_pool_size, future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        if let Some(bytes) = self.buffer_bytes {
            let sock = socket2::SockRef::from(&socket);
            // Best effort: the kernel clamps to its maximum, and a refusal is not fatal.
            if let Err(e) = sock.set_recv_buffer_size(bytes) {
                tracing::debug!("SO_RCVBUF {bytes}: {e}");
            }
            if let Err(e) = sock.set_send_buffer_size(bytes) {
                tracing::debug!("SO_SNDBUF {bytes}: {e}");
            }
        }
        TokioRuntime.wrap_udp_socket(socket)
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        TokioRuntime.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> BoxFuture<'a, io::Result<Arc<dyn AsyncTcpStream>>> {
        Box::pin(async move { TokioRuntime.connect_tcp(remote_addr).await })
    }

    fn resolve_host<'a>(&'a self, host: &'a str) -> BoxFuture<'a, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { TokioRuntime.resolve_host(host).await })
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        TokioRuntime.sleep(duration)
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        TokioRuntime.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        TokioRuntime.block_on(future)
    }

    fn yield_now(&self) -> BoxFuture<'static, ()> {
        TokioRuntime.yield_now()
    }

    fn name(&self) -> &'static str {
        "tokio+buffers"
    }
}
