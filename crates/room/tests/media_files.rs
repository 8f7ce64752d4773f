//! Media without codecs: pre-encoded VP8 (IVF) and Opus (Ogg) files sent between two Rust
//! peers; the receiver counts whole frames and packets (no decoder needed).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{bounded, client, options, start_server, wait_for};
use serde_json::json;
use skylink_room::devices::{AudioDevice, Devices, ScreenDevice, VideoDevice};
use skylink_room::{Event, JoinOptions, StreamInput};

fn devices() -> Devices {
    Devices {
        video: VideoDevice::IvfBytes(bytes::Bytes::from_static(
            skylink_media::assets::TESTPATTERN_IVF,
        )),
        audio: AudioDevice::OggBytes(bytes::Bytes::from_static(skylink_media::assets::TONE_OGG)),
        screen: ScreenDevice::None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ivf_and_ogg_files_flow_between_rust_peers() {
    let addr = start_server(None).await;
    let mut o = options(addr, "app");
    o.media_devices = Arc::new(devices());
    let (a, mut a_rx) = client(o.clone());
    let (b, mut b_rx) = client(o);
    let a_id = bounded("join A", a.join_room(Some("files"), JoinOptions::default()))
        .await
        .expect("A joined");
    let b_id = bounded("join B", b.join_room(Some("files"), JoinOptions::default()))
        .await
        .expect("B joined");
    let bid = b_id.clone();
    wait_for(&mut a_rx, "data channel", move |e| match e {
        Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == bid => {
            Some(())
        }
        _ => None,
    })
    .await;
    let stream = bounded(
        "sendStream",
        a.send_stream(StreamInput::Options(Some(
            json!({"audio": true, "video": true}),
        ))),
    )
    .await
    .expect("sendStream");
    let (aid, s) = (a_id.clone(), stream.clone());
    wait_for(&mut b_rx, "incomingStream", move |e| match e {
        Event::IncomingStream {
            peer_id, stream_id, ..
        } if *peer_id == aid && *stream_id == s => Some(()),
        _ => None,
    })
    .await;
    let b_stream = bounded(
        "sendStream B",
        b.send_stream(StreamInput::Options(Some(
            json!({"audio": true, "video": true}),
        ))),
    )
    .await
    .expect("sendStream B");
    let (bid, s) = (b_id.clone(), b_stream.clone());
    wait_for(&mut a_rx, "incomingStream at A", move |e| match e {
        Event::IncomingStream {
            peer_id, stream_id, ..
        } if *peer_id == bid && *stream_id == s => Some(()),
        _ => None,
    })
    .await;
    let tracks = bounded("frames arrive", async {
        loop {
            let t = b.remote_tracks().await.expect("tracks");
            let back = a.remote_tracks().await.expect("tracks at A");
            if back.iter().map(|t| t.frames).sum::<u64>() < 20 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let video = t
                .iter()
                .filter(|t| t.kind == "video")
                .map(|t| t.frames)
                .sum::<u64>();
            let audio = t
                .iter()
                .filter(|t| t.kind == "audio")
                .map(|t| t.frames)
                .sum::<u64>();
            if video >= 20 && audio >= 20 {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for t in &tracks {
        assert_eq!(t.peer_id, a_id);
        assert_eq!(t.stream_id, stream, "msid is the stream id: {t:?}");
    }
    assert!(
        tracks
            .iter()
            .any(|t| t.mime_type.eq_ignore_ascii_case("video/VP8") && t.keyframes >= 1)
    );
}
