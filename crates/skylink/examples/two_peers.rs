//! Two peers in one room, end to end on this machine: an embedded `skylink-server`, then two
//! `Skylink` clients that meet, chat through the server, talk peer-to-peer over WebRTC and
//! send each other a file.
//!
//! ```text
//! cargo run -p skylink --example two_peers
//! ```

use futures_util::StreamExt as _;
use serde_json::json;
use skylink::{Event, InitOptions, JoinOptions, Skylink, TransferData, TransferOptions};

fn options(port: u16) -> InitOptions {
    let mut o = InitOptions::new("example-app");
    o.room_server = format!("//127.0.0.1:{port}");
    o.force_ssl = false; // the embedded server speaks plain http
    o.udp_addrs = vec!["127.0.0.1:0".into()]; // keep WebRTC on loopback
    o
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The platform: room API + signaling on a free loopback port.
    let mut config = skylink_server::Config::default();
    config.server.port = 0;
    config.server.bind = std::net::IpAddr::from([127, 0, 0, 1]);
    let server = skylink_server::Server::bind(config).await?;
    let port = server.local_addr().port();
    tokio::spawn(server.run_until(std::future::pending()));

    let alice = Skylink::new(options(port));
    let bob = Skylink::new(options(port));
    let mut bob_events = Box::pin(bob.events());

    let alice_id = alice
        .join_room(
            Some("example"),
            JoinOptions {
                user_data: Some(json!({"name": "alice"})),
                ..Default::default()
            },
        )
        .await?;
    bob.join_room(
        Some("example"),
        JoinOptions {
            user_data: Some(json!({"name": "bob"})),
            ..Default::default()
        },
    )
    .await?;

    // Bob answers everything alice does; the loop ends when her file has arrived.
    let mut greeted = false;
    while let Some(event) = bob_events.next().await {
        match event {
            Event::DataChannelState { state, peer_id, .. } if state == "open" && !greeted => {
                greeted = true;
                println!("bob: data channel to {peer_id} is open");
                alice
                    .send_message(json!("hello through the server"), None)
                    .await?;
                alice
                    .send_p2p_message(json!("hello over WebRTC"), None)
                    .await?;
                let file = b"a small file".to_vec();
                let options = TransferOptions {
                    name: Some("note.txt".into()),
                    ..Default::default()
                };
                alice.send_blob_data(file, None, options).await?;
            }
            Event::IncomingMessage {
                message,
                is_self: false,
                ..
            } => {
                let via = if message.is_data_channel {
                    "P2P"
                } else {
                    "server"
                };
                println!("bob got {} via {via}", message.content);
            }
            Event::IncomingDataRequest {
                transfer_id,
                transfer_info,
                is_self: false,
                ..
            } => {
                println!("bob accepts {}", transfer_info["name"]);
                bob.accept_data_transfer(&alice_id, &transfer_id, true)
                    .await?;
            }
            Event::IncomingData {
                data: TransferData::Bytes(bytes),
                is_self: false,
                ..
            } => {
                println!("bob received {:?}", String::from_utf8_lossy(&bytes));
                break;
            }
            _ => {}
        }
    }
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
