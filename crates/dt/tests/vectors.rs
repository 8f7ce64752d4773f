//! Every test vector of spec §7, byte-exact, in both directions (our encoder reproduces the
//! frame; our decoder/state machines react to it as specified).

mod common;
use common::*;
use serde_json::json;
use skylink_dt::chunk::Flavor;
use skylink_dt::message::*;
use skylink_dt::stream::*;
use skylink_dt::transfer::*;
use skylink_dt::version::{Dialect, PeerProfile, StringTransferType, Vocabulary};
use std::time::{Duration, Instant};

const TID: &str = "peerA_1505552345123";
const TV1_WRQ: &str = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"a.txt","size":4,"originalSize":3,"dataType":"blob","mimeType":"text/plain","chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
const TV2_WRQ: &str = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"a.txt","size":4,"originalSize":3,"dataType":"blob","mimeType":"text/plain","chunkType":"binaryString","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
const ACK0: &str = r#"{"type":"ACK","sender":"peerB","ackN":0}"#;
const ACK1: &str = r#"{"type":"ACK","sender":"peerB","ackN":1}"#;

/// Upload config as the JS uploader of §7.0 (chrome 61) would have it.
fn js_like(vocab: Vocabulary, channel: ChannelKind, binary: bool) -> UploadConfig {
    let d = Dialect {
        vocabulary: vocab,
        use_data_channel: channel == ChannelKind::Data,
        binary_chunks: true,
        string_transfers: Some(if vocab == Vocabulary::V013 {
            StringTransferType::Data
        } else {
            StringTransferType::DataUrl
        }),
        streams: true,
        extensions: false,
    };
    let mut c = UploadConfig::new(TID, "peerA", "peerB", &d, binary);
    c.agent = "chrome".into();
    c.version = json!(61);
    c.name = Some("a.txt".into());
    c
}

fn abc() -> Payload {
    Payload::blob(&b"abc"[..], Some("text/plain"))
}

fn down_from(wrq: &str, channel: ChannelKind, label: &str) -> (Download, Vec<Action>) {
    let Message::Wrq(w) = msg(wrq) else { panic!() };
    assert_eq!(
        Message::Wrq(w.clone()).to_json(),
        wrq,
        "decode→encode is byte-exact"
    );
    let id = receiver_transfer_id(channel, label, &w, "peerA", 1505552345123);
    Download::new(DownloadConfig::new("peerB", "peerA", &id, channel), &w).unwrap()
}

#[test]
fn tv1_js_upload_to_our_downloader() {
    let now = Instant::now();
    assert_eq!(TV1_WRQ.len(), 266);
    let (mut d, ev) = down_from(TV1_WRQ, ChannelKind::Messaging, "peerA_peerB");
    assert_eq!(d.config().transfer_id, TID);
    assert_eq!(d.info().size, 3);
    assert_eq!(d.info().chunk_type, ChunkLabel::BinaryString);
    assert_eq!(d.info().chunk_size, 65536);
    assert_eq!(d.info().data_type, SessionType::Blob);
    assert!(matches!(
        ev[0],
        Action::Event(Event::IncomingDataRequest { is_self: false, .. })
    ));
    assert_eq!(states(&ev), vec![("request", 0.0)]);
    let a = d.accept().unwrap();
    assert_eq!(texts(&a), vec![ACK0]);
    assert_eq!(states(&a), vec![("downloadStarted", 0.0)]);
    let a = d.handle_chunk(Chunk::Text("YWJj"), now);
    assert_eq!(texts(&a), vec![ACK1]);
    assert_eq!(states(&a), vec![("downloadCompleted", 100.0)]);
    assert_eq!(
        completed_data(&a),
        Some(Payload::blob(&b"abc"[..], Some("text/plain")))
    );
    assert!(
        !a.contains(&Action::CloseChannel),
        "messaging channel stays open"
    );
    assert_eq!(d.outcome(), Some(Outcome::Completed));
}

#[test]
fn tv1_our_upload_in_0_1_3_vocabulary() {
    let now = Instant::now();
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        abc(),
    )
    .unwrap();
    let a = u.start().unwrap();
    assert_eq!(texts(&a), vec![TV1_WRQ]);
    assert_eq!(states(&a), vec![("userRequest", 0.0)]);
    let a = u.handle_message(&msg(ACK0), now);
    assert_eq!(texts(&a), vec!["YWJj"]);
    assert_eq!(states(&a), vec![("uploadStarted", 0.0), ("uploading", 0.0)]);
    assert!(u.poll_timeout().is_some());
    let a = u.handle_message(&msg(ACK1), now);
    assert!(texts(&a).is_empty());
    assert_eq!(states(&a), vec![("uploadCompleted", 100.0)]);
    assert_eq!(u.outcome(), Some(Outcome::Completed));
    assert_eq!(u.poll_timeout(), None);
    // binary requested towards a peer below 0.1.3: identical frames (base64 fallback)
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.0"), "rust"));
    let mut c = UploadConfig::new(TID, "peerA", "peerB", &d, true);
    c.agent = "chrome".into();
    c.version = json!(61);
    c.name = Some("a.txt".into());
    assert!(!c.binary);
    assert_eq!(c.channel, ChannelKind::Messaging);
}

#[test]
fn tv2_our_upload_in_0_1_0_vocabulary() {
    assert_eq!(TV2_WRQ.len(), 272);
    let mut u = Upload::new(js_like(Vocabulary::V010, ChannelKind::Data, false), abc()).unwrap();
    let a = u.start().unwrap();
    assert_eq!(texts(&a), vec![TV2_WRQ]);
    // and JS 0.6.17's WRQ on a DATA channel is understood by our downloader
    let (d, _) = down_from(TV2_WRQ, ChannelKind::Data, TID);
    assert_eq!(d.info().chunk_type, ChunkLabel::BinaryString);
    assert_eq!(d.info().size, 3);
}

#[test]
fn tv3_rejection() {
    let now = Instant::now();
    let user = r#"{"type":"ACK","sender":"peerB","ackN":-1}"#;
    let auto = r#"{"type":"ACK","ackN":-1,"sender":"peerB"}"#;
    assert_eq!((user.len(), auto.len()), (41, 41));
    assert_eq!(msg(user).to_json(), user);
    assert_eq!(msg(auto).to_json(), auto);
    // downloader: user rejection
    let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "peerA_peerB");
    let a = d.reject().unwrap();
    assert_eq!(texts(&a), vec![user]);
    assert_eq!(states(&a), vec![("userRejected", 0.0)]);
    // downloader: automatic rejection of a WRQ on the busy channel
    let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "peerA_peerB");
    let a = d.handle_message(&msg(TV1_WRQ));
    assert_eq!(texts(&a), vec![auto]);
    assert!(!d.is_terminal());
    // uploader: either rejection is `rejected`
    for r in [user, auto] {
        let mut u = Upload::new(
            js_like(Vocabulary::V013, ChannelKind::Messaging, false),
            abc(),
        )
        .unwrap();
        u.start().unwrap();
        let a = u.handle_message(&msg(r), now);
        assert_eq!(states(&a), vec![("rejected", 0.0)]);
        assert_eq!(u.outcome(), Some(Outcome::Rejected));
    }
    // missing ackN is a rejection too
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        abc(),
    )
    .unwrap();
    u.start().unwrap();
    let a = u.handle_message(&msg(r#"{"type":"ACK","sender":"peerB"}"#), now);
    assert_eq!(states(&a), vec![("rejected", 0.0)]);
}

#[test]
fn tv4_binary_chunks() {
    let now = Instant::now();
    let wrq = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"a.txt","size":3,"originalSize":3,"dataType":"blob","mimeType":"text/plain","chunkType":"binary","chunkSize":65456,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    assert_eq!(wrq.len(), 266);
    let mut u = Upload::new(js_like(Vocabulary::V013, ChannelKind::Data, true), abc()).unwrap();
    assert_eq!(texts(&u.start().unwrap()), vec![wrq]);
    let a = u.handle_message(&msg(ACK0), now);
    assert_eq!(sends(&a), vec![OutFrame::Binary(b"abc".to_vec())]);
    let a = u.handle_message(&msg(ACK1), now);
    assert_eq!(states(&a), vec![("uploadCompleted", 100.0)]);
    assert_eq!(a.last(), Some(&Action::CloseChannel));
    // downloader side
    let (mut d, _) = down_from(wrq, ChannelKind::Data, TID);
    assert_eq!(d.info().chunk_type, ChunkLabel::ArrayBuffer);
    d.accept().unwrap();
    let a = d.handle_chunk(Chunk::Binary(b"abc"), now);
    assert_eq!(texts(&a), vec![ACK1]);
    assert_eq!(completed_data(&a).unwrap().as_bytes(), Some(&b"abc"[..]));
    assert_eq!(a.last(), Some(&Action::CloseChannel));
    // Firefox uploader
    let mut c = js_like(Vocabulary::V013, ChannelKind::Data, true);
    c.flavor = Flavor::Firefox;
    c.agent = "firefox".into();
    let w = Upload::new(c, abc()).unwrap().wrq();
    assert_eq!(w.chunk_size, Some(16384));
    let mut c = js_like(Vocabulary::V010, ChannelKind::Data, true);
    c.flavor = Flavor::Firefox;
    assert_eq!(
        Upload::new(c, abc()).unwrap().wrq().chunk_type.as_deref(),
        Some("blob")
    );
}

#[test]
fn tv5_string_transfer() {
    let now = Instant::now();
    let s = "data:text/plain;base64,YWJj";
    let wrq013 = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":null,"size":27,"originalSize":27,"dataType":"data","mimeType":null,"chunkType":"string","chunkSize":1212,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    let wrq017 = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"peerA_1505552345123","size":27,"originalSize":27,"dataType":"dataURL","mimeType":null,"chunkType":"string","chunkSize":49152,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    assert_eq!((wrq013.len(), wrq017.len()), (256, 277));
    let mut c = js_like(Vocabulary::V013, ChannelKind::Data, false);
    c.name = None;
    let mut u = Upload::new(c, Payload::Text(s.into())).unwrap();
    assert_eq!(texts(&u.start().unwrap()), vec![wrq013]);
    assert_eq!(texts(&u.handle_message(&msg(ACK0), now)), vec![s]);
    assert_eq!(u.handle_message(&msg(ACK1), now).len(), 3); // incomingData, completed, close
    assert_eq!(u.outcome(), Some(Outcome::Completed));
    // 0.1.0 vocabulary (ours keeps 1212-unit chunks, §6.4)
    let mut c = js_like(Vocabulary::V010, ChannelKind::Data, false);
    c.name = None;
    let w = Upload::new(c, Payload::Text(s.into())).unwrap().wrq();
    let mut expect = msg(wrq017);
    if let Message::Wrq(ref mut e) = expect {
        e.chunk_size = Some(1212);
    }
    assert_eq!(Message::Wrq(Box::new(w)), expect);
    // both WRQs are string transfers for our downloader
    for wrq in [wrq013, wrq017] {
        let (mut d, _) = down_from(wrq, ChannelKind::Data, TID);
        assert_eq!(d.info().name, TID);
        assert_eq!(d.info().data_type, SessionType::DataUrl);
        assert_eq!(d.info().chunk_type, ChunkLabel::String);
        assert_eq!(d.info().size, 27);
        d.accept().unwrap();
        let a = d.handle_chunk(Chunk::Text(s), now);
        assert_eq!(texts(&a), vec![ACK1]);
        assert_eq!(completed_data(&a), Some(Payload::Text(s.into())));
    }
    // a peer below 0.1.2 without a web agent cannot receive string transfers
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.0"), "rust"));
    let c = UploadConfig::new(TID, "peerA", "peerB", &d, false);
    assert!(Upload::new(c, Payload::Text(s.into())).is_err());
}

fn big(n: usize) -> Payload {
    Payload::blob(vec![0x41u8; n], Some("text/plain"))
}

fn ack(n: i64) -> String {
    format!(r#"{{"type":"ACK","sender":"peerB","ackN":{n}}}"#)
}

#[test]
fn tv6_multi_chunk() {
    let now = Instant::now();
    let wrq = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"a.txt","size":133336,"originalSize":100000,"dataType":"blob","mimeType":"text/plain","chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    assert_eq!(wrq.len(), 276);
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        big(100_000),
    )
    .unwrap();
    assert_eq!(texts(&u.start().unwrap()), vec![wrq]);
    let (mut d, _) = down_from(wrq, ChannelKind::Messaging, "peerA_peerB");
    let mut to_up = d.accept().unwrap();
    let mut up_states = vec![];
    let mut down_states = vec![];
    let mut chunk_lens = vec![];
    let mut acks = texts(&to_up);
    while !u.is_terminal() {
        let m = msg(&texts(&to_up)[0]);
        let a = u.handle_message(&m, now);
        up_states.extend(states(&a));
        let Some(f) = sends(&a).into_iter().next() else {
            break;
        };
        let OutFrame::Text(t) = &f else { panic!() };
        chunk_lens.push(t.len());
        if t.len() == 65536 {
            assert_eq!(t, &"QUFB".repeat(16384));
        } else {
            assert_eq!(t, &format!("{}QQ==", "QUFB".repeat(565)));
        }
        to_up = feed_down(&mut d, &f, now);
        down_states.extend(states(&to_up));
        acks.extend(texts(&to_up));
    }
    assert_eq!(chunk_lens, vec![65536, 65536, 2264]);
    assert_eq!(acks, vec![ack(0), ack(1), ack(2), ack(3)]);
    assert_eq!(
        up_states,
        vec![
            ("uploadStarted", 0.0),
            ("uploading", 0.0),
            ("uploading", 33.33),
            ("uploading", 66.67),
            ("uploadCompleted", 100.0)
        ]
    );
    assert_eq!(
        down_states,
        vec![
            ("downloading", 49.15),
            ("downloading", 98.3),
            ("downloadCompleted", 100.0)
        ]
    );
    // Firefox uploader, 30 000 bytes
    let mut c = js_like(Vocabulary::V013, ChannelKind::Messaging, false);
    c.flavor = Flavor::Firefox;
    let u = Upload::new(c, big(30_000)).unwrap();
    let w = u.wrq();
    assert_eq!(
        (w.size, w.chunk_size, u.chunk_count()),
        (Some(40000), Some(16384), 3)
    );
    let lens: Vec<usize> = (0..3)
        .map(|i| match u.chunk_frame(i).unwrap() {
            OutFrame::Text(t) => t.len(),
            OutFrame::Binary(_) => 0,
        })
        .collect();
    assert_eq!(lens, vec![16384, 16384, 7232]);
}

#[test]
fn tv7_js_chunking_defect() {
    let now = Instant::now();
    let wrq = r#"{"type":"WRQ","transferId":"peerA_1505552345123","name":"a.txt","size":65540,"originalSize":49153,"dataType":"blob","mimeType":"text/plain","chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    assert_eq!(wrq.len(), 274);
    // our uploader sends both chunks and expects ACK 0, 1, 2
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        big(49_153),
    )
    .unwrap();
    assert_eq!(texts(&u.start().unwrap()), vec![wrq]);
    assert_eq!(texts(&u.handle_message(&msg(&ack(0)), now))[0].len(), 65536);
    assert_eq!(texts(&u.handle_message(&msg(&ack(1)), now)), vec!["QQ=="]);
    u.handle_message(&msg(&ack(2)), now);
    assert_eq!(u.outcome(), Some(Outcome::Completed));
    // our downloader fed the JS (buggy) single chunk: ACK 1, not final, then timeout
    let (mut d, _) = down_from(wrq, ChannelKind::Messaging, "peerA_peerB");
    d.accept().unwrap();
    let a = d.handle_chunk(Chunk::Text(&"QUFB".repeat(16384)), now);
    assert_eq!(texts(&a), vec![ack(1)]);
    assert_eq!(states(&a), vec![("downloading", 99.99)]);
    let dl = d.poll_timeout().unwrap();
    assert_eq!(dl, now + Duration::from_secs(60));
    assert!(d.handle_timeout(dl - Duration::from_millis(1)).is_empty());
    let a = d.handle_timeout(dl);
    assert_eq!(
        texts(&a),
        vec![
            r#"{"type":"ERROR","content":"Connection Timeout. Longer than 60 seconds. Connection is abolished.","isUploadError":false,"sender":"peerB","name":"a.txt"}"#
        ]
    );
    assert_eq!(states(&a), vec![("error", 99.99)]);
    assert_eq!(d.outcome(), Some(Outcome::Failed));
}

#[test]
fn tv8_cancel() {
    let now = Instant::now();
    let up_cancel = r#"{"type":"CANCEL","sender":"peerA","content":"Peer cancelled download transfer","name":"a.txt","ackN":0}"#;
    let down_cancel = up_cancel.replace("peerA", "peerB");
    assert_eq!(up_cancel.len(), 103);
    assert_eq!(msg(up_cancel).to_json(), up_cancel);
    // uploader cancels before and after acceptance
    for accepted in [false, true] {
        let mut u =
            Upload::new(js_like(Vocabulary::V013, ChannelKind::Data, false), abc()).unwrap();
        u.start().unwrap();
        if accepted {
            u.handle_message(&msg(ACK0), now);
        }
        let a = u.cancel();
        assert_eq!(texts(&a), vec![up_cancel]);
        assert_eq!(states(&a)[0].0, "cancel");
        let Some(Action::Event(Event::DataTransferState { error: Some(e), .. })) = a.get(1) else {
            panic!()
        };
        assert_eq!(e.message, "User cancelled download transfer");
        // the receiver side
        let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Data, TID);
        if accepted {
            d.accept().unwrap();
        }
        let a = d.handle_message(&msg(up_cancel));
        let Some(Action::Event(Event::DataTransferState {
            state,
            error: Some(e),
            ..
        })) = a.first()
        else {
            panic!()
        };
        assert_eq!(
            (state.as_str(), e.message.as_str()),
            ("cancel", "Peer cancelled download transfer")
        );
        assert_eq!(a.last(), Some(&Action::CloseChannel));
        // a chunk still in flight is discarded
        assert!(d.handle_chunk(Chunk::Text("YWJj"), now).is_empty());
    }
    // downloader cancels
    let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "peerA_peerB");
    d.accept().unwrap();
    assert_eq!(texts(&d.cancel()), vec![down_cancel.clone()]);
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        abc(),
    )
    .unwrap();
    u.start().unwrap();
    u.handle_message(&msg(ACK0), now);
    assert_eq!(
        states(&u.handle_message(&msg(&down_cancel), now))[0].0,
        "cancel"
    );
    assert_eq!(u.outcome(), Some(Outcome::Cancelled));
}

#[test]
fn tv9_error_timeout() {
    let now = Instant::now();
    let up = r#"{"type":"ERROR","content":"Connection Timeout. Longer than 60 seconds. Connection is abolished.","isUploadError":true,"sender":"peerA","name":"a.txt"}"#;
    assert_eq!(up.len(), 150);
    assert_eq!(msg(up).to_json(), up);
    let mut u = Upload::new(
        js_like(Vocabulary::V013, ChannelKind::Messaging, false),
        big(100_000),
    )
    .unwrap();
    u.start().unwrap();
    assert_eq!(u.poll_timeout(), None, "no timer during the request phase");
    u.handle_message(&msg(ACK0), now);
    let a = u.handle_timeout(u.poll_timeout().unwrap());
    assert_eq!(texts(&a), vec![up]);
    let Some(Action::Event(Event::DataTransferState {
        state,
        error: Some(e),
        ..
    })) = a.get(1)
    else {
        panic!()
    };
    assert_eq!(state.as_str(), "error");
    assert_eq!(e.transfer_type, TransferDirection::Download, "JS quirk Q4");
    assert_eq!(u.residual(), Residual::RemoteDownloaderStuck);
    // 1 s timeouts
    let mut c = js_like(Vocabulary::V013, ChannelKind::Messaging, false);
    c.timeout_secs = 1.0;
    let mut u = Upload::new(c, big(100_000)).unwrap();
    u.start().unwrap();
    u.handle_message(&msg(ACK0), now);
    let t = texts(&u.handle_timeout(now + Duration::from_secs(1)));
    // §7.10 says [148/149]; the frames of [150/151] with "60" → "1" are one byte shorter each.
    assert_eq!(t[0].len(), 149);
    assert!(t[0].contains("Longer than 1 seconds."));
    let wrq1 = TV1_WRQ.replace("\"timeout\":60", "\"timeout\":1");
    let (mut d, _) = down_from(
        &wrq1.replace("\"size\":4", "\"size\":8"),
        ChannelKind::Messaging,
        "x",
    );
    d.accept().unwrap();
    d.handle_chunk(Chunk::Text("YWJj"), now);
    let t = texts(&d.handle_timeout(now + Duration::from_secs(1)));
    assert_eq!(t[0].len(), 150);
    // an ERROR received ends the session with `error`
    let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "x");
    d.accept().unwrap();
    assert_eq!(states(&d.handle_message(&msg(up))), vec![("error", 0.0)]);
    assert_eq!(
        timeout_error_text(1.5),
        "Connection Timeout. Longer than 1.5 seconds. Connection is abolished."
    );
}

#[test]
fn tv10_message() {
    let m = r#"{"type":"MESSAGE","isPrivate":true,"sender":"peerA","target":"peerB","data":"hi"}"#;
    assert_eq!(m.len(), 81);
    assert_eq!(
        Message::Message(P2pMessage::new(true, "peerA", "peerB", json!("hi"))).to_json(),
        m
    );
    assert_eq!(msg(m).to_json(), m);
    let m2 = r#"{"type":"MESSAGE","isPrivate":false,"sender":"peerA","target":"peerB","data":{"k":[1,"é"]}}"#;
    assert_eq!(m2.len(), 92);
    assert_eq!(
        Message::Message(P2pMessage::new(
            false,
            "peerA",
            "peerB",
            json!({"k":[1,"é"]})
        ))
        .to_json(),
        m2
    );
    let Message::Message(p) = msg(m2) else {
        panic!()
    };
    assert_eq!(p.data, Some(json!({"k":[1,"é"]})));
}

#[test]
fn tv11_stream_control() {
    let start = r#"{"type":"WRQ","transferId":"stream_peerA_1505552345123","name":"stream_peerA_1505552345123","size":0,"originalSize":0,"dataType":"fastBinaryStart","mimeType":null,"chunkType":"binary","chunkSize":0,"timeout":0,"isPrivate":true,"sender":"peerA","agent":"chrome","version":61,"target":"peerB"}"#;
    let stop = start.replace("fastBinaryStart", "fastBinaryStop");
    assert_eq!((start.len(), stop.len()), (291, 290));
    let mut c = StreamConfig::new("stream_peerA_1505552345123", "peerA", "peerB", false, true);
    c.agent = "chrome".into();
    c.version = json!(61);
    let mut tx = DataStreamSender::new(c);
    let a = tx.start().unwrap();
    assert_eq!(a[0], StreamAction::Send(OutFrame::Text(start.into())));
    let a = tx.send_binary(b"abc").unwrap();
    assert_eq!(a[0], StreamAction::Send(OutFrame::Binary(b"abc".to_vec())));
    let a = tx.stop().unwrap();
    assert_eq!(a[0], StreamAction::Send(OutFrame::Text(stop.clone())));
    assert_eq!(a.last(), Some(&StreamAction::CloseChannel));
    // receiver
    let Message::Wrq(w) = msg(start) else {
        panic!()
    };
    assert_eq!(w.kind(), WrqKind::StreamStart);
    assert!(
        Download::new(
            DownloadConfig::new("peerB", "peerA", "x", ChannelKind::Data),
            &w
        )
        .is_err()
    );
    let (mut rx, a) = DataStreamReceiver::new("stream_peerA_1505552345123", "peerA", &w).unwrap();
    assert!(
        matches!(&a[0], StreamAction::Event(e) if e.state == DataStreamState::ReceivingStarted)
    );
    let a = rx.handle_chunk(Chunk::Binary(b"abc"));
    assert!(
        matches!(&a[0], StreamAction::Event(e) if e.state.as_str() == "received" && e.info.chunk_size == 3)
    );
    assert!(rx.handle_chunk(Chunk::Text("abc")).is_empty());
    let Message::Wrq(w) = msg(&stop) else {
        panic!()
    };
    let a = rx.handle_wrq(&w);
    assert!(matches!(&a[0], StreamAction::Event(e) if e.state.as_str() == "receiveStop"));
}

#[test]
fn tv12_receiver_classification() {
    let now = Instant::now();
    // JS swallows `1234`/`true`; our receiver uses them as data.
    for (t, bytes) in [
        ("1234", [0xD7, 0x6D, 0xF8]),
        ("true", [0xB6, 0xBB, 0x9E]),
        ("null", [0x9E, 0xE9, 0x65]),
    ] {
        let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "x");
        d.accept().unwrap();
        let f = OutFrame::Text(t.into());
        let a = feed_down(&mut d, &f, now);
        assert_eq!(completed_data(&a).unwrap().as_bytes(), Some(&bytes[..]));
        // and our sender never emits such a chunk
        let enc = skylink_dt::chunk::encode_base64_chunk(&bytes);
        assert_eq!(js_classify_text(&enc), JsTextClass::Chunk, "{enc}");
    }
    // undecodable text in a blob transfer: terminal error + CANCEL, never completion
    let (mut d, _) = down_from(TV1_WRQ, ChannelKind::Messaging, "x");
    d.accept().unwrap();
    let a = d.handle_chunk(Chunk::Text("{a:1}"), now);
    assert_eq!(states(&a), vec![("error", 0.0)]);
    assert!(texts(&a)[0].starts_with(r#"{"type":"CANCEL""#));
}

#[test]
fn tv13_minimal_wrq() {
    let now = Instant::now();
    let wrq = r#"{"type":"WRQ","sender":"peerA","agent":"rust","version":1,"name":"a.txt","size":4,"chunkSize":65536,"timeout":60,"target":"peerB","isPrivate":false}"#;
    assert_eq!(wrq.len(), 148);
    let (mut d, ev) = down_from(wrq, ChannelKind::Messaging, "peerA_peerB");
    assert_eq!(d.config().transfer_id, "transfer_peerA_1505552345123");
    let Action::Event(Event::IncomingDataRequest { info, peer_id, .. }) = &ev[0] else {
        panic!()
    };
    assert_eq!(peer_id, "peerA");
    assert_eq!(
        (
            info.name.as_str(),
            info.size,
            info.data_type,
            info.mime_type.clone(),
            info.chunk_size,
            info.chunk_type,
            info.timeout,
            info.is_private
        ),
        (
            "a.txt",
            3,
            SessionType::Blob,
            None,
            65536,
            ChunkLabel::BinaryString,
            60.0,
            false
        )
    );
    assert_eq!(texts(&d.accept().unwrap()), vec![ACK0]);
    let a = d.handle_chunk(Chunk::Text("YWJj"), now);
    assert_eq!(texts(&a), vec![ACK1]);
    assert_eq!(completed_data(&a).unwrap().as_bytes(), Some(&b"abc"[..]));
}

#[test]
fn tv14_displayed_size() {
    let w = TV1_WRQ.replace(r#""originalSize":3,"#, "");
    let (d, _) = down_from(&w, ChannelKind::Messaging, "x");
    assert_eq!(d.info().size, 3);
    let w = TV1_WRQ
        .replace(r#""originalSize":3"#, r#""originalSize":0"#)
        .replace(r#""chunkType":"string""#, r#""chunkType":"binary""#);
    let (d, _) = down_from(&w, ChannelKind::Messaging, "x");
    assert_eq!(d.info().size, 4);
}

#[test]
fn multi_peer_group_result() {
    let now = Instant::now();
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let payload = abc();
    let mut g = UploadGroup::new();
    for peer in ["peerB", "peerC"] {
        let mut u = Upload::new(
            UploadConfig::new(TID, "peerA", peer, &d, false),
            payload.clone(),
        )
        .unwrap();
        u.start().unwrap();
        g.add(u);
    }
    assert_eq!(g.result(), None);
    let b = g.get_mut("peerB").unwrap();
    b.handle_message(&msg(ACK0), now);
    b.handle_message(&msg(ACK1), now);
    assert_eq!(g.result(), None, "peerC still pending");
    assert!(g.poll_timeout().is_none());
    g.get_mut("peerC")
        .unwrap()
        .handle_message(&msg(r#"{"type":"ACK","sender":"peerC","ackN":-1}"#), now);
    assert_eq!(
        g.result(),
        Some(Err(vec![("peerC".to_string(), Outcome::Rejected)]))
    );
}

#[test]
fn hostile_wrq_values_do_not_panic() {
    let now = Instant::now();
    for t in ["1e300", "1e19", "1.8e19", "1e18", "-5", "0", "0.000001"] {
        let w = TV1_WRQ
            .replace("\"timeout\":60", &format!("\"timeout\":{t}"))
            .replace("\"size\":4", "\"size\":8");
        let (mut d, _) = down_from_lenient(&w);
        d.accept().unwrap();
        d.handle_chunk(Chunk::Text("YWJj"), now);
        if let Some(dl) = d.poll_timeout() {
            d.handle_timeout(dl);
        }
    }
    let w = TV1_WRQ.replace("\"size\":4", "\"size\":18446744073709551615");
    let (mut d, _) = down_from_lenient(&w);
    d.accept().unwrap();
    assert_eq!(
        states(&d.handle_chunk(Chunk::Text("YWJj"), now)),
        vec![("downloading", 0.0)]
    );
}

fn down_from_lenient(wrq: &str) -> (Download, Vec<Action>) {
    let Message::Wrq(w) = msg(wrq) else { panic!() };
    Download::new(
        DownloadConfig::new("peerB", "peerA", TID, ChannelKind::Messaging),
        &w,
    )
    .unwrap()
}
