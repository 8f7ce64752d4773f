//! Chunk sources: blob payloads that are read chunk by chunk instead of being held in memory.
//!
//! An [`Upload`](crate::transfer::Upload) of a [`Payload::Source`](crate::transfer::Payload)
//! asks its [`ChunkSource`] for the bytes of one chunk at a time, when that chunk is about to
//! be sent (and again when a resumed transfer re-sends it). The trait is synchronous and
//! positional (`read_at`), which keeps this crate free of any runtime: the engine implements it
//! for files with a positioned read (`pread`), where one 64 KiB read costs microseconds. The
//! bytes are never kept by the session beyond the frame being built, so an upload's memory
//! does not grow with the payload size.
//!
//! The skylink-rs extension ([`crate::ext`]) checks a digest (XXH3-128) of the whole payload.
//! An upload hashes the chunks it reads anyway and sends the digest before the last chunk; a
//! source whose digest is already known ([`SharedSource::with_digest`], or
//! [`SharedSource::digest_hex`] computed by one streaming pass of 1 MiB reads and cached) has
//! it announced in the WRQ.
//!
//! ```
//! use skylink_dt::source::{ChunkSource, SharedSource};
//! let s = SharedSource::new(b"hello world".to_vec());
//! let mut buf = [0u8; 5];
//! s.read_at(6, &mut buf).unwrap();
//! assert_eq!(&buf, b"world");
//! assert_eq!(s.len(), 11);
//! assert_eq!(s.digest_hex().unwrap(), skylink_dt::ext::digest_hex(b"hello world"));
//! ```

use std::io;
use std::sync::{Arc, OnceLock};

/// Random-access bytes of known length (a file, a memory map, a buffer).
///
/// Implementations must return the same bytes for the same range for as long as the transfer
/// runs (a file changing under a transfer fails its checksum between skylink-rs peers).
pub trait ChunkSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// True when the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fill `buf` with the bytes at `offset..offset + buf.len()`. A range past the end is an
    /// error ([`io::ErrorKind::UnexpectedEof`]).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl ChunkSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        slice_read_at(self, offset, buf)
    }
}

impl ChunkSource for Arc<[u8]> {
    fn len(&self) -> u64 {
        self.as_ref().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        slice_read_at(self, offset, buf)
    }
}

fn slice_read_at(data: &[u8], offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let start = usize::try_from(offset).map_err(|_| eof())?;
    let end = start.checked_add(buf.len()).ok_or_else(eof)?;
    let src = data.get(start..end).ok_or_else(eof)?;
    buf.copy_from_slice(src);
    Ok(())
}

fn eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "read past the end of the source",
    )
}

/// Block size of the checksum pass.
const HASH_BLOCK: usize = 1 << 20;

/// A shared, cheaply cloned [`ChunkSource`] with its cached whole-payload digest.
///
/// Two `SharedSource`s are equal when they are clones of the same source.
#[derive(Clone)]
pub struct SharedSource {
    inner: Arc<dyn ChunkSource>,
    digest: Arc<OnceLock<String>>,
}

impl SharedSource {
    /// Wrap a source.
    pub fn new(source: impl ChunkSource + 'static) -> SharedSource {
        SharedSource {
            inner: Arc::new(source),
            digest: Arc::new(OnceLock::new()),
        }
    }

    /// Wrap a source whose lower-case hex digest ([`crate::ext::digest_hex`]) is already known (e.g. computed while the
    /// bytes were spooled to it), so [`SharedSource::digest_hex`] does not read it again. The
    /// caller vouches for the checksum: a wrong one fails the transfer at a skylink-rs
    /// receiver.
    pub fn with_digest(source: impl ChunkSource + 'static, digest_hex: String) -> SharedSource {
        SharedSource {
            inner: Arc::new(source),
            digest: Arc::new(OnceLock::from(digest_hex)),
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// The whole-payload digest if it is already known (given to
    /// [`SharedSource::with_digest`] or computed by [`SharedSource::digest_hex`]); never reads
    /// the source.
    pub fn known_digest(&self) -> Option<String> {
        self.digest.get().cloned()
    }

    /// True when the source holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// See [`ChunkSource::read_at`].
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_at(offset, buf)
    }

    /// The bytes at `offset..offset + len` in a new buffer.
    pub fn read_vec(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut v = vec![0; len];
        self.inner.read_at(offset, &mut v)?;
        Ok(v)
    }

    /// Lower-case hex digest ([`crate::ext::digest_hex`]) of the whole source: one
    /// streaming pass the first time, cached.
    pub fn digest_hex(&self) -> io::Result<String> {
        if let Some(s) = self.digest.get() {
            return Ok(s.clone());
        }
        let len = self.len();
        let mut h = crate::ext::Digester::new();
        let mut buf = vec![0u8; HASH_BLOCK];
        let mut off = 0u64;
        while off < len {
            let n = (len - off).min(HASH_BLOCK as u64) as usize;
            self.inner.read_at(off, &mut buf[..n])?;
            h.update(&buf[..n]);
            off += n as u64;
        }
        let hex = h.hex();
        Ok(self.digest.get_or_init(|| hex).clone())
    }
}

impl std::fmt::Debug for SharedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSource")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for SharedSource {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for SharedSource {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_past_end_is_an_error() {
        let s = SharedSource::new(vec![1u8, 2, 3]);
        let mut b = [0u8; 2];
        assert!(s.read_at(2, &mut b).is_err());
        assert!(s.read_at(u64::MAX, &mut b).is_err());
        s.read_at(1, &mut b).unwrap();
        assert_eq!(b, [2, 3]);
    }

    #[test]
    fn digest_over_several_blocks_matches_one_shot() {
        let data: Vec<u8> = (0..(HASH_BLOCK * 2 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let want = crate::ext::digest_hex(&data);
        let s = SharedSource::new(data);
        assert_eq!(s.digest_hex().unwrap(), want);
        assert_eq!(s.clone().digest_hex().unwrap(), want);
        assert_eq!(s, s.clone());
        assert_ne!(s, SharedSource::new(vec![1u8]));
    }
}
