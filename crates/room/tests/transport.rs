//! Transports against the real in-process server: XHR long-polling (reached through the
//! fallback chain), and TLS (https room API + wss / https long-polling) with a self-signed
//! certificate trusted through `InitOptions::extra_root_certs`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{bounded, client, options, start_server, wait_for};
use serde_json::{Value, json};
use skylink_room::{
    Client, Event, InitOptions, JoinOptions, ReadyState, RoomError, SocketErrorCode,
    SocketFallback, SocketServer,
};
use skylink_server::{Config, TlsConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::broadcast;

/// Every kind of text the JSON/payload layers could get wrong.
const TEXT: &str = "héllo ✓ 日本 🎉 \"q\" \\ \u{2028}";

/// A loopback TCP proxy that refuses websocket requests (`transport=websocket`) and forwards
/// everything else: a network where only long-polling gets through.
async fn no_websocket_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match inbound.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if String::from_utf8_lossy(&head).contains("transport=websocket") {
                    return; // dropped: the websocket attempt fails at once
                }
                let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                if outbound.write_all(&head).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    addr
}

/// Waits for an `incomingMessage` from someone else and returns (content, private, sender).
async fn incoming(rx: &mut broadcast::Receiver<Event>, what: &str) -> (Value, bool, String) {
    wait_for(rx, what, |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => Some((
            message.content.clone(),
            message.is_private,
            message.sender_peer_id.clone(),
        )),
        _ => None,
    })
    .await
}

async fn sees_peer(rx: &mut broadcast::Receiver<Event>, what: &str, id: &str) {
    let id = id.to_owned();
    wait_for(rx, what, move |e| match e {
        Event::PeerJoined {
            peer_id,
            is_self: false,
            ..
        } if *peer_id == id => Some(()),
        _ => None,
    })
    .await;
}

/// Public and private messages both ways between two joined clients.
async fn exchange(
    (a, a_rx, a_id): (&Client, &mut broadcast::Receiver<Event>, &str),
    (b, b_rx, b_id): (&Client, &mut broadcast::Receiver<Event>, &str),
) {
    a.send_message(json!(TEXT), None).await.expect("A public");
    assert_eq!(
        incoming(b_rx, "public A→B").await,
        (json!(TEXT), false, a_id.to_owned())
    );
    b.send_message(json!(TEXT), None).await.expect("B public");
    assert_eq!(
        incoming(a_rx, "public B→A").await,
        (json!(TEXT), false, b_id.to_owned())
    );
    let obj = json!({"t": TEXT, "n": [1, "ß"]});
    a.send_message(obj.clone(), Some(vec![b_id.to_owned()]))
        .await
        .expect("A private");
    assert_eq!(
        incoming(b_rx, "private A→B").await,
        (obj.clone(), true, a_id.to_owned())
    );
    b.send_message(obj.clone(), Some(vec![a_id.to_owned()]))
        .await
        .expect("B private");
    assert_eq!(
        incoming(a_rx, "private B→A").await,
        (obj, true, b_id.to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_fallback_joins_and_talks_to_a_websocket_client() {
    let addr = start_server(None).await;
    let proxy = no_websocket_proxy(addr).await;

    // P: the socket goes through the proxy, so every websocket attempt fails and the chain
    // falls back to long-polling on the same port.
    let mut p_opts = options(addr, "app");
    p_opts.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![proxy.port()],
        protocol: Some("http:".into()),
    });
    let (p, mut p_rx) = client(p_opts);
    let (w, mut w_rx) = client(options(addr, "app"));

    let p_id = bounded(
        "P joins",
        p.join_room(Some("poll-room"), JoinOptions::default()),
    )
    .await
    .expect("P joined over polling");
    wait_for(&mut p_rx, "websocket instance failed", |e| match e {
        Event::SocketError {
            error_code: SocketErrorCode::ConnectionFailed,
            r#type: SocketFallback::NonFallback,
            session,
            ..
        } => {
            assert_eq!(session.transport_type, "WebSocket");
            Some(())
        }
        _ => None,
    })
    .await;
    wait_for(&mut p_rx, "polling instance starts", |e| match e {
        Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAttempt,
            r#type: SocketFallback::LongPollingNonSsl,
            session,
            ..
        } => {
            assert_eq!(session.transport_type, "Polling");
            Some(())
        }
        _ => None,
    })
    .await;
    let session = wait_for(&mut p_rx, "channelOpen", |e| match e {
        Event::ChannelOpen { session } => Some(session.clone()),
        _ => None,
    })
    .await;
    assert_eq!(session.transport_type, "Polling");
    assert_eq!(session.fallback_type, SocketFallback::LongPollingNonSsl);
    assert!(
        session
            .server_url
            .starts_with(&format!("http://127.0.0.1:{}/socket.io/?", proxy.port()))
            && session.server_url.contains("transport=polling"),
        "{}",
        session.server_url
    );

    let w_id = bounded(
        "W joins",
        w.join_room(Some("poll-room"), JoinOptions::default()),
    )
    .await
    .expect("W joined over websocket");
    sees_peer(&mut p_rx, "P sees W", &w_id).await;
    sees_peer(&mut w_rx, "W sees P", &p_id).await;

    exchange((&p, &mut p_rx, &p_id), (&w, &mut w_rx, &w_id)).await;

    // A burst from the polling side arrives complete and in order (batched POSTs).
    for i in 0..20 {
        p.send_message(json!({"i": i, "t": TEXT}), Some(vec![w_id.clone()]))
            .await
            .expect("burst");
    }
    for i in 0..20 {
        let (content, _, _) = incoming(&mut w_rx, "burst at W").await;
        assert_eq!(content, json!({"i": i, "t": TEXT}));
    }

    bounded("P leaves", p.leave_room()).await.expect("left");
    let gone = p_id.clone();
    wait_for(&mut w_rx, "W sees P leave", move |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == gone => Some(()),
        _ => None,
    })
    .await;
    bounded("W leaves", w.leave_room()).await.expect("left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_heartbeat_keeps_the_session_alive() {
    // A 150 ms ping interval: over ~1.2 s the polling client pings (POST) and receives the
    // pongs through the long-poll many times; the session must stay up and usable.
    let mut config = Config::default();
    config.server.ping_interval_ms = 150;
    config.server.ping_timeout_ms = 400;
    let addr = start_server(Some(config)).await;
    let proxy = no_websocket_proxy(addr).await;
    let mut p_opts = options(addr, "app");
    p_opts.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![proxy.port()],
        protocol: Some("http:".into()),
    });
    let (p, mut p_rx) = client(p_opts);
    let (w, mut w_rx) = client(options(addr, "app"));
    let p_id = bounded("P joins", p.join_room(Some("hb"), JoinOptions::default()))
        .await
        .expect("P joined");
    let w_id = bounded("W joins", w.join_room(Some("hb"), JoinOptions::default()))
        .await
        .expect("W joined");
    sees_peer(&mut p_rx, "P sees W", &w_id).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Nothing closed meanwhile.
    while let Ok(ev) = p_rx.try_recv() {
        assert!(
            !matches!(
                ev,
                Event::ChannelClose { .. }
                    | Event::SessionDisconnect { .. }
                    | Event::ChannelError { .. }
            ),
            "{ev:?}"
        );
    }
    exchange((&p, &mut p_rx, &p_id), (&w, &mut w_rx, &w_id)).await;
    bounded("P leaves", p.leave_room()).await.expect("left");
    bounded("W leaves", w.leave_room()).await.expect("left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_chain_exhausted_when_nothing_listens() {
    // A closed port: every websocket and polling instance fails, then RECONNECTION_ABORTED.
    let addr = start_server(None).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut o = options(addr, "app");
    o.socket_timeout = Duration::from_millis(500);
    o.reconnection_delay = Duration::from_millis(1);
    o.reconnection_delay_max = Duration::from_millis(2);
    o.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![closed],
        protocol: None,
    });
    let (c, mut rx) = client(o);
    let err = bounded("join fails", c.join_room(Some("r"), JoinOptions::default()))
        .await
        .expect_err("no socket");
    assert!(matches!(
        err,
        RoomError::Socket {
            code: SocketErrorCode::ReconnectionAborted,
            ..
        }
    ));
    let mut polling_instances = 0;
    let aborted = wait_for(&mut rx, "aborted", |e| match e {
        Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAttempt,
            session,
            ..
        } => {
            assert_eq!(session.transport_type, "Polling");
            polling_instances += 1;
            None
        }
        Event::SocketError {
            error_code: SocketErrorCode::ReconnectionAborted,
            session,
            ..
        } => Some(session.clone()),
        _ => None,
    })
    .await;
    assert_eq!(aborted.transport_type, "Polling");
    // One port: websocket, then polling + 2 final polling instances.
    assert_eq!(polling_instances, 3);
}

/// A TLS server with a fresh self-signed certificate for 127.0.0.1/localhost; returns its
/// address and the certificate (PEM).
async fn start_tls_server(tag: &str) -> (SocketAddr, String, std::path::PathBuf) {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("cert");
    let dir = std::env::temp_dir().join(format!("skylink-room-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
    let mut config = Config::default();
    config.server.tls = Some(TlsConfig {
        cert: cert_path,
        key: key_path,
    });
    let addr = start_server(Some(config)).await;
    (addr, cert.cert.pem(), dir)
}

fn tls_options(addr: SocketAddr, root: Option<&[u8]>) -> InitOptions {
    let mut o = options(addr, "app");
    o.force_ssl = true;
    o.room_server = format!("//127.0.0.1:{}", addr.port());
    if let Some(root) = root {
        o.extra_root_certs = vec![root.to_vec()];
    }
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_extra_root_over_wss_and_https_polling() {
    let (addr, pem, dir) = start_tls_server("ok").await;

    // A: https room API + wss.
    let (a, mut a_rx) = client(tls_options(addr, Some(pem.as_bytes())));
    // B: https room API + https long-polling (a string socketServer naming polling: the
    // websocket instance fails, the polling instances use the URL as given).
    let mut b_opts = tls_options(addr, Some(pem.as_bytes()));
    b_opts.socket_server = Some(SocketServer::Url(format!(
        "https://127.0.0.1:{}/socket.io/?EIO=3&transport=polling",
        addr.port()
    )));
    let (b, mut b_rx) = client(b_opts);

    let a_id = bounded(
        "A joins",
        a.join_room(Some("tls-room"), JoinOptions::default()),
    )
    .await
    .expect("A joined over wss");
    let a_session = wait_for(&mut a_rx, "A channelOpen", |e| match e {
        Event::ChannelOpen { session } => Some(session.clone()),
        _ => None,
    })
    .await;
    assert_eq!(a_session.transport_type, "WebSocket");
    assert!(
        a_session.server_url.starts_with("wss://127.0.0.1:"),
        "{}",
        a_session.server_url
    );

    let b_id = bounded(
        "B joins",
        b.join_room(Some("tls-room"), JoinOptions::default()),
    )
    .await
    .expect("B joined over https polling");
    let b_session = wait_for(&mut b_rx, "B channelOpen", |e| match e {
        Event::ChannelOpen { session } => Some(session.clone()),
        _ => None,
    })
    .await;
    assert_eq!(b_session.transport_type, "Polling");
    assert!(
        b_session.server_url.starts_with("https://127.0.0.1:"),
        "{}",
        b_session.server_url
    );

    sees_peer(&mut a_rx, "A sees B", &b_id).await;
    sees_peer(&mut b_rx, "B sees A", &a_id).await;
    exchange((&a, &mut a_rx, &a_id), (&b, &mut b_rx, &b_id)).await;

    bounded("B leaves", b.leave_room()).await.expect("left");
    bounded("A leaves", a.leave_room()).await.expect("left");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_without_the_root_fails_with_a_typed_error() {
    let (addr, pem, dir) = start_tls_server("untrusted").await;

    // Untrusted self-signed certificate: init() fails with readyStateChange(ERROR).
    let (c, mut rx) = client(tls_options(addr, None));
    let err = bounded("init fails", c.init())
        .await
        .expect_err("untrusted");
    let RoomError::Init(e) = err else {
        panic!("expected RoomError::Init, got {err:?}");
    };
    assert_eq!((e.status, e.error_code), (0, Some(-1)));
    assert!(e.content.contains("TLS failure"), "{}", e.content);
    let ev = wait_for(&mut rx, "readyStateChange(ERROR)", |e| match e {
        Event::ReadyStateChange {
            ready_state: ReadyState::Error,
            error: Some(err),
            ..
        } => Some(err.clone()),
        _ => None,
    })
    .await;
    assert_eq!(ev, e);

    // A garbage extra root is a typed init error too (nothing is sent).
    let (c, _rx) = client(tls_options(
        addr,
        Some(b"-----BEGIN CERTIFICATE-----\nnope\n"),
    ));
    let err = bounded("init fails", c.init()).await.expect_err("bad root");
    assert!(
        matches!(&err, RoomError::Init(e) if e.content.contains("extra root certificate #0")),
        "{err:?}"
    );

    // The socket path: the API trusts the root, but the socketServer is another TLS server
    // whose (self-signed) certificate is not trusted: the wss and https-polling handshakes fail.
    let (other, _, other_dir) = start_tls_server("other").await;
    let mut o = tls_options(addr, Some(pem.as_bytes()));
    o.reconnection_delay = Duration::from_millis(1);
    o.reconnection_delay_max = Duration::from_millis(2);
    o.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![other.port()],
        protocol: Some("https:".into()),
    });
    let (c, mut rx) = client(o);
    let err = bounded("join fails", c.join_room(Some("r"), JoinOptions::default()))
        .await
        .expect_err("name mismatch");
    let RoomError::Socket { code, reason } = err else {
        panic!("expected RoomError::Socket, got {err:?}");
    };
    assert_eq!(code, SocketErrorCode::ReconnectionAborted);
    assert!(reason.contains("TLS failure"), "{reason}");
    let first = wait_for(&mut rx, "first socketError", |e| match e {
        Event::SocketError {
            error_code: SocketErrorCode::ConnectionFailed,
            error,
            ..
        } => Some(error.clone()),
        _ => None,
    })
    .await;
    assert!(first.contains("TLS failure"), "{first}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}
