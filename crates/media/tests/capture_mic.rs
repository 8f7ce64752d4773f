//! Microphone capture through the real alsa-lib. No sound card exists in CI, so the checks are
//! the error for a missing device and capture from alsa-lib's `null` PCM, which produces
//! silence without hardware.
#![cfg(feature = "mic")]

use std::sync::mpsc;
use std::time::Duration;

use skylink_media::capture::{MicSource, list_microphones};
use skylink_media::{AudioSource, MediaError};

#[test]
fn a_nonexistent_device_is_no_device() {
    match MicSource::open(Some("skylink_no_such_pcm")) {
        Err(MediaError::NoDevice(message)) => {
            assert!(message.contains("skylink_no_such_pcm"), "{message}");
        }
        other => panic!("expected NoDevice, got {other:?}"),
    }
    let bad_card = MicSource::open(Some("hw:57,0"));
    assert!(
        matches!(bad_card, Err(MediaError::NoDevice(_))),
        "{bad_card:?}"
    );
}

#[test]
fn listing_capture_pcms_works_without_a_sound_card() {
    let mics = list_microphones().expect("ALSA device hints");
    assert!(mics.iter().all(|m| !m.name.is_empty()), "{mics:?}");
}

#[test]
fn the_null_pcm_yields_20ms_blocks_of_silence() {
    let mut mic = MicSource::open(Some("null")).expect("alsa-lib's null PCM opens for capture");
    assert_eq!(mic.sample_rate(), 48_000);
    assert!(matches!(mic.channels(), 1 | 2), "{}", mic.channels());
    assert_eq!(mic.name(), "null");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let blocks: Vec<_> = (0..5).map(|_| mic.next_frame()).collect();
        let _ = tx.send((blocks, mic.channels()));
    });
    let (blocks, channels) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("five 20 ms blocks within 10 s");
    for block in blocks {
        let block = block.expect("read from the null PCM");
        assert_eq!(block.sample_rate, 48_000);
        assert_eq!(block.channels, channels);
        assert_eq!(block.samples.len(), 960 * usize::from(channels));
        assert_eq!(block.duration(), Duration::from_millis(20));
        assert!(
            block.samples.iter().all(|&s| s == 0),
            "null capture is silence"
        );
    }
}
