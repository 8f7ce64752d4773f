//! Fuzz the frame decoder and a receiving download: never panic, never complete with bytes
//! that the chunks did not carry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skylink_dt::message::{Frame, Incoming, Message, classify};
use skylink_dt::transfer::{ChannelKind, Chunk, Download, DownloadConfig};
use std::time::Instant;

const WRQ: &str = r#"{"type":"WRQ","transferId":"A_1","name":"a","size":8,"originalSize":6,"dataType":"blob","mimeType":null,"chunkType":"string","chunkSize":65536,"timeout":60,"isPrivate":false,"sender":"A","agent":"chrome","version":1,"target":"B"}"#;

fuzz_target!(|data: &[u8]| {
    let (is_text, body) = match data.split_first() {
        Some((b, rest)) => (b & 1 == 0, rest),
        None => return,
    };
    let Ok(Message::Wrq(w)) = Message::from_json(WRQ) else { return };
    let Ok((mut d, _)) = Download::new(DownloadConfig::new("B", "A", "A_1", ChannelKind::Data), &w) else { return };
    let _ = d.accept();
    let now = Instant::now();
    let frame = if is_text {
        match std::str::from_utf8(body) {
            Ok(t) => Frame::Text(t),
            Err(_) => return,
        }
    } else {
        Frame::Binary(body)
    };
    match classify(frame) {
        Ok(Incoming::Message(m)) => {
            let _ = Message::from_json(&m.to_json());
            let _ = d.handle_message(&m);
        }
        Ok(Incoming::TextChunk(t)) => {
            let _ = d.handle_chunk(Chunk::Text(t), now);
        }
        Ok(Incoming::BinaryChunk(b)) => {
            let _ = d.handle_chunk(Chunk::Binary(b), now);
        }
        Err(_) => {}
    }
});
