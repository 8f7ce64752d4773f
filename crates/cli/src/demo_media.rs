//! The audio/video part of `skylink demo`: both peers send the test pattern and a tone
//! (encoded live with the `codecs` feature, else the pre-encoded assets of skylink-media),
//! each counts the frames it receives, then alice mutes and unmutes her video.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;
use skylink::{Event, Skylink};
use skylink_room::devices::{AudioDevice, Devices, ScreenDevice, VideoDevice};

use crate::demo::{Events, until};

/// The devices each demo peer uses.
pub fn devices() -> Devices {
    if cfg!(feature = "codecs") {
        Devices {
            video: VideoDevice::TestPattern,
            audio: AudioDevice::Tone,
            screen: ScreenDevice::TestPattern,
        }
    } else {
        Devices {
            video: VideoDevice::IvfBytes(bytes::Bytes::from_static(
                skylink_media::assets::TESTPATTERN_IVF,
            )),
            audio: AudioDevice::OggBytes(bytes::Bytes::from_static(
                skylink_media::assets::TONE_OGG,
            )),
            screen: ScreenDevice::None,
        }
    }
}

/// Video frames and audio packets `me` has received from `from` so far.
async fn received(me: &Skylink, from: &str) -> anyhow::Result<(u64, u64)> {
    let tracks = me.remote_tracks().await?;
    let count = |kind: &str| {
        tracks
            .iter()
            .filter(|t| t.peer_id == from && t.kind == kind)
            .map(|t| t.frames)
            .sum::<u64>()
    };
    Ok((count("video"), count("audio")))
}

async fn until_frames(me: &Skylink, from: &str, video: u64) -> anyhow::Result<(u64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = received(me, from).await?;
        if got.0 >= video && got.1 > 0 {
            return Ok(got);
        }
        if Instant::now() > deadline {
            bail!(
                "only {} video frames / {} audio packets arrived from {from}: {:?}",
                got.0,
                got.1,
                me.remote_tracks().await?
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One summary row: step, time, detail.
pub type Row = (&'static str, Duration, String);

/// Runs the media steps; returns the summary rows.
pub async fn run(
    alice: &Skylink,
    bob: &Skylink,
    a_ev: &mut Events,
    b_ev: &mut Events,
    alice_id: &str,
    bob_id: &str,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let source = if cfg!(feature = "codecs") {
        "live VP8/Opus test pattern + tone"
    } else {
        "pre-encoded test pattern + tone (build with --features codecs to encode live)"
    };
    let t = Instant::now();
    // One renegotiation at a time: a refresh while the other one is in flight fails, as in
    // the reference ("Failed refreshing connections.").
    for (me, ev, from) in [(alice, &mut *b_ev, alice_id), (bob, &mut *a_ev, bob_id)] {
        let stream = me
            .send_stream(Some(json!({"audio": true, "video": true})))
            .await?;
        until(ev, "incomingStream", |e| match e {
            Event::IncomingStream {
                peer_id, stream_id, ..
            } if peer_id == from && *stream_id == stream => Some(()),
            _ => None,
        })
        .await?;
    }
    let at_bob = until_frames(bob, alice_id, 1).await?;
    let at_alice = until_frames(alice, bob_id, 1).await?;
    rows.push((
        "sendStream → first frames both ways",
        t.elapsed(),
        format!("{source}; {} / {} frames", at_bob.0, at_alice.0),
    ));
    println!("  both peers send video and audio ({source})");

    let t = Instant::now();
    let start_bob = received(bob, alice_id).await?;
    let start_alice = received(alice, bob_id).await?;
    let want = 30;
    let end_bob = until_frames(bob, alice_id, start_bob.0 + want).await?;
    let end_alice = until_frames(alice, bob_id, start_alice.0 + want).await?;
    let secs = t.elapsed().as_secs_f64();
    rows.push((
        "video + audio both ways",
        t.elapsed(),
        format!(
            "bob got {} frames ({:.0} fps) + {} Opus packets; alice got {} frames + {} packets",
            end_bob.0 - start_bob.0,
            (end_bob.0 - start_bob.0) as f64 / secs,
            end_bob.1 - start_bob.1,
            end_alice.0 - start_alice.0,
            end_alice.1 - start_alice.1
        ),
    ));
    println!(
        "  bob received {} video frames from alice, alice {} from bob",
        end_bob.0, end_alice.0
    );

    let t = Instant::now();
    alice.disable_video().await?;
    until(b_ev, "streamMuted", |e| match e {
        Event::StreamMuted {
            peer_id, peer_info, ..
        } if peer_id == alice_id && peer_info.media_status["videoMuted"] == json!(true) => Some(()),
        _ => None,
    })
    .await?;
    alice.enable_video().await?;
    until(b_ev, "streamMuted (unmuted)", |e| match e {
        Event::StreamMuted {
            peer_id, peer_info, ..
        } if peer_id == alice_id && peer_info.media_status["videoMuted"] == json!(false) => {
            Some(())
        }
        _ => None,
    })
    .await?;
    rows.push((
        "disableVideo / enableVideo → streamMuted",
        t.elapsed(),
        "bob saw alice mute and unmute".into(),
    ));
    println!("  alice muted and unmuted her video; bob saw both");
    Ok(rows)
}
