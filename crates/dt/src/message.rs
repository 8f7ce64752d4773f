//! DT protocol messages (§2) with byte-exact key order, and frame classification (§2.1).
//!
//! Encoding uses `serde_json` maps in insertion order (the workspace enables `preserve_order`),
//! so [`Message::to_json`] reproduces `JSON.stringify` of the reference for the same inputs.
//!
//! ```
//! use skylink_dt::message::{classify, Frame, Incoming, Message};
//! let f = r#"{"type":"ACK","sender":"peerB","ackN":0}"#;
//! let Incoming::Message(m) = classify(Frame::Text(f)).unwrap() else { panic!() };
//! assert!(matches!(m, Message::Ack(ref a) if a.ack_n == Some(0)));
//! assert_eq!(m.to_json(), f);
//! ```

use crate::error::DecodeError;
use serde_json::{Map, Number, Value};

/// One data-channel frame as delivered by the SCTP stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A text frame (PPID 51).
    Text(&'a str),
    /// A binary frame (PPID 53).
    Binary(&'a [u8]),
}

/// An owned frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutFrame {
    /// Send as a text frame.
    Text(String),
    /// Send as a binary frame.
    Binary(Vec<u8>),
}

impl OutFrame {
    /// Borrow as a [`Frame`].
    pub fn as_frame(&self) -> Frame<'_> {
        match self {
            OutFrame::Text(s) => Frame::Text(s),
            OutFrame::Binary(b) => Frame::Binary(b),
        }
    }
}

/// What a received frame is, by our (robust) rule of §2.1.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming<'a> {
    /// A protocol message (a JSON object with a string `type`).
    Message(Message),
    /// A text chunk (base64 text, string-transfer text or a string stream chunk).
    TextChunk(&'a str),
    /// A binary chunk.
    BinaryChunk(&'a [u8]),
}

/// Classify a frame: a text frame is a protocol message only if it parses to a JSON object
/// with a string `type`; everything else is a chunk for the channel's bound transfer/stream.
/// A recognised message type with malformed fields is a [`DecodeError`].
pub fn classify(frame: Frame<'_>) -> Result<Incoming<'_>, DecodeError> {
    match frame {
        Frame::Binary(b) => Ok(Incoming::BinaryChunk(b)),
        Frame::Text(t) => {
            if t.trim_start_matches(is_json_ws).starts_with('{')
                && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(t)
                && matches!(map.get("type"), Some(Value::String(_)))
            {
                return Message::from_map(map).map(Incoming::Message);
            }
            Ok(Incoming::TextChunk(t))
        }
    }
}

/// How skylinkjs 0.6.26 itself classifies a text frame (§2.1, quirk Q1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsTextClass {
    /// Dispatched as a protocol message.
    Protocol,
    /// Parsed as JSON but not a known message: silently discarded.
    Discarded,
    /// Parse failure with `{`/`}` present: raises a channel `error`, frame lost.
    ChannelError,
    /// Used as a chunk.
    Chunk,
}

/// Emulate the JS 0.6.26 classification of a text frame. Our senders use this to make sure
/// every chunk they send is [`JsTextClass::Chunk`] for a JS receiver.
pub fn js_classify_text(text: &str) -> JsTextClass {
    let braces = || {
        text.contains('{')
            && match text.find('}') {
                Some(i) => i > 0,
                None => false,
            }
    };
    let t = text.trim_matches(is_json_ws);
    if js_json_parse_ok(text) {
        if t == "null" {
            // the dispatch throws a TypeError and falls through to the data path
            return if braces() {
                JsTextClass::ChannelError
            } else {
                JsTextClass::Chunk
            };
        }
        if t.starts_with('{')
            && let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text)
            && let Some(Value::String(ty)) = m.get("type")
            && ["WRQ", "ACK", "ERROR", "CANCEL", "MESSAGE"].contains(&ty.as_str())
        {
            return JsTextClass::Protocol;
        }
        return JsTextClass::Discarded;
    }
    if braces() {
        JsTextClass::ChannelError
    } else {
        JsTextClass::Chunk
    }
}

fn is_json_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether `JSON.parse(text)` succeeds (number grammar checked by hand so that overflowing
/// numbers such as `1e999`, which JS parses as `Infinity`, count as JSON).
pub fn js_json_parse_ok(text: &str) -> bool {
    let t = text.trim_matches(is_json_ws);
    if matches!(t, "true" | "false" | "null") || is_json_number(t.as_bytes()) {
        return true;
    }
    match t.as_bytes().first() {
        Some(b'"' | b'[' | b'{') => serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(),
        _ => false,
    }
}

fn is_json_number(s: &[u8]) -> bool {
    let mut i = 0;
    let n = s.len();
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < n && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > st
    };
    if i < n && s[i] == b'-' {
        i += 1;
    }
    if i >= n {
        return false;
    }
    if s[i] == b'0' {
        i += 1;
    } else if s[i].is_ascii_digit() {
        digits(&mut i);
    } else {
        return false;
    }
    if i < n && s[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if i < n && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < n && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == n
}

/// A DT protocol message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Write request (§2.3).
    Wrq(Box<Wrq>),
    /// Acknowledgement (§2.4).
    Ack(Ack),
    /// Cancel (§2.6).
    Cancel(Cancel),
    /// Error (§2.7).
    Error(ErrorMsg),
    /// P2P message (§2.8).
    Message(P2pMessage),
    /// Any other `type` (ignored by receivers, §2.9); kept verbatim.
    Unknown(Map<String, Value>),
}

impl Message {
    /// Decode a JSON object whose `type` is a string.
    pub fn from_map(map: Map<String, Value>) -> Result<Message, DecodeError> {
        let ty = match map.get("type") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(DecodeError::InvalidField {
                    message_type: "message",
                    field: "type",
                    expected: "string",
                });
            }
        };
        Ok(match ty.as_str() {
            "WRQ" => Message::Wrq(Box::new(Wrq::from_map(&map)?)),
            "ACK" => Message::Ack(Ack::from_map(&map)?),
            "CANCEL" => Message::Cancel(Cancel::from_map(&map)?),
            "ERROR" => Message::Error(ErrorMsg::from_map(&map)?),
            "MESSAGE" => Message::Message(P2pMessage::from_map(&map)?),
            _ => Message::Unknown(map),
        })
    }

    /// Parse a text frame that must be a protocol message.
    pub fn from_json(text: &str) -> Result<Message, DecodeError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Message::from_map(m),
            Ok(_) => Err(DecodeError::InvalidJson("not an object".into())),
            Err(e) => Err(DecodeError::InvalidJson(e.to_string())),
        }
    }

    /// Encode as compact JSON in the reference's key order.
    pub fn to_json(&self) -> String {
        let map = match self {
            Message::Wrq(w) => w.to_map(),
            Message::Ack(a) => a.to_map(),
            Message::Cancel(c) => c.to_map(),
            Message::Error(e) => e.to_map(),
            Message::Message(m) => m.to_map(),
            Message::Unknown(m) => m.clone(),
        };
        Value::Object(map).to_string()
    }

    /// Encode as a text frame.
    pub fn to_frame(&self) -> OutFrame {
        OutFrame::Text(self.to_json())
    }
}

// ---------- field helpers ----------

fn bad(ty: &'static str, field: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::InvalidField {
        message_type: ty,
        field,
        expected,
    }
}

fn get_str(
    m: &Map<String, Value>,
    ty: &'static str,
    k: &'static str,
) -> Result<Option<String>, DecodeError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(ty, k, "string or null")),
    }
}

fn get_bool(
    m: &Map<String, Value>,
    ty: &'static str,
    k: &'static str,
) -> Result<Option<bool>, DecodeError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(ty, k, "boolean")),
    }
}

fn get_u64(
    m: &Map<String, Value>,
    ty: &'static str,
    k: &'static str,
) -> Result<Option<u64>, DecodeError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                return Ok(Some(u));
            }
            match n.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.007_199_254_740_992e15 => {
                    Ok(Some(f as u64))
                }
                _ => Err(bad(ty, k, "non-negative integer")),
            }
        }
        Some(_) => Err(bad(ty, k, "non-negative integer")),
    }
}

fn get_i64(
    m: &Map<String, Value>,
    ty: &'static str,
    k: &'static str,
) -> Result<Option<i64>, DecodeError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                    Ok(Some(f as i64))
                }
                _ => Err(bad(ty, k, "integer")),
            }
        }
        Some(_) => Err(bad(ty, k, "integer")),
    }
}

fn get_f64(
    m: &Map<String, Value>,
    ty: &'static str,
    k: &'static str,
) -> Result<Option<f64>, DecodeError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(bad(ty, k, "number")),
        Some(_) => Err(bad(ty, k, "number")),
    }
}

fn extras(m: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    m.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Render a number the way `JSON.stringify` does for the values we use (integers without `.0`).
pub fn js_number(f: f64) -> Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Render a number as JS `String(n)` would for timeouts (`60`, `1.5`).
pub fn js_number_text(f: f64) -> String {
    js_number(f).to_string()
}

fn opt_str(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

// ---------- WRQ ----------

/// A WRQ `target`: one peer, or an array of peers (MCU relay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A single peer ID.
    Peer(String),
    /// A list of peer IDs.
    Peers(Vec<String>),
}

impl Target {
    fn to_value(&self) -> Value {
        match self {
            Target::Peer(p) => Value::String(p.clone()),
            Target::Peers(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
        }
    }

    fn from_value(v: &Value, ty: &'static str) -> Result<Option<Target>, DecodeError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(Target::Peer(s.clone()))),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(|v| Some(Target::Peers(v)))
                .ok_or(bad(ty, "target", "string or array of strings")),
            _ => Err(bad(ty, "target", "string or array of strings")),
        }
    }
}

/// Field layout (set and order) of a WRQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrqLayout {
    /// JS 0.6.16+ (15 fields, §2.3). `name` and `mimeType` are always present (possibly `null`).
    Current,
    /// JS 0.6.1–0.6.15: `type, sender, agent, version, name, size, dataType, chunkSize, timeout, target, isPrivate`.
    V061,
    /// JS ≤ 0.6.0: `type, sender, agent, version, name, size, chunkSize, timeout, target, isPrivate`.
    Minimal,
}

/// What a WRQ opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrqKind {
    /// A file/string transfer.
    Transfer,
    /// `fastBinaryStart`: a data stream starts.
    StreamStart,
    /// `fastBinaryStop`: a data stream stops.
    StreamStop,
}

/// Write request (§2.3). Fields are `None` when absent on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrq {
    /// Field layout used when encoding (detected when decoding).
    pub layout: WrqLayout,
    /// `transferId`.
    pub transfer_id: Option<String>,
    /// `name` (`null` → `None`).
    pub name: Option<String>,
    /// `size` in wire units.
    pub size: Option<u64>,
    /// `originalSize`.
    pub original_size: Option<u64>,
    /// `dataType` (raw).
    pub data_type: Option<String>,
    /// `mimeType` (`null` → `None`).
    pub mime_type: Option<String>,
    /// `chunkType` (raw).
    pub chunk_type: Option<String>,
    /// `chunkSize` in wire units.
    pub chunk_size: Option<u64>,
    /// `timeout` in seconds.
    pub timeout: Option<f64>,
    /// `isPrivate`.
    pub is_private: Option<bool>,
    /// `sender`.
    pub sender: Option<String>,
    /// `agent`.
    pub agent: Option<String>,
    /// `version` (a number in practice; kept as JSON).
    pub version: Option<Value>,
    /// `target`.
    pub target: Option<Target>,
    /// Unknown fields, appended after the known ones when encoding.
    pub extra: Map<String, Value>,
}

const WRQ_KEYS: [&str; 15] = [
    "type",
    "transferId",
    "name",
    "size",
    "originalSize",
    "dataType",
    "mimeType",
    "chunkType",
    "chunkSize",
    "timeout",
    "isPrivate",
    "sender",
    "agent",
    "version",
    "target",
];

impl Wrq {
    /// Decode from a JSON object (`type` already checked).
    pub fn from_map(m: &Map<String, Value>) -> Result<Wrq, DecodeError> {
        const T: &str = "WRQ";
        let present = |k: &str| matches!(m.get(k), Some(v) if !v.is_null());
        let layout = if present("transferId") {
            WrqLayout::Current
        } else if present("dataType") {
            WrqLayout::V061
        } else {
            WrqLayout::Minimal
        };
        let target = match m.get("target") {
            None => None,
            Some(v) => Target::from_value(v, T)?,
        };
        let version = match m.get("version") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        };
        Ok(Wrq {
            layout,
            transfer_id: get_str(m, T, "transferId")?,
            name: get_str(m, T, "name")?,
            size: get_u64(m, T, "size")?,
            original_size: get_u64(m, T, "originalSize")?,
            data_type: get_str(m, T, "dataType")?,
            mime_type: get_str(m, T, "mimeType")?,
            chunk_type: get_str(m, T, "chunkType")?,
            chunk_size: get_u64(m, T, "chunkSize")?,
            timeout: get_f64(m, T, "timeout")?,
            is_private: get_bool(m, T, "isPrivate")?,
            sender: get_str(m, T, "sender")?,
            agent: get_str(m, T, "agent")?,
            version,
            target,
            extra: extras(m, &WRQ_KEYS),
        })
    }

    /// Encode in the order of [`Wrq::layout`].
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), "WRQ".into());
        let put = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        let s = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
        let n = |v: Option<u64>| v.map(Value::from);
        match self.layout {
            WrqLayout::Current => {
                put(&mut m, "transferId", s(&self.transfer_id));
                put(&mut m, "name", Some(opt_str(&self.name)));
                put(&mut m, "size", n(self.size));
                put(&mut m, "originalSize", n(self.original_size));
                put(&mut m, "dataType", s(&self.data_type));
                put(&mut m, "mimeType", Some(opt_str(&self.mime_type)));
                put(&mut m, "chunkType", s(&self.chunk_type));
                put(&mut m, "chunkSize", n(self.chunk_size));
                put(&mut m, "timeout", self.timeout.map(js_number));
                put(&mut m, "isPrivate", self.is_private.map(Value::Bool));
                put(&mut m, "sender", s(&self.sender));
                put(&mut m, "agent", s(&self.agent));
                put(&mut m, "version", self.version.clone());
                put(&mut m, "target", self.target.as_ref().map(Target::to_value));
            }
            WrqLayout::V061 | WrqLayout::Minimal => {
                put(&mut m, "sender", s(&self.sender));
                put(&mut m, "agent", s(&self.agent));
                put(&mut m, "version", self.version.clone());
                put(&mut m, "name", s(&self.name));
                put(&mut m, "size", n(self.size));
                if self.layout == WrqLayout::V061 {
                    put(&mut m, "dataType", s(&self.data_type));
                }
                put(&mut m, "chunkSize", n(self.chunk_size));
                put(&mut m, "timeout", self.timeout.map(js_number));
                put(&mut m, "target", self.target.as_ref().map(Target::to_value));
                put(&mut m, "isPrivate", self.is_private.map(Value::Bool));
                // fields outside the legacy layout are kept (appended) rather than lost
                put(&mut m, "transferId", s(&self.transfer_id));
                put(&mut m, "originalSize", n(self.original_size));
                if self.layout == WrqLayout::Minimal {
                    put(&mut m, "dataType", s(&self.data_type));
                }
                put(&mut m, "mimeType", s(&self.mime_type));
                put(&mut m, "chunkType", s(&self.chunk_type));
            }
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }

    /// Transfer, stream start or stream stop.
    pub fn kind(&self) -> WrqKind {
        match self.data_type.as_deref() {
            Some("fastBinaryStart") => WrqKind::StreamStart,
            Some("fastBinaryStop") => WrqKind::StreamStop,
            _ => WrqKind::Transfer,
        }
    }

    /// Receiver rule (§6.4 downloader 2): string transfer iff `dataType == "dataURL"`, or
    /// `dataType == "data"` with `chunkType` `"string"` or absent.
    pub fn is_string_transfer(&self) -> bool {
        match self.data_type.as_deref() {
            Some("dataURL") => true,
            Some("data") => matches!(self.chunk_type.as_deref(), None | Some("string")),
            _ => false,
        }
    }
}

// ---------- ACK ----------

/// Key order of an ACK (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOrder {
    /// `type, sender, ackN` (accept/progress/final/user reject).
    SenderFirst,
    /// `type, ackN, sender` (automatic rejection of a WRQ on a busy channel).
    AckNFirst,
}

/// Acknowledgement / next-chunk request (§2.4).
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// `sender`.
    pub sender: Option<String>,
    /// `ackN`; `None` when absent (treated as a rejection by uploaders).
    pub ack_n: Option<i64>,
    /// Old 0.1.0 `agent` after `ackN` on ACK 0.
    pub agent: Option<String>,
    /// Key order.
    pub order: AckOrder,
    /// Unknown fields.
    pub extra: Map<String, Value>,
}

impl Ack {
    /// `{"type":"ACK","sender":…,"ackN":n}`.
    pub fn new(sender: &str, ack_n: i64) -> Ack {
        Ack {
            sender: Some(sender.into()),
            ack_n: Some(ack_n),
            agent: None,
            order: AckOrder::SenderFirst,
            extra: Map::new(),
        }
    }

    /// The automatic rejection `{"type":"ACK","ackN":-1,"sender":…}` for a WRQ on a busy channel.
    pub fn auto_reject(sender: &str) -> Ack {
        Ack {
            order: AckOrder::AckNFirst,
            ..Ack::new(sender, -1)
        }
    }

    fn from_map(m: &Map<String, Value>) -> Result<Ack, DecodeError> {
        const T: &str = "ACK";
        let pos = |key: &str| m.iter().position(|(k, v)| k == key && !v.is_null());
        let order = match (pos("sender"), pos("ackN")) {
            (Some(s), Some(a)) if a < s => AckOrder::AckNFirst,
            _ => AckOrder::SenderFirst,
        };
        Ok(Ack {
            sender: get_str(m, T, "sender")?,
            ack_n: get_i64(m, T, "ackN")?,
            agent: get_str(m, T, "agent")?,
            order,
            extra: extras(m, &["type", "sender", "ackN", "agent"]),
        })
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), "ACK".into());
        let sender = self.sender.as_ref().map(|s| Value::String(s.clone()));
        let ack = self.ack_n.map(Value::from);
        let (a, b) = match self.order {
            AckOrder::SenderFirst => (("sender", sender), ("ackN", ack)),
            AckOrder::AckNFirst => (("ackN", ack), ("sender", sender)),
        };
        for (k, v) in [a, b] {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        if let Some(ag) = &self.agent {
            m.insert("agent".into(), Value::String(ag.clone()));
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

// ---------- CANCEL ----------

/// The `content` JS 0.6.16+ always sends in a CANCEL.
pub const CANCEL_CONTENT: &str = "Peer cancelled download transfer";

/// Cancel (§2.6).
#[derive(Debug, Clone, PartialEq)]
pub struct Cancel {
    /// `sender`.
    pub sender: Option<String>,
    /// `content` (reason).
    pub content: Option<String>,
    /// `name` (`null` → `None`).
    pub name: Option<String>,
    /// `ackN` (always 0 from JS 0.6.16+).
    pub ack_n: Option<i64>,
    /// Unknown fields.
    pub extra: Map<String, Value>,
}

impl Cancel {
    /// The CANCEL JS 0.6.16+ sends.
    pub fn new(sender: &str, name: Option<&str>) -> Cancel {
        Cancel {
            sender: Some(sender.into()),
            content: Some(CANCEL_CONTENT.into()),
            name: name.map(str::to_owned),
            ack_n: Some(0),
            extra: Map::new(),
        }
    }

    fn from_map(m: &Map<String, Value>) -> Result<Cancel, DecodeError> {
        const T: &str = "CANCEL";
        Ok(Cancel {
            sender: get_str(m, T, "sender")?,
            content: get_str(m, T, "content")?,
            name: get_str(m, T, "name")?,
            ack_n: get_i64(m, T, "ackN")?,
            extra: extras(m, &["type", "sender", "content", "name", "ackN"]),
        })
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), "CANCEL".into());
        if let Some(s) = &self.sender {
            m.insert("sender".into(), Value::String(s.clone()));
        }
        if let Some(s) = &self.content {
            m.insert("content".into(), Value::String(s.clone()));
        }
        m.insert("name".into(), opt_str(&self.name));
        if let Some(a) = self.ack_n {
            m.insert("ackN".into(), a.into());
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

// ---------- ERROR ----------

/// The timeout text of an ERROR (§2.7), `<T>` rendered as a JS number.
pub fn timeout_error_text(timeout_secs: f64) -> String {
    format!(
        "Connection Timeout. Longer than {} seconds. Connection is abolished.",
        js_number_text(timeout_secs)
    )
}

/// Error (§2.7).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorMsg {
    /// `content` (reason).
    pub content: Option<String>,
    /// `isUploadError`.
    pub is_upload_error: Option<bool>,
    /// `sender`.
    pub sender: Option<String>,
    /// `name` (`null` → `None`).
    pub name: Option<String>,
    /// Unknown fields.
    pub extra: Map<String, Value>,
}

impl ErrorMsg {
    /// An ERROR with the given content.
    pub fn new(content: &str, is_upload_error: bool, sender: &str, name: Option<&str>) -> Self {
        ErrorMsg {
            content: Some(content.into()),
            is_upload_error: Some(is_upload_error),
            sender: Some(sender.into()),
            name: name.map(str::to_owned),
            extra: Map::new(),
        }
    }

    fn from_map(m: &Map<String, Value>) -> Result<ErrorMsg, DecodeError> {
        const T: &str = "ERROR";
        Ok(ErrorMsg {
            content: get_str(m, T, "content")?,
            is_upload_error: get_bool(m, T, "isUploadError")?,
            sender: get_str(m, T, "sender")?,
            name: get_str(m, T, "name")?,
            extra: extras(m, &["type", "content", "isUploadError", "sender", "name"]),
        })
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), "ERROR".into());
        if let Some(s) = &self.content {
            m.insert("content".into(), Value::String(s.clone()));
        }
        if let Some(b) = self.is_upload_error {
            m.insert("isUploadError".into(), Value::Bool(b));
        }
        if let Some(s) = &self.sender {
            m.insert("sender".into(), Value::String(s.clone()));
        }
        m.insert("name".into(), opt_str(&self.name));
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

// ---------- MESSAGE ----------

/// P2P message (§2.8, §4).
#[derive(Debug, Clone, PartialEq)]
pub struct P2pMessage {
    /// `isPrivate`.
    pub is_private: Option<bool>,
    /// `sender`.
    pub sender: Option<String>,
    /// `target`.
    pub target: Option<Target>,
    /// `data` (absent when the application passed `undefined`).
    pub data: Option<Value>,
    /// Unknown fields.
    pub extra: Map<String, Value>,
}

impl P2pMessage {
    /// A P2P message to one peer.
    pub fn new(is_private: bool, sender: &str, target: &str, data: Value) -> Self {
        P2pMessage {
            is_private: Some(is_private),
            sender: Some(sender.into()),
            target: Some(Target::Peer(target.into())),
            data: Some(data),
            extra: Map::new(),
        }
    }

    fn from_map(m: &Map<String, Value>) -> Result<P2pMessage, DecodeError> {
        const T: &str = "MESSAGE";
        let target = match m.get("target") {
            None => None,
            Some(v) => Target::from_value(v, T)?,
        };
        Ok(P2pMessage {
            is_private: get_bool(m, T, "isPrivate")?,
            sender: get_str(m, T, "sender")?,
            target,
            data: m.get("data").cloned(),
            extra: extras(m, &["type", "isPrivate", "sender", "target", "data"]),
        })
    }

    fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), "MESSAGE".into());
        if let Some(b) = self.is_private {
            m.insert("isPrivate".into(), Value::Bool(b));
        }
        if let Some(s) = &self.sender {
            m.insert("sender".into(), Value::String(s.clone()));
        }
        if let Some(t) = &self.target {
            m.insert("target".into(), t.to_value());
        }
        if let Some(d) = &self.data {
            m.insert("data".into(), d.clone());
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv12_js_classification() {
        assert_eq!(js_classify_text("YWJj"), JsTextClass::Chunk);
        assert_eq!(js_classify_text("1234"), JsTextClass::Discarded);
        assert_eq!(js_classify_text("true"), JsTextClass::Discarded);
        assert_eq!(js_classify_text("null"), JsTextClass::Chunk);
        assert_eq!(js_classify_text("{a:1}"), JsTextClass::ChannelError);
        assert_eq!(js_classify_text("1e999999"), JsTextClass::Discarded);
        assert_eq!(js_classify_text("0e12"), JsTextClass::Discarded);
        assert_eq!(js_classify_text("0123"), JsTextClass::Chunk);
        assert_eq!(js_classify_text("1 234"), JsTextClass::Chunk);
        assert_eq!(
            js_classify_text(r#"{"type":"ACK","ackN":1}"#),
            JsTextClass::Protocol
        );
        assert_eq!(js_classify_text("}{"), JsTextClass::Chunk);
        assert_eq!(js_classify_text("a}{"), JsTextClass::ChannelError);
    }

    #[test]
    fn our_classification_is_robust() {
        for t in ["1234", "true", "null", "{a:1}", "[1]", r#"{"x":1}"#] {
            assert_eq!(classify(Frame::Text(t)).unwrap(), Incoming::TextChunk(t));
        }
        assert!(classify(Frame::Text(r#"{"type":"ACK","ackN":"x"}"#)).is_err());
        assert!(matches!(
            classify(Frame::Text(r#"{"type":"FOO"}"#)).unwrap(),
            Incoming::Message(Message::Unknown(_))
        ));
    }
}
