//! Audio and video between two Rust peers through the real server: the test pattern and a
//! tone go out as VP8/Opus, the receiver's decoder probes see frames advance with their
//! embedded numbers, not black, audio not silent; mute, stopStream, a screen share and
//! sendStream renegotiation, with the reference's events on both sides.
#![cfg(feature = "codecs")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{bounded, client, media_client, options, start_server, wait_for};
use serde_json::json;
use skylink_room::devices::{AudioDevice, Devices, ScreenDevice, VideoDevice};
use skylink_room::probes::ProbeSet;
use skylink_room::{Event, JoinOptions};

/// Which of a remote stream's events to wait for.
#[derive(Clone, Copy)]
enum StreamEvent {
    Incoming,
    Ended,
}

/// Waits for `incomingStream` / `streamEnded` of `peer`'s stream `stream` (not ours),
/// optionally checking the screen-share flag.
async fn remote_stream(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    which: StreamEvent,
    peer: &str,
    stream: &str,
    screen: Option<bool>,
) {
    let (p, s) = (peer.to_owned(), stream.to_owned());
    let what = match which {
        StreamEvent::Incoming => format!("incomingStream {stream}"),
        StreamEvent::Ended => format!("streamEnded {stream}"),
    };
    wait_for(rx, &what, move |e| {
        let (peer_id, stream_id, is_screensharing) = match (which, e) {
            (
                StreamEvent::Incoming,
                Event::IncomingStream {
                    peer_id,
                    stream_id,
                    is_self: false,
                    is_screensharing,
                    ..
                },
            )
            | (
                StreamEvent::Ended,
                Event::StreamEnded {
                    peer_id,
                    stream_id,
                    is_self: false,
                    is_screensharing,
                    ..
                },
            ) => (peer_id, stream_id, *is_screensharing),
            _ => return None,
        };
        (*peer_id == p && *stream_id == s && screen.is_none_or(|x| x == is_screensharing))
            .then_some(())
    })
    .await;
}

/// Polls `probes` (bounded) until `ok` holds for some video track of `peer`.
async fn until_video(
    probes: &ProbeSet,
    peer: &str,
    what: &str,
    ok: impl Fn(&skylink_media::probe::ProbeReport) -> bool,
) -> skylink_media::probe::ProbeReport {
    bounded(what, async {
        loop {
            if let Some((_, r)) = probes
                .video_reports()
                .into_iter()
                .filter(|(t, _)| t.peer_id == peer)
                .find(|(_, r)| ok(r))
            {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_pattern_and_tone_flow_between_rust_peers_with_mute_and_stop() {
    let addr = start_server(None).await;
    let (a, mut a_rx, _a_probes) = media_client(addr);
    let (b, mut b_rx, b_probes) = media_client(addr);

    // A holds a camera stream before joining: it goes out with the first offer/answer.
    let stream = bounded("getUserMedia", a.get_user_media(None))
        .await
        .expect("getUserMedia");
    let s = stream.clone();
    wait_for(&mut a_rx, "mediaAccessSuccess", move |e| match e {
        Event::MediaAccessSuccess {
            stream_id,
            is_screensharing: false,
            ..
        } if *stream_id == s => Some(()),
        _ => None,
    })
    .await;
    let a_id = bounded("join A", a.join_room(Some("media"), JoinOptions::default()))
        .await
        .expect("A joined");
    let s = stream.clone();
    wait_for(&mut a_rx, "own incomingStream on join", move |e| match e {
        Event::IncomingStream {
            stream_id,
            is_self: true,
            ..
        } if *stream_id == s => Some(()),
        _ => None,
    })
    .await;
    bounded("join B", b.join_room(Some("media"), JoinOptions::default()))
        .await
        .expect("B joined");

    // B announces A's stream under the id A uses (msid), then decodes it.
    remote_stream(
        &mut b_rx,
        StreamEvent::Incoming,
        &a_id,
        &stream,
        Some(false),
    )
    .await;
    let first = until_video(&b_probes, &a_id, "30 decoded frames", |r| {
        r.frames_decoded >= 30 && r.last_frame_number.is_some()
    })
    .await;
    let later = until_video(&b_probes, &a_id, "frames advance", |r| {
        r.last_frame_number > first.last_frame_number && r.frames_decoded >= 45
    })
    .await;
    assert!(later.mean_luma > 40.0, "not black: {later:?}");
    assert_eq!(later.resolution, Some((640, 480)), "{later:?}");
    assert!(later.changed_frames >= 10, "content moves: {later:?}");
    let audio = bounded("opus flows", async {
        loop {
            if let Some((_, r)) = b_probes
                .audio_reports()
                .into_iter()
                .find(|(_, r)| r.packets >= 25)
            {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        audio.peak_rms > 1000.0,
        "the tone is not silence: {audio:?}"
    );

    // Mute video: B sees streamMuted with videoMuted, and black frames.
    a.mute_stream(Some(false), Some(true)).await.expect("mute");
    wait_for(&mut a_rx, "localMediaMuted", |e| match e {
        Event::LocalMediaMuted {
            audio_muted: false,
            video_muted: true,
        } => Some(()),
        _ => None,
    })
    .await;
    let aid = a_id.clone();
    wait_for(&mut b_rx, "streamMuted (video)", move |e| match e {
        Event::StreamMuted {
            peer_id, peer_info, ..
        } if *peer_id == aid && peer_info.media_status["videoMuted"] == json!(true) => Some(()),
        _ => None,
    })
    .await;
    until_video(&b_probes, &a_id, "black frames", |r| r.mean_luma < 25.0).await;
    a.mute_stream(Some(false), Some(false))
        .await
        .expect("unmute");
    let aid = a_id.clone();
    wait_for(&mut b_rx, "streamMuted (unmuted)", move |e| match e {
        Event::StreamMuted {
            peer_id, peer_info, ..
        } if *peer_id == aid && peer_info.media_status["videoMuted"] == json!(false) => Some(()),
        _ => None,
    })
    .await;
    until_video(&b_probes, &a_id, "picture again", |r| r.mean_luma > 40.0).await;

    // stopStream: streamEnded at B for that stream id; mediaAccessStopped at A.
    a.stop_stream().await.expect("stopStream");
    let s = stream.clone();
    wait_for(&mut a_rx, "mediaAccessStopped", move |e| match e {
        Event::MediaAccessStopped { stream_id, .. } if *stream_id == s => Some(()),
        _ => None,
    })
    .await;
    remote_stream(&mut b_rx, StreamEvent::Ended, &a_id, &stream, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_stream_and_share_screen_renegotiate() {
    let addr = start_server(None).await;
    let (a, mut a_rx, _a_probes) = media_client(addr);
    let (b, mut b_rx, b_probes) = media_client(addr);
    let a_id = bounded(
        "join A",
        a.join_room(Some("screen"), JoinOptions::default()),
    )
    .await
    .expect("A joined");
    let b_id = bounded(
        "join B",
        b.join_room(Some("screen"), JoinOptions::default()),
    )
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

    // sendStream while connected: a refresh carries the new stream to B.
    let stream = bounded(
        "sendStream",
        a.send_stream(skylink_room::StreamInput::Options(Some(
            json!({"audio": false, "video": {"resolution": {"width": 320, "height": 240}}}),
        ))),
    )
    .await
    .expect("sendStream");
    remote_stream(
        &mut b_rx,
        StreamEvent::Incoming,
        &a_id,
        &stream,
        Some(false),
    )
    .await;
    let r = until_video(&b_probes, &a_id, "camera frames", |r| {
        r.frames_decoded >= 10
    })
    .await;
    assert_eq!(r.resolution, Some((320, 240)), "{r:?}");

    // shareScreen: a new stream flagged as a screen share replaces the camera on the wire.
    let screen = bounded("shareScreen", a.share_screen(false))
        .await
        .expect("shareScreen");
    assert_ne!(screen, stream);
    remote_stream(&mut b_rx, StreamEvent::Incoming, &a_id, &screen, Some(true)).await;

    // stopScreen: streamEnded for the screen, the camera comes back.
    a.stop_screen().await.expect("stopScreen");
    remote_stream(&mut b_rx, StreamEvent::Ended, &a_id, &screen, Some(true)).await;
    remote_stream(
        &mut b_rx,
        StreamEvent::Incoming,
        &a_id,
        &stream,
        Some(false),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_user_media_errors_follow_the_reference() {
    let addr = start_server(None).await;
    let mut o = options(addr, "app");
    o.media_devices = Arc::new(Devices::default()); // no camera, no microphone
    let (c, mut rx) = client(o);
    let e = c
        .get_user_media(Some(json!({"audio": false, "video": false})))
        .await
        .expect_err("nothing requested");
    assert_eq!(e.to_string(), "Please select audio or video");
    let e = c.get_user_media(None).await.expect_err("no devices");
    assert!(e.to_string().contains("no device"), "{e}");
    wait_for(&mut rx, "mediaAccessError", |e| match e {
        Event::MediaAccessError {
            is_screensharing: false,
            is_audio_fallback_error: false,
            ..
        } => Some(()),
        _ => None,
    })
    .await;
    let e = c
        .send_stream(skylink_room::StreamInput::Options(None))
        .await
        .expect_err("not in a room");
    assert_eq!(
        e.to_string(),
        "Unable to send stream as user is not in the Room."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_fallback_keeps_the_microphone_when_the_camera_fails() {
    let addr = start_server(None).await;
    let mut o = options(addr, "app");
    o.media_devices = Arc::new(Devices {
        video: VideoDevice::Camera(Some("/dev/no-such-camera".into())),
        audio: AudioDevice::Tone,
        screen: ScreenDevice::None,
    });
    o.audio_fallback = true;
    let (c, mut rx) = client(o);
    let stream = bounded("getUserMedia", c.get_user_media(None))
        .await
        .expect("audio fallback succeeds");
    // §4.2 failure path: FALLBACKING (0) without a stream id, then the success path with
    // isAudioFallback, which reports the missing video as FALLBACKED (1).
    wait_for(&mut rx, "mediaAccessFallback (fallbacking)", |e| match e {
        Event::MediaAccessFallback {
            state: 0,
            is_audio_fallback: true,
            stream_id: None,
            ..
        } => Some(()),
        _ => None,
    })
    .await;
    let s = stream.clone();
    let diff = wait_for(
        &mut rx,
        "mediaAccessFallback (fallbacked)",
        move |e| match e {
            Event::MediaAccessFallback {
                state: 1,
                is_audio_fallback: true,
                stream_id: Some(id),
                diff,
                ..
            } if *id == s => Some(diff.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(diff["video"], json!({"expected": 1, "received": 0}));
    assert_eq!(diff["audio"], json!({"expected": 1, "received": 1}));
    let s = stream.clone();
    wait_for(
        &mut rx,
        "mediaAccessSuccess (audio fallback)",
        move |e| match e {
            Event::MediaAccessSuccess {
                stream_id,
                is_audio_fallback: true,
                ..
            } if *stream_id == s => Some(()),
            _ => None,
        },
    )
    .await;
}
