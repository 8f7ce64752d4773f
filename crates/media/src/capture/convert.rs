//! Pixel-format conversion to I420 (BT.601 coefficients, video range 16–235 / 16–240), the
//! layout every [`VideoFrame`](crate::VideoFrame) carries.
//!
//! Integer fixed-point (coefficients scaled by 256) keeps the loops branch-free so the compiler
//! can vectorise them; chroma is the average of each 2×2 block, which is what libyuv does too.

use crate::error::MediaError;

/// Where R, G and B sit inside one 4-byte pixel of a packed 32-bit image.
///
/// X11 reports this through the visual's colour masks and the server's image byte order; the
/// common case (little-endian, 24-bit TrueColor) is [`Rgb32Layout::BGRX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb32Layout {
    pub(crate) r: usize,
    pub(crate) g: usize,
    pub(crate) b: usize,
}

impl Rgb32Layout {
    /// Bytes `B, G, R, X` in memory (X11 `0xRRGGBB` masks, LSB-first server).
    pub(crate) const BGRX: Rgb32Layout = Rgb32Layout { r: 2, g: 1, b: 0 };
    /// Bytes `X, R, G, B` (the same masks on an MSB-first server).
    pub(crate) const XRGB: Rgb32Layout = Rgb32Layout { r: 1, g: 2, b: 3 };
    /// Bytes `R, G, B, X` (`0xBBGGRR` masks, LSB-first).
    pub(crate) const RGBX: Rgb32Layout = Rgb32Layout { r: 0, g: 1, b: 2 };
    /// Bytes `X, B, G, R` (`0xBBGGRR` masks, MSB-first).
    pub(crate) const XBGR: Rgb32Layout = Rgb32Layout { r: 3, g: 2, b: 1 };
}

#[inline(always)]
fn luma(r: i32, g: i32, b: i32) -> u8 {
    // Inputs are 0..=255 so the result is 16..=235 and the cast cannot truncate.
    (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
}

/// U and V from the *sums* of a 2×2 block (hence the extra `>> 2` folded into `>> 10`).
#[inline(always)]
fn chroma(r4: i32, g4: i32, b4: i32) -> (u8, u8) {
    let u = ((-38 * r4 - 74 * g4 + 112 * b4 + 512) >> 10) + 128;
    let v = ((112 * r4 - 94 * g4 - 18 * b4 + 512) >> 10) + 128;
    (u as u8, v as u8)
}

/// Checks the geometry shared by every converter and returns `(width, height)` as `usize`.
fn check_geometry(
    src_len: usize,
    stride: usize,
    bytes_per_pixel: usize,
    width: u32,
    height: u32,
    out_len: usize,
) -> Result<(usize, usize), MediaError> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || !w.is_multiple_of(2) || !h.is_multiple_of(2) {
        return Err(MediaError::InvalidSettings(format!(
            "I420 needs even, non-zero dimensions, got {width}x{height}"
        )));
    }
    let row = w * bytes_per_pixel;
    if stride < row || src_len < stride * (h - 1) + row {
        return Err(MediaError::InvalidSettings(format!(
            "source image of {src_len} bytes (stride {stride}) is too small for {width}x{height}"
        )));
    }
    let need = crate::VideoFrame::i420_len(width, height);
    if out_len != need {
        return Err(MediaError::InvalidSettings(format!(
            "I420 buffer is {out_len} bytes, {width}x{height} needs {need}"
        )));
    }
    Ok((w, h))
}

/// Converts a packed 32-bit BGRA/BGRX image (bytes `B, G, R, A|X` per pixel — what an X server
/// with 24/32-bit TrueColor on a little-endian machine returns) to I420.
///
/// `stride` is the byte distance between rows of `src`; `width` and `height` must be even and
/// `out` exactly [`VideoFrame::i420_len`](crate::VideoFrame::i420_len) bytes. The alpha/pad byte
/// is ignored.
///
/// ```
/// use skylink_media::capture::convert::bgra_to_i420;
/// // 2x2 white pixels.
/// let src = [255u8; 16];
/// let mut out = vec![0u8; 6];
/// bgra_to_i420(&src, 8, 2, 2, &mut out).unwrap();
/// assert_eq!(out, [235, 235, 235, 235, 128, 128]);
/// ```
pub fn bgra_to_i420(
    src: &[u8],
    stride: usize,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<(), MediaError> {
    rgb32_to_i420(Rgb32Layout::BGRX, src, stride, width, height, out)
}

/// [`bgra_to_i420`] for any byte placement of R, G and B.
pub(crate) fn rgb32_to_i420(
    layout: Rgb32Layout,
    src: &[u8],
    stride: usize,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<(), MediaError> {
    let (w, h) = check_geometry(src.len(), stride, 4, width, height, out.len())?;
    // Constant offsets let the inner loop compile to fixed loads; one instance per layout.
    match layout {
        Rgb32Layout::BGRX => packed32::<2, 1, 0>(src, stride, w, h, out),
        Rgb32Layout::XRGB => packed32::<1, 2, 3>(src, stride, w, h, out),
        Rgb32Layout::RGBX => packed32::<0, 1, 2>(src, stride, w, h, out),
        Rgb32Layout::XBGR => packed32::<3, 2, 1>(src, stride, w, h, out),
        other => {
            return Err(MediaError::InvalidSettings(format!(
                "unsupported 32-bit pixel layout {other:?}"
            )));
        }
    }
    Ok(())
}

fn packed32<const R: usize, const G: usize, const B: usize>(
    src: &[u8],
    stride: usize,
    w: usize,
    h: usize,
    out: &mut [u8],
) {
    let cw = w / 2;
    let (y_plane, chroma_planes) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma_planes.split_at_mut(cw * (h / 2));
    let rows = y_plane
        .chunks_exact_mut(2 * w)
        .zip(u_plane.chunks_exact_mut(cw))
        .zip(v_plane.chunks_exact_mut(cw))
        .enumerate();
    for (pair, ((y_rows, u_row), v_row)) in rows {
        let top = &src[2 * pair * stride..][..w * 4];
        let bottom = &src[(2 * pair + 1) * stride..][..w * 4];
        let (y_top, y_bottom) = y_rows.split_at_mut(w);
        let blocks = top
            .chunks_exact(8)
            .zip(bottom.chunks_exact(8))
            .zip(y_top.chunks_exact_mut(2).zip(y_bottom.chunks_exact_mut(2)))
            .zip(u_row.iter_mut().zip(v_row.iter_mut()));
        for (((t, b), (yt, yb)), (u, v)) in blocks {
            let px = |p: &[u8], i: usize| {
                (
                    i32::from(p[i + R]),
                    i32::from(p[i + G]),
                    i32::from(p[i + B]),
                )
            };
            let (r0, g0, b0) = px(t, 0);
            let (r1, g1, b1) = px(t, 4);
            let (r2, g2, b2) = px(b, 0);
            let (r3, g3, b3) = px(b, 4);
            yt[0] = luma(r0, g0, b0);
            yt[1] = luma(r1, g1, b1);
            yb[0] = luma(r2, g2, b2);
            yb[1] = luma(r3, g3, b3);
            (*u, *v) = chroma(r0 + r1 + r2 + r3, g0 + g1 + g2 + g3, b0 + b1 + b2 + b3);
        }
    }
}

/// Converts packed YUYV 4:2:2 (bytes `Y0, U, Y1, V` per two pixels — the format every UVC
/// webcam offers uncompressed) to I420 by averaging the chroma of each pair of rows.
///
/// `stride` is the byte distance between rows (at least `2 * width`); `width` and `height`
/// must be even and `out` exactly [`VideoFrame::i420_len`](crate::VideoFrame::i420_len) bytes.
///
/// ```
/// use skylink_media::capture::convert::yuyv_to_i420;
/// let src = [16, 100, 235, 200, 16, 110, 235, 210];
/// let mut out = vec![0u8; 6];
/// yuyv_to_i420(&src, 4, 2, 2, &mut out).unwrap();
/// assert_eq!(out, [16, 235, 16, 235, 105, 205]);
/// ```
pub fn yuyv_to_i420(
    src: &[u8],
    stride: usize,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<(), MediaError> {
    let (w, h) = check_geometry(src.len(), stride, 2, width, height, out.len())?;
    let cw = w / 2;
    let (y_plane, chroma_planes) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma_planes.split_at_mut(cw * (h / 2));
    let rows = y_plane
        .chunks_exact_mut(2 * w)
        .zip(u_plane.chunks_exact_mut(cw))
        .zip(v_plane.chunks_exact_mut(cw))
        .enumerate();
    for (pair, ((y_rows, u_row), v_row)) in rows {
        let top = &src[2 * pair * stride..][..w * 2];
        let bottom = &src[(2 * pair + 1) * stride..][..w * 2];
        let (y_top, y_bottom) = y_rows.split_at_mut(w);
        let blocks = top
            .chunks_exact(4)
            .zip(bottom.chunks_exact(4))
            .zip(y_top.chunks_exact_mut(2).zip(y_bottom.chunks_exact_mut(2)))
            .zip(u_row.iter_mut().zip(v_row.iter_mut()));
        for (((t, b), (yt, yb)), (u, v)) in blocks {
            yt[0] = t[0];
            yt[1] = t[2];
            yb[0] = b[0];
            yb[1] = b[2];
            *u = (u16::from(t[1]) + u16::from(b[1])).div_ceil(2) as u8;
            *v = (u16::from(t[3]) + u16::from(b[3])).div_ceil(2) as u8;
        }
    }
    Ok(())
}

/// Nearest-neighbour resize of a packed 32-bit image into a tightly packed `dst_w`×`dst_h` one.
///
/// Screen content is mostly flat colour and text, where a box filter's blur costs more
/// legibility than nearest sampling's aliasing; it is also cheap enough for every frame.
pub(crate) fn scale_rgb32_nearest(
    src: &[u8],
    stride: usize,
    src_w: usize,
    src_h: usize,
    dst: &mut Vec<u8>,
    dst_w: usize,
    dst_h: usize,
) {
    dst.clear();
    dst.reserve(dst_w * dst_h * 4);
    let columns: Vec<usize> = (0..dst_w).map(|x| (x * src_w / dst_w) * 4).collect();
    for y in 0..dst_h {
        let row = &src[(y * src_h / dst_h) * stride..];
        for &c in &columns {
            dst.extend_from_slice(&row[c..c + 4]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w`×`h` BGRX image of one colour.
    fn solid_bgrx(w: usize, h: usize, (r, g, b): (u8, u8, u8)) -> Vec<u8> {
        [b, g, r, 0xff].repeat(w * h)
    }

    fn convert(rgb: (u8, u8, u8)) -> (u8, u8, u8) {
        let (w, h) = (8usize, 6usize);
        let src = solid_bgrx(w, h, rgb);
        let mut out = vec![0; crate::VideoFrame::i420_len(w as u32, h as u32)];
        bgra_to_i420(&src, w * 4, w as u32, h as u32, &mut out).unwrap();
        let (y, u, v) = (out[0], out[w * h], out[w * h + w * h / 4]);
        assert!(out[..w * h].iter().all(|&p| p == y));
        assert!(out[w * h..w * h + w * h / 4].iter().all(|&p| p == u));
        assert!(out[w * h + w * h / 4..].iter().all(|&p| p == v));
        (y, u, v)
    }

    fn assert_near(got: (u8, u8, u8), want: (u8, u8, u8)) {
        let close = |a: u8, b: u8| a.abs_diff(b) <= 2;
        assert!(
            close(got.0, want.0) && close(got.1, want.1) && close(got.2, want.2),
            "got YUV {got:?}, want {want:?} ±2"
        );
    }

    #[test]
    fn known_colours_match_bt601_video_range() {
        assert_eq!(convert((255, 255, 255)), (235, 128, 128));
        assert_eq!(convert((0, 0, 0)), (16, 128, 128));
        // Reference values from ITU-R BT.601 (studio swing), as tabulated for colour bars.
        assert_near(convert((255, 0, 0)), (82, 90, 240));
        assert_near(convert((0, 255, 0)), (145, 54, 34));
        assert_near(convert((0, 0, 255)), (41, 240, 110));
    }

    #[test]
    fn layouts_agree_and_stride_padding_is_skipped() {
        let (w, h, stride) = (4usize, 2usize, 4 * 4 + 8);
        let colours = [
            (10u8, 200u8, 30u8),
            (250, 5, 128),
            (0, 0, 0),
            (255, 255, 255),
        ];
        let pixel = |l: Rgb32Layout, (r, g, b): (u8, u8, u8)| {
            let mut p = [0x55u8; 4];
            (p[l.r], p[l.g], p[l.b]) = (r, g, b);
            p
        };
        let mut expected = None;
        for layout in [
            Rgb32Layout::BGRX,
            Rgb32Layout::XRGB,
            Rgb32Layout::RGBX,
            Rgb32Layout::XBGR,
        ] {
            let mut src = vec![0xAAu8; stride * h];
            for y in 0..h {
                for x in 0..w {
                    let c = colours[(x + y) % colours.len()];
                    src[y * stride + x * 4..][..4].copy_from_slice(&pixel(layout, c));
                }
            }
            let mut out = vec![0; crate::VideoFrame::i420_len(w as u32, h as u32)];
            rgb32_to_i420(layout, &src, stride, w as u32, h as u32, &mut out).unwrap();
            match &expected {
                None => expected = Some(out),
                Some(e) => assert_eq!(&out, e, "{layout:?}"),
            }
        }
    }

    #[test]
    fn odd_or_short_input_is_an_error_not_a_panic() {
        let mut out = vec![0; 6];
        assert!(bgra_to_i420(&[0; 12], 4, 1, 3, &mut out).is_err());
        assert!(bgra_to_i420(&[0; 15], 8, 2, 2, &mut out).is_err());
        assert!(bgra_to_i420(&[0; 16], 8, 2, 2, &mut [0; 5]).is_err());
        assert!(yuyv_to_i420(&[0; 7], 4, 2, 2, &mut out).is_err());
    }

    #[test]
    fn yuyv_keeps_luma_and_averages_chroma_vertically() {
        // 4x2: two YUYV macropixels per row.
        let src = [
            10, 100, 20, 150, 30, 110, 40, 160, //
            50, 102, 60, 153, 70, 111, 80, 161,
        ];
        let mut out = vec![0; 12];
        yuyv_to_i420(&src, 8, 4, 2, &mut out).unwrap();
        assert_eq!(&out[..8], &[10, 20, 30, 40, 50, 60, 70, 80]);
        assert_eq!(&out[8..10], &[101, 111]);
        assert_eq!(&out[10..12], &[152, 161]);
    }

    #[test]
    fn nearest_scaling_halves_and_picks_top_left_samples() {
        let (w, h) = (4usize, 2usize);
        let src: Vec<u8> = (0..(w * h) as u8).flat_map(|i| [i; 4]).collect();
        let mut dst = Vec::new();
        scale_rgb32_nearest(&src, w * 4, w, h, &mut dst, 2, 1);
        assert_eq!(dst, [0, 0, 0, 0, 2, 2, 2, 2]);
    }

    #[test]
    fn full_hd_conversion_micro_check() {
        // Not a benchmark, a guard against pathological regressions (per-pixel allocation,
        // bounds checks in the inner loop): 1080p takes ~5 ms optimised and ~100 ms in an
        // unoptimised test build; the bound leaves room for a loaded CI machine.
        let (w, h) = (1920usize, 1080usize);
        let src = solid_bgrx(w, h, (12, 34, 56));
        let mut out = vec![0; crate::VideoFrame::i420_len(w as u32, h as u32)];
        let start = std::time::Instant::now();
        bgra_to_i420(&src, w * 4, w as u32, h as u32, &mut out).unwrap();
        let took = start.elapsed();
        assert!(
            took < std::time::Duration::from_secs(1),
            "1080p took {took:?}"
        );
    }
}
