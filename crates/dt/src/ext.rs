//! Extensions beyond the reference, negotiated **only between skylink-rs peers**:
//!
//! * **pipelined transfers** — up to `window` chunks in flight instead of stop-and-wait;
//! * **resumable transfers** — after the channel is lost, the uploader re-sends its WRQ (same
//!   transfer id) and the downloader answers `ACK n` with n = its complete chunks, so the
//!   transfer continues from there;
//! * completion of an extended transfer is verified with a whole-payload SHA-1.
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
//! let o = ExtOffer { window: 8, resume: true, sha1: sha1_hex(b"abc") };
//! assert_eq!(ExtOffer::from_value(&o.to_value()), Some(o));
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
    /// Hex SHA-1 of the whole payload (bytes of a blob, UTF-8 of a string).
    pub sha1: String,
}

impl ExtOffer {
    /// As JSON.
    pub fn to_value(&self) -> Value {
        json!({"v": 1, "window": self.window, "resume": self.resume, "sha1": self.sha1})
    }

    /// Parse (None when absent or malformed: the plain protocol is used).
    pub fn from_value(v: &Value) -> Option<ExtOffer> {
        let o = v.as_object()?;
        let window = o.get("window")?.as_u64()?.clamp(1, MAX_WINDOW as u64) as u32;
        let sha1 = o.get("sha1")?.as_str()?;
        if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(ExtOffer {
            window,
            resume: o.get("resume")?.as_bool()?,
            sha1: sha1.to_ascii_lowercase(),
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

/// Lower-case hex SHA-1.
pub fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
