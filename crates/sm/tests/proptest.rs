//! Property tests: generated messages round-trip, arbitrary input never panics.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use skylink_sm::envelope::Envelope;
use skylink_sm::message::Message;
use skylink_sm::room_api::{parse_api_request, parse_api_response};

/// Arbitrary JSON values (numbers kept to integers and simple floats, as JS would send).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z_]{1,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Extra fields with names no message type uses.
fn extra_fields() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("x_[a-z]{1,6}", any_json()), 0..4)
}

fn id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9-]{1,12}"
}

fn with_extra(mut base: Map<String, Value>, extra: Vec<(String, Value)>) -> Value {
    for (k, v) in extra {
        base.insert(k, v);
    }
    Value::Object(base)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn user_info() -> impl Strategy<Value = Value> {
    (any_json(), any::<bool>(), any::<bool>(), any::<bool>(), 1u32..4000, extra_fields()).prop_map(
        |(data, audio_on, muted, stereo, width, extra)| {
            let audio = if audio_on {
                json!({"stereo": stereo, "exactConstraints": false, "echoCancellation": true, "usedtx": null})
            } else {
                json!(false)
            };
            with_extra(
                obj(json!({
                    "userData": data,
                    "settings": {"audio": audio, "video": {"resolution": {"width": width, "height": 480}, "screenshare": false, "customSettings": {}}, "googleXBandwidth": {}, "maxBandwidth": {"video": 256}},
                    "mediaStatus": {"audioMuted": muted, "videoMuted": !muted},
                    "connected": null,
                    "init": null
                })),
                extra,
            )
        },
    )
}

fn enter() -> impl Strategy<Value = Value> {
    (id(), id(), user_info(), 0u64..(1u64 << 53), any::<bool>(), prop::option::of("[0-9.]{1,8}"), extra_fields())
        .prop_map(|(mid, rid, ui, weight, trickle, plugin, extra)| {
            with_extra(
                obj(json!({"type": "enter", "mid": mid, "rid": rid, "agent": "rust", "version": "1", "os": "linux",
                    "userInfo": ui, "receiveOnly": false, "weight": weight, "temasysPluginVersion": plugin,
                    "enableIceTrickle": trickle, "enableDataChannel": true, "enableIceRestart": true,
                    "SMProtocolVersion": "0.1.4", "DTProtocolVersion": "0.1.0"})),
                extra,
            )
        })
}

fn offer() -> impl Strategy<Value = Value> {
    (id(), id(), id(), "(v=0\r\n|a=[a-z]{1,5}:[ -~]{0,20}\r\n){1,6}", user_info(), any::<bool>(), extra_fields())
        .prop_map(|(mid, target, rid, sdp, ui, answer, extra)| {
            let ty = if answer { "answer" } else { "offer" };
            with_extra(
                obj(json!({"type": ty, "sdp": sdp, "mid": mid, "target": target, "rid": rid, "userInfo": ui})),
                extra,
            )
        })
}

fn candidate() -> impl Strategy<Value = Value> {
    (id(), id(), id(), 0u32..8, "[0-9a-z]{1,6}", "candidate:[0-9]{1,10} 1 udp [0-9]{1,10} 127\\.0\\.0\\.1 [0-9]{1,5} typ host", extra_fields())
        .prop_map(|(mid, target, rid, label, sdp_mid, cand, extra)| {
            with_extra(
                obj(json!({"type": "candidate", "label": label, "id": sdp_mid, "candidate": cand, "mid": mid, "target": target, "rid": rid})),
                extra,
            )
        })
}

fn public() -> impl Strategy<Value = Value> {
    (id(), id(), id(), any_json(), extra_fields()).prop_map(|(cid, mid, rid, data, extra)| {
        let mut m = obj(json!({"cid": cid, "data": data, "mid": mid, "rid": rid}));
        for (k, v) in extra {
            m.insert(k, v);
        }
        m.insert("type".into(), json!("public"));
        Value::Object(m)
    })
}

fn private() -> impl Strategy<Value = Value> {
    (id(), id(), id(), id(), any_json(), extra_fields()).prop_map(|(cid, mid, rid, target, data, extra)| {
        with_extra(
            obj(json!({"cid": cid, "data": data, "mid": mid, "rid": rid, "target": target, "type": "private"})),
            extra,
        )
    })
}

fn status() -> impl Strategy<Value = Value> {
    (id(), id(), 0u64..(1u64 << 50), any::<bool>(), any_json(), 0u8..3).prop_map(|(mid, rid, stamp, muted, data, which)| match which {
        0 => json!({"type": "muteAudioEvent", "mid": mid, "rid": rid, "muted": muted, "stamp": stamp}),
        1 => json!({"type": "muteVideoEvent", "mid": mid, "rid": rid, "muted": muted, "stamp": stamp}),
        _ => json!({"type": "updateUserEvent", "mid": mid, "rid": rid, "userData": data, "stamp": stamp}),
    })
}

fn group() -> impl Strategy<Value = Value> {
    (
        id(),
        id(),
        prop::collection::vec(prop_oneof![public(), status()], 1..17),
        extra_fields(),
    )
        .prop_map(|(mid, rid, inner, extra)| {
            let lists: Vec<Value> = inner.iter().map(|m| Value::String(m.to_string())).collect();
            with_extra(
                obj(json!({"type": "group", "lists": lists, "mid": mid, "rid": rid})),
                extra,
            )
        })
}

fn unknown_type() -> impl Strategy<Value = Value> {
    ("[a-z]{1,3}Zz[a-zA-Z]{0,6}", extra_fields())
        .prop_map(|(ty, extra)| with_extra(obj(json!({"type": ty})), extra))
}

fn any_message() -> impl Strategy<Value = Value> {
    prop_oneof![
        enter(),
        offer(),
        candidate(),
        public(),
        private(),
        status(),
        group(),
        unknown_type()
    ]
}

proptest! {
    #[test]
    fn generated_messages_round_trip(v in any_message()) {
        let text = v.to_string();
        let msg = Message::from_json(&text).unwrap();
        prop_assert_eq!(msg.to_value(), v.clone());
        // Re-parsing our own output is stable.
        prop_assert_eq!(Message::from_json(&msg.to_json()).unwrap(), msg.clone());
        let env = Envelope::parse(&text).unwrap();
        prop_assert_eq!(env.kind.as_ref(), v["type"].as_str().unwrap());
        prop_assert_eq!(env.mid.as_deref(), v["mid"].as_str());
        prop_assert_eq!(env.target.as_deref(), v["target"].as_str());
        if let Message::Group(g) = &msg {
            let inner = g.messages().unwrap();
            for (m, t) in inner.iter().zip(&g.lists) {
                prop_assert_eq!(m.to_value(), serde_json::from_str::<Value>(t).unwrap());
            }
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,64}") {
        let _ = Message::from_json(&s);
        let _ = Envelope::parse(&s);
        let _ = parse_api_response(&s);
        let _ = parse_api_request(&s, Some(&s));
        let _ = parse_api_request(&format!("/api/{s}"), Some(&s));
        let _ = skylink_sm::version::compare_versions(&s, "0.1.2");
        let _ = skylink_sm::version::skylinkjs_is_lower_than(&s, &s);
        let _ = skylink_sm::version::parse_agent_version(Some(&s));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = Message::from_json(&s);
        let _ = Envelope::parse(&s);
        let _ = parse_api_request(&s, Some(&s));
    }

    #[test]
    fn json_shaped_noise_never_panics(v in any_json(), ty in prop::option::of(any_json())) {
        // Arbitrary JSON, optionally with any `type` value, fed to every decoder.
        let mut v = v;
        if let (Value::Object(m), Some(t)) = (&mut v, ty) {
            m.insert("type".into(), t);
        }
        let text = v.to_string();
        let _ = Message::from_json(&text);
        let _ = Envelope::parse(&text);
        let _ = parse_api_response(&text);
    }

    #[test]
    fn known_types_with_random_fields_never_panic(
        ty in prop::sample::select(skylink_sm::MessageType::known().map(|t| t.as_str().to_owned()).collect::<Vec<_>>()),
        fields in prop::collection::vec((prop::sample::select(vec!["mid", "rid", "target", "userInfo", "weight", "label", "lists", "stamp", "data", "settings", "pc_config", "len", "result", "sdp"]), any_json()), 0..5),
    ) {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(ty));
        for (k, v) in fields {
            m.insert(k.to_owned(), v);
        }
        let text = Value::Object(m).to_string();
        if let Ok(msg) = Message::from_json(&text) {
            // Whatever decodes re-encodes to an equal message.
            prop_assert_eq!(Message::from_json(&msg.to_json()).unwrap(), msg);
        }
        let _ = Envelope::parse(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for depth in [200usize, 100_000] {
        let arr = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let obj = format!(r#"{{"type":"public","data":{arr}}}"#);
        let unterminated = format!(r#"{{"type":"x","data":{}"#, "{\"a\":".repeat(depth));
        for text in [&arr, &obj, &unterminated] {
            assert!(Message::from_json(text).is_err());
            let _ = Envelope::parse(text);
            let _ = parse_api_response(text);
        }
    }
}
