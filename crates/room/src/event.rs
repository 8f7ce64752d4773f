//! The typed event stream: one [`Event`] variant per event of the API reference, payload
//! fields named as there (snake_case).

use serde::Serialize;
use serde_json::Value;
use skylink_sm::room_api::ReadyState;

use crate::api::ReadyStateError;
use crate::fallback::{SocketErrorCode, SocketFallback};

/// `HANDSHAKE_PROGRESS` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandshakeProgress {
    /// `"enter"`: the peer has just entered.
    Enter,
    /// `"welcome"`: the peer knows about us; the connection may start.
    Welcome,
    /// `"offer"`.
    Offer,
    /// `"answer"`.
    Answer,
    /// `"error"`.
    Error,
}

/// `peerInfo.agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    /// Agent name (`"rust"`, `"chrome"`…; `"other"` when absent).
    pub name: String,
    /// Version as a number (spec §3.0.1 rules).
    pub version: f64,
    /// Operating system.
    pub os: String,
    /// Temasys plugin version.
    pub plugin_version: Option<String>,
    /// SM protocol version (`"0.1.1"` when absent).
    #[serde(rename = "SMProtocolVersion")]
    pub sm_protocol_version: String,
    /// DT protocol version.
    #[serde(rename = "DTProtocolVersion")]
    pub dt_protocol_version: String,
}

/// `peerInfo.config`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PeerConfig {
    /// Peer trickles ICE.
    pub enable_ice_trickle: bool,
    /// Peer wants a data channel.
    pub enable_data_channel: bool,
    /// Peer supports ICE restart.
    pub enable_ice_restart: bool,
    /// Peer's weight (0 when not a number).
    pub priority_weight: f64,
    /// Peer sends no media.
    pub receive_only: bool,
    /// Publish-only session.
    pub publish_only: bool,
}

/// The `peerInfo` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// Custom user data.
    pub user_data: Value,
    /// Sending stream settings (`{audio, video, …}`).
    pub settings: Value,
    /// `{audioMuted, videoMuted}`.
    pub media_status: Value,
    /// Agent information.
    pub agent: AgentInfo,
    /// Connection configuration.
    pub config: PeerConfig,
    /// Room name.
    pub room: String,
    /// Parent peer id.
    pub parent_id: Option<String>,
}

/// The `session` payload of channel events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketSession {
    /// `serverUrl`.
    pub server_url: String,
    /// `transportType` (`"WebSocket"`).
    pub transport_type: String,
    /// Current reconnection attempt of the instance.
    pub attempts: u32,
    /// `finalAttempts` of the fallback chain.
    pub final_attempts: u32,
    /// The instance's fallback state.
    pub fallback_type: SocketFallback,
}

/// The `message` payload of `incomingMessage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageInfo {
    /// The message object.
    pub content: Value,
    /// Targeted (private) or not.
    pub is_private: bool,
    /// Target peer id(s): the recipient for a received private message, `None` for public.
    pub target_peer_id: Option<Value>,
    /// Sent through a data channel (`sendP2PMessage`).
    pub is_data_channel: bool,
    /// Sender peer id.
    pub sender_peer_id: String,
    /// Peers the message was sent to (own messages only).
    pub list_of_peers: Option<Vec<String>>,
}

/// The `candidate` payload of `candidateProcessingState`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CandidateInfo {
    /// The `candidate:…` string.
    pub candidate: String,
    /// `sdpMid`.
    pub sdp_mid: String,
    /// `sdpMLineIndex`.
    #[serde(rename = "sdpMLineIndex")]
    pub sdp_mline_index: u32,
}

/// The `length` payload of `candidatesGathered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CandidatesLength {
    /// `noOfExpectedCandidates` of the peer's `endOfCandidates`.
    pub expected: u32,
    /// Candidates received.
    pub received: u32,
    /// Candidates processed.
    pub processed: u32,
}

/// Transferred data: bytes of a blob, or the text of a `sendURLData` / string stream.
///
/// Non-exhaustive: new ways of holding a payload may be added (as `File` was), so matches
/// need a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferData {
    /// Bytes.
    Bytes(std::sync::Arc<[u8]>),
    /// Text.
    Text(std::sync::Arc<str>),
    /// A blob sent from a [`ChunkSource`](skylink_dt::source::ChunkSource) (a file): only in
    /// the uploader's own events, which do not hold the bytes in memory.
    Source(skylink_dt::source::SharedSource),
    /// A download saved to a file as it arrived (accepted with
    /// [`Client::accept_data_transfer_to_file`](crate::Client::accept_data_transfer_to_file)):
    /// only in the downloader's `incomingData`, which does not hold the bytes.
    File {
        /// Where the bytes are (the path given at acceptance).
        path: std::path::PathBuf,
        /// Length in bytes.
        size: u64,
    },
}

impl TransferData {
    /// Length in bytes (UTF-8 for text).
    pub fn len(&self) -> usize {
        match self {
            TransferData::Bytes(b) => b.len(),
            TransferData::Text(t) => t.len(),
            TransferData::Source(s) => usize::try_from(s.len()).unwrap_or(usize::MAX),
            TransferData::File { size, .. } => usize::try_from(*size).unwrap_or(usize::MAX),
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every event the engine raises.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `readyStateChange(readyState, error, room)`.
    ReadyStateChange {
        /// `READY_STATE_CHANGE` value.
        ready_state: ReadyState,
        /// Present for `ERROR`.
        error: Option<ReadyStateError>,
        /// The room the request was for.
        room: String,
    },
    /// `channelOpen(session)`.
    ChannelOpen {
        /// Socket session information.
        session: SocketSession,
    },
    /// `channelClose(session)`.
    ChannelClose {
        /// Socket session information.
        session: SocketSession,
    },
    /// `channelMessage(message, session)` (every decoded signaling message).
    ChannelMessage {
        /// The message object.
        message: Value,
        /// Socket session information.
        session: SocketSession,
    },
    /// `channelError(error, session)` (e.g. pong timeout, bad frame).
    ChannelError {
        /// The error text.
        error: String,
        /// Socket session information.
        session: SocketSession,
    },
    /// `channelRetry(fallbackType, currentAttempt, session)`.
    ChannelRetry {
        /// Fallback state.
        fallback_type: SocketFallback,
        /// Current attempt of the instance.
        current_attempt: u32,
        /// Socket session information.
        session: SocketSession,
    },
    /// `socketError(errorCode, error, type, session)`.
    SocketError {
        /// `SOCKET_ERROR` value.
        error_code: SocketErrorCode,
        /// Error text.
        error: String,
        /// Fallback state (`type` in the reference).
        r#type: SocketFallback,
        /// Socket session information.
        session: SocketSession,
    },
    /// `peerJoined(peerId, peerInfo, isSelf)`.
    PeerJoined {
        /// Peer id.
        peer_id: String,
        /// Peer information.
        peer_info: PeerInfo,
        /// Whether it is us.
        is_self: bool,
    },
    /// `peerLeft(peerId, peerInfo, isSelf)`.
    PeerLeft {
        /// Peer id.
        peer_id: String,
        /// Peer information.
        peer_info: PeerInfo,
        /// Whether it is us.
        is_self: bool,
    },
    /// `peerUpdated(peerId, peerInfo, isSelf)`.
    PeerUpdated {
        /// Peer id.
        peer_id: String,
        /// Peer information.
        peer_info: PeerInfo,
        /// Whether it is us.
        is_self: bool,
    },
    /// `handshakeProgress(state, peerId, error)`.
    HandshakeProgress {
        /// Handshake state.
        state: HandshakeProgress,
        /// Peer id.
        peer_id: String,
        /// Error (for `ERROR`).
        error: Option<String>,
    },
    /// `peerConnectionState(state, peerId)`: the raw signaling state (`stable`,
    /// `have-local-offer`, `have-remote-offer`, `closed`).
    PeerConnectionState {
        /// `PEER_CONNECTION_STATE` value.
        state: String,
        /// Peer id.
        peer_id: String,
    },
    /// `iceConnectionState(state, peerId)`: raw ICE connection state, plus `trickleFailed`
    /// right after `failed` when we trickle.
    IceConnectionState {
        /// `ICE_CONNECTION_STATE` value.
        state: String,
        /// Peer id.
        peer_id: String,
    },
    /// `candidateGenerationState(state, peerId)`: native gathering states (`new`, `gathering`,
    /// `complete`) and the custom `gathering` (first candidate) / `completed` (end).
    CandidateGenerationState {
        /// `CANDIDATE_GENERATION_STATE` value.
        state: String,
        /// Peer id.
        peer_id: String,
    },
    /// `candidateProcessingState(state, peerId, candidateId, candidateType, candidate, error)`.
    CandidateProcessingState {
        /// `CANDIDATE_PROCESSING_STATE` value.
        state: String,
        /// Peer id.
        peer_id: String,
        /// `can-<ms>` identifier of the received candidate.
        candidate_id: String,
        /// `host`, `srflx`, `relay`, … (token 7 of the candidate string).
        candidate_type: String,
        /// `{candidate, sdpMid, sdpMLineIndex}`.
        candidate: CandidateInfo,
        /// Set for `dropped` and `processError`.
        error: Option<String>,
    },
    /// `candidatesGathered(peerId, length)`.
    CandidatesGathered {
        /// Peer id.
        peer_id: String,
        /// `{expected, received, processed}`.
        length: CandidatesLength,
    },
    /// `dataChannelState(state, peerId, error, channelName, channelType, messageType,
    /// bufferAmount)`.
    DataChannelState {
        /// `DATA_CHANNEL_STATE` value.
        state: String,
        /// Peer id.
        peer_id: String,
        /// Set for `error` and `sendMessageError`.
        error: Option<String>,
        /// Channel label.
        channel_name: String,
        /// `DATA_CHANNEL_TYPE` value (`messaging` or `data`).
        channel_type: String,
        /// `DATA_CHANNEL_MESSAGE_ERROR` value, for `sendMessageError` only.
        message_type: Option<String>,
    },
    /// `peerRestart(peerId, peerInfo, isSelfInitiateRestart, isIceRestart)`.
    PeerRestart {
        /// Peer id.
        peer_id: String,
        /// Peer information.
        peer_info: PeerInfo,
        /// We started it.
        is_self_initiate_restart: bool,
        /// An ICE restart was requested.
        is_ice_restart: bool,
    },
    /// `serverPeerJoined(peerId, serverPeerType)` (the `MCU`).
    ServerPeerJoined {
        /// Peer id (`MCU`).
        peer_id: String,
        /// `SERVER_PEER_TYPE` value (`mcu`).
        server_peer_type: String,
    },
    /// `serverPeerLeft(peerId, serverPeerType)`.
    ServerPeerLeft {
        /// Peer id (`MCU`).
        peer_id: String,
        /// `SERVER_PEER_TYPE` value (`mcu`).
        server_peer_type: String,
    },
    /// `serverPeerRestart(peerId, serverPeerType)`.
    ServerPeerRestart {
        /// Peer id (`MCU`).
        peer_id: String,
        /// `SERVER_PEER_TYPE` value (`mcu`).
        server_peer_type: String,
    },
    /// `getPeersStateChange(state, privilegedPeerId, peerList)`.
    GetPeersStateChange {
        /// `GET_PEERS_STATE` value (`enquired`, `received`).
        state: String,
        /// Our (privileged) peer id.
        privileged_peer_id: String,
        /// `{room: [peerId, …]}` once received.
        peer_list: Option<Value>,
    },
    /// `introduceStateChange(state, privilegedPeerId, sendingPeerId, receivingPeerId, reason)`.
    IntroduceStateChange {
        /// `INTRODUCE_STATE` value (`introducing`, `error`).
        state: String,
        /// Our (privileged) peer id.
        privileged_peer_id: String,
        /// Peer that sends the `enter`.
        sending_peer_id: String,
        /// Peer that receives it.
        receiving_peer_id: String,
        /// Error reason.
        reason: Option<String>,
    },
    /// `getConnectionStatusStateChange(state, peerId, stats, error)`.
    GetConnectionStatusStateChange {
        /// `GET_CONNECTION_STATUS_STATE` value: 0 retrieving, 1 success, −1 error.
        state: i32,
        /// Peer id.
        peer_id: String,
        /// The §3.4 stats payload (success only).
        stats: Option<Value>,
        /// Error text (error only).
        error: Option<String>,
    },
    /// `incomingDataRequest(transferId, peerId, transferInfo, isSelf)`.
    IncomingDataRequest {
        /// Transfer id.
        transfer_id: String,
        /// The uploader (or, on the uploader, the target peer).
        peer_id: String,
        /// `transferInfo` (names as in the reference).
        transfer_info: Value,
        /// We are the uploader.
        is_self: bool,
    },
    /// `dataTransferState(state, transferId, peerId, transferInfo, error)`.
    DataTransferState {
        /// `DATA_TRANSFER_STATE` value.
        state: String,
        /// Transfer id.
        transfer_id: String,
        /// The other peer.
        peer_id: String,
        /// `transferInfo`.
        transfer_info: Value,
        /// `{message, transferType}` for error states.
        error: Option<Value>,
    },
    /// `incomingData(data, transferId, peerId, transferInfo, isSelf)`.
    IncomingData {
        /// The bytes (blob) or text (dataURL).
        data: TransferData,
        /// Transfer id.
        transfer_id: String,
        /// The other peer.
        peer_id: String,
        /// `transferInfo`.
        transfer_info: Value,
        /// We are the uploader.
        is_self: bool,
    },
    /// `dataStreamState(state, streamId, peerId, streamInfo, error)`.
    DataStreamState {
        /// `DATA_STREAM_STATE` value.
        state: String,
        /// Stream id.
        stream_id: String,
        /// The other peer.
        peer_id: String,
        /// `streamInfo` (with `chunk` for `sent`/`received`).
        stream_info: Value,
        /// Error text.
        error: Option<String>,
    },
    /// `incomingDataStreamStarted(streamId, peerId, streamInfo, isSelf)`.
    IncomingDataStreamStarted {
        /// Stream id.
        stream_id: String,
        /// The sender.
        peer_id: String,
        /// `streamInfo`.
        stream_info: Value,
        /// We are the sender.
        is_self: bool,
    },
    /// `incomingDataStream(chunk, streamId, peerId, streamInfo, isSelf)`.
    IncomingDataStream {
        /// The chunk.
        chunk: TransferData,
        /// Stream id.
        stream_id: String,
        /// The sender.
        peer_id: String,
        /// `streamInfo`.
        stream_info: Value,
        /// We are the sender.
        is_self: bool,
    },
    /// `incomingDataStreamStopped(streamId, peerId, streamInfo, isSelf)`.
    IncomingDataStreamStopped {
        /// Stream id.
        stream_id: String,
        /// The sender.
        peer_id: String,
        /// `streamInfo`.
        stream_info: Value,
        /// We are the sender.
        is_self: bool,
    },
    /// `incomingMessage(message, peerId, peerInfo, isSelf)`.
    IncomingMessage {
        /// The message.
        message: MessageInfo,
        /// Sender peer id.
        peer_id: String,
        /// Sender information (default when the sender is unknown).
        peer_info: PeerInfo,
        /// Whether we sent it.
        is_self: bool,
    },
    /// `roomLock(isLocked, peerId, peerInfo, isSelf)`.
    RoomLock {
        /// Lock state.
        is_locked: bool,
        /// Who changed it.
        peer_id: String,
        /// Their information.
        peer_info: PeerInfo,
        /// Whether we changed it.
        is_self: bool,
    },
    /// `systemAction(action, message, reason)`.
    SystemAction {
        /// `"warning"` or `"reject"`.
        action: String,
        /// The server's `info`.
        message: String,
        /// `SYSTEM_ACTION_REASON` value (`toClose` rewritten to `toclose`).
        reason: String,
    },
    /// `sessionDisconnect(peerId, peerInfo)`: the socket dropped while in a room.
    SessionDisconnect {
        /// Our peer id in that session.
        peer_id: String,
        /// Our information.
        peer_info: PeerInfo,
    },
    /// `mediaAccessSuccess(stream, isScreensharing, isAudioFallback, streamId)`.
    MediaAccessSuccess {
        /// The local stream's id (the msid peers see).
        stream_id: String,
        /// A screen capture.
        is_screensharing: bool,
        /// Audio only after the camera failed (`audioFallback`).
        is_audio_fallback: bool,
    },
    /// `mediaAccessError(error, isScreensharing, isAudioFallbackError)`.
    MediaAccessError {
        /// What failed.
        error: String,
        /// A screen capture was requested.
        is_screensharing: bool,
        /// The audio-only fallback failed too.
        is_audio_fallback_error: bool,
    },
    /// `mediaAccessFallback({error, diff}, state, isScreensharing, isAudioFallback, streamId)`.
    MediaAccessFallback {
        /// What went wrong.
        error: String,
        /// `{video: {expected, received}, audio: {expected, received}}` or `null`.
        diff: Value,
        /// `MEDIA_ACCESS_FALLBACK_STATE`: 0 fallbacking, 1 fallbacked, -1 error.
        state: i32,
        /// A screen capture.
        is_screensharing: bool,
        /// The audio-only fallback.
        is_audio_fallback: bool,
        /// The stream id once a stream exists.
        stream_id: Option<String>,
    },
    /// `mediaAccessStopped(isScreensharing, isAudioFallback, streamId)`.
    MediaAccessStopped {
        /// A screen capture.
        is_screensharing: bool,
        /// The audio-only fallback stream.
        is_audio_fallback: bool,
        /// The stopped stream.
        stream_id: String,
    },
    /// `incomingStream(peerId, stream, isSelf, peerInfo, isScreensharing, streamId)`.
    IncomingStream {
        /// Whose stream.
        peer_id: String,
        /// The stream id (msid).
        stream_id: String,
        /// Our own stream.
        is_self: bool,
        /// That peer's information.
        peer_info: PeerInfo,
        /// A screen capture.
        is_screensharing: bool,
    },
    /// `streamEnded(peerId, peerInfo, isSelf, isScreensharing, streamId)`.
    StreamEnded {
        /// Whose stream.
        peer_id: String,
        /// That peer's information.
        peer_info: PeerInfo,
        /// Our own stream.
        is_self: bool,
        /// A screen capture.
        is_screensharing: bool,
        /// The ended stream.
        stream_id: String,
    },
    /// `streamMuted(peerId, peerInfo, isSelf, isScreensharing)`.
    StreamMuted {
        /// Whose stream.
        peer_id: String,
        /// That peer's information (its `mediaStatus` holds the new state).
        peer_info: PeerInfo,
        /// Our own stream.
        is_self: bool,
        /// A screen capture.
        is_screensharing: bool,
    },
    /// `localMediaMuted({audioMuted, videoMuted})`.
    LocalMediaMuted {
        /// Audio muted (or no audio track).
        audio_muted: bool,
        /// Video muted (or no video track).
        video_muted: bool,
    },
}

impl Event {
    /// The reference's event name (`"peerJoined"`, `"incomingMessage"`, …).
    ///
    /// ```
    /// use skylink_room::Event;
    /// let ev = Event::SystemAction { action: "warning".into(), message: "".into(), reason: "toclose".into() };
    /// assert_eq!(ev.name(), "systemAction");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Event::ReadyStateChange { .. } => "readyStateChange",
            Event::ChannelOpen { .. } => "channelOpen",
            Event::ChannelClose { .. } => "channelClose",
            Event::ChannelMessage { .. } => "channelMessage",
            Event::ChannelError { .. } => "channelError",
            Event::ChannelRetry { .. } => "channelRetry",
            Event::SocketError { .. } => "socketError",
            Event::PeerJoined { .. } => "peerJoined",
            Event::PeerLeft { .. } => "peerLeft",
            Event::PeerUpdated { .. } => "peerUpdated",
            Event::HandshakeProgress { .. } => "handshakeProgress",
            Event::PeerConnectionState { .. } => "peerConnectionState",
            Event::IceConnectionState { .. } => "iceConnectionState",
            Event::CandidateGenerationState { .. } => "candidateGenerationState",
            Event::CandidateProcessingState { .. } => "candidateProcessingState",
            Event::CandidatesGathered { .. } => "candidatesGathered",
            Event::DataChannelState { .. } => "dataChannelState",
            Event::PeerRestart { .. } => "peerRestart",
            Event::ServerPeerJoined { .. } => "serverPeerJoined",
            Event::ServerPeerLeft { .. } => "serverPeerLeft",
            Event::ServerPeerRestart { .. } => "serverPeerRestart",
            Event::GetPeersStateChange { .. } => "getPeersStateChange",
            Event::IntroduceStateChange { .. } => "introduceStateChange",
            Event::GetConnectionStatusStateChange { .. } => "getConnectionStatusStateChange",
            Event::IncomingDataRequest { .. } => "incomingDataRequest",
            Event::DataTransferState { .. } => "dataTransferState",
            Event::IncomingData { .. } => "incomingData",
            Event::DataStreamState { .. } => "dataStreamState",
            Event::IncomingDataStreamStarted { .. } => "incomingDataStreamStarted",
            Event::IncomingDataStream { .. } => "incomingDataStream",
            Event::IncomingDataStreamStopped { .. } => "incomingDataStreamStopped",
            Event::IncomingMessage { .. } => "incomingMessage",
            Event::RoomLock { .. } => "roomLock",
            Event::SystemAction { .. } => "systemAction",
            Event::SessionDisconnect { .. } => "sessionDisconnect",
            Event::MediaAccessSuccess { .. } => "mediaAccessSuccess",
            Event::MediaAccessError { .. } => "mediaAccessError",
            Event::MediaAccessFallback { .. } => "mediaAccessFallback",
            Event::MediaAccessStopped { .. } => "mediaAccessStopped",
            Event::IncomingStream { .. } => "incomingStream",
            Event::StreamEnded { .. } => "streamEnded",
            Event::StreamMuted { .. } => "streamMuted",
            Event::LocalMediaMuted { .. } => "localMediaMuted",
        }
    }
}
