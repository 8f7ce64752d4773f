//! `getConnectionStatus()` stats mapping (spec `sdp-and-peers.md` §3), sans-IO.
//!
//! The engine calls [`PeerSession::stats`](crate::peer::PeerSession::stats) and hands the
//! `webrtc` 0.21 [`RTCStatsReport`] to [`connection_status`] together with a per-peer
//! [`StatsBaseline`] and a [`StatsContext`] (what the engine knows outside the report: SDPs,
//! signaling states, the SDP-derived codec/SSRC/fingerprint facts, data-channel roles). The
//! result is the §3.4 per-peer `stats` payload as a [`serde_json::Value`] (key order as in
//! the spec) and the updated baseline.
//!
//! # Baseline and the first call (§3.2)
//!
//! A [`StatsBaseline`] maps a raw report id to the raw report seen the **first** time that id
//! appeared; entries are never updated, so every rate is the average since the first
//! retrieval that saw the report. For the first `getConnectionStatus()` of a peer the engine
//! retrieves twice back to back and reports the second result:
//!
//! ```no_run
//! # async fn demo(session: skylink_room::peer::PeerSession, now_ms: f64) {
//! use skylink_room::stats::{StatsContext, connection_status};
//! let ctx = StatsContext::default();
//! let (_, baseline) = connection_status(&session.stats().await, None, now_ms, &ctx);
//! let (payload, baseline) =
//!     connection_status(&session.stats().await, Some(&baseline), now_ms, &ctx);
//! # let _ = (payload, baseline); }
//! ```
//!
//! Later calls pass the stored baseline once. The baseline is dropped with the peer. The
//! automatic bandwidth adjuster (§2.13) must keep its own baseline.
//!
//! # Rates (§3.3)
//!
//! Every counter is reported twice: `total<Name>` (the cumulative value of this report) and
//! `<name>` (per second since the baseline, [`rate`]). Timestamps: `webrtc` stamps reports
//! with an `Instant`, so [`raw_reports`] overwrites every report's `timestamp` with the
//! caller's wall-clock milliseconds (`now_ms`), as the spec asks.
//!
//! # Sources and fields that `webrtc` 0.21 cannot fill
//!
//! The spec's S field set is produced from the 0.21 stats types (which are richer than the
//! 0.17 ones the spec's mapping column was written against):
//!
//! | group | filled from the report | not fillable (omitted) |
//! |---|---|---|
//! | `audio.sending` | `outbound-rtp` (kind audio): `bytesSent`, `packetsSent`, `nackCount`, `targetBitrate`; `rtt` = `remote-inbound-rtp` (kind audio) `roundTripTime` × 1000 | `audioInputLevel`, `echoReturnLoss`, `echoReturnLossEnhancement` (no audio processing stats) |
//! | `audio.receiving` | `inbound-rtp` (kind audio): `bytesReceived`, `packetsReceived`, `packetsLost`, `packetsDiscarded`, `nackCount`, `jitter` (seconds), `audioOutputLevel` = `audioLevel` | `fractionLost` (only remote-inbound has it, which describes our sending), `jitterBufferMs`, `currentDelayMs` |
//! | `video.sending` | `outbound-rtp` (kind video): bytes, packets, `nackCount`, `pliCount`, `firCount` (under `sending`, not the JS's `receiving` **\[Q\]**), `qpSum`, `targetBitrate`, `framesEncoded`, `frameWidth`, `frameHeight`; `rtt` as for audio | `slis`, `frameRate*`, `cpuLimitedResolution`, `bandwidthLimitedResolution`, `frameRateMean`, `frameRateStdDev`, `framesDropped` |
//! | `video.receiving` | `inbound-rtp` (kind video): bytes, packets, `packetsLost`, `packetsDiscarded`, `nackCount`, `pliCount`, `firCount`, `jitter`, `framesDecoded`, `qpSum`, `frameWidth`, `frameHeight`, `framesPerSecond`, `framesDropped`, `totalFrames`/`frames` = `framesReceived` | `fractionLost`, `slis`, `framesCorrupted`, `jitterBufferMs`, `currentDelayMs`, `renderDelayMs`, `frameRate*`, `e2eDelay` |
//! | `selectedCandidate` | the succeeded `candidate-pair` (first nominated one wins, else the last succeeded), its `local-candidate`/`remote-candidate` (`priority` there is the candidate priority's high 16 bits: 0.21 reports `priority >> 16`) | pair `priority` (0.21 has no pair priority, and with 16-bit candidate priorities the §3.4 recomputation is impossible); `consentResponses` are always 0 (no counters); `remote` is `{}` when the remote candidate was learned as peer-reflexive from a connectivity check (0.21 registers stats reports only for candidates added with `add_ice_candidate`, which happens on the side that received the first check before the trickled candidate) |
//! | `certificate` | SDP fingerprints from the context; `derBase64` = `base64Certificate` of the `certificate` report with the same fingerprint, compared case-insensitively (0.21 writes it lowercase; null if none; 0.21 puts hex there, converted to base64); `dtlsCipher`/`srtpCipher` from the `transport` report when non-empty | — |
//!
//! The four forced-zero fields (`bytes`, `packets`, `totalBytes`, `totalPackets`) are always
//! present in all four `audio|video × sending|receiving` groups; an absent track gives only
//! those, the SDP `codec` and `ssrc`. `connection.iceConnectionState` falls back to the
//! `transport` report's `iceState` when the context does not know it; `iceGatheringState`
//! and `signalingState` have no stats source and are `null` when the context leaves them
//! unset. `connection.dataChannels[label].readyState` comes from the `data-channel` report
//! (`state`). The spec's payload has no data-channel byte counters: they (and the transport
//! and candidate-pair counters) are only in `raw`.
//!
//! Other `webrtc` 0.21 facts the mapping relies on (checked against a live loopback pair):
//! report ids are `RTCTransport`, `RTCIceCandidatePair_<local>_<remote>`,
//! `RTCLocalIceCandidate_<id>`, `RTCRemoteIceCandidate_<id>`, `RTCDataChannel_<n>`, the local
//! certificate's fingerprint, `remote-certificate-…`; a pair's `localCandidateId` /
//! `remoteCandidateId` are the bare candidate ids (resolved with the prefixes here); other
//! instant fields of the raw reports (`lastPacketSentTimestamp`, …) stay as 0.21 serializes
//! them, epoch **seconds**.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

/// Raw reports of one retrieval: report id → the report as W3C-named JSON (`camelCase`), in
/// report order, each stamped with the caller's wall-clock `timestamp` in milliseconds.
pub type RawReports = Map<String, Value>;

/// Serializes every entry of `report` to JSON and stamps it with `now_ms` (wall-clock
/// milliseconds since the Unix epoch). Entries that fail to serialize are skipped.
pub fn raw_reports(report: &RTCStatsReport, now_ms: f64) -> RawReports {
    let mut out = Map::new();
    for entry in report.iter() {
        let value = match entry {
            RTCStatsReportEntry::PeerConnection(s) => serde_json::to_value(s),
            RTCStatsReportEntry::Transport(s) => serde_json::to_value(s),
            RTCStatsReportEntry::IceCandidatePair(s) => serde_json::to_value(s),
            RTCStatsReportEntry::LocalCandidate(s) => serde_json::to_value(s),
            RTCStatsReportEntry::RemoteCandidate(s) => serde_json::to_value(s),
            RTCStatsReportEntry::Certificate(s) => serde_json::to_value(s),
            RTCStatsReportEntry::Codec(s) => serde_json::to_value(s),
            RTCStatsReportEntry::DataChannel(s) => serde_json::to_value(s),
            RTCStatsReportEntry::InboundRtp(s) => serde_json::to_value(s),
            RTCStatsReportEntry::OutboundRtp(s) => serde_json::to_value(s),
            RTCStatsReportEntry::RemoteInboundRtp(s) => serde_json::to_value(s),
            RTCStatsReportEntry::RemoteOutboundRtp(s) => serde_json::to_value(s),
            RTCStatsReportEntry::AudioSource(s) => serde_json::to_value(s),
            RTCStatsReportEntry::VideoSource(s) => serde_json::to_value(s),
            RTCStatsReportEntry::AudioPlayout(s) => serde_json::to_value(s),
            // `RTCStatsReportEntry` is `#[non_exhaustive]`.
            _ => continue,
        };
        let Ok(Value::Object(mut obj)) = value else {
            tracing::debug!("stats entry {} not serializable", entry.id());
            continue;
        };
        obj.insert("timestamp".to_owned(), json_num(now_ms));
        out.insert(entry.id().to_owned(), Value::Object(obj));
    }
    out
}

/// Per-peer §3.2 baseline: raw report id → the raw report seen the first time the id
/// appeared. Entries are never updated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsBaseline {
    reports: HashMap<String, Value>,
}

impl StatsBaseline {
    /// An empty baseline (same effect as passing `None` to [`connection_status`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of report ids with a baseline.
    pub fn len(&self) -> usize {
        self.reports.len()
    }

    /// True before any report was observed.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }

    /// The baseline of report `id`, if it was seen.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.reports.get(id)
    }

    /// Records every report of `raw` whose id has no baseline yet (first sight wins).
    pub fn observe(&mut self, raw: &RawReports) {
        for (id, report) in raw {
            self.reports
                .entry(id.clone())
                .or_insert_with(|| report.clone());
        }
    }
}

/// A session description for `connection.localDescription` / `remoteDescription`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescriptionInfo {
    /// `offer` / `answer` / `pranswer` / `rollback`.
    pub sdp_type: String,
    /// The SDP text.
    pub sdp: String,
}

/// SDP-derived facts of one `audio|video × sending|receiving` group (§3.4).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaSdpFacts {
    /// §1.13 selected codec (`skylink_sdp::parse::SelectedCodec` serialized): on the remote
    /// description for `sending`, the local one for `receiving`. `None` gives the all-null
    /// codec object of a description without that media.
    pub codec: Option<Value>,
    /// §1.16 SSRC: of the local description for `sending`, the remote one for `receiving`
    /// (0 when absent, as §1.16 returns).
    pub ssrc: i64,
}

/// §1.14 fingerprint of one description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdpFingerprint {
    /// The fingerprint (`AA:BB:…`).
    pub fingerprint: Option<String>,
    /// Its hash algorithm (`sha-256`).
    pub fingerprint_algorithm: Option<String>,
}

/// What a data channel is currently used for (`dataChannels[label]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelUse {
    /// Id of the data transfer using the channel.
    pub current_transfer_id: Option<String>,
    /// Id of the data stream using the channel.
    pub current_stream_id: Option<String>,
}

/// `connection.sdpConstraints` (§3.4).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum SdpConstraints {
    /// Not known: `null`.
    #[default]
    Unknown,
    /// The last local description was an answer: the key is omitted (JS `undefined`).
    AfterAnswer,
    /// Options of the last offer (§2.5).
    Offer(Value),
}

/// Everything the payload needs that is not in the stats report; the engine fills it from
/// its peer state and the `skylink-sdp` parsers (§1.13–§1.16). [`Default`] = nothing known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsContext {
    /// Native `iceConnectionState`; `None` falls back to the transport report's `iceState`.
    pub ice_connection_state: Option<String>,
    /// Native `iceGatheringState` (`null` if `None`).
    pub ice_gathering_state: Option<String>,
    /// Native `signalingState` (`null` if `None`).
    pub signaling_state: Option<String>,
    /// Current local description (`{type:"",sdp:""}` if `None`).
    pub local_description: Option<DescriptionInfo>,
    /// Current remote description (`{type:"",sdp:""}` if `None`).
    pub remote_description: Option<DescriptionInfo>,
    /// §1.15 candidates of the local description (`{host:[],srflx:[],relay:[]}` if `None`).
    pub candidates_sending: Option<Value>,
    /// §1.15 candidates of the remote description (`{host:[],srflx:[],relay:[]}` if `None`).
    pub candidates_receiving: Option<Value>,
    /// Label of the peer's main (messaging) channel: its `channelType` is `messaging`, every
    /// other channel's is `data`.
    pub main_channel_label: Option<String>,
    /// Transfers/streams using channels, by label.
    pub channel_use: HashMap<String, ChannelUse>,
    /// The §2.3 `RTCConfiguration` (`null` if `None`).
    pub constraints: Option<Value>,
    /// The legacy optional constraints (`null` if `None`).
    pub optional: Option<Value>,
    /// `sdpConstraints`.
    pub sdp_constraints: SdpConstraints,
    /// `audio.sending` SDP facts.
    pub audio_sending: MediaSdpFacts,
    /// `audio.receiving` SDP facts.
    pub audio_receiving: MediaSdpFacts,
    /// `video.sending` SDP facts.
    pub video_sending: MediaSdpFacts,
    /// `video.receiving` SDP facts.
    pub video_receiving: MediaSdpFacts,
    /// §1.14 fingerprint of the local description.
    pub local_fingerprint: SdpFingerprint,
    /// §1.14 fingerprint of the remote description.
    pub remote_fingerprint: SdpFingerprint,
}

/// The §3.3 formula on plain numbers: `n` if `t_n == t_o`, else
/// `(n − o) / (t_n − t_o) × 1000` rounded to 3 decimals (value per second; timestamps in ms).
pub fn rate_value(n: f64, o: f64, t_n: f64, t_o: f64) -> f64 {
    if t_n == t_o {
        return n;
    }
    round3((n - o) / (t_n - t_o) * 1000.0)
}

/// The §3.3 rate of counter `key` of raw report `cur` against its baseline `prev` (missing
/// values and a missing baseline count as 0).
pub fn rate(cur: &Value, prev: Option<&Value>, key: &str) -> f64 {
    let n = number(cur.get(key));
    let o = prev.map_or(0.0, |p| number(p.get(key)));
    let t_n = number(cur.get("timestamp"));
    let t_o = prev.map_or(0.0, |p| number(p.get("timestamp")));
    rate_value(n, o, t_n, t_o)
}

/// Builds the §3.4 payload from one retrieval. `baseline` is the peer's stored baseline
/// (`None` on the very first retrieval); the returned baseline adds every report id seen for
/// the first time and must be stored for the next call. See the module docs for the double
/// retrieval of the first call.
pub fn connection_status(
    report: &RTCStatsReport,
    baseline: Option<&StatsBaseline>,
    now_ms: f64,
    ctx: &StatsContext,
) -> (Value, StatsBaseline) {
    connection_status_from_raw(raw_reports(report, now_ms), baseline, ctx)
}

/// [`connection_status`] on already collected [`RawReports`] (e.g. synthetic ones in tests).
pub fn connection_status_from_raw(
    raw: RawReports,
    baseline: Option<&StatsBaseline>,
    ctx: &StatsContext,
) -> (Value, StatsBaseline) {
    let empty = StatsBaseline::default();
    let base = baseline.unwrap_or(&empty);
    let payload = build(&raw, base, ctx);
    let mut next = base.clone();
    next.observe(&raw);
    let mut out = Map::new();
    out.insert("raw".to_owned(), Value::Object(raw));
    if let Value::Object(rest) = payload {
        out.extend(rest);
    }
    (Value::Object(out), next)
}

fn build(raw: &RawReports, base: &StatsBaseline, ctx: &StatsContext) -> Value {
    let mut audio_sending = media_group(&ctx.audio_sending);
    let mut audio_receiving = media_group(&ctx.audio_receiving);
    let mut video_sending = media_group(&ctx.video_sending);
    let mut video_receiving = media_group(&ctx.video_receiving);

    let typed = |t: &'static str| {
        raw.iter()
            .filter(move |(_, r)| r.get("type").and_then(Value::as_str) == Some(t))
    };
    let kind_of = |r: &Value| r.get("kind").and_then(Value::as_str).map(str::to_owned);

    // Outbound / inbound RTP: every report of a kind overwrites (the last one wins, as the
    // JS's walk over the raw reports does).
    for (id, r) in typed("outbound-rtp") {
        let prev = base.get(id);
        match kind_of(r).as_deref() {
            Some("audio") => {
                let g = &mut audio_sending;
                counter(g, "Bytes", r, prev, "bytesSent");
                counter(g, "Packets", r, prev, "packetsSent");
                counter(g, "Nacks", r, prev, "nackCount");
                copy(g, "targetBitrate", r, "targetBitrate");
            }
            Some("video") => {
                let g = &mut video_sending;
                counter(g, "Bytes", r, prev, "bytesSent");
                counter(g, "Packets", r, prev, "packetsSent");
                counter(g, "Nacks", r, prev, "nackCount");
                counter(g, "Plis", r, prev, "pliCount");
                counter(g, "Firs", r, prev, "firCount");
                for (field, key) in [
                    ("qpSum", "qpSum"),
                    ("targetBitrate", "targetBitrate"),
                    ("framesEncoded", "framesEncoded"),
                    ("frameWidth", "frameWidth"),
                    ("frameHeight", "frameHeight"),
                ] {
                    copy(g, field, r, key);
                }
            }
            _ => {}
        }
    }
    for (id, r) in typed("inbound-rtp") {
        let prev = base.get(id);
        let video = match kind_of(r).as_deref() {
            Some("audio") => false,
            Some("video") => true,
            _ => continue,
        };
        let g = if video {
            &mut video_receiving
        } else {
            &mut audio_receiving
        };
        counter(g, "Bytes", r, prev, "bytesReceived");
        counter(g, "Packets", r, prev, "packetsReceived");
        counter(g, "PacketsLost", r, prev, "packetsLost");
        counter(g, "PacketsDiscarded", r, prev, "packetsDiscarded");
        counter(g, "Nacks", r, prev, "nackCount");
        copy(g, "jitter", r, "jitter");
        if video {
            counter(g, "Plis", r, prev, "pliCount");
            counter(g, "Firs", r, prev, "firCount");
            counter(g, "Frames", r, prev, "framesReceived");
            for key in [
                "framesDecoded",
                "qpSum",
                "frameWidth",
                "frameHeight",
                "framesPerSecond",
                "framesDropped",
            ] {
                copy(g, key, r, key);
            }
        } else {
            copy(g, "audioOutputLevel", r, "audioLevel");
        }
    }
    for (_, r) in typed("remote-inbound-rtp") {
        let g = match kind_of(r).as_deref() {
            Some("audio") => &mut audio_sending,
            Some("video") => &mut video_sending,
            _ => continue,
        };
        g.insert(
            "rtt".to_owned(),
            json_num(round3(number(r.get("roundTripTime")) * 1000.0)),
        );
    }
    for g in [
        &mut audio_sending,
        &mut audio_receiving,
        &mut video_sending,
        &mut video_receiving,
    ] {
        for key in ["bytes", "packets", "totalBytes", "totalPackets"] {
            g.entry(key.to_owned()).or_insert_with(|| json!(0));
        }
    }

    let transport = typed("transport").map(|(_, r)| r).next_back();
    json!({
        "connection": connection(raw, ctx, transport),
        "audio": { "sending": audio_sending, "receiving": audio_receiving },
        "video": { "sending": video_sending, "receiving": video_receiving },
        "selectedCandidate": selected_candidate(raw, base),
        "certificate": certificate(raw, ctx, transport),
    })
}

fn media_group(facts: &MediaSdpFacts) -> Map<String, Value> {
    let mut g = Map::new();
    let codec = facts.codec.clone().unwrap_or_else(|| {
        json!({
            "name": null, "implementation": null, "clockRate": null,
            "channels": null, "payloadType": null, "params": null
        })
    });
    g.insert("codec".to_owned(), codec);
    g.insert("ssrc".to_owned(), json!(facts.ssrc));
    g
}

fn empty_candidates() -> Value {
    json!({ "host": [], "srflx": [], "relay": [] })
}

fn description(d: Option<&DescriptionInfo>) -> Value {
    d.map_or_else(
        || json!({ "type": "", "sdp": "" }),
        |d| json!({ "type": d.sdp_type, "sdp": d.sdp }),
    )
}

fn connection(raw: &RawReports, ctx: &StatsContext, transport: Option<&Value>) -> Value {
    let ice = ctx
        .ice_connection_state
        .clone()
        .map(Value::String)
        .unwrap_or_else(|| {
            transport
                .and_then(|t| t.get("iceState"))
                .cloned()
                .unwrap_or(Value::Null)
        });
    let mut channels = Map::new();
    for r in raw
        .values()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("data-channel"))
    {
        let label = r.get("label").and_then(Value::as_str).unwrap_or_default();
        let used = ctx.channel_use.get(label).cloned().unwrap_or_default();
        let channel_type = if ctx.main_channel_label.as_deref() == Some(label) {
            "messaging"
        } else {
            "data"
        };
        channels.insert(
            label.to_owned(),
            json!({
                "label": label,
                "readyState": r.get("state").cloned().unwrap_or(Value::Null),
                "channelType": channel_type,
                "currentTransferId": used.current_transfer_id,
                "currentStreamId": used.current_stream_id,
            }),
        );
    }
    let mut c = Map::new();
    c.insert("iceConnectionState".to_owned(), ice);
    c.insert(
        "iceGatheringState".to_owned(),
        json!(ctx.ice_gathering_state),
    );
    c.insert("signalingState".to_owned(), json!(ctx.signaling_state));
    c.insert(
        "remoteDescription".to_owned(),
        description(ctx.remote_description.as_ref()),
    );
    c.insert(
        "localDescription".to_owned(),
        description(ctx.local_description.as_ref()),
    );
    c.insert(
        "candidates".to_owned(),
        json!({
            "sending": ctx.candidates_sending.clone().unwrap_or_else(empty_candidates),
            "receiving": ctx.candidates_receiving.clone().unwrap_or_else(empty_candidates),
        }),
    );
    c.insert("dataChannels".to_owned(), Value::Object(channels));
    c.insert(
        "constraints".to_owned(),
        ctx.constraints.clone().unwrap_or(Value::Null),
    );
    c.insert(
        "optional".to_owned(),
        ctx.optional.clone().unwrap_or(Value::Null),
    );
    match &ctx.sdp_constraints {
        SdpConstraints::Unknown => {
            c.insert("sdpConstraints".to_owned(), Value::Null);
        }
        SdpConstraints::AfterAnswer => {}
        SdpConstraints::Offer(v) => {
            c.insert("sdpConstraints".to_owned(), v.clone());
        }
    }
    Value::Object(c)
}

/// `relay`→`relayed`, `host`→`local`, `srflx`→`serverreflexive`, others unchanged.
fn candidate_type(t: &str) -> &str {
    match t {
        "relay" => "relayed",
        "host" => "local",
        "srflx" => "serverreflexive",
        other => other,
    }
}

/// Resolves a pair's candidate id: `webrtc` 0.21 stores the bare candidate id in the pair
/// but registers the candidate report as `RTCLocalIceCandidate_<id>` /
/// `RTCRemoteIceCandidate_<id>`. An unresolvable id (a peer-reflexive remote candidate
/// learned from a check is never registered as a report) gives `{}`.
fn candidate(raw: &RawReports, id: Option<&str>, prefix: &str) -> Value {
    let Some(c) = id.and_then(|id| raw.get(id).or_else(|| raw.get(&format!("{prefix}{id}"))))
    else {
        return json!({});
    };
    let ty = c
        .get("candidateType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    json!({
        "ipAddress": c.get("address").cloned().unwrap_or(Value::Null),
        "portNumber": c.get("port").cloned().unwrap_or(Value::Null),
        "transport": c.get("protocol").cloned().unwrap_or(Value::Null),
        "priority": c.get("priority").cloned().unwrap_or(Value::Null),
        "candidateType": candidate_type(ty),
    })
}

fn selected_candidate(raw: &RawReports, base: &StatsBaseline) -> Value {
    // S rule: among succeeded pairs the first nominated one wins; until one is seen, every
    // succeeded pair overwrites the previous choice.
    let mut chosen: Option<(&String, &Value)> = None;
    for (id, r) in raw.iter().filter(|(_, r)| {
        r.get("type").and_then(Value::as_str) == Some("candidate-pair")
            && r.get("state").and_then(Value::as_str) == Some("succeeded")
    }) {
        let nominated = |r: &Value| r.get("nominated").and_then(Value::as_bool) == Some(true);
        if chosen.is_some_and(|(_, c)| nominated(c)) {
            break;
        }
        chosen = Some((id, r));
    }
    let mut s = Map::new();
    let Some((id, pair)) = chosen else {
        for key in [
            "local",
            "remote",
            "consentResponses",
            "consentRequests",
            "responses",
            "requests",
        ] {
            s.insert(key.to_owned(), json!({}));
        }
        return Value::Object(s);
    };
    let prev = base.get(id);
    let str_of = |key: &str| pair.get(key).and_then(Value::as_str);
    s.insert(
        "local".to_owned(),
        candidate(raw, str_of("localCandidateId"), "RTCLocalIceCandidate_"),
    );
    s.insert(
        "remote".to_owned(),
        candidate(raw, str_of("remoteCandidateId"), "RTCRemoteIceCandidate_"),
    );
    s.insert(
        "consentResponses".to_owned(),
        json!({ "totalReceived": 0, "received": 0, "totalSent": 0, "sent": 0 }),
    );
    s.insert("consentRequests".to_owned(), json!({}));
    s.insert(
        "responses".to_owned(),
        json!({
            "totalReceived": json_num(number(pair.get("responsesReceived"))),
            "received": json_num(rate(pair, prev, "responsesReceived")),
            "totalSent": json_num(number(pair.get("responsesSent"))),
            "sent": json_num(rate(pair, prev, "responsesSent")),
        }),
    );
    s.insert("requests".to_owned(), json!({}));
    s.insert("writable".to_owned(), json!(true));
    s.insert(
        "readable".to_owned(),
        json!(number(pair.get("requestsReceived")) > 0.0),
    );
    s.insert(
        "nominated".to_owned(),
        json!(pair.get("nominated").and_then(Value::as_bool) == Some(true)),
    );
    let rtt_ms = |r: &Value| number(r.get("currentRoundTripTime")) * 1000.0;
    s.insert("totalRtt".to_owned(), json_num(rtt_ms(pair).trunc()));
    let rtt = rate_value(
        rtt_ms(pair),
        prev.map_or(0.0, rtt_ms),
        number(pair.get("timestamp")),
        prev.map_or(0.0, |p| number(p.get("timestamp"))),
    );
    s.insert("rtt".to_owned(), json_num(rtt));
    Value::Object(s)
}

fn certificate(raw: &RawReports, ctx: &StatsContext, transport: Option<&Value>) -> Value {
    let certs: Vec<&Value> = raw
        .values()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("certificate"))
        .collect();
    let side = |fp: &SdpFingerprint, transport_key: &str| {
        let mut fingerprint = fp.fingerprint.clone();
        let mut algorithm = fp.fingerprint_algorithm.clone();
        let mut der = None;
        let report = match fp.fingerprint.as_deref() {
            Some(want) => certs.iter().copied().find(|c| {
                c.get("fingerprint")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.eq_ignore_ascii_case(want))
            }),
            // No SDP fingerprint known: the transport says which certificate is whose.
            None => transport
                .and_then(|t| t.get(transport_key))
                .and_then(Value::as_str)
                .and_then(|id| raw.get(id)),
        };
        if let Some(c) = report {
            let text = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            fingerprint = fingerprint.or_else(|| text("fingerprint"));
            algorithm = text("fingerprintAlgorithm").or(algorithm);
            der = text("base64Certificate").map(|d| hex_to_base64(&d).unwrap_or(d));
        }
        json!({
            "fingerprint": fingerprint,
            "fingerprintAlgorithm": algorithm,
            "derBase64": der,
        })
    };
    let mut c = Map::new();
    c.insert(
        "local".to_owned(),
        side(&ctx.local_fingerprint, "localCertificateId"),
    );
    c.insert(
        "remote".to_owned(),
        side(&ctx.remote_fingerprint, "remoteCertificateId"),
    );
    for key in ["srtpCipher", "dtlsCipher"] {
        if let Some(v) = transport
            .and_then(|t| t.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            c.insert(key.to_owned(), json!(v));
        }
    }
    Value::Object(c)
}

/// Inserts `total<name>` (cumulative) and `<name>` (rate) for raw counter `key`.
fn counter(g: &mut Map<String, Value>, name: &str, cur: &Value, prev: Option<&Value>, key: &str) {
    let mut rate_name = name.to_owned();
    if let Some(first) = rate_name.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    g.insert(format!("total{name}"), json_num(number(cur.get(key))));
    g.insert(rate_name, json_num(rate(cur, prev, key)));
}

/// Copies a raw value (0 when missing, as the S family's `(or 0)` fields).
fn copy(g: &mut Map<String, Value>, field: &str, cur: &Value, key: &str) {
    g.insert(field.to_owned(), json_num(number(cur.get(key))));
}

/// Numeric value of a raw field: numbers as they are, numeric strings parsed, booleans 1/0,
/// anything else (or missing) 0.
fn number(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .unwrap_or(0.0),
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

fn round3(x: f64) -> f64 {
    let r = (x * 1000.0).round() / 1000.0;
    if r == 0.0 { 0.0 } else { r } // no `-0`
}

/// A JSON number: integral values as integers (`20000`, not `20000.0`), non-finite as 0.
fn json_num(x: f64) -> Value {
    if !x.is_finite() {
        return json!(0);
    }
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        // Exact: |x| < 2^53 and integral.
        #[allow(clippy::cast_possible_truncation)]
        return json!(x as i64);
    }
    json!(x)
}

/// `webrtc` 0.21 fills `base64Certificate` with the DER as lowercase hex, not base64: convert
/// hex to base64 (`None` if `text` is not an even-length hex string, which is then kept as is).
fn hex_to_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes = text
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    Some(out)
}
