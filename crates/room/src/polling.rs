//! Engine.IO 3 XHR long-polling transport (the `fallbackLongPolling*` instances of the
//! fallback chain, spec §2.3–§2.4), producing the same [`Connection`] as the websocket path.
//!
//! Wire (EIO3 polling, as socket.io-client 1.4.8 speaks it):
//!
//! * handshake: `GET /socket.io/?…&EIO=3&transport=polling&t=…` answers a payload with the
//!   `open` packet; then `GET …&sid=…` long-polls until the socket.io CONNECT (`40`) arrives;
//! * receiving: one outstanding long-poll `GET` at a time, each answer a payload of packets;
//! * sending: `POST …&sid=…` with a payload of every packet queued meanwhile (one `POST` in
//!   flight at a time, so the order is kept);
//! * heartbeat: the client pings (`2`) every `pingInterval` and expects the pong (`3`) through
//!   the long-poll within `pingTimeout`;
//! * close: `POST` of `41` (socket.io DISCONNECT) and `1` (Engine.IO close).
//!
//! Payload framing (pure functions [`encode_payload`], [`decode_payload`]): `<len>:<packet>`
//! repeated, `len` counting JavaScript characters (UTF-16 code units). Like 1.4.8 (whose
//! engine.io-parser UTF-8-encodes payload packets before XHR encodes the text again), outgoing
//! packets are UTF-8-encoded into one character per byte first, and `len` counts those
//! characters; servers (ours included, see the server's `undo_polling_utf8`) undo that layer.
//! Incoming payloads are plain UTF-8 text with UTF-16 lengths (what our server sends); the
//! binary framing (`application/octet-stream`) is also read.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use skylink_sm::frame::encode_eio_message_event;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::api::{HttpClient, http_client};
use crate::eio::{self, EioPacket, Handshake, SioEvent};
use crate::socket::{Connection, SocketIn, SocketOut, TransportError};

/// Errors decoding a polling payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PayloadError {
    /// The text payload is not UTF-8.
    #[error("payload is not UTF-8")]
    NotUtf8,
    /// A length prefix is missing or not a number.
    #[error("bad payload length prefix at byte {0}")]
    BadLength(usize),
    /// A packet is shorter than its length prefix says.
    #[error("payload packet truncated at byte {0}")]
    Truncated(usize),
}

/// Turns a websocket URL of [`eio::websocket_url`] / a string `socketServer` into the
/// long-polling URL socket.io-client builds: `ws` → `http`, `wss` → `https`,
/// `transport=websocket` → `polling` (added when absent).
pub(crate) fn websocket_to_polling(url: &str) -> String {
    let url = if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    };
    if url.contains("transport=websocket") {
        url.replace("transport=websocket", "transport=polling")
    } else if url.contains("transport=polling") {
        url
    } else if url.contains('?') {
        format!("{url}&transport=polling")
    } else {
        format!("{url}?transport=polling")
    }
}

/// UTF-8-encodes `packet` into one character per byte (the 1.4.8 payload layer).
fn utf8_layer(packet: &str) -> String {
    packet.bytes().map(char::from).collect()
}

/// Encodes packets (Engine.IO packet texts such as `42[…]`, `2`) into one text payload:
/// `<len>:<packet>` each, after the 1.4.8 UTF-8 layer (see the module docs).
pub(crate) fn encode_payload<S: AsRef<str>>(packets: &[S]) -> String {
    let mut out = String::new();
    for p in packets {
        let layered = utf8_layer(p.as_ref());
        // Every char of `layered` is ≤ U+00FF: one UTF-16 unit each.
        out.push_str(&layered.chars().count().to_string());
        out.push(':');
        out.push_str(&layered);
    }
    out
}

/// Decodes a payload body into Engine.IO packet texts. `binary` = the response had
/// `Content-Type: application/octet-stream` (EIO3 binary framing; binary packets are skipped).
///
/// # Errors
/// [`PayloadError`] for malformed payloads (never panics).
pub(crate) fn decode_payload(body: &[u8], binary: bool) -> Result<Vec<String>, PayloadError> {
    if binary {
        return decode_binary_payload(body);
    }
    let text = std::str::from_utf8(body).map_err(|_| PayloadError::NotUtf8)?;
    let mut packets = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let at = text.len() - rest.len();
        let (len, after) = rest.split_once(':').ok_or(PayloadError::BadLength(at))?;
        if len.is_empty() || len.len() > 12 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PayloadError::BadLength(at));
        }
        let want: usize = len.parse().map_err(|_| PayloadError::BadLength(at))?;
        let mut units = 0usize;
        let mut end = 0usize;
        for (i, c) in after.char_indices() {
            if units >= want {
                break;
            }
            units += c.len_utf16();
            end = i + c.len_utf8();
        }
        if units != want {
            return Err(PayloadError::Truncated(at));
        }
        packets.push(after[..end].to_owned());
        rest = &after[end..];
    }
    Ok(packets)
}

fn decode_binary_payload(body: &[u8]) -> Result<Vec<String>, PayloadError> {
    let mut packets = Vec::new();
    let mut i = 0usize;
    while i < body.len() {
        let start = i;
        let kind = body[i];
        i += 1;
        let mut len = 0usize;
        let mut digits = 0;
        loop {
            let Some(&b) = body.get(i) else {
                return Err(PayloadError::BadLength(start));
            };
            i += 1;
            if b == 0xff {
                break;
            }
            if b > 9 || digits >= 12 {
                return Err(PayloadError::BadLength(start));
            }
            len = len * 10 + usize::from(b);
            digits += 1;
        }
        if digits == 0 {
            return Err(PayloadError::BadLength(start));
        }
        let data = body
            .get(i..i.saturating_add(len))
            .ok_or(PayloadError::Truncated(start))?;
        i += len;
        if kind == 0 {
            packets.push(
                std::str::from_utf8(data)
                    .map_err(|_| PayloadError::NotUtf8)?
                    .to_owned(),
            );
        }
    }
    Ok(packets)
}

/// A cache-busting `t` value (1.4.8 uses a time-based id).
fn cache_buster() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    format!("{ms}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// One endpoint of a polling session: the HTTP client and the base URL (with `sid` after the
/// handshake).
#[derive(Clone)]
struct Endpoint {
    http: HttpClient,
    base: String,
}

impl Endpoint {
    fn uri(&self) -> Result<http::Uri, TransportError> {
        let url = format!("{}&t={}", self.base, cache_buster());
        url.parse()
            .map_err(|e| TransportError::Network(format!("invalid polling URL {url}: {e}")))
    }

    /// `GET`: the packets of one payload.
    async fn get(&self) -> Result<Vec<String>, TransportError> {
        let req = http::Request::get(self.uri()?)
            .body(Full::new(Bytes::new()))
            .map_err(|e| TransportError::Network(format!("bad request: {e}")))?;
        let (status, binary, body) = self.exchange(req, "xhr poll error").await?;
        if status != 200 {
            return Err(TransportError::Network(format!(
                "xhr poll error: status {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        decode_payload(&body, binary)
            .map_err(|e| TransportError::Handshake(format!("xhr poll error: {e}")))
    }

    /// `POST` of one payload.
    async fn post(&self, payload: String) -> Result<(), TransportError> {
        let req = http::Request::post(self.uri()?)
            .header(http::header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| TransportError::Network(format!("bad request: {e}")))?;
        let (status, _, body) = self.exchange(req, "xhr post error").await?;
        if status != 200 {
            return Err(TransportError::Network(format!(
                "xhr post error: status {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(())
    }

    async fn exchange(
        &self,
        req: http::Request<Full<Bytes>>,
        context: &str,
    ) -> Result<(u16, bool, Bytes), TransportError> {
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| TransportError::from_error(context, &e))?;
        let status = resp.status().as_u16();
        let binary = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| TransportError::from_error(context, &e))?
            .to_bytes();
        Ok((status, binary, body))
    }
}

/// Opens a long-polling session at `url` (`http[s]://…/socket.io/?…EIO=3&transport=polling`):
/// Engine.IO handshake and socket.io CONNECT within `timeout`; `tls` is used for `https`.
pub(crate) async fn connect(
    url: &str,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Connection, TransportError> {
    let mut ep = Endpoint {
        http: http_client(&tls),
        base: url.to_owned(),
    };
    let fut = handshake(&mut ep);
    let (handshake, leftovers) = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| TransportError::Timeout(timeout))??;
    tracing::debug!(
        sid = %handshake.sid,
        ping_interval = handshake.ping_interval_ms,
        "polling socket open"
    );
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(ep, handshake, leftovers, out_rx, in_tx));
    Ok(Connection {
        tx: out_tx,
        rx: in_rx,
        task,
    })
}

/// The Engine.IO handshake (`open`) and the wait for the socket.io CONNECT; adds `sid` to
/// `ep`. Returns the handshake and the packets that followed the CONNECT.
async fn handshake(ep: &mut Endpoint) -> Result<(Handshake, Vec<String>), TransportError> {
    let first = ep.get().await?;
    let mut packets = first.into_iter();
    let handshake = match packets.next().map(|p| eio::decode(&p)) {
        Some(Ok(EioPacket::Open(h))) => h,
        Some(Ok(other)) => {
            return Err(TransportError::Handshake(format!(
                "expected the Engine.IO open packet, got {other:?}"
            )));
        }
        Some(Err(e)) => {
            return Err(TransportError::Handshake(format!("bad open packet: {e}")));
        }
        None => return Err(TransportError::Handshake("empty handshake payload".into())),
    };
    if handshake.sid.is_empty() {
        return Err(TransportError::Handshake("handshake without sid".into()));
    }
    ep.base = format!("{}&sid={}", ep.base, handshake.sid);
    let mut pending: Vec<String> = packets.collect();
    loop {
        let mut connected = None;
        for (i, p) in pending.iter().enumerate() {
            match eio::decode(p) {
                Ok(EioPacket::Socket(SioEvent::Connect)) => {
                    connected = Some(i);
                    break;
                }
                Ok(EioPacket::Close) | Ok(EioPacket::Socket(SioEvent::Disconnect)) => {
                    return Err(TransportError::Handshake(
                        "server closed during handshake".into(),
                    ));
                }
                _ => {}
            }
        }
        if let Some(i) = connected {
            let rest = pending.split_off(i + 1);
            return Ok((handshake, rest));
        }
        pending = ep.get().await?;
    }
}

type PostFuture = Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send>>;

/// The long-poll loop: forwards every `GET` answer until an error or the task is aborted.
async fn poll_loop(
    ep: Endpoint,
    limit: Duration,
    tx: mpsc::UnboundedSender<Result<Vec<String>, TransportError>>,
) {
    loop {
        let res = match tokio::time::timeout(limit, ep.get()).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Network(format!(
                "xhr poll error: no answer within {limit:?}"
            ))),
        };
        let stop = match &res {
            Err(_) => true,
            // Our server answers an empty payload once the session is closed.
            Ok(p) => p.is_empty(),
        };
        if tx.send(res).is_err() || stop {
            return;
        }
    }
}

async fn run(
    ep: Endpoint,
    handshake: Handshake,
    leftovers: Vec<String>,
    mut out_rx: mpsc::UnboundedReceiver<SocketOut>,
    in_tx: mpsc::UnboundedSender<SocketIn>,
) {
    let interval = Duration::from_millis(handshake.ping_interval_ms.max(1));
    let pong_timeout = Duration::from_millis(handshake.ping_timeout_ms.max(1));
    let (poll_tx, mut poll_rx) = mpsc::unbounded_channel();
    // A long-poll answers at the latest with the pong of the next ping.
    let poller = tokio::spawn(poll_loop(ep.clone(), interval + pong_timeout, poll_tx));
    let mut next_ping = Instant::now() + interval;
    let mut pong_deadline: Option<Instant> = None;
    let mut queue: Vec<String> = Vec::new();
    let mut in_flight: Option<PostFuture> = None;
    let report = |m: SocketIn| {
        let _ = in_tx.send(m);
    };
    // Handles one incoming packet; `Some(result)` ends the session.
    let handle = |p: &str,
                  queue: &mut Vec<String>,
                  pong_deadline: &mut Option<Instant>|
     -> Option<Option<String>> {
        match eio::decode(p) {
            Ok(EioPacket::Pong(_)) => *pong_deadline = None,
            Ok(EioPacket::Ping(data)) => queue.push(format!("{}{data}", eio::PONG)),
            Ok(EioPacket::Socket(SioEvent::Message(json))) => report(SocketIn::Message(json)),
            Ok(EioPacket::Socket(SioEvent::Disconnect)) | Ok(EioPacket::Close) => {
                return Some(None);
            }
            Ok(EioPacket::Socket(SioEvent::Error(e))) => {
                report(SocketIn::Error(format!("socket.io error packet: {e}")));
            }
            Ok(_) => {}
            Err(e) => report(SocketIn::Error(format!("bad packet: {e}"))),
        }
        None
    };
    let mut ended: Option<Option<String>> = None;
    for p in &leftovers {
        if let Some(end) = handle(p, &mut queue, &mut pong_deadline) {
            ended = Some(end);
            break;
        }
    }
    let error: Option<String> = loop {
        if let Some(end) = ended.take() {
            break end;
        }
        if in_flight.is_none() && !queue.is_empty() {
            let payload = encode_payload(&std::mem::take(&mut queue));
            let ep = ep.clone();
            in_flight = Some(Box::pin(async move { ep.post(payload).await }));
        }
        let deadline = pong_deadline.map_or(next_ping, |d| d.min(next_ping));
        tokio::select! {
            biased;
            cmd = out_rx.recv() => match cmd {
                Some(SocketOut::Send(json)) => queue.push(encode_eio_message_event(&json)),
                Some(SocketOut::Close) | None => {
                    // Let a POST in flight finish first so nothing queued is reordered.
                    let close = async {
                        if let Some(f) = in_flight.take() {
                            let _ = f.await;
                        }
                        queue.push(eio::SIO_DISCONNECT.to_owned());
                        queue.push("1".to_owned());
                        let _ = ep.post(encode_payload(&queue)).await;
                    };
                    let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
                    poller.abort();
                    // Engine-initiated: nothing more to report.
                    return;
                }
            },
            res = async {
                match in_flight.as_mut() {
                    Some(f) => f.await,
                    None => std::future::pending().await,
                }
            } => {
                in_flight = None;
                if let Err(e) = res {
                    break Some(e.to_string());
                }
            }
            got = poll_rx.recv() => match got {
                Some(Ok(packets)) if packets.is_empty() => break None,
                Some(Ok(packets)) => {
                    for p in &packets {
                        if let Some(end) = handle(p, &mut queue, &mut pong_deadline) {
                            ended = Some(end);
                            break;
                        }
                    }
                }
                Some(Err(e)) => break Some(e.to_string()),
                None => break Some("xhr poll error: poller ended".to_owned()),
            },
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                if pong_deadline.is_some_and(|d| now >= d) {
                    break Some("pong timeout".to_owned());
                }
                if now >= next_ping {
                    queue.push(eio::PING.to_owned());
                    if pong_deadline.is_none() {
                        pong_deadline = Some(now + pong_timeout);
                    }
                    next_ping = now + interval;
                }
            }
        }
    };
    poller.abort();
    if let Some(e) = &error {
        tracing::debug!(error = %e, "polling socket ended with an error");
        report(SocketIn::Error(e.clone()));
    }
    report(SocketIn::Closed { error });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip_with_the_utf8_layer() {
        let text = "42[\"message\",\"héllo ✓ 日本 🎉 \\\"q\\\" \\\\ \u{2028}\"]";
        let payload = encode_payload(&["2", text]);
        assert!(payload.starts_with("1:2"));
        // The layer: one char per UTF-8 byte, the length counts them.
        let layered: String = text.bytes().map(char::from).collect();
        assert_eq!(payload, format!("1:2{}:{layered}", text.len()));
        let back = decode_payload(payload.as_bytes(), false).unwrap();
        assert_eq!(back[0], "2");
        let undone = String::from_utf8(back[1].chars().map(|c| c as u32 as u8).collect()).unwrap();
        assert_eq!(undone, text);
    }

    #[test]
    fn decodes_utf16_lengths_as_our_server_sends() {
        // "4𝕊" is 3 UTF-16 units; "é" one.
        let body = "3:4𝕊2:4é1:6";
        assert_eq!(
            decode_payload(body.as_bytes(), false).unwrap(),
            vec!["4𝕊", "4é", "6"]
        );
        assert_eq!(decode_payload(b"", false).unwrap(), Vec::<String>::new());
        assert!(matches!(
            decode_payload(b"5:ab", false),
            Err(PayloadError::Truncated(0))
        ));
        assert!(matches!(
            decode_payload(b"x:ab", false),
            Err(PayloadError::BadLength(0))
        ));
        assert!(matches!(
            decode_payload(b"2", false),
            Err(PayloadError::BadLength(0))
        ));
        assert!(decode_payload(&[0xff, b':'], false).is_err());
        // A surrogate pair cannot be split by a length.
        assert!(decode_payload("2:𝕊".as_bytes(), false).is_ok());
        assert!(decode_payload("1:𝕊".as_bytes(), false).is_err());
    }

    #[test]
    fn decodes_binary_framing() {
        let mut body = vec![0u8, 2, 0xff];
        body.extend_from_slice(b"40");
        body.extend_from_slice(&[1, 3, 0xff, 4, 1, 2]);
        body.extend_from_slice(&[0, 3, 0xff]);
        body.extend_from_slice("4é".as_bytes());
        assert_eq!(decode_payload(&body, true).unwrap(), vec!["40", "4é"]);
        assert!(decode_payload(&[0, 9, 0xff, b'a'], true).is_err());
        assert!(decode_payload(&[0, 12], true).is_err());
        assert!(decode_payload(&[0, 0xff], true).is_err());
    }

    #[test]
    fn polling_urls() {
        assert_eq!(
            websocket_to_polling(&eio::websocket_url(
                true,
                "sig.example.com",
                443,
                Some("17")
            )),
            "https://sig.example.com/socket.io/?rand=17&EIO=3&transport=polling"
        );
        assert_eq!(
            websocket_to_polling(&eio::websocket_url(false, "127.0.0.1", 8018, None)),
            "http://127.0.0.1:8018/socket.io/?EIO=3&transport=polling"
        );
        assert_eq!(
            websocket_to_polling("ws://h:1/socket.io/?EIO=3"),
            "http://h:1/socket.io/?EIO=3&transport=polling"
        );
    }

    /// Raw non-ASCII text (not `\u` escaped, as 1.4.8 sends it) through the UTF-8 payload
    /// layer of [`encode_payload`] into the real server, which must undo the layer: the
    /// `enter` user data reaches a websocket client intact.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raw_non_ascii_round_trips_through_our_server() {
        use crate::session::{LocalConfig, Output, PriorityWeightScheme, Session};
        use crate::{Client, Event, InitOptions, JoinOptions};
        // Latin-1 only and valid UTF-8 when read as bytes: sent without the layer, the server
        // would turn "Ã©" into "é"; with it, the text survives. (Wider text: tests/transport.rs.)
        const TEXT: &str = "Ã©Ã¼ \"q\" \\ Ã¤";
        let wait = Duration::from_secs(10);

        let mut config = skylink_server::Config::default();
        config.server.port = 0;
        let server = skylink_server::Server::bind(config).await.expect("bind");
        let addr = server.local_addr();
        tokio::spawn(server.run_until(std::future::pending()));
        let mut opts = InitOptions::new("app");
        opts.room_server = format!("//{addr}");
        opts.force_ssl = false;
        opts.udp_addrs = vec!["127.0.0.1:0".to_owned()];

        let w = Client::new(opts.clone());
        let mut w_rx = w.subscribe();
        tokio::time::timeout(wait, w.join_room(Some("raw"), JoinOptions::default()))
            .await
            .expect("in time")
            .expect("W joined");

        let api = crate::api::fetch_room(&opts, "raw").await.expect("api");
        let mut session = Session::new(
            LocalConfig {
                app_key: "app".into(),
                room: "raw".into(),
                enable_ice_trickle: true,
                enable_data_channel: true,
                enable_ice_restart: true,
                priority_weight_scheme: PriorityWeightScheme::Auto,
                user_data: serde_json::json!(TEXT),
                instance: None,
                publish_only: false,
                parent_id: None,
                receiving: Default::default(),
            },
            &api,
        );
        let tls = crate::api::tls_client_config(&[]).expect("tls");
        let mut ep = Endpoint {
            http: http_client(&tls),
            base: format!("http://{addr}/socket.io/?EIO=3&transport=polling"),
        };
        let (_, _) = tokio::time::timeout(wait, handshake(&mut ep))
            .await
            .expect("in time")
            .expect("handshake");
        // `42["message","<json>"]` with the JSON string kept raw (serde_json escapes no
        // non-ASCII character).
        let raw = |json: &str| {
            format!(
                "42[\"message\",{}]",
                serde_json::to_string(json).expect("json")
            )
        };
        let join = raw(&session.join_room_json());
        ep.post(encode_payload(&[join])).await.expect("post join");
        let joined = async {
            loop {
                for p in ep.get().await.expect("poll") {
                    let Ok(EioPacket::Socket(SioEvent::Message(json))) = eio::decode(&p) else {
                        continue;
                    };
                    let out = session.handle_text(&json, std::time::Instant::now());
                    let mut joined = false;
                    for o in out {
                        match o {
                            Output::Transmit(json) => {
                                ep.post(encode_payload(&[raw(&json)])).await.expect("post");
                            }
                            Output::Joined(_) => joined = true,
                            _ => {}
                        }
                    }
                    if joined {
                        return;
                    }
                }
            }
        };
        tokio::time::timeout(wait, joined)
            .await
            .expect("inRoom in time");
        let me = session.self_id().expect("joined").to_owned();
        let seen = async {
            loop {
                match w_rx.recv().await {
                    Ok(Event::PeerJoined {
                        peer_id, peer_info, ..
                    }) if peer_id == me => return peer_info.user_data,
                    Ok(_) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let data = tokio::time::timeout(wait, seen)
            .await
            .expect("W sees the raw peer");
        assert_eq!(data, serde_json::json!(TEXT));
    }
}
