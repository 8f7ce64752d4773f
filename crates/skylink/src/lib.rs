//! # skylink
//!
//! The public API of skylink-rs, mirroring the Temasys Skylink JavaScript SDK 0.6.26: the
//! reference's methods in snake_case ([`Skylink::init`], [`Skylink::join_room`],
//! [`Skylink::send_message`], …), its events as one [`Event`] enum with
//! [`Skylink::on`] / [`Skylink::once`] / [`Skylink::off`] and an async stream
//! ([`Skylink::events`]), its constants ([`constants`]) and its logging
//! (`setLogLevel`, `setDebugMode`, `SkylinkLogs`: [`logging`]).
//!
//! This crate is a thin layer over the engine, [`skylink_room::Client`].
//!
//! ```no_run
//! use skylink::{Event, EventName, InitOptions, JoinOptions, Skylink};
//!
//! # async fn demo() -> skylink::Result<()> {
//! let mut options = InitOptions::new("my-app-key");
//! options.room_server = "//127.0.0.1:8018".into(); // a local `skylink serve`
//! options.force_ssl = false;
//! let skylink = Skylink::new(options);
//!
//! skylink.on(EventName::PeerJoined, |event| {
//!     if let Event::PeerJoined { peer_id, peer_info, is_self } = event {
//!         println!("{peer_id} joined (self: {is_self}) with {}", peer_info.user_data);
//!     }
//! });
//! skylink.on(EventName::IncomingMessage, |event| {
//!     if let Event::IncomingMessage { message, peer_id, .. } = event {
//!         println!("{peer_id} says {}", message.content);
//!     }
//! });
//!
//! let my_id = skylink.join_room(Some("lobby"), JoinOptions::default()).await?;
//! skylink.send_message("hello everyone".into(), None).await?;
//! skylink.set_user_data(serde_json::json!({ "name": "Rusty" })).await?;
//! println!("joined as {my_id}; in the room: {}", skylink.get_peers_in_room().await?.len());
//! skylink.leave_room().await?;
//! # Ok(()) }
//! ```
//!
//! [`Skylink`]'s methods come in groups, each with an example: room (`init`, `join_room`,
//! `leave_room`, `lock_room`, `unlock_room`), messages and user data (`send_message`,
//! `set_user_data`, `get_user_data`), peers (`get_peers_in_room`, `get_peer_info`), events
//! (`on`, `once`, `off`, `events`) and logging (`set_log_level`, `set_debug_mode`, with
//! [`SkylinkLogs`]; install [`logging::layer()`] in your `tracing` subscriber).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod constants;
mod error;
pub mod events;
pub mod logging;

use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

pub use error::{Error, Result};
pub use events::{EventName, ListenerId, UnknownEventName};
pub use logging::{DebugMode, LogLevel, LogRecord, SkylinkLogs};
pub use skylink_room::event::{AgentInfo, CandidateInfo, CandidatesLength, PeerConfig};
pub use skylink_room::{
    Bandwidth, ChannelInfo, Client, Credentials, Event, GoogleXBandwidth, InitOptions, JoinOptions,
    MessageInfo, PeerInfo, ReadyStateError, RefreshResult, RoomError, RoomPeer,
    SdpConnectionSettings, SocketServer, SocketSession, TransferData, TransferOptions,
};

use events::Registry;

/// A Skylink client: the reference's `Skylink` object (cheap to clone; clones share the
/// connection, the listeners and the user data).
///
/// Create it inside a tokio runtime with [`Skylink::new`]. Its engine and dispatcher tasks
/// end when the last clone is dropped.
#[derive(Clone)]
pub struct Skylink {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    registry: Arc<Registry>,
    /// The last user data given to `set_user_data` / `join_room` (`""` at first, as in the
    /// reference).
    user_data: Mutex<Value>,
}

impl std::fmt::Debug for Skylink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Skylink").finish_non_exhaustive()
    }
}

/// # Room
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink) -> skylink::Result<()> {
/// use skylink::{JoinOptions, constants::SystemActionReason};
/// skylink.init().await?; // optional: join_room() does it for its room
/// match skylink.join_room(Some("room-a"), JoinOptions::default()).await {
///     Ok(peer_id) => println!("in room-a as {peer_id}"),
///     Err(e) if e.system_action_reason() == Some(SystemActionReason::RoomLocked) => {
///         println!("room-a is locked");
///     }
///     Err(e) => return Err(e),
/// }
/// skylink.lock_room().await?;
/// skylink.unlock_room().await?;
/// skylink.leave_room().await?;
/// # Ok(()) }
/// ```
impl Skylink {
    /// A client with these `init()` options (no I/O yet).
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns the engine and the event dispatcher).
    pub fn new(options: InitOptions) -> Skylink {
        let client = Client::new(options);
        let registry = Arc::new(Registry::default());
        // Subscribed before anything can happen, so listeners miss nothing.
        tokio::spawn(events::run_dispatcher(registry.clone(), client.subscribe()));
        Skylink {
            inner: Arc::new(Inner {
                client,
                registry,
                user_data: Mutex::new(Value::String(String::new())),
            }),
        }
    }

    /// The engine handle, for what the facade does not wrap.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// `init()`: the room-API request for the default room, reported with
    /// `readyStateChange` (`INIT`, `LOADING`, then `COMPLETED` or `ERROR`).
    ///
    /// # Errors
    /// [`Error::ready_state_error`] carries the `{status, content, errorCode}` of `ERROR`.
    pub async fn init(&self) -> Result<()> {
        Ok(self.inner.client.init().await?)
    }

    /// `joinRoom(room, options)`: leaves the current room, if any, then joins `room` (the
    /// default room when `None`). Resolves with our peer id once in the room.
    ///
    /// # Errors
    /// A failed `init()` ([`Error::ready_state_error`]), socket ([`Error::socket_error`]) or
    /// a server rejection ([`Error::system_action_reason`]).
    pub async fn join_room(&self, room: Option<&str>, options: JoinOptions) -> Result<String> {
        if let Some(d) = &options.user_data {
            *self.inner.user_data.lock() = d.clone();
        }
        Ok(self.inner.client.join_room(room, options).await?)
    }

    /// `leaveRoom()`: `peerLeft` for every peer and ourselves, then the socket closes.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn leave_room(&self) -> Result<()> {
        Ok(self.inner.client.leave_room().await?)
    }

    /// `lockRoom()`: no one else can join; `roomLock(true)` everywhere.
    ///
    /// # Errors
    /// When not in a room.
    pub async fn lock_room(&self) -> Result<()> {
        Ok(self.inner.client.lock_room().await?)
    }

    /// `unlockRoom()`: `roomLock(false)` everywhere.
    ///
    /// # Errors
    /// When not in a room.
    pub async fn unlock_room(&self) -> Result<()> {
        Ok(self.inner.client.unlock_room().await?)
    }
}

/// # Messages and user data
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink, peer_b: String) -> skylink::Result<()> {
/// use serde_json::json;
/// skylink.send_message(json!("to everyone"), None).await?;
/// skylink.send_message(json!({ "secret": 42 }), Some(vec![peer_b.clone()])).await?;
/// skylink.set_user_data(json!({ "name": "Alice" })).await?; // peerUpdated everywhere
/// assert_eq!(skylink.get_user_data(None).await?, json!({ "name": "Alice" }));
/// let theirs = skylink.get_user_data(Some(&peer_b)).await?;
/// # let _ = theirs; Ok(()) }
/// ```
impl Skylink {
    /// `sendMessage(message, targetPeerId)` over the signaling server: to everyone when
    /// `targets` is `None`, else privately to each target. Everyone, we included, gets
    /// `incomingMessage`.
    ///
    /// # Errors
    /// When not in a room.
    pub async fn send_message(&self, message: Value, targets: Option<Vec<String>>) -> Result<()> {
        Ok(self.inner.client.send_message(message, targets).await?)
    }

    /// `setUserData(userData)`: replaces our custom data; `peerUpdated` everywhere when in a
    /// room (kept for the next join otherwise).
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn set_user_data(&self, data: Value) -> Result<()> {
        *self.inner.user_data.lock() = data.clone();
        Ok(self.inner.client.set_user_data(data).await?)
    }

    /// `getUserData(peerId)`: the custom data of `peer_id`, or ours when `peer_id` is `None`
    /// or not in the room (as the reference does). Ours is the last value set, also outside
    /// a room.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn get_user_data(&self, peer_id: Option<&str>) -> Result<Value> {
        if let Some(id) = peer_id {
            let peers = self.inner.client.get_peers_in_room().await?;
            if let Some(p) = peers.into_iter().find(|p| p.peer_id == id && !p.is_self) {
                return Ok(p.peer_info.user_data);
            }
        }
        Ok(self.inner.user_data.lock().clone())
    }
}

/// # Peers
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink) -> skylink::Result<()> {
/// for peer in skylink.get_peers_in_room().await? {
///     println!("{} (self: {}) runs {}", peer.peer_id, peer.is_self, peer.peer_info.agent.name);
/// }
/// let me = skylink.get_peer_info(None).await?;
/// println!("I am in {}", me.room);
/// # Ok(()) }
/// ```
impl Skylink {
    /// `getPeersInRoom()`: us first, then every peer (empty outside a room).
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn get_peers_in_room(&self) -> Result<Vec<RoomPeer>> {
        Ok(self.inner.client.get_peers_in_room().await?)
    }

    /// `getPeerInfo(peerId)`: the session information of `peer_id`, or ours when `peer_id` is
    /// `None` or not in the room (as the reference does).
    ///
    /// # Errors
    /// [`RoomError::NotInRoom`] outside a room (there is no session information then).
    pub async fn get_peer_info(&self, peer_id: Option<&str>) -> Result<PeerInfo> {
        let peers = self.inner.client.get_peers_in_room().await?;
        let wanted = peer_id.and_then(|id| peers.iter().position(|p| p.peer_id == id));
        let found = wanted.or_else(|| peers.iter().position(|p| p.is_self));
        match found {
            Some(i) => Ok(peers
                .into_iter()
                .nth(i)
                .map(|p| p.peer_info)
                .unwrap_or_default()),
            None => Err(RoomError::NotInRoom.into()),
        }
    }

    /// Our peer id while in a room.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn peer_id(&self) -> Result<Option<String>> {
        Ok(self.inner.client.peer_id().await?)
    }
}

/// # Peer-to-peer: data channel messages, refresh, connection status
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink, peer_b: String) -> skylink::Result<()> {
/// use serde_json::json;
/// // Over the data channels (no server in the path): isDataChannel is true at the receiver.
/// skylink.send_p2p_message(json!("hi over WebRTC"), Some(vec![peer_b.clone()])).await?;
/// // Renegotiate with a new ICE session (peerRestart on both sides).
/// let refreshed = skylink.refresh_connection(Some(vec![peer_b.clone()]), true).await?;
/// assert!(refreshed.refresh_errors.is_empty());
/// // Transport statistics with per-second rates since the first call.
/// let status = skylink.get_connection_status(Some(vec![peer_b])).await?;
/// println!("{}", status["connectionStats"]);
/// # Ok(()) }
/// ```
impl Skylink {
    /// `sendP2PMessage(message, targetPeerId)`: a `MESSAGE` on the messaging data channel of
    /// each target (every connected peer when `targets` is `None`).
    ///
    /// # Errors
    /// Outside a room, or when a target's channel is not open (`dataChannelState`
    /// `sendMessageError` is raised too).
    pub async fn send_p2p_message(
        &self,
        message: Value,
        targets: Option<Vec<String>>,
    ) -> Result<()> {
        Ok(self.inner.client.send_p2p_message(message, targets).await?)
    }

    /// `getPeersDatachannels()`: the messaging channel of every peer with its state.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn get_peers_datachannels(&self) -> Result<Vec<skylink_room::ChannelInfo>> {
        Ok(self.inner.client.get_peers_datachannels().await?)
    }

    /// `refreshConnection(targetPeerId, iceRestart)`: renegotiates with each target (all when
    /// `None`); per-peer failures are in `refresh_errors`.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn refresh_connection(
        &self,
        targets: Option<Vec<String>>,
        ice_restart: bool,
    ) -> Result<skylink_room::RefreshResult> {
        Ok(self
            .inner
            .client
            .refresh_connection(targets, ice_restart)
            .await?)
    }

    /// `getConnectionStatus(targetPeerId)`: `{listOfPeers, connectionStats, retrievalErrors?}`
    /// with the reference's per-peer stats payload.
    ///
    /// # Errors
    /// Only when the engine has stopped.
    pub async fn get_connection_status(&self, targets: Option<Vec<String>>) -> Result<Value> {
        Ok(self.inner.client.get_connection_status(targets).await?)
    }
}

/// # File transfers and data streams
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink, peer_b: String) -> skylink::Result<()> {
/// use skylink::{Event, TransferData, TransferOptions};
/// let bytes = std::fs::read("report.pdf").expect("file");
/// let options = TransferOptions { name: Some("report.pdf".into()), ..Default::default() };
/// let (transfer_id, _peers) = skylink.send_blob_data(bytes, Some(vec![peer_b.clone()]), options).await?;
/// // The receiver answers its incomingDataRequest with accept_data_transfer(sender, id, true);
/// // progress arrives as dataTransferState events.
/// # let _ = transfer_id;
/// let stream = skylink.start_streaming_data(false, None).await?;
/// skylink.stream_data(&stream, TransferData::Bytes(vec![1, 2, 3].into())).await?;
/// skylink.stop_streaming_data(&stream).await?;
/// # Ok(()) }
/// ```
impl Skylink {
    /// `sendBlobData(data, timeout, targetPeerId)`: returns the transfer id and the peers it
    /// started for.
    ///
    /// # Errors
    /// Outside a room, or when no target could start.
    pub async fn send_blob_data(
        &self,
        data: impl Into<std::sync::Arc<[u8]>>,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>)> {
        Ok(self
            .inner
            .client
            .send_blob_data(data, targets, options)
            .await?)
    }

    /// `sendBlobData` of a file, streamed from disk chunk by chunk (never held in memory
    /// whole; see [`skylink_room::Client::send_blob_file`]).
    ///
    /// # Errors
    /// The file cannot be opened or read; else as [`Skylink::send_blob_data`].
    pub async fn send_blob_file(
        &self,
        path: impl AsRef<std::path::Path>,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>)> {
        Ok(self
            .inner
            .client
            .send_blob_file(path, targets, options)
            .await?)
    }

    /// `sendBlobData` of any async reader of `len` bytes ("any async reader — stream from
    /// disk, never buffer a whole large file"): the reader is spooled, hashed on the way,
    /// into an anonymous temporary file that is then sent chunk by chunk (see
    /// [`skylink_room::Client::send_blob_reader`]).
    ///
    /// ```no_run
    /// # async fn demo(skylink: skylink::Skylink) -> skylink::Result<()> {
    /// let file = tokio::fs::File::open("video.webm").await.expect("file");
    /// let len = file.metadata().await.expect("metadata").len();
    /// let (transfer_id, _peers) = skylink
    ///     .send_blob_reader(file, len, None, skylink::TransferOptions::default())
    ///     .await?;
    /// # let _ = transfer_id;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The reader fails or does not hold exactly `len` bytes
    /// ([`skylink_room::RoomError::ReaderLength`]); else as [`Skylink::send_blob_data`].
    pub async fn send_blob_reader<R>(
        &self,
        reader: R,
        len: u64,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>)>
    where
        R: tokio::io::AsyncRead + Unpin + Send + 'static,
    {
        Ok(self
            .inner
            .client
            .send_blob_reader(reader, len, targets, options)
            .await?)
    }

    /// `sendURLData(data, timeout, targetPeerId)`: a string transfer.
    ///
    /// # Errors
    /// As [`Skylink::send_blob_data`].
    pub async fn send_url_data(
        &self,
        data: &str,
        targets: Option<Vec<String>>,
        options: TransferOptions,
    ) -> Result<(String, Vec<String>)> {
        Ok(self
            .inner
            .client
            .send_url_data(data, targets, options)
            .await?)
    }

    /// `acceptDataTransfer(peerId, transferId, accept)`.
    ///
    /// # Errors
    /// Unknown peer or transfer.
    pub async fn accept_data_transfer(
        &self,
        peer_id: &str,
        transfer_id: &str,
        accept: bool,
    ) -> Result<()> {
        Ok(self
            .inner
            .client
            .accept_data_transfer(peer_id, transfer_id, accept)
            .await?)
    }

    /// `acceptDataTransfer(peerId, transferId, true)` for a blob download written to `path`
    /// as it arrives (through a temporary `.<name>.part`, renamed on completion; deleted on
    /// cancel or error), so a large download is never held in memory. The `incomingData`
    /// event then carries [`TransferData::File`] instead of the bytes (see
    /// [`skylink_room::Client::accept_data_transfer_to_file`]).
    ///
    /// # Errors
    /// Unknown peer or transfer, a string transfer, or the file cannot be created.
    pub async fn accept_data_transfer_to_file(
        &self,
        peer_id: &str,
        transfer_id: &str,
        path: impl AsRef<std::path::Path>,
    ) -> Result<()> {
        Ok(self
            .inner
            .client
            .accept_data_transfer_to_file(peer_id, transfer_id, path)
            .await?)
    }

    /// `cancelDataTransfer(peerId, transferId)`.
    ///
    /// # Errors
    /// Unknown peer or transfer.
    pub async fn cancel_data_transfer(&self, peer_id: &str, transfer_id: &str) -> Result<()> {
        Ok(self
            .inner
            .client
            .cancel_data_transfer(peer_id, transfer_id)
            .await?)
    }

    /// `startStreamingData(isStringStream, targetPeerId)`: the stream id.
    ///
    /// # Errors
    /// Outside a room, or when no peer can take a stream.
    pub async fn start_streaming_data(
        &self,
        is_string: bool,
        targets: Option<Vec<String>>,
    ) -> Result<String> {
        Ok(self
            .inner
            .client
            .start_streaming_data(is_string, targets)
            .await?)
    }

    /// `streamData(streamId, chunk)`.
    ///
    /// # Errors
    /// When no peer has that stream.
    pub async fn stream_data(&self, stream_id: &str, chunk: TransferData) -> Result<()> {
        Ok(self.inner.client.stream_data(stream_id, chunk).await?)
    }

    /// `stopStreamingData(streamId)`.
    ///
    /// # Errors
    /// When no peer has that stream.
    pub async fn stop_streaming_data(&self, stream_id: &str) -> Result<()> {
        Ok(self.inner.client.stop_streaming_data(stream_id).await?)
    }
}

/// # Audio and video
///
/// Media comes from [`InitOptions::media_devices`](skylink_room::InitOptions::media_devices)
/// (the Rust counterpart of a browser's camera, microphone and screen; `skylink-media` has
/// a test pattern, a tone, IVF/Ogg files, X11 screen capture and, behind features, V4L2
/// cameras and ALSA microphones). Received tracks go to
/// [`InitOptions::media_sinks`](skylink_room::InitOptions::media_sinks).
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink) -> skylink::Result<()> {
/// use serde_json::json;
/// // getUserMedia + renegotiation with every peer (mediaAccessSuccess, incomingStream):
/// let stream_id = skylink.send_stream(Some(json!({"audio": true, "video": true}))).await?;
/// skylink.disable_video().await?;          // streamMuted / localMediaMuted, black frames
/// skylink.enable_video().await?;
/// skylink.share_screen(false).await?;     // the screen replaces the camera on the wire
/// skylink.stop_screen().await?;
/// skylink.stop_stream().await?;           // streamEnded at every peer
/// # let _ = stream_id; Ok(()) }
/// ```
impl Skylink {
    /// `getUserMedia(options)`: opens and holds the camera stream (no renegotiation).
    /// `None` = `{audio: true, video: true}`. Returns the stream id.
    ///
    /// # Errors
    /// Invalid options (the reference's texts) or failing devices (`mediaAccessError`).
    pub async fn get_user_media(&self, options: Option<Value>) -> Result<String> {
        Ok(self.inner.client.get_user_media(options).await?)
    }

    /// `sendStream(options)`: `getUserMedia(options)`, then every connection is refreshed so
    /// peers receive the stream. Returns the stream id.
    ///
    /// # Errors
    /// Outside a room, invalid options, failing devices.
    pub async fn send_stream(&self, options: Option<Value>) -> Result<String> {
        Ok(self
            .inner
            .client
            .send_stream(skylink_room::StreamInput::Options(options))
            .await?)
    }

    /// `sendStream(stream)`: sends sources the application opened itself (e.g. an
    /// `IvfFileSource`) as the camera stream.
    ///
    /// # Errors
    /// Outside a room, or neither audio nor video given.
    pub async fn send_stream_sources(
        &self,
        sources: skylink_room::local_media::OpenedMedia,
    ) -> Result<String> {
        Ok(self
            .inner
            .client
            .send_stream(skylink_room::StreamInput::Sources(sources))
            .await?)
    }

    /// `shareScreen(enableAudio)`.
    ///
    /// # Errors
    /// The screen cannot be captured.
    pub async fn share_screen(&self, audio: bool) -> Result<String> {
        Ok(self.inner.client.share_screen(audio).await?)
    }

    /// `stopScreen()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn stop_screen(&self) -> Result<()> {
        Ok(self.inner.client.stop_screen().await?)
    }

    /// `stopStream()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn stop_stream(&self) -> Result<()> {
        Ok(self.inner.client.stop_stream().await?)
    }

    /// `muteStream({audioMuted, videoMuted})` — a missing value counts as `true`, as in
    /// the reference.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn mute_stream(
        &self,
        audio_muted: Option<bool>,
        video_muted: Option<bool>,
    ) -> Result<()> {
        Ok(self
            .inner
            .client
            .mute_stream(audio_muted, video_muted)
            .await?)
    }

    async fn set_mute(&self, audio: Option<bool>, video: Option<bool>) -> Result<()> {
        let (a, v) = self.inner.client.mute_state().await?;
        self.mute_stream(Some(audio.unwrap_or(a)), Some(video.unwrap_or(v)))
            .await
    }

    /// `enableAudio()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn enable_audio(&self) -> Result<()> {
        self.set_mute(Some(false), None).await
    }

    /// `disableAudio()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn disable_audio(&self) -> Result<()> {
        self.set_mute(Some(true), None).await
    }

    /// `enableVideo()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn enable_video(&self) -> Result<()> {
        self.set_mute(None, Some(false)).await
    }

    /// `disableVideo()`.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn disable_video(&self) -> Result<()> {
        self.set_mute(None, Some(true)).await
    }

    /// Counters of every media track received in this session.
    ///
    /// # Errors
    /// Only when the engine is gone.
    pub async fn remote_tracks(&self) -> Result<Vec<skylink_room::peer_media::RemoteTrackStats>> {
        Ok(self.inner.client.remote_tracks().await?)
    }
}

/// # Privileged peers
///
/// An App Key flagged privileged may list the peers of every room of the key and introduce
/// peers to each other (`getPeersStateChange`, `introduceStateChange`).
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink) -> skylink::Result<()> {
/// skylink.get_peers(true).await?; // the list arrives as getPeersStateChange("received")
/// skylink.introduce_peer("peer-a", "peer-b").await?;
/// # Ok(()) }
/// ```
impl Skylink {
    /// `getPeers(showAll)`.
    ///
    /// # Errors
    /// Outside a room.
    pub async fn get_peers(&self, show_all: bool) -> Result<()> {
        Ok(self.inner.client.get_peers(show_all).await?)
    }

    /// `introducePeer(sendingPeerId, receivingPeerId)`.
    ///
    /// # Errors
    /// Outside a room.
    pub async fn introduce_peer(&self, sending: &str, receiving: &str) -> Result<()> {
        Ok(self.inner.client.introduce_peer(sending, receiving).await?)
    }
}

/// # Events
///
/// ```no_run
/// # async fn demo(skylink: skylink::Skylink) {
/// use futures_util::StreamExt;
/// use skylink::{Event, EventName};
///
/// // Every time.
/// let id = skylink.on(EventName::PeerLeft, |e| println!("{e:?}"));
/// // Once, the first time a peer other than us joins.
/// skylink.once(
///     EventName::PeerJoined,
///     |e| matches!(e, Event::PeerJoined { is_self: false, .. }),
///     |e| println!("first peer: {e:?}"),
///     false,
/// );
/// // Every time the room gets locked.
/// skylink.once(
///     EventName::RoomLock,
///     |e| matches!(e, Event::RoomLock { is_locked: true, .. }),
///     |_| println!("locked"),
///     true,
/// );
/// skylink.off(EventName::PeerLeft, Some(id));
///
/// // Or as a stream.
/// let mut events = Box::pin(skylink.events());
/// while let Some(event) = events.next().await {
///     println!("{}: {event:?}", event.name());
/// }
/// # }
/// ```
impl Skylink {
    /// `on(eventName, callback)`: calls `handler` for every `name` event.
    ///
    /// Listeners run one at a time on the client's dispatcher task, in event order; keep them
    /// short (hand work to a channel or a task).
    pub fn on(
        &self,
        name: EventName,
        handler: impl Fn(&Event) + Send + Sync + 'static,
    ) -> ListenerId {
        self.inner.registry.on(name, Arc::new(handler))
    }

    /// `once(eventName, callback, condition, fireAlways)`: for each `name` event, `condition`
    /// is asked; the first time it returns `true`, `handler` runs and the listener is removed.
    /// With `fire_always`, it stays: `handler` runs every time `condition` holds. Pass
    /// `|_| true` for the reference's default condition.
    pub fn once(
        &self,
        name: EventName,
        condition: impl Fn(&Event) -> bool + Send + Sync + 'static,
        handler: impl Fn(&Event) + Send + Sync + 'static,
        fire_always: bool,
    ) -> ListenerId {
        self.inner
            .registry
            .once(name, Arc::new(condition), Arc::new(handler), fire_always)
    }

    /// `off(eventName, callback)`: removes listener `id` of `name` (`on` or `once`), or every
    /// listener of `name` when `id` is `None`. Returns how many were removed.
    pub fn off(&self, name: EventName, id: Option<ListenerId>) -> usize {
        self.inner.registry.off(name, id)
    }

    /// `off()`: removes every listener of every event. Returns how many were removed.
    pub fn off_all(&self) -> usize {
        self.inner.registry.off_all()
    }

    /// How many listeners `name` has.
    pub fn listener_count(&self, name: EventName) -> usize {
        self.inner.registry.count(name)
    }

    /// Every event raised from now on, as an async stream (independent of the listeners). It
    /// ends when the engine stops; a consumer more than [`skylink_room::EVENT_CAPACITY`]
    /// events behind skips the oldest.
    pub fn events(&self) -> impl futures_util::Stream<Item = Event> + Send + 'static {
        self.inner.client.events()
    }
}

/// # Logging
///
/// The settings are process-wide; install [`logging::layer()`] in the application's
/// `tracing` subscriber (see [`logging`]).
///
/// ```no_run
/// # fn demo(skylink: skylink::Skylink) {
/// use skylink::{DebugMode, LogLevel, SkylinkLogs};
/// skylink.set_log_level(LogLevel::Debug);
/// skylink.set_debug_mode(DebugMode { store_logs: true, trace: false });
/// // …
/// SkylinkLogs::print_all_logs();
/// # }
/// ```
impl Skylink {
    /// `setLogLevel(logLevel)`; see [`logging::set_log_level`].
    pub fn set_log_level(&self, level: LogLevel) {
        logging::set_log_level(level);
    }

    /// `setDebugMode(options)` (`true`/`false` or a [`DebugMode`]); see
    /// [`logging::set_debug_mode`].
    pub fn set_debug_mode(&self, mode: impl Into<DebugMode>) {
        logging::set_debug_mode(mode);
    }
}
