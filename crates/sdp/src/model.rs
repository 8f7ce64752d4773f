//! The line-preserving SDP text model and its parse error.

use std::borrow::Cow;
use std::fmt;

/// Why a text was not accepted as an SDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The text is empty (or whitespace only).
    #[error("empty session description")]
    Empty,
    /// The first line is not a `v=` line.
    #[error("line 1: a session description must start with `v=`, found {found:?}")]
    MissingVersion {
        /// The offending first line.
        found: String,
    },
    /// A line is not of the form `<letter>=<value>`.
    #[error("line {line}: not an SDP `<type>=<value>` line: {text:?}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// A line contains a stray carriage return or other control character.
    #[error("line {line}: stray control character in {text:?}")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
    /// An `m=` line has fewer than four space-separated fields.
    #[error("line {line}: malformed media line {text:?} (need `m=<media> <port> <proto> <fmt> …`)")]
    BadMediaLine {
        /// 1-based line number.
        line: usize,
        /// The offending line.
        text: String,
    },
}

/// A session description kept as its exact lines.
///
/// The text is split on CRLF exactly as the JavaScript SDK does with `sdp.split('\r\n')`: a
/// CRLF-terminated description therefore ends with one empty element, and [`Sdp::to_text`]
/// joins with CRLF so that the round trip is byte-exact. Sections are not stored separately;
/// [`Sdp::sections`] computes them on demand (session part = lines before the first `m=` line,
/// media section = an `m=` line up to the next one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp<'a> {
    /// The lines, without their CRLF terminators. Unmodified lines borrow from the parsed
    /// text; edited or inserted lines are owned.
    pub lines: Vec<Cow<'a, str>>,
}

/// A media section: its kind (first token after `m=`) and its half-open line range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The token after `m=` (e.g. `audio`, `video`, `application`).
    pub kind: String,
    /// Index of the `m=` line in [`Sdp::lines`].
    pub start: usize,
    /// One past the last line of the section.
    pub end: usize,
}

impl<'a> Sdp<'a> {
    /// Parses and validates a session description.
    ///
    /// Accepted: CRLF line endings (bare LF endings are normalised to CRLF first, as 0.6.26 does
    /// for descriptions from an MCU), empty or whitespace-only lines (the SDK's connection step
    /// deletes them), and any `<lowercase letter>=` line. Rejected with an error naming the line:
    /// an empty text, a first line other than `v=…`, a line without the `x=` shape, a stray CR or
    /// control character, an `m=` line with fewer than four fields.
    pub fn parse(text: &'a str) -> Result<Sdp<'a>, SdpError> {
        if text.trim().is_empty() {
            return Err(SdpError::Empty);
        }
        // One pass over the bytes: split at LF, note bare LFs and other control characters.
        let b = text.as_bytes();
        let mut lines: Vec<Cow<'a, str>> = Vec::with_capacity(b.len() / 40 + 4);
        let (mut bare_lf, mut control) = (false, false);
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            if c >= 0x20 && c != 0x7f {
                continue;
            }
            match c {
                b'\n' => {
                    let end = if i > start && b[i - 1] == b'\r' {
                        i - 1
                    } else {
                        bare_lf = true;
                        i
                    };
                    lines.push(Cow::Borrowed(&text[start..end]));
                    start = i + 1;
                }
                b'\r' => control |= b.get(i + 1) != Some(&b'\n'),
                b'\t' => {}
                _ => control = true,
            }
        }
        lines.push(Cow::Borrowed(&text[start..]));
        if bare_lf && !control {
            let normalised = text.replace("\r\n", "\n").replace('\n', "\r\n");
            return Sdp::parse(&normalised).map(Sdp::into_owned);
        }
        for (i, line) in lines.iter().enumerate() {
            let n = i + 1;
            if control && line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err(SdpError::ControlCharacter {
                    line: n,
                    text: line.to_string(),
                });
            }
            let b = line.as_bytes();
            if b.first().is_none_or(|c| c.is_ascii_whitespace()) && line.trim().is_empty() {
                continue;
            }
            let b = line.as_bytes();
            if b.len() < 2 || !b[0].is_ascii_lowercase() || b[1] != b'=' {
                if i == 0 {
                    return Err(SdpError::MissingVersion {
                        found: line.to_string(),
                    });
                }
                return Err(SdpError::BadLine {
                    line: n,
                    text: line.to_string(),
                });
            }
            if i == 0 && b[0] != b'v' {
                return Err(SdpError::MissingVersion {
                    found: line.to_string(),
                });
            }
            if b[0] == b'm' && line.split(' ').filter(|t| !t.is_empty()).count() < 4 {
                return Err(SdpError::BadMediaLine {
                    line: n,
                    text: line.to_string(),
                });
            }
        }
        if lines.first().is_some_and(|l| l.trim().is_empty()) {
            return Err(SdpError::MissingVersion {
                found: String::new(),
            });
        }
        Ok(Sdp { lines })
    }

    /// Detaches the description from the parsed text (every line owned).
    pub fn into_owned(self) -> Sdp<'static> {
        Sdp {
            lines: self
                .lines
                .into_iter()
                .map(|l| Cow::Owned(l.into_owned()))
                .collect(),
        }
    }

    /// Renders the lines joined with CRLF (byte-exact inverse of [`Sdp::parse`] for CRLF input).
    pub fn to_text(&self) -> String {
        self.lines.join("\r\n")
    }

    /// The media sections in order.
    pub fn sections(&self) -> Vec<Section> {
        let mut out: Vec<Section> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            if let Some(rest) = line.strip_prefix("m=") {
                if let Some(last) = out.last_mut() {
                    last.end = i;
                }
                out.push(Section {
                    kind: rest.split(' ').next().unwrap_or("").to_owned(),
                    start: i,
                    end: self.lines.len(),
                });
            }
        }
        out
    }

    /// Index range `(start, end)` of the piece that contains line `idx`: the session part or
    /// the media section.
    pub(crate) fn piece_of(&self, idx: usize) -> (usize, usize) {
        let mut start = 0;
        for i in (0..=idx.min(self.lines.len().saturating_sub(1))).rev() {
            if self.lines[i].starts_with("m=") {
                start = i;
                break;
            }
        }
        let mut end = self.lines.len();
        for (i, l) in self.lines.iter().enumerate().skip(idx + 1) {
            if l.starts_with("m=") {
                end = i;
                break;
            }
        }
        (start, end)
    }
}

impl fmt::Display for Sdp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for l in &self.lines {
            if !first {
                f.write_str("\r\n")?;
            }
            first = false;
            f.write_str(l)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Sdp<'static> {
    type Err = SdpError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sdp::parse(s).map(Sdp::into_owned)
    }
}

/// Renders a number the way JavaScript's `String(number)` does for the values settings carry
/// (integers without a fraction, other finite values in shortest form).
pub(crate) fn js_num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e21 {
        format!("{}", v as i64)
    } else if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{v}")
    }
}

/// JavaScript's `parseInt(s, 10)`: optional leading whitespace and sign, then digits.
pub(crate) fn js_parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: &str = &t[..t.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// ASCII case-insensitive prefix test.
pub(crate) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    s.len() >= p.len()
        && s.iter()
            .zip(p)
            .all(|(a, b)| a == b || a.eq_ignore_ascii_case(b))
}

/// `a=rtpmap:<pt> <encoding>` → `(pt, encoding)` where `pt` is the text up to the first space.
pub(crate) fn rtpmap(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("a=rtpmap:")?;
    let sp = rest.find(' ')?;
    Some((&rest[..sp], &rest[sp + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_byte_exact_and_borrows() {
        let text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
        let s = Sdp::parse(text).unwrap();
        assert_eq!(s.lines.len(), 6);
        assert_eq!(s.lines[5], "");
        assert!(s.lines.iter().all(|l| matches!(l, Cow::Borrowed(_))));
        assert_eq!(s.to_text(), text);
        assert_eq!(s.to_string(), text);
        let owned: Sdp<'static> = text.parse().unwrap();
        assert_eq!(owned, s);
        assert_eq!(s.sections()[0].kind, "audio");
        assert_eq!(s.piece_of(5), (4, 6));
    }

    #[test]
    fn lf_only_is_normalised_and_stray_cr_rejected() {
        let s = Sdp::parse("v=0\ns=-\n").unwrap();
        assert_eq!(s.to_text(), "v=0\r\ns=-\r\n");
        assert!(matches!(
            Sdp::parse("v=0\r\ns=a\rb\r\n"),
            Err(SdpError::ControlCharacter { line: 2, .. })
        ));
        assert!(matches!(
            Sdp::parse("v=0\r\ns=-\r"),
            Err(SdpError::ControlCharacter { line: 2, .. })
        ));
        assert!(matches!(
            Sdp::parse("\r\nv=0\r\n"),
            Err(SdpError::MissingVersion { .. })
        ));
        assert!(matches!(Sdp::parse("  \n"), Err(SdpError::Empty)));
    }

    #[test]
    fn js_helpers() {
        assert_eq!(js_num(500.0), "500");
        assert_eq!(js_num(0.5), "0.5");
        assert_eq!(js_parse_int(" 48000/2"), Some(48000));
        assert_eq!(js_parse_int("-3x"), Some(-3));
        assert_eq!(js_parse_int("x"), None);
        assert!(starts_with_ci("M=Audio 9", "m=audio "));
        assert!(!starts_with_ci("m=au", "m=audio "));
        assert_eq!(
            rtpmap("a=rtpmap:111 opus/48000/2"),
            Some(("111", "opus/48000/2"))
        );
        assert_eq!(rtpmap("a=rtpmap:111"), None);
    }
}
