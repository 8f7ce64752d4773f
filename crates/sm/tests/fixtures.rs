//! Golden tests against the skylinkjs 0.6.26 capture in `fixtures/skylinkjs-0.6.26/`.

use serde_json::Value;
use skylink_sm::envelope::Envelope;
use skylink_sm::message::Message;
use skylink_sm::room_api::{ApiResponse, ApiSuccess, parse_api_request, parse_api_response};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/skylinkjs-0.6.26"
);

fn jsonl(rel: &str) -> Vec<Value> {
    let path = format!("{DIR}/{rel}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn signaling_files() -> Vec<String> {
    let mut files = vec!["signaling.jsonl".to_owned()];
    let variants = format!("{DIR}/variants");
    if let Ok(dir) = std::fs::read_dir(&variants) {
        let mut names: Vec<String> = dir
            .filter_map(Result::ok)
            .filter(|e| e.path().join("signaling.jsonl").exists())
            .map(|e| {
                format!(
                    "variants/{}/signaling.jsonl",
                    e.file_name().to_string_lossy()
                )
            })
            .collect();
        names.sort();
        files.extend(names);
    }
    files
}

/// Returns the decoded message and whether re-encoding reproduced the text byte for byte.
fn check_round_trip(raw: &str, ctx: &str) -> (Message, bool) {
    let msg = Message::from_json(raw).unwrap_or_else(|e| panic!("{ctx}: {e}\n{raw}"));
    let expected: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(msg.to_value(), expected, "{ctx}: value differs");
    // Key order follows the spec tables; some client variants order keys differently (e.g.
    // the reply `welcome` puts `receiveOnly` before `agent`), so exact text is only counted.
    let exact = msg.to_json() == raw;
    if !exact {
        eprintln!(
            "{ctx}: `{}` re-encoded with a different key order",
            msg.message_type()
        );
    }
    let env = Envelope::parse(raw).unwrap_or_else(|e| panic!("{ctx}: envelope: {e}"));
    assert_eq!(env.kind, expected["type"].as_str().unwrap(), "{ctx}");
    assert_eq!(env.mid.as_deref(), expected["mid"].as_str(), "{ctx}");
    assert_eq!(env.rid.as_deref(), expected["rid"].as_str(), "{ctx}");
    assert_eq!(env.target.as_deref(), expected["target"].as_str(), "{ctx}");
    assert_eq!(msg.message_type(), env.message_type(), "{ctx}");
    assert_eq!(msg.mid(), env.mid.as_deref(), "{ctx}");
    assert_eq!(msg.target(), env.target.as_deref(), "{ctx}");
    (msg, exact)
}

#[test]
fn signaling_messages_round_trip() {
    let mut total = 0;
    let mut inner = 0;
    let mut exact = 0;
    for file in signaling_files() {
        for (i, rec) in jsonl(&file).iter().enumerate() {
            let Some(raw) = rec.get("raw").and_then(Value::as_str) else {
                continue;
            };
            let ctx = format!("{file}:{}", i + 1);
            let (msg, same_text) = check_round_trip(raw, &ctx);
            exact += usize::from(same_text);
            assert_eq!(
                Some(msg.message_type().as_str()),
                rec["type"].as_str(),
                "{ctx}"
            );
            assert!(
                !matches!(msg, Message::Unknown(_)),
                "{ctx}: type unknown to the crate"
            );
            if let Message::Group(g) = &msg {
                assert!((1..=16).contains(&g.lists.len()), "{ctx}");
                for (j, text) in g.lists.iter().enumerate() {
                    let (m, _) = check_round_trip(text, &format!("{ctx} lists[{j}]"));
                    assert!(m.message_type().is_group_type(), "{ctx}");
                    assert_eq!(m.mid(), g.mid.as_deref(), "{ctx}");
                    inner += 1;
                }
                assert_eq!(g.messages().unwrap().len(), g.lists.len());
            }
            total += 1;
        }
    }
    eprintln!("{total} messages ({inner} inside groups), {exact} re-encoded byte for byte");
    assert!(total >= 100, "only {total} messages found");
    assert!(exact * 10 >= total * 8, "only {exact}/{total} byte-exact");
    assert!(inner >= 5, "only {inner} grouped messages found");
}

#[test]
fn api_requests_and_responses() {
    let records = jsonl("api.jsonl");
    assert!(!records.is_empty());
    for (i, rec) in records.iter().enumerate() {
        let url = rec["request"]["url"].as_str().unwrap();
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (url, None),
        };
        let req = parse_api_request(path, query).unwrap_or_else(|e| panic!("{i}: {url}: {e}"));
        assert_eq!(req.app_key, "capture-app-key");
        assert_eq!(req.room, "capture-room");
        assert!(req.credentials.is_none());

        let body = &rec["response"]["body"];
        let ok: ApiSuccess = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(ok.room_key, body["room_key"].as_str().unwrap());
        assert_eq!(ok.ip_sigserver, "127.0.0.1");
        assert!(
            ok.extra.contains_key("tieBreaker"),
            "informational fields kept"
        );
        // Re-serialising keeps every field.
        assert_eq!(serde_json::to_value(&ok).unwrap(), *body);
        let text = body.to_string();
        assert!(matches!(
            parse_api_response(&text),
            Ok(ApiResponse::Success(_))
        ));
        // The constraint strings are JSON texts.
        for k in ["pc_constraints", "offer_constraints", "media_constraints"] {
            serde_json::from_str::<Value>(body[k].as_str().unwrap()).unwrap();
        }
    }
}

/// Replays what peer A sent in the capture through [`Throttle`]: the first `public` goes out
/// alone, `setUserData` and `muteStream` within the following second become one-element groups,
/// and the three burst messages one group of three, byte for byte as captured.
#[test]
fn throttle_replays_the_capture() {
    use skylink_sm::throttle::{OutgoingMessage, Throttle};
    use std::time::{Duration, Instant};

    let records = jsonl("signaling.jsonl");
    let sent: Vec<(u64, &str)> = records
        .iter()
        .filter(|r| r["dir"] == "in" && r["peer"] == "A")
        .filter_map(|r| Some((r["rel"].as_u64()?, r.get("raw")?.as_str()?)))
        .collect();
    let throttled: Vec<(u64, &str)> = sent
        .iter()
        .copied()
        .filter(|(_, raw)| {
            let ty = Envelope::parse(raw).unwrap().kind.into_owned();
            skylink_sm::envelope::is_group_type(&ty) || ty == "group"
        })
        .collect();
    assert_eq!(
        throttled.len(),
        4,
        "public + 3 groups expected in the capture"
    );

    let t0 = Instant::now();
    let at = |rel: u64| t0 + Duration::from_millis(rel);
    let mut th = Throttle::new();
    let mut last_transmission = 0;
    for (rel, raw) in throttled {
        let msg = Message::from_json(raw).unwrap();
        match msg {
            Message::Group(g) => {
                // The SDK handed these to its queue some time after the previous transmission.
                for (j, text) in g.lists.iter().enumerate() {
                    let m: Value = serde_json::from_str(text).unwrap();
                    let when = at(last_transmission + 5 + j as u64);
                    let out = th.send(OutgoingMessage::try_from(m).unwrap(), when);
                    assert!(out.is_empty(), "grouped message must be queued");
                }
                let deadline = th.poll_timeout().unwrap();
                let out = th.handle_timeout(deadline);
                assert_eq!(out.len(), 1);
                assert_eq!(out[0].json, raw, "group differs from the capture");
                // The SDK's timer fired within a few ms of ours.
                let ours = deadline.duration_since(t0).as_millis() as i64;
                assert!(
                    (ours - rel as i64).abs() <= 10,
                    "group at {ours} ms, captured {rel} ms"
                );
                last_transmission = ours as u64;
            }
            _ => {
                let out = th.send(OutgoingMessage::from(&msg), at(rel));
                assert_eq!(out.len(), 1, "first public goes out alone");
                assert_eq!(out[0].json, raw);
                last_transmission = rel;
            }
        }
    }
    assert_eq!(th.poll_timeout(), None);
}
