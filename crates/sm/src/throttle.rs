//! The outgoing group/throttle queue of spec §4, as a sans-IO state machine.
//!
//! The five throttled types (`stream`, `updateUserEvent`, `muteAudioEvent`, `muteVideoEvent`,
//! `public`) go out at most once per second: the first one alone, later ones queued and sent
//! as one `group` message (at most 16 per group) when the second is over. Every other type
//! passes straight through.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use serde_json::json;
//! use skylink_sm::throttle::Throttle;
//!
//! let t0 = Instant::now();
//! let mut th = Throttle::new();
//! let public = |n: u32| json!({"cid":"c","data":n,"mid":"a","rid":"r","type":"public"});
//! // The first public goes out alone.
//! let out = th.send(public(0).try_into().unwrap(), t0);
//! assert_eq!(out.len(), 1);
//! // The next two, within the second, are queued…
//! assert!(th.send(public(1).try_into().unwrap(), t0 + Duration::from_millis(10)).is_empty());
//! assert!(th.send(public(2).try_into().unwrap(), t0 + Duration::from_millis(20)).is_empty());
//! // …and leave together as one group when the timer fires.
//! let deadline = th.poll_timeout().unwrap();
//! let out = th.handle_timeout(deadline);
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].messages.len(), 2);
//! assert!(out[0].json.starts_with(r#"{"type":"group","lists":["#));
//! assert_eq!(th.poll_timeout(), None);
//! ```
//!
//! ## Deviation from 0.6.26 (step 1 race)
//!
//! In 0.6.26, a throttled message sent when more than 1000 ms have passed since the last
//! throttled transmission while a group timer is still pending cancels that timer without
//! flushing the queue, and never arms a timer again: the queued messages (and every later
//! queued one) are lost, and the direct send overtakes them. We do **not** reproduce that: in
//! that situation the new message is appended to the queue and the queue is flushed at once
//! as a group (order kept, still one transmission). This can only happen here when the
//! engine calls [`Throttle::send`] after [`Throttle::poll_timeout`] has passed without
//! calling [`Throttle::handle_timeout`].
//!
//! Timing: "more than 1000 ms since the last send" is `elapsed > 1000 ms`; like the JS
//! client's millisecond clock, the group timer fires 1 ms after the window closes
//! (`last_send + 1001 ms`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::SmError;
use crate::envelope::{MessageType, is_group_type};
use crate::message::{Extra, Message};

/// Throttle window (spec §4, 1000 ms).
pub const INTERVAL: Duration = Duration::from_millis(1000);

/// Maximum number of messages per `group` (spec §4, `throughput` 16).
pub const BATCH_SIZE: usize = 16;

/// Clock resolution of the JS client; the timer fires this long after the window closes.
const TICK: Duration = Duration::from_millis(1);

/// A message handed to the throttle: a JSON object with a string `type`, kept in key order.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    map: Extra,
}

impl OutgoingMessage {
    /// Wraps a JSON value.
    ///
    /// # Errors
    /// [`SmError::NotAnObject`] or [`SmError::MissingType`] / [`SmError::WrongFieldType`] when
    /// `type` is not a string.
    pub fn from_value(value: Value) -> Result<Self, SmError> {
        let Value::Object(map) = value else {
            return Err(SmError::NotAnObject);
        };
        match map.get("type") {
            Some(Value::String(_)) => Ok(OutgoingMessage { map }),
            None | Some(Value::Null) => Err(SmError::MissingType),
            Some(_) => Err(SmError::WrongFieldType {
                field: "type",
                expected: "a string",
                found: "another JSON type",
            }),
        }
    }

    /// The `type`.
    pub fn kind(&self) -> &str {
        self.map
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The message object.
    pub fn as_map(&self) -> &Extra {
        &self.map
    }

    /// Takes the message object.
    pub fn into_map(self) -> Extra {
        self.map
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.map.get(key).and_then(Value::as_str)
    }

    fn stamp(&self) -> Option<f64> {
        self.map.get("stamp").and_then(Value::as_f64)
    }

    fn category(&self) -> Option<usize> {
        match self.kind() {
            "updateUserEvent" => Some(0),
            "muteAudioEvent" => Some(1),
            "muteVideoEvent" => Some(2),
            _ => None,
        }
    }

    fn to_json(&self) -> String {
        Value::Object(self.map.clone()).to_string()
    }
}

impl From<&Message> for OutgoingMessage {
    fn from(m: &Message) -> Self {
        match m.to_value() {
            Value::Object(map) => OutgoingMessage { map },
            _ => OutgoingMessage { map: Extra::new() },
        }
    }
}

impl From<Message> for OutgoingMessage {
    fn from(m: Message) -> Self {
        OutgoingMessage::from(&m)
    }
}

impl TryFrom<Value> for OutgoingMessage {
    type Error = SmError;
    fn try_from(v: Value) -> Result<Self, SmError> {
        OutgoingMessage::from_value(v)
    }
}

/// One transmission: the JSON text to send as the socket.io `message` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The JSON text (compact; a `group` for batched messages).
    pub json: String,
    /// The transmitted message's type ([`MessageType::Group`] for batches).
    pub kind: MessageType,
    /// The messages this transmission delivers, in order: the message itself for a direct
    /// send, the surviving batch for a group. (0.6.26 raises the local `incomingMessage` for
    /// a `public` at this point.)
    pub messages: Vec<Extra>,
}

impl Frame {
    fn single(msg: OutgoingMessage) -> Frame {
        Frame {
            json: msg.to_json(),
            kind: MessageType::parse(msg.kind()),
            messages: vec![msg.map],
        }
    }
}

/// The throttle state machine. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    last_send: Option<Instant>,
    queue: VecDeque<OutgoingMessage>,
    deadline: Option<Instant>,
    /// Last sent stamp per status category: userData, audioMuted, videoMuted.
    last_stamp: [Option<f64>; 3],
}

impl Throttle {
    /// An idle throttle (no previous send).
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands a message to the throttle at time `now`; returns what to transmit right away
    /// (nothing when the message was queued or dropped as stale).
    pub fn send(&mut self, msg: OutgoingMessage, now: Instant) -> Vec<Frame> {
        if !is_group_type(msg.kind()) {
            return vec![Frame::single(msg)];
        }
        if !self.window_open(now) {
            self.queue.push_back(msg);
            if self.deadline.is_none() {
                self.deadline = self.last_send.map(|t| t + INTERVAL + TICK);
            }
            return Vec::new();
        }
        if !self.queue.is_empty() {
            // The step 1 race: flush instead of losing the queue (see module docs).
            self.queue.push_back(msg);
            return self.flush(now);
        }
        if let Some(cat) = msg.category() {
            if let (Some(stamp), Some(last)) = (msg.stamp(), self.last_stamp[cat])
                && stamp <= last
            {
                return Vec::new();
            }
            if let Some(stamp) = msg.stamp() {
                self.last_stamp[cat] = Some(stamp);
            }
        }
        self.last_send = Some(now);
        self.deadline = None;
        vec![Frame::single(msg)]
    }

    /// When [`Throttle::handle_timeout`] should be called next, if anything is queued.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Timer tick: emits at most one `group` frame once the window is over.
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<Frame> {
        match self.deadline {
            Some(d) if now >= d => self.flush(now),
            _ => Vec::new(),
        }
    }

    /// Number of queued messages.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Forgets the queue and timer (e.g. on leaving the room; 0.6.26 drops unsent messages).
    /// Stamps and the last send time are kept.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.deadline = None;
    }

    fn window_open(&self, now: Instant) -> bool {
        self.last_send
            .is_none_or(|t| now.saturating_duration_since(t) > INTERVAL)
    }

    fn flush(&mut self, now: Instant) -> Vec<Frame> {
        if self.queue.is_empty() {
            self.deadline = None;
            return Vec::new();
        }
        if !self.window_open(now) {
            self.deadline = self.last_send.map(|t| t + INTERVAL + TICK);
            return Vec::new();
        }
        let take = self.queue.len().min(BATCH_SIZE);
        let batch: Vec<OutgoingMessage> = self.queue.drain(..take).collect();

        // Step 4: per status category, the newest stamp above the last sent one wins.
        let mut newest: [Option<f64>; 3] = [None; 3];
        for m in &batch {
            if let (Some(cat), Some(stamp)) = (m.category(), m.stamp()) {
                let newer = self.last_stamp[cat].is_none_or(|last| stamp > last);
                if newer && newest[cat].is_none_or(|n| stamp > n) {
                    newest[cat] = Some(stamp);
                }
            }
        }
        let survivors: Vec<OutgoingMessage> = batch
            .into_iter()
            .filter(|m| match (m.category(), m.stamp()) {
                (Some(cat), Some(stamp)) => newest[cat].is_none_or(|n| stamp >= n),
                _ => true,
            })
            .collect();
        for (cat, n) in newest.iter().enumerate() {
            if n.is_some() {
                self.last_stamp[cat] = *n;
            }
        }

        let mid = survivors
            .iter()
            .find_map(|m| m.str_field("mid"))
            .map(str::to_owned);
        let rid = survivors
            .iter()
            .find_map(|m| m.str_field("rid"))
            .map(str::to_owned);
        let mut group = Extra::new();
        group.insert("type".into(), Value::String("group".into()));
        group.insert(
            "lists".into(),
            Value::Array(
                survivors
                    .iter()
                    .map(|m| Value::String(m.to_json()))
                    .collect(),
            ),
        );
        if let Some(mid) = mid {
            group.insert("mid".into(), Value::String(mid));
        }
        if let Some(rid) = rid {
            group.insert("rid".into(), Value::String(rid));
        }
        self.last_send = Some(now);
        self.deadline = (!self.queue.is_empty()).then(|| now + INTERVAL + TICK);
        vec![Frame {
            json: Value::Object(group).to_string(),
            kind: MessageType::Group,
            messages: survivors
                .into_iter()
                .map(OutgoingMessage::into_map)
                .collect(),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn msg(v: Value) -> OutgoingMessage {
        OutgoingMessage::from_value(v).unwrap()
    }

    fn public(n: u64) -> OutgoingMessage {
        msg(json!({"cid":"c","data":n,"mid":"a","rid":"r","type":"public"}))
    }

    fn mute_audio(muted: bool, stamp: u64) -> OutgoingMessage {
        msg(json!({"type":"muteAudioEvent","mid":"a","rid":"r","muted":muted,"stamp":stamp}))
    }

    fn datas(frame: &Frame) -> Vec<Value> {
        frame.messages.iter().map(|m| m["data"].clone()).collect()
    }

    #[test]
    fn non_throttled_pass_through() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        assert_eq!(th.send(public(0), t0).len(), 1);
        for i in 0..5 {
            let out = th.send(
                msg(json!({"type":"private","mid":"a","target":"b","data":i})),
                t0 + ms(i),
            );
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].kind, MessageType::Private);
        }
        assert_eq!(th.poll_timeout(), None);
    }

    #[test]
    fn exactly_1000_ms_is_within_the_window() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        assert_eq!(th.send(public(0), t0).len(), 1);
        assert!(th.send(public(1), t0 + ms(1000)).is_empty());
        assert_eq!(th.poll_timeout(), Some(t0 + ms(1001)));
        assert!(th.handle_timeout(t0 + ms(1000)).is_empty());
        let out = th.handle_timeout(t0 + ms(1001));
        assert_eq!(datas(&out[0]), [json!(1)]);
        // After a group, a message more than 1 s later goes out alone.
        let out = th.send(public(2), t0 + ms(2002));
        assert_eq!(out[0].kind, MessageType::Public);
    }

    #[test]
    fn batches_of_sixteen() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        th.send(public(0), t0);
        for i in 1..=20 {
            assert!(th.send(public(i), t0 + ms(i)).is_empty());
        }
        let d1 = th.poll_timeout().unwrap();
        let out = th.handle_timeout(d1);
        assert_eq!(out[0].messages.len(), 16);
        assert_eq!(datas(&out[0])[0], json!(1));
        let d2 = th.poll_timeout().unwrap();
        assert_eq!(d2, d1 + ms(1001));
        // Not yet.
        assert!(th.handle_timeout(d2 - ms(1)).is_empty());
        let out = th.handle_timeout(d2);
        assert_eq!(
            datas(&out[0]),
            (17..=20).map(|i| json!(i)).collect::<Vec<_>>()
        );
        assert_eq!(th.poll_timeout(), None);
        assert_eq!(th.queued(), 0);
    }

    #[test]
    fn stale_stamps_dropped_when_sent_directly() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        assert_eq!(th.send(mute_audio(true, 100), t0).len(), 1);
        // Not newer than the last sent stamp: dropped.
        assert!(th.send(mute_audio(false, 100), t0 + ms(2000)).is_empty());
        assert_eq!(th.poll_timeout(), None);
        assert_eq!(th.send(mute_audio(false, 101), t0 + ms(2001)).len(), 1);
    }

    #[test]
    fn stale_stamps_dropped_inside_a_batch() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        th.send(mute_audio(true, 100), t0);
        th.send(mute_audio(false, 300), t0 + ms(1));
        th.send(public(1), t0 + ms(2));
        th.send(mute_audio(true, 200), t0 + ms(3));
        th.send(
            msg(json!({"type":"muteVideoEvent","mid":"a","muted":true,"stamp":50})),
            t0 + ms(4),
        );
        let out = th.handle_timeout(th.poll_timeout().unwrap());
        let kinds: Vec<(String, Value)> = out[0]
            .messages
            .iter()
            .map(|m| {
                (
                    m["type"].as_str().unwrap().to_owned(),
                    m.get("stamp").cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("muteAudioEvent".to_owned(), json!(300)),
                ("public".to_owned(), Value::Null),
                ("muteVideoEvent".to_owned(), json!(50)),
            ]
        );
        // Quirk kept: nothing newer than the last sent stamp in a batch → nothing dropped.
        th.send(mute_audio(true, 10), t0 + ms(1100));
        th.send(mute_audio(false, 20), t0 + ms(1101));
        let out = th.handle_timeout(th.poll_timeout().unwrap());
        assert_eq!(out[0].messages.len(), 2);
    }

    #[test]
    fn race_flushes_instead_of_losing() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        th.send(public(0), t0);
        th.send(public(1), t0 + ms(500));
        // The engine never called handle_timeout; a new message comes 1.5 s later.
        let out = th.send(public(2), t0 + ms(1500));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, MessageType::Group);
        assert_eq!(datas(&out[0]), [json!(1), json!(2)]);
        assert_eq!(th.poll_timeout(), None);
    }

    #[test]
    fn group_frame_shape() {
        let t0 = Instant::now();
        let mut th = Throttle::new();
        th.send(public(0), t0);
        th.send(public(1), t0 + ms(1));
        let out = th.handle_timeout(t0 + ms(5000));
        assert_eq!(
            out[0].json,
            r#"{"type":"group","lists":["{\"cid\":\"c\",\"data\":1,\"mid\":\"a\",\"rid\":\"r\",\"type\":\"public\"}"],"mid":"a","rid":"r"}"#
        );
        let decoded = Message::from_json(&out[0].json).unwrap();
        let Message::Group(g) = decoded else { panic!() };
        assert_eq!(g.messages().unwrap().len(), 1);
    }

    #[test]
    fn rejects_non_messages() {
        assert_eq!(
            OutgoingMessage::from_value(json!([1])),
            Err(SmError::NotAnObject)
        );
        assert_eq!(
            OutgoingMessage::from_value(json!({})),
            Err(SmError::MissingType)
        );
        assert!(OutgoingMessage::from_value(json!({"type": 1})).is_err());
        let m: OutgoingMessage = Message::from_json(r#"{"type":"bye","mid":"x"}"#)
            .unwrap()
            .into();
        assert_eq!(m.kind(), "bye");
    }
}
