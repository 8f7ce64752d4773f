//! Fuzz the Engine.IO 3 / socket.io frame decoder: never panic; every input is a frame or a
//! typed error; a decoded `message` payload re-encodes to a frame that decodes to the same
//! payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skylink_room::eio::{EioError, EioPacket, SioEvent, decode};

fuzz_target!(|data: &[u8]| {
    // A websocket text frame is UTF-8; take the bytes as text when they are, lossily when not
    // (the lossy text still exercises the decoder on the replacement character).
    let text = match std::str::from_utf8(data) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(data),
    };
    let result = decode(&text);
    match text.chars().next() {
        None => assert_eq!(result, Err(EioError::Empty)),
        Some(c) if !('0'..='6').contains(&c) => assert_eq!(result, Err(EioError::UnknownType(c))),
        Some(_) => {}
    }
    if let Ok(EioPacket::Socket(SioEvent::Message(payload))) = result {
        let frame = skylink_sm::frame::encode_eio_message_event(&payload);
        assert_eq!(
            decode(&frame),
            Ok(EioPacket::Socket(SioEvent::Message(payload))),
            "re-encoded frame {frame:?}"
        );
    }
});
