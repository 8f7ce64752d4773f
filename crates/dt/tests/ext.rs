//! The skylink-rs-only extensions: pipelined and resumable transfers with a whole-payload
//! checksum, negotiated in-band between our own peers.

use skylink_dt::ext::{ExtOffer, digest_hex};
use skylink_dt::message::{Message, OutFrame};
use skylink_dt::peer::{Output, PeerDt};
use skylink_dt::sink::ChunkSink;
use skylink_dt::transfer::*;
use skylink_dt::version::{Dialect, PeerProfile};
use std::time::{Duration, Instant};

fn ours() -> (PeerDt, PeerDt) {
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "rust"));
    assert!(d.extensions);
    let mut a = PeerDt::new("A", "B", d);
    let mut b = PeerDt::new("B", "A", d);
    a.set_messaging_label("A_B");
    b.set_messaging_label("A_B");
    (a, b)
}

thread_local! {
    /// The sink the next accepted download writes to (else it is assembled in memory).
    static SINK: std::cell::RefCell<Option<Box<dyn ChunkSink>>> = const { std::cell::RefCell::new(None) };
}

/// What a [`TestSink`] saw.
#[derive(Default, Debug)]
struct SinkLog {
    bytes: Vec<u8>,
    writes: usize,
    rewritten: usize,
    finished: bool,
    aborted: bool,
}

struct TestSink(std::sync::Arc<std::sync::Mutex<SinkLog>>);

impl ChunkSink for TestSink {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut l = self.0.lock().unwrap();
        if (offset as usize) < l.bytes.len() {
            l.rewritten += 1;
        }
        l.writes += 1;
        l.bytes.write_at(offset, data)
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap().finished = true;
        Ok(())
    }
    fn abort(&mut self) {
        self.0.lock().unwrap().aborted = true;
    }
    fn path(&self) -> Option<&std::path::Path> {
        Some(std::path::Path::new("/sink"))
    }
}

fn with_sink() -> std::sync::Arc<std::sync::Mutex<SinkLog>> {
    let log = std::sync::Arc::new(std::sync::Mutex::new(SinkLog::default()));
    SINK.with(|s| *s.borrow_mut() = Some(Box::new(TestSink(log.clone()))));
    log
}

#[derive(Default)]
struct Log {
    a_frames: Vec<OutFrame>,
    b_frames: Vec<OutFrame>,
    a_events: Vec<Event>,
    b_events: Vec<Event>,
}

/// Deliver at most `budget` frames (all when None); accept every request.
fn pump(a: &mut PeerDt, b: &mut PeerDt, log: &mut Log, mut budget: Option<usize>, now: Instant) {
    loop {
        let mut progress = false;
        for side in 0..2 {
            let (x, y) = if side == 0 {
                (&mut *a, &mut *b)
            } else {
                (&mut *b, &mut *a)
            };
            while let Some(o) = x.poll_output() {
                progress = true;
                match o {
                    Output::Send { label, frame } => {
                        if budget == Some(0) {
                            continue; // lost with the channel
                        }
                        if let Some(n) = budget.as_mut() {
                            *n -= 1;
                        }
                        y.handle_frame(&label, frame.as_frame(), now, 1).unwrap();
                        if side == 0 {
                            log.a_frames.push(frame)
                        } else {
                            log.b_frames.push(frame)
                        }
                    }
                    Output::OpenChannel { label } => x.channel_open(&label).unwrap(),
                    Output::Transfer(e) => {
                        if e.state() == Some(DataTransferState::UploadRequest)
                            && let Event::DataTransferState { transfer_id, .. } = &e
                        {
                            match SINK.with(|s| s.borrow_mut().take()) {
                                Some(sink) => x.accept_into(transfer_id, sink).unwrap(),
                                None => x.respond(transfer_id, true).unwrap(),
                            }
                        }
                        if side == 0 {
                            log.a_events.push(e)
                        } else {
                            log.b_events.push(e)
                        }
                    }
                    _ => {}
                }
            }
        }
        if !progress {
            break;
        }
    }
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

fn received(events: &[Event]) -> Option<Vec<u8>> {
    events.iter().find_map(|e| match e {
        Event::IncomingData {
            data,
            is_self: false,
            ..
        } => data.as_bytes().map(<[u8]>::to_vec),
        _ => None,
    })
}

fn chunk_frames(frames: &[OutFrame]) -> usize {
    frames
        .iter()
        .filter(|f| !matches!(f, OutFrame::Text(t) if t.starts_with('{')))
        .count()
}

#[test]
fn pipelined_transfer_between_our_peers() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let payload = data(1 << 20);
    a.send_payload(
        "A_1",
        Payload::blob(payload.clone(), None),
        Some("x"),
        false,
    )
    .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, None, now);
    let OutFrame::Text(wrq) = &log.a_frames[0] else {
        panic!()
    };
    assert!(
        wrq.contains(r#""ext":{"v":2,"window":16,"resume":true}}"#),
        "a blob's digest is not computed before the WRQ: {wrq}"
    );
    // ... it comes right before the last chunk
    let last = log.a_frames.len() - 1;
    let OutFrame::Text(digest) = &log.a_frames[last - 1] else {
        panic!("no digest before the last chunk")
    };
    assert_eq!(
        *digest,
        format!(
            r#"{{"type":"rsDigest","sender":"A","xxh3":"{}"}}"#,
            digest_hex(&payload)
        )
    );
    let OutFrame::Text(ack0) = &log.b_frames[0] else {
        panic!()
    };
    assert_eq!(
        ack0,
        r#"{"type":"ACK","sender":"B","ackN":0,"ext":{"window":16,"resume":true}}"#
    );
    // after ACK 0 the uploader sends a full window before the next ACK arrives
    assert!(
        log.a_frames[1..17]
            .iter()
            .all(|f| matches!(f, OutFrame::Text(t) if !t.starts_with('{')))
    );
    assert!(received(&log.b_events) == Some(payload), "payload intact");
    let k = (1usize << 20).div_ceil(49_152);
    assert_eq!(
        chunk_frames(&log.a_frames),
        k,
        "every chunk sent exactly once"
    );
}

#[test]
fn resumed_transfer_continues_from_the_last_complete_chunk() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let payload = data(1 << 20);
    a.send_payload("A_2", Payload::blob(payload.clone(), None), None, true)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(12), now); // WRQ, ACK0, some chunks and ACKs
    a.channel_closed("A_2", now);
    b.channel_closed("A_2", now);
    pump(&mut a, &mut b, &mut log, Some(0), now); // in-flight frames are lost
    let terminal = |ev: &[Event]| {
        ev.iter().any(|e| matches!(e.state(), Some(s) if matches!(s, DataTransferState::Error | DataTransferState::Cancel | DataTransferState::UploadCompleted | DataTransferState::DownloadCompleted)))
    };
    assert!(
        !terminal(&log.a_events) && !terminal(&log.b_events),
        "suspended, not failed"
    );
    let sent_before = chunk_frames(&log.a_frames);
    assert!(sent_before > 0);
    // reconnect
    a.resume_uploads().unwrap();
    let mut log2 = Log::default();
    pump(&mut a, &mut b, &mut log2, None, now);
    let OutFrame::Text(ack) = &log2.b_frames[0] else {
        panic!()
    };
    let Message::Ack(ack) = Message::from_json(ack).unwrap() else {
        panic!()
    };
    let n = ack.ack_n.unwrap();
    assert!(n > 0, "resumes from chunk {n}");
    assert!(received(&log2.b_events) == Some(payload), "payload intact");
    let k = (1usize << 20).div_ceil(65_456);
    assert_eq!(
        chunk_frames(&log2.a_frames),
        k - n as usize,
        "only the missing chunks are re-sent"
    );
    assert!(a.poll_timeout().is_none() && b.poll_timeout().is_none());
}

#[test]
fn a_lost_connection_resumes_on_a_new_one_between_new_peer_ids() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let payload = data(1 << 20);
    a.send_payload("A_9", Payload::blob(payload.clone(), None), None, true)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(12), now);
    // The whole connection goes (both sides closed it after a signaling reconnect).
    a.connection_lost(now);
    b.connection_lost(now);
    pump(&mut a, &mut b, &mut log, Some(0), now);
    assert!(
        a.has_suspended() && b.has_suspended(),
        "both sides suspended"
    );
    // Both rejoined: new ids, new connection, new messaging channel.
    a.rebind("A2", "B2");
    b.rebind("B2", "A2");
    a.set_messaging_label("A2_B2");
    b.set_messaging_label("A2_B2");
    a.resume_uploads().unwrap();
    let mut log2 = Log::default();
    pump(&mut a, &mut b, &mut log2, None, now);
    let OutFrame::Text(wrq) = &log2.a_frames[0] else {
        panic!()
    };
    assert!(
        wrq.contains(r#""transferId":"A_9""#) && wrq.contains(r#""sender":"A2""#),
        "same transfer, new sender id: {wrq}"
    );
    assert!(wrq.contains(r#""target":"B2""#), "{wrq}");
    let OutFrame::Text(ack) = &log2.b_frames[0] else {
        panic!()
    };
    let Message::Ack(ack) = Message::from_json(ack).unwrap() else {
        panic!()
    };
    assert!(ack.ack_n.unwrap() > 0, "continues where it stopped");
    assert!(received(&log2.b_events) == Some(payload), "payload intact");
    let peer_of = |e: &Event| match e {
        Event::DataTransferState { peer_id, .. } | Event::IncomingData { peer_id, .. } => {
            Some(peer_id.clone())
        }
        _ => None,
    };
    assert!(log2.b_events.iter().filter_map(peer_of).all(|p| p == "A2"));
    assert!(log2.a_events.iter().filter_map(peer_of).all(|p| p == "B2"));
    assert!(!a.has_suspended() && !b.has_suspended());
}

#[test]
fn suspended_sessions_expire() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    a.send_payload("A_3", Payload::blob(data(300_000), None), None, false)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(5), now);
    a.channel_closed("A_3", now);
    b.channel_closed("A_3", now);
    pump(&mut a, &mut b, &mut log, Some(0), now);
    let later = now + Duration::from_secs(61);
    a.handle_timeout(later);
    b.handle_timeout(later);
    pump(&mut a, &mut b, &mut log, None, later);
    assert_eq!(
        log.a_events.last().and_then(Event::state),
        Some(DataTransferState::Error)
    );
    assert_eq!(
        log.b_events.last().and_then(Event::state),
        Some(DataTransferState::Error)
    );
    assert!(a.poll_timeout().is_none() && b.poll_timeout().is_none());
}

#[test]
fn checksum_mismatch_never_completes() {
    let now = Instant::now();
    let offer = ExtOffer {
        window: 4,
        resume: false,
        digest: Some(digest_hex(b"something else")),
    };
    let w = format!(
        r#"{{"type":"WRQ","transferId":"A_4","name":"x","size":4,"originalSize":3,"dataType":"blob","mimeType":null,"chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"A","agent":"rust","version":1,"target":"B","ext":{}}}"#,
        offer.to_value()
    );
    let Message::Wrq(w) = Message::from_json(&w).unwrap() else {
        panic!()
    };
    let (mut d, _) =
        Download::new(DownloadConfig::new("B", "A", "A_4", ChannelKind::Data), &w).unwrap();
    d.accept().unwrap();
    assert!(d.extensions().is_some());
    let acts = d.handle_chunk(Chunk::Text("YWJj"), now);
    assert_eq!(d.outcome(), Some(Outcome::Failed));
    assert!(
        !acts
            .iter()
            .any(|a| matches!(a, Action::Event(Event::IncomingData { .. })))
    );
}

/// A downloader of a deferred-digest transfer: a wrong digest or none at all never completes.
#[test]
fn deferred_digest_mismatch_or_absence_never_completes() {
    let now = Instant::now();
    let offer = ExtOffer {
        window: 4,
        resume: false,
        digest: None,
    };
    let w = format!(
        r#"{{"type":"WRQ","transferId":"A_5","name":"x","size":4,"originalSize":3,"dataType":"blob","mimeType":null,"chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"A","agent":"rust","version":1,"target":"B","ext":{}}}"#,
        offer.to_value()
    );
    let Message::Wrq(w) = Message::from_json(&w).unwrap() else {
        panic!()
    };
    for digest in [Some(digest_hex(b"abd")), None, Some(digest_hex(b"abc"))] {
        let (mut d, _) =
            Download::new(DownloadConfig::new("B", "A", "A_5", ChannelKind::Data), &w).unwrap();
        d.accept().unwrap();
        if let Some(s) = &digest {
            d.handle_digest(s);
        }
        let acts = d.handle_chunk(Chunk::Text("YWJj"), now);
        let completed = acts
            .iter()
            .any(|a| matches!(a, Action::Event(Event::IncomingData { .. })));
        if digest == Some(digest_hex(b"abc")) {
            assert!(completed, "the right digest completes");
        } else {
            assert_eq!(d.outcome(), Some(Outcome::Failed), "{digest:?}");
            assert!(!completed);
        }
    }
}

#[test]
fn js_peers_never_get_extensions() {
    for (v, agent) in [
        (Some("0.1.3"), "chrome"),
        (Some("0.1.0"), "rust"),
        (None, "rust"),
        (Some("0.1.2"), "rust"),
    ] {
        assert!(
            !Dialect::for_peer(&PeerProfile::new(v, agent)).extensions,
            "{v:?} {agent}"
        );
    }
    // a downloader that did not negotiate answers a plain ACK even if it supports extensions
    let w = r#"{"type":"WRQ","transferId":"A_5","name":"x","size":4,"originalSize":3,"dataType":"blob","mimeType":null,"chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"A","agent":"chrome","version":1,"target":"B"}"#;
    let Message::Wrq(w) = Message::from_json(w).unwrap() else {
        panic!()
    };
    let (mut d, _) =
        Download::new(DownloadConfig::new("B", "A", "A_5", ChannelKind::Data), &w).unwrap();
    let a = d.accept().unwrap();
    assert_eq!(
        a[0],
        Action::Send(OutFrame::Text(
            r#"{"type":"ACK","sender":"B","ackN":0}"#.into()
        ))
    );
}

/// A source that counts the bytes read and can be told to fail.
struct Counting {
    data: Vec<u8>,
    read: std::sync::atomic::AtomicU64,
    fail_from: Option<u64>,
}

impl skylink_dt::source::ChunkSource for Counting {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if self.fail_from.is_some_and(|f| offset >= f) {
            return Err(std::io::Error::other("disk gone"));
        }
        self.read
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let s = offset as usize;
        buf.copy_from_slice(&self.data[s..s + buf.len()]);
        Ok(())
    }
}

#[test]
fn source_payload_resumes_and_arrives_intact() {
    use skylink_dt::source::SharedSource;
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let payload = data((1 << 20) + 333);
    let src = std::sync::Arc::new(Counting {
        data: payload.clone(),
        read: 0.into(),
        fail_from: None,
    });
    struct ArcSrc(std::sync::Arc<Counting>);
    impl skylink_dt::source::ChunkSource for ArcSrc {
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_at(&self, o: u64, b: &mut [u8]) -> std::io::Result<()> {
            self.0.read_at(o, b)
        }
    }
    let shared = SharedSource::new(ArcSrc(src.clone()));
    a.send_payload("A_9", Payload::source(shared, None), None, true)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(12), now);
    a.channel_closed("A_9", now);
    b.channel_closed("A_9", now);
    pump(&mut a, &mut b, &mut log, Some(0), now);
    a.resume_uploads().unwrap();
    let mut log2 = Log::default();
    pump(&mut a, &mut b, &mut log2, None, now);
    let OutFrame::Text(wrq) = &log.a_frames[0] else {
        panic!()
    };
    assert!(
        !wrq.contains("xxh3"),
        "no checksum pass before the WRQ: {wrq}"
    );
    let digest = format!(r#""xxh3":"{}""#, digest_hex(&payload));
    assert!(
        log2.a_frames
            .iter()
            .any(|f| matches!(f, OutFrame::Text(t) if t.contains(&digest))),
        "the digest follows after the resume"
    );
    assert!(
        received(&log2.b_events) == Some(payload.clone()),
        "payload intact"
    );
    // every chunk read once while hashing it, the re-sent ones again; no separate pass
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    let len = payload.len() as u64;
    assert!(read >= len && read < 2 * len, "read {read} of {len}");
}

#[test]
fn source_read_error_fails_the_upload_with_a_cancel() {
    use skylink_dt::source::SharedSource;
    let now = Instant::now();
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let mut a = PeerDt::new("A", "B", d);
    let mut b = PeerDt::new("B", "A", d);
    a.set_messaging_label("A_B");
    b.set_messaging_label("A_B");
    let shared = SharedSource::new(Counting {
        data: data(500_000),
        read: 0.into(),
        fail_from: Some(200_000),
    });
    a.send_payload("A_10", Payload::source(shared, None), None, false)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, None, now);
    let up_err = log.a_events.iter().find_map(|e| match e {
        Event::DataTransferState {
            state: DataTransferState::Error,
            error: Some(err),
            ..
        } => Some(err.message.clone()),
        _ => None,
    });
    assert!(
        up_err.as_deref().is_some_and(|m| m.contains("disk gone")),
        "{up_err:?}"
    );
    assert!(
        log.b_events
            .iter()
            .any(|e| e.state() == Some(DataTransferState::Cancel)),
        "the downloader is told"
    );
}

#[test]
fn sink_download_resumes_and_completes_with_the_path() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let payload = data((1 << 20) + 77);
    let sink = with_sink();
    a.send_payload("A_20", Payload::blob(payload.clone(), None), None, true)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(12), now);
    a.channel_closed("A_20", now);
    b.channel_closed("A_20", now);
    pump(&mut a, &mut b, &mut log, Some(0), now);
    assert!(!sink.lock().unwrap().aborted, "suspended, not aborted");
    a.resume_uploads().unwrap();
    let mut log2 = Log::default();
    pump(&mut a, &mut b, &mut log2, None, now);
    let l = sink.lock().unwrap();
    assert!(l.finished && !l.aborted, "{l:?}");
    assert!(l.bytes == payload, "bytes intact");
    let stored = log2.b_events.iter().find_map(|e| match e {
        Event::IncomingData {
            data,
            is_self: false,
            ..
        } => Some(data.clone()),
        _ => None,
    });
    assert_eq!(
        stored,
        Some(Payload::Stored {
            len: payload.len() as u64,
            mime_type: None,
            path: Some("/sink".into()),
        })
    );
    assert!(received(&log2.b_events).is_none(), "no bytes in the event");
}

#[test]
fn sink_download_cancelled_is_aborted() {
    let now = Instant::now();
    let (mut a, mut b) = ours();
    let sink = with_sink();
    a.send_payload("A_21", Payload::blob(data(500_000), None), None, true)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, Some(6), now);
    assert!(sink.lock().unwrap().writes > 0);
    b.cancel("A_21").unwrap();
    pump(&mut a, &mut b, &mut log, None, now);
    let l = sink.lock().unwrap();
    assert!(l.aborted && !l.finished, "{l:?}");
    assert_eq!(
        log.b_events.last().and_then(Event::state),
        Some(DataTransferState::Cancel)
    );
}

#[test]
fn sink_refused_for_string_transfers() {
    let w = r#"{"type":"WRQ","transferId":"A_22","name":"x","size":3,"dataType":"data","mimeType":null,"chunkType":"string","chunkSize":1212,"timeout":60,"isPrivate":false,"sender":"A","agent":"rust","version":"0.1.3","target":"B"}"#;
    let Message::Wrq(w) = Message::from_json(w).unwrap() else {
        panic!()
    };
    let (mut d, _) =
        Download::new(DownloadConfig::new("B", "A", "A_22", ChannelKind::Data), &w).unwrap();
    assert!(d.is_string_transfer());
    assert!(d.accept_into(Box::new(Vec::new())).is_err());
    assert!(d.accept().is_ok(), "still awaiting a decision");
    assert!(d.accept_into(Box::new(Vec::new())).is_err(), "decided");
}

#[test]
fn sink_download_of_base64_chunks_from_a_js_dialect_peer() {
    let now = Instant::now();
    let d = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    assert!(!d.extensions);
    let mut a = PeerDt::new("A", "B", d);
    let mut b = PeerDt::new("B", "A", d);
    a.set_messaging_label("A_B");
    b.set_messaging_label("A_B");
    let payload = data(300_001);
    let sink = with_sink();
    a.send_payload("A_23", Payload::blob(payload.clone(), None), None, false)
        .unwrap();
    let mut log = Log::default();
    pump(&mut a, &mut b, &mut log, None, now);
    assert!(
        log.a_frames
            .iter()
            .chain(&log.b_frames)
            .all(|f| matches!(f, OutFrame::Text(_))),
        "base64 text chunks"
    );
    let l = sink.lock().unwrap();
    assert!(l.finished && !l.aborted, "{l:?}");
    assert!(l.bytes == payload, "bytes intact");
    assert!(log.b_events.iter().any(|e| matches!(
        e,
        Event::IncomingData {
            data: Payload::Stored { len: 300_001, .. },
            ..
        }
    )));
}

/// Leaving the room on purpose cancels what a lost connection would only suspend, on either
/// side, so the other peer ends the transfer at once (not after its timeout).
#[test]
fn leaving_cancels_resumable_sessions_so_the_peer_ends_them_now() {
    for uploader_leaves in [true, false] {
        let now = Instant::now();
        let (mut a, mut b) = ours();
        a.send_payload("A_7", Payload::blob(data(1 << 20), None), None, true)
            .unwrap();
        let mut log = Log::default();
        pump(&mut a, &mut b, &mut log, Some(12), now);
        let leaver = if uploader_leaves { &mut a } else { &mut b };
        assert_eq!(leaver.leaving(), 1, "one resumable session");
        assert_eq!(leaver.leaving(), 0, "already ended");
        let mut log2 = Log::default();
        pump(&mut a, &mut b, &mut log2, None, now);
        let cancelled = |ev: &[Event]| {
            ev.iter()
                .any(|e| e.state() == Some(DataTransferState::Cancel))
        };
        assert!(
            cancelled(&log2.a_events) && cancelled(&log2.b_events),
            "both sides end in cancel (uploader leaves: {uploader_leaves})"
        );
        a.connection_lost(now);
        b.connection_lost(now);
        assert!(
            !a.has_suspended() && !b.has_suspended(),
            "nothing waits for a resume"
        );
    }
}

/// A session without the extension (a 0.6.26 page) is not touched: the connection's close
/// fails it with the reference's events.
#[test]
fn leaving_leaves_reference_sessions_to_the_close() {
    let js = Dialect::for_peer(&PeerProfile::new(Some("0.1.3"), "chrome"));
    let mut a = PeerDt::new("A", "B", js);
    a.set_messaging_label("A_B");
    a.send_payload("A_8", Payload::blob(data(300_000), None), None, false)
        .unwrap();
    assert_eq!(a.leaving(), 0);
}
