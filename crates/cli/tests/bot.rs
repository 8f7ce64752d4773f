//! `skylink join --json` end to end: the real server in-process on loopback, two real bot
//! processes driven through stdin/stdout (docs/bot-protocol.md).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Upper bound of every wait.
const WAIT: Duration = Duration::from_secs(15);

async fn start_server() -> SocketAddr {
    let mut config = skylink_server::Config::default();
    config.server.bind = std::net::Ipv4Addr::LOCALHOST.into();
    config.server.port = 0;
    let server = skylink_server::Server::bind(config).await.expect("bind");
    let addr = server.local_addr();
    tokio::spawn(server.run_until(std::future::pending()));
    addr
}

/// One `skylink join --json` process.
struct Bot {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    /// Lines read but not yet consumed by a wait.
    backlog: VecDeque<Value>,
}

impl Bot {
    fn spawn(name: &'static str, addr: SocketAddr, room: &str, user_data: Option<Value>) -> Bot {
        Bot::spawn_with(name, addr, room, user_data, &[])
    }

    fn spawn_with(
        name: &'static str,
        addr: SocketAddr,
        room: &str,
        user_data: Option<Value>,
        extra: &[&std::ffi::OsStr],
    ) -> Bot {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skylink"));
        cmd.arg("join")
            .arg("--json")
            .arg("--room")
            .arg(room)
            .arg("--server")
            .arg(format!("http://{addr}"))
            .arg("--app-key")
            .arg("bot-test")
            .arg("--udp")
            .arg("127.0.0.1:0")
            .env(
                "RUST_LOG",
                std::env::var("BOT_TEST_LOG").unwrap_or("warn".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(d) = user_data {
            cmd.arg("--user-data").arg(d.to_string());
        }
        cmd.args(extra);
        let mut child = cmd.spawn().expect("spawn skylink join");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        Bot {
            name,
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            backlog: VecDeque::new(),
        }
    }

    async fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).await.expect("write");
        stdin.flush().await.expect("flush");
    }

    async fn send(&mut self, cmd: Value) {
        self.send_raw(&cmd.to_string()).await;
    }

    /// The next stdout line (bounded), every line must be JSON.
    async fn read_line(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{}: timed out reading stdout", self.name))
            .expect("read stdout")
            .unwrap_or_else(|| panic!("{}: stdout ended", self.name));
        if std::env::var_os("BOT_TEST_TRACE").is_some() {
            eprintln!("[{}] {line}", self.name);
        }
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{}: stdout line is not JSON ({e}): {line}", self.name))
    }

    /// The first line (in the backlog or read from now on) matching `pred`, bounded.
    async fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("index");
        }
        let fut = async {
            loop {
                let v = self.read_line().await;
                if pred(&v) {
                    return v;
                }
                self.backlog.push_back(v);
            }
        };
        match tokio::time::timeout(WAIT, fut).await {
            Ok(v) => v,
            Err(_) => panic!(
                "{}: timed out waiting for {what}; unconsumed: {:?}",
                self.name, self.backlog
            ),
        }
    }

    async fn event(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.wait(&format!("event {name}"), |v| v["event"] == name && pred(v))
            .await
    }

    async fn reply(&mut self, id: i64) -> Value {
        self.wait(&format!("reply {id}"), |v| {
            v.get("reply").is_some() && v["id"] == id
        })
        .await
    }

    /// The process exit status (bounded).
    async fn exit_code(&mut self) -> Option<i32> {
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: did not exit", self.name))
            .expect("wait")
            .code()
    }

    /// Reads stdout to its end (bounded), returning the remaining lines.
    async fn rest(&mut self) -> Vec<Value> {
        let mut out: Vec<Value> = self.backlog.drain(..).collect();
        loop {
            let next = tokio::time::timeout(WAIT, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("{}: stdout did not end", self.name))
                .expect("read stdout");
            match next {
                Some(line) => out.push(serde_json::from_str(&line).expect("JSON line")),
                None => return out,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_chat_lock_and_leave() {
    let addr = start_server().await;

    // A: commands written before the join completes (queued, answered after it).
    let mut a = Bot::spawn("A", addr, "bot-room", Some(json!({"name": "Alice"})));
    a.send(json!({"cmd": "getPeerInfo", "id": 1})).await;
    a.send_raw("this is not json").await;
    a.send_bytes(b"\xff\xfe{}\n").await;
    a.send(json!({"cmd": "noSuchMethod", "id": 2})).await;

    // The very first line is our own peerJoined.
    let first = a.read_line().await;
    assert_eq!(first["event"], "peerJoined", "first line: {first}");
    assert_eq!(first["isSelf"], true);
    assert_eq!(first["peerInfo"]["userData"], json!({"name": "Alice"}));
    assert_eq!(first["peerInfo"]["room"], "bot-room");
    let a_id = first["peerId"].as_str().expect("peerId").to_owned();

    // Earlier events were held and follow it.
    a.event("readyStateChange", |v| {
        v["readyState"] == 2 && v["room"] == "bot-room"
    })
    .await;
    a.event("channelOpen", |_| true).await;

    let r = a.reply(1).await;
    assert_eq!(r["reply"], "getPeerInfo");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["userData"], json!({"name": "Alice"}));
    let r = a
        .wait("garbage reply", |v| {
            v.get("reply") == Some(&Value::Null) && v["id"].is_null()
        })
        .await;
    assert_eq!(r["ok"], false);
    assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
    let r = a
        .wait("not-UTF-8 reply", |v| {
            v["error"].as_str().is_some_and(|e| e.contains("not UTF-8"))
        })
        .await;
    assert_eq!(r["reply"], Value::Null);
    assert_eq!(r["ok"], false);
    let r = a.reply(2).await;
    assert_eq!(r["reply"], "noSuchMethod");
    assert_eq!(r["ok"], false);
    assert!(
        r["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("unknown command")),
        "{r}"
    );

    // B joins; each sees the other.
    let mut b = Bot::spawn("B", addr, "bot-room", None);
    let first = b.read_line().await;
    assert_eq!(first["event"], "peerJoined", "first line: {first}");
    assert_eq!(first["isSelf"], true);
    let b_id = first["peerId"].as_str().expect("peerId").to_owned();
    assert_ne!(a_id, b_id);
    let seen = b
        .event("peerJoined", |v| v["peerId"] == a_id.as_str())
        .await;
    assert_eq!(seen["isSelf"], false);
    assert_eq!(seen["peerInfo"]["userData"], json!({"name": "Alice"}));
    let seen = a
        .event("peerJoined", |v| v["peerId"] == b_id.as_str())
        .await;
    assert_eq!(seen["isSelf"], false);

    // Public message.
    a.send(json!({"cmd": "sendMessage", "id": 3, "message": "hello room"}))
        .await;
    let r = a.reply(3).await;
    assert_eq!(r["ok"], true, "{r}");
    // Our own copy was written before the reply.
    assert!(
        a.backlog.iter().any(|v| v["event"] == "incomingMessage"
            && v["isSelf"] == true
            && v["message"]["content"] == "hello room"),
        "own incomingMessage before the reply: {:?}",
        a.backlog
    );
    let m = b
        .event("incomingMessage", |v| {
            v["message"]["content"] == "hello room"
        })
        .await;
    assert_eq!(
        m["message"],
        json!({"content": "hello room", "isPrivate": false, "targetPeerId": null,
               "isDataChannel": false, "senderPeerId": a_id})
    );
    assert_eq!(m["peerId"], a_id.as_str());
    assert_eq!(m["isSelf"], false);
    assert_eq!(m["peerInfo"]["userData"], json!({"name": "Alice"}));

    // Private messages: targetPeerId as a string and as an array.
    a.send(json!({"cmd": "sendMessage", "id": 4, "message": {"secret": 1}, "targetPeerId": b_id}))
        .await;
    assert_eq!(a.reply(4).await["ok"], true);
    let m = b
        .event("incomingMessage", |v| {
            v["message"]["content"] == json!({"secret": 1})
        })
        .await;
    assert_eq!(m["message"]["isPrivate"], true);
    assert_eq!(m["message"]["targetPeerId"], b_id.as_str());
    assert_eq!(m["message"]["senderPeerId"], a_id.as_str());
    a.send(json!({"cmd": "sendMessage", "id": 5, "message": "psst", "targetPeerId": [b_id]}))
        .await;
    assert_eq!(a.reply(5).await["ok"], true);
    let m = b
        .event("incomingMessage", |v| v["message"]["content"] == "psst")
        .await;
    assert_eq!(m["message"]["isPrivate"], true);
    // A bad targetPeerId is refused.
    a.send(json!({"cmd": "sendMessage", "id": 6, "message": "x", "targetPeerId": 42}))
        .await;
    assert_eq!(a.reply(6).await["ok"], false);

    // setUserData → peerUpdated at the other.
    b.send(json!({"cmd": "setUserData", "id": 7, "userData": {"name": "Bob"}}))
        .await;
    assert_eq!(b.reply(7).await["ok"], true);
    // (B's offer/answer already raised a peerUpdated with the userInfo it carried.)
    let u = a
        .event("peerUpdated", |v| {
            v["peerId"] == b_id.as_str() && v["peerInfo"]["userData"] == json!({"name": "Bob"})
        })
        .await;
    assert_eq!(u["peerInfo"]["userData"], json!({"name": "Bob"}));
    assert_eq!(u["isSelf"], false);
    b.send(json!({"cmd": "getUserData", "id": 8})).await;
    assert_eq!(b.reply(8).await["result"], json!({"name": "Bob"}));
    b.send(json!({"cmd": "getUserData", "id": 9, "peerId": a_id}))
        .await;
    assert_eq!(b.reply(9).await["result"], json!({"name": "Alice"}));

    // getPeersInRoom.
    b.send(json!({"cmd": "getPeersInRoom", "id": 10})).await;
    let r = b.reply(10).await;
    assert_eq!(r["result"][&b_id]["isSelf"], true, "{r}");
    assert_eq!(r["result"][&a_id]["isSelf"], false, "{r}");
    assert_eq!(r["result"][&a_id]["userData"], json!({"name": "Alice"}));

    // lockRoom → roomLock at the other; then unlock.
    a.send(json!({"cmd": "lockRoom", "id": 11})).await;
    assert_eq!(a.reply(11).await["ok"], true);
    assert!(
        a.backlog
            .iter()
            .any(|v| v["event"] == "roomLock" && v["isSelf"] == true && v["isLocked"] == true),
        "own roomLock before the reply: {:?}",
        a.backlog
    );
    let l = b.event("roomLock", |v| v["isLocked"] == true).await;
    assert_eq!(l["peerId"], a_id.as_str());
    assert_eq!(l["isSelf"], false);
    a.send(json!({"cmd": "unlockRoom", "id": 12})).await;
    assert_eq!(a.reply(12).await["ok"], true);
    b.event("roomLock", |v| v["isLocked"] == false).await;

    // B leaves: reply, A sees peerLeft, B exits 0.
    b.send(json!({"cmd": "leaveRoom", "id": 13})).await;
    let r = b.reply(13).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["peerId"], b_id.as_str());
    assert_eq!(r["result"]["previousRoom"], "bot-room");
    let left = a.event("peerLeft", |v| v["peerId"] == b_id.as_str()).await;
    assert_eq!(left["isSelf"], false);
    assert_eq!(b.exit_code().await, Some(0));
    // Nothing but JSON after the reply.
    let _ = b.rest().await;

    // Closing A's stdin: it leaves (own peerLeft) and exits 0.
    drop(a.stdin.take());
    assert_eq!(a.exit_code().await, Some(0));
    let rest = a.rest().await;
    assert!(
        rest.iter()
            .any(|v| v["event"] == "peerLeft" && v["isSelf"] == true),
        "own peerLeft at exit: {rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_join_exits_1_with_the_reason() {
    // A port nothing listens on: the room-API request fails.
    let unused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let mut bot = Bot::spawn("X", unused, "nowhere", None);
    assert_eq!(bot.exit_code().await, Some(1));
    let lines = bot.rest().await;
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "readyStateChange" && v["readyState"] == -1),
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bots_connect_peer_to_peer() {
    let addr = start_server().await;
    let mut a = Bot::spawn("A", addr, "bot-p2p", None);
    let first = a.read_line().await;
    let a_id = first["peerId"].as_str().expect("peerId").to_owned();
    let mut b = Bot::spawn("B", addr, "bot-p2p", None);
    let first = b.read_line().await;
    let b_id = first["peerId"].as_str().expect("peerId").to_owned();

    // WebRTC events in the JSON shape of the reference.
    let (aid, bid) = (a_id.clone(), b_id.clone());
    let ev = a
        .event("dataChannelState", |v| {
            v["state"] == "open" && v["peerId"] == bid.as_str()
        })
        .await;
    assert_eq!(ev["channelType"], "messaging");
    assert_eq!(ev["channelName"], format!("{b_id}_{a_id}"));
    b.event("dataChannelState", |v| {
        v["state"] == "open" && v["peerId"] == aid.as_str()
    })
    .await;
    let bid = b_id.clone();
    a.event("iceConnectionState", |v| {
        v["state"] == "connected" && v["peerId"] == bid.as_str()
    })
    .await;

    // sendP2PMessage both ways.
    a.send(json!({"cmd": "sendP2PMessage", "id": 1, "message": {"x": "ü"}, "targetPeerId": b_id}))
        .await;
    let r = a.reply(1).await;
    assert_eq!(r["ok"], true, "{r}");
    let m = b
        .event("incomingMessage", |v| v["message"]["isDataChannel"] == true)
        .await;
    assert_eq!(m["message"]["content"], json!({"x": "ü"}));
    assert_eq!(m["message"]["isPrivate"], true);
    assert_eq!(m["peerId"], a_id.as_str());
    assert_eq!(m["isSelf"], false);

    // Channels, connection status, custom settings.
    b.send(json!({"cmd": "getPeersDatachannels", "id": 2}))
        .await;
    let r = b.reply(2).await;
    assert_eq!(r["result"][&a_id]["main"]["readyState"], "open", "{r}");
    b.send(json!({"cmd": "getConnectionStatus", "id": 3, "targetPeerId": a_id}))
        .await;
    let r = b.reply(3).await;
    assert_eq!(r["ok"], true, "{r}");
    let stats = &r["result"]["connectionStats"][&a_id];
    assert!(stats.is_object(), "{r}");
    b.event("getConnectionStatusStateChange", |v| v["state"] == 1)
        .await;
    b.send(json!({"cmd": "getPeerCustomSettings", "id": 4}))
        .await;
    let r = b.reply(4).await;
    assert!(r["result"][&a_id].is_object(), "{r}");

    // refreshConnection with ICE restart: both sides raise peerRestart, messages still flow.
    a.send(json!({"cmd": "refreshConnection", "id": 5, "targetPeerId": b_id, "iceRestart": true}))
        .await;
    let r = a.reply(5).await;
    assert_eq!(r["ok"], true, "{r}");
    let aid = a_id.clone();
    b.event("peerRestart", |v| {
        v["peerId"] == aid.as_str() && v["isSelfInitiateRestart"] == false
    })
    .await;
    b.send(json!({"cmd": "sendP2PMessage", "id": 6, "message": "after"}))
        .await;
    assert_eq!(b.reply(6).await["ok"], true);
    a.event("incomingMessage", |v| v["message"]["content"] == "after")
        .await;

    // Logs: store on, then read them back.
    a.send(json!({"cmd": "setDebugMode", "id": 7, "options": {"storeLogs": true}}))
        .await;
    assert_eq!(a.reply(7).await["ok"], true);
    a.send(json!({"cmd": "setLogLevel", "id": 8, "logLevel": 4}))
        .await;
    assert_eq!(a.reply(8).await["ok"], true);
    a.send(json!({"cmd": "sendMessage", "id": 9, "message": "log me"}))
        .await;
    assert_eq!(a.reply(9).await["ok"], true);
    a.send(json!({"cmd": "getLogs", "id": 10})).await;
    let r = a.reply(10).await;
    assert!(r["result"].as_array().is_some_and(|l| !l.is_empty()), "{r}");
    a.send(json!({"cmd": "setLogLevel", "id": 11, "logLevel": "loud"}))
        .await;
    assert_eq!(a.reply(11).await["ok"], false);

    a.send(json!({"cmd": "leaveRoom", "id": 12})).await;
    assert_eq!(a.reply(12).await["ok"], true);
    let aid = a_id.clone();
    b.event("peerLeft", |v| v["peerId"] == aid.as_str()).await;
    assert_eq!(a.exit_code().await, Some(0));
    drop(b.stdin.take());
    assert_eq!(b.exit_code().await, Some(0));
}

/// A fresh, empty directory under the system temp dir (removed when dropped).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("skylink-bot-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p.canonicalize().expect("canonical"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Two bots in `room`, B with `--download-dir`, their messaging channels open.
async fn transfer_pair(room: &str, downloads: &std::path::Path) -> (Bot, String, Bot, String) {
    let addr = start_server().await;
    let mut a = Bot::spawn("A", addr, room, None);
    let a_id = a.read_line().await["peerId"]
        .as_str()
        .expect("peerId")
        .to_owned();
    let mut b = Bot::spawn_with(
        "B",
        addr,
        room,
        None,
        &["--download-dir".as_ref(), downloads.as_os_str()],
    );
    let b_id = b.read_line().await["peerId"]
        .as_str()
        .expect("peerId")
        .to_owned();
    for (bot, peer) in [(&mut a, b_id.clone()), (&mut b, a_id.clone())] {
        bot.event("dataChannelState", move |v| {
            v["state"] == "open" && v["peerId"] == peer.as_str() && v["channelType"] == "messaging"
        })
        .await;
    }
    (a, a_id, b, b_id)
}

/// B's `incomingDataRequest` from A: its transfer id and transferInfo.
async fn offered(b: &mut Bot) -> (String, Value) {
    let r = b
        .event("incomingDataRequest", |v| v["isSelf"] == false)
        .await;
    (
        r["transferId"].as_str().expect("transferId").to_owned(),
        r["transferInfo"].clone(),
    )
}

/// B accepts and returns its `incomingData` line for that transfer.
async fn accept_and_receive(b: &mut Bot, a_id: &str, id: i64, transfer_id: &str) -> Value {
    b.send(
        json!({"cmd": "acceptDataTransfer", "id": id, "peerId": a_id,
                  "transferId": transfer_id, "accept": true}),
    )
    .await;
    assert_eq!(b.reply(id).await["ok"], true);
    let t = transfer_id.to_owned();
    b.event("incomingData", move |v| {
        v["transferId"] == t.as_str() && v["isSelf"] == false
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_transfers_download_dir_reject_and_cancel() {
    let downloads = TempDir::new("dl");
    let sources = TempDir::new("src");
    let (mut a, a_id, mut b, b_id) = transfer_pair("bot-files", &downloads.0).await;

    // 1 MiB file by path, accepted: saved under the download dir, bytes equal.
    let data = pattern(1 << 20);
    let src = sources.0.join("pattern.bin");
    std::fs::write(&src, &data).expect("write source");
    a.send(
        json!({"cmd": "sendBlobData", "id": 1, "path": src, "targetPeerId": b_id, "timeout": 30}),
    )
    .await;
    let (tid, info) = offered(&mut b).await;
    assert_eq!(info["name"], "pattern.bin");
    assert_eq!(info["size"], 1 << 20);
    // The pending download is listed by getCurrentDataTransfers.
    b.send(json!({"cmd": "getCurrentDataTransfers", "id": 100}))
        .await;
    let r = b.reply(100).await;
    assert_eq!(r["result"][&tid]["peerId"], a_id.as_str(), "{r}");
    assert_eq!(r["result"][&tid]["isSelf"], false, "{r}");
    assert_eq!(r["result"][&tid]["transferInfo"]["name"], "pattern.bin");
    let got = accept_and_receive(&mut b, &a_id, 101, &tid).await;
    assert!(got.get("data").is_none(), "data omitted: {got}");
    let saved = std::path::PathBuf::from(got["savedPath"].as_str().expect("savedPath"));
    assert_eq!(saved, downloads.0.join("pattern.bin"));
    assert_eq!(std::fs::read(&saved).expect("saved file"), data);
    let r = a.reply(1).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["transferId"], tid.as_str());
    assert_eq!(r["result"]["listOfPeers"], json!([b_id]));
    assert_eq!(r["result"]["transferInfo"]["name"], "pattern.bin");
    assert!(r["result"]["transferInfo"].get("percentage").is_none());
    b.send(json!({"cmd": "getCurrentDataTransfers", "id": 102}))
        .await;
    assert_eq!(b.reply(102).await["result"], json!({}));

    // Hostile names stay inside the directory; a clash gets a number.
    let cases = [
        ("../../etc/passwd", "passwd"),
        ("/abs/x", "x"),
        ("a\u{0}b", "ab"),
        ("dup.txt", "dup.txt"),
        ("dup.txt", "dup (1).txt"),
    ];
    for (n, (name, expect)) in cases.iter().enumerate() {
        let id = 2 + n as i64;
        let bytes = format!("file {n}").into_bytes();
        a.send(
            json!({"cmd": "sendBlobData", "id": id, "base64": b64(&bytes), "name": name,
                      "targetPeerId": [b_id]}),
        )
        .await;
        let (tid, info) = offered(&mut b).await;
        assert_eq!(info["name"], *name);
        let got = accept_and_receive(&mut b, &a_id, 110 + id, &tid).await;
        let saved = std::path::PathBuf::from(got["savedPath"].as_str().expect("savedPath"));
        assert_eq!(saved.parent(), Some(downloads.0.as_path()), "{got}");
        assert_eq!(saved.file_name().and_then(|f| f.to_str()), Some(*expect));
        assert_eq!(std::fs::read(&saved).expect("saved"), bytes);
        assert_eq!(a.reply(id).await["ok"], true);
    }
    assert!(!std::path::Path::new("/abs/x").exists());

    // sendURLData: the text arrives and is saved as UTF-8.
    let text = "data:text/plain,h\u{e9}llo \u{2713} \u{65e5}\u{672c}";
    a.send(json!({"cmd": "sendURLData", "id": 20, "data": text, "name": "note.txt"}))
        .await;
    let (tid, info) = offered(&mut b).await;
    assert_eq!(info["dataType"], "dataURL");
    let got = accept_and_receive(&mut b, &a_id, 120, &tid).await;
    let saved = got["savedPath"].as_str().expect("savedPath");
    assert_eq!(std::fs::read_to_string(saved).expect("saved"), text);
    let r = a.reply(20).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["transferInfo"]["dataType"], "dataURL");

    // Rejected: the sender's reply fails, naming the peer and the state.
    a.send(
        json!({"cmd": "sendBlobData", "id": 30, "base64": b64(b"no thanks"), "targetPeerId": b_id}),
    )
    .await;
    let (tid, _) = offered(&mut b).await;
    b.send(
        json!({"cmd": "acceptDataTransfer", "id": 130, "peerId": a_id,
                  "transferId": tid, "accept": false}),
    )
    .await;
    assert_eq!(b.reply(130).await["ok"], true);
    let r = a.reply(30).await;
    assert_eq!(r["ok"], false, "{r}");
    let e = r["error"].as_str().expect("error");
    assert!(e.contains(&b_id) && e.contains("rejected"), "{e}");

    // Cancelled by the receiver once the download is under way.
    let big = sources.0.join("big.bin");
    std::fs::write(&big, pattern(32 << 20)).expect("write big");
    a.send(json!({"cmd": "sendBlobData", "id": 40, "path": big, "targetPeerId": b_id}))
        .await;
    let (tid, _) = offered(&mut b).await;
    b.send(
        json!({"cmd": "acceptDataTransfer", "id": 140, "peerId": a_id,
                  "transferId": tid, "accept": true}),
    )
    .await;
    let t = tid.clone();
    b.event("dataTransferState", move |v| {
        v["transferId"] == t.as_str() && v["state"] == "downloading"
    })
    .await;
    // written to disk as it arrives, under a temporary name
    assert!(downloads.0.join(".big.bin.part").exists());
    b.send(json!({"cmd": "cancelDataTransfer", "id": 141, "peerId": a_id, "transferId": tid}))
        .await;
    assert_eq!(b.reply(141).await["ok"], true);
    let r = a.reply(40).await;
    assert_eq!(r["ok"], false, "{r}");
    let e = r["error"].as_str().expect("error");
    assert!(e.contains(&b_id) && e.contains("cancel"), "{e}");
    let t = tid.clone();
    b.event("dataTransferState", move |v| {
        v["transferId"] == t.as_str() && v["state"] == "cancel"
    })
    .await;
    assert!(!downloads.0.join("big.bin").exists());
    assert!(
        !downloads.0.join(".big.bin.part").exists(),
        "the partial file is deleted"
    );

    // Bad parameters are refused at once.
    a.send(json!({"cmd": "sendBlobData", "id": 50})).await;
    assert_eq!(a.reply(50).await["ok"], false);
    a.send(json!({"cmd": "sendBlobData", "id": 51, "path": sources.0.join("missing")}))
        .await;
    let r = a.reply(51).await;
    assert!(
        r["error"].as_str().is_some_and(|e| e.contains("missing")),
        "{r}"
    );

    drop(a.stdin.take());
    drop(b.stdin.take());
    assert_eq!(a.exit_code().await, Some(0));
    assert_eq!(b.exit_code().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_stream_in_order() {
    let downloads = TempDir::new("stream");
    let (mut a, a_id, mut b, b_id) = transfer_pair("bot-stream", &downloads.0).await;
    a.send(json!({"cmd": "startStreamingData", "id": 1, "isStringStream": false, "targetPeerId": b_id}))
        .await;
    let r = a.reply(1).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["result"]["listOfPeers"], json!([b_id]));
    let stream_id = r["result"]["streamId"]
        .as_str()
        .expect("streamId")
        .to_owned();
    let s = stream_id.clone();
    b.event("incomingDataStreamStarted", move |v| {
        v["streamId"] == s.as_str() && v["isSelf"] == false
    })
    .await;
    a.send(json!({"cmd": "getCurrentDataStreamsSession", "id": 2}))
        .await;
    let r = a.reply(2).await;
    assert_eq!(r["result"][&stream_id]["isSelf"], true, "{r}");
    assert_eq!(r["result"][&stream_id]["peerId"], a_id.as_str(), "{r}");

    for i in 0..3u8 {
        let chunk = vec![i + 1; 1000 + usize::from(i)];
        a.send(
            json!({"cmd": "streamData", "id": 10 + i64::from(i), "streamId": stream_id,
                      "data": {"base64": b64(&chunk)}}),
        )
        .await;
        assert_eq!(a.reply(10 + i64::from(i)).await["ok"], true);
    }
    for i in 0..3u8 {
        let c = b
            .event("incomingDataStream", |v| v["isSelf"] == false)
            .await;
        assert_eq!(c["streamId"], stream_id.as_str());
        assert_eq!(c["peerId"], a_id.as_str());
        assert_eq!(
            c["chunk"]["base64"],
            b64(&vec![i + 1; 1000 + usize::from(i)])
        );
        assert_eq!(c["chunk"]["size"], 1000 + u64::from(i));
    }
    // A string on a binary stream is refused.
    a.send(json!({"cmd": "streamData", "id": 20, "streamId": stream_id, "data": "text"}))
        .await;
    assert_eq!(a.reply(20).await["ok"], false);
    a.send(json!({"cmd": "stopStreamingData", "id": 21, "streamId": stream_id}))
        .await;
    assert_eq!(a.reply(21).await["ok"], true);
    let s = stream_id.clone();
    b.event("incomingDataStreamStopped", move |v| {
        v["streamId"] == s.as_str() && v["isSelf"] == false
    })
    .await;
    a.send(json!({"cmd": "getCurrentDataStreamsSession", "id": 22}))
        .await;
    assert_eq!(a.reply(22).await["result"], json!({}));

    drop(a.stdin.take());
    drop(b.stdin.take());
    assert_eq!(a.exit_code().await, Some(0));
    assert_eq!(b.exit_code().await, Some(0));
}

/// `VmHWM` (peak RSS) of a process in kB.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads `bot`'s lines until one matches (lines in between are dropped, not kept: a large
/// transfer prints many progress events), bounded by `limit` overall. Also returns the
/// dropped lines that are `dataTransferState` events, by state.
async fn drain_until(
    bot: &mut Bot,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> (Value, std::collections::BTreeMap<String, usize>) {
    let name = bot.name;
    let mut states = std::collections::BTreeMap::new();
    tokio::time::timeout(limit, async {
        loop {
            let v = bot.read_line().await;
            if pred(&v) {
                return (v, states);
            }
            if v["event"] == "dataTransferState" {
                *states
                    .entry(v["state"].as_str().unwrap_or("?").to_owned())
                    .or_default() += 1;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{name}: no matching line within {limit:?}"))
}

/// `sendBlobData {"path"}` streams the file from disk: the sending bot's peak RSS stays far
/// below the file size. 300 MB by default (`BOT_STREAM_MB` to change it, e.g. 1024); the file
/// is sparse except for a pattern at both ends, and the receiver's saved copy is compared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_file_upload_keeps_sender_memory_low() {
    let mb: u64 = std::env::var("BOT_STREAM_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let size = mb << 20;
    let downloads = TempDir::new("sdl");
    let sources = TempDir::new("ssrc");
    let src = sources.0.join("big.bin");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&src).expect("create source");
        f.set_len(size).expect("set_len");
        f.write_all(&pattern(1 << 20)).expect("head");
        f.seek(SeekFrom::Start(size - (1 << 20))).expect("seek");
        f.write_all(&pattern(1 << 20)).expect("tail");
    }
    let (mut a, a_id, mut b, b_id) = transfer_pair("bot-stream", &downloads.0).await;
    a.send(
        json!({"cmd": "sendBlobData", "id": 1, "path": src, "targetPeerId": b_id, "timeout": 60}),
    )
    .await;
    let (tid, info) = offered(&mut b).await;
    assert_eq!(info["size"], size);
    b.send(json!({"cmd": "acceptDataTransfer", "id": 2, "peerId": a_id,
                  "transferId": tid, "accept": true}))
        .await;
    let limit = Duration::from_secs(60 + mb);
    let started = std::time::Instant::now();
    let t = tid.clone();
    let ((own, _), (got, down_states)) = tokio::join!(
        drain_until(&mut a, limit, |v| v["event"] == "incomingData"),
        drain_until(&mut b, limit, move |v| {
            v["event"] == "incomingData" && v["transferId"] == t.as_str() && v["isSelf"] == false
        }),
    );
    let secs = started.elapsed().as_secs_f64();
    let pid = a.child.id().expect("sender running");
    let hwm = vm_hwm_kb(pid).expect("VmHWM of the sender");
    let rx_pid = b.child.id().expect("receiver running");
    let rx_hwm = vm_hwm_kb(rx_pid).expect("VmHWM of the receiver");
    // The uploader's own incomingData has no `data` for a file sent by path.
    assert_eq!(own["isSelf"], true, "{own}");
    assert!(
        own.get("data").is_none(),
        "no data for a streamed file: {own}"
    );
    let (reply, _) = drain_until(&mut a, WAIT, |v| v.get("reply").is_some() && v["id"] == 1).await;
    // Progress lines are rate-limited: far fewer than one per chunk (65,456 bytes).
    let chunks = size.div_ceil(65_456) as usize;
    let downloading = down_states.get("downloading").copied().unwrap_or(0);
    assert!(
        downloading >= 1 && downloading < chunks / 4,
        "{downloading} downloading lines for {chunks} chunks"
    );
    eprintln!(
        "streamed {mb} MiB in {secs:.1} s ({:.1} MB/s); sender VmHWM {} MB, receiver VmHWM {} MB",
        size as f64 / 1e6 / secs,
        hwm / 1024,
        rx_hwm / 1024
    );
    assert_eq!(reply["ok"], true, "{reply}");
    let saved = std::path::PathBuf::from(got["savedPath"].as_str().expect("savedPath"));
    let meta = std::fs::metadata(&saved).expect("saved");
    assert_eq!(meta.len(), size);
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(&saved).expect("open saved");
        let mut buf = vec![0u8; 1 << 20];
        f.read_exact(&mut buf).expect("head");
        assert!(buf == pattern(1 << 20), "head intact");
        f.seek(SeekFrom::Start(size - (1 << 20))).expect("seek");
        f.read_exact(&mut buf).expect("tail");
        assert!(buf == pattern(1 << 20), "tail intact");
    }
    assert!(
        hwm * 1024 < size / 2 && hwm < 150 << 10,
        "sender peak RSS {hwm} kB for a {size}-byte file"
    );
    // --download-dir writes each chunk through to the file as it arrives
    assert!(
        rx_hwm * 1024 < size / 2 && rx_hwm < 150 << 10,
        "receiver peak RSS {rx_hwm} kB for a {size}-byte file"
    );
    assert_eq!(
        std::fs::read_dir(&downloads.0).expect("dir").count(),
        1,
        "only the saved file, no temporary one"
    );
    {
        // every byte, not just both ends (the middle is the source's sparse zeros)
        use std::io::Read;
        let mut x = std::fs::File::open(&src).expect("open source");
        let mut y = std::fs::File::open(&saved).expect("open saved");
        let (mut bx, mut by) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
        let mut off = 0u64;
        while off < size {
            let n = (size - off).min(1 << 20) as usize;
            x.read_exact(&mut bx[..n]).expect("read source");
            y.read_exact(&mut by[..n]).expect("read saved");
            assert!(bx[..n] == by[..n], "saved copy differs in the MiB at {off}");
            off += n as u64;
        }
    }
    drop(a.stdin.take());
    drop(b.stdin.take());
    assert_eq!(a.exit_code().await, Some(0));
    assert_eq!(b.exit_code().await, Some(0));
}
