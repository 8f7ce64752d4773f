//! The socket layer against a scripted Engine.IO 3 server: port fallback, client-driven
//! heartbeat and pong timeout.

mod common;

use std::time::Duration;

use common::{bounded, client, options, start_server, wait_for};
use futures_util::{SinkExt as _, StreamExt as _};
use skylink_room::{Event, JoinOptions, RoomError, SocketErrorCode, SocketFallback, SocketServer};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A port nothing listens on.
async fn dead_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// An EIO3 server that opens the session with a short heartbeat, connects `/`, reports every
/// text frame it receives, and never answers pings.
async fn silent_eio_server() -> (u16, mpsc::UnboundedReceiver<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(s).await else {
                    return;
                };
                let open = r#"0{"sid":"fake","upgrades":[],"pingInterval":100,"pingTimeout":150}"#;
                if ws.send(WsMessage::text(open)).await.is_err()
                    || ws.send(WsMessage::text("40")).await.is_err()
                {
                    return;
                }
                while let Some(Ok(m)) = ws.next().await {
                    if let WsMessage::Text(t) = m {
                        let _ = tx.send(t.as_str().to_owned());
                    }
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn falls_back_to_the_next_port_then_pong_timeout_closes_the_channel() {
    let api = start_server(None).await;
    let dead = dead_port().await;
    let (fake, mut frames) = silent_eio_server().await;
    let mut opts = options(api, "app");
    opts.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![dead, fake],
        protocol: None,
    });
    let (c, mut rx) = client(opts);
    let join = tokio::spawn({
        let c = c.clone();
        async move { c.join_room(Some("r"), JoinOptions::default()).await }
    });

    // First instance: 3 attempts on the dead port (2 retries), then CONNECTION_FAILED.
    for n in 1..=2 {
        let attempt = wait_for(&mut rx, "channelRetry", |e| match e {
            Event::ChannelRetry {
                fallback_type: SocketFallback::NonFallback,
                current_attempt,
                ..
            } => Some(*current_attempt),
            _ => None,
        })
        .await;
        assert_eq!(attempt, n);
    }
    wait_for(&mut rx, "CONNECTION_FAILED", |e| {
        matches!(
            e,
            Event::SocketError {
                error_code: SocketErrorCode::ConnectionFailed,
                r#type: SocketFallback::NonFallback,
                ..
            }
        )
        .then_some(())
    })
    .await;
    wait_for(&mut rx, "RECONNECTION_ATTEMPT", |e| {
        matches!(
            e,
            Event::SocketError {
                error_code: SocketErrorCode::ReconnectionAttempt,
                r#type: SocketFallback::FallbackPortNonSsl,
                ..
            }
        )
        .then_some(())
    })
    .await;
    let url = wait_for(&mut rx, "channelOpen on the second port", |e| match e {
        Event::ChannelOpen { session } => Some(session.clone()),
        _ => None,
    })
    .await;
    assert_eq!(url.fallback_type, SocketFallback::FallbackPortNonSsl);
    assert!(url.server_url.contains(&format!(":{fake}/socket.io/")));

    // joinRoom went out as a socket.io message event, then client pings.
    let first = bounded("joinRoom frame", frames.recv()).await.unwrap();
    assert!(
        first.starts_with(r#"42["message","{\"type\":\"joinRoom\""#),
        "{first}"
    );
    let ping = bounded("ping frame", frames.recv()).await.unwrap();
    assert_eq!(ping, "2");

    // No pong: channelError, channelClose, and the pending join fails.
    wait_for(&mut rx, "pong timeout", |e| match e {
        Event::ChannelError { error, .. } if error.contains("pong timeout") => Some(()),
        _ => None,
    })
    .await;
    wait_for(&mut rx, "channelClose", |e| {
        matches!(e, Event::ChannelClose { .. }).then_some(())
    })
    .await;
    let r = bounded("join result", join).await.unwrap();
    assert_eq!(r, Err(RoomError::ClosedBeforeJoin));
}

#[tokio::test]
async fn exhausted_chain_fails_the_join_with_reconnection_aborted() {
    let api = start_server(None).await;
    let dead = dead_port().await;
    let mut opts = options(api, "app");
    opts.reconnection_delay = Duration::from_millis(10);
    opts.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![dead],
        protocol: None,
    });
    let (c, mut rx) = client(opts);
    let err = bounded("join", c.join_room(Some("r"), JoinOptions::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RoomError::Socket {
                code: SocketErrorCode::ReconnectionAborted,
                ..
            }
        ),
        "{err:?}"
    );
    wait_for(&mut rx, "RECONNECTION_ABORTED", |e| {
        matches!(
            e,
            Event::SocketError {
                error_code: SocketErrorCode::ReconnectionAborted,
                ..
            }
        )
        .then_some(())
    })
    .await;
}
