//! Camera capture on the machine it runs on. CI machines (and the development container) have
//! no camera, so the checks are about reporting that correctly; with a camera present the
//! listing is checked for consistency instead.
#![cfg(feature = "camera")]

use skylink_media::MediaError;
use skylink_media::capture::{CameraSource, list_cameras};

fn has_video_nodes() -> bool {
    std::fs::read_dir("/dev")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("video"))
        })
        .unwrap_or(false)
}

#[test]
fn without_cameras_the_list_is_empty_and_opening_is_no_device() {
    let cameras = list_cameras().expect("listing never fails for a missing camera");
    if has_video_nodes() {
        // A real camera machine: every listed camera is a /dev/video node with a name.
        for camera in &cameras {
            assert!(camera.path.starts_with("/dev"), "{camera:?}");
            assert!(!camera.name.is_empty(), "{camera:?}");
        }
        return;
    }
    assert!(cameras.is_empty(), "{cameras:?}");
    match CameraSource::open(None, 640, 480, 30) {
        Err(MediaError::NoDevice(message)) => assert!(message.contains("no camera"), "{message}"),
        other => panic!("expected NoDevice, got {other:?}"),
    }
}

#[test]
fn a_missing_device_node_is_no_device() {
    let result = CameraSource::open(Some("/dev/video-skylink-does-not-exist"), 640, 480, 30);
    match result {
        Err(MediaError::NoDevice(message)) => {
            assert!(
                message.contains("/dev/video-skylink-does-not-exist"),
                "{message}"
            );
        }
        other => panic!("expected NoDevice, got {other:?}"),
    }
}

#[test]
fn zero_sizes_are_invalid_settings() {
    let result = CameraSource::open(None, 0, 480, 30);
    assert!(
        matches!(result, Err(MediaError::InvalidSettings(_))),
        "{result:?}"
    );
}
