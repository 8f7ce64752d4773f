//! Read-only parsers (spec §1.12–§1.17).

use crate::model::{Sdp, js_parse_int};
use crate::settings::CodecInventory;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The media sections as the JS sees them with `sdp.split('m=')` (index 0 = session part,
/// dropped): each item is `(lines of the section)`, the `m=` line first.
fn media_pieces<'s, 'a>(sdp: &'s Sdp<'a>) -> Vec<&'s [Cow<'a, str>]> {
    sdp.sections()
        .into_iter()
        .map(|s| &sdp.lines[s.start..s.end])
        .collect()
}

/// §1.12 `_parseSDPMediaStreamIDs`: the stream id of the first `a=msid:` line or `a=ssrc:` line
/// with ` msid:`; `None` = no remote stream.
pub fn remote_stream_id(sdp: &Sdp) -> Option<String> {
    for l in &sdp.lines {
        if let Some(r) = l.strip_prefix("a=msid:") {
            let id = r.split(' ').next().unwrap_or("");
            return (!id.is_empty()).then(|| id.to_owned());
        }
        if l.starts_with("a=ssrc:")
            && let Some(pos) = l.find(" msid:").filter(|p| *p > 0)
        {
            let id = l[pos + 6..].split(" msid:").next().unwrap_or("");
            let id = id.split(' ').next().unwrap_or("");
            return (!id.is_empty()).then(|| id.to_owned());
        }
    }
    None
}

/// §1.13 result (`_getSDPSelectedCodec`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedCodec {
    /// Encoding name as written.
    pub name: Option<String>,
    /// Always `None` (filled by browser stats only).
    pub implementation: Option<String>,
    /// Clock rate (0 if unparsable).
    pub clock_rate: Option<i64>,
    /// Channels (default 1).
    pub channels: Option<i64>,
    /// Payload type (`None` where JavaScript's `parseInt` gives NaN).
    pub payload_type: Option<i64>,
    /// Concatenated fmtp parameters without spaces.
    pub params: Option<String>,
}

/// §1.13 `_getSDPSelectedCodec` for `kind` (`audio`/`video`).
pub fn selected_codec(sdp: &Sdp, kind: &str) -> SelectedCodec {
    let mut info = SelectedCodec::default();
    let want = format!("{kind} ");
    for piece in media_pieces(sdp) {
        let first = &piece[0][2..];
        if !first.starts_with(&want) {
            continue;
        }
        for p in first.split(' ').skip(3) {
            let rp = format!("a=rtpmap:{p}");
            let Some(m) = piece.iter().skip(1).find_map(|l| {
                let pos = find_ci(l, &rp)?;
                Some(&l[pos..])
            }) else {
                continue;
            };
            let enc = m.split(' ').nth(1).unwrap_or("");
            let parts: Vec<&str> = enc.split('/').collect();
            let name = parts.first().copied().unwrap_or("");
            if ["red", "ulpfec", "telephone-event", "cn", "rtx"]
                .contains(&name.to_ascii_lowercase().as_str())
            {
                continue;
            }
            info.name = Some(name.to_owned());
            info.clock_rate = Some(parts.get(1).and_then(|r| js_parse_int(r)).unwrap_or(0));
            info.channels = Some(
                js_parse_int(
                    parts
                        .get(2)
                        .copied()
                        .filter(|s| !s.is_empty())
                        .unwrap_or("1"),
                )
                .filter(|c| *c != 0)
                .unwrap_or(1),
            );
            info.payload_type = js_parse_int(p);
            let fp = format!("a=fmtp:{p}");
            let mut params = String::new();
            for l in piece.iter().skip(1) {
                if let Some(pos) = find_ci(l, &fp) {
                    let text = remove_all_ci(&l[pos..], &fp);
                    params.extend(text.chars().filter(|c| *c != ' '));
                }
            }
            info.params = Some(params);
            break;
        }
    }
    info
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(&needle.to_ascii_lowercase())
}

fn remove_all_ci(s: &str, needle: &str) -> String {
    if needle.is_empty() {
        return s.to_owned();
    }
    let lower = s.to_ascii_lowercase();
    let nl = needle.to_ascii_lowercase();
    let mut out = String::new();
    let mut i = 0;
    while let Some(p) = lower[i..].find(&nl) {
        out.push_str(&s[i..i + p]);
        i += p + nl.len();
    }
    out.push_str(&s[i..]);
    out
}

/// §1.14 result (`_getSDPFingerprint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    /// The fingerprint value.
    pub fingerprint: Option<String>,
    /// The hash algorithm (e.g. `sha-256`).
    pub fingerprint_algorithm: Option<String>,
    /// Always `None` (browser certificate stats only).
    pub der_base64: Option<String>,
}

/// §1.14 `_getSDPFingerprint`: the first line starting with `a=fingerprint`.
pub fn fingerprint(sdp: &Sdp) -> Fingerprint {
    let mut f = Fingerprint::default();
    if let Some(l) = sdp.lines.iter().find(|l| l.starts_with("a=fingerprint")) {
        let text = l.replacen("a=fingerprint:", "", 1);
        let mut parts = text.split(' ');
        f.fingerprint_algorithm = parts.next().map(str::to_owned);
        f.fingerprint = parts.next().map(str::to_owned);
    }
    f
}

/// One candidate listed in an SDP (§1.15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdpCandidate {
    /// The line without the leading `a=`.
    pub candidate: String,
    /// The section's first `a=mid:` value (`""` if none).
    pub sdp_mid: String,
    /// Index of the section among the `m=` lines.
    pub sdp_m_line_index: usize,
}

/// §1.15 result: candidates by type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdpCandidates {
    /// `host` candidates.
    pub host: Vec<SdpCandidate>,
    /// `srflx` candidates.
    pub srflx: Vec<SdpCandidate>,
    /// `relay` candidates.
    pub relay: Vec<SdpCandidate>,
    /// Any other type seen (e.g. `prflx`).
    #[serde(flatten)]
    pub other: BTreeMap<String, Vec<SdpCandidate>>,
}

/// §1.15 `_getSDPICECandidates`.
pub fn candidates(sdp: &Sdp) -> SdpCandidates {
    let mut out = SdpCandidates::default();
    for (idx, piece) in media_pieces(sdp).into_iter().enumerate() {
        let mid = piece
            .iter()
            .find_map(|l| find_ci(l, "a=mid:").map(|p| remove_all_ci(&l[p..], "a=mid:")))
            .unwrap_or_default();
        for l in piece {
            let Some(pos) = find_ci(l, "a=candidate:") else {
                continue;
            };
            let item = &l[pos..];
            let ty = item
                .split(' ')
                .nth(7)
                .filter(|t| !t.is_empty())
                .unwrap_or("host");
            let cand = SdpCandidate {
                candidate: item.split("a=").nth(1).unwrap_or("").to_owned(),
                sdp_mid: mid.clone(),
                sdp_m_line_index: idx,
            };
            match ty {
                "host" => out.host.push(cand),
                "srflx" => out.srflx.push(cand),
                "relay" => out.relay.push(cand),
                t => out.other.entry(t.to_owned()).or_default().push(cand),
            }
        }
    }
    out
}

/// §1.16 result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaSsrc {
    /// SSRC of the (last) audio section's first `a=ssrc:` line.
    pub audio: i64,
    /// SSRC of the (last) video section's first `a=ssrc:` line.
    pub video: i64,
}

/// §1.16 `_getSDPMediaSSRC`.
pub fn media_ssrc(sdp: &Sdp) -> MediaSsrc {
    let mut out = MediaSsrc::default();
    for piece in media_pieces(sdp) {
        let kind = piece[0][2..].split(' ').next().unwrap_or("");
        let slot = match kind {
            "audio" => &mut out.audio,
            "video" => &mut out.video,
            _ => continue,
        };
        if let Some(l) = piece
            .iter()
            .find_map(|l| l.find("a=ssrc:").map(|p| &l[p + 7..]))
        {
            *slot = js_parse_int(l.split(' ').next().unwrap_or("")).unwrap_or(0);
        }
    }
    out
}

/// §1.17 `_getSDPCodecsSupport`: the codec inventory of an SDP. The walk stops at the first
/// `m=` line that is neither audio nor video; rtpmap lines before the first `m=` line are
/// ignored (0.6.26 would throw there).
pub fn codecs_support(sdp: &Sdp) -> CodecInventory {
    let mut inv = CodecInventory::default();
    let mut kind = "";
    for l in &sdp.lines {
        if let Some(r) = l.strip_prefix("m=") {
            kind = r.split(' ').next().unwrap_or("");
            if kind != "audio" && kind != "video" {
                break;
            }
            continue;
        }
        if l.starts_with("a=rtpmap:") {
            let enc = l.split(' ').nth(1).unwrap_or("");
            let parts: Vec<&str> = enc.split('/').collect();
            let codec = parts.first().copied().unwrap_or("").to_ascii_lowercase();
            if ["ulpfec", "red", "telephone-event", "cn", "rtx"].contains(&codec.as_str()) {
                continue;
            }
            let mut info = parts.get(1).copied().unwrap_or("undefined").to_owned();
            if let Some(ch) = parts.get(2).filter(|c| !c.is_empty()) {
                info.push('/');
                info.push_str(ch);
            }
            let map = match kind {
                "audio" => &mut inv.audio,
                "video" => &mut inv.video,
                _ => continue,
            };
            let list = map.entry(codec).or_default();
            if !list.contains(&info) {
                list.push(info);
            }
        }
    }
    inv
}

/// §1.17 `_getSDPCommonSupports` with a remote SDP: whether any codec name of ours also appears
/// in the remote inventory, per kind (`(audio, video)`).
pub fn common_supports(ours: &CodecInventory, remote: &Sdp) -> (bool, bool) {
    let theirs = codecs_support(remote);
    let any = |a: &BTreeMap<String, Vec<String>>, b: &BTreeMap<String, Vec<String>>| {
        a.keys().any(|k| b.contains_key(k))
    };
    (
        any(&ours.audio, &theirs.audio),
        any(&ours.video, &theirs.video),
    )
}

/// §1.17 `_getSDPCommonSupports` without an SDP (used for offers and the advertised
/// `userInfo`): `(audio, video)`. With `peer_agent == Some(our_agent)` any codec counts.
pub fn common_supports_without_sdp(
    ours: &CodecInventory,
    peer_agent: Option<&str>,
    our_agent: &str,
) -> (bool, bool) {
    if peer_agent == Some(our_agent) {
        return (!ours.audio.is_empty(), !ours.video.is_empty());
    }
    (
        ours.audio.contains_key("opus"),
        ours.video.contains_key("h264") || ours.video.contains_key("vp8"),
    )
}
