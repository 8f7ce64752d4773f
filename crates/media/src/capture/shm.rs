//! A MIT-SHM segment backed by a memfd: the X server writes screen grabs straight into our
//! memory instead of streaming megabytes per frame through the socket.
//!
//! A memfd passed with `ShmAttachFd` (MIT-SHM 1.2) avoids System V `shmget` segments, which
//! leak when a process dies and are often capped by `kernel.shmmax` in containers.

use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// Our read-only mapping of the segment; the X server holds its own writable one.
#[derive(Debug)]
pub(crate) struct ShmSegment {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone and only read through `&self`; moving it to
// another thread moves that ownership.
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    /// Creates a `len`-byte segment; returns the mapping and the descriptor to hand the server.
    pub(crate) fn new(len: usize) -> io::Result<(ShmSegment, OwnedFd)> {
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty segment"));
        }
        // SAFETY: a valid NUL-terminated name and flags; the result is checked before use.
        let raw = unsafe { libc::memfd_create(c"skylink-screen".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let file = File::from(fd);
        file.set_len(len as u64)?;
        // SAFETY: mapping a descriptor we own with a length it now has; checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        // The mapping stays valid after the descriptor is handed over (and closed) by x11rb.
        Ok((ShmSegment { ptr, len }, OwnedFd::from(file)))
    }

    /// The segment's contents. Only read between a completed `ShmGetImage` reply and the next
    /// request, when the server is not writing.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region mapped in `new`, once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};

    #[test]
    fn writes_through_the_descriptor_show_in_the_mapping() {
        let (segment, fd) = ShmSegment::new(4096).unwrap();
        let mut file = File::from(fd);
        file.seek(SeekFrom::Start(100)).unwrap();
        file.write_all(b"pixels").unwrap();
        assert_eq!(&segment.bytes()[100..106], b"pixels");
        assert_eq!(segment.bytes().len(), 4096);
    }
}
