//! Routing rules of the hub, without sockets: joins, relay, lock, privileged calls, time limits,
//! and a property test of the isolation invariants.

use proptest::prelude::*;
use serde_json::{Value, json};
use skylink_server::hub::{ConnId, DeliverError, Hub, HubSettings, JoinOutcome, Link, Ticket};
use skylink_server::metrics::{DropReason, Metrics};
use skylink_sm::frame::{SioPacket, message_payload, parse_packet};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Inbox = Rc<RefCell<Vec<(ConnId, Value)>>>;

#[derive(Clone)]
struct RecLink {
    conn: ConnId,
    inbox: Inbox,
    closed: Rc<RefCell<Vec<ConnId>>>,
}

impl Link for RecLink {
    type Frame = String;
    fn deliver(&self, frame: String) -> Result<(), DeliverError> {
        let packet = frame
            .strip_prefix('4')
            .expect("an Engine.IO message packet");
        let Ok(SioPacket::Event { data, .. }) = parse_packet(packet) else {
            panic!("hub produced a non-event frame: {frame}");
        };
        let json = message_payload(data).expect("frame carries a message");
        assert!(frame.is_ascii(), "frames must be ASCII: {frame}");
        let value: Value = serde_json::from_str(&json).expect("frame carries JSON");
        self.inbox.borrow_mut().push((self.conn, value));
        Ok(())
    }
    fn close(&self) {
        self.closed.borrow_mut().push(self.conn);
    }
}

struct World {
    hub: Hub<RecLink>,
    inbox: Inbox,
    closed: Rc<RefCell<Vec<ConnId>>>,
    now: Instant,
    next_cred: u64,
}

impl World {
    fn new(settings: HubSettings) -> Self {
        Self {
            hub: Hub::new(settings, Arc::new(Metrics::default())),
            inbox: Rc::default(),
            closed: Rc::default(),
            now: Instant::now(),
            next_cred: 0,
        }
    }

    fn connect(&mut self, conn: ConnId) {
        let link = RecLink {
            conn,
            inbox: self.inbox.clone(),
            closed: self.closed.clone(),
        };
        self.hub.connect(conn, link);
    }

    fn ticket(&mut self, room: &str, privileged: bool) -> Ticket {
        let mut t = self.ticket_template(room);
        t.privileged = privileged;
        self.hub
            .issue_ticket(t.clone(), self.now)
            .expect("ticket stored");
        t
    }

    /// A fresh ticket for `room`, not yet issued.
    fn ticket_template(&mut self, room: &str) -> Ticket {
        self.next_cred += 1;
        Ticket {
            app_key: "app".into(),
            room_name: room.into(),
            room_key: format!("rk_{room}"),
            cid: "cid_app".into(),
            api_owner: "owner".into(),
            username: format!("user{}", self.next_cred),
            user_cred: format!("cred{}", self.next_cred),
            room_cred: "roomcred".into(),
            time_stamp: "2026-11-26T00:00:00.000Z".into(),
            start: "2026-11-26T00:00:00.000Z".into(),
            len: json!(24),
            privileged: false,
            auto_introduce: true,
            mcu: false,
            window_start: self.now - Duration::from_secs(1),
            window_end: self.now + Duration::from_secs(3600),
            issued: self.now,
            used: false,
        }
    }

    fn join_message(t: &Ticket) -> String {
        json!({
            "type": "joinRoom", "uid": t.username, "cid": t.cid, "rid": t.room_key,
            "userCred": t.user_cred, "timeStamp": t.time_stamp, "apiOwner": t.api_owner,
            "roomCred": t.room_cred, "start": t.start, "len": t.len,
            "isPrivileged": t.privileged, "autoIntroduce": true, "key": t.app_key
        })
        .to_string()
    }

    /// Connects and joins; returns the peer id.
    fn join(&mut self, conn: ConnId, room: &str) -> String {
        self.connect(conn);
        let t = self.ticket(room, false);
        self.hub
            .handle_message(conn, None, &Self::join_message(&t), self.now)
            .expect("join handled");
        self.hub.peer_of(conn).expect("joined").to_owned()
    }

    fn send(&mut self, conn: ConnId, msg: Value) -> Result<(), DropReason> {
        self.hub
            .handle_message(conn, None, &msg.to_string(), self.now)
    }

    fn take(&self) -> Vec<(ConnId, Value)> {
        std::mem::take(&mut *self.inbox.borrow_mut())
    }
}

#[test]
fn join_sends_in_room_with_unique_ids_and_tie_breakers() {
    let mut w = World::new(HubSettings {
        ice_servers: vec![json!({"url": "stun:127.0.0.1:3478"})],
        ..HubSettings::default()
    });
    let a = w.join(1, "r");
    let b = w.join(2, "r");
    assert_ne!(a, b);
    let frames = w.take();
    let in_rooms: Vec<&Value> = frames
        .iter()
        .filter(|(_, v)| v["type"] == "inRoom")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(in_rooms.len(), 2);
    assert_eq!(in_rooms[0]["sid"], a.as_str());
    assert_eq!(in_rooms[0]["rid"], "rk_r");
    assert_eq!(
        in_rooms[0]["pc_config"]["iceServers"][0]["url"],
        "stun:127.0.0.1:3478"
    );
    let t0 = in_rooms[0]["tieBreaker"]
        .as_u64()
        .expect("numeric tieBreaker");
    let t1 = in_rooms[1]["tieBreaker"]
        .as_u64()
        .expect("numeric tieBreaker");
    assert!(t1 > t0, "tie-breakers must be unique and increasing");
    assert!((t1 as f64 + 2e15) < 9.007e15, "stays exact in a JS double");
}

#[test]
fn broadcast_and_target_rules() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    let b = w.join(2, "r");
    let _c = w.join(3, "r");
    let _x = w.join(4, "other");
    w.take();
    w.send(1, json!({"type":"enter","mid":a,"rid":"rk_r"}))
        .unwrap();
    let got: Vec<ConnId> = w.take().into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        got,
        vec![2, 3],
        "broadcast reaches the others of the room only"
    );
    w.send(
        1,
        json!({"type":"offer","mid":a,"rid":"rk_r","target":b,"sdp":"v=0"}),
    )
    .unwrap();
    let got = w.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1["sdp"], "v=0", "payload forwarded intact");
}

#[test]
fn bad_input_is_dropped_and_counted() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    let b = w.join(2, "r");
    let x = w.join(3, "other");
    w.take();
    let cases = [
        (
            json!({"type":"public","mid":b,"rid":"rk_r","data":"spoof"}),
            DropReason::SpoofedMid,
        ),
        (
            json!({"type":"public","mid":a,"rid":"rk_other","data":"x"}),
            DropReason::WrongRoom,
        ),
        (
            json!({"type":"private","mid":a,"rid":"rk_r","target":x,"data":"x"}),
            DropReason::UnknownTarget,
        ),
        (
            json!({"type":"inRoom","mid":a,"rid":"rk_r"}),
            DropReason::Forbidden,
        ),
        (json!({"type":"bye","mid":b}), DropReason::SpoofedMid),
        (json!({"type":"getPeers"}), DropReason::Forbidden),
        (json!({"type":42}), DropReason::Malformed),
        (json!(["not", "an", "object"]), DropReason::Malformed),
    ];
    for (msg, reason) in cases {
        assert_eq!(w.send(1, msg.clone()), Err(reason), "{msg}");
    }
    assert_eq!(
        w.hub.handle_message(1, None, "{not json", w.now),
        Err(DropReason::Malformed)
    );
    assert!(w.take().is_empty(), "nothing was delivered");
    assert_eq!(w.hub.metrics().dropped_count(DropReason::Malformed), 3);
    // The sender is still in service.
    w.send(1, json!({"type":"public","mid":a,"rid":"rk_r","data":"ok"}))
        .unwrap();
    assert_eq!(w.take().len(), 1);
}

#[test]
fn missing_mid_is_filled_with_the_sender() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    w.join(2, "r");
    w.take();
    w.send(1, json!({"type":"public","rid":"rk_r","data":"x"}))
        .unwrap();
    let got = w.take();
    assert_eq!(got[0].1["mid"], a.as_str());
}

#[test]
fn lock_rejects_joiners_until_unlocked() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    w.join(2, "r");
    w.take();
    w.send(
        1,
        json!({"type":"roomLockEvent","mid":a,"rid":"rk_r","lock":true}),
    )
    .unwrap();
    assert!(w.hub.is_locked("rk_r"));
    assert_eq!(w.take().len(), 1, "lock event relayed to the other member");
    w.connect(3);
    let t = w.ticket("r", false);
    let outcome = w.hub.join(3, &World::join_message(&t), w.now);
    assert_eq!(outcome, JoinOutcome::Rejected("locked"));
    let got = w.take();
    assert_eq!(got[0].1["type"], "redirect");
    assert_eq!(got[0].1["action"], "reject");
    assert_eq!(got[0].1["reason"], "locked");
    assert_eq!(*w.closed.borrow(), vec![3]);
    w.hub.disconnect(3);
    w.send(
        1,
        json!({"type":"roomLockEvent","mid":a,"rid":"rk_r","lock":false}),
    )
    .unwrap();
    w.join(4, "r");
    assert_eq!(w.hub.room_members("rk_r").len(), 3);
}

#[test]
fn credentials_are_single_use_and_checked() {
    let mut w = World::new(HubSettings::default());
    w.connect(1);
    let t = w.ticket("r", false);
    let msg = World::join_message(&t);
    assert!(matches!(w.hub.join(1, &msg, w.now), JoinOutcome::Joined(_)));
    w.connect(2);
    assert_eq!(
        w.hub.join(2, &msg, w.now),
        JoinOutcome::Rejected("duplicatedLogin")
    );
    w.connect(3);
    let mut forged: Value =
        serde_json::from_str(&World::join_message(&w.ticket("r", false))).unwrap();
    forged["roomCred"] = json!("forged");
    assert_eq!(
        w.hub.join(3, &forged.to_string(), w.now),
        JoinOutcome::Rejected("credentialError")
    );
    w.connect(4);
    let stale = World::join_message(&w.ticket("r", false));
    let later = w.now + Duration::from_secs(301);
    assert_eq!(
        w.hub.join(4, &stale, later),
        JoinOutcome::Rejected("oldTimeStamp")
    );
}

#[test]
fn room_window_and_close() {
    let mut w = World::new(HubSettings {
        close_warning: Duration::from_secs(60),
        ..HubSettings::default()
    });
    w.connect(1);
    let mut t = w.ticket("r", false);
    t.user_cred = "early".into();
    t.window_start = w.now + Duration::from_secs(10);
    w.hub.issue_ticket(t.clone(), w.now).expect("ticket stored");
    assert_eq!(
        w.hub.join(1, &World::join_message(&t), w.now),
        JoinOutcome::Rejected("notStart")
    );
    w.connect(2);
    let mut t = w.ticket("r", false);
    t.user_cred = "short".into();
    t.window_end = w.now + Duration::from_secs(120);
    w.hub.issue_ticket(t.clone(), w.now).expect("ticket stored");
    assert!(matches!(
        w.hub.join(2, &World::join_message(&t), w.now),
        JoinOutcome::Joined(_)
    ));
    w.take();
    w.hub.tick(w.now + Duration::from_secs(30));
    assert!(w.take().is_empty());
    w.hub.tick(w.now + Duration::from_secs(61));
    let got = w.take();
    assert_eq!(
        (got[0].1["action"].as_str(), got[0].1["reason"].as_str()),
        (Some("warning"), Some("toClose"))
    );
    w.hub.tick(w.now + Duration::from_secs(121));
    let got = w.take();
    assert_eq!(got[0].1["reason"], "roomclose");
    assert!(w.closed.borrow().contains(&2));
    assert!(w.hub.room_members("rk_r").is_empty());
}

#[test]
fn disconnect_sends_bye() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    w.join(2, "r");
    w.take();
    w.hub.disconnect(1);
    let got = w.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1, json!({"type":"bye","mid":a,"rid":"rk_r"}));
}

#[test]
fn flood_warns_once_per_window() {
    let mut w = World::new(HubSettings {
        flood_per_sec: 3,
        ..HubSettings::default()
    });
    let a = w.join(1, "r");
    w.join(2, "r");
    w.take();
    for i in 0..6 {
        w.send(1, json!({"type":"public","mid":a,"rid":"rk_r","data":i}))
            .unwrap();
    }
    let warnings: Vec<Value> = w
        .take()
        .into_iter()
        .filter(|(c, _)| *c == 1)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0]["reason"], "fastmsg");
    assert_eq!(warnings[0]["action"], "warning");
}

#[test]
fn group_is_relayed_but_spoofed_members_are_not() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    let b = w.join(2, "r");
    w.take();
    let inner = json!({"type":"public","mid":a,"rid":"rk_r","data":"x"}).to_string();
    w.send(
        1,
        json!({"type":"group","mid":a,"rid":"rk_r","lists":[inner]}),
    )
    .unwrap();
    assert_eq!(w.take().len(), 1);
    let spoofed = json!({"type":"public","mid":b,"rid":"rk_r","data":"x"}).to_string();
    assert_eq!(
        w.send(
            1,
            json!({"type":"group","mid":a,"rid":"rk_r","lists":[spoofed]})
        ),
        Err(DropReason::SpoofedMid)
    );
    let targeted = json!({"type":"offer","mid":a,"rid":"rk_r","target":b}).to_string();
    assert_eq!(
        w.send(
            1,
            json!({"type":"group","mid":a,"rid":"rk_r","lists":[targeted]})
        ),
        Err(DropReason::Forbidden)
    );
}

#[test]
fn privileged_get_peers_and_introduce() {
    let mut w = World::new(HubSettings::default());
    w.connect(1);
    let t = w.ticket("lobby", true);
    w.hub.join(1, &World::join_message(&t), w.now);
    let b = w.join(2, "lobby");
    let c = w.join(3, "lobby");
    let d = w.join(4, "support");
    w.take();
    w.send(1, json!({"type":"getPeers","showAll":false}))
        .unwrap();
    let got = w.take();
    assert_eq!(got[0].0, 1);
    assert_eq!(got[0].1["type"], "peerList");
    assert_eq!(got[0].1["result"]["lobby"], json!([b, c]));
    assert_eq!(got[0].1["result"]["support"], json!([d]));
    w.send(
        1,
        json!({"type":"introduce","sendingPeerId":b,"receivingPeerId":c}),
    )
    .unwrap();
    let got = w.take();
    assert_eq!(got, vec![(2, json!({"type":"approach","target":c}))]);
    w.send(
        1,
        json!({"type":"introduce","sendingPeerId":b,"receivingPeerId":"nobody"}),
    )
    .unwrap();
    let got = w.take();
    assert_eq!(got[0].0, 1);
    assert_eq!(got[0].1["type"], "introduceError");
    assert_eq!(got[0].1["sendingPeerId"], b.as_str());
}

#[test]
fn recording_goes_to_the_mcu_with_sender_id() {
    let mut w = World::new(HubSettings::default());
    let a = w.join(1, "r");
    w.connect(2);
    let mut t = w.ticket("r", false);
    t.mcu = true;
    w.hub.issue_ticket(t.clone(), w.now).expect("ticket stored");
    assert_eq!(
        w.hub.join(2, &World::join_message(&t), w.now),
        JoinOutcome::Joined("MCU".into())
    );
    w.take();
    w.send(
        1,
        json!({"type":"startRecordingRoom","rid":"rk_r","target":"MCU"}),
    )
    .unwrap();
    let got = w.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1["mid"], a.as_str());
}

#[derive(Debug, Clone)]
enum Op {
    Join { conn: u8, room: u8 },
    Leave { conn: u8 },
    Lock { conn: u8, lock: bool },
    Broadcast { conn: u8 },
    Target { conn: u8, to: u8 },
    Spoof { conn: u8, as_conn: u8 },
    OtherRoom { conn: u8, room: u8 },
}

fn op() -> impl Strategy<Value = Op> {
    let conn = 0u8..9;
    prop_oneof![
        (conn.clone(), 0u8..3).prop_map(|(conn, room)| Op::Join { conn, room }),
        conn.clone().prop_map(|conn| Op::Leave { conn }),
        (conn.clone(), any::<bool>()).prop_map(|(conn, lock)| Op::Lock { conn, lock }),
        conn.clone().prop_map(|conn| Op::Broadcast { conn }),
        (conn.clone(), 0u8..9).prop_map(|(conn, to)| Op::Target { conn, to }),
        (conn.clone(), 0u8..9).prop_map(|(conn, as_conn)| Op::Spoof { conn, as_conn }),
        (conn, 0u8..3).prop_map(|(conn, room)| Op::OtherRoom { conn, room }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Over random joins/leaves/locks/sends among 3 rooms: no frame reaches a socket outside
    /// the sender's room or a non-target, and every relayed `mid` is the real sender.
    #[test]
    fn routing_invariants(ops in proptest::collection::vec(op(), 1..80)) {
        let mut w = World::new(HubSettings { flood_per_sec: 0, ..HubSettings::default() });
        let mut next_id: u64 = 0;
        // model: conn id currently used for slot -> (peer id, room)
        let mut slots: Vec<Option<(ConnId, String, String)>> = vec![None; 9];
        for op in ops {
            w.take();
            let member = |slots: &Vec<Option<(ConnId, String, String)>>, s: u8| slots[s as usize].clone();
            match op {
                Op::Join { conn, room } => {
                    if slots[conn as usize].is_some() { continue; }
                    next_id += 1;
                    let id = next_id;
                    let room_name = format!("room{room}");
                    w.connect(id);
                    let t = w.ticket(&room_name, false);
                    let outcome = w.hub.join(id, &World::join_message(&t), w.now);
                    let frames = w.take();
                    match outcome {
                        JoinOutcome::Joined(peer) => {
                            prop_assert_eq!(frames.len(), 1);
                            prop_assert_eq!(frames[0].0, id);
                            slots[conn as usize] = Some((id, peer, format!("rk_{room_name}")));
                        }
                        JoinOutcome::Rejected(reason) => {
                            prop_assert_eq!(reason, "locked");
                            let rk = format!("rk_{room_name}");
                            prop_assert!(w.hub.is_locked(&rk));
                            w.hub.disconnect(id);
                        }
                    }
                    continue;
                }
                Op::Leave { conn } => {
                    let Some((id, peer, rk)) = member(&slots, conn) else { continue };
                    w.hub.disconnect(id);
                    slots[conn as usize] = None;
                    for (to, v) in w.take() {
                        let (_, _, to_rk) = slots.iter().flatten().find(|(c, _, _)| *c == to).cloned().expect("recipient is a member");
                        prop_assert_eq!(&to_rk, &rk);
                        prop_assert_eq!(v["type"].as_str(), Some("bye"));
                        prop_assert_eq!(v["mid"].as_str(), Some(peer.as_str()));
                    }
                    continue;
                }
                _ => {}
            }
            let (sender_slot, msg, target) = match &op {
                Op::Lock { conn, lock } => {
                    let Some((_, peer, rk)) = member(&slots, *conn) else { continue };
                    (*conn, json!({"type":"roomLockEvent","mid":peer,"rid":rk,"lock":lock}), None)
                }
                Op::Broadcast { conn } => {
                    let Some((_, peer, rk)) = member(&slots, *conn) else { continue };
                    (*conn, json!({"type":"public","mid":peer,"rid":rk,"data":"x"}), None)
                }
                Op::Target { conn, to } => {
                    let Some((_, peer, rk)) = member(&slots, *conn) else { continue };
                    let target = member(&slots, *to).map(|m| m.1).unwrap_or_else(|| "ghost".into());
                    (*conn, json!({"type":"private","mid":peer,"rid":rk,"target":target,"data":"x"}), Some(target))
                }
                Op::Spoof { conn, as_conn } => {
                    let Some((_, _, rk)) = member(&slots, *conn) else { continue };
                    let Some((_, other, _)) = member(&slots, *as_conn) else { continue };
                    (*conn, json!({"type":"public","mid":other,"rid":rk,"data":"x"}), None)
                }
                Op::OtherRoom { conn, room } => {
                    let Some((_, peer, _)) = member(&slots, *conn) else { continue };
                    (*conn, json!({"type":"public","mid":peer,"rid":format!("rk_room{room}"),"data":"x"}), None)
                }
                _ => unreachable!(),
            };
            let (sender_id, sender_peer, sender_rk) = member(&slots, sender_slot).expect("sender is a member");
            let _ = w.send(sender_id, msg);
            for (to, v) in w.take() {
                prop_assert_ne!(to, sender_id, "no echo to the sender");
                let (_, to_peer, to_rk) = slots.iter().flatten().find(|(c, _, _)| *c == to).cloned().expect("recipient is a member");
                prop_assert_eq!(&to_rk, &sender_rk, "frame left its room");
                prop_assert_eq!(v["mid"].as_str(), Some(sender_peer.as_str()), "mid is the real sender");
                if let Some(target) = &target {
                    prop_assert_eq!(&to_peer, target, "targeted frame reached a non-target");
                }
            }
        }
    }
}

#[test]
fn auto_introduce_off_relays_only_targeted_enter() {
    let mut w = World::new(HubSettings::default());
    let b = w.join(2, "r");
    w.connect(1);
    let mut t = w.ticket("r", false);
    t.user_cred = "quiet".into();
    t.auto_introduce = false;
    w.hub.issue_ticket(t.clone(), w.now).expect("ticket stored");
    let JoinOutcome::Joined(a) = w.hub.join(1, &World::join_message(&t), w.now) else {
        panic!("join refused")
    };
    w.take();
    w.send(1, json!({"type":"enter","mid":a,"rid":"rk_r"}))
        .unwrap();
    assert!(w.take().is_empty(), "broadcast enter withheld");
    w.send(1, json!({"type":"enter","mid":a,"rid":"rk_r","target":b}))
        .unwrap();
    assert_eq!(w.take().len(), 1, "targeted enter (after approach) relayed");
}

#[test]
fn room_seats_are_enforced() {
    let mut w = World::new(HubSettings {
        room_seats: 2,
        ..HubSettings::default()
    });
    w.join(1, "r");
    w.join(2, "r");
    w.connect(3);
    let t = w.ticket("r", false);
    assert_eq!(
        w.hub.join(3, &World::join_message(&t), w.now),
        JoinOutcome::Rejected("serverError")
    );
    // Another room is unaffected.
    w.join(4, "other");
    assert_eq!(w.hub.room_members("rk_other").len(), 1);
}

#[test]
fn recording_event_urls_become_url() {
    let mut w = World::new(HubSettings::default());
    w.join(1, "r");
    w.connect(2);
    let mut t = w.ticket("r", false);
    t.mcu = true;
    w.hub.issue_ticket(t.clone(), w.now).expect("ticket stored");
    w.hub.join(2, &World::join_message(&t), w.now);
    w.take();
    w.send(
        2,
        json!({"type":"recordingEvent","mid":"MCU","rid":"rk_r","action":"url","recordingId":"rec1",
            "urls":{"mixin":"https://rec.example/1.mp4"}}),
    )
    .unwrap();
    let got = w.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["url"], "https://rec.example/1.mp4");
    assert!(got[0].1.get("urls").is_none(), "0.6.26 throws on `urls`");
}

#[test]
fn credential_table_is_bounded() {
    let mut w = World::new(HubSettings {
        max_pending_tickets: 3,
        credential_ttl: Duration::from_secs(10),
        ..HubSettings::default()
    });
    for _ in 0..3 {
        w.ticket("r", false);
    }
    let mut extra = w.ticket_template("r");
    extra.user_cred = "one-too-many".into();
    assert_eq!(
        w.hub.issue_ticket(extra.clone(), w.now),
        Err(skylink_server::hub::TicketsFull)
    );
    // Once the old ones are past twice the TTL, there is room again.
    let later = w.now + Duration::from_secs(21);
    assert_eq!(w.hub.issue_ticket(extra, later), Ok(()));
}
