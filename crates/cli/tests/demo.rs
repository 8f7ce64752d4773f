//! `skylink demo` runs its whole narrated session against its embedded server and exits 0.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_runs_end_to_end() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_skylink"))
        .args(["demo", "--file-size", "300000", "--stream-chunks", "5"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run skylink demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "join → WebRTC data channel open",
        "300000 bytes byte-exact",
        "5 chunks of 4 KiB in order",
        "refreshConnection (ICE restart)",
        "leaveRoom → peerLeft",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // Every step waits at most 20 s; a healthy run takes a second or two.
    assert!(started.elapsed() < Duration::from_secs(60));
}
