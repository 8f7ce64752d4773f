//! Two [`PeerSession`]s in one process, signaling passed directly (no server), loopback only:
//! offer → answer → trickled candidates (one queued before the remote description) → data
//! channel open on both sides → a text message each way. Prints answer→open times for the
//! `webrtc` defaults and for the engine's tuning (`PeerConfig::new`).

use std::time::{Duration, Instant};

use skylink_room::peer::{CandidateFields, PeerConfig, PeerEvent, PeerSession};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);
const RUNS: usize = 3;

/// How much of the engine's tuning to apply.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tuning {
    /// `webrtc` defaults: 200 ms ICE checks, OS socket buffers, no nudging.
    None,
    /// Fast ICE checks, immediate prflx nomination, 4 MiB socket buffers; no driver nudging.
    NoNudge,
    /// Everything `PeerConfig::new` does.
    Full,
}

fn config(local: &str, remote: &str, tuning: Tuning) -> PeerConfig {
    let mut c = PeerConfig::new(local, remote);
    c.udp_addrs = vec!["127.0.0.1:0".to_owned()];
    if tuning == Tuning::None {
        c.ice_check_interval = None;
        c.udp_buffer_bytes = None;
        c.prflx_acceptance_min_wait = None;
    }
    if tuning != Tuning::Full {
        c.setup_nudge = None;
    }
    c
}

/// What one side has seen so far.
#[derive(Default, Debug)]
struct Seen {
    open: Option<Instant>,
    texts: Vec<String>,
    end_of_candidates: bool,
    candidates: Vec<CandidateFields>,
}

struct Side {
    session: PeerSession,
    events: UnboundedReceiver<PeerEvent>,
    seen: Seen,
}

impl Side {
    async fn new(local: &str, remote: &str, tuning: Tuning) -> Self {
        let (session, events) = PeerSession::new(config(local, remote, tuning))
            .await
            .expect("peer connection builds");
        Self {
            session,
            events,
            seen: Seen::default(),
        }
    }

    /// Records one event; returns a candidate to trickle to the other side.
    fn record(&mut self, event: PeerEvent) -> Option<CandidateFields> {
        match event {
            PeerEvent::LocalCandidate(c) => {
                self.seen.candidates.push(c.clone());
                return Some(c);
            }
            PeerEvent::EndOfCandidates => self.seen.end_of_candidates = true,
            PeerEvent::ChannelOpen { .. } => {
                self.seen.open.get_or_insert_with(Instant::now);
            }
            PeerEvent::Text { text, .. } => self.seen.texts.push(text),
            _ => {}
        }
        None
    }
}

/// Moves events (trickling candidates across) until `done` holds; bounded by [`WAIT`].
async fn pump(a: &mut Side, b: &mut Side, what: &str, done: impl Fn(&Seen, &Seen) -> bool) {
    let work = async {
        while !done(&a.seen, &b.seen) {
            tokio::select! {
                Some(ev) = a.events.recv() => {
                    if let Some(c) = a.record(ev) {
                        b.session.add_remote_candidate(c).await.expect("b adds candidate");
                    }
                }
                Some(ev) = b.events.recv() => {
                    if let Some(c) = b.record(ev) {
                        a.session.add_remote_candidate(c).await.expect("a adds candidate");
                    }
                }
                else => panic!("event streams ended while waiting for {what}"),
            }
        }
    };
    timeout(WAIT, work)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// One full handshake + message exchange; returns answer→open (both sides open).
async fn run_once(tuning: Tuning) -> Duration {
    let mut a = Side::new("alice", "bob", tuning).await;
    let mut b = Side::new("bob", "alice", tuning).await;
    assert_eq!(a.session.offer_label(), "alice_bob");

    let offer = a.session.create_offer().await.expect("offer");
    assert!(offer.contains("m=application"), "data channel in offer");

    // Trickle alice's first candidate *before* bob has the offer: it must be queued.
    let first = timeout(WAIT, async {
        loop {
            let ev = a.events.recv().await.expect("alice events");
            if let Some(c) = a.record(ev) {
                return c;
            }
        }
    })
    .await
    .expect("alice gathers a candidate");
    assert!(first.candidate.starts_with("candidate:"), "{first:?}");
    assert!(first.candidate.contains("127.0.0.1"), "{first:?}");
    assert_eq!(first.label, 0);
    assert!(
        offer.contains(&format!("a=mid:{}", first.id)),
        "sdpMid {:?} is the offer's first mid",
        first.id
    );
    b.session
        .add_remote_candidate(first)
        .await
        .expect("queued before the offer");

    let answer = b.session.accept_offer(&offer).await.expect("answer");
    let start = Instant::now();
    a.session
        .accept_answer(&answer)
        .await
        .expect("apply answer");

    pump(&mut a, &mut b, "both channels open", |a, b| {
        a.open.is_some() && b.open.is_some()
    })
    .await;
    let opened = a.seen.open.max(b.seen.open).expect("open") - start;

    a.session.send_text("hello bob").await.expect("alice sends");
    b.session.send_text("hello alice").await.expect("bob sends");
    pump(&mut a, &mut b, "a message each way", |a, b| {
        !a.texts.is_empty() && !b.texts.is_empty()
    })
    .await;
    assert_eq!(a.seen.texts, ["hello alice"]);
    assert_eq!(b.seen.texts, ["hello bob"]);

    pump(&mut a, &mut b, "end of candidates on both sides", |a, b| {
        a.end_of_candidates && b.end_of_candidates
    })
    .await;
    assert!(!b.seen.candidates.is_empty(), "bob trickled candidates");

    a.session.close().await.expect("close a");
    b.session.close().await.expect("close b");
    opened
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_pair_opens_and_exchanges_text() {
    for tuning in [Tuning::None, Tuning::NoNudge, Tuning::Full] {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            times.push(run_once(tuning).await);
        }
        times.sort();
        println!(
            "answer->open ({tuning:?}): median {:?}, runs {:?}",
            times[RUNS / 2],
            times
        );
    }
}

#[tokio::test]
async fn candidate_before_offer_is_queued_and_send_needs_a_channel() {
    let (session, _events) = PeerSession::new(config("x", "y", Tuning::Full))
        .await
        .expect("builds");
    session
        .add_remote_candidate(CandidateFields {
            label: 0,
            id: "0".to_owned(),
            candidate: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host".to_owned(),
        })
        .await
        .expect("queued, not rejected");
    assert!(session.send_text("nobody").await.is_err());
    session.close().await.expect("close");
}
