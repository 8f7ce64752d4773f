//! A machine-readable frame number drawn into the picture.
//!
//! 32 bits of frame number plus a 16-bit CRC are drawn as 48 large black or white cells in
//! two rows across a band near the bottom of the frame. Every position is a fraction of the
//! frame size, so the code reads back after any scaling, and cells are large enough to
//! survive VP8 at low bitrate. A reader samples only the middle of each cell (edges ring
//! after compression), rejects cells that are neither clearly dark nor clearly light, and
//! rejects any code whose CRC does not match — so a damaged code reads as `None`, not as a
//! wrong number.

use crate::frame::VideoFrame;

const COLUMNS: usize = 24;
const ROWS: usize = 2;
const DATA_BITS: usize = 32;
const CHECK_BITS: usize = 16;

/// The band, as fractions of the frame: left, right, top, bottom.
const LEFT: f64 = 0.02;
const RIGHT: f64 = 0.98;
/// Top of the code band; the pattern above it ends here.
pub(crate) const TOP: f64 = 0.80;
const BOTTOM: f64 = 0.96;

const BLACK: u8 = 16;
const WHITE: u8 = 235;
/// Cells whose mean luma falls within this distance of the midpoint are unreadable.
const AMBIGUOUS: f64 = 24.0;

/// CRC-16/CCITT-FALSE: an all-black band (a muted track) has no valid code.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn code_bits(number: u32) -> u64 {
    (u64::from(number) << CHECK_BITS) | u64::from(crc16(&number.to_be_bytes()))
}

/// Pixel rectangle `[x0, x1) × [y0, y1)` of cell `bit` in a `width`×`height` frame.
fn cell(bit: usize, width: usize, height: usize) -> (usize, usize, usize, usize) {
    let (row, col) = (bit / COLUMNS, bit % COLUMNS);
    let fx =
        |c: usize| ((LEFT + (RIGHT - LEFT) * c as f64 / COLUMNS as f64) * width as f64) as usize;
    let fy = |r: usize| ((TOP + (BOTTOM - TOP) * r as f64 / ROWS as f64) * height as f64) as usize;
    (fx(col), fx(col + 1), fy(row), fy(row + 1))
}

/// Draws `number` as a code band into the luma plane and greys its chroma.
pub(crate) fn embed(frame: &mut VideoFrame, number: u32) {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let bits = code_bits(number);
    for bit in 0..ROWS * COLUMNS {
        let value = (bits >> (DATA_BITS + CHECK_BITS - 1 - bit)) & 1;
        let luma = if value == 1 { WHITE } else { BLACK };
        let (x0, x1, y0, y1) = cell(bit, w, h);
        for y in y0..y1.min(h) {
            frame.data[y * w + x0..y * w + x1.min(w)].fill(luma);
        }
    }
    // Neutral chroma under the whole band so colour never bleeds into the cells' luma.
    let (cw, ch) = (w / 2, h / 2);
    let (x0, _, y0, _) = cell(0, w, h);
    let (_, x1, _, y1) = cell(ROWS * COLUMNS - 1, w, h);
    for plane in 0..2 {
        let base = w * h + plane * cw * ch;
        for y in y0 / 2..y1.div_ceil(2).min(ch) {
            frame.data[base + y * cw + x0 / 2..base + y * cw + x1.div_ceil(2).min(cw)].fill(128);
        }
    }
}

/// Reads the frame number drawn by [`embed`], or `None` when it is absent or damaged.
pub(crate) fn read(frame: &VideoFrame) -> Option<u32> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    if w < COLUMNS * 2 || h < 16 || frame.data.len() < w * h {
        return None;
    }
    let luma = &frame.data[..w * h];
    let mut bits: u64 = 0;
    for bit in 0..ROWS * COLUMNS {
        let (x0, x1, y0, y1) = cell(bit, w, h);
        // The middle half of the cell each way.
        let (mx0, mx1) = (x0 + (x1 - x0) / 4, x1 - (x1 - x0) / 4);
        let (my0, my1) = (y0 + (y1 - y0) / 4, y1 - (y1 - y0) / 4);
        if mx1 <= mx0 || my1 <= my0 || my1 > h || mx1 > w {
            return None;
        }
        let mut sum: u64 = 0;
        for y in my0..my1 {
            sum += luma[y * w + mx0..y * w + mx1]
                .iter()
                .map(|&v| u64::from(v))
                .sum::<u64>();
        }
        let mean = sum as f64 / ((mx1 - mx0) * (my1 - my0)) as f64;
        let midpoint = (f64::from(BLACK) + f64::from(WHITE)) / 2.0;
        if (mean - midpoint).abs() < AMBIGUOUS {
            return None;
        }
        bits = (bits << 1) | u64::from(mean > midpoint);
    }
    let number = (bits >> CHECK_BITS) as u32;
    (code_bits(number) == bits).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_many_sizes() {
        for (w, h) in [(640, 480), (160, 120), (1280, 720), (322, 178)] {
            for number in [0u32, 1, 29, 0xdead_beef, u32::MAX] {
                let mut frame = VideoFrame::black(w, h, 0);
                embed(&mut frame, number);
                assert_eq!(read(&frame), Some(number), "{w}x{h} #{number}");
            }
        }
    }

    #[test]
    fn black_and_grey_frames_have_no_code() {
        assert_eq!(read(&VideoFrame::black(640, 480, 0)), None);
        let mut grey = VideoFrame::black(640, 480, 0);
        grey.data.fill(128);
        assert_eq!(read(&grey), None);
    }

    #[test]
    fn a_flipped_cell_is_rejected() {
        let mut frame = VideoFrame::black(640, 480, 0);
        embed(&mut frame, 12345);
        let (x0, x1, y0, y1) = cell(40, 640, 480);
        let old = frame.data[y0 * 640 + x0];
        let flipped = if old == WHITE { BLACK } else { WHITE };
        for y in y0..y1 {
            frame.data[y * 640 + x0..y * 640 + x1].fill(flipped);
        }
        assert_eq!(read(&frame), None);
    }
}
