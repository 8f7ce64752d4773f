//! getUserMedia options against the reference's examples (spec/sdp-and-peers.md §4.2, §4.4).

use serde_json::{Value, json};
use skylink_media::MediaError;
use skylink_media::settings::{MediaOptions, screenshare_settings};

fn error_of(options: Value) -> String {
    match MediaOptions::from_json(&options) {
        Err(MediaError::InvalidSettings(message)) => message,
        other => panic!("expected an invalid-settings error for {options}, got {other:?}"),
    }
}

/// Compares JSON and key order (peers and golden tests see the serialized text).
fn assert_json(actual: &Value, expected: &Value) {
    assert_eq!(actual, expected);
    assert_eq!(actual.to_string(), expected.to_string(), "key order");
}

#[test]
fn default_audio_and_video() {
    let options = MediaOptions::from_json(&json!({"audio": true, "video": true})).expect("valid");
    assert_json(
        &options.advertised_settings(),
        &json!({"audio":{"stereo":false,"exactConstraints":false,"echoCancellation":true},
                "video":{"resolution":{"width":640,"height":480},"screenshare":false,"exactConstraints":false}}),
    );
    assert_eq!(options.resolution(), Some((640, 480)));
    assert_eq!(options.frame_rate(), Some(30.0));
    assert!(!options.audio_mute_requested() && !options.video_mute_requested());
    assert_eq!(
        MediaOptions::from_optional_json(None).expect("default"),
        options
    );
}

#[test]
fn invalid_options_use_the_reference_errors() {
    for bad in [
        json!(null),
        json!(true),
        json!(3),
        json!("audio"),
        json!([true]),
    ] {
        assert_eq!(error_of(bad), "Please provide a valid options");
    }
    for neither in [
        json!({}),
        json!({"audio": false, "video": false}),
        json!({"audio": 0, "video": ""}),
        json!({"audio": null}),
    ] {
        assert_eq!(error_of(neither), "Please select audio or video");
    }
}

#[test]
fn audio_only_with_every_option() {
    let options = MediaOptions::from_json(&json!({
        "audio": {"stereo": true, "useinbandfec": true, "usedtx": false, "maxplaybackrate": 16000,
                  "mute": true, "echoCancellation": false, "optional": [{"x": 1}], "deviceId": "mic1"},
        "useExactConstraints": true,
    }))
    .expect("valid");
    assert_json(
        &options.advertised_settings(),
        &json!({"audio":{"stereo":true,"exactConstraints":true,"echoCancellation":false,"useinbandfec":true,
                         "usedtx":false,"maxplaybackrate":16000,"optional":[{"x":1}],"deviceId":"mic1"},
                "video":false}),
    );
    assert!(options.audio_mute_requested());
    assert_eq!(options.resolution(), None);
}

#[test]
fn out_of_range_and_mistyped_values_are_ignored() {
    let options = MediaOptions::from_json(&json!({
        "audio": {"stereo": "yes", "maxplaybackrate": 96000, "deviceId": "", "mute": 1},
        "video": {"resolution": {"width": "wide"}, "frameRate": "fast", "mute": false},
    }))
    .expect("valid");
    assert_json(
        &options.advertised_settings(),
        &json!({"audio":{"stereo":false,"exactConstraints":false,"echoCancellation":true},
                "video":{"resolution":{"width":640,"height":480},"screenshare":false,"exactConstraints":false}}),
    );
    assert!(!options.audio_mute_requested() && !options.video_mute_requested());
}

#[test]
fn video_resolution_and_frame_rate_numbers_and_constraints() {
    let options = MediaOptions::from_json(&json!({
        "video": {"resolution": {"width": {"ideal": 1280}, "height": 720}, "frameRate": {"ideal": 15}, "mute": true},
    }))
    .expect("valid");
    assert_json(
        &options.advertised_settings(),
        &json!({"audio":false,
                "video":{"resolution":{"width":{"ideal":1280},"height":720},"screenshare":false,
                         "exactConstraints":false,"frameRate":{"ideal":15}}}),
    );
    assert_eq!(options.resolution(), Some((1280, 720)));
    assert_eq!(options.frame_rate(), Some(15.0));
    assert!(options.video_mute_requested());

    let numbers = MediaOptions::from_json(
        &json!({"video": {"resolution": {"width": 321, "height": 241}, "frameRate": 24}}),
    )
    .expect("valid");
    assert_eq!(
        numbers.resolution(),
        Some((320, 240)),
        "rounded down to even"
    );
    assert_eq!(numbers.frame_rate(), Some(24.0));
}

#[test]
fn screenshare_audio_settings() {
    assert_json(
        &screenshare_settings(
            &json!({"stereo": true, "usedtx": true, "echoCancellation": false, "deviceId": "d"}),
        ),
        &json!({"audio":{"usedtx":true,"useinbandfec":null,"stereo":true,"echoCancellation":false,"deviceId":"d"},
                "video":{"screenshare":true,"exactConstraints":false}}),
    );
    assert_eq!(
        screenshare_settings(&json!(["screen", "audio"]))["audio"],
        json!(false)
    );
    assert_eq!(screenshare_settings(&json!(false))["audio"], json!(false));
}
