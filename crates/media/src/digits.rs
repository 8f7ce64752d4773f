//! A 3×5 bitmap font for drawing numbers into frames, for people looking at the video.

/// Rows of each digit, top to bottom; the low three bits are the columns, left = bit 2.
const GLYPHS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// Draws `number` in decimal with luma value `luma` into the `width`-wide luma plane `y`,
/// top-left at (`x`, `top`), each font pixel `scale`×`scale` pixels. Clipped to the plane.
pub(crate) fn draw_number(
    y: &mut [u8],
    width: usize,
    x: usize,
    top: usize,
    scale: usize,
    number: u64,
    luma: u8,
) {
    let height = y.len() / width.max(1);
    let text = number.to_string();
    for (i, ch) in text.bytes().enumerate() {
        let glyph = &GLYPHS[usize::from(ch - b'0')];
        let left = x + i * 4 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..3 {
                if bits & (0b100 >> col) == 0 {
                    continue;
                }
                let px = left + col * scale;
                let py = top + row * scale;
                for yy in py..(py + scale).min(height) {
                    let line = yy * width;
                    for xx in px..(px + scale).min(width) {
                        y[line + xx] = luma;
                    }
                }
            }
        }
    }
}
