//! Rust ↔ Rust peers through the real server: WebRTC connection, messaging data channel,
//! P2P messages, refresh/ICE restart, leave, and a full mesh.

mod common;

use std::collections::HashSet;
use std::time::Instant;

use common::{bounded, client, options, start_server, wait_for};
use serde_json::json;
use skylink_room::{Client, Event, HandshakeProgress, JoinOptions};
use tokio::sync::broadcast;

async fn join(c: &Client, room: &str) -> String {
    bounded("join", c.join_room(Some(room), JoinOptions::default()))
        .await
        .expect("joined")
}

async fn channel_open(rx: &mut broadcast::Receiver<Event>, peer: &str) -> String {
    let p = peer.to_owned();
    wait_for(rx, "messaging channel open", move |e| match e {
        Event::DataChannelState {
            state,
            peer_id,
            channel_name,
            channel_type,
            ..
        } if state == "open" && *peer_id == p && channel_type == "messaging" => {
            Some(channel_name.clone())
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_rust_peers_connect_and_talk_over_the_data_channel() {
    let addr = start_server(None).await;
    let (a, mut a_rx) = client(options(addr, "app"));
    let (b, mut b_rx) = client(options(addr, "app"));
    let mut a_candidates = a.subscribe();
    let a_id = join(&a, "p2p").await;
    let t0 = Instant::now();
    let b_id = join(&b, "p2p").await;

    // B, the newcomer, has the higher tie-breaker: it offers; A answers.
    let bid = b_id.clone();
    wait_for(&mut a_rx, "A applies B's offer", move |e| match e {
        Event::HandshakeProgress {
            state: HandshakeProgress::Offer,
            peer_id,
            ..
        } if *peer_id == bid => Some(()),
        _ => None,
    })
    .await;
    let label_a = channel_open(&mut a_rx, &b_id).await;
    let label_b = channel_open(&mut b_rx, &a_id).await;
    eprintln!("join→open: {:?}", t0.elapsed());
    assert_eq!(label_a, format!("{b_id}_{a_id}"), "offerer_answerer label");
    assert_eq!(label_a, label_b);

    // B's trickled candidates reached A and were all processed.
    let bid = b_id.clone();
    let length = wait_for(
        &mut a_candidates,
        "candidatesGathered at A",
        move |e| match e {
            Event::CandidatesGathered { peer_id, length } if *peer_id == bid => Some(*length),
            _ => None,
        },
    )
    .await;
    assert!(length.expected >= 1, "{length:?}");
    assert_eq!(length.received, length.expected);
    let chans = a.get_peers_datachannels().await.expect("channels");
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].ready_state, "open");

    // P2P messages both ways, private and broadcast.
    a.send_p2p_message(json!({"hello": "wörld ✓"}), Some(vec![b_id.clone()]))
        .await
        .expect("p2p A→B");
    let (content, private, dc, sender) = wait_for(&mut b_rx, "P2P at B", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if message.is_data_channel => Some((
            message.content.clone(),
            message.is_private,
            message.is_data_channel,
            message.sender_peer_id.clone(),
        )),
        _ => None,
    })
    .await;
    assert_eq!(content, json!({"hello": "wörld ✓"}));
    assert!(private && dc);
    assert_eq!(sender, a_id);
    b.send_p2p_message(json!("to everyone"), None)
        .await
        .expect("p2p B→all");
    let (content, private) = wait_for(&mut a_rx, "P2P at A", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if message.is_data_channel => Some((message.content.clone(), message.is_private)),
        _ => None,
    })
    .await;
    assert_eq!(content, json!("to everyone"));
    assert!(!private);
    // Own echo.
    wait_for(&mut b_rx, "own P2P echo", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: true,
            ..
        } if message.is_data_channel => Some(()),
        _ => None,
    })
    .await;

    // Sending to a peer that does not exist sends nothing and succeeds (the reference skips it).
    a.send_p2p_message(json!("x"), Some(vec!["nobody".into()]))
        .await
        .expect("unknown target is skipped");

    // refreshConnection with an ICE restart from the answerer (A): B re-offers.
    let r = a
        .refresh_connection(Some(vec![b_id.clone()]), true)
        .await
        .expect("refresh");
    assert!(r.refresh_errors.is_empty(), "{:?}", r.refresh_errors);
    assert_eq!(r.refresh_settings.get(&b_id), Some(&true));
    let bid = b_id.clone();
    wait_for(&mut a_rx, "A peerRestart(self)", move |e| match e {
        Event::PeerRestart {
            peer_id,
            is_self_initiate_restart: true,
            is_ice_restart: true,
            ..
        } if *peer_id == bid => Some(()),
        _ => None,
    })
    .await;
    let aid = a_id.clone();
    wait_for(&mut b_rx, "B peerRestart(remote)", move |e| match e {
        Event::PeerRestart {
            peer_id,
            is_self_initiate_restart: false,
            is_ice_restart: true,
            ..
        } if *peer_id == aid => Some(()),
        _ => None,
    })
    .await;
    let bid = b_id.clone();
    wait_for(&mut a_rx, "A answers the restart offer", move |e| match e {
        Event::HandshakeProgress {
            state: HandshakeProgress::Answer,
            peer_id,
            ..
        } if *peer_id == bid => Some(()),
        _ => None,
    })
    .await;
    // The channel still carries messages after the restart.
    b.send_p2p_message(json!("after restart"), Some(vec![a_id.clone()]))
        .await
        .expect("p2p after restart");
    wait_for(&mut a_rx, "P2P after restart", |e| match e {
        Event::IncomingMessage {
            message,
            is_self: false,
            ..
        } if message.content == json!("after restart") => Some(()),
        _ => None,
    })
    .await;

    // Leave: B sees A leave, and its connection to A closes.
    a.leave_room().await.expect("leave");
    let aid = a_id.clone();
    wait_for(&mut b_rx, "B sees peerLeft", move |e| match e {
        Event::PeerLeft { peer_id, .. } if *peer_id == aid => Some(()),
        _ => None,
    })
    .await;
    let aid = a_id.clone();
    wait_for(&mut b_rx, "B's connection to A closed", move |e| match e {
        Event::PeerConnectionState { state, peer_id } if state == "closed" && *peer_id == aid => {
            Some(())
        }
        _ => None,
    })
    .await;
    assert!(
        b.get_peers_datachannels()
            .await
            .expect("channels")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_rust_peers_form_a_full_mesh() {
    const N: usize = 6;
    let addr = start_server(None).await;
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..N {
        let (c, rx) = client(options(addr, "app"));
        let id = join(&c, "mesh").await;
        clients.push((c, rx));
        ids.push(id);
    }
    // Every peer sees N−1 open messaging channels.
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let mut open = HashSet::new();
        while open.len() < N - 1 {
            let p = wait_for(rx, "mesh channel open", |e| match e {
                Event::DataChannelState { state, peer_id, .. } if state == "open" => {
                    Some(peer_id.clone())
                }
                _ => None,
            })
            .await;
            assert_ne!(p, ids[i]);
            open.insert(p);
        }
    }
    // A broadcast P2P message from each peer reaches every other peer.
    for (i, (c, _)) in clients.iter().enumerate() {
        c.send_p2p_message(json!({"from": i}), None)
            .await
            .expect("broadcast");
    }
    for (i, (_, rx)) in clients.iter_mut().enumerate() {
        let mut from = HashSet::new();
        while from.len() < N - 1 {
            let f = wait_for(rx, "mesh message", |e| match e {
                Event::IncomingMessage {
                    message,
                    is_self: false,
                    ..
                } if message.is_data_channel => message.content["from"].as_u64(),
                _ => None,
            })
            .await;
            assert_ne!(f as usize, i);
            from.insert(f);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_trickle_peer_sends_complete_descriptions() {
    let addr = start_server(None).await;
    let mut no_trickle = options(addr, "app");
    no_trickle.enable_ice_trickle = false;
    let (a, mut a_rx) = client(no_trickle);
    let (b, mut b_rx) = client(options(addr, "app"));
    let mut b_all = b.subscribe();
    let a_id = join(&a, "nt").await;
    let b_id = join(&b, "nt").await;
    channel_open(&mut a_rx, &b_id).await;
    channel_open(&mut b_rx, &a_id).await;
    // A (answerer, non-trickle) sent no candidate messages: B processed none from A.
    let aid = a_id.clone();
    // Everything B raised up to the channel opening is buffered in `b_all`: drain it.
    let mut got_candidate = false;
    while let Ok(ev) = b_all.try_recv() {
        if matches!(&ev, Event::CandidateProcessingState { peer_id, .. } if *peer_id == aid) {
            got_candidate = true;
        }
    }
    assert!(
        !got_candidate,
        "a non-trickle peer must not send candidate messages"
    );
    a.send_p2p_message(json!("nt"), None).await.expect("p2p");
    wait_for(&mut b_rx, "P2P from the non-trickle peer", |e| match e {
        Event::IncomingMessage { message, .. } if message.content == json!("nt") => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privileged_peer_lists_and_introduces() {
    let config = skylink_server::Config::from_toml_str(
        r#"
[[apps]]
key = "priv"
privileged = true
auto_introduce = false
"#,
    )
    .expect("config");
    let addr = start_server(Some(config)).await;
    let (a, mut a_rx) = client(options(addr, "priv"));
    let (b, mut b_rx) = client(options(addr, "priv"));
    let (c, mut c_rx) = client(options(addr, "priv"));
    let a_id = join(&a, "intro").await;
    let b_id = join(&b, "intro").await;
    let c_id = join(&c, "intro").await;

    c.get_peers(true).await.expect("getPeers");
    wait_for(&mut c_rx, "getPeersStateChange enquired", |e| match e {
        Event::GetPeersStateChange { state, .. } if state == "enquired" => Some(()),
        _ => None,
    })
    .await;
    let list = wait_for(&mut c_rx, "getPeersStateChange received", |e| match e {
        Event::GetPeersStateChange {
            state,
            peer_list: Some(l),
            ..
        } if state == "received" => Some(l.clone()),
        _ => None,
    })
    .await;
    let in_room: Vec<String> = list
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    for id in [&a_id, &b_id, &c_id] {
        assert!(in_room.contains(id), "{id} missing from {list}");
    }

    // Without auto-introduction A and B have not met (the server relayed no `enter`; C's
    // getPeers round trip above came after both joins); C introduces A to B and they connect.
    let seen: Vec<String> = b
        .get_peers_in_room()
        .await
        .expect("peers")
        .into_iter()
        .map(|p| p.peer_id)
        .collect();
    assert_eq!(
        seen,
        vec![b_id.clone()],
        "B met peers without an introduction"
    );
    c.introduce_peer(&a_id, &b_id).await.expect("introduce");
    wait_for(&mut c_rx, "introduceStateChange introducing", |e| match e {
        Event::IntroduceStateChange { state, .. } if state == "introducing" => Some(()),
        _ => None,
    })
    .await;
    channel_open(&mut b_rx, &a_id).await;
    channel_open(&mut a_rx, &b_id).await;
    // An introduction of an unknown peer comes back as an error.
    c.introduce_peer("nobody", &b_id).await.expect("introduce");
    wait_for(&mut c_rx, "introduceStateChange error", |e| match e {
        Event::IntroduceStateChange { state, .. } if state == "error" => Some(()),
        _ => None,
    })
    .await;
}
