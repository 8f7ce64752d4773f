//! Every before/after example of spec `sdp-and-peers.md` §1 (and the Appendix C checklist) as
//! byte-exact tests. The example texts live in `tests/spec/*.sdp` (CRLF, `␠` → space).

use serde_json::json;
use skylink_sdp::munge::{
    self, ConnectionParams, ConnectionRecord, MediaKind, RenderParams, SdpDirection, SdpRecord,
};
use skylink_sdp::parse;
use skylink_sdp::settings::{
    BundlePolicy, CodecInventory, ConnectionFlags, DirectionSettings, FilterCandidatesType,
};
use skylink_sdp::{PeerContext, Sdp, SdpSettings, SdpType};

fn text(name: &str) -> String {
    let path = format!("{}/tests/spec/{name}.sdp", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sdp(name: &str) -> Sdp<'static> {
    Sdp::parse(&text(name))
        .expect("spec example parses")
        .into_owned()
}

fn settings(v: serde_json::Value) -> SdpSettings {
    serde_json::from_value(v).expect("settings")
}

#[track_caller]
fn assert_text(got: &Sdp, want: &str) {
    let got = got.to_text();
    assert_eq!(got, text(want), "\n--- got ---\n{got}");
}

// §1.2 ----------------------------------------------------------------------------------------

#[test]
fn s1_2_firefox_h264_pref() {
    let mut s = sdp("1_2_in");
    munge::remove_firefox_h264_pref(&mut s);
    assert_text(&s, "1_2_out");
}

// §1.3 ----------------------------------------------------------------------------------------

#[test]
fn s1_3_a_normalisation_only() {
    let mut s = sdp("1_3_in");
    munge::set_codec_params(&mut s, &SdpSettings::default());
    assert_text(&s, "1_3_a_out");
}

#[test]
fn s1_3_b_opus_codec_params() {
    let mut s = sdp("1_3_in");
    let st = settings(json!({"codecParams": {"audio": {"opus": {
        "stereo": true, "usedtx": true, "useinbandfec": false, "maxplaybackrate": 16000}}}}));
    munge::set_codec_params(&mut s, &st);
    assert_text(&s, "1_3_b_out");
}

#[test]
fn s1_3_c_camera_stream_forces_mono() {
    let mut s = sdp("1_3_c_in");
    let st = settings(json!({"audio": {
        "stereo": false, "echoCancellation": true, "exactConstraints": false}}));
    munge::set_codec_params(&mut s, &st);
    assert_text(&s, "1_3_c_out");
}

#[test]
fn s1_3_d_video_params() {
    let mut s = sdp("1_3_d_in");
    let st = settings(json!({"codecParams": {"video": {
        "vp8": {"maxFr": 30, "maxFs": 3600},
        "h264": {"profileLevelId": "42e00a", "packetizationMode": false}}}}));
    munge::set_codec_params(&mut s, &st);
    assert_text(&s, "1_3_d_out");
}

// §1.4 ----------------------------------------------------------------------------------------

#[test]
fn s1_4_unknown_apt_rtx() {
    let mut s = sdp("1_4_in");
    munge::remove_unknown_apt_rtx(&mut s);
    assert_text(&s, "1_4_out");
}

// §1.5 ----------------------------------------------------------------------------------------

#[test]
fn s1_5_a_remove_fec_and_cn() {
    let mut s = sdp("1_5_in");
    let st = settings(
        json!({"disableVideoFecCodecs": true, "disableComfortNoiseCodec": true,
        "audio": {"stereo": true}}),
    );
    munge::remove_codecs(&mut s, &st);
    assert_text(&s, "1_5_a_out");
}

#[test]
fn s1_5_b_cn_kept_without_stereo() {
    let mut s = sdp("1_5_in");
    let st = settings(json!({"disableComfortNoiseCodec": true, "audio": {"stereo": false}}));
    munge::remove_codecs(&mut s, &st);
    assert_text(&s, "1_5_in");
}

#[test]
fn s1_5_fec_kept_with_mcu() {
    let mut s = sdp("1_5_in");
    let st = settings(json!({"disableVideoFecCodecs": true, "hasMCU": true}));
    munge::remove_codecs(&mut s, &st);
    assert_text(&s, "1_5_in");
}

// §1.6 ----------------------------------------------------------------------------------------

fn cp<'a>(
    direction: SdpDirection,
    sdp_type: SdpType,
    connection: ConnectionFlags,
    directions: DirectionSettings,
) -> ConnectionParams<'a> {
    ConnectionParams {
        direction,
        sdp_type,
        connection,
        directions,
        bundle_policy: BundlePolicy::Balanced,
        peer_id: "peer1",
        peer_agent: "chrome",
        peer_ice_trickle: true,
        has_mcu: false,
        peer_settings_audio: true,
        peer_settings_video: true,
        common_codecs: (true, true),
        local_connection: None,
    }
}

fn conn(audio: bool, video: bool, data: bool) -> ConnectionFlags {
    ConnectionFlags { audio, video, data }
}

fn dirs(v: serde_json::Value) -> DirectionSettings {
    serde_json::from_value(v).expect("direction")
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn m_lines() -> Vec<String> {
    vec![
        "m=audio 9 UDP/TLS/RTP/SAVPF 111".into(),
        "m=video 9 UDP/TLS/RTP/SAVPF 96".into(),
        "m=application 9 DTLS/SCTP 5000".into(),
    ]
}

#[test]
fn s1_6_a_local_offer_send_only() {
    let mut x = sdp("1_6_in");
    let d = dirs(json!({"audio": {"send": true, "receive": false},
        "video": {"send": true, "receive": false}}));
    let p = cp(
        SdpDirection::Local,
        SdpType::Offer,
        conn(true, true, true),
        d,
    );
    let rec = munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_a_out");
    assert_eq!(
        rec,
        SdpRecord {
            m_lines: m_lines(),
            bundle_line: "a=group:BUNDLE audio video data".into(),
            connection: ConnectionRecord {
                audio: s("a=sendonly"),
                video: s("a=sendonly"),
                data: None
            },
        }
    );
}

#[test]
fn s1_6_b_local_offer_no_video() {
    let mut x = sdp("1_6_in");
    let p = cp(
        SdpDirection::Local,
        SdpType::Offer,
        conn(true, false, true),
        DirectionSettings::default(),
    );
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_b_out");
}

#[test]
fn s1_6_c_remote_offer_reject_video() {
    let mut x = sdp("1_6_in");
    let p = cp(
        SdpDirection::Remote,
        SdpType::Offer,
        conn(true, false, true),
        DirectionSettings::default(),
    );
    let rec = munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_c_out");
    assert_eq!(rec.m_lines, m_lines());
    assert_eq!(
        rec.connection,
        ConnectionRecord {
            audio: s("a=sendrecv"),
            video: None,
            data: None
        }
    );
}

#[test]
fn s1_6_d_remote_answer_patch() {
    // Our offer (example a) recorded a=sendonly for both kinds.
    let mut offer = sdp("1_6_in");
    let d = dirs(json!({"audio": {"send": true, "receive": false},
        "video": {"send": true, "receive": false}}));
    let local = munge::handle_connection_settings(
        &mut offer,
        &cp(
            SdpDirection::Local,
            SdpType::Offer,
            conn(true, true, true),
            d,
        ),
    );
    let mut x = sdp("1_6_d_in");
    let mut p = cp(
        SdpDirection::Remote,
        SdpType::Answer,
        conn(true, true, true),
        DirectionSettings::default(),
    );
    p.local_connection = Some(local.connection);
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_d_out");
}

#[test]
fn s1_6_e_max_bundle_local_answer_keeps_first() {
    let mut x = sdp("1_6_in");
    let mut p = cp(
        SdpDirection::Local,
        SdpType::Answer,
        conn(false, true, true),
        DirectionSettings::default(),
    );
    p.bundle_policy = BundlePolicy::MaxBundle;
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_e_out");
}

#[test]
fn s1_6_f_max_bundle_local_offer_rebuilds_group() {
    let mut x = sdp("1_6_in");
    let mut p = cp(
        SdpDirection::Local,
        SdpType::Offer,
        conn(true, false, true),
        DirectionSettings::default(),
    );
    p.bundle_policy = BundlePolicy::MaxBundle;
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_f_out");
}

#[test]
fn s1_6_g_non_trickle_remote_end_of_candidates() {
    let mut x = sdp("1_6_g_in");
    let mut p = cp(
        SdpDirection::Remote,
        SdpType::Offer,
        conn(true, true, true),
        DirectionSettings::default(),
    );
    p.peer_ice_trickle = false;
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_g_out");
}

#[test]
fn s1_6_h_bundle_none_removes_group() {
    let mut x = sdp("1_6_in");
    let mut p = cp(
        SdpDirection::Local,
        SdpType::Offer,
        conn(true, true, true),
        DirectionSettings::default(),
    );
    p.bundle_policy = BundlePolicy::None;
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_h_out");
}

#[test]
fn s1_6_i_remote_offer_without_common_video_codec() {
    // Through the pipeline: our inventory has VP8 only for video.
    let st = settings(json!({"currentCodecSupport": {
        "audio": {"opus": ["48000/2"]}, "video": {"vp8": ["90000"]}}}));
    let mut peer = PeerContext::default();
    let out = skylink_sdp::remote(&text("1_6_i_in"), SdpType::Offer, &st, &mut peer).unwrap();
    assert_eq!(out, text("1_6_i_out"));
}

#[test]
fn s1_6_j_firefox_peer_recvonly_becomes_sendrecv() {
    let mut x = sdp("1_6_in");
    let mut p = cp(
        SdpDirection::Local,
        SdpType::Offer,
        conn(true, true, true),
        dirs(json!({"video": {"send": false, "receive": true}})),
    );
    p.peer_agent = "firefox";
    munge::handle_connection_settings(&mut x, &p);
    assert_text(&x, "1_6_in");
}

// §1.7 ----------------------------------------------------------------------------------------

#[test]
fn s1_7_remove_remb() {
    let mut x = sdp("1_7_in");
    munge::remove_remb(&mut x);
    assert_text(&x, "1_7_out");
}

// §1.8 ----------------------------------------------------------------------------------------

#[test]
fn s1_8_filtered_candidates() {
    let mut x = sdp("1_8_in");
    let f = FilterCandidatesType {
        host: true,
        srflx: true,
        relay: false,
    };
    munge::remove_filtered_candidates(&mut x, f, false, false);
    assert_text(&x, "1_8_out");
    // forceTURN sets the same filter …
    let st = settings(json!({"forceTURN": true}));
    let mut y = sdp("1_8_in");
    munge::remove_filtered_candidates(&mut y, st.effective_filter(), true, false);
    assert_text(&y, "1_8_out");
    // … but with an MCU nothing is filtered.
    let mut z = sdp("1_8_in");
    munge::remove_filtered_candidates(&mut z, st.effective_filter(), true, true);
    assert_text(&z, "1_8_in");
}

// §1.9 ----------------------------------------------------------------------------------------

fn prefer(name_in: &str, audio: serde_json::Value, video: serde_json::Value, want: &str) {
    let st = settings(json!({"audioCodec": audio, "videoCodec": video}));
    let mut x = sdp(name_in);
    munge::set_preferred_codec(
        &mut x,
        MediaKind::Audio,
        st.audio_codec.effective(true).as_ref(),
    );
    munge::set_preferred_codec(
        &mut x,
        MediaKind::Video,
        st.video_codec.effective(false).as_ref(),
    );
    assert_text(&x, want);
}

#[test]
fn s1_9_a_isac_32000_and_h264() {
    prefer(
        "1_9_in",
        json!({"codec": "ISAC", "samplingRate": 32000}),
        json!("H264"),
        "1_9_a_out",
    );
}

#[test]
fn s1_9_b_isac_any_rate() {
    prefer("1_9_in", json!("ISAC"), json!("auto"), "1_9_b_out");
}

#[test]
fn s1_9_c_opus_stereo_and_vp9() {
    prefer(
        "1_9_in",
        json!({"codec": "opus", "samplingRate": 48000, "channels": 2}),
        json!("VP9"),
        "1_9_c_out",
    );
}

#[test]
fn s1_9_d_pcmu_and_vp8() {
    prefer("1_9_in", json!("PCMU"), json!("VP8"), "1_9_d_out");
}

#[test]
fn s1_9_e_opus_mono_falls_back_to_rate() {
    prefer(
        "1_9_in",
        json!({"codec": "opus", "samplingRate": 48000, "channels": 1}),
        json!("auto"),
        "1_9_e_out",
    );
}

#[test]
fn s1_9_f_trailing_space() {
    prefer("1_9_f_in", json!("opus"), json!("auto"), "1_9_f_out");
}

#[test]
fn s1_9_unknown_codec_is_auto() {
    // Values are matched case-sensitively against the constants: "OPUS" is not valid.
    prefer("1_9_in", json!("OPUS"), json!("vp8"), "1_9_in");
}

// §1.10 ---------------------------------------------------------------------------------------

#[test]
fn s1_10_a_bandwidth_and_google_x() {
    let st = settings(
        json!({"bandwidth": {"audio": 50, "video": 256, "data": 100},
        "googleXBandwidth": {"min": 100, "max": 500}}),
    );
    let mut x = sdp("1_10_in");
    munge::set_bitrate(&mut x, &st.bandwidth, &st.google_x_bandwidth);
    assert_text(&x, "1_10_a_out");
}

#[test]
fn s1_10_b_existing_bas_removed() {
    let mut x = sdp("1_10_in");
    let st = SdpSettings::default();
    munge::set_bitrate(&mut x, &st.bandwidth, &st.google_x_bandwidth);
    assert_text(&x, "1_10_b_out");
}

#[test]
fn s1_10_c_peer_override_replaces_x_google() {
    // Effective values after the per-peer override: video 1024, googleX.max 900.
    let st = settings(json!({"bandwidth": {"video": 1024}, "googleXBandwidth": {"max": 900}}));
    let mut x = sdp("1_10_c_in");
    munge::set_bitrate(&mut x, &st.bandwidth, &st.google_x_bandwidth);
    assert_text(&x, "1_10_c_out");
}

#[test]
fn s1_10_double_semicolon_quirk() {
    let mut x = Sdp::parse(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
         c=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 max-fr=30;\r\n",
    )
    .unwrap();
    let st = settings(json!({"googleXBandwidth": {"max": 900}}));
    munge::set_bitrate(&mut x, &st.bandwidth, &st.google_x_bandwidth);
    assert!(
        x.to_text()
            .contains("a=fmtp:96 max-fr=30;;x-google-max-bitrate=900;\r\n")
    );
}

#[test]
fn errata_x_google_needs_rtpmap_before_fmtp() {
    let input = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 120\r\n\
                 c=IN IP4 0.0.0.0\r\na=fmtp:120 max-fs=12288;max-fr=60\r\na=rtpmap:120 VP8/90000\r\n";
    let mut x = Sdp::parse(input).unwrap();
    let st = settings(json!({"googleXBandwidth": {"min": 100, "max": 500}}));
    munge::set_bitrate(&mut x, &st.bandwidth, &st.google_x_bandwidth);
    assert_eq!(x.to_text(), input);
}

// §1.11 ---------------------------------------------------------------------------------------

#[test]
fn s1_11_a_msid_rewrite() {
    let mut x = sdp("1_11_in");
    let p = RenderParams {
        sdp_type: Some(SdpType::Offer),
        enable_ice_trickle: true,
        local_stream_id: Some("camStream"),
        ..RenderParams::default()
    };
    munge::render_output(&mut x, &p);
    assert_text(&x, "1_11_a_out");
}

#[test]
fn s1_11_b_non_trickle() {
    let mut x = sdp("1_11_in");
    let p = RenderParams {
        sdp_type: Some(SdpType::Offer),
        enable_ice_trickle: false,
        ..RenderParams::default()
    };
    munge::render_output(&mut x, &p);
    assert_text(&x, "1_11_b_out");
}

fn remote_record() -> SdpRecord {
    SdpRecord {
        m_lines: vec![
            "m=audio 9 UDP/TLS/RTP/SAVPF 111".into(),
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97".into(),
            "m=application 9 DTLS/SCTP 5000".into(),
        ],
        bundle_line: "a=group:BUNDLE audio video data".into(),
        connection: ConnectionRecord::default(),
    }
}

#[test]
fn s1_11_c_answer_restoration_max_bundle() {
    let rec = remote_record();
    let mut x = sdp("1_11_c_in");
    let p = RenderParams {
        sdp_type: Some(SdpType::Answer),
        enable_ice_trickle: true,
        bundle_policy: BundlePolicy::MaxBundle,
        remote_record: Some(&rec),
        ..RenderParams::default()
    };
    munge::render_output(&mut x, &p);
    assert_text(&x, "1_11_c_out");
}

#[test]
fn s1_11_d_answer_restoration_balanced() {
    let rec = remote_record();
    let mut x = sdp("1_11_d_in");
    let p = RenderParams {
        sdp_type: Some(SdpType::Answer),
        enable_ice_trickle: true,
        remote_record: Some(&rec),
        ..RenderParams::default()
    };
    munge::render_output(&mut x, &p);
    assert_text(&x, "1_11_d_out");
}

// §1.12–§1.17 ---------------------------------------------------------------------------------

#[test]
fn s1_12_remote_stream_id() {
    assert_eq!(
        parse::remote_stream_id(&sdp("1_11_a_out")).as_deref(),
        Some("camStream")
    );
    assert_eq!(parse::remote_stream_id(&sdp("1_6_in")), None);
}

#[test]
fn s1_13_selected_codec() {
    let x = sdp("1_15_in");
    let a = serde_json::to_value(parse::selected_codec(&x, "audio")).unwrap();
    assert_eq!(
        a,
        json!({"name":"opus","implementation":null,"clockRate":48000,"channels":2,
               "payloadType":111,"params":"minptime=10;useinbandfec=1;"})
    );
    let v = serde_json::to_value(parse::selected_codec(&x, "video")).unwrap();
    assert_eq!(
        v,
        json!({"name":"VP8","implementation":null,"clockRate":90000,"channels":1,
               "payloadType":96,"params":"max-fr=30;max-fs=3600;"})
    );
    let none = serde_json::to_value(parse::selected_codec(&sdp("1_2_out"), "audio")).unwrap();
    assert_eq!(
        none,
        json!({"name":null,"implementation":null,"clockRate":null,"channels":null,
               "payloadType":null,"params":null})
    );
}

#[test]
fn s1_14_fingerprint() {
    let f = serde_json::to_value(parse::fingerprint(&sdp("1_15_in"))).unwrap();
    assert_eq!(
        f,
        json!({"fingerprint":"7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
               "fingerprintAlgorithm":"sha-256","derBase64":null})
    );
}

#[test]
fn s1_15_candidates() {
    let c = serde_json::to_value(parse::candidates(&sdp("1_15_in"))).unwrap();
    assert_eq!(
        c,
        json!({"host":[{"candidate":"candidate:1 1 udp 2122260223 192.168.1.10 54321 typ host generation 0","sdpMid":"audio","sdpMLineIndex":0}],
               "srflx":[{"candidate":"candidate:2 1 udp 1686052607 203.0.113.5 54321 typ srflx raddr 192.168.1.10 rport 54321 generation 0","sdpMid":"audio","sdpMLineIndex":0}],
               "relay":[{"candidate":"candidate:3 1 udp 41885439 198.51.100.7 3478 typ relay raddr 203.0.113.5 rport 54321 generation 0","sdpMid":"video","sdpMLineIndex":1}]})
    );
}

#[test]
fn s1_16_media_ssrc() {
    let m = serde_json::to_value(parse::media_ssrc(&sdp("1_15_in"))).unwrap();
    assert_eq!(m, json!({"audio":1001,"video":2002}));
}

#[test]
fn s1_17_inventory_and_common_check() {
    let inv = parse::codecs_support(&sdp("1_15_in"));
    assert_eq!(
        serde_json::to_value(&inv).unwrap(),
        json!({"audio":{"opus":["48000/2"],"isac":["16000"]},"video":{"vp8":["90000"]}})
    );
    let ours = CodecInventory::default_engine();
    assert_eq!(parse::common_supports(&ours, &sdp("1_15_in")), (true, true));
    assert_eq!(parse::common_supports(&ours, &sdp("1_2_in")), (false, true));
    let odd: CodecInventory =
        serde_json::from_value(json!({"audio":{"pcmu":["8000"]},"video":{"vp9":["90000"]}}))
            .unwrap();
    assert_eq!(
        parse::common_supports_without_sdp(&odd, Some("firefox"), "chrome"),
        (false, false)
    );
    assert_eq!(
        parse::common_supports_without_sdp(&odd, Some("chrome"), "chrome"),
        (true, true)
    );
    assert_eq!(
        parse::common_supports_without_sdp(&ours, None, "chrome"),
        (true, true)
    );
}

// §1.19 ---------------------------------------------------------------------------------------

#[test]
fn s1_19_remote_offer_end_to_end() {
    let st = settings(json!({"audioCodec": "opus", "videoCodec": "H264",
        "bandwidth": {"audio": 50, "video": 500}, "disableREMB": true,
        "disableVideoFecCodecs": true, "codecParams": {"audio": {"opus": {"stereo": true}}}}));
    let mut peer = PeerContext::new("peer1", "chrome");
    let out = skylink_sdp::remote(&text("1_19_in"), SdpType::Offer, &st, &mut peer).unwrap();
    assert_eq!(out, text("1_19_out"), "\n{out}");
    assert_eq!(peer.remote_stream_id.as_deref(), Some("remoteCam"));
    let rec = peer.sessions.remote.expect("record");
    assert_eq!(rec.bundle_line, "a=group:BUNDLE audio video data");
    assert_eq!(rec.connection.audio.as_deref(), Some("a=sendrecv"));
}

// Settings defaults (§0) -----------------------------------------------------------------------

#[test]
fn settings_defaults_and_lenient_types() {
    let d: SdpSettings = serde_json::from_str("{}").unwrap();
    assert_eq!(d, SdpSettings::default());
    assert!(d.enable_ice_trickle);
    assert!(d.sdp_settings.connection.audio && d.sdp_settings.direction.video.receive);
    assert_eq!(d.peer_connection.bundle_policy, BundlePolicy::Balanced);
    let odd = settings(json!({"codecParams": {"audio": {"opus": {
        "stereo": "yes", "maxplaybackrate": 4000, "minptime": 2}}}, "audio": true}));
    assert_eq!(odd.codec_params.audio.opus.stereo, None);
    assert_eq!(odd.codec_params.audio.opus.valid_maxplaybackrate(), None);
    assert_eq!(odd.codec_params.audio.opus.valid_minptime(), None);
    assert_eq!(odd.audio, None);
    assert!(munge::opus_params(&odd).is_empty());
}
