// Reader of the frame number that the Rust test pattern (crates/media/src/testpattern.rs) draws
// into every frame: a port of `read` in crates/media/src/frame_code.rs (reading only).
//
// Layout (fractions of the frame, so it survives scaling): 48 cells in 2 rows × 24 columns in the
// band x ∈ [0.02, 0.98), y ∈ [0.80, 0.96); bit 0 (MSB) is row 0 column 0. Bits 47..16 are the
// 32-bit frame number (big-endian), bits 15..0 its CRC-16/CCITT-FALSE over the 4 big-endian
// bytes. A cell is white (luma 235) for 1 and black (luma 16) for 0; the reader averages the
// middle half of each cell each way, rejects cells within 24 of the midpoint and codes whose CRC
// does not match, so a damaged code reads as null rather than a wrong number.
//
// Works on RGBA ImageData (`{data, width, height}`, e.g. from a canvas with a <video> drawn into
// it): the luma is recomputed in BT.601 limited range (what the encoder saw), since browsers
// render limited-range video to full-range RGB (luma 16 → 0, 235 → 255).
//
// The function is self-contained (no closures over module scope) so that it can be passed to
// `page.evaluate` as a string: `readFrameCode.toString()`.

export function readFrameCode(img) {
  const COLUMNS = 24;
  const ROWS = 2;
  const CHECK_BITS = 16;
  const LEFT = 0.02;
  const RIGHT = 0.98;
  const TOP = 0.8;
  const BOTTOM = 0.96;
  const BLACK = 16;
  const WHITE = 235;
  const AMBIGUOUS = 24;
  const w = img.width;
  const h = img.height;
  const d = img.data;
  if (w < COLUMNS * 2 || h < 16 || d.length < w * h * 4) return null;
  const crc16 = (bytes) => {
    let crc = 0xffff;
    for (const b of bytes) {
      crc ^= b << 8;
      for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  };
  const fx = (c) => Math.floor((LEFT + ((RIGHT - LEFT) * c) / COLUMNS) * w);
  const fy = (r) => Math.floor((TOP + ((BOTTOM - TOP) * r) / ROWS) * h);
  const midpoint = (BLACK + WHITE) / 2;
  let number = 0; // the 32 data bits
  let check = 0; // the 16 CRC bits
  for (let bit = 0; bit < ROWS * COLUMNS; bit++) {
    const row = Math.floor(bit / COLUMNS);
    const col = bit % COLUMNS;
    const x0 = fx(col);
    const x1 = fx(col + 1);
    const y0 = fy(row);
    const y1 = fy(row + 1);
    const mx0 = x0 + Math.floor((x1 - x0) / 4);
    const mx1 = x1 - Math.floor((x1 - x0) / 4);
    const my0 = y0 + Math.floor((y1 - y0) / 4);
    const my1 = y1 - Math.floor((y1 - y0) / 4);
    if (mx1 <= mx0 || my1 <= my0 || my1 > h || mx1 > w) return null;
    let sum = 0;
    for (let y = my0; y < my1; y++) {
      for (let x = mx0; x < mx1; x++) {
        const i = (y * w + x) * 4;
        sum += 16 + (65.481 * d[i] + 128.553 * d[i + 1] + 24.966 * d[i + 2]) / 255;
      }
    }
    const mean = sum / ((mx1 - mx0) * (my1 - my0));
    if (Math.abs(mean - midpoint) < AMBIGUOUS) return null;
    const v = mean > midpoint ? 1 : 0;
    if (bit < 48 - CHECK_BITS) number = number * 2 + v;
    else check = check * 2 + v;
  }
  const bytes = [(number >>> 24) & 0xff, (number >>> 16) & 0xff, (number >>> 8) & 0xff, number & 0xff];
  return crc16(bytes) === check ? number : null;
}
