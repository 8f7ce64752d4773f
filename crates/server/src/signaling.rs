//! The thin Socket.IO (protocol 4) layer over Engine.IO 3, feeding the [`Hub`](crate::hub::Hub).
//!
//! Two transports deliver into the same hub:
//! * [`crate::fastws`] serves fresh Engine.IO 3 websocket sessions (what skylinkjs 0.6 opens
//!   first) directly: one task and a few small buffers per socket;
//! * `engineioxide` serves everything else (long-polling, and websockets behind TLS).
//!
//! Both hand messages to the hub synchronously, in arrival order, from the socket's reader, so
//! frames from one sender reach each recipient's queue in the order they were sent. (A
//! socketioxide spike spawned a task per event and reordered bursts; Skylink needs offer before
//! candidates.)

use crate::fastws::WsShared;
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
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::error::TrySendError;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Per-socket data of engineioxide sockets: the hub's id for it.
#[derive(Debug, Default)]
pub struct SocketData {
    conn: OnceLock<ConnId>,
}

/// A hub [`Link`]: either transport.
#[derive(Clone)]
pub enum SocketLink {
    /// An engineioxide socket (polling, or websocket behind TLS).
    Eio(Arc<Socket<SocketData>>),
    /// A socket served by [`crate::fastws`].
    Ws(Arc<WsShared>),
}

/// How long a refused engineioxide socket stays open so that its `redirect` is flushed first.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

impl Link for SocketLink {
    type Frame = Utf8Bytes;

    fn deliver(&self, frame: Utf8Bytes) -> Result<(), DeliverError> {
        match self {
            SocketLink::Ws(shared) => shared.push(frame),
            SocketLink::Eio(socket) => {
                // engineioxide adds the Engine.IO `4` itself.
                let packet = frame.as_str().get(1..).unwrap_or("");
                socket
                    .emit(Str::copy_from_slice(packet))
                    .map_err(|e| match e {
                        TrySendError::Full(_) => DeliverError::Full,
                        TrySendError::Closed(_) => DeliverError::Closed,
                    })
            }
        }
    }

    fn close(&self) {
        match self {
            SocketLink::Ws(shared) => shared.close_after_flush(),
            SocketLink::Eio(socket) => {
                let socket = socket.clone();
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
    }
}

/// What the transport should do after a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketOutcome {
    /// Keep going.
    Continue,
    /// The client disconnected its namespace: close the transport.
    Disconnect,
}

/// Handles one Socket.IO packet (the Engine.IO message payload, without the `4`).
///
/// `raw` is the whole Engine.IO frame when it may be relayed verbatim.
pub fn handle_sio_packet(
    state: &AppState,
    id: ConnId,
    packet: &str,
    raw: Option<&Utf8Bytes>,
) -> PacketOutcome {
    let metrics = &state.metrics;
    if packet.len() > state.config.server.max_message_bytes {
        metrics.dropped(DropReason::Oversized);
        tracing::warn!(conn = id, bytes = packet.len(), "oversized message dropped");
        return PacketOutcome::Continue;
    }
    match parse_packet(packet) {
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
                    return PacketOutcome::Continue;
                }
            };
            let raw = raw.filter(|r| ack.is_none() && r.is_ascii());
            let _ = state
                .hub
                .lock()
                .handle_message(id, raw, &json, Instant::now());
            PacketOutcome::Continue
        }
        Ok(SioPacket::Connect { .. }) => PacketOutcome::Continue,
        Ok(SioPacket::Disconnect { nsp: "/" }) => PacketOutcome::Disconnect,
        Ok(other) => {
            metrics.dropped(DropReason::BadFrame);
            // The packet's kind and namespace only: its data may be a user's message.
            let (kind, nsp) = match other {
                SioPacket::Connect { nsp } => ("connect", nsp),
                SioPacket::Disconnect { nsp } => ("disconnect", nsp),
                SioPacket::Event { nsp, .. } => ("event", nsp),
                SioPacket::Ack { nsp, .. } => ("ack", nsp),
                SioPacket::Error { nsp, .. } => ("error", nsp),
                SioPacket::Binary => ("binary", ""),
            };
            tracing::info!(
                conn = id,
                kind,
                nsp,
                bytes = packet.len(),
                "unsupported socket.io packet dropped"
            );
            PacketOutcome::Continue
        }
        Err(e) => {
            metrics.dropped(DropReason::BadFrame);
            tracing::info!(conn = id, error = %e, "undecodable socket.io packet dropped");
            PacketOutcome::Continue
        }
    }
}

/// The Engine.IO handler for engineioxide sockets.
#[derive(Clone, Debug)]
pub struct SignalingHandler {
    state: AppState,
}

impl SignalingHandler {
    /// A handler routing into `state`'s hub.
    pub fn new(state: AppState) -> Self {
        Self { state }
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
        let id = self.state.next_conn_id();
        let _ = socket.data.conn.set(id);
        self.state.metrics.sockets.fetch_add(1, Ordering::Relaxed);
        // socket.io CONNECT for the default namespace: 1.4.8 waits for it before it is "open".
        if socket.emit(Str::from("0")).is_err() {
            tracing::warn!(conn = id, "could not send socket.io CONNECT");
        }
        self.state.hub.lock().connect(id, SocketLink::Eio(socket));
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
        let text = if socket.transport_type() == TransportType::Polling {
            undo_polling_utf8(&msg)
        } else {
            Cow::Borrowed(msg.as_str())
        };
        if handle_sio_packet(&self.state, id, &text, None) == PacketOutcome::Disconnect {
            socket.close(DisconnectReason::TransportClose);
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
