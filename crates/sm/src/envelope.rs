//! The routing envelope of a signaling message, and the table of message types.
//!
//! [`Envelope::parse`] is the relay server's hot path: it reads only `type`, `mid`, `rid` and
//! `target` (borrowing from the input where the JSON has no escapes) and skips everything else
//! without building a tree.
//!
//! ```
//! use skylink_sm::envelope::{Envelope, MessageType, Routing};
//! let text = r#"{"type":"candidate","label":0,"id":"0","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","mid":"a","target":"b","rid":"r"}"#;
//! let env = Envelope::parse(text).unwrap();
//! assert_eq!(env.kind, "candidate");
//! assert_eq!(env.target.as_deref(), Some("b"));
//! assert_eq!(env.message_type(), MessageType::Candidate);
//! assert_eq!(env.routing(), Routing::Targeted);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::SmError;

/// The routing fields of a signaling message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The `type` field.
    pub kind: Cow<'a, str>,
    /// The `mid` field (sender peer id), if present and not `null`.
    pub mid: Option<Cow<'a, str>>,
    /// The `rid` field (room key), if present and not `null`.
    pub rid: Option<Cow<'a, str>>,
    /// The `target` field (recipient peer id), if present and not `null`.
    pub target: Option<Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    /// Parses the routing fields out of one message's JSON text.
    ///
    /// The text must be one JSON object whose `type` is a string. `mid`, `rid` and `target`
    /// must be strings when present; `null` counts as absent (as it does for the JS client's
    /// truthiness checks). For duplicate keys the last one wins, like `JSON.parse`. The rest of
    /// the object is validated as JSON but otherwise skipped.
    ///
    /// # Errors
    /// [`SmError::Json`], [`SmError::NotAnObject`], [`SmError::MissingType`] or
    /// [`SmError::WrongFieldType`].
    pub fn parse(text: &'a str) -> Result<Envelope<'a>, SmError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let raw = RawEnvelope::deserialize(&mut de).map_err(|e| SmError::json(&e))?;
        de.end().map_err(|e| SmError::json(&e))?;
        let fields = match raw {
            RawEnvelope::NotObject => return Err(SmError::NotAnObject),
            RawEnvelope::Object(f) => f,
        };
        let string =
            |field: &'static str, v: Option<Field<'a>>| -> Result<Option<Cow<'a, str>>, SmError> {
                match v {
                    None | Some(Field::Null) => Ok(None),
                    Some(Field::Str(s)) => Ok(Some(s)),
                    Some(Field::Other(found)) => Err(SmError::WrongFieldType {
                        field,
                        expected: "a string",
                        found,
                    }),
                }
            };
        let kind = string("type", fields.kind)?.ok_or(SmError::MissingType)?;
        Ok(Envelope {
            kind,
            mid: string("mid", fields.mid)?,
            rid: string("rid", fields.rid)?,
            target: string("target", fields.target)?,
        })
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::parse(&self.kind)
    }

    /// Whether the message is one of the throttled "group" types.
    pub fn is_group_type(&self) -> bool {
        is_group_type(&self.kind)
    }

    /// How a server relays this message: [`MessageType::routing`], with `enter` resolved by
    /// the presence of `target`.
    pub fn routing(&self) -> Routing {
        match self.message_type().routing() {
            Routing::BroadcastOrTargeted if self.target.is_some() => Routing::Targeted,
            Routing::BroadcastOrTargeted => Routing::Broadcast,
            other => other,
        }
    }

    /// Copies borrowed strings so the envelope outlives the input text.
    pub fn into_owned(self) -> Envelope<'static> {
        Envelope {
            kind: Cow::Owned(self.kind.into_owned()),
            mid: self.mid.map(|s| Cow::Owned(s.into_owned())),
            rid: self.rid.map(|s| Cow::Owned(s.into_owned())),
            target: self.target.map(|s| Cow::Owned(s.into_owned())),
        }
    }
}

/// Whether `kind` is one of the five throttled types of spec §4 (`stream`, `updateUserEvent`,
/// `muteAudioEvent`, `muteVideoEvent`, `public`): the only types a 0.6.26 client wraps in
/// `group`, and the only ones flood control should count.
pub fn is_group_type(kind: &str) -> bool {
    matches!(
        kind,
        "stream" | "updateUserEvent" | "muteAudioEvent" | "muteVideoEvent" | "public"
    )
}

// ---------------------------------------------------------------------------------------------
// Fast deserialisation.

enum Field<'a> {
    Str(Cow<'a, str>),
    Null,
    Other(&'static str),
}

#[derive(Default)]
struct Fields<'a> {
    kind: Option<Field<'a>>,
    mid: Option<Field<'a>>,
    rid: Option<Field<'a>>,
    target: Option<Field<'a>>,
}

enum RawEnvelope<'a> {
    Object(Fields<'a>),
    NotObject,
}

impl<'a> RawEnvelope<'a> {
    fn deserialize(
        de: &mut serde_json::Deserializer<serde_json::de::StrRead<'a>>,
    ) -> Result<Self, serde_json::Error> {
        de.deserialize_any(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

macro_rules! not_object {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: de::Error>(self, _v: $ty) -> Result<Self::Value, E> {
            Ok(RawEnvelope::NotObject)
        })*
    };
}

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = RawEnvelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    not_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawEnvelope::NotObject)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawEnvelope::NotObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let slot = match key {
                Key::Type => &mut fields.kind,
                Key::Mid => &mut fields.mid,
                Key::Rid => &mut fields.rid,
                Key::Target => &mut fields.target,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value_seed(FieldSeed)?);
        }
        Ok(RawEnvelope::Object(fields))
    }
}

enum Key {
    Type,
    Mid,
    Rid,
    Target,
    Other,
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "type" => Key::Type,
            "mid" => Key::Mid,
            "rid" => Key::Rid,
            "target" => Key::Target,
            _ => Key::Other,
        })
    }
}

struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(FieldSeed)
    }
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Self::Value, E> {
        Ok(Field::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<Self::Value, E> {
        Ok(Field::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<Self::Value, E> {
        Ok(Field::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Self::Value, E> {
        Ok(Field::Other("a number"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an object"))
    }
}

// ---------------------------------------------------------------------------------------------
// Message types.

/// Every message `type` of spec §3.0 (`_SIG_MESSAGE_TYPE` of 0.6.26), plus unknown ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `joinRoom` (C→S).
    JoinRoom,
    /// `inRoom` (S→C).
    InRoom,
    /// `enter` (P→P broadcast, or targeted after `approach`).
    Enter,
    /// `welcome` (P→P targeted).
    Welcome,
    /// `restart` (P→P targeted).
    Restart,
    /// `offer` (P→P targeted).
    Offer,
    /// `answer` (P→P targeted).
    Answer,
    /// `candidate` (P→P targeted).
    Candidate,
    /// `endOfCandidates` (P→P targeted).
    EndOfCandidates,
    /// `bye` (S→C).
    Bye,
    /// `redirect` (S→C).
    Redirect,
    /// `updateUserEvent` (P→P broadcast, throttled).
    UpdateUserEvent,
    /// `roomLockEvent` (C→S, then broadcast).
    RoomLockEvent,
    /// `muteVideoEvent` (P→P broadcast, throttled).
    MuteVideoEvent,
    /// `muteAudioEvent` (P→P broadcast, throttled).
    MuteAudioEvent,
    /// `public` (P→P broadcast, throttled).
    Public,
    /// `private` (P→P targeted).
    Private,
    /// `stream` (P→P broadcast, throttled).
    Stream,
    /// `group` (P→P broadcast wrapper).
    Group,
    /// `getPeers` (C→S, privileged).
    GetPeers,
    /// `peerList` (S→C).
    PeerList,
    /// `introduce` (C→S, privileged).
    Introduce,
    /// `introduceError` (S→C).
    IntroduceError,
    /// `approach` (S→C).
    Approach,
    /// `startRecordingRoom` (C→MCU).
    StartRecordingRoom,
    /// `stopRecordingRoom` (C→MCU).
    StopRecordingRoom,
    /// `recordingEvent` (MCU→C broadcast).
    RecordingEvent,
    /// Any other `type` (0.6.26 clients log and ignore these).
    Unknown(String),
}

/// How a signaling server treats a message type (spec §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Routing {
    /// Relay to every other member of the sender's room (`updateUserEvent`, `muteAudioEvent`,
    /// `muteVideoEvent`, `public`, `stream`, `group`, `roomLockEvent` (which also sets the
    /// room's lock flag), `recordingEvent` from the MCU).
    Broadcast,
    /// Relay only to the member named by `target`, if it is in the same room; else drop
    /// (`welcome`, `restart`, `offer`, `answer`, `candidate`, `endOfCandidates`, `private`).
    Targeted,
    /// `enter`: broadcast without `target`, targeted with it. [`Envelope::routing`] resolves it.
    BroadcastOrTargeted,
    /// Consumed by the server, never relayed (`joinRoom`, `getPeers`, `introduce`).
    ServerOnly,
    /// Only the server creates these (`inRoom`, `bye`, `redirect`, `peerList`,
    /// `introduceError`, `approach`); a client sending one should be ignored.
    ServerOriginated,
    /// Relayed to the room's `MCU` member with the sender's `mid` added
    /// (`startRecordingRoom`, `stopRecordingRoom`).
    ToMcu,
    /// Not a 0.6.26 type: server policy (clients ignore unknown types).
    Unknown,
}

const TABLE: [(MessageType, &str); 27] = [
    (MessageType::JoinRoom, "joinRoom"),
    (MessageType::InRoom, "inRoom"),
    (MessageType::Enter, "enter"),
    (MessageType::Welcome, "welcome"),
    (MessageType::Restart, "restart"),
    (MessageType::Offer, "offer"),
    (MessageType::Answer, "answer"),
    (MessageType::Candidate, "candidate"),
    (MessageType::EndOfCandidates, "endOfCandidates"),
    (MessageType::Bye, "bye"),
    (MessageType::Redirect, "redirect"),
    (MessageType::UpdateUserEvent, "updateUserEvent"),
    (MessageType::RoomLockEvent, "roomLockEvent"),
    (MessageType::MuteVideoEvent, "muteVideoEvent"),
    (MessageType::MuteAudioEvent, "muteAudioEvent"),
    (MessageType::Public, "public"),
    (MessageType::Private, "private"),
    (MessageType::Stream, "stream"),
    (MessageType::Group, "group"),
    (MessageType::GetPeers, "getPeers"),
    (MessageType::PeerList, "peerList"),
    (MessageType::Introduce, "introduce"),
    (MessageType::IntroduceError, "introduceError"),
    (MessageType::Approach, "approach"),
    (MessageType::StartRecordingRoom, "startRecordingRoom"),
    (MessageType::StopRecordingRoom, "stopRecordingRoom"),
    (MessageType::RecordingEvent, "recordingEvent"),
];

impl MessageType {
    /// Every known type (not `Unknown`), in the order of spec §3.0.
    pub fn known() -> impl Iterator<Item = MessageType> {
        TABLE.into_iter().map(|(t, _)| t)
    }

    /// The wire `type` string.
    pub fn as_str(&self) -> &str {
        match self {
            MessageType::Unknown(s) => s,
            known => TABLE
                .iter()
                .find(|(t, _)| t == known)
                .map_or("", |(_, s)| s),
        }
    }

    /// Maps a wire `type` (case-sensitive) to a variant; never fails.
    pub fn parse(kind: &str) -> MessageType {
        TABLE
            .iter()
            .find(|(_, s)| *s == kind)
            .map_or_else(|| MessageType::Unknown(kind.to_owned()), |(t, _)| t.clone())
    }

    /// Whether this is one of the five throttled types (see [`is_group_type`]).
    pub fn is_group_type(&self) -> bool {
        is_group_type(self.as_str())
    }

    /// How a server routes this type (spec §6).
    pub fn routing(&self) -> Routing {
        use MessageType::*;
        match self {
            Enter => Routing::BroadcastOrTargeted,
            Welcome | Restart | Offer | Answer | Candidate | EndOfCandidates | Private => {
                Routing::Targeted
            }
            UpdateUserEvent | MuteAudioEvent | MuteVideoEvent | Public | Stream | Group
            | RoomLockEvent | RecordingEvent => Routing::Broadcast,
            JoinRoom | GetPeers | Introduce => Routing::ServerOnly,
            InRoom | Bye | Redirect | PeerList | IntroduceError | Approach => {
                Routing::ServerOriginated
            }
            StartRecordingRoom | StopRecordingRoom => Routing::ToMcu,
            Unknown(_) => Routing::Unknown,
        }
    }
}

impl FromStr for MessageType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(MessageType::parse(s))
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for MessageType {
    fn from(s: &str) -> Self {
        MessageType::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_when_possible() {
        let text = r#"{"type":"public","data":{"nested":[1,2,{"mid":5}]},"mid":"m","rid":"r"}"#;
        let env = Envelope::parse(text).unwrap();
        assert!(matches!(env.kind, Cow::Borrowed("public")));
        assert!(matches!(env.mid, Some(Cow::Borrowed("m"))));
        assert_eq!(env.rid.as_deref(), Some("r"));
        assert_eq!(env.target, None);
        assert!(env.is_group_type());
        assert_eq!(env.routing(), Routing::Broadcast);
    }

    #[test]
    fn escapes_allocate() {
        let env = Envelope::parse(r#"{"type":"pub\u006cic","mid":"a\"b"}"#).unwrap();
        assert_eq!(env.kind, "public");
        assert_eq!(env.mid.as_deref(), Some("a\"b"));
    }

    #[test]
    fn enter_routing_depends_on_target() {
        let b = Envelope::parse(r#"{"type":"enter","mid":"a"}"#).unwrap();
        assert_eq!(b.routing(), Routing::Broadcast);
        let t = Envelope::parse(r#"{"type":"enter","mid":"a","target":"b"}"#).unwrap();
        assert_eq!(t.routing(), Routing::Targeted);
        let n = Envelope::parse(r#"{"type":"enter","mid":"a","target":null}"#).unwrap();
        assert_eq!(n.routing(), Routing::Broadcast);
    }

    #[test]
    fn last_duplicate_wins() {
        let env = Envelope::parse(r#"{"type":"a","type":"b"}"#).unwrap();
        assert_eq!(env.kind, "b");
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(Envelope::parse(""), Err(SmError::Json(_))));
        assert!(matches!(Envelope::parse("{"), Err(SmError::Json(_))));
        assert!(matches!(
            Envelope::parse(r#"{"type":"a"} x"#),
            Err(SmError::Json(_))
        ));
        assert_eq!(Envelope::parse("[1,2]"), Err(SmError::NotAnObject));
        assert_eq!(Envelope::parse("\"x\""), Err(SmError::NotAnObject));
        assert_eq!(Envelope::parse("null"), Err(SmError::NotAnObject));
        assert_eq!(Envelope::parse("{}"), Err(SmError::MissingType));
        assert_eq!(
            Envelope::parse(r#"{"type":null}"#),
            Err(SmError::MissingType)
        );
        assert_eq!(
            Envelope::parse(r#"{"type":3}"#),
            Err(SmError::WrongFieldType {
                field: "type",
                expected: "a string",
                found: "a number"
            })
        );
        assert_eq!(
            Envelope::parse(r#"{"type":"x","mid":{"a":1}}"#),
            Err(SmError::WrongFieldType {
                field: "mid",
                expected: "a string",
                found: "an object"
            })
        );
        assert_eq!(
            Envelope::parse(r#"{"type":"x","target":["b"]}"#),
            Err(SmError::WrongFieldType {
                field: "target",
                expected: "a string",
                found: "an array"
            })
        );
        assert_eq!(
            Envelope::parse(r#"{"type":"x","rid":true}"#),
            Err(SmError::WrongFieldType {
                field: "rid",
                expected: "a string",
                found: "a boolean"
            })
        );
    }

    #[test]
    fn type_table() {
        assert_eq!(MessageType::known().count(), 27);
        for t in MessageType::known() {
            assert_eq!(MessageType::parse(t.as_str()), t);
            assert_ne!(t.routing(), Routing::Unknown);
        }
        assert_eq!(
            MessageType::parse("ping"),
            MessageType::Unknown("ping".into())
        );
        assert_eq!(MessageType::parse("ping").as_str(), "ping");
        assert_eq!(
            "endOfCandidates".parse::<MessageType>(),
            Ok(MessageType::EndOfCandidates)
        );
        assert!(MessageType::MuteVideoEvent.is_group_type());
        assert!(!MessageType::Private.is_group_type());
        assert!(!MessageType::Group.is_group_type());
    }
}
