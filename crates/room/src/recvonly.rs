//! A workaround for `webrtc` 0.21 on remote offers with receive-only media sections.
//!
//! When a remote offer's audio/video section is `a=recvonly` (a browser or a Rust peer that
//! has no stream yet but wants ours), webrtc 0.21 creates our transceiver as `sendonly`
//! **without a receiver** (`RTCRtpTransceiverInternal::new` only builds one when the
//! direction can receive). Browsers create it `recvonly` with a receiver, so when the peer
//! later starts sending on that same m-line (it reuses it, as JSEP says), a browser plays it
//! and webrtc 0.21 never delivers it.
//!
//! So before applying such an offer we present those sections as `a=sendrecv` (webrtc then
//! builds a receiving transceiver), and in the answer we send we restore what JSEP allows for
//! a `recvonly` offer: `sendrecv` → `sendonly`, `recvonly` → `inactive`.

/// Rewrites `a=recvonly` to `a=sendrecv` in audio/video sections; returns the new SDP and
/// the mids (or section indexes when a section has no mid) it changed.
pub(crate) fn open_recvonly(sdp: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sdp.len());
    let mut changed = Vec::new();
    let mut media = false;
    let mut section_mid: Option<String> = None;
    let mut pending = false;
    let mut index = 0usize;
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let flush = |changed: &mut Vec<String>, pending: &mut bool, mid: &Option<String>, index| {
        if *pending {
            changed.push(mid.clone().unwrap_or_else(|| format!("#{index}")));
            *pending = false;
        }
    };
    for line in sdp.split(eol) {
        if let Some(rest) = line.strip_prefix("m=") {
            flush(&mut changed, &mut pending, &section_mid, index);
            index += 1;
            media = rest.starts_with("audio") || rest.starts_with("video");
            section_mid = None;
        } else if let Some(mid) = line.strip_prefix("a=mid:") {
            section_mid = Some(mid.to_owned());
        }
        if media && line == "a=recvonly" {
            out.push_str("a=sendrecv");
            pending = true;
        } else {
            out.push_str(line);
        }
        out.push_str(eol);
    }
    flush(&mut changed, &mut pending, &section_mid, index);
    // `split` yields a last empty piece for a terminated SDP; do not add a second terminator.
    if out.ends_with(&format!("{eol}{eol}")) {
        out.truncate(out.len() - eol.len());
    }
    (out, changed)
}

/// In the answer we send, narrows the directions of the sections [`open_recvonly`] opened.
pub(crate) fn restrict_answer(sdp: &str, opened: &[String]) -> String {
    if opened.is_empty() {
        return sdp.to_owned();
    }
    let eol = if sdp.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = sdp.split(eol).map(str::to_owned).collect();
    let mut start = None;
    let mut index = 0usize;
    let mut sections = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("m=") {
            if let Some(s) = start {
                sections.push((s, i, index));
            }
            index += 1;
            start = Some(i);
        }
    }
    if let Some(s) = start {
        sections.push((s, lines.len(), index));
    }
    for (s, e, idx) in sections {
        let mid = lines[s..e]
            .iter()
            .find_map(|l| l.strip_prefix("a=mid:").map(str::to_owned))
            .unwrap_or_else(|| format!("#{idx}"));
        if !opened.contains(&mid) {
            continue;
        }
        for l in &mut lines[s..e] {
            if l == "a=sendrecv" {
                *l = "a=sendonly".into();
            } else if l == "a=recvonly" {
                *l = "a=inactive".into();
            }
        }
    }
    lines.join(eol)
}

#[cfg(test)]
mod tests {
    use super::{open_recvonly, restrict_answer};

    #[test]
    fn recvonly_offer_sections_round_trip() {
        let offer = "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\na=recvonly\r\nm=video 9 X 96\r\na=mid:1\r\na=sendrecv\r\nm=application 9 X\r\na=mid:2\r\na=recvonly\r\n";
        let (opened, mids) = open_recvonly(offer);
        assert_eq!(mids, vec!["0".to_owned()]);
        assert!(opened.contains("a=mid:0\r\na=sendrecv"));
        assert!(
            opened.contains("a=mid:2\r\na=recvonly"),
            "data sections untouched"
        );
        assert_eq!(
            opened.len(),
            offer.len(),
            "same length: only the attribute changed"
        );
        let answer = "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\na=sendrecv\r\nm=video 9 X 96\r\na=mid:1\r\na=sendrecv\r\n";
        let narrowed = restrict_answer(answer, &mids);
        assert!(narrowed.contains("a=mid:0\r\na=sendonly"));
        assert!(narrowed.contains("a=mid:1\r\na=sendrecv"));
        let answer = "v=0\r\nm=audio 9 X 111\r\na=mid:0\r\na=recvonly\r\n";
        assert!(restrict_answer(answer, &mids).contains("a=inactive"));
    }
}
