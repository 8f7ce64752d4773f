//! The real server on a loopback port, driven by Engine.IO 3 clients written here the way
//! socket.io-client 1.4.8 behaves: websocket, and long-polling with its double UTF-8 encoding.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use skylink_server::{Config, Server};
use skylink_sm::frame::{SioPacket, encode_message_event, message_payload, parse_packet};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const WAIT: Duration = Duration::from_secs(10);

async fn start() -> (SocketAddr, skylink_server::state::AppState) {
    let mut config = Config::default();
    config.server.port = 0;
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr();
    let state = server.state();
    tokio::spawn(server.run_until(std::future::pending()));
    (addr, state)
}

/// Minimal HTTP/1.1 exchange (loopback only). Returns (status, body bytes).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut buf))
        .await
        .expect("http response in time")
        .expect("read");
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut body = buf[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(pos) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..pos]).unwrap_or("0").trim(), 16)
                .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[pos + 2..pos + 2 + size]);
        data = &data[pos + 2 + size + 2..];
    }
}

async fn api(addr: SocketAddr, room: &str) -> Value {
    let (status, body) = http(addr, "GET", &format!("/api/test-key/{room}?rand=1"), b"").await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("API JSON")
}

fn join_message(api: &Value) -> String {
    json!({
        "type": "joinRoom", "uid": api["username"], "cid": api["cid"], "rid": api["room_key"],
        "userCred": api["userCred"], "timeStamp": api["timeStamp"], "apiOwner": api["apiOwner"],
        "roomCred": api["roomCred"], "start": api["start"], "len": api["len"],
        "isPrivileged": api["isPrivileged"], "autoIntroduce": api["autoIntroduce"], "key": "test-key"
    })
    .to_string()
}

fn decode_event(packet: &str) -> Option<Value> {
    let Ok(SioPacket::Event { data, .. }) = parse_packet(packet) else {
        return None;
    };
    let json = message_payload(data).ok()?;
    serde_json::from_str(&json).ok()
}

struct Ws {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    peer: String,
    rid: String,
}

impl Ws {
    async fn join(addr: SocketAddr, room: &str) -> Ws {
        let api = api(addr, room).await;
        let url = format!("ws://{addr}/socket.io/?EIO=3&transport=websocket");
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connect");
        let mut ws = Ws {
            stream,
            peer: String::new(),
            rid: api["room_key"].as_str().expect("room_key").to_owned(),
        };
        let open = ws.next_text().await;
        assert!(open.starts_with("0{"), "open packet first: {open}");
        assert_eq!(ws.next_text().await, "40", "socket.io connect");
        ws.send_raw(&format!("4{}", encode_message_event(&join_message(&api))))
            .await;
        let in_room = ws.next_message().await;
        assert_eq!(in_room["type"], "inRoom");
        ws.peer = in_room["sid"].as_str().expect("sid").to_owned();
        ws
    }

    async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(WsMessage::text(text.to_owned()))
            .await
            .expect("ws send");
    }

    async fn send(&mut self, msg: Value) {
        self.send_raw(&format!("4{}", encode_message_event(&msg.to_string())))
            .await;
    }

    async fn next_text(&mut self) -> String {
        loop {
            let msg = timeout(WAIT, self.stream.next())
                .await
                .expect("frame in time")
                .expect("stream open")
                .expect("ws frame");
            if let WsMessage::Text(t) = msg {
                return t.to_string();
            }
        }
    }

    async fn next_message(&mut self) -> Value {
        loop {
            let text = self.next_text().await;
            if let Some(rest) = text.strip_prefix('4')
                && let Some(v) = decode_event(rest)
            {
                return v;
            }
        }
    }
}

/// A long-polling client that frames like socket.io-client 1.4.8: payload `len:packet` where the
/// packet is UTF-8-encoded into one char per byte before the XHR encodes the body as UTF-8
/// again; responses are read as one char per byte.
struct Poll {
    addr: SocketAddr,
    sid: String,
    backlog: Vec<String>,
}

fn decode_payload(body: &[u8]) -> Vec<String> {
    // The client reads the response bytes as chars (responseType arraybuffer).
    let text: Vec<char> = body.iter().map(|&b| b as char).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let colon = text[i..].iter().position(|&c| c == ':').expect("length") + i;
        let len: usize = text[i..colon]
            .iter()
            .collect::<String>()
            .parse()
            .expect("len");
        let packet: String = text[colon + 1..colon + 1 + len].iter().collect();
        // utf8.decode of the byte-chars.
        let bytes: Vec<u8> = packet.chars().map(|c| c as u8).collect();
        out.push(String::from_utf8(bytes).expect("packet is UTF-8"));
        i = colon + 1 + len;
    }
    out
}

fn encode_payload(packet: &str) -> Vec<u8> {
    let byte_chars: String = packet.bytes().map(char::from).collect();
    format!("{}:{}", byte_chars.chars().count(), byte_chars).into_bytes()
}

impl Poll {
    async fn open(addr: SocketAddr) -> Poll {
        let (status, body) =
            http(addr, "GET", "/socket.io/?EIO=3&transport=polling&t=a", b"").await;
        assert_eq!(status, 200);
        let packets = decode_payload(&body);
        let open: Value = serde_json::from_str(&packets[0][1..]).expect("open JSON");
        let mut poll = Poll {
            addr,
            sid: open["sid"].as_str().expect("sid").to_owned(),
            backlog: packets[1..].to_vec(),
        };
        let next = poll.next_packet().await;
        assert_eq!(next, "40");
        poll
    }

    async fn next_packet(&mut self) -> String {
        while self.backlog.is_empty() {
            let path = format!("/socket.io/?EIO=3&transport=polling&t=b&sid={}", self.sid);
            let (status, body) = http(self.addr, "GET", &path, b"").await;
            assert_eq!(status, 200, "poll: {}", String::from_utf8_lossy(&body));
            self.backlog = decode_payload(&body);
        }
        self.backlog.remove(0)
    }

    async fn next_message(&mut self) -> Value {
        loop {
            let packet = self.next_packet().await;
            if let Some(rest) = packet.strip_prefix('4')
                && let Some(v) = decode_event(rest)
            {
                return v;
            }
        }
    }

    async fn send(&mut self, msg: &str) {
        let packet = format!("4{}", encode_message_event(msg));
        // 1.4.8 sends JSON.stringify output: non-ASCII stays raw inside the string.
        let packet = packet_with_raw_unicode(&packet);
        let path = format!("/socket.io/?EIO=3&transport=polling&t=c&sid={}", self.sid);
        let (status, body) = http(self.addr, "POST", &path, &encode_payload(&packet)).await;
        assert_eq!(status, 200, "post: {}", String::from_utf8_lossy(&body));
    }
}

/// Turns the `\uXXXX` escapes our encoder makes back into raw characters, as JSON.stringify
/// would have written them.
fn packet_with_raw_unicode(packet: &str) -> String {
    let prefix_end = packet.find('[').expect("array");
    let value: Value = serde_json::from_str(&packet[prefix_end..]).expect("array JSON");
    format!("{}{}", &packet[..prefix_end], value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_burst_keeps_sender_order() {
    let (addr, state) = start().await;
    let mut a = Ws::join(addr, "order").await;
    let mut b = Ws::join(addr, "order").await;
    const N: usize = 500;
    for i in 0..N {
        let msg = json!({"cid":"c","data":{"seq":i},"mid":a.peer,"rid":a.rid,"target":b.peer,"type":"private"});
        a.send(msg).await;
    }
    for i in 0..N {
        let got = b.next_message().await;
        assert_eq!(got["type"], "private");
        assert_eq!(got["data"]["seq"], i, "out of order at {i}");
        assert_eq!(got["mid"], a.peer.as_str());
    }
    let m = &state.metrics;
    assert_eq!(m.dropped_count(skylink_server::DropReason::QueueFull), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_peer_gets_a_burst_and_non_ascii_both_ways() {
    let (addr, state) = start().await;
    let mut a = Ws::join(addr, "poll").await;
    let api = api(addr, "poll").await;
    let mut b = Poll::open(addr).await;
    b.send(&join_message(&api)).await;
    let in_room = b.next_message().await;
    assert_eq!(in_room["type"], "inRoom");
    let b_peer = in_room["sid"].as_str().expect("sid").to_owned();

    // websocket → polling, with non-ASCII, as a 300-message burst.
    const N: usize = 300;
    let text = "héllo ✓ 日本 🎉";
    for i in 0..N {
        a.send(json!({"cid":"c","data":{"seq":i,"text":text},"mid":a.peer,"rid":a.rid,"target":b_peer,"type":"private"}))
            .await;
    }
    for i in 0..N {
        let got = b.next_message().await;
        assert_eq!(
            got["data"]["seq"], i,
            "polling peer: out of order or lost at {i}"
        );
        assert_eq!(got["data"]["text"], text);
    }
    // polling → websocket, non-ASCII.
    let msg = json!({"cid":"c","data":text,"mid":b_peer,"rid":a.rid,"type":"public"});
    b.send(&msg.to_string()).await;
    let got = a.next_message().await;
    assert_eq!(got["data"], text);
    assert_eq!(got["mid"], b_peer.as_str());
    assert_eq!(
        state
            .metrics
            .dropped_count(skylink_server::DropReason::QueueFull),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_do_not_disturb_other_sessions() {
    let (addr, state) = start().await;
    let mut a = Ws::join(addr, "hostile").await;
    let mut b = Ws::join(addr, "hostile").await;
    let mut x = Ws::join(addr, "elsewhere").await;
    for junk in [
        "4garbage",
        "42[\"message\",{\"type\":\"public\"}]",
        "42[\"chat\",\"{}\"]",
        "42[\"message\",\"{not json\"]",
        "49",
    ] {
        a.send_raw(junk).await;
    }
    let huge = "x".repeat(300 * 1024);
    a.send(json!({"type":"public","mid":a.peer,"rid":a.rid,"data":huge}))
        .await;
    // Cross-room attempts.
    a.send(json!({"type":"private","mid":a.peer,"rid":x.rid,"target":x.peer,"data":"leak"}))
        .await;
    a.send(json!({"type":"private","mid":a.peer,"rid":a.rid,"target":x.peer,"data":"leak"}))
        .await;
    a.send(json!({"type":"public","mid":b.peer,"rid":a.rid,"data":"spoof"}))
        .await;
    // A valid message still flows, and is the first thing b sees.
    a.send(json!({"type":"public","mid":a.peer,"rid":a.rid,"data":"fine"}))
        .await;
    let got = b.next_message().await;
    assert_eq!(got["data"], "fine");
    // x, in another room, received nothing: its next message is one sent to it now.
    b.send(json!({"type":"public","mid":b.peer,"rid":b.rid,"data":"b"}))
        .await;
    let got = a.next_message().await;
    assert_eq!(got["data"], "b");
    let mut y = Ws::join(addr, "elsewhere").await;
    y.send(json!({"type":"public","mid":y.peer,"rid":y.rid,"data":"solo"}))
        .await;
    let got = x.next_message().await;
    assert_eq!(
        got["data"], "solo",
        "nothing from the other room reached x first"
    );
    let m = &state.metrics;
    use skylink_server::DropReason::*;
    assert!(m.dropped_count(BadFrame) >= 3, "bad frames counted");
    assert_eq!(m.dropped_count(Oversized), 1);
    assert!(m.dropped_count(WrongRoom) >= 1);
    assert!(m.dropped_count(UnknownTarget) >= 1);
    assert!(m.dropped_count(SpoofedMid) >= 1);
    let (status, body) = http(addr, "GET", "/metrics", b"").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).expect("metrics text");
    assert!(
        text.contains("skylink_messages_dropped_total{reason=\"wrong_room\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_sends_bye_and_api_errors_are_json() {
    let (addr, _state) = start().await;
    let a = Ws::join(addr, "bye").await;
    let mut b = Ws::join(addr, "bye").await;
    let a_peer = a.peer.clone();
    drop(a);
    let got = b.next_message().await;
    assert_eq!(got, json!({"type":"bye","mid":a_peer,"rid":b.rid}));
    let (status, body) = http(addr, "GET", "/api/only-key", b"").await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_slice(&body).expect("JSON error body");
    assert_eq!(body["success"], false);
    assert!(body["error"].as_i64().is_some());
    assert!(body.get("pc_constraints").is_none());
}

async fn start_with(config_toml: &str) -> SocketAddr {
    let mut config = Config::from_toml_str(config_toml).expect("config");
    config.server.port = 0;
    let server = Server::bind(config).await.expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    addr
}

async fn api_body(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, b"").await;
    assert_eq!(status, 200, "{path}");
    serde_json::from_slice(&body).expect("JSON body")
}

fn iso(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// Opens a socket and sends `joinRoom` for credentials issued to `key`; the reply is unread.
async fn join_with_key(addr: SocketAddr, api: &Value, key: &str) -> Ws {
    let url = format!("ws://{addr}/socket.io/?EIO=3&transport=websocket");
    let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
    let mut ws = Ws {
        stream,
        peer: String::new(),
        rid: String::new(),
    };
    let mut join: Value = serde_json::from_str(&join_message(api)).expect("json");
    join["key"] = json!(key);
    ws.send(join).await;
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_credentials_origins_and_seats() {
    let addr = start_with(
        r#"
        [[apps]]
        key = "secure"
        secret = "s3cret"
        cors = false
        [[apps]]
        key = "web"
        allowed_origins = ["http://allowed.example"]
        [[apps]]
        key = "tiny"
        seat_limit = 1
        "#,
    )
    .await;
    use skylink_sm::credentials::{compute, encode_for_url};
    let start = iso(std::time::SystemTime::now() - Duration::from_secs(60));
    let cred = encode_for_url(&compute("s3cret", "room 1", "2", &start));
    let ok = api_body(
        addr,
        &format!("/api/secure/room%201/{start}/2?&cred={cred}&rand=x"),
    )
    .await;
    assert!(ok["pc_constraints"].is_string(), "{ok}");
    assert_eq!(ok["start"], start.as_str());
    assert_eq!(ok["len"], 2);
    let bad = encode_for_url(&compute("wrong", "room 1", "2", &start));
    let refused = api_body(addr, &format!("/api/secure/room%201/{start}/2?&cred={bad}")).await;
    assert_eq!(refused["error"], 4005);
    let other_room = api_body(
        addr,
        &format!("/api/secure/room%202/{start}/2?&cred={cred}"),
    )
    .await;
    assert_eq!(
        other_room["error"], 4005,
        "credentials are pinned to their room"
    );
    assert_eq!(api_body(addr, "/api/secure/room").await["error"], 4004);
    assert_eq!(api_body(addr, "/api/nope/room").await["error"], 4001);
    // Our test client sends Origin http://127.0.0.1:port, which "web" does not allow.
    assert_eq!(api_body(addr, "/api/web/room").await["error"], 4003);

    // A credential window that has not started yet is refused at join time.
    let future = iso(std::time::SystemTime::now() + Duration::from_secs(3600));
    let cred = encode_for_url(&compute("s3cret", "later", "1", &future));
    let api = api_body(addr, &format!("/api/secure/later/{future}/1?&cred={cred}")).await;
    let got = join_with_key(addr, &api, "secure")
        .await
        .next_message()
        .await;
    assert_eq!(got["type"], "redirect");
    assert_eq!(got["reason"], "notStart");

    // Seat limit: the second concurrent peer of "tiny" is refused by the API with 4020.
    let first = api_body(addr, "/api/tiny/r").await;
    let mut ws = join_with_key(addr, &first, "tiny").await;
    assert_eq!(ws.next_message().await["type"], "inRoom");
    assert_eq!(api_body(addr, "/api/tiny/r").await["error"], 4020);
}
