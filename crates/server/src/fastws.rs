//! Fresh Engine.IO 3 websocket sessions, served without the generic HTTP stack.
//!
//! skylinkjs 0.6 opens `/socket.io/?EIO=3&transport=websocket` directly (no polling first). For
//! those connections the accept loop hands the TCP stream here: we answer the upgrade ourselves
//! and run the session in one task with small buffers, instead of keeping an HTTP connection's
//! read buffer, an engine session with three tasks and several channels per socket. That is
//! what holds 10k idle sockets in little memory, and it saves wake-ups on the relay path.
//! Everything else (polling, `sid=` upgrades, the API, TLS) goes to hyper + engineioxide.

use crate::hub::{ConnId, DeliverError};
use crate::metrics::DropReason;
use crate::signaling::{PacketOutcome, SocketLink, handle_sio_packet};
use crate::state::AppState;
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Largest HTTP request head accepted for an upgrade.
const MAX_HEAD: usize = 8 * 1024;

/// The outgoing side of a socket, shared with the hub.
#[derive(Debug)]
pub struct WsShared {
    queue: Mutex<VecDeque<Utf8Bytes>>,
    notify: Notify,
    closing: AtomicBool,
    closed: AtomicBool,
    capacity: usize,
}

impl WsShared {
    fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            notify: Notify::new(),
            closing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            capacity,
        }
    }

    /// Queues a frame for the socket's task.
    ///
    /// # Errors
    /// [`DeliverError::Full`] beyond the configured queue length, [`DeliverError::Closed`]
    /// once the socket is closing.
    pub fn push(&self, frame: Utf8Bytes) -> Result<(), DeliverError> {
        if self.closed.load(Ordering::Relaxed) || self.closing.load(Ordering::Relaxed) {
            return Err(DeliverError::Closed);
        }
        {
            let mut queue = self.queue.lock();
            if queue.len() >= self.capacity {
                return Err(DeliverError::Full);
            }
            queue.push_back(frame);
        }
        self.notify.notify_one();
        Ok(())
    }

    /// Closes the socket once what is queued has been written.
    pub fn close_after_flush(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.notify.notify_one();
    }
}

/// Whether a request line asks for a fresh Engine.IO 3 websocket session.
pub fn is_fresh_eio3_websocket(request_line: &str) -> bool {
    let mut parts = request_line.split(' ');
    let (Some("GET"), Some(target)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Some(query) = target.strip_prefix("/socket.io/?") else {
        return false;
    };
    let mut eio3 = false;
    let mut websocket = false;
    for item in query.split('&') {
        match item {
            "EIO=3" => eio3 = true,
            "transport=websocket" => websocket = true,
            _ if item.starts_with("sid=") => return false,
            _ => {}
        }
    }
    eio3 && websocket
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Serves one connection whose first request line passed [`is_fresh_eio3_websocket`].
pub async fn serve(state: AppState, mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() >= MAX_HEAD {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
                )
                .await;
            return;
        }
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return;
    };
    let upgrade_ok = header(head, "upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = header(head, "sec-websocket-key").filter(|_| upgrade_ok) else {
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    let rest = buf.split_off(head_end);
    drop(buf);
    let limits = &state.config.server;
    let config = WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0)
        .max_message_size(Some(limits.max_message_bytes.saturating_mul(4)))
        .max_frame_size(Some(limits.max_message_bytes.saturating_mul(4)));
    let ws = WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(config)).await;
    run_session(state, ws).await;
}

async fn run_session(state: AppState, mut ws: WebSocketStream<TcpStream>) {
    let server = &state.config.server;
    let ping_interval = Duration::from_millis(server.ping_interval_ms);
    let ping_timeout = Duration::from_millis(server.ping_timeout_ms);
    let sid: String = (0..20)
        .map(|_| {
            let i = rand::random::<u8>() % 62;
            (match i {
                0..=9 => b'0' + i,
                10..=35 => b'a' + i - 10,
                _ => b'A' + i - 36,
            }) as char
        })
        .collect();
    let open = format!(
        "0{{\"sid\":\"{sid}\",\"upgrades\":[],\"pingInterval\":{},\"pingTimeout\":{}}}",
        ping_interval.as_millis(),
        ping_timeout.as_millis()
    );
    if ws.feed(Message::text(open)).await.is_err() || ws.send(Message::text("40")).await.is_err() {
        return;
    }
    let id: ConnId = state.next_conn_id();
    let shared = std::sync::Arc::new(WsShared::new(server.socket_buffer));
    state.metrics.sockets.fetch_add(1, Ordering::Relaxed);
    state.hub.lock().connect(id, SocketLink::Ws(shared.clone()));
    tracing::debug!(conn = id, "websocket session open");
    let reason = session_loop(&state, id, &shared, &mut ws, ping_interval + ping_timeout).await;
    shared.closed.store(true, Ordering::Relaxed);
    state.hub.lock().disconnect(id);
    state.metrics.sockets.fetch_sub(1, Ordering::Relaxed);
    let _ = ws.close(None).await;
    tracing::debug!(conn = id, reason, "websocket session closed");
}

async fn session_loop(
    state: &AppState,
    id: ConnId,
    shared: &WsShared,
    ws: &mut WebSocketStream<TcpStream>,
    liveness: Duration,
) -> &'static str {
    let mut deadline = tokio::time::Instant::now() + liveness;
    let mut batch: Vec<Utf8Bytes> = Vec::new();
    loop {
        let notified = shared.notify.notified();
        tokio::select! {
            incoming = ws.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        state.metrics.dropped(DropReason::BadFrame);
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | None => return "client closed",
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        tracing::debug!(conn = id, error = %e, "websocket error");
                        return "transport error";
                    }
                };
                deadline = tokio::time::Instant::now() + liveness;
                match text.as_bytes().first() {
                    Some(b'2') => {
                        // Engine.IO 3: the client pings, the server pongs (with any probe data).
                        let pong = format!("3{}", &text.as_str()[1..]);
                        if ws.send(Message::text(pong)).await.is_err() {
                            return "write failed";
                        }
                    }
                    Some(b'4') => {
                        let packet = &text.as_str()[1..];
                        if handle_sio_packet(state, id, packet, Some(&text))
                            == PacketOutcome::Disconnect
                        {
                            return "namespace disconnect";
                        }
                    }
                    Some(b'1') => return "engine.io close",
                    _ => state.metrics.dropped(DropReason::BadFrame),
                }
            }
            () = notified => {
                batch.extend(shared.queue.lock().drain(..));
                for frame in batch.drain(..) {
                    if ws.feed(Message::Text(frame)).await.is_err() {
                        return "write failed";
                    }
                }
                if ws.flush().await.is_err() {
                    return "write failed";
                }
                if shared.closing.load(Ordering::Relaxed) && shared.queue.lock().is_empty() {
                    return "closed by server";
                }
                if batch.capacity() > 64 {
                    batch = Vec::new();
                }
            }
            () = tokio::time::sleep_until(deadline) => return "ping timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{header, is_fresh_eio3_websocket};

    #[test]
    fn recognises_fresh_websocket_sessions() {
        assert!(is_fresh_eio3_websocket(
            "GET /socket.io/?rand=1&EIO=3&transport=websocket HTTP/1.1"
        ));
        assert!(!is_fresh_eio3_websocket(
            "GET /socket.io/?EIO=3&transport=websocket&sid=abc HTTP/1.1"
        ));
        assert!(!is_fresh_eio3_websocket(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1"
        ));
        assert!(!is_fresh_eio3_websocket(
            "GET /socket.io/?EIO=3&transport=polling HTTP/1.1"
        ));
        assert!(!is_fresh_eio3_websocket(
            "POST /socket.io/?EIO=3&transport=websocket HTTP/1.1"
        ));
        assert!(!is_fresh_eio3_websocket("GET /api/x/y HTTP/1.1"));
    }

    #[test]
    fn finds_headers_case_insensitively() {
        let head = "GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nsec-websocket-key: abc==\r\n\r\n";
        assert_eq!(header(head, "upgrade"), Some("WebSocket"));
        assert_eq!(header(head, "Sec-WebSocket-Key"), Some("abc=="));
        assert_eq!(header(head, "origin"), None);
    }
}
