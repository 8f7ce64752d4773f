//! Transfer sessions (§3): [`Upload`] and [`Download`] state machines, one per (transfer, peer).
//!
//! Both are sans-IO: every input returns the [`Action`]s to perform (frames to send on the
//! session's channel, events to raise, closing the DATA channel), and
//! [`Upload::poll_timeout`]/[`Download::poll_timeout`] give the next deadline to feed back into
//! `handle_timeout` with an explicit [`Instant`].

use crate::chunk::{
    ChunkEncoding, ChunkPlan, Flavor, decode_base64_chunk_into, encode_base64_chunk, utf16_len,
};
use crate::error::DtError;
use crate::ext::{Digester, EXT_KEY, ExtAnswer, ExtConfig, ExtOffer, digest_hex};
use crate::message::{
    Ack, Cancel, ErrorMsg, Message, OutFrame, Target, Wrq, WrqKind, WrqLayout, timeout_error_text,
};
use crate::sink::ChunkSink;
use crate::source::SharedSource;
use crate::version::{Dialect, StringTransferType, Vocabulary};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default timeout in seconds.
pub const DEFAULT_TIMEOUT_SECS: f64 = 60.0;
/// What a timed-out session sends on the **messaging** channel (§6.4 "team decision"):
/// JS 0.6.16–0.6.26 mishandle ERROR there (a JS downloader then stays bound and auto-rejects
/// later WRQs, quirk Q6); a CANCEL carrying the timeout text makes an accepted JS download
/// clean up (it raises `cancel` instead of `error`). DATA channels always get ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeoutNotice {
    /// Send ERROR (faithful to the reference).
    #[default]
    Error,
    /// Send CANCEL with the timeout text as `content`.
    Cancel,
}

/// Our default `agent` in WRQs.
pub const DEFAULT_AGENT: &str = "rust";

/// Error message of a rejected upload.
pub const MSG_REJECTED: &str =
    "Data transfer terminated as Peer has rejected data transfer request";
/// Error message of a user-rejected download.
pub const MSG_USER_REJECTED: &str =
    "Data transfer terminated as User has rejected data transfer request.";
/// Message of a locally cancelled transfer (JS uses "download" for both sides).
pub const MSG_USER_CANCELLED: &str = "User cancelled download transfer";
/// Default message of a received CANCEL without content.
pub const MSG_PEER_TERMINATED: &str = "Peer has terminated data transfer.";
/// Message when the transfer's channel closes early.
pub const MSG_CLOSED_ABRUPTLY: &str =
    "Data transfer terminated as Peer Datachannel connection closed abruptly.";

/// `DATA_TRANSFER_STATE` (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataTransferState {
    /// `userRequest`: our WRQ was sent.
    UserUploadRequest,
    /// `request`: a WRQ arrived.
    UploadRequest,
    /// `uploadStarted`: ACK 0 received.
    UploadStarted,
    /// `downloadStarted`: ACK 0 sent.
    DownloadStarted,
    /// `uploading`: a chunk was sent.
    Uploading,
    /// `downloading`: a non-final chunk was stored.
    Downloading,
    /// `uploadCompleted` (terminal).
    UploadCompleted,
    /// `downloadCompleted` (terminal).
    DownloadCompleted,
    /// `rejected` (terminal, uploader).
    Rejected,
    /// `userRejected` (terminal, downloader).
    UserRejected,
    /// `cancel` (terminal).
    Cancel,
    /// `error` (terminal).
    Error,
    /// `startError` (defined, never emitted for transfers).
    StartError,
}

impl DataTransferState {
    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        use DataTransferState::*;
        match self {
            UserUploadRequest => "userRequest",
            UploadRequest => "request",
            UploadStarted => "uploadStarted",
            DownloadStarted => "downloadStarted",
            Uploading => "uploading",
            Downloading => "downloading",
            UploadCompleted => "uploadCompleted",
            DownloadCompleted => "downloadCompleted",
            Rejected => "rejected",
            UserRejected => "userRejected",
            Cancel => "cancel",
            Error => "error",
            StartError => "startError",
        }
    }
}

/// `DATA_TRANSFER_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferDirection {
    /// `upload`.
    Upload,
    /// `download`.
    Download,
}

impl TransferDirection {
    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferDirection::Upload => "upload",
            TransferDirection::Download => "download",
        }
    }
}

/// `DATA_TRANSFER_SESSION_TYPE` (`transferInfo.dataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionType {
    /// `blob`.
    Blob,
    /// `dataURL`.
    DataUrl,
}

impl SessionType {
    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Blob => "blob",
            SessionType::DataUrl => "dataURL",
        }
    }
}

/// `DATA_TRANSFER_DATA_TYPE` (`transferInfo.chunkType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkLabel {
    /// `binaryString` (base64 text).
    BinaryString,
    /// `arrayBuffer` (binary frames).
    ArrayBuffer,
    /// `blob` (binary frames, Firefox label).
    Blob,
    /// `string` (string transfers).
    String,
}

impl ChunkLabel {
    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkLabel::BinaryString => "binaryString",
            ChunkLabel::ArrayBuffer => "arrayBuffer",
            ChunkLabel::Blob => "blob",
            ChunkLabel::String => "string",
        }
    }
}

/// Which kind of channel a session is bound to (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// The peer's messaging channel (stays open; only the binding is released).
    Messaging,
    /// A per-transfer DATA channel (closed when the session ends).
    Data,
}

/// `transferInfo` (§3.10).
#[derive(Debug, Clone, PartialEq)]
pub struct TransferInfo {
    /// Transfer name.
    pub name: String,
    /// Displayed size (bytes of a blob, UTF-16 length of a string).
    pub size: u64,
    /// `blob` / `dataURL`.
    pub data_type: SessionType,
    /// MIME type.
    pub mime_type: Option<String>,
    /// Chunk size in wire units.
    pub chunk_size: u64,
    /// Chunk type label.
    pub chunk_type: ChunkLabel,
    /// Timeout in seconds.
    pub timeout: f64,
    /// `isPrivate`.
    pub is_private: bool,
    /// Direction.
    pub direction: TransferDirection,
    /// Percentage (2 decimals).
    pub percentage: f64,
}

/// Transfer payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Bytes (sendBlobData).
    Blob {
        /// The bytes.
        data: Arc<[u8]>,
        /// MIME type.
        mime_type: Option<String>,
    },
    /// A string (sendURLData).
    Text(Arc<str>),
    /// Bytes read chunk by chunk from a [`ChunkSource`](crate::source::ChunkSource) (a file):
    /// on the wire exactly like [`Payload::Blob`], but never held in memory whole. The
    /// uploader's own `incomingData` / `uploadStarted` events carry the source itself.
    Source {
        /// The bytes.
        source: SharedSource,
        /// MIME type.
        mime_type: Option<String>,
    },
    /// A download written through to a [`ChunkSink`] (a file; see
    /// [`Download::accept_into`]): only in the downloader's completion events, which do not
    /// hold the bytes. Never an upload payload.
    Stored {
        /// Bytes written.
        len: u64,
        /// MIME type.
        mime_type: Option<String>,
        /// The sink's [`path`](crate::sink::ChunkSink::path), if it has one.
        path: Option<std::path::PathBuf>,
    },
}

impl Payload {
    /// A blob payload.
    pub fn blob(data: impl Into<Arc<[u8]>>, mime_type: Option<&str>) -> Payload {
        Payload::Blob {
            data: data.into(),
            mime_type: mime_type.map(str::to_owned),
        }
    }

    /// A blob payload read chunk by chunk from `source`.
    pub fn source(source: SharedSource, mime_type: Option<&str>) -> Payload {
        Payload::Source {
            source,
            mime_type: mime_type.map(str::to_owned),
        }
    }

    /// The bytes of an in-memory blob payload.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Payload::Blob { data, .. } => Some(data),
            Payload::Text(_) | Payload::Source { .. } | Payload::Stored { .. } => None,
        }
    }

    /// The text of a string payload.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Payload::Text(t) => Some(t),
            Payload::Blob { .. } | Payload::Source { .. } | Payload::Stored { .. } => None,
        }
    }

    /// Size in bytes (UTF-8 bytes of a string).
    pub fn len(&self) -> u64 {
        match self {
            Payload::Blob { data, .. } => data.len() as u64,
            Payload::Text(t) => t.len() as u64,
            Payload::Source { source, .. } => source.len(),
            Payload::Stored { len, .. } => *len,
        }
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `error` argument of a terminal `dataTransferState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// Message.
    pub message: String,
    /// `transferType` (JS quirk Q4: timeouts always say `download`).
    pub transfer_type: TransferDirection,
}

/// Events raised by sessions (API parity with the reference's events).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `incomingDataRequest(transferId, peerId, transferInfo, isSelf)`.
    IncomingDataRequest {
        /// Transfer id.
        transfer_id: String,
        /// Peer (uploader) id.
        peer_id: String,
        /// Transfer info.
        info: TransferInfo,
        /// True on the uploader.
        is_self: bool,
    },
    /// `dataTransferState(state, transferId, peerId, transferInfo, error)`.
    DataTransferState {
        /// State.
        state: DataTransferState,
        /// Transfer id.
        transfer_id: String,
        /// Peer id.
        peer_id: String,
        /// Transfer info.
        info: TransferInfo,
        /// `transferInfo.data` where the reference sets it.
        data: Option<Payload>,
        /// Error for terminal failure states.
        error: Option<EventError>,
    },
    /// `incomingData(data, transferId, peerId, transferInfo, isSelf)`.
    IncomingData {
        /// The payload.
        data: Payload,
        /// Transfer id.
        transfer_id: String,
        /// Peer id.
        peer_id: String,
        /// Transfer info.
        info: TransferInfo,
        /// True on the uploader.
        is_self: bool,
    },
}

impl Event {
    /// The state of a `DataTransferState` event.
    pub fn state(&self) -> Option<DataTransferState> {
        match self {
            Event::DataTransferState { state, .. } => Some(*state),
            _ => None,
        }
    }
}

/// What the engine must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a frame on the session's channel.
    Send(OutFrame),
    /// Raise an event.
    Event(Event),
    /// Close the session's DATA channel (never emitted for the messaging channel).
    CloseChannel,
}

/// What the remote JS peer is likely to keep after a terminal state on the messaging channel
/// (§3.13, quirks Q5/Q6). Our own side always releases its binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residual {
    /// Nothing expected to linger.
    None,
    /// A JS downloader keeps its session (we cancelled before it accepted, or sent ERROR):
    /// it will auto-reject (`ACK -1`) our next WRQs on the messaging channel. Prefer a DATA
    /// channel towards this peer.
    RemoteDownloaderStuck,
    /// A JS uploader keeps its messaging-channel binding (we rejected, cancelled or failed
    /// its upload): it refuses to upload to us over that channel until a transfer it
    /// downloads there completes.
    RemoteUploaderBlocked,
}

/// Terminal outcome of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Completed.
    Completed,
    /// Rejected (uploader) / user-rejected (downloader).
    Rejected,
    /// Cancelled by either side.
    Cancelled,
    /// Error (timeout, received ERROR, protocol violation, channel loss).
    Failed,
}

fn round2(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.2}").parse().unwrap_or(x)
}

fn timeout_frame(
    text: &str,
    is_upload: bool,
    local_id: &str,
    name: &str,
    channel: ChannelKind,
    notice: TimeoutNotice,
) -> OutFrame {
    if channel == ChannelKind::Messaging && notice == TimeoutNotice::Cancel {
        let mut c = Cancel::new(local_id, Some(name));
        c.content = Some(text.to_owned());
        Message::Cancel(c).to_frame()
    } else {
        Message::Error(ErrorMsg::new(text, is_upload, local_id, Some(name))).to_frame()
    }
}

fn duration(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(60))
}

/// `now + secs`, saturating: a huge timeout (e.g. from a hostile WRQ) means "no deadline"
/// rather than an `Instant` overflow panic.
fn deadline_after(now: Instant, secs: f64) -> Option<Instant> {
    now.checked_add(duration(secs))
}

fn state_event(
    state: DataTransferState,
    transfer_id: &str,
    peer_id: &str,
    info: &TransferInfo,
    percentage: f64,
    data: Option<Payload>,
    error: Option<EventError>,
) -> Action {
    Action::Event(Event::DataTransferState {
        state,
        transfer_id: transfer_id.to_owned(),
        peer_id: peer_id.to_owned(),
        info: TransferInfo {
            percentage,
            ..info.clone()
        },
        data,
        error,
    })
}

// ======================= Upload =======================

/// Parameters of one upload session.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadConfig {
    /// Transfer id (`<ownId>_<epoch ms>`, unique per peer connection).
    pub transfer_id: String,
    /// Our peer id (WRQ `sender`, CANCEL/ERROR `sender`).
    pub local_id: String,
    /// The target peer id.
    pub peer_id: String,
    /// File name (`None`: the transfer id for blobs, `null`/transfer id for strings per vocabulary).
    pub name: Option<String>,
    /// Timeout in seconds (finite, > 0).
    pub timeout_secs: f64,
    /// WRQ `agent`.
    pub agent: String,
    /// WRQ `version`.
    pub version: Value,
    /// WRQ `target` (default: the peer id).
    pub target: Option<Target>,
    /// Channel the session runs on.
    pub channel: ChannelKind,
    /// WRQ vocabulary.
    pub vocabulary: Vocabulary,
    /// Send blob chunks as binary frames (else base64 text).
    pub binary: bool,
    /// `dataType` of string transfers.
    pub string_type: Option<StringTransferType>,
    /// Chunk sizes.
    pub flavor: Flavor,
    /// Offer the skylink-rs extensions ([`crate::ext`]); only for our own peers.
    pub ext: Option<ExtConfig>,
    /// Frame sent on a messaging-channel timeout.
    pub timeout_notice: TimeoutNotice,
}

impl UploadConfig {
    /// Defaults for a transfer to `peer_id`, adapted to the peer's [`Dialect`]: DATA channel or
    /// messaging channel, vocabulary, base64 fallback when binary chunks are not supported.
    pub fn new(
        transfer_id: &str,
        local_id: &str,
        peer_id: &str,
        dialect: &Dialect,
        want_binary: bool,
    ) -> UploadConfig {
        UploadConfig {
            transfer_id: transfer_id.into(),
            local_id: local_id.into(),
            peer_id: peer_id.into(),
            name: None,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            agent: DEFAULT_AGENT.into(),
            version: Value::from(crate::AGENT_VERSION),
            target: None,
            channel: if dialect.use_data_channel {
                ChannelKind::Data
            } else {
                ChannelKind::Messaging
            },
            vocabulary: dialect.vocabulary,
            binary: want_binary && dialect.binary_chunks,
            string_type: dialect.string_transfers,
            flavor: Flavor::Chromium,
            ext: dialect.extensions.then(ExtConfig::default),
            timeout_notice: TimeoutNotice::Error,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UpState {
    Opening,
    Requested,
    Resuming,
    Sending,
    Suspended,
    Done(Outcome),
}

/// One upload session (uploader side of §3.2 / §3.14 for one target peer).
#[derive(Debug, Clone)]
pub struct Upload {
    cfg: UploadConfig,
    payload: Payload,
    plan: ChunkPlan,
    info: TransferInfo,
    state: UpState,
    deadline: Option<Instant>,
    residual: Residual,
    offer: Option<ExtOffer>,
    window: u32,
    resume_ok: bool,
    /// The downloader answered the extension offer.
    ext_on: bool,
    /// Running SHA-1 of the chunks read so far and how many chunks it covers, when the offer
    /// left the digest for later (see [`crate::ext`]).
    hasher: Option<(Digester, usize)>,
    /// That digest once the last chunk was read.
    digest: Option<String>,
    acked: usize,
    next_send: usize,
}

impl Upload {
    /// Prepare an upload. Fails for empty payloads, invalid timeouts, string transfers the
    /// peer cannot receive, and strings that cannot be chunked safely for JS receivers.
    pub fn new(cfg: UploadConfig, payload: Payload) -> Result<Upload, DtError> {
        if !(cfg.timeout_secs.is_finite() && cfg.timeout_secs > 0.0) {
            return Err(DtError::InvalidTimeout(cfg.timeout_secs));
        }
        let (plan, size, data_type, mime, label) = match &payload {
            Payload::Stored { .. } => {
                return Err(DtError::InvalidState(
                    "a stored download is not an upload payload",
                ));
            }
            Payload::Blob { mime_type, .. } | Payload::Source { mime_type, .. } => {
                let len = payload.len();
                if len == 0 {
                    return Err(DtError::EmptyPayload);
                }
                let len = usize::try_from(len).map_err(|_| DtError::TooLarge(usize::MAX as u64))?;
                let enc = if cfg.binary {
                    ChunkEncoding::Binary
                } else {
                    ChunkEncoding::Base64
                };
                let label = if cfg.binary {
                    ChunkLabel::ArrayBuffer
                } else {
                    ChunkLabel::BinaryString
                };
                let plan = ChunkPlan::blob(len, enc, cfg.flavor);
                (
                    plan,
                    len as u64,
                    SessionType::Blob,
                    mime_type.clone(),
                    label,
                )
            }
            Payload::Text(t) => {
                if t.is_empty() {
                    return Err(DtError::EmptyPayload);
                }
                if cfg.string_type.is_none() {
                    return Err(DtError::Unsupported("string (data URL) transfers"));
                }
                let plan = ChunkPlan::string(t, crate::chunk::CHUNK_DATAURL_SIZE)?;
                (
                    plan,
                    utf16_len(t),
                    SessionType::DataUrl,
                    None,
                    ChunkLabel::String,
                )
            }
        };
        let info = TransferInfo {
            name: cfg.name.clone().unwrap_or_else(|| cfg.transfer_id.clone()),
            size,
            data_type,
            mime_type: mime,
            chunk_size: plan.chunk_size(),
            chunk_type: label,
            timeout: cfg.timeout_secs,
            is_private: false,
            direction: TransferDirection::Upload,
            percentage: 0.0,
        };
        let offer = cfg.ext.map(|e| ExtOffer {
            window: e.max_window.clamp(1, crate::ext::MAX_WINDOW),
            resume: e.resume,
            // Strings are small and chunked by UTF-16 units: hashed here. Blobs and sources
            // are hashed chunk by chunk as they are sent (no pass before the WRQ) unless the
            // digest is already known.
            digest: match &payload {
                Payload::Text(t) => Some(digest_hex(t.as_bytes())),
                Payload::Source { source, .. } => source.known_digest(),
                Payload::Blob { .. } | Payload::Stored { .. } => None,
            },
        });
        let hasher = offer
            .as_ref()
            .filter(|o| o.digest.is_none())
            .map(|_| (Digester::new(), 0));
        Ok(Upload {
            cfg,
            payload,
            plan,
            info,
            state: UpState::Opening,
            deadline: None,
            residual: Residual::None,
            offer,
            window: 1,
            resume_ok: false,
            ext_on: false,
            hasher,
            digest: None,
            acked: 0,
            next_send: 0,
        })
    }

    /// The WRQ this session sends (§2.3, all 15 fields in order).
    pub fn wrq(&self) -> Wrq {
        let c = &self.cfg;
        let v013 = c.vocabulary == Vocabulary::V013;
        let (data_type, chunk_type, name) = match self.plan.encoding() {
            ChunkEncoding::Base64 => (
                "blob",
                if v013 { "string" } else { "binaryString" },
                Some(c.name.clone().unwrap_or_else(|| c.transfer_id.clone())),
            ),
            ChunkEncoding::Binary => (
                "blob",
                match (v013, c.flavor) {
                    (true, _) => "binary",
                    (false, Flavor::Firefox) => "blob",
                    (false, Flavor::Chromium) => "arrayBuffer",
                },
                Some(c.name.clone().unwrap_or_else(|| c.transfer_id.clone())),
            ),
            ChunkEncoding::String => {
                let dt = match c.string_type {
                    Some(StringTransferType::DataUrl) => "dataURL",
                    _ => "data",
                };
                let name = if v013 {
                    c.name.clone()
                } else {
                    Some(c.name.clone().unwrap_or_else(|| c.transfer_id.clone()))
                };
                (dt, "string", name)
            }
        };
        Wrq {
            layout: WrqLayout::Current,
            transfer_id: Some(c.transfer_id.clone()),
            name,
            size: Some(self.plan.wire_size()),
            original_size: Some(self.info.size),
            data_type: Some(data_type.into()),
            mime_type: self.info.mime_type.clone(),
            chunk_type: Some(chunk_type.into()),
            chunk_size: Some(self.plan.chunk_size()),
            timeout: Some(c.timeout_secs),
            is_private: Some(false),
            sender: Some(c.local_id.clone()),
            agent: Some(c.agent.clone()),
            version: Some(c.version.clone()),
            target: Some(
                c.target
                    .clone()
                    .unwrap_or_else(|| Target::Peer(c.peer_id.clone())),
            ),
            extra: match &self.offer {
                Some(o) => [(EXT_KEY.to_owned(), o.to_value())].into_iter().collect(),
                None => Map::new(),
            },
        }
    }

    /// The negotiated pipeline window (1 = stop-and-wait, the reference protocol).
    pub fn window(&self) -> u32 {
        self.window
    }

    /// True while waiting (after channel loss) to be resumed with [`Upload::resume`].
    pub fn is_suspended(&self) -> bool {
        self.state == UpState::Suspended
    }

    /// The session's configuration.
    pub fn config(&self) -> &UploadConfig {
        &self.cfg
    }

    /// Number of chunks K.
    pub fn chunk_count(&self) -> usize {
        self.plan.len()
    }

    /// Local transfer info (percentage 0).
    pub fn info(&self) -> &TransferInfo {
        &self.info
    }

    /// Terminal outcome, if reached.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.state {
            UpState::Done(o) => Some(o),
            _ => None,
        }
    }

    /// True once terminal (the channel binding is then free on our side).
    pub fn is_terminal(&self) -> bool {
        self.outcome().is_some()
    }

    /// What the remote JS peer may keep bound after our terminal state.
    pub fn residual(&self) -> Residual {
        self.residual
    }

    /// Next timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Encode chunk `i` as a frame (`None` past the end or when a source read fails).
    pub fn chunk_frame(&self, i: usize) -> Option<OutFrame> {
        self.read_chunk(i).ok().flatten()
    }

    /// Encode chunk `i`, reading it from the payload's source if it has one.
    fn read_chunk(&self, i: usize) -> Result<Option<OutFrame>, DtError> {
        self.read_chunk_with(i, |_| {})
    }

    /// [`Upload::read_chunk`], showing the chunk's payload bytes to `seen` (blobs and sources).
    fn read_chunk_with(
        &self,
        i: usize,
        mut seen: impl FnMut(&[u8]),
    ) -> Result<Option<OutFrame>, DtError> {
        let Some(r) = self.plan.range(i) else {
            return Ok(None);
        };
        let binary = self.plan.encoding() == ChunkEncoding::Binary;
        let encode = |raw: &[u8]| {
            if binary {
                OutFrame::Binary(raw.to_vec())
            } else {
                OutFrame::Text(encode_base64_chunk(raw))
            }
        };
        Ok(Some(match &self.payload {
            Payload::Blob { data, .. } => {
                seen(&data[r.clone()]);
                encode(&data[r])
            }
            Payload::Text(t) => OutFrame::Text(t[r].to_owned()),
            Payload::Stored { .. } => return Ok(None),
            Payload::Source { source, .. } => {
                let bytes = source
                    .read_vec(r.start as u64, r.len())
                    .map_err(|e| DtError::Source(e.to_string()))?;
                seen(&bytes);
                if binary {
                    OutFrame::Binary(bytes)
                } else {
                    OutFrame::Text(encode_base64_chunk(&bytes))
                }
            }
        }))
    }

    /// Reads chunk `i` for sending, feeding the deferred digest when `i` is the next chunk it
    /// has not covered (re-sent chunks after a resume are not hashed twice).
    fn next_frame(&mut self, i: usize) -> Result<Option<OutFrame>, DtError> {
        let mut hasher = self.hasher.take();
        let frame = self.read_chunk_with(i, |raw| {
            if let Some((h, done)) = hasher.as_mut()
                && *done == i
            {
                h.update(raw);
                *done += 1;
            }
        });
        match hasher {
            Some((h, done)) if done == self.plan.len() => {
                self.digest = Some(h.hex());
            }
            other => self.hasher = other,
        }
        frame
    }

    /// A terminal-style state event carrying an error, at the current percentage.
    fn failed(
        &self,
        st: DataTransferState,
        message: impl Into<String>,
        transfer_type: TransferDirection,
    ) -> Action {
        let err = EventError {
            message: message.into(),
            transfer_type,
        };
        self.ev(st, self.pct(), None, Some(err))
    }

    fn ev(
        &self,
        st: DataTransferState,
        pct: f64,
        data: Option<Payload>,
        err: Option<EventError>,
    ) -> Action {
        state_event(
            st,
            &self.cfg.transfer_id,
            &self.cfg.peer_id,
            &self.info,
            pct,
            data,
            err,
        )
    }

    fn finish(&mut self, outcome: Outcome, out: &mut Vec<Action>) {
        self.state = UpState::Done(outcome);
        self.deadline = None;
        if self.cfg.channel == ChannelKind::Data {
            out.push(Action::CloseChannel);
        }
    }

    /// The channel is open (DATA channel) or the messaging channel was bound: send the WRQ and
    /// raise `incomingDataRequest(isSelf)` + `userRequest`.
    pub fn start(&mut self) -> Result<Vec<Action>, DtError> {
        if self.state != UpState::Opening {
            return Err(DtError::InvalidState("upload already started"));
        }
        self.state = UpState::Requested;
        Ok(vec![
            Action::Send(Message::Wrq(Box::new(self.wrq())).to_frame()),
            Action::Event(Event::IncomingDataRequest {
                transfer_id: self.cfg.transfer_id.clone(),
                peer_id: self.cfg.peer_id.clone(),
                info: self.info.clone(),
                is_self: true,
            }),
            self.ev(DataTransferState::UserUploadRequest, 0.0, None, None),
        ])
    }

    /// Re-address a session after its peer connection was replaced by one between new peer
    /// ids (a signaling reconnect gives a peer a new id; see [`crate::peer::PeerDt::rebind`]).
    /// A WRQ `target` that named the old peer id names the new one.
    pub fn rebind(&mut self, local_id: &str, peer_id: &str) {
        if self.cfg.target.as_ref() == Some(&Target::Peer(self.cfg.peer_id.clone())) {
            self.cfg.target = Some(Target::Peer(peer_id.into()));
        }
        self.cfg.local_id = local_id.into();
        self.cfg.peer_id = peer_id.into();
    }

    /// Resume a suspended upload on a new channel (extension): re-send the WRQ with the same
    /// transfer id; the downloader answers `ACK n` and the transfer continues from chunk n.
    pub fn resume(&mut self) -> Result<Vec<Action>, DtError> {
        if self.state != UpState::Suspended {
            return Err(DtError::InvalidState("upload not suspended"));
        }
        self.state = UpState::Resuming;
        self.deadline = None;
        Ok(vec![Action::Send(
            Message::Wrq(Box::new(self.wrq())).to_frame(),
        )])
    }

    /// Whether losing the channel now would suspend this upload (a resume was negotiated and
    /// chunks are moving) rather than fail it.
    pub fn resumable(&self) -> bool {
        self.resume_ok && matches!(self.state, UpState::Sending | UpState::Resuming)
    }

    /// The channel was lost at `now`. With a negotiated resume the session is suspended (until
    /// [`Upload::resume`] or its timeout); otherwise as [`Upload::channel_closed`].
    pub fn channel_lost(&mut self, now: Instant) -> Vec<Action> {
        if self.resumable() {
            self.state = UpState::Suspended;
            self.deadline = deadline_after(now, self.cfg.timeout_secs);
            return Vec::new();
        }
        self.channel_closed()
    }

    fn fill_window(&mut self, now: Instant, out: &mut Vec<Action>) {
        let k = self.plan.len();
        let pct = round2(self.acked as f64 / k as f64 * 100.0);
        while self.next_send < k && self.next_send < self.acked + self.window as usize {
            match self.next_frame(self.next_send) {
                Ok(Some(f)) => {
                    // The deferred digest goes right before the last chunk: the downloader
                    // holds it when the payload completes (same ordered channel).
                    if self.next_send + 1 == k
                        && self.ext_on
                        && let Some(d) = &self.digest
                    {
                        let msg = crate::ext::digest_message(&self.cfg.local_id, d);
                        out.push(Action::Send(msg.to_frame()));
                    }
                    out.push(Action::Send(f));
                }
                Ok(None) => {}
                Err(e) => {
                    out.push(Action::Send(
                        Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name)))
                            .to_frame(),
                    ));
                    out.push(self.failed(
                        DataTransferState::Error,
                        e.to_string(),
                        TransferDirection::Upload,
                    ));
                    self.finish(Outcome::Failed, out);
                    return;
                }
            }
            out.push(self.ev(DataTransferState::Uploading, pct, None, None));
            self.next_send += 1;
        }
        self.state = UpState::Sending;
        self.deadline = deadline_after(now, self.cfg.timeout_secs);
    }

    fn violation(&mut self, ack_n: i64, out: &mut Vec<Action>) {
        let e = DtError::AckOutOfRange {
            ack_n,
            chunks: self.plan.len(),
        };
        out.push(Action::Send(
            Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name))).to_frame(),
        ));
        out.push(self.failed(
            DataTransferState::Error,
            e.to_string(),
            TransferDirection::Upload,
        ));
        self.finish(Outcome::Failed, out);
    }

    /// Handle a protocol message received on the session's channel.
    pub fn handle_message(&mut self, msg: &Message, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if matches!(self.state, UpState::Done(_) | UpState::Opening) {
            if let Message::Wrq(w) = msg
                && w.kind() == WrqKind::Transfer
                && !self.is_terminal()
            {
                out.push(Action::Send(
                    Message::Ack(Ack::auto_reject(&self.cfg.local_id)).to_frame(),
                ));
            }
            return out;
        }
        match msg {
            Message::Ack(a) => {
                if self.state == UpState::Suspended {
                    return out;
                }
                self.deadline = None;
                let k = self.plan.len();
                let negotiating = matches!(self.state, UpState::Requested | UpState::Resuming);
                if negotiating
                    && self.offer.is_some()
                    && a.ack_n.is_some_and(|n| n >= 0)
                    && let Some(ans) = ExtAnswer::from_extra(&a.extra)
                {
                    self.window = ans.window;
                    self.resume_ok = ans.resume;
                    self.ext_on = true;
                }
                if negotiating && !self.ext_on {
                    // plain protocol: nobody will check a digest
                    self.hasher = None;
                }
                match a.ack_n {
                    None => self.reject(&mut out),
                    Some(n) if n < 0 => self.reject(&mut out),
                    Some(n) if n as u64 == k as u64 && self.next_send == k => {
                        out.push(Action::Event(Event::IncomingData {
                            data: self.payload.clone(),
                            transfer_id: self.cfg.transfer_id.clone(),
                            peer_id: self.cfg.peer_id.clone(),
                            info: TransferInfo {
                                percentage: 100.0,
                                ..self.info.clone()
                            },
                            is_self: true,
                        }));
                        out.push(self.ev(DataTransferState::UploadCompleted, 100.0, None, None));
                        self.finish(Outcome::Completed, &mut out);
                    }
                    Some(n) if (n as u64) < k as u64 => {
                        let n = n as usize;
                        if n == 0 && self.state == UpState::Requested {
                            out.push(self.ev(
                                DataTransferState::UploadStarted,
                                0.0,
                                Some(self.payload.clone()),
                                None,
                            ));
                        }
                        if self.window == 1 || self.state == UpState::Resuming {
                            // the reference: send exactly the chunk that was asked for
                            self.next_send = n;
                        } else if n > self.next_send {
                            self.violation(n as i64, &mut out);
                            return out;
                        }
                        self.acked = n;
                        self.fill_window(now, &mut out);
                    }
                    Some(n) => self.violation(n, &mut out),
                }
            }
            Message::Cancel(c) => {
                let message = c
                    .content
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| MSG_PEER_TERMINATED.into());
                out.push(self.failed(
                    DataTransferState::Cancel,
                    message,
                    TransferDirection::Upload,
                ));
                self.finish(Outcome::Cancelled, &mut out);
            }
            Message::Error(e) => {
                let message = e.content.clone().unwrap_or_default();
                out.push(self.failed(DataTransferState::Error, message, TransferDirection::Upload));
                self.finish(Outcome::Failed, &mut out);
            }
            Message::Wrq(w) if w.kind() == WrqKind::Transfer => {
                out.push(Action::Send(
                    Message::Ack(Ack::auto_reject(&self.cfg.local_id)).to_frame(),
                ));
            }
            _ => {}
        }
        out
    }

    fn pct(&self) -> f64 {
        match self.state {
            UpState::Sending | UpState::Suspended | UpState::Resuming => {
                round2(self.acked as f64 / self.plan.len() as f64 * 100.0)
            }
            _ => 0.0,
        }
    }

    fn reject(&mut self, out: &mut Vec<Action>) {
        out.push(self.failed(
            DataTransferState::Rejected,
            MSG_REJECTED,
            TransferDirection::Upload,
        ));
        self.finish(Outcome::Rejected, out);
    }

    /// Timer input: when the deadline passed, send ERROR and fail (§3.8).
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match self.deadline {
            Some(d) if d <= now => {}
            _ => return out,
        }
        let text = timeout_error_text(self.cfg.timeout_secs);
        if self.state != UpState::Suspended {
            out.push(Action::Send(timeout_frame(
                &text,
                true,
                &self.cfg.local_id,
                &self.info.name,
                self.cfg.channel,
                self.cfg.timeout_notice,
            )));
        }
        out.push(self.ev(
            DataTransferState::Error,
            self.pct(),
            None,
            Some(EventError {
                message: text,
                // JS quirk Q4: the timeout error always says "download".
                transfer_type: TransferDirection::Download,
            }),
        ));
        if self.cfg.channel == ChannelKind::Messaging {
            self.residual = Residual::RemoteDownloaderStuck;
        }
        self.finish(Outcome::Failed, &mut out);
        out
    }

    /// Local cancel (`cancelDataTransfer`).
    pub fn cancel(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        match self.state {
            UpState::Done(_) => return out,
            UpState::Opening | UpState::Suspended => {}
            UpState::Requested => {
                if self.cfg.channel == ChannelKind::Messaging {
                    self.residual = Residual::RemoteDownloaderStuck;
                }
                out.push(Action::Send(
                    Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name)))
                        .to_frame(),
                ));
            }
            UpState::Sending | UpState::Resuming => out.push(Action::Send(
                Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name))).to_frame(),
            )),
        }
        out.push(self.failed(
            DataTransferState::Cancel,
            MSG_USER_CANCELLED,
            TransferDirection::Upload,
        ));
        self.finish(Outcome::Cancelled, &mut out);
        out
    }

    /// The session's channel (or the peer's messaging channel) closed or errored.
    pub fn channel_closed(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.is_terminal() {
            return out;
        }
        out.push(self.failed(
            DataTransferState::Error,
            MSG_CLOSED_ABRUPTLY,
            TransferDirection::Upload,
        ));
        self.state = UpState::Done(Outcome::Failed);
        self.deadline = None;
        out
    }
}

// ======================= Download =======================

/// Parameters of one download session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadConfig {
    /// Our peer id (ACK `sender`).
    pub local_id: String,
    /// The peer the channel belongs to.
    pub peer_id: String,
    /// Transfer id (see [`receiver_transfer_id`]).
    pub transfer_id: String,
    /// Channel the WRQ arrived on.
    pub channel: ChannelKind,
    /// Refuse to assemble more than this many bytes / UTF-16 units.
    pub max_size: u64,
    /// Extensions we accept when a WRQ offers them ([`crate::ext`]; JS peers never offer).
    pub ext: Option<ExtConfig>,
    /// Frame sent on a messaging-channel timeout.
    pub timeout_notice: TimeoutNotice,
}

impl DownloadConfig {
    /// Config with a 4 GiB size limit.
    pub fn new(local_id: &str, peer_id: &str, transfer_id: &str, channel: ChannelKind) -> Self {
        DownloadConfig {
            local_id: local_id.into(),
            peer_id: peer_id.into(),
            transfer_id: transfer_id.into(),
            channel,
            max_size: 4 << 30,
            ext: Some(ExtConfig::default()),
            timeout_notice: TimeoutNotice::Error,
        }
    }
}

/// Transfer id of a received WRQ (§3.3): a DATA channel's label; on the messaging channel the
/// WRQ `transferId`, else `transfer_<peerId>_<epoch ms>`.
pub fn receiver_transfer_id(
    channel: ChannelKind,
    label: &str,
    wrq: &Wrq,
    peer_id: &str,
    epoch_ms: u64,
) -> String {
    match (channel, &wrq.transfer_id) {
        (ChannelKind::Data, _) => label.to_owned(),
        (ChannelKind::Messaging, Some(t)) if !t.is_empty() => t.clone(),
        (ChannelKind::Messaging, _) => format!("transfer_{peer_id}_{epoch_ms}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownState {
    Requested,
    Receiving(usize),
    Suspended(usize),
    Done(Outcome),
}

enum Assembled {
    Bytes(Vec<u8>),
    Text(String),
    /// Written through to a sink ([`Download::accept_into`]); `written` bytes so far,
    /// `scratch` holds one decoded base64 chunk.
    Sink {
        sink: Box<dyn crate::sink::ChunkSink>,
        written: u64,
        scratch: Vec<u8>,
    },
}

/// A received chunk (after [`crate::message::classify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Text frame.
    Text(&'a str),
    /// Binary frame.
    Binary(&'a [u8]),
}

/// One download session (downloader side of §3.3 / §3.14).
pub struct Download {
    cfg: DownloadConfig,
    sender_id: String,
    size: u64,
    original_size: Option<u64>,
    timeout_secs: f64,
    string: bool,
    info: TransferInfo,
    state: DownState,
    received: u64,
    data: Assembled,
    deadline: Option<Instant>,
    residual: Residual,
    offer: Option<ExtOffer>,
    answer: Option<ExtAnswer>,
    /// Running SHA-1 of the assembled bytes (extension only) and how many bytes it covers:
    /// the checksum is hashed as chunks arrive, not in one pass after the last one.
    hasher: Option<(Digester, usize)>,
    /// The uploader's digest when it came after the WRQ ([`crate::ext::DIGEST_TYPE`]).
    digest: Option<String>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("cfg", &self.cfg)
            .field("state", &self.state)
            .field("received", &self.received)
            .field("size", &self.size)
            .finish()
    }
}

impl Download {
    /// Create the session from a received transfer WRQ; returns it with the
    /// `incomingDataRequest` + `request` events. No timer runs until acceptance.
    pub fn new(cfg: DownloadConfig, wrq: &Wrq) -> Result<(Download, Vec<Action>), DtError> {
        match wrq.kind() {
            WrqKind::StreamStart => return Err(DtError::WrongWrqKind("stream start")),
            WrqKind::StreamStop => return Err(DtError::WrongWrqKind("stream stop")),
            WrqKind::Transfer => {}
        }
        let string = wrq.is_string_transfer();
        let size = wrq.size.unwrap_or(0);
        let timeout_secs = match wrq.timeout {
            Some(t) if t.is_finite() && t > 0.0 => t,
            _ => DEFAULT_TIMEOUT_SECS,
        };
        let label = if string {
            ChunkLabel::String
        } else {
            match wrq.chunk_type.as_deref() {
                Some("binary" | "arrayBuffer") => ChunkLabel::ArrayBuffer,
                Some("blob") => ChunkLabel::Blob,
                _ => ChunkLabel::BinaryString,
            }
        };
        let original = wrq.original_size.filter(|&o| o > 0);
        let disp = match original {
            Some(o) => o,
            None if label == ChunkLabel::BinaryString => (size * 3).div_ceil(4),
            None => size,
        };
        let info = TransferInfo {
            name: wrq
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| cfg.transfer_id.clone()),
            size: disp,
            data_type: if string {
                SessionType::DataUrl
            } else {
                SessionType::Blob
            },
            mime_type: wrq.mime_type.clone(),
            chunk_size: wrq.chunk_size.unwrap_or(0),
            chunk_type: label,
            timeout: timeout_secs,
            is_private: wrq.is_private.unwrap_or(false),
            direction: TransferDirection::Download,
            percentage: 0.0,
        };
        let sender_id = wrq
            .sender
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| cfg.peer_id.clone());
        let d = Download {
            data: if string {
                Assembled::Text(String::new())
            } else {
                Assembled::Bytes(Vec::new())
            },
            sender_id,
            size,
            original_size: original,
            timeout_secs,
            string,
            info,
            state: DownState::Requested,
            received: 0,
            deadline: None,
            residual: Residual::None,
            offer: ExtOffer::from_extra(&wrq.extra),
            digest: None,
            answer: None,
            hasher: None,
            cfg,
        };
        let acts = vec![
            Action::Event(Event::IncomingDataRequest {
                transfer_id: d.cfg.transfer_id.clone(),
                peer_id: d.sender_id.clone(),
                info: d.info.clone(),
                is_self: false,
            }),
            d.ev(DataTransferState::UploadRequest, 0.0, None, None),
        ];
        Ok((d, acts))
    }

    /// Transfer info as derived from the WRQ (percentage 0).
    pub fn info(&self) -> &TransferInfo {
        &self.info
    }

    /// The session's configuration.
    pub fn config(&self) -> &DownloadConfig {
        &self.cfg
    }

    /// Terminal outcome, if reached.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.state {
            DownState::Done(o) => Some(o),
            _ => None,
        }
    }

    /// True once terminal.
    pub fn is_terminal(&self) -> bool {
        self.outcome().is_some()
    }

    /// What the remote JS uploader may keep bound after our terminal state.
    pub fn residual(&self) -> Residual {
        self.residual
    }

    /// Next timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// True for a string (data URL) transfer, false for a blob transfer.
    pub fn is_string_transfer(&self) -> bool {
        self.string
    }

    /// Wire units received so far.
    pub fn received_units(&self) -> u64 {
        self.received
    }

    /// A terminal-style state event carrying an error, at the current percentage.
    fn failed(
        &self,
        st: DataTransferState,
        message: impl Into<String>,
        transfer_type: TransferDirection,
    ) -> Action {
        let err = EventError {
            message: message.into(),
            transfer_type,
        };
        self.ev(st, self.pct(), None, Some(err))
    }

    fn ev(
        &self,
        st: DataTransferState,
        pct: f64,
        data: Option<Payload>,
        err: Option<EventError>,
    ) -> Action {
        state_event(
            st,
            &self.cfg.transfer_id,
            &self.sender_id,
            &self.info,
            pct,
            data,
            err,
        )
    }

    fn pct(&self) -> f64 {
        if self.received == self.size || self.size == 0 {
            if self.received == 0 && self.size == 0 {
                return 0.0;
            }
            return 100.0;
        }
        round2(self.received as f64 / self.size as f64 * 100.0)
    }

    fn ack(&self, n: i64) -> Action {
        Action::Send(Message::Ack(Ack::new(&self.cfg.local_id, n)).to_frame())
    }

    fn ack_ext(&self, n: i64) -> Action {
        let mut a = Ack::new(&self.cfg.local_id, n);
        if let Some(ans) = &self.answer {
            a.extra.insert(EXT_KEY.into(), ans.to_value());
        }
        Action::Send(Message::Ack(a).to_frame())
    }

    /// The negotiated extension answer, if any.
    pub fn extensions(&self) -> Option<ExtAnswer> {
        self.answer
    }

    /// True while waiting (after channel loss) for the uploader to resume.
    pub fn is_suspended(&self) -> bool {
        matches!(self.state, DownState::Suspended(_))
    }

    /// Re-address a session after its peer connection was replaced by one between new peer
    /// ids (see [`Upload::rebind`]). A sender named by the WRQ other than the peer itself (an
    /// MCU relay) is kept.
    pub fn rebind(&mut self, local_id: &str, peer_id: &str) {
        if self.sender_id == self.cfg.peer_id {
            self.sender_id = peer_id.into();
        }
        self.cfg.local_id = local_id.into();
        self.cfg.peer_id = peer_id.into();
    }

    /// Whether losing the channel now would suspend this download (a resume was negotiated
    /// and chunks are arriving) rather than fail it.
    pub fn resumable(&self) -> bool {
        matches!(self.state, DownState::Receiving(_))
            && self.answer.as_ref().is_some_and(|a| a.resume)
    }

    /// The channel was lost at `now`. With a negotiated resume the session keeps its complete
    /// chunks and waits (up to its timeout) for the uploader's WRQ; otherwise as
    /// [`Download::channel_closed`].
    pub fn channel_lost(&mut self, now: Instant) -> Vec<Action> {
        if let (DownState::Receiving(n), Some(a)) = (self.state, &self.answer)
            && a.resume
        {
            self.state = DownState::Suspended(n);
            self.deadline = deadline_after(now, self.timeout_secs);
            return Vec::new();
        }
        self.channel_closed()
    }

    /// Resume a suspended download from the uploader's repeated WRQ (same transfer id, same
    /// payload checksum) on a new channel: answer `ACK n`, n = complete chunks held.
    pub fn resume(
        &mut self,
        wrq: &Wrq,
        channel: ChannelKind,
        now: Instant,
    ) -> Result<Vec<Action>, DtError> {
        let DownState::Suspended(n) = self.state else {
            return Err(DtError::InvalidState("download not suspended"));
        };
        let same = match (ExtOffer::from_extra(&wrq.extra), &self.offer) {
            (Some(a), Some(b)) => a.digest == b.digest && wrq.size.unwrap_or(0) == self.size,
            _ => false,
        };
        if !same {
            return Err(DtError::InvalidState("WRQ does not resume this transfer"));
        }
        self.state = DownState::Receiving(n);
        self.cfg.channel = channel;
        self.deadline = if n > 0 {
            deadline_after(now, self.timeout_secs)
        } else {
            None
        };
        Ok(vec![self.ack_ext(n as i64)])
    }

    fn finish(&mut self, outcome: Outcome, out: &mut Vec<Action>) {
        self.state = DownState::Done(outcome);
        self.deadline = None;
        if outcome != Outcome::Completed {
            self.abort_sink();
        }
        if self.cfg.channel == ChannelKind::Data {
            out.push(Action::CloseChannel);
        } else if outcome != Outcome::Completed {
            self.residual = Residual::RemoteUploaderBlocked;
        }
    }

    fn fail(&mut self, message: String, send_cancel: bool, out: &mut Vec<Action>) {
        if send_cancel {
            out.push(Action::Send(
                Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name))).to_frame(),
            ));
        }
        out.push(self.failed(
            DataTransferState::Error,
            message,
            TransferDirection::Download,
        ));
        self.finish(Outcome::Failed, out);
    }

    /// Accept (`acceptDataTransfer(…, true)`): send ACK 0, raise `downloadStarted`.
    pub fn accept(&mut self) -> Result<Vec<Action>, DtError> {
        if self.state != DownState::Requested {
            return Err(DtError::InvalidState("download not awaiting a decision"));
        }
        self.state = DownState::Receiving(0);
        // reserve only once accepted, the announced size (no regrowth copies; pages are only
        // touched as chunks arrive), never more than 1 GiB up front
        if let Assembled::Bytes(v) = &mut self.data {
            v.reserve(self.info.size.min(self.cfg.max_size).min(1 << 30) as usize);
        }
        if let (Some(o), Some(c)) = (&self.offer, &self.cfg.ext) {
            self.answer = Some(ExtAnswer::answer(o, c));
            self.hasher = Some((Digester::new(), 0));
        }
        Ok(vec![
            self.ack_ext(0),
            self.ev(DataTransferState::DownloadStarted, 0.0, None, None),
        ])
    }

    /// Accept like [`Download::accept`], writing the bytes through to `sink` as chunks arrive
    /// instead of assembling them in memory (see [`crate::sink`]). The completion events
    /// then carry [`Payload::Stored`]. On cancel, error, timeout or a closed channel the sink
    /// is [aborted](ChunkSink::abort); a resumed transfer keeps writing to it.
    ///
    /// # Errors
    /// [`DtError::InvalidState`] when the download is not awaiting a decision or is a string
    /// (`sendURLData`) transfer, which is always assembled in memory.
    pub fn accept_into(&mut self, sink: Box<dyn ChunkSink>) -> Result<Vec<Action>, DtError> {
        if self.state != DownState::Requested {
            return Err(DtError::InvalidState("download not awaiting a decision"));
        }
        if self.string {
            return Err(DtError::InvalidState(
                "a string transfer is not written to a sink",
            ));
        }
        self.data = Assembled::Sink {
            sink,
            written: 0,
            scratch: Vec::new(),
        };
        self.accept()
    }

    /// Reject: send ACK -1, raise `userRejected`, release the channel.
    pub fn reject(&mut self) -> Result<Vec<Action>, DtError> {
        if self.state != DownState::Requested {
            return Err(DtError::InvalidState("download not awaiting a decision"));
        }
        let mut out = vec![
            self.ack(-1),
            self.ev(
                DataTransferState::UserRejected,
                0.0,
                None,
                Some(EventError {
                    message: MSG_USER_REJECTED.into(),
                    transfer_type: TransferDirection::Download,
                }),
            ),
        ];
        self.finish(Outcome::Rejected, &mut out);
        Ok(out)
    }

    /// A chunk arrived on the session's channel. Chunks before acceptance or after the end
    /// are ignored; undecodable or mismatching data ends the session with `error` (and a
    /// CANCEL to the uploader) — a transfer never completes with wrong bytes.
    pub fn handle_chunk(&mut self, chunk: Chunk<'_>, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        let n = match self.state {
            DownState::Receiving(n) => n,
            _ => return out,
        };
        self.deadline = None;
        let units = match (chunk, &mut self.data) {
            (Chunk::Text(t), Assembled::Text(s)) => {
                s.push_str(t);
                utf16_len(t)
            }
            (Chunk::Binary(_), Assembled::Text(_)) => {
                let e = DtError::UnexpectedChunk("binary");
                self.fail(e.to_string(), true, &mut out);
                return out;
            }
            (Chunk::Text(t), Assembled::Bytes(v)) => match decode_base64_chunk_into(t, v) {
                Ok(u) => {
                    self.info.chunk_type = ChunkLabel::BinaryString;
                    u
                }
                Err(e) => {
                    self.fail(DtError::from(e).to_string(), true, &mut out);
                    return out;
                }
            },
            (Chunk::Binary(b), Assembled::Bytes(v)) => {
                v.extend_from_slice(b);
                if self.info.chunk_type == ChunkLabel::BinaryString {
                    self.info.chunk_type = ChunkLabel::ArrayBuffer;
                }
                b.len() as u64
            }
            (
                c,
                Assembled::Sink {
                    sink,
                    written,
                    scratch,
                },
            ) => {
                scratch.clear();
                let (bytes, units): (&[u8], u64) = match c {
                    Chunk::Binary(b) => {
                        if self.info.chunk_type == ChunkLabel::BinaryString {
                            self.info.chunk_type = ChunkLabel::ArrayBuffer;
                        }
                        (b, b.len() as u64)
                    }
                    Chunk::Text(t) => match decode_base64_chunk_into(t, scratch) {
                        Ok(u) => {
                            self.info.chunk_type = ChunkLabel::BinaryString;
                            (scratch.as_slice(), u)
                        }
                        Err(e) => {
                            self.fail(DtError::from(e).to_string(), true, &mut out);
                            return out;
                        }
                    },
                };
                let end = written.saturating_add(bytes.len() as u64);
                if end > self.cfg.max_size {
                    let e = DtError::TooLarge(self.cfg.max_size);
                    self.fail(e.to_string(), true, &mut out);
                    return out;
                }
                if let Err(e) = sink.write_at(*written, bytes) {
                    self.fail(format!("writing the download: {e}"), true, &mut out);
                    return out;
                }
                if let Some((h, done)) = &mut self.hasher {
                    h.update(bytes);
                    *done += bytes.len();
                }
                *written = end;
                units
            }
        };
        let held = match &self.data {
            Assembled::Sink { written, .. } => *written,
            data => {
                let bytes = match data {
                    Assembled::Bytes(v) => v.as_slice(),
                    Assembled::Text(s) => s.as_bytes(),
                    Assembled::Sink { .. } => &[],
                };
                if let Some((h, done)) = &mut self.hasher
                    && let Some(new) = bytes.get(*done..)
                {
                    h.update(new);
                    *done = bytes.len();
                }
                bytes.len() as u64
            }
        };
        if held > self.cfg.max_size {
            self.fail(
                DtError::TooLarge(self.cfg.max_size).to_string(),
                true,
                &mut out,
            );
            return out;
        }
        self.received = self.received.saturating_add(units);
        if self.received >= self.size {
            let got = match &self.data {
                Assembled::Bytes(v) => v.len() as u64,
                Assembled::Text(s) => utf16_len(s),
                Assembled::Sink { written, .. } => *written,
            };
            if let Some(o) = self.original_size
                && o != got
            {
                let e = DtError::SizeMismatch {
                    received: got,
                    announced: o,
                };
                self.fail(e.to_string(), true, &mut out);
                return out;
            }
            if let (Some(_), Some(o)) = (&self.answer, &self.offer) {
                let sum = match self.hasher.take() {
                    Some((h, _)) => h.hex(),
                    None => match &self.data {
                        Assembled::Bytes(v) => digest_hex(v),
                        Assembled::Text(t) => digest_hex(t.as_bytes()),
                        // the hasher always runs for a sink (set in `accept`)
                        Assembled::Sink { .. } => String::new(),
                    },
                };
                match o.digest.as_ref().or(self.digest.as_ref()) {
                    Some(want) if *want == sum => {}
                    Some(_) => {
                        self.fail("checksum mismatch".into(), true, &mut out);
                        return out;
                    }
                    None => {
                        self.fail(
                            "checksum missing: no digest before the last chunk".into(),
                            true,
                            &mut out,
                        );
                        return out;
                    }
                }
            }
            let payload = match std::mem::replace(&mut self.data, Assembled::Bytes(Vec::new())) {
                Assembled::Bytes(v) => Payload::Blob {
                    data: v.into(),
                    mime_type: self.info.mime_type.clone(),
                },
                Assembled::Text(s) => Payload::Text(s.into()),
                Assembled::Sink {
                    mut sink, written, ..
                } => {
                    if let Err(e) = sink.finish() {
                        sink.abort();
                        self.fail(format!("saving the download: {e}"), true, &mut out);
                        return out;
                    }
                    Payload::Stored {
                        len: written,
                        mime_type: self.info.mime_type.clone(),
                        path: sink.path().map(std::path::Path::to_path_buf),
                    }
                }
            };
            out.push(self.ack(n as i64 + 1));
            let pct = self.pct();
            out.push(Action::Event(Event::IncomingData {
                data: payload.clone(),
                transfer_id: self.cfg.transfer_id.clone(),
                peer_id: self.sender_id.clone(),
                info: TransferInfo {
                    percentage: pct,
                    ..self.info.clone()
                },
                is_self: false,
            }));
            let data = (pct == 100.0).then_some(payload);
            out.push(self.ev(DataTransferState::DownloadCompleted, pct, data, None));
            self.finish(Outcome::Completed, &mut out);
        } else {
            self.state = DownState::Receiving(n + 1);
            out.push(self.ack(n as i64 + 1));
            self.deadline = deadline_after(now, self.timeout_secs);
            out.push(self.ev(DataTransferState::Downloading, self.pct(), None, None));
        }
        out
    }

    /// The uploader's deferred digest ([`crate::ext::digest_message`]); kept until the
    /// payload completes (also across a resume). Ignored without a negotiated extension.
    pub fn handle_digest(&mut self, digest: &str) {
        if self.answer.is_some() && !self.is_terminal() {
            self.digest = Some(digest.to_owned());
        }
    }

    /// A protocol message arrived on the session's channel.
    pub fn handle_message(&mut self, msg: &Message) -> Vec<Action> {
        let mut out = Vec::new();
        if self.is_terminal() {
            return out;
        }
        match msg {
            Message::Unknown(m) => {
                if let Some(d) = crate::ext::digest_of(m) {
                    self.handle_digest(&d);
                }
            }
            Message::Cancel(c) => {
                self.deadline = None;
                let message = c
                    .content
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| MSG_PEER_TERMINATED.into());
                out.push(self.failed(
                    DataTransferState::Cancel,
                    message,
                    TransferDirection::Download,
                ));
                self.finish(Outcome::Cancelled, &mut out);
            }
            Message::Error(e) => {
                self.deadline = None;
                let message = e.content.clone().unwrap_or_default();
                self.fail(message, false, &mut out);
            }
            Message::Wrq(w) if w.kind() == WrqKind::Transfer => {
                out.push(Action::Send(
                    Message::Ack(Ack::auto_reject(&self.cfg.local_id)).to_frame(),
                ));
            }
            _ => {}
        }
        out
    }

    /// Timer input: when the deadline passed, send ERROR and fail (§3.8).
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match self.deadline {
            Some(d) if d <= now => {}
            _ => return out,
        }
        let text = timeout_error_text(self.timeout_secs);
        if !self.is_suspended() {
            out.push(Action::Send(timeout_frame(
                &text,
                false,
                &self.cfg.local_id,
                &self.info.name,
                self.cfg.channel,
                self.cfg.timeout_notice,
            )));
        }
        self.fail(text, false, &mut out);
        out
    }

    /// Local cancel.
    pub fn cancel(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.is_terminal() {
            return out;
        }
        if !self.is_suspended() {
            out.push(Action::Send(
                Message::Cancel(Cancel::new(&self.cfg.local_id, Some(&self.info.name))).to_frame(),
            ));
        }
        out.push(self.failed(
            DataTransferState::Cancel,
            MSG_USER_CANCELLED,
            TransferDirection::Download,
        ));
        self.finish(Outcome::Cancelled, &mut out);
        out
    }

    /// The session's DATA channel closed or errored.
    pub fn channel_closed(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if self.is_terminal() {
            return out;
        }
        out.push(self.failed(
            DataTransferState::Error,
            MSG_CLOSED_ABRUPTLY,
            TransferDirection::Download,
        ));
        self.state = DownState::Done(Outcome::Failed);
        self.deadline = None;
        self.abort_sink();
        out
    }

    /// A failed download discards what its sink holds (and drops the sink).
    fn abort_sink(&mut self) {
        if let Assembled::Sink { sink, .. } = &mut self.data {
            sink.abort();
            self.data = Assembled::Bytes(Vec::new());
        }
    }

    /// True when the download writes to a sink ([`Download::accept_into`]).
    pub fn has_sink(&self) -> bool {
        matches!(self.data, Assembled::Sink { .. })
    }
}

/// A multi-peer upload (§3.11): one payload, one transfer id, one session per target peer.
#[derive(Debug, Clone, Default)]
pub struct UploadGroup {
    sessions: Vec<Upload>,
}

impl UploadGroup {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the session of one target peer.
    pub fn add(&mut self, upload: Upload) {
        self.sessions.push(upload);
    }

    /// The session for a peer.
    pub fn get_mut(&mut self, peer_id: &str) -> Option<&mut Upload> {
        self.sessions.iter_mut().find(|u| u.cfg.peer_id == peer_id)
    }

    /// All sessions.
    pub fn sessions(&self) -> &[Upload] {
        &self.sessions
    }

    /// Earliest deadline of all sessions.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.iter().filter_map(Upload::poll_timeout).min()
    }

    /// The callback result once every peer is terminal: `Ok` when all completed, else the
    /// list of failed peers with their outcome.
    pub fn result(&self) -> Option<Result<(), Vec<(String, Outcome)>>> {
        let mut failed = Vec::new();
        for s in &self.sessions {
            match s.outcome()? {
                Outcome::Completed => {}
                o => failed.push((s.cfg.peer_id.clone(), o)),
            }
        }
        Some(if failed.is_empty() {
            Ok(())
        } else {
            Err(failed)
        })
    }
}
