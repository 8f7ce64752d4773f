//! Two `Skylink` clients against the real in-process server on 127.0.0.1.

mod common;

use common::{bounded, forward, message_text, next_matching, options, skylink, start_server};
use futures_util::{Stream, StreamExt};
use serde_json::json;
use skylink::constants::{ReadyState, ReadyStateChangeError, SystemActionReason};
use skylink::{Event, EventName, JoinOptions, Skylink};

/// Waits (bounded) for the first event of `events` that `pred` maps to `Some`.
async fn stream_wait<U>(
    events: &mut (impl Stream<Item = Event> + Unpin),
    what: &str,
    mut pred: impl FnMut(&Event) -> Option<U>,
) -> U {
    bounded(what, async {
        loop {
            let ev = events
                .next()
                .await
                .unwrap_or_else(|| panic!("{what}: stream ended"));
            if let Some(u) = pred(&ev) {
                return u;
            }
        }
    })
    .await
}

async fn join(s: &Skylink, room: &str) -> String {
    bounded("join", s.join_room(Some(room), JoinOptions::default()))
        .await
        .expect("joined")
}

#[tokio::test]
async fn stream_sees_joins_messages_updates_and_leaves() {
    let addr = start_server().await;
    let a = skylink(addr);
    let b = skylink(addr);
    let mut a_events = Box::pin(a.events());

    let a_id = bounded(
        "A joins",
        a.join_room(
            Some("facade-1"),
            JoinOptions {
                user_data: Some(json!({"name": "A"})),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("A joined");
    assert_eq!(a.get_user_data(None).await.unwrap(), json!({"name": "A"}));
    stream_wait(&mut a_events, "readyStateChange COMPLETED", |e| {
        matches!(
            e,
            Event::ReadyStateChange {
                ready_state: ReadyState::Completed,
                ..
            }
        )
        .then_some(())
    })
    .await;
    let b_id = join(&b, "facade-1").await;

    let b2 = b_id.clone();
    stream_wait(&mut a_events, "peerJoined(B)", |e| match e {
        Event::PeerJoined {
            peer_id,
            is_self: false,
            ..
        } if *peer_id == b2 => Some(()),
        _ => None,
    })
    .await;

    // Public, then private message from B.
    b.send_message(json!("hi A"), None).await.unwrap();
    let (text, from) = stream_wait(&mut a_events, "public message", |e| match e {
        Event::IncomingMessage {
            message, peer_id, ..
        } if !message.is_private => Some((message.content.clone(), peer_id.clone())),
        _ => None,
    })
    .await;
    assert_eq!((text, from), (json!("hi A"), b_id.clone()));
    b.send_message(json!({"secret": 1}), Some(vec![a_id.clone()]))
        .await
        .unwrap();
    let text = stream_wait(&mut a_events, "private message", |e| match e {
        Event::IncomingMessage { message, .. } if message.is_private => {
            Some(message.content.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(text, json!({"secret": 1}));

    // set_user_data → peerUpdated at A, and both sides' getters agree.
    b.set_user_data(json!({"name": "B2"})).await.unwrap();
    let b3 = b_id.clone();
    let data = stream_wait(&mut a_events, "peerUpdated(B)", |e| match e {
        Event::PeerUpdated {
            peer_id,
            peer_info,
            is_self: false,
        } if *peer_id == b3 => Some(peer_info.user_data.clone()),
        _ => None,
    })
    .await;
    assert_eq!(data, json!({"name": "B2"}));
    assert_eq!(b.get_user_data(None).await.unwrap(), json!({"name": "B2"}));
    assert_eq!(
        a.get_user_data(Some(&b_id)).await.unwrap(),
        json!({"name": "B2"})
    );
    // An unknown peer id means "self", as in the reference.
    assert_eq!(
        a.get_user_data(Some("nobody")).await.unwrap(),
        json!({"name": "A"})
    );

    // Peer information.
    let peers = a.get_peers_in_room().await.unwrap();
    assert_eq!(peers.len(), 2);
    assert!(peers[0].is_self && peers[0].peer_id == a_id);
    let me = a.get_peer_info(None).await.unwrap();
    assert_eq!(me.user_data, json!({"name": "A"}));
    assert_eq!(me.room, "facade-1");
    assert_eq!(a.get_peer_info(Some("nobody")).await.unwrap(), me);
    let them = a.get_peer_info(Some(&b_id)).await.unwrap();
    assert_eq!(them.user_data, json!({"name": "B2"}));
    assert_eq!(them.agent.name, "rust");
    assert_eq!(a.peer_id().await.unwrap(), Some(a_id.clone()));

    // B leaves.
    b.leave_room().await.unwrap();
    let b4 = b_id.clone();
    stream_wait(&mut a_events, "peerLeft(B)", |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == b4 => Some(()),
        _ => None,
    })
    .await;
    let err = b.get_peer_info(None).await.unwrap_err();
    assert!(err.is_not_in_room(), "{err:?}");
    assert!(
        b.send_message(json!(1), None)
            .await
            .unwrap_err()
            .is_not_in_room()
    );
    // User data outlives the session.
    assert_eq!(b.get_user_data(None).await.unwrap(), json!({"name": "B2"}));
}

#[tokio::test]
async fn on_once_and_off_semantics() {
    let addr = start_server().await;
    let a = skylink(addr);
    let b = skylink(addr);
    join(&a, "facade-2").await;

    // A plain `once` with the default condition: the first peerJoined (our own).
    let (h, mut first_join) = forward();
    a.once(EventName::PeerJoined, |_| true, h, false);
    let (h, mut on_rx) = forward();
    let on_id = a.on(EventName::IncomingMessage, h);
    let (h, mut first_any) = forward();
    a.once(EventName::IncomingMessage, |_| true, h, false);
    let (h, mut second_once) = forward();
    a.once(
        EventName::IncomingMessage,
        |e| message_text(e).as_deref() == Some("second"),
        h,
        false,
    );
    let (h, mut always) = forward();
    a.once(
        EventName::IncomingMessage,
        |e| message_text(e).is_some_and(|t| t.starts_with('x')),
        h,
        true,
    );
    assert_eq!(a.listener_count(EventName::IncomingMessage), 4);

    let b_id = join(&b, "facade-2").await;
    let joined = next_matching(&mut first_join, "first peerJoined", |e| match e {
        Event::PeerJoined { peer_id, .. } => Some(peer_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(joined, b_id);
    assert_eq!(a.listener_count(EventName::PeerJoined), 0);

    let texts = ["first", "second", "second", "x1", "mid", "x2", "end"];
    for t in texts {
        b.send_message(json!(t), None).await.unwrap();
    }
    // The `on` listener sees every message, in order.
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("end") {
        seen.push(next_matching(&mut on_rx, "messages via on()", message_text).await);
    }
    assert_eq!(seen, texts);
    // Earlier events are fully dispatched by now: each `once` fired as specified.
    let got = |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>| {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|e| message_text(&e))
            .collect::<Vec<_>>()
    };
    assert_eq!(got(&mut first_any), ["first"]);
    assert_eq!(got(&mut second_once), ["second"]);
    assert_eq!(got(&mut always), ["x1", "x2"]);
    assert_eq!(got(&mut first_join), Vec::<String>::new());
    // Spent `once` listeners are gone; `on` and fire-always ones remain.
    assert_eq!(a.listener_count(EventName::IncomingMessage), 2);

    // off(name, id) stops that listener only.
    assert_eq!(a.off(EventName::IncomingMessage, Some(on_id)), 1);
    let (h, mut sentinel) = forward();
    a.on(EventName::IncomingMessage, h);
    b.send_message(json!("x3"), None).await.unwrap();
    next_matching(&mut sentinel, "x3 via sentinel", |e| {
        (message_text(e).as_deref() == Some("x3")).then_some(())
    })
    .await;
    next_matching(&mut always, "x3 via fire-always once", |e| {
        (message_text(e).as_deref() == Some("x3")).then_some(())
    })
    .await;
    assert!(on_rx.try_recv().is_err(), "removed listener was called");

    // off(name, None) removes every listener of the event.
    assert_eq!(a.off(EventName::IncomingMessage, None), 2);
    let (h, mut last) = forward();
    a.on(EventName::IncomingMessage, h);
    b.send_message(json!("x4"), None).await.unwrap();
    next_matching(&mut last, "x4", |e| {
        (message_text(e).as_deref() == Some("x4")).then_some(())
    })
    .await;
    assert!(sentinel.try_recv().is_err());
    assert!(always.try_recv().is_err());
    assert_eq!(a.off_all(), 1);
}

#[tokio::test]
async fn lock_room_rejects_with_the_reference_reason() {
    let addr = start_server().await;
    let a = skylink(addr);
    let b = skylink(addr);
    let c = skylink(addr);
    let a_id = join(&a, "facade-3").await;
    join(&b, "facade-3").await;

    let (h, mut locks) = forward();
    b.once(
        EventName::RoomLock,
        |e| {
            matches!(
                e,
                Event::RoomLock {
                    is_locked: true,
                    ..
                }
            )
        },
        h,
        false,
    );
    let (h, mut unlocks) = forward();
    b.once(
        EventName::RoomLock,
        |e| {
            matches!(
                e,
                Event::RoomLock {
                    is_locked: false,
                    ..
                }
            )
        },
        h,
        false,
    );
    let (h, mut c_actions) = forward();
    c.on(EventName::SystemAction, h);

    a.lock_room().await.unwrap();
    let by = next_matching(&mut locks, "roomLock(true) at B", |e| match e {
        Event::RoomLock { peer_id, .. } => Some(peer_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(by, a_id);

    let err = bounded(
        "C rejected",
        c.join_room(Some("facade-3"), JoinOptions::default()),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.system_action_reason(),
        Some(SystemActionReason::RoomLocked),
        "{err:?}"
    );
    let reason = next_matching(&mut c_actions, "systemAction at C", |e| match e {
        Event::SystemAction { action, reason, .. } if action == "reject" => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        reason.parse::<SystemActionReason>(),
        Ok(SystemActionReason::RoomLocked)
    );

    a.unlock_room().await.unwrap();
    next_matching(&mut unlocks, "roomLock(false) at B", |e| {
        matches!(e, Event::RoomLock { .. }).then_some(())
    })
    .await;
    let (h, mut c_joins) = forward();
    c.on(EventName::PeerJoined, h);
    join(&c, "facade-3").await;
    let mut others = 0;
    while others < 2 {
        others += next_matching(&mut c_joins, "C meets A and B", |e| match e {
            Event::PeerJoined { is_self, .. } => Some(usize::from(!is_self)),
            _ => None,
        })
        .await;
    }
    assert_eq!(c.get_peers_in_room().await.unwrap().len(), 3);
}

#[tokio::test]
async fn init_failure_carries_the_ready_state_error() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let s = Skylink::new(options(addr));
    let (h, mut states) = forward();
    s.on(EventName::ReadyStateChange, h);
    let err = bounded("init", s.init()).await.unwrap_err();
    assert_eq!(
        err.ready_state_change_error(),
        Some(ReadyStateChangeError::XmlHttpRequestError),
        "{err:?}"
    );
    assert_eq!(err.ready_state_error().map(|e| e.status), Some(0));
    let mut seen = Vec::new();
    while seen.last() != Some(&ReadyState::Error) {
        seen.push(
            next_matching(&mut states, "ready states", |e| match e {
                Event::ReadyStateChange { ready_state, .. } => Some(*ready_state),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(
        seen,
        [ReadyState::Init, ReadyState::Loading, ReadyState::Error]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_to_peer_messages_refresh_and_status() {
    let addr = start_server().await;
    let a = skylink(addr);
    let b = skylink(addr);
    let mut a_events = Box::pin(a.events());
    let mut b_events = Box::pin(b.events());
    let a_id = join(&a, "facade-p2p").await;
    let b_id = join(&b, "facade-p2p").await;
    for (events, peer) in [(&mut a_events, &b_id), (&mut b_events, &a_id)] {
        let p = peer.clone();
        stream_wait(events, "messaging channel open", move |e| match e {
            Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == p => {
                Some(())
            }
            _ => None,
        })
        .await;
    }
    assert_eq!(a.get_peers_datachannels().await.expect("channels").len(), 1);

    a.send_p2p_message(json!("p2p ✓"), Some(vec![b_id.clone()]))
        .await
        .expect("p2p");
    let (content, dc) = stream_wait(&mut b_events, "P2P at B", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => Some((message.content.clone(), message.is_data_channel)),
        _ => None,
    })
    .await;
    assert_eq!(content, json!("p2p ✓"));
    assert!(dc);

    let status = a
        .get_connection_status(Some(vec![b_id.clone()]))
        .await
        .expect("status");
    assert!(status["connectionStats"][&b_id].is_object(), "{status}");
    assert!(status.get("retrievalErrors").is_none(), "{status}");
    let missing = a
        .get_connection_status(Some(vec!["nobody".into()]))
        .await
        .expect("status");
    assert!(
        missing["retrievalErrors"]["nobody"].is_string(),
        "{missing}"
    );

    let r = b.refresh_connection(None, false).await.expect("refresh");
    assert_eq!(r.list_of_peers, vec![a_id.clone()]);
    assert!(r.refresh_errors.is_empty(), "{:?}", r.refresh_errors);
    let bid = b_id.clone();
    stream_wait(&mut a_events, "peerRestart at A", move |e| match e {
        Event::PeerRestart {
            peer_id,
            is_self_initiate_restart: false,
            ..
        } if *peer_id == bid => Some(()),
        _ => None,
    })
    .await;
}
