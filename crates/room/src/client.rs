//! The engine task and its handle, [`Client`]: thin tokio I/O around [`crate::api`],
//! [`crate::fallback`], [`crate::socket`] and the sans-IO [`Session`].

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use skylink_sm::room_api::{ApiSuccess, ReadyState};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

mod media;
pub use media::StreamInput;

use crate::api::{self, InitOptions};
use crate::error::RoomError;
use crate::event::{Event, PeerInfo, SocketSession, TransferData};
use crate::fallback::{
    FallbackPlan, SocketErrorCode, SocketFallback, SocketServer, Transport, reconnection_delay,
};
use crate::peers::{PeerLayerConfig, PeerSet};
use crate::session::{LocalConfig, Output, Role, Session};
use crate::socket::{self, Connection, SocketIn, SocketOut};

/// Capacity of the event broadcast channel (a receiver lagging further loses events).
pub const EVENT_CAPACITY: usize = 4096;

/// `joinRoom()` options (sdp-and-peers.md §2.1). Media is opened separately
/// ([`Client::get_user_media`], [`Client::share_screen`]); the SDP munging options that
/// 0.6.26 takes here are `init()` options of this engine
/// ([`InitOptions::sdp_settings`]), except those below.
#[derive(Debug, Clone, Default)]
pub struct JoinOptions {
    /// `userData`: custom data announced to peers (`""` when `None`).
    pub user_data: Option<Value>,
    /// `publishOnly` (§4.12): we only send. Audio and video become send-only (our
    /// transceivers and the SDP we send say `sendonly`/`inactive`), remote streams are
    /// ignored (no `incomingStream`), `enter`/`welcome`/`restart` carry
    /// `publishOnly: {type: "screenshare" | "video"}` and our peer info says
    /// `config.publishOnly = true` while we hold a stream. With an MCU in the room every
    /// peer but the MCU is ignored.
    pub publish_only: bool,
    /// `parentId` (or `publishOnly.parentId`): the peer this client is a child of. Parent
    /// and child ignore each other's `enter`/`welcome`/`restart` (no presence, no
    /// connection). As in 0.6.26 it **persists across `join_room` calls**: `None` keeps the
    /// previous value, `Some("")` clears it.
    pub parent_id: Option<String>,
    /// `bandwidth.{audio, video, data}` in kbps (`streamsBandwidthSettings.bAS`): written as
    /// `b=AS` into the remote descriptions we apply, so it caps what **we send** (our VP8 /
    /// Opus encoders follow the lowest limit over the connected peers). A value given here
    /// overrides the same field of [`InitOptions::sdp_settings`]`.bandwidth`.
    pub bandwidth: crate::Bandwidth,
    /// `googleXBandwidth.{min, max}` (kbps): `x-google-min-bitrate` / `x-google-max-bitrate`
    /// on the video codecs of the remote descriptions we apply (what we send). A value given
    /// here overrides the same field of [`InitOptions::sdp_settings`]`.google_x_bandwidth`.
    pub google_x_bandwidth: crate::GoogleXBandwidth,
    /// `sdpSettings`: which kinds are negotiated (`connection`) and in which direction
    /// (`direction.{audio,video}.{send,receive}`). `None` keeps
    /// [`InitOptions::sdp_settings`]`.sdp_settings`; `publish_only` still makes audio and video
    /// send-only on top of it.
    ///
    /// ```
    /// use skylink_room::{JoinOptions, SdpConnectionSettings};
    /// let mut sdp = SdpConnectionSettings::default();
    /// sdp.direction.video.receive = false; // peers need not send us video
    /// let join = JoinOptions { sdp_settings: Some(sdp), ..Default::default() };
    /// # let _ = join;
    /// ```
    pub sdp_settings: Option<crate::SdpConnectionSettings>,
}

/// One entry of [`Client::get_peers_in_room`].
#[derive(Debug, Clone, PartialEq)]
pub struct RoomPeer {
    /// Peer id.
    pub peer_id: String,
    /// Peer information.
    pub peer_info: PeerInfo,
    /// Whether it is us.
    pub is_self: bool,
}

type Reply<T> = oneshot::Sender<T>;

enum Command {
    Init(Reply<Result<(), RoomError>>),
    Join(String, JoinOptions, Reply<Result<String, RoomError>>),
    Leave(Reply<()>),
    Send(Value, Option<Vec<String>>, Reply<Result<(), RoomError>>),
    SetUserData(Value, Reply<()>),
    Lock(bool, Reply<Result<(), RoomError>>),
    Peers(Reply<Vec<RoomPeer>>),
    PeerId(Reply<Option<String>>),
    Role(String, Reply<Option<Role>>),
    SendP2p(Value, Option<Vec<String>>, Reply<Result<(), RoomError>>),
    UserData(Reply<Value>),
    PeerInfo(Option<String>, Reply<Result<PeerInfo, RoomError>>),
    Channels(Reply<Vec<ChannelInfo>>),
    Refresh(Option<Vec<String>>, bool, Reply<RefreshResult>),
    GetPeers(bool, Reply<Result<(), RoomError>>),
    Introduce(String, String, Reply<Result<(), RoomError>>),
    Connections(Reply<Vec<(String, std::sync::Arc<crate::peer::PeerSession>)>>),
    Status(Option<Vec<String>>, Reply<Value>),
    SendData(
        skylink_dt::transfer::Payload,
        Option<Vec<String>>,
        TransferOptions,
        Reply<Result<(String, Vec<String>), RoomError>>,
    ),
    Respond(String, String, bool, Reply<Result<(), RoomError>>),
    AcceptInto(
        String,
        String,
        Box<dyn skylink_dt::sink::ChunkSink>,
        Reply<Result<(), RoomError>>,
    ),
    Cancel(String, String, Reply<Result<(), RoomError>>),
    StartStream(bool, Option<Vec<String>>, Reply<Result<String, RoomError>>),
    StreamData(String, TransferData, Reply<Result<(), RoomError>>),
    StopStream(String, Reply<Result<(), RoomError>>),
    GetUserMedia(Option<Value>, Reply<Result<String, RoomError>>),
    SendStream(StreamInput, Reply<Result<String, RoomError>>),
    ShareScreen(bool, Reply<Result<String, RoomError>>),
    StopScreen(Reply<()>),
    StopMedia(Reply<()>),
    Mute(Option<bool>, Option<bool>, Reply<()>),
    MuteState(Reply<(bool, bool)>),
    RemoteTracks(Reply<Vec<crate::peer_media::RemoteTrackStats>>),
}

/// Options of [`Client::send_blob_data`] / [`Client::send_url_data`].
#[derive(Debug, Clone, PartialEq)]
pub struct TransferOptions {
    /// The file name announced in the WRQ (`name`).
    pub name: Option<String>,
    /// MIME type of a blob.
    pub mime_type: Option<String>,
    /// `timeout` in seconds (default 60): how long to wait for the peer's next step.
    pub timeout_secs: f64,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            name: None,
            mime_type: None,
            timeout_secs: skylink_dt::transfer::DEFAULT_TIMEOUT_SECS,
        }
    }
}

/// One messaging channel, as [`Client::get_peers_datachannels`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Peer id.
    pub peer_id: String,
    /// Channel label (`channelName`).
    pub channel_name: String,
    /// `messaging` (the only type until file transfers use DATA channels).
    pub channel_type: String,
    /// `readyState`: `open` or `connecting`/`closed`.
    pub ready_state: String,
}

/// Outcome of [`Client::refresh_connection`] (the reference callback's payload).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RefreshResult {
    /// Peers the refresh covered.
    pub list_of_peers: Vec<String>,
    /// Per-peer errors (`refreshErrors`); empty on success. Key `self` for a call with no peer.
    pub refresh_errors: std::collections::BTreeMap<String, String>,
    /// Per-peer `{iceRestart}` settings (`refreshSettings`).
    pub refresh_settings: std::collections::BTreeMap<String, bool>,
}

/// Handle on a Skylink client engine (cheap to clone). Create with [`Client::new`] inside a
/// tokio runtime; the engine task ends when every handle is dropped.
///
/// ```no_run
/// # async fn demo() -> Result<(), skylink_room::RoomError> {
/// use skylink_room::{Client, InitOptions, JoinOptions, Event};
/// let mut opts = InitOptions::new("my-app-key");
/// opts.room_server = "//127.0.0.1:8018".into();
/// opts.force_ssl = false;
/// let client = Client::new(opts);
/// let mut events = client.subscribe();
/// let me = client.join_room(Some("lobby"), JoinOptions::default()).await?;
/// client.send_message("hello".into(), None).await?;
/// while let Ok(ev) = events.recv().await {
///     if let Event::IncomingMessage { message, .. } = ev { println!("{:?}", message.content) }
/// }
/// # let _ = me; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    cmd: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<Event>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Starts an engine with these `init()` options (no I/O yet).
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns the engine task).
    pub fn new(opts: InitOptions) -> Client {
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (media_ended_tx, media_ended_rx) = mpsc::unbounded_channel();
        let engine = Engine {
            opts,
            events: events.clone(),
            cmd_rx,
            room: None,
            join_opts: JoinOptions::default(),
            parent_id: None,
            user_data: Value::String(String::new()),
            conn: None,
            session: None,
            socket_session: None,
            pending_join: None,
            in_room: false,
            rejoin: None,
            rejoining: 0,
            rejected: false,
            peers: None,
            camera: None,
            screen: None,
            audio_muted: false,
            video_muted: false,
            media_ended_tx,
            media_ended_rx,
            instance: format!("{:032x}", rand::random::<u128>()),
            orphans: Vec::new(),
        };
        tokio::spawn(engine.run());
        Client { cmd, events }
    }

    /// A new receiver of every event raised from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Every event raised from now on as a [`futures_util::Stream`]; it ends when the engine
    /// stops. A consumer more than [`EVENT_CAPACITY`] events behind skips the oldest ones
    /// (logged).
    pub fn events(&self) -> impl futures_util::Stream<Item = Event> + Send + 'static {
        futures_util::stream::unfold(self.events.subscribe(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => return Some((ev, rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "event stream consumer lagged");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, RoomError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(make(tx))
            .map_err(|_| RoomError::EngineStopped)?;
        rx.await.map_err(|_| RoomError::EngineStopped)
    }

    /// `init()`: the room-API request for `defaultRoom`, reporting `readyStateChange`.
    ///
    /// # Errors
    /// [`RoomError::Init`] when it ends in `ERROR`.
    pub async fn init(&self) -> Result<(), RoomError> {
        self.call(Command::Init).await?
    }

    /// `joinRoom(room, options)`: leaves any current room, repeats `init()` for `room`
    /// (`defaultRoom` when `None`), opens the socket, sends `joinRoom` and resolves with our
    /// peer id when `inRoom` arrives (there is no timeout, as in 0.6.26).
    ///
    /// # Errors
    /// [`RoomError::Init`], [`RoomError::Socket`], [`RoomError::Rejected`],
    /// [`RoomError::ClosedBeforeJoin`], [`RoomError::Superseded`].
    pub async fn join_room(
        &self,
        room: Option<&str>,
        options: JoinOptions,
    ) -> Result<String, RoomError> {
        let room = room.map(str::to_owned).unwrap_or_default();
        self.call(|r| Command::Join(room, options, r)).await?
    }

    /// `leaveRoom()`: `peerLeft` for every peer and ourselves, then closes the socket.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn leave_room(&self) -> Result<(), RoomError> {
        self.call(Command::Leave).await
    }

    /// `sendMessage(message, targetPeerId)`: `public` (throttled, spec §4) when `targets` is
    /// `None`, else one `private` per target.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`].
    pub async fn send_message(
        &self,
        message: Value,
        targets: Option<Vec<String>>,
    ) -> Result<(), RoomError> {
        self.call(|r| Command::Send(message, targets, r)).await?
    }

    /// `setUserData(data)`: stored, `peerUpdated(self)`, and `updateUserEvent` when in a room.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn set_user_data(&self, data: Value) -> Result<(), RoomError> {
        self.call(|r| Command::SetUserData(data, r)).await
    }

    /// `lockRoom()`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`].
    pub async fn lock_room(&self) -> Result<(), RoomError> {
        self.call(|r| Command::Lock(true, r)).await?
    }

    /// `unlockRoom()`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`].
    pub async fn unlock_room(&self) -> Result<(), RoomError> {
        self.call(|r| Command::Lock(false, r)).await?
    }

    /// `getPeersInRoom()`: us first (when joined), then the known peers.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn get_peers_in_room(&self) -> Result<Vec<RoomPeer>, RoomError> {
        self.call(Command::Peers).await
    }

    /// Our current peer id, when in a room.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn peer_id(&self) -> Result<Option<String>, RoomError> {
        self.call(Command::PeerId).await
    }

    /// `sendP2PMessage(message, targetPeerId)`: a `MESSAGE` on each target's messaging data
    /// channel (every connected peer when `targets` is `None`), with the local echo
    /// `incomingMessage(isSelf: true, isDataChannel: true)`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`]; [`RoomError::Peer`] when a target's channel is not open (a
    /// `dataChannelState` `sendMessageError` is raised too).
    pub async fn send_p2p_message(
        &self,
        message: Value,
        targets: Option<Vec<String>>,
    ) -> Result<(), RoomError> {
        self.call(|r| Command::SendP2p(message, targets, r)).await?
    }

    /// `getUserData()`: our current user data.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn get_user_data(&self) -> Result<Value, RoomError> {
        self.call(Command::UserData).await
    }

    /// `getPeerInfo(peerId)`: a peer's information, ours when `peer_id` is `None`.
    ///
    /// # Errors
    /// [`RoomError::UnknownPeer`], [`RoomError::NotInRoom`] (for `None` before joining).
    pub async fn get_peer_info(&self, peer_id: Option<&str>) -> Result<PeerInfo, RoomError> {
        let p = peer_id.map(str::to_owned);
        self.call(|r| Command::PeerInfo(p, r)).await?
    }

    /// `getPeersDatachannels()`: every messaging channel with its state.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn get_peers_datachannels(&self) -> Result<Vec<ChannelInfo>, RoomError> {
        self.call(Command::Channels).await
    }

    /// `refreshConnection(targetPeerId, iceRestart)` (spec §2.12): a `restart` exchange with
    /// each peer (all when `None`); the side with the higher weight re-offers, with new ICE
    /// credentials when `ice_restart` and both sides allow it. `peerRestart` is raised.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only; per-peer failures are in
    /// [`RefreshResult::refresh_errors`].
    pub async fn refresh_connection(
        &self,
        targets: Option<Vec<String>>,
        ice_restart: bool,
    ) -> Result<RefreshResult, RoomError> {
        self.call(|r| Command::Refresh(targets, ice_restart, r))
            .await
    }

    /// Privileged `getPeers(showAll)`: `getPeersStateChange(enquired)`, then `received`
    /// with the server's peer list.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`].
    pub async fn get_peers(&self, show_all: bool) -> Result<(), RoomError> {
        self.call(|r| Command::GetPeers(show_all, r)).await?
    }

    /// Privileged `introducePeer(sendingPeerId, receivingPeerId)`.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`].
    pub async fn introduce_peer(&self, sending: &str, receiving: &str) -> Result<(), RoomError> {
        let (a, b) = (sending.to_owned(), receiving.to_owned());
        self.call(|r| Command::Introduce(a, b, r)).await?
    }

    /// `getConnectionStatus(targetPeerId)` (spec §3): for each peer (all when `None`)
    /// `getConnectionStatusStateChange` retrieving → success/error, and the callback payload
    /// `{listOfPeers, connectionStats: {peerId: stats}, retrievalErrors?: {peerId: error}}`.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only; per-peer failures are in `retrievalErrors`.
    pub async fn get_connection_status(
        &self,
        targets: Option<Vec<String>>,
    ) -> Result<Value, RoomError> {
        self.call(|r| Command::Status(targets, r)).await
    }

    /// `sendBlobData(data, timeout, targetPeerId)`: one transfer of `data` to each target
    /// (every peer with an open data channel when `None`). Returns the transfer id and the
    /// peers it started for; progress and completion come as `dataTransferState` events.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`]; [`RoomError::Peer`] when no target could start (empty data,
    /// channel not open, …).
    pub async fn send_blob_data(
        &self,
        data: impl Into<std::sync::Arc<[u8]>>,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError> {
        let payload =
            skylink_dt::transfer::Payload::blob(data.into(), options.mime_type.as_deref());
        self.call(|r| Command::SendData(payload, targets, options, r))
            .await?
    }

    /// `sendBlobData` of a file, streamed from disk: each chunk is read when it is sent (the
    /// file is never held in memory whole; see [`crate::transfer::FileSource`]). The file name
    /// is announced unless `options.name` says otherwise. Same results as
    /// [`Client::send_blob_data`]; the uploader's own `incomingData` carries
    /// [`TransferData::Source`] instead of the bytes.
    ///
    /// # Errors
    /// [`RoomError::Peer`] when the file cannot be opened or read; else as
    /// [`Client::send_blob_data`].
    pub async fn send_blob_file(
        &self,
        path: impl AsRef<std::path::Path>,
        targets: Option<Vec<String>>,
        mut options: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError> {
        let path = path.as_ref();
        let file = crate::transfer::FileSource::open(path)
            .map_err(|e| RoomError::Peer(format!("{}: {e}", path.display())))?;
        if options.name.is_none() {
            options.name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        self.send_blob_source(
            skylink_dt::source::SharedSource::new(file),
            targets,
            options,
        )
        .await
    }

    /// `sendBlobData` of any async reader of `len` bytes (a socket, a pipe, a decompressor,
    /// a file opened with tokio): the JS reference's "any async reader", never buffered
    /// whole in memory.
    ///
    /// A resumed transfer (skylink-rs extension) re-reads earlier chunks, and the digest of a
    /// spooled payload is announced in the WRQ, so a one-pass reader is consumed **before** the
    /// transfer starts: it is copied (and hashed on the way) into an anonymous temporary
    /// file, which is then sent like [`Client::send_blob_file`] and deleted when the last
    /// peer's transfer is over (it has no name; nothing is left behind, even on a crash).
    /// Memory stays bounded (a 256 KiB copy buffer); disk use is `len`. For a file already
    /// on disk prefer [`Client::send_blob_file`], which needs no copy.
    ///
    /// ```no_run
    /// # async fn f(client: skylink_room::Client) -> Result<(), skylink_room::RoomError> {
    /// use skylink_room::TransferOptions;
    /// // 20 MB generated on the fly: any `AsyncRead + Unpin + Send + 'static` works.
    /// let reader = tokio::io::AsyncReadExt::take(tokio::io::repeat(0x42), 20_000_000);
    /// let (transfer_id, peers) = client
    ///     .send_blob_reader(reader, 20_000_000, None, TransferOptions::default())
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RoomError::ReaderLength`] when the reader ends before `len` bytes or has more;
    /// [`RoomError::Peer`] when reading or spooling fails; else as
    /// [`Client::send_blob_data`].
    pub async fn send_blob_reader<R>(
        &self,
        reader: R,
        len: u64,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        let source = crate::transfer::spool_reader(reader, len).await?;
        self.send_blob_source(source, targets, options).await
    }

    /// `sendBlobData` of any [`ChunkSource`](skylink_dt::source::ChunkSource) of known
    /// length, read chunk by chunk as the transfer goes (each chunk once, plus re-sent ones
    /// after a resume). Towards skylink-rs peers the whole-payload digest of the extension is
    /// hashed from those same reads and sent before the last chunk, unless the source already
    /// knows it ([`SharedSource::with_digest`](skylink_dt::source::SharedSource::with_digest)).
    /// A read error fails the transfer (`dataTransferState` `error`, CANCEL to the peer).
    /// Same results as [`Client::send_blob_data`].
    ///
    /// # Errors
    /// As [`Client::send_blob_data`].
    pub async fn send_blob_source(
        &self,
        source: skylink_dt::source::SharedSource,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError> {
        let payload = skylink_dt::transfer::Payload::source(source, options.mime_type.as_deref());
        self.call(|r| Command::SendData(payload, targets, options, r))
            .await?
    }

    /// `sendURLData(data, timeout, targetPeerId)`: a string transfer (a data URL in the
    /// reference). Same results as [`Client::send_blob_data`].
    ///
    /// # Errors
    /// As [`Client::send_blob_data`]; peers announcing DT < 0.1.3 cannot receive strings.
    pub async fn send_url_data(
        &self,
        data: &str,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError> {
        let payload = skylink_dt::transfer::Payload::Text(data.into());
        self.call(|r| Command::SendData(payload, targets, options, r))
            .await?
    }

    /// `acceptDataTransfer(peerId, transferId, accept)`: answers an `incomingDataRequest`.
    ///
    /// # Errors
    /// [`RoomError::UnknownPeer`], [`RoomError::Peer`] for an unknown transfer.
    pub async fn accept_data_transfer(
        &self,
        peer_id: &str,
        transfer_id: &str,
        accept: bool,
    ) -> Result<(), RoomError> {
        let (p, t) = (peer_id.to_owned(), transfer_id.to_owned());
        self.call(|r| Command::Respond(p, t, accept, r)).await?
    }

    /// `acceptDataTransfer(peerId, transferId, true)` for a blob download that is written
    /// to `path` as it arrives instead of being assembled in memory, so receiving a large
    /// file costs no more memory than one chunk (see [`crate::transfer::FileSink`]).
    ///
    /// The bytes go to a temporary `.<name>.part` next to `path`, renamed to `path` once the
    /// last chunk arrived (and, between skylink-rs peers, the payload's digest matched); an
    /// existing file at `path` is replaced then. A cancelled, rejected, failed or timed-out
    /// download deletes the temporary file. A resumed transfer (skylink-rs extension) keeps
    /// writing to it. The downloader's `incomingData` then carries [`TransferData::File`]
    /// (the path and size) instead of the bytes; `dataTransferState` events are unchanged.
    ///
    /// ```no_run
    /// # async fn f(client: skylink_room::Client, peer: &str, transfer: &str) -> Result<(), skylink_room::RoomError> {
    /// client
    ///     .accept_data_transfer_to_file(peer, transfer, "/tmp/downloads/report.pdf")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`RoomError::Peer`] when the temporary file cannot be created, for an unknown
    /// transfer, or for a string (`sendURLData`) transfer (accept those with
    /// [`Client::accept_data_transfer`]); [`RoomError::UnknownPeer`].
    pub async fn accept_data_transfer_to_file(
        &self,
        peer_id: &str,
        transfer_id: &str,
        path: impl AsRef<std::path::Path>,
    ) -> Result<(), RoomError> {
        let path = path.as_ref();
        let sink = crate::transfer::FileSink::create(path)
            .map_err(|e| RoomError::Peer(format!("{}: {e}", path.display())))?;
        let (p, t) = (peer_id.to_owned(), transfer_id.to_owned());
        // on any error the sink comes back and is dropped, which deletes the temporary file
        self.call(|r| Command::AcceptInto(p, t, Box::new(sink), r))
            .await?
    }

    /// `cancelDataTransfer(peerId, transferId)`, either direction.
    ///
    /// # Errors
    /// [`RoomError::UnknownPeer`], [`RoomError::Peer`] for an unknown transfer.
    pub async fn cancel_data_transfer(
        &self,
        peer_id: &str,
        transfer_id: &str,
    ) -> Result<(), RoomError> {
        let (p, t) = (peer_id.to_owned(), transfer_id.to_owned());
        self.call(|r| Command::Cancel(p, t, r)).await?
    }

    /// `startStreamingData(isStringStream, targetPeerId)`: opens a stream to each target (all
    /// connected peers when `None`) and returns its id.
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`]; [`RoomError::Peer`] when no peer can take a stream (DT <
    /// 0.1.3 peers cannot).
    pub async fn start_streaming_data(
        &self,
        is_string: bool,
        targets: Option<Vec<String>>,
    ) -> Result<String, RoomError> {
        self.call(|r| Command::StartStream(is_string, targets, r))
            .await?
    }

    /// `streamData(streamId, chunk)`.
    ///
    /// # Errors
    /// [`RoomError::Peer`] when no peer has that stream.
    pub async fn stream_data(&self, stream_id: &str, chunk: TransferData) -> Result<(), RoomError> {
        if matches!(chunk, TransferData::Source(_) | TransferData::File { .. }) {
            return Err(RoomError::Peer(
                "a stream chunk must be bytes or text".into(),
            ));
        }
        let id = stream_id.to_owned();
        self.call(|r| Command::StreamData(id, chunk, r)).await?
    }

    /// `stopStreamingData(streamId)`.
    ///
    /// # Errors
    /// [`RoomError::Peer`] when no peer has that stream.
    pub async fn stop_streaming_data(&self, stream_id: &str) -> Result<(), RoomError> {
        let id = stream_id.to_owned();
        self.call(|r| Command::StopStream(id, r)).await?
    }

    /// `getUserMedia(options)` (sdp-and-peers.md §4.2): opens media from
    /// [`InitOptions::media_devices`] and holds it as the camera stream; `None` means
    /// `{audio: true, video: true}`. Raises `mediaAccessSuccess` (and `mediaAccessFallback`
    /// when a kind is missing) or `mediaAccessError`. Does not renegotiate: the stream goes
    /// on the wire at the next offer/answer (or use [`Client::send_stream`]).
    ///
    /// # Errors
    /// [`RoomError::InvalidArgument`] with the reference's texts (`Please select audio or
    /// video`, …), [`RoomError::Media`] when the devices fail.
    pub async fn get_user_media(&self, options: Option<Value>) -> Result<String, RoomError> {
        self.call(|r| Command::GetUserMedia(options, r)).await?
    }

    /// `sendStream(options | stream)` (§4.3): replaces the camera stream and refreshes every
    /// connection so peers receive it. Returns the stream id.
    ///
    /// # Errors
    /// [`RoomError::Media`] outside a room (`Unable to send stream as user is not in the
    /// Room.`) or when capture or the refresh fails.
    pub async fn send_stream(&self, input: StreamInput) -> Result<String, RoomError> {
        self.call(|r| Command::SendStream(input, r)).await?
    }

    /// `shareScreen(enableAudio)` (§4.4): the screen (from the devices, `screen: true`)
    /// replaces the camera on the wire until [`Client::stop_screen`].
    ///
    /// # Errors
    /// [`RoomError::Media`] when the screen cannot be captured.
    pub async fn share_screen(&self, audio: bool) -> Result<String, RoomError> {
        self.call(|r| Command::ShareScreen(audio, r)).await?
    }

    /// `stopScreen()` (§4.4): stops the screen share; the camera stream (if any) is sent
    /// again.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn stop_screen(&self) -> Result<(), RoomError> {
        self.call(Command::StopScreen).await
    }

    /// `stopStream()` (§4.5): stops the camera stream (`mediaAccessStopped`, `streamEnded`,
    /// the `stream` message); no renegotiation.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn stop_stream(&self) -> Result<(), RoomError> {
        self.call(Command::StopMedia).await
    }

    /// `muteStream({audioMuted, videoMuted})` (§4.6): `None` counts as `true`, as in the
    /// reference. Muted video sends black frames, muted audio silence.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn mute_stream(
        &self,
        audio_muted: Option<bool>,
        video_muted: Option<bool>,
    ) -> Result<(), RoomError> {
        self.call(|r| Command::Mute(audio_muted, video_muted, r))
            .await
    }

    /// The global mute state `(audioMuted, videoMuted)`.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn mute_state(&self) -> Result<(bool, bool), RoomError> {
        self.call(Command::MuteState).await
    }

    /// Counters of every media track received in the current session.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn remote_tracks(
        &self,
    ) -> Result<Vec<crate::peer_media::RemoteTrackStats>, RoomError> {
        self.call(Command::RemoteTracks).await
    }

    /// The peer connections of the current room (for stats and diagnostics).
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn connections(
        &self,
    ) -> Result<Vec<(String, std::sync::Arc<crate::peer::PeerSession>)>, RoomError> {
        self.call(Command::Connections).await
    }

    /// Our handshake role towards `peer_id`, once decided by the `welcome` exchange.
    ///
    /// # Errors
    /// [`RoomError::EngineStopped`] only.
    pub async fn handshake_role(&self, peer_id: &str) -> Result<Option<Role>, RoomError> {
        let p = peer_id.to_owned();
        self.call(|r| Command::Role(p, r)).await
    }
}

struct Engine {
    opts: InitOptions,
    events: broadcast::Sender<Event>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    room: Option<String>,
    /// Options of the last `join_room` (media options will live here).
    join_opts: JoinOptions,
    user_data: Value,
    /// `parentId`: survives `join_room` calls (§2.1).
    parent_id: Option<String>,
    conn: Option<Connection>,
    session: Option<Session>,
    socket_session: Option<SocketSession>,
    pending_join: Option<Reply<Result<String, RoomError>>>,
    in_room: bool,
    /// Pending automatic rejoin: (attempt number, when).
    rejoin: Option<(u32, Instant)>,
    /// Attempt number of the automatic rejoin in progress (0 = none).
    rejoining: u32,
    /// The server rejected this session (`redirect` reject): no automatic rejoin.
    rejected: bool,
    /// The peer connections of the current session.
    peers: Option<PeerSet>,
    /// `streams.userMedia` (§4.1).
    camera: Option<crate::local_media::LocalStream>,
    /// `streams.screenshare` (§4.1).
    screen: Option<crate::local_media::LocalStream>,
    /// `streamsMutedSettings` (§4.1).
    audio_muted: bool,
    video_muted: bool,
    /// Feeds report a source that ended by itself here (with its stream id).
    media_ended_tx: mpsc::UnboundedSender<String>,
    media_ended_rx: mpsc::UnboundedReceiver<String>,
    /// Our skylink-rs instance token (see [`LocalConfig::instance`]).
    instance: String,
    /// Transfers waiting for their peer connection to come back, between two sessions (a
    /// dropped socket and the automatic rejoin).
    orphans: Vec<crate::peers::Orphan>,
}

/// The SDP settings of one join: `init()`'s, with the join's `bandwidth`,
/// `googleXBandwidth` and `sdpSettings`, then the `publishOnly` directions (audio and video
/// `send = true`, `receive = false`, §2.1).
fn join_sdp_settings(
    init: &skylink_sdp::SdpSettings,
    join: &JoinOptions,
) -> skylink_sdp::SdpSettings {
    let mut st = init.clone();
    let b = &join.bandwidth;
    st.bandwidth.audio = b.audio.or(st.bandwidth.audio);
    st.bandwidth.video = b.video.or(st.bandwidth.video);
    st.bandwidth.data = b.data.or(st.bandwidth.data);
    let g = &join.google_x_bandwidth;
    st.google_x_bandwidth.min = g.min.or(st.google_x_bandwidth.min);
    st.google_x_bandwidth.max = g.max.or(st.google_x_bandwidth.max);
    if let Some(sdp) = &join.sdp_settings {
        st.sdp_settings = sdp.clone();
    }
    if join.publish_only {
        for d in [
            &mut st.sdp_settings.direction.audio,
            &mut st.sdp_settings.direction.video,
        ] {
            d.send = true;
            d.receive = false;
        }
    }
    st
}

/// The kinds a join receives: negotiated (`connection`) and received (`direction.receive`).
fn receiving(st: &skylink_sdp::SdpSettings) -> crate::session::Receiving {
    let c = &st.sdp_settings;
    crate::session::Receiving {
        audio: c.connection.audio && c.direction.audio.receive,
        video: c.connection.video && c.direction.video.receive,
    }
}

async fn recv_peer(peers: &mut Option<PeerSet>) -> Option<crate::peers::Tagged> {
    match peers {
        Some(p) => p.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_socket(conn: &mut Option<Connection>) -> Option<SocketIn> {
    match conn {
        Some(c) => c.rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Engine {
    fn emit(&self, ev: Event) {
        tracing::trace!(?ev, "event");
        let _ = self.events.send(ev);
    }

    async fn run(mut self) {
        loop {
            let throttle_at = self
                .session
                .as_ref()
                .and_then(Session::poll_timeout)
                .map(Instant::from_std);
            let rejoin_at = self.rejoin.map(|(_, at)| at);
            let dt_at = self
                .peers
                .as_ref()
                .and_then(PeerSet::poll_timeout)
                .map(Instant::from_std);
            tokio::select! {
                cmd = self.cmd_rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                ev = recv_socket(&mut self.conn) => self.socket_event(ev).await,
                Some(t) = recv_peer(&mut self.peers) => {
                    let mut out = Vec::new();
                    if let (Some(p), Some(s)) = (self.peers.as_mut(), self.session.as_mut()) {
                        p.event(s, t, &mut out).await;
                    }
                    self.apply(out).await;
                }
                () = sleep_opt(throttle_at) => {
                    let out = match self.session.as_mut() {
                        Some(s) => s.handle_timeout(std::time::Instant::now()),
                        None => Vec::new(),
                    };
                    self.apply(out).await;
                }
                () = sleep_opt(rejoin_at) => self.try_rejoin().await,
                Some(id) = self.media_ended_rx.recv() => self.media_ended(id).await,
                () = sleep_opt(dt_at) => {
                    let mut out = Vec::new();
                    if let (Some(p), Some(s)) = (self.peers.as_mut(), self.session.as_ref()) {
                        p.handle_timeout(s, &mut out).await;
                    }
                    self.apply(out).await;
                }
            }
        }
        if let Some(c) = self.conn.take() {
            c.close().await;
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Init(reply) => {
                let room = self.opts.room().to_owned();
                let r = self.fetch(&room).await.map(|_| ());
                let _ = reply.send(r);
            }
            Command::Join(room, options, reply) => {
                self.rejoin = None;
                self.rejoining = 0;
                if let Some(old) = self.pending_join.take() {
                    let _ = old.send(Err(RoomError::Superseded));
                }
                let room = if room.is_empty() {
                    self.opts.room().to_owned()
                } else {
                    room
                };
                if let Some(d) = &options.user_data {
                    self.user_data = d.clone();
                }
                if let Some(p) = &options.parent_id {
                    // Persists across joins (§2.1); an empty id clears it.
                    self.parent_id = Some(p.clone()).filter(|p| !p.is_empty());
                }
                self.join_opts = options;
                match self.start_join(&room).await {
                    Ok(()) => self.pending_join = Some(reply),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::GetUserMedia(options, reply) => {
                let r = self.get_user_media(options).await;
                let _ = reply.send(r);
            }
            Command::SendStream(input, reply) => {
                let r = self.send_stream(input).await;
                let _ = reply.send(r);
            }
            Command::ShareScreen(audio, reply) => {
                let r = self.share_screen(audio).await;
                let _ = reply.send(r);
            }
            Command::StopScreen(reply) => {
                self.stop_screen().await;
                let _ = reply.send(());
            }
            Command::StopMedia(reply) => {
                self.stop_stream().await;
                let _ = reply.send(());
            }
            Command::Mute(audio, video, reply) => {
                self.mute_stream(audio, video).await;
                let _ = reply.send(());
            }
            Command::MuteState(reply) => {
                let _ = reply.send((self.audio_muted, self.video_muted));
            }
            Command::RemoteTracks(reply) => {
                let list = self
                    .peers
                    .as_ref()
                    .map(PeerSet::remote_tracks)
                    .unwrap_or_default();
                let _ = reply.send(list);
            }
            Command::Leave(reply) => {
                // leaveRoom() stops the held streams (the reference's stopMediaOptions
                // default), announcing it to the room first.
                self.stop_record(true).await;
                self.stop_record(false).await;
                self.rejoin = None;
                self.rejoining = 0;
                if let Some(old) = self.pending_join.take() {
                    let _ = old.send(Err(RoomError::Superseded));
                }
                let mut out = Vec::new();
                if let (Some(p), Some(s)) = (self.peers.as_mut(), self.session.as_ref()) {
                    p.leaving(s, &mut out).await;
                }
                self.apply(out).await;
                self.leave().await;
                self.room = None;
                // Transfers suspended for a reconnect end with the room session.
                if !self.orphans.is_empty() {
                    tracing::info!(
                        peers = self.orphans.len(),
                        "leaveRoom: dropping transfers that waited for a reconnect"
                    );
                    self.orphans.clear();
                }
                let _ = reply.send(());
            }
            Command::Send(msg, targets, reply) => {
                let r = self
                    .in_session(|s, now| s.send_message(msg, targets, now))
                    .await;
                let _ = reply.send(r);
            }
            Command::SetUserData(data, reply) => {
                self.user_data = data.clone();
                let out = match self.session.as_mut().filter(|_| self.in_room) {
                    Some(s) => s.set_user_data(data, now_ms(), std::time::Instant::now()),
                    None => Vec::new(),
                };
                self.apply(out).await;
                let _ = reply.send(());
            }
            Command::Lock(lock, reply) => {
                let r = self.in_session(|s, now| s.set_lock(lock, now)).await;
                let _ = reply.send(r);
            }
            Command::Peers(reply) => {
                let mut list = Vec::new();
                if let Some(s) = self.session.as_ref().filter(|_| self.in_room) {
                    if let Some(id) = s.self_id() {
                        list.push(RoomPeer {
                            peer_id: id.to_owned(),
                            peer_info: s.self_info(),
                            is_self: true,
                        });
                    }
                    list.extend(s.peers().into_iter().map(|(peer_id, peer_info)| RoomPeer {
                        peer_id,
                        peer_info,
                        is_self: false,
                    }));
                }
                let _ = reply.send(list);
            }
            Command::PeerId(reply) => {
                let id = self
                    .session
                    .as_ref()
                    .filter(|_| self.in_room)
                    .and_then(|s| s.self_id().map(str::to_owned));
                let _ = reply.send(id);
            }
            Command::Role(peer, reply) => {
                let _ = reply.send(self.session.as_ref().and_then(|s| s.role(&peer)));
            }
            Command::SendP2p(msg, targets, reply) => {
                let r = self.send_p2p(msg, targets).await;
                let _ = reply.send(r);
            }
            Command::UserData(reply) => {
                let _ = reply.send(self.user_data.clone());
            }
            Command::PeerInfo(peer, reply) => {
                let r = match (self.session.as_ref().filter(|_| self.in_room), peer) {
                    (Some(s), None) => Ok(s.self_info()),
                    (None, None) => Err(RoomError::NotInRoom),
                    (Some(s), Some(p)) => s.peer_view(&p).ok_or(RoomError::UnknownPeer(p)),
                    (None, Some(p)) => Err(RoomError::UnknownPeer(p)),
                };
                let _ = reply.send(r);
            }
            Command::Channels(reply) => {
                let list = self
                    .peers
                    .as_ref()
                    .map(|p| {
                        p.channels()
                            .into_iter()
                            .map(|(peer_id, channel_name, open)| ChannelInfo {
                                peer_id,
                                channel_name,
                                channel_type: "messaging".into(),
                                ready_state: if open { "open" } else { "connecting" }.into(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = reply.send(list);
            }
            Command::Refresh(targets, ice_restart, reply) => {
                let r = self.refresh(targets, ice_restart).await;
                let _ = reply.send(r);
            }
            Command::GetPeers(show_all, reply) => {
                let r = self.in_session(|s, now| s.get_peers(show_all, now)).await;
                let _ = reply.send(r);
            }
            Command::Introduce(a, b, reply) => {
                let r = self.in_session(|s, now| s.introduce(&a, &b, now)).await;
                let _ = reply.send(r);
            }
            Command::SendData(payload, targets, opts, reply) => {
                let r = self.send_data(payload, targets, opts).await;
                let _ = reply.send(r);
            }
            Command::Respond(peer, id, accept, reply) => {
                let mut out = Vec::new();
                let r = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) => p.respond(s, &peer, &id, accept, &mut out).await,
                    _ => Err(RoomError::NotInRoom),
                };
                self.apply(out).await;
                let _ = reply.send(r);
            }
            Command::AcceptInto(peer, id, sink, reply) => {
                let mut out = Vec::new();
                let r = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) => p.accept_into(s, &peer, &id, sink, &mut out).await,
                    _ => Err(RoomError::NotInRoom),
                };
                self.apply(out).await;
                let _ = reply.send(r);
            }
            Command::Cancel(peer, id, reply) => {
                let mut out = Vec::new();
                let r = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) => p.cancel(s, &peer, &id, &mut out).await,
                    _ => Err(RoomError::NotInRoom),
                };
                self.apply(out).await;
                let _ = reply.send(r);
            }
            Command::StartStream(is_string, targets, reply) => {
                let mut out = Vec::new();
                let r = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) if self.in_room => {
                        let is_private = targets.is_some();
                        let list = targets.unwrap_or_else(|| p.connected_peers());
                        p.start_stream(s, &list, is_string, is_private, &mut out)
                            .await
                    }
                    _ => Err(RoomError::NotInRoom),
                };
                self.apply(out).await;
                let _ = reply.send(r);
            }
            Command::StreamData(id, chunk, reply) => {
                let mut out = Vec::new();
                let n = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) => p.stream_send(s, &id, &chunk, &mut out).await,
                    _ => 0,
                };
                self.apply(out).await;
                let _ = reply.send(if n > 0 {
                    Ok(())
                } else {
                    Err(RoomError::Peer(format!("no peer has stream {id}")))
                });
            }
            Command::StopStream(id, reply) => {
                let mut out = Vec::new();
                let n = match (self.peers.as_mut(), self.session.as_ref()) {
                    (Some(p), Some(s)) => p.stream_stop(s, &id, &mut out).await,
                    _ => 0,
                };
                self.apply(out).await;
                let _ = reply.send(if n > 0 {
                    Ok(())
                } else {
                    Err(RoomError::Peer(format!("no peer has stream {id}")))
                });
            }
            Command::Status(targets, reply) => {
                let v = self.connection_status(targets).await;
                let _ = reply.send(v);
            }
            Command::Connections(reply) => {
                let list = self
                    .peers
                    .as_ref()
                    .map(|p| {
                        p.peer_ids()
                            .into_iter()
                            .filter_map(|id| p.session(&id).map(|s| (id, s)))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = reply.send(list);
            }
        }
    }

    /// Runs a session call that needs a joined room and applies its outputs.
    async fn in_session(
        &mut self,
        f: impl FnOnce(&mut Session, std::time::Instant) -> Result<Vec<Output>, RoomError>,
    ) -> Result<(), RoomError> {
        let s = self
            .session
            .as_mut()
            .filter(|_| self.in_room)
            .ok_or(RoomError::NotInRoom)?;
        let out = f(s, std::time::Instant::now())?;
        self.apply(out).await;
        Ok(())
    }

    /// The `init()` request with its ready-state events.
    async fn fetch(&mut self, room: &str) -> Result<ApiSuccess, RoomError> {
        let rs = |ready_state, error| Event::ReadyStateChange {
            ready_state,
            error,
            room: room.to_owned(),
        };
        self.emit(rs(ReadyState::Init, None));
        self.emit(rs(ReadyState::Loading, None));
        match api::fetch_room(&self.opts, room).await {
            Ok(ok) => {
                self.emit(rs(ReadyState::Completed, None));
                Ok(ok)
            }
            Err(e) => {
                self.emit(rs(ReadyState::Error, Some(e.clone())));
                Err(RoomError::Init(e))
            }
        }
    }

    /// Leave (locally) + fresh init + socket + `joinRoom`; `inRoom` is awaited by the loop.
    async fn start_join(&mut self, room: &str) -> Result<(), RoomError> {
        self.leave().await;
        self.rejected = false;
        self.room = Some(room.to_owned());
        let api = self.fetch(room).await?;
        let (conn, ss) = self.open_socket(&api).await?;
        let sdp = join_sdp_settings(&self.opts.sdp_settings, &self.join_opts);
        let cfg = LocalConfig {
            app_key: self.opts.app_key.clone(),
            room: room.to_owned(),
            enable_ice_trickle: self.opts.enable_ice_trickle,
            enable_data_channel: self.opts.enable_data_channel,
            enable_ice_restart: self.opts.enable_ice_restart,
            priority_weight_scheme: self.opts.priority_weight_scheme,
            user_data: self.user_data.clone(),
            instance: self.opts.dt_extensions.then(|| self.instance.clone()),
            publish_only: self.join_opts.publish_only,
            parent_id: self.parent_id.clone(),
            receiving: receiving(&sdp),
        };
        let session = Session::new(cfg, &api);
        let mut peers = PeerSet::new(PeerLayerConfig {
            udp_addrs: self.opts.udp_addrs.clone(),
            sdp,
            dt_extensions: self.opts.dt_extensions,
            sink_factory: self.opts.media_sinks.clone(),
        });
        peers.set_orphans(std::mem::take(&mut self.orphans));
        self.peers = Some(peers);
        let _ = conn.tx.send(SocketOut::Send(session.join_room_json()));
        self.emit(Event::ChannelOpen {
            session: ss.clone(),
        });
        self.conn = Some(conn);
        self.socket_session = Some(ss);
        self.session = Some(session);
        self.publish_media();
        Ok(())
    }

    /// Closes the socket after removing everyone locally (`leaveRoom()`).
    async fn leave(&mut self) {
        let out = match self.session.as_mut() {
            Some(s) if self.in_room => s.leave(),
            _ => Vec::new(),
        };
        self.in_room = false;
        self.apply(out).await;
        self.session = None;
        self.close_peers().await;
        if let Some(c) = self.conn.take() {
            c.close().await;
            if let Some(ss) = self.socket_session.take() {
                self.emit(Event::ChannelClose { session: ss });
            }
        }
    }

    /// Walks the whole fallback chain (websocket, then long-polling instances) until a
    /// socket opens.
    async fn open_socket(
        &mut self,
        api: &ApiSuccess,
    ) -> Result<(Connection, SocketSession), RoomError> {
        let mut secure = self.opts.force_ssl;
        let mut host = api.ip_sigserver.clone();
        let mut ports = if secure {
            api.https_port_list.clone()
        } else {
            api.http_port_list.clone()
        }
        .unwrap_or_default();
        let mut fixed_url = None;
        match &self.opts.socket_server {
            Some(SocketServer::Custom {
                url,
                ports: p,
                protocol,
            }) => {
                host = url.clone();
                if !p.is_empty() {
                    ports = p.clone();
                }
                if let Some(proto) = protocol {
                    secure = proto == "https:";
                }
            }
            Some(SocketServer::Url(u)) => fixed_url = Some(websocket_url_from(u)),
            None => {}
        }
        let mut plan = FallbackPlan::new(ports, secure, fixed_url.is_some());
        let mut first_instance = true;
        let mut last_error = String::from("no socket instance");
        let mut last_fallback = SocketFallback::NonFallback;
        let mut last_transport = "WebSocket";
        // https/wss trust: webpki roots + `extra_root_certs` (a bad entry already failed init).
        let tls =
            crate::api::tls_client_config(&self.opts.extra_root_certs).map_err(|e| e.to_string());
        while let Some(inst) = plan.next_instance() {
            let polling = inst.transport == Transport::Polling;
            let ws_url = match &fixed_url {
                Some(u) => u.clone(),
                None => {
                    crate::eio::websocket_url(secure, &host, inst.port, Some(&now_ms().to_string()))
                }
            };
            let url = if polling {
                crate::polling::websocket_to_polling(&ws_url)
            } else {
                ws_url
            };
            last_transport = if polling { "Polling" } else { "WebSocket" };
            let mut ss = SocketSession {
                server_url: url.clone(),
                transport_type: last_transport.into(),
                attempts: 0,
                final_attempts: inst.final_attempts,
                fallback_type: inst.fallback,
            };
            last_fallback = inst.fallback;
            if !first_instance {
                self.emit(Event::SocketError {
                    error_code: SocketErrorCode::ReconnectionAttempt,
                    error: last_error.clone(),
                    r#type: inst.fallback,
                    session: ss.clone(),
                });
            }
            for attempt in 1..=inst.attempts {
                ss.attempts = attempt - 1;
                if attempt > 1 {
                    // The polling phase caps the back-off at 1000 ms (spec §2.3).
                    let max = if polling {
                        self.opts
                            .reconnection_delay_max
                            .min(std::time::Duration::from_millis(1000))
                    } else {
                        self.opts.reconnection_delay_max
                    };
                    let delay = reconnection_delay(
                        attempt - 1,
                        self.opts.reconnection_delay,
                        max,
                        rand::random::<f64>(),
                    );
                    tokio::time::sleep(delay).await;
                    self.emit(Event::ChannelRetry {
                        fallback_type: inst.fallback,
                        current_attempt: attempt - 1,
                        session: ss.clone(),
                    });
                }
                let result = match &tls {
                    Err(e) => Err(e.clone()),
                    Ok(tls) if polling => {
                        crate::polling::connect(&url, tls.clone(), self.opts.socket_timeout)
                            .await
                            .map_err(|e| e.to_string())
                    }
                    Ok(tls) => socket::connect(&url, tls.clone(), self.opts.socket_timeout)
                        .await
                        .map_err(|e| e.to_string()),
                };
                match result {
                    Ok(conn) => return Ok((conn, ss)),
                    Err(e) => {
                        tracing::debug!(%url, attempt, error = %e, "socket attempt failed");
                        last_error = e;
                    }
                }
            }
            self.emit(Event::SocketError {
                error_code: if first_instance {
                    SocketErrorCode::ConnectionFailed
                } else {
                    SocketErrorCode::ReconnectionFailed
                },
                error: last_error.clone(),
                r#type: inst.fallback,
                session: ss,
            });
            first_instance = false;
        }
        let ss = SocketSession {
            server_url: host,
            transport_type: last_transport.into(),
            attempts: 0,
            final_attempts: 0,
            fallback_type: last_fallback,
        };
        self.emit(Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAborted,
            error: last_error.clone(),
            r#type: last_fallback,
            session: ss,
        });
        Err(RoomError::Socket {
            code: SocketErrorCode::ReconnectionAborted,
            reason: last_error,
        })
    }

    async fn socket_event(&mut self, ev: Option<SocketIn>) {
        let Some(ss) = self.socket_session.clone() else {
            return;
        };
        match ev {
            Some(SocketIn::Message(text)) => {
                match serde_json::from_str::<Value>(&text) {
                    Ok(message) => self.emit(Event::ChannelMessage {
                        message,
                        session: ss,
                    }),
                    Err(e) => {
                        self.emit(Event::ChannelError {
                            error: format!("message is not JSON: {e}"),
                            session: ss,
                        });
                        return;
                    }
                }
                let out = match self.session.as_mut() {
                    Some(s) => s.handle_text(&text, std::time::Instant::now()),
                    None => Vec::new(),
                };
                self.apply(out).await;
            }
            Some(SocketIn::Error(error)) => self.emit(Event::ChannelError { error, session: ss }),
            Some(SocketIn::Closed { error }) => {
                tracing::debug!(?error, "socket closed by the peer or the network");
                self.dropped(ss).await;
            }
            None => self.dropped(ss).await,
        }
    }

    /// The socket ended without us asking.
    async fn dropped(&mut self, ss: SocketSession) {
        if let Some(c) = self.conn.take() {
            c.task.abort();
        }
        self.socket_session = None;
        self.emit(Event::ChannelClose { session: ss });
        if let Some(reply) = self.pending_join.take() {
            let _ = reply.send(Err(RoomError::ClosedBeforeJoin));
        }
        let was_in_room = self.in_room;
        self.in_room = false;
        let out = match self.session.as_mut() {
            Some(s) if was_in_room => s.disconnected(),
            _ => Vec::new(),
        };
        self.apply(out).await;
        self.session = None;
        self.close_peers().await;
        if !self.opts.auto_rejoin || self.room.is_none() || self.rejected {
            self.rejoining = 0;
        } else if was_in_room {
            // The first attempt starts right away (before any further command).
            self.rejoin = Some((1, Instant::now()));
            self.try_rejoin().await;
        } else if self.rejoining > 0 {
            // A rejoin whose socket died before `inRoom`: try again.
            let attempt = self.rejoining;
            self.rejoining = 0;
            self.schedule_rejoin(attempt);
        }
    }

    async fn try_rejoin(&mut self) {
        let Some((attempt, _)) = self.rejoin.take() else {
            return;
        };
        let Some(room) = self.room.clone() else {
            return;
        };
        tracing::info!(attempt, %room, "rejoining after a dropped socket");
        match self.start_join(&room).await {
            Ok(()) => self.rejoining = attempt,
            Err(e) => {
                tracing::warn!(attempt, error = %e, "rejoin failed");
                self.schedule_rejoin(attempt);
            }
        }
    }

    /// Schedules rejoin attempt `attempt + 1` after the back-off, if attempts remain.
    fn schedule_rejoin(&mut self, attempt: u32) {
        if attempt < self.opts.rejoin_attempts {
            let delay = reconnection_delay(
                attempt,
                self.opts.reconnection_delay,
                self.opts.reconnection_delay_max,
                rand::random::<f64>(),
            );
            self.rejoin = Some((attempt + 1, Instant::now() + delay));
        } else {
            tracing::warn!(attempt, "giving up rejoining");
        }
    }

    async fn apply(&mut self, out: Vec<Output>) {
        let mut close = false;
        let mut queue: std::collections::VecDeque<Output> = out.into();
        while let Some(o) = queue.pop_front() {
            match o {
                Output::Transmit(json) => {
                    if let Some(c) = &self.conn {
                        let _ = c.tx.send(SocketOut::Send(json));
                    }
                }
                Output::Emit(ev) => {
                    if matches!(&ev, Event::SystemAction { action, .. } if action == "reject") {
                        self.rejected = true;
                    }
                    self.emit(ev);
                }
                Output::Joined(id) => {
                    self.in_room = true;
                    self.rejoining = 0;
                    if let (Some(p), Some(s)) = (self.peers.as_mut(), self.session.as_ref()) {
                        let list = crate::ice::ice_servers(s.pc_config(), &self.opts.ice);
                        p.set_ice_servers(crate::ice::usable(list));
                    }
                    if let Some(r) = self.pending_join.take() {
                        let _ = r.send(Ok(id));
                    }
                }
                Output::Peer(cmd) => {
                    let mut more = Vec::new();
                    if let (Some(p), Some(s)) = (self.peers.as_mut(), self.session.as_mut()) {
                        p.command(s, cmd, &mut more).await;
                    }
                    for m in more.into_iter().rev() {
                        queue.push_front(m);
                    }
                }
                Output::Undecodable(error) => {
                    if let Some(ss) = self.socket_session.clone() {
                        self.emit(Event::ChannelError {
                            error: format!("undecodable message dropped: {error}"),
                            session: ss,
                        });
                    }
                }
                Output::JoinRejected { reason, info } => {
                    if let Some(r) = self.pending_join.take() {
                        let _ = r.send(Err(RoomError::Rejected { reason, info }));
                    }
                    close = true;
                }
            }
        }
        if close {
            // Rejected before `inRoom`: this socket is of no further use.
            self.session = None;
            self.close_peers().await;
            if let Some(c) = self.conn.take() {
                c.close().await;
                if let Some(ss) = self.socket_session.take() {
                    self.emit(Event::ChannelClose { session: ss });
                }
            }
        }
    }

    /// Closes every peer connection left (after the session removed its peers).
    async fn close_peers(&mut self) {
        if let Some(mut p) = self.peers.take() {
            let mut out = Vec::new();
            p.close_all(&mut out).await;
            self.orphans = p.take_orphans();
            for o in out {
                if let Output::Emit(ev) = o {
                    self.emit(ev);
                }
            }
        }
    }

    async fn send_p2p(
        &mut self,
        msg: Value,
        targets: Option<Vec<String>>,
    ) -> Result<(), RoomError> {
        let Some(s) = self.session.as_ref().filter(|_| self.in_room) else {
            return Err(RoomError::NotInRoom);
        };
        let own = s.self_id().unwrap_or_default().to_owned();
        let self_info = s.self_info();
        let Some(p) = self.peers.as_mut() else {
            return Err(RoomError::NotInRoom);
        };
        let is_private = targets.is_some();
        let list = targets.clone().unwrap_or_else(|| p.peer_ids());
        let mut out = Vec::new();
        let r = p.send_p2p(s, &msg, &list, is_private, &mut out).await;
        self.apply(out).await;
        let sent = r?;
        let target_peer_id = targets.map(|t| match t.as_slice() {
            [one] => Value::String(one.clone()),
            _ => Value::from(t),
        });
        self.emit(Event::IncomingMessage {
            message: crate::event::MessageInfo {
                content: msg,
                is_private,
                target_peer_id,
                is_data_channel: true,
                sender_peer_id: own.clone(),
                list_of_peers: Some(sent),
            },
            peer_id: own,
            peer_info: self_info,
            is_self: true,
        });
        Ok(())
    }

    async fn send_data(
        &mut self,
        payload: skylink_dt::transfer::Payload,
        targets: Option<Vec<String>>,
        opts: TransferOptions,
    ) -> Result<(String, Vec<String>), RoomError> {
        let mut out = Vec::new();
        let r = match (self.peers.as_mut(), self.session.as_ref()) {
            (Some(p), Some(s)) if self.in_room => {
                let list = targets.unwrap_or_else(|| p.connected_peers());
                p.send_payload(s, &list, payload, &opts, &mut out).await
            }
            _ => Err(RoomError::NotInRoom),
        };
        self.apply(out).await;
        r
    }

    async fn connection_status(&mut self, targets: Option<Vec<String>>) -> Value {
        let list = match (&targets, self.peers.as_ref()) {
            (Some(t), _) => t.clone(),
            (None, Some(p)) => p.peer_ids(),
            (None, None) => Vec::new(),
        };
        if list.is_empty() {
            return serde_json::json!({
                "listOfPeers": [],
                "retrievalErrors": {"self": "There is currently no peer connections to retrieve connection status"},
                "connectionStats": {},
            });
        }
        let mut stats = serde_json::Map::new();
        let mut errors = serde_json::Map::new();
        for peer in &list {
            self.emit(Event::GetConnectionStatusStateChange {
                state: 0,
                peer_id: peer.clone(),
                stats: None,
                error: None,
            });
            let r = match self.peers.as_mut() {
                Some(p) => p.connection_status(peer).await,
                None => Err("The peer connection object does not exists".to_owned()),
            };
            match r {
                Ok(v) => {
                    self.emit(Event::GetConnectionStatusStateChange {
                        state: 1,
                        peer_id: peer.clone(),
                        stats: Some(v.clone()),
                        error: None,
                    });
                    stats.insert(peer.clone(), v);
                }
                Err(e) => {
                    self.emit(Event::GetConnectionStatusStateChange {
                        state: -1,
                        peer_id: peer.clone(),
                        stats: None,
                        error: Some(e.clone()),
                    });
                    errors.insert(peer.clone(), Value::String(e));
                }
            }
        }
        let mut out = serde_json::json!({"listOfPeers": list, "connectionStats": stats});
        if !errors.is_empty() {
            out["retrievalErrors"] = Value::Object(errors);
        }
        out
    }

    async fn refresh(&mut self, targets: Option<Vec<String>>, ice_restart: bool) -> RefreshResult {
        let mut result = RefreshResult::default();
        let (Some(s), Some(p)) = (
            self.session.as_mut().filter(|_| self.in_room),
            self.peers.as_ref(),
        ) else {
            result.refresh_errors.insert(
                "self".into(),
                "There is currently no peer connections to restart".into(),
            );
            return result;
        };
        let list = targets.unwrap_or_else(|| p.peer_ids());
        if list.is_empty() {
            result.refresh_errors.insert(
                "self".into(),
                "There is currently no peer connections to restart".into(),
            );
            return result;
        }
        let now = std::time::Instant::now();
        let mut out = Vec::new();
        for peer in &list {
            result.list_of_peers.push(peer.clone());
            let Some(stable) = p.is_stable(peer) else {
                result.refresh_errors.insert(
                    peer.clone(),
                    "Peer connection with peer does not exists. Unable to restart".into(),
                );
                continue;
            };
            let sm = s
                .peer_info(peer)
                .map(|i| i.agent.sm_protocol_version.clone())
                .unwrap_or_default();
            if skylink_sm::version::skylinkjs_is_lower_than(&sm, "0.1.2") {
                result.refresh_errors.insert(
                    peer.clone(),
                    "Failed restarting with other agents connecting from other SDKs as re-negotiation is not supported by other SDKs".into(),
                );
                continue;
            }
            if !stable {
                result.refresh_errors.insert(
                    peer.clone(),
                    "Failed restarting as peer connection state is not stable".into(),
                );
                continue;
            }
            let remote_ok = s
                .peer_info(peer)
                .is_some_and(|i| i.config.enable_ice_restart);
            match s.restart(peer, ice_restart, now) {
                Ok(o) => {
                    out.extend(o);
                    result.refresh_settings.insert(
                        peer.clone(),
                        ice_restart && remote_ok && self.opts.enable_ice_restart,
                    );
                }
                Err(e) => {
                    result.refresh_errors.insert(peer.clone(), e.to_string());
                }
            }
        }
        self.apply(out).await;
        result
    }
}

/// A string `socketServer` as a websocket URL: `http(s)://` becomes `ws(s)://`, and the
/// socket.io path and EIO query are added when there is no path.
fn websocket_url_from(u: &str) -> String {
    let u = if let Some(rest) = u.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = u.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = u.strip_prefix("//") {
        format!("ws://{rest}")
    } else {
        u.to_owned()
    };
    let after_scheme = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
    if after_scheme.contains('/') {
        u
    } else {
        format!("{u}/socket.io/?EIO=3&transport=websocket")
    }
}

#[cfg(test)]
mod tests {
    use super::{JoinOptions, join_sdp_settings};

    #[test]
    fn join_sdp_settings_override_init_field_by_field() {
        let mut init = skylink_sdp::SdpSettings::default();
        init.google_x_bandwidth.min = Some(50.0);
        init.bandwidth.audio = Some(40.0);
        init.sdp_settings.direction.video.receive = false;
        // Only what the join gives changes; the rest stays init()'s.
        let join = JoinOptions {
            google_x_bandwidth: crate::GoogleXBandwidth {
                min: None,
                max: Some(500.0),
            },
            ..Default::default()
        };
        let st = join_sdp_settings(&init, &join);
        assert_eq!(st.google_x_bandwidth.min, Some(50.0));
        assert_eq!(st.google_x_bandwidth.max, Some(500.0));
        assert_eq!(st.bandwidth.audio, Some(40.0));
        assert!(!st.sdp_settings.direction.video.receive);
        // A join's sdpSettings replaces init()'s (unspecified flags are true, as in 0.6.26).
        let join = JoinOptions {
            sdp_settings: Some(crate::SdpConnectionSettings::default()),
            ..Default::default()
        };
        assert!(
            join_sdp_settings(&init, &join)
                .sdp_settings
                .direction
                .video
                .receive
        );
        // publishOnly wins over both.
        let join = JoinOptions {
            sdp_settings: Some(crate::SdpConnectionSettings::default()),
            publish_only: true,
            ..Default::default()
        };
        let st = join_sdp_settings(&init, &join);
        assert!(!st.sdp_settings.direction.audio.receive && st.sdp_settings.direction.audio.send);
    }
    use super::websocket_url_from;

    #[test]
    fn string_socket_server_urls() {
        assert_eq!(
            websocket_url_from("http://127.0.0.1:9"),
            "ws://127.0.0.1:9/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(
            websocket_url_from("wss://h/socket.io/?EIO=3&transport=websocket"),
            "wss://h/socket.io/?EIO=3&transport=websocket"
        );
    }
}
