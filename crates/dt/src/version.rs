//! DT protocol versions, the skylinkjs version comparator, and per-peer dialect decisions (§0.4, §6.4).
//!
//! ```
//! use skylink_dt::version::{js_is_lower_than, PeerProfile, Dialect, Vocabulary};
//! assert!(js_is_lower_than("0.2.0", "0.1.2")); // skylinkjs quirk Q11
//! let js = PeerProfile::new(Some("0.1.3"), "chrome");
//! let d = Dialect::for_peer(&js);
//! assert_eq!(d.vocabulary, Vocabulary::V013);
//! assert!(d.use_data_channel && d.binary_chunks && d.streams);
//! ```

/// The DT version the API reference documents.
pub const DT_0_1_0: &str = "0.1.0";
/// The DT version skylinkjs 0.6.18–0.6.26 actually speak and announce.
pub const DT_0_1_3: &str = "0.1.3";

/// Our default announced `DTProtocolVersion`.
///
/// `"0.1.3"`: skylinkjs 0.6.26 decides by this number alone (§1.5, §2.5.6, §5.2, §6.1).
/// Announcing `"0.1.0"` (the documented number) makes it treat us as a legacy peer: transfers
/// only over the messaging channel and one at a time, base64 only, `sendURLData` and streams
/// refused locally. `"0.1.3"` unlocks DATA channels per transfer, binary chunks, string
/// transfers and streams — all of which this crate implements in the 0.1.3 vocabulary — so it
/// is the only value that gives full-feature interop. Higher `0.1.x` values would work with the
/// 0.6.26 comparator but promise features that do not exist; `0.2.0` or `1.x` would be read as
/// *lower* than 0.1.2 (quirk Q11).
pub const DEFAULT_ANNOUNCED_DT_VERSION: &str = DT_0_1_3;

/// Web browser agent names recognised by JS 0.6.16/17 (§6.5.3).
pub const WEB_AGENTS: [&str; 8] = [
    "chrome", "firefox", "safari", "IE", "edge", "opera", "bowser", "blink",
];

/// skylinkjs 0.6.26 `_isLowerThanVersion`: split both at `.`, parse components as integers
/// (missing or unparsable → 0), and answer `true` as soon as any component of `v` is smaller
/// than the same component of `required` (not a lexicographic comparison).
pub fn js_is_lower_than(v: &str, required: &str) -> bool {
    let a: Vec<&str> = v.split('.').collect();
    for (i, r) in required.split('.').enumerate() {
        let av = js_parse_int(a.get(i).copied().unwrap_or("0"));
        let rv = js_parse_int(r);
        // NaN < x is false in JS.
        if let (Some(av), Some(rv)) = (av, rv)
            && av < rv
        {
            return true;
        }
    }
    false
}

/// JavaScript `parseInt(s, 10)` restricted to what version strings need.
fn js_parse_int(s: &str) -> Option<i128> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = t
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .take(30)
        .collect();
    if digits.is_empty() {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// What we know about a remote peer from signaling (`enter`/`welcome`/`restart`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerProfile {
    /// `DTProtocolVersion` as announced (None when absent or not a string).
    pub dt_version: Option<String>,
    /// The signaling `agent` name (`chrome`, `firefox`, `rust`, `cpp`, …).
    pub agent: String,
    /// True when an MCU is in the room or the peer is the MCU (changes the assumed default).
    pub mcu_in_room: bool,
}

impl PeerProfile {
    /// A P2P (no MCU) peer profile.
    pub fn new(dt_version: Option<&str>, agent: &str) -> Self {
        PeerProfile {
            dt_version: dt_version.map(str::to_owned),
            agent: agent.to_owned(),
            mcu_in_room: false,
        }
    }

    /// The version JS 0.6.26 would assume: the announced one, else `0.1.2` with an MCU, else `0.1.0`.
    pub fn effective_dt_version(&self) -> &str {
        match &self.dt_version {
            Some(v) => v,
            None if self.mcu_in_room => "0.1.2",
            None => DT_0_1_0,
        }
    }

    /// True when the agent is a web browser name of JS 0.6.16/17.
    pub fn is_web_agent(&self) -> bool {
        WEB_AGENTS.contains(&self.agent.as_str())
    }
}

/// Which WRQ vocabulary to use towards a peer (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// DT 0.1.0 (JS 0.6.16/17): `dataURL`, `binaryString`, `arrayBuffer`.
    V010,
    /// DT 0.1.3 (JS 0.6.18–0.6.26): `data`, `string`, `binary`, stream control WRQs.
    V013,
}

/// The `dataType` to use for string (data URL) transfers to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringTransferType {
    /// `"data"` + `chunkType "string"` (peers ≥ 0.1.2).
    Data,
    /// `"dataURL"` (JS 0.6.1–0.6.17 web peers).
    DataUrl,
}

/// Per-peer decisions for our uploads (§6.4 "When we upload").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// Vocabulary of our WRQs.
    pub vocabulary: Vocabulary,
    /// Open a DATA channel per transfer (else use the messaging channel, one transfer at a time).
    pub use_data_channel: bool,
    /// Binary chunks may be sent when the application asks for them.
    pub binary_chunks: bool,
    /// String transfers and the `dataType` to use, or `None` when the peer cannot receive them.
    pub string_transfers: Option<StringTransferType>,
    /// Data streams may be started towards this peer.
    pub streams: bool,
    /// The peer is a skylink-rs peer: offer the extensions of [`crate::ext`].
    pub extensions: bool,
}

impl Dialect {
    /// Decide the dialect for a remote peer.
    ///
    /// Peers announcing ≥ 0.1.2 by the JS comparator are JS 0.6.18+ (or us): 0.1.3 vocabulary,
    /// DATA channels; ≥ 0.1.3 also binary chunks and streams. Below that, JS 0.6.16/17 rules by
    /// agent name: web agents (and `cpp`) get DATA channels, web agents get `dataURL` string
    /// transfers; everything else is served over the messaging channel with base64 only.
    pub fn for_peer(peer: &PeerProfile) -> Dialect {
        let v = peer.effective_dt_version();
        if !js_is_lower_than(v, "0.1.2") {
            let v013 = !js_is_lower_than(v, "0.1.3");
            Dialect {
                vocabulary: Vocabulary::V013,
                use_data_channel: true,
                binary_chunks: v013,
                string_transfers: Some(StringTransferType::Data),
                streams: v013,
                extensions: v013 && peer.agent == crate::ext::EXT_AGENT,
            }
        } else {
            let web = peer.is_web_agent();
            Dialect {
                vocabulary: Vocabulary::V010,
                use_data_channel: web || peer.agent == "cpp",
                binary_chunks: false,
                string_transfers: web.then_some(StringTransferType::DataUrl),
                streams: false,
                extensions: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparator_table() {
        for v in ["0.1.0", "0.1.1", "0.1", "", "0.2.0", "1.0.0"] {
            assert!(js_is_lower_than(v, "0.1.2"), "{v}");
            assert!(js_is_lower_than(v, "0.1.3"), "{v}");
        }
        assert!(!js_is_lower_than("0.1.2", "0.1.2"));
        assert!(js_is_lower_than("0.1.2", "0.1.3"));
        for v in ["0.1.3", "0.1.4", "0.1.10", "0.1.3.1"] {
            assert!(!js_is_lower_than(v, "0.1.2"), "{v}");
            assert!(!js_is_lower_than(v, "0.1.3"), "{v}");
        }
    }

    #[test]
    fn dialects() {
        let d = Dialect::for_peer(&PeerProfile::new(None, "rust"));
        assert_eq!(d.vocabulary, Vocabulary::V010);
        assert!(!d.use_data_channel && d.string_transfers.is_none());
        let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.0"), "chrome"));
        assert!(d.use_data_channel && !d.binary_chunks);
        assert_eq!(d.string_transfers, Some(StringTransferType::DataUrl));
        let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.0"), "cpp"));
        assert!(d.use_data_channel && d.string_transfers.is_none());
        let mut mcu = PeerProfile::new(None, "rust");
        mcu.mcu_in_room = true;
        let d = Dialect::for_peer(&mcu);
        assert_eq!(d.vocabulary, Vocabulary::V013);
        assert!(!d.binary_chunks);
    }
}
