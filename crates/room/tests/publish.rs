//! `publishOnly`, `parentId` and `bandwidth` (sdp-and-peers.md §4.12, §1.10) between Rust
//! peers through the real server: a publish-only peer sends but never receives, a parent
//! and its child never meet while others see both, and a sender's own `bandwidth.video`
//! caps the VP8 it sends.
#![cfg(feature = "codecs")]

mod common;

use std::time::Duration;

use common::{bounded, client, media_client, options, start_server, wait_for};
use serde_json::json;
use skylink_room::probes::ProbeSet;
use skylink_room::{Bandwidth, Client, Event, JoinOptions};
use tokio::sync::broadcast::Receiver;

/// `getUserMedia` with the test pattern at `width`×`height` and the tone.
async fn camera(c: &Client, width: u32, height: u32) -> String {
    bounded(
        "getUserMedia",
        c.get_user_media(Some(json!({
            "audio": true,
            "video": {"resolution": {"width": width, "height": height}}
        }))),
    )
    .await
    .expect("getUserMedia")
}

async fn join(c: &Client, room: &str, options: JoinOptions) -> String {
    bounded("join", c.join_room(Some(room), options))
        .await
        .expect("joined")
}

/// Waits for `peerJoined(peer)` (remote) and returns its peer info.
async fn peer_joined(rx: &mut Receiver<Event>, peer: &str) -> skylink_room::PeerInfo {
    let p = peer.to_owned();
    wait_for(rx, &format!("peerJoined {peer}"), move |e| match e {
        Event::PeerJoined {
            peer_id,
            peer_info,
            is_self: false,
        } if *peer_id == p => Some(peer_info.clone()),
        _ => None,
    })
    .await
}

/// Waits until `probes` decoded at least `n` frames of `peer`'s video, with the embedded
/// frame number advancing.
async fn frames_advance(probes: &ProbeSet, peer: &str, n: u64) {
    bounded(&format!("{n} frames from {peer}"), async {
        let mut first = None;
        loop {
            if let Some((_, r)) = probes
                .video_reports()
                .into_iter()
                .find(|(t, r)| t.peer_id == peer && r.last_frame_number.is_some())
            {
                let f = *first.get_or_insert(r.last_frame_number);
                if r.frames_decoded >= n && r.last_frame_number > f {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

/// Every event still queued in `rx` (nothing is awaited).
fn drain(rx: &mut Receiver<Event>) -> Vec<Event> {
    let mut v = Vec::new();
    while let Ok(e) = rx.try_recv() {
        v.push(e);
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_only_peer_sends_and_receives_nothing() {
    let addr = start_server(None).await;
    let (r1, mut r1_rx, r1_probes) = media_client(addr);
    let (p, mut p_rx, p_probes) = media_client(addr);
    let (r2, mut r2_rx, r2_probes) = media_client(addr);
    for c in [&r1, &p, &r2] {
        camera(c, 320, 240).await;
    }
    // R1 first, then P (P offers to R1), then R2 (R2 offers to P): both handshake roles.
    let r1_id = join(&r1, "pub", JoinOptions::default()).await;
    let p_id = join(
        &p,
        "pub",
        JoinOptions {
            publish_only: true,
            ..Default::default()
        },
    )
    .await;
    let own = p.get_peer_info(None).await.expect("own info");
    assert!(own.config.publish_only, "{own:?}");
    // R1 learns publishOnly from P's enter, R2 from P's welcome.
    let seen_by_r1 = peer_joined(&mut r1_rx, &p_id).await;
    assert!(seen_by_r1.config.publish_only, "{seen_by_r1:?}");
    let r2_id = join(&r2, "pub", JoinOptions::default()).await;
    let seen_by_r2 = peer_joined(&mut r2_rx, &p_id).await;
    assert!(seen_by_r2.config.publish_only, "{seen_by_r2:?}");
    assert!(!seen_by_r2.config.receive_only);

    // Both receivers decode P's video.
    frames_advance(&r1_probes, &p_id, 30).await;
    frames_advance(&r2_probes, &p_id, 30).await;
    // R1 and R2 still exchange media with each other (they are not publish-only).
    frames_advance(&r1_probes, &r2_id, 10).await;
    frames_advance(&r2_probes, &r1_id, 10).await;

    // P got nothing: no remote incomingStream, no received track, no decoded frame.
    let remote_streams: Vec<_> = drain(&mut p_rx)
        .into_iter()
        .filter(|e| matches!(e, Event::IncomingStream { is_self: false, .. }))
        .collect();
    assert!(remote_streams.is_empty(), "{remote_streams:?}");
    let tracks = p.remote_tracks().await.expect("tracks");
    assert!(
        tracks.iter().all(|t| t.packets == 0),
        "P received media: {tracks:?}"
    );
    assert!(p_probes.video_reports().is_empty());
    assert!(p_probes.audio_reports().is_empty());
    // While P's peer info stays publish-only at the receivers.
    let info = r2.get_peer_info(Some(&p_id)).await.expect("P at R2");
    assert!(info.config.publish_only);
    // P receives nothing, so it reports the others' audio and video as off and muted.
    let r1_at_p = p.get_peer_info(Some(&r1_id)).await.expect("R1 at P");
    assert_eq!(r1_at_p.settings["audio"], json!(false), "{r1_at_p:?}");
    assert_eq!(r1_at_p.settings["video"], json!(false), "{r1_at_p:?}");
    assert_eq!(
        r1_at_p.media_status,
        json!({"audioMuted": true, "videoMuted": true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parent_and_child_ignore_each_other_and_the_rest_sees_both() {
    let addr = start_server(None).await;
    let (parent, mut parent_rx) = client(options(addr, "app"));
    let (child, mut child_rx) = client(options(addr, "app"));
    let (third, mut third_rx) = client(options(addr, "app"));
    let parent_id = join(&parent, "family", JoinOptions::default()).await;
    let child_id = join(
        &child,
        "family",
        JoinOptions {
            parent_id: Some(parent_id.clone()),
            ..Default::default()
        },
    )
    .await;
    let third_id = join(&third, "family", JoinOptions::default()).await;
    // The third peer meets both; the child's parentId is announced.
    let child_info = peer_joined(&mut third_rx, &child_id).await;
    assert_eq!(child_info.parent_id.as_deref(), Some(parent_id.as_str()));
    // (order of the two peerJoined events is free: collect both)
    let p = parent_id.clone();
    let third_saw_parent = bounded("third sees the parent", async {
        loop {
            let peers = third.get_peers_in_room().await.expect("peers");
            if peers.iter().any(|r| r.peer_id == p) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(third_saw_parent);
    // Parent and child meet the third peer (which joined after both of them announced).
    peer_joined(&mut parent_rx, &third_id).await;
    peer_joined(&mut child_rx, &third_id).await;
    // … but never each other.
    let never = |events: Vec<Event>, other: &str| {
        !events.iter().any(
            |e| matches!(e, Event::PeerJoined { peer_id, is_self: false, .. } if peer_id == other),
        )
    };
    assert!(never(drain(&mut parent_rx), &child_id));
    assert!(never(drain(&mut child_rx), &parent_id));
    let ids = |list: Vec<skylink_room::RoomPeer>| -> Vec<String> {
        list.into_iter().map(|r| r.peer_id).collect()
    };
    let at_parent = ids(parent.get_peers_in_room().await.expect("peers"));
    assert!(!at_parent.contains(&child_id), "{at_parent:?}");
    assert!(at_parent.contains(&third_id));
    let at_child = ids(child.get_peers_in_room().await.expect("peers"));
    assert!(!at_child.contains(&parent_id), "{at_child:?}");
    let own = child.get_peer_info(None).await.expect("own info");
    assert_eq!(own.parent_id.as_deref(), Some(parent_id.as_str()));

    // parentId persists across join_room calls (§2.1): a rejoin without it keeps it.
    let child_again = join(&child, "family", JoinOptions::default()).await;
    let info = peer_joined(&mut third_rx, &child_again).await;
    assert_eq!(info.parent_id.as_deref(), Some(parent_id.as_str()));
    let fourth_client = client(options(addr, "app"));
    let (fourth, _fourth_rx) = fourth_client;
    let fourth_id = join(&fourth, "family", JoinOptions::default()).await;
    peer_joined(&mut parent_rx, &fourth_id).await;
    assert!(never(drain(&mut parent_rx), &child_again));
}

/// Video payload bytes per second `rx_client` receives from `sender`, over `window` after
/// the first `warmup` of flow.
async fn received_video_rate(
    receiver: &Client,
    probes: &ProbeSet,
    sender: &str,
    warmup: Duration,
    window: Duration,
) -> f64 {
    frames_advance(probes, sender, 10).await;
    tokio::time::sleep(warmup).await; // a measurement window, not an event wait
    let bytes = || async {
        receiver
            .remote_tracks()
            .await
            .expect("tracks")
            .into_iter()
            .filter(|t| t.peer_id == sender && t.kind == "video")
            .map(|t| t.bytes)
            .sum::<u64>()
    };
    let start = bytes().await;
    let t0 = tokio::time::Instant::now();
    tokio::time::sleep(window).await;
    let end = bytes().await;
    (end - start) as f64 / t0.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_bandwidth_caps_the_video_it_sends() {
    let addr = start_server(None).await;
    let mut rates = Vec::new();
    for (room, video_kbps) in [("bw-default", None), ("bw-100", Some(100.0))] {
        let (sender, _s_rx, _s_probes) = media_client(addr);
        let (receiver, _r_rx, r_probes) = media_client(addr);
        camera(&sender, 640, 480).await;
        let sender_id = join(
            &sender,
            room,
            JoinOptions {
                bandwidth: Bandwidth {
                    video: video_kbps,
                    ..Bandwidth::default()
                },
                ..Default::default()
            },
        )
        .await;
        join(&receiver, room, JoinOptions::default()).await;
        let rate = received_video_rate(
            &receiver,
            &r_probes,
            &sender_id,
            Duration::from_millis(1500),
            Duration::from_secs(3),
        )
        .await;
        eprintln!("{room}: {:.0} kbit/s received", rate * 8.0 / 1000.0);
        rates.push(rate);
        sender.leave_room().await.expect("leave");
        receiver.leave_room().await.expect("leave");
    }
    let (default, capped) = (rates[0], rates[1]);
    assert!(
        capped < default * 0.5,
        "bandwidth.video=100 should send markedly less: {capped:.0} B/s vs {default:.0} B/s"
    );
    // 100 kbit/s = 12.5 kB/s; allow the key frames every 2 s some slack.
    assert!(capped < 25_000.0, "{capped:.0} B/s");
}

/// A join's own `sdpSettings` (here `direction.video.receive = false`) shape its connections:
/// the peer still decodes our video and we get its audio, but no video reaches us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joins_sdp_settings_keep_video_from_reaching_it() {
    let addr = start_server(None).await;
    let (a, _a_rx, a_probes) = media_client(addr);
    let (b, _b_rx, _b_probes) = media_client(addr);
    camera(&a, 320, 240).await;
    camera(&b, 320, 240).await;
    let a_id = join(&a, "sdp-join", JoinOptions::default()).await;
    let mut no_video_in = skylink_room::SdpConnectionSettings::default();
    no_video_in.direction.video.receive = false;
    let b_id = join(
        &b,
        "sdp-join",
        JoinOptions {
            sdp_settings: Some(no_video_in),
            ..Default::default()
        },
    )
    .await;
    // B sends: A decodes B's video.
    frames_advance(&a_probes, &b_id, 30).await;
    // A sends too: its audio reaches B, by now a second's worth and more.
    bounded("B receives A's audio", async {
        loop {
            let tracks = b.remote_tracks().await.expect("tracks");
            if tracks
                .iter()
                .any(|t| t.peer_id == a_id && t.kind == "audio" && t.packets > 50)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let tracks = b.remote_tracks().await.expect("tracks");
    let video: u64 = tracks
        .iter()
        .filter(|t| t.peer_id == a_id && t.kind == "video")
        .map(|t| t.packets)
        .sum();
    assert_eq!(
        video, 0,
        "video reached B despite receive = false: {tracks:?}"
    );
    // getPeerInfo as 0.6.26 reports it (§4.9 rule 8): B shows A's video as off and muted,
    // A's audio as announced; A, which receives everything, shows B's video.
    let a_at_b = b.get_peer_info(Some(&a_id)).await.expect("A at B");
    assert_eq!(a_at_b.settings["video"], json!(false), "{a_at_b:?}");
    assert_eq!(a_at_b.media_status["videoMuted"], json!(true), "{a_at_b:?}");
    assert!(a_at_b.settings["audio"].is_object(), "{a_at_b:?}");
    assert_eq!(
        a_at_b.media_status["audioMuted"],
        json!(false),
        "{a_at_b:?}"
    );
    let b_at_a = a.get_peer_info(Some(&b_id)).await.expect("B at A");
    assert!(b_at_a.settings["video"].is_object(), "{b_at_a:?}");
}
