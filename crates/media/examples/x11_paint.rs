//! Keeps an X screen changing, for screen-share tests: paints the root window of `$DISPLAY`
//! (or the display given as the first argument) with a background that alternates between
//! colours and a white rectangle that moves, every ~100 ms, until killed.
//!
//! `cargo run -p skylink-media --example x11_paint -- :91`

use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateGCAux, Rectangle};

const BACKGROUNDS: [(u8, u8, u8); 4] =
    [(200, 40, 40), (40, 160, 60), (40, 80, 200), (180, 160, 40)];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let display = std::env::args().nth(1);
    let (conn, screen_num) = x11rb::connect(display.as_deref())?;
    let screen = &conn.setup().roots[screen_num];
    let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
    let gc = conn.generate_id()?;
    conn.create_gc(gc, root, &CreateGCAux::new())?;
    let whole = Rectangle {
        x: 0,
        y: 0,
        width,
        height,
    };
    let (box_w, box_h) = (width / 5, height / 5);
    for step in 0u64.. {
        let (r, g, b) = BACKGROUNDS[(step / 10) as usize % BACKGROUNDS.len()];
        // The 24-bit TrueColor visual of Xvfb has masks 0xff0000 / 0xff00 / 0xff.
        let pixel = (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b);
        conn.change_gc(
            gc,
            &x11rb::protocol::xproto::ChangeGCAux::new().foreground(pixel),
        )?;
        conn.poly_fill_rectangle(root, gc, &[whole])?;
        let span = u64::from(width.saturating_sub(box_w)).max(1);
        let x = (step * 16) % span;
        let y = u64::from(height / 2 - box_h / 2);
        conn.change_gc(
            gc,
            &x11rb::protocol::xproto::ChangeGCAux::new().foreground(0xffffff),
        )?;
        conn.poly_fill_rectangle(
            root,
            gc,
            &[Rectangle {
                x: x as i16,
                y: y as i16,
                width: box_w,
                height: box_h,
            }],
        )?;
        // A round trip: the painting is done before we sleep.
        conn.get_input_focus()?.reply()?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
