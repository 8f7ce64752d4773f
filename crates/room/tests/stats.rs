//! `getConnectionStatus()` stats mapping (spec `sdp-and-peers.md` §3): the §3.3 rate formula
//! on synthetic numbers and reports, and the full payload from a real loopback pair of
//! [`PeerSession`]s exchanging data-channel traffic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use skylink_room::peer::{PeerConfig, PeerEvent, PeerSession};
use skylink_room::stats::{
    RawReports, SdpConstraints, SdpFingerprint, StatsBaseline, StatsContext, connection_status,
    connection_status_from_raw, rate, rate_value, raw_reports,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Rate formula
// ---------------------------------------------------------------------------------------

#[test]
fn rate_formula_with_synthetic_numbers() {
    // The spec's example: (40000 − 20000) / 1000 ms × 1000 = 20000 bytes/s.
    assert_eq!(rate_value(40000.0, 20000.0, 2000.0, 1000.0), 20000.0);
    // Same instant: the cumulative total, not a rate.
    assert_eq!(rate_value(123.0, 7.0, 5000.0, 5000.0), 123.0);
    // Rounded to 3 decimals.
    assert_eq!(rate_value(1.0, 0.0, 3.0, 0.0), 333.333);
    assert_eq!(rate_value(2.0, 0.0, 3.0, 0.0), 666.667);
    assert_eq!(
        rate_value(10.0, 9.0, 1_700_000_003_000.0, 1_700_000_000_000.0),
        0.333
    );
    // No baseline: o = 0, tO = 0 → a meaningless tiny number (n / tN × 1000).
    assert_eq!(rate_value(1000.0, 0.0, 1_700_000_000_000.0, 0.0), 0.0);
    assert_eq!(rate_value(5e9, 0.0, 1e12, 0.0), 5.0);
    // A counter that went down gives a negative rate (the JS does not clamp).
    assert_eq!(rate_value(5.0, 10.0, 2000.0, 1000.0), -5.0);

    // The same on raw reports: missing keys and a missing baseline count as 0.
    let cur = json!({"timestamp": 3000.0, "bytesSent": 900, "n": "12"});
    let prev = json!({"timestamp": 1000.0, "bytesSent": 100});
    assert_eq!(rate(&cur, Some(&prev), "bytesSent"), 400.0);
    assert_eq!(rate(&cur, Some(&prev), "missing"), 0.0);
    assert_eq!(rate(&cur, Some(&prev), "n"), 6.0, "numeric strings count");
    assert_eq!(rate(&cur, None, "bytesSent"), 300.0);
    assert_eq!(
        rate(&cur, Some(&cur), "bytesSent"),
        900.0,
        "same instant → total"
    );
}

/// A synthetic retrieval at `t` ms with the given counters.
fn synthetic(t: f64, audio_bytes: u64, video_bytes: u64, responses: u64) -> RawReports {
    let reports = json!({
        "OUT_A": {"type": "outbound-rtp", "id": "OUT_A", "timestamp": t, "kind": "audio", "ssrc": 1001,
                  "bytesSent": audio_bytes, "packetsSent": audio_bytes / 100, "nackCount": 0, "targetBitrate": 32000.0},
        "IN_V": {"type": "inbound-rtp", "id": "IN_V", "timestamp": t, "kind": "video", "ssrc": 4004,
                 "bytesReceived": video_bytes, "packetsReceived": video_bytes / 100, "packetsLost": 5,
                 "packetsDiscarded": 0, "nackCount": 1, "firCount": 0, "pliCount": 2, "jitter": 0.01,
                 "framesDecoded": 300, "qpSum": 1000, "frameWidth": 640, "frameHeight": 480,
                 "framesPerSecond": 30.0, "framesDropped": 0, "framesReceived": 310},
        "RIN_A": {"type": "remote-inbound-rtp", "id": "RIN_A", "timestamp": t, "kind": "audio", "roundTripTime": 0.0125},
        "CP_1": {"type": "candidate-pair", "id": "CP_1", "timestamp": t, "state": "succeeded", "nominated": false,
                 "localCandidateId": "L1", "remoteCandidateId": "R1", "requestsReceived": 0,
                 "responsesReceived": responses, "responsesSent": responses, "currentRoundTripTime": 0.002},
        "CP_2": {"type": "candidate-pair", "id": "CP_2", "timestamp": t, "state": "succeeded", "nominated": true,
                 "localCandidateId": "L2", "remoteCandidateId": "R2", "requestsReceived": 4,
                 "responsesReceived": responses, "responsesSent": responses / 2, "currentRoundTripTime": 0.0123},
        "CP_3": {"type": "candidate-pair", "id": "CP_3", "timestamp": t, "state": "succeeded", "nominated": true,
                 "localCandidateId": "L1", "remoteCandidateId": "R1"},
        "L2": {"type": "local-candidate", "id": "L2", "timestamp": t, "address": "10.0.0.1", "port": 5000,
               "protocol": "udp", "candidateType": "srflx", "priority": 100},
        "R2": {"type": "remote-candidate", "id": "R2", "timestamp": t, "address": "10.0.0.2", "port": 6000,
               "protocol": "tcp", "candidateType": "relay", "priority": 50},
        "T": {"type": "transport", "id": "T", "timestamp": t, "iceState": "connected",
              "dtlsCipher": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "srtpCipher": "",
              "localCertificateId": "C_L", "remoteCertificateId": "C_R"},
        "C_L": {"type": "certificate", "id": "C_L", "timestamp": t, "fingerprint": "aa:bb",
                "fingerprintAlgorithm": "sha-256", "base64Certificate": "TUlJ"},
        "C_R": {"type": "certificate", "id": "C_R", "timestamp": t, "fingerprint": "CC:DD",
                "fingerprintAlgorithm": "sha-256", "base64Certificate": "444552"},
        "DC": {"type": "data-channel", "id": "DC", "timestamp": t, "label": "a_b", "state": "open"},
        "DC2": {"type": "data-channel", "id": "DC2", "timestamp": t, "label": "a_b_xfer", "state": "connecting"},
    });
    match reports {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[test]
fn synthetic_reports_map_to_the_spec_payload() {
    let mut ctx = StatsContext {
        main_channel_label: Some("a_b".to_owned()),
        local_fingerprint: SdpFingerprint {
            fingerprint: Some("AA:BB".to_owned()),
            fingerprint_algorithm: Some("sha-256".to_owned()),
        },
        signaling_state: Some("stable".to_owned()),
        ..StatsContext::default()
    };
    ctx.audio_sending.ssrc = 1001;
    ctx.channel_use.insert(
        "a_b_xfer".to_owned(),
        skylink_room::stats::ChannelUse {
            current_transfer_id: Some("tr1".to_owned()),
            current_stream_id: None,
        },
    );

    // First retrieval without a baseline: every rate is n / tN × 1000 (the §3.3 "meaningless
    // tiny number"); the returned baseline holds every report.
    let (first, baseline) =
        connection_status_from_raw(synthetic(1000.0, 20000, 100000, 10), None, &ctx);
    assert_eq!(baseline.len(), 13);
    assert_eq!(first["audio"]["sending"]["totalBytes"], 20000);
    assert_eq!(
        first["audio"]["sending"]["bytes"],
        20000.0 / 1000.0 * 1000.0
    );

    // Second retrieval one second later: rates against the baseline.
    let (v, baseline2) =
        connection_status_from_raw(synthetic(2000.0, 40000, 200000, 12), Some(&baseline), &ctx);
    assert_eq!(baseline2, baseline, "entries are never updated, no new ids");
    let a = &v["audio"]["sending"];
    assert_eq!(a["codec"]["name"], Value::Null, "no SDP codec known");
    assert_eq!(a["ssrc"], 1001);
    assert_eq!(a["totalBytes"], 40000);
    assert_eq!(a["bytes"], 20000);
    assert_eq!(a["totalPackets"], 400);
    assert_eq!(a["packets"], 200);
    assert_eq!(a["totalNacks"], 0);
    assert_eq!(a["nacks"], 0);
    assert_eq!(a["targetBitrate"], 32000);
    assert_eq!(a["rtt"], 12.5, "remote-inbound roundTripTime in ms");

    let vr = &v["video"]["receiving"];
    assert_eq!(vr["totalBytes"], 200000);
    assert_eq!(vr["bytes"], 100000);
    assert_eq!(vr["totalPacketsLost"], 5);
    assert_eq!(vr["packetsLost"], 0, "lost counter did not change");
    assert_eq!(vr["totalPlis"], 2);
    assert_eq!(vr["totalFrames"], 310);
    assert_eq!(vr["frames"], 0);
    assert_eq!(vr["jitter"], 0.01);
    assert_eq!(vr["frameWidth"], 640);
    assert_eq!(vr["framesPerSecond"], 30);

    // Absent tracks: only the codec, the SSRC and the four forced zeros.
    for (kind, dir) in [("audio", "receiving"), ("video", "sending")] {
        let g = v[kind][dir].as_object().unwrap();
        let keys: Vec<&str> = g.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "codec",
                "ssrc",
                "bytes",
                "packets",
                "totalBytes",
                "totalPackets"
            ],
            "{kind}.{dir}"
        );
        for k in ["bytes", "packets", "totalBytes", "totalPackets"] {
            assert_eq!(g[k], 0);
        }
    }

    // The first nominated succeeded pair wins (CP_2), not the later nominated CP_3.
    let s = &v["selectedCandidate"];
    assert_eq!(
        s["local"],
        json!({"ipAddress": "10.0.0.1", "portNumber": 5000, "transport": "udp", "priority": 100, "candidateType": "serverreflexive"})
    );
    assert_eq!(s["remote"]["candidateType"], "relayed");
    assert_eq!(s["remote"]["transport"], "tcp");
    assert_eq!(s["writable"], true);
    assert_eq!(s["readable"], true);
    assert_eq!(s["nominated"], true);
    assert_eq!(s["totalRtt"], 12);
    assert_eq!(s["rtt"], 0, "rtt did not change");
    assert_eq!(
        s["responses"],
        json!({"totalReceived": 12, "received": 2, "totalSent": 6, "sent": 1})
    );
    assert_eq!(s["consentResponses"]["totalReceived"], 0);
    assert_eq!(s["requests"], json!({}));

    // Certificates: the local one matched by SDP fingerprint (case-insensitively); the
    // remote one, with no SDP fingerprint known, through the transport's certificate id
    // (its hex DER, as webrtc 0.21 writes it, converted to base64).
    let c = &v["certificate"];
    assert_eq!(
        c["local"],
        json!({"fingerprint": "AA:BB", "fingerprintAlgorithm": "sha-256", "derBase64": "TUlJ"})
    );
    assert_eq!(
        c["remote"],
        json!({"fingerprint": "CC:DD", "fingerprintAlgorithm": "sha-256", "derBase64": "REVS"})
    );
    assert_eq!(c["dtlsCipher"], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert!(c.get("srtpCipher").is_none(), "empty cipher omitted");

    let conn = &v["connection"];
    assert_eq!(
        conn["iceConnectionState"], "connected",
        "from the transport"
    );
    assert_eq!(conn["iceGatheringState"], Value::Null);
    assert_eq!(conn["signalingState"], "stable");
    assert_eq!(conn["localDescription"], json!({"type": "", "sdp": ""}));
    assert_eq!(
        conn["candidates"]["sending"],
        json!({"host": [], "srflx": [], "relay": []})
    );
    assert_eq!(
        conn["dataChannels"]["a_b"],
        json!({"label": "a_b", "readyState": "open", "channelType": "messaging", "currentTransferId": null, "currentStreamId": null})
    );
    assert_eq!(conn["dataChannels"]["a_b_xfer"]["channelType"], "data");
    assert_eq!(conn["dataChannels"]["a_b_xfer"]["currentTransferId"], "tr1");
    assert_eq!(conn["constraints"], Value::Null);
    assert_eq!(conn["sdpConstraints"], Value::Null);
    assert_eq!(v["raw"].as_object().unwrap().len(), 13);

    // sdpConstraints after creating an answer: omitted (JS `undefined`).
    ctx.sdp_constraints = SdpConstraints::AfterAnswer;
    let (v, _) = connection_status_from_raw(synthetic(3000.0, 1, 1, 1), Some(&baseline), &ctx);
    assert!(v["connection"].get("sdpConstraints").is_none());
}

#[test]
fn baseline_is_first_sight_and_new_ids_join_later() {
    let ctx = StatsContext::default();
    let mut early = synthetic(1000.0, 100, 100, 1);
    early.remove("IN_V");
    let (_, baseline) = connection_status_from_raw(early, None, &ctx);
    assert!(baseline.get("IN_V").is_none());

    // IN_V appears later: no baseline for it in this call (tiny number), baseline at first sight.
    let (v, baseline) =
        connection_status_from_raw(synthetic(2000.0, 200, 500, 1), Some(&baseline), &ctx);
    assert_eq!(v["video"]["receiving"]["bytes"], 500.0 / 2000.0 * 1000.0);
    assert_eq!(v["audio"]["sending"]["bytes"], 100, "(200 − 100) / 1 s");
    assert_eq!(baseline.get("IN_V").unwrap()["bytesReceived"], 500);
    assert_eq!(
        baseline.get("OUT_A").unwrap()["bytesSent"],
        100,
        "never updated"
    );

    // Later: every rate is the average since first sight, not since the previous call.
    let (v, _) = connection_status_from_raw(synthetic(4000.0, 700, 1500, 1), Some(&baseline), &ctx);
    assert_eq!(v["audio"]["sending"]["bytes"], 200, "(700 − 100) / 3 s");
    assert_eq!(v["video"]["receiving"]["bytes"], 500, "(1500 − 500) / 2 s");

    // Identical timestamps on back-to-back retrievals: the first "rates" equal the totals.
    let (_, b) = connection_status_from_raw(synthetic(9000.0, 10, 10, 1), None, &ctx);
    let (v, _) = connection_status_from_raw(synthetic(9000.0, 30, 10, 1), Some(&b), &ctx);
    assert_eq!(v["audio"]["sending"]["bytes"], 30);
    assert!(StatsBaseline::new().is_empty());
}

// ---------------------------------------------------------------------------------------
// Real loopback pair
// ---------------------------------------------------------------------------------------

fn config(local: &str, remote: &str) -> PeerConfig {
    let mut c = PeerConfig::new(local, remote);
    c.udp_addrs = vec!["127.0.0.1:0".to_owned()];
    c
}

struct Side {
    session: PeerSession,
    events: UnboundedReceiver<PeerEvent>,
    open: bool,
    texts: Vec<String>,
}

/// Moves events (trickling candidates across) until `done` holds; bounded by [`WAIT`].
async fn pump(a: &mut Side, b: &mut Side, what: &str, done: impl Fn(&Side, &Side) -> bool) {
    let work = async {
        while !done(a, b) {
            tokio::select! {
                Some(ev) = a.events.recv() => match ev {
                    PeerEvent::LocalCandidate(c) => b.session.add_remote_candidate(c).await.unwrap(),
                    PeerEvent::ChannelOpen { .. } => a.open = true,
                    PeerEvent::Text { text, .. } => a.texts.push(text),
                    _ => {}
                },
                Some(ev) = b.events.recv() => match ev {
                    PeerEvent::LocalCandidate(c) => a.session.add_remote_candidate(c).await.unwrap(),
                    PeerEvent::ChannelOpen { .. } => b.open = true,
                    PeerEvent::Text { text, .. } => b.texts.push(text),
                    _ => {}
                },
                else => panic!("event streams ended while waiting for {what}"),
            }
        }
    };
    timeout(WAIT, work)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn fingerprint_of(sdp: &str) -> SdpFingerprint {
    let line = sdp
        .lines()
        .find_map(|l| l.trim_end().strip_prefix("a=fingerprint:"))
        .expect("fingerprint line");
    let (alg, fp) = line.split_once(' ').unwrap();
    SdpFingerprint {
        fingerprint: Some(fp.to_owned()),
        fingerprint_algorithm: Some(alg.to_owned()),
    }
}

fn first_of_type<'a>(raw: &'a Value, ty: &str) -> (&'a String, &'a Value) {
    raw.as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| r["type"] == ty)
        .unwrap_or_else(|| panic!("a {ty} report"))
}

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("number, got {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_pair_connection_status() {
    let (session, events) = PeerSession::new(config("alice", "bob")).await.unwrap();
    let mut a = Side {
        session,
        events,
        open: false,
        texts: Vec::new(),
    };
    let (session, events) = PeerSession::new(config("bob", "alice")).await.unwrap();
    let mut b = Side {
        session,
        events,
        open: false,
        texts: Vec::new(),
    };

    let offer = a.session.create_offer().await.unwrap();
    let answer = b.session.accept_offer(&offer).await.unwrap();
    a.session.accept_answer(&answer).await.unwrap();
    pump(&mut a, &mut b, "both channels open", |a, b| {
        a.open && b.open
    })
    .await;

    a.session.send_text("hello bob").await.unwrap();
    b.session.send_text("hello alice").await.unwrap();
    pump(&mut a, &mut b, "a message each way", |a, b| {
        !a.texts.is_empty() && !b.texts.is_empty()
    })
    .await;

    // Each side's view; the remote candidate resolves on at least one side (see below).
    let mut resolved = 0;
    for side in [0, 1] {
        let (offer_fp, answer_fp) = (fingerprint_of(&offer), fingerprint_of(&answer));
        let (local_fp, remote_fp) = if side == 0 {
            (offer_fp, answer_fp)
        } else {
            (answer_fp, offer_fp)
        };
        resolved += check_side(&mut a, &mut b, side, local_fp, remote_fp).await;
    }
    assert!(
        resolved >= 1,
        "the remote candidate resolved on neither side"
    );

    a.session.close().await.unwrap();
    b.session.close().await.unwrap();
}

/// A full report of side `side` (0 = alice, 1 = bob).
async fn stats_of(a: &Side, b: &Side, side: usize) -> webrtc::peer_connection::RTCStatsReport {
    if side == 0 {
        a.session.stats().await
    } else {
        b.session.stats().await
    }
}

/// First call (double retrieval), traffic, second call, all on `side`; returns 1 if the
/// selected pair's remote candidate resolved.
async fn check_side(
    a: &mut Side,
    b: &mut Side,
    side: usize,
    local_fingerprint: SdpFingerprint,
    remote_fingerprint: SdpFingerprint,
) -> usize {
    let ctx = StatsContext {
        main_channel_label: Some("alice_bob".to_owned()),
        local_fingerprint,
        remote_fingerprint,
        ..StatsContext::default()
    };

    // First getConnectionStatus(): retrieve once for the baseline (discarded), then again.
    let t0 = now_ms();
    let raw0 = raw_reports(&stats_of(a, b, side).await, t0);
    let (_, baseline) = connection_status_from_raw(raw0.clone(), None, &ctx);
    let t1 = now_ms();
    let (first, baseline) = connection_status_from_raw(
        raw_reports(&stats_of(a, b, side).await, t1),
        Some(&baseline),
        &ctx,
    );

    // The selected pair: loopback host candidates, UDP.
    let sel = &first["selectedCandidate"];
    // The local candidate always resolves; the remote one is `{}` on the side that learned
    // it as peer-reflexive from a check (webrtc 0.21 has no report for it).
    let remote_resolved = sel["remote"] != json!({});
    for end in ["local", "remote"] {
        if end == "remote" && !remote_resolved {
            continue;
        }
        assert_eq!(sel[end]["ipAddress"], "127.0.0.1", "{end}: {sel}");
        assert_eq!(sel[end]["candidateType"], "local", "host → local: {sel}");
        assert_eq!(sel[end]["transport"], "udp", "{sel}");
        assert!(n(&sel[end]["portNumber"]) > 0.0, "{sel}");
    }
    assert_eq!(sel["writable"], true);
    assert_eq!(sel["nominated"], true, "{sel}");
    assert!(n(&sel["totalRtt"]) >= 0.0);

    // Byte counters of the raw reports are > 0.
    let pair_id = first["raw"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| {
            r["type"] == "candidate-pair" && r["state"] == "succeeded" && r["nominated"] == true
        })
        .map(|(id, _)| id.clone())
        .expect("a nominated succeeded pair");
    let pair1 = &first["raw"][&pair_id];
    let (_, transport1) = first_of_type(&first["raw"], "transport");
    let (_, dc1) = first_of_type(&first["raw"], "data-channel");
    for (what, r, key) in [
        ("pair", pair1, "bytesSent"),
        ("pair", pair1, "bytesReceived"),
        ("transport", transport1, "bytesSent"),
        ("transport", transport1, "bytesReceived"),
        ("data channel", dc1, "bytesSent"),
        ("data channel", dc1, "bytesReceived"),
    ] {
        assert!(n(&r[key]) > 0.0, "{what} {key}: {r}");
    }
    assert_eq!(n(&pair1["timestamp"]), t1);

    // First-call values: rates against the baseline retrieval (same instant → totals).
    let base_pair = &raw0[&pair_id];
    let expect = if t1 == t0 {
        n(&pair1["bytesSent"])
    } else {
        let r = (n(&pair1["bytesSent"]) - n(&base_pair["bytesSent"])) / (t1 - t0) * 1000.0;
        (r * 1000.0).round() / 1000.0
    };
    assert_eq!(rate(pair1, baseline.get(&pair_id), "bytesSent"), expect);
    let responses = &sel["responses"];
    assert_eq!(
        n(&responses["received"]),
        rate(pair1, Some(base_pair), "responsesReceived")
    );
    assert!(n(&responses["totalReceived"]) > 0.0, "{sel}");

    // No tracks: audio/video groups carry the forced zeros.
    for kind in ["audio", "video"] {
        for dir in ["sending", "receiving"] {
            let g = &first[kind][dir];
            for k in ["bytes", "packets", "totalBytes", "totalPackets"] {
                assert_eq!(g[k], 0, "{kind}.{dir}.{k}");
            }
        }
    }
    let conn = &first["connection"];
    assert_eq!(conn["dataChannels"]["alice_bob"]["readyState"], "open");
    assert_eq!(
        conn["dataChannels"]["alice_bob"]["channelType"],
        "messaging"
    );
    assert!(conn["iceConnectionState"].is_string(), "{conn}");
    let cert = &first["certificate"];
    assert_eq!(
        cert["local"]["fingerprint"],
        json!(ctx.local_fingerprint.fingerprint)
    );
    assert!(cert["local"]["derBase64"].is_string(), "{cert}");
    assert!(cert["remote"]["derBase64"].is_string(), "{cert}");

    // Awaited traffic: 20 messages of 1 KiB each way.
    let want = a.texts.len() + 20;
    let payload = "x".repeat(1024);
    for _ in 0..20 {
        a.session.send_text(&payload).await.unwrap();
        b.session.send_text(&payload).await.unwrap();
    }
    pump(a, b, "20 messages each way", |a, b| {
        a.texts.len() == want && b.texts.len() == want
    })
    .await;

    let t2 = now_ms();
    // Later call: the report-level entry point (what the engine calls).
    let (second, baseline2) =
        connection_status(&stats_of(a, b, side).await, Some(&baseline), t2, &ctx);
    assert_eq!(
        baseline2.get(&pair_id),
        baseline.get(&pair_id),
        "baseline kept"
    );
    let pair2 = &second["raw"][&pair_id];
    let (_, dc2) = first_of_type(&second["raw"], "data-channel");
    for key in ["bytesSent", "bytesReceived"] {
        assert!(n(&pair2[key]) > n(&pair1[key]), "pair {key} grows");
        assert!(
            n(&dc2[key]) >= n(&dc1[key]) + 20.0 * 1024.0,
            "channel {key} grows"
        );
        // Rate since the *first* sight (the baseline retrieval), not since the last call.
        let r = rate(pair2, baseline2.get(&pair_id), key);
        let want = (n(&pair2[key]) - n(&base_pair[key])) / (t2 - t0) * 1000.0;
        assert!(r > 0.0, "{key} rate {r}");
        assert!((r - want).abs() <= 0.001, "{key}: {r} vs {want}");
    }
    let sel2 = &second["selectedCandidate"];
    for k in ["received", "sent"] {
        assert!(n(&sel2["responses"][k]) >= 0.0, "{sel2}");
    }
    assert!(n(&sel2["responses"]["totalSent"]) >= n(&responses["totalSent"]));
    for kind in ["audio", "video"] {
        for dir in ["sending", "receiving"] {
            assert!(n(&second[kind][dir]["bytes"]) >= 0.0);
        }
    }
    usize::from(remote_resolved)
}
