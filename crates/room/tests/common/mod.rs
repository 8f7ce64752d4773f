//! Shared helpers: the real server in-process, client options, bounded event waits.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use skylink_room::{Client, Event, InitOptions};
use skylink_server::{Config, Server};
use tokio::sync::broadcast;

/// Upper bound of every wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// Logs to the test output when `RUST_LOG` is set.
pub fn trace() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Starts the real server on a loopback port.
pub async fn start_server(config: Option<Config>) -> SocketAddr {
    trace();
    let mut config = config.unwrap_or_default();
    config.server.port = 0;
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    addr
}

/// Client options for a plain-http local server.
pub fn options(addr: SocketAddr, app_key: &str) -> InitOptions {
    let mut o = InitOptions::new(app_key);
    o.room_server = format!("//{addr}");
    o.force_ssl = false;
    o.api_timeout = Duration::from_secs(3);
    o.reconnection_delay = Duration::from_millis(50);
    o.reconnection_delay_max = Duration::from_millis(200);
    // Loopback only: peer connections bind 127.0.0.1.
    o.udp_addrs = vec!["127.0.0.1:0".to_owned()];
    o
}

/// A client and its event receiver (subscribed before anything happens).
pub fn client(opts: InitOptions) -> (Client, broadcast::Receiver<Event>) {
    let c = Client::new(opts);
    let rx = c.subscribe();
    (c, rx)
}

/// Waits (bounded) for the first event matching `pred`, skipping others.
pub async fn wait_for<T>(
    rx: &mut broadcast::Receiver<Event>,
    what: &str,
    mut pred: impl FnMut(&Event) -> Option<T>,
) -> T {
    let fut = async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if std::env::var_os("ROOM_TEST_TRACE").is_some() {
                        eprintln!("[{what}] {ev:?}");
                    }
                    if let Some(t) = pred(&ev) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => panic!("lagged {n} events"),
                Err(broadcast::error::RecvError::Closed) => panic!("event stream closed"),
            }
        }
    };
    tokio::time::timeout(WAIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Bounded await of any future.
pub async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A TCP proxy whose live connections can be cut at once (a network drop as the server and
/// the client see it).
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    /// Proxies to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let conns: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let list = conns.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
                list.lock().expect("lock").push(task);
            }
        });
        Proxy { addr, conns }
    }

    /// Cuts every live connection (both TCP sides close).
    pub fn cut_all(&self) {
        for t in self.conns.lock().expect("lock").drain(..) {
            t.abort();
        }
    }
}

/// A client whose devices are the test pattern and the tone, with a [`ProbeSet`] on every
/// received track (the media tests; `codecs` builds only).
///
/// [`ProbeSet`]: skylink_room::probes::ProbeSet
#[cfg(feature = "codecs")]
pub fn media_client(
    addr: SocketAddr,
) -> (
    Client,
    broadcast::Receiver<Event>,
    skylink_room::probes::ProbeSet,
) {
    use skylink_room::devices::{AudioDevice, Devices, ScreenDevice, VideoDevice};
    let mut o = options(addr, "app");
    o.media_devices = std::sync::Arc::new(Devices {
        video: VideoDevice::TestPattern,
        audio: AudioDevice::Tone,
        screen: ScreenDevice::TestPattern,
    });
    let probes = skylink_room::probes::ProbeSet::default();
    o.media_sinks = Some(probes.factory(None));
    let (c, rx) = client(o);
    (c, rx, probes)
}
