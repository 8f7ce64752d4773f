//! `skylink bench media` in a short mode runs end to end and reports sane numbers.
#![cfg(feature = "codecs")]

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for k in path {
        cur = &cur[*k];
    }
    cur.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number in {v}"))
}

#[test]
fn short_media_bench_prints_sane_numbers() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skylink"))
        .args(["bench", "media", "--json", "--seconds", "2"])
        .args(["--idle-seconds", "1", "--encode-seconds", "1"])
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn skylink bench media");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("skylink bench media did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = reader.join().expect("reader");
    assert!(status.success(), "exit {status}; stdout: {out}");
    let v: Value = serde_json::from_str(out.lines().last().unwrap_or_default()).expect("JSON");

    // Encode cost: per-frame figures positive and bounded (a 640×480 frame is far below
    // 100 ms on anything that runs the tests); encoding costs more than the pattern alone.
    let pattern = num(&v, &["encode", "pattern_us_per_frame"]);
    let with_encode = num(&v, &["encode", "pattern_encode_us_per_frame"]);
    let decode = num(&v, &["encode", "decode_read_us_per_frame"]);
    for x in [pattern, with_encode, decode] {
        assert!(x > 0.0 && x < 100_000.0, "{v}");
    }
    assert!(with_encode > pattern, "{v}");
    assert_eq!(
        num(&v, &["encode", "decoded_numbers_ok"]),
        num(&v, &["encode", "frames_per_round"]),
        "every decoded frame carries its number: {v}"
    );
    let kbps = num(&v, &["encode", "actual_kbps"]);
    assert!(kbps > 50.0 && kbps < 5000.0, "{v}");

    // Pipeline: frames flowed and were read; CPU percentages bounded by the cores.
    let decoded = num(&v, &["pipeline", "frames_decoded"]);
    assert!(
        decoded >= 15.0,
        "at least half the frames of 2 s at 30 fps: {v}"
    );
    for k in ["idle_cpu_pct", "media_cpu_pct"] {
        let x = num(&v, &["pipeline", k]);
        assert!((0.0..=100.0 * 64.0).contains(&x), "{k}: {v}");
    }
    let lat = |seg: &str, q: &str| num(&v, &["pipeline", "latency_ms", seg, q]);
    let e2e = lat("capture_to_decoded", "p50");
    assert!(e2e > 0.0 && e2e < 2000.0, "{v}");
    assert!(lat("decode_read", "p50") <= e2e, "{v}");
    assert!(lat("capture_to_decoded", "max") >= lat("capture_to_decoded", "p95"));
    assert!(
        v["table"].as_str().is_some_and(|t| t.contains("VP8")),
        "{v}"
    );
}
