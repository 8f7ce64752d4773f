//! Real-time pacing shared by every synthetic and file source.

use std::time::{Duration, Instant};

/// How far behind schedule a paced source may fall before it gives up catching up. Past
/// this (a stalled consumer, a suspended machine) the schedule restarts from now instead of
/// bursting out every overdue frame at once.
const MAX_LAG: Duration = Duration::from_secs(1);

/// Blocks until media time `t` is due, measured from the first call.
///
/// ```
/// use std::time::{Duration, Instant};
/// use skylink_media::pacer::Pacer;
///
/// let mut pacer = Pacer::real_time();
/// let start = Instant::now();
/// pacer.wait_until(Duration::ZERO);
/// pacer.wait_until(Duration::from_millis(20));
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
#[derive(Debug, Clone)]
pub struct Pacer {
    paced: bool,
    start: Option<Instant>,
}

impl Pacer {
    /// A pacer that sleeps until each media time is due.
    pub fn real_time() -> Pacer {
        Pacer {
            paced: true,
            start: None,
        }
    }

    /// A pacer that never waits (benchmarks, tests that only look at content).
    pub fn unpaced() -> Pacer {
        Pacer {
            paced: false,
            start: None,
        }
    }

    /// Whether this pacer sleeps.
    pub fn is_paced(&self) -> bool {
        self.paced
    }

    /// Forgets the schedule: the next call starts a new one (after a file loops, say).
    pub fn reset(&mut self) {
        self.start = None;
    }

    /// Waits until `media_time` (offset from the first call's media time) is due and returns
    /// the instant it was due at.
    pub fn wait_until(&mut self, media_time: Duration) -> Instant {
        let now = Instant::now();
        if !self.paced {
            return now;
        }
        let start = *self
            .start
            .get_or_insert_with(|| now.checked_sub(media_time).unwrap_or(now));
        let due = start + media_time;
        if let Some(ahead) = due.checked_duration_since(now) {
            std::thread::sleep(ahead);
            return due;
        }
        if now.duration_since(due) > MAX_LAG {
            tracing::debug!(lag = ?now.duration_since(due), "source fell behind; restarting its schedule");
            self.start = Some(now.checked_sub(media_time).unwrap_or(now));
            return now;
        }
        due
    }
}
