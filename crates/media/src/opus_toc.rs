//! Opus packet durations from the TOC byte (RFC 6716 §3.1), without libopus: what the Ogg
//! reader needs to pace packets and the recorder to advance granule positions.

use crate::error::MediaError;

/// Opus always runs its RTP clock and granule positions at 48 kHz.
pub const SAMPLE_RATE: u32 = 48_000;
/// The longest packet Opus allows: 120 ms at 48 kHz.
const MAX_PACKET_SAMPLES: usize = 5760;

/// Samples per channel (at 48 kHz) that `packet` decodes to.
///
/// ```
/// // TOC 0xF8: CELT fullband, 20 ms, one frame.
/// assert_eq!(skylink_media::opus_toc::packet_samples(&[0xF8, 0xFF, 0xFE]).unwrap(), 960);
/// ```
///
/// # Errors
/// [`MediaError::BadFile`] for an empty packet, a code-3 packet without its count byte, or a
/// duration over 120 ms.
pub fn packet_samples(packet: &[u8]) -> Result<usize, MediaError> {
    let toc = *packet
        .first()
        .ok_or_else(|| MediaError::BadFile("empty Opus packet".into()))?;
    let config = usize::from(toc >> 3);
    // Frame sizes in 48 kHz samples: SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][config % 4],
        12..=15 => [480, 960][config % 2],
        _ => [120, 240, 480, 960][config % 4],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => usize::from(
            packet.get(1).ok_or_else(|| {
                MediaError::BadFile("Opus code-3 packet without its frame count".into())
            })? & 0x3F,
        ),
    };
    let samples = frames * frame;
    if samples == 0 || samples > MAX_PACKET_SAMPLES {
        return Err(MediaError::BadFile(format!(
            "Opus packet of {samples} samples (allowed 1..={MAX_PACKET_SAMPLES})"
        )));
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::packet_samples;

    #[test]
    fn durations_follow_rfc6716() {
        assert_eq!(packet_samples(&[0x08]).ok(), Some(960)); // SILK NB 20 ms
        assert_eq!(packet_samples(&[0x18]).ok(), Some(2880)); // SILK NB 60 ms
        assert_eq!(packet_samples(&[0x69]).ok(), Some(1920)); // hybrid 20 ms ×2
        assert_eq!(packet_samples(&[0x80]).ok(), Some(120)); // CELT 2.5 ms
        assert_eq!(packet_samples(&[0xFB, 0x03]).ok(), Some(2880)); // CELT 20 ms, 3 frames
        assert!(packet_samples(&[0xFB, 0x07]).is_err()); // 140 ms
        assert!(packet_samples(&[0xFB]).is_err());
        assert!(packet_samples(&[]).is_err());
    }
}
