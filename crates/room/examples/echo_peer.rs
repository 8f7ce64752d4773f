//! An echo peer: joins a room and sends every P2P message back to its sender.
//!
//! ```text
//! cargo run -p skylink-room --example echo_peer -- http://127.0.0.1:8018 my-room [udp-bind]
//! ```
//! Events are printed one per line (`Debug` form) on stdout.

use serde_json::json;
use skylink_room::{Client, Event, InitOptions, JoinOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let server = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8018".into());
    let room = args.next().unwrap_or_else(|| "lobby".into());
    let udp = args.next().unwrap_or_else(|| "0.0.0.0:0".into());
    let mut opts = InitOptions::new("interop-key");
    opts.force_ssl = server.starts_with("https:");
    opts.room_server = server
        .trim_start_matches("http:")
        .trim_start_matches("https:")
        .to_owned();
    opts.udp_addrs = vec![udp];
    let client = Client::new(opts);
    let mut events = client.subscribe();
    let me = client
        .join_room(
            Some(&room),
            JoinOptions {
                user_data: Some(json!({"name": "echo"})),
                ..Default::default()
            },
        )
        .await?;
    println!("joined as {me}");
    while let Ok(ev) = events.recv().await {
        println!("{ev:?}");
        if let Event::IncomingMessage {
            message,
            is_self: false,
            peer_id,
            ..
        } = ev
            && message.is_data_channel
        {
            let reply = json!({"echo": message.content});
            if let Err(e) = client.send_p2p_message(reply, Some(vec![peer_id])).await {
                eprintln!("echo failed: {e}");
            }
        }
    }
    Ok(())
}
