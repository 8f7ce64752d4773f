//! The reference's `getUserMedia()` options: validation, the settings advertised to peers,
//! and the numbers our sources use.
//!
//! Mirrors SkylinkJS 0.6.26 (`spec/sdp-and-peers.md` §4.2, §4.4): JSON options in, the
//! `settings` `{audio, video}` object that peers see in `userInfo` out, with the same error
//! strings and the same JavaScript truthiness rules.

use serde_json::{Map, Value, json};

use crate::error::MediaError;

/// The reference's error for options that are not an object.
pub const INVALID_OPTIONS: &str = "Please provide a valid options";
/// The reference's error for options requesting neither audio nor video.
pub const NO_AUDIO_OR_VIDEO: &str = "Please select audio or video";

const DEFAULT_WIDTH: u32 = 640;
const DEFAULT_HEIGHT: u32 = 480;
const DEFAULT_FRAME_RATE: f64 = 30.0;

/// JavaScript truthiness of a JSON value (`false`, `0`, `""`, `null` and absent are falsy).
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// A number or a constraint object (`{exact|ideal|max|min: n}`); anything else is `None`.
fn number_or_constraint(value: Option<&Value>) -> Option<Value> {
    match value {
        Some(v @ (Value::Number(_) | Value::Object(_))) => Some(v.clone()),
        _ => None,
    }
}

/// The number a source should use for a number-or-constraint value: the number itself, else
/// the constraint's `exact`, `ideal`, `max` or `min`, in that order of preference.
fn pick_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Object(o) => ["exact", "ideal", "max", "min"]
            .iter()
            .find_map(|key| o.get(*key).and_then(Value::as_f64)),
        _ => None,
    }
}

fn boolean(object: &Map<String, Value>, key: &str) -> Option<bool> {
    object.get(key).and_then(Value::as_bool)
}

fn device_id(object: &Map<String, Value>) -> Option<String> {
    object
        .get("deviceId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

/// Audio options of a `getUserMedia()` call.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioOptions {
    /// `audio.stereo`.
    pub stereo: bool,
    /// `audio.echoCancellation` (default `true`).
    pub echo_cancellation: bool,
    /// `audio.useinbandfec`, when given as a boolean.
    pub useinbandfec: Option<bool>,
    /// `audio.usedtx`, when given as a boolean.
    pub usedtx: Option<bool>,
    /// `audio.maxplaybackrate`, when a number in 8000–48000.
    pub maxplaybackrate: Option<Value>,
    /// `audio.optional`, copied as is when an array.
    pub optional: Option<Value>,
    /// `audio.deviceId`, when a non-empty string.
    pub device_id: Option<String>,
    /// `audio.mute === true`: start with audio muted.
    pub mute: bool,
}

impl AudioOptions {
    fn from_json(value: &Value) -> AudioOptions {
        let empty = Map::new();
        let o = value.as_object().unwrap_or(&empty);
        AudioOptions {
            stereo: boolean(o, "stereo").unwrap_or(false),
            echo_cancellation: boolean(o, "echoCancellation").unwrap_or(true),
            useinbandfec: boolean(o, "useinbandfec"),
            usedtx: boolean(o, "usedtx"),
            maxplaybackrate: o
                .get("maxplaybackrate")
                .filter(|v| v.as_f64().is_some_and(|r| (8000.0..=48000.0).contains(&r)))
                .cloned(),
            optional: o.get("optional").filter(|v| v.is_array()).cloned(),
            device_id: device_id(o),
            mute: boolean(o, "mute") == Some(true),
        }
    }

    fn advertised(&self, exact: bool) -> Value {
        let mut out = Map::new();
        out.insert("stereo".into(), self.stereo.into());
        out.insert("exactConstraints".into(), exact.into());
        out.insert("echoCancellation".into(), self.echo_cancellation.into());
        if let Some(v) = self.useinbandfec {
            out.insert("useinbandfec".into(), v.into());
        }
        if let Some(v) = self.usedtx {
            out.insert("usedtx".into(), v.into());
        }
        if let Some(v) = &self.maxplaybackrate {
            out.insert("maxplaybackrate".into(), v.clone());
        }
        if let Some(v) = &self.optional {
            out.insert("optional".into(), v.clone());
        }
        if let Some(v) = &self.device_id {
            out.insert("deviceId".into(), v.clone().into());
        }
        Value::Object(out)
    }
}

/// Video options of a `getUserMedia()` call.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// `video.resolution.width`: a number or a constraint object (default 640).
    pub width: Value,
    /// `video.resolution.height`: a number or a constraint object (default 480).
    pub height: Value,
    /// `video.frameRate`: a number or a constraint object, when given.
    pub frame_rate: Option<Value>,
    /// `video.optional`, copied as is when an array.
    pub optional: Option<Value>,
    /// `video.deviceId`, when a non-empty string.
    pub device_id: Option<String>,
    /// `video.mute === true`: start with video muted.
    pub mute: bool,
}

impl VideoOptions {
    fn from_json(value: &Value) -> VideoOptions {
        let empty = Map::new();
        let o = value.as_object().unwrap_or(&empty);
        let resolution = o.get("resolution").and_then(Value::as_object);
        let dimension = |key: &str, default: u32| {
            number_or_constraint(resolution.and_then(|r| r.get(key)))
                .unwrap_or_else(|| default.into())
        };
        VideoOptions {
            width: dimension("width", DEFAULT_WIDTH),
            height: dimension("height", DEFAULT_HEIGHT),
            frame_rate: number_or_constraint(o.get("frameRate")),
            optional: o.get("optional").filter(|v| v.is_array()).cloned(),
            device_id: device_id(o),
            mute: boolean(o, "mute") == Some(true),
        }
    }

    fn advertised(&self, exact: bool) -> Value {
        let mut out = Map::new();
        out.insert(
            "resolution".into(),
            json!({"width": self.width, "height": self.height}),
        );
        out.insert("screenshare".into(), false.into());
        out.insert("exactConstraints".into(), exact.into());
        if let Some(v) = &self.optional {
            out.insert("optional".into(), v.clone());
        }
        if let Some(v) = &self.device_id {
            out.insert("deviceId".into(), v.clone().into());
        }
        if let Some(v) = &self.frame_rate {
            out.insert("frameRate".into(), v.clone());
        }
        Value::Object(out)
    }

    /// The width and height a source should produce: numbers as given, constraint objects
    /// by preference `exact`, `ideal`, `max`, `min`, rounded down to even, at
    /// least 2; 640×480 when nothing usable is given.
    pub fn resolution(&self) -> (u32, u32) {
        let pick = |v: &Value, default: u32| {
            let n = pick_number(v)
                .filter(|n| n.is_finite() && *n >= 2.0)
                .map_or(default, |n| n.min(16_384.0) as u32);
            n & !1
        };
        (
            pick(&self.width, DEFAULT_WIDTH),
            pick(&self.height, DEFAULT_HEIGHT),
        )
    }

    /// The frame rate a source should produce: the number or constraint value when usable
    /// (0 < fps ≤ 240), else 30.
    pub fn frame_rate(&self) -> f64 {
        self.frame_rate
            .as_ref()
            .and_then(pick_number)
            .filter(|f| *f > 0.0 && *f <= 240.0)
            .unwrap_or(DEFAULT_FRAME_RATE)
    }
}

/// Validated `getUserMedia()` options.
///
/// ```
/// use serde_json::json;
/// use skylink_media::settings::MediaOptions;
///
/// let options = MediaOptions::from_json(&json!({"audio": true, "video": true}))?;
/// assert_eq!(
///     options.advertised_settings(),
///     json!({"audio": {"stereo": false, "exactConstraints": false, "echoCancellation": true},
///            "video": {"resolution": {"width": 640, "height": 480}, "screenshare": false,
///                      "exactConstraints": false}})
/// );
/// let err = MediaOptions::from_json(&json!({"audio": false})).unwrap_err();
/// assert_eq!(err.to_string(), "invalid media settings: Please select audio or video");
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MediaOptions {
    /// Audio options, when audio was requested.
    pub audio: Option<AudioOptions>,
    /// Video options, when video was requested.
    pub video: Option<VideoOptions>,
    /// `useExactConstraints` (truthy test).
    pub use_exact_constraints: bool,
}

impl Default for MediaOptions {
    /// What `getUserMedia()` without options asks for: `{audio: true, video: true}`.
    fn default() -> MediaOptions {
        MediaOptions {
            audio: Some(AudioOptions::from_json(&Value::Bool(true))),
            video: Some(VideoOptions::from_json(&Value::Bool(true))),
            use_exact_constraints: false,
        }
    }
}

impl MediaOptions {
    /// Validates options as the reference does: anything but an object (including `null`) is
    /// `Please provide a valid options`; an object whose `audio` and `video` are both falsy
    /// is `Please select audio or video`. Both are [`MediaError::InvalidSettings`].
    pub fn from_json(options: &Value) -> Result<MediaOptions, MediaError> {
        let Value::Object(o) = options else {
            return Err(MediaError::InvalidSettings(INVALID_OPTIONS.into()));
        };
        let (audio, video) = (o.get("audio"), o.get("video"));
        if !truthy(audio) && !truthy(video) {
            return Err(MediaError::InvalidSettings(NO_AUDIO_OR_VIDEO.into()));
        }
        Ok(MediaOptions {
            audio: audio
                .filter(|a| truthy(Some(a)))
                .map(AudioOptions::from_json),
            video: video
                .filter(|v| truthy(Some(v)))
                .map(VideoOptions::from_json),
            use_exact_constraints: truthy(o.get("useExactConstraints")),
        })
    }

    /// Like [`from_json`](Self::from_json), with absent options (JavaScript `undefined`)
    /// meaning the default `{audio: true, video: true}`.
    pub fn from_optional_json(options: Option<&Value>) -> Result<MediaOptions, MediaError> {
        options.map_or_else(|| Ok(MediaOptions::default()), MediaOptions::from_json)
    }

    /// The `settings` object advertised to peers: `{"audio": <object or false>, "video":
    /// <object or false>}`, keys in the reference's order.
    pub fn advertised_settings(&self) -> Value {
        let exact = self.use_exact_constraints;
        json!({
            "audio": self.audio.as_ref().map_or(Value::Bool(false), |a| a.advertised(exact)),
            "video": self.video.as_ref().map_or(Value::Bool(false), |v| v.advertised(exact)),
        })
    }

    /// `audio.mute === true`: the stream should start with audio muted.
    pub fn audio_mute_requested(&self) -> bool {
        self.audio.as_ref().is_some_and(|a| a.mute)
    }

    /// `video.mute === true`: the stream should start with video muted.
    pub fn video_mute_requested(&self) -> bool {
        self.video.as_ref().is_some_and(|v| v.mute)
    }

    /// Resolution for the video source (see [`VideoOptions::resolution`]), if video was
    /// requested.
    pub fn resolution(&self) -> Option<(u32, u32)> {
        self.video.as_ref().map(VideoOptions::resolution)
    }

    /// Frame rate for the video source (see [`VideoOptions::frame_rate`]), if video was
    /// requested.
    pub fn frame_rate(&self) -> Option<f64> {
        self.video.as_ref().map(VideoOptions::frame_rate)
    }
}

/// The `settings` advertised for a screenshare started with `shareScreen(enableAudio)`
/// (§4.4): `{"audio": <audio settings or false>, "video": {"screenshare": true,
/// "exactConstraints": false}}`.
///
/// `enable_audio` is the first argument as JSON: `true` or an object enables audio; anything
/// else (a media-source string or array, `false`, absent as `null`) does not.
///
/// ```
/// use serde_json::json;
/// use skylink_media::settings::screenshare_settings;
///
/// assert_eq!(
///     screenshare_settings(&json!(true)),
///     json!({"audio": {"usedtx": null, "useinbandfec": null, "stereo": false,
///                      "echoCancellation": true, "deviceId": null},
///            "video": {"screenshare": true, "exactConstraints": false}})
/// );
/// assert_eq!(screenshare_settings(&json!("screen"))["audio"], json!(false));
/// ```
pub fn screenshare_settings(enable_audio: &Value) -> Value {
    let audio = match enable_audio {
        Value::Bool(true) => json!({
            "usedtx": null, "useinbandfec": null, "stereo": false, "echoCancellation": true, "deviceId": null,
        }),
        Value::Object(o) => json!({
            "usedtx": boolean(o, "usedtx"),
            "useinbandfec": boolean(o, "useinbandfec"),
            "stereo": boolean(o, "stereo") == Some(true),
            "echoCancellation": boolean(o, "echoCancellation") != Some(false),
            "deviceId": o.get("deviceId").cloned().unwrap_or(Value::Null),
        }),
        _ => Value::Bool(false),
    };
    json!({"audio": audio, "video": {"screenshare": true, "exactConstraints": false}})
}
