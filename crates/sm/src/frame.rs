//! Socket.IO protocol 4 packet framing as used by skylinkjs 0.6 (socket.io-client 1.4.8).
//!
//! Skylink only ever uses the event `message` with one JSON *string* argument, so this module
//! offers exactly that: decode a Socket.IO packet, pull the JSON text out of a `message` event,
//! and encode a `message` event. Encoded frames are pure ASCII (non-ASCII characters become
//! `\uXXXX` escapes, which JSON allows anywhere a character may appear in a string). That
//! sidesteps the Engine.IO 3 long-polling quirk where socket.io-client 1.4.8 counts payload
//! lengths in UTF-8 bytes while other implementations count characters.
//!
//! ```
//! use skylink_sm::frame::{encode_message_event, parse_packet, SioPacket, message_payload};
//! let frame = encode_message_event(r#"{"type":"public","data":"héllo"}"#);
//! assert!(frame.is_ascii());
//! let SioPacket::Event { data, .. } = parse_packet(&frame).unwrap() else { panic!() };
//! assert_eq!(message_payload(data).unwrap(), r#"{"type":"public","data":"héllo"}"#);
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

/// Errors raised while decoding a Socket.IO packet or a `message` event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// The packet was empty.
    #[error("empty socket.io packet")]
    Empty,
    /// The first character is not a known Socket.IO packet type.
    #[error("unknown socket.io packet type {0:?}")]
    UnknownType(char),
    /// The packet's JSON data did not parse.
    #[error("malformed socket.io packet data: {0}")]
    BadData(String),
    /// The event is not `message` (skylinkjs 0.6 uses no other event).
    #[error("unexpected socket.io event {0:?}")]
    UnexpectedEvent(String),
    /// The event's argument is not a single JSON string.
    #[error("socket.io `message` argument is not a string")]
    NotAString,
}

/// A decoded Socket.IO (protocol 4) packet, borrowing from the input text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SioPacket<'a> {
    /// `0[nsp]`: namespace connect.
    Connect {
        /// Namespace, `/` when absent.
        nsp: &'a str,
    },
    /// `1[nsp]`: namespace disconnect.
    Disconnect {
        /// Namespace, `/` when absent.
        nsp: &'a str,
    },
    /// `2[nsp,][id][json array]`: an event.
    Event {
        /// Namespace, `/` when absent.
        nsp: &'a str,
        /// Acknowledgement id, if the sender asked for one.
        id: Option<u64>,
        /// The JSON array text: event name then arguments.
        data: &'a str,
    },
    /// `3[nsp,][id][json array]`: an acknowledgement.
    Ack {
        /// Namespace, `/` when absent.
        nsp: &'a str,
        /// Acknowledgement id.
        id: Option<u64>,
        /// The JSON array text.
        data: &'a str,
    },
    /// `4[nsp,][json]`: an error packet.
    Error {
        /// Namespace, `/` when absent.
        nsp: &'a str,
        /// Error data.
        data: &'a str,
    },
    /// `5`/`6`: binary event or ack (never used by Skylink).
    Binary,
}

/// Decodes one Socket.IO packet (the text after the Engine.IO `4` message prefix).
///
/// # Errors
/// [`FrameError::Empty`] or [`FrameError::UnknownType`] for text that is not a packet.
pub fn parse_packet(text: &str) -> Result<SioPacket<'_>, FrameError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(FrameError::Empty)?;
    let mut rest = chars.as_str();
    if matches!(kind, '5' | '6') {
        return Ok(SioPacket::Binary);
    }
    let mut nsp = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        nsp = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = if digits > 0 {
        rest[..digits].parse().ok()
    } else {
        None
    };
    let data = &rest[digits..];
    match kind {
        '0' => Ok(SioPacket::Connect { nsp }),
        '1' => Ok(SioPacket::Disconnect { nsp }),
        '2' => Ok(SioPacket::Event { nsp, id, data }),
        '3' => Ok(SioPacket::Ack { nsp, id, data }),
        '4' => Ok(SioPacket::Error { nsp, data }),
        other => Err(FrameError::UnknownType(other)),
    }
}

/// Extracts the JSON text carried by a `["message","<json>"]` event array.
///
/// Borrows from the input when the string has no escapes (never the case for real JSON
/// payloads, which quote their keys), otherwise allocates.
///
/// # Errors
/// [`FrameError::BadData`] for a malformed array, [`FrameError::UnexpectedEvent`] for another
/// event name, [`FrameError::NotAString`] when the argument is not a string.
pub fn message_payload(event_array: &str) -> Result<Cow<'_, str>, FrameError> {
    // Fast path for the exact shape JSON.stringify produces; anything else takes the general
    // parser (which also produces the precise error).
    if let Some(inner) = event_array
        .strip_prefix("[\"message\",\"")
        .and_then(|rest| rest.strip_suffix("\"]"))
        && let Some(text) = unescape_json_string(inner)
    {
        return Ok(text);
    }
    // A 2-tuple: exactly two elements, no intermediate allocation.
    let (name, arg): (&serde_json::value::RawValue, &serde_json::value::RawValue) =
        serde_json::from_str(event_array).map_err(|e| FrameError::BadData(e.to_string()))?;
    let name: Cow<'_, str> =
        serde_json::from_str(name.get()).map_err(|_| FrameError::BadData("event name".into()))?;
    if name != "message" {
        return Err(FrameError::UnexpectedEvent(name.into_owned()));
    }
    let raw = arg.get();
    if !raw.starts_with('"') {
        return Err(FrameError::NotAString);
    }
    // Re-borrow from the caller's buffer rather than the temporary vector.
    let offset = raw.as_ptr() as usize - event_array.as_ptr() as usize;
    let raw = &event_array[offset..offset + raw.len()];
    let inner = &raw[1..raw.len() - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw)
        .map(Cow::Owned)
        .map_err(|e| FrameError::BadData(e.to_string()))
}

/// Decodes the body of a JSON string literal (without its quotes). `None` when it is not a
/// valid body (unescaped quote, control character, bad escape, lone surrogate).
fn unescape_json_string(body: &str) -> Option<Cow<'_, str>> {
    let bytes = body.as_bytes();
    let Some(first) = bytes
        .iter()
        .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
    else {
        return Some(Cow::Borrowed(body));
    };
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    let mut next = first;
    loop {
        out.push_str(body.get(i..next)?);
        let Some(&b) = bytes.get(next) else {
            return Some(Cow::Owned(out));
        };
        if b != b'\\' {
            return None; // an unescaped quote or control character
        }
        let escape = *bytes.get(next + 1)?;
        i = next + 2;
        match escape {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let unit = hex4(bytes.get(i..i + 4)?)?;
                i += 4;
                let c = if (0xD800..0xDC00).contains(&unit) {
                    if bytes.get(i..i + 2)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(bytes.get(i + 2..i + 6)?)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    i += 6;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(unit)?
                };
                out.push(c);
            }
            _ => return None,
        }
        next = bytes[i..]
            .iter()
            .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
            .map_or(bytes.len(), |p| p + i);
    }
}

fn hex4(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// Encodes `json` as the Socket.IO event packet `2["message","<json>"]` (pure ASCII).
pub fn encode_message_event(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 8 + 16);
    out.push_str("2[\"message\",\"");
    push_escaped(&mut out, json);
    out.push_str("\"]");
    out
}

/// Encodes `json` as a whole Engine.IO message packet carrying the Socket.IO event:
/// `42["message","<json>"]` (pure ASCII), i.e. one websocket text frame.
pub fn encode_eio_message_event(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 8 + 17);
    out.push_str("42[\"message\",\"");
    push_escaped(&mut out, json);
    out.push_str("\"]");
    out
}

/// Rewrites a JSON text so that it is pure ASCII, escaping every non-ASCII character as
/// `\uXXXX` (surrogate pairs above U+FFFF). The JSON value is unchanged.
pub fn ascii_json(json: &str) -> Cow<'_, str> {
    if json.is_ascii() {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            push_unicode_escape(&mut out, c);
        }
    }
    Cow::Owned(out)
}

fn push_unicode_escape(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        // Writing to a String cannot fail.
        let _ = write!(out, "\\u{unit:04x}");
    }
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c.is_ascii() => out.push(c),
            c => push_unicode_escape(out, c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_event() {
        let p = parse_packet(r#"2["message","{\"type\":\"enter\"}"]"#).unwrap();
        let SioPacket::Event { nsp, id, data } = p else {
            panic!("not an event: {p:?}")
        };
        assert_eq!((nsp, id), ("/", None));
        assert_eq!(message_payload(data).unwrap(), r#"{"type":"enter"}"#);
    }

    #[test]
    fn parses_namespace_and_ack_id() {
        let p = parse_packet(r#"2/chat,12["message","x"]"#).unwrap();
        assert_eq!(
            p,
            SioPacket::Event {
                nsp: "/chat",
                id: Some(12),
                data: r#"["message","x"]"#
            }
        );
        assert_eq!(parse_packet("0").unwrap(), SioPacket::Connect { nsp: "/" });
        assert_eq!(
            parse_packet("1/a").unwrap(),
            SioPacket::Disconnect { nsp: "/a" }
        );
    }

    #[test]
    fn rejects_bad_packets() {
        assert_eq!(parse_packet(""), Err(FrameError::Empty));
        assert_eq!(parse_packet("9x"), Err(FrameError::UnknownType('9')));
        assert!(matches!(
            message_payload("[1,2"),
            Err(FrameError::BadData(_))
        ));
        assert_eq!(
            message_payload(r#"["message",{}]"#),
            Err(FrameError::NotAString)
        );
        assert!(matches!(
            message_payload(r#"["chat","x"]"#),
            Err(FrameError::UnexpectedEvent(_))
        ));
        assert!(matches!(
            message_payload(r#"["message"]"#),
            Err(FrameError::BadData(_))
        ));
    }

    #[test]
    fn encoding_is_ascii_and_round_trips() {
        for text in ["", "plain", "héllo ✓ 𝄞", "quote\" back\\slash\n\u{1}"] {
            let frame = encode_message_event(text);
            assert!(frame.is_ascii(), "{frame}");
            let SioPacket::Event { data, .. } = parse_packet(&frame).unwrap() else {
                panic!()
            };
            assert_eq!(message_payload(data).unwrap(), text);
        }
    }

    #[test]
    fn eio_frame_is_the_sio_packet_with_prefix() {
        let json = r#"{"a":"é"}"#;
        assert_eq!(
            encode_eio_message_event(json),
            format!("4{}", encode_message_event(json))
        );
    }

    proptest::proptest! {
        #[test]
        fn fast_unescape_matches_serde(text in ".*", raw in "[\\\\\"a-z\\x00-\\x1f]{0,12}") {
            let literal = serde_json::to_string(&text).unwrap();
            let body = &literal[1..literal.len() - 1];
            let fast = unescape_json_string(body);
            proptest::prop_assert_eq!(fast.as_deref(), Some(text.as_str()));
            let escaped = encode_message_event(&text);
            let SioPacket::Event { data, .. } = parse_packet(&escaped).unwrap() else { panic!() };
            proptest::prop_assert_eq!(message_payload(data).unwrap(), text.as_str());
            // Arbitrary bodies: the fast path agrees with serde or defers to it.
            let serde: Option<String> = serde_json::from_str(&format!("\"{raw}\"")).ok();
            if let Some(fast) = unescape_json_string(&raw) {
                proptest::prop_assert_eq!(Some(fast.into_owned()), serde);
            }
        }
    }

    #[test]
    fn fast_unescape_edge_cases() {
        assert_eq!(
            unescape_json_string(r"a\u00e9\ud83c\udf89").as_deref(),
            Some("aé🎉")
        );
        assert_eq!(unescape_json_string(r"\ud83c"), None, "lone surrogate");
        assert_eq!(unescape_json_string(r"\ud83cx"), None);
        assert_eq!(unescape_json_string(r"\x"), None);
        assert_eq!(unescape_json_string("a\"b"), None);
        assert_eq!(unescape_json_string("tab\there"), None, "raw control char");
        assert_eq!(unescape_json_string(r"end\"), None);
        assert_eq!(unescape_json_string(r"\u12"), None);
    }

    #[test]
    fn ascii_json_keeps_value() {
        let json = r#"{"a":"héllo ✓ 𝄞"}"#;
        let escaped = ascii_json(json);
        assert!(escaped.is_ascii());
        let a: serde_json::Value = serde_json::from_str(json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(a, b);
    }
}
