//! File transfers and data streams between two Rust peers through the real server: DT over
//! real webrtc data channels (pipelined between skylink-rs peers).

mod common;

use std::time::Instant;

use common::{bounded, client, options, start_server, wait_for};
use skylink_room::{Client, Event, InitOptions, JoinOptions, TransferData, TransferOptions};
use tokio::sync::broadcast;

type Pair = (
    Client,
    broadcast::Receiver<Event>,
    String,
    Client,
    broadcast::Receiver<Event>,
    String,
);

async fn pair(room: &str) -> Pair {
    let addr = start_server(None).await;
    pair_with(room, options(addr, "app"), options(addr, "app")).await
}

/// A and B join `room` and wait for their messaging channel.
async fn pair_with(room: &str, a_opts: InitOptions, b_opts: InitOptions) -> Pair {
    let (a, mut a_rx) = client(a_opts);
    let (b, mut b_rx) = client(b_opts);
    let a_id = bounded("A joins", a.join_room(Some(room), JoinOptions::default()))
        .await
        .expect("A");
    let b_id = bounded("B joins", b.join_room(Some(room), JoinOptions::default()))
        .await
        .expect("B");
    for (rx, peer) in [(&mut a_rx, &b_id), (&mut b_rx, &a_id)] {
        let p = peer.clone();
        wait_for(rx, "messaging channel open", move |e| match e {
            Event::DataChannelState {
                state,
                peer_id,
                channel_type,
                ..
            } if state == "open" && *peer_id == p && channel_type == "messaging" => Some(()),
            _ => None,
        })
        .await;
    }
    (a, a_rx, a_id, b, b_rx, b_id)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn request(rx: &mut broadcast::Receiver<Event>) -> (String, serde_json::Value) {
    wait_for(rx, "incomingDataRequest", |e| match e {
        Event::IncomingDataRequest {
            transfer_id,
            transfer_info,
            is_self: false,
            ..
        } => Some((transfer_id.clone(), transfer_info.clone())),
        _ => None,
    })
    .await
}

async fn state(rx: &mut broadcast::Receiver<Event>, id: &str, want: &str) -> serde_json::Value {
    let (id, want) = (id.to_owned(), want.to_owned());
    wait_for(rx, &format!("dataTransferState {want}"), move |e| match e {
        Event::DataTransferState {
            state,
            transfer_id,
            transfer_info,
            ..
        } if *transfer_id == id && *state == want => Some(transfer_info.clone()),
        _ => None,
    })
    .await
}

/// A sends `n` pattern bytes to B, B accepts; returns (transfer id, data) once B downloads.
async fn mid_transfer(
    a: &Client,
    a_id: &str,
    b: &Client,
    b_rx: &mut broadcast::Receiver<Event>,
    b_id: &str,
    n: usize,
) -> (String, Vec<u8>) {
    let data = pattern(n);
    let (id, _) = a
        .send_blob_data(
            data.clone(),
            Some(vec![b_id.to_owned()]),
            TransferOptions::default(),
        )
        .await
        .expect("send");
    let (rid, _) = request(b_rx).await;
    assert_eq!(rid, id, "DATA-channel transfers share their id");
    b.accept_data_transfer(a_id, &rid, true)
        .await
        .expect("accept");
    state(b_rx, &rid, "downloading").await;
    (id, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_accept_reject_cancel_and_url_data() {
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair("xfer").await;

    // 1 MiB blob, accepted: byte-exact at B, completed on both sides.
    let data = pattern(1 << 20);
    let t = Instant::now();
    let (id, peers) = a
        .send_blob_data(
            data.clone(),
            Some(vec![b_id.clone()]),
            TransferOptions {
                name: Some("pattern.bin".into()),
                ..Default::default()
            },
        )
        .await
        .expect("send");
    assert_eq!(peers, vec![b_id.clone()]);
    let (rid, info) = request(&mut b_rx).await;
    assert_eq!(rid, id);
    assert_eq!(info["name"], "pattern.bin");
    assert_eq!(info["size"], 1 << 20);
    b.accept_data_transfer(&a_id, &id, true)
        .await
        .expect("accept");
    let got = wait_for(&mut b_rx, "incomingData", |e| match e {
        Event::IncomingData {
            data: TransferData::Bytes(d),
            is_self: false,
            ..
        } => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_eq!(&got[..], &data[..]);
    state(&mut a_rx, &id, "uploadCompleted").await;
    eprintln!("1 MiB in {:?}", t.elapsed());

    // Rejected.
    let (id, _) = a
        .send_blob_data(
            pattern(10_000),
            Some(vec![b_id.clone()]),
            TransferOptions::default(),
        )
        .await
        .expect("send");
    let (rid, _) = request(&mut b_rx).await;
    b.accept_data_transfer(&a_id, &rid, false)
        .await
        .expect("reject");
    state(&mut a_rx, &id, "rejected").await;

    // A string (sendURLData).
    let text = "data:text/plain;base64,aMOpbGxv ✓ 日本";
    let (id, _) = a
        .send_url_data(text, Some(vec![b_id.clone()]), TransferOptions::default())
        .await
        .expect("url data");
    let (rid, info) = request(&mut b_rx).await;
    assert_eq!(info["dataType"], "dataURL");
    b.accept_data_transfer(&a_id, &rid, true)
        .await
        .expect("accept");
    let got = wait_for(&mut b_rx, "incomingData (text)", |e| match e {
        Event::IncomingData {
            data: TransferData::Text(t),
            is_self: false,
            ..
        } => Some(t.to_string()),
        _ => None,
    })
    .await;
    assert_eq!(got, text);
    state(&mut a_rx, &id, "uploadCompleted").await;

    // Cancelled by the receiver mid-way.
    let (id, _) = a
        .send_blob_data(
            pattern(32 << 20),
            Some(vec![b_id.clone()]),
            TransferOptions::default(),
        )
        .await
        .expect("send");
    let (rid, _) = request(&mut b_rx).await;
    b.accept_data_transfer(&a_id, &rid, true)
        .await
        .expect("accept");
    state(&mut b_rx, &rid, "downloading").await;
    b.cancel_data_transfer(&a_id, &rid).await.expect("cancel");
    state(&mut a_rx, &id, "cancel").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_stream_in_order() {
    let (a, mut a_rx, _a_id, _b, mut b_rx, b_id) = pair("stream").await;
    let id = a
        .start_streaming_data(false, Some(vec![b_id.clone()]))
        .await
        .expect("start");
    wait_for(&mut b_rx, "incomingDataStreamStarted", |e| {
        matches!(e, Event::IncomingDataStreamStarted { is_self: false, .. }).then_some(())
    })
    .await;
    wait_for(&mut a_rx, "sendStart", |e| {
        matches!(e, Event::DataStreamState { state, .. } if state == "sendStart").then_some(())
    })
    .await;
    for i in 0..5u8 {
        a.stream_data(&id, TransferData::Bytes(vec![i; 1000].into()))
            .await
            .expect("chunk");
    }
    for i in 0..5u8 {
        let c = wait_for(&mut b_rx, "stream chunk", |e| match e {
            Event::IncomingDataStream {
                chunk: TransferData::Bytes(c),
                is_self: false,
                ..
            } => Some(c.clone()),
            _ => None,
        })
        .await;
        assert_eq!(&c[..], &vec![i; 1000][..]);
    }
    a.stop_streaming_data(&id).await.expect("stop");
    wait_for(&mut b_rx, "incomingDataStreamStopped", |e| {
        matches!(e, Event::IncomingDataStreamStopped { is_self: false, .. }).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_survives_an_ice_restart_mid_way() {
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair("xfer-restart").await;
    let (id, data) = mid_transfer(&a, &a_id, &b, &mut b_rx, &b_id, 24 << 20).await;
    // Mid-way: renegotiate with new ICE credentials (the answerer asks; the offerer re-offers).
    let r = b
        .refresh_connection(Some(vec![a_id.clone()]), true)
        .await
        .expect("refresh");
    assert!(r.refresh_errors.is_empty(), "{:?}", r.refresh_errors);
    let aid = a_id.clone();
    wait_for(
        &mut b_rx,
        "the restart's answer applied",
        move |e| match e {
            Event::HandshakeProgress {
                state: skylink_room::HandshakeProgress::Answer,
                peer_id,
                ..
            } if *peer_id == aid => Some(()),
            _ => None,
        },
    )
    .await;
    let got = wait_for(&mut b_rx, "incomingData after the restart", |e| match e {
        Event::IncomingData {
            data: TransferData::Bytes(d),
            is_self: false,
            ..
        } => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got.len(), data.len());
    assert!(got[..] == data[..], "bytes differ after the restart");
    state(&mut a_rx, &id, "uploadCompleted").await;
}

/// A transfer between two skylink-rs peers survives one side's signaling socket dropping:
/// the server says `bye`, both close the connection, the dropped side rejoins under a new peer
/// id, and the transfer continues on the new connection (matched by the instance token) from
/// the chunks already received.
async fn resume_after_a_dropped_socket(room: &str, cut_uploader: bool) {
    use common::Proxy;
    let addr = start_server(None).await;
    let proxy = Proxy::start(addr).await;
    let behind_proxy = || {
        let mut o = options(addr, "app");
        o.socket_server = Some(skylink_room::SocketServer::Custom {
            url: "127.0.0.1".into(),
            ports: vec![proxy.addr.port()],
            protocol: Some("http:".into()),
        });
        o
    };
    let (a_opts, b_opts) = if cut_uploader {
        (behind_proxy(), options(addr, "app"))
    } else {
        (options(addr, "app"), behind_proxy())
    };
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair_with(room, a_opts, b_opts).await;
    let (id, data) = mid_transfer(&a, &a_id, &b, &mut b_rx, &b_id, 48 << 20).await;
    proxy.cut_all();

    // The side that kept its socket sees the other leave; the transfer does not fail.
    let (stayed_rx, gone) = if cut_uploader {
        (&mut b_rx, a_id.clone())
    } else {
        (&mut a_rx, b_id.clone())
    };
    let tid = id.clone();
    wait_for(stayed_rx, "peerLeft of the cut side", move |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == gone => Some(()),
        Event::DataTransferState {
            state, transfer_id, ..
        } if *transfer_id == tid && (state == "error" || state == "cancel") => {
            panic!("the transfer failed instead of waiting: {state}")
        }
        _ => None,
    })
    .await;
    let got = wait_for(&mut b_rx, "incomingData after the rejoin", |e| match e {
        Event::IncomingData {
            data: TransferData::Bytes(d),
            is_self: false,
            ..
        } => Some(d.clone()),
        Event::DataTransferState { state, .. } if state == "error" || state == "cancel" => {
            panic!("download failed: {state}")
        }
        _ => None,
    })
    .await;
    assert_eq!(got.len(), data.len());
    assert!(got[..] == data[..], "bytes differ after the reconnect");
    let info = state(&mut a_rx, &id, "uploadCompleted").await;
    assert_eq!(info["percentage"], 100.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_resumes_after_the_uploaders_socket_drops() {
    resume_after_a_dropped_socket("xfer-cut-up", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_resumes_after_the_downloaders_socket_drops() {
    resume_after_a_dropped_socket("xfer-cut-down", false).await;
}

/// An explicit `leaveRoom` ends the transfers a reconnect would have resumed: both sides see
/// `cancel` at once, instead of the staying peer keeping the transfer suspended for a resume
/// that cannot come until its timeout (60 s, longer than every wait here).
async fn an_explicit_leave_cancels(room: &str, uploader_leaves: bool) {
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair(room).await;
    let (id, _) = mid_transfer(&a, &a_id, &b, &mut b_rx, &b_id, 48 << 20).await;
    let (leaver, leaver_rx, stayer_rx) = if uploader_leaves {
        (&a, &mut a_rx, &mut b_rx)
    } else {
        (&b, &mut b_rx, &mut a_rx)
    };
    bounded("leaveRoom", leaver.leave_room())
        .await
        .expect("leave");
    for (rx, who) in [
        (stayer_rx, "the staying peer"),
        (leaver_rx, "the leaving peer"),
    ] {
        let tid = id.clone();
        wait_for(rx, &format!("cancel at {who}"), move |e| match e {
            Event::DataTransferState {
                state, transfer_id, ..
            } if *transfer_id == tid => match state.as_str() {
                "cancel" => Some(()),
                "error" | "uploadCompleted" | "downloadCompleted" => {
                    panic!("{who}: the transfer ended in {state}, not cancel")
                }
                _ => None,
            },
            _ => None,
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_uploaders_leave_room_cancels_a_resumable_transfer_at_once() {
    an_explicit_leave_cancels("xfer-leave-up", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_downloaders_leave_room_cancels_a_resumable_transfer_at_once() {
    an_explicit_leave_cancels("xfer-leave-down", false).await;
}

/// An async reader of `len` bytes of [`pattern`], generated on the fly (never a whole buffer).
struct Generated {
    pos: u64,
    len: u64,
}

impl tokio::io::AsyncRead for Generated {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.len - self.pos) as usize;
        let start = self.pos;
        let bytes: Vec<u8> = (0..n as u64).map(|i| ((start + i) % 251) as u8).collect();
        buf.put_slice(&bytes);
        self.pos += n as u64;
        std::task::Poll::Ready(Ok(()))
    }
}

/// A fresh, empty directory under the system temp dir (removed when dropped).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("skylink-room-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `send_blob_reader` from a generated 20 MB reader, received with
/// `accept_data_transfer_to_file`: byte-exact on disk, `incomingData` carries the path, no
/// temporary file is left; readers of the wrong length are typed errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_reader_sent_and_received_to_file() {
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair("xfer-reader").await;
    let dir = TempDir::new("to-file");
    let len: u64 = 20_000_000;
    let t = Instant::now();
    let (id, peers) = a
        .send_blob_reader(
            Generated { pos: 0, len },
            len,
            Some(vec![b_id.clone()]),
            TransferOptions {
                name: Some("generated.bin".into()),
                ..Default::default()
            },
        )
        .await
        .expect("send");
    assert_eq!(peers, vec![b_id.clone()]);
    let (rid, info) = request(&mut b_rx).await;
    assert_eq!(rid, id);
    assert_eq!(info["size"], len);
    let dest = dir.0.join("generated.bin");
    b.accept_data_transfer_to_file(&a_id, &id, &dest)
        .await
        .expect("accept to file");
    assert_eq!(dir.names(), vec![".generated.bin.part".to_owned()]);
    let (path, size) = wait_for(&mut b_rx, "incomingData", |e| match e {
        Event::IncomingData {
            data: TransferData::File { path, size },
            is_self: false,
            ..
        } => Some((path.clone(), *size)),
        _ => None,
    })
    .await;
    state(&mut a_rx, &id, "uploadCompleted").await;
    eprintln!("20 MB from a reader to a file in {:?}", t.elapsed());
    assert_eq!(path, dest);
    assert_eq!(size, len);
    assert_eq!(dir.names(), vec!["generated.bin".to_owned()]);
    let got = std::fs::read(&dest).expect("saved");
    assert_eq!(got.len() as u64, len);
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, &b)| b == (i as u64 % 251) as u8),
        "bytes intact"
    );
    // the JSON of a saved download names the file instead of carrying the bytes
    let ev = Event::IncomingData {
        data: TransferData::File {
            path: dest.clone(),
            size,
        },
        transfer_id: id.clone(),
        peer_id: a_id.clone(),
        transfer_info: info,
        is_self: false,
    };
    let j = ev.to_json();
    assert_eq!(j["data"]["path"], dest.to_string_lossy().as_ref(), "{j}");
    assert_eq!(j["data"]["size"], len);

    // Wrong lengths are refused before anything is sent.
    let short = a
        .send_blob_reader(Generated { pos: 0, len: 10 }, 11, None, Default::default())
        .await;
    assert_eq!(
        short.unwrap_err(),
        skylink_room::RoomError::ReaderLength {
            expected: 11,
            read: 10
        }
    );
    let long = a
        .send_blob_reader(
            Generated { pos: 0, len: 1000 },
            999,
            None,
            Default::default(),
        )
        .await;
    assert!(
        matches!(long, Err(skylink_room::RoomError::ReaderLength { expected: 999, read }) if read > 999),
        "{long:?}"
    );
    // A string transfer cannot go to a file; the temporary file is removed.
    let (id, _) = a
        .send_url_data(
            "data:text/plain,hi",
            Some(vec![b_id.clone()]),
            Default::default(),
        )
        .await
        .expect("send url");
    request(&mut b_rx).await;
    assert!(
        b.accept_data_transfer_to_file(&a_id, &id, dir.0.join("u.txt"))
            .await
            .is_err()
    );
    assert_eq!(dir.names(), vec!["generated.bin".to_owned()]);
    b.accept_data_transfer(&a_id, &id, false)
        .await
        .expect("reject");
}

/// A download to a file cancelled mid-way (by the receiver, then by the sender) leaves no file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_file_download_leaves_no_file() {
    let (a, mut a_rx, a_id, b, mut b_rx, b_id) = pair("xfer-cancel-file").await;
    let dir = TempDir::new("cancel-file");
    for by_receiver in [true, false] {
        let len: u64 = 32 << 20;
        let (id, _) = a
            .send_blob_reader(
                Generated { pos: 0, len },
                len,
                Some(vec![b_id.clone()]),
                TransferOptions::default(),
            )
            .await
            .expect("send");
        request(&mut b_rx).await;
        let dest = dir.0.join("big.bin");
        b.accept_data_transfer_to_file(&a_id, &id, &dest)
            .await
            .expect("accept");
        state(&mut b_rx, &id, "downloading").await;
        assert_eq!(dir.names(), vec![".big.bin.part".to_owned()]);
        if by_receiver {
            b.cancel_data_transfer(&a_id, &id).await.expect("cancel");
        } else {
            a.cancel_data_transfer(&b_id, &id).await.expect("cancel");
        }
        state(&mut b_rx, &id, "cancel").await;
        state(&mut a_rx, &id, "cancel").await;
        assert!(dir.names().is_empty(), "left: {:?}", dir.names());
    }
}
