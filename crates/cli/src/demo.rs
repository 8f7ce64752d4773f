//! `skylink demo`: the embedded server and two Rust peers in one process, narrated — join,
//! chat, a P2P message, a 5 MB file, a data stream, a user-data update, an ICE restart and
//! the connection stats, leave — then a summary table of what happened with measured times.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use serde_json::json;
use skylink::{Event, InitOptions, JoinOptions, Skylink, TransferData, TransferOptions};

/// `skylink demo` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the demo file in bytes.
    #[arg(long, default_value_t = 5_000_000)]
    file_size: usize,
    /// Number of chunks in the data stream.
    #[arg(long, default_value_t = 20)]
    stream_chunks: usize,
    /// Also run the real skylinkjs 0.6.26 in headless Chromium as a third peer
    /// (Chromium from $SKYLINK_CHROMIUM or PATH).
    #[arg(long)]
    browser: bool,
    /// Path of skylinkjs' `skylink.complete.js` for the browser page (default: interop/node_modules).
    #[arg(long)]
    skylinkjs: Option<std::path::PathBuf>,
}

/// The App Key of every demo participant (Rust peers and the browser page).
pub(crate) const APP_KEY: &str = "skylink-demo";

const WAIT: Duration = Duration::from_secs(20);

pub(crate) type Events = std::pin::Pin<Box<dyn futures_util::Stream<Item = Event> + Send>>;

pub(crate) async fn until<T>(
    events: &mut Events,
    what: &str,
    mut f: impl FnMut(&Event) -> Option<T>,
) -> anyhow::Result<T> {
    let fut = async {
        while let Some(ev) = events.next().await {
            if let Some(t) = f(&ev) {
                return Ok(t);
            }
        }
        bail!("event stream ended while waiting for {what}")
    };
    tokio::time::timeout(WAIT, fut)
        .await
        .with_context(|| format!("timed out waiting for {what}"))?
}

fn options(port: u16) -> InitOptions {
    let mut o = InitOptions::new(APP_KEY);
    o.room_server = format!("//127.0.0.1:{port}");
    o.force_ssl = false;
    o.udp_addrs = vec!["127.0.0.1:0".to_owned()];
    o.media_devices = std::sync::Arc::new(crate::demo_media::devices());
    o
}

pub(crate) struct Row {
    pub(crate) step: &'static str,
    pub(crate) took: Duration,
    pub(crate) detail: String,
}

pub(crate) fn say(text: &str) {
    println!("  {text}");
}

/// Runs the demo.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut config = skylink_server::Config::default();
    config.server.bind = std::net::IpAddr::from([127, 0, 0, 1]);
    config.server.port = 0;
    config.server.skylinkjs = args.skylinkjs.clone();
    let server = skylink_server::Server::bind(config)
        .await
        .context("starting the embedded server")?;
    let port = server.local_addr().port();
    tokio::spawn(server.run_until(std::future::pending()));
    println!("skylink demo — embedded server on 127.0.0.1:{port}, two Rust peers (alice, bob)\n");

    let alice = Skylink::new(options(port));
    let bob = Skylink::new(options(port));
    let mut a_ev: Events = Box::pin(alice.events());
    let mut b_ev: Events = Box::pin(bob.events());
    let mut rows = Vec::new();
    let room = "demo";

    // Join.
    let t = Instant::now();
    let alice_id = alice
        .join_room(
            Some(room),
            JoinOptions {
                user_data: Some(json!({"name": "alice"})),
                ..Default::default()
            },
        )
        .await?;
    let bob_id = bob
        .join_room(
            Some(room),
            JoinOptions {
                user_data: Some(json!({"name": "bob"})),
                ..Default::default()
            },
        )
        .await?;
    say(&format!(
        "alice joined as {alice_id}; bob joined as {bob_id}"
    ));
    for (ev, peer) in [(&mut a_ev, &bob_id), (&mut b_ev, &alice_id)] {
        let p = peer.clone();
        until(ev, "the data channel", |e| match e {
            Event::DataChannelState {
                state,
                peer_id,
                channel_type,
                ..
            } if state == "open" && *peer_id == p && channel_type == "messaging" => Some(()),
            _ => None,
        })
        .await?;
    }
    rows.push(Row {
        step: "join → WebRTC data channel open",
        took: t.elapsed(),
        detail: "offer/answer, trickle ICE, DTLS, SCTP".into(),
    });
    say("WebRTC connection up, messaging data channel open");

    // Chat over the server, then P2P.
    let t = Instant::now();
    alice.send_message(json!("hello bob 👋"), None).await?;
    let text = until(&mut b_ev, "the chat message", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if !message.is_data_channel => Some(message.content.clone()),
        _ => None,
    })
    .await?;
    rows.push(Row {
        step: "chat message via the signaling server",
        took: t.elapsed(),
        detail: format!("bob got {text}"),
    });
    say(&format!("bob received {text} through the server"));
    let t = Instant::now();
    bob.send_p2p_message(json!("hi alice, straight over WebRTC"), None)
        .await?;
    let text = until(&mut a_ev, "the P2P message", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if message.is_data_channel => Some(message.content.clone()),
        _ => None,
    })
    .await?;
    rows.push(Row {
        step: "P2P message over the data channel",
        took: t.elapsed(),
        detail: format!("alice got {text}"),
    });
    say(&format!("alice received {text} peer-to-peer"));

    // A file.
    let data: Vec<u8> = (0..args.file_size).map(|i| (i % 251) as u8).collect();
    let t = Instant::now();
    let (transfer_id, _) = alice
        .send_blob_data(
            data.clone(),
            Some(vec![bob_id.clone()]),
            TransferOptions {
                name: Some("demo.bin".into()),
                ..Default::default()
            },
        )
        .await?;
    let (rid, size) = until(&mut b_ev, "the file request", |e| match e {
        Event::IncomingDataRequest {
            transfer_id,
            transfer_info,
            is_self: false,
            ..
        } => Some((
            transfer_id.clone(),
            transfer_info["size"].as_u64().unwrap_or(0),
        )),
        _ => None,
    })
    .await?;
    say(&format!(
        "bob is asked to accept demo.bin ({size} bytes) — accepting"
    ));
    bob.accept_data_transfer(&alice_id, &rid, true).await?;
    let bar = indicatif::ProgressBar::new(args.file_size as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "  {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let received = until(&mut b_ev, "the file", |e| match e {
        Event::DataTransferState {
            state,
            transfer_info,
            ..
        } if state == "downloading" => {
            let pct = transfer_info["percentage"].as_f64().unwrap_or(0.0);
            bar.set_position((pct / 100.0 * args.file_size as f64) as u64);
            None
        }
        Event::IncomingData {
            data: TransferData::Bytes(d),
            is_self: false,
            ..
        } => Some(d.clone()),
        _ => None,
    })
    .await?;
    bar.finish_and_clear();
    let took = t.elapsed();
    if received[..] != data[..] {
        bail!("the file arrived corrupted");
    }
    rows.push(Row {
        step: "file transfer (DT, pipelined)",
        took,
        detail: format!(
            "{} bytes byte-exact, {:.1} MB/s (transfer {transfer_id})",
            data.len(),
            data.len() as f64 / took.as_secs_f64() / 1e6
        ),
    });
    say(&format!("bob saved {} bytes, byte-exact", received.len()));

    // A data stream.
    let t = Instant::now();
    let stream = alice
        .start_streaming_data(false, Some(vec![bob_id.clone()]))
        .await?;
    until(&mut b_ev, "the stream start", |e| {
        matches!(e, Event::IncomingDataStreamStarted { is_self: false, .. }).then_some(())
    })
    .await?;
    until(&mut a_ev, "the stream to open", |e| {
        matches!(e, Event::DataStreamState { state, .. } if state == "sendStart").then_some(())
    })
    .await?;
    for i in 0..args.stream_chunks {
        alice
            .stream_data(&stream, TransferData::Bytes(vec![i as u8; 4096].into()))
            .await?;
    }
    let mut got = 0;
    while got < args.stream_chunks {
        until(&mut b_ev, "a stream chunk", |e| {
            matches!(e, Event::IncomingDataStream { is_self: false, .. }).then_some(())
        })
        .await?;
        got += 1;
    }
    alice.stop_streaming_data(&stream).await?;
    rows.push(Row {
        step: "data stream",
        took: t.elapsed(),
        detail: format!("{got} chunks of 4 KiB in order"),
    });
    say(&format!("bob received {got} stream chunks"));

    // Audio and video.
    for (step, took, detail) in
        crate::demo_media::run(&alice, &bob, &mut a_ev, &mut b_ev, &alice_id, &bob_id).await?
    {
        rows.push(Row { step, took, detail });
    }

    // User data, ICE restart, stats.
    let t = Instant::now();
    bob.set_user_data(json!({"name": "bob", "status": "away"}))
        .await?;
    until(&mut a_ev, "peerUpdated", |e| match e {
        Event::PeerUpdated {
            peer_info,
            is_self: false,
            ..
        } if peer_info.user_data["status"] == "away" => Some(()),
        _ => None,
    })
    .await?;
    rows.push(Row {
        step: "setUserData → peerUpdated",
        took: t.elapsed(),
        detail: "bob is away".into(),
    });
    let t = Instant::now();
    let refresh = alice
        .refresh_connection(Some(vec![bob_id.clone()]), true)
        .await?;
    if !refresh.refresh_errors.is_empty() {
        bail!("refresh failed: {:?}", refresh.refresh_errors);
    }
    let aid = alice_id.clone();
    until(&mut b_ev, "the restart", |e| match e {
        Event::PeerRestart { peer_id, .. } if *peer_id == aid => Some(()),
        _ => None,
    })
    .await?;
    bob.send_p2p_message(json!("still here after the ICE restart"), None)
        .await?;
    until(&mut a_ev, "a message after the restart", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if message.content == json!("still here after the ICE restart") => Some(()),
        _ => None,
    })
    .await?;
    rows.push(Row {
        step: "refreshConnection (ICE restart)",
        took: t.elapsed(),
        detail: "renegotiated, data channel kept".into(),
    });
    let status = alice
        .get_connection_status(Some(vec![bob_id.clone()]))
        .await?;
    let stats = &status["connectionStats"][&bob_id];
    let pair = &stats["selectedCandidate"]["local"];
    rows.push(Row {
        step: "getConnectionStatus",
        took: Duration::ZERO,
        detail: format!(
            "local candidate {}:{} ({})",
            pair["ipAddress"].as_str().unwrap_or("?"),
            pair["portNumber"],
            pair["candidateType"].as_str().unwrap_or("?")
        ),
    });

    // The browser (--browser) joins, chats, takes a file; it leaves first at the end.
    let browser = if args.browser {
        Some(crate::demo_browser::run(port, &alice, &bob, &mut a_ev, &mut b_ev, &mut rows).await?)
    } else {
        None
    };

    // Leave.
    if let Some(browser) = browser {
        browser.leave(&alice, &mut a_ev, &mut rows).await?;
    }
    let t = Instant::now();
    alice.leave_room().await?;
    until(&mut b_ev, "peerLeft", |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == alice_id => Some(()),
        _ => None,
    })
    .await?;
    bob.leave_room().await?;
    rows.push(Row {
        step: "leaveRoom → peerLeft",
        took: t.elapsed(),
        detail: "both left".into(),
    });
    say("both peers left the room\n");

    println!("  {:<40} {:>10}  what", "step", "time");
    println!("  {}", "-".repeat(96));
    for r in rows {
        println!(
            "  {:<40} {:>8.1}ms  {}",
            r.step,
            r.took.as_secs_f64() * 1e3,
            r.detail
        );
    }
    Ok(())
}
