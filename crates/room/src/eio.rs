//! Engine.IO 3 packet framing over a websocket (one packet per text frame), with the
//! socket.io protocol 4 packet inside `message` packets decoded by [`skylink_sm::frame`].
//!
//! Sans-IO: [`decode`] turns one websocket text frame into an [`EioPacket`], and the
//! constants/encoders give the frames a client sends. Nothing here panics on any input.
//!
//! ```
//! use skylink_room::eio::{decode, EioPacket, SioEvent};
//! let open = decode(r#"0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#).unwrap();
//! assert!(matches!(open, EioPacket::Open(h) if h.ping_interval_ms == 25000));
//! let msg = decode(r#"42["message","{\"type\":\"bye\",\"mid\":\"a\"}"]"#).unwrap();
//! assert_eq!(msg, EioPacket::Socket(SioEvent::Message(r#"{"type":"bye","mid":"a"}"#.into())));
//! ```

use serde::Deserialize;
use skylink_sm::frame::{FrameError, SioPacket, message_payload, parse_packet};

/// Engine.IO `ping` packet as the client sends it (EIO3: the client pings).
pub const PING: &str = "2";
/// Engine.IO `pong` packet.
pub const PONG: &str = "3";
/// socket.io DISCONNECT for the default namespace, wrapped in an Engine.IO message (`41`).
pub const SIO_DISCONNECT: &str = "41";

/// The Engine.IO handshake (`open` packet data).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// Engine.IO session id.
    #[serde(default)]
    pub sid: String,
    /// Transports the server offers to upgrade to.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// How often the client must ping, in ms.
    #[serde(default = "default_ping_interval")]
    pub ping_interval_ms: u64,
    /// How long the client waits for a pong, in ms.
    #[serde(default = "default_ping_timeout")]
    pub ping_timeout_ms: u64,
}

fn default_ping_interval() -> u64 {
    25_000
}

fn default_ping_timeout() -> u64 {
    60_000
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHandshake {
    #[serde(default)]
    sid: String,
    #[serde(default)]
    upgrades: Vec<String>,
    #[serde(default)]
    ping_interval: Option<f64>,
    #[serde(default)]
    ping_timeout: Option<f64>,
}

/// What a socket.io packet inside an Engine.IO `message` means to a Skylink client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SioEvent {
    /// `0`: the server connected the default namespace (the channel is open).
    Connect,
    /// `1`: the server disconnected the namespace.
    Disconnect,
    /// `2["message","<json>"]`: a signaling message (the JSON text).
    Message(String),
    /// `4…`: a socket.io error packet (text kept).
    Error(String),
    /// Anything else (acks, binary, other namespaces, other event names): ignored.
    Ignored,
}

/// One decoded Engine.IO 3 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioPacket {
    /// `0{…}`: handshake.
    Open(Handshake),
    /// `1`: the server closes the session.
    Close,
    /// `2[data]`: a ping (servers do not normally ping an EIO3 client).
    Ping(String),
    /// `3[data]`: a pong.
    Pong(String),
    /// `4…`: a socket.io packet.
    Socket(SioEvent),
    /// `5`: upgrade.
    Upgrade,
    /// `6`: noop.
    Noop,
}

/// Errors decoding an Engine.IO packet.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EioError {
    /// Empty frame.
    #[error("empty engine.io packet")]
    Empty,
    /// Unknown Engine.IO packet type.
    #[error("unknown engine.io packet type {0:?}")]
    UnknownType(char),
    /// The handshake JSON did not parse.
    #[error("malformed engine.io handshake: {0}")]
    BadHandshake(String),
    /// The socket.io packet inside a message did not parse.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Decodes one websocket text frame.
///
/// # Errors
/// [`EioError`] for malformed input (never panics).
pub fn decode(text: &str) -> Result<EioPacket, EioError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(EioError::Empty)?;
    let rest = chars.as_str();
    match kind {
        '0' => {
            // serde would also read the struct from a JSON array, by position.
            if !rest.trim_start().starts_with('{') {
                return Err(EioError::BadHandshake("not a JSON object".into()));
            }
            let raw: RawHandshake =
                serde_json::from_str(rest).map_err(|e| EioError::BadHandshake(e.to_string()))?;
            let ms = |v: Option<f64>, d: u64| match v {
                Some(x) if x.is_finite() && x > 0.0 && x < 1e12 => x as u64,
                _ => d,
            };
            Ok(EioPacket::Open(Handshake {
                sid: raw.sid,
                upgrades: raw.upgrades,
                ping_interval_ms: ms(raw.ping_interval, default_ping_interval()),
                ping_timeout_ms: ms(raw.ping_timeout, default_ping_timeout()),
            }))
        }
        '1' => Ok(EioPacket::Close),
        '2' => Ok(EioPacket::Ping(rest.to_owned())),
        '3' => Ok(EioPacket::Pong(rest.to_owned())),
        '4' => Ok(EioPacket::Socket(decode_sio(rest)?)),
        '5' => Ok(EioPacket::Upgrade),
        '6' => Ok(EioPacket::Noop),
        other => Err(EioError::UnknownType(other)),
    }
}

fn decode_sio(text: &str) -> Result<SioEvent, EioError> {
    Ok(match parse_packet(text)? {
        SioPacket::Connect { nsp: "/" } => SioEvent::Connect,
        SioPacket::Disconnect { nsp: "/" } => SioEvent::Disconnect,
        SioPacket::Event { nsp: "/", data, .. } => match message_payload(data) {
            Ok(json) => SioEvent::Message(json.into_owned()),
            Err(FrameError::UnexpectedEvent(_)) => SioEvent::Ignored,
            Err(e) => return Err(e.into()),
        },
        SioPacket::Error { nsp: "/", data } => SioEvent::Error(data.to_owned()),
        _ => SioEvent::Ignored,
    })
}

/// The websocket URL socket.io-client builds for `{scheme}://{host}:{port}?rand=…`
/// (spec §2.2): `ws[s]://host[:port]/socket.io/?rand=…&EIO=3&transport=websocket`; the port
/// is omitted when it is the scheme default.
pub fn websocket_url(secure: bool, host: &str, port: u16, rand: Option<&str>) -> String {
    let (scheme, default_port) = if secure { ("wss", 443) } else { ("ws", 80) };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let authority = if port == default_port {
        host
    } else {
        format!("{host}:{port}")
    };
    let query = match rand {
        Some(r) => format!("rand={r}&"),
        None => String::new(),
    };
    format!("{scheme}://{authority}/socket.io/?{query}EIO=3&transport=websocket")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_packets_a_server_sends() {
        assert_eq!(decode("40").unwrap(), EioPacket::Socket(SioEvent::Connect));
        assert_eq!(
            decode("41").unwrap(),
            EioPacket::Socket(SioEvent::Disconnect)
        );
        assert_eq!(decode("3").unwrap(), EioPacket::Pong(String::new()));
        assert_eq!(decode("3probe").unwrap(), EioPacket::Pong("probe".into()));
        assert_eq!(decode("1").unwrap(), EioPacket::Close);
        assert_eq!(decode("6").unwrap(), EioPacket::Noop);
        assert_eq!(
            decode(r#"42["other",1]"#).unwrap(),
            EioPacket::Socket(SioEvent::Ignored)
        );
        assert_eq!(
            decode(r#"42["message","{\"type\":\"public\",\"data\":\"h\u00e9\"}"]"#).unwrap(),
            EioPacket::Socket(SioEvent::Message(r#"{"type":"public","data":"hé"}"#.into()))
        );
        assert!(matches!(decode(""), Err(EioError::Empty)));
        assert!(matches!(decode("9"), Err(EioError::UnknownType('9'))));
        assert!(matches!(decode("0{"), Err(EioError::BadHandshake(_))));
        assert!(decode(r#"42["message",{}]"#).is_err());
    }

    #[test]
    fn handshake_defaults_and_values() {
        let EioPacket::Open(h) =
            decode(r#"0{"sid":"s","upgrades":[],"pingInterval":1000,"pingTimeout":500}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!((h.ping_interval_ms, h.ping_timeout_ms), (1000, 500));
        let EioPacket::Open(h) = decode(r#"0{"pingInterval":-1}"#).unwrap() else {
            panic!()
        };
        assert_eq!((h.ping_interval_ms, h.ping_timeout_ms), (25_000, 60_000));
    }

    #[test]
    fn websocket_urls() {
        assert_eq!(
            websocket_url(true, "sig.example.com", 443, Some("17")),
            "wss://sig.example.com/socket.io/?rand=17&EIO=3&transport=websocket"
        );
        assert_eq!(
            websocket_url(false, "127.0.0.1", 8018, None),
            "ws://127.0.0.1:8018/socket.io/?EIO=3&transport=websocket"
        );
        assert_eq!(
            websocket_url(false, "::1", 80, None),
            "ws://[::1]/socket.io/?EIO=3&transport=websocket"
        );
    }
}
