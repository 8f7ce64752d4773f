//! Chunk codecs and size accounting (§2.5).
//!
//! ```
//! use skylink_dt::chunk::*;
//! assert_eq!(base64_wire_len(49_152), 65_536);
//! let plan = ChunkPlan::blob(100_000, ChunkEncoding::Base64, Flavor::Chromium);
//! assert_eq!(plan.len(), 3);
//! assert_eq!(plan.wire_size(), 133_336);
//! let (bytes, units) = decode_base64_chunk("YW Jj\n").unwrap();
//! assert_eq!((bytes.as_slice(), units), (&b"abc"[..], 4));
//! ```

use crate::error::{DecodeError, DtError};
use crate::message::{JsTextClass, js_classify_text};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::ops::Range;

/// `_CHUNK_FILE_SIZE`: raw bytes per base64 chunk (non-Firefox uploader).
pub const CHUNK_FILE_SIZE: usize = 49_152;
/// `_MOZ_CHUNK_FILE_SIZE`: raw bytes per base64 chunk (Firefox uploader).
pub const MOZ_CHUNK_FILE_SIZE: usize = 12_288;
/// `_BINARY_FILE_SIZE`: bytes per binary chunk (non-Firefox uploader).
pub const BINARY_FILE_SIZE: usize = 65_456;
/// `_MOZ_BINARY_FILE_SIZE`: bytes per binary chunk (Firefox uploader).
pub const MOZ_BINARY_FILE_SIZE: usize = 16_384;
/// `_CHUNK_DATAURL_SIZE`: UTF-16 units per string chunk (0.6.18+).
pub const CHUNK_DATAURL_SIZE: usize = 1_212;
/// String chunk size used by JS 0.6.16/17.
pub const CHUNK_DATAURL_SIZE_0_6_16: usize = 49_152;

/// How chunks are put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkEncoding {
    /// Standard padded base64 in text frames (blob transfers).
    Base64,
    /// Raw bytes in binary frames (blob transfers).
    Binary,
    /// Raw text in text frames (string / data URL transfers).
    String,
}

/// Whose chunk sizes the uploader uses (the uploader's own browser decides, §2.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Chromium and every non-Firefox uploader (ours by default).
    Chromium,
    /// Firefox uploader sizes (12288 raw / 16384 base64, 16384 binary).
    Firefox,
}

impl Flavor {
    /// Raw (unencoded) chunk size for an encoding, in bytes or UTF-16 units.
    pub fn raw_chunk(self, enc: ChunkEncoding) -> usize {
        match (enc, self) {
            (ChunkEncoding::Base64, Flavor::Chromium) => CHUNK_FILE_SIZE,
            (ChunkEncoding::Base64, Flavor::Firefox) => MOZ_CHUNK_FILE_SIZE,
            (ChunkEncoding::Binary, Flavor::Chromium) => BINARY_FILE_SIZE,
            (ChunkEncoding::Binary, Flavor::Firefox) => MOZ_BINARY_FILE_SIZE,
            (ChunkEncoding::String, _) => CHUNK_DATAURL_SIZE,
        }
    }
}

/// Base64 wire size `4·ceil(n/3)`.
pub const fn base64_wire_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// Number of UTF-16 code units of a string (JS `.length`).
pub fn utf16_len(s: &str) -> u64 {
    s.chars().map(|c| c.len_utf16() as u64).sum()
}

/// The JS `_chunkBlobData` slicing, including its off-by-one bug (§2.5.3): when
/// `n = k·c + 1` the last unit is dropped. For diagnostics and tests only.
pub fn js_chunk_ranges(n: usize, c: usize) -> Vec<Range<usize>> {
    if c == 0 {
        return Vec::new();
    }
    if n <= c {
        return std::iter::once(0..n).collect();
    }
    let mut out = Vec::new();
    let mut end = 0usize;
    while end < n - 1 {
        let start = end;
        end = (start + c).min(n);
        out.push(start..end);
    }
    out
}

/// Correct slicing of `n` units into chunks of `c` (last one shorter).
pub fn chunk_ranges(n: usize, c: usize) -> impl Iterator<Item = Range<usize>> {
    let c = c.max(1);
    (0..n.div_ceil(c)).map(move |i| i * c..((i + 1) * c).min(n))
}

fn engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_encode_padding(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Encode one base64 chunk so that a JS receiver uses it as data (§2.1): when the plain
/// base64 text would parse as JSON (`1234`, `true`, `1e99`, …) a space is inserted after the
/// first character. JS 0.6.16+ receivers strip whitespace before decoding and before counting
/// wire units, so the size accounting is unchanged; our decoder does the same.
pub fn encode_base64_chunk(bytes: &[u8]) -> String {
    let mut s = engine().encode(bytes);
    if js_classify_text(&s) != JsTextClass::Chunk && s.len() > 1 {
        s.insert(1, ' ');
    }
    s
}

/// Decode a base64 text chunk: ASCII whitespace removed, padding optional (browser `atob`
/// rules). Returns the bytes and the wire units (text length after whitespace removal).
pub fn decode_base64_chunk(text: &str) -> Result<(Vec<u8>, u64), DecodeError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let units = decode_base64_chunk_into(text, &mut out)?;
    Ok((out, units))
}

fn is_b64_ws(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Like [`decode_base64_chunk`], appending the bytes to `out` (unchanged on error).
pub fn decode_base64_chunk_into(text: &str, out: &mut Vec<u8>) -> Result<u64, DecodeError> {
    let raw = text.as_bytes();
    let clean: std::borrow::Cow<'_, [u8]> = if raw.iter().any(is_b64_ws) {
        raw.iter()
            .copied()
            .filter(|b| !is_b64_ws(b))
            .collect::<Vec<u8>>()
            .into()
    } else {
        raw.into()
    };
    let before = out.len();
    engine().decode_vec(&clean, out).map_err(|e| {
        out.truncate(before);
        DecodeError::Base64(e.to_string())
    })?;
    Ok(clean.len() as u64)
}

/// The chunk layout of one upload: ranges into the payload (bytes, or UTF-16-safe byte
/// ranges of a `str`), WRQ `size`/`chunkSize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkPlan {
    encoding: ChunkEncoding,
    ranges: Vec<Range<usize>>,
    wire_size: u64,
    chunk_size: u64,
}

impl ChunkPlan {
    /// Plan a blob of `n` bytes (all bytes are sent; no JS off-by-one).
    pub fn blob(n: usize, encoding: ChunkEncoding, flavor: Flavor) -> ChunkPlan {
        let enc = if encoding == ChunkEncoding::String {
            ChunkEncoding::Base64
        } else {
            encoding
        };
        let raw = flavor.raw_chunk(enc);
        let (wire_size, chunk_size) = match enc {
            ChunkEncoding::Base64 => (base64_wire_len(n as u64), base64_wire_len(raw as u64)),
            _ => (n as u64, raw as u64),
        };
        ChunkPlan {
            encoding: enc,
            ranges: chunk_ranges(n, raw).collect(),
            wire_size,
            chunk_size,
        }
    }

    /// Plan a string transfer with chunks of at most `max_units` UTF-16 code units. Surrogate
    /// pairs are never split, and no chunk is one a JS receiver would swallow (§2.1); when a
    /// chunk cannot be made safe, [`DtError::UnsafeStringChunk`].
    pub fn string(s: &str, max_units: usize) -> Result<ChunkPlan, DtError> {
        let max_units = max_units.max(2);
        let mut ranges = Vec::new();
        let mut start = 0usize;
        let mut start_units = 0usize;
        while start < s.len() {
            // the longest run of whole chars with at most `max_units` UTF-16 units
            let mut units = 0usize;
            let mut end = start;
            for (i, c) in s[start..].char_indices() {
                let u = c.len_utf16();
                if units + u > max_units {
                    break;
                }
                units += u;
                end = start + i + c.len_utf8();
            }
            // make it safe for JS receivers (§2.1)
            let mut tries = 0;
            loop {
                let text = &s[start..end];
                let unsafe_chunk = || DtError::UnsafeStringChunk {
                    offset: start_units,
                };
                match js_classify_text(text) {
                    JsTextClass::Chunk => break,
                    JsTextClass::ChannelError if text.contains('{') => {
                        // cut just before the first '}' (ASCII, so a char boundary; index > 0)
                        match text.find('}') {
                            Some(cut) if cut > 0 => end = start + cut,
                            _ => return Err(unsafe_chunk()),
                        }
                    }
                    _ => match text.char_indices().next_back() {
                        Some((i, _)) if i > 0 => end = start + i,
                        _ => return Err(unsafe_chunk()),
                    },
                }
                tries += 1;
                if tries > 16 || end <= start {
                    return Err(unsafe_chunk());
                }
            }
            start_units += utf16_len(&s[start..end]) as usize;
            ranges.push(start..end);
            start = end;
        }
        Ok(ChunkPlan {
            encoding: ChunkEncoding::String,
            ranges,
            wire_size: start_units as u64,
            chunk_size: max_units as u64,
        })
    }

    /// Chunk encoding.
    pub fn encoding(&self) -> ChunkEncoding {
        self.encoding
    }

    /// Number of chunks K.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when there are no chunks (empty payload).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// WRQ `size` (wire units).
    pub fn wire_size(&self) -> u64 {
        self.wire_size
    }

    /// WRQ `chunkSize` (wire units).
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// Byte range of chunk `i` within the payload.
    pub fn range(&self, i: usize) -> Option<Range<usize>> {
        self.ranges.get(i).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv14_sizes_and_js_chunking() {
        for (n, w) in [
            (1, 4),
            (2, 4),
            (3, 4),
            (4, 8),
            (49152, 65536),
            (49153, 65540),
            (100000, 133336),
        ] {
            assert_eq!(base64_wire_len(n), w);
        }
        let lens = |n, c| {
            js_chunk_ranges(n, c)
                .iter()
                .map(|r| r.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(lens(3, 49152), vec![3]);
        assert_eq!(lens(100000, 49152), vec![49152, 49152, 1696]);
        assert_eq!(lens(100000, 65456), vec![65456, 34544]);
        assert_eq!(js_chunk_ranges(100000, 12288).len(), 9);
        assert_eq!(lens(49153, 49152), vec![49152]);
        assert_eq!(lens(98305, 49152), vec![49152, 49152]);
        assert_eq!(lens(65457, 65456), vec![65456]);
        assert_eq!(lens(12289, 12288), vec![12288]);
        // ours never loses the last byte
        let p = ChunkPlan::blob(49153, ChunkEncoding::Base64, Flavor::Chromium);
        assert_eq!(p.len(), 2);
        assert_eq!(p.wire_size(), 65540);
    }

    #[test]
    fn json_looking_chunks_are_escaped() {
        let b = decode_base64_chunk("1234").unwrap().0;
        let enc = encode_base64_chunk(&b);
        assert_eq!(enc, "1 234");
        assert_eq!(js_classify_text(&enc), JsTextClass::Chunk);
        assert_eq!(decode_base64_chunk(&enc).unwrap(), (b, 4));
        let t = decode_base64_chunk("true").unwrap().0;
        assert_eq!(encode_base64_chunk(&t), "t rue");
    }

    #[test]
    fn firefox_sizes() {
        let p = ChunkPlan::blob(30000, ChunkEncoding::Base64, Flavor::Firefox);
        assert_eq!((p.wire_size(), p.chunk_size(), p.len()), (40000, 16384, 3));
        let p = ChunkPlan::blob(30000, ChunkEncoding::Binary, Flavor::Firefox);
        assert_eq!((p.wire_size(), p.chunk_size(), p.len()), (30000, 16384, 2));
    }

    #[test]
    fn string_plans() {
        let s = "data:text/plain;base64,YWJj";
        let p = ChunkPlan::string(s, 1212).unwrap();
        assert_eq!((p.len(), p.wire_size()), (1, 27));
        // surrogate pairs are not split
        let s = "a😀b";
        let p = ChunkPlan::string(s, 2).unwrap();
        let parts: Vec<&str> = (0..p.len()).map(|i| &s[p.range(i).unwrap()]).collect();
        assert_eq!(parts, vec!["a", "😀", "b"]);
        assert_eq!(p.wire_size(), 4);
        // braces are split so that JS never sees `{` with a later `}`
        let s = "x{a:1}y";
        let p = ChunkPlan::string(s, 1212).unwrap();
        for i in 0..p.len() {
            assert_eq!(
                js_classify_text(&s[p.range(i).unwrap()]),
                JsTextClass::Chunk
            );
        }
        assert!(ChunkPlan::string("1234", 1212).is_err());
    }
}
