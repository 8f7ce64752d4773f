//! The Engine.IO 3 / socket.io frame decoder never panics, whatever arrives.

use proptest::prelude::*;
use skylink_room::eio::{EioPacket, SioEvent, decode};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_never_panics_on_any_text(s in any::<String>()) {
        let _ = decode(&s);
    }

    #[test]
    fn decode_never_panics_on_frame_like_text(
        prefix in prop::sample::select(vec!["0", "1", "2", "3", "4", "40", "41", "42", "43", "44", "42/", "451-", "6"]),
        body in r#"[\[\]{}",:\\a-z0-9/u\u{e9}\u{1F30D}-]{0,64}"#,
    ) {
        let _ = decode(&format!("{prefix}{body}"));
    }

    #[test]
    fn message_frames_round_trip(json in r#"\{"type":"[a-z]{1,8}","data":"[ -~\u{e9}\u{4f60}\u{1F30D}]{0,32}"\}"#) {
        let frame = skylink_sm::frame::encode_eio_message_event(&json);
        prop_assert_eq!(decode(&frame).unwrap(), EioPacket::Socket(SioEvent::Message(json)));
    }
}
