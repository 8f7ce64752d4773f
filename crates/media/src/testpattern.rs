//! A synthetic camera: moving colour bars carrying their own frame number.
//!
//! Each frame shows 75 % colour bars with a dark block sliding across them (so consecutive
//! frames differ and the encoder has motion to code), the frame number in digits for people,
//! and the same number as a machine-readable code band (see [`read_frame_number`]) for tests
//! on the far side of an encoder, a network and a browser.
//!
//! The code band, for readers written elsewhere (a browser page reading a `<canvas>`): all
//! positions are fractions of the frame, so any scaling reads the same. The band spans
//! x = 2 %–98 % and y = 80 %–96 %, split into 2 rows × 24 equal cells, read row by row, left to
//! right, most significant bit first. The 48 bits are the frame number modulo 2³² (32 bits)
//! followed by CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) of
//! the number's four big-endian bytes. A cell is luma 235 for 1 and 16 for 0; readers average
//! the middle half of each cell (each way), take > 125.5 as 1, reject a cell within 24 of
//! that midpoint, and reject the code when the CRC does not match.

use std::time::{Duration, Instant};

use crate::digits;
use crate::error::MediaError;
use crate::frame::VideoFrame;
use crate::frame_code;
use crate::pacer::Pacer;
use crate::source::VideoSource;

/// Bars of SMPTE-style 75 % colour bars as (Y, U, V): white, yellow, cyan, green, magenta,
/// red, blue.
const BARS: [(u8, u8, u8); 7] = [
    (180, 128, 128),
    (162, 44, 142),
    (131, 156, 44),
    (112, 72, 58),
    (84, 184, 198),
    (65, 100, 212),
    (35, 212, 114),
];
/// Bottom of the bars and top of the digit strip, as a fraction of the height.
const BARS_BOTTOM: f64 = 0.68;
/// The sliding block spans this vertical range.
const BLOCK_TOP: f64 = 0.22;
const BLOCK_BOTTOM: f64 = 0.46;
/// The block crosses the frame once every this many seconds.
const BLOCK_PERIOD_SECS: f64 = 2.0;

/// Reads the frame number embedded by [`TestPattern`] from a (possibly decoded, scaled,
/// compressed) frame. `None` when there is no intact code — never a wrong number except with
/// the ~1/65 536 chance of a 16-bit check collision. Numbers are embedded modulo 2³².
///
/// ```
/// use skylink_media::{VideoSource, testpattern::{TestPattern, read_frame_number}};
///
/// let mut pattern = TestPattern::unpaced(320, 240, 30.0)?;
/// let frame = pattern.next_frame()?;
/// assert_eq!(read_frame_number(&frame), Some(0));
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub fn read_frame_number(frame: &VideoFrame) -> Option<u64> {
    frame_code::read(frame).map(u64::from)
}

/// A [`VideoSource`] generating the test pattern, paced in real time unless built with
/// [`TestPattern::unpaced`].
#[derive(Debug, Clone)]
pub struct TestPattern {
    width: u32,
    height: u32,
    fps: f64,
    next_index: u64,
    background: Vec<u8>,
    pacer: Pacer,
}

impl Default for TestPattern {
    /// 640×480 at 30 fps, paced.
    fn default() -> TestPattern {
        TestPattern::build(640, 480, 30.0, Pacer::real_time())
    }
}

impl TestPattern {
    /// A paced pattern of `width`×`height` (even, non-zero) at `fps` frames per second.
    pub fn new(width: u32, height: u32, fps: f64) -> Result<TestPattern, MediaError> {
        Self::validate(width, height, fps)?;
        Ok(TestPattern::build(width, height, fps, Pacer::real_time()))
    }

    /// Like [`TestPattern::new`] but `next_frame` never waits (benchmarks, content tests).
    pub fn unpaced(width: u32, height: u32, fps: f64) -> Result<TestPattern, MediaError> {
        Self::validate(width, height, fps)?;
        Ok(TestPattern::build(width, height, fps, Pacer::unpaced()))
    }

    fn validate(width: u32, height: u32, fps: f64) -> Result<(), MediaError> {
        if width == 0
            || height == 0
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
            || width > 8192
            || height > 8192
        {
            return Err(MediaError::InvalidSettings(format!(
                "test pattern needs an even resolution up to 8192x8192, got {width}x{height}"
            )));
        }
        if !(fps.is_finite() && fps > 0.0 && fps <= 240.0) {
            return Err(MediaError::InvalidSettings(format!(
                "frame rate {fps} out of range"
            )));
        }
        Ok(())
    }

    fn build(width: u32, height: u32, fps: f64, pacer: Pacer) -> TestPattern {
        TestPattern {
            width,
            height,
            fps,
            next_index: 0,
            background: draw_background(width, height),
            pacer,
        }
    }

    /// The frame with number `index`, without pacing or advancing the source.
    pub fn render(&self, index: u64) -> VideoFrame {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut frame = VideoFrame {
            width: self.width,
            height: self.height,
            data: self.background.clone(),
            index,
            captured_at: Instant::now(),
        };

        let period = (BLOCK_PERIOD_SECS * self.fps).round().max(1.0) as u64;
        let block_w = (h / 5).clamp(1, w);
        let travel = (w - block_w) as f64;
        let x0 = ((index % period) as f64 / period as f64 * travel) as usize;
        let (y0, y1) = (frac(h, BLOCK_TOP), frac(h, BLOCK_BOTTOM));
        fill(&mut frame, (x0, x0 + block_w), (y0, y1), (16, 128, 128));

        let strip_top = frac(h, BARS_BOTTOM);
        let scale = ((frac(h, frame_code::TOP) - strip_top) / 7).max(1);
        digits::draw_number(
            &mut frame.data[..w * h],
            w,
            scale * 2,
            strip_top + scale,
            scale,
            index,
            235,
        );

        frame_code::embed(&mut frame, index as u32);
        frame
    }
}

impl VideoSource for TestPattern {
    fn resolution(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn frame_rate(&self) -> f64 {
        self.fps
    }

    fn next_frame(&mut self) -> Result<VideoFrame, MediaError> {
        let index = self.next_index;
        self.next_index += 1;
        self.pacer
            .wait_until(Duration::from_secs_f64(index as f64 / self.fps));
        Ok(self.render(index))
    }
}

fn frac(size: usize, fraction: f64) -> usize {
    ((size as f64 * fraction) as usize).min(size)
}

/// Fills `[x0, x1) × [y0, y1)` (clipped) with one colour, chroma included.
fn fill(
    frame: &mut VideoFrame,
    (x0, x1): (usize, usize),
    (y0, y1): (usize, usize),
    (y, u, v): (u8, u8, u8),
) {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (x1, y1) = (x1.min(w), y1.min(h));
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    for row in y0..y1 {
        frame.data[row * w + x0..row * w + x1].fill(y);
    }
    let (cw, ch) = (w / 2, h / 2);
    let (cx0, cx1) = (x0 / 2, x1.div_ceil(2).min(cw));
    for (plane, value) in [(0, u), (1, v)] {
        let base = w * h + plane * cw * ch;
        for row in y0 / 2..y1.div_ceil(2).min(ch) {
            frame.data[base + row * cw + cx0..base + row * cw + cx1].fill(value);
        }
    }
}

/// Everything that does not move: bars, the dark digit strip, the grey bottom.
fn draw_background(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut frame = VideoFrame::black(width, height, 0);
    let bars_bottom = frac(h, BARS_BOTTOM);
    for (i, &colour) in BARS.iter().enumerate() {
        let x0 = w * i / BARS.len();
        let x1 = w * (i + 1) / BARS.len();
        fill(&mut frame, (x0, x1), (0, bars_bottom), colour);
    }
    fill(
        &mut frame,
        (0, w),
        (frac(h, frame_code::TOP), h),
        (128, 128, 128),
    );
    frame.data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_number_and_differ() {
        let mut pattern = TestPattern::unpaced(640, 480, 30.0).expect("pattern");
        let a = pattern.next_frame().expect("frame");
        let b = pattern.next_frame().expect("frame");
        assert_eq!((a.index, b.index), (0, 1));
        assert_eq!(read_frame_number(&a), Some(0));
        assert_eq!(read_frame_number(&b), Some(1));
        assert_ne!(a.data, b.data);
        assert!(a.mean_luma() > 60.0, "mean luma {}", a.mean_luma());
    }

    #[test]
    fn odd_or_zero_sizes_are_rejected_and_tiny_ones_work() {
        assert!(TestPattern::new(641, 480, 30.0).is_err());
        assert!(TestPattern::new(0, 480, 30.0).is_err());
        assert!(TestPattern::new(640, 480, f64::NAN).is_err());
        let tiny = TestPattern::unpaced(2, 2, 30.0).expect("tiny");
        assert_eq!(tiny.render(12345).data.len(), 6);
    }
}
