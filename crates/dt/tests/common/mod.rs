#![allow(dead_code)]
use skylink_dt::message::{Frame, Incoming, Message, OutFrame, classify};
use skylink_dt::transfer::*;
use std::time::Instant;

pub fn sends(acts: &[Action]) -> Vec<OutFrame> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Send(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

pub fn texts(acts: &[Action]) -> Vec<String> {
    sends(acts)
        .into_iter()
        .map(|f| match f {
            OutFrame::Text(t) => t,
            OutFrame::Binary(b) => format!("<binary {}>", b.len()),
        })
        .collect()
}

pub fn states(acts: &[Action]) -> Vec<(&'static str, f64)> {
    acts.iter()
        .filter_map(|a| match a {
            Action::Event(Event::DataTransferState { state, info, .. }) => {
                Some((state.as_str(), info.percentage))
            }
            _ => None,
        })
        .collect()
}

pub fn msg(text: &str) -> Message {
    match classify(Frame::Text(text)).unwrap() {
        Incoming::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

/// Feed a frame to a download: messages or chunks.
pub fn feed_down(d: &mut Download, f: &OutFrame, now: Instant) -> Vec<Action> {
    match classify(f.as_frame()).unwrap() {
        Incoming::Message(m) => d.handle_message(&m),
        Incoming::TextChunk(t) => d.handle_chunk(Chunk::Text(t), now),
        Incoming::BinaryChunk(b) => d.handle_chunk(Chunk::Binary(b), now),
    }
}

pub fn completed_data(acts: &[Action]) -> Option<Payload> {
    acts.iter().find_map(|a| match a {
        Action::Event(Event::IncomingData { data, .. }) => Some(data.clone()),
        _ => None,
    })
}
