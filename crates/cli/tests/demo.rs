//! `skylink demo` runs its whole narrated session against its embedded server and exits 0.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn demo_runs_end_to_end() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_skylink"))
        .args(["demo", "--file-size", "300000", "--stream-chunks", "5"])
        // The default log level, as a user runs it.
        .env_remove("RUST_LOG")
        .output()
        .expect("run skylink demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
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
        "video + audio both ways",
        "bob saw alice mute and unmute",
        "leaveRoom → peerLeft",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // The narration is the output: no WebRTC-stack warnings interleaved on the terminal.
    assert!(!stderr.contains(" WARN "), "warnings on stderr:\n{stderr}");
    // Every step waits at most 20 s; a healthy run takes a second or two.
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// `--browser`: real skylinkjs 0.6.26 in headless Chromium (Debian's /usr/bin/chromium here and in
/// CI, or $SKYLINK_CHROMIUM) joins as a third peer, answers chat and P2P, verifies a file, leaves.
#[test]
fn demo_with_browser_runs_end_to_end() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skylink"))
        .args([
            "demo",
            "--file-size",
            "300000",
            "--stream-chunks",
            "5",
            "--browser",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run skylink demo --browser");
    // Read both pipes on threads so a full pipe cannot stall the demo while we wait.
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    // Every wait in the demo is bounded (20 s, 45 s for Chromium's start); a healthy run takes a
    // few seconds. Past the bound the demo is killed, which also takes its Chromium down.
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the demo") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    let status = status.unwrap_or_else(|| panic!("demo --browser timed out:\n{stdout}\n{stderr}"));
    assert!(
        status.success(),
        "demo --browser failed: {status}\n{stdout}\n{stderr}"
    );
    for needle in [
        "browser: Chromium start → peerJoined",
        "agent chrome",
        "browser: data channels open",
        "browser: chat alice → browser, answered",
        "browser got: hello browser, alice here",
        "browser: P2P bob → browser, answered",
        "browser got: hi browser, bob here over WebRTC",
        "browser: 1 MB file alice → browser",
        "verified by the page",
        "browser: leaveRoom → peerLeft",
        "300000 bytes byte-exact",
        "leaveRoom → peerLeft",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    assert!(
        !stderr.contains("WARN rtc"),
        "WebRTC-stack warnings on stderr:\n{stderr}"
    );
}
