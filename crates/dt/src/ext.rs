//! Extensions beyond the reference, negotiated **only between skylink-rs peers**:
//!
//! * **pipelined transfers** — up to `window` chunks in flight instead of stop-and-wait;
//! * **resumable transfers** — after the channel is lost, the uploader re-sends its WRQ (same
//!   transfer id) and the downloader answers `ACK n` with n = its complete chunks, so the
//!   transfer continues from there;
//! * completion of an extended transfer is verified with a whole-payload SHA-1. The uploader
//!   either announces it in the WRQ (when it is known up front: strings, sources hashed
//!   before) or hashes the chunks as it sends them and sends the digest as a
//!   `{"type":"rsDigest","sha1":…}` message right before the last chunk (blobs and files: no
//!   extra pass over the payload before the WRQ).
//!
//! Negotiation is in-band and two-way. The uploader adds an `ext` object to its WRQ only when
//! the peer's [`Dialect`](crate::version::Dialect) says the peer is one of ours (signaling agent
//! [`EXT_AGENT`] with DT ≥ 0.1.3); a downloader enables the extension only when the WRQ offers
//! it, and answers with an `ext` object in its ACK 0; the uploader pipelines/resumes only after
//! that answer. JS peers never see an `ext` field and never send one, so they always get the
//! plain protocol.
//!
//! ```
//! use skylink_dt::ext::{ExtOffer, sha1_hex};
//! let o = ExtOffer { window: 8, resume: true, sha1: Some(sha1_hex(b"abc")) };
//! assert_eq!(ExtOffer::from_value(&o.to_value()), Some(o));
//! let later = ExtOffer { window: 8, resume: true, sha1: None };
//! assert_eq!(ExtOffer::from_value(&later.to_value()), Some(later));
//! ```

use serde_json::{Map, Value, json};
use sha1::{Digest, Sha1};

/// JSON key of the extension object in WRQ and ACK.
pub const EXT_KEY: &str = "ext";
/// Signaling agent name that marks a skylink-rs peer.
pub const EXT_AGENT: &str = crate::transfer::DEFAULT_AGENT;
/// Largest window we offer or accept.
pub const MAX_WINDOW: u32 = 64;

/// Our extension capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtConfig {
    /// Largest pipeline window (1 = stop-and-wait).
    pub max_window: u32,
    /// Support resuming.
    pub resume: bool,
}

impl Default for ExtConfig {
    fn default() -> Self {
        ExtConfig {
            max_window: 16,
            resume: true,
        }
    }
}

/// The uploader's offer (WRQ `ext`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtOffer {
    /// Offered window.
    pub window: u32,
    /// Offers resuming.
    pub resume: bool,
    /// Hex SHA-1 of the whole payload (bytes of a blob, UTF-8 of a string); `None`: it
    /// follows in a [`DIGEST_TYPE`] message before the last chunk.
    pub sha1: Option<String>,
}

impl ExtOffer {
    /// As JSON.
    pub fn to_value(&self) -> Value {
        let mut v = json!({"v": 2, "window": self.window, "resume": self.resume});
        if let (Some(sha1), Some(o)) = (&self.sha1, v.as_object_mut()) {
            o.insert("sha1".into(), Value::String(sha1.clone()));
        }
        v
    }

    /// Parse (None when absent or malformed: the plain protocol is used).
    pub fn from_value(v: &Value) -> Option<ExtOffer> {
        let o = v.as_object()?;
        let window = o.get("window")?.as_u64()?.clamp(1, MAX_WINDOW as u64) as u32;
        let sha1 = match o.get("sha1") {
            None => None,
            Some(v) => Some(valid_sha1(v.as_str()?)?),
        };
        Some(ExtOffer {
            window,
            resume: o.get("resume")?.as_bool()?,
            sha1,
        })
    }

    /// From a WRQ's unknown fields.
    pub fn from_extra(extra: &Map<String, Value>) -> Option<ExtOffer> {
        extra.get(EXT_KEY).and_then(ExtOffer::from_value)
    }
}

/// The downloader's answer (ACK `ext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtAnswer {
    /// Agreed window.
    pub window: u32,
    /// Resuming agreed.
    pub resume: bool,
}

impl ExtAnswer {
    /// As JSON.
    pub fn to_value(&self) -> Value {
        json!({"window": self.window, "resume": self.resume})
    }

    /// Parse.
    pub fn from_extra(extra: &Map<String, Value>) -> Option<ExtAnswer> {
        let o = extra.get(EXT_KEY)?.as_object()?;
        Some(ExtAnswer {
            window: o.get("window")?.as_u64()?.clamp(1, MAX_WINDOW as u64) as u32,
            resume: o.get("resume")?.as_bool()?,
        })
    }

    /// Our answer to an offer given our capabilities.
    pub fn answer(offer: &ExtOffer, ours: &ExtConfig) -> ExtAnswer {
        ExtAnswer {
            window: offer.window.min(ours.max_window).max(1),
            resume: offer.resume && ours.resume,
        }
    }
}

/// `type` of the message carrying a digest that was not in the WRQ.
pub const DIGEST_TYPE: &str = "rsDigest";

/// The digest message (sent on the transfer's channel right before its last chunk).
///
/// ```
/// use skylink_dt::ext::{digest_message, digest_of, sha1_hex};
/// use skylink_dt::message::Message;
/// let m = digest_message("A", &sha1_hex(b"abc"));
/// let Message::Unknown(map) = Message::from_json(&m.to_json()).unwrap() else { panic!() };
/// assert_eq!(digest_of(&map), Some(sha1_hex(b"abc")));
/// ```
pub fn digest_message(sender: &str, sha1: &str) -> crate::message::Message {
    let map = [
        ("type".to_owned(), Value::from(DIGEST_TYPE)),
        ("sender".to_owned(), Value::from(sender)),
        ("sha1".to_owned(), Value::from(sha1)),
    ]
    .into_iter()
    .collect();
    crate::message::Message::Unknown(map)
}

/// The SHA-1 of a digest message (`None` for any other message or a malformed digest).
pub fn digest_of(map: &Map<String, Value>) -> Option<String> {
    if map.get("type")?.as_str()? != DIGEST_TYPE {
        return None;
    }
    valid_sha1(map.get("sha1")?.as_str()?)
}

fn valid_sha1(s: &str) -> Option<String> {
    (s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Lower-case hex SHA-1.
pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
