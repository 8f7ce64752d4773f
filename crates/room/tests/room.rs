//! Rust clients against the real in-process `skylink-server`.

mod common;

use common::{Proxy, bounded, client, options, start_server, wait_for};
use serde_json::json;
use skylink_room::{
    Event, HandshakeProgress, JoinOptions, ReadyState, Role, RoomError, SocketServer,
};

#[tokio::test]
async fn two_clients_meet_message_update_and_leave() {
    let addr = start_server(None).await;
    let (a, mut a_rx) = client(options(addr, "app"));
    let (b, mut b_rx) = client(options(addr, "app"));

    let a_id = bounded(
        "A joins",
        a.join_room(
            Some("room-1"),
            JoinOptions {
                user_data: Some(json!({"name": "Alice"})),
                ..Default::default()
            },
        ),
    )
    .await
    .expect("A joined");
    // A saw the ready states and its own peerJoined.
    wait_for(&mut a_rx, "A COMPLETED", |e| {
        matches!(e, Event::ReadyStateChange { ready_state: ReadyState::Completed, room, .. } if room == "room-1").then_some(())
    })
    .await;
    wait_for(&mut a_rx, "A channelOpen", |e| {
        matches!(e, Event::ChannelOpen { .. }).then_some(())
    })
    .await;
    let a_self = a_id.clone();
    wait_for(&mut a_rx, "A peerJoined(self)", move |e| match e {
        Event::PeerJoined {
            peer_id,
            is_self: true,
            ..
        } if *peer_id == a_self => Some(()),
        _ => None,
    })
    .await;

    let b_id = bounded(
        "B joins",
        b.join_room(Some("room-1"), JoinOptions::default()),
    )
    .await
    .expect("B joined");
    assert_ne!(a_id, b_id);

    // Each sees the other.
    let a_sees_b = b_id.clone();
    let info = wait_for(&mut a_rx, "A sees B", move |e| match e {
        Event::PeerJoined {
            peer_id,
            peer_info,
            is_self: false,
        } if *peer_id == a_sees_b => Some(peer_info.clone()),
        _ => None,
    })
    .await;
    assert_eq!(info.agent.name, "rust");
    assert!(info.config.receive_only);
    let b_sees_a = a_id.clone();
    let info = wait_for(&mut b_rx, "B sees A", move |e| match e {
        Event::PeerJoined {
            peer_id,
            peer_info,
            is_self: false,
        } if *peer_id == b_sees_a => Some(peer_info.clone()),
        _ => None,
    })
    .await;
    assert_eq!(info.user_data, json!({"name": "Alice"}));

    // Welcome exchange: B (the newcomer, higher tieBreaker) is the offerer, A is not.
    let a2 = a_id.clone();
    wait_for(&mut b_rx, "B welcomed by A", move |e| match e {
        Event::HandshakeProgress {
            state: HandshakeProgress::Welcome,
            peer_id,
            ..
        } if *peer_id == a2 => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(b.handshake_role(&a_id).await.unwrap(), Some(Role::Offerer));
    assert_ne!(a.handshake_role(&b_id).await.unwrap(), Some(Role::Offerer));

    let peers = a.get_peers_in_room().await.unwrap();
    assert_eq!(peers.len(), 2);
    assert!(peers[0].is_self && peers[0].peer_id == a_id);

    // Public and private messages with non-ASCII text.
    let text = "héllo wörld — 你好 🌍 \"quoted\" \\ \n";
    a.send_message(json!(text), None).await.unwrap();
    let (content, private, target, dc, sender) = wait_for(&mut b_rx, "public at B", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => Some((
            message.content.clone(),
            message.is_private,
            message.target_peer_id.clone(),
            message.is_data_channel,
            message.sender_peer_id.clone(),
        )),
        _ => None,
    })
    .await;
    assert_eq!(content, json!(text));
    assert!(!private && !dc);
    assert_eq!(target, None);
    assert_eq!(sender, a_id);
    // A's own copy.
    wait_for(&mut a_rx, "own public", |e| match e {
        Event::IncomingMessage {
            is_self: true,
            message,
            ..
        } if !message.is_private => Some(()),
        _ => None,
    })
    .await;

    let obj = json!({"emoji": "🎉", "ß": ["ü", 1]});
    a.send_message(obj.clone(), Some(vec![b_id.clone()]))
        .await
        .unwrap();
    let (content, private, target, sender) = wait_for(&mut b_rx, "private at B", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } => Some((
            message.content.clone(),
            message.is_private,
            message.target_peer_id.clone(),
            message.sender_peer_id.clone(),
        )),
        _ => None,
    })
    .await;
    assert_eq!(content, obj);
    assert!(private);
    assert_eq!(target, Some(json!(b_id)));
    assert_eq!(sender, a_id);

    // setUserData → peerUpdated at B (the update is throttled, so it may go out in a group).
    a.set_user_data(json!({"name": "Alice 2"})).await.unwrap();
    let a4 = a_id.clone();
    let data = wait_for(&mut b_rx, "peerUpdated at B", move |e| match e {
        Event::PeerUpdated {
            peer_id,
            peer_info,
            is_self: false,
        } if *peer_id == a4 => Some(peer_info.user_data.clone()),
        _ => None,
    })
    .await;
    assert_eq!(data, json!({"name": "Alice 2"}));

    // B leaves: A sees peerLeft(B); B sees peerLeft(A) then peerLeft(self).
    b.leave_room().await.unwrap();
    let b2 = b_id.clone();
    wait_for(&mut a_rx, "peerLeft(B) at A", move |e| match e {
        Event::PeerLeft {
            peer_id,
            is_self: false,
            ..
        } if *peer_id == b2 => Some(()),
        _ => None,
    })
    .await;
    wait_for(&mut b_rx, "peerLeft(self) at B", |e| match e {
        Event::PeerLeft { is_self: true, .. } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(b.peer_id().await.unwrap(), None);
    assert_eq!(
        b.send_message(json!(1), None).await,
        Err(RoomError::NotInRoom)
    );
    assert_eq!(a.get_peers_in_room().await.unwrap().len(), 1);
}

#[tokio::test]
async fn lock_rejects_a_third_client_until_unlocked() {
    let addr = start_server(None).await;
    let (a, _a_rx) = client(options(addr, "app"));
    let (b, mut b_rx) = client(options(addr, "app"));
    let (c, mut c_rx) = client(options(addr, "app"));
    let a_id = a
        .join_room(Some("locked-room"), JoinOptions::default())
        .await
        .unwrap();
    bounded(
        "B joins",
        b.join_room(Some("locked-room"), JoinOptions::default()),
    )
    .await
    .unwrap();
    wait_for(&mut b_rx, "B sees A", joined_owned(a_id.clone())).await;

    a.lock_room().await.unwrap();
    let a2 = a_id.clone();
    wait_for(&mut b_rx, "roomLock at B", move |e| match e {
        Event::RoomLock {
            is_locked: true,
            peer_id,
            is_self: false,
            ..
        } if *peer_id == a2 => Some(()),
        _ => None,
    })
    .await;

    let err = bounded(
        "C rejected",
        c.join_room(Some("locked-room"), JoinOptions::default()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RoomError::Rejected { reason, .. } if reason == "locked"),
        "{err:?}"
    );
    wait_for(&mut c_rx, "systemAction reject/locked", |e| match e {
        Event::SystemAction { action, reason, .. } if action == "reject" && reason == "locked" => {
            Some(())
        }
        _ => None,
    })
    .await;

    a.unlock_room().await.unwrap();
    wait_for(&mut b_rx, "unlock at B", |e| {
        matches!(
            e,
            Event::RoomLock {
                is_locked: false,
                ..
            }
        )
        .then_some(())
    })
    .await;
    let c_id = bounded(
        "C joins",
        c.join_room(Some("locked-room"), JoinOptions::default()),
    )
    .await
    .expect("C joins after unlock");
    wait_for(&mut b_rx, "B sees C", joined_owned(c_id)).await;
}

fn joined_owned(who: String) -> impl FnMut(&Event) -> Option<()> {
    move |ev| match ev {
        Event::PeerJoined {
            peer_id,
            is_self: false,
            ..
        } if *peer_id == who => Some(()),
        _ => None,
    }
}

#[tokio::test]
async fn dropped_socket_leads_to_session_disconnect_and_rejoin() {
    let addr = start_server(None).await;
    let proxy = Proxy::start(addr).await;
    let mut opts = options(addr, "app");
    opts.socket_server = Some(SocketServer::Custom {
        url: "127.0.0.1".into(),
        ports: vec![proxy.addr.port()],
        protocol: Some("http:".into()),
    });
    let (a, mut a_rx) = client(opts);
    let (b, mut b_rx) = client(options(addr, "app"));
    let a_id = a
        .join_room(Some("drop-room"), JoinOptions::default())
        .await
        .unwrap();
    let b_id = bounded(
        "B joins",
        b.join_room(Some("drop-room"), JoinOptions::default()),
    )
    .await
    .unwrap();
    wait_for(&mut a_rx, "A sees B", joined_owned(b_id.clone())).await;
    // A's welcome to B travels through the proxy too: cut only once B has it.
    wait_for(&mut b_rx, "B sees A", joined_owned(a_id.clone())).await;

    proxy.cut_all();

    wait_for(&mut a_rx, "channelClose", |e| {
        matches!(e, Event::ChannelClose { .. }).then_some(())
    })
    .await;
    let b2 = b_id.clone();
    wait_for(&mut a_rx, "peerLeft(B) locally", move |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == b2 => Some(()),
        _ => None,
    })
    .await;
    let old = wait_for(&mut a_rx, "sessionDisconnect", |e| match e {
        Event::SessionDisconnect { peer_id, .. } => Some(peer_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(old, a_id);
    // Automatic rejoin with a fresh init and a new peer id.
    wait_for(&mut a_rx, "rejoin init", |e| {
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
    let new_id = wait_for(&mut a_rx, "peerJoined(self) again", |e| match e {
        Event::PeerJoined {
            peer_id,
            is_self: true,
            ..
        } => Some(peer_id.clone()),
        _ => None,
    })
    .await;
    assert_ne!(new_id, a_id);
    // B learns (in either order) that the old A left (server `bye`) and the new A entered.
    let (mut left, mut entered) = (false, false);
    while !(left && entered) {
        let (l, e) = wait_for(&mut b_rx, "bye for old A / enter of new A", |e| match e {
            Event::PeerLeft { peer_id, .. } if *peer_id == a_id => Some((true, false)),
            Event::PeerJoined {
                peer_id,
                is_self: false,
                ..
            } if *peer_id == new_id => Some((false, true)),
            _ => None,
        })
        .await;
        left |= l;
        entered |= e;
    }
    wait_for(&mut a_rx, "new A sees B", joined_owned(b_id)).await;
    assert_eq!(a.peer_id().await.unwrap(), Some(new_id));
}

#[tokio::test]
async fn public_burst_arrives_in_order_and_switching_rooms_leaves_the_old_one() {
    let addr = start_server(None).await;
    let (a, mut a_rx) = client(options(addr, "app"));
    let (b, mut b_rx) = client(options(addr, "app"));
    let a_id = a
        .join_room(Some("burst"), JoinOptions::default())
        .await
        .unwrap();
    let b_id = bounded(
        "B joins",
        b.join_room(Some("burst"), JoinOptions::default()),
    )
    .await
    .unwrap();
    wait_for(&mut a_rx, "A sees B", joined_owned(b_id.clone())).await;

    // One direct send, the rest queued and sent as a `group` about a second later.
    for n in 0..5 {
        a.send_message(json!({ "n": n, "t": "ü" }), None)
            .await
            .unwrap();
    }
    for n in 0..5 {
        let got = wait_for(&mut b_rx, "burst message", |e| match e {
            Event::IncomingMessage {
                message,
                is_self: false,
                ..
            } => Some(message.content.clone()),
            _ => None,
        })
        .await;
        assert_eq!(got, json!({ "n": n, "t": "ü" }));
    }

    // Switching rooms = leave (locally) + fresh init + new socket + new peer id.
    let new_id = bounded(
        "A switches",
        a.join_room(Some("elsewhere"), JoinOptions::default()),
    )
    .await
    .unwrap();
    assert_ne!(new_id, a_id);
    let b2 = b_id.clone();
    wait_for(&mut a_rx, "A drops B locally", move |e| match e {
        Event::PeerLeft {
            peer_id,
            is_self: false,
            ..
        } if *peer_id == b2 => Some(()),
        _ => None,
    })
    .await;
    let a2 = a_id.clone();
    wait_for(
        &mut a_rx,
        "peerLeft(self) for the old session",
        move |e| match e {
            Event::PeerLeft {
                peer_id,
                is_self: true,
                ..
            } if *peer_id == a2 => Some(()),
            _ => None,
        },
    )
    .await;
    let a3 = a_id.clone();
    wait_for(&mut b_rx, "B gets bye for A", move |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == a3 => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(b.get_peers_in_room().await.unwrap().len(), 1);
    assert_eq!(a.get_peers_in_room().await.unwrap().len(), 1);
}

#[tokio::test]
async fn room_close_reject_in_session_disconnects_without_rejoin() {
    let mut config = skylink_server::Config::default();
    config.server.default_room_hours = 1.0 / 3600.0; // the room closes after 1 s
    let addr = start_server(Some(config)).await;
    let (c, mut rx) = client(options(addr, "app"));
    bounded("join", c.join_room(Some("short"), JoinOptions::default()))
        .await
        .unwrap();
    wait_for(&mut rx, "toClose warning", |e| match e {
        Event::SystemAction { action, reason, .. } if action == "warning" => Some(reason.clone()),
        _ => None,
    })
    .await
    .eq("toclose")
    .then_some(())
    .expect("toClose is rewritten to toclose");
    wait_for(&mut rx, "roomclose reject", |e| match e {
        Event::SystemAction { action, reason, .. }
            if action == "reject" && reason == "roomclose" =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    wait_for(&mut rx, "sessionDisconnect", |e| {
        matches!(e, Event::SessionDisconnect { .. }).then_some(())
    })
    .await;
    // A rejoin would be due immediately; a few engine round trips give it every chance to
    // start (it emits readyStateChange first thing).
    for _ in 0..3 {
        assert_eq!(c.peer_id().await.unwrap(), None);
    }
    while let Ok(ev) = rx.try_recv() {
        assert!(
            !matches!(ev, Event::ReadyStateChange { .. }),
            "no rejoin after a server reject: {ev:?}"
        );
    }
}
