//! One Engine.IO 3 websocket connection (thin I/O around [`crate::eio`]): handshake, wait for
//! the socket.io CONNECT (`40`), client-driven heartbeat, ordered outgoing frames. `wss://`
//! URLs use rustls with the configuration of [`crate::api::tls_client_config`].
//!
//! The long-polling transport ([`crate::polling`]) produces the same [`Connection`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use skylink_sm::frame::encode_eio_message_event;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::eio::{self, EioPacket, Handshake, SioEvent};

/// What the connection task reports to the engine.
#[derive(Debug)]
pub(crate) enum SocketIn {
    /// A signaling message (JSON text).
    Message(String),
    /// A non-fatal problem (bad frame…), reported as `channelError`.
    Error(String),
    /// The connection ended. `error` is set when it ended abnormally (pong timeout…).
    Closed { error: Option<String> },
}

/// What the engine asks of the connection task.
#[derive(Debug)]
pub(crate) enum SocketOut {
    /// Send a signaling message (JSON text).
    Send(String),
    /// Disconnect the namespace (`41`) and close the transport.
    Close,
}

/// An open, connected socket: an ordered outgoing queue and the incoming stream.
pub(crate) struct Connection {
    pub tx: mpsc::UnboundedSender<SocketOut>,
    pub rx: mpsc::UnboundedReceiver<SocketIn>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Connection {
    /// Asks for a clean close and waits (bounded) for the task to end.
    pub async fn close(self) {
        let _ = self.tx.send(SocketOut::Close);
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Why a connection attempt (websocket or long-polling) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TransportError {
    /// TLS setup, handshake or certificate verification failed.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// TCP/HTTP/websocket-level failure (refused, reset, bad status…).
    #[error("{0}")]
    Network(String),
    /// The server ended or garbled the Engine.IO/socket.io handshake.
    #[error("{0}")]
    Handshake(String),
    /// The attempt did not complete within the socket timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

impl TransportError {
    /// A network error, classified as [`TransportError::Tls`] when TLS is in its chain.
    pub(crate) fn from_error(context: &str, e: &(dyn std::error::Error + 'static)) -> Self {
        let (text, tls) = crate::api::describe_error(e);
        if tls {
            // `describe_error` already prefixed the text with "TLS failure".
            let text = text.strip_prefix("TLS failure: ").unwrap_or(&text);
            TransportError::Tls(format!("{context}: {text}"))
        } else {
            TransportError::Network(format!("{context}: {text}"))
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `url` (a `ws[s]://…/socket.io/?…EIO=3&transport=websocket` URL) and completes
/// the Engine.IO handshake and socket.io CONNECT within `timeout`; `tls` is used for `wss`.
pub(crate) async fn connect(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let fut = async {
        let connector = if url.starts_with("wss:") {
            tokio_tungstenite::Connector::Rustls(tls)
        } else {
            tokio_tungstenite::Connector::Plain
        };
        let (mut ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(url, None, true, Some(connector))
                .await
                .map_err(|e| TransportError::from_error("websocket connect failed", &e))?;
        let mut handshake: Option<Handshake> = None;
        loop {
            let Some(frame) = ws.next().await else {
                return Err(TransportError::Handshake("closed during handshake".into()));
            };
            let frame = frame
                .map_err(|e| TransportError::from_error("websocket error during handshake", &e))?;
            let WsMessage::Text(text) = frame else {
                continue;
            };
            match eio::decode(text.as_str()) {
                Ok(EioPacket::Open(h)) => handshake = Some(h),
                Ok(EioPacket::Socket(SioEvent::Connect)) => {
                    let h = handshake.ok_or_else(|| {
                        TransportError::Handshake("socket.io CONNECT before Engine.IO open".into())
                    })?;
                    return Ok((ws, h));
                }
                Ok(EioPacket::Close) | Ok(EioPacket::Socket(SioEvent::Disconnect)) => {
                    return Err(TransportError::Handshake(
                        "server closed during handshake".into(),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(TransportError::Handshake(format!(
                        "bad handshake frame: {e}"
                    )));
                }
            }
        }
    };
    let (ws, handshake) = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| TransportError::Timeout(timeout))??;
    tracing::debug!(sid = %handshake.sid, ping_interval = handshake.ping_interval_ms, "socket open");
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(ws, handshake, out_rx, in_tx));
    Ok(Connection {
        tx: out_tx,
        rx: in_rx,
        task,
    })
}

async fn run(
    mut ws: Ws,
    handshake: Handshake,
    mut out_rx: mpsc::UnboundedReceiver<SocketOut>,
    in_tx: mpsc::UnboundedSender<SocketIn>,
) {
    let interval = Duration::from_millis(handshake.ping_interval_ms.max(1));
    let pong_timeout = Duration::from_millis(handshake.ping_timeout_ms.max(1));
    let mut next_ping = Instant::now() + interval;
    let mut pong_deadline: Option<Instant> = None;
    let report = |m: SocketIn| {
        let _ = in_tx.send(m);
    };
    let error: Option<String> = loop {
        let deadline = pong_deadline.map_or(next_ping, |d| d.min(next_ping));
        tokio::select! {
            biased;
            cmd = out_rx.recv() => match cmd {
                Some(SocketOut::Send(json)) => {
                    let frame = encode_eio_message_event(&json);
                    if let Err(e) = ws.send(WsMessage::text(frame)).await {
                        break Some(format!("send failed: {e}"));
                    }
                }
                Some(SocketOut::Close) | None => {
                    let _ = ws.send(WsMessage::text(eio::SIO_DISCONNECT)).await;
                    let _ = ws.close(None).await;
                    // Engine-initiated: nothing more to report.
                    return;
                }
            },
            frame = ws.next() => match frame {
                None => break None,
                Some(Err(e)) => break Some(format!("websocket error: {e}")),
                Some(Ok(WsMessage::Text(text))) => match eio::decode(text.as_str()) {
                    Ok(EioPacket::Pong(_)) => pong_deadline = None,
                    Ok(EioPacket::Ping(data)) => {
                        let _ = ws.send(WsMessage::text(format!("{}{data}", eio::PONG))).await;
                    }
                    Ok(EioPacket::Socket(SioEvent::Message(json))) => report(SocketIn::Message(json)),
                    Ok(EioPacket::Socket(SioEvent::Disconnect)) | Ok(EioPacket::Close) => break None,
                    Ok(EioPacket::Socket(SioEvent::Error(e))) => {
                        report(SocketIn::Error(format!("socket.io error packet: {e}")));
                    }
                    Ok(_) => {}
                    Err(e) => report(SocketIn::Error(format!("bad frame: {e}"))),
                },
                Some(Ok(WsMessage::Close(_))) => break None,
                Some(Ok(_)) => {}
            },
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                if pong_deadline.is_some_and(|d| now >= d) {
                    break Some("pong timeout".to_owned());
                }
                if now >= next_ping {
                    if let Err(e) = ws.send(WsMessage::text(eio::PING)).await {
                        break Some(format!("ping failed: {e}"));
                    }
                    if pong_deadline.is_none() {
                        pong_deadline = Some(now + pong_timeout);
                    }
                    next_ping = now + interval;
                }
            }
        }
    };
    if let Some(e) = &error {
        tracing::debug!(error = %e, "socket ended with an error");
        report(SocketIn::Error(e.clone()));
    }
    report(SocketIn::Closed { error });
}
