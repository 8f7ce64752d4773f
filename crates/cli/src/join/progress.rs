//! Chat mode: one indicatif progress bar (bytes, rate, ETA) per transfer and peer, on stderr
//! (hidden when stderr is not a terminal). Lines written to stdout go through
//! [`Progress::suspend`] so they do not tear the bars.

use std::collections::HashMap;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use skylink_room::Event;

use super::data::is_terminal;

const TEMPLATE: &str =
    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {wide_msg}";

/// The bars of the transfers in progress, keyed by (transferId, peerId).
pub struct Progress {
    multi: MultiProgress,
    bars: HashMap<(String, String), ProgressBar>,
}

impl Progress {
    /// No bars yet.
    pub fn new() -> Progress {
        Progress {
            multi: MultiProgress::new(),
            bars: HashMap::new(),
        }
    }

    /// Runs `f` (which writes to the terminal) with the bars cleared.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    fn bar(&mut self, transfer_id: &str, peer_id: &str, info: &Value) -> &ProgressBar {
        let key = (transfer_id.to_owned(), peer_id.to_owned());
        let multi = &self.multi;
        self.bars.entry(key).or_insert_with(|| {
            let size = info["size"].as_u64().unwrap_or(0);
            let bar = multi.add(ProgressBar::new(size));
            if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
                bar.set_style(style.progress_chars("=> "));
            }
            let name = info["name"].as_str().unwrap_or(transfer_id);
            let prefix = if info["direction"] == "upload" {
                format!("↑ {name} → {peer_id}")
            } else {
                format!("↓ {name} ← {peer_id}")
            };
            bar.set_prefix(prefix);
            bar
        })
    }

    /// Moves, finishes or abandons the bar of a `dataTransferState`.
    pub fn on_event(&mut self, ev: &Event) {
        let Event::DataTransferState {
            state,
            transfer_id,
            peer_id,
            transfer_info,
            error,
        } = ev
        else {
            return;
        };
        let key = (transfer_id.clone(), peer_id.clone());
        match state.as_str() {
            // Nothing moves before the peer accepted.
            "userRequest" | "request" => {}
            "uploadCompleted" | "downloadCompleted" => {
                let bar = self.bar(transfer_id, peer_id, transfer_info).clone();
                if let Some(len) = bar.length() {
                    bar.set_position(len);
                }
                bar.finish_with_message("done");
                self.bars.remove(&key);
            }
            s if is_terminal(s) => {
                if let Some(bar) = self.bars.remove(&key) {
                    let why = error
                        .as_ref()
                        .and_then(|e| e["message"].as_str())
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default();
                    bar.abandon_with_message(format!("{s}{why}"));
                }
            }
            _ => {
                let bar = self.bar(transfer_id, peer_id, transfer_info);
                let pct = transfer_info["percentage"].as_f64().unwrap_or(0.0);
                if let Some(len) = bar.length() {
                    let pos = (pct.clamp(0.0, 100.0) / 100.0 * len as f64) as u64;
                    bar.set_position(pos);
                }
            }
        }
    }
}
