//! Shared counters and latency histograms updated by all virtual clients.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// Highest latency the histograms track, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 600_000_000;
/// Number of independently locked relay-latency histograms (less lock contention).
const SHARDS: usize = 16;
/// How many distinct diagnostic notes are kept.
const MAX_NOTES: usize = 40;

/// A failure or anomaly counted by the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Room-API request failed (network, HTTP status, or an error JSON).
    Api,
    /// TCP connect or websocket upgrade failed.
    Connect,
    /// The Engine.IO/socket.io handshake (`0{…}`, `40`) was wrong or missing.
    Handshake,
    /// `joinRoom` answered with `redirect` (rejected).
    JoinRejected,
    /// No `inRoom` (or no slot to start) within the join timeout.
    JoinTimeout,
    /// Writing to the socket failed.
    Send,
    /// The server closed a joined socket before the end of the run.
    Disconnected,
    /// A frame could not be parsed (bad Engine.IO / socket.io / JSON).
    Protocol,
    /// A message arrived at a client it was not meant for.
    Misdelivered,
    /// A message from a sender arrived with a sequence not above the previous one.
    OutOfOrder,
    /// Our own broadcast came back to us.
    SelfEcho,
    /// No Engine.IO pong within `pingTimeout`.
    PongTimeout,
    /// A `redirect` arrived after joining (server warning or kick).
    Redirect,
    /// The server pinged us (Engine.IO 4 behaviour; EIO 3 pings are client-driven).
    ServerPing,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 14] = [
        Kind::Api,
        Kind::Connect,
        Kind::Handshake,
        Kind::JoinRejected,
        Kind::JoinTimeout,
        Kind::Send,
        Kind::Disconnected,
        Kind::Protocol,
        Kind::Misdelivered,
        Kind::OutOfOrder,
        Kind::SelfEcho,
        Kind::PongTimeout,
        Kind::Redirect,
        Kind::ServerPing,
    ];

    /// The snake_case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::Connect => "connect",
            Kind::Handshake => "handshake",
            Kind::JoinRejected => "join_rejected",
            Kind::JoinTimeout => "join_timeout",
            Kind::Send => "send",
            Kind::Disconnected => "disconnected",
            Kind::Protocol => "protocol",
            Kind::Misdelivered => "misdelivered",
            Kind::OutOfOrder => "out_of_order",
            Kind::SelfEcho => "self_echo",
            Kind::PongTimeout => "pong_timeout",
            Kind::Redirect => "redirect",
            Kind::ServerPing => "server_ping",
        }
    }
}

/// Everything the clients update concurrently.
pub struct Shared {
    /// Time origin of the `t` timestamps embedded in messages.
    pub epoch: Instant,
    errors: [AtomicU64; Kind::ALL.len()],
    /// Clients whose websocket handshake (Engine.IO open + `40`) completed.
    pub connected: AtomicU64,
    /// Private messages sent.
    pub sent_private: AtomicU64,
    /// Public messages sent.
    pub sent_public: AtomicU64,
    /// Deliveries expected (1 per private, room size - 1 per public).
    pub expected: AtomicU64,
    /// Correct deliveries received.
    pub delivered: AtomicU64,
    /// All signaling messages received after joining (any type).
    pub received_any: AtomicU64,
    /// `enter` messages received.
    pub enters: AtomicU64,
    /// `welcome` messages received.
    pub welcomes: AtomicU64,
    /// `bye` messages received (peers leaving; expected while the run shuts down).
    pub byes: AtomicU64,
    /// Engine.IO pings sent.
    pub pings: AtomicU64,
    /// Engine.IO pongs received.
    pub pongs: AtomicU64,
    /// Clients still in their sending phase.
    pub senders_active: AtomicU64,
    relay: Vec<Mutex<Histogram<u64>>>,
    notes: Mutex<BTreeMap<String, u64>>,
}

impl Shared {
    /// Fresh counters with `epoch` = now.
    pub fn new() -> Self {
        Shared {
            epoch: Instant::now(),
            errors: Default::default(),
            connected: AtomicU64::new(0),
            sent_private: AtomicU64::new(0),
            sent_public: AtomicU64::new(0),
            expected: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            received_any: AtomicU64::new(0),
            enters: AtomicU64::new(0),
            welcomes: AtomicU64::new(0),
            byes: AtomicU64::new(0),
            pings: AtomicU64::new(0),
            pongs: AtomicU64::new(0),
            senders_active: AtomicU64::new(0),
            relay: (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect(),
            notes: Mutex::new(BTreeMap::new()),
        }
    }

    /// Microseconds since [`Shared::epoch`].
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Counts one event of `kind`.
    pub fn error(&self, kind: Kind) {
        self.errors[kind as usize].fetch_add(1, Relaxed);
    }

    /// Counts one event of `kind` and keeps a diagnostic note (deduplicated, bounded).
    pub fn error_note(&self, kind: Kind, note: impl AsRef<str>) {
        self.error(kind);
        self.note(format!("{}: {}", kind.name(), note.as_ref()));
    }

    /// Keeps a diagnostic note (deduplicated with a count, at most a few dozen kept).
    pub fn note(&self, note: String) {
        let mut note = note;
        if note.len() > 300 {
            let mut cut = 300;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
            note.push('…');
        }
        let Ok(mut notes) = self.notes.lock() else {
            return;
        };
        if let Some(n) = notes.get_mut(&note) {
            *n += 1;
        } else if notes.len() < MAX_NOTES {
            notes.insert(note, 1);
        }
    }

    /// Error counts by kind name (all kinds, zeros included).
    pub fn errors(&self) -> BTreeMap<&'static str, u64> {
        Kind::ALL
            .iter()
            .map(|k| (k.name(), self.errors[*k as usize].load(Relaxed)))
            .collect()
    }

    /// Records one relay latency (µs) observed by client `idx`.
    pub fn record_relay(&self, idx: usize, latency_us: u64) {
        if let Ok(mut h) = self.relay[idx % SHARDS].lock() {
            h.saturating_record(latency_us.clamp(1, MAX_LATENCY_US));
        }
    }

    /// Merges all relay-latency shards.
    pub fn relay_histogram(&self) -> Histogram<u64> {
        let mut all = new_histogram();
        for shard in &self.relay {
            if let Ok(h) = shard.lock() {
                // Same bounds everywhere, so `add` cannot fail.
                let _ = all.add(&*h);
            }
        }
        all
    }

    /// The diagnostic notes with their repeat counts.
    pub fn notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|n| {
                n.iter()
                    .map(|(k, v)| {
                        if *v > 1 {
                            format!("{k} (x{v})")
                        } else {
                            k.clone()
                        }
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A histogram of microsecond latencies, 1 µs .. 600 s, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid")
}

/// Percentiles of a latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Percentiles {
    /// Number of samples.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
    /// Mean, ms.
    pub mean_ms: f64,
}

impl Percentiles {
    /// Summarises a microsecond histogram.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}
