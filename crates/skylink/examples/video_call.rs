//! A video call between two Rust peers on this machine: an embedded `skylink-server`, then two
//! `Skylink` clients that send each other video and audio, count the frames that arrive, and
//! see each other mute.
//!
//! Media comes from the pre-encoded test pattern and tone that ship with skylink-media (with the
//! `codecs` feature the pattern and tone are encoded live instead).
//!
//! ```text
//! cargo run -p skylink --example video_call
//! ```

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use skylink::{Event, InitOptions, JoinOptions, Skylink};
use skylink_room::devices::{AudioDevice, Devices, VideoDevice};

fn options(port: u16) -> InitOptions {
    let mut o = InitOptions::new("example-app");
    o.room_server = format!("//127.0.0.1:{port}");
    o.force_ssl = false; // the embedded server speaks plain http
    o.udp_addrs = vec!["127.0.0.1:0".into()]; // keep WebRTC on loopback
    o.media_devices = Arc::new(if cfg!(feature = "codecs") {
        Devices {
            video: VideoDevice::TestPattern,
            audio: AudioDevice::Tone,
            ..Devices::default()
        }
    } else {
        Devices {
            video: VideoDevice::IvfBytes(skylink_media::assets::TESTPATTERN_IVF.into()),
            audio: AudioDevice::OggBytes(skylink_media::assets::TONE_OGG.into()),
            ..Devices::default()
        }
    });
    o
}

/// Waits until `me` has received at least `frames` video frames and some audio from `from`.
async fn frames_from(me: &Skylink, from: &str, frames: u64) -> Result<(u64, u64), String> {
    let poll = async {
        loop {
            let tracks = me.remote_tracks().await.map_err(|e| e.to_string())?;
            let count = |kind: &str| {
                tracks
                    .iter()
                    .filter(|t| t.peer_id == from && t.kind == kind)
                    .map(|t| t.frames)
                    .sum::<u64>()
            };
            if count("video") >= frames && count("audio") > 0 {
                return Ok((count("video"), count("audio")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), poll)
        .await
        .map_err(|_| format!("fewer than {frames} frames from {from} in 20 s"))?
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = skylink_server::Config::default();
    config.server.port = 0;
    config.server.bind = std::net::IpAddr::from([127, 0, 0, 1]);
    let server = skylink_server::Server::bind(config).await?;
    let port = server.local_addr().port();
    tokio::spawn(server.run_until(std::future::pending()));

    let alice = Skylink::new(options(port));
    let bob = Skylink::new(options(port));
    let mut bob_events = Box::pin(bob.events());
    // Held streams are sent from the join on (the reference's getUserMedia before joinRoom).
    alice.get_user_media(None).await?;
    bob.get_user_media(None).await?;
    let alice_id = alice
        .join_room(Some("call"), JoinOptions::default())
        .await?;
    let bob_id = bob.join_room(Some("call"), JoinOptions::default()).await?;

    let (video, audio) = frames_from(&bob, &alice_id, 30).await?;
    println!("bob received {video} video frames and {audio} audio packets from alice");
    let (video, audio) = frames_from(&alice, &bob_id, 30).await?;
    println!("alice received {video} video frames and {audio} audio packets from bob");

    alice.disable_video().await?;
    let muted = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = bob_events.next().await {
            if let Event::StreamMuted {
                peer_id, peer_info, ..
            } = event
                && peer_id == alice_id
            {
                return Some(peer_info.media_status);
            }
        }
        None
    })
    .await?
    .ok_or("bob's event stream ended")?;
    println!("bob sees alice's camera off: {muted}");

    alice.leave_room().await?;
    bob.leave_room().await?;
    Ok(())
}

// `cargo test` runs the example (`test = true` in Cargo.toml), so it cannot rot.
#[cfg(test)]
mod tests {
    #[test]
    fn runs() {
        super::main().expect("the example runs to the end");
    }
}
