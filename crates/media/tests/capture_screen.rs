//! Screen capture against a real X server: each test starts its own Xvfb, paints known colours
//! into the root window with x11rb and checks that captured I420 frames show them.
//!
//! Xvfb is required (CI installs the `xvfb` package); without it these tests fail, on purpose.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use skylink_media::capture::{Region, ScreenOptions, ScreenSource};
use skylink_media::{MediaError, VideoFrame, VideoSource};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, CreateGCAux, Rectangle};
use x11rb::rust_connection::RustConnection;

/// A private Xvfb server, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
    log_path: std::path::PathBuf,
}

impl Xvfb {
    /// Starts `Xvfb :N` on the first free N from 90 up, with `extra` arguments, and returns
    /// once it is accepting connections.
    fn start(extra: &[&str]) -> Xvfb {
        // Tests in this binary run in parallel: hand each its own candidate numbers.
        static NEXT: AtomicU32 = AtomicU32::new(90);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            assert!(n < 400, "no free X display number between 90 and 400");
            // A live server holds the lock file; a stale one Xvfb cleans up itself.
            if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let log_path = std::env::temp_dir().join(format!("skylink-xvfb-{n}.log"));
            let log = File::create(&log_path).expect("create the Xvfb log file");
            // -displayfd 1: Xvfb writes the display number to stdout once it accepts clients,
            // so readiness needs no polling or sleeping.
            let spawned = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "640x480x24",
                    "-nolisten",
                    "tcp",
                ])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log))
                .spawn();
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                    "Xvfb is not installed: the screen-capture tests need it \
                     (Debian/Ubuntu: apt-get install xvfb)"
                ),
                Err(e) => panic!("cannot start Xvfb: {e}"),
            };
            let stdout = child.stdout.take().expect("piped stdout");
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(line) if line.trim() == n.to_string() => {
                    return Xvfb {
                        child,
                        display: format!(":{n}"),
                        log_path,
                    };
                }
                // EOF: this Xvfb exited (another server took :n meanwhile); try the next one.
                Ok(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    panic!("Xvfb :{n} did not become ready within 30 s; its log:\n{log}");
                }
            }
        }
        panic!("could not start Xvfb within 30 s");
    }

    /// A client connection for painting.
    fn connect(&self) -> RustConnection {
        x11rb::connect(Some(&self.display))
            .expect("connect to our Xvfb")
            .0
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: Xvfb then removes its socket and lock file.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: signalling our own child process, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_file(&self.log_path);
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fills a rectangle of the root window with an RGB colour and waits until the server did it.
fn paint(conn: &RustConnection, (r, g, b): (u8, u8, u8), rect: Rectangle) {
    let screen = &conn.setup().roots[0];
    // Xvfb's 24-bit TrueColor visual has masks 0xff0000 / 0xff00 / 0xff.
    let pixel = (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b);
    let gc = conn.generate_id().unwrap();
    conn.create_gc(gc, screen.root, &CreateGCAux::new().foreground(pixel))
        .unwrap();
    conn.poly_fill_rectangle(screen.root, gc, &[rect]).unwrap();
    conn.free_gc(gc).unwrap();
    // A round trip: every request before it has been executed when the reply arrives.
    conn.get_input_focus().unwrap().reply().unwrap();
}

fn whole_screen() -> Rectangle {
    Rectangle {
        x: 0,
        y: 0,
        width: 640,
        height: 480,
    }
}

/// Asserts every pixel of `frame` is within ±2 of the I420 colour `(y, u, v)`.
fn assert_uniform(frame: &VideoFrame, (y, u, v): (u8, u8, u8), what: &str) {
    let luma = (frame.width * frame.height) as usize;
    let chroma = luma / 4;
    let planes = [
        (&frame.data[..luma], y, "Y"),
        (&frame.data[luma..luma + chroma], u, "U"),
        (&frame.data[luma + chroma..], v, "V"),
    ];
    for (plane, want, name) in planes {
        let off = plane.iter().filter(|&&p| p.abs_diff(want) > 2).count();
        assert_eq!(
            off, 0,
            "{what}: {off} {name} samples differ from {want} by more than 2"
        );
    }
}

const RED: (u8, u8, u8) = (255, 0, 0);
const BLUE: (u8, u8, u8) = (0, 0, 255);
const GREEN: (u8, u8, u8) = (0, 255, 0);
const WHITE: (u8, u8, u8) = (255, 255, 255);
// BT.601 video-range YUV of the colours above.
const RED_YUV: (u8, u8, u8) = (82, 90, 240);
const BLUE_YUV: (u8, u8, u8) = (41, 240, 110);
const GREEN_YUV: (u8, u8, u8) = (145, 54, 34);
const WHITE_YUV: (u8, u8, u8) = (235, 128, 128);

#[test]
fn shm_capture_shows_what_is_painted_and_follows_changes() {
    let xvfb = Xvfb::start(&[]);
    let painter = xvfb.connect();
    paint(&painter, RED, whole_screen());

    let mut source = ScreenSource::open(ScreenOptions {
        display: Some(xvfb.display.clone()),
        frame_rate: 20.0,
        ..ScreenOptions::default()
    })
    .expect("open the screen");
    assert!(
        source.uses_shm(),
        "Xvfb offers MIT-SHM 1.2, the fast path must be used"
    );
    assert!(source.is_screen());
    assert_eq!(source.resolution(), (640, 480));
    assert_eq!(source.frame_rate(), 20.0);

    let first = source.next_frame().unwrap();
    assert_eq!((first.width, first.height, first.index), (640, 480, 0));
    assert_eq!(first.data.len(), VideoFrame::i420_len(640, 480));
    assert_uniform(&first, RED_YUV, "red screen");

    paint(&painter, BLUE, whole_screen());
    let second = source.next_frame().unwrap();
    assert_eq!(second.index, 1);
    assert_uniform(&second, BLUE_YUV, "blue screen");
    // Paced in real time: the second frame is due one interval (50 ms) after the first.
    let gap = second.captured_at - first.captured_at;
    assert!(
        gap >= Duration::from_millis(45),
        "frames only {gap:?} apart at 20 fps"
    );
}

#[test]
fn get_image_fallback_crops_a_region_to_even_size() {
    let xvfb = Xvfb::start(&["-extension", "MIT-SHM"]);
    let painter = xvfb.connect();
    paint(&painter, WHITE, whole_screen());
    // The region is odd-sized; its inside is green, everything around it white.
    let region = Region {
        x: 101,
        y: 51,
        width: 201,
        height: 99,
    };
    paint(
        &painter,
        GREEN,
        Rectangle {
            x: 101,
            y: 51,
            width: 201,
            height: 99,
        },
    );

    let mut source = ScreenSource::open(ScreenOptions {
        display: Some(xvfb.display.clone()),
        frame_rate: 30.0,
        region: Some(region),
        ..ScreenOptions::default()
    })
    .expect("open the screen without MIT-SHM");
    assert!(!source.uses_shm(), "MIT-SHM is disabled on this server");
    assert_eq!(source.region(), region);
    assert_eq!(source.resolution(), (200, 98));

    let frame = source.next_frame().unwrap();
    assert_eq!((frame.width, frame.height), (200, 98));
    assert_uniform(&frame, GREEN_YUV, "green region");

    paint(&painter, RED, whole_screen());
    assert_uniform(&source.next_frame().unwrap(), RED_YUV, "repainted red");
}

#[test]
fn output_size_scales_the_screen() {
    let xvfb = Xvfb::start(&[]);
    let painter = xvfb.connect();
    // Left half blue, right half white.
    paint(&painter, WHITE, whole_screen());
    paint(
        &painter,
        BLUE,
        Rectangle {
            x: 0,
            y: 0,
            width: 320,
            height: 480,
        },
    );

    let mut source = ScreenSource::open(ScreenOptions {
        display: Some(xvfb.display.clone()),
        output_size: Some((161, 121)),
        ..ScreenOptions::default()
    })
    .unwrap();
    assert_eq!(source.resolution(), (160, 120));
    let frame = source.next_frame().unwrap();
    assert_eq!((frame.width, frame.height), (160, 120));
    let y = frame.y();
    for row in y.chunks_exact(160) {
        assert!(
            row[..80].iter().all(|&p| p.abs_diff(BLUE_YUV.0) <= 2),
            "left half is blue"
        );
        assert!(
            row[80..].iter().all(|&p| p.abs_diff(WHITE_YUV.0) <= 2),
            "right half is white"
        );
    }
}

#[test]
fn bad_settings_are_rejected_before_capturing() {
    let xvfb = Xvfb::start(&[]);
    let open = |options: ScreenOptions| {
        ScreenSource::open(ScreenOptions {
            display: Some(xvfb.display.clone()),
            ..options
        })
    };
    let outside = open(ScreenOptions {
        region: Some(Region {
            x: 600,
            y: 0,
            width: 100,
            height: 100,
        }),
        ..ScreenOptions::default()
    });
    assert!(
        matches!(outside, Err(MediaError::InvalidSettings(_))),
        "{outside:?}"
    );
    let zero_fps = open(ScreenOptions {
        frame_rate: 0.0,
        ..ScreenOptions::default()
    });
    assert!(
        matches!(zero_fps, Err(MediaError::InvalidSettings(_))),
        "{zero_fps:?}"
    );
}

#[test]
fn a_missing_display_is_no_device() {
    // No server listens on :4999 (neither a socket nor a lock file exists for it).
    assert!(!Path::new("/tmp/.X11-unix/X4999").exists());
    let result = ScreenSource::open(ScreenOptions {
        display: Some(":4999".into()),
        ..ScreenOptions::default()
    });
    match result {
        Err(MediaError::NoDevice(message)) => {
            assert!(message.starts_with("X display :4999"), "{message}");
        }
        other => panic!("expected NoDevice, got {other:?}"),
    }
}

#[test]
fn a_tcp_display_cannot_share_memory_and_uses_get_image() {
    // Descriptor passing needs a Unix socket; over TCP the capture must fall back by itself.
    let xvfb = Xvfb::start(&["-listen", "tcp"]);
    let painter = xvfb.connect();
    paint(&painter, BLUE, whole_screen());
    let display = format!("127.0.0.1{}", xvfb.display);
    let mut source = ScreenSource::open(ScreenOptions {
        display: Some(display.clone()),
        ..ScreenOptions::default()
    })
    .unwrap_or_else(|e| panic!("open {display}: {e}"));
    assert!(!source.uses_shm());
    assert_uniform(&source.next_frame().unwrap(), BLUE_YUV, "blue over TCP");
}
