//! Every real SDP captured from skylinkjs 0.6.26 (fixtures `sdp/`, listed in `index.jsonl`)
//! through all three pipelines with default settings. The captures are the texts 0.6.26 passed
//! to `setLocalDescription` / `setRemoteDescription`, i.e. already munged with default
//! settings, so every pipeline must leave them byte-for-byte unchanged.

use skylink_sdp::{PeerContext, Sdp, SdpSettings, SdpType};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/skylinkjs-0.6.26/sdp"
);

struct Fixture {
    file: String,
    op: String,
    ty: SdpType,
    phase: String,
    text: String,
}

fn fixtures() -> Vec<Fixture> {
    let index = std::fs::read_to_string(format!("{DIR}/index.jsonl")).expect("index.jsonl");
    let out: Vec<Fixture> = index
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("index line");
            let file = v["file"].as_str().expect("file").to_owned();
            let name = file.trim_start_matches("sdp/");
            let text = std::fs::read_to_string(format!("{DIR}/{name}")).expect("fixture");
            assert_eq!(
                text.len() as u64,
                v["bytes"].as_u64().expect("bytes"),
                "{file}"
            );
            Fixture {
                op: v["op"].as_str().expect("op").to_owned(),
                ty: serde_json::from_value(v["type"].clone()).expect("type"),
                phase: v["phase"].as_str().expect("phase").to_owned(),
                file,
                text,
            }
        })
        .collect();
    assert!(out.len() >= 8, "expected the 8 captured SDPs");
    out
}

#[test]
fn fixtures_parse_and_marshal_byte_exact() {
    for f in fixtures() {
        let s = Sdp::parse(&f.text).unwrap_or_else(|e| panic!("{}: {e}", f.file));
        assert_eq!(s.to_text(), f.text, "{}", f.file);
        assert!(f.text.ends_with("\r\n"));
    }
}

#[test]
fn fixtures_local_pipeline_is_identity_with_defaults() {
    let st = SdpSettings::default();
    for f in fixtures() {
        let mut peer = PeerContext::default();
        let out = skylink_sdp::local(&f.text, f.ty, &st, &mut peer).expect("local");
        assert_eq!(out, f.text, "{}", f.file);
        let rec = peer.sessions.local.expect("record");
        assert_eq!(rec.m_lines.len(), 3, "{}", f.file);
        assert_eq!(rec.bundle_line, "a=group:BUNDLE 0 1 2");
        assert_eq!(
            rec.connection.audio.as_deref(),
            Some("a=sendrecv"),
            "{}",
            f.file
        );
    }
}

#[test]
fn fixtures_remote_pipeline_is_identity_with_defaults() {
    let st = SdpSettings::default();
    for f in fixtures() {
        let mut peer = PeerContext::new("peer1", "chrome");
        if f.ty == SdpType::Answer {
            peer.assume_local_offer(&st);
        }
        let out = skylink_sdp::remote(&f.text, f.ty, &st, &mut peer).expect("remote");
        assert_eq!(out, f.text, "{}", f.file);
        assert!(peer.remote_stream_id.is_some(), "{}: msid", f.file);
    }
}

#[test]
fn fixtures_output_is_identity_with_defaults() {
    let st = SdpSettings::default();
    let all = fixtures();
    for f in all.iter().filter(|f| f.op == "setLocal") {
        let mut peer = PeerContext::new("peer1", "chrome");
        if f.ty == SdpType::Answer {
            // Record the remote offer of the same phase first, as the SDK would have.
            let offer = all
                .iter()
                .find(|o| o.op == "setRemote" && o.ty == SdpType::Offer && o.phase == f.phase)
                .expect("matching remote offer");
            skylink_sdp::remote(&offer.text, SdpType::Offer, &st, &mut peer).expect("remote");
        }
        let local = skylink_sdp::local(&f.text, f.ty, &st, &mut peer).expect("local");
        let out = skylink_sdp::output(&local, f.ty, &st, &peer).expect("output");
        assert_eq!(out, f.text, "{}", f.file);
    }
}

#[test]
fn fixtures_munged_with_settings_stay_valid() {
    let st: SdpSettings = serde_json::from_value(serde_json::json!({
        "audioCodec": "opus", "videoCodec": "H264", "disableVideoFecCodecs": true,
        "disableREMB": true, "bandwidth": {"audio": 32, "video": 512, "data": 1000},
        "googleXBandwidth": {"min": 100, "max": 900},
        "codecParams": {"audio": {"opus": {"stereo": true, "usedtx": true}}}
    }))
    .expect("settings");
    for f in fixtures() {
        let mut peer = PeerContext::default();
        peer.assume_local_offer(&st);
        let out = skylink_sdp::remote(&f.text, f.ty, &st, &mut peer).expect("remote");
        let s = Sdp::parse(&out).expect("reparses");
        assert!(!out.contains("goog-remb"), "{}", f.file);
        assert!(
            !out.contains(" red/90000") && !out.contains(" ulpfec/"),
            "{}",
            f.file
        );
        assert!(
            s.lines
                .windows(2)
                .any(|w| w[0].starts_with("c=") && w[1] == "b=AS:512"),
            "{}",
            f.file
        );
        assert!(
            out.contains("a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;usedtx=1;\r\n"),
            "{}",
            f.file
        );
        let video = s
            .sections()
            .into_iter()
            .find(|x| x.kind == "video")
            .expect("video");
        let first_pt = s.lines[video.start].split(' ').nth(3).expect("pt");
        assert!(
            s.lines
                .iter()
                .any(|l| l == &format!("a=rtpmap:{first_pt} H264/90000")),
            "{}: H264 first",
            f.file
        );
        // Errata: audio RED lines go with disableVideoFecCodecs, its payload stays (reproduced).
        assert!(!out.contains("a=rtpmap:63 red/48000/2"), "{}", f.file);
        assert!(
            s.lines
                .iter()
                .any(|l| l.starts_with("m=audio ") && l.contains(" 63 "))
        );
    }
}

#[test]
fn bad_input_is_a_typed_error_naming_the_line() {
    use skylink_sdp::SdpError;
    let st = SdpSettings::default();
    let mut peer = PeerContext::default();
    assert_eq!(
        skylink_sdp::local("", SdpType::Offer, &st, &mut peer),
        Err(SdpError::Empty)
    );
    let e = skylink_sdp::remote("hello\r\n", SdpType::Offer, &st, &mut peer).unwrap_err();
    assert!(matches!(e, SdpError::MissingVersion { .. }), "{e}");
    let e = Sdp::parse("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\nnot a line\r\n").unwrap_err();
    assert_eq!(
        e,
        SdpError::BadLine {
            line: 3,
            text: "not a line".into()
        }
    );
    assert!(e.to_string().starts_with("line 3:"));
    let e = Sdp::parse("v=0\r\nm=audio 9\r\n").unwrap_err();
    assert!(matches!(e, SdpError::BadMediaLine { line: 2, .. }), "{e}");
    let e = Sdp::parse("v=0\r\na=x\ry\r\n").unwrap_err();
    assert!(
        matches!(e, SdpError::ControlCharacter { line: 2, .. }),
        "{e}"
    );
    // Bare LF input is normalised, not rejected.
    let s = Sdp::parse("v=0\no=- 1 2 IN IP4 127.0.0.1\n").expect("lf");
    assert_eq!(s.to_text(), "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n");
}
