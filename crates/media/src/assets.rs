//! Media embedded in the crate (made by `examples/make_assets.rs`), for builds without the
//! `codecs` feature and for demos: real VP8 and Opus that need no encoder.
//!
//! ```
//! use skylink_media::assets;
//! let ivf = skylink_media::ivf::IvfFile::parse(assets::TESTPATTERN_IVF)?;
//! assert_eq!((ivf.header.width, ivf.header.height), (320, 240));
//! assert_eq!(ivf.frames.len(), 90);
//! let ogg = skylink_media::ogg_opus::OggOpusFile::parse(assets::TONE_OGG)?;
//! assert_eq!(ogg.packets.len(), 300);
//! # Ok::<(), skylink_media::MediaError>(())
//! ```

/// The test pattern (with its embedded frame numbers 0–89), 320×240, 15 fps, 6 s, VP8 at
/// 300 kbps in IVF; loop it with [`crate::ivf::IvfFileSource::looping`].
pub const TESTPATTERN_IVF: &[u8] = include_bytes!("../assets/testpattern-320x240.ivf");

/// A 440 Hz tone, 6 s, Opus at 24 kbps stereo in Ogg.
pub const TONE_OGG: &[u8] = include_bytes!("../assets/tone.ogg");
