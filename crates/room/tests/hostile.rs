//! A hostile peer (a raw signaling client sending malformed offers, answers, candidates,
//! wrong types and huge or unknown messages) against a Rust client: typed error events, and
//! the client keeps working with a well-behaved peer.

mod common;

use std::time::Instant;

use common::{bounded, client, options, start_server, wait_for};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use skylink_room::eio::{EioPacket, SioEvent, decode};
use skylink_room::session::{LocalConfig, Session};
use skylink_room::{Event, HandshakeProgress, JoinOptions, PriorityWeightScheme};
use tokio_tungstenite::tungstenite::Message as Ws;

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw socket.io peer: joins through the room API and speaks JSON by hand.
struct RawPeer {
    ws: WsStream,
    id: String,
    rid: String,
}

impl RawPeer {
    async fn join(addr: std::net::SocketAddr, room: &str) -> RawPeer {
        let opts = options(addr, "app");
        let api = skylink_room::api::fetch_room(&opts, room)
            .await
            .expect("room API");
        let session = Session::new(
            LocalConfig {
                app_key: "app".into(),
                room: room.into(),
                enable_ice_trickle: true,
                enable_data_channel: true,
                enable_ice_restart: true,
                priority_weight_scheme: PriorityWeightScheme::Auto,
                user_data: json!(""),
                instance: None,
                publish_only: false,
                parent_id: None,
                receiving: Default::default(),
            },
            &api,
        );
        let url = format!("ws://{addr}/socket.io/?EIO=3&transport=websocket");
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
        let mut p = RawPeer {
            ws,
            id: String::new(),
            rid: api.room_key.clone(),
        };
        p.send(&session.join_room_json()).await;
        let in_room = p.recv_type("inRoom").await;
        p.id = in_room["sid"].as_str().expect("sid").to_owned();
        p
    }

    async fn send(&mut self, json: &str) {
        let frame = skylink_sm::frame::encode_eio_message_event(json);
        self.ws.send(Ws::text(frame)).await.expect("send");
    }

    async fn send_value(&mut self, v: Value) {
        self.send(&v.to_string()).await;
    }

    async fn recv_type(&mut self, ty: &str) -> Value {
        bounded(&format!("raw peer receives {ty}"), async {
            loop {
                let Some(Ok(Ws::Text(t))) = self.ws.next().await else {
                    panic!("raw socket closed")
                };
                if let Ok(EioPacket::Socket(SioEvent::Message(m))) = decode(&t) {
                    let v: Value = serde_json::from_str(&m).expect("json");
                    if v["type"] == ty {
                        return v;
                    }
                }
            }
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peer_gets_typed_errors_and_others_keep_working() {
    let addr = start_server(None).await;
    let (a, mut a_rx) = client(options(addr, "app"));
    let a_id = bounded("A joins", a.join_room(Some("h"), JoinOptions::default()))
        .await
        .expect("A joined");

    let mut h = RawPeer::join(addr, "h").await;
    let (hid, rid) = (h.id.clone(), h.rid.clone());
    // An `enter` with a wrong-typed weight is undecodable: channelError, the peer is ignored.
    h.send_value(json!({"type":"enter","mid":hid,"rid":rid,"agent":"evil","weight":"heavy"}))
        .await;
    wait_for(
        &mut a_rx,
        "channelError for a wrong-typed enter",
        |e| match e {
            Event::ChannelError { error, .. } if error.contains("undecodable") => Some(()),
            _ => None,
        },
    )
    .await;
    // A proper `enter` (low weight, so A would offer if it were the one to decide).
    h.send_value(
        json!({"type":"enter","mid":hid,"rid":rid,"agent":"evil","version":"1",
        "weight":1,"enableIceTrickle":true,"enableDataChannel":true,"SMProtocolVersion":"0.1.2.4"}),
    )
    .await;
    let hid2 = hid.clone();
    wait_for(&mut a_rx, "A sees the hostile peer", move |e| match e {
        Event::PeerJoined { peer_id, .. } if *peer_id == hid2 => Some(()),
        _ => None,
    })
    .await;
    let _welcome = h.recv_type("welcome").await;

    // 1. An offer whose SDP is garbage: handshakeProgress(error).
    h.send_value(json!({"type":"offer","sdp":"this is not SDP","mid":hid,"target":a_id,"rid":rid}))
        .await;
    let hid2 = hid.clone();
    let err = wait_for(
        &mut a_rx,
        "handshake error for a garbage offer",
        move |e| match e {
            Event::HandshakeProgress {
                state: HandshakeProgress::Error,
                peer_id,
                error,
            } if *peer_id == hid2 => error.clone(),
            _ => None,
        },
    )
    .await;
    assert!(!err.is_empty());

    // 2. A syntactically valid SDP with hostile content (no ICE credentials, absurd ports).
    let evil_sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 99999999 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sctp-port:-5\r\n";
    h.send_value(json!({"type":"offer","sdp":evil_sdp,"mid":hid,"target":a_id,"rid":rid}))
        .await;
    // 3. An answer although A never offered: dropped (wrong signaling state), no crash.
    h.send_value(json!({"type":"answer","sdp":evil_sdp,"mid":hid,"target":a_id,"rid":rid}))
        .await;
    // 4. Wrong types: `sdp` as a number, `label` as a string → channelError (undecodable).
    h.send_value(json!({"type":"offer","sdp":42,"mid":hid,"target":a_id,"rid":rid}))
        .await;
    wait_for(
        &mut a_rx,
        "channelError for a wrong-typed message",
        |e| match e {
            Event::ChannelError { error, .. } if error.contains("undecodable") => Some(()),
            _ => None,
        },
    )
    .await;
    h.send_value(json!({"type":"candidate","label":"zero","id":0,"candidate":{},"mid":hid,"target":a_id,"rid":rid}))
        .await;
    // 5. Candidates for unknown mids and garbage candidate strings: processed or dropped with
    // an event, never a crash.
    for (id, cand) in [
        ("nope", "candidate:1 1 udp 1 127.0.0.1 9 typ host"),
        ("0", "candidate:garbage"),
        ("0", ""),
    ] {
        h.send_value(json!({"type":"candidate","label":7,"id":id,"candidate":cand,"mid":hid,"target":a_id,"rid":rid}))
            .await;
    }
    let hid2 = hid.clone();
    wait_for(
        &mut a_rx,
        "candidateProcessingState for hostile candidates",
        move |e| match e {
            Event::CandidateProcessingState { peer_id, state, .. }
                if *peer_id == hid2 && state == "received" =>
            {
                Some(())
            }
            _ => None,
        },
    )
    .await;
    h.send_value(json!({"type":"endOfCandidates","noOfExpectedCandidates":-3,"mid":hid,"target":a_id,"rid":rid}))
        .await;
    // 6. Unknown message types and a huge message (the server drops it at its size limit).
    h.send_value(json!({"type":"totallyUnknown","mid":hid,"rid":rid,"x":[1,2,3]}))
        .await;
    let huge = "x".repeat(300 * 1024);
    h.send_value(json!({"type":"private","data":huge,"mid":hid,"target":a_id,"rid":rid}))
        .await;
    // 7. A restart from the hostile peer with a non-number weight.
    h.send_value(json!({"type":"restart","mid":hid,"target":a_id,"rid":rid,"weight":{"x":1},"doIceRestart":"yes"}))
        .await;

    // A well-behaved Rust peer still connects to A and talks over the data channel.
    let t = Instant::now();
    let (b, mut b_rx) = client(options(addr, "app"));
    let b_id = bounded("B joins", b.join_room(Some("h"), JoinOptions::default()))
        .await
        .expect("B joined");
    let bid = b_id.clone();
    wait_for(&mut a_rx, "A's channel with B opens", move |e| match e {
        Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == bid => {
            Some(())
        }
        _ => None,
    })
    .await;
    let aid = a_id.clone();
    wait_for(&mut b_rx, "B's channel with A opens", move |e| match e {
        Event::DataChannelState { state, peer_id, .. } if state == "open" && *peer_id == aid => {
            Some(())
        }
        _ => None,
    })
    .await;
    b.send_p2p_message(json!("still fine"), Some(vec![a_id.clone()]))
        .await
        .expect("p2p");
    wait_for(&mut a_rx, "A gets B's P2P message", |e| match e {
        Event::IncomingMessage { message, .. } if message.content == json!("still fine") => {
            Some(())
        }
        _ => None,
    })
    .await;
    assert!(t.elapsed().as_secs() < 10);
    // The hostile peer is still listed (it did nothing that removes it) and A still answers it.
    let peers = a.get_peers_in_room().await.expect("peers");
    assert!(peers.iter().any(|p| p.peer_id == hid));
}
