//! Chunk sinks: where a [`Download`](crate::transfer::Download) writes the bytes it receives,
//! the receiving mirror of [`ChunkSource`](crate::source::ChunkSource).
//!
//! By default a blob download is assembled in memory and the completion events carry the
//! bytes. A download accepted with [`Download::accept_into`](crate::transfer::Download::accept_into)
//! writes each chunk through to a [`ChunkSink`] as it arrives instead (the engine implements
//! it for a file with positioned writes), so receiving a large payload costs no more memory
//! than one chunk. The completion events then carry a
//! [`Payload::Stored`](crate::transfer::Payload::Stored) (length, MIME type, the sink's
//! [`path`](ChunkSink::path)) instead of the bytes.
//!
//! The trait is synchronous and positional (`write_at`), which keeps this crate free of any
//! runtime. Writes arrive in order (chunk `n` at the sum of the lengths of chunks `0..n`),
//! but a sink must accept a range being written again: a resumed transfer (skylink-rs
//! extension, [`crate::ext`]) continues at the chunk the downloader ACKs, and future versions
//! may re-send a chunk whose write was not acknowledged. The whole-payload SHA-1 of the
//! extension is computed by the download from the chunks themselves, never by reading the
//! sink back.
//!
//! A sink sees exactly one of [`ChunkSink::finish`] (the last chunk arrived and checked out)
//! or [`ChunkSink::abort`] (cancelled, rejected, failed, or the channel closed without a
//! resume); a sink dropped without either (the session was discarded) should clean up as
//! for `abort`.
//!
//! ```
//! use skylink_dt::sink::ChunkSink;
//! let mut v: Vec<u8> = Vec::new();
//! v.write_at(0, b"hello ").unwrap();
//! v.write_at(6, b"world").unwrap();
//! v.write_at(6, b"world").unwrap(); // a re-written range
//! v.finish().unwrap();
//! assert_eq!(v, b"hello world");
//! ```

use std::io;
use std::path::Path;

/// Random-access destination of a download's bytes (a file, a buffer).
pub trait ChunkSink: Send + Sync {
    /// Write `data` at `offset`, growing the destination as needed. Writing a range again
    /// overwrites it with the same bytes.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;

    /// All bytes were written and verified: make them durable / visible (e.g. rename a
    /// temporary file to its final name). An error fails the transfer.
    fn finish(&mut self) -> io::Result<()>;

    /// The download ended without completing: discard what was written (e.g. delete a
    /// partial file). Errors are the sink's to log; the transfer already failed.
    fn abort(&mut self) {}

    /// Where the bytes end up, when the sink is a file: reported in the completion
    /// events ([`Payload::Stored`](crate::transfer::Payload::Stored)).
    fn path(&self) -> Option<&Path> {
        None
    }
}

impl ChunkSink for Vec<u8> {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| too_far())?;
        let end = start.checked_add(data.len()).ok_or_else(too_far)?;
        if self.len() < end {
            self.resize(end, 0);
        }
        self[start..end].copy_from_slice(data);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn abort(&mut self) {
        self.clear();
        self.shrink_to_fit();
    }
}

fn too_far() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "offset out of range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vec_sink_grows_and_overwrites() {
        let mut v = Vec::new();
        v.write_at(3, b"def").unwrap();
        assert_eq!(v, b"\0\0\0def");
        v.write_at(0, b"abc").unwrap();
        v.write_at(3, b"de").unwrap();
        assert_eq!(v, b"abcdef");
        assert!(v.write_at(u64::MAX, b"x").is_err());
        v.abort();
        assert!(v.is_empty());
    }
}
