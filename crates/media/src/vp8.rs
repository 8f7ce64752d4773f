//! VP8 encoding and decoding through the system libvpx.
//!
//! [`Vp8Encoder`] is configured the way a WebRTC sender uses libvpx (one pass, CBR, realtime
//! deadline, error resilient, no look-ahead) so that every input frame yields its output at
//! once. [`Vp8Decoder`] turns whole VP8 frames back into I420 [`VideoFrame`]s.

use std::ffi::{CStr, c_int, c_uint, c_ulong};
use std::mem::MaybeUninit;
use std::ptr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use vpx_sys as vpx;

use crate::error::MediaError;
use crate::frame::{Codec, EncodedFrame, VideoFrame};

/// The RTP clock doubles as the encoder time base, so presentation times need no conversion.
const TIMEBASE_HZ: i64 = 90_000;

/// Speed over quality, as browsers do for realtime VP8 (negative = "realtime, at least this fast").
const CPU_USED: c_int = -6;

/// An owned, initialised libvpx codec context, destroyed on drop.
///
/// Boxed because libvpx keeps internal pointers to the context it initialised.
struct Context {
    ctx: Box<vpx::vpx_codec_ctx_t>,
}

// SAFETY: a libvpx context has no thread affinity; it is only touched through `&mut self`, so
// it is never used from two threads at once.
unsafe impl Send for Context {}

impl Context {
    /// A zeroed context for `vpx_codec_*_init_ver` to fill.
    fn zeroed() -> Box<vpx::vpx_codec_ctx_t> {
        // SAFETY: the context is plain data (pointers, integers, an enum whose 0 is `OK`);
        // all-zero is the documented "not initialised" state.
        Box::new(unsafe { MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed().assume_init() })
    }

    fn ptr(&mut self) -> *mut vpx::vpx_codec_ctx_t {
        &mut *self.ctx
    }

    /// Turns a libvpx status into a typed error, with the context's detail when it has one.
    fn check(&mut self, err: vpx::vpx_codec_err_t, what: &str) -> Result<(), MediaError> {
        if err == vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Ok(());
        }
        // SAFETY: both functions return static or context-owned NUL-terminated strings (or
        // null for the detail), valid until the next call on this context.
        let message = unsafe {
            let base = CStr::from_ptr(vpx::vpx_codec_err_to_string(err)).to_string_lossy();
            let detail = vpx::vpx_codec_error_detail(self.ptr());
            if detail.is_null() {
                format!("{what}: {base}")
            } else {
                format!(
                    "{what}: {base} ({})",
                    CStr::from_ptr(detail).to_string_lossy()
                )
            }
        };
        Err(vp8_error(message))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: only initialised contexts are wrapped in `Context`.
        unsafe {
            vpx::vpx_codec_destroy(self.ptr());
        }
    }
}

/// The encoder configuration, kept for run-time changes (bitrate).
struct Config(vpx::vpx_codec_enc_cfg_t);

// SAFETY: the only pointers in the configuration are the two-pass statistics buffers, which
// one-pass realtime encoding leaves null.
unsafe impl Send for Config {}

fn vp8_error(message: impl Into<String>) -> MediaError {
    MediaError::Codec {
        codec: "VP8",
        message: message.into(),
    }
}

/// A realtime VP8 encoder for one fixed resolution.
///
/// ```
/// use skylink_media::{VideoFrame, vp8::{Vp8Decoder, Vp8Encoder}};
///
/// let mut encoder = Vp8Encoder::new(320, 240, 30.0, 300)?;
/// let frames = encoder.encode(&VideoFrame::black(320, 240, 0), false)?;
/// assert!(frames[0].keyframe, "the first frame is always a key frame");
/// let decoded = Vp8Decoder::new()?.decode(&frames[0].data)?;
/// assert_eq!((decoded[0].width, decoded[0].height), (320, 240));
/// # Ok::<(), skylink_media::MediaError>(())
/// ```
pub struct Vp8Encoder {
    context: Context,
    config: Config,
    width: u32,
    height: u32,
    frame_duration: Duration,
    ticks_per_frame: i64,
    next_pts: i64,
}

impl Vp8Encoder {
    /// An encoder for `width`×`height` (both even, non-zero) at `fps` frames per second and
    /// `bitrate_kbps` target bitrate.
    pub fn new(
        width: u32,
        height: u32,
        fps: f64,
        bitrate_kbps: u32,
    ) -> Result<Vp8Encoder, MediaError> {
        if width == 0
            || height == 0
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
            || width > 16_384
            || height > 16_384
        {
            return Err(MediaError::InvalidSettings(format!(
                "VP8 needs an even, non-zero resolution, got {width}x{height}"
            )));
        }
        if !(fps.is_finite() && fps > 0.0 && fps <= 240.0) {
            return Err(MediaError::InvalidSettings(format!(
                "frame rate {fps} out of range"
            )));
        }
        if bitrate_kbps == 0 {
            return Err(MediaError::InvalidSettings(
                "bitrate must be positive".into(),
            ));
        }
        // SAFETY: `cfg` is written in full by `vpx_codec_enc_config_default` before use.
        let mut cfg = unsafe { MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::zeroed().assume_init() };
        let mut ctx = Context::zeroed();
        // SAFETY: the interface pointer is static; `cfg` is a valid out-pointer.
        let err =
            unsafe { vpx::vpx_codec_enc_config_default(vpx::vpx_codec_vp8_cx(), &mut cfg, 0) };
        if err != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(vp8_error(format!("default config: {err:?}")));
        }
        let key_frame_interval = (fps * 2.0).round().max(1.0) as c_uint;
        cfg.g_w = width;
        cfg.g_h = height;
        cfg.g_timebase = vpx::vpx_rational {
            num: 1,
            den: TIMEBASE_HZ as c_int,
        };
        cfg.g_threads = 1;
        cfg.g_error_resilient = vpx::VPX_ERROR_RESILIENT_DEFAULT;
        cfg.g_lag_in_frames = 0;
        cfg.g_pass = vpx::vpx_enc_pass::VPX_RC_ONE_PASS;
        cfg.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
        cfg.rc_target_bitrate = bitrate_kbps;
        // Never skip input frames: every raw frame must come out (tests read frame numbers).
        cfg.rc_dropframe_thresh = 0;
        cfg.rc_resize_allowed = 0;
        cfg.rc_min_quantizer = 2;
        cfg.rc_max_quantizer = 56;
        cfg.rc_undershoot_pct = 100;
        cfg.rc_overshoot_pct = 15;
        cfg.rc_buf_initial_sz = 500;
        cfg.rc_buf_optimal_sz = 600;
        cfg.rc_buf_sz = 1000;
        cfg.kf_mode = vpx::vpx_kf_mode::VPX_KF_AUTO;
        cfg.kf_min_dist = 0;
        cfg.kf_max_dist = key_frame_interval;

        // SAFETY: `ctx` is zeroed, `cfg` fully initialised; the ABI version is the one the
        // bindings were generated for.
        let err = unsafe {
            vpx::vpx_codec_enc_init_ver(
                &mut *ctx,
                vpx::vpx_codec_vp8_cx(),
                &cfg,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(vp8_error(format!("encoder init: {err:?}")));
        }
        // Only now that it is initialised may the context be destroyed on drop.
        let mut context = Context { ctx };
        for (control, value) in [
            (vpx::vp8e_enc_control_id::VP8E_SET_CPUUSED, CPU_USED),
            (vpx::vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0),
            (vpx::vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1),
            // Key frames at CBR would otherwise take many frames' budget and stall the stream.
            (
                vpx::vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT,
                300,
            ),
        ] {
            // SAFETY: every control above takes one `int` argument.
            let err = unsafe { vpx::vpx_codec_control_(context.ptr(), control as c_int, value) };
            context.check(err, "encoder control")?;
        }
        let ticks_per_frame = ((TIMEBASE_HZ as f64) / fps).round().max(1.0) as i64;
        tracing::debug!(width, height, fps, bitrate_kbps, "VP8 encoder ready");
        Ok(Vp8Encoder {
            context,
            config: Config(cfg),
            width,
            height,
            frame_duration: Duration::from_secs_f64(1.0 / fps),
            ticks_per_frame,
            next_pts: 0,
        })
    }

    /// Width and height the encoder was created for.
    pub fn resolution(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The current target bitrate in kbit/s.
    pub fn bitrate_kbps(&self) -> u32 {
        self.config.0.rc_target_bitrate
    }

    /// Changes the target bitrate from the next frame on (following the bandwidth a receiver
    /// or the SDP allows), without a key frame.
    pub fn set_bitrate_kbps(&mut self, bitrate_kbps: u32) -> Result<(), MediaError> {
        if bitrate_kbps == 0 {
            return Err(MediaError::InvalidSettings(
                "bitrate must be positive".into(),
            ));
        }
        let mut config = Config(self.config.0);
        config.0.rc_target_bitrate = bitrate_kbps;
        // SAFETY: initialised context; the configuration differs from the one it was created
        // with only in the bitrate.
        let err = unsafe { vpx::vpx_codec_enc_config_set(self.context.ptr(), &config.0) };
        self.context.check(err, "set bitrate")?;
        self.config = config;
        Ok(())
    }

    /// Encodes one frame (which must have the encoder's resolution); `force_keyframe` makes it a
    /// key frame. Returns the compressed frames (normally exactly one), each carrying the raw
    /// frame's `index` and `captured_at`.
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        force_keyframe: bool,
    ) -> Result<Vec<EncodedFrame>, MediaError> {
        if (frame.width, frame.height) != (self.width, self.height) {
            return Err(MediaError::InvalidSettings(format!(
                "frame is {}x{}, encoder expects {}x{}",
                frame.width, frame.height, self.width, self.height
            )));
        }
        if frame.data.len() != VideoFrame::i420_len(frame.width, frame.height) {
            return Err(MediaError::InvalidSettings(format!(
                "I420 frame has {} bytes, expected {}",
                frame.data.len(),
                VideoFrame::i420_len(frame.width, frame.height)
            )));
        }
        // SAFETY: `vpx_img_wrap` only records pointers into `frame.data`, whose length was
        // checked above; libvpx reads (never writes) the planes during `vpx_codec_encode`,
        // while `frame` is borrowed.
        let mut image = unsafe { MaybeUninit::<vpx::vpx_image_t>::zeroed().assume_init() };
        let wrapped = unsafe {
            vpx::vpx_img_wrap(
                &mut image,
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width,
                self.height,
                1,
                frame.data.as_ptr().cast_mut(),
            )
        };
        if wrapped.is_null() {
            return Err(vp8_error("cannot wrap the input image"));
        }
        let flags = if force_keyframe {
            vpx::VPX_EFLAG_FORCE_KF as vpx::vpx_enc_frame_flags_t
        } else {
            0
        };
        let pts = self.next_pts;
        self.next_pts += self.ticks_per_frame;
        // SAFETY: the context is initialised and `image` wraps live data (see above).
        let err = unsafe {
            vpx::vpx_codec_encode(
                self.context.ptr(),
                &image,
                pts,
                self.ticks_per_frame as c_ulong,
                flags,
                c_ulong::from(vpx::VPX_DL_REALTIME),
            )
        };
        self.context.check(err, "encode")?;
        let mut out = Vec::with_capacity(1);
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: iterating the context's output list; packets stay valid until the next
            // encode call, and we copy their bytes out immediately.
            let packet = unsafe { vpx::vpx_codec_get_cx_data(self.context.ptr(), &mut iter) };
            if packet.is_null() {
                break;
            }
            let packet = unsafe { &*packet };
            if packet.kind != vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            // SAFETY: `kind` says the `frame` member of the union is the live one.
            let data = unsafe {
                let f = packet.data.frame;
                std::slice::from_raw_parts(f.buf.cast::<u8>(), f.sz as usize)
            };
            let keyframe = unsafe { packet.data.frame.flags } & vpx::VPX_FRAME_IS_KEY != 0;
            out.push(EncodedFrame {
                codec: Codec::Vp8,
                data: Bytes::copy_from_slice(data),
                duration: self.frame_duration,
                keyframe,
                index: frame.index,
                captured_at: frame.captured_at,
            });
        }
        Ok(out)
    }
}

/// A VP8 decoder: whole compressed frames in, I420 frames out.
pub struct Vp8Decoder {
    context: Context,
    decoded: u64,
}

impl Vp8Decoder {
    /// A decoder for any resolution (it follows the key frames).
    pub fn new() -> Result<Vp8Decoder, MediaError> {
        let mut ctx = Context::zeroed();
        let cfg = vpx::vpx_codec_dec_cfg {
            threads: 1,
            w: 0,
            h: 0,
        };
        // SAFETY: zeroed context, valid config, matching ABI version.
        let err = unsafe {
            vpx::vpx_codec_dec_init_ver(
                &mut *ctx,
                vpx::vpx_codec_vp8_dx(),
                &cfg,
                0,
                vpx::VPX_DECODER_ABI_VERSION as c_int,
            )
        };
        if err != vpx::vpx_codec_err_t::VPX_CODEC_OK {
            return Err(vp8_error(format!("decoder init: {err:?}")));
        }
        Ok(Vp8Decoder {
            context: Context { ctx },
            decoded: 0,
        })
    }

    /// Decodes one whole VP8 frame. Corrupt data is an error, not a panic; the decoder stays
    /// usable and recovers at the next key frame. Odd dimensions are cropped to even so that
    /// the result is a valid [`VideoFrame`].
    pub fn decode(&mut self, data: &[u8]) -> Result<Vec<VideoFrame>, MediaError> {
        if data.is_empty() {
            return Err(vp8_error("empty frame"));
        }
        let len = c_uint::try_from(data.len()).map_err(|_| vp8_error("frame too large"))?;
        // SAFETY: `data` is valid for `len` bytes during the call; libvpx copies what it keeps.
        let err = unsafe {
            vpx::vpx_codec_decode(self.context.ptr(), data.as_ptr(), len, ptr::null_mut(), 0)
        };
        self.context.check(err, "decode")?;
        let mut out = Vec::with_capacity(1);
        let mut iter: vpx::vpx_codec_iter_t = ptr::null();
        loop {
            // SAFETY: images stay valid until the next decode call; we copy them out now.
            let image = unsafe { vpx::vpx_codec_get_frame(self.context.ptr(), &mut iter) };
            if image.is_null() {
                break;
            }
            let image = unsafe { &*image };
            out.push(self.copy_image(image)?);
        }
        Ok(out)
    }

    fn copy_image(&mut self, image: &vpx::vpx_image_t) -> Result<VideoFrame, MediaError> {
        if image.fmt != vpx::vpx_img_fmt::VPX_IMG_FMT_I420 {
            return Err(vp8_error(format!(
                "unexpected decoded format {:?}",
                image.fmt
            )));
        }
        let width = image.d_w & !1;
        let height = image.d_h & !1;
        let mut data = Vec::with_capacity(VideoFrame::i420_len(width, height));
        let planes = [
            (0, width, height),
            (1, width / 2, height / 2),
            (2, width / 2, height / 2),
        ];
        for (plane, plane_w, plane_h) in planes {
            let stride = image.stride[plane];
            if stride < plane_w as c_int || image.planes[plane].is_null() {
                return Err(vp8_error("decoded image has an invalid layout"));
            }
            for row in 0..plane_h as usize {
                // SAFETY: libvpx guarantees `stride` bytes per row for the plane's rows, and
                // `plane_w <= stride` was checked above.
                let line = unsafe {
                    std::slice::from_raw_parts(
                        image.planes[plane].add(row * stride as usize),
                        plane_w as usize,
                    )
                };
                data.extend_from_slice(line);
            }
        }
        let index = self.decoded;
        self.decoded += 1;
        Ok(VideoFrame {
            width,
            height,
            data,
            index,
            captured_at: Instant::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_settings() {
        assert!(Vp8Encoder::new(641, 480, 30.0, 500).is_err());
        assert!(Vp8Encoder::new(640, 480, 0.0, 500).is_err());
        assert!(Vp8Encoder::new(640, 480, 30.0, 0).is_err());
    }

    #[test]
    fn codecs_can_move_to_another_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Vp8Encoder>();
        assert_send::<Vp8Decoder>();
    }

    #[test]
    fn bitrate_changes_at_run_time() {
        let mut encoder = Vp8Encoder::new(64, 48, 30.0, 100).expect("encoder");
        encoder.set_bitrate_kbps(300).expect("set bitrate");
        assert_eq!(encoder.bitrate_kbps(), 300);
        assert!(encoder.set_bitrate_kbps(0).is_err());
        assert_eq!(
            encoder
                .encode(&VideoFrame::black(64, 48, 0), false)
                .expect("encode")
                .len(),
            1
        );
    }

    #[test]
    fn rejects_wrong_frame_size() {
        let mut encoder = Vp8Encoder::new(64, 48, 30.0, 100).expect("encoder");
        assert!(
            encoder
                .encode(&VideoFrame::black(32, 24, 0), false)
                .is_err()
        );
    }

    #[test]
    fn garbage_is_an_error_and_the_decoder_survives() {
        let mut decoder = Vp8Decoder::new().expect("decoder");
        assert!(decoder.decode(&[]).is_err());
        let _ = decoder.decode(&[0xff; 37]);
        let mut encoder = Vp8Encoder::new(64, 48, 30.0, 100).expect("encoder");
        let frames = encoder
            .encode(&VideoFrame::black(64, 48, 0), true)
            .expect("encode");
        let decoded = decoder
            .decode(&frames[0].data)
            .expect("decode after garbage");
        assert_eq!(decoded.len(), 1);
    }
}
