//! Prometheus counters and gauges, rendered as text at `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Why a frame was not relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not valid JSON, not an object, or wrong field types.
    Malformed,
    /// Not a socket.io `message` event with one string argument.
    BadFrame,
    /// Larger than the configured limit.
    Oversized,
    /// Sent before `joinRoom` succeeded.
    NotJoined,
    /// `mid` is not the sender's peer id.
    SpoofedMid,
    /// `rid` is not the sender's room.
    WrongRoom,
    /// `target` is not a member of the sender's room.
    UnknownTarget,
    /// A type only the server may send (`inRoom`, `bye`, …) or that needs privileges.
    Forbidden,
    /// The recipient's queue was full (slow consumer).
    QueueFull,
    /// The recipient's socket had closed.
    Closed,
    /// A message kind this server has no route for (e.g. recording without an MCU).
    NoRoute,
}

impl DropReason {
    /// All reasons, for rendering.
    pub const ALL: [DropReason; 11] = [
        Self::Malformed,
        Self::BadFrame,
        Self::Oversized,
        Self::NotJoined,
        Self::SpoofedMid,
        Self::WrongRoom,
        Self::UnknownTarget,
        Self::Forbidden,
        Self::QueueFull,
        Self::Closed,
        Self::NoRoute,
    ];

    /// Label value used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::BadFrame => "bad_frame",
            Self::Oversized => "oversized",
            Self::NotJoined => "not_joined",
            Self::SpoofedMid => "spoofed_mid",
            Self::WrongRoom => "wrong_room",
            Self::UnknownTarget => "unknown_target",
            Self::Forbidden => "forbidden",
            Self::QueueFull => "queue_full",
            Self::Closed => "closed",
            Self::NoRoute => "no_route",
        }
    }
}

/// Server-wide counters. Cheap atomics, shared by every task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open Engine.IO sockets.
    pub sockets: AtomicI64,
    /// Rooms with at least one member.
    pub rooms: AtomicI64,
    /// Joined peers.
    pub peers: AtomicI64,
    /// Signaling messages received from clients.
    pub messages_received: AtomicU64,
    /// Frames delivered to recipients (one per recipient).
    pub messages_relayed: AtomicU64,
    /// Room-API requests answered with credentials.
    pub api_ok: AtomicU64,
    /// Room-API requests refused.
    pub api_refused: AtomicU64,
    /// Successful joins.
    pub joins: AtomicU64,
    /// Refused joins.
    pub joins_rejected: AtomicU64,
    /// `fastmsg` warnings sent.
    pub flood_warnings: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
}

impl Metrics {
    /// Counts one dropped frame.
    pub fn dropped(&self, reason: DropReason) {
        self.dropped[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Frames dropped for `reason` so far.
    pub fn dropped_count(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize].load(Ordering::Relaxed)
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let gauge = |out: &mut String, name: &str, help: &str, v: i64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let l = |a: &AtomicI64| a.load(Ordering::Relaxed);
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "skylink_sockets",
            "Open signaling sockets.",
            l(&self.sockets),
        );
        gauge(
            &mut out,
            "skylink_rooms",
            "Rooms with members.",
            l(&self.rooms),
        );
        gauge(&mut out, "skylink_peers", "Joined peers.", l(&self.peers));
        counter(
            &mut out,
            "skylink_messages_received_total",
            "Signaling messages received.",
            c(&self.messages_received),
        );
        counter(
            &mut out,
            "skylink_messages_relayed_total",
            "Frames delivered to recipients.",
            c(&self.messages_relayed),
        );
        counter(
            &mut out,
            "skylink_api_ok_total",
            "Room-API successes.",
            c(&self.api_ok),
        );
        counter(
            &mut out,
            "skylink_api_refused_total",
            "Room-API refusals.",
            c(&self.api_refused),
        );
        counter(
            &mut out,
            "skylink_joins_total",
            "Successful joins.",
            c(&self.joins),
        );
        counter(
            &mut out,
            "skylink_joins_rejected_total",
            "Refused joins.",
            c(&self.joins_rejected),
        );
        counter(
            &mut out,
            "skylink_flood_warnings_total",
            "fastmsg warnings sent.",
            c(&self.flood_warnings),
        );
        let _ = writeln!(
            out,
            "# HELP skylink_messages_dropped_total Frames not relayed, by reason.\n# TYPE skylink_messages_dropped_total counter"
        );
        for reason in DropReason::ALL {
            let _ = writeln!(
                out,
                "skylink_messages_dropped_total{{reason=\"{}\"}} {}",
                reason.as_str(),
                self.dropped_count(reason)
            );
        }
        out
    }
}
