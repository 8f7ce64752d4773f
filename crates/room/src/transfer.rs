//! `skylink-dt` events as the reference's events (`incomingDataRequest`, `dataTransferState`,
//! `incomingData`, `dataStreamState`, `incomingDataStream*`), with `transferInfo` and
//! `streamInfo` named as in the API reference.

use serde_json::{Value, json};
use skylink_dt::stream::{DataStreamState, StreamChunk, StreamEvent, StreamInfo};
use skylink_dt::transfer::{Event as DtEvent, EventError, Payload, TransferInfo};

use crate::event::{Event, TransferData};
use crate::session::Session;

/// `transferInfo` (data-transfer.md §3.10) without the payload.
pub fn transfer_info_json(i: &TransferInfo) -> Value {
    json!({
        "name": i.name,
        "size": i.size,
        "dataType": i.data_type.as_str(),
        "mimeType": i.mime_type,
        "chunkSize": i.chunk_size,
        "chunkType": i.chunk_type.as_str(),
        "timeout": i.timeout,
        "isPrivate": i.is_private,
        "direction": i.direction.as_str(),
        "percentage": i.percentage,
    })
}

fn error_json(e: &EventError) -> Value {
    json!({"message": e.message, "transferType": e.transfer_type.as_str()})
}

fn payload_data(p: Payload) -> TransferData {
    match p {
        Payload::Blob { data, .. } => TransferData::Bytes(data),
        Payload::Text(t) => TransferData::Text(t),
        Payload::Source { source, .. } => TransferData::Source(source),
    }
}

/// A file as a [`ChunkSource`](skylink_dt::source::ChunkSource): each chunk is read with a
/// positioned read when it is sent, so an upload from disk never holds the file in memory
/// (see [`Client::send_blob_file`](crate::Client::send_blob_file)). The length is fixed when
/// the file is opened; a file that shrinks under a transfer fails it with a read error.
#[derive(Debug)]
pub struct FileSource {
    file: std::sync::Mutex<std::fs::File>,
    len: u64,
}

impl FileSource {
    /// Open `path` for reading.
    ///
    /// # Errors
    /// The I/O error of opening or inspecting the file.
    pub fn open(path: impl AsRef<std::path::Path>) -> std::io::Result<FileSource> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource {
            file: std::sync::Mutex::new(file),
            len,
        })
    }
}

impl skylink_dt::source::ChunkSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        if offset.saturating_add(buf.len() as u64) > self.len {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("file lock poisoned"))?;
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&*file, buf, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = &*file;
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(buf)
        }
    }
}

/// One transfer event.
pub fn transfer_event(e: DtEvent) -> Event {
    match e {
        DtEvent::IncomingDataRequest {
            transfer_id,
            peer_id,
            info,
            is_self,
        } => Event::IncomingDataRequest {
            transfer_id,
            peer_id,
            transfer_info: transfer_info_json(&info),
            is_self,
        },
        DtEvent::DataTransferState {
            state,
            transfer_id,
            peer_id,
            info,
            error,
            ..
        } => Event::DataTransferState {
            state: state.as_str().to_owned(),
            transfer_id,
            peer_id,
            transfer_info: transfer_info_json(&info),
            error: error.as_ref().map(error_json),
        },
        DtEvent::IncomingData {
            data,
            transfer_id,
            peer_id,
            info,
            is_self,
        } => Event::IncomingData {
            data: payload_data(data),
            transfer_id,
            peer_id,
            transfer_info: transfer_info_json(&info),
            is_self,
        },
    }
}

/// `streamInfo` without the chunk.
pub fn stream_info_json(i: &StreamInfo) -> Value {
    json!({
        "chunkSize": i.chunk_size,
        "isPrivate": i.is_private,
        "isStringStream": i.is_string_stream,
        "senderPeerId": i.sender_peer_id,
    })
}

/// A stream event: `dataStreamState`, plus `incomingDataStreamStarted` / `incomingDataStream` /
/// `incomingDataStreamStopped` where the state calls for one.
pub fn stream_events(s: &Session, e: StreamEvent) -> Vec<Event> {
    let info = stream_info_json(&e.info);
    let own = s.self_id().unwrap_or_default();
    let is_self = e.info.sender_peer_id == own;
    let sender = e.info.sender_peer_id.clone();
    let mut out = vec![Event::DataStreamState {
        state: e.state.as_str().to_owned(),
        stream_id: e.stream_id.clone(),
        peer_id: e.peer_id.clone(),
        stream_info: info.clone(),
        error: None,
    }];
    match e.state {
        DataStreamState::SendingStarted | DataStreamState::ReceivingStarted => {
            out.push(Event::IncomingDataStreamStarted {
                stream_id: e.stream_id,
                peer_id: sender,
                stream_info: info,
                is_self,
            });
        }
        DataStreamState::Sent | DataStreamState::Received => {
            if let Some(c) = e.chunk {
                out.push(Event::IncomingDataStream {
                    chunk: match c {
                        StreamChunk::Binary(b) => TransferData::Bytes(b),
                        StreamChunk::Text(t) => TransferData::Text(t),
                    },
                    stream_id: e.stream_id,
                    peer_id: sender,
                    stream_info: info,
                    is_self,
                });
            }
        }
        DataStreamState::SendingStopped | DataStreamState::ReceivingStopped => {
            out.push(Event::IncomingDataStreamStopped {
                stream_id: e.stream_id,
                peer_id: sender,
                stream_info: info,
                is_self,
            });
        }
        _ => {}
    }
    out
}
