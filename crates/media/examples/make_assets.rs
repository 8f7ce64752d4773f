//! Regenerates the media assets embedded in `skylink-media` (`assets/`): a looping test
//! pattern as VP8 IVF and a tone as Ogg Opus, so builds without the `codecs` feature (no
//! libvpx/libopus) can still send real media from files — `skylink demo` does.
//!
//! `cargo run -p skylink-media --features codecs --example make_assets`

use skylink_media::ivf::IvfRecorder;
use skylink_media::ogg_opus::OggOpusRecorder;
use skylink_media::{EncodedSource, OpusSource, TestPattern, Tone, Vp8Source};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::create_dir_all(&dir)?;
    let (width, height, fps, seconds) = (320u32, 240u32, 15.0, 6u32);
    let frames = (fps as u32) * seconds;
    let mut video = Vp8Source::new(TestPattern::unpaced(width, height, fps)?, 300)?;
    let mut ivf = IvfRecorder::create(dir.join("testpattern-320x240.ivf"), 320, 240)?;
    for i in 0..frames {
        if i == 0 {
            video.request_keyframe();
        }
        let frame = video.next_frame()?.ok_or("the pattern ended")?;
        ivf.push_encoded(&frame)?;
    }
    ivf.finish()?;
    let mut audio = OpusSource::new(Tone::unpaced(440.0)?, 24_000)?;
    let mut ogg = OggOpusRecorder::create(dir.join("tone.ogg"), 2)?;
    for _ in 0..(seconds * 50) {
        let packet = audio.next_frame()?.ok_or("the tone ended")?;
        ogg.push(&packet.data)?;
    }
    ogg.finish()?;
    println!("wrote {}", dir.display());
    Ok(())
}
