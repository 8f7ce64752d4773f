//! Data streaming (§5, DT 0.1.3): `fastBinaryStart` WRQ, raw chunks without ACKs, `fastBinaryStop`.
//!
//! ```
//! use skylink_dt::stream::*;
//! use skylink_dt::transfer::Chunk;
//! let mut tx = DataStreamSender::new(StreamConfig::new("stream_peerA_1", "peerA", "peerB", false, true));
//! let acts = tx.start().unwrap();
//! assert_eq!(acts.len(), 2); // start WRQ + sendStart
//! let acts = tx.send_binary(b"abc").unwrap();
//! assert!(matches!(&acts[0], StreamAction::Send(_)));
//! ```

use crate::chunk::{BINARY_FILE_SIZE, CHUNK_DATAURL_SIZE, utf16_len};
use crate::error::DtError;
use crate::message::{
    JsTextClass, Message, OutFrame, Target, Wrq, WrqKind, WrqLayout, js_classify_text,
};
use crate::transfer::{ChannelKind, Chunk, DEFAULT_AGENT};
use serde_json::{Map, Value};
use std::sync::Arc;

/// `DATA_STREAM_STATE` (code values of 0.6.26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataStreamState {
    /// `sendStart`.
    SendingStarted,
    /// `sendStop`.
    SendingStopped,
    /// `receiveStart`.
    ReceivingStarted,
    /// `receiveStop` (the API reference says `receivingStop`; the code sends `receiveStop`).
    ReceivingStopped,
    /// `received`.
    Received,
    /// `sent`.
    Sent,
    /// `error`.
    Error,
    /// `startError`.
    StartError,
}

impl DataStreamState {
    /// The reference's string value.
    pub fn as_str(self) -> &'static str {
        use DataStreamState::*;
        match self {
            SendingStarted => "sendStart",
            SendingStopped => "sendStop",
            ReceivingStarted => "receiveStart",
            ReceivingStopped => "receiveStop",
            Received => "received",
            Sent => "sent",
            Error => "error",
            StartError => "startError",
        }
    }
}

/// A stream chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamChunk {
    /// Binary chunk.
    Binary(Arc<[u8]>),
    /// String chunk.
    Text(Arc<str>),
}

/// `streamInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Chunk size (bytes or UTF-16 units) of the chunk in this event, else 0.
    pub chunk_size: u64,
    /// `isPrivate`.
    pub is_private: bool,
    /// String stream?
    pub is_string_stream: bool,
    /// The sender's peer id.
    pub sender_peer_id: String,
}

/// A `dataStreamState` event (with the chunk for `sent`/`received`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    /// State.
    pub state: DataStreamState,
    /// Stream id.
    pub stream_id: String,
    /// Peer id (the remote peer on the sender, the sender on the receiver).
    pub peer_id: String,
    /// Stream info.
    pub info: StreamInfo,
    /// The chunk for `sent` / `received`.
    pub chunk: Option<StreamChunk>,
}

/// What the engine must do for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamAction {
    /// Send on the stream's DATA channel.
    Send(OutFrame),
    /// Raise an event.
    Event(StreamEvent),
    /// Close the stream's DATA channel.
    CloseChannel,
}

/// Sender parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConfig {
    /// Stream id `stream_<ownId>_<epoch ms>` (= DATA channel label).
    pub stream_id: String,
    /// Our peer id.
    pub local_id: String,
    /// Target peer id.
    pub peer_id: String,
    /// String stream (else binary).
    pub string: bool,
    /// Started with explicit targets.
    pub is_private: bool,
    /// WRQ `agent`.
    pub agent: String,
    /// WRQ `version`.
    pub version: Value,
}

impl StreamConfig {
    /// A config with our default agent/version.
    pub fn new(
        stream_id: &str,
        local_id: &str,
        peer_id: &str,
        string: bool,
        is_private: bool,
    ) -> Self {
        StreamConfig {
            stream_id: stream_id.into(),
            local_id: local_id.into(),
            peer_id: peer_id.into(),
            string,
            is_private,
            agent: DEFAULT_AGENT.into(),
            version: Value::from(crate::AGENT_VERSION),
        }
    }
}

/// Stream sender for one peer (§5.2–5.5).
#[derive(Debug, Clone)]
pub struct DataStreamSender {
    cfg: StreamConfig,
    started: bool,
    stopped: bool,
}

impl DataStreamSender {
    /// A new sender (call [`start`](Self::start) once its DATA channel is open).
    pub fn new(cfg: StreamConfig) -> Self {
        DataStreamSender {
            cfg,
            started: false,
            stopped: false,
        }
    }

    /// The start/stop WRQ.
    pub fn wrq(&self, start: bool) -> Wrq {
        let c = &self.cfg;
        Wrq {
            layout: WrqLayout::Current,
            transfer_id: Some(c.stream_id.clone()),
            name: Some(c.stream_id.clone()),
            size: Some(0),
            original_size: Some(0),
            data_type: Some(
                if start {
                    "fastBinaryStart"
                } else {
                    "fastBinaryStop"
                }
                .into(),
            ),
            mime_type: None,
            chunk_type: Some(if c.string { "string" } else { "binary" }.into()),
            chunk_size: Some(0),
            timeout: Some(0.0),
            is_private: Some(c.is_private),
            sender: Some(c.local_id.clone()),
            agent: Some(c.agent.clone()),
            version: Some(c.version.clone()),
            target: Some(Target::Peer(c.peer_id.clone())),
            extra: Map::new(),
        }
    }

    fn ev(&self, state: DataStreamState, chunk: Option<StreamChunk>, size: u64) -> StreamAction {
        StreamAction::Event(StreamEvent {
            state,
            stream_id: self.cfg.stream_id.clone(),
            peer_id: self.cfg.peer_id.clone(),
            info: StreamInfo {
                chunk_size: size,
                is_private: self.cfg.is_private,
                is_string_stream: self.cfg.string,
                sender_peer_id: self.cfg.local_id.clone(),
            },
            chunk,
        })
    }

    /// Send the start WRQ; raise `sendStart`.
    pub fn start(&mut self) -> Result<Vec<StreamAction>, DtError> {
        if self.started {
            return Err(DtError::InvalidState("stream already started"));
        }
        self.started = true;
        Ok(vec![
            StreamAction::Send(Message::Wrq(Box::new(self.wrq(true))).to_frame()),
            self.ev(DataStreamState::SendingStarted, None, 0),
        ])
    }

    fn check(&self) -> Result<(), DtError> {
        if !self.started || self.stopped {
            return Err(DtError::InvalidState("stream not active"));
        }
        Ok(())
    }

    /// Send a binary chunk (≤ 65456 bytes, non-empty).
    pub fn send_binary(&mut self, chunk: &[u8]) -> Result<Vec<StreamAction>, DtError> {
        self.check()?;
        if self.cfg.string {
            return Err(DtError::UnexpectedChunk("binary"));
        }
        if chunk.is_empty() {
            return Err(DtError::EmptyPayload);
        }
        if chunk.len() > BINARY_FILE_SIZE {
            return Err(DtError::ChunkTooLarge {
                len: chunk.len(),
                limit: BINARY_FILE_SIZE,
            });
        }
        Ok(vec![
            StreamAction::Send(OutFrame::Binary(chunk.to_vec())),
            self.ev(
                DataStreamState::Sent,
                Some(StreamChunk::Binary(chunk.into())),
                chunk.len() as u64,
            ),
        ])
    }

    /// Send a string chunk (≤ 1212 UTF-16 units, non-empty, not misread by JS receivers).
    pub fn send_text(&mut self, chunk: &str) -> Result<Vec<StreamAction>, DtError> {
        self.check()?;
        if !self.cfg.string {
            return Err(DtError::UnexpectedChunk("string"));
        }
        if chunk.is_empty() {
            return Err(DtError::EmptyPayload);
        }
        let n = utf16_len(chunk) as usize;
        if n > CHUNK_DATAURL_SIZE {
            return Err(DtError::ChunkTooLarge {
                len: n,
                limit: CHUNK_DATAURL_SIZE,
            });
        }
        if js_classify_text(chunk) != JsTextClass::Chunk {
            return Err(DtError::UnsafeStringChunk { offset: 0 });
        }
        Ok(vec![
            StreamAction::Send(OutFrame::Text(chunk.to_owned())),
            self.ev(
                DataStreamState::Sent,
                Some(StreamChunk::Text(chunk.into())),
                n as u64,
            ),
        ])
    }

    /// Send the stop WRQ; raise `sendStop`; close the channel.
    pub fn stop(&mut self) -> Result<Vec<StreamAction>, DtError> {
        self.check()?;
        self.stopped = true;
        Ok(vec![
            StreamAction::Send(Message::Wrq(Box::new(self.wrq(false))).to_frame()),
            self.ev(DataStreamState::SendingStopped, None, 0),
            StreamAction::CloseChannel,
        ])
    }
}

/// Stream id of a received start WRQ (§5.4): the DATA channel label; on the messaging channel
/// the WRQ `transferId`, else `stream_<peerId>_<epoch ms>`.
pub fn receiver_stream_id(
    channel: ChannelKind,
    label: &str,
    wrq: &Wrq,
    peer_id: &str,
    epoch_ms: u64,
) -> String {
    match (channel, &wrq.transfer_id) {
        (ChannelKind::Data, _) => label.to_owned(),
        (ChannelKind::Messaging, Some(t)) if !t.is_empty() => t.clone(),
        _ => format!("stream_{peer_id}_{epoch_ms}"),
    }
}

/// Stream receiver (§5.4).
#[derive(Debug, Clone)]
pub struct DataStreamReceiver {
    stream_id: String,
    sender: String,
    string: bool,
    is_private: bool,
    stopped: bool,
}

impl DataStreamReceiver {
    /// Create from a `fastBinaryStart` WRQ; raises `receiveStart`.
    pub fn new(
        stream_id: &str,
        peer_id: &str,
        wrq: &Wrq,
    ) -> Result<(Self, Vec<StreamAction>), DtError> {
        if wrq.kind() != WrqKind::StreamStart {
            return Err(DtError::WrongWrqKind("not a stream start"));
        }
        let r = DataStreamReceiver {
            stream_id: stream_id.into(),
            sender: wrq
                .sender
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| peer_id.into()),
            string: wrq.chunk_type.as_deref() == Some("string"),
            is_private: wrq.is_private.unwrap_or(false),
            stopped: false,
        };
        let a = r.ev(DataStreamState::ReceivingStarted, None, 0);
        Ok((r, vec![a]))
    }

    /// String stream?
    pub fn is_string_stream(&self) -> bool {
        self.string
    }

    /// Stopped?
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    fn ev(&self, state: DataStreamState, chunk: Option<StreamChunk>, size: u64) -> StreamAction {
        StreamAction::Event(StreamEvent {
            state,
            stream_id: self.stream_id.clone(),
            peer_id: self.sender.clone(),
            info: StreamInfo {
                chunk_size: size,
                is_private: self.is_private,
                is_string_stream: self.string,
                sender_peer_id: self.sender.clone(),
            },
            chunk,
        })
    }

    /// A chunk on the stream's channel: delivered as `received` when its kind matches the
    /// stream, otherwise ignored (empty result).
    pub fn handle_chunk(&mut self, chunk: Chunk<'_>) -> Vec<StreamAction> {
        if self.stopped {
            return Vec::new();
        }
        match (chunk, self.string) {
            (Chunk::Binary(b), false) => vec![self.ev(
                DataStreamState::Received,
                Some(StreamChunk::Binary(b.into())),
                b.len() as u64,
            )],
            (Chunk::Text(t), true) => vec![self.ev(
                DataStreamState::Received,
                Some(StreamChunk::Text(t.into())),
                utf16_len(t),
            )],
            _ => Vec::new(),
        }
    }

    /// A WRQ on the stream's channel: `fastBinaryStop` ends the stream (`receiveStop`, close).
    pub fn handle_wrq(&mut self, wrq: &Wrq) -> Vec<StreamAction> {
        if self.stopped || wrq.kind() != WrqKind::StreamStop {
            return Vec::new();
        }
        self.stopped = true;
        vec![
            self.ev(DataStreamState::ReceivingStopped, None, 0),
            StreamAction::CloseChannel,
        ]
    }
}
