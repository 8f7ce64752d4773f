//! Two `PeerDt`s wired back to back: channel choice per dialect, routing, auto-rejection,
//! streams, messages.

use skylink_dt::peer::{Output, PeerDt};
use skylink_dt::stream::{DataStreamState, StreamChunk};
use skylink_dt::transfer::*;
use skylink_dt::version::{Dialect, PeerProfile};
use std::time::Instant;

const MAIN: &str = "A_B";

#[derive(Default)]
struct Seen {
    events: Vec<Event>,
    streams: Vec<skylink_dt::stream::StreamEvent>,
    messages: Vec<serde_json::Value>,
    closed: Vec<String>,
    sent_labels: Vec<String>,
}

fn pair(version_seen_by_a: Option<&str>, agent_b: &str) -> (PeerDt, PeerDt) {
    let da = Dialect::for_peer(&PeerProfile::new(version_seen_by_a, agent_b));
    let db = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "rust"));
    let mut a = PeerDt::new("A", "B", da);
    let mut b = PeerDt::new("B", "A", db);
    a.set_messaging_label(MAIN);
    b.set_messaging_label(MAIN);
    (a, b)
}

/// Pump until quiet; `auto_accept` answers every `request`.
fn pump(a: &mut PeerDt, b: &mut PeerDt, auto_accept: Option<bool>, sa: &mut Seen, sb: &mut Seen) {
    let now = Instant::now();
    loop {
        let mut progress = false;
        for side in 0..2 {
            let (x, y, seen) = if side == 0 {
                (&mut *a, &mut *b, &mut *sa)
            } else {
                (&mut *b, &mut *a, &mut *sb)
            };
            while let Some(o) = x.poll_output() {
                progress = true;
                match o {
                    Output::Send { label, frame } => {
                        seen.sent_labels.push(label.clone());
                        let f = frame.as_frame();
                        y.handle_frame(&label, f, now, 1).unwrap();
                    }
                    Output::OpenChannel { label } => x.channel_open(&label).unwrap(),
                    Output::CloseChannel { label } => seen.closed.push(label),
                    Output::Transfer(e) => {
                        if let (Some(DataTransferState::UploadRequest), Some(acc)) =
                            (e.state(), auto_accept)
                            && let Event::DataTransferState { transfer_id, .. } = &e
                        {
                            x.respond(transfer_id, acc).unwrap();
                        }
                        seen.events.push(e);
                    }
                    Output::Stream(e) => seen.streams.push(e),
                    Output::Message { message, .. } => {
                        seen.messages.push(message.data.unwrap_or_default())
                    }
                }
            }
        }
        if !progress {
            break;
        }
    }
}

fn states(s: &Seen) -> Vec<&'static str> {
    s.events
        .iter()
        .filter_map(|e| e.state().map(|s| s.as_str()))
        .collect()
}

fn received(s: &Seen) -> Option<Payload> {
    s.events.iter().find_map(|e| match e {
        Event::IncomingData {
            data,
            is_self: false,
            ..
        } => Some(data.clone()),
        _ => None,
    })
}

#[test]
fn blob_string_stream_and_message_with_a_0_1_3_peer() {
    let (mut a, mut b) = pair(Some("0.1.3"), "chrome");
    let (mut sa, mut sb) = (Seen::default(), Seen::default());
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for binary in [false, true] {
        let id = a.new_transfer_id(1);
        a.send_payload(
            &id,
            Payload::blob(data.clone(), None),
            Some("f.bin"),
            binary,
        )
        .unwrap();
        pump(&mut a, &mut b, Some(true), &mut sa, &mut sb);
        assert_eq!(received(&sb).unwrap().as_bytes(), Some(&data[..]));
        assert!(sa.sent_labels.iter().all(|l| l == &id), "DATA channel used");
        assert!(sa.closed.contains(&id) && sb.closed.contains(&id));
        assert_eq!(states(&sa).last(), Some(&"uploadCompleted"));
        sa = Seen::default();
        sb = Seen::default();
    }
    let id = a.new_transfer_id(1);
    a.send_payload(
        &id,
        Payload::Text("data:text/plain;base64,YWJj".into()),
        None,
        false,
    )
    .unwrap();
    pump(&mut a, &mut b, Some(true), &mut sa, &mut sb);
    assert_eq!(
        received(&sb).unwrap().as_text(),
        Some("data:text/plain;base64,YWJj")
    );

    a.start_stream("stream_A_1", false, true).unwrap();
    pump(&mut a, &mut b, None, &mut sa, &mut sb);
    a.stream_send("stream_A_1", Chunk::Binary(b"abc")).unwrap();
    a.stream_stop("stream_A_1").unwrap();
    pump(&mut a, &mut b, None, &mut sa, &mut sb);
    let got: Vec<_> = sb
        .streams
        .iter()
        .map(|e| (e.state, e.chunk.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (DataStreamState::ReceivingStarted, None),
            (
                DataStreamState::Received,
                Some(StreamChunk::Binary(b"abc"[..].into()))
            ),
            (DataStreamState::ReceivingStopped, None)
        ]
    );
    a.send_message(serde_json::json!({"k": 1}), true).unwrap();
    pump(&mut a, &mut b, None, &mut sa, &mut sb);
    assert_eq!(sb.messages, vec![serde_json::json!({"k": 1})]);
}

#[test]
fn legacy_peer_uses_the_messaging_channel_one_at_a_time() {
    let (mut a, mut b) = pair(Some("0.1.0"), "rust");
    let (mut sa, mut sb) = (Seen::default(), Seen::default());
    assert!(a.start_stream("s", false, false).is_err());
    assert!(
        a.send_payload("A_1", Payload::Text("x".into()), None, false)
            .is_err()
    );
    a.send_payload("A_1", Payload::blob(&b"abc"[..], None), None, true)
        .unwrap();
    assert!(
        a.send_payload("A_2", Payload::blob(&b"abc"[..], None), None, false)
            .is_err()
    );
    pump(&mut a, &mut b, Some(false), &mut sa, &mut sb);
    assert_eq!(states(&sa), vec!["userRequest", "rejected"]);
    assert_eq!(states(&sb), vec!["request", "userRejected"]);
    assert!(sa.sent_labels.iter().all(|l| l == MAIN));
    // the binding is free again on our side
    a.send_payload("A_3", Payload::blob(&b"abc"[..], None), None, false)
        .unwrap();
    pump(&mut a, &mut b, Some(true), &mut sa, &mut sb);
    assert_eq!(received(&sb).unwrap().as_bytes(), Some(&b"abc"[..]));
}

#[test]
fn simultaneous_uploads_over_the_messaging_channel_reject_each_other() {
    let da = Dialect::for_peer(&PeerProfile::new(Some("0.1.0"), "rust"));
    let mut a = PeerDt::new("A", "B", da);
    let mut b = PeerDt::new("B", "A", da);
    a.set_messaging_label(MAIN);
    b.set_messaging_label(MAIN);
    a.send_payload("A_1", Payload::blob(&b"abc"[..], None), None, false)
        .unwrap();
    b.send_payload("B_1", Payload::blob(&b"xyz"[..], None), None, false)
        .unwrap();
    let (mut sa, mut sb) = (Seen::default(), Seen::default());
    pump(&mut a, &mut b, Some(true), &mut sa, &mut sb);
    assert_eq!(states(&sa), vec!["userRequest", "rejected"]);
    assert_eq!(states(&sb), vec!["userRequest", "rejected"]);
}

#[test]
fn timeouts_and_channel_loss() {
    let (mut a, mut b) = pair(Some("0.1.3"), "chrome");
    let (mut sa, mut sb) = (Seen::default(), Seen::default());
    a.send_payload("A_9", Payload::blob(vec![7u8; 100_000], None), None, false)
        .unwrap();
    // open the channel, deliver WRQ, accept, but stop pumping after chunk 0 is sent
    a.channel_open("A_9").unwrap();
    let now = Instant::now();
    while let Some(o) = a.poll_output() {
        if let Output::Send { label, frame } = o {
            b.handle_frame(&label, frame.as_frame(), now, 1).unwrap();
        }
    }
    b.respond("A_9", true).unwrap();
    while let Some(o) = b.poll_output() {
        if let Output::Send { label, frame } = o {
            a.handle_frame(&label, frame.as_frame(), now, 1).unwrap();
        }
    }
    let deadline = a.poll_timeout().unwrap();
    a.handle_timeout(deadline);
    pump(&mut a, &mut b, None, &mut sa, &mut sb);
    assert_eq!(states(&sa).last(), Some(&"error"));
    // B received chunk 0 and then the ERROR
    assert_eq!(states(&sb).last(), Some(&"error"));
    assert!(a.poll_timeout().is_none() && b.poll_timeout().is_none());
    // channel loss during a download
    a.send_payload("A_10", Payload::blob(vec![7u8; 100_000], None), None, false)
        .unwrap();
    a.channel_open("A_10").unwrap();
    while let Some(o) = a.poll_output() {
        if let Output::Send { label, frame } = o {
            b.handle_frame(&label, frame.as_frame(), now, 1).unwrap();
        }
    }
    b.respond("A_10", true).unwrap();
    a.channel_closed("A_10", now);
    b.channel_closed("A_10", now);
    let (mut sa, mut sb) = (Seen::default(), Seen::default());
    pump(&mut a, &mut b, None, &mut sa, &mut sb);
    assert!(
        sa.events
            .iter()
            .any(|e| e.state() == Some(DataTransferState::Error))
    );
    assert!(
        sb.events
            .iter()
            .any(|e| e.state() == Some(DataTransferState::Error))
    );
}

#[test]
fn incoming_channel_classification() {
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let mut b = PeerDt::new("B", "A", d);
    assert_eq!(b.incoming_channel("A_B"), ChannelKind::Messaging);
    assert_eq!(b.incoming_channel("A_1505552345123"), ChannelKind::Data);
    assert_eq!(
        b.incoming_channel("A_B"),
        ChannelKind::Messaging,
        "revival keeps the label"
    );
}
