//! One Engine.IO 3 websocket connection (thin I/O around [`crate::eio`]): handshake, wait for
//! the socket.io CONNECT (`40`), client-driven heartbeat, ordered outgoing frames.

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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `url` (a `ws://…/socket.io/?…EIO=3&transport=websocket` URL) and completes the
/// Engine.IO handshake and socket.io CONNECT within `timeout`.
pub(crate) async fn connect(url: &str, timeout: Duration) -> Result<Connection, String> {
    let fut = async {
        let (mut ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("websocket connect failed: {e}"))?;
        let mut handshake: Option<Handshake> = None;
        loop {
            let Some(frame) = ws.next().await else {
                return Err("closed during handshake".to_owned());
            };
            let frame = frame.map_err(|e| format!("websocket error during handshake: {e}"))?;
            let WsMessage::Text(text) = frame else {
                continue;
            };
            match eio::decode(text.as_str()) {
                Ok(EioPacket::Open(h)) => handshake = Some(h),
                Ok(EioPacket::Socket(SioEvent::Connect)) => {
                    let h = handshake.ok_or("socket.io CONNECT before Engine.IO open")?;
                    return Ok((ws, h));
                }
                Ok(EioPacket::Close) | Ok(EioPacket::Socket(SioEvent::Disconnect)) => {
                    return Err("server closed during handshake".to_owned());
                }
                Ok(_) => {}
                Err(e) => return Err(format!("bad handshake frame: {e}")),
            }
        }
    };
    let (ws, handshake) = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| format!("timed out after {timeout:?}"))??;
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
