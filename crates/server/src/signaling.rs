//! The thin Socket.IO (protocol 4) layer over Engine.IO 3, feeding the [`Hub`](crate::hub::Hub).
//!
//! Built on `engineioxide` rather than `socketioxide` because Skylink needs per-sender order:
//! engineioxide calls [`EngineIoHandler::on_message`] synchronously, in arrival order, from the
//! socket's reader, and we route there, so frames from one sender reach each recipient's queue
//! in the order they were sent.

use crate::hub::{ConnId, DeliverError, Link};
use crate::metrics::DropReason;
use crate::state::AppState;
use bytes::Bytes;
use engineioxide::handler::EngineIoHandler;
use engineioxide::{DisconnectReason, Socket, Str, TransportType};
use skylink_sm::frame::{SioPacket, message_payload, parse_packet};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::error::TrySendError;

/// Per-socket data: the hub's id for it.
#[derive(Debug, Default)]
pub struct SocketData {
    conn: OnceLock<ConnId>,
}

/// A hub [`Link`] onto an Engine.IO socket.
#[derive(Clone)]
pub struct SocketLink(Arc<Socket<SocketData>>);

/// How long a refused socket stays open so that its `redirect` is flushed first.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

impl Link for SocketLink {
    type Frame = Str;

    fn deliver(&self, frame: Str) -> Result<(), DeliverError> {
        self.0.emit(frame).map_err(|e| match e {
            TrySendError::Full(_) => DeliverError::Full,
            TrySendError::Closed(_) => DeliverError::Closed,
        })
    }

    fn close(&self) {
        let socket = self.0.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                tokio::time::sleep(CLOSE_GRACE).await;
                socket.close(DisconnectReason::ClosingServer);
            });
        } else {
            socket.close(DisconnectReason::ClosingServer);
        }
    }
}

/// The Engine.IO handler.
#[derive(Clone, Debug)]
pub struct SignalingHandler {
    state: AppState,
    next_conn: Arc<AtomicU64>,
}

impl SignalingHandler {
    /// A handler routing into `state`'s hub.
    pub fn new(state: AppState) -> Self {
        Self {
            state,
            next_conn: Arc::new(AtomicU64::new(1)),
        }
    }
}

/// socket.io-client 1.4.8 over long-polling UTF-8-encodes its payload itself before XHR encodes
/// it again, so non-ASCII text arrives as one char per UTF-8 byte. Undo that when it applies.
fn undo_polling_utf8(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || text.chars().any(|c| c as u32 > 0xff) {
        return Cow::Borrowed(text);
    }
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    match String::from_utf8(bytes) {
        Ok(fixed) => Cow::Owned(fixed),
        Err(_) => Cow::Borrowed(text),
    }
}

impl EngineIoHandler for SignalingHandler {
    type Data = SocketData;

    fn on_connect(self: Arc<Self>, socket: Arc<Socket<SocketData>>) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let _ = socket.data.conn.set(id);
        self.state.metrics.sockets.fetch_add(1, Ordering::Relaxed);
        // socket.io CONNECT for the default namespace: 1.4.8 waits for it before it is "open".
        if socket.emit(Str::from("0")).is_err() {
            tracing::warn!(conn = id, "could not send socket.io CONNECT");
        }
        self.state.hub.lock().connect(id, SocketLink(socket));
        tracing::debug!(conn = id, "socket connected");
    }

    fn on_disconnect(&self, socket: Arc<Socket<SocketData>>, reason: DisconnectReason) {
        let Some(&id) = socket.data.conn.get() else {
            return;
        };
        self.state.metrics.sockets.fetch_sub(1, Ordering::Relaxed);
        self.state.hub.lock().disconnect(id);
        tracing::debug!(conn = id, ?reason, "socket disconnected");
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<SocketData>>) {
        let Some(&id) = socket.data.conn.get() else {
            return;
        };
        let metrics = &self.state.metrics;
        if msg.len() > self.state.config.server.max_message_bytes {
            metrics.dropped(DropReason::Oversized);
            tracing::warn!(conn = id, bytes = msg.len(), "oversized message dropped");
            return;
        }
        let polling = socket.transport_type() == TransportType::Polling;
        let text = if polling {
            undo_polling_utf8(&msg)
        } else {
            Cow::Borrowed(msg.as_str())
        };
        match parse_packet(&text) {
            Ok(SioPacket::Event {
                nsp: "/",
                id: ack,
                data,
            }) => {
                let json = match message_payload(data) {
                    Ok(json) => json,
                    Err(e) => {
                        metrics.dropped(DropReason::BadFrame);
                        tracing::info!(conn = id, error = %e, "bad socket.io event dropped");
                        return;
                    }
                };
                let verbatim = ack.is_none() && msg.is_ascii();
                let raw = verbatim.then_some(&msg);
                let _ = self
                    .state
                    .hub
                    .lock()
                    .handle_message(id, raw, &json, Instant::now());
            }
            Ok(SioPacket::Connect { .. }) => {}
            Ok(SioPacket::Disconnect { nsp: "/" }) => {
                socket.close(DisconnectReason::TransportClose)
            }
            Ok(other) => {
                metrics.dropped(DropReason::BadFrame);
                tracing::info!(conn = id, packet = ?other, "unsupported socket.io packet dropped");
            }
            Err(e) => {
                metrics.dropped(DropReason::BadFrame);
                tracing::info!(conn = id, error = %e, "undecodable socket.io packet dropped");
            }
        }
    }

    fn on_binary(self: &Arc<Self>, _data: Bytes, socket: Arc<Socket<SocketData>>) {
        self.state.metrics.dropped(DropReason::BadFrame);
        tracing::info!(conn = ?socket.data.conn.get(), "binary frame dropped");
    }
}

#[cfg(test)]
mod tests {
    use super::undo_polling_utf8;

    #[test]
    fn polling_utf8_is_undone() {
        let original = "héllo ✓ 🎉";
        let mangled: String = original.bytes().map(char::from).collect();
        assert_eq!(undo_polling_utf8(&mangled), original);
        assert_eq!(undo_polling_utf8("plain"), "plain");
        // Real (non-mangled) text with chars above U+00FF is left alone.
        assert_eq!(undo_polling_utf8(original), original);
    }
}
