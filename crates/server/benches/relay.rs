//! The relay hot path without sockets: one message in, frames queued for recipients.
//!
//! Baseline in the same run: a plain `serde_json::Value` parse of the same message, i.e. what a
//! naive relay would spend before routing anything.

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use skylink_server::hub::{DeliverError, Hub, HubSettings, Link, Ticket};
use skylink_server::metrics::Metrics;
use skylink_sm::frame::{encode_eio_message_event, message_payload, parse_packet};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Utf8Bytes;

#[derive(Clone)]
struct NullLink;

impl Link for NullLink {
    type Frame = Utf8Bytes;
    fn deliver(&self, frame: Utf8Bytes) -> Result<(), DeliverError> {
        black_box(frame);
        Ok(())
    }
    fn close(&self) {}
}

fn room_of_four() -> (Hub<NullLink>, Vec<String>, Instant) {
    let now = Instant::now();
    let mut hub = Hub::new(
        HubSettings {
            flood_per_sec: 0,
            ..HubSettings::default()
        },
        Arc::new(Metrics::default()),
    );
    let mut peers = Vec::new();
    for i in 0..4u64 {
        let t = Ticket {
            app_key: "app".into(),
            room_name: "r".into(),
            room_key: "rk_r".into(),
            cid: "c".into(),
            api_owner: "o".into(),
            username: format!("u{i}"),
            user_cred: format!("cred{i}"),
            room_cred: "rc".into(),
            time_stamp: "ts".into(),
            start: "s".into(),
            len: json!(24),
            privileged: false,
            auto_introduce: true,
            mcu: false,
            window_start: now - Duration::from_secs(1),
            window_end: now + Duration::from_secs(3600),
            issued: now,
            used: false,
        };
        hub.issue_ticket(t.clone(), now).expect("ticket stored");
        hub.connect(i, NullLink);
        let join = json!({"type":"joinRoom","uid":t.username,"cid":"c","rid":"rk_r","userCred":t.user_cred,
            "timeStamp":"ts","apiOwner":"o","roomCred":"rc","start":"s","len":24,"key":"app"});
        hub.join(i, &join.to_string(), now);
        peers.push(hub.peer_of(i).map(str::to_owned).unwrap_or_default());
    }
    (hub, peers, now)
}

fn bench(c: &mut Criterion) {
    let (mut hub, peers, now) = room_of_four();
    let private = json!({"cid":"c","data":{"seq":1,"t":1764165600000u64,"pad":"x".repeat(64)},
        "mid":peers[0],"rid":"rk_r","target":peers[1],"type":"private"})
    .to_string();
    let public =
        json!({"cid":"c","data":"hello everyone","mid":peers[0],"rid":"rk_r","type":"public"})
            .to_string();
    let private_frame = Utf8Bytes::from(encode_eio_message_event(&private));
    let public_frame = Utf8Bytes::from(encode_eio_message_event(&public));

    let mut group = c.benchmark_group("relay");
    group.bench_function("baseline: serde_json::Value parse", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&private)).ok()))
    });
    group.bench_function("frame decode (packet + payload)", |b| {
        b.iter(|| {
            let packet = parse_packet(&private_frame[1..]).ok();
            if let Some(skylink_sm::frame::SioPacket::Event { data, .. }) = packet {
                black_box(message_payload(data).ok());
            }
        })
    });
    group.bench_function("hub: private to 1 (verbatim)", |b| {
        b.iter(|| {
            let _ = hub.handle_message(0, Some(&private_frame), black_box(&private), now);
        })
    });
    group.bench_function("hub: public to 3 (verbatim)", |b| {
        b.iter(|| {
            let _ = hub.handle_message(0, Some(&public_frame), black_box(&public), now);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
