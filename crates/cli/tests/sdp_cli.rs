//! `skylink sdp munge` end to end: the built binary, stdin → stdout, byte-exact.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdp/tests/spec");
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/skylinkjs-0.6.26/sdp"
);

fn read(path: String) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn settings_file(name: &str, json: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "skylink-sdp-cli-{}-{name}.json",
        std::process::id()
    ));
    std::fs::write(&p, json).expect("write settings");
    p
}

fn munge(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skylink"))
        .arg("sdp")
        .arg("munge")
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn skylink");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn remote_offer_end_to_end_matches_spec_1_19() {
    let s = settings_file(
        "e2e",
        r#"{"audioCodec":"opus","videoCodec":"H264","bandwidth":{"audio":50,"video":500},
            "disableREMB":true,"disableVideoFecCodecs":true,
            "codecParams":{"audio":{"opus":{"stereo":true}}}}"#,
    );
    let out = munge(
        &[
            "--stage",
            "remote",
            "--type",
            "offer",
            "--settings",
            s.to_str().expect("path"),
        ],
        &read(format!("{SPEC}/1_19_in.sdp")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8"),
        read(format!("{SPEC}/1_19_out.sdp"))
    );
}

#[test]
fn output_stage_of_a_real_offer_is_identity_with_defaults() {
    let s = settings_file("defaults", "{}");
    let input = read(format!("{FIXTURES}/01-A-setLocal-offer-initial.sdp"));
    let out = munge(
        &[
            "--stage",
            "output",
            "--type",
            "offer",
            "--settings",
            s.to_str().expect("path"),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, input.as_bytes());
}

#[test]
fn local_publish_only_offer_and_remote_answer() {
    let s = settings_file(
        "publish",
        r#"{"sdpSettings":{"direction":{"audio":{"send":true,"receive":false},
            "video":{"send":true,"receive":false}}}}"#,
    );
    let path = s.to_str().expect("path");
    let out = munge(
        &["--stage", "local", "--type", "offer", "--settings", path],
        &read(format!("{SPEC}/1_6_in.sdp")),
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8"),
        read(format!("{SPEC}/1_6_a_out.sdp"))
    );
    let out = munge(
        &[
            "--stage",
            "remote",
            "--type",
            "answer",
            "--settings",
            path,
            "--peer-agent",
            "chrome",
        ],
        &read(format!("{SPEC}/1_6_d_in.sdp")),
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8"),
        read(format!("{SPEC}/1_6_d_out.sdp"))
    );
}

#[test]
fn bad_sdp_fails_with_the_line_number() {
    let out = munge(
        &["--stage", "local", "--type", "offer"],
        "v=0\r\nnot sdp\r\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_settings_file_fails() {
    let s = settings_file("bad", "{not json");
    let out = munge(
        &[
            "--stage",
            "local",
            "--type",
            "offer",
            "--settings",
            s.to_str().expect("path"),
        ],
        &read(format!("{SPEC}/1_6_in.sdp")),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("parsing settings"));
}
