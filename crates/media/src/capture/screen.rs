//! Screen capture from an X11 display (`DISPLAY=:0`, Xvfb, Xwayland) over the pure-Rust x11rb
//! protocol client.
//!
//! Grabs go through MIT-SHM when the server offers version 1.2 (descriptor passing), which
//! saves a socket copy of every frame; otherwise — an old server, a TCP display, or the
//! extension disabled — through plain `GetImage`. The pixel layout is taken from the root
//! visual's colour masks and the server's byte order, then converted to I420.

use std::io;
use std::time::Instant;

use tracing::{debug, info, warn};
use x11rb::connection::Connection;
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    ConnectionExt as _, ImageFormat, ImageOrder, Screen, Setup, VisualClass, Window,
};
use x11rb::rust_connection::RustConnection;

use super::convert::{Rgb32Layout, rgb32_to_i420, scale_rgb32_nearest};
use super::pacer::Pacer;
use super::shm::ShmSegment;
use crate::error::MediaError;
use crate::frame::VideoFrame;
use crate::source::VideoSource;

/// A rectangle of the screen, in pixels from the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width (at least 2).
    pub width: u32,
    /// Height (at least 2).
    pub height: u32,
}

/// How to capture the screen. `ScreenOptions::default()` grabs all of `$DISPLAY` at 15 fps.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenOptions {
    /// X display name such as `":0"`; `None` reads `$DISPLAY`.
    pub display: Option<String>,
    /// Frames per second, paced in real time (default 15, at most 120).
    pub frame_rate: f64,
    /// Part of the screen to capture; `None` is the whole root window.
    pub region: Option<Region>,
    /// Scale frames to this size (rounded down to even numbers); `None` keeps the region's
    /// size, cropped by one pixel where it is odd, since I420 needs even dimensions.
    pub output_size: Option<(u32, u32)>,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        ScreenOptions {
            display: None,
            frame_rate: 15.0,
            region: None,
            output_size: None,
        }
    }
}

/// How frames get from the server to us.
enum Grab {
    /// The server writes into `segment`, registered as `seg`.
    Shm { seg: shm::Seg, segment: ShmSegment },
    /// Pixels arrive in the `GetImage` reply.
    GetImage,
}

/// A [`VideoSource`] capturing an X11 screen (`is_screen() == true`).
///
/// ```no_run
/// use skylink_media::VideoSource;
/// use skylink_media::capture::{Region, ScreenOptions, ScreenSource};
///
/// let mut source = ScreenSource::open(ScreenOptions {
///     display: Some(":0".into()),
///     region: Some(Region { x: 0, y: 0, width: 1280, height: 720 }),
///     output_size: Some((640, 360)),
///     ..ScreenOptions::default()
/// })?;
/// let frame = source.next_frame()?;
/// assert_eq!((frame.width, frame.height), (640, 360));
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct ScreenSource {
    conn: RustConnection,
    display: String,
    root: Window,
    region: Region,
    layout: Rgb32Layout,
    output: (u32, u32),
    frame_rate: f64,
    pacer: Pacer,
    grab: Grab,
    scaled: Vec<u8>,
    index: u64,
}

impl std::fmt::Debug for ScreenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenSource")
            .field("display", &self.display)
            .field("region", &self.region)
            .field("output", &self.output)
            .field("frame_rate", &self.frame_rate)
            .field("shm", &self.uses_shm())
            .finish_non_exhaustive()
    }
}

impl ScreenSource {
    /// Connects to the display and prepares capturing.
    ///
    /// Fails with [`MediaError::NoDevice`] when no display is set or it cannot be reached,
    /// and [`MediaError::InvalidSettings`] for a region outside the screen, a bad frame rate
    /// or output size, or a pixel format other than 32-bit TrueColor.
    pub fn open(options: ScreenOptions) -> Result<ScreenSource, MediaError> {
        let name = display_name(options.display.as_deref())?;
        if !(options.frame_rate.is_finite()
            && options.frame_rate > 0.0
            && options.frame_rate <= 120.0)
        {
            return Err(MediaError::InvalidSettings(format!(
                "screen frame rate must be in (0, 120], got {}",
                options.frame_rate
            )));
        }
        let (conn, screen_num) = x11rb::connect(Some(&name))
            .map_err(|e| MediaError::NoDevice(format!("X display {name}: {e}")))?;
        let setup = conn.setup();
        let screen = setup.roots.get(screen_num).ok_or_else(|| {
            MediaError::NoDevice(format!(
                "X display {name}: screen {screen_num} does not exist"
            ))
        })?;
        let layout = pixel_layout(setup, screen)
            .map_err(|why| MediaError::InvalidSettings(format!("X display {name}: {why}")))?;
        let (screen_w, screen_h) = (
            u32::from(screen.width_in_pixels),
            u32::from(screen.height_in_pixels),
        );
        let (region, output) = geometry(&options, screen_w, screen_h)?;
        let root = screen.root;
        let grab = match attach_shm(&conn, &region) {
            Ok(grab) => grab,
            Err(why) => {
                debug!(display = name.as_str(), %why, "MIT-SHM unavailable, capturing with GetImage");
                Grab::GetImage
            }
        };
        let mut source = ScreenSource {
            conn,
            display: name,
            root,
            region,
            layout,
            output,
            frame_rate: options.frame_rate,
            pacer: Pacer::new(options.frame_rate),
            grab,
            scaled: Vec::new(),
            index: 0,
        };
        // One grab up front, so a server that accepted the segment but cannot fill it is
        // noticed here (and dropped for GetImage) rather than failing every frame later.
        if source.uses_shm()
            && let Err(e) = source.grab_shm()
        {
            debug!(display = %source.display, error = %e, "MIT-SHM grab failed, using GetImage");
            source.detach_shm();
        }
        if !source.uses_shm() {
            source.grab_plain()?;
        }
        info!(
            display = %source.display,
            ?region,
            output = ?source.output,
            fps = source.frame_rate,
            shm = source.uses_shm(),
            ?layout,
            "screen capture ready"
        );
        Ok(source)
    }

    /// `true` when frames come through MIT-SHM, `false` for the `GetImage` fallback.
    pub fn uses_shm(&self) -> bool {
        matches!(self.grab, Grab::Shm { .. })
    }

    /// The captured part of the screen.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The display name in use (`":0"`).
    pub fn display(&self) -> &str {
        &self.display
    }

    fn grab_shm(&self) -> Result<(), MediaError> {
        let Grab::Shm { seg, .. } = &self.grab else {
            return Ok(());
        };
        let r = &self.region;
        self.conn
            .shm_get_image(
                self.root,
                r.x as i16,
                r.y as i16,
                r.width as u16,
                r.height as u16,
                !0,
                ImageFormat::Z_PIXMAP.into(),
                *seg,
                0,
            )
            .map_err(|e| self.connection_lost(e))?
            .reply()
            .map_err(|e| self.reply_error("ShmGetImage", e))?;
        Ok(())
    }

    fn grab_plain(&self) -> Result<Vec<u8>, MediaError> {
        let r = &self.region;
        let reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.root,
                r.x as i16,
                r.y as i16,
                r.width as u16,
                r.height as u16,
                !0,
            )
            .map_err(|e| self.connection_lost(e))?
            .reply()
            .map_err(|e| self.reply_error("GetImage", e))?;
        Ok(reply.data)
    }

    fn detach_shm(&mut self) {
        if let Grab::Shm { seg, .. } = std::mem::replace(&mut self.grab, Grab::GetImage) {
            // Best effort: the server frees the segment with our connection anyway.
            let _ = self.conn.shm_detach(seg);
            let _ = self.conn.flush();
        }
    }

    fn connection_lost(&self, e: ConnectionError) -> MediaError {
        warn!(display = %self.display, error = %e, "X connection lost, screen capture ends");
        MediaError::Ended
    }

    fn reply_error(&self, request: &str, e: ReplyError) -> MediaError {
        match e {
            ReplyError::ConnectionError(e) => self.connection_lost(e),
            // A screen shrunk under the region (RandR) is the usual cause: BadMatch.
            ReplyError::X11Error(x) => MediaError::Io(io::Error::other(format!(
                "X display {}: {request} of {:?} failed: {:?}",
                self.display, self.region, x.error_kind
            ))),
        }
    }
}

impl VideoSource for ScreenSource {
    fn resolution(&self) -> (u32, u32) {
        self.output
    }

    fn frame_rate(&self) -> f64 {
        self.frame_rate
    }

    fn next_frame(&mut self) -> Result<VideoFrame, MediaError> {
        self.pacer.wait();
        let owned;
        let src: &[u8] = if let Grab::Shm { segment, .. } = &self.grab {
            self.grab_shm()?;
            segment.bytes()
        } else {
            owned = self.grab_plain()?;
            &owned
        };
        let captured_at = Instant::now();
        let (region_w, region_h) = (self.region.width as usize, self.region.height as usize);
        let (out_w, out_h) = self.output;
        let mut data = vec![0u8; VideoFrame::i420_len(out_w, out_h)];
        if (out_w, out_h) == (self.region.width & !1, self.region.height & !1) {
            // Same size: convert in place, the odd last column/row (if any) is simply skipped.
            rgb32_to_i420(self.layout, src, region_w * 4, out_w, out_h, &mut data)?;
        } else {
            if src.len() < region_w * region_h * 4 {
                return Err(MediaError::Io(io::Error::other(format!(
                    "X display {}: image of {} bytes is short for {region_w}x{region_h}",
                    self.display,
                    src.len()
                ))));
            }
            let (w, h) = (out_w as usize, out_h as usize);
            scale_rgb32_nearest(
                src,
                region_w * 4,
                region_w,
                region_h,
                &mut self.scaled,
                w,
                h,
            );
            rgb32_to_i420(self.layout, &self.scaled, w * 4, out_w, out_h, &mut data)?;
        }
        let frame = VideoFrame {
            width: out_w,
            height: out_h,
            data,
            index: self.index,
            captured_at,
        };
        self.index += 1;
        Ok(frame)
    }

    fn is_screen(&self) -> bool {
        true
    }
}

impl Drop for ScreenSource {
    fn drop(&mut self) {
        self.detach_shm();
    }
}

/// The display to connect to: the one asked for, else `$DISPLAY`.
fn display_name(asked: Option<&str>) -> Result<String, MediaError> {
    match asked {
        Some(name) => Ok(name.to_owned()),
        None => match std::env::var("DISPLAY") {
            Ok(name) if !name.is_empty() => Ok(name),
            _ => Err(MediaError::NoDevice(
                "X display: $DISPLAY is not set".into(),
            )),
        },
    }
}

/// The screen region to grab and the (even) frame size to produce from it.
fn geometry(
    options: &ScreenOptions,
    screen_w: u32,
    screen_h: u32,
) -> Result<(Region, (u32, u32)), MediaError> {
    let region = options.region.unwrap_or(Region {
        x: 0,
        y: 0,
        width: screen_w,
        height: screen_h,
    });
    let inside = region.width >= 2
        && region.height >= 2
        && region
            .x
            .checked_add(region.width)
            .is_some_and(|r| r <= screen_w)
        && region
            .y
            .checked_add(region.height)
            .is_some_and(|b| b <= screen_h)
        // X coordinates are 16-bit signed.
        && region.x.max(region.y) <= i16::MAX as u32;
    if !inside {
        return Err(MediaError::InvalidSettings(format!(
            "capture region {region:?} is not inside the {screen_w}x{screen_h} screen"
        )));
    }
    let output = match options.output_size {
        Some((w, h)) => (w & !1, h & !1),
        None => (region.width & !1, region.height & !1),
    };
    if output.0 < 2 || output.1 < 2 || output.0 > 8192 || output.1 > 8192 {
        return Err(MediaError::InvalidSettings(format!(
            "screen output size {}x{} must be between 2x2 and 8192x8192",
            output.0, output.1
        )));
    }
    Ok((region, output))
}

/// Registers a shared segment large enough for `region` with the server.
fn attach_shm(conn: &RustConnection, region: &Region) -> Result<Grab, String> {
    let version = conn
        .shm_query_version()
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    // Descriptor passing (ShmAttachFd) arrived in MIT-SHM 1.2.
    if (version.major_version, version.minor_version) < (1, 2) {
        return Err(format!(
            "MIT-SHM {}.{} lacks descriptor passing",
            version.major_version, version.minor_version
        ));
    }
    let len = region.width as usize * region.height as usize * 4;
    let (segment, fd) = ShmSegment::new(len).map_err(|e| format!("shared memory: {e}"))?;
    let seg = conn.generate_id().map_err(|e| e.to_string())?;
    conn.shm_attach_fd(seg, fd, false)
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| e.to_string())?;
    Ok(Grab::Shm { seg, segment })
}

/// Where R, G and B live in the server's 32-bit pixels, or why we cannot read them.
fn pixel_layout(setup: &Setup, screen: &Screen) -> Result<Rgb32Layout, String> {
    let depth = screen.root_depth;
    let bits = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map(|f| f.bits_per_pixel);
    if bits != Some(32) {
        return Err(format!(
            "depth {depth} stores {bits:?} bits per pixel, only 32 is supported"
        ));
    }
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| &d.visuals)
        .find(|v| v.visual_id == screen.root_visual)
        .ok_or("the root visual is not listed among the screen's visuals")?;
    if visual.class != VisualClass::TRUE_COLOR && visual.class != VisualClass::DIRECT_COLOR {
        return Err(format!(
            "root visual class {:?} is not TrueColor",
            visual.class
        ));
    }
    // Index of the byte a mask covers in a little-endian u32, if it covers exactly one byte.
    let byte = |mask: u32| {
        let shift = mask.trailing_zeros();
        (shift.is_multiple_of(8) && 0xffu32.checked_shl(shift) == Some(mask))
            .then_some(shift as usize / 8)
    };
    let (Some(r), Some(g), Some(b)) = (
        byte(visual.red_mask),
        byte(visual.green_mask),
        byte(visual.blue_mask),
    ) else {
        return Err(format!(
            "colour masks {:#x}/{:#x}/{:#x} are not 8 bits each",
            visual.red_mask, visual.green_mask, visual.blue_mask
        ));
    };
    let in_memory = |i: usize| {
        if setup.image_byte_order == ImageOrder::MSB_FIRST {
            3 - i
        } else {
            i
        }
    };
    let layout = Rgb32Layout {
        r: in_memory(r),
        g: in_memory(g),
        b: in_memory(b),
    };
    let known = [
        Rgb32Layout::BGRX,
        Rgb32Layout::XRGB,
        Rgb32Layout::RGBX,
        Rgb32Layout::XBGR,
    ];
    if known.contains(&layout) {
        Ok(layout)
    } else {
        Err(format!("pixel layout {layout:?} is not supported"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x11rb::protocol::xproto::{Depth, Format, Visualtype};

    fn setup_and_screen(order: ImageOrder, masks: (u32, u32, u32), bpp: u8) -> (Setup, Screen) {
        let setup = Setup {
            image_byte_order: order,
            pixmap_formats: vec![Format {
                depth: 24,
                bits_per_pixel: bpp,
                scanline_pad: 32,
            }],
            ..Setup::default()
        };
        let screen = Screen {
            root_depth: 24,
            root_visual: 33,
            allowed_depths: vec![Depth {
                depth: 24,
                visuals: vec![Visualtype {
                    visual_id: 33,
                    class: VisualClass::TRUE_COLOR,
                    red_mask: masks.0,
                    green_mask: masks.1,
                    blue_mask: masks.2,
                    ..Visualtype::default()
                }],
            }],
            ..Screen::default()
        };
        (setup, screen)
    }

    #[test]
    fn pixel_layout_follows_masks_and_byte_order() {
        let rgb = (0xff0000, 0xff00, 0xff);
        let bgr = (0xff, 0xff00, 0xff0000);
        let cases = [
            (ImageOrder::LSB_FIRST, rgb, Rgb32Layout::BGRX),
            (ImageOrder::MSB_FIRST, rgb, Rgb32Layout::XRGB),
            (ImageOrder::LSB_FIRST, bgr, Rgb32Layout::RGBX),
            (ImageOrder::MSB_FIRST, bgr, Rgb32Layout::XBGR),
        ];
        for (order, masks, want) in cases {
            let (setup, screen) = setup_and_screen(order, masks, 32);
            assert_eq!(
                pixel_layout(&setup, &screen),
                Ok(want),
                "{order:?} {masks:x?}"
            );
        }
    }

    #[test]
    fn unusual_visuals_are_refused() {
        // 16-bit RGB565 stored in 16 bits per pixel.
        let (setup, screen) = setup_and_screen(ImageOrder::LSB_FIRST, (0xf800, 0x7e0, 0x1f), 16);
        assert!(pixel_layout(&setup, &screen).is_err());
        // 10-bit channels (depth 30) in 32 bits.
        let (setup, screen) =
            setup_and_screen(ImageOrder::LSB_FIRST, (0x3ff0_0000, 0xffc00, 0x3ff), 32);
        assert!(pixel_layout(&setup, &screen).is_err());
    }

    #[test]
    fn regions_must_fit_and_outputs_are_even() {
        let options = |region, output_size| ScreenOptions {
            region,
            output_size,
            ..ScreenOptions::default()
        };
        let whole = geometry(&options(None, None), 1366, 767).unwrap();
        assert_eq!(
            whole,
            (
                Region {
                    x: 0,
                    y: 0,
                    width: 1366,
                    height: 767
                },
                (1366, 766)
            )
        );
        let scaled = geometry(&options(None, Some((641, 361))), 1920, 1080).unwrap();
        assert_eq!(scaled.1, (640, 360));
        let r = |x, y, width, height| {
            Some(Region {
                x,
                y,
                width,
                height,
            })
        };
        for bad in [r(1900, 0, 40, 40), r(0, 0, 1, 10), r(u32::MAX, 0, 2, 2)] {
            assert!(
                geometry(&options(bad, None), 1920, 1080).is_err(),
                "{bad:?}"
            );
        }
        assert!(geometry(&options(None, Some((1, 100))), 1920, 1080).is_err());
    }
}
