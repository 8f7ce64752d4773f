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
        Payload::Stored { len, path, .. } => TransferData::File {
            path: path.unwrap_or_default(),
            size: len,
        },
    }
}

/// A download written straight to disk (see
/// [`Client::accept_data_transfer_to_file`](crate::Client::accept_data_transfer_to_file)):
/// each chunk is written with a positioned write as it arrives, so receiving a large file
/// costs no more memory than one chunk.
///
/// The bytes go to a temporary sibling of the destination, `.<name>.part` (or
/// `.<name>.<n>.part` when that is taken; created exclusively), which is renamed to the
/// destination when the transfer completes and checks out, so a half-written file never
/// appears under the final name. An existing file at the destination is replaced at that
/// moment. A download that is cancelled, rejected, fails, times out — or whose sink is
/// dropped unfinished (the peer left) — deletes the temporary file.
#[derive(Debug)]
pub struct FileSink {
    file: std::fs::File,
    part: std::path::PathBuf,
    dest: std::path::PathBuf,
    done: bool,
}

impl FileSink {
    /// Create the temporary file for a download to `dest` (whose directory must exist).
    ///
    /// # Errors
    /// The I/O error of creating it; [`std::io::ErrorKind::InvalidInput`] when `dest` has no
    /// file name.
    pub fn create(dest: impl Into<std::path::PathBuf>) -> std::io::Result<FileSink> {
        let dest: std::path::PathBuf = dest.into();
        let name = dest.file_name().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{}: not a file path", dest.display()),
            )
        })?;
        let name = name.to_string_lossy();
        let dir = dest.parent().unwrap_or(std::path::Path::new(""));
        for n in 0..1000u32 {
            let part = if n == 0 {
                dir.join(format!(".{name}.part"))
            } else {
                dir.join(format!(".{name}.{n}.part"))
            };
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&part)
            {
                Ok(file) => {
                    return Ok(FileSink {
                        file,
                        part,
                        dest,
                        done: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("no free temporary name for {}", dest.display()),
        ))
    }

    /// The temporary file the bytes are written to until completion.
    pub fn part_path(&self) -> &std::path::Path {
        &self.part
    }

    /// The final path.
    pub fn dest_path(&self) -> &std::path::Path {
        &self.dest
    }

    fn discard(&mut self) {
        if !self.done {
            self.done = true;
            if let Err(e) = std::fs::remove_file(&self.part) {
                tracing::warn!(path = %self.part.display(), error = %e, "removing a partial download");
            }
        }
    }
}

impl skylink_dt::sink::ChunkSink for FileSink {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        // positioned: a resumed transfer re-writing a range overwrites it in place
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::write_all_at(&self.file, data, offset)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom, Write};
            self.file.seek(SeekFrom::Start(offset))?;
            self.file.write_all(data)
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        std::io::Write::flush(&mut self.file)?;
        std::fs::rename(&self.part, &self.dest)?;
        self.done = true;
        Ok(())
    }

    fn abort(&mut self) {
        self.discard();
    }

    fn path(&self) -> Option<&std::path::Path> {
        Some(&self.dest)
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        self.discard();
    }
}

impl FileSource {
    /// A source over an already open file (its current length).
    ///
    /// # Errors
    /// The I/O error of inspecting the file.
    pub fn from_file(file: std::fs::File) -> std::io::Result<FileSource> {
        let len = file.metadata()?.len();
        Ok(FileSource {
            file: std::sync::Mutex::new(file),
            len,
        })
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

/// Size of the copy buffer of [`spool_reader`].
const SPOOL_BLOCK: usize = 256 << 10;

/// Copies `reader` (exactly `len` bytes) into an anonymous temporary file while hashing it,
/// and returns that file as a [`SharedSource`](skylink_dt::source::SharedSource) with its
/// digest already known (see [`Client::send_blob_reader`](crate::Client::send_blob_reader)).
///
/// # Errors
/// [`RoomError::ReaderLength`](crate::RoomError::ReaderLength) when the reader holds fewer or
/// more bytes than `len`; [`RoomError::Peer`](crate::RoomError::Peer) for I/O errors.
pub async fn spool_reader<R>(
    mut reader: R,
    len: u64,
) -> Result<skylink_dt::source::SharedSource, crate::RoomError>
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let io_err = |what: &str, e: std::io::Error| crate::RoomError::Peer(format!("{what}: {e}"));
    let std_file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|e| crate::RoomError::Peer(format!("temporary file task: {e}")))?
        .map_err(|e| io_err("creating a temporary file", e))?;
    let mut file = tokio::fs::File::from_std(
        std_file
            .try_clone()
            .map_err(|e| io_err("temporary file", e))?,
    );
    let mut hash = skylink_dt::ext::Digester::new();
    let mut buf = vec![0u8; SPOOL_BLOCK];
    let mut read = 0u64;
    loop {
        // one byte more than what is left: a reader longer than `len` is seen at once
        let want = (len - read).saturating_add(1).min(SPOOL_BLOCK as u64) as usize;
        let n = reader
            .read(&mut buf[..want])
            .await
            .map_err(|e| io_err("reading the payload", e))?;
        if n == 0 {
            break;
        }
        read += n as u64;
        if read > len {
            return Err(crate::RoomError::ReaderLength {
                expected: len,
                read,
            });
        }
        hash.update(&buf[..n]);
        file.write_all(&buf[..n])
            .await
            .map_err(|e| io_err("spooling the payload", e))?;
    }
    if read < len {
        return Err(crate::RoomError::ReaderLength {
            expected: len,
            read,
        });
    }
    file.flush()
        .await
        .map_err(|e| io_err("spooling the payload", e))?;
    drop(file);
    let source = FileSource::from_file(std_file).map_err(|e| io_err("temporary file", e))?;
    Ok(skylink_dt::source::SharedSource::with_digest(
        source,
        hash.hex(),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use skylink_dt::sink::ChunkSink;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("skylink-sink-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    fn names(d: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn file_sink_rewrites_in_place_and_renames_on_finish() {
        let d = dir("finish");
        let dest = d.join("a.bin");
        let mut s = FileSink::create(&dest).expect("create");
        assert_eq!(s.part_path(), d.join(".a.bin.part"));
        // a second download to the same destination gets its own temporary file
        let other = FileSink::create(&dest).expect("create");
        assert_eq!(other.part_path(), d.join(".a.bin.1.part"));
        drop(other);
        s.write_at(0, b"hello ").expect("write");
        s.write_at(6, b"world").expect("write");
        s.write_at(6, b"world").expect("re-write"); // a resumed range
        s.write_at(0, b"hello ").expect("re-write");
        assert_eq!(names(&d), vec![".a.bin.part"]);
        s.finish().expect("finish");
        assert_eq!(s.path(), Some(dest.as_path()));
        drop(s);
        assert_eq!(names(&d), vec!["a.bin"]);
        assert_eq!(std::fs::read(&dest).expect("read"), b"hello world");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn file_sink_abort_or_drop_deletes_the_partial_file() {
        let d = dir("abort");
        let mut s = FileSink::create(d.join("x")).expect("create");
        s.write_at(0, b"partial").expect("write");
        s.abort();
        assert!(names(&d).is_empty());
        drop(s);
        let mut s = FileSink::create(d.join("y")).expect("create");
        s.write_at(0, b"partial").expect("write");
        drop(s);
        assert!(names(&d).is_empty());
        assert!(FileSink::create(d.join("missing/z")).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn spool_reader_checks_the_length_and_hashes() {
        let data: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        let src = spool_reader(std::io::Cursor::new(data.clone()), data.len() as u64)
            .await
            .expect("spool");
        assert_eq!(src.len(), data.len() as u64);
        assert_eq!(
            src.digest_hex().expect("digest"),
            skylink_dt::ext::digest_hex(&data)
        );
        assert_eq!(src.read_vec(699_990, 10).expect("read"), data[699_990..]);
        let e = spool_reader(std::io::Cursor::new(data.clone()), 700_001)
            .await
            .unwrap_err();
        assert_eq!(
            e,
            crate::RoomError::ReaderLength {
                expected: 700_001,
                read: 700_000
            }
        );
        let e = spool_reader(std::io::Cursor::new(data), 5)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                crate::RoomError::ReaderLength {
                    expected: 5,
                    read: 6
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "the reader holds more bytes (announced 5 bytes)"
        );
    }
}
