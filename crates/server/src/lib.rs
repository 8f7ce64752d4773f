//! # skylink-server
//!
//! The Skylink platform in one process: the room API (`GET /api/{appKey}/{room}`), Socket.IO
//! signaling over Engine.IO 3 (websocket and long-polling) on the same port, `/health`,
//! `/metrics` (Prometheus) and a demo page at `/` running the real skylinkjs 0.6.26 bundle.
//! Real skylinkjs 0.6 browser clients and the Rust `skylink` peer both use it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = skylink_server::Config::default();
//! config.server.port = 0; // any free port
//! let server = skylink_server::Server::bind(config).await?;
//! println!("room API at http://{}/api/<appKey>/<room>", server.local_addr());
//! server.run_until(std::future::pending()).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod fastws;
pub mod hub;
pub mod metrics;
mod routes;
pub mod signaling;
pub mod state;

pub use config::{AppConfig, Config, ConfigError, IceServerConfig, TlsConfig};
pub use hub::Hub;
pub use metrics::{DropReason, Metrics};

use crate::hub::HubSettings;
use crate::state::{AppState, Inner};
use parking_lot::Mutex;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Requested address.
        addr: SocketAddr,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl Server {
    /// Binds the listener and prepares state. Port 0 picks a free port.
    ///
    /// # Errors
    /// [`ServerError::Bind`] when the address is unavailable.
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        let addr = SocketAddr::new(config.server.bind, config.server.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener.local_addr()?;
        if config.is_development() {
            tracing::warn!(
                "no App Keys configured: accepting any App Key in CORS mode (development default)"
            );
        }
        let metrics = Arc::new(Metrics::default());
        let settings = hub_settings(&config);
        let room_key_secret = config
            .server
            .room_key_secret
            .clone()
            .map(String::into_bytes)
            .unwrap_or_else(|| rand::random::<[u8; 32]>().to_vec());
        let state = AppState::new(Inner {
            hub: Mutex::new(Hub::new(settings, metrics.clone())),
            metrics,
            room_key_secret,
            local_addr,
            conn_ids: std::sync::atomic::AtomicU64::new(0),
            config,
        });
        Ok(Self { listener, state })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.state.local_addr
    }

    /// The shared state (metrics, hub), e.g. for tests.
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` completes.
    ///
    /// # Errors
    /// [`ServerError::Serve`] when the listener fails.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state.clone();
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(500));
            loop {
                interval.tick().await;
                state.hub.lock().tick(Instant::now());
            }
        });
        let app = routes::router(self.state.clone());
        let result = match self.state.config.server.tls.clone() {
            None => serve_plain(self.listener, app, self.state.clone(), shutdown).await,
            Some(tls) => serve_tls(self.listener, app, &tls, shutdown).await,
        };
        ticker.abort();
        result.map_err(ServerError::Serve)
    }
}

/// Accept loop: fresh Engine.IO 3 websocket sessions go to [`fastws`], every other connection
/// to hyper (API, page, metrics, long-polling via engineioxide).
async fn serve_plain(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let builder = Builder::new(TokioExecutor::new());
    let service = TowerToHyperService::new(app);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        // Signaling is many small frames: Nagle + delayed ACK would add ~40 ms stalls.
        let _ = stream.set_nodelay(true);
        let (state, service, builder) = (state.clone(), service.clone(), builder.clone());
        tokio::spawn(async move {
            if wants_fresh_websocket(&stream).await {
                fastws::serve(state, stream).await;
            } else if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "http connection ended with an error");
            }
        });
    }
}

async fn wants_fresh_websocket(stream: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 512];
    let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), stream.peek(&mut buf)).await
    else {
        return false;
    };
    let Some(end) = buf[..n].windows(2).position(|w| w == b"\r\n") else {
        return false;
    };
    std::str::from_utf8(&buf[..end]).is_ok_and(fastws::is_fresh_eio3_websocket)
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: &TlsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "TLS files {} / {}: {e}",
                    tls.cert.display(),
                    tls.key.display()
                ),
            )
        })?;
    let handle = axum_server::Handle::new();
    let on_shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        on_shutdown.graceful_shutdown(Some(Duration::from_secs(5)));
    });
    // TCP_NODELAY under TLS too (see serve_plain).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    axum_server::from_tcp(listener.into_std()?)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(app.into_make_service())
        .await
}

fn hub_settings(config: &Config) -> HubSettings {
    let mut ice_servers: Vec<serde_json::Value> = config
        .ice_servers
        .iter()
        .map(|s| {
            let mut entry = serde_json::Map::new();
            entry.insert("url".into(), s.url.clone().into());
            if let Some(c) = &s.credential {
                entry.insert("credential".into(), c.clone().into());
            }
            serde_json::Value::Object(entry)
        })
        .collect();
    if let Some(turn) = &config.turn {
        let expiry = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            + turn.ttl_secs;
        // 0.6.26 parses `turn:{user}@{host}` and rejects ':' in the user, so the REST user is
        // the expiry alone; coturn accepts `<expiry>` as a timestamp-only username.
        let user = expiry.to_string();
        let credential = turn_credential(&turn.secret, &user);
        let mut entry = serde_json::Map::new();
        entry.insert(
            "url".into(),
            format!("turn:{user}@{}?transport=udp", turn.host).into(),
        );
        entry.insert("credential".into(), credential.into());
        ice_servers.push(serde_json::Value::Object(entry));
    }
    HubSettings {
        ice_servers,
        credential_ttl: Duration::from_secs(config.server.credential_ttl_secs),
        close_warning: Duration::from_secs(config.server.close_warning_secs),
        flood_per_sec: config.limits.flood_per_sec,
        room_seats: config.limits.room_seats,
        max_pending_tickets: config.limits.max_pending_credentials,
        app_seats: config
            .apps
            .iter()
            .map(|a| (a.key.clone(), a.seat_limit))
            .collect(),
    }
}

fn turn_credential(secret: &str, user: &str) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(user.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
