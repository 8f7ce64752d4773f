//! A large file between two Rust peers without holding it in memory: alice streams it from an
//! async reader, bob writes it straight to disk as the chunks arrive, and both print progress.
//!
//! ```text
//! cargo run -p skylink --example file_to_disk
//! ```

use futures_util::StreamExt as _;
use skylink::{Event, InitOptions, JoinOptions, Skylink, TransferData, TransferOptions};

/// Size of the generated file.
const SIZE: u64 = 8 << 20;

fn options(port: u16) -> InitOptions {
    let mut o = InitOptions::new("example-app");
    o.room_server = format!("//127.0.0.1:{port}");
    o.force_ssl = false;
    o.udp_addrs = vec!["127.0.0.1:0".into()];
    o
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = skylink_server::Config::default();
    config.server.port = 0;
    config.server.bind = std::net::IpAddr::from([127, 0, 0, 1]);
    let server = skylink_server::Server::bind(config).await?;
    let port = server.local_addr().port();
    tokio::spawn(server.run_until(std::future::pending()));

    let dir = std::env::temp_dir().join(format!("skylink-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dest = dir.join("received.bin");

    let alice = Skylink::new(options(port));
    let bob = Skylink::new(options(port));
    let mut bob_events = Box::pin(bob.events());
    let alice_id = alice
        .join_room(Some("files"), JoinOptions::default())
        .await?;
    let bob_id = bob.join_room(Some("files"), JoinOptions::default()).await?;

    // Wait for the data channel, then send: any `AsyncRead` of known length works (a file, a
    // socket, a decompressor); here 8 MiB of zeros.
    while let Some(event) = bob_events.next().await {
        if let Event::DataChannelState { state, .. } = &event
            && state == "open"
        {
            break;
        }
    }
    let reader = tokio::io::AsyncReadExt::take(tokio::io::repeat(0), SIZE);
    let sender = {
        let alice = alice.clone();
        let options = TransferOptions {
            name: Some("zeros.bin".into()),
            ..Default::default()
        };
        tokio::spawn(async move {
            alice
                .send_blob_reader(reader, SIZE, Some(vec![bob_id]), options)
                .await
        })
    };

    let mut last = -25.0;
    while let Some(event) = bob_events.next().await {
        match event {
            Event::IncomingDataRequest {
                transfer_id,
                is_self: false,
                ..
            } => {
                bob.accept_data_transfer_to_file(&alice_id, &transfer_id, &dest)
                    .await?;
            }
            Event::DataTransferState {
                state,
                transfer_info,
                ..
            } if state == "downloading" => {
                let pct = transfer_info["percentage"].as_f64().unwrap_or(0.0);
                if pct - last >= 25.0 {
                    println!("bob: {pct:.0} %");
                    last = pct;
                }
            }
            Event::IncomingData {
                data: TransferData::File { path, size },
                is_self: false,
                ..
            } => {
                println!("bob saved {size} bytes to {}", path.display());
                break;
            }
            _ => {}
        }
    }
    let (transfer_id, peers) = sender.await??;
    println!("alice: transfer {transfer_id} completed for {peers:?}");
    let on_disk = std::fs::metadata(&dest)?.len();
    std::fs::remove_dir_all(&dir)?;
    alice.leave_room().await?;
    bob.leave_room().await?;
    if on_disk != SIZE {
        return Err(format!("{on_disk} bytes on disk, expected {SIZE}").into());
    }
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
