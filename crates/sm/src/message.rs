//! Every SM message type of spec §3 as serde types, and the [`Message`] enum.
//!
//! Conventions:
//! * field names are exactly the wire names (`camelCase`, plus `pc_config`,
//!   `SMProtocolVersion`, `DTProtocolVersion`);
//! * almost every field is an `Option` (absent on the wire = `None`, never serialised);
//!   fields that are legitimately `null` on the wire (`temasysPluginVersion`, a few audio
//!   settings) are `Option<Option<T>>`, and "any JSON" fields (`data`, `userData`, …) keep a
//!   `null` as `Some(Value::Null)`;
//! * numbers the protocol treats as JS doubles (`weight`, `tieBreaker`, `stamp`, …) are
//!   [`serde_json::Number`] so integers stay integers;
//! * every struct has `extra`: unknown fields survive decoding and re-encoding;
//! * structs carry no `type` field: [`Message`] adds it (first, or last for `public`/`private`
//!   as the JS client does).
//!
//! ```
//! use skylink_sm::message::{Message, Public};
//! let text = r#"{"cid":"c","data":"hi","mid":"a","rid":"r","x":1,"type":"public"}"#;
//! let msg = Message::from_json(text).unwrap();
//! let Message::Public(p) = &msg else { panic!() };
//! assert_eq!(p.data, Some(serde_json::json!("hi")));
//! assert_eq!(p.extra["x"], 1);
//! assert_eq!(msg.to_json(), text); // key order preserved too
//! ```

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

use crate::SmError;
use crate::envelope::MessageType;
use crate::room_api::RoomLen;
use crate::serde_util::{nullable, some_value};

/// Unknown fields of a message or sub-object, in wire order.
pub type Extra = serde_json::Map<String, Value>;

// ---------------------------------------------------------------------------------------------
// Shared sub-structures.

/// `audio`/`video` settings: `false` (not sending), `true` (sending, details unknown) or an
/// object with details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MediaSetting<T> {
    /// `true` / `false`.
    Enabled(bool),
    /// Detailed settings.
    Settings(T),
}

impl<T> MediaSetting<T> {
    /// Whether media of this kind is being sent (`true` or an object).
    pub fn is_enabled(&self) -> bool {
        !matches!(self, MediaSetting::Enabled(false))
    }

    /// The detailed settings, if any.
    pub fn settings(&self) -> Option<&T> {
        match self {
            MediaSetting::Settings(t) => Some(t),
            MediaSetting::Enabled(_) => None,
        }
    }
}

/// `userInfo` of `enter`/`welcome`/`restart`/`offer`/`answer` (spec §3.0.2).
///
/// The always-`null` `connected` and `init` fields of 0.6.26 land in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserInfo {
    /// Application data: any JSON (`""` by default in the JS SDK).
    #[serde(
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_data: Option<Value>,
    /// Media settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// Mute state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_status: Option<MediaStatus>,
    /// Unknown fields (including `connected: null`, `init: null`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `userInfo.settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    /// Audio: `false`, `true` or details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<MediaSetting<AudioSettings>>,
    /// Video: `false`, `true` or details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<MediaSetting<VideoSettings>>,
    /// `{min, max}` (kbps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub google_x_bandwidth: Option<GoogleXBandwidth>,
    /// `{audio, video, data}` caps (kbps); receivers call it `bandwidth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bandwidth: Option<Bandwidth>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Audio settings object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AudioSettings {
    /// Stereo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stereo: Option<bool>,
    /// Exact constraints requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_constraints: Option<bool>,
    /// Echo cancellation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo_cancellation: Option<bool>,
    /// OPUS in-band FEC (may be `null` for screen-share audio).
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub useinbandfec: Option<Option<bool>>,
    /// OPUS DTX (may be `null` for screen-share audio).
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub usedtx: Option<Option<bool>>,
    /// OPUS max playback rate (8000–48000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxplaybackrate: Option<Number>,
    /// Raw getUserMedia optional constraints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<Vec<Value>>,
    /// Capture device id (may be `null`).
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Option<String>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Video settings object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VideoSettings {
    /// `{width, height}` (`-1` = see `customSettings`); Edge omits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// Screen share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screenshare: Option<bool>,
    /// Exact constraints requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_constraints: Option<bool>,
    /// Frame rate (`-1` = see `customSettings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<Number>,
    /// Facing mode (`"-1"` = see `customSettings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facing_mode: Option<String>,
    /// Capture device id.
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Option<String>>,
    /// Raw getUserMedia optional constraints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional: Option<Vec<Value>>,
    /// Original constraint objects for `frameRate`/`facingMode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_settings: Option<Extra>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{width, height}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resolution {
    /// Width in pixels (or `-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<Number>,
    /// Height in pixels (or `-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<Number>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `googleXBandwidth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoogleXBandwidth {
    /// `x-google-min-bitrate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Number>,
    /// `x-google-max-bitrate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Number>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `maxBandwidth` (kbps caps).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bandwidth {
    /// Audio cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<Number>,
    /// Video cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<Number>,
    /// Data cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Number>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `mediaStatus`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MediaStatus {
    /// Audio muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_muted: Option<bool>,
    /// Video muted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_muted: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `publishOnly`: `{"type": "screenshare" | "video"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishOnly {
    /// `"screenshare"` or `"video"`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `inRoom.pc_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PcConfig {
    /// ICE servers; 0.6.26 needs singular `url` in each (spec §3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ice_servers: Option<Vec<IceServer>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One `pc_config.iceServers` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IceServer {
    /// `stun:host[:port]` or `turn:{user}@{host}[:port][?transport=…]` (MUST for 0.6.26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Standard `urls` (a string or array). MUST NOT be the only URL field for 0.6.26.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Value>,
    /// Standard `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `stream.settings`: `{audio, video}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// Audio settings of the ended stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<MediaSetting<AudioSettings>>,
    /// Video settings of the ended stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<MediaSetting<VideoSettings>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Messages.

/// `joinRoom` (C→S, spec §3.1): the API response's credentials, forwarded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct JoinRoom {
    /// API `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// API `cid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// API `room_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// API `userCred`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_cred: Option<String>,
    /// API `timeStamp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<String>,
    /// API `apiOwner`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_owner: Option<String>,
    /// API `roomCred`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_cred: Option<String>,
    /// API `start`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// API `len`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<RoomLen>,
    /// `true` only if the API said exactly `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_privileged: Option<bool>,
    /// `false` only if the API said exactly `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_introduce: Option<bool>,
    /// The app key given to `init()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `inRoom` (S→C, spec §3.2). Field order as a 0.6.26-compatible server sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InRoom {
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// The client's new peer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Same as `sid` (not read by the client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// ICE configuration.
    #[serde(rename = "pc_config", skip_serializing_if = "Option::is_none")]
    pub pc_config: Option<PcConfig>,
    /// Base of the client's weight: a number unique in the room (required by 0.6.26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tie_breaker: Option<Number>,
    /// Informational server protocol version.
    #[serde(rename = "SMProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub sm_protocol_version: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `enter` (P→P, spec §3.4): broadcast, or targeted after `approach`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Enter {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Browser / SDK name (`chrome`, `firefox`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Browser version text (see [`crate::version::parse_agent_version`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Platform (`navigator.platform`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Generic user info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info: Option<UserInfo>,
    /// No audio and no video to send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_only: Option<bool>,
    /// Only in the `approach` variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Priority weight (spec §5.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// Temasys plugin version or `null`.
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub temasys_plugin_version: Option<Option<String>>,
    /// Sender trickles ICE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_trickle: Option<bool>,
    /// Sender wants a data channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_data_channel: Option<bool>,
    /// Sender supports ICE restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_restart: Option<bool>,
    /// SM version (`"0.1.2.4"` from 0.6.26).
    #[serde(rename = "SMProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub sm_protocol_version: Option<String>,
    /// DT version (`"0.1.3"` from 0.6.26).
    #[serde(rename = "DTProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub dt_protocol_version: Option<String>,
    /// Publish-only session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_only: Option<PublishOnly>,
    /// Parent peer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `welcome` (P→P targeted, spec §3.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Welcome {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Sender trickles ICE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_trickle: Option<bool>,
    /// Sender wants a data channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_data_channel: Option<bool>,
    /// Sender supports ICE restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_restart: Option<bool>,
    /// Browser / SDK name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Browser version text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// No audio and no video to send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_only: Option<bool>,
    /// Platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Per-recipient user info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info: Option<UserInfo>,
    /// The peer being welcomed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Priority weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// Temasys plugin version or `null`.
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub temasys_plugin_version: Option<Option<String>>,
    /// SM version.
    #[serde(rename = "SMProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub sm_protocol_version: Option<String>,
    /// DT version.
    #[serde(rename = "DTProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub dt_protocol_version: Option<String>,
    /// Publish-only session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_only: Option<PublishOnly>,
    /// Parent peer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `restart` (P→P targeted, spec §3.6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Restart {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Browser / SDK name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Browser version text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Per-recipient user info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info: Option<UserInfo>,
    /// Recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Priority weight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// No audio and no video to send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_only: Option<bool>,
    /// Sender trickles ICE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_trickle: Option<bool>,
    /// Sender wants a data channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_data_channel: Option<bool>,
    /// Sender supports ICE restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ice_restart: Option<bool>,
    /// Request an ICE restart (the reply copies it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub do_ice_restart: Option<bool>,
    /// `false` from the initiator, `true` in a lower-weight receiver's reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_restart_resend: Option<bool>,
    /// Temasys plugin version or `null`.
    #[serde(with = "nullable", skip_serializing_if = "Option::is_none")]
    pub temasys_plugin_version: Option<Option<String>>,
    /// SM version.
    #[serde(rename = "SMProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub sm_protocol_version: Option<String>,
    /// DT version.
    #[serde(rename = "DTProtocolVersion", skip_serializing_if = "Option::is_none")]
    pub dt_protocol_version: Option<String>,
    /// Publish-only session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish_only: Option<PublishOnly>,
    /// Parent peer id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `offer` / `answer` (P→P targeted, spec §3.7/§3.8).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionDescription {
    /// Full SDP (CRLF line ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdp: Option<String>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Authoritative per-recipient user info.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_info: Option<UserInfo>,
    /// `true` in the re-send variant of an offer (ignored by receivers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `candidate` (P→P targeted, spec §3.9).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Candidate {
    /// `sdpMLineIndex`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<u32>,
    /// `sdpMid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The candidate line without `a=` (MUST be a full candidate string for 0.6.26).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `endOfCandidates` (P→P targeted, spec §3.10).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndOfCandidates {
    /// Cumulative number of candidates sent to that peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_of_expected_candidates: Option<u32>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `bye` (S→C, spec §3.11): `mid` is the peer that left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Bye {
    /// The leaving peer's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key (not read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `redirect` (S→C, spec §3.12): a system action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Redirect {
    /// Room key (not read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// [`SystemAction`] value: `"warning"` or `"reject"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Human-readable text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// [`SystemActionReason`] value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Redirect {
    /// A `redirect` as a server sends it: `{rid, action, info, reason}`.
    pub fn new(
        rid: impl Into<String>,
        action: SystemAction,
        reason: SystemActionReason,
        info: impl Into<String>,
    ) -> Self {
        Redirect {
            rid: Some(rid.into()),
            action: Some(action.as_str().into()),
            info: Some(info.into()),
            reason: Some(reason.as_str().into()),
            ..Default::default()
        }
    }
}

/// `redirect.action` (`SYSTEM_ACTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemAction {
    /// `"warning"`.
    Warning,
    /// `"reject"`.
    Reject,
}

impl SystemAction {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemAction::Warning => "warning",
            SystemAction::Reject => "reject",
        }
    }
}

/// `redirect.reason` (`SYSTEM_ACTION_REASON`, spec §3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemActionReason {
    /// `oldTimeStamp`: credentials too old.
    CredentialsExpired,
    /// `credentialError`: credentials invalid.
    CredentialsError,
    /// `duplicatedLogin`: credentials already used.
    DuplicatedLogin,
    /// `notStart`: before `start`.
    RoomNotStarted,
    /// `expired`: after `start + len`.
    Expired,
    /// `locked`: room locked.
    RoomLocked,
    /// `fastmsg`: client sends too fast (warning).
    FastMessage,
    /// `toClose` (server value; the client rewrites it to `toclose`): room about to end.
    RoomClosing,
    /// `roomclose`: room ended.
    RoomClosed,
    /// `serverError`: anything else (also room capacity).
    ServerError,
    /// `keyFailed`: app-key problem.
    KeyError,
}

impl SystemActionReason {
    /// Wire value a server sends.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemActionReason::CredentialsExpired => "oldTimeStamp",
            SystemActionReason::CredentialsError => "credentialError",
            SystemActionReason::DuplicatedLogin => "duplicatedLogin",
            SystemActionReason::RoomNotStarted => "notStart",
            SystemActionReason::Expired => "expired",
            SystemActionReason::RoomLocked => "locked",
            SystemActionReason::FastMessage => "fastmsg",
            SystemActionReason::RoomClosing => "toClose",
            SystemActionReason::RoomClosed => "roomclose",
            SystemActionReason::ServerError => "serverError",
            SystemActionReason::KeyError => "keyFailed",
        }
    }
}

/// `updateUserEvent` (P→P broadcast, throttled; spec §3.13).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateUserEvent {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// New user data (any JSON).
    #[serde(
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_data: Option<Value>,
    /// Sender's `Date.now()` in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp: Option<Number>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `roomLockEvent` (C→S then broadcast; spec §3.14).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RoomLockEvent {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// `true` = lock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `muteAudioEvent` / `muteVideoEvent` (P→P broadcast, throttled; spec §3.15/§3.16).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MuteEvent {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// New muted state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// Sender's `Date.now()` in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stamp: Option<Number>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `public` (P→P broadcast, throttled; spec §3.17). `type` goes last on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Public {
    /// API `cid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// The message (any JSON).
    #[serde(
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Value>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `private` (P→P targeted; spec §3.18). `type` goes last on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Private {
    /// API `cid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// The message (any JSON).
    #[serde(
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Value>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `stream` (P→P broadcast, throttled; spec §3.19).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Stream {
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// API `cid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Id of the local stream that ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    /// That stream's settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<StreamSettings>,
    /// Always `"ended"` in 0.6.26.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `group` (broadcast wrapper; spec §3.20): `lists` holds 1–16 complete messages as JSON
/// **text**.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Group {
    /// The wrapped messages, each a JSON string.
    pub lists: Vec<String>,
    /// Sender id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Group {
    /// Wraps messages (encoded with [`Message::to_json`]) in a group.
    pub fn from_messages<'m>(
        mid: Option<String>,
        rid: Option<String>,
        messages: impl IntoIterator<Item = &'m Message>,
    ) -> Group {
        Group {
            lists: messages.into_iter().map(Message::to_json).collect(),
            mid,
            rid,
            extra: Extra::new(),
        }
    }

    /// Decodes every element of `lists`, in order.
    ///
    /// # Errors
    /// [`SmError::GroupElement`] for the first element that is not a valid message.
    pub fn messages(&self) -> Result<Vec<Message>, SmError> {
        self.lists
            .iter()
            .enumerate()
            .map(|(index, text)| {
                Message::from_json(text).map_err(|e| SmError::GroupElement {
                    index,
                    source: Box::new(e),
                })
            })
            .collect()
    }
}

/// `getPeers` (C→S, privileged; spec §3.21).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GetPeers {
    /// Include privileged peers (normally a boolean; the client passes truthy values through).
    #[serde(
        deserialize_with = "some_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub show_all: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `peerList` (S→C; spec §3.22).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PeerList {
    /// Room → peer ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<BTreeMap<String, Vec<String>>>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `introduce` (C→S, privileged; spec §3.23).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Introduce {
    /// Peer that should initiate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_peer_id: Option<String>,
    /// Peer it should connect to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_peer_id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `introduceError` (S→C; spec §3.24).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IntroduceError {
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Echoed from the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_peer_id: Option<String>,
    /// Echoed from the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_peer_id: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `approach` (S→C; spec §3.25): the recipient sends a targeted `enter` to `target`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Approach {
    /// Peer to announce to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `startRecordingRoom` / `stopRecordingRoom` (C→MCU; spec §3.26/§3.27).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecordingRequest {
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// Always `"MCU"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Added by the server when relaying (the client omits it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `recordingEvent` (MCU→C broadcast; spec §3.28).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RecordingEvent {
    /// Normally `"MCU"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Room key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
    /// `"on"`, `"off"`, `"url"` (anything else = error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Recording session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<String>,
    /// Link of the mixed recording (`action: "url"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// MUST NOT be sent to 0.6.26 clients (they throw); kept for decoding other senders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Value>,
    /// Error text for an error action.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// The message enum.

/// Any SM message: one variant per type of spec §3.0, plus [`Message::Unknown`].
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// `joinRoom`.
    JoinRoom(JoinRoom),
    /// `inRoom`.
    InRoom(InRoom),
    /// `enter`.
    Enter(Enter),
    /// `welcome`.
    Welcome(Welcome),
    /// `restart`.
    Restart(Restart),
    /// `offer`.
    Offer(SessionDescription),
    /// `answer`.
    Answer(SessionDescription),
    /// `candidate`.
    Candidate(Candidate),
    /// `endOfCandidates`.
    EndOfCandidates(EndOfCandidates),
    /// `bye`.
    Bye(Bye),
    /// `redirect`.
    Redirect(Redirect),
    /// `updateUserEvent`.
    UpdateUserEvent(UpdateUserEvent),
    /// `roomLockEvent`.
    RoomLockEvent(RoomLockEvent),
    /// `muteVideoEvent`.
    MuteVideoEvent(MuteEvent),
    /// `muteAudioEvent`.
    MuteAudioEvent(MuteEvent),
    /// `public`.
    Public(Public),
    /// `private`.
    Private(Private),
    /// `stream`.
    Stream(Stream),
    /// `group`.
    Group(Group),
    /// `getPeers`.
    GetPeers(GetPeers),
    /// `peerList`.
    PeerList(PeerList),
    /// `introduce`.
    Introduce(Introduce),
    /// `introduceError`.
    IntroduceError(IntroduceError),
    /// `approach`.
    Approach(Approach),
    /// `startRecordingRoom`.
    StartRecordingRoom(RecordingRequest),
    /// `stopRecordingRoom`.
    StopRecordingRoom(RecordingRequest),
    /// `recordingEvent`.
    RecordingEvent(RecordingEvent),
    /// A message with a `type` this crate does not know: the whole object, `type` included.
    Unknown(Extra),
}

/// Applies `$body` to the inner struct of every known variant.
macro_rules! with_inner {
    ($msg:expr, $inner:ident => $body:expr, unknown $map:ident => $unknown:expr) => {
        match $msg {
            Message::JoinRoom($inner) => $body,
            Message::InRoom($inner) => $body,
            Message::Enter($inner) => $body,
            Message::Welcome($inner) => $body,
            Message::Restart($inner) => $body,
            Message::Offer($inner) => $body,
            Message::Answer($inner) => $body,
            Message::Candidate($inner) => $body,
            Message::EndOfCandidates($inner) => $body,
            Message::Bye($inner) => $body,
            Message::Redirect($inner) => $body,
            Message::UpdateUserEvent($inner) => $body,
            Message::RoomLockEvent($inner) => $body,
            Message::MuteVideoEvent($inner) => $body,
            Message::MuteAudioEvent($inner) => $body,
            Message::Public($inner) => $body,
            Message::Private($inner) => $body,
            Message::Stream($inner) => $body,
            Message::Group($inner) => $body,
            Message::GetPeers($inner) => $body,
            Message::PeerList($inner) => $body,
            Message::Introduce($inner) => $body,
            Message::IntroduceError($inner) => $body,
            Message::Approach($inner) => $body,
            Message::StartRecordingRoom($inner) => $body,
            Message::StopRecordingRoom($inner) => $body,
            Message::RecordingEvent($inner) => $body,
            Message::Unknown($map) => $unknown,
        }
    };
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn body<T: DeserializeOwned>(kind: &str, v: Value) -> Result<T, SmError> {
    serde_json::from_value(v).map_err(|e| SmError::InvalidMessage {
        kind: kind.to_owned(),
        reason: e.to_string(),
    })
}

impl Message {
    /// Decodes one message from its JSON text.
    ///
    /// # Errors
    /// [`SmError::Json`] for malformed JSON, [`SmError::NotAnObject`], [`SmError::MissingType`],
    /// [`SmError::WrongFieldType`] for a non-string `type`, [`SmError::InvalidMessage`] when a
    /// known type's fields have the wrong JSON types.
    pub fn from_json(text: &str) -> Result<Message, SmError> {
        let value: Value = serde_json::from_str(text).map_err(|e| SmError::json(&e))?;
        Message::from_value(value)
    }

    /// Decodes one message from a JSON value (see [`Message::from_json`]).
    ///
    /// # Errors
    /// As [`Message::from_json`], minus [`SmError::Json`].
    pub fn from_value(value: Value) -> Result<Message, SmError> {
        let Value::Object(mut map) = value else {
            return Err(SmError::NotAnObject);
        };
        let ty = match map.get("type") {
            None | Some(Value::Null) => return Err(SmError::MissingType),
            Some(Value::String(s)) => MessageType::parse(s),
            Some(other) => {
                return Err(SmError::WrongFieldType {
                    field: "type",
                    expected: "a string",
                    found: describe(other),
                });
            }
        };
        if let MessageType::Unknown(_) = ty {
            return Ok(Message::Unknown(map));
        }
        map.shift_remove("type");
        let k = ty.as_str();
        let v = Value::Object(map);
        use MessageType as T;
        Ok(match ty {
            T::JoinRoom => Message::JoinRoom(body(k, v)?),
            T::InRoom => Message::InRoom(body(k, v)?),
            T::Enter => Message::Enter(body(k, v)?),
            T::Welcome => Message::Welcome(body(k, v)?),
            T::Restart => Message::Restart(body(k, v)?),
            T::Offer => Message::Offer(body(k, v)?),
            T::Answer => Message::Answer(body(k, v)?),
            T::Candidate => Message::Candidate(body(k, v)?),
            T::EndOfCandidates => Message::EndOfCandidates(body(k, v)?),
            T::Bye => Message::Bye(body(k, v)?),
            T::Redirect => Message::Redirect(body(k, v)?),
            T::UpdateUserEvent => Message::UpdateUserEvent(body(k, v)?),
            T::RoomLockEvent => Message::RoomLockEvent(body(k, v)?),
            T::MuteVideoEvent => Message::MuteVideoEvent(body(k, v)?),
            T::MuteAudioEvent => Message::MuteAudioEvent(body(k, v)?),
            T::Public => Message::Public(body(k, v)?),
            T::Private => Message::Private(body(k, v)?),
            T::Stream => Message::Stream(body(k, v)?),
            T::Group => Message::Group(body(k, v)?),
            T::GetPeers => Message::GetPeers(body(k, v)?),
            T::PeerList => Message::PeerList(body(k, v)?),
            T::Introduce => Message::Introduce(body(k, v)?),
            T::IntroduceError => Message::IntroduceError(body(k, v)?),
            T::Approach => Message::Approach(body(k, v)?),
            T::StartRecordingRoom => Message::StartRecordingRoom(body(k, v)?),
            T::StopRecordingRoom => Message::StopRecordingRoom(body(k, v)?),
            T::RecordingEvent => Message::RecordingEvent(body(k, v)?),
            T::Unknown(_) => return Err(SmError::MissingType), // handled above
        })
    }

    /// The message's type. For [`Message::Unknown`] it is read from the map (a missing or
    /// non-string `type` gives `Unknown("")`).
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::JoinRoom(_) => MessageType::JoinRoom,
            Message::InRoom(_) => MessageType::InRoom,
            Message::Enter(_) => MessageType::Enter,
            Message::Welcome(_) => MessageType::Welcome,
            Message::Restart(_) => MessageType::Restart,
            Message::Offer(_) => MessageType::Offer,
            Message::Answer(_) => MessageType::Answer,
            Message::Candidate(_) => MessageType::Candidate,
            Message::EndOfCandidates(_) => MessageType::EndOfCandidates,
            Message::Bye(_) => MessageType::Bye,
            Message::Redirect(_) => MessageType::Redirect,
            Message::UpdateUserEvent(_) => MessageType::UpdateUserEvent,
            Message::RoomLockEvent(_) => MessageType::RoomLockEvent,
            Message::MuteVideoEvent(_) => MessageType::MuteVideoEvent,
            Message::MuteAudioEvent(_) => MessageType::MuteAudioEvent,
            Message::Public(_) => MessageType::Public,
            Message::Private(_) => MessageType::Private,
            Message::Stream(_) => MessageType::Stream,
            Message::Group(_) => MessageType::Group,
            Message::GetPeers(_) => MessageType::GetPeers,
            Message::PeerList(_) => MessageType::PeerList,
            Message::Introduce(_) => MessageType::Introduce,
            Message::IntroduceError(_) => MessageType::IntroduceError,
            Message::Approach(_) => MessageType::Approach,
            Message::StartRecordingRoom(_) => MessageType::StartRecordingRoom,
            Message::StopRecordingRoom(_) => MessageType::StopRecordingRoom,
            Message::RecordingEvent(_) => MessageType::RecordingEvent,
            Message::Unknown(map) => MessageType::Unknown(
                map.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        }
    }

    /// The message as a JSON value: `type` first (last for `public`/`private`, like the JS
    /// client), then the fields in declaration order, then `extra`.
    ///
    /// A `type` key inside `extra` is ignored in favour of the variant's type.
    pub fn to_value(&self) -> Value {
        let (fields, ty) = with_inner!(self,
            inner => (serde_json::to_value(inner), self.message_type()),
            unknown map => return Value::Object(map.clone()));
        // Serialising these types cannot fail (string keys, no custom serialisers that error).
        let fields = match fields {
            Ok(Value::Object(m)) => m,
            _ => Extra::new(),
        };
        let type_last = matches!(ty, MessageType::Public | MessageType::Private);
        let mut out = Extra::new();
        if !type_last {
            out.insert("type".into(), Value::String(ty.as_str().to_owned()));
        }
        for (k, v) in fields {
            if k != "type" {
                out.insert(k, v);
            }
        }
        if type_last {
            out.insert("type".into(), Value::String(ty.as_str().to_owned()));
        }
        Value::Object(out)
    }

    /// The message as compact JSON text (what `JSON.stringify` would produce for the same
    /// object, key order included).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The `mid` field, whether typed or in `extra`.
    pub fn mid(&self) -> Option<&str> {
        self.str_field("mid")
    }

    /// The `rid` field, whether typed or in `extra`.
    pub fn rid(&self) -> Option<&str> {
        self.str_field("rid")
    }

    /// The `target` field, whether typed or in `extra`.
    pub fn target(&self) -> Option<&str> {
        self.str_field("target")
    }

    /// Sets `mid` (e.g. a server overwriting an untrusted sender id). Types without a typed
    /// `mid` field get it in `extra`.
    pub fn set_mid(&mut self, mid: impl Into<String>) {
        let mid = mid.into();
        let slot: Option<&mut Option<String>> = match self {
            Message::InRoom(m) => Some(&mut m.mid),
            Message::Enter(m) => Some(&mut m.mid),
            Message::Welcome(m) => Some(&mut m.mid),
            Message::Restart(m) => Some(&mut m.mid),
            Message::Offer(m) | Message::Answer(m) => Some(&mut m.mid),
            Message::Candidate(m) => Some(&mut m.mid),
            Message::EndOfCandidates(m) => Some(&mut m.mid),
            Message::Bye(m) => Some(&mut m.mid),
            Message::Redirect(m) => Some(&mut m.mid),
            Message::UpdateUserEvent(m) => Some(&mut m.mid),
            Message::RoomLockEvent(m) => Some(&mut m.mid),
            Message::MuteVideoEvent(m) | Message::MuteAudioEvent(m) => Some(&mut m.mid),
            Message::Public(m) => Some(&mut m.mid),
            Message::Private(m) => Some(&mut m.mid),
            Message::Stream(m) => Some(&mut m.mid),
            Message::Group(m) => Some(&mut m.mid),
            Message::StartRecordingRoom(m) | Message::StopRecordingRoom(m) => Some(&mut m.mid),
            Message::RecordingEvent(m) => Some(&mut m.mid),
            _ => None,
        };
        match slot {
            Some(s) => *s = Some(mid),
            None => {
                self.extra_mut().insert("mid".into(), Value::String(mid));
            }
        }
    }

    /// The unknown-field map of the inner struct (the whole object for `Unknown`).
    pub fn extra(&self) -> &Extra {
        with_inner!(self, inner => &inner.extra, unknown map => map)
    }

    /// Mutable access to [`Message::extra`].
    pub fn extra_mut(&mut self) -> &mut Extra {
        with_inner!(self, inner => &mut inner.extra, unknown map => map)
    }

    fn str_field(&self, name: &str) -> Option<&str> {
        let typed: Option<&Option<String>> = match (self, name) {
            (Message::JoinRoom(m), "rid") => Some(&m.rid),
            (Message::InRoom(m), "mid") => Some(&m.mid),
            (Message::InRoom(m), "rid") => Some(&m.rid),
            (Message::Enter(m), "mid") => Some(&m.mid),
            (Message::Enter(m), "rid") => Some(&m.rid),
            (Message::Enter(m), "target") => Some(&m.target),
            (Message::Welcome(m), "mid") => Some(&m.mid),
            (Message::Welcome(m), "rid") => Some(&m.rid),
            (Message::Welcome(m), "target") => Some(&m.target),
            (Message::Restart(m), "mid") => Some(&m.mid),
            (Message::Restart(m), "rid") => Some(&m.rid),
            (Message::Restart(m), "target") => Some(&m.target),
            (Message::Offer(m) | Message::Answer(m), "mid") => Some(&m.mid),
            (Message::Offer(m) | Message::Answer(m), "rid") => Some(&m.rid),
            (Message::Offer(m) | Message::Answer(m), "target") => Some(&m.target),
            (Message::Candidate(m), "mid") => Some(&m.mid),
            (Message::Candidate(m), "rid") => Some(&m.rid),
            (Message::Candidate(m), "target") => Some(&m.target),
            (Message::EndOfCandidates(m), "mid") => Some(&m.mid),
            (Message::EndOfCandidates(m), "rid") => Some(&m.rid),
            (Message::EndOfCandidates(m), "target") => Some(&m.target),
            (Message::Bye(m), "mid") => Some(&m.mid),
            (Message::Bye(m), "rid") => Some(&m.rid),
            (Message::Redirect(m), "mid") => Some(&m.mid),
            (Message::Redirect(m), "rid") => Some(&m.rid),
            (Message::UpdateUserEvent(m), "mid") => Some(&m.mid),
            (Message::UpdateUserEvent(m), "rid") => Some(&m.rid),
            (Message::RoomLockEvent(m), "mid") => Some(&m.mid),
            (Message::RoomLockEvent(m), "rid") => Some(&m.rid),
            (Message::MuteVideoEvent(m) | Message::MuteAudioEvent(m), "mid") => Some(&m.mid),
            (Message::MuteVideoEvent(m) | Message::MuteAudioEvent(m), "rid") => Some(&m.rid),
            (Message::Public(m), "mid") => Some(&m.mid),
            (Message::Public(m), "rid") => Some(&m.rid),
            (Message::Private(m), "mid") => Some(&m.mid),
            (Message::Private(m), "rid") => Some(&m.rid),
            (Message::Private(m), "target") => Some(&m.target),
            (Message::Stream(m), "mid") => Some(&m.mid),
            (Message::Stream(m), "rid") => Some(&m.rid),
            (Message::Group(m), "mid") => Some(&m.mid),
            (Message::Group(m), "rid") => Some(&m.rid),
            (Message::Approach(m), "target") => Some(&m.target),
            (Message::StartRecordingRoom(m) | Message::StopRecordingRoom(m), "mid") => Some(&m.mid),
            (Message::StartRecordingRoom(m) | Message::StopRecordingRoom(m), "rid") => Some(&m.rid),
            (Message::StartRecordingRoom(m) | Message::StopRecordingRoom(m), "target") => {
                Some(&m.target)
            }
            (Message::RecordingEvent(m), "mid") => Some(&m.mid),
            (Message::RecordingEvent(m), "rid") => Some(&m.rid),
            _ => None,
        };
        match typed {
            Some(v) => v.as_deref(),
            None => self.extra().get(name).and_then(Value::as_str),
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Message::from_value(v).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Message {
    type Err = SmError;
    fn from_str(s: &str) -> Result<Self, SmError> {
        Message::from_json(s)
    }
}

macro_rules! from_inner {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        $(impl From<$ty> for Message {
            fn from(m: $ty) -> Self {
                Message::$variant(m)
            }
        })*
    };
}

from_inner!(
    JoinRoom(JoinRoom),
    InRoom(InRoom),
    Enter(Enter),
    Welcome(Welcome),
    Restart(Restart),
    Candidate(Candidate),
    EndOfCandidates(EndOfCandidates),
    Bye(Bye),
    Redirect(Redirect),
    UpdateUserEvent(UpdateUserEvent),
    RoomLockEvent(RoomLockEvent),
    Public(Public),
    Private(Private),
    Stream(Stream),
    Group(Group),
    GetPeers(GetPeers),
    PeerList(PeerList),
    Introduce(Introduce),
    IntroduceError(IntroduceError),
    Approach(Approach),
    RecordingEvent(RecordingEvent),
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str) -> Message {
        let m = Message::from_json(text).unwrap();
        let a: Value = serde_json::from_str(text).unwrap();
        assert_eq!(m.to_value(), a, "{text}");
        m
    }

    #[test]
    fn enter_with_nulls_round_trips() {
        let text = r#"{"type":"enter","mid":"a","rid":"r","agent":"chrome","version":"61","os":"MacIntel","userInfo":{"userData":null,"settings":{"audio":{"stereo":false,"exactConstraints":false,"echoCancellation":true,"usedtx":null},"video":{"resolution":{"width":640,"height":480},"screenshare":false,"exactConstraints":false,"customSettings":{}},"googleXBandwidth":{},"maxBandwidth":{}},"mediaStatus":{"audioMuted":false,"videoMuted":false},"connected":null,"init":null},"receiveOnly":false,"weight":1505704867123417,"temasysPluginVersion":null,"enableIceTrickle":true,"enableDataChannel":true,"enableIceRestart":true,"SMProtocolVersion":"0.1.2.4","DTProtocolVersion":"0.1.3"}"#;
        let m = round_trip(text);
        assert_eq!(m.to_json(), text);
        let Message::Enter(e) = m else { panic!() };
        assert_eq!(e.temasys_plugin_version, Some(None));
        let ui = e.user_info.unwrap();
        assert_eq!(ui.user_data, Some(Value::Null));
        let audio = ui.settings.unwrap().audio.unwrap();
        assert_eq!(audio.settings().unwrap().usedtx, Some(None));
        assert_eq!(ui.extra["connected"], Value::Null);
    }

    #[test]
    fn bool_media_settings() {
        let m = round_trip(
            r#"{"type":"welcome","mid":"a","userInfo":{"settings":{"audio":false,"video":true}}}"#,
        );
        let Message::Welcome(w) = m else { panic!() };
        let s = w.user_info.unwrap().settings.unwrap();
        assert!(!s.audio.unwrap().is_enabled());
        assert!(s.video.unwrap().is_enabled());
    }

    #[test]
    fn public_puts_type_last() {
        let p = Message::Public(Public {
            cid: Some("c".into()),
            data: Some(json!("hi")),
            mid: Some("a".into()),
            rid: Some("r".into()),
            ..Default::default()
        });
        assert_eq!(
            p.to_json(),
            r#"{"cid":"c","data":"hi","mid":"a","rid":"r","type":"public"}"#
        );
    }

    #[test]
    fn unknown_type_is_kept() {
        let text = r#"{"type":"ping","a":[1,{"b":null}]}"#;
        let m = round_trip(text);
        assert_eq!(m.message_type(), MessageType::Unknown("ping".into()));
        assert_eq!(m.to_json(), text);
    }

    #[test]
    fn group_decodes_inner_messages() {
        let inner = Message::MuteVideoEvent(MuteEvent {
            mid: Some("a".into()),
            muted: Some(true),
            stamp: Some(5.into()),
            ..Default::default()
        });
        let g = Group::from_messages(Some("a".into()), Some("r".into()), [&inner]);
        let text = Message::Group(g).to_json();
        let Message::Group(g) = round_trip(&text) else {
            panic!()
        };
        assert_eq!(g.messages().unwrap(), vec![inner]);
        let bad = Group {
            lists: vec!["{}".into()],
            ..Default::default()
        };
        assert!(matches!(
            bad.messages(),
            Err(SmError::GroupElement { index: 0, .. })
        ));
    }

    #[test]
    fn accessors() {
        let mut m =
            Message::from_json(r#"{"type":"candidate","mid":"a","target":"b","rid":"r"}"#).unwrap();
        assert_eq!(
            (m.mid(), m.target(), m.rid()),
            (Some("a"), Some("b"), Some("r"))
        );
        m.set_mid("z");
        assert_eq!(m.mid(), Some("z"));
        let mut g = Message::from_json(r#"{"type":"getPeers","showAll":false}"#).unwrap();
        assert_eq!(g.mid(), None);
        g.set_mid("q");
        assert_eq!(g.mid(), Some("q"));
        assert_eq!(
            g.to_json(),
            r#"{"type":"getPeers","showAll":false,"mid":"q"}"#
        );
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(Message::from_json("nope"), Err(SmError::Json(_))));
        assert_eq!(Message::from_json("[]"), Err(SmError::NotAnObject));
        assert_eq!(
            Message::from_json(r#"{"mid":"a"}"#),
            Err(SmError::MissingType)
        );
        assert!(matches!(
            Message::from_json(r#"{"type":1}"#),
            Err(SmError::WrongFieldType { field: "type", .. })
        ));
        let e = Message::from_json(r#"{"type":"candidate","label":"zero"}"#).unwrap_err();
        assert!(
            matches!(&e, SmError::InvalidMessage { kind, .. } if kind == "candidate"),
            "{e}"
        );
        assert!(matches!(
            Message::from_json(r#"{"type":"group","lists":[1]}"#),
            Err(SmError::InvalidMessage { .. })
        ));
        assert!(matches!(
            Message::from_json(r#"{"type":"enter","weight":"heavy"}"#),
            Err(SmError::InvalidMessage { .. })
        ));
    }

    #[test]
    fn redirect_builder() {
        let r = Redirect::new(
            "rk",
            SystemAction::Reject,
            SystemActionReason::RoomLocked,
            "Unable to join room as room is locked",
        );
        assert_eq!(
            Message::Redirect(r).to_json(),
            r#"{"type":"redirect","rid":"rk","action":"reject","info":"Unable to join room as room is locked","reason":"locked"}"#
        );
    }
}
