//! Shared helpers: the real server in-process on loopback, client options, bounded waits.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use skylink::{Event, InitOptions, Skylink};
use skylink_server::{Config, Server};
use tokio::sync::mpsc;

/// Upper bound of every wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// Starts the real server on `127.0.0.1:0`.
pub async fn start_server() -> SocketAddr {
    let mut config = Config::default();
    config.server.port = 0;
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    addr
}

/// Options for a plain-http local server.
pub fn options(addr: SocketAddr) -> InitOptions {
    let mut o = InitOptions::new("app");
    o.room_server = format!("//{addr}");
    o.force_ssl = false;
    o.api_timeout = Duration::from_secs(3);
    o.reconnection_delay = Duration::from_millis(50);
    o.reconnection_delay_max = Duration::from_millis(200);
    // Loopback only: peer connections bind 127.0.0.1.
    o.udp_addrs = vec!["127.0.0.1:0".to_owned()];
    o
}

/// A client of the local server.
pub fn skylink(addr: SocketAddr) -> Skylink {
    Skylink::new(options(addr))
}

/// Bounded await of any future.
pub async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Waits (bounded) for the first item of `rx` that `pred` maps to `Some`.
pub async fn next_matching<T, U>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    what: &str,
    mut pred: impl FnMut(&T) -> Option<U>,
) -> U {
    bounded(what, async {
        loop {
            let item = rx
                .recv()
                .await
                .unwrap_or_else(|| panic!("{what}: channel closed"));
            if let Some(u) = pred(&item) {
                return u;
            }
        }
    })
    .await
}

/// A listener that forwards every event it gets into a channel.
pub fn forward() -> (
    impl Fn(&Event) + Send + Sync + 'static,
    mpsc::UnboundedReceiver<Event>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (move |e: &Event| drop(tx.send(e.clone())), rx)
}

/// The content of an `incomingMessage` from someone else.
pub fn message_text(e: &Event) -> Option<String> {
    match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => message.content.as_str().map(str::to_owned),
        _ => None,
    }
}
