//! Extensions beyond the reference, negotiated **only between skylink-rs peers**:
//!
//! * **pipelined transfers** — up to `window` chunks in flight instead of stop-and-wait;
//! * **resumable transfers** — after the channel is lost, the uploader re-sends its WRQ (same
//!   transfer id) and the downloader answers `ACK n` with n = its complete chunks, so the
//!   transfer continues from there;
//! * completion of an extended transfer is verified with a whole-payload XXH3-128 digest (a
//!   check against our own bugs and mismatched resumes: DTLS already authenticates every
//!   byte, so a fast non-cryptographic hash is enough). The uploader
//!   either announces it in the WRQ (when it is known up front: strings, sources hashed
//!   before) or hashes the chunks as it sends them and sends the digest as a
//!   `{"type":"rsDigest","xxh3":…}` message right before the last chunk (blobs and files: no
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
//! use skylink_dt::ext::{ExtOffer, digest_hex};
//! let o = ExtOffer { window: 8, resume: true, digest: Some(digest_hex(b"abc")) };
//! assert_eq!(ExtOffer::from_value(&o.to_value()), Some(o));
//! let later = ExtOffer { window: 8, resume: true, digest: None };
//! assert_eq!(ExtOffer::from_value(&later.to_value()), Some(later));
//! ```

use serde_json::{Map, Value, json};

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
    /// Hex XXH3-128 of the whole payload (bytes of a blob, UTF-8 of a string), JSON key
    /// [`DIGEST_KEY`]; `None`: it follows in a [`DIGEST_TYPE`] message before the last chunk.
    pub digest: Option<String>,
}

impl ExtOffer {
    /// As JSON.
    pub fn to_value(&self) -> Value {
        let mut v = json!({"v": 2, "window": self.window, "resume": self.resume});
        if let (Some(d), Some(o)) = (&self.digest, v.as_object_mut()) {
            o.insert(DIGEST_KEY.into(), Value::String(d.clone()));
        }
        v
    }

    /// Parse (None when absent or malformed: the plain protocol is used).
    pub fn from_value(v: &Value) -> Option<ExtOffer> {
        let o = v.as_object()?;
        let window = o.get("window")?.as_u64()?.clamp(1, MAX_WINDOW as u64) as u32;
        let digest = match o.get(DIGEST_KEY) {
            None => None,
            Some(v) => Some(valid_digest(v.as_str()?)?),
        };
        Some(ExtOffer {
            window,
            resume: o.get("resume")?.as_bool()?,
            digest,
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

/// JSON key of the digest (in the WRQ's `ext` and in the [`DIGEST_TYPE`] message).
pub const DIGEST_KEY: &str = "xxh3";

/// `type` of the message carrying a digest that was not in the WRQ.
pub const DIGEST_TYPE: &str = "rsDigest";

/// The digest message (sent on the transfer's channel right before its last chunk).
///
/// ```
/// use skylink_dt::ext::{digest_hex, digest_message, digest_of};
/// use skylink_dt::message::Message;
/// let m = digest_message("A", &digest_hex(b"abc"));
/// let Message::Unknown(map) = Message::from_json(&m.to_json()).unwrap() else { panic!() };
/// assert_eq!(digest_of(&map), Some(digest_hex(b"abc")));
/// ```
pub fn digest_message(sender: &str, digest: &str) -> crate::message::Message {
    let map = [
        ("type".to_owned(), Value::from(DIGEST_TYPE)),
        ("sender".to_owned(), Value::from(sender)),
        (DIGEST_KEY.to_owned(), Value::from(digest)),
    ]
    .into_iter()
    .collect();
    crate::message::Message::Unknown(map)
}

/// The digest of a digest message (`None` for any other message or a malformed digest).
pub fn digest_of(map: &Map<String, Value>) -> Option<String> {
    if map.get("type")?.as_str()? != DIGEST_TYPE {
        return None;
    }
    valid_digest(map.get(DIGEST_KEY)?.as_str()?)
}

fn valid_digest(s: &str) -> Option<String> {
    (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// Lower-case hex XXH3-128 (32 digits) of `data` in one call.
///
/// ```
/// use skylink_dt::ext::{Digester, digest_hex};
/// let mut d = Digester::new();
/// d.update(b"hello ");
/// d.update(b"world");
/// assert_eq!(d.hex(), digest_hex(b"hello world"));
/// ```
pub fn digest_hex(data: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data))
}

/// Streaming form of [`digest_hex`].
#[derive(Clone)]
pub struct Digester(Box<xxhash_rust::xxh3::Xxh3>);

impl Digester {
    /// An empty digest.
    pub fn new() -> Self {
        Digester(Box::new(xxhash_rust::xxh3::Xxh3::new()))
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything fed so far, as lower-case hex.
    pub fn hex(&self) -> String {
        format!("{:032x}", self.0.digest128())
    }
}

impl Default for Digester {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Digester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Digester(xxh3-128)")
    }
}
