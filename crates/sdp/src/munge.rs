//! The munging steps of spec §1.2–§1.11, one function each.
//!
//! Every function edits an [`Sdp`] in place, performs no I/O and never panics. The JS names are
//! given for traceability.

use crate::model::{Sdp, js_num, rtpmap, starts_with_ci};
use crate::settings::{
    Bandwidth, BundlePolicy, CodecPreference, ConnectionFlags, DirectionSettings,
    FilterCandidatesType, GoogleXBandwidth, SdpSettings,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// `offer` or `answer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// Which description the connection step handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpDirection {
    /// A description we created.
    Local,
    /// A description we received.
    Remote,
}

/// The media kinds the codec steps address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl MediaKind {
    /// The `m=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §1.2

/// The exact legacy Firefox line removed by [`remove_firefox_h264_pref`].
pub const FIREFOX_H264_PREF: &str = "a=fmtp:0 profile-level-id=0x42e00c;packetization-mode=1";

/// §1.2 `_removeSDPFirefoxH264Pref`: delete every line exactly equal to [`FIREFOX_H264_PREF`].
pub fn remove_firefox_h264_pref(sdp: &mut Sdp) {
    let last = sdp.lines.len().saturating_sub(1);
    let mut i = 0;
    sdp.lines.retain(|l| {
        let keep = !(i < last && l == FIREFOX_H264_PREF);
        i += 1;
        keep
    });
}

// ---------------------------------------------------------------------------------------------
// §1.3

/// A value of an fmtp parameter map (§1.3 "value rendering").
#[derive(Debug, Clone, PartialEq)]
pub enum FmtpValue {
    /// `true` → `key=1;`, `false` → the key is removed.
    Bool(bool),
    /// `key=<number>;`.
    Num(f64),
    /// `key=<text>;`.
    Text(String),
}

impl FmtpValue {
    fn render(&self, key: &str, out: &mut String) {
        match self {
            FmtpValue::Bool(true) => {
                out.push_str(key);
                out.push_str("=1;");
            }
            FmtpValue::Bool(false) => {}
            FmtpValue::Num(n) => {
                out.push_str(key);
                out.push('=');
                out.push_str(&js_num(*n));
                out.push(';');
            }
            FmtpValue::Text(t) => {
                out.push_str(key);
                out.push('=');
                out.push_str(t);
                out.push(';');
            }
        }
    }
}

/// The OPUS parameter map of §1.3 (keys in SDK order), from `codecParams` and the stream's
/// audio settings.
pub fn opus_params(settings: &SdpSettings) -> Vec<(&'static str, FmtpValue)> {
    let p = &settings.codec_params.audio.opus;
    let a = settings.audio.clone().unwrap_or_default();
    let mut m = Vec::new();
    if let Some(v) = p.stereo.or(a.stereo) {
        m.push(("stereo", FmtpValue::Bool(v)));
    }
    if let Some(v) = p.sprop_stereo.or(a.stereo) {
        m.push(("sprop-stereo", FmtpValue::Bool(v)));
    }
    if let Some(v) = p.usedtx.or(a.usedtx) {
        m.push(("usedtx", FmtpValue::Bool(v)));
    }
    if let Some(v) = p.useinbandfec.or(a.useinbandfec) {
        m.push(("useinbandfec", FmtpValue::Bool(v)));
    }
    if let Some(v) = p.valid_maxplaybackrate().or(a.maxplaybackrate) {
        m.push(("maxplaybackrate", FmtpValue::Num(v)));
    }
    if let Some(v) = p.valid_minptime().or(a.minptime) {
        m.push(("minptime", FmtpValue::Num(v)));
    }
    m
}

fn vpx_map(p: &crate::settings::VpxParams) -> Vec<(&'static str, FmtpValue)> {
    let mut m = Vec::new();
    if let Some(v) = p.max_fr {
        m.push(("max-fr", FmtpValue::Num(v)));
    }
    if let Some(v) = p.max_fs {
        m.push(("max-fs", FmtpValue::Num(v)));
    }
    m
}

/// §1.3 `_setSDPCodecParams`: the four runs (OPUS/48000, VP8, VP9, H264) with maps built from
/// `settings`. `profile-level-id` is never applied (quirk A.1).
pub fn set_codec_params(sdp: &mut Sdp, settings: &SdpSettings) {
    // rtpmap lines are never edited by this step: collect them once for the four runs.
    let rtpmaps: Vec<String> = sdp
        .lines
        .iter()
        .filter(|l| l.starts_with("a=rtpmap:"))
        .map(|l| l.to_string())
        .collect();
    let has_audio = sdp.lines.iter().any(|l| starts_with_ci(l, "m=audio "));
    let has_video = sdp.lines.iter().any(|l| starts_with_ci(l, "m=video "));
    if has_audio {
        fmtp_run(sdp, &rtpmaps, "opus/48000", &opus_params(settings));
    }
    if has_video {
        let v = &settings.codec_params.video;
        fmtp_run(sdp, &rtpmaps, "VP8/", &vpx_map(&v.vp8));
        fmtp_run(sdp, &rtpmaps, "VP9/", &vpx_map(&v.vp9));
        let mut h = Vec::new();
        if let Some(b) = v.h264.level_asymmetry_allowed {
            h.push(("level-asymmetry-allowed", FmtpValue::Bool(b)));
        }
        if let Some(b) = v.h264.packetization_mode {
            h.push(("packetization-mode", FmtpValue::Bool(b)));
        }
        fmtp_run(sdp, &rtpmaps, "H264/", &h);
    }
}

/// One run of §1.3 for a codec: rewrite (and move after the rtpmap) the fmtp line of every
/// rtpmap of `codec` (case-insensitive; `rate` is a prefix filter on the clock rate, used with
/// `48000` for OPUS), applying `map` in order. Nothing happens without an `m=<kind> ` line.
pub fn set_fmtp_params(
    sdp: &mut Sdp,
    kind: MediaKind,
    codec: &str,
    rate: Option<&str>,
    map: &[(&str, FmtpValue)],
) {
    let m_prefix = format!("m={} ", kind.as_str());
    if !sdp.lines.iter().any(|l| starts_with_ci(l, &m_prefix)) {
        return;
    }
    let mut want = format!("{codec}/");
    if let Some(r) = rate {
        want.push_str(r);
    }
    let rtpmaps: Vec<String> = sdp
        .lines
        .iter()
        .filter(|l| l.starts_with("a=rtpmap:"))
        .map(|l| l.to_string())
        .collect();
    fmtp_run(sdp, &rtpmaps, &want, map);
}

fn fmtp_run(sdp: &mut Sdp, rtpmaps: &[String], want: &str, map: &[(&str, FmtpValue)]) {
    for rtp in rtpmaps {
        let pt = match rtpmap(rtp) {
            Some((pt, enc)) if !pt.is_empty() && starts_with_ci(enc, want) => pt,
            _ => continue,
        };
        let fmtp_prefix = format!("a=fmtp:{pt} ");
        // First fmtp line of this payload anywhere, and the first copy of the rtpmap line.
        let (mut fidx, mut ridx) = (None, None);
        for (i, l) in sdp.lines.iter().enumerate() {
            if fidx.is_none() && l.as_bytes().get(2) == Some(&b'f') && l.starts_with(&fmtp_prefix) {
                fidx = Some(i);
            } else if ridx.is_none() && l.len() == rtp.len() && **l == **rtp {
                ridx = Some(i);
            }
            if fidx.is_some() && ridx.is_some() {
                break;
            }
        }
        let mut out = String::new();
        let mut handled: Vec<&str> = Vec::new();
        let mut params = String::new();
        if let Some(f) = fidx {
            params.push_str(&sdp.lines[f][fmtp_prefix.len()..]);
            params.retain(|c| c != ' ');
            for piece in params.split(';').filter(|p| !p.is_empty()) {
                let key = piece.split('=').next().unwrap_or("");
                match map.iter().find(|(k, _)| *k == key) {
                    Some((k, v)) => v.render(k, &mut out),
                    None => {
                        out.push_str(piece);
                        out.push(';');
                    }
                }
                handled.push(key);
            }
        }
        for (k, v) in map {
            if !handled.contains(k) {
                v.render(k, &mut out);
                handled.push(k);
            }
        }
        let line = (!out.is_empty()).then(|| format!("{fmtp_prefix}{out}"));
        match (fidx, ridx, line) {
            // Already right after its rtpmap: rewrite in place.
            (Some(f), Some(r), Some(line)) if f == r + 1 => sdp.lines[f] = line.into(),
            (f, r, line) => {
                let mut r = r;
                if let Some(f) = f {
                    sdp.lines.remove(f);
                    r = r.map(|r| if f < r { r - 1 } else { r });
                }
                if let (Some(r), Some(line)) = (r, line) {
                    sdp.lines.insert(r + 1, line.into());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §1.4

/// §1.4 `_removeSDPUnknownAptRtx`: per section, delete rtx rtpmap lines without an fmtp, and
/// rtx rtpmap + fmtp pairs whose `apt=` target has no rtpmap in the same section.
pub fn remove_unknown_apt_rtx(sdp: &mut Sdp) {
    let lines = &sdp.lines;
    let n = lines.len();
    let mut removed = vec![false; n];
    let mut any = false;
    // Per section: (payload text, line index) of every rtpmap / fmtp line, built once.
    let mut rtpmaps: Vec<(&str, usize)> = Vec::new();
    let mut fmtps: Vec<(&str, usize)> = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + 1..n)
            .find(|&j| lines[j].starts_with("m="))
            .unwrap_or(n);
        rtpmaps.clear();
        fmtps.clear();
        for (j, l) in lines.iter().enumerate().take(end).skip(start) {
            if starts_with_ci(l, "a=rtpmap:") {
                rtpmaps.push((l[9..].split(' ').next().unwrap_or(""), j));
            } else if starts_with_ci(l, "a=fmtp:") {
                fmtps.push((l[7..].split(' ').next().unwrap_or(""), j));
            }
        }
        for &(_, i) in &rtpmaps {
            let Some((pt, enc)) = rtpmap(&lines[i]) else {
                continue;
            };
            if !starts_with_ci(enc, "rtx/") {
                continue;
            }
            // `a=fmtp:<pt> ` (a space must follow the payload).
            let fmtp = fmtps
                .iter()
                .find(|&&(p, j)| !removed[j] && p == pt && lines[j].len() > 7 + p.len())
                .map(|&(_, j)| j);
            let mut drop_text = |text: &str, removed: &mut Vec<bool>| {
                for j in start..end {
                    if lines[j] == text {
                        removed[j] = true;
                        any = true;
                    }
                }
            };
            match fmtp {
                None => drop_text(&lines[i], &mut removed),
                Some(f) => {
                    let apt = lines[f].split(" apt=").nth(1).unwrap_or("");
                    let target = rtpmaps
                        .iter()
                        .any(|&(p, j)| !removed[j] && p == apt && lines[j].len() > 9 + p.len());
                    if !target {
                        drop_text(&lines[i], &mut removed);
                        drop_text(&lines[f], &mut removed);
                    }
                }
            }
        }
        // Second pass: fmtp / rtcp-fb lines naming `rtx/` (never present in practice).
        for j in start..end {
            let l = &lines[j];
            if !removed[j]
                && (starts_with_ci(l, "a=fmtp:") || starts_with_ci(l, "a=rtcp-fb:"))
                && contains_ci(l, " rtx/")
            {
                removed[j] = true;
                any = true;
            }
        }
        start = end;
    }
    if any {
        let mut k = 0;
        sdp.lines.retain(|_| {
            let keep = !removed[k];
            k += 1;
            keep
        });
    }
}

/// ASCII case-insensitive substring test (no allocation).
/// `needle` must start with a space (found with memchr).
fn contains_ci(hay: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    let mut from = 0;
    while let Some(p) = hay[from..].find(' ') {
        let at = from + p;
        if hay
            .as_bytes()
            .get(at..at + n.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(n))
        {
            return true;
        }
        from = at + 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// §1.5

const NON_PRIMARY: &[&str] = &["red", "ulpfec", "rtx", "cn", "telephone-event"];

fn is_primary_rtpmap(line: &str) -> bool {
    rtpmap(line).is_some_and(|(_, enc)| {
        let name = enc.split('/').next().unwrap_or("").to_ascii_lowercase();
        !NON_PRIMARY.contains(&name.as_str())
    })
}

/// §1.5 removal procedure for one (kind, codec name): rtpmap, fmtp, the protecting
/// rtx rtpmap+fmtp pair, and the payload on the first `m=<kind>` line. `rtcp-fb` lines stay.
///
/// Deviation (safety): a payload is kept when its section would otherwise be left without any
/// primary codec (never the case for browser SDPs).
pub fn remove_codec(sdp: &mut Sdp, kind: MediaKind, name: &str) {
    let pts: Vec<(String, usize)> = sdp
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let (pt, enc) = rtpmap(l)?;
            (pt.bytes().all(|b| b.is_ascii_digit()) && starts_with_ci(enc, name))
                .then(|| (pt.to_owned(), i))
        })
        .collect();
    for (pt, _) in pts {
        // Safety guard: find the section of the (first) rtpmap line for this pt.
        let rp = format!("a=rtpmap:{pt} ");
        if let Some(idx) = sdp.lines.iter().position(|l| l.starts_with(&rp)) {
            let (s, e) = sdp.piece_of(idx);
            let others = sdp.lines[s..e]
                .iter()
                .any(|l| !l.starts_with(&rp) && is_primary_rtpmap(l));
            if !others && sdp.lines[s].starts_with("m=") {
                continue;
            }
        }
        let fp = format!("a=fmtp:{pt} ");
        let last = sdp.lines.len().saturating_sub(1);
        let mut i = 0;
        sdp.lines.retain(|l| {
            let keep = !(i < last && (l.starts_with(&rp) || l.starts_with(&fp)));
            i += 1;
            keep
        });
        // Adjacent `a=rtpmap:<n> rtx/<rate>` + `a=fmtp:<n> apt=<pt>` pairs.
        let mut i = 0;
        while i + 2 < sdp.lines.len() {
            if is_rtx_rtpmap_exact(&sdp.lines[i]) && is_apt_fmtp_exact(&sdp.lines[i + 1], &pt) {
                sdp.lines.drain(i..i + 2);
            } else {
                i += 1;
            }
        }
        let mp = format!("m={}", kind.as_str());
        if let Some(ml) = sdp.lines.iter_mut().find(|l| l.starts_with(&mp)) {
            let mut parts: Vec<&str> = ml.split(' ').collect();
            if let Some(pos) = parts.iter().position(|t| *t == pt)
                && pos >= 3
            {
                parts.remove(pos);
                *ml = parts.join(" ").into();
            }
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_rtx_rtpmap_exact(l: &str) -> bool {
    rtpmap(l)
        .is_some_and(|(pt, enc)| all_digits(pt) && enc.strip_prefix("rtx/").is_some_and(all_digits))
}

fn is_apt_fmtp_exact(l: &str, target: &str) -> bool {
    l.strip_prefix("a=fmtp:")
        .and_then(|r| r.split_once(' '))
        .is_some_and(|(n, rest)| all_digits(n) && rest.strip_prefix("apt=") == Some(target))
}

/// §1.5 `_removeSDPCodecs` as driven by the settings: `red` then `ulpfec` when
/// `disableVideoFecCodecs` (not with an MCU); `CN` when `disableComfortNoiseCodec` and our
/// audio settings have `stereo: true`.
///
/// Like 0.6.26 (errata), the `red` search covers the whole SDP, so Chrome's audio RED
/// (`red/48000/2`) rtpmap/fmtp lines go too while its payload stays on `m=audio` (reproduced).
pub fn remove_codecs(sdp: &mut Sdp, settings: &SdpSettings) {
    if settings.disable_video_fec_codecs && !settings.has_mcu {
        remove_codec(sdp, MediaKind::Video, "red");
        remove_codec(sdp, MediaKind::Video, "ulpfec");
    }
    let stereo = settings.audio.as_ref().and_then(|a| a.stereo) == Some(true);
    if settings.disable_comfort_noise_codec && stereo {
        remove_codec(sdp, MediaKind::Audio, "CN");
    }
}

// ---------------------------------------------------------------------------------------------
// §1.6

/// The final direction lines recorded per kind (`sdpSessions[peer][dir].connection`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Audio direction line, e.g. `a=sendonly`.
    pub audio: Option<String>,
    /// Video direction line.
    pub video: Option<String>,
    /// Data direction line.
    pub data: Option<String>,
}

/// `sdpSessions[peer].local` / `.remote`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SdpRecord {
    /// Original `m=` lines, in order.
    pub m_lines: Vec<String>,
    /// The `a=group:BUNDLE` line as found, or `""`.
    pub bundle_line: String,
    /// Final direction lines.
    pub connection: ConnectionRecord,
}

/// `sdpSessions[peer]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdpSessions {
    /// Record of our last local description.
    pub local: Option<SdpRecord>,
    /// Record of the last remote description.
    pub remote: Option<SdpRecord>,
}

/// Inputs of §1.6 besides the SDP.
#[derive(Debug, Clone)]
pub struct ConnectionParams<'a> {
    /// `local` or `remote`.
    pub direction: SdpDirection,
    /// The description type.
    pub sdp_type: SdpType,
    /// `sdpSettings.connection`.
    pub connection: ConnectionFlags,
    /// `sdpSettings.direction`.
    pub directions: DirectionSettings,
    /// `peerConnection.bundlePolicy`.
    pub bundle_policy: BundlePolicy,
    /// The target peer id (`MCU` is special).
    pub peer_id: &'a str,
    /// The remote peer's agent name.
    pub peer_agent: &'a str,
    /// The remote peer advertised `enableIceTrickle`.
    pub peer_ice_trickle: bool,
    /// An MCU is in the room.
    pub has_mcu: bool,
    /// Truthiness of the peer info `settings.audio` / `settings.video` (used with an MCU).
    pub peer_settings_audio: bool,
    /// See `peer_settings_audio`.
    pub peer_settings_video: bool,
    /// Remote only: the common-codec check (§1.17) result `(audio, video)`.
    pub common_codecs: (bool, bool),
    /// Our local record (for the remote-answer patch, table B).
    pub local_connection: Option<ConnectionRecord>,
}

fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// §1.6 `_handleSDPConnectionSettings`: reject/remove sections, rewrite directions, fix BUNDLE,
/// handle `a=end-of-candidates` for non-trickle remote peers. Returns the new record.
pub fn handle_connection_settings(sdp: &mut Sdp, p: &ConnectionParams<'_>) -> SdpRecord {
    let remote = p.direction == SdpDirection::Remote;
    let non_trickle_remote = remote && !p.peer_ice_trickle;
    let mut lines: Vec<Cow<'_, str>> = std::mem::take(&mut sdp.lines);
    if non_trickle_remote {
        // `replace(/a=end-of-candidates\r\n/g, '')`: only terminated lines.
        let last = lines.len().saturating_sub(1);
        let mut i = 0;
        lines.retain(|l| {
            let keep = !(i < last && l == "a=end-of-candidates");
            i += 1;
            keep
        });
    }
    let mut conn = p.connection;
    let mut dirs = p.directions;
    if p.peer_id == "MCU" {
        conn = ConnectionFlags {
            audio: true,
            video: true,
            data: true,
        };
    }
    if p.has_mcu {
        let mcu = p.peer_id == "MCU";
        dirs.audio.receive = !mcu && p.peer_settings_audio;
        dirs.audio.send = mcu;
        dirs.video.receive = !mcu && p.peer_settings_video;
        dirs.video.send = mcu;
    }
    if remote {
        if !p.common_codecs.0 {
            conn.audio = false;
        }
        if !p.common_codecs.1 {
            conn.video = false;
        }
    }
    // Connection flags per kind; unknown kinds start false (and may be set by max-bundle).
    let mut extra_conn: Vec<(String, bool)> = Vec::new();
    let get_conn = |conn: &ConnectionFlags, extra: &Vec<(String, bool)>, kind: &str| match kind {
        "audio" => conn.audio,
        "video" => conn.video,
        "data" => conn.data,
        k => extra.iter().any(|(n, v)| n == k && *v),
    };
    let mut record = SdpRecord::default();
    let mut media = String::new();
    let mut bundle_idx: Option<usize> = None;
    let mut mids: Vec<String> = Vec::new();
    let mut m_index: isize = -1;
    let mut i: isize = 0;
    while (i as usize) < lines.len() {
        let iu = i as usize;
        if lines[iu].starts_with("a=group:BUNDLE") {
            record.bundle_line = lines[iu].to_string();
            bundle_idx = Some(iu);
        } else if lines[iu].starts_with("m=") {
            let k = lines[iu][2..].split(' ').next().unwrap_or("").to_owned();
            media = if k == "application" {
                "data".to_owned()
            } else {
                k
            };
            m_index += 1;
            record.m_lines.push(lines[iu].to_string());
            if !get_conn(&conn, &extra_conn, &media) {
                let protect = p.bundle_policy == BundlePolicy::MaxBundle
                    && bundle_idx.is_some()
                    && m_index == 0
                    && if remote {
                        p.sdp_type == SdpType::Offer
                    } else {
                        p.sdp_type == SdpType::Answer
                    };
                if protect {
                    match media.as_str() {
                        "audio" => {
                            conn.audio = true;
                            dirs.audio.send = false;
                            dirs.audio.receive = false;
                        }
                        "video" => {
                            conn.video = true;
                            dirs.video.send = false;
                            dirs.video.receive = false;
                        }
                        "data" => conn.data = true,
                        k => extra_conn.push((k.to_owned(), true)),
                    }
                    i += 1;
                    continue;
                }
                if remote || p.sdp_type == SdpType::Answer {
                    let mut parts: Vec<&str> = lines[iu].split(' ').collect();
                    if parts.len() > 1 {
                        parts[1] = "0";
                    } else {
                        parts.push("0");
                    }
                    lines[iu] = parts.join(" ").into();
                    i += 1;
                    continue;
                }
            }
        }
        if non_trickle_remote && lines[iu].starts_with("a=candidate:") {
            let need = match lines.get(iu + 1) {
                Some(n) if !n.is_empty() => {
                    !(n.starts_with("a=candidate:") || n.starts_with("a=end-of-candidates"))
                }
                _ => true,
            };
            if need {
                lines.insert(iu + 1, Cow::Borrowed("a=end-of-candidates"));
                i += 1;
            }
        }
        let iu = i as usize;
        if !media.is_empty() {
            if !get_conn(&conn, &extra_conn, &media) {
                lines.remove(iu);
                i -= 1;
            } else if let Some(mid) = lines[iu].strip_prefix("a=mid:") {
                mids.push(mid.to_owned());
            } else if matches!(&*lines[iu], "a=sendrecv" | "a=sendonly" | "a=recvonly") {
                if media != "audio" && media != "video" {
                    record.connection.data = Some(lines[iu].to_string());
                    i += 1;
                    continue;
                }
                let d = if media == "audio" {
                    &mut dirs.audio
                } else {
                    &mut dirs.video
                };
                if !remote {
                    let cur = lines[iu].to_string();
                    let new = match (d.send, d.receive) {
                        (true, false) => {
                            if cur.contains("send") {
                                "a=sendonly".to_owned()
                            } else {
                                "a=inactive".to_owned()
                            }
                        }
                        (false, true) => {
                            if cur.contains("recv") {
                                "a=recvonly".to_owned()
                            } else {
                                "a=inactive".to_owned()
                            }
                        }
                        (false, false) => "a=inactive".to_owned(),
                        (true, true) => cur,
                    };
                    lines[iu] = new.into();
                    if !p.has_mcu
                        && p.peer_agent == "firefox"
                        && p.sdp_type == SdpType::Offer
                        && lines[iu] == "a=recvonly"
                    {
                        lines[iu] = Cow::Borrowed("a=sendrecv");
                        d.send = true;
                        d.receive = true;
                    }
                } else if p.sdp_type == SdpType::Answer {
                    let ours = p.local_connection.as_ref().and_then(|c| {
                        if media == "audio" {
                            c.audio.clone()
                        } else {
                            c.video.clone()
                        }
                    });
                    let cur = &*lines[iu];
                    let new = match ours.as_deref() {
                        Some("a=sendonly") => match cur {
                            "a=inactive" | "a=recvonly" => cur,
                            "a=sendonly" => "a=inactive",
                            _ => "a=recvonly",
                        },
                        Some("a=recvonly") => match cur {
                            "a=inactive" | "a=sendonly" => cur,
                            "a=recvonly" => "a=inactive",
                            _ => "a=sendonly",
                        },
                        Some("a=inactive") => "a=inactive",
                        _ => cur,
                    }
                    .to_owned();
                    lines[iu] = new.into();
                }
                if media == "audio" {
                    record.connection.audio = Some(lines[iu].to_string());
                } else {
                    record.connection.video = Some(lines[iu].to_string());
                }
            }
        }
        if i >= 0 && lines.get(i as usize).is_none_or(|l| is_blank(l)) {
            if (i as usize) < lines.len() {
                lines.remove(i as usize);
            }
            i -= 1;
        }
        i += 1;
    }
    if let Some(b) = bundle_idx {
        match p.bundle_policy {
            BundlePolicy::MaxBundle => {
                if let Some(l) = lines.get_mut(b) {
                    *l = format!("a=group:BUNDLE {}", mids.join(" ")).into();
                }
            }
            BundlePolicy::None if b < lines.len() => {
                lines.remove(b);
            }
            _ => {}
        }
    }
    match lines.last_mut() {
        Some(l) if is_blank(l) => *l = Cow::Borrowed(""),
        _ => lines.push(Cow::Borrowed("")),
    }
    sdp.lines = lines;
    record
}

// ---------------------------------------------------------------------------------------------
// §1.7

/// §1.7 `_removeSDPREMBPackets`: delete every `a=rtcp-fb:<digits> goog-remb` line.
pub fn remove_remb(sdp: &mut Sdp) {
    let last = sdp.lines.len().saturating_sub(1);
    let mut i = 0;
    sdp.lines.retain(|l| {
        let remb = l
            .strip_prefix("a=rtcp-fb:")
            .and_then(|r| r.strip_suffix(" goog-remb"))
            .is_some_and(all_digits);
        let keep = !(i < last && remb);
        i += 1;
        keep
    });
}

// ---------------------------------------------------------------------------------------------
// §1.8

/// §1.8 `_removeSDPFilteredCandidates`: delete `a=candidate:` lines containing `host`, `srflx`
/// or `relay` per the filter (nothing when `forceTURN` and an MCU is present).
pub fn remove_filtered_candidates(
    sdp: &mut Sdp,
    filter: FilterCandidatesType,
    force_turn: bool,
    has_mcu: bool,
) {
    if force_turn && has_mcu {
        return;
    }
    for (on, word) in [
        (filter.host, "host"),
        (filter.srflx, "srflx"),
        (filter.relay, "relay"),
    ] {
        if !on {
            continue;
        }
        let last = sdp.lines.len().saturating_sub(1);
        let mut i = 0;
        sdp.lines.retain(|l| {
            let hit = l
                .strip_prefix("a=candidate:")
                .is_some_and(|r| r.contains(word));
            let keep = !(i < last && hit);
            i += 1;
            keep
        });
    }
}

// ---------------------------------------------------------------------------------------------
// §1.9

fn rtpmap_name_rate(enc: &str) -> (&str, &str) {
    match enc.split_once('/') {
        Some((n, r)) => (n, r),
        None => (enc, ""),
    }
}

/// §1.9 `_setSDPCodec` for one kind: move the preferred codec's payloads to the front of the
/// first `m=<kind>` line (with quirks A.7 substring drop and A.8 trailing space).
pub fn set_preferred_codec(sdp: &mut Sdp, kind: MediaKind, pref: Option<&CodecPreference>) {
    let Some(pref) = pref else { return };
    let m_prefix = format!("m={} ", kind.as_str());
    let Some(m_idx) = sdp.lines.iter().position(|l| starts_with_ci(l, &m_prefix)) else {
        return;
    };
    let codec = pref.codec.as_str();
    let audio = kind == MediaKind::Audio;
    // Lines `a=rtpmap:… <codec>/<rest>` (case-insensitive name).
    let candidates: Vec<(String, String)> = sdp
        .lines
        .iter()
        .filter_map(|l| {
            let (pt, enc) = rtpmap(l)?;
            let (name, rest) = rtpmap_name_rate(enc);
            (enc.contains('/') && name.eq_ignore_ascii_case(codec))
                .then(|| (pt.to_owned(), rest.to_owned()))
        })
        .collect();
    let pick = |f: &dyn Fn(&str) -> bool| -> Vec<String> {
        candidates
            .iter()
            .filter(|(_, rest)| f(rest))
            .map(|(pt, _)| pt.clone())
            .collect()
    };
    let mut list: Vec<String> = Vec::new();
    if let Some(rate) = pref.sampling_rate {
        let rate = rate.to_string();
        if audio && let Some(ch) = pref.channels {
            list = pick(&|rest: &str| match rest.strip_prefix(rate.as_str()) {
                Some(tail) if ch == 1 => tail.chars().all(|c| c == '/' || c == '1'),
                Some(tail) => tail == format!("/{ch}"),
                None => false,
            });
        }
        if list.is_empty() {
            list = pick(&|rest: &str| rest.starts_with(rate.as_str()));
        }
    }
    if list.is_empty()
        && audio
        && let Some(ch) = pref.channels
    {
        let suffix = format!("/{ch}");
        list = pick(&|rest: &str| rest.ends_with(&suffix) && rest.len() > suffix.len() - 1);
    }
    if list.is_empty() {
        list = pick(&|_| true);
    }
    if list.is_empty() {
        return;
    }
    let old = sdp.lines[m_idx].clone();
    let parts: Vec<&str> = old.split(' ').collect();
    let mut line = format!(
        "{} {} {} ",
        parts.first().copied().unwrap_or(""),
        parts.get(1).copied().unwrap_or("undefined"),
        parts.get(2).copied().unwrap_or("undefined")
    );
    for pt in &list {
        line.push_str(pt);
        line.push(' ');
    }
    let mut tail: Vec<&str> = Vec::new();
    for p in parts.iter().skip(3) {
        let needle = format!(" {p}");
        if line.find(&needle).is_some_and(|pos| pos > 0) {
            continue;
        }
        let same = sdp.lines.iter().any(|l| {
            rtpmap(l).is_some_and(|(pt, enc)| {
                pt == *p && enc.contains('/') && rtpmap_name_rate(enc).0.eq_ignore_ascii_case(codec)
            })
        });
        if same {
            line.push_str(p);
            line.push(' ');
        } else {
            tail.push(p);
        }
    }
    line.push_str(&tail.join(" "));
    sdp.lines[m_idx] = line.into();
}

// ---------------------------------------------------------------------------------------------
// §1.10

/// §1.10 `_setSDPBitrate`: strip `b=AS` in the first audio/video/application section, insert
/// `b=AS:<kbps>` after its `c=` line, then apply `x-google-min/max-bitrate` to the first video
/// payload. Quirks A.9 (`b=TIAS` kept, `;;` possible) are reproduced.
pub fn set_bitrate(sdp: &mut Sdp, bw: &Bandwidth, gx: &GoogleXBandwidth) {
    for (ty, v) in [
        ("audio", bw.audio),
        ("video", bw.video),
        ("application", bw.data),
    ] {
        set_bas(sdp, ty, v);
    }
    if gx.min.is_none() && gx.max.is_none() {
        return;
    }
    let lines = &mut sdp.lines;
    let mut codec: Option<String> = None;
    let mut rtp_idx: Option<usize> = None;
    let mut fmtp_idx: Option<usize> = None;
    let mut j = 0;
    while j < lines.len() {
        if lines[j].starts_with("m=video") {
            codec = lines[j].split(' ').nth(3).map(str::to_owned);
            codec = codec.filter(|c| !c.is_empty());
        } else if let Some(c) = &codec {
            if lines[j].starts_with("m=") {
                break;
            }
            if lines[j].starts_with(&format!("a=rtpmap:{c} ")) {
                rtp_idx = Some(j);
            } else if lines[j].starts_with(&format!("a=fmtp:{c} ")) {
                lines[j] = strip_x_google(&lines[j]).into();
                fmtp_idx = Some(j);
                break;
            }
        }
        j += 1;
    }
    let (Some(r), Some(c)) = (rtp_idx, codec) else {
        return;
    };
    let mut params = String::new();
    if let Some(min) = gx.min {
        params.push_str(&format!("x-google-min-bitrate={};", js_num(min)));
    }
    if let Some(max) = gx.max {
        params.push_str(&format!("x-google-max-bitrate={};", js_num(max)));
    }
    match fmtp_idx {
        Some(f) => {
            let has = lines[f].split(' ').nth(1).is_some_and(|t| !t.is_empty());
            if has {
                lines[f].to_mut().push(';');
            }
            lines[f].to_mut().push_str(&params);
        }
        None => lines.insert(r + 1, format!("a=fmtp:{c} {params}").into()),
    }
}

fn set_bas(sdp: &mut Sdp, ty: &str, value: Option<f64>) {
    let lines = &mut sdp.lines;
    let prefix = format!("m={ty}");
    let mut m_idx: Option<usize> = None;
    let mut c_idx: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        if lines[i].starts_with(&prefix) {
            m_idx = Some(i);
        } else if m_idx.is_some_and(|m| m > 0) {
            if lines[i].starts_with("m=") {
                break;
            }
            if lines[i].starts_with("c=") {
                c_idx = Some(i);
            } else if lines[i].starts_with("b=AS:") {
                lines.remove(i);
                continue;
            }
        }
        i += 1;
    }
    let Some(v) = value.filter(|v| *v > 0.0) else {
        return;
    };
    if let Some(c) = c_idx {
        lines.insert(c + 1, format!("b=AS:{}", js_num(v)).into());
    }
}

/// Removes `x-google-(min|max)-bitrate=<digits>` (case-insensitive) and the `;`s after it.
fn strip_x_google(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    let b = line.as_bytes();
    while i < b.len() {
        let rest = &lower[i..];
        let hit = ["x-google-min-bitrate=", "x-google-max-bitrate="]
            .iter()
            .find(|p| rest.starts_with(**p));
        if let Some(p) = hit {
            let mut j = i + p.len();
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            while j < b.len() && b[j] == b';' {
                j += 1;
            }
            i = j;
        } else {
            let ch = line[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// §1.11

/// Inputs of the output renderer (§1.11) besides the SDP.
#[derive(Debug, Clone, Default)]
pub struct RenderParams<'a> {
    /// The description type.
    pub sdp_type: Option<SdpType>,
    /// **Our** `enableIceTrickle`.
    pub enable_ice_trickle: bool,
    /// The id of the stream attached to the connection, if any.
    pub local_stream_id: Option<&'a str>,
    /// `peerConnection.bundlePolicy`.
    pub bundle_policy: BundlePolicy,
    /// `sdpSessions[peer].remote` (for the answer m-line restoration).
    pub remote_record: Option<&'a SdpRecord>,
}

/// §1.11 `_renderSDPOutput`: msid rewrite, non-trickle end-of-candidates, answer m-line
/// restoration.
pub fn render_output(sdp: &mut Sdp, p: &RenderParams<'_>) {
    let lines = &mut sdp.lines;
    if !p.enable_ice_trickle {
        let last = lines.len().saturating_sub(1);
        let mut i = 0;
        lines.retain(|l| {
            let keep = !(i < last && l == "a=end-of-candidates");
            i += 1;
            keep
        });
    }
    if let Some(id) = p.local_stream_id {
        let mut media = false;
        for l in lines.iter_mut() {
            if let Some(r) = l.strip_prefix("m=") {
                let k = r.split(' ').next().unwrap_or("");
                media = k == "audio" || k == "video";
            } else if media {
                if l.starts_with("a=msid:") {
                    let rest = l.split_once(' ').map(|(_, r)| r);
                    *l = match rest {
                        Some(r) => format!("a=msid:{id} {r}"),
                        None => format!("a=msid:{id}"),
                    }
                    .into();
                } else if l.starts_with("a=ssrc:") {
                    for key in [" msid:", " mslabel:"] {
                        if l.find(key).is_some_and(|p| p > 0) {
                            *l = replace_first_token_after_all(l, key, id).into();
                            break;
                        }
                    }
                }
            }
        }
    }
    if !p.enable_ice_trickle {
        let mut e = 0;
        while e < lines.len() {
            if lines[e].starts_with("a=candidate:") {
                let need = match lines.get(e + 1) {
                    Some(n) if !n.is_empty() => {
                        !(n.starts_with("a=candidate:") || n.starts_with("a=end-of-candidates"))
                    }
                    _ => true,
                };
                if need {
                    lines.insert(e + 1, Cow::Borrowed("a=end-of-candidates"));
                    e += 1;
                }
            }
            e += 1;
        }
    }
    if p.sdp_type == Some(SdpType::Answer)
        && let Some(rec) = p.remote_record
    {
        let mut m_index: isize = -1;
        let mut j = 0;
        while j < lines.len() {
            if lines[j].starts_with("a=group:BUNDLE")
                && !rec.bundle_line.is_empty()
                && p.bundle_policy == BundlePolicy::MaxBundle
            {
                lines[j] = rec.bundle_line.clone().into();
            } else if lines[j].starts_with("m=") {
                m_index += 1;
                let a0 = lines[j].split(' ').next().unwrap_or("").to_owned();
                let b = rec
                    .m_lines
                    .get(m_index as usize)
                    .cloned()
                    .unwrap_or_default();
                let b0 = b.split(' ').next().unwrap_or("");
                if !a0.is_empty() && !b0.is_empty() && a0 != b0 {
                    lines.insert(j, with_port_zero(&b).into());
                    j += 1;
                    m_index += 1;
                }
            }
            j += 1;
        }
        while let Some(next) = rec.m_lines.get((m_index + 1) as usize) {
            if next.is_empty() {
                break;
            }
            m_index += 1;
            let mut at = lines.len();
            if at > 0 && is_blank(&lines[at - 1]) {
                at -= 1;
            }
            lines.insert(at, with_port_zero(next).into());
        }
    }
}

fn with_port_zero(m: &str) -> String {
    let mut parts: Vec<&str> = m.split(' ').collect();
    if parts.len() > 1 {
        parts[1] = "0";
    } else {
        parts.push("0");
    }
    parts.join(" ")
}

/// `line.split(key)`; replace the first token of piece 1 with `id`; `join(key)`.
fn replace_first_token_after_all(line: &str, key: &str, id: &str) -> String {
    let mut pieces: Vec<String> = line.split(key).map(str::to_owned).collect();
    if pieces.len() > 1 {
        let p1 = pieces[1].clone();
        pieces[1] = match p1.split_once(' ') {
            Some((_, r)) => format!("{id} {r}"),
            None => id.to_owned(),
        };
    }
    pieces.join(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdp(body: &str) -> Sdp<'static> {
        let text = format!("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n{body}");
        Sdp::parse(&text).unwrap().into_owned()
    }

    #[test]
    fn helpers() {
        assert!(contains_ci("a=fmtp:97 RTX/90000", " rtx/"));
        assert!(!contains_ci("a=fmtp:97 apt=96", " rtx/"));
        assert_eq!(
            strip_x_google("a=fmtp:96 X-Google-Max-Bitrate=300;;max-fr=30"),
            "a=fmtp:96 max-fr=30"
        );
        assert_eq!(
            with_port_zero("m=video 9 UDP/TLS/RTP/SAVPF 96"),
            "m=video 0 UDP/TLS/RTP/SAVPF 96"
        );
        assert_eq!(
            replace_first_token_after_all("a=ssrc:1 msid:old track", " msid:", "new"),
            "a=ssrc:1 msid:new track"
        );
    }

    #[test]
    fn fec_removal_never_empties_a_section() {
        // Deviation 4: a section offering only `red` keeps it.
        let mut s = sdp("m=video 9 UDP/TLS/RTP/SAVPF 116\r\na=rtpmap:116 red/90000\r\n");
        let before = s.clone();
        remove_codec(&mut s, MediaKind::Video, "red");
        assert_eq!(s, before);
    }

    #[test]
    fn substring_drop_quirk_a7() {
        // Payload 10 disappears once 100 is preferred (" 10" is a substring of " 100").
        let mut s = sdp(
            "m=video 9 UDP/TLS/RTP/SAVPF 96 10 100\r\na=rtpmap:96 VP8/90000\r\n\
             a=rtpmap:10 L16/90000\r\na=rtpmap:100 H264/90000\r\n",
        );
        let pref = CodecPreference {
            codec: "H264".into(),
            sampling_rate: None,
            channels: None,
        };
        set_preferred_codec(&mut s, MediaKind::Video, Some(&pref));
        assert_eq!(s.lines[4], "m=video 9 UDP/TLS/RTP/SAVPF 100 96");
    }

    #[test]
    fn rtx_second_pass_and_case() {
        let mut s = sdp(
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n\
             a=rtpmap:97 RTX/90000\r\na=fmtp:97 apt=95\r\na=rtcp-fb:97 rtx/x\r\n",
        );
        remove_unknown_apt_rtx(&mut s);
        assert_eq!(s.lines.len(), 7, "{:?}", s.lines);
    }
}
