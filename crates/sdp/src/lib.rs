//! # skylink-sdp
//!
//! Every SDP munging and parsing function of the Skylink Web SDK 0.6.26 (skylinkjs
//! `stream-sdp.js`), as pure functions without I/O, plus the three pipelines the SDK runs
//! (spec `sdp-and-peers.md` §1.1):
//!
//! * [`local`] — a description we created, before `setLocalDescription`;
//! * [`output`] — the text we send to the peer (§1.11 renderer; run after [`local`]);
//! * [`remote`] — a description we received, before `setRemoteDescription`.
//!
//! All three are driven by one [`SdpSettings`] (serde, camelCase, SDK option names and
//! defaults) and a [`PeerContext`] (the remote peer's agent/trickle flag and the per-peer
//! `sdpSessions` records the connection step maintains).
//!
//! ```
//! use skylink_sdp::{PeerContext, SdpSettings, SdpType};
//!
//! let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!              m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:audio\r\n\
//!              a=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n\
//!              a=fmtp:111 minptime=10; useinbandfec=1\r\n";
//! let settings: SdpSettings =
//!     serde_json::from_str(r#"{"codecParams":{"audio":{"opus":{"stereo":true}}}}"#).unwrap();
//! let mut peer = PeerContext::new("peer1", "chrome");
//! let munged = skylink_sdp::local(offer, SdpType::Offer, &settings, &mut peer).unwrap();
//! assert!(munged.contains("a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;\r\n"));
//! assert_eq!(peer.sessions.local.unwrap().connection.audio.as_deref(), Some("a=sendrecv"));
//! ```
//!
//! ## Text model: lines, not the `sdp` crate
//!
//! [`Sdp`] keeps the exact lines (`text.split("\r\n")`, so a CRLF-terminated text ends with
//! one empty element) and computes media sections on demand. Lines are `Cow<str>`: untouched
//! lines borrow from the input, so parse + marshal costs one pass and one allocation for the
//! output (the local pipeline on a 5.7 KB Chromium offer runs in ≈ 18 µs against a ≈ 4.7 µs
//! parse + marshal baseline; `benches/pipeline.rs`). The `sdp` crate re-marshals
//! browser SDPs byte-for-byte, but it cannot hold what 0.6.26 *produces*: a trailing space on a
//! rebuilt `m=` line (quirk A.8), `m=` lines without attributes, `;;` inside fmtp values, fmtp
//! lines moved next to their rtpmap, lines out of RFC order. The SDK's munging steps are
//! line/regex edits over the text, so a line model is the only way to be byte-exact. Parsing
//! ([`Sdp::parse`]) validates the shape of every line and reports the first bad one with its
//! number ([`SdpError`]).
//!
//! ## Deviations from 0.6.26 (deliberate)
//!
//! Everything observable by a JavaScript peer is reproduced, including the quirks of spec
//! Appendix A marked "reproduce" (A.1–A.10). Deliberate differences, none of which can occur
//! with browser-generated SDPs:
//!
//! 1. **Line endings.** Bare-LF input is normalised to CRLF by [`Sdp::parse`] for every
//!    description (0.6.26 does this only for remote descriptions when an MCU is present;
//!    otherwise such input would be one giant "line" and fail in the browser anyway).
//! 2. **Sections, not `split('m=')`.** `_removeSDPUnknownAptRtx` and the read-only parsers cut
//!    the text at every `m=` substring; we cut at `m=` lines (the spec allows this — the
//!    substring never occurs elsewhere in real SDP).
//! 3. **Unterminated last line.** Regex steps of 0.6.26 need a CRLF after a line; steps that
//!    delete whole lines (REMB, candidates, end-of-candidates, codec removal) likewise leave an
//!    unterminated last line alone, other steps treat it like any line.
//! 4. **Never an empty section.** [`munge::remove_codec`] keeps a payload when removing it would
//!    leave its media section with no primary codec (0.6.26 would remove it, e.g. a section
//!    offering only `red`).
//! 5. **Codec inventory.** rtpmap lines before the first `m=` line are ignored by
//!    [`parse::codecs_support`] (0.6.26 throws a TypeError).
//! 6. **Preference numbers.** `samplingRate`/`channels` are truncated to integers (0.6.26 would
//!    interpolate a fraction such as `44.1` into a regular expression).
//! 7. **Audio RED and `disableVideoFecCodecs`** (errata): *reproduced* — the `red` search runs
//!    over the whole SDP, so Chrome's `red/48000/2` rtpmap/fmtp lines are deleted and its
//!    payload stays on `m=audio`, exactly as 0.6.26 sends it to JS peers.
//! 8. **Per-peer bandwidth overrides** (`refreshConnection` options) are not a separate input:
//!    pass the effective values in [`SdpSettings::bandwidth`] / `googleXBandwidth`.
//!
//! Browser-specific branches (Edge, Firefox as *self*, the Temasys plugin) are not implemented:
//! the Rust peer follows the Chrome branch, as the spec says.
//!
//! ## Invariants (checked by the property tests)
//!
//! Munging never panics; the output parses again; applying a pipeline twice equals applying it
//! once; every kept media section (non-zero port) keeps a codec and its `a=mid`, `a=ice-*` and
//! `a=fingerprint` lines. (Rejected sections of remote descriptions / local answers are reduced
//! to the bare `m=` line with port 0, and rejected sections of local offers are removed — both
//! by design of §1.6.)
//!
//! Two exceptions to "twice equals once" are inherited from 0.6.26 and reproduced, both in the
//! remote pipeline with `googleXBandwidth` set (they only change our local copy of the remote
//! description, never what a JS peer receives): the second pass appends the `x-google-*`
//! parameters after the other fmtp parameters (same set, different order), and when the first
//! video payload is `red`/`ulpfec` with `disableVideoFecCodecs`, the bitrate step (3) targets a
//! payload the FEC removal (5) then deletes, so the second pass targets the next payload.
#![warn(missing_docs)]

pub mod model;
pub mod munge;
pub mod parse;
pub mod pipeline;
pub mod settings;

pub use model::{Sdp, SdpError, Section};
pub use munge::{SdpRecord, SdpSessions, SdpType};
pub use pipeline::{PeerContext, local, output, remote};
pub use settings::SdpSettings;
