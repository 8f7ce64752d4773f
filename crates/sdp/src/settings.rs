//! [`SdpSettings`]: the SDK options the munging reads, with the SDK defaults (spec §0).
//!
//! Field names mirror the JavaScript options (`#[serde(rename_all = "camelCase")]`); every key
//! is optional and a missing key takes the SDK default. Values of the wrong JSON type are
//! ignored exactly as `init()` ignores them (e.g. `codecParams.audio.opus.stereo: "yes"` is
//! treated as not set).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

fn lenient_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Value::deserialize(d)?.as_f64())
}

fn lenient_flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    // JavaScript truthiness of the option value.
    Ok(match Value::deserialize(d)? {
        Value::Null => false,
        Value::Bool(b) => b,
        Value::Number(n) => n.as_f64().is_some_and(|v| v != 0.0 && !v.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    })
}

fn lenient_audio<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StreamAudioSettings>, D::Error> {
    // A non-object (`true`, `false`, `null`) is treated as "no audio settings object".
    match Value::deserialize(d)? {
        v @ Value::Object(_) => Ok(serde_json::from_value(v).ok()),
        _ => Ok(None),
    }
}

/// Every setting the SDP munging of skylinkjs 0.6.26 reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SdpSettings {
    /// `init({audioCodec})`: `"auto"` (default), an `AUDIO_CODEC` value, or
    /// `{codec, samplingRate, channels}`.
    pub audio_codec: CodecSetting,
    /// `init({videoCodec})`: `"auto"` (default), a `VIDEO_CODEC` value, or `{codec, samplingRate}`.
    pub video_codec: CodecSetting,
    /// `init({codecParams})`.
    pub codec_params: CodecParams,
    /// `init({disableVideoFecCodecs})`: remove `red`/`ulpfec` (not with an MCU).
    #[serde(deserialize_with = "lenient_flag")]
    pub disable_video_fec_codecs: bool,
    /// `init({disableComfortNoiseCodec})`: remove `CN` (only when our audio is stereo).
    #[serde(deserialize_with = "lenient_flag")]
    pub disable_comfort_noise_codec: bool,
    /// `init({disableREMB})`: remove `a=rtcp-fb:<pt> goog-remb`.
    #[serde(rename = "disableREMB", deserialize_with = "lenient_flag")]
    pub disable_remb: bool,
    /// `init({filterCandidatesType})`: candidate types removed from remote descriptions.
    pub filter_candidates_type: FilterCandidatesType,
    /// `init({forceTURN})`: also forces `filterCandidatesType = {host, srflx}`.
    #[serde(rename = "forceTURN", deserialize_with = "lenient_flag")]
    pub force_turn: bool,
    /// `joinRoom({bandwidth})` (`streamsBandwidthSettings.bAS`), kbps.
    pub bandwidth: Bandwidth,
    /// `joinRoom({googleXBandwidth})` (`streamsBandwidthSettings.googleX`), kbps.
    pub google_x_bandwidth: GoogleXBandwidth,
    /// `joinRoom({sdpSettings})`: which media kinds to negotiate and in which direction.
    pub sdp_settings: SdpConnectionSettings,
    /// `joinRoom({peerConnection})`: only `bundlePolicy` matters to the munging.
    pub peer_connection: PeerConnectionConfig,
    /// The audio settings of the local stream we send (`streams.userMedia.settings.audio`, or
    /// the screenshare's); `None` (or any non-object) = no stream / no audio settings.
    #[serde(deserialize_with = "lenient_audio")]
    pub audio: Option<StreamAudioSettings>,
    /// `init({enableIceTrickle})` of **this** client (default `true`).
    #[serde(deserialize_with = "lenient_flag")]
    pub enable_ice_trickle: bool,
    /// Runtime state: an MCU peer is in the room.
    #[serde(rename = "hasMCU", deserialize_with = "lenient_flag")]
    pub has_mcu: bool,
    /// Runtime state: id of the stream attached to the connection (`localStreamId`); `None`
    /// when no stream is attached (the output renderer then leaves msid lines alone).
    pub local_stream_id: Option<String>,
    /// Runtime state: our codec inventory (`currentCodecSupport`, §1.17). Defaults to
    /// opus/ISAC/G722/PCMU/PCMA + VP8/VP9/H264.
    pub current_codec_support: CodecInventory,
}

impl Default for SdpSettings {
    fn default() -> Self {
        SdpSettings {
            audio_codec: CodecSetting::default(),
            video_codec: CodecSetting::default(),
            codec_params: CodecParams::default(),
            disable_video_fec_codecs: false,
            disable_comfort_noise_codec: false,
            disable_remb: false,
            filter_candidates_type: FilterCandidatesType::default(),
            force_turn: false,
            bandwidth: Bandwidth::default(),
            google_x_bandwidth: GoogleXBandwidth::default(),
            sdp_settings: SdpConnectionSettings::default(),
            peer_connection: PeerConnectionConfig::default(),
            audio: None,
            enable_ice_trickle: true,
            has_mcu: false,
            local_stream_id: None,
            current_codec_support: CodecInventory::default_engine(),
        }
    }
}

impl SdpSettings {
    /// The candidate filter in effect: `forceTURN` forces `{host: true, srflx: true, relay: false}`.
    pub fn effective_filter(&self) -> FilterCandidatesType {
        if self.force_turn {
            FilterCandidatesType {
                host: true,
                srflx: true,
                relay: false,
            }
        } else {
            self.filter_candidates_type
        }
    }
}

/// A preferred codec setting (`audioCodec` / `videoCodec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CodecSetting {
    /// A codec name (`"auto"`, `"opus"`, `"VP8"`, …).
    Name(String),
    /// `{codec, samplingRate, channels}`.
    Detailed {
        /// The codec name.
        codec: String,
        /// Preferred clock rate (a number > 0, else ignored).
        #[serde(
            default,
            rename = "samplingRate",
            deserialize_with = "lenient_num",
            skip_serializing_if = "Option::is_none"
        )]
        sampling_rate: Option<f64>,
        /// Preferred channel count (audio only; a number > 0, else ignored).
        #[serde(
            default,
            deserialize_with = "lenient_num",
            skip_serializing_if = "Option::is_none"
        )]
        channels: Option<f64>,
    },
}

impl Default for CodecSetting {
    fn default() -> Self {
        CodecSetting::Name("auto".to_owned())
    }
}

/// The `AUDIO_CODEC` constant values of 0.6.26 (matched case-sensitively).
pub const AUDIO_CODECS: &[&str] = &["ISAC", "opus", "ILBC", "G722", "PCMU", "PCMA"];
/// The `VIDEO_CODEC` constant values of 0.6.26 (matched case-sensitively).
pub const VIDEO_CODECS: &[&str] = &["VP8", "H264", "VP9"];

/// A validated codec preference, as `init()` stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct CodecPreference {
    /// The codec name (one of the constant values).
    pub codec: String,
    /// Preferred clock rate.
    pub sampling_rate: Option<u64>,
    /// Preferred channel count (audio only).
    pub channels: Option<u64>,
}

fn positive(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0)
}

impl CodecSetting {
    /// Validates the setting like `init()`: unknown names (case-sensitive) and `"auto"` give
    /// `None`; rates/channels that are not numbers > 0 are dropped. Non-integer numbers are
    /// truncated (deviation: JavaScript would interpolate the fraction into a regular
    /// expression).
    pub fn effective(&self, audio: bool) -> Option<CodecPreference> {
        let valid: &[&str] = if audio { AUDIO_CODECS } else { VIDEO_CODECS };
        match self {
            CodecSetting::Name(n) if valid.contains(&n.as_str()) => Some(CodecPreference {
                codec: n.clone(),
                sampling_rate: None,
                channels: None,
            }),
            CodecSetting::Detailed {
                codec,
                sampling_rate,
                channels,
            } if valid.contains(&codec.as_str()) => Some(CodecPreference {
                codec: codec.clone(),
                sampling_rate: positive(*sampling_rate)
                    .map(|v| v as u64)
                    .filter(|v| *v > 0),
                channels: if audio {
                    positive(*channels).map(|v| v as u64).filter(|v| *v > 0)
                } else {
                    None
                },
            }),
            _ => None,
        }
    }
}

/// `codecParams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodecParams {
    /// `codecParams.audio`.
    pub audio: AudioCodecParams,
    /// `codecParams.video`.
    pub video: VideoCodecParams,
}

/// `codecParams.audio`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AudioCodecParams {
    /// `codecParams.audio.opus`.
    pub opus: OpusParams,
}

/// `codecParams.audio.opus` (validated as `init()` does).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpusParams {
    /// `stereo` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub stereo: Option<bool>,
    /// `sprop-stereo` (boolean).
    #[serde(rename = "sprop-stereo", deserialize_with = "lenient_bool")]
    pub sprop_stereo: Option<bool>,
    /// `usedtx` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub usedtx: Option<bool>,
    /// `useinbandfec` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub useinbandfec: Option<bool>,
    /// `maxplaybackrate` (number 8000–48000).
    #[serde(deserialize_with = "lenient_num")]
    pub maxplaybackrate: Option<f64>,
    /// `minptime` (number ≥ 3).
    #[serde(deserialize_with = "lenient_num")]
    pub minptime: Option<f64>,
}

impl OpusParams {
    /// `maxplaybackrate` if within 8000–48000 (else `init()` stores null).
    pub fn valid_maxplaybackrate(&self) -> Option<f64> {
        self.maxplaybackrate
            .filter(|v| (8000.0..=48000.0).contains(v))
    }
    /// `minptime` if ≥ 3 (else `init()` stores null).
    pub fn valid_minptime(&self) -> Option<f64> {
        self.minptime.filter(|v| *v >= 3.0)
    }
}

/// `codecParams.video`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoCodecParams {
    /// `codecParams.video.h264`.
    pub h264: H264Params,
    /// `codecParams.video.vp8`.
    pub vp8: VpxParams,
    /// `codecParams.video.vp9`.
    pub vp9: VpxParams,
}

/// `codecParams.video.h264`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct H264Params {
    /// `profileLevelId` — accepted but never applied (quirk A.1).
    #[serde(deserialize_with = "lenient_string")]
    pub profile_level_id: Option<String>,
    /// `levelAsymmetryAllowed` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub level_asymmetry_allowed: Option<bool>,
    /// `packetizationMode` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub packetization_mode: Option<bool>,
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// `codecParams.video.vp8` / `vp9`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VpxParams {
    /// `maxFr` (number) → `max-fr`.
    #[serde(deserialize_with = "lenient_num")]
    pub max_fr: Option<f64>,
    /// `maxFs` (number) → `max-fs`.
    #[serde(deserialize_with = "lenient_num")]
    pub max_fs: Option<f64>,
}

/// `filterCandidatesType`: `true` = drop that candidate type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterCandidatesType {
    /// Drop `host` candidates.
    #[serde(deserialize_with = "lenient_flag")]
    pub host: bool,
    /// Drop `srflx` candidates.
    #[serde(deserialize_with = "lenient_flag")]
    pub srflx: bool,
    /// Drop `relay` candidates.
    #[serde(deserialize_with = "lenient_flag")]
    pub relay: bool,
}

/// `bandwidth` (kbps per kind; a `b=AS` line is written for positive numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bandwidth {
    /// Audio kbps.
    #[serde(deserialize_with = "lenient_num")]
    pub audio: Option<f64>,
    /// Video kbps.
    #[serde(deserialize_with = "lenient_num")]
    pub video: Option<f64>,
    /// Data kbps (`m=application`).
    #[serde(deserialize_with = "lenient_num")]
    pub data: Option<f64>,
}

/// `googleXBandwidth` (kbps; `x-google-min-bitrate` / `x-google-max-bitrate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoogleXBandwidth {
    /// `x-google-min-bitrate`.
    #[serde(deserialize_with = "lenient_num")]
    pub min: Option<f64>,
    /// `x-google-max-bitrate`.
    #[serde(deserialize_with = "lenient_num")]
    pub max: Option<f64>,
}

/// `sdpSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SdpConnectionSettings {
    /// `sdpSettings.connection`.
    pub connection: ConnectionFlags,
    /// `sdpSettings.direction`.
    pub direction: DirectionSettings,
}

/// `sdpSettings.connection`: negotiate this kind at all (default `true` each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionFlags {
    /// Audio.
    #[serde(deserialize_with = "lenient_flag")]
    pub audio: bool,
    /// Video.
    #[serde(deserialize_with = "lenient_flag")]
    pub video: bool,
    /// Data (`m=application`).
    #[serde(deserialize_with = "lenient_flag")]
    pub data: bool,
}

impl Default for ConnectionFlags {
    fn default() -> Self {
        ConnectionFlags {
            audio: true,
            video: true,
            data: true,
        }
    }
}

/// `sdpSettings.direction`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DirectionSettings {
    /// Audio direction.
    pub audio: Direction,
    /// Video direction.
    pub video: Direction,
}

/// Send / receive flags of one kind (default both `true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Direction {
    /// We send this kind.
    #[serde(deserialize_with = "lenient_flag")]
    pub send: bool,
    /// We receive this kind.
    #[serde(deserialize_with = "lenient_flag")]
    pub receive: bool,
}

impl Default for Direction {
    fn default() -> Self {
        Direction {
            send: true,
            receive: true,
        }
    }
}

/// `peerConnection` (RTCConfiguration); only the bundle policy matters here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PeerConnectionConfig {
    /// `bundlePolicy` (default `balanced`).
    pub bundle_policy: BundlePolicy,
}

/// `BUNDLE_POLICY` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundlePolicy {
    /// `balanced` (default).
    #[default]
    Balanced,
    /// `max-compat`.
    MaxCompat,
    /// `max-bundle`.
    MaxBundle,
    /// `none`.
    None,
}

/// The audio settings of a local stream (`settings.audio` of the stream record). Only the
/// keys the munging reads are kept; wrong types are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamAudioSettings {
    /// `stereo` (boolean); `getUserMedia()` always records `false` unless asked.
    #[serde(deserialize_with = "lenient_bool")]
    pub stereo: Option<bool>,
    /// `usedtx` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub usedtx: Option<bool>,
    /// `useinbandfec` (boolean).
    #[serde(deserialize_with = "lenient_bool")]
    pub useinbandfec: Option<bool>,
    /// `maxplaybackrate` (number).
    #[serde(deserialize_with = "lenient_num")]
    pub maxplaybackrate: Option<f64>,
    /// `minptime` (number).
    #[serde(deserialize_with = "lenient_num")]
    pub minptime: Option<f64>,
}

/// A codec inventory (§1.17): lower-case codec name → `"<rate>[/<channels>]"` list, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodecInventory {
    /// Audio codecs.
    pub audio: BTreeMap<String, Vec<String>>,
    /// Video codecs.
    pub video: BTreeMap<String, Vec<String>>,
}

impl CodecInventory {
    /// The default inventory assumed for our engine (Appendix C): opus/ISAC/G722/PCMU/PCMA and
    /// VP8/VP9/H264.
    pub fn default_engine() -> Self {
        let m = |v: &[(&str, &[&str])]| {
            v.iter()
                .map(|(k, r)| ((*k).to_owned(), r.iter().map(|s| (*s).to_owned()).collect()))
                .collect()
        };
        CodecInventory {
            audio: m(&[
                ("opus", &["48000/2"]),
                ("isac", &["16000", "32000"]),
                ("g722", &["8000"]),
                ("pcmu", &["8000"]),
                ("pcma", &["8000"]),
            ]),
            video: m(&[
                ("vp8", &["90000"]),
                ("vp9", &["90000"]),
                ("h264", &["90000"]),
            ]),
        }
    }
}
