//! Replays of the real skylinkjs 0.6.26 traffic in `fixtures/skylinkjs-0.6.26/datachannel.jsonl`:
//! the JS uploader's frames into our `Download` (and stream receiver), and the JS downloader's
//! ACKs into our `Upload` (and stream sender), comparing every frame byte for byte.

mod common;
use base64::Engine as _;
use common::*;
use serde_json::Value;
use skylink_dt::message::{Frame, Incoming, Message, OutFrame, WrqKind, classify};
use skylink_dt::stream::*;
use skylink_dt::transfer::*;
use skylink_dt::version::{Dialect, PeerProfile};
use std::time::Instant;

struct Rec {
    peer: String,
    dir: String,
    label: String,
    frame: OutFrame,
}

fn load() -> Vec<Rec> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/skylinkjs-0.6.26/datachannel.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("fixture present");
    let mut recs: Vec<(String, u64, Rec)> = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let dir = v["dir"].as_str().unwrap_or("").to_owned();
        if dir == "meta" {
            continue;
        }
        let frame = match v["kind"].as_str() {
            Some("text") => OutFrame::Text(v["data"].as_str().unwrap().to_owned()),
            Some("binary") => OutFrame::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(v["base64"].as_str().unwrap())
                    .unwrap(),
            ),
            _ => continue,
        };
        let peer = v["peer"].as_str().unwrap().to_owned();
        let seq = v["seq"].as_u64().unwrap();
        recs.push((
            peer.clone(),
            seq,
            Rec {
                peer,
                dir,
                label: v["label"].as_str().unwrap().to_owned(),
                frame,
            },
        ));
    }
    recs.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    recs.into_iter().map(|r| r.2).collect()
}

fn transfer_labels(recs: &[Rec]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for r in recs {
        if let OutFrame::Text(t) = &r.frame
            && t.contains(r#""type":"WRQ""#)
            && !v.contains(&r.label)
        {
            v.push(r.label.clone());
        }
    }
    v
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

#[test]
fn js_uploads_into_our_download() {
    let recs = load();
    let now = Instant::now();
    let labels = transfer_labels(&recs);
    assert_eq!(labels.len(), 4, "3 transfers + 1 stream");
    let mut checked = 0;
    for label in &labels {
        let b: Vec<&Rec> = recs
            .iter()
            .filter(|r| r.peer == "B" && &r.label == label)
            .collect();
        let ins: Vec<&OutFrame> = b
            .iter()
            .filter(|r| r.dir == "in")
            .map(|r| &r.frame)
            .collect();
        let js_outs: Vec<OutFrame> = b
            .iter()
            .filter(|r| r.dir == "out")
            .map(|r| r.frame.clone())
            .collect();
        let Incoming::Message(Message::Wrq(w)) = classify(ins[0].as_frame()).unwrap() else {
            panic!()
        };
        let local = match &w.target {
            Some(skylink_dt::message::Target::Peer(p)) => p.clone(),
            _ => panic!(),
        };
        let sender = w.sender.clone().unwrap();
        if w.kind() == WrqKind::StreamStart {
            let (mut rx, _) = DataStreamReceiver::new(label, &sender, &w).unwrap();
            let mut got = Vec::new();
            for f in &ins[1..] {
                match classify(f.as_frame()).unwrap() {
                    Incoming::BinaryChunk(c) => {
                        for a in rx.handle_chunk(skylink_dt::transfer::Chunk::Binary(c)) {
                            if let StreamAction::Event(StreamEvent {
                                chunk: Some(StreamChunk::Binary(c)),
                                ..
                            }) = a
                            {
                                got.push(c.to_vec());
                            }
                        }
                    }
                    Incoming::Message(Message::Wrq(w)) => {
                        rx.handle_wrq(&w);
                    }
                    _ => panic!(),
                }
            }
            assert!(rx.is_stopped());
            let expect: Vec<Vec<u8>> = (0..3)
                .map(|k| (0..64).map(|i| ((64 * k + i) & 255) as u8).collect())
                .collect();
            assert_eq!(got, expect);
            assert!(js_outs.is_empty());
            checked += 1;
            continue;
        }
        let id = receiver_transfer_id(ChannelKind::Data, label, &w, &sender, 0);
        let (mut d, _) = Download::new(
            DownloadConfig::new(&local, &sender, &id, ChannelKind::Data),
            &w,
        )
        .unwrap();
        let mut ours = sends(&d.accept().unwrap());
        let mut data = None;
        for f in &ins[1..] {
            let a = feed_down(&mut d, f, now);
            ours.extend(sends(&a));
            if let Some(p) = completed_data(&a) {
                data = Some(p);
            }
        }
        assert_eq!(ours, js_outs, "ACK frames on {label}");
        assert_eq!(d.outcome(), Some(Outcome::Completed));
        match data.unwrap() {
            Payload::Blob { data, mime_type } => {
                assert_eq!(mime_type.as_deref(), Some("application/octet-stream"));
                assert_eq!(&data[..], &pattern(data.len())[..]);
                assert!(data.len() == 10_000 || data.len() == 140_000);
            }
            Payload::Text(t) => {
                assert_eq!(&*t, "data:text/plain;base64,aGVsbG8gdXJsIGRhdGEgZnJvbSBB")
            }
            Payload::Source { .. } | Payload::Stored { .. } => {
                panic!("an in-memory download yields bytes or text")
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn our_upload_against_js_downloader() {
    let recs = load();
    let now = Instant::now();
    for label in transfer_labels(&recs) {
        let a: Vec<&Rec> = recs
            .iter()
            .filter(|r| r.peer == "A" && r.label == label)
            .collect();
        let js_outs: Vec<OutFrame> = a
            .iter()
            .filter(|r| r.dir == "out")
            .map(|r| r.frame.clone())
            .collect();
        let ins: Vec<&OutFrame> = a
            .iter()
            .filter(|r| r.dir == "in")
            .map(|r| &r.frame)
            .collect();
        let OutFrame::Text(wrq_text) = &js_outs[0] else {
            panic!()
        };
        let Message::Wrq(w) = msg(wrq_text) else {
            panic!()
        };
        let sender = w.sender.clone().unwrap();
        let Some(skylink_dt::message::Target::Peer(target)) = w.target.clone() else {
            panic!()
        };
        // the JS peer announces 0.1.3 with agent chrome
        let dialect = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
        if w.kind() == WrqKind::StreamStart {
            let mut c = StreamConfig::new(&label, &sender, &target, false, true);
            c.agent = "chrome".into();
            c.version = serde_json::json!(156);
            assert!(dialect.streams);
            let mut tx = DataStreamSender::new(c);
            let mut ours = Vec::new();
            for act in tx.start().unwrap() {
                if let StreamAction::Send(f) = act {
                    ours.push(f);
                }
            }
            for f in &js_outs[1..js_outs.len() - 1] {
                let OutFrame::Binary(b) = f else { panic!() };
                for act in tx.send_binary(b).unwrap() {
                    if let StreamAction::Send(f) = act {
                        ours.push(f);
                    }
                }
            }
            for act in tx.stop().unwrap() {
                if let StreamAction::Send(f) = act {
                    ours.push(f);
                }
            }
            assert_eq!(ours, js_outs);
            continue;
        }
        let binary = w.chunk_type.as_deref() == Some("binary");
        let mut cfg = UploadConfig::new(&label, &sender, &target, &dialect, binary);
        cfg.agent = "chrome".into();
        cfg.version = serde_json::json!(156);
        cfg.name = w.name.clone();
        let payload = if w.data_type.as_deref() == Some("data") {
            Payload::Text("data:text/plain;base64,aGVsbG8gdXJsIGRhdGEgZnJvbSBB".into())
        } else {
            Payload::blob(
                pattern(w.original_size.unwrap() as usize),
                Some("application/octet-stream"),
            )
        };
        let mut u = Upload::new(cfg, payload).unwrap();
        let mut ours = sends(&u.start().unwrap());
        for f in ins {
            let OutFrame::Text(t) = f else { panic!() };
            let m = Message::from_json(t).unwrap();
            ours.extend(sends(&u.handle_message(&m, now)));
        }
        assert_eq!(ours, js_outs, "frames on {label}");
        assert_eq!(u.outcome(), Some(Outcome::Completed));
    }
}

#[test]
fn p2p_messages_decode_and_reencode() {
    let recs = load();
    let mut n = 0;
    for r in recs.iter().filter(|r| r.dir == "out") {
        if let OutFrame::Text(t) = &r.frame
            && let Ok(Incoming::Message(m)) = classify(Frame::Text(t))
        {
            assert_eq!(&m.to_json(), t);
            n += 1;
        }
    }
    assert!(n >= 10, "{n}");
}

/// The same traffic through the per-peer router: B's incoming frames (in capture order) into a
/// `PeerDt` that accepts every request yield exactly B's outgoing frames, on the same labels.
#[test]
fn fixture_through_peer_router_as_downloader() {
    use skylink_dt::peer::{Output, PeerDt};
    let recs = load();
    let b_recs: Vec<&Rec> = recs.iter().filter(|r| r.peer == "B").collect();
    let first = &b_recs[0];
    let dialect = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    // B's own id is the target of the first MESSAGE; A's id its sender
    let OutFrame::Text(t) = &first.frame else {
        panic!()
    };
    let Message::Message(m) = msg(t) else {
        panic!()
    };
    let a_id = m.sender.clone().unwrap();
    let Some(skylink_dt::message::Target::Peer(b_id)) = m.target.clone() else {
        panic!()
    };
    let mut b = PeerDt::new(&b_id, &a_id, dialect);
    let now = Instant::now();
    let mut ours: Vec<(String, OutFrame)> = Vec::new();
    let mut messages = 0;
    let mut closed = Vec::new();
    let mut stream_chunks = 0;
    let mut seen_labels: Vec<String> = Vec::new();
    for r in &b_recs {
        if r.dir != "in" {
            continue;
        }
        if !seen_labels.contains(&r.label) {
            seen_labels.push(r.label.clone());
            b.incoming_channel(&r.label);
        }
        b.handle_frame(&r.label, r.frame.as_frame(), now, 0)
            .unwrap();
        while let Some(o) = b.poll_output() {
            match o {
                Output::Send { label, frame } => ours.push((label, frame)),
                Output::Transfer(e) => {
                    if e.state() == Some(DataTransferState::UploadRequest)
                        && let Event::DataTransferState { transfer_id, .. } = &e
                    {
                        b.respond(transfer_id, true).unwrap();
                    }
                    if let Event::IncomingData {
                        data: Payload::Blob { data, .. },
                        ..
                    } = &e
                    {
                        assert!(data[..] == pattern(data.len())[..]);
                    }
                }
                Output::Message { .. } => messages += 1,
                Output::CloseChannel { label } => closed.push(label),
                Output::Stream(e) => {
                    if e.chunk.is_some() {
                        stream_chunks += 1
                    }
                }
                Output::OpenChannel { .. } => panic!("the downloader never opens channels"),
            }
        }
    }
    let theirs: Vec<(String, OutFrame)> = b_recs
        .iter()
        .filter(|r| r.dir == "out")
        .map(|r| (r.label.clone(), r.frame.clone()))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(messages, 2);
    assert_eq!(stream_chunks, 3);
    assert_eq!(
        closed.len(),
        4,
        "3 transfers + 1 stream channel closed by the receiver"
    );
}

/// And as the uploader: driving a `PeerDt` with A's API calls and A's incoming frames yields
/// exactly A's outgoing frames.
#[test]
fn fixture_through_peer_router_as_uploader() {
    use skylink_dt::peer::{Output, PeerDt};
    let recs = load();
    let a_recs: Vec<&Rec> = recs.iter().filter(|r| r.peer == "A").collect();
    let theirs: Vec<(String, OutFrame)> = a_recs
        .iter()
        .filter(|r| r.dir == "out")
        .map(|r| (r.label.clone(), r.frame.clone()))
        .collect();
    let OutFrame::Text(t) = &theirs[0].1 else {
        panic!()
    };
    let Message::Message(m) = msg(t) else {
        panic!()
    };
    let a_id = m.sender.clone().unwrap();
    let Some(skylink_dt::message::Target::Peer(b_id)) = m.target.clone() else {
        panic!()
    };
    let main = theirs[0].0.clone();
    let dialect = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let mut a = PeerDt::new(&a_id, &b_id, dialect);
    a.set_messaging_label(&main);
    a.agent = "chrome".into();
    a.version = serde_json::json!(156);
    let now = Instant::now();
    let mut ours: Vec<(String, OutFrame)> = Vec::new();
    let drain = |a: &mut PeerDt, ours: &mut Vec<(String, OutFrame)>| {
        while let Some(o) = a.poll_output() {
            match o {
                Output::Send { label, frame } => ours.push((label, frame)),
                Output::OpenChannel { label } => a.channel_open(&label).unwrap(),
                _ => {}
            }
        }
    };
    let feed = |a: &mut PeerDt, label: &str, ours: &mut Vec<(String, OutFrame)>| {
        for r in a_recs.iter().filter(|r| r.dir == "in" && r.label == label) {
            a.handle_frame(label, r.frame.as_frame(), now, 0).unwrap();
            drain(a, ours);
        }
    };
    a.send_message(serde_json::json!("hello p2p from A"), true)
        .unwrap();
    drain(&mut a, &mut ours);
    let labels = transfer_labels(&recs);
    a.send_payload(
        &labels[0],
        Payload::blob(pattern(10_000), Some("application/octet-stream")),
        Some("pattern.bin"),
        false,
    )
    .unwrap();
    drain(&mut a, &mut ours);
    feed(&mut a, &labels[0], &mut ours);
    a.send_payload(
        &labels[1],
        Payload::blob(pattern(140_000), Some("application/octet-stream")),
        Some("pattern-140000.bin"),
        true,
    )
    .unwrap();
    drain(&mut a, &mut ours);
    feed(&mut a, &labels[1], &mut ours);
    a.send_payload(
        &labels[2],
        Payload::Text("data:text/plain;base64,aGVsbG8gdXJsIGRhdGEgZnJvbSBB".into()),
        None,
        false,
    )
    .unwrap();
    drain(&mut a, &mut ours);
    feed(&mut a, &labels[2], &mut ours);
    a.start_stream(&labels[3], false, true).unwrap();
    drain(&mut a, &mut ours);
    for k in 0..3usize {
        let chunk: Vec<u8> = (0..64).map(|i| ((64 * k + i) & 255) as u8).collect();
        a.stream_send(&labels[3], skylink_dt::transfer::Chunk::Binary(&chunk))
            .unwrap();
    }
    a.stream_stop(&labels[3]).unwrap();
    drain(&mut a, &mut ours);
    a.send_message(serde_json::json!("after refresh"), true)
        .unwrap();
    drain(&mut a, &mut ours);
    assert_eq!(ours.len(), theirs.len());
    assert!(ours == theirs, "frames differ");
}
