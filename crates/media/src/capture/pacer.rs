//! Real-time pacing for sources that can produce a frame at any moment (a screen grab).

use std::time::{Duration, Instant};

/// Sleeps until the next frame is due, on a fixed schedule from the first frame.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next_due: Option<Instant>,
}

impl Pacer {
    /// A schedule of `fps` frames per second (`fps` must be finite and positive).
    pub(crate) fn new(fps: f64) -> Pacer {
        Pacer {
            interval: Duration::from_secs_f64(1.0 / fps),
            next_due: None,
        }
    }

    /// Blocks until the next frame is due; the first call returns at once.
    pub(crate) fn wait(&mut self) {
        let Some(due) = self.next_due else {
            self.next_due = Some(Instant::now() + self.interval);
            return;
        };
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let now = Instant::now();
        // A consumer that stalled (or a grab slower than the interval) must not get a burst of
        // back-to-back frames to "catch up": restart the schedule from now instead.
        self.next_due = Some(if now > due + self.interval {
            now + self.interval
        } else {
            due + self.interval
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_spaced_by_the_interval() {
        let mut pacer = Pacer::new(50.0);
        let start = Instant::now();
        for _ in 0..4 {
            pacer.wait();
        }
        // Three intervals of 20 ms after the immediate first frame.
        assert!(start.elapsed() >= Duration::from_millis(60));
    }

    #[test]
    fn a_stall_does_not_cause_a_burst() {
        let mut pacer = Pacer::new(100.0);
        pacer.wait();
        std::thread::sleep(Duration::from_millis(50));
        pacer.wait();
        let start = Instant::now();
        pacer.wait();
        assert!(start.elapsed() >= Duration::from_millis(9));
    }
}
