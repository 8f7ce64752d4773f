//! The reference's constant groups (`Skylink.READY_STATE_CHANGE`, `Skylink.SOCKET_ERROR`, …) as
//! Rust enums.
//!
//! Every group implements [`Constant`]: its reference name ([`Constant::GROUP`]), every value
//! in reference order ([`Constant::ALL`]), the reference key of a value ([`Constant::key`],
//! e.g. `"COMPLETED"`) and the value itself as JSON ([`Constant::json_value`]). String groups
//! also have `as_str()`, number groups `value()`; the groups defined here (de)serialize as
//! their reference values. Groups the engine already defines are re-exported from
//! `skylink-room` / `skylink-sm` rather than duplicated; use [`as_value`] to (de)serialize any
//! group by value with `#[serde(with = "skylink::constants::as_value")]`.
//!
//! Where the reference's documented value differs from what skylinkjs 0.6.26 really emits (a
//! documentation typo), the emitted value is used, `FromStr` also accepts the documented
//! spelling, and the variant says so.
//!
//! ```
//! use skylink::constants::{Constant, LogLevel, SystemActionReason};
//! assert_eq!(LogLevel::Debug.value(), 4);
//! assert_eq!(SystemActionReason::RoomLocked.as_str(), "locked");
//! assert_eq!(SystemActionReason::RoomLocked.key(), "ROOM_LOCKED");
//! assert_eq!("toclose".parse::<SystemActionReason>().ok(), Some(SystemActionReason::RoomClosing));
//! assert_eq!(LogLevel::from_json_value(&serde_json::json!(-1)), Some(LogLevel::None));
//! ```

use serde_json::Value;

pub use skylink_room::{
    HandshakeProgress, PriorityWeightScheme, ReadyState, SocketErrorCode, SocketFallback,
};
pub use skylink_sm::room_api::{ApiErrorCode, ClientErrorCode};

/// The SM protocol version of the reference (`SM_PROTOCOL_VERSION`).
pub const SM_PROTOCOL_VERSION: &str = "0.1.4";
/// The DT protocol version of the reference (`DT_PROTOCOL_VERSION`).
pub const DT_PROTOCOL_VERSION: &str = "0.1.0";

/// A constant group of the reference.
pub trait Constant: Copy + Eq + std::fmt::Debug + Sized + 'static {
    /// The reference's attribute name, e.g. `"READY_STATE_CHANGE"`.
    const GROUP: &'static str;
    /// Every value, in reference order.
    const ALL: &'static [Self];
    /// The reference key of this value, e.g. `"COMPLETED"`.
    fn key(self) -> &'static str;
    /// The value as JSON (a number or a string).
    fn json_value(self) -> Value;
    /// The constant whose value equals `v`.
    fn from_json_value(v: &Value) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.json_value() == *v)
    }
    /// The constant with this reference key.
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.key() == key)
    }
}

/// `#[serde(with = "skylink::constants::as_value")]`: (de)serializes any [`Constant`] as its
/// reference value.
///
/// ```
/// use skylink::constants::ReadyState;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct S { #[serde(with = "skylink::constants::as_value")] state: ReadyState }
/// let s: S = serde_json::from_str(r#"{"state":2}"#).unwrap();
/// assert_eq!(s.state, ReadyState::Completed);
/// assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"state":2}"#);
/// ```
pub mod as_value {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Constant;

    /// Serializes `c` as its reference value.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<T: Constant, S: Serializer>(c: &T, s: S) -> Result<S::Ok, S::Error> {
        c.json_value().serialize(s)
    }

    /// Deserializes a reference value.
    ///
    /// # Errors
    /// When the value is not one of the group's.
    pub fn deserialize<'de, T: Constant, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        T::from_json_value(&v)
            .ok_or_else(|| serde::de::Error::custom(format!("{v} is not a {} value", T::GROUP)))
    }
}

/// The error of parsing a constant from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a {group} value")]
pub struct UnknownConstant {
    /// The group (`"LOG_LEVEL"`, …).
    pub group: &'static str,
    /// The text that was given.
    pub value: String,
}

/// Defines a string-valued constant group.
macro_rules! string_constants {
    (
        $(#[$meta:meta])*
        $name:ident = $group:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $key:literal : $value:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $value $(, alias = $alias)*)] $variant, )+
        }

        impl $name {
            /// The reference value.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $value, )+ }
            }
        }

        impl Constant for $name {
            const GROUP: &'static str = $group;
            const ALL: &'static [Self] = &[ $( $name::$variant ),+ ];
            fn key(self) -> &'static str {
                match self { $( $name::$variant => $key, )+ }
            }
            fn json_value(self) -> Value {
                Value::String(self.as_str().to_owned())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownConstant;
            fn from_str(s: &str) -> Result<Self, UnknownConstant> {
                match s {
                    $( $value $(| $alias)* => Ok($name::$variant), )+
                    _ => Err(UnknownConstant { group: $group, value: s.to_owned() }),
                }
            }
        }
    };
}

/// Defines a number-valued constant group.
macro_rules! number_constants {
    (
        $(#[$meta:meta])*
        $name:ident = $group:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $key:literal : $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )+
        }

        impl $name {
            /// The reference value.
            pub fn value(self) -> i32 {
                self as i32
            }

            /// The constant with this value.
            pub fn from_value(v: i32) -> Option<Self> {
                match v { $( $value => Some($name::$variant), )+ _ => None }
            }
        }

        impl Constant for $name {
            const GROUP: &'static str = $group;
            const ALL: &'static [Self] = &[ $( $name::$variant ),+ ];
            fn key(self) -> &'static str {
                match self { $( $name::$variant => $key, )+ }
            }
            fn json_value(self) -> Value {
                Value::from(self.value())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_i32(self.value())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = i32::deserialize(d)?;
                $name::from_value(v).ok_or_else(|| {
                    serde::de::Error::custom(format!("{v} is not a {} value", $group))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.value())
            }
        }
    };
}

number_constants! {
    /// `READY_STATE_CHANGE_ERROR`: the failure codes of `init()` (`readyStateChange(ERROR)`'s
    /// `error.errorCode`). Server codes are [`ApiErrorCode`], client codes [`ClientErrorCode`];
    /// this is the whole group.
    ReadyStateChangeError = "READY_STATE_CHANGE_ERROR" {
        /// 4001: the app key does not exist.
        ApiInvalid = "API_INVALID": 4001,
        /// 4002: the key's domain does not match.
        ApiDomainNotMatch = "API_DOMAIN_NOT_MATCH": 4002,
        /// 4003: the key's CORS URL does not match.
        ApiCorsDomainNotMatch = "API_CORS_DOMAIN_NOT_MATCH": 4003,
        /// 4004: no CORS origin and no credentials.
        ApiCredentialsInvalid = "API_CREDENTIALS_INVALID": 4004,
        /// 4005: the credentials do not verify.
        ApiCredentialsNotMatch = "API_CREDENTIALS_NOT_MATCH": 4005,
        /// 4006: the key belongs to no app.
        ApiInvalidParentKey = "API_INVALID_PARENT_KEY": 4006,
        /// 4010: no scheduled meeting matches (persistent rooms).
        ApiNoMeetingRecordFound = "API_NO_MEETING_RECORD_FOUND": 4010,
        /// 4020: concurrent-user limit reached.
        ApiOverSeatLimit = "API_OVER_SEAT_LIMIT": 4020,
        /// 4021: token retrieval failed.
        ApiRetrievalFailed = "API_RETRIEVAL_FAILED": 4021,
        /// 5005: the request went to the wrong auth server.
        ApiWrongAccessDomain = "API_WRONG_ACCESS_DOMAIN": 5005,
        /// −1: the request failed (network error / timeout).
        XmlHttpRequestError = "XML_HTTP_REQUEST_ERROR": -1,
        /// −2: no response after every attempt (in 0.6.26's code, not its documentation).
        XmlHttpNoResponseError = "XML_HTTP_NO_REPONSE_ERROR": -2,
        /// 1: no socket.io client.
        NoSocketIo = "NO_SOCKET_IO": 1,
        /// 2: no XMLHttpRequest support.
        NoXmlHttpRequestSupport = "NO_XMLHTTPREQUEST_SUPPORT": 2,
        /// 3: no WebRTC support.
        NoWebrtcSupport = "NO_WEBRTC_SUPPORT": 3,
        /// 4: the `init()` configuration has errors.
        NoPath = "NO_PATH": 4,
        /// 7: adapter not loaded (no value in the reference's text; 7 in 0.6.26).
        AdapterNoLoaded = "ADAPTER_NO_LOADED": 7,
        /// 8: codec support could not be parsed.
        ParseCodecs = "PARSE_CODECS": 8,
    }
}

impl From<ApiErrorCode> for ReadyStateChangeError {
    fn from(c: ApiErrorCode) -> Self {
        // Every server code is in the group.
        ReadyStateChangeError::from_value(c.code()).unwrap_or(ReadyStateChangeError::NoPath)
    }
}

impl From<ClientErrorCode> for ReadyStateChangeError {
    fn from(c: ClientErrorCode) -> Self {
        ReadyStateChangeError::from_value(c.code()).unwrap_or(ReadyStateChangeError::NoPath)
    }
}

number_constants! {
    /// `GET_CONNECTION_STATUS_STATE`: `getConnectionStatus()` retrieval states.
    GetConnectionStatusState = "GET_CONNECTION_STATUS_STATE" {
        /// 0: retrieving the stats.
        Retrieving = "RETRIEVING": 0,
        /// 1: retrieved.
        RetrieveSuccess = "RETRIEVE_SUCCESS": 1,
        /// −1: failed.
        RetrieveError = "RETRIEVE_ERROR": -1,
    }
}

number_constants! {
    /// `LOG_LEVEL`: the SDK log levels (higher shows more). The default is `ERROR`.
    LogLevel = "LOG_LEVEL" {
        /// 4: `debug`, `log`, `info`, `warn` and `error` logs.
        Debug = "DEBUG": 4,
        /// 3: `log`, `info`, `warn` and `error` logs.
        Log = "LOG": 3,
        /// 2: `info`, `warn` and `error` logs.
        Info = "INFO": 2,
        /// 1: `warn` and `error` logs.
        Warn = "WARN": 1,
        /// 0: `error` logs only (the default).
        Error = "ERROR": 0,
        /// −1: no logs.
        None = "NONE": -1,
    }
}

number_constants! {
    /// `RECORDING_STATE`: MCU recording session states.
    RecordingState = "RECORDING_STATE" {
        /// 0: recording started.
        Start = "START": 0,
        /// 1: recording stopped (mixing follows).
        Stop = "STOP": 1,
        /// 2: the mixed recording link is ready.
        Link = "LINK": 2,
        /// −1: recording or mixing failed.
        Error = "ERROR": -1,
    }
}

string_constants! {
    /// `PEER_CONNECTION_STATE`: session-description exchange (signaling) states.
    PeerConnectionState = "PEER_CONNECTION_STATE" {
        /// No description is being exchanged.
        Stable = "STABLE": "stable",
        /// Local offer set.
        HaveLocalOffer = "HAVE_LOCAL_OFFER": "have-local-offer",
        /// Remote offer set.
        HaveRemoteOffer = "HAVE_REMOTE_OFFER": "have-remote-offer",
        /// The connection is closed.
        Closed = "CLOSED": "closed",
    }
}

string_constants! {
    /// `ICE_CONNECTION_STATE`: ICE connection states.
    IceConnectionState = "ICE_CONNECTION_STATE" {
        /// Checking candidate pairs.
        Checking = "CHECKING": "checking",
        /// A pair works; checking goes on.
        Connected = "CONNECTED": "connected",
        /// The best pair was found.
        Completed = "COMPLETED": "completed",
        /// ICE failed.
        Failed = "FAILED": "failed",
        /// Connectivity lost (may recover).
        Disconnected = "DISCONNECTED": "disconnected",
        /// ICE is shut down.
        Closed = "CLOSED": "closed",
        /// ICE failed while trickling. 0.6.26 emits `"trickleFailed"`; the reference's text
        /// says `"trickeFailed"` (accepted by `FromStr` and serde).
        TrickleFailed = "TRICKLE_FAILED": "trickleFailed" | "trickeFailed",
    }
}

string_constants! {
    /// `CANDIDATE_GENERATION_STATE`: local ICE gathering states.
    CandidateGenerationState = "CANDIDATE_GENERATION_STATE" {
        /// Gathering candidates.
        Gathering = "GATHERING": "gathering",
        /// Gathering finished.
        Completed = "COMPLETED": "completed",
    }
}

string_constants! {
    /// `CANDIDATE_PROCESSING_STATE`: remote (trickled) candidate processing states.
    CandidateProcessingState = "CANDIDATE_PROCESSING_STATE" {
        /// Received.
        Received = "RECEIVED": "received",
        /// Dropped. The reference's text gives `"received"` (a typo: two keys cannot share a
        /// value); 0.6.26 emits `"dropped"`.
        Dropped = "DROPPED": "dropped",
        /// Buffered until the remote description is set.
        Buffered = "BUFFERED": "buffered",
        /// Being added.
        Processing = "PROCESSING": "processing",
        /// Added.
        ProcessSuccess = "PROCESS_SUCCESS": "processSuccess",
        /// Adding failed.
        ProcessError = "PROCESS_ERROR": "processError",
    }
}

string_constants! {
    /// `DATA_CHANNEL_STATE`: data channel states.
    DataChannelState = "DATA_CHANNEL_STATE" {
        /// Connecting.
        Connecting = "CONNECTING": "connecting",
        /// Open.
        Open = "OPEN": "open",
        /// Closing.
        Closing = "CLOSING": "closing",
        /// Closed.
        Closed = "CLOSED": "closed",
        /// An error occurred.
        Error = "ERROR": "error",
        /// The channel could not be created.
        CreateError = "CREATE_ERROR": "createError",
        /// The buffered amount fell below the threshold.
        BufferedAmountLow = "BUFFERED_AMOUNT_LOW": "bufferedAmountLow",
        /// A message or transfer packet could not be sent.
        SendMessageError = "SEND_MESSAGE_ERROR": "sendMessageError",
    }
}

string_constants! {
    /// `DATA_CHANNEL_TYPE`: data channel kinds.
    DataChannelType = "DATA_CHANNEL_TYPE" {
        /// The peer connection's persistent messaging channel.
        Messaging = "MESSAGING": "messaging",
        /// A per-transfer channel.
        Data = "DATA": "data",
    }
}

string_constants! {
    /// `DATA_CHANNEL_MESSAGE_ERROR`: what a `sendMessageError` was sending.
    DataChannelMessageError = "DATA_CHANNEL_MESSAGE_ERROR" {
        /// A `sendP2PMessage()` message.
        Message = "MESSAGE": "message",
        /// A data transfer.
        Transfer = "TRANSFER": "transfer",
    }
}

string_constants! {
    /// `SYSTEM_ACTION`: the signaling server's reactions (`systemAction` event).
    SystemAction = "SYSTEM_ACTION" {
        /// The session is about to end.
        Warning = "WARNING": "warning",
        /// The session failed to start or ended.
        Reject = "REJECT": "reject",
    }
}

string_constants! {
    /// `SYSTEM_ACTION_REASON`: why the server acted.
    SystemActionReason = "SYSTEM_ACTION_REASON" {
        /// The room token expired.
        CredentialsExpired = "CREDENTIALS_EXPIRED": "oldTimeStamp",
        /// The room token is invalid.
        CredentialsError = "CREDENTIALS_ERROR": "credentialError",
        /// The room token was used already.
        DuplicatedLogin = "DUPLICATED_LOGIN": "duplicatedLogin",
        /// The room session has not started.
        RoomNotStarted = "ROOM_NOT_STARTED": "notStart",
        /// The room session has ended.
        Expired = "EXPIRED": "expired",
        /// The room is locked.
        RoomLocked = "ROOM_LOCKED": "locked",
        /// Messages are sent too fast.
        FastMessage = "FAST_MESSAGE": "fastmsg",
        /// The room is closing. The `systemAction` event of 0.6.26 carries it lower-cased
        /// (`"toclose"`), which `FromStr` and serde accept too.
        RoomClosing = "ROOM_CLOSING": "toClose" | "toclose",
        /// The room has closed.
        RoomClosed = "ROOM_CLOSED": "roomclose",
        /// Server error.
        ServerError = "SERVER_ERROR": "serverError",
        /// App key initialisation error.
        KeyError = "KEY_ERROR": "keyFailed",
    }
}

string_constants! {
    /// `SERVER_PEER_TYPE`: kinds of server peers.
    ServerPeerType = "SERVER_PEER_TYPE" {
        /// The MCU.
        Mcu = "MCU": "mcu",
    }
}

string_constants! {
    /// `GET_PEERS_STATE`: `getPeers()` states (privileged keys).
    GetPeersState = "GET_PEERS_STATE" {
        /// The request was sent.
        Enquired = "ENQUIRED": "enquired",
        /// The list arrived.
        Received = "RECEIVED": "received",
    }
}

string_constants! {
    /// `INTRODUCE_STATE`: `introducePeer()` states (privileged keys).
    IntroduceState = "INTRODUCE_STATE" {
        /// The introduction was requested. 0.6.26 emits `"introducing"`; the reference's text
        /// says `"enquired"` (accepted by `FromStr` and serde).
        Introducing = "INTRODUCING": "introducing" | "enquired",
        /// The introduction failed.
        Error = "ERROR": "error",
    }
}

string_constants! {
    /// `BUNDLE_POLICY`: peer connection bundle policies (`init()` option).
    BundlePolicy = "BUNDLE_POLICY" {
        /// One transport per media type.
        MaxCompat = "MAX_COMPAT": "max-compat",
        /// One transport for everything.
        MaxBundle = "MAX_BUNDLE": "max-bundle",
        /// `MAX_BUNDLE` when the peer supports it.
        Balanced = "BALANCED": "balanced",
        /// No bundling (removes `a=group:BUNDLE`).
        None = "NONE": "none",
    }
}

string_constants! {
    /// `RTCP_MUX_POLICY`: peer connection RTCP multiplexing (`init()` option).
    RtcpMuxPolicy = "RTCP_MUX_POLICY" {
        /// RTP and RTCP share candidates.
        Require = "REQUIRE": "require",
        /// Separate RTCP candidates too.
        Negotiate = "NEGOTIATE": "negotiate",
    }
}

string_constants! {
    /// `PEER_CERTIFICATE`: the DTLS certificate algorithm (`init()` option).
    PeerCertificate = "PEER_CERTIFICATE" {
        /// RSA-1024.
        Rsa = "RSA": "RSA",
        /// ECDSA.
        Ecdsa = "ECDSA": "ECDSA",
        /// The default certificate.
        Auto = "AUTO": "AUTO",
    }
}

string_constants! {
    /// `TURN_TRANSPORT`: the `?transport=` of TURN server URLs (`init()` option).
    TurnTransport = "TURN_TRANSPORT" {
        /// TCP only.
        Tcp = "TCP": "tcp",
        /// UDP only.
        Udp = "UDP": "udp",
        /// As the signaling server gives them.
        Any = "ANY": "any",
        /// No `?transport=`.
        None = "NONE": "none",
        /// Both TCP and UDP.
        All = "ALL": "all",
    }
}

// --- The groups the engine defines, re-exported above. ---

impl Constant for ReadyState {
    const GROUP: &'static str = "READY_STATE_CHANGE";
    const ALL: &'static [Self] = &[
        ReadyState::Init,
        ReadyState::Loading,
        ReadyState::Completed,
        ReadyState::Error,
    ];
    fn key(self) -> &'static str {
        match self {
            ReadyState::Init => "INIT",
            ReadyState::Loading => "LOADING",
            ReadyState::Completed => "COMPLETED",
            ReadyState::Error => "ERROR",
        }
    }
    fn json_value(self) -> Value {
        Value::from(self as i32)
    }
}

impl Constant for HandshakeProgress {
    const GROUP: &'static str = "HANDSHAKE_PROGRESS";
    const ALL: &'static [Self] = &[
        HandshakeProgress::Enter,
        HandshakeProgress::Welcome,
        HandshakeProgress::Offer,
        HandshakeProgress::Answer,
        HandshakeProgress::Error,
    ];
    fn key(self) -> &'static str {
        match self {
            HandshakeProgress::Enter => "ENTER",
            HandshakeProgress::Welcome => "WELCOME",
            HandshakeProgress::Offer => "OFFER",
            HandshakeProgress::Answer => "ANSWER",
            HandshakeProgress::Error => "ERROR",
        }
    }
    fn json_value(self) -> Value {
        let v = match self {
            HandshakeProgress::Enter => "enter",
            HandshakeProgress::Welcome => "welcome",
            HandshakeProgress::Offer => "offer",
            HandshakeProgress::Answer => "answer",
            HandshakeProgress::Error => "error",
        };
        Value::String(v.to_owned())
    }
}

impl Constant for SocketErrorCode {
    const GROUP: &'static str = "SOCKET_ERROR";
    const ALL: &'static [Self] = &[
        SocketErrorCode::ConnectionFailed,
        SocketErrorCode::ReconnectionFailed,
        SocketErrorCode::ConnectionAborted,
        SocketErrorCode::ReconnectionAborted,
        SocketErrorCode::ReconnectionAttempt,
    ];
    fn key(self) -> &'static str {
        match self {
            SocketErrorCode::ConnectionFailed => "CONNECTION_FAILED",
            SocketErrorCode::ReconnectionFailed => "RECONNECTION_FAILED",
            SocketErrorCode::ConnectionAborted => "CONNECTION_ABORTED",
            SocketErrorCode::ReconnectionAborted => "RECONNECTION_ABORTED",
            SocketErrorCode::ReconnectionAttempt => "RECONNECTION_ATTEMPT",
        }
    }
    fn json_value(self) -> Value {
        Value::from(self.code())
    }
}

impl Constant for SocketFallback {
    const GROUP: &'static str = "SOCKET_FALLBACK";
    const ALL: &'static [Self] = &[
        SocketFallback::NonFallback,
        SocketFallback::FallbackPortNonSsl,
        SocketFallback::FallbackPortSsl,
        SocketFallback::LongPollingNonSsl,
        SocketFallback::LongPollingSsl,
    ];
    fn key(self) -> &'static str {
        match self {
            SocketFallback::NonFallback => "NON_FALLBACK",
            SocketFallback::FallbackPortNonSsl => "FALLBACK_PORT",
            SocketFallback::FallbackPortSsl => "FALLBACK_PORT_SSL",
            SocketFallback::LongPollingNonSsl => "LONG_POLLING",
            SocketFallback::LongPollingSsl => "LONG_POLLING_SSL",
        }
    }
    fn json_value(self) -> Value {
        Value::String(self.as_str().to_owned())
    }
}

impl Constant for PriorityWeightScheme {
    const GROUP: &'static str = "PRIORITY_WEIGHT_SCHEME";
    const ALL: &'static [Self] = &[
        PriorityWeightScheme::EnforceOfferer,
        PriorityWeightScheme::EnforceAnswerer,
        PriorityWeightScheme::Auto,
    ];
    fn key(self) -> &'static str {
        match self {
            PriorityWeightScheme::EnforceOfferer => "ENFORCE_OFFERER",
            PriorityWeightScheme::EnforceAnswerer => "ENFORCE_ANSWERER",
            PriorityWeightScheme::Auto => "AUTO",
        }
    }
    fn json_value(self) -> Value {
        Value::String(self.as_str().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn roundtrip<T: Constant>() {
        let mut seen = Vec::new();
        for c in T::ALL {
            let v = c.json_value();
            assert!(!seen.contains(&v), "{}: duplicate value {v}", T::GROUP);
            seen.push(v.clone());
            assert_eq!(T::from_json_value(&v), Some(*c));
            assert_eq!(T::from_key(c.key()), Some(*c));
        }
    }

    #[test]
    fn every_group_round_trips_and_has_unique_values() {
        roundtrip::<ReadyState>();
        roundtrip::<ReadyStateChangeError>();
        roundtrip::<HandshakeProgress>();
        roundtrip::<PeerConnectionState>();
        roundtrip::<IceConnectionState>();
        roundtrip::<CandidateGenerationState>();
        roundtrip::<CandidateProcessingState>();
        roundtrip::<DataChannelState>();
        roundtrip::<DataChannelType>();
        roundtrip::<DataChannelMessageError>();
        roundtrip::<SystemAction>();
        roundtrip::<SystemActionReason>();
        roundtrip::<SocketErrorCode>();
        roundtrip::<SocketFallback>();
        roundtrip::<ServerPeerType>();
        roundtrip::<GetPeersState>();
        roundtrip::<IntroduceState>();
        roundtrip::<GetConnectionStatusState>();
        roundtrip::<PriorityWeightScheme>();
        roundtrip::<LogLevel>();
        roundtrip::<RecordingState>();
        roundtrip::<BundlePolicy>();
        roundtrip::<RtcpMuxPolicy>();
        roundtrip::<PeerCertificate>();
        roundtrip::<TurnTransport>();
    }

    #[test]
    fn reference_values() {
        assert_eq!(ReadyState::Error.json_value(), json!(-1));
        assert_eq!(ReadyStateChangeError::ApiWrongAccessDomain.value(), 5005);
        assert_eq!(SocketErrorCode::ReconnectionAttempt.json_value(), json!(-4));
        assert_eq!(SocketFallback::FallbackPortNonSsl.key(), "FALLBACK_PORT");
        assert_eq!(
            DataChannelState::SendMessageError.as_str(),
            "sendMessageError"
        );
        assert_eq!(
            PeerConnectionState::HaveLocalOffer.as_str(),
            "have-local-offer"
        );
        assert_eq!(
            SystemActionReason::CredentialsExpired.as_str(),
            "oldTimeStamp"
        );
        assert_eq!(GetConnectionStatusState::RetrieveError.value(), -1);
        assert_eq!(LogLevel::None.value(), -1);
        assert_eq!(
            ReadyStateChangeError::from(ApiErrorCode::ApiOverSeatLimit),
            ReadyStateChangeError::ApiOverSeatLimit
        );
        assert_eq!(
            ReadyStateChangeError::from(ClientErrorCode::XmlHttpNoResponseError).value(),
            -2
        );
        for c in ApiErrorCode::ALL {
            assert_eq!(ReadyStateChangeError::from(c).value(), c.code());
        }
    }

    #[test]
    fn serde_uses_values_and_accepts_documented_spellings() {
        assert_eq!(serde_json::to_value(LogLevel::Warn).unwrap(), json!(1));
        assert_eq!(
            serde_json::from_value::<LogLevel>(json!(4)).unwrap(),
            LogLevel::Debug
        );
        assert!(serde_json::from_value::<LogLevel>(json!(9)).is_err());
        assert_eq!(
            serde_json::to_value(IceConnectionState::TrickleFailed).unwrap(),
            json!("trickleFailed")
        );
        assert_eq!(
            serde_json::from_value::<IceConnectionState>(json!("trickeFailed")).unwrap(),
            IceConnectionState::TrickleFailed
        );
        assert_eq!(
            "enquired".parse::<IntroduceState>().unwrap(),
            IntroduceState::Introducing
        );
        let err = "nope".parse::<SystemAction>().unwrap_err();
        assert_eq!(err.group, "SYSTEM_ACTION");
        assert_eq!(LogLevel::Info.to_string(), "2");
        assert_eq!(DataChannelType::Messaging.to_string(), "messaging");
    }
}
