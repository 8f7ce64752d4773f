//! Shared server state handed to every request handler and socket callback.

use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::signaling::SocketLink;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Cheaply clonable handle on the server state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The state itself.
pub struct Inner {
    /// Effective configuration.
    pub config: Config,
    /// Rooms and routing.
    pub hub: Mutex<Hub<SocketLink>>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Key for deriving room keys.
    pub room_key_secret: Vec<u8>,
    /// Where the server listens.
    pub local_addr: SocketAddr,
    /// Source of connection ids shared by both transports.
    pub conn_ids: AtomicU64,
}

impl AppState {
    /// Wraps the state.
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

impl AppState {
    /// A new, unique connection id.
    pub fn next_conn_id(&self) -> u64 {
        self.conn_ids.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}
